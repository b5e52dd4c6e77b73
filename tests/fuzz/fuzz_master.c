/*
 * fuzz_master.c - master files (zones/static.c over ldns's RR reader): each
 * input is written to a file on tmpfs (/dev/shm when present) and loaded for
 * origin pool.test with two vendors; an accepted zone is then looked up at
 * the apex, pool names and every prefix of a few names.
 *
 * Invariants: failure gives a message; success has an apex with SOA and NS,
 * a negative SOA, the origin in lname form, and RRsets whose wire lengths add
 * up record by record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zones/zones.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FM_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_master: invariant broken: %s (line %d)\n", #cond,      \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static char fm_path[64];
static char *fm_vendors[] = {"debian", "ubuntu"};

static void fm_cleanup(void)
{
    unlink(fm_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;
    snprintf(fm_path, sizeof fm_path, "%s/dnsd-fuzz-master-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if ((fd = mkstemp(fm_path)) < 0) {
        perror(fm_path);
        exit(1);
    }
    close(fd);
    atexit(fm_cleanup);
    return 0;
}

/* Each record of a set: TYPE CLASS TTL RDLENGTH RDATA, filling len exactly. */
static void fm_rrset(const zone_rrset_t *rs)
{
    size_t off = 0;
    FM_CHECK(rs->count > 0);
    for (unsigned i = 0; i < rs->count; i++) {
        FM_CHECK(rs->len - off >= 10);
        FM_CHECK((unsigned)(rs->wire[off] << 8 | rs->wire[off + 1]) == rs->type);
        off += 10 + (size_t)(rs->wire[off + 8] << 8 | rs->wire[off + 9]);
        FM_CHECK(off <= rs->len);
    }
    FM_CHECK(off == rs->len);
}

static void fm_lookup(const zone_static_t *z, const char *prefix)
{
    uint8_t name[300];
    size_t olen, n = 0;
    const uint8_t *origin = zone_static_origin(z, &olen);

    for (const char *p = prefix; *p;) { /* "a.b." -> \1a\1b */
        size_t l = strcspn(p, ".");
        name[n++] = (uint8_t)l;
        memcpy(name + n, p, l);
        n += l;
        p += l + (p[l] == '.');
    }
    memcpy(name + n, origin, olen);
    const zone_node_t *node = zone_static_find(z, name, n + olen);
    if (!node)
        return;
    for (unsigned i = 0; i < node->n_rrsets; i++)
        fm_rrset(&node->rrsets[i]);
    FM_CHECK(node->quarter >= -1 && node->quarter <= 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    static const char *names[] = {"",          "0.",   "3.",      "de.",     "2.de.",
                                  "uk.",       "gb.",  "europe.", "debian.", "1.ubuntu.",
                                  "_country.", "www.", "a.b.c.",  "b.c.",    "c.",
                                  "ns1.",      "x.y."};
    char err[ZONE_ERR_MAX];
    FILE *f = fopen(fm_path, "wb");
    if (!f || fwrite(in, 1, len, f) != len || fclose(f) != 0)
        abort();
    err[0] = 0;
    zone_static_t *z =
        zone_static_load("pool.test", fm_path, fm_vendors, 2, err, sizeof err);
    if (!z) {
        FM_CHECK(err[0] && memchr(err, 0, sizeof err));
        return 0;
    }
    size_t olen;
    const uint8_t *origin = zone_static_origin(z, &olen);
    FM_CHECK(olen == 11 && memcmp(origin, "\4pool\4test", 11) == 0);
    const zone_node_t *apex = zone_static_apex(z);
    FM_CHECK(apex && apex->n_rrsets >= 2);
    const zone_rrset_t *soa = zone_static_soa_negative(z);
    FM_CHECK(soa && soa->type == 6 && soa->count == 1);
    fm_rrset(soa);
    FM_CHECK(zone_static_name_count(z) >= 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fm_lookup(z, names[i]);
    zone_static_free(z);
    return 0;
}
