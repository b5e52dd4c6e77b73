/*
 * pool_sign_draw.c - the sets of pool_sign.c drawn and signed: one draw as
 * the unsigned path makes it (zone_pool_pick_keep) with its RRSIGs, the NSEC
 * of each pool name, the first fill spread over threads, the signer thread's
 * round-robin refresh, and the keep fractions the draws follow.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zones/balance.h"
#include "dnssec_int.h"
#include "dnssec/dnssec_pool.h"
#include "pool_sign_int.h"

/* A keep fraction that moved by more than this makes every set stale
 * (dsec_pool_set_keep): smaller moves only steer the next draws. */
#define DSEC_KEEP_DELTA 0.02f

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
 * for NTS names SRV records weighted by zone_srv_weights (pool_answer.c answer_srv). */
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
    /* As answer_pick draws: by the keep fractions where balancing applies. */
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
dsec_set_t *dsec_replace(dsec_pool_t *p, zone_rng_t *rng, size_t pos, uint32_t now)
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

int dsec_pool_fill(dsec_pool_t *p, uint32_t now)
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
