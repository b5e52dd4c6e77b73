/*
 * tcp_int.h - what the two halves of the TCP server share (not installed):
 * the connection and its buffers (tcp.c) and the stream of messages read,
 * answered and written on it (tcp_stream.c).
 */
#ifndef DNSD_TCP_INT_H
#define DNSD_TCP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "dnsd/io/tcp.h"

/* The inline read buffer: a frame of a message as large as a UDP query may be
 * (udp.h UDP_RECV_SLOT, 4096 bytes) with its length prefix. */
#define TCP_RBUF_INLINE (2 + 4096)

struct tcp_conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* idle timeout */
    tcp_ctx_t *ctx;
    tcp_conn_t *prev, *next; /* LRU list; `next` also links the free list */
    struct sockaddr_storage peer;
    struct sockaddr_storage local; /* for the query log; family 0 when not logging */
    unsigned pending; /* responses queued with uv_write (0 or 1: tcp_stream.c) */
    unsigned handles; /* handles not yet closed: freed at 0 */
    bool eof;         /* the client half-closed: close once everything is written */
    bool closing;
    bool partial;  /* a message has begun: the read timeout runs */
    int slot;      /* this client's tcp_clients counter; -1 none */
    uint8_t *rbuf; /* rbuf_inline, or a large buffer lent by the worker */
    size_t rcap;   /* TCP_RBUF_INLINE or TCP_FRAME_MAX */
    size_t rlen;   /* bytes in rbuf */
    uint8_t rbuf_inline[TCP_RBUF_INLINE];
};

struct tcp_wbuf {
    uv_write_t req;
    tcp_wbuf_t *next;
    tcp_conn_t *conn;
    size_t cap;
    uint8_t data[];
};

/* tcp.c: the connection. */

/* Closes the connection (once): stops reading and answering, gives its client
 * slot and a lent buffer back; it is freed when its handles have closed. */
void tcp_conn_close(tcp_conn_t *c);

/* A complete message arrived: the connection moves to the LRU list's end and
 * its timer runs the idle timeout again, in place of a read timeout. */
void tcp_touch(tcp_conn_t *c);

/* Once every complete message is answered: gives the connection a read buffer
 * that holds the frame the rest begins (borrowing or returning a large one).
 * -1 when none is left to borrow. */
int tcp_rbuf_fit(tcp_conn_t *c);

/* A write buffer of at least `len` bytes, recycled when small; NULL when out
 * of memory. Released to the context's free list or freed. */
tcp_wbuf_t *tcp_wbuf_get(tcp_ctx_t *ctx, size_t len);
void tcp_wbuf_release(tcp_ctx_t *ctx, tcp_wbuf_t *wb);

/* tcp_stream.c: reading, for uv_read_start on a connection. */
void tcp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

#endif
