/*
 * answer.h - the query path: one request packet in, one response packet out.
 *
 * Stages, Knot-style: parse the query (wire.c), find the origin and node, pick
 * servers or copy static RRsets, write the response into the caller's buffer.
 * No allocation, no lock, no ldns call, no logging: counters instead.
 */
#ifndef DNSD_ANSWER_H
#define DNSD_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsd/data/data.h"
#include "dnsd/query/stats.h"
#include "zones/zones.h"

/* Responses over UDP are capped at this size (DNS flag day 2020). */
#define ANSWER_UDP_MAX 1232
/* Buffer size callers give to answer_respond(): large enough for any response. */
#define ANSWER_BUF_SIZE 65535

typedef enum { ANSWER_UDP = 0, ANSWER_TCP = 1 } answer_transport_t;

/* Per-worker state of the query path. */
typedef struct answer_ctx {
    zone_rng_t rng;
    stat_counters_t *stats;
    unsigned worker; /* this worker's row of srv_served_t counters */
    struct dnstap_q
        *dnstap; /* this worker's query log queue; NULL: none
                        (dnstap.h; the I/O callbacks log, not answer_respond) */
} answer_ctx_t;

/*
 * Answers the request pkt[0..len) that came from `src` over `transport`.
 * Writes the response to out (capacity `cap`, at least 512 bytes; UDP
 * responses are further limited by the client's EDNS size and ANSWER_UDP_MAX and
 * get TC when the answer does not fit). Returns the response length, or 0 when
 * nothing must be sent (too short, or a response).
 */
size_t answer_respond(answer_ctx_t *ctx, const srv_data_t *data, const uint8_t *pkt,
                      size_t len, const struct sockaddr *src,
                      answer_transport_t transport, uint8_t *out, size_t cap);

#endif
