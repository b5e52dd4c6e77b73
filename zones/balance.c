/*
 * balance.c - the keep-fraction solver (docs/balancing.md "Algorithm").
 *
 * Load is counted in draws. A zone z receives F[z] spillable draws (its own
 * demand plus what its children spill) and serves L[z] = keep[z] F[z] +
 * pinned[z] of them; the rest moves to next[z]. Within a zone every draw is
 * proportional to weight, so a server's expected load ratio is the sum, over
 * the zones it is in, of r[z] = (L[z] / D) / (W[z] / W): its weight cancels.
 * Servers with the same zones therefore share one constraint, and the solver
 * works on those membership sets (a few hundred) instead of on servers.
 *
 * Deeper zones (countries) have priority over shallower ones (continents):
 * when a country's budget is computed, continents count as able to yield;
 * the root "@" cannot yield, and every server carries its r["@"] <= 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"

/* Bisection on r["@"] to 1e-10 takes ~34 steps; each costs O(levels x
 * fill passes x sets). Fill passes: a zone held down by one set frees slack
 * in its others, which a pass hands on; a few suffice for the pool's sets. */
#define BAL_BISECT_MAX 60
#define BAL_FILL_PASSES 8
#define BAL_REPAIR_MAX 200
#define BAL_EPS 1e-10
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

int zone_bal_add(zone_bal_t *b, uint64_t weight, const int *zones, const int *quarters,
                 size_t n)
{
    bal_set_t key = {.q0 = -1};

    if (weight == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int q = quarters ? quarters[i] : -1;
        if (zones[i] < 0 || zones[i] >= b->n_zones || q < -1 || q > 3)
            return -1;
        if (zones[i] == 0) {
            key.q0 = (int8_t)q;
            continue;
        }
        size_t j = key.n;
        bool dup = false;
        for (size_t x = 0; x < key.n; x++)
            dup |= key.zone[x] == zones[i];
        if (dup || key.n == BAL_SET_ZONES)
            continue;
        while (j > 0 && key.zone[j - 1] > zones[i]) { /* keep ascending */
            key.zone[j] = key.zone[j - 1];
            key.q[j] = key.q[j - 1];
            j--;
        }
        key.zone[j] = (uint16_t)zones[i];
        key.q[j] = (int8_t)q;
        key.n++;
    }
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

typedef struct bal_run {
    zone_bal_t *b;
    const double *d, *e; /* spillable and pinned demand */
    double D, R;
} bal_run_t;

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
static int bal_pack(zone_bal_t *b)
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

static double bal_pinned(const bal_run_t *x, int z)
{
    return x->e ? x->e[z] : 0;
}

/* The draws zone z serves of F spillable and e pinned ones; the rest move on
 * to the next zone. Its share is keep x cap: a zone with fewer servers than an
 * answer has slots backfills the rest (pinned draws too). */
static double bal_serve(zone_bal_t *b, int z, double F, double e)
{
    double load = b->k[z] * b->slot_cap[z] * F + b->slot_cap[z] * e;
    b->f_in[b->next[z]] += F + e - load;
    return load;
}

/* Flows from the deepest zones up, then every zone's r. */
static void bal_flows(const bal_run_t *x)
{
    zone_bal_t *b = x->b;
    double W = b->w[0];

    for (int z = 0; z < b->n_zones; z++)
        b->f_in[z] = x->d[z];
    for (int i = 0; i < b->n_zones; i++) {
        int z = b->order[i];
        double F = b->f_in[z], e = bal_pinned(x, z);
        if (z == 0) {
            b->load[0] = F + e;
        } else if (b->w[z] <= 0) { /* nothing to draw: everything passes on */
            b->load[z] = 0;
            b->f_in[b->next[z]] += F + e;
            continue;
        } else {
            b->load[z] = bal_serve(b, z, F, e);
        }
        b->r[z] = b->load[z] / x->D * W / b->w[z];
    }
}

static double bal_set_ratio(const zone_bal_t *b, const bal_set_t *s)
{
    double t = s->c0 * b->r[0];
    for (size_t j = 0; j < s->n; j++)
        t += s->c[j] * b->r[s->zone[j]];
    return t;
}

/* Every set's budget at one level: what the bound leaves after "@" (rho) and
 * the deeper zones of the set, less the pinned draws of this level's zones. */
static void bal_budgets(const bal_run_t *x, int level, double rho)
{
    zone_bal_t *b = x->b;

    for (size_t i = 0; i < b->n_dense; i++) {
        const bal_set_t *s = &b->dense[i];
        double B = x->R - s->c0 * rho;
        for (size_t j = 0; s->used && j < s->n; j++) {
            int z = s->zone[j];
            if (b->depth[z] > level)
                B -= s->c[j] * b->r[z];
            else if (b->depth[z] == level && b->w[z] > 0)
                B -= s->c[j] * b->slot_cap[z] * bal_pinned(x, z) / x->D * b->w[0] /
                     b->w[z];
        }
        b->budget[i] = B;
    }
}

/* One set's use of its budget (rfull holds each zone's r at keep 1 less
 * pinned draws) and the pressure of the zones that may still grow. */
static double bal_set_use(const zone_bal_t *b, const bal_set_t *s, int level,
                          double *free_p)
{
    double used = 0;

    *free_p = 0;
    for (size_t j = 0; j < s->n; j++) {
        int z = s->zone[j];
        if (b->depth[z] != level)
            continue;
        used += s->c[j] * b->k[z] * b->rfull[z];
        if (b->k[z] < 1)
            *free_p += s->c[j] * b->rfull[z];
    }
    return used;
}

/* Keep fractions of one level for a given rho: each set first scales its
 * zones down alike until it fits (so a server shared by two countries is
 * shared in proportion to their pressure), then slack left by zones that are
 * held down elsewhere is handed out again in equal steps of keep. Always
 * within every set's budget. */
static void bal_level(const bal_run_t *x, int level, double rho)
{
    zone_bal_t *b = x->b;

    bal_budgets(x, level, rho);
    for (size_t i = 0; i < b->n_dense; i++) {
        const bal_set_t *s = &b->dense[i];
        double p = 0;
        for (size_t j = 0; s->used && j < s->n; j++)
            if (b->depth[s->zone[j]] == level)
                p += s->c[j] * b->rfull[s->zone[j]];
        double f = p > 0 ? b->budget[i] / p : 1;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        for (size_t j = 0; s->used && j < s->n; j++)
            if (b->depth[s->zone[j]] == level && f < b->k[s->zone[j]])
                b->k[s->zone[j]] = f;
    }
    for (int pass = 0; pass < BAL_FILL_PASSES; pass++) {
        double grown = 0;
        for (int z = 1; z < b->n_zones; z++)
            b->allowed[z] = 1 - b->k[z];
        for (size_t i = 0; i < b->n_dense; i++) {
            const bal_set_t *s = &b->dense[i];
            double free_p, used = s->used ? bal_set_use(b, s, level, &free_p) : 0;
            if (!s->used || free_p <= 0)
                continue;
            double step = fmax(0, b->budget[i] - used) / free_p;
            for (size_t j = 0; j < s->n; j++)
                if (b->depth[s->zone[j]] == level)
                    b->allowed[s->zone[j]] = fmin(b->allowed[s->zone[j]], step);
        }
        for (int z = 1; z < b->n_zones; z++) {
            if (b->depth[z] != level || b->k[z] >= 1)
                continue;
            b->k[z] += b->allowed[z];
            grown = fmax(grown, b->allowed[z]);
        }
        if (grown < BAL_EPS)
            break;
    }
}

/* With r["@"] taken to be rho: every level's keep fractions, deepest first,
 * and the r["@"] they give. rho' grows with rho; the solution is where they
 * meet. */
static double bal_eval(const bal_run_t *x, double rho)
{
    zone_bal_t *b = x->b;
    double W = b->w[0];

    for (int z = 0; z < b->n_zones; z++)
        b->f_in[z] = x->d[z];
    for (int level = b->max_depth; level >= 1; level--) {
        for (int z = 1; z < b->n_zones; z++) {
            if (b->depth[z] != level)
                continue;
            b->k[z] = 1;
            b->rfull[z] =
                b->w[z] > 0 ? b->slot_cap[z] * b->f_in[z] / x->D * W / b->w[z] : 0;
            if (b->rfull[z] <= 0)
                b->k[z] = b->w[z] > 0; /* nothing to spill: untouched */
        }
        bal_level(x, level, rho);
        for (int z = 1; z < b->n_zones; z++) {
            if (b->depth[z] != level)
                continue;
            double F = b->f_in[z], e = bal_pinned(x, z);
            if (b->w[z] <= 0) {
                b->r[z] = 0;
                b->f_in[b->next[z]] += F + e;
                continue;
            }
            b->r[z] = bal_serve(b, z, F, e) / x->D * W / b->w[z];
        }
    }
    return (b->f_in[0] + bal_pinned(x, 0)) / x->D;
}

static double bal_worst(const zone_bal_t *b)
{
    double worst = b->r[0];
    for (size_t i = 0; i < b->n_dense; i++)
        if (b->dense[i].used)
            worst = fmax(worst, bal_set_ratio(b, &b->dense[i]));
    return worst;
}

/* Decrease-only passes for what the sweeps left above the bound (slow
 * convergence with many shared servers): every zone of a violated set is
 * scaled down by the factor that would make the set exact. */
static bool bal_repair(const bal_run_t *x, unsigned *passes)
{
    zone_bal_t *b = x->b;

    for (int it = 0; it < BAL_REPAIR_MAX; it++, (*passes)++) {
        bal_flows(x);
        if (bal_worst(b) <= x->R * (1 + 1e-6))
            return true;
        for (size_t i = 0; i < b->n_dense; i++) {
            const bal_set_t *s = &b->dense[i];
            double t = s->used ? bal_set_ratio(b, s) : 0, var = t - s->c0 * b->r[0];
            if (!s->used || t <= x->R * (1 + 1e-9) || var <= 0)
                continue;
            double factor = fmax(0, (x->R - s->c0 * b->r[0]) / var) * (1 - 1e-9);
            for (size_t j = 0; j < s->n; j++) {
                int z = s->zone[j];
                double F = b->f_in[z] * b->slot_cap[z];
                if (F <= 0)
                    continue;
                double k = (b->load[z] * factor - b->slot_cap[z] * bal_pinned(x, z)) / F;
                b->k[z] = fmin(b->k[z], k < 0 ? 0 : k);
            }
        }
    }
    return false;
}

/* Fills the per-zone worst ratios for the keep fractions now in b->k. */
static double bal_report(const bal_run_t *x, zone_bal_result_t *res, bool with)
{
    zone_bal_t *b = x->b;

    bal_flows(x);
    for (int z = 0; z < b->n_zones; z++)
        *(with ? &res->zones[z].ratio_with : &res->zones[z].ratio_without) =
            z == 0 ? b->r[0] : 0;
    for (size_t i = 0; i < b->n_dense; i++) {
        if (!b->dense[i].used)
            continue;
        double t = bal_set_ratio(b, &b->dense[i]);
        for (size_t j = 0; j <= b->dense[i].n; j++) {
            int z = j < b->dense[i].n ? b->dense[i].zone[j] : 0;
            double *p = with ? &res->zones[z].ratio_with : &res->zones[z].ratio_without;
            *p = fmax(*p, t);
        }
    }
    return bal_worst(b);
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
static double bal_slot_keep(const zone_bal_t *b, int z, double served)
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

static void bal_finish(const bal_run_t *x, zone_bal_result_t *res)
{
    zone_bal_t *b = x->b;
    double local = 0;

    for (int z = 0; z < b->n_zones; z++) {
        zone_bal_zone_t *o = &res->zones[z];
        double own = x->d[z] + bal_pinned(x, z);
        o->demand_share = x->D > 0 ? own / x->D : 0;
        o->capacity_share = b->w[0] > 0 ? b->w[z] / b->w[0] : 0;
        o->keep = z == 0        ? 1
                  : b->w[z] > 0 ? bal_slot_keep(b, z, b->k[z] * b->slot_cap[z])
                                : 0;
        if (b->w[z] > 0)
            local +=
                z == 0 ? own : b->slot_cap[z] * (b->k[z] * x->d[z] + bal_pinned(x, z));
    }
    res->local_share = x->D > 0 ? local / x->D : 1;
    memcpy(b->allowed, b->k, (size_t)b->n_zones * sizeof *b->k); /* saved */
    for (int z = 1; z < b->n_zones; z++)
        b->k[z] = 1;
    res->worst_without = bal_report(x, res, false);
    memcpy(b->k, b->allowed, (size_t)b->n_zones * sizeof *b->k);
    res->worst_with = bal_report(x, res, true);
}

int zone_bal_solve(zone_bal_t *b, const double *demand, const double *pinned,
                   double max_ratio, zone_bal_result_t *res)
{
    bal_run_t x = {.b = b, .d = demand, .e = pinned, .R = max_ratio};

    if (!b || !demand || !res || !res->zones || !(max_ratio >= 1) || !isfinite(max_ratio))
        return -1;
    for (int z = 0; z < b->n_zones; z++) {
        double e = pinned ? pinned[z] : 0;
        if (!(demand[z] >= 0) || !(e >= 0) || !isfinite(demand[z]) || !isfinite(e))
            return -1;
        x.D += demand[z] + e;
        b->k[z] = 1;
    }
    res->iterations = res->repairs = 0;
    res->fallback = false;
    if (b->n_dense != b->n_sets && bal_pack(b) < 0)
        return -1;
    if (x.D <= 0 || b->w[0] <= 0) {
        x.D = 1; /* no demand or no servers: nothing to balance, ratios 0 */
        bal_finish(&x, res);
        return 0;
    }
    /* r["@"] is at least what it is with nothing spilled, and at most 1.
     * Regula falsi (Illinois variant) on g(rho) = rho' - rho keeps hi where
     * g <= 0: the keep fractions make r["@"] no larger than assumed, so they
     * are feasible there; lo stays below the solution. */
    for (int z = 1; z < b->n_zones; z++)
        b->k[z] = b->w[z] > 0;
    bal_flows(&x);
    double lo = b->r[0], hi = 1, glo = bal_eval(&x, lo) - lo, ghi = 0;
    int side = 0;
    if (glo <= BAL_EPS) {
        hi = lo;
    } else {
        ghi = bal_eval(&x, hi) - hi;
        while (hi - lo > BAL_EPS && ghi < -BAL_EPS && res->iterations < BAL_BISECT_MAX) {
            double c = (lo * ghi - hi * glo) / (ghi - glo);
            if (!(c > lo && c < hi))
                c = (lo + hi) / 2;
            double gc = bal_eval(&x, c) - c;
            res->iterations++;
            if (gc <= 0) {
                hi = c, ghi = gc;
                glo = side == -1 ? glo / 2 : glo;
                side = -1;
            } else {
                lo = c, glo = gc;
                ghi = side == 1 ? ghi / 2 : ghi;
                side = 1;
            }
        }
    }
    bal_eval(&x, hi);
    res->iterations++;
    if (!bal_repair(&x, &res->repairs)) {
        for (int z = 1; z < b->n_zones; z++)
            b->k[z] = 0; /* everything at the root: ratios 1 (x quarter corrections) */
        res->fallback = true;
    }
    bal_finish(&x, res);
    return 0;
}

void zone_keep_init(zone_keep_t *k)
{
    for (int z = 0; z < ZONE_ID_MAX; z++)
        k->keep[z][0] = k->keep[z][1] = k->keep[z][2] = 1;
}

double zone_bal_target(double max_ratio)
{
    double t = max_ratio * ZONE_BAL_HEADROOM;
    return t < 1 ? 1 : t;
}
