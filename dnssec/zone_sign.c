/*
 * zone_sign.c - the signed static zone: RRSIGs over every RRset of the
 * master file, the apex DNSKEY, CDS and CDNSKEY RRsets (RFC 7344) that dnsd
 * makes from the keys, the NODATA NSEC of every name in the compact-denial
 * form (RFC 9824 section 3: next name "\000.owner"), and the RRSIG over the
 * SOA of negative answers. One version of all of it is a dsec_zsigs_t, built
 * off the query path and replaced whole (dsec_zone_refresh) before it expires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dnssec_int.h"

/* TTL of the DNSKEY, CDS and CDNSKEY RRsets: an hour, so a rolled key is
 * seen soon (the rollover procedure waits at least this long per step). */
#define DSEC_DNSKEY_TTL 3600

struct dsec_zsigs {
    dsec_arena_t arena;
    uint32_t expiry; /* earliest expiration of any signature here */
    size_t n_names;
    uint32_t *first;    /* per name: index of its RRset 0 in sigs[] */
    zone_rrset_t *sigs; /* per static RRset: its RRSIGs (count 0: none) */
    zone_rrset_t *nsec; /* per name: the NODATA NSEC without pool types */
    zone_rrset_t *nsec_sig;
    zone_rrset_t apex[3], apex_sig[3]; /* DNSKEY, CDS, CDNSKEY */
    zone_rrset_t soa_neg_sig;
};

static uint32_t dsec_rrset_ttl(const zone_rrset_t *set)
{
    const uint8_t *p = set->wire + 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The RRset's records with canonical RDATA (RFC 4034 6.2: names in the
 * RDATA of NS, SOA, MX, ... lower-cased), through ldns, off the query path. */
static uint8_t *dsec_canonical(const zone_rrset_t *set, const uint8_t *owner, size_t olen,
                               size_t *outlen)
{
    ldns_buffer *b = ldns_buffer_new(set->len + 64);
    uint8_t *pkt = malloc(256 + 65536);
    const uint8_t *p = set->wire, *end = set->wire + set->len;
    uint8_t *out = NULL;

    while (b && pkt && p < end) {
        size_t rrlen = 10 + ((size_t)p[8] << 8 | p[9]), pos = 0;
        ldns_rr *rr = NULL;
        memcpy(pkt, owner, olen);
        memcpy(pkt + olen, p, rrlen);
        if (ldns_wire2rr(&rr, pkt, olen + rrlen, &pos, LDNS_SECTION_ANSWER) !=
            LDNS_STATUS_OK)
            goto fail;
        ldns_rr2canonical(rr);
        size_t at = ldns_buffer_position(b);
        ldns_buffer_write(b, p, 8);
        ldns_buffer_write_u16(b, 0);
        ldns_status st = ldns_rr_rdata2buffer_wire(b, rr);
        ldns_rr_free(rr);
        if (st != LDNS_STATUS_OK || !ldns_buffer_status_ok(b))
            goto fail;
        ldns_buffer_write_u16_at(b, at + 8,
                                 (uint16_t)(ldns_buffer_position(b) - at - 10));
        p += rrlen;
    }
    if (b && pkt && (out = malloc(ldns_buffer_position(b) + 1))) {
        *outlen = ldns_buffer_position(b);
        memcpy(out, ldns_buffer_begin(b), *outlen);
    }
fail:
    ldns_buffer_free(b);
    free(pkt);
    return out;
}

/* RRSIGs by every key of the role over one RRset, into the arena. */
int dsec_sign_set(const dsec_zone_t *z, dsec_arena_t *a, const dsec_rrset_in_t *in,
                  bool dnskey_role, uint32_t now, zone_rrset_t *out, uint32_t *expiry)
{
    uint8_t buf[DSEC_KEYS_MAX * DSEC_RRSIG_MAX];
    size_t olen;
    const uint8_t *origin = zone_static_origin(z->stat, &olen);
    uint32_t inc = now - z->params.inception_offset, exp = inc + z->params.validity;
    size_t len = 0;
    uint8_t *w;

    *out = (zone_rrset_t){.type = DSEC_TYPE_RRSIG};
    for (size_t i = 0; i < z->keys->n; i++) {
        const dsec_key_t *k = &z->keys->k[i];
        if (!(dnskey_role ? k->sign_dnskey : k->sign_zone))
            continue;
        int n = dsec_sign_rrset(k, in, origin, olen, inc, exp, buf + len);
        if (n < 0)
            return -1;
        if (z->params.corrupt)
            buf[len + (size_t)n - 1] ^= 0x5a;
        len += (size_t)n;
        out->count++;
    }
    if (!(w = dsec_arena_alloc(a, len)))
        return -1;
    memcpy(w, buf, len);
    out->wire = w;
    out->len = (uint32_t)len;
    if (exp < *expiry)
        *expiry = exp;
    return 0;
}

static int dsec_sign_static(const dsec_zone_t *z, dsec_zsigs_t *s,
                            const zone_rrset_t *set, const uint8_t *owner, size_t olen,
                            uint32_t now, zone_rrset_t *out)
{
    size_t clen = 0;
    uint8_t *canon = dsec_canonical(set, owner, olen, &clen);
    if (!canon)
        return -1;
    dsec_rrset_in_t in = {owner, olen, set->type, dsec_rrset_ttl(set),
                          canon, clen, set->count};
    int rc = dsec_sign_set(z, &s->arena, &in, false, now, out, &s->expiry);
    free(canon);
    return rc;
}

/* The types of a name as the static data has them (pool A/AAAA are added
 * by the pool part, which knows whether the pool has servers). */
size_t dsec_node_types(const zone_static_t *stat, const zone_node_t *node, uint16_t *t,
                       size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < node->n_rrsets && n + 6 < cap; i++)
        t[n++] = node->rrsets[i].type;
    if (node == zone_static_apex(stat)) {
        t[n++] = DSEC_TYPE_DNSKEY;
        t[n++] = DSEC_TYPE_CDS;
        t[n++] = DSEC_TYPE_CDNSKEY;
    }
    if (node->pool_kind == ZONE_POOL_COUNTRY_TXT)
        t[n++] = 16; /* TXT */
    t[n++] = DSEC_TYPE_RRSIG;
    t[n++] = DSEC_TYPE_NSEC;
    return n;
}

/* The compact-denial NSEC record of `owner` with `types`, unsigned: written
 * as TYPE CLASS TTL RDLENGTH RDATA into out; returns its length. */
size_t dsec_nsec_record(const uint8_t *owner, size_t olen, const uint16_t *types,
                        size_t nt, uint32_t ttl, uint8_t *out, size_t cap)
{
    uint8_t bm[256];
    size_t bl = dsec_type_bitmap(types, nt, bm, sizeof bm);
    size_t rdlen = 2 + olen + bl;

    if (olen + 2 > 255 + 1 || 10 + rdlen > cap)
        return 0;
    out[0] = 0, out[1] = DSEC_TYPE_NSEC, out[2] = 0, out[3] = 1;
    out[4] = (uint8_t)(ttl >> 24), out[5] = (uint8_t)(ttl >> 16);
    out[6] = (uint8_t)(ttl >> 8), out[7] = (uint8_t)ttl;
    out[8] = (uint8_t)(rdlen >> 8), out[9] = (uint8_t)rdlen;
    out[10] = 1, out[11] = 0; /* "\000" label: the next name right after owner */
    memcpy(out + 12, owner, olen);
    memcpy(out + 12 + olen, bm, bl);
    return 10 + rdlen;
}

/* A signed NSEC for an existing name, into the arena. */
int dsec_nsec_signed(const dsec_zone_t *z, dsec_arena_t *a, const uint8_t *owner,
                     size_t olen, const uint16_t *types, size_t nt, uint32_t now,
                     zone_rrset_t *nsec, zone_rrset_t *sig, uint32_t *expiry)
{
    uint8_t rec[12 + 256 + 256];
    size_t len = dsec_nsec_record(owner, olen, types, nt, z->neg_ttl, rec, sizeof rec);
    uint8_t *w = len ? dsec_arena_alloc(a, len) : NULL;
    if (!w)
        return -1;
    memcpy(w, rec, len);
    *nsec = (zone_rrset_t){DSEC_TYPE_NSEC, 1, (uint32_t)len, w};
    dsec_rrset_in_t in = {owner, olen, DSEC_TYPE_NSEC, z->neg_ttl, w, len, 1};
    return dsec_sign_set(z, a, &in, false, now, sig, expiry);
}

/* One apex RRset made of the keys: DNSKEY (all), CDS and CDNSKEY (SEP keys). */
static int dsec_apex_set(const dsec_zone_t *z, dsec_zsigs_t *s, int which, uint32_t now)
{
    static const uint16_t types[3] = {DSEC_TYPE_DNSKEY, DSEC_TYPE_CDS, DSEC_TYPE_CDNSKEY};
    uint8_t buf[DSEC_KEYS_MAX * (10 + 68)], *w;
    size_t olen, len = 0;
    const uint8_t *origin = zone_static_origin(z->stat, &olen);
    zone_rrset_t *set = &s->apex[which];

    *set = (zone_rrset_t){.type = types[which]};
    for (size_t i = 0; i < z->keys->n; i++) {
        const dsec_key_t *k = &z->keys->k[i];
        uint8_t *p = buf + len, ds[36];
        const uint8_t *rd = which == 1 ? ds : k->rdata;
        size_t rdlen = which == 1 ? sizeof ds : k->rdlen;
        if (which > 0 && !(k->flags & 1))
            continue;
        if (which == 1)
            dsec_ds_rdata(k, origin, olen, ds);
        p[0] = (uint8_t)(types[which] >> 8), p[1] = (uint8_t)types[which];
        p[2] = 0, p[3] = 1, p[4] = 0, p[5] = 0;
        p[6] = DSEC_DNSKEY_TTL >> 8, p[7] = DSEC_DNSKEY_TTL & 0xFF;
        p[8] = (uint8_t)(rdlen >> 8), p[9] = (uint8_t)rdlen;
        memcpy(p + 10, rd, rdlen);
        len += 10 + rdlen;
        set->count++;
    }
    if (!set->count)
        return 0;
    if (!(w = dsec_arena_alloc(&s->arena, len)))
        return -1;
    memcpy(w, buf, len);
    set->wire = w;
    set->len = (uint32_t)len;
    dsec_rrset_in_t in = {origin, olen, types[which], DSEC_DNSKEY_TTL,
                          w,      len,  set->count};
    return dsec_sign_set(z, &s->arena, &in, true, now, &s->apex_sig[which], &s->expiry);
}

static int dsec_sign_name(const dsec_zone_t *z, dsec_zsigs_t *s, size_t i, size_t *next,
                          uint32_t now)
{
    const uint8_t *owner;
    size_t olen;
    const zone_node_t *node = zone_static_name_at(z->stat, i, &owner, &olen);
    uint16_t types[128];

    s->first[i] = (uint32_t)*next;
    for (size_t r = 0; r < node->n_rrsets; r++, (*next)++)
        if (dsec_sign_static(z, s, &node->rrsets[r], owner, olen, now, &s->sigs[*next]) !=
            0)
            return -1;
    size_t nt = dsec_node_types(z->stat, node, types, 128);
    return dsec_nsec_signed(z, &s->arena, owner, olen, types, nt, now, &s->nsec[i],
                            &s->nsec_sig[i], &s->expiry);
}

/* The negative SOA's RRSIG: the SOA's signature with the record TTL of the
 * negative SOA (the original TTL inside stays the SOA's, RFC 4035 5.3.3). */
static int dsec_soa_negative(const dsec_zone_t *z, dsec_zsigs_t *s)
{
    const zone_node_t *apex = zone_static_apex(z->stat);
    size_t idx = zone_static_node_index(z->stat, apex);
    for (size_t r = 0; r < apex->n_rrsets; r++) {
        const zone_rrset_t *sig = &s->sigs[s->first[idx] + r];
        if (apex->rrsets[r].type != 6 || !sig->count)
            continue;
        uint8_t *w = dsec_arena_alloc(&s->arena, sig->len);
        if (!w)
            return -1;
        memcpy(w, sig->wire, sig->len);
        for (uint8_t *p = w; p < w + sig->len; p += 10 + ((size_t)p[8] << 8 | p[9]))
            memcpy(p + 4, zone_static_soa_negative(z->stat)->wire + 4, 4);
        s->soa_neg_sig = (zone_rrset_t){DSEC_TYPE_RRSIG, sig->count, sig->len, w};
        return 0;
    }
    return -1;
}

static dsec_zsigs_t *dsec_zsigs_new(const dsec_zone_t *z, uint32_t now)
{
    dsec_zsigs_t *s = calloc(1, sizeof *s);
    size_t n = zone_static_name_count(z->stat), total = 0, next = 0;

    if (!s)
        return NULL;
    s->expiry = UINT32_MAX;
    s->n_names = n;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *o;
        size_t l;
        total += zone_static_name_at(z->stat, i, &o, &l)->n_rrsets;
    }
    s->first = calloc(n + 1, sizeof *s->first);
    s->sigs = calloc(total + 1, sizeof *s->sigs);
    s->nsec = calloc(n + 1, sizeof *s->nsec);
    s->nsec_sig = calloc(n + 1, sizeof *s->nsec_sig);
    if (!s->first || !s->sigs || !s->nsec || !s->nsec_sig)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (dsec_sign_name(z, s, i, &next, now) != 0)
            goto fail;
    for (int w = 0; w < 3; w++)
        if (dsec_apex_set(z, s, w, now) != 0)
            goto fail;
    if (dsec_soa_negative(z, s) != 0)
        goto fail;
    return s;
fail:
    dsec_zsigs_free(s);
    return NULL;
}

void dsec_zsigs_free(dsec_zsigs_t *s)
{
    if (!s)
        return;
    dsec_arena_free(&s->arena);
    free(s->first);
    free(s->sigs);
    free(s->nsec);
    free(s->nsec_sig);
    free(s);
}

/* RFC 4035 2.2 and RFC 4034: dnsd makes these; a master file must not. */
static int dsec_check_static(const zone_static_t *stat, char *err, size_t errlen)
{
    const uint8_t *o;
    size_t l;
    const zone_node_t *node;
    for (size_t i = 0; (node = zone_static_name_at(stat, i, &o, &l)); i++)
        for (size_t r = 0; r < node->n_rrsets; r++) {
            uint16_t t = node->rrsets[r].type;
            if (t == DSEC_TYPE_DNSKEY || t == DSEC_TYPE_RRSIG || t == DSEC_TYPE_NSEC ||
                t == 50 /* NSEC3 */ || t == 51 || t == DSEC_TYPE_CDS ||
                t == DSEC_TYPE_CDNSKEY) {
                snprintf(
                    err, errlen,
                    "the master file holds a DNSSEC record (type %u); with dnssec keys "
                    "dnsd makes DNSKEY, CDS, CDNSKEY, RRSIG and NSEC itself",
                    t);
                return -1;
            }
        }
    return 0;
}

dsec_zone_t *dsec_zone_new(const zone_static_t *stat, dsec_keys_t *keys,
                           const dsec_params_t *params, uint32_t now, char *err,
                           size_t errlen)
{
    dsec_zone_t *z = calloc(1, sizeof *z);
    dsec_zsigs_t *s;

    if (!z) {
        dsec_keys_free(keys);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    z->stat = stat;
    z->keys = keys;
    z->params = *params;
    z->neg_ttl = dsec_rrset_ttl(zone_static_soa_negative(stat));
    if (dsec_check_static(stat, err, errlen) != 0)
        goto fail;
    if (!(s = dsec_zsigs_new(z, now))) {
        snprintf(err, errlen, "signing the zone failed (libcrypto or out of memory)");
        goto fail;
    }
    atomic_store(&z->sigs, s);
    return z;
fail:
    dsec_zone_free(z);
    return NULL;
}

void dsec_zone_free(dsec_zone_t *z)
{
    if (!z)
        return;
    dsec_zsigs_free(atomic_load(&z->sigs));
    dsec_keys_free(z->keys);
    free(z);
}

uint32_t dsec_zone_expiry(const dsec_zone_t *z)
{
    return atomic_load_explicit(&z->sigs, memory_order_acquire)->expiry;
}

int dsec_zone_refresh(dsec_zone_t *z, uint32_t now, dsec_zsigs_t **retired)
{
    *retired = NULL;
    if (dsec_zone_expiry(z) > now + z->params.refresh)
        return 0;
    dsec_zsigs_t *s = dsec_zsigs_new(z, now);
    if (!s)
        return -1;
    *retired = atomic_exchange_explicit(&z->sigs, s, memory_order_acq_rel);
    return 1;
}

const dsec_zsigs_t *dsec_zone_sigs(const dsec_zone_t *z)
{
    /* Consume ordering in spirit: the pointer is read once, then its data. */
    return atomic_load_explicit(&z->sigs, memory_order_acquire);
}

const zone_rrset_t *dsec_sigs_rrset(const dsec_zsigs_t *s, const zone_node_t *node,
                                    size_t i, size_t idx)
{
    const zone_rrset_t *r = &s->sigs[s->first[idx] + i];
    (void)node;
    return r->count ? r : NULL;
}

const zone_rrset_t *dsec_sigs_nsec(const dsec_zsigs_t *s, size_t idx,
                                   const zone_rrset_t **sig)
{
    *sig = &s->nsec_sig[idx];
    return &s->nsec[idx];
}

const zone_rrset_t *dsec_sigs_apex(const dsec_zsigs_t *s, uint16_t type,
                                   const zone_rrset_t **sig)
{
    int w = type == DSEC_TYPE_DNSKEY ? 0 : type == DSEC_TYPE_CDS ? 1 : 2;
    *sig = &s->apex_sig[w];
    return s->apex[w].count ? &s->apex[w] : NULL;
}

const zone_rrset_t *dsec_sigs_soa_negative(const dsec_zsigs_t *s)
{
    return &s->soa_neg_sig;
}
