/*
 * worker.h - the worker threads and the data they read.
 *
 * N workers, each a thread with its own uv_loop_t, its own query-path context
 * (RNG, counters) and, for every listen address, its own SO_REUSEPORT UDP socket
 * and TCP listener. Each worker reads the served data through
 * srv_data_get() (data.h "Publication").
 */
#ifndef DNSD_WORKER_H
#define DNSD_WORKER_H

#include <stddef.h>

#include "config/cfg.h"
#include "dnsd/data/data.h"
#include "dnsd/query/stats.h"

typedef struct workers workers_t;

/*
 * Creates `cfg`'s workers (cfg->workers, or one per online CPU for "auto") with
 * all their sockets created, bound and listening, and their loops ready, but no
 * thread started. Fails with a message naming the address and the errno text
 * when any address cannot be bound. srv_current must be set.
 */
workers_t *workers_new(const cfg_t *cfg, char *err, size_t errlen);

size_t workers_count(const workers_t *ws);

/* Starts the threads. Returns 0, or -1 with a message (threads already
 * started are stopped again by workers_free). */
int workers_start(workers_t *ws, char *err, size_t errlen);

/*
 * Graceful stop: every worker closes its UDP sockets and TCP listeners, lets
 * responses already being written on TCP finish for at most `drain_ms`, then
 * closes every connection; the threads are joined before this returns.
 */
void workers_stop(workers_t *ws, unsigned drain_ms);

/* Stops (if needed, with no drain time) and frees everything. NULL is fine. */
void workers_free(workers_t *ws);

/* Gives worker i queue i of the query log (dnstap.h); before start. */
struct dnstap;
void workers_set_dnstap(workers_t *ws, struct dnstap *dt);

/* The AF_XDP listener (xdp.h), or NULL when there is none. */
struct xdp;
struct xdp *workers_xdp_listener(const workers_t *ws);

/* Sums the workers' counters (relaxed reads: a slightly stale total). */
void workers_stats(const workers_t *ws, stat_counters_t *sum);

#endif
