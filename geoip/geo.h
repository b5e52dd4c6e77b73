/*
 * geo.h - client address -> country (and continent when the database has one),
 * with the prefix length of the database network that decided, for ECS scope.
 *
 * Wraps libmaxminddb; no MMDB type leaves this module. A geo_t is immutable
 * after geo_open() and safe to query from any number of threads. geo_lookup()
 * never allocates. It works on a private, sealed copy of the file made at
 * open, so nothing done to the file afterwards (rewritten in place, truncated,
 * removed) changes or endangers a geo_t in use.
 */
#ifndef DNSD_GEO_H
#define DNSD_GEO_H

#include <stddef.h>
#include <stdint.h>

#define GEO_ERR_MAX 512
/* Every geo_open() message starts with this, so a caller can tell a refused
 * database from its other errors. */
#define GEO_ERR_PREFIX "geoip: "

typedef struct geo geo_t;

typedef struct geo_result {
    char cc[3];        /* ISO 3166-1 alpha-2, upper case; "" when not found */
    char continent[3]; /* "EU", "AS", ... when the record carries continent.code; else ""
                        */
    uint8_t prefix;    /* prefix length of the network that decided, in the address's
                          own family: 0..32 for IPv4, 0..128 for IPv6 */
} geo_result_t;

/*
 * Opens a MaxMind DB file. `country_path` is the dotted path of the ISO code in
 * a record: "country.iso_code" (GeoIP2/GeoLite2) or "country_code" (the CC0
 * ip-location-db databases). The continent is read from "continent.code" when
 * present. The whole database is checked (metadata, every search tree node,
 * every IPv4 record, sample IPv6 lookups) before it is returned: NULL with a
 * message in err when anything is wrong, and then nothing else changed.
 */
geo_t *geo_open(const char *path, const char *country_path, char *err, size_t errlen);
void geo_free(geo_t *g);

/*
 * Looks up `addr` (4 or 16 bytes in network order, per `family` 4 or 6).
 * Returns 0 with res filled (cc "" when the address is not in the database, with
 * prefix the size of the empty network found), or -1 on a database error
 * (res->cc "" and res->prefix 0). IPv4 addresses in an IPv6 database are looked
 * up in its IPv4 subtree and the prefix is given in IPv4 terms.
 */
int geo_lookup(const geo_t *g, int family, const uint8_t *addr, geo_result_t *res);

/*
 * The same lookup straight through libmaxminddb's tree walk, bypassing the IPv4
 * table geo_open() builds; for tests that prove the two agree.
 */
int geo_lookup_mmdb(const geo_t *g, int family, const uint8_t *addr, geo_result_t *res);

/* Bytes of the IPv4 table built at open (leaves, index and results). */
size_t geo_table_bytes(const geo_t *g);

/* "type, build date, node count", for logs and status. */
const char *geo_describe(const geo_t *g);

#endif
