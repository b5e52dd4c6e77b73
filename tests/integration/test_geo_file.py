"""The GeoIP database in use against what happens to its file, on the real dnsd.

dnsd works on a private copy of the database made when it opens it, so the
configured file may be truncated, shortened or filled with garbage in place (same
inode, as `: > file` or `cp` do) without a crash or a changed answer; a reload
(SIGHUP) checks a new file whole before using it, refuses a bad one (counted in
dnsd_geoip_reloads_refused_total) and keeps placing IPv4 and IPv6 clients with the
running database; a good file replaced by rename is picked up. Countries are read
from `_country` TXT with an ECS option, so one client asks for both families."""

import os
import signal
import time
import unittest

from harness import ORIGIN, check_clean_exit, free_port, http, parse_metrics
from pooltest import GEO_NETS, Client, PoolServer, country_txt, make_mmdb, pool_snapshot

# Padding networks make the database about 25 KB, so that its data records lie
# pages past the end of a shorter file copied over it: reading them through a
# mapping of the original file is a SIGBUS, not a read of zeros.
PAD_NETS = ["2001:db8:%x::/48=NL" % (0x1000 + i) for i in range(0, 4000, 2)]
V4_ECS = ("127.0.2.0", 24)         # DE in GEO_NETS
V6_ECS = ("2001:db8:de::", 48)     # DE in GEO_NETS
OTHER_NETS = ["127.0.2.0/24=FR", "2001:db8:de::/48=FR"]  # the same networks in FR
RELOAD_WAIT = 10.0


class GeoFileServer(PoolServer):
    """The pool server with metrics, on a GeoIP database with padding."""

    def __init__(self):
        self.metrics_port = free_port(False)
        super().__init__(snapshot=pool_snapshot(), nets=GEO_NETS + PAD_NETS)
        self.db = self.path("test.mmdb")

    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write('metrics: "127.0.0.1:%d"\n' % self.metrics_port)
        return path


def write_in_place(path, data):
    """Rewrites the file's bytes on its own inode, as `cp` or `: >` do."""
    ino = os.stat(path).st_ino
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)
    assert os.stat(path).st_ino == ino


class GeoFileTest(unittest.TestCase):

    def setUp(self):
        self.server = GeoFileServer()
        self.addCleanup(self.server.kill)
        self.server.start()
        self.db = self.server.db
        with open(self.db, "rb") as f:
            self.original = f.read()
        self.assertGreater(len(self.original), 20000)

    def tearDown(self):
        check_clean_exit(*self.server.stop())

    def country(self, ecs):
        with Client(self.server.port) as c:
            _, msg = c.ask("_country." + ORIGIN, "TXT", ecs=ecs)
        return country_txt(msg).get("country")

    def assertPlaced(self, cc):
        """Both families map to cc, and the daemon is still running."""
        self.assertEqual(self.country(V6_ECS), cc, "IPv6 client")
        self.assertEqual(self.country(V4_ECS), cc, "IPv4 client")
        self.assertIsNone(self.server.proc.poll(), self.server.log())

    def scrape(self):
        r = http(self.server.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIsNotNone(r)
        return parse_metrics(r[2].decode())

    def reload(self, result):
        """SIGHUP, then waits for the reload to be counted with `result`."""
        key = 'dnsd_reloads_total{result="%s"}' % result
        before = self.scrape()[key]
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_WAIT
        while time.monotonic() < deadline:
            m = self.scrape()
            if m[key] > before:
                return m
            time.sleep(0.05)
        self.fail("no %s reload within %.0f s:\n%s" % (result, RELOAD_WAIT, self.server.log()))

    def test_file_truncated_or_shortened_in_place(self):
        self.assertPlaced("DE")
        write_in_place(self.db, b"")                       # : > file
        self.assertPlaced("DE")
        shorter = make_mmdb(self.server.path("shorter.mmdb"), OTHER_NETS)
        with open(shorter, "rb") as f:
            data = f.read()
        self.assertLess(len(data), len(self.original) // 4)
        write_in_place(self.db, data)                      # cp shorter.mmdb file
        self.assertPlaced("DE")
        self.assertEqual(self.scrape()["dnsd_geoip_reloads_refused_total"], 0)

    def test_garbage_in_place_is_refused_on_reload(self):
        write_in_place(self.db, os.urandom(len(self.original)))
        self.assertPlaced("DE")
        m = self.reload("failed")
        self.assertEqual(m["dnsd_geoip_reloads_refused_total"], 1)
        self.assertPlaced("DE")
        self.assertIn("new GeoIP database refused", self.server.log())
        # Garbage that keeps the metadata at the end: libmaxminddb opens it, and
        # only the check of the whole search tree finds the damage.
        marker = self.original.rindex(b"\xab\xcd\xefMaxMind.com")
        cut = len(self.original) // 2
        self.assertGreater(marker, cut)
        write_in_place(self.db, b"\xff" * cut + self.original[cut:])
        m = self.reload("failed")
        self.assertEqual(m["dnsd_geoip_reloads_refused_total"], 2)
        self.assertIn("corrupt database", self.server.log())
        self.assertPlaced("DE")

    def test_valid_db_replaced_by_rename_is_picked_up(self):
        self.assertPlaced("DE")
        fresh = make_mmdb(self.server.path("fresh.mmdb"), OTHER_NETS + PAD_NETS)
        os.rename(fresh, self.db)
        m = self.reload("ok")
        self.assertEqual(m["dnsd_geoip_reloads_refused_total"], 0)
        self.assertPlaced("FR")


if __name__ == "__main__":
    unittest.main()
