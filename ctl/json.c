/*
 * json.c - the JSON of control replies: quoting strings for the daemon's
 * replies, and a small strict parser (RFC 8259) for dnsdctl to read them back.
 *
 * Replies are small (a status of a few hundred zones), so the parser builds a
 * plain tree with one allocation per value and keeps it simple over fast.
 *
 * Pushed files have their own, stricter reader (zones/json.c). Replies stay
 * with this one on purpose: they come from our own daemon and quote file
 * names, paths and library messages byte for byte (ctl_json_quote), which
 * need not be UTF-8, and an operator must still see such an error rather than
 * an unparsable reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define CTL_JSON_DEPTH 64 /* bounds recursion on hostile input */

size_t ctl_json_quote(char *out, size_t cap, const char *s)
{
    size_t n = 0;
#define PUT(ch)                                                                          \
    do {                                                                                 \
        if (n + 1 < cap)                                                                 \
            out[n] = (ch);                                                               \
        n++;                                                                             \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            for (const char *e = esc; *e; e++)
                PUT(*e);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

/* Appends the quoted s at *len of the malloc'd *buf (grown as needed). */
void ctl_json_put(strbuf_t *b, const char *s)
{
    size_t n = ctl_json_quote(NULL, 0, s);
    char *at = strbuf_reserve(b, n);
    if (at) {
        ctl_json_quote(at, n + 1, s);
        b->len += n;
    }
}

char *ctl_error_json(const char *error, const char *const *details, size_t n_details)
{
    strbuf_t b = {0};
    strbuf_printf(&b, "{\"error\": ");
    ctl_json_put(&b, error ? error : "");
    strbuf_printf(&b, ", \"details\": [");
    for (size_t i = 0; i < n_details; i++) {
        strbuf_printf(&b, "%s", i ? ", " : "");
        ctl_json_put(&b, details[i]);
    }
    strbuf_printf(&b, "]}");
    return strbuf_take(&b);
}

/* ------------------------------------------------------------------------ */

typedef struct ctl_jparser {
    const char *p, *end;
    int depth;
} ctl_jparser_t;

static int ctl_jparse_value(ctl_jparser_t *ps, ctl_jval_t *v);

static void ctl_jskip(ctl_jparser_t *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int ctl_jhex4(const char *p, unsigned *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        *out = *out << 4 | d;
    }
    return 0;
}

/* Writes code point cp as UTF-8 at o; returns bytes written. */
static size_t ctl_jutf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string literal at ps->p (the opening quote) into a malloc'd string. The
 * decoded text is never longer than the literal, which sizes the buffer. */
static char *ctl_jparse_string(ctl_jparser_t *ps)
{
    const char *p = ps->p + 1;
    char *s = malloc((size_t)(ps->end - ps->p) + 1), *o = s;
    if (!s)
        return NULL;
    while (p < ps->end && *p != '"') {
        if ((unsigned char)*p < 0x20)
            goto fail;
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (++p >= ps->end)
            goto fail;
        const char *simple = strchr("\"\\/bfnrt", *p);
        if (simple && *p) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            *o++ = map[simple - "\"\\/bfnrt"];
            p++;
            continue;
        }
        unsigned cp, lo;
        if (*p != 'u' || ps->end - p < 5 || ctl_jhex4(p + 1, &cp) < 0)
            goto fail;
        p += 5;
        if (cp >= 0xd800 && cp < 0xdc00 && ps->end - p >= 6 && p[0] == '\\' &&
            p[1] == 'u' && ctl_jhex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
        if (cp == 0)
            goto fail; /* no NULs inside C strings */
        o += ctl_jutf8(o, cp);
    }
    if (p >= ps->end)
        goto fail;
    *o = '\0';
    ps->p = p + 1;
    return s;
fail:
    free(s);
    return NULL;
}

static int ctl_jparse_number(ctl_jparser_t *ps, ctl_jval_t *v)
{
    const char *start = ps->p;
    while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) && *ps->p)
        ps->p++;
    size_t n = (size_t)(ps->p - start);
    if (n == 0 || !(v->str = malloc(n + 1)))
        return -1;
    memcpy(v->str, start, n);
    v->str[n] = '\0';
    char *endp;
    errno = 0;
    v->num = strtod(v->str, &endp);
    v->type = CTL_J_NUM;
    return *endp || errno == ERANGE ? -1 : 0;
}

/* Arrays and objects: items (and keys) grown by doubling. */
static int ctl_jparse_container(ctl_jparser_t *ps, ctl_jval_t *v, bool obj)
{
    size_t cap = 0;
    char close = obj ? '}' : ']';
    v->type = obj ? CTL_J_OBJ : CTL_J_ARR;
    ps->p++;
    ctl_jskip(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 4;
            ctl_jval_t *ni = realloc(v->items, cap * sizeof(*ni));
            if (!ni)
                return -1;
            v->items = ni;
            if (obj) {
                char **nk = realloc(v->keys, cap * sizeof(*nk));
                if (!nk)
                    return -1;
                v->keys = nk;
            }
        }
        ctl_jval_t *item = &v->items[v->n];
        memset(item, 0, sizeof(*item));
        if (obj) {
            ctl_jskip(ps);
            if (ps->p >= ps->end || *ps->p != '"' ||
                !(v->keys[v->n] = ctl_jparse_string(ps)))
                return -1;
            ctl_jskip(ps);
            if (ps->p >= ps->end || *ps->p++ != ':') {
                free(v->keys[v->n]);
                return -1;
            }
        }
        v->n++;
        if (ctl_jparse_value(ps, item) < 0)
            return -1;
        ctl_jskip(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        return -1;
    }
}

static int ctl_jparse_value(ctl_jparser_t *ps, ctl_jval_t *v)
{
    ctl_jskip(ps);
    if (ps->p >= ps->end || ++ps->depth > CTL_JSON_DEPTH)
        return -1;
    int rc = 0;
    size_t left = (size_t)(ps->end - ps->p);
    switch (*ps->p) {
    case '{':
        rc = ctl_jparse_container(ps, v, true);
        break;
    case '[':
        rc = ctl_jparse_container(ps, v, false);
        break;
    case '"':
        v->type = CTL_J_STR;
        rc = (v->str = ctl_jparse_string(ps)) ? 0 : -1;
        break;
    case 't':
    case 'f':
    case 'n': {
        const char *word = *ps->p == 't' ? "true" : *ps->p == 'f' ? "false" : "null";
        size_t wl = strlen(word);
        if (left < wl || memcmp(ps->p, word, wl) != 0)
            return -1;
        ps->p += wl;
        v->type = *word == 'n' ? CTL_J_NULL : CTL_J_BOOL;
        v->b = *word == 't';
        break;
    }
    default:
        rc = ctl_jparse_number(ps, v);
        break;
    }
    ps->depth--;
    return rc;
}

static void ctl_json_release(ctl_jval_t *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        ctl_json_release(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

ctl_jval_t *ctl_json_parse(const char *text, size_t len)
{
    ctl_jparser_t ps = {text, text + len, 0};
    ctl_jval_t *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    if (ctl_jparse_value(&ps, v) < 0)
        goto fail;
    ctl_jskip(&ps);
    if (ps.p != ps.end)
        goto fail;
    return v;
fail:
    ctl_json_free(v);
    return NULL;
}

void ctl_json_free(ctl_jval_t *v)
{
    if (!v)
        return;
    ctl_json_release(v);
    free(v);
}

const ctl_jval_t *ctl_json_get(const ctl_jval_t *obj, const char *key)
{
    if (!obj || obj->type != CTL_J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

int ctl_json_u64(const ctl_jval_t *v, uint64_t *out)
{
    if (!v || v->type != CTL_J_NUM || !v->str || v->str[0] < '0' || v->str[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v->str, &end, 10);
    if (*end || errno)
        return -1;
    *out = x;
    return 0;
}
