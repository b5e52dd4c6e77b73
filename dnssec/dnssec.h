/*
 * dnssec.h - DNSSEC signing for dnsd: keys, RRSIGs, the signed static zone
 * and the signed pool answer sets (docs/dnssec.md).
 *
 * Everything is signed off the query path: at load time, when a snapshot is
 * pushed, and by the signer thread, which re-signs before expiry and keeps
 * replacing pool answer sets. The query path only copies precomputed bytes;
 * its one exception is the compact-denial NSEC of a name that does not exist
 * (RFC 9824), which depends on the query name and is signed per query
 * (dsec_sign_nxname) when the query has the DO bit.
 *
 * Keys: BIND/ldns private-key files (algorithm 13 ECDSAP256SHA256, RFC 6605,
 * and 15 ED25519, RFC 8080) with their public ".key" file next to them. A key
 * with the SEP flag (257) signs the DNSKEY RRset (KSK); one without (256)
 * signs the rest (ZSK); a lone SEP key signs everything (CSK).
 */
#ifndef DNSD_DNSSEC_H
#define DNSD_DNSSEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/zones.h"

#define DSEC_ALG_ECDSAP256 13
#define DSEC_ALG_ED25519 15
#define DSEC_SIG_LEN 64 /* both algorithms: r||s or R||S, 64 bytes */
#define DSEC_KEYS_MAX 8 /* keys per zone: signing and published */
#define DSEC_TYPE_DNSKEY 48
#define DSEC_TYPE_RRSIG 46
#define DSEC_TYPE_NSEC 47
#define DSEC_TYPE_SRV 33
#define DSEC_TYPE_DS 43
#define DSEC_TYPE_CDS 59
#define DSEC_TYPE_CDNSKEY 60
#define DSEC_TYPE_NXNAME 128 /* RFC 9824 */

/* One key: the public DNSKEY RDATA and, for signing keys, the private key. */
typedef struct dsec_key {
    uint16_t flags; /* 256 ZSK, 257 KSK/CSK */
    uint8_t alg;
    uint16_t tag;          /* RFC 4034 appendix B */
    uint8_t rdata[4 + 64]; /* DNSKEY RDATA: flags, protocol 3, algorithm, key */
    uint16_t rdlen;
    bool sign; /* false: published only (a key being rolled in or out) */
    bool sign_dnskey, sign_zone; /* its roles, from the set of signing keys */
    void *pkey;                  /* EVP_PKEY *, NULL when published only */
    char path[256];              /* for messages and status */
} dsec_key_t;

typedef struct dsec_keys {
    dsec_key_t k[DSEC_KEYS_MAX];
    size_t n;
} dsec_keys_t;

/*
 * Loads the signing keys (private-key files, each with its ".key" next to it)
 * and the published-only keys (".key" files) of `origin` (text). Refuses:
 * missing or unreadable files, a private-key file readable by others, an
 * unsupported algorithm, a public file that is not a DNSKEY of `origin` or
 * does not match the private key, duplicate key tags, no signing key.
 * Returns NULL with one message ("path: what") in err.
 */
dsec_keys_t *dsec_keys_load(const char *origin, char *const *sign, size_t n_sign,
                            char *const *publish, size_t n_publish, char *err,
                            size_t errlen);
void dsec_keys_free(dsec_keys_t *keys);

/* Signature times (RFC 4034 3.1.5), seconds. */
typedef struct dsec_params {
    uint32_t validity;         /* expiration - inception */
    uint32_t inception_offset; /* inception = now - this */
    uint32_t refresh;          /* re-sign when less than this is left */
    bool corrupt;              /* tests only: every signature made invalid, so a
                                  validator's failure can be shown */
} dsec_params_t;

/* ------------------------------------------------------------------------ */
/* RRSIG over one RRset (sign.c).                                            */
/* ------------------------------------------------------------------------ */

/* What one RRSIG covers: the owner (lname, lower case), type, class IN, TTL,
 * and the records as zones.h's wire form (TYPE CLASS TTL RDLENGTH RDATA each,
 * no owner), whose RDATA must already be canonical (RFC 4034 6.2). */
typedef struct dsec_rrset_in {
    const uint8_t *owner;
    size_t owner_len;
    uint16_t type;
    uint32_t ttl;
    const uint8_t *wire;
    size_t len;
    uint16_t count;
} dsec_rrset_in_t;

/* Upper bound of one RRSIG record in zones.h's wire form. */
#define DSEC_RRSIG_MAX (10 + 18 + 256 + DSEC_SIG_LEN)

/*
 * Writes one RRSIG record (TYPE CLASS TTL RDLENGTH RDATA, no owner) for `in`
 * made with `key`, signer name `signer` (the origin, lname), times
 * [inception, expiration]. The records are put in canonical order (RFC 4034
 * 6.3) for the signature only. Returns the bytes written (<= DSEC_RRSIG_MAX),
 * or -1 (libcrypto failure, or too many records).
 */
int dsec_sign_rrset(const dsec_key_t *key, const dsec_rrset_in_t *in,
                    const uint8_t *signer, size_t signer_len, uint32_t inception,
                    uint32_t expiration, uint8_t *out);

/* The DS digest (SHA-256, type 2) RDATA of a key for `owner` (RFC 4509):
 * tag, algorithm, 2, 32 bytes. Writes 36 bytes. */
void dsec_ds_rdata(const dsec_key_t *key, const uint8_t *owner, size_t owner_len,
                   uint8_t out[36]);

/* Writes an NSEC type bitmap (RFC 4034 4.1.2) for the sorted-or-not list of
 * types; returns its length (<= 34 * 3 for the types dnsd serves). */
size_t dsec_type_bitmap(const uint16_t *types, size_t n, uint8_t *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* The signed static zone (zone_sign.c).                                     */
/* ------------------------------------------------------------------------ */

/* The signatures of one version of the static data; replaced as a whole by
 * the signer thread before it expires (dsec_zone_refresh). */
typedef struct dsec_zsigs dsec_zsigs_t;

typedef struct dsec_zone {
    const zone_static_t *stat; /* borrowed: held by the same srv_origin_t */
    dsec_keys_t *keys;         /* owned */
    dsec_params_t params;
    uint32_t neg_ttl; /* TTL of negative-answer NSEC: the SOA's (RFC 9077) */
    _Atomic(dsec_zsigs_t *) sigs;
    bool corrupt; /* tests: every signature made invalid */
} dsec_zone_t;

/* Signs `stat` with `keys` (taken over, freed with the zone, also on failure)
 * at wall-clock time `now`. NULL with a message. Refuses a master file that
 * already holds DNSSEC records (DNSKEY, RRSIG, NSEC, NSEC3, CDS, CDNSKEY). */
dsec_zone_t *dsec_zone_new(const zone_static_t *stat, dsec_keys_t *keys,
                           const dsec_params_t *params, uint32_t now, char *err,
                           size_t errlen);
/* Frees the zone and its current signatures; nobody may read it any more. */
void dsec_zone_free(dsec_zone_t *z);

/* When the earliest signature of the current version expires (UNIX time). */
uint32_t dsec_zone_expiry(const dsec_zone_t *z);

/* Signer thread: when less than `refresh` is left, builds new signatures and
 * swaps them in; the old version is returned through *retired (free it with
 * dsec_zsigs_free after a grace period). 1 when re-signed, 0 when not needed,
 * -1 on failure (the old stay). */
int dsec_zone_refresh(dsec_zone_t *z, uint32_t now, dsec_zsigs_t **retired);
void dsec_zsigs_free(dsec_zsigs_t *s);

/* Query path: the signatures for one node's RRsets and NSEC. Borrowed until
 * the worker's next quiescent state. */
const dsec_zsigs_t *dsec_zone_sigs(const dsec_zone_t *z);

/* RRSIGs of the i-th static RRset of name `idx` (zone_static_node_index of
 * `node`); NULL when none. */
const zone_rrset_t *dsec_sigs_rrset(const dsec_zsigs_t *s, const zone_node_t *node,
                                    size_t i, size_t idx);
/* The NODATA NSEC of name `idx` and its RRSIGs, with the static types only
 * (a pool name's NSEC with A/AAAA comes from dsec_pool_nsec). */
const zone_rrset_t *dsec_sigs_nsec(const dsec_zsigs_t *s, size_t idx,
                                   const zone_rrset_t **sig);
/* Apex-only RRsets that dnsd makes: DNSKEY, CDS, CDNSKEY; and their RRSIGs. */
const zone_rrset_t *dsec_sigs_apex(const dsec_zsigs_t *s, uint16_t type,
                                   const zone_rrset_t **sig);
/* RRSIG over the negative SOA (zone_static_soa_negative's TTL). */
const zone_rrset_t *dsec_sigs_soa_negative(const dsec_zsigs_t *s);

/*
 * Query path, compact denial (RFC 9824 section 3): the NSEC for a name that
 * does not exist, `lname NSEC \000.lname NXNAME RRSIG NSEC`, and its RRSIG(s)
 * made now, written as records (TYPE .. RDATA, no owner: the caller puts a
 * pointer to the question before each) into out[0..cap). Returns the bytes
 * written and the record count in *count, or 0 when it does not fit or
 * signing failed.
 */
size_t dsec_sign_nxname(const dsec_zone_t *z, const uint8_t *lname, size_t len,
                        uint32_t now, uint8_t *out, size_t cap, uint16_t *count);

/* Online signatures of any one RRset (the _country TXT): only the RRSIG
 * records, by every zone-signing key, written as dsec_sign_nxname writes. */
size_t dsec_sign_online(const dsec_zone_t *z, const dsec_rrset_in_t *in, uint32_t now,
                        uint8_t *out, size_t cap, uint16_t *count);

/* Counters: signatures made since start, by every thread (relaxed). */
uint64_t dsec_signatures_total(void);

#endif
