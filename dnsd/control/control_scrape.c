/*
 * control_scrape.c - one /metrics page from the control thread's counters,
 * the workers' sums and the served data (metrics_http.c asks, metrics.c
 * renders). On the control thread, the only writer of srv_current: it reads
 * the data without RCU.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_int.h"
#include "dnsd/control/demand.h"
#include "dnsd/control/dnssec_info.h"
#include "dnsd/control/metrics.h"
#include "dnsd/io/xdp.h"
#include "dnssec/dnssec.h"

/* The served origins' serials and server counts ("@" covers every server). */
static met_origin_t *control_scrape_origins(const srv_data_t *d)
{
    met_origin_t *o = calloc(d->n_origins ? d->n_origins : 1, sizeof *o);
    for (size_t i = 0; o && i < d->n_origins; i++) {
        const srv_origin_t *so = &d->origins[i];
        o[i].name = so->name;
        o[i].has_pool = so->pool != NULL;
        o[i].state_errors = so->state_errors;
        o[i].dnssec = so->dz != NULL;
        o[i].sig_expiry_s =
            so->dz ? (double)srv_dnssec_expiry(so) - (double)time(NULL) : 0;
        o[i].sig_set_bytes = srv_dnssec_set_bytes(so);
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

/* Control refusals labelled as in STATS (control_refusals). */
static size_t control_scrape_frames(const control_stats_t *st, met_label_count_t *out,
                                    control_refusal_t *r)
{
    size_t n = control_refusals(st, r);
    for (size_t i = 0; i < n; i++)
        out[i] = (met_label_count_t){.label = r[i].name, .value = r[i].count};
    return n;
}

/* Appends the AF_XDP listener's families (xdp.h) when it runs; on a failed
 * allocation the page goes out without them. */
static char *control_scrape_xdp(control_t *c, char *out, size_t *len)
{
    char *x = xdp_metrics(workers_xdp_listener(c->ws));
    size_t n = x ? strlen(x) : 0;
    char *r = n ? realloc(out, *len + n + 1) : out;
    if (r && n) {
        memcpy(r + *len, x, n + 1);
        *len += n;
    }
    free(x);
    return r ? r : out;
}

/* Appends the balancing block (demand_metrics, taken over) to the page; the
 * page is dropped when memory runs out, as for any other part. */
static char *control_scrape_balance(char *out, size_t *len, char *more)
{
    size_t n = more ? strlen(more) : 0;
    char *p = out && more ? realloc(out, *len + n + 1) : NULL;
    if (p) {
        memcpy(p + *len, more, n + 1);
        *len += n;
    } else {
        free(out);
    }
    free(more);
    return p;
}

char *control_scrape(void *arg, const uint64_t requests[5], const uint64_t conns[3],
                     size_t *len)
{
    control_t *c = arg;
    const srv_data_t *d = srv_current; /* only this thread replaces it */
    srv_stats_t *st = calloc(1, sizeof *st);
    met_origin_t *origins = control_scrape_origins(d);
    met_label_count_t frames[CONTROL_REFUSALS_MAX];
    control_refusal_t refusals[CONTROL_REFUSALS_MAX];
    met_label_count_t limits[CONTROL_LIMITS];
    char *out = NULL;
    for (int i = 0; i < CONTROL_LIMITS; i++)
        limits[i] = (met_label_count_t){control_limit_names[i], c->st.limits[i]};
    if (st && origins) {
        workers_stats(c->ws, st);
        double up = (double)(uv_hrtime() - c->started_ns) / 1e9;
        met_snap_t s = {
            .version = DNSD_VERSION,
            .workers = workers_count(c->ws),
            .start_time = (double)time(NULL) - up,
            .last_reload_time = (double)c->last_reload.time,
            .last_reload_ok = strncmp(c->last_reload.result, "ok", 2) == 0,
            .st = st,
            .origins = origins,
            .n_origins = d->n_origins,
            .ctl_conns_unix = c->st.conns_unix,
            .ctl_conns_tcp = c->st.conns_tcp,
            .ctl_conns_refused = c->st.conns_refused,
            .ctl_requests = {c->st.requests[CTL_T_PUSH], c->st.requests[CTL_T_STATUS],
                             c->st.requests[CTL_T_RELOAD], c->st.requests[CTL_T_STATS]},
            .frames_refused = frames,
            .n_frames_refused = control_scrape_frames(&c->st, frames, refusals),
            .ctl_limits = limits,
            .n_ctl_limits = CONTROL_LIMITS,
            .http_conns = {conns[0], conns[1], conns[2]},
            .push_ok = c->st.push_ok,
            .reload_ok = c->st.reload_ok,
            .reload_failed = c->st.reload_failed,
            .geoip_refused = c->st.geoip_refused,
            .state_temp_removed = srv_state_temp_removed(),
            .dnssec_signatures = dsec_signatures_total(),
        };
        memcpy(s.push_refused, c->st.push_refused_by, sizeof s.push_refused);
        memcpy(s.push_duration, c->st.push_time, sizeof s.push_duration);
        memcpy(s.http_requests, requests, sizeof s.http_requests);
        if (met_render(&s, &out, len) != 0)
            out = NULL;
        else
            out = control_scrape_xdp(c, out, len);
        out = control_scrape_balance(out, len, demand_metrics(c->bal, st));
    }
    free(st);
    free(origins);
    return out;
}
