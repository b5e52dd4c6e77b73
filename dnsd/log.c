/*
 * log.c - line-oriented logging to stderr (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_syslog.h"

/* A line longer than this is cut: log lines are for people, and the longest
 * message we write (a config error naming a path) fits comfortably. */
#define LOG_LINE_MAX 2048

static log_level_t log_max = LOG_INFO;
static bool log_syslog;      /* log.target: syslog */
static int log_journal = -1; /* stderr is the journal: -1 not known yet, 0, 1 */

static const char *const log_names[] = {"err", "warn", "info", "debug"};

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
    log_syslog_open();
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
        n = snprintf(line, sizeof(line), "%s: ", log_names[level]);
    else if (log_to_journal()) /* journald adds the name and PID itself */
        n = snprintf(line, sizeof(line), "<%d>%s: ", log_syslog_priority((int)level),
                     log_names[level]);
    else
        n = snprintf(line, sizeof(line), "dnsd[%ld]: %s: ", (long)getpid(),
                     log_names[level]);
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
        log_syslog_line((int)level, line);
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
