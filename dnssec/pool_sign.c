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
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zones/balance.h"
#include "dnssec_int.h"
#include "dnssec/dnssec_pool.h"

/* A keep fraction that moved by more than this makes every set stale
 * (dsec_pool_set_keep): smaller moves only steer the next draws. */
#define DSEC_KEEP_DELTA 0.02f

/* Walk keys per family and quarter (-1..3), and for NTS SRV names. */
#define DSEC_FQ 11
/* Slots per name: A, AAAA, SRV (NTS names: zones.h ZONE_NTS). */
#define DSEC_KINDS 3
/* Map index: (country + 1) * 9 + (continent + 1); continents are ids 1..7. */
#define DSEC_MAP_W 9
#define DSEC_MAP_N ((ZONE_ID_MAX + 1) * DSEC_MAP_W)

typedef struct dsec_walk {
    int z[3];
    uint8_t n;
} dsec_walk_t;

typedef struct dsec_slot {
    _Atomic(dsec_set_t *) set[DSEC_SETS];
    _Atomic uint32_t expiry[DSEC_SETS];
    uint32_t name;  /* index of the owner in the static name table */
    uint8_t family; /* 4, 6 or ZONE_NTS */
    int8_t quarter;
    dsec_walk_t walk;
} dsec_slot_t;

struct dsec_pool {
    const dsec_zone_t *z;
    const zone_pool_t *pool;
    unsigned answers, srv_answers;
    uint32_t ttl;
    size_t n_names;
    int32_t *base;          /* [name * DSEC_KINDS + dsec_kind()]: first slot, or -1 */
    uint16_t *map[DSEC_FQ]; /* (country, continent) -> walk key index */
    dsec_walk_t *keys[DSEC_FQ];
    size_t n_keys[DSEC_FQ];
    dsec_slot_t *slots;
    size_t n_slots;
    _Atomic(dsec_set_t *) *nsec; /* per name: NSEC + RRSIGs; NULL unless a pool name */
    _Atomic uint32_t *nsec_exp;
    size_t cursor;        /* next set to replace: slot * DSEC_SETS + set */
    zone_rng_t rng;       /* the signer's draws; only one thread refreshes */
    zone_keep_t keep;     /* the keep fractions draws follow (signer's copy) */
    bool has_keep;        /* false: the plain walk (balancing off, not solved) */
    bool keep_fixed;      /* fixed-zone names follow them too */
    size_t stale;         /* sets drawn under older keep fractions, at most */
    _Atomic size_t bytes; /* memory of the sets, for status */
};

static int dsec_fq(int family, int quarter)
{
    return family == ZONE_NTS ? 10 : (family == 6) * 5 + quarter + 1;
}

static int dsec_kind(int family)
{
    return family == ZONE_NTS ? 2 : family == 6;
}

/* Records per answer: SRV answers have their own count. */
static unsigned dsec_want(const dsec_pool_t *p, int family)
{
    return family == ZONE_NTS ? p->srv_answers : p->answers;
}

static bool dsec_has_slots(const dsec_pool_t *p, size_t name)
{
    for (int k = 0; k < DSEC_KINDS; k++)
        if (p->base[name * DSEC_KINDS + k] >= 0)
            return true;
    return false;
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
            size_t n = zone_walk_geo(c, t, walk); /* as ans_locate makes it */
            dsec_walk_t e = dsec_effective(p->pool, family, quarter, walk, n);
            memset(&e.z[e.n], 0xff, sizeof(int) * (3 - e.n)); /* -1: one key per walk */
            p->map[fq][(c + 1) * DSEC_MAP_W + (t + 1)] =
                (uint16_t)dsec_key_index(p, fq, e);
        }
    }
    return 0;
}

/* TYPE CLASS TTL RDLENGTH of one record at r; returns r + 10. */
static uint8_t *dsec_rr_head(uint8_t *r, uint16_t type, uint32_t ttl, size_t rdlen)
{
    r[0] = (uint8_t)(type >> 8), r[1] = (uint8_t)type, r[2] = 0, r[3] = 1;
    r[4] = (uint8_t)(ttl >> 24), r[5] = (uint8_t)(ttl >> 16);
    r[6] = (uint8_t)(ttl >> 8), r[7] = (uint8_t)ttl;
    r[8] = (uint8_t)(rdlen >> 8), r[9] = (uint8_t)rdlen;
    return r + 10;
}

/* The records of a pick, as the unsigned writer makes them: A or AAAA, or
 * for NTS names SRV records weighted by zone_srv_weights (pool_answer.c ans_srv). */
static size_t dsec_records(const dsec_pool_t *p, const dsec_slot_t *s,
                           const zone_pick_t *pick, uint8_t *buf, uint16_t *type)
{
    size_t len = 0, alen = s->family == 4 ? 4 : 16;
    uint16_t w[ZONE_PICK_MAX];
    uint8_t rd[6 + 255];

    *type = s->family == ZONE_NTS ? DSEC_TYPE_SRV : s->family == 4 ? 1 : 28;
    if (s->family == ZONE_NTS)
        zone_srv_weights(pick->weight, pick->n, w);
    for (size_t i = 0; i < pick->n; i++) {
        size_t rdlen = alen;
        const uint8_t *rdata = pick->srv[i]->addr;
        if (s->family == ZONE_NTS) {
            rdlen = zone_srv_rdata(zone_pool_snapshot(p->pool), pick->srv[i], w[i], rd);
            rdata = rd;
        }
        memcpy(dsec_rr_head(buf + len, *type, p->ttl, rdlen), rdata, rdlen);
        len += 10 + rdlen;
    }
    return len;
}

/* One draw, signed: A/AAAA (or SRV) records then RRSIGs, each without owner. */
static dsec_set_t *dsec_set_new(dsec_pool_t *p, zone_rng_t *rng, const dsec_slot_t *s,
                                uint32_t now, uint32_t *expiry)
{
    const uint8_t *owner;
    size_t olen;
    zone_pick_t pick;
    uint8_t buf[ZONE_PICK_MAX * (10 + 6 + 255)];
    uint16_t type;
    zone_rrset_t sig;
    dsec_arena_t tmp = {0};
    zone_pick_info_t info;
    const zone_node_t *node = zone_static_name_at(p->z->stat, s->name, &owner, &olen);
    bool fixed =
        node->pool_kind == ZONE_POOL_FIXED || node->pool_kind == ZONE_POOL_NTS_FIXED;
    /* As ans_pick draws: by the keep fractions where balancing applies. */
    const zone_keep_t *keep = p->has_keep && (!fixed || p->keep_fixed) ? &p->keep : NULL;

    zone_pool_pick_keep(p->pool, s->family, s->quarter, s->walk.z, s->walk.n,
                        dsec_want(p, s->family), keep, rng, &pick, &info);
    size_t len = dsec_records(p, s, &pick, buf, &type);
    dsec_rrset_in_t in = {owner, olen, type, p->ttl, buf, len, (uint16_t)pick.n};
    *expiry = UINT32_MAX;
    if (pick.n == 0 || dsec_sign_set(p->z, &tmp, &in, false, now, &sig, expiry) != 0) {
        dsec_arena_free(&tmp);
        return NULL;
    }
    dsec_set_t *set = malloc(sizeof *set + len + sig.len);
    if (set) {
        memcpy(set->bytes, buf, len);
        memcpy(set->bytes + len, sig.wire, sig.len);
        set->rrs = (zone_rrset_t){type, (uint16_t)(pick.n + sig.count),
                                  (uint32_t)(len + sig.len), set->bytes};
        set->zone = (int16_t)pick.zone;
        set->backfill = pick.backfill;
        set->home = (int16_t)info.home;
        set->spilled = info.spilled;
        atomic_fetch_add(&p->bytes, sizeof *set + len + sig.len);
    }
    dsec_arena_free(&tmp);
    return set;
}

void dsec_set_free(dsec_set_t *set)
{
    free(set);
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

/* The NODATA NSEC of pool name `i` (static types plus the A/AAAA it
 * serves) and its RRSIGs, as one blob; NULL for other names. */
static dsec_set_t *dsec_nsec_new(dsec_pool_t *p, size_t i, uint32_t now, uint32_t *expiry)
{
    const uint8_t *o;
    size_t l;
    const zone_node_t *node = zone_static_name_at(p->z->stat, i, &o, &l);
    uint16_t t[130];
    zone_rrset_t nsec, sig;
    dsec_arena_t tmp = {0};
    dsec_set_t *set = NULL;

    *expiry = UINT32_MAX;
    if (!dsec_has_slots(p, i))
        return NULL;
    size_t n = dsec_node_types(p->z->stat, node, t, 127);
    if (p->base[i * DSEC_KINDS] >= 0)
        t[n++] = 1;
    if (p->base[i * DSEC_KINDS + 1] >= 0)
        t[n++] = 28;
    if (p->base[i * DSEC_KINDS + 2] >= 0)
        t[n++] = DSEC_TYPE_SRV;
    if (dsec_nsec_signed(p->z, &tmp, o, l, t, n, now, &nsec, &sig, expiry) == 0 &&
        (set = malloc(sizeof *set + nsec.len + sig.len))) {
        memcpy(set->bytes, nsec.wire, nsec.len);
        memcpy(set->bytes + nsec.len, sig.wire, sig.len);
        set->rrs = (zone_rrset_t){DSEC_TYPE_NSEC, (uint16_t)(1 + sig.count),
                                  nsec.len + sig.len, set->bytes};
        set->zone = set->home = -1;
        set->backfill = set->spilled = false;
        atomic_fetch_add(&p->bytes, sizeof *set + set->rrs.len);
    }
    dsec_arena_free(&tmp);
    return set;
}

/* Replaces set `pos` of the refresh order: the answer sets of every slot,
 * then the NSEC of every name. Returns the old one (NULL: none), or
 * (dsec_set_t *)-1 when signing failed. */
static dsec_set_t *dsec_replace(dsec_pool_t *p, zone_rng_t *rng, size_t pos, uint32_t now)
{
    uint32_t exp;
    dsec_set_t *set, *old;
    size_t sets = p->n_slots * DSEC_SETS;

    if (pos < sets) {
        dsec_slot_t *s = &p->slots[pos / DSEC_SETS];
        if (!(set = dsec_set_new(p, rng, s, now, &exp)))
            return (dsec_set_t *)-1;
        old = atomic_exchange(&s->set[pos % DSEC_SETS], set);
        atomic_store(&s->expiry[pos % DSEC_SETS], exp);
    } else {
        size_t i = pos - sets;
        if (!dsec_has_slots(p, i))
            return NULL;
        if (!(set = dsec_nsec_new(p, i, now, &exp)))
            return (dsec_set_t *)-1;
        old = atomic_exchange(&p->nsec[i], set);
        atomic_store(&p->nsec_exp[i], exp);
    }
    if (old)
        atomic_fetch_sub(&p->bytes, sizeof *old + old->rrs.len);
    return old;
}

/* The first signing of a pool is what a push waits for, so it is spread over
 * up to DSEC_FILL_THREADS threads (one per CPU), each with its own random
 * stream drawn from the pool's (fixed seed: the same sets for a given seed
 * and thread count). */
#define DSEC_FILL_THREADS 8

typedef struct dsec_fill {
    dsec_pool_t *p;
    zone_rng_t rng;
    size_t first, step;
    uint32_t now;
    int rc;
    pthread_t thread;
} dsec_fill_t;

/* Set 0 of every slot and every NSEC: what a new pool must have before it is
 * served. The other sets of a slot are filled by the signer thread's first
 * round (dsec_pool_refresh); until then queries read set 0 in their place,
 * each still an exact weighted draw - only fewer different ones for a while.
 * That cuts the signing a push waits for by DSEC_SETS. */
static void *dsec_fill_main(void *arg)
{
    dsec_fill_t *f = arg;
    size_t sets = f->p->n_slots, total = sets + f->p->n_names;
    for (size_t k = f->first; k < total && f->rc == 0; k += f->step) {
        size_t pos = k < sets ? k * DSEC_SETS : f->p->n_slots * DSEC_SETS + (k - sets);
        if (dsec_replace(f->p, &f->rng, pos, f->now) == (dsec_set_t *)-1)
            f->rc = -1;
    }
    return NULL;
}

static int dsec_pool_fill(dsec_pool_t *p, uint32_t now)
{
    dsec_fill_t f[DSEC_FILL_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus < 1 ? 1 : cpus > DSEC_FILL_THREADS ? DSEC_FILL_THREADS : (size_t)cpus;
    size_t started = 0;
    int rc = 0;

    for (size_t t = 0; t < n; t++) {
        f[t] = (dsec_fill_t){.p = p, .first = t, .step = n, .now = now};
        zone_rng_seed(&f[t].rng, zone_rng_next(&p->rng));
    }
    /* Thread 0 is this one; a thread that cannot start leaves its share to
     * a second pass here. */
    for (size_t t = 1; t < n; t++)
        if (pthread_create(&f[t].thread, NULL, dsec_fill_main, &f[t]) == 0)
            started |= (size_t)1 << t;
    dsec_fill_main(&f[0]);
    for (size_t t = 1; t < n; t++) {
        if (started & ((size_t)1 << t))
            pthread_join(f[t].thread, NULL);
        else
            dsec_fill_main(&f[t]);
        rc |= f[t].rc;
    }
    return rc | f[0].rc;
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

size_t dsec_pool_refresh(dsec_pool_t *p, size_t n, uint32_t now, dsec_set_t **retired,
                         size_t *n_retired)
{
    size_t done = 0, total = p->n_slots * DSEC_SETS + p->n_names;

    *n_retired = 0;
    for (; done < n && total; done++) {
        dsec_set_t *old = dsec_replace(p, &p->rng, p->cursor, now);
        if (old == (dsec_set_t *)-1)
            break;
        if (old)
            retired[(*n_retired)++] = old;
        p->cursor = (p->cursor + 1) % total;
    }
    p->stale = p->stale > done ? p->stale - done : 0;
    return done;
}

/* Whether a and b (NULL: no balancing) would draw materially differently. */
static bool dsec_keep_moved(const zone_keep_t *a, const zone_keep_t *b)
{
    for (int z = 0; z < ZONE_ID_MAX; z++)
        for (int f = 0; f < ZONE_BAL_FAMILIES; f++) {
            float x = a ? a->keep[z][f] : 1, y = b ? b->keep[z][f] : 1;
            if (x - y > DSEC_KEEP_DELTA || y - x > DSEC_KEEP_DELTA)
                return true;
        }
    return false;
}

bool dsec_pool_set_keep(dsec_pool_t *p, const zone_keep_t *keep, bool fixed)
{
    bool moved =
        fixed != p->keep_fixed || dsec_keep_moved(p->has_keep ? &p->keep : NULL, keep);
    p->has_keep = keep != NULL;
    p->keep_fixed = fixed;
    if (keep)
        p->keep = *keep;
    if (moved)
        p->stale = dsec_pool_sets(p);
    return moved;
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
