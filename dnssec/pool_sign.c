/*
 * pool_sign.c - signed pool answers at the cost of unsigned ones.
 *
 * A pool answer is a random weighted draw per query, and signing one costs
 * far more than answering it. So the draws are made ahead: for every pool
 * name, family and "effective walk" (below) there is a slot of DSEC_SETS
 * answer sets, each one exact weighted sample without replacement made by
 * zone_pool_pick_keep() with the keep fractions served when it is drawn -
 * the very selection the unsigned path makes (docs/balancing.md) - and signed
 * with the zone's keys. A query with the DO bit picks one set of its slot
 * uniformly at random and copies its bytes. The signer thread keeps
 * replacing sets with fresh draws (dsec_pool_refresh), so over time every
 * set is an independent draw from the live distribution: each server's
 * long-run inclusion rate equals the unsigned one's (tests/unit/test_dnssec.c
 * checks it within 2%).
 *
 * The effective walk: a client's walk is country -> continent -> "@"; the
 * draw only depends on the zones of it that have eligible servers (a spilled
 * slot may start at any of them, so none is cut off). So
 * all clients of the ~250 countries map to far fewer walks - one per country
 * with servers, per continent and "@" at most - and only those are signed.
 * A table indexed by (country, continent) gives a query its walk in O(1).
 *
 * This file lays the slots out and serves the reads of the query path;
 * pool_sign_draw.c draws, signs and replaces their sets.
 */
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"
#include "dnssec/dnssec_pool.h"
#include "pool_sign_int.h"

/* Map index: (country + 1) * 9 + (continent + 1); continents are ids 1..7. */
#define DSEC_MAP_W 9
#define DSEC_MAP_N ((ZONE_ID_MAX + 1) * DSEC_MAP_W)

static int dsec_fq(int family, int quarter)
{
    return family == ZONE_NTS ? 10 : (family == 6) * 5 + quarter + 1;
}

static int dsec_kind(int family)
{
    return family == ZONE_NTS ? 2 : family == 6;
}

/* The zones of `walk` that a draw can reach (see the file comment): all
 * that have servers, since a keep fraction below 1 sends slots past a zone
 * that could fill the whole answer. */
static dsec_walk_t dsec_effective(const zone_pool_t *pool, int family, int quarter,
                                  const int *walk, size_t n_walk)
{
    dsec_walk_t e = {{-1, -1, -1}, 0};
    for (size_t i = 0; i < n_walk && e.n < 3; i++)
        if (zone_pool_members(pool, walk[i], family, quarter, NULL, 0) > 0)
            e.z[e.n++] = walk[i];
    return e;
}

static int dsec_key_index(dsec_pool_t *p, int fq, dsec_walk_t w)
{
    for (size_t k = 0; k < p->n_keys[fq]; k++)
        if (!memcmp(&p->keys[fq][k], &w, sizeof w))
            return (int)k;
    p->keys[fq][p->n_keys[fq]] = w;
    return (int)p->n_keys[fq]++;
}

/* Every (country, continent) pair a query can bring -> its walk key. */
static int dsec_build_map(dsec_pool_t *p, int family, int quarter)
{
    int fq = dsec_fq(family, quarter), n_ids = zone_id_count();
    if (!(p->map[fq] = calloc(DSEC_MAP_N, sizeof *p->map[fq])) ||
        !(p->keys[fq] = calloc(DSEC_MAP_N, sizeof *p->keys[fq])))
        return -1;
    for (int c = -1; c < n_ids; c++) {
        if (c >= 0 && !zone_id_is_country(c))
            continue;
        for (int t = -1; t < DSEC_MAP_W - 1; t++) {
            int walk[3];
            if (t == 0)
                continue;
            size_t n = zone_walk_geo(c, t, walk); /* as answer_locate makes it */
            dsec_walk_t e = dsec_effective(p->pool, family, quarter, walk, n);
            memset(&e.z[e.n], 0xff, sizeof(int) * (3 - e.n)); /* -1: one key per walk */
            p->map[fq][(c + 1) * DSEC_MAP_W + (t + 1)] =
                (uint16_t)dsec_key_index(p, fq, e);
        }
    }
    return 0;
}

/* Whether a pool name answers `family` at all (DESIGN.md "AAAA"), and has a
 * server for it: every walk ends at "@", so "@" decides. */
static bool dsec_serves(const dsec_pool_t *p, const zone_node_t *node, int family,
                        bool all6)
{
    bool nts =
        node->pool_kind == ZONE_POOL_NTS_GEO || node->pool_kind == ZONE_POOL_NTS_FIXED;
    bool pool = node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_FIXED;

    if (nts != (family == ZONE_NTS) || (!nts && !pool))
        return false;
    if (family == 6 && !all6 && node->quarter != 2)
        return false;
    return zone_pool_members(p->pool, ZONE_GLOBAL, family, node->quarter, NULL, 0) > 0;
}

/* Counts the slots (pass 1, slots NULL) or fills them (pass 2). */
static size_t dsec_layout(dsec_pool_t *p, bool all6, bool fill)
{
    const uint8_t *o;
    size_t l, n = 0;
    const zone_node_t *node;

    static const int fams[DSEC_KINDS] = {4, 6, ZONE_NTS};

    for (size_t i = 0; (node = zone_static_name_at(p->z->stat, i, &o, &l)); i++) {
        bool fixed =
            node->pool_kind == ZONE_POOL_FIXED || node->pool_kind == ZONE_POOL_NTS_FIXED;
        for (int fi = 0; fi < DSEC_KINDS; fi++) {
            int f = fams[fi];
            if (fill)
                p->base[i * DSEC_KINDS + fi] = -1;
            if (!dsec_serves(p, node, f, all6))
                continue;
            int fq = dsec_fq(f, node->quarter);
            size_t k = fixed ? 1 : p->n_keys[fq];
            if (fill) {
                p->base[i * DSEC_KINDS + fi] = (int32_t)n;
                for (size_t j = 0; j < k; j++) {
                    dsec_slot_t *s = &p->slots[n + j];
                    int walk[3];
                    size_t nw = fixed ? zone_walk(node->pool_zone, walk) : 0;
                    s->name = (uint32_t)i;
                    s->family = (uint8_t)f;
                    s->quarter = node->quarter;
                    s->walk = fixed ? dsec_effective(p->pool, f, node->quarter, walk, nw)
                                    : p->keys[fq][j];
                }
            }
            n += k;
        }
    }
    return n;
}

dsec_pool_t *dsec_pool_new(const dsec_zone_t *z, const zone_pool_t *pool,
                           const dsec_pool_opts_t *opts, uint32_t now, uint64_t seed)
{
    dsec_pool_t *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    *p = (dsec_pool_t){.z = z,
                       .pool = pool,
                       .answers = opts->answers,
                       .srv_answers = opts->srv_answers,
                       .ttl = opts->ttl};
    dsec_pool_set_keep(p, opts->keep, opts->keep_fixed);
    p->stale = 0; /* the first draws below follow it */
    p->n_names = zone_static_name_count(z->stat);
    if (seed)
        zone_rng_seed(&p->rng, seed);
    else if (zone_rng_seed_os(&p->rng) != 0)
        goto fail;
    for (int f = 4; f <= 6; f += 2)
        for (int q = -1; q < 4; q++)
            if (dsec_build_map(p, f, q) != 0)
                goto fail;
    if (dsec_build_map(p, ZONE_NTS, -1) != 0)
        goto fail;
    p->base = malloc((p->n_names * DSEC_KINDS + 1) * sizeof *p->base);
    p->nsec = calloc(p->n_names + 1, sizeof *p->nsec);
    p->nsec_exp = calloc(p->n_names + 1, sizeof *p->nsec_exp);
    if (!p->base || !p->nsec || !p->nsec_exp)
        goto fail;
    p->n_slots = dsec_layout(p, opts->aaaa_all, false);
    if (!(p->slots = calloc(p->n_slots + 1, sizeof *p->slots)))
        goto fail;
    dsec_layout(p, opts->aaaa_all, true);
    if (dsec_pool_fill(p, now) != 0)
        goto fail;
    return p;
fail:
    dsec_pool_free(p);
    return NULL;
}

void dsec_pool_free(dsec_pool_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->slots && i < p->n_slots; i++)
        for (size_t j = 0; j < DSEC_SETS; j++)
            free(atomic_load(&p->slots[i].set[j]));
    for (size_t i = 0; p->nsec && i < p->n_names; i++)
        free(atomic_load(&p->nsec[i]));
    for (int fq = 0; fq < DSEC_FQ; fq++) {
        free(p->map[fq]);
        free(p->keys[fq]);
    }
    free(p->slots);
    free(p->base);
    free(p->nsec);
    free(p->nsec_exp);
    free(p);
}

size_t dsec_pool_stale(const dsec_pool_t *p)
{
    return p->stale;
}

size_t dsec_pool_sets(const dsec_pool_t *p)
{
    return p->n_slots * DSEC_SETS + p->n_names;
}

size_t dsec_pool_bytes(const dsec_pool_t *p)
{
    return atomic_load(&p->bytes);
}

uint32_t dsec_pool_expiry(const dsec_pool_t *p)
{
    uint32_t min = UINT32_MAX;
    for (size_t i = 0; i < p->n_slots; i++)
        for (size_t j = 0; j < DSEC_SETS; j++) {
            uint32_t e =
                atomic_load_explicit(&p->slots[i].expiry[j], memory_order_relaxed);
            min = e && e < min ? e : min; /* 0: not drawn yet */
        }
    for (size_t i = 0; i < p->n_names; i++) {
        uint32_t e = atomic_load_explicit(&p->nsec_exp[i], memory_order_relaxed);
        min = e && e < min ? e : min;
    }
    return min;
}

/* The slot a query of `family` at name `name` from (country, continent)
 * reads; NULL when there is none. */
static dsec_slot_t *dsec_slot_of(const dsec_pool_t *p, size_t name, int family,
                                 int country, int continent)
{
    if (name >= p->n_names)
        return NULL;
    int32_t base = p->base[name * DSEC_KINDS + dsec_kind(family)];
    const zone_node_t *node;
    const uint8_t *o;
    size_t l;

    if (base < 0)
        return NULL;
    node = zone_static_name_at(p->z->stat, name, &o, &l);
    if (node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_NTS_GEO) {
        if (country < -1 || country >= ZONE_ID_MAX || continent < -1 || continent > 7)
            return NULL;
        base += p->map[dsec_fq(family, node->quarter)]
                      [(country + 1) * DSEC_MAP_W + (continent + 1)];
    }
    return &p->slots[base];
}

const dsec_set_t *dsec_pool_answer(const dsec_pool_t *p, size_t name, int family,
                                   int country, int continent, zone_rng_t *rng)
{
    const dsec_slot_t *s = dsec_slot_of(p, name, family, country, continent);
    if (!s)
        return NULL;
    const dsec_set_t *set = atomic_load_explicit(&s->set[zone_rng_below(rng, DSEC_SETS)],
                                                 memory_order_acquire);
    /* Not drawn yet (a new pool's first round): set 0 always is. */
    return set ? set : atomic_load_explicit(&s->set[0], memory_order_acquire);
}

size_t dsec_pool_redraw(dsec_pool_t *p, size_t name, int family, int country,
                        int continent, uint32_t now, dsec_set_t **retired)
{
    dsec_slot_t *s = dsec_slot_of(p, name, family, country, continent);
    size_t n = 0;
    for (size_t j = 0; s && j < DSEC_SETS; j++) {
        dsec_set_t *old =
            dsec_replace(p, &p->rng, (size_t)(s - p->slots) * DSEC_SETS + j, now);
        if (old == (dsec_set_t *)-1)
            break;
        if (old)
            retired[n++] = old;
    }
    return n;
}

const zone_rrset_t *dsec_pool_nsec(const dsec_pool_t *p, size_t name)
{
    const dsec_set_t *set;
    if (!p || name >= p->n_names ||
        !(set = atomic_load_explicit(&p->nsec[name], memory_order_acquire)))
        return NULL;
    return &set->rrs;
}
