/*
 * demand.h - demand-aware balancing on the control thread (docs/balancing.md):
 * local demand from the workers' counters, decayed; the pushed table; the
 * keep fractions recomputed every `interval` and published with the data;
 * and the replies of dnsdctl balance, demand, servers and demand push.
 *
 * Control thread only: nothing here is touched by a worker.
 */
#ifndef DNSD_DEMAND_H
#define DNSD_DEMAND_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "balance.h"
#include "data.h"
#include "stats.h"

typedef struct srv_bal srv_bal_t;
struct srv_workers;
struct srv_ctl_reply;

/* Balancing state for the origins of `cfg` (pushed tables are read back from
 * state_dir here). NULL when out of memory. */
srv_bal_t *srv_bal_new(const cfg_t *cfg);
void srv_bal_free(srv_bal_t *b);

/* Starts the once-a-second tick on `loop` (the control thread's). */
int srv_bal_start(srv_bal_t *b, uv_loop_t *loop, struct srv_workers *ws);
void srv_bal_close(srv_bal_t *b); /* closes the timer handle */

/* After a reload: the new config (intervals, modes, state_dir). */
void srv_bal_set_cfg(srv_bal_t *b, const cfg_t *cfg);

/* Recomputes every origin whose interval is due (all of them with force) and
 * publishes new data where keep fractions changed. */
void srv_bal_tick(srv_bal_t *b, bool force);

/* Demand pushes by result, for the metrics (bad input is counted). */
typedef enum {
    SRV_BAL_PUSH_OK = 0,
    SRV_BAL_PUSH_INVALID,
    SRV_BAL_PUSH_OLD_SERIAL,
    SRV_BAL_PUSH_UNKNOWN_ORIGIN,
    SRV_BAL_PUSH_STATE_WRITE,
    SRV_BAL_PUSH_PAYLOAD,
    SRV_BAL_PUSH_RESULTS
} srv_bal_push_result_t;
void srv_bal_count_push(srv_bal_t *b, srv_bal_push_result_t r);

/* The balancing part of /metrics (Prometheus text); malloc'd, NULL when out
 * of memory. st: the workers' counters, summed. */
char *srv_bal_metrics(const srv_bal_t *b, const srv_stats_t *st);

/* Control requests; payload is a PUSH-encoded origin (and table). */
void srv_bal_request(srv_bal_t *b, uint8_t type, const uint8_t *payload, size_t len,
                     struct srv_ctl_reply *out);

#endif
