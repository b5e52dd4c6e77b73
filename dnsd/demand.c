/*
 * demand.c - demand-aware balancing on the control thread (docs/balancing.md).
 *
 * Once a second the workers' demand counters are summed and folded into a
 * decayed rate per zone of first draw and family (half-life `half_life`);
 * every `interval` seconds, or at once after a push or a new snapshot, the
 * keep fractions are solved for the demand of the origin's mode and, when
 * they changed, published as a new srv_data_t (srv_data_with_keep, QSBR).
 * The solver's problem is built once per pool and family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_int.h"
#include "demand.h"
#include "log.h"
#include "worker.h"

typedef struct srv_bal_origin {
    char name[256];
    const zone_pool_t *pool; /* the pool prob[] was built for ... */
    unsigned answers;        /* ... and the answer size */
    zone_bal_t *prob[2];
    double rate[2][2][ZONE_ID_MAX];   /* decayed local demand [family][explicit][zone] */
    uint64_t seen[2][2][ZONE_ID_MAX]; /* counter sums at the last tick */
    zone_demand_t *pushed;            /* the pushed table, or NULL */
    zone_bal_zone_t zones[2][ZONE_ID_MAX];
    zone_bal_result_t res[2];
    bool solved[2];
    bool active[2]; /* enough demand: the keep fractions are the solver's */
    uint64_t next_ns, recomputes;
    double solve_ms;
} srv_bal_origin_t;

struct srv_bal {
    const cfg_t *cfg;
    srv_workers_t *ws;
    uv_timer_t timer;
    bool timer_ok;
    uint64_t last_ns;
    srv_stats_t *sum; /* scratch for the workers' counters (large) */
    uint64_t pushes[SRV_BAL_PUSH_RESULTS];
    srv_bal_origin_t o[STAT_BAL_ORIGINS];
};

/* The pushed table's state file: "<state_dir>/<origin>.demand.json". */
static int srv_bal_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len)
{
    if (!cfg->state_dir)
        return -1;
    int n = snprintf(buf, len, "%s/%s.demand.json", cfg->state_dir, origin);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static void srv_bal_load_state(srv_bal_t *b, size_t i)
{
    char path[4096];
    zone_errors_t errs;
    zone_demand_t *t = calloc(1, sizeof *t);

    if (!t || srv_bal_state_path(b->cfg, b->o[i].name, path, sizeof path) != 0 ||
        access(path, F_OK) != 0) {
        free(t);
        return;
    }
    zone_errors_init(&errs);
    if (zone_demand_load(path, t, &errs) == 0) {
        free(b->o[i].pushed);
        b->o[i].pushed = t;
        log_msg(LOG_INFO, "%s: demand table serial %llu from %s", b->o[i].name,
                (unsigned long long)t->serial, path);
    } else {
        if (errs.n)
            log_msg(LOG_WARN, "%s: pushed demand not restored: %s", b->o[i].name,
                    errs.msgs[0]);
        free(t);
    }
    zone_errors_deinit(&errs);
}

void srv_bal_set_cfg(srv_bal_t *b, const cfg_t *cfg)
{
    b->cfg = cfg;
    for (size_t i = 0; i < STAT_BAL_ORIGINS; i++) {
        const char *name = i < cfg->n_zones ? cfg->zones[i].origin : "";
        if (strcmp(b->o[i].name, name) != 0) { /* another zone at this index */
            srv_bal_origin_t *o = &b->o[i];
            zone_bal_free(o->prob[0]);
            zone_bal_free(o->prob[1]);
            free(o->pushed);
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "%s", name);
            if (name[0])
                srv_bal_load_state(b, i);
        }
        b->o[i].next_ns = 0;
    }
}

srv_bal_t *srv_bal_new(const cfg_t *cfg)
{
    srv_bal_t *b = calloc(1, sizeof *b);

    if (!b || !(b->sum = malloc(sizeof *b->sum))) {
        free(b);
        return NULL;
    }
    srv_bal_set_cfg(b, cfg);
    return b;
}

void srv_bal_free(srv_bal_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < STAT_BAL_ORIGINS; i++) {
        zone_bal_free(b->o[i].prob[0]);
        zone_bal_free(b->o[i].prob[1]);
        free(b->o[i].pushed);
    }
    free(b->sum);
    free(b);
}

static void srv_bal_on_timer(uv_timer_t *t)
{
    srv_bal_tick(t->data, false);
}

int srv_bal_start(srv_bal_t *b, uv_loop_t *loop, srv_workers_t *ws)
{
    b->ws = ws;
    if (uv_timer_init(loop, &b->timer) != 0)
        return -1;
    b->timer.data = b;
    b->timer_ok = true;
    /* Once a second: the decay is exact per tick and cheap (a sum of the
     * workers' counters); solving waits for each origin's interval. */
    return uv_timer_start(&b->timer, srv_bal_on_timer, 0, 1000); /* first: at once */
}

void srv_bal_close(srv_bal_t *b)
{
    if (b && b->timer_ok) {
        uv_close((uv_handle_t *)&b->timer, NULL);
        b->timer_ok = false;
    }
}

/* Folds the counters' growth since the last tick into the decayed rates. */
static void srv_bal_decay(srv_bal_t *b, size_t i, double dt)
{
    srv_bal_origin_t *o = &b->o[i];
    const cfg_zone_t *z = &b->cfg->zones[i];
    double f = dt > 0 ? exp2(-dt / z->balance.half_life) : 1;

    for (int fam = 0; fam < 2; fam++)
        for (int x = 0; x < 2; x++)
            for (int id = 0; id < ZONE_ID_MAX; id++) {
                uint64_t now = b->sum->demand[i][id][fam][x];
                /* The counters start at 0 with the workers, so what was
                 * answered before the first tick counts too. */
                uint64_t add = now >= o->seen[fam][x][id] ? now - o->seen[fam][x][id] : 0;
                o->rate[fam][x][id] = o->rate[fam][x][id] * f + (double)add;
                o->seen[fam][x][id] = now;
            }
}

/* The demand an origin's mode gives for family index fam: spillable d[] and
 * pinned e[] (explicit names when they are exempt). False: no spill yet. */
static bool srv_bal_demand(const srv_bal_t *b, size_t i, int fam, double *d, double *e)
{
    const srv_bal_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    double total = 0;

    for (int id = 0; id < ZONE_ID_MAX; id++) {
        if (bc->mode == CFG_BALANCE_PUSHED) {
            d[id] = o->pushed ? o->pushed->rate[id][fam] : 0;
            e[id] = 0;
        } else {
            d[id] = o->rate[fam][0][id] + (bc->explicit_names ? o->rate[fam][1][id] : 0);
            e[id] = bc->explicit_names ? 0 : o->rate[fam][1][id];
        }
        total += d[id] + e[id];
    }
    if (bc->mode == CFG_BALANCE_PUSHED)
        return o->pushed && total > 0;
    /* min_queries is counted over both families: the decayed total. */
    double both = 0;
    for (int f = 0; f < 2; f++)
        for (int x = 0; x < 2; x++)
            for (int id = 0; id < ZONE_ID_MAX; id++)
                both += o->rate[f][x][id];
    return total > 0 && both >= bc->min_queries;
}

/* Solves one origin and returns its keep table (malloc'd), or NULL when out
 * of memory. Without enough demand every keep is 1. */
static zone_keep_t *srv_bal_solve(srv_bal_t *b, size_t i, const srv_origin_t *so)
{
    srv_bal_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    zone_keep_t *keep = malloc(sizeof *keep);
    double d[ZONE_ID_MAX], e[ZONE_ID_MAX];
    uint64_t t0 = uv_hrtime();

    if (!keep)
        return NULL;
    zone_keep_init(keep);
    if (o->pool != so->pool || o->answers != so->answers) { /* new snapshot or size */
        for (int f = 0; f < 2; f++) {
            zone_bal_free(o->prob[f]);
            o->prob[f] =
                so->pool ? zone_bal_from_pool(so->pool, f ? 6 : 4, so->answers) : NULL;
            o->solved[f] = false;
        }
        o->pool = so->pool;
        o->answers = so->answers;
    }
    for (int f = 0; f < 2; f++) {
        o->solved[f] = false;
        if (!o->prob[f])
            continue;
        bool enough = srv_bal_demand(b, i, f, d, e);
        o->res[f] = (zone_bal_result_t){.zones = o->zones[f]};
        if (zone_bal_solve(o->prob[f], d, e, zone_bal_target(bc->max_load_ratio),
                           &o->res[f]) < 0)
            continue;
        o->solved[f] = true;
        o->active[f] = enough;
        for (int id = 0; id < ZONE_ID_MAX && id < zone_id_count(); id++) {
            zone_bal_zone_t *z = &o->zones[f][id];
            if (!enough) { /* report what is served: nothing spills yet */
                z->keep = 1;
                z->ratio_with = z->ratio_without;
            }
            keep->keep[id][f] = (float)z->keep;
        }
        if (!enough)
            o->res[f].worst_with = o->res[f].worst_without;
    }
    o->recomputes++;
    o->solve_ms = (double)(uv_hrtime() - t0) / 1e6;
    return keep;
}

/* Publishes origin i's new keep table when it differs from the served one. */
static void srv_bal_publish(srv_bal_t *b, size_t i, zone_keep_t *keep)
{
    const srv_data_t *cur = srv_current;
    const srv_origin_t *so = &cur->origins[i];

    if (keep && so->keep && memcmp(keep, so->keep, sizeof *keep) == 0) {
        free(keep);
        return;
    }
    if (!keep && !so->keep)
        return;
    srv_data_t *next = srv_data_with_keep(cur, i, keep);
    if (!next) {
        log_msg(LOG_ERR, "%s: out of memory publishing keep fractions", so->name);
        return;
    }
    srv_data_publish(next);
}

void srv_bal_tick(srv_bal_t *b, bool force)
{
    uint64_t now = uv_hrtime();
    double dt = b->last_ns ? (double)(now - b->last_ns) / 1e9 : 0;

    if (!b->ws)
        return;
    b->last_ns = now;
    srv_workers_stats(b->ws, b->sum);
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++) {
        const srv_data_t *cur = srv_current;
        int k = srv_data_origin_index(cur, b->o[i].name);
        const cfg_balance_t *bc = &b->cfg->zones[i].balance;
        srv_bal_decay(b, i, dt);
        if (k != (int)i)
            continue; /* the data and the config disagree until a reload ends */
        if (bc->mode == CFG_BALANCE_OFF) {
            srv_bal_publish(b, i, NULL); /* turned off by a reload */
            continue;
        }
        if (!force && now < b->o[i].next_ns && cur->origins[i].pool == b->o[i].pool)
            continue;
        b->o[i].next_ns = now + (uint64_t)bc->interval * 1000000000ull;
        srv_bal_publish(b, i, srv_bal_solve(b, i, &cur->origins[i]));
    }
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static const char *srv_bal_mode_name(cfg_balance_mode_t m)
{
    return m == CFG_BALANCE_LOCAL ? "local" : m == CFG_BALANCE_PUSHED ? "pushed" : "off";
}

/* The origin a request names ("" = the first), or -1 with an ERR reply. */
static int srv_bal_origin(const srv_bal_t *b, const ctl_push_t *p, srv_ctl_reply_t *out)
{
    int i = srv_data_origin_index(srv_current, p->origin);
    char why[320];
    if (i < 0 || i >= STAT_BAL_ORIGINS || (size_t)i >= b->cfg->n_zones) {
        snprintf(why, sizeof why, "%s: not a zone of this server%s", p->origin,
                 i >= STAT_BAL_ORIGINS ? " that balances (the first 4)" : "");
        srv_reply_err(out, "unknown origin", why);
        return -1;
    }
    return i;
}

static void srv_bal_jb_family(srv_jb_t *j, const srv_bal_origin_t *o, int f)
{
    const zone_bal_result_t *r = &o->res[f];
    bool first = true;

    srv_jb_add(j,
               "{\"active\": %s, \"worst_without\": %.4f, \"worst_with\": %.4f, "
               "\"local_share\": %.4f, \"fallback\": %s, \"zones\": [",
               o->active[f] ? "true" : "false", r->worst_without, r->worst_with,
               r->local_share, r->fallback ? "true" : "false");
    for (int id = 0; id < zone_id_count(); id++) {
        const zone_bal_zone_t *z = &r->zones[id];
        if (z->demand_share <= 0 && z->capacity_share <= 0)
            continue;
        srv_jb_add(
            j,
            "%s{\"zone\": \"%s\", \"demand_share\": %.6g, \"capacity_share\": %.6g, "
            "\"ratio_without\": %.4f, \"keep\": %.6f, \"ratio_with\": %.4f}",
            first ? "" : ", ", zone_id_name(id), z->demand_share, z->capacity_share,
            z->ratio_without, z->keep, z->ratio_with);
        first = false;
    }
    srv_jb_add(j, "]}");
}

static void srv_bal_balance(srv_bal_t *b, size_t i, srv_ctl_reply_t *out)
{
    const srv_bal_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    srv_jb_t j = {0};

    srv_jb_add(&j, "{\"origin\": ");
    srv_jb_str(&j, o->name);
    srv_jb_add(&j,
               ", \"mode\": \"%s\", \"max_load_ratio\": %g, \"target_ratio\": %g, "
               "\"interval\": %u, \"recomputes\": %llu, \"solve_ms\": %.3f, "
               "\"pushed_serial\": ",
               srv_bal_mode_name(bc->mode), bc->max_load_ratio,
               zone_bal_target(bc->max_load_ratio), bc->interval,
               (unsigned long long)o->recomputes, o->solve_ms);
    if (o->pushed)
        srv_jb_add(&j, "%llu", (unsigned long long)o->pushed->serial);
    else
        srv_jb_add(&j, "null");
    srv_jb_add(&j, ", \"families\": {");
    bool first = true;
    for (int f = 0; f < 2; f++) {
        if (!o->solved[f])
            continue;
        srv_jb_add(&j, "%s\"%d\": ", first ? "" : ", ", f ? 6 : 4);
        srv_bal_jb_family(&j, o, f);
        first = false;
    }
    srv_jb_add(&j, "}}");
    out->type = CTL_T_OK;
    out->json = srv_jb_done(&j);
}

/* Local demand, decayed, in the pushed table's format, so the fleet can sum
 * every node's and push the sum back. */
static void srv_bal_demand_reply(srv_bal_t *b, size_t i, srv_ctl_reply_t *out)
{
    const srv_bal_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    srv_jb_t j = {0};
    double total = 0;
    bool first = true;

    srv_jb_add(&j, "{\"origin\": ");
    srv_jb_str(&j, o->name);
    srv_jb_add(&j, ", \"mode\": \"%s\", \"half_life\": %u, \"demand\": {",
               srv_bal_mode_name(bc->mode), bc->half_life);
    for (int id = 0; id < zone_id_count(); id++) {
        double r4 = o->rate[0][0][id] + o->rate[0][1][id];
        double r6 = o->rate[1][0][id] + o->rate[1][1][id];
        if (r4 <= 0 && r6 <= 0)
            continue;
        srv_jb_add(&j, "%s\"%s\": {\"4\": %.6g, \"6\": %.6g}", first ? "" : ", ",
                   zone_id_name(id), r4, r6);
        total += r4 + r6;
        first = false;
    }
    srv_jb_add(&j, "}, \"total\": %.6g}", total);
    out->type = CTL_T_OK;
    out->json = srv_jb_done(&j);
}

static void srv_bal_jb_server(srv_jb_t *j, const srv_origin_t *so, size_t k,
                              uint64_t answers, bool first)
{
    const zone_server_t *s = &zone_pool_snapshot(so->pool)->servers[k];
    char ip[64];

    inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->addr, ip, sizeof ip);
    srv_jb_add(j,
               "%s{\"ip\": \"%s\", \"family\": %d, \"weight\": %llu, \"answers\": %llu, "
               "\"zones\": [",
               first ? "" : ", ", ip, s->family,
               (unsigned long long)zone_weight(s, &so->params),
               (unsigned long long)answers);
    for (size_t z = 0; z < s->n_zones; z++)
        srv_jb_add(j, "%s\"%s\"", z ? ", " : "", zone_id_name(s->zones[z]));
    srv_jb_add(j, "]}");
}

/* Answers per server since the snapshot: the workers' rows summed. */
static void srv_bal_servers(size_t i, srv_ctl_reply_t *out)
{
    const srv_origin_t *so = &srv_current->origins[i];
    const srv_served_t *sv = so->served;
    srv_jb_t j = {0};

    srv_jb_add(&j, "{\"origin\": ");
    srv_jb_str(&j, so->name);
    if (!so->pool || !sv) {
        srv_jb_add(&j, ", \"serial\": null, \"servers\": []}");
        out->type = CTL_T_OK;
        out->json = srv_jb_done(&j);
        return;
    }
    const zone_snapshot_t *snap = zone_pool_snapshot(so->pool);
    srv_jb_add(&j, ", \"serial\": %llu, \"servers\": [",
               (unsigned long long)snap->serial);
    for (size_t k = 0; k < snap->n_servers; k++) {
        uint64_t n = 0;
        for (unsigned w = 0; w < sv->n_workers; w++)
            n +=
                __atomic_load_n(&sv->count[(size_t)w * sv->stride + k], __ATOMIC_RELAXED);
        srv_bal_jb_server(&j, so, k, n, k == 0);
    }
    srv_jb_add(&j, "]}");
    out->type = CTL_T_OK;
    out->json = srv_jb_done(&j);
}

/* ------------------------------------------------------------------------ */
/* DEMAND_PUSH                                                              */
/* ------------------------------------------------------------------------ */

/* Writes buf to path atomically and durably (temporary file, fsync, rename,
 * fsync of the directory), as snapshots are stored. 0 or -1 with a message. */
static int srv_bal_persist(const char *path, const void *buf, size_t len, char *err,
                           size_t errlen)
{
    char tmp[4200], dir[4096];
    const char *p = buf;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        goto fail;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        goto fail;
    snprintf(dir, sizeof dir, "%s", path);
    if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        int rc = fsync(fd);
        close(fd);
        if (rc == 0)
            return 0;
    }
    /* Messages are for logs and replies: a cut path is acceptable. */
    if (snprintf(err, errlen, "fsync of the directory of %s: %s", path, strerror(errno)) <
        0)
        err[0] = 0;
    return -1;
fail:
    if (snprintf(err, errlen, "%s: %s", tmp, strerror(errno)) < 0)
        err[0] = 0;
    unlink(tmp);
    return -1;
}

/* ERR "invalid demand table" with every error the parser kept. */
static void srv_bal_reply_invalid(srv_ctl_reply_t *out, const zone_errors_t *errs)
{
    char more[64];
    const char **d = malloc((errs->n + 1) * sizeof *d);
    size_t n = 0;

    for (size_t k = 0; d && k < errs->n; k++)
        d[n++] = errs->msgs[k];
    if (d && errs->dropped) {
        snprintf(more, sizeof more, "... and %zu more", errs->dropped);
        d[n++] = more;
    }
    out->type = CTL_T_ERR;
    out->json = ctl_error_json("invalid demand table", d, d ? n : 0);
    free(d);
}

static void srv_bal_push(srv_bal_t *b, const ctl_push_t *p, size_t i,
                         srv_ctl_reply_t *out)
{
    srv_bal_origin_t *o = &b->o[i];
    zone_errors_t errs;
    zone_demand_t *t = calloc(1, sizeof *t);
    char path[4096], why[700];
    int stored = 0;

    if (!t)
        return srv_reply_err(out, "out of memory", o->name);
    zone_errors_init(&errs);
    int rc = zone_demand_parse("demand", (const char *)p->snap, p->snap_len, t, &errs);
    if (rc != 0) {
        srv_bal_count_push(b, SRV_BAL_PUSH_INVALID);
        srv_bal_reply_invalid(out, &errs);
        zone_errors_deinit(&errs);
        free(t);
        return;
    }
    zone_errors_deinit(&errs);
    if (o->pushed && t->serial <= o->pushed->serial && !(p->flags & CTL_PUSH_FORCE)) {
        snprintf(why, sizeof why, "serial %llu is not newer than %llu (use --force)",
                 (unsigned long long)t->serial, (unsigned long long)o->pushed->serial);
        free(t);
        srv_bal_count_push(b, SRV_BAL_PUSH_OLD_SERIAL);
        return srv_reply_err(out, "old serial", why);
    }
    /* Stored before it is acted on and acknowledged: a restart serves it. */
    if (srv_bal_state_path(b->cfg, o->name, path, sizeof path) == 0) {
        if (srv_bal_persist(path, p->snap, p->snap_len, why, sizeof why) != 0) {
            free(t);
            log_msg(LOG_ERR, "control: demand push for %s refused: %s", o->name, why);
            srv_bal_count_push(b, SRV_BAL_PUSH_STATE_WRITE);
            return srv_reply_err(out, "state_dir write failed", why);
        }
        stored = 1;
    }
    free(o->pushed);
    o->pushed = t;
    log_msg(LOG_INFO, "control: %s demand table serial %llu pushed%s", o->name,
            (unsigned long long)t->serial, stored ? "" : "; not stored: no state_dir");
    srv_bal_count_push(b, SRV_BAL_PUSH_OK);
    srv_bal_tick(b, true); /* act on it now, and reply with the result */
    srv_bal_balance(b, i, out);
}

void srv_bal_request(srv_bal_t *b, uint8_t type, const uint8_t *payload, size_t len,
                     srv_ctl_reply_t *out)
{
    ctl_push_t p;

    bool push = type == CTL_T_DEMAND_PUSH;
    if (ctl_push_decode(payload, len, &p) < 0) {
        if (push)
            srv_bal_count_push(b, SRV_BAL_PUSH_PAYLOAD);
        return srv_reply_err(out, ctl_strerror(CTL_ERR_PAYLOAD), ctl_type_name(type));
    }
    int i = srv_bal_origin(b, &p, out);
    if (i < 0) {
        if (push)
            srv_bal_count_push(b, SRV_BAL_PUSH_UNKNOWN_ORIGIN);
        return;
    }
    switch (type) {
    case CTL_T_DEMAND_PUSH:
        return srv_bal_push(b, &p, (size_t)i, out);
    case CTL_T_DEMAND:
        return srv_bal_demand_reply(b, (size_t)i, out);
    case CTL_T_BALANCE:
        return srv_bal_balance(b, (size_t)i, out);
    case CTL_T_SERVERS:
        return srv_bal_servers((size_t)i, out);
    default:
        return srv_reply_err(out, ctl_strerror(CTL_ERR_UNEXPECTED), NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Metrics                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const srv_bal_push_names[SRV_BAL_PUSH_RESULTS] = {
    "ok", "invalid", "old_serial", "unknown_origin", "state_write", "payload"};

void srv_bal_count_push(srv_bal_t *b, srv_bal_push_result_t r)
{
    if (b && r < SRV_BAL_PUSH_RESULTS)
        b->pushes[r]++;
}

/* A zone that balancing watches (servers in a solved origin): its spill
 * counter is shown from 0 on, so a rate() has a series before the first spill. */
static bool srv_bal_may_spill(const srv_bal_t *b, int id)
{
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        for (int f = 0; f < 2; f++)
            if (b->o[i].solved[f] && b->o[i].zones[f][id].capacity_share > 0 &&
                b->cfg->zones[i].balance.mode != CFG_BALANCE_OFF)
                return true;
    return false;
}

static void srv_bal_metrics_zones(const srv_bal_t *b, srv_jb_t *j)
{
    srv_jb_add(
        j, "# HELP dnsd_balance_keep_fraction Share of the draws reaching a zone that "
           "stay in it, for zones that spill.\n"
           "# TYPE dnsd_balance_keep_fraction gauge\n");
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        for (int f = 0; f < 2; f++)
            for (int id = 1; b->o[i].solved[f] && id < zone_id_count(); id++) {
                const zone_bal_zone_t *z = &b->o[i].zones[f][id];
                if (z->keep < 1 && z->capacity_share > 0 && z->demand_share > 0)
                    srv_jb_add(j,
                               "dnsd_balance_keep_fraction{origin=\"%s\",zone=\"%s\","
                               "family=\"ipv%d\"} %.6g\n",
                               b->o[i].name, zone_id_name(id), f ? 6 : 4, z->keep);
            }
}

/* The worst expected load ratio of each zone's servers, with the keep
 * fractions and without: what the operator kit's alert and dashboard read
 * (dist/prometheus, dist/grafana: spill="with"). */
static void srv_bal_metrics_ratio(const srv_bal_t *b, srv_jb_t *j)
{
    static const char *const fam[2] = {"ipv4", "ipv6"};

    srv_jb_add(j,
               "# HELP dnsd_balance_load_ratio Worst expected load ratio of a zone's "
               "servers (share of answers / share of weight), with and without spill.\n"
               "# TYPE dnsd_balance_load_ratio gauge\n");
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        for (int f = 0; f < 2; f++)
            for (int id = 0; b->o[i].solved[f] && id < zone_id_count(); id++) {
                const zone_bal_zone_t *z = &b->o[i].zones[f][id];
                if (!(z->capacity_share > 0) ||
                    b->cfg->zones[i].balance.mode == CFG_BALANCE_OFF)
                    continue;
                for (int w = 0; w < 2; w++)
                    srv_jb_add(j,
                               "dnsd_balance_load_ratio{origin=\"%s\",zone=\"%s\","
                               "family=\"%s\",spill=\"%s\"} %.6g\n",
                               b->o[i].name, zone_id_name(id), fam[f],
                               w ? "without" : "with",
                               w ? z->ratio_without : z->ratio_with);
            }
}

char *srv_bal_metrics(const srv_bal_t *b, const srv_stats_t *st)
{
    srv_jb_t j = {0};

    srv_bal_metrics_ratio(b, &j);
    srv_bal_metrics_zones(b, &j);
    srv_jb_add(&j, "# HELP dnsd_balance_spilled_total Pool answers with a record that "
                   "started past their first zone, by that zone.\n"
                   "# TYPE dnsd_balance_spilled_total counter\n");
    for (int id = 0; id < zone_id_count(); id++)
        if (st->pool_spilled[id] || srv_bal_may_spill(b, id))
            srv_jb_add(&j, "dnsd_balance_spilled_total{zone=\"%s\"} %llu\n",
                       zone_id_name(id), (unsigned long long)st->pool_spilled[id]);
    srv_jb_add(&j, "# HELP dnsd_balance_recomputations_total Keep fraction solves.\n"
                   "# TYPE dnsd_balance_recomputations_total counter\n");
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        srv_jb_add(&j, "dnsd_balance_recomputations_total{origin=\"%s\"} %llu\n",
                   b->o[i].name, (unsigned long long)b->o[i].recomputes);
    srv_jb_add(
        &j, "# HELP dnsd_balance_demand_pushes_total Demand tables pushed, by result.\n"
            "# TYPE dnsd_balance_demand_pushes_total counter\n");
    for (int r = 0; r < SRV_BAL_PUSH_RESULTS; r++)
        srv_jb_add(&j, "dnsd_balance_demand_pushes_total{result=\"%s\"} %llu\n",
                   srv_bal_push_names[r], (unsigned long long)b->pushes[r]);
    return srv_jb_done(&j);
}
