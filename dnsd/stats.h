/*
 * stats.h - per-worker counters. Each worker owns one srv_stats_t and is its only
 * writer (plain increments on the hot path, no atomics, no lock); readers sum the
 * workers' copies with relaxed loads and accept a slightly stale figure.
 */
#ifndef DNSD_STATS_H
#define DNSD_STATS_H

#include <stdint.h>

/* Why a packet got no answer or a FORMERR: the reasons counted. */
typedef enum {
    STAT_DROP_SHORT = 0,   /* shorter than a DNS header */
    STAT_DROP_RESPONSE,    /* QR set */
    STAT_MALFORMED,        /* answered FORMERR */
    STAT_DROP_TOO_BIG,     /* response could not be built even truncated */
    STAT_DROP_REASONS
} stat_drop_t;

enum { STAT_UDP = 0, STAT_TCP = 1 };

typedef struct srv_stats {
    uint64_t queries[2];        /* [transport] packets parsed as queries */
    uint64_t rcode[16];         /* responses by RCODE (low 4 bits) */
    uint64_t badvers;           /* BADVERS (extended RCODE 16) */
    uint64_t dropped[STAT_DROP_REASONS];
    uint64_t truncated;         /* UDP responses sent with TC */
    uint64_t ecs;               /* queries with a valid ECS option */
    uint64_t pool_answers;      /* pool A/AAAA answers with at least one server */
    uint64_t pool_backfill;     /* ... of which topped up from a later zone */
    uint64_t pool_empty;        /* pool names answered NODATA: no eligible server */
    uint64_t tcp_accepted, tcp_closed, tcp_refused, tcp_idle_closed;
    uint64_t udp_send_errors;
    /* Pad to a cache line multiple so workers' counters do not share lines. */
    uint8_t pad[64];
} srv_stats_t;

#endif
