/*
 * dnsd-balance-solve: how long the keep-fraction solver takes on a problem of
 * the size the pool has (docs/balancing.md "Cost"): 5,000 servers, 250 zones
 * (the root, 7 continents, 242 countries), every server in its country and
 * continent, one in twenty also in a second country, in one of four quarters, weights and
 * demand heavy-tailed so that many zones spill. Prints the median and worst of
 * `--runs` solves of fresh demand tables, and the build of the problem.
 *
 *     build/bin/dnsd-balance-solve [--servers 5000] [--zones 250] [--runs 200]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zones/balance.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n_servers = 5000, n_zones = 250, runs = 200;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--servers"))
            n_servers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--zones"))
            n_zones = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
    }
    if (n_zones < 9 || n_zones > ZONE_ID_MAX || n_servers < 1 || runs < 1) {
        fprintf(stderr, "usage: %s [--servers N] [--zones 9..%d] [--runs N]\n", argv[0],
                ZONE_ID_MAX);
        return 2;
    }
    int next[ZONE_ID_MAX];
    next[0] = -1;
    for (int z = 1; z < 8; z++)
        next[z] = 0;
    for (int z = 8; z < n_zones; z++)
        next[z] = 1 + z % 7;
    zone_rng_t rng;
    zone_rng_seed(&rng, 2026);
    double t0 = now_ms();
    zone_bal_t *b = zone_bal_new(n_zones, next);
    for (int i = 0; b && i < n_servers; i++) {
        /* Countries by a Zipf-like law: a few hold most servers. */
        double u = (double)(zone_rng_next(&rng) >> 11) * 0x1.0p-53;
        int c = 8 + (int)((n_zones - 8) * pow(u, 3));
        int zones[4] = {0, c, next[c],
                        8 + (int)zone_rng_below(&rng, (uint64_t)n_zones - 8)};
        /* One quarter per server, as the pool splits zones into four for
         * the numbered names: the solver corrects for light quarters. */
        int q = (int)zone_rng_below(&rng, 4), quarters[4] = {q, q, q, q};
        uint64_t w = 1000 * (1 + zone_rng_below(&rng, 1000));
        if (zone_bal_add(b, w, zones, quarters, i % 20 == 0 ? 4 : 3) < 0)
            return 1;
    }
    double build = now_ms() - t0;
    zone_bal_zone_t *zones = calloc((size_t)n_zones, sizeof *zones);
    double *demand = calloc((size_t)n_zones, sizeof *demand);
    double *ms = calloc((size_t)runs, sizeof *ms);
    unsigned iters_max = 0, repairs_max = 0, fallbacks = 0;
    double worst_with = 0, worst_without = 0;
    if (!b || !zones || !demand || !ms)
        return 1;
    for (int r = 0; r < runs; r++) {
        zone_bal_result_t res = {.zones = zones};
        for (int z = 1; z < n_zones; z++) /* log-uniform over six decades */
            demand[z] = pow(10, 6 * (double)(zone_rng_next(&rng) >> 11) * 0x1.0p-53);
        t0 = now_ms();
        if (zone_bal_solve(b, demand, NULL, 2.0, &res) < 0)
            return 1;
        ms[r] = now_ms() - t0;
        iters_max = res.iterations > iters_max ? res.iterations : iters_max;
        repairs_max = res.repairs > repairs_max ? res.repairs : repairs_max;
        fallbacks += res.fallback;
        worst_with = fmax(worst_with, res.worst_with);
        worst_without = fmax(worst_without, res.worst_without);
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    printf("balance solver: %d servers, %d zones, %d demand tables\n", n_servers, n_zones,
           runs);
    printf("  build the problem: %.3f ms\n", build);
    printf("  solve: median %.3f ms, p99 %.3f ms, max %.3f ms\n", ms[runs / 2],
           ms[runs * 99 / 100], ms[runs - 1]);
    printf("  bisection steps max %u, repair passes max %u, fallbacks %u\n", iters_max,
           repairs_max, fallbacks);
    printf(
        "  worst expected load ratio: without spill %.1f, with spill %.4f (bound 2.0)\n",
        worst_without, worst_with);
    zone_bal_free(b);
    free(zones);
    free(demand);
    free(ms);
    return 0;
}
