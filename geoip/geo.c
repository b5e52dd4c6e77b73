/*
 * geo.c - the libmaxminddb wrapper behind geo.h.
 *
 * The database is memory-mapped (MMDB_MODE_MMAP) and never written after
 * geo_open(), and libmaxminddb's lookup functions only read it, so any number of
 * threads may call geo_lookup() at once. Everything a lookup needs, including
 * the country path split into components, is prepared at open time; a lookup
 * builds its sockaddr on the stack and allocates nothing.
 */
#include "geo.h"

#include <ctype.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* "country.iso_code" has 2 components; 8 is room for any real record layout. */
#define GEO_PATH_PARTS 8
#define GEO_PATH_CHARS 128

/* IPv4 networks sit in ::/96 of an IPv6 database (the MaxMind DB layout). */
#define GEO_V4_IN_V6_BITS 96

struct geo {
    MMDB_s mmdb;
    const char *path[GEO_PATH_PARTS + 1]; /* NULL-terminated, points into pathbuf */
    char pathbuf[GEO_PATH_CHARS];
    char desc[256];
};

static const char *const geo_continent_path[] = {"continent", "code", NULL};

/* Splits "a.b.c" into g->path; empty components are a config mistake. */
static int geo_split_path(geo_t *g, const char *country_path, char *err, size_t errlen)
{
    size_t len = country_path ? strlen(country_path) : 0;
    size_t n = 0;

    if (len == 0 || len >= sizeof g->pathbuf) {
        snprintf(err, errlen, "geoip: country_path must be 1..%zu characters",
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
                     "geoip: bad country_path \"%s\" (empty part or over %d parts)",
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
    snprintf(g->desc, sizeof g->desc, "%s, built %s, %u nodes, IPv%u",
             md->database_type ? md->database_type : "unknown type", date,
             (unsigned)md->node_count, (unsigned)md->ip_version);
}

geo_t *geo_open(const char *path, const char *country_path, char *err, size_t errlen)
{
    geo_t *g = calloc(1, sizeof *g);
    int rc;

    if (!g) {
        snprintf(err, errlen, "geoip: out of memory");
        return NULL;
    }
    if (geo_split_path(g, country_path, err, errlen) < 0)
        goto fail;
    errno = 0;
    rc = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (rc != MMDB_SUCCESS) {
        /* For file errors the errno says more (missing file, permissions). */
        int e = (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) ? errno : 0;
        snprintf(err, errlen, "geoip: cannot open %s: %s%s%s%s", path, MMDB_strerror(rc),
                 e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
        goto fail;
    }
    if (g->mmdb.metadata.ip_version != 4 && g->mmdb.metadata.ip_version != 6) {
        snprintf(err, errlen, "geoip: %s: unsupported ip_version %u", path,
                 (unsigned)g->mmdb.metadata.ip_version);
        MMDB_close(&g->mmdb);
        goto fail;
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
    free(g);
}

/*
 * Copies a two-letter code at `path` of the record into out (upper case).
 * Returns 0 when found or absent (out "" then), -1 on a corrupt record.
 */
static int geo_code(MMDB_entry_s *entry, const char *const *path, char out[3])
{
    MMDB_entry_data_s v;
    int rc = MMDB_aget_value(entry, &v, path);

    out[0] = '\0';
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
        rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
        return 0;
    if (rc != MMDB_SUCCESS)
        return -1;
    if (!v.has_data || v.type != MMDB_DATA_TYPE_UTF8_STRING || v.data_size != 2)
        return 0;
    for (int i = 0; i < 2; i++) {
        unsigned char c = (unsigned char)toupper((unsigned char)v.utf8_string[i]);
        if (c < 'A' || c > 'Z') {
            out[0] = '\0';
            return 0;
        }
        out[i] = (char)c;
    }
    out[2] = '\0';
    return 0;
}

/* The netmask libmaxminddb reports, in the address's own family. */
static uint8_t geo_prefix(const geo_t *g, int family, uint16_t netmask)
{
    if (family == 4 && g->mmdb.metadata.ip_version == 6)
        netmask = netmask > GEO_V4_IN_V6_BITS ? netmask - GEO_V4_IN_V6_BITS : 0;
    if (netmask > (family == 4 ? 32 : 128))
        netmask = family == 4 ? 32 : 128;
    return (uint8_t)netmask;
}

int geo_lookup(const geo_t *g, int family, const uint8_t *addr, geo_result_t *res)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    MMDB_lookup_result_s r;
    int mmdb_err;

    memset(res, 0, sizeof *res);
    if (family == 4) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&sin;
    } else if (family == 6) {
        /* An IPv4-only database knows nothing of IPv6: not found, valid for all. */
        if (g->mmdb.metadata.ip_version == 4)
            return 0;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&sin6;
    } else {
        return -1;
    }
    r = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS)
        return -1;
    res->prefix = geo_prefix(g, family, r.netmask);
    if (!r.found_entry)
        return 0;
    if (geo_code(&r.entry, g->path, res->cc) < 0 ||
        geo_code(&r.entry, geo_continent_path, res->continent) < 0) {
        memset(res, 0, sizeof *res);
        return -1;
    }
    return 0;
}

const char *geo_describe(const geo_t *g)
{
    return g->desc;
}
