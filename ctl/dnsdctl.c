/*
 * dnsdctl.c - the control tool: command line, local snapshot checks and the
 * single-node verbs (blocking client). Fleet mode lives in fleet.c.
 *
 * Exit codes: 0 ok, 1 refused or invalid, 2 usage (including an unusable key
 * file), 3 connection or authentication failure. Every error line names the
 * node (socket path, HOST:PORT or fleet name) and the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/dnsdctl.h"
#include "zones/zones.h"

#define DCTL_SOCKET_DEFAULT "/run/dnsd/control.sock"

typedef struct dctl_opts {
    const char *socket, *server, *key_file, *nodes;
    double timeout_s;
    const char *file, *zone;
    bool force;
} dctl_opts_t;

typedef struct dctl_verb {
    const char *name;
    const char *args;
    const char *help;
} dctl_verb_t;

static const dctl_verb_t dctl_verbs[] = {
    {"push", "FILE [--force] [--zone ORIGIN]",
     "Validate the snapshot FILE locally (every error is printed and nothing is sent\n"
     "if it is invalid), then send it. The daemon refuses a serial older than or\n"
     "equal to the one it serves unless --force is given. --zone names the origin\n"
     "the snapshot is for (default: the daemon's first zone). Prints the old and new\n"
     "serial. With --nodes, pushes to every node in parallel and prints a table.\n"},
    {"check", "FILE",
     "Validate the snapshot FILE locally; no daemon is needed. Prints every error\n"
     "and exits 1, or prints the serial, server counts per zone and family\n"
     "(eligible/total, with min_score 10 and full_score 15) and the top-10 weight\n"
     "share of the global zone.\n"},
    {"status", "",
     "Print the daemon's status as JSON: identity, version, uptime, serial and\n"
     "counts per zone and family, last reload result. With --nodes, print each\n"
     "node's serial(s) and mark nodes behind the newest serial seen as lagging\n"
     "(exit 1 if any lags).\n"},
    {"stats", "", "Print the daemon's counters as JSON.\n"},
    {"reload", "",
     "Ask the daemon to reload its configuration, master files and GeoIP\n"
     "database (as SIGHUP does); all or nothing. Prints the result as JSON.\n"},
    {"demand", "[push FILE [--force] [--zone O]] [--origin O] [--json]",
     "Demand-aware balancing (docs/balancing.md). Without push: the node's local\n"
     "demand per zone and family, decayed; with --nodes every node's and the sum.\n"
     "push FILE: validate the demand table locally (every error is printed and\n"
     "nothing is sent if it is invalid), then make it the node's table; a serial\n"
     "not newer than the node's is refused unless --force.\n"},
    {"balance", "[--origin O] [--json]",
     "Per zone and family: demand share, capacity share, load ratio without\n"
     "spill, keep fraction, expected ratio with spill. With --nodes: sum every\n"
     "node's local demand and push the sum to every node.\n"},
    {"servers", "[--zone Z] [--origin O] [--json]",
     "Per server (of zone Z): answers handed out since the snapshot, share of\n"
     "answers vs share of weight. With --nodes: summed over the fleet.\n"},
};
#define DCTL_N_VERBS (sizeof(dctl_verbs) / sizeof(dctl_verbs[0]))

static void dctl_usage(FILE *out)
{
    fputs(
        "Usage: dnsdctl [-s SOCKET | -S HOST:PORT -k KEYFILE] [-t TIMEOUT_S] VERB "
        "[ARGS]\n"
        "       dnsdctl --nodes NODES.yaml [-t TIMEOUT_S] push FILE [--force]\n"
        "       dnsdctl --nodes NODES.yaml [-t TIMEOUT_S] status\n"
        "\n"
        "Control tool of dnsd: pushes server snapshots, asks status and counters.\n"
        "\n"
        "Options:\n"
        "  -s, --socket SOCKET    the daemon's unix control socket\n"
        "                         (default " DCTL_SOCKET_DEFAULT ")\n"
        "  -S, --server HOST:PORT the daemon's TCP control address ([v6]:PORT for IPv6)\n"
        "  -k, --key KEYFILE      shared HMAC key for -S (mode 0600 or stricter)\n"
        "  -t, --timeout SECONDS  bound on the whole exchange per node (default 10)\n"
        "      --nodes FILE       fleet mode: every node of FILE in parallel\n"
        "  -h, --help             this text; `dnsdctl VERB --help` for a verb\n"
        "\n"
        "Verbs:\n",
        out);
    for (size_t i = 0; i < DCTL_N_VERBS; i++)
        fprintf(out, "  %-7s%s%s\n", dctl_verbs[i].name, *dctl_verbs[i].args ? " " : "",
                dctl_verbs[i].args);
    fputs("\nExit: 0 ok, 1 refused or invalid, 2 usage, 3 connection or authentication "
          "failure.\n",
          out);
}

static void dctl_verb_usage(const dctl_verb_t *v, FILE *out)
{
    fprintf(out, "Usage: dnsdctl [OPTIONS] %s%s%s\n\n%s", v->name, *v->args ? " " : "",
            v->args, v->help);
}

static const dctl_verb_t *dctl_verb_find(const char *name)
{
    for (size_t i = 0; i < DCTL_N_VERBS; i++)
        if (strcmp(dctl_verbs[i].name, name) == 0)
            return &dctl_verbs[i];
    return NULL;
}

/* Reads a whole file; NULL with a message on stderr. */
static char *dctl_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "dnsdctl: %s: %s\n", path,
                f ? "not a regular file" : strerror(errno));
        goto done;
    }
    if ((uint64_t)st.st_size > CTL_MAX_PAYLOAD_DEFAULT - 2 - CTL_ORIGIN_MAX) {
        fprintf(stderr,
                "dnsdctl: %s: %lld bytes, over the control protocol's cap of %u\n", path,
                (long long)st.st_size, CTL_MAX_PAYLOAD_DEFAULT);
        goto done;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "dnsdctl: %s: read error\n", path);
        free(buf);
        buf = NULL;
    }
    *len = (size_t)st.st_size;
done:
    if (f)
        fclose(f);
    return buf;
}

/* Validates a snapshot; prints every error. Returns it, or NULL. */
static zone_snapshot_t *dctl_validate(const char *path, const char *buf, size_t len,
                                      bool push)
{
    zone_snapshot_t *snap = NULL;
    zone_errors_t errs;
    zone_errors_init(&errs);
    if (zone_snapshot_parse(path, buf, len, &snap, &errs) < 0) {
        zone_errors_print(&errs, stderr);
        fprintf(stderr, "dnsdctl: %s: invalid snapshot, %zu error(s)%s\n", path,
                errs.n + errs.dropped, push ? "; nothing sent" : "");
        snap = NULL;
    }
    zone_errors_deinit(&errs);
    return snap;
}

static int dctl_check(const dctl_opts_t *o)
{
    size_t len;
    char *buf = dctl_read_file(o->file, &len);
    zone_snapshot_t *snap = buf ? dctl_validate(o->file, buf, len, false) : NULL;
    free(buf);
    if (!snap)
        return DCTL_REFUSED;
    printf("%s: valid\n", o->file);
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    zone_pool_t *pool = zone_pool_new(snap, &params);
    if (!pool) {
        fprintf(stderr, "dnsdctl: %s: out of memory\n", o->file);
        return DCTL_REFUSED;
    }
    zone_pool_report(pool, stdout);
    zone_pool_free(pool);
    return DCTL_OK;
}

/* Prints an ERR reply: the error, then each detail on its own line. */
static int dctl_print_err(const char *node, const char *json)
{
    ctl_jval_t *v = ctl_json_parse(json, strlen(json));
    const ctl_jval_t *e = ctl_json_get(v, "error"), *d = ctl_json_get(v, "details");
    const char *msg = e && e->type == CTL_J_STR ? e->str : json;
    bool auth = strcmp(msg, ctl_strerror(CTL_ERR_MAC)) == 0;
    fprintf(stderr, "dnsdctl: %s: %s: %s\n", node, auth ? "auth failed" : "refused", msg);
    for (size_t i = 0; d && d->type == CTL_J_ARR && i < d->n; i++)
        if (d->items[i].type == CTL_J_STR)
            fprintf(stderr, "  %s\n", d->items[i].str);
    ctl_json_free(v);
    return auth ? DCTL_CONN : DCTL_REFUSED;
}

static void dctl_print_push(const char *node, const char *json)
{
    char old_s[32], new_s[32];
    ctl_jval_t *v = ctl_json_parse(json, strlen(json));
    const ctl_jval_t *origin = ctl_json_get(v, "origin"),
                     *servers = ctl_json_get(v, "servers"),
                     *ms = ctl_json_get(v, "build_ms");
    dctl_push_serials(json, old_s, new_s, sizeof(old_s));
    printf("%s: %s serial %s -> %s", node,
           origin && origin->type == CTL_J_STR ? origin->str : "?", old_s, new_s);
    if (servers && servers->type == CTL_J_NUM)
        printf(", %s servers", servers->str);
    if (ms && ms->type == CTL_J_NUM)
        printf(", built in %.1f ms", ms->num);
    printf("\n");
    ctl_json_free(v);
}

/* One request to one node with the blocking client. */
static int dctl_single(const dctl_opts_t *o, uint8_t type, const uint8_t *payload,
                       size_t len)
{
    ctl_client_t *c = malloc(sizeof(*c));
    ctl_key_t key;
    char err[512], *reply = NULL;
    uint8_t rtype;
    const char *node = o->server   ? o->server
                       : o->socket ? o->socket
                                   : DCTL_SOCKET_DEFAULT;
    int rc, timeout_ms = (int)(o->timeout_s * 1000), ex = DCTL_OK;
    if (!c)
        return DCTL_CONN;
    if (o->server && ctl_key_load(o->key_file, &key, err, sizeof(err)) < 0) {
        fprintf(stderr, "dnsdctl: %s\n", err);
        free(c);
        return DCTL_USAGE;
    }
    rc = o->server ? ctl_client_connect_tcp(c, o->server, &key, timeout_ms)
                   : ctl_client_connect_unix(c, node, NULL, timeout_ms);
    if (rc == 0)
        rc = ctl_client_request(c, type, payload, len, &rtype, &reply);
    if (rc < 0) {
        bool auth = rc == CTL_ERR_MAC || rc == CTL_ERR_NOKEY || rc == CTL_ERR_NOAUTH;
        fprintf(stderr, "dnsdctl: %s: %s: %s\n", node,
                auth                    ? "auth failed"
                : rc == CTL_ERR_CONNECT ? "connection failed"
                                        : "error",
                c->err[0] ? c->err : ctl_strerror(rc));
        ex = DCTL_CONN;
    } else if (rtype == CTL_T_ERR) {
        ex = dctl_print_err(node, reply);
    } else if (type == CTL_T_PUSH) {
        dctl_print_push(node, reply);
    } else {
        printf("%s\n", reply);
    }
    free(reply);
    ctl_client_close(c);
    free(c);
    if (o->server)
        ctl_key_clear(&key);
    return ex;
}

static int dctl_run(const dctl_verb_t *v, const dctl_opts_t *o)
{
    uint8_t type = strcmp(v->name, "push") == 0     ? CTL_T_PUSH
                   : strcmp(v->name, "status") == 0 ? CTL_T_STATUS
                   : strcmp(v->name, "stats") == 0  ? CTL_T_STATS
                                                    : CTL_T_RELOAD;
    uint8_t *payload = NULL;
    size_t len = 0;
    int ex;
    if (type == CTL_T_PUSH) {
        size_t slen;
        char *buf = dctl_read_file(o->file, &slen);
        zone_snapshot_t *snap = buf ? dctl_validate(o->file, buf, slen, true) : NULL;
        if (!snap) {
            free(buf);
            return DCTL_REFUSED;
        }
        zone_snapshot_free(snap);
        payload = ctl_push_encode(o->force ? CTL_PUSH_FORCE : 0, o->zone, (uint8_t *)buf,
                                  slen, &len);
        free(buf);
        if (!payload) {
            fprintf(stderr, "dnsdctl: out of memory\n");
            return DCTL_REFUSED;
        }
    }
    if (o->nodes) {
        dctl_nodes_t nodes;
        char err[1024];
        if (dctl_nodes_load(o->nodes, &nodes, err, sizeof(err)) < 0) {
            fprintf(stderr, "dnsdctl: %s\n", err);
            free(payload);
            return DCTL_USAGE;
        }
        double t = o->timeout_s > 0      ? o->timeout_s
                   : nodes.timeout_s > 0 ? nodes.timeout_s
                                         : DCTL_TIMEOUT_DEFAULT_S;
        ex = dctl_fleet_run(&nodes, type, payload, len, t);
        dctl_nodes_deinit(&nodes);
    } else {
        dctl_opts_t so = *o;
        if (so.timeout_s <= 0)
            so.timeout_s = DCTL_TIMEOUT_DEFAULT_S;
        ex = dctl_single(&so, type, payload, len);
    }
    free(payload);
    return ex;
}

/* The value of an option at argv[*i] (next argument); NULL with a message. */
static const char *dctl_optarg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "dnsdctl: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Global options before the verb. Returns the verb's index, or -1 (usage), or
 * 0 after --help. */
static int dctl_parse_global(int argc, char **argv, dctl_opts_t *o)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], **dst = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            dctl_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-s") || !strcmp(a, "--socket"))
            dst = &o->socket;
        else if (!strcmp(a, "-S") || !strcmp(a, "--server"))
            dst = &o->server;
        else if (!strcmp(a, "-k") || !strcmp(a, "--key"))
            dst = &o->key_file;
        else if (!strcmp(a, "--nodes"))
            dst = &o->nodes;
        else if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) {
            const char *t = dctl_optarg(argc, argv, &i);
            char *end;
            o->timeout_s = t ? strtod(t, &end) : 0;
            if (!t || *end || !(o->timeout_s > 0 && o->timeout_s <= 3600)) {
                fprintf(stderr, "dnsdctl: -t: expected seconds in (0, 3600]\n");
                return -1;
            }
            continue;
        } else {
            fprintf(stderr, "dnsdctl: unknown option %s\n", a);
            return -1;
        }
        if (!(*dst = dctl_optarg(argc, argv, &i)))
            return -1;
    }
    if (i >= argc) {
        fprintf(stderr, "dnsdctl: no verb given\n");
        return -1;
    }
    return i;
}

/* Checks combinations of options and verb; 0 or -1 with a message. */
static int dctl_check_opts(const dctl_verb_t *v, const dctl_opts_t *o)
{
    bool remote = strcmp(v->name, "check") != 0;
    if (o->socket && o->server) {
        fprintf(stderr, "dnsdctl: give -s or -S, not both\n");
        return -1;
    }
    if (remote && o->server && !o->key_file) {
        fprintf(stderr, "dnsdctl: -S %s needs -k KEYFILE\n", o->server);
        return -1;
    }
    if (o->nodes && (o->socket || o->server)) {
        fprintf(stderr, "dnsdctl: --nodes excludes -s and -S\n");
        return -1;
    }
    if (o->nodes && strcmp(v->name, "push") != 0 && strcmp(v->name, "status") != 0) {
        fprintf(stderr, "dnsdctl: --nodes works with push and status\n");
        return -1;
    }
    if ((!strcmp(v->name, "push") || !strcmp(v->name, "check")) && !o->file) {
        fprintf(stderr, "dnsdctl: %s needs FILE\n", v->name);
        return -1;
    }
    if (o->zone && strlen(o->zone) > CTL_ORIGIN_MAX) {
        fprintf(stderr, "dnsdctl: --zone: longer than %d bytes\n", CTL_ORIGIN_MAX);
        return -1;
    }
    return 0;
}

/* Verb arguments; returns 1 after --help, 0, or -1 (usage). */
static int dctl_parse_verb(const dctl_verb_t *v, int argc, char **argv, int i,
                           dctl_opts_t *o)
{
    bool push = !strcmp(v->name, "push"), file = push || !strcmp(v->name, "check");
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            dctl_verb_usage(v, stdout);
            return 1;
        } else if (push && !strcmp(a, "--force")) {
            o->force = true;
        } else if (push && !strcmp(a, "--zone")) {
            if (!(o->zone = dctl_optarg(argc, argv, &i)))
                return -1;
        } else if (file && a[0] != '-' && !o->file) {
            o->file = a;
        } else {
            fprintf(stderr, "dnsdctl %s: unexpected argument %s\n", v->name, a);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    dctl_opts_t o = {0};
    int i = dctl_parse_global(argc, argv, &o);
    if (i <= 0)
        return i == 0 ? DCTL_OK : DCTL_USAGE;
    const dctl_verb_t *v = dctl_verb_find(argv[i]);
    if (!v) {
        fprintf(stderr,
                "dnsdctl: unknown verb %s (push, check, status, stats, reload, demand, "
                "balance, servers)\n",
                argv[i]);
        return DCTL_USAGE;
    }
    if (dctl_balance_verb(v->name)) {
        dctl_conn_opts_t c = {o.socket, o.server, o.key_file, o.nodes, o.timeout_s};
        if (o.socket && o.server) {
            fprintf(stderr, "dnsdctl: give -s or -S, not both\n");
            return DCTL_USAGE;
        }
        if (o.server && !o.key_file) {
            fprintf(stderr, "dnsdctl: -S %s needs -k KEYFILE\n", o.server);
            return DCTL_USAGE;
        }
        if (o.nodes && (o.socket || o.server)) {
            fprintf(stderr, "dnsdctl: --nodes excludes -s and -S\n");
            return DCTL_USAGE;
        }
        return dctl_balance_main(&c, argc, argv, i);
    }
    int rc = dctl_parse_verb(v, argc, argv, i, &o);
    if (rc != 0)
        return rc > 0 ? DCTL_OK : DCTL_USAGE;
    if (dctl_check_opts(v, &o) < 0) {
        dctl_verb_usage(v, stderr);
        return DCTL_USAGE;
    }
    return strcmp(v->name, "check") == 0 ? dctl_check(&o) : dctl_run(v, &o);
}

void dctl_reply_reason(const char *json, char *out, size_t cap)
{
    ctl_jval_t *v = ctl_json_parse(json, strlen(json));
    const ctl_jval_t *e = ctl_json_get(v, "error"), *d = ctl_json_get(v, "details");
    size_t n =
        (size_t)snprintf(out, cap, "%s", e && e->type == CTL_J_STR ? e->str : json);
    for (size_t i = 0; d && d->type == CTL_J_ARR && i < d->n && n < cap; i++)
        if (d->items[i].type == CTL_J_STR)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "; " : ": ",
                                  d->items[i].str);
    ctl_json_free(v);
}

void dctl_push_serials(const char *json, char *old_s, char *new_s, size_t cap)
{
    ctl_jval_t *v = ctl_json_parse(json, strlen(json));
    uint64_t s;
    snprintf(old_s, cap, "-");
    snprintf(new_s, cap, "-");
    if (ctl_json_u64(ctl_json_get(v, "old_serial"), &s) == 0)
        snprintf(old_s, cap, "%llu", (unsigned long long)s);
    if (ctl_json_u64(ctl_json_get(v, "new_serial"), &s) == 0)
        snprintf(new_s, cap, "%llu", (unsigned long long)s);
    ctl_json_free(v);
}
