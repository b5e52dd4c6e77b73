/*
 * data.c - build the immutable srv_data_t from a configuration: master files,
 * snapshots and the GeoIP database. Runs at start-up and on reloads, never on
 * the query path; every failure is a message, never an exit.
 */
#define _LGPL_SOURCE /* inline QSBR fast paths (liburcu's 10-line rule) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "dnsd/data/data.h"
#include "dnssec/dnssec_pool.h"

/* ------------------------------------------------------------------------ */
/* Shared parts                                                             */
/* ------------------------------------------------------------------------ */

typedef enum {
    SRV_SHARE_STATIC,
    SRV_SHARE_POOL,
    SRV_SHARE_GEO,
    SRV_SHARE_KEEP,
    SRV_SHARE_DSEC_ZONE,
    SRV_SHARE_DSEC_POOL,
    SRV_SHARE_LIMITS
} srv_share_kind_t;

struct srv_share {
    unsigned long refs;
    srv_share_kind_t kind;
    void *obj;
    srv_served_t *served; /* a pool's answer counters */
};

/* How many workers cfg starts (worker.c's rule), for the counter rows. */
static unsigned srv_workers_wanted(const cfg_t *cfg)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cfg->workers > 0 ? cfg->workers : cpus > 0 ? (unsigned)cpus : 1;
}

static void srv_served_free(srv_served_t *s)
{
    if (s)
        free(s->count);
    free(s);
}

/* Counters for a pool's servers, n_workers rows; NULL when out of memory
 * (the pool is then served without them). */
static srv_served_t *srv_served_new(const zone_pool_t *pool, unsigned n_workers)
{
    srv_served_t *s = calloc(1, sizeof *s);
    size_t n = zone_pool_snapshot(pool)->n_servers;

    if (!s)
        return NULL;
    s->stride = (n + 7) & ~(size_t)7; /* 8 counters: 64 bytes */
    s->n_workers = n_workers;
    s->count = aligned_alloc(64, (s->stride * n_workers + 8) * sizeof *s->count);
    if (!s->count) {
        free(s);
        return NULL;
    }
    memset(s->count, 0, (s->stride * n_workers + 8) * sizeof *s->count);
    return s;
}

static void srv_share_free_obj(srv_share_kind_t kind, void *obj)
{
    if (kind == SRV_SHARE_KEEP)
        free(obj);
    else if (kind == SRV_SHARE_STATIC)
        zone_static_free(obj);
    else if (kind == SRV_SHARE_POOL)
        zone_pool_free(obj);
    else if (kind == SRV_SHARE_DSEC_ZONE)
        dsec_zone_free(obj);
    else if (kind == SRV_SHARE_DSEC_POOL)
        dsec_pool_free(obj);
    else if (kind == SRV_SHARE_LIMITS)
        ((srv_limits_t *)obj)->free(obj);
    else
        geo_free(obj);
}

/* A first hold on obj; on failure obj is freed, so the caller owns nothing. */
static srv_share_t *srv_share_new(srv_share_kind_t kind, void *obj)
{
    srv_share_t *s = malloc(sizeof *s);
    if (s) {
        *s = (srv_share_t){.refs = 1, .kind = kind, .obj = obj};
        return s;
    }
    srv_share_free_obj(kind, obj);
    return NULL;
}

static srv_share_t *srv_share_hold(srv_share_t *s)
{
    if (s)
        s->refs++;
    return s;
}

static void srv_share_drop(srv_share_t *s)
{
    if (!s || --s->refs > 0)
        return;
    srv_served_free(s->served);
    srv_share_free_obj(s->kind, s->obj);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* DNSSEC (docs/dnssec.md): the signed static data and pool answers        */
/* ------------------------------------------------------------------------ */

static uint32_t srv_now(void)
{
    return (uint32_t)time(NULL);
}

/* Loads the zone's keys and signs its static data. */
static int srv_dnssec_zone(const cfg_zone_t *z, srv_origin_t *o, char *err, size_t errlen)
{
    const cfg_dnssec_t *c = &z->dnssec;
    char why[CFG_ERR_MAX];
    /* The switch the integration tests use to show a validator failing. */
    dsec_params_t params = {c->validity, c->inception_offset, c->refresh,
                            getenv("DNSD_TEST_CORRUPT_SIGNATURES") != NULL};

    if (!c->enabled)
        return 0;
    dsec_keys_t *keys = dsec_keys_load(z->origin, c->keys, c->n_keys, c->publish,
                                       c->n_publish, why, sizeof why);
    if (!keys ||
        !(o->dz = dsec_zone_new(o->stat, keys, &params, srv_now(), why, sizeof why))) {
        snprintf(err, errlen, "%s: dnssec: %s", z->origin, why);
        return -1;
    }
    if (!(o->dz_share = srv_share_new(SRV_SHARE_DSEC_ZONE, o->dz))) {
        o->dz = NULL;
        snprintf(err, errlen, "%s: out of memory", z->origin);
        return -1;
    }
    return 0;
}

/* (Re)makes the signed pool answers after o's pool or static data changed.
 * -1 when signing failed or memory ran out (o then has none). */
static int srv_dnssec_pool(srv_origin_t *o)
{
    srv_share_drop(o->dp_share);
    o->dp = NULL;
    o->dp_share = NULL;
    if (!o->dz || !o->pool)
        return 0;
    dsec_pool_opts_t opts = {o->answers,
                             o->srv_answers,
                             o->ttl,
                             o->aaaa == CFG_AAAA_ALL,
                             o->balance.mode == CFG_BALANCE_OFF ? NULL : o->keep,
                             o->balance.explicit_names};
    o->dp = dsec_pool_new(o->dz, o->pool, &opts, srv_now(), 0);
    if (!o->dp || !(o->dp_share = srv_share_new(SRV_SHARE_DSEC_POOL, o->dp))) {
        o->dp = NULL;
        return -1;
    }
    return 0;
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

/* A file's modification time as Unix time; 0 when stat fails (a file removed
 * right after it was read: "unknown" looks old, never fresh). */
static double srv_file_time(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    return (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
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

/* The last accepted push, from the state file, when there is a valid one;
 * a refused or unreadable one is recorded in o and counted. */
static zone_snapshot_t *srv_data_state(const cfg_t *cfg, const cfg_zone_t *z,
                                       srv_origin_t *o, char *path, size_t len)
{
    zone_snapshot_t *snap = NULL;
    o->state = SRV_STATE_NONE;
    if (srv_data_state_path(cfg, z->origin, path, len) != 0)
        return NULL;
    o->state = srv_state_load(path, &snap, o->state_err, sizeof o->state_err);
    if (o->state != SRV_STATE_OK && o->state != SRV_STATE_NONE)
        o->state_errors++;
    return snap;
}

/*
 * The state file wins over the zone's `snapshot` file whatever the serials:
 * it holds the last push accepted, and an acknowledged push (a forced
 * rollback too) is served until another push replaces it. The `snapshot`
 * file seeds a node that has no pushed state.
 */
static void srv_data_load_pool(const cfg_t *cfg, const cfg_zone_t *z, srv_origin_t *o)
{
    char state[4096], why[400] = "";
    zone_snapshot_t *snap = srv_data_state(cfg, z, o, state, sizeof state);
    const char *src = state;

    o->src = snap ? SRV_SRC_STATE : SRV_SRC_NONE;
    if (!snap && z->snapshot && (snap = srv_data_try(z->snapshot, why, sizeof why))) {
        o->src = SRV_SRC_CONFIG;
        src = z->snapshot;
    }
    if (!snap) {
        srv_data_note(
            o, "%s: no valid snapshot%s%s; pool names answer NODATA until one is pushed",
            z->origin, why[0] ? ": " : "", why);
        return;
    }
    srv_data_note(o, "%s: serial %llu from %s (%zu servers)", z->origin,
                  (unsigned long long)snap->serial, src, snap->n_servers);
    o->snap_time = srv_file_time(src);
    if ((o->pool = zone_pool_new(snap, &o->params)) &&
        !(o->pool_share = srv_share_new(SRV_SHARE_POOL, o->pool)))
        o->pool = NULL;
    if (o->pool)
        o->served = o->pool_share->served =
            srv_served_new(o->pool, srv_workers_wanted(cfg));
    if (!o->pool) {
        o->src = SRV_SRC_NONE;
        o->snap_time = 0;
        srv_data_note(o, "%s: out of memory building the pool", z->origin);
    } else if (srv_dnssec_pool(o) != 0) {
        srv_data_note(o,
                      "%s: signing the pool answers failed; pool names answer DO "
                      "queries NODATA",
                      z->origin);
    }
}

static int srv_data_origin(const cfg_t *cfg, const cfg_zone_t *z, srv_origin_t *o,
                           char *err, size_t errlen)
{
    o->stat =
        zone_static_load(z->origin, z->master, z->vendors, z->n_vendors, err, errlen);
    if (!o->stat)
        return -1;
    if (!(o->stat_share = srv_share_new(SRV_SHARE_STATIC, o->stat))) {
        o->stat = NULL;
        snprintf(err, errlen, "%s: out of memory", z->origin);
        return -1;
    }
    snprintf(o->name, sizeof o->name, "%s", z->origin);
    o->lname = zone_static_origin(o->stat, &o->lname_len);
    o->ttl = z->ttl;
    o->answers = z->answers > ZONE_PICK_MAX ? ZONE_PICK_MAX : z->answers;
    o->srv_answers = z->srv_answers > ZONE_PICK_MAX ? ZONE_PICK_MAX : z->srv_answers;
    o->aaaa = z->aaaa;
    o->params.min_score = z->min_score;
    o->params.full_score = z->full_score;
    o->balance = z->balance;
    if (srv_dnssec_zone(z, o, err, errlen) != 0)
        return -1;
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
    d->n_workers = srv_workers_wanted(cfg);
    for (size_t i = 0; i < cfg->n_zones; i++) {
        d->n_origins++; /* a failed origin holds at most a pool: freed below */
        if (srv_data_origin(cfg, &cfg->zones[i], &d->origins[i], err, errlen) != 0)
            goto fail;
    }
    if (cfg->geoip_database &&
        !(d->geo = geo_open(cfg->geoip_database, cfg->geoip_country_path, err, errlen)))
        goto fail;
    if (d->geo && !(d->geo_share = srv_share_new(SRV_SHARE_GEO, d->geo))) {
        d->geo = NULL;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
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
        srv_share_drop(d->origins[i].dp_share); /* before what it borrows */
        srv_share_drop(d->origins[i].pool_share);
        srv_share_drop(d->origins[i].dz_share);
        srv_share_drop(d->origins[i].stat_share);
        srv_share_drop(d->origins[i].keep_share);
    }
    free(d->origins);
    srv_share_drop(d->geo_share);
    srv_share_drop(d->limits_share);
    free(d);
}

int srv_data_set_limits(srv_data_t *d, srv_limits_t *lim)
{
    srv_share_t *s = srv_share_new(SRV_SHARE_LIMITS, lim);
    if (!s)
        return -1;
    srv_share_drop(d->limits_share);
    d->limits = lim;
    d->limits_share = s;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Deriving new data from the running one (push, reload)                    */
/* ------------------------------------------------------------------------ */

/* Names compare case-insensitively with the trailing dot optional, as the
 * config's origins do ("pool.ntp.org." is "pool.ntp.org"); the config keeps
 * them without the dot. */
int srv_data_origin_index(const srv_data_t *d, const char *origin)
{
    size_t len = strlen(origin);
    if (!origin[0])
        return d->n_origins ? 0 : -1;
    len -= len > 1 && origin[len - 1] == '.';
    for (size_t i = 0; i < d->n_origins; i++)
        if (strlen(d->origins[i].name) == len &&
            strncasecmp(d->origins[i].name, origin, len) == 0)
            return (int)i;
    return -1;
}

/* Makes origin o serve `pool` (NULL allowed), dropping its hold on the old
 * one. The pool is taken over; -1 (pool freed, o unchanged) when out of memory. */
static int srv_origin_set_pool(srv_origin_t *o, zone_pool_t *pool, unsigned n_workers)
{
    srv_share_t *s = NULL;
    if (pool && !(s = srv_share_new(SRV_SHARE_POOL, pool)))
        return -1;
    srv_share_drop(o->pool_share);
    o->pool = pool;
    o->pool_share = s;
    o->served = s ? (s->served = srv_served_new(pool, n_workers)) : NULL;
    return srv_dnssec_pool(o);
}

/* A copy of d holding every part d holds; NULL when out of memory. */
static srv_data_t *srv_data_copy(const srv_data_t *d)
{
    srv_data_t *n = malloc(sizeof *n);
    srv_origin_t *origins = calloc(d->n_origins, sizeof *origins);
    if (!n || !origins) {
        free(n);
        free(origins);
        return NULL;
    }
    *n = *d;
    n->origins = origins;
    memcpy(origins, d->origins, d->n_origins * sizeof *origins);
    for (size_t k = 0; k < n->n_origins; k++) {
        srv_share_hold(origins[k].stat_share);
        srv_share_hold(origins[k].pool_share);
        srv_share_hold(origins[k].keep_share);
        srv_share_hold(origins[k].dz_share);
        srv_share_hold(origins[k].dp_share);
    }
    srv_share_hold(n->geo_share);
    srv_share_hold(n->limits_share);
    return n;
}

srv_data_t *srv_data_with_keep(const srv_data_t *d, size_t i, zone_keep_t *keep)
{
    srv_share_t *s = NULL;
    srv_data_t *n = NULL;

    if ((keep && !(s = srv_share_new(SRV_SHARE_KEEP, keep))) || !(n = srv_data_copy(d))) {
        srv_share_drop(s);
        return NULL;
    }
    srv_share_drop(n->origins[i].keep_share);
    n->origins[i].keep = keep;
    n->origins[i].keep_share = s;
    return n;
}

srv_data_t *srv_data_with_pool(const srv_data_t *d, size_t i, zone_pool_t *pool)
{
    srv_data_t *n = srv_data_copy(d);
    if (!n) {
        zone_pool_free(pool);
        return NULL;
    }
    srv_origin_t *origins = n->origins;
    if (srv_origin_set_pool(&origins[i], pool, n->n_workers) != 0) {
        srv_data_free(n);
        return NULL;
    }
    const zone_snapshot_t *snap = zone_pool_snapshot(pool);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    origins[i].src = SRV_SRC_PUSH;
    origins[i].snap_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    snprintf(origins[i].note, sizeof origins[i].note,
             "%s: serial %llu pushed (%zu servers)", origins[i].name,
             (unsigned long long)snap->serial, snap->n_servers);
    return n;
}

/* A deep copy of a snapshot, to build a pool with other parameters. */
static zone_snapshot_t *srv_snapshot_dup(const zone_snapshot_t *s)
{
    return zone_snapshot_dup(s);
}

/* Whether a reload keeps cur's pool c over the pool o the files gave. */
static bool srv_data_keep(const srv_origin_t *o, const srv_origin_t *c)
{
    if (!c->pool || o->src == SRV_SRC_STATE)
        return false; /* the state file holds the last push accepted */
    if (c->src == SRV_SRC_PUSH || c->src == SRV_SRC_STATE)
        return true; /* a push stays until another push replaces it */
    return !o->pool ||
           zone_pool_snapshot(o->pool)->serial < zone_pool_snapshot(c->pool)->serial;
}

int srv_data_keep_newer(srv_data_t *next, const srv_data_t *cur)
{
    int rc = 0;
    for (size_t i = 0; i < next->n_origins; i++) {
        srv_origin_t *o = &next->origins[i];
        int k = srv_data_origin_index(cur, o->name);
        const srv_origin_t *c = k >= 0 ? &cur->origins[k] : NULL;
        if (!c)
            continue;
        o->state_errors += c->state_errors;
        if (!srv_data_keep(o, c))
            continue;
        uint64_t have = zone_pool_snapshot(c->pool)->serial;
        if (c->params.min_score == o->params.min_score &&
            c->params.full_score == o->params.full_score) {
            srv_share_drop(o->pool_share);
            o->pool = c->pool;
            o->pool_share = srv_share_hold(c->pool_share);
            o->served = c->served;
            if (srv_dnssec_pool(o) != 0)
                rc = -1;
        } else {
            zone_snapshot_t *dup = srv_snapshot_dup(zone_pool_snapshot(c->pool));
            zone_pool_t *p = dup ? zone_pool_new(dup, &o->params) : NULL;
            if (!p || srv_origin_set_pool(o, p, next->n_workers) != 0) {
                rc = -1;
                continue;
            }
        }
        o->src = c->src;
        o->snap_time = c->snap_time;
        snprintf(o->note, sizeof o->note, "%s: serial %llu kept from the running data%s",
                 o->name, (unsigned long long)have,
                 c->src == SRV_SRC_CONFIG ? "" : " (pushed; served until the next push)");
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Publication                                                              */
/* ------------------------------------------------------------------------ */

/*
 * RCU discipline (liburcu QSBR): a reader is "online" while it may hold a
 * pointer to srv_data_t. A worker's libuv loop runs I/O callbacks inside the
 * poll phase, between its prepare and check phases, so:
 *   - prepare (just before the loop may block): go offline, so a worker
 *     waiting in epoll never holds up a grace period;
 *   - the I/O callbacks come back online lazily through srv_data_get();
 *   - check (after the callbacks): report a quiescent state if online.
 */
srv_data_t *srv_current;

static __thread bool srv_rcu_online;

const srv_data_t *srv_data_get(void)
{
    if (!srv_rcu_online) {
        rcu_thread_online();
        srv_rcu_online = true;
    }
    return rcu_dereference(srv_current);
}

void srv_data_publish(srv_data_t *next)
{
    srv_data_t *old = rcu_xchg_pointer(&srv_current, next);
    synchronize_rcu();
    srv_data_free(old);
}

void srv_data_reader_register(void)
{
    rcu_register_thread(); /* registered threads start online */
    srv_rcu_online = true;
}

void srv_data_reader_offline(void)
{
    if (srv_rcu_online) {
        rcu_thread_offline();
        srv_rcu_online = false;
    }
}

void srv_data_reader_quiescent(void)
{
    if (srv_rcu_online)
        rcu_quiescent_state();
}

void srv_data_reader_unregister(void)
{
    rcu_unregister_thread();
}
