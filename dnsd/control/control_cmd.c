/*
 * control_cmd.c - the control requests (PUSH, STATUS, STATS, RELOAD; the
 * balancing ones go to demand_ctl.c) and the
 * reload that SIGHUP triggers too. Runs on the control thread only, which is
 * the only writer of srv_current, so it reads srv_current without RCU.
 *
 * Every change follows one rule: build the complete new srv_data_t aside,
 * and publish it only when nothing failed. A refused push or a failed reload
 * leaves the served data, and the state file, as they were.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_int.h"
#include "dnsd/control/demand.h"
#include "dnsd/control/dnssec_info.h"
#include "dnsd/query/guard.h"
#include "dnsd/base/log.h"
#include "dnsd/io/xdp.h"

void control_reply_err(control_reply_t *out, const char *error, const char *detail)
{
    out->type = CTL_T_ERR;
    out->json = ctl_error_json(error, detail ? &detail : NULL, detail ? 1 : 0);
}

/* "serial": N or null, for origin o. */
static void control_json_serial(strbuf_t *b, const srv_origin_t *o)
{
    if (o->pool)
        strbuf_printf(b, "%llu", (unsigned long long)zone_pool_snapshot(o->pool)->serial);
    else
        strbuf_printf(b, "null");
}

/* ------------------------------------------------------------------------ */
/* PUSH                                                                     */
/* ------------------------------------------------------------------------ */

/* ERR "invalid snapshot" listing every error the parser kept. */
static void control_reply_invalid(control_reply_t *out, const zone_errors_t *errs)
{
    char more[64];
    const char **d = malloc((errs->n + 1) * sizeof *d);
    size_t n = 0;
    if (d) {
        for (; n < errs->n; n++)
            d[n] = errs->msgs[n];
        if (errs->dropped) {
            snprintf(more, sizeof more, "... and %zu more errors", errs->dropped);
            d[n++] = more;
        }
    }
    out->type = CTL_T_ERR;
    out->json = ctl_error_json("invalid snapshot", d, n);
    free(d);
}

/* Parses and validates the snapshot and checks its serial against origin o;
 * NULL with the reply filled when refused. */
static zone_snapshot_t *control_push_parse(const ctl_push_t *p, const srv_origin_t *o,
                                           control_reply_t *out)
{
    zone_errors_t errs;
    zone_snapshot_t *snap = NULL;
    char why[400];
    zone_errors_init(&errs);
    int rc =
        zone_snapshot_parse("snapshot", (const char *)p->snap, p->snap_len, &snap, &errs);
    if (rc != 0) {
        control_reply_invalid(out, &errs);
        out->refusal = METRICS_PUSH_INVALID;
    }
    zone_errors_deinit(&errs);
    if (rc != 0)
        return NULL;
    if (o->pool && !(p->flags & CTL_PUSH_FORCE)) {
        uint64_t have = zone_pool_snapshot(o->pool)->serial;
        if (snap->serial <= have) {
            snprintf(
                why, sizeof why,
                "%s: serial %llu is not newer than the served %llu (--force to push it "
                "anyway)",
                o->name, (unsigned long long)snap->serial, (unsigned long long)have);
            control_reply_err(out, "serial not newer", why);
            out->refusal = METRICS_PUSH_STALE;
            zone_snapshot_free(snap);
            return NULL;
        }
    }
    return snap;
}

static void control_push(control_t *c, const ctl_frame_t *f, control_reply_t *out)
{
    uint64_t t0 = uv_hrtime();
    srv_data_t *cur = srv_current;
    ctl_push_t p;
    char why[700];
    out->refusal = METRICS_PUSH_PAYLOAD;
    if (ctl_push_decode(f->payload, f->len, &p) < 0)
        return control_reply_err(out, ctl_strerror(CTL_ERR_PAYLOAD), "PUSH payload");
    int i = srv_data_origin_index(cur, p.origin);
    if (i < 0) {
        snprintf(why, sizeof why, "%s: not a zone of this server", p.origin);
        out->refusal = METRICS_PUSH_UNKNOWN_ORIGIN;
        return control_reply_err(out, "unknown origin", why);
    }
    const srv_origin_t *o = &cur->origins[i];
    zone_snapshot_t *snap = control_push_parse(&p, o, out);
    if (!snap)
        return;
    uint64_t new_serial = snap->serial, t[4];
    size_t n_servers = snap->n_servers;
    t[0] = uv_hrtime();
    zone_pool_t *pool = zone_pool_new(snap, &o->params);
    srv_data_t *next = pool ? srv_data_with_pool(cur, (size_t)i, pool) : NULL;
    out->refusal = METRICS_PUSH_NOMEM;
    if (!next)
        return control_reply_err(out, "out of memory", o->name);
    t[1] = uv_hrtime();
    /* Stored before it is served and acknowledged: a restart after the reply
     * serves this serial (DESIGN.md "Snapshot"). */
    int stored = srv_data_persist(c->cfg, o->name, p.snap, p.snap_len, why, sizeof why);
    t[2] = uv_hrtime();
    if (stored < 0) {
        srv_data_free(next);
        log_msg(LOG_ERR, "control: push for %s refused: %s", o->name, why);
        out->refusal = METRICS_PUSH_STATE_WRITE;
        return control_reply_err(out, "state_dir write failed", why);
    }
    strbuf_t b = {0};
    strbuf_printf(&b, "{\"origin\": ");
    ctl_json_put(&b, o->name);
    strbuf_printf(&b, ", \"old_serial\": ");
    control_json_serial(&b, o);
    srv_data_publish(next); /* frees cur, and o with it */
    t[3] = uv_hrtime();
    double ms = (double)(t[3] - t0) / 1e6;
    c->st.last_push_ms[0] = (double)(t[0] - t0) / 1e6;
    for (int k = 1; k < 4; k++)
        c->st.last_push_ms[k] = (double)(t[k] - t[k - 1]) / 1e6;
    strbuf_printf(
        &b,
        ", \"new_serial\": %llu, \"servers\": %zu, \"build_ms\": %.3f, \"stored\": %s}",
        (unsigned long long)new_serial, n_servers, ms, stored ? "true" : "false");
    log_msg(LOG_INFO, "control: %s serial %llu pushed (%zu servers, %.1f ms)%s",
            next->origins[i].name, (unsigned long long)new_serial, n_servers, ms,
            stored ? "" : "; not stored: no state_dir");
    if (srv_origin_nts_unsigned(&next->origins[i], why, sizeof why))
        log_msg(LOG_WARNING, "control: %s", why);
    out->type = CTL_T_OK;
    out->json = strbuf_take(&b);
}

/* ------------------------------------------------------------------------ */
/* STATUS and STATS                                                         */
/* ------------------------------------------------------------------------ */

/* {"@": {"v4": [eligible, total], "v6": [...]}, ...} for zones with servers;
 * zones with NTS-capable servers add "nts": [eligible, total, endpoints]. */
static void control_json_counts(strbuf_t *b, const zone_pool_t *pool)
{
    int n = zone_id_count();
    bool first = true;
    strbuf_printf(b, "{");
    for (int id = 0; pool && id < n; id++) {
        unsigned t4, e4, t6, e6;
        zone_pool_counts(pool, id, 4, &t4, &e4);
        zone_pool_counts(pool, id, 6, &t6, &e6);
        if (t4 + t6 == 0)
            continue;
        strbuf_printf(b, "%s", first ? "" : ", ");
        ctl_json_put(b, zone_id_name(id));
        strbuf_printf(b, ": {\"v4\": [%u, %u], \"v6\": [%u, %u]", e4, t4, e6, t6);
        unsigned nl, ne, nep;
        zone_pool_nts_counts(pool, id, &nl, &ne, &nep);
        if (nl)
            strbuf_printf(b, ", \"nts\": [%u, %u, %u]", ne, nl, nep);
        strbuf_printf(b, "}");
        first = false;
    }
    strbuf_printf(b, "}");
}

/* {"servers": listed, "eligible": n, "endpoints": n}: NTS-capable servers of
 * "@" and the NTS-KE endpoints SRV answers name. */
static void control_json_nts(strbuf_t *b, const zone_pool_t *pool)
{
    unsigned listed = 0, elig = 0, eps = 0;
    if (pool)
        zone_pool_nts_counts(pool, ZONE_GLOBAL, &listed, &elig, &eps);
    strbuf_printf(b, "{\"servers\": %u, \"eligible\": %u, \"endpoints\": %u}", listed,
                  elig, eps);
}

/* ", snapshot_time, snapshot_age_s" of origin o: when this node accepted the
 * snapshot it serves (UTC, to the second; srv_origin_t.snap_time says what
 * that is after a restart) and how long ago; null without a snapshot. */
static void control_json_snapshot_time(strbuf_t *b, const srv_origin_t *o)
{
    char when[32];
    struct tm tm;
    time_t t = (time_t)o->snap_time;
    double age = (double)time(NULL) - o->snap_time;
    if (!o->pool) {
        strbuf_printf(b, ", \"snapshot_time\": null, \"snapshot_age_s\": null");
        return;
    }
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    strbuf_printf(b, ", \"snapshot_time\": \"%s\", \"snapshot_age_s\": %lld", when,
                  (long long)(age > 0 ? age : 0));
}

static void control_status(control_t *c, control_reply_t *out)
{
    const srv_data_t *d = srv_current;
    char id[CTL_IDENTITY_MAX + 1], when[32];
    size_t n = d->identity_len < sizeof id - 1 ? d->identity_len : sizeof id - 1;
    struct tm tm;
    memcpy(id, d->identity, n);
    id[n] = '\0';
    strbuf_t b = {0};
    strbuf_printf(&b, "{\"identity\": ");
    ctl_json_put(&b, id);
    strbuf_printf(
        &b, ", \"version\": \"%s\", \"uptime_s\": %llu, \"workers\": %zu, \"zones\": [",
        DNSD_VERSION, (unsigned long long)((uv_hrtime() - c->started_ns) / 1000000000u),
        c->ws ? workers_count(c->ws) : 0);
    for (size_t i = 0; i < d->n_origins; i++) {
        const srv_origin_t *o = &d->origins[i];
        strbuf_printf(&b, "%s{\"origin\": ", i ? ", " : "");
        ctl_json_put(&b, o->name);
        strbuf_printf(&b, ", \"serial\": ");
        control_json_serial(&b, o);
        control_json_snapshot_time(&b, o);
        strbuf_printf(&b, ", \"servers\": %zu, \"nts\": ",
                      o->pool ? zone_pool_snapshot(o->pool)->n_servers : 0);
        control_json_nts(&b, o->pool);
        strbuf_printf(&b, ", \"counts\": ");
        control_json_counts(&b, o->pool);
        char dnssec[2048];
        dnssec_info_status(o, dnssec, sizeof dnssec);
        strbuf_printf(&b, ", \"dnssec\": %s}", dnssec);
    }
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
             gmtime_r(&c->last_reload.time, &tm));
    strbuf_printf(
        &b,
        "], \"last_reload\": {\"time\": \"%s\", \"trigger\": \"%s\", \"result\": ", when,
        c->last_reload.trigger);
    ctl_json_put(&b, c->last_reload.result);
    strbuf_printf(&b, "}");
    char *xdp = xdp_status_json(workers_xdp_listener(c->ws));
    if (xdp)
        strbuf_printf(&b, ", \"xdp\": %s", xdp);
    free(xdp);
    strbuf_printf(&b, "}");
    out->type = CTL_T_OK;
    out->json = strbuf_take(&b);
}

/* The counters as the family table shows them (control_scrape.c), the same
 * families and rows as /metrics. */
static void control_stats(control_t *c, control_reply_t *out)
{
    out->type = CTL_T_OK;
    out->json = control_scrape_stats(c);
}

/* ------------------------------------------------------------------------ */
/* RELOAD and SIGHUP                                                        */
/* ------------------------------------------------------------------------ */

static bool control_str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool control_listen_differ(const cfg_t *a, const cfg_t *b)
{
    if (a->n_listen != b->n_listen)
        return true;
    for (size_t i = 0; i < a->n_listen; i++)
        if (a->listen[i].addrlen != b->listen[i].addrlen ||
            memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].addrlen) != 0)
            return true;
    return false;
}

/* What `next` changes that only a restart applies (sockets, threads, the
 * control channel), compared with what the process started with: e.g.
 * "listen/workers". Empty when nothing. The abuse limits (RRL, cookies, the
 * TCP per-client cap and read timeout) are part of the data: a reload
 * applies them. */
static void control_restart_needed(const cfg_t *boot, const cfg_t *next, char *out,
                                   size_t cap)
{
    const struct {
        const char *name;
        bool differ;
    } items[] = {
        {"listen", control_listen_differ(boot, next)},
        {"workers", boot->workers != next->workers},
        {"tcp", boot->tcp_idle_timeout_ms != next->tcp_idle_timeout_ms ||
                    boot->tcp_max_connections != next->tcp_max_connections},
        {"control",
         control_str_differ(boot->control_unix, next->control_unix) ||
             control_str_differ(boot->control_tcp, next->control_tcp) ||
             control_str_differ(boot->control_key_file, next->control_key_file) ||
             boot->control_idle_timeout_ms != next->control_idle_timeout_ms ||
             boot->control_max_unix_conns != next->control_max_unix_conns ||
             boot->control_max_tcp_conns != next->control_max_tcp_conns},
        {"metrics", control_str_differ(boot->metrics, next->metrics)},
        {"user", control_str_differ(boot->user, next->user) ||
                     control_str_differ(boot->group, next->group)},
        {"query_log", control_str_differ(boot->dnstap_path, next->dnstap_path) ||
                          boot->dnstap_mode != next->dnstap_mode},
        {"log",
         boot->log_target != next->log_target || boot->log_level != next->log_level},
    };
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof items / sizeof items[0] && used < cap; i++)
        if (items[i].differ)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "/" : "",
                                     items[i].name);
}

static void control_reload_record(control_t *c, const char *trigger, const char *result)
{
    c->last_reload.time = time(NULL);
    snprintf(c->last_reload.trigger, sizeof c->last_reload.trigger, "%s", trigger);
    snprintf(c->last_reload.result, sizeof c->last_reload.result, "%s", result);
}

/* A reload refused over the GeoIP database is counted on its own, and the log
 * says what still places clients: the running database is a private copy
 * (geo.h), so the state of the file cannot have touched it. */
static void control_reload_geo_refused(control_t *c, const char *trigger, const char *err)
{
    if (strncmp(err, GEO_ERR_PREFIX, strlen(GEO_ERR_PREFIX)) != 0)
        return;
    c->st.geoip_refused++;
    if (srv_current->geo)
        log_msg(LOG_WARNING,
                "%s: new GeoIP database refused; IPv4 and IPv6 clients are still placed "
                "with the running one (%s)",
                trigger, geo_describe(srv_current->geo));
}

/* Builds the new config and data; NULL with a message when anything fails. */
static srv_data_t *control_reload_build(control_t *c, cfg_t *nc, char *err, size_t errlen)
{
    if (cfg_load(nc, c->cfg->path, err, errlen) != 0)
        return NULL;
    srv_data_t *next = srv_data_new(nc, err, errlen);
    if (next)
        srv_data_state_set_aside(nc, next);
    if (next && srv_data_keep_newer(next, srv_current) != 0) {
        snprintf(err, errlen, "out of memory");
        srv_data_free(next);
        next = NULL;
    }
    srv_limits_t *lim = NULL;
    if (next && (!(lim = guard_new(nc, srv_current->limits, err, errlen)) ||
                 srv_data_set_limits(next, lim) != 0)) {
        if (lim) /* set_limits freed it */
            snprintf(err, errlen, "out of memory");
        srv_data_free(next);
        next = NULL;
    }
    if (!next)
        cfg_deinit(nc);
    return next;
}

int control_reload(control_t *c, const char *trigger)
{
    char err[CFG_ERR_MAX], changed[128], result[CFG_ERR_MAX + 160];
    cfg_t nc;
    srv_data_t *next = control_reload_build(c, &nc, err, sizeof err);
    if (!next) {
        log_msg(LOG_ERR, "%s: reload failed, still serving the previous data: %s",
                trigger, err);
        control_reload_geo_refused(c, trigger, err);
        snprintf(result, sizeof result, "error: %s", err);
        control_reload_record(c, trigger, result);
        c->st.reload_failed++;
        return -1;
    }
    srv_data_log(next);
    control_restart_needed(c->boot, &nc, changed, sizeof changed);
    if (guard_rrl_differ(c->cfg, &nc))
        log_msg(LOG_INFO,
                "%s: rrl: %u responses/s per /%u (IPv4) and /%u (IPv6), slip %u", trigger,
                nc.rrl_rate, nc.rrl_ipv4_prefix, nc.rrl_ipv6_prefix, nc.rrl_slip);
    srv_data_publish(next);
    if (c->own)
        cfg_deinit(&c->cfg_own);
    c->cfg_own = nc;
    c->cfg = &c->cfg_own;
    c->own = true;
    demand_set_cfg(c->bal, c->cfg); /* modes and intervals; recompute at the next tick */
    if (changed[0]) {
        log_msg(LOG_WARNING, "%s: %s changed: restart needed", trigger, changed);
        snprintf(result, sizeof result, "ok; %s changed: restart needed", changed);
    } else {
        snprintf(result, sizeof result, "ok");
    }
    log_msg(LOG_INFO, "%s: reloaded %s", trigger, c->cfg->path);
    control_reload_record(c, trigger, result);
    c->st.reload_ok++;
    return 0;
}

static void control_reload_reply(control_t *c, control_reply_t *out)
{
    if (control_reload(c, "RELOAD") != 0) {
        /* "error: " is the record's prefix, not part of the reason. */
        return control_reply_err(out, "reload failed", c->last_reload.result + 7);
    }
    const srv_data_t *d = srv_current;
    const char *warn = strchr(c->last_reload.result, ';');
    strbuf_t b = {0};
    strbuf_printf(&b, "{\"result\": \"ok\", \"restart_needed\": %s, \"warning\": ",
                  warn ? "true" : "false");
    if (warn)
        ctl_json_put(&b, warn + 2);
    else
        strbuf_printf(&b, "null");
    strbuf_printf(&b, ", \"zones\": [");
    for (size_t i = 0; i < d->n_origins; i++) {
        strbuf_printf(&b, "%s{\"origin\": ", i ? ", " : "");
        ctl_json_put(&b, d->origins[i].name);
        strbuf_printf(&b, ", \"serial\": ");
        control_json_serial(&b, &d->origins[i]);
        strbuf_printf(&b, "}");
    }
    strbuf_printf(&b, "]}");
    out->type = CTL_T_OK;
    out->json = strbuf_take(&b);
}

/* A push, counted by result and timed: the frame is complete when it gets
 * here, and the reply goes out as this returns. */
static void control_push_counted(control_t *c, const ctl_frame_t *f, control_reply_t *out)
{
    uint64_t t0 = uv_hrtime();
    control_push(c, f, out);
    bool ok = out->type == CTL_T_OK;
    metrics_hist_observe(&c->st.push_time[ok ? 0 : 1], (double)(uv_hrtime() - t0) / 1e9);
    if (ok)
        c->st.push_ok++;
    else {
        c->st.push_refused++;
        c->st.push_refused_by[out->refusal]++;
    }
}

void control_request(control_t *c, const ctl_frame_t *f, control_reply_t *out)
{
    out->json = NULL;
    out->type = CTL_T_ERR;
    switch (f->type) {
    case CTL_T_PUSH:
        control_push_counted(c, f, out);
        break;
    case CTL_T_STATUS:
        control_status(c, out);
        break;
    case CTL_T_STATS:
        control_stats(c, out);
        break;
    case CTL_T_RELOAD:
        control_reload_reply(c, out);
        break;
    case CTL_T_DEMAND_PUSH:
    case CTL_T_DEMAND:
    case CTL_T_BALANCE:
    case CTL_T_SERVERS:
        demand_request(c->bal, f->type, f->payload, f->len, out);
        break;
    default: /* ctl_conn_open lets only requests through */
        control_reply_err(out, ctl_strerror(CTL_ERR_UNEXPECTED), NULL);
    }
}
