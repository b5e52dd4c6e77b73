/*
 * metrics_http.c - the /metrics responder (see metrics_http.h): connections
 * on the control loop, a snapshot of the counters, metrics.c to render.
 *
 * Each connection has one deadline from its accept: a client that sends
 * slowly, or never finishes its head, is closed when it passes, whatever it
 * sends. When every slot is taken, a new connection closes the oldest one that
 * has not been answered (else the oldest whose response is out), so idle or
 * slow clients cannot keep a scraper out. After the response the sending side
 * is shut down and input is read and dropped until EOF or the deadline, so
 * closing with unread bytes does not reset the connection before the client
 * has read the response.
 */
#include "dnsd/control/metrics_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "dnsd/base/log.h"
#include "dnsd/control/metrics.h"

struct metrics_http {
    uv_loop_t *loop;
    metrics_http_render_fn render; /* the page, from the owner's counters */
    void *arg;
    uv_tcp_t listener;
    struct metrics_http_conn *conns;
    unsigned n_conns;
    bool closing, listener_closed;
    uint64_t requests[5]; /* by status: 200, 400, 404, 405, other */
    uint64_t accepted, evicted, refused;
};

typedef struct metrics_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    metrics_http_t *m;
    struct metrics_http_conn *prev, *next;
    uint64_t due; /* loop ms of the deadline */
    int handles;
    bool answered, closing;
    bool writing, eof; /* response in flight; the client half-closed meanwhile */
    char *body;        /* the response being written (head and body), malloc'd */
    size_t body_len;
    size_t len; /* request bytes in buf */
    uint8_t buf[METRICS_HTTP_HEAD_MAX];
} metrics_http_conn_t;

static void metrics_http_maybe_free(metrics_http_t *m)
{
    if (m->closing && m->listener_closed && m->n_conns == 0)
        free(m);
}

static void metrics_http_conn_on_close(uv_handle_t *h)
{
    metrics_http_conn_t *k = h->data;
    if (--k->handles > 0)
        return;
    metrics_http_t *m = k->m;
    if (k->prev)
        k->prev->next = k->next;
    else
        m->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    m->n_conns--;
    free(k->body);
    free(k);
    metrics_http_maybe_free(m);
}

static void metrics_http_conn_close(metrics_http_conn_t *k)
{
    if (k->closing)
        return;
    k->closing = true;
    uv_close((uv_handle_t *)&k->tcp, metrics_http_conn_on_close);
    uv_close((uv_handle_t *)&k->timer, metrics_http_conn_on_close);
}

static void metrics_http_conn_on_timer(uv_timer_t *t)
{
    metrics_http_conn_close(t->data);
}

static void metrics_http_conn_on_shutdown(uv_shutdown_t *req, int status) {}

static void metrics_http_conn_on_write(uv_write_t *req, int status)
{
    metrics_http_conn_t *k = req->data;
    k->writing = false;
    if (status < 0 || k->closing || k->eof ||
        uv_shutdown(&k->sreq, (uv_stream_t *)&k->tcp, metrics_http_conn_on_shutdown) < 0)
        metrics_http_conn_close(k);
}

/* Builds and sends the response for `r`; the connection lingers after it. */
static void metrics_http_conn_respond(metrics_http_conn_t *k, const metrics_request_t *r)
{
    static const int codes[4] = {200, 400, 404, 405};
    int status = metrics_req_status(r->result), slot = 4;
    for (int i = 0; i < 4; i++)
        slot = codes[i] == status ? i : slot;
    k->m->requests[slot]++;
    k->answered = true;
    metrics_req_t res = r->result;
    size_t blen = 0;
    char *body =
        res == METRICS_REQ_METRICS
            ? k->m->render(k->m->arg, k->m->requests,
                           (uint64_t[3]){k->m->accepted, k->m->evicted, k->m->refused},
                           &blen)
            : NULL;
    if (res == METRICS_REQ_METRICS && !body) {
        metrics_http_conn_close(k); /* out of memory: nothing useful to say */
        return;
    }
    const char *text = body ? body : metrics_req_error_body(res);
    blen = body ? blen : strlen(text);
    char head[256];
    size_t hlen = metrics_req_head(res, blen, head, sizeof head);
    size_t send_body = r->head ? 0 : blen;
    k->body = malloc(hlen + send_body + 1);
    if (k->body) {
        memcpy(k->body, head, hlen);
        memcpy(k->body + hlen, text, send_body);
        k->body_len = hlen + send_body;
    }
    free(body);
    uv_buf_t b = uv_buf_init(k->body, (unsigned)k->body_len);
    k->wreq.data = k;
    if (!k->body ||
        uv_write(&k->wreq, (uv_stream_t *)&k->tcp, &b, 1, metrics_http_conn_on_write) < 0)
        metrics_http_conn_close(k);
    else
        k->writing = true;
}

static void metrics_http_conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    metrics_http_conn_t *k = h->data;
    static uint8_t sink[4096]; /* input after the response: dropped */
    if (k->answered || k->len >= sizeof k->buf)
        *buf = uv_buf_init((char *)sink, sizeof sink);
    else
        *buf = uv_buf_init((char *)k->buf + k->len, (unsigned)(sizeof k->buf - k->len));
}

static void metrics_http_conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    metrics_http_conn_t *k = s->data;
    if (nread == UV_EOF && k->writing) {
        /* A client that half-closes after its request (HTTP/1.0 style) still
         * gets the whole response; the write callback closes. */
        k->eof = true;
        uv_read_stop(s);
        return;
    }
    if (nread < 0) {
        metrics_http_conn_close(k);
        return;
    }
    if (k->answered || nread == 0)
        return;
    k->len += (size_t)nread;
    metrics_request_t r;
    metrics_req_parse(k->buf, k->len, sizeof k->buf, &r);
    if (r.result != METRICS_REQ_MORE)
        metrics_http_conn_respond(k, &r);
}

/* The connection a newcomer replaces when every slot is taken: the oldest
 * not answered yet, else the oldest whose response is out; NULL when every
 * one is still being written to. */
static metrics_http_conn_t *metrics_http_victim(metrics_http_t *m,
                                                const metrics_http_conn_t *newcomer)
{
    metrics_http_conn_t *waiting = NULL, *done = NULL;
    for (metrics_http_conn_t *k = m->conns; k; k = k->next) {
        if (k->closing || k == newcomer)
            continue;
        if (!k->answered) /* newest first: the last one found is the oldest */
            waiting = k;
        else if (!k->writing)
            done = k;
    }
    return waiting ? waiting : done;
}

/* Room for one more: 0, or -1 when the newcomer must go (counted). */
static int metrics_http_admit(metrics_http_t *m, const metrics_http_conn_t *newcomer)
{
    unsigned open = 0;
    for (metrics_http_conn_t *k = m->conns; k; k = k->next)
        open += !k->closing;
    if (open <= METRICS_HTTP_MAX_CONNS)
        return 0;
    metrics_http_conn_t *old = metrics_http_victim(m, newcomer);
    if (!old) {
        m->refused++;
        return -1;
    }
    m->evicted++;
    metrics_http_conn_close(old);
    return 0;
}

static void metrics_http_on_connection(uv_stream_t *server, int status)
{
    metrics_http_t *m = server->data;
    metrics_http_conn_t *k = status < 0 || m->closing ? NULL : calloc(1, sizeof *k);
    if (!k)
        return;
    k->m = m;
    k->tcp.data = k->timer.data = k;
    uv_tcp_init(m->loop, &k->tcp);
    uv_timer_init(m->loop, &k->timer);
    k->handles = 2;
    k->next = m->conns;
    if (m->conns)
        m->conns->prev = k;
    m->conns = k;
    m->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&k->tcp) < 0 || metrics_http_admit(m, k) < 0) {
        metrics_http_conn_close(k);
        return;
    }
    m->accepted++;
    k->due = uv_now(m->loop) + METRICS_HTTP_TIMEOUT_MS;
    uv_timer_start(&k->timer, metrics_http_conn_on_timer, METRICS_HTTP_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)&k->tcp, metrics_http_conn_on_alloc,
                      metrics_http_conn_on_read) < 0)
        metrics_http_conn_close(k);
}

void metrics_http_counts(const metrics_http_t *m, uint64_t requests[5], uint64_t conns[3])
{
    for (int i = 0; i < 5; i++)
        requests[i] = m ? m->requests[i] : 0;
    conns[0] = m ? m->accepted : 0;
    conns[1] = m ? m->evicted : 0;
    conns[2] = m ? m->refused : 0;
}

void metrics_http_stalled(metrics_http_t *m, uint64_t ms)
{
    if (!m)
        return;
    uint64_t now = uv_now(m->loop);
    for (metrics_http_conn_t *k = m->conns; k; k = k->next) {
        if (k->closing)
            continue;
        k->due += ms;
        uv_timer_start(&k->timer, metrics_http_conn_on_timer,
                       k->due > now ? k->due - now : 0, 0);
    }
}

int metrics_http_listen(uv_loop_t *loop, const char *hostport,
                        metrics_http_render_fn render, void *arg, metrics_http_t **out,
                        char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (ctl_resolve(hostport, &ss, &len, err, errlen) != 0)
        return -1;
    metrics_http_t *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "metrics %s: out of memory", hostport);
        return -1;
    }
    m->loop = loop;
    m->render = render;
    m->arg = arg;
    *out = m; /* closed by metrics_http_close, whatever happens next */
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    int r = uv_tcp_bind(&m->listener, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&m->listener, 16, metrics_http_on_connection);
    if (r != 0) {
        snprintf(err, errlen, "metrics %s: %s", hostport, uv_strerror(r));
        return -1;
    }
    log_msg(LOG_INFO, "metrics: serving http://%s/metrics", hostport);
    return 0;
}

static void metrics_http_on_listener_close(uv_handle_t *h)
{
    metrics_http_t *m = h->data;
    m->listener_closed = true;
    metrics_http_maybe_free(m);
}

void metrics_http_close(metrics_http_t *m)
{
    if (!m || m->closing)
        return;
    m->closing = true;
    for (metrics_http_conn_t *k = m->conns; k; k = k->next)
        metrics_http_conn_close(k);
    uv_close((uv_handle_t *)&m->listener, metrics_http_on_listener_close);
}
