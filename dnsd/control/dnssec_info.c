/*
 * dnssec_info.c - DNSSEC facts for STATUS and /metrics (dnssec_info.h).
 */
#include <stdio.h>
#include <time.h>

#include "dnsd/control/dnssec_info.h"
#include "dnssec/dnssec_pool.h"

uint32_t dnssec_info_expiry(const srv_origin_t *o)
{
    if (!o->dz)
        return 0;
    uint32_t e = dsec_zone_expiry(o->dz);
    if (o->dp && dsec_pool_expiry(o->dp) < e)
        e = dsec_pool_expiry(o->dp);
    return e;
}

size_t dnssec_info_set_bytes(const srv_origin_t *o)
{
    return o->dp ? dsec_pool_bytes(o->dp) : 0;
}

static const char *dnssec_info_role(const dsec_key_t *k)
{
    if (!k->sign)
        return "published";
    if (k->sign_dnskey && k->sign_zone)
        return "csk";
    return k->sign_dnskey ? "ksk" : "zsk";
}

void dnssec_info_status(const srv_origin_t *o, char *buf, size_t len)
{
    size_t n = 0;
    char when[32];
    struct tm tm;

    if (!o->dz) {
        snprintf(buf, len, "null");
        return;
    }
    time_t exp = (time_t)dnssec_info_expiry(o);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
    n += (size_t)snprintf(buf + n, len - n, "{\"keys\": [");
    for (size_t i = 0; i < o->dz->keys->n && n < len; i++) {
        const dsec_key_t *k = &o->dz->keys->k[i];
        n += (size_t)snprintf(buf + n, len - n,
                              "%s{\"tag\": %u, \"algorithm\": %u, \"flags\": %u, "
                              "\"role\": \"%s\"}",
                              i ? ", " : "", k->tag, k->alg, k->flags,
                              dnssec_info_role(k));
    }
    if (n < len)
        snprintf(buf + n, len - n,
                 "], \"earliest_expiry\": \"%s\", \"expires_in_s\": %lld, "
                 "\"answer_sets\": %zu, \"answer_set_bytes\": %zu}",
                 when, (long long)exp - (long long)time(NULL),
                 o->dp ? dsec_pool_sets(o->dp) : 0, dnssec_info_set_bytes(o));
}
