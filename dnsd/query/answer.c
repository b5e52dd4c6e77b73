/*
 * answer.c - the query path: parse, limit, find the origin and the name,
 * write static records or a negative answer, finish with the OPT record. The
 * answers chosen by place and weight (pool names, NTS names, _country) are in
 * pool_answer.c, the DNSSEC parts in dnssec_answer.c.
 *
 * The response is written straight into the caller's buffer. Space for the OPT
 * record is reserved first, so an answer that does not fit is cut back to the
 * question and sent with TC (RFC 2181 section 9, RFC 6891 section 7: the OPT
 * stays). Owner names are compression pointers into the echoed question, which
 * is copied byte for byte, so 0x20 case randomisation survives.
 */
#include <string.h>
#include <time.h>

#include "dnsd/query/answer.h"
#include "answer_int.h"
#include "dnsd/query/cookie.h"
#include "dnsd/query/rrl.h"
#include "dnsd/query/wire.h"

/* Copies a prepared RRset (zones.h: records without owners) after `owner`. */
bool answer_put_rrset(answer_resp_t *r, uint16_t owner, const zone_rrset_t *set,
                      uint16_t *count)
{
    const uint8_t *p = set->wire, *end = set->wire + set->len;

    while (p < end) {
        size_t rrlen = 10 + (size_t)wire_get16(p + 8);
        if (!answer_room(r, 2 + rrlen))
            return false;
        wire_put16(r->out + r->len, owner);
        memcpy(r->out + r->len + 2, p, rrlen);
        r->len += 2 + rrlen;
        (*count)++;
        p += rrlen;
    }
    return true;
}

static const zone_rrset_t *answer_rrset(const zone_node_t *node, uint16_t type)
{
    for (uint16_t i = 0; i < node->n_rrsets; i++)
        if (node->rrsets[i].type == type)
            return &node->rrsets[i];
    return NULL;
}

/* The longest origin that is a suffix of the query name at a label boundary. */
static const srv_origin_t *answer_origin(const srv_data_t *d, const wire_query_t *q)
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

/* The answer section for an existing name. Returns false for NODATA. */
static bool answer_node(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                        const zone_node_t *node, const wire_query_t *q,
                        const struct sockaddr *src, const srv_data_t *d)
{
    uint16_t qtype = q->qtype;
    const zone_rrset_t *set;
    answer_geo_t geo;
    bool pool = node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_FIXED;
    bool nts =
        node->pool_kind == ZONE_POOL_NTS_GEO || node->pool_kind == ZONE_POOL_NTS_FIXED;

    if (node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_COUNTRY_TXT ||
        node->pool_kind == ZONE_POOL_NTS_GEO)
        answer_locate(d, q, src, &geo);
    if (node->pool_kind == ZONE_POOL_COUNTRY_TXT &&
        (qtype == WIRE_TXT || qtype == WIRE_ANY)) {
        answer_country_txt(ctx, r, o, node, &geo, q);
        return true;
    }
    /* RFC 8482 section 4.2: answer ANY with one RRset - the pool's A records
     * at pool names, SRV at NTS names, else the first RRset of the name. */
    if (qtype == WIRE_ANY) {
        if (pool && answer_pool(ctx, r, o, node, &geo, WIRE_A))
            return true;
        if (nts && answer_srv(ctx, r, o, node, &geo))
            return true;
        if (node->n_rrsets == 0)
            return false;
        answer_put_rrset(r, ANSWER_QNAME_PTR, &node->rrsets[0], &r->an);
        if (r->dnssec)
            answer_dnssec_sigs(r, o, node, &node->rrsets[0]);
        return true;
    }
    if (pool && (qtype == WIRE_A || qtype == WIRE_AAAA))
        return answer_pool(ctx, r, o, node, &geo, qtype);
    if (nts && qtype == WIRE_SRV)
        return answer_srv(ctx, r, o, node, &geo);
    if (o->dz && answer_dnssec_node(r, o, node, qtype))
        return true;
    set = answer_rrset(node, qtype);
    if (!set)
        set = answer_rrset(node, WIRE_CNAME); /* RFC 1034 section 3.6.2 */
    if (!set)
        return false;
    answer_put_rrset(r, ANSWER_QNAME_PTR, set, &r->an);
    if (r->dnssec)
        answer_dnssec_sigs(r, o, node, set);
    return true;
}

/* Class IN: the origin, the name, then records or a negative answer. */
static uint8_t answer_in(answer_ctx_t *ctx, answer_resp_t *r, const srv_data_t *d,
                         const wire_query_t *q, const struct sockaddr *src, bool *aa)
{
    const srv_origin_t *o = answer_origin(d, q);
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
    if (node && answer_node(ctx, r, o, node, q, src, d))
        return rcode;
    /* Negative answer (RFC 2308 section 3): the SOA in authority, its owner a
     * pointer to where the origin starts inside the question name. */
    uint16_t owner = (uint16_t)(0xC000 | (WIRE_HEADER + q->qname_len - o->lname_len));
    if (r->dnssec)
        return answer_dnssec_negative(r, o, node, q, owner);
    answer_put_rrset(r, owner, zone_static_soa_negative(o->stat), &r->ns);
    return rcode;
}

/* CH TXT id.server / hostname.bind (RFC 4892): the node's identity. */
static uint8_t answer_chaos(answer_resp_t *r, const srv_data_t *d, const wire_query_t *q,
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
    if (answer_put_rr(r, ANSWER_QNAME_PTR, WIRE_TXT, WIRE_CH, 0, rd,
                      (uint16_t)(1 + d->identity_len)))
        r->an++;
    return WIRE_NOERROR;
}

/* A COOKIE option in the answer: the client's cookie and a fresh server
 * cookie (RFC 7873 section 5.2), when the data's limits hold the secret. */
static bool answer_cookie(const wire_query_t *q, const srv_data_t *d)
{
    return d->limits && q->cookie_len;
}

/* OPT RR size for this response: fixed part, NSID, ECS (RFC 7871 section 6),
 * COOKIE. */
static size_t answer_opt_size(const wire_query_t *q, const srv_data_t *d, bool nsid)
{
    size_t n = 11;
    if (nsid)
        n += 4 + d->identity_len;
    if (answer_cookie(q, d))
        n += 4 + COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN;
    if (q->ecs)
        n += 8 + ((size_t)q->ecs_source + 7) / 8;
    return n;
}

static void answer_put_opt(answer_resp_t *r, const wire_query_t *q, const srv_data_t *d,
                           bool nsid, unsigned rcode)
{
    uint8_t *p = r->out + r->len;
    size_t rdlen = answer_opt_size(q, d, nsid) - 11;

    p[0] = 0; /* root owner */
    wire_put16(p + 1, WIRE_OPT);
    wire_put16(p + 3, ANSWER_UDP_MAX);
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
    if (answer_cookie(q, d)) {
        wire_put16(p, WIRE_OPT_COOKIE);
        wire_put16(p + 2, COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN);
        memcpy(p + 4, q->cookie, COOKIE_CLIENT_LEN);
        cookie_make(d->limits->cookie_secret, q->cookie, r->src, r->now,
                    p + 4 + COOKIE_CLIENT_LEN);
    }
    r->len += 11 + rdlen;
}

/* UDP payload limit (RFC 6891 section 6.2.5: below 512 counts as 512). */
static size_t answer_limit(const wire_query_t *q, answer_transport_t t, size_t cap)
{
    size_t limit = 512;
    if (t == ANSWER_TCP)
        return cap < 65535 ? cap : 65535;
    if (q->edns && q->edns_udp > limit)
        limit = q->edns_udp < ANSWER_UDP_MAX ? q->edns_udp : ANSWER_UDP_MAX;
    return limit < cap ? limit : cap;
}

/* Header, echoed question; the flags of the request that a response keeps:
 * the opcode, and for QUERY RD and CD (RFC 1035 4.1.1, RFC 6840 5.9). Any
 * other opcode gets NOTIMP (RFC 8906 section 8.1.4) with no flag but QR, as
 * ISC's compliance checks expect: RD and CD are defined for QUERY only. */
static void answer_begin(answer_resp_t *r, const uint8_t *pkt, const wire_query_t *q)
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

static void answer_finish(answer_resp_t *r, size_t qend, unsigned rcode, bool aa,
                          bool with_opt, const wire_query_t *q, const srv_data_t *d,
                          bool nsid)
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
        answer_put_opt(r, q, d, nsid, rcode);
        wire_put16(r->out + 10, 1);
    }
}

static stat_qtype_t answer_qtype_bucket(uint16_t qtype)
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

static void answer_count(stat_counters_t *st, unsigned rcode, bool tc,
                         const wire_query_t *q, int origin)
{
    if (q->question_ok)
        st->by_qtype[answer_qtype_bucket(q->qtype)]++;
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
static rrl_verdict_t answer_limits(answer_ctx_t *ctx, const srv_limits_t *lim,
                                   const wire_query_t *q, const struct sockaddr *src,
                                   answer_transport_t transport, uint32_t *now)
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
    if (transport == ANSWER_UDP && lim->rrl && ck != COOKIE_VALID)
        v = rrl_check(lim->rrl, src, rrl_now_ms());
    ctx->stats->rrl_dropped += v == RRL_DROP;
    ctx->stats->rrl_slipped += v == RRL_SLIP;
    return v;
}

size_t answer_respond(answer_ctx_t *ctx, const srv_data_t *d, const uint8_t *pkt,
                      size_t len, const struct sockaddr *src,
                      answer_transport_t transport, uint8_t *out, size_t cap)
{
    wire_query_t q;
    answer_resp_t r = {.out = out, .origin = -1};
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
    ctx->stats->queries[transport == ANSWER_TCP ? STAT_TCP : STAT_UDP]++;
    ctx->stats->ecs += q.ecs;
    r.src = src;
    bool slip = false;
    switch (answer_limits(ctx, d->limits, &q, src, transport, &r.now)) {
    case RRL_DROP:
        return 0;
    case RRL_SLIP:
        slip = true;
        break;
    case RRL_PASS:
        break;
    }

    size_t limit = answer_limit(&q, transport, cap);
    bool nsid = q.edns && q.nsid;
    if (q.edns && WIRE_HEADER + q.qname_len + 4 + answer_opt_size(&q, d, nsid) > limit)
        nsid = false; /* an identity too long for a 512-byte answer: drop NSID */
    r.limit = limit - (q.edns ? answer_opt_size(&q, d, nsid) : 0);
    answer_begin(&r, pkt, &q);
    size_t qend = r.len;

    if (slip) {
        r.tc = true; /* no records: the client retries over TCP */
    } else if (rcode == WIRE_NOERROR) {
        if (q.edns && q.edns_version > 0)
            rcode = WIRE_BADVERS; /* RFC 6891 section 6.1.3 */
        else if (q.qtype == WIRE_AXFR || q.qtype == WIRE_IXFR)
            rcode = WIRE_NOTIMP; /* no zone transfers from a synthesised zone */
        else if (q.qclass == WIRE_IN || q.qclass == WIRE_CLASS_ANY)
            rcode = answer_in(ctx, &r, d, &q, src, &aa);
        else if (q.qclass == WIRE_CH)
            rcode = answer_chaos(&r, d, &q, &aa);
        else
            rcode = WIRE_REFUSED;
    }
    answer_finish(&r, qend, rcode, aa, q.edns, &q, d, nsid);
    answer_count(ctx->stats, rcode, r.tc, &q, r.origin);
    return r.len;
}
