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

#include "dnsd/control/control.h"
#include "ctl/ctl.h"
#include "dnsd/control/metrics.h"

/* Protocol refusal codes counted: -CTL_ERR_MAGIC (1) .. -CTL_ERR_BUSY (17). */
#define CONTROL_REFUSALS_MAX 17

/* Frame buffers of all control connections together: two frames at the cap
 * (two pushes at once, not a thousand trickles) and the small buffers idle
 * connections keep between frames. */
#define CONTROL_BUFFER_MAX                                                               \
    (2 * ((size_t)CTL_MAX_PAYLOAD_DEFAULT + CTL_MAC_LEN) + (4u << 20))

/* Connections closed, refused or slowed by the control channel's limits. */
typedef enum {
    CONTROL_LIM_IDLE,        /* idle between frames past control.idle_timeout */
    CONTROL_LIM_DEADLINE,    /* a frame not complete by its deadline */
    CONTROL_LIM_SLOW_READER, /* replies left unread past control.idle_timeout */
    CONTROL_LIM_READ_PAUSED, /* reading stopped while replies were queued */
    CONTROL_LIM_UNIX_FULL,   /* unix connection refused: its budget is full */
    CONTROL_LIM_TCP_FULL,    /* TCP connection refused: every slot authenticated */
    CONTROL_LIM_TCP_EVICTED, /* unauthenticated TCP connection closed for a newcomer */
    CONTROL_LIMITS
} control_limit_t;

/* "idle_closed", "frame_deadline", ...: STATS keys and metric labels. */
extern const char *const control_limit_names[CONTROL_LIMITS];

/* Control counters: only the control thread writes and reads them. */
typedef struct control_stats {
    uint64_t conns_unix, conns_tcp;
    uint64_t conns_refused; /* over a connection budget */
    uint64_t limits[CONTROL_LIMITS];
    uint64_t requests[CTL_T_LAST_REQUEST + 1]; /* by request type */
    uint64_t errors[CONTROL_REFUSALS_MAX + 1]; /* protocol refusals by -CTL_ERR_* */
    uint64_t push_ok, push_refused;
    uint64_t push_refused_by[METRICS_PUSH_REASONS];
    uint64_t reload_ok, reload_failed;
    uint64_t geoip_refused; /* reloads failed on the GeoIP database */
    /* The last accepted push, in ms: parse + validate, build the pool, store
     * the state file (fsync), publish (pointer swap + grace period + free). */
    double last_push_ms[4];
    /* Every push, from its complete frame to its reply (queued): [0]
     * accepted, [1] refused. */
    metrics_hist_t push_time[2];
} control_stats_t;

struct control {
    const cfg_t *boot; /* main's: what the sockets and threads were made from */
    const cfg_t *cfg;  /* in force: boot, or cfg_own after a reload */
    cfg_t cfg_own;
    bool own;
    ctl_key_t key;
    bool have_key;
    workers_t *ws;

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

    struct control_sess *sessions; /* open connections, newest first */
    unsigned n_sessions;
    unsigned n_unix, n_tcp; /* not closing: what the budgets count */
    ctl_budget_t budget;    /* frame buffers of every connection together */
    uint8_t rbuf[65536];    /* one read buffer: reads are consumed at once */

    uint64_t started_ns; /* uv_hrtime() at new */
    struct {
        time_t time;
        char trigger[16]; /* "start", "SIGHUP", "RELOAD" */
        /* "ok", "ok; X changed: restart needed", "error: ..." */
        char result[CFG_ERR_MAX + 160];
    } last_reload;
    control_stats_t st;
    struct metrics_http *metrics; /* the /metrics responder, or NULL */
    struct demand *bal;           /* demand-aware balancing (demand.h) */
};

/* A reply to send: JSON text (malloc'd; taken over). */
typedef struct control_reply {
    uint8_t type; /* CTL_T_OK or CTL_T_ERR */
    char *json;
    metrics_push_reason_t refusal; /* why a PUSH got CTL_T_ERR, for the metrics */
} control_reply_t;

/* An error reply {"error": error, "details": [detail]} (control_cmd.c);
 * detail may be NULL. Also used by the balancing replies (demand_ctl.c). */
void control_reply_err(control_reply_t *out, const char *error, const char *detail);

/* Handles one verified request frame; never fails to produce a reply (an
 * out-of-memory reply has json NULL and is sent as a fixed text). */
void control_request(control_t *c, const ctl_frame_t *f, control_reply_t *out);

/* control_sess.c: accepts a connection on the unix or TCP listener (within
 * its budget), and closes every one at stop. */
void control_on_connection(uv_stream_t *server, int status);
void control_close_sessions(control_t *c);

/* Time spent in a request or reload (the loop stood still) is nobody's idle
 * time: every connection's deadline moves by what passed since `since`
 * (loop ms before the work); the loop's clock is brought up to date. */
void control_stalled(control_t *c, uint64_t since);

/* Reloads config, master files and GeoIP DB, all or nothing; records
 * last_reload and logs. `trigger` is "SIGHUP" or "RELOAD". */
int control_reload(control_t *c, const char *trigger);

/* control_scrape.c: the /metrics page (a metrics_http_render_fn, arg the
 * control_t), and the STATS reply's JSON (malloc'd; NULL when out of
 * memory): the same families from one snapshot of the counters. */
char *control_scrape(void *arg, const uint64_t requests[5], const uint64_t conns[3],
                     size_t *len);
char *control_scrape_stats(control_t *c);

#endif
