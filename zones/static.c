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
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "zones.h"

/* ------------------------------------------------------------------------ */
/* Arena: big blocks, never freed one by one.                               */
/* ------------------------------------------------------------------------ */

/* 64 KiB: a default zone fits in a few blocks; larger requests get their own. */
#define ZS_BLOCK 65536

typedef struct zs_block {
    struct zs_block *next;
    size_t used, size;
    max_align_t data[];
} zs_block_t;

static void *zs_alloc(zs_block_t **arena, size_t n)
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

static int zs_fail(zs_load_t *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int zs_fail(zs_load_t *ld, int line, const char *fmt, ...)
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

static zs_name_t *zs_get(const zone_static_t *z, const uint8_t *lname, size_t len)
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
static void zs_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (uint8_t)(src[i] + 32) : src[i];
}

/* Number of labels of `lname` above the origin, or -1 when it is not at or
 * below the origin. */
static int zs_depth(const zone_static_t *z, const uint8_t *lname, size_t len)
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

/* The pool role of a name, a pure function of its labels (DESIGN.md "Zones and
 * names"): apex, i, Z, i.Z, V, i.V and _country. */
static void zs_classify(const zone_static_t *z, const uint8_t *lname, int depth,
                        zone_node_t *node)
{
    const uint8_t *base = depth == 2 ? lname + 1 + lname[0] : lname;
    int q = depth == 2 ? zs_quarter_of(lname) : -1;

    *node = (zone_node_t){node->rrsets, node->n_rrsets, ZONE_POOL_NONE, -1, -1};
    if (depth == 0) {
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
/* Reading and checking records.                                            */
/* ------------------------------------------------------------------------ */

/* Checks that need only the record and the records before it. */
static int zs_check_rr(zs_load_t *ld, const ldns_rr *rr, int line, bool *seen_soa)
{
    const ldns_rdf *owner = ldns_rr_owner(rr);
    const uint8_t *wire = ldns_rdf_data(owner);
    ldns_rr_type t = ldns_rr_get_type(rr);
    uint8_t lname[LDNS_MAX_DOMAINLEN + 1];
    size_t len = ldns_rdf_size(owner);
    zone_node_t node = {NULL, 0, 0, -1, -1};
    const char *what = NULL;
    char *s, *ts;
    int depth, rc;

    if (len > sizeof lname)
        return zs_fail(ld, line, "owner name too long");
    zs_lower(lname, wire, len);
    depth = zs_depth(ld->z, lname, len);
    for (size_t off = 0; depth >= 0 && lname[off]; off += 1u + lname[off])
        if (lname[off] == 1 && lname[off + 1] == '*')
            what = "wildcard owner names are not supported";
    if (depth >= 0)
        zs_classify(ld->z, lname, depth, &node);
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
        what = "only class IN is supported";
    else if (depth < 0)
        what = "owner is outside the origin";
    else if (what)
        ;
    else if (node.pool_kind == ZONE_POOL_COUNTRY_TXT)
        what = "no records allowed at _country (the server answers there)";
    else if (t == LDNS_RR_TYPE_SOA && depth > 0)
        what = "SOA record not at the apex";
    else if (t == LDNS_RR_TYPE_SOA && *seen_soa)
        what = "more than one SOA record";
    else if (t == LDNS_RR_TYPE_NS && depth > 0)
        what = "NS record below the apex: delegations are not supported";
    else if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA || t == LDNS_RR_TYPE_CNAME) &&
             node.pool_kind != ZONE_POOL_NONE)
        what = "A, AAAA or CNAME record at a pool name (the pool answers there)";
    if (t == LDNS_RR_TYPE_SOA)
        *seen_soa = true;
    if (!what)
        return 0;
    s = ldns_rdf2str(ldns_rr_owner(rr));
    ts = ldns_rr_type2str(t);
    rc = zs_fail(ld, line, "%s %s: %s", s ? s : "?", ts ? ts : "?", what);
    free(s);
    free(ts);
    return rc;
}

/* Keeps a record with its RDATA in wire form, as written and canonical. */
static int zs_keep(zs_load_t *ld, ldns_rr *rr, int line)
{
    ldns_buffer *b = ldns_buffer_new(512), *cb = ldns_buffer_new(512);
    ldns_rr *canon = ldns_rr_clone(rr);
    zs_rec_t *r;
    int rc = -1;

    if (ld->n_recs == ld->cap_recs) {
        size_t cap = ld->cap_recs ? ld->cap_recs * 2 : 64;
        zs_rec_t *grown = realloc(ld->recs, cap * sizeof *grown);
        if (!grown)
            goto out;
        ld->recs = grown;
        ld->cap_recs = cap;
    }
    if (!b || !cb || !canon)
        goto out;
    ldns_rr2canonical(canon);
    if (ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK ||
        ldns_rr_rdata2buffer_wire(cb, canon) != LDNS_STATUS_OK)
        goto out;
    if (ldns_buffer_position(b) > 65535) {
        rc = zs_fail(ld, line, "RDATA longer than 65535 bytes");
        goto out;
    }
    r = &ld->recs[ld->n_recs];
    *r = (zs_rec_t){.rr = rr,
                    .line = line,
                    .seq = (uint32_t)ld->n_recs,
                    .rdlen = ldns_buffer_position(b),
                    .crdlen = ldns_buffer_position(cb)};
    r->rd = ldns_buffer_export(b); /* the buffers themselves are still freed below */
    r->crd = ldns_buffer_export(cb);
    ld->n_recs++;
    rc = 0;
out:
    if (rc < 0 && ld->err[0] == 0)
        zs_fail(ld, line, "out of memory");
    ldns_buffer_free(b);
    ldns_buffer_free(cb);
    ldns_rr_free(canon);
    return rc;
}

/* ldns counts a line when it reads its newline; a last line without one is
 * only "current". */
static int zs_read_one(zs_load_t *ld, FILE *f, ldns_rdf **origin, ldns_rdf **prev,
                       uint32_t *ttl, int *line, bool *seen_soa)
{
    ldns_rr *rr = NULL;
    ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, ttl, origin, prev, line);
    int at = *line - 1 + (feof(f) && ld->last_line == *line);

    if (st == LDNS_STATUS_SYNTAX_TTL || st == LDNS_STATUS_SYNTAX_ORIGIN ||
        st == LDNS_STATUS_SYNTAX_EMPTY || (st == LDNS_STATUS_OK && !rr))
        return 0;
    if (st == LDNS_STATUS_SYNTAX_INCLUDE)
        return zs_fail(ld, at, "$INCLUDE is not supported");
    if (st != LDNS_STATUS_OK)
        return zs_fail(ld, at, "%s", ldns_get_errorstr_by_id(st));
    if (zs_check_rr(ld, rr, at, seen_soa) < 0 || zs_keep(ld, rr, at) < 0) {
        ldns_rr_free(rr);
        return -1;
    }
    return 0;
}

/* The line number ldns ends on when the last line has no newline. */
static int zs_count_lines(FILE *f)
{
    int c, prev = '\n', n = 1;
    while ((c = getc(f)) != EOF) {
        n += c == '\n';
        prev = c;
    }
    rewind(f);
    return prev == '\n' ? 0 : n;
}

static int zs_read(zs_load_t *ld, const ldns_rdf *origin)
{
    FILE *f = fopen(ld->path, "r");
    ldns_rdf *cur = ldns_rdf_clone(origin), *prev = ldns_rdf_clone(origin);
    uint32_t ttl = LDNS_DEFAULT_TTL;
    bool seen_soa = false;
    int line = 1, rc = 0;

    if (!f) {
        snprintf(ld->err, ld->errlen, "%s: %s", ld->path, strerror(errno));
        rc = -1;
    } else if (!cur || !prev) {
        rc = zs_fail(ld, 0, "out of memory");
    } else {
        ld->last_line = zs_count_lines(f);
        while (rc == 0 && !feof(f))
            rc = zs_read_one(ld, f, &cur, &prev, &ttl, &line, &seen_soa);
    }
    ld->last_line = line - 1 + (ld->last_line == line);
    if (f)
        fclose(f);
    ldns_rdf_deep_free(cur);
    ldns_rdf_deep_free(prev);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Building the name table.                                                 */
/* ------------------------------------------------------------------------ */

/* Adds "label.origin" (the origin itself for NULL) and 0..3 below it. */
static int zs_add_pool(zone_static_t *z, const char *label)
{
    uint8_t buf[2 + LDNS_MAX_DOMAINLEN + 1];
    size_t n = label ? strlen(label) : 0, len = (n ? 1 + n : 0) + z->origin_len;

    if (n > 63 || len > LDNS_MAX_DOMAINLEN + 1 - 2)
        return -1;
    buf[2] = (uint8_t)n;
    zs_lower(buf + 3, (const uint8_t *)label, n);
    memcpy(buf + 2 + len - z->origin_len, z->origin, z->origin_len);
    if (!zs_add(z, buf + 2, len))
        return -1;
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
    size_t bound = 5 * ((size_t)zone_id_count() + 1 + z->n_vendors) + 1, slots = 2;
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
    if (zs_add_pool(z, NULL) < 0)
        bad = "the origin";
    for (int id = 1; id < zone_id_count() && !bad; id++)
        if (zs_add_pool(z, zone_id_name(id)) < 0)
            bad = zone_id_name(id);
    if (!bad && zs_add_pool(z, "gb") < 0)
        bad = "gb";
    for (size_t i = 0; i < z->n_vendors && !bad; i++)
        if (zs_add_pool(z, z->vendors[i]) < 0)
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
/* RRsets in wire form.                                                     */
/* ------------------------------------------------------------------------ */

static int zs_rec_cmp(const void *a, const void *b)
{
    const zs_rec_t *x = a, *y = b;
    if (x->name != y->name)
        return x->name < y->name ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void zs_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void zs_put32(uint8_t *p, uint32_t v)
{
    zs_put16(p, v >> 16);
    zs_put16(p + 2, v & 0xffff);
}

/* The RRset of the type of recs[0] among recs[0..n): duplicates dropped, the
 * TTL of the set the lowest of its records (RFC 2181 section 5.2). Duplicate
 * search is quadratic in the size of one RRset; master files hold small ones. */
static int zs_make_set(zs_load_t *ld, zs_rec_t *recs, size_t n, zone_rrset_t *set)
{
    ldns_rr_type t = ldns_rr_get_type(recs[0].rr);
    uint32_t ttl = UINT32_MAX, count = 0, len = 0;
    uint8_t *w;

    for (size_t i = 0; i < n; i++) {
        zs_rec_t *r = &recs[i];
        if (r->taken || ldns_rr_get_type(r->rr) != t)
            continue;
        r->taken = true;
        for (size_t k = 0; k < i && !r->dup; k++)
            r->dup = recs[k].taken && !recs[k].dup && ldns_rr_get_type(recs[k].rr) == t &&
                     recs[k].crdlen == r->crdlen &&
                     memcmp(recs[k].crd, r->crd, r->crdlen) == 0;
        if (r->dup)
            continue;
        count++;
        len += 10 + (uint32_t)r->rdlen;
        if (ldns_rr_ttl(r->rr) < ttl)
            ttl = ldns_rr_ttl(r->rr);
    }
    if (count > UINT16_MAX)
        return zs_fail(ld, recs[0].line, "more than 65535 records in one RRset");
    if (!(w = zs_alloc(&ld->z->arena, len)))
        return zs_fail(ld, recs[0].line, "out of memory");
    *set = (zone_rrset_t){(uint16_t)t, (uint16_t)count, len, w};
    for (size_t i = 0; i < n; i++) {
        const zs_rec_t *r = &recs[i];
        if (r->dup || !r->taken || ldns_rr_get_type(r->rr) != t)
            continue;
        zs_put16(w, t);
        zs_put16(w + 2, LDNS_RR_CLASS_IN);
        zs_put32(w + 4, ttl);
        zs_put16(w + 8, (uint32_t)r->rdlen);
        memcpy(w + 10, r->rd, r->rdlen);
        w += 10 + r->rdlen;
    }
    return 0;
}

/* The RRsets of one node, in order of first appearance in the file. */
static int zs_make_node(zs_load_t *ld, zs_rec_t *recs, size_t n)
{
    zs_name_t *e = &ld->z->names[recs[0].name];
    zone_rrset_t *sets = zs_alloc(&ld->z->arena, n * sizeof *sets);
    size_t k = 0;

    if (!sets)
        return zs_fail(ld, recs[0].line, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (recs[i].taken)
            continue;
        if (zs_make_set(ld, recs + i, n - i, &sets[k++]) < 0)
            return -1;
        /* RFC 1034 section 3.6.2, RFC 2181 section 10.1. */
        if (k > 1 && (sets[0].type == LDNS_RR_TYPE_CNAME ||
                      sets[k - 1].type == LDNS_RR_TYPE_CNAME)) {
            char *s = ldns_rdf2str(ldns_rr_owner(recs[i].rr));
            zs_fail(ld, recs[i].line, "%s: CNAME and other data at the same name",
                    s ? s : "?");
            free(s);
            return -1;
        }
    }
    e->node.rrsets = sets;
    e->node.n_rrsets = (uint16_t)k; /* k <= distinct types <= 65536; see below */
    return k > UINT16_MAX ? zs_fail(ld, recs[0].line, "too many record types at one name")
                          : 0;
}

static int zs_build_rrsets(zs_load_t *ld)
{
    size_t a = 0;

    if (ld->n_recs)
        qsort(ld->recs, ld->n_recs, sizeof *ld->recs, zs_rec_cmp);
    while (a < ld->n_recs) {
        size_t b = a + 1;
        while (b < ld->n_recs && ld->recs[b].name == ld->recs[a].name)
            b++;
        if (zs_make_node(ld, ld->recs + a, b - a) < 0)
            return -1;
        a = b;
    }
    return 0;
}

static const zone_rrset_t *zs_rrset(const zone_node_t *node, uint16_t type)
{
    for (uint16_t i = 0; i < node->n_rrsets; i++)
        if (node->rrsets[i].type == type)
            return &node->rrsets[i];
    return NULL;
}

/* The apex must carry SOA and NS; the negative-answer SOA gets its TTL from
 * min(SOA TTL, SOA MINIMUM) (RFC 2308 section 3). */
static int zs_finish(zs_load_t *ld)
{
    zone_static_t *z = ld->z;
    const zone_rrset_t *soa;
    uint8_t *w;
    uint32_t ttl, min;

    for (size_t i = 0; i < z->n_names; i++)
        zs_classify(z, z->names[i].lname, zs_depth(z, z->names[i].lname, z->names[i].len),
                    &z->names[i].node);
    z->apex = &zs_get(z, z->origin, z->origin_len)->node;
    if (!(soa = zs_rrset(z->apex, LDNS_RR_TYPE_SOA)))
        return zs_fail(ld, ld->last_line, "no SOA record at the apex");
    if (!zs_rrset(z->apex, LDNS_RR_TYPE_NS))
        return zs_fail(ld, ld->last_line, "no NS record at the apex");
    if (soa->len < 10 + 20 || !(w = zs_alloc(&z->arena, soa->len)))
        return zs_fail(ld, ld->last_line, "bad SOA record or out of memory");
    memcpy(w, soa->wire, soa->len);
    ttl = (uint32_t)w[4] << 24 | (uint32_t)w[5] << 16 | (uint32_t)w[6] << 8 | w[7];
    min = (uint32_t)w[soa->len - 4] << 24 | (uint32_t)w[soa->len - 3] << 16 |
          (uint32_t)w[soa->len - 2] << 8 | w[soa->len - 1];
    zs_put32(w + 4, ttl < min ? ttl : min);
    z->soa_negative = (zone_rrset_t){soa->type, 1, soa->len, w};
    return 0;
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
