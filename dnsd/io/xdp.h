/*
 * xdp.h - the optional AF_XDP UDP listener (config "xdp:", built with
 * -DDNSD_XDP=ON on libxdp and libbpf).
 *
 * An XDP program on the configured interface (xdp_prog.c) steers UDP to the
 * configured port of the listen addresses, IPv4 and IPv6, to one AF_XDP
 * socket per receive queue;
 * everything else, TCP included, goes on to the kernel and dnsd's ordinary
 * sockets. Queue q is served by worker q modulo the worker count, on the
 * worker's own loop. One socket per queue, not per worker and queue: sockets
 * bound to one queue share its fill and completion rings (a kernel rule of
 * shared UMEM), which several workers could only use under a lock; a node
 * spreads the load by giving the NIC as many queues as workers (ethtool -L).
 * On the worker's loop the frames are checked and the replies' headers written
 * by xdp_pkt.c, the DNS answers built by the same answer_respond() as the socket
 * path. Per packet: no allocation, no lock, no system call; the rings are
 * kicked once per batch when the kernel asks for it (XDP_USE_NEED_WAKEUP).
 *
 * The program is attached through a BPF link owned by the process, so it
 * goes away with dnsd however dnsd ends, and traffic returns to the kernel.
 */
#ifndef DNSD_XDP_H
#define DNSD_XDP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dnsd/query/answer.h"
#include "config/cfg.h"

/* Why the AF_XDP path dropped a frame (counted per queue). */
typedef enum {
    XDP_DROP_FRAME = 0, /* headers truncated or inconsistent */
    XDP_DROP_NOT_OURS,  /* not a plain UDP datagram to our port */
    XDP_DROP_CHECKSUM,  /* IPv4 header checksum wrong */
    XDP_DROP_UDP_SUM,   /* UDP checksum wrong or partial, or 0 over IPv6 */
    XDP_DROP_ADDRESS,   /* a source no reply may go to */
    XDP_DROP_TOO_BIG,   /* larger than a receive slot */
    XDP_DROP_NO_ANSWER, /* answer_respond() sent nothing (dnsd_dropped_total says why) */
    XDP_DROP_TX_FULL,   /* no room in the transmit ring */
    XDP_DROP_REASONS
} xdp_drop_t;

/* One queue's counters: ours, then the kernel's (XDP_STATISTICS). */
typedef struct xdp_qstats {
    unsigned queue, worker;
    uint64_t rx, tx;
    uint64_t dropped[XDP_DROP_REASONS];
    uint64_t fill_stalls; /* no free frame to give the kernel to receive into */
    uint64_t comp_stalls; /* transmit held up until completions free frames */
    uint64_t wakeups;     /* system calls that kicked the rings */
    /* The kernel's (struct xdp_statistics). */
    uint64_t k_rx_dropped, k_rx_invalid, k_tx_invalid, k_rx_ring_full, k_fill_ring_empty,
        k_tx_ring_empty;
} xdp_qstats_t;

typedef struct xdp xdp_t;

/* Label values of xdp_drop_t, e.g. "checksum". */
const char *xdp_drop_name(xdp_drop_t d);

/* The kernel's counters of xdp_qstats_t (k_rx_dropped on) and their label
 * values, e.g. "rx_ring_full". */
#define XDP_KERNEL_COUNTERS 6
const char *xdp_kernel_name(int k);

#ifdef DNSD_XDP

/*
 * Loads and attaches the XDP program on cfg->xdp_interface in the configured
 * mode and creates a socket (with its UMEM and rings) per receive queue.
 * Needs CAP_NET_ADMIN, CAP_BPF (or CAP_SYS_ADMIN), CAP_NET_RAW and
 * CAP_IPC_LOCK (dist/systemd/dnsd.service.d/xdp.conf says why): call
 * before dropping privileges. Returns NULL with a message naming the
 * interface and what failed.
 */
xdp_t *xdp_new(const cfg_t *cfg, unsigned n_workers, char *err, size_t errlen);

/* Starts polling worker `w`'s sockets on its loop with its query context.
 * Returns 0 or a negative libuv error. */
int xdp_worker_start(xdp_t *x, unsigned w, uv_loop_t *loop, answer_ctx_t *ans);

/* Closes worker w's poll handles (from its thread, or before it ran). */
void xdp_worker_close(xdp_t *x, unsigned w);

/* After every worker loop has ended: sockets, UMEMs, link. NULL is fine. */
void xdp_free(xdp_t *x);

/* "native/zero-copy", "native/copy" or "generic/copy". */
const char *xdp_mode(const xdp_t *x);
const char *xdp_interface(const xdp_t *x);
size_t xdp_queues(const xdp_t *x);

/* Queue i's counters (relaxed reads; the kernel's are fetched now). */
void xdp_queue_stats(const xdp_t *x, size_t i, xdp_qstats_t *out);

#else

static inline void xdp_worker_close(xdp_t *x, unsigned w) {}
static inline const char *xdp_mode(const xdp_t *x)
{
    return "";
}
static inline const char *xdp_interface(const xdp_t *x)
{
    return "";
}
static inline size_t xdp_queues(const xdp_t *x)
{
    return 0;
}
static inline void xdp_queue_stats(const xdp_t *x, size_t i, xdp_qstats_t *out) {}

#endif

/* The "xdp" object of `dnsdctl status` (malloc'd JSON), or NULL when the
 * listener is off or out of memory. */
char *xdp_status_json(const xdp_t *x);

#endif
