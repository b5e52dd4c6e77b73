/*
 * metrics.c - Prometheus text format 0.0.4 and the /metrics request parser
 * (see metrics.h). Off the query path: allocation is fine here.
 */
#include "dnsd/control/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "zones/zones.h"

/* A label value with \, " and newline escaped (exposition format). */
static void met_add_label(strbuf_t *b, const char *v)
{
    char tmp[512];
    size_t n = 0;
    for (; *v && n < sizeof tmp - 3; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            tmp[n++] = '\\';
            tmp[n++] = *v == '\n' ? 'n' : *v;
        } else {
            tmp[n++] = *v;
        }
    }
    tmp[n] = '\0';
    strbuf_printf(b, "\"%s\"", tmp);
}

static void met_family(strbuf_t *b, const char *name, const char *type, const char *help)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{key="value"} N */
static void met_one(strbuf_t *b, const char *name, const char *key, const char *value,
                    uint64_t n)
{
    strbuf_printf(b, "%s{%s=", name, key);
    met_add_label(b, value);
    strbuf_printf(b, "} %llu\n", (unsigned long long)n);
}

static const char *const met_push_names[MET_PUSH_REASONS] = {
    "payload",          "unknown_origin",  "invalid_snapshot",
    "serial_not_newer", "state_dir_write", "out_of_memory"};

const char *met_push_reason_name(met_push_reason_t r)
{
    return (unsigned)r < MET_PUSH_REASONS ? met_push_names[r] : "other";
}

static const double met_push_bounds[MET_PUSH_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

void met_hist_observe(met_hist_t *h, double seconds)
{
    int i = 0;
    while (i < MET_PUSH_BUCKETS && seconds > met_push_bounds[i])
        i++;
    h->bucket[i]++;
    h->sum += seconds > 0 ? seconds : 0;
}

/* Every family of the counter table (stats.h), each with all its rows. */
static void met_counters(strbuf_t *b, const srv_stats_t *st)
{
    for (size_t i = 0; i < stat_n_descs; i++) {
        const stat_desc_t *d = &stat_descs[i];
        bool first = d->metric != NULL;
        for (size_t k = 0; first && k < i; k++)
            first = !stat_descs[k].metric || strcmp(stat_descs[k].metric, d->metric) != 0;
        if (!first)
            continue;
        met_family(b, d->metric, "counter", d->help);
        for (size_t k = i; k < stat_n_descs; k++) {
            const stat_desc_t *e = &stat_descs[k];
            uint64_t v = stat_value(st, e);
            if (!e->metric || strcmp(e->metric, d->metric) != 0 || (e->sparse && !v))
                continue;
            if (e->label)
                met_one(b, e->metric, e->label, e->value, v);
            else
                strbuf_printf(b, "%s %llu\n", e->metric, (unsigned long long)v);
        }
    }
}

/* Queries by served zone: the labels are the data's origins. */
static void met_queries(strbuf_t *b, const met_snap_t *s)
{
    const srv_stats_t *st = s->st;
    met_family(b, "dnsd_queries_by_zone_total", "counter",
               "Queries by served zone; \"none\" for names outside every zone.");
    for (size_t i = 0; i < s->n_origins && i < STAT_ORIGINS - 1; i++)
        met_one(b, "dnsd_queries_by_zone_total", "zone", s->origins[i].name,
                st->by_origin[i]);
    met_one(b, "dnsd_queries_by_zone_total", "zone", "none",
            st->by_origin[STAT_ORIGINS - 1]);
}

static void met_pool(strbuf_t *b, const met_snap_t *s)
{
    const srv_stats_t *st = s->st;
    met_family(
        b, "dnsd_pool_answers_total", "counter",
        "Pool A/AAAA answers by zone chosen and whether a later zone topped it up.");
    for (int id = 0; id < zone_id_count() && id < ZONE_ID_MAX; id++)
        for (int bf = 0; bf < 2; bf++)
            if (st->pool_by_zone[id][bf] || id == ZONE_GLOBAL) {
                strbuf_printf(b, "dnsd_pool_answers_total{zone=");
                met_add_label(b, zone_id_name(id));
                strbuf_printf(b, ",backfill=\"%s\"} %llu\n", bf ? "true" : "false",
                              (unsigned long long)st->pool_by_zone[id][bf]);
            }
}

/* Derived from two counters of the table. */
static void met_packets(strbuf_t *b, const met_snap_t *s)
{
    const srv_stats_t *st = s->st;
    met_family(b, "dnsd_tcp_connections_open", "gauge", "DNS TCP connections open now.");
    strbuf_printf(b, "dnsd_tcp_connections_open %llu\n",
                  (unsigned long long)(st->tcp_accepted > st->tcp_closed
                                           ? st->tcp_accepted - st->tcp_closed
                                           : 0));
}

static void met_control(strbuf_t *b, const met_snap_t *s)
{
    static const char *const req[4] = {"push", "status", "reload", "stats"};
    met_family(b, "dnsd_control_connections_total", "counter",
               "Control connections accepted by socket, and refused over the cap.");
    met_one(b, "dnsd_control_connections_total", "socket", "unix", s->ctl_conns_unix);
    met_one(b, "dnsd_control_connections_total", "socket", "tcp", s->ctl_conns_tcp);
    met_one(b, "dnsd_control_connections_total", "socket", "refused",
            s->ctl_conns_refused);
    met_family(b, "dnsd_control_limits_total", "counter",
               "Control connections closed, refused or paused by a limit, by event.");
    for (size_t i = 0; i < s->n_ctl_limits; i++)
        met_one(b, "dnsd_control_limits_total", "event", s->ctl_limits[i].label,
                s->ctl_limits[i].value);
    met_family(b, "dnsd_control_requests_total", "counter", "Control requests by type.");
    for (int i = 0; i < 4; i++)
        met_one(b, "dnsd_control_requests_total", "type", req[i], s->ctl_requests[i]);
    met_family(
        b, "dnsd_control_frames_refused_total", "counter",
        "Control frames refused by the protocol (bad MAC, replay, ...), by reason.");
    for (size_t i = 0; i < s->n_frames_refused; i++)
        met_one(b, "dnsd_control_frames_refused_total", "reason",
                s->frames_refused[i].label, s->frames_refused[i].value);
    met_family(b, "dnsd_control_pushes_total", "counter",
               "Snapshot pushes by result: accepted, or the reason they were refused.");
    met_one(b, "dnsd_control_pushes_total", "result", "accepted", s->push_ok);
    for (int i = 0; i < MET_PUSH_REASONS; i++)
        met_one(b, "dnsd_control_pushes_total", "result", met_push_names[i],
                s->push_refused[i]);
    met_family(b, "dnsd_reloads_total", "counter", "Reloads (SIGHUP, RELOAD) by result.");
    met_one(b, "dnsd_reloads_total", "result", "ok", s->reload_ok);
    met_one(b, "dnsd_reloads_total", "result", "failed", s->reload_failed);
    met_family(b, "dnsd_geoip_reloads_refused_total", "counter",
               "Reloads refused because the GeoIP database could not be used; the "
               "running one stays.");
    strbuf_printf(b, "dnsd_geoip_reloads_refused_total %llu\n",
                  (unsigned long long)s->geoip_refused);
    met_family(b, "dnsd_last_reload_timestamp_seconds", "gauge",
               "Unix time of the last load of the configuration (start-up or reload).");
    strbuf_printf(b, "dnsd_last_reload_timestamp_seconds %.3f\n", s->last_reload_time);
    met_family(b, "dnsd_last_reload_success", "gauge", "1 if the last load succeeded.");
    strbuf_printf(b, "dnsd_last_reload_success %d\n", s->last_reload_ok ? 1 : 0);
}

/* NTS-capable servers (snapshot key "nts") and the NTS-KE endpoints that
 * SRV answers at _ntske._tcp names draw from, by zone (origin). */
static void met_nts_zones(strbuf_t *b, const met_snap_t *s)
{
    met_family(b, "dnsd_zone_nts_servers", "gauge",
               "Servers with an NTS-KE endpoint in the served snapshot, by zone and "
               "state (all, eligible).");
    for (size_t i = 0; i < s->n_origins; i++)
        for (int e = 0; e < 2; e++) {
            strbuf_printf(b, "dnsd_zone_nts_servers{zone=");
            met_add_label(b, s->origins[i].name);
            strbuf_printf(b, ",state=\"%s\"} %u\n", e ? "eligible" : "all",
                          s->origins[i].nts[e]);
        }
    met_family(b, "dnsd_zone_nts_endpoints", "gauge",
               "Distinct NTS-KE endpoints (host, port) with an eligible server: SRV "
               "targets, by zone.");
    for (size_t i = 0; i < s->n_origins; i++)
        met_one(b, "dnsd_zone_nts_endpoints", "zone", s->origins[i].name,
                s->origins[i].nts[2]);
}

/* name_bucket{result,le} cumulative, name_sum, name_count (= the +Inf bucket,
 * as the exposition format requires). */
static void met_histogram(strbuf_t *b, const char *name, const char *result,
                          const met_hist_t *h)
{
    uint64_t n = 0;
    for (int i = 0; i <= MET_PUSH_BUCKETS; i++) {
        n += h->bucket[i];
        strbuf_printf(b, "%s_bucket{result=\"%s\",le=", name, result);
        if (i < MET_PUSH_BUCKETS)
            strbuf_printf(b, "\"%g\"} %llu\n", met_push_bounds[i], (unsigned long long)n);
        else
            strbuf_printf(b, "\"+Inf\"} %llu\n", (unsigned long long)n);
    }
    strbuf_printf(b, "%s_sum{result=\"%s\"} %.6f\n", name, result, h->sum);
    strbuf_printf(b, "%s_count{result=\"%s\"} %llu\n", name, result,
                  (unsigned long long)n);
}

/* How long pushes take, and how old the snapshots they brought are. */
static void met_push_times(strbuf_t *b, const met_snap_t *s)
{
    met_family(b, "dnsd_control_push_duration_seconds", "histogram",
               "Time from a complete PUSH frame to its reply, by result (accepted, "
               "refused).");
    met_histogram(b, "dnsd_control_push_duration_seconds", "accepted",
                  &s->push_duration[0]);
    met_histogram(b, "dnsd_control_push_duration_seconds", "refused",
                  &s->push_duration[1]);
    met_family(b, "dnsd_zone_snapshot_timestamp_seconds", "gauge",
               "Unix time this node accepted the served snapshot, by zone: the push, or "
               "the modification time of the file it was loaded from.");
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].has_pool) {
            strbuf_printf(b, "dnsd_zone_snapshot_timestamp_seconds{zone=");
            met_add_label(b, s->origins[i].name);
            strbuf_printf(b, "} %.3f\n", s->origins[i].snapshot_time);
        }
}

static void met_zones(strbuf_t *b, const met_snap_t *s)
{
    static const char *const fam[2] = {"ipv4", "ipv6"};
    met_family(b, "dnsd_zone_serial", "gauge", "Serial of the served snapshot, by zone.");
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].has_pool)
            met_one(b, "dnsd_zone_serial", "zone", s->origins[i].name,
                    s->origins[i].serial);
    met_family(
        b, "dnsd_zone_servers", "gauge",
        "Servers in the served snapshot by zone, family and state (all, eligible).");
    for (size_t i = 0; i < s->n_origins; i++)
        for (int f = 0; f < 2; f++)
            for (int e = 0; e < 2; e++) {
                strbuf_printf(b, "dnsd_zone_servers{zone=");
                met_add_label(b, s->origins[i].name);
                strbuf_printf(b, ",family=\"%s\",state=\"%s\"} %u\n", fam[f],
                              e ? "eligible" : "all", s->origins[i].servers[f][e]);
            }
    met_nts_zones(b, s);
}

/* DNSSEC: alert rules watch the expiry gauge (re-signing stalled) and the
 * counter's rate (the signer thread alive). */
static void met_dnssec(strbuf_t *b, const met_snap_t *s)
{
    met_family(b, "dnsd_dnssec_signatures_total", "counter",
               "RRSIGs made since start (static data, pool answer sets, online NSEC).");
    strbuf_printf(b, "dnsd_dnssec_signatures_total %llu\n",
                  (unsigned long long)s->dnssec_signatures);
    met_family(b, "dnsd_dnssec_signature_expiry_seconds", "gauge",
               "Seconds until the earliest signature served for the origin expires.");
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].dnssec) {
            strbuf_printf(b, "dnsd_dnssec_signature_expiry_seconds{zone=");
            met_add_label(b, s->origins[i].name);
            strbuf_printf(b, "} %.0f\n", s->origins[i].sig_expiry_s);
        }
    met_family(b, "dnsd_dnssec_answer_set_bytes", "gauge",
               "Memory of the signed pool answer sets, by origin.");
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].dnssec) {
            strbuf_printf(b, "dnsd_dnssec_answer_set_bytes{zone=");
            met_add_label(b, s->origins[i].name);
            strbuf_printf(b, "} %zu\n", s->origins[i].sig_set_bytes);
        }
}

/* The state directory: what a load could not use, what a crash left there. */
static void met_state(strbuf_t *b, const met_snap_t *s)
{
    met_family(
        b, "dnsd_state_load_errors_total", "counter",
        "State files refused (corrupt, not a file) or unreadable at a load, by zone.");
    for (size_t i = 0; i < s->n_origins; i++)
        met_one(b, "dnsd_state_load_errors_total", "zone", s->origins[i].name,
                s->origins[i].state_errors);
    met_family(b, "dnsd_state_temp_files_removed_total", "counter",
               "Temporary files of interrupted state writes removed at start-up.");
    strbuf_printf(b, "dnsd_state_temp_files_removed_total %llu\n",
                  (unsigned long long)s->state_temp_removed);
}

static void met_process(strbuf_t *b, const met_snap_t *s)
{
    static const char *const code[5] = {"200", "400", "404", "405", "other"};
    static const char *const conn[3] = {"accepted", "evicted", "refused"};
    met_family(b, "dnsd_build_info", "gauge", "Always 1; the version as a label.");
    met_one(b, "dnsd_build_info", "version", s->version, 1);
    met_family(b, "dnsd_workers", "gauge", "Worker threads answering queries.");
    strbuf_printf(b, "dnsd_workers %zu\n", s->workers);
    met_family(b, "dnsd_start_time_seconds", "gauge", "Unix time the daemon started.");
    strbuf_printf(b, "dnsd_start_time_seconds %.3f\n", s->start_time);
    met_family(b, "dnsd_metrics_requests_total", "counter",
               "HTTP requests to this responder by status code.");
    for (int i = 0; i < 5; i++)
        met_one(b, "dnsd_metrics_requests_total", "code", code[i], s->http_requests[i]);
    met_family(b, "dnsd_metrics_connections_total", "counter",
               "Connections to this responder: accepted, evicted for a newcomer when "
               "all were taken, refused.");
    for (int i = 0; i < 3; i++)
        met_one(b, "dnsd_metrics_connections_total", "event", conn[i], s->http_conns[i]);
}

int met_render(const met_snap_t *s, char **out, size_t *len)
{
    strbuf_t b = {0};
    met_counters(&b, s->st);
    met_queries(&b, s);
    met_pool(&b, s);
    met_packets(&b, s);
    met_control(&b, s);
    met_zones(&b, s);
    met_push_times(&b, s);
    met_state(&b, s);
    met_dnssec(&b, s);
    met_process(&b, s);
    size_t n = b.len;
    if (!(*out = strbuf_take(&b)))
        return -1;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* HTTP/1.x request head (RFC 9112 sections 2-5)                            */
/* ------------------------------------------------------------------------ */

/* tchar (RFC 9110 section 5.6.2) */
static bool met_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of the head including its empty line, or 0 if not complete. */
static size_t met_head_len(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* One line [p, end) without its line end. Request line: method SP target SP
 * version; returns the result it decides, MET_HTTP_MORE if fine so far. */
static met_http_t met_request_line(const uint8_t *p, const uint8_t *end,
                                   met_http_req_t *req)
{
    const uint8_t *m = p;
    while (p < end && met_tchar(*p))
        p++;
    size_t mlen = (size_t)(p - m);
    if (mlen == 0 || p == end || *p++ != ' ')
        return MET_HTTP_BAD_REQUEST;
    const uint8_t *t = p;
    while (p<end && * p> ' ' && *p < 0x7f)
        p++;
    size_t tlen = (size_t)(p - t);
    if (tlen == 0 || *t != '/' || p == end || *p++ != ' ')
        return MET_HTTP_BAD_REQUEST;
    size_t vlen = (size_t)(end - p);
    if (vlen < 5 || memcmp(p, "HTTP/", 5) != 0)
        return MET_HTTP_BAD_REQUEST;
    if (vlen != 8 || (memcmp(p, "HTTP/1.1", 8) != 0 && memcmp(p, "HTTP/1.0", 8) != 0))
        return MET_HTTP_BAD_VERSION;
    req->head = mlen == 4 && memcmp(m, "HEAD", 4) == 0;
    if (!req->head && !(mlen == 3 && memcmp(m, "GET", 3) == 0))
        return MET_HTTP_BAD_METHOD;
    size_t plen = 0;
    while (plen < tlen && t[plen] != '?')
        plen++;
    if (plen == 8 && memcmp(t, "/metrics", 8) == 0)
        return MET_HTTP_METRICS;
    return MET_HTTP_NOT_FOUND;
}

/* A header field line: name ":" value, no control bytes but HTAB. */
static bool met_header_line(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *n = p;
    while (p < end && met_tchar(*p))
        p++;
    if (p == n || p == end || *p != ':')
        return false;
    for (p++; p < end; p++)
        if ((*p < ' ' && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

void met_http_parse(const uint8_t *buf, size_t len, size_t max, met_http_req_t *req)
{
    req->head = false;
    size_t hl = met_head_len(buf, len < max ? len : max);
    if (hl == 0) {
        req->result = len >= max ? MET_HTTP_TOO_LARGE : MET_HTTP_MORE;
        return;
    }
    const uint8_t *p = buf, *end = buf + hl;
    met_http_t r = MET_HTTP_MORE;
    for (bool first = true; p < end;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p) /* the empty line */
            break;
        if (first)
            r = met_request_line(p, le, req);
        else if (!met_header_line(p, le))
            r = MET_HTTP_BAD_REQUEST;
        first = false;
        p = nl + 1;
        if (r == MET_HTTP_BAD_REQUEST)
            break;
    }
    req->result = r == MET_HTTP_MORE ? MET_HTTP_BAD_REQUEST : r;
}

int met_http_status(met_http_t r)
{
    switch (r) {
    case MET_HTTP_METRICS:
        return 200;
    case MET_HTTP_NOT_FOUND:
        return 404;
    case MET_HTTP_BAD_METHOD:
        return 405;
    case MET_HTTP_TOO_LARGE:
        return 431;
    case MET_HTTP_BAD_VERSION:
        return 505;
    default:
        return 400;
    }
}

const char *met_http_error_body(met_http_t r)
{
    switch (r) {
    case MET_HTTP_METRICS:
        return "OK\n";
    case MET_HTTP_NOT_FOUND:
        return "Not Found\n";
    case MET_HTTP_BAD_METHOD:
        return "Method Not Allowed\n";
    case MET_HTTP_TOO_LARGE:
        return "Request Header Fields Too Large\n";
    case MET_HTTP_BAD_VERSION:
        return "HTTP Version Not Supported\n";
    default:
        return "Bad Request\n";
    }
}

size_t met_http_head(met_http_t r, size_t body_len, char *hdr, size_t cap)
{
    const char *reason = met_http_error_body(r);
    int n = snprintf(hdr, cap,
                     "HTTP/1.1 %d %.*s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     met_http_status(r), (int)strlen(reason) - 1, reason,
                     r == MET_HTTP_METRICS ? "text/plain; version=0.0.4; charset=utf-8"
                                           : "text/plain; charset=utf-8",
                     body_len, r == MET_HTTP_BAD_METHOD ? "Allow: GET, HEAD\r\n" : "");
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
