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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demand_int.h"
#include "dnsd/base/log.h"
#include "dnsd/io/worker.h"

/* The pushed table's state file: "<state_dir>/<origin>.demand.json". */
int demand_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len)
{
    if (!cfg->state_dir)
        return -1;
    int n = snprintf(buf, len, "%s/%s.demand.json", cfg->state_dir, origin);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static void demand_load_state(demand_t *b, size_t i)
{
    char path[4096];
    zone_errors_t errs;
    zone_demand_t *t = calloc(1, sizeof *t);

    if (!t || demand_state_path(b->cfg, b->o[i].name, path, sizeof path) != 0 ||
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
            log_msg(LOG_WARNING, "%s: pushed demand not restored: %s", b->o[i].name,
                    errs.msgs[0]);
        free(t);
    }
    zone_errors_deinit(&errs);
}

void demand_set_cfg(demand_t *b, const cfg_t *cfg)
{
    b->cfg = cfg;
    for (size_t i = 0; i < STAT_BAL_ORIGINS; i++) {
        const char *name = i < cfg->n_zones ? cfg->zones[i].origin : "";
        if (strcmp(b->o[i].name, name) != 0) { /* another zone at this index */
            demand_origin_t *o = &b->o[i];
            for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
                zone_bal_free(o->prob[f]);
            free(o->pushed);
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "%s", name);
            if (name[0])
                demand_load_state(b, i);
        }
        b->o[i].next_ns = 0;
    }
}

demand_t *demand_new(const cfg_t *cfg)
{
    demand_t *b = calloc(1, sizeof *b);

    if (!b || !(b->sum = malloc(sizeof *b->sum))) {
        free(b);
        return NULL;
    }
    demand_set_cfg(b, cfg);
    return b;
}

void demand_free(demand_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < STAT_BAL_ORIGINS; i++) {
        for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
            zone_bal_free(b->o[i].prob[f]);
        free(b->o[i].pushed);
    }
    free(b->sum);
    free(b);
}

static void demand_on_timer(uv_timer_t *t)
{
    demand_tick(t->data, false);
}

int demand_start(demand_t *b, uv_loop_t *loop, workers_t *ws)
{
    b->ws = ws;
    if (uv_timer_init(loop, &b->timer) != 0)
        return -1;
    b->timer.data = b;
    b->timer_ok = true;
    /* Once a second: the decay is exact per tick and cheap (a sum of the
     * workers' counters); solving waits for each origin's interval. */
    return uv_timer_start(&b->timer, demand_on_timer, 0, 1000); /* first: at once */
}

void demand_close(demand_t *b)
{
    if (b && b->timer_ok) {
        uv_close((uv_handle_t *)&b->timer, NULL);
        b->timer_ok = false;
    }
}

/* Folds the counters' growth since the last tick into the decayed rates. */
static void demand_decay(demand_t *b, size_t i, double dt)
{
    demand_origin_t *o = &b->o[i];
    const cfg_zone_t *z = &b->cfg->zones[i];
    double f = dt > 0 ? exp2(-dt / z->balance.half_life) : 1;

    for (int fam = 0; fam < ZONE_BAL_FAMILIES; fam++)
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
static bool demand_table(const demand_t *b, size_t i, int fam, double *d, double *e)
{
    const demand_origin_t *o = &b->o[i];
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
    /* min_queries is counted over all families: the decayed total. */
    double both = 0;
    for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
        for (int x = 0; x < 2; x++)
            for (int id = 0; id < ZONE_ID_MAX; id++)
                both += o->rate[f][x][id];
    return total > 0 && both >= bc->min_queries;
}

/* Solves one origin and returns its keep table (malloc'd), or NULL when out
 * of memory. Without enough demand every keep is 1. */
static zone_keep_t *demand_solve(demand_t *b, size_t i, const srv_origin_t *so)
{
    demand_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    zone_keep_t *keep = malloc(sizeof *keep);
    double d[ZONE_ID_MAX], e[ZONE_ID_MAX];
    uint64_t t0 = uv_hrtime();

    if (!keep)
        return NULL;
    zone_keep_init(keep);
    if (o->pool != so->pool || o->answers != so->answers ||
        o->srv_answers != so->srv_answers) { /* new snapshot or size */
        static const int fam[ZONE_BAL_FAMILIES] = {4, 6, ZONE_NTS};
        for (int f = 0; f < ZONE_BAL_FAMILIES; f++) {
            unsigned n = f == 2 ? so->srv_answers : so->answers;
            /* No problem (nothing solved, nothing shown) for a family the
             * pool has no server of: a pool without NTS endpoints. */
            bool any =
                so->pool && (f != 2 || zone_pool_members(so->pool, ZONE_GLOBAL, ZONE_NTS,
                                                         -1, NULL, 0) > 0);
            zone_bal_free(o->prob[f]);
            o->prob[f] = any ? zone_bal_from_pool(so->pool, fam[f], n) : NULL;
            o->solved[f] = false;
        }
        o->pool = so->pool;
        o->answers = so->answers;
        o->srv_answers = so->srv_answers;
    }
    for (int f = 0; f < ZONE_BAL_FAMILIES; f++) {
        o->solved[f] = false;
        if (!o->prob[f])
            continue;
        bool enough = demand_table(b, i, f, d, e);
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
static void demand_publish(demand_t *b, size_t i, zone_keep_t *keep)
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

void demand_tick(demand_t *b, bool force)
{
    uint64_t now = uv_hrtime();
    double dt = b->last_ns ? (double)(now - b->last_ns) / 1e9 : 0;

    if (!b->ws)
        return;
    b->last_ns = now;
    workers_stats(b->ws, b->sum);
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++) {
        const srv_data_t *cur = srv_current;
        int k = srv_data_origin_index(cur, b->o[i].name);
        const cfg_balance_t *bc = &b->cfg->zones[i].balance;
        demand_decay(b, i, dt);
        if (k != (int)i)
            continue; /* the data and the config disagree until a reload ends */
        if (bc->mode == CFG_BALANCE_OFF) {
            demand_publish(b, i, NULL); /* turned off by a reload */
            continue;
        }
        if (!force && now < b->o[i].next_ns && cur->origins[i].pool == b->o[i].pool)
            continue;
        b->o[i].next_ns = now + (uint64_t)bc->interval * 1000000000ull;
        demand_publish(b, i, demand_solve(b, i, &cur->origins[i]));
    }
}
