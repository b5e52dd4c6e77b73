/*
 * balance_cli.c - dnsdctl's balancing verbs (docs/balancing.md):
 *
 *   demand [--origin O] [--json]          the node's local demand, decayed
 *   demand push FILE [--force] [--zone O] validate locally, then set the table
 *   balance [--origin O] [--json]         keep fractions and load ratios
 *   servers [--zone Z] [--origin O] [--json]  answers per server vs weight
 *
 * With --nodes: demand prints every node's demand and the sum; balance sums
 * the fleet's demand and pushes it to every node; servers sums the answers.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "zones/balance.h"
#include "ctl/dnsdctl.h"

typedef struct bcli {
    const dctl_conn_opts_t *c;
    const char *verb;
    const char *file, *origin, *zone;
    bool push, force, json;
} bcli_t;

bool dctl_balance_verb(const char *name)
{
    return !strcmp(name, "demand") || !strcmp(name, "balance") ||
           !strcmp(name, "servers");
}

static const char *bcli_node(const dctl_conn_opts_t *o)
{
    return o->server ? o->server : o->socket ? o->socket : "/run/dnsd/control.sock";
}

/* One request to the single node; *reply is the OK reply text. */
static int bcli_request(const dctl_conn_opts_t *o, uint8_t type, const uint8_t *payload,
                        size_t len, char **reply)
{
    ctl_client_t *c = calloc(1, sizeof *c);
    ctl_key_t key;
    char err[512];
    uint8_t rtype;
    const char *node = bcli_node(o);
    int rc, ex = DCTL_OK, ms = (int)((o->timeout_s > 0 ? o->timeout_s : 10) * 1000);

    *reply = NULL;
    if (!c)
        return DCTL_CONN;
    if (o->server && ctl_key_load(o->key_file, &key, err, sizeof err) < 0) {
        fprintf(stderr, "dnsdctl: %s\n", err);
        free(c);
        return DCTL_USAGE;
    }
    rc = o->server ? ctl_client_connect_tcp(c, o->server, &key, ms)
                   : ctl_client_connect_unix(c, node, NULL, ms);
    if (rc == 0)
        rc = ctl_client_request(c, type, payload, len, &rtype, reply);
    if (rc < 0) {
        fprintf(stderr, "dnsdctl: %s: %s: %s\n", node,
                rc == CTL_ERR_CONNECT ? "connection failed" : "error",
                c->err[0] ? c->err : ctl_strerror(rc));
        ex = DCTL_CONN;
    } else if (rtype == CTL_T_ERR) {
        ctl_jval_t *v = ctl_json_parse(*reply, strlen(*reply));
        const ctl_jval_t *e = ctl_json_get(v, "error"), *d = ctl_json_get(v, "details");
        fprintf(stderr, "dnsdctl: %s: refused: %s\n", node,
                e && e->type == CTL_J_STR ? e->str : *reply);
        for (size_t k = 0; d && d->type == CTL_J_ARR && k < d->n; k++)
            if (d->items[k].type == CTL_J_STR)
                fprintf(stderr, "  %s\n", d->items[k].str);
        ctl_json_free(v);
        ex = DCTL_REFUSED;
    }
    if (ex != DCTL_OK) {
        free(*reply);
        *reply = NULL;
    }
    ctl_client_close(c);
    free(c);
    if (o->server)
        ctl_key_clear(&key);
    return ex;
}

static double bcli_num(const ctl_jval_t *obj, const char *key)
{
    const ctl_jval_t *v = ctl_json_get(obj, key);
    return v && v->type == CTL_J_NUM ? v->num : NAN;
}

/* ---- balance ------------------------------------------------------------ */

static void bcli_print_family(const char *fam, const ctl_jval_t *f)
{
    const ctl_jval_t *zs = ctl_json_get(f, "zones");

    printf("%s%s: worst load ratio %.2f without spill, %.2f with; %.1f%% of draws stay "
           "in their first zone%s\n",
           strcmp(fam, "nts") ? "IPv" : "", strcmp(fam, "nts") ? fam : "NTS",
           bcli_num(f, "worst_without"), bcli_num(f, "worst_with"),
           100 * bcli_num(f, "local_share"),
           ctl_json_get(f, "fallback") && ctl_json_get(f, "fallback")->b
               ? " (infeasible: everything spillable goes to @)"
               : "");
    printf("  %-14s %9s %9s %9s %8s %9s\n", "ZONE", "DEMAND%", "CAPACITY%", "WITHOUT",
           "KEEP", "WITH");
    for (size_t i = 0; zs && zs->type == CTL_J_ARR && i < zs->n; i++) {
        const ctl_jval_t *z = &zs->items[i], *name = ctl_json_get(z, "zone");
        if (!(bcli_num(z, "demand_share") > 0))
            continue; /* capacity without demand: nothing to decide */
        printf("  %-14s %9.3f %9.3f %9.2f %8.4f %9.2f\n",
               name && name->type == CTL_J_STR ? name->str : "?",
               100 * bcli_num(z, "demand_share"), 100 * bcli_num(z, "capacity_share"),
               bcli_num(z, "ratio_without"), bcli_num(z, "keep"),
               bcli_num(z, "ratio_with"));
    }
}

static void bcli_print_balance(const char *json)
{
    ctl_jval_t *v = ctl_json_parse(json, strlen(json));
    const ctl_jval_t *o = ctl_json_get(v, "origin"), *m = ctl_json_get(v, "mode"),
                     *fams = ctl_json_get(v, "families");

    printf("%s: balance %s, max_load_ratio %g (solved for %g), %.0f recomputations\n",
           o && o->type == CTL_J_STR ? o->str : "?",
           m && m->type == CTL_J_STR ? m->str : "?", bcli_num(v, "max_load_ratio"),
           bcli_num(v, "target_ratio"), bcli_num(v, "recomputes"));
    for (size_t i = 0; fams && fams->type == CTL_J_OBJ && i < fams->n; i++)
        bcli_print_family(fams->keys[i], &fams->items[i]);
    ctl_json_free(v);
}

/* ---- demand ------------------------------------------------------------- */

/* A demand table's family keys, by zone_bal_family() index. */
static const char *const bcli_fam[ZONE_BAL_FAMILIES] = {"4", "6", "nts"};

/* Adds a DEMAND reply's table to sum[zone][family]; returns its total. */
static double bcli_add_demand(const ctl_jval_t *reply, double (*sum)[ZONE_BAL_FAMILIES])
{
    const ctl_jval_t *d = ctl_json_get(reply, "demand");
    double total = 0;

    for (size_t i = 0; d && d->type == CTL_J_OBJ && i < d->n; i++) {
        int id = zone_id_lookup(d->keys[i], strlen(d->keys[i]));
        for (int f = 0; id >= 0 && f < ZONE_BAL_FAMILIES; f++) {
            double r = bcli_num(&d->items[i], bcli_fam[f]);
            if (r > 0 && isfinite(r)) {
                sum[id][f] += r;
                total += r;
            }
        }
    }
    return total;
}

static void bcli_print_demand_table(double (*sum)[ZONE_BAL_FAMILIES])
{
    double total = 0;

    for (int id = 0; id < zone_id_count(); id++)
        total += sum[id][0] + sum[id][1] + sum[id][2];
    printf("%-14s %12s %12s %12s %8s\n", "ZONE", "IPv4", "IPv6", "NTS", "SHARE%");
    for (int id = 0; id < zone_id_count(); id++) {
        double z = sum[id][0] + sum[id][1] + sum[id][2];
        if (z > 0)
            printf("%-14s %12.1f %12.1f %12.1f %8.3f\n", zone_id_name(id), sum[id][0],
                   sum[id][1], sum[id][2], total > 0 ? 100 * z / total : 0);
    }
    printf("%-14s %38.1f\n", "total", total);
}

/* The table in the format demand push takes; malloc'd text. */
static char *bcli_demand_json(double (*sum)[ZONE_BAL_FAMILIES], uint64_t serial,
                              size_t *len)
{
    size_t cap = 64 + (size_t)zone_id_count() * 112, n;
    char *s = malloc(cap);
    bool first = true;

    if (!s)
        return NULL;
    n = (size_t)snprintf(s, cap, "{\"serial\": %llu, \"demand\": {",
                         (unsigned long long)serial);
    for (int id = 0; id < zone_id_count(); id++) {
        if (!(sum[id][0] > 0 || sum[id][1] > 0 || sum[id][2] > 0))
            continue;
        n += (size_t)snprintf(
            s + n, cap - n, "%s\"%s\": {\"4\": %.9g, \"6\": %.9g, \"nts\": %.9g}",
            first ? "" : ", ", zone_id_name(id), sum[id][0], sum[id][1], sum[id][2]);
        first = false;
    }
    n += (size_t)snprintf(s + n, cap - n, "}}\n");
    *len = n;
    return s;
}

/* Reads and validates a demand table file; prints every error. */
static char *bcli_read_table(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    zone_demand_t t;
    zone_errors_t errs;

    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > CTL_MAX_PAYLOAD_DEFAULT / 2) {
        fprintf(stderr, "dnsdctl: %s: %s\n", path,
                !f ? strerror(errno) : "not a regular file of a sensible size");
        goto done;
    }
    if (!(buf = malloc((size_t)st.st_size + 1)) ||
        fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "dnsdctl: %s: read error\n", path);
        free(buf);
        buf = NULL;
        goto done;
    }
    *len = (size_t)st.st_size;
    zone_errors_init(&errs);
    if (zone_demand_parse(path, buf, *len, &t, &errs) < 0) {
        zone_errors_print(&errs, stderr);
        fprintf(stderr, "dnsdctl: %s: invalid demand table, %zu error(s); nothing sent\n",
                path, errs.n + errs.dropped);
        free(buf);
        buf = NULL;
    }
    zone_errors_deinit(&errs);
done:
    if (f)
        fclose(f);
    return buf;
}

/* ---- servers ------------------------------------------------------------ */

typedef struct bcli_srv {
    char ip[64];
    char zones[96];
    int family;
    double weight, answers;
} bcli_srv_t;

typedef struct bcli_srvs {
    bcli_srv_t *s;
    size_t n, cap;
} bcli_srvs_t;

/* Adds a SERVERS reply (answers summed by address over nodes). */
static int bcli_add_servers(bcli_srvs_t *t, const ctl_jval_t *reply)
{
    const ctl_jval_t *list = ctl_json_get(reply, "servers");

    for (size_t i = 0; list && list->type == CTL_J_ARR && i < list->n; i++) {
        const ctl_jval_t *e = &list->items[i], *ip = ctl_json_get(e, "ip"),
                         *zs = ctl_json_get(e, "zones");
        size_t k = 0;
        if (!ip || ip->type != CTL_J_STR)
            continue;
        /* Nodes with the same snapshot list servers in the same order. */
        if (i < t->n && !strcmp(t->s[i].ip, ip->str))
            k = i;
        while (k < t->n && strcmp(t->s[k].ip, ip->str) != 0)
            k++;
        if (k == t->n) {
            if (t->n == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 256;
                bcli_srv_t *s = realloc(t->s, cap * sizeof *s);
                if (!s)
                    return -1;
                t->s = s, t->cap = cap;
            }
            bcli_srv_t *s = &t->s[t->n++];
            memset(s, 0, sizeof *s);
            snprintf(s->ip, sizeof s->ip, "%s", ip->str);
            s->family = (int)bcli_num(e, "family");
            s->weight = bcli_num(e, "weight");
            for (size_t z = 0, n = 0; zs && zs->type == CTL_J_ARR && z < zs->n; z++)
                if (zs->items[z].type == CTL_J_STR && n < sizeof s->zones)
                    n += (size_t)snprintf(s->zones + n, sizeof s->zones - n, "%s%s",
                                          z ? "," : "", zs->items[z].str);
        }
        t->s[k].answers += bcli_num(e, "answers");
    }
    return 0;
}

static int bcli_cmp_ratio(const void *a, const void *b)
{
    const bcli_srv_t *x = a, *y = b;
    double rx = x->weight > 0 ? x->answers / x->weight : 0,
           ry = y->weight > 0 ? y->answers / y->weight : 0;
    return (ry > rx) - (ry < rx);
}

/* Share of answers against share of weight, per family, worst first. */
static void bcli_print_servers(bcli_srvs_t *t, const char *zone)
{
    double W[2] = {0, 0}, A[2] = {0, 0};

    for (size_t i = 0; i < t->n; i++) {
        W[t->s[i].family == 6] += t->s[i].weight > 0 ? t->s[i].weight : 0;
        A[t->s[i].family == 6] += t->s[i].answers;
    }
    qsort(t->s, t->n, sizeof *t->s, bcli_cmp_ratio);
    printf("%-39s %-20s %12s %9s %9s %8s\n", "SERVER", "ZONES", "ANSWERS", "ANSWER%",
           "WEIGHT%", "RATIO");
    for (size_t i = 0; i < t->n; i++) {
        const bcli_srv_t *s = &t->s[i];
        int f = s->family == 6;
        char zl[100];
        if (!(s->weight > 0))
            continue; /* not eligible: never answered */
        snprintf(zl, sizeof zl, ",%s,", s->zones);
        if (zone && strcmp(zone, "@") != 0) {
            char want[40];
            snprintf(want, sizeof want, ",%s,", zone);
            if (!strstr(zl, want))
                continue;
        }
        double as = A[f] > 0 ? s->answers / A[f] : 0,
               ws = W[f] > 0 ? s->weight / W[f] : 0;
        printf("%-39s %-20s %12.0f %9.4f %9.4f %8.2f\n", s->ip, s->zones, s->answers,
               100 * as, 100 * ws, ws > 0 ? as / ws : 0);
    }
    printf("answers in all: IPv4 %.0f, IPv6 %.0f\n", A[0], A[1]);
}

/* ---- fleet -------------------------------------------------------------- */

static int bcli_fleet_status(const dctl_fleet_reply_t *r, size_t n)
{
    int rc = DCTL_OK;
    for (size_t i = 0; i < n; i++)
        if (r[i].status == DCTL_CONN || (r[i].status == DCTL_REFUSED && rc == DCTL_OK))
            rc = r[i].status;
    return rc;
}

static void bcli_fleet_free(dctl_fleet_reply_t *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        ctl_json_free(r[i].reply);
    free(r);
}

/* demand (and balance's first step): every node's local demand and the sum. */
static dctl_fleet_reply_t *bcli_fleet_demand(const dctl_nodes_t *nodes, const uint8_t *p,
                                             size_t len, double t,
                                             double (*sum)[ZONE_BAL_FAMILIES], bool print)
{
    dctl_fleet_reply_t *r = calloc(nodes->n, sizeof *r);

    if (!r || dctl_fleet_collect(nodes, CTL_T_DEMAND, p, len, t, r) < 0) {
        free(r);
        return NULL;
    }
    if (print)
        printf("%-16s %14s %9s  %s\n", "NODE", "DEMAND", "MS", "RESULT");
    for (size_t i = 0; i < nodes->n; i++) {
        double total = r[i].status == DCTL_OK ? bcli_add_demand(r[i].reply, sum) : 0;
        if (print)
            printf("%-16s %14.1f %9.1f  %s\n", r[i].name, total, r[i].ms, r[i].result);
    }
    return r;
}

/* balance: the fleet's summed demand pushed to every node, so that every
 * anycast node acts on the world's demand rather than its region's. */
static int bcli_fleet_balance(const bcli_t *b, const dctl_nodes_t *nodes, double t)
{
    static double sum[ZONE_ID_MAX][ZONE_BAL_FAMILIES];
    size_t plen, jlen, len;
    uint8_t *p = ctl_push_encode(0, b->origin ? b->origin : "", NULL, 0, &plen);
    dctl_fleet_reply_t *d = p ? bcli_fleet_demand(nodes, p, plen, t, sum, false) : NULL;
    int rc = DCTL_CONN;
    free(p);
    if (!d)
        return DCTL_CONN;
    size_t up = 0;
    for (size_t i = 0; i < nodes->n; i++)
        up += d[i].status == DCTL_OK;
    /* The serial is the time: every fleet run supersedes the one before. */
    char *json = up ? bcli_demand_json(sum, (uint64_t)time(NULL), &jlen) : NULL;
    dctl_fleet_reply_t *r = calloc(nodes->n, sizeof *r);
    p = json ? ctl_push_encode(CTL_PUSH_FORCE, b->origin ? b->origin : "",
                               (uint8_t *)json, jlen, &len)
             : NULL;
    if (!up)
        fprintf(stderr, "dnsdctl: no node answered; nothing pushed\n");
    if (p && r && dctl_fleet_collect(nodes, CTL_T_DEMAND_PUSH, p, len, t, r) == 0) {
        printf("%-16s %14s %9s %9s  %s\n", "NODE", "DEMAND", "WORST4", "WORST6",
               "RESULT");
        for (size_t i = 0; i < nodes->n; i++) {
            const ctl_jval_t *f = ctl_json_get(r[i].reply, "families");
            double total = 0, w4 = bcli_num(ctl_json_get(f, "4"), "worst_with"),
                   w6 = bcli_num(ctl_json_get(f, "6"), "worst_with");
            static double none[ZONE_ID_MAX][ZONE_BAL_FAMILIES];
            if (d[i].status == DCTL_OK) {
                memset(none, 0, sizeof none);
                total = bcli_add_demand(d[i].reply, none);
            }
            printf("%-16s %14.1f %9.2f %9.2f  %s\n", r[i].name, total, w4, w6,
                   d[i].status != DCTL_OK ? d[i].result : r[i].result);
            if (d[i].status != DCTL_OK && r[i].status == DCTL_OK)
                r[i].status = d[i].status; /* its demand is missing from the sum */
        }
        rc = bcli_fleet_status(r, nodes->n);
        printf("sum of %zu of %zu nodes pushed to every node\n", up, nodes->n);
    }
    free(p);
    free(json);
    bcli_fleet_free(r, nodes->n);
    bcli_fleet_free(d, nodes->n);
    return up ? rc : DCTL_CONN;
}

static int bcli_fleet(const bcli_t *b)
{
    dctl_nodes_t nodes;
    char err[1024];
    size_t len;
    int rc = DCTL_CONN;
    static double sum[ZONE_ID_MAX][ZONE_BAL_FAMILIES];

    if (dctl_nodes_load(b->c->nodes, &nodes, err, sizeof err) < 0) {
        fprintf(stderr, "dnsdctl: %s\n", err);
        return DCTL_USAGE;
    }
    double t = b->c->timeout_s > 0   ? b->c->timeout_s
               : nodes.timeout_s > 0 ? nodes.timeout_s
                                     : DCTL_TIMEOUT_DEFAULT_S;
    uint8_t *p = ctl_push_encode(0, b->origin ? b->origin : "", NULL, 0, &len);
    if (!p) {
        dctl_nodes_deinit(&nodes);
        return DCTL_CONN;
    }
    if (!strcmp(b->verb, "balance")) {
        rc = bcli_fleet_balance(b, &nodes, t);
    } else if (!strcmp(b->verb, "demand")) {
        dctl_fleet_reply_t *r = bcli_fleet_demand(&nodes, p, len, t, sum, true);
        if (r) {
            printf("\nsum:\n");
            bcli_print_demand_table(sum);
            rc = bcli_fleet_status(r, nodes.n);
        }
        bcli_fleet_free(r, nodes.n);
    } else {
        dctl_fleet_reply_t *r = calloc(nodes.n, sizeof *r);
        bcli_srvs_t srvs = {0};
        if (r && dctl_fleet_collect(&nodes, CTL_T_SERVERS, p, len, t, r) == 0) {
            for (size_t i = 0; i < nodes.n; i++) {
                printf("%-16s %9.1f ms  %s\n", r[i].name, r[i].ms, r[i].result);
                if (r[i].status == DCTL_OK)
                    bcli_add_servers(&srvs, r[i].reply);
            }
            bcli_print_servers(&srvs, b->zone);
            rc = bcli_fleet_status(r, nodes.n);
        }
        free(srvs.s);
        bcli_fleet_free(r, nodes.n);
    }
    free(p);
    dctl_nodes_deinit(&nodes);
    return rc;
}

/* ---- one node ----------------------------------------------------------- */

static int bcli_single(const bcli_t *b)
{
    uint8_t type = !strcmp(b->verb, "balance")   ? CTL_T_BALANCE
                   : !strcmp(b->verb, "servers") ? CTL_T_SERVERS
                   : b->push                     ? CTL_T_DEMAND_PUSH
                                                 : CTL_T_DEMAND;
    size_t flen = 0, len;
    char *file = NULL, *reply = NULL;

    if (b->push && !(file = bcli_read_table(b->file, &flen)))
        return DCTL_REFUSED;
    uint8_t *p = ctl_push_encode(b->force ? CTL_PUSH_FORCE : 0,
                                 b->origin ? b->origin : "", (uint8_t *)file, flen, &len);
    free(file);
    if (!p)
        return DCTL_CONN;
    int rc = bcli_request(b->c, type, p, len, &reply);
    free(p);
    if (rc != DCTL_OK)
        return rc;
    ctl_jval_t *v = ctl_json_parse(reply, strlen(reply));
    if (b->json || !v) {
        printf("%s\n", reply);
    } else if (type == CTL_T_BALANCE || type == CTL_T_DEMAND_PUSH) {
        if (type == CTL_T_DEMAND_PUSH)
            printf("%s: demand table %s accepted\n", bcli_node(b->c), b->file);
        bcli_print_balance(reply);
    } else if (type == CTL_T_DEMAND) {
        static double sum[ZONE_ID_MAX][ZONE_BAL_FAMILIES];
        bcli_add_demand(v, sum);
        bcli_print_demand_table(sum);
    } else {
        bcli_srvs_t srvs = {0};
        bcli_add_servers(&srvs, v);
        bcli_print_servers(&srvs, b->zone);
        free(srvs.s);
    }
    ctl_json_free(v);
    free(reply);
    return DCTL_OK;
}

static int bcli_usage(const char *verb)
{
    fprintf(stderr,
            "Usage: dnsdctl [OPTIONS] demand [--origin O] [--json]\n"
            "       dnsdctl [OPTIONS] demand push FILE [--force] [--zone ORIGIN]\n"
            "       dnsdctl [OPTIONS] balance [--origin O] [--json]\n"
            "       dnsdctl [OPTIONS] servers [--zone Z] [--origin O] [--json]\n"
            "(dnsdctl %s: see dnsdctl(8))\n",
            verb);
    return DCTL_USAGE;
}

int dctl_balance_main(const dctl_conn_opts_t *o, int argc, char **argv, int i)
{
    bcli_t b = {.c = o, .verb = argv[i]};
    bool servers = !strcmp(b.verb, "servers");

    if (!strcmp(b.verb, "demand") && i + 1 < argc && !strcmp(argv[i + 1], "push"))
        b.push = true, i++;
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return bcli_usage(b.verb) == DCTL_USAGE ? DCTL_OK : DCTL_OK;
        if (!strcmp(a, "--json") && !b.push)
            b.json = true;
        else if (!strcmp(a, "--force") && b.push)
            b.force = true;
        else if (!strcmp(a, "--origin") && i + 1 < argc && !b.push)
            b.origin = argv[++i];
        else if (!strcmp(a, "--zone") && i + 1 < argc && (b.push || servers))
            *(b.push ? &b.origin : &b.zone) = argv[++i];
        else if (b.push && a[0] != '-' && !b.file)
            b.file = a;
        else {
            fprintf(stderr, "dnsdctl %s: unexpected argument %s\n", b.verb, a);
            return bcli_usage(b.verb);
        }
    }
    if (b.push && !b.file) {
        fprintf(stderr, "dnsdctl demand push needs FILE\n");
        return bcli_usage(b.verb);
    }
    if (b.origin && strlen(b.origin) > CTL_ORIGIN_MAX)
        return bcli_usage(b.verb);
    if (o->nodes && (b.push || b.json)) {
        fprintf(stderr, "dnsdctl: --nodes works with demand, balance and servers\n");
        return DCTL_USAGE;
    }
    return o->nodes ? bcli_fleet(&b) : bcli_single(&b);
}
