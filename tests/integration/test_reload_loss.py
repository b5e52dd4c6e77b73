"""Zero loss under reload: dnsperf sends a steady 2000
queries/s for 13 s while 20 snapshots are pushed (one every 0.5 s from 1 s on, each a
different server set) and the config is reloaded 4 times; not one query may
be lost or answered with anything but NOERROR. Runs under ASan too (ctest of
the -DDNSD_SANITIZE=ON build)."""

import json
import re
import subprocess
import time
import unittest

from harness import ORIGIN, check_clean_exit
from pooltest import server, snapshot_text
from test_control import control_server, dnsdctl, served_serial

QPS, SECONDS, PUSHES, PUSH_EVERY_S = 2000, 13, 20, 0.5

# Every name gives NOERROR with data: the answer would show any SERVFAIL,
# NXDOMAIN or NODATA (pool empty) caused by a swap in progress.
QUERIES = [("de." + ORIGIN, "A"), (ORIGIN, "A"), ("0." + ORIGIN, "A"),
           ("2." + ORIGIN, "AAAA"), ("europe." + ORIGIN, "A"), ("1.de." + ORIGIN, "A"),
           ("_country." + ORIGIN, "TXT"), (ORIGIN, "SOA"), (ORIGIN, "NS")]


def big_snapshot(serial, n=2000):
    """n servers in de/europe (1 in 5 IPv6), addresses varying with the serial."""
    out = []
    for i in range(n):
        if i % 5 == 0:
            ip = "2001:db8:%x::%x" % (serial & 0xFFFF, i + 1)
        else:
            ip = "10.%d.%d.%d" % (serial % 200, i // 250, i % 250 + 1)
        out.append(server(ip, ["de", "europe"], score=10 + (i % 11), netspeed=1000 + i))
    return snapshot_text(serial, out)


def dnsperf_counts(out):
    """(sent, completed, lost, {rcode: count}) from dnsperf's summary."""
    def num(label):
        m = re.search(r"%s:\s+(\d+)" % label, out)
        if not m:
            raise AssertionError("no '%s' in dnsperf output:\n%s" % (label, out))
        return int(m.group(1))
    m = re.search(r"Response codes:\s+(.*)", out)
    rcodes = {k: int(v) for k, v in re.findall(r"([A-Z]+) (\d+) \(", m.group(1))} if m else {}
    return num("Queries sent"), num("Queries completed"), num("Queries lost"), rcodes


class ReloadLossTest(unittest.TestCase):

    def test_no_query_lost_or_servfail_during_pushes_and_reloads(self):
        srv = control_server(tcp=False)
        self.addCleanup(srv.kill)
        srv.start()
        serial = 9_000_000
        p = dnsdctl("-s", srv.sock, "push", srv.write("s.json", big_snapshot(serial)))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        files = [srv.write("s%d.json" % k, big_snapshot(serial + 1 + k)) for k in range(PUSHES)]
        qfile = srv.write("queries.txt", "".join("%s %s\n" % q for q in QUERIES))
        perf = subprocess.Popen(
            ["dnsperf", "-s", "127.0.0.1", "-p", str(srv.port), "-d", qfile, "-l", str(SECONDS),
             "-Q", str(QPS), "-c", "4", "-t", "3"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: perf.poll() is None and perf.kill())
        start = time.monotonic()
        pushed = []
        for k in range(PUSHES):
            # On a fixed timeline from 1 s in (steady state first), so the
            # pushes stay within dnsperf's run however long each one takes.
            time.sleep(max(0.0, start + 1.0 + k * PUSH_EVERY_S - time.monotonic()))
            p = dnsdctl("-s", srv.sock, "push", files[k])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            pushed.append(serial + 1 + k)
            if k % 5 == 4:
                self.assertEqual(dnsdctl("-s", srv.sock, "reload").returncode, 0)
        self.assertIsNone(perf.poll(), "dnsperf ended before the pushes did")
        out, _ = perf.communicate(timeout=SECONDS + 30)
        self.assertEqual(perf.returncode, 0, out)
        sent, completed, lost, rcodes = dnsperf_counts(out)
        self.assertGreater(sent, QPS * (SECONDS - 2), out)
        self.assertEqual(lost, 0, out)
        self.assertEqual(completed, sent, out)
        self.assertEqual(rcodes, {"NOERROR": completed}, out)
        self.assertEqual(served_serial(srv.port), pushed[-1])
        stats = json.loads(dnsdctl("-s", srv.sock, "stats").stdout)
        self.assertEqual(stats["rcodes"]["SERVFAIL"], 0)
        self.assertEqual(stats["pool_empty"], 0)
        self.assertEqual(stats["control"]["push_ok"], PUSHES + 1)
        self.assertEqual(stats["control"]["reload_ok"], PUSHES // 5)
        check_clean_exit(*srv.stop())


if __name__ == "__main__":
    unittest.main()
