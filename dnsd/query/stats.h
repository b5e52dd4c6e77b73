/*
 * stats.h - per-worker counters. Each worker owns one stat_counters_t and is its only
 * writer (plain increments on the hot path, no atomics, no lock); readers sum the
 * workers' copies with relaxed loads and accept a slightly stale figure.
 */
#ifndef DNSD_STATS_H
#define DNSD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/balance.h"
#include "zones/zones.h"

/* Why a packet got no answer or a FORMERR: the reasons counted. */
typedef enum {
    STAT_DROP_SHORT = 0, /* shorter than a DNS header */
    STAT_DROP_RESPONSE,  /* QR set */
    STAT_MALFORMED,      /* answered FORMERR */
    STAT_DROP_TOO_BIG,   /* response could not be built even truncated */
    STAT_DROP_REASONS
} stat_drop_t;

enum { STAT_UDP = 0, STAT_TCP = 1 };

/* Queries by served origin: index i counts origin i of the served data
 * (config order); the last bucket counts queries for no origin of ours
 * (REFUSED, CHAOS, FORMERR) and origins past the array. */
#define STAT_ORIGINS 32

/* Queries by QTYPE: the types a pool server is asked, the rest as "other". */
typedef enum {
    STAT_QT_A = 0,
    STAT_QT_NS,
    STAT_QT_CNAME,
    STAT_QT_SOA,
    STAT_QT_TXT,
    STAT_QT_AAAA,
    STAT_QT_ANY,
    STAT_QT_OTHER,
    STAT_QTYPES
} stat_qtype_t;

/* Demand is counted for the first origins only (docs/balancing.md): a node
 * serves one or two; the counters are 40 KiB per worker as it is. */
#define STAT_BAL_ORIGINS 4

typedef struct stat_counters {
    uint64_t queries[2]; /* [transport] packets parsed as queries */
    uint64_t rcode[16];  /* responses by RCODE (low 4 bits) */
    uint64_t badvers;    /* BADVERS (extended RCODE 16) */
    uint64_t dropped[STAT_DROP_REASONS];
    uint64_t truncated;     /* UDP responses sent with TC */
    uint64_t ecs;           /* queries with a valid ECS option */
    uint64_t pool_answers;  /* pool A/AAAA answers with at least one server */
    uint64_t pool_backfill; /* ... of which topped up from a later zone */
    uint64_t pool_empty;    /* pool names answered NODATA: no eligible server */
    uint64_t nts_answers;   /* SRV answers at NTS names with at least one record */
    uint64_t nts_empty;     /* NTS names answered NODATA: no NTS-KE endpoint */
    uint64_t tcp_accepted, tcp_closed, tcp_refused, tcp_idle_closed;
    uint64_t udp_send_errors;
    uint64_t by_origin[STAT_ORIGINS];
    uint64_t by_qtype[STAT_QTYPES];
    uint64_t pool_by_zone[ZONE_ID_MAX][2]; /* [zone chosen][backfill used] */
    uint64_t dnstap_dropped;               /* dnstap messages lost: queue full, too big */
    /* Abuse limits (docs/hardening.md). */
    uint64_t rrl_dropped; /* UDP responses withheld by RRL */
    uint64_t rrl_slipped; /* ... sent truncated instead (slip) */
    uint64_t cookies[4];  /* by cookie_result_t: none, client_only, valid, invalid */
    uint64_t tcp_client_refused; /* connections over tcp.max_per_client */
    uint64_t tcp_read_timeouts; /* a begun message not finished within tcp.read_timeout */
    uint64_t
        tcp_write_timeouts; /* a response unread by the client for the idle timeout */
    uint64_t
        tcp_large_refused; /* a message over 4 KiB with every large read buffer lent */
    /* Demand-aware balancing: pool answers by origin, zone of first draw,
     * family and name kind (0 geo, 1 explicit zone name), counted while the
     * origin's balance mode is not off; and answers with a spilled record by
     * zone of first draw. */
    uint64_t demand[STAT_BAL_ORIGINS][ZONE_ID_MAX][ZONE_BAL_FAMILIES][2];
    uint64_t pool_spilled[ZONE_ID_MAX];
    /* Pad to a cache line multiple so workers' counters do not share lines. */
    uint8_t pad[64];
} stat_counters_t;

/*
 * One counter of stat_counters_t as both outputs show it: its Prometheus family
 * and label, and its key in dnsdctl STATS. The control layer's family table
 * (control/metrics_table.c) takes the rows of each family from here, and
 * /metrics and STATS are both rendered from that table, so they cannot
 * drift. Every one is a Prometheus counter. Families whose labels come from
 * the data (queries by zone, pool answers and spills by zone) and the
 * derived open-connections gauge read stat_counters_t in that table's own rows.
 * demand[] is the balancer's input, summed on the control thread, and not
 * shown as such.
 */
typedef struct stat_desc {
    const char *metric; /* Prometheus family; NULL: STATS only */
    const char *help;   /* the family's HELP text, on its first row */
    const char *label;  /* label name; NULL: a family of one sample */
    const char *value;  /* label value */
    const char *group;  /* STATS object holding the key; NULL: top level */
    const char *key;    /* STATS key */
    size_t off;         /* where the value lives: offsetof(stat_counters_t, ...) */
    bool sparse;        /* shown only when not 0 (the RCODEs dnsd never sends) */
} stat_desc_t;

extern const stat_desc_t stat_descs[];
extern const size_t stat_n_descs;

static inline uint64_t stat_value(const stat_counters_t *st, const stat_desc_t *d)
{
    return *(const uint64_t *)(const void *)((const char *)st + d->off);
}

#endif
