/*
 * balance.h - demand-aware balancing (docs/balancing.md): the solver that turns
 * demand per zone into keep fractions, and the keep table the query path reads.
 *
 * The solver runs off the query path (control thread, tests, bench/balance).
 * The keep table is immutable once built and read by zone_pool_pick_keep().
 */
#ifndef DNSD_BALANCE_H
#define DNSD_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/zones.h"

/* ---- the solver -------------------------------------------------------- */

/* One zone's figures in a solution; shares are of the family's totals. */
typedef struct zone_bal_zone {
    double demand_share;   /* draws starting here / all draws */
    double capacity_share; /* weight of the zone's servers / all weight */
    double keep;           /* share of the draws reaching the zone that stay in it */
    double ratio_without;  /* worst expected load ratio of its servers, nothing spilled */
    double ratio_with;     /* the same with the keep fractions */
} zone_bal_zone_t;

typedef struct zone_bal_result {
    zone_bal_zone_t *zones; /* caller's array of n_zones entries, filled */
    double worst_without;   /* worst expected load ratio of any server, no spill */
    double worst_with;      /* the same with the keep fractions */
    double local_share;     /* draws served by their first zone (with spill) */
    unsigned iterations;    /* bisection steps the solver took */
    unsigned repairs;       /* decrease-only passes it needed after them */
    bool fallback;          /* it gave up and spilled everything spillable */
} zone_bal_result_t;

/* A problem: zones 0..n_zones-1, zone 0 the root ("@") every server is in;
 * next[z] is the zone after z in z's walk (-1 for the root); servers are
 * added with their weight and zones. Build once per snapshot and family,
 * solve for every new demand table. */
typedef struct zone_bal zone_bal_t;

zone_bal_t *zone_bal_new(int n_zones, const int *next);
void zone_bal_free(zone_bal_t *b);

/* Adds a server: weight > 0, the zones it is in (root implied; duplicates
 * ignored; at most 8 besides the root) and, when quarters is not NULL, its
 * quarter (0..3, or -1 for a zone not split) in each, the root included when
 * listed. 0, or -1 when out of memory or a zone or quarter is out of range. */
int zone_bal_add(zone_bal_t *b, uint64_t weight, const int *zones, const int *quarters,
                 size_t n);

/* The tables an answer's slots are drawn from in `zone` (one per quarter),
 * by their eligible servers: a table with fewer servers than `answers`
 * serves only that many slots of an answer and the rest backfill to the next
 * zone, which the solver then counts as that zone's load. Without this call
 * a zone is taken to serve every slot. 0, or -1 for bad arguments. */
int zone_bal_set_tables(zone_bal_t *b, int zone, unsigned answers, const unsigned *sizes,
                        size_t n);

/* The problem of one pool and family (4, 6 or ZONE_NTS): its eligible servers
 * (for ZONE_NTS its NTS-KE endpoints, each with its weight in "@"), the walk
 * country -> continent -> "@" of zone_walk(), the quarter tables of every
 * zone for answers of `answers` records. NULL when out of memory. */
zone_bal_t *zone_bal_from_pool(const zone_pool_t *pool, int family, unsigned answers);

/*
 * Solves: demand[z] >= 0 is the rate of draws whose walk starts at zone z and
 * may spill; pinned[z] (NULL: none) draws that start at z and never spill
 * (explicit names when they are exempt). max_ratio >= 1. Fills res->zones
 * (n_zones entries) and the totals. 0, or -1 for bad arguments.
 */
int zone_bal_solve(zone_bal_t *b, const double *demand, const double *pinned,
                   double max_ratio, zone_bal_result_t *res);

/*
 * The ratio callers solve for, given the operator's max_load_ratio: the
 * model counts a draw of an answer as independent of the others, but an
 * answer's draws are without replacement, so a light server gains a little
 * whenever a heavy one of the same table is already in the answer. The
 * simulator measures that at up to 8% above the model on the pool-like
 * snapshot (docs/balancing.md "Headroom"); solving for 92% of the bound keeps
 * the realised worst below it. Never below 1 (everything at "@").
 */
#define ZONE_BAL_HEADROOM 0.92
double zone_bal_target(double max_ratio);

/* Families the balancer solves separately: IPv4 and IPv6 pool servers, and
 * NTS-KE endpoints (SRV answers, zones.h ZONE_NTS); the index of `family`
 * (4, 6 or ZONE_NTS) in the tables below. */
#define ZONE_BAL_FAMILIES 3
static inline int zone_bal_family(int family)
{
    return family == ZONE_NTS ? 2 : family == 6;
}

/* ---- demand tables (dnsdctl demand push) -------------------------------- */

/* Relative query rates per zone of first draw and family:
 *   {"serial": 7, "demand": {"cn": {"4": 1200.5, "6": 30, "nts": 5}, "@": {"4": 40}}}
 * Zones by name ("uk" and "gb" alike); families "4", "6" and "nts" (SRV
 * queries at NTS names); rates finite and >= 0; at most one entry per zone
 * and family. */
typedef struct zone_demand {
    uint64_t serial;
    double rate[ZONE_ID_MAX][ZONE_BAL_FAMILIES]; /* [zone][zone_bal_family()] */
} zone_demand_t;

/* Parses and validates a demand table (strict JSON, zone_json_t). 0 and
 * *out filled, or -1 with every problem in errs as "name:line:col: path:
 * what" (unknown zone or family, negative or non-finite rate, wrong type,
 * missing or unknown key, duplicates); *out is then unspecified. */
int zone_demand_parse(const char *name, const char *buf, size_t len, zone_demand_t *out,
                      zone_errors_t *errs);
int zone_demand_load(const char *path, zone_demand_t *out, zone_errors_t *errs);

/* ---- the keep table the query path reads ------------------------------- */

typedef struct zone_keep {
    float keep[ZONE_ID_MAX]
              [ZONE_BAL_FAMILIES]; /* [zone][zone_bal_family()]; 1 = no spill */
} zone_keep_t;

/* All ones: answers as without balancing (but through the per-slot path). */
void zone_keep_init(zone_keep_t *k);

/*
 * zone_pool_pick() with spill per answer slot (docs/balancing.md): for each
 * slot one uniform draw decides at which zone of the walk the slot starts
 * (zone j with probability keep[j] x the product of (1 - keep) before it; a
 * zone without eligible servers passes everything on), then the slot is drawn
 * from that zone, or from the next one when every server there is already in
 * the answer. Servers stay distinct; within a zone the draw is proportional to
 * weight. keep NULL: exactly zone_pool_pick(). out->spilled says whether some
 * slot started past the first zone with servers; out->home is that zone.
 */
typedef struct zone_pick_info {
    int home;     /* first zone of the walk with eligible servers, or -1 */
    bool spilled; /* a slot started past `home` because of its keep fraction */
} zone_pick_info_t;

size_t zone_pool_pick_keep(const zone_pool_t *pool, int family, int quarter,
                           const int *walk, size_t n_walk, size_t want,
                           const zone_keep_t *keep, zone_rng_t *rng, zone_pick_t *out,
                           zone_pick_info_t *info);

#endif
