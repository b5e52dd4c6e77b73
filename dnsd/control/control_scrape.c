/*
 * control_scrape.c - one snapshot of every counter (the control thread's,
 * the workers' sums, the served data, balancing, the AF_XDP queues) and its
 * two renderings from one list of families (metrics.h): the /metrics page
 * (metrics_http.c asks) and the STATS reply. On the control thread, the only
 * writer of srv_current: it reads the data without RCU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_int.h"
#include "dnsd/control/demand.h"
#include "dnsd/control/dnssec_info.h"
#include "dnsd/control/metrics.h"
#include "dnsd/control/metrics_http.h"
#include "dnsd/io/xdp.h"
#include "dnssec/dnssec.h"

/* Every family both outputs show, in the page's order. */
static const metrics_table_t *const control_scrape_list[] = {&metrics_core, &metrics_xdp,
                                                             &demand_metrics};
#define CONTROL_SCRAPE_TABLES (sizeof control_scrape_list / sizeof control_scrape_list[0])

/* What one snapshot holds beyond metrics_snap_t's borrowed pointers. */
typedef struct control_scrape_snap {
    metrics_snap_t s;
    stat_counters_t *st;
    metrics_origin_t *origins;
    xdp_qstats_t *xdp;
    char refusal_names[CONTROL_REFUSALS_MAX][32];
    metrics_label_count_t frames[CONTROL_REFUSALS_MAX];
    metrics_label_count_t limits[CONTROL_LIMITS];
} control_scrape_snap_t;

/* The served origins' serials and server counts ("@" covers every server). */
static metrics_origin_t *control_scrape_origins(const srv_data_t *d)
{
    metrics_origin_t *o = calloc(d->n_origins ? d->n_origins : 1, sizeof *o);
    for (size_t i = 0; o && i < d->n_origins; i++) {
        const srv_origin_t *so = &d->origins[i];
        o[i].name = so->name;
        o[i].has_pool = so->pool != NULL;
        o[i].state_errors = so->state_errors;
        o[i].dnssec = so->dz != NULL;
        o[i].sig_expiry_s =
            so->dz ? (double)dnssec_info_expiry(so) - (double)time(NULL) : 0;
        o[i].sig_set_bytes = dnssec_info_set_bytes(so);
        if (!so->pool)
            continue;
        o[i].serial = zone_pool_snapshot(so->pool)->serial;
        o[i].snapshot_time = so->snap_time;
        for (int f = 0; f < 2; f++)
            zone_pool_counts(so->pool, ZONE_GLOBAL, f ? 6 : 4, &o[i].servers[f][0],
                             &o[i].servers[f][1]);
        zone_pool_nts_counts(so->pool, ZONE_GLOBAL, &o[i].nts[0], &o[i].nts[1],
                             &o[i].nts[2]);
    }
    return o;
}

/* Protocol refusals, named after ctl_strerror ("bad MAC" -> "bad_mac"): the
 * protocol's own (1..8) always, so a monitor sees zeros rather than absent
 * series, the others once they happened. */
static size_t control_scrape_frames(control_scrape_snap_t *k, const control_stats_t *st)
{
    size_t n = 0;
    for (int e = 1; e <= CONTROL_REFUSALS_MAX; e++) {
        if (e > 8 && !st->errors[e])
            continue;
        char *name = k->refusal_names[n];
        snprintf(name, sizeof k->refusal_names[n], "%s", ctl_strerror(-e));
        for (char *q = name; *q; q++)
            *q = *q == ' ' ? '_' : (*q >= 'A' && *q <= 'Z') ? (char)(*q + 32) : *q;
        k->frames[n++] = (metrics_label_count_t){name, st->errors[e]};
    }
    return n;
}

/* The AF_XDP listener's queues, when one runs: 0, or -1 out of memory. */
static int control_scrape_xdp(control_scrape_snap_t *k, const xdp_t *x)
{
    size_t n = x ? xdp_queues(x) : 0;
    if (!x)
        return 0;
    if (!(k->xdp = calloc(n ? n : 1, sizeof *k->xdp)))
        return -1;
    for (size_t i = 0; i < n; i++)
        xdp_queue_stats(x, i, &k->xdp[i]);
    k->s.xdp_interface = xdp_interface(x);
    k->s.xdp_mode = xdp_mode(x);
    k->s.xdp_queues = k->xdp;
    k->s.n_xdp_queues = n;
    return 0;
}

static void control_scrape_control(control_scrape_snap_t *k, const control_t *c)
{
    metrics_snap_t *s = &k->s;
    for (int i = 0; i < CONTROL_LIMITS; i++)
        k->limits[i] = (metrics_label_count_t){control_limit_names[i], c->st.limits[i]};
    s->ctl_limits = k->limits;
    s->n_ctl_limits = CONTROL_LIMITS;
    s->ctl_conns_unix = c->st.conns_unix;
    s->ctl_conns_tcp = c->st.conns_tcp;
    s->ctl_conns_refused = c->st.conns_refused;
    static const int req[4] = {CTL_T_PUSH, CTL_T_STATUS, CTL_T_RELOAD, CTL_T_STATS};
    for (int i = 0; i < 4; i++)
        s->ctl_requests[i] = c->st.requests[req[i]];
    s->frames_refused = k->frames;
    s->n_frames_refused = control_scrape_frames(k, &c->st);
    s->push_ok = c->st.push_ok;
    memcpy(s->push_refused, c->st.push_refused_by, sizeof s->push_refused);
    memcpy(s->push_duration, c->st.push_time, sizeof s->push_duration);
    memcpy(s->last_push_ms, c->st.last_push_ms, sizeof s->last_push_ms);
    s->reload_ok = c->st.reload_ok;
    s->reload_failed = c->st.reload_failed;
    s->geoip_refused = c->st.geoip_refused;
}

static void control_scrape_deinit(control_scrape_snap_t *k)
{
    free(k->st);
    free(k->origins);
    free(k->xdp);
}

/* Takes the snapshot: 0, or -1 when out of memory (k is then deinit'd). */
static int control_scrape_init(control_scrape_snap_t *k, control_t *c,
                               const uint64_t requests[5], const uint64_t conns[3])
{
    const srv_data_t *d = srv_current; /* only this thread replaces it */
    memset(k, 0, sizeof *k);
    k->st = calloc(1, sizeof *k->st);
    k->origins = control_scrape_origins(d);
    if (!k->st || !k->origins ||
        control_scrape_xdp(k, workers_xdp_listener(c->ws)) != 0) {
        control_scrape_deinit(k);
        return -1;
    }
    workers_stats(c->ws, k->st);
    double up = (double)(uv_hrtime() - c->started_ns) / 1e9;
    metrics_snap_t *s = &k->s;
    s->version = DNSD_VERSION;
    s->workers = workers_count(c->ws);
    s->start_time = (double)time(NULL) - up;
    s->last_reload_time = (double)c->last_reload.time;
    s->last_reload_ok = strncmp(c->last_reload.result, "ok", 2) == 0;
    s->st = k->st;
    s->origins = k->origins;
    s->n_origins = d->n_origins;
    control_scrape_control(k, c);
    memcpy(s->http_requests, requests, sizeof s->http_requests);
    memcpy(s->http_conns, conns, sizeof s->http_conns);
    s->state_temp_removed = srv_state_temp_removed();
    s->dnssec_signatures = dsec_signatures_total();
    s->bal = c->bal;
    return 0;
}

char *control_scrape(void *arg, const uint64_t requests[5], const uint64_t conns[3],
                     size_t *len)
{
    control_scrape_snap_t k;
    char *out = NULL;
    if (control_scrape_init(&k, arg, requests, conns) != 0)
        return NULL;
    if (metrics_render(control_scrape_list, CONTROL_SCRAPE_TABLES, &k.s, &out, len) != 0)
        out = NULL;
    control_scrape_deinit(&k);
    return out;
}

char *control_scrape_stats(control_t *c)
{
    control_scrape_snap_t k;
    uint64_t requests[5], conns[3];
    strbuf_t b = {0};
    metrics_http_counts(c->metrics, requests, conns);
    if (control_scrape_init(&k, c, requests, conns) != 0)
        return NULL;
    metrics_render_json(control_scrape_list, CONTROL_SCRAPE_TABLES, &k.s, &b);
    control_scrape_deinit(&k);
    return strbuf_take(&b);
}
