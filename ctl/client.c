/*
 * client.c - a blocking control client: connect over the unix socket or TCP,
 * take the server's HELLO, send one request at a time and read its verified
 * reply. Every step is bounded by one deadline, so a silent or slow server
 * cannot hold dnsdctl (or a test) longer than its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

static int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on the client's socket until the deadline. */
static int ctl_client_wait(ctl_client_t *c, short events)
{
    for (;;) {
        int64_t left = c->deadline_ms - ctl_now_ms();
        if (left <= 0)
            return CTL_ERR_TIMEOUT;
        struct pollfd pfd = {.fd = c->fd, .events = events};
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            snprintf(c->err, sizeof(c->err), "poll: %s", strerror(errno));
            return CTL_ERR_IO;
        }
    }
}

static int ctl_client_fail(ctl_client_t *c, int rc, const char *what)
{
    if (!c->err[0] || what)
        snprintf(c->err, sizeof(c->err), "%s", what ? what : ctl_strerror(rc));
    ctl_client_close(c);
    return rc;
}

int ctl_resolve(const char *hostport, void *ss, unsigned *sslen, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(hostport, ':'), *h = hostport;
    size_t hl = colon ? (size_t)(colon - hostport) : 0;
    if (hl && hostport[0] == '[' && hostport[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || !hl || hl >= sizeof(host) || !colon[1]) {
        snprintf(err, errlen, "%s: expected HOST:PORT ([v6]:PORT for IPv6)", hostport);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
                    *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Non-blocking connect bounded by the deadline; the socket stays non-blocking. */
static int ctl_client_connect_fd(ctl_client_t *c, int family, const void *sa,
                                 socklen_t len, const char *name)
{
    c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(c->err, sizeof(c->err), "socket: %s", strerror(errno));
        return CTL_ERR_CONNECT;
    }
    if (connect(c->fd, sa, len) < 0) {
        int e = errno, rc;
        if (e != EINPROGRESS && e != EAGAIN) {
            snprintf(c->err, sizeof(c->err), "%s", strerror(e));
            return CTL_ERR_CONNECT;
        }
        if ((rc = ctl_client_wait(c, POLLOUT)) < 0)
            return rc;
        socklen_t el = sizeof(e);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
            snprintf(c->err, sizeof(c->err), "%s", strerror(e));
            return CTL_ERR_CONNECT;
        }
    }
    return 0;
}

/* Reads until one frame is complete. *f is valid until the next read. */
static int ctl_client_read_frame(ctl_client_t *c, ctl_frame_t *f)
{
    for (;;) {
        if (c->rpos < c->rlen) {
            size_t used;
            int rc =
                ctl_reader_feed(&c->rd, c->rbuf + c->rpos, c->rlen - c->rpos, &used, f);
            c->rpos += used;
            if (rc != 0)
                return rc;
        }
        ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
        if (n > 0) {
            c->rpos = 0;
            c->rlen = (size_t)n;
            continue;
        }
        if (n == 0)
            return ctl_reader_partial(&c->rd) ? CTL_ERR_TRUNCATED : CTL_ERR_CLOSED;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = ctl_client_wait(c, POLLIN);
            if (rc < 0)
                return rc;
        } else if (errno != EINTR) {
            snprintf(c->err, sizeof(c->err), "recv: %s", strerror(errno));
            return CTL_ERR_IO;
        }
    }
}

/* Takes the server's HELLO on the connected c->fd. */
static int ctl_client_handshake(ctl_client_t *c, const ctl_key_t *key)
{
    ctl_frame_t f;
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return ctl_client_fail(c, CTL_ERR_IO, "fcntl O_NONBLOCK failed");
    ctl_conn_client_init(&c->conn, key);
    ctl_reader_init(&c->rd, CTL_MAX_PAYLOAD_DEFAULT, &c->conn);
    int rc = ctl_client_read_frame(c, &f);
    if (rc == 1)
        rc = ctl_conn_open(&c->conn, &f);
    if (rc < 0)
        return ctl_client_fail(c, rc, NULL);
    return 0;
}

int ctl_client_attach(ctl_client_t *c, int fd, const ctl_key_t *key, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->deadline_ms = ctl_now_ms() + timeout_ms;
    return ctl_client_handshake(c, key);
}

int ctl_client_connect_unix(ctl_client_t *c, const char *path, const ctl_key_t *key,
                            int timeout_ms)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    if (strlen(path) >= sizeof(sun.sun_path))
        return ctl_client_fail(c, CTL_ERR_CONNECT, "socket path too long");
    strcpy(sun.sun_path, path);
    c->deadline_ms = ctl_now_ms() + timeout_ms;
    int rc = ctl_client_connect_fd(c, AF_UNIX, &sun, sizeof(sun), path);
    if (rc < 0)
        return ctl_client_fail(c, rc, NULL);
    return ctl_client_handshake(c, key);
}

int ctl_client_connect_tcp(ctl_client_t *c, const char *hostport, const ctl_key_t *key,
                           int timeout_ms)
{
    struct sockaddr_storage ss;
    unsigned len;
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    if (ctl_resolve(hostport, &ss, &len, c->err, sizeof(c->err)) < 0)
        return ctl_client_fail(c, CTL_ERR_CONNECT, NULL);
    c->deadline_ms = ctl_now_ms() + timeout_ms;
    int rc = ctl_client_connect_fd(c, ss.ss_family, &ss, len, hostport);
    if (rc < 0)
        return ctl_client_fail(c, rc, NULL);
    return ctl_client_handshake(c, key);
}

/* Writes all of iov, bounded by the deadline; MSG_NOSIGNAL spares dnsdctl a
 * SIGPIPE when the server has gone. */
static int ctl_client_send(ctl_client_t *c, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int rc = ctl_client_wait(c, POLLOUT);
                if (rc < 0)
                    return rc;
                continue;
            }
            if (errno == EINTR)
                continue;
            snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
            return CTL_ERR_IO;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

int ctl_client_request(ctl_client_t *c, uint8_t type, const uint8_t *payload, size_t len,
                       uint8_t *reply_type, char **reply)
{
    uint8_t head[CTL_HEAD_MAX], mac[CTL_MAC_LEN];
    size_t head_len, mac_len;
    ctl_frame_t f;
    *reply = NULL;
    if (c->fd < 0)
        return CTL_ERR_CLOSED;
    c->err[0] = '\0';
    int rc = ctl_conn_seal(&c->conn, type, payload, len, head, &head_len, mac, &mac_len);
    if (rc < 0)
        return rc;
    struct iovec iov[3] = {{head, head_len}, {(void *)payload, len}, {mac, mac_len}};
    /* A server that refuses a frame early (oversize) replies ERR and closes
     * while we may still be sending: its reply says more than our EPIPE. */
    int send_rc = ctl_client_send(c, iov, 3);
    if (send_rc < 0 && send_rc != CTL_ERR_IO)
        return send_rc;
    rc = ctl_client_read_frame(c, &f);
    if (send_rc < 0 && rc != 1)
        return send_rc;
    if (rc == 1)
        rc = ctl_conn_open(&c->conn, &f);
    if (rc < 0)
        return rc;
    if (!(*reply = malloc((size_t)f.len + 1)))
        return CTL_ERR_NOMEM;
    memcpy(*reply, f.payload, f.len);
    (*reply)[f.len] = '\0';
    *reply_type = f.type;
    return 0;
}

void ctl_client_close(ctl_client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    ctl_reader_deinit(&c->rd);
}
