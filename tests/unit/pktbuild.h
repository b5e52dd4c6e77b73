/* pktbuild.h - build DNS packets byte by byte for tests, including broken ones. */
#ifndef DNSD_PKTBUILD_H
#define DNSD_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct pkt {
    uint8_t b[70000];
    size_t n;
} pkt_t;

static inline void pkt_u8(pkt_t *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)v;
}

static inline void pkt_u16(pkt_t *p, unsigned v)
{
    pkt_u8(p, v >> 8);
    pkt_u8(p, v & 0xFF);
}

static inline void pkt_u32(pkt_t *p, uint32_t v)
{
    pkt_u16(p, v >> 16);
    pkt_u16(p, v & 0xFFFF);
}

static inline void pkt_bytes(pkt_t *p, const void *b, size_t n)
{
    memcpy(p->b + p->n, b, n);
    p->n += n;
}

static inline void pkt_header(pkt_t *p, unsigned id, unsigned flags, unsigned qd,
                              unsigned an, unsigned ns, unsigned ar)
{
    p->n = 0;
    pkt_u16(p, id);
    pkt_u16(p, flags);
    pkt_u16(p, qd);
    pkt_u16(p, an);
    pkt_u16(p, ns);
    pkt_u16(p, ar);
}

/* A dotted name ("pool.ntp.org", "" for the root) in uncompressed wire form. */
static inline void pkt_name(pkt_t *p, const char *dotted)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
        pkt_u8(p, (unsigned)l);
        pkt_bytes(p, dotted, l);
        dotted += l + (dot ? 1 : 0);
    }
    pkt_u8(p, 0);
}

/* A standard query: header (RD set), question, and `ar` additional records to follow. */
static inline void pkt_query(pkt_t *p, unsigned id, const char *name, unsigned type,
                             unsigned class, unsigned ar)
{
    pkt_header(p, id, 0x0100, 1, 0, 0, ar);
    pkt_name(p, name);
    pkt_u16(p, type);
    pkt_u16(p, class);
}

/* An OPT record (RFC 6891) with the given options RDATA. */
static inline void pkt_opt(pkt_t *p, unsigned udp, unsigned version, int do_bit,
                           const uint8_t *rdata, size_t rdlen)
{
    pkt_u8(p, 0);
    pkt_u16(p, 41);
    pkt_u16(p, udp);
    pkt_u8(p, 0);
    pkt_u8(p, version);
    pkt_u16(p, do_bit ? 0x8000 : 0);
    pkt_u16(p, (unsigned)rdlen);
    pkt_bytes(p, rdata, rdlen);
}

#endif
