/*
 * addr.c - which addresses a pool server may have. A snapshot is pushed by a
 * program reading a monitoring database; an address that no NTP client could
 * reach (or that points clients at themselves, or at every host of a link) is
 * a bug upstream, and serving it would send real clients nowhere.
 */
#include <string.h>

#include "zones/zones.h"

static const char *zone_addr4_problem(const uint8_t *a)
{
    if (a[0] == 0)
        return "unspecified (0.0.0.0/8, RFC 1122 section 3.2.1.3)";
    if (a[0] == 127)
        return "loopback (127.0.0.0/8)";
    if (a[0] == 169 && a[1] == 254)
        return "link-local (169.254.0.0/16, RFC 3927)";
    if (a[0] >= 224 && a[0] <= 239)
        return "multicast (224.0.0.0/4)";
    if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
        return "broadcast (255.255.255.255)";
    if (a[0] >= 240)
        return "reserved (240.0.0.0/4, RFC 1112 section 4)";
    return NULL;
}

const char *zone_addr_problem(int family, const uint8_t *addr)
{
    static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};

    if (family == 4)
        return zone_addr4_problem(addr);
    if (memcmp(addr, zero, 16) == 0)
        return "unspecified (::)";
    if (memcmp(addr, zero, 15) == 0 && addr[15] == 1)
        return "loopback (::1)";
    if (addr[0] == 0xff)
        return "multicast (ff00::/8)";
    if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
        return "link-local (fe80::/10)";
    /* RFC 4291 section 2.5.5: an IPv4 address in IPv6 clothing would be a
     * second name for an IPv4 server, served as AAAA to clients that cannot
     * use it; the snapshot lists the IPv4 address instead. */
    if (memcmp(addr, mapped, 12) == 0)
        return "IPv4-mapped (::ffff:0:0/96), list the IPv4 address";
    if (memcmp(addr, zero, 12) == 0)
        return "IPv4-compatible (::/96, deprecated by RFC 4291 section 2.5.5.1)";
    return NULL;
}
