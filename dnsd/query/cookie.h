/*
 * cookie.h - DNS cookies (RFC 7873) with interoperable server cookies
 * (RFC 9018): Version 1 | Reserved (3 bytes) | Timestamp (32-bit seconds) |
 * Hash, the hash being SipHash-2-4 keyed with a 16-byte secret over
 * Client Cookie | Version | Reserved | Timestamp | Client-IP.
 *
 * Every node of the fleet configured with the same secret accepts the cookies
 * of the others, so a client that moves between anycast nodes keeps a valid
 * cookie. Nothing here allocates; it runs on the query path.
 */
#ifndef DNSD_COOKIE_H
#define DNSD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define COOKIE_CLIENT_LEN 8
#define COOKIE_SERVER_LEN 16 /* the RFC 9018 layout, the only one we issue */
#define COOKIE_SECRET_LEN 16
/* RFC 9018 section 4.3: accept a timestamp up to one hour old and up to five
 * minutes in the future (clocks of the fleet are never perfectly in step). */
#define COOKIE_MAX_AGE 3600
#define COOKIE_MAX_AHEAD 300

/* How a query's COOKIE option fared; the order is that of the metric labels. */
typedef enum {
    COOKIE_NONE = 0,    /* no COOKIE option */
    COOKIE_CLIENT_ONLY, /* a client cookie alone */
    COOKIE_VALID,       /* a server cookie we issued, in time */
    COOKIE_INVALID,     /* a server cookie that fails the hash, version or time */
    COOKIE_RESULTS
} cookie_result_t;

/* SipHash-2-4 (Aumasson and Bernstein), 64-bit output written little-endian
 * as in the reference implementation. */
void cookie_siphash24(const uint8_t key[16], const void *in, size_t len, uint8_t out[8]);

/* The client address as hashed: 4 bytes for IPv4 (also when v4-mapped), 16
 * for IPv6; returns the length, 0 for other families. */
size_t cookie_client_ip(const struct sockaddr *src, uint8_t out[16]);

/* Writes a server cookie for `client` (8 bytes) seen from `src` at time `now`
 * (seconds since the epoch, as 32-bit serial number arithmetic). */
void cookie_make(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t client[8],
                 const struct sockaddr *src, uint32_t now,
                 uint8_t out[COOKIE_SERVER_LEN]);

/* Judges a COOKIE option's bytes (client cookie, then any server cookie; the
 * length has been checked by wire.c to be 8 or 16..40). */
cookie_result_t cookie_check(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t *opt,
                             size_t len, const struct sockaddr *src, uint32_t now);

/* Parses 32 hex digits into a secret; returns 0 or -1. */
int cookie_secret_parse(const char *hex, uint8_t secret[COOKIE_SECRET_LEN]);

#endif
