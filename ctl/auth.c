/*
 * auth.c - the control channel's authentication: key files, per-connection
 * nonces and HMAC-SHA256 over every frame after HELLO, plus the connection
 * state that ties them to sequence numbers.
 *
 * Why a MAC over the header alone as well (protocol version 2): the receiver
 * checks it before it allocates or reads the payload, so a peer without the
 * key cannot make it buffer more than the 40 bytes of a header and its MAC.
 *
 * Why a nonce and a sequence number in the MAC: the nonce is fresh per
 * connection (server side, 32 bytes from RAND_bytes), so a frame recorded on one
 * connection fails on any other; the sequence number counts frames per
 * direction, so a frame replayed, dropped or reordered within a connection
 * fails too. The direction byte keeps a server's reply from being reflected
 * back as a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ctl/ctl.h"

/* Two labels keep a header MAC from ever standing in for a frame MAC. */
static const char ctl_mac_label[] = "dnsd-ctl-v2/frame";
static const char ctl_head_label[] = "dnsd-ctl-v2/head";

int ctl_key_load(const char *path, ctl_key_t *key, char *err, size_t errlen)
{
    uint8_t buf[CTL_KEY_MAX + 3];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    memset(key, 0, sizeof(*key));
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        return -1;
    }
    /* fstat on the open file: what we check is what we read. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s: not a regular file", path);
        goto fail;
    }
    if (st.st_mode & 0007) {
        snprintf(err, errlen,
                 "key file %s: readable or writable by others (mode %04o); "
                 "run chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        goto fail;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n < CTL_KEY_MIN || n > CTL_KEY_MAX) {
        snprintf(err, errlen,
                 "key file %s: key is %zd bytes, must be %d..%d "
                 "(make one with: openssl rand -hex 32 > %s)",
                 path, n, CTL_KEY_MIN, CTL_KEY_MAX, path);
        goto fail;
    }
    memcpy(key->bytes, buf, (size_t)n);
    key->len = (size_t)n;
    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);
    return 0;
fail:
    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);
    return -1;
}

void ctl_key_clear(ctl_key_t *key)
{
    OPENSSL_cleanse(key, sizeof(*key));
}

int ctl_nonce_new(uint8_t nonce[CTL_NONCE_LEN])
{
    return RAND_bytes(nonce, CTL_NONCE_LEN) == 1 ? 0 : CTL_ERR_CRYPTO;
}

/* HMAC-SHA256(key, label || dir || nonce || seq || header [|| payload]). */
static int ctl_hmac(const ctl_key_t *key, const char *label, char dir,
                    const uint8_t nonce[CTL_NONCE_LEN], uint64_t seq,
                    const uint8_t header[CTL_HEADER_LEN], const uint8_t *payload,
                    size_t len, uint8_t out[CTL_MAC_LEN])
{
    uint8_t pre[sizeof(ctl_mac_label) - 1 + 1 + CTL_NONCE_LEN + 8];
    size_t off = strlen(label), out_len = 0;
    char digest[] = "SHA256";
    int rc = CTL_ERR_CRYPTO;
    memcpy(pre, label, off);
    pre[off++] = (uint8_t)dir;
    memcpy(pre + off, nonce, CTL_NONCE_LEN);
    off += CTL_NONCE_LEN;
    for (int i = 7; i >= 0; i--)
        pre[off++] = (uint8_t)(seq >> (8 * i));

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || !EVP_MAC_init(ctx, key->bytes, key->len, params) ||
        !EVP_MAC_update(ctx, pre, off) || !EVP_MAC_update(ctx, header, CTL_HEADER_LEN) ||
        (len && !EVP_MAC_update(ctx, payload, len)) ||
        !EVP_MAC_final(ctx, out, &out_len, CTL_MAC_LEN) || out_len != CTL_MAC_LEN)
        goto done;
    rc = 0;
done:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int ctl_mac_compute(const ctl_key_t *key, char dir, const uint8_t nonce[CTL_NONCE_LEN],
                    uint64_t seq, const uint8_t header[CTL_HEADER_LEN],
                    const uint8_t *payload, size_t len, uint8_t out[CTL_MAC_LEN])
{
    return ctl_hmac(key, ctl_mac_label, dir, nonce, seq, header, payload, len, out);
}

int ctl_head_mac_compute(const ctl_key_t *key, char dir,
                         const uint8_t nonce[CTL_NONCE_LEN], uint64_t seq,
                         const uint8_t header[CTL_HEADER_LEN], uint8_t out[CTL_MAC_LEN])
{
    return ctl_hmac(key, ctl_head_label, dir, nonce, seq, header, NULL, 0, out);
}

int ctl_mac_verify(const ctl_key_t *key, char dir, const uint8_t nonce[CTL_NONCE_LEN],
                   uint64_t seq, const uint8_t header[CTL_HEADER_LEN],
                   const uint8_t *payload, size_t len, const uint8_t mac[CTL_MAC_LEN])
{
    uint8_t want[CTL_MAC_LEN];
    int rc = ctl_mac_compute(key, dir, nonce, seq, header, payload, len, want);
    if (rc < 0)
        return rc;
    return CRYPTO_memcmp(want, mac, CTL_MAC_LEN) == 0 ? 0 : CTL_ERR_MAC;
}

int ctl_conn_server_init(ctl_conn_t *c, const ctl_key_t *key, bool mac_required)
{
    memset(c, 0, sizeof(*c));
    c->key = key;
    c->server = true;
    c->mac = mac_required;
    c->hello_done = true;
    if (mac_required && !key)
        return CTL_ERR_NOKEY;
    return ctl_nonce_new(c->nonce);
}

int ctl_conn_hello_frame(const ctl_conn_t *c, const char *identity, uint8_t *out,
                         size_t cap)
{
    if (cap < CTL_HEADER_LEN)
        return CTL_ERR_NOMEM;
    int n = ctl_hello_encode(c->nonce, c->mac ? CTL_HELLO_MAC_REQUIRED : 0, identity,
                             out + CTL_HEADER_LEN, cap - CTL_HEADER_LEN);
    if (n < 0)
        return n;
    ctl_frame_write_header(out, CTL_T_HELLO, (uint32_t)n);
    return CTL_HEADER_LEN + n;
}

void ctl_conn_client_init(ctl_conn_t *c, const ctl_key_t *key)
{
    memset(c, 0, sizeof(*c));
    c->key = key;
}

static int ctl_conn_take_hello(ctl_conn_t *c, const ctl_frame_t *f)
{
    ctl_hello_t h;
    if (f->type != CTL_T_HELLO)
        return CTL_ERR_UNEXPECTED;
    if (ctl_hello_decode(f->payload, f->len, &h) < 0)
        return CTL_ERR_PAYLOAD;
    c->mac = (h.flags & CTL_HELLO_MAC_REQUIRED) != 0;
    if (c->mac && !c->key)
        return CTL_ERR_NOKEY;
    /* A client holding a key talks to a TCP endpoint: a server that offers no
     * MAC there is not one we should trust with a push. */
    if (!c->mac && c->key)
        return CTL_ERR_NOAUTH;
    memcpy(c->nonce, h.nonce, CTL_NONCE_LEN);
    memcpy(c->identity, h.identity, sizeof(c->identity));
    c->hello_done = true;
    return 0;
}

int ctl_conn_check_head(const ctl_conn_t *c, const uint8_t header[CTL_HEADER_LEN],
                        const uint8_t mac[CTL_MAC_LEN])
{
    uint8_t want[CTL_MAC_LEN];
    if (!c->key)
        return CTL_ERR_MAC;
    int rc = ctl_head_mac_compute(c->key, c->server ? 'C' : 'S', c->nonce, c->seq_in,
                                  header, want);
    if (rc < 0)
        return rc;
    return CRYPTO_memcmp(want, mac, CTL_MAC_LEN) == 0 ? 0 : CTL_ERR_MAC;
}

int ctl_conn_open(ctl_conn_t *c, const ctl_frame_t *f)
{
    if (!c->server && !c->hello_done)
        return ctl_conn_take_hello(c, f);
    bool request = f->type >= CTL_T_PUSH && f->type <= CTL_T_LAST_REQUEST;
    bool reply = f->type == CTL_T_OK || f->type == CTL_T_ERR;
    if (c->server ? !request : !reply)
        return CTL_ERR_UNEXPECTED;
    if (c->mac) {
        if (!f->mac || !f->head_mac)
            return CTL_ERR_MAC;
        int rc = ctl_conn_check_head(c, f->header, f->head_mac);
        if (rc == 0)
            rc = ctl_mac_verify(c->key, c->server ? 'C' : 'S', c->nonce, c->seq_in,
                                f->header, f->payload, f->len, f->mac);
        if (rc < 0)
            return rc;
    }
    c->seq_in++;
    return 0;
}

int ctl_conn_seal(ctl_conn_t *c, uint8_t type, const uint8_t *payload, size_t len,
                  uint8_t head[CTL_HEAD_MAX], size_t *head_len, uint8_t mac[CTL_MAC_LEN],
                  size_t *mac_len)
{
    char dir = c->server ? 'S' : 'C';
    *mac_len = 0;
    *head_len = CTL_HEADER_LEN;
    if (len > UINT32_MAX)
        return CTL_ERR_OVERSIZE;
    ctl_frame_write_header(head, type, (uint32_t)len);
    if (c->mac) {
        int rc = ctl_head_mac_compute(c->key, dir, c->nonce, c->seq_out, head,
                                      head + CTL_HEADER_LEN);
        if (rc == 0)
            rc = ctl_mac_compute(c->key, dir, c->nonce, c->seq_out, head, payload, len,
                                 mac);
        if (rc < 0)
            return rc;
        *head_len = CTL_HEAD_MAX;
        *mac_len = CTL_MAC_LEN;
    }
    c->seq_out++;
    return 0;
}
