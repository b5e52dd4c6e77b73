/*
 * tcp.c - DNS over TCP (RFC 7766) for one worker; see tcp.h. This file holds
 * the connections: listening, accepting, limits, the LRU list that eviction
 * and timeouts use, closing, and the buffers; tcp_stream.c reads, answers and
 * writes the messages of one connection.
 *
 * Memory: a connection carries an inline read buffer that holds a frame of up
 * to TCP_RBUF_INLINE bytes - a message as large as UDP accepts (udp.h
 * UDP_RECV_SLOT), which every sane query is. RFC 7766 allows 64 KiB messages,
 * so a frame announcing more is lent one of the worker's TCP_BIG_BUFS large
 * buffers (allocated at start) until what is left fits inline again; when all
 * are lent, the connection is closed and counted (tcp_large_refused). A
 * message is always contiguous. So a connection costs sizeof(tcp_conn_t),
 * under 5 KiB, whatever its peer sends, and the large buffers add at most
 * TCP_BIG_BUFS x 64 KiB per worker (docs/hardening.md). Connections are
 * recycled through a per-worker free list, and so are the small write buffers
 * of responses that had to wait. The steady state allocates nothing.
 */
#include "dnsd/io/tcp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dnsd/data/data.h"
#include "dnsd/query/cookie.h"
#include "dnsd/query/wire.h"
#include "tcp_int.h"
/* Recycled objects kept per worker: enough for connection churn and bursts of
 * slow readers without holding more than ~110 KB of idle buffers. */
#define TCP_KEEP_CONNS 16
#define TCP_KEEP_WBUFS 8
/* Capacity of a recycled write buffer: covers any response that fits UDP and
 * most that do not; a larger remainder gets a buffer of its exact size. */
#define TCP_WBUF_SMALL 4096
/* Connections accepted per wakeup, so a connection flood cannot starve UDP. */
#define TCP_ACCEPTS_PER_WAKEUP 64
/* Pause after EMFILE/ENFILE: the listener stays readable, so polling it again
 * at once would spin; a short pause lets connections close and free fds. */
#define TCP_PAUSE_MS 100
/* Per-client connection counters (tcp.h "Abuse limits"): 256 KiB. */
#define TCP_CLIENT_SLOTS 65536

static uint8_t tcp_client_key[16];
static bool tcp_keyed;
static _Atomic uint32_t tcp_clients[TCP_CLIENT_SLOTS];

/* ------------------------------------------------------------------------ */
/* Listening sockets                                                        */
/* ------------------------------------------------------------------------ */

int tcp_socket_open(const cfg_listen_t *l, char *err, size_t errlen)
{
    int one = 1;
    const char *what = "socket";
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    /* SO_REUSEADDR: restart while old connections sit in TIME_WAIT. */
    what = "SO_REUSEADDR";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        goto fail;
    what = "SO_REUSEPORT";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    what = "IPV6_V6ONLY";
    if (l->addr.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
        goto fail;
    what = "bind";
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0)
        goto fail;
    what = "listen";
    if (listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    snprintf(err, errlen, "tcp %s: %s: %s", l->text, what, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

/* Gives a lent large buffer back; what it holds is moved inline (it fits). */
static void tcp_rbuf_return(tcp_conn_t *c)
{
    if (c->rbuf == c->rbuf_inline)
        return;
    memcpy(c->rbuf_inline, c->rbuf, c->rlen);
    c->ctx->big_free[c->ctx->n_big_free++] = c->rbuf;
    c->rbuf = c->rbuf_inline;
    c->rcap = TCP_RBUF_INLINE;
}

/* Once every complete message is answered: the buffer must hold the frame
 * that the rest begins. A frame over TCP_RBUF_INLINE borrows a large buffer;
 * one that fits inline gives it back. -1 when none is left to borrow. */
int tcp_rbuf_fit(tcp_conn_t *c)
{
    size_t need = c->rlen >= 2 ? 2 + (size_t)wire_get16(c->rbuf) : 2;
    if (need <= TCP_RBUF_INLINE) {
        tcp_rbuf_return(c);
        return 0;
    }
    if (c->rbuf != c->rbuf_inline)
        return 0; /* already large: TCP_FRAME_MAX holds any frame */
    tcp_ctx_t *ctx = c->ctx;
    if (ctx->n_big_free == 0)
        return -1;
    uint8_t *big = ctx->big_free[--ctx->n_big_free];
    memcpy(big, c->rbuf, c->rlen);
    c->rbuf = big;
    c->rcap = TCP_FRAME_MAX;
    return 0;
}

void tcp_wbuf_release(tcp_ctx_t *ctx, tcp_wbuf_t *wb)
{
    if (wb->cap == TCP_WBUF_SMALL && ctx->n_free_wbufs < TCP_KEEP_WBUFS) {
        wb->next = ctx->free_wbufs;
        ctx->free_wbufs = wb;
        ctx->n_free_wbufs++;
    } else {
        free(wb);
    }
}

tcp_wbuf_t *tcp_wbuf_get(tcp_ctx_t *ctx, size_t len)
{
    tcp_wbuf_t *wb;
    if (len <= TCP_WBUF_SMALL && (wb = ctx->free_wbufs)) {
        ctx->free_wbufs = wb->next;
        ctx->n_free_wbufs--;
        return wb;
    }
    size_t cap = len <= TCP_WBUF_SMALL ? TCP_WBUF_SMALL : len;
    if ((wb = malloc(sizeof(*wb) + cap)))
        wb->cap = cap;
    return wb;
}

/* ------------------------------------------------------------------------ */
/* Connection lifetime and the LRU list                                     */
/* ------------------------------------------------------------------------ */

static void tcp_lru_unlink(tcp_ctx_t *ctx, tcp_conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        ctx->oldest = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        ctx->newest = c->prev;
    c->prev = c->next = NULL;
}

static void tcp_lru_append(tcp_ctx_t *ctx, tcp_conn_t *c)
{
    c->next = NULL;
    c->prev = ctx->newest;
    if (ctx->newest)
        ctx->newest->next = c;
    else
        ctx->oldest = c;
    ctx->newest = c;
}

static void tcp_check_drained(tcp_ctx_t *ctx)
{
    if (ctx->draining && ctx->n_alive == 0 && !uv_is_closing((uv_handle_t *)&ctx->drain))
        uv_close((uv_handle_t *)&ctx->drain, NULL);
}

static void tcp_on_conn_close(uv_handle_t *h)
{
    tcp_conn_t *c = h->data;
    if (--c->handles > 0)
        return;
    tcp_ctx_t *ctx = c->ctx;
    ctx->n_alive--;
    if (ctx->n_free_conns < TCP_KEEP_CONNS) {
        c->next = ctx->free_conns;
        ctx->free_conns = c;
        ctx->n_free_conns++;
    } else {
        free(c);
    }
    tcp_check_drained(ctx);
}

/* The limits of the served data (data.h srv_limits_t), read per event so a
 * reload applies them; none without limits (tests). */
static unsigned tcp_max_per_client(void)
{
    const srv_limits_t *lim = srv_data_get()->limits;
    return lim ? lim->tcp_max_per_client : 0;
}

/* Counts a new connection from `peer`: its slot, -1 when there is no cap, or
 * -2 when the client already has its share. */
static int tcp_client_take(const struct sockaddr_storage *peer)
{
    uint8_t ip[16], h[8];
    size_t len;
    unsigned max = tcp_max_per_client();

    if (!max || !(len = cookie_client_ip((const struct sockaddr *)peer, ip)))
        return -1;
    cookie_siphash24(tcp_client_key, ip, len, h);
    int slot = (int)((h[0] | (unsigned)h[1] << 8) % TCP_CLIENT_SLOTS);
    if (atomic_fetch_add_explicit(&tcp_clients[slot], 1, memory_order_relaxed) >= max) {
        atomic_fetch_sub_explicit(&tcp_clients[slot], 1, memory_order_relaxed);
        return -2;
    }
    return slot;
}

static void tcp_client_put(int slot)
{
    if (slot >= 0)
        atomic_fetch_sub_explicit(&tcp_clients[slot], 1, memory_order_relaxed);
}

void tcp_conn_close(tcp_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->rlen = 0; /* nothing more is read or answered */
    tcp_rbuf_return(c);
    tcp_client_put(c->slot);
    c->slot = -1;
    tcp_lru_unlink(c->ctx, c);
    c->ctx->n_conns--;
    c->ctx->ans->stats->tcp_closed++;
    /* Queued writes are cancelled (write callbacks with UV_ECANCELED) before
     * the close callbacks run, so the buffers are back before c is freed. */
    uv_close((uv_handle_t *)&c->tcp, tcp_on_conn_close);
    uv_close((uv_handle_t *)&c->timer, tcp_on_conn_close);
}

/* The least recently active connection with no response in flight. */
static tcp_conn_t *tcp_lru_idle(tcp_ctx_t *ctx)
{
    for (tcp_conn_t *c = ctx->oldest; c; c = c->next)
        if (c->pending == 0)
            return c;
    return NULL;
}

/* Idle for the idle timeout; or a response the client has not read for as
 * long (slow reader: reading stopped when the response had to wait). */
static void tcp_on_idle(uv_timer_t *t)
{
    tcp_conn_t *c = t->data;
    if (c->pending > 0)
        c->ctx->ans->stats->tcp_write_timeouts++;
    c->ctx->ans->stats->tcp_idle_closed++;
    tcp_conn_close(c);
}

/* A complete message arrived: the connection is active again. */
void tcp_touch(tcp_conn_t *c)
{
    c->partial = false;
    tcp_lru_unlink(c->ctx, c);
    tcp_lru_append(c->ctx, c);
    uv_timer_start(&c->timer, tcp_on_idle, c->ctx->idle_ms, 0);
}

/* ------------------------------------------------------------------------ */
/* Accepting                                                                */
/* ------------------------------------------------------------------------ */

static tcp_conn_t *tcp_conn_get(tcp_ctx_t *ctx)
{
    tcp_conn_t *c = ctx->free_conns;
    if (c) {
        ctx->free_conns = c->next;
        ctx->n_free_conns--;
        return c;
    }
    /* Not calloc: tcp_conn_start sets what needs it, and the read buffer's
     * pages are touched only as data arrives. */
    return malloc(sizeof(*c));
}

/* Admits an accepted socket; returns -1 (fd closed) when it cannot be set up. */
static int tcp_conn_start(tcp_ctx_t *ctx, int fd, const struct sockaddr_storage *peer,
                          int slot)
{
    tcp_conn_t *c = tcp_conn_get(ctx);
    if (!c) {
        tcp_client_put(slot);
        close(fd);
        return -1;
    }
    c->ctx = ctx;
    c->slot = slot;
    c->partial = false;
    c->peer = *peer;
    c->local.ss_family = AF_UNSPEC;
    if (ctx->ans->dnstap) { /* once per connection, and only when logging */
        socklen_t llen = sizeof c->local;
        if (getsockname(fd, (struct sockaddr *)&c->local, &llen) != 0)
            c->local.ss_family = AF_UNSPEC;
    }
    c->pending = 0;
    c->eof = c->closing = false;
    c->rbuf = c->rbuf_inline;
    c->rcap = TCP_RBUF_INLINE;
    c->rlen = 0;
    c->prev = c->next = NULL;
    uv_tcp_init(ctx->loop, &c->tcp);
    uv_timer_init(ctx->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    ctx->n_alive++;
    ctx->n_conns++;
    tcp_lru_append(ctx, c);
    int r = uv_tcp_open(&c->tcp, fd);
    if (r < 0)
        close(fd); /* not adopted by the handle */
    if (r < 0 || uv_read_start((uv_stream_t *)&c->tcp, tcp_on_alloc, tcp_on_read) < 0) {
        tcp_conn_close(c);
        return -1;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* each write is a whole response */
    uv_timer_start(&c->timer, tcp_on_idle, ctx->idle_ms, 0);
    ctx->ans->stats->tcp_accepted++;
    return 0;
}

/* Over the cap: close the least recently active idle connection to make room
 * (RFC 7766 section 6.2.3), or refuse the new one when every connection has a
 * response in flight. */
static bool tcp_make_room(tcp_ctx_t *ctx)
{
    if (ctx->n_conns < ctx->cap)
        return true;
    tcp_conn_t *victim = tcp_lru_idle(ctx);
    if (!victim)
        return false;
    tcp_conn_close(victim);
    return true;
}

static void tcp_on_resume(uv_timer_t *t);

static void tcp_on_acceptable(uv_poll_t *poll, int status, int events)
{
    tcp_listener_t *l = poll->data;
    tcp_ctx_t *ctx = l->ctx;
    for (int i = 0; i < TCP_ACCEPTS_PER_WAKEUP && status == 0; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd =
            accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                uv_poll_stop(&l->poll);
                uv_timer_start(&l->pause, tcp_on_resume, TCP_PAUSE_MS, 0);
            }
            return; /* EAGAIN: nothing more; ECONNABORTED and the like: next wakeup */
        }
        int slot = tcp_client_take(&peer);
        if (slot == -2) {
            ctx->ans->stats->tcp_client_refused++;
            close(fd);
            continue;
        }
        if (!tcp_make_room(ctx)) {
            tcp_client_put(slot);
            ctx->ans->stats->tcp_refused++;
            close(fd);
            continue;
        }
        tcp_conn_start(ctx, fd, &peer, slot);
    }
}

static void tcp_on_resume(uv_timer_t *t)
{
    tcp_listener_t *l = t->data;
    uv_poll_start(&l->poll, UV_READABLE, tcp_on_acceptable);
}

int tcp_listener_start(tcp_listener_t *l, tcp_ctx_t *ctx, int fd)
{
    l->ctx = ctx;
    l->fd = fd;
    l->open = false;
    int r = uv_poll_init(ctx->loop, &l->poll, fd);
    if (r < 0) {
        close(fd);
        l->fd = -1;
        return r;
    }
    uv_timer_init(ctx->loop, &l->pause);
    l->poll.data = l->pause.data = l;
    l->open = true;
    return uv_poll_start(&l->poll, UV_READABLE, tcp_on_acceptable);
}

static void tcp_on_listener_close(uv_handle_t *h)
{
    tcp_listener_t *l = h->data;
    if (l->fd >= 0)
        close(l->fd); /* connections still queued on it are reset */
    l->fd = -1;
}

void tcp_listener_close(tcp_listener_t *l)
{
    if (!l->open || uv_is_closing((uv_handle_t *)&l->poll))
        return;
    uv_close((uv_handle_t *)&l->pause, NULL);
    uv_close((uv_handle_t *)&l->poll, tcp_on_listener_close);
}

/* ------------------------------------------------------------------------ */
/* The per-worker context                                                   */
/* ------------------------------------------------------------------------ */

int tcp_ctx_init(tcp_ctx_t *ctx, uv_loop_t *loop, answer_ctx_t *ans, unsigned idle_ms,
                 unsigned cap)
{
    memset(ctx, 0, sizeof(*ctx));
    /* The workers' contexts are made one after the other by the main thread.
     * Without randomness the hash is still a hash: collisions get guessable,
     * nothing worse. */
    if (!tcp_keyed && getrandom(tcp_client_key, sizeof tcp_client_key, GRND_NONBLOCK) < 0)
        memset(tcp_client_key, 0x5c, sizeof tcp_client_key);
    tcp_keyed = true;
    ctx->loop = loop;
    ctx->ans = ans;
    ctx->idle_ms = idle_ms;
    ctx->cap = cap;
    /* The large buffers in one block: its pages become resident only as
     * large messages arrive, and stay bounded by TCP_BIG_BUFS. */
    if (!(ctx->scratch = malloc(TCP_FRAME_MAX)) ||
        !(ctx->big = malloc((size_t)TCP_BIG_BUFS * TCP_FRAME_MAX))) {
        free(ctx->scratch);
        ctx->scratch = NULL;
        return -1;
    }
    for (unsigned i = 0; i < TCP_BIG_BUFS; i++)
        ctx->big_free[i] = ctx->big + (size_t)i * TCP_FRAME_MAX;
    ctx->n_big_free = TCP_BIG_BUFS;
    uv_timer_init(loop, &ctx->drain);
    return 0;
}

static void tcp_on_drain_timeout(uv_timer_t *t)
{
    tcp_ctx_t *ctx = t->data;
    while (ctx->oldest)
        tcp_conn_close(ctx->oldest);
}

void tcp_ctx_drain(tcp_ctx_t *ctx, unsigned drain_ms)
{
    ctx->draining = true;
    tcp_conn_t *next;
    for (tcp_conn_t *c = ctx->oldest; c; c = next) {
        next = c->next;
        if (c->pending == 0) {
            tcp_conn_close(c);
        } else {
            uv_read_stop((uv_stream_t *)&c->tcp);
            uv_timer_stop(&c->timer); /* the drain timer bounds the wait now */
        }
    }
    ctx->drain.data = ctx;
    uv_timer_start(&ctx->drain, tcp_on_drain_timeout, drain_ms, 0);
    tcp_check_drained(ctx);
}

void tcp_ctx_deinit(tcp_ctx_t *ctx)
{
    while (ctx->free_conns) {
        tcp_conn_t *c = ctx->free_conns;
        ctx->free_conns = c->next;
        free(c);
    }
    while (ctx->free_wbufs) {
        tcp_wbuf_t *wb = ctx->free_wbufs;
        ctx->free_wbufs = wb->next;
        free(wb);
    }
    free(ctx->scratch);
    ctx->scratch = NULL;
    free(ctx->big);
    ctx->big = NULL;
}
