/*
 * privs.h - dropping root after the sockets are bound (config keys user and
 * group).
 *
 * Names are resolved at start-up, before anything is bound, so a typo is a
 * configuration error. The drop sets the supplementary groups to the one
 * group, then the gid, then the uid (real, effective and saved), and checks
 * that it cannot be undone and that no capability is left: a process that
 * changes all its uids from 0 to non-zero without PR_SET_KEEPCAPS loses its
 * permitted and effective capabilities (capabilities(7)).
 */
#ifndef DNSD_PRIVS_H
#define DNSD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/cfg.h"

typedef struct privs {
    bool drop; /* user or group configured */
    uid_t uid;
    gid_t gid;
    char user[64], group[64];
} privs_t;

/* Resolves cfg->user (and cfg->group, default: the user's primary group).
 * A group without a user is refused: the process would keep uid 0. */
int privs_resolve(const cfg_t *cfg, privs_t *p, char *err, size_t errlen);

/* Drops to p (when p->drop); must run as root then. What the daemon still
 * uses afterwards is handed to the user first: the control socket file,
 * state_dir (snapshots are written there) and a dnstap file. 0, or -1 with a
 * message; the process must then exit. */
int privs_drop(const privs_t *p, const cfg_t *cfg, char *err, size_t errlen);

/* Logs a warning when running as root with no user configured. */
void privs_warn_root(const privs_t *p);

/* CapEff of the calling process from /proc/self/status; -1 if unreadable. */
long long privs_capeff(void);

#endif
