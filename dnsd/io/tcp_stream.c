/*
 * tcp_stream.c - the byte stream of one TCP connection (RFC 7766): messages
 * framed by a 2-byte length, answered in order as each completes (pipelining),
 * responses written back; tcp.c owns the connection and its buffers.
 *
 * Responses are built in one per-worker scratch buffer and written with
 * uv_try_write; only when the socket cannot take all of it at once is the rest
 * copied into a write buffer (recycled when small, as nearly all DNS responses
 * are).
 *
 * Backpressure: while a response waits in user space, the connection is not
 * read and further queries stay in its read buffer, so a client that sends
 * without reading costs at most one queued response, never unbounded memory.
 */
#include <string.h>

#include "dnsd/data/data.h"
#include "dnsd/io/dnstap.h"
#include "dnsd/io/tcp.h"
#include "dnsd/query/wire.h"
#include "tcp_int.h"

/* The read timeout of the served data (data.h srv_limits_t), read per event
 * so a reload applies it; none without limits (tests). */
static unsigned tcp_read_ms(void)
{
    const srv_limits_t *lim = srv_data_get()->limits;
    return lim ? lim->tcp_read_ms : 0;
}

/* A message begun and not finished within tcp_read_ms (slowloris). */
static void tcp_on_read_timeout(uv_timer_t *t)
{
    tcp_conn_t *c = t->data;
    c->ctx->ans->stats->tcp_read_timeouts++;
    tcp_conn_close(c);
}

/* ------------------------------------------------------------------------ */
/* Writing responses                                                        */
/* ------------------------------------------------------------------------ */

static void tcp_resume(tcp_conn_t *c);

static void tcp_on_write(uv_write_t *req, int status)
{
    tcp_wbuf_t *wb = req->data;
    tcp_conn_t *c = wb->conn;
    c->pending--;
    tcp_wbuf_release(c->ctx, wb);
    if (c->closing)
        return; /* cancelled by the close */
    if (status < 0 || (c->pending == 0 && (c->eof || c->ctx->draining)))
        tcp_conn_close(c);
    else if (c->pending == 0)
        tcp_resume(c);
}

/* Queues the unwritten tail of a response; the socket could not take it now. */
static int tcp_queue(tcp_conn_t *c, const uint8_t *p, size_t len)
{
    tcp_ctx_t *ctx = c->ctx;
    tcp_wbuf_t *wb = tcp_wbuf_get(ctx, len);
    if (!wb)
        return -1;
    memcpy(wb->data, p, len);
    wb->conn = c;
    wb->req.data = wb;
    uv_buf_t b = uv_buf_init((char *)wb->data, (unsigned)len);
    if (uv_write(&wb->req, (uv_stream_t *)&c->tcp, &b, 1, tcp_on_write) < 0) {
        tcp_wbuf_release(ctx, wb);
        return -1;
    }
    c->pending++;
    return 0;
}

/* Answers one message; returns -1 when the connection must be closed. */
static int tcp_answer(tcp_conn_t *c, const srv_data_t *data, const uint8_t *msg,
                      size_t len)
{
    tcp_ctx_t *ctx = c->ctx;
    uint8_t *out = ctx->scratch;
    size_t n = answer_respond(ctx->ans, data, msg, len, (const struct sockaddr *)&c->peer,
                              ANSWER_TCP, out + 2, TCP_FRAME_MAX - 2);
    if (n == 0)
        return 0; /* nothing to send (a response, or shorter than a header) */
    if (ctx->ans->dnstap)
        dnstap_log(ctx->ans->dnstap, ANSWER_TCP, (const struct sockaddr *)&c->peer,
                   (const struct sockaddr *)&c->local, msg, len, out + 2, n,
                   ctx->ans->stats);
    wire_put16(out, (uint16_t)n);
    n += 2;
    size_t done = 0;
    if (c->pending == 0) { /* never overtake a queued response */
        uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
        int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (r < 0 && r != UV_EAGAIN)
            return -1;
        done = r > 0 ? (size_t)r : 0;
    }
    return done == n ? 0 : tcp_queue(c, out + done, n - done);
}

/* ------------------------------------------------------------------------ */
/* Reading queries                                                          */
/* ------------------------------------------------------------------------ */

void tcp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tcp_conn_t *c = h->data;
    /* rlen < rcap always holds here: tcp_rbuf_fit() gave the partial frame a
     * buffer it fits in, and a full buffer is consumed before the next read. */
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

/* Answers every complete message in the buffer in turn, until one response
 * has to wait; keeps the rest (and a partial message) for later. */
static void tcp_consume(tcp_conn_t *c)
{
    const srv_data_t *data = NULL;
    size_t off = 0;
    while (c->pending == 0 && c->rlen - off >= 2) {
        size_t len = wire_get16(c->rbuf + off);
        if (c->rlen - off < 2 + len)
            break;
        if (!data)
            data = srv_data_get();
        tcp_touch(c);
        if (tcp_answer(c, data, c->rbuf + off + 2, len) != 0) {
            tcp_conn_close(c);
            return;
        }
        off += 2 + len;
    }
    if (off > 0) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    /* While a response waits, nothing is read: the buffer can wait too. */
    if (c->pending == 0 && tcp_rbuf_fit(c) != 0) {
        c->ctx->ans->stats->tcp_large_refused++;
        tcp_conn_close(c);
    }
}

void tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tcp_conn_t *c = s->data;
    if (nread > 0) {
        c->rlen += (size_t)nread;
        tcp_consume(c);
        if (!c->closing && c->pending > 0)
            uv_read_stop(s); /* backpressure: resumed by tcp_resume() */
        /* The clock for finishing a message starts at its first byte and is
         * not reset by more bytes, so a trickle cannot hold the connection. */
        unsigned read_ms;
        if (!c->closing && c->pending == 0 && c->rlen > 0 && !c->partial &&
            (read_ms = tcp_read_ms()) != 0) {
            c->partial = true;
            uv_timer_start(&c->timer, tcp_on_read_timeout, read_ms, 0);
        }
    } else if (nread == UV_EOF) {
        /* Half-close after the last query (RFC 7766 section 6.2.4 lets the
         * client do this): finish writing, then close. */
        c->eof = true;
        uv_read_stop(s);
        if (c->pending == 0)
            tcp_conn_close(c);
    } else if (nread < 0) {
        tcp_conn_close(c);
    }
}

/* The queued response is written: answer what was read meanwhile, then read
 * again unless another response had to wait. */
static void tcp_resume(tcp_conn_t *c)
{
    tcp_consume(c);
    if (!c->closing && c->pending == 0)
        uv_read_start((uv_stream_t *)&c->tcp, tcp_on_alloc, tcp_on_read);
}
