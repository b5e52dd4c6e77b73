/*
 * dnsd-balance-sim: demand-aware balancing in-process on a snapshot and a
 * demand table (docs/balancing.md "Simulator"). Clients are drawn in
 * proportion to the demand of their zone and ask a numbered name (0-3, as NTP
 * clients do); each query is answered twice from the same pool, by the
 * selection dnsd uses without balancing (zone_pool_pick) and by the one it
 * uses with it (zone_pool_pick_keep, keep fractions from the solver). Prints
 * one line per zone with servers or demand (tab-separated, for bench/balance)
 * and a summary; bench/balance turns it into a table and a plot.
 *
 *     dnsd-balance-sim SNAPSHOT DEMAND.tsv [--queries N] [--seed S]
 *                      [--max-ratio R] [--answers N] [--family 4|6]
 *
 * DEMAND.tsv: one "zone family rate" per line (bench/balance writes it from
 * the JSON demand table).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zones/balance.h"

typedef struct sim {
    zone_pool_t *pool;
    int family, answers;
    double demand[ZONE_ID_MAX], cum[ZONE_ID_MAX];
    int zones[ZONE_ID_MAX], n_zones; /* zones with demand, for the client draw */
    zone_keep_t keep;
    unsigned long *hits[2];              /* per server: before, after */
    unsigned long slots[2][ZONE_ID_MAX]; /* per client zone */
    unsigned long local[2][ZONE_ID_MAX]; /* ... answered by its own servers */
    unsigned long spilled, total_slots;
    double pick_ms[2]; /* time in the pick itself (clock reads included) */
} sim_t;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int sim_read_demand(sim_t *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char zone[64];
    int family, line = 0;
    double rate;

    if (!f)
        return -1;
    while (fscanf(f, "%63s %d %lf", zone, &family, &rate) == 3) {
        int id = zone_id_lookup(zone, strlen(zone));
        line++;
        if (id < 0 || !(rate >= 0) || (family != 4 && family != 6)) {
            fprintf(stderr, "%s:%d: bad zone, family or rate\n", path, line);
            fclose(f);
            return -1;
        }
        if (family == s->family)
            s->demand[id] += rate;
    }
    fclose(f);
    return 0;
}

static bool sim_member(const zone_server_t *srv, int zone)
{
    for (size_t i = 0; i < srv->n_zones; i++)
        if (srv->zones[i] == zone)
            return true;
    return zone == ZONE_GLOBAL;
}

/* One client query answered both ways. */
static void sim_query(sim_t *s, zone_rng_t *rng)
{
    const zone_server_t *base = zone_pool_snapshot(s->pool)->servers;
    double u = (double)(zone_rng_next(rng) >> 11) * 0x1.0p-53 * s->cum[s->n_zones - 1];
    int lo = 0, hi = s->n_zones - 1, walk[3], q = (int)zone_rng_below(rng, 4);
    zone_pick_t pick;
    zone_pick_info_t info;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    int c = s->zones[lo];
    size_t n_walk = zone_walk(c, walk);
    for (int mode = 0; mode < 2; mode++) {
        double t0 = now_ms();
        if (mode == 0)
            zone_pool_pick(s->pool, s->family, q, walk, n_walk, (size_t)s->answers, rng,
                           &pick);
        else
            zone_pool_pick_keep(s->pool, s->family, q, walk, n_walk, (size_t)s->answers,
                                &s->keep, rng, &pick, &info);
        s->pick_ms[mode] += now_ms() - t0;
        for (size_t i = 0; i < pick.n; i++) {
            s->hits[mode][pick.srv[i] - base]++;
            s->local[mode][c] += sim_member(pick.srv[i], c);
        }
        s->slots[mode][c] += pick.n;
        s->total_slots += mode ? 0 : pick.n;
    }
    s->spilled += info.spilled;
}

/* Realised load ratio of a zone's servers, in all: their share of answers
 * over their share of weight. */
static double sim_ratio(const sim_t *s, int mode, int zone, double *weight_share)
{
    const zone_snapshot_t *snap = zone_pool_snapshot(s->pool);
    const zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    double w = 0, W = 0, a = 0, A = 0;

    for (size_t i = 0; i < snap->n_servers; i++) {
        uint64_t wi = snap->servers[i].family == s->family
                          ? zone_weight(&snap->servers[i], &params)
                          : 0;
        W += (double)wi;
        A += (double)s->hits[mode][i];
        if (wi && sim_member(&snap->servers[i], zone)) {
            w += (double)wi;
            a += (double)s->hits[mode][i];
        }
    }
    *weight_share = W > 0 ? w / W : 0;
    return w > 0 && A > 0 ? (a / A) / (w / W) : 0;
}

static void sim_keep_from(sim_t *s, const zone_bal_result_t *res, int n)
{
    zone_keep_init(&s->keep);
    for (int z = 0; z < n; z++)
        s->keep.keep[z][s->family == 6] = (float)res->zones[z].keep;
}

#define SIM_HITS_MIN 400

/* Whether every table numbered names draw from in `zone` holds a whole
 * answer: only then can all of its clients' answers stay in the country. */
static bool sim_full(const sim_t *s, int zone)
{
    for (int q = 0; q < 4; q++)
        if (zone_pool_members(s->pool, zone, s->family, q, NULL, 0) < (size_t)s->answers)
            return false;
    return true;
}

static double o_cap(const zone_bal_result_t *res, int z)
{
    return res->zones[z].capacity_share;
}

static void sim_report(const sim_t *s, const zone_bal_result_t *res, int n)
{
    double worst[2] = {0, 0}, suff_min = 1, suff_rel = 1, suff_sum = 0, suff_d = 0, D = 0;
    int worst_zone[2] = {-1, -1}, n_suff = 0;

    for (int z = 0; z < n; z++)
        D += s->demand[z];
    printf("#zone\teligible\tdemand_share\tcapacity_share\tkeep\texpected_without\t"
           "expected_with\tratio_before\tratio_after\tlocal_before\tlocal_after\n");
    for (int z = ZONE_FIRST_COUNTRY; z < n; z++) {
        unsigned total, elig;
        double ws, r[2];
        zone_pool_counts(s->pool, z, s->family, &total, &elig);
        if (!elig && s->demand[z] <= 0)
            continue;
        double loc[2];
        for (int m = 0; m < 2; m++) {
            r[m] = sim_ratio(s, m, z, &ws);
            loc[m] = s->slots[m][z] ? (double)s->local[m][z] / (double)s->slots[m][z] : 0;
            /* Countries whose servers would see fewer than SIM_HITS_MIN
             * answers at a fair share are too small to measure (relative noise
             * above 5%); they are listed, not ranked. */
            if (elig && o_cap(res, z) * (double)s->total_slots >= SIM_HITS_MIN &&
                r[m] > worst[m])
                worst[m] = r[m], worst_zone[m] = z;
        }
        const zone_bal_zone_t *o = &res->zones[z];
        printf("%s\t%u\t%.6f\t%.6f\t%.4f\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\n",
               zone_id_name(z), elig, s->demand[z] / D, o->capacity_share, o->keep,
               o->ratio_without, o->ratio_with, r[0], r[1], loc[0], loc[1]);
        if (o->keep >= 1 && sim_full(s, z) && s->demand[z] > 0) {
            n_suff++;
            suff_min = fmin(suff_min, loc[1]);
            suff_rel = fmin(suff_rel, loc[0] > 0 ? loc[1] / loc[0] : 1);
            suff_sum += loc[1] * s->demand[z];
            suff_d += s->demand[z];
        }
    }
    printf(
        "# worst country load ratio (countries expecting >= %d answers at a fair share): "
        "before %.1f (%s), after %.2f (%s); "
        "expected by the solver: %.1f without spill, %.3f with\n",
        SIM_HITS_MIN, worst[0], worst_zone[0] >= 0 ? zone_id_name(worst_zone[0]) : "-",
        worst[1], worst_zone[1] >= 0 ? zone_id_name(worst_zone[1]) : "-",
        res->worst_without, res->worst_with);
    printf(
        "# sufficient countries (the solver keeps all, every quarter has >= %d servers, "
        "some demand): %d; in-country after: min %.2f%%, demand-weighted %.2f%%; "
        "after / before: min %.2f%%\n",
        s->answers, n_suff, 100 * suff_min, suff_d > 0 ? 100 * suff_sum / suff_d : 0,
        100 * suff_rel);
}

int main(int argc, char **argv)
{
    sim_t s = {.family = 4, .answers = 4};
    long queries = 1000000;
    uint64_t seed = 2026;
    double R = 2.0;

    if (argc < 3) {
        fprintf(stderr,
                "usage: %s SNAPSHOT DEMAND.tsv [--queries N] [--seed S] "
                "[--max-ratio R] [--answers N] [--family 4|6]\n",
                argv[0]);
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--queries"))
            queries = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--max-ratio"))
            R = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--answers"))
            s.answers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--family"))
            s.family = atoi(argv[i + 1]);
    }
    zone_snapshot_t *snap = NULL;
    zone_errors_t errs;
    zone_errors_init(&errs);
    if (zone_snapshot_load(argv[1], &snap, &errs) < 0) {
        zone_errors_print(&errs, stderr);
        return 1;
    }
    zone_errors_deinit(&errs);
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    if (!(s.pool = zone_pool_new(snap, &params)) || sim_read_demand(&s, argv[2]) < 0)
        return 1;
    int n = zone_id_count();
    for (int z = 0; z < n; z++)
        if (s.demand[z] > 0) {
            s.zones[s.n_zones] = z;
            s.cum[s.n_zones] = (s.n_zones ? s.cum[s.n_zones - 1] : 0) + s.demand[z];
            s.n_zones++;
        }
    size_t n_srv = zone_pool_snapshot(s.pool)->n_servers;
    s.hits[0] = calloc(n_srv + 1, sizeof(unsigned long));
    s.hits[1] = calloc(n_srv + 1, sizeof(unsigned long));
    static zone_bal_zone_t zones[ZONE_ID_MAX];
    zone_bal_result_t res = {.zones = zones};
    double t0 = now_ms();
    zone_bal_t *b = zone_bal_from_pool(s.pool, s.family, (unsigned)s.answers);
    double t1 = now_ms();
    if (!s.n_zones || !b || !s.hits[0] || !s.hits[1] ||
        zone_bal_solve(b, s.demand, NULL, zone_bal_target(R), &res) < 0) {
        fprintf(stderr, "no demand, or the solver failed\n");
        return 1;
    }
    double t2 = now_ms();
    sim_keep_from(&s, &res, n);
    zone_rng_t rng;
    zone_rng_seed(&rng, seed);
    for (long i = 0; i < queries; i++)
        sim_query(&s, &rng);
    sim_report(&s, &res, n);
    printf("# %ld queries, %d answers each, family %d, max_load_ratio %.2f, seed %llu; "
           "answers with a spilled slot %.2f%%\n",
           queries, s.answers, s.family, R, (unsigned long long)seed,
           100.0 * (double)s.spilled / (double)queries);
    printf("# pick: without balancing %.0f ns, with %.0f ns per answer (clock reads "
           "included)\n",
           s.pick_ms[0] * 1e6 / (double)queries, s.pick_ms[1] * 1e6 / (double)queries);
    printf("# solver: build %.3f ms, solve %.3f ms (%u steps), %zu servers\n", t1 - t0,
           t2 - t1, res.iterations, n_srv);
    zone_bal_free(b);
    zone_pool_free(s.pool);
    free(s.hits[0]);
    free(s.hits[1]);
    return 0;
}
