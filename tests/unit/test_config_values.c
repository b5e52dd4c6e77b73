/*
 * test_config_values.c - the values of the YAML configuration, section by
 * section: types, listen addresses, zone values, control, workers, tcp and
 * geoip bounds, the operations keys (user, group, query_log, log), xdp and
 * zones[].dnssec; one error case per kind with its exact "file:line:col: key"
 * prefix. Loading itself, every key's default and the structural errors are in
 * test_config_load.c.
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
    test_type_errors();
    test_listen_errors();
    test_zone_value_errors();
    test_other_errors();
    return check_summary("test_config_values");
}
