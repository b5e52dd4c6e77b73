/*
 * zones.h - the pool model: the zone tree, static records from master files,
 * snapshots of scored servers, and weighted selection.
 *
 * Everything here is built at load time and immutable afterwards, so any number
 * of worker threads may read it without locks. Query-path functions
 * (zone_static_find, zone_pool_pick, zone_id_*) never allocate, never lock and
 * never call ldns.
 *
 * Names on the query path are in "lname" form: uncompressed DNS wire format
 * (length-prefixed labels ending with the root label 0), ASCII letters lower-cased.
 */
#ifndef DNSD_ZONES_H
#define DNSD_ZONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ZONE_ERR_MAX 1024

/* ------------------------------------------------------------------------ */
/* The zone tree: "@", seven continents, every ISO 3166-1 alpha-2 country.  */
/* ------------------------------------------------------------------------ */

enum {
    ZONE_GLOBAL = 0, /* "@", the whole pool */
    ZONE_AFRICA = 1,
    ZONE_ANTARCTICA = 2,
    ZONE_ASIA = 3,
    ZONE_EUROPE = 4,
    ZONE_NORTH_AMERICA = 5,
    ZONE_OCEANIA = 6,
    ZONE_SOUTH_AMERICA = 7,
    ZONE_FIRST_COUNTRY =
        8, /* countries follow in alphabetical order of their zone name */
};
#define ZONE_ID_MAX 320 /* upper bound of zone_id_count(), for arrays indexed by id */

int zone_id_count(void);

/* Zone name -> id. Case-insensitive. "@" -> ZONE_GLOBAL; "europe",
 * "north-america", ...; "de"; "uk" is GB's zone and "gb" an alias of it.
 * Returns -1 for anything else. */
int zone_id_lookup(const char *name, size_t len);

/* The canonical zone name: "@", "europe", "de", "uk". NULL for a bad id. */
const char *zone_id_name(int id);

/* ISO 3166-1 alpha-2 code (either case; "GB" and "UK" both give uk's zone) ->
 * id, or -1. */
int zone_id_from_cc(const char *cc);

/* Continent code as GeoIP2 databases write it ("AF", "AN", "AS", "EU", "NA",
 * "OC", "SA"; either case) -> id, or -1. */
int zone_id_from_continent_code(const char *code);

/* The continent of a country id (built-in ISO 3166 table); a continent maps
 * to itself and ZONE_GLOBAL to ZONE_GLOBAL; -1 for a bad id. */
int zone_id_continent(int id);

bool zone_id_is_country(int id);
bool zone_id_is_continent(int id);

/* The fallback walk for a zone: country -> its continent -> "@"; continent ->
 * "@"; "@" alone. Fills walk[] and returns how many (1..3). */
size_t zone_walk(int id, int walk[3]);

/* The walk of a located client: its country, its continent (either -1 when
 * unknown; the continent may be the GeoIP database's rather than the built-in
 * table's), then "@". Fills walk[] and returns how many (1..3). Every pool
 * answer draws along one of these two walks. */
size_t zone_walk_geo(int country, int continent, int walk[3]);

/* ------------------------------------------------------------------------ */
/* Error lists: every problem of a snapshot, each "file:line:col: what".      */
/* ------------------------------------------------------------------------ */

typedef struct zone_errors {
    char **msgs;
    size_t n;       /* messages kept (at most ZONE_ERRORS_KEEP) */
    size_t dropped; /* further errors counted but not kept */
} zone_errors_t;
#define ZONE_ERRORS_KEEP 200

void zone_errors_init(zone_errors_t *e);
void zone_errors_add(zone_errors_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void zone_errors_print(const zone_errors_t *e, FILE *out); /* one per line */
void zone_errors_deinit(zone_errors_t *e);

/* ------------------------------------------------------------------------ */
/* Strict JSON (RFC 8259) for pushed files: a pull reader, one token a call. */
/* ------------------------------------------------------------------------ */

/* Nesting the reader can track at all, and the bound pushed files use: a
 * snapshot needs 3 levels (document, servers, zones); 32 leaves room for any
 * later table and keeps a hostile "[[[[..." refused after 32 bytes. */
#define ZONE_JSON_DEPTH_MAX 64
#define ZONE_JSON_DEPTH 32

enum {
    ZONE_JSON_ERROR = -1, /* zone_json_t.err says why, at err_line:err_col */
    ZONE_JSON_END = 0,    /* the one top-level value was read; nothing follows */
    ZONE_JSON_OBJECT,     /* '{' */
    ZONE_JSON_OBJECT_END, /* '}' */
    ZONE_JSON_ARRAY,      /* '[' */
    ZONE_JSON_ARRAY_END,  /* ']' */
    ZONE_JSON_KEY,        /* a member's name (its ':' is consumed) */
    ZONE_JSON_STRING,
    ZONE_JSON_NUMBER, /* text is the literal, valid per RFC 8259 section 6 */
    ZONE_JSON_TRUE,
    ZONE_JSON_FALSE,
    ZONE_JSON_NULL,
};

typedef struct zone_json_token {
    int type; /* ZONE_JSON_* */
    /* KEY and STRING: the decoded UTF-8, NUL-terminated and free of NULs;
     * NUMBER, TRUE, FALSE, NULL: the literal. Valid until the next call. */
    const char *text;
    size_t len;
    uint32_t line, col; /* 1-based; columns count characters */
} zone_json_token_t;

typedef struct zone_json {
    const char *p, *end;
    uint32_t line, col;
    unsigned depth, max_depth;
    uint64_t is_obj; /* bit d: the container at depth d is an object */
    int state;
    char *str; /* the current token's text */
    size_t str_cap;
    char err[128];
    uint32_t err_line, err_col;
} zone_json_t;

/* Reads buf[0..len) (not NUL-terminated); at most max_depth (<=
 * ZONE_JSON_DEPTH_MAX) nested objects and arrays. Linear in len. */
void zone_json_init(zone_json_t *j, const char *buf, size_t len, unsigned max_depth);
void zone_json_deinit(zone_json_t *j);

/* The next token into *t; returns its type. After ZONE_JSON_ERROR every call
 * returns it again. Duplicate keys are the caller's to find: only it knows
 * which keys it keeps. */
int zone_json_next(zone_json_t *j, zone_json_token_t *t);

/* Skips the value that starts at *t (a scalar, or a whole object or array),
 * leaving *t at its last token; 0, or ZONE_JSON_ERROR on a syntax error on
 * the way (in j->err). */
int zone_json_skip(zone_json_t *j, zone_json_token_t *t);

/* "an object", "an array", "a string", "a number", "a boolean", "null". */
const char *zone_json_type_name(int type);

/* ------------------------------------------------------------------------ */
/* Snapshots (DESIGN.md "Snapshot"): strict JSON, read with zone_json_t.     */
/* ------------------------------------------------------------------------ */

#define ZONE_NETSPEED_MAX 1000000000u /* kbit/s (1 Tbit/s): bounds the weight sums */

typedef struct zone_server {
    uint8_t family;    /* 4 or 6 */
    uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
    double score;      /* -100 .. 20 */
    uint32_t netspeed; /* kbit/s, 0 .. ZONE_NETSPEED_MAX */
    uint16_t zones[8]; /* zone ids listed for it (never ZONE_GLOBAL; implied) */
    uint8_t n_zones;
    uint16_t nts_port; /* NTS-KE port (RFC 8915 section 6: default 4460); 0 = no NTS */
    uint32_t nts_host; /* offset of its NTS-KE host (lname form) in nts_names */
} zone_server_t;

typedef struct zone_snapshot {
    uint64_t serial;
    zone_server_t *servers;
    size_t n_servers;
    uint8_t *nts_names; /* the servers' NTS-KE hosts, lname form, back to back */
    size_t nts_len, nts_cap;
} zone_snapshot_t;

/*
 * Parses and validates a snapshot. On success returns 0 and *out. On failure
 * returns -1, *out stays NULL and `errs` lists every problem found with line and
 * column: bad, unusable (zone_addr_problem) or duplicate address, unknown
 * zone, score outside [-100, 20], negative, fractional or non-numeric
 * netspeed, missing or unknown keys, wrong types, missing serial, more than 8
 * zones for one server, an "nts" endpoint without a host, with a host that is
 * not a host name (zone_nts_host_parse) or a port outside 1..65535. The text must be
 * strict JSON (zone_json_t, nested at most ZONE_JSON_DEPTH deep); a syntax error ends the
 * scan. `name` is used in messages (the file name).
 */
int zone_snapshot_parse(const char *name, const char *buf, size_t len,
                        zone_snapshot_t **out, zone_errors_t *errs);
int zone_snapshot_load(const char *path, zone_snapshot_t **out, zone_errors_t *errs);

/* Why a server cannot have this address (family 4 or 6, network byte order),
 * or NULL when it can: unspecified, loopback, link-local, multicast,
 * broadcast or reserved, IPv4-mapped or IPv4-compatible. Private ranges pass:
 * they are what test and internal pools use. */
const char *zone_addr_problem(int family, const uint8_t *addr);
void zone_snapshot_free(zone_snapshot_t *snap);

/* A deep copy (servers and NTS names), or NULL when out of memory. */
zone_snapshot_t *zone_snapshot_dup(const zone_snapshot_t *snap);

/* ------------------------------------------------------------------------ */
/* NTS-KE endpoints (RFC 8915) of NTS-capable servers, for SRV answers.     */
/* ------------------------------------------------------------------------ */

#define ZONE_NTS_PORT_DEFAULT 4460 /* RFC 8915 section 6 (IANA "ntske") */

/*
 * Checks a server's NTS-KE host name (text, `len` bytes, an optional final
 * dot) and writes it in lname form (lower-cased) to lname[255], *lname_len
 * bytes. The host is the TLS name a client verifies and an SRV target (RFC
 * 2782: a domain name with address records), so it must be a host name:
 * LDH labels of 1..63 bytes (RFC 1123 section 2.1), 255 bytes in wire form at
 * most, not the root, and a last label that is not all digits (RFC 3696
 * section 2: so an IPv4 literal is refused). 0, or -1 with *why set.
 */
int zone_nts_host_parse(const char *text, size_t len, uint8_t lname[255],
                        size_t *lname_len, const char **why);

/* Appends a host (lname form) to the snapshot's name store and records it as
 * srv's NTS-KE host with `port`. 0, or -1 when out of memory. */
int zone_snapshot_set_nts(zone_snapshot_t *snap, zone_server_t *srv, const uint8_t *lname,
                          size_t len, uint16_t port);

/* srv's NTS-KE host (lname form) and its length, or NULL without NTS. */
const uint8_t *zone_server_nts_host(const zone_snapshot_t *snap, const zone_server_t *srv,
                                    size_t *len);

/* ------------------------------------------------------------------------ */
/* Pools: a snapshot turned into per-zone, per-family weighted tables.      */
/* ------------------------------------------------------------------------ */

typedef struct zone_pool zone_pool_t;

typedef struct zone_pool_params {
    double min_score;  /* eligible: score >= min_score and netspeed > 0 */
    double full_score; /* weight multiplier rises from 0.25 at min to 1 here */
} zone_pool_params_t;

/* Builds the tables; takes ownership of `snap` (freed with the pool, also on
 * failure). Returns NULL only when out of memory. */
zone_pool_t *zone_pool_new(zone_snapshot_t *snap, const zone_pool_params_t *params);
void zone_pool_free(zone_pool_t *pool);

const zone_snapshot_t *zone_pool_snapshot(const zone_pool_t *pool);

/* Servers of zone `id` and family (4 or 6): all listed, and eligible ones. */
void zone_pool_counts(const zone_pool_t *pool, int id, int family, unsigned *total,
                      unsigned *eligible);

/* The integer weight used for selection: netspeed × m(score) scaled by 1024
 * (m = 0.25 .. 1 -> 256 .. 1024). 0 for servers that are not eligible. */
uint64_t zone_weight(const zone_server_t *srv, const zone_pool_params_t *params);

/* What `dnsd --check-snapshot` prints: counts per zone and family (eligible /
 * total) for every zone that has servers, and the weight share of the top 10
 * servers of "@". */
void zone_pool_report(const zone_pool_t *pool, FILE *out);

/*
 * NTS-capable servers of zone `id`: listed (servers with an "nts" key),
 * eligible ones, and the distinct NTS-KE endpoints (host, port) that SRV
 * answers draw from (endpoints with at least one eligible server).
 */
void zone_pool_nts_counts(const zone_pool_t *pool, int id, unsigned *listed,
                          unsigned *eligible, unsigned *endpoints);

/*
 * SRV weights (RFC 2782) for the endpoints of one answer, weights w[0..n):
 * out[i] = round(65535 × w[i] / max(w)), at least 1. Only ratios matter to a
 * client's weighted ordering, so scaling by the answer's largest weight keeps
 * every ratio within the rounding: each record's share is off by at most
 * 0.5 / out[i] of itself (0.08% for a record 1/100 of the largest), and a
 * record below 1/131070 of the largest gets 1 rather than RFC 2782's 0,
 * which would make it a last resort.
 */
void zone_srv_weights(const uint64_t *w, size_t n, uint16_t *out);

/* SRV RDATA for an endpoint (srv: its server in a ZONE_NTS pick): priority
 * 0, `weight`, port, target (uncompressed, RFC 2782). Returns its length, 0
 * when srv has no NTS. No allocation: for the query path. */
size_t zone_srv_rdata(const zone_snapshot_t *snap, const zone_server_t *srv,
                      uint16_t weight, uint8_t out[6 + 255]);

/* What `--check-snapshot` adds for NTS (zone_pool_report calls it): counts
 * per zone, and every endpoint with its servers and its share of the weight
 * of "@". Nothing when no server has NTS. */
void zone_pool_nts_report(const zone_pool_t *pool, FILE *out);

/* Per-thread random numbers (xoshiro256**). Not shared between threads. */
typedef struct zone_rng {
    uint64_t s[4];
} zone_rng_t;
void zone_rng_seed(zone_rng_t *rng, uint64_t seed); /* fixed seed, for tests */
int zone_rng_seed_os(zone_rng_t *rng);              /* getrandom(); 0 or -1 */
uint64_t zone_rng_next(zone_rng_t *rng);
uint64_t zone_rng_below(zone_rng_t *rng, uint64_t bound); /* unbiased, [0, bound) */

#define ZONE_PICK_MAX 16

/* The pseudo-family of zone_pool_pick() for NTS-KE endpoints: one entry per
 * distinct (host, port) whatever the servers' address families, weighing
 * the sum of its eligible servers' weights in that zone (nts.c says why);
 * srv[] then holds the endpoint's first server in the snapshot. Quarter -1
 * only: there are no numbered NTS names. */
#define ZONE_NTS 0

typedef struct zone_pick {
    const zone_server_t *srv[ZONE_PICK_MAX];
    uint64_t weight[ZONE_PICK_MAX]; /* of srv[i] in the table it was drawn from */
    size_t n;
    int zone;      /* first zone of the walk that gave a server; -1 when n == 0 */
    bool backfill; /* some servers came from a later zone of the walk */
} zone_pick_t;

/*
 * Weighted selection without replacement (DESIGN.md "Weighted selection").
 * Walks `walk` (zone ids, e.g. from zone_walk()) and draws from each zone in
 * turn, family `family` (4, 6 or ZONE_NTS), until `want` (<= ZONE_PICK_MAX) distinct
 * servers are picked or the walk ends. Each draw is exactly proportional to
 * weight among the servers of that zone not yet picked.
 *
 * quarter: -1 for the whole zone, 0..3 for a numbered name. A zone (and family)
 * with at least 8 eligible servers is split into four disjoint quarters; below 8
 * it is not split and every quarter is the whole zone. Each eligible server has
 * one quarter number (zone_pool_quarter()), the same in every split zone it is
 * in, so quarter i of any zone holds only servers numbered i: a numbered name
 * gives a server of another number only from a zone of the walk that is not
 * split, whichever zones of the walk it draws from, in whatever order. The
 * numbering is deterministic for a given snapshot and changes between serials;
 * it balances the quarters by weight (see pool.c).
 *
 * O(want × (log n + want)); no allocation, no lock. Returns out->n.
 */
size_t zone_pool_pick(const zone_pool_t *pool, int family, int quarter, const int *walk,
                      size_t n_walk, size_t want, zone_rng_t *rng, zone_pick_t *out);

/* A server's quarter number (0..3) for numbered names, or -1 when it is not
 * eligible (or not of this pool). Only zones with 8 or more eligible servers
 * of its family are split by it. */
int zone_pool_quarter(const zone_pool_t *pool, const zone_server_t *srv);

/* The eligible servers of a zone/family/quarter (the set pick draws from),
 * for tests and reports. Returns how many; fills up to `cap` pointers. */
size_t zone_pool_members(const zone_pool_t *pool, int id, int family, int quarter,
                         const zone_server_t **out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Static records and the name table of one origin.                         */
/* ------------------------------------------------------------------------ */

/* One RRset ready to copy into a response after a 2-byte owner name
 * (a compression pointer): `count` records, each TYPE CLASS TTL RDLENGTH RDATA,
 * in network byte order. Names inside RDATA are uncompressed. */
typedef struct zone_rrset {
    uint16_t type;
    uint16_t count;
    uint32_t len; /* bytes at wire, for all records together */
    const uint8_t *wire;
} zone_rrset_t;

typedef enum {
    ZONE_POOL_NONE = 0,  /* static records only (or an empty non-terminal) */
    ZONE_POOL_GEO = 1,   /* apex or vendor name: zone chosen by the client's location */
    ZONE_POOL_FIXED = 2, /* a zone name: de, europe, 2.de, ... */
    ZONE_POOL_COUNTRY_TXT = 3, /* _country.<origin>: diagnostics TXT */
    ZONE_POOL_NTS_GEO = 4,   /* _ntske._tcp.<origin>: SRV of NTS-KE endpoints, by place */
    ZONE_POOL_NTS_FIXED = 5, /* _ntske._tcp.<zone>.<origin>: SRV of one zone's walk */
} zone_pool_kind_t;

typedef struct zone_node {
    const zone_rrset_t *rrsets; /* in master-file order of first appearance */
    uint16_t n_rrsets;
    uint8_t pool_kind; /* zone_pool_kind_t */
    int8_t quarter;    /* -1: whole zone; 0..3 for numbered names "i.<name>" */
    int16_t pool_zone; /* ZONE_POOL_FIXED, ZONE_POOL_NTS_FIXED: the zone id; else -1 */
} zone_node_t;

typedef struct zone_static zone_static_t;

/*
 * Reads an RFC 1035 master file with ldns ($ORIGIN, $TTL, relative names) for
 * `origin` (text, no trailing dot needed) and builds the name table: every
 * owner name, the empty non-terminals above them (RFC 8020: they exist), and the
 * pool names: the apex, "0".."3"; every zone name Z and 0..3.Z ("gb" alias of
 * "uk"); each vendor V and 0..3.V; "_country".
 *
 * Errors (one message, "file:line: what"): syntax; a record outside the origin;
 * no SOA or no NS at the apex; more than one SOA; A or AAAA records at a pool
 * name or any record at "_country" (the pool answers there); wildcard owners
 * and NS below the apex (delegations), which this server does not serve; a
 * vendor name that is not a single label or clashes with a zone name.
 */
zone_static_t *zone_static_load(const char *origin, const char *master_path,
                                char *const *vendors, size_t n_vendors, char *err,
                                size_t errlen);
void zone_static_free(zone_static_t *z);

/* The origin in lname form, and its length in bytes (including the root). */
const uint8_t *zone_static_origin(const zone_static_t *z, size_t *len);

/* Exact-match lookup of a full lname (which must end in this origin). NULL when
 * the name does not exist (NXDOMAIN). */
const zone_node_t *zone_static_find(const zone_static_t *z, const uint8_t *lname,
                                    size_t len);

/* The apex node (SOA, NS, ...). */
const zone_node_t *zone_static_apex(const zone_static_t *z);

/* The apex SOA for the authority section of negative answers: its TTL is
 * already min(SOA TTL, SOA MINIMUM) (RFC 2308 section 3). */
const zone_rrset_t *zone_static_soa_negative(const zone_static_t *z);

size_t zone_static_name_count(const zone_static_t *z);

/* Name i (0 .. zone_static_name_count() - 1) of the table and its node, for
 * the DNSSEC signer; NULL past the end. */
const zone_node_t *zone_static_name_at(const zone_static_t *z, size_t i,
                                       const uint8_t **lname, size_t *len);

/* The index (as zone_static_name_at counts) of a node that zone_static_find,
 * zone_static_apex or zone_static_name_at returned. */
size_t zone_static_node_index(const zone_static_t *z, const zone_node_t *node);

#endif
