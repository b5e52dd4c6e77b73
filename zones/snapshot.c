/*
 * snapshot.c - reads and validates a snapshot of scored servers (DESIGN.md
 * "Snapshot"). A snapshot is strict JSON (RFC 8259), read token by token with
 * zones/json.c: nothing but its server array is held, reading is linear in the
 * input, and nesting is bounded by ZONE_JSON_DEPTH.
 *
 * Validation goes on after the first problem so one run lists every error,
 * each "file:line:col: path: what" with 1-based line and column. Only a syntax
 * error stops the scan: what follows it has no reliable structure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

typedef struct snap_mark {
    uint32_t line, col; /* of the server's "ip" value, for duplicate reports */
} snap_mark_t;

typedef struct snap_parser {
    zone_json_t j;
    zone_json_token_t tok; /* the current token */
    const char *name;
    zone_errors_t *errs;
    size_t n_errs; /* errors this parse added */
    zone_snapshot_t *snap;
    snap_mark_t *marks;
    size_t cap;
} snap_parser_t;

/* ---- helpers ----------------------------------------------------------- */

static void snap_err(snap_parser_t *p, snap_mark_t m, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void snap_err(snap_parser_t *p, snap_mark_t m, const char *path, const char *fmt,
                     ...)
{
    char what[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    zone_errors_add(p->errs, "%s:%u:%u: %s: %s", p->name, m.line, m.col, path, what);
    p->n_errs++;
}

static snap_mark_t snap_at(const snap_parser_t *p)
{
    return (snap_mark_t){p->tok.line, p->tok.col};
}

static bool snap_scalar(const zone_json_token_t *t)
{
    return t->type >= ZONE_JSON_STRING;
}

/* A scalar's text for a message: at most 40 bytes, control bytes as '?'. */
static const char *snap_shown(const zone_json_token_t *t, char buf[48])
{
    size_t n = t->len, i;

    if (n > 40)
        n = 40;
    /* Cut at a character boundary: the message travels in JSON replies. */
    while (n < t->len && n > 0 && ((unsigned char)t->text[n] & 0xc0) == 0x80)
        n--;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->text[i];
        buf[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    strcpy(buf + i, t->len > 40 ? "..." : "");
    return buf;
}

/* Advances to the next token. -1 on a syntax error (recorded; the scan ends). */
static int snap_next(snap_parser_t *p)
{
    if (zone_json_next(&p->j, &p->tok) != ZONE_JSON_ERROR)
        return 0;
    snap_mark_t m = {p->j.err_line, p->j.err_col};
    snap_err(p, m, "(document)", "syntax error: %s", p->j.err);
    return -1;
}

/* Skips the value that starts at the current token (a scalar or a whole
 * object or array; nesting is bounded by the reader). */
static int snap_skip(snap_parser_t *p)
{
    if (zone_json_skip(&p->j, &p->tok) != ZONE_JSON_ERROR)
        return 0;
    snap_mark_t m = {p->j.err_line, p->j.err_col};
    snap_err(p, m, "(document)", "syntax error: %s", p->j.err);
    return -1;
}

/* The current token must start a value of `type`; else reports, skips it and
 * returns 1. -1 on a syntax error while skipping. */
static int snap_expect(snap_parser_t *p, int type, const char *path, const char *what)
{
    char shown[48];

    if (p->tok.type == type)
        return 0;
    if (snap_scalar(&p->tok))
        snap_err(p, snap_at(p), path, "wrong type: expected %s (got %s\"%s\")", what,
                 p->tok.type == ZONE_JSON_STRING ? "a string " : "",
                 snap_shown(&p->tok, shown));
    else
        snap_err(p, snap_at(p), path, "wrong type: expected %s (got %s)", what,
                 zone_json_type_name(p->tok.type));
    return snap_skip(p) < 0 ? -1 : 1;
}

/* A numeric field's value (the reader has checked the RFC 8259 grammar), or
 * NULL after reporting a wrong type or a number beyond double's range. */
static const zone_json_token_t *snap_numeric(snap_parser_t *p, const char *path,
                                             double *v, bool *integral, int *rc)
{
    char shown[48];
    char *end;

    *rc = snap_expect(p, ZONE_JSON_NUMBER, path, "a number");
    if (*rc)
        return NULL;
    *integral = !strpbrk(p->tok.text, ".eE");
    errno = 0;
    *v = strtod(p->tok.text, &end);
    if (errno != ERANGE)
        return &p->tok;
    snap_err(p, snap_at(p), path, "out of range (got \"%s\")",
             snap_shown(&p->tok, shown));
    return NULL;
}

/* ---- fields ------------------------------------------------------------ */

static int snap_serial(snap_parser_t *p)
{
    const char *s;
    char shown[48];
    uint64_t v = 0;
    bool integral;
    double d;
    int rc;

    if (!snap_numeric(p, "serial", &d, &integral, &rc))
        return rc < 0 ? -1 : 0;
    s = p->tok.text;
    if (!integral || *s == '-') {
        snap_err(p, snap_at(p), "serial", "must be a non-negative integer (got \"%s\")",
                 snap_shown(&p->tok, shown));
        return 0;
    }
    for (; *s; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            snap_err(p, snap_at(p), "serial", "does not fit 64 bits (got \"%s\")",
                     snap_shown(&p->tok, shown));
            return 0;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    p->snap->serial = v;
    return 0;
}

static int snap_ip(snap_parser_t *p, zone_server_t *srv, snap_mark_t *mark,
                   const char *path)
{
    char shown[48];
    const char *why;
    int rc = snap_expect(p, ZONE_JSON_STRING, path, "an address");

    if (rc)
        return rc < 0 ? -1 : 0;
    *mark = snap_at(p);
    /* The reader's strings hold no NUL, so inet_pton sees all of it. */
    if (inet_pton(AF_INET, p->tok.text, srv->addr) == 1)
        srv->family = 4;
    else if (inet_pton(AF_INET6, p->tok.text, srv->addr) == 1)
        srv->family = 6;
    if (!srv->family) {
        snap_err(p, *mark, path, "not an IPv4 or IPv6 address (got \"%s\")",
                 snap_shown(&p->tok, shown));
    } else if ((why = zone_addr_problem(srv->family, srv->addr)) != NULL) {
        snap_err(p, *mark, path, "unusable address: %s (got \"%s\")", why,
                 snap_shown(&p->tok, shown));
        srv->family = 0; /* reported: kept out of the duplicate check */
    }
    return 0;
}

static int snap_score(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    char shown[48];
    bool integral;
    double v;
    int rc;

    if (!snap_numeric(p, path, &v, &integral, &rc))
        return rc < 0 ? -1 : 0;
    if (v < -100 || v > 20)
        snap_err(p, snap_at(p), path, "outside [-100, 20] (got \"%s\")",
                 snap_shown(&p->tok, shown));
    else
        srv->score = v;
    return 0;
}

static int snap_netspeed(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    char shown[48];
    bool integral;
    double v;
    int rc;

    if (!snap_numeric(p, path, &v, &integral, &rc))
        return rc < 0 ? -1 : 0;
    snap_shown(&p->tok, shown);
    if (v < 0 || (v == 0 && p->tok.text[0] == '-'))
        snap_err(p, snap_at(p), path, "negative (got \"%s\")", shown);
    else if (!integral)
        snap_err(p, snap_at(p), path,
                 "fractional, must be an integer kbit/s (got \"%s\")", shown);
    else if (v > ZONE_NETSPEED_MAX)
        snap_err(p, snap_at(p), path, "above %u kbit/s (got \"%s\")", ZONE_NETSPEED_MAX,
                 shown);
    else
        srv->netspeed = (uint32_t)v;
    return 0;
}

/* Zone names: "@" is implied and ignored, a repeated name counts once. */
static int snap_zones(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    char sub[80], shown[48];
    bool over = false;
    int rc = snap_expect(p, ZONE_JSON_ARRAY, path, "an array of zone names");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (size_t i = 0;; i++) {
        if (snap_next(p) < 0)
            return -1;
        if (p->tok.type == ZONE_JSON_ARRAY_END)
            return 0;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if ((rc = snap_expect(p, ZONE_JSON_STRING, sub, "a zone name")) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        int id = zone_id_lookup(p->tok.text, p->tok.len);
        if (id < 0) {
            snap_err(p, snap_at(p), sub, "unknown zone (got \"%s\")",
                     snap_shown(&p->tok, shown));
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
            snap_err(p, snap_at(p), sub, "more than 8 zones for one server");
        }
    }
}

/* ---- structure --------------------------------------------------------- */

/* Reads an object's next key. 1 with the key current, 0 at the end of the
 * object, -1 on a syntax error. */
static int snap_key(snap_parser_t *p)
{
    if (snap_next(p) < 0)
        return -1;
    return p->tok.type == ZONE_JSON_KEY;
}

/* A key seen twice is an error: JSON leaves its meaning open (RFC 8259 4). */
static bool snap_seen(snap_parser_t *p, unsigned *seen, unsigned bit, const char *path)
{
    if (*seen & bit) {
        snap_err(p, snap_at(p), path, "duplicate key");
        return true;
    }
    *seen |= bit;
    return false;
}

static void snap_missing(snap_parser_t *p, snap_mark_t m, const char *path, unsigned seen)
{
    static const char *const keys[] = {"ip", "score", "netspeed", "zones"};

    for (unsigned i = 0; i < 4; i++)
        if (!(seen & (1u << i)))
            snap_err(p, m, path, "missing key \"%s\"", keys[i]);
}

/* "nts": {"host": NAME, "port": 1..65535}: the server's NTS-KE endpoint (RFC
 * 8915), an SRV target (nts.c); "port" defaults to 4460. */
static int snap_nts_host(snap_parser_t *p, uint8_t *lname, size_t *len, const char *path)
{
    char shown[48];
    const char *why;
    int rc = snap_expect(p, ZONE_JSON_STRING, path, "a host name");

    if (rc)
        return rc < 0 ? -1 : 0;
    if (zone_nts_host_parse(p->tok.text, p->tok.len, lname, len, &why) < 0)
        snap_err(p, snap_at(p), path, "%s (got \"%s\")", why, snap_shown(&p->tok, shown));
    return 0;
}

static int snap_nts_port(snap_parser_t *p, uint16_t *port, const char *path)
{
    char shown[48];
    bool integral;
    double v;
    int rc;

    if (!snap_numeric(p, path, &v, &integral, &rc))
        return rc < 0 ? -1 : 0;
    if (!integral || v < 1 || v > 65535)
        snap_err(p, snap_at(p), path, "not a port 1..65535 (got \"%s\")",
                 snap_shown(&p->tok, shown));
    else
        *port = (uint16_t)v;
    return 0;
}

static int snap_nts(snap_parser_t *p, zone_server_t *srv, const char *path)
{
    uint8_t lname[255];
    size_t len = 0;
    uint16_t port = ZONE_NTS_PORT_DEFAULT;
    unsigned seen = 0, errs = (unsigned)p->n_errs;
    snap_mark_t start = snap_at(p);
    char sub[96], shown[48];
    int rc = snap_expect(p, ZONE_JSON_OBJECT, path, "an object {\"host\", \"port\"}");

    if (rc)
        return rc < 0 ? -1 : 0;
    while ((rc = snap_key(p)) == 1) {
        unsigned bit = !strcmp(p->tok.text, "host")   ? 1
                       : !strcmp(p->tok.text, "port") ? 2
                                                      : 0;
        snprintf(sub, sizeof sub, "%s.%s", path,
                 bit ? p->tok.text : snap_shown(&p->tok, shown));
        if (!bit)
            snap_err(p, snap_at(p), sub, "unknown key");
        bool skip = !bit || snap_seen(p, &seen, bit, sub);
        if (snap_next(p) < 0)
            return -1;
        rc = skip       ? snap_skip(p)
             : bit == 1 ? snap_nts_host(p, lname, &len, sub)
                        : snap_nts_port(p, &port, sub);
        if (rc < 0)
            return -1;
    }
    if (rc == 0 && !(seen & 1))
        snap_err(p, start, path, "missing key \"host\"");
    if (rc == 0 && p->n_errs == errs && len &&
        zone_snapshot_set_nts(p->snap, srv, lname, len, port) < 0) {
        snap_err(p, start, path, "out of memory");
        return -1;
    }
    return rc;
}

static int snap_field(snap_parser_t *p, size_t i, unsigned *seen, const char *path)
{
    zone_server_t *srv = &p->snap->servers[i];
    const char *key = p->tok.text;
    char sub[64], shown[48];
    unsigned bit = !strcmp(key, "ip")         ? SNAP_IP
                   : !strcmp(key, "score")    ? SNAP_SCORE
                   : !strcmp(key, "netspeed") ? SNAP_NETSPEED
                   : !strcmp(key, "zones")    ? SNAP_ZONES
                   : !strcmp(key, "nts")      ? SNAP_NTS
                                              : 0;

    snprintf(sub, sizeof sub, "%s.%s", path, bit ? key : snap_shown(&p->tok, shown));
    if (!bit)
        snap_err(p, snap_at(p), sub, "unknown key");
    bool skip = !bit || snap_seen(p, seen, bit, sub);
    if (snap_next(p) < 0)
        return -1;
    if (skip)
        return snap_skip(p);
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
    snap_mark_t *m = s ? realloc(p->marks, cap * sizeof *m) : NULL;
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
    snap_mark_t start = snap_at(p);
    int rc;

    snprintf(path, sizeof path, "servers[%zu]", i);
    if (i >= SNAP_SERVERS_MAX) {
        snap_err(p, start, path, "more than %u servers", SNAP_SERVERS_MAX);
        return -1;
    }
    if (i == p->cap && snap_grow(p) < 0) {
        snap_err(p, start, path, "out of memory");
        return -1;
    }
    memset(&p->snap->servers[i], 0, sizeof p->snap->servers[i]);
    memset(&p->marks[i], 0, sizeof p->marks[i]);
    p->snap->n_servers = i + 1;
    if ((rc = snap_expect(p, ZONE_JSON_OBJECT, path, "an object")) != 0)
        return rc < 0 ? -1 : 0;
    while ((rc = snap_key(p)) == 1)
        if (snap_field(p, i, &seen, path) < 0)
            return -1;
    if (rc == 0)
        snap_missing(p, start, path, seen);
    return rc;
}

static int snap_servers(snap_parser_t *p)
{
    int rc = snap_expect(p, ZONE_JSON_ARRAY, "servers", "an array");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (size_t i = 0;; i++) {
        if (snap_next(p) < 0)
            return -1;
        if (p->tok.type == ZONE_JSON_ARRAY_END)
            return 0;
        if (snap_server(p, i) < 0)
            return -1;
    }
}

/* The top-level object: "serial" and "servers", both required. */
static int snap_top(snap_parser_t *p)
{
    snap_mark_t start = snap_at(p);
    unsigned seen = 0;
    char shown[48], key[16];
    int rc;

    if ((rc = snap_expect(p, ZONE_JSON_OBJECT, "(document)", "an object")) != 0)
        return rc;
    while ((rc = snap_key(p)) == 1) {
        unsigned bit = !strcmp(p->tok.text, "serial")    ? 1
                       : !strcmp(p->tok.text, "servers") ? 2
                                                         : 0;
        snprintf(key, sizeof key, "%s", bit == 1 ? "serial" : "servers");
        if (!bit)
            snap_err(p, snap_at(p), snap_shown(&p->tok, shown), "unknown key");
        bool skip = !bit || snap_seen(p, &seen, bit, key);
        if (snap_next(p) < 0)
            return -1;
        rc = skip ? snap_skip(p) : bit == 1 ? snap_serial(p) : snap_servers(p);
        if (rc < 0)
            return -1;
    }
    if (rc == 0 && !(seen & 1))
        snap_err(p, start, "serial", "missing key \"serial\"");
    if (rc == 0 && !(seen & 2))
        snap_err(p, start, "servers", "missing key \"servers\"");
    return rc;
}

static int snap_document(snap_parser_t *p)
{
    const char *s = p->j.p;

    while (s < p->j.end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    if (s == p->j.end) {
        snap_err(p, (snap_mark_t){1, 1}, "(document)", "empty snapshot");
        return -1;
    }
    if (snap_next(p) < 0 || snap_top(p) < 0)
        return -1;
    return snap_next(p); /* ZONE_JSON_END, or text after the document */
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
        zone_errors_add(p->errs, "%s: out of memory", p->name);
        p->n_errs++;
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
        const snap_mark_t *m = &p->marks[k[i].idx];
        zone_errors_add(p->errs,
                        "%s:%u:%u: servers[%u].ip: duplicate of servers[%u] at line %u",
                        p->name, m->line, m->col, k[i].idx, k[first].idx,
                        p->marks[k[first].idx].line);
        p->n_errs++;
    }
    free(k);
}

/* ---- entry points ------------------------------------------------------ */

int zone_snapshot_parse(const char *name, const char *buf, size_t len,
                        zone_snapshot_t **out, zone_errors_t *errs)
{
    snap_parser_t p = {.name = name, .errs = errs};

    *out = NULL;
    if (!(p.snap = calloc(1, sizeof *p.snap))) {
        zone_errors_add(errs, "%s: out of memory", name);
        return -1;
    }
    zone_json_init(&p.j, buf, len, ZONE_JSON_DEPTH);
    if (snap_document(&p) == 0)
        snap_duplicates(&p);
    zone_json_deinit(&p.j);
    free(p.marks);
    if (p.n_errs) {
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
