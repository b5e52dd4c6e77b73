/*
 * cfgtest.h - what both halves of the configuration tests share: the smallest
 * valid config, loading from a buffer named "t.yaml", and EXPECT_ERROR, which
 * checks an error's exact "file:line:col: key" prefix. Included by
 * test_config_load.c and test_config_values.c.
 */
#ifndef DNSD_CFGTEST_H
#define DNSD_CFGTEST_H

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config/cfg.h"

static const cfg_t zero_cfg;

/* The smallest valid config; the base of the error cases. */
#define ZONE "zones:\n  - origin: pool.ntp.org\n    master: m.zone\n"

static inline int load(cfg_t *cfg, const char *text, char *err)
{
    err[0] = '\0';
    return cfg_load_buffer(cfg, "t.yaml", text, strlen(text), err, CFG_ERR_MAX);
}

/* The load must fail with a message that starts with `prefix`, is one line,
 * and leaves nothing behind in `cfg`. */
static inline void expect_error(int line, const char *text, const char *prefix)
{
    char err[CFG_ERR_MAX];
    cfg_t cfg;
    int rc = load(&cfg, text, err);

    check_count++;
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || strchr(err, '\n')) {
        check_failures++;
        fprintf(stderr, "%s:%d: rc %d, error \"%s\" does not start with \"%s\"\n",
                __FILE__, line, rc, err, prefix);
    }
    CHECK(memcmp(&cfg, &zero_cfg, sizeof cfg) == 0);
    cfg_deinit(&cfg); /* harmless after an error */
}
#define EXPECT_ERROR(text, prefix) expect_error(__LINE__, text, prefix)

#endif
