/*
 * sign.c - one RRSIG over one RRset (RFC 4034 section 3.1.8.1), with
 * libcrypto's EVP_DigestSign: ECDSA P-256 with SHA-256 (RFC 6605; the DER
 * signature turned into the 64-byte r||s form) and Ed25519 (RFC 8080).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "dnssec_int.h"

/* Signatures made by every thread; a relaxed counter for the metrics. */
static _Atomic uint64_t dsec_made;

uint64_t dsec_signatures_total(void)
{
    return atomic_load_explicit(&dsec_made, memory_order_relaxed);
}

/* Records of one RRset dnsd signs; pool answers hold at most 16, static
 * RRsets more. A larger RRset is refused (the loader reports it). */
#define DSEC_RRS_MAX 512
/* Signed data up to this size is built on the stack; larger (static data
 * only, off the query path) on the heap. */
#define DSEC_STACK_DATA 4096

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 4034 6.3: RDATA as left-justified octet strings, a prefix first. */
static int dsec_rr_cmp(const void *a, const void *b)
{
    const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
    size_t lx = get16(x + 8), ly = get16(y + 8);
    int c = memcmp(x + 10, y + 10, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static unsigned dsec_labels(const uint8_t *lname, size_t len)
{
    unsigned n = 0;
    for (size_t off = 0; off < len && lname[off]; off += 1u + lname[off])
        n++;
    return n;
}

/* DER ECDSA-Sig-Value -> r||s, each left-padded to 32 bytes (RFC 6605 4). */
static int dsec_der_to_raw(const uint8_t *der, size_t len, uint8_t out[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    int rc = -1;
    if (sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32)
        rc = 0;
    ECDSA_SIG_free(sig);
    return rc;
}

static int dsec_sign_data(const dsec_key_t *key, const uint8_t *data, size_t len,
                          uint8_t sig[DSEC_SIG_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t dlen = sizeof der;
    int rc = -1;

    if (!ctx)
        return -1;
    if (key->alg == DSEC_ALG_ED25519) {
        dlen = DSEC_SIG_LEN;
        if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
            EVP_DigestSign(ctx, sig, &dlen, data, len) == 1 && dlen == DSEC_SIG_LEN)
            rc = 0;
    } else if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
               EVP_DigestSign(ctx, der, &dlen, data, len) == 1) {
        rc = dsec_der_to_raw(der, dlen, sig);
    }
    EVP_MD_CTX_free(ctx);
    if (rc == 0)
        atomic_fetch_add_explicit(&dsec_made, 1, memory_order_relaxed);
    return rc;
}

/* The RRSIG RDATA up to the signature: 18 fixed bytes and the signer. */
static size_t dsec_rrsig_head(uint8_t *p, const dsec_key_t *key,
                              const dsec_rrset_in_t *in, const uint8_t *signer,
                              size_t signer_len, uint32_t inception, uint32_t expiration)
{
    put16(p, in->type);
    p[2] = key->alg;
    p[3] = (uint8_t)dsec_labels(in->owner, in->owner_len);
    put32(p + 4, in->ttl);
    put32(p + 8, expiration);
    put32(p + 12, inception);
    put16(p + 16, key->tag);
    memcpy(p + 18, signer, signer_len);
    return 18 + signer_len;
}

int dsec_sign_rrset(const dsec_key_t *key, const dsec_rrset_in_t *in,
                    const uint8_t *signer, size_t signer_len, uint32_t inception,
                    uint32_t expiration, uint8_t *out)
{
    const uint8_t *rrs[DSEC_RRS_MAX];
    uint8_t stack[DSEC_STACK_DATA], *data = stack;
    size_t n = 0, head, need, pos;
    int rc = -1;

    for (const uint8_t *p = in->wire; p < in->wire + in->len; p += 10 + get16(p + 8)) {
        if (n == DSEC_RRS_MAX)
            return -1;
        rrs[n++] = p;
    }
    qsort(rrs, n, sizeof *rrs, dsec_rr_cmp);
    need = 18 + signer_len + n * in->owner_len + in->len;
    if (need > sizeof stack && !(data = malloc(need)))
        return -1;
    head = dsec_rrsig_head(data, key, in, signer, signer_len, inception, expiration);
    pos = head;
    for (size_t i = 0, prev = 0; i < n; i++) {
        size_t rdlen = get16(rrs[i] + 8);
        /* RFC 4034 6.3: duplicate records count once. */
        if (i && get16(rrs[prev] + 8) == rdlen &&
            !memcmp(rrs[prev] + 10, rrs[i] + 10, rdlen))
            continue;
        prev = i;
        memcpy(data + pos, in->owner, in->owner_len);
        pos += in->owner_len;
        put16(data + pos, in->type);
        put16(data + pos + 2, 1); /* class IN */
        put32(data + pos + 4, in->ttl);
        memcpy(data + pos + 8, rrs[i] + 8, 2 + rdlen);
        pos += 10 + rdlen;
    }
    /* Record: TYPE CLASS TTL RDLENGTH, then the RDATA head and signature. */
    put16(out, DSEC_TYPE_RRSIG);
    put16(out + 2, 1);
    put32(out + 4, in->ttl);
    put16(out + 8, (uint16_t)(head + DSEC_SIG_LEN));
    memcpy(out + 10, data, head);
    if (dsec_sign_data(key, data, pos, out + 10 + head) == 0)
        rc = (int)(10 + head + DSEC_SIG_LEN);
    if (data != stack)
        free(data);
    return rc;
}

void dsec_ds_rdata(const dsec_key_t *key, const uint8_t *owner, size_t owner_len,
                   uint8_t out[36])
{
    uint8_t buf[256 + sizeof key->rdata];
    put16(out, key->tag);
    out[2] = key->alg;
    out[3] = 2; /* SHA-256 */
    memcpy(buf, owner, owner_len);
    memcpy(buf + owner_len, key->rdata, key->rdlen);
    EVP_Digest(buf, owner_len + key->rdlen, out + 4, NULL, EVP_sha256(), NULL);
}

size_t dsec_type_bitmap(const uint16_t *types, size_t n, uint8_t *out, size_t cap)
{
    uint8_t win[256][34]; /* per window: number, length, 32 bitmap bytes */
    size_t len = 0;

    memset(win, 0, sizeof win);
    for (size_t i = 0; i < n; i++) {
        uint8_t w = (uint8_t)(types[i] >> 8), b = (uint8_t)types[i];
        win[w][2 + b / 8] |= (uint8_t)(0x80 >> (b % 8));
        if (win[w][1] < b / 8 + 1)
            win[w][1] = (uint8_t)(b / 8 + 1);
    }
    for (unsigned w = 0; w < 256; w++) {
        if (!win[w][1])
            continue;
        if (len + 2 + win[w][1] > cap)
            return 0;
        out[len] = (uint8_t)w;
        out[len + 1] = win[w][1];
        memcpy(out + len + 2, win[w] + 2, win[w][1]);
        len += 2 + (size_t)win[w][1];
    }
    return len;
}

/* 64 KiB blocks: a zone's signatures fit in a few; larger requests get their own. */
#define DSEC_BLOCK 65536

void *dsec_arena_alloc(dsec_arena_t *a, size_t n)
{
    dsec_block_t *b = a->head;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!b || b->size - b->used < n) {
        size_t size = n > DSEC_BLOCK ? n : DSEC_BLOCK;
        if (!(b = malloc(sizeof *b + size)))
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    b->used += n;
    return (char *)b->data + b->used - n;
}

void dsec_arena_free(dsec_arena_t *a)
{
    for (dsec_block_t *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}
