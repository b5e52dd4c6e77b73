/*
 * cookie.c - SipHash-2-4 and RFC 9018 server cookies; see cookie.h.
 */
#include "dnsd/query/cookie.h"

#include <netinet/in.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t cookie_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void cookie_sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

/* Two compression rounds per 8-byte word, four finalisation rounds. */
void cookie_siphash24(const uint8_t key[16], const void *in, size_t len, uint8_t out[8])
{
    const uint8_t *p = in;
    uint64_t k0 = cookie_le64(key), k1 = cookie_le64(key + 8);
    uint64_t v[4] = {0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
                     0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1};
    uint64_t m, b = (uint64_t)len << 56;
    size_t i, end = len - len % 8;

    for (i = 0; i < end; i += 8) {
        m = cookie_le64(p + i);
        v[3] ^= m;
        cookie_sipround(v);
        cookie_sipround(v);
        v[0] ^= m;
    }
    for (size_t j = 0; j < len % 8; j++)
        b |= (uint64_t)p[end + j] << (8 * j);
    v[3] ^= b;
    cookie_sipround(v);
    cookie_sipround(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for (i = 0; i < 4; i++)
        cookie_sipround(v);
    m = v[0] ^ v[1] ^ v[2] ^ v[3];
    for (i = 0; i < 8; i++)
        out[i] = (uint8_t)(m >> (8 * i));
}

size_t cookie_client_ip(const struct sockaddr *src, uint8_t out[16])
{
    if (src && src->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)src)->sin_addr, 4);
        return 4;
    }
    if (src && src->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)src)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(out, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(out, a->s6_addr, 16);
        return 16;
    }
    return 0;
}

/* RFC 9018 section 4.4: the hash input is the client cookie, the first eight
 * bytes of the server cookie, then the client address. */
static void cookie_hash(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t client[8],
                        const uint8_t head[8], const struct sockaddr *src, uint8_t out[8])
{
    uint8_t in[8 + 8 + 16];
    size_t iplen = cookie_client_ip(src, in + 16);

    memcpy(in, client, 8);
    memcpy(in + 8, head, 8);
    cookie_siphash24(secret, in, 16 + iplen, out);
}

void cookie_make(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t client[8],
                 const struct sockaddr *src, uint32_t now, uint8_t out[COOKIE_SERVER_LEN])
{
    out[0] = 1; /* version */
    out[1] = out[2] = out[3] = 0;
    out[4] = (uint8_t)(now >> 24);
    out[5] = (uint8_t)(now >> 16);
    out[6] = (uint8_t)(now >> 8);
    out[7] = (uint8_t)now;
    cookie_hash(secret, client, out, src, out + 8);
}

cookie_result_t cookie_check(const uint8_t secret[COOKIE_SECRET_LEN], const uint8_t *opt,
                             size_t len, const struct sockaddr *src, uint32_t now)
{
    const uint8_t *srv = opt + COOKIE_CLIENT_LEN;
    uint8_t hash[8];
    uint32_t ts;
    int32_t age;

    if (len == COOKIE_CLIENT_LEN)
        return COOKIE_CLIENT_ONLY;
    /* Another node's format (a different length or version) is not ours to
     * judge: it fails, and the client gets a fresh cookie in the answer. */
    if (len != COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN || srv[0] != 1)
        return COOKIE_INVALID;
    ts = (uint32_t)srv[4] << 24 | (uint32_t)srv[5] << 16 | (uint32_t)srv[6] << 8 | srv[7];
    age = (int32_t)(now - ts); /* serial number arithmetic (RFC 1982) */
    if (age > COOKIE_MAX_AGE || age < -COOKIE_MAX_AHEAD)
        return COOKIE_INVALID;
    cookie_hash(secret, opt, srv, src, hash);
    /* The comparison need not be constant-time: an attacker learns only that
     * a guessed cookie is wrong, which the missing exemption tells anyway. */
    return memcmp(hash, srv + 8, 8) == 0 ? COOKIE_VALID : COOKIE_INVALID;
}

static int cookie_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cookie_secret_parse(const char *hex, uint8_t secret[COOKIE_SECRET_LEN])
{
    if (strlen(hex) != 2 * COOKIE_SECRET_LEN)
        return -1;
    for (size_t i = 0; i < COOKIE_SECRET_LEN; i++) {
        int hi = cookie_hexval(hex[2 * i]), lo = cookie_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        secret[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
