/*
 * cfg_int.h - what the parts of the config loader share (not installed): the
 * walk's context, the key tables that describe each mapping, and the node and
 * value helpers of cfg_tree.c that the schema (cfg_schema.c) and the loader
 * (cfg.c) build on.
 */
#ifndef DNSD_CFG_INT_H
#define DNSD_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config/cfg.h"

#define CFG_PATH_MAX 192
#define CFG_QUOTE_MAX 48
/* A config is a few KiB; a bigger file is a mistake (or an attack on memory). */
#define CFG_FILE_MAX (4u << 20)
/* Collections inside collections: the deepest key (zones[].vendors) is 4. */
#define CFG_DEPTH_MAX 32

typedef struct cfg_ctx {
    yaml_document_t doc;
    const char *name; /* file name for messages */
    const char *base; /* directory that relative paths join to; NULL: keep as written */
    char *err;
    size_t errlen;
} cfg_ctx_t;

typedef enum {
    CFG_K_STRING,
    CFG_K_PATH,
    CFG_K_UINT,
    CFG_K_NUMBER,
    CFG_K_HOSTPORT,
    CFG_K_FN
} cfg_kind_t;

typedef int (*cfg_fn)(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj);

/* One key of a mapping: where its value goes in `obj` and how it is checked. */
typedef struct cfg_key {
    const char *name;
    cfg_kind_t kind;
    size_t off;     /* offset of the field in the object the mapping fills */
    double lo;      /* range of CFG_K_UINT and CFG_K_NUMBER values */
    double hi;      /* ... and the longest CFG_K_STRING, in bytes */
    unsigned scale; /* CFG_K_UINT: stored value = written value * scale */
    cfg_fn fn;      /* CFG_K_FN */
} cfg_key_t;

/* cfg_tree.c: messages, nodes, scalar values, mappings. */
void cfg_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cfg_fail(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cfg_depth_check(cfg_ctx_t *c, const char *buf, size_t len);
const char *cfg_quote(const char *s, char *buf);
const yaml_node_t *cfg_node(cfg_ctx_t *c, int index);
const char *cfg_kind_name(const yaml_node_t *n);
int cfg_text(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *what,
             const char **out);
int cfg_dup(cfg_ctx_t *c, const yaml_node_t *n, const char *path, const char *s,
            char **out);
bool cfg_parse_int(const char *s, long long *out);
int cfg_filepath(cfg_ctx_t *c, const yaml_node_t *n, const char *path, char **out);
const char *cfg_parse_hostport(const char *s, cfg_listen_t *l);
int cfg_hostport(cfg_ctx_t *c, const yaml_node_t *n, const char *path, cfg_listen_t *l);
const char *cfg_label_problem(const char *s, size_t len);
void cfg_lower(char *s);
void cfg_join_key(char *out, const char *path, const char *key);
const yaml_node_t *cfg_map_get(cfg_ctx_t *c, const yaml_node_t *m, const char *key);
int cfg_map(cfg_ctx_t *c, const yaml_node_t *m, const char *path, const cfg_key_t *keys,
            size_t nkeys, void *obj);

/* cfg_dnssec.c: zones[].dnssec. */
int cfg_dnssec(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj);
void cfg_dnssec_deinit(cfg_dnssec_t *d);

/* cfg_schema.c: a choice among fixed words; *out gets its index. */
int cfg_word(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
             const char *const *words, size_t n, int *out);

/* cfg_xdp.c: the xdp mapping (the AF_XDP listener). */
int cfg_xdp(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj);

/* cfg_schema.c: the top-level mapping's keys. */
extern const cfg_key_t cfg_top_keys[];
extern const size_t cfg_n_top_keys;

#endif
