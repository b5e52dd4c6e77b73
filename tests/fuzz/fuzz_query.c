/*
 * fuzz_query.c - the whole query path in-process: each input is a request
 * packet answered by answer_respond() over UDP and TCP, from an IPv4 and an IPv6
 * source, with several buffer capacities, against real data built once by
 * srv_data_new(): the repo's master file and sample snapshot, a second origin
 * without a snapshot, and a GeoIP database written by tests/tools/mkmmdb.pl.
 * A guard with a fixed cookie secret makes COOKIE options answered (RFC 7873,
 * RFC 9018). A seventh answer goes through a second guard whose RRL allows one
 * response a second with slip 1: the first query of a second passes, every
 * other one takes the slip path (TC, no records), whatever the clock says, so
 * the same invariants hold (an answer is sent iff the request is not dropped).
 *
 * Every response is checked with a bounds-checked walk of its own (not the
 * server's parser): length within the capacity and the UDP limit, QR and ID,
 * the question echoed byte for byte, counts consistent with the bytes, names
 * with backward compression pointers only, OPT only once and last.
 * A broken invariant abort()s, which libFuzzer reports as a crash.
 *
 * Both origins are signed (DNSSEC: an Ed25519 key for pool.ntp.org, an ECDSA
 * P-256 key for pool.test, made by ldns-keygen at start), so queries with the
 * DO bit take the signed paths: presigned pool answer sets, RRSIGs of static
 * RRsets, DNSKEY/CDS/CDNSKEY/NSEC/RRSIG queries and the NSEC signed online for
 * names that do not exist.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsd/query/answer.h"
#include "dnsd/query/rrl.h"
#include "dnsd/query/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

static srv_data_t *fq_data;
static stat_counters_t fq_stats;
static answer_ctx_t fq_ctx = {.stats = &fq_stats};
static uint8_t *fq_big, *fq_small, *fq_mid; /* exactly cap bytes: ASan sees overruns */
static const srv_limits_t fq_guard = {.cookie_secret = "fuzz-cookie-16b"};
static srv_limits_t fq_guard_rrl = {.cookie_secret = "fuzz-cookie-16b"};

#define FQ_SMALL 512
#define FQ_MID 700

/* A second origin served without a snapshot (pool names answer NODATA). */
static const char fq_zone2[] = "$ORIGIN pool.test.\n$TTL 300\n"
                               "@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\n"
                               "@ MX 10 mail\n@ TXT \"a\" \"b\"\nns A 192.0.2.1\n"
                               "mail AAAA 2001:db8::25\nalias CNAME www.example.\n"
                               "a.b.c TXT \"deep\"\nde TXT \"zone name\"\n";

static void fq_die(const char *what)
{
    fprintf(stderr, "fuzz_query setup: %s\n", what);
    exit(1);
}

static void fq_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fq_die(path);
}

static void fq_cleanup(void)
{
    rrl_free(fq_guard_rrl.rrl);
    srv_data_free(fq_data);
    free(fq_big);
    free(fq_small);
    free(fq_mid);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/dnsd-fuzz-query-XXXXXX", path[256], cmd[1024], text[3072];
    char err[CFG_ERR_MAX], ident[251];
    const char *src =
        getenv("DNSD_SOURCE_DIR") ? getenv("DNSD_SOURCE_DIR") : DNSD_SOURCE_DIR;
    cfg_t cfg;

    if (!mkdtemp(dir))
        fq_die("mkdtemp");
    snprintf(path, sizeof path, "%s/pool.test.zone", dir);
    fq_write(path, fq_zone2);
    snprintf(cmd, sizeof cmd,
             "perl %s/tests/tools/mkmmdb.pl %s/geo.mmdb --format geoip2 "
             "192.0.2.0/24=DE/EU 10.0.0.0/8=FR/EU 198.51.100.0/24=US/NA "
             "203.0.113.0/24=XX 100.64.0.0/10=/ 2001:db8:de::/48=DE/EU "
             "2001:db8:1::/48=JP/AS >/dev/null",
             src, dir);
    if (system(cmd) != 0)
        fq_die(cmd);
    /* 250 bytes: too long for NSID in a 512-byte answer to a long question. */
    memset(ident, 'n', sizeof ident - 1);
    ident[sizeof ident - 1] = 0;
    snprintf(cmd, sizeof cmd,
             "cd %s && ldns-keygen -a ED25519 -k pool.ntp.org >k1 && "
             "ldns-keygen -a ECDSAP256SHA256 -k pool.test >k2",
             dir);
    if (system(cmd) != 0)
        fq_die(cmd);
    char k1[128] = "", k2[128] = "";
    snprintf(path, sizeof path, "%s/k1", dir);
    FILE *kf = fopen(path, "r");
    if (!kf || !fgets(k1, sizeof k1, kf) || fclose(kf) != 0)
        fq_die(path);
    snprintf(path, sizeof path, "%s/k2", dir);
    if (!(kf = fopen(path, "r")) || !fgets(k2, sizeof k2, kf) || fclose(kf) != 0)
        fq_die(path);
    k1[strcspn(k1, "\n")] = k2[strcspn(k2, "\n")] = 0;
    snprintf(text, sizeof text,
             "identity: %s\ngeoip: {database: %s/geo.mmdb}\nzones:\n"
             "  - {origin: pool.ntp.org, master: %s/config/pool.ntp.org.zone,\n"
             "     snapshot: %s/config/sample-snapshot.json, answers: 16,\n"
             "     vendors: [debian, ubuntu], dnssec: {keys: [%s/%s.private]}}\n"
             "  - {origin: pool.test, master: %s/pool.test.zone, aaaa: all, answers: 2,\n"
             "     ttl: 0, dnssec: {keys: [%s/%s.private]}}\n",
             ident, dir, src, src, dir, k1, dir, dir, k2);
    if (cfg_load_buffer(&cfg, "fuzz.yaml", text, strlen(text), err, sizeof err) != 0)
        fq_die(err);
    fq_data = srv_data_new(&cfg, err, sizeof err);
    cfg_deinit(&cfg);
    if (!fq_data)
        fq_die(err);
    /* Everything is in memory now (the GeoIP file stays mapped). */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fq_die(cmd);
    fq_big = malloc(ANSWER_BUF_SIZE);
    fq_small = malloc(FQ_SMALL);
    fq_mid = malloc(FQ_MID);
    if (!fq_big || !fq_small || !fq_mid)
        fq_die("malloc");
    cfg_t rc = {
        .rrl_rate = 1, .rrl_slip = 1, .rrl_ipv4_prefix = 24, .rrl_ipv6_prefix = 56};
    if (!(fq_guard_rrl.rrl = rrl_new(&rc, err, sizeof err)))
        fq_die(err);
    fq_data->limits = &fq_guard; /* not the data's to free: no share */
    atexit(fq_cleanup);
    return 0;
}

#define FQ_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_query: invariant broken: %s (line %d)\n", #cond,       \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* Walks a name at p[off..n): labels <= 63, <= 255 bytes in all, pointers only
 * to an earlier offset inside the message and before where this name started,
 * so decoding always terminates. Returns the offset after the name. */
static size_t fq_name(const uint8_t *p, size_t n, size_t off, int *root)
{
    size_t start = off, total = 0, end = 0;

    for (;;) {
        FQ_CHECK(off < n);
        uint8_t l = p[off];
        if ((l & 0xC0) == 0xC0) {
            FQ_CHECK(off + 2 <= n);
            size_t ptr = (size_t)(l & 0x3F) << 8 | p[off + 1];
            FQ_CHECK(ptr >= WIRE_HEADER && ptr < start);
            if (!end)
                end = off + 2;
            start = off = ptr;
            continue;
        }
        FQ_CHECK((l & 0xC0) == 0);
        total += 1 + (size_t)l;
        FQ_CHECK(total <= WIRE_NAME_MAX);
        if (l == 0) {
            *root = total == 1;
            return end ? end : off + 1;
        }
        FQ_CHECK(off + 1 + l <= n);
        off += 1 + (size_t)l;
    }
}

/* The UDP limit the client asked for (RFC 6891 section 6.2.5, capped). */
static size_t fq_udp_limit(const uint8_t *in, size_t len)
{
    wire_query_t q;
    wire_parse_t r = wire_parse(in, len, &q);
    if ((r == WIRE_PARSE_OK || r == WIRE_PARSE_NOTIMP) && q.edns && q.edns_udp > 512)
        return q.edns_udp < ANSWER_UDP_MAX ? q.edns_udp : ANSWER_UDP_MAX;
    return 512;
}

static void fq_check(const uint8_t *in, size_t len, const uint8_t *p, size_t n,
                     size_t cap, answer_transport_t t)
{
    bool drop = len < WIRE_HEADER || (in[2] & 0x80);

    FQ_CHECK(n <= cap);
    FQ_CHECK((n == 0) == drop);
    if (n == 0)
        return;
    if (t == ANSWER_UDP)
        FQ_CHECK(n <= ANSWER_UDP_MAX && n <= fq_udp_limit(in, len));
    FQ_CHECK(n >= WIRE_HEADER);
    FQ_CHECK(p[0] == in[0] && p[1] == in[1]);  /* ID */
    FQ_CHECK(p[2] & 0x80);                     /* QR */
    FQ_CHECK((p[2] & 0x78) == (in[2] & 0x78)); /* opcode */
    unsigned qd = wire_get16(p + 4), an = wire_get16(p + 6), ns = wire_get16(p + 8),
             ar = wire_get16(p + 10);
    FQ_CHECK(qd <= 1);
    if (p[2] & 0x02) /* TC: partial sections are dropped */
        FQ_CHECK(an == 0 && ns == 0);
    size_t off = WIRE_HEADER;
    int root;
    if (qd) { /* the question, byte for byte as asked */
        off = fq_name(p, n, off, &root) + 4;
        FQ_CHECK(off <= n && off <= len &&
                 memcmp(p + WIRE_HEADER, in + WIRE_HEADER, off - WIRE_HEADER) == 0);
    }
    bool opt = false;
    for (unsigned i = 0; i < an + ns + ar; i++) {
        off = fq_name(p, n, off, &root);
        FQ_CHECK(n - off >= 10);
        size_t rdlen = wire_get16(p + off + 8);
        FQ_CHECK(n - off - 10 >= rdlen);
        if (wire_get16(p + off) == WIRE_OPT) {
            FQ_CHECK(root && !opt && i == an + ns + ar - 1);
            opt = true;
        }
        off += 10 + rdlen;
    }
    FQ_CHECK(off == n); /* nothing after the last record */
}

static size_t fq_run(const uint8_t *in, size_t len, const struct sockaddr *src,
                     answer_transport_t t, uint8_t *out, size_t cap)
{
    zone_rng_seed(&fq_ctx.rng, 1);
    size_t n = answer_respond(&fq_ctx, fq_data, in, len, src, t, out, cap);
    fq_check(in, len, out, n, cap, t);
    return n;
}

/* FUZZ_QUERY_DUMP=FILE: the UDP/IPv4 response to the (last) input goes to FILE,
 * to look at a reproducer's answer with ldns-decode or kdig. */
static void fq_dump(const uint8_t *p, size_t n)
{
    const char *path = getenv("FUZZ_QUERY_DUMP");
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(5353)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(5353)};
    const struct sockaddr *s4 = (const struct sockaddr *)&v4,
                          *s6 = (const struct sockaddr *)&v6;

    if (len > 65535) /* a DNS message cannot be longer */
        return -1;
    /* An exact-size copy, so reads past the input are caught too. */
    uint8_t *pkt = malloc(len ? len : 1);
    if (!pkt)
        abort();
    memcpy(pkt, in, len);
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    inet_pton(AF_INET6, "2001:db8:de::7", &v6.sin6_addr);
    fq_dump(fq_big, fq_run(pkt, len, s4, ANSWER_UDP, fq_big, ANSWER_BUF_SIZE));
    fq_run(pkt, len, s6, ANSWER_UDP, fq_big, ANSWER_BUF_SIZE);
    fq_run(pkt, len, s4, ANSWER_TCP, fq_big, ANSWER_BUF_SIZE);
    fq_run(pkt, len, s6, ANSWER_TCP, fq_big, ANSWER_BUF_SIZE);
    fq_run(pkt, len, s4, ANSWER_UDP, fq_small, FQ_SMALL);
    fq_run(pkt, len, s6, ANSWER_TCP, fq_mid, FQ_MID);
    fq_data->limits = &fq_guard_rrl; /* RRL: mostly the slip path */
    fq_run(pkt, len, s4, ANSWER_UDP, fq_small, FQ_SMALL);
    fq_data->limits = &fq_guard;
    free(pkt);
    return 0;
}
