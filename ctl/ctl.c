/*
 * ctl.c - control protocol frames: headers, the incremental reader, the HELLO
 * and PUSH payloads, and error names (docs/control-protocol.md).
 *
 * The reader checks each header byte as it arrives, so garbage on the socket is
 * refused at its first byte and a hostile length before any payload is read or
 * any memory is allocated for it.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

/* The reader's buffer is kept between frames up to this size; a 10 MB snapshot
 * buffer is released once its frame is done, so idle connections stay small. */
#define CTL_READER_KEEP (64u * 1024)

const char *ctl_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case CTL_ERR_MAGIC:
        return "bad magic";
    case CTL_ERR_VERSION:
        return "unsupported version";
    case CTL_ERR_OVERSIZE:
        return "oversize frame";
    case CTL_ERR_TRUNCATED:
        return "truncated frame";
    case CTL_ERR_MAC:
        return "bad MAC";
    case CTL_ERR_TYPE:
        return "unknown type";
    case CTL_ERR_UNEXPECTED:
        return "unexpected frame";
    case CTL_ERR_PAYLOAD:
        return "malformed payload";
    case CTL_ERR_NOKEY:
        return "server requires authentication and no key was given";
    case CTL_ERR_NOAUTH:
        return "server does not authenticate but a key was given";
    case CTL_ERR_NOMEM:
        return "out of memory";
    case CTL_ERR_CRYPTO:
        return "libcrypto failure";
    case CTL_ERR_IO:
        return "I/O error";
    case CTL_ERR_TIMEOUT:
        return "timeout";
    case CTL_ERR_CLOSED:
        return "connection closed";
    case CTL_ERR_CONNECT:
        return "connection failed";
    case CTL_ERR_BUSY:
        return "server busy";
    default:
        return "unknown error";
    }
}

bool ctl_err_is_fatal(int err)
{
    return err == CTL_ERR_MAGIC || err == CTL_ERR_VERSION || err == CTL_ERR_OVERSIZE ||
           err == CTL_ERR_TRUNCATED || err == CTL_ERR_MAC || err == CTL_ERR_TYPE ||
           err == CTL_ERR_UNEXPECTED || err == CTL_ERR_BUSY;
}

bool ctl_type_known(uint8_t type)
{
    return (type >= CTL_T_HELLO && type <= CTL_T_LAST_REQUEST) || type == CTL_T_OK ||
           type == CTL_T_ERR;
}

const char *ctl_type_name(uint8_t type)
{
    static const char *const names[] = {"?",       "HELLO",  "PUSH",        "STATUS",
                                        "RELOAD",  "STATS",  "DEMAND_PUSH", "DEMAND",
                                        "BALANCE", "SERVERS"};
    if (type <= CTL_T_LAST_REQUEST)
        return names[type];
    return type == CTL_T_OK ? "OK" : type == CTL_T_ERR ? "ERR" : "?";
}

void ctl_frame_write_header(uint8_t hdr[CTL_HEADER_LEN], uint8_t type, uint32_t len)
{
    hdr[0] = 'D';
    hdr[1] = 'C';
    hdr[2] = CTL_VERSION;
    hdr[3] = type;
    hdr[4] = (uint8_t)(len >> 24);
    hdr[5] = (uint8_t)(len >> 16);
    hdr[6] = (uint8_t)(len >> 8);
    hdr[7] = (uint8_t)len;
}

void ctl_reader_init(ctl_reader_t *r, uint32_t max_payload, const struct ctl_conn *conn)
{
    memset(r, 0, sizeof(*r));
    r->max_payload = max_payload ? max_payload : CTL_MAX_PAYLOAD_DEFAULT;
    r->conn = conn;
    r->hdr_need = CTL_HEADER_LEN;
}

static void ctl_reader_release(ctl_reader_t *r)
{
    if (r->budget)
        r->budget->used -= r->buf_alloc;
    free(r->buf);
    r->buf = NULL;
    r->buf_alloc = 0;
}

void ctl_reader_deinit(ctl_reader_t *r)
{
    ctl_reader_release(r);
}

void ctl_reader_set_budget(ctl_reader_t *r, ctl_budget_t *b)
{
    /* What is held was not charged to b: release it, the next frame charges. */
    if (r->budget != b && !ctl_reader_partial(r))
        ctl_reader_release(r);
    r->budget = b;
}

/* Room for need bytes of payload (+ MAC), charged to the budget. */
static int ctl_reader_reserve(ctl_reader_t *r)
{
    if (r->need <= r->buf_alloc)
        return 0;
    if (r->budget && r->need - r->buf_alloc > r->budget->max - r->budget->used)
        return CTL_ERR_BUSY;
    uint8_t *nb = realloc(r->buf, r->need);
    if (!nb)
        return CTL_ERR_NOMEM;
    if (r->budget)
        r->budget->used += r->need - r->buf_alloc;
    r->buf = nb;
    r->buf_alloc = r->need;
    return 0;
}

static uint32_t ctl_reader_len(const ctl_reader_t *r)
{
    return (uint32_t)r->hdr[4] << 24 | (uint32_t)r->hdr[5] << 16 |
           (uint32_t)r->hdr[6] << 8 | r->hdr[7];
}

/* Checks header byte i (just stored); 0 or the error it shows. */
static int ctl_reader_check_byte(ctl_reader_t *r, size_t i)
{
    uint8_t b = r->hdr[i];
    if (i == 0) {
        /* Whether this frame carries MACs is fixed at its first byte: a
         * client's conn turns them on when it takes HELLO. */
        r->with_mac = r->conn && r->conn->mac;
        r->hdr_need = r->with_mac ? CTL_HEAD_MAX : CTL_HEADER_LEN;
    }
    if ((i == 0 && b != 'D') || (i == 1 && b != 'C'))
        return CTL_ERR_MAGIC;
    if (i == 2 && b != CTL_VERSION)
        return CTL_ERR_VERSION;
    if (i == 3 && !ctl_type_known(b))
        return CTL_ERR_TYPE;
    if (i == 7 && ctl_reader_len(r) > r->max_payload)
        return CTL_ERR_OVERSIZE;
    if (i + 1 < r->hdr_need)
        return 0;
    /* The whole head is in: only now, and only when its MAC verifies, is the
     * announced length trusted with memory. */
    if (r->with_mac) {
        int rc = ctl_conn_check_head(r->conn, r->hdr, r->hdr + CTL_HEADER_LEN);
        if (rc < 0)
            return rc;
    }
    r->need = (size_t)ctl_reader_len(r) + (r->with_mac ? CTL_MAC_LEN : 0);
    r->have = 0;
    return ctl_reader_reserve(r);
}

/* Forgets the frame returned last, releasing a large buffer. */
static void ctl_reader_reset(ctl_reader_t *r)
{
    r->ready = false;
    r->hdr_have = 0;
    r->hdr_need = CTL_HEADER_LEN;
    r->have = r->need = 0;
    if (r->buf_alloc > CTL_READER_KEEP)
        ctl_reader_release(r);
}

static void ctl_reader_emit(ctl_reader_t *r, ctl_frame_t *out)
{
    memcpy(out->header, r->hdr, CTL_HEADER_LEN);
    out->type = r->hdr[3];
    out->len = (uint32_t)(r->need - (r->with_mac ? CTL_MAC_LEN : 0));
    out->payload = r->buf;
    out->head_mac = r->with_mac ? r->hdr + CTL_HEADER_LEN : NULL;
    out->mac = r->with_mac ? r->buf + out->len : NULL;
    r->ready = true;
}

int ctl_reader_feed(ctl_reader_t *r, const uint8_t *data, size_t len, size_t *used,
                    ctl_frame_t *out)
{
    size_t i = 0;
    *used = 0;
    if (r->error)
        return r->error;
    if (r->ready)
        ctl_reader_reset(r);
    while (r->hdr_have < r->hdr_need && i < len) {
        r->hdr[r->hdr_have] = data[i++];
        int rc = ctl_reader_check_byte(r, r->hdr_have++);
        if (rc < 0) {
            *used = i;
            return r->error = rc;
        }
    }
    if (r->hdr_have == r->hdr_need) {
        size_t take = r->need - r->have;
        if (take > len - i)
            take = len - i;
        if (take)
            memcpy(r->buf + r->have, data + i, take);
        r->have += take;
        i += take;
        if (r->have == r->need) {
            ctl_reader_emit(r, out);
            *used = i;
            return 1;
        }
    }
    *used = i;
    return 0;
}

bool ctl_reader_partial(const ctl_reader_t *r)
{
    return !r->ready && r->hdr_have > 0;
}

int ctl_reader_eof(const ctl_reader_t *r)
{
    return ctl_reader_partial(r) ? CTL_ERR_TRUNCATED : 0;
}

bool ctl_reader_announced(const ctl_reader_t *r, uint32_t *len)
{
    if (r->ready || r->error || r->hdr_have < r->hdr_need)
        return false;
    *len = ctl_reader_len(r);
    return true;
}

int ctl_hello_encode(const uint8_t nonce[CTL_NONCE_LEN], uint8_t flags,
                     const char *identity, uint8_t *out, size_t cap)
{
    size_t id_len = identity ? strlen(identity) : 0;
    if (id_len > CTL_IDENTITY_MAX)
        id_len = CTL_IDENTITY_MAX;
    if (cap < CTL_NONCE_LEN + 1 + id_len)
        return CTL_ERR_NOMEM;
    memcpy(out, nonce, CTL_NONCE_LEN);
    out[CTL_NONCE_LEN] = flags;
    if (id_len)
        memcpy(out + CTL_NONCE_LEN + 1, identity, id_len);
    return (int)(CTL_NONCE_LEN + 1 + id_len);
}

int ctl_hello_decode(const uint8_t *p, size_t len, ctl_hello_t *h)
{
    if (len < CTL_NONCE_LEN + 1 || len > CTL_NONCE_LEN + 1 + CTL_IDENTITY_MAX)
        return CTL_ERR_PAYLOAD;
    memcpy(h->nonce, p, CTL_NONCE_LEN);
    h->flags = p[CTL_NONCE_LEN];
    size_t id_len = len - CTL_NONCE_LEN - 1;
    memcpy(h->identity, p + CTL_NONCE_LEN + 1, id_len);
    h->identity[id_len] = '\0';
    /* The identity is shown to operators: refuse control bytes and NULs. */
    for (size_t i = 0; i < id_len; i++)
        if ((unsigned char)h->identity[i] < 0x20 || h->identity[i] == 0x7f)
            return CTL_ERR_PAYLOAD;
    return 0;
}

uint8_t *ctl_push_encode(uint8_t flags, const char *origin, const uint8_t *snap,
                         size_t snap_len, size_t *len)
{
    size_t o_len = origin ? strlen(origin) : 0;
    if (o_len > CTL_ORIGIN_MAX || snap_len > SIZE_MAX - 2 - o_len)
        return NULL;
    uint8_t *p = malloc(2 + o_len + snap_len + 1);
    if (!p)
        return NULL;
    p[0] = flags;
    p[1] = (uint8_t)o_len;
    if (o_len)
        memcpy(p + 2, origin, o_len);
    if (snap_len)
        memcpy(p + 2 + o_len, snap, snap_len);
    *len = 2 + o_len + snap_len;
    return p;
}

int ctl_push_decode(const uint8_t *p, size_t len, ctl_push_t *out)
{
    if (len < 2 || len - 2 < p[1])
        return CTL_ERR_PAYLOAD;
    size_t o_len = p[1];
    out->flags = p[0];
    if (out->flags & ~CTL_PUSH_FORCE)
        return CTL_ERR_PAYLOAD; /* unknown flags: refuse rather than guess */
    memcpy(out->origin, p + 2, o_len);
    out->origin[o_len] = '\0';
    if (memchr(out->origin, '\0', o_len))
        return CTL_ERR_PAYLOAD;
    out->snap = p + 2 + o_len;
    out->snap_len = len - 2 - o_len;
    return 0;
}
