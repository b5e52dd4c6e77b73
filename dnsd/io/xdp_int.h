/*
 * xdp_int.h - what the parts of the AF_XDP listener share (not installed):
 * setup and teardown (xdp.c) and the rings of the query path (xdp_io.c).
 */
#ifndef DNSD_XDP_INT_H
#define DNSD_XDP_INT_H

#include <stdbool.h>
#include <xdp/xsk.h>

#include "dnsd/io/xdp.h"

/*
 * UMEM layout: XDP_FRAMES frames of XDP_FRAME bytes per socket (16 MB). A
 * received frame starts after the kernel's headroom (256 bytes) and a sane
 * query is far below XDP_REPLY_OFF; the reply is written at XDP_REPLY_OFF of
 * the same frame (at most 62 bytes of headers and ANSWER_UDP_MAX of DNS), so a
 * frame goes receive -> transmit -> completion -> fill without a copy.
 */
#define XDP_FRAME XSK_UMEM__DEFAULT_FRAME_SIZE
#define XDP_FRAMES 4096u
#define XDP_REPLY_OFF 2048u
#define XDP_RING 2048u /* each of fill, completion, rx and tx */
/* Frames handled per ring peek: amortises the ring index updates and the one
 * wake-up call per batch, like UDP_BATCH on the socket path. */
#define XDP_BATCH 64u
/* Batches per poll callback, so one queue cannot starve the worker's other
 * sockets and TCP connections. */
#define XDP_BATCHES_PER_WAKEUP 8

_Static_assert(XDP_REPLY_OFF + 62 + ANSWER_UDP_MAX <= XDP_FRAME,
               "a reply fits its frame");

typedef struct xdp_sock {
    /* Written by the owning worker only; read relaxed by the control thread. */
    xdp_qstats_t st;
    struct xsk_ring_prod fill, tx;
    struct xsk_ring_cons comp, rx;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    void *area; /* the UMEM, XDP_FRAMES * XDP_FRAME bytes */
    int fd;
    uint16_t port;
    uv_poll_t poll;
    bool polling; /* poll initialised: uv_close it */
    answer_ctx_t *ans;
    uint32_t n_free; /* frames owned by user space, addresses in free[] */
    uint64_t free[XDP_FRAMES];
} xdp_sock_t;

struct xdp {
    char ifname[32];
    int ifindex;
    unsigned n_workers;
    struct bpf_object *obj;
    int link_fd;
    bool native, zero_copy;
    char mode[32];
    size_t n_socks;
    xdp_sock_t **socks; /* [queue] */
};

/* xdp_io.c: gives the kernel its first frames to receive into. */
void xdp_sock_prime(xdp_sock_t *s);

/* xdp_io.c: the poll callback of a socket's fd. */
void xdp_on_readable(uv_poll_t *poll, int status, int events);

#endif
