/*
 * json_doc.c - reporting on a pushed JSON document as it is read (see
 * json_doc_int.h): the snapshot and demand-table readers' messages, type
 * checks and skips, in one place so the two report alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_doc_int.h"

void json_doc_init(json_doc_t *d, const char *name, const char *buf, size_t len,
                   zone_errors_t *errs)
{
    memset(d, 0, sizeof *d);
    d->name = name;
    d->errs = errs;
    zone_json_init(&d->j, buf, len, ZONE_JSON_DEPTH);
}

void json_doc_deinit(json_doc_t *d)
{
    zone_json_deinit(&d->j);
}

void json_doc_err(json_doc_t *d, json_doc_mark_t at, const char *path, const char *fmt,
                  ...)
{
    char what[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    zone_errors_add(d->errs, "%s:%u:%u: %s: %s", d->name, at.line, at.col, path, what);
    d->n_errs++;
}

json_doc_mark_t json_doc_at(const json_doc_t *d)
{
    return (json_doc_mark_t){d->tok.line, d->tok.col};
}

const char *json_doc_shown(const json_doc_t *d, char buf[JSON_DOC_SHOWN])
{
    const zone_json_token_t *t = &d->tok;
    size_t n = t->len > 40 ? 40 : t->len, i;

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

/* A syntax error where the reader found it; nothing after it is read. */
static int json_doc_syntax(json_doc_t *d)
{
    json_doc_mark_t at = {d->j.err_line, d->j.err_col};

    json_doc_err(d, at, "(document)", "syntax error: %s", d->j.err);
    return -1;
}

int json_doc_next(json_doc_t *d)
{
    if (zone_json_next(&d->j, &d->tok) != ZONE_JSON_ERROR)
        return 0;
    return json_doc_syntax(d);
}

int json_doc_skip(json_doc_t *d)
{
    if (zone_json_skip(&d->j, &d->tok) != ZONE_JSON_ERROR)
        return 0;
    return json_doc_syntax(d);
}

int json_doc_key(json_doc_t *d)
{
    if (json_doc_next(d) < 0)
        return -1;
    return d->tok.type == ZONE_JSON_KEY;
}

int json_doc_elem(json_doc_t *d)
{
    if (json_doc_next(d) < 0)
        return -1;
    return d->tok.type != ZONE_JSON_ARRAY_END;
}

int json_doc_expect(json_doc_t *d, int type, const char *path, const char *what)
{
    char shown[JSON_DOC_SHOWN];

    if (d->tok.type == type)
        return 0;
    if (d->tok.type >= ZONE_JSON_STRING) /* a scalar: show it */
        json_doc_err(d, json_doc_at(d), path, "wrong type: expected %s (got %s\"%s\")",
                     what, d->tok.type == ZONE_JSON_STRING ? "a string " : "",
                     json_doc_shown(d, shown));
    else
        json_doc_err(d, json_doc_at(d), path, "wrong type: expected %s (got %s)", what,
                     zone_json_type_name(d->tok.type));
    return json_doc_skip(d) < 0 ? -1 : 1;
}

bool json_doc_seen(json_doc_t *d, unsigned *seen, unsigned bit, const char *path)
{
    if (*seen & bit) {
        json_doc_err(d, json_doc_at(d), path, "duplicate key");
        return true;
    }
    *seen |= bit;
    return false;
}

bool json_doc_uint64(json_doc_t *d, const char *path, uint64_t *v)
{
    char shown[JSON_DOC_SHOWN];
    const char *s = d->tok.text;

    *v = 0;
    /* The reader checked the grammar: without '.', 'e', 'E' and '-' the
     * literal is digits only. */
    if (strpbrk(s, ".eE-")) {
        json_doc_err(d, json_doc_at(d), path,
                     "must be a non-negative integer (got \"%s\")",
                     json_doc_shown(d, shown));
        return false;
    }
    for (; *s; s++) {
        if (*v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            json_doc_err(d, json_doc_at(d), path, "does not fit 64 bits (got \"%s\")",
                         json_doc_shown(d, shown));
            return false;
        }
        *v = *v * 10 + (uint64_t)(*s - '0');
    }
    return true;
}
