/*
 * dnssec_int.h - what the parts of the signer share (not installed): a small
 * arena for signed bytes, and the helpers that sign one RRset or NSEC with
 * every key of a role.
 */
#ifndef DNSD_DNSSEC_INT_H
#define DNSD_DNSSEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnssec/dnssec.h"

/* Blocks of signed bytes, freed in one go. */
typedef struct dsec_block {
    struct dsec_block *next;
    size_t used, size;
    max_align_t data[];
} dsec_block_t;

typedef struct dsec_arena {
    dsec_block_t *head;
} dsec_arena_t;

void *dsec_arena_alloc(dsec_arena_t *a, size_t n);
void dsec_arena_free(dsec_arena_t *a);

/* RRSIGs of every key of the role (DNSKEY signers or zone signers) over
 * `in`, made at `now`, into the arena as one zone_rrset_t; lowers *expiry to
 * their expiration. */
int dsec_sign_set(const dsec_zone_t *z, dsec_arena_t *a, const dsec_rrset_in_t *in,
                  bool dnskey_role, uint32_t now, zone_rrset_t *out, uint32_t *expiry);

/* The static types of a name, plus RRSIG and NSEC (and DNSKEY, CDS, CDNSKEY
 * at the apex, TXT at _country). */
size_t dsec_node_types(const zone_static_t *stat, const zone_node_t *node, uint16_t *t,
                       size_t cap);

/* The compact-denial NSEC record of `owner` (next name "\000.owner"). */
size_t dsec_nsec_record(const uint8_t *owner, size_t olen, const uint16_t *types,
                        size_t nt, uint32_t ttl, uint8_t *out, size_t cap);

/* That record and its RRSIGs, into the arena. */
int dsec_nsec_signed(const dsec_zone_t *z, dsec_arena_t *a, const uint8_t *owner,
                     size_t olen, const uint16_t *types, size_t nt, uint32_t now,
                     zone_rrset_t *nsec, zone_rrset_t *sig, uint32_t *expiry);

#endif
