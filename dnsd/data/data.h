/*
 * data.h - everything the query path reads, as one immutable object.
 *
 * srv_data_t is built at start-up (and, later, on reload or push) off the query
 * path and published with one pointer store; workers read it without locks.
 * The publication is liburcu QSBR: readers take no lock and issue no atomic
 * read-modify-write; the writer swaps the pointer and frees the old data after
 * a grace period (DESIGN.md "Threads, I/O and reload").
 */
#ifndef DNSD_DATA_H
#define DNSD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"
#include "geoip/geo.h"
#include "zones/balance.h"
#include "zones/zones.h"

/* A reference-counted hold on one part of srv_data_t (a zone's static data,
 * a pool, the GeoIP database), so a srv_data_t derived from another by a push
 * or a reload shares every part it did not rebuild, and freeing either one
 * frees only what no other still holds. Only the control thread (and main,
 * before and after it runs) creates and frees srv_data_t: plain counts. */
typedef struct srv_share srv_share_t;

/* Answers handed out per server of one pool, for `dnsdctl servers`: one row
 * of counters per worker, each written only by its worker (plain increments,
 * summed by the control thread with relaxed reads). Lives as long as the pool:
 * a new snapshot starts from zero. */
typedef struct srv_served {
    uint64_t *count;    /* [worker * stride + server index] */
    size_t stride;      /* servers, rounded up to a cache line of counters */
    unsigned n_workers; /* rows; a worker past them does not count */
} srv_served_t;

struct dsec_zone;
struct dsec_pool;
struct rrl;

/* The abuse limits (docs/hardening.md), part of the served data so that a
 * reload applies them like the rest. The daemon builds them (guard.h) and
 * hands them over with srv_data_set_limits; data built without them (unit
 * tests, fuzzing) has no RRL, answers no COOKIE option, and puts no
 * per-client cap or read timeout on TCP. */
typedef struct srv_limits {
    struct rrl *rrl;             /* UDP response rate limiting; NULL: off */
    uint8_t cookie_secret[16];   /* RFC 9018 server cookie key, shared by the fleet */
    bool cookie_random;          /* no cookies.secret: a key of this process */
    unsigned tcp_max_per_client; /* connections per client address; 0: no cap */
    unsigned tcp_read_ms;        /* to finish a begun message; 0: no timeout */
    void (*free)(struct srv_limits *l); /* called with the last data holding it */
} srv_limits_t;

/* Where an origin's pool came from. Once a push was accepted for an origin,
 * what it pushed (kept in state_dir) is served until another push replaces
 * it; the zone's `snapshot` file only seeds a node without pushed state. */
typedef enum {
    SRV_SRC_NONE = 0, /* no valid snapshot */
    SRV_SRC_CONFIG,   /* the zone's `snapshot` file */
    SRV_SRC_STATE,    /* the state file: the last push accepted (and stored) */
    SRV_SRC_PUSH,     /* a push this process accepted */
} srv_src_t;

/* What reading an origin's state file found (srv_state_load). */
typedef enum {
    SRV_STATE_OK = 0,
    SRV_STATE_NONE,       /* no state file: nothing pushed yet, or it was removed */
    SRV_STATE_UNREADABLE, /* stat or access failed (permissions, I/O): left in place */
    SRV_STATE_REFUSED,    /* not a regular file or not a valid snapshot: set aside */
} srv_state_result_t;

typedef struct srv_origin {
    zone_static_t *stat;  /* names and static records */
    zone_pool_t *pool;    /* NULL: no valid snapshot; pool names get NODATA */
    const uint8_t *lname; /* the origin, lname form (owned by stat) */
    size_t lname_len;
    uint32_t ttl;         /* pool answer TTL */
    unsigned answers;     /* records per pool answer */
    unsigned srv_answers; /* SRV records per NTS answer */
    cfg_aaaa_t aaaa;
    zone_pool_params_t params;
    char note[512];          /* where the snapshot came from, or why there is none;
                                for the caller to log */
    char name[256];          /* the origin as text, "pool.ntp.org" */
    srv_share_t *stat_share; /* holds stat */
    srv_share_t *pool_share; /* holds pool (and served); NULL when pool is NULL */
    cfg_balance_t balance;   /* demand-aware balancing (docs/balancing.md) */
    const zone_keep_t *keep; /* keep fractions; NULL: nothing spills */
    srv_share_t *keep_share; /* holds keep */
    srv_served_t *served;    /* per-server answer counters of pool; NULL without */

    srv_src_t src;            /* where pool came from */
    double snap_time;         /* Unix time this node accepted pool: the push
                                 (SRV_SRC_PUSH), else the modification time of
                                 the file it was loaded from, so a restart does
                                 not make an old snapshot look fresh; 0 when
                                 unknown or no pool */
    srv_state_result_t state; /* what the last load found in state_dir */
    char state_err[1024];     /* UNREADABLE, REFUSED: the file and why, for the log */
    uint64_t state_errors;    /* state files refused or unreadable, over the
                                 process's loads (a counter for the metrics) */
    struct dsec_zone *dz;     /* DNSSEC: the signed static data; NULL: unsigned */
    struct dsec_pool *dp;     /* DNSSEC: signed pool answers, made with pool and dz */
    srv_share_t *dz_share, *dp_share;
} srv_origin_t;

typedef struct srv_data {
    srv_origin_t *origins;
    size_t n_origins;
    geo_t *geo;            /* NULL: no GeoIP database, clients map to "@" */
    uint8_t identity[255]; /* NSID and id.server / hostname.bind text */
    size_t identity_len;
    srv_share_t *geo_share;     /* holds geo; NULL when geo is NULL */
    const srv_limits_t *limits; /* NULL: none (see srv_limits_t) */
    srv_share_t *limits_share;
    unsigned n_workers; /* rows of every srv_served_t */
} srv_data_t;

/*
 * Builds the data for `cfg`: master files, GeoIP database, and for each zone
 * the last accepted snapshot in state_dir whatever its serial, else (no state
 * file, or one refused: origin's `state`) the zone's `snapshot` file. A zone
 * without a valid snapshot is served without pool answers (logged). Nothing
 * in state_dir is changed (see srv_data_state_set_aside). Returns NULL with
 * a message in err when a master file or the GeoIP database cannot be loaded.
 */
srv_data_t *srv_data_new(const cfg_t *cfg, char *err, size_t errlen);
void srv_data_free(srv_data_t *d);

/* Makes d hold `lim` (taken over: lim->free runs when the last data holding
 * it is freed, or at once on failure). -1 when out of memory. */
int srv_data_set_limits(srv_data_t *d, srv_limits_t *lim);

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
 * A new srv_data_t equal to `d` except that origin i spills by `keep` (taken
 * over, NULL for none: freed with the result, or at once on failure).
 * Everything else is shared with `d`. NULL when out of memory.
 */
srv_data_t *srv_data_with_keep(const srv_data_t *d, size_t i, zone_keep_t *keep);

/*
 * After a reload built `next` from files: for every origin of `next` that
 * `cur` also serves, carry over the state error count, and keep cur's pool
 * when the files gave no state file and cur's pool was pushed (a push without
 * a state_dir, or a state file that vanished or was refused: an acknowledged
 * push stays until another push replaces it), or when cur's pool came from
 * the `snapshot` file too and is newer. The pool is shared when the scoring
 * parameters are unchanged and rebuilt from a copy of its snapshot otherwise.
 * -1 when out of memory (next is then unchanged for that origin).
 */
int srv_data_keep_newer(srv_data_t *next, const srv_data_t *cur);

/*
 * The line to log for origin o of a load: its note, or when its state file
 * was refused or unreadable, which file, why, and what is served instead.
 * true for the latter (an error: the node does not serve its last push).
 */
bool srv_origin_describe(const srv_origin_t *o, char *buf, size_t len);

/*
 * The warning for an origin whose pool serves NTS SRV records unsigned: the
 * NTS pool's clients reject SRV records without valid DNSSEC signatures
 * (srv-pool.md), so the records are useless to them until the zone is
 * signed. true with the line in buf when it applies.
 */
bool srv_origin_nts_unsigned(const srv_origin_t *o, char *buf, size_t len);

/* Logs what the data holds, once per load (start-up and every reload): each
 * origin's line (srv_origin_describe: an error when its state file was
 * refused, a warning when it serves no pool), the unsigned-NTS warning, and
 * the GeoIP database or its absence. */
void srv_data_log(const srv_data_t *d);

/*
 * Reads the state file `path`: SRV_STATE_OK with *out set, or another result
 * with the file and the reason in err (the parser's first error with line
 * and column, and the count).
 */
srv_state_result_t srv_state_load(const char *path, zone_snapshot_t **out, char *err,
                                  size_t errlen);

/*
 * Renames every REFUSED state file of d aside, to "<file>.corrupt-<UTC
 * time>", and says so in the origin's state_err: the evidence stays, and the
 * next push can store its file. Serving only (not --check).
 */
void srv_data_state_set_aside(const cfg_t *cfg, srv_data_t *d);

/* Writes buf to path atomically and durably: a temporary file
 * "<path>.tmp.<pid>" written and fsync'd, renamed over path, the directory
 * fsync'd. 0, or -1 with a message (the temporary file removed). The one
 * writer of state_dir, so srv_state_sweep() knows what a crash leaves. */
int srv_state_write(const char *path, const void *buf, size_t len, char *err,
                    size_t errlen);

/* What srv_state_sweep() removed, for the log. */
typedef struct srv_state_sweep {
    unsigned removed, failed, busy;
    uint64_t bytes;
    char names[512];      /* the files removed, comma-separated (truncated) */
    char failures[512];   /* the ones that could not be removed */
    char busy_names[512]; /* the ones kept: their writer's pid is alive */
} srv_state_sweep_t;

/*
 * At start-up, before any push: removes the temporary files an interrupted
 * srv_data_persist() left in state_dir (regular files named
 * "<origin>.snapshot.json.tmp.<pid>"; nothing else is touched), except those
 * whose pid is another live process. 0, or -1 with a message when state_dir
 * cannot be read.
 */
int srv_state_sweep(const cfg_t *cfg, srv_state_sweep_t *out, char *err, size_t errlen);

/* Temporary files srv_state_sweep() removed in this process. */
uint64_t srv_state_temp_removed(void);

/*
 * Stores a snapshot's bytes as origin's state file, atomically (write to
 * "<path>.tmp.<pid>", fsync, rename, fsync the directory), so a crash leaves
 * either the old file or the new one. 1 when stored, 0 when there is no
 * state_dir (nothing to do), -1 with a message.
 */
int srv_data_persist(const cfg_t *cfg, const char *origin, const void *buf, size_t len,
                     char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Publication: the one place the served data is swapped in                 */
/* ------------------------------------------------------------------------ */

/* The data currently served. Written only through srv_data_publish() (and
 * set once before any reader starts); readers use srv_data_get(). The
 * control thread, the only writer, may read it directly. */
extern srv_data_t *srv_current;

/*
 * Makes `next` the served data, waits until no reader can still hold the old
 * one (synchronize_rcu) and frees it. Call from a thread that is not a reader
 * (main or control thread); `next` must not be NULL. Blocks for at most about
 * one loop iteration of the slowest worker, since idle workers are offline.
 */
void srv_data_publish(srv_data_t *next);

/*
 * For a reader thread's callbacks: brings the calling thread online for RCU
 * if it was taken offline, and returns the current data. Valid until the
 * thread's next quiescent state: read it once per UDP batch or TCP message,
 * never keep it.
 */
const srv_data_t *srv_data_get(void);

/* A reader thread's life (the workers, io/worker.c): register before its
 * first srv_data_get() (registered threads start online), go offline before
 * blocking, report a quiescent state after each round of callbacks, and
 * unregister before the thread ends. */
void srv_data_reader_register(void);
void srv_data_reader_offline(void);
void srv_data_reader_quiescent(void);
void srv_data_reader_unregister(void);

#endif
