/*
 * control_int.h - what control.c (thread, sockets, connections) and
 * control_cmd.c (the requests and reloads) share. Private to dnsd/.
 */
#ifndef DNSD_CONTROL_INT_H
#define DNSD_CONTROL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "control.h"
#include "ctl.h"
#include "metrics.h"

/* Protocol refusal codes counted: -CTL_ERR_MAGIC (1) .. -CTL_ERR_CONNECT (16). */
#define SRV_CTL_REFUSALS_MAX 16

/* Control counters: only the control thread writes and reads them. */
typedef struct srv_ctl_stats {
    uint64_t conns_unix, conns_tcp;
    uint64_t conns_refused;                    /* over SRV_CTL_MAX_CONNS */
    uint64_t idle_closed;                      /* idle between frames past the timeout */
    uint64_t requests[CTL_T_STATS + 1];        /* by request type */
    uint64_t errors[SRV_CTL_REFUSALS_MAX + 1]; /* protocol refusals by -CTL_ERR_* */
    uint64_t push_ok, push_refused;
    uint64_t push_refused_by[MET_PUSH_REASONS];
    uint64_t reload_ok, reload_failed;
    uint64_t geoip_refused; /* reloads failed on the GeoIP database */
    /* The last accepted push, in ms: parse + validate, build the pool, store
     * the state file (fsync), publish (pointer swap + grace period + free). */
    double last_push_ms[4];
} srv_ctl_stats_t;

struct srv_control {
    const cfg_t *boot; /* main's: what the sockets and threads were made from */
    const cfg_t *cfg;  /* in force: boot, or cfg_own after a reload */
    cfg_t cfg_own;
    bool own;
    ctl_key_t key;
    bool have_key;
    srv_workers_t *ws;

    uv_loop_t loop;
    bool loop_ok;
    uv_async_t stop;
    uv_signal_t hup;
    uv_pipe_t unix_h;
    uv_tcp_t tcp_h;
    bool unix_ok, tcp_ok; /* handle initialised */
    char *unix_path;      /* the socket file we created, removed at free */
    pthread_t thread;
    bool running, stopped;

    struct srv_sess *sessions; /* open connections, for stop */
    unsigned n_sessions;

    uint64_t started_ns; /* uv_hrtime() at new */
    struct {
        time_t time;
        char trigger[16]; /* "start", "SIGHUP", "RELOAD" */
        /* "ok", "ok; X changed: restart needed", "error: ..." */
        char result[CFG_ERR_MAX + 160];
    } last_reload;
    srv_ctl_stats_t st;
    struct srv_metrics *metrics; /* the /metrics responder, or NULL */
};

/* Protocol refusals as STATS and /metrics report them: named after
 * ctl_strerror ("bad MAC" -> "bad_mac"); the protocol's own (1..8) always, so a
 * monitor sees zeros rather than absent keys, the others once they happened. */
typedef struct srv_ctl_refusal {
    char name[32];
    uint64_t count;
} srv_ctl_refusal_t;

/* Fills out[] in code order; returns how many. */
size_t srv_ctl_refusals(const srv_ctl_stats_t *st,
                        srv_ctl_refusal_t out[SRV_CTL_REFUSALS_MAX]);

/* A reply to send: JSON text (malloc'd; taken over). */
typedef struct srv_ctl_reply {
    uint8_t type; /* CTL_T_OK or CTL_T_ERR */
    char *json;
    met_push_reason_t refusal; /* why a PUSH got CTL_T_ERR, for the metrics */
} srv_ctl_reply_t;

/* Handles one verified request frame; never fails to produce a reply (an
 * out-of-memory reply has json NULL and is sent as a fixed text). */
void srv_ctl_request(srv_control_t *c, const ctl_frame_t *f, srv_ctl_reply_t *out);

/* Reloads config, master files and GeoIP DB, all or nothing; records
 * last_reload and logs. `trigger` is "SIGHUP" or "RELOAD". */
int srv_ctl_reload(srv_control_t *c, const char *trigger);

#endif
