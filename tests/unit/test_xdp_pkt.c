/*
 * test_xdp_pkt.c - the AF_XDP path's frame checks and reply headers: good
 * IPv4 and IPv6 frames parse to the right addresses, replies carry valid
 * checksums (verified here by a separate sum) and swapped addresses, and each
 * kind of bad frame gets its reason; UDP checksums are verified (none is fine
 * over IPv4 only; a partial one left by TX offload is wrong).
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "check.h"
#include "dnsd/io/xdp_pkt.h"

static const uint8_t SRV_MAC[6] = {2, 0, 0, 0, 0, 1}, CLI_MAC[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t DNS[20] = {0x12, 0x34, 1, 0,   0,   1,   0, 0, 0, 0,
                                0,    0,    3, 'o', 'r', 'g', 0, 0, 6, 0};

/* A one's complement sum written apart from xdp_pkt.c's. */
static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++)
        sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
    while (sum > 0xffff)
        sum = (sum >> 16) + (sum & 0xffff);
    return (uint16_t)sum;
}

/* Sets the UDP checksum of the datagram at u (ulen bytes) from the
 * pseudo-header's addresses (alen bytes each at a); partial: only the
 * pseudo-header's sum, as a sender with TX checksum offload leaves it. */
static void udp_sum(uint8_t *u, size_t ulen, const uint8_t *a, size_t alen, int partial)
{
    u[6] = u[7] = 0;
    uint16_t s = csum(a, 2 * alen, 17 + (uint32_t)ulen);
    uint16_t c = partial ? s : (uint16_t)~csum(u, ulen, s);
    c = c ? c : 0xffff;
    u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
}

static size_t frame4(uint8_t *f, const char *src, uint16_t dport)
{
    memcpy(f, SRV_MAC, 6);
    memcpy(f + 6, CLI_MAC, 6);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14, *u = ip + 20;
    memset(ip, 0, 20);
    ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
    ip[2] = 0, ip[3] = 20 + 8 + sizeof DNS;
    inet_pton(AF_INET, src, ip + 12);
    inet_pton(AF_INET, "198.18.0.1", ip + 16);
    uint16_t c = (uint16_t)~csum(ip, 20, 0);
    ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
    u[0] = 0x9c, u[1] = 0x40; /* 40000 */
    u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
    u[4] = 0, u[5] = 8 + sizeof DNS;
    memcpy(u + 8, DNS, sizeof DNS);
    udp_sum(u, 8 + sizeof DNS, ip + 12, 4, 0);
    return 14 + 20 + 8 + sizeof DNS;
}

static size_t frame6(uint8_t *f, const char *src)
{
    memcpy(f, SRV_MAC, 6);
    memcpy(f + 6, CLI_MAC, 6);
    f[12] = 0x86, f[13] = 0xdd;
    uint8_t *ip = f + 14, *u = ip + 40;
    memset(ip, 0, 40);
    ip[0] = 0x60, ip[5] = 8 + sizeof DNS, ip[6] = 17, ip[7] = 64;
    inet_pton(AF_INET6, src, ip + 8);
    inet_pton(AF_INET6, "2001:db8:53::1", ip + 24);
    u[0] = 0x9c, u[1] = 0x40, u[2] = 0, u[3] = 53;
    u[4] = 0, u[5] = 8 + sizeof DNS;
    memcpy(u + 8, DNS, sizeof DNS);
    udp_sum(u, 8 + sizeof DNS, ip + 8, 16, 0);
    return 14 + 40 + 8 + sizeof DNS;
}

static void test_ipv4_roundtrip(void)
{
    uint8_t f[128], out[256];
    size_t len = frame4(f, "198.18.0.2", 53);
    xdp_pkt_t p;
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_OK);
    CHECK_INT_EQ(p.hdr_len, XDP_PKT_HDR4);
    CHECK_INT_EQ(p.dns_len, sizeof DNS);
    const struct sockaddr_in *src = (const struct sockaddr_in *)&p.src;
    CHECK_INT_EQ(src->sin_family, AF_INET);
    CHECK_INT_EQ(ntohs(src->sin_port), 40000);
    CHECK_INT_EQ(ntohl(src->sin_addr.s_addr), 0xc6120002);
    /* Ethernet padding after the datagram is fine. */
    CHECK_INT_EQ(xdp_pkt_parse(f, 60 > len ? 60 : len + 6, 53, &p), XDP_PKT_OK);

    memcpy(out + p.hdr_len, "REPLYREPLYREPLY", 15);
    size_t n = xdp_pkt_reply(f, &p, out, 15);
    CHECK_INT_EQ(n, XDP_PKT_HDR4 + 15);
    CHECK(!memcmp(out, CLI_MAC, 6) && !memcmp(out + 6, SRV_MAC, 6));
    const uint8_t *ip = out + 14, *u = ip + 20;
    CHECK_INT_EQ(csum(ip, 20, 0), 0xffff);
    CHECK_INT_EQ(ip[2] << 8 | ip[3], 20 + 8 + 15);
    CHECK(!memcmp(ip + 12, f + 14 + 16, 4) && !memcmp(ip + 16, f + 14 + 12, 4));
    CHECK_INT_EQ(u[0] << 8 | u[1], 53);
    CHECK_INT_EQ(u[2] << 8 | u[3], 40000);
    /* The UDP checksum over the pseudo-header verifies. */
    uint32_t pseudo = 17 + 8 + 15;
    uint16_t s = csum(ip + 12, 8, pseudo);
    CHECK_INT_EQ(csum(u, 8 + 15, s), 0xffff);
    /* The reply parses as a datagram from port 53. */
    xdp_pkt_t back;
    CHECK_INT_EQ(xdp_pkt_parse(out, n, 40000, &back), XDP_PKT_OK);
}

static void test_ipv6_roundtrip(void)
{
    uint8_t f[160], out[256];
    size_t len = frame6(f, "2001:db8:53::2");
    xdp_pkt_t p;
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_OK);
    CHECK_INT_EQ(p.hdr_len, XDP_PKT_HDR6);
    CHECK_INT_EQ(p.src.ss_family, AF_INET6);
    CHECK_INT_EQ(p.dst.ss_family, AF_INET6);
    memcpy(out + p.hdr_len, "abc", 3);
    size_t n = xdp_pkt_reply(f, &p, out, 3);
    CHECK_INT_EQ(n, XDP_PKT_HDR6 + 3);
    const uint8_t *ip = out + 14, *u = ip + 40;
    CHECK_INT_EQ(ip[0] >> 4, 6);
    CHECK_INT_EQ(ip[4] << 8 | ip[5], 8 + 3);
    CHECK(!memcmp(ip + 8, f + 14 + 24, 16) && !memcmp(ip + 24, f + 14 + 8, 16));
    uint16_t s = csum(ip + 8, 32, 17 + 8 + 3);
    CHECK_INT_EQ(csum(u, 8 + 3, s), 0xffff);
    CHECK(u[6] || u[7]);
}

static void test_bad_frames(void)
{
    uint8_t f[160];
    xdp_pkt_t p;
    size_t len = frame4(f, "198.18.0.2", 53);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(xdp_pkt_parse(f, cut, 53, &p) != XDP_PKT_OK);
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 5353, &p), XDP_PKT_NOT_OURS);

    len = frame4(f, "198.18.0.2", 53);
    f[14 + 10] ^= 0x55;
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_CHECKSUM);

    len = frame4(f, "198.18.0.2", 53);
    f[14 + 6] |= 0x20; /* MF: a fragment (checksum no longer matters) */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_NOT_OURS);

    len = frame4(f, "198.18.0.2", 53);
    f[14 + 20 + 5] = 200; /* UDP length past the IP payload */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_FRAME);

    len = frame4(f, "198.18.0.2", 53);
    f[14 + 20] = f[14 + 20 + 1] = 0; /* source port 0 */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_ADDRESS);

    static const char *const bad4[] = {"127.0.0.1", "0.1.2.3", "224.0.0.1",
                                       "255.255.255.255"};
    for (size_t i = 0; i < sizeof bad4 / sizeof *bad4; i++) {
        len = frame4(f, bad4[i], 53);
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_ADDRESS);
    }
    len = frame4(f, "198.18.0.2", 53);
    f[6] |= 1; /* group source MAC */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_ADDRESS);
    len = frame4(f, "198.18.0.2", 53);
    memset(f, 0xff, 6); /* broadcast destination: it would be the reply's source */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_ADDRESS);
    len = frame4(f, "198.18.0.2", 53);
    f[12] = 0x81; /* VLAN tag: not ours */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_NOT_OURS);

    static const char *const bad6[] = {"::1", "::", "ff02::1", "::ffff:198.18.0.2"};
    for (size_t i = 0; i < sizeof bad6 / sizeof *bad6; i++) {
        len = frame6(f, bad6[i]);
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_ADDRESS);
    }
    len = frame6(f, "2001:db8:53::2");
    f[14 + 40 + 6] = f[14 + 40 + 7] = 0; /* no UDP checksum: forbidden over IPv6 */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_UDP_CHECKSUM);
    len = frame6(f, "2001:db8:53::2");
    f[14 + 6] = 0; /* hop-by-hop options first */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_NOT_OURS);
    len = frame6(f, "2001:db8:53::2");
    f[14 + 5] = 200; /* payload length past the frame */
    CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_FRAME);
}

/* The UDP checksum: verified over IPv4 and IPv6, absent (0) allowed over
 * IPv4 only (RFC 768; RFC 8200 section 8.1), a partial one refused, and a
 * payload changed under a good checksum noticed. */
static void test_udp_checksum(void)
{
    uint8_t f[160];
    xdp_pkt_t p;
    for (int v6 = 0; v6 < 2; v6++) {
        size_t len = v6 ? frame6(f, "2001:db8:53::2") : frame4(f, "198.18.0.2", 53);
        size_t ip = 14, u = ip + (v6 ? 40 : 20), alen = v6 ? 16 : 4;
        const uint8_t *a = f + ip + (v6 ? 8 : 12);
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_OK);
        f[u + 7] ^= 1;
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_UDP_CHECKSUM);
        f[u + 7] ^= 1;
        f[len - 1] ^= 0x40; /* the query's last byte */
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_UDP_CHECKSUM);
        f[len - 1] ^= 0x40;
        udp_sum(f + u, len - u, a, alen, 1);
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p), XDP_PKT_BAD_UDP_CHECKSUM);
        f[u + 6] = f[u + 7] = 0;
        CHECK_INT_EQ(xdp_pkt_parse(f, len, 53, &p),
                     v6 ? XDP_PKT_BAD_UDP_CHECKSUM : XDP_PKT_OK);
        /* An odd length: the last byte is summed padded with zero. */
        len = v6 ? frame6(f, "2001:db8:53::2") : frame4(f, "198.18.0.2", 53);
        f[u + 5] -= 1;
        if (v6)
            f[ip + 5] -= 1;
        else
            f[ip + 3] -= 1, f[ip + 10] = f[ip + 11] = 0;
        if (!v6) {
            uint16_t c = (uint16_t)~csum(f + ip, 20, 0);
            f[ip + 10] = (uint8_t)(c >> 8), f[ip + 11] = (uint8_t)c;
        }
        udp_sum(f + u, len - 1 - u, a, alen, 0);
        CHECK_INT_EQ(xdp_pkt_parse(f, len - 1, 53, &p), XDP_PKT_OK);
        CHECK_INT_EQ(p.dns_len, sizeof DNS - 1);
    }
}

/* Random bytes never crash the parser and never parse to lengths past the
 * frame (the fuzz target does this at scale). */
static void test_random(void)
{
    uint8_t f[200];
    srand(7);
    for (int i = 0; i < 200000; i++) {
        size_t len = (size_t)rand() % sizeof f;
        for (size_t k = 0; k < len; k++)
            f[k] = (uint8_t)rand();
        if (i % 2)
            frame4(f, "198.18.0.2", 53), f[(size_t)rand() % 62] = (uint8_t)rand();
        xdp_pkt_t p;
        if (xdp_pkt_parse(f, len, 53, &p) == XDP_PKT_OK)
            CHECK(p.hdr_len + p.dns_len <= len);
    }
}

int main(void)
{
    test_ipv4_roundtrip();
    test_ipv6_roundtrip();
    test_bad_frames();
    test_udp_checksum();
    test_random();
    return check_summary("test_xdp_pkt");
}
