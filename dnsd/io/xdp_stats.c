/*
 * xdp_stats.c - the AF_XDP listener's counters for `dnsdctl status`, and
 * the label values the metrics page (control/metrics_xdp.c) names them by
 * (see xdp.h). Off the query path: allocation is fine here.
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

const char *xdp_kernel_name(int k)
{
    return (unsigned)k < XDP_KERNEL_COUNTERS ? xdp_kernel_names[k] : "other";
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
