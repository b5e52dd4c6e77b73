/*
 * strbuf.h - a growable text buffer: the one type every renderer of text off
 * the query path uses (the control replies' JSON, the Prometheus page, the
 * protocol's error bodies).
 *
 * An allocation failure is remembered rather than returned at every append:
 * the appends after it do nothing and strbuf_take() reports it once.
 */
#ifndef DNSD_STRBUF_H
#define DNSD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *p; /* NUL-terminated once anything was appended */
    size_t len, cap;
    bool oom; /* an append failed: strbuf_take() returns NULL */
} strbuf_t;

/* Appends printf-style text. */
void strbuf_printf(strbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Room for n more bytes and a NUL at b->p + b->len, or NULL when out of
 * memory; the caller writes them and adds n to b->len. */
char *strbuf_reserve(strbuf_t *b, size_t n);

/* The text (malloc'd, the caller's to free), or NULL when an append failed
 * or nothing was appended; either way b holds nothing afterwards. */
char *strbuf_take(strbuf_t *b);

#endif
