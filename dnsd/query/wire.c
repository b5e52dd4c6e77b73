/*
 * wire.c - parse a DNS query (RFC 1035 section 4) into a wire_query_t.
 *
 * Every read is bounds-checked against the packet length; the parser never
 * follows a compression pointer in the question (queries carry none, and a
 * pointer there is FORMERR) and only skips over pointers elsewhere, so it does
 * a single forward pass and cannot loop.
 */
#include <string.h>

#include "dnsd/query/wire.h"

/* Reads the question name at pkt[off..len) into q->lname. Returns the offset
 * after the name, or 0 when it is malformed. */
static size_t wire_parse_qname(const uint8_t *pkt, size_t len, size_t off,
                               wire_query_t *q)
{
    size_t n = 0;

    q->labels = 0;
    for (;;) {
        if (off >= len)
            return 0;
        uint8_t l = pkt[off];
        if (l == 0)
            break;
        if (l & 0xC0) /* compression pointer (0xC0) or reserved label type */
            return 0;
        if (n + 1 + l + 1 > WIRE_NAME_MAX || off + 1 + l > len)
            return 0;
        if (q->labels == WIRE_LABELS_MAX)
            return 0;
        q->label_off[q->labels++] = (uint8_t)n;
        q->lname[n++] = l;
        for (size_t i = 0; i < l; i++) {
            uint8_t c = pkt[off + 1 + i];
            q->lname[n++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
        }
        off += 1 + (size_t)l;
    }
    q->lname[n++] = 0;
    q->qname_len = n;
    return off + 1;
}

/* Skips a possibly compressed name outside the question. Returns the offset
 * after it, or 0 when it runs past the packet or is too long. */
static size_t wire_skip_name(const uint8_t *pkt, size_t len, size_t off)
{
    size_t total = 0;

    for (;;) {
        if (off >= len)
            return 0;
        uint8_t l = pkt[off];
        if (l == 0)
            return off + 1;
        if ((l & 0xC0) == 0xC0)
            return off + 2 <= len ? off + 2 : 0;
        if (l & 0xC0)
            return 0;
        total += 1 + (size_t)l;
        /* +1: the root label or the pointer's target ends the name, and the
         * whole name, root included, is at most 255 bytes (RFC 1035 3.1). */
        if (total + 1 > WIRE_NAME_MAX || off + 1 + l > len)
            return 0;
        off += 1 + (size_t)l;
    }
}

/* ECS (RFC 7871 section 6): FAMILY, SOURCE, SCOPE, then exactly
 * ceil(SOURCE / 8) address bytes with no bits set past SOURCE. */
static bool wire_parse_ecs(const uint8_t *p, size_t olen, wire_query_t *q)
{
    if (olen < 4)
        return false;
    uint16_t family = wire_get16(p);
    uint8_t source = p[2];
    size_t max = family == 1 ? 32 : family == 2 ? 128 : 0;
    size_t bytes = ((size_t)source + 7) / 8;

    if (max == 0 || source > max || olen != 4 + bytes)
        return false;
    memset(q->ecs_addr, 0, sizeof q->ecs_addr);
    memcpy(q->ecs_addr, p + 4, bytes);
    if (source % 8 && (q->ecs_addr[bytes - 1] & (0xFF >> (source % 8))))
        return false;
    q->ecs = true;
    q->ecs_family = family;
    q->ecs_source = source;
    return true;
}

/* The OPT record (RFC 6891 section 6.1.2): owner the root, CLASS the payload
 * size, TTL extended RCODE / version / flags, RDATA a list of options. */
static bool wire_parse_opt(const uint8_t *rr, const uint8_t *rdata, size_t rdlen,
                           wire_query_t *q)
{
    q->edns = true;
    q->edns_udp = wire_get16(rr + 2);
    q->edns_version = rr[5];
    q->edns_do = (wire_get16(rr + 6) & WIRE_EDNS_DO) != 0;
    for (size_t off = 0; off < rdlen;) {
        if (rdlen - off < 4)
            return false;
        uint16_t code = wire_get16(rdata + off), olen = wire_get16(rdata + off + 2);
        if (rdlen - off - 4 < olen)
            return false;
        if (code == WIRE_OPT_NSID)
            q->nsid = true;
        else if (code == WIRE_OPT_ECS &&
                 (q->ecs || !wire_parse_ecs(rdata + off + 4, olen, q)))
            return false; /* a second ECS option, or a malformed one */
        else if (code == WIRE_OPT_COOKIE) {
            /* RFC 7873 section 5.2.2: too short for a client cookie, between
             * the two, or too long is FORMERR; so is a second one. */
            if (q->cookie_len || (olen != 8 && (olen < 16 || olen > WIRE_COOKIE_MAX)))
                return false;
            memcpy(q->cookie, rdata + off + 4, olen);
            q->cookie_len = (uint8_t)olen;
        }
        off += 4 + (size_t)olen;
    }
    return true;
}

/* Walks the answer, authority and additional sections; only the OPT record
 * matters to the server, the rest must merely be well formed. */
static wire_parse_t wire_parse_records(const uint8_t *pkt, size_t len, size_t off,
                                       wire_query_t *q)
{
    unsigned an = wire_get16(pkt + 6), ns = wire_get16(pkt + 8),
             ar = wire_get16(pkt + 10);
    unsigned total = an + ns + ar;
    bool seen_opt = false;

    /* Each record needs at least 11 bytes: a cheap bound on absurd counts. */
    if ((size_t)total * 11 > len - off)
        return WIRE_PARSE_FORMERR;
    for (unsigned i = 0; i < total; i++) {
        size_t name = off;
        off = wire_skip_name(pkt, len, off);
        if (off == 0 || len - off < 10)
            return WIRE_PARSE_FORMERR;
        const uint8_t *rr = pkt + off;
        size_t rdlen = wire_get16(rr + 8);
        if (len - off - 10 < rdlen)
            return WIRE_PARSE_FORMERR;
        if (wire_get16(rr) == WIRE_OPT) {
            if (i < an + ns || seen_opt || pkt[name] != 0)
                return WIRE_PARSE_FORMERR;
            seen_opt = true;
            if (!wire_parse_opt(rr, rr + 10, rdlen, q))
                return WIRE_PARSE_FORMERR;
        }
        off += 10 + rdlen;
    }
    return WIRE_PARSE_OK;
}

wire_parse_t wire_parse(const uint8_t *pkt, size_t len, wire_query_t *q)
{
    q->question_ok = false;
    q->edns = q->nsid = q->ecs = q->edns_do = false;
    q->edns_version = 0;
    q->edns_udp = 0;
    q->cookie_len = 0;
    if (len < WIRE_HEADER)
        return WIRE_PARSE_DROP;
    q->id = wire_get16(pkt);
    q->flags = wire_get16(pkt + 2);
    q->opcode = (uint8_t)((q->flags >> 11) & 0xF);
    if (q->flags & WIRE_QR)
        return WIRE_PARSE_DROP;
    if (wire_get16(pkt + 4) == 1) {
        size_t off = wire_parse_qname(pkt, len, WIRE_HEADER, q);
        if (off && len - off >= 4) {
            q->qtype = wire_get16(pkt + off);
            q->qclass = wire_get16(pkt + off + 2);
            q->question_ok = true;
            wire_parse_t r = wire_parse_records(pkt, len, off + 4, q);
            if (q->opcode == 0)
                return r;
            /* NOTIMP carries an OPT when the request had a good one (RFC 8906
             * section 8.2.3 expects EDNS in every answer to an EDNS query). */
            if (r != WIRE_PARSE_OK)
                q->edns = false;
            return WIRE_PARSE_NOTIMP;
        }
    }
    /* RFC 1035 leaves other opcodes undefined here; NOTIMP whatever follows. */
    return q->opcode != 0 ? WIRE_PARSE_NOTIMP : WIRE_PARSE_FORMERR;
}
