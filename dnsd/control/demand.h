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

#include "dnsd/control/metrics.h"
#include "dnsd/data/data.h"
#include "dnsd/query/stats.h"
#include "zones/balance.h"

typedef struct demand demand_t;
struct workers;
struct control_reply;

/* Balancing state for the origins of `cfg` (pushed tables are read back from
 * state_dir here). NULL when out of memory. */
demand_t *demand_new(const cfg_t *cfg);
void demand_free(demand_t *b);

/* Starts the once-a-second tick on `loop` (the control thread's). */
int demand_start(demand_t *b, uv_loop_t *loop, struct workers *ws);
void demand_close(demand_t *b); /* closes the timer handle */

/* After a reload: the new config (intervals, modes, state_dir). */
void demand_set_cfg(demand_t *b, const cfg_t *cfg);

/* Recomputes every origin whose interval is due (all of them with force) and
 * publishes new data where keep fractions changed. */
void demand_tick(demand_t *b, bool force);

/* Demand pushes by result, for the metrics (bad input is counted). */
typedef enum {
    DEMAND_PUSH_OK = 0,
    DEMAND_PUSH_INVALID,
    DEMAND_PUSH_OLD_SERIAL,
    DEMAND_PUSH_UNKNOWN_ORIGIN,
    DEMAND_PUSH_STATE_WRITE,
    DEMAND_PUSH_PAYLOAD,
    DEMAND_PUSH_RESULTS
} demand_push_result_t;
void demand_count_push(demand_t *b, demand_push_result_t r);

/* The balancing families (metrics.h): load ratios and keep fractions by
 * origin, zone and family; answers spilled by zone; solves; demand pushes.
 * Their rows read metrics_snap_t.bal. */
extern const metrics_table_t demand_metrics;

/* Control requests; payload is a PUSH-encoded origin (and table). */
void demand_request(demand_t *b, uint8_t type, const uint8_t *payload, size_t len,
                    struct control_reply *out);

#endif
