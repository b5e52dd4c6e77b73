/*
 * ctl_test.h - what both halves of the control library's tests share: a
 * scratch directory, files written into it with a given mode, and keys made of
 * one repeated byte. Included by test_ctl_protocol.c and test_ctl_client.c.
 */
#ifndef DNSD_CTL_TEST_H
#define DNSD_CTL_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"

static char tmpdir[64];

/* Makes tmpdir (/tmp/<name>.XXXXXX); 0, or -1 with the reason printed. */
static inline int ctl_test_tmpdir_new(const char *name)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static inline void ctl_test_tmpdir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

static inline void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        perror(path);
    fchmod(fd, mode);
    close(fd);
}

static inline void key_of(ctl_key_t *k, char fill)
{
    memset(k, 0, sizeof(*k));
    memset(k->bytes, fill, 32);
    k->len = 32;
}

#endif
