/*
 * data.h - everything the query path reads, as one immutable object.
 *
 * srv_data_t is built at start-up (and, later, on reload or push) off the query
 * path and published with one pointer store; workers read it without locks.
 */
#ifndef DNSD_DATA_H
#define DNSD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "geo.h"
#include "zones.h"

typedef struct srv_origin {
    zone_static_t *stat;      /* names and static records */
    zone_pool_t *pool;        /* NULL: no valid snapshot; pool names get NODATA */
    const uint8_t *lname;     /* the origin, lname form (owned by stat) */
    size_t lname_len;
    uint32_t ttl;             /* pool answer TTL */
    unsigned answers;         /* records per pool answer */
    cfg_aaaa_t aaaa;
    zone_pool_params_t params;
    char note[512];           /* where the snapshot came from, or why there is none;
                                 for the caller to log */
} srv_origin_t;

typedef struct srv_data {
    srv_origin_t *origins;
    size_t n_origins;
    geo_t *geo;               /* NULL: no GeoIP database, clients map to "@" */
    uint8_t identity[255];    /* NSID and id.server / hostname.bind text */
    size_t identity_len;
} srv_data_t;

/*
 * Builds the data for `cfg`: master files, GeoIP database, and for each zone the
 * newest valid snapshot of: the last accepted one in state_dir, else the zone's
 * `snapshot` file. A zone without a valid snapshot is served without pool
 * answers (logged). Returns NULL with a message in err when a master file or
 * the GeoIP database cannot be loaded.
 */
srv_data_t *srv_data_new(const cfg_t *cfg, char *err, size_t errlen);
void srv_data_free(srv_data_t *d);

/* The file in state_dir that holds the last accepted snapshot of `origin`:
 * "<state_dir>/<origin>.snapshot.json". Returns -1 when there is no state_dir
 * or the path does not fit. */
int srv_data_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len);

#endif
