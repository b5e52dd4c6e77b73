"""Snapshots are strict JSON with usable addresses, against the real dnsd and
the real dnsdctl.

A deeply nested push ("[" x N) is refused within a bounded time while the
control thread keeps answering `dnsdctl status`; every lax form a YAML or
JavaScript reader would take (hex and "15." numbers, \\u0000 in strings and
keys, YAML block style, tags, UTF-16) and every unusable address class
(unspecified, loopback, link-local, multicast, broadcast, IPv4-mapped and
-compatible) is refused by dnsdctl's local check and, past it, by the daemon,
with line and column, counted, and the served serial unchanged. A push naming
the origin with a trailing dot or in another case reaches its zone. A config
nested past 32 levels is refused at once by --check and by a reload."""

import json
import subprocess
import threading
import time
import unittest

from harness import DNSD, ORIGIN, DnsdTestCase
from pooltest import server, snapshot_text
from test_control import ERR, PUSH, RawCtl, control_server, dnsdctl, served_serial, snapshot_for

# "[" x N "]" x N as the servers array: N = 150,000 is the 300 KB payload that
# took libyaml 52 s to refuse; N = 500,000 is a 1 MB payload.
NESTED_SIZES = (150000, 500000)
BOUND_S = 5.0  # generous: a regression check, not a benchmark


def nested(n, serial=1):
    return '{"serial":%d,"servers":[' % serial + "[" * n + "]" * n + "]}"


# (name, snapshot text, line:col, what the error says). Line 3 is the one
# server; the lax form replaces part of it.
LAX = [
    ("hex", '"netspeed": 0x10', "3:", 'invalid number "0x10"'),
    ("hexfloat", '"netspeed": 0x1p3', "3:", 'invalid number "0x1p3"'),
    ("trailing-dot", '"netspeed": 15.', "3:", 'invalid number "15."'),
    ("nul-string", '"netspeed": 1000, "zones": ["de\\u0000"]', "3:", "\\u0000 (NUL)"),
    ("nul-key", '"net\\u0000speed": 1000', "3:", "\\u0000 (NUL)"),
]


def lax_text(serial, replacement):
    good = snapshot_text(serial, [server("10.77.0.1", ["de"], netspeed=1000)])
    assert '"netspeed": 1000' in good
    return good.replace('"netspeed": 1000', replacement)


class StrictSnapshotTest(DnsdTestCase):

    @classmethod
    def make_server(cls):
        return control_server(tcp=False)

    def ctl(self, *args, **kw):
        return dnsdctl("-s", self.server.sock, *args, **kw)

    def stats(self):
        p = self.ctl("stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def push_ok(self, serial):
        path = self.server.write("ok-%d.json" % serial, snapshot_for(serial))
        p = self.ctl("push", path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def setUp(self):
        # A known serial served before each test, so "unchanged" means something.
        self.serial = int(time.time() * 1000) % 1000000000
        self.push_ok(self.serial)

    def assertUnchanged(self):
        self.assertEqual(served_serial(self.port), self.serial)

    def daemon_refuses(self, payload, where, what):
        """Pushes raw bytes past dnsdctl's check; the daemon answers ERR with
        the error at `where` (e.g. "3:") and counts it."""
        before = self.stats()["control"]["push_refused"]
        with RawCtl(self.server.sock, timeout=30) as c:
            o = ORIGIN.encode()
            ftype, rep = c.request(PUSH, bytes([0, len(o)]) + o + payload)
        self.assertEqual(ftype, ERR, rep)
        self.assertEqual(rep["error"], "invalid snapshot")
        self.assertTrue(any(d.startswith("snapshot:" + where) and what in d
                            for d in rep["details"]), rep["details"])
        self.assertEqual(self.stats()["control"]["push_refused"], before + 1)
        self.assertUnchanged()
        return rep

    def dnsdctl_refuses(self, name, data, where, what):
        path = self.server.path(name)
        with open(path, "wb") as f:
            f.write(data)
        for verb in ("check", "push"):
            p = self.ctl(verb, path)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("%s:%s" % (path, where), p.stderr)
            self.assertIn(what, p.stderr)
        self.assertUnchanged()

    def test_deeply_nested_push_refused_in_bounded_time_status_answers(self):
        for n in NESTED_SIZES:
            payload = nested(n, self.serial + 1).encode()
            done, result = threading.Event(), {}

            def push():
                t0 = time.monotonic()
                try:
                    with RawCtl(self.server.sock, timeout=60) as c:
                        o = ORIGIN.encode()
                        result["reply"] = c.request(PUSH, bytes([0, len(o)]) + o + payload)
                except Exception as e:  # reported by the main thread
                    result["error"] = e
                result["seconds"] = time.monotonic() - t0
                done.set()

            t = threading.Thread(target=push, daemon=True)
            t.start()
            # The control thread answers status while (or right after) it refuses.
            statuses = 0
            deadline = time.monotonic() + BOUND_S
            while time.monotonic() < deadline and (statuses < 3 or not done.is_set()):
                p = self.ctl("-t", "2", "status", timeout=10)
                self.assertEqual(p.returncode, 0, "status failed during the push: " + p.stderr)
                statuses += 1
            self.assertTrue(done.wait(60 - BOUND_S), "no reply to the nested push")
            t.join()
            self.assertNotIn("error", result)
            self.assertLess(result["seconds"], BOUND_S, "%d brackets took %.1f s to refuse"
                            % (n, result["seconds"]))
            ftype, rep = result["reply"]
            self.assertEqual(ftype, ERR, rep)
            # Refused where the 33rd level opens: the 31st bracket inside "servers".
            col = len(nested(0, self.serial + 1)) - 2 + 31
            self.assertIn("snapshot:1:%d: (document): syntax error: nested deeper than 32 "
                          "levels" % col, rep["details"])
            self.assertUnchanged()
            # dnsdctl's local check gives the same verdict, as fast.
            t0 = time.monotonic()
            self.dnsdctl_refuses("nested-%d.json" % n, payload, "1:%d:" % col,
                                 "nested deeper than 32 levels")
            self.assertLess(time.monotonic() - t0, BOUND_S)

    def test_lax_json_forms_refused(self):
        for name, replacement, where, what in LAX:
            with self.subTest(name):
                text = lax_text(self.serial + 1, replacement).encode()
                self.daemon_refuses(text, where, what)
                self.dnsdctl_refuses(name + ".json", text, where, what)
        good = snapshot_for(self.serial + 1)
        others = [
            ("yaml-block", ("serial: %d\nservers:\n - ip: 10.77.0.1\n" % (self.serial + 1))
             .encode(), "1:1:", 'unquoted text "serial"'),
            ("yaml-tag", good.replace('{"serial": ', '{"serial": !!int ').encode(), "1:12:",
             "unexpected '!'"),
            ("utf-16le", good.encode("utf-16-le"), "1:1:", "UTF-16 or UTF-32"),
            ("utf-16-bom", good.encode("utf-16"), "1:1:", "UTF-16 or UTF-32"),
            ("utf-8-bom", b"\xef\xbb\xbf" + good.encode(), "1:1:", "byte order mark"),
        ]
        for name, data, where, what in others:
            with self.subTest(name):
                self.daemon_refuses(data, where, what)
                self.dnsdctl_refuses(name + ".json", data, where, what)

    def test_unusable_addresses_refused(self):
        cases = [("0.0.0.0", "unspecified"), ("255.255.255.255", "broadcast"),
                 ("127.0.0.1", "loopback"), ("::", "unspecified"), ("::1", "loopback"),
                 ("ff02::1", "multicast"), ("224.0.0.1", "multicast"),
                 ("169.254.0.1", "link-local"), ("fe80::1", "link-local"),
                 ("::ffff:10.0.0.1", "IPv4-mapped"), ("::10.0.0.1", "IPv4-compatible")]
        for ip, what in cases:
            with self.subTest(ip):
                text = snapshot_text(self.serial + 1, [server("10.0.0.1", ["de"]),
                                                       server(ip, ["de"])])
                self.daemon_refuses(text.encode(), "4:10:", "unusable address: " + what)
                self.dnsdctl_refuses("addr.json", text.encode(), "4:10:",
                                     "unusable address: " + what)

    def test_push_origin_trailing_dot_and_case(self):
        for i, zone in enumerate((ORIGIN + ".", ORIGIN.upper() + ".", ORIGIN.upper())):
            with self.subTest(zone):
                s = self.serial + 1 + i
                path = self.server.write("z-%d.json" % s, snapshot_for(s))
                p = self.ctl("push", path, "--zone", zone)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(served_serial(self.port), s)
        for zone in (ORIGIN + "..", "." + ORIGIN, "ntp.org."):
            with self.subTest(zone):
                path = self.server.write("z-bad.json", snapshot_for(self.serial + 10))
                p = self.ctl("push", path, "--zone", zone)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn("unknown origin", p.stderr)


class DeepConfigTest(DnsdTestCase):

    @classmethod
    def make_server(cls):
        return control_server(tcp=False, state=False)

    def test_nested_config_refused_by_check_and_reload_in_bounded_time(self):
        with open(self.server.config) as f:
            good = f.read()
        for n in NESTED_SIZES:
            deep = self.server.write("deep.yaml", good + "rrl: " + "[" * n + "]" * n + "\n")
            t0 = time.monotonic()
            p = subprocess.run([DNSD, "-c", deep, "--check"], capture_output=True, text=True,
                               timeout=60)
            self.assertLess(time.monotonic() - t0, BOUND_S)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("nested deeper than 32 levels", p.stderr)
            # The running daemon's reload refuses it too and keeps serving.
            with open(deep) as src, open(self.server.config, "w") as f:
                f.write(src.read())
            try:
                t0 = time.monotonic()
                p = dnsdctl("-s", self.server.sock, "reload", timeout=60)
                self.assertLess(time.monotonic() - t0, BOUND_S)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn("nested deeper than 32 levels", p.stdout + p.stderr)
            finally:
                with open(self.server.config, "w") as f:
                    f.write(good)
            p = dnsdctl("-s", self.server.sock, "status")
            self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
