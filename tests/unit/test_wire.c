/*
 * test_wire.c - the query parser on good and malformed input, cross-checked
 * with ldns: packets ldns builds must parse to what ldns says they hold.
 */
#include <ldns/ldns.h>
#include <stdlib.h>

#include "check.h"
#include "pktbuild.h"
#include "dnsd/query/wire.h"

static pkt_t P;

static wire_parse_t parse(wire_query_t *q)
{
    return wire_parse(P.b, P.n, q);
}

/* ldns builds the query; our parser must agree on every field. */
static void test_ldns_cross_check(void)
{
    static const char *names[] = {"PoOl.NtP.oRg.",        "0.pool.ntp.org.",
                                  "de.pool.ntp.org.",     "_country.pool.ntp.org.",
                                  "a.b.c.d.e.f.example.", "xn--bcher-kva.example."};
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A,   LDNS_RR_TYPE_AAAA,
                                         LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_ANY,
                                         LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_NS};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ldns_rdf *dname = ldns_dname_new_frm_str(names[i]);
        ldns_pkt *pkt = ldns_pkt_query_new(ldns_rdf_clone(dname), types[i],
                                           LDNS_RR_CLASS_IN, LDNS_RD | LDNS_CD);
        uint8_t *wire = NULL;
        size_t len = 0;
        wire_query_t q;

        ldns_pkt_set_id(pkt, (uint16_t)(0x1234 + i));
        if (i % 2) {
            ldns_pkt_set_edns_udp_size(pkt, 4096);
            ldns_pkt_set_edns_do(pkt, true);
        }
        CHECK(ldns_pkt2wire(&wire, pkt, &len) == LDNS_STATUS_OK);
        CHECK_INT_EQ(wire_parse(wire, len, &q), WIRE_PARSE_OK);
        CHECK_INT_EQ(q.id, 0x1234 + i);
        CHECK(q.flags & WIRE_RD);
        CHECK(q.flags & WIRE_CD);
        CHECK_INT_EQ(q.qtype, types[i]);
        CHECK_INT_EQ(q.qclass, LDNS_RR_CLASS_IN);
        CHECK_INT_EQ(q.qname_len, ldns_rdf_size(dname));
        CHECK_INT_EQ(q.labels, ldns_dname_label_count(dname));
        ldns_dname2canonical(dname);
        CHECK(memcmp(q.lname, ldns_rdf_data(dname), q.qname_len) == 0);
        CHECK_INT_EQ(q.edns, i % 2);
        if (i % 2) {
            CHECK_INT_EQ(q.edns_udp, 4096);
            CHECK(q.edns_do);
        }
        free(wire);
        ldns_pkt_free(pkt);
        ldns_rdf_deep_free(dname);
    }
}

static void test_drop_and_notimp(void)
{
    wire_query_t q;
    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 0);
    CHECK_INT_EQ(wire_parse(P.b, 11, &q), WIRE_PARSE_DROP);
    CHECK_INT_EQ(wire_parse(P.b, 0, &q), WIRE_PARSE_DROP);
    P.b[2] |= 0x80; /* QR */
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_DROP);
    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 0);
    P.b[2] = (uint8_t)(2 << 3); /* opcode STATUS */
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_NOTIMP);
    CHECK(q.question_ok);
    pkt_header(&P, 1, 5 << 11, 0, 0, 0, 0); /* UPDATE, no question */
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_NOTIMP);
    CHECK(!q.question_ok);
}

static void test_question_formerr(void)
{
    wire_query_t q;

    pkt_header(&P, 1, 0, 0, 0, 0, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR); /* QDCOUNT 0 */
    pkt_header(&P, 1, 0, 2, 0, 0, 0);
    pkt_name(&P, "a.example");
    pkt_u32(&P, 0x00010001);
    pkt_name(&P, "b.example");
    pkt_u32(&P, 0x00010001);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR); /* QDCOUNT 2 */

    pkt_header(&P, 1, 0, 1, 0, 0, 0);
    pkt_u8(&P, 1), pkt_u8(&P, 'a'), pkt_u16(&P, 0xC00C); /* pointer in the question */
    pkt_u32(&P, 0x00010001);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);
    CHECK(!q.question_ok);

    pkt_header(&P, 1, 0, 1, 0, 0, 0);
    pkt_u8(&P, 0x41); /* extended label type (RFC 6891 obsoleted) */
    pkt_u32(&P, 0x00010001);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    /* 255 bytes is the limit: 4 labels of 62 (+1 length each) + root = 253 fine,
     * add one more 2-byte label -> 256: too long. */
    char name[400];
    memset(name, 'a', sizeof name);
    for (int i = 62; i < 62 * 4 + 4; i += 63)
        name[i] = '.';
    name[62 * 4 + 3] = '\0';
    pkt_query(&P, 1, name, 1, 1, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK_INT_EQ(q.qname_len, 253);
    strcat(name, ".b");
    pkt_query(&P, 1, name, 1, 1, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK_INT_EQ(q.qname_len, 255);
    strcat(name, "c");
    pkt_query(&P, 1, name, 1, 1, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    /* Ends inside the name, inside QTYPE/QCLASS. */
    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 0);
    for (size_t cut = 12; cut < P.n; cut++)
        CHECK_INT_EQ(wire_parse(P.b, cut, &q), WIRE_PARSE_FORMERR);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
}

static void test_records_formerr(void)
{
    wire_query_t q;
    static const uint8_t none[1];

    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 2); /* two OPT records */
    pkt_opt(&P, 1232, 0, 0, none, 0);
    pkt_opt(&P, 1232, 0, 0, none, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);
    CHECK(q.question_ok); /* the question can still be echoed */

    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 1); /* OPT RDLEN past the end */
    pkt_opt(&P, 1232, 0, 0, none, 0);
    P.b[P.n - 1] = 8;
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 1); /* option length past RDATA */
    static const uint8_t bad_opt[] = {0, 10, 0, 9, 1, 2, 3};
    pkt_opt(&P, 1232, 0, 0, bad_opt, sizeof bad_opt);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 1); /* OPT owned by a non-root name */
    pkt_name(&P, "x");
    pkt_u16(&P, 41), pkt_u16(&P, 1232), pkt_u32(&P, 0), pkt_u16(&P, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    pkt_header(&P, 1, 0, 1, 1, 0, 0); /* OPT in the answer section */
    pkt_name(&P, "pool.ntp.org");
    pkt_u32(&P, 0x00010001);
    pkt_opt(&P, 1232, 0, 0, none, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    pkt_query(&P, 1, "pool.ntp.org", 1, 1, 0); /* counts far beyond the packet */
    P.b[10] = 0xFF, P.b[11] = 0xFF;
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);

    /* A well-formed answer record with a compressed owner is skipped fine. */
    pkt_header(&P, 1, 0, 1, 0, 1, 1);
    pkt_name(&P, "pool.ntp.org");
    pkt_u32(&P, 0x00010001);
    pkt_u16(&P, 0xC00C), pkt_u16(&P, 1), pkt_u16(&P, 1), pkt_u32(&P, 60), pkt_u16(&P, 4);
    pkt_u32(&P, 0x7F000001);
    pkt_opt(&P, 4096, 0, 1, none, 0);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK(q.edns && q.edns_do);
}

/* Options: NSID, unknown ones ignored, ECS valid and every malformed kind. */
static void test_options(void)
{
    wire_query_t q;
    pkt_t o;

    o.n = 0;
    pkt_u16(&o, 3), pkt_u16(&o, 0);                     /* NSID */
    pkt_u16(&o, 65001), pkt_u16(&o, 2), pkt_u16(&o, 7); /* unknown */
    pkt_u16(&o, 8), pkt_u16(&o, 7), pkt_u16(&o, 1), pkt_u8(&o, 24), pkt_u8(&o, 0);
    pkt_u8(&o, 192), pkt_u8(&o, 0), pkt_u8(&o, 2);
    pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
    pkt_opt(&P, 100, 1, 0, o.b, o.n);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK(q.nsid);
    CHECK(q.ecs);
    CHECK_INT_EQ(q.ecs_family, 1);
    CHECK_INT_EQ(q.ecs_source, 24);
    CHECK_INT_EQ(q.ecs_addr[0], 192);
    CHECK_INT_EQ(q.ecs_addr[2], 2);
    CHECK_INT_EQ(q.ecs_addr[3], 0);
    CHECK_INT_EQ(q.edns_version, 1);
    CHECK_INT_EQ(q.edns_udp, 100);

    /* IPv6 /56 and source 0 (no address bytes) are valid. */
    o.n = 0;
    pkt_u16(&o, 8), pkt_u16(&o, 11), pkt_u16(&o, 2), pkt_u8(&o, 56), pkt_u8(&o, 0);
    pkt_bytes(&o, "\x20\x01\x0d\xb8\x00\x00\x01", 7);
    pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
    pkt_opt(&P, 1232, 0, 0, o.b, o.n);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK(q.ecs && q.ecs_family == 2 && q.ecs_source == 56 && q.ecs_addr[6] == 1);
    o.n = 0;
    pkt_u16(&o, 8), pkt_u16(&o, 4), pkt_u16(&o, 1), pkt_u8(&o, 0), pkt_u8(&o, 0);
    pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
    pkt_opt(&P, 1232, 0, 0, o.b, o.n);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_OK);
    CHECK(q.ecs && q.ecs_source == 0);

    /* Malformed ECS: family 3; v4 source 33; too many address bytes; too few;
     * bits set past the prefix; a second ECS option. */
    static const uint8_t bad[][12] = {
        {0, 8, 0, 4, 0, 3, 0, 0},
        {0, 8, 0, 9, 0, 1, 33, 0, 1, 2, 3, 4},
        {0, 8, 0, 8, 0, 1, 16, 0, 10, 1, 2, 0},
        {0, 8, 0, 6, 0, 1, 24, 0, 10, 1},
        {0, 8, 0, 7, 0, 1, 23, 0, 10, 1, 3},
    };
    static const size_t bad_len[] = {8, 12, 12, 10, 11};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
        pkt_opt(&P, 1232, 0, 0, bad[i], bad_len[i]);
        CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);
    }
    o.n = 0;
    for (int i = 0; i < 2; i++)
        pkt_u16(&o, 8), pkt_u16(&o, 7), pkt_u16(&o, 1), pkt_u8(&o, 24), pkt_u8(&o, 0),
            pkt_bytes(&o, "\x0a\x01\x02", 3);
    pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
    pkt_opt(&P, 1232, 0, 0, o.b, o.n);
    CHECK_INT_EQ(parse(&q), WIRE_PARSE_FORMERR);
}

/* Random bytes and random corruptions of a good query: any verdict, no crash
 * and nothing read out of bounds (run under ASan in CI). */
static void test_random(void)
{
    wire_query_t q;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        pkt_query(&P, 9, "pool.ntp.org", 1, 1, 1);
        pkt_opt(&P, 1232, 0, 0, (const uint8_t *)"\0\x08\0\x07\0\x01\x18\0\x0a\x01\x02",
                11);
        for (int k = 0; k < 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            P.b[x % P.n] = (uint8_t)(x >> 32);
        }
        size_t len = (x >> 40) % (P.n + 1);
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, P.b, len);
        wire_parse_t r = wire_parse(copy, len, &q);
        CHECK(r <= WIRE_PARSE_NOTIMP);
        free(copy);
    }
}

int main(void)
{
    test_ldns_cross_check();
    test_drop_and_notimp();
    test_question_formerr();
    test_records_formerr();
    test_options();
    test_random();
    return check_summary("test_wire");
}
