/*
 * pool_int.h - the layout of a pool, shared by pool.c (which builds it) and
 * select.c (which reads it on the query path). Not part of the public API.
 */
#ifndef DNSD_POOL_INT_H
#define DNSD_POOL_INT_H

#include "zones.h"

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
};

/* The table for an id, family (4 or 6) and quarter (-1 or 0..3), or NULL. */
static inline const pool_table_t *pool_table(const zone_pool_t *pool, int id, int family,
                                             int quarter)
{
    if (!pool || id < 0 || id >= pool->n_ids || (family != 4 && family != 6) ||
        quarter < -1 || quarter > 3)
        return NULL;
    const pool_zone_t *z = &pool->zones[id][family == 6];
    return quarter < 0 ? &z->all : &z->quarter[quarter];
}

#endif
