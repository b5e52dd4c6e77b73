/*
 * udpgen.c - dnsd-udpgen, the cheap load generator of bench/xdp-bench: DNS
 * queries over UDP from a dnsperf-style query file ("name TYPE" a line),
 * sent with sendmmsg and received with recvmmsg in batches over many
 * connected sockets (each its own source port), answers matched by ID.
 *
 * Why beside dnsperf: dnsperf pays a system call (and often a sleep and a
 * wake-up) per query sent and per answer read, and on the veth rig it is
 * about half of the machine's CPU per query whatever the server, a floor
 * under every figure. Batches and connected sockets (no route lookup per
 * datagram) make the generator's share small, so that the comparison
 * measures the servers; the client kernel's UDP receive path stays.
 *
 * Usage: dnsd-udpgen -s ADDR [-p PORT] -d FILE [-l SECONDS] [-Q QPS]
 *                    [-q OUTSTANDING] [-S SOCKETS] [-t TIMEOUT_MS]
 * Without -Q it saturates: as many queries in flight as -q allows (200; 16
 * sockets; an answer later than -t, 5 s, is lost, as for dnsperf). It prints
 * dnsperf's summary lines (sent, completed, lost, queries per second), so a
 * script reads either. IPv4 or IPv6 server address.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GEN_BATCH 64     /* datagrams per sendmmsg/recvmmsg */
#define GEN_QMAX 300     /* bytes of a query: a name and the header */
#define GEN_SOCKS 256    /* most sockets */
#define GEN_SLOTS 4096   /* most queries in flight per socket */
#define GEN_LINES 200000 /* queries read from the file, at most */

typedef struct {
    uint8_t *wire; /* GEN_QMAX bytes per query */
    uint16_t *len;
    size_t n;
} queries_t;

typedef struct {
    int fd;
    uint32_t n_slots, n_free;
    uint16_t gen;   /* bumped per send: the ID's high bits */
    uint16_t *free; /* free slot numbers */
    uint16_t *id;   /* the ID in flight per slot */
    uint64_t *sent; /* ns, 0 when free */
} gsock_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const struct {
    const char *name;
    uint16_t type;
} types[] = {{"A", 1},     {"NS", 2},     {"CNAME", 5}, {"SOA", 6},
             {"PTR", 12},  {"MX", 15},    {"TXT", 16},  {"AAAA", 28},
             {"SRV", 33},  {"NAPTR", 35}, {"DS", 43},   {"DNSKEY", 48},
             {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255}, {"CAA", 257}};

static int qtype(const char *s)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(s, types[i].name))
            return types[i].type;
    if (!strncasecmp(s, "TYPE", 4) && s[4])
        return atoi(s + 4);
    return -1;
}

/* The query for `name` and `type` in wire form (ID 0, RD set as dnsperf
 * sets it), or 0 when the name does not fit. */
static size_t encode(uint8_t *out, const char *name, uint16_t type)
{
    static const uint8_t hdr[12] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, hdr, 12);
    size_t o = 12;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l == 0 || l > 63 || o + l + 1 > 12 + 255)
            return 0;
        out[o++] = (uint8_t)l;
        memcpy(out + o, name, l);
        o += l;
        name += l + (dot ? 1 : 0);
    }
    out[o++] = 0;
    out[o++] = (uint8_t)(type >> 8);
    out[o++] = (uint8_t)type;
    out[o++] = 0;
    out[o++] = 1; /* IN */
    return o;
}

static int load(const char *path, queries_t *q)
{
    FILE *f = fopen(path, "r");
    char line[512], name[300], type[32];
    if (!f) {
        fprintf(stderr, "dnsd-udpgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    q->wire = malloc((size_t)GEN_LINES * GEN_QMAX);
    q->len = malloc(GEN_LINES * sizeof *q->len);
    q->n = 0;
    while (q->wire && q->len && q->n < GEN_LINES && fgets(line, sizeof line, f)) {
        int t;
        if (sscanf(line, "%299s %31s", name, type) != 2 || name[0] == ';')
            continue;
        if ((t = qtype(type)) < 0 ||
            !(q->len[q->n] =
                  (uint16_t)encode(q->wire + q->n * GEN_QMAX, name, (uint16_t)t))) {
            fprintf(stderr, "dnsd-udpgen: %s: cannot encode: %s", path, line);
            continue;
        }
        q->n++;
    }
    fclose(f);
    if (!q->n)
        fprintf(stderr, "dnsd-udpgen: %s: no queries\n", path);
    return q->n ? 0 : -1;
}

static void cleanup(queries_t *q, gsock_t *s, int n, int ep)
{
    free(q->wire);
    free(q->len);
    for (int i = 0; i < n; i++) {
        if (s[i].fd > 0)
            close(s[i].fd);
        free(s[i].free);
        free(s[i].id);
        free(s[i].sent);
    }
    if (ep >= 0)
        close(ep);
}

/* Opens n connected sockets; returns the epoll fd that watches them, or -1. */
static int open_socks(gsock_t *s, int n, const struct sockaddr_storage *to,
                      socklen_t tolen, uint32_t slots)
{
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        s[i].fd = socket(to->ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (s[i].fd < 0 || connect(s[i].fd, (const struct sockaddr *)to, tolen) != 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &ev) != 0) {
            perror("dnsd-udpgen: socket");
            goto fail;
        }
        s[i].n_slots = s[i].n_free = slots;
        s[i].free = calloc(slots, sizeof *s[i].free);
        s[i].id = calloc(slots, sizeof *s[i].id);
        s[i].sent = calloc(slots, sizeof *s[i].sent);
        if (!s[i].free || !s[i].id || !s[i].sent)
            goto fail;
        for (uint32_t k = 0; k < slots; k++)
            s[i].free[k] = (uint16_t)(slots - 1 - k);
    }
    return ep;
fail:
    if (ep >= 0)
        close(ep); /* the sockets and slots go with cleanup() */
    return -1;
}

typedef struct {
    uint64_t sent, done, noerror, lost, last_answer;
} counts_t;

/* Reads every answer waiting on s; returns how many were matched. */
static unsigned drain(gsock_t *s, counts_t *c)
{
    static uint8_t buf[GEN_BATCH][512];
    struct mmsghdr m[GEN_BATCH];
    struct iovec iov[GEN_BATCH];
    unsigned got = 0;
    for (;;) {
        for (int i = 0; i < GEN_BATCH; i++) {
            iov[i] = (struct iovec){buf[i], sizeof buf[i]};
            m[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(s->fd, m, GEN_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return got;
        uint64_t t = now_ns();
        for (int i = 0; i < n; i++) {
            if (m[i].msg_len < 12 || !(buf[i][2] & 0x80))
                continue;
            uint16_t id = (uint16_t)(buf[i][0] << 8 | buf[i][1]);
            uint32_t slot = id % s->n_slots;
            if (!s->sent[slot] || s->id[slot] != id)
                continue; /* late (already counted lost) or not ours */
            s->sent[slot] = 0;
            s->free[s->n_free++] = (uint16_t)slot;
            c->done++;
            c->noerror += (buf[i][3] & 0x0f) == 0;
            c->last_answer = t;
            got++;
        }
        if (n < GEN_BATCH)
            return got;
    }
}

/* Sends up to `budget` queries on s; returns how many went. */
static unsigned send_some(gsock_t *s, const queries_t *q, size_t *next, unsigned budget,
                          counts_t *c)
{
    static uint8_t buf[GEN_BATCH][GEN_QMAX];
    struct mmsghdr m[GEN_BATCH];
    struct iovec iov[GEN_BATCH];
    uint32_t slot[GEN_BATCH];
    unsigned k = 0;
    uint64_t t = now_ns();
    while (k < GEN_BATCH && k < budget && s->n_free) {
        size_t i = *next;
        *next = (i + 1) % q->n;
        slot[k] = s->free[--s->n_free];
        /* The ID: the slot in its low bits, a counter above (so a late
         * answer for a reused slot does not match). */
        uint16_t id = (uint16_t)(slot[k] + s->n_slots * (uint32_t)(s->gen++ %
                                                                   (65536 / s->n_slots)));
        s->id[slot[k]] = id;
        s->sent[slot[k]] = t;
        memcpy(buf[k], q->wire + i * GEN_QMAX, q->len[i]);
        buf[k][0] = (uint8_t)(id >> 8);
        buf[k][1] = (uint8_t)id;
        iov[k] = (struct iovec){buf[k], q->len[i]};
        m[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k], .msg_iovlen = 1};
        k++;
    }
    int n = k ? sendmmsg(s->fd, m, k, MSG_DONTWAIT) : 0;
    n = n < 0 ? 0 : n;
    for (unsigned i = (unsigned)n; i < k; i++) { /* not sent: the slots are free again */
        s->sent[slot[i]] = 0;
        s->free[s->n_free++] = (uint16_t)slot[i];
    }
    c->sent += (unsigned)n;
    return (unsigned)n;
}

/* Queries unanswered after the timeout are lost; their slots are reused. */
static void expire(gsock_t *s, int n, uint64_t now, uint64_t timeout, counts_t *c)
{
    for (int i = 0; i < n; i++)
        for (uint32_t k = 0; k < s[i].n_slots; k++)
            if (s[i].sent[k] && now > s[i].sent[k] + timeout) {
                s[i].sent[k] = 0;
                s[i].free[s[i].n_free++] = (uint16_t)k;
                c->lost++;
            }
}

/* Waits up to ms for answers (0: only looks) and reads those that came. */
static unsigned wait_and_drain(int ep, gsock_t *s, int ms, counts_t *c)
{
    struct epoll_event ev[GEN_SOCKS];
    int n = epoll_wait(ep, ev, GEN_SOCKS, ms);
    unsigned got = 0;
    for (int i = 0; i < n; i++)
        got += drain(&s[ev[i].data.u32], c);
    return got;
}

static int parse_addr(const char *a, int port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, a, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof *in;
        return 0;
    }
    if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: dnsd-udpgen -s ADDR [-p PORT] -d FILE [-l SECONDS] [-Q QPS] "
                    "[-q OUTSTANDING] [-S SOCKETS] [-t TIMEOUT_MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *server = NULL, *file = NULL;
    int port = 53, nsock = 16, opt;
    double seconds = 10, rate = 0;
    long outstanding = 200, timeout_ms = 5000; /* dnsperf's default timeout */
    while ((opt = getopt(argc, argv, "s:p:d:l:Q:q:S:t:")) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'd':
            file = optarg;
            break;
        case 'l':
            seconds = atof(optarg);
            break;
        case 'Q':
            rate = atof(optarg);
            break;
        case 'q':
            outstanding = atol(optarg);
            break;
        case 'S':
            nsock = atoi(optarg);
            break;
        case 't':
            timeout_ms = atol(optarg);
            break;
        default:
            usage();
        }
    }
    if (!server || !file || nsock < 1 || nsock > GEN_SOCKS || outstanding < nsock ||
        outstanding > (long)nsock * GEN_SLOTS || seconds <= 0 || timeout_ms < 1)
        usage();
    struct sockaddr_storage to;
    socklen_t tolen;
    static gsock_t socks[GEN_SOCKS];
    queries_t q = {0};
    if (parse_addr(server, port, &to, &tolen) != 0) {
        fprintf(stderr, "dnsd-udpgen: %s: not an address\n", server);
        return 1;
    }
    int ep = -1;
    if (load(file, &q) != 0 ||
        (ep = open_socks(socks, nsock, &to, tolen,
                         (uint32_t)((outstanding + nsock - 1) / nsock))) < 0) {
        cleanup(&q, socks, nsock, ep);
        return 1;
    }
    counts_t c = {0};
    size_t next = 0;
    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9),
             timeout = (uint64_t)timeout_ms * 1000000u, next_expire = start;
    int cur = 0, wait_ms = 0;
    for (uint64_t now = start; now < end; now = now_ns()) {
        wait_and_drain(ep, socks, wait_ms, &c);
        /* At a fixed rate, what the clock allows by now; else all free slots. */
        uint64_t allow = UINT64_MAX, went = 0;
        if (rate > 0) {
            uint64_t due = (uint64_t)(rate * (double)(now - start) / 1e9);
            allow = due > c.sent ? due - c.sent : 0;
        }
        for (int i = 0; i < nsock && allow > went; i++, cur = (cur + 1) % nsock) {
            uint64_t left = allow - went;
            went += send_some(&socks[cur], &q, &next,
                              left > GEN_BATCH ? GEN_BATCH : (unsigned)left, &c);
        }
        if (now >= next_expire) {
            expire(socks, nsock, now_ns(), timeout, &c);
            next_expire = now + 10000000u;
        }
        /* Nothing went: every slot is in flight, or the rate holds us back. */
        wait_ms = went ? 0 : 1;
    }
    uint64_t stop = now_ns(), deadline = stop + timeout;
    for (uint64_t now = stop; c.done + c.lost < c.sent && now < deadline; now = now_ns())
        wait_and_drain(ep, socks, 1, &c);
    c.lost = c.sent - c.done;
    double run = (double)((c.last_answer > stop ? c.last_answer : stop) - start) / 1e9;
    printf("  Queries sent:         %llu\n", (unsigned long long)c.sent);
    printf("  Queries completed:    %llu (%.2f%%)\n", (unsigned long long)c.done,
           c.sent ? 100.0 * (double)c.done / (double)c.sent : 0.0);
    printf("  Queries lost:         %llu (%.2f%%)\n", (unsigned long long)c.lost,
           c.sent ? 100.0 * (double)c.lost / (double)c.sent : 0.0);
    printf("  Response codes:       NOERROR %llu\n", (unsigned long long)c.noerror);
    printf("  Run time (s):         %.6f\n", run);
    printf("  Queries per second:   %.6f\n", run > 0 ? (double)c.done / run : 0.0);
    cleanup(&q, socks, nsock, ep);
    return 0;
}
