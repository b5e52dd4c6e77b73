/*
 * test_select_draw.c - weighted selection within one zone (DESIGN.md
 * "Weighted selection"): the RNG, shares that match weights, sampling without
 * replacement against exact inclusion probabilities, eligibility and m(score),
 * and address families. Quarters, numbered names and the walk with its
 * backfill are in test_select_walk.c. Snapshots are real JSON through the real
 * parser. The RNG seeds are fixed, so every run draws the same numbers;
 * tolerances are stated per check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pooltext.h"
#include "zones/zones.h"

/* ---- RNG ---------------------------------------------------------------- */

static void test_rng(void)
{
    zone_rng_t a, b;

    /* Reference outputs of xoshiro256** from state {1, 2, 3, 4}, from the
     * authors' C implementation (prng.di.unimi.it). */
    a = (zone_rng_t){{1, 2, 3, 4}};
    CHECK(zone_rng_next(&a) == 11520u);
    CHECK(zone_rng_next(&a) == 0u);
    CHECK(zone_rng_next(&a) == 1509978240u);
    CHECK(zone_rng_next(&a) == 1215971899390074240u);

    zone_rng_seed(&a, 7);
    zone_rng_seed(&b, 7);
    CHECK(zone_rng_next(&a) == zone_rng_next(&b));
    zone_rng_seed(&b, 8);
    CHECK(zone_rng_next(&a) != zone_rng_next(&b));
    CHECK_INT_EQ(zone_rng_seed_os(&a), 0);
    CHECK_INT_EQ(zone_rng_seed_os(&b), 0);
    CHECK(memcmp(&a, &b, sizeof a) != 0);
    CHECK(zone_rng_below(&a, 1) == 0);
    CHECK(zone_rng_below(&a, 0) == 0);

    /* Bound 3 * 2^62 shows both classic biases: a plain modulo makes values
     * below 2^62 twice as likely (seen in the thirds of the range), a multiply
     * without Lemire's rejection makes v % 3 == 0 twice as likely as 1 or 2
     * (v = floor(3x/4)). Unbiased, each gets 1/3 of 300,000 draws; 5 sigma =
     * 5 * sqrt(300000 * 2/9) ~ 1291. */
    unsigned long third[3] = {0}, residue[3] = {0};
    uint64_t bound = 3ull << 62;
    int out_of_range = 0;
    zone_rng_seed(&a, 1);
    for (int i = 0; i < 300000; i++) {
        uint64_t v = zone_rng_below(&a, bound);
        out_of_range += v >= bound;
        third[v < bound ? v / (1ull << 62) : 0]++;
        residue[v % 3]++;
    }
    CHECK_INT_EQ(out_of_range, 0);
    for (int k = 0; k < 3; k++) {
        CHECK(fabs((double)third[k] - 100000) < 1291);
        CHECK(fabs((double)residue[k] - 100000) < 1291);
    }
}

/* ---- (1) shares with want = 1 ------------------------------------------ */

/*
 * 24 IPv4 servers in de with varied netspeed and score (min 10, full 15), plus
 * an ineligible one. 400,000 single draws from "@". Chi-square with 23 degrees
 * of freedom must stay below 49.728, the critical value for p = 0.001; each
 * count must be within 5 sigma of N·w/W (binomial sigma).
 */
static void test_shares(void)
{
    enum { K = 24, N = 400000 };
    static const unsigned speeds[] = {1000, 10000, 25000, 50000, 100000, 250000};
    static const double scores[] = {10, 11, 12.5, 15, 20};
    double expect[K], w_sum = 0, m_want;
    unsigned long count[K] = {0};
    uint64_t w[K];
    text_t t = {0};
    char ip[32];

    for (int i = 0; i < K; i++) {
        snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
        server(&t, ip, scores[i % 5], speeds[i % 6], "\"de\"");
    }
    server(&t, "192.0.2.200", 9.9, 1000000, "\"de\"");
    zone_pool_t *pool = build(&t, 1, 10, 15);
    const zone_snapshot_t *snap = zone_pool_snapshot(pool);
    zone_pool_params_t params = {10, 15};

    for (int i = 0; i < K; i++) {
        /* m = 256 + 768 (score - 10) / 5, rounded, capped at 1024. */
        m_want = fmin(1024, round(256 + 768 * (scores[i % 5] - 10) / 5));
        w[i] = zone_weight(&snap->servers[i], &params);
        CHECK(w[i] == (uint64_t)(speeds[i % 6] * m_want));
        w_sum += (double)w[i];
    }
    CHECK(zone_weight(&snap->servers[K], &params) == 0);
    zone_rng_t rng;
    zone_rng_seed(&rng, 2026);
    int walk[1] = {ZONE_GLOBAL};
    zone_pick_t pick;
    for (int n = 0; n < N; n++) {
        CHECK_INT_EQ(zone_pool_pick(pool, 4, -1, walk, 1, 1, &rng, &pick), 1);
        count[index_of(pool, pick.srv[0])]++;
    }
    int outliers = 0;
    for (int i = 0; i < K; i++) {
        double p = (double)w[i] / w_sum;
        expect[i] = N * p;
        outliers += fabs((double)count[i] - expect[i]) > 5 * sqrt(N * p * (1 - p));
    }
    double x2 = chi_square(count, expect, K);
    printf("shares: chi-square %.2f (23 df, critical 49.728 at p=0.001)\n", x2);
    CHECK(x2 < 49.728);
    CHECK_INT_EQ(outliers, 0);
    zone_pool_free(pool);
}

/* ---- (2) without replacement: exact inclusion probabilities ------------- */

/* P(server i is in an ordered draw of `want` without replacement), summed
 * over every ordered sequence: successive sampling, each draw ∝ weight among
 * those left. */
static void exact_inclusion(const double *w, int n, int want, double *incl, double *first)
{
    int seq[ZONE_PICK_MAX];
    double prob[ZONE_PICK_MAX + 1] = {1}, left[ZONE_PICK_MAX + 1], total = 0;
    int depth = 0;

    for (int i = 0; i < n; i++)
        total += w[i], incl[i] = 0, first[i] = w[i];
    for (int i = 0; i < n; i++)
        first[i] /= total;
    left[0] = total;
    seq[0] = -1;
    while (depth >= 0) { /* iterative enumeration of ordered sequences */
        int next = ++seq[depth], used = 0;
        for (int k = 0; k < depth && next < n; k++)
            used |= seq[k] == next;
        if (next >= n) {
            depth--;
            continue;
        }
        if (used)
            continue;
        prob[depth + 1] = prob[depth] * w[next] / left[depth];
        incl[next] += prob[depth + 1];
        if (depth + 1 < want) {
            left[depth + 1] = left[depth] - w[next];
            seq[++depth] = -1;
        }
    }
}

/* Draws `draws` answers of `want` from a zone of n servers (IPv4, zone "fr")
 * and compares first-draw shares (chi-square, n-1 df, critical value `crit`
 * at p = 0.001) and inclusion probabilities (each within 4 sigma) with the
 * exact values. */
static void check_without_replacement(const unsigned *speeds, int n, int want, int draws,
                                      double crit)
{
    double w[16], incl[16], first[16], expect[16];
    unsigned long seen[16] = {0}, firsts[16] = {0};
    text_t t = {0};
    char ip[32];
    int dups = 0, short_answers = 0, fr = zone_id_lookup("fr", 2);

    for (int i = 0; i < n; i++) {
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 1);
        server(&t, ip, 20, speeds[i], "\"fr\"");
        w[i] = speeds[i]; /* score 20: m = 1 */
    }
    zone_pool_t *pool = build(&t, 1, 10, 15);
    exact_inclusion(w, n, want, incl, first);
    zone_rng_t rng;
    zone_rng_seed(&rng, 99);
    zone_pick_t pick;
    for (int d = 0; d < draws; d++) {
        short_answers += zone_pool_pick(pool, 4, -1, &fr, 1, (size_t)want, &rng, &pick) !=
                         (size_t)want;
        firsts[index_of(pool, pick.srv[0])]++;
        for (size_t a = 0; a < pick.n; a++) {
            seen[index_of(pool, pick.srv[a])]++;
            for (size_t b = 0; b < a; b++)
                dups += pick.srv[a] == pick.srv[b];
        }
    }
    CHECK_INT_EQ(short_answers, 0);
    CHECK_INT_EQ(dups, 0);
    int outliers = 0;
    for (int i = 0; i < n; i++) {
        expect[i] = draws * first[i];
        double sd = sqrt(incl[i] * (1 - incl[i]) / draws);
        if (fabs((double)seen[i] / draws - incl[i]) > 4 * sd) {
            outliers++;
            fprintf(stderr, "server %d: inclusion %.5f, exact %.5f\n", i,
                    (double)seen[i] / draws, incl[i]);
        }
    }
    double x2 = chi_square(firsts, expect, (size_t)n);
    printf("%d of %d: first-draw chi-square %.2f (%d df, critical %.3f)\n", want, n, x2,
           n - 1, crit);
    CHECK(x2 < crit);
    CHECK_INT_EQ(outliers, 0);
    zone_pool_free(pool);
}

static void test_without_replacement(void)
{
    /* Very unequal weights, so "without replacement" visibly differs from
     * "proportional" (the heaviest server's inclusion is far below 4·w/W). */
    static const unsigned ten[] = {1000000, 500000, 250000, 100000, 100000,
                                   50000,   25000,  10000,  10000,  1000};
    static const unsigned six[] = {100000, 50000, 50000, 25000, 10000, 1000};

    /* Critical chi-square values at p = 0.001: 9 df 27.877, 5 df 20.515. */
    check_without_replacement(ten, 10, 4, 200000, 27.877);
    check_without_replacement(six, 6, 3, 200000, 20.515);
}

/* ---- (5) eligibility and m(score) --------------------------------------- */

static void test_eligibility(void)
{
    int de = zone_id_lookup("de", 2);
    text_t t = {0};

    server(&t, "10.0.0.1", 10, 50000, "\"de\"");    /* min_score: m = 0.25 */
    server(&t, "10.0.0.2", 15, 50000, "\"de\"");    /* full_score: m = 1 */
    server(&t, "10.0.0.3", 9.9, 1000000, "\"de\""); /* below min_score */
    server(&t, "10.0.0.4", 20, 0, "\"de\"");        /* netspeed 0 */
    server(&t, "10.0.0.5", -50, 1000000, "\"de\"");
    zone_pool_t *pool = build(&t, 1, 10, 15);
    const zone_snapshot_t *snap = zone_pool_snapshot(pool);
    zone_pool_params_t params = {10, 15}, plain = {10, 10};
    unsigned total, eligible;

    zone_pool_counts(pool, de, 4, &total, &eligible);
    CHECK_INT_EQ(total, 5);
    CHECK_INT_EQ(eligible, 2);
    zone_pool_counts(pool, de, 6, &total, &eligible);
    CHECK_INT_EQ(total + eligible, 0);
    CHECK(zone_weight(&snap->servers[0], &params) == 50000u * 256);
    CHECK(zone_weight(&snap->servers[1], &params) == 50000u * 1024);
    CHECK(zone_weight(&snap->servers[2], &params) == 0);
    CHECK(zone_weight(&snap->servers[3], &params) == 0);
    /* full == min: plain netspeed weighting. */
    CHECK(zone_weight(&snap->servers[0], &plain) == 50000u * 1024);
    CHECK(zone_weight(&snap->servers[2], &plain) == 0);

    /* 1:4 shares: 200,000 single draws, expected 40,000 : 160,000; binomial
     * sigma = sqrt(200000 · 0.2 · 0.8) ~ 179, tolerance 5 sigma = 895. */
    zone_rng_t rng;
    zone_rng_seed(&rng, 3);
    unsigned long count[5] = {0};
    zone_pick_t pick;
    for (int r = 0; r < 200000; r++) {
        zone_pool_pick(pool, 4, -1, &de, 1, 1, &rng, &pick);
        count[index_of(pool, pick.srv[0])]++;
    }
    CHECK(fabs((double)count[0] - 40000) < 895);
    CHECK_INT_EQ(count[2] + count[3] + count[4], 0);
    /* Asking for more than exist gives the two eligible ones, never the rest. */
    for (int r = 0; r < 1000; r++) {
        CHECK_INT_EQ(zone_pool_pick(pool, 4, -1, &de, 1, 4, &rng, &pick), 2);
        CHECK(index_of(pool, pick.srv[0]) + index_of(pool, pick.srv[1]) == 1);
    }
    zone_pool_free(pool);
}

/* ---- (6) families ------------------------------------------------------- */

static void test_families(void)
{
    int de = zone_id_lookup("de", 2);
    text_t t = {0};
    char ip[64];

    for (int i = 0; i < 12; i++) {
        snprintf(ip, sizeof ip, i % 2 ? "2001:db8::%d" : "192.0.2.%d", i + 1);
        server(&t, ip, 20, 10000, "\"de\", \"europe\"");
    }
    zone_pool_t *pool = build(&t, 1, 10, 15);
    unsigned total, eligible;
    zone_pool_counts(pool, de, 6, &total, &eligible);
    CHECK_INT_EQ(eligible, 6);
    zone_pool_counts(pool, ZONE_GLOBAL, 4, &total, &eligible);
    CHECK_INT_EQ(total, 6);

    zone_rng_t rng;
    zone_rng_seed(&rng, 4);
    int walk[3], wrong = 0;
    size_t n_walk = zone_walk(de, walk);
    for (int r = 0; r < 2000; r++) {
        zone_pick_t pick;
        for (int fam = 4; fam <= 6; fam += 2) {
            int q = r % 5 - 1;
            zone_pool_pick(pool, fam, q, walk, n_walk, 4, &rng, &pick);
            wrong += pick.n == 0;
            for (size_t k = 0; k < pick.n; k++)
                wrong += pick.srv[k]->family != fam;
        }
    }
    CHECK_INT_EQ(wrong, 0);
    zone_pool_free(pool);
}

int main(void)
{
    test_rng();
    test_shares();
    test_without_replacement();
    test_eligibility();
    test_families();
    return check_summary("test_select_draw");
}
