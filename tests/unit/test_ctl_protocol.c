/*
 * test_ctl_protocol.c - the control protocol library on its own, no peer:
 * frames, the incremental reader (whole and byte by byte), MACs against every
 * way a frame can be forged or replayed, key file rules, payload codecs and
 * JSON. Conversations with a peer and dnsdctl itself are in test_ctl_client.c.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "ctl/ctl.h"
#include "ctl_test.h"

/* Feeds a whole buffer; returns the first non-zero reader result. */
static int feed_all(ctl_reader_t *r, const uint8_t *p, size_t len, ctl_frame_t *f,
                    bool bytewise)
{
    while (len) {
        size_t used;
        int rc = ctl_reader_feed(r, p, bytewise ? 1 : len, &used, f);
        p += used;
        len -= used;
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void test_frames(void)
{
    uint8_t buf[64], hdr[CTL_HEADER_LEN];
    ctl_frame_t f;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        ctl_reader_t r;
        ctl_reader_init(&r, 0, NULL);
        ctl_frame_write_header(buf, CTL_T_STATUS, 5);
        memcpy(buf + 8, "hello", 5);
        ctl_frame_write_header(buf + 13, CTL_T_STATS, 0);
        CHECK_INT_EQ(feed_all(&r, buf, 21, &f, bytewise), 1);
        CHECK_INT_EQ(f.type, CTL_T_STATUS);
        CHECK_INT_EQ(f.len, 5);
        CHECK(memcmp(f.payload, "hello", 5) == 0);
        CHECK(f.mac == NULL);
        CHECK(!ctl_reader_partial(&r));
        /* The rest of the buffer holds the next frame (empty payload). */
        size_t used;
        CHECK_INT_EQ(ctl_reader_feed(&r, buf + 13, 8, &used, &f), 1);
        CHECK_INT_EQ(used, 8);
        CHECK_INT_EQ(f.type, CTL_T_STATS);
        CHECK_INT_EQ(f.len, 0);
        CHECK_INT_EQ(ctl_reader_eof(&r), 0);
        ctl_reader_deinit(&r);
    }
    /* Header layout: magic, version, type, big-endian length. */
    ctl_frame_write_header(hdr, CTL_T_PUSH, 0x01020304);
    CHECK(memcmp(hdr, "DC\x02\x02\x01\x02\x03\x04", 8) == 0);
}

static void test_reader_errors(void)
{
    static const struct {
        const char *bytes;
        size_t len;
        int err;
    } cases[] = {
        {"XC\x02\x03\0\0\0\0", 8, CTL_ERR_MAGIC},
        {"DX\x02\x03\0\0\0\0", 8, CTL_ERR_MAGIC},
        {"DC\x01\x03\0\0\0\0", 8, CTL_ERR_VERSION},      /* version 1: no header MAC */
        {"DC\x02\x0a\0\0\0\0", 8, CTL_ERR_TYPE},         /* past the last request */
        {"DC\x02\x02\x04\0\0\x01", 8, CTL_ERR_OVERSIZE}, /* 64 MiB + 1 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            ctl_reader_t r;
            ctl_frame_t f;
            ctl_reader_init(&r, 0, NULL);
            CHECK_INT_EQ(
                feed_all(&r, (const uint8_t *)cases[i].bytes, cases[i].len, &f, bytewise),
                cases[i].err);
            /* Sticky: the stream stays broken. */
            size_t used;
            CHECK_INT_EQ(ctl_reader_feed(&r, (const uint8_t *)"DC", 2, &used, &f),
                         cases[i].err);
            CHECK(r.buf == NULL); /* oversize refused before allocating */
            ctl_reader_deinit(&r);
        }
    }
    /* A configured cap: 100 bytes pass, 101 do not. */
    ctl_reader_t r;
    ctl_frame_t f;
    uint8_t hdr[8];
    ctl_reader_init(&r, 100, false);
    ctl_frame_write_header(hdr, CTL_T_PUSH, 101);
    CHECK_INT_EQ(feed_all(&r, hdr, 8, &f, false), CTL_ERR_OVERSIZE);
    ctl_reader_deinit(&r);

    /* Truncated: part of a header or its MAC, part of a payload, a missing
     * MAC. The header MAC is a real one: the reader checks it. */
    ctl_key_t k;
    ctl_conn_t sc;
    uint32_t announced;
    key_of(&k, 't');
    CHECK_INT_EQ(ctl_conn_server_init(&sc, &k, true), 0);
    uint8_t frame[CTL_HEAD_MAX + 10 + CTL_MAC_LEN] = {0};
    ctl_frame_write_header(frame, CTL_T_PUSH, 10);
    CHECK_INT_EQ(ctl_head_mac_compute(&k, 'C', sc.nonce, 0, frame, frame + 8), 0);
    size_t cuts[] = {3, 8, 39, 40, 45, 50, 50 + 31};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        ctl_reader_init(&r, 0, &sc);
        CHECK_INT_EQ(feed_all(&r, frame, cuts[i], &f, true), 0);
        CHECK(ctl_reader_partial(&r));
        CHECK_INT_EQ(ctl_reader_announced(&r, &announced), cuts[i] >= CTL_HEAD_MAX);
        CHECK_INT_EQ(ctl_reader_eof(&r), CTL_ERR_TRUNCATED);
        ctl_reader_deinit(&r);
    }
    ctl_reader_init(&r, 0, &sc);
    CHECK_INT_EQ(feed_all(&r, frame, sizeof(frame), &f, true), 1);
    CHECK(f.mac != NULL && f.head_mac != NULL);
    ctl_reader_deinit(&r);

    /* A header MAC that does not verify: refused before any payload buffer
     * exists, whatever length it announces. */
    ctl_frame_write_header(frame, CTL_T_PUSH, 64u << 20);
    ctl_reader_init(&r, 0, &sc);
    CHECK_INT_EQ(feed_all(&r, frame, CTL_HEAD_MAX, &f, true), CTL_ERR_MAC);
    CHECK(r.buf == NULL && !ctl_reader_announced(&r, &announced));
    ctl_reader_deinit(&r);

    /* A budget shared by readers: a frame over what is left is refused, and
     * a reader gives back what it held. */
    ctl_budget_t budget = {0, 150};
    ctl_reader_t r2;
    ctl_reader_init(&r, 0, NULL);
    ctl_reader_init(&r2, 0, NULL);
    ctl_reader_set_budget(&r, &budget);
    ctl_reader_set_budget(&r2, &budget);
    ctl_frame_write_header(hdr, CTL_T_PUSH, 100);
    CHECK_INT_EQ(feed_all(&r, hdr, 8, &f, false), 0);
    CHECK_INT_EQ(budget.used, 100);
    CHECK_INT_EQ(feed_all(&r2, hdr, 8, &f, false), CTL_ERR_BUSY);
    CHECK(r2.buf == NULL && ctl_err_is_fatal(CTL_ERR_BUSY));
    ctl_reader_deinit(&r);
    ctl_reader_deinit(&r2);
    CHECK_INT_EQ(budget.used, 0);

    /* A 10 MB snapshot passes the default cap. */
    size_t big = 10 * 1000 * 1000;
    uint8_t *p = calloc(1, big);
    ctl_frame_write_header(hdr, CTL_T_PUSH, (uint32_t)big);
    ctl_reader_init(&r, 0, NULL);
    CHECK_INT_EQ(feed_all(&r, hdr, 8, &f, false), 0);
    CHECK_INT_EQ(feed_all(&r, p, big, &f, false), 1);
    CHECK_INT_EQ(f.len, big);
    ctl_reader_deinit(&r);
    free(p);
}

static void test_mac(void)
{
    ctl_key_t k, other;
    uint8_t nonce[CTL_NONCE_LEN], nonce2[CTL_NONCE_LEN], hdr[8], mac[CTL_MAC_LEN];
    uint8_t payload[] = "{\"serial\": 1}";
    key_of(&k, 'a');
    key_of(&other, 'b');
    CHECK_INT_EQ(ctl_nonce_new(nonce), 0);
    CHECK_INT_EQ(ctl_nonce_new(nonce2), 0);
    CHECK(memcmp(nonce, nonce2, CTL_NONCE_LEN) != 0);
    ctl_frame_write_header(hdr, CTL_T_PUSH, sizeof(payload));
    CHECK_INT_EQ(ctl_mac_compute(&k, 'C', nonce, 7, hdr, payload, sizeof(payload), mac),
                 0);
    CHECK_INT_EQ(ctl_mac_verify(&k, 'C', nonce, 7, hdr, payload, sizeof(payload), mac),
                 0);
    CHECK_INT_EQ(
        ctl_mac_verify(&other, 'C', nonce, 7, hdr, payload, sizeof(payload), mac),
        CTL_ERR_MAC);
    CHECK_INT_EQ(ctl_mac_verify(&k, 'S', nonce, 7, hdr, payload, sizeof(payload), mac),
                 CTL_ERR_MAC);
    CHECK_INT_EQ(ctl_mac_verify(&k, 'C', nonce, 8, hdr, payload, sizeof(payload), mac),
                 CTL_ERR_MAC); /* replay within a connection */
    CHECK_INT_EQ(ctl_mac_verify(&k, 'C', nonce2, 7, hdr, payload, sizeof(payload), mac),
                 CTL_ERR_MAC); /* frame from another connection */
    payload[3] ^= 1;
    CHECK_INT_EQ(ctl_mac_verify(&k, 'C', nonce, 7, hdr, payload, sizeof(payload), mac),
                 CTL_ERR_MAC);
    payload[3] ^= 1;
    hdr[3] = CTL_T_RELOAD; /* the header is covered too */
    CHECK_INT_EQ(ctl_mac_verify(&k, 'C', nonce, 7, hdr, payload, sizeof(payload), mac),
                 CTL_ERR_MAC);

    /* Connection objects: a sealed frame opens once, not twice. */
    ctl_conn_t srv, cli;
    ctl_frame_t f = {0};
    size_t mac_len;
    CHECK_INT_EQ(ctl_conn_server_init(&srv, &k, true), 0);
    ctl_conn_client_init(&cli, &k);
    uint8_t hello[128];
    int hl = ctl_conn_hello_frame(&srv, "node-1", hello, sizeof(hello));
    CHECK(hl > 0);
    memcpy(f.header, hello, 8);
    f.type = hello[3];
    f.payload = hello + 8;
    f.len = (uint32_t)(hl - 8);
    CHECK_INT_EQ(ctl_conn_open(&cli, &f), 0);
    CHECK(cli.mac);
    CHECK_STR_EQ(cli.identity, "node-1");
    uint8_t head[CTL_HEAD_MAX];
    size_t head_len;
    CHECK_INT_EQ(
        ctl_conn_seal(&cli, CTL_T_STATUS, NULL, 0, head, &head_len, mac, &mac_len), 0);
    CHECK_INT_EQ(mac_len, CTL_MAC_LEN);
    CHECK_INT_EQ(head_len, CTL_HEAD_MAX);
    memcpy(f.header, head, CTL_HEADER_LEN);
    f.type = CTL_T_STATUS;
    f.payload = NULL;
    f.len = 0;
    f.head_mac = head + CTL_HEADER_LEN;
    f.mac = mac;
    CHECK_INT_EQ(ctl_conn_check_head(&srv, f.header, f.head_mac), 0);
    head[CTL_HEADER_LEN] ^= 1; /* a header MAC alone fails the frame */
    CHECK_INT_EQ(ctl_conn_open(&srv, &f), CTL_ERR_MAC);
    head[CTL_HEADER_LEN] ^= 1;
    CHECK_INT_EQ(ctl_conn_open(&srv, &f), 0);
    CHECK_INT_EQ(ctl_conn_open(&srv, &f), CTL_ERR_MAC);
    f.type = CTL_T_OK;
    CHECK_INT_EQ(ctl_conn_open(&srv, &f), CTL_ERR_UNEXPECTED);
}

static void test_keys(void)
{
    char path[128], err[256];
    ctl_key_t k;
    snprintf(path, sizeof(path), "%s/key", tmpdir);
    write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
               0644);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "readable or writable by others");
    chmod(path, 0602);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), -1);
    chmod(path, 0600);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), 0);
    CHECK_INT_EQ(k.len, 64); /* the trailing newline is not part of the key */
    chmod(path, 0640);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), 0);
    write_file(path, "short-key-15byt\n", 0600);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "15 bytes");
    write_file(path, "", 0600);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), -1);
    snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
    CHECK_INT_EQ(ctl_key_load(path, &k, err, sizeof(err)), -1);
    CHECK_STR_HAS(err, "No such file");
}

static void test_payloads(void)
{
    uint8_t nonce[CTL_NONCE_LEN], out[400];
    ctl_hello_t h;
    memset(nonce, 0x5a, sizeof(nonce));
    int n = ctl_hello_encode(nonce, CTL_HELLO_MAC_REQUIRED, "fra-1", out, sizeof(out));
    CHECK_INT_EQ(n, CTL_NONCE_LEN + 1 + 5);
    CHECK_INT_EQ(ctl_hello_decode(out, (size_t)n, &h), 0);
    CHECK(memcmp(h.nonce, nonce, CTL_NONCE_LEN) == 0);
    CHECK_INT_EQ(h.flags, CTL_HELLO_MAC_REQUIRED);
    CHECK_STR_EQ(h.identity, "fra-1");
    CHECK_INT_EQ(ctl_hello_decode(out, CTL_NONCE_LEN, &h), CTL_ERR_PAYLOAD);

    const uint8_t snap[] = "{\"serial\": 3}";
    size_t len;
    ctl_push_t p;
    uint8_t *enc =
        ctl_push_encode(CTL_PUSH_FORCE, "pool.ntp.org", snap, sizeof(snap) - 1, &len);
    CHECK(enc != NULL);
    CHECK_INT_EQ(len, 2 + 12 + sizeof(snap) - 1);
    CHECK_INT_EQ(ctl_push_decode(enc, len, &p), 0);
    CHECK_INT_EQ(p.flags, CTL_PUSH_FORCE);
    CHECK_STR_EQ(p.origin, "pool.ntp.org");
    CHECK_INT_EQ(p.snap_len, sizeof(snap) - 1);
    CHECK(memcmp(p.snap, snap, p.snap_len) == 0);
    CHECK_INT_EQ(ctl_push_decode(enc, 10, &p), CTL_ERR_PAYLOAD); /* origin cut short */
    free(enc);
    enc = ctl_push_encode(0, NULL, snap, sizeof(snap) - 1, &len);
    CHECK_INT_EQ(ctl_push_decode(enc, len, &p), 0);
    CHECK_STR_EQ(p.origin, "");
    CHECK_INT_EQ(p.flags, 0);
    free(enc);
}

static void test_json(void)
{
    const char *t =
        "{\"origin\": \"pool.ntp.org\", \"old_serial\": null, \"new_serial\": "
        "2026112401, \"build_ms\": 1.5, \"zones\": [{\"serial\": 18446744073709551615}],"
        " \"s\": \"a\\\"b\\u00e9\\n\"}";
    ctl_jval_t *v = ctl_json_parse(t, strlen(t));
    uint64_t s = 0;
    CHECK(v != NULL);
    CHECK_INT_EQ(ctl_json_get(v, "old_serial")->type, CTL_J_NULL);
    CHECK_INT_EQ(ctl_json_u64(ctl_json_get(v, "old_serial"), &s), -1);
    CHECK_INT_EQ(ctl_json_u64(ctl_json_get(v, "new_serial"), &s), 0);
    CHECK_INT_EQ(s, 2026112401);
    CHECK_INT_EQ(
        ctl_json_u64(ctl_json_get(&ctl_json_get(v, "zones")->items[0], "serial"), &s), 0);
    CHECK(s == UINT64_MAX);
    CHECK_STR_EQ(ctl_json_get(v, "s")->str, "a\"b\xc3\xa9\n");
    CHECK(ctl_json_get(v, "nope") == NULL);
    ctl_json_free(v);
    const char *bad[] = {"",    "{", "{\"a\" 1}", "[1,]", "\"abc", "{\"a\": 1} x",
                         "nul", "-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(ctl_json_parse(bad[i], strlen(bad[i])) == NULL);

    const char *details[] = {"snap.json:3:9: servers[0].ip: bad \"x\"", "tab\there"};
    char *e = ctl_error_json("invalid snapshot", details, 2);
    v = ctl_json_parse(e, strlen(e));
    CHECK(v != NULL);
    CHECK_STR_EQ(ctl_json_get(v, "error")->str, "invalid snapshot");
    CHECK_INT_EQ(ctl_json_get(v, "details")->n, 2);
    CHECK_STR_EQ(ctl_json_get(v, "details")->items[0].str, details[0]);
    CHECK_STR_EQ(ctl_json_get(v, "details")->items[1].str, details[1]);
    ctl_json_free(v);
    free(e);
}

int main(void)
{
    if (ctl_test_tmpdir_new("test_ctl_protocol") < 0)
        return 1;
    test_frames();
    test_reader_errors();
    test_mac();
    test_keys();
    test_payloads();
    test_json();
    ctl_test_tmpdir_remove();
    return check_summary("test_ctl_protocol");
}
