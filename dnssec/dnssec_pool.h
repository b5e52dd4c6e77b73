/*
 * dnssec_pool.h - signed pool answer sets (pool_sign.c; drawing and signing in
 * pool_sign_draw.c): pre-drawn, signed off the query path, one picked at
 * random per query with the DO bit.
 */
#ifndef DNSD_DNSSEC_POOL_H
#define DNSD_DNSSEC_POOL_H

#include "dnssec/dnssec.h"

/* Sets per slot (pool name, family, effective walk). Eight keeps a
 * resolver's view varied between refreshes at a memory cost of about
 * 8 x 250 bytes per slot (docs/dnssec.md states the totals). */
#define DSEC_SETS 8

/* One signed answer: A/AAAA records then RRSIGs (or an NSEC then RRSIGs),
 * zones.h wire form, owners left to the writer. */
typedef struct dsec_set {
    zone_rrset_t rrs;
    int16_t zone; /* zone_pick_t's zone and backfill, for the counters */
    bool backfill;
    bool spilled; /* zone_pick_info_t's, for the demand and spill counters */
    int16_t home;
    uint8_t bytes[];
} dsec_set_t;

typedef struct dsec_pool dsec_pool_t;
struct zone_keep;

typedef struct dsec_pool_opts {
    unsigned answers;     /* A/AAAA records per set at pool names */
    unsigned srv_answers; /* SRV records per set at NTS names (family ZONE_NTS) */
    uint32_t ttl;
    bool aaaa_all;
    const struct zone_keep *keep; /* keep fractions the first draws follow
                                     (copied; NULL: the plain walk) */
    bool keep_fixed;              /* fixed-zone names follow them too */
} dsec_pool_opts_t;

/*
 * Draws and signs every set for `pool` served with the names of z's static
 * data (both borrowed: they must outlive the result), as the unsigned path
 * draws (zone_pool_pick_keep). seed 0: from the OS; else fixed, for tests.
 * NULL when out of memory or signing failed.
 */
dsec_pool_t *dsec_pool_new(const dsec_zone_t *z, const zone_pool_t *pool,
                           const dsec_pool_opts_t *opts, uint32_t now, uint64_t seed);

/*
 * Signer thread only: the keep fractions the next draws follow (copied;
 * NULL: the plain walk), fixed-zone names too when `fixed`. When a keep
 * fraction moved by more than 0.02 from the last table (or balancing turned
 * on or off), every set is stale: returns true, and dsec_pool_stale() counts
 * the sets to redraw before all follow the new table.
 */
bool dsec_pool_set_keep(dsec_pool_t *p, const struct zone_keep *keep, bool fixed);
size_t dsec_pool_stale(const dsec_pool_t *p);
void dsec_pool_free(dsec_pool_t *p);

/*
 * Signer thread only: replaces the next `n` sets in round-robin order with
 * fresh draws (and, once per round, every pool name's NSEC). The replaced
 * sets go to retired[] (room for n), to be freed with dsec_set_free after a
 * grace period, since queries may still read them. Returns how many were
 * replaced.
 */
size_t dsec_pool_refresh(dsec_pool_t *p, size_t n, uint32_t now, dsec_set_t **retired,
                         size_t *n_retired);
void dsec_set_free(dsec_set_t *set);

/* Sets in one refresh round, their bytes, and the earliest expiry. */
size_t dsec_pool_sets(const dsec_pool_t *p);
size_t dsec_pool_bytes(const dsec_pool_t *p);
uint32_t dsec_pool_expiry(const dsec_pool_t *p);

/*
 * Query path: a signed answer for pool name `name` (zone_static_node_index),
 * family 4, 6 or ZONE_NTS, for a client of `country` and `continent` (zone ids or -1;
 * ignored for fixed zone names), one of the slot's sets at random. NULL when
 * the name serves no such answer (NODATA).
 */
const dsec_set_t *dsec_pool_answer(const dsec_pool_t *p, size_t name, int family,
                                   int country, int continent, zone_rng_t *rng);

/* Redraws the DSEC_SETS sets of the one slot dsec_pool_answer would read
 * (tests, and a slot that must change at once); the old ones go to
 * retired[] (room for DSEC_SETS) as with dsec_pool_refresh. Returns how many. */
size_t dsec_pool_redraw(dsec_pool_t *p, size_t name, int family, int country,
                        int continent, uint32_t now, dsec_set_t **retired);

/* Query path: the NODATA NSEC and RRSIGs of a pool name; NULL for others. */
const zone_rrset_t *dsec_pool_nsec(const dsec_pool_t *p, size_t name);

#endif
