/*
 * key.c - DNSSEC keys from the files ldns-keygen and dnssec-keygen write.
 *
 * A private-key file ("Private-key-format: v1.x") names the algorithm and
 * holds the private key in base64; the matching public file (".key", same
 * name) holds the DNSKEY record with the flags. Both are read here without
 * ldns's key reader so every problem gets its own message. The public key is
 * derived from the private one and must equal the one in the ".key" file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ldns/ldns.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "dnssec.h"

/* RFC 4034 appendix B. */
static uint16_t dsec_key_tag(const uint8_t *rd, size_t len)
{
    uint32_t ac = 0;
    for (size_t i = 0; i < len; i++)
        ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
    ac += (ac >> 16) & 0xFFFF;
    return (uint16_t)(ac & 0xFFFF);
}

static int dsec_b64(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    if (n == 0 || n % 4 || n / 4 * 3 > cap)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    len -= (s[n - 1] == '=') + (s[n - 2] == '=');
    return len;
}

/* P-256: the public point from the private scalar, then one EVP_PKEY. */
static EVP_PKEY *dsec_pkey_p256(const uint8_t *priv, size_t len, uint8_t pub[65])
{
    EVP_PKEY *pkey = NULL;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    BIGNUM *d = BN_bin2bn(priv, (int)len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    if (!pt || !d || !bld || !ctx || BN_is_zero(d) ||
        !EC_POINT_mul(g, pt, d, NULL, NULL, NULL) ||
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) != 65 ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                         0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_clear_free(d);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return pkey;
}

/* The private key and the public key it implies (DNSKEY form: P-256 X||Y,
 * RFC 6605 section 4; Ed25519 the 32 bytes, RFC 8080 section 3). */
static int dsec_pkey(dsec_key_t *k, const uint8_t *priv, size_t len, uint8_t *pub,
                     size_t *publen)
{
    if (k->alg == DSEC_ALG_ECDSAP256) {
        uint8_t pt[65];
        /* The scalar is written as a number, leading zero bytes dropped (ldns
         * and BIND alike): one key in 256 has 31 bytes. */
        if (len < 1 || len > 32 || !(k->pkey = dsec_pkey_p256(priv, len, pt)))
            return -1;
        memcpy(pub, pt + 1, 64);
        *publen = 64;
        return 0;
    }
    if (len != 32 ||
        !(k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, len)))
        return -1;
    *publen = 32;
    return EVP_PKEY_get_raw_public_key(k->pkey, pub, publen) == 1 ? 0 : -1;
}

/* Reads a private-key file: "Algorithm: N (...)" and "PrivateKey: base64". */
static int dsec_read_private(dsec_key_t *k, const char *path, uint8_t *pub,
                             size_t *publen, char *err, size_t errlen)
{
    char line[512];
    uint8_t priv[64];
    int plen = -1, alg = -1;
    struct stat st;
    FILE *f = fopen(path, "r");

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A private key others can read is not private (BIND and Knot refuse too). */
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH)) {
        fclose(f);
        snprintf(err, errlen, "%s: readable by others (mode %03o): chmod 600 or 640",
                 path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Algorithm:", 10))
            alg = atoi(line + 10);
        else if (!strncmp(line, "PrivateKey:", 11))
            plen = dsec_b64(line + 11 + strspn(line + 11, " \t"), priv, sizeof priv);
    }
    fclose(f);
    if (alg != DSEC_ALG_ECDSAP256 && alg != DSEC_ALG_ED25519) {
        snprintf(err, errlen,
                 "%s: %s algorithm %d: only 13 (ECDSAP256SHA256) and 15 (ED25519)", path,
                 alg < 0 ? "no" : "unsupported", alg);
        return -1;
    }
    k->alg = (uint8_t)alg;
    if (plen < 0 || dsec_pkey(k, priv, (size_t)plen, pub, publen) != 0) {
        OPENSSL_cleanse(priv, sizeof priv);
        snprintf(err, errlen, "%s: no valid PrivateKey for algorithm %d", path, alg);
        return -1;
    }
    OPENSSL_cleanse(priv, sizeof priv);
    return 0;
}

/* Reads the DNSKEY of a ".key" file (comment lines allowed, as dnssec-keygen
 * writes them) into k->rdata; it must be owned by `origin`. */
static int dsec_read_public(dsec_key_t *k, const char *path, const char *origin,
                            char *err, size_t errlen)
{
    char line[2048];
    ldns_rr *rr = NULL;
    ldns_rdf *want = ldns_dname_new_frm_str(origin);
    FILE *f = fopen(path, "r");
    int rc = -1;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    while (!rr && fgets(line, sizeof line, f)) {
        const char *p = line + strspn(line, " \t");
        if (*p == ';' || *p == '\n' || *p == 0)
            continue;
        if (ldns_rr_new_frm_str(&rr, p, 0, NULL, NULL) != LDNS_STATUS_OK)
            rr = NULL;
        break;
    }
    fclose(f);
    if (!rr || ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY || ldns_rr_rd_count(rr) != 4) {
        snprintf(err, errlen, "%s: no DNSKEY record", path);
        goto out;
    }
    if (!want || ldns_dname_compare(ldns_rr_owner(rr), want) != 0) {
        snprintf(err, errlen, "%s: the DNSKEY is not for %s", path, origin);
        goto out;
    }
    k->rdlen = 0;
    for (size_t i = 0; i < 4; i++) {
        const ldns_rdf *f4 = ldns_rr_rdf(rr, i);
        if (k->rdlen + ldns_rdf_size(f4) > sizeof k->rdata) {
            snprintf(err, errlen, "%s: DNSKEY too long", path);
            goto out;
        }
        memcpy(k->rdata + k->rdlen, ldns_rdf_data(f4), ldns_rdf_size(f4));
        k->rdlen = (uint16_t)(k->rdlen + ldns_rdf_size(f4));
    }
    k->flags = (uint16_t)(k->rdata[0] << 8 | k->rdata[1]);
    if (k->rdata[2] != 3 || (k->flags & ~0x0101u) || !(k->flags & 0x0100)) {
        snprintf(err, errlen,
                 "%s: DNSKEY flags %u protocol %u: want 256 or 257, protocol 3", path,
                 k->flags, k->rdata[2]);
        goto out;
    }
    rc = 0;
out:
    ldns_rr_free(rr);
    ldns_rdf_deep_free(want);
    return rc;
}

/* "Kx.+013+12345.private" -> "Kx.+013+12345.key". */
static int dsec_pub_path(const char *priv, char *out, size_t len)
{
    size_t n = strlen(priv);
    if (n < 8 || strcmp(priv + n - 8, ".private") || n - 8 + 5 > len)
        return -1;
    memcpy(out, priv, n - 8);
    memcpy(out + n - 8, ".key", 5);
    return 0;
}

static int dsec_key_load(dsec_key_t *k, const char *origin, const char *path, bool sign,
                         char *err, size_t errlen)
{
    char pubpath[4096];
    uint8_t pub[64];
    size_t publen = 0;

    snprintf(k->path, sizeof k->path, "%s", path);
    k->sign = sign;
    if (!sign)
        return dsec_read_public(k, path, origin, err, errlen);
    if (dsec_pub_path(path, pubpath, sizeof pubpath) != 0) {
        snprintf(err, errlen, "%s: a private-key file name ends in \".private\"", path);
        return -1;
    }
    if (dsec_read_private(k, path, pub, &publen, err, errlen) != 0 ||
        dsec_read_public(k, pubpath, origin, err, errlen) != 0)
        return -1;
    if (k->rdata[3] != k->alg || k->rdlen != 4 + publen ||
        memcmp(k->rdata + 4, pub, publen) != 0) {
        snprintf(err, errlen, "%s: the public key does not match %s", pubpath, path);
        return -1;
    }
    return 0;
}

/* Roles: KSKs sign the DNSKEY RRset, ZSKs the rest; without a ZSK the KSKs
 * sign everything (a CSK), without a KSK the ZSKs sign the DNSKEY RRset too. */
static void dsec_keys_roles(dsec_keys_t *ks)
{
    bool ksk = false, zsk = false;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].sign)
            (ks->k[i].flags & 1) ? (ksk = true) : (zsk = true);
    for (size_t i = 0; i < ks->n; i++) {
        dsec_key_t *k = &ks->k[i];
        bool sep = k->flags & 1;
        k->sign_dnskey = k->sign && (sep || !ksk);
        k->sign_zone = k->sign && (!sep || !zsk);
    }
}

dsec_keys_t *dsec_keys_load(const char *origin, char *const *sign, size_t n_sign,
                            char *const *publish, size_t n_publish, char *err,
                            size_t errlen)
{
    dsec_keys_t *ks = calloc(1, sizeof *ks);

    if (!ks) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (n_sign == 0 || n_sign + n_publish > DSEC_KEYS_MAX) {
        snprintf(err, errlen, "%s: dnssec: %s", origin,
                 n_sign ? "more than 8 keys" : "no signing key");
        goto fail;
    }
    for (size_t i = 0; i < n_sign + n_publish; i++) {
        dsec_key_t *k = &ks->k[ks->n++];
        const char *path = i < n_sign ? sign[i] : publish[i - n_sign];
        if (dsec_key_load(k, origin, path, i < n_sign, err, errlen) != 0)
            goto fail;
        k->alg = k->rdata[3];
        k->tag = dsec_key_tag(k->rdata, k->rdlen);
        for (size_t j = 0; j + 1 < ks->n; j++)
            if (ks->k[j].tag == k->tag && ks->k[j].alg == k->alg) {
                snprintf(err, errlen, "%s: key tag %u also used by %s", path, k->tag,
                         ks->k[j].path);
                goto fail;
            }
    }
    dsec_keys_roles(ks);
    return ks;
fail:
    dsec_keys_free(ks);
    return NULL;
}

void dsec_keys_free(dsec_keys_t *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->n; i++)
        EVP_PKEY_free(ks->k[i].pkey);
    free(ks);
}
