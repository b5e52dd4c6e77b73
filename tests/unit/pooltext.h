/*
 * pooltext.h - pools for the selection tests, built from JSON text through the
 * real snapshot parser: server() appends one server, build() parses the text
 * and makes the pool (exiting on a rejected snapshot). Also the chi-square
 * statistic both halves use. Included by test_select_draw.c and
 * test_select_walk.c.
 */
#ifndef DNSD_POOLTEXT_H
#define DNSD_POOLTEXT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/zones.h"

typedef struct text {
    char *s;
    size_t len, cap;
} text_t;

static inline void text_add(text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void text_add(text_t *t, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        va_start(ap, fmt);
        /* A fresh text_t has no buffer yet: NULL + 0 is undefined, so ask
         * vsnprintf for the length only. */
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + 256 + (size_t)n;
        if (!(t->s = realloc(t->s, t->cap)))
            abort();
    }
}

/* Appends one server; `zones` is the inside of the JSON list. */
static inline void server(text_t *t, const char *ip, double score, unsigned netspeed,
                          const char *zones)
{
    if (t->len == 0)
        text_add(t, "{\"serial\": 1, \"servers\": [\n");
    else
        text_add(t, ",\n");
    text_add(t, "{\"ip\": \"%s\", \"score\": %g, \"netspeed\": %u, \"zones\": [%s]}", ip,
             score, netspeed, zones);
}

static inline zone_pool_t *build(text_t *t, uint64_t serial, double min, double full)
{
    zone_pool_params_t params = {.min_score = min, .full_score = full};
    zone_snapshot_t *snap = NULL;
    zone_errors_t e;

    text_add(t, "]}\n");
    zone_errors_init(&e);
    int rc = zone_snapshot_parse("test", t->s, t->len, &snap, &e);
    zone_errors_print(&e, stderr);
    zone_errors_deinit(&e);
    free(t->s);
    memset(t, 0, sizeof *t);
    if (rc != 0) {
        fprintf(stderr, "test snapshot rejected\n");
        exit(1);
    }
    snap->serial = serial;
    zone_pool_t *pool = zone_pool_new(snap, &params);
    if (!pool)
        exit(1);
    return pool;
}

static inline size_t index_of(const zone_pool_t *pool, const zone_server_t *s)
{
    return (size_t)(s - zone_pool_snapshot(pool)->servers);
}

static inline double chi_square(const unsigned long *obs, const double *expect, size_t k)
{
    double x = 0;

    for (size_t i = 0; i < k; i++)
        x += ((double)obs[i] - expect[i]) * ((double)obs[i] - expect[i]) / expect[i];
    return x;
}

#endif
