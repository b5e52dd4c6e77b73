/*
 * dnsdctl.h - what the parts of the dnsdctl tool share (not a library header).
 */
#ifndef DNSD_DNSDCTL_H
#define DNSD_DNSDCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/ctl.h"

/* Exit codes (dnsdctl --help). */
enum { DCTL_OK = 0, DCTL_REFUSED = 1, DCTL_USAGE = 2, DCTL_CONN = 3 };

#define DCTL_TIMEOUT_DEFAULT_S 10.0

/* One node of a nodes.yaml: a TCP endpoint with its key, or a unix socket. */
typedef struct dctl_node {
    char *name;
    char *tcp; /* "host:port" or NULL */
    char *unix_path;
    ctl_key_t key; /* loaded when tcp is set */
} dctl_node_t;

typedef struct dctl_nodes {
    double timeout_s; /* 0: not given in the file */
    dctl_node_t *nodes;
    size_t n;
} dctl_nodes_t;

/* Reads nodes.yaml (key_file relative to its directory, keys loaded and
 * checked). 0, or -1 with "file:line:col: what" in err. */
int dctl_nodes_load(const char *path, dctl_nodes_t *out, char *err, size_t errlen);
void dctl_nodes_deinit(dctl_nodes_t *n);

/* Fleet mode: one request to every node in parallel on one libuv loop, then
 * a table on stdout. type is CTL_T_PUSH (payload: the PUSH payload) or
 * CTL_T_STATUS. Returns the exit code. */
int dctl_fleet_run(const dctl_nodes_t *nodes, uint8_t type, const uint8_t *payload,
                   size_t len, double timeout_s);

/* Fleet mode for the balancing verbs: one request to every node in parallel;
 * out[i] (cfg->n entries) gets node i's outcome and, when ok, its parsed
 * reply (the caller frees it with ctl_json_free). 0, or -1 when out of memory. */
typedef struct dctl_fleet_reply {
    const char *name;
    int status; /* DCTL_* */
    char result[256];
    ctl_jval_t *reply;
    double ms;
} dctl_fleet_reply_t;
int dctl_fleet_collect(const dctl_nodes_t *cfg, uint8_t type, const uint8_t *payload,
                       size_t len, double timeout_s, dctl_fleet_reply_t *out);

/* The connection options of the single-node verbs (dnsdctl.c). */
typedef struct dctl_conn_opts {
    const char *socket, *server, *key_file, *nodes;
    double timeout_s;
} dctl_conn_opts_t;

/* The balancing verbs: demand [push FILE], balance, servers (balance_cli.c).
 * argv[i] is the verb. Returns the exit code. */
int dctl_balance_main(const dctl_conn_opts_t *o, int argc, char **argv, int i);
bool dctl_balance_verb(const char *name);

/* Reply helpers shared by single-node and fleet output. */
/* "ERR" reply -> "error: detail; detail" in out. */
void dctl_reply_reason(const char *json, char *out, size_t cap);
/* PUSH OK reply -> serials ("-" when null or absent). */
void dctl_push_serials(const char *json, char *old_s, char *new_s, size_t cap);

#endif
