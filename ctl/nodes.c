/*
 * nodes.c - the fleet file of dnsdctl, read with libyaml:
 *
 *   timeout: 5
 *   nodes:
 *     - {name: fra-1, tcp: "127.0.0.1:8953", key_file: fra-1.key}
 *     - {name: local, unix: /run/dnsd/control.sock}
 *
 * key_file (and a relative unix path) are resolved against the directory of
 * the nodes file, so the fleet file and its keys can travel together.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ctl/dnsdctl.h"

typedef struct dctl_nload {
    const char *path;
    yaml_document_t doc;
    char *err;
    size_t errlen;
} dctl_nload_t;

static int dctl_nerr(dctl_nload_t *L, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "file:line:col: what" (1-based, as editors count); always returns -1. */
static int dctl_nerr(dctl_nload_t *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(L->err, L->errlen, "%s:%zu:%zu: ", L->path,
                     n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
    if (k >= 0 && (size_t)k < L->errlen) {
        va_start(ap, fmt);
        vsnprintf(L->err + k, L->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *dctl_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* dir of `path` joined with `rel` unless rel is absolute; malloc'd. */
static char *dctl_relpath(const char *path, const char *rel)
{
    const char *slash = strrchr(path, '/');
    size_t dl = rel[0] == '/' || !slash ? 0 : (size_t)(slash - path + 1);
    char *out = malloc(dl + strlen(rel) + 1);
    if (out) {
        memcpy(out, path, dl);
        strcpy(out + dl, rel);
    }
    return out;
}

static int dctl_node_load(dctl_nload_t *L, yaml_node_t *m, dctl_node_t *nd)
{
    const char *key_file = NULL;
    yaml_node_t *kf = NULL;
    if (m->type != YAML_MAPPING_NODE)
        return dctl_nerr(
            L, m, "%s", "a node must be a mapping {name, tcp, key_file} or {name, unix}");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
        const char *ks = dctl_scalar(k), *vs = dctl_scalar(v);
        if (!ks)
            return dctl_nerr(L, k, "%s", "keys must be plain strings");
        if (!vs || !*vs)
            return dctl_nerr(L, v, "%s: expected a non-empty string", ks);
        if (strcmp(ks, "name") == 0)
            nd->name = strdup(vs);
        else if (strcmp(ks, "tcp") == 0)
            nd->tcp = strdup(vs);
        else if (strcmp(ks, "unix") == 0)
            nd->unix_path = dctl_relpath(L->path, vs);
        else if (strcmp(ks, "key_file") == 0) {
            key_file = vs;
            kf = v;
        } else
            return dctl_nerr(L, k, "unknown key \"%s\" (name, tcp, unix, key_file)", ks);
    }
    if (!nd->name)
        return dctl_nerr(L, m, "%s", "node without a name");
    if (!nd->tcp == !nd->unix_path)
        return dctl_nerr(L, m, "node %s: give exactly one of tcp and unix", nd->name);
    if (nd->tcp && !key_file)
        return dctl_nerr(L, m, "node %s: tcp needs key_file", nd->name);
    if (nd->tcp) {
        char kerr[512] = "out of memory", *kp = dctl_relpath(L->path, key_file);
        int rc = kp ? ctl_key_load(kp, &nd->key, kerr, sizeof(kerr)) : -1;
        free(kp);
        if (rc < 0)
            return dctl_nerr(L, kf, "node %s: %s", nd->name, kerr);
    }
    return 0;
}

static int dctl_nodes_walk(dctl_nload_t *L, dctl_nodes_t *out)
{
    yaml_node_t *root = yaml_document_get_root_node(&L->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return dctl_nerr(L, root, "%s", "expected a mapping {timeout, nodes}");
    yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
        const char *ks = dctl_scalar(k), *vs = dctl_scalar(v);
        char *end;
        if (ks && strcmp(ks, "nodes") == 0) {
            list = v;
        } else if (ks && strcmp(ks, "timeout") == 0) {
            out->timeout_s = vs ? strtod(vs, &end) : 0;
            if (!vs || *end || !(out->timeout_s > 0 && out->timeout_s <= 3600))
                return dctl_nerr(L, v, "%s", "timeout: expected seconds in (0, 3600]");
        } else {
            return dctl_nerr(L, k, "unknown key \"%s\" (timeout, nodes)", ks ? ks : "?");
        }
    }
    if (!list || list->type != YAML_SEQUENCE_NODE ||
        list->data.sequence.items.top == list->data.sequence.items.start)
        return dctl_nerr(L, list ? list : root, "%s", "nodes: expected a non-empty list");
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (!(out->nodes = calloc(n, sizeof(*out->nodes))))
        return dctl_nerr(L, list, "%s", "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *m =
            yaml_document_get_node(&L->doc, list->data.sequence.items.start[i]);
        out->n++;
        if (dctl_node_load(L, m, &out->nodes[i]) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->nodes[j].name, out->nodes[i].name) == 0)
                return dctl_nerr(L, m, "duplicate node name %s", out->nodes[i].name);
    }
    return 0;
}

int dctl_nodes_load(const char *path, dctl_nodes_t *out, char *err, size_t errlen)
{
    dctl_nload_t L = {.path = path, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &L.doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "syntax error");
        goto done;
    }
    rc = dctl_nodes_walk(&L, out);
    yaml_document_delete(&L.doc);
done:
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc < 0)
        dctl_nodes_deinit(out);
    return rc;
}

void dctl_nodes_deinit(dctl_nodes_t *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free(n->nodes[i].name);
        free(n->nodes[i].tcp);
        free(n->nodes[i].unix_path);
        ctl_key_clear(&n->nodes[i].key);
    }
    free(n->nodes);
    memset(n, 0, sizeof(*n));
}
