/*
 * answer_int.h - what answer.c, its pool half (pool_answer.c) and its
 * DNSSEC half (dnssec_answer.c) share: the response being written, the
 * client's location and the record writers. Private to dnsd/query/.
 */
#ifndef DNSD_ANSWER_INT_H
#define DNSD_ANSWER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dnsd/query/answer.h"
#include "dnsd/query/wire.h"

typedef struct answer_resp {
    uint8_t *out;
    size_t len;   /* bytes written */
    size_t limit; /* bytes allowed, OPT reservation excluded */
    uint16_t an, ns;
    bool tc;
    uint8_t scope; /* ECS SCOPE PREFIX-LENGTH of this answer (RFC 7871 7.2.1) */
    int origin;    /* index of the origin answering, for the counters; -1 none */
    const struct sockaddr *src; /* the client, for its server cookie */
    uint32_t now;               /* wall clock seconds, for the cookie's timestamp */
    bool dnssec;                /* DO set and the origin signed: add RRSIGs, NSEC */
} answer_resp_t;

/* Where the client is and which zones serve it, for geo names. */
typedef struct answer_geo {
    int family; /* 4 or 6: of the address used */
    uint8_t addr[16];
    bool from_ecs;
    geo_result_t res;
    int country;   /* zone id or -1 */
    int continent; /* zone id or -1 */
    int walk[3];
    size_t n_walk;
    uint8_t scope;  /* of an answer chosen by place: the DB network, capped */
    uint8_t source; /* ECS SOURCE PREFIX-LENGTH; 0 without ECS */
} answer_geo_t;

/* The owner of records at the query name: a pointer to the question (offset 12). */
#define ANSWER_QNAME_PTR 0xC00C

/* Whether n more bytes fit; when not, the answer is marked TC. */
static inline bool answer_room(answer_resp_t *r, size_t n)
{
    if (r->len + n <= r->limit)
        return true;
    r->tc = true;
    return false;
}

/* One record: 2-byte compressed owner, then TYPE CLASS TTL RDLENGTH RDATA.
 * Inline: a pool answer writes several per query, and with a constant rdlen
 * (4 or 16) the copy compiles to a move instead of a memcpy call. */
static inline bool answer_put_rr(answer_resp_t *r, uint16_t owner, uint16_t type,
                                 uint16_t class, uint32_t ttl, const uint8_t *rdata,
                                 uint16_t rdlen)
{
    if (!answer_room(r, 12 + (size_t)rdlen))
        return false;
    uint8_t *p = r->out + r->len;
    wire_put16(p, owner);
    wire_put16(p + 2, type);
    wire_put16(p + 4, class);
    wire_put32(p + 6, ttl);
    wire_put16(p + 10, rdlen);
    memcpy(p + 12, rdata, rdlen);
    r->len += 12 + (size_t)rdlen;
    return true;
}

/* Copies a prepared RRset (zones.h: records without owners) after `owner`,
 * adding the records to *count. False (and TC) when it does not fit. */
bool answer_put_rrset(answer_resp_t *r, uint16_t owner, const zone_rrset_t *set,
                      uint16_t *count);

/* pool_answer.c: the answers chosen by place and weight. */

/* Client address: ECS when present with SOURCE > 0, else the packet's source
 * (DESIGN.md "Geo"); then country, continent and the zone walk. */
void answer_locate(const srv_data_t *d, const wire_query_t *q, const struct sockaddr *src,
                   answer_geo_t *g);

/* A or AAAA at a pool name: servers picked along the client's walk (geo) or
 * the name's zone (fixed), balanced by the keep fractions. False for NODATA. */
bool answer_pool(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                 const zone_node_t *node, const answer_geo_t *geo, uint16_t qtype);

/* SRV at an NTS name: NTS-KE endpoints drawn as pool servers are (docs/nts.md).
 * False for NODATA. */
bool answer_srv(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                const zone_node_t *node, const answer_geo_t *geo);

/* _country.<origin> TXT: what the server made of this client. */
void answer_country_txt(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                        const zone_node_t *node, const answer_geo_t *geo,
                        const wire_query_t *q);

/* dnssec_answer.c: the DNSSEC parts of an answer (docs/dnssec.md). */

/* A signed pool answer: one presigned set for the node, family and client.
 * False when the name has none (NODATA). */
bool answer_dnssec_pool(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                        const zone_node_t *node, const answer_geo_t *geo, int family);

/* After a static RRset was written to the answer: its RRSIGs. */
void answer_dnssec_sigs(answer_resp_t *r, const srv_origin_t *o, const zone_node_t *node,
                        const zone_rrset_t *set);

/* Types dnsd makes at a signed zone: DNSKEY, CDS, CDNSKEY at the apex, NSEC
 * and RRSIG at any name. True when it wrote the answer section. */
bool answer_dnssec_node(answer_resp_t *r, const srv_origin_t *o, const zone_node_t *node,
                        uint16_t qtype);

/* Negative answer of a signed zone with DO: SOA, NSEC and their RRSIGs in
 * authority (RFC 9824: a name that does not exist is NOERROR). Returns the
 * RCODE. */
uint8_t answer_dnssec_negative(answer_resp_t *r, const srv_origin_t *o,
                               const zone_node_t *node, const wire_query_t *q,
                               uint16_t soa_owner);

/* RRSIGs made now over an RRset written at the query name (_country TXT). */
void answer_dnssec_online(answer_resp_t *r, const srv_origin_t *o, const wire_query_t *q,
                          uint16_t type, uint32_t ttl, const uint8_t *rdata,
                          uint16_t rdlen);

#endif
