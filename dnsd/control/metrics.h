/*
 * metrics.h - one table of counter families (name, HELP, type, labels and
 * where the values live) and the two renderers that walk it: the Prometheus
 * text exposition (format 0.0.4) of /metrics and the JSON of dnsdctl STATS.
 * Both outputs show the same families with the same rows, so they cannot
 * drift; the small HTTP/1.x request parser of the /metrics responder lives
 * here too.
 *
 * Pure functions of their input, so they are unit-tested and fuzzed without a
 * socket: control_scrape.c gathers a metrics_snap_t and renders it for the
 * responder (metrics_http.c) and for STATS. Names follow the Prometheus
 * conventions: dnsd_ prefix, _total for counters, units in names
 * (docs/operations.md lists them).
 */
#ifndef DNSD_METRICS_H
#define DNSD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/query/stats.h"
#include "util/strbuf.h"

/* Why a PUSH was refused after its frame was accepted (control_cmd.c). */
typedef enum {
    METRICS_PUSH_PAYLOAD = 0, /* the PUSH payload did not decode */
    METRICS_PUSH_UNKNOWN_ORIGIN,
    METRICS_PUSH_INVALID,     /* the snapshot failed validation */
    METRICS_PUSH_STALE,       /* serial not newer than the served one */
    METRICS_PUSH_STATE_WRITE, /* state_dir write failed */
    METRICS_PUSH_NOMEM,
    METRICS_PUSH_REASONS
} metrics_push_reason_t;

/* Label values of metrics_push_reason_t, e.g. "serial_not_newer". */
const char *metrics_push_reason_name(metrics_push_reason_t r);

/*
 * The push-duration histogram: METRICS_PUSH_BUCKETS upper bounds in seconds,
 * from 1 ms (a push refused at its first check) to 30 s (three times
 * dnsdctl's default timeout; 10 s, the timeout itself, is a bound too). A
 * 5,000-server push takes about 40 ms (docs/operations.md "Cost of a push").
 */
#define METRICS_PUSH_BUCKETS 14

/* Observations per bucket (not cumulative: the renderers sum them), the
 * last one for those over every bound, and the sum of the observations. */
typedef struct metrics_hist {
    uint64_t bucket[METRICS_PUSH_BUCKETS + 1];
    double sum; /* seconds */
} metrics_hist_t;

/* Adds one observation of `seconds` to h (le: the first bound >= seconds). */
void metrics_hist_observe(metrics_hist_t *h, double seconds);

typedef struct metrics_origin {
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
} metrics_origin_t;

typedef struct metrics_label_count {
    const char *label;
    uint64_t value;
} metrics_label_count_t;

struct demand;
struct xdp_qstats;

/* Everything one scrape or STATS shows. Pointers are borrowed for the
 * render call. */
typedef struct metrics_snap {
    const char *version;
    size_t workers;
    double start_time;       /* Unix time, seconds */
    double last_reload_time; /* Unix time of the last load (start-up counts) */
    bool last_reload_ok;
    const stat_counters_t *st;       /* the workers' counters, summed */
    const metrics_origin_t *origins; /* the served origins, in index order */
    size_t n_origins;
    uint64_t ctl_conns_unix, ctl_conns_tcp, ctl_conns_refused;
    const metrics_label_count_t *ctl_limits; /* control connection limits by event */
    size_t n_ctl_limits;
    uint64_t ctl_requests[4];                    /* push, status, reload, stats */
    const metrics_label_count_t *frames_refused; /* protocol refusals by reason */
    size_t n_frames_refused;
    uint64_t push_ok;
    uint64_t push_refused[METRICS_PUSH_REASONS];
    metrics_hist_t push_duration[2]; /* frame to reply, by result: accepted, refused */
    double last_push_ms[4];          /* the last accepted push: parse, build, ... */
    uint64_t reload_ok, reload_failed;
    uint64_t geoip_refused;      /* reloads refused because of the GeoIP database */
    uint64_t http_requests[5];   /* by status: 200, 400, 404, 405, other */
    uint64_t state_temp_removed; /* stale temporary files removed from state_dir */
    uint64_t http_conns[3];      /* accepted, evicted (for a newcomer), refused */
    uint64_t dnssec_signatures;  /* RRSIGs made since start */
    const struct demand *bal;    /* balancing (demand_ctl.c's families); may be NULL */
    /* The AF_XDP listener, when one runs (metrics_xdp.c's families). */
    const char *xdp_interface, *xdp_mode;
    const struct xdp_qstats *xdp_queues;
    size_t n_xdp_queues;
} metrics_snap_t;

/* ------------------------------------------------------------------------ */
/* The family table                                                         */
/* ------------------------------------------------------------------------ */

#define METRICS_LABELS_MAX 4
#define METRICS_AT_MAX 3

typedef enum {
    METRICS_COUNTER = 0,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
    /* Not on /metrics: a STATS key kept for readers of its older shape,
     * derived from the same counters as a family that is (docs/operations.md
     * "STATS"). Its rows always say where they go (metrics_row_t.at). */
    METRICS_STATS_ONLY,
} metrics_type_t;

/* One sample (one series) of a family. */
typedef struct metrics_row {
    const char *label[METRICS_LABELS_MAX]; /* values of the family's labels */
    uint64_t n;                            /* the value of an integer family */
    double x;                              /* ... of a family with a format */
    const metrics_hist_t *hist;            /* ... of a histogram */
    /* Where STATS shows it, when not at the family's home and then its label
     * values: the object path and key, e.g. {"rcodes", "RCODE6"}. */
    const char *at[METRICS_AT_MAX];
} metrics_row_t;

typedef struct metrics_sink metrics_sink_t;
struct metrics_family;

/* Hands one row to the renderer walking the table. */
void metrics_emit(metrics_sink_t *k, const metrics_row_t *r);

typedef void metrics_rows_fn(const metrics_snap_t *s, const struct metrics_family *f,
                             metrics_sink_t *k);

typedef struct metrics_family {
    const char *name; /* the Prometheus family: "dnsd_queries_total" */
    const char *help; /* NULL: the HELP of its rows in stat_descs (stats.h) */
    metrics_type_t type;
    const char *labels[METRICS_LABELS_MAX]; /* label names, in order */
    /* Its home in STATS: a dotted object path ("control.requests") under which
     * the rows nest by label value; NULL: the name without "dnsd_". */
    const char *stats;
    const char *fmt; /* printf format of a row's x; NULL: the row's n */
    metrics_rows_fn *rows;
    size_t off; /* where the value lives, for rows that read one field of the
                 * snapshot: offsetof(metrics_snap_t, ...) */
    bool (*shown)(const metrics_snap_t *s); /* NULL: always */
} metrics_family_t;

typedef struct metrics_table {
    const metrics_family_t *fam;
    size_t n;
} metrics_table_t;

/* The families of metrics_table.c: the workers' counters, the control
 * channel, the served zones, DNSSEC, the state directory and the process. */
extern const metrics_table_t metrics_core;

/* The AF_XDP listener's families, shown while one runs (metrics_xdp.c, in
 * dnsd_control: it reads dnsd/io's queue counters). */
extern const metrics_table_t metrics_xdp;

/* Renders the tables' families as Prometheus text into a malloc'd buffer
 * (*out, *len; NUL-terminated). 0, or -1 when out of memory. */
int metrics_render(const metrics_table_t *const *t, size_t nt, const metrics_snap_t *s,
                   char **out, size_t *len);

/* Appends the same families as one JSON object (the STATS reply) to b. */
void metrics_render_json(const metrics_table_t *const *t, size_t nt,
                         const metrics_snap_t *s, strbuf_t *b);

/* ------------------------------------------------------------------------ */
/* The /metrics request                                                     */
/* ------------------------------------------------------------------------ */

/* What a request asks for, once its head is complete. */
typedef enum {
    METRICS_REQ_MORE = 0,    /* head incomplete: read more */
    METRICS_REQ_METRICS,     /* GET or HEAD /metrics: 200 */
    METRICS_REQ_NOT_FOUND,   /* another path: 404 */
    METRICS_REQ_BAD_METHOD,  /* a method other than GET and HEAD: 405 */
    METRICS_REQ_BAD_REQUEST, /* malformed: 400 */
    METRICS_REQ_TOO_LARGE,   /* head over the limit: 431 */
    METRICS_REQ_BAD_VERSION, /* not HTTP/1.0 or 1.1: 505 */
} metrics_req_t;

typedef struct metrics_request {
    metrics_req_t result;
    bool head; /* HEAD: headers only */
} metrics_request_t;

/*
 * Parses the request head buf[0..len): the request line and header lines up
 * to the empty line (CRLF or bare LF). A head longer than `max` bytes is
 * TOO_LARGE; bytes after the head (a body) are ignored.
 */
void metrics_req_parse(const uint8_t *buf, size_t len, size_t max,
                       metrics_request_t *req);

/* The status code of a result (200, 404, 405, 400, 431, 505). */
int metrics_req_status(metrics_req_t r);

/* Writes the response head for `r` with a body of body_len bytes (Connection:
 * close) into hdr; returns its length, or 0 when cap is too small. The body
 * of an error is its reason phrase plus a newline (metrics_req_error_body). */
size_t metrics_req_head(metrics_req_t r, size_t body_len, char *hdr, size_t cap);
const char *metrics_req_error_body(metrics_req_t r);

#endif
