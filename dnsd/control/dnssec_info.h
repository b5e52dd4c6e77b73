/*
 * dnssec_info.h - what STATUS and /metrics say about an origin's DNSSEC:
 * keys (tag, algorithm, role), the earliest signature expiry, the signed
 * pool answer sets and their memory. Control thread only.
 */
#ifndef DNSD_DNSSEC_INFO_H
#define DNSD_DNSSEC_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "dnsd/data/data.h"

/* Earliest expiration (UNIX time) of any signature the origin serves; 0 when
 * the origin is not signed. */
uint32_t dnssec_info_expiry(const srv_origin_t *o);

/* Bytes of the origin's signed pool answer sets (0: none). */
size_t dnssec_info_set_bytes(const srv_origin_t *o);

/* The origin's "dnssec" value for STATUS, JSON: null, or {"keys": [{"tag",
 * "algorithm", "flags", "role"}], "earliest_expiry", "expires_in_s",
 * "answer_sets", "answer_set_bytes"}. Truncated output is still valid JSON
 * only when it fits: buf of 2 KiB holds 8 keys. */
void dnssec_info_status(const srv_origin_t *o, char *buf, size_t len);

#endif
