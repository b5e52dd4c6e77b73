/*
 * xdp_stats.c - the AF_XDP listener's counters for `dnsdctl status` and the
 * metrics page (see xdp.h). Off the query path: allocation is fine here.
 * Built with or without XDP support; without it there is never a listener.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dnsd/io/xdp.h"

static const char *const xdp_drop_names[XDP_DROP_REASONS] = {
    "frame",   "not_ours", "checksum",  "udp_checksum",
    "address", "too_big",  "no_answer", "tx_full"};

/* The kernel's per-socket counters (struct xdp_statistics), in xdp_qstats_t
 * order from k_rx_dropped on. */
static const char *const xdp_kernel_names[6] = {
    "rx_dropped",   "rx_invalid_descs",         "tx_invalid_descs",
    "rx_ring_full", "rx_fill_ring_empty_descs", "tx_ring_empty_descs"};

const char *xdp_drop_name(xdp_drop_t d)
{
    return (unsigned)d < XDP_DROP_REASONS ? xdp_drop_names[d] : "other";
}

static const uint64_t *xdp_kernel(const xdp_qstats_t *q)
{
    return &q->k_rx_dropped;
}

static void xdp_json_queue(FILE *f, const xdp_qstats_t *q)
{
    fprintf(f,
            "{\"queue\": %u, \"worker\": %u, \"rx\": %llu, \"tx\": %llu, "
            "\"fill_stalls\": %llu, \"completion_stalls\": %llu, \"wakeups\": %llu, "
            "\"dropped\": {",
            q->queue, q->worker, (unsigned long long)q->rx, (unsigned long long)q->tx,
            (unsigned long long)q->fill_stalls, (unsigned long long)q->comp_stalls,
            (unsigned long long)q->wakeups);
    for (int k = 0; k < XDP_DROP_REASONS; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", xdp_drop_names[k],
                (unsigned long long)q->dropped[k]);
    fputs("}, \"kernel\": {", f);
    for (int k = 0; k < 6; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", xdp_kernel_names[k],
                (unsigned long long)xdp_kernel(q)[k]);
    fputs("}}", f);
}

char *xdp_status_json(const xdp_t *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    if (!x || !(f = open_memstream(&buf, &len)))
        return NULL;
    /* Interface names are checked at load time: no character needs escaping. */
    fprintf(f, "{\"interface\": \"%s\", \"mode\": \"%s\", \"queues\": [",
            xdp_interface(x), xdp_mode(x));
    for (size_t i = 0; i < xdp_queues(x); i++) {
        xdp_qstats_t q = {0};
        xdp_queue_stats(x, i, &q);
        fputs(i ? ", " : "", f);
        xdp_json_queue(f, &q);
    }
    fputs("]}", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void xdp_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family with a sample per queue and label value. */
static void xdp_per_queue(FILE *f, const xdp_qstats_t *qs, size_t n, const char *name,
                          const char *label, const char *const *values, size_t n_values,
                          void (*pick)(const xdp_qstats_t *, size_t, uint64_t *))
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_values; k++) {
            uint64_t v = 0;
            pick(&qs[i], k, &v);
            fprintf(f, "%s{queue=\"%u\",%s=\"%s\"} %llu\n", name, qs[i].queue, label,
                    values[k], (unsigned long long)v);
        }
}

static void xdp_pick_packets(const xdp_qstats_t *q, size_t k, uint64_t *v)
{
    *v = k ? q->tx : q->rx;
}

static void xdp_pick_drop(const xdp_qstats_t *q, size_t k, uint64_t *v)
{
    *v = q->dropped[k];
}

static void xdp_pick_stall(const xdp_qstats_t *q, size_t k, uint64_t *v)
{
    *v = k ? q->comp_stalls : q->fill_stalls;
}

static void xdp_pick_kernel(const xdp_qstats_t *q, size_t k, uint64_t *v)
{
    *v = xdp_kernel(q)[k];
}

static void xdp_render(FILE *f, const xdp_t *x, const xdp_qstats_t *qs, size_t n)
{
    static const char *const dir[2] = {"rx", "tx"}, *const ring[2] = {"fill",
                                                                      "completion"};
    xdp_family(f, "dnsd_xdp_info", "gauge",
               "Always 1: the AF_XDP listener's interface and mode in use.");
    fprintf(f, "dnsd_xdp_info{interface=\"%s\",mode=\"%s\"} 1\n", xdp_interface(x),
            xdp_mode(x));
    xdp_family(f, "dnsd_xdp_packets_total", "counter",
               "Frames received and replies sent over AF_XDP, by queue.");
    xdp_per_queue(f, qs, n, "dnsd_xdp_packets_total", "direction", dir, 2,
                  xdp_pick_packets);
    xdp_family(f, "dnsd_xdp_dropped_total", "counter",
               "Frames the AF_XDP path dropped, by queue and reason.");
    xdp_per_queue(f, qs, n, "dnsd_xdp_dropped_total", "reason", xdp_drop_names,
                  XDP_DROP_REASONS, xdp_pick_drop);
    xdp_family(f, "dnsd_xdp_ring_stalls_total", "counter",
               "Times the fill ring had no free frame or the transmit ring no room "
               "until completions came back, by queue.");
    xdp_per_queue(f, qs, n, "dnsd_xdp_ring_stalls_total", "ring", ring, 2,
                  xdp_pick_stall);
    xdp_family(f, "dnsd_xdp_kernel_total", "counter",
               "The kernel's AF_XDP socket counters (XDP_STATISTICS), by queue.");
    xdp_per_queue(f, qs, n, "dnsd_xdp_kernel_total", "counter", xdp_kernel_names, 6,
                  xdp_pick_kernel);
    xdp_family(f, "dnsd_xdp_wakeups_total", "counter",
               "System calls that kicked the AF_XDP rings, by queue.");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "dnsd_xdp_wakeups_total{queue=\"%u\"} %llu\n", qs[i].queue,
                (unsigned long long)qs[i].wakeups);
}

char *xdp_metrics(const xdp_t *x)
{
    char *buf = NULL;
    size_t len = 0, n = x ? xdp_queues(x) : 0;
    xdp_qstats_t *qs = x ? calloc(n ? n : 1, sizeof *qs) : NULL;
    FILE *f = qs ? open_memstream(&buf, &len) : NULL;
    if (!f) {
        free(qs);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        xdp_queue_stats(x, i, &qs[i]);
    xdp_render(f, x, qs, n);
    free(qs);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
