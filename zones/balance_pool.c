/*
 * balance_pool.c - the solver's problem from a pool (docs/balancing.md
 * "Model"): every eligible server with its weight, zones and quarter in each,
 * the walk of every zone, and the quarter tables' sizes for backfill.
 */
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"
#include "pool_int.h"

/* The quarter of each server in "@" ([i][0]) and in each zone it lists
 * ([i][1 + j] for s->zones[j]), -1 where the zone is not split; from the
 * pool's tables, so it is whatever rule pool.c applies. */
static int8_t (*bal_quarters(const zone_pool_t *pool, int family))[9]
{
    const zone_snapshot_t *snap = pool->snap;
    int8_t(*q)[9] = malloc((snap->n_servers + 1) * sizeof *q);

    if (!q)
        return NULL;
    memset(q, -1, (snap->n_servers + 1) * sizeof *q);
    for (int z = 0; z < pool->n_ids; z++) {
        const pool_zone_t *pz = &pool->zones[z][family == 6];
        if (pz->quarter[0].idx == pz->all.idx)
            continue; /* not split: every quarter is the whole zone */
        for (int k = 0; k < 4; k++) {
            for (uint32_t i = 0; i < pz->quarter[k].n; i++) {
                uint32_t srv = pz->quarter[k].idx[i];
                const zone_server_t *s = &snap->servers[srv];
                for (size_t j = 0; z && j < s->n_zones && j < 8; j++)
                    if (s->zones[j] == z)
                        q[srv][1 + j] = (int8_t)k;
                if (!z)
                    q[srv][0] = (int8_t)k;
            }
        }
    }
    return q;
}

/* NTS-KE endpoints (pool->nts tables hold each endpoint once per zone, by
 * its first server): an endpoint weighs what it weighs in "@", and is in
 * every zone whose table lists it. The tables are not split in quarters. */
static zone_bal_t *bal_from_nts(const zone_pool_t *pool, const int *next,
                                unsigned answers)
{
    size_t n = pool->snap->n_servers;
    uint64_t *w = calloc(n + 1, sizeof *w);
    int(*zones)[9] = calloc(n + 1, sizeof *zones);
    uint8_t *nz = calloc(n + 1, 1);
    zone_bal_t *b = zone_bal_new(pool->n_ids, next);

    if (!w || !zones || !nz || !b)
        goto fail;
    for (int z = 0; z < pool->n_ids; z++) {
        const pool_table_t *t = pool_table(pool, z, ZONE_NTS, -1);
        for (uint32_t k = 0; t && k < t->n; k++) {
            uint32_t rep = t->idx[k];
            if (!z)
                w[rep] = t->cum[k] - (k ? t->cum[k - 1] : 0);
            if (nz[rep] < 9)
                zones[rep][nz[rep]++] = z;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (w[i] && zone_bal_add(b, w[i], zones[i], NULL, nz[i]) < 0)
            goto fail;
    for (int z = 1; z < pool->n_ids; z++) {
        unsigned size = pool_table(pool, z, ZONE_NTS, -1)->n;
        if (size && zone_bal_set_tables(b, z, answers, &size, 1) < 0)
            goto fail;
    }
    free(w), free(zones), free(nz);
    return b;
fail:
    free(w), free(zones), free(nz);
    zone_bal_free(b);
    return NULL;
}

zone_bal_t *zone_bal_from_pool(const zone_pool_t *pool, int family, unsigned answers)
{
    int next[ZONE_ID_MAX], walk[3], ids[9], qs[9];
    int n_ids = pool->n_ids;
    int8_t(*quarter)[9] = bal_quarters(pool, family);
    zone_bal_t *b = NULL;

    for (int z = 0; z < n_ids; z++) {
        size_t n = zone_walk(z, walk);
        next[z] = n > 1 ? walk[1] : -1;
    }
    if (family == ZONE_NTS) {
        free(quarter);
        return bal_from_nts(pool, next, answers);
    }
    if (!quarter || !(b = zone_bal_new(n_ids, next)))
        goto fail;
    for (size_t i = 0; i < pool->snap->n_servers; i++) {
        const zone_server_t *s = &pool->snap->servers[i];
        uint64_t w = zone_weight(s, &pool->params);
        size_t n = 1;
        if (s->family != family || !w)
            continue;
        ids[0] = ZONE_GLOBAL;
        qs[0] = quarter[i][0];
        for (size_t j = 0; j < s->n_zones && j < 8; j++)
            if (s->zones[j] < n_ids) {
                ids[n] = s->zones[j];
                qs[n++] = quarter[i][1 + j];
            }
        if (zone_bal_add(b, w, ids, qs, n) < 0)
            goto fail;
    }
    for (int z = 1; z < n_ids; z++) {
        unsigned sizes[4];
        for (int q = 0; q < 4; q++)
            sizes[q] = pool_table(pool, z, family, q)->n;
        if (sizes[0] && zone_bal_set_tables(b, z, answers, sizes, 4) < 0)
            goto fail;
    }
    free(quarter);
    return b;
fail:
    free(quarter);
    zone_bal_free(b);
    return NULL;
}
