/*
 * test_snapshot.c - snapshot parsing and validation (DESIGN.md "Snapshot"):
 * the good file's values, one file per kind of bad input with the exact
 * "file:line:col: path: what" it must produce, every error of a file listed,
 * truncated input never crashing, and a large snapshot parsed quickly.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "zones/zones.h"

static char dir[1024];

static int load(const char *file, zone_snapshot_t **snap, zone_errors_t *errs)
{
    char path[1200];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    zone_errors_init(errs);
    return zone_snapshot_load(path, snap, errs);
}

static bool has_error(const zone_errors_t *e, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], needle))
            return true;
    return false;
}

static void check_addr(const zone_server_t *s, int family, const char *text)
{
    uint8_t want[16] = {0};

    CHECK(inet_pton(family == 6 ? AF_INET6 : AF_INET, text, want) == 1);
    CHECK_INT_EQ(s->family, family);
    CHECK(memcmp(s->addr, want, 16) == 0);
}

static void test_good(void)
{
    zone_snapshot_t *s = NULL;
    zone_errors_t e;
    int de = zone_id_lookup("de", 2), eu = ZONE_EUROPE, uk = zone_id_lookup("uk", 2);

    CHECK_INT_EQ(load("good.json", &s, &e), 0);
    CHECK_INT_EQ(e.n, 0);
    zone_errors_deinit(&e);
    if (!s)
        return;
    CHECK(s->serial == 2026112401u);
    CHECK_INT_EQ(s->n_servers, 5);
    check_addr(&s->servers[0], 4, "192.0.2.10");
    CHECK(s->servers[0].score == 19.5);
    CHECK_INT_EQ(s->servers[0].netspeed, 100000);
    CHECK_INT_EQ(s->servers[0].n_zones, 2);
    CHECK_INT_EQ(s->servers[0].zones[0], de);
    CHECK_INT_EQ(s->servers[0].zones[1], eu);
    check_addr(&s->servers[1], 6, "2001:db8::1");
    CHECK(s->servers[1].score == 12.0);
    /* "@" is implied and dropped; "gb" is uk's alias, so it counts once. */
    CHECK_INT_EQ(s->servers[2].n_zones, 2);
    CHECK_INT_EQ(s->servers[2].zones[0], uk);
    CHECK_INT_EQ(s->servers[2].zones[1], eu);
    CHECK(s->servers[2].score == -100);
    CHECK_INT_EQ(s->servers[2].netspeed, 0);
    CHECK_INT_EQ(s->servers[3].n_zones, 0);
    CHECK_INT_EQ(s->servers[3].netspeed, ZONE_NETSPEED_MAX);
    /* Compact JSON, an exponent, upper-case IPv6 and eight distinct zones
     * (a repeated "us" does not count towards the limit). */
    check_addr(&s->servers[4], 6, "2001:db8::2");
    CHECK(s->servers[4].score == -32.5);
    CHECK_INT_EQ(s->servers[4].n_zones, 8);
    CHECK_INT_EQ(s->servers[4].zones[0], ZONE_NORTH_AMERICA);
    CHECK_INT_EQ(s->servers[4].zones[7], zone_id_lookup("hn", 2));
    zone_snapshot_free(s);
}

/* One file per kind of bad input, and the one message it must give. */
static const struct {
    const char *file, *msg;
} bad_cases[] = {
    {"bad-address.json", "bad-address.json:4:10: servers[1].ip: not an IPv4 or IPv6 "
                         "address (got \"192.0.2.300\")"},
    {"duplicate-address.json",
     "duplicate-address.json:5:10: servers[2].ip: duplicate of servers[0] at line 3"},
    {"unknown-zone.json",
     "unknown-zone.json:3:74: servers[0].zones[1]: unknown zone (got \"atlantis\")"},
    {"score-high.json",
     "score-high.json:3:32: servers[0].score: outside [-100, 20] (got \"20.5\")"},
    {"score-low.json",
     "score-low.json:3:32: servers[0].score: outside [-100, 20] (got \"-101\")"},
    {"netspeed-negative.json",
     "netspeed-negative.json:3:50: servers[0].netspeed: negative (got \"-1000\")"},
    {"netspeed-fractional.json", "netspeed-fractional.json:3:50: servers[0].netspeed: "
                                 "fractional, must be an integer"},
    {"netspeed-quoted.json",
     "netspeed-quoted.json:3:50: servers[0].netspeed: wrong type: "
     "expected a number (got a string \"1000\")"},
    {"netspeed-text.json", "netspeed-text.json:3:50: (document): syntax error: unquoted "
                           "text \"fast\" (strings need double quotes)"},
    {"netspeed-huge.json",
     "netspeed-huge.json:3:50: servers[0].netspeed: above 1000000000"},
    {"missing-ip.json", "missing-ip.json:4:3: servers[1]: missing key \"ip\""},
    {"missing-score.json", "missing-score.json:4:3: servers[1]: missing key \"score\""},
    {"missing-netspeed.json",
     "missing-netspeed.json:4:3: servers[1]: missing key \"netspeed\""},
    {"missing-zones.json", "missing-zones.json:4:3: servers[1]: missing key \"zones\""},
    {"unknown-key.json", "unknown-key.json:3:56: servers[0].owner: unknown key"},
    {"servers-not-sequence.json", "servers-not-sequence.json:2:13: servers: wrong type: "
                                  "expected an array (got an object)"},
    {"zones-not-sequence.json",
     "zones-not-sequence.json:3:67: servers[0].zones: wrong type: "
     "expected an array of zone names (got a string \"de\")"},
    {"missing-serial.json", "missing-serial.json:1:1: serial: missing key \"serial\""},
    {"missing-servers.json",
     "missing-servers.json:1:1: servers: missing key \"servers\""},
    {"serial-negative.json",
     "serial-negative.json:1:12: serial: must be a non-negative integer (got \"-1\")"},
    {"too-many-zones.json",
     "too-many-zones.json:3:116: servers[0].zones[8]: more than 8 zones for one server"},
    {"syntax-error.json",
     "syntax-error.json:4:22: (document): syntax error: unexpected '\"', "
     "expected ',' or '}'"},
};

static void test_bad_files(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        zone_snapshot_t *s = (zone_snapshot_t *)&s; /* must be reset to NULL */
        zone_errors_t e;
        CHECK_INT_EQ(load(bad_cases[i].file, &s, &e), -1);
        CHECK(s == NULL);
        /* Each file holds exactly one problem, reported once. */
        CHECK_INT_EQ(e.n, 1);
        CHECK_STR_HAS(e.n ? e.msgs[0] : NULL, bad_cases[i].msg);
        zone_errors_deinit(&e);
    }
}

/* A file with many problems lists all of them, not just the first. */
static void test_several(void)
{
    static const char *const want[] = {
        ("several-errors.json:4:10: servers[2].ip: not an IPv4 or IPv6 address (got "
         "\"not-an-ip\")"),
        "several-errors.json:4:32: servers[2].score: outside [-100, 20] (got \"25\")",
        "several-errors.json:5:50: servers[3].netspeed: negative (got \"-1\")",
        "several-errors.json:5:70: servers[3].zones[1]: unknown zone (got \"mars\")",
        "several-errors.json:6:53: servers[4].extra: unknown key",
        "several-errors.json:6:3: servers[4]: missing key \"netspeed\"",
        "several-errors.json:1:1: serial: missing key \"serial\"",
        "several-errors.json:3:10: servers[1].ip: duplicate of servers[0] at line 2",
    };
    zone_snapshot_t *s = NULL;
    zone_errors_t e;

    CHECK_INT_EQ(load("several-errors.json", &s, &e), -1);
    CHECK(s == NULL);
    CHECK_INT_EQ(e.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        check_count++;
        if (!has_error(&e, want[i])) {
            check_failures++;
            fprintf(stderr, "missing error: %s\n", want[i]);
        }
    }
    zone_errors_print(&e, stdout);
    zone_errors_deinit(&e);
}

static char *read_all(const char *file, size_t *len)
{
    char path[1200];
    FILE *f;
    char *buf;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!(f = fopen(path, "rb")))
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    buf = malloc(*len + 1);
    if (buf && fread(buf, 1, *len, f) != *len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Every proper prefix of a good snapshot is rejected with at least one error
 * (the closing brace is missing), and none crashes (ASan/UBSan run this too).
 * Each prefix is copied to its own heap block so reads past it are caught. */
static void test_truncated(void)
{
    size_t len = 0, bad = 0;
    char *text = read_all("good.json", &len);

    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t cut = 0; cut <= len; cut++) {
        char *copy = malloc(cut ? cut : 1);
        zone_snapshot_t *s = NULL;
        zone_errors_t e;
        memcpy(copy, text, cut);
        zone_errors_init(&e);
        int rc = zone_snapshot_parse("cut", copy, cut, &s, &e);
        /* Only the whole file, or the file without its final newline, is good. */
        bool whole = cut >= len - 1;
        if ((rc == 0) != whole || (rc != 0 && (e.n == 0 || s != NULL)))
            bad++;
        zone_snapshot_free(s);
        zone_errors_deinit(&e);
        free(copy);
    }
    CHECK_INT_EQ(bad, 0);
    free(text);
}

/* At most ZONE_ERRORS_KEEP messages are kept; the rest are counted. */
static void test_error_cap(void)
{
    size_t n = 300, cap = n * 96 + 64, len;
    char *buf = malloc(cap);
    zone_snapshot_t *s = NULL;
    zone_errors_t e;

    len = (size_t)snprintf(buf, cap, "{\"serial\": 1, \"servers\": [\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "%s{\"ip\": \"bad%zu\", \"score\": 1, \"netspeed\": 1, "
                                "\"zones\": []}\n",
                                i ? "," : "", i);
    len += (size_t)snprintf(buf + len, cap - len, "]}\n");
    zone_errors_init(&e);
    CHECK_INT_EQ(zone_snapshot_parse("many", buf, len, &s, &e), -1);
    CHECK_INT_EQ(e.n, ZONE_ERRORS_KEEP);
    CHECK_INT_EQ(e.dropped, n - ZONE_ERRORS_KEEP);
    CHECK_STR_HAS(e.n ? e.msgs[e.n - 1] : NULL, "many:201:9: servers[199].ip:");
    zone_errors_deinit(&e);
    free(buf);
}

static void test_unreadable(void)
{
    zone_snapshot_t *s = NULL;
    zone_errors_t e;

    CHECK_INT_EQ(load("no-such-file.json", &s, &e), -1);
    CHECK(s == NULL);
    CHECK_STR_HAS(e.n ? e.msgs[0] : NULL, "no-such-file.json: cannot read: ");
    zone_errors_deinit(&e);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A ~10 MB snapshot (110,000 servers) with one duplicate at the very end: the
 * duplicate is found, so the check covers all pairs. The time is printed for
 * information only (speed targets live in bench/, not in unit tests); a
 * quadratic duplicate search would still show up as ctest's timeout.
 */
static void test_large(void)
{
    size_t n = 110000, cap = n * 100 + 64, len;
    char *buf = malloc(cap);
    zone_snapshot_t *s = NULL;
    zone_errors_t e;

    len = (size_t)snprintf(buf, cap, "{\"serial\": 2026112401, \"servers\": [\n");
    for (size_t i = 0; i < n; i++) {
        size_t a = i + 1 < n ? i : 7; /* the last one repeats server 7 */
        len += (size_t)snprintf(
            buf + len, cap - len,
            "%s{\"ip\": \"10.%zu.%zu.%zu\", \"score\": 19.5, \"netspeed\": "
            "100000, \"zones\": [\"de\", \"europe\"]}\n",
            i ? "," : "", a >> 16, (a >> 8) & 255, a & 255);
    }
    len += (size_t)snprintf(buf + len, cap - len, "]}\n");
    CHECK(len > 9000000);
    zone_errors_init(&e);
    double t0 = now();
    CHECK_INT_EQ(zone_snapshot_parse("big", buf, len, &s, &e), -1);
    double dt = now() - t0;
    printf("parsed %zu bytes in %.3f s\n", len, dt);
    CHECK_INT_EQ(e.n, 1);
    CHECK_STR_HAS(e.n ? e.msgs[0] : NULL,
                  "big:110001:9: servers[109999].ip: duplicate of "
                  "servers[7] at line 9");
    zone_errors_deinit(&e);
    free(buf);
}

/* Parses `text` (exactly len bytes, copied to its own heap block) and checks
 * it is refused with exactly one error containing `want`. */
static void one_error(const char *text, size_t len, const char *want)
{
    char *copy = malloc(len ? len : 1);
    zone_snapshot_t *s = (zone_snapshot_t *)&s;
    zone_errors_t e;

    memcpy(copy, text, len);
    zone_errors_init(&e);
    CHECK_INT_EQ(zone_snapshot_parse("t", copy, len, &s, &e), -1);
    CHECK(s == NULL);
    CHECK_INT_EQ(e.n, 1);
    CHECK_STR_HAS(e.n ? e.msgs[0] : NULL, want);
    zone_errors_deinit(&e);
    free(copy);
}

/* What YAML, JavaScript or a lax JSON reader would take and RFC 8259 does
 * not: each is a syntax error at the exact place, and the scan stops there. */
static const struct {
    const char *text, *msg;
} lax_cases[] = {
    {"{\"serial\": 0x10, \"servers\": []}",
     "t:1:12: (document): syntax error: invalid number \"0x10\": not a decimal number"},
    {"{\"serial\": 0x1p3, \"servers\": []}",
     "t:1:12: (document): syntax error: invalid number \"0x1p3\""},
    {"{\"serial\": 15., \"servers\": []}", "t:1:12: (document): syntax error: invalid "
                                           "number \"15.\": digit expected after '.'"},
    {"{\"serial\": 015, \"servers\": []}",
     "t:1:12: (document): syntax error: invalid number \"015\": leading zero"},
    {"{\"serial\": +1, \"servers\": []}",
     "t:1:12: (document): syntax error: unquoted text \"+1\""},
    {"{\"serial\": .5, \"servers\": []}",
     "t:1:12: (document): syntax error: unquoted text \".5\""},
    {"{\"serial\": 1e, \"servers\": []}",
     "t:1:12: (document): syntax error: invalid number \"1e\": digit expected in the "
     "exponent"},
    {"{\"serial\": NaN, \"servers\": []}",
     "t:1:12: (document): syntax error: unquoted text \"NaN\""},
    {"{\"serial\": -Infinity, \"servers\": []}",
     "t:1:12: (document): syntax error: invalid number \"-Infinity\""},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"192.0.2.1\\u0000x\"}]}",
     "t:1:44: (document): syntax error: \\u0000 (NUL) in a string"},
    {"{\"serial\": 1, \"servers\": [{\"i\\u0000p\": \"192.0.2.1\"}]}",
     "t:1:30: (document): syntax error: \\u0000 (NUL) in a string"},
    {"serial: 1\nservers: []\n",
     "t:1:1: (document): syntax error: unquoted text \"serial\""},
    {"{\"serial\": !!int 1, \"servers\": []}",
     "t:1:12: (document): syntax error: unexpected '!', expected a value"},
    {"--- {\"serial\": 1, \"servers\": []}",
     "t:1:1: (document): syntax error: invalid number \"---\""},
    {"{\"serial\": 1, \"servers\": &a []}",
     "t:1:26: (document): syntax error: unexpected '&', expected a value"},
    {"{'serial': 1, \"servers\": []}", "t:1:2: (document): syntax error: unexpected '''"},
    {"{serial: 1, \"servers\": []}",
     "t:1:2: (document): syntax error: unexpected 's', expected a key in double quotes"},
    {"{\"serial\": 1, # comment\n\"servers\": []}",
     "t:1:15: (document): syntax error: unexpected '#'"},
    {"{\"serial\": 1, // comment\n\"servers\": []}",
     "t:1:15: (document): syntax error: unexpected '/'"},
    {"{\"serial\": 1, \"servers\": [],}",
     "t:1:29: (document): syntax error: unexpected '}', expected a key in double quotes"},
    {"{\"serial\": 1, \"servers\": [\n  {\"ip\": \"192.0.2.1\",\n   \"zones\": "
     "[\"de\",]}]}",
     "t:3:19: (document): syntax error: unexpected ']', expected a value"},
    {"{\"serial\": 1, \"servers\": []}\n{\"serial\": 2, \"servers\": []}",
     "t:2:1: (document): syntax error: unexpected '{' after the end of the document"},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"a\tb\"}]}",
     "t:1:36: (document): syntax error: control character 0x09 in a string"},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"\xc0\x80\"}]}",
     "t:1:35: (document): syntax error: invalid UTF-8 (byte 0xc0)"},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"\xed\xa0\x80\"}]}",
     "t:1:35: (document): syntax error: invalid UTF-8 (byte 0xed)"},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"\\ud800\"}]}",
     "t:1:35: (document): syntax error: unpaired surrogate \\ud800"},
    {"{\"serial\": 1, \"servers\": [{\"ip\": \"\\x41\"}]}",
     "t:1:35: (document): syntax error: invalid escape: 'x' after a backslash"},
    {"\xef\xbb\xbf{\"serial\": 1, \"servers\": []}",
     "t:1:1: (document): syntax error: byte order mark"},
    {" \n\t", "t:1:1: (document): empty snapshot"},
    {"{\"serial\": 1, \"servers\": [",
     "t:1:27: (document): syntax error: unexpected end of input (an object or array is "
     "not closed)"},
};

static void test_lax_forms(void)
{
    for (size_t i = 0; i < sizeof lax_cases / sizeof lax_cases[0]; i++)
        one_error(lax_cases[i].text, strlen(lax_cases[i].text), lax_cases[i].msg);
}

/* JSON text in UTF-16 (either byte order, with or without a BOM) is refused
 * at its first byte, not read as garbage further on. */
static void test_utf16(void)
{
    static const char json[] = "{\"serial\": 1, \"servers\": []}";
    char be[2 * sizeof json + 2], le[2 * sizeof json + 2];
    size_t n = strlen(json);

    for (size_t i = 0; i < n; i++) {
        be[2 + 2 * i] = 0, be[3 + 2 * i] = json[i];
        le[2 + 2 * i] = json[i], le[3 + 2 * i] = 0;
    }
    be[0] = (char)0xfe, be[1] = (char)0xff, le[0] = (char)0xff, le[1] = (char)0xfe;
    one_error(be + 2, 2 * n, "t:1:1: (document): syntax error: UTF-16 or UTF-32 text");
    one_error(le + 2, 2 * n, "t:1:1: (document): syntax error: UTF-16 or UTF-32 text");
    one_error(be, 2 * n + 2, "t:1:1: (document): syntax error: UTF-16 or UTF-32 text");
    one_error(le, 2 * n + 2, "t:1:1: (document): syntax error: UTF-16 or UTF-32 text");
}

/* Every class of address no NTP client can use is refused with its name;
 * private and documentation ranges stay allowed (test pools use them). */
static void test_addresses(void)
{
    static const struct {
        const char *ip, *why;
    } bad[] = {
        {"0.0.0.0", "unspecified (0.0.0.0/8"},
        {"0.1.2.3", "unspecified (0.0.0.0/8"},
        {"127.0.0.1", "loopback (127.0.0.0/8)"},
        {"127.255.0.9", "loopback (127.0.0.0/8)"},
        {"169.254.1.1", "link-local (169.254.0.0/16"},
        {"224.0.0.1", "multicast (224.0.0.0/4)"},
        {"239.255.255.250", "multicast (224.0.0.0/4)"},
        {"255.255.255.255", "broadcast (255.255.255.255)"},
        {"240.0.0.1", "reserved (240.0.0.0/4"},
        {"::", "unspecified (::)"},
        {"::1", "loopback (::1)"},
        {"ff02::1", "multicast (ff00::/8)"},
        {"ff0e::101", "multicast (ff00::/8)"},
        {"fe80::1", "link-local (fe80::/10)"},
        {"febf::1", "link-local (fe80::/10)"},
        {"::ffff:10.0.0.1", "IPv4-mapped (::ffff:0:0/96)"},
        {"::ffff:192.0.2.1", "IPv4-mapped (::ffff:0:0/96)"},
        {"::10.0.0.1", "IPv4-compatible (::/96"},
    };
    static const char *const good[] = {"10.0.0.1",        "172.16.0.1",  "192.168.1.1",
                                       "100.64.0.1",      "1.1.1.1",     "1.0.0.0",
                                       "223.255.255.254", "2001:db8::1", "fc00::1",
                                       "2a01:4f8::1",     "::1:0:0:1"};
    char text[200], want[200];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text,
                 "{\"serial\": 1, \"servers\": [\n {\"ip\": \"%s\", \"score\": 20, "
                 "\"netspeed\": 1000, \"zones\": []}]}",
                 bad[i].ip);
        snprintf(want, sizeof want, "t:2:9: servers[0].ip: unusable address: %s",
                 bad[i].why);
        one_error(text, strlen(text), want);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        zone_snapshot_t *s = NULL;
        zone_errors_t e;
        snprintf(text, sizeof text,
                 "{\"serial\": 1, \"servers\": [{\"ip\": \"%s\", \"score\": 20, "
                 "\"netspeed\": 1000, \"zones\": []}]}",
                 good[i]);
        zone_errors_init(&e);
        CHECK_INT_EQ(zone_snapshot_parse("t", text, strlen(text), &s, &e), 0);
        zone_errors_print(&e, stderr);
        zone_errors_deinit(&e);
        zone_snapshot_free(s);
    }
    /* 10.0.0.1 and its mapped form were two servers before; now the second
     * is refused as mapped, with no duplicate report besides. */
    snprintf(text, sizeof text,
             "{\"serial\": 1, \"servers\": [{\"ip\": \"10.0.0.1\", \"score\": 20, "
             "\"netspeed\": 1, \"zones\": []},\n{\"ip\": \"::ffff:10.0.0.1\", \"score\": "
             "20, \"netspeed\": 1, \"zones\": []}]}");
    one_error(text, strlen(text), "t:2:8: servers[1].ip: unusable address: IPv4-mapped");
    /* A value shown in a message is cut at a character boundary (40 bytes at
     * most): the message travels in JSON replies. */
    size_t n =
        (size_t)snprintf(text, sizeof text, "{\"serial\": 1, \"servers\": [{\"ip\": \"");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "\xc3\xa9");
    snprintf(text + n, sizeof text - n,
             "\", \"score\": 20, \"netspeed\": 1, \"zones\": []}]}");
    strcpy(want, "t:1:34: servers[0].ip: not an IPv4 or IPv6 address (got \"");
    for (int i = 0; i < 20; i++)
        strcat(want, "\xc3\xa9");
    strcat(want, "...\")");
    one_error(text, strlen(text), want);
}

/* "[" x N "]" x N inside "servers" is refused at the 33rd level at once: the
 * old reader (libyaml) took 52 s for N = 150,000. The bound on time is loose
 * (a regression check, not a benchmark); the messages and places are exact. */
static void test_deep_nesting(void)
{
    static const size_t sizes[] = {150000, 500000};
    static const char head[] = "{\"serial\":1,\"servers\":[";

    for (size_t k = 0; k < 2; k++) {
        size_t n = sizes[k], hl = strlen(head), len = hl + 2 * n + 2;
        char *buf = malloc(len);
        zone_snapshot_t *s = NULL;
        zone_errors_t e;
        memcpy(buf, head, hl);
        memset(buf + hl, '[', n);
        memset(buf + hl + n, ']', n);
        memcpy(buf + len - 2, "]}", 2);
        zone_errors_init(&e);
        double t0 = now();
        CHECK_INT_EQ(zone_snapshot_parse("deep", buf, len, &s, &e), -1);
        double dt = now() - t0;
        printf("%zu nested brackets (%zu bytes) refused in %.4f s\n", n, len, dt);
        CHECK(dt < 1.0);
        CHECK(s == NULL);
        CHECK_INT_EQ(e.n, 2);
        CHECK_STR_HAS(
            e.n ? e.msgs[0] : NULL,
            "deep:1:24: servers[0]: wrong type: expected an object (got an array)");
        CHECK_STR_HAS(
            e.n > 1 ? e.msgs[1] : NULL,
            "deep:1:54: (document): syntax error: nested deeper than 32 levels");
        zone_errors_deinit(&e);
        free(buf);
    }
}

/* The shipped sample (bench/gen-snapshot.py, seed 2026) is valid. */
static void test_sample(const char *src)
{
    char path[1200];
    zone_snapshot_t *s = NULL;
    zone_errors_t e;

    snprintf(path, sizeof path, "%s/config/sample-snapshot.json", src);
    zone_errors_init(&e);
    CHECK_INT_EQ(zone_snapshot_load(path, &s, &e), 0);
    zone_errors_print(&e, stderr);
    zone_errors_deinit(&e);
    if (!s)
        return;
    CHECK(s->serial == 2026112401u);
    CHECK_INT_EQ(s->n_servers, 3000);
    zone_snapshot_free(s);
}

int main(void)
{
    const char *src = getenv("DNSD_SOURCE_DIR");

    if (!src) {
        fprintf(stderr, "DNSD_SOURCE_DIR is not set (run through ctest)\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/tests/data/snapshots", src);
    test_good();
    test_bad_files();
    test_several();
    test_truncated();
    test_error_cap();
    test_unreadable();
    test_large();
    test_lax_forms();
    test_utf16();
    test_addresses();
    test_deep_nesting();
    test_sample(src);
    return check_summary("test_snapshot");
}
