/*
 * udp.h - one worker's UDP sockets: SO_REUSEPORT sockets drained with recvmmsg
 * and answered with sendmmsg in fixed-width batches from a uv_poll_t.
 *
 * Each worker owns one udp_batch_t (all buffers, allocated once at start) shared
 * by its sockets: the worker's loop runs one callback at a time, so one set of
 * buffers serves every socket of that worker. Nothing is allocated per packet.
 */
#ifndef DNSD_UDP_H
#define DNSD_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "dnsd/query/answer.h"
#include "config/cfg.h"

/*
 * Datagrams per recvmmsg/sendmmsg call. 32 amortises the two syscalls over
 * enough packets that their fixed cost (~1 µs each) is a small share of the
 * kernel's per-packet work, while the batch's buffers (32 × 4 KB in, 32 × 1232 B
 * out, ~170 KB) stay within L2 and a burst is answered within tens of µs rather
 * than waiting for a larger batch to fill. For comparison, gdnsd uses 16 and
 * Knot DNS 10.
 */
#define UDP_BATCH 32

/*
 * Receive slot per datagram. A DNS query is a header, one question (at most 255
 * bytes of name) and an OPT with a few options: well under 1 KB. 4096 leaves
 * ample room; a larger datagram arrives with MSG_TRUNC, cannot be a sane query
 * and is dropped and counted as malformed.
 */
#define UDP_RECV_SLOT 4096

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
#define UDP_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

typedef union udp_cmsg {
    struct cmsghdr align;
    uint8_t buf[UDP_CMSG_SPACE];
} udp_cmsg_t;

typedef struct udp_batch {
    struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
    struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
    struct sockaddr_storage src[UDP_BATCH];
    udp_cmsg_t rctl[UDP_BATCH], sctl[UDP_BATCH];
    uint8_t rbuf[UDP_BATCH][UDP_RECV_SLOT];
    uint8_t sbuf[UDP_BATCH][ANSWER_UDP_MAX];
} udp_batch_t;

typedef struct udp_sock {
    uv_poll_t poll;
    int fd;
    int family;   /* AF_INET or AF_INET6 */
    bool pktinfo; /* wildcard address: reply from the address the query was sent to */
    struct sockaddr_storage local; /* the bound address and port (for the query log) */
    bool open; /* the handle is initialised: close with udp_sock_close() */
    answer_ctx_t *ans;
    udp_batch_t *batch;
} udp_sock_t;

/*
 * Creates a non-blocking UDP socket bound to `l` with SO_REUSEPORT (one per
 * worker and address; the kernel spreads datagrams over them), large buffers
 * (best effort) and, for a wildcard address, IP_PKTINFO / IPV6_RECVPKTINFO.
 * Returns the fd, or -1 with a message naming the address in err.
 */
int udp_socket_open(const cfg_listen_t *l, char *err, size_t errlen);

/* Sets up the fixed parts of the batch (iovecs pointing at the slots). */
void udp_batch_init(udp_batch_t *b);

/* Takes ownership of `fd` (closed on any outcome) and starts polling it on
 * `loop`. Returns 0 or a negative libuv error; when s->open is set afterwards,
 * udp_sock_close() must be called, whatever the result. */
int udp_sock_start(udp_sock_t *s, uv_loop_t *loop, int fd, const cfg_listen_t *l,
                   answer_ctx_t *ans, udp_batch_t *batch);

/* Stops reading and closes the handle; the fd is closed in the close callback. */
void udp_sock_close(udp_sock_t *s);

#endif
