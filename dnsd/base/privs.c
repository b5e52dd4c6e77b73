/*
 * privs.c - the privilege drop (see privs.h).
 */
#include "dnsd/base/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dnsd/base/log.h"

int privs_resolve(const cfg_t *cfg, privs_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!cfg->user && !cfg->group)
        return 0;
    if (!cfg->user) {
        snprintf(err, errlen, "%s: group: needs user as well (the uid would stay 0)",
                 cfg->path);
        return -1;
    }
    errno = 0;
    const struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        snprintf(err, errlen, "%s: user: no such user \"%s\"%s%s", cfg->path, cfg->user,
                 errno ? ": " : "", errno ? strerror(errno) : "");
        return -1;
    }
    p->drop = true;
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    snprintf(p->user, sizeof p->user, "%s", cfg->user);
    snprintf(p->group, sizeof p->group, "%u", (unsigned)pw->pw_gid);
    if (cfg->group) {
        errno = 0;
        const struct group *gr = getgrnam(cfg->group);
        if (!gr) {
            snprintf(err, errlen, "%s: group: no such group \"%s\"%s%s", cfg->path,
                     cfg->group, errno ? ": " : "", errno ? strerror(errno) : "");
            return -1;
        }
        p->gid = gr->gr_gid;
        snprintf(p->group, sizeof p->group, "%s", cfg->group);
    }
    return 0;
}

long long privs_capeff(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

/* What the daemon still uses after the drop becomes the user's: the control
 * socket file (mode 0600: the user and root may connect; whether it can be
 * removed at exit depends on its directory, and a stale one is replaced at
 * the next start), state_dir, and a dnstap file, which
 * fstrm's I/O thread opens (and reopens after an error) on its own schedule,
 * possibly after the drop. A dnstap socket is the collector's: left alone. */
static int privs_handover(const privs_t *p, const cfg_t *cfg, char *err, size_t errlen)
{
    struct stat st;
    const char *tap = cfg->dnstap_path;
    bool tap_file = tap && lstat(tap, &st) == 0 && S_ISREG(st.st_mode);
    const char *paths[3] = {cfg->control_unix, cfg->state_dir, tap_file ? tap : NULL};
    const char *what[3] = {"control.unix", "state_dir", "query_log.dnstap"};
    for (int i = 0; i < 3; i++) {
        if (paths[i] && chown(paths[i], p->uid, p->gid) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s %s: cannot hand it to %s: %s", what[i], paths[i],
                     p->user, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int privs_drop(const privs_t *p, const cfg_t *cfg, char *err, size_t errlen)
{
    if (!p->drop)
        return 0;
    if (geteuid() != 0) {
        snprintf(err, errlen, "user %s: cannot switch users: not running as root",
                 p->user);
        return -1;
    }
    if (privs_handover(p, cfg, err, errlen) != 0)
        return -1;
    /* Order matters: groups while still root, the uid last. */
    const char *step = "prctl(PR_SET_KEEPCAPS, 0)";
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 ||
        (step = "setgroups", setgroups(1, &p->gid)) != 0 ||
        (step = "setresgid", setresgid(p->gid, p->gid, p->gid)) != 0 ||
        (step = "setresuid", setresuid(p->uid, p->uid, p->uid)) != 0) {
        snprintf(err, errlen, "dropping to %s:%s: %s: %s", p->user, p->group, step,
                 strerror(errno));
        return -1;
    }
    uid_t r, e, s;
    gid_t gr, ge, gs;
    long long caps = privs_capeff();
    if (getresuid(&r, &e, &s) != 0 || r != p->uid || e != p->uid || s != p->uid ||
        getresgid(&gr, &ge, &gs) != 0 || gr != p->gid || ge != p->gid || gs != p->gid ||
        (p->uid != 0 && setuid(0) == 0) || caps != 0) {
        snprintf(err, errlen,
                 "dropping to %s:%s: the process still has privileges "
                 "(CapEff %llx)",
                 p->user, p->group, caps);
        return -1;
    }
    log_msg(LOG_INFO, "running as %s:%s (uid %u, gid %u), no capabilities", p->user,
            p->group, (unsigned)p->uid, (unsigned)p->gid);
    return 0;
}

void privs_warn_root(const privs_t *p)
{
    if (!p->drop && geteuid() == 0)
        log_msg(LOG_WARNING,
                "running as root: set user and group in the configuration to "
                "drop privileges once the sockets are bound");
}
