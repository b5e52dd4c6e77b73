/*
 * floor_prog.c - the measuring stick of bench/xdp-bench: an XDP program for
 * the server's end of the veth pair that turns every IPv4 UDP datagram to
 * port 53 back to its sender in the kernel (XDP_TX), with the Ethernet and
 * IP addresses and the ports swapped and the DNS header's QR bit set. The
 * "answer" is the question alone: this is not a DNS server, only the
 * cheapest responder there can be, so what the machine spends per query with
 * it is what the load generator and the veth pair cost, the floor under every
 * server's figure. Built by bench/xdp-bench with clang -target bpf.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int floor_tx(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp = (void *)(ip + 1);
    __u8 *dns = (void *)(udp + 1);
    if ((void *)(dns + 12) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
        ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(53))
        return XDP_PASS;
    __u8 mac[ETH_ALEN];
    __builtin_memcpy(mac, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
    __u32 a = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = a; /* the header checksum does not change with the order */
    __u16 p = udp->source;
    udp->source = udp->dest;
    udp->dest = p;
    /* No UDP checksum (RFC 768 allows zero over IPv4): the sender's is only
     * partial where it leaves the computing to an offload. */
    udp->check = 0;
    dns[2] |= 0x80; /* QR */
    return XDP_TX;
}

/* For the client's end in native mode: a veth takes XDP_TX frames from its
 * peer only when it runs NAPI, which an XDP program (this one passes all)
 * turns on. */
SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
