/*
 * balance_model.c - the balancer's problem (docs/balancing.md "Model"): the
 * zones and their walk, the servers folded into membership sets (servers with
 * the same zones and quarters share one constraint), the quarter corrections,
 * and the answer tables whose backfill s_z(k) the solver (balance.c) works in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "balance_int.h"

static uint64_t bal_hash(const bal_set_t *s)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ s->n ^ ((uint64_t)(uint8_t)s->q0 << 8);
    for (size_t i = 0; i < s->n; i++)
        h = (h ^ s->zone[i] ^ ((uint64_t)(uint8_t)s->q[i] << 16)) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static bool bal_same(const bal_set_t *a, const bal_set_t *b)
{
    return a->n == b->n && a->q0 == b->q0 &&
           !memcmp(a->zone, b->zone, a->n * sizeof *a->zone) && !memcmp(a->q, b->q, a->n);
}

static int bal_grow(zone_bal_t *b)
{
    size_t cap = b->cap ? b->cap * 2 : 256;
    bal_set_t *sets = calloc(cap, sizeof *sets);

    if (!sets)
        return -1;
    for (size_t i = 0; i < b->cap; i++) {
        if (!b->sets[i].used)
            continue;
        size_t h = bal_hash(&b->sets[i]) & (cap - 1);
        while (sets[h].used)
            h = (h + 1) & (cap - 1);
        sets[h] = b->sets[i];
    }
    free(b->sets);
    b->sets = sets;
    b->cap = cap;
    return 0;
}

zone_bal_t *zone_bal_new(int n_zones, const int *next)
{
    zone_bal_t *b = calloc(1, sizeof *b);
    size_t n = (size_t)(n_zones > 0 ? n_zones : 1);

    if (!b || n_zones <= 0 || n_zones > ZONE_ID_MAX)
        goto fail;
    b->n_zones = n_zones;
    b->next = malloc(n * sizeof *b->next);
    b->depth = calloc(n, sizeof *b->depth);
    b->order = malloc(n * sizeof *b->order);
    b->w = calloc(n, sizeof *b->w);
    b->wq = calloc(n, sizeof *b->wq);
    double **scratch[] = {&b->k,     &b->f_in,    &b->load,    &b->r,
                          &b->rfull, &b->allowed, &b->slot_cap};
    for (size_t i = 0; i < sizeof scratch / sizeof *scratch; i++)
        if (!(*scratch[i] = calloc(n, sizeof(double))))
            goto fail;
    b->tables = calloc(n, sizeof *b->tables);
    if (!b->next || !b->depth || !b->order || !b->w || !b->wq || !b->tables ||
        bal_grow(b) < 0)
        goto fail;
    for (size_t z = 0; z < n; z++)
        b->slot_cap[z] = 1;
    memcpy(b->next, next, n * sizeof *next);
    b->next[0] = -1;
    for (int z = 1; z < n_zones; z++) {
        /* Walks end at the root; a bad or cyclic `next` is cut there. */
        int d = 0;
        for (int y = z; y > 0 && d <= n_zones; y = b->next[y]) {
            if (b->next[y] < 0 || b->next[y] >= n_zones)
                b->next[y] = 0;
            d++;
        }
        b->depth[z] = d > n_zones ? 1 : d;
        if (d > n_zones)
            b->next[z] = 0;
        if (b->depth[z] > b->max_depth)
            b->max_depth = b->depth[z];
    }
    size_t at = 0;
    for (int d = b->max_depth; d >= 0; d--)
        for (int z = 0; z < n_zones; z++)
            if (b->depth[z] == d)
                b->order[at++] = z;
    return b;
fail:
    zone_bal_free(b);
    return NULL;
}

void zone_bal_free(zone_bal_t *b)
{
    if (!b)
        return;
    free(b->next);
    free(b->depth);
    free(b->order);
    free(b->w);
    free(b->wq);
    free(b->sets);
    free(b->k);
    free(b->f_in);
    free(b->load);
    free(b->r);
    free(b->rfull);
    free(b->allowed);
    free(b->slot_cap);
    free(b->tables);
    free(b->budget);
    free(b->dense);
    free(b);
}

/* A server's set as zone_bal_add() takes it: the root's quarter in q0, the
 * other zones ascending without duplicates, at most BAL_SET_ZONES of them.
 * -1 when a zone or quarter is out of range. */
static int bal_key(const zone_bal_t *b, const int *zones, const int *quarters, size_t n,
                   bal_set_t *key)
{
    for (size_t i = 0; i < n; i++) {
        int q = quarters ? quarters[i] : -1;
        if (zones[i] < 0 || zones[i] >= b->n_zones || q < -1 || q > 3)
            return -1;
        if (zones[i] == 0) {
            key->q0 = (int8_t)q;
            continue;
        }
        size_t j = key->n;
        bool dup = false;
        for (size_t x = 0; x < key->n; x++)
            dup |= key->zone[x] == zones[i];
        if (dup || key->n == BAL_SET_ZONES)
            continue;
        while (j > 0 && key->zone[j - 1] > zones[i]) { /* keep ascending */
            key->zone[j] = key->zone[j - 1];
            key->q[j] = key->q[j - 1];
            j--;
        }
        key->zone[j] = (uint16_t)zones[i];
        key->q[j] = (int8_t)q;
        key->n++;
    }
    return 0;
}

int zone_bal_add(zone_bal_t *b, uint64_t weight, const int *zones, const int *quarters,
                 size_t n)
{
    bal_set_t key = {.q0 = -1};

    if (weight == 0)
        return 0;
    if (bal_key(b, zones, quarters, n, &key) < 0)
        return -1;
    if ((b->n_sets + 1) * 2 > b->cap && bal_grow(b) < 0)
        return -1;
    size_t h = bal_hash(&key) & (b->cap - 1);
    while (b->sets[h].used && !bal_same(&b->sets[h], &key))
        h = (h + 1) & (b->cap - 1);
    if (!b->sets[h].used) {
        b->sets[h] = key;
        b->sets[h].used = 1;
        b->n_sets++;
    }
    b->n_dense = (size_t)-1; /* pack again before solving */
    b->w[0] += (double)weight;
    if (key.q0 >= 0)
        b->wq[0][key.q0] += (double)weight;
    for (size_t i = 0; i < key.n; i++) {
        b->w[key.zone[i]] += (double)weight;
        if (key.q[i] >= 0)
            b->wq[key.zone[i]][key.q[i]] += (double)weight;
    }
    return 0;
}

/* The quarter correction: how much more than the zone's r a server in
 * quarter q carries when numbered names spread the zone's load evenly over
 * its quarters. Never below 1: names without a number draw from the whole
 * zone, so a heavy quarter is not taken to relieve its servers. */
static double bal_quarter_c(const zone_bal_t *b, int z, int q)
{
    double wq = q >= 0 ? b->wq[z][q] : 0;
    return wq > 0 ? fmax(1, b->w[z] / (4 * wq)) : 1;
}

/* Packs the hash table's sets into one array (after servers were added). */
int bal_pack(zone_bal_t *b)
{
    bal_set_t *dense = malloc((b->n_sets + 1) * sizeof *dense);
    double *budget = malloc((b->n_sets + 1) * sizeof *budget);

    if (!dense || !budget) {
        free(dense);
        free(budget);
        return -1;
    }
    free(b->dense);
    free(b->budget);
    b->dense = dense;
    b->budget = budget;
    b->n_dense = 0;
    for (size_t i = 0; i < b->cap; i++)
        if (b->sets[i].used)
            b->dense[b->n_dense++] = b->sets[i];
    for (size_t i = 0; i < b->n_dense; i++) {
        bal_set_t *s = &b->dense[i];
        s->c0 = (float)bal_quarter_c(b, 0, s->q0);
        for (size_t j = 0; j < s->n; j++)
            s->c[j] = (float)bal_quarter_c(b, s->zone[j], s->q[j]);
    }
    return 0;
}

/* E[min(Binomial(A, k), n)] / A averaged over the zone's tables: the share
 * of an answer's slots a zone serves when each slot stays with probability
 * k and the zone's table has n servers. k itself without tables. */
static double bal_served(const zone_bal_t *b, int z, double k)
{
    const uint8_t *t = b->tables[z];
    double sum = 0;
    int A = t[0], n_t = 0;

    if (!A)
        return k;
    for (int i = 1; i <= 4 && t[i]; i++, n_t++)
        for (int j = 1; j <= A; j++) {
            double c = 1; /* C(A, j) */
            for (int m = 1; m <= j; m++)
                c = c * (A - j + m) / m;
            sum += (j < t[i] ? j : t[i]) * c * pow(k, j) * pow(1 - k, A - j);
        }
    return n_t ? sum / (A * n_t) : k;
}

/* The keep fraction per slot that makes zone z serve `served` of the slots
 * reaching it (bal_served inverted by bisection; it grows with k). */
double bal_slot_keep(const zone_bal_t *b, int z, double served)
{
    double lo = 0, hi = 1;

    if (served >= b->slot_cap[z] * (1 - 1e-12))
        return 1;
    for (int i = 0; i < 50; i++) {
        double mid = (lo + hi) / 2;
        if (bal_served(b, z, mid) < served)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

int zone_bal_set_tables(zone_bal_t *b, int zone, unsigned answers, const unsigned *sizes,
                        size_t n)
{
    if (zone < 0 || zone >= b->n_zones || answers < 1 || answers > ZONE_PICK_MAX || n > 4)
        return -1;
    memset(b->tables[zone], 0, sizeof b->tables[zone]);
    b->tables[zone][0] = (uint8_t)answers;
    for (size_t i = 0; i < n; i++)
        b->tables[zone][1 + i] = (uint8_t)(sizes[i] < answers ? sizes[i] : answers);
    b->slot_cap[zone] = 1;
    if (n && !memchr(b->tables[zone] + 1, 0, n))
        b->slot_cap[zone] = bal_served(b, zone, 1);
    else if (n)
        b->slot_cap[zone] = 0; /* an empty table serves nothing */
    return 0;
}
