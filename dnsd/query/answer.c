/*
 * answer.c - the query path: parse, locate, look up, pick, write.
 *
 * The response is written straight into the caller's buffer. Space for the OPT
 * record is reserved first, so an answer that does not fit is cut back to the
 * question and sent with TC (RFC 2181 section 9, RFC 6891 section 7: the OPT
 * stays). Owner names are compression pointers into the echoed question, which
 * is copied byte for byte, so 0x20 case randomisation survives.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dnsd/query/answer.h"
#include "answer_int.h"
#include "dnsd/query/cookie.h"
#include "dnsd/query/rrl.h"
#include "dnsd/query/wire.h"

static bool ans_room(ans_resp_t *r, size_t n)
{
    if (r->len + n <= r->limit)
        return true;
    r->tc = true;
    return false;
}

/* One record: 2-byte compressed owner, then TYPE CLASS TTL RDLENGTH RDATA. */
bool ans_put_rr(ans_resp_t *r, uint16_t owner, uint16_t type, uint16_t class,
                uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
    if (!ans_room(r, 12 + (size_t)rdlen))
        return false;
    uint8_t *p = r->out + r->len;
    wire_put16(p, owner);
    wire_put16(p + 2, type);
    wire_put16(p + 4, class);
    wire_put32(p + 6, ttl);
    wire_put16(p + 10, rdlen);
    memcpy(p + 12, rdata, rdlen);
    r->len += 12 + (size_t)rdlen;
    return true;
}

/* Copies a prepared RRset (zones.h: records without owners) after `owner`. */
bool ans_put_rrset(ans_resp_t *r, uint16_t owner, const zone_rrset_t *set,
                   uint16_t *count)
{
    const uint8_t *p = set->wire, *end = set->wire + set->len;

    while (p < end) {
        size_t rrlen = 10 + (size_t)wire_get16(p + 8);
        if (!ans_room(r, 2 + rrlen))
            return false;
        wire_put16(r->out + r->len, owner);
        memcpy(r->out + r->len + 2, p, rrlen);
        r->len += 2 + rrlen;
        (*count)++;
        p += rrlen;
    }
    return true;
}

static const zone_rrset_t *ans_rrset(const zone_node_t *node, uint16_t type)
{
    for (uint16_t i = 0; i < node->n_rrsets; i++)
        if (node->rrsets[i].type == type)
            return &node->rrsets[i];
    return NULL;
}

/* The longest origin that is a suffix of the query name at a label boundary. */
static const srv_origin_t *ans_origin(const srv_data_t *d, const wire_query_t *q)
{
    const srv_origin_t *best = NULL;

    for (size_t i = 0; i < d->n_origins; i++) {
        const srv_origin_t *o = &d->origins[i];
        if (o->lname_len > q->qname_len || (best && best->lname_len >= o->lname_len))
            continue;
        size_t off = q->qname_len - o->lname_len;
        bool boundary = off == 0;
        for (unsigned l = 0; l < q->labels && !boundary; l++)
            boundary = q->label_off[l] == off;
        if (boundary && memcmp(q->lname + off, o->lname, o->lname_len) == 0)
            best = o;
    }
    return best;
}

/* Client address: ECS when present with SOURCE > 0, else the packet's source
 * (DESIGN.md "Geo"); then country, continent and the zone walk. */
static void ans_locate(const srv_data_t *d, const wire_query_t *q,
                       const struct sockaddr *src, ans_geo_t *g)
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
static bool ans_pick(ans_ctx_t *ctx, const srv_origin_t *o, int oi,
                     const zone_node_t *node, const ans_geo_t *geo, int family,
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
static void ans_served(ans_ctx_t *ctx, const srv_origin_t *o, const zone_pick_t *pick)
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
static bool ans_pool(ans_ctx_t *ctx, ans_resp_t *r, const srv_origin_t *o,
                     const zone_node_t *node, const ans_geo_t *geo, uint16_t qtype)
{
    int family = qtype == WIRE_AAAA ? 6 : 4;
    zone_pick_t pick;

    /* The public pool's rule: IPv6 only on the 2.* names unless "aaaa: all". */
    if (family == 6 && o->aaaa == CFG_AAAA_NUMBERED_2 && node->quarter != 2)
        return false;
    if (r->dnssec) { /* the same scope rule as below */
        if (!ans_dnssec_pool(ctx, r, o, node, geo, family))
            return false;
        if (node->pool_kind == ZONE_POOL_GEO)
            r->scope = geo->scope;
        return true;
    }
    ans_pick(ctx, o, r->origin, node, geo, family, &pick, true);
    if (pick.n == 0) {
        ctx->stats->pool_empty++;
        return false;
    }
    /* Only a positive answer depends on the place: an empty pick means the
     * walk's last zone, "@", is empty, which is so for every client, and a
     * negative answer keeps scope 0 (RFC 7871 section 7.2.1). */
    if (node->pool_kind == ZONE_POOL_GEO)
        r->scope = geo->scope;
    ans_served(ctx, o, &pick);
    ctx->stats->pool_answers++;
    ctx->stats->pool_backfill += pick.backfill;
    if (pick.zone >= 0 && pick.zone < ZONE_ID_MAX)
        ctx->stats->pool_by_zone[pick.zone][pick.backfill ? 1 : 0]++;
    for (size_t i = 0; i < pick.n; i++) {
        if (!ans_put_rr(r, ANS_QNAME_PTR, family == 4 ? WIRE_A : WIRE_AAAA, WIRE_IN,
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
static bool ans_srv(ans_ctx_t *ctx, ans_resp_t *r, const srv_origin_t *o,
                    const zone_node_t *node, const ans_geo_t *geo)
{
    uint8_t rd[6 + 255];
    uint16_t weight[ZONE_PICK_MAX];
    zone_pick_t pick = {.n = 0};

    if (r->dnssec) { /* pre-signed sets (dnssec/pool_sign.c); the scope as below */
        if (!ans_dnssec_pool(ctx, r, o, node, geo, ZONE_NTS))
            return false;
        if (node->pool_kind == ZONE_POOL_NTS_GEO)
            r->scope = geo->scope;
        return true;
    }
    /* Drawn and balanced as A/AAAA are, as their own family of demand. */
    ans_pick(ctx, o, r->origin, node, geo, ZONE_NTS, &pick, true);
    if (pick.n == 0) {
        ctx->stats->nts_empty++;
        return false;
    }
    if (node->pool_kind == ZONE_POOL_NTS_GEO) /* as for A/AAAA: ans_pool */
        r->scope = geo->scope;
    ctx->stats->nts_answers++;
    zone_srv_weights(pick.weight, pick.n, weight);
    for (size_t i = 0; i < pick.n; i++) {
        const zone_snapshot_t *snap = zone_pool_snapshot(o->pool);
        size_t len = zone_srv_rdata(snap, pick.srv[i], weight[i], rd);
        if (!ans_put_rr(r, ANS_QNAME_PTR, WIRE_SRV, WIRE_IN, o->ttl, rd, (uint16_t)len))
            break;
        r->an++;
    }
    return true;
}

/* Appends one <character-string> to a TXT RDATA buffer. */
static size_t ans_txt_add(uint8_t *rd, size_t len, const char *s)
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
static void ans_country_txt(ans_ctx_t *ctx, ans_resp_t *r, const srv_origin_t *o,
                            const zone_node_t *node, const ans_geo_t *geo,
                            const wire_query_t *q)
{
    uint8_t rd[1024];
    char s[160], a[INET6_ADDRSTRLEN] = "none";
    size_t len = 0;
    zone_pick_t pick;
    zone_node_t apex = *node;

    apex.pool_kind = ZONE_POOL_GEO;
    apex.quarter = -1;
    bool spilled = ans_pick(ctx, o, -1, &apex, geo, 4, &pick, false);
    if (geo->family)
        inet_ntop(geo->family == 4 ? AF_INET : AF_INET6, geo->addr, a, sizeof a);
    snprintf(s, sizeof s, "address %s (%s)", a, geo->from_ecs ? "ecs" : "source");
    len = ans_txt_add(rd, len, s);
    snprintf(s, sizeof s, "country %s", geo->country >= 0 ? geo->res.cc : "unknown");
    len = ans_txt_add(rd, len, s);
    snprintf(s, sizeof s, "continent %s",
             geo->continent >= 0 ? zone_id_name(geo->continent) : "unknown");
    len = ans_txt_add(rd, len, s);
    snprintf(s, sizeof s, "zone %s", pick.zone >= 0 ? zone_id_name(pick.zone) : "none");
    len = ans_txt_add(rd, len, s);
    snprintf(s, sizeof s, "backfill %s", pick.backfill ? "yes" : "no");
    len = ans_txt_add(rd, len, s);
    if (o->balance.mode != CFG_BALANCE_OFF) { /* off: the TXT of before, to the byte */
        snprintf(s, sizeof s, "spill %s", spilled ? "yes" : "no");
        len = ans_txt_add(rd, len, s);
    }
    if (o->pool)
        snprintf(s, sizeof s, "serial %llu",
                 (unsigned long long)zone_pool_snapshot(o->pool)->serial);
    else
        snprintf(s, sizeof s, "serial none");
    len = ans_txt_add(rd, len, s);
    /* The text names the client's address: a resolver may hand it to that
     * address only, so the scope is the whole source prefix, with or without
     * a database (RFC 7871 section 7.2.1 allows a scope longer than the
     * network that decided). */
    r->scope = geo->source;
    if (ans_put_rr(r, ANS_QNAME_PTR, WIRE_TXT, WIRE_IN, 0, rd, (uint16_t)len))
        r->an++;
    if (r->dnssec)
        ans_dnssec_online(r, o, q, WIRE_TXT, 0, rd, (uint16_t)len);
}

/* The answer section for an existing name. Returns false for NODATA. */
static bool ans_node(ans_ctx_t *ctx, ans_resp_t *r, const srv_origin_t *o,
                     const zone_node_t *node, const wire_query_t *q,
                     const struct sockaddr *src, const srv_data_t *d)
{
    uint16_t qtype = q->qtype;
    const zone_rrset_t *set;
    ans_geo_t geo;
    bool pool = node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_FIXED;
    bool nts =
        node->pool_kind == ZONE_POOL_NTS_GEO || node->pool_kind == ZONE_POOL_NTS_FIXED;

    if (node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_COUNTRY_TXT ||
        node->pool_kind == ZONE_POOL_NTS_GEO)
        ans_locate(d, q, src, &geo);
    if (node->pool_kind == ZONE_POOL_COUNTRY_TXT &&
        (qtype == WIRE_TXT || qtype == WIRE_ANY)) {
        ans_country_txt(ctx, r, o, node, &geo, q);
        return true;
    }
    /* RFC 8482 section 4.2: answer ANY with one RRset - the pool's A records
     * at pool names, SRV at NTS names, else the first RRset of the name. */
    if (qtype == WIRE_ANY) {
        if (pool && ans_pool(ctx, r, o, node, &geo, WIRE_A))
            return true;
        if (nts && ans_srv(ctx, r, o, node, &geo))
            return true;
        if (node->n_rrsets == 0)
            return false;
        ans_put_rrset(r, ANS_QNAME_PTR, &node->rrsets[0], &r->an);
        if (r->dnssec)
            ans_dnssec_sigs(r, o, node, &node->rrsets[0]);
        return true;
    }
    if (pool && (qtype == WIRE_A || qtype == WIRE_AAAA))
        return ans_pool(ctx, r, o, node, &geo, qtype);
    if (nts && qtype == WIRE_SRV)
        return ans_srv(ctx, r, o, node, &geo);
    if (o->dz && ans_dnssec_node(r, o, node, qtype))
        return true;
    set = ans_rrset(node, qtype);
    if (!set)
        set = ans_rrset(node, WIRE_CNAME); /* RFC 1034 section 3.6.2 */
    if (!set)
        return false;
    ans_put_rrset(r, ANS_QNAME_PTR, set, &r->an);
    if (r->dnssec)
        ans_dnssec_sigs(r, o, node, set);
    return true;
}

/* Class IN: the origin, the name, then records or a negative answer. */
static uint8_t ans_in(ans_ctx_t *ctx, ans_resp_t *r, const srv_data_t *d,
                      const wire_query_t *q, const struct sockaddr *src, bool *aa)
{
    const srv_origin_t *o = ans_origin(d, q);
    const zone_node_t *node;
    uint8_t rcode = WIRE_NOERROR;

    if (!o)
        return WIRE_REFUSED;
    r->origin = (int)(o - d->origins);
    r->dnssec = q->edns_do && o->dz; /* RFC 3225 section 3 */
    *aa = true;
    node = zone_static_find(o->stat, q->lname, q->qname_len);
    if (!node)
        rcode = WIRE_NXDOMAIN;
    if (node && ans_node(ctx, r, o, node, q, src, d))
        return rcode;
    /* Negative answer (RFC 2308 section 3): the SOA in authority, its owner a
     * pointer to where the origin starts inside the question name. */
    uint16_t owner = (uint16_t)(0xC000 | (WIRE_HEADER + q->qname_len - o->lname_len));
    if (r->dnssec)
        return ans_dnssec_negative(r, o, node, q, owner);
    ans_put_rrset(r, owner, zone_static_soa_negative(o->stat), &r->ns);
    return rcode;
}

/* CH TXT id.server / hostname.bind (RFC 4892): the node's identity. */
static uint8_t ans_chaos(ans_resp_t *r, const srv_data_t *d, const wire_query_t *q,
                         bool *aa)
{
    static const uint8_t id_server[] = "\2id\6server";
    static const uint8_t hostname_bind[] = "\10hostname\4bind";
    uint8_t rd[256];

    if ((q->qname_len != sizeof id_server ||
         memcmp(q->lname, id_server, sizeof id_server)) &&
        (q->qname_len != sizeof hostname_bind ||
         memcmp(q->lname, hostname_bind, sizeof hostname_bind)))
        return WIRE_REFUSED;
    *aa = true;
    if (q->qtype != WIRE_TXT && q->qtype != WIRE_ANY)
        return WIRE_NOERROR;
    rd[0] = (uint8_t)d->identity_len;
    memcpy(rd + 1, d->identity, d->identity_len);
    if (ans_put_rr(r, ANS_QNAME_PTR, WIRE_TXT, WIRE_CH, 0, rd,
                   (uint16_t)(1 + d->identity_len)))
        r->an++;
    return WIRE_NOERROR;
}

/* A COOKIE option in the answer: the client's cookie and a fresh server
 * cookie (RFC 7873 section 5.2), when the data's limits hold the secret. */
static bool ans_cookie(const wire_query_t *q, const srv_data_t *d)
{
    return d->limits && q->cookie_len;
}

/* OPT RR size for this response: fixed part, NSID, ECS (RFC 7871 section 6),
 * COOKIE. */
static size_t ans_opt_size(const wire_query_t *q, const srv_data_t *d, bool nsid)
{
    size_t n = 11;
    if (nsid)
        n += 4 + d->identity_len;
    if (ans_cookie(q, d))
        n += 4 + COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN;
    if (q->ecs)
        n += 8 + ((size_t)q->ecs_source + 7) / 8;
    return n;
}

static void ans_put_opt(ans_resp_t *r, const wire_query_t *q, const srv_data_t *d,
                        bool nsid, unsigned rcode)
{
    uint8_t *p = r->out + r->len;
    size_t rdlen = ans_opt_size(q, d, nsid) - 11;

    p[0] = 0; /* root owner */
    wire_put16(p + 1, WIRE_OPT);
    wire_put16(p + 3, ANS_UDP_MAX);
    p[5] = (uint8_t)(rcode >> 4); /* extended RCODE: upper 8 bits */
    p[6] = 0;                     /* version 0 */
    wire_put16(p + 7, q->edns_do ? WIRE_EDNS_DO : 0);
    wire_put16(p + 9, (uint16_t)rdlen);
    p += 11;
    if (nsid) {
        wire_put16(p, WIRE_OPT_NSID);
        wire_put16(p + 2, (uint16_t)d->identity_len);
        memcpy(p + 4, d->identity, d->identity_len);
        p += 4 + d->identity_len;
    }
    if (q->ecs) {
        size_t bytes = ((size_t)q->ecs_source + 7) / 8;
        wire_put16(p, WIRE_OPT_ECS);
        wire_put16(p + 2, (uint16_t)(4 + bytes));
        wire_put16(p + 4, q->ecs_family);
        p[6] = q->ecs_source;
        p[7] = r->scope;
        memcpy(p + 8, q->ecs_addr, bytes);
        p += 8 + bytes;
    }
    if (ans_cookie(q, d)) {
        wire_put16(p, WIRE_OPT_COOKIE);
        wire_put16(p + 2, COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN);
        memcpy(p + 4, q->cookie, COOKIE_CLIENT_LEN);
        cookie_make(d->limits->cookie_secret, q->cookie, r->src, r->now,
                    p + 4 + COOKIE_CLIENT_LEN);
    }
    r->len += 11 + rdlen;
}

/* UDP payload limit (RFC 6891 section 6.2.5: below 512 counts as 512). */
static size_t ans_limit(const wire_query_t *q, ans_transport_t t, size_t cap)
{
    size_t limit = 512;
    if (t == ANS_TCP)
        return cap < 65535 ? cap : 65535;
    if (q->edns && q->edns_udp > limit)
        limit = q->edns_udp < ANS_UDP_MAX ? q->edns_udp : ANS_UDP_MAX;
    return limit < cap ? limit : cap;
}

/* Header, echoed question; the flags of the request that a response keeps:
 * the opcode, and for QUERY RD and CD (RFC 1035 4.1.1, RFC 6840 5.9). Any
 * other opcode gets NOTIMP (RFC 8906 section 8.1.4) with no flag but QR, as
 * ISC's compliance checks expect: RD and CD are defined for QUERY only. */
static void ans_begin(ans_resp_t *r, const uint8_t *pkt, const wire_query_t *q)
{
    uint16_t keep = q->opcode == 0 ? WIRE_RD | WIRE_CD : 0;

    wire_put16(r->out, q->id);
    wire_put16(r->out + 2, (uint16_t)(WIRE_QR | (q->flags & (0x7800 | keep))));
    memset(r->out + 4, 0, 8);
    r->len = WIRE_HEADER;
    if (q->question_ok) {
        size_t qlen = q->qname_len + 4;
        memcpy(r->out + WIRE_HEADER, pkt + WIRE_HEADER, qlen);
        wire_put16(r->out + 4, 1);
        r->len += qlen;
    }
}

static void ans_finish(ans_resp_t *r, size_t qend, unsigned rcode, bool aa, bool with_opt,
                       const wire_query_t *q, const srv_data_t *d, bool nsid)
{
    uint16_t flags = wire_get16(r->out + 2);

    if (r->tc) { /* keep the question, drop partial sections */
        r->len = qend;
        r->an = r->ns = 0;
        flags |= WIRE_TC;
    }
    flags = (uint16_t)((flags & ~0x000Fu) | (rcode & 0xF) | (aa ? WIRE_AA : 0));
    wire_put16(r->out + 2, flags);
    wire_put16(r->out + 6, r->an);
    wire_put16(r->out + 8, r->ns);
    if (with_opt) {
        ans_put_opt(r, q, d, nsid, rcode);
        wire_put16(r->out + 10, 1);
    }
}

static stat_qtype_t ans_qtype_bucket(uint16_t qtype)
{
    switch (qtype) {
    case WIRE_A:
        return STAT_QT_A;
    case WIRE_NS:
        return STAT_QT_NS;
    case WIRE_CNAME:
        return STAT_QT_CNAME;
    case WIRE_SOA:
        return STAT_QT_SOA;
    case WIRE_TXT:
        return STAT_QT_TXT;
    case WIRE_AAAA:
        return STAT_QT_AAAA;
    case WIRE_ANY:
        return STAT_QT_ANY;
    default:
        return STAT_QT_OTHER;
    }
}

static void ans_count(srv_stats_t *st, unsigned rcode, bool tc, const wire_query_t *q,
                      int origin)
{
    if (q->question_ok)
        st->by_qtype[ans_qtype_bucket(q->qtype)]++;
    st->by_origin[origin >= 0 && origin < STAT_ORIGINS - 1 ? origin : STAT_ORIGINS - 1]++;
    if (rcode == WIRE_BADVERS)
        st->badvers++;
    else
        st->rcode[rcode & 0xF]++;
    st->truncated += tc;
}

/* Cookies and RRL (docs/hardening.md): judges the COOKIE option, then takes
 * a UDP response from the client's RRL bucket unless its server cookie is
 * valid (RFC 7873 section 5.3: a valid cookie shows the address is not
 * spoofed, so the client cannot be a reflection victim). TCP is never limited:
 * its handshake already proves the address. */
static rrl_verdict_t ans_limits(ans_ctx_t *ctx, const srv_limits_t *lim,
                                const wire_query_t *q, const struct sockaddr *src,
                                ans_transport_t transport, uint32_t *now)
{
    cookie_result_t ck = COOKIE_NONE;
    rrl_verdict_t v = RRL_PASS;

    *now = 0;
    if (!lim)
        return RRL_PASS;
    if (q->edns && q->cookie_len) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        *now = (uint32_t)ts.tv_sec;
        ck = cookie_check(lim->cookie_secret, q->cookie, q->cookie_len, src, *now);
    }
    ctx->stats->cookies[ck]++;
    if (transport == ANS_UDP && lim->rrl && ck != COOKIE_VALID)
        v = rrl_check(lim->rrl, src, rrl_now_ms());
    ctx->stats->rrl_dropped += v == RRL_DROP;
    ctx->stats->rrl_slipped += v == RRL_SLIP;
    return v;
}

size_t ans_respond(ans_ctx_t *ctx, const srv_data_t *d, const uint8_t *pkt, size_t len,
                   const struct sockaddr *src, ans_transport_t transport, uint8_t *out,
                   size_t cap)
{
    wire_query_t q;
    ans_resp_t r = {.out = out, .origin = -1};
    unsigned rcode = WIRE_NOERROR;
    bool aa = false;

    switch (wire_parse(pkt, len, &q)) {
    case WIRE_PARSE_DROP:
        ctx->stats->dropped[len < WIRE_HEADER ? STAT_DROP_SHORT : STAT_DROP_RESPONSE]++;
        return 0;
    case WIRE_PARSE_FORMERR:
        ctx->stats->dropped[STAT_MALFORMED]++;
        q.edns = false; /* no OPT in answer to a broken one (RFC 6891 7) */
        rcode = WIRE_FORMERR;
        break;
    case WIRE_PARSE_NOTIMP:
        rcode = WIRE_NOTIMP;
        break;
    case WIRE_PARSE_OK:
        break;
    }
    ctx->stats->queries[transport == ANS_TCP ? STAT_TCP : STAT_UDP]++;
    ctx->stats->ecs += q.ecs;
    r.src = src;
    bool slip = false;
    switch (ans_limits(ctx, d->limits, &q, src, transport, &r.now)) {
    case RRL_DROP:
        return 0;
    case RRL_SLIP:
        slip = true;
        break;
    case RRL_PASS:
        break;
    }

    size_t limit = ans_limit(&q, transport, cap);
    bool nsid = q.edns && q.nsid;
    if (q.edns && WIRE_HEADER + q.qname_len + 4 + ans_opt_size(&q, d, nsid) > limit)
        nsid = false; /* an identity too long for a 512-byte answer: drop NSID */
    r.limit = limit - (q.edns ? ans_opt_size(&q, d, nsid) : 0);
    ans_begin(&r, pkt, &q);
    size_t qend = r.len;

    if (slip) {
        r.tc = true; /* no records: the client retries over TCP */
    } else if (rcode == WIRE_NOERROR) {
        if (q.edns && q.edns_version > 0)
            rcode = WIRE_BADVERS; /* RFC 6891 section 6.1.3 */
        else if (q.qtype == WIRE_AXFR || q.qtype == WIRE_IXFR)
            rcode = WIRE_NOTIMP; /* no zone transfers from a synthesised zone */
        else if (q.qclass == WIRE_IN || q.qclass == WIRE_CLASS_ANY)
            rcode = ans_in(ctx, &r, d, &q, src, &aa);
        else if (q.qclass == WIRE_CH)
            rcode = ans_chaos(&r, d, &q, &aa);
        else
            rcode = WIRE_REFUSED;
    }
    ans_finish(&r, qend, rcode, aa, q.edns, &q, d, nsid);
    ans_count(ctx->stats, rcode, r.tc, &q, r.origin);
    return r.len;
}
