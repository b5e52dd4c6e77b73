/*
 * fuzz_xdp_pkt.c - the AF_XDP path's frame checks (dnsd/io/xdp_pkt.c): any bytes
 * as a received Ethernet frame, as the receive ring hands them over.
 *
 * Input: the frame. Invariants abort(): a frame that parses has its DNS
 * payload inside the frame, after headers of the family's length, with
 * addresses of that family; its reply (headers written for the payload that
 * is there) parses back as a datagram from our port to the client's with the
 * same addresses swapped, so a reply never goes out with broken headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/io/xdp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FX_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_xdp_pkt: invariant broken: %s (line %d)\n", #cond,     \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static uint16_t fx_port(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    static uint8_t out[XDP_PKT_HDR6 + 65536];
    xdp_pkt_t p, back;
    if (xdp_pkt_parse(in, len, 53, &p) != XDP_PKT_OK)
        return 0;
    FX_CHECK(p.hdr_len == XDP_PKT_HDR4 || p.hdr_len == XDP_PKT_HDR6);
    FX_CHECK(p.hdr_len + p.dns_len <= len);
    FX_CHECK(p.src.ss_family == (p.hdr_len == XDP_PKT_HDR4 ? AF_INET : AF_INET6));
    FX_CHECK(p.dst.ss_family == p.src.ss_family);
    FX_CHECK(fx_port(&p.dst) == 53 && fx_port(&p.src) != 0);
    memcpy(out + p.hdr_len, in + p.hdr_len, p.dns_len);
    size_t n = xdp_pkt_reply(in, &p, out, p.dns_len);
    FX_CHECK(n == p.hdr_len + p.dns_len);
    FX_CHECK(xdp_pkt_parse(out, n, fx_port(&p.src), &back) == XDP_PKT_OK);
    FX_CHECK(back.dns_len == p.dns_len && fx_port(&back.src) == 53);
    FX_CHECK(!memcmp(&back.src, &p.dst, sizeof back.src));
    FX_CHECK(!memcmp(&back.dst, &p.src, sizeof back.dst));
    return 0;
}
