/*
 * xdp_pkt.h - the Ethernet, IPv4/IPv6 and UDP headers of the AF_XDP path
 * (dnsd/io/xdp.h): checks a received frame and writes the reply's headers.
 *
 * The kernel checks nothing for a frame that XDP takes, so this does what
 * ip_rcv and udp_rcv would: versions, header and datagram lengths, the IPv4
 * header checksum, the UDP checksum (none allowed over IPv4 only: RFC 768,
 * RFC 8200 section 8.1), no fragments, and no source a reply must never go
 * to. A partial checksum left by a local sender's TX offload counts as wrong
 * (xdp_pkt.c says why). Replies get full checksums.
 * Pure functions of their input: unit-tested and fuzzed without a socket.
 */
#ifndef DNSD_XDP_PKT_H
#define DNSD_XDP_PKT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define XDP_PKT_ETH 14
#define XDP_PKT_HDR4 (XDP_PKT_ETH + 20 + 8) /* Ethernet, IPv4 without options, UDP */
#define XDP_PKT_HDR6 (XDP_PKT_ETH + 40 + 8) /* Ethernet, IPv6, UDP */

/* Why a frame is not a datagram we answer (counted per queue). */
typedef enum {
    XDP_PKT_OK = 0,
    XDP_PKT_BAD_FRAME, /* truncated, wrong version, lengths that disagree */
    XDP_PKT_NOT_OURS,  /* not UDP to our port, a fragment, options, extension headers */
    XDP_PKT_BAD_CHECKSUM,     /* IPv4 header checksum wrong */
    XDP_PKT_BAD_UDP_CHECKSUM, /* UDP checksum wrong, or 0 over IPv6 */
    XDP_PKT_BAD_ADDRESS,      /* a source or destination no reply may be sent to */
} xdp_pkt_result_t;

typedef struct xdp_pkt {
    size_t hdr_len;                   /* XDP_PKT_HDR4 or XDP_PKT_HDR6: where DNS starts */
    size_t dns_len;                   /* the UDP payload's length */
    struct sockaddr_storage src, dst; /* the client, and the address it asked */
} xdp_pkt_t;

/* Checks frame[0..len) as a UDP datagram to `port` (host order). */
xdp_pkt_result_t xdp_pkt_parse(const uint8_t *frame, size_t len, uint16_t port,
                               xdp_pkt_t *p);

/*
 * Writes the headers of the reply to the query frame `q` (parsed into p) in
 * out[0..p->hdr_len), the DNS payload being already at out + p->hdr_len with
 * dns_len bytes: addresses and ports swapped, fresh lengths, TTL 64 and the
 * checksums. Returns the frame length.
 */
size_t xdp_pkt_reply(const uint8_t *q, const xdp_pkt_t *p, uint8_t *out, size_t dns_len);

#endif
