/*
 * control_sess.c - one control connection: HELLO, the frame reader, the
 * deadlines, the connection budgets and the backpressure on replies. The
 * listeners are in control.c, the requests in control_cmd.c.
 *
 * Every frame is checked by ctl_conn_open (MAC, sequence, direction) before it
 * is handled. A refused frame (bad magic, version or type, oversize, bad MAC or
 * replay, wrong direction, truncated, no buffer budget) gets one ERR and the
 * connection is closed: the stream position or the peer cannot be trusted any
 * more. It is counted and changes nothing.
 *
 * What a client can hold, and for how long (docs/hardening.md):
 * - Over TCP the reader verifies each header's MAC before it allocates for the
 *   payload (protocol version 2), so a peer without the key never gets more
 *   than the 40 bytes of a header buffered, and it must send a verified one
 *   within control.idle_timeout of its accept or be closed. When the TCP
 *   budget is full, the oldest connection not yet authenticated makes room.
 * - One timer per connection, never reset by a byte: idle between frames;
 *   a frame's deadline, from its first byte, of the idle timeout plus one
 *   second per CONTROL_MIN_RATE bytes it announced; while replies are unread,
 *   the idle timeout from the last write that completed. Time spent in a
 *   request counts against nobody (control_stalled).
 * - Frame buffers of all connections together are capped (CONTROL_BUFFER_MAX);
 *   a frame over what is left is refused as "server busy".
 * - Reading stops while more than CONTROL_WQ_MAX reply bytes are unsent, so a
 *   client that pipelines requests and reads nothing holds at most that much
 *   of replies plus one read buffer of requests.
 */
#include <stdlib.h>
#include <string.h>

#include "control_int.h"
#include "dnsd/base/log.h"
#include "dnsd/control/metrics_http.h"

/* After a refusal, the ERR is written and the sending side shut down; input
 * is read and dropped for this long, so that closing with unread bytes does
 * not turn into a TCP reset that destroys the ERR before the client reads it. */
#define CONTROL_LINGER_MS 1000
/* The slowest average a frame may arrive at past the idle timeout: 2 Mbit/s,
 * so a 10 MB snapshot has 10 + 38 s and a 64 MiB frame 10 + 256 s. */
#define CONTROL_MIN_RATE (256u * 1024)
/* Reply bytes queued for one connection before it is no longer read: a few
 * STATUS replies; a larger single reply still goes out whole. */
#define CONTROL_WQ_MAX (64u * 1024)

const char *const control_limit_names[CONTROL_LIMITS] = {
    "idle_closed", "frame_deadline", "slow_reader", "read_paused",
    "unix_full",   "tcp_full",       "tcp_evicted",
};

typedef struct control_sess {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } u;
    uv_timer_t timer;
    control_t *ctl;
    struct control_sess *prev, *next;
    ctl_conn_t conn;
    ctl_reader_t rd;
    uint64_t accepted, frame_t0, due; /* loop ms */
    size_t wq;                        /* reply bytes written, not yet completed */
    uint8_t *pending;                 /* input read before reading stopped */
    size_t pend_pos, pend_len;
    bool tcp, counted; /* counted in n_unix or n_tcp */
    bool authed;       /* unix, or a TCP header MAC verified */
    bool in_frame;     /* some bytes of a frame are in */
    bool announced;    /* its header too: the deadline covers its length */
    bool paused;       /* reading stopped until replies drain */
    bool closing;
    bool refused; /* an ERR for a refused frame is out: drop input, then close */
    int handles;  /* open handles; freed at 0 */
} control_sess_t;

typedef struct control_wreq {
    uv_write_t req;
    control_sess_t *sess;
    bool then_shutdown;
    size_t bytes;
    uint8_t head[CTL_HEAD_MAX], mac[CTL_MAC_LEN];
    char *json;
} control_wreq_t;

static void control_sess_on_timer(uv_timer_t *t);
static void control_sess_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void control_sess_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static uint64_t control_sess_idle_ms(const control_sess_t *s)
{
    return s->ctl->boot->control_idle_timeout_ms;
}

/* The one timer, set for loop time `due`. */
static void control_sess_due(control_sess_t *s, uint64_t due)
{
    uint64_t now = uv_now(s->u.h.loop);
    s->due = due;
    uv_timer_start(&s->timer, control_sess_on_timer, due > now ? due - now : 0, 0);
}

static void control_sess_on_close(uv_handle_t *h)
{
    control_sess_t *s = h->data;
    if (--s->handles > 0)
        return;
    control_t *c = s->ctl;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    c->n_sessions--;
    ctl_reader_deinit(&s->rd);
    free(s->pending);
    free(s);
}

static void control_sess_close(control_sess_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    if (s->counted)
        s->tcp ? s->ctl->n_tcp-- : s->ctl->n_unix--;
    s->counted = false;
    uv_close(&s->u.h, control_sess_on_close);
    uv_close((uv_handle_t *)&s->timer, control_sess_on_close);
}

void control_close_sessions(control_t *c)
{
    for (control_sess_t *s = c->sessions; s; s = s->next)
        control_sess_close(s);
}

void control_stalled(control_t *c, uint64_t since)
{
    uv_update_time(&c->loop);
    uint64_t d = uv_now(&c->loop) - since;
    if (d == 0)
        return;
    for (control_sess_t *s = c->sessions; s; s = s->next) {
        if (s->closing || s->refused || !s->due)
            continue;
        s->accepted += d;
        s->frame_t0 += d;
        control_sess_due(s, s->due + d);
    }
    metrics_http_stalled(c->metrics, d);
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static void control_sess_resume(control_sess_t *s);

static void control_sess_on_shutdown(uv_shutdown_t *req, int status)
{
    free(req);
}

static void control_sess_on_write(uv_write_t *req, int status)
{
    control_wreq_t *w = (control_wreq_t *)req;
    control_sess_t *s = w->sess;
    s->wq -= w->bytes;
    if (w->then_shutdown && !s->closing) {
        uv_shutdown_t *sh = malloc(sizeof *sh);
        if (status < 0 || !sh || uv_shutdown(sh, &s->u.s, control_sess_on_shutdown) < 0) {
            free(sh);
            control_sess_close(s);
        }
    } else if (status < 0) {
        control_sess_close(s);
    } else if (s->paused && !s->closing && !s->refused) {
        if (s->wq <= CONTROL_WQ_MAX)
            control_sess_resume(s);
        else /* the client reads: its deadline starts again */
            control_sess_due(s, uv_now(s->u.h.loop) + control_sess_idle_ms(s));
    }
    free(w->json);
    free(w);
}

/* Hands bufs to libuv for w; on failure frees w and closes. */
static void control_sess_write(control_sess_t *s, control_wreq_t *w, uv_buf_t *bufs,
                               unsigned n)
{
    w->sess = s;
    for (unsigned i = 0; i < n; i++)
        w->bytes += bufs[i].len;
    if (uv_write(&w->req, &s->u.s, bufs, n, control_sess_on_write) < 0) {
        free(w->json);
        free(w);
        control_sess_close(s);
        return;
    }
    s->wq += w->bytes;
}

/* Seals and sends one reply; json is taken over (NULL: out of memory). */
static void control_sess_send(control_sess_t *s, uint8_t type, char *json,
                              bool then_shutdown)
{
    static const char nomem[] = "{\"error\": \"out of memory\", \"details\": []}";
    control_wreq_t *w = calloc(1, sizeof *w);
    size_t head_len, mac_len;
    if (!w) {
        free(json);
        control_sess_close(s);
        return;
    }
    if (!json)
        type = CTL_T_ERR;
    w->then_shutdown = then_shutdown;
    w->json = json;
    const char *text = json ? json : nomem;
    size_t len = strlen(text);
    if (ctl_conn_seal(&s->conn, type, (const uint8_t *)text, len, w->head, &head_len,
                      w->mac, &mac_len) < 0) {
        free(json);
        free(w);
        control_sess_close(s);
        return;
    }
    uv_buf_t bufs[3] = {uv_buf_init((char *)w->head, (unsigned)head_len),
                        uv_buf_init((char *)text, (unsigned)len),
                        uv_buf_init((char *)w->mac, (unsigned)mac_len)};
    control_sess_write(s, w, bufs, mac_len ? 3 : 2);
}

/* A refused frame: counted, one ERR naming it, then a lingering close. */
static void control_sess_refuse(control_sess_t *s, int rc)
{
    s->ctl->st.errors[-rc <= CONTROL_REFUSALS_MAX ? -rc : 0]++;
    log_msg(LOG_DEBUG, "control: connection refused: %s", ctl_strerror(rc));
    s->refused = true;
    control_sess_send(s, CTL_T_ERR, ctl_error_json(ctl_strerror(rc), NULL, 0), true);
    if (!s->closing)
        uv_timer_start(&s->timer, control_sess_on_timer, CONTROL_LINGER_MS, 0);
}

static void control_sess_on_timer(uv_timer_t *t)
{
    control_sess_t *s = t->data;
    control_stats_t *st = &s->ctl->st;
    if (s->refused) {
        control_sess_close(s);
    } else if (s->paused) {
        st->limits[CONTROL_LIM_SLOW_READER]++;
        control_sess_close(s);
    } else if (s->in_frame) {
        st->limits[CONTROL_LIM_DEADLINE]++;
        control_sess_refuse(s, CTL_ERR_TRUNCATED);
    } else {
        st->limits[CONTROL_LIM_IDLE]++;
        control_sess_close(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/* After a feed that left a frame unfinished: its deadline, set when it starts
 * and once more when its header has announced the length; never per byte. A
 * TCP connection not yet authenticated has its accept as the start. */
static void control_sess_frame_progress(control_sess_t *s)
{
    uint32_t len;
    uint64_t idle = control_sess_idle_ms(s);
    if (!s->in_frame) {
        s->in_frame = true;
        s->frame_t0 = s->authed ? uv_now(s->u.h.loop) : s->accepted;
        control_sess_due(s, s->frame_t0 + idle);
    }
    if (!s->announced && ctl_reader_announced(&s->rd, &len)) {
        s->announced = s->authed = true;
        control_sess_due(s, s->frame_t0 + idle + (uint64_t)len * 1000 / CONTROL_MIN_RATE);
    }
}

/* One verified request: handled (the loop stands still meanwhile), replied. */
static void control_sess_request(control_sess_t *s, const ctl_frame_t *f)
{
    control_t *c = s->ctl;
    control_reply_t r;
    uint64_t t0 = uv_now(&c->loop);
    s->in_frame = s->announced = false;
    s->authed = true;
    c->st.requests[f->type <= CTL_T_LAST_REQUEST ? f->type : 0]++;
    control_request(c, f, &r);
    control_stalled(c, t0);
    control_sess_send(s, r.type, r.json, false);
    if (!s->closing)
        control_sess_due(s, uv_now(&c->loop) + control_sess_idle_ms(s));
}

/* Feeds bytes to the reader and handles each complete frame until replies
 * back up; returns how many bytes are left for after they drain. */
static size_t control_sess_consume(control_sess_t *s, const uint8_t *p, size_t n)
{
    while (n > 0 && !s->refused && !s->closing) {
        if (s->wq > CONTROL_WQ_MAX)
            return n;
        ctl_frame_t f;
        size_t used;
        int rc = ctl_reader_feed(&s->rd, p, n, &used, &f);
        p += used;
        n -= used;
        if (rc == 0) {
            control_sess_frame_progress(s);
            return 0;
        }
        if (rc == 1)
            rc = ctl_conn_open(&s->conn, &f);
        /* The reader's errors are sticky, so every one ends the connection
         * (ctl_err_is_fatal lists the protocol ones; NOMEM is the other). */
        if (rc < 0) {
            control_sess_refuse(s, rc);
            return 0;
        }
        control_sess_request(s, &f);
    }
    return 0;
}

/* Replies back up: keep the unread rest of the input, stop reading. */
static void control_sess_pause(control_sess_t *s, const uint8_t *rest, size_t n)
{
    uint8_t *copy = malloc(n);
    if (!copy) {
        control_sess_close(s);
        return;
    }
    memcpy(copy, rest, n);
    s->pending = copy;
    s->pend_pos = 0;
    s->pend_len = n;
    s->paused = true;
    s->ctl->st.limits[CONTROL_LIM_READ_PAUSED]++;
    uv_read_stop(&s->u.s);
    control_sess_due(s, uv_now(s->u.h.loop) + control_sess_idle_ms(s));
}

/* Replies drained: the kept input first, then the socket again. */
static void control_sess_resume(control_sess_t *s)
{
    size_t n = s->pend_len - s->pend_pos;
    size_t left = control_sess_consume(s, s->pending + s->pend_pos, n);
    if (s->closing || s->refused)
        return;
    if (left) {
        s->pend_pos += n - left;
        control_sess_due(s, uv_now(s->u.h.loop) + control_sess_idle_ms(s));
        return;
    }
    free(s->pending);
    s->pending = NULL;
    s->pend_pos = s->pend_len = 0;
    s->paused = false;
    if (!s->in_frame)
        control_sess_due(s, uv_now(s->u.h.loop) + control_sess_idle_ms(s));
    if (uv_read_start(&s->u.s, control_sess_on_alloc, control_sess_on_read) < 0)
        control_sess_close(s);
}

/* Every read lands in the control loop's one buffer: it is consumed, or its
 * rest copied, before the callback returns. */
static void control_sess_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    control_sess_t *s = h->data;
    *buf = uv_buf_init((char *)s->ctl->rbuf, sizeof s->ctl->rbuf);
}

static void control_sess_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    control_sess_t *s = st->data;
    if (nread > 0) {
        if (s->refused)
            return; /* lingering: input is dropped */
        const uint8_t *p = (const uint8_t *)buf->base;
        size_t left = control_sess_consume(s, p, (size_t)nread);
        if (left && !s->closing && !s->refused)
            control_sess_pause(s, p + (size_t)nread - left, left);
    } else if (nread == UV_EOF && !s->refused && ctl_reader_eof(&s->rd) < 0) {
        uv_read_stop(st); /* the client half-closed: it can still read the ERR */
        control_sess_refuse(s, CTL_ERR_TRUNCATED);
    } else if (nread < 0) {
        control_sess_close(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Accepting                                                                */
/* ------------------------------------------------------------------------ */

/* Copies the served identity for HELLO (NUL-terminated, printable). */
static void control_identity(char *out, size_t cap)
{
    const srv_data_t *d = srv_current; /* only this thread replaces it */
    size_t n = d->identity_len < cap - 1 ? d->identity_len : cap - 1;
    memcpy(out, d->identity, n);
    out[n] = '\0';
}

static void control_sess_start(control_sess_t *s)
{
    uint8_t hello[CTL_HEADER_LEN + CTL_NONCE_LEN + 1 + CTL_IDENTITY_MAX];
    char id[CTL_IDENTITY_MAX + 1];
    if (ctl_conn_server_init(&s->conn, s->tcp ? &s->ctl->key : NULL, s->tcp) < 0) {
        log_msg(LOG_ERR, "control: cannot draw a nonce (libcrypto)");
        control_sess_close(s);
        return;
    }
    ctl_reader_init(&s->rd, CTL_MAX_PAYLOAD_DEFAULT, &s->conn);
    ctl_reader_set_budget(&s->rd, &s->ctl->budget);
    control_identity(id, sizeof id);
    int n = ctl_conn_hello_frame(&s->conn, id, hello, sizeof hello);
    control_wreq_t *w = n > 0 ? calloc(1, sizeof *w) : NULL;
    if (w && !(w->json = malloc((size_t)n))) {
        free(w);
        w = NULL;
    }
    if (!w) {
        control_sess_close(s);
        return;
    }
    memcpy(w->json, hello, (size_t)n);
    uv_buf_t b = uv_buf_init(w->json, (unsigned)n);
    control_sess_write(s, w, &b, 1);
    if (s->closing)
        return;
    control_sess_due(s, s->accepted + control_sess_idle_ms(s));
    if (uv_read_start(&s->u.s, control_sess_on_alloc, control_sess_on_read) < 0)
        control_sess_close(s);
}

/* The oldest TCP connection that has not authenticated, or NULL. */
static control_sess_t *control_evictable(control_t *c)
{
    control_sess_t *old = NULL;
    for (control_sess_t *s = c->sessions; s; s = s->next)
        if (s->tcp && !s->authed && !s->closing)
            old = s; /* newest first: the last one found is the oldest */
    return old;
}

/* Room for a new connection within its socket's budget: 0, or -1 (counted). */
static int control_admit(control_t *c, bool tcp)
{
    const cfg_t *b = c->boot;
    if (!tcp && c->n_unix >= b->control_max_unix_conns) {
        c->st.limits[CONTROL_LIM_UNIX_FULL]++;
    } else if (tcp && c->n_tcp >= b->control_max_tcp_conns) {
        control_sess_t *old = control_evictable(c);
        if (old) {
            c->st.limits[CONTROL_LIM_TCP_EVICTED]++;
            control_sess_close(old);
            return 0;
        }
        c->st.limits[CONTROL_LIM_TCP_FULL]++;
    } else {
        return 0;
    }
    c->st.conns_refused++;
    return -1;
}

void control_on_connection(uv_stream_t *server, int status)
{
    control_t *c = server->data;
    bool tcp = server == (uv_stream_t *)&c->tcp_h;
    control_sess_t *s = status < 0 ? NULL : calloc(1, sizeof *s);
    if (!s)
        return;
    s->ctl = c;
    s->tcp = tcp;
    s->authed = !tcp; /* the unix socket's file mode is its authentication */
    s->u.h.data = s->timer.data = s;
    if (tcp)
        uv_tcp_init(&c->loop, &s->u.tcp);
    else
        uv_pipe_init(&c->loop, &s->u.pipe, 0);
    uv_timer_init(&c->loop, &s->timer);
    s->handles = 2;
    s->next = c->sessions;
    if (c->sessions)
        c->sessions->prev = s;
    c->sessions = s;
    c->n_sessions++;
    if (uv_accept(server, &s->u.s) < 0 || control_admit(c, tcp) < 0) {
        control_sess_close(s);
        return;
    }
    s->counted = true;
    tcp ? c->n_tcp++ : c->n_unix++;
    tcp ? c->st.conns_tcp++ : c->st.conns_unix++;
    s->accepted = uv_now(&c->loop);
    control_sess_start(s);
}
