/*
 * xdp_pkt.c - frame checks and reply headers of the AF_XDP path (see
 * xdp_pkt.h). On the query path: no allocation, no lock, no logging.
 */
#include "dnsd/io/xdp_pkt.h"

#include <string.h>

#define XDP_ETHERTYPE_IPV4 0x0800
#define XDP_ETHERTYPE_IPV6 0x86dd
#define XDP_PROTO_UDP 17
/* The hop limit of our replies: Linux's default (net.ipv4.ip_default_ttl). */
#define XDP_TTL 64

static uint16_t xdp_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void xdp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The Internet checksum's running sum (RFC 1071): 16-bit big-endian words,
 * an odd last byte padded with zero. The caller folds. */
static uint32_t xdp_sum(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t xdp_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* The UDP checksum's pseudo-header (RFC 768; RFC 8200 section 8.1): the
 * addresses, the protocol and the UDP length, summed. */
static uint32_t xdp_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen,
                           size_t ulen)
{
    uint32_t sum = xdp_sum(0, src, alen);
    sum = xdp_sum(sum, dst, alen);
    return sum + XDP_PROTO_UDP + (uint32_t)ulen;
}

/* Addresses a reply must never go to, nor come from (RFC 1122 section
 * 3.2.1.3): "this" network, loopback, multicast and the reserved class E with
 * broadcast. The kernel drops them as martians; so do we, both ways. */
static int xdp_bad4(const uint8_t *a)
{
    return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

/* Unspecified, loopback, multicast or IPv4-mapped (RFC 4291 section 2.5). */
static int xdp_bad6(const uint8_t *a)
{
    static const uint8_t zero[15], mapped[12] = {[10] = 0xff, [11] = 0xff};
    return (!memcmp(a, zero, 15) && a[15] <= 1) || a[0] == 0xff || !memcmp(a, mapped, 12);
}

static void xdp_addr(struct sockaddr_storage *ss, int family, const uint8_t *a,
                     const uint8_t *port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a, 4);
        memcpy(&sin->sin_port, port, 2);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a, 16);
        memcpy(&sin6->sin6_port, port, 2);
    }
}

/*
 * The UDP checksum over the pseudo-header (the addresses at `addrs`, source
 * then destination, alen bytes each) and the ulen bytes of the datagram at u.
 * Nothing else checks it: the kernel leaves the frames XDP takes unchecked,
 * and a corrupted query would get an answer to a name it never asked for.
 *
 * A sender on the same host (a veth peer, a container, a VM behind a tap)
 * may hand over a datagram whose checksum field holds only the pseudo-header
 * sum, to be finished by "hardware" that never runs (CHECKSUM_PARTIAL with
 * TX checksum offload). The kernel trusts such a datagram through the skb's
 * ip_summed, which an AF_XDP frame does not carry; on veth, frames reach the
 * socket exactly like that. Accepting the partial form would accept any
 * datagram whose checksum field is the pseudo-header sum, so it is counted as
 * a bad checksum like any other. A frame off a wire has its checksum
 * complete; a local sender is configured with `ethtool -K IFACE tx off`
 * (docs/operations.md "AF_XDP"; the test rig does so, having seen veth hand
 * its sockets' datagrams over unfinished).
 */
static int xdp_udp_sum_ok(const uint8_t *addrs, size_t alen, const uint8_t *u,
                          size_t ulen)
{
    uint32_t sum = xdp_pseudo(addrs, addrs + alen, alen, ulen);
    return xdp_fold(xdp_sum(sum, u, ulen)) == 0xffff;
}

/* The UDP header at u with `room` bytes of IP payload after it begins; the
 * source and destination addresses (alen bytes each) at `addrs`. */
static xdp_pkt_result_t xdp_udp(const uint8_t *addrs, size_t alen, const uint8_t *u,
                                size_t room, uint16_t port, xdp_pkt_t *p)
{
    size_t ulen = xdp_be16(u + 4);
    if (ulen < 8 || ulen > room)
        return XDP_PKT_BAD_FRAME;
    if (xdp_be16(u + 2) != port)
        return XDP_PKT_NOT_OURS;
    if (xdp_be16(u) == 0)
        return XDP_PKT_BAD_ADDRESS; /* nowhere to reply to */
    /* Zero means "no checksum" over IPv4 (RFC 768) and is forbidden over
     * IPv6 (RFC 8200 section 8.1), as the kernel's udp_rcv has it. */
    if (xdp_be16(u + 6) == 0 ? alen == 16 : !xdp_udp_sum_ok(addrs, alen, u, ulen))
        return XDP_PKT_BAD_UDP_CHECKSUM;
    p->dns_len = ulen - 8;
    return XDP_PKT_OK;
}

static xdp_pkt_result_t xdp_parse4(const uint8_t *f, size_t len, uint16_t port,
                                   xdp_pkt_t *p)
{
    const uint8_t *ip = f + XDP_PKT_ETH;
    if (len < XDP_PKT_HDR4 || ip[0] >> 4 != 4)
        return XDP_PKT_BAD_FRAME;
    size_t tot = xdp_be16(ip + 2);
    if ((ip[0] & 0xf) < 5 || tot < 28 || XDP_PKT_ETH + tot > len)
        return XDP_PKT_BAD_FRAME; /* Ethernet may pad a frame, never cut one */
    if ((ip[0] & 0xf) != 5 || (xdp_be16(ip + 6) & 0x3fff) || ip[9] != XDP_PROTO_UDP)
        return XDP_PKT_NOT_OURS;
    if (xdp_fold(xdp_sum(0, ip, 20)) != 0xffff)
        return XDP_PKT_BAD_CHECKSUM;
    if (xdp_bad4(ip + 12) || xdp_bad4(ip + 16))
        return XDP_PKT_BAD_ADDRESS;
    const uint8_t *u = ip + 20;
    xdp_pkt_result_t r = xdp_udp(ip + 12, 4, u, tot - 20, port, p);
    if (r != XDP_PKT_OK)
        return r;
    p->hdr_len = XDP_PKT_HDR4;
    xdp_addr(&p->src, AF_INET, ip + 12, u);
    xdp_addr(&p->dst, AF_INET, ip + 16, u + 2);
    return XDP_PKT_OK;
}

static xdp_pkt_result_t xdp_parse6(const uint8_t *f, size_t len, uint16_t port,
                                   xdp_pkt_t *p)
{
    const uint8_t *ip = f + XDP_PKT_ETH;
    if (len < XDP_PKT_HDR6 || ip[0] >> 4 != 6)
        return XDP_PKT_BAD_FRAME;
    size_t plen = xdp_be16(ip + 4);
    if (plen < 8 || XDP_PKT_ETH + 40 + plen > len)
        return XDP_PKT_BAD_FRAME;
    if (ip[6] != XDP_PROTO_UDP)
        return XDP_PKT_NOT_OURS;
    if (xdp_bad6(ip + 8) || xdp_bad6(ip + 24))
        return XDP_PKT_BAD_ADDRESS;
    const uint8_t *u = ip + 40;
    xdp_pkt_result_t r = xdp_udp(ip + 8, 16, u, plen, port, p);
    if (r != XDP_PKT_OK)
        return r;
    p->hdr_len = XDP_PKT_HDR6;
    xdp_addr(&p->src, AF_INET6, ip + 8, u);
    xdp_addr(&p->dst, AF_INET6, ip + 24, u + 2);
    return XDP_PKT_OK;
}

xdp_pkt_result_t xdp_pkt_parse(const uint8_t *frame, size_t len, uint16_t port,
                               xdp_pkt_t *p)
{
    if (len < XDP_PKT_ETH)
        return XDP_PKT_BAD_FRAME;
    /* A group (multicast or broadcast) source MAC is never a real sender, and
     * one as destination would become our reply's source MAC. */
    if ((frame[6] & 1) || (frame[0] & 1))
        return XDP_PKT_BAD_ADDRESS;
    switch (xdp_be16(frame + 12)) {
    case XDP_ETHERTYPE_IPV4:
        return xdp_parse4(frame, len, port, p);
    case XDP_ETHERTYPE_IPV6:
        return xdp_parse6(frame, len, port, p);
    default:
        return XDP_PKT_NOT_OURS;
    }
}

/* The UDP header and checksum of a reply whose IP addresses are written. */
static void xdp_reply_udp(const uint8_t *qu, uint8_t *u, uint32_t pseudo, size_t ulen)
{
    memcpy(u, qu + 2, 2); /* our port */
    memcpy(u + 2, qu, 2); /* theirs */
    xdp_put16(u + 4, (uint16_t)ulen);
    xdp_put16(u + 6, 0);
    uint16_t c = (uint16_t)~xdp_fold(xdp_sum(pseudo, u, ulen));
    xdp_put16(u + 6, c ? c : 0xffff); /* 0 means "no checksum" (RFC 768) */
}

size_t xdp_pkt_reply(const uint8_t *q, const xdp_pkt_t *p, uint8_t *out, size_t dns_len)
{
    const uint8_t *qip = q + XDP_PKT_ETH;
    uint8_t *ip = out + XDP_PKT_ETH;
    size_t ulen = 8 + dns_len;
    memcpy(out, q + 6, 6); /* to the sender's MAC, from the one it sent to */
    memcpy(out + 6, q, 6);
    memcpy(out + 12, q + 12, 2);
    if (p->hdr_len == XDP_PKT_HDR4) {
        static const uint8_t head[12] = {0x45, 0,    0, 0,       0,
                                         0,    0x40, 0, XDP_TTL, XDP_PROTO_UDP};
        memcpy(ip, head, sizeof head); /* ID 0 with DF (RFC 6864 section 4.1) */
        xdp_put16(ip + 2, (uint16_t)(20 + ulen));
        memcpy(ip + 12, qip + 16, 4);
        memcpy(ip + 16, qip + 12, 4);
        xdp_put16(ip + 10, (uint16_t)~xdp_fold(xdp_sum(0, ip, 20)));
        xdp_reply_udp(qip + 20, ip + 20, xdp_pseudo(ip + 12, ip + 16, 4, ulen), ulen);
    } else {
        static const uint8_t head[8] = {0x60, 0, 0, 0, 0, 0, XDP_PROTO_UDP, XDP_TTL};
        memcpy(ip, head, sizeof head);
        xdp_put16(ip + 4, (uint16_t)ulen);
        memcpy(ip + 8, qip + 24, 16);
        memcpy(ip + 24, qip + 8, 16);
        xdp_reply_udp(qip + 40, ip + 40, xdp_pseudo(ip + 8, ip + 24, 16, ulen), ulen);
    }
    return p->hdr_len + dns_len;
}
