/*
 * cfg_tree.c - the generic half of the config loader: error messages with file,
 * line and column, scalar parsers (integers, numbers, strings, paths,
 * host:port), and the walk of a mapping against its key table, where unknown
 * keys, duplicate keys and wrong node types are found in one place.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

void cfg_msg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "FILE:LINE:COL: PATH: what"; libyaml marks count from 0, editors from 1. */
int cfg_fail(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
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

/*
 * Nesting beyond CFG_DEPTH_MAX is refused before libyaml composes the document:
 * its scanner walks the whole stack of possible simple keys for every token,
 * so "[[[[..." costs time quadratic in the depth (a 4 MiB file of brackets
 * would hold a reload for minutes). One pass over the events stops at the
 * first collection too deep. Syntax errors are left to the load that follows,
 * which reports them with libyaml's own words.
 */
int cfg_depth_check(cfg_ctx_t *c, const char *buf, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, rc = 0;

    if (!yaml_parser_initialize(&p)) {
        cfg_msg(c->err, c->errlen, "%s: out of memory", c->name);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (rc == 0 && yaml_parser_parse(&p, &ev)) {
        yaml_event_type_t type = ev.type;
        yaml_mark_t m = ev.start_mark;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT)
            depth--;
        else if ((type == YAML_SEQUENCE_START_EVENT ||
                  type == YAML_MAPPING_START_EVENT) &&
                 ++depth > CFG_DEPTH_MAX)
            rc = -1;
        if (rc < 0)
            cfg_msg(c->err, c->errlen,
                    "%s:%zu:%zu: nested deeper than %d levels (a config needs 4)",
                    c->name, m.line + 1, m.column + 1, CFG_DEPTH_MAX);
    }
    yaml_parser_delete(&p);
    return rc;
}

/* A value fit for a one-line message: control bytes become '?', long ones are cut. */
const char *cfg_quote(const char *s, char *buf)
{
    size_t i;
    for (i = 0; s[i] && i < CFG_QUOTE_MAX - 4; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    strcpy(buf + i, s[i] ? "..." : "");
    return buf;
}

const yaml_node_t *cfg_node(cfg_ctx_t *c, int index)
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

const char *cfg_kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    return cfg_is_null(n) ? "no value" : "a scalar";
}

/* The text of a scalar; `what` says what was expected, for the message. */
int cfg_text(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *what,
             const char **out)
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

int cfg_dup(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *s,
            char **out)
{
    if (!(*out = strdup(s)))
        return cfg_fail(c, n, path, "out of memory");
    return 0;
}

/* Plain decimal integers only: "10abc", "0x10" and "1e3" are mistakes, not numbers.
 * strtoll saturates on overflow, which lands outside every range we accept. */
bool cfg_parse_int(const char *s, long long *out)
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
int cfg_filepath(cfg_ctx_t *c, const yaml_node_t *n, const char *path, char **out)
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
const char *cfg_parse_hostport(const char *s, cfg_listen_t *l)
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

int cfg_hostport(cfg_ctx_t *c, const yaml_node_t *n, const char *path, cfg_listen_t *l)
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
const char *cfg_label_problem(const char *s, size_t len)
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

void cfg_lower(char *s)
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

void cfg_join_key(char *out, const char *path, const char *key)
{
    char q[CFG_QUOTE_MAX];
    size_t n = cfg_path_append(out, 0, path);
    if (*path)
        n = cfg_path_append(out, n, ".");
    cfg_path_append(out, n, cfg_quote(key, q));
}

const yaml_node_t *cfg_map_get(cfg_ctx_t *c, const yaml_node_t *m, const char *key)
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
int cfg_map(cfg_ctx_t *c, const yaml_node_t *m, const char *path, const cfg_key_t *keys,
            size_t nkeys, void *obj)
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
