/*
 * rrl.c - response rate limiting; see rrl.h.
 */
#include "dnsd/query/rrl.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dnsd/query/cookie.h"

/* state: last refill time (ms, low 32 bits) << 32 | tokens in thousandths.
 * One 64-bit word so a single CAS updates both consistently. */
typedef struct rrl_bucket {
    _Atomic uint64_t state;
    _Atomic uint32_t limited; /* responses limited so far: picks the slips */
} rrl_bucket_t;

struct rrl {
    uint32_t rate; /* responses per second per prefix */
    uint32_t slip; /* every slip-th limited response goes out truncated; 0 never */
    unsigned v4_bits, v6_bits;
    const cfg_prefix_t *exempt; /* borrowed from the config, which outlives us */
    size_t n_exempt;
    uint8_t key[16]; /* hash key: random per process */
    rrl_bucket_t buckets[RRL_BUCKETS];
};

rrl_t *rrl_new(const cfg_t *cfg, char *err, size_t errlen)
{
    rrl_t *r;

    if (cfg->rrl_rate == 0)
        return NULL;
    if (!(r = calloc(1, sizeof *r))) {
        snprintf(err, errlen, "rrl: out of memory");
        return NULL;
    }
    r->rate = cfg->rrl_rate;
    r->slip = cfg->rrl_slip;
    r->v4_bits = cfg->rrl_ipv4_prefix;
    r->v6_bits = cfg->rrl_ipv6_prefix;
    r->exempt = cfg->rrl_exempt;
    r->n_exempt = cfg->n_rrl_exempt;
    if (getrandom(r->key, sizeof r->key, 0) != (ssize_t)sizeof r->key) {
        snprintf(err, errlen, "rrl: getrandom failed");
        free(r);
        return NULL;
    }
    return r;
}

void rrl_free(rrl_t *r)
{
    free(r);
}

uint64_t rrl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Keeps the first `bits` bits of addr[0..len). */
static void rrl_mask(uint8_t *addr, size_t len, unsigned bits)
{
    for (size_t i = 0; i < len; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8
                        : bits > 8 * i      ? bits - 8 * (unsigned)i
                                            : 0;
        addr[i] &= (uint8_t)(0xFF00 >> keep);
    }
}

static bool rrl_exempt(const rrl_t *r, const uint8_t *addr, size_t len)
{
    for (size_t i = 0; i < r->n_exempt; i++) {
        const cfg_prefix_t *p = &r->exempt[i];
        uint8_t a[16];
        if ((p->family == 4) != (len == 4))
            continue;
        memcpy(a, addr, len);
        rrl_mask(a, len, p->bits);
        if (memcmp(a, p->addr, len) == 0)
            return true;
    }
    return false;
}

/* Refills by the time elapsed and takes a token; false when there is none. */
static bool rrl_take(rrl_t *r, rrl_bucket_t *b, uint32_t now)
{
    uint64_t cap = (uint64_t)r->rate * 1000, old, next;
    bool ok;

    old = atomic_load_explicit(&b->state, memory_order_relaxed);
    /* Lock-free: a failed CAS means another worker took a token meanwhile;
     * recompute from the value it left (`old` is reloaded by the CAS). */
    for (;;) {
        uint32_t elapsed = now - (uint32_t)(old >> 32);
        uint64_t tokens = (uint32_t)old;
        /* rate tokens per second = rate thousandths per millisecond. */
        tokens += elapsed >= 1000 ? cap : (uint64_t)elapsed * r->rate;
        if (tokens > cap)
            tokens = cap;
        ok = tokens >= 1000;
        if (ok)
            tokens -= 1000;
        next = (uint64_t)now << 32 | tokens;
        if (atomic_compare_exchange_weak_explicit(
                &b->state, &old, next, memory_order_relaxed, memory_order_relaxed))
            return ok;
    }
}

rrl_verdict_t rrl_check(rrl_t *r, const struct sockaddr *src, uint64_t now_ms)
{
    uint8_t key[17], h[8];
    size_t len = cookie_client_ip(src, key + 1);

    if (len == 0)
        return RRL_PASS;
    if (rrl_exempt(r, key + 1, len))
        return RRL_PASS;
    key[0] = (uint8_t)len; /* keeps an IPv4 /24 apart from an IPv6 prefix */
    rrl_mask(key + 1, len, len == 4 ? r->v4_bits : r->v6_bits);
    cookie_siphash24(r->key, key, 1 + len, h);
    rrl_bucket_t *b = &r->buckets[(h[0] | (unsigned)h[1] << 8) % RRL_BUCKETS];
    if (rrl_take(r, b, (uint32_t)now_ms))
        return RRL_PASS;
    uint32_t n = atomic_fetch_add_explicit(&b->limited, 1, memory_order_relaxed) + 1;
    return r->slip && n % r->slip == 0 ? RRL_SLIP : RRL_DROP;
}
