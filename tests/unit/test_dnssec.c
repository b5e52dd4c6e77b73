/*
 * test_dnssec.c - the signer: key files as ldns-keygen writes them (and the
 * ways they can be wrong), every RRSIG of a signed zone, the online NXNAME
 * NSEC and a pool answer set verified by ldns (ldns_verify_rrsig_keylist) as
 * an independent validator, and the inclusion rate of every server in signed
 * pool answers against the unsigned selection (fixed seeds).
 */
#include <ldns/ldns.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dnssec/dnssec_pool.h"
#include "zones/balance.h"

static char dir[] = "/tmp/dnsd-test-dnssec-XXXXXX";
static char key13[512], key15[512];

static void write_file(const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* ldns-keygen in dir; returns the private-key path in out. */
static void keygen(const char *alg, const char *origin, bool ksk, char *out, size_t len)
{
    char cmd[800], name[256] = "";
    snprintf(cmd, sizeof cmd, "cd %s && ldns-keygen -a %s %s %s", dir, alg,
             ksk ? "-k" : "", origin);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(name, sizeof name, p) || pclose(p) != 0) {
        fprintf(stderr, "ldns-keygen failed: %s\n", cmd);
        exit(1);
    }
    name[strcspn(name, "\n")] = 0;
    snprintf(out, len, "%s/%s.private", dir, name);
}

static dsec_keys_t *load1(const char *path, char *err, size_t errlen)
{
    char *paths[1] = {(char *)path};
    return dsec_keys_load("pool.test", paths, 1, NULL, 0, err, errlen);
}

static void test_keys(void)
{
    char err[512], pub[600], cmd[4096], other[512];
    dsec_keys_t *ks;

    ks = load1(key13, err, sizeof err);
    CHECK(ks != NULL);
    if (ks) {
        CHECK_INT_EQ(ks->k[0].alg, 13);
        CHECK_INT_EQ(ks->k[0].flags, 257);
        CHECK(ks->k[0].sign_dnskey && ks->k[0].sign_zone); /* a lone KSK is a CSK */
        CHECK_INT_EQ(ks->k[0].tag, ldns_calc_keytag_raw(ks->k[0].rdata, ks->k[0].rdlen));
        dsec_keys_free(ks);
    }
    ks = load1(key15, err, sizeof err);
    CHECK(ks != NULL);
    if (ks) {
        CHECK_INT_EQ(ks->k[0].alg, 15);
        CHECK_INT_EQ(ks->k[0].rdlen, 4 + 32);
        dsec_keys_free(ks);
    }
    /* A KSK and a ZSK share the work. */
    char *both[2] = {key13, other};
    keygen("ECDSAP256SHA256", "pool.test", false, other, sizeof other);
    ks = dsec_keys_load("pool.test", both, 2, NULL, 0, err, sizeof err);
    CHECK(ks != NULL);
    if (ks) {
        CHECK(ks->k[0].sign_dnskey && !ks->k[0].sign_zone);
        CHECK(!ks->k[1].sign_dnskey && ks->k[1].sign_zone);
        dsec_keys_free(ks);
    }
    /* Readable by others: refused. */
    chmod(key13, 0644);
    CHECK(load1(key13, err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "readable by others");
    chmod(key13, 0600);
    /* Missing file, wrong owner, mismatched public key, missing .key. */
    CHECK(load1("/nonexistent/K.private", err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "No such file");
    CHECK(dsec_keys_load("other.test", (char *[]){key13}, 1, NULL, 0, err, sizeof err) ==
          NULL);
    CHECK_STR_HAS(err, "not for other.test");
    snprintf(pub, sizeof pub, "%.*s.key", (int)(strlen(key13) - 8), key13);
    snprintf(cmd, sizeof cmd, "cp %s %s.save && cp %.*s.key %s", pub, pub,
             (int)(strlen(other) - 8), other, pub);
    CHECK(system(cmd) == 0);
    CHECK(load1(key13, err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "does not match");
    unlink(pub);
    CHECK(load1(key13, err, sizeof err) == NULL);
    CHECK_STR_HAS(err, ".key");
    snprintf(cmd, sizeof cmd, "mv %s.save %s", pub, pub);
    CHECK(system(cmd) == 0);
    /* Not a private-key file. */
    write_file("Kbad.private", "Private-key-format: v1.2\nAlgorithm: 8 (RSASHA256)\n");
    snprintf(cmd, sizeof cmd, "%s/Kbad.private", dir);
    chmod(cmd, 0600);
    CHECK(load1(cmd, err, sizeof err) == NULL);
    CHECK_STR_HAS(err, "unsupported algorithm 8");
}

/* zones.h wire records after `owner` -> an ldns RR list. */
static ldns_rr_list *to_list(const uint8_t *owner, size_t olen, const zone_rrset_t *set)
{
    ldns_rr_list *l = ldns_rr_list_new();
    uint8_t buf[70000];
    for (const uint8_t *p = set->wire; p < set->wire + set->len;) {
        size_t rrlen = 10 + ((size_t)p[8] << 8 | p[9]), pos = 0;
        ldns_rr *rr = NULL;
        memcpy(buf, owner, olen);
        memcpy(buf + olen, p, rrlen);
        if (ldns_wire2rr(&rr, buf, olen + rrlen, &pos, LDNS_SECTION_ANSWER) ==
            LDNS_STATUS_OK)
            ldns_rr_list_push_rr(l, rr);
        p += rrlen;
    }
    return l;
}

/* The records of `set` split at the first RRSIG: data, then signatures. */
static ldns_status verify(const uint8_t *owner, size_t olen, const zone_rrset_t *data,
                          const zone_rrset_t *sigs, ldns_rr_list *keys)
{
    ldns_rr_list *d = to_list(owner, olen, data), *s = ldns_rr_list_new(), *good;
    ldns_rr_list *all = sigs ? to_list(owner, olen, sigs) : NULL;
    ldns_status st;
    for (size_t i = ldns_rr_list_rr_count(d); i-- > 0;)
        if (ldns_rr_get_type(ldns_rr_list_rr(d, i)) == LDNS_RR_TYPE_RRSIG)
            ldns_rr_list_push_rr(s, ldns_rr_list_pop_rr(d));
    for (size_t i = 0; all && i < ldns_rr_list_rr_count(all); i++)
        ldns_rr_list_push_rr(s, ldns_rr_clone(ldns_rr_list_rr(all, i)));
    good = ldns_rr_list_new();
    st = ldns_rr_list_rr_count(s) ? LDNS_STATUS_OK : LDNS_STATUS_CRYPTO_NO_RRSIG;
    for (size_t i = 0; st == LDNS_STATUS_OK && i < ldns_rr_list_rr_count(s); i++)
        st = ldns_verify_rrsig_keylist(d, ldns_rr_list_rr(s, i), keys, good);
    ldns_rr_list_deep_free(d);
    ldns_rr_list_deep_free(s);
    ldns_rr_list_deep_free(all);
    ldns_rr_list_free(good);
    return st;
}

static const char *zone_text = "$ORIGIN pool.test.\n$TTL 3600\n"
                               "@ IN SOA NS1 hostmaster 1 3600 600 86400 60\n"
                               "@ NS ns1\n@ NS Ns2.Example.\n@ TXT \"pool test\"\n"
                               "@ MX 10 Mail\nns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\n"
                               "www A 192.0.2.80\nwww A 192.0.2.79\nalias CNAME WWW\n";

static zone_static_t *load_zone(void)
{
    char path[600], err[512];
    write_file("pool.test.zone", zone_text);
    snprintf(path, sizeof path, "%s/pool.test.zone", dir);
    zone_static_t *z = zone_static_load("pool.test", path, NULL, 0, err, sizeof err);
    if (!z)
        fprintf(stderr, "%s\n", err);
    return z;
}

static void test_zone(const char *keypath, bool corrupt)
{
    char err[512];
    zone_static_t *stat = load_zone();
    dsec_params_t params = {14 * 86400, 3600, 7 * 86400, false};
    dsec_keys_t *ks = load1(keypath, err, sizeof err);
    dsec_zone_t *z = stat && ks ? dsec_zone_new(stat, ks, &params, (uint32_t)time(NULL),
                                                err, sizeof err)
                                : NULL;
    ldns_status want = corrupt ? LDNS_STATUS_CRYPTO_BOGUS : LDNS_STATUS_OK;

    CHECK(z != NULL);
    if (!z)
        goto out;
    const dsec_zsigs_t *s = dsec_zone_sigs(z);
    const zone_rrset_t *dnskey, *dsig, *nsec, *nsig;
    size_t olen;
    const uint8_t *origin = zone_static_origin(stat, &olen);
    dnskey = dsec_sigs_apex(s, DSEC_TYPE_DNSKEY, &dsig);
    CHECK(dnskey != NULL);
    ldns_rr_list *keys = to_list(origin, olen, dnskey);
    CHECK_INT_EQ(ldns_rr_list_rr_count(keys), 1);
    CHECK_INT_EQ(verify(origin, olen, dnskey, dsig, keys), LDNS_STATUS_OK);
    if (corrupt) {
        z->params.corrupt = true;
        dsec_zsigs_t *old = NULL;
        z->params.refresh = 30 * 86400; /* force a re-sign, now corrupt */
        CHECK_INT_EQ(dsec_zone_refresh(z, (uint32_t)time(NULL), &old), 1);
        dsec_zsigs_free(old);
        s = dsec_zone_sigs(z);
    }
    const uint8_t *owner;
    size_t len, n_sets = 0;
    const zone_node_t *node;
    for (size_t i = 0; (node = zone_static_name_at(stat, i, &owner, &len)); i++) {
        for (size_t r = 0; r < node->n_rrsets; r++, n_sets++)
            CHECK_INT_EQ(verify(owner, len, &node->rrsets[r],
                                dsec_sigs_rrset(s, node, r, i), keys),
                         want);
        nsec = dsec_sigs_nsec(s, i, &nsig);
        CHECK_INT_EQ(verify(owner, len, nsec, nsig, keys), want);
    }
    CHECK(n_sets >= 8);
    /* The negative SOA: TTL lowered, the signature still good. */
    CHECK_INT_EQ(verify(origin, olen, zone_static_soa_negative(stat),
                        dsec_sigs_soa_negative(s), keys),
                 want);
    /* Online: the NXNAME NSEC of a name that does not exist. */
    static const uint8_t nx[] = "\4nope\4pool\4test";
    uint8_t buf[1024];
    uint16_t count = 0;
    size_t n =
        dsec_sign_nxname(z, nx, sizeof nx, (uint32_t)time(NULL), buf, sizeof buf, &count);
    CHECK(n > 0);
    CHECK_INT_EQ(count, 2);
    zone_rrset_t both = {DSEC_TYPE_NSEC, count, (uint32_t)n, buf};
    CHECK_INT_EQ(verify(nx, sizeof nx, &both, NULL, keys), want);
    ldns_rr_list *l = to_list(nx, sizeof nx, &both);
    char *text = ldns_rr2str(ldns_rr_list_rr(l, 0));
    CHECK_STR_HAS(text, "\\000.nope.pool.test.");
    CHECK_STR_HAS(text, "RRSIG NSEC TYPE128");
    free(text);
    ldns_rr_list_deep_free(l);
    ldns_rr_list_deep_free(keys);
out:
    dsec_zone_free(z);
    zone_static_free(stat);
}

/* Twelve servers in "de" with weights 6..17 (netspeed, full score), and
 * n_us in "us" (10.0.1.i) with weights 14..17. */
static zone_pool_t *make_pool(int n_us)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"serial\": 1, \"servers\": [");
    for (int i = 1; i <= 12 + n_us; i++)
        len += (size_t)snprintf(
            text + len, sizeof text - len,
            "%s{\"ip\": \"10.0.%d.%d\", \"score\": 20, \"netspeed\": %d, "
            "\"zones\": [\"%s\"]}",
            i > 1 ? "," : "", i > 12, i > 12 ? i - 12 : i,
            i > 12 ? (i - 12 + 13) * 1000 : (i + 5) * 1000, i > 12 ? "us" : "de");
    len += (size_t)snprintf(text + len, sizeof text - len, "]}");
    zone_snapshot_t *snap = NULL;
    zone_errors_t errs;
    zone_errors_init(&errs);
    if (zone_snapshot_parse("t", text, len, &snap, &errs) != 0)
        zone_errors_print(&errs, stderr);
    zone_errors_deinit(&errs);
    zone_pool_params_t params = {10, 15};
    return snap ? zone_pool_new(snap, &params) : NULL;
}

/*
 * Inclusion rates: signed answers (a slot's sets redrawn ROUNDS times, QUERIES
 * answers read per round) against 4 M unsigned draws of zone_pool_pick. With
 * 8 x 20,000 independent signed draws the relative standard error of the
 * rarest server's rate (about 0.17) is about 0.55%, so 2% is over 3.5 sigma;
 * the seeds are fixed, so the run is the same every time.
 */
#define ROUNDS 20000
#define QUERIES 16
static void test_inclusion(const char *keypath)
{
    char err[512];
    zone_static_t *stat = load_zone();
    zone_pool_t *pool = make_pool(0);
    dsec_params_t params = {14 * 86400, 3600, 7 * 86400, false};
    dsec_zone_t *z = dsec_zone_new(stat, load1(keypath, err, sizeof err), &params,
                                   (uint32_t)time(NULL), err, sizeof err);
    dsec_pool_opts_t opts = {4, 8, 150, false, NULL, false};
    dsec_pool_t *p =
        z && pool ? dsec_pool_new(z, pool, &opts, (uint32_t)time(NULL), 42) : NULL;
    static const uint8_t de[] = "\2de\4pool\4test";
    double s_count[13] = {0}, u_count[13] = {0}, s_total = 0, u_total = 0;
    zone_rng_t rng;
    dsec_set_t *retired[DSEC_SETS];

    CHECK(p != NULL);
    if (!p)
        goto out;
    const zone_node_t *node = zone_static_find(stat, de, sizeof de);
    size_t idx = zone_static_node_index(stat, node);
    zone_rng_seed(&rng, 7);
    for (int round = 0; round < ROUNDS; round++) {
        for (int q = 0; q < QUERIES; q++) {
            const zone_rrset_t *set = &dsec_pool_answer(p, idx, 4, -1, -1, &rng)->rrs;
            for (const uint8_t *r = set->wire; r < set->wire + set->len;
                 r += 10 + ((size_t)r[8] << 8 | r[9]))
                if (r[1] == 1)
                    s_count[r[13]]++;
            s_total++;
        }
        size_t n = dsec_pool_redraw(p, idx, 4, -1, -1, (uint32_t)time(NULL), retired);
        CHECK_INT_EQ(n, round ? DSEC_SETS : 1); /* a new pool has set 0 only */
        for (size_t i = 0; i < n; i++)
            dsec_set_free(retired[i]);
    }
    /* The unsigned selection, as answer_pick makes it for "de". */
    int walk[3];
    size_t n_walk = zone_walk(zone_id_lookup("de", 2), walk);
    zone_pick_t pick;
    for (int i = 0; i < 4000000; i++) {
        zone_pool_pick(pool, 4, -1, walk, n_walk, 4, &rng, &pick);
        for (size_t k = 0; k < pick.n; k++)
            u_count[pick.srv[k]->addr[3]]++;
        u_total++;
    }
    for (int i = 1; i <= 12; i++) {
        double s = s_count[i] / s_total, u = u_count[i] / u_total;
        if (fabs(s - u) / u > 0.02)
            fprintf(stderr, "server %d: signed %.4f unsigned %.4f\n", i, s, u);
        CHECK(fabs(s - u) / u <= 0.02);
    }
    /* Four distinct servers per set, and the set verifies. */
    const dsec_set_t *ds = dsec_pool_answer(p, idx, 4, -1, -1, &rng);
    const zone_rrset_t *set = &ds->rrs;
    CHECK_INT_EQ(set->count, 5);
    CHECK_INT_EQ(ds->zone, zone_id_lookup("de", 2));
    CHECK(!ds->backfill);
    size_t olen;
    const uint8_t *origin = zone_static_origin(stat, &olen);
    const zone_rrset_t *dsig,
        *dnskey = dsec_sigs_apex(dsec_zone_sigs(z), DSEC_TYPE_DNSKEY, &dsig);
    ldns_rr_list *keys = to_list(origin, olen, dnskey);
    CHECK_INT_EQ(verify(de, sizeof de, set, NULL, keys), LDNS_STATUS_OK);
    ldns_rr_list_deep_free(keys);
    CHECK(dsec_pool_bytes(p) > 0);
out:
    dsec_pool_free(p);
    dsec_zone_free(z);
    zone_pool_free(pool);
    zone_static_free(stat);
}

/* Reads `rounds` x DSEC_SETS signed answers for "de" (each slot redrawn per
 * round) into count[addr[2] * 16 + addr[3]]; returns the share spilled. */
static double signed_draws(dsec_pool_t *p, size_t idx, int rounds, double *count)
{
    dsec_set_t *retired[DSEC_SETS];
    zone_rng_t rng;
    double spilled = 0, total = 0;

    zone_rng_seed(&rng, 11);
    for (int round = 0; round < rounds; round++) {
        size_t n = dsec_pool_redraw(p, idx, 4, -1, -1, (uint32_t)time(NULL), retired);
        for (size_t i = 0; i < n; i++)
            dsec_set_free(retired[i]);
        for (int j = 0; j < DSEC_SETS; j++) {
            const dsec_set_t *ds = dsec_pool_answer(p, idx, 4, -1, -1, &rng);
            for (const uint8_t *r = ds->rrs.wire; r < ds->rrs.wire + ds->rrs.len;
                 r += 10 + ((size_t)r[8] << 8 | r[9]))
                if (r[1] == 1)
                    count[r[12] * 16 + r[13]]++;
            spilled += ds->spilled;
            total++;
        }
    }
    return spilled / total;
}

/*
 * Balancing: with keep fractions that make "de" spill, signed answers spill
 * as unsigned ones do (zone_pool_pick_keep with the same table). 5,000 rounds
 * of 8 sets against 2 M unsigned draws, fixed seeds: the spill share (about
 * 0.34) within 0.015 absolute (over 6 standard errors), each de server's
 * rate within 3% and each us server's (about 0.03 per answer) within 10%
 * relative (over 3 standard errors). And a materially new keep table makes
 * every set stale until one round of refresh redrew them.
 */
static void test_balanced(const char *keypath)
{
    char err[512];
    zone_static_t *stat = load_zone();
    zone_pool_t *pool = make_pool(4);
    dsec_params_t params = {14 * 86400, 3600, 7 * 86400, false};
    dsec_zone_t *z = dsec_zone_new(stat, load1(keypath, err, sizeof err), &params,
                                   (uint32_t)time(NULL), err, sizeof err);
    int de = zone_id_lookup("de", 2), walk[3];
    zone_keep_t keep;
    zone_keep_init(&keep);
    keep.keep[de][0] = 0.9f;
    dsec_pool_opts_t opts = {4, 8, 150, false, &keep, true};
    dsec_pool_t *p =
        z && pool ? dsec_pool_new(z, pool, &opts, (uint32_t)time(NULL), 43) : NULL;
    static const uint8_t dename[] = "\2de\4pool\4test";
    static double s_count[32], u_count[32];
    double u_spilled = 0, u_total = 0;
    zone_rng_t rng;
    zone_pick_t pick;
    zone_pick_info_t info;

    CHECK(p != NULL);
    if (!p)
        goto out;
    size_t idx =
        zone_static_node_index(stat, zone_static_find(stat, dename, sizeof dename));
    double s_spilled = signed_draws(p, idx, 5000, s_count);
    size_t n_walk = zone_walk(de, walk);
    zone_rng_seed(&rng, 13);
    for (int i = 0; i < 2000000; i++, u_total++) {
        zone_pool_pick_keep(pool, 4, -1, walk, n_walk, 4, &keep, &rng, &pick, &info);
        for (size_t k = 0; k < pick.n; k++)
            u_count[pick.srv[k]->addr[2] * 16 + pick.srv[k]->addr[3]]++;
        u_spilled += info.spilled;
    }
    u_spilled /= u_total;
    fprintf(stderr, "spilled: signed %.4f unsigned %.4f\n", s_spilled, u_spilled);
    CHECK(u_spilled > 0.25 && fabs(s_spilled - u_spilled) <= 0.015);
    for (int i = 1; i < 32; i++) {
        double s = s_count[i] / (5000.0 * DSEC_SETS), u = u_count[i] / u_total;
        if (i % 16 == 0 || i % 16 > (i < 16 ? 12 : 4))
            continue;
        double tol = i < 16 ? 0.03 : 0.10;
        if (fabs(s - u) / u > tol)
            fprintf(stderr, "server %d: signed %.4f unsigned %.4f\n", i, s, u);
        CHECK(fabs(s - u) / u <= tol);
    }
    /* A table that moved a keep fraction by 0.02 or less changes nothing. */
    keep.keep[de][0] = 0.89f;
    CHECK(!dsec_pool_set_keep(p, &keep, true));
    CHECK_INT_EQ(dsec_pool_stale(p), 0);
    keep.keep[de][0] = 0.5f;
    CHECK(dsec_pool_set_keep(p, &keep, true));
    CHECK_INT_EQ(dsec_pool_stale(p), dsec_pool_sets(p));
    dsec_set_t **retired = calloc(dsec_pool_sets(p), sizeof *retired);
    size_t n_ret = 0;
    CHECK(retired != NULL);
    if (retired) {
        dsec_pool_refresh(p, dsec_pool_sets(p), (uint32_t)time(NULL), retired, &n_ret);
        for (size_t i = 0; i < n_ret; i++)
            dsec_set_free(retired[i]);
    }
    free(retired);
    CHECK_INT_EQ(dsec_pool_stale(p), 0);
out:
    dsec_pool_free(p);
    dsec_zone_free(z);
    zone_pool_free(pool);
    zone_static_free(stat);
}

/* A P-256 scalar whose first byte is zero: ldns-keygen and dnssec-keygen
 * write the number without leading zeros, so about one key in 256 has a
 * 31-byte PrivateKey (and one in 65,536 a 30-byte one). The .key file is
 * made by ldns from the same private file, as an independent derivation. */
static void test_short_p256_scalar(void)
{
    static const char *const b64[] = {
        /* 0x00 then 31 bytes 0x01..0x1f: 31 bytes */
        "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==",
        /* 0x00 0x00 then 30 bytes 0x02..0x1f: 30 bytes */
        "AgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
    };
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        char text[300], path[600], err[512];
        snprintf(text, sizeof text,
                 "Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n"
                 "PrivateKey: %s\n",
                 b64[i]);
        write_file("Kpool.test.+013+00001.private", text);
        snprintf(path, sizeof path, "%s/Kpool.test.+013+00001.private", dir);
        chmod(path, 0600);

        ldns_key *lk = NULL;
        FILE *f = fopen(path, "r");
        CHECK(f && ldns_key_new_frm_fp(&lk, f) == LDNS_STATUS_OK);
        if (f)
            fclose(f);
        if (!lk)
            continue;
        ldns_key_set_pubkey_owner(lk, ldns_dname_new_frm_str("pool.test."));
        ldns_key_set_flags(lk, 257);
        ldns_rr *rr = ldns_key2rr(lk);
        char *line = rr ? ldns_rr2str(rr) : NULL;
        CHECK(line != NULL);
        if (line)
            write_file("Kpool.test.+013+00001.key", line);
        free(line);
        ldns_rr_free(rr);
        ldns_key_deep_free(lk);

        dsec_keys_t *ks = load1(path, err, sizeof err);
        CHECK(ks != NULL);
        if (!ks)
            fprintf(stderr, "  short scalar %zu: %s\n", i, err);
        dsec_keys_free(ks);
    }
}

int main(void)
{
    char cmd[600];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    keygen("ECDSAP256SHA256", "pool.test", true, key13, sizeof key13);
    keygen("ED25519", "pool.test", true, key15, sizeof key15);
    test_keys();
    test_short_p256_scalar();
    test_zone(key13, false);
    test_zone(key15, false);
    test_zone(key13, true);
    test_inclusion(key13);
    test_balanced(key13);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_summary("test_dnssec");
}
