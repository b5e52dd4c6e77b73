/*
 * balance_int.h - what the two halves of the balancer share (not installed):
 * the problem, its membership sets and answer tables (balance_model.c), and
 * the solver that works on them (balance.c).
 */
#ifndef DNSD_BALANCE_INT_H
#define DNSD_BALANCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/balance.h"

/* Zones of a set besides the root: zone_bal_add() takes at most 8. */
#define BAL_SET_ZONES 8

/* Servers with the same zones, in the same quarter of each, share one
 * constraint: sum over their zones of c x r <= R, where c corrects for the
 * quarter: numbered names draw 1/4 of a zone's load from each quarter, so a
 * server in a light quarter carries W_z / (4 W_zq) times the zone's r. */
typedef struct bal_set {
    uint16_t zone[BAL_SET_ZONES]; /* ascending, root excluded */
    int8_t q[BAL_SET_ZONES];      /* quarter in each, -1 for none */
    int8_t q0;                    /* quarter in the root */
    uint8_t n;
    uint8_t used;
    float c[BAL_SET_ZONES]; /* quarter corrections, set by bal_pack() */
    float c0;
} bal_set_t;

struct zone_bal {
    int n_zones, max_depth;
    int *next, *depth;
    int *order;      /* zones, deepest first */
    double *w;       /* weight per zone; w[0] is the total */
    double (*wq)[4]; /* weight per zone and quarter */
    bal_set_t *sets; /* open-addressed hash table */
    size_t cap, n_sets;
    /* solver scratch, n_zones each */
    double *k, *f_in, *load, *r, *rfull, *allowed;
    double *slot_cap;     /* per zone: the share of slots it can serve at keep 1 */
    uint8_t (*tables)[5]; /* per zone: answers, then up to 4 table sizes (0: none) */
    bal_set_t *dense;     /* the sets, packed, for the solver's loops */
    size_t n_dense;
    double *budget; /* per dense set */
};

/* Packs the hash table's sets into one array (after servers were added). */
int bal_pack(zone_bal_t *b);

/* The keep fraction per slot that makes zone z serve `served` of the slots
 * reaching it (bal_served inverted by bisection; it grows with k). */
double bal_slot_keep(const zone_bal_t *b, int z, double served);

#endif
