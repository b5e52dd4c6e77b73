/*
 * metrics.c - the two renderers of the family table (see metrics.h): the
 * Prometheus text format 0.0.4 and the STATS JSON. Both walk the same
 * families and take the same rows from them; only the layout differs. Off
 * the query path: allocation is fine here.
 */
#include "dnsd/control/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

/* The histogram's bounds, as numbers (observe) and as the le label values. */
static const double metrics_push_bounds[METRICS_PUSH_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const char *const metrics_push_le[METRICS_PUSH_BUCKETS + 1] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5",   "1",      "2.5",   "5",    "10",    "30",   "+Inf"};

static const char *const metrics_push_names[METRICS_PUSH_REASONS] = {
    "payload",          "unknown_origin",  "invalid_snapshot",
    "serial_not_newer", "state_dir_write", "out_of_memory"};

const char *metrics_push_reason_name(metrics_push_reason_t r)
{
    return (unsigned)r < METRICS_PUSH_REASONS ? metrics_push_names[r] : "other";
}

void metrics_hist_observe(metrics_hist_t *h, double seconds)
{
    int i = 0;
    while (i < METRICS_PUSH_BUCKETS && seconds > metrics_push_bounds[i])
        i++;
    h->bucket[i]++;
    h->sum += seconds > 0 ? seconds : 0;
}

/* One JSON value or key kept while STATS is built: offsets into the text
 * arena, so growing it moves nothing. */
typedef struct metrics_jnode {
    size_t key, val;                  /* val == SIZE_MAX: an object */
    uint32_t child, last_child, next; /* node indexes; 0: none (0 is the root) */
} metrics_jnode_t;

typedef struct metrics_json {
    metrics_jnode_t *n;
    size_t len, cap;
    strbuf_t text; /* NUL-terminated keys and values */
    bool oom;
} metrics_json_t;

struct metrics_sink {
    const metrics_family_t *f;
    strbuf_t *b;       /* Prometheus text, or NULL */
    metrics_json_t *j; /* STATS, or NULL */
};

/* ------------------------------------------------------------------------ */
/* Prometheus text                                                          */
/* ------------------------------------------------------------------------ */

/* A label value with \, " and newline escaped (exposition format). */
static void metrics_prom_label(strbuf_t *b, const char *v)
{
    strbuf_printf(b, "\"");
    while (*v) {
        size_t plain = strcspn(v, "\\\"\n");
        strbuf_printf(b, "%.*s", (int)plain, v);
        v += plain;
        if (*v) {
            strbuf_printf(b, "\\%c", *v == '\n' ? 'n' : *v);
            v++;
        }
    }
    strbuf_printf(b, "\"");
}

/* name{l1="v1",...,le="x"}: the row's labels and an extra one (or NULL). */
static void metrics_prom_series(strbuf_t *b, const char *name, const char *suffix,
                                const metrics_family_t *f, const metrics_row_t *r,
                                const char *le)
{
    const char *sep = "{";
    strbuf_printf(b, "%s%s", name, suffix);
    for (int i = 0; i < METRICS_LABELS_MAX && f->labels[i]; i++) {
        strbuf_printf(b, "%s%s=", sep, f->labels[i]);
        metrics_prom_label(b, r->label[i] ? r->label[i] : "");
        sep = ",";
    }
    if (le) {
        strbuf_printf(b, "%sle=", sep);
        metrics_prom_label(b, le);
        sep = ",";
    }
    strbuf_printf(b, "%s", sep[0] == ',' ? "} " : " ");
}

/* name_bucket{...,le} cumulative, name_sum, name_count (= the +Inf bucket,
 * as the exposition format requires). */
static void metrics_prom_hist(strbuf_t *b, const metrics_family_t *f,
                              const metrics_row_t *r)
{
    uint64_t n = 0;
    for (int i = 0; i <= METRICS_PUSH_BUCKETS; i++) {
        n += r->hist->bucket[i];
        metrics_prom_series(b, f->name, "_bucket", f, r, metrics_push_le[i]);
        strbuf_printf(b, "%llu\n", (unsigned long long)n);
    }
    metrics_prom_series(b, f->name, "_sum", f, r, NULL);
    strbuf_printf(b, "%.6f\n", r->hist->sum);
    metrics_prom_series(b, f->name, "_count", f, r, NULL);
    strbuf_printf(b, "%llu\n", (unsigned long long)n);
}

/* The value as both outputs print it: the family's format, or an integer. */
static void metrics_value(const metrics_family_t *f, const metrics_row_t *r, char *out,
                          size_t cap)
{
    if (f->fmt)
        snprintf(out, cap, f->fmt, r->x);
    else
        snprintf(out, cap, "%llu", (unsigned long long)r->n);
}

static void metrics_prom_row(strbuf_t *b, const metrics_family_t *f,
                             const metrics_row_t *r)
{
    char v[64];
    if (f->type == METRICS_HISTOGRAM)
        return metrics_prom_hist(b, f, r);
    metrics_value(f, r, v, sizeof v);
    metrics_prom_series(b, f->name, "", f, r, NULL);
    strbuf_printf(b, "%s\n", v);
}

/* The HELP of a family of the workers' table is that of its rows. */
static const char *metrics_help(const metrics_family_t *f)
{
    for (size_t i = 0; !f->help && i < stat_n_descs; i++)
        if (stat_descs[i].metric && strcmp(stat_descs[i].metric, f->name) == 0)
            return stat_descs[i].help;
    return f->help ? f->help : "";
}

int metrics_render(const metrics_table_t *const *t, size_t nt, const metrics_snap_t *s,
                   char **out, size_t *len)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    strbuf_t b = {0};
    metrics_sink_t k = {.b = &b};
    for (size_t i = 0; i < nt; i++)
        for (size_t n = 0; n < t[i]->n; n++) {
            const metrics_family_t *f = &t[i]->fam[n];
            if (f->type == METRICS_STATS_ONLY || (f->shown && !f->shown(s)))
                continue;
            strbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, metrics_help(f),
                          f->name, types[f->type]);
            k.f = f;
            f->rows(s, f, &k);
        }
    size_t n = b.len;
    if (!(*out = strbuf_take(&b)))
        return -1;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* STATS JSON: the rows as a tree of objects, printed once complete         */
/* ------------------------------------------------------------------------ */

static size_t metrics_json_text(metrics_json_t *j, const char *s)
{
    size_t at = j->text.len;
    strbuf_printf(&j->text, "%s", s);
    j->text.len++; /* keep the NUL: strbuf_printf reserved room for it */
    j->oom |= j->text.oom;
    return at;
}

/* The child of `parent` named key, added when missing; 0 when out of memory. */
static uint32_t metrics_json_child(metrics_json_t *j, uint32_t parent, const char *key)
{
    for (uint32_t c = j->n[parent].child; c; c = j->n[c].next)
        if (strcmp(j->text.p + j->n[c].key, key) == 0)
            return c;
    if (j->len == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 256;
        metrics_jnode_t *n = realloc(j->n, cap * sizeof *n);
        if (!n) {
            j->oom = true;
            return 0;
        }
        j->n = n;
        j->cap = cap;
    }
    uint32_t c = (uint32_t)j->len++;
    j->n[c] = (metrics_jnode_t){.key = metrics_json_text(j, key), .val = SIZE_MAX};
    if (j->n[parent].last_child)
        j->n[j->n[parent].last_child].next = c;
    else
        j->n[parent].child = c;
    j->n[parent].last_child = c;
    return j->oom ? 0 : c;
}

/* The node of the family's home ("control.requests": two levels). */
static uint32_t metrics_json_home(metrics_json_t *j, const metrics_family_t *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s", f->stats ? f->stats : f->name + strlen("dnsd_"));
    uint32_t at = 0;
    for (char *seg = path;;) {
        char *dot = strchr(seg, '.');
        if (dot)
            *dot = '\0';
        at = metrics_json_child(j, at, seg);
        if (!at || !dot)
            return at;
        seg = dot + 1;
    }
}

/* The node of a row: its own path, or the home and its label values. */
static uint32_t metrics_json_node(metrics_json_t *j, const metrics_family_t *f,
                                  const metrics_row_t *r)
{
    uint32_t at = 0;
    if (r->at[0]) {
        for (int i = 0; i < METRICS_AT_MAX && r->at[i] && (at || i == 0); i++)
            at = metrics_json_child(j, at, r->at[i]);
        return at;
    }
    at = metrics_json_home(j, f);
    for (int i = 0; i < METRICS_LABELS_MAX && f->labels[i] && at; i++)
        at = metrics_json_child(j, at, r->label[i] ? r->label[i] : "");
    return at;
}

static void metrics_json_set(metrics_json_t *j, uint32_t node, const char *v)
{
    if (node)
        j->n[node].val = metrics_json_text(j, v);
}

/* {"buckets": {"0.001": n, ..., "+Inf": n}, "sum": s, "count": n}, the
 * buckets cumulative as on /metrics. */
static void metrics_json_hist(metrics_json_t *j, uint32_t at, const metrics_hist_t *h)
{
    char v[64];
    uint64_t n = 0;
    uint32_t b = at ? metrics_json_child(j, at, "buckets") : 0;
    for (int i = 0; b && i <= METRICS_PUSH_BUCKETS; i++) {
        n += h->bucket[i];
        snprintf(v, sizeof v, "%llu", (unsigned long long)n);
        metrics_json_set(j, metrics_json_child(j, b, metrics_push_le[i]), v);
    }
    snprintf(v, sizeof v, "%.6f", h->sum);
    metrics_json_set(j, at ? metrics_json_child(j, at, "sum") : 0, v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)n);
    metrics_json_set(j, at ? metrics_json_child(j, at, "count") : 0, v);
}

static void metrics_json_row(metrics_json_t *j, const metrics_family_t *f,
                             const metrics_row_t *r)
{
    char v[64];
    uint32_t at = metrics_json_node(j, f, r);
    if (f->type == METRICS_HISTOGRAM)
        return metrics_json_hist(j, at, r->hist);
    metrics_value(f, r, v, sizeof v);
    /* JSON has no infinities: a ratio over nothing is null. */
    metrics_json_set(j, at, f->fmt && !isfinite(r->x) ? "null" : v);
}

static void metrics_json_put(const metrics_json_t *j, strbuf_t *b, uint32_t node)
{
    const metrics_jnode_t *n = &j->n[node];
    if (n->val != SIZE_MAX) {
        strbuf_printf(b, "%s", j->text.p + n->val);
        return;
    }
    strbuf_printf(b, "{");
    for (uint32_t c = n->child; c; c = j->n[c].next) {
        ctl_json_put(b, j->text.p + j->n[c].key);
        strbuf_printf(b, ": ");
        metrics_json_put(j, b, c);
        strbuf_printf(b, "%s", j->n[c].next ? ", " : "");
    }
    strbuf_printf(b, "}");
}

void metrics_render_json(const metrics_table_t *const *t, size_t nt,
                         const metrics_snap_t *s, strbuf_t *b)
{
    metrics_json_t j = {.n = calloc(256, sizeof(metrics_jnode_t)), .len = 1, .cap = 256};
    metrics_sink_t k = {.j = &j};
    j.oom = !j.n;
    if (j.n)
        j.n[0].val = SIZE_MAX;
    for (size_t i = 0; i < nt; i++)
        for (size_t n = 0; n < t[i]->n && !j.oom; n++) {
            const metrics_family_t *f = &t[i]->fam[n];
            if (f->shown && !f->shown(s))
                continue;
            /* A labelled family with no row yet is an empty object. */
            if (f->type != METRICS_STATS_ONLY &&
                (f->labels[0] || f->type == METRICS_HISTOGRAM))
                metrics_json_home(&j, f);
            k.f = f;
            f->rows(s, f, &k);
        }
    if (j.oom)
        b->oom = true;
    else
        metrics_json_put(&j, b, 0);
    free(j.n);
    free(j.text.p);
}

void metrics_emit(metrics_sink_t *k, const metrics_row_t *r)
{
    if (k->b)
        metrics_prom_row(k->b, k->f, r);
    if (k->j && !k->j->oom)
        metrics_json_row(k->j, k->f, r);
}
