/*
 * test_cookie.c - SipHash-2-4 against the reference vectors of Aumasson and
 * Bernstein and against OpenSSL's independent implementation (EVP_MAC
 * "SIPHASH"), and RFC 9018 server cookies against the RFC's Appendix A.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "check.h"
#include "testaddr.h"
#include "dnsd/query/cookie.h"

static void hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        sscanf(s + 2 * i, "%2x", &b);
        out[i] = (uint8_t)b;
    }
}

/* Key 00..0f, message 00..n-1: vectors from the SipHash paper's reference code. */
static void test_reference_vectors(void)
{
    static const struct {
        size_t n;
        const char *out;
    } v[] = {{0, "310e0edd47db6f72"},
             {1, "fd67dc93c539f874"},
             {15, "e545be4961ca29a1"},
             {63, "724506eb4c328a95"}};
    uint8_t key[16], msg[64], got[8], want[8];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        hex(v[i].out, want, 8);
        cookie_siphash24(key, msg, v[i].n, got);
        CHECK(memcmp(got, want, 8) == 0);
    }
}

/* Every length 0..200 with a random key and message, compared with OpenSSL. */
static void test_against_openssl(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    size_t size = 8;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    uint8_t key[16], msg[200], got[8], want[8];
    size_t wlen;
    int mismatches = 0;

    CHECK(mac != NULL);
    if (!mac)
        return;
    srand(7);
    for (size_t n = 0; n <= sizeof msg; n++) {
        for (size_t i = 0; i < 16; i++)
            key[i] = (uint8_t)rand();
        for (size_t i = 0; i < n; i++)
            msg[i] = (uint8_t)rand();
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
        int ok = EVP_MAC_init(ctx, key, 16, params) && EVP_MAC_update(ctx, msg, n) &&
                 EVP_MAC_final(ctx, want, &wlen, sizeof want);
        EVP_MAC_CTX_free(ctx);
        CHECK(ok && wlen == 8);
        cookie_siphash24(key, msg, n, got);
        mismatches += memcmp(got, want, 8) != 0;
    }
    CHECK_INT_EQ(mismatches, 0);
    EVP_MAC_free(mac);
}

/* RFC 9018 Appendix A.1-A.3: the server cookies the RFC shows. */
static void test_rfc9018_vectors(void)
{
    static const struct {
        const char *client, *ip, *want;
        uint32_t at;
    } v[] = {
        {"2464c4abcf10c957", "198.51.100.100", "010000005cf79f111f8130c3eee29480",
         1559731985},
        {"2464c4abcf10c957", "198.51.100.100", "010000005cf7a871d4a564a1442aca77",
         1559734385},
        {"fc93fc62807ddb86", "203.0.113.203", "010000005cf7a9acf73a7810aca2381e",
         1559734700},
    };
    uint8_t secret[16], client[8], got[16], want[16];
    CHECK_INT_EQ(cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfcf", secret), 0);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        struct sockaddr_storage ss = test_addr(v[i].ip);
        hex(v[i].client, client, 8);
        hex(v[i].want, want, 16);
        cookie_make(secret, client, (struct sockaddr *)&ss, v[i].at, got);
        CHECK(memcmp(got, want, 16) == 0);
    }
    CHECK_INT_EQ(cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfc", secret), -1);
    CHECK_INT_EQ(cookie_secret_parse("g5e973e5a6b2a43f48e7dc849e37bfcf", secret), -1);
}

/* A.2's query carries A.1's cookie 40 minutes later: valid; then every way a
 * cookie can fail. */
static void test_check(void)
{
    uint8_t secret[16], opt[40];
    struct sockaddr_storage ss = test_addr("198.51.100.100"),
                            other = test_addr("198.51.100.101");
    struct sockaddr_storage v6 = test_addr("2001:db8::1"),
                            mapped = test_addr("::ffff:198.51.100.100");
    const struct sockaddr *sa = (struct sockaddr *)&ss;
    const uint32_t t0 = 1559731985;

    cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfcf", secret);
    hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480", opt, 24);
    CHECK_INT_EQ(cookie_check(secret, opt, 8, sa, t0), COOKIE_CLIENT_ONLY);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0 + 2400), COOKIE_VALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0 + COOKIE_MAX_AGE), COOKIE_VALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0 + COOKIE_MAX_AGE + 1),
                 COOKIE_INVALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0 - COOKIE_MAX_AHEAD), COOKIE_VALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0 - COOKIE_MAX_AHEAD - 1),
                 COOKIE_INVALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, (struct sockaddr *)&other, t0),
                 COOKIE_INVALID);
    /* The same IPv4 client seen on a dual-stack socket hashes the same. */
    CHECK_INT_EQ(cookie_check(secret, opt, 24, (struct sockaddr *)&mapped, t0),
                 COOKIE_VALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 24, (struct sockaddr *)&v6, t0),
                 COOKIE_INVALID);
    CHECK_INT_EQ(cookie_check(secret, opt, 20, sa, t0), COOKIE_INVALID);
    opt[23] ^= 1;
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0), COOKIE_INVALID);
    opt[23] ^= 1;
    opt[0] ^= 1; /* another client cookie */
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0), COOKIE_INVALID);
    opt[0] ^= 1;
    opt[8] = 2; /* version */
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0), COOKIE_INVALID);
    opt[8] = 1;
    secret[0] ^= 1; /* another fleet */
    CHECK_INT_EQ(cookie_check(secret, opt, 24, sa, t0), COOKIE_INVALID);
    /* IPv6: a fresh cookie verifies for its address and no other. */
    uint8_t c6[24] = {1, 2, 3, 4, 5, 6, 7, 8};
    cookie_make(secret, c6, (struct sockaddr *)&v6, t0, c6 + 8);
    CHECK_INT_EQ(cookie_check(secret, c6, 24, (struct sockaddr *)&v6, t0 + 1),
                 COOKIE_VALID);
    CHECK_INT_EQ(cookie_check(secret, c6, 24, sa, t0 + 1), COOKIE_INVALID);
    /* Timestamps wrap as serial numbers (RFC 1982). */
    cookie_make(secret, c6, (struct sockaddr *)&v6, 0xFFFFFFF0u, c6 + 8);
    CHECK_INT_EQ(cookie_check(secret, c6, 24, (struct sockaddr *)&v6, 0x10),
                 COOKIE_VALID);
}

int main(void)
{
    test_reference_vectors();
    test_against_openssl();
    test_rfc9018_vectors();
    test_check();
    return check_summary("test_cookie");
}
