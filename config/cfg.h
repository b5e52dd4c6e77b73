/*
 * cfg.h - the node's YAML configuration (libyaml), validated at load time.
 *
 * One file configures a node (DESIGN.md "Config"). Every error names the file,
 * line, column (1-based, as editors count) and the key path at fault, e.g.
 *
 *   config/dnsd.yaml:12:10: zones[0].ttl: expected an integer in 0..2147483647, got "x"
 *
 * Relative paths in the file (master, snapshot, geoip.database, state_dir,
 * control.unix, control.key_file) are resolved against the directory of the
 * config file, so a node behaves the same whatever its working directory.
 */
#ifndef DNSD_CFG_H
#define DNSD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CFG_ERR_MAX 1024

typedef struct cfg_listen {
    struct sockaddr_storage addr; /* address and port, ready for bind() */
    socklen_t addrlen;
    char text[64]; /* as written, e.g. "[::1]:5300", for logs */
} cfg_listen_t;

typedef enum {
    CFG_AAAA_NUMBERED_2 = 0, /* "numbered-2": IPv6 only on 2.* names (public pool rule) */
    CFG_AAAA_ALL = 1,        /* "all": IPv6 on every pool name */
} cfg_aaaa_t;

/* query_log.dnstap: how PATH is written (dnsd/io/dnstap.h). */
typedef enum {
    CFG_DNSTAP_AUTO =
        0, /* "dnstap: PATH": a unix socket if PATH is one at start, else a file */
    CFG_DNSTAP_FILE = 1, /* "dnstap: {file: PATH}" */
    CFG_DNSTAP_UNIX = 2, /* "dnstap: {unix: PATH}" */
} cfg_dnstap_mode_t;

/* xdp.mode: how the XDP program is attached (dnsd/io/xdp.h). */
typedef enum {
    CFG_XDP_AUTO = 0,    /* native if the driver can, else generic */
    CFG_XDP_NATIVE = 1,  /* in the driver: fails where the driver lacks XDP */
    CFG_XDP_GENERIC = 2, /* in the kernel's receive path (SKB mode): any interface */
} cfg_xdp_mode_t;

/* xdp.zero_copy: whether the AF_XDP sockets share frames with the driver. */
typedef enum {
    CFG_XDP_ZC_AUTO = 0, /* if the driver can (native mode only) */
    CFG_XDP_ZC_ON = 1,
    CFG_XDP_ZC_OFF = 2,
} cfg_xdp_zc_t;

typedef enum {
    CFG_LOG_STDERR = 0, /* journald-friendly lines on stderr */
    CFG_LOG_SYSLOG = 1,
} cfg_log_target_t;

/* An address prefix, e.g. "127.0.0.0/8": address masked to `bits`. */
typedef struct cfg_prefix {
    int family;       /* 4 or 6 */
    uint8_t addr[16]; /* 4 or 16 bytes used, zero past `bits` */
    unsigned bits;
} cfg_prefix_t;

/* zones[].balance.mode (docs/balancing.md): where demand comes from. */
typedef enum {
    CFG_BALANCE_OFF = 0,    /* absent or "off": answers as without balancing */
    CFG_BALANCE_LOCAL = 1,  /* the node's own queries, decayed */
    CFG_BALANCE_PUSHED = 2, /* the table pushed with dnsdctl demand push */
} cfg_balance_mode_t;

typedef struct cfg_balance {
    cfg_balance_mode_t mode;
    double max_load_ratio; /* >= 1; default 2.0 */
    unsigned half_life;    /* seconds, local demand; default 600 */
    unsigned interval;     /* seconds between recomputations; default 10 */
    unsigned min_queries;  /* local demand below this: no spill; default 1000 */
    bool explicit_names;   /* explicit zone names spill too; default true */
} cfg_balance_t;

/* zones[].dnssec (docs/dnssec.md): key files and signature times. */
typedef struct cfg_dnssec {
    bool enabled; /* the mapping is present */
    char **keys;  /* private-key files that sign */
    size_t n_keys;
    char **publish; /* ".key" files only published (rollover) */
    size_t n_publish;
    uint32_t validity;         /* seconds; default 14 days */
    uint32_t inception_offset; /* seconds; default 1 hour */
    uint32_t refresh;          /* seconds; default 7 days */
} cfg_dnssec_t;

typedef struct cfg_zone {
    char *origin;         /* lower case, no trailing dot: "pool.ntp.org" */
    char *master;         /* master file path (required) */
    char *snapshot;       /* initial snapshot path, or NULL */
    uint32_t ttl;         /* TTL of pool A/AAAA answers, seconds; default 150 */
    unsigned answers;     /* records per pool answer, 1..16; default 4 */
    unsigned srv_answers; /* SRV records per NTS answer, 1..16; default 8 */
    double min_score;     /* eligibility threshold; default 10 */
    double full_score;    /* full weight from this score up; default 15; >= min_score */
    cfg_aaaa_t aaaa;      /* default CFG_AAAA_NUMBERED_2 */
    char **vendors;       /* lower-case single labels, e.g. "debian" */
    size_t n_vendors;
    cfg_balance_t balance; /* demand-aware balancing; mode off by default */
    cfg_dnssec_t dnssec;
} cfg_zone_t;

typedef struct cfg {
    char *path; /* the file this was read from */

    cfg_listen_t *listen; /* default: 127.0.0.1:5300 and [::1]:5300 */
    size_t n_listen;
    unsigned workers; /* 0 = "auto" (one per CPU); default auto */
    char *identity;   /* NSID, id.server; default: the host name */

    char *geoip_database;     /* NULL: no GeoIP, every client maps to "@" */
    char *geoip_country_path; /* default "country.iso_code"; dotted path */
    char *state_dir;          /* NULL: snapshots are not persisted */

    cfg_zone_t *zones; /* at least one */
    size_t n_zones;

    char *control_unix;     /* control socket path or NULL */
    char *control_tcp;      /* "host:port" or NULL */
    char *control_key_file; /* required when control_tcp is set */
    /* control: {idle_timeout: SECONDS, max_unix_connections: N,
     * max_tcp_connections: N}: separate budgets, so that clients of the
     * network endpoint can never crowd out the local operator. */
    unsigned control_idle_timeout_ms; /* default 10000 */
    unsigned control_max_unix_conns;  /* default 16 */
    unsigned control_max_tcp_conns;   /* default 32 */
    char *metrics;                    /* "host:port" or NULL */

    /* tcp: {idle_timeout: SECONDS, max_connections: N} (RFC 7766 section 6.2.3) */
    unsigned tcp_idle_timeout_ms; /* default 10000 */
    unsigned tcp_max_connections; /* per node; default 1000 */
    /* tcp: {max_per_client: N, read_timeout: SECONDS} (abuse limits) */
    unsigned tcp_max_per_client;  /* per source address, per node; default 32 */
    unsigned tcp_read_timeout_ms; /* to finish a message once begun; default 5000 */

    /* rrl: {rate, slip, ipv4_prefix, ipv6_prefix, exempt} (dnsd/query/rrl.h) */
    unsigned rrl_rate;        /* responses/s per prefix; 0 = off (default) */
    unsigned rrl_slip;        /* every Nth limited response truncated; default 2 */
    unsigned rrl_ipv4_prefix; /* default 24 */
    unsigned rrl_ipv6_prefix; /* default 56 */
    cfg_prefix_t *rrl_exempt; /* never limited */
    size_t n_rrl_exempt;

    /* cookies: {secret: HEX32} (RFC 9018); unset: random per process start */
    bool cookie_secret_set;
    uint8_t cookie_secret[16];

    /* Privileges: after binding, a process started as root drops to these
     * (group defaults to the user's primary group). NULL: unchanged. */
    char *user;
    char *group;

    char *dnstap_path; /* query_log: {dnstap: ...}; NULL: no query log */
    cfg_dnstap_mode_t dnstap_mode;

    /* xdp: {interface, port, mode, zero_copy, fallback} (dnsd/io/xdp.h) */
    char *xdp_interface;        /* NULL: no AF_XDP listener */
    unsigned xdp_port;          /* UDP port taken; default 53 */
    cfg_xdp_mode_t xdp_mode;    /* default auto */
    cfg_xdp_zc_t xdp_zero_copy; /* default auto */
    bool xdp_fallback;          /* socket path alone if XDP cannot start; default false */

    /* log: {target: stderr|syslog, level: err|warn|info|debug} */
    cfg_log_target_t log_target; /* default CFG_LOG_STDERR */
    int log_level;               /* 0 err .. 3 debug (log_level_of); default 2 (info) */
} cfg_t;

/*
 * Reads and validates `path` into `cfg` (caller storage). Returns 0, or -1 with
 * a one-line message in `err` (file:line:col: key: what). On error `cfg` holds
 * nothing that needs cfg_deinit(), though calling it is harmless.
 */
int cfg_load(cfg_t *cfg, const char *path, char *err, size_t errlen);

/* Same, from a buffer; `name` stands in for the file name in messages and
 * relative paths resolve against the current directory. For tests and fuzzing. */
int cfg_load_buffer(cfg_t *cfg, const char *name, const char *buf, size_t len, char *err,
                    size_t errlen);

void cfg_deinit(cfg_t *cfg);

#endif
