/*
 * test_state.c - the data lifecycle and the state directory in-process:
 * reading a state file (valid, missing, corrupt, a directory), the rule that
 * pushed state wins over the zone's snapshot file, what a reload keeps
 * (srv_data_keep_newer: a push stays, a newer snapshot file wins over an
 * older one, a pool is shared or rebuilt with new scores), deriving data for
 * a push (srv_data_with_pool: one origin replaced, every other part shared,
 * the original unchanged), storing a push (srv_data_persist: read back,
 * replaced by rename, no temporary file left, errors), setting a refused file
 * aside, and sweeping the temporary files of interrupted writes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dnsd/data/data.h"

static char dir[] = "/tmp/dnsd-test-state-XXXXXX";

static const char *path_of(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "w");
    if (!f) {
        perror(name);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *name)
{
    struct stat st;
    return lstat(path_of(name), &st) == 0;
}

static char *snapshot(unsigned serial, char *buf, size_t len)
{
    snprintf(buf, len,
             "{\"serial\": %u, \"servers\": [{\"ip\": \"10.0.%u.1\", \"score\": 20, "
             "\"netspeed\": 1000, \"zones\": [\"de\", \"europe\"]}]}\n",
             serial, serial % 256);
    return buf;
}

/* A config with state_dir "<dir>/state" and the zone's snapshot file. */
static void load_cfg(cfg_t *cfg)
{
    char text[1024], err[CFG_ERR_MAX];
    snprintf(text, sizeof text,
             "state_dir: %s/state\n"
             "zones:\n"
             "  - origin: pool.test\n"
             "    master: %s/pool.test.zone\n"
             "    snapshot: %s/snap.json\n",
             dir, dir, dir);
    if (cfg_load_buffer(cfg, "test.yaml", text, strlen(text), err, sizeof err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
}

/* Two zones, pool.test and other.test; `head` replaces the state_dir line,
 * `extra` is added to pool.test's entry (e.g. "    min_score: 5\n"). */
static void load_cfg_two(cfg_t *cfg, const char *head, const char *extra)
{
    char text[2048], err[CFG_ERR_MAX];
    snprintf(text, sizeof text,
             "%s"
             "zones:\n"
             "  - origin: pool.test\n"
             "    master: %s/pool.test.zone\n"
             "    snapshot: %s/snap.json\n"
             "%s"
             "  - origin: other.test\n"
             "    master: %s/other.test.zone\n"
             "    snapshot: %s/other.json\n",
             head, dir, dir, extra, dir, dir);
    if (cfg_load_buffer(cfg, "test.yaml", text, strlen(text), err, sizeof err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
}

static uint64_t serial_at(const srv_data_t *d, size_t i)
{
    return d->origins[i].pool ? zone_pool_snapshot(d->origins[i].pool)->serial : 0;
}

static uint64_t serial_of(const srv_data_t *d)
{
    return serial_at(d, 0);
}

/* A pool as a push builds it. */
static zone_pool_t *pool_of(unsigned serial)
{
    char buf[512];
    zone_snapshot_t *s = NULL;
    zone_errors_t errs;
    zone_pool_params_t params = {.min_score = 10, .full_score = 15};
    zone_errors_init(&errs);
    snapshot(serial, buf, sizeof buf);
    if (zone_snapshot_parse("push", buf, strlen(buf), &s, &errs) != 0) {
        zone_errors_print(&errs, stderr);
        exit(1);
    }
    zone_errors_deinit(&errs);
    zone_pool_t *p = zone_pool_new(s, &params);
    if (!p)
        exit(1);
    return p;
}

/* Entries of `sub` (under dir) whose name contains `part`. */
static int count_named(const char *sub, const char *part)
{
    DIR *dp = opendir(path_of(sub));
    int n = 0;
    if (!dp)
        return -1;
    for (struct dirent *e; (e = readdir(dp));)
        n += strstr(e->d_name, part) != NULL;
    closedir(dp);
    return n;
}

static char *read_file(const char *name, char *buf, size_t len)
{
    FILE *f = fopen(path_of(name), "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static srv_data_t *build(const cfg_t *cfg)
{
    char err[CFG_ERR_MAX];
    srv_data_t *d = srv_data_new(cfg, err, sizeof err);
    if (!d) {
        fprintf(stderr, "srv_data_new: %s\n", err);
        exit(1);
    }
    return d;
}

static void test_load(void)
{
    char buf[512], err[1024] = "";
    zone_snapshot_t *s = NULL;
    CHECK_INT_EQ(srv_state_load(path_of("none.json"), &s, err, sizeof err),
                 SRV_STATE_NONE);
    CHECK(s == NULL);
    write_file("ok.json", snapshot(9, buf, sizeof buf));
    CHECK_INT_EQ(srv_state_load(path_of("ok.json"), &s, err, sizeof err), SRV_STATE_OK);
    CHECK(s && s->serial == 9);
    zone_snapshot_free(s);
    write_file("bad.json", "{\"serial\": 1, \"servers\": [}\n");
    CHECK_INT_EQ(srv_state_load(path_of("bad.json"), &s, err, sizeof err),
                 SRV_STATE_REFUSED);
    CHECK(s == NULL);
    CHECK_STR_HAS(err, "bad.json:1:");
    CHECK_STR_HAS(err, "(1 error)");
    CHECK(mkdir(path_of("adir.json"), 0755) == 0);
    CHECK_INT_EQ(srv_state_load(path_of("adir.json"), &s, err, sizeof err),
                 SRV_STATE_REFUSED);
    CHECK_STR_HAS(err, "adir.json: is a directory");
}

static void test_state_wins_and_reload_keeps_pushes(void)
{
    char buf[512];
    cfg_t cfg;
    load_cfg(&cfg);
    /* Seed: no state, the snapshot file (serial 30) is served. */
    write_file("snap.json", snapshot(30, buf, sizeof buf));
    srv_data_t *d = build(&cfg);
    CHECK_INT_EQ(serial_of(d), 30);
    CHECK_INT_EQ(d->origins[0].src, SRV_SRC_CONFIG);
    CHECK_INT_EQ(d->origins[0].state, SRV_STATE_NONE);

    /* A push of an older serial is served by a reload: from the state file
     * when it is there, kept from the running data when it is not. */
    char err[256];
    const char *old = snapshot(20, buf, sizeof buf);
    CHECK_INT_EQ(srv_data_persist(&cfg, "pool.test", old, strlen(old), err, sizeof err),
                 1);
    srv_data_t *n = build(&cfg);
    CHECK_INT_EQ(serial_of(n), 20);
    CHECK_INT_EQ(n->origins[0].src, SRV_SRC_STATE);
    CHECK(srv_data_keep_newer(n, d) == 0);
    CHECK_INT_EQ(serial_of(n), 20);
    srv_data_free(d);
    d = n;
    unlink(path_of("state/pool.test.snapshot.json"));
    n = build(&cfg);
    CHECK_INT_EQ(serial_of(n), 30);
    CHECK(srv_data_keep_newer(n, d) == 0);
    CHECK_INT_EQ(serial_of(n), 20);
    CHECK_INT_EQ(n->origins[0].src, SRV_SRC_STATE);
    CHECK_STR_HAS(n->origins[0].note, "kept from the running data");
    srv_data_free(d);
    d = n;

    /* A corrupt state file: refused, counted (across the reload), described,
     * and set aside; the running push stays. */
    write_file("state/pool.test.snapshot.json", "{\"serial\": ");
    n = build(&cfg);
    CHECK_INT_EQ(n->origins[0].state, SRV_STATE_REFUSED);
    CHECK_INT_EQ(n->origins[0].state_errors, 1);
    srv_data_state_set_aside(&cfg, n);
    CHECK(!exists("state/pool.test.snapshot.json"));
    CHECK_STR_HAS(n->origins[0].state_err, "; moved aside to ");
    CHECK_STR_HAS(n->origins[0].state_err, "pool.test.snapshot.json.corrupt-");
    CHECK(srv_data_keep_newer(n, d) == 0);
    CHECK_INT_EQ(serial_of(n), 20);
    char line[2048];
    CHECK(srv_origin_describe(&n->origins[0], line, sizeof line));
    CHECK_STR_HAS(line, "pool.test: state file refused: ");
    CHECK_STR_HAS(line, "serving instead: serial 20 kept from the running data");
    srv_data_free(d);
    d = n;
    n = build(&cfg); /* moved aside: nothing more to refuse */
    CHECK_INT_EQ(n->origins[0].state, SRV_STATE_NONE);
    CHECK(srv_data_keep_newer(n, d) == 0);
    CHECK_INT_EQ(n->origins[0].state_errors, 1);
    CHECK(!srv_origin_describe(&n->origins[0], line, sizeof line));
    srv_data_free(d);
    srv_data_free(n);
    cfg_deinit(&cfg);
}

/* A push: origin i gets the new pool, everything else is shared with the
 * running data, which stays as it was; either can be freed first. */
static void test_with_pool(void)
{
    char buf[512];
    cfg_t cfg;
    load_cfg_two(&cfg, "", "");
    write_file("snap.json", snapshot(30, buf, sizeof buf));
    write_file("other.json", snapshot(40, buf, sizeof buf));
    srv_data_t *d = build(&cfg);
    CHECK_INT_EQ(d->n_origins, 2);
    CHECK_INT_EQ(srv_data_origin_index(d, "OTHER.test."), 1);
    CHECK_INT_EQ(srv_data_origin_index(d, ""), 0);
    CHECK_INT_EQ(srv_data_origin_index(d, "nope.test"), -1);

    zone_pool_t *p = pool_of(41);
    srv_data_t *n = srv_data_with_pool(d, 1, p);
    CHECK(n != NULL);
    CHECK(n->origins != d->origins);
    CHECK(n->origins[1].pool == p);
    CHECK_INT_EQ(n->origins[1].src, SRV_SRC_PUSH);
    CHECK_STR_EQ(n->origins[1].note, "other.test: serial 41 pushed (1 servers)");
    CHECK(n->origins[1].stat == d->origins[1].stat);
    CHECK(n->origins[0].pool == d->origins[0].pool);
    CHECK(n->origins[0].stat == d->origins[0].stat);
    CHECK_INT_EQ(n->origins[0].src, SRV_SRC_CONFIG);
    CHECK(n->geo == d->geo);
    CHECK_INT_EQ(n->identity_len, d->identity_len);
    /* The running data is unchanged. */
    CHECK_INT_EQ(serial_at(d, 1), 40);
    CHECK_INT_EQ(d->origins[1].src, SRV_SRC_CONFIG);
    CHECK_STR_HAS(d->origins[1].note, "other.json");

    /* A second push on the derived data; then the oldest goes first and the
     * shared parts live on (ASan would report a use after free or a leak). */
    srv_data_t *n2 = srv_data_with_pool(n, 0, pool_of(31));
    CHECK(n2 != NULL);
    CHECK_INT_EQ(serial_at(n2, 0), 31);
    CHECK(n2->origins[1].pool == p);
    srv_data_free(d);
    CHECK_INT_EQ(serial_at(n, 0), 30);
    CHECK_INT_EQ(serial_at(n, 1), 41);
    srv_data_free(n);
    CHECK_INT_EQ(serial_at(n2, 0), 31);
    CHECK_INT_EQ(serial_at(n2, 1), 41);
    srv_data_free(n2);
    cfg_deinit(&cfg);
}

/* What a reload keeps without a state_dir (srv_data_keep_newer). */
static void test_keep_newer_rules(void)
{
    char buf[512];
    cfg_t cfg, scored;
    load_cfg_two(&cfg, "", "");
    load_cfg_two(&scored, "", "    min_score: 5\n");
    write_file("snap.json", snapshot(30, buf, sizeof buf));
    write_file("other.json", snapshot(40, buf, sizeof buf));
    srv_data_t *cur = build(&cfg);

    /* Snapshot files against snapshot files: the newer serial is served. */
    write_file("snap.json", snapshot(25, buf, sizeof buf));
    write_file("other.json", snapshot(45, buf, sizeof buf));
    srv_data_t *n = build(&cfg);
    CHECK(srv_data_keep_newer(n, cur) == 0);
    CHECK_INT_EQ(serial_at(n, 0), 30);
    CHECK(n->origins[0].pool == cur->origins[0].pool); /* same scores: shared */
    CHECK_INT_EQ(n->origins[0].src, SRV_SRC_CONFIG);
    CHECK_STR_EQ(n->origins[0].note, "pool.test: serial 30 kept from the running data");
    CHECK_INT_EQ(serial_at(n, 1), 45);
    CHECK(n->origins[1].pool != cur->origins[1].pool);
    srv_data_free(n);

    /* A push stays whatever the files hold, until another push. */
    srv_data_t *pushed = srv_data_with_pool(cur, 0, pool_of(7));
    write_file("snap.json", snapshot(99, buf, sizeof buf));
    n = build(&cfg);
    CHECK(srv_data_keep_newer(n, pushed) == 0);
    CHECK_INT_EQ(serial_at(n, 0), 7);
    CHECK_INT_EQ(n->origins[0].src, SRV_SRC_PUSH);
    CHECK_STR_HAS(n->origins[0].note, "serial 7 kept from the running data (pushed; ");
    srv_data_free(n);

    /* New scores: the kept pool is rebuilt from a copy of its snapshot, and
     * the running data's pool is left alone. */
    n = build(&scored);
    CHECK(srv_data_keep_newer(n, pushed) == 0);
    CHECK_INT_EQ(serial_at(n, 0), 7);
    CHECK(n->origins[0].pool != pushed->origins[0].pool);
    CHECK(n->origins[0].params.min_score == 5);
    CHECK(zone_pool_snapshot(n->origins[0].pool) !=
          zone_pool_snapshot(pushed->origins[0].pool));
    srv_data_free(pushed);
    CHECK_INT_EQ(serial_at(n, 0), 7);
    srv_data_free(n);

    /* Nothing running to keep: a zone without a snapshot, or one the running
     * data does not serve, takes what the files give. */
    unlink(path_of("snap.json"));
    srv_data_t *empty = build(&cfg);
    CHECK(empty->origins[0].pool == NULL);
    CHECK_INT_EQ(empty->origins[0].src, SRV_SRC_NONE);
    write_file("snap.json", snapshot(3, buf, sizeof buf));
    n = build(&cfg);
    CHECK(srv_data_keep_newer(n, empty) == 0);
    CHECK_INT_EQ(serial_at(n, 0), 3);
    srv_data_free(empty);
    cfg_t one;
    load_cfg(&one);
    srv_data_t *single = build(&one);
    CHECK(srv_data_keep_newer(n, single) == 0);
    CHECK_INT_EQ(serial_at(n, 1), 45); /* other.test: not in single */
    srv_data_free(single);
    srv_data_free(n);
    srv_data_free(cur);
    cfg_deinit(&one);
    cfg_deinit(&scored);
    cfg_deinit(&cfg);
}

/* Storing a push: the file reads back, a second store replaces it by rename
 * (a reader of the old file keeps the old bytes whole), no temporary file is
 * left, and failures say which file and why. */
static void test_persist(void)
{
    char err[1024] = "", buf[512], got[512];
    cfg_t cfg, none, missing;
    load_cfg(&cfg);
    load_cfg_two(&none, "", "");
    int entries = count_named("state", "");
    CHECK_INT_EQ(srv_data_persist(&none, "pool.test", "x", 1, err, sizeof err), 0);
    CHECK_INT_EQ(count_named("state", ""), entries); /* no state_dir: nothing written */

    const char *one = snapshot(50, buf, sizeof buf);
    CHECK_INT_EQ(srv_data_persist(&cfg, "pool.test", one, strlen(one), err, sizeof err),
                 1);
    CHECK_STR_EQ(read_file("state/pool.test.snapshot.json", got, sizeof got), one);
    zone_snapshot_t *s = NULL;
    CHECK_INT_EQ(
        srv_state_load(path_of("state/pool.test.snapshot.json"), &s, err, sizeof err),
        SRV_STATE_OK);
    CHECK(s && s->serial == 50);
    zone_snapshot_free(s);

    struct stat before, after;
    int fd = open(path_of("state/pool.test.snapshot.json"), O_RDONLY);
    CHECK(fd >= 0 && fstat(fd, &before) == 0);
    char two[512];
    snapshot(51, two, sizeof two);
    CHECK_INT_EQ(srv_data_persist(&cfg, "pool.test", two, strlen(two), err, sizeof err),
                 1);
    CHECK_STR_EQ(read_file("state/pool.test.snapshot.json", got, sizeof got), two);
    CHECK(stat(path_of("state/pool.test.snapshot.json"), &after) == 0);
    CHECK(after.st_ino != before.st_ino);
    ssize_t n = pread(fd, got, sizeof got - 1, 0);
    got[n > 0 ? n : 0] = '\0';
    CHECK_STR_EQ(got, one); /* the old file was never written in place */
    close(fd);
    CHECK_INT_EQ(count_named("state", ".tmp."), 0);

    /* The rename fails (a directory is in the way): -1, the temporary file
     * is removed, the directory untouched. */
    CHECK(mkdir(path_of("state/other.test.snapshot.json"), 0755) == 0);
    write_file("state/other.test.snapshot.json/keep", "");
    CHECK_INT_EQ(srv_data_persist(&cfg, "other.test", two, strlen(two), err, sizeof err),
                 -1);
    CHECK_STR_HAS(err, "rename ");
    CHECK_STR_HAS(err, "other.test.snapshot.json: ");
    CHECK_INT_EQ(count_named("state", ".tmp."), 0);
    CHECK(exists("state/other.test.snapshot.json/keep"));

    /* A state_dir that does not exist: -1 naming the file. */
    char head[600];
    snprintf(head, sizeof head, "state_dir: %s/no-such-dir\n", dir);
    load_cfg_two(&missing, head, "");
    CHECK_INT_EQ(
        srv_data_persist(&missing, "pool.test", two, strlen(two), err, sizeof err), -1);
    CHECK_STR_HAS(err, "no-such-dir/pool.test.snapshot.json.tmp.");
    CHECK_STR_HAS(err, "No such file or directory");
    cfg_deinit(&missing);
    cfg_deinit(&none);
    cfg_deinit(&cfg);
}

static void test_sweep(void)
{
    char err[256];
    cfg_t cfg;
    srv_state_sweep_t sw;
    load_cfg(&cfg);
    write_file("state/pool.test.snapshot.json.tmp.999999991", "{\"serial\"");
    write_file("state/other.snapshot.json.tmp.999999992", "");
    write_file("state/pool.test.snapshot.json.tmp.12a", "");
    write_file("state/pool.test.snapshot.json", "{}");
    write_file("state/notes.tmp.999999993", "");
    CHECK(mkdir(path_of("state/d.snapshot.json.tmp.999999994"), 0755) == 0);
    CHECK(symlink(path_of("snap.json"), path_of("state/l.snapshot.json.tmp.999999995")) ==
          0);
    /* Our own pid is no write under way at start; the parent's is alive. */
    char own[64], parent[64];
    snprintf(own, sizeof own, "state/pool.test.snapshot.json.tmp.%ld", (long)getpid());
    snprintf(parent, sizeof parent, "state/pool.test.snapshot.json.tmp.%ld",
             (long)getppid());
    write_file(own, "{");
    write_file(parent, "{");
    CHECK_INT_EQ(srv_state_sweep(&cfg, &sw, err, sizeof err), 0);
    CHECK_INT_EQ(sw.removed, 3);
    CHECK_INT_EQ(sw.busy, 1);
    CHECK(!exists(own));
    CHECK(exists(parent));
    CHECK_STR_HAS(sw.busy_names, parent + strlen("state/"));
    CHECK_INT_EQ(sw.failed, 0);
    CHECK_INT_EQ(sw.bytes, 10);
    CHECK_STR_HAS(sw.names, "pool.test.snapshot.json.tmp.999999991");
    CHECK_STR_HAS(sw.names, "other.snapshot.json.tmp.999999992");
    CHECK(!exists("state/pool.test.snapshot.json.tmp.999999991"));
    CHECK(!exists("state/other.snapshot.json.tmp.999999992"));
    CHECK(exists("state/pool.test.snapshot.json.tmp.12a"));
    CHECK(exists("state/pool.test.snapshot.json"));
    CHECK(exists("state/notes.tmp.999999993"));
    CHECK(exists("state/d.snapshot.json.tmp.999999994"));
    CHECK(exists("state/l.snapshot.json.tmp.999999995"));
    CHECK(exists("snap.json"));
    CHECK_INT_EQ(srv_state_temp_removed(), 3);
    CHECK_INT_EQ(srv_state_sweep(&cfg, &sw, err, sizeof err), 0);
    CHECK_INT_EQ(sw.removed, 0);
    cfg_deinit(&cfg);
}

int main(void)
{
    char cmd[600];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    write_file("pool.test.zone", "$ORIGIN pool.test.\n$TTL 3600\n"
                                 "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                                 "@ NS ns1\nns1 A 192.0.2.53\n");
    write_file("other.test.zone", "$ORIGIN other.test.\n$TTL 3600\n"
                                  "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                                  "@ NS ns1\nns1 A 192.0.2.54\n");
    CHECK(mkdir(path_of("state"), 0755) == 0);
    test_load();
    test_state_wins_and_reload_keeps_pushes();
    test_with_pool();
    test_keep_newer_rules();
    test_persist();
    test_sweep();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_state");
}
