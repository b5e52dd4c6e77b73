/*
 * log.c - line-oriented logging to stderr (see log.h).
 */
#include "dnsd/base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line longer than this is cut: log lines are for people, and the longest
 * message we write (a config error naming a path) fits comfortably. */
#define LOG_LINE_MAX 2048

static log_level_t log_max = LOG_INFO;
static bool log_syslog;      /* log.target: syslog */
static int log_journal = -1; /* stderr is the journal: -1 not known yet, 0, 1 */

log_level_t log_level_of(int cfg_level)
{
    static const log_level_t levels[4] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    return cfg_level >= 0 && cfg_level < 4 ? levels[cfg_level] : LOG_INFO;
}

static const char *log_name(log_level_t level)
{
    switch (level) {
    case LOG_ERR:
        return "err";
    case LOG_WARNING:
        return "warn";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void log_set_level(log_level_t max)
{
    log_max = max;
}

log_level_t log_get_level(void)
{
    return log_max;
}

void log_use_syslog(void)
{
    /* LOG_NDELAY: connect now, while /dev/log is still reachable (before a
     * privilege drop or a chroot could make it not). */
    openlog("dnsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_syslog = true;
}

/* systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it connected to
 * stderr; it still names stderr only if our stderr is that stream. */
static bool log_to_journal(void)
{
    if (log_journal < 0) {
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                      fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev &&
                      st.st_ino == ino;
    }
    return log_journal;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (level > log_max)
        return;
    int saved_errno = errno; /* callers often log strerror(errno) right after */
    char line[LOG_LINE_MAX];
    int n;
    if (log_syslog)
        n = snprintf(line, sizeof(line), "%s: ", log_name(level));
    else if (log_to_journal()) /* journald adds the name and PID itself */
        n = snprintf(line, sizeof(line), "<%d>%s: ", level, log_name(level));
    else
        n = snprintf(line, sizeof(line), "dnsd[%ld]: %s: ", (long)getpid(),
                     log_name(level));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    while (len > 0 && line[len - 1] == '\n')
        len--; /* one event, one line, whatever the caller passed */
    if (log_syslog) {
        line[len] = '\0';
        syslog(level, "%s", line);
        errno = saved_errno;
        return;
    }
    line[len++] = '\n';
    /* One write(2) per line keeps lines of concurrent threads whole; a short
     * write to a full pipe is not worth retrying for a log line. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    errno = saved_errno;
}
