/*
 * nts_pool.c - per-zone tables of NTS-KE endpoints (nts.c says what an
 * endpoint weighs and why), SRV RDATA for the query path, and the NTS part
 * of the snapshot report.
 */
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

/* One (zone, endpoint) membership of an eligible server, before merging. */
typedef struct nts_entry {
    uint32_t zone, rep; /* rep: the endpoint's first server */
    uint64_t w;
} nts_entry_t;

static int nts_cmp_entry(const void *a, const void *b)
{
    const nts_entry_t *x = a, *y = b;

    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    return (x->rep > y->rep) - (x->rep < y->rep);
}

/* Servers with NTS, ordered by endpoint (host bytes, port), then index. */
static const zone_snapshot_t *nts_sort_snap;

static int nts_cmp_server(const void *a, const void *b)
{
    const zone_snapshot_t *s = nts_sort_snap;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    size_t li, lj;
    const uint8_t *hi = zone_server_nts_host(s, &s->servers[i], &li);
    const uint8_t *hj = zone_server_nts_host(s, &s->servers[j], &lj);
    int c = memcmp(hi, hj, li < lj ? li : lj);

    if (c || li != lj)
        return c ? c : (li < lj ? -1 : 1);
    if (s->servers[i].nts_port != s->servers[j].nts_port)
        return s->servers[i].nts_port < s->servers[j].nts_port ? -1 : 1;
    return (i > j) - (i < j);
}

static bool nts_same(const zone_snapshot_t *s, uint32_t i, uint32_t j)
{
    size_t li, lj;
    const uint8_t *hi = zone_server_nts_host(s, &s->servers[i], &li);
    const uint8_t *hj = zone_server_nts_host(s, &s->servers[j], &lj);

    return li == lj && memcmp(hi, hj, li) == 0 &&
           s->servers[i].nts_port == s->servers[j].nts_port;
}

/* rep[i]: the first server of server i's endpoint (only for NTS servers).
 * The sort runs at load time on the control thread only, so the comparator's
 * static context is safe. Returns how many servers have NTS. */
static size_t nts_reps(const zone_snapshot_t *s, uint32_t *order, uint32_t *rep)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_servers; i++)
        if (s->servers[i].nts_port)
            order[n++] = (uint32_t)i;
    nts_sort_snap = s;
    qsort(order, n, sizeof *order, nts_cmp_server);
    for (size_t k = 0; k < n; k++)
        rep[order[k]] =
            k && nts_same(s, order[k - 1], order[k]) ? rep[order[k - 1]] : order[k];
    return n;
}

/* Memberships of eligible NTS servers, counting listed and eligible ones. */
static size_t nts_entries(zone_pool_t *pool, const uint32_t *rep, nts_entry_t *e)
{
    const zone_snapshot_t *s = pool->snap;
    size_t n = 0;

    for (size_t i = 0; i < s->n_servers; i++) {
        const zone_server_t *srv = &s->servers[i];
        uint64_t w = zone_weight(srv, &pool->params);
        int ids[9] = {ZONE_GLOBAL};
        size_t n_ids = 1;
        if (!srv->nts_port)
            continue;
        for (size_t k = 0; k < srv->n_zones; k++) {
            bool dup = srv->zones[k] == ZONE_GLOBAL || srv->zones[k] >= pool->n_ids;
            for (size_t j = 0; j < n_ids && !dup; j++)
                dup = ids[j] == srv->zones[k];
            if (!dup)
                ids[n_ids++] = srv->zones[k];
        }
        for (size_t k = 0; k < n_ids; k++) {
            pool->nts_listed[ids[k]][0]++;
            pool->nts_listed[ids[k]][1] += w > 0;
            if (w)
                e[n++] = (nts_entry_t){(uint32_t)ids[k], rep[i], w};
        }
    }
    return n;
}

/* Merges sorted entries into the tables: one row per (zone, endpoint). */
static int nts_tables(zone_pool_t *pool, nts_entry_t *e, size_t n)
{
    size_t rows = 0, at = 0;

    qsort(e, n, sizeof *e, nts_cmp_entry);
    for (size_t k = 0; k < n; k++)
        rows += !k || e[k].zone != e[k - 1].zone || e[k].rep != e[k - 1].rep;
    if (!(pool->nts_arena = malloc(rows * (sizeof(uint64_t) + sizeof(uint32_t)) + 1)))
        return -1;
    uint64_t *cum = pool->nts_arena;
    uint32_t *idx = (uint32_t *)(cum + rows);
    for (size_t k = 0; k < n; k++) {
        pool_table_t *t = &pool->nts[e[k].zone];
        if (!t->idx)
            *t = (pool_table_t){.n = 0, .idx = idx + at, .cum = cum + at};
        if (t->n && t->idx[t->n - 1] == e[k].rep) {
            t->cum[t->n - 1] += e[k].w; /* another server of this endpoint */
            continue;
        }
        t->idx[t->n] = e[k].rep;
        t->cum[t->n] = (t->n ? t->cum[t->n - 1] : 0) + e[k].w;
        t->n++;
        at++;
    }
    return 0;
}

int pool_nts_build(zone_pool_t *pool)
{
    const zone_snapshot_t *s = pool->snap;
    size_t cap = s->n_servers ? s->n_servers : 1;
    uint32_t *order = malloc(cap * sizeof *order), *rep = malloc(cap * sizeof *rep);
    nts_entry_t *e = malloc(cap * 9 * sizeof *e);
    int rc = -1;

    if (!order || !rep || !e)
        goto done;
    if (nts_reps(s, order, rep) == 0) {
        rc = 0;
        goto done;
    }
    rc = nts_tables(pool, e, nts_entries(pool, rep, e));
done:
    free(order);
    free(rep);
    free(e);
    return rc;
}

void zone_pool_nts_counts(const zone_pool_t *pool, int id, unsigned *listed,
                          unsigned *eligible, unsigned *endpoints)
{
    const pool_table_t *t = pool_table(pool, id, ZONE_NTS, -1);

    *listed = t ? pool->nts_listed[id][0] : 0;
    *eligible = t ? pool->nts_listed[id][1] : 0;
    *endpoints = t ? t->n : 0;
}

/* ---- SRV RDATA --------------------------------------------------------- */

void zone_srv_weights(const uint64_t *w, size_t n, uint16_t *out)
{
    uint64_t max = 0;

    for (size_t i = 0; i < n; i++)
        max = w[i] > max ? w[i] : max;
    for (size_t i = 0; i < n; i++) {
        /* round(65535 w / max), in 128 bits: weights reach 2^64. */
        unsigned __int128 v =
            max ? ((unsigned __int128)w[i] * 131070u + max) / (2 * (unsigned __int128)max)
                : 0;
        out[i] = (uint16_t)(v < 1 ? 1 : v > 65535 ? 65535 : v);
    }
}

size_t zone_srv_rdata(const zone_snapshot_t *snap, const zone_server_t *srv,
                      uint16_t weight, uint8_t out[6 + 255])
{
    size_t len;
    const uint8_t *host = zone_server_nts_host(snap, srv, &len);

    if (!host)
        return 0;
    out[0] = out[1] = 0; /* priority 0: one tier, the weights decide */
    out[2] = (uint8_t)(weight >> 8);
    out[3] = (uint8_t)weight;
    out[4] = (uint8_t)(srv->nts_port >> 8);
    out[5] = (uint8_t)srv->nts_port;
    memcpy(out + 6, host, len); /* RFC 2782: the target is never compressed */
    return 6 + len;
}

/* ---- report ------------------------------------------------------------ */

/* An lname as text without the final dot ("time.example.net"). */
static void nts_text(const uint8_t *p, char *buf, size_t cap)
{
    size_t at = 0;

    for (; *p && at + *p + 2 < cap; p += 1u + *p) {
        if (at)
            buf[at++] = '.';
        memcpy(buf + at, p + 1, *p);
        at += *p;
    }
    buf[at] = '\0';
}

/* Endpoints listed by the report: enough to read, bounded for big pools. */
#define NTS_REPORT_MAX 200

static void nts_report_endpoints(const zone_pool_t *pool, FILE *out)
{
    const pool_table_t *t = &pool->nts[ZONE_GLOBAL];
    const zone_snapshot_t *s = pool->snap;
    uint64_t total = t->n ? t->cum[t->n - 1] : 0;
    char host[256];

    fprintf(out, "NTS-KE endpoints of @ (SRV targets):\n");
    for (uint32_t k = 0; k < t->n && k < NTS_REPORT_MAX; k++) {
        const zone_server_t *rep = &s->servers[t->idx[k]];
        size_t len, n = 0;
        nts_text(zone_server_nts_host(s, rep, &len), host, sizeof host);
        for (size_t i = 0; i < s->n_servers; i++) {
            const zone_server_t *o = &s->servers[i];
            size_t l2;
            const uint8_t *h = zone_server_nts_host(s, o, &l2);
            n += h && o->nts_port == rep->nts_port && l2 == len &&
                 memcmp(h, zone_server_nts_host(s, rep, &len), len) == 0;
        }
        fprintf(out, "  %s port %u: %zu server%s, %5.2f%% of the NTS weight\n", host,
                rep->nts_port, n, n == 1 ? "" : "s",
                100.0 * (double)(t->cum[k] - (k ? t->cum[k - 1] : 0)) / (double)total);
    }
    if (t->n > NTS_REPORT_MAX)
        fprintf(out, "  ... and %u more\n", t->n - NTS_REPORT_MAX);
}

void zone_pool_nts_report(const zone_pool_t *pool, FILE *out)
{
    unsigned listed, elig, eps;

    zone_pool_nts_counts(pool, ZONE_GLOBAL, &listed, &elig, &eps);
    if (!listed)
        return; /* the report of a pool without NTS stays as it was */
    fprintf(out, "NTS: %u servers with an NTS-KE endpoint (%u eligible), %u endpoints\n",
            listed, elig, eps);
    fprintf(out, "%-16s %21s %10s\n", "zone", "nts eligible/total", "endpoints");
    for (int id = 0; id < pool->n_ids; id++) {
        char v[24];
        zone_pool_nts_counts(pool, id, &listed, &elig, &eps);
        if (!listed)
            continue;
        snprintf(v, sizeof v, "%u/%u", elig, listed);
        fprintf(out, "%-16s %21s %10u\n", zone_id_name(id), v, eps);
    }
    nts_report_endpoints(pool, out);
}
