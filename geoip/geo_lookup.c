/*
 * geo_lookup.c - the lookups behind geo.h and the IPv4 table they use.
 *
 * IPv4 is the bulk of the queries, and libmaxminddb's tree walk plus its
 * string-keyed record read cost about 1,900 instructions a lookup. So at open
 * time the IPv4 part of the search tree is flattened, as gdnsd does, into our
 * own immutable table: every leaf network (start, prefix length, result), sorted
 * by start and indexed by the first 16 bits, each distinct data record resolved
 * once. Leaves are kept as the database has them (never merged) so the prefix
 * returned for ECS scope is the database network's, exactly as before. IPv6
 * still goes through libmaxminddb.
 */
#include "geoip/geo.h"

#include <ctype.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "geo_int.h"

/* IPv4 networks sit in ::/96 of an IPv6 database (the MaxMind DB layout). */
#define GEO_V4_IN_V6_BITS 96

/* A corrupt tree whose nodes point back up could expand without bound. */
#define GEO_V4_MAX_LEAVES (1u << 24)

/* Walk state at open time; `off` is the data offset of each leaf, parallel to v4. */
typedef struct geo_walk {
    geo_t *g;
    uint32_t *off;
    uint32_t cap;
    int oom;
} geo_walk_t;

static const char *const geo_continent_path[] = {"continent", "code", NULL};

static int geo_lookup_v4(const geo_t *g, const uint8_t *addr, geo_result_t *res);

size_t geo_table_bytes(const geo_t *g)
{
    return (size_t)g->v4n * sizeof *g->v4 + sizeof g->v4idx +
           (size_t)g->v4resn * sizeof *g->v4res;
}

/*
 * Copies a two-letter code at `path` of the record into out (upper case).
 * Returns 0 when found or absent (out "" then), -1 on a corrupt record.
 */
static int geo_code(MMDB_entry_s *entry, const char *const *path, char out[3])
{
    MMDB_entry_data_s v;
    int rc = MMDB_aget_value(entry, &v, path);

    out[0] = '\0';
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
        rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
        return 0;
    if (rc != MMDB_SUCCESS)
        return -1;
    if (!v.has_data || v.type != MMDB_DATA_TYPE_UTF8_STRING || v.data_size != 2)
        return 0;
    for (int i = 0; i < 2; i++) {
        unsigned char c = (unsigned char)toupper((unsigned char)v.utf8_string[i]);
        if (c < 'A' || c > 'Z') {
            out[0] = '\0';
            return 0;
        }
        out[i] = (char)c;
    }
    out[2] = '\0';
    return 0;
}

/* The netmask libmaxminddb reports, in the address's own family. */
static uint8_t geo_prefix(const geo_t *g, int family, uint16_t netmask)
{
    if (family == 4 && g->mmdb.metadata.ip_version == 6)
        netmask = netmask > GEO_V4_IN_V6_BITS ? netmask - GEO_V4_IN_V6_BITS : 0;
    if (netmask > (family == 4 ? 32 : 128))
        netmask = family == 4 ? 32 : 128;
    return (uint8_t)netmask;
}

int geo_lookup(const geo_t *g, int family, const uint8_t *addr, geo_result_t *res)
{
    if (family == 4)
        return geo_lookup_v4(g, addr, res);
    return geo_lookup_mmdb(g, family, addr, res);
}

int geo_lookup_mmdb(const geo_t *g, int family, const uint8_t *addr, geo_result_t *res)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    MMDB_lookup_result_s r;
    int mmdb_err;

    memset(res, 0, sizeof *res);
    if (family == 4) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&sin;
    } else if (family == 6) {
        /* An IPv4-only database knows nothing of IPv6: not found, valid for all. */
        if (g->mmdb.metadata.ip_version == 4)
            return 0;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&sin6;
    } else {
        return -1;
    }
    r = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS)
        return -1;
    res->prefix = geo_prefix(g, family, r.netmask);
    if (!r.found_entry)
        return 0;
    if (geo_code(&r.entry, g->path, res->cc) < 0 ||
        geo_code(&r.entry, geo_continent_path, res->continent) < 0) {
        memset(res, 0, sizeof *res);
        return -1;
    }
    return 0;
}

/* ---- the IPv4 table, built once at open ---- */

/* Leaf offsets that are not data records. */
#define GEO_OFF_EMPTY UINT32_MAX
#define GEO_OFF_ERROR (UINT32_MAX - 1)

static void geo_walk_leaf(geo_walk_t *w, uint32_t start, unsigned depth, uint32_t off)
{
    geo_t *g = w->g;

    if (w->oom)
        return;
    if (g->v4n == w->cap) {
        uint32_t cap = w->cap ? w->cap * 2 : 4096;
        geo_leaf_t *v4 =
            cap <= GEO_V4_MAX_LEAVES ? realloc(g->v4, cap * sizeof *v4) : NULL;
        uint32_t *o = v4 ? realloc(w->off, cap * sizeof *o) : NULL;
        if (v4)
            g->v4 = v4;
        if (!o) {
            w->oom = 1;
            return;
        }
        w->off = o;
        w->cap = cap;
    }
    g->v4[g->v4n] = (geo_leaf_t){.start = start, .prefix = (uint8_t)depth};
    w->off[g->v4n++] = off;
}

static void geo_walk(geo_walk_t *w, uint32_t node, unsigned depth, uint32_t start);

/* One record of a node at `depth`: a subtree, or a leaf of length depth + 1. */
static void geo_walk_record(geo_walk_t *w, uint8_t type, uint64_t rec, uint32_t data_off,
                            unsigned depth, uint32_t start)
{
    if (type == MMDB_RECORD_TYPE_SEARCH_NODE)
        geo_walk(w, (uint32_t)rec, depth + 1, start);
    else if (type == MMDB_RECORD_TYPE_EMPTY)
        geo_walk_leaf(w, start, depth + 1, GEO_OFF_EMPTY);
    else if (type == MMDB_RECORD_TYPE_DATA)
        geo_walk_leaf(w, start, depth + 1, data_off);
    else
        geo_walk_leaf(w, start, depth + 1, GEO_OFF_ERROR);
}

/* Emits every leaf under `node`, which sits `depth` bits into IPv4 space. */
static void geo_walk(geo_walk_t *w, uint32_t node, unsigned depth, uint32_t start)
{
    MMDB_search_node_s n;

    /* A node below 32 bits, or one that cannot be read, is a corrupt tree:
     * libmaxminddb reports those as lookup errors, and so do we. */
    if (w->oom || depth >= 32 || MMDB_read_node(&w->g->mmdb, node, &n) != MMDB_SUCCESS) {
        geo_walk_leaf(w, start, depth, GEO_OFF_ERROR);
        return;
    }
    geo_walk_record(w, n.left_record_type, n.left_record, n.left_record_entry.offset,
                    depth, start);
    geo_walk_record(w, n.right_record_type, n.right_record, n.right_record_entry.offset,
                    depth, start | (1u << (31 - depth)));
}

/* Walks the IPv4 subtree: the root of an IPv4 database, ::/96 of an IPv6 one. */
static void geo_walk_v4(geo_walk_t *w)
{
    MMDB_search_node_s n;
    uint32_t node = 0;

    if (w->g->mmdb.metadata.ip_version == 4) {
        geo_walk(w, 0, 0, 0);
        return;
    }
    /* Only ::/96; ::ffff:0:0/96 and 2002::/16 alias the same subtree. */
    for (unsigned i = 0; i < GEO_V4_IN_V6_BITS; i++) {
        if (MMDB_read_node(&w->g->mmdb, node, &n) != MMDB_SUCCESS) {
            geo_walk_leaf(w, 0, 0, GEO_OFF_ERROR);
            return;
        }
        if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
            /* A leaf above ::/96 decides all of IPv4, with prefix 0 in IPv4 terms. */
            geo_walk_record(w, n.left_record_type, n.left_record,
                            n.left_record_entry.offset, 0, 0);
            if (w->g->v4n == 1)
                w->g->v4[0].prefix = 0;
            return;
        }
        node = (uint32_t)n.left_record;
    }
    geo_walk(w, node, 0, 0);
}

static int geo_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/*
 * Resolves each distinct data offset once into g->v4res (index 1..), then
 * points each leaf at its result. `uniq` is scratch of g->v4n entries.
 */
static int geo_resolve(geo_t *g, const uint32_t *off, uint32_t *uniq)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < g->v4n; i++)
        if (off[i] < GEO_OFF_ERROR)
            uniq[n++] = off[i];
    qsort(uniq, n, sizeof *uniq, geo_cmp_u32);
    g->v4resn = 1;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || uniq[i] != uniq[i - 1])
            uniq[g->v4resn++ - 1] = uniq[i];
    n = g->v4resn - 1;
    if (g->v4resn >= GEO_RES_ERROR || !(g->v4res = calloc(g->v4resn, sizeof *g->v4res)))
        return -1;
    /* A record that cannot be read maps to "error"; keep its slot for bsearch. */
    uint16_t *map = calloc(n + 1, sizeof *map);
    if (!map)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        MMDB_entry_s e = {.mmdb = &g->mmdb, .offset = uniq[i]};
        geo_v4res_t *r = &g->v4res[i + 1];
        map[i] = (uint16_t)(i + 1);
        if (geo_code(&e, g->path, r->cc) < 0 ||
            geo_code(&e, geo_continent_path, r->continent) < 0)
            map[i] = GEO_RES_ERROR;
    }
    for (uint32_t i = 0; i < g->v4n; i++) {
        const uint32_t *u;
        if (off[i] == GEO_OFF_EMPTY)
            g->v4[i].res = GEO_RES_NONE;
        else if (off[i] == GEO_OFF_ERROR ||
                 !(u = bsearch(&off[i], uniq, n, sizeof *uniq, geo_cmp_u32)))
            g->v4[i].res = GEO_RES_ERROR;
        else
            g->v4[i].res = map[u - uniq];
    }
    free(map);
    return 0;
}

/* Builds the IPv4 table and its 16-bit index; the leaves come out sorted. */
int geo_v4_build(geo_t *g, char *err, size_t errlen)
{
    geo_walk_t w = {.g = g};
    uint32_t *uniq = NULL;
    int rc = -1;

    geo_walk_v4(&w);
    if (w.oom || !(uniq = malloc((size_t)g->v4n * sizeof *uniq)) ||
        geo_resolve(g, w.off, uniq) < 0) {
        snprintf(err, errlen,
                 GEO_ERR_PREFIX "out of memory (or over %u IPv4 networks / 65534 "
                                "records) building the IPv4 table",
                 GEO_V4_MAX_LEAVES);
        goto out;
    }
    for (uint32_t h = 0, i = 0; h <= 65536; h++) {
        uint64_t a = (uint64_t)h << 16;
        while (i + 1 < g->v4n && g->v4[i + 1].start <= a)
            i++;
        g->v4idx[h] = i;
    }
    rc = 0;
out:
    free(uniq);
    free(w.off);
    return rc;
}

/* The leaf holding `a`: the last one starting at or before it. */
static int geo_lookup_v4(const geo_t *g, const uint8_t *addr, geo_result_t *res)
{
    uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
                 (uint32_t)addr[2] << 8 | addr[3];
    uint32_t lo = g->v4idx[a >> 16], hi = g->v4idx[(a >> 16) + 1];
    const geo_leaf_t *l;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (g->v4[mid].start <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    l = &g->v4[lo];
    if (l->res == GEO_RES_ERROR) {
        memset(res, 0, sizeof *res);
        return -1;
    }
    memcpy(res->cc, g->v4res[l->res].cc, 3);
    memcpy(res->continent, g->v4res[l->res].continent, 3);
    res->prefix = l->prefix;
    return 0;
}
