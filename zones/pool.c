/*
 * pool.c - turns a snapshot into per-zone, per-family weighted tables
 * (DESIGN.md "Weighted selection", "Zones and names"). Everything is built
 * here once, in one arena; select.c only reads it.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

/* Quarters are split only from this many eligible servers on (DESIGN.md):
 * fewer would leave numbered names with one or two servers each. */
#define POOL_QUARTER_MIN 8

uint64_t zone_weight(const zone_server_t *srv, const zone_pool_params_t *params)
{
    double min = params->min_score, full = params->full_score, m = 1024;

    if (!(srv->score >= min) || srv->netspeed == 0)
        return 0;
    /* m rises linearly from 0.25 at min_score to 1 at full_score, in 1/1024ths,
     * so weights stay integers and sums exact. full <= min: plain netspeed. */
    if (full > min) {
        m = 256 + 768 * (srv->score - min) / (full - min);
        m = m > 1024 ? 1024 : round(m);
    }
    return (uint64_t)srv->netspeed * (uint64_t)m;
}

/* The zones a server is in: "@" and its listed zones, each once. */
static size_t pool_memberships(const zone_pool_t *pool, const zone_server_t *s,
                               int ids[9])
{
    size_t n = 0;

    ids[n++] = ZONE_GLOBAL;
    for (size_t k = 0; k < s->n_zones && k < 8; k++) {
        bool dup = s->zones[k] == ZONE_GLOBAL || s->zones[k] >= pool->n_ids;
        for (size_t j = 1; j < n && !dup; j++)
            dup = ids[j] == s->zones[k];
        if (!dup)
            ids[n++] = s->zones[k];
    }
    return n;
}

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a cheap full-avalanche mix. */
static uint64_t pool_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Position of a server in the quarter split: a hash of (serial, address), so the
 * split is fixed for a snapshot and reshuffled by every new serial. */
static uint64_t pool_rank(uint64_t serial, const zone_server_t *s)
{
    uint64_t a, b;

    memcpy(&a, s->addr, 8);
    memcpy(&b, s->addr + 8, 8);
    return pool_mix(pool_mix(pool_mix(serial ^ s->family) ^ a) ^ b);
}

typedef struct pool_order {
    uint64_t rank;
    uint32_t srv; /* index in the snapshot */
} pool_order_t;

static int pool_cmp_order(const void *a, const void *b)
{
    const pool_order_t *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return (x->srv > y->srv) - (x->srv < y->srv);
}

static uint64_t pool_w(const pool_table_t *t, uint32_t k)
{
    return t->cum[k] - (k ? t->cum[k - 1] : 0);
}

static bool pool_is_split(const zone_pool_t *pool, int id, int f)
{
    return pool->zones[id][f].all.n >= POOL_QUARTER_MIN;
}

/* The split zones of a server, smallest first (ties by id): the order in
 * which their quarter loads decide its quarter. */
static size_t pool_split_zones(const zone_pool_t *pool, const zone_server_t *s,
                               int ids[9])
{
    int f = s->family == 6, all[9];
    size_t n = 0, n_all = pool_memberships(pool, s, all);

    for (size_t k = 0; k < n_all; k++) {
        if (!pool_is_split(pool, all[k], f))
            continue;
        size_t j = n++;
        for (; j > 0; j--) {
            uint32_t a = pool->zones[ids[j - 1]][f].all.n,
                     b = pool->zones[all[k]][f].all.n;
            if (a < b || (a == b && ids[j - 1] < all[k]))
                break;
            ids[j] = ids[j - 1];
        }
        ids[j] = all[k];
    }
    return n;
}

/* The quarter whose loads, compared zone by zone in `ids` order, are least. */
static int pool_least(const uint64_t (*load)[4], const int *ids, size_t n, int f)
{
    int best = 0;

    for (int q = 1; q < 4; q++) {
        for (size_t j = 0; j < n; j++) {
            const uint64_t *l = load[ids[j] * 2 + f];
            if (l[q] != l[best]) {
                best = l[q] < l[best] ? q : best;
                break;
            }
        }
    }
    return best;
}

/*
 * Gives every eligible server one quarter, the same in every zone it is in, so
 * that a numbered name i.* only ever serves servers of quarter i, from whichever
 * zone of its walk they come: the four names stay disjoint across backfill.
 * Servers in rank order go to the quarter with the least weight so far in their
 * smallest split zone; ties (the first servers of a zone) go by their next
 * zone, and so on up to "@". A server's smallest zone thus splits exactly as a
 * zone split on its own would (quarters within one server's weight of each
 * other), and the larger zones above it balance through the ties.
 */
static void pool_assign(zone_pool_t *pool, pool_order_t *order, uint64_t (*load)[4])
{
    const zone_snapshot_t *snap = pool->snap;
    uint32_t n = 0;
    int ids[9];

    for (size_t i = 0; i < snap->n_servers; i++) {
        pool->quarter_of[i] = 0;
        if (zone_weight(&snap->servers[i], &pool->params))
            order[n++] =
                (pool_order_t){pool_rank(snap->serial, &snap->servers[i]), (uint32_t)i};
    }
    qsort(order, n, sizeof *order, pool_cmp_order);
    for (uint32_t k = 0; k < n; k++) {
        const zone_server_t *s = &snap->servers[order[k].srv];
        uint64_t w = zone_weight(s, &pool->params);
        int f = s->family == 6;
        size_t n_ids = pool_split_zones(pool, s, ids);
        int q = pool_least((const uint64_t(*)[4])load, ids, n_ids, f);
        pool->quarter_of[order[k].srv] = (uint8_t)q;
        for (size_t j = 0; j < n_ids; j++)
            load[ids[j] * 2 + f][q] += w;
    }
}

/* Splits a zone's table into its four quarters, each in server order. */
static void pool_split(const zone_pool_t *pool, pool_zone_t *z)
{
    const pool_table_t *all = &z->all;
    uint32_t *idx = all->idx + all->n, at = 0;
    uint64_t *cum = all->cum + all->n;

    for (int q = 0; q < 4; q++) {
        uint64_t sum = 0;
        uint32_t n = 0;
        for (uint32_t k = 0; k < all->n; k++) {
            if (pool->quarter_of[all->idx[k]] != q)
                continue;
            idx[at + n] = all->idx[k];
            cum[at + n++] = sum += pool_w(all, k);
        }
        z->quarter[q] = (pool_table_t){.n = n, .idx = idx + at, .cum = cum + at};
        at += n;
    }
}

/* Lays out every table in the arena; `elig` holds the eligible counts. */
static int pool_layout(zone_pool_t *pool, uint32_t (*elig)[2])
{
    size_t total = 0, at = 0;

    for (int id = 0; id < pool->n_ids; id++)
        for (int f = 0; f < 2; f++)
            total += elig[id][f] * (elig[id][f] >= POOL_QUARTER_MIN ? 2 : 1);
    if (!(pool->arena = malloc(total * (sizeof(uint64_t) + sizeof(uint32_t)) + 1)))
        return -1;
    uint64_t *cum = pool->arena;
    uint32_t *idx = (uint32_t *)(cum + total);
    for (int id = 0; id < pool->n_ids; id++) {
        for (int f = 0; f < 2; f++) {
            pool_zone_t *z = &pool->zones[id][f];
            z->all = (pool_table_t){.n = 0, .idx = idx + at, .cum = cum + at};
            at += elig[id][f] * (elig[id][f] >= POOL_QUARTER_MIN ? 2 : 1);
        }
    }
    return 0;
}

/* Fills every `all` table in server order, then splits the big ones. */
static int pool_fill(zone_pool_t *pool)
{
    const zone_snapshot_t *snap = pool->snap;
    pool_order_t *order = malloc((snap->n_servers + 1) * sizeof *order);
    uint64_t(*load)[4] = calloc((size_t)pool->n_ids * 2, sizeof *load);
    int ids[9];

    pool->quarter_of = malloc(snap->n_servers + 1);
    if (!order || !load || !pool->quarter_of)
        goto fail;
    for (size_t i = 0; i < snap->n_servers; i++) {
        uint64_t w = zone_weight(&snap->servers[i], &pool->params);
        if (!w)
            continue;
        size_t n = pool_memberships(pool, &snap->servers[i], ids);
        for (size_t k = 0; k < n; k++) {
            pool_table_t *t = &pool->zones[ids[k]][snap->servers[i].family == 6].all;
            /* The layout gave each table room for its eligible count. */
            t->idx[t->n] = (uint32_t)i;
            t->cum[t->n] = (t->n ? t->cum[t->n - 1] : 0) + w;
            t->n++;
        }
    }
    pool_assign(pool, order, load);
    for (int id = 0; id < pool->n_ids; id++) {
        for (int f = 0; f < 2; f++) {
            pool_zone_t *z = &pool->zones[id][f];
            for (int q = 0; q < 4; q++)
                z->quarter[q] = z->all;
            if (pool_is_split(pool, id, f))
                pool_split(pool, z);
        }
    }
    free(order);
    free(load);
    return 0;
fail:
    free(order);
    free(load);
    return -1;
}

zone_pool_t *zone_pool_new(zone_snapshot_t *snap, const zone_pool_params_t *params)
{
    zone_pool_t *pool = calloc(1, sizeof *pool);
    uint32_t(*elig)[2] = calloc(ZONE_ID_MAX, sizeof *elig);
    int ids[9];

    if (!pool || !elig)
        goto fail;
    pool->snap = snap;
    pool->params = *params;
    pool->n_ids = zone_id_count();
    for (size_t i = 0; i < snap->n_servers; i++) {
        const zone_server_t *s = &snap->servers[i];
        bool ok = zone_weight(s, params) > 0;
        size_t n = pool_memberships(pool, s, ids);
        for (size_t k = 0; k < n; k++) {
            pool->zones[ids[k]][s->family == 6].total++;
            elig[ids[k]][s->family == 6] += ok;
        }
    }
    if (pool_layout(pool, elig) < 0 || pool_fill(pool) < 0 || pool_nts_build(pool) < 0)
        goto fail;
    free(elig);
    return pool;
fail:
    free(elig);
    if (pool)
        zone_pool_free(pool);
    else
        zone_snapshot_free(snap);
    return NULL;
}

void zone_pool_free(zone_pool_t *pool)
{
    if (!pool)
        return;
    zone_snapshot_free(pool->snap);
    free(pool->arena);
    free(pool->quarter_of);
    free(pool->nts_arena);
    free(pool);
}

const zone_snapshot_t *zone_pool_snapshot(const zone_pool_t *pool)
{
    return pool->snap;
}

void zone_pool_counts(const zone_pool_t *pool, int id, int family, unsigned *total,
                      unsigned *eligible)
{
    const pool_table_t *t = pool_table(pool, id, family, -1);

    *total = t ? pool->zones[id][family == 6].total : 0;
    *eligible = t ? t->n : 0;
}

int zone_pool_quarter(const zone_pool_t *pool, const zone_server_t *srv)
{
    const zone_snapshot_t *snap = pool->snap;

    if (srv < snap->servers || srv >= snap->servers + snap->n_servers ||
        !zone_weight(srv, &pool->params))
        return -1;
    return pool->quarter_of[srv - snap->servers];
}

size_t zone_pool_members(const zone_pool_t *pool, int id, int family, int quarter,
                         const zone_server_t **out, size_t cap)
{
    const pool_table_t *t = pool_table(pool, id, family, quarter);

    if (!t)
        return 0;
    for (uint32_t k = 0; k < t->n && k < cap; k++)
        out[k] = &pool->snap->servers[t->idx[k]];
    return t->n;
}

static void pool_report_top(const zone_pool_t *pool, FILE *out)
{
    const zone_snapshot_t *snap = pool->snap;
    size_t top[10], n_top = 0;
    uint64_t w_top[10], sum = 0, sum_top = 0;
    char text[INET6_ADDRSTRLEN];

    /* Insertion into a sorted top ten: O(10 n), no allocation. */
    for (size_t i = 0; i < snap->n_servers; i++) {
        uint64_t w = zone_weight(&snap->servers[i], &pool->params);
        sum += w;
        if (!w || (n_top == 10 && w <= w_top[9]))
            continue;
        size_t k = n_top < 10 ? n_top++ : 9;
        for (; k > 0 && w_top[k - 1] < w; k--) {
            top[k] = top[k - 1];
            w_top[k] = w_top[k - 1];
        }
        top[k] = i;
        w_top[k] = w;
    }
    for (size_t k = 0; k < n_top; k++)
        sum_top += w_top[k];
    fprintf(out, "top %zu servers of @ hold %.1f%% of the weight:\n", n_top,
            sum ? 100.0 * (double)sum_top / (double)sum : 0.0);
    for (size_t k = 0; k < n_top; k++) {
        const zone_server_t *s = &snap->servers[top[k]];
        inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->addr, text, sizeof text);
        fprintf(out, "  %-39s score %5.1f  netspeed %10u  %5.2f%%\n", text, s->score,
                s->netspeed, 100.0 * (double)w_top[k] / (double)sum);
    }
}

void zone_pool_report(const zone_pool_t *pool, FILE *out)
{
    fprintf(out, "serial %llu, %zu servers\n", (unsigned long long)pool->snap->serial,
            pool->snap->n_servers);
    fprintf(out, "%-16s %21s %21s\n", "zone", "v4 eligible/total", "v6 eligible/total");
    for (int id = 0; id < pool->n_ids; id++) {
        const pool_zone_t *z4 = &pool->zones[id][0], *z6 = &pool->zones[id][1];
        char v4[24], v6[24];
        if (!z4->total && !z6->total)
            continue;
        snprintf(v4, sizeof v4, "%u/%u", z4->all.n, z4->total);
        snprintf(v6, sizeof v6, "%u/%u", z6->all.n, z6->total);
        fprintf(out, "%-16s %21s %21s\n", zone_id_name(id), v4, v6);
    }
    pool_report_top(pool, out);
    zone_pool_nts_report(pool, out);
}
