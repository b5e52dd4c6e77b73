/*
 * static.c - static records from an RFC 1035 master file and the name table of
 * one origin.
 *
 * Load time (ldns allowed): read the file record by record, check each record,
 * then build one hash table of every name that exists - owners, the empty
 * non-terminals above them (RFC 8020) and the pool names - and turn every RRset
 * into the wire bytes the answer writer copies. Everything the query path sees
 * lives in one arena, freed in one go (NSD's region allocator, simplified).
 *
 * Query time: zone_static_find() hashes the lname and probes the table; no
 * allocation, no lock, no ldns.
 *
 * This file holds the arena, the name table and the public API; static_rr.c
 * reads and checks the records and builds the wire-form RRsets.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "static_int.h"

/* ------------------------------------------------------------------------ */
/* Arena: big blocks, never freed one by one.                               */
/* ------------------------------------------------------------------------ */

void *zs_alloc(zs_block_t **arena, size_t n)
{
    zs_block_t *b = *arena;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!b || b->size - b->used < n) {
        size_t size = n > ZS_BLOCK ? n : ZS_BLOCK;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = *arena;
        *arena = b;
    }
    b->used += n;
    return (char *)b->data + b->used - n;
}

static void zs_arena_free(zs_block_t *b)
{
    while (b) {
        zs_block_t *next = b->next;
        free(b);
        b = next;
    }
}

/* ------------------------------------------------------------------------ */
/* The zone and its name table.                                             */
/* ------------------------------------------------------------------------ */

int zs_fail(zs_load_t *ld, int line, const char *fmt, ...)
{
    va_list ap;
    int n = line > 0 ? snprintf(ld->err, ld->errlen, "%s:%d: ", ld->path, line)
                     : snprintf(ld->err, ld->errlen, "%s: ", ld->path);
    if (n >= 0 && (size_t)n < ld->errlen) {
        va_start(ap, fmt);
        vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* FNV-1a, 64 bits. The table is fixed at load time, so a client can only probe
 * it, never grow a chain; load <= 0.5 keeps probes short. */
static uint64_t zs_hash(const uint8_t *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

zs_name_t *zs_get(const zone_static_t *z, const uint8_t *lname, size_t len)
{
    size_t i = (size_t)zs_hash(lname, len) & z->mask;
    for (uint32_t s; (s = z->slots[i]) != 0; i = (i + 1) & z->mask) {
        zs_name_t *e = &z->names[s - 1];
        if (e->len == len && memcmp(e->lname, lname, len) == 0)
            return e;
    }
    return NULL;
}

/* Inserts a name (copied) if absent. Capacity is reserved in advance. */
static zs_name_t *zs_add(zone_static_t *z, const uint8_t *lname, size_t len)
{
    zs_name_t *e = zs_get(z, lname, len);
    uint8_t *copy;
    size_t i;

    if (e)
        return e;
    if (z->n_names == z->names_cap || !(copy = zs_alloc(&z->arena, len)))
        return NULL;
    memcpy(copy, lname, len);
    e = &z->names[z->n_names++];
    e->lname = copy;
    e->len = len;
    e->node = (zone_node_t){NULL, 0, ZONE_POOL_NONE, -1, -1};
    for (i = (size_t)zs_hash(lname, len) & z->mask; z->slots[i]; i = (i + 1) & z->mask)
        ;
    z->slots[i] = (uint32_t)z->n_names;
    return e;
}

/* ------------------------------------------------------------------------ */
/* Names: lname form, position under the origin, pool kind.                 */
/* ------------------------------------------------------------------------ */

/* Lower-cases ASCII letters only, as the query path does. */
void zs_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (uint8_t)(src[i] + 32) : src[i];
}

/* Number of labels of `lname` above the origin, or -1 when it is not at or
 * below the origin. */
int zs_depth(const zone_static_t *z, const uint8_t *lname, size_t len)
{
    int n = 0;
    for (size_t off = 0; off < len; off += 1u + lname[off], n++) {
        if (len - off == z->origin_len && memcmp(lname + off, z->origin, len - off) == 0)
            return n;
        if (lname[off] == 0)
            break;
    }
    return -1;
}

static bool zs_label_is(const uint8_t *label, const char *s)
{
    size_t n = strlen(s);
    return label[0] == n && strncasecmp((const char *)label + 1, s, n) == 0;
}

static bool zs_is_vendor(const zone_static_t *z, const uint8_t *label)
{
    for (size_t i = 0; i < z->n_vendors; i++)
        if (zs_label_is(label, z->vendors[i]))
            return true;
    return false;
}

/* A zone name other than "@" (the apex is the global name), or -1. */
static int zs_zone_of(const uint8_t *label)
{
    int id = zone_id_lookup((const char *)label + 1, label[0]);
    return id == ZONE_GLOBAL ? -1 : id;
}

static int zs_quarter_of(const uint8_t *label)
{
    return label[0] == 1 && label[1] >= '0' && label[1] <= '3' ? label[1] - '0' : -1;
}

/* _ntske._tcp.<origin> and _ntske._tcp.<zone>.<origin>: the NTS-KE service
 * name (RFC 8915 section 7.1's IANA "ntske", TCP) under the pool's name, as
 * RFC 2782 forms SRV owners and the NTS pool's srv-pool.md has clients look
 * them up. */
static void zs_classify_nts(const uint8_t *lname, int depth, zone_node_t *node)
{
    const uint8_t *zone = lname + 1 + lname[0];

    zone += 1 + zone[0];
    if (depth == 2) {
        node->pool_kind = ZONE_POOL_NTS_GEO;
    } else if (zs_zone_of(zone) >= 0) {
        node->pool_kind = ZONE_POOL_NTS_FIXED;
        node->pool_zone = (int16_t)zs_zone_of(zone);
    }
}

/* The pool role of a name, a pure function of its labels (DESIGN.md "Zones and
 * names"): apex, i, Z, i.Z, V, i.V, _country and the NTS names. */
void zs_classify(const zone_static_t *z, const uint8_t *lname, int depth,
                 zone_node_t *node)
{
    const uint8_t *base = depth == 2 ? lname + 1 + lname[0] : lname;
    int q = depth == 2 ? zs_quarter_of(lname) : -1;

    *node = (zone_node_t){node->rrsets, node->n_rrsets, ZONE_POOL_NONE, -1, -1};
    if (depth >= 2 && depth <= 3 && zs_label_is(lname, "_ntske") &&
        zs_label_is(lname + 1 + lname[0], "_tcp")) {
        zs_classify_nts(lname, depth, node);
    } else if (depth == 0) {
        node->pool_kind = ZONE_POOL_GEO;
    } else if (depth == 1 && zs_quarter_of(lname) >= 0) {
        node->pool_kind = ZONE_POOL_GEO;
        node->quarter = (int8_t)zs_quarter_of(lname);
    } else if (depth == 1 && zs_label_is(lname, "_country")) {
        node->pool_kind = ZONE_POOL_COUNTRY_TXT;
    } else if ((depth == 1 || (depth == 2 && q >= 0)) && zs_zone_of(base) >= 0) {
        node->pool_kind = ZONE_POOL_FIXED;
        node->pool_zone = (int16_t)zs_zone_of(base);
        node->quarter = (int8_t)q;
    } else if ((depth == 1 || (depth == 2 && q >= 0)) && zs_is_vendor(z, base)) {
        node->pool_kind = ZONE_POOL_GEO;
        node->quarter = (int8_t)q;
    }
}

/* Vendors come from the config: each a single LDH label (RFC 1123 2.1) that is
 * neither a zone name nor a numbered name, or its names would be ambiguous. */
static int zs_check_vendor(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    bool ldh = n > 0 && n <= 63 && v[0] != '-' && v[n - 1] != '-';

    for (size_t i = 0; ldh && i < n; i++)
        ldh = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '-';
    if (!ldh)
        snprintf(err, errlen,
                 "vendor \"%s\": not a single DNS label (letters, digits, '-')", v);
    else if (zone_id_lookup(v, n) >= 0)
        snprintf(err, errlen, "vendor \"%s\": clashes with the zone name \"%s\"", v, v);
    else if (n == 1 && v[0] >= '0' && v[0] <= '3')
        snprintf(err, errlen, "vendor \"%s\": clashes with the numbered name \"%s\"", v,
                 v);
    else
        return 0;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Building the name table.                                                 */
/* ------------------------------------------------------------------------ */

/* "_ntske._tcp." and "_tcp." before the name at buf + 12 (len bytes): the SRV
 * name and the empty non-terminal above it (RFC 8020). */
static int zs_add_nts(zone_static_t *z, uint8_t *buf, size_t len)
{
    if (len + 12 > LDNS_MAX_DOMAINLEN + 1)
        return -1;
    memcpy(buf, "\6_ntske\4_tcp", 12);
    return zs_add(z, buf + 7, len + 5) && zs_add(z, buf, len + 12) ? 0 : -1;
}

/* Adds "label.origin" (the origin itself for NULL) and 0..3 below it; with
 * `nts` also its NTS SRV name. */
static int zs_add_pool(zone_static_t *z, const char *label, bool nts)
{
    uint8_t buf[12 + LDNS_MAX_DOMAINLEN + 1];
    size_t n = label ? strlen(label) : 0, len = (n ? 1 + n : 0) + z->origin_len;

    if (n > 63 || len > LDNS_MAX_DOMAINLEN + 1 - 2)
        return -1;
    buf[12] = (uint8_t)n;
    zs_lower(buf + 13, (const uint8_t *)label, n);
    memcpy(buf + 12 + len - z->origin_len, z->origin, z->origin_len);
    if (!zs_add(z, buf + 12, len) || (nts && zs_add_nts(z, buf, len) < 0))
        return -1;
    memmove(buf + 2, buf + 12, len);
    buf[0] = 1;
    for (int q = 0; q < 4; q++) {
        buf[1] = (uint8_t)('0' + q);
        if (!zs_add(z, buf, 2 + len))
            return -1;
    }
    return 0;
}

/* Every owner and every name between it and the origin: the empty
 * non-terminals exist and answer NODATA (RFC 8020). */
static int zs_add_owners(zs_load_t *ld)
{
    zone_static_t *z = ld->z;
    uint8_t lname[LDNS_MAX_DOMAINLEN + 1];

    for (size_t i = 0; i < ld->n_recs; i++) {
        const ldns_rdf *owner = ldns_rr_owner(ld->recs[i].rr);
        size_t len = ldns_rdf_size(owner), off = 0;
        zs_name_t *e;

        zs_lower(lname, ldns_rdf_data(owner), len);
        if (!(e = zs_add(z, lname, len)))
            return zs_fail(ld, ld->recs[i].line, "out of memory");
        ld->recs[i].name = (uint32_t)(e - z->names);
        for (int d = zs_depth(z, lname, len); d > 0; d--) {
            off += 1u + lname[off];
            if (!zs_add(z, lname + off, len - off))
                return zs_fail(ld, ld->recs[i].line, "out of memory");
        }
    }
    return 0;
}

static int zs_build_names(zs_load_t *ld)
{
    zone_static_t *z = ld->z;
    size_t bound = 7 * ((size_t)zone_id_count() + 1 + z->n_vendors) + 1, slots = 2;
    uint8_t cc[LDNS_MAX_DOMAINLEN + 1 + 9], lname[LDNS_MAX_DOMAINLEN + 1];
    const char *bad = NULL;

    for (size_t i = 0; i < ld->n_recs; i++) {
        const ldns_rdf *o = ldns_rr_owner(ld->recs[i].rr);
        zs_lower(lname, ldns_rdf_data(o), ldns_rdf_size(o));
        bound += (size_t)zs_depth(z, lname, ldns_rdf_size(o)) + 1;
    }
    while (slots < 2 * bound)
        slots *= 2;
    z->names_cap = bound;
    z->names = zs_alloc(&z->arena, bound * sizeof *z->names);
    z->slots = zs_alloc(&z->arena, slots * sizeof *z->slots);
    if (!z->names || !z->slots)
        return zs_fail(ld, 0, "out of memory");
    memset(z->slots, 0, slots * sizeof *z->slots);
    z->mask = slots - 1;
    if (zs_add_pool(z, NULL, true) < 0)
        bad = "the origin";
    for (int id = 1; id < zone_id_count() && !bad; id++)
        if (zs_add_pool(z, zone_id_name(id), true) < 0)
            bad = zone_id_name(id);
    if (!bad && zs_add_pool(z, "gb", true) < 0)
        bad = "gb";
    for (size_t i = 0; i < z->n_vendors && !bad; i++)
        if (zs_add_pool(z, z->vendors[i], false) < 0)
            bad = z->vendors[i];
    cc[0] = 8;
    memcpy(cc + 1, "_country", 8);
    memcpy(cc + 9, z->origin, z->origin_len);
    if (!bad &&
        (z->origin_len + 9 > LDNS_MAX_DOMAINLEN + 1 || !zs_add(z, cc, 9 + z->origin_len)))
        bad = "_country";
    if (bad)
        return zs_fail(ld, 0, "pool names under %s: origin too long or out of memory",
                       bad);
    return zs_add_owners(ld);
}

/* ------------------------------------------------------------------------ */
/* Public API.                                                              */
/* ------------------------------------------------------------------------ */

static int zs_set_origin(zs_load_t *ld, const char *origin, ldns_rdf **out)
{
    ldns_rdf *o = origin && origin[0] ? ldns_dname_new_frm_str(origin) : NULL;

    if (!o || ldns_rdf_size(o) > sizeof ld->z->origin) {
        snprintf(ld->err, ld->errlen, "origin \"%s\": not a valid domain name",
                 origin ? origin : "");
        ldns_rdf_deep_free(o);
        return -1;
    }
    ld->z->origin_len = ldns_rdf_size(o);
    zs_lower(ld->z->origin, ldns_rdf_data(o), ld->z->origin_len);
    *out = o;
    return 0;
}

zone_static_t *zone_static_load(const char *origin, const char *master_path,
                                char *const *vendors, size_t n_vendors, char *err,
                                size_t errlen)
{
    char dummy[1];
    zs_load_t ld = {.path = master_path,
                    .err = errlen ? err : dummy,
                    .errlen = errlen ? errlen : sizeof dummy};
    ldns_rdf *o = NULL;
    int rc = -1;

    ld.err[0] = 0;
    if (!(ld.z = calloc(1, sizeof *ld.z))) {
        snprintf(ld.err, ld.errlen, "out of memory");
        return NULL;
    }
    ld.z->vendors = vendors;
    ld.z->n_vendors = n_vendors;
    for (size_t i = 0; i < n_vendors; i++)
        if (zs_check_vendor(vendors[i], ld.err, ld.errlen) < 0)
            goto out;
    if (zs_set_origin(&ld, origin, &o) == 0 && zs_read(&ld, o) == 0 &&
        zs_build_names(&ld) == 0 && zs_build_rrsets(&ld) == 0 && zs_finish(&ld) == 0)
        rc = 0;
out:
    for (size_t i = 0; i < ld.n_recs; i++) {
        ldns_rr_free(ld.recs[i].rr);
        free(ld.recs[i].rd);
        free(ld.recs[i].crd);
    }
    free(ld.recs);
    ldns_rdf_deep_free(o);
    /* Vendors were only needed to classify names; do not keep the caller's. */
    ld.z->vendors = NULL;
    ld.z->n_vendors = 0;
    if (rc < 0) {
        zone_static_free(ld.z);
        return NULL;
    }
    return ld.z;
}

void zone_static_free(zone_static_t *z)
{
    if (!z)
        return;
    zs_arena_free(z->arena);
    free(z);
}

const uint8_t *zone_static_origin(const zone_static_t *z, size_t *len)
{
    *len = z->origin_len;
    return z->origin;
}

const zone_node_t *zone_static_find(const zone_static_t *z, const uint8_t *lname,
                                    size_t len)
{
    const zs_name_t *e = len ? zs_get(z, lname, len) : NULL;
    return e ? &e->node : NULL;
}

const zone_node_t *zone_static_apex(const zone_static_t *z)
{
    return z->apex;
}

const zone_rrset_t *zone_static_soa_negative(const zone_static_t *z)
{
    return &z->soa_negative;
}

size_t zone_static_name_count(const zone_static_t *z)
{
    return z->n_names;
}

/* The signer (dnssec/) walks every name to sign its RRsets and NSEC. */
const zone_node_t *zone_static_name_at(const zone_static_t *z, size_t i,
                                       const uint8_t **lname, size_t *len)
{
    if (i >= z->n_names)
        return NULL;
    *lname = z->names[i].lname;
    *len = z->names[i].len;
    return &z->names[i].node;
}

size_t zone_static_node_index(const zone_static_t *z, const zone_node_t *node)
{
    const zs_name_t *e =
        (const zs_name_t *)(const void *)((const char *)node - offsetof(zs_name_t, node));
    return (size_t)(e - z->names);
}
