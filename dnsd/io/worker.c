/*
 * worker.c - worker threads and their loops (see worker.h).
 *
 * Each worker is a reader of the published data (data.h "Publication"): its
 * prepare handle takes it offline before the loop may block, its check
 * handle reports a quiescent state after the I/O callbacks, which come back
 * online through srv_data_get(). Timers and close callbacks do not read the
 * data.
 */
#include "dnsd/io/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "dnsd/io/dnstap.h"
#include "dnsd/base/log.h"
#include "dnsd/io/tcp.h"
#include "dnsd/io/udp.h"
#include "dnsd/io/xdp.h"

typedef struct worker {
    /* First and 64-byte aligned: the counters other threads read share no
     * cache line with another worker's (stats.h pads the tail). */
    _Alignas(64) stat_counters_t stats;
    unsigned id;
    pthread_t thread;
    bool running;      /* thread started and not yet joined */
    bool loop_ok;      /* loop initialised */
    bool handles_ok;   /* stop, prepare, check and tcp context initialised */
    bool closed;       /* worker_close() has run */
    unsigned drain_ms; /* set by workers_stop before waking the worker */
    uv_loop_t loop;
    uv_async_t stop;
    uv_prepare_t prepare;
    uv_check_t check;
    answer_ctx_t ans;
    tcp_ctx_t tcp;
    udp_batch_t *batch;
    size_t n_listen;
    udp_sock_t *udp;      /* one per listen address */
    tcp_listener_t *tcpl; /* one per listen address */
    xdp_t *xdp;           /* the AF_XDP listener, some of whose queues are ours */
} worker_t;

struct workers {
    worker_t **w;
    size_t n;
    const dnstap_t *dnstap; /* its I/O thread's drops count with the workers' */
    xdp_t *xdp;             /* NULL: no AF_XDP listener */
};

static void worker_on_prepare(uv_prepare_t *h)
{
    srv_data_reader_offline();
}

static void worker_on_check(uv_check_t *h)
{
    srv_data_reader_quiescent();
}

/* ------------------------------------------------------------------------ */
/* One worker                                                               */
/* ------------------------------------------------------------------------ */

/* Closes every handle of the worker; the loop then ends once TCP responses in
 * flight are written or drain_ms has passed. Runs in the worker's thread, or
 * in the main thread for a worker that never started. */
static void worker_close(worker_t *w, unsigned drain_ms)
{
    w->closed = true;
    for (size_t i = 0; i < w->n_listen; i++) {
        udp_sock_close(&w->udp[i]);
        tcp_listener_close(&w->tcpl[i]);
    }
    xdp_worker_close(w->xdp, w->id);
    if (!w->handles_ok)
        return;
    tcp_ctx_drain(&w->tcp, drain_ms);
    uv_close((uv_handle_t *)&w->stop, NULL);
    uv_close((uv_handle_t *)&w->prepare, NULL);
    uv_close((uv_handle_t *)&w->check, NULL);
}

static void worker_on_stop(uv_async_t *h)
{
    worker_t *w = h->data;
    worker_close(w, __atomic_load_n(&w->drain_ms, __ATOMIC_ACQUIRE));
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    srv_data_reader_register();
    uv_run(&w->loop, UV_RUN_DEFAULT);
    srv_data_reader_unregister();
    return NULL;
}

static int worker_handles(worker_t *w, const cfg_t *cfg, unsigned cap)
{
    if (tcp_ctx_init(&w->tcp, &w->loop, &w->ans, cfg->tcp_idle_timeout_ms, cap) != 0)
        return -1;
    uv_async_init(&w->loop, &w->stop, worker_on_stop);
    w->stop.data = w;
    uv_prepare_init(&w->loop, &w->prepare);
    uv_check_init(&w->loop, &w->check);
    w->handles_ok = true;
    uv_prepare_start(&w->prepare, worker_on_prepare);
    uv_check_start(&w->check, worker_on_check);
    return 0;
}

/* Opens and starts worker w's sockets, one UDP and one TCP per address. */
static int worker_sockets(worker_t *w, const cfg_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_listen; i++) {
        const cfg_listen_t *l = &cfg->listen[i];
        int fd = udp_socket_open(l, err, errlen);
        if (fd < 0)
            return -1;
        int r = udp_sock_start(&w->udp[i], &w->loop, fd, l, &w->ans, w->batch);
        w->n_listen = i + 1; /* from here on, index i is closed with the worker */
        if (r < 0) {
            snprintf(err, errlen, "udp %s: %s", l->text, uv_strerror(r));
            return -1;
        }
        if ((fd = tcp_socket_open(l, err, errlen)) < 0)
            return -1;
        if ((r = tcp_listener_start(&w->tcpl[i], &w->tcp, fd)) < 0) {
            snprintf(err, errlen, "tcp %s: %s", l->text, uv_strerror(r));
            return -1;
        }
    }
    return 0;
}

static worker_t *worker_new(unsigned id, const cfg_t *cfg, unsigned cap, char *err,
                            size_t errlen)
{
    worker_t *w = aligned_alloc(64, sizeof(worker_t));
    if (!w)
        return NULL;
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->ans.stats = &w->stats;
    w->ans.worker = id;
    w->batch = malloc(sizeof(*w->batch));
    w->udp = calloc(cfg->n_listen, sizeof(*w->udp));
    w->tcpl = calloc(cfg->n_listen, sizeof(*w->tcpl));
    if (!w->batch || !w->udp || !w->tcpl) {
        snprintf(err, errlen, "worker %u: out of memory", id);
        return w;
    }
    udp_batch_init(w->batch);
    if (zone_rng_seed_os(&w->ans.rng) != 0) {
        snprintf(err, errlen, "worker %u: seeding the RNG: %s", id, strerror(errno));
        return w;
    }
    if (uv_loop_init(&w->loop) != 0) {
        snprintf(err, errlen, "worker %u: uv_loop_init failed", id);
        return w;
    }
    w->loop_ok = true;
    if (worker_handles(w, cfg, cap) != 0) {
        snprintf(err, errlen, "worker %u: out of memory", id);
        return w;
    }
    if (worker_sockets(w, cfg, err, errlen) != 0)
        return w;
    err[0] = '\0';
    return w;
}

/* Frees a worker whose thread is not running (never started, or joined). */
static void worker_free(worker_t *w)
{
    if (!w)
        return;
    if (w->loop_ok) {
        /* A worker that never ran still has open handles: close them and let
         * the loop run their close callbacks. After a join this finds none. */
        if (!w->closed)
            worker_close(w, 0);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&w->loop) != 0)
            log_msg(LOG_WARNING, "worker %u: loop still has handles at exit", w->id);
    }
    if (w->handles_ok)
        tcp_ctx_deinit(&w->tcp);
    free(w->batch);
    free(w->udp);
    free(w->tcpl);
    free(w);
}

/* ------------------------------------------------------------------------ */
/* All workers                                                              */
/* ------------------------------------------------------------------------ */

/*
 * A second dnsd of the same user would join our SO_REUSEPORT groups silently
 * and take half the traffic. Binding once without SO_REUSEPORT first fails with
 * EADDRINUSE when anything holds the address, which is the error an operator
 * expects. (TCP keeps SO_REUSEADDR so TIME_WAIT leftovers do not count.)
 */
static int worker_probe(const cfg_listen_t *l, int type, char *err, size_t errlen)
{
    int one = 1, fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0), ok = -1;
    if (fd >= 0) {
        if (type == SOCK_STREAM)
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (l->addr.ss_family == AF_INET6)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        ok = bind(fd, (const struct sockaddr *)&l->addr, l->addrlen);
    }
    if (ok != 0)
        snprintf(err, errlen, "%s %s: bind: %s", type == SOCK_STREAM ? "tcp" : "udp",
                 l->text, strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok;
}

static unsigned workers_wanted(const cfg_t *cfg)
{
    if (cfg->workers > 0)
        return cfg->workers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (unsigned)cpus : 1;
}

/*
 * The AF_XDP listener (xdp.h), when configured: its sockets join the workers'
 * loops. When it cannot start (or dnsd was built without it), `fallback`
 * chooses between the socket path alone and a start-up error.
 */
static int workers_xdp(workers_t *ws, const cfg_t *cfg, char *err, size_t errlen)
{
    if (!cfg->xdp_interface)
        return 0;
#ifdef DNSD_XDP
    if ((ws->xdp = xdp_new(cfg, (unsigned)ws->n, err, errlen))) {
        for (size_t i = 0; i < ws->n; i++) {
            worker_t *w = ws->w[i];
            w->xdp = ws->xdp;
            int r = xdp_worker_start(ws->xdp, w->id, &w->loop, &w->ans);
            if (r < 0) {
                snprintf(err, errlen, "xdp: worker %u: %s", w->id, uv_strerror(r));
                return -1;
            }
        }
        return 0;
    }
#else
    snprintf(err, errlen, "xdp %s: dnsd was built without AF_XDP support (-DDNSD_XDP=ON)",
             cfg->xdp_interface);
#endif
    if (!cfg->xdp_fallback)
        return -1;
    log_msg(LOG_WARNING, "%s; xdp.fallback: answering UDP on the socket path alone", err);
    err[0] = '\0';
    return 0;
}

workers_t *workers_new(const cfg_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_listen; i++)
        if (worker_probe(&cfg->listen[i], SOCK_DGRAM, err, errlen) != 0 ||
            worker_probe(&cfg->listen[i], SOCK_STREAM, err, errlen) != 0)
            return NULL;

    workers_t *ws = calloc(1, sizeof(*ws));
    unsigned n = workers_wanted(cfg);
    if (!ws || !(ws->w = calloc(n, sizeof(*ws->w)))) {
        snprintf(err, errlen, "out of memory");
        free(ws);
        return NULL;
    }
    /* The node's connection cap, split evenly (rounded up) over workers. */
    unsigned cap = (cfg->tcp_max_connections + n - 1) / n;
    for (ws->n = 0; ws->n < n; ws->n++) {
        err[0] = '\0';
        worker_t *w = worker_new((unsigned)ws->n, cfg, cap, err, errlen);
        ws->w[ws->n] = w;
        if (!w || err[0]) {
            if (!w)
                snprintf(err, errlen, "worker %zu: out of memory", ws->n);
            ws->n += w != NULL;
            workers_free(ws);
            return NULL;
        }
    }
    if (workers_xdp(ws, cfg, err, errlen) != 0) {
        workers_free(ws);
        return NULL;
    }
    return ws;
}

xdp_t *workers_xdp_listener(const workers_t *ws)
{
    return ws ? ws->xdp : NULL;
}

size_t workers_count(const workers_t *ws)
{
    return ws->n;
}

int workers_start(workers_t *ws, char *err, size_t errlen)
{
    /* Workers inherit a mask blocking the signals the main loop handles, so
     * the kernel delivers those to the main thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 0;
    for (size_t i = 0; i < ws->n; i++) {
        worker_t *w = ws->w[i];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            snprintf(err, errlen, "worker %zu: pthread_create: %s", i, strerror(e));
            rc = -1;
            break;
        }
        w->running = true;
        char name[16];
        snprintf(name, sizeof(name), "dnsd-w%u", (unsigned)(i % 100000));
        pthread_setname_np(w->thread, name);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void workers_stop(workers_t *ws, unsigned drain_ms)
{
    for (size_t i = 0; i < ws->n; i++)
        if (ws->w[i]->running) {
            __atomic_store_n(&ws->w[i]->drain_ms, drain_ms, __ATOMIC_RELEASE);
            uv_async_send(&ws->w[i]->stop);
        }
    for (size_t i = 0; i < ws->n; i++)
        if (ws->w[i]->running) {
            pthread_join(ws->w[i]->thread, NULL);
            ws->w[i]->running = false;
        }
}

void workers_free(workers_t *ws)
{
    if (!ws)
        return;
    workers_stop(ws, 0);
    for (size_t i = 0; i < ws->n; i++)
        worker_free(ws->w[i]);
#ifdef DNSD_XDP
    xdp_free(ws->xdp); /* after the loops that polled its sockets */
#endif
    free(ws->w);
    free(ws);
}

void workers_stats(const workers_t *ws, stat_counters_t *sum)
{
    /* stat_counters_t is uint64_t counters followed by padding. */
    const size_t words = offsetof(stat_counters_t, pad) / sizeof(uint64_t);
    uint64_t *out = (uint64_t *)sum;
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < ws->n; i++) {
        const uint64_t *in = (const uint64_t *)&ws->w[i]->stats;
        for (size_t k = 0; k < words; k++)
            out[k] += __atomic_load_n(&in[k], __ATOMIC_RELAXED);
    }
    sum->dnstap_dropped += dnstap_dropped(ws->dnstap);
}

void workers_set_dnstap(workers_t *ws, dnstap_t *dt)
{
    ws->dnstap = dt;
    for (size_t i = 0; i < ws->n; i++)
        ws->w[i]->ans.dnstap = dnstap_queue(dt, i);
}
