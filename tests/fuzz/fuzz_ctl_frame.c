/*
 * fuzz_ctl_frame.c - the control protocol's receiving side (ctl/): the
 * incremental frame reader fed a byte stream in two pieces (it checks header
 * MACs itself, with the connection it is given), and for every frame it
 * yields: the connection check (ctl_conn_open, as server or client with a
 * fixed key and nonce), MAC verification, the HELLO and PUSH payload
 * decoders, and the JSON parser; the JSON parser and quoter also get the raw
 * stream directly.
 *
 * Input: byte 0 chooses where the stream is split, byte 1 the mode (bit 0: MAC
 * from the start, bit 1: client side, bits 2-3: payload cap, bit 4: a buffer
 * budget of 1 KiB), the rest is the stream. Invariants abort(): frame fields
 * against the reader's settings, a frame with MACs has a header MAC that
 * verifies, the budget is never overdrawn and is whole again after deinit,
 * encode(decode(x)) == x for HELLO and PUSH, a computed MAC verifies, quoted
 * strings parse back to themselves, errors are sticky, EOF agrees with
 * ctl_reader_partial().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FC_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_ctl_frame: invariant broken: %s (line %d)\n", #cond,   \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static const ctl_key_t fc_key = {.bytes = "fuzz-key-0123456789abcdef", .len = 25};
static const uint32_t fc_caps[4] = {4096, 65536, 0, 16}; /* 0: the default cap */

/* Walks a parsed value: lookups and integer reads on every node. */
static void fc_jwalk(const ctl_jval_t *v, unsigned depth)
{
    uint64_t u;
    FC_CHECK(depth <= 65);
    (void)ctl_json_u64(v, &u);
    if (v->type == CTL_J_STR)
        FC_CHECK(v->str != NULL);
    if (v->type == CTL_J_OBJ)
        for (size_t i = 0; i < v->n; i++)
            FC_CHECK(ctl_json_get(v, v->keys[i]) != NULL);
    if (v->type == CTL_J_ARR || v->type == CTL_J_OBJ)
        for (size_t i = 0; i < v->n; i++)
            fc_jwalk(&v->items[i], depth + 1);
}

static void fc_json(const uint8_t *p, size_t len)
{
    ctl_jval_t *v = ctl_json_parse((const char *)p, len);
    if (v) {
        fc_jwalk(v, 0);
        ctl_json_free(v);
    }
    /* Quote the text up to its first NUL; it must parse back to itself, also
     * inside an error reply. */
    size_t slen = strnlen((const char *)p, len);
    char *s = malloc(slen + 1);
    if (!s)
        abort();
    memcpy(s, p, slen);
    s[slen] = 0;
    size_t need = ctl_json_quote(NULL, 0, s);
    char *q = malloc(need + 1);
    if (!q)
        abort();
    FC_CHECK(ctl_json_quote(q, need + 1, s) == need && strlen(q) == need);
    v = ctl_json_parse(q, need);
    FC_CHECK(v && v->type == CTL_J_STR && strcmp(v->str, s) == 0);
    ctl_json_free(v);
    const char *details[2] = {s, "x"};
    char *ej = ctl_error_json(s, details, 2);
    FC_CHECK(ej);
    v = ctl_json_parse(ej, strlen(ej));
    FC_CHECK(v && v->type == CTL_J_OBJ);
    const ctl_jval_t *e = ctl_json_get(v, "error");
    FC_CHECK(e && e->type == CTL_J_STR && strcmp(e->str, s) == 0);
    ctl_json_free(v);
    free(ej);
    free(q);
    free(s);
}

static void fc_payload(const ctl_frame_t *f)
{
    ctl_hello_t h, h2;
    ctl_push_t push;
    uint8_t buf[CTL_NONCE_LEN + 1 + CTL_IDENTITY_MAX];

    if (ctl_hello_decode(f->payload, f->len, &h) == 0) {
        int n = ctl_hello_encode(h.nonce, h.flags, h.identity, buf, sizeof buf);
        FC_CHECK(n == (int)f->len && memcmp(buf, f->payload, f->len) == 0);
        FC_CHECK(ctl_hello_decode(buf, (size_t)n, &h2) == 0);
        FC_CHECK(strcmp(h.identity, h2.identity) == 0 && h.flags == h2.flags);
    }
    if (ctl_push_decode(f->payload, f->len, &push) == 0) {
        size_t n;
        FC_CHECK(push.snap + push.snap_len == f->payload + f->len);
        uint8_t *p =
            ctl_push_encode(push.flags, push.origin, push.snap, push.snap_len, &n);
        FC_CHECK(p && n == f->len && memcmp(p, f->payload, n) == 0);
        free(p);
    }
    /* An empty frame has no buffer behind it (payload NULL); the decoders
     * above handle that, a text parser needs a real pointer. */
    fc_json(f->payload ? f->payload : (const uint8_t *)"", f->len);
}

/* One frame: the checks a receiving end makes, in its order. */
static void fc_frame(ctl_reader_t *r, ctl_conn_t *c, const ctl_frame_t *f, uint32_t cap)
{
    uint8_t mac[CTL_MAC_LEN];
    char dir = c->server ? 'C' : 'S';

    FC_CHECK(ctl_type_known(f->type) && f->type == f->header[3]);
    FC_CHECK(f->len <= (cap ? cap : CTL_MAX_PAYLOAD_DEFAULT));
    FC_CHECK((f->mac != NULL) == r->with_mac && (f->head_mac != NULL) == r->with_mac);
    if (f->mac) {
        /* The reader yields a frame with MACs only once its header's verified. */
        FC_CHECK(
            ctl_head_mac_compute(&fc_key, dir, c->nonce, c->seq_in, f->header, mac) == 0);
        FC_CHECK(memcmp(mac, f->head_mac, CTL_MAC_LEN) == 0);
        FC_CHECK(ctl_mac_compute(&fc_key, dir, c->nonce, c->seq_in, f->header, f->payload,
                                 f->len, mac) == 0);
        FC_CHECK(ctl_mac_verify(&fc_key, dir, c->nonce, c->seq_in, f->header, f->payload,
                                f->len, mac) == 0);
        FC_CHECK((ctl_mac_verify(&fc_key, dir, c->nonce, c->seq_in, f->header, f->payload,
                                 f->len, f->mac) == 0) ==
                 (memcmp(mac, f->mac, CTL_MAC_LEN) == 0));
    }
    (void)ctl_conn_open(c, f); /* a client's reader expects MACs after HELLO */
    fc_payload(f);
}

/* Feeds data[0..len) completely (or until an error); returns the last code. */
static int fc_feed(ctl_reader_t *r, ctl_conn_t *c, const uint8_t *data, size_t len,
                   uint32_t cap)
{
    ctl_frame_t f;
    int rc = 0;
    while (len) {
        size_t used;
        rc = ctl_reader_feed(r, data, len, &used, &f);
        FC_CHECK(used <= len);
        FC_CHECK(!r->budget || r->budget->used <= r->budget->max);
        if (rc < 0) {
            size_t again;
            FC_CHECK(ctl_reader_feed(r, data, len, &again, &f) == rc && again == 0);
            return rc;
        }
        if (rc == 1)
            fc_frame(r, c, &f, cap);
        else
            FC_CHECK(used == len);
        data += used;
        len -= used;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    if (len < 2)
        return 0;
    uint8_t mode = in[1];
    const uint8_t *s = in + 2;
    size_t slen = len - 2, split = (size_t)in[0] * slen / 255;
    uint32_t cap = fc_caps[(mode >> 2) & 3];
    ctl_reader_t r;
    ctl_conn_t c;
    ctl_budget_t budget = {0, 1024};

    if (mode & 2) {
        ctl_conn_client_init(&c, &fc_key);
    } else {
        memset(&c, 0, sizeof c);
        c.key = &fc_key;
        c.server = true;
        c.mac = mode & 1;
        memset(c.nonce, 0xA5, sizeof c.nonce);
    }
    ctl_reader_init(&r, cap, &c);
    if (mode & 16)
        ctl_reader_set_budget(&r, &budget);
    /* A private copy: the stream may not be read past its end. */
    uint8_t *buf = malloc(slen ? slen : 1);
    if (!buf)
        abort();
    memcpy(buf, s, slen);
    int rc = fc_feed(&r, &c, buf, split, cap);
    if (rc >= 0)
        rc = fc_feed(&r, &c, buf + split, slen - split, cap);
    if (rc >= 0)
        FC_CHECK((ctl_reader_eof(&r) == CTL_ERR_TRUNCATED) == ctl_reader_partial(&r));
    fc_json(buf, slen);
    ctl_reader_deinit(&r);
    FC_CHECK(budget.used == 0);
    free(buf);
    return 0;
}
