/*
 * cfg_xdp.c - the "xdp" mapping of dnsd.yaml: the optional AF_XDP UDP
 * listener (dnsd/io/xdp.h). Checked whether or not dnsd was built with XDP, so a
 * config means the same on every build; dnsd itself refuses to start one it
 * cannot serve unless fallback is true.
 */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"

/* An interface name as the kernel takes it: 1..15 bytes, no '/', ':' or
 * white space (dev_valid_name in net/core/dev.c); nor quotes or backslashes,
 * so the name goes into status JSON and metric labels as it is. */
static int cfg_xdp_interface(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                             void *obj)
{
    cfg_t *cfg = obj;
    char q[CFG_QUOTE_MAX];
    const char *s;
    if (cfg_text(c, v, path, "an interface name", &s) < 0)
        return -1;
    size_t n = strlen(s);
    if (n == 0 || n >= IFNAMSIZ || strpbrk(s, "/: \t\n\"\\") || !strcmp(s, ".") ||
        !strcmp(s, ".."))
        return cfg_fail(c, v, path,
                        "\"%s\" is not an interface name (1..%d bytes, no '/', "
                        "':', quotes or white space)",
                        cfg_quote(s, q), IFNAMSIZ - 1);
    free(cfg->xdp_interface);
    return cfg_dup(c, v, path, s, &cfg->xdp_interface);
}

static int cfg_xdp_mode(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    static const char *const words[] = {"auto", "native", "generic"};
    int i;
    if (cfg_word(c, v, path, words, 3, &i) < 0)
        return -1;
    ((cfg_t *)obj)->xdp_mode = (cfg_xdp_mode_t)i;
    return 0;
}

/* YAML 1.1 spells booleans several ways; "on"/"off" as well, as the others do. */
static int cfg_xdp_zero_copy(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                             void *obj)
{
    static const char *const words[] = {"auto", "on", "off", "true", "false"};
    static const cfg_xdp_zc_t as[] = {CFG_XDP_ZC_AUTO, CFG_XDP_ZC_ON, CFG_XDP_ZC_OFF,
                                      CFG_XDP_ZC_ON, CFG_XDP_ZC_OFF};
    int i;
    if (cfg_word(c, v, path, words, 5, &i) < 0)
        return -1;
    ((cfg_t *)obj)->xdp_zero_copy = as[i];
    return 0;
}

static int cfg_xdp_fallback(cfg_ctx_t *c, const yaml_node_t *v, const char *path,
                            void *obj)
{
    static const char *const words[] = {"false", "true", "no", "yes"};
    int i;
    if (cfg_word(c, v, path, words, 4, &i) < 0)
        return -1;
    ((cfg_t *)obj)->xdp_fallback = i & 1;
    return 0;
}

static const cfg_key_t cfg_xdp_keys[] = {
    {"interface", CFG_K_FN, 0, 0, 0, 0, cfg_xdp_interface},
    {"port", CFG_K_UINT, offsetof(cfg_t, xdp_port), 1, 65535, 1, NULL},
    {"mode", CFG_K_FN, 0, 0, 0, 0, cfg_xdp_mode},
    {"zero_copy", CFG_K_FN, 0, 0, 0, 0, cfg_xdp_zero_copy},
    {"fallback", CFG_K_FN, 0, 0, 0, 0, cfg_xdp_fallback},
};

int cfg_xdp(cfg_ctx_t *c, const yaml_node_t *v, const char *path, void *obj)
{
    cfg_t *cfg = obj;
    cfg->xdp_port = 53;
    if (cfg_map(c, v, path, cfg_xdp_keys, sizeof cfg_xdp_keys / sizeof *cfg_xdp_keys,
                cfg) < 0)
        return -1;
    if (!cfg->xdp_interface) {
        char sub[CFG_PATH_MAX];
        cfg_join_key(sub, path, "interface");
        return cfg_fail(c, v, sub,
                        "required key is missing (the interface to take UDP "
                        "port %u from)",
                        cfg->xdp_port);
    }
    if (cfg->xdp_mode == CFG_XDP_GENERIC && cfg->xdp_zero_copy == CFG_XDP_ZC_ON) {
        char sub[CFG_PATH_MAX];
        cfg_join_key(sub, path, "zero_copy");
        return cfg_fail(c, cfg_map_get(c, v, "zero_copy"), sub,
                        "zero copy needs mode native (or auto); generic mode copies");
    }
    return 0;
}
