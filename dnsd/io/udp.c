/*
 * udp.c - batched UDP: recvmmsg a batch, answer each datagram, sendmmsg the
 * answers (see udp.h). The hot path of the server: no allocation, no lock, no
 * logging; problems are counted in the worker's stat_counters_t.
 */
#include "dnsd/io/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dnsd/io/dnstap.h"
#include "dnsd/base/log.h"
#include "dnsd/data/data.h"

/*
 * Socket buffers asked for: 4 MB absorbs a burst of several thousand queries
 * while a worker is busy (the default ~200 KB holds a few hundred). Best
 * effort: SO_RCVBUFFORCE works with CAP_NET_ADMIN, else the kernel caps
 * SO_RCVBUF at net.core.rmem_max.
 */
#define UDP_SOCKBUF (4 * 1024 * 1024)

/* Batches drained per poll callback before returning to the loop, so one busy
 * socket cannot starve the worker's other sockets and its TCP connections. */
#define UDP_BATCHES_PER_WAKEUP 8

static bool udp_is_wildcard(const cfg_listen_t *l)
{
    if (l->addr.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;
        return sin->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;
    return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static void udp_bufsize(int fd, int force_opt, int opt)
{
    int size = UDP_SOCKBUF;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

/* The kernel may grant less than asked (and reports double the usable size). */
static void udp_log_bufsize(int fd, const cfg_listen_t *l)
{
    int rcv = 0, snd = 0;
    socklen_t len = sizeof(rcv);
    (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
    len = sizeof(snd);
    (void)getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &len);
    log_msg(LOG_DEBUG,
            "udp %s: fd %d, socket buffers %d/%d bytes (asked %d; see net.core.rmem_max)",
            l->text, fd, rcv, snd, UDP_SOCKBUF);
}

int udp_socket_open(const cfg_listen_t *l, char *err, size_t errlen)
{
    int one = 1, v6 = l->addr.ss_family == AF_INET6;
    const char *what = "socket";
    int fd = socket(l->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    what = "SO_REUSEPORT";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    /* A v6 socket answers v6 only: a v4 address is listened on explicitly. */
    what = "IPV6_V6ONLY";
    if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
        goto fail;
    udp_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    udp_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    if (udp_is_wildcard(l)) {
        /* On a multi-homed host a reply must leave from the address the query
         * was sent to, or the resolver discards it: learn it per datagram. */
        what = v6 ? "IPV6_RECVPKTINFO" : "IP_PKTINFO";
        if (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
               : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))
            goto fail;
    }
    what = "bind";
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0)
        goto fail;
    udp_log_bufsize(fd, l);
    return fd;
fail:
    snprintf(err, errlen, "udp %s: %s: %s", l->text, what, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

void udp_batch_init(udp_batch_t *b)
{
    memset(b, 0, offsetof(udp_batch_t, rbuf));
    for (size_t i = 0; i < UDP_BATCH; i++) {
        b->riov[i].iov_base = b->rbuf[i];
        b->riov[i].iov_len = UDP_RECV_SLOT;
        b->siov[i].iov_base = b->sbuf[i];
    }
}

/* Resets the receive headers: recvmmsg overwrites the lengths it fills in. */
static void udp_batch_arm(udp_batch_t *b, bool pktinfo)
{
    for (size_t i = 0; i < UDP_BATCH; i++) {
        struct msghdr *h = &b->rmsg[i].msg_hdr;
        h->msg_name = &b->src[i];
        h->msg_namelen = sizeof(b->src[i]);
        h->msg_iov = &b->riov[i];
        h->msg_iovlen = 1;
        h->msg_control = pktinfo ? b->rctl[i].buf : NULL;
        h->msg_controllen = pktinfo ? sizeof(b->rctl[i].buf) : 0;
        h->msg_flags = 0;
    }
}

/* The IP_PKTINFO or IPV6_PKTINFO message of a received datagram, or NULL. */
static const struct cmsghdr *udp_pktinfo(const struct msghdr *in)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c;
         c = CMSG_NXTHDR((struct msghdr *)in, c))
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO))
            return c;
    return NULL;
}

/*
 * Turns the destination address of a received datagram into the source of its
 * reply. IPv4: ipi_spec_dst is the source to use; ifindex 0 lets routing pick
 * the interface. IPv6: the address and its interface (needed for link-local).
 * Returns the control length to send, 0 when the query carried no pktinfo.
 */
static size_t udp_reply_pktinfo(const struct msghdr *in, udp_cmsg_t *out)
{
    const struct cmsghdr *c = udp_pktinfo(in);
    struct cmsghdr *o = &out->align;
    if (c && c->cmsg_level == IPPROTO_IP) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        pi.ipi_spec_dst = pi.ipi_addr;
        pi.ipi_ifindex = 0;
        o->cmsg_level = IPPROTO_IP, o->cmsg_type = IP_PKTINFO;
        o->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(o), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    if (c) {
        o->cmsg_level = IPPROTO_IPV6, o->cmsg_type = IPV6_PKTINFO;
        o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
        return CMSG_SPACE(sizeof(struct in6_pktinfo));
    }
    return 0;
}

/*
 * The address a datagram was sent to, for the query log: the bound one, or on
 * a wildcard socket the pktinfo destination with the bound port.
 */
static const struct sockaddr *udp_local(const udp_sock_t *s, const struct msghdr *in,
                                        struct sockaddr_storage *tmp)
{
    if (!s->pktinfo)
        return (const struct sockaddr *)&s->local;
    *tmp = s->local;
    const struct cmsghdr *c = udp_pktinfo(in);
    if (c && c->cmsg_level == IPPROTO_IP && tmp->ss_family == AF_INET) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        ((struct sockaddr_in *)tmp)->sin_addr = pi.ipi_addr;
    } else if (c && c->cmsg_level == IPPROTO_IPV6 && tmp->ss_family == AF_INET6) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        ((struct sockaddr_in6 *)tmp)->sin6_addr = pi.ipi6_addr;
    }
    return (const struct sockaddr *)tmp;
}

/* Answers received datagram i into send slot k. Returns true if there is a
 * reply to send. */
static bool udp_answer(udp_sock_t *s, const srv_data_t *data, size_t i, size_t k)
{
    udp_batch_t *b = s->batch;
    struct msghdr *in = &b->rmsg[i].msg_hdr;
    if (in->msg_flags & MSG_TRUNC) {
        /* Larger than any sane query (udp.h): not worth a FORMERR. */
        s->ans->stats->dropped[STAT_MALFORMED]++;
        return false;
    }
    size_t len = answer_respond(s->ans, data, b->rbuf[i], b->rmsg[i].msg_len,
                                (const struct sockaddr *)&b->src[i], ANSWER_UDP,
                                b->sbuf[k], ANSWER_UDP_MAX);
    if (len == 0)
        return false;
    if (s->ans->dnstap) {
        struct sockaddr_storage tmp;
        dnstap_log(s->ans->dnstap, ANSWER_UDP, (const struct sockaddr *)&b->src[i],
                   udp_local(s, in, &tmp), b->rbuf[i], b->rmsg[i].msg_len, b->sbuf[k],
                   len, s->ans->stats);
    }
    struct msghdr *out = &b->smsg[k].msg_hdr;
    b->siov[k].iov_len = len;
    out->msg_name = &b->src[i];
    out->msg_namelen = in->msg_namelen;
    out->msg_iov = &b->siov[k];
    out->msg_iovlen = 1;
    out->msg_control = NULL;
    out->msg_controllen = 0;
    out->msg_flags = 0;
    if (s->pktinfo) {
        size_t cl = udp_reply_pktinfo(in, &b->sctl[k]);
        out->msg_control = cl ? b->sctl[k].buf : NULL;
        out->msg_controllen = cl;
    }
    return true;
}

/*
 * Sends replies 0..n. A reply the kernel refuses (full buffer, unreachable
 * destination) is counted and skipped: retrying would stall the batch and a
 * resolver retries on its own.
 */
static void udp_send(udp_sock_t *s, size_t n)
{
    size_t done = 0;
    while (done < n) {
        int r =
            sendmmsg(s->fd, &s->batch->smsg[done], (unsigned)(n - done), MSG_DONTWAIT);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        s->ans->stats->udp_send_errors++;
        done++;
    }
}

/* One batch: returns how many datagrams were received (0 when drained). */
static int udp_drain_batch(udp_sock_t *s)
{
    udp_batch_t *b = s->batch;
    udp_batch_arm(b, s->pktinfo);
    int n = recvmmsg(s->fd, b->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0; /* EAGAIN: drained; other errors (ICMP-driven) are transient */
    const srv_data_t *data = srv_data_get();
    size_t k = 0;
    for (size_t i = 0; i < (size_t)n; i++)
        if (udp_answer(s, data, i, k))
            k++;
    if (k)
        udp_send(s, k);
    return n;
}

static void udp_on_readable(uv_poll_t *poll, int status, int events)
{
    udp_sock_t *s = poll->data;
    if (status < 0)
        return;
    for (int i = 0; i < UDP_BATCHES_PER_WAKEUP; i++)
        if (udp_drain_batch(s) < UDP_BATCH)
            break; /* a short batch means the queue is (nearly) empty */
}

int udp_sock_start(udp_sock_t *s, uv_loop_t *loop, int fd, const cfg_listen_t *l,
                   answer_ctx_t *ans, udp_batch_t *batch)
{
    s->fd = fd;
    s->family = l->addr.ss_family;
    s->pktinfo = udp_is_wildcard(l);
    memcpy(&s->local, &l->addr, sizeof s->local);
    s->ans = ans;
    s->batch = batch;
    s->open = false;
    int r = uv_poll_init(loop, &s->poll, fd);
    if (r < 0) {
        close(fd);
        s->fd = -1;
        return r;
    }
    s->open = true; /* from here on, udp_sock_close() releases handle and fd */
    s->poll.data = s;
    return uv_poll_start(&s->poll, UV_READABLE, udp_on_readable);
}

static void udp_on_close(uv_handle_t *h)
{
    udp_sock_t *s = h->data;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void udp_sock_close(udp_sock_t *s)
{
    if (s->open && !uv_is_closing((uv_handle_t *)&s->poll))
        uv_close((uv_handle_t *)&s->poll, udp_on_close);
}
