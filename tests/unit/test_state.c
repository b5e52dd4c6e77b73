/*
 * test_state.c - the state directory in-process: reading a state file (valid,
 * missing, corrupt, a directory), the rule that pushed state wins over the
 * zone's snapshot file, what a reload keeps, setting a refused file aside, and
 * sweeping the temporary files of interrupted writes.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "data.h"

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

static uint64_t serial_of(const srv_data_t *d)
{
    return d->origins[0].pool ? zone_pool_snapshot(d->origins[0].pool)->serial : 0;
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
    CHECK(mkdir(path_of("state"), 0755) == 0);
    test_load();
    test_state_wins_and_reload_keeps_pushes();
    test_sweep();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_state");
}
