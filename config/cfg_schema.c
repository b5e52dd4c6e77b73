/*
 * cfg_schema.c - the keys of dnsd.yaml (DESIGN.md "Config"): one key table per
 * mapping, and the checks that need more than a type and a range (zone origins,
 * vendors, listen addresses, prefixes, secrets, log targets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

/* --- zones[] ------------------------------------------------------------- */

static int cfg_origin(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char q[CFG_QUOTE_MAX];
    const char *s, *why = NULL, *label;
    size_t len;

    if (cfg_text(c, v, path, "a domain name", &s) < 0)
        return -1;
    len = strlen(s);
    len -= len > 1 &&
           s[len - 1] == '.'; /* "pool.ntp.org." and "pool.ntp.org" are one name */
    if (len > 253)
        why = "longer than 253 characters";
    for (label = s; !why && label < s + len;) {
        const char *dot = memchr(label, '.', s + len - label);
        size_t ll = dot ? (size_t)(dot - label) : (size_t)(s + len - label);
        why = cfg_label_problem(label, ll);
        label += ll + 1;
    }
    if (len == 0 || s[len - 1] == '.')
        why = why ? why : "empty label";
    if (why)
        return cfg_fail(c, v, path, "\"%s\" is not a valid domain name: %s",
                        cfg_quote(s, q), why);
    if (!(z->origin = strndup(s, len)))
        return cfg_fail(c, v, path, "out of memory");
    cfg_lower(z->origin);
    return 0;
}

static int cfg_aaaa(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    if (cfg_text(c, v, path, "\"numbered-2\" or \"all\"", &s) < 0)
        return -1;
    if (!strcmp(s, "numbered-2"))
        z->aaaa = CFG_AAAA_NUMBERED_2;
    else if (!strcmp(s, "all"))
        z->aaaa = CFG_AAAA_ALL;
    else
        return cfg_fail(c, v, path, "expected \"numbered-2\" or \"all\", got \"%s\"",
                        cfg_quote(s, q));
    return 0;
}

/* Vendor names become zone labels (debian.pool.ntp.org), hence the label rules. */
static int cfg_vendors(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    char sub[CFG_PATH_MAX], q[CFG_QUOTE_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of names, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n && !(z->vendors = calloc(n, sizeof *z->vendors)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        const char *s, *why;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_text(c, item, sub, "a vendor name", &s) < 0)
            return -1;
        if ((why = cfg_label_problem(s, strlen(s))))
            return cfg_fail(c, item, sub, "\"%s\" is not a single DNS label: %s",
                            cfg_quote(s, q), why);
        if (cfg_dup(c, item, sub, s, &z->vendors[i]) < 0)
            return -1;
        z->n_vendors = i + 1;
        cfg_lower(z->vendors[i]);
        for (j = 0; j < i; j++)
            if (!strcmp(z->vendors[j], z->vendors[i]))
                return cfg_fail(c, item, sub, "duplicate vendor \"%s\"", z->vendors[i]);
    }
    return 0;
}

/* --- zones[].balance ------------------------------------------------------- */

static int cfg_balance_mode(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                            void *obj)
{
    static const char *const names[] = {"off", "local", "pushed"};
    cfg_balance_t *b = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;

    if (cfg_text(c, v, path, "\"off\", \"local\" or \"pushed\"", &s) < 0)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(s, names[i])) {
            b->mode = (cfg_balance_mode_t)i;
            return 0;
        }
    return cfg_fail(c, v, path, "expected \"off\", \"local\" or \"pushed\", got \"%s\"",
                    cfg_quote(s, q));
}

static int cfg_balance_explicit(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                                void *obj)
{
    cfg_balance_t *b = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;

    if (cfg_text(c, v, path, "true or false", &s) < 0)
        return -1;
    if (strcmp(s, "true") && strcmp(s, "false"))
        return cfg_fail(c, v, path, "expected true or false, got \"%s\"",
                        cfg_quote(s, q));
    b->explicit_names = !strcmp(s, "true");
    return 0;
}

/* The ranges: a ratio below 1 is unreachable (everything at "@" gives 1); a
 * half-life or interval beyond a week or an hour is a typo, not a policy. */
static const cfg_key_t cfg_balance_keys[] = {
    {"mode", CFG_K_FN, 0, 0, 0, 0, cfg_balance_mode},
    {"max_load_ratio", CFG_K_NUMBER, offsetof(cfg_balance_t, max_load_ratio), 1, 1000, 0,
     NULL},
    {"half_life", CFG_K_UINT, offsetof(cfg_balance_t, half_life), 1, 604800, 1, NULL},
    {"interval", CFG_K_UINT, offsetof(cfg_balance_t, interval), 1, 3600, 1, NULL},
    {"min_queries", CFG_K_UINT, offsetof(cfg_balance_t, min_queries), 0, 4000000000.0, 1,
     NULL},
    {"explicit", CFG_K_FN, 0, 0, 0, 0, cfg_balance_explicit},
};

static int cfg_balance(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_zone_t *z = obj;
    return cfg_map(c, v, path, cfg_balance_keys,
                   sizeof cfg_balance_keys / sizeof *cfg_balance_keys, &z->balance);
}

static const cfg_key_t cfg_zone_keys[] = {
    {"origin", CFG_K_FN, 0, 0, 0, 0, cfg_origin},
    {"master", CFG_K_PATH, offsetof(cfg_zone_t, master), 0, 0, 0, NULL},
    {"snapshot", CFG_K_PATH, offsetof(cfg_zone_t, snapshot), 0, 0, 0, NULL},
    {"ttl", CFG_K_UINT, offsetof(cfg_zone_t, ttl), 0, 2147483647, 1,
     NULL}, /* RFC 2181 s8 */
    {"answers", CFG_K_UINT, offsetof(cfg_zone_t, answers), 1, 16, 1, NULL},
    {"srv_answers", CFG_K_UINT, offsetof(cfg_zone_t, srv_answers), 1, 16, 1, NULL},
    {"min_score", CFG_K_NUMBER, offsetof(cfg_zone_t, min_score), -100, 20, 0, NULL},
    {"full_score", CFG_K_NUMBER, offsetof(cfg_zone_t, full_score), -100, 20, 0, NULL},
    {"aaaa", CFG_K_FN, 0, 0, 0, 0, cfg_aaaa},
    {"vendors", CFG_K_FN, 0, 0, 0, 0, cfg_vendors},
    {"balance", CFG_K_FN, 0, 0, 0, 0, cfg_balance},
    {"dnssec", CFG_K_FN, 0, 0, 0, 0, cfg_dnssec},
};
_Static_assert(sizeof(uint32_t) == sizeof(unsigned), "ttl is filled as an unsigned");

/* Checks that need the whole zone mapping: required keys and the score order. */
static int cfg_zone_check(cfg_ctx_t *c, const yaml_node_t *m, const char *path,
                          cfg_zone_t *z)
{
    char sub[CFG_PATH_MAX];
    const yaml_node_t *n;

    if (!z->origin || !z->master) {
        cfg_join_key(sub, path, z->origin ? "master" : "origin");
        return cfg_fail(c, m, sub, "required key is missing");
    }
    if (z->full_score < z->min_score) {
        n = cfg_map_get(c, m, "full_score");
        cfg_join_key(sub, path, n ? "full_score" : "min_score");
        return cfg_fail(c, n ? n : cfg_map_get(c, m, "min_score"), sub,
                        "full_score (%g) must not be below min_score (%g)", z->full_score,
                        z->min_score);
    }
    return 0;
}

static int cfg_zones(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of zones, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n == 0)
        return cfg_fail(c, v, path, "at least one zone is required");
    if (!(cfg->zones = calloc(n, sizeof *cfg->zones)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *m = cfg_node(c, v->data.sequence.items.start[i]);
        cfg_zone_t *z = &cfg->zones[i];
        z->ttl = 150;
        z->answers = 4;
        z->srv_answers = 8;
        z->min_score = 10;
        z->full_score = 15;
        z->aaaa = CFG_AAAA_NUMBERED_2;
        z->balance = (cfg_balance_t){.mode = CFG_BALANCE_OFF,
                                     .max_load_ratio = 2.0,
                                     .half_life = 600,
                                     .interval = 10,
                                     .min_queries = 1000,
                                     .explicit_names = true};
        cfg->n_zones = i + 1;
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_map(c, m, sub, cfg_zone_keys,
                    sizeof cfg_zone_keys / sizeof *cfg_zone_keys, z) < 0 ||
            cfg_zone_check(c, m, sub, z) < 0)
            return -1;
        for (j = 0; j < i; j++)
            if (!strcmp(cfg->zones[j].origin, z->origin)) {
                snprintf(sub, sizeof sub, "%s[%zu].origin", path, i);
                return cfg_fail(c, cfg_map_get(c, m, "origin"), sub,
                                "duplicate origin \"%s\" (also %s[%zu])", z->origin, path,
                                j);
            }
    }
    return 0;
}

/* --- top level ------------------------------------------------------------- */

static int cfg_listen(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i, j;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of \"address:port\", got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n == 0)
        return cfg_fail(c, v, path, "at least one address is required");
    if (!(cfg->listen = calloc(n, sizeof *cfg->listen)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        const yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        cfg_listen_t *l = &cfg->listen[i];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_hostport(c, item, sub, l) < 0)
            return -1;
        cfg->n_listen = i + 1;
        for (j = 0; j < i; j++)
            if (l->addrlen == cfg->listen[j].addrlen &&
                !memcmp(&l->addr, &cfg->listen[j].addr, l->addrlen))
                return cfg_fail(c, item, sub, "duplicate of %s[%zu] (%s)", path, j,
                                cfg->listen[j].text);
    }
    return 0;
}

static int cfg_workers(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    long long w;

    if (cfg_text(c, v, path, "\"auto\" or an integer", &s) < 0)
        return -1;
    if (!strcmp(s, "auto"))
        cfg->workers = 0;
    else if (cfg_parse_int(s, &w) && w >= 1 && w <= 256)
        cfg->workers = (unsigned)w;
    else
        return cfg_fail(c, v, path,
                        "expected \"auto\" or an integer in 1..256, got \"%s\"",
                        cfg_quote(s, q));
    return 0;
}

/* A dotted path into the MMDB record, e.g. "country.iso_code". */
static int cfg_country_path(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                            void *obj)
{
    cfg_t *cfg = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    if (cfg_text(c, v, path, "a dotted path", &s) < 0)
        return -1;
    if (!*s || s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
        return cfg_fail(c, v, path,
                        "\"%s\" is not a dotted path like \"country.iso_code\"",
                        cfg_quote(s, q));
    return cfg_dup(c, v, path, s, &cfg->geoip_country_path);
}

static const cfg_key_t cfg_geoip_keys[] = {
    {"database", CFG_K_PATH, offsetof(cfg_t, geoip_database), 0, 0, 0, NULL},
    {"country_path", CFG_K_FN, 0, 0, 0, 0, cfg_country_path},
};
static const cfg_key_t cfg_control_keys[] = {
    {"unix", CFG_K_PATH, offsetof(cfg_t, control_unix), 0, 0, 0, NULL},
    {"tcp", CFG_K_HOSTPORT, offsetof(cfg_t, control_tcp), 0, 0, 0, NULL},
    {"key_file", CFG_K_PATH, offsetof(cfg_t, control_key_file), 0, 0, 0, NULL},
    {"idle_timeout", CFG_K_UINT, offsetof(cfg_t, control_idle_timeout_ms), 1, 3600, 1000,
     NULL},
    {"max_unix_connections", CFG_K_UINT, offsetof(cfg_t, control_max_unix_conns), 1, 1024,
     1, NULL},
    {"max_tcp_connections", CFG_K_UINT, offsetof(cfg_t, control_max_tcp_conns), 1, 1024,
     1, NULL},
};
/* RFC 7766 section 6.2.3: idle timeouts of seconds, not minutes. */
static const cfg_key_t cfg_tcp_keys[] = {
    {"idle_timeout", CFG_K_UINT, offsetof(cfg_t, tcp_idle_timeout_ms), 1, 3600, 1000,
     NULL},
    {"max_connections", CFG_K_UINT, offsetof(cfg_t, tcp_max_connections), 1, 1000000, 1,
     NULL},
    {"max_per_client", CFG_K_UINT, offsetof(cfg_t, tcp_max_per_client), 1, 1000000, 1,
     NULL},
    {"read_timeout", CFG_K_UINT, offsetof(cfg_t, tcp_read_timeout_ms), 1, 3600, 1000,
     NULL},
};

/* "192.0.2.0/24" or "2001:db8::/32": the address must have no bits set past
 * the length, so a typo like "10.1.2.3/8" is caught rather than silently widened. */
static int cfg_prefix(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                      cfg_prefix_t *p)
{
    char q[CFG_QUOTE_MAX], buf[64];
    const char *s, *slash;
    long long bits;
    size_t len;

    if (cfg_text(c, v, path, "an address prefix like \"192.0.2.0/24\"", &s) < 0)
        return -1;
    slash = strchr(s, '/');
    len = slash ? (size_t)(slash - s) : 0;
    memset(p, 0, sizeof *p);
    if (slash && len < sizeof buf) {
        memcpy(buf, s, len);
        buf[len] = 0;
        p->family = inet_pton(AF_INET, buf, p->addr) == 1    ? 4
                    : inet_pton(AF_INET6, buf, p->addr) == 1 ? 6
                                                             : 0;
    }
    if (!p->family || !cfg_parse_int(slash + 1, &bits) || bits < 0 ||
        bits > (p->family == 4 ? 32 : 128))
        return cfg_fail(c, v, path,
                        "expected an address prefix like \"192.0.2.0/24\", got \"%s\"",
                        cfg_quote(s, q));
    p->bits = (unsigned)bits;
    for (unsigned i = p->bits; i < (p->family == 4 ? 32u : 128u); i++)
        if (p->addr[i / 8] & (0x80 >> (i % 8)))
            return cfg_fail(c, v, path,
                            "\"%s\" has address bits set past the prefix length",
                            cfg_quote(s, q));
    return 0;
}

static int cfg_exempt(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    size_t n, i;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, v, path, "expected a sequence of address prefixes, got %s",
                        cfg_kind_name(v));
    n = v->data.sequence.items.top - v->data.sequence.items.start;
    if (n && !(cfg->rrl_exempt = calloc(n, sizeof *cfg->rrl_exempt)))
        return cfg_fail(c, v, path, "out of memory");
    for (i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (cfg_prefix(c, cfg_node(c, v->data.sequence.items.start[i]), sub,
                       &cfg->rrl_exempt[i]) < 0)
            return -1;
        cfg->n_rrl_exempt = i + 1;
    }
    return 0;
}

/* RRL is off by default (rate 0): see docs/hardening.md for why. */
static const cfg_key_t cfg_rrl_keys[] = {
    {"rate", CFG_K_UINT, offsetof(cfg_t, rrl_rate), 0, 1000000, 1, NULL},
    {"slip", CFG_K_UINT, offsetof(cfg_t, rrl_slip), 0, 100, 1, NULL},
    {"ipv4_prefix", CFG_K_UINT, offsetof(cfg_t, rrl_ipv4_prefix), 1, 32, 1, NULL},
    {"ipv6_prefix", CFG_K_UINT, offsetof(cfg_t, rrl_ipv6_prefix), 1, 128, 1, NULL},
    {"exempt", CFG_K_FN, 0, 0, 0, 0, cfg_exempt},
};

/* cookies.secret: 32 hex digits, the 16-byte SipHash key of RFC 9018. */
static int cfg_cookie_secret(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                             void *obj)
{
    cfg_t *cfg = obj;
    const char *s;
    unsigned byte;

    if (cfg_text(c, v, path, "32 hex digits", &s) < 0)
        return -1;
    if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
        return cfg_fail(
            c, v, path, "expected 32 hex digits (16 bytes), got %zu characters%s",
            strlen(s),
            strspn(s, "0123456789abcdefABCDEF") == strlen(s) ? "" : " (not all hex)");
    for (size_t i = 0; i < 16; i++) {
        sscanf(s + 2 * i, "%2x", &byte);
        cfg->cookie_secret[i] = (uint8_t)byte;
    }
    cfg->cookie_secret_set = true;
    return 0;
}

static const cfg_key_t cfg_cookies_keys[] = {
    {"secret", CFG_K_FN, 0, 0, 0, 0, cfg_cookie_secret},
};

#define CFG_SUBMAP(fn, keys)                                                             \
    static int fn(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)       \
    {                                                                                    \
        return cfg_map(c, v, path, keys, sizeof keys / sizeof *keys, obj);               \
    }
CFG_SUBMAP(cfg_geoip, cfg_geoip_keys)
CFG_SUBMAP(cfg_control, cfg_control_keys)
CFG_SUBMAP(cfg_tcp, cfg_tcp_keys)
CFG_SUBMAP(cfg_rrl, cfg_rrl_keys)
CFG_SUBMAP(cfg_cookies, cfg_cookies_keys)

/* query_log.dnstap: a path, or {file: PATH} / {unix: PATH}. */
static int cfg_dnstap(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    char sub[CFG_PATH_MAX];
    if (v->type != YAML_MAPPING_NODE) {
        cfg->dnstap_mode = CFG_DNSTAP_AUTO;
        return cfg_filepath(c, v, path, &cfg->dnstap_path);
    }
    const yaml_node_pair_t *p = v->data.mapping.pairs.start;
    if (v->data.mapping.pairs.top - p != 1)
        return cfg_fail(c, v, path, "expected one key, file or unix, with a path");
    const yaml_node_t *k = cfg_node(c, p->key);
    const char *name =
        k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    cfg_join_key(sub, path, name);
    if (!strcmp(name, "file"))
        cfg->dnstap_mode = CFG_DNSTAP_FILE;
    else if (!strcmp(name, "unix"))
        cfg->dnstap_mode = CFG_DNSTAP_UNIX;
    else
        return cfg_fail(c, k, sub, "unknown key (known keys: file, unix)");
    return cfg_filepath(c, cfg_node(c, p->value), sub, &cfg->dnstap_path);
}

/* A choice among fixed words; *out gets its index. */
int cfg_word(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
             const char *const *words, size_t n, int *out)
{
    char q[CFG_QUOTE_MAX], list[128] = "";
    const char *s;
    *out = 0;
    if (cfg_text(c, v, path, "a word", &s) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(s, words[i])) {
            *out = (int)i;
            return 0;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 words[i]);
    }
    return cfg_fail(c, v, path, "expected one of %s, got \"%s\"", list, cfg_quote(s, q));
}

static int cfg_log_target(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    static const char *const words[] = {"stderr", "syslog"};
    int i;
    if (cfg_word(c, v, path, words, 2, &i) < 0)
        return -1;
    ((cfg_t *)obj)->log_target = (cfg_log_target_t)i;
    return 0;
}

static int cfg_log_level(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    static const char *const words[] = {"err", "warn", "info", "debug"};
    return cfg_word(c, v, path, words, 4, &((cfg_t *)obj)->log_level);
}

static const cfg_key_t cfg_query_log_keys[] = {
    {"dnstap", CFG_K_FN, 0, 0, 0, 0, cfg_dnstap},
};
static const cfg_key_t cfg_log_keys[] = {
    {"target", CFG_K_FN, 0, 0, 0, 0, cfg_log_target},
    {"level", CFG_K_FN, 0, 0, 0, 0, cfg_log_level},
};
CFG_SUBMAP(cfg_query_log, cfg_query_log_keys)
CFG_SUBMAP(cfg_log, cfg_log_keys)

/* POSIX portable user and group names are at most 32 bytes on Linux. */
const cfg_key_t cfg_top_keys[] = {
    {"listen", CFG_K_FN, 0, 0, 0, 0, cfg_listen},
    {"workers", CFG_K_FN, 0, 0, 0, 0, cfg_workers},
    {"identity", CFG_K_STRING, offsetof(cfg_t, identity), 0, 255, 0, NULL}, /* RFC 5001 */
    {"geoip", CFG_K_FN, 0, 0, 0, 0, cfg_geoip},
    {"state_dir", CFG_K_PATH, offsetof(cfg_t, state_dir), 0, 0, 0, NULL},
    {"zones", CFG_K_FN, 0, 0, 0, 0, cfg_zones},
    {"control", CFG_K_FN, 0, 0, 0, 0, cfg_control},
    {"metrics", CFG_K_HOSTPORT, offsetof(cfg_t, metrics), 0, 0, 0, NULL},
    {"tcp", CFG_K_FN, 0, 0, 0, 0, cfg_tcp},
    {"rrl", CFG_K_FN, 0, 0, 0, 0, cfg_rrl},
    {"cookies", CFG_K_FN, 0, 0, 0, 0, cfg_cookies},
    {"user", CFG_K_STRING, offsetof(cfg_t, user), 0, 32, 0, NULL},
    {"group", CFG_K_STRING, offsetof(cfg_t, group), 0, 32, 0, NULL},
    {"query_log", CFG_K_FN, 0, 0, 0, 0, cfg_query_log},
    {"log", CFG_K_FN, 0, 0, 0, 0, cfg_log},
    {"xdp", CFG_K_FN, 0, 0, 0, 0, cfg_xdp},
};
const size_t cfg_n_top_keys = sizeof cfg_top_keys / sizeof *cfg_top_keys;
