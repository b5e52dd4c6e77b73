/*
 * test_answer.c - the whole query path in-process: a real config, master
 * file, snapshot and test GeoIP database (built with libmaxmind-db-writer-perl)
 * loaded by srv_data_new(), queries answered by answer_respond(), every response
 * decoded by ldns as an independent decoder.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dnsd/query/answer.h"
#include "check.h"
#include "pktbuild.h"
#include "dnsd/query/wire.h"

static char dir[] = "/tmp/dnsd-test-answer-XXXXXX";
static srv_data_t *data;
static stat_counters_t stats;
static answer_ctx_t ctx = {.stats = &stats};
static uint8_t out[ANSWER_BUF_SIZE];
static pkt_t P;

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static const char *zone_text = "$ORIGIN pool.test.\n$TTL 3600\n"
                               "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                               "@ NS ns1\n@ NS ns2\n@ TXT \"pool test\"\n"
                               "ns1 A 192.0.2.53\nns2 AAAA 2001:db8::53\n"
                               "www A 192.0.2.80\na.deep A 192.0.2.81\nalias CNAME www\n";

/* Servers: DE has 2 eligible (+1 below min_score), FR has 5, europe gets both
 * countries; one US server; IPv6 servers in DE. */
static const char *snapshot_text =
    "{\"serial\": 7, \"servers\": [\n"
    "{\"ip\": \"10.1.0.1\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"de\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.1.0.2\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"de\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.1.0.3\", \"score\": 5, \"netspeed\": 1000, \"zones\": [\"de\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.2.0.1\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"fr\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.2.0.2\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"fr\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.2.0.3\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"fr\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.2.0.4\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"fr\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.2.0.5\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"fr\", "
    "\"europe\"]},\n"
    "{\"ip\": \"10.3.0.1\", \"score\": 20, \"netspeed\": 1000, \"zones\": [\"us\", "
    "\"north-america\"]},\n"
    "{\"ip\": \"2001:db8:1::1\", \"score\": 20, \"netspeed\": 1000, \"zones\": "
    "[\"de\"]}\n"
    "]}\n";

static void setup(void)
{
    char cmd[1024], err[CFG_ERR_MAX], cfgtext[1024];
    const char *src = getenv("DNSD_SOURCE_DIR");
    cfg_t cfg;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    write_file("pool.test.zone", zone_text);
    write_file("snap.json", snapshot_text);
    snprintf(cmd, sizeof cmd,
             "perl %s/tests/tools/mkmmdb.pl %s/geo.mmdb --format geoip2 "
             "127.0.2.0/24=DE/EU 127.0.3.0/24=FR 198.51.100.0/25=FR/EU "
             "2001:db8:de::/48=DE/EU >/dev/null",
             src ? src : ".", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot build the test GeoIP database: %s\n", cmd);
        exit(1);
    }
    snprintf(cfgtext, sizeof cfgtext,
             "identity: node-test-1\n"
             "geoip: {database: %s/geo.mmdb}\n"
             "zones:\n"
             "  - origin: pool.test\n"
             "    master: %s/pool.test.zone\n"
             "    snapshot: %s/snap.json\n"
             "    vendors: [debian]\n",
             dir, dir, dir);
    if (cfg_load_buffer(&cfg, "test.yaml", cfgtext, strlen(cfgtext), err, sizeof err) !=
        0) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    data = srv_data_new(&cfg, err, sizeof err);
    cfg_deinit(&cfg);
    if (!data) {
        fprintf(stderr, "srv_data_new: %s\n", err);
        exit(1);
    }
    CHECK_STR_HAS(data->origins[0].note, "serial 7");
    zone_rng_seed(&ctx.rng, 42);
}

static void teardown(void)
{
    char cmd[600];
    srv_data_free(data);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Sends P from `src` (dotted IPv4) and decodes the answer with ldns. */
static ldns_pkt *ask_from(const char *src, answer_transport_t t, size_t *len_out)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5353)};
    ldns_pkt *pkt = NULL;

    inet_pton(AF_INET, src, &sin.sin_addr);
    size_t len =
        answer_respond(&ctx, data, P.b, P.n, (struct sockaddr *)&sin, t, out, sizeof out);
    if (len_out)
        *len_out = len;
    if (len == 0)
        return NULL;
    CHECK(ldns_wire2pkt(&pkt, out, len) == LDNS_STATUS_OK);
    return pkt;
}

static ldns_pkt *ask(const char *name, unsigned type)
{
    pkt_query(&P, 0xBEEF, name, type, 1, 0);
    return ask_from("127.0.0.1", ANSWER_UDP, NULL);
}

static void test_static(void)
{
    ldns_pkt *p = ask("pOoL.TeSt", WIRE_SOA);
    CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR);
    CHECK(ldns_pkt_aa(p) && ldns_pkt_qr(p) && ldns_pkt_rd(p));
    CHECK_INT_EQ(ldns_pkt_id(p), 0xBEEF);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 1);
    CHECK(memcmp(out + 12, "\4pOoL\4TeSt", 10) == 0); /* question byte for byte */
    ldns_pkt_free(p);

    p = ask("pool.test", WIRE_NS);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 2);
    char *s = ldns_rr_list2str(ldns_pkt_answer(p));
    CHECK_STR_HAS(s, "ns1.pool.test.");
    CHECK_STR_HAS(s, "ns2.pool.test.");
    free(s);
    ldns_pkt_free(p);

    p = ask("alias.pool.test", WIRE_A); /* CNAME answers any type */
    CHECK_INT_EQ(ldns_pkt_ancount(p), 1);
    CHECK_INT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
                 LDNS_RR_TYPE_CNAME);
    ldns_pkt_free(p);
}

static void test_negative(void)
{
    ldns_pkt *p = ask("nope.pool.test", WIRE_A);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
    CHECK(ldns_pkt_aa(p));
    CHECK_INT_EQ(ldns_pkt_nscount(p), 1);
    ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
    CHECK_INT_EQ(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
    CHECK_INT_EQ(ldns_rr_ttl(soa), 60); /* min(3600, MINIMUM 60) */
    ldns_pkt_free(p);

    p = ask("www.pool.test", WIRE_MX); /* NODATA */
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 0);
    CHECK_INT_EQ(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);

    p = ask("deep.pool.test", WIRE_A); /* empty non-terminal: NODATA (RFC 8020) */
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    CHECK_INT_EQ(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);

    p = ask("example.com", WIRE_A);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
    CHECK(!ldns_pkt_aa(p));
    ldns_pkt_free(p);

    p = ask("xpool.test", WIRE_A); /* a suffix that is not at a label boundary */
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
    ldns_pkt_free(p);
}

/* Servers in an answer, as dotted strings joined by spaces. */
static void answer_addrs(ldns_pkt *p, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; p && i < ldns_pkt_ancount(p); i++) {
        char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), i), 0));
        strncat(buf, s, len - strlen(buf) - 2);
        strcat(buf, " ");
        free(s);
    }
}

static void test_pool(void)
{
    char addrs[512];
    ldns_pkt *p;

    /* A German client (127.0.2.0/24 -> DE): both eligible DE servers, topped up
     * from europe (FR); never the DE server below min_score. */
    for (int i = 0; i < 50; i++) {
        pkt_query(&P, 1, "pool.test", WIRE_A, 1, 0);
        p = ask_from("127.0.2.9", ANSWER_UDP, NULL);
        CHECK_INT_EQ(ldns_pkt_ancount(p), 4);
        answer_addrs(p, addrs, sizeof addrs);
        CHECK_STR_HAS(addrs, "10.1.0.1 ");
        CHECK_STR_HAS(addrs, "10.1.0.2 ");
        CHECK(strstr(addrs, "10.1.0.3") == NULL);
        CHECK(strstr(addrs, "10.3.") == NULL);
        ldns_pkt_free(p);
    }
    /* An unmapped client gets "@"; a French one only FR servers. */
    pkt_query(&P, 1, "0.pool.test", WIRE_A, 1, 0);
    p = ask_from("127.0.3.1", ANSWER_UDP, NULL);
    answer_addrs(p, addrs, sizeof addrs);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 4);
    CHECK(strstr(addrs, "10.1.") == NULL && strstr(addrs, "10.3.") == NULL);
    ldns_pkt_free(p);

    /* AAAA only on 2.* by default. */
    p = ask("pool.test", WIRE_AAAA);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 0);
    CHECK_INT_EQ(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);
    p = ask("2.de.pool.test", WIRE_AAAA);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 1);
    ldns_pkt_free(p);

    /* Fixed zone names, the gb alias, vendors. */
    p = ask("us.pool.test", WIRE_A);
    answer_addrs(p, addrs, sizeof addrs);
    CHECK_STR_HAS(addrs, "10.3.0.1 ");
    ldns_pkt_free(p);
    p = ask("gb.pool.test", WIRE_A); /* empty uk: backfilled from europe */
    CHECK_INT_EQ(ldns_pkt_ancount(p), 4);
    ldns_pkt_free(p);
    p = ask("1.debian.pool.test", WIRE_A);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    CHECK(ldns_pkt_ancount(p) > 0);
    ldns_pkt_free(p);
    p = ask("zz.pool.test", WIRE_A);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(p);
}

/* ECS (RFC 7871): the option's address decides, and the scope is the
 * database network's prefix capped at the source prefix. */
static void test_ecs(void)
{
    pkt_t o = {.n = 0};
    char addrs[512];

    pkt_u16(&o, 8), pkt_u16(&o, 7), pkt_u16(&o, 1), pkt_u8(&o, 24), pkt_u8(&o, 0);
    pkt_bytes(&o, "\xc6\x33\x64", 3); /* 198.51.100.0/24; the DB has /25 -> FR */
    pkt_query(&P, 2, "pool.test", WIRE_A, 1, 1);
    pkt_opt(&P, 1232, 0, 0, o.b, o.n);
    ldns_pkt *p = ask_from("127.0.2.9", ANSWER_UDP, NULL); /* source says DE */
    answer_addrs(p, addrs, sizeof addrs);
    CHECK(strstr(addrs, "10.1.") == NULL);
    ldns_pkt_free(p);
    /* OPT is last; ECS option at its end: scope byte = min(25, 24) = 24. */
    size_t len = answer_respond(&ctx, data, P.b, P.n, NULL, ANSWER_UDP, out, sizeof out);
    CHECK(len > 8);
    CHECK(memcmp(out + len - 7, "\x00\x01\x18\x18\xc6\x33\x64", 7) == 0);

    /* A fixed zone name does not depend on the address: scope 0. */
    pkt_query(&P, 2, "de.pool.test", WIRE_A, 1, 1);
    pkt_opt(&P, 1232, 0, 0, o.b, o.n);
    len = answer_respond(&ctx, data, P.b, P.n, NULL, ANSWER_UDP, out, sizeof out);
    CHECK(memcmp(out + len - 7, "\x00\x01\x18\x00\xc6\x33\x64", 7) == 0);
}

static void test_edns_and_chaos(void)
{
    static const uint8_t nsid[] = {0, 3, 0, 0};
    size_t len;
    ldns_pkt *p;

    pkt_query(&P, 3, "pool.test", WIRE_SOA, 1, 1);
    pkt_opt(&P, 4096, 1, 1, nsid, sizeof nsid); /* version 1 -> BADVERS */
    p = ask_from("127.0.0.1", ANSWER_UDP, &len);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), 0); /* low bits zero ... */
    /* ... extended RCODE 1 -> 16 (the OPT is the last 26 bytes: 11 + NSID 4 + 11) */
    CHECK_INT_EQ(out[len - 26 + 5], 1);
    CHECK_INT_EQ(ldns_pkt_edns_version(p), 0);
    CHECK(ldns_pkt_edns_do(p));
    ldns_pkt_free(p);

    pkt_query(&P, 3, "pool.test", WIRE_SOA, 1, 1);
    pkt_opt(&P, 100, 0, 0, nsid, sizeof nsid);
    p = ask_from("127.0.0.1", ANSWER_UDP, &len);
    CHECK_INT_EQ(ldns_pkt_edns_udp_size(p), 1232);
    CHECK(memcmp(out + len - 11, "node-test-1", 11) == 0);
    ldns_pkt_free(p);

    pkt_query(&P, 4, "ID.Server", WIRE_TXT, WIRE_CH, 0);
    p = ask_from("127.0.0.1", ANSWER_UDP, NULL);
    CHECK_INT_EQ(ldns_pkt_ancount(p), 1);
    char *s = ldns_rr_list2str(ldns_pkt_answer(p));
    CHECK_STR_HAS(s, "\"node-test-1\"");
    free(s);
    ldns_pkt_free(p);

    pkt_query(&P, 4, "version.bind", WIRE_TXT, WIRE_CH, 0);
    p = ask_from("127.0.0.1", ANSWER_UDP, NULL);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
    ldns_pkt_free(p);

    pkt_query(&P, 5, "pool.test", WIRE_AXFR, 1, 0);
    p = ask_from("127.0.0.1", ANSWER_TCP, NULL);
    CHECK_INT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
    ldns_pkt_free(p);
}

static void test_country_txt(void)
{
    pkt_query(&P, 6, "_country.pool.test", WIRE_TXT, 1, 0);
    ldns_pkt *p = ask_from("127.0.2.77", ANSWER_UDP, NULL);
    char *s = ldns_rr_list2str(ldns_pkt_answer(p));
    CHECK_STR_HAS(s, "\"address 127.0.2.77 (source)\"");
    CHECK_STR_HAS(s, "\"country DE\"");
    CHECK_STR_HAS(s, "\"continent europe\"");
    CHECK_STR_HAS(s, "\"zone de\"");
    CHECK_STR_HAS(s, "\"backfill yes\"");
    CHECK_STR_HAS(s, "\"serial 7\"");
    free(s);
    ldns_pkt_free(p);
}

int main(void)
{
    setup();
    test_static();
    test_negative();
    test_pool();
    test_ecs();
    test_edns_and_chaos();
    test_country_txt();
    teardown();
    return check_summary("test_answer");
}
