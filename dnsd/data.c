/*
 * data.c - build the immutable srv_data_t from a configuration: master files,
 * snapshots and the GeoIP database. Runs at start-up and on reloads, never on
 * the query path; every failure is a message, never an exit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

int srv_data_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len)
{
    if (!cfg->state_dir)
        return -1;
    int n = snprintf(buf, len, "%s/%s.snapshot.json", cfg->state_dir, origin);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Notes are for logs: truncation is acceptable. */
__attribute__((format(printf, 2, 3))) static void srv_data_note(srv_origin_t *o,
                                                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->note, sizeof o->note, fmt, ap);
    va_end(ap);
}

/* Loads one candidate snapshot; on failure appends a summary to `why`. */
static zone_snapshot_t *srv_data_try(const char *path, char *why, size_t whylen)
{
    zone_errors_t errs;
    zone_snapshot_t *snap = NULL;

    zone_errors_init(&errs);
    if (zone_snapshot_load(path, &snap, &errs) != 0) {
        size_t used = strlen(why);
        snprintf(why + used, whylen - used, "%s%s (%zu errors)", used ? "; " : "",
                 errs.n ? errs.msgs[0] : path, errs.n + errs.dropped);
        snap = NULL;
    }
    zone_errors_deinit(&errs);
    return snap;
}

/*
 * The newest valid snapshot of: the last accepted one in state_dir, and the
 * zone's `snapshot` file (issue 3: the state wins unless the file is newer, so a
 * package shipping a newer file is not shadowed by an old state).
 */
static void srv_data_load_pool(const cfg_t *cfg, const cfg_zone_t *z, srv_origin_t *o)
{
    char state[4096], why[400] = "";
    zone_snapshot_t *from_state = NULL, *from_file = NULL, *snap;
    const char *src;

    if (srv_data_state_path(cfg, z->origin, state, sizeof state) == 0 &&
        access(state, F_OK) == 0)
        from_state = srv_data_try(state, why, sizeof why);
    if (z->snapshot)
        from_file = srv_data_try(z->snapshot, why, sizeof why);
    if (from_state && (!from_file || from_state->serial >= from_file->serial)) {
        snap = from_state, src = state;
        zone_snapshot_free(from_file);
    } else {
        snap = from_file, src = z->snapshot;
        zone_snapshot_free(from_state);
    }
    if (!snap) {
        srv_data_note(o, "%s: no valid snapshot%s%s; pool names answer NODATA until one is pushed",
                 z->origin, why[0] ? ": " : "", why);
        return;
    }
    srv_data_note(o, "%s: serial %llu from %s (%zu servers)%s%s", z->origin,
             (unsigned long long)snap->serial, src, snap->n_servers, why[0] ? "; skipped " : "",
             why);
    o->pool = zone_pool_new(snap, &o->params);
}

static int srv_data_origin(const cfg_t *cfg, const cfg_zone_t *z, srv_origin_t *o, char *err,
                           size_t errlen)
{
    o->stat = zone_static_load(z->origin, z->master, z->vendors, z->n_vendors, err, errlen);
    if (!o->stat)
        return -1;
    o->lname = zone_static_origin(o->stat, &o->lname_len);
    o->ttl = z->ttl;
    o->answers = z->answers > ZONE_PICK_MAX ? ZONE_PICK_MAX : z->answers;
    o->aaaa = z->aaaa;
    o->params.min_score = z->min_score;
    o->params.full_score = z->full_score;
    srv_data_load_pool(cfg, z, o);
    return 0;
}

srv_data_t *srv_data_new(const cfg_t *cfg, char *err, size_t errlen)
{
    srv_data_t *d = calloc(1, sizeof *d);

    if (!d || !(d->origins = calloc(cfg->n_zones, sizeof *d->origins))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->n_zones; i++) {
        if (srv_data_origin(cfg, &cfg->zones[i], &d->origins[i], err, errlen) != 0)
            goto fail;
        d->n_origins++;
    }
    if (cfg->geoip_database &&
        !(d->geo = geo_open(cfg->geoip_database, cfg->geoip_country_path, err, errlen)))
        goto fail;
    d->identity_len = strlen(cfg->identity ? cfg->identity : "");
    if (d->identity_len > sizeof d->identity)
        d->identity_len = sizeof d->identity;
    memcpy(d->identity, cfg->identity ? cfg->identity : "", d->identity_len);
    return d;
fail:
    srv_data_free(d);
    return NULL;
}

void srv_data_free(srv_data_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_origins; i++) {
        zone_pool_free(d->origins[i].pool);
        zone_static_free(d->origins[i].stat);
    }
    free(d->origins);
    geo_free(d->geo);
    free(d);
}
