/*
 * test_config_keys.c - the config reference and the loader agree: every key
 * dnsd.yaml accepts has an entry in the KEYS section of docs/dnsd.yaml.5, and
 * every entry there is a key dnsd.yaml accepts.
 *
 * The keys are enumerated through the loader itself rather than from a list
 * kept here: a probe key put in a mapping is refused with "unknown key (known
 * keys: ...)", which names that mapping's key table. Probing each key found
 * with a mapping (or a sequence of mappings) as its value reaches the nested
 * tables too, including those behind check functions (zones[], balance,
 * dnssec, the {file|unix} form of query_log.dnstap), so a key added to any
 * table in config/ is seen here without touching this file.
 *
 * In the man page a key's entry is a .TP paragraph whose tag line is
 * ".B path", with "zones[]." before the keys of a zone; every .TP in KEYS is
 * such an entry.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "check.h"

#define PROBE "zz_probe"
#define PATH_LEN 128
#define KEYS_MAX 256
#define DEPTH_MAX 8

typedef struct doc_key {
    char path[PATH_LEN]; /* "zones[].dnssec.refresh" */
    bool mapping;        /* holds keys of its own (a mapping or a sequence of them) */
} doc_key_t;

static doc_key_t schema[KEYS_MAX];
static size_t n_schema;
static doc_key_t manual[KEYS_MAX];
static size_t n_manual;

/* The document that puts PROBE at steps[0..n): "zones[]" is a sequence of
 * mappings, anything else a mapping key. */
static void probe_doc(const char *const *steps, size_t n, char *out, size_t cap)
{
    char tmp[1024];
    snprintf(out, cap, "{%s: 1}", PROBE);
    for (size_t i = n; i-- > 0;) {
        size_t len = strlen(steps[i]);
        bool seq = len > 2 && !strcmp(steps[i] + len - 2, "[]");
        snprintf(tmp, sizeof tmp, seq ? "{%.*s: [%s]}" : "{%.*s: %s}",
                 (int)(seq ? len - 2 : len), steps[i], out);
        snprintf(out, cap, "%s", tmp);
    }
}

/* The key path the loader names for the probe: "zones[0].balance.zz_probe". */
static void probe_path(const char *const *steps, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(steps[i]);
        bool seq = len > 2 && !strcmp(steps[i] + len - 2, "[]");
        snprintf(out + strlen(out), cap - strlen(out), "%.*s%s.",
                 (int)(seq ? len - 2 : len), steps[i], seq ? "[0]" : "");
    }
    snprintf(out + strlen(out), cap - strlen(out), "%s", PROBE);
}

/* True when steps[0..n) is a mapping; `known` gets its keys, ", "-separated. */
static bool probe(const char *const *steps, size_t n, char *known, size_t cap)
{
    static const char intro[] = ": unknown key (known keys: ";
    char doc[1024], want[PATH_LEN + 8], err[CFG_ERR_MAX];
    const char *at, *end;
    cfg_t cfg;

    probe_doc(steps, n, doc, sizeof doc);
    probe_path(steps, n, want, sizeof want);
    if (cfg_load_buffer(&cfg, "probe.yaml", doc, strlen(doc), err, sizeof err) == 0) {
        fprintf(stderr, "the loader accepted the probe %s\n", doc);
        cfg_deinit(&cfg);
        return false;
    }
    cfg_deinit(&cfg);
    at = strstr(err, intro);
    /* The refusal must be of the probe itself, not of a key on the way. */
    if (!at || (size_t)(at - err) <= strlen(want) ||
        strncmp(at - strlen(want), want, strlen(want)) || at[-strlen(want) - 1] != ' ')
        return false;
    at += strlen(intro);
    end = strrchr(at, ')');
    if (!end)
        return false;
    snprintf(known, cap, "%.*s", (int)(end - at), at);
    return true;
}

static void schema_add(const char *path, bool mapping)
{
    CHECK(n_schema < KEYS_MAX);
    if (n_schema == KEYS_MAX)
        return;
    snprintf(schema[n_schema].path, PATH_LEN, "%s", path);
    schema[n_schema++].mapping = mapping;
}

/* Records the keys of the mapping at steps[0..n) (shown as `prefix`) and walks
 * into those that are mappings or sequences of mappings. */
static void schema_walk(const char **steps, size_t n, const char *prefix)
{
    char known[1024], sub[1024], seq[PATH_LEN], path[PATH_LEN], child[PATH_LEN + 4];
    char *save = NULL;

    CHECK(n < DEPTH_MAX);
    if (n >= DEPTH_MAX || !probe(steps, n, known, sizeof known))
        return;
    for (char *name = strtok_r(known, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        bool map, seq_of_maps = false;
        snprintf(path, sizeof path, "%s%s", prefix, name);
        steps[n] = name;
        map = probe(steps, n + 1, sub, sizeof sub);
        if (!map) {
            snprintf(seq, sizeof seq, "%s[]", name);
            steps[n] = seq;
            map = seq_of_maps = probe(steps, n + 1, sub, sizeof sub);
        }
        schema_add(path, map);
        if (map) {
            snprintf(child, sizeof child, "%s%s.", path, seq_of_maps ? "[]" : "");
            schema_walk(steps, n + 1, child);
        }
    }
}

/* The .TP entries of the KEYS section. */
static int manual_read(const char *file)
{
    char line[1024], key[PATH_LEN];
    bool in_keys = false, tag = false;
    unsigned lineno = 0;
    FILE *f = fopen(file, "r");

    if (!f) {
        perror(file);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, ".SH", 3)) {
            in_keys = !strcmp(line, ".SH KEYS");
            continue;
        }
        if (!in_keys)
            continue;
        if (tag) {
            tag = false;
            /* One key per entry, as it is written in the file: ".B zones[].ttl". */
            if (sscanf(line, ".B %127[]a-z0-9_.[]", key) != 1 || strcmp(line + 3, key)) {
                fprintf(stderr, "%s:%u: a KEYS entry must be \".B key.path\": %s\n", file,
                        lineno, line);
                CHECK(!"malformed KEYS entry");
                continue;
            }
            CHECK(n_manual < KEYS_MAX);
            if (n_manual < KEYS_MAX)
                snprintf(manual[n_manual++].path, PATH_LEN, "%s", key);
        }
        tag = !strcmp(line, ".TP");
    }
    fclose(f);
    return 0;
}

static const doc_key_t *find(const doc_key_t *set, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(set[i].path, path))
            return &set[i];
    return NULL;
}

/* The walk works: it finds keys at every depth and through every kind of
 * nesting (a sanity check, so a broken probe cannot pass as "no keys"). */
static void test_walk(void)
{
    static const char *const sample[] = {
        "listen",
        "zones",
        "zones[].origin",
        "zones[].balance.mode",
        "zones[].dnssec.refresh",
        "tcp.read_timeout",
        "query_log.dnstap.unix",
        "xdp.fallback",
    };
    for (size_t i = 0; i < sizeof sample / sizeof *sample; i++)
        CHECK(find(schema, n_schema, sample[i]) != NULL);
    CHECK(find(schema, n_schema, "zones")->mapping);
    CHECK(!find(schema, n_schema, "listen")->mapping);
    CHECK(n_schema >= 60);
}

static void test_both_ways(const char *file)
{
    for (size_t i = 0; i < n_schema; i++) {
        if (schema[i].mapping || find(manual, n_manual, schema[i].path))
            continue;
        fprintf(stderr, "%s: key %s is accepted by the config but not documented\n", file,
                schema[i].path);
        CHECK(!"undocumented key");
    }
    for (size_t i = 0; i < n_manual; i++) {
        if (find(manual, i, manual[i].path)) {
            fprintf(stderr, "%s: key %s has two entries\n", file, manual[i].path);
            CHECK(!"key documented twice");
        }
        if (find(schema, n_schema, manual[i].path))
            continue;
        fprintf(stderr, "%s: key %s is documented but the config refuses it\n", file,
                manual[i].path);
        CHECK(!"documented key that does not exist");
    }
}

int main(void)
{
    const char *src = getenv("DNSD_SOURCE_DIR");
    const char *steps[DEPTH_MAX + 1];
    char file[4096];

    snprintf(file, sizeof file, "%s/docs/dnsd.yaml.5", src ? src : "..");
    schema_walk(steps, 0, "");
    test_walk();
    CHECK_INT_EQ(manual_read(file), 0);
    CHECK(n_manual > 0);
    test_both_ways(file);
    printf("%zu keys in the schema (with their mappings), %zu in %s\n", n_schema,
           n_manual, file);
    return check_summary("test_config_keys");
}
