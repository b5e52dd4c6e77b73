/*
 * test_rrl.c - the RRL token buckets: rate and burst, slip, prefixes (IPv4
 * /24, IPv6 /56, configurable), exemptions, refill over time, exact token
 * accounting under concurrent workers; and the config keys that set it up.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>

#include "config/cfg.h"
#include "check.h"
#include "testaddr.h"
#include "dnsd/query/rrl.h"

#define T0 5000000u /* an arbitrary monotonic time, ms */

static rrl_verdict_t ask(rrl_t *r, const char *ip, uint64_t now)
{
    struct sockaddr_storage ss = test_addr(ip);
    return rrl_check(r, (struct sockaddr *)&ss, now);
}

static int load(cfg_t *cfg, const char *rrl, char *err)
{
    char text[1024];
    snprintf(text, sizeof text, "zones:\n  - origin: pool.test\n    master: x.zone\n%s",
             rrl);
    return cfg_load_buffer(cfg, "t.yaml", text, strlen(text), err, CFG_ERR_MAX);
}

static rrl_t *make(cfg_t *cfg, const char *rrl)
{
    char err[CFG_ERR_MAX];
    if (load(cfg, rrl, err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return rrl_new(cfg, err, sizeof err);
}

/* Counts verdicts of n queries from ip at time now. */
static void burst(rrl_t *r, const char *ip, uint64_t now, int n, int count[3])
{
    count[0] = count[1] = count[2] = 0;
    for (int i = 0; i < n; i++)
        count[ask(r, ip, now)]++;
}

static void test_rate_and_slip(void)
{
    cfg_t cfg;
    int c[3];
    rrl_t *r = make(&cfg, "rrl: {rate: 10, slip: 2}\n");
    CHECK(r != NULL);
    burst(r, "192.0.2.1", T0, 30, c);
    CHECK_INT_EQ(c[RRL_PASS], 10); /* a burst of one second's worth */
    CHECK_INT_EQ(c[RRL_SLIP], 10); /* every second limited response */
    CHECK_INT_EQ(c[RRL_DROP], 10);
    /* The same /24 shares the bucket; the next /24 has its own. */
    CHECK(ask(r, "192.0.2.200", T0) != RRL_PASS);
    burst(r, "192.0.3.1", T0, 10, c);
    CHECK_INT_EQ(c[RRL_PASS], 10);
    /* 100 ms refill one token at 10/s; a whole second refills the burst. */
    burst(r, "192.0.2.1", T0 + 100, 5, c);
    CHECK_INT_EQ(c[RRL_PASS], 1);
    burst(r, "192.0.2.1", T0 + 1250, 20, c);
    CHECK_INT_EQ(c[RRL_PASS], 10);
    /* A clock that wrapped 32 bits of ms: still a whole refill, never garbage. */
    burst(r, "192.0.2.1", T0 + 0x100000000ull + 5000, 20, c);
    CHECK_INT_EQ(c[RRL_PASS], 10);
    rrl_free(r);
    cfg_deinit(&cfg);
}

static void test_slip_extremes(void)
{
    cfg_t cfg;
    int c[3];
    rrl_t *r = make(&cfg, "rrl: {rate: 1, slip: 0}\n");
    burst(r, "198.51.100.1", T0, 11, c);
    CHECK_INT_EQ(c[RRL_PASS], 1);
    CHECK_INT_EQ(c[RRL_DROP], 10); /* slip 0: never truncated, always dropped */
    rrl_free(r);
    cfg_deinit(&cfg);
    r = make(&cfg, "rrl: {rate: 1, slip: 1}\n");
    burst(r, "198.51.100.1", T0, 11, c);
    CHECK_INT_EQ(c[RRL_SLIP], 10); /* slip 1: every limited answer truncated */
    rrl_free(r);
    cfg_deinit(&cfg);
}

static void test_prefixes_and_exempt(void)
{
    cfg_t cfg;
    int c[3];
    rrl_t *r = make(&cfg, "rrl:\n  rate: 5\n  ipv4_prefix: 32\n  exempt: [127.0.0.0/8, "
                          "\"2001:db8:ffff::/48\"]\n");
    burst(r, "10.0.0.1", T0, 6, c);
    CHECK_INT_EQ(c[RRL_PASS], 5);
    burst(r, "10.0.0.2", T0, 6, c); /* /32: a neighbour is not affected */
    CHECK_INT_EQ(c[RRL_PASS], 5);
    burst(r, "127.0.0.1", T0, 1000, c);
    CHECK_INT_EQ(c[RRL_PASS], 1000);
    burst(r, "2001:db8:ffff:1::1", T0, 1000, c);
    CHECK_INT_EQ(c[RRL_PASS], 1000);
    /* IPv6 /56 by default: bytes 0-6 count, byte 7 does not. */
    burst(r, "2001:db8:0:1::1", T0, 5, c);
    CHECK_INT_EQ(c[RRL_PASS], 5);
    CHECK(ask(r, "2001:db8:0:ff::2", T0) != RRL_PASS);
    CHECK_INT_EQ(ask(r, "2001:db8:0:100::1", T0), RRL_PASS);
    /* An IPv4 client on a dual-stack socket is the same client. */
    CHECK(ask(r, "::ffff:10.0.0.1", T0) != RRL_PASS);
    rrl_free(r);
    cfg_deinit(&cfg);
}

static void test_config(void)
{
    cfg_t cfg;
    char err[CFG_ERR_MAX];
    CHECK_INT_EQ(load(&cfg, "", err), 0);
    CHECK_INT_EQ(cfg.rrl_rate, 0); /* off by default */
    CHECK_INT_EQ(cfg.rrl_slip, 2);
    CHECK_INT_EQ(cfg.rrl_ipv4_prefix, 24);
    CHECK_INT_EQ(cfg.rrl_ipv6_prefix, 56);
    CHECK_INT_EQ(cfg.tcp_max_per_client, 32);
    CHECK_INT_EQ(cfg.tcp_read_timeout_ms, 5000);
    CHECK(!cfg.cookie_secret_set);
    CHECK(rrl_new(&cfg, err, sizeof err) == NULL);
    cfg_deinit(&cfg);
    CHECK_INT_EQ(load(&cfg, "rrl: {exempt: [10.1.2.3/8]}\n", err), -1);
    CHECK_STR_HAS(err, "t.yaml:4:16: rrl.exempt[0]: \"10.1.2.3/8\" has address bits set");
    CHECK_INT_EQ(load(&cfg, "rrl: {exempt: [\"::1/129\"]}\n", err), -1);
    CHECK_STR_HAS(err, "rrl.exempt[0]: expected an address prefix");
    CHECK_INT_EQ(load(&cfg, "rrl: {rate: 2000000}\n", err), -1);
    CHECK_STR_HAS(err, "rrl.rate: expected an integer in 0..1000000");
    CHECK_INT_EQ(load(&cfg, "rrl: {burst: 3}\n", err), -1);
    CHECK_STR_HAS(err, "rrl.burst: unknown key");
    CHECK_INT_EQ(load(&cfg, "cookies: {secret: e5e973e5a6b2a43f48e7dc849e37bfc}\n", err),
                 -1);
    CHECK_STR_HAS(err, "cookies.secret: expected 32 hex digits");
    CHECK_INT_EQ(load(&cfg,
                      "cookies: {secret: E5e973e5a6b2a43f48e7dc849e37bfcf}\n"
                      "tcp: {max_per_client: 4, read_timeout: 2}\n",
                      err),
                 0);
    CHECK(cfg.cookie_secret_set);
    CHECK_INT_EQ(cfg.cookie_secret[0], 0xe5);
    CHECK_INT_EQ(cfg.cookie_secret[15], 0xcf);
    CHECK_INT_EQ(cfg.tcp_max_per_client, 4);
    CHECK_INT_EQ(cfg.tcp_read_timeout_ms, 2000);
    cfg_deinit(&cfg);
}

/* Four threads on one bucket at one instant: exactly `rate` tokens granted. */
static rrl_t *shared;
static void *hammer(void *arg)
{
    int *passes = arg;
    for (int i = 0; i < 20000; i++)
        *passes += ask(shared, "203.0.113.7", T0) == RRL_PASS;
    return NULL;
}

static void test_concurrent(void)
{
    cfg_t cfg;
    pthread_t t[4];
    int passes[4] = {0};
    shared = make(&cfg, "rrl: {rate: 1000}\n");
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, &passes[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT_EQ(passes[0] + passes[1] + passes[2] + passes[3], 1000);
    rrl_free(shared);
    cfg_deinit(&cfg);
}

int main(void)
{
    test_rate_and_slip();
    test_slip_extremes();
    test_prefixes_and_exempt();
    test_config();
    test_concurrent();
    return check_summary("test_rrl");
}
