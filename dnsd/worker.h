/*
 * worker.h - the worker threads and the data they read.
 *
 * N workers, each a thread with its own uv_loop_t, its own query-path context
 * (RNG, counters) and, for every listen address, its own SO_REUSEPORT UDP socket
 * and TCP listener. The served data is one immutable srv_data_t published
 * through liburcu QSBR: readers take no lock and issue no atomic
 * read-modify-write; a writer swaps the pointer and frees the old data after a
 * grace period (DESIGN.md "Threads, I/O and reload").
 */
#ifndef DNSD_WORKER_H
#define DNSD_WORKER_H

#include <stddef.h>

#include "cfg.h"
#include "data.h"
#include "stats.h"

/* The data currently served. Written only through srv_data_publish() (and
 * set once before the workers start); read by workers via srv_data_get(). */
extern srv_data_t *srv_current;

/*
 * Makes `next` the served data, waits until no worker can still hold the old
 * one (synchronize_rcu) and frees it. Call from a thread that is not a worker
 * (main or control thread); `next` must not be NULL. Blocks for at most about
 * one loop iteration of the slowest worker, since idle workers are offline.
 */
void srv_data_publish(srv_data_t *next);

/*
 * For the worker I/O callbacks: brings the calling worker thread online for
 * RCU if its loop took it offline before blocking, and returns the current
 * data. Valid until the worker's next quiescent state (the end of the current
 * loop iteration): read it once per UDP batch or TCP message, never keep it.
 */
const srv_data_t *srv_data_get(void);

typedef struct srv_workers srv_workers_t;

/*
 * Creates `cfg`'s workers (cfg->workers, or one per online CPU for "auto") with
 * all their sockets created, bound and listening, and their loops ready, but no
 * thread started. Fails with a message naming the address and the errno text
 * when any address cannot be bound. srv_current must be set.
 */
srv_workers_t *srv_workers_new(const cfg_t *cfg, char *err, size_t errlen);

size_t srv_workers_count(const srv_workers_t *ws);

/* Starts the threads. Returns 0, or -1 with a message (threads already
 * started are stopped again by srv_workers_free). */
int srv_workers_start(srv_workers_t *ws, char *err, size_t errlen);

/*
 * Graceful stop: every worker closes its UDP sockets and TCP listeners, lets
 * responses already being written on TCP finish for at most `drain_ms`, then
 * closes every connection; the threads are joined before this returns.
 */
void srv_workers_stop(srv_workers_t *ws, unsigned drain_ms);

/* Stops (if needed, with no drain time) and frees everything. NULL is fine. */
void srv_workers_free(srv_workers_t *ws);

/* Gives worker i queue i of the query log (dnstap.h); before start. */
struct srv_dnstap;
void srv_workers_set_dnstap(srv_workers_t *ws, struct srv_dnstap *dt);

/* The AF_XDP listener (xdp.h), or NULL when there is none. */
struct srv_xdp;
struct srv_xdp *srv_workers_xdp_listener(const srv_workers_t *ws);

/* Sums the workers' counters (relaxed reads: a slightly stale total). */
void srv_workers_stats(const srv_workers_t *ws, srv_stats_t *sum);

#endif
