/*
 * pool_int.h - the layout of a pool, shared by pool.c (which builds it) and
 * select.c (which reads it on the query path). Not part of the public API.
 */
#ifndef DNSD_POOL_INT_H
#define DNSD_POOL_INT_H

#include "zones/zones.h"

/*
 * The eligible servers of one zone, family and quarter: server indices in
 * ascending order and the inclusive running sum of their weights, so
 * cum[k] - cum[k-1] is the weight of idx[k] and cum[n-1] the total.
 */
typedef struct pool_table {
    uint32_t n;
    uint32_t *idx;
    uint64_t *cum;
} pool_table_t;

typedef struct pool_zone {
    pool_table_t all;
    pool_table_t quarter[4]; /* each == all below 8 eligible servers; else the
                                servers of `all` whose quarter_of is q */
    uint32_t total;          /* servers listed, eligible or not */
} pool_zone_t;

struct zone_pool {
    zone_snapshot_t *snap;
    zone_pool_params_t params;
    int n_ids;
    pool_zone_t zones[ZONE_ID_MAX][2]; /* [id][0] IPv4, [id][1] IPv6 */
    void *arena;                       /* every idx[] and cum[] above */
    uint8_t *quarter_of;               /* per server: its quarter (0..3) in every
                                          split zone; 0 for ineligible ones */
    /* NTS-KE endpoints (nts_pool.c): per zone, one entry per endpoint with an
     * eligible server there, idx its first server in the snapshot. */
    pool_table_t nts[ZONE_ID_MAX];
    uint32_t nts_listed[ZONE_ID_MAX][2]; /* servers with "nts": [all, eligible] */
    void *nts_arena;                     /* every nts[].idx and .cum */
};

/* nts_pool.c: builds pool->nts from the snapshot. 0, or -1 out of memory. */
int pool_nts_build(zone_pool_t *pool);

/* The table for an id, family (4, 6 or ZONE_NTS) and quarter (-1 or 0..3), or NULL. */
static inline const pool_table_t *pool_table(const zone_pool_t *pool, int id, int family,
                                             int quarter)
{
    if (!pool || id < 0 || id >= pool->n_ids || quarter < -1 || quarter > 3)
        return NULL;
    if (family == ZONE_NTS)
        return quarter < 0 ? &pool->nts[id] : NULL;
    if (family != 4 && family != 6)
        return NULL;
    const pool_zone_t *z = &pool->zones[id][family == 6];
    return quarter < 0 ? &z->all : &z->quarter[quarter];
}

#endif
