/*
 * test_nts.c - NTS-KE endpoints and SRV records: the snapshot's "nts" key
 * (good forms and every refusal, with line and column), host names, one
 * endpoint per (host, port) weighing the sum of its servers, SRV weight
 * scaling and RDATA bytes, and with fixed RNG seeds: endpoint shares match
 * weights, and RFC 2782's weighted ordering of an answer's records by their
 * scaled weights picks each endpoint first in proportion to its weight.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zones/zones.h"

static zone_snapshot_t *parse(const char *text, zone_errors_t *e)
{
    zone_snapshot_t *snap = NULL;

    zone_errors_init(e);
    zone_snapshot_parse("t.json", text, strlen(text), &snap, e);
    return snap;
}

/* ---- host names ---------------------------------------------------------- */

static void test_host_names(void)
{
    uint8_t lname[255];
    size_t len;
    const char *why;
    char big[300];

    CHECK_INT_EQ(zone_nts_host_parse("Time.Example.NET.", 17, lname, &len, &why), 0);
    CHECK_INT_EQ(len, 18);
    CHECK(memcmp(lname, "\4time\7example\3net", 18) == 0);
    CHECK_INT_EQ(zone_nts_host_parse("nts-1.a1", 8, lname, &len, &why), 0);
    CHECK_INT_EQ(zone_nts_host_parse("localhost", 9, lname, &len, &why), 0);

    const char *bad[][2] = {
        {"", "empty host name"},
        {".", "empty host name"},
        {"a..b", "empty label"},
        {".a", "empty label"},
        {"-a.example", "starts or ends with '-'"},
        {"a-.example", "starts or ends with '-'"},
        {"a_b.example", "not a host name"},
        {"a b.example", "not a host name"},
        {"*.example", "not a host name"},
        {"192.0.2.1", "all digits"},
        {"nts.123", "all digits"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        CHECK_INT_EQ(zone_nts_host_parse(bad[i][0], strlen(bad[i][0]), lname, &len, &why),
                     -1);
        CHECK_STR_HAS(why, bad[i][1]);
    }
    memset(big, 'a', 64);
    memcpy(big + 64, ".example", 9);
    CHECK_INT_EQ(zone_nts_host_parse(big, strlen(big), lname, &len, &why), -1);
    CHECK_STR_HAS(why, "longer than 63");
    for (int i = 0; i < 128; i++)
        memcpy(big + 2 * i, "a.", 2);
    memcpy(big + 256, "ab", 3); /* 129 labels: 258 bytes in wire form */
    CHECK_INT_EQ(zone_nts_host_parse(big, strlen(big), lname, &len, &why), -1);
    CHECK_STR_HAS(why, "longer than 255");
    big[252] = '\0'; /* 126 one-letter labels (and a final dot): 253 bytes */
    CHECK_INT_EQ(zone_nts_host_parse(big, strlen(big), lname, &len, &why), 0);
    CHECK_INT_EQ(len, 253);
}

/* ---- the snapshot key ---------------------------------------------------- */

#define SRV_LINE(extra)                                                                  \
    "{\"serial\": 1, \"servers\": [\n"                                                   \
    " {\"ip\": \"192.0.2.1\", \"score\": 20, \"netspeed\": 1000, \"zones\": []},\n"      \
    " {\"ip\": \"192.0.2.2\", \"score\": 20, \"netspeed\": 1000, \"zones\": [], "        \
    "\"nts\": " extra "}\n]}\n"

static void expect_refused(const char *text, const char *at, const char *what)
{
    zone_errors_t e;
    zone_snapshot_t *snap = parse(text, &e);

    CHECK(snap == NULL);
    CHECK(e.n >= 1);
    if (e.n >= 1) {
        CHECK_STR_HAS(e.msgs[0], at);
        CHECK_STR_HAS(e.msgs[0], what);
    }
    zone_snapshot_free(snap);
    zone_errors_deinit(&e);
}

static void test_snapshot_key(void)
{
    zone_errors_t e;
    size_t len;
    zone_snapshot_t *snap = parse(SRV_LINE("{\"host\": \"NTS.Example.org.\"}"), &e);

    CHECK(snap != NULL);
    zone_errors_print(&e, stderr);
    zone_errors_deinit(&e);
    if (snap) {
        CHECK_INT_EQ(snap->servers[0].nts_port, 0);
        CHECK(zone_server_nts_host(snap, &snap->servers[0], &len) == NULL);
        CHECK_INT_EQ(snap->servers[1].nts_port, ZONE_NTS_PORT_DEFAULT);
        const uint8_t *h = zone_server_nts_host(snap, &snap->servers[1], &len);
        CHECK(h && len == 17 && memcmp(h, "\3nts\7example\3org", 17) == 0);
        zone_snapshot_t *dup = zone_snapshot_dup(snap);
        CHECK(dup && dup->nts_names != snap->nts_names &&
              dup->servers[1].nts_port == 4460);
        h = dup ? zone_server_nts_host(dup, &dup->servers[1], &len) : NULL;
        CHECK(h && len == 17 && memcmp(h, "\3nts\7example\3org", 17) == 0);
        zone_snapshot_free(dup);
    }
    zone_snapshot_free(snap);
    snap = parse(SRV_LINE("{\"port\": 1, \"host\": \"a.example\"}"), &e);
    CHECK(snap && snap->servers[1].nts_port == 1);
    zone_snapshot_free(snap);
    zone_errors_deinit(&e);

    /* Line 3, the "nts" object at column 73, its values further right. */
    expect_refused(SRV_LINE("\"a.example\""),
                   "t.json:3:73: servers[1].nts:", "wrong type: expected an object");
    expect_refused(SRV_LINE("{}"),
                   "t.json:3:73: servers[1].nts:", "missing key \"host\"");
    expect_refused(SRV_LINE("{\"port\": 4460}"),
                   "3:73: servers[1].nts:", "missing key \"host\"");
    expect_refused(SRV_LINE("{\"host\": \"a_b.example\"}"),
                   "t.json:3:82: servers[1].nts.host:", "not a host name");
    expect_refused(SRV_LINE("{\"host\": \"192.0.2.9\"}"),
                   "3:82: servers[1].nts.host:", "all digits");
    expect_refused(SRV_LINE("{\"host\": 7}"),
                   "3:82: servers[1].nts.host:", "expected a host name");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"port\": 0}"),
                   "3:103: servers[1].nts.port:", "not a port 1..65535 (got \"0\")");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"port\": 65536}"),
                   "servers[1].nts.port:", "not a port");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"port\": 4460.5}"),
                   "servers[1].nts.port:", "not a port");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"port\": -1}"),
                   "servers[1].nts.port:", "not a port");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"port\": \"4460\"}"),
                   "servers[1].nts.port:", "expected a number");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"alpn\": \"ntske/1\"}"),
                   "servers[1].nts.alpn:", "unknown key");
    expect_refused(SRV_LINE("{\"host\": \"a.example\", \"host\": \"b.example\"}"),
                   "servers[1].nts.host:", "duplicate key");
}

/* ---- endpoints, weights and RDATA --------------------------------------- */

/* Four endpoints in de: A on a dual-stack host (two servers, 1000 + 1000),
 * B and C on the same host with other ports, D shared by a de and an fr
 * server; E in fr only; F on an ineligible server. */
static const char *const ENDPOINTS =
    "{\"serial\": 9, \"servers\": [\n"
    "{\"ip\": \"192.0.2.1\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"a.example\"}},\n"
    "{\"ip\": \"2001:db8::1\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"A.example.\", \"port\": 4460}},\n"
    "{\"ip\": \"192.0.2.2\", \"score\": 20, \"netspeed\": 3000, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"b.example\", \"port\": 4461}},\n"
    "{\"ip\": \"192.0.2.3\", \"score\": 20, \"netspeed\": 4000, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"b.example\", \"port\": 4462}},\n"
    "{\"ip\": \"192.0.2.4\", \"score\": 20, \"netspeed\": 500, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"d.example\"}},\n"
    "{\"ip\": \"192.0.2.5\", \"score\": 20, \"netspeed\": 500, \"zones\": [\"fr\"],"
    " \"nts\": {\"host\": \"d.example\"}},\n"
    "{\"ip\": \"192.0.2.6\", \"score\": 20, \"netspeed\": 700, \"zones\": [\"fr\"],"
    " \"nts\": {\"host\": \"e.example\"}},\n"
    "{\"ip\": \"192.0.2.7\", \"score\": 2, \"netspeed\": 700, \"zones\": [\"de\"],"
    " \"nts\": {\"host\": \"f.example\"}},\n"
    "{\"ip\": \"192.0.2.8\", \"score\": 20, \"netspeed\": 9000, \"zones\": [\"de\"]}\n"
    "]}\n";

static zone_pool_t *endpoint_pool(void)
{
    zone_errors_t e;
    zone_snapshot_t *snap = parse(ENDPOINTS, &e);
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};

    zone_errors_print(&e, stderr);
    zone_errors_deinit(&e);
    return snap ? zone_pool_new(snap, &params) : NULL;
}

/* The host of a picked endpoint as its first letter, and its port. */
static char host_letter(const zone_pool_t *pool, const zone_server_t *s)
{
    size_t len;
    const uint8_t *h = zone_server_nts_host(zone_pool_snapshot(pool), s, &len);
    return h ? (char)h[1] : '?';
}

static void test_endpoints(void)
{
    zone_pool_t *pool = endpoint_pool();
    int de = zone_id_lookup("de", 2), fr = zone_id_lookup("fr", 2), walk[3];
    unsigned listed, elig, eps;
    zone_rng_t rng;
    zone_pick_t pick;

    CHECK(pool != NULL);
    if (!pool)
        return;
    zone_pool_nts_counts(pool, de, &listed, &elig, &eps);
    CHECK(listed == 6 && elig == 5 && eps == 4);
    zone_pool_nts_counts(pool, fr, &listed, &elig, &eps);
    CHECK(listed == 2 && elig == 2 && eps == 2);
    zone_pool_nts_counts(pool, ZONE_GLOBAL, &listed, &elig, &eps);
    CHECK(listed == 8 && elig == 7 && eps == 5);

    /* All of de's endpoints, each once, weighing the sum of its servers. */
    zone_rng_seed(&rng, 1);
    CHECK_INT_EQ(zone_pool_pick(pool, ZONE_NTS, -1, &de, 1, 16, &rng, &pick), 4);
    uint64_t want[128] = {['a'] = 2000 * 1024, ['b'] = 0, ['d'] = 500 * 1024};
    for (size_t i = 0; i < pick.n; i++) {
        char h = host_letter(pool, pick.srv[i]);
        uint16_t port = pick.srv[i]->nts_port;
        uint64_t w = h == 'b' ? (port == 4461 ? 3000 : 4000) * 1024u : want[(int)h];
        CHECK(w != 0 && pick.weight[i] == w);
        CHECK(h != 'f');
    }
    /* In "@", d.example weighs its de and its fr server. */
    walk[0] = ZONE_GLOBAL;
    CHECK_INT_EQ(zone_pool_pick(pool, ZONE_NTS, -1, walk, 1, 16, &rng, &pick), 5);
    for (size_t i = 0; i < pick.n; i++)
        if (host_letter(pool, pick.srv[i]) == 'd')
            CHECK_INT_EQ(pick.weight[i], 1000 * 1024);
    /* Backfill along the walk: fr's two, then de's four (d.example once). */
    CHECK_INT_EQ(zone_walk(fr, walk), 3);
    CHECK_INT_EQ(zone_pool_pick(pool, ZONE_NTS, -1, walk, 3, 16, &rng, &pick), 5);
    CHECK(pick.zone == fr && pick.backfill);
    /* No numbered NTS names: quarters are not NTS tables. */
    CHECK_INT_EQ(zone_pool_pick(pool, ZONE_NTS, 1, &de, 1, 16, &rng, &pick), 0);

    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    zone_pool_report(pool, f);
    fclose(f);
    CHECK_STR_HAS(text,
                  "NTS: 8 servers with an NTS-KE endpoint (7 eligible), 5 endpoints");
    CHECK_STR_HAS(text, "  a.example port 4460: 2 servers, 18.69% of the NTS weight");
    CHECK_STR_HAS(text, "  d.example port 4460: 2 servers");
    CHECK(strstr(text, "f.example") == NULL);
    free(text);
    zone_pool_free(pool);
}

static void test_srv_weights(void)
{
    uint64_t w[] = {3000, 2000, 1, 46, 0};
    uint16_t out[5];

    zone_srv_weights(w, 5, out);
    CHECK_INT_EQ(out[0], 65535);
    CHECK_INT_EQ(out[1], 43690); /* 65535 x 2/3 = 43690.0 */
    CHECK_INT_EQ(out[2], 22);    /* 21.845 rounds up */
    CHECK_INT_EQ(out[3], 1005);  /* 1004.87 */
    CHECK_INT_EQ(out[4], 1);     /* never 0: RFC 2782's last resort */
    /* 65535 (2^63 - 1) / (2^64 - 1) = 32767.4999...: the rounding is exact. */
    uint64_t big[] = {UINT64_MAX, UINT64_MAX / 2, UINT64_MAX / 131070};
    zone_srv_weights(big, 3, out);
    CHECK(out[0] == 65535 && out[1] == 32767 && out[2] == 1);
    uint64_t same[] = {7, 7};
    zone_srv_weights(same, 2, out);
    CHECK(out[0] == 65535 && out[1] == 65535);

    zone_errors_t e;
    zone_snapshot_t *snap =
        parse(SRV_LINE("{\"host\": \"nts.example\", \"port\": 4461}"), &e);
    uint8_t rd[6 + 255];
    zone_errors_deinit(&e);
    CHECK(snap != NULL);
    if (!snap)
        return;
    CHECK_INT_EQ(zone_srv_rdata(snap, &snap->servers[0], 9, rd), 0);
    CHECK_INT_EQ(zone_srv_rdata(snap, &snap->servers[1], 0x1234, rd), 6 + 13);
    CHECK(memcmp(rd, "\0\0\x12\x34\x11\x6d\3nts\7example", 19) == 0);
    zone_snapshot_free(snap);
}

/* ---- shares, fixed seeds --------------------------------------------------- */

static double chi_square(const unsigned long *obs, const double *expect, size_t k)
{
    double x = 0;
    for (size_t i = 0; i < k; i++)
        x += ((double)obs[i] - expect[i]) * ((double)obs[i] - expect[i]) / expect[i];
    return x;
}

/* Index of an endpoint of de by host and port: a, b:4461, b:4462, d. */
static size_t de_slot(const zone_pool_t *pool, const zone_server_t *s)
{
    char h = host_letter(pool, s);
    return h == 'a' ? 0 : h == 'd' ? 3 : s->nts_port == 4461 ? 1 : 2;
}

/*
 * RFC 2782's ordering as a client does it: the sum of the weights of the
 * records left, a uniform number in [0, sum], the first record whose running
 * sum reaches it. Returns the record chosen first.
 */
static size_t rfc2782_first(const uint16_t *w, size_t n, zone_rng_t *rng)
{
    uint64_t sum = 0, run = 0;
    for (size_t i = 0; i < n; i++)
        sum += w[i];
    uint64_t u = zone_rng_below(rng, sum + 1);
    for (size_t i = 0; i < n; i++)
        if ((run += w[i]) >= u)
            return i;
    return n - 1;
}

/* Endpoint weights in de: 2000, 3000, 4000, 500 (x1024), total 9500. Critical
 * chi-square for 3 degrees of freedom at p = 0.001: 16.266. */
static void test_shares(void)
{
    zone_pool_t *pool = endpoint_pool();
    int de = zone_id_lookup("de", 2);
    const double share[4] = {2000 / 9500.0, 3000 / 9500.0, 4000 / 9500.0, 500 / 9500.0};
    unsigned long drawn[4] = {0}, first[4] = {0};
    double expect[4];
    const unsigned long N = 40000;
    zone_rng_t rng, client;
    zone_pick_t pick;
    uint16_t w[ZONE_PICK_MAX];

    if (!pool)
        return;
    zone_rng_seed(&rng, 2026112801);
    zone_rng_seed(&client, 4460);
    for (unsigned long k = 0; k < N; k++) {
        /* srv_answers 1: the endpoint drawn; srv_answers 4: the whole zone,
         * where the client's ordering alone decides which comes first. */
        zone_pool_pick(pool, ZONE_NTS, -1, &de, 1, 1, &rng, &pick);
        drawn[de_slot(pool, pick.srv[0])]++;
        zone_pool_pick(pool, ZONE_NTS, -1, &de, 1, 4, &rng, &pick);
        zone_srv_weights(pick.weight, pick.n, w);
        first[de_slot(pool, pick.srv[rfc2782_first(w, pick.n, &client)])]++;
    }
    for (int i = 0; i < 4; i++)
        expect[i] = share[i] * (double)N;
    double x_drawn = chi_square(drawn, expect, 4), x_first = chi_square(first, expect, 4);
    printf("endpoint shares: chi-square %.2f drawn, %.2f first by RFC 2782 (3 df, "
           "critical 16.266 at p=0.001)\n",
           x_drawn, x_first);
    CHECK(x_drawn < 16.266);
    CHECK(x_first < 16.266);
    zone_pool_free(pool);
}

int main(void)
{
    test_host_names();
    test_snapshot_key();
    test_endpoints();
    test_srv_weights();
    test_shares();
    return check_summary("test_nts");
}
