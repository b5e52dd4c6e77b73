/*
 * test_geo.c - geo_open/geo_lookup on databases written for the test by
 * tests/tools/mkmmdb.pl (Debian's MaxMind DB writer), in the GeoIP2 layout and
 * in the CC0 ip-location-db layout, and on the real CC0 database when
 * scripts/fetch-geoip.sh has put it in .cache/geoip.
 */
#include "check.h"
#include "geoip/geo.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *src_dir;
static char tmp_dir[] = "/tmp/test_geo.XXXXXX";

/* Networks shared by both layouts; the continent is only written in geoip2. */
#define NETS                                                                             \
    "127.0.2.0/24=DE/EU", "127.0.3.0/24=FR", "127.0.5.0/24=nl/eu", "127.0.6.0/24=EUR",   \
        "127.0.7.0/24=1A", "10.0.0.0/8=US/NA", "2001:db8:de::/48=DE/EU",                 \
        "2001:db8:ab00::/40=JP/AS"

/* Runs mkmmdb.pl with the given arguments after the output path; 0 on success. */
static int mkmmdb(const char *out, const char *const *args)
{
    char script[4096];
    const char *argv[32] = {"perl", script, out};
    int n = 3, status;
    pid_t pid;

    snprintf(script, sizeof script, "%s/tests/tools/mkmmdb.pl", src_dir);
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (posix_spawnp(&pid, "perl", NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

/* Looks up a textual address; returns geo_lookup's result. */
static int lookup(const geo_t *g, const char *text, geo_result_t *res)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, text, a) == 1)
        return geo_lookup(g, 4, a, res);
    if (inet_pton(AF_INET6, text, a) == 1)
        return geo_lookup(g, 6, a, res);
    fprintf(stderr, "bad address in test: %s\n", text);
    return -2;
}

/*
 * Proves the IPv4 table geo_open() builds answers exactly as libmaxminddb's own
 * walk: at the first and last address of every network of the database (found by
 * stepping through IPv4 with the libmaxminddb path's own prefixes) and at
 * `nrand` addresses from a fixed-seed generator. Returns the networks seen.
 */
static uint32_t check_table(const geo_t *g, uint32_t nrand)
{
    uint64_t a = 0, bad = 0, x = 0x9e3779b97f4a7c15ull;
    uint32_t nets = 0;

    while (a <= UINT32_MAX && bad < 5) {
        geo_result_t want, got;
        uint8_t ends[2][4];
        uint64_t last;
        int rc = geo_lookup_mmdb(g, 4, (uint8_t[]){a >> 24, a >> 16, a >> 8, a}, &want);

        last = a + ((1ull << (32 - want.prefix)) - 1);
        for (int e = 0; e < 2; e++)
            for (int i = 0; i < 4; i++)
                ends[e][i] = (uint8_t)((e ? last : a) >> (24 - 8 * i));
        for (int e = 0; e < 2; e++) {
            int rc2 = geo_lookup(g, 4, ends[e], &got);
            if (rc2 != rc || memcmp(&got, &want, sizeof got) != 0) {
                fprintf(stderr, "table differs at %u.%u.%u.%u: %s/%s/%u vs %s/%s/%u\n",
                        ends[e][0], ends[e][1], ends[e][2], ends[e][3], got.cc,
                        got.continent, got.prefix, want.cc, want.continent, want.prefix);
                bad++;
            }
        }
        a = last + 1;
        nets++;
    }
    for (uint32_t i = 0; i < nrand && bad < 10; i++) {
        geo_result_t want, got;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        uint8_t addr[4] = {x >> 56, x >> 48, x >> 40, x >> 32};
        int rc = geo_lookup_mmdb(g, 4, addr, &want), rc2 = geo_lookup(g, 4, addr, &got);
        if (rc2 != rc || memcmp(&got, &want, sizeof got) != 0) {
            fprintf(stderr, "table differs at random %u.%u.%u.%u\n", addr[0], addr[1],
                    addr[2], addr[3]);
            bad++;
        }
    }
    CHECK_INT_EQ(bad, 0);
    return nets;
}

#define CHECK_GEO(g, addr, want_cc, want_cont, want_prefix)                              \
    do {                                                                                 \
        geo_result_t r_;                                                                 \
        CHECK_INT_EQ(lookup(g, addr, &r_), 0);                                           \
        CHECK_STR_EQ(r_.cc, want_cc);                                                    \
        CHECK_STR_EQ(r_.continent, want_cont);                                           \
        CHECK_INT_EQ(r_.prefix, want_prefix);                                            \
    } while (0)

static void test_geoip2(void)
{
    const char *args[] = {"--format", "geoip2", NETS, NULL};
    char err[GEO_ERR_MAX] = "";
    geo_t *g;

    CHECK_INT_EQ(mkmmdb(tmp_path("geoip2.mmdb"), args), 0);
    g = geo_open(tmp_path("geoip2.mmdb"), "country.iso_code", err, sizeof err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "geo_open: %s\n", err);
        return;
    }
    CHECK_STR_HAS(geo_describe(g), "GeoIP2-Country, built 20");
    CHECK_STR_HAS(geo_describe(g), "IPv6");
    CHECK_GEO(g, "127.0.2.9", "DE", "EU", 24);
    CHECK_GEO(g, "127.0.3.255", "FR", "", 24);
    CHECK_GEO(g, "127.0.5.1", "NL", "EU", 24); /* lower case in the DB */
    CHECK_GEO(g, "127.0.6.1", "", "", 24);     /* three letters: not a code */
    CHECK_GEO(g, "127.0.7.1", "", "", 24);     /* digit: not a code */
    CHECK_GEO(g, "10.200.3.4", "US", "NA", 8);
    CHECK_GEO(g, "2001:db8:de::1", "DE", "EU", 48);
    CHECK_GEO(g, "2001:db8:ab12::1", "JP", "AS", 40);
    /* IPv4-mapped IPv6 is aliased to the IPv4 tree, so found, in IPv6 terms. */
    CHECK_GEO(g, "::ffff:127.0.2.1", "DE", "EU", 120);
    /* Not in the DB: empty result with the size of the empty network around it.
     * 127.0.4.0/24 is the empty sibling of 127.0.5.0/24; 8.0.0.0/7 is the empty
     * sibling of 10.0.0.0/7; 2001:db8:ff:: leaves 2001:db8:de:: after bit 42. */
    CHECK_GEO(g, "127.0.4.1", "", "", 24);
    CHECK_GEO(g, "8.8.8.8", "", "", 7);
    CHECK_GEO(g, "2001:db8:ff::1", "", "", 43);
    CHECK(check_table(g, 200000) > 8);

    geo_result_t r;
    uint8_t a[16] = {127, 0, 2, 1};
    CHECK_INT_EQ(geo_lookup(g, 5, a, &r), -1);
    CHECK_STR_EQ(r.cc, "");
    geo_free(g);

    /* A path that is not in the records finds no country, but still a prefix. */
    g = geo_open(tmp_path("geoip2.mmdb"), "country.names.en", err, sizeof err);
    CHECK(g != NULL);
    if (g) {
        CHECK_GEO(g, "127.0.2.1", "", "EU", 24);
        check_table(g, 200000);
        geo_free(g);
    }
}

static void test_cc0(void)
{
    const char *args[] = {"--format", "cc0", NETS, NULL};
    char err[GEO_ERR_MAX] = "";
    geo_t *g;

    CHECK_INT_EQ(mkmmdb(tmp_path("cc0.mmdb"), args), 0);
    g = geo_open(tmp_path("cc0.mmdb"), "country_code", err, sizeof err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "geo_open: %s\n", err);
        return;
    }
    CHECK_STR_HAS(geo_describe(g), "country ipvAll");
    CHECK_GEO(g, "127.0.2.9", "DE", "", 24);
    CHECK_GEO(g, "127.0.5.1", "NL", "", 24);
    CHECK_GEO(g, "2001:db8:de:1::1", "DE", "", 48);
    CHECK_GEO(g, "2001:db8:abff::1", "JP", "", 40);
    CHECK_GEO(g, "127.0.4.1", "", "", 24);
    CHECK(check_table(g, 200000) > 8);
    geo_free(g);

    /* The GeoIP2 path on a CC0 database, and a path through a string. */
    g = geo_open(tmp_path("cc0.mmdb"), "country.iso_code", err, sizeof err);
    CHECK(g != NULL);
    if (g) {
        CHECK_GEO(g, "127.0.2.9", "", "", 24);
        geo_free(g);
    }
    g = geo_open(tmp_path("cc0.mmdb"), "country_code.x", err, sizeof err);
    CHECK(g != NULL);
    if (g) {
        CHECK_GEO(g, "2001:db8:de::1", "", "", 48);
        check_table(g, 200000);
        geo_free(g);
    }
}

/* An IPv4-only tree: no 96-bit offset, and IPv6 is not found with prefix 0. */
static void test_ipv4_only(void)
{
    const char *args[] = {"--ip-version", "4", "127.0.2.0/24=DE/EU", "10.0.0.0/8=US",
                          NULL};
    char err[GEO_ERR_MAX] = "";
    geo_t *g;

    CHECK_INT_EQ(mkmmdb(tmp_path("v4.mmdb"), args), 0);
    g = geo_open(tmp_path("v4.mmdb"), "country.iso_code", err, sizeof err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "geo_open: %s\n", err);
        return;
    }
    CHECK_STR_HAS(geo_describe(g), "IPv4");
    CHECK_GEO(g, "127.0.2.3", "DE", "EU", 24);
    CHECK_GEO(g, "10.1.2.3", "US", "", 8);
    CHECK_GEO(g, "2001:db8:de::1", "", "", 0);
    CHECK(check_table(g, 200000) > 2);
    geo_free(g);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT_EQ(write(fd, data, len), (long long)len);
    close(fd);
}

static void test_bad_open(void)
{
    char err[GEO_ERR_MAX] = "";
    const char *missing = tmp_path("no-such.mmdb");

    CHECK(geo_open(missing, "country_code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, missing);

    err[0] = '\0';
    write_file(tmp_path("junk.mmdb"), "this is not a MaxMind DB\n", 25);
    CHECK(geo_open(tmp_path("junk.mmdb"), "country_code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "junk.mmdb");

    err[0] = '\0';
    write_file(tmp_path("empty.mmdb"), "", 0);
    CHECK(geo_open(tmp_path("empty.mmdb"), "country_code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "empty.mmdb");
    CHECK_STR_HAS(err, "the file is empty");

    err[0] = '\0';
    CHECK(geo_open(tmp_path("cc0.mmdb"), "country..code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "country_path");
    err[0] = '\0';
    CHECK(geo_open(tmp_path("cc0.mmdb"), "", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "country_path");
    geo_free(NULL);
}

/*
 * A search tree whose first node points far outside the file: libmaxminddb
 * opens it (only the metadata is checked then), and geo_open() refuses it
 * because it checks every node before a database is used.
 */
static void test_corrupt_tree(void)
{
    char err[GEO_ERR_MAX] = "";
    FILE *f = fopen(tmp_path("cc0.mmdb"), "rb");
    static unsigned char buf[1 << 16];
    size_t len;

    CHECK(f != NULL);
    if (!f)
        return;
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(len > 6 && len < sizeof buf);
    memset(buf, 0xff, 6); /* node 0, both 24-bit records */
    write_file(tmp_path("corrupt.mmdb"), buf, len);
    CHECK(geo_open(tmp_path("corrupt.mmdb"), "country_code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "corrupt.mmdb");
    CHECK_STR_HAS(err, "corrupt database");
}

/* Not a regular file: refused before anything is read (a FIFO would block). */
static void test_not_regular(void)
{
    char err[GEO_ERR_MAX] = "";

    CHECK(geo_open(tmp_path(""), "country_code", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "not a regular file");
}

static void test_real_db(void)
{
    char path[4096], err[GEO_ERR_MAX] = "";
    struct stat st;
    geo_result_t r;
    geo_t *g;

    snprintf(path, sizeof path, "%s/.cache/geoip/geo-whois-asn-country.mmdb", src_dir);
    if (stat(path, &st) != 0 || st.st_size == 0) {
        printf("test_geo: %s not present (scripts/fetch-geoip.sh fetches it); "
               "real-database checks NOT run\n",
               path);
        return;
    }
    struct timespec t0, t1;
    struct rusage ru;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g = geo_open(path, "country_code", err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "geo_open: %s\n", err);
        return;
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("test_geo: real database: %s; opened in %.0f ms, peak RSS %ld KiB\n",
           geo_describe(g),
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, ru.ru_maxrss);
    CHECK(geo_table_bytes(g) < 16u << 20);
    printf("test_geo: real database: %u IPv4 networks agree with libmaxminddb\n",
           check_table(g, 200000));
    CHECK_INT_EQ(lookup(g, "8.8.8.8", &r), 0);
    CHECK_STR_EQ(r.cc, "US");
    CHECK(r.prefix >= 8 && r.prefix <= 32);
    CHECK_INT_EQ(lookup(g, "2a00:1450:4001::1", &r), 0);
    CHECK(strlen(r.cc) == 2);
    CHECK(r.prefix >= 16 && r.prefix <= 128);
    CHECK_INT_EQ(lookup(g, "193.0.6.139", &r), 0); /* RIPE NCC, Amsterdam */
    CHECK_STR_EQ(r.cc, "NL");
    CHECK(r.prefix >= 8 && r.prefix <= 32);
    geo_free(g);
}

static void cleanup(void)
{
    const char *names[] = {"geoip2.mmdb", "cc0.mmdb",   "v4.mmdb",
                           "junk.mmdb",   "empty.mmdb", "corrupt.mmdb"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmp_dir);
}

int main(void)
{
    src_dir = getenv("DNSD_SOURCE_DIR");
    if (!src_dir) {
        fprintf(stderr, "test_geo: DNSD_SOURCE_DIR is not set (run through ctest)\n");
        return 1;
    }
    if (!mkdtemp(tmp_dir)) {
        perror("test_geo: mkdtemp");
        return 1;
    }
    test_geoip2();
    test_cc0();
    test_ipv4_only();
    test_bad_open();
    test_corrupt_tree();
    test_not_regular();
    test_real_db();
    cleanup();
    return check_summary("test_geo");
}
