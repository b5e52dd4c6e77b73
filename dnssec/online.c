/*
 * online.c - the signatures made at query time: the compact-denial NSEC of a
 * name that does not exist (RFC 9824 section 3.1), which names the query
 * name itself, and the _country diagnostics TXT, which names the client.
 * Both only for queries with the DO bit. Everything else is presigned.
 *
 * Cost: one signature per such query and key (tens of microseconds; the
 * figures are in bench/results), and libcrypto allocates a context per
 * signature - the one place the query path allocates, bounded by one
 * signature per key per answer. Ordinary pool and static answers never sign.
 * Inception is rounded down (to the hour by default) so the RRSIG fields of
 * answers for one name stay the same for a while; only the signature varies.
 */
#include <string.h>

#include "dnssec_int.h"

static size_t dsec_online_sigs(const dsec_zone_t *z, const dsec_rrset_in_t *in,
                               uint32_t now, uint8_t *out, size_t cap, uint16_t *count)
{
    size_t olen, len = 0;
    const uint8_t *origin = zone_static_origin(z->stat, &olen);
    /* Inception rounded down by at most an eighth of the validity (an hour
     * at most), so a signature made now is valid for 7/8 of it or more. */
    uint32_t step = z->params.validity / 8 > 3600 ? 3600 : z->params.validity / 8 + 1;
    uint32_t inc = now / step * step - z->params.inception_offset;
    uint32_t exp = inc + z->params.validity;

    for (size_t i = 0; i < z->keys->n; i++) {
        const dsec_key_t *k = &z->keys->k[i];
        uint8_t sig[DSEC_RRSIG_MAX];
        if (!k->sign_zone)
            continue;
        int n = dsec_sign_rrset(k, in, origin, olen, inc, exp, sig);
        if (n < 0 || len + (size_t)n > cap)
            return 0;
        if (z->params.corrupt)
            sig[n - 1] ^= 0x5a;
        memcpy(out + len, sig, (size_t)n);
        len += (size_t)n;
        (*count)++;
    }
    return len;
}

size_t dsec_sign_nxname(const dsec_zone_t *z, const uint8_t *lname, size_t len,
                        uint32_t now, uint8_t *out, size_t cap, uint16_t *count)
{
    static const uint16_t types[] = {DSEC_TYPE_RRSIG, DSEC_TYPE_NSEC, DSEC_TYPE_NXNAME};
    size_t n = dsec_nsec_record(lname, len, types, 3, z->neg_ttl, out, cap);

    *count = 0;
    if (n == 0)
        return 0;
    dsec_rrset_in_t in = {lname, len, DSEC_TYPE_NSEC, z->neg_ttl, out, n, 1};
    *count = 1;
    size_t s = dsec_online_sigs(z, &in, now, out + n, cap - n, count);
    return s ? n + s : 0;
}

size_t dsec_sign_online(const dsec_zone_t *z, const dsec_rrset_in_t *in, uint32_t now,
                        uint8_t *out, size_t cap, uint16_t *count)
{
    *count = 0;
    return dsec_online_sigs(z, in, now, out, cap, count);
}
