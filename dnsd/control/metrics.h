/*
 * metrics.h - Prometheus text exposition (format 0.0.4) of a node's counters,
 * and the small HTTP/1.x request parser of the /metrics responder.
 *
 * Pure functions of their input, so they are unit-tested and fuzzed without a
 * socket: metrics_http.c (the responder on the control thread's loop) gathers
 * a met_snap_t and sends what these produce. Names follow the Prometheus
 * conventions: dnsd_ prefix, _total for counters, units in names
 * (docs/operations.md lists them).
 */
#ifndef DNSD_METRICS_H
#define DNSD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/query/stats.h"

/* Why a PUSH was refused after its frame was accepted (control_cmd.c). */
typedef enum {
    MET_PUSH_PAYLOAD = 0, /* the PUSH payload did not decode */
    MET_PUSH_UNKNOWN_ORIGIN,
    MET_PUSH_INVALID,     /* the snapshot failed validation */
    MET_PUSH_STALE,       /* serial not newer than the served one */
    MET_PUSH_STATE_WRITE, /* state_dir write failed */
    MET_PUSH_NOMEM,
    MET_PUSH_REASONS
} met_push_reason_t;

/* Label values of met_push_reason_t, e.g. "serial_not_newer". */
const char *met_push_reason_name(met_push_reason_t r);

/*
 * The push-duration histogram: MET_PUSH_BUCKETS upper bounds in seconds, from
 * 1 ms (a push refused at its first check) to 30 s (three times dnsdctl's
 * default timeout; 10 s, the timeout itself, is a bound too). A 5,000-server
 * push takes about 40 ms (docs/operations.md "Cost of a push").
 */
#define MET_PUSH_BUCKETS 14

/* Observations per bucket (not cumulative: the renderer sums them), the
 * last one for those over every bound, and the sum of the observations. */
typedef struct met_hist {
    uint64_t bucket[MET_PUSH_BUCKETS + 1];
    double sum; /* seconds */
} met_hist_t;

/* Adds one observation of `seconds` to h (le: the first bound >= seconds). */
void met_hist_observe(met_hist_t *h, double seconds);

typedef struct met_origin {
    const char *name;       /* "pool.ntp.org" */
    bool has_pool;          /* a snapshot is served */
    uint64_t serial;        /* its serial when has_pool */
    double snapshot_time;   /* Unix time this node accepted it, when has_pool */
    unsigned servers[2][2]; /* [0 = IPv4, 1 = IPv6][0 = all, 1 = eligible] */
    unsigned nts[3];        /* NTS-capable servers: all, eligible; NTS-KE endpoints */
    uint64_t state_errors;  /* state files refused or unreadable at loads */
    bool dnssec;            /* signed (docs/dnssec.md) */
    double sig_expiry_s;    /* seconds until its earliest signature expires */
    size_t sig_set_bytes;   /* memory of its signed pool answer sets */
} met_origin_t;

typedef struct met_label_count {
    const char *label;
    uint64_t value;
} met_label_count_t;

/* Everything one scrape shows. Pointers are borrowed for the render call. */
typedef struct met_snap {
    const char *version;
    size_t workers;
    double start_time;       /* Unix time, seconds */
    double last_reload_time; /* Unix time of the last load (start-up counts) */
    bool last_reload_ok;
    const srv_stats_t *st;       /* the workers' counters, summed */
    const met_origin_t *origins; /* the served origins, in index order */
    size_t n_origins;
    uint64_t ctl_conns_unix, ctl_conns_tcp, ctl_conns_refused;
    const met_label_count_t *ctl_limits; /* control connection limits by event */
    size_t n_ctl_limits;
    uint64_t ctl_requests[4];                /* push, status, reload, stats */
    const met_label_count_t *frames_refused; /* protocol refusals by reason */
    size_t n_frames_refused;
    uint64_t push_ok;
    uint64_t push_refused[MET_PUSH_REASONS];
    met_hist_t push_duration[2]; /* frame to reply, by result: accepted, refused */
    uint64_t reload_ok, reload_failed;
    uint64_t geoip_refused;      /* reloads refused because of the GeoIP database */
    uint64_t http_requests[5];   /* by status: 200, 400, 404, 405, other */
    uint64_t state_temp_removed; /* stale temporary files removed from state_dir */
    uint64_t http_conns[3];      /* accepted, evicted (for a newcomer), refused */
    uint64_t dnssec_signatures;  /* RRSIGs made since start */
} met_snap_t;

/* Renders `s` as Prometheus text into a malloc'd buffer (*out, *len; NUL-
 * terminated). 0, or -1 when out of memory. */
int met_render(const met_snap_t *s, char **out, size_t *len);

/* What a request asks for, once its head is complete. */
typedef enum {
    MET_HTTP_MORE = 0,    /* head incomplete: read more */
    MET_HTTP_METRICS,     /* GET or HEAD /metrics: 200 */
    MET_HTTP_NOT_FOUND,   /* another path: 404 */
    MET_HTTP_BAD_METHOD,  /* a method other than GET and HEAD: 405 */
    MET_HTTP_BAD_REQUEST, /* malformed: 400 */
    MET_HTTP_TOO_LARGE,   /* head over the limit: 431 */
    MET_HTTP_BAD_VERSION, /* not HTTP/1.0 or 1.1: 505 */
} met_http_t;

typedef struct met_http_req {
    met_http_t result;
    bool head; /* HEAD: headers only */
} met_http_req_t;

/*
 * Parses the request head buf[0..len): the request line and header lines up
 * to the empty line (CRLF or bare LF). A head longer than `max` bytes is
 * TOO_LARGE; bytes after the head (a body) are ignored.
 */
void met_http_parse(const uint8_t *buf, size_t len, size_t max, met_http_req_t *req);

/* The status code of a result (200, 404, 405, 400, 431, 505). */
int met_http_status(met_http_t r);

/* Writes the response head for `r` with a body of body_len bytes (Connection:
 * close) into hdr; returns its length, or 0 when cap is too small. The body
 * of an error is its reason phrase plus a newline (met_http_error_body). */
size_t met_http_head(met_http_t r, size_t body_len, char *hdr, size_t cap);
const char *met_http_error_body(met_http_t r);

#endif
