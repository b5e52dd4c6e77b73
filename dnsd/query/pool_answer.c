/*
 * pool_answer.c - the answers chosen by place and weight: where the client
 * is (ECS or source address, GeoIP, the zone walk), the servers picked for a
 * pool name (A/AAAA) or the NTS-KE endpoints for an NTS name (SRV), with
 * demand-aware balancing and its counters, and the _country TXT that shows
 * the choice. answer.c finds the name and calls these; with DNSSEC the
 * pre-signed sets come from dnssec_answer.c instead of a fresh pick.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "answer_int.h"

/* Client address: ECS when present with SOURCE > 0, else the packet's source
 * (DESIGN.md "Geo"); then country, continent and the zone walk. */
void answer_locate(const srv_data_t *d, const wire_query_t *q, const struct sockaddr *src,
                   answer_geo_t *g)
{
    memset(g, 0, sizeof *g);
    g->country = g->continent = -1;
    if (q->ecs)
        g->source = q->ecs_source;
    if (q->ecs && q->ecs_source > 0) {
        g->from_ecs = true;
        g->family = q->ecs_family == 1 ? 4 : 6;
        memcpy(g->addr, q->ecs_addr, 16);
    } else if (src && src->sa_family == AF_INET) {
        g->family = 4;
        memcpy(g->addr, &((const struct sockaddr_in *)src)->sin_addr, 4);
    } else if (src && src->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)src)->sin6_addr;
        g->family = IN6_IS_ADDR_V4MAPPED(a6) ? 4 : 6;
        memcpy(g->addr, g->family == 4 ? a6->s6_addr + 12 : a6->s6_addr,
               g->family == 4 ? 4 : 16);
    }
    if (d->geo && g->family && geo_lookup(d->geo, g->family, g->addr, &g->res) == 0) {
        g->country = zone_id_from_cc(g->res.cc);
        g->continent = zone_id_from_continent_code(g->res.continent);
        if (g->continent < 0 && g->country >= 0)
            g->continent = zone_id_continent(g->country);
        g->scope = g->res.prefix;
    }
    if (q->ecs && g->scope > q->ecs_source)
        g->scope = q->ecs_source;
    /* The continent is the database's when it has one (zone_walk() would take
     * the built-in table's). */
    g->n_walk = zone_walk_geo(g->country, g->continent, g->walk);
}

/* Picks servers for a pool name, family 4 or 6, or NTS-KE endpoints for an
 * NTS name (ZONE_NTS, srv_answers of them); geo may be NULL for FIXED.
 * With balancing on, records may start further along the walk by the keep
 * fractions (docs/balancing.md), and the answer is counted as demand of its
 * zone of first draw when `count` (origin index oi). Returns whether a record
 * spilled. */
static bool answer_pick(answer_ctx_t *ctx, const srv_origin_t *o, int oi,
                        const zone_node_t *node, const answer_geo_t *geo, int family,
                        zone_pick_t *pick, bool count)
{
    int walk[3];
    size_t n_walk;
    bool fixed =
        node->pool_kind == ZONE_POOL_FIXED || node->pool_kind == ZONE_POOL_NTS_FIXED;
    bool nts = family == ZONE_NTS;
    unsigned want = nts ? o->srv_answers : o->answers;
    int quarter = nts ? -1 : node->quarter;
    zone_pick_info_t info;

    pick->n = 0;
    pick->zone = -1;
    pick->backfill = false;
    if (!o->pool)
        return false;
    if (fixed) {
        n_walk = zone_walk(node->pool_zone, walk);
    } else {
        n_walk = geo->n_walk;
        memcpy(walk, geo->walk, sizeof walk);
    }
    if (o->balance.mode == CFG_BALANCE_OFF) {
        zone_pool_pick(o->pool, family, quarter, walk, n_walk, want, &ctx->rng, pick);
        return false;
    }
    const zone_keep_t *keep = fixed && !o->balance.explicit_names ? NULL : o->keep;
    zone_pool_pick_keep(o->pool, family, quarter, walk, n_walk, want, keep, &ctx->rng,
                        pick, &info);
    if (count && info.home >= 0 && oi >= 0 && oi < STAT_BAL_ORIGINS)
        ctx->stats->demand[oi][info.home][zone_bal_family(family)][fixed]++;
    if (count && info.spilled)
        ctx->stats->pool_spilled[info.home]++;
    return info.spilled;
}

/* One more answer for each picked server, in this worker's row. */
static void answer_served(answer_ctx_t *ctx, const srv_origin_t *o,
                          const zone_pick_t *pick)
{
    const srv_served_t *sv = o->served;

    if (!sv || ctx->worker >= sv->n_workers)
        return;
    const zone_server_t *base = zone_pool_snapshot(o->pool)->servers;
    uint64_t *row = sv->count + (size_t)ctx->worker * sv->stride;
    for (size_t i = 0; i < pick->n; i++)
        row[pick->srv[i] - base]++;
}

/* A or AAAA at a pool name. Returns false when the answer is NODATA. */
bool answer_pool(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                 const zone_node_t *node, const answer_geo_t *geo, uint16_t qtype)
{
    int family = qtype == WIRE_AAAA ? 6 : 4;
    zone_pick_t pick;

    /* The public pool's rule: IPv6 only on the 2.* names unless "aaaa: all". */
    if (family == 6 && o->aaaa == CFG_AAAA_NUMBERED_2 && node->quarter != 2)
        return false;
    if (r->dnssec) { /* the same scope rule as below */
        if (!answer_dnssec_pool(ctx, r, o, node, geo, family))
            return false;
        if (node->pool_kind == ZONE_POOL_GEO)
            r->scope = geo->scope;
        return true;
    }
    answer_pick(ctx, o, r->origin, node, geo, family, &pick, true);
    if (pick.n == 0) {
        ctx->stats->pool_empty++;
        return false;
    }
    /* Only a positive answer depends on the place: an empty pick means the
     * walk's last zone, "@", is empty, which is so for every client, and a
     * negative answer keeps scope 0 (RFC 7871 section 7.2.1). */
    if (node->pool_kind == ZONE_POOL_GEO)
        r->scope = geo->scope;
    answer_served(ctx, o, &pick);
    ctx->stats->pool_answers++;
    ctx->stats->pool_backfill += pick.backfill;
    if (pick.zone >= 0 && pick.zone < ZONE_ID_MAX)
        ctx->stats->pool_by_zone[pick.zone][pick.backfill ? 1 : 0]++;
    for (size_t i = 0; i < pick.n; i++) {
        if (!answer_put_rr(r, ANSWER_QNAME_PTR, family == 4 ? WIRE_A : WIRE_AAAA, WIRE_IN,
                           o->ttl, pick.srv[i]->addr, family == 4 ? 4 : 16))
            break;
        r->an++;
    }
    return true;
}

/*
 * SRV at an NTS name (docs/nts.md): up to srv_answers NTS-KE endpoints
 * drawn like pool servers (exact weighted sampling without replacement along
 * the client's walk, or the zone's walk for a zone name), each weighted for
 * RFC 2782's ordering by zone_srv_weights(), in draw order; with the DO bit
 * and keys, one of the slot's pre-signed sets of such draws, as for A/AAAA.
 * No additional section: the targets are other zones' names. Returns false
 * for NODATA.
 */
bool answer_srv(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                const zone_node_t *node, const answer_geo_t *geo)
{
    uint8_t rd[6 + 255];
    uint16_t weight[ZONE_PICK_MAX];
    zone_pick_t pick = {.n = 0};

    if (r->dnssec) { /* pre-signed sets (dnssec/pool_sign.c); the scope as below */
        if (!answer_dnssec_pool(ctx, r, o, node, geo, ZONE_NTS))
            return false;
        if (node->pool_kind == ZONE_POOL_NTS_GEO)
            r->scope = geo->scope;
        return true;
    }
    /* Drawn and balanced as A/AAAA are, as their own family of demand. */
    answer_pick(ctx, o, r->origin, node, geo, ZONE_NTS, &pick, true);
    if (pick.n == 0) {
        ctx->stats->nts_empty++;
        return false;
    }
    if (node->pool_kind == ZONE_POOL_NTS_GEO) /* as for A/AAAA: answer_pool */
        r->scope = geo->scope;
    ctx->stats->nts_answers++;
    zone_srv_weights(pick.weight, pick.n, weight);
    for (size_t i = 0; i < pick.n; i++) {
        const zone_snapshot_t *snap = zone_pool_snapshot(o->pool);
        size_t len = zone_srv_rdata(snap, pick.srv[i], weight[i], rd);
        if (!answer_put_rr(r, ANSWER_QNAME_PTR, WIRE_SRV, WIRE_IN, o->ttl, rd,
                           (uint16_t)len))
            break;
        r->an++;
    }
    return true;
}

/* Appends one <character-string> to a TXT RDATA buffer. */
static size_t answer_txt_add(uint8_t *rd, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n > 255 || len + 1 + n > 1024)
        return len;
    rd[len] = (uint8_t)n;
    memcpy(rd + len + 1, s, n);
    return len + 1 + n;
}

/* _country.<origin> TXT: what the server made of this client (DESIGN.md
 * "Diagnostics"). Off the fast path in spirit: only asked by people. */
void answer_country_txt(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                        const zone_node_t *node, const answer_geo_t *geo,
                        const wire_query_t *q)
{
    uint8_t rd[1024];
    char s[160], a[INET6_ADDRSTRLEN] = "none";
    size_t len = 0;
    zone_pick_t pick;
    zone_node_t apex = *node;

    apex.pool_kind = ZONE_POOL_GEO;
    apex.quarter = -1;
    bool spilled = answer_pick(ctx, o, -1, &apex, geo, 4, &pick, false);
    if (geo->family)
        inet_ntop(geo->family == 4 ? AF_INET : AF_INET6, geo->addr, a, sizeof a);
    snprintf(s, sizeof s, "address %s (%s)", a, geo->from_ecs ? "ecs" : "source");
    len = answer_txt_add(rd, len, s);
    snprintf(s, sizeof s, "country %s", geo->country >= 0 ? geo->res.cc : "unknown");
    len = answer_txt_add(rd, len, s);
    snprintf(s, sizeof s, "continent %s",
             geo->continent >= 0 ? zone_id_name(geo->continent) : "unknown");
    len = answer_txt_add(rd, len, s);
    snprintf(s, sizeof s, "zone %s", pick.zone >= 0 ? zone_id_name(pick.zone) : "none");
    len = answer_txt_add(rd, len, s);
    snprintf(s, sizeof s, "backfill %s", pick.backfill ? "yes" : "no");
    len = answer_txt_add(rd, len, s);
    if (o->balance.mode != CFG_BALANCE_OFF) { /* off: the TXT of before, to the byte */
        snprintf(s, sizeof s, "spill %s", spilled ? "yes" : "no");
        len = answer_txt_add(rd, len, s);
    }
    if (o->pool)
        snprintf(s, sizeof s, "serial %llu",
                 (unsigned long long)zone_pool_snapshot(o->pool)->serial);
    else
        snprintf(s, sizeof s, "serial none");
    len = answer_txt_add(rd, len, s);
    /* The text names the client's address: a resolver may hand it to that
     * address only, so the scope is the whole source prefix, with or without
     * a database (RFC 7871 section 7.2.1 allows a scope longer than the
     * network that decided). */
    r->scope = geo->source;
    if (answer_put_rr(r, ANSWER_QNAME_PTR, WIRE_TXT, WIRE_IN, 0, rd, (uint16_t)len))
        r->an++;
    if (r->dnssec)
        answer_dnssec_online(r, o, q, WIRE_TXT, 0, rd, (uint16_t)len);
}
