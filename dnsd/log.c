/*
 * log.c - line-oriented logging to stderr (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A line longer than this is cut: log lines are for people, and the longest
 * message we write (a config error naming a path) fits comfortably. */
#define LOG_LINE_MAX 2048

static log_level_t log_max = LOG_INFO;

static const char *const log_names[] = {"err", "warn", "info", "debug"};

void log_set_level(log_level_t max)
{
    log_max = max;
}

log_level_t log_get_level(void)
{
    return log_max;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (level > log_max)
        return;
    int saved_errno = errno; /* callers often log strerror(errno) right after */
    char line[LOG_LINE_MAX];
    int n =
        snprintf(line, sizeof(line), "dnsd[%ld]: %s: ", (long)getpid(), log_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    while (len > 0 && line[len - 1] == '\n')
        len--; /* one event, one line, whatever the caller passed */
    line[len++] = '\n';
    /* One write(2) per line keeps lines of concurrent threads whole; a short
     * write to a full pipe is not worth retrying for a log line. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    errno = saved_errno;
}
