/*
 * control.c - the control thread's loop, listeners and lifetime (see
 * control.h); the connections are in control_sess.c, the requests in
 * control_cmd.c.
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
#include "dnsd/base/log.h"
#include "dnsd/base/notify.h"
#include "dnsd/control/demand.h"
#include "dnsd/control/metrics_http.h"

/* ------------------------------------------------------------------------ */
/* Listeners                                                                */
/* ------------------------------------------------------------------------ */

/* A socket file left by a daemon that died is replaced; one a live process
 * answers on is not (two daemons would fight over it), nor is any other file. */
static int control_unix_clear(const char *path, char *err, size_t errlen)
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
        snprintf(err, errlen, "control.unix %s: another process is listening on it",
                 path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int control_listen_unix(control_t *c, const char *path, char *err, size_t errlen)
{
    if (control_unix_clear(path, err, errlen) != 0)
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
        r = uv_listen((uv_stream_t *)&c->unix_h, 16, control_on_connection);
    if (r != 0) {
        snprintf(err, errlen, "control.unix %s: %s", path, uv_strerror(r));
        return -1;
    }
    return 0;
}

static int control_listen_tcp(control_t *c, const char *hostport, char *err,
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
        r = uv_listen((uv_stream_t *)&c->tcp_h, 16, control_on_connection);
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
static void control_on_hup(uv_signal_t *h, int signum)
{
    control_t *c = h->data;
    uint64_t t0 = uv_now(&c->loop);
    notify_reloading();
    int rc = control_reload(c, "SIGHUP");
    control_stalled(c, t0);
    notify_ready(rc == 0 ? "serving; reloaded" : "serving; reload failed, see the log");
}

/* Closes every handle of the loop, so uv_run returns once they are closed. */
static void control_close_all(control_t *c)
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
    metrics_http_close(c->metrics);
    demand_close(c->bal);
    control_close_sessions(c);
}

static void control_on_stop(uv_async_t *h)
{
    control_close_all(h->data);
}

control_t *control_new(const cfg_t *cfg, char *err, size_t errlen)
{
    control_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->boot = c->cfg = cfg;
    c->budget.max = CONTROL_BUFFER_MAX;
    c->started_ns = uv_hrtime();
    if (!(c->bal = demand_new(cfg))) {
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
            demand_free(c->bal);
            free(c);
            return NULL;
        }
        c->have_key = true;
    }
    return c;
}

int control_listen(control_t *c, char *err, size_t errlen)
{
    if (uv_loop_init(&c->loop) != 0) {
        snprintf(err, errlen, "control: uv_loop_init failed");
        return -1;
    }
    c->loop_ok = true;
    uv_async_init(&c->loop, &c->stop, control_on_stop);
    uv_signal_init(&c->loop, &c->hup);
    c->stop.data = c->hup.data = c;
    uv_signal_start(&c->hup, control_on_hup, SIGHUP);
    if (c->cfg->control_unix &&
        control_listen_unix(c, c->cfg->control_unix, err, errlen) != 0)
        return -1;
    if (c->cfg->control_tcp &&
        control_listen_tcp(c, c->cfg->control_tcp, err, errlen) != 0)
        return -1;
    if (c->cfg->metrics && metrics_http_listen(&c->loop, c->cfg->metrics, control_scrape,
                                               c, &c->metrics, err, errlen) != 0)
        return -1;
    return 0;
}

static void *control_main(void *arg)
{
    control_t *c = arg;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return NULL;
}

int control_start(control_t *c, workers_t *ws, char *err, size_t errlen)
{
    /* Like the workers, the thread blocks the signals main's loop waits for. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    c->ws = ws;
    if (demand_start(c->bal, &c->loop, ws) != 0) {
        snprintf(err, errlen, "control: balance timer failed");
        return -1;
    }
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int e = pthread_create(&c->thread, NULL, control_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        snprintf(err, errlen, "control: pthread_create: %s", strerror(e));
        return -1;
    }
    c->running = true;
    pthread_setname_np(c->thread, "dnsd-ctl");
    return 0;
}

void control_stop(control_t *c)
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

void control_free(control_t *c)
{
    if (!c)
        return;
    control_stop(c);
    if (c->loop_ok) {
        control_close_all(c); /* a thread that never ran left them open */
        uv_run(&c->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&c->loop) != 0)
            log_msg(LOG_WARNING, "control: loop still has handles at exit");
    }
    if (c->unix_path)
        unlink(c->unix_path);
    free(c->unix_path);
    ctl_key_clear(&c->key);
    if (c->own)
        cfg_deinit(&c->cfg_own);
    demand_free(c->bal);
    free(c);
}
