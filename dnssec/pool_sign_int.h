/*
 * pool_sign_int.h - what the two halves of the signed pool answers share (not
 * installed): the slots, their layout and the reads of the query path
 * (pool_sign.c), and the drawing, signing and replacing of their sets
 * (pool_sign_draw.c).
 */
#ifndef DNSD_POOL_SIGN_INT_H
#define DNSD_POOL_SIGN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/balance.h"
#include "dnssec/dnssec_pool.h"

/* Walk keys per family and quarter (-1..3), and for NTS SRV names. */
#define DSEC_FQ 11
/* Slots per name: A, AAAA, SRV (NTS names: zones.h ZONE_NTS). */
#define DSEC_KINDS 3

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

/* Replaces set `pos` of the refresh order (pool_sign_draw.c): the answer
 * sets of every slot, then the NSEC of every name. Returns the old one
 * (NULL: none), or (dsec_set_t *)-1 when signing failed. */
dsec_set_t *dsec_replace(dsec_pool_t *p, zone_rng_t *rng, size_t pos, uint32_t now);

/* Draws and signs set 0 of every slot and every NSEC, what a new pool must
 * have before it is served, over up to one thread per CPU; 0 or -1. */
int dsec_pool_fill(dsec_pool_t *p, uint32_t now);

#endif
