/*
 * rrl.h - response rate limiting for UDP (the idea of BIND's and Knot's RRL):
 * a token bucket per client prefix (/24 IPv4, /56 IPv6 by default), `rate`
 * responses per second with a burst of one second's worth. A limited response
 * is dropped, except every `slip`-th, which goes out truncated (TC=1, no
 * records) so a real client behind the prefix retries over TCP, which is never
 * limited. A spoofed flood reflected at a victim thus gets at most `rate`
 * answers per second plus a trickle of small truncated ones.
 *
 * One table of RRL_BUCKETS buckets, allocated at start and shared by all
 * workers. Shared rather than per worker because SO_REUSEPORT spreads one
 * prefix's queries over every worker by source port: per-worker tables would
 * grant `workers` times the rate. The hot path is one keyed hash and one
 * compare-and-swap with relaxed ordering, no lock. Prefixes whose hash collides
 * share a bucket (and so their rate): with 65,536 buckets a prefix shares with
 * another only when that many prefixes are active at once, and the hash is keyed
 * with a random secret so an attacker cannot choose whom to collide with.
 */
#ifndef DNSD_RRL_H
#define DNSD_RRL_H

#include <stdint.h>
#include <sys/socket.h>

#include "config/cfg.h"

/* 65,536 buckets × 16 bytes = 1 MiB: more active prefixes than a node sees in
 * a second outside an attack, and small enough to stay mostly in cache. */
#define RRL_BUCKETS 65536
/* The rate is held in thousandths of a token per millisecond in 32 bits. */
#define RRL_RATE_MAX 1000000

typedef enum { RRL_PASS = 0, RRL_DROP, RRL_SLIP } rrl_verdict_t;

typedef struct rrl rrl_t;

/* NULL when cfg->rrl_rate is 0 (off) or on allocation failure (err set). */
rrl_t *rrl_new(const cfg_t *cfg, char *err, size_t errlen);
void rrl_free(rrl_t *r);

/* Takes one response from src's bucket; now_ms is a monotonic clock in ms. */
rrl_verdict_t rrl_check(rrl_t *r, const struct sockaddr *src, uint64_t now_ms);

/* The monotonic clock rrl_check expects (coarse: a few ms are plenty). */
uint64_t rrl_now_ms(void);

#endif
