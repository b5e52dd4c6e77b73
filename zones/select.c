/*
 * select.c - per-thread random numbers and weighted selection without
 * replacement (DESIGN.md "Weighted selection"). Query path: no allocation, no
 * lock; reads only the immutable tables of pool.c.
 */
#include <errno.h>
#include <sys/random.h>

#include "zones/balance.h"
#include "pool_int.h"

/* Walks are country -> continent -> "@" at most (zone_walk, zone_walk_geo). */
#define ZONE_WALK_MAX 4

/* ---- xoshiro256** (Blackman, Vigna 2018), seeded through splitmix64 ---- */

static uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void zone_rng_seed(zone_rng_t *rng, uint64_t seed)
{
    /* splitmix64 never yields four zero words, the one state xoshiro must avoid. */
    for (int i = 0; i < 4; i++)
        rng->s[i] = rng_splitmix(&seed);
}

int zone_rng_seed_os(zone_rng_t *rng)
{
    uint64_t seed[4];
    size_t got = 0;

    while (got < sizeof seed) {
        ssize_t n = getrandom((char *)seed + got, sizeof seed - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    /* Each word through splitmix64 rather than raw, as the authors advise. */
    for (int i = 0; i < 4; i++)
        rng->s[i] = rng_splitmix(&seed[i]);
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1;
    return 0;
}

uint64_t zone_rng_next(zone_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/*
 * Lemire's multiply-and-reject ("Fast random integer generation in an
 * interval", 2019): the high word of x × bound is uniform once the low word's
 * biased band (below 2^64 mod bound) is rejected; the division runs rarely.
 */
uint64_t zone_rng_below(zone_rng_t *rng, uint64_t bound)
{
    if (bound == 0)
        return 0;
    unsigned __int128 m = (unsigned __int128)zone_rng_next(rng) * bound;
    if ((uint64_t)m < bound) {
        uint64_t threshold = -bound % bound;
        while ((uint64_t)m < threshold)
            m = (unsigned __int128)zone_rng_next(rng) * bound;
    }
    return (uint64_t)(m >> 64);
}

/* ---- selection --------------------------------------------------------- */

/* Position of server `srv` in table t, or -1 (binary search on idx). */
static long sel_find(const pool_table_t *t, uint32_t srv)
{
    uint32_t lo = 0, hi = t->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->idx[mid] < srv)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->idx[lo] == srv ? (long)lo : -1;
}

static uint64_t sel_before(const pool_table_t *t, uint32_t k)
{
    return k ? t->cum[k - 1] : 0;
}

/* Inserts k into the ascending list x[0..n). */
static void sel_insert(uint32_t *x, size_t n, uint32_t k)
{
    while (n > 0 && x[n - 1] > k) {
        x[n] = x[n - 1];
        n--;
    }
    x[n] = k;
}

/*
 * One draw among the positions not in ex[0..n_ex) (ascending), exactly in
 * proportion to weight: u is uniform on the line with the excluded intervals
 * cut out; walking them in order maps it back onto the full cumulative line,
 * where a binary search finds the server. O(n_ex + log n).
 */
static uint32_t sel_draw(const pool_table_t *t, const uint32_t *ex, size_t n_ex,
                         uint64_t ex_weight, zone_rng_t *rng)
{
    uint64_t u = zone_rng_below(rng, t->cum[t->n - 1] - ex_weight);
    uint32_t lo = 0, hi = t->n - 1;

    for (size_t i = 0; i < n_ex && sel_before(t, ex[i]) <= u; i++)
        u += t->cum[ex[i]] - sel_before(t, ex[i]);
    while (lo < hi) { /* the first k with cum[k] > u */
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Draws from one zone's table until `want` servers are picked or it is empty. */
static void sel_zone(const zone_pool_t *pool, const pool_table_t *t, int id, size_t want,
                     zone_rng_t *rng, zone_pick_t *out)
{
    uint32_t ex[ZONE_PICK_MAX];
    uint64_t ex_weight = 0;
    size_t n_ex = 0;

    /* Servers picked from earlier zones of the walk may be here too. */
    for (size_t i = 0; i < out->n; i++) {
        long k = sel_find(t, (uint32_t)(out->srv[i] - pool->snap->servers));
        if (k < 0)
            continue;
        sel_insert(ex, n_ex++, (uint32_t)k);
        ex_weight += t->cum[k] - sel_before(t, (uint32_t)k);
    }
    while (out->n < want && n_ex < t->n) {
        uint32_t k = sel_draw(t, ex, n_ex, ex_weight, rng);
        out->weight[out->n] = t->cum[k] - sel_before(t, k);
        out->srv[out->n++] = &pool->snap->servers[t->idx[k]];
        if (out->zone < 0)
            out->zone = id;
        else if (out->zone != id)
            out->backfill = true;
        sel_insert(ex, n_ex++, k);
        ex_weight += t->cum[k] - sel_before(t, k);
    }
}

size_t zone_pool_pick(const zone_pool_t *pool, int family, int quarter, const int *walk,
                      size_t n_walk, size_t want, zone_rng_t *rng, zone_pick_t *out)
{
    out->n = 0;
    out->zone = -1;
    out->backfill = false;
    if (want > ZONE_PICK_MAX)
        want = ZONE_PICK_MAX;
    for (size_t w = 0; w < n_walk && out->n < want; w++) {
        const pool_table_t *t = pool_table(pool, walk[w], family, quarter);
        if (t && t->n)
            sel_zone(pool, t, walk[w], want, rng, out);
    }
    return out->n;
}

/* ---- selection with spill per slot (docs/balancing.md) ----------------- */

/*
 * Where a record starts: at walk position j with probability keep[j] x the
 * product of (1 - keep) of the positions before it; positions without
 * servers pass everything on; the last keeps the rest. As cumulative
 * bounds, computed once per answer, so each record costs one uniform draw
 * and at most ZONE_WALK_MAX comparisons. Returns how many positions.
 */
static size_t sel_bounds(const zone_pool_t *pool, const zone_keep_t *keep, int family,
                         const int *walk, size_t n_walk, size_t home, double *bound,
                         size_t *pos)
{
    double reach = 1, sum = 0; /* share of records reaching position w */
    size_t n = 0;

    for (size_t w = home; w < n_walk && reach > 0; w++) {
        const pool_table_t *t = pool_table(pool, walk[w], family, -1);
        double k = w + 1 == n_walk ? 1 : keep->keep[walk[w]][zone_bal_family(family)];
        if (!t || !t->n)
            continue;
        k = k > 1 ? 1 : k < 0 ? 0 : k;
        sum += reach * k;
        reach *= 1 - k;
        pos[n] = w;
        bound[n++] = w + 1 == n_walk || reach <= 0 ? 2 : sum; /* 2: catches all */
    }
    return n;
}

size_t zone_pool_pick_keep(const zone_pool_t *pool, int family, int quarter,
                           const int *walk, size_t n_walk, size_t want,
                           const zone_keep_t *keep, zone_rng_t *rng, zone_pick_t *out,
                           zone_pick_info_t *info)
{
    size_t home = 0;

    info->home = -1;
    info->spilled = false;
    for (; home < n_walk; home++) {
        const pool_table_t *t = pool_table(pool, walk[home], family, -1);
        if (t && t->n) {
            info->home = walk[home];
            break;
        }
    }
    /* Nothing can spill when the first zone with servers keeps everything:
     * what follows would draw exactly what zone_pool_pick() draws
     * (test_balance), only after a loop of no use. Most countries take this. */
    if (!keep || home == n_walk || keep->keep[walk[home]][zone_bal_family(family)] >= 1)
        return zone_pool_pick(pool, family, quarter, walk, n_walk, want, rng, out);
    /* Where each record starts (one draw per record), then the zones in walk
     * order, each drawing the records that start there plus any its
     * predecessors could not give (backfill): the same calls as
     * zone_pool_pick(), so a spilled record costs one draw more, not a walk. */
    size_t starts[ZONE_WALK_MAX] = {0}, target = 0;
    bool backfill = false;
    out->n = 0;
    out->zone = -1;
    out->backfill = false;
    if (want > ZONE_PICK_MAX)
        want = ZONE_PICK_MAX;
    if (n_walk > ZONE_WALK_MAX)
        n_walk = ZONE_WALK_MAX;
    double bound[ZONE_WALK_MAX];
    size_t pos[ZONE_WALK_MAX], n_pos;
    n_pos = sel_bounds(pool, keep, family, walk, n_walk, home, bound, pos);
    for (size_t k = 0; k < want && n_pos; k++) {
        double x = (double)(zone_rng_next(rng) >> 11) * 0x1.0p-53;
        size_t j = 0;
        while (j + 1 < n_pos && x >= bound[j])
            j++;
        starts[pos[j]]++;
        info->spilled |= pos[j] > home;
    }
    for (size_t w = home; w < n_walk && out->n < want; w++) {
        const pool_table_t *t = pool_table(pool, walk[w], family, quarter);
        backfill |= out->n < target; /* an earlier zone ran out */
        target += starts[w];
        if (target > out->n && t && t->n)
            sel_zone(pool, t, walk[w], target, rng, out);
    }
    /* sel_zone() marks any second zone as backfill; here that is spill unless a
     * zone ran out of servers for the records that started in it. */
    out->zone = out->n ? info->home : -1;
    out->backfill = backfill;
    return out->n;
}
