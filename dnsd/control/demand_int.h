/*
 * demand_int.h - what demand.c (demand, solving, publishing) and
 * demand_ctl.c (control replies, pushed tables, metrics) share. Control
 * thread only; private to dnsd/control/.
 */
#ifndef DNSD_DEMAND_INT_H
#define DNSD_DEMAND_INT_H

#include "control_int.h"
#include "dnsd/control/demand.h"

typedef struct demand_origin {
    char name[256];
    const zone_pool_t *pool; /* the pool prob[] was built for ... */
    unsigned answers;        /* ... and the answer sizes */
    unsigned srv_answers;
    /* [zone_bal_family()]: IPv4, IPv6, NTS-KE endpoints (SRV answers) */
    zone_bal_t *prob[ZONE_BAL_FAMILIES];
    double rate[ZONE_BAL_FAMILIES][2][ZONE_ID_MAX];   /* decayed local demand
                                                         [family][explicit][zone] */
    uint64_t seen[ZONE_BAL_FAMILIES][2][ZONE_ID_MAX]; /* counter sums at the last tick */
    zone_demand_t *pushed;                            /* the pushed table, or NULL */
    zone_bal_zone_t zones[ZONE_BAL_FAMILIES][ZONE_ID_MAX];
    zone_bal_result_t res[ZONE_BAL_FAMILIES];
    bool solved[ZONE_BAL_FAMILIES];
    bool active[ZONE_BAL_FAMILIES]; /* enough demand: the keep fractions are the solver's
                                     */
    uint64_t next_ns, recomputes;
    double solve_ms;
} demand_origin_t;

struct demand {
    const cfg_t *cfg;
    workers_t *ws;
    uv_timer_t timer;
    bool timer_ok;
    uint64_t last_ns;
    stat_counters_t *sum; /* scratch for the workers' counters (large) */
    uint64_t pushes[DEMAND_PUSH_RESULTS];
    demand_origin_t o[STAT_BAL_ORIGINS];
};

/* "<state_dir>/<origin>.demand.json"; -1 without state_dir or room. */
int demand_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len);

#endif
