/*
 * demand_ctl.c - the balancing control requests (DEMAND_PUSH, DEMAND,
 * BALANCE, SERVERS) and the balancing families of /metrics and STATS
 * (metrics.h; docs/balancing.md).
 * Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demand_int.h"
#include "dnsd/base/log.h"

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static const char *demand_mode_name(cfg_balance_mode_t m)
{
    return m == CFG_BALANCE_LOCAL ? "local" : m == CFG_BALANCE_PUSHED ? "pushed" : "off";
}

/* The origin a request names ("" = the first), or -1 with an ERR reply. */
static int demand_origin(const demand_t *b, const ctl_push_t *p, control_reply_t *out)
{
    int i = srv_data_origin_index(srv_current, p->origin);
    char why[320];
    if (i < 0 || i >= STAT_BAL_ORIGINS || (size_t)i >= b->cfg->n_zones) {
        snprintf(why, sizeof why, "%s: not a zone of this server%s", p->origin,
                 i >= STAT_BAL_ORIGINS ? " that balances (the first 4)" : "");
        control_reply_err(out, "unknown origin", why);
        return -1;
    }
    return i;
}

static void demand_jb_family(strbuf_t *j, const demand_origin_t *o, int f)
{
    const zone_bal_result_t *r = &o->res[f];
    bool first = true;

    strbuf_printf(j,
                  "{\"active\": %s, \"worst_without\": %.4f, \"worst_with\": %.4f, "
                  "\"local_share\": %.4f, \"fallback\": %s, \"zones\": [",
                  o->active[f] ? "true" : "false", r->worst_without, r->worst_with,
                  r->local_share, r->fallback ? "true" : "false");
    for (int id = 0; id < zone_id_count(); id++) {
        const zone_bal_zone_t *z = &r->zones[id];
        if (z->demand_share <= 0 && z->capacity_share <= 0)
            continue;
        strbuf_printf(
            j,
            "%s{\"zone\": \"%s\", \"demand_share\": %.6g, \"capacity_share\": %.6g, "
            "\"ratio_without\": %.4f, \"keep\": %.6f, \"ratio_with\": %.4f}",
            first ? "" : ", ", zone_id_name(id), z->demand_share, z->capacity_share,
            z->ratio_without, z->keep, z->ratio_with);
        first = false;
    }
    strbuf_printf(j, "]}");
}

static void demand_balance(demand_t *b, size_t i, control_reply_t *out)
{
    const demand_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    strbuf_t j = {0};

    strbuf_printf(&j, "{\"origin\": ");
    ctl_json_put(&j, o->name);
    strbuf_printf(&j,
                  ", \"mode\": \"%s\", \"max_load_ratio\": %g, \"target_ratio\": %g, "
                  "\"interval\": %u, \"recomputes\": %llu, \"solve_ms\": %.3f, "
                  "\"pushed_serial\": ",
                  demand_mode_name(bc->mode), bc->max_load_ratio,
                  zone_bal_target(bc->max_load_ratio), bc->interval,
                  (unsigned long long)o->recomputes, o->solve_ms);
    if (o->pushed)
        strbuf_printf(&j, "%llu", (unsigned long long)o->pushed->serial);
    else
        strbuf_printf(&j, "null");
    strbuf_printf(&j, ", \"families\": {");
    bool first = true;
    static const char *const fam[ZONE_BAL_FAMILIES] = {"4", "6", "nts"};
    for (int f = 0; f < ZONE_BAL_FAMILIES; f++) {
        if (!o->solved[f])
            continue;
        strbuf_printf(&j, "%s\"%s\": ", first ? "" : ", ", fam[f]);
        demand_jb_family(&j, o, f);
        first = false;
    }
    strbuf_printf(&j, "}}");
    out->type = CTL_T_OK;
    out->json = strbuf_take(&j);
}

/* Local demand, decayed, in the pushed table's format, so the fleet can sum
 * every node's and push the sum back. */
static void demand_reply_table(demand_t *b, size_t i, control_reply_t *out)
{
    const demand_origin_t *o = &b->o[i];
    const cfg_balance_t *bc = &b->cfg->zones[i].balance;
    strbuf_t j = {0};
    double total = 0;
    bool first = true;

    strbuf_printf(&j, "{\"origin\": ");
    ctl_json_put(&j, o->name);
    strbuf_printf(&j, ", \"mode\": \"%s\", \"half_life\": %u, \"demand\": {",
                  demand_mode_name(bc->mode), bc->half_life);
    for (int id = 0; id < zone_id_count(); id++) {
        double r4 = o->rate[0][0][id] + o->rate[0][1][id];
        double r6 = o->rate[1][0][id] + o->rate[1][1][id];
        double rn = o->rate[2][0][id] + o->rate[2][1][id];
        if (r4 <= 0 && r6 <= 0 && rn <= 0)
            continue;
        strbuf_printf(&j, "%s\"%s\": {\"4\": %.6g, \"6\": %.6g", first ? "" : ", ",
                      zone_id_name(id), r4, r6);
        if (rn > 0) /* as a pushed table has it: only where there is NTS demand */
            strbuf_printf(&j, ", \"nts\": %.6g", rn);
        strbuf_printf(&j, "}");
        total += r4 + r6 + rn;
        first = false;
    }
    strbuf_printf(&j, "}, \"total\": %.6g}", total);
    out->type = CTL_T_OK;
    out->json = strbuf_take(&j);
}

static void demand_jb_server(strbuf_t *j, const srv_origin_t *so, size_t k,
                             uint64_t answers, bool first)
{
    const zone_server_t *s = &zone_pool_snapshot(so->pool)->servers[k];
    char ip[64];

    inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->addr, ip, sizeof ip);
    strbuf_printf(
        j,
        "%s{\"ip\": \"%s\", \"family\": %d, \"weight\": %llu, \"answers\": %llu, "
        "\"zones\": [",
        first ? "" : ", ", ip, s->family, (unsigned long long)zone_weight(s, &so->params),
        (unsigned long long)answers);
    for (size_t z = 0; z < s->n_zones; z++)
        strbuf_printf(j, "%s\"%s\"", z ? ", " : "", zone_id_name(s->zones[z]));
    strbuf_printf(j, "]}");
}

/* Answers per server since the snapshot: the workers' rows summed. */
static void demand_servers(size_t i, control_reply_t *out)
{
    const srv_origin_t *so = &srv_current->origins[i];
    const srv_served_t *sv = so->served;
    strbuf_t j = {0};

    strbuf_printf(&j, "{\"origin\": ");
    ctl_json_put(&j, so->name);
    if (!so->pool || !sv) {
        strbuf_printf(&j, ", \"serial\": null, \"servers\": []}");
        out->type = CTL_T_OK;
        out->json = strbuf_take(&j);
        return;
    }
    const zone_snapshot_t *snap = zone_pool_snapshot(so->pool);
    strbuf_printf(&j, ", \"serial\": %llu, \"servers\": [",
                  (unsigned long long)snap->serial);
    for (size_t k = 0; k < snap->n_servers; k++) {
        uint64_t n = 0;
        for (unsigned w = 0; w < sv->n_workers; w++)
            n +=
                __atomic_load_n(&sv->count[(size_t)w * sv->stride + k], __ATOMIC_RELAXED);
        demand_jb_server(&j, so, k, n, k == 0);
    }
    strbuf_printf(&j, "]}");
    out->type = CTL_T_OK;
    out->json = strbuf_take(&j);
}

/* ------------------------------------------------------------------------ */
/* DEMAND_PUSH                                                              */
/* ------------------------------------------------------------------------ */

/* ERR "invalid demand table" with every error the parser kept. */
static void demand_reply_invalid(control_reply_t *out, const zone_errors_t *errs)
{
    char more[64];
    const char **d = malloc((errs->n + 1) * sizeof *d);
    size_t n = 0;

    for (size_t k = 0; d && k < errs->n; k++)
        d[n++] = errs->msgs[k];
    if (d && errs->dropped) {
        snprintf(more, sizeof more, "... and %zu more", errs->dropped);
        d[n++] = more;
    }
    out->type = CTL_T_ERR;
    out->json = ctl_error_json("invalid demand table", d, d ? n : 0);
    free(d);
}

static void demand_push(demand_t *b, const ctl_push_t *p, size_t i, control_reply_t *out)
{
    demand_origin_t *o = &b->o[i];
    zone_errors_t errs;
    zone_demand_t *t = calloc(1, sizeof *t);
    char path[4096], why[700];
    int stored = 0;

    if (!t)
        return control_reply_err(out, "out of memory", o->name);
    zone_errors_init(&errs);
    int rc = zone_demand_parse("demand", (const char *)p->snap, p->snap_len, t, &errs);
    if (rc != 0) {
        demand_count_push(b, DEMAND_PUSH_INVALID);
        demand_reply_invalid(out, &errs);
        zone_errors_deinit(&errs);
        free(t);
        return;
    }
    zone_errors_deinit(&errs);
    if (o->pushed && t->serial <= o->pushed->serial && !(p->flags & CTL_PUSH_FORCE)) {
        snprintf(why, sizeof why, "serial %llu is not newer than %llu (use --force)",
                 (unsigned long long)t->serial, (unsigned long long)o->pushed->serial);
        free(t);
        demand_count_push(b, DEMAND_PUSH_OLD_SERIAL);
        return control_reply_err(out, "old serial", why);
    }
    /* Stored before it is acted on and acknowledged: a restart serves it. */
    if (demand_state_path(b->cfg, o->name, path, sizeof path) == 0) {
        if (srv_state_write(path, p->snap, p->snap_len, why, sizeof why) != 0) {
            free(t);
            log_msg(LOG_ERR, "control: demand push for %s refused: %s", o->name, why);
            demand_count_push(b, DEMAND_PUSH_STATE_WRITE);
            return control_reply_err(out, "state_dir write failed", why);
        }
        stored = 1;
    }
    free(o->pushed);
    o->pushed = t;
    log_msg(LOG_INFO, "control: %s demand table serial %llu pushed%s", o->name,
            (unsigned long long)t->serial, stored ? "" : "; not stored: no state_dir");
    demand_count_push(b, DEMAND_PUSH_OK);
    demand_tick(b, true); /* act on it now, and reply with the result */
    demand_balance(b, i, out);
}

void demand_request(demand_t *b, uint8_t type, const uint8_t *payload, size_t len,
                    control_reply_t *out)
{
    ctl_push_t p;

    bool push = type == CTL_T_DEMAND_PUSH;
    if (ctl_push_decode(payload, len, &p) < 0) {
        if (push)
            demand_count_push(b, DEMAND_PUSH_PAYLOAD);
        return control_reply_err(out, ctl_strerror(CTL_ERR_PAYLOAD), ctl_type_name(type));
    }
    int i = demand_origin(b, &p, out);
    if (i < 0) {
        if (push)
            demand_count_push(b, DEMAND_PUSH_UNKNOWN_ORIGIN);
        return;
    }
    switch (type) {
    case CTL_T_DEMAND_PUSH:
        return demand_push(b, &p, (size_t)i, out);
    case CTL_T_DEMAND:
        return demand_reply_table(b, (size_t)i, out);
    case CTL_T_BALANCE:
        return demand_balance(b, (size_t)i, out);
    case CTL_T_SERVERS:
        return demand_servers((size_t)i, out);
    default:
        return control_reply_err(out, ctl_strerror(CTL_ERR_UNEXPECTED), NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Metrics                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const demand_push_names[DEMAND_PUSH_RESULTS] = {
    "ok", "invalid", "old_serial", "unknown_origin", "state_write", "payload"};

void demand_count_push(demand_t *b, demand_push_result_t r)
{
    if (b && r < DEMAND_PUSH_RESULTS)
        b->pushes[r]++;
}

/* A zone that balancing watches (servers in a solved origin): its spill
 * counter is shown from 0 on, so a rate() has a series before the first spill. */
static bool demand_may_spill(const demand_t *b, int id)
{
    if (!b)
        return false;
    for (size_t i = 0; i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
            if (b->o[i].solved[f] && b->o[i].zones[f][id].capacity_share > 0 &&
                b->cfg->zones[i].balance.mode != CFG_BALANCE_OFF)
                return true;
    return false;
}

/* The metrics' family label of each zone_bal_family() index. */
static const char *const demand_fam[ZONE_BAL_FAMILIES] = {"ipv4", "ipv6", "nts"};

typedef void demand_zone_fn(const demand_t *b, size_t i, int f, int id,
                            metrics_sink_t *k);

/* Calls fn for every zone of every solved family of the balancing origins:
 * the walk both per-zone gauges take. */
static void demand_each_zone(const demand_t *b, metrics_sink_t *k, demand_zone_fn *fn)
{
    for (size_t i = 0; b && i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
            for (int id = 0; b->o[i].solved[f] && id < zone_id_count(); id++)
                fn(b, i, f, id, k);
}

/* The keep fraction of each zone that spills. */
static void demand_keep_row(const demand_t *b, size_t i, int f, int id, metrics_sink_t *k)
{
    const zone_bal_zone_t *z = &b->o[i].zones[f][id];
    if (id != ZONE_GLOBAL && z->keep < 1 && z->capacity_share > 0 && z->demand_share > 0)
        metrics_emit(
            k, &(metrics_row_t){.label = {b->o[i].name, zone_id_name(id), demand_fam[f]},
                                .x = z->keep});
}

/* The worst expected load ratio of each zone's servers, with the keep
 * fractions and without: what the operator kit's alert and dashboard read
 * (dist/prometheus, dist/grafana: spill="with"). */
static void demand_ratio_row(const demand_t *b, size_t i, int f, int id,
                             metrics_sink_t *k)
{
    const zone_bal_zone_t *z = &b->o[i].zones[f][id];
    if (!(z->capacity_share > 0) || b->cfg->zones[i].balance.mode == CFG_BALANCE_OFF)
        return;
    for (int w = 0; w < 2; w++)
        metrics_emit(k, &(metrics_row_t){.label = {b->o[i].name, zone_id_name(id),
                                                   demand_fam[f], w ? "without" : "with"},
                                         .x = w ? z->ratio_without : z->ratio_with});
}

static void demand_metrics_keep(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    demand_each_zone(s->bal, k, demand_keep_row);
}

static void demand_metrics_ratio(const metrics_snap_t *s, const metrics_family_t *f,
                                 metrics_sink_t *k)
{
    demand_each_zone(s->bal, k, demand_ratio_row);
}

/* Answers with a spilled record by zone of first draw: when not 0, and from
 * 0 on for every zone balancing watches. */
static void demand_metrics_spilled(const metrics_snap_t *s, const metrics_family_t *f,
                                   metrics_sink_t *k)
{
    for (int id = 0; id < zone_id_count(); id++)
        if (s->st->pool_spilled[id] || demand_may_spill(s->bal, id))
            metrics_emit(k, &(metrics_row_t){.label = {zone_id_name(id)},
                                             .n = s->st->pool_spilled[id]});
}

static void demand_metrics_solves(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    const demand_t *b = s->bal;
    for (size_t i = 0; b && i < STAT_BAL_ORIGINS && i < b->cfg->n_zones; i++)
        metrics_emit(k,
                     &(metrics_row_t){.label = {b->o[i].name}, .n = b->o[i].recomputes});
}

static void demand_metrics_pushes(const metrics_snap_t *s, const metrics_family_t *f,
                                  metrics_sink_t *k)
{
    for (int r = 0; s->bal && r < DEMAND_PUSH_RESULTS; r++)
        metrics_emit(
            k, &(metrics_row_t){.label = {demand_push_names[r]}, .n = s->bal->pushes[r]});
}

static const metrics_family_t demand_metrics_fam[] = {
    {"dnsd_balance_load_ratio",
     "Worst expected load ratio of a zone's servers (share of answers / share of "
     "weight), with and without spill.",
     METRICS_GAUGE,
     {"origin", "zone", "family", "spill"},
     NULL,
     "%.6g",
     demand_metrics_ratio,
     0,
     NULL},
    {"dnsd_balance_keep_fraction",
     "Share of the draws reaching a zone that stay in it, for zones that spill.",
     METRICS_GAUGE,
     {"origin", "zone", "family"},
     NULL,
     "%.6g",
     demand_metrics_keep,
     0,
     NULL},
    {"dnsd_balance_spilled_total",
     "Pool answers with a record that started past their first zone, by that zone.",
     METRICS_COUNTER,
     {"zone"},
     "balance_spilled",
     NULL,
     demand_metrics_spilled,
     0,
     NULL},
    {"dnsd_balance_recomputations_total",
     "Keep fraction solves.",
     METRICS_COUNTER,
     {"origin"},
     NULL,
     NULL,
     demand_metrics_solves,
     0,
     NULL},
    {"dnsd_balance_demand_pushes_total",
     "Demand tables pushed, by result.",
     METRICS_COUNTER,
     {"result"},
     NULL,
     NULL,
     demand_metrics_pushes,
     0,
     NULL},
};

const metrics_table_t demand_metrics = {
    demand_metrics_fam, sizeof demand_metrics_fam / sizeof demand_metrics_fam[0]};
