/*
 * test_config_load.c - loading the YAML configuration: every key and default,
 * relative path resolution, the shipped config, and the structural errors
 * (YAML syntax, nesting depth, unknown and duplicate keys) with their exact
 * "file:line:col: key" prefix. Finishes with truncated and mutated configs,
 * which must load or fail with a positioned message, never crash or leak (ASan
 * build). Each key's values and their errors are in test_config_values.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cfgtest.h"
#include "check.h"
#include "config/cfg.h"

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

int main(void)
{
    test_full_buffer();
    test_full_file();
    test_defaults();
    test_syntax_errors();
    test_depth();
    test_key_errors();
    test_shipped();
    test_truncated_and_mutated();
    return check_summary("test_config_load");
}
