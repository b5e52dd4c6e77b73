/*
 * static_int.h - what the two halves of the static zone loader share (not
 * installed): the zone's arena and name table (static.c) and the records as
 * read, which static_rr.c checks and turns into wire-form RRsets.
 */
#ifndef DNSD_STATIC_INT_H
#define DNSD_STATIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ldns/ldns.h>

#include "zones/zones.h"

/* 64 KiB: a default zone fits in a few blocks; larger requests get their own. */
#define ZS_BLOCK 65536

typedef struct zs_block {
    struct zs_block *next;
    size_t used, size;
    max_align_t data[];
} zs_block_t;

typedef struct zs_name {
    const uint8_t *lname;
    size_t len;
    zone_node_t node;
} zs_name_t;

struct zone_static {
    zs_block_t *arena;
    uint8_t origin[LDNS_MAX_DOMAINLEN + 1];
    size_t origin_len;
    zs_name_t *names; /* capacity names_cap, n_names used */
    size_t n_names, names_cap;
    uint32_t *slots; /* open addressing: index + 1 into names, 0 = empty */
    size_t mask;     /* slots - 1; slots is a power of two >= 2 * names_cap */
    const zone_node_t *apex;
    zone_rrset_t soa_negative;
    char *const *vendors;
    size_t n_vendors;
};

/* One record as read, with what the build needs from it. */
typedef struct zs_rec {
    ldns_rr *rr;
    int line;
    uint32_t seq;      /* position in the file */
    uint32_t name;     /* index of its owner in names */
    bool taken;        /* already placed into an RRset */
    bool dup;          /* same RDATA as an earlier record of its RRset */
    uint8_t *rd, *crd; /* RDATA as written, and canonical (RFC 4034 6.2) for duplicates */
    size_t rdlen, crdlen;
} zs_rec_t;

typedef struct zs_load {
    zone_static_t *z;
    const char *path;
    zs_rec_t *recs;
    size_t n_recs, cap_recs;
    int last_line;
    char *err;
    size_t errlen;
} zs_load_t;

/* static.c */
int zs_fail(zs_load_t *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *zs_alloc(zs_block_t **arena, size_t n);
void zs_classify(const zone_static_t *z, const uint8_t *lname, int depth,
                 zone_node_t *node);
int zs_depth(const zone_static_t *z, const uint8_t *lname, size_t len);
zs_name_t *zs_get(const zone_static_t *z, const uint8_t *lname, size_t len);
void zs_lower(uint8_t *dst, const uint8_t *src, size_t len);
int zs_build_rrsets(zs_load_t *ld);
int zs_finish(zs_load_t *ld);
int zs_read(zs_load_t *ld, const ldns_rdf *origin);

#endif
