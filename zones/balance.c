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
#include <string.h>

#include "balance_int.h"

/* Bisection on r["@"] to 1e-10 takes ~34 steps; each costs O(levels x
 * fill passes x sets). Fill passes: a zone held down by one set frees slack
 * in its others, which a pass hands on; a few suffice for the pool's sets. */
#define BAL_BISECT_MAX 60
#define BAL_FILL_PASSES 8
#define BAL_REPAIR_MAX 200
#define BAL_EPS 1e-10

typedef struct bal_run {
    zone_bal_t *b;
    const double *d, *e; /* spillable and pinned demand */
    double D, R;
} bal_run_t;

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

/* r["@"] is at least what it is with nothing spilled, and at most 1.
 * Regula falsi (Illinois variant) on g(rho) = rho' - rho keeps hi where
 * g <= 0: the keep fractions make r["@"] no larger than assumed, so they
 * are feasible there; lo stays below the solution. Returns hi; counts the
 * steps in res->iterations. */
static double bal_search(const bal_run_t *x, zone_bal_result_t *res)
{
    zone_bal_t *b = x->b;

    for (int z = 1; z < b->n_zones; z++)
        b->k[z] = b->w[z] > 0;
    bal_flows(x);
    double lo = b->r[0], hi = 1, glo = bal_eval(x, lo) - lo, ghi = 0;
    int side = 0;
    if (glo <= BAL_EPS)
        return lo;
    ghi = bal_eval(x, hi) - hi;
    while (hi - lo > BAL_EPS && ghi < -BAL_EPS && res->iterations < BAL_BISECT_MAX) {
        double c = (lo * ghi - hi * glo) / (ghi - glo);
        if (!(c > lo && c < hi))
            c = (lo + hi) / 2;
        double gc = bal_eval(x, c) - c;
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
    return hi;
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
    bal_eval(&x, bal_search(&x, res));
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
