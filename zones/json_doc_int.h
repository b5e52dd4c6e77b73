/*
 * json_doc_int.h - what the readers of pushed JSON files (snapshot.c,
 * demand.c) share on top of the token reader (json.c), not installed: the
 * current token, messages "name:line:col: path: what", and checks that report
 * a wrong value, skip it and let the scan go on, so that one run lists every
 * problem. Only a syntax error ends a scan.
 */
#ifndef DNSD_JSON_DOC_INT_H
#define DNSD_JSON_DOC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/zones.h"

/* Bytes for json_doc_shown(): 40 of text, "..." and the NUL, with room. */
#define JSON_DOC_SHOWN 48

/* A place in the text, 1-based; columns count characters. */
typedef struct json_doc_mark {
    uint32_t line, col;
} json_doc_mark_t;

typedef struct json_doc {
    zone_json_t j;
    zone_json_token_t tok; /* the current token */
    const char *name;      /* for messages: the file's name */
    zone_errors_t *errs;
    size_t n_errs; /* errors this parse added */
} json_doc_t;

/* Reads buf[0..len) nested at most ZONE_JSON_DEPTH deep; no token is current
 * until json_doc_next(). */
void json_doc_init(json_doc_t *d, const char *name, const char *buf, size_t len,
                   zone_errors_t *errs);
void json_doc_deinit(json_doc_t *d);

/* Adds "name:line:col: path: what" at `at`, and counts it. */
void json_doc_err(json_doc_t *d, json_doc_mark_t at, const char *path, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Where the current token starts. */
json_doc_mark_t json_doc_at(const json_doc_t *d);

/* The current token's text for a message: at most 40 bytes, cut at a
 * character boundary, control bytes as '?', "..." when cut. Returns buf. */
const char *json_doc_shown(const json_doc_t *d, char buf[JSON_DOC_SHOWN]);

/* Advances to the next token, or skips the value that starts at the current
 * one (a scalar, or a whole object or array). 0, or -1 after reporting a
 * syntax error (the scan ends). */
int json_doc_next(json_doc_t *d);
int json_doc_skip(json_doc_t *d);

/* Reads an object's next key: 1 with the key current, 0 at the end of the
 * object, -1 on a syntax error. */
int json_doc_key(json_doc_t *d);

/* Reads an array's next element: 1 with its first token current, 0 at the
 * end of the array, -1 on a syntax error. */
int json_doc_elem(json_doc_t *d);

/* The current token must start a value of `type` (ZONE_JSON_*); else reports
 * "wrong type: expected <what>", skips the value and returns 1. -1 on a
 * syntax error while skipping. */
int json_doc_expect(json_doc_t *d, int type, const char *path, const char *what);

/* A key seen twice is an error: JSON leaves its meaning open (RFC 8259
 * section 4). Marks `bit` in *seen; true (reported) when it was there. */
bool json_doc_seen(json_doc_t *d, unsigned *seen, unsigned bit, const char *path);

/* The current token, a number, as a non-negative integer of 64 bits: true
 * with *v, or false after reporting why not. */
bool json_doc_uint64(json_doc_t *d, const char *path, uint64_t *v);

#endif
