/*
 * test_balance.c - the keep-fraction solver on hand-made cases whose optimum
 * is worked out in the comments (docs/balancing.md "Model"), and the per-slot
 * spill of zone_pool_pick_keep(): with fixed seeds, the realised keep
 * fraction and the within-zone weights match the model, servers stay
 * distinct, and keep 1 draws exactly what zone_pool_pick() draws.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"
#include "check.h"

#define NEAR(a, b, tol) CHECK(fabs((a) - (b)) <= (tol))
#define NEAR_MSG(a, b, tol)                                                              \
    do {                                                                                 \
        double near_a_ = (a), near_b_ = (b);                                             \
        if (fabs(near_a_ - near_b_) > (tol))                                             \
            fprintf(stderr, "  %s = %.9f, expected %.9f\n", #a, near_a_, near_b_);       \
        NEAR(near_a_, near_b_, tol);                                                     \
    } while (0)

/* ---- the solver on small graphs ---------------------------------------- */

typedef struct small {
    zone_bal_t *b;
    zone_bal_zone_t zones[8];
    zone_bal_result_t res;
} small_t;

static void solve(small_t *s, const double *demand, const double *pinned, double R)
{
    s->res = (zone_bal_result_t){.zones = s->zones};
    CHECK_INT_EQ(zone_bal_solve(s->b, demand, pinned, R, &s->res), 0);
}

/* One overloaded country. Zones: 0 "@", 1 "de", 2 "fr", both walking to "@".
 * de holds 10 of 100 weight units, fr 90; demand 50/50. Without spill de's
 * servers carry (50/100)/(10/100) = 5. With keep k: r_de = 5k, r_@ = 0.5(1-k),
 * 5k + 0.5 - 0.5k = 2 gives k = 1/3 exactly; fr untouched. */
static void test_one_country(void)
{
    int next[] = {-1, 0, 0}, de = 1, fr = 2;
    double demand[] = {0, 50, 50};
    small_t s = {.b = zone_bal_new(3, next)};

    CHECK(s.b != NULL);
    CHECK_INT_EQ(zone_bal_add(s.b, 10, &de, NULL, 1), 0);
    CHECK_INT_EQ(zone_bal_add(s.b, 90, &fr, NULL, 1), 0);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.zones[1].keep, 1.0 / 3, 1e-6);
    NEAR_MSG(s.zones[2].keep, 1.0, 1e-12);
    NEAR_MSG(s.res.worst_without, 5.0, 1e-9);
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    NEAR_MSG(s.zones[1].ratio_with, 2.0, 1e-6);
    NEAR_MSG(s.zones[2].ratio_with, 50.0 / 90 + 1.0 / 3, 1e-6);
    NEAR_MSG(s.zones[1].demand_share, 0.5, 1e-12);
    NEAR_MSG(s.zones[1].capacity_share, 0.1, 1e-12);
    NEAR_MSG(s.res.local_share, (50.0 / 3 + 50) / 100, 1e-6);
    CHECK(!s.res.fallback);
    /* A looser bound spills less: 5k + 0.5(1-k) = 3 -> k = 5/9. */
    solve(&s, demand, NULL, 3.0);
    NEAR_MSG(s.zones[1].keep, 5.0 / 9, 1e-6);
    zone_bal_free(s.b);
}

/* An overloaded continent. Zones: 0 "@", 1 "asia" -> "@", 2 "jp" -> "asia".
 * jp's servers (10 of 100, also in asia) are the only ones in asia; the rest
 * are only in "@". Case A: demand asia 30, "@" 70 (clients of countries
 * without servers start at asia): r_asia = 3k, r_@ = 0.7 + 0.3(1-k),
 * 3k + 1 - 0.3k = 2 -> k = 1/2.7. Case B: jp 10, asia 20, "@" 70: the country
 * goes first, keeps everything (r_jp = 1), and asia gets what is left:
 * 1 + 2k + 0.9 - 0.2k = 2 -> k = 1/18. */
static void test_continent(void)
{
    int next[] = {-1, 0, 1}, both[] = {2, 1};
    double a[] = {70, 30, 0}, b[] = {70, 20, 10};
    small_t s = {.b = zone_bal_new(3, next)};

    CHECK_INT_EQ(zone_bal_add(s.b, 10, both, NULL, 2), 0);
    CHECK_INT_EQ(zone_bal_add(s.b, 90, NULL, NULL, 0), 0);
    solve(&s, a, NULL, 2.0);
    NEAR_MSG(s.zones[1].keep, 1 / 2.7, 1e-6);
    NEAR_MSG(s.zones[2].keep, 1.0, 1e-12); /* no demand of its own: untouched */
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    NEAR_MSG(s.res.worst_without, 3.7, 1e-9);
    solve(&s, b, NULL, 2.0);
    NEAR_MSG(s.zones[2].keep, 1.0, 1e-9);
    NEAR_MSG(s.zones[1].keep, 1.0 / 18, 1e-6);
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    zone_bal_free(s.b);
}

/* Servers in two zones: one server (1 of 100) is the whole of countries x and
 * y; the rest are only in "@". Demand x 1, y 1, "@" 98: without spill it
 * carries r_x + r_y + r_@ = 1 + 1 + 0.98. The optimum keeps as much as
 * possible; by symmetry kx = ky = k: 2k + (98 + 2(1-k))/100 = 2 ->
 * k = 1/1.98. A third zone z with a server of its own and the shared one. */
static void test_shared(void)
{
    int next[] = {-1, 0, 0}, both[] = {1, 2};
    double demand[] = {98, 1, 1};
    small_t s = {.b = zone_bal_new(3, next)};

    CHECK_INT_EQ(zone_bal_add(s.b, 1, both, NULL, 2), 0);
    CHECK_INT_EQ(zone_bal_add(s.b, 99, NULL, NULL, 0), 0);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.zones[1].keep, 1 / 1.98, 1e-6);
    NEAR_MSG(s.zones[2].keep, 1 / 1.98, 1e-6);
    NEAR_MSG(s.res.worst_without, 2.98, 1e-9);
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    /* Duplicates and the root in a server's list change nothing. */
    int messy[] = {2, 0, 1, 2};
    CHECK_INT_EQ(zone_bal_add(s.b, 1, messy, NULL, 4), 0);
    CHECK_INT_EQ(zone_bal_add(s.b, 1, (int[]){3}, NULL, 1), -1);
    zone_bal_free(s.b);
}

/* Every zone under capacity: nothing spills, ratios are demand / capacity. */
static void test_no_spill(void)
{
    int next[] = {-1, 0, 0}, de = 1, fr = 2;
    double demand[] = {0, 40, 60};
    small_t s = {.b = zone_bal_new(3, next)};

    zone_bal_add(s.b, 50, &de, NULL, 1);
    zone_bal_add(s.b, 50, &fr, NULL, 1);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.zones[1].keep, 1.0, 0);
    NEAR_MSG(s.zones[2].keep, 1.0, 0);
    NEAR_MSG(s.res.worst_without, 1.2, 1e-12);
    NEAR_MSG(s.res.worst_with, 1.2, 1e-12);
    NEAR_MSG(s.res.local_share, 1.0, 1e-12);
    CHECK_INT_EQ(s.res.iterations, 1);
    /* No demand at all: nothing to do, no division by zero. */
    double none[] = {0, 0, 0};
    solve(&s, none, NULL, 2.0);
    NEAR_MSG(s.zones[1].keep, 1.0, 0);
    NEAR_MSG(s.res.worst_with, 0, 0);
    /* Bad arguments. */
    double neg[] = {0, -1, 0}, nan_[] = {0, NAN, 0};
    CHECK_INT_EQ(zone_bal_solve(s.b, neg, NULL, 2.0, &s.res), -1);
    CHECK_INT_EQ(zone_bal_solve(s.b, nan_, NULL, 2.0, &s.res), -1);
    CHECK_INT_EQ(zone_bal_solve(s.b, demand, NULL, 0.5, &s.res), -1);
    zone_bal_free(s.b);
}

/* Infeasible locally: with max ratio 1 a zone holding 1% of the weight can
 * keep nothing of a demand that is all its own (r = 100k + (1 - k) <= 1 only
 * at k = 0): everything goes to "@", where every server is at exactly 1. When
 * pinned (never spilled) draws alone break the bound, the solver says so. */
static void test_infeasible(void)
{
    int next[] = {-1, 0}, xx = 1;
    double demand[] = {0, 100}, none[] = {0, 0}, pinned[] = {0, 100};
    small_t s = {.b = zone_bal_new(2, next)};

    zone_bal_add(s.b, 1, &xx, NULL, 1);
    zone_bal_add(s.b, 99, NULL, NULL, 0);
    solve(&s, demand, NULL, 1.0);
    NEAR_MSG(s.zones[1].keep, 0, 1e-6);
    NEAR_MSG(s.res.worst_with, 1.0, 1e-6);
    NEAR_MSG(s.res.worst_without, 100.0, 1e-9);
    solve(&s, none, pinned, 2.0);
    CHECK(s.res.fallback);
    NEAR_MSG(s.res.worst_with, 100.0, 1e-9);
    zone_bal_free(s.b);
}

/* A zone without servers passes its demand on to the next zone. */
static void test_empty_zone(void)
{
    int next[] = {-1, 0, 1}, eu = 1;
    double demand[] = {0, 0, 10};
    small_t s = {.b = zone_bal_new(3, next)};

    zone_bal_add(s.b, 50, &eu, NULL, 1);
    zone_bal_add(s.b, 50, NULL, NULL, 0);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.zones[2].keep, 0, 0);
    NEAR_MSG(s.zones[1].keep, 1, 1e-12); /* r_eu = 2 exactly: allowed */
    NEAR_MSG(s.res.worst_with, 2.0, 1e-9);
    zone_bal_free(s.b);
}

/* Quarters: numbered names spread a zone's load evenly over its four
 * quarters, so a server in a light quarter carries more. Country x holds 10
 * of 100 weight units, its quarters 1, 3, 3, 3; demand x 10, "@" 90. The
 * first quarter's servers carry c = 10 / (4 x 1) = 2.5 times r_x: without
 * spill 2.5 + 0.9 = 3.4; with keep k, 2.5k + 0.9 + 0.1(1 - k) = 2 gives
 * k = 1 / 2.4. "@" unsplit here. */
static void test_quarters(void)
{
    int next[] = {-1, 0}, x[] = {1};
    double demand[] = {90, 10};
    small_t s = {.b = zone_bal_new(2, next)};

    for (int q = 0; q < 4; q++)
        CHECK_INT_EQ(zone_bal_add(s.b, q ? 3 : 1, x, &q, 1), 0);
    zone_bal_add(s.b, 90, NULL, NULL, 0);
    CHECK_INT_EQ(zone_bal_add(s.b, 1, x, (int[]){4}, 1), -1);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.res.worst_without, 3.4, 1e-9);
    NEAR_MSG(s.zones[1].keep, 1 / 2.4, 1e-6);
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    zone_bal_free(s.b);
}

/* Backfill: a zone whose table has 2 servers serves at most 2 of 4 slots, the
 * rest go on as load of the next zone. Zones 0 "@", 1 "y" with 2 servers of
 * weight 1 (of 100); demand all at y. Without spill y serves half the slots:
 * r_y = 0.5 / 0.02 = 25, r_@ = 0.5, 25.5 in all. With spill, y serving a
 * share s of the slots: 50 s + (1 - s) = 2 -> s = 1 / 49; the keep per slot
 * k solves E[min(Bin(4, k), 2)] / 4 = s. */
static void test_backfill(void)
{
    int next[] = {-1, 0}, y = 1;
    double demand[] = {0, 1};
    unsigned sizes[] = {2};
    small_t s = {.b = zone_bal_new(2, next)};

    zone_bal_add(s.b, 2, &y, NULL, 1);
    zone_bal_add(s.b, 98, NULL, NULL, 0);
    CHECK_INT_EQ(zone_bal_set_tables(s.b, 1, 4, sizes, 1), 0);
    solve(&s, demand, NULL, 2.0);
    NEAR_MSG(s.res.worst_without, 25.5, 1e-9);
    double k = s.zones[1].keep, served = 0;
    for (int j = 1; j <= 4; j++) { /* C(4, j) k^j (1-k)^(4-j) min(j, 2) */
        double c = j == 1 ? 4 : j == 2 ? 6 : j == 3 ? 4 : 1;
        served += c * pow(k, j) * pow(1 - k, 4 - j) * (j < 2 ? j : 2);
    }
    NEAR_MSG(served / 4, 1.0 / 49, 1e-6);
    NEAR_MSG(s.res.worst_with, 2.0, 1e-6);
    zone_bal_free(s.b);
}

/* ---- per-slot spill on a real pool ------------------------------------- */

static zone_pool_t *pool_of(const char *json)
{
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    zone_snapshot_t *snap = NULL;
    zone_errors_t e;

    zone_errors_init(&e);
    int rc = zone_snapshot_parse("test", json, strlen(json), &snap, &e);
    zone_errors_print(&e, stderr);
    zone_errors_deinit(&e);
    if (rc != 0)
        exit(1);
    zone_pool_t *pool = zone_pool_new(snap, &params);
    if (!pool)
        exit(1);
    return pool;
}

/* Four servers each in de, fr (both also europe) and us (north-america);
 * netspeeds 1000..4000 in de and fr, 5000 in us; all at full score. */
static zone_pool_t *three_countries(void)
{
    static char json[4096];
    size_t len = (size_t)snprintf(json, sizeof json, "{\"serial\": 1, \"servers\": [");
    const char *zones[] = {"\"de\", \"europe\"", "\"fr\", \"europe\"",
                           "\"us\", \"north-america\""};
    for (int c = 0; c < 3; c++)
        for (int i = 1; i <= 4; i++)
            len += (size_t)snprintf(
                json + len, sizeof json - len,
                "%s{\"ip\": \"10.0.%d.%d\", \"score\": 20, \"netspeed\": "
                "%d, \"zones\": [%s]}",
                c || i > 1 ? "," : "", c, i, c == 2 ? 5000 : 1000 * i, zones[c]);
    snprintf(json + len, sizeof json - len, "]}");
    return pool_of(json);
}

static int zid(const char *name)
{
    return zone_id_lookup(name, strlen(name));
}

/* keep all ones draws exactly what zone_pool_pick() draws, seed for seed,
 * and keep NULL is zone_pool_pick() itself. */
static void test_pick_same(void)
{
    zone_pool_t *pool = three_countries();
    zone_keep_t keep;
    zone_rng_t a, b;
    zone_pick_t pa, pb;
    zone_pick_info_t info;
    int walk[3], bad = 0;
    size_t n_walk = zone_walk(zid("de"), walk);

    zone_keep_init(&keep);
    for (int mode = 0; mode < 2; mode++) {
        zone_rng_seed(&a, 11);
        zone_rng_seed(&b, 11);
        for (int i = 0; i < 20000; i++) {
            int q = i % 5 - 1;
            size_t want = 1 + (size_t)i % 8;
            zone_pool_pick(pool, 4, q, walk, n_walk, want, &a, &pa);
            zone_pool_pick_keep(pool, 4, q, walk, n_walk, want, mode ? &keep : NULL, &b,
                                &pb, &info);
            bad += pa.n != pb.n || pa.zone != pb.zone || pa.backfill != pb.backfill ||
                   memcmp(pa.srv, pb.srv, pa.n * sizeof *pa.srv) != 0 || info.spilled;
        }
    }
    CHECK_INT_EQ(bad, 0);
    zone_pool_free(pool);
}

/* One slot, keep de 0.3, europe 0.5: a server's probability is
 * 0.3 w/W_de + 0.7 x 0.5 w/W_eu + 0.35 w/W_@ (each term only where it is a
 * member). 200,000 draws against that: chi-square with 11 degrees of freedom
 * below 40 (p ~ 1e-4); the share of spilled answers, 0.7, within 5 sigma. */
static void test_pick_shares(void)
{
    zone_pool_t *pool = three_countries();
    const zone_server_t *base = zone_pool_snapshot(pool)->servers;
    zone_keep_t keep;
    zone_rng_t rng;
    zone_pick_t pick;
    zone_pick_info_t info;
    int walk[3];
    size_t n_walk = zone_walk(zid("de"), walk), N = 200000, spilled = 0;
    unsigned long obs[12] = {0};
    double expect[12], chi = 0;
    const double W_de = 10000, W_eu = 20000, W = 40000;

    zone_keep_init(&keep);
    keep.keep[zid("de")][0] = 0.3f;
    keep.keep[zid("europe")][0] = 0.5f;
    zone_rng_seed(&rng, 5);
    for (size_t i = 0; i < N; i++) {
        zone_pool_pick_keep(pool, 4, -1, walk, n_walk, 1, &keep, &rng, &pick, &info);
        obs[pick.srv[0] - base]++;
        spilled += info.spilled;
        CHECK_INT_EQ(info.home, zid("de"));
    }
    for (int s = 0; s < 12; s++) {
        double w = base[s].netspeed, p = 0.35 * w / W;
        if (s < 4)
            p += 0.3 * w / W_de;
        if (s < 8)
            p += 0.35 * w / W_eu;
        expect[s] = p * (double)N;
        chi += ((double)obs[s] - expect[s]) * ((double)obs[s] - expect[s]) / expect[s];
    }
    if (chi >= 40)
        fprintf(stderr, "  chi-square %.1f\n", chi);
    CHECK(chi < 40);
    NEAR_MSG((double)spilled, 0.7 * (double)N, 5 * sqrt(N * 0.21));
    zone_pool_free(pool);
}

/* Four slots: distinct servers; each slot decides on its own, so an answer
 * spills unless all four stay (1 - 0.3^4); keep 0 everywhere draws from "@"
 * alone, in proportion to weight. */
static void test_pick_slots(void)
{
    zone_pool_t *pool = three_countries();
    const zone_server_t *base = zone_pool_snapshot(pool)->servers;
    zone_keep_t keep;
    zone_rng_t rng;
    zone_pick_t pick;
    zone_pick_info_t info;
    int walk[3], dup = 0, short_ = 0;
    size_t n_walk = zone_walk(zid("de"), walk), N = 50000, spilled = 0;
    unsigned long obs[12] = {0};

    zone_keep_init(&keep);
    keep.keep[zid("de")][0] = 0.3f;
    zone_rng_seed(&rng, 9);
    for (size_t i = 0; i < N; i++) {
        zone_pool_pick_keep(pool, 4, -1, walk, n_walk, 4, &keep, &rng, &pick, &info);
        short_ += pick.n != 4;
        for (size_t x = 0; x < pick.n; x++)
            for (size_t y = x + 1; y < pick.n; y++)
                dup += pick.srv[x] == pick.srv[y];
        spilled += info.spilled;
    }
    CHECK_INT_EQ(dup, 0);
    CHECK_INT_EQ(short_, 0);
    double p = 1 - pow(0.3, 4);
    NEAR_MSG((double)spilled, p * (double)N, 5 * sqrt((double)N * p * (1 - p)));

    keep.keep[zid("de")][0] = 0;
    keep.keep[zid("europe")][0] = 0;
    for (size_t i = 0; i < N; i++) {
        zone_pool_pick_keep(pool, 4, -1, walk, n_walk, 1, &keep, &rng, &pick, &info);
        obs[pick.srv[0] - base]++;
    }
    double chi = 0;
    for (int s = 0; s < 12; s++) {
        double e = (double)base[s].netspeed / 40000 * (double)N;
        chi += ((double)obs[s] - e) * ((double)obs[s] - e) / e;
    }
    CHECK(chi < 40);
    zone_pool_free(pool);
}

/* The solver on a real pool: de and fr share europe's servers. */
static void test_from_pool(void)
{
    zone_pool_t *pool = three_countries();
    zone_bal_t *b = zone_bal_from_pool(pool, 4, 4);
    static zone_bal_zone_t zones[ZONE_ID_MAX];
    zone_bal_result_t res = {.zones = zones};
    double demand[ZONE_ID_MAX] = {0};

    CHECK(b != NULL);
    /* Demand in proportion to weight everywhere: every ratio is 1 with the
     * three zones a server is in (country, continent, "@") each giving 1/3. */
    demand[zid("de")] = 10;
    demand[zid("fr")] = 10;
    demand[zid("us")] = 20;
    CHECK_INT_EQ(zone_bal_solve(b, demand, NULL, 2.0, &res), 0);
    NEAR_MSG(res.worst_without, 1.0, 1e-9);
    NEAR_MSG(zones[zid("de")].capacity_share, 0.25, 1e-12);
    NEAR_MSG(zones[zid("europe")].capacity_share, 0.5, 1e-12);
    NEAR_MSG(zones[zid("de")].keep, 1, 0);
    /* All of the demand in de: 4 without spill (de's servers carry r_de =
     * 4; "@" has 12 servers and so quarters, whose correction adds to what
     * its servers carry); with spill de keeps less than 1/3 (4k + (1 - k) =
     * 2 without quarters), europe keeps nothing (de's servers have no budget
     * left for it) and the bound holds. */
    demand[zid("fr")] = demand[zid("us")] = 0;
    CHECK_INT_EQ(zone_bal_solve(b, demand, NULL, 2.0, &res), 0);
    NEAR_MSG(zones[zid("de")].ratio_without, 4.0, 1e-9);
    CHECK(zones[zid("de")].keep > 0.2 && zones[zid("de")].keep < 1.0 / 3);
    NEAR_MSG(zones[zid("europe")].keep, 0, 1e-6);
    NEAR_MSG(res.worst_with, 2.0, 1e-6);
    zone_bal_free(b);
    zone_pool_free(pool);
}

/* NTS-KE endpoints as a third family: de has four IPv4 servers but one
 * endpoint (weight 1), fr and us four each (weights 1..4 and 5): all NTS
 * demand in de overloads its one endpoint, which then keeps less than 1 of
 * it while the IPv4 problem of the same pool is untouched by that demand. */
static void test_from_pool_nts(void)
{
    static char json[8192];
    size_t len = (size_t)snprintf(json, sizeof json, "{\"serial\": 1, \"servers\": [");
    const char *zones[] = {"\"de\", \"europe\"", "\"fr\", \"europe\"",
                           "\"us\", \"north-america\""};
    for (int c = 0; c < 3; c++)
        for (int i = 1; i <= 4; i++) {
            char nts[96] = "";
            if (c || i == 1)
                snprintf(nts, sizeof nts, ", \"nts\": {\"host\": \"nts%d-%d.example\"}",
                         c, i);
            len += (size_t)snprintf(
                json + len, sizeof json - len,
                "%s{\"ip\": \"10.0.%d.%d\", \"score\": 20, \"netspeed\": "
                "%d, \"zones\": [%s]%s}",
                c || i > 1 ? "," : "", c, i, c == 2 ? 5000 : 1000 * i, zones[c], nts);
        }
    snprintf(json + len, sizeof json - len, "]}");
    zone_pool_t *pool = pool_of(json);
    zone_bal_t *b = zone_bal_from_pool(pool, ZONE_NTS, 4);
    static zone_bal_zone_t zones_out[ZONE_ID_MAX];
    zone_bal_result_t res = {.zones = zones_out};
    double demand[ZONE_ID_MAX] = {0};

    CHECK(b != NULL);
    demand[zid("de")] = 100;
    CHECK_INT_EQ(zone_bal_solve(b, demand, NULL, 2.0, &res), 0);
    /* de's one endpoint: 1 of 1 + 10 + 20 = 31 units of weight. */
    NEAR_MSG(zones_out[zid("de")].capacity_share, 1.0 / 31, 1e-12);
    CHECK(zones_out[zid("de")].ratio_without > 2);
    CHECK(zones_out[zid("de")].keep < 1);
    CHECK(res.worst_with <= 2.0 + 1e-6);
    zone_bal_free(b);
    /* The A problem: de's four servers, 10 of 40 units. */
    b = zone_bal_from_pool(pool, 4, 4);
    CHECK(b != NULL);
    CHECK_INT_EQ(zone_bal_solve(b, demand, NULL, 2.0, &res), 0);
    NEAR_MSG(zones_out[zid("de")].capacity_share, 0.25, 1e-12);
    zone_bal_free(b);
    zone_pool_free(pool);
}

/* ---- demand tables ------------------------------------------------------ */

static int parse(const char *text, zone_demand_t *t, zone_errors_t *e)
{
    zone_errors_init(e);
    return zone_demand_parse("d.json", text, strlen(text), t, e);
}

static void test_demand_parse(void)
{
    static zone_demand_t t;
    zone_errors_t e;

    CHECK_INT_EQ(parse("{\"serial\": 7, \"demand\": {\"cn\": {\"4\": 1200.5, \"6\": 30},"
                       " \"gb\": {\"4\": 310}, \"@\": {\"4\": 40}}}",
                       &t, &e),
                 0);
    CHECK_INT_EQ(t.serial, 7);
    NEAR(t.rate[zid("cn")][0], 1200.5, 0);
    NEAR(t.rate[zid("cn")][1], 30, 0);
    NEAR(t.rate[zid("uk")][0], 310, 0); /* gb is uk's alias */
    NEAR(t.rate[zid("@")][0], 40, 0);
    NEAR(t.rate[zid("de")][0], 0, 0);
    zone_errors_deinit(&e);
    /* NTS (SRV) demand is a family of its own. */
    CHECK_INT_EQ(
        parse("{\"serial\": 8, \"demand\": {\"de\": {\"nts\": 5, \"4\": 1}}}", &t, &e),
        0);
    NEAR(t.rate[zid("de")][zone_bal_family(ZONE_NTS)], 5, 0);
    NEAR(t.rate[zid("de")][0], 1, 0);
    zone_errors_deinit(&e);
    CHECK_INT_EQ(parse("{\"serial\": 8, \"demand\": {\"de\": {\"nts\": -5, \"NTS\": 1, "
                       "\"nts\": 2}}}",
                       &t, &e),
                 -1);
    CHECK_INT_EQ(e.n, 3);
    CHECK_STR_HAS(e.n > 0 ? e.msgs[0] : "", "demand.de.nts: negative");
    CHECK_STR_HAS(e.n > 1 ? e.msgs[1] : "", "demand.de.NTS: unknown family");
    CHECK_STR_HAS(e.n > 2 ? e.msgs[2] : "", "demand.de.nts: duplicate family");
    zone_errors_deinit(&e);

    /* Every error, each with its line and column; nothing after a syntax
     * error is trusted, everything before it is reported. */
    CHECK_INT_EQ(parse("{\"serial\": -1,\n"
                       " \"demand\": {\"xx\": {\"4\": 1},\n"
                       "  \"de\": {\"4\": -3, \"5\": 2, \"6\": 1e999, \"4\": 1},\n"
                       "  \"fr\": [1], \"uk\": {\"4\": 1}, \"gb\": {\"4\": 2}},\n"
                       " \"extra\": true}",
                       &t, &e),
                 -1);
    const char *want[] = {
        "d.json:1:12: serial: must be a non-negative integer (got \"-1\")",
        "d.json:2:13: demand.xx: unknown zone",
        "d.json:3:15: demand.de.4: negative (got \"-3\")",
        "d.json:3:19: demand.de.5: unknown family, expected \"4\", \"6\" or \"nts\"",
        "d.json:3:32: demand.de.6: not finite (got \"1e999\")",
        "d.json:3:39: demand.de.4: duplicate family",
        ("d.json:4:9: demand.fr: wrong type: expected an object of families (got an "
         "array)"),
        "d.json:4:30: demand.gb: duplicate zone",
        "d.json:5:2: extra: unknown key",
    };
    CHECK_INT_EQ(e.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < e.n && i < sizeof want / sizeof *want; i++)
        CHECK_STR_EQ(e.msgs[i], want[i]);
    zone_errors_deinit(&e);

    CHECK_INT_EQ(parse("{\"demand\": {}}", &t, &e), -1);
    CHECK_INT_EQ(e.n, 1);
    CHECK_STR_HAS(e.n ? e.msgs[0] : "", "d.json:1:1: (document): missing key \"serial\"");
    zone_errors_deinit(&e);
    CHECK_INT_EQ(parse("{\"serial\": 1, \"demand\": {}} x", &t, &e), -1);
    CHECK_STR_HAS(e.n ? e.msgs[0] : "", "syntax error");
    zone_errors_deinit(&e);
    CHECK_INT_EQ(parse("", &t, &e), -1);
    zone_errors_deinit(&e);
}

int main(void)
{
    test_one_country();
    test_continent();
    test_shared();
    test_no_spill();
    test_infeasible();
    test_empty_zone();
    test_quarters();
    test_backfill();
    test_pick_same();
    test_pick_shares();
    test_pick_slots();
    test_from_pool();
    test_from_pool_nts();
    test_demand_parse();
    return check_summary("test_balance");
}
