/*
 * control.h - the control thread: dnsdctl's requests (docs/control-protocol.md)
 * on control.unix and control.tcp, and SIGHUP reloads (DESIGN.md "Threads,
 * I/O and reload").
 *
 * One thread with its own uv_loop_t. Everything that builds or replaces the
 * served data runs here, off the query path: a PUSH parses, validates and
 * builds the new pool, stores the snapshot in state_dir and publishes a new
 * srv_data_t (srv_data_publish: one pointer swap, the old data freed after a
 * grace period); a RELOAD or SIGHUP rebuilds everything from the files, all
 * or nothing. Workers keep answering from the old data meanwhile.
 *
 * Lifetime, from main: new (loads the key: a bad key file is a config error,
 * before anything is bound) -> listen (binds the sockets, takes SIGHUP) ->
 * start (the thread, once the workers run) -> stop (at SIGTERM, before the
 * workers are joined) -> free (removes the unix socket file).
 */
#ifndef DNSD_CONTROL_H
#define DNSD_CONTROL_H

#include <stddef.h>

#include "config/cfg.h"
#include "dnsd/io/worker.h"

typedef struct control control_t;

/* Checks the control settings of `cfg` and loads control.key_file (refused
 * when world-readable or malformed, see ctl_key_load). `cfg` is borrowed until
 * control_free; its path is what a reload reads. NULL with a message. */
control_t *control_new(const cfg_t *cfg, char *err, size_t errlen);

/* Binds control.unix (a stale socket file is replaced, a live one refused;
 * mode 0600) and control.tcp, and installs the SIGHUP handler. 0 or -1. */
int control_listen(control_t *c, char *err, size_t errlen);

/* Starts the thread; `ws` is read for STATS. srv_current must be set. */
int control_start(control_t *c, workers_t *ws, char *err, size_t errlen);

/* Closes every control connection and listener and joins the thread. A
 * request being handled finishes first; later SIGHUPs are ignored. */
void control_stop(control_t *c);

/* Stops if needed, removes the unix socket file, frees. NULL is fine. */
void control_free(control_t *c);

#endif
