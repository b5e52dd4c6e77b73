/*
 * demand.c - reads and validates a demand table (docs/balancing.md "Demand"):
 *
 *   {"serial": 7, "demand": {"cn": {"4": 1200.5, "6": 30, "nts": 5}, "@": {"4": 40}}}
 *
 * Strict JSON read token by token with zones/json.c, as snapshots are: linear
 * in the input, nesting bounded by ZONE_JSON_DEPTH. Validation goes on after
 * the first problem so one run lists every error, each "name:line:col: path:
 * what" (json_doc.c, shared with snapshots); only a syntax error stops the
 * scan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_doc_int.h"
#include "zones/balance.h"

/* A table is a few KiB (250 zones x 2 families); 16 MiB is a mistake. */
#define DEM_FILE_MAX (16u << 20)

enum { DEM_SERIAL = 1, DEM_DEMAND = 2 };

typedef struct dem_parser {
    json_doc_t d; /* the reader, its current token and the messages */
    zone_demand_t *out;
    bool seen[ZONE_ID_MAX][ZONE_BAL_FAMILIES];
} dem_parser_t;

static int dem_serial(dem_parser_t *p)
{
    uint64_t v;
    int rc = json_doc_expect(&p->d, ZONE_JSON_NUMBER, "serial", "a number");

    if (rc)
        return rc < 0 ? -1 : 0;
    if (json_doc_uint64(&p->d, "serial", &v))
        p->out->serial = v;
    return 0;
}

/* One rate of zone id, family index f: finite and >= 0. */
static int dem_rate(dem_parser_t *p, int id, int f, const char *path)
{
    char shown[JSON_DOC_SHOWN];
    int rc = json_doc_expect(&p->d, ZONE_JSON_NUMBER, path, "a number");

    if (rc)
        return rc < 0 ? -1 : 0;
    errno = 0;
    double v = strtod(p->d.tok.text, NULL);
    if (p->d.tok.text[0] == '-' && v != 0)
        json_doc_err(&p->d, json_doc_at(&p->d), path, "negative (got \"%s\")",
                     json_doc_shown(&p->d, shown));
    else if (errno == ERANGE && v != 0)
        json_doc_err(&p->d, json_doc_at(&p->d), path, "not finite (got \"%s\")",
                     json_doc_shown(&p->d, shown));
    else
        p->out->rate[id][f] = v > 0 ? v : 0; /* -0 and underflow are 0 */
    return 0;
}

/* {"4": RATE, "6": RATE, "nts": RATE} of one zone. */
static int dem_zone(dem_parser_t *p, int id, const char *path)
{
    char sub[160], shown[JSON_DOC_SHOWN];
    int rc = json_doc_expect(&p->d, ZONE_JSON_OBJECT, path, "an object of families");

    if (rc)
        return rc < 0 ? -1 : 0;
    while ((rc = json_doc_key(&p->d)) == 1) {
        int f = !strcmp(p->d.tok.text, "4")     ? 0
                : !strcmp(p->d.tok.text, "6")   ? 1
                : !strcmp(p->d.tok.text, "nts") ? 2
                                                : -1;
        snprintf(sub, sizeof sub, "%s.%s", path, json_doc_shown(&p->d, shown));
        if (f < 0)
            json_doc_err(&p->d, json_doc_at(&p->d), sub,
                         "unknown family, expected \"4\", \"6\" or \"nts\"");
        else if (p->seen[id][f])
            json_doc_err(&p->d, json_doc_at(&p->d), sub, "duplicate family");
        if (json_doc_next(&p->d) < 0)
            return -1;
        if (f < 0 || p->seen[id][f]) {
            if (json_doc_skip(&p->d) < 0)
                return -1;
            continue;
        }
        p->seen[id][f] = true;
        if (dem_rate(p, id, f, sub) < 0)
            return -1;
    }
    return rc;
}

/* "demand": {ZONE: {...}, ...}; "gb" and "uk" name one zone. */
static int dem_demand(dem_parser_t *p)
{
    char sub[96], shown[JSON_DOC_SHOWN];
    bool zone_seen[ZONE_ID_MAX] = {false};
    int rc = json_doc_expect(&p->d, ZONE_JSON_OBJECT, "demand", "an object of zones");

    if (rc)
        return rc < 0 ? -1 : 0;
    while ((rc = json_doc_key(&p->d)) == 1) {
        int id = zone_id_lookup(p->d.tok.text, p->d.tok.len);
        snprintf(sub, sizeof sub, "demand.%s", json_doc_shown(&p->d, shown));
        if (id < 0)
            json_doc_err(&p->d, json_doc_at(&p->d), sub, "unknown zone");
        else if (zone_seen[id])
            json_doc_err(&p->d, json_doc_at(&p->d), sub, "duplicate zone");
        if (json_doc_next(&p->d) < 0)
            return -1;
        if (id < 0 || zone_seen[id]) {
            if (json_doc_skip(&p->d) < 0)
                return -1;
            continue;
        }
        zone_seen[id] = true;
        if (dem_zone(p, id, sub) < 0)
            return -1;
    }
    return rc;
}

/* The document: one object with "serial" and "demand", nothing else. */
static void dem_document(dem_parser_t *p)
{
    unsigned seen = 0;
    json_doc_mark_t start;
    int rc;

    if (json_doc_next(&p->d) < 0 ||
        json_doc_expect(&p->d, ZONE_JSON_OBJECT, "(document)", "an object"))
        return;
    start = json_doc_at(&p->d);
    while ((rc = json_doc_key(&p->d)) == 1) {
        unsigned bit = !strcmp(p->d.tok.text, "serial")   ? DEM_SERIAL
                       : !strcmp(p->d.tok.text, "demand") ? DEM_DEMAND
                                                          : 0;
        char shown[JSON_DOC_SHOWN];
        if (!bit)
            json_doc_err(&p->d, json_doc_at(&p->d), json_doc_shown(&p->d, shown),
                         "unknown key");
        bool skip = !bit || json_doc_seen(&p->d, &seen, bit, p->d.tok.text);
        if (json_doc_next(&p->d) < 0)
            return;
        rc = skip                ? json_doc_skip(&p->d)
             : bit == DEM_SERIAL ? dem_serial(p)
                                 : dem_demand(p);
        if (rc < 0)
            return;
    }
    if (rc < 0)
        return;
    if (!(seen & DEM_SERIAL))
        json_doc_err(&p->d, start, "(document)", "missing key \"serial\"");
    if (!(seen & DEM_DEMAND))
        json_doc_err(&p->d, start, "(document)", "missing key \"demand\"");
    json_doc_next(&p->d); /* ZONE_JSON_END, or a syntax error for anything after */
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
    json_doc_init(&p->d, name, buf, len, errs);
    p->out = out;
    dem_document(p);
    json_doc_deinit(&p->d);
    int rc = p->d.n_errs ? -1 : 0;
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
