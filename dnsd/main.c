/*
 * main.c - dnsd's command line and process lifetime.
 *
 * Stages: parse arguments; load the config, the control key and build the
 * data (any error exits non-zero before a socket is bound); create and bind
 * every worker's sockets and the control sockets; open the query log; drop
 * root when user/group are set (privs.h); start the workers, then the control
 * thread (pushes, SIGHUP reloads, metrics) and tell systemd (notify.h); wait
 * for SIGTERM/SIGINT in the main thread's loop; stop the control thread, drain
 * the workers and exit 0. The daemon stays in the foreground: supervision,
 * restarts and log capture belong to the service manager.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config/cfg.h"
#include "dnsd/control/control.h"
#include "dnsd/data/data.h"
#include "dnsd/io/dnstap.h"
#include "dnsd/base/log.h"
#include "dnsd/base/notify.h"
#include "dnsd/base/privs.h"
#include "dnsd/query/guard.h"
#include "dnsd/data/signer.h"
#include "dnsd/io/tcp.h"
#include "dnsd/io/worker.h"
#include "zones/zones.h"

/* How long in-flight TCP responses may take to finish at shutdown: long enough
 * for a response to a slow but live client, short enough for a service
 * manager's stop timeout (systemd's default is 90 s, ours is well inside). */
#define DNSD_DRAIN_MS 2000

/* Exit codes: 0 fine, 1 a config, data or runtime error, 2 bad usage. */
enum { DNSD_OK = 0, DNSD_FAIL = 1, DNSD_USAGE = 2 };

typedef struct dnsd_opts {
    const char *config;   /* -c FILE */
    const char *snapshot; /* --check-snapshot FILE */
    bool check;           /* --check */
    bool level_set;       /* -v or -q: the command line wins over log.level */
} dnsd_opts_t;

static void dnsd_usage(FILE *out)
{
    fputs("Usage: dnsd -c FILE [-v | -q]\n"
          "       dnsd -c FILE --check\n"
          "       dnsd [-c FILE] --check-snapshot SNAPSHOT\n"
          "\n"
          "Geo-aware authoritative DNS server for NTP pool zones. Runs in the\n"
          "foreground and logs to stderr (or syslog, log.target); SIGTERM or\n"
          "SIGINT stops it cleanly, SIGHUP reloads. See dnsd(8).\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE   YAML configuration of this node (needed to serve)\n"
          "      --check         load the configuration and build all it names\n"
          "                      (master files, GeoIP database, snapshots); print\n"
          "                      \"FILE: OK\" and exit 0, or the error and exit 1;\n"
          "                      binds no socket\n"
          "      --check-snapshot SNAPSHOT\n"
          "                      validate a snapshot: print every error and exit 1,\n"
          "                      or print counts per zone and family (eligible /\n"
          "                      total) and the top-10 weight share and exit 0;\n"
          "                      scores are judged with the first zone's min_score\n"
          "                      and full_score when -c is given, else 10 and 15\n"
          "  -v, --verbose       log debug lines too\n"
          "  -q, --quiet         log only warnings and errors\n"
          "  -h, --help          show this help and exit\n"
          "  -V, --version       print the version and exit\n"
          "\n"
          "Exit status: 0 success; 1 configuration, data or runtime error;\n"
          "2 bad usage.\n",
          out);
}

/* Returns -1 to go on, or the exit code when the process is done. */
static int dnsd_parse_args(int argc, char **argv, dnsd_opts_t *o)
{
    enum { OPT_CHECK = 256, OPT_CHECK_SNAPSHOT };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, OPT_CHECK},
        {"check-snapshot", required_argument, NULL, OPT_CHECK_SNAPSHOT},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    int c;
    while ((c = getopt_long(argc, argv, "c:vqhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case OPT_CHECK:
            o->check = true;
            break;
        case OPT_CHECK_SNAPSHOT:
            o->snapshot = optarg;
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            o->level_set = true;
            break;
        case 'q':
            log_set_level(LOG_WARNING);
            o->level_set = true;
            break;
        case 'h':
            dnsd_usage(stdout);
            return DNSD_OK;
        case 'V':
            puts("dnsd " DNSD_VERSION);
            return DNSD_OK;
        default:
            fputs("Try 'dnsd --help'.\n", stderr);
            return DNSD_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dnsd: unexpected argument '%s'\nTry 'dnsd --help'.\n",
                argv[optind]);
        return DNSD_USAGE;
    }
    if (!o->config && !o->snapshot) {
        fputs("dnsd: no configuration: use -c FILE\nTry 'dnsd --help'.\n", stderr);
        return DNSD_USAGE;
    }
    if (o->check && o->snapshot) {
        fputs("dnsd: --check and --check-snapshot exclude each other\n", stderr);
        return DNSD_USAGE;
    }
    return -1;
}

/* --check-snapshot: validate and report, nothing else. */
static int dnsd_check_snapshot(const dnsd_opts_t *o)
{
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    char err[CFG_ERR_MAX];
    if (o->config) {
        cfg_t cfg;
        if (cfg_load(&cfg, o->config, err, sizeof(err)) != 0) {
            log_msg(LOG_ERR, "%s", err);
            return DNSD_FAIL;
        }
        params.min_score = cfg.zones[0].min_score;
        params.full_score = cfg.zones[0].full_score;
        cfg_deinit(&cfg);
    }
    zone_errors_t errs;
    zone_snapshot_t *snap = NULL;
    zone_errors_init(&errs);
    int rc = zone_snapshot_load(o->snapshot, &snap, &errs);
    if (rc != 0) {
        zone_errors_print(&errs, stderr);
        fprintf(stderr, "%s: rejected, %zu errors\n", o->snapshot, errs.n + errs.dropped);
    }
    zone_errors_deinit(&errs);
    if (rc != 0)
        return DNSD_FAIL;
    zone_pool_t *pool = zone_pool_new(snap, &params);
    if (!pool) {
        log_msg(LOG_ERR, "%s: out of memory", o->snapshot);
        return DNSD_FAIL;
    }
    zone_pool_report(pool, stdout);
    zone_pool_free(pool);
    return DNSD_OK;
}

static void dnsd_on_signal(uv_signal_t *h, int signum)
{
    log_msg(LOG_INFO, "%s: stopping (draining TCP for up to %d ms)",
            signum == SIGTERM ? "SIGTERM" : "SIGINT", DNSD_DRAIN_MS);
    notify_stopping();
    /* Closing both handles ends the main loop; a second signal during the
     * drain then gets the default action and ends the process at once. */
    uv_signal_t *sigs = h->data;
    uv_close((uv_handle_t *)&sigs[0], NULL);
    uv_close((uv_handle_t *)&sigs[1], NULL);
}

/* "ready: 2 workers on 127.0.0.1:5300, [::1]:5300" */
static void dnsd_log_ready(const cfg_t *cfg, const workers_t *ws)
{
    char addrs[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < cfg->n_listen && used < sizeof(addrs); i++)
        used += (size_t)snprintf(addrs + used, sizeof(addrs) - used, "%s%s",
                                 i ? ", " : "", cfg->listen[i].text);
    size_t n = workers_count(ws);
    log_msg(LOG_INFO, "ready: %zu worker%s on %s", n, n == 1 ? "" : "s", addrs);
    char status[256];
    snprintf(status, sizeof status, "serving %zu zone%s with %zu worker%s", cfg->n_zones,
             cfg->n_zones == 1 ? "" : "s", n, n == 1 ? "" : "s");
    notify_ready(status);
}

static void dnsd_log_stopped(const workers_t *ws)
{
    stat_counters_t t;
    workers_stats(ws, &t);
    log_msg(LOG_INFO,
            "stopped: %llu UDP and %llu TCP queries answered; %llu TCP connections",
            (unsigned long long)t.queries[STAT_UDP],
            (unsigned long long)t.queries[STAT_TCP], (unsigned long long)t.tcp_accepted);
}

/* The query log, when configured: opened before the privilege drop. */
static int dnsd_dnstap(const cfg_t *cfg, workers_t *ws, dnstap_t **dt, char *err,
                       size_t errlen)
{
    if (!cfg->dnstap_path)
        return 0;
    *dt = dnstap_new(cfg, workers_count(ws), err, errlen);
    if (!*dt)
        return -1;
    workers_set_dnstap(ws, *dt);
    return 0;
}

/* Binds the control sockets, opens the query log, drops root (everything
 * privileged is done by then) and starts both kinds of threads. */
static int dnsd_start(const cfg_t *cfg, workers_t *ws, control_t *ctl,
                      const privs_t *privs, dnstap_t **dt)
{
    char err[CFG_ERR_MAX];
    privs_warn_root(privs);
    if (control_listen(ctl, err, sizeof(err)) != 0 ||
        dnsd_dnstap(cfg, ws, dt, err, sizeof(err)) != 0 ||
        privs_drop(privs, cfg, err, sizeof(err)) != 0 ||
        workers_start(ws, err, sizeof(err)) != 0 ||
        control_start(ctl, ws, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "%s", err);
        return DNSD_FAIL;
    }
    dnsd_log_ready(cfg, ws);
    return DNSD_OK;
}

/* Serves until SIGTERM/SIGINT; the data is srv_current. */
static int dnsd_serve(const cfg_t *cfg, control_t *ctl, const privs_t *privs)
{
    char err[CFG_ERR_MAX];
    workers_t *ws = workers_new(cfg, err, sizeof(err));
    if (!ws) {
        log_msg(LOG_ERR, "%s", err);
        return DNSD_FAIL;
    }
    uv_loop_t loop;
    uv_signal_t sigs[2];
    uv_loop_init(&loop);
    uv_signal_init(&loop, &sigs[0]);
    uv_signal_init(&loop, &sigs[1]);
    sigs[0].data = sigs[1].data = sigs;
    uv_signal_start(&sigs[0], dnsd_on_signal, SIGTERM);
    uv_signal_start(&sigs[1], dnsd_on_signal, SIGINT);
    dnstap_t *dt = NULL;
    int rc = dnsd_start(cfg, ws, ctl, privs, &dt);
    if (rc != DNSD_OK) {
        uv_close((uv_handle_t *)&sigs[0], NULL);
        uv_close((uv_handle_t *)&sigs[1], NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    /* No push or reload may start once the drain has: the control thread
     * stops first, while the workers still answer. */
    control_stop(ctl);
    workers_stop(ws, DNSD_DRAIN_MS);
    if (rc == DNSD_OK)
        dnsd_log_stopped(ws);
    workers_set_dnstap(ws, NULL);
    dnstap_free(dt); /* the workers are joined: nothing more is queued */
    workers_free(ws);
    uv_loop_close(&loop);
    return rc;
}

/* Abuse limits (docs/hardening.md): RRL table, cookie secret, TCP limits,
 * part of the data (a reload builds them anew: control_cmd.c). */
static int dnsd_limits(const cfg_t *cfg, srv_data_t *d)
{
    char err[CFG_ERR_MAX];
    srv_limits_t *lim = guard_new(cfg, NULL, err, sizeof err);
    if (!lim || srv_data_set_limits(d, lim) != 0) {
        log_msg(LOG_ERR, "%s", lim ? "guard: out of memory" : err);
        return -1;
    }
    if (lim->cookie_random)
        log_msg(LOG_INFO, "cookies: no cookies.secret configured, using a random one: "
                          "server cookies are valid on this process only");
    if (lim->rrl)
        log_msg(LOG_INFO, "rrl: %u responses/s per /%u (IPv4) and /%u (IPv6), slip %u",
                cfg->rrl_rate, cfg->rrl_ipv4_prefix, cfg->rrl_ipv6_prefix, cfg->rrl_slip);
    return 0;
}

/* Before serving: what a crash or a hand left in state_dir. Temporary files
 * of an interrupted write would fill the disk over many crashes; a refused
 * state file is moved aside so the next push can be stored. */
static void dnsd_state_tidy(const cfg_t *cfg, srv_data_t *d)
{
    char err[CFG_ERR_MAX];
    srv_state_sweep_t sw;
    if (srv_state_sweep(cfg, &sw, err, sizeof err) != 0)
        log_msg(LOG_WARNING, "state_dir: cannot look for stale temporary files: %s", err);
    if (sw.removed)
        log_msg(LOG_WARNING,
                "state_dir: removed %u stale temporary file%s (%llu bytes) left by an "
                "interrupted write: %s",
                sw.removed, sw.removed == 1 ? "" : "s", (unsigned long long)sw.bytes,
                sw.names);
    if (sw.busy)
        log_msg(LOG_WARNING,
                "state_dir: kept %u temporary file%s of another live process (a second "
                "dnsd on this state_dir?): %s",
                sw.busy, sw.busy == 1 ? "" : "s", sw.busy_names);
    if (sw.failed)
        log_msg(LOG_ERR, "state_dir: cannot remove %u stale temporary file%s: %s",
                sw.failed, sw.failed == 1 ? "" : "s", sw.failures);
    srv_data_state_set_aside(cfg, d);
}

/* -c FILE [--check]: load everything, then check or serve. */
static int dnsd_run(const dnsd_opts_t *o)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    if (cfg_load(&cfg, o->config, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "%s", err);
        return DNSD_FAIL;
    }
    int rc = DNSD_FAIL;
    srv_data_t *data = NULL;
    control_t *ctl = NULL;
    privs_t privs;
    if (!o->level_set)
        log_set_level(log_level_of(cfg.log_level));
    if (cfg.log_target == CFG_LOG_SYSLOG && !o->check)
        log_use_syslog();
    if (dnstap_check(&cfg, err, sizeof(err)) != 0 ||
        privs_resolve(&cfg, &privs, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "%s", err);
        goto done;
    }
    ctl = control_new(&cfg, err, sizeof(err));
    if (!ctl) {
        log_msg(LOG_ERR, "%s", err);
        goto done;
    }
    data = srv_data_new(&cfg, err, sizeof(err));
    if (!data) {
        log_msg(LOG_ERR, "%s", err);
        goto done;
    }
    if (!o->check)
        dnsd_state_tidy(&cfg, data);
    srv_data_log(data);
    if (o->check) {
        printf("%s: OK\n", o->config);
        srv_data_free(data);
        rc = DNSD_OK;
        goto done;
    }
    if (dnsd_limits(&cfg, data) != 0) {
        srv_data_free(data);
        goto done;
    }
    srv_current = data; /* no reader exists yet: a plain store is enough */
    signer_t *signer = signer_start(err, sizeof(err));
    if (!signer)
        log_msg(LOG_ERR, "%s", err);
    else
        rc = dnsd_serve(&cfg, ctl, &privs);
    signer_stop(signer);
    srv_data_free(srv_current); /* every worker and the control thread joined */
    srv_current = NULL;
done:
    control_free(ctl);
    cfg_deinit(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    dnsd_opts_t o;
    int rc = dnsd_parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    /* A client that resets a TCP connection must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    /* Until the control thread takes SIGHUP, a reload request must not end
     * the process (the default action). */
    signal(SIGHUP, SIG_IGN);
    if (o.snapshot)
        return dnsd_check_snapshot(&o);
    return dnsd_run(&o);
}
