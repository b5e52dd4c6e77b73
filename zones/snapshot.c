/*
 * snapshot.c - reads and validates a snapshot of scored servers (DESIGN.md
 * "Snapshot"). A snapshot is strict JSON (RFC 8259), read token by token with
 * zones/json.c: nothing but its server array is held, reading is linear in the
 * input, and nesting is bounded by ZONE_JSON_DEPTH.
 *
 * Validation goes on after the first problem so one run lists every error,
 * each "file:line:col: path: what" with 1-based line and column (json_doc.c,
 * shared with demand tables). Only a syntax error stops the scan: what
 * follows it has no reliable structure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_doc_int.h"
#include "zones/zones.h"

/* Weights are netspeed × 1024 <= 2^40, so 2^24 servers keep every sum of
 * weights inside uint64 (pool.c relies on it). */
#define SNAP_SERVERS_MAX (1u << 24)

/* SNAP_ALL: the required keys; "nts" is optional. */
enum {
    SNAP_IP = 1,
    SNAP_SCORE = 2,
    SNAP_NETSPEED = 4,
    SNAP_ZONES = 8,
    SNAP_ALL = 15,
    SNAP_NTS = 16,
};

typedef struct snap_parser {
    json_doc_t d; /* the reader, its current token and the messages */
    zone_snapshot_t *snap;
    json_doc_mark_t *marks; /* of each server's "ip" value, for duplicate reports */
    size_t cap;
} snap_parser_t;

/* ---- helpers ----------------------------------------------------------- */

/* A numeric field's value (the reader has checked the RFC 8259 grammar), or
 * NULL after reporting a wrong type or a number beyond double's range. */
static const zone_json_token_t *snap_numeric(snap_parser_t *p, const char *path,
                                             double *v, bool *integral, int *rc)
{
    char shown[JSON_DOC_SHOWN];
    char *end;

    *rc = json_doc_expect(&p->d, ZONE_JSON_NUMBER, path, "a number");
    if (*rc)
        return NULL;
    *integral = !strpbrk(p->d.tok.text, ".eE");
    errno = 0;
    *v = strtod(p->d.tok.text, &end);
    if (errno != ERANGE)
        return &p->d.tok;
    json_doc_err(&p->d, json_doc_at(&p->d), path, "out of range (got \"%s\")",
                 json_doc_shown(&p->d, shown));
    return NULL;
}

/* A number in [lo, hi], and integral when `whole`: 0 with *v, 1 after
 * reporting "<bad> (got ...)" or a wrong type, -1 on a syntax error. */
static int snap_ranged(snap_parser_t *p, const char *path, double lo, double hi,
                       bool whole, const char *bad, double *v)
{
    char shown[JSON_DOC_SHOWN];
    bool integral;
    int rc;

    if (!snap_numeric(p, path, v, &integral, &rc))
        return rc < 0 ? -1 : 1;
    if ((integral || !whole) && *v >= lo && *v <= hi)
        return 0;
    json_doc_err(&p->d, json_doc_at(&p->d), path, "%s (got \"%s\")", bad,
                 json_doc_shown(&p->d, shown));
    return 1;
}

/* ---- fields ------------------------------------------------------------ */

static int snap_serial(snap_parser_t *p)
{
    uint64_t v;
    bool integral;
    double d;
    int rc;

    if (!snap_numeric(p, "serial", &d, &integral, &rc))
        return rc < 0 ? -1 : 0;
    if (json_doc_uint64(&p->d, "serial", &v))
        p->snap->serial = v;
    return 0;
}

static int snap_ip(snap_parser_t *p, zone_server_t *srv, json_doc_mark_t *mark,
                   const char *path)
{
    char shown[JSON_DOC_SHOWN];
    const char *why;
    int rc = json_doc_expect(&p->d, ZONE_JSON_STRING, path, "an address");

    if (rc)
        return rc < 0 ? -1 : 0;
    *mark = json_doc_at(&p->d);
    /* The reader's strings hold no NUL, so inet_pton sees all of it. */
    if (inet_pton(AF_INET, p->d.tok.text, srv->addr) == 1)
        srv->family = 4;
    else if (inet_pton(AF_INET6, p->d.tok.text, srv->addr) == 1)
        srv->family = 6;
    if (!srv->family) {
        json_doc_err(&p->d, *mark, path, "not an IPv4 or IPv6 address (got \"%s\")",
                     json_doc_shown(&p->d, shown));
    } else if ((why = zone_addr_problem(srv->family, srv->addr)) != NULL) {
        json_doc_err(&p->d, *mark, path, "unusable address: %s (got \"%s\")", why,
                     json_doc_shown(&p->d, shown));
        srv->family = 0; /* reported: kept out of the duplicate check */
    }
    return 0;
}

static int snap_score(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    double v;
    int rc = snap_ranged(p, path, -100, 20, false, "outside [-100, 20]", &v);

    if (rc == 0)
        srv->score = v;
    return rc < 0 ? -1 : 0;
}

static int snap_netspeed(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    char shown[JSON_DOC_SHOWN];
    bool integral;
    double v;
    int rc;

    if (!snap_numeric(p, path, &v, &integral, &rc))
        return rc < 0 ? -1 : 0;
    json_doc_shown(&p->d, shown);
    if (v < 0 || (v == 0 && p->d.tok.text[0] == '-'))
        json_doc_err(&p->d, json_doc_at(&p->d), path, "negative (got \"%s\")", shown);
    else if (!integral)
        json_doc_err(&p->d, json_doc_at(&p->d), path,
                     "fractional, must be an integer kbit/s (got \"%s\")", shown);
    else if (v > ZONE_NETSPEED_MAX)
        json_doc_err(&p->d, json_doc_at(&p->d), path, "above %u kbit/s (got \"%s\")",
                     ZONE_NETSPEED_MAX, shown);
    else
        srv->netspeed = (uint32_t)v;
    return 0;
}

/* Zone names: "@" is implied and ignored, a repeated name counts once. */
static int snap_zones(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    char sub[80], shown[JSON_DOC_SHOWN];
    bool over = false;
    int rc = json_doc_expect(&p->d, ZONE_JSON_ARRAY, path, "an array of zone names");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (size_t i = 0; (rc = json_doc_elem(&p->d)) == 1; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if ((rc = json_doc_expect(&p->d, ZONE_JSON_STRING, sub, "a zone name")) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        int id = zone_id_lookup(p->d.tok.text, p->d.tok.len);
        if (id < 0) {
            json_doc_err(&p->d, json_doc_at(&p->d), sub, "unknown zone (got \"%s\")",
                         json_doc_shown(&p->d, shown));
            continue;
        }
        bool dup = id == ZONE_GLOBAL;
        for (size_t k = 0; k < srv->n_zones && !dup; k++)
            dup = srv->zones[k] == id;
        if (dup)
            continue;
        if (srv->n_zones < 8) {
            srv->zones[srv->n_zones++] = (uint16_t)id;
        } else if (!over) {
            over = true;
            json_doc_err(&p->d, json_doc_at(&p->d), sub,
                         "more than 8 zones for one server");
        }
    }
    return rc;
}

/* ---- structure --------------------------------------------------------- */

static void snap_missing(snap_parser_t *p, json_doc_mark_t m, const char *path,
                         unsigned seen)
{
    static const char *const keys[] = {"ip", "score", "netspeed", "zones"};

    for (unsigned i = 0; i < 4; i++)
        if (!(seen & (1u << i)))
            json_doc_err(&p->d, m, path, "missing key \"%s\"", keys[i]);
}

/* "nts": {"host": NAME, "port": 1..65535}: the server's NTS-KE endpoint (RFC
 * 8915), an SRV target (nts.c); "port" defaults to 4460. */
static int snap_nts_host(snap_parser_t *p, uint8_t *lname, size_t *len, const char *path)
{
    char shown[JSON_DOC_SHOWN];
    const char *why;
    int rc = json_doc_expect(&p->d, ZONE_JSON_STRING, path, "a host name");

    if (rc)
        return rc < 0 ? -1 : 0;
    if (zone_nts_host_parse(p->d.tok.text, p->d.tok.len, lname, len, &why) < 0)
        json_doc_err(&p->d, json_doc_at(&p->d), path, "%s (got \"%s\")", why,
                     json_doc_shown(&p->d, shown));
    return 0;
}

static int snap_nts_port(snap_parser_t *p, uint16_t *port, const char *path)
{
    double v;
    int rc = snap_ranged(p, path, 1, 65535, true, "not a port 1..65535", &v);

    if (rc == 0)
        *port = (uint16_t)v;
    return rc < 0 ? -1 : 0;
}

static int snap_nts(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    uint8_t lname[255];
    size_t len = 0;
    uint16_t port = ZONE_NTS_PORT_DEFAULT;
    unsigned seen = 0, errs = (unsigned)p->d.n_errs;
    json_doc_mark_t start = json_doc_at(&p->d);
    char sub[96], shown[JSON_DOC_SHOWN];
    int rc =
        json_doc_expect(&p->d, ZONE_JSON_OBJECT, path, "an object {\"host\", \"port\"}");

    if (rc)
        return rc < 0 ? -1 : 0;
    while ((rc = json_doc_key(&p->d)) == 1) {
        unsigned bit = !strcmp(p->d.tok.text, "host")   ? 1
                       : !strcmp(p->d.tok.text, "port") ? 2
                                                        : 0;
        snprintf(sub, sizeof sub, "%s.%s", path,
                 bit ? p->d.tok.text : json_doc_shown(&p->d, shown));
        if (!bit)
            json_doc_err(&p->d, json_doc_at(&p->d), sub, "unknown key");
        bool skip = !bit || json_doc_seen(&p->d, &seen, bit, sub);
        if (json_doc_next(&p->d) < 0)
            return -1;
        rc = skip       ? json_doc_skip(&p->d)
             : bit == 1 ? snap_nts_host(p, lname, &len, sub)
                        : snap_nts_port(p, &port, sub);
        if (rc < 0)
            return -1;
    }
    if (rc == 0 && !(seen & 1))
        json_doc_err(&p->d, start, path, "missing key \"host\"");
    if (rc == 0 && p->d.n_errs == errs && len &&
        zone_snapshot_set_nts(p->snap, srv, lname, len, port) < 0) {
        json_doc_err(&p->d, start, path, "out of memory");
        return -1;
    }
    return rc;
}

static int snap_field(snap_parser_t *p, size_t i, unsigned *seen, const char *path)
{
    zone_server_t *srv = &p->snap->servers[i];
    const char *key = p->d.tok.text;
    char sub[64], shown[JSON_DOC_SHOWN];
    unsigned bit = !strcmp(key, "ip")         ? SNAP_IP
                   : !strcmp(key, "score")    ? SNAP_SCORE
                   : !strcmp(key, "netspeed") ? SNAP_NETSPEED
                   : !strcmp(key, "zones")    ? SNAP_ZONES
                   : !strcmp(key, "nts")      ? SNAP_NTS
                                              : 0;

    snprintf(sub, sizeof sub, "%s.%s", path, bit ? key : json_doc_shown(&p->d, shown));
    if (!bit)
        json_doc_err(&p->d, json_doc_at(&p->d), sub, "unknown key");
    bool skip = !bit || json_doc_seen(&p->d, seen, bit, sub);
    if (json_doc_next(&p->d) < 0)
        return -1;
    if (skip)
        return json_doc_skip(&p->d);
    switch (bit) {
    case SNAP_IP:
        return snap_ip(p, srv, &p->marks[i], sub);
    case SNAP_SCORE:
        return snap_score(p, srv, sub);
    case SNAP_NETSPEED:
        return snap_netspeed(p, srv, sub);
    case SNAP_NTS:
        return snap_nts(p, srv, sub);
    default:
        return snap_zones(p, srv, sub);
    }
}

static int snap_grow(snap_parser_t *p)
{
    size_t cap = p->cap ? p->cap * 2 : 256;
    zone_server_t *s = realloc(p->snap->servers, cap * sizeof *s);

    if (s)
        p->snap->servers = s;
    json_doc_mark_t *m = s ? realloc(p->marks, cap * sizeof *m) : NULL;
    if (!m)
        return -1;
    p->marks = m;
    p->cap = cap;
    return 0;
}

static int snap_server(snap_parser_t *p, size_t i)
{
    char path[40];
    unsigned seen = 0;
    json_doc_mark_t start = json_doc_at(&p->d);
    int rc;

    snprintf(path, sizeof path, "servers[%zu]", i);
    if (i >= SNAP_SERVERS_MAX) {
        json_doc_err(&p->d, start, path, "more than %u servers", SNAP_SERVERS_MAX);
        return -1;
    }
    if (i == p->cap && snap_grow(p) < 0) {
        json_doc_err(&p->d, start, path, "out of memory");
        return -1;
    }
    memset(&p->snap->servers[i], 0, sizeof p->snap->servers[i]);
    memset(&p->marks[i], 0, sizeof p->marks[i]);
    p->snap->n_servers = i + 1;
    if ((rc = json_doc_expect(&p->d, ZONE_JSON_OBJECT, path, "an object")) != 0)
        return rc < 0 ? -1 : 0;
    while ((rc = json_doc_key(&p->d)) == 1)
        if (snap_field(p, i, &seen, path) < 0)
            return -1;
    if (rc == 0)
        snap_missing(p, start, path, seen);
    return rc;
}

static int snap_servers(snap_parser_t *p)
{
    int rc = json_doc_expect(&p->d, ZONE_JSON_ARRAY, "servers", "an array");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (size_t i = 0; (rc = json_doc_elem(&p->d)) == 1; i++) {
        if (snap_server(p, i) < 0)
            return -1;
    }
    return rc;
}

/* The top-level object: "serial" and "servers", both required. */
static int snap_top(snap_parser_t *p)
{
    json_doc_mark_t start = json_doc_at(&p->d);
    unsigned seen = 0;
    char shown[JSON_DOC_SHOWN], key[16];
    int rc;

    if ((rc = json_doc_expect(&p->d, ZONE_JSON_OBJECT, "(document)", "an object")) != 0)
        return rc;
    while ((rc = json_doc_key(&p->d)) == 1) {
        unsigned bit = !strcmp(p->d.tok.text, "serial")    ? 1
                       : !strcmp(p->d.tok.text, "servers") ? 2
                                                           : 0;
        snprintf(key, sizeof key, "%s", bit == 1 ? "serial" : "servers");
        if (!bit)
            json_doc_err(&p->d, json_doc_at(&p->d), json_doc_shown(&p->d, shown),
                         "unknown key");
        bool skip = !bit || json_doc_seen(&p->d, &seen, bit, key);
        if (json_doc_next(&p->d) < 0)
            return -1;
        rc = skip ? json_doc_skip(&p->d) : bit == 1 ? snap_serial(p) : snap_servers(p);
        if (rc < 0)
            return -1;
    }
    if (rc == 0 && !(seen & 1))
        json_doc_err(&p->d, start, "serial", "missing key \"serial\"");
    if (rc == 0 && !(seen & 2))
        json_doc_err(&p->d, start, "servers", "missing key \"servers\"");
    return rc;
}

static int snap_document(snap_parser_t *p)
{
    const char *s = p->d.j.p;

    while (s < p->d.j.end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    if (s == p->d.j.end) {
        json_doc_err(&p->d, (json_doc_mark_t){1, 1}, "(document)", "empty snapshot");
        return -1;
    }
    if (json_doc_next(&p->d) < 0 || snap_top(p) < 0)
        return -1;
    return json_doc_next(&p->d); /* ZONE_JSON_END, or text after the document */
}

/* ---- duplicates -------------------------------------------------------- */

typedef struct snap_dupkey {
    uint8_t key[17]; /* family, then the address bytes */
    uint32_t idx;
} snap_dupkey_t;

static int snap_cmp_key(const void *a, const void *b)
{
    const snap_dupkey_t *x = a, *y = b;
    int c = memcmp(x->key, y->key, sizeof x->key);

    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Equal addresses compared as bytes (inet_pton normalises "2001:db8::1" and
 * "2001:DB8:0::1" alike), found by sorting: O(n log n) for big snapshots. Each
 * later server is reported, naming the first of its address.
 */
static void snap_duplicates(snap_parser_t *p)
{
    const zone_server_t *srv = p->snap->servers;
    snap_dupkey_t *k = malloc((p->snap->n_servers + 1) * sizeof *k);
    size_t n = 0, first = 0;

    if (!k) {
        zone_errors_add(p->d.errs, "%s: out of memory", p->d.name);
        p->d.n_errs++;
        return;
    }
    for (size_t i = 0; i < p->snap->n_servers; i++) {
        if (!srv[i].family)
            continue; /* a bad address, already reported */
        k[n].key[0] = srv[i].family;
        memcpy(k[n].key + 1, srv[i].addr, 16);
        k[n++].idx = (uint32_t)i;
    }
    qsort(k, n, sizeof *k, snap_cmp_key);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(k[first].key, k[i].key, sizeof k[i].key) != 0) {
            first = i;
            continue;
        }
        const json_doc_mark_t *m = &p->marks[k[i].idx];
        zone_errors_add(p->d.errs,
                        "%s:%u:%u: servers[%u].ip: duplicate of servers[%u] at line %u",
                        p->d.name, m->line, m->col, k[i].idx, k[first].idx,
                        p->marks[k[first].idx].line);
        p->d.n_errs++;
    }
    free(k);
}

/* ---- entry points ------------------------------------------------------ */

int zone_snapshot_parse(const char *name, const char *buf, size_t len,
                        zone_snapshot_t **out, zone_errors_t *errs)
{
    snap_parser_t p = {.snap = NULL};

    *out = NULL;
    if (!(p.snap = calloc(1, sizeof *p.snap))) {
        zone_errors_add(errs, "%s: out of memory", name);
        return -1;
    }
    json_doc_init(&p.d, name, buf, len, errs);
    if (snap_document(&p) == 0)
        snap_duplicates(&p);
    json_doc_deinit(&p.d);
    free(p.marks);
    if (p.d.n_errs) {
        zone_snapshot_free(p.snap);
        return -1;
    }
    *out = p.snap;
    return 0;
}

/* fopen() succeeds on a directory, whose size then reads as LONG_MAX and
 * fails the malloc: EISDIR says what is wrong. */
static int zone_snapshot_not_dir(FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    return 0;
}

int zone_snapshot_load(const char *path, zone_snapshot_t **out, zone_errors_t *errs)
{
    FILE *f;
    char *buf = NULL;
    long size;
    int rc = -1;

    *out = NULL;
    errno = 0;
    if (!(f = fopen(path, "rb")) || zone_snapshot_not_dir(f) != 0 ||
        fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    if (!(buf = malloc((size_t)size + 1)))
        goto fail;
    if (fread(buf, 1, (size_t)size, f) != (size_t)size || ferror(f))
        goto fail;
    fclose(f);
    rc = zone_snapshot_parse(path, buf, (size_t)size, out, errs);
    free(buf);
    return rc;
fail:
    zone_errors_add(errs, "%s: cannot read: %s", path,
                    errno ? strerror(errno) : "short read");
    if (f)
        fclose(f);
    free(buf);
    return -1;
}

void zone_snapshot_free(zone_snapshot_t *snap)
{
    if (!snap)
        return;
    free(snap->servers);
    free(snap->nts_names);
    free(snap);
}
