/*
 * cfg.c - load and validate the node's YAML configuration (DESIGN.md "Config").
 *
 * libyaml's document API builds the whole node graph with marks; we then walk
 * it against a fixed schema. Each mapping is described by a table of keys, so
 * unknown keys, duplicate keys, wrong node types and missing values are found
 * in one place. Values go straight into the caller's cfg_t and any failure
 * ends in cfg_deinit(), so the error paths need no cleanup of their own.
 */
#include "cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define CFG_PATH_MAX 192
#define CFG_QUOTE_MAX 48
/* A config is a few KiB; a bigger file is a mistake (or an attack on memory). */
#define CFG_FILE_MAX (4u << 20)

typedef struct cfg_ctx {
    yaml_document_t doc;
    const char *name; /* file name for messages */
    const char *base; /* directory that relative paths join to; NULL: keep as written */
    char *err;
    size_t errlen;
} cfg_ctx_t;

typedef enum {
    CFG_K_STRING,
    CFG_K_PATH,
    CFG_K_UINT,
    CFG_K_NUMBER,
    CFG_K_HOSTPORT,
    CFG_K_FN
} cfg_kind_t;

typedef int (*cfg_fn)(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj);

/* One key of a mapping: where its value goes in `obj` and how it is checked. */
typedef struct cfg_key {
    const char *name;
    cfg_kind_t kind;
    size_t off;     /* offset of the field in the object the mapping fills */
    double lo;      /* range of CFG_K_UINT and CFG_K_NUMBER values */
    double hi;      /* ... and the longest CFG_K_STRING, in bytes */
    unsigned scale; /* CFG_K_UINT: stored value = written value * scale */
    cfg_fn fn;      /* CFG_K_FN */
} cfg_key_t;

static void cfg_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfg_fail(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void cfg_msg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "FILE:LINE:COL: PATH: what"; libyaml marks count from 0, editors from 1. */
static int cfg_fail(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt,
                    ...)
{
    int off;
    va_list ap;
    if (!c->err || !c->errlen)
        return -1;
    off = snprintf(c->err, c->errlen, "%s:%zu:%zu: %s%s", c->name, n->start_mark.line + 1,
                   n->start_mark.column + 1, *path ? path : "", *path ? ": " : "");
    if (off >= 0 && (size_t)off < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + off, c->errlen - off, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A value fit for a one-line message: control bytes become '?', long ones are cut. */
static const char *cfg_quote(const char *s, char *buf)
{
    size_t i;
    for (i = 0; s[i] && i < CFG_QUOTE_MAX - 4; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    strcpy(buf + i, s[i] ? "..." : "");
    return buf;
}

static const yaml_node_t *cfg_node(cfg_ctx_t *c, int index)
{
    return yaml_document_get_node(&c->doc, index);
}

/* `key:` with nothing after it, or ~ / null: YAML's null, never a valid value here. */
static bool cfg_is_null(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    return n->type == YAML_SCALAR_NODE &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
            !strcmp(s, "NULL"));
}

static const char *cfg_kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    return cfg_is_null(n) ? "no value" : "a scalar";
}

/* The text of a scalar; `what` says what was expected, for the message. */
static int cfg_text(cfg_ctx_t *c, const yaml_node_t *n, const char *path,
                    const char *what, const char **out)
{
    /* Set on every path, so optimisers can see callers never read garbage. */
    *out = "";
    if (n->type != YAML_SCALAR_NODE || cfg_is_null(n))
        return cfg_fail(c, n, path, "expected %s, got %s", what, cfg_kind_name(n));
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return cfg_fail(c, n, path, "the value contains a NUL byte");
    *out = (const char *)n->data.scalar.value;
    return 0;
}

static int cfg_dup(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *s,
                   char **out)
{
    if (!(*out = strdup(s)))
        return cfg_fail(c, n, path, "out of memory");
    return 0;
}

/* Plain decimal integers only: "10abc", "0x10" and "1e3" are mistakes, not numbers.
 * strtoll saturates on overflow, which lands outside every range we accept. */
static bool cfg_parse_int(const char *s, long long *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

static bool cfg_digits(const char **p)
{
    const char *s = *p;
    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p != s;
}

/* Decimal numbers: [+-] digits [. digits] [e [+-] digits]; no inf, nan or hex. */
static bool cfg_parse_number(const char *s, double *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    bool digits = cfg_digits(&p);
    if (*p == '.') {
        p++;
        digits = cfg_digits(&p) || digits;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        if (!cfg_digits(&p))
            return false;
    }
    *out = strtod(s, NULL);
    return !*p && isfinite(*out);
}

static int cfg_uint(cfg_ctx_t *c, const yaml_node_t *n, const char *path,
                    const cfg_key_t *k, unsigned *out)
{
    char q[CFG_QUOTE_MAX];
    const char *s;
    long long v;
    if (cfg_text(c, n, path, "an integer", &s) < 0)
        return -1;
    if (!cfg_parse_int(s, &v) || v < k->lo || v > k->hi)
        return cfg_fail(c, n, path, "expected an integer in %.0f..%.0f, got \"%s\"",
                        k->lo, k->hi, cfg_quote(s, q));
    *out = (unsigned)v * (k->scale ? k->scale : 1);
    return 0;
}

static int cfg_number(cfg_ctx_t *c, const yaml_node_t *n, const char *path,
                      const cfg_key_t *k, double *out)
{
    char q[CFG_QUOTE_MAX];
    const char *s;
    double v;
    if (cfg_text(c, n, path, "a number", &s) < 0)
        return -1;
    if (!cfg_parse_number(s, &v) || v < k->lo || v > k->hi)
        return cfg_fail(c, n, path, "expected a number in %g..%g, got \"%s\"", k->lo,
                        k->hi, cfg_quote(s, q));
    *out = v;
    return 0;
}

static int cfg_string(cfg_ctx_t *c, const yaml_node_t *n, const char *path, size_t max,
                      char **out)
{
    const char *s;
    if (cfg_text(c, n, path, "a string", &s) < 0)
        return -1;
    if (!*s || strlen(s) > max)
        return cfg_fail(c, n, path, "expected a string of 1..%zu bytes, got %zu bytes",
                        max, strlen(s));
    return cfg_dup(c, n, path, s, out);
}

/* Relative paths join the config file's directory (cfg.h). */
static int cfg_filepath(cfg_ctx_t *c, const yaml_node_t *n, const char *path, char **out)
{
    const char *s;
    size_t bl, size;
    if (cfg_text(c, n, path, "a file path", &s) < 0)
        return -1;
    if (!*s)
        return cfg_fail(c, n, path, "expected a file path, got an empty string");
    if (s[0] == '/' || !c->base)
        return cfg_dup(c, n, path, s, out);
    bl = strlen(c->base);
    size = bl + strlen(s) + 2;
    if (!(*out = malloc(size)))
        return cfg_fail(c, n, path, "out of memory");
    snprintf(*out, size, "%s%s%s", c->base, bl && c->base[bl - 1] == '/' ? "" : "/", s);
    return 0;
}

/*
 * "a.b.c.d:port" or "[v6]:port". Address literals only: a listener must not
 * depend on a resolver at start-up. Returns NULL or what is wrong.
 */
static const char *cfg_parse_hostport(const char *s, cfg_listen_t *l)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *hs = s, *he, *port;
    int family = AF_INET;
    long long p;

    memset(l, 0, sizeof *l);
    if (strlen(s) >= sizeof l->text)
        return "too long for an address and port";
    if (s[0] == '[') {
        family = AF_INET6;
        hs = s + 1;
        if (!(he = strchr(hs, ']')) || he[1] != ':')
            return "expected \"[IPv6-address]:port\"";
        port = he + 2;
    } else {
        if (!(he = strrchr(s, ':')))
            return "expected \"address:port\"";
        if (memchr(s, ':', he - s))
            return "an IPv6 address needs brackets, as in \"[::1]:5300\"";
        port = he + 1;
    }
    if (!cfg_parse_int(port, &p) || *port == '+' || *port == '-' || p < 1 || p > 65535)
        return "the port must be an integer in 1..65535";
    if ((size_t)(he - hs) >= sizeof host)
        return "not an IP address";
    memcpy(host, hs, he - hs);
    host[he - hs] = '\0';
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return "not an IPv6 address";
        l->addrlen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return "not an IPv4 address";
        l->addrlen = sizeof *a;
    }
    strcpy(l->text, s);
    return NULL;
}

static int cfg_hostport(cfg_ctx_t *c, const yaml_node_t *n, const char *path,
                        cfg_listen_t *l)
{
    char q[CFG_QUOTE_MAX];
    const char *s, *why;
    if (cfg_text(c, n, path, "\"address:port\"", &s) < 0)
        return -1;
    if ((why = cfg_parse_hostport(s, l)))
        return cfg_fail(c, n, path, "bad address \"%s\": %s", cfg_quote(s, q), why);
    return 0;
}

/* One label of a domain name: 1..63 bytes of letters, digits, '-' and '_'. */
static const char *cfg_label_problem(const char *s, size_t len)
{
    if (len == 0)
        return "empty label";
    if (len > 63)
        return "label longer than 63 characters";
    if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") <
        len)
        return "only letters, digits, '-' and '_' are allowed";
    return NULL;
}

static void cfg_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Appends src to out[0..CFG_PATH_MAX) at n, cutting it short if needed: key
 * paths are for messages, and a cut one is still a useful one. */
static size_t cfg_path_append(char *out, size_t n, const char *src)
{
    while (*src && n + 1 < CFG_PATH_MAX)
        out[n++] = *src++;
    out[n] = '\0';
    return n;
}

static void cfg_join_key(char *out, const char *path, const char *key)
{
    char q[CFG_QUOTE_MAX];
    size_t n = cfg_path_append(out, 0, path);
    if (*path)
        n = cfg_path_append(out, n, ".");
    cfg_path_append(out, n, cfg_quote(key, q));
}

static const yaml_node_t *cfg_map_get(cfg_ctx_t *c, const yaml_node_t *m, const char *key)
{
    const yaml_node_pair_t *p;
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = cfg_node(c, p->key);
        if (k->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key))
            return cfg_node(c, p->value);
    }
    return NULL;
}

static int cfg_value(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                     const cfg_key_t *k, void *obj)
{
    void *field = (char *)obj + k->off;
    switch (k->kind) {
    case CFG_K_STRING:
        return cfg_string(c, v, path, (size_t)k->hi, field);
    case CFG_K_PATH:
        return cfg_filepath(c, v, path, field);
    case CFG_K_UINT:
        return cfg_uint(c, v, path, k, field);
    case CFG_K_NUMBER:
        return cfg_number(c, v, path, k, field);
    case CFG_K_HOSTPORT: {
        cfg_listen_t l;
        return cfg_hostport(c, v, path, &l) < 0 ? -1 : cfg_dup(c, v, path, l.text, field);
    }
    case CFG_K_FN:
        return k->fn(c, v, path, obj);
    }
    return -1;
}

/* Walks a mapping against its key table: unknown and duplicate keys are errors. */
static int cfg_map(cfg_ctx_t *c, const yaml_node_t *m, const char *path,
                   const cfg_key_t *keys, size_t nkeys, void *obj)
{
    char sub[CFG_PATH_MAX], known[256] = "";
    const yaml_node_pair_t *p, *q;
    size_t i;

    if (m->type != YAML_MAPPING_NODE)
        return cfg_fail(c, m, path, "expected a mapping, got %s", cfg_kind_name(m));
    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = cfg_node(c, p->key);
        const char *name;
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail(c, k, path, "expected a key, got %s", cfg_kind_name(k));
        name = (const char *)k->data.scalar.value;
        cfg_join_key(sub, path, name);
        for (i = 0; i < nkeys && strcmp(keys[i].name, name); i++)
            ;
        if (i == nkeys) {
            for (i = 0; i < nkeys; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         i ? ", " : "", keys[i].name);
            return cfg_fail(c, k, sub, "unknown key (known keys: %s)", known);
        }
        for (q = m->data.mapping.pairs.start; q < p; q++)
            if (!strcmp((const char *)cfg_node(c, q->key)->data.scalar.value, name))
                return cfg_fail(c, k, sub, "duplicate key (first at line %zu)",
                                cfg_node(c, q->key)->start_mark.line + 1);
        if (cfg_value(c, cfg_node(c, p->value), sub, &keys[i], obj) < 0)
            return -1;
    }
    return 0;
}

/* --- zones[] ------------------------------------------------------------- */

static int cfg_origin(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char q[CFG_QUOTE_MAX];
    const char *s, *why = NULL, *label;
    size_t len;

    if (cfg_text(c, v, path, "a domain name", &s) < 0)
        return -1;
    len = strlen(s);
    len -= len > 1 &&
           s[len - 1] == '.'; /* "pool.ntp.org." and "pool.ntp.org" are one name */
    if (len > 253)
        why = "longer than 253 characters";
    for (label = s; !why && label < s + len;) {
        const char *dot = memchr(label, '.', s + len - label);
        size_t ll = dot ? (size_t)(dot - label) : (size_t)(s + len - label);
        why = cfg_label_problem(label, ll);
        label += ll + 1;
    }
    if (len == 0 || s[len - 1] == '.')
        why = why ? why : "empty label";
    if (why)
        return cfg_fail(c, v, path, "\"%s\" is not a valid domain name: %s",
                        cfg_quote(s, q), why);
    if (!(z->origin = strndup(s, len)))
        return cfg_fail(c, v, path, "out of memory");
    cfg_lower(z->origin);
    return 0;
}

static int cfg_aaaa(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    if (cfg_text(c, v, path, "\"numbered-2\" or \"all\"", &s) < 0)
        return -1;
    if (!strcmp(s, "numbered-2"))
        z->aaaa = CFG_AAAA_NUMBERED_2;
    else if (!strcmp(s, "all"))
        z->aaaa = CFG_AAAA_ALL;
    else
        return cfg_fail(c, v, path, "expected \"numbered-2\" or \"all\", got \"%s\"",
                        cfg_quote(s, q));
    return 0;
}

/* Vendor names become zone labels (debian.pool.ntp.org), hence the label rules. */
static int cfg_vendors(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char sub[CFG_PATH_MAX], q[CFG_QUOTE_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of names, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n && !(z->vendors = calloc(n, sizeof *z->vendors)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        const char *s, *why;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_text(c, item, sub, "a vendor name", &s) < 0)
            return -1;
        if ((why = cfg_label_problem(s, strlen(s))))
            return cfg_fail(c, item, sub, "\"%s\" is not a single DNS label: %s",
                            cfg_quote(s, q), why);
        if (cfg_dup(c, item, sub, s, &z->vendors[i]) < 0)
            return -1;
        z->n_vendors = i + 1;
        cfg_lower(z->vendors[i]);
        for (j = 0; j < i; j++)
            if (!strcmp(z->vendors[j], z->vendors[i]))
                return cfg_fail(c, item, sub, "duplicate vendor \"%s\"", z->vendors[i]);
    }
    return 0;
}

static const cfg_key_t cfg_zone_keys[] = {
    {"origin", CFG_K_FN, 0, 0, 0, 0, cfg_origin},
    {"master", CFG_K_PATH, offsetof(cfg_zone_t, master), 0, 0, 0, NULL},
    {"snapshot", CFG_K_PATH, offsetof(cfg_zone_t, snapshot), 0, 0, 0, NULL},
    {"ttl", CFG_K_UINT, offsetof(cfg_zone_t, ttl), 0, 2147483647, 1,
     NULL}, /* RFC 2181 s8 */
    {"answers", CFG_K_UINT, offsetof(cfg_zone_t, answers), 1, 16, 1, NULL},
    {"min_score", CFG_K_NUMBER, offsetof(cfg_zone_t, min_score), -100, 20, 0, NULL},
    {"full_score", CFG_K_NUMBER, offsetof(cfg_zone_t, full_score), -100, 20, 0, NULL},
    {"aaaa", CFG_K_FN, 0, 0, 0, 0, cfg_aaaa},
    {"vendors", CFG_K_FN, 0, 0, 0, 0, cfg_vendors},
};
_Static_assert(sizeof(uint32_t) == sizeof(unsigned), "ttl is filled as an unsigned");

/* Checks that need the whole zone mapping: required keys and the score order. */
static int cfg_zone_check(cfg_ctx_t *c, const yaml_node_t *m, const char *path,
                          cfg_zone_t *z)
{
    char sub[CFG_PATH_MAX];
    const yaml_node_t *n;

    if (!z->origin || !z->master) {
        cfg_join_key(sub, path, z->origin ? "master" : "origin");
        return cfg_fail(c, m, sub, "required key is missing");
    }
    if (z->full_score < z->min_score) {
        n = cfg_map_get(c, m, "full_score");
        cfg_join_key(sub, path, n ? "full_score" : "min_score");
        return cfg_fail(c, n ? n : cfg_map_get(c, m, "min_score"), sub,
                        "full_score (%g) must not be below min_score (%g)", z->full_score,
                        z->min_score);
    }
    return 0;
}

static int cfg_zones(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of zones, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n == 0)
        return cfg_fail(c, v, path, "at least one zone is required");
    if (!(cfg->zones = calloc(n, sizeof *cfg->zones)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *m = cfg_node(c, v->data.sequence.items.start[i]);
        cfg_zone_t *z = &cfg->zones[i];
        z->ttl = 150;
        z->answers = 4;
        z->min_score = 10;
        z->full_score = 15;
        z->aaaa = CFG_AAAA_NUMBERED_2;
        cfg->n_zones = i + 1;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_map(c, m, sub, cfg_zone_keys,
                    sizeof cfg_zone_keys / sizeof *cfg_zone_keys, z) < 0 ||
            cfg_zone_check(c, m, sub, z) < 0)
            return -1;
        for (j = 0; j < i; j++)
            if (!strcmp(cfg->zones[j].origin, z->origin)) {
                snprintf(sub, sizeof sub, "%s[%zu].origin", path, i);
                return cfg_fail(c, cfg_map_get(c, m, "origin"), sub,
                                "duplicate origin \"%s\" (also %s[%zu])", z->origin, path,
                                j);
            }
    }
    return 0;
}

/* --- top level ------------------------------------------------------------- */

static int cfg_listen(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of \"address:port\", got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n == 0)
        return cfg_fail(c, v, path, "at least one address is required");
    if (!(cfg->listen = calloc(n, sizeof *cfg->listen)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        cfg_listen_t *l = &cfg->listen[i];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_hostport(c, item, sub, l) < 0)
            return -1;
        cfg->n_listen = i + 1;
        for (j = 0; j < i; j++)
            if (l->addrlen == cfg->listen[j].addrlen &&
                !memcmp(&l->addr, &cfg->listen[j].addr, l->addrlen))
                return cfg_fail(c, item, sub, "duplicate of %s[%zu] (%s)", path, j,
                                cfg->listen[j].text);
    }
    return 0;
}

static int cfg_workers(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    long long w;

    if (cfg_text(c, v, path, "\"auto\" or an integer", &s) < 0)
        return -1;
    if (!strcmp(s, "auto"))
        cfg->workers = 0;
    else if (cfg_parse_int(s, &w) && w >= 1 && w <= 256)
        cfg->workers = (unsigned)w;
    else
        return cfg_fail(c, v, path,
                        "expected \"auto\" or an integer in 1..256, got \"%s\"",
                        cfg_quote(s, q));
    return 0;
}

/* A dotted path into the MMDB record, e.g. "country.iso_code". */
static int cfg_country_path(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                            void *obj)
{
    cfg_t *cfg = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    if (cfg_text(c, v, path, "a dotted path", &s) < 0)
        return -1;
    if (!*s || s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
        return cfg_fail(c, v, path,
                        "\"%s\" is not a dotted path like \"country.iso_code\"",
                        cfg_quote(s, q));
    return cfg_dup(c, v, path, s, &cfg->geoip_country_path);
}

static const cfg_key_t cfg_geoip_keys[] = {
    {"database", CFG_K_PATH, offsetof(cfg_t, geoip_database), 0, 0, 0, NULL},
    {"country_path", CFG_K_FN, 0, 0, 0, 0, cfg_country_path},
};
static const cfg_key_t cfg_control_keys[] = {
    {"unix", CFG_K_PATH, offsetof(cfg_t, control_unix), 0, 0, 0, NULL},
    {"tcp", CFG_K_HOSTPORT, offsetof(cfg_t, control_tcp), 0, 0, 0, NULL},
    {"key_file", CFG_K_PATH, offsetof(cfg_t, control_key_file), 0, 0, 0, NULL},
};
/* RFC 7766 section 6.2.3: idle timeouts of seconds, not minutes. */
static const cfg_key_t cfg_tcp_keys[] = {
    {"idle_timeout", CFG_K_UINT, offsetof(cfg_t, tcp_idle_timeout_ms), 1, 3600, 1000,
     NULL},
    {"max_connections", CFG_K_UINT, offsetof(cfg_t, tcp_max_connections), 1, 1000000, 1,
     NULL},
    {"max_per_client", CFG_K_UINT, offsetof(cfg_t, tcp_max_per_client), 1, 1000000, 1,
     NULL},
    {"read_timeout", CFG_K_UINT, offsetof(cfg_t, tcp_read_timeout_ms), 1, 3600, 1000, NULL},
};

/* "192.0.2.0/24" or "2001:db8::/32": the address must have no bits set past
 * the length, so a typo like "10.1.2.3/8" is caught rather than silently widened. */
static int cfg_prefix(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                      cfg_prefix_t *p)
{
    char q[CFG_QUOTE_MAX], buf[64];
    const char *s, *slash;
    long long bits;
    size_t len;

    if (cfg_text(c, v, path, "an address prefix like \"192.0.2.0/24\"", &s) < 0)
        return -1;
    slash = strchr(s, '/');
    len = slash ? (size_t)(slash - s) : 0;
    memset(p, 0, sizeof *p);
    if (slash && len < sizeof buf) {
        memcpy(buf, s, len);
        buf[len] = 0;
        p->family = inet_pton(AF_INET, buf, p->addr) == 1    ? 4
                    : inet_pton(AF_INET6, buf, p->addr) == 1 ? 6
                                                             : 0;
    }
    if (!p->family || !cfg_parse_int(slash + 1, &bits) || bits < 0 ||
        bits > (p->family == 4 ? 32 : 128))
        return cfg_fail(c, v, path, "expected an address prefix like \"192.0.2.0/24\", got \"%s\"",
                        cfg_quote(s, q));
    p->bits = (unsigned)bits;
    for (unsigned i = p->bits; i < (p->family == 4 ? 32u : 128u); i++)
        if (p->addr[i / 8] & (0x80 >> (i % 8)))
            return cfg_fail(c, v, path, "\"%s\" has address bits set past the prefix length",
                            cfg_quote(s, q));
    return 0;
}

static int cfg_exempt(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of address prefixes, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n && !(cfg->rrl_exempt = calloc(n, sizeof *cfg->rrl_exempt)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_prefix(c, cfg_node(c, v->data.sequence.items.start[i]), sub,
                       &cfg->rrl_exempt[i]) < 0)
            return -1;
        cfg->n_rrl_exempt = i + 1;
    }
    return 0;
}

/* RRL is off by default (rate 0): see README "Hardening" for why. */
static const cfg_key_t cfg_rrl_keys[] = {
    {"rate", CFG_K_UINT, offsetof(cfg_t, rrl_rate), 0, 1000000, 1, NULL},
    {"slip", CFG_K_UINT, offsetof(cfg_t, rrl_slip), 0, 100, 1, NULL},
    {"ipv4_prefix", CFG_K_UINT, offsetof(cfg_t, rrl_ipv4_prefix), 1, 32, 1, NULL},
    {"ipv6_prefix", CFG_K_UINT, offsetof(cfg_t, rrl_ipv6_prefix), 1, 128, 1, NULL},
    {"exempt", CFG_K_FN, 0, 0, 0, 0, cfg_exempt},
};

/* cookies.secret: 32 hex digits, the 16-byte SipHash key of RFC 9018. */
static int cfg_cookie_secret(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                             void *obj)
{
    cfg_t *cfg = obj;
    const char *s;
    unsigned byte;

    if (cfg_text(c, v, path, "32 hex digits", &s) < 0)
        return -1;
    if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
        return cfg_fail(c, v, path, "expected 32 hex digits (16 bytes), got %zu characters%s",
                        strlen(s), strspn(s, "0123456789abcdefABCDEF") == strlen(s) ? ""
                                                                                   : " (not all hex)");
    for (size_t i = 0; i < 16; i++) {
        sscanf(s + 2 * i, "%2x", &byte);
        cfg->cookie_secret[i] = (uint8_t)byte;
    }
    cfg->cookie_secret_set = true;
    return 0;
}

static const cfg_key_t cfg_cookies_keys[] = {
    {"secret", CFG_K_FN, 0, 0, 0, 0, cfg_cookie_secret},
};

#define CFG_SUBMAP(fn, keys)                                                             \
    static int fn(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)       \
    {                                                                                    \
        return cfg_map(c, v, path, keys, sizeof keys / sizeof *keys, obj);               \
    }
CFG_SUBMAP(cfg_geoip, cfg_geoip_keys)
CFG_SUBMAP(cfg_control, cfg_control_keys)
CFG_SUBMAP(cfg_tcp, cfg_tcp_keys)
CFG_SUBMAP(cfg_rrl, cfg_rrl_keys)
CFG_SUBMAP(cfg_cookies, cfg_cookies_keys)

/* query_log.dnstap: a path, or {file: PATH} / {unix: PATH}. */
static int cfg_dnstap(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    if (v->type != YAML_MAPPING_NODE) {
        cfg->dnstap_mode = CFG_DNSTAP_AUTO;
        return cfg_filepath(c, v, path, &cfg->dnstap_path);
    }
    const yaml_node_pair_t *p = v->data.mapping.pairs.start;
    if (v->data.mapping.pairs.top - p != 1)
        return cfg_fail(c, v, path, "expected one key, file or unix, with a path");
    const yaml_node_t *k = cfg_node(c, p->key);
    const char *name =
        k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    cfg_join_key(sub, path, name);
    if (!strcmp(name, "file"))
        cfg->dnstap_mode = CFG_DNSTAP_FILE;
    else if (!strcmp(name, "unix"))
        cfg->dnstap_mode = CFG_DNSTAP_UNIX;
    else
        return cfg_fail(c, k, sub, "unknown key (known keys: file, unix)");
    return cfg_filepath(c, cfg_node(c, p->value), sub, &cfg->dnstap_path);
}

/* A choice among fixed words; *out gets its index. */
static int cfg_word(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                    const char *const *words, size_t n, int *out)
{
    char q[CFG_QUOTE_MAX], list[128] = "";
    const char *s;
    *out = 0;
    if (cfg_text(c, v, path, "a word", &s) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(s, words[i])) {
            *out = (int)i;
            return 0;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 words[i]);
    }
    return cfg_fail(c, v, path, "expected one of %s, got \"%s\"", list, cfg_quote(s, q));
}

static int cfg_log_target(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    static const char *const words[] = {"stderr", "syslog"};
    int i;
    if (cfg_word(c, v, path, words, 2, &i) < 0)
        return -1;
    ((cfg_t *)obj)->log_target = (cfg_log_target_t)i;
    return 0;
}

static int cfg_log_level(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    static const char *const words[] = {"err", "warn", "info", "debug"};
    return cfg_word(c, v, path, words, 4, &((cfg_t *)obj)->log_level);
}

static const cfg_key_t cfg_query_log_keys[] = {
    {"dnstap", CFG_K_FN, 0, 0, 0, 0, cfg_dnstap},
};
static const cfg_key_t cfg_log_keys[] = {
    {"target", CFG_K_FN, 0, 0, 0, 0, cfg_log_target},
    {"level", CFG_K_FN, 0, 0, 0, 0, cfg_log_level},
};
CFG_SUBMAP(cfg_query_log, cfg_query_log_keys)
CFG_SUBMAP(cfg_log, cfg_log_keys)

/* POSIX portable user and group names are at most 32 bytes on Linux. */
static const cfg_key_t cfg_top_keys[] = {
    {"listen", CFG_K_FN, 0, 0, 0, 0, cfg_listen},
    {"workers", CFG_K_FN, 0, 0, 0, 0, cfg_workers},
    {"identity", CFG_K_STRING, offsetof(cfg_t, identity), 0, 255, 0, NULL}, /* RFC 5001 */
    {"geoip", CFG_K_FN, 0, 0, 0, 0, cfg_geoip},
    {"state_dir", CFG_K_PATH, offsetof(cfg_t, state_dir), 0, 0, 0, NULL},
    {"zones", CFG_K_FN, 0, 0, 0, 0, cfg_zones},
    {"control", CFG_K_FN, 0, 0, 0, 0, cfg_control},
    {"metrics", CFG_K_HOSTPORT, offsetof(cfg_t, metrics), 0, 0, 0, NULL},
    {"tcp", CFG_K_FN, 0, 0, 0, 0, cfg_tcp},
    {"rrl", CFG_K_FN, 0, 0, 0, 0, cfg_rrl},
    {"cookies", CFG_K_FN, 0, 0, 0, 0, cfg_cookies},
    {"user", CFG_K_STRING, offsetof(cfg_t, user), 0, 32, 0, NULL},
    {"group", CFG_K_STRING, offsetof(cfg_t, group), 0, 32, 0, NULL},
    {"query_log", CFG_K_FN, 0, 0, 0, 0, cfg_query_log},
    {"log", CFG_K_FN, 0, 0, 0, 0, cfg_log},
};

/* Values that are not in the file. */
static int cfg_defaults(cfg_t *cfg)
{
    static const char *const defaults[] = {"127.0.0.1:5300", "[::1]:5300"};
    char host[256] = "";
    size_t i;

    if (!cfg->listen) {
        if (!(cfg->listen = calloc(2, sizeof *cfg->listen)))
            return -1;
        for (i = 0; i < 2; i++)
            cfg_parse_hostport(defaults[i], &cfg->listen[i]);
        cfg->n_listen = 2;
    }
    if (!cfg->identity) {
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            strcpy(host, "dnsd");
        if (!(cfg->identity = strdup(host)))
            return -1;
    }
    if (!cfg->geoip_country_path &&
        !(cfg->geoip_country_path = strdup("country.iso_code")))
        return -1;
    return 0;
}

static int cfg_root(cfg_ctx_t *c, cfg_t *cfg)
{
    const yaml_node_t *root = yaml_document_get_root_node(&c->doc), *ctl;

    if (!root) {
        cfg_msg(c->err, c->errlen,
                "%s:1:1: the file is empty; expected a mapping of keys", c->name);
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(c, root, "", "the top level must be a mapping of keys, got %s",
                        cfg_kind_name(root));
    cfg->tcp_idle_timeout_ms = 10000;
    cfg->tcp_max_connections = 1000;
    cfg->tcp_max_per_client = 32;
    cfg->tcp_read_timeout_ms = 5000;
    cfg->rrl_slip = 2;
    cfg->rrl_ipv4_prefix = 24;
    cfg->rrl_ipv6_prefix = 56;
    cfg->log_level = 2;
    if (cfg_map(c, root, "", cfg_top_keys, sizeof cfg_top_keys / sizeof *cfg_top_keys,
                cfg) < 0)
        return -1;
    if (!cfg->zones)
        return cfg_fail(c, root, "zones", "required key is missing (at least one zone)");
    /* A control port that anyone on the network can drive would be a hole. */
    if (cfg->control_tcp && !cfg->control_key_file) {
        ctl = cfg_map_get(c, root, "control");
        return cfg_fail(
            c, cfg_map_get(c, ctl, "tcp"), "control.tcp",
            "needs control.key_file, the key that authenticates remote commands");
    }
    if (cfg_defaults(cfg) < 0)
        return cfg_fail(c, root, "", "out of memory");
    return 0;
}

/* libyaml's own message, with the place it found the problem. */
static void cfg_syntax(cfg_ctx_t *c, const yaml_parser_t *p, const char *buf, size_t len)
{
    size_t line = p->problem_mark.line, col = p->problem_mark.column, i;

    if (p->error == YAML_MEMORY_ERROR) {
        cfg_msg(c->err, c->errlen, "%s: out of memory", c->name);
        return;
    }
    if (p->error == YAML_READER_ERROR) { /* bad encoding: only a byte offset is known */
        line = col = 0;
        for (i = 0; i < p->problem_offset && i < len; i++, col++)
            if (buf[i] == '\n') {
                line++;
                col = (size_t)-1;
            }
    }
    if (p->context)
        cfg_msg(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu)",
                c->name, line + 1, col + 1, p->problem ? p->problem : "unknown problem",
                p->context, p->context_mark.line + 1);
    else
        cfg_msg(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: %s", c->name, line + 1,
                col + 1, p->problem ? p->problem : "unknown problem");
}

/* Loads the one document, rejecting a second: it would be silently ignored otherwise. */
static int cfg_yaml(cfg_ctx_t *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    const yaml_node_t *n;
    int rc = -1;

    if (!yaml_parser_initialize(&parser)) {
        cfg_msg(c->err, c->errlen, "%s: out of memory", c->name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &c->doc)) {
        cfg_syntax(c, &parser, buf, len);
        goto done;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        cfg_syntax(c, &parser, buf, len);
        yaml_document_delete(&c->doc);
        goto done;
    }
    rc = 0;
    if ((n = yaml_document_get_root_node(&extra))) {
        rc = cfg_fail(c, n, "", "a second YAML document; the file must hold one");
        yaml_document_delete(&c->doc);
    }
    yaml_document_delete(&extra);
done:
    yaml_parser_delete(&parser);
    return rc;
}

static int cfg_parse(cfg_t *cfg, const char *name, const char *base, const char *buf,
                     size_t len, char *err, size_t errlen)
{
    cfg_ctx_t c = {.name = name, .base = base, .err = err, .errlen = errlen};
    int rc;

    memset(cfg, 0, sizeof *cfg);
    if (!(cfg->path = strdup(name))) {
        cfg_msg(err, errlen, "%s: out of memory", name);
        return -1;
    }
    if (cfg_yaml(&c, buf, len) < 0) {
        cfg_deinit(cfg);
        return -1;
    }
    rc = cfg_root(&c, cfg);
    yaml_document_delete(&c.doc);
    if (rc < 0)
        cfg_deinit(cfg);
    return rc;
}

int cfg_load_buffer(cfg_t *cfg, const char *name, const char *buf, size_t len, char *err,
                    size_t errlen)
{
    return cfg_parse(cfg, name, NULL, buf, len, err, errlen);
}

static char *cfg_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, got;

    *len = 0;
    if (!f)
        goto fail;
    do {
        if (cap - *len < 4096) {
            if (cap >= CFG_FILE_MAX || !(nb = realloc(buf, cap + 65536)))
                goto fail;
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0);
    if (ferror(f))
        goto fail;
    fclose(f);
    return buf;
fail:
    cfg_msg(err, errlen, "%s: cannot read: %s", path,
            cap >= CFG_FILE_MAX ? "larger than 4 MiB" : strerror(errno ? errno : EIO));
    if (f)
        fclose(f);
    free(buf);
    return NULL;
}

int cfg_load(cfg_t *cfg, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *buf, *base;
    size_t len;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    if (!(buf = cfg_read_file(path, &len, err, errlen)))
        return -1;
    /* dirname(path): "." for "dnsd.yaml", "/" for "/dnsd.yaml". */
    base =
        slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!base) {
        free(buf);
        cfg_msg(err, errlen, "%s: out of memory", path);
        return -1;
    }
    rc = cfg_parse(cfg, path, base, buf, len, err, errlen);
    free(buf);
    free(base);
    return rc;
}

void cfg_deinit(cfg_t *cfg)
{
    size_t i, j;

    for (i = 0; i < cfg->n_zones; i++) {
        cfg_zone_t *z = &cfg->zones[i];
        free(z->origin);
        free(z->master);
        free(z->snapshot);
        for (j = 0; j < z->n_vendors; j++)
            free(z->vendors[j]);
        free(z->vendors);
    }
    free(cfg->zones);
    free(cfg->listen);
    free(cfg->path);
    free(cfg->identity);
    free(cfg->geoip_database);
    free(cfg->geoip_country_path);
    free(cfg->state_dir);
    free(cfg->control_unix);
    free(cfg->control_tcp);
    free(cfg->control_key_file);
    free(cfg->metrics);
    free(cfg->user);
    free(cfg->group);
    free(cfg->dnstap_path);
    free(cfg->rrl_exempt);
    memset(cfg, 0, sizeof *cfg);
}
