/*
 * metrics_xdp.c - the AF_XDP listener's families (metrics.h), shown while a
 * listener runs: per receive queue, what dnsd_xdp_* counts (dnsd/io/xdp.h).
 * control_scrape.c copies the queues' counters into the snapshot.
 */
#include <stdio.h>

#include "dnsd/control/metrics.h"
#include "dnsd/io/xdp.h"

static bool metrics_xdp_shown(const metrics_snap_t *s)
{
    return s->xdp_interface != NULL;
}

static void metrics_xdp_info(const metrics_snap_t *s, const metrics_family_t *f,
                             metrics_sink_t *k)
{
    metrics_emit(k, &(metrics_row_t){.label = {s->xdp_interface, s->xdp_mode}, .n = 1});
}

/* One sample per queue and value of the family's second label. */
static void metrics_xdp_queues(const metrics_snap_t *s, metrics_sink_t *k,
                               const char *const *values, size_t n_values,
                               uint64_t (*pick)(const xdp_qstats_t *, size_t))
{
    char queue[16];
    for (size_t i = 0; i < s->n_xdp_queues; i++) {
        const xdp_qstats_t *q = &s->xdp_queues[i];
        snprintf(queue, sizeof queue, "%u", q->queue);
        for (size_t v = 0; v < n_values; v++)
            metrics_emit(k, &(metrics_row_t){.label = {queue, values ? values[v] : NULL},
                                             .n = pick(q, v)});
    }
}

static uint64_t metrics_xdp_pick_packets(const xdp_qstats_t *q, size_t v)
{
    return v ? q->tx : q->rx;
}

static void metrics_xdp_packets(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    static const char *const dir[2] = {"rx", "tx"};
    metrics_xdp_queues(s, k, dir, 2, metrics_xdp_pick_packets);
}

static uint64_t metrics_xdp_pick_drop(const xdp_qstats_t *q, size_t v)
{
    return q->dropped[v];
}

static void metrics_xdp_dropped(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    const char *names[XDP_DROP_REASONS];
    for (int d = 0; d < XDP_DROP_REASONS; d++)
        names[d] = xdp_drop_name((xdp_drop_t)d);
    metrics_xdp_queues(s, k, names, XDP_DROP_REASONS, metrics_xdp_pick_drop);
}

static uint64_t metrics_xdp_pick_stall(const xdp_qstats_t *q, size_t v)
{
    return v ? q->comp_stalls : q->fill_stalls;
}

static void metrics_xdp_stalls(const metrics_snap_t *s, const metrics_family_t *f,
                               metrics_sink_t *k)
{
    static const char *const ring[2] = {"fill", "completion"};
    metrics_xdp_queues(s, k, ring, 2, metrics_xdp_pick_stall);
}

static uint64_t metrics_xdp_pick_kernel(const xdp_qstats_t *q, size_t v)
{
    const uint64_t k[XDP_KERNEL_COUNTERS] = {q->k_rx_dropped,      q->k_rx_invalid,
                                             q->k_tx_invalid,      q->k_rx_ring_full,
                                             q->k_fill_ring_empty, q->k_tx_ring_empty};
    return k[v];
}

static void metrics_xdp_kernel(const metrics_snap_t *s, const metrics_family_t *f,
                               metrics_sink_t *k)
{
    const char *names[XDP_KERNEL_COUNTERS];
    for (int c = 0; c < XDP_KERNEL_COUNTERS; c++)
        names[c] = xdp_kernel_name(c);
    metrics_xdp_queues(s, k, names, XDP_KERNEL_COUNTERS, metrics_xdp_pick_kernel);
}

static uint64_t metrics_xdp_pick_wakeups(const xdp_qstats_t *q, size_t v)
{
    return q->wakeups;
}

static void metrics_xdp_wakeups(const metrics_snap_t *s, const metrics_family_t *f,
                                metrics_sink_t *k)
{
    metrics_xdp_queues(s, k, NULL, 1, metrics_xdp_pick_wakeups);
}

#define X(name, help, type, l1, rows)                                                    \
    {                                                                                    \
        name, help, type, {"queue", l1}, NULL, NULL, rows, 0, metrics_xdp_shown          \
    }

static const metrics_family_t metrics_xdp_fam[] = {
    {"dnsd_xdp_info",
     "Always 1: the AF_XDP listener's interface and mode in use.",
     METRICS_GAUGE,
     {"interface", "mode"},
     NULL,
     NULL,
     metrics_xdp_info,
     0,
     metrics_xdp_shown},
    X("dnsd_xdp_packets_total", "Frames received and replies sent over AF_XDP, by queue.",
      METRICS_COUNTER, "direction", metrics_xdp_packets),
    X("dnsd_xdp_dropped_total", "Frames the AF_XDP path dropped, by queue and reason.",
      METRICS_COUNTER, "reason", metrics_xdp_dropped),
    X("dnsd_xdp_ring_stalls_total",
      "Times the fill ring had no free frame or the transmit ring no room until "
      "completions came back, by queue.",
      METRICS_COUNTER, "ring", metrics_xdp_stalls),
    X("dnsd_xdp_kernel_total",
      "The kernel's AF_XDP socket counters (XDP_STATISTICS), by queue.", METRICS_COUNTER,
      "counter", metrics_xdp_kernel),
    X("dnsd_xdp_wakeups_total", "System calls that kicked the AF_XDP rings, by queue.",
      METRICS_COUNTER, NULL, metrics_xdp_wakeups),
};

const metrics_table_t metrics_xdp = {metrics_xdp_fam,
                                     sizeof metrics_xdp_fam / sizeof metrics_xdp_fam[0]};
