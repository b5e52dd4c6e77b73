/*
 * test_select_walk.c - pools across zones (DESIGN.md "Weighted selection",
 * "Zones and names"): quarters and their threshold, numbered names along a
 * client's walk, balance by weight, backfill shares and order, and the pool
 * report. Draws within one zone (shares, without replacement, eligibility,
 * families) are in test_select_draw.c. Snapshots are real JSON through the
 * real parser. The RNG seeds are fixed, so every run draws the same numbers;
 * tolerances are stated per check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pooltext.h"
#include "zones/zones.h"

/* ---- (3) quarters ------------------------------------------------------- */

/* de: `n_de` eligible IPv4 servers plus 3 ineligible; fr: 5 eligible. */
static zone_pool_t *quarter_pool(int n_de, uint64_t serial)
{
    static const unsigned speeds[] = {1000, 10000, 25000, 50000, 100000, 250000, 1000000};
    text_t t = {0};
    char ip[32];

    for (int i = 0; i < n_de; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 200, i % 200 + 1);
        server(&t, ip, 12 + i % 9, speeds[i % 7], "\"de\", \"europe\"");
    }
    for (int i = 0; i < 3; i++) {
        snprintf(ip, sizeof ip, "10.9.0.%d", i + 1);
        server(&t, ip, i ? 5 : 19, i ? 100000 : 0, "\"de\"");
    }
    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof ip, "10.8.0.%d", i + 1);
        server(&t, ip, 19, 10000, "\"fr\"");
    }
    return build(&t, serial, 10, 15);
}

/* Each server's quarter in zone `id` (-1: in none), over all four. Returns
 * false when a server is in two quarters. */
static bool quarter_map(const zone_pool_t *pool, int id, int *which, size_t n_servers,
                        size_t sizes[4])
{
    const zone_server_t *m[512];
    bool disjoint = true;

    for (size_t i = 0; i < n_servers; i++)
        which[i] = -1;
    for (int q = 0; q < 4; q++) {
        sizes[q] = zone_pool_members(pool, id, 4, q, m, 512);
        for (size_t k = 0; k < sizes[q]; k++) {
            size_t i = index_of(pool, m[k]);
            disjoint &= which[i] < 0;
            which[i] = q;
        }
    }
    return disjoint;
}

static void test_quarters(void)
{
    enum { N_DE = 200 };
    const zone_server_t *all[512], *m[16];
    int de = zone_id_lookup("de", 2), fr = zone_id_lookup("fr", 2);
    int w1[512], w2[512], w3[512];
    size_t sz[4], sz2[4];
    zone_pool_t *a = quarter_pool(N_DE, 2026112401), *b = quarter_pool(N_DE, 2026112401),
                *c = quarter_pool(N_DE, 2026112402);
    size_t n = zone_pool_snapshot(a)->n_servers;
    zone_pool_params_t params = {10, 15};

    CHECK(quarter_map(a, de, w1, n, sz)); /* disjoint */
    size_t n_all = zone_pool_members(a, de, 4, -1, all, 512);
    CHECK_INT_EQ(n_all, N_DE);
    CHECK_INT_EQ(sz[0] + sz[1] + sz[2] + sz[3], N_DE);
    for (size_t k = 0; k < n_all; k++) /* the union is the eligible set */
        CHECK(w1[index_of(a, all[k])] >= 0);
    for (int q = 0; q < 4; q++)
        CHECK(sz[q] > 0);

    /* Balanced: greedy least-load assignment keeps the quarters within one
     * server's weight of each other. */
    uint64_t load[4] = {0}, max_w = 0;
    for (size_t k = 0; k < n_all; k++) {
        uint64_t w = zone_weight(all[k], &params);
        load[w1[index_of(a, all[k])]] += w;
        max_w = w > max_w ? w : max_w;
    }
    for (int q = 1; q < 4; q++)
        CHECK((load[q] > load[0] ? load[q] - load[0] : load[0] - load[q]) <= max_w);

    /* Deterministic for a snapshot, different for another serial. */
    quarter_map(b, de, w2, n, sz2);
    CHECK(memcmp(w1, w2, n * sizeof *w1) == 0);
    quarter_map(c, de, w3, n, sz2);
    CHECK(memcmp(w1, w3, n * sizeof *w1) != 0);

    /* Picks from a quarter come only from it (de first, then europe = de too). */
    zone_rng_t rng;
    zone_rng_seed(&rng, 5);
    int walk[3], bad = 0;
    size_t n_walk = zone_walk(de, walk);
    for (int r = 0; r < 2000; r++) {
        zone_pick_t pick;
        int q = r % 4;
        zone_pool_pick(a, 4, q, walk, n_walk, 4, &rng, &pick);
        for (size_t k = 0; k < pick.n; k++)
            bad += w1[index_of(a, pick.srv[k])] != q;
    }
    CHECK_INT_EQ(bad, 0);

    /* fr has 5 eligible: every quarter is the whole zone. */
    for (int q = 0; q < 4; q++)
        CHECK_INT_EQ(zone_pool_members(a, fr, 4, q, m, 16), 5);
    zone_pool_free(a);
    zone_pool_free(b);
    zone_pool_free(c);
}

/* The threshold: 8 eligible are split into 4 non-empty quarters, 7 not. */
static void test_quarter_threshold(void)
{
    const zone_server_t *m[16];
    int de = zone_id_lookup("de", 2), w1[64];
    size_t sz[4];
    zone_pool_t *a = quarter_pool(8, 1);
    size_t n = zone_pool_snapshot(a)->n_servers;

    CHECK(quarter_map(a, de, w1, n, sz));
    CHECK_INT_EQ(sz[0] + sz[1] + sz[2] + sz[3], 8);
    for (int q = 0; q < 4; q++)
        CHECK(sz[q] > 0 && sz[q] < 8);
    zone_pool_free(a);
    a = quarter_pool(7, 1);
    for (int q = 0; q < 4; q++)
        CHECK_INT_EQ(zone_pool_members(a, de, 4, q, m, 16), 7);
    zone_pool_free(a);
}

/* ---- (3b) numbered names across the walk -------------------------------- */

/* Thirteen European countries with 0..12 eligible IPv4 servers (country k has
 * k), 12 more in europe only, 40 in north-america: every zone size around the
 * threshold of 8, and a continent and "@" made of many small pieces. */
static const char *const walk_cc[13] = {"pt", "es", "it", "nl", "be", "ch", "at",
                                        "pl", "cz", "dk", "fi", "no", "ie"};

static zone_pool_t *walk_pool(uint64_t serial)
{
    static const unsigned speeds[] = {1000, 3000, 10000, 25000, 100000, 250000, 1000000};
    text_t t = {0};
    char ip[32], zones[64];

    for (int k = 0; k < 13; k++) {
        snprintf(zones, sizeof zones, "\"%s\", \"europe\"", walk_cc[k]);
        for (int i = 0; i < k; i++) {
            snprintf(ip, sizeof ip, "10.%d.0.%d", 100 + k, i + 1);
            server(&t, ip, 11 + (i + k) % 9, speeds[(i + 3 * k) % 7], zones);
        }
    }
    for (int i = 0; i < 12; i++) {
        snprintf(ip, sizeof ip, "10.150.0.%d", i + 1);
        server(&t, ip, 20, speeds[i % 7], "\"europe\"");
    }
    for (int i = 0; i < 40; i++) {
        snprintf(ip, sizeof ip, "10.160.0.%d", i + 1);
        server(&t, ip, 20, speeds[i % 7], "\"us\", \"north-america\"");
    }
    return build(&t, serial, 10, 15);
}

/* Whether `s` is in a zone of the walk that is not split (< 8 eligible). */
static bool in_unsplit_zone(const zone_pool_t *pool, const zone_server_t *s,
                            const int *walk, size_t n_walk)
{
    const zone_server_t *m[256];

    for (size_t w = 0; w < n_walk; w++) {
        size_t n = zone_pool_members(pool, walk[w], 4, -1, m, 256);
        for (size_t k = 0; n < 8 && k < n; k++)
            if (m[k] == s)
                return true;
    }
    return false;
}

/*
 * For every country (as a located client's walk and as the explicit zone's),
 * 400 picks per numbered name: a server appears under name i only when its
 * quarter number is i or it is in a zone of the walk with fewer than 8
 * eligible servers; so no server is under two names otherwise. Every answer is
 * full (the walk ends in "@" with 210 servers), and quarter i of every split
 * zone holds exactly the zone's servers numbered i.
 */
static void test_quarters_across_walk(void)
{
    zone_pool_t *pool = walk_pool(2026112401);
    const zone_server_t *m[256];
    int bad = 0, short_answers = 0, shared = 0, walk[3];
    zone_rng_t rng;

    for (int id = 0; id < zone_id_count(); id++) {
        size_t n_all = zone_pool_members(pool, id, 4, -1, m, 256), n_sum = 0;
        for (int q = 0; q < 4 && n_all >= 8; q++) {
            size_t n = zone_pool_members(pool, id, 4, q, m, 256);
            for (size_t k = 0; k < n; k++)
                bad += zone_pool_quarter(pool, m[k]) != q;
            n_sum += n;
        }
        bad += n_all >= 8 && n_sum != n_all; /* the quarters cover the zone */
    }
    CHECK_INT_EQ(bad, 0);
    zone_rng_seed(&rng, 11);
    for (int k = 0; k < 13; k++) {
        int cc = zone_id_lookup(walk_cc[k], 2);
        size_t n_walk = zone_walk_geo(cc, ZONE_EUROPE, walk);
        for (int q = 0; q < 4; q++) {
            for (int r = 0; r < 400; r++) {
                zone_pick_t pick;
                short_answers +=
                    zone_pool_pick(pool, 4, q, walk, n_walk, 4, &rng, &pick) != 4;
                for (size_t j = 0; j < pick.n; j++) {
                    bool own = zone_pool_quarter(pool, pick.srv[j]) == q;
                    bool small = in_unsplit_zone(pool, pick.srv[j], walk, n_walk);
                    bad += !own && !small;
                    shared += !own && small;
                }
            }
        }
    }
    CHECK_INT_EQ(bad, 0);
    CHECK_INT_EQ(short_answers, 0);
    CHECK(shared > 0); /* the small countries' servers are under every number */
    CHECK_INT_EQ(zone_pool_quarter(pool, NULL), -1);
    zone_pool_free(pool);
}

/*
 * The promise itself, seen only through picks: for every country's walk, the
 * servers picked under each of 0..3 (300 answers each, fixed seed) are
 * disjoint sets, but for servers of a zone of the walk with fewer than 8
 * eligible servers.
 */
static void test_numbers_disjoint(void)
{
    zone_pool_t *pool = walk_pool(2026112402);
    size_t n = zone_pool_snapshot(pool)->n_servers;
    int walk[3], overlaps = 0;
    zone_rng_t rng;
    uint8_t *under = malloc(n);

    zone_rng_seed(&rng, 12);
    for (int k = 0; k < 13; k++) {
        size_t n_walk = zone_walk(zone_id_lookup(walk_cc[k], 2), walk);
        memset(under, 0, n);
        for (int q = 0; q < 4; q++) {
            for (int r = 0; r < 300; r++) {
                zone_pick_t pick;
                zone_pool_pick(pool, 4, q, walk, n_walk, 4, &rng, &pick);
                for (size_t j = 0; j < pick.n; j++)
                    under[index_of(pool, pick.srv[j])] |= (uint8_t)(1u << q);
            }
        }
        for (size_t i = 0; i < n; i++) {
            const zone_server_t *s = &zone_pool_snapshot(pool)->servers[i];
            bool several = under[i] & (under[i] - 1);
            if (several && !in_unsplit_zone(pool, s, walk, n_walk)) {
                printf("%s: server %zu under numbers %#x\n", walk_cc[k], i, under[i]);
                overlaps++;
            }
        }
    }
    CHECK_INT_EQ(overlaps, 0);
    free(under);
    zone_pool_free(pool);
}

/*
 * Quarters still balance by weight: within the largest server's weight of each
 * other, the bound of a zone split on its own by greedy least-load. It is
 * guaranteed for a server's smallest split zone (here the countries); europe
 * and @, made of many small pieces, keep it through the tie-breaks.
 */
static void test_quarter_balance(void)
{
    zone_pool_t *pool = walk_pool(2026112401);
    zone_pool_params_t params = {10, 15};
    const zone_server_t *m[256];
    int ids[] = {zone_id_lookup("cz", 2), zone_id_lookup("ie", 2), ZONE_EUROPE,
                 ZONE_GLOBAL};

    for (size_t z = 0; z < 4; z++) {
        uint64_t load[4] = {0}, max_w = 0, lo = UINT64_MAX, hi = 0, sum = 0;
        for (int q = 0; q < 4; q++) {
            size_t n = zone_pool_members(pool, ids[z], 4, q, m, 256);
            for (size_t k = 0; k < n; k++) {
                uint64_t w = zone_weight(m[k], &params);
                load[q] += w;
                max_w = w > max_w ? w : max_w;
            }
            lo = load[q] < lo ? load[q] : lo;
            hi = load[q] > hi ? load[q] : hi;
            sum += load[q];
        }
        printf("balance %s: quarters %llu %llu %llu %llu, largest server %llu of %llu\n",
               zone_id_name(ids[z]), (unsigned long long)load[0],
               (unsigned long long)load[1], (unsigned long long)load[2],
               (unsigned long long)load[3], (unsigned long long)max_w,
               (unsigned long long)sum);
        CHECK(hi - lo <= max_w);
    }
    zone_pool_free(pool);
}

/* Chi-square critical value at p = 0.001 (Wilson-Hilferty, z = 3.090). */
static double chi2_crit(double df)
{
    double a = 2 / (9 * df), x = 1 - a + 3.090 * sqrt(a);
    return df * x * x * x;
}

/*
 * Within a zone a draw stays exactly proportional to weight among the servers
 * still available, backfill included. Walk nl (3 servers, not split) ->
 * europe, number q, 4 per answer: the fourth server is the one draw from
 * quarter q of europe with nl's servers taken, so over 200,000 answers (fixed
 * seed) its counts must match weight / (weight of quarter q minus nl) with
 * chi-square below the p = 0.001 critical value.
 */
static void test_backfill_shares(void)
{
    enum { N = 200000 };
    zone_pool_t *pool = walk_pool(2026112401);
    zone_pool_params_t params = {10, 15};
    const zone_server_t *m[256], *nl[8];
    int walk[2] = {zone_id_lookup("nl", 2), ZONE_EUROPE}, q = 1;
    size_t n_nl = zone_pool_members(pool, walk[0], 4, -1, nl, 8), n_q, k_left = 0;
    double expect[256], w_left = 0;
    unsigned long count[256] = {0};
    size_t slot[256];
    zone_rng_t rng;

    CHECK_INT_EQ(n_nl, 3);
    n_q = zone_pool_members(pool, ZONE_EUROPE, 4, q, m, 256);
    for (size_t k = 0; k < n_q; k++) {
        bool taken = false;
        for (size_t j = 0; j < n_nl; j++)
            taken |= m[k] == nl[j];
        slot[k] = taken ? SIZE_MAX : k_left;
        if (!taken) {
            expect[k_left++] = (double)zone_weight(m[k], &params);
            w_left += (double)zone_weight(m[k], &params);
        }
    }
    zone_rng_seed(&rng, 4242);
    int wrong = 0;
    for (int r = 0; r < N; r++) {
        zone_pick_t pick;
        zone_pool_pick(pool, 4, q, walk, 2, 4, &rng, &pick);
        size_t k = 0;
        while (k < n_q && m[k] != pick.srv[3])
            k++;
        if (pick.n != 4 || k == n_q || slot[k] == SIZE_MAX) {
            wrong++;
            continue;
        }
        count[slot[k]]++;
    }
    for (size_t k = 0; k < k_left; k++)
        expect[k] = N * expect[k] / w_left;
    double x2 = chi_square(count, expect, k_left);
    printf("backfill shares: chi-square %.2f (%zu df, critical %.3f at p=0.001)\n", x2,
           k_left - 1, chi2_crit((double)(k_left - 1)));
    CHECK_INT_EQ(wrong, 0);
    CHECK(k_left >= 10);
    CHECK(x2 < chi2_crit((double)(k_left - 1)));
    zone_pool_free(pool);
}

/* ---- (4) backfill order ------------------------------------------------- */

static void test_backfill(void)
{
    int de = zone_id_lookup("de", 2), it = zone_id_lookup("it", 2),
        jp = zone_id_lookup("jp", 2);
    text_t t = {0};
    char ip[32];

    /* de: 2 eligible + 1 below min_score; europe: 6 more (fr); asia: jp 1 +
     * cn 1; @: 10 us servers. */
    server(&t, "10.1.0.1", 20, 1000, "\"de\", \"europe\"");
    server(&t, "10.1.0.2", 20, 1000, "\"de\", \"europe\"");
    server(&t, "10.1.0.3", 5, 1000000, "\"de\", \"europe\"");
    for (int i = 0; i < 6; i++) {
        snprintf(ip, sizeof ip, "10.2.0.%d", i + 1);
        server(&t, ip, 20, 100000, "\"fr\", \"europe\"");
    }
    server(&t, "10.3.0.1", 20, 1000, "\"jp\", \"asia\"");
    server(&t, "10.3.0.2", 20, 1000, "\"cn\", \"asia\"");
    for (int i = 0; i < 10; i++) {
        snprintf(ip, sizeof ip, "10.4.0.%d", i + 1);
        server(&t, ip, 20, 1000000, "\"us\", \"north-america\"");
    }
    zone_pool_t *pool = build(&t, 1, 10, 15);
    zone_rng_t rng;
    zone_rng_seed(&rng, 11);
    int walk[3], order_bad = 0, dups = 0, flags_bad = 0;
    size_t n_walk;
    zone_pick_t pick;

    for (int r = 0; r < 5000; r++) {
        /* de: its 2 eligible first (light as they are), then 2 from europe. */
        n_walk = zone_walk(de, walk);
        CHECK_INT_EQ(zone_pool_pick(pool, 4, -1, walk, n_walk, 4, &rng, &pick), 4);
        size_t i0 = index_of(pool, pick.srv[0]), i1 = index_of(pool, pick.srv[1]);
        order_bad += !((i0 == 0 && i1 == 1) || (i0 == 1 && i1 == 0));
        for (size_t k = 2; k < 4; k++) {
            size_t i = index_of(pool, pick.srv[k]);
            order_bad += i < 3 || i > 8;
            dups += k == 3 && pick.srv[2] == pick.srv[3];
        }
        flags_bad += pick.zone != de || !pick.backfill;

        /* it has no servers: europe answers, no backfill needed. */
        n_walk = zone_walk(it, walk);
        zone_pool_pick(pool, 4, -1, walk, n_walk, 4, &rng, &pick);
        flags_bad += pick.n != 4 || pick.zone != ZONE_EUROPE || pick.backfill;

        /* jp: 1 own, 1 more from asia, 2 from @ (us, the rest of @ being
         * already picked or light). */
        n_walk = zone_walk(jp, walk);
        zone_pool_pick(pool, 4, -1, walk, n_walk, 4, &rng, &pick);
        order_bad += pick.n != 4 || index_of(pool, pick.srv[0]) != 9 ||
                     index_of(pool, pick.srv[1]) != 10;
        for (size_t a = 0; a < pick.n; a++)
            for (size_t b = 0; b < a; b++)
                dups += pick.srv[a] == pick.srv[b];
        flags_bad += pick.zone != jp || !pick.backfill;
    }
    CHECK_INT_EQ(order_bad, 0);
    CHECK_INT_EQ(dups, 0);
    CHECK_INT_EQ(flags_bad, 0);

    /* A walk that finds nothing: no servers, zone -1. */
    n_walk = zone_walk(it, walk);
    CHECK_INT_EQ(zone_pool_pick(pool, 6, -1, walk, n_walk, 4, &rng, &pick), 0);
    CHECK_INT_EQ(pick.zone, -1);
    CHECK(!pick.backfill);
    /* want above ZONE_PICK_MAX is capped; the whole pool has 19 eligible. */
    CHECK_INT_EQ(zone_pool_pick(pool, 4, -1, walk, n_walk, 100, &rng, &pick),
                 ZONE_PICK_MAX);
    zone_pool_free(pool);
}

/* ---- report --------------------------------------------------------------- */

static void test_report(void)
{
    zone_pool_t *pool = quarter_pool(20, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    zone_pool_report(pool, f);
    fclose(f);
    unsigned e4, t4, e6, t6;
    const char *de = strstr(buf, "\nde "), *fr = strstr(buf, "\nfr ");
    CHECK(de && sscanf(de, " de %u/%u %u/%u", &e4, &t4, &e6, &t6) == 4 && e4 == 20 &&
          t4 == 23 && e6 == 0 && t6 == 0);
    CHECK(fr && sscanf(fr, " fr %u/%u %u/%u", &e4, &t4, &e6, &t6) == 4 && e4 == 5 &&
          t4 == 5 && e6 == 0 && t6 == 0);
    CHECK_STR_HAS(buf, "top 10 servers of @ hold ");
    CHECK_STR_HAS(buf, "10.0.0.7 ");
    CHECK(!strstr(buf, "\nit ")); /* zones without servers are left out */
    free(buf);
    zone_pool_free(pool);
}

int main(void)
{
    test_quarters();
    test_quarter_threshold();
    test_quarters_across_walk();
    test_numbers_disjoint();
    test_quarter_balance();
    test_backfill_shares();
    test_backfill();
    test_report();
    return check_summary("test_select_walk");
}
