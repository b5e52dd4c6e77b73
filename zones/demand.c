/*
 * demand.c - reads and validates a demand table (docs/balancing.md "Demand"):
 *
 *   {"serial": 7, "demand": {"cn": {"4": 1200.5, "6": 30, "nts": 5}, "@": {"4": 40}}}
 *
 * Strict JSON read token by token with zones/json.c, as snapshots are: linear
 * in the input, nesting bounded by ZONE_JSON_DEPTH. Validation goes on after
 * the first problem so one run lists every error, each "name:line:col: path:
 * what"; only a syntax error stops the scan.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"

/* A table is a few KiB (250 zones x 2 families); 16 MiB is a mistake. */
#define DEM_FILE_MAX (16u << 20)

enum { DEM_SERIAL = 1, DEM_DEMAND = 2 };

typedef struct dem_parser {
    zone_json_t j;
    zone_json_token_t tok;
    const char *name;
    zone_errors_t *errs;
    size_t n_errs;
    zone_demand_t *out;
    bool seen[ZONE_ID_MAX][ZONE_BAL_FAMILIES];
} dem_parser_t;

static void dem_err(dem_parser_t *p, uint32_t line, uint32_t col, const char *path,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void dem_err(dem_parser_t *p, uint32_t line, uint32_t col, const char *path,
                    const char *fmt, ...)
{
    char what[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    zone_errors_add(p->errs, "%s:%u:%u: %s: %s", p->name, line, col, path, what);
    p->n_errs++;
}

#define DEM_AT(p) (p)->tok.line, (p)->tok.col

/* A scalar's text for a message: at most 40 bytes, control bytes as '?'. */
static const char *dem_shown(const zone_json_token_t *t, char buf[48])
{
    size_t n = t->len > 40 ? 40 : t->len, i;

    while (n < t->len && n > 0 && ((unsigned char)t->text[n] & 0xc0) == 0x80)
        n--;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->text[i];
        buf[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    strcpy(buf + i, t->len > 40 ? "..." : "");
    return buf;
}

static int dem_next(dem_parser_t *p)
{
    if (zone_json_next(&p->j, &p->tok) != ZONE_JSON_ERROR)
        return 0;
    dem_err(p, p->j.err_line, p->j.err_col, "(document)", "syntax error: %s", p->j.err);
    return -1;
}

/* Skips the value starting at the current token. */
static int dem_skip(dem_parser_t *p)
{
    if (zone_json_skip(&p->j, &p->tok) != ZONE_JSON_ERROR)
        return 0;
    dem_err(p, p->j.err_line, p->j.err_col, "(document)", "syntax error: %s", p->j.err);
    return -1;
}

/* The current token must start a value of `type`; else reports, skips it and
 * returns 1; -1 on a syntax error while skipping. */
static int dem_expect(dem_parser_t *p, int type, const char *path, const char *what)
{
    char shown[48];

    if (p->tok.type == type)
        return 0;
    if (p->tok.type >= ZONE_JSON_STRING)
        dem_err(p, DEM_AT(p), path, "wrong type: expected %s (got %s\"%s\")", what,
                p->tok.type == ZONE_JSON_STRING ? "a string " : "",
                dem_shown(&p->tok, shown));
    else
        dem_err(p, DEM_AT(p), path, "wrong type: expected %s (got %s)", what,
                zone_json_type_name(p->tok.type));
    return dem_skip(p) < 0 ? -1 : 1;
}

static int dem_serial(dem_parser_t *p)
{
    char shown[48];
    uint64_t v = 0;
    int rc = dem_expect(p, ZONE_JSON_NUMBER, "serial", "a number");

    if (rc)
        return rc < 0 ? -1 : 0;
    const char *s = p->tok.text;
    if (strpbrk(s, ".eE-")) {
        dem_err(p, DEM_AT(p), "serial", "must be a non-negative integer (got \"%s\")",
                dem_shown(&p->tok, shown));
        return 0;
    }
    for (; *s; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            dem_err(p, DEM_AT(p), "serial", "does not fit 64 bits (got \"%s\")",
                    dem_shown(&p->tok, shown));
            return 0;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    p->out->serial = v;
    return 0;
}

/* One rate of zone id, family index f: finite and >= 0. */
static int dem_rate(dem_parser_t *p, int id, int f, const char *path)
{
    char shown[48];
    int rc = dem_expect(p, ZONE_JSON_NUMBER, path, "a number");

    if (rc)
        return rc < 0 ? -1 : 0;
    errno = 0;
    double v = strtod(p->tok.text, NULL);
    if (p->tok.text[0] == '-' && v != 0)
        dem_err(p, DEM_AT(p), path, "negative (got \"%s\")", dem_shown(&p->tok, shown));
    else if (errno == ERANGE && v != 0)
        dem_err(p, DEM_AT(p), path, "not finite (got \"%s\")", dem_shown(&p->tok, shown));
    else
        p->out->rate[id][f] = v > 0 ? v : 0; /* -0 and underflow are 0 */
    return 0;
}

/* {"4": RATE, "6": RATE, "nts": RATE} of one zone. */
static int dem_zone(dem_parser_t *p, int id, const char *path)
{
    char sub[160], shown[48];
    int rc = dem_expect(p, ZONE_JSON_OBJECT, path, "an object of families");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (;;) {
        if (dem_next(p) < 0)
            return -1;
        if (p->tok.type != ZONE_JSON_KEY)
            return 0;
        int f = !strcmp(p->tok.text, "4")     ? 0
                : !strcmp(p->tok.text, "6")   ? 1
                : !strcmp(p->tok.text, "nts") ? 2
                                              : -1;
        snprintf(sub, sizeof sub, "%s.%s", path, dem_shown(&p->tok, shown));
        if (f < 0)
            dem_err(p, DEM_AT(p), sub,
                    "unknown family, expected \"4\", \"6\" or \"nts\"");
        else if (p->seen[id][f])
            dem_err(p, DEM_AT(p), sub, "duplicate family");
        if (dem_next(p) < 0)
            return -1;
        if (f < 0 || p->seen[id][f]) {
            if (dem_skip(p) < 0)
                return -1;
            continue;
        }
        p->seen[id][f] = true;
        if (dem_rate(p, id, f, sub) < 0)
            return -1;
    }
}

/* "demand": {ZONE: {...}, ...}; "gb" and "uk" name one zone. */
static int dem_demand(dem_parser_t *p)
{
    char sub[96], shown[48];
    bool zone_seen[ZONE_ID_MAX] = {false};
    int rc = dem_expect(p, ZONE_JSON_OBJECT, "demand", "an object of zones");

    if (rc)
        return rc < 0 ? -1 : 0;
    for (;;) {
        if (dem_next(p) < 0)
            return -1;
        if (p->tok.type != ZONE_JSON_KEY)
            return 0;
        int id = zone_id_lookup(p->tok.text, p->tok.len);
        snprintf(sub, sizeof sub, "demand.%s", dem_shown(&p->tok, shown));
        if (id < 0)
            dem_err(p, DEM_AT(p), sub, "unknown zone");
        else if (zone_seen[id])
            dem_err(p, DEM_AT(p), sub, "duplicate zone");
        if (dem_next(p) < 0)
            return -1;
        if (id < 0 || zone_seen[id]) {
            if (dem_skip(p) < 0)
                return -1;
            continue;
        }
        zone_seen[id] = true;
        if (dem_zone(p, id, sub) < 0)
            return -1;
    }
}

/* The document: one object with "serial" and "demand", nothing else. */
static void dem_document(dem_parser_t *p)
{
    unsigned seen = 0;
    uint32_t line, col;

    if (dem_next(p) < 0 || dem_expect(p, ZONE_JSON_OBJECT, "(document)", "an object"))
        return;
    line = p->tok.line, col = p->tok.col;
    for (;;) {
        if (dem_next(p) < 0)
            return;
        if (p->tok.type != ZONE_JSON_KEY)
            break;
        unsigned bit = !strcmp(p->tok.text, "serial")   ? DEM_SERIAL
                       : !strcmp(p->tok.text, "demand") ? DEM_DEMAND
                                                        : 0;
        char shown[48];
        if (!bit)
            dem_err(p, DEM_AT(p), dem_shown(&p->tok, shown), "unknown key");
        else if (seen & bit)
            dem_err(p, DEM_AT(p), p->tok.text, "duplicate key");
        bool skip = !bit || (seen & bit);
        seen |= bit;
        if (dem_next(p) < 0)
            return;
        int rc = skip ? dem_skip(p) : bit == DEM_SERIAL ? dem_serial(p) : dem_demand(p);
        if (rc < 0)
            return;
    }
    if (!(seen & DEM_SERIAL))
        dem_err(p, line, col, "(document)", "missing key \"serial\"");
    if (!(seen & DEM_DEMAND))
        dem_err(p, line, col, "(document)", "missing key \"demand\"");
    dem_next(p); /* ZONE_JSON_END, or a syntax error for anything after */
}

int zone_demand_parse(const char *name, const char *buf, size_t len, zone_demand_t *out,
                      zone_errors_t *errs)
{
    dem_parser_t *p = calloc(1, sizeof *p);

    if (!p) {
        zone_errors_add(errs, "%s: out of memory", name);
        return -1;
    }
    memset(out, 0, sizeof *out);
    p->name = name;
    p->errs = errs;
    p->out = out;
    zone_json_init(&p->j, buf, len, ZONE_JSON_DEPTH);
    dem_document(p);
    zone_json_deinit(&p->j);
    int rc = p->n_errs ? -1 : 0;
    free(p);
    return rc;
}

int zone_demand_load(const char *path, zone_demand_t *out, zone_errors_t *errs)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;

    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (!f || n < 0 || n > DEM_FILE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        zone_errors_add(errs, "%s: %s", path,
                        !f                 ? strerror(errno)
                        : n > DEM_FILE_MAX ? "larger than 16 MiB"
                                           : "read error");
        if (f)
            fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    int rc = zone_demand_parse(path, buf, (size_t)n, out, errs);
    free(buf);
    return rc;
}
