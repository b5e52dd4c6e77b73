/*
 * wire.h - the query parser of the hot path: one request packet in, a
 * wire_query_t out, no allocation, no ldns. The answer writer (answer.c) works
 * from what this records.
 *
 * What counts as malformed (DESIGN.md "Protocol rules"): QDCOUNT != 1, a
 * compression pointer or a reserved label type in the question, a name longer
 * than 255 bytes, a packet that ends inside a record it announces, two OPT
 * records, an OPT not owned by the root, OPT options overrunning their RDATA, a
 * malformed or repeated ECS option (RFC 7871 section 7.1.2), a COOKIE option of
 * a length other than 8 or 16..40 (RFC 7873 section 5.2.2) or a repeated one.
 */
#ifndef DNSD_WIRE_H
#define DNSD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_HEADER 12
#define WIRE_NAME_MAX 255
#define WIRE_LABELS_MAX 128

/* Types, classes, codes used by the server. */
enum {
    WIRE_A = 1,
    WIRE_NS = 2,
    WIRE_CNAME = 5,
    WIRE_SOA = 6,
    WIRE_HINFO = 13,
    WIRE_MX = 15,
    WIRE_TXT = 16,
    WIRE_AAAA = 28,
    WIRE_SRV = 33,
    WIRE_OPT = 41,
    WIRE_IXFR = 251,
    WIRE_AXFR = 252,
    WIRE_ANY = 255,
};
enum { WIRE_IN = 1, WIRE_CH = 3, WIRE_CLASS_ANY = 255 };
enum {
    WIRE_NOERROR = 0,
    WIRE_FORMERR = 1,
    WIRE_SERVFAIL = 2,
    WIRE_NXDOMAIN = 3,
    WIRE_NOTIMP = 4,
    WIRE_REFUSED = 5,
    WIRE_BADVERS = 16,
};
enum { WIRE_OPT_NSID = 3, WIRE_OPT_ECS = 8, WIRE_OPT_COOKIE = 10 };

/* A COOKIE option: an 8-byte client cookie and an optional 8..32-byte server
 * cookie (RFC 7873 section 4). */
#define WIRE_COOKIE_MAX 40

/* Header flag bits in the second 16-bit word (RFC 1035 section 4.1.1). */
#define WIRE_QR 0x8000u
#define WIRE_AA 0x0400u
#define WIRE_TC 0x0200u
#define WIRE_RD 0x0100u
#define WIRE_CD 0x0010u
#define WIRE_EDNS_DO 0x8000u /* in the OPT TTL's low 16 bits (RFC 3225) */

typedef enum {
    WIRE_PARSE_OK = 0,
    WIRE_PARSE_DROP,    /* shorter than a header, or a response: send nothing */
    WIRE_PARSE_FORMERR, /* answer FORMERR; question_ok says if it can be echoed */
    WIRE_PARSE_NOTIMP,  /* opcode other than QUERY */
} wire_parse_t;

typedef struct wire_query {
    uint16_t id;
    uint16_t flags; /* the request's flag word as received */
    uint8_t opcode;

    bool question_ok;                   /* the question parsed and may be echoed */
    size_t qname_len;                   /* bytes of the name at offset 12 */
    uint8_t lname[WIRE_NAME_MAX + 1];   /* the name, ASCII lower-cased */
    uint8_t label_off[WIRE_LABELS_MAX]; /* offset of each label in lname */
    unsigned labels;                    /* labels before the root */
    uint16_t qtype, qclass;

    bool edns; /* an OPT record was present and valid */
    uint8_t edns_version;
    bool edns_do;
    uint16_t edns_udp; /* advertised payload size, as sent */
    bool nsid;         /* NSID requested (RFC 5001) */

    bool ecs;             /* a valid ECS option (RFC 7871) */
    uint16_t ecs_family;  /* 1 IPv4, 2 IPv6 */
    uint8_t ecs_source;   /* SOURCE PREFIX-LENGTH */
    uint8_t ecs_addr[16]; /* the address, zero beyond the prefix */

    uint8_t cookie_len;              /* 0: no COOKIE option; else 8 or 16..40 */
    uint8_t cookie[WIRE_COOKIE_MAX]; /* client cookie, then any server cookie */
} wire_query_t;

wire_parse_t wire_parse(const uint8_t *pkt, size_t len, wire_query_t *q);

/* Reads a big-endian 16-bit value. */
static inline uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
