/*
 * dnstap_out.c - the dnstap transport with deadlines (see dnstap_out.h).
 *
 * All operations but dnstap_out_stop() run on libfstrm's I/O thread (or,
 * for the writer's last close, on the thread that joined it). The socket is
 * non-blocking; a wait is poll() on it and on an eventfd that
 * dnstap_out_stop() writes, so a wait begun before the stop ends at the
 * stop deadline, not at its own.
 */
#include "dnsd/io/dnstap_out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The most iovecs libfstrm's writer passes in one write (its
 * FSTRM__WRITER_IOVEC_SIZE); more is refused, never overrun. */
#define DNSTAP_OUT_IOV 256

struct dnstap_out {
    struct sockaddr_un sun; /* unix socket: the reader's address */
    char path[4096];        /* file */
    bool unix_sock;
    bool opened_once; /* file: truncated at the first open, appended to after */
    int fd;
    int wake;                         /* eventfd, readable once stopping */
    atomic_bool stopping;             /* set (release) after stop_at */
    uint64_t stop_at;                 /* CLOCK_MONOTONIC ns: nothing waits past it */
    uint64_t credit;                  /* data frames written and not yet released */
    struct iovec iov[DNSTAP_OUT_IOV]; /* what is left of a write */
};

static uint64_t dnstap_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The end of an operation begun now. */
static uint64_t dnstap_deadline(const dnstap_out_t *out)
{
    uint64_t end = dnstap_now() + (uint64_t)DNSTAP_IO_MS * 1000000u;
    if (atomic_load_explicit(&out->stopping, memory_order_acquire) && out->stop_at < end)
        end = out->stop_at;
    return end;
}

/*
 * Waits until the socket is ready for `events` (or has an error, which the
 * next call reports) and before `end`; the stop deadline shortens `end`.
 * 0 when ready, -1 with errno ETIMEDOUT or poll's.
 */
static int dnstap_wait(dnstap_out_t *out, short events, uint64_t end)
{
    for (;;) {
        bool stopping = atomic_load_explicit(&out->stopping, memory_order_acquire);
        uint64_t now = dnstap_now();
        if (stopping && out->stop_at < end)
            end = out->stop_at;
        if (now >= end) {
            errno = ETIMEDOUT;
            return -1;
        }
        /* Once stopping the eventfd stays readable: leave it out then. */
        struct pollfd p[2] = {{.fd = out->fd, .events = events},
                              {.fd = out->wake, .events = POLLIN}};
        int ms = (int)((end - now + 999999u) / 1000000u);
        int r = poll(p, stopping ? 1 : 2, ms);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0 && p[0].revents)
            return 0;
    }
}

static fstrm_res dnstap_out_close(void *obj)
{
    dnstap_out_t *out = obj;
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    return fstrm_res_success;
}

/* A non-blocking connect: a unix socket connects at once or not at all
 * (EAGAIN when the reader's backlog is full); EINPROGRESS is waited for. */
static fstrm_res dnstap_open_unix(dnstap_out_t *out)
{
    int e = 0;
    socklen_t elen = sizeof e;
    out->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (out->fd < 0)
        return fstrm_res_failure;
    if (connect(out->fd, (const struct sockaddr *)&out->sun, sizeof out->sun) == 0)
        return fstrm_res_success;
    if (errno == EINPROGRESS && dnstap_wait(out, POLLOUT, dnstap_deadline(out)) == 0 &&
        getsockopt(out->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e == 0)
        return fstrm_res_success;
    dnstap_out_close(out);
    return fstrm_res_failure;
}

static fstrm_res dnstap_out_open(void *obj)
{
    dnstap_out_t *out = obj;
    dnstap_out_close(out); /* a failed handshake may leave it open */
    if (out->unix_sock)
        return dnstap_open_unix(out);
    out->fd = open(
        out->path,
        O_WRONLY | O_CREAT | O_CLOEXEC | (out->opened_once ? O_APPEND : O_TRUNC), 0640);
    out->opened_once = true;
    return out->fd >= 0 ? fstrm_res_success : fstrm_res_failure;
}

static fstrm_res dnstap_out_read(void *obj, void *data, size_t count)
{
    dnstap_out_t *out = obj;
    uint64_t end = dnstap_deadline(out);
    uint8_t *p = data;
    while (count > 0) {
        ssize_t r = recv(out->fd, p, count, MSG_DONTWAIT);
        if (r > 0) {
            p += r;
            count -= (size_t)r;
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN) ||
                   (errno == EAGAIN && dnstap_wait(out, POLLIN, end) != 0)) {
            return fstrm_res_failure; /* closed by the reader, error, or too slow */
        }
    }
    return fstrm_res_success;
}

/* Skips `n` written bytes of out->iov[*i..]. */
static void dnstap_advance(dnstap_out_t *out, int *i, int iovcnt, size_t n)
{
    while (*i < iovcnt && n >= out->iov[*i].iov_len)
        n -= out->iov[(*i)++].iov_len;
    if (*i < iovcnt) {
        out->iov[*i].iov_base = (uint8_t *)out->iov[*i].iov_base + n;
        out->iov[*i].iov_len -= n;
    }
}

/* One whole write, or failure (the stream is then cut mid-frame: libfstrm
 * closes and reconnects). A data write is (length, frame) pairs, a control
 * frame one iovec: the pairs count as written frames. */
static fstrm_res dnstap_out_write(void *obj, const struct iovec *iov, int iovcnt)
{
    dnstap_out_t *out = obj;
    uint64_t end = dnstap_deadline(out);
    if (iovcnt < 1 || iovcnt > DNSTAP_OUT_IOV)
        return fstrm_res_failure;
    memcpy(out->iov, iov, (size_t)iovcnt * sizeof *iov);
    for (int i = 0; i < iovcnt;) {
        struct msghdr m = {.msg_iov = &out->iov[i], .msg_iovlen = (size_t)(iovcnt - i)};
        ssize_t w;
        if (dnstap_now() >= end) /* a file never waits: bound it here */
            return fstrm_res_failure;
        w = out->unix_sock ? sendmsg(out->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT)
                           : writev(out->fd, m.msg_iov, (int)m.msg_iovlen);
        if (w >= 0)
            dnstap_advance(out, &i, iovcnt, (size_t)w);
        else if (errno != EINTR &&
                 (errno != EAGAIN || dnstap_wait(out, POLLOUT, end) != 0))
            return fstrm_res_failure;
    }
    if (iovcnt >= 2)
        out->credit += (uint64_t)iovcnt / 2;
    return fstrm_res_success;
}

dnstap_out_t *dnstap_out_new(const char *path, bool unix_sock, char *err, size_t errlen)
{
    dnstap_out_t *out = calloc(1, sizeof *out);
    if (!out) {
        snprintf(err, errlen, "query_log.dnstap: out of memory");
        return NULL;
    }
    out->fd = -1;
    out->unix_sock = unix_sock;
    out->sun.sun_family = AF_UNIX;
    if (strlen(path) >= (unix_sock ? sizeof out->sun.sun_path : sizeof out->path)) {
        snprintf(err, errlen, "query_log.dnstap %s: path too long", path);
        goto fail;
    }
    snprintf(out->sun.sun_path, sizeof out->sun.sun_path, "%s", unix_sock ? path : "");
    snprintf(out->path, sizeof out->path, "%s", path);
    out->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (out->wake < 0) {
        snprintf(err, errlen, "query_log.dnstap: eventfd: %s", strerror(errno));
        goto fail;
    }
    return out;
fail:
    free(out);
    return NULL;
}

struct fstrm_rdwr *dnstap_out_rdwr(dnstap_out_t *out)
{
    struct fstrm_rdwr *rdwr = fstrm_rdwr_init(out);
    if (!rdwr)
        return NULL;
    fstrm_rdwr_set_open(rdwr, dnstap_out_open);
    fstrm_rdwr_set_close(rdwr, dnstap_out_close);
    fstrm_rdwr_set_write(rdwr, dnstap_out_write);
    /* A read method makes libfstrm's writer do the bidirectional handshake
     * (READY, ACCEPT, START; STOP, FINISH) that socket readers expect. */
    if (out->unix_sock)
        fstrm_rdwr_set_read(rdwr, dnstap_out_read);
    return rdwr;
}

void dnstap_out_stop(dnstap_out_t *out)
{
    uint64_t one = 1;
    out->stop_at = dnstap_now() + (uint64_t)DNSTAP_STOP_MS * 1000000u;
    atomic_store_explicit(&out->stopping, true, memory_order_release);
    if (write(out->wake, &one, sizeof one) != sizeof one) {
        /* Cannot fail on a fresh eventfd; a wait then ends at its own deadline. */
    }
}

bool dnstap_out_written(dnstap_out_t *out)
{
    if (out->credit == 0)
        return false;
    out->credit--;
    return true;
}

void dnstap_out_free(dnstap_out_t *out)
{
    if (!out)
        return;
    dnstap_out_close(out);
    close(out->wake);
    free(out);
}
