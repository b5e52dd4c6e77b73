/*
 * json.c - a strict RFC 8259 JSON reader for the files pushed to dnsd
 * (snapshots, and any later pushed table): a pull parser that hands out one
 * token at a time, so a caller validates as it reads and never holds a tree.
 *
 * Strict on purpose: a pushed file comes from a program, and anything a JSON
 * encoder would not write is a bug worth refusing rather than guessing at.
 * Refused: a byte order mark and UTF-16/32 (RFC 8259 section 8.1), invalid
 * UTF-8 (RFC 3629), numbers outside the section 6 grammar (leading zeros, hex,
 * "15.", "+1", NaN, Infinity), unquoted words, single quotes, comments,
 * trailing commas, raw control characters in strings, lone surrogates and
 * \u0000 (consumers hold C strings), more than one value.
 *
 * Cost: every byte is looked at a bounded number of times and containers are
 * tracked in a bit stack, so reading is linear in the input and nesting is
 * bounded by max_depth (no recursion). Lines and columns are counted as the
 * reader goes (columns in characters), never by rescanning a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/zones.h"

enum {
    ZJ_START,       /* nothing read yet: the encoding is checked first */
    ZJ_VALUE,       /* a value must come (after ':' or an array's ',') */
    ZJ_FIRST_VALUE, /* after '[': a value or ']' */
    ZJ_KEY,         /* after an object's ',': a key */
    ZJ_FIRST_KEY,   /* after '{': a key or '}' */
    ZJ_AFTER,       /* after a member or element: ',' or the closing bracket */
    ZJ_DONE,        /* the top-level value is complete: only whitespace may follow */
    ZJ_FINISHED,    /* END was returned */
    ZJ_FAILED,      /* ERROR was returned; every later call returns it again */
};

void zone_json_init(zone_json_t *j, const char *buf, size_t len, unsigned max_depth)
{
    memset(j, 0, sizeof *j);
    j->p = buf;
    j->end = buf + len;
    j->line = j->col = 1;
    j->max_depth = max_depth < ZONE_JSON_DEPTH_MAX ? max_depth : ZONE_JSON_DEPTH_MAX;
    j->state = ZJ_START;
}

void zone_json_deinit(zone_json_t *j)
{
    free(j->str);
    j->str = NULL;
    j->str_cap = 0;
}

static int zj_fail(zone_json_t *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the error at the reader's position and makes it sticky. */
static int zj_fail(zone_json_t *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    j->err_line = j->line;
    j->err_col = j->col;
    j->state = ZJ_FAILED;
    return ZONE_JSON_ERROR;
}

/* The byte at p for a message: 'x' when printable ASCII, else its value. */
static const char *zj_byte(const char *p, char buf[16])
{
    unsigned char c = (unsigned char)*p;

    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static void zj_ws(zone_json_t *j)
{
    for (; j->p < j->end; j->p++) {
        if (*j->p == '\n') {
            j->line++;
            j->col = 1;
        } else if (*j->p == ' ' || *j->p == '\t' || *j->p == '\r') {
            j->col++;
        } else {
            return;
        }
    }
}

/* Appends n bytes to the token text; -1 when out of memory. */
static int zj_put(zone_json_t *j, size_t *n, const char *s, size_t len)
{
    if (*n + len + 1 > j->str_cap) {
        size_t cap = j->str_cap ? j->str_cap : 64;
        while (*n + len + 1 > cap)
            cap *= 2;
        char *s2 = realloc(j->str, cap);
        if (!s2)
            return -1;
        j->str = s2;
        j->str_cap = cap;
    }
    memcpy(j->str + *n, s, len);
    *n += len;
    j->str[*n] = '\0';
    return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 section 4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t zj_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static int zj_hex4(const char *p, const char *end, unsigned *out)
{
    *out = 0;
    if (end - p < 4)
        return -1;
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

/* The code point of a \u escape at j->p (the backslash), a surrogate pair
 * joined (RFC 8259 section 7); advances past it. -1 after reporting. */
static int zj_unicode(zone_json_t *j, unsigned *cp)
{
    unsigned lo;

    if (zj_hex4(j->p + 2, j->end, cp) < 0)
        return zj_fail(j, "\\u needs four hex digits");
    if (*cp >= 0xdc00 && *cp < 0xe000)
        return zj_fail(j, "unpaired surrogate \\u%04x", *cp);
    if (*cp >= 0xd800 && *cp < 0xdc00) {
        if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' ||
            zj_hex4(j->p + 8, j->end, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
            return zj_fail(j, "unpaired surrogate \\u%04x", *cp);
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
        j->p += 6;
        j->col += 6;
    }
    if (*cp == 0)
        return zj_fail(j, "\\u0000 (NUL) in a string");
    j->p += 6;
    j->col += 6;
    return 0;
}

/* Appends code point cp as UTF-8. */
static int zj_put_cp(zone_json_t *j, size_t *n, unsigned cp)
{
    char o[4];
    size_t k;

    if (cp < 0x80) {
        o[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    return zj_put(j, n, o, k);
}

/* One escape at j->p (the backslash), decoded and appended. */
static int zj_escape(zone_json_t *j, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = j->p + 1 < j->end && j->p[1] ? strchr(from, j->p[1]) : NULL;
    char buf[16];
    unsigned cp;

    if (j->p + 1 >= j->end)
        return zj_fail(j, "unterminated string");
    if (e) {
        j->p += 2;
        j->col += 2;
        return zj_put(j, n, &to[e - from], 1) < 0 ? zj_fail(j, "out of memory") : 0;
    }
    if (j->p[1] != 'u')
        return zj_fail(j, "invalid escape: %s after a backslash", zj_byte(j->p + 1, buf));
    if (zj_unicode(j, &cp) < 0)
        return ZONE_JSON_ERROR;
    return zj_put_cp(j, n, cp) < 0 ? zj_fail(j, "out of memory") : 0;
}

/* A string at j->p (the opening quote), decoded into j->str. */
static int zj_string(zone_json_t *j, zone_json_token_t *t)
{
    size_t n = 0;

    if (zj_put(j, &n, "", 0) < 0)
        return zj_fail(j, "out of memory");
    j->p++;
    j->col++;
    for (;;) {
        const char *run = j->p;
        /* Plain ASCII is copied in runs: the common case. */
        while (j->p < j->end && (unsigned char)*j->p >= 0x20 &&
               (unsigned char)*j->p < 0x80 && *j->p != '"' && *j->p != '\\')
            j->p++;
        j->col += (uint32_t)(j->p - run);
        if (j->p > run && zj_put(j, &n, run, (size_t)(j->p - run)) < 0)
            return zj_fail(j, "out of memory");
        if (j->p >= j->end)
            return zj_fail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"')
            break;
        if (c == '\\') {
            if (zj_escape(j, &n) < 0)
                return ZONE_JSON_ERROR;
            continue;
        }
        if (c < 0x20)
            return zj_fail(j, "control character 0x%02x in a string (escape it)", c);
        size_t k = zj_utf8((const unsigned char *)j->p, (const unsigned char *)j->end);
        if (!k)
            return zj_fail(j, "invalid UTF-8 (byte 0x%02x)", c);
        if (zj_put(j, &n, j->p, k) < 0)
            return zj_fail(j, "out of memory");
        j->p += k;
        j->col++;
    }
    j->p++;
    j->col++;
    t->text = j->str;
    t->len = n;
    return 0;
}

static bool zj_word_byte(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '.' || c == '+' || c == '-' || c == '_';
}

/* Why s[0..n) is not an RFC 8259 section 6 number, or NULL if it is. */
static const char *zj_number_problem(const char *s, size_t n)
{
    const char *p = s, *end = s + n;

    p += p < end && *p == '-';
    if (p == end || *p < '0' || *p > '9')
        return "digit expected";
    if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
        return "leading zero";
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p < end && *p == '.') {
        if (++p == end || *p < '0' || *p > '9')
            return "digit expected after '.'";
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        p += p < end && (*p == '+' || *p == '-');
        if (p == end || *p < '0' || *p > '9')
            return "digit expected in the exponent";
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p == end ? NULL : "not a decimal number";
}

/* A number, true, false or null at j->p: the whole run of word characters is
 * taken, so "0x10" and "15." are refused as a whole rather than split. */
static int zj_word(zone_json_t *j, zone_json_token_t *t)
{
    const char *s = j->p, *why;
    size_t n = 0, len;

    while (j->p < j->end && zj_word_byte(*j->p))
        j->p++;
    len = (size_t)(j->p - s);
    if (zj_put(j, &n, s, len) < 0)
        return zj_fail(j, "out of memory");
    t->text = j->str;
    t->len = len;
    if (*s == '-' || (*s >= '0' && *s <= '9')) {
        t->type = ZONE_JSON_NUMBER;
        why = zj_number_problem(s, len);
        j->p = s; /* report at the start of the number */
        if (why)
            return zj_fail(j, "invalid number \"%.40s\": %s", j->str, why);
    } else if (len == 4 && !memcmp(s, "true", 4)) {
        t->type = ZONE_JSON_TRUE;
    } else if (len == 5 && !memcmp(s, "false", 5)) {
        t->type = ZONE_JSON_FALSE;
    } else if (len == 4 && !memcmp(s, "null", 4)) {
        t->type = ZONE_JSON_NULL;
    } else {
        j->p = s;
        return zj_fail(j, "unquoted text \"%.40s\" (strings need double quotes)", j->str);
    }
    j->p = s + len;
    j->col += (uint32_t)len;
    return 0;
}

/* RFC 8259 section 8.1: UTF-8 without a byte order mark. A NUL in the first
 * two bytes means UTF-16 or UTF-32, which no encoder should send us. */
static int zj_encoding(zone_json_t *j)
{
    const unsigned char *b = (const unsigned char *)j->p;
    size_t n = (size_t)(j->end - j->p);

    if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
        return zj_fail(j, "byte order mark: JSON text is UTF-8 without one");
    if ((n >= 2 && (!b[0] || !b[1])) || (n >= 2 && b[0] == 0xfe && b[1] == 0xff) ||
        (n >= 2 && b[0] == 0xff && b[1] == 0xfe))
        return zj_fail(j, "UTF-16 or UTF-32 text: JSON text must be UTF-8");
    j->state = ZJ_VALUE;
    return 0;
}

static int zj_close(zone_json_t *j, zone_json_token_t *t)
{
    j->depth--;
    t->type = *j->p == '}' ? ZONE_JSON_OBJECT_END : ZONE_JSON_ARRAY_END;
    j->p++;
    j->col++;
    j->state = j->depth ? ZJ_AFTER : ZJ_DONE;
    return t->type;
}

static int zj_open(zone_json_t *j, zone_json_token_t *t)
{
    bool obj = *j->p == '{';

    if (j->depth >= j->max_depth)
        return zj_fail(j, "nested deeper than %u levels", j->max_depth);
    if (obj)
        j->is_obj |= 1ull << j->depth;
    else
        j->is_obj &= ~(1ull << j->depth);
    j->depth++;
    j->p++;
    j->col++;
    j->state = obj ? ZJ_FIRST_KEY : ZJ_FIRST_VALUE;
    t->type = obj ? ZONE_JSON_OBJECT : ZONE_JSON_ARRAY;
    return t->type;
}

static int zj_value(zone_json_t *j, zone_json_token_t *t)
{
    char buf[16];
    char c = *j->p;

    if (c == '{' || c == '[')
        return zj_open(j, t);
    if (c == '"') {
        t->type = ZONE_JSON_STRING;
        if (zj_string(j, t) < 0)
            return ZONE_JSON_ERROR;
    } else if (zj_word_byte(c)) {
        if (zj_word(j, t) < 0)
            return ZONE_JSON_ERROR;
    } else {
        return zj_fail(j, "unexpected %s, expected a value", zj_byte(j->p, buf));
    }
    j->state = j->depth ? ZJ_AFTER : ZJ_DONE;
    return t->type;
}

/* A member's key and the ':' after it. */
static int zj_key(zone_json_t *j, zone_json_token_t *t)
{
    char buf[16];
    uint32_t line = j->line, col = j->col;

    if (*j->p != '"')
        return zj_fail(j, "unexpected %s, expected a key in double quotes",
                       zj_byte(j->p, buf));
    if (zj_string(j, t) < 0)
        return ZONE_JSON_ERROR;
    zj_ws(j);
    if (j->p >= j->end)
        return zj_fail(j, "unexpected end of input, expected ':'");
    if (*j->p != ':')
        return zj_fail(j, "unexpected %s, expected ':'", zj_byte(j->p, buf));
    j->p++;
    j->col++;
    t->line = line;
    t->col = col;
    t->type = ZONE_JSON_KEY;
    j->state = ZJ_VALUE;
    return t->type;
}

int zone_json_next(zone_json_t *j, zone_json_token_t *t)
{
    char buf[16];

    memset(t, 0, sizeof *t);
    t->type = ZONE_JSON_ERROR;
    if (j->state == ZJ_FAILED || (j->state == ZJ_START && zj_encoding(j) < 0))
        return ZONE_JSON_ERROR;
    for (;;) {
        zj_ws(j);
        t->line = j->line;
        t->col = j->col;
        if (j->state == ZJ_DONE || j->state == ZJ_FINISHED) {
            if (j->p < j->end)
                return zj_fail(j, "unexpected %s after the end of the document",
                               zj_byte(j->p, buf));
            j->state = ZJ_FINISHED;
            return t->type = ZONE_JSON_END;
        }
        if (j->p >= j->end)
            return zj_fail(j, "unexpected end of input%s",
                           j->depth ? " (an object or array is not closed)" : "");
        char c = *j->p;
        bool obj = j->depth && (j->is_obj >> (j->depth - 1) & 1);
        switch (j->state) {
        case ZJ_FIRST_KEY:
            if (c == '}')
                return zj_close(j, t);
            /* fall through */
        case ZJ_KEY:
            return zj_key(j, t);
        case ZJ_FIRST_VALUE:
            if (c == ']')
                return zj_close(j, t);
            /* fall through */
        case ZJ_VALUE:
            return zj_value(j, t);
        default: /* ZJ_AFTER */
            if (c == (obj ? '}' : ']'))
                return zj_close(j, t);
            if (c != ',')
                return zj_fail(j, "unexpected %s, expected ',' or '%c'",
                               zj_byte(j->p, buf), obj ? '}' : ']');
            j->p++;
            j->col++;
            j->state = obj ? ZJ_KEY : ZJ_VALUE;
        }
    }
}

const char *zone_json_type_name(int type)
{
    switch (type) {
    case ZONE_JSON_OBJECT:
        return "an object";
    case ZONE_JSON_ARRAY:
        return "an array";
    case ZONE_JSON_STRING:
    case ZONE_JSON_KEY:
        return "a string";
    case ZONE_JSON_NUMBER:
        return "a number";
    case ZONE_JSON_TRUE:
    case ZONE_JSON_FALSE:
        return "a boolean";
    case ZONE_JSON_NULL:
        return "null";
    default:
        return "nothing";
    }
}

int zone_json_skip(zone_json_t *j, zone_json_token_t *t)
{
    int depth = 0;

    do {
        if (t->type == ZONE_JSON_OBJECT || t->type == ZONE_JSON_ARRAY)
            depth++;
        else if (t->type == ZONE_JSON_OBJECT_END || t->type == ZONE_JSON_ARRAY_END)
            depth--;
        if (depth == 0 && t->type != ZONE_JSON_KEY)
            return 0;
    } while (zone_json_next(j, t) != ZONE_JSON_ERROR);
    return ZONE_JSON_ERROR;
}
