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

/* A reference-counted hold on one part of srv_data_t (a zone's static data,
 * a pool, the GeoIP database), so a srv_data_t derived from another by a push
 * or a reload shares every part it did not rebuild, and freeing either one
 * frees only what no other still holds. Only the control thread (and main,
 * before and after it runs) creates and frees srv_data_t: plain counts. */
typedef struct srv_share srv_share_t;

struct dsec_zone;
struct dsec_pool;

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
    char name[256];           /* the origin as text, "pool.ntp.org" */
    srv_share_t *stat_share;  /* holds stat */
    srv_share_t *pool_share;  /* holds pool; NULL when pool is NULL */
    struct dsec_zone *dz;     /* DNSSEC: the signed static data; NULL: unsigned */
    struct dsec_pool *dp;     /* DNSSEC: signed pool answers, made with pool and dz */
    srv_share_t *dz_share, *dp_share;
} srv_origin_t;

typedef struct srv_data {
    srv_origin_t *origins;
    size_t n_origins;
    geo_t *geo;               /* NULL: no GeoIP database, clients map to "@" */
    uint8_t identity[255];    /* NSID and id.server / hostname.bind text */
    size_t identity_len;
    srv_share_t *geo_share; /* holds geo; NULL when geo is NULL */
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

/* The index of `origin` (text, as in the config) in d->origins; "" names the
 * first zone. -1 when d serves no such origin. */
int srv_data_origin_index(const srv_data_t *d, const char *origin);

/*
 * A new srv_data_t equal to `d` except that origin i serves `pool` (taken
 * over: freed with the result, or at once on failure). Every other part is
 * shared with `d`, which stays valid and unchanged. NULL when out of memory.
 */
srv_data_t *srv_data_with_pool(const srv_data_t *d, size_t i, zone_pool_t *pool);

/*
 * After a reload built `next` from files: for every origin of `next` that
 * `cur` also serves, keep cur's pool when it is newer than what the files
 * gave (a snapshot pushed without a state_dir, or a state file that vanished),
 * so a reload never steps a zone back. The pool is shared when the scoring
 * parameters are unchanged and rebuilt from a copy of its snapshot otherwise.
 * -1 when out of memory (next is then unchanged for that origin).
 */
int srv_data_keep_newer(srv_data_t *next, const srv_data_t *cur);

/*
 * Stores a snapshot's bytes as origin's state file, atomically (write to
 * "<path>.tmp.<pid>", fsync, rename, fsync the directory), so a crash leaves
 * either the old file or the new one. 1 when stored, 0 when there is no
 * state_dir (nothing to do), -1 with a message.
 */
int srv_data_persist(const cfg_t *cfg, const char *origin, const void *buf, size_t len,
                     char *err, size_t errlen);

#endif
