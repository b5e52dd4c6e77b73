/*
 * cfg.c - load and validate the node's YAML configuration (DESIGN.md "Config").
 *
 * libyaml's document API builds the whole node graph with marks; we then walk
 * it against a fixed schema. Each mapping is described by a table of keys, so
 * unknown keys, duplicate keys, wrong node types and missing values are found
 * in one place. Values go straight into the caller's cfg_t and any failure
 * ends in cfg_deinit(), so the error paths need no cleanup of their own.
 *
 * This file reads the file and runs the walk; cfg_tree.c holds the walk and
 * the value parsers, cfg_schema.c the key tables.
 */
#include "cfg_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* Values that are not in the file. */
static int cfg_defaults(cfg_t *cfg)
{
    static const char *const defaults[] = {"127.0.0.1:5300", "[::1]:5300"};
    char host[256] = "";
    size_t i;

    if (!cfg->listen) {
        if (!(cfg->listen = calloc(2, sizeof *cfg->listen)))
            return -1;
        for (i = 0; i < 2; i++)
            cfg_parse_hostport(defaults[i], &cfg->listen[i]);
        cfg->n_listen = 2;
    }
    if (!cfg->identity) {
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            strcpy(host, "dnsd");
        if (!(cfg->identity = strdup(host)))
            return -1;
    }
    if (!cfg->geoip_country_path &&
        !(cfg->geoip_country_path = strdup("country.iso_code")))
        return -1;
    return 0;
}

static int cfg_root(cfg_ctx_t *c, cfg_t *cfg)
{
    const yaml_node_t *root = yaml_document_get_root_node(&c->doc), *ctl;

    if (!root) {
        cfg_msg(c->err, c->errlen,
                "%s:1:1: the file is empty; expected a mapping of keys", c->name);
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(c, root, "", "the top level must be a mapping of keys, got %s",
                        cfg_kind_name(root));
    cfg->tcp_idle_timeout_ms = 10000;
    cfg->control_idle_timeout_ms = 10000;
    cfg->control_max_unix_conns = 16;
    cfg->control_max_tcp_conns = 32;
    cfg->tcp_max_connections = 1000;
    cfg->tcp_max_per_client = 32;
    cfg->tcp_read_timeout_ms = 5000;
    cfg->rrl_slip = 2;
    cfg->rrl_ipv4_prefix = 24;
    cfg->rrl_ipv6_prefix = 56;
    cfg->log_level = 2;
    if (cfg_map(c, root, "", cfg_top_keys, cfg_n_top_keys, cfg) < 0)
        return -1;
    if (!cfg->zones)
        return cfg_fail(c, root, "zones", "required key is missing (at least one zone)");
    /* A control port that anyone on the network can drive would be a hole. */
    if (cfg->control_tcp && !cfg->control_key_file) {
        ctl = cfg_map_get(c, root, "control");
        return cfg_fail(
            c, cfg_map_get(c, ctl, "tcp"), "control.tcp",
            "needs control.key_file, the key that authenticates remote commands");
    }
    if (cfg_defaults(cfg) < 0)
        return cfg_fail(c, root, "", "out of memory");
    return 0;
}

/* libyaml's own message, with the place it found the problem. */
static void cfg_syntax(cfg_ctx_t *c, const yaml_parser_t *p, const char *buf, size_t len)
{
    size_t line = p->problem_mark.line, col = p->problem_mark.column, i;

    if (p->error == YAML_MEMORY_ERROR) {
        cfg_msg(c->err, c->errlen, "%s: out of memory", c->name);
        return;
    }
    if (p->error == YAML_READER_ERROR) { /* bad encoding: only a byte offset is known */
        line = col = 0;
        for (i = 0; i < p->problem_offset && i < len; i++, col++)
            if (buf[i] == '\n') {
                line++;
                col = (size_t)-1;
            }
    }
    if (p->context)
        cfg_msg(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu)",
                c->name, line + 1, col + 1, p->problem ? p->problem : "unknown problem",
                p->context, p->context_mark.line + 1);
    else
        cfg_msg(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: %s", c->name, line + 1,
                col + 1, p->problem ? p->problem : "unknown problem");
}

/* Loads the one document, rejecting a second: it would be silently ignored otherwise. */
static int cfg_yaml(cfg_ctx_t *c, const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    const yaml_node_t *n;
    int rc = -1;

    if (!yaml_parser_initialize(&parser)) {
        cfg_msg(c->err, c->errlen, "%s: out of memory", c->name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (cfg_depth_check(c, buf, len) < 0)
        goto done;
    if (!yaml_parser_load(&parser, &c->doc)) {
        cfg_syntax(c, &parser, buf, len);
        goto done;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        cfg_syntax(c, &parser, buf, len);
        yaml_document_delete(&c->doc);
        goto done;
    }
    rc = 0;
    if ((n = yaml_document_get_root_node(&extra))) {
        rc = cfg_fail(c, n, "", "a second YAML document; the file must hold one");
        yaml_document_delete(&c->doc);
    }
    yaml_document_delete(&extra);
done:
    yaml_parser_delete(&parser);
    return rc;
}

static int cfg_parse(cfg_t *cfg, const char *name, const char *base, const char *buf,
                     size_t len, char *err, size_t errlen)
{
    cfg_ctx_t c = {.name = name, .base = base, .err = err, .errlen = errlen};
    int rc;

    memset(cfg, 0, sizeof *cfg);
    if (!(cfg->path = strdup(name))) {
        cfg_msg(err, errlen, "%s: out of memory", name);
        return -1;
    }
    if (cfg_yaml(&c, buf, len) < 0) {
        cfg_deinit(cfg);
        return -1;
    }
    rc = cfg_root(&c, cfg);
    yaml_document_delete(&c.doc);
    if (rc < 0)
        cfg_deinit(cfg);
    return rc;
}

int cfg_load_buffer(cfg_t *cfg, const char *name, const char *buf, size_t len, char *err,
                    size_t errlen)
{
    return cfg_parse(cfg, name, NULL, buf, len, err, errlen);
}

static char *cfg_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, got;

    *len = 0;
    if (!f)
        goto fail;
    do {
        if (cap - *len < 4096) {
            if (cap >= CFG_FILE_MAX || !(nb = realloc(buf, cap + 65536)))
                goto fail;
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0);
    if (ferror(f))
        goto fail;
    fclose(f);
    return buf;
fail:
    cfg_msg(err, errlen, "%s: cannot read: %s", path,
            cap >= CFG_FILE_MAX ? "larger than 4 MiB" : strerror(errno ? errno : EIO));
    if (f)
        fclose(f);
    free(buf);
    return NULL;
}

int cfg_load(cfg_t *cfg, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *buf, *base;
    size_t len;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    if (!(buf = cfg_read_file(path, &len, err, errlen)))
        return -1;
    /* dirname(path): "." for "dnsd.yaml", "/" for "/dnsd.yaml". */
    base =
        slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!base) {
        free(buf);
        cfg_msg(err, errlen, "%s: out of memory", path);
        return -1;
    }
    rc = cfg_parse(cfg, path, base, buf, len, err, errlen);
    free(buf);
    free(base);
    return rc;
}

void cfg_deinit(cfg_t *cfg)
{
    size_t i, j;

    for (i = 0; i < cfg->n_zones; i++) {
        cfg_zone_t *z = &cfg->zones[i];
        free(z->origin);
        free(z->master);
        free(z->snapshot);
        for (j = 0; j < z->n_vendors; j++)
            free(z->vendors[j]);
        free(z->vendors);
        cfg_dnssec_deinit(&z->dnssec);
    }
    free(cfg->zones);
    free(cfg->listen);
    free(cfg->path);
    free(cfg->identity);
    free(cfg->geoip_database);
    free(cfg->geoip_country_path);
    free(cfg->state_dir);
    free(cfg->control_unix);
    free(cfg->control_tcp);
    free(cfg->control_key_file);
    free(cfg->metrics);
    free(cfg->user);
    free(cfg->group);
    free(cfg->dnstap_path);
    free(cfg->rrl_exempt);
    free(cfg->xdp_interface);
    memset(cfg, 0, sizeof *cfg);
}
