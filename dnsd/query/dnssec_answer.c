/*
 * dnssec_answer.c - the DNSSEC half of the query path (docs/dnssec.md).
 *
 * Only for queries with the DO bit (RFC 3225 section 3) to an origin with
 * keys. Everything copied here was signed off the query path (dnssec/),
 * except the NSEC of a name that does not exist and the _country TXT, which
 * name what the client sent and are signed per query (dnssec/online.c).
 */
#include <string.h>
#include <time.h>

#include "answer_int.h"
#include "dnssec/dnssec_pool.h"

static uint32_t answer_wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

bool answer_dnssec_pool(answer_ctx_t *ctx, answer_resp_t *r, const srv_origin_t *o,
                        const zone_node_t *node, const answer_geo_t *geo, int family)
{
    bool geo_name =
        node->pool_kind == ZONE_POOL_GEO || node->pool_kind == ZONE_POOL_NTS_GEO;
    size_t idx = zone_static_node_index(o->stat, node);
    const dsec_set_t *set =
        o->dp ? dsec_pool_answer(o->dp, idx, family, geo_name ? geo->country : -1,
                                 geo_name ? geo->continent : -1, &ctx->rng)
              : NULL;
    /* The same counters as an unsigned pick (pool_answer.c answer_pick, answer_pool):
     * signed answers are demand too, and spill as the sets were drawn. */
    if (set && o->balance.mode != CFG_BALANCE_OFF && set->home >= 0 &&
        set->home < ZONE_ID_MAX) {
        bool fixed =
            node->pool_kind == ZONE_POOL_FIXED || node->pool_kind == ZONE_POOL_NTS_FIXED;
        if (r->origin >= 0 && r->origin < STAT_BAL_ORIGINS)
            ctx->stats->demand[r->origin][set->home][zone_bal_family(family)][fixed]++;
        ctx->stats->pool_spilled[set->home] += set->spilled;
    }
    if (family == ZONE_NTS) { /* as pool_answer.c answer_srv counts */
        ctx->stats->nts_empty += !set;
        ctx->stats->nts_answers += !!set;
        if (set)
            answer_put_rrset(r, ANSWER_QNAME_PTR, &set->rrs, &r->an);
        return set != NULL;
    }
    if (!set) {
        ctx->stats->pool_empty++;
        return false;
    }
    ctx->stats->pool_answers++;
    ctx->stats->pool_backfill += set->backfill;
    if (set->zone >= 0 && set->zone < ZONE_ID_MAX)
        ctx->stats->pool_by_zone[set->zone][set->backfill ? 1 : 0]++;
    answer_put_rrset(r, ANSWER_QNAME_PTR, &set->rrs, &r->an);
    return true;
}

void answer_dnssec_sigs(answer_resp_t *r, const srv_origin_t *o, const zone_node_t *node,
                        const zone_rrset_t *set)
{
    const dsec_zsigs_t *s = dsec_zone_sigs(o->dz);
    size_t idx = zone_static_node_index(o->stat, node);
    const zone_rrset_t *sig = dsec_sigs_rrset(s, node, (size_t)(set - node->rrsets), idx);
    if (sig)
        answer_put_rrset(r, ANSWER_QNAME_PTR, sig, &r->an);
}

/* The NODATA NSEC of an existing name and its RRSIGs, into authority. */
static void answer_dnssec_nodata_nsec(answer_resp_t *r, const srv_origin_t *o,
                                      const zone_node_t *node, uint16_t *count)
{
    size_t idx = zone_static_node_index(o->stat, node);
    const zone_rrset_t *set = dsec_pool_nsec(o->dp, idx), *sig = NULL;
    if (set) {
        answer_put_rrset(r, ANSWER_QNAME_PTR, set, count);
        return;
    }
    set = dsec_sigs_nsec(dsec_zone_sigs(o->dz), idx, &sig);
    if (answer_put_rrset(r, ANSWER_QNAME_PTR, set, count))
        answer_put_rrset(r, ANSWER_QNAME_PTR, sig, count);
}

bool answer_dnssec_node(answer_resp_t *r, const srv_origin_t *o, const zone_node_t *node,
                        uint16_t qtype)
{
    const dsec_zsigs_t *s = dsec_zone_sigs(o->dz);
    const zone_rrset_t *set, *sig = NULL;

    if (qtype == DSEC_TYPE_NSEC) {
        answer_dnssec_nodata_nsec(r, o, node, &r->an);
        return true;
    }
    if (qtype == DSEC_TYPE_RRSIG) { /* the RRSIGs of the name's static RRsets */
        size_t idx = zone_static_node_index(o->stat, node);
        for (size_t i = 0; i < node->n_rrsets; i++)
            if ((set = dsec_sigs_rrset(s, node, i, idx)))
                answer_put_rrset(r, ANSWER_QNAME_PTR, set, &r->an);
        return r->an > 0;
    }
    if (node != zone_static_apex(o->stat) ||
        (qtype != DSEC_TYPE_DNSKEY && qtype != DSEC_TYPE_CDS &&
         qtype != DSEC_TYPE_CDNSKEY) ||
        !(set = dsec_sigs_apex(s, qtype, &sig)))
        return false;
    if (answer_put_rrset(r, ANSWER_QNAME_PTR, set, &r->an) && r->dnssec)
        answer_put_rrset(r, ANSWER_QNAME_PTR, sig, &r->an);
    return true;
}

uint8_t answer_dnssec_negative(answer_resp_t *r, const srv_origin_t *o,
                               const zone_node_t *node, const wire_query_t *q,
                               uint16_t soa_owner)
{
    const dsec_zsigs_t *s = dsec_zone_sigs(o->dz);
    uint8_t buf[1024];
    uint16_t count = 0;

    if (!answer_put_rrset(r, soa_owner, zone_static_soa_negative(o->stat), &r->ns) ||
        !answer_put_rrset(r, soa_owner, dsec_sigs_soa_negative(s), &r->ns))
        return WIRE_NOERROR;
    if (node) {
        answer_dnssec_nodata_nsec(r, o, node, &r->ns);
        return WIRE_NOERROR;
    }
    /* RFC 9824 section 3.1: the name's own NSEC with NXNAME; NOERROR. */
    size_t len = dsec_sign_nxname(o->dz, q->lname, q->qname_len, answer_wallclock(), buf,
                                  sizeof buf, &count);
    zone_rrset_t set = {DSEC_TYPE_NSEC, count, (uint32_t)len, buf};
    if (len)
        answer_put_rrset(r, ANSWER_QNAME_PTR, &set, &r->ns);
    return WIRE_NOERROR;
}

void answer_dnssec_online(answer_resp_t *r, const srv_origin_t *o, const wire_query_t *q,
                          uint16_t type, uint32_t ttl, const uint8_t *rdata,
                          uint16_t rdlen)
{
    uint8_t rec[10 + 1024], buf[DSEC_KEYS_MAX * DSEC_RRSIG_MAX];
    uint16_t count = 0;

    if (rdlen > 1024)
        return;
    rec[0] = (uint8_t)(type >> 8), rec[1] = (uint8_t)type, rec[2] = 0, rec[3] = 1;
    rec[4] = (uint8_t)(ttl >> 24), rec[5] = (uint8_t)(ttl >> 16);
    rec[6] = (uint8_t)(ttl >> 8), rec[7] = (uint8_t)ttl;
    rec[8] = (uint8_t)(rdlen >> 8), rec[9] = (uint8_t)rdlen;
    memcpy(rec + 10, rdata, rdlen);
    dsec_rrset_in_t in = {q->lname, q->qname_len, type, ttl, rec, 10 + (size_t)rdlen, 1};
    size_t len =
        dsec_sign_online(o->dz, &in, answer_wallclock(), buf, sizeof buf, &count);
    zone_rrset_t set = {DSEC_TYPE_RRSIG, count, (uint32_t)len, buf};
    if (len)
        answer_put_rrset(r, ANSWER_QNAME_PTR, &set, &r->an);
}
