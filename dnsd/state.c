/*
 * state.c - the state directory: the last accepted snapshot of each origin,
 * written atomically when a push is accepted and read at start-up and on
 * reloads, and what a crash or a careless hand can leave there (temporary
 * files of an interrupted write, a state file that is no snapshot).
 * Control thread and start-up only, never the query path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data.h"

/* The state file's name is "<origin>" SRV_STATE_SUFFIX; a write goes through
 * "<state file>" SRV_STATE_TMP "<pid>" (srv_data_persist). */
#define SRV_STATE_SUFFIX ".snapshot.json"
#define SRV_STATE_TMP ".tmp."

/* Temporary files removed at start-up (srv_state_sweep), for the metrics.
 * Written once before any other thread exists, read by the control thread. */
static uint64_t srv_state_removed;

int srv_data_state_path(const cfg_t *cfg, const char *origin, char *buf, size_t len)
{
    if (!cfg->state_dir)
        return -1;
    int n = snprintf(buf, len, "%s/%s" SRV_STATE_SUFFIX, cfg->state_dir, origin);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

srv_state_result_t srv_state_load(const char *path, zone_snapshot_t **out, char *err,
                                  size_t errlen)
{
    struct stat st;
    *out = NULL;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return SRV_STATE_NONE;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SRV_STATE_UNREADABLE;
    }
    /* fopen() succeeds on a directory, and its size then reads as LONG_MAX:
     * say what it is rather than let the loader report a failed malloc. */
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s, not a snapshot file", path,
                 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        return SRV_STATE_REFUSED;
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SRV_STATE_UNREADABLE;
    }
    zone_errors_t errs;
    zone_errors_init(&errs);
    srv_state_result_t rc = SRV_STATE_OK;
    if (zone_snapshot_load(path, out, &errs) != 0) {
        size_t n = errs.n + errs.dropped;
        snprintf(err, errlen, "%s (%zu error%s)", errs.n ? errs.msgs[0] : path, n,
                 n == 1 ? "" : "s");
        *out = NULL;
        rc = SRV_STATE_REFUSED;
    }
    zone_errors_deinit(&errs);
    return rc;
}

/* "<path>.corrupt-20261128T213000Z", or with "-2".."-99" when that exists. */
static int srv_state_aside_name(const char *path, char *out, size_t len)
{
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    struct stat st;
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    for (int k = 1; k < 100; k++) {
        int n = k == 1 ? snprintf(out, len, "%s.corrupt-%s", path, when)
                       : snprintf(out, len, "%s.corrupt-%s-%d", path, when, k);
        if (n < 0 || (size_t)n >= len)
            return -1;
        if (lstat(out, &st) != 0 && errno == ENOENT)
            return 0;
    }
    errno = EEXIST;
    return -1;
}

void srv_data_state_set_aside(const cfg_t *cfg, srv_data_t *d)
{
    char path[4096], aside[4200];
    for (size_t i = 0; i < d->n_origins; i++) {
        srv_origin_t *o = &d->origins[i];
        size_t used = strlen(o->state_err);
        if (o->state != SRV_STATE_REFUSED ||
            srv_data_state_path(cfg, o->name, path, sizeof path) != 0)
            continue;
        /* Renamed, not removed: the evidence stays for the operator, and the
         * next push is not blocked (a rename onto a directory fails). */
        if (srv_state_aside_name(path, aside, sizeof aside) != 0 ||
            rename(path, aside) != 0)
            snprintf(o->state_err + used, sizeof o->state_err - used,
                     "; could not move it aside: %s", strerror(errno));
        else
            snprintf(o->state_err + used, sizeof o->state_err - used,
                     "; moved aside to %s", aside);
    }
}

/* ------------------------------------------------------------------------ */
/* Stale temporary files                                                    */
/* ------------------------------------------------------------------------ */

/* The writer's pid when `name` is "<origin>.snapshot.json.tmp.<pid>" or
 * "<origin>.demand.json.tmp.<pid>", names only srv_state_write() makes (for
 * snapshots and pushed demand tables); else 0. */
static long srv_state_tmp_pid(const char *name)
{
    static const char *const kinds[] = {SRV_STATE_SUFFIX SRV_STATE_TMP,
                                        ".demand.json" SRV_STATE_TMP};
    const char *t = NULL, *pid = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !t; i++)
        if ((t = strstr(name, kinds[i])))
            pid = t + strlen(kinds[i]);
    if (!t || t == name)
        return 0;
    if (!*pid || strlen(pid) > 9)
        return 0;
    for (const char *p = pid; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return atol(pid);
}

/* Whether the process that named a temporary file may still be writing it:
 * another live process (a second dnsd started on the same state_dir by
 * mistake). Ours has no write under way at start-up, and a pid reused by
 * an unrelated process only delays the removal to a later start. */
static bool srv_state_writer_alive(long pid)
{
    if (pid == (long)getpid())
        return false;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Appends ", name" (or "name") to a summary; truncation is acceptable. */
static void srv_state_list(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);
    if (used + 1 < len)
        snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

int srv_state_sweep(const cfg_t *cfg, srv_state_sweep_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!cfg->state_dir)
        return 0;
    DIR *dir = opendir(cfg->state_dir);
    if (!dir) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", cfg->state_dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    struct stat st;
    while ((e = readdir(dir))) {
        /* Regular files only, never followed through a link: what a write of
         * ours left, and nothing else. */
        long pid = srv_state_tmp_pid(e->d_name);
        if (!pid || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (srv_state_writer_alive(pid)) {
            out->busy++;
            srv_state_list(out->busy_names, sizeof out->busy_names, e->d_name);
            continue;
        }
        if (unlinkat(dirfd(dir), e->d_name, 0) != 0) {
            out->failed++;
            srv_state_list(out->failures, sizeof out->failures, e->d_name);
            continue;
        }
        out->removed++;
        out->bytes += (uint64_t)st.st_size;
        srv_state_list(out->names, sizeof out->names, e->d_name);
    }
    closedir(dir);
    srv_state_removed += out->removed;
    return 0;
}

uint64_t srv_state_temp_removed(void)
{
    return srv_state_removed;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

static int srv_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsync of the directory holding `path`, so the rename itself is durable. */
static int srv_fsync_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int srv_state_write(const char *path, const void *buf, size_t len, char *err,
                    size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s" SRV_STATE_TMP "%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    if (srv_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
        goto fail;
    }
    if (srv_fsync_dir(path) != 0) {
        /* The new file is in place; only its durability across a power cut
         * is in doubt. Report it: the write is not acknowledged as stored. */
        snprintf(err, errlen, "fsync of the directory of %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
fail:
    unlink(tmp);
    return -1;
}

int srv_data_persist(const cfg_t *cfg, const char *origin, const void *buf, size_t len,
                     char *err, size_t errlen)
{
    char path[4096];
    if (!cfg->state_dir)
        return 0;
    if (srv_data_state_path(cfg, origin, path, sizeof path) != 0) {
        snprintf(err, errlen, "%s: state file path too long", cfg->state_dir);
        return -1;
    }
    return srv_state_write(path, buf, len, err, errlen) == 0 ? 1 : -1;
}
