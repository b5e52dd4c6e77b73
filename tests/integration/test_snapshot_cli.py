"""Snapshots at start-up and on the command line: without
a valid snapshot dnsd still starts, serves its static records, answers pool
names NODATA (never SERVFAIL) and says so in its log; a state_dir snapshot (the
last push) is served whatever the zone's `snapshot` file holds; `dnsd
--check-snapshot FILE` prints counts per zone and family and the top-10 weight
share, or every error with line and column and exits 1."""

import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from harness import (DNSD, ORIGIN, POOL_ZONE, SANITIZER_RE, SOURCE_DIR, DnsdTestCase,
                     check_clean_exit)
from pooltest import (DE_SRC, Client, PoolServer, addrs, country_txt, pool_servers,
                      pool_snapshot, server, snapshot_text)

STATE_NAME = ORIGIN + ".snapshot.json"  # <state_dir>/<origin>.snapshot.json
POOL_NAMES = [(ORIGIN, "A"), ("0." + ORIGIN, "A"), ("3." + ORIGIN, "A"),
              ("2." + ORIGIN, "AAAA"), ("de." + ORIGIN, "A"), ("1.de." + ORIGIN, "A"),
              ("europe." + ORIGIN, "A"), ("uk." + ORIGIN, "A"), ("gb." + ORIGIN, "A")]

# A snapshot with six errors, one per server line (server i is on line 3 + i):
# (server, key, the value as written, what the message says)
BAD_SERVERS = [
    ({"ip": "192.0.2.1"}, None, None, None),
    ({"ip": "192.0.2.300"}, "ip", '"192.0.2.300"', "not an IPv4 or IPv6 address"),
    ({"ip": "192.0.2.1"}, "ip", '"192.0.2.1"', "duplicate of servers[0] at line 3"),
    ({"ip": "192.0.2.4", "score": 25}, "score", "25", "outside [-100, 20]"),
    ({"ip": "192.0.2.5", "netspeed": -5}, "netspeed", "-5", "negative"),
    ({"ip": "192.0.2.6", "zones": ["de", "xx"]}, "zones[1]", '"xx"', "unknown zone"),
    ({"ip": "192.0.2.7", "netspeed": "fast"}, "netspeed", '"fast"',
     "wrong type: expected a number"),
]


def bad_snapshot():
    """(text, [(line, col, message part)]) with 1-based line and column of
    each offending value."""
    servers, expect = [], []
    for fields, _, _, _ in BAD_SERVERS:
        servers.append(server(fields["ip"], fields.get("zones", ["de", "europe"]),
                              fields.get("score", 20.0), fields.get("netspeed", 1000)))
    text = snapshot_text(3, servers)
    lines = text.split("\n")
    for i, (fields, key, value, what) in enumerate(BAD_SERVERS):
        if key is None:
            continue
        line = lines[2 + i]
        json_key = '"%s": ' % key.split("[")[0]
        col = line.index(value, line.index(json_key) + len(json_key)) + 1
        expect.append((3 + i, col, "servers[%d].%s: %s" % (i, key, what)))
    return text, expect


def run_check(*args):
    p = subprocess.run([DNSD] + list(args), capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if SANITIZER_RE.search(p.stderr):
        raise AssertionError("sanitizer report:\n" + p.stderr)
    return p


def counts(report):
    """{zone: (v4 "e/t", v6 "e/t")} from --check-snapshot's table."""
    return {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"^(\S+)\s+(\d+/\d+)\s+(\d+/\d+)$", report, re.M)}


class PoolCase(DnsdTestCase):

    server_kw = {}

    @classmethod
    def make_server(cls):
        return PoolServer(**cls.server_kw)

    def diagnose(self):
        with Client(self.port, DE_SRC) as c:
            _, msg = c.ask("_country." + ORIGIN, "TXT")
        self.assertRcode(msg, "NOERROR")
        return country_txt(msg)

    def de_answers(self, n=30):
        seen = set()
        with Client(self.port, DE_SRC) as c:
            for _ in range(n):
                _, msg = c.ask(ORIGIN)
                self.assertRcode(msg, "NOERROR")
                seen |= set(addrs(msg))
        return seen


class NoSnapshotMixin:
    """Start-up without a valid snapshot: static records, pool NODATA."""

    def test_static_records_still_served(self):
        _, msg = self.ask(ORIGIN, "SOA")
        self.assertRcode(msg, "NOERROR")
        self.assertEqual(len(msg.answer), 1)
        _, msg = self.ask(ORIGIN, "NS")
        self.assertEqual(self.rdatas(msg, ORIGIN, "NS"),
                         ["ns1.pool.ntp.org.", "ns2.example.net."])
        _, msg = self.ask("www." + ORIGIN, "A")
        self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "A"), ["192.0.2.80"])

    def test_pool_names_are_nodata_never_servfail(self):
        with Client(self.port, DE_SRC) as c:
            for _ in range(5):
                for name, rdtype in POOL_NAMES:
                    with self.subTest(name=name, rdtype=rdtype):
                        _, msg = c.ask(name, rdtype)
                        self.assertNegative(msg, "NOERROR")
        txt = self.diagnose()
        self.assertEqual((txt["country"], txt["zone"], txt["serial"]), ("DE", "none", "none"))

    def test_log_says_so(self):
        # Workers answer before the main thread logs "ready": wait for it.
        deadline = time.monotonic() + 5
        while "ready: 2 workers" not in self.server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = self.server.log()
        self.assertRegex(log, r"warn: pool\.ntp\.org: no valid snapshot.*"
                         r"pool names answer NODATA")
        self.assertIn(self.why, log)
        self.assertIn("ready: 2 workers", log)


class MissingSnapshotTest(NoSnapshotMixin, PoolCase):
    server_kw = {"options": {"snapshot": "missing.json"}}
    why = "missing.json: cannot read: No such file or directory"


class InvalidSnapshotTest(NoSnapshotMixin, PoolCase):
    server_kw = {"snapshot": bad_snapshot()[0]}
    # The first error, with its position, and the count.
    why = "snapshot.json:4:%d: servers[1].ip: not an IPv4 or IPv6 address" % (
        bad_snapshot()[1][0][1])

    def test_log_counts_the_errors(self):
        self.assertIn("(%d errors)" % len(bad_snapshot()[1]), self.server.log())


# --------------------------------------------------------------------------
# state_dir against the zone's snapshot file
# --------------------------------------------------------------------------

STATE_DE = ["10.49.5.%d" % i for i in range(1, 6)]   # only in the serial-5 state
FILE_DE = ["10.49.3.%d" % i for i in range(1, 6)]    # only in the snapshot file


def de_snapshot(serial, ips):
    return snapshot_text(serial, [server(ip, ["de", "europe"]) for ip in ips])


class StateDirTest(unittest.TestCase):

    def serve(self, file_serial, state_text):
        srv = PoolServer(de_snapshot(file_serial, FILE_DE),
                         state={STATE_NAME: state_text} if state_text else {})
        self.addCleanup(srv.kill)
        srv.start()
        with Client(srv.port, DE_SRC) as c:
            serial = country_txt(c.ask("_country." + ORIGIN, "TXT")[1])["serial"]
            seen = set().union(*(addrs(c.ask(ORIGIN)[1]) for _ in range(30)))
        log = srv.log()
        state_path = srv.path(os.path.join("state", STATE_NAME))
        check_clean_exit(*srv.stop())
        return serial, seen, log, state_path

    def test_newer_state_wins(self):
        serial, seen, log, state = self.serve(3, de_snapshot(5, STATE_DE))
        self.assertEqual((serial, seen), ("5", set(STATE_DE)))
        self.assertIn("serial 5 from %s" % state, log)

    def test_state_wins_over_a_newer_snapshot_file(self):
        # The state is the last push accepted, a forced rollback perhaps: the
        # snapshot file only seeds a node without one.
        serial, seen, log, state = self.serve(9, de_snapshot(5, STATE_DE))
        self.assertEqual((serial, seen), ("5", set(STATE_DE)))
        self.assertIn("serial 5 from %s" % state, log)

    def test_equal_serials_keep_the_state(self):
        serial, seen, _, _ = self.serve(5, de_snapshot(5, STATE_DE))
        self.assertEqual((serial, seen), ("5", set(STATE_DE)))

    def test_invalid_state_falls_back_to_the_file(self):
        serial, seen, log, state = self.serve(3, '{"serial": 7, "servers": [}\n')
        self.assertEqual((serial, seen), ("3", set(FILE_DE)))
        self.assertRegex(log, r"err: %s: state file refused: %s:1:\d+: .*; serving instead: "
                         r"serial 3 from " % (re.escape(ORIGIN), re.escape(state)))

    def test_empty_state_dir_uses_the_file(self):
        serial, seen, _, _ = self.serve(3, None)
        self.assertEqual((serial, seen), ("3", set(FILE_DE)))


# --------------------------------------------------------------------------
# dnsd --check-snapshot
# --------------------------------------------------------------------------

class CheckSnapshotTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="dnsd-snap-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_good_snapshot_counts_per_zone_and_family(self):
        p = run_check("--check-snapshot", self.write("good.json", pool_snapshot(77)))
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertIn("serial 77, %d servers" % len(pool_servers()), p.stdout)
        # pooltest.py: de has 16 + 3 ineligible IPv4 and 6 + 1 IPv6 servers,
        # lu 2 + 2, europe and '@' the sums; zones without servers are left out.
        self.assertEqual(counts(p.stdout), {
            "@": ("43/48", "8/9"), "europe": ("34/39", "6/7"), "asia": ("4/4", "0/0"),
            "north-america": ("5/5", "2/2"), "de": ("16/19", "6/7"), "fr": ("7/7", "0/0"),
            "jp": ("4/4", "0/0"), "lu": ("2/4", "0/0"), "uk": ("5/5", "0/0"),
            "us": ("5/5", "2/2")})

    def test_config_scores_apply(self):
        # min_score 0: the scores 5 and 9.9 in de become eligible (netspeed 0
        # and score -50 still not; the IPv6 server with score 0 does).
        snap = self.write("good.json", pool_snapshot())
        master = self.write("pool.zone", POOL_ZONE)
        config = self.write("dnsd.yaml", "zones:\n  - origin: %s\n    master: %s\n"
                            "    min_score: 0\n    full_score: 0\n" % (ORIGIN, master))
        p = run_check("-c", config, "--check-snapshot", snap)
        self.assertEqual(p.returncode, 0, p.stderr)
        c = counts(p.stdout)
        self.assertEqual((c["de"], c["lu"]), (("18/19", "7/7"), ("2/4", "0/0")))

    def test_top_ten_share(self):
        # Netspeeds 1000..12000 at full score: the top ten (3000..12000) hold
        # 75/78 = 96.2% of the weight, the largest 12/78 = 15.38%.
        servers = [server("192.0.2.%d" % i, ["de"], 20.0, 1000 * i) for i in range(1, 13)]
        p = run_check("--check-snapshot", self.write("top.json", snapshot_text(1, servers)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("top 10 servers of @ hold 96.2% of the weight", p.stdout)
        rows = re.findall(r"^\s+(\S+)\s+score\s+20\.0\s+netspeed\s+(\d+)\s+([\d.]+)%$",
                          p.stdout, re.M)
        self.assertEqual([r[0] for r in rows], ["192.0.2.%d" % i for i in range(12, 2, -1)])
        self.assertEqual(rows[0][2], "15.38")

    def test_bad_snapshot_lists_every_error_with_line_and_column(self):
        text, expect = bad_snapshot()
        path = self.write("bad.json", text)
        p = run_check("--check-snapshot", path)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(lines[-1], "%s: rejected, %d errors" % (path, len(expect)))
        got = []
        for line in lines[:-1]:
            m = re.match(re.escape(path) + r":(\d+):(\d+): (.*)$", line)
            self.assertIsNotNone(m, "no line:col in %r" % line)
            got.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        self.assertEqual(sorted(g[:2] for g in got), sorted(e[:2] for e in expect))
        for line, col, what in expect:
            msg = [g[2] for g in got if g[:2] == (line, col)][0]
            self.assertTrue(msg.startswith(what), "%d:%d: %r lacks %r" % (line, col, msg, what))

    def test_unreadable_and_unparsable_files(self):
        p = run_check("--check-snapshot", os.path.join(self.tmp.name, "none.json"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("none.json: cannot read", p.stderr)
        path = self.write("syntax.json", '{"serial": 1,\n "servers": [\n  {"ip": ]}\n')
        p = run_check("--check-snapshot", path)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"^%s:3:\d+: " % re.escape(path))
        # Missing serial and missing keys, by position too.
        path = self.write("keys.json", '{"servers": [\n  {"ip": "192.0.2.1", "zones": []}\n]}\n')
        p = run_check("--check-snapshot", path)
        self.assertEqual(p.returncode, 1)
        for needed in (r":1:1: serial: missing key \"serial\"",
                       r":2:3: servers\[0\]: missing key \"score\"",
                       r":2:3: servers\[0\]: missing key \"netspeed\""):
            self.assertRegex(p.stderr, re.escape(path) + needed)

    def test_shipped_sample_snapshot_is_valid(self):
        sample = os.path.join(SOURCE_DIR, "config", "sample-snapshot.json")
        p = run_check("--check-snapshot", sample)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(sample) as f:
            data = json.load(f)
        self.assertIn("serial %d, %d servers" % (data["serial"], len(data["servers"])),
                      p.stdout)


if __name__ == "__main__":
    unittest.main()
