/*
 * guard.c - the abuse limits of the served data (see guard.h).
 */
#include "dnsd/query/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dnsd/query/rrl.h"

static void guard_free(srv_limits_t *l)
{
    rrl_free(l->rrl);
    free(l);
}

srv_limits_t *guard_new(const cfg_t *cfg, const srv_limits_t *cur, char *err,
                        size_t errlen)
{
    srv_limits_t *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "guard: out of memory");
        return NULL;
    }
    l->free = guard_free;
    l->tcp_max_per_client = cfg->tcp_max_per_client;
    l->tcp_read_ms = cfg->tcp_read_timeout_ms;
    if (cfg->rrl_rate && !(l->rrl = rrl_new(cfg, err, errlen)))
        goto fail;
    if (cfg->cookie_secret_set) {
        memcpy(l->cookie_secret, cfg->cookie_secret, sizeof l->cookie_secret);
        return l;
    }
    l->cookie_random = true;
    if (cur && cur->cookie_random) {
        memcpy(l->cookie_secret, cur->cookie_secret, sizeof l->cookie_secret);
        return l;
    }
    if (getrandom(l->cookie_secret, sizeof l->cookie_secret, 0) !=
        (ssize_t)sizeof l->cookie_secret) {
        snprintf(err, errlen, "cookies: getrandom failed");
        goto fail;
    }
    return l;
fail:
    guard_free(l);
    return NULL;
}

bool guard_rrl_differ(const cfg_t *a, const cfg_t *b)
{
    return a->rrl_rate != b->rrl_rate || a->rrl_slip != b->rrl_slip ||
           a->rrl_ipv4_prefix != b->rrl_ipv4_prefix ||
           a->rrl_ipv6_prefix != b->rrl_ipv6_prefix ||
           a->n_rrl_exempt != b->n_rrl_exempt ||
           (a->n_rrl_exempt && memcmp(a->rrl_exempt, b->rrl_exempt,
                                      a->n_rrl_exempt * sizeof *a->rrl_exempt) != 0);
}
