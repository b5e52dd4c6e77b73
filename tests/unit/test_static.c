/*
 * test_static.c - static records and the name table: master files written to a
 * temporary directory (and the shipped ones) loaded for real, names looked up,
 * wire bytes compared with bytes built by hand and with ldns decoding them.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "check.h"
#include "zones/zones.h"

static char tmpdir[] = "/tmp/test_static.XXXXXX";
static char *vendors[] = {"debian", "Android"};
static int file_no;

/* Writes a master file and returns its path (static storage, one per call). */
static const char *write_zone(const char *text)
{
    static char paths[64][256];
    char *p = paths[file_no % 64];
    snprintf(p, sizeof paths[0], "%s/z%d.zone", tmpdir, file_no++);
    FILE *f = fopen(p, "w");
    if (!f)
        return p;
    fputs(text, f);
    fclose(f);
    return p;
}

/* Text name -> lname as the query path gives it: wire form, lower case. */
static size_t lname(const char *name, uint8_t *out)
{
    size_t n = 0;
    while (*name) {
        size_t l = strcspn(name, ".");
        out[n++] = (uint8_t)l;
        for (size_t i = 0; i < l; i++) {
            char c = name[i];
            out[n++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        name += l + (name[l] == '.');
    }
    out[n++] = 0;
    return n;
}

static const zone_node_t *find(const zone_static_t *z, const char *name)
{
    uint8_t b[256];
    size_t n = lname(name, b);
    return zone_static_find(z, b, n);
}

static const zone_rrset_t *rrset(const zone_node_t *node, uint16_t type)
{
    for (uint16_t i = 0; node && i < node->n_rrsets; i++)
        if (node->rrsets[i].type == type)
            return &node->rrsets[i];
    return NULL;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define HEAD "$ORIGIN pool.test.\n$TTL 3600\n"
#define SOA "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
#define NS "@ IN NS ns1\n"
#define GOOD HEAD SOA NS

static const char good_zone[] =
    HEAD "@ IN SOA ns1 hostmaster ( 2026112401 3600 600\n"
         "        86400 60 )\n"
         "  IN NS ns1\n"
         "  IN TXT \"apex text\"\n"
         "  IN MX 10 Mail.Example.NET.\n"
         "@ IN NS NS1.pool.test.\n" /* a duplicate of the first NS, case aside */
         "  IN NS ns2\n"            /* the NS set again, not adjacent */
         "ns1 IN A 192.0.2.53\n"
         "www 300 IN A 192.0.2.1\n"
         "www 120 IN A 192.0.2.2\n" /* the set's TTL becomes 120 */
         "www 300 IN A 192.0.2.1\n" /* a duplicate */
         "de IN TXT \"static next to the pool\"\n"
         "a.b.c IN TXT \"deep\"\n"
         "x.1.gb IN TXT \"below a pool name\"\n";

static void test_good(void)
{
    char err[ZONE_ERR_MAX] = "";
    const zone_static_t *z;
    zone_static_t *zz =
        zone_static_load("Pool.Test", write_zone(good_zone), vendors, 2, err, sizeof err);
    const zone_node_t *n;
    size_t len;

    CHECK_STR_EQ(err, "");
    CHECK(zz != NULL);
    if (!zz)
        return;
    z = zz;
    uint8_t want[32];
    size_t wl = lname("pool.test", want);
    const uint8_t *o = zone_static_origin(z, &len);
    CHECK_INT_EQ(len, wl);
    CHECK(memcmp(o, want, wl) == 0);

    /* The apex: a GEO pool name with SOA, NS, TXT, MX in order of appearance. */
    n = find(z, "pool.test");
    CHECK(n == zone_static_apex(z));
    CHECK_INT_EQ(n->pool_kind, ZONE_POOL_GEO);
    CHECK_INT_EQ(n->quarter, -1);
    CHECK_INT_EQ(n->pool_zone, -1);
    CHECK_INT_EQ(n->n_rrsets, 4);
    CHECK_INT_EQ(n->rrsets[0].type, LDNS_RR_TYPE_SOA);
    CHECK_INT_EQ(n->rrsets[1].type, LDNS_RR_TYPE_NS);
    CHECK_INT_EQ(n->rrsets[2].type, LDNS_RR_TYPE_TXT);
    CHECK_INT_EQ(n->rrsets[3].type, LDNS_RR_TYPE_MX);
    CHECK_INT_EQ(rrset(n, LDNS_RR_TYPE_NS)->count, 2); /* ns1 (twice) and ns2 */

    /* Numbered apex names, zones, the gb alias, vendors, _country. */
    for (int q = 0; q < 4; q++) {
        char s[64];
        snprintf(s, sizeof s, "%d.pool.test", q);
        n = find(z, s);
        CHECK(n && n->pool_kind == ZONE_POOL_GEO && n->quarter == q &&
              n->pool_zone == -1);
        snprintf(s, sizeof s, "%d.gb.pool.test", q);
        n = find(z, s);
        CHECK(n && n->pool_kind == ZONE_POOL_FIXED && n->quarter == q);
        CHECK(n && n->pool_zone == zone_id_lookup("uk", 2));
        snprintf(s, sizeof s, "%d.android.pool.test", q);
        n = find(z, s);
        CHECK(n && n->pool_kind == ZONE_POOL_GEO && n->quarter == q &&
              n->pool_zone == -1);
    }
    n = find(z, "de.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_FIXED && n->quarter == -1);
    CHECK(n && n->pool_zone == zone_id_lookup("de", 2));
    CHECK(n && n->n_rrsets == 1 && n->rrsets[0].type == LDNS_RR_TYPE_TXT);
    n = find(z, "2.north-america.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_FIXED && n->quarter == 2);
    CHECK(n && n->pool_zone == ZONE_NORTH_AMERICA);
    n = find(z, "europe.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_FIXED && n->pool_zone == ZONE_EUROPE);
    n = find(z, "gb.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_FIXED &&
          n->pool_zone == zone_id_lookup("uk", 2));
    n = find(z, "uk.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_FIXED &&
          n->pool_zone == zone_id_lookup("uk", 2));
    n = find(z, "debian.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_GEO && n->quarter == -1 && n->n_rrsets == 0);
    n = find(z, "_country.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_COUNTRY_TXT && n->n_rrsets == 0);

    /* NTS SRV names: by place at the apex, fixed under every zone name (gb as
     * uk), none under vendors or numbered names; _tcp above them is empty. */
    n = find(z, "_ntske._tcp.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NTS_GEO && n->pool_zone == -1 &&
          n->quarter == -1 && n->n_rrsets == 0);
    n = find(z, "_ntske._tcp.de.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NTS_FIXED &&
          n->pool_zone == zone_id_lookup("de", 2) && n->quarter == -1);
    n = find(z, "_ntske._tcp.gb.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NTS_FIXED &&
          n->pool_zone == zone_id_lookup("uk", 2));
    n = find(z, "_ntske._tcp.north-america.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NTS_FIXED && n->pool_zone == ZONE_NORTH_AMERICA);
    n = find(z, "_tcp.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NONE && n->n_rrsets == 0);
    n = find(z, "_tcp.europe.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NONE);
    CHECK(find(z, "_ntske._tcp.debian.pool.test") == NULL);
    CHECK(find(z, "_ntske._tcp.2.pool.test") == NULL);
    CHECK(find(z, "_ntske._udp.pool.test") == NULL);

    /* Static names, and the empty non-terminals above them (RFC 8020). */
    n = find(z, "www.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NONE && n->quarter == -1 && n->pool_zone == -1);
    CHECK(n && n->n_rrsets == 1);
    n = find(z, "b.c.pool.test");
    CHECK(n && n->n_rrsets == 0 && n->pool_kind == ZONE_POOL_NONE);
    CHECK(find(z, "c.pool.test") != NULL);
    CHECK(find(z, "a.b.c.pool.test") != NULL);
    n = find(z, "x.1.gb.pool.test");
    CHECK(n && n->pool_kind == ZONE_POOL_NONE && n->n_rrsets == 1);

    /* Names that do not exist: NXDOMAIN. */
    CHECK(find(z, "nope.pool.test") == NULL);
    CHECK(find(z, "4.pool.test") == NULL);
    CHECK(find(z, "0.0.pool.test") == NULL);
    CHECK(find(z, "0.www.pool.test") == NULL);
    CHECK(find(z, "0.xx.pool.test") == NULL);
    CHECK(find(z, "a.c.pool.test") == NULL);
    CHECK(find(z, "de.pool.other") == NULL);
    CHECK(find(z, "pool") == NULL);
    CHECK(zone_static_find(z, (const uint8_t *)"", 0) == NULL);

    /* Lookup is exact on the lname: callers lower-case. */
    uint8_t up[64] = "\x03WWW\x04pool\x04test";
    CHECK(zone_static_find(z, up, 15) == NULL);
    up[1] = 'w', up[2] = 'w', up[3] = 'w';
    CHECK(zone_static_find(z, up, 15) == find(z, "www.pool.test"));
    CHECK(zone_static_find(z, up, 14) == NULL);

    /* Every pool name, the 5 static owners (apex aside) and 2 non-terminals;
     * the apex, each zone and gb also have _ntske._tcp and _tcp above it. */
    size_t pool = 5 * (size_t)(1 + (zone_id_count() - 1) + 1 + 2) + 1 +
                  2 * (size_t)(zone_id_count() + 1);
    CHECK_INT_EQ(zone_static_name_count(z), pool + 3 + 2 + 1);
    zone_static_free(zz);
}

/* A and MX RRsets against bytes written by hand (RFC 1035 section 3.2.1). */
static void test_wire(void)
{
    char err[ZONE_ERR_MAX] = "";
    zone_static_t *z =
        zone_static_load("pool.test", write_zone(good_zone), NULL, 0, err, sizeof err);
    CHECK(z != NULL);
    if (!z)
        return;
    static const uint8_t a_set[] = {
        0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 1,
        0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 2,
    };
    const zone_rrset_t *s = rrset(find(z, "www.pool.test"), LDNS_RR_TYPE_A);
    CHECK(s && s->count == 2 && s->len == sizeof a_set);
    CHECK(s && s->len == sizeof a_set && memcmp(s->wire, a_set, sizeof a_set) == 0);

    static const uint8_t mx_set[] = {
        0,   15,  0, 1,   0,   0,   0x0e, 0x10, 0,   20,  0, 10,  4,   'M', 'a',
        'i', 'l', 7, 'E', 'x', 'a', 'm',  'p',  'l', 'e', 3, 'N', 'E', 'T', 0,
    };
    s = rrset(zone_static_apex(z), LDNS_RR_TYPE_MX);
    CHECK(s && s->count == 1 && s->len == sizeof mx_set);
    CHECK(s && s->len == sizeof mx_set && memcmp(s->wire, mx_set, sizeof mx_set) == 0);

    /* The SOA for negative answers: TTL min(3600, MINIMUM 60) = 60 (RFC 2308). */
    const zone_rrset_t *soa = rrset(zone_static_apex(z), LDNS_RR_TYPE_SOA);
    const zone_rrset_t *neg = zone_static_soa_negative(z);
    CHECK(soa && soa->count == 1 && get32(soa->wire + 4) == 3600);
    CHECK(neg->type == LDNS_RR_TYPE_SOA && neg->count == 1 && neg->len == soa->len);
    CHECK_INT_EQ(get32(neg->wire + 4), 60);
    CHECK(memcmp(neg->wire + 8, soa->wire + 8, soa->len - 8) == 0);
    CHECK_INT_EQ(get32(soa->wire + soa->len - 4), 60);
    zone_static_free(z);

    /* SOA TTL below MINIMUM: the TTL stays. */
    z = zone_static_load("pool.test",
                         write_zone(HEAD "@ 30 IN SOA ns1 h 1 2 3 4 300\n" NS), NULL, 0,
                         err, sizeof err);
    CHECK(z != NULL);
    if (z)
        CHECK_INT_EQ(get32(zone_static_soa_negative(z)->wire + 4), 30);
    zone_static_free(z);
    zone_static_free(NULL);
}

/* Loads `text` and expects an error "PATH:LINE: ... what ...". */
static void expect_error(const char *text, int line, const char *what, char **vend,
                         size_t n_vend)
{
    char err[ZONE_ERR_MAX] = "", prefix[300];
    const char *path = write_zone(text);
    zone_static_t *z = zone_static_load("pool.test", path, vend, n_vend, err, sizeof err);

    CHECK(z == NULL);
    zone_static_free(z);
    if (line > 0) {
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fprintf(stderr, "  wanted prefix \"%s\" in \"%s\"\n", prefix, err);
    }
    CHECK_STR_HAS(err, what);
    CHECK(strchr(err, '\n') == NULL);
}

static void test_errors(void)
{
    char *v[] = {"debian"};

    expect_error(GOOD "www IN A 192.0.2\n", 5,
                 ldns_get_errorstr_by_id(LDNS_STATUS_SYNTAX_RDATA_ERR), NULL, 0);
    expect_error(GOOD "www IN A 192.0.2", 5, "could not parse", NULL, 0); /* no newline */
    expect_error(GOOD "; c\n\nwww IN BOGUS 1\n", 7, "Syntax error", NULL, 0);
    expect_error(GOOD "www.example.org. IN A 192.0.2.1\n", 5,
                 "owner is outside the origin", NULL, 0);
    expect_error(GOOD "$ORIGIN test.\nwww IN A 192.0.2.1\n", 6,
                 "www.test. A: owner is outside", NULL, 0);
    expect_error(HEAD NS "www IN A 192.0.2.1\n", 4, "no SOA record at the apex", NULL, 0);
    expect_error(HEAD SOA "www IN A 192.0.2.1\n", 4, "no NS record at the apex", NULL, 0);
    expect_error(GOOD "@ IN SOA ns2 h 2 3600 600 86400 60\n", 5, "more than one SOA",
                 NULL, 0);
    expect_error(GOOD "sub IN SOA ns1 h 1 3600 600 86400 60\n", 5,
                 "SOA record not at the apex", NULL, 0);
    expect_error(GOOD "*.www IN A 192.0.2.1\n", 5,
                 "wildcard owner names are not supported", NULL, 0);
    expect_error(GOOD "*.de IN TXT x\n", 5, "wildcard", NULL, 0);
    expect_error(GOOD "sub IN NS ns1.example.org.\n", 5, "delegations are not supported",
                 NULL, 0);
    expect_error(GOOD "@ IN A 192.0.2.1\n", 5,
                 "pool.test. A: A, AAAA or CNAME record at a pool", NULL, 0);
    expect_error(GOOD "2 IN AAAA 2001:db8::1\n", 5, "at a pool name", NULL, 0);
    expect_error(GOOD "de IN A 192.0.2.1\n", 5, "at a pool name", NULL, 0);
    expect_error(GOOD "3.Europe IN A 192.0.2.1\n", 5, "at a pool name", NULL, 0);
    expect_error(GOOD "gb IN AAAA 2001:db8::1\n", 5, "at a pool name", NULL, 0);
    expect_error(GOOD "1.debian IN A 192.0.2.1\n", 5, "at a pool name", v, 1);
    expect_error(GOOD "ntp IN CNAME pool.test.\nntp IN TXT x\n", 6,
                 "CNAME and other data", NULL, 0);
    expect_error(GOOD "_country IN TXT \"mine\"\n", 5, "no records allowed at _country",
                 NULL, 0);
    expect_error(GOOD "_ntske._tcp IN SRV 0 1 4460 nts.example.\n", 5,
                 "SRV record at an NTS name", NULL, 0);
    expect_error(GOOD "_ntske._tcp.de IN SRV 0 1 4460 nts.example.\n", 5,
                 "SRV record at an NTS name", NULL, 0);
    expect_error(GOOD "_ntske._tcp.de IN CNAME nts.example.\n", 5, "at a pool name", NULL,
                 0);
    expect_error(GOOD "www CH TXT \"x\"\n", 5, "only class IN is supported", NULL, 0);
    expect_error(GOOD "$INCLUDE other.zone\n", 5, "$INCLUDE is not supported", NULL, 0);

    /* Vendors are checked before the file is read; their messages name them. */
    char *bad[][1] = {{"a.b"}, {"de"}, {"GB"},       {"2"},
                      {""},    {"-x"}, {"_country"}, {"europe"}};
    const char *why[] = {"not a single DNS label",     "clashes with the zone name",
                         "clashes with the zone name", "clashes with the numbered name",
                         "not a single DNS label",     "not a single DNS label",
                         "not a single DNS label",     "clashes with the zone name"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[80];
        snprintf(msg, sizeof msg, "vendor \"%s\": %s", bad[i][0], why[i]);
        expect_error(GOOD, 0, msg, bad[i], 1);
    }

    char err[ZONE_ERR_MAX];
    CHECK(zone_static_load("pool.test", "/nonexistent/x.zone", NULL, 0, err,
                           sizeof err) == NULL);
    CHECK_STR_HAS(err, "/nonexistent/x.zone: ");
    CHECK(zone_static_load("pool..test", write_zone(GOOD), NULL, 0, err, sizeof err) ==
          NULL);
    CHECK_STR_HAS(err, "origin \"pool..test\"");
}

/* The shipped default master file loads and has what the README promises. */
static void test_shipped(void)
{
    const char *src = getenv("DNSD_SOURCE_DIR");
    char path[1024], err[ZONE_ERR_MAX] = "";
    char *v[] = {"debian", "ubuntu", "centos", "android"};

    snprintf(path, sizeof path, "%s/config/pool.ntp.org.zone", src ? src : "..");
    zone_static_t *z = zone_static_load("pool.ntp.org", path, v, 4, err, sizeof err);
    CHECK_STR_EQ(err, "");
    CHECK(z != NULL);
    if (!z)
        return;
    const zone_node_t *apex = zone_static_apex(z);
    CHECK(rrset(apex, LDNS_RR_TYPE_SOA) && rrset(apex, LDNS_RR_TYPE_SOA)->count == 1);
    CHECK(rrset(apex, LDNS_RR_TYPE_NS) && rrset(apex, LDNS_RR_TYPE_NS)->count == 3);
    CHECK(rrset(apex, LDNS_RR_TYPE_TXT) != NULL);
    CHECK_INT_EQ(get32(zone_static_soa_negative(z)->wire + 4), 60);
    CHECK(rrset(find(z, "ns1.pool.ntp.org"), LDNS_RR_TYPE_A) != NULL);
    CHECK(rrset(find(z, "ns3.pool.ntp.org"), LDNS_RR_TYPE_AAAA) != NULL);
    CHECK(find(z, "www.pool.ntp.org") != NULL);
    CHECK(find(z, "2.ubuntu.pool.ntp.org") != NULL);
    CHECK(find(z, "0.de.pool.ntp.org") != NULL);
    zone_static_free(z);
}

/* Does one record of `set`, decoded by ldns after `owner`, print as `want`? */
static bool decoded_has(const zone_rrset_t *set, const ldns_rdf *owner, const char *want)
{
    uint8_t buf[70000];
    size_t on = ldns_rdf_size(owner), off = 0;
    bool found = false;

    memcpy(buf, ldns_rdf_data(owner), on);
    for (uint16_t i = 0; i < set->count; i++) {
        size_t rl = 10u + (size_t)(set->wire[off + 8] << 8 | set->wire[off + 9]), pos = 0;
        ldns_rr *rr = NULL;

        CHECK(off + rl <= set->len);
        if (off + rl > set->len)
            return false;
        memcpy(buf + on, set->wire + off, rl);
        CHECK_INT_EQ(ldns_wire2rr(&rr, buf, on + rl, &pos, LDNS_SECTION_ANSWER),
                     LDNS_STATUS_OK);
        CHECK_INT_EQ(pos, on + rl);
        char *got = rr ? ldns_rr2str(rr) : NULL;
        found |= got && strcmp(got, want) == 0;
        free(got);
        ldns_rr_free(rr);
        off += rl;
    }
    CHECK_INT_EQ(off, set->len);
    return found;
}

/* Independent decoder check: every record ldns reads from the file is in the
 * wire form we built, byte for byte as ldns prints it (case kept), and the
 * RRsets hold nothing else. */
static void test_ldns_crosscheck(void)
{
    const char *src = getenv("DNSD_SOURCE_DIR");
    char path[1024], err[ZONE_ERR_MAX] = "";
    const zone_rrset_t *seen[64];
    size_t n_seen = 0, in_sets = 0;
    ldns_zone *lz = NULL;
    int line = 0;

    snprintf(path, sizeof path, "%s/tests/data/zones/types.zone", src ? src : "..");
    zone_static_t *z = zone_static_load("pool.test", path, vendors, 2, err, sizeof err);
    FILE *f = fopen(path, "r");
    CHECK_STR_EQ(err, "");
    CHECK(f != NULL);
    if (!z || !f)
        goto out;
    CHECK_INT_EQ(ldns_zone_new_frm_fp_l(&lz, f, NULL, 0, LDNS_RR_CLASS_IN, &line),
                 LDNS_STATUS_OK);
    if (!lz)
        goto out;
    ldns_rr_list *all = ldns_zone_rrs(lz);
    ldns_rr_list_push_rr(all, ldns_rr_clone(ldns_zone_soa(lz)));
    CHECK(ldns_rr_list_rr_count(all) >= 18);
    for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
        ldns_rr *rr = ldns_rr_list_rr(all, i);
        char *want = ldns_rr2str(rr), *owner = ldns_rdf2str(ldns_rr_owner(rr));
        const zone_rrset_t *set = rrset(find(z, owner), ldns_rr_get_type(rr));
        CHECK(set != NULL);
        if (set && !decoded_has(set, ldns_rr_owner(rr), want)) {
            check_failures++;
            fprintf(stderr, "%s:%d: not in the wire form: %s", __FILE__, __LINE__, want);
        }
        size_t k = 0;
        while (k < n_seen && seen[k] != set)
            k++;
        if (set && k == n_seen && n_seen < 64) {
            seen[n_seen++] = set;
            in_sets += set->count;
        }
        free(want);
        free(owner);
    }
    CHECK_INT_EQ(in_sets, ldns_rr_list_rr_count(all));
out:
    if (f)
        fclose(f);
    if (lz)
        ldns_zone_deep_free(lz);
    zone_static_free(z);
}

/* A bigger zone: many names and records, every one found again. */
static void test_many(void)
{
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), err[ZONE_ERR_MAX] = "";
    if (!text)
        return;
    len += (size_t)snprintf(text + len, cap - len, "%s", GOOD);
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(text + len, cap - len, "h%d.s%d IN A 192.0.2.%d\n", i,
                                i % 50, i % 256);
    zone_static_t *z =
        zone_static_load("pool.test", write_zone(text), NULL, 0, err, sizeof err);
    CHECK_STR_EQ(err, "");
    CHECK(z != NULL);
    if (z) {
        int missing = 0;
        for (int i = 0; i < 5000; i++) {
            char s[64];
            snprintf(s, sizeof s, "h%d.s%d.pool.test", i, i % 50);
            const zone_rrset_t *set = rrset(find(z, s), LDNS_RR_TYPE_A);
            missing += !set || set->count != 1 || set->wire[13] != i % 256;
        }
        CHECK_INT_EQ(missing, 0);
        CHECK(find(z, "s49.pool.test") != NULL);
        CHECK(find(z, "s50.pool.test") == NULL);
        CHECK_INT_EQ(zone_static_name_count(z),
                     7 * (size_t)(zone_id_count() + 1) + 1 + 5000 + 50);
    }
    zone_static_free(z);
    free(text);
}

static void cleanup(void)
{
    char p[300];
    for (int i = 0; i < file_no; i++) {
        snprintf(p, sizeof p, "%s/z%d.zone", tmpdir, i);
        unlink(p);
    }
    rmdir(tmpdir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_good();
    test_wire();
    test_errors();
    test_shipped();
    test_ldns_crosscheck();
    test_many();
    cleanup();
    return check_summary("test_static");
}
