/*
 * geo.c - the libmaxminddb wrapper behind geo.h: the database opened from a
 * private copy, checked and described; the lookups and the IPv4 table built
 * for them are in geo_lookup.c.
 *
 * The database in use is a private copy: geo_open() copies the file into an
 * anonymous memory file (memfd), seals it against any change, and has
 * libmaxminddb map that (MMDB_MODE_MMAP through /proc/self/fd; the Debian 12
 * library has no open-from-memory call). Mapping the configured file itself
 * would tie every lookup to whatever later happens to that inode: an operator
 * who copies a shorter database over it in place makes the next IPv6 lookup
 * touch pages past the new end of the file and the process dies of SIGBUS,
 * and garbage written in place is read as the database. The copy costs the
 * file's size in memory (twice that during a reload) and cannot change, so
 * any number of threads may call geo_lookup() at once. A database is fully
 * checked before geo_open() returns it (metadata, every search tree node,
 * the IPv4 table, sample IPv6 lookups), so a reload can refuse a bad file
 * before anything in use changes. Everything a lookup needs, including
 * the country path split into components, is prepared at open time; a lookup
 * builds its sockaddr on the stack and allocates nothing.
 */
#include "geoip/geo.h"

#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "geo_int.h"

/* Splits "a.b.c" into g->path; empty components are a config mistake. */
static int geo_split_path(geo_t *g, const char *country_path, char *err, size_t errlen)
{
    size_t len = country_path ? strlen(country_path) : 0;
    size_t n = 0;

    if (len == 0 || len >= sizeof g->pathbuf) {
        snprintf(err, errlen, GEO_ERR_PREFIX "country_path must be 1..%zu characters",
                 sizeof g->pathbuf - 1);
        return -1;
    }
    memcpy(g->pathbuf, country_path, len + 1);
    for (char *p = g->pathbuf;; p++) {
        char *dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (*p == '\0' || n == GEO_PATH_PARTS) {
            snprintf(err, errlen,
                     GEO_ERR_PREFIX
                     "bad country_path \"%s\" (empty part or over %d parts)",
                     country_path, GEO_PATH_PARTS);
            return -1;
        }
        g->path[n++] = p;
        if (!dot)
            break;
        p = dot;
    }
    g->path[n] = NULL;
    return 0;
}

static void geo_make_desc(geo_t *g)
{
    const MMDB_metadata_s *md = &g->mmdb.metadata;
    time_t built = (time_t)md->build_epoch;
    struct tm tm;
    char date[16] = "?";

    if (gmtime_r(&built, &tm))
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    snprintf(g->desc, sizeof g->desc,
             "%s, built %s, %u nodes, IPv%u, IPv4 table %u networks %zu KiB",
             md->database_type ? md->database_type : "unknown type", date,
             (unsigned)md->node_count, (unsigned)md->ip_version, (unsigned)g->v4n,
             geo_table_bytes(g) / 1024);
}

static int geo_verify(geo_t *g, const char *path, char *err, size_t errlen);

/* Copy chunk: big enough that a 10 MB database takes a few hundred reads. */
#define GEO_COPY_CHUNK (256u * 1024)

/* Copies in -> out, exactly `size` bytes; -1 with errno, ENODATA when the
 * file ends early (it changed while being read; read() never sets ENODATA). */
static int geo_copy_bytes(int in, int out, off_t size, char *buf)
{
    while (size > 0) {
        size_t want = size < (off_t)GEO_COPY_CHUNK ? (size_t)size : GEO_COPY_CHUNK;
        ssize_t r = read(in, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            errno = r == 0 ? ENODATA : errno;
            return -1;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -1;
            done += w;
        }
        size -= r;
    }
    return 0;
}

/*
 * The private copy of `path`: a sealed memfd holding the file's bytes as they
 * were when read, or -1 with a message. Reads, never maps, the original, so a
 * file truncated meanwhile gives a short read (an error), not SIGBUS. The
 * seals make the copy immutable even to us.
 */
static int geo_private_copy(const char *path, char *err, size_t errlen)
{
    const unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), out = -1, e;
    char *buf = NULL;
    struct stat st;

    if (in < 0 || fstat(in, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        snprintf(err, errlen, GEO_ERR_PREFIX "cannot open %s: %s", path,
                 S_ISREG(st.st_mode) ? "the file is empty" : "not a regular file");
        goto out;
    }
    out = memfd_create("dnsd-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (out < 0 || !(buf = malloc(GEO_COPY_CHUNK)) ||
        geo_copy_bytes(in, out, st.st_size, buf) != 0 ||
        fcntl(out, F_ADD_SEALS, seals) != 0)
        goto fail;
    free(buf);
    close(in);
    return out;
fail:
    e = errno;
    snprintf(err, errlen, GEO_ERR_PREFIX "cannot open %s: %s", path,
             e == ENODATA ? "the file shrank while it was read" : strerror(e));
out:
    free(buf);
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    return -1;
}

/* Maps the private copy `fd` with libmaxminddb; `path` is for messages. */
static int geo_map(geo_t *g, int fd, const char *path, char *err, size_t errlen)
{
    char proc[64];
    int rc;

    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    errno = 0;
    rc = MMDB_open(proc, MMDB_MODE_MMAP, &g->mmdb);
    if (rc != MMDB_SUCCESS) {
        /* For file errors the errno says more (no /proc, out of memory). */
        int e = (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) ? errno : 0;
        snprintf(err, errlen, GEO_ERR_PREFIX "cannot open %s: %s%s%s%s", path,
                 MMDB_strerror(rc), e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
        return -1;
    }
    if (g->mmdb.metadata.ip_version != 4 && g->mmdb.metadata.ip_version != 6) {
        snprintf(err, errlen, GEO_ERR_PREFIX "%s: unsupported ip_version %u", path,
                 (unsigned)g->mmdb.metadata.ip_version);
        MMDB_close(&g->mmdb);
        return -1;
    }
    return 0;
}

geo_t *geo_open(const char *path, const char *country_path, char *err, size_t errlen)
{
    geo_t *g = calloc(1, sizeof *g);
    int fd = -1, mapped = -1;

    if (!g) {
        snprintf(err, errlen, GEO_ERR_PREFIX "out of memory");
        return NULL;
    }
    if (geo_split_path(g, country_path, err, errlen) < 0 ||
        (fd = geo_private_copy(path, err, errlen)) < 0)
        goto fail;
    mapped = geo_map(g, fd, path, err, errlen);
    close(fd); /* the mapping keeps the copy alive; nothing else can reach it */
    if (mapped < 0)
        goto fail;
    if (geo_v4_build(g, err, errlen) < 0 || geo_verify(g, path, err, errlen) < 0) {
        geo_free(g);
        return NULL;
    }
    geo_make_desc(g);
    return g;

fail:
    free(g);
    return NULL;
}

void geo_free(geo_t *g)
{
    if (!g)
        return;
    MMDB_close(&g->mmdb);
    free(g->v4);
    free(g->v4res);
    free(g);
}

const char *geo_describe(const geo_t *g)
{
    return g->desc;
}

/*
 * IPv6 networks of large providers on every continent: a lookup in each must
 * not be a database error. Which country they map to does not matter here.
 */
static const uint8_t geo_v6_probes[][16] = {
    {0x20, 0x01, 0x0d, 0xb8}, /* 2001:db8::, documentation */
    {0x20, 0x01, 0x48, 0x60}, /* 2001:4860:: */
    {0x2a, 0x01, 0x04, 0xf8}, /* 2a01:4f8:: */
    {0x24, 0x00, 0xcb, 0x00}, /* 2400:cb00:: */
    {0x26, 0x00, 0x1f, 0x00}, /* 2600:1f00:: */
    {0x28, 0x00, 0x03, 0xf0}, /* 2800:3f0:: */
    {0x2c, 0x0f, 0xf2, 0x48}, /* 2c0f:f248:: */
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff},
};

/*
 * Refuses a database that opens but is not whole: a search tree node that
 * cannot be read or points outside the file (libmaxminddb checks only the
 * metadata at open), an IPv4 network whose record cannot be read, or an IPv6
 * sample lookup that fails. Runs before the database is used anywhere, so a
 * refused reload leaves the running one as it was.
 */
static int geo_verify(geo_t *g, const char *path, char *err, size_t errlen)
{
    MMDB_search_node_s n;
    geo_result_t r;

    for (uint32_t i = 0; i < g->mmdb.metadata.node_count; i++)
        if (MMDB_read_node(&g->mmdb, i, &n) != MMDB_SUCCESS ||
            n.left_record_type == MMDB_RECORD_TYPE_INVALID ||
            n.right_record_type == MMDB_RECORD_TYPE_INVALID) {
            snprintf(err, errlen,
                     GEO_ERR_PREFIX "%s: corrupt database: search tree node %u of %u "
                                    "is invalid",
                     path, (unsigned)i, (unsigned)g->mmdb.metadata.node_count);
            return -1;
        }
    for (uint32_t i = 0; i < g->v4n; i++)
        if (g->v4[i].res == GEO_RES_ERROR) {
            snprintf(err, errlen,
                     GEO_ERR_PREFIX "%s: corrupt database: the record of IPv4 "
                                    "network %u.%u.%u.%u/%u cannot be read",
                     path, g->v4[i].start >> 24, (g->v4[i].start >> 16) & 255,
                     (g->v4[i].start >> 8) & 255, g->v4[i].start & 255,
                     (unsigned)g->v4[i].prefix);
            return -1;
        }
    for (size_t i = 0; i < sizeof geo_v6_probes / sizeof geo_v6_probes[0]; i++)
        if (geo_lookup_mmdb(g, 6, geo_v6_probes[i], &r) != 0) {
            snprintf(err, errlen,
                     GEO_ERR_PREFIX "%s: corrupt database: IPv6 lookups fail", path);
            return -1;
        }
    return 0;
}
