/*
 * fleet.c - dnsdctl's fleet mode: one request to every node of a nodes.yaml in
 * parallel, on one libuv loop, each node with its own timer, then one table.
 *
 * Per node: connect (uv_tcp_connect or uv_pipe_connect) -> read HELLO -> send
 * the request (header, shared payload, MAC: three buffers, no copy of the
 * snapshot per node) -> read the verified reply -> close. Whatever happens
 * first of reply, error and timeout ends that node; the others go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ctl/dnsdctl.h"

typedef struct fleet fleet_t;

typedef struct fnode {
    const dctl_node_t *cfg;
    fleet_t *fl;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;
    ctl_conn_t conn;
    ctl_reader_t rd;
    uint8_t head[CTL_HEAD_MAX], mac[CTL_MAC_LEN];
    size_t head_len, mac_len;
    uint64_t t0, t1; /* uv_hrtime, ns */
    bool done;
    int status; /* DCTL_* */
    char result[256];
    ctl_jval_t *reply; /* OK reply, parsed */
    char rbuf[65536];
} fnode_t;

struct fleet {
    uint8_t type;
    const uint8_t *payload;
    size_t len;
};

static void fleet_closed(uv_handle_t *h)
{
    (void)h; /* the node lives in an array freed after the loop ends */
}

static void fleet_finish(fnode_t *n, int status, const char *fmt, const char *arg)
{
    if (n->done)
        return;
    n->done = true;
    n->t1 = uv_hrtime();
    n->status = status;
    snprintf(n->result, sizeof(n->result), fmt, arg);
    uv_timer_stop(&n->timer);
    uv_close((uv_handle_t *)&n->timer, fleet_closed);
    uv_close((uv_handle_t *)&n->io, fleet_closed);
}

/* A protocol or authentication error as the table shows it. */
static void fleet_fail_proto(fnode_t *n, int rc)
{
    bool auth = rc == CTL_ERR_MAC || rc == CTL_ERR_NOKEY || rc == CTL_ERR_NOAUTH;
    fleet_finish(n, DCTL_CONN, auth ? "auth failed: %s" : "protocol error: %s",
                 ctl_strerror(rc));
}

static void fleet_written(uv_write_t *req, int status)
{
    fnode_t *n = req->data;
    if (status < 0)
        fleet_finish(n, DCTL_CONN, "write failed: %s", uv_strerror(status));
}

static void fleet_send(fnode_t *n)
{
    int rc = ctl_conn_seal(&n->conn, n->fl->type, n->fl->payload, n->fl->len, n->head,
                           &n->head_len, n->mac, &n->mac_len);
    if (rc < 0) {
        fleet_fail_proto(n, rc);
        return;
    }
    /* uv_buf_t has no const member; libuv only reads what it writes. */
    uv_buf_t bufs[3] = {
        uv_buf_init((char *)n->head, (unsigned)n->head_len),
        uv_buf_init((char *)(uintptr_t)n->fl->payload, (unsigned)n->fl->len),
        uv_buf_init((char *)n->mac, (unsigned)n->mac_len),
    };
    n->wreq.data = n;
    rc = uv_write(&n->wreq, (uv_stream_t *)&n->io, bufs, 3, fleet_written);
    if (rc < 0)
        fleet_finish(n, DCTL_CONN, "write failed: %s", uv_strerror(rc));
}

/* One complete frame: the HELLO, then the reply. */
static void fleet_frame(fnode_t *n, const ctl_frame_t *f)
{
    bool hello = !n->conn.hello_done;
    int rc = ctl_conn_open(&n->conn, f);
    if (rc < 0) {
        fleet_fail_proto(n, rc);
        return;
    }
    if (hello) {
        fleet_send(n);
        return;
    }
    /* A reply is JSON text: one with a NUL byte inside is a protocol error,
     * and the copy is parsed by its own length (the fuzz_ctl_frame
     * reproducer in tests/fuzz/crashes/ read past it when the frame's length
     * was used). */
    bool has_nul = f->len && memchr(f->payload, 0, f->len);
    char *text = has_nul ? NULL : strndup(f->len ? (const char *)f->payload : "", f->len);
    if (f->type == CTL_T_ERR) {
        char reason[200];
        dctl_reply_reason(text ? text : "", reason, sizeof(reason));
        /* The server names a MAC it could not verify "bad MAC": our key is wrong. */
        if (strncmp(reason, "bad MAC", 7) == 0)
            fleet_finish(n, DCTL_CONN, "auth failed: %s", reason);
        else
            fleet_finish(n, DCTL_REFUSED, "refused: %s", reason);
    } else if (!text || !(n->reply = ctl_json_parse(text, strlen(text)))) {
        fleet_finish(n, DCTL_CONN, "protocol error: %s", "reply is not JSON");
    } else {
        fleet_finish(n, DCTL_OK, "%s", "ok");
    }
    free(text);
}

static void fleet_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    fnode_t *n = h->data;
    *buf = uv_buf_init(n->rbuf, sizeof(n->rbuf));
}

static void fleet_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    fnode_t *n = s->data;
    if (n->done)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            fleet_finish(n, DCTL_CONN, "read failed: %s", uv_strerror((int)nread));
        else if (ctl_reader_partial(&n->rd))
            fleet_finish(n, DCTL_CONN, "protocol error: %s", "truncated frame");
        else
            fleet_finish(n, DCTL_CONN, "%s", "connection closed by server");
        return;
    }
    const uint8_t *p = (const uint8_t *)buf->base;
    size_t left = (size_t)nread;
    while (left && !n->done) {
        ctl_frame_t f;
        size_t used;
        int rc = ctl_reader_feed(&n->rd, p, left, &used, &f);
        p += used;
        left -= used;
        if (rc < 0)
            fleet_fail_proto(n, rc);
        else if (rc == 1)
            fleet_frame(n, &f);
    }
}

static void fleet_connected(uv_connect_t *req, int status)
{
    fnode_t *n = req->data;
    if (n->done)
        return;
    if (status == UV_ECONNREFUSED || status == UV_ENOENT)
        fleet_finish(n, DCTL_CONN, "%s", "connection refused");
    else if (status < 0)
        fleet_finish(n, DCTL_CONN, "connect failed: %s", uv_strerror(status));
    else if ((status = uv_read_start((uv_stream_t *)&n->io, fleet_alloc, fleet_read)) < 0)
        fleet_finish(n, DCTL_CONN, "read failed: %s", uv_strerror(status));
}

static void fleet_timeout(uv_timer_t *t)
{
    fleet_finish(t->data, DCTL_CONN, "%s", "timeout");
}

static void fleet_start(uv_loop_t *loop, fnode_t *n, uint64_t timeout_ms)
{
    struct sockaddr_storage ss;
    unsigned sslen;
    char err[256];
    n->t0 = uv_hrtime();
    ctl_conn_client_init(&n->conn, n->cfg->tcp ? &n->cfg->key : NULL);
    ctl_reader_init(&n->rd, CTL_MAX_PAYLOAD_DEFAULT, &n->conn);
    uv_timer_init(loop, &n->timer);
    n->timer.data = n;
    n->creq.data = n;
    int rc;
    if (n->cfg->tcp) {
        uv_tcp_init(loop, &n->io.tcp);
        n->io.tcp.data = n;
        if (ctl_resolve(n->cfg->tcp, &ss, &sslen, err, sizeof(err)) < 0) {
            fleet_finish(n, DCTL_CONN, "%s", err);
            return;
        }
        rc =
            uv_tcp_connect(&n->creq, &n->io.tcp, (struct sockaddr *)&ss, fleet_connected);
        if (rc < 0) {
            fleet_finish(n, DCTL_CONN, "connect failed: %s", uv_strerror(rc));
            return;
        }
    } else {
        uv_pipe_init(loop, &n->io.pipe, 0);
        n->io.pipe.data = n;
        uv_pipe_connect(&n->creq, &n->io.pipe, n->cfg->unix_path, fleet_connected);
    }
    uv_timer_start(&n->timer, fleet_timeout, timeout_ms, 0);
}

static double fleet_ms(const fnode_t *n)
{
    return (double)(n->t1 - n->t0) / 1e6;
}

static int fleet_name_width(const fnode_t *nodes, size_t n)
{
    int w = 4;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(nodes[i].cfg->name) > w)
            w = (int)strlen(nodes[i].cfg->name);
    return w;
}

static void fleet_print_push(const fnode_t *nodes, size_t n)
{
    int w = fleet_name_width(nodes, n);
    printf("%-*s  %-12s %-12s %9s  %s\n", w, "NODE", "OLD", "NEW", "MS", "RESULT");
    for (size_t i = 0; i < n; i++) {
        char old_s[32] = "-", new_s[32] = "-";
        if (nodes[i].status == DCTL_OK) {
            const ctl_jval_t *r = nodes[i].reply;
            uint64_t v;
            if (ctl_json_u64(ctl_json_get(r, "old_serial"), &v) == 0)
                snprintf(old_s, sizeof(old_s), "%llu", (unsigned long long)v);
            if (ctl_json_u64(ctl_json_get(r, "new_serial"), &v) == 0)
                snprintf(new_s, sizeof(new_s), "%llu", (unsigned long long)v);
        }
        printf("%-*s  %-12s %-12s %9.1f  %s\n", w, nodes[i].cfg->name, old_s, new_s,
               fleet_ms(&nodes[i]), nodes[i].result);
    }
}

/* The newest serial per origin over every node that answered. */
typedef struct fleet_newest {
    const char *origin;
    uint64_t serial;
} fleet_newest_t;

static const ctl_jval_t *fleet_zones(const fnode_t *n)
{
    const ctl_jval_t *z = n->status == DCTL_OK ? ctl_json_get(n->reply, "zones") : NULL;
    return z && z->type == CTL_J_ARR ? z : NULL;
}

static size_t fleet_newest(const fnode_t *nodes, size_t n, fleet_newest_t *out,
                           size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ctl_jval_t *zs = fleet_zones(&nodes[i]);
        for (size_t j = 0; zs && j < zs->n; j++) {
            const ctl_jval_t *o = ctl_json_get(&zs->items[j], "origin");
            uint64_t s = 0;
            if (!o || o->type != CTL_J_STR)
                continue;
            ctl_json_u64(ctl_json_get(&zs->items[j], "serial"), &s);
            size_t m = 0;
            while (m < k && strcmp(out[m].origin, o->str) != 0)
                m++;
            if (m == k && k < cap)
                out[k++] = (fleet_newest_t){o->str, s};
            else if (m < k && s > out[m].serial)
                out[m].serial = s;
        }
    }
    return k;
}

/* Prints one node's status row; returns true if it lags behind the newest. */
static bool fleet_print_status_row(const fnode_t *nd, int w, const fleet_newest_t *newest,
                                   size_t n_newest)
{
    char serials[512] = "", lag[512] = "";
    size_t sl = 0, ll = 0;
    const ctl_jval_t *zs = fleet_zones(nd);
    for (size_t j = 0; zs && j < zs->n; j++) {
        const ctl_jval_t *o = ctl_json_get(&zs->items[j], "origin");
        uint64_t s = 0;
        char sv[32] = "-";
        if (!o || o->type != CTL_J_STR)
            continue;
        if (ctl_json_u64(ctl_json_get(&zs->items[j], "serial"), &s) == 0)
            snprintf(sv, sizeof(sv), "%llu", (unsigned long long)s);
        /* One zone: just its serial; several: origin=serial each. */
        if (sl < sizeof(serials))
            sl += (size_t)snprintf(serials + sl, sizeof(serials) - sl, "%s%s%s%s",
                                   sl ? " " : "", zs->n > 1 ? o->str : "",
                                   zs->n > 1 ? "=" : "", sv);
        for (size_t m = 0; m < n_newest; m++)
            if (strcmp(newest[m].origin, o->str) == 0 && s < newest[m].serial &&
                ll < sizeof(lag))
                ll += (size_t)snprintf(lag + ll, sizeof(lag) - ll, "%s%s %s < %llu",
                                       ll ? ", " : "lagging: ", o->str, sv,
                                       (unsigned long long)newest[m].serial);
    }
    printf("%-*s  %-24s %9.1f  %s\n", w, nd->cfg->name, zs ? serials : "-", fleet_ms(nd),
           ll ? lag : nd->result);
    return ll > 0;
}

static bool fleet_print_status(const fnode_t *nodes, size_t n)
{
    fleet_newest_t newest[64];
    size_t n_newest = fleet_newest(nodes, n, newest, 64);
    int w = fleet_name_width(nodes, n);
    bool lagging = false;
    printf("%-*s  %-24s %9s  %s\n", w, "NODE", "SERIAL", "MS", "RESULT");
    for (size_t i = 0; i < n; i++)
        lagging |= fleet_print_status_row(&nodes[i], w, newest, n_newest);
    return lagging;
}

int dctl_fleet_run(const dctl_nodes_t *cfg, uint8_t type, const uint8_t *payload,
                   size_t len, double timeout_s)
{
    fleet_t fl = {type, payload, len};
    uv_loop_t loop;
    int rc = DCTL_OK;
    fnode_t *nodes = calloc(cfg->n, sizeof(*nodes));
    if (!nodes || uv_loop_init(&loop) < 0) {
        free(nodes);
        fprintf(stderr, "dnsdctl: out of memory\n");
        return DCTL_CONN;
    }
    for (size_t i = 0; i < cfg->n; i++) {
        nodes[i].cfg = &cfg->nodes[i];
        nodes[i].fl = &fl;
        fleet_start(&loop, &nodes[i], (uint64_t)(timeout_s * 1000));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (type == CTL_T_STATUS && fleet_print_status(nodes, cfg->n))
        rc = DCTL_REFUSED;
    if (type != CTL_T_STATUS)
        fleet_print_push(nodes, cfg->n);
    for (size_t i = 0; i < cfg->n; i++) {
        if (nodes[i].status == DCTL_CONN ||
            (nodes[i].status == DCTL_REFUSED && rc == DCTL_OK))
            rc = nodes[i].status;
        ctl_json_free(nodes[i].reply);
        ctl_reader_deinit(&nodes[i].rd);
    }
    free(nodes);
    return rc;
}

int dctl_fleet_collect(const dctl_nodes_t *cfg, uint8_t type, const uint8_t *payload,
                       size_t len, double timeout_s, dctl_fleet_reply_t *out)
{
    fleet_t fl = {type, payload, len};
    uv_loop_t loop;
    fnode_t *nodes = calloc(cfg->n, sizeof(*nodes));
    if (!nodes || uv_loop_init(&loop) < 0) {
        free(nodes);
        return -1;
    }
    for (size_t i = 0; i < cfg->n; i++) {
        nodes[i].cfg = &cfg->nodes[i];
        nodes[i].fl = &fl;
        fleet_start(&loop, &nodes[i], (uint64_t)(timeout_s * 1000));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (size_t i = 0; i < cfg->n; i++) {
        out[i] = (dctl_fleet_reply_t){.name = cfg->nodes[i].name,
                                      .status = nodes[i].status,
                                      .reply = nodes[i].reply,
                                      .ms = fleet_ms(&nodes[i])};
        snprintf(out[i].result, sizeof(out[i].result), "%s", nodes[i].result);
        ctl_reader_deinit(&nodes[i].rd);
    }
    free(nodes);
    return 0;
}
