/*
 * test_config.c - the YAML configuration: every key and default, relative path
 * resolution, and one error case per kind with its exact "file:line:col: key"
 * prefix. Finishes with truncated and mutated configs, which must load or fail
 * with a positioned message, never crash or leak (ASan build).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "config/cfg.h"
#include "check.h"

static const cfg_t zero_cfg;

/* Every key, with values away from the defaults. */
static const char full_text[] =
    "# a node\n"
    "listen: [\"127.0.0.1:53\", \"[::1]:5353\", \"0.0.0.0:65535\"]\n"
    "workers: 3\n"
    "identity: node-fra-1\n"
    "geoip: {database: geo/country.mmdb, country_path: country_code}\n"
    "state_dir: state\n"
    "zones:\n"
    "  - origin: Pool.NTP.org.\n"
    "    master: pool.ntp.org.zone\n"
    "    snapshot: snap/pool.json\n"
    "    ttl: 0\n"
    "    answers: 16\n"
    "    min_score: -2.5\n"
    "    full_score: 20\n"
    "    aaaa: all\n"
    "    vendors: [Debian, ubuntu, centos_x]\n"
    "  - origin: test.example\n"
    "    master: /abs/test.zone\n"
    "control: {unix: run/control.sock, tcp: \"127.0.0.1:8953\", key_file: "
    "/etc/dnsd/key, idle_timeout: 3, max_unix_connections: 2, max_tcp_connections: "
    "1024}\n"
    "metrics: \"[::1]:9153\"\n"
    "tcp: {idle_timeout: 3600, max_connections: 1000000}\n";

/* The smallest valid config; the base of the error cases. */
#define ZONE "zones:\n  - origin: pool.ntp.org\n    master: m.zone\n"

static int load(cfg_t *cfg, const char *text, char *err)
{
    err[0] = '\0';
    return cfg_load_buffer(cfg, "t.yaml", text, strlen(text), err, CFG_ERR_MAX);
}

/* The load must fail with a message that starts with `prefix`, is one line,
 * and leaves nothing behind in `cfg`. */
static void expect_error(int line, const char *text, const char *prefix)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    int rc = load(&cfg, text, err);

    check_count++;
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || strchr(err, '\n')) {
        check_failures++;
        fprintf(stderr, "%s:%d: rc %d, error \"%s\" does not start with \"%s\"\n",
                __FILE__, line, rc, err, prefix);
    }
    CHECK(memcmp(&cfg, &zero_cfg, sizeof cfg) == 0);
    cfg_deinit(&cfg); /* harmless after an error */
}
#define EXPECT_ERROR(text, prefix) expect_error(__LINE__, text, prefix)

static int port_of(const cfg_listen_t *l)
{
    if (l->addr.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
}

static void check_full(const cfg_t *cfg, const char *dir)
{
    char want[4096], addr[INET6_ADDRSTRLEN];
    const cfg_zone_t *z = &cfg->zones[0];

    CHECK_INT_EQ(cfg->n_listen, 3);
    CHECK_INT_EQ(cfg->listen[0].addr.ss_family, AF_INET);
    CHECK_INT_EQ(cfg->listen[0].addrlen, sizeof(struct sockaddr_in));
    CHECK_INT_EQ(port_of(&cfg->listen[0]), 53);
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&cfg->listen[0].addr)->sin_addr,
              addr, sizeof addr);
    CHECK_STR_EQ(addr, "127.0.0.1");
    CHECK_INT_EQ(cfg->listen[1].addr.ss_family, AF_INET6);
    CHECK_INT_EQ(cfg->listen[1].addrlen, sizeof(struct sockaddr_in6));
    CHECK_INT_EQ(port_of(&cfg->listen[1]), 5353);
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&cfg->listen[1].addr)->sin6_addr,
              addr, sizeof addr);
    CHECK_STR_EQ(addr, "::1");
    CHECK_STR_EQ(cfg->listen[1].text, "[::1]:5353");
    CHECK_INT_EQ(port_of(&cfg->listen[2]), 65535);
    CHECK_INT_EQ(cfg->workers, 3);
    CHECK_STR_EQ(cfg->identity, "node-fra-1");
    CHECK_STR_EQ(cfg->geoip_country_path, "country_code");
    snprintf(want, sizeof want, "%s%sgeo/country.mmdb", dir ? dir : "", dir ? "/" : "");
    CHECK_STR_EQ(cfg->geoip_database, want);
    snprintf(want, sizeof want, "%s%sstate", dir ? dir : "", dir ? "/" : "");
    CHECK_STR_EQ(cfg->state_dir, want);

    CHECK_INT_EQ(cfg->n_zones, 2);
    CHECK_STR_EQ(z->origin, "pool.ntp.org");
    snprintf(want, sizeof want, "%s%spool.ntp.org.zone", dir ? dir : "", dir ? "/" : "");
    CHECK_STR_EQ(z->master, want);
    snprintf(want, sizeof want, "%s%ssnap/pool.json", dir ? dir : "", dir ? "/" : "");
    CHECK_STR_EQ(z->snapshot, want);
    CHECK_INT_EQ(z->ttl, 0);
    CHECK_INT_EQ(z->answers, 16);
    CHECK(z->min_score == -2.5);
    CHECK(z->full_score == 20);
    CHECK_INT_EQ(z->aaaa, CFG_AAAA_ALL);
    CHECK_INT_EQ(z->n_vendors, 3);
    if (z->n_vendors == 3) {
        CHECK_STR_EQ(z->vendors[0], "debian");
        CHECK_STR_EQ(z->vendors[1], "ubuntu");
        CHECK_STR_EQ(z->vendors[2], "centos_x");
    }
    /* The second zone takes every default. */
    z = &cfg->zones[1];
    CHECK_STR_EQ(z->origin, "test.example");
    CHECK_STR_EQ(z->master, "/abs/test.zone");
    CHECK(z->snapshot == NULL);
    CHECK_INT_EQ(z->ttl, 150);
    CHECK_INT_EQ(z->answers, 4);
    CHECK(z->min_score == 10);
    CHECK(z->full_score == 15);
    CHECK_INT_EQ(z->aaaa, CFG_AAAA_NUMBERED_2);
    CHECK_INT_EQ(z->n_vendors, 0);

    snprintf(want, sizeof want, "%s%srun/control.sock", dir ? dir : "", dir ? "/" : "");
    CHECK_STR_EQ(cfg->control_unix, want);
    CHECK_STR_EQ(cfg->control_tcp, "127.0.0.1:8953");
    CHECK_STR_EQ(cfg->control_key_file, "/etc/dnsd/key");
    CHECK_INT_EQ(cfg->control_idle_timeout_ms, 3000);
    CHECK_INT_EQ(cfg->control_max_unix_conns, 2);
    CHECK_INT_EQ(cfg->control_max_tcp_conns, 1024);
    CHECK_STR_EQ(cfg->metrics, "[::1]:9153");
    CHECK_INT_EQ(cfg->tcp_idle_timeout_ms, 3600000);
    CHECK_INT_EQ(cfg->tcp_max_connections, 1000000);
}

static void test_full_buffer(void)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;

    CHECK_INT_EQ(load(&cfg, full_text, err), 0);
    CHECK_STR_EQ(err, "");
    CHECK_STR_EQ(cfg.path, "t.yaml");
    check_full(&cfg, NULL); /* from a buffer, relative paths stay as written */
    cfg_deinit(&cfg);
    CHECK(memcmp(&cfg, &zero_cfg, sizeof cfg) == 0);
}

/* From a file, relative paths join the file's directory. */
static void test_full_file(void)
{
    char dir[] = "/tmp/test_config.XXXXXX", path[256], err[CFG_ERR_MAX];
    cfg_t cfg;
    FILE *f;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        CHECK(0);
        return;
    }
    snprintf(path, sizeof path, "%s/dnsd.yaml", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(full_text, f);
    fclose(f);
    CHECK_INT_EQ(cfg_load(&cfg, path, err, sizeof err), 0);
    CHECK_STR_EQ(cfg.path, path);
    check_full(&cfg, dir);
    cfg_deinit(&cfg);

    /* A bare file name: its directory is ".". */
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) && chdir(dir) == 0) {
        CHECK_INT_EQ(cfg_load(&cfg, "dnsd.yaml", err, sizeof err), 0);
        CHECK_STR_EQ(cfg.zones ? cfg.zones[0].master : NULL, "./pool.ntp.org.zone");
        CHECK_STR_EQ(cfg.control_key_file, "/etc/dnsd/key");
        cfg_deinit(&cfg);
        CHECK_INT_EQ(chdir(cwd), 0);
    }

    /* An error in a file names the file as given. */
    f = fopen(path, "w");
    if (f) {
        fputs(ZONE "    ttl: x\n", f);
        fclose(f);
    }
    CHECK_INT_EQ(cfg_load(&cfg, path, err, sizeof err), -1);
    snprintf(path + strlen(path), sizeof path - strlen(path), ":4:10: zones[0].ttl: ");
    CHECK_INT_EQ(strncmp(err, path, strlen(path)), 0);
    path[strlen(dir) + 10] = '\0';
    unlink(path);
    rmdir(dir);

    CHECK_INT_EQ(cfg_load(&cfg, path, err, sizeof err), -1);
    CHECK_STR_HAS(err, "dnsd.yaml: cannot read: ");
    CHECK(memcmp(&cfg, &zero_cfg, sizeof cfg) == 0);
}

static void test_defaults(void)
{
    char err[CFG_ERR_MAX], host[256] = "";
    cfg_t cfg;

    CHECK_INT_EQ(load(&cfg, ZONE, err), 0);
    CHECK_INT_EQ(cfg.n_listen, 2);
    CHECK_STR_EQ(cfg.listen[0].text, "127.0.0.1:5300");
    CHECK_INT_EQ(cfg.listen[0].addr.ss_family, AF_INET);
    CHECK_INT_EQ(port_of(&cfg.listen[0]), 5300);
    CHECK_STR_EQ(cfg.listen[1].text, "[::1]:5300");
    CHECK_INT_EQ(cfg.listen[1].addr.ss_family, AF_INET6);
    CHECK_INT_EQ(port_of(&cfg.listen[1]), 5300);
    CHECK_INT_EQ(cfg.workers, 0);
    gethostname(host, sizeof host - 1);
    CHECK_STR_EQ(cfg.identity, host);
    CHECK(cfg.geoip_database == NULL);
    CHECK_STR_EQ(cfg.geoip_country_path, "country.iso_code");
    CHECK(cfg.state_dir == NULL);
    CHECK(cfg.control_unix == NULL && cfg.control_tcp == NULL);
    CHECK(cfg.control_key_file == NULL && cfg.metrics == NULL);
    CHECK_INT_EQ(cfg.control_idle_timeout_ms, 10000);
    CHECK_INT_EQ(cfg.control_max_unix_conns, 16);
    CHECK_INT_EQ(cfg.control_max_tcp_conns, 32);
    CHECK_INT_EQ(cfg.tcp_idle_timeout_ms, 10000);
    CHECK_INT_EQ(cfg.tcp_max_connections, 1000);
    CHECK_STR_EQ(cfg.zones[0].master, "m.zone");
    cfg_deinit(&cfg);

    CHECK_INT_EQ(load(&cfg, "workers: auto\n" ZONE "    min_score: 12.5e0\n", err), 0);
    CHECK_INT_EQ(cfg.workers, 0);
    CHECK(cfg.zones[0].min_score == 12.5);
    cfg_deinit(&cfg);
    CHECK_INT_EQ(load(&cfg, "workers: 256\n" ZONE "    full_score: 10\n", err), 0);
    CHECK_INT_EQ(cfg.workers, 256);
    cfg_deinit(&cfg);
}

static void test_syntax_errors(void)
{
    EXPECT_ERROR("workers: a: b\n" ZONE,
                 "t.yaml:1:11: YAML syntax error: mapping values are not allowed");
    EXPECT_ERROR(ZONE "    vendors: [a, b\n", "t.yaml:5:1: YAML syntax error: ");
    EXPECT_ERROR(ZONE "    ttl: *nope\n",
                 "t.yaml:4:10: YAML syntax error: found undefined alias");
    EXPECT_ERROR("zones: \xff\n", "t.yaml:1:8: YAML syntax error: invalid ");
    EXPECT_ERROR(ZONE "---\n" ZONE, "t.yaml:5:1: a second YAML document");
    /* Empty or not a mapping. */
    EXPECT_ERROR("", "t.yaml:1:1: the file is empty");
    EXPECT_ERROR("# nothing\n\n", "t.yaml:1:1: the file is empty");
    EXPECT_ERROR("- a\n- b\n",
                 "t.yaml:1:1: the top level must be a mapping of keys, got a sequence");
    EXPECT_ERROR("just text\n",
                 "t.yaml:1:1: the top level must be a mapping of keys, got a scalar");
    EXPECT_ERROR("workers: 2\n", "t.yaml:1:1: zones: required key is missing");
}

/* Nesting is bounded at 32 levels, block or flow, before libyaml composes a
 * document: "[" x N costs libyaml time quadratic in N (a 300 KB file took
 * tens of seconds). 32 levels pass the bound (and fail as a wrong type). */
static void test_depth(void)
{
    size_t n = 150000, len;
    char *text = malloc(2 * n + 64), err[CFG_ERR_MAX];
    cfg_t cfg;
    struct timespec t0, t1;

    len = (size_t)snprintf(text, 64, "%s", ZONE "rrl: ");
    memset(text + len, '[', n);
    memset(text + len + n, ']', n);
    text[len + 2 * n] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_error(__LINE__, text, "t.yaml:4:37: nested deeper than 32 levels");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 <
          1.0);
    /* Exactly 32 in all (the top mapping is the first): not a depth error. */
    len = (size_t)snprintf(text, 64, "%s", ZONE "rrl: ");
    memset(text + len, '[', 31);
    memset(text + len + 31, ']', 31);
    text[len + 62] = '\0';
    CHECK_INT_EQ(load(&cfg, text, err), -1);
    CHECK_STR_HAS(err, "t.yaml:4:6: rrl: expected a mapping");
    /* Block style counts too. */
    len = (size_t)snprintf(text, 64, "%s", ZONE);
    for (int i = 0; i < 33; i++)
        len += (size_t)snprintf(text + len, 64, "%*sk%d:\n", i, "", i);
    expect_error(__LINE__, text, "t.yaml:36:33: nested deeper than 32 levels");
    free(text);
}

static void test_key_errors(void)
{
    EXPECT_ERROR(ZONE "colour: red\n",
                 "t.yaml:4:1: colour: unknown key (known keys: listen,");
    EXPECT_ERROR(ZONE "  - origin: b.org\n    master: m\n    colour: red\n",
                 "t.yaml:6:5: zones[1].colour: unknown key");
    EXPECT_ERROR(ZONE "geoip: {databse: x}\n", "t.yaml:4:9: geoip.databse: unknown key");
    EXPECT_ERROR(ZONE "tcp: {idle: 3}\n", "t.yaml:4:7: tcp.idle: unknown key");
    EXPECT_ERROR(ZONE "    ttl: 10\n    ttl: 20\n",
                 "t.yaml:5:5: zones[0].ttl: duplicate key (first at line 4)");
    EXPECT_ERROR("workers: 2\n" ZONE "workers: 3\n",
                 "t.yaml:5:1: workers: duplicate key");
    EXPECT_ERROR(ZONE "? [a]\n: b\n", "t.yaml:4:3: expected a key, got a sequence");
}

static void test_type_errors(void)
{
    EXPECT_ERROR("identity: [a, b]\n" ZONE,
                 "t.yaml:1:11: identity: expected a string, got a sequence");
    EXPECT_ERROR("identity:\n" ZONE,
                 "t.yaml:1:10: identity: expected a string, got no value");
    EXPECT_ERROR("identity: \"\"\n" ZONE,
                 "t.yaml:1:11: identity: expected a string of 1..255");
    EXPECT_ERROR(
        "listen: 127.0.0.1:53\n" ZONE,
        "t.yaml:1:9: listen: expected a sequence of \"address:port\", got a scalar");
    EXPECT_ERROR("listen: []\n" ZONE, "t.yaml:1:9: listen: at least one address");
    EXPECT_ERROR("zones: {origin: a}\n",
                 "t.yaml:1:8: zones: expected a sequence of zones, got a mapping");
    EXPECT_ERROR("zones: []\n", "t.yaml:1:8: zones: at least one zone is required");
    EXPECT_ERROR("zones: [a.org]\n",
                 "t.yaml:1:9: zones[0]: expected a mapping, got a scalar");
    EXPECT_ERROR(ZONE "geoip: x.mmdb\n",
                 "t.yaml:4:8: geoip: expected a mapping, got a scalar");
    EXPECT_ERROR(ZONE "    snapshot: {a: b}\n",
                 "t.yaml:4:15: zones[0].snapshot: expected a file path, got a mapping");
    EXPECT_ERROR(
        ZONE "    vendors: debian\n",
        "t.yaml:4:14: zones[0].vendors: expected a sequence of names, got a scalar");
    EXPECT_ERROR(
        ZONE "    vendors: [[a]]\n",
        "t.yaml:4:15: zones[0].vendors[0]: expected a vendor name, got a sequence");
    EXPECT_ERROR(ZONE "state_dir: \"a\\0b\"\n",
                 "t.yaml:4:12: state_dir: the value contains a NUL");
}

static void test_listen_errors(void)
{
    EXPECT_ERROR(
        "listen:\n  - 127.0.0.1:53\n  - 1.2.3.999:53\n" ZONE,
        "t.yaml:3:5: listen[1]: bad address \"1.2.3.999:53\": not an IPv4 address");
    EXPECT_ERROR("listen: [localhost:53]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"localhost:53\": not an IPv4");
    EXPECT_ERROR("listen: [\"[::g]:53\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"[::g]:53\": not an IPv6");
    EXPECT_ERROR("listen:\n  - 127.0.0.1:65536\n" ZONE,
                 "t.yaml:2:5: listen[0]: bad address \"127.0.0.1:65536\": the port must "
                 "be an integer in 1..65535");
    EXPECT_ERROR("listen: [\"127.0.0.1:0\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"127.0.0.1:0\": the port");
    EXPECT_ERROR("listen: [\"127.0.0.1:\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"127.0.0.1:\": the port");
    EXPECT_ERROR("listen: [\"127.0.0.1:53x\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"127.0.0.1:53x\": the port");
    EXPECT_ERROR(
        "listen: [\"127.0.0.1\"]\n" ZONE,
        "t.yaml:1:10: listen[0]: bad address \"127.0.0.1\": expected \"address:port\"");
    EXPECT_ERROR("listen: [\"::1:5300\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"::1:5300\": an IPv6 address "
                 "needs brackets");
    EXPECT_ERROR("listen: [\"[::1]5300\"]\n" ZONE,
                 "t.yaml:1:10: listen[0]: bad address \"[::1]5300\": expected "
                 "\"[IPv6-address]:port\"");
    EXPECT_ERROR("listen: [\"127.0.0.1:53\", \"[::1]:53\", \"127.0.0.1:053\"]\n" ZONE,
                 "t.yaml:1:38: listen[2]: duplicate of listen[0] (127.0.0.1:53)");
    EXPECT_ERROR(ZONE "metrics: 9153\n", "t.yaml:4:10: metrics: bad address \"9153\"");
}

static void test_zone_value_errors(void)
{
    EXPECT_ERROR(
        ZONE "    ttl: 10abc\n",
        "t.yaml:4:10: zones[0].ttl: expected an integer in 0..2147483647, got \"10abc\"");
    EXPECT_ERROR(ZONE "    ttl: 1.5\n", "t.yaml:4:10: zones[0].ttl: expected an integer");
    EXPECT_ERROR(ZONE "    ttl: -1\n", "t.yaml:4:10: zones[0].ttl: expected an integer");
    EXPECT_ERROR(ZONE "    ttl: 2147483648\n",
                 "t.yaml:4:10: zones[0].ttl: expected an integer");
    EXPECT_ERROR(ZONE "    ttl: 99999999999999999999999\n",
                 "t.yaml:4:10: zones[0].ttl: expected");
    EXPECT_ERROR(ZONE "    ttl: 0x10\n",
                 "t.yaml:4:10: zones[0].ttl: expected an integer");
    EXPECT_ERROR(
        ZONE "    answers: 17\n",
        "t.yaml:4:14: zones[0].answers: expected an integer in 1..16, got \"17\"");
    EXPECT_ERROR(ZONE "    answers: 0\n",
                 "t.yaml:4:14: zones[0].answers: expected an integer in 1..16");
    EXPECT_ERROR(ZONE "    min_score: 12\n    full_score: 11.5\n",
                 "t.yaml:5:17: zones[0].full_score: full_score (11.5) must not be below "
                 "min_score (12)");
    EXPECT_ERROR(ZONE "    min_score: 16\n",
                 "t.yaml:4:16: zones[0].min_score: full_score (15) must not be below "
                 "min_score (16)");
    EXPECT_ERROR(
        ZONE "    full_score: 20.5\n",
        "t.yaml:4:17: zones[0].full_score: expected a number in -100..20, got \"20.5\"");
    EXPECT_ERROR(ZONE "    min_score: nan\n",
                 "t.yaml:4:16: zones[0].min_score: expected a number");
    EXPECT_ERROR(ZONE "    min_score: 1e999\n",
                 "t.yaml:4:16: zones[0].min_score: expected a number");
    EXPECT_ERROR(
        ZONE "    aaaa: some\n",
        "t.yaml:4:11: zones[0].aaaa: expected \"numbered-2\" or \"all\", got \"some\"");
    EXPECT_ERROR("zones:\n  - master: m.zone\n",
                 "t.yaml:2:5: zones[0].origin: required key is missing");
    EXPECT_ERROR("zones:\n  - origin: a.org\n    ttl: 5\n",
                 "t.yaml:2:5: zones[0].master: required key is missing");
    EXPECT_ERROR(ZONE "  - origin: POOL.ntp.org.\n    master: x\n",
                 "t.yaml:4:13: zones[1].origin: duplicate origin \"pool.ntp.org\" (also "
                 "zones[0])");
    EXPECT_ERROR("zones:\n  - origin: pool..org\n    master: m\n",
                 "t.yaml:2:13: zones[0].origin: \"pool..org\" is not a valid domain "
                 "name: empty label");
    EXPECT_ERROR("zones:\n  - origin: po ol.org\n    master: m\n",
                 "t.yaml:2:13: zones[0].origin: \"po ol.org\" is not a valid domain "
                 "name: only letters");
    EXPECT_ERROR("zones:\n  - origin: .\n    master: m\n",
                 "t.yaml:2:13: zones[0].origin: \".\" is not a valid");
    EXPECT_ERROR("zones:\n  - origin: "
                 "a234567890123456789012345678901234567890123456789012345678901234.org\n"
                 "    master: m\n",
                 "t.yaml:2:13: zones[0].origin: "
                 "\"a2345678901234567890123456789012345678901234...\" is "
                 "not a valid domain name: label longer than 63");
    EXPECT_ERROR(ZONE "    vendors: [debian, Debian]\n",
                 "t.yaml:4:23: zones[0].vendors[1]: duplicate vendor \"debian\"");
    EXPECT_ERROR(
        ZONE "    vendors: [deb.ian]\n",
        "t.yaml:4:15: zones[0].vendors[0]: \"deb.ian\" is not a single DNS label");
}

static void test_other_errors(void)
{
    EXPECT_ERROR(ZONE "control: {tcp: \"127.0.0.1:8953\"}\n",
                 "t.yaml:4:16: control.tcp: needs control.key_file");
    EXPECT_ERROR(ZONE "control: {tcp: \"8953\", key_file: k}\n",
                 "t.yaml:4:16: control.tcp: bad address \"8953\"");
    EXPECT_ERROR(
        "workers: 0\n" ZONE,
        "t.yaml:1:10: workers: expected \"auto\" or an integer in 1..256, got \"0\"");
    EXPECT_ERROR("workers: 257\n" ZONE,
                 "t.yaml:1:10: workers: expected \"auto\" or an integer");
    EXPECT_ERROR("workers: many\n" ZONE,
                 "t.yaml:1:10: workers: expected \"auto\" or an integer");
    EXPECT_ERROR(
        ZONE "tcp: {idle_timeout: 0}\n",
        "t.yaml:4:21: tcp.idle_timeout: expected an integer in 1..3600, got \"0\"");
    EXPECT_ERROR(
        ZONE "control: {unix: s, max_tcp_connections: 0}\n",
        "t.yaml:4:41: control.max_tcp_connections: expected an integer in 1..1024, "
        "got \"0\"");
    EXPECT_ERROR(ZONE "tcp: {max_connections: 1000001}\n",
                 "t.yaml:4:24: tcp.max_connections: expected an integer in 1..1000000");
    EXPECT_ERROR(ZONE "geoip: {country_path: country.}\n",
                 "t.yaml:4:23: geoip.country_path: \"country.\" is not a dotted path");
    /* A message that does not fit is cut, never overrun. */
    char small[16];
    cfg_t cfg;
    CHECK_INT_EQ(cfg_load_buffer(&cfg, "t.yaml", "workers: 0\n", 11, small, sizeof small),
                 -1);
    CHECK_STR_EQ(small, "t.yaml:1:10: wo");
}

/* The shipped config the README runs must validate. */
static void test_shipped(void)
{
    const char *src = getenv("DNSD_SOURCE_DIR");
    char path[4096], want[4096], err[CFG_ERR_MAX];
    cfg_t cfg;

    snprintf(path, sizeof path, "%s/config/dnsd.yaml", src ? src : "..");
    CHECK_INT_EQ(cfg_load(&cfg, path, err, sizeof err), 0);
    if (cfg.n_zones == 0) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_INT_EQ(cfg.n_listen, 2);
    CHECK_STR_EQ(cfg.listen[0].text, "127.0.0.1:5300");
    CHECK_STR_EQ(cfg.listen[1].text, "[::1]:5300");
    CHECK_STR_EQ(cfg.identity, "dnsd-demo");
    CHECK_STR_EQ(cfg.zones[0].origin, "pool.ntp.org");
    snprintf(want, sizeof want, "%s/config/pool.ntp.org.zone", src ? src : "..");
    CHECK_STR_EQ(cfg.zones[0].master, want);
    snprintf(want, sizeof want, "%s/config/../.cache/geoip/geo-whois-asn-country.mmdb",
             src ? src : "..");
    CHECK_STR_EQ(cfg.geoip_database, want);
    CHECK_STR_EQ(cfg.geoip_country_path, "country_code");
    CHECK_INT_EQ(cfg.zones[0].n_vendors, 4);
    cfg_deinit(&cfg);
}

/* Loads `text`, which may be broken: success, or one positioned line. */
static void survive(const char *text, size_t len)
{
    char err[CFG_ERR_MAX] = "";
    unsigned line, col;
    cfg_t cfg;

    if (cfg_load_buffer(&cfg, "t.yaml", text, len, err, sizeof err) == 0) {
        CHECK(cfg.n_zones > 0 && cfg.n_listen > 0);
        cfg_deinit(&cfg);
        return;
    }
    check_count++;
    if (sscanf(err, "t.yaml:%u:%u: ", &line, &col) != 2 || line == 0 || col == 0 ||
        strchr(err, '\n')) {
        check_failures++;
        fprintf(stderr, "%s:%d: no position in \"%s\" for:\n%.*s\n", __FILE__, __LINE__,
                err, (int)len, text);
    }
}

static void test_truncated_and_mutated(void)
{
    static const char marks[] = ":[]{}-\"'#&*!|>\n ,x9\\";
    size_t len = strlen(full_text), i, m;
    char *copy = malloc(len);

    for (i = 0; i <= len; i++) {
        /* A heap copy of exactly i bytes, so ASan sees any read past the end. */
        char *prefix = malloc(i ? i : 1);
        memcpy(prefix, full_text, i);
        survive(prefix, i);
        free(prefix);
    }
    for (i = 0; copy && i < len; i++)
        for (m = 0; m < sizeof marks - 1; m++) {
            memcpy(copy, full_text, len);
            copy[i] = marks[m];
            survive(copy, len);
        }
    free(copy);
}

/* user, group, query_log and log (operations keys). */
static void test_operations(void)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    CHECK_INT_EQ(load(&cfg, ZONE, err), 0);
    CHECK(cfg.user == NULL && cfg.group == NULL && cfg.dnstap_path == NULL);
    CHECK_INT_EQ(cfg.log_target, CFG_LOG_STDERR);
    CHECK_INT_EQ(cfg.log_level, 2);
    cfg_deinit(&cfg);

    CHECK_INT_EQ(load(&cfg,
                      ZONE "user: dnsd\ngroup: nogroup\nquery_log: {dnstap: tap.fstrm}\n"
                           "log: {target: syslog, level: debug}\n",
                      err),
                 0);
    CHECK_STR_EQ(cfg.user, "dnsd");
    CHECK_STR_EQ(cfg.group, "nogroup");
    CHECK_STR_EQ(cfg.dnstap_path, "tap.fstrm");
    CHECK_INT_EQ(cfg.dnstap_mode, CFG_DNSTAP_AUTO);
    CHECK_INT_EQ(cfg.log_target, CFG_LOG_SYSLOG);
    CHECK_INT_EQ(cfg.log_level, 3);
    cfg_deinit(&cfg);

    CHECK_INT_EQ(load(&cfg, ZONE "query_log:\n  dnstap: {unix: /run/dnstap.sock}\n", err),
                 0);
    CHECK_STR_EQ(cfg.dnstap_path, "/run/dnstap.sock");
    CHECK_INT_EQ(cfg.dnstap_mode, CFG_DNSTAP_UNIX);
    cfg_deinit(&cfg);
    CHECK_INT_EQ(load(&cfg, ZONE "query_log: {dnstap: {file: /var/log/q.tap}}\n", err),
                 0);
    CHECK_STR_EQ(cfg.dnstap_path, "/var/log/q.tap");
    CHECK_INT_EQ(cfg.dnstap_mode, CFG_DNSTAP_FILE);
    cfg_deinit(&cfg);

    EXPECT_ERROR(ZONE "user: \"\"\n",
                 "t.yaml:4:7: user: expected a string of 1..32 bytes");
    EXPECT_ERROR(ZONE "group: [a]\n",
                 "t.yaml:4:8: group: expected a string, got a sequence");
    EXPECT_ERROR(
        ZONE "query_log: {dnstap: {pipe: x}}\n",
        "t.yaml:4:22: query_log.dnstap.pipe: unknown key (known keys: file, unix)");
    EXPECT_ERROR(
        ZONE "query_log: {dnstap: {file: a, unix: b}}\n",
        "t.yaml:4:21: query_log.dnstap: expected one key, file or unix, with a path");
    EXPECT_ERROR(
        ZONE "query_log: {dnstap: \"\"}\n",
        "t.yaml:4:21: query_log.dnstap: expected a file path, got an empty string");
    EXPECT_ERROR(ZONE "query_log: {tap: x}\n",
                 "t.yaml:4:13: query_log.tap: unknown key (known keys: dnstap)");
    EXPECT_ERROR(ZONE "log: {target: file}\n",
                 "t.yaml:4:15: log.target: expected one of stderr, syslog, got \"file\"");
    EXPECT_ERROR(
        ZONE "log: {level: loud}\n",
        "t.yaml:4:14: log.level: expected one of err, warn, info, debug, got \"loud\"");
}

/* xdp: the AF_XDP listener's keys, checked on every build. */
static void test_xdp(void)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    CHECK_INT_EQ(load(&cfg, ZONE, err), 0);
    CHECK(cfg.xdp_interface == NULL);
    cfg_deinit(&cfg);

    CHECK_INT_EQ(load(&cfg, ZONE "xdp: {interface: eth0}\n", err), 0);
    CHECK_STR_EQ(cfg.xdp_interface, "eth0");
    CHECK_INT_EQ(cfg.xdp_port, 53);
    CHECK_INT_EQ(cfg.xdp_mode, CFG_XDP_AUTO);
    CHECK_INT_EQ(cfg.xdp_zero_copy, CFG_XDP_ZC_AUTO);
    CHECK(!cfg.xdp_fallback);
    cfg_deinit(&cfg);

    CHECK_INT_EQ(load(&cfg,
                      ZONE "xdp:\n  interface: veth0\n  port: 5353\n  mode: native\n"
                           "  zero_copy: off\n  fallback: true\n",
                      err),
                 0);
    CHECK_STR_EQ(cfg.xdp_interface, "veth0");
    CHECK_INT_EQ(cfg.xdp_port, 5353);
    CHECK_INT_EQ(cfg.xdp_mode, CFG_XDP_NATIVE);
    CHECK_INT_EQ(cfg.xdp_zero_copy, CFG_XDP_ZC_OFF);
    CHECK(cfg.xdp_fallback);
    cfg_deinit(&cfg);

    EXPECT_ERROR(ZONE "xdp: {port: 53}\n",
                 "t.yaml:4:6: xdp.interface: required key is missing");
    EXPECT_ERROR(
        ZONE "xdp: {interface: a_name_longer_than_15}\n",
        "t.yaml:4:18: xdp.interface: \"a_name_longer_than_15\" is not an interface");
    EXPECT_ERROR(ZONE "xdp: {interface: \"a\\\"b\"}\n", "t.yaml:4:18: xdp.interface: ");
    EXPECT_ERROR(
        ZONE "xdp: {interface: eth0, mode: turbo}\n",
        "t.yaml:4:30: xdp.mode: expected one of auto, native, generic, got \"turbo\"");
    EXPECT_ERROR(ZONE "xdp: {interface: eth0, port: 70000}\n", "t.yaml:4:30: xdp.port: ");
    EXPECT_ERROR(ZONE "xdp: {interface: eth0, mode: generic, zero_copy: on}\n",
                 "t.yaml:4:50: xdp.zero_copy: zero copy needs mode native");
    EXPECT_ERROR(ZONE "xdp: {interface: eth0, fallback: maybe}\n",
                 "t.yaml:4:34: xdp.fallback: expected one of false, true, no, yes");
}

/* zones[].dnssec: paths resolved like the others, durations, the checks. */
static void test_dnssec(void)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    CHECK_INT_EQ(load(&cfg,
                      ZONE "    dnssec: {keys: [K.private, /k/K2.private], publish: "
                           "[K3.key], signature_validity: 2d, refresh: 1d,\n"
                           "             inception_offset: 90m}\n",
                      err),
                 0);
    const cfg_dnssec_t *d = &cfg.zones[0].dnssec;
    CHECK(d->enabled);
    CHECK_INT_EQ(d->n_keys, 2);
    CHECK_INT_EQ(d->n_publish, 1);
    CHECK_INT_EQ(d->validity, 2 * 86400);
    CHECK_INT_EQ(d->refresh, 86400);
    CHECK_INT_EQ(d->inception_offset, 5400);
    CHECK_STR_EQ(d->keys[1], "/k/K2.private");
    cfg_deinit(&cfg);
    CHECK_INT_EQ(load(&cfg, ZONE "    dnssec: {keys: [K.private]}\n", err), 0);
    CHECK_INT_EQ(cfg.zones[0].dnssec.validity, 14 * 86400);
    CHECK_INT_EQ(cfg.zones[0].dnssec.refresh, 7 * 86400);
    CHECK_INT_EQ(cfg.zones[0].dnssec.inception_offset, 3600);
    cfg_deinit(&cfg);
    EXPECT_ERROR(ZONE "    dnssec: {keys: []}\n",
                 "t.yaml:4:13: zones[0].dnssec.keys: at least one signing key");
    EXPECT_ERROR(ZONE "    dnssec: {keys: [K.private], refresh: 2 weeks}\n",
                 "t.yaml:4:42: zones[0].dnssec.refresh: expected a duration");
    EXPECT_ERROR(ZONE "    dnssec: {keys: [K.private], refresh: 14d}\n",
                 "t.yaml:4:13: zones[0].dnssec.refresh: need signature_validity >= 5m");
    EXPECT_ERROR(
        ZONE "    dnssec: {keys: [K.private], inception_offset: 7d}\n",
        "t.yaml:4:13: zones[0].dnssec.inception_offset: inception_offset (604800 s)");
    EXPECT_ERROR(ZONE "    dnssec: {keys: [K.private], nsec3: yes}\n", "t.yaml:4:");
}

int main(void)
{
    test_dnssec();
    test_operations();
    test_xdp();
    test_full_buffer();
    test_full_file();
    test_defaults();
    test_syntax_errors();
    test_depth();
    test_key_errors();
    test_type_errors();
    test_listen_errors();
    test_zone_value_errors();
    test_other_errors();
    test_shipped();
    test_truncated_and_mutated();
    return check_summary("test_config");
}
