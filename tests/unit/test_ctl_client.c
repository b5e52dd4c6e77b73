/*
 * test_ctl_client.c - the control library in conversation, and dnsdctl.
 *
 * Real conversations over socketpairs, unix and TCP sockets with a small
 * server written here on top of the library (the daemon's control thread is
 * the other real user): pushes, refusals, wrong or missing keys, oversize
 * frames, replays and truncation; then dnsdctl itself run with posix_spawn:
 * check, push, usage errors and fleet mode with one node down. The library's
 * frames, MACs and codecs on their own are in test_ctl_protocol.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ctl/ctl.h"
#include "ctl_test.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* A small server on top of the library, as the daemon's control thread is. */
/* ------------------------------------------------------------------------ */

typedef struct tsrv {
    const ctl_key_t *key;
    bool mac;
    uint64_t serial; /* 0: none yet */
} tsrv_t;

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0)
            return -1;
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

static int tsrv_reply(int fd, ctl_conn_t *c, uint8_t type, const char *json)
{
    uint8_t head[CTL_HEAD_MAX], mac[CTL_MAC_LEN];
    size_t head_len, mac_len;
    if (ctl_conn_seal(c, type, (const uint8_t *)json, strlen(json), head, &head_len, mac,
                      &mac_len) < 0)
        return -1;
    struct iovec iov[3] = {
        {head, head_len}, {(void *)json, strlen(json)}, {mac, mac_len}};
    return write_all(fd, iov, 3);
}

static void tsrv_push(tsrv_t *s, int fd, ctl_conn_t *c, const ctl_frame_t *f)
{
    ctl_push_t p;
    char out[512];
    uint64_t serial = 0;
    if (ctl_push_decode(f->payload, f->len, &p) < 0) {
        tsrv_reply(fd, c, CTL_T_ERR,
                   "{\"error\": \"malformed payload\", \"details\": []}");
        return;
    }
    ctl_jval_t *v = ctl_json_parse((const char *)p.snap, p.snap_len);
    ctl_json_u64(ctl_json_get(v, "serial"), &serial);
    ctl_json_free(v);
    if (serial <= s->serial && !(p.flags & CTL_PUSH_FORCE)) {
        snprintf(out, sizeof(out), "serial %llu is not newer than %llu",
                 (unsigned long long)serial, (unsigned long long)s->serial);
        const char *d[] = {out};
        char *e = ctl_error_json("serial not newer", d, 1);
        tsrv_reply(fd, c, CTL_T_ERR, e);
        free(e);
        return;
    }
    char old[32] = "null";
    if (s->serial)
        snprintf(old, sizeof(old), "%llu", (unsigned long long)s->serial);
    snprintf(
        out, sizeof(out),
        "{\"origin\": \"%s\", \"old_serial\": %s, \"new_serial\": %llu, \"servers\": 1, "
        "\"build_ms\": 0.25}",
        p.origin[0] ? p.origin : "pool.ntp.org", old, (unsigned long long)serial);
    s->serial = serial;
    tsrv_reply(fd, c, CTL_T_OK, out);
}

/* Serves one connection until EOF or a protocol error (replied, then closed). */
static void tsrv_conn(tsrv_t *s, int fd)
{
    ctl_conn_t c;
    ctl_reader_t r;
    uint8_t hello[300], buf[4096];
    char out[256];
    ssize_t n;
    ctl_conn_server_init(&c, s->key, s->mac);
    int hl = ctl_conn_hello_frame(&c, "test-node", hello, sizeof(hello));
    struct iovec iov = {hello, (size_t)hl};
    if (write_all(fd, &iov, 1) < 0)
        goto done;
    ctl_reader_init(&r, 1 << 20, &c);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        const uint8_t *p = buf;
        while (n > 0) {
            ctl_frame_t f;
            size_t used;
            int rc = ctl_reader_feed(&r, p, (size_t)n, &used, &f);
            p += used;
            n -= (ssize_t)used;
            if (rc == 1)
                rc = ctl_conn_open(&c, &f);
            else if (rc == 0)
                continue;
            if (rc < 0) {
                char *e = ctl_error_json(ctl_strerror(rc), NULL, 0);
                tsrv_reply(fd, &c, CTL_T_ERR, e);
                free(e);
                goto out;
            }
            if (f.type == CTL_T_PUSH) {
                tsrv_push(s, fd, &c, &f);
                continue;
            }
            snprintf(out, sizeof(out),
                     "{\"identity\": \"test-node\", \"zones\": [{\"origin\": "
                     "\"pool.ntp.org\", "
                     "\"serial\": %llu}]}",
                     (unsigned long long)s->serial);
            tsrv_reply(fd, &c, CTL_T_OK, out);
        }
    }
    if (n == 0 && ctl_reader_eof(&r) < 0) {
        char *e = ctl_error_json(ctl_strerror(CTL_ERR_TRUNCATED), NULL, 0);
        tsrv_reply(fd, &c, CTL_T_ERR, e);
        free(e);
    }
out:
    ctl_reader_deinit(&r);
done:
    close(fd);
}

/* Forks a server: on a listening socket (accepting until killed) or on one
 * connected socket. Bounded by alarm() in case the parent dies. `other` (the
 * client's end of a socketpair, or -1) is closed in the child, or the server
 * would never see the client's EOF. */
static pid_t tsrv_fork(tsrv_t s, int fd, bool listening, int other)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    alarm(30);
    if (other >= 0)
        close(other);
    if (!listening) {
        tsrv_conn(&s, fd);
        _exit(0);
    }
    for (;;) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd >= 0)
            tsrv_conn(&s, cfd);
    }
}

static void reap(pid_t pid, bool kill_it)
{
    int st;
    if (kill_it)
        kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
}

static void test_conversation(void)
{
    ctl_key_t k, wrong;
    ctl_client_t *c = malloc(sizeof(*c));
    char *reply;
    uint8_t rtype;
    int sv[2];
    key_of(&k, 'k');
    key_of(&wrong, 'w');

    /* Authenticated: push, a refused older push, status. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t pid = tsrv_fork((tsrv_t){&k, true, 5}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], &k, 5000), 0);
    CHECK_STR_EQ(c->conn.identity, "test-node");
    size_t len;
    const char *snap = "{\"serial\": 9, \"servers\": []}";
    uint8_t *p = ctl_push_encode(0, NULL, (const uint8_t *)snap, strlen(snap), &len);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_PUSH, p, len, &rtype, &reply), 0);
    CHECK_INT_EQ(rtype, CTL_T_OK);
    CHECK_STR_HAS(reply, "\"old_serial\": 5, \"new_serial\": 9");
    free(reply);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_PUSH, p, len, &rtype, &reply), 0);
    CHECK_INT_EQ(rtype, CTL_T_ERR);
    CHECK_STR_HAS(reply, "serial 9 is not newer than 9");
    free(reply);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_STATUS, NULL, 0, &rtype, &reply), 0);
    CHECK_STR_HAS(reply, "\"serial\": 9");
    free(reply);
    ctl_client_close(c);
    reap(pid, false);

    /* Wrong key: the server refuses the MAC, and its reply fails our check. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = tsrv_fork((tsrv_t){&k, true, 5}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], &wrong, 5000), 0);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_STATUS, NULL, 0, &rtype, &reply),
                 CTL_ERR_MAC);
    ctl_client_close(c);
    reap(pid, false);

    /* No key for a server that wants one; a key for one that offers no MAC. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = tsrv_fork((tsrv_t){&k, true, 5}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], NULL, 5000), CTL_ERR_NOKEY);
    reap(pid, false);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = tsrv_fork((tsrv_t){NULL, false, 5}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], &k, 5000), CTL_ERR_NOAUTH);
    reap(pid, false);

    /* Over the server's cap (1 MiB here): refused from the header alone, and
     * the client reads the ERR although the server closed mid-send. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = tsrv_fork((tsrv_t){&k, true, 5}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], &k, 5000), 0);
    size_t big_len = 4u << 20;
    uint8_t *big = calloc(1, big_len);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_PUSH, big, big_len, &rtype, &reply), 0);
    CHECK_INT_EQ(rtype, CTL_T_ERR);
    CHECK_STR_HAS(reply, "oversize frame");
    free(reply);
    free(big);
    ctl_client_close(c);
    reap(pid, false);

    /* Unix socket mode: no MAC on either side. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = tsrv_fork((tsrv_t){NULL, false, 0}, sv[1], false, sv[0]);
    close(sv[1]);
    CHECK_INT_EQ(ctl_client_attach(c, sv[0], NULL, 5000), 0);
    CHECK_INT_EQ(ctl_client_request(c, CTL_T_PUSH, p, len, &rtype, &reply), 0);
    CHECK_STR_HAS(reply, "\"old_serial\": null, \"new_serial\": 9");
    free(reply);
    ctl_client_close(c);
    reap(pid, false);
    free(p);
    free(c);
}

/* Reads one frame from a raw fd (for the replay and truncation tests). */
static int raw_frame(int fd, ctl_reader_t *r, ctl_frame_t *f)
{
    uint8_t b;
    for (;;) {
        size_t used;
        if (read(fd, &b, 1) != 1)
            return ctl_reader_eof(r) < 0 ? CTL_ERR_TRUNCATED : CTL_ERR_CLOSED;
        int rc = ctl_reader_feed(r, &b, 1, &used, f);
        if (rc != 0)
            return rc;
    }
}

/* A connection to a forked MAC-requiring test server: its HELLO read and
 * taken, the reader set for MACs. sv[0] is ours; returns the server's pid. */
static pid_t raw_connect(const ctl_key_t *k, ctl_conn_t *c, ctl_reader_t *r,
                         ctl_frame_t *f, int sv[2])
{
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t pid = tsrv_fork((tsrv_t){k, true, 1}, sv[1], false, sv[0]);
    close(sv[1]);
    ctl_conn_client_init(c, k);
    ctl_reader_init(r, 0, c);
    CHECK_INT_EQ(raw_frame(sv[0], r, f), 1);
    CHECK_INT_EQ(ctl_conn_open(c, f), 0);
    CHECK(c->mac);
    return pid;
}

static void test_replay_and_truncation(void)
{
    ctl_key_t k;
    ctl_frame_t f;
    ctl_reader_t r;
    int sv[2];
    uint8_t hdr[8], head[CTL_HEAD_MAX], mac[CTL_MAC_LEN], rec[CTL_HEAD_MAX + CTL_MAC_LEN];
    size_t head_len, mac_len;
    key_of(&k, 'k');

    /* Connection 1: a real client's STATUS frame, recorded as sent. */
    ctl_conn_t c;
    pid_t pid = raw_connect(&k, &c, &r, &f, sv);
    ctl_conn_seal(&c, CTL_T_STATUS, NULL, 0, head, &head_len, mac, &mac_len);
    memcpy(rec, head, CTL_HEAD_MAX);
    memcpy(rec + CTL_HEAD_MAX, mac, CTL_MAC_LEN);
    CHECK_INT_EQ(write(sv[0], rec, sizeof(rec)), sizeof(rec));
    CHECK_INT_EQ(raw_frame(sv[0], &r, &f), 1);
    CHECK_INT_EQ(ctl_conn_open(&c, &f), 0);
    CHECK_INT_EQ(f.type, CTL_T_OK);
    /* Replayed on the same connection: the sequence number moved on. */
    CHECK_INT_EQ(write(sv[0], rec, sizeof(rec)), sizeof(rec));
    CHECK_INT_EQ(raw_frame(sv[0], &r, &f), 1);
    CHECK_INT_EQ(ctl_conn_open(&c, &f), 0);
    CHECK_INT_EQ(f.type, CTL_T_ERR);
    CHECK(memmem(f.payload, f.len, "bad MAC", 7) != NULL);
    ctl_reader_deinit(&r);
    close(sv[0]);
    reap(pid, false);

    /* Connection 2: the same frame as its first request (seq 0 again) fails
     * because the nonce differs. */
    pid = raw_connect(&k, &c, &r, &f, sv);
    CHECK_INT_EQ(write(sv[0], rec, sizeof(rec)), sizeof(rec));
    CHECK_INT_EQ(raw_frame(sv[0], &r, &f), 1);
    CHECK_INT_EQ(ctl_conn_open(&c, &f), 0);
    CHECK(memmem(f.payload, f.len, "bad MAC", 7) != NULL);
    ctl_reader_deinit(&r);
    close(sv[0]);
    reap(pid, false);

    /* Connection 3: a truncated frame, then half-close: the server says so. */
    pid = raw_connect(&k, &c, &r, &f, sv);
    ctl_frame_write_header(hdr, CTL_T_PUSH, 100);
    CHECK_INT_EQ(write(sv[0], hdr, 8), 8);
    CHECK_INT_EQ(write(sv[0], "{\"serial\"", 9), 9);
    shutdown(sv[0], SHUT_WR);
    CHECK_INT_EQ(raw_frame(sv[0], &r, &f), 1);
    CHECK_INT_EQ(ctl_conn_open(&c, &f), 0);
    CHECK(memmem(f.payload, f.len, "truncated frame", 15) != NULL);
    ctl_reader_deinit(&r);
    close(sv[0]);
    reap(pid, false);
}

/* ------------------------------------------------------------------------ */
/* dnsdctl itself                                                           */
/* ------------------------------------------------------------------------ */

static char dnsdctl_path[512];

/* Runs dnsdctl with argv; stdout+stderr into *out (static). Exit code or -1. */
static int run_dnsdctl(char *const argv[], const char **out)
{
    static char buf[65536];
    char path[128];
    snprintf(path, sizeof(path), "%s/out.txt", tmpdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int st = -1;
    int rc = posix_spawn(&pid, dnsdctl_path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "posix_spawn %s: %s\n", dnsdctl_path, strerror(rc));
        return -1;
    }
    waitpid(pid, &st, 0);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_dnsdctl_local(void)
{
    const char *out, *src = getenv("DNSD_SOURCE_DIR");
    char sample[512], bad[128], good[128];
    snprintf(sample, sizeof(sample), "%s/config/sample-snapshot.json", src ? src : ".");
    if (access(sample, R_OK) == 0) {
        CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "check", sample, NULL}, &out), 0);
        CHECK_STR_HAS(out, "valid");
        CHECK_STR_HAS(out, "europe");
        CHECK_STR_HAS(out, "top 10");
    } else {
        printf("note: %s absent, its check skipped\n", sample);
    }
    snprintf(good, sizeof(good), "%s/good.json", tmpdir);
    write_file(good,
               "{\"serial\": 7, \"servers\": [{\"ip\": \"192.0.2.1\", \"score\": 19, "
               "\"netspeed\": 1000, \"zones\": [\"de\", \"europe\"]}]}\n",
               0644);
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "check", good, NULL}, &out), 0);
    CHECK_STR_HAS(out, "de ");
    snprintf(bad, sizeof(bad), "%s/bad.json", tmpdir);
    write_file(
        bad,
        "{\"serial\": 8, \"servers\": [\n"
        " {\"ip\": \"192.0.2.300\", \"score\": 19, \"netspeed\": 1000, \"zones\": []},\n"
        " {\"ip\": \"192.0.2.2\", \"score\": 19, \"netspeed\": 1000, \"zones\": "
        "[\"xx\"]}]}\n",
        0644);
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "check", bad, NULL}, &out), 1);
    CHECK_STR_HAS(out, "bad.json:2:");
    CHECK_STR_HAS(out, "bad.json:3:");
    CHECK_STR_HAS(out, "2 error(s)");
    /* An invalid snapshot is never sent: exit 1 even with no daemon there. */
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-s", "/nonexistent.sock", "push", bad, NULL},
                    &out),
        1);
    CHECK_STR_HAS(out, "nothing sent");
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-s", "/nonexistent.sock", "push", good, NULL},
                    &out),
        3);
    CHECK_STR_HAS(out, "/nonexistent.sock: connection failed");

    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "--help", NULL}, &out), 0);
    CHECK_STR_HAS(out, "Usage: dnsdctl");
    const char *verbs[] = {"push", "check", "status", "stats", "reload"};
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT_EQ(
            run_dnsdctl((char *[]){"dnsdctl", (char *)verbs[i], "--help", NULL}, &out),
            0);
        CHECK_STR_HAS(out, verbs[i]);
    }
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", NULL}, &out), 2);
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "frobnicate", NULL}, &out), 2);
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "push", NULL}, &out), 2);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", "127.0.0.1:1", "status", NULL}, &out), 2);
    CHECK_STR_HAS(out, "needs -k");
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0)
        perror(path);
    return fd;
}

static int listen_tcp(int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
        perror("listen 127.0.0.1");
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Single-node over TCP with a key file, then a fleet of four: two unix nodes
 * (one lagging), one TCP node with its key, one socket nobody listens on. */
static void test_dnsdctl_remote(void)
{
    char keyp[128], good[128], nodes[128], addr[64], s1[128], s2[128], text[1024];
    const char *out;
    ctl_key_t k;
    char err[256];
    int port;
    snprintf(keyp, sizeof(keyp), "%s/fleet.key", tmpdir);
    write_file(keyp, "0123456789abcdef0123456789abcdef\n", 0600);
    CHECK_INT_EQ(ctl_key_load(keyp, &k, err, sizeof(err)), 0);
    snprintf(good, sizeof(good), "%s/good.json", tmpdir);

    int tfd = listen_tcp(&port);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    pid_t tpid = tsrv_fork((tsrv_t){&k, true, 3}, tfd, true, -1);
    close(tfd);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", addr, "-k", keyp, "push", good, NULL},
                    &out),
        0);
    CHECK_STR_HAS(out, "serial 3 -> 7");
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", addr, "-k", keyp, "push", good, NULL},
                    &out),
        1);
    CHECK_STR_HAS(out, "refused: serial not newer");
    CHECK_INT_EQ(run_dnsdctl((char *[]){"dnsdctl", "-t", "5", "-S", addr, "-k", keyp,
                                        "push", good, "--force", NULL},
                             &out),
                 0);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", addr, "-k", keyp, "status", NULL}, &out),
        0);
    CHECK_STR_HAS(out, "\"serial\": 7");

    char wrongp[128];
    snprintf(wrongp, sizeof(wrongp), "%s/wrong.key", tmpdir);
    write_file(wrongp, "fedcba9876543210fedcba9876543210\n", 0600);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", addr, "-k", wrongp, "status", NULL},
                    &out),
        3);
    CHECK_STR_HAS(out, "auth failed");
    chmod(wrongp, 0644);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "-S", addr, "-k", wrongp, "status", NULL},
                    &out),
        2);
    CHECK_STR_HAS(out, "readable or writable by others");

    snprintf(s1, sizeof(s1), "%s/n1.sock", tmpdir);
    snprintf(s2, sizeof(s2), "%s/n2.sock", tmpdir);
    int u1 = listen_unix(s1), u2 = listen_unix(s2);
    pid_t p1 = tsrv_fork((tsrv_t){NULL, false, 6}, u1, true, -1);
    pid_t p2 = tsrv_fork((tsrv_t){NULL, false, 2}, u2, true, -1);
    close(u1);
    close(u2);
    snprintf(nodes, sizeof(nodes), "%s/nodes.yaml", tmpdir);
    snprintf(text, sizeof(text),
             "timeout: 5\nnodes:\n"
             "  - {name: tcp-1, tcp: \"%s\", key_file: fleet.key}\n"
             "  - {name: unix-1, unix: n1.sock}\n"
             "  - {name: unix-2, unix: %s}\n"
             "  - {name: down-1, unix: down.sock}\n",
             addr, s2);
    write_file(nodes, text, 0644);

    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "--nodes", nodes, "status", NULL}, &out), 3);
    CHECK_STR_HAS(out, "unix-2  2 ");
    CHECK_STR_HAS(out, "lagging: pool.ntp.org 2 < 7");
    CHECK_STR_HAS(out, "lagging: pool.ntp.org 6 < 7");
    CHECK_STR_HAS(out, "connection refused");
    printf("%s", out);

    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "--nodes", nodes, "push", good, NULL}, &out),
        3);
    printf("%s", out);
    CHECK_STR_HAS(out, "tcp-1   -            -");
    CHECK_STR_HAS(out, "refused: serial not newer");
    CHECK_STR_HAS(out, "unix-1  6            7");
    CHECK_STR_HAS(out, "unix-2  2            7");
    CHECK_STR_HAS(out, "down-1  -            -");
    /* Exactly one node failed to connect. */
    const char *first = strstr(out, "connection refused");
    CHECK(first && !strstr(first + 1, "connection refused"));

    /* A nodes file naming a world-readable key is refused before anything is sent. */
    chmod(keyp, 0644);
    CHECK_INT_EQ(
        run_dnsdctl((char *[]){"dnsdctl", "--nodes", nodes, "status", NULL}, &out), 2);
    CHECK_STR_HAS(out, "nodes.yaml:3:");
    CHECK_STR_HAS(out, "node tcp-1");
    reap(tpid, true);
    reap(p1, true);
    reap(p2, true);
}

int main(void)
{
    const char *bin = getenv("DNSD_BINARY_DIR");
    snprintf(dnsdctl_path, sizeof(dnsdctl_path), "%s/bin/dnsdctl", bin ? bin : ".");
    if (ctl_test_tmpdir_new("test_ctl_client") < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    test_conversation();
    test_replay_and_truncation();
    test_dnsdctl_local();
    test_dnsdctl_remote();
    ctl_test_tmpdir_remove();
    return check_summary("test_ctl_client");
}
