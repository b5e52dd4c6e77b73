/*
 * xdp_prog.c - the XDP program of dnsd's AF_XDP listener (dnsd/io/xdp.h),
 * compiled with clang -target bpf at build time and embedded in dnsd.
 *
 * It steers only what the AF_XDP path answers to the queue's socket: UDP to
 * the configured port and to an address dnsd listens on, over IPv4 without
 * options or fragmentation, or over IPv6 with UDP as the first next header. Everything
 * else (TCP, other ports, ICMP, ARP and neighbour discovery, fragments, extension
 * headers, VLAN tags) goes on to the kernel with XDP_PASS, where dnsd's ordinary sockets
 * answer what is theirs. A queue without a socket in the map passes too
 * (bpf_redirect_map's default action), so traffic keeps flowing to the kernel
 * before the sockets are bound and after dnsd has gone.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* One AF_XDP socket per receive queue, indexed by queue id. */
struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u32);
} dnsd_xsks SEC(".maps");

/* Set by dnsd before attaching: [0] the UDP port taken (host order), [1]
 * DNSD_ANY4 | DNSD_ANY6 when dnsd listens on a wildcard address. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} dnsd_port SEC(".maps");

#define DNSD_ANY4 1
#define DNSD_ANY6 2

/* The addresses dnsd listens on (network order). A datagram to any other
 * address (one the host routes, or does not serve DNS on) is the kernel's:
 * answering it would speak for an address that is not ours. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u8);
} dnsd_addr4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct in6_addr);
    __type(value, __u8);
} dnsd_addr6 SEC(".maps");

/* The UDP header of an IPv4 or IPv6 datagram to one of our addresses, or
 * NULL. `any` holds the wildcard flags. */
static __always_inline struct udphdr *dnsd_udp(void *data, void *end, __u32 any)
{
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end)
        return NULL;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->version != 4 ||
            ip->protocol != IPPROTO_UDP)
            return NULL;
        /* A fragment (MF set or an offset) is the kernel's to reassemble. */
        if (ip->frag_off & bpf_htons(0x3fff))
            return NULL;
        if (!(any & DNSD_ANY4) && !bpf_map_lookup_elem(&dnsd_addr4, &ip->daddr))
            return NULL;
        struct udphdr *udp = (void *)(ip + 1);
        return (void *)(udp + 1) <= end ? udp : NULL;
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > end || ip6->version != 6 || ip6->nexthdr != IPPROTO_UDP)
            return NULL;
        if (!(any & DNSD_ANY6) && !bpf_map_lookup_elem(&dnsd_addr6, &ip6->daddr))
            return NULL;
        struct udphdr *udp = (void *)(ip6 + 1);
        return (void *)(udp + 1) <= end ? udp : NULL;
    }
    return NULL;
}

SEC("xdp")
int dnsd_xdp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    __u32 zero = 0, one = 1, *port = bpf_map_lookup_elem(&dnsd_port, &zero),
          *any = bpf_map_lookup_elem(&dnsd_port, &one);
    if (!port || !any)
        return XDP_PASS;
    struct udphdr *udp = dnsd_udp(data, end, *any);
    if (!udp || udp->dest != bpf_htons((__u16)*port))
        return XDP_PASS;
    return bpf_redirect_map(&dnsd_xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
