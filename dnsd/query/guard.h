/*
 * guard.h - the abuse limits of the served data (data.h srv_limits_t) from
 * a configuration: the RRL table, the cookie secret, the TCP per-client cap
 * and read timeout (docs/hardening.md). Built at start-up and on every
 * reload, off the query path.
 */
#ifndef DNSD_GUARD_H
#define DNSD_GUARD_H

#include <stddef.h>

#include "config/cfg.h"
#include "dnsd/data/data.h"

/*
 * The limits `cfg` asks for. Without cookies.secret the key is random, and
 * stays the one of `cur` (the limits served until now; NULL at start-up)
 * when cur's was random too, so a reload does not invalidate the cookies
 * clients hold. A new RRL table starts with full buckets. NULL with a
 * message when out of memory or without randomness.
 */
srv_limits_t *guard_new(const cfg_t *cfg, const srv_limits_t *cur, char *err,
                        size_t errlen);

/* True when a and b configure RRL differently (rate, slip, prefixes, exempt). */
bool guard_rrl_differ(const cfg_t *a, const cfg_t *b);

#endif
