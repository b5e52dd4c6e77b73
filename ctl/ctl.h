/*
 * ctl.h - the control protocol between dnsdctl and dnsd (docs/control-protocol.md).
 *
 * Everything both ends need lives here, so the daemon's control thread is only
 * event-loop wiring: frame headers, an incremental frame reader, HMAC-SHA256
 * over each frame, per-connection nonces, key files, the HELLO and PUSH
 * payloads, JSON helpers for replies, error strings, and a blocking client.
 *
 * No OpenSSL or libuv type appears in this header: libcrypto is used inside
 * auth.c only, and the daemon plugs the reader and ctl_conn_seal() into its own
 * uv_read/uv_write callbacks.
 *
 * Errors are the negative CTL_ERR_* codes; ctl_strerror() names them.
 */
#ifndef DNSD_CTL_H
#define DNSD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Version 2 added the header MAC: a receiver authenticates a frame's header
 * (and so its length) before it buffers any of the payload. */
#define CTL_VERSION 2
#define CTL_HEADER_LEN 8 /* 'D' 'C' version type length(4, big-endian) */
#define CTL_MAC_LEN 32   /* HMAC-SHA256 */
/* Header, then its MAC on an authenticated connection. */
#define CTL_HEAD_MAX (CTL_HEADER_LEN + CTL_MAC_LEN)
#define CTL_NONCE_LEN 32
#define CTL_KEY_MIN 16
#define CTL_KEY_MAX 256
#define CTL_IDENTITY_MAX 255
#define CTL_ORIGIN_MAX 255
/* Payload cap: a 10 MB snapshot must pass with room to grow; 64 MiB keeps a
 * hostile length from making either end allocate without bound. */
#define CTL_MAX_PAYLOAD_DEFAULT (64u << 20)

#define CTL_HELLO_MAC_REQUIRED 0x01 /* HELLO flags bit 0 */
#define CTL_PUSH_FORCE 0x01         /* PUSH flags bit 0 */

enum ctl_type {
    CTL_T_HELLO = 1,
    CTL_T_PUSH = 2,
    CTL_T_STATUS = 3,
    CTL_T_RELOAD = 4,
    CTL_T_STATS = 5,
    CTL_T_DEMAND_PUSH = 6, /* a demand table (docs/balancing.md), PUSH-encoded */
    CTL_T_DEMAND = 7,      /* the node's local demand; payload: PUSH-encoded origin */
    CTL_T_BALANCE = 8,     /* keep fractions and load ratios; same payload */
    CTL_T_SERVERS = 9,     /* answers per server since the snapshot; same payload */
    CTL_T_OK = 0x80,
    CTL_T_ERR = 0x81,
};

enum ctl_err {
    CTL_ERR_MAGIC = -1,      /* "bad magic" */
    CTL_ERR_VERSION = -2,    /* "unsupported version" */
    CTL_ERR_OVERSIZE = -3,   /* "oversize frame" */
    CTL_ERR_TRUNCATED = -4,  /* "truncated frame" */
    CTL_ERR_MAC = -5,        /* "bad MAC" */
    CTL_ERR_TYPE = -6,       /* "unknown type" */
    CTL_ERR_UNEXPECTED = -7, /* "unexpected frame" */
    CTL_ERR_PAYLOAD = -8,    /* "malformed payload" */
    CTL_ERR_NOKEY = -9,      /* server requires a MAC and we have no key */
    CTL_ERR_NOAUTH = -10,    /* we have a key and the server offers no MAC */
    CTL_ERR_NOMEM = -11,
    CTL_ERR_CRYPTO = -12, /* libcrypto failed (RAND, HMAC) */
    CTL_ERR_IO = -13,     /* read/write failed; errno tells more */
    CTL_ERR_TIMEOUT = -14,
    CTL_ERR_CLOSED = -15,  /* peer closed between frames */
    CTL_ERR_CONNECT = -16, /* could not connect */
    CTL_ERR_BUSY = -17,    /* "server busy": the receiver's buffer budget is spent */
};

#define CTL_T_LAST_REQUEST CTL_T_SERVERS

const char *ctl_strerror(int err);

/* True for the framing and authentication errors after which the server
 * replies ERR and closes (the stream position or the peer cannot be trusted). */
bool ctl_err_is_fatal(int err);

/* ------------------------------------------------------------------------ */
/* Frames                                                                   */
/* ------------------------------------------------------------------------ */

bool ctl_type_known(uint8_t type);
const char *ctl_type_name(uint8_t type); /* "PUSH", ..., "?" */

void ctl_frame_write_header(uint8_t hdr[CTL_HEADER_LEN], uint8_t type, uint32_t len);

/* A complete frame from the reader. Pointers are into the reader's buffer and
 * stay valid until the next ctl_reader_feed(). */
typedef struct ctl_frame {
    uint8_t header[CTL_HEADER_LEN];
    uint8_t type;
    uint32_t len;
    const uint8_t *payload;
    const uint8_t *head_mac; /* the header's MAC; NULL when the frame has no MACs */
    const uint8_t *mac;      /* the frame's MAC; NULL when the frame has no MACs */
} ctl_frame_t;

/* Bytes that every reader sharing it may hold in frame buffers together (a
 * server's cap across its connections). Single-threaded: no locking. */
typedef struct ctl_budget {
    size_t used, max;
} ctl_budget_t;

struct ctl_conn;

/* Incremental reader: feed whatever bytes arrive; it yields one frame at a
 * time, checks magic, version and type as soon as those bytes arrive, and the
 * length against the cap, the header's MAC (on an authenticated connection)
 * and the budget before it allocates or reads any payload. */
typedef struct ctl_reader {
    uint8_t hdr[CTL_HEAD_MAX]; /* header, then its MAC */
    size_t hdr_have, hdr_need;
    uint8_t *buf;
    size_t buf_alloc;
    size_t have, need; /* payload (+ MAC) bytes */
    uint32_t max_payload;
    const struct ctl_conn *conn; /* MACs per frame when conn->mac; NULL: none */
    ctl_budget_t *budget;        /* charged with buf_alloc; NULL: unbounded */
    bool with_mac;               /* this frame's, fixed at its first byte */
    bool ready;                  /* a frame was returned; reset on the next feed */
    int error;                   /* sticky: once broken, the stream stays broken */
} ctl_reader_t;

/* conn (borrowed, may be NULL) decides per frame, at its first byte, whether
 * it carries MACs (conn->mac: a client learns it from HELLO) and verifies
 * each header MAC with its key, nonce and receive sequence. */
void ctl_reader_init(ctl_reader_t *r, uint32_t max_payload, const struct ctl_conn *conn);
void ctl_reader_deinit(ctl_reader_t *r);
/* Charges frame buffers to b from the next frame on (NULL: no budget). */
void ctl_reader_set_budget(ctl_reader_t *r, ctl_budget_t *b);

/*
 * Consumes bytes from data[0..len) and sets *used to how many. Returns 1 when
 * a frame is complete (in *out; the rest of data is for the next call), 0 when
 * all of data was consumed without completing one, or a CTL_ERR_* code
 * (MAGIC, VERSION, TYPE, OVERSIZE, MAC, BUSY, NOMEM) that repeats on every
 * later call.
 */
int ctl_reader_feed(ctl_reader_t *r, const uint8_t *data, size_t len, size_t *used,
                    ctl_frame_t *out);

/* At end of stream: CTL_ERR_TRUNCATED when part of a frame was read, else 0. */
int ctl_reader_eof(const ctl_reader_t *r);
/* True when some bytes of an unfinished frame are buffered. */
bool ctl_reader_partial(const ctl_reader_t *r);
/* True once the current frame's header (and its MAC) is in and verified:
 * *len is the payload length it announced. */
bool ctl_reader_announced(const ctl_reader_t *r, uint32_t *len);

/* ------------------------------------------------------------------------ */
/* Keys, nonces, MACs                                                       */
/* ------------------------------------------------------------------------ */

/* The shared secret: the key file's bytes used as they are, minus one trailing
 * "\n" or "\r\n" (`openssl rand -hex 32 > key` gives 64 bytes of key text). */
typedef struct ctl_key {
    uint8_t bytes[CTL_KEY_MAX];
    size_t len;
} ctl_key_t;

/* Loads `path`. Refuses a missing or non-regular file, one readable or
 * writable by others (mode & 0007), and a key shorter than CTL_KEY_MIN or
 * longer than CTL_KEY_MAX bytes; the message names the file and the fix. */
int ctl_key_load(const char *path, ctl_key_t *key, char *err, size_t errlen);
void ctl_key_clear(ctl_key_t *key); /* wipes the bytes */

int ctl_nonce_new(uint8_t nonce[CTL_NONCE_LEN]); /* RAND_bytes; 0 or CTL_ERR_CRYPTO */

/*
 * MAC = HMAC-SHA256(key, "dnsd-ctl-v2/frame" || dir || nonce || seq (8,
 *                        big-endian) || header (8) || payload)
 * dir is 'C' for client -> server and 'S' for server -> client.
 */
int ctl_mac_compute(const ctl_key_t *key, char dir, const uint8_t nonce[CTL_NONCE_LEN],
                    uint64_t seq, const uint8_t header[CTL_HEADER_LEN],
                    const uint8_t *payload, size_t len, uint8_t out[CTL_MAC_LEN]);
/* 0, or CTL_ERR_MAC (compared in constant time). */
int ctl_mac_verify(const ctl_key_t *key, char dir, const uint8_t nonce[CTL_NONCE_LEN],
                   uint64_t seq, const uint8_t header[CTL_HEADER_LEN],
                   const uint8_t *payload, size_t len, const uint8_t mac[CTL_MAC_LEN]);
/* The header MAC: HMAC-SHA256(key, "dnsd-ctl-v2/head" || dir || nonce || seq
 * || header), sent right after the header so the receiver can trust the
 * length before it reads the payload. */
int ctl_head_mac_compute(const ctl_key_t *key, char dir,
                         const uint8_t nonce[CTL_NONCE_LEN], uint64_t seq,
                         const uint8_t header[CTL_HEADER_LEN], uint8_t out[CTL_MAC_LEN]);

/* ------------------------------------------------------------------------ */
/* Connection state: who we are, the nonce, sequence numbers.               */
/* ------------------------------------------------------------------------ */

typedef struct ctl_conn {
    const ctl_key_t *key; /* borrowed; NULL when this end has none */
    uint8_t nonce[CTL_NONCE_LEN];
    bool server;
    bool mac;        /* frames after HELLO carry a MAC */
    bool hello_done; /* client: HELLO received */
    uint64_t seq_out, seq_in;
    char identity[CTL_IDENTITY_MAX + 1]; /* client: the server's, from HELLO */
} ctl_conn_t;

/* Server side: draws a fresh nonce. mac_required: true over TCP (needs key),
 * false over the unix socket. 0 or CTL_ERR_CRYPTO. */
int ctl_conn_server_init(ctl_conn_t *c, const ctl_key_t *key, bool mac_required);

/* Server side: the whole HELLO frame (header + payload, no MAC) for this
 * connection into out. Returns its length, or CTL_ERR_NOMEM if cap is short
 * (CTL_HEADER_LEN + CTL_NONCE_LEN + 1 + CTL_IDENTITY_MAX always fits). */
int ctl_conn_hello_frame(const ctl_conn_t *c, const char *identity, uint8_t *out,
                         size_t cap);

/* Client side. With a key the client insists on a MAC (CTL_ERR_NOAUTH if the
 * server offers none); without one it accepts only a server that asks none. */
void ctl_conn_client_init(ctl_conn_t *c, const ctl_key_t *key);

/*
 * Checks a received frame and advances the receive sequence. Client: the first
 * frame must be HELLO (its nonce and flags are taken; a reader given this conn
 * expects MACs from the next frame on), later ones OK or ERR. Server: only
 * requests. Both MACs are verified here too, whatever the reader did.
 * Returns 0, CTL_ERR_UNEXPECTED, CTL_ERR_MAC, CTL_ERR_PAYLOAD (bad HELLO),
 * CTL_ERR_NOKEY or CTL_ERR_NOAUTH.
 */
int ctl_conn_open(ctl_conn_t *c, const ctl_frame_t *f);

/* Verifies a received header's MAC for the next receive sequence number:
 * 0, CTL_ERR_MAC or CTL_ERR_CRYPTO. The reader calls it. */
int ctl_conn_check_head(const ctl_conn_t *c, const uint8_t header[CTL_HEADER_LEN],
                        const uint8_t mac[CTL_MAC_LEN]);

/* Prepares a frame to send: header and its MAC into head (*head_len is
 * CTL_HEADER_LEN or CTL_HEAD_MAX), the frame's MAC into mac (*mac_len is 0 or
 * CTL_MAC_LEN). Send head, payload, mac in that order. 0 or CTL_ERR_* . */
int ctl_conn_seal(ctl_conn_t *c, uint8_t type, const uint8_t *payload, size_t len,
                  uint8_t head[CTL_HEAD_MAX], size_t *head_len, uint8_t mac[CTL_MAC_LEN],
                  size_t *mac_len);

/* ------------------------------------------------------------------------ */
/* Payloads                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ctl_hello {
    uint8_t nonce[CTL_NONCE_LEN];
    uint8_t flags;
    char identity[CTL_IDENTITY_MAX + 1];
} ctl_hello_t;

/* Returns the payload length, or CTL_ERR_NOMEM when cap is too small. An
 * identity longer than CTL_IDENTITY_MAX is cut. */
int ctl_hello_encode(const uint8_t nonce[CTL_NONCE_LEN], uint8_t flags,
                     const char *identity, uint8_t *out, size_t cap);
int ctl_hello_decode(const uint8_t *p, size_t len,
                     ctl_hello_t *h); /* 0 or CTL_ERR_PAYLOAD */

/* PUSH payload: flags (1), origin length L (1), origin (L; empty = the
 * server's first zone), snapshot bytes. Returns a malloc'd buffer of *len
 * bytes, or NULL (out of memory, origin longer than 255). */
uint8_t *ctl_push_encode(uint8_t flags, const char *origin, const uint8_t *snap,
                         size_t snap_len, size_t *len);

typedef struct ctl_push {
    uint8_t flags;
    char origin[CTL_ORIGIN_MAX + 1]; /* "" = first zone */
    const uint8_t *snap;             /* into the payload */
    size_t snap_len;
} ctl_push_t;
int ctl_push_decode(const uint8_t *p, size_t len,
                    ctl_push_t *out); /* 0 or CTL_ERR_PAYLOAD */

/* ------------------------------------------------------------------------ */
/* JSON: building replies and reading them back.                            */
/* ------------------------------------------------------------------------ */

/* Writes s as a JSON string literal (with quotes) into out, snprintf-style:
 * returns the length it needs, NUL-terminates when cap > 0. */
size_t ctl_json_quote(char *out, size_t cap, const char *s);

/* Appends s as a JSON string (ctl_json_quote) to b. */
void ctl_json_put(strbuf_t *b, const char *s);

/* {"error": "...", "details": ["...", ...]}; malloc'd, NULL when out of memory. */
char *ctl_error_json(const char *error, const char *const *details, size_t n_details);

typedef enum {
    CTL_J_NULL,
    CTL_J_BOOL,
    CTL_J_NUM,
    CTL_J_STR,
    CTL_J_ARR,
    CTL_J_OBJ,
} ctl_jtype_t;

typedef struct ctl_jval {
    ctl_jtype_t type;
    bool b;
    double num;
    char *str;              /* CTL_J_STR: decoded text; CTL_J_NUM: the literal */
    struct ctl_jval *items; /* CTL_J_ARR, CTL_J_OBJ: n values */
    char **keys;            /* CTL_J_OBJ: n keys */
    size_t n;
} ctl_jval_t;

/* Parses RFC 8259 JSON (depth <= 64). NULL on a syntax error or no memory. */
ctl_jval_t *ctl_json_parse(const char *text, size_t len);
void ctl_json_free(ctl_jval_t *v);
const ctl_jval_t *ctl_json_get(const ctl_jval_t *obj,
                               const char *key); /* NULL if absent */
/* A non-negative integer number (serials): 0, or -1 if v is not one. */
int ctl_json_u64(const ctl_jval_t *v, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Blocking client (dnsdctl's single-node mode, tests).                     */
/* ------------------------------------------------------------------------ */

typedef struct ctl_client {
    int fd;
    ctl_conn_t conn;
    ctl_reader_t rd;
    uint8_t rbuf[65536];
    size_t rpos, rlen;
    int64_t deadline_ms; /* CLOCK_MONOTONIC */
    char err[256];       /* detail for the last error */
} ctl_client_t;

/* Parses "host:port", "[v6]:port" (getaddrinfo, numeric port) into a
 * struct sockaddr_storage (`ss`, at least 128 bytes) and its length. */
int ctl_resolve(const char *hostport, void *ss, unsigned *sslen, char *err,
                size_t errlen);

/* Each takes the whole operation's time budget from now (timeout_ms), connects
 * and completes the HELLO handshake. On error the client is closed and c->err
 * says why. attach uses an already connected socket (taken over). */
int ctl_client_connect_unix(ctl_client_t *c, const char *path, const ctl_key_t *key,
                            int timeout_ms);
int ctl_client_connect_tcp(ctl_client_t *c, const char *hostport, const ctl_key_t *key,
                           int timeout_ms);
int ctl_client_attach(ctl_client_t *c, int fd, const ctl_key_t *key, int timeout_ms);

/* Sends one request and waits for its verified reply. On 0, *reply_type is
 * CTL_T_OK or CTL_T_ERR and *reply a malloc'd NUL-terminated copy of the JSON. */
int ctl_client_request(ctl_client_t *c, uint8_t type, const uint8_t *payload, size_t len,
                       uint8_t *reply_type, char **reply);
void ctl_client_close(ctl_client_t *c);

#endif
