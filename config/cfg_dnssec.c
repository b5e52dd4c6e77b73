/*
 * cfg_dnssec.c - a zone's `dnssec:` mapping: the key files and the
 * signature times (docs/dnssec.md). The files themselves are read and
 * checked by the signer (dnssec/key.c) when the data is built, so
 * `dnsd --check` and a reload report a bad key as they report a bad master
 * file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

/* "14d", "1h", "90m", "30s" or plain seconds. */
static int cfg_duration(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                        uint32_t *out)
{
    char q[CFG_QUOTE_MAX], *end;
    const char *s;
    unsigned long long n, mul = 1;

    if (cfg_text(c, v, path, "a duration", &s) < 0)
        return -1;
    n = strtoull(s, &end, 10);
    if (end != s && *end && !end[1])
        mul = *end == 's'   ? 1
              : *end == 'm' ? 60
              : *end == 'h' ? 3600
              : *end == 'd' ? 86400
                            : 0;
    else if (end == s || *end)
        mul = 0;
    if (!mul || s[0] == '-' || n > 0x7fffffffull / mul)
        return cfg_fail(
            c, v, path,
            "expected a duration like \"14d\", \"1h\", \"30m\" or seconds, got "
            "\"%s\"",
            cfg_quote(s, q));
    *out = (uint32_t)(n * mul);
    return 0;
}

static int cfg_paths(cfg_ctx_t *c, const yaml_node_t *v, const char *path, char ***out,
                     size_t *n_out)
{
    char sub[CFG_PATH_MAX];
    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of key files, got %s",
                        cfg_kind_name(v));
    size_t n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n > 8)
        return cfg_fail(c, v, path, "at most 8 keys");
    if (n && !(*out = calloc(n, sizeof **out)))
        return cfg_fail(c, v, path, "out of memory");
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_filepath(c, cfg_node(c, v->data.sequence.items.start[i]), sub,
                         &(*out)[i]) < 0)
            return -1;
        *n_out = i + 1;
    }
    return 0;
}

static int cfg_dnssec_keys(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                           void *obj)
{
    cfg_dnssec_t *d = obj;
    return cfg_paths(c, v, path, &d->keys, &d->n_keys);
}

static int cfg_dnssec_publish(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                              void *obj)
{
    cfg_dnssec_t *d = obj;
    return cfg_paths(c, v, path, &d->publish, &d->n_publish);
}

static int cfg_dnssec_validity(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                               void *obj)
{
    return cfg_duration(c, v, path, &((cfg_dnssec_t *)obj)->validity);
}

static int cfg_dnssec_offset(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                             void *obj)
{
    return cfg_duration(c, v, path, &((cfg_dnssec_t *)obj)->inception_offset);
}

static int cfg_dnssec_refresh(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                              void *obj)
{
    return cfg_duration(c, v, path, &((cfg_dnssec_t *)obj)->refresh);
}

static const cfg_key_t cfg_dnssec_keys_table[] = {
    {"keys", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec_keys},
    {"publish", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec_publish},
    {"signature_validity", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec_validity},
    {"inception_offset", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec_offset},
    {"refresh", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec_refresh},
};

int cfg_dnssec(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_dnssec_t *d = &((cfg_zone_t *)obj)->dnssec;
    char sub[CFG_PATH_MAX];

    d->validity = 14 * 86400;
    d->inception_offset = 3600;
    d->refresh = 7 * 86400;
    if (cfg_map(c, v, path, cfg_dnssec_keys_table,
                sizeof cfg_dnssec_keys_table / sizeof *cfg_dnssec_keys_table, d) < 0)
        return -1;
    if (d->n_keys == 0) {
        cfg_join_key(sub, path, "keys");
        return cfg_fail(c, v, sub, "at least one signing key is required");
    }
    /* Signatures must be renewed before they expire, and a refresh must not
     * be due again at once: refresh in (0, validity). Five minutes at least,
     * so a resolver can fetch and use a signature. */
    if (d->validity < 300 || d->refresh == 0 || d->refresh >= d->validity) {
        cfg_join_key(sub, path, "refresh");
        return cfg_fail(
            c, v, sub,
            "need signature_validity >= 5m and 0 < refresh < signature_validity "
            "(got %u s and %u s)",
            d->validity, d->refresh);
    }
    /* A signature is made with validity - offset left; less than refresh
     * would have it re-signed at once, forever. */
    if ((uint64_t)d->inception_offset + d->refresh >= d->validity) {
        cfg_join_key(sub, path, "inception_offset");
        return cfg_fail(c, v, sub,
                        "inception_offset (%u s) + refresh (%u s) must be below "
                        "signature_validity (%u s)",
                        d->inception_offset, d->refresh, d->validity);
    }
    d->enabled = true;
    return 0;
}

void cfg_dnssec_deinit(cfg_dnssec_t *d)
{
    for (size_t i = 0; i < d->n_keys; i++)
        free(d->keys[i]);
    for (size_t i = 0; i < d->n_publish; i++)
        free(d->publish[i]);
    free(d->keys);
    free(d->publish);
}
