/*
 * control.c - the control thread's loop, listeners and connections (see
 * control.h); the requests themselves are in control_cmd.c.
 *
 * Per connection: HELLO with a fresh nonce, then an incremental frame reader
 * (ctl/), every frame checked by ctl_conn_open (MAC, sequence, direction)
 * before it is handled. A refused frame (bad magic, version or type, oversize,
 * bad MAC or replay, wrong direction, truncated) gets one ERR and the
 * connection is closed: the stream position or the peer cannot be trusted any
 * more. It is counted and changes nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_int.h"
#include "demand.h"
#include "log.h"
#include "metrics_http.h"
#include "notify.h"

/* A connection silent this long is closed; one stopped in the middle of a
 * frame is refused as truncated. Generous for a 10 MB push over a slow link,
 * which keeps sending, and short enough that idle clients cannot pile up. */
#define SRV_CTL_IDLE_MS 10000
/* After a refusal, the ERR is written and the sending side shut down; input
 * is read and dropped for this long, so that closing with unread bytes does
 * not turn into a TCP reset that destroys the ERR before the client reads it. */
#define SRV_CTL_LINGER_MS 1000
/* Control clients are operators and deploy tools, a handful at a time; the
 * cap bounds what a misbehaving one can hold (each may buffer up to the
 * 64 MiB frame cap). */
#define SRV_CTL_MAX_CONNS 32
#define SRV_CTL_READ_BUF 65536

typedef struct srv_sess {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } u;
    uv_timer_t timer;
    srv_control_t *ctl;
    struct srv_sess *prev, *next;
    ctl_conn_t conn;
    ctl_reader_t rd;
    bool closing;
    bool refused; /* an ERR for a refused frame is out: drop input, then close */
    int handles;  /* open handles; freed at 0 */
    uint8_t rbuf[SRV_CTL_READ_BUF];
} srv_sess_t;

typedef struct srv_wreq {
    uv_write_t req;
    srv_sess_t *sess;
    bool then_shutdown;
    uint8_t hdr[CTL_HEADER_LEN], mac[CTL_MAC_LEN];
    char *json;
} srv_wreq_t;

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static void srv_sess_on_close(uv_handle_t *h)
{
    srv_sess_t *s = h->data;
    if (--s->handles > 0)
        return;
    srv_control_t *c = s->ctl;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    c->n_sessions--;
    ctl_reader_deinit(&s->rd);
    free(s);
}

static void srv_sess_close(srv_sess_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    uv_close(&s->u.h, srv_sess_on_close);
    uv_close((uv_handle_t *)&s->timer, srv_sess_on_close);
}

static void srv_sess_on_shutdown(uv_shutdown_t *req, int status)
{
    free(req);
}

static void srv_sess_on_write(uv_write_t *req, int status)
{
    srv_wreq_t *w = (srv_wreq_t *)req;
    srv_sess_t *s = w->sess;
    if (w->then_shutdown && !s->closing) {
        uv_shutdown_t *sh = malloc(sizeof *sh);
        if (status < 0 || !sh || uv_shutdown(sh, &s->u.s, srv_sess_on_shutdown) < 0) {
            free(sh);
            srv_sess_close(s);
        }
    } else if (status < 0) {
        srv_sess_close(s);
    }
    free(w->json);
    free(w);
}

/* Seals and sends one reply; json is taken over (NULL: out of memory). */
static void srv_sess_send(srv_sess_t *s, uint8_t type, char *json, bool then_shutdown)
{
    static const char nomem[] = "{\"error\": \"out of memory\", \"details\": []}";
    srv_wreq_t *w = calloc(1, sizeof *w);
    size_t mac_len;
    if (!w) {
        free(json);
        srv_sess_close(s);
        return;
    }
    if (!json)
        type = CTL_T_ERR;
    w->sess = s;
    w->then_shutdown = then_shutdown;
    w->json = json;
    const char *text = json ? json : nomem;
    size_t len = strlen(text);
    if (ctl_conn_seal(&s->conn, type, (const uint8_t *)text, len, w->hdr, w->mac,
                      &mac_len) < 0) {
        free(json);
        free(w);
        srv_sess_close(s);
        return;
    }
    uv_buf_t bufs[3] = {uv_buf_init((char *)w->hdr, CTL_HEADER_LEN),
                        uv_buf_init((char *)text, (unsigned)len),
                        uv_buf_init((char *)w->mac, (unsigned)mac_len)};
    if (uv_write(&w->req, &s->u.s, bufs, mac_len ? 3 : 2, srv_sess_on_write) < 0) {
        free(json);
        free(w);
        srv_sess_close(s);
    }
}

static void srv_sess_on_timer(uv_timer_t *t);

/* A refused frame: counted, one ERR naming it, then a lingering close. */
static void srv_sess_refuse(srv_sess_t *s, int rc)
{
    s->ctl->st.errors[-rc <= SRV_CTL_REFUSALS_MAX ? -rc : 0]++;
    log_msg(LOG_DEBUG, "control: connection refused: %s", ctl_strerror(rc));
    s->refused = true;
    srv_sess_send(s, CTL_T_ERR, ctl_error_json(ctl_strerror(rc), NULL, 0), true);
    uv_timer_start(&s->timer, srv_sess_on_timer, SRV_CTL_LINGER_MS, 0);
}

static void srv_sess_on_timer(uv_timer_t *t)
{
    srv_sess_t *s = t->data;
    if (s->refused) {
        srv_sess_close(s);
    } else if (ctl_reader_partial(&s->rd)) {
        srv_sess_refuse(s, CTL_ERR_TRUNCATED);
    } else {
        s->ctl->st.idle_closed++;
        srv_sess_close(s);
    }
}

/* Feeds received bytes to the reader and handles each complete frame. */
static void srv_sess_consume(srv_sess_t *s, const uint8_t *p, size_t n)
{
    while (n > 0 && !s->refused && !s->closing) {
        ctl_frame_t f;
        size_t used;
        int rc = ctl_reader_feed(&s->rd, p, n, &used, &f);
        p += used;
        n -= used;
        if (rc == 0)
            return;
        if (rc == 1)
            rc = ctl_conn_open(&s->conn, &f);
        /* The reader's errors are sticky, so every one ends the connection
         * (ctl_err_is_fatal lists the protocol ones; NOMEM is the other). */
        if (rc < 0) {
            srv_sess_refuse(s, rc);
            return;
        }
        srv_ctl_reply_t r;
        s->ctl->st.requests[f.type <= CTL_T_LAST_REQUEST ? f.type : 0]++;
        srv_ctl_request(s->ctl, &f, &r);
        srv_sess_send(s, r.type, r.json, false);
    }
}

static void srv_sess_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    srv_sess_t *s = h->data;
    *buf = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void srv_sess_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    srv_sess_t *s = st->data;
    if (nread > 0) {
        if (s->refused)
            return; /* lingering: input is dropped */
        uv_timer_start(&s->timer, srv_sess_on_timer, SRV_CTL_IDLE_MS, 0);
        srv_sess_consume(s, (const uint8_t *)buf->base, (size_t)nread);
    } else if (nread == UV_EOF && !s->refused && ctl_reader_eof(&s->rd) < 0) {
        uv_read_stop(st); /* the client half-closed: it can still read the ERR */
        srv_sess_refuse(s, CTL_ERR_TRUNCATED);
    } else if (nread < 0) {
        srv_sess_close(s);
    }
}

/* Copies the served identity for HELLO (NUL-terminated, printable). */
static void srv_ctl_identity(char *out, size_t cap)
{
    const srv_data_t *d = srv_current; /* only this thread replaces it */
    size_t n = d->identity_len < cap - 1 ? d->identity_len : cap - 1;
    memcpy(out, d->identity, n);
    out[n] = '\0';
}

static void srv_sess_start(srv_sess_t *s, bool tcp)
{
    uint8_t hello[CTL_HEADER_LEN + CTL_NONCE_LEN + 1 + CTL_IDENTITY_MAX];
    char id[CTL_IDENTITY_MAX + 1];
    if (ctl_conn_server_init(&s->conn, tcp ? &s->ctl->key : NULL, tcp) < 0) {
        log_msg(LOG_ERR, "control: cannot draw a nonce (libcrypto)");
        srv_sess_close(s);
        return;
    }
    ctl_reader_init(&s->rd, CTL_MAX_PAYLOAD_DEFAULT, tcp);
    srv_ctl_identity(id, sizeof id);
    int n = ctl_conn_hello_frame(&s->conn, id, hello, sizeof hello);
    srv_wreq_t *w = n > 0 ? calloc(1, sizeof *w) : NULL;
    if (w && !(w->json = malloc((size_t)n))) {
        free(w);
        w = NULL;
    }
    if (!w) {
        srv_sess_close(s);
        return;
    }
    w->sess = s;
    memcpy(w->json, hello, (size_t)n);
    uv_buf_t b = uv_buf_init(w->json, (unsigned)n);
    if (uv_write(&w->req, &s->u.s, &b, 1, srv_sess_on_write) < 0) {
        free(w->json);
        free(w);
        srv_sess_close(s);
        return;
    }
    uv_timer_start(&s->timer, srv_sess_on_timer, SRV_CTL_IDLE_MS, 0);
    if (uv_read_start(&s->u.s, srv_sess_on_alloc, srv_sess_on_read) < 0)
        srv_sess_close(s);
}

static void srv_ctl_on_connection(uv_stream_t *server, int status)
{
    srv_control_t *c = server->data;
    bool tcp = server == (uv_stream_t *)&c->tcp_h;
    srv_sess_t *s = status < 0 ? NULL : calloc(1, sizeof *s);
    if (!s)
        return;
    s->ctl = c;
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
    if (uv_accept(server, &s->u.s) < 0) {
        srv_sess_close(s);
        return;
    }
    if (c->n_sessions > SRV_CTL_MAX_CONNS) {
        c->st.conns_refused++;
        srv_sess_close(s);
        return;
    }
    tcp ? c->st.conns_tcp++ : c->st.conns_unix++;
    srv_sess_start(s, tcp);
}

/* ------------------------------------------------------------------------ */
/* Listeners                                                                */
/* ------------------------------------------------------------------------ */

/* A socket file left by a daemon that died is replaced; one a live process
 * answers on is not (two daemons would fight over it), nor is any other file. */
static int srv_ctl_unix_clear(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "control.unix %s: path longer than %zu bytes", path,
                 sizeof sun.sun_path - 1);
        return -1;
    }
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "control.unix %s: exists and is not a socket", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), live = 0;
    if (fd >= 0) {
        live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
        close(fd);
    }
    if (live) {
        snprintf(err, errlen, "control.unix %s: another process is listening on it", path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int srv_ctl_listen_unix(srv_control_t *c, const char *path, char *err, size_t errlen)
{
    if (srv_ctl_unix_clear(path, err, errlen) != 0)
        return -1;
    uv_pipe_init(&c->loop, &c->unix_h, 0);
    c->unix_h.data = c;
    c->unix_ok = true;
    /* Only the owner may connect: the socket's mode is the access control
     * (docs/control-protocol.md). The umask makes it so from the first
     * moment; no other thread runs yet, so changing the umask is safe. */
    mode_t old = umask(0177);
    int r = uv_pipe_bind(&c->unix_h, path);
    umask(old);
    if (r == 0 && !(c->unix_path = strdup(path)))
        r = UV_ENOMEM;
    if (r == 0 && chmod(path, 0600) != 0)
        r = -errno;
    if (r == 0)
        r = uv_listen((uv_stream_t *)&c->unix_h, 16, srv_ctl_on_connection);
    if (r != 0) {
        snprintf(err, errlen, "control.unix %s: %s", path, uv_strerror(r));
        return -1;
    }
    return 0;
}

static int srv_ctl_listen_tcp(srv_control_t *c, const char *hostport, char *err,
                              size_t errlen)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (ctl_resolve(hostport, &ss, &len, err, errlen) != 0)
        return -1;
    uv_tcp_init(&c->loop, &c->tcp_h);
    c->tcp_h.data = c;
    c->tcp_ok = true;
    int r = uv_tcp_bind(&c->tcp_h, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&c->tcp_h, 16, srv_ctl_on_connection);
    if (r != 0) {
        snprintf(err, errlen, "control.tcp %s: %s", hostport, uv_strerror(r));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                 */
/* ------------------------------------------------------------------------ */

/* SIGHUP is systemd's ExecReload: RELOADING=1, then READY=1 either way
 * (a failed reload keeps serving the previous data). */
static void srv_ctl_on_hup(uv_signal_t *h, int signum)
{
    srv_notify_reloading();
    int rc = srv_ctl_reload(h->data, "SIGHUP");
    srv_notify_ready(rc == 0 ? "serving; reloaded"
                             : "serving; reload failed, see the log");
}

/* Closes every handle of the loop, so uv_run returns once they are closed. */
static void srv_ctl_close_all(srv_control_t *c)
{
    if (c->stopped)
        return;
    c->stopped = true;
    uv_close((uv_handle_t *)&c->stop, NULL);
    uv_close((uv_handle_t *)&c->hup, NULL);
    if (c->unix_ok)
        uv_close((uv_handle_t *)&c->unix_h, NULL);
    if (c->tcp_ok)
        uv_close((uv_handle_t *)&c->tcp_h, NULL);
    srv_metrics_close(c->metrics);
    srv_bal_close(c->bal);
    for (srv_sess_t *s = c->sessions; s; s = s->next)
        srv_sess_close(s);
}

static void srv_ctl_on_stop(uv_async_t *h)
{
    srv_ctl_close_all(h->data);
}

srv_control_t *srv_control_new(const cfg_t *cfg, char *err, size_t errlen)
{
    srv_control_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->boot = c->cfg = cfg;
    c->started_ns = uv_hrtime();
    if (!(c->bal = srv_bal_new(cfg))) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }
    c->last_reload.time = time(NULL);
    snprintf(c->last_reload.trigger, sizeof c->last_reload.trigger, "start");
    snprintf(c->last_reload.result, sizeof c->last_reload.result, "ok");
    if (cfg->control_key_file) {
        char kerr[512];
        if (ctl_key_load(cfg->control_key_file, &c->key, kerr, sizeof kerr) != 0) {
            snprintf(err, errlen, "%s: control.key_file: %s", cfg->path, kerr);
            srv_bal_free(c->bal);
            free(c);
            return NULL;
        }
        c->have_key = true;
    }
    return c;
}

int srv_control_listen(srv_control_t *c, char *err, size_t errlen)
{
    if (uv_loop_init(&c->loop) != 0) {
        snprintf(err, errlen, "control: uv_loop_init failed");
        return -1;
    }
    c->loop_ok = true;
    uv_async_init(&c->loop, &c->stop, srv_ctl_on_stop);
    uv_signal_init(&c->loop, &c->hup);
    c->stop.data = c->hup.data = c;
    uv_signal_start(&c->hup, srv_ctl_on_hup, SIGHUP);
    if (c->cfg->control_unix &&
        srv_ctl_listen_unix(c, c->cfg->control_unix, err, errlen) != 0)
        return -1;
    if (c->cfg->control_tcp && srv_ctl_listen_tcp(c, c->cfg->control_tcp, err, errlen) != 0)
        return -1;
    if (c->cfg->metrics && srv_metrics_listen(c, c->cfg->metrics, err, errlen) != 0)
        return -1;
    return 0;
}

static void *srv_ctl_main(void *arg)
{
    srv_control_t *c = arg;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return NULL;
}

int srv_control_start(srv_control_t *c, srv_workers_t *ws, char *err, size_t errlen)
{
    /* Like the workers, the thread blocks the signals main's loop waits for. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    c->ws = ws;
    if (srv_bal_start(c->bal, &c->loop, ws) != 0) {
        snprintf(err, errlen, "control: balance timer failed");
        return -1;
    }
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int e = pthread_create(&c->thread, NULL, srv_ctl_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        snprintf(err, errlen, "control: pthread_create: %s", strerror(e));
        return -1;
    }
    c->running = true;
    pthread_setname_np(c->thread, "dnsd-ctl");
    return 0;
}

void srv_control_stop(srv_control_t *c)
{
    if (!c || !c->running)
        return;
    uv_async_send(&c->stop);
    pthread_join(c->thread, NULL);
    c->running = false;
    /* Closing the SIGHUP handle restored the default action, which would end
     * the process during the drain. */
    signal(SIGHUP, SIG_IGN);
}

void srv_control_free(srv_control_t *c)
{
    if (!c)
        return;
    srv_control_stop(c);
    if (c->loop_ok) {
        srv_ctl_close_all(c); /* a thread that never ran left them open */
        uv_run(&c->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&c->loop) != 0)
            log_msg(LOG_WARN, "control: loop still has handles at exit");
    }
    if (c->unix_path)
        unlink(c->unix_path);
    free(c->unix_path);
    ctl_key_clear(&c->key);
    if (c->own)
        cfg_deinit(&c->cfg_own);
    srv_bal_free(c->bal);
    free(c);
}
