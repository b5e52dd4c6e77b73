/*
 * static_rr.c - the records of a master file (load time, ldns): read them one
 * by one, check each against the origin and the rules of static.c's name
 * table, then group them into RRsets in the wire form the answer writer copies.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "static_int.h"

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
    else if (t == LDNS_RR_TYPE_SRV && (node.pool_kind == ZONE_POOL_NTS_GEO ||
                                       node.pool_kind == ZONE_POOL_NTS_FIXED))
        what = "SRV record at an NTS name (the pool answers there)";
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

int zs_read(zs_load_t *ld, const ldns_rdf *origin)
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

int zs_build_rrsets(zs_load_t *ld)
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
int zs_finish(zs_load_t *ld)
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
