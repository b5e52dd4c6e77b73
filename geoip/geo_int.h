/*
 * geo_int.h - what the two halves of the GeoIP wrapper share (not installed):
 * the database opened, checked and described (geo.c) and the lookups with
 * the IPv4 table built for them at open (geo_lookup.c).
 */
#ifndef DNSD_GEO_INT_H
#define DNSD_GEO_INT_H

#include <maxminddb.h>
#include <stddef.h>
#include <stdint.h>

#include "geoip/geo.h"

/* "country.iso_code" has 2 components; 8 is room for any real record layout. */
#define GEO_PATH_PARTS 8
#define GEO_PATH_CHARS 128

/* Result indexes in the IPv4 table: 0 is "not in the database". */
#define GEO_RES_NONE 0
#define GEO_RES_ERROR 0xffff

typedef struct geo_leaf {
    uint32_t start; /* first address, host order */
    uint8_t prefix; /* network length, 0..32 */
    uint16_t res;   /* index into geo_t.v4res, or GEO_RES_ERROR */
} geo_leaf_t;

typedef struct geo_v4res {
    char cc[3];
    char continent[3];
} geo_v4res_t;

struct geo {
    MMDB_s mmdb;
    const char *path[GEO_PATH_PARTS + 1]; /* NULL-terminated, points into pathbuf */
    char pathbuf[GEO_PATH_CHARS];
    char desc[256];
    geo_leaf_t *v4; /* every IPv4 leaf network, sorted by start */
    uint32_t v4n;
    uint32_t v4idx[65537]; /* v4idx[h]: the leaf holding address h << 16 */
    geo_v4res_t *v4res;    /* [0] is "not found" */
    uint32_t v4resn;
};

/* Builds the IPv4 table of an opened database (geo_lookup.c); -1 with a
 * message when out of memory or over its bounds. */
int geo_v4_build(geo_t *g, char *err, size_t errlen);

#endif
