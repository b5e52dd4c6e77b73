/*
 * metrics_table.c - the families of the workers' counters, the control
 * channel, the served zones, DNSSEC, the state directory and the process:
 * for each its name, HELP, type, labels, STATS home and where its values
 * live (metrics.h). /metrics and STATS both walk this table (and those of
 * demand_ctl.c and metrics_xdp.c), so a family added here is in both.
 */
#include <string.h>

#include "dnsd/control/metrics.h"
#include "zones/zones.h"

#define SNAP(field) offsetof(metrics_snap_t, field)

static void metrics_table_row(metrics_sink_t *k, const char *l0, const char *l1,
                              const char *l2, uint64_t n)
{
    metrics_emit(k, &(metrics_row_t){.label = {l0, l1, l2}, .n = n});
}

static void metrics_table_gauge(metrics_sink_t *k, const char *l0, double x)
{
    metrics_emit(k, &(metrics_row_t){.label = {l0}, .x = x});
}

/* The rows of stat_descs (stats.h) named f->name, or, for the STATS-only
 * family, those without a name; each at its STATS key. */
static void metrics_table_workers(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    bool stats_only = f->type == METRICS_STATS_ONLY;
    for (size_t i = 0; i < stat_n_descs; i++) {
        const stat_desc_t *d = &stat_descs[i];
        uint64_t v = stat_value(s->st, d);
        if (stats_only ? d->metric != NULL
                       : !d->metric || strcmp(d->metric, f->name) != 0)
            continue;
        if (d->sparse && !v)
            continue;
        metrics_row_t r = {
            .label = {d->value},
            .n = v,
            .at = {d->group ? d->group : d->key, d->group ? d->key : NULL}};
        metrics_emit(k, &r);
    }
}

/* One sample: the uint64_t (or, with a format, double) at f->off. */
static void metrics_table_field(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    const void *p = (const char *)s + f->off;
    metrics_row_t r = {0};
    if (f->fmt)
        memcpy(&r.x, p, sizeof r.x);
    else
        memcpy(&r.n, p, sizeof r.n);
    metrics_emit(k, &r);
}

/* A family of one label whose rows are metrics_label_count_t. */
static void metrics_table_counts(metrics_sink_t *k, const metrics_label_count_t *c,
                                 size_t n)
{
    for (size_t i = 0; i < n; i++)
        metrics_table_row(k, c[i].label, NULL, NULL, c[i].value);
}

/* Queries by served zone: the labels are the data's origins. */
static void metrics_table_by_zone(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins && i < STAT_ORIGINS - 1; i++)
        metrics_table_row(k, s->origins[i].name, NULL, NULL, s->st->by_origin[i]);
    metrics_table_row(k, "none", NULL, NULL, s->st->by_origin[STAT_ORIGINS - 1]);
}

/* Pool answers by zone chosen and backfill: the zones that had one, and "@". */
static void metrics_table_pool(const metrics_snap_t *s, const metrics_family_t *f,
                               metrics_sink_t *k)
{
    for (int id = 0; id < zone_id_count() && id < ZONE_ID_MAX; id++)
        for (int bf = 0; bf < 2; bf++)
            if (s->st->pool_by_zone[id][bf] || id == ZONE_GLOBAL)
                metrics_table_row(k, zone_id_name(id), bf ? "true" : "false", NULL,
                                  s->st->pool_by_zone[id][bf]);
}

/* Derived from two counters of the workers' table. */
static void metrics_table_tcp_open(const metrics_snap_t *s, const metrics_family_t *f,
                                   metrics_sink_t *k)
{
    const stat_counters_t *st = s->st;
    uint64_t open =
        st->tcp_accepted > st->tcp_closed ? st->tcp_accepted - st->tcp_closed : 0;
    metrics_table_row(k, NULL, NULL, NULL, open);
}

static void metrics_table_ctl_conns(const metrics_snap_t *s, const metrics_family_t *f,
                                    metrics_sink_t *k)
{
    metrics_table_row(k, "unix", NULL, NULL, s->ctl_conns_unix);
    metrics_table_row(k, "tcp", NULL, NULL, s->ctl_conns_tcp);
    metrics_table_row(k, "refused", NULL, NULL, s->ctl_conns_refused);
}

static void metrics_table_ctl_limits(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    metrics_table_counts(k, s->ctl_limits, s->n_ctl_limits);
}

static void metrics_table_ctl_requests(const metrics_snap_t *s, const metrics_family_t *f,
                                       metrics_sink_t *k)
{
    static const char *const req[4] = {"push", "status", "reload", "stats"};
    for (int i = 0; i < 4; i++)
        metrics_table_row(k, req[i], NULL, NULL, s->ctl_requests[i]);
}

static void metrics_table_ctl_frames(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    metrics_table_counts(k, s->frames_refused, s->n_frames_refused);
}

static void metrics_table_pushes(const metrics_snap_t *s, const metrics_family_t *f,
                                 metrics_sink_t *k)
{
    metrics_table_row(k, "accepted", NULL, NULL, s->push_ok);
    for (int i = 0; i < METRICS_PUSH_REASONS; i++)
        metrics_table_row(k, metrics_push_reason_name(i), NULL, NULL, s->push_refused[i]);
}

static void metrics_table_reloads(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    metrics_table_row(k, "ok", NULL, NULL, s->reload_ok);
    metrics_table_row(k, "failed", NULL, NULL, s->reload_failed);
}

static void metrics_table_reload_ok(const metrics_snap_t *s, const metrics_family_t *f,
                                    metrics_sink_t *k)
{
    metrics_table_row(k, NULL, NULL, NULL, s->last_reload_ok ? 1 : 0);
}

/* STATS keys older than the families above, kept for their readers: each
 * the same counter as a row of a family (or the sum of a family's rows). */
static void metrics_table_ctl_legacy(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    uint64_t refused = 0, idle = 0;
    for (int i = 0; i < METRICS_PUSH_REASONS; i++)
        refused += s->push_refused[i];
    for (size_t i = 0; i < s->n_ctl_limits; i++)
        if (strcmp(s->ctl_limits[i].label, "idle_closed") == 0)
            idle = s->ctl_limits[i].value;
    const struct {
        const char *at[METRICS_AT_MAX];
        uint64_t n;
    } rows[] = {
        {{"control", "connections", "idle_closed"}, idle},
        {{"control", "push_ok"}, s->push_ok},
        {{"control", "push_refused"}, refused},
        {{"control", "reload_ok"}, s->reload_ok},
        {{"control", "reload_failed"}, s->reload_failed},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        metrics_emit(
            k, &(metrics_row_t){.n = rows[i].n,
                                .at = {rows[i].at[0], rows[i].at[1], rows[i].at[2]}});
}

/* The stages of the last accepted push, in ms (STATS only: a histogram of
 * whole pushes is on /metrics). */
static void metrics_table_push_ms(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    static const char *const stage[4] = {"parse", "build", "store", "publish"};
    for (int i = 0; i < 4; i++)
        metrics_emit(k, &(metrics_row_t){.x = s->last_push_ms[i],
                                         .at = {"control", "last_push_ms", stage[i]}});
}

static void metrics_table_push_times(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    metrics_emit(k,
                 &(metrics_row_t){.label = {"accepted"}, .hist = &s->push_duration[0]});
    metrics_emit(k, &(metrics_row_t){.label = {"refused"}, .hist = &s->push_duration[1]});
}

static void metrics_table_serial(const metrics_snap_t *s, const metrics_family_t *f,
                                 metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].has_pool)
            metrics_table_row(k, s->origins[i].name, NULL, NULL, s->origins[i].serial);
}

static void metrics_table_servers(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    static const char *const fam[2] = {"ipv4", "ipv6"};
    for (size_t i = 0; i < s->n_origins; i++)
        for (int af = 0; af < 2; af++)
            for (int e = 0; e < 2; e++)
                metrics_table_row(k, s->origins[i].name, fam[af], e ? "eligible" : "all",
                                  s->origins[i].servers[af][e]);
}

/* NTS-capable servers (snapshot key "nts"), by zone (origin) and state. */
static void metrics_table_nts(const metrics_snap_t *s, const metrics_family_t *f,
                              metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        for (int e = 0; e < 2; e++)
            metrics_table_row(k, s->origins[i].name, e ? "eligible" : "all", NULL,
                              s->origins[i].nts[e]);
}

/* The NTS-KE endpoints that SRV answers at _ntske._tcp names draw from. */
static void metrics_table_nts_eps(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        metrics_table_row(k, s->origins[i].name, NULL, NULL, s->origins[i].nts[2]);
}

static void metrics_table_snap_time(const metrics_snap_t *s, const metrics_family_t *f,
                                    metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].has_pool)
            metrics_table_gauge(k, s->origins[i].name, s->origins[i].snapshot_time);
}

static void metrics_table_state_errors(const metrics_snap_t *s, const metrics_family_t *f,
                                       metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        metrics_table_row(k, s->origins[i].name, NULL, NULL, s->origins[i].state_errors);
}

/* DNSSEC: alert rules watch the expiry gauge (re-signing stalled) and the
 * counter's rate (the signer thread alive). */
static void metrics_table_sig_expiry(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].dnssec)
            metrics_table_gauge(k, s->origins[i].name, s->origins[i].sig_expiry_s);
}

static void metrics_table_sig_bytes(const metrics_snap_t *s, const metrics_family_t *f,
                                    metrics_sink_t *k)
{
    for (size_t i = 0; i < s->n_origins; i++)
        if (s->origins[i].dnssec)
            metrics_table_row(k, s->origins[i].name, NULL, NULL,
                              s->origins[i].sig_set_bytes);
}

static void metrics_table_build(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    metrics_table_row(k, s->version, NULL, NULL, 1);
}

static void metrics_table_workers_n(const metrics_snap_t *s, const metrics_family_t *f,
                                    metrics_sink_t *k)
{
    metrics_table_row(k, NULL, NULL, NULL, s->workers);
}

static void metrics_table_http(const metrics_snap_t *s, const metrics_family_t *f,
                               metrics_sink_t *k)
{
    static const char *const code[5] = {"200", "400", "404", "405", "other"};
    for (int i = 0; i < 5; i++)
        metrics_table_row(k, code[i], NULL, NULL, s->http_requests[i]);
}

static void metrics_table_http_conns(const metrics_snap_t *s, const metrics_family_t *f,
                                     metrics_sink_t *k)
{
    static const char *const conn[3] = {"accepted", "evicted", "refused"};
    for (int i = 0; i < 3; i++)
        metrics_table_row(k, conn[i], NULL, NULL, s->http_conns[i]);
}

#define C METRICS_COUNTER
#define G METRICS_GAUGE
#define W metrics_table_workers
#define L(...)                                                                           \
    {                                                                                    \
        __VA_ARGS__                                                                      \
    }

/* In the order of the page; the workers' families in the order of their
 * first row in stat_descs, each with all its rows. */
static const metrics_family_t metrics_table_fam[] = {
    {"dnsd_queries_total", NULL, C, L("transport"), "queries", NULL, W, 0, NULL},
    {"dnsd_responses_total", NULL, C, L("rcode"), "rcodes", NULL, W, 0, NULL},
    {"dnsd_packets_dropped_total", NULL, C, L("reason"), "dropped", NULL, W, 0, NULL},
    {"dnsd_responses_truncated_total", NULL, C, L(NULL), "truncated", NULL, W, 0, NULL},
    {"dnsd_queries_ecs_total", NULL, C, L(NULL), "ecs", NULL, W, 0, NULL},
    {"dnsd_pool_answers_empty_total", NULL, C, L(NULL), "pool_empty", NULL, W, 0, NULL},
    {"dnsd_nts_srv_answers_total", NULL, C, L(NULL), "nts_answers", NULL, W, 0, NULL},
    {"dnsd_nts_srv_answers_empty_total", NULL, C, L(NULL), "nts_empty", NULL, W, 0, NULL},
    {"dnsd_tcp_connections_total", NULL, C, L("event"), "tcp", NULL, W, 0, NULL},
    {"dnsd_queries_by_qtype_total", NULL, C, L("qtype"), "by_qtype", NULL, W, 0, NULL},
    {"dnsd_dnstap_dropped_total", NULL, C, L(NULL), "dnstap_dropped", NULL, W, 0, NULL},
    {"dnsd_rrl_dropped_total", NULL, C, L(NULL), "rrl.dropped", NULL, W, 0, NULL},
    {"dnsd_rrl_slipped_total", NULL, C, L(NULL), "rrl.slipped", NULL, W, 0, NULL},
    {"dnsd_cookies_total", NULL, C, L("result"), "cookies", NULL, W, 0, NULL},
    {"dnsd_tcp_limit_closed_total", NULL, C, L("reason"), "tcp_limits", NULL, W, 0, NULL},
    /* pool_answers, pool_backfill: /metrics shows them by zone (below). */
    {"workers", NULL, METRICS_STATS_ONLY, L(NULL), NULL, NULL, W, 0, NULL},
    {"dnsd_queries_by_zone_total",
     "Queries by served zone; \"none\" for names outside every zone.", C, L("zone"),
     "by_zone", NULL, metrics_table_by_zone, 0, NULL},
    {"dnsd_pool_answers_total",
     "Pool A/AAAA answers by zone chosen and whether a later zone topped it up.", C,
     L("zone", "backfill"), NULL, NULL, metrics_table_pool, 0, NULL},
    {"dnsd_tcp_connections_open", "DNS TCP connections open now.", G, L(NULL), NULL, NULL,
     metrics_table_tcp_open, 0, NULL},
    {"dnsd_control_connections_total",
     "Control connections accepted by socket, and refused over the cap.", C, L("socket"),
     "control.connections", NULL, metrics_table_ctl_conns, 0, NULL},
    {"dnsd_control_limits_total",
     "Control connections closed, refused or paused by a limit, by event.", C, L("event"),
     "control.limits", NULL, metrics_table_ctl_limits, 0, NULL},
    {"dnsd_control_requests_total", "Control requests by type.", C, L("type"),
     "control.requests", NULL, metrics_table_ctl_requests, 0, NULL},
    {"dnsd_control_frames_refused_total",
     "Control frames refused by the protocol (bad MAC, replay, ...), by reason.", C,
     L("reason"), "control.refused", NULL, metrics_table_ctl_frames, 0, NULL},
    {"dnsd_control_pushes_total",
     "Snapshot pushes by result: accepted, or the reason they were refused.", C,
     L("result"), NULL, NULL, metrics_table_pushes, 0, NULL},
    {"dnsd_reloads_total", "Reloads (SIGHUP, RELOAD) by result.", C, L("result"), NULL,
     NULL, metrics_table_reloads, 0, NULL},
    {"control", NULL, METRICS_STATS_ONLY, L(NULL), NULL, NULL, metrics_table_ctl_legacy,
     0, NULL},
    {"control_push_ms", NULL, METRICS_STATS_ONLY, L(NULL), NULL, "%.3f",
     metrics_table_push_ms, 0, NULL},
    {"dnsd_geoip_reloads_refused_total",
     "Reloads refused because the GeoIP database could not be used; the running one "
     "stays.",
     C, L(NULL), NULL, NULL, metrics_table_field, SNAP(geoip_refused), NULL},
    {"dnsd_last_reload_timestamp_seconds",
     "Unix time of the last load of the configuration (start-up or reload).", G, L(NULL),
     NULL, "%.3f", metrics_table_field, SNAP(last_reload_time), NULL},
    {"dnsd_last_reload_success", "1 if the last load succeeded.", G, L(NULL), NULL, NULL,
     metrics_table_reload_ok, 0, NULL},
    {"dnsd_zone_serial", "Serial of the served snapshot, by zone.", G, L("zone"), NULL,
     NULL, metrics_table_serial, 0, NULL},
    {"dnsd_zone_servers",
     "Servers in the served snapshot by zone, family and state (all, eligible).", G,
     L("zone", "family", "state"), NULL, NULL, metrics_table_servers, 0, NULL},
    {"dnsd_zone_nts_servers",
     "Servers with an NTS-KE endpoint in the served snapshot, by zone and state (all, "
     "eligible).",
     G, L("zone", "state"), NULL, NULL, metrics_table_nts, 0, NULL},
    {"dnsd_zone_nts_endpoints",
     "Distinct NTS-KE endpoints (host, port) with an eligible server: SRV targets, by "
     "zone.",
     G, L("zone"), NULL, NULL, metrics_table_nts_eps, 0, NULL},
    {"dnsd_control_push_duration_seconds",
     "Time from a complete PUSH frame to its reply, by result (accepted, refused).",
     METRICS_HISTOGRAM, L("result"), NULL, NULL, metrics_table_push_times, 0, NULL},
    {"dnsd_zone_snapshot_timestamp_seconds",
     "Unix time this node accepted the served snapshot, by zone: the push, or the "
     "modification time of the file it was loaded from.",
     G, L("zone"), NULL, "%.3f", metrics_table_snap_time, 0, NULL},
    {"dnsd_state_load_errors_total",
     "State files refused (corrupt, not a file) or unreadable at a load, by zone.", C,
     L("zone"), NULL, NULL, metrics_table_state_errors, 0, NULL},
    {"dnsd_state_temp_files_removed_total",
     "Temporary files of interrupted state writes removed at start-up.", C, L(NULL), NULL,
     NULL, metrics_table_field, SNAP(state_temp_removed), NULL},
    {"dnsd_dnssec_signatures_total",
     "RRSIGs made since start (static data, pool answer sets, online NSEC).", C, L(NULL),
     NULL, NULL, metrics_table_field, SNAP(dnssec_signatures), NULL},
    {"dnsd_dnssec_signature_expiry_seconds",
     "Seconds until the earliest signature served for the origin expires.", G, L("zone"),
     NULL, "%.0f", metrics_table_sig_expiry, 0, NULL},
    {"dnsd_dnssec_answer_set_bytes", "Memory of the signed pool answer sets, by origin.",
     G, L("zone"), NULL, NULL, metrics_table_sig_bytes, 0, NULL},
    {"dnsd_build_info", "Always 1; the version as a label.", G, L("version"), NULL, NULL,
     metrics_table_build, 0, NULL},
    {"dnsd_workers", "Worker threads answering queries.", G, L(NULL), NULL, NULL,
     metrics_table_workers_n, 0, NULL},
    {"dnsd_start_time_seconds", "Unix time the daemon started.", G, L(NULL), NULL, "%.3f",
     metrics_table_field, SNAP(start_time), NULL},
    {"dnsd_metrics_requests_total", "HTTP requests to this responder by status code.", C,
     L("code"), NULL, NULL, metrics_table_http, 0, NULL},
    {"dnsd_metrics_connections_total",
     "Connections to this responder: accepted, evicted for a newcomer when all were "
     "taken, refused.",
     C, L("event"), NULL, NULL, metrics_table_http_conns, 0, NULL},
};

const metrics_table_t metrics_core = {metrics_table_fam, sizeof metrics_table_fam /
                                                             sizeof metrics_table_fam[0]};
