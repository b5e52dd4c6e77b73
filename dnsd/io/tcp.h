/*
 * tcp.h - DNS over TCP for one worker (RFC 7766): 2-byte length prefix,
 * several queries per connection answered in order as each arrives (pipelining),
 * an idle timeout, and a cap on connections that closes the least recently
 * active idle connection to admit a new one (RFC 7766 section 6.2.3).
 *
 * Each worker has its own SO_REUSEPORT listener per address (the kernel spreads
 * connections over them) and its own tcp_ctx_t; connections never move between
 * workers. The listener is polled with a uv_poll_t and accepted with accept4(),
 * so a refused connection is closed without allocating anything.
 */
#ifndef DNSD_TCP_H
#define DNSD_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dnsd/query/answer.h"
#include "config/cfg.h"

/* A whole DNS message with its length prefix: the largest frame there is. */
#define TCP_FRAME_MAX (2 + 65535)
/* Large read buffers per worker, lent to connections whose message does not
 * fit the inline buffer (tcp.c): 1 MiB, and enough, since sane queries are
 * far smaller and a large one is read and answered within the read timeout. */
#define TCP_BIG_BUFS 16

typedef struct tcp_conn tcp_conn_t;
typedef struct tcp_wbuf tcp_wbuf_t;

typedef struct tcp_ctx {
    uv_loop_t *loop;
    answer_ctx_t *ans;
    unsigned idle_ms;   /* idle timeout per connection */
    unsigned cap;       /* connections this worker admits */
    unsigned n_conns;   /* open (not closing) connections */
    unsigned n_alive;   /* connections not yet freed, closing ones included */
    tcp_conn_t *oldest; /* LRU list by last activity, oldest first */
    tcp_conn_t *newest;
    tcp_conn_t *free_conns; /* recycled connections (with their read buffers) */
    unsigned n_free_conns;
    tcp_wbuf_t *free_wbufs; /* recycled buffers for responses that must wait */
    unsigned n_free_wbufs;
    uint8_t *scratch; /* TCP_FRAME_MAX: every response is built here */
    uint8_t *big;     /* TCP_BIG_BUFS large read buffers of TCP_FRAME_MAX */
    uint8_t *big_free[TCP_BIG_BUFS]; /* those not lent */
    unsigned n_big_free;
    uv_timer_t drain; /* bounds the wait for in-flight responses at stop */
    bool draining;
} tcp_ctx_t;

typedef struct tcp_listener {
    uv_poll_t poll;
    uv_timer_t pause; /* resumes accepting after running out of descriptors */
    tcp_ctx_t *ctx;
    int fd;
    bool open; /* the handles are initialised: close with tcp_listener_close() */
} tcp_listener_t;

/*
 * Abuse limits: the served data's (data.h srv_limits_t, so a reload applies
 * them) tcp_max_per_client connections per source address over the whole
 * node (0: no cap), and tcp_read_ms to finish a message once its first byte
 * has arrived (0: only the idle timeout applies). Counted in a shared table
 * of atomic counters indexed by a keyed hash of the address; addresses whose
 * hashes collide share a count, which with 65,536 slots matters only in a
 * flood.
 */

/* Creates a non-blocking TCP socket with SO_REUSEADDR and SO_REUSEPORT, bound
 * to `l` and listening. Returns the fd, or -1 with a message naming the address. */
int tcp_socket_open(const cfg_listen_t *l, char *err, size_t errlen);

/* cap: connections this worker admits (the node's cap split over workers). */
int tcp_ctx_init(tcp_ctx_t *ctx, uv_loop_t *loop, answer_ctx_t *ans, unsigned idle_ms,
                 unsigned cap);

/* Takes ownership of `fd` (closed on any outcome) and starts accepting. When
 * l->open is set afterwards, tcp_listener_close() must be called. */
int tcp_listener_start(tcp_listener_t *l, tcp_ctx_t *ctx, int fd);
void tcp_listener_close(tcp_listener_t *l);

/*
 * Stops reading on every connection, closes those with nothing left to write
 * and the others once their responses are written or `drain_ms` has passed.
 * After this, the context's handles all close by themselves; the loop ends
 * when they have (and the listeners are closed).
 */
void tcp_ctx_drain(tcp_ctx_t *ctx, unsigned drain_ms);

/* Frees the recycled buffers; call after the loop has ended. */
void tcp_ctx_deinit(tcp_ctx_t *ctx);

#endif
