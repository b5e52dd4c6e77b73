/*
 * fuzz_config.c - the YAML configuration loader (config/cfg.c, libyaml) on
 * arbitrary bytes, with cfg_deinit() after every call so LeakSanitizer sees
 * any allocation a failure path forgets.
 *
 * Invariants: failure gives a non-empty, NUL-terminated message; success gives
 * at least one zone and one listen address, each zone with an origin and a
 * master file, answers 1..16 and min_score <= full_score.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FC_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_config: invariant broken: %s (line %d)\n", #cond,      \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    cfg_t cfg;
    char err[CFG_ERR_MAX];
    char *buf = malloc(len ? len : 1); /* exact size, no NUL */
    if (!buf)
        abort();
    memcpy(buf, in, len);
    memset(err, 0x55, sizeof err);
    if (cfg_load_buffer(&cfg, "fuzz.yaml", buf, len, err, sizeof err) == 0) {
        FC_CHECK(cfg.n_zones >= 1 && cfg.n_listen >= 1);
        for (size_t i = 0; i < cfg.n_zones; i++) {
            const cfg_zone_t *z = &cfg.zones[i];
            FC_CHECK(z->origin && z->master);
            FC_CHECK(z->answers >= 1 && z->answers <= 16);
            FC_CHECK(z->min_score <= z->full_score);
        }
    } else {
        FC_CHECK(memchr(err, 0, sizeof err) && err[0]);
    }
    cfg_deinit(&cfg);
    free(buf);
    return 0;
}
