"""Prometheus metrics against the real dnsd: a scrape
before and after a known set of queries and pushes moves every counter by
exactly the expected amount and no other counter at all; other paths and
methods get 404/405/400/431; a slow or oversized request is cut off while
the daemon keeps answering. The push-duration histogram takes one
observation per push; a zone's snapshot timestamp is the time its push was
accepted, or after a restart the state or snapshot file's modification
time, and `dnsdctl status` shows the same."""

import calendar
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import dns.edns
import dns.message

from harness import (BINARY_DIR, ORIGIN, DnsdTestCase, MetricsControl, check_clean_exit, header,
                     http, parse_metrics, query, recv_until_eof, tcp_connect, tcp_recv,
                     tcp_send, wire_name)
from pooltest import DE_SRC, POOL_SERIAL, PoolServer, pool_snapshot

DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")


class MetricsServer(MetricsControl, PoolServer):
    """The pool server with metrics, control.unix and (state={}) a state_dir."""

    def __init__(self, snapshot=pool_snapshot(), state={}):
        super().__init__(snapshot=snapshot, state=state)


class MetricsTest(DnsdTestCase):

    @classmethod
    def make_server(cls):
        return MetricsServer()

    def scrape(self):
        r = http(self.server.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIsNotNone(r)
        status, head, body = r
        self.assertEqual(status, 200)
        self.assertIn("Content-Type: text/plain; version=0.0.4", head)
        self.assertIn("Content-Length: %d\r\n" % len(body), head + "\r\n")
        return parse_metrics(body.decode())

    def udp_once(self, wire, src="127.0.0.1"):
        """One datagram, one reply: no retry that could count twice."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            s.settimeout(3.0)
            s.sendto(wire, ("127.0.0.1", self.port))
            return s.recv(65535)

    def ctl(self, *args):
        return subprocess.run([DNSDCTL, "-s", self.server.path("ctl.sock")] + list(args),
                              capture_output=True, text=True, timeout=30)

    def run_workload(self):
        for i in range(10):  # A at the apex from a German source: zone de, no backfill
            msg = dns.message.from_wire(self.udp_once(query(ORIGIN, "A"), DE_SRC))
            self.assertEqual(len(msg.answer[0]), 4)
        for i in range(3):
            msg = dns.message.from_wire(self.udp_once(query("no-such-%d.%s" % (i, ORIGIN),
                                                            "TXT")))
            self.assertEqual(msg.rcode(), 3)
        formerr = header(0x4242, ar=1) + wire_name(ORIGIN) + b"\x00\x06\x00\x01"
        for i in range(2):  # ARCOUNT 1 without the record: FORMERR
            self.assertEqual(self.udp_once(formerr)[3] & 0xF, 1)
        q = dns.message.make_query(ORIGIN, "A", use_edns=0,
                                   options=[dns.edns.ECSOption("127.0.2.0", 24)])
        self.assertEqual(dns.message.from_wire(self.udp_once(q.to_wire())).rcode(), 0)
        with tcp_connect(self.port) as s:
            tcp_send(s, query(ORIGIN, "SOA"))
            self.assertIsNotNone(tcp_recv(s))
        snap = self.server.write("push.json", pool_snapshot(POOL_SERIAL + 1))
        p = self.ctl("push", snap)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        old = self.server.write("old.json", pool_snapshot(POOL_SERIAL))
        p = self.ctl("push", old)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)

    EXPECTED = {
        'dnsd_queries_total{transport="udp"}': 16,
        'dnsd_queries_total{transport="tcp"}': 1,
        'dnsd_queries_by_zone_total{zone="pool.ntp.org"}': 15,
        'dnsd_queries_by_zone_total{zone="none"}': 2,
        'dnsd_queries_by_qtype_total{qtype="A"}': 11,
        'dnsd_queries_by_qtype_total{qtype="TXT"}': 3,
        'dnsd_queries_by_qtype_total{qtype="SOA"}': 3,
        'dnsd_queries_ecs_total': 1,
        'dnsd_responses_total{rcode="NOERROR"}': 12,
        'dnsd_responses_total{rcode="NXDOMAIN"}': 3,
        'dnsd_responses_total{rcode="FORMERR"}': 2,
        'dnsd_pool_answers_total{zone="de",backfill="false"}': 11,
        'dnsd_packets_dropped_total{reason="malformed"}': 2,
        'dnsd_tcp_connections_total{event="accepted"}': 1,
        'dnsd_tcp_connections_total{event="closed"}': 1,
        'dnsd_control_pushes_total{result="accepted"}': 1,
        'dnsd_control_pushes_total{result="serial_not_newer"}': 1,
        'dnsd_control_requests_total{type="push"}': 2,
        'dnsd_control_connections_total{socket="unix"}': 2,
        # Every query of the workload comes without a DNS cookie.
        'dnsd_cookies_total{result="none"}': 17,
        'dnsd_control_push_duration_seconds_count{result="accepted"}': 1,
        'dnsd_control_push_duration_seconds_count{result="refused"}': 1,
    }
    # Move with the scrapes themselves, or are gauges or timings checked on
    # their own.
    IGNORED = ("dnsd_metrics_", "dnsd_zone_", "dnsd_tcp_connections_open",
               "dnsd_last_reload", "dnsd_start_time",
               "dnsd_control_push_duration_seconds_bucket",
               "dnsd_control_push_duration_seconds_sum")

    def test_counters_move_by_exactly_the_workload(self):
        before = self.scrape()
        self.assertEqual(before['dnsd_zone_serial{zone="pool.ntp.org"}'], POOL_SERIAL)
        self.assertEqual(before["dnsd_workers"], 2)
        self.assertEqual(before['dnsd_build_info{version="0.1.0"}'], 1)
        self.assertEqual(before["dnsd_last_reload_success"], 1)
        self.run_workload()
        deadline = time.monotonic() + 5
        while True:  # the TCP close is counted when the worker sees the EOF
            after = self.scrape()
            if after['dnsd_tcp_connections_total{event="closed"}'] > \
                    before['dnsd_tcp_connections_total{event="closed"}'] or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        moved = {k: after[k] - before.get(k, 0) for k in after
                 if after[k] != before.get(k, 0) and not k.startswith(self.IGNORED)}
        self.assertEqual(moved, self.EXPECTED)
        self.assertEqual(after['dnsd_zone_serial{zone="pool.ntp.org"}'], POOL_SERIAL + 1)
        self.assertEqual(after["dnsd_tcp_connections_open"], 0)
        total = after['dnsd_zone_servers{zone="pool.ntp.org",family="ipv4",state="all"}']
        elig = after['dnsd_zone_servers{zone="pool.ntp.org",family="ipv4",state="eligible"}']
        self.assertGreater(total, 0)
        self.assertLessEqual(elig, total)

    # How dnsdctl STATS and /metrics name each of the workers' counters: a
    # STATS group is one labelled family, a top-level key one sample.
    STATS_GROUPS = {
        "queries": ("dnsd_queries_total", "transport"),
        "dropped": ("dnsd_packets_dropped_total", "reason"),
        "tcp": ("dnsd_tcp_connections_total", "event"),
        "by_qtype": ("dnsd_queries_by_qtype_total", "qtype"),
        "cookies": ("dnsd_cookies_total", "result"),
        "tcp_limits": ("dnsd_tcp_limit_closed_total", "reason"),
        "by_zone": ("dnsd_queries_by_zone_total", "zone"),
        "balance_spilled": ("dnsd_balance_spilled_total", "zone"),
    }
    STATS_KEYS = {
        ("truncated",): "dnsd_responses_truncated_total",
        ("ecs",): "dnsd_queries_ecs_total",
        ("pool_empty",): "dnsd_pool_answers_empty_total",
        ("udp_send_errors",): 'dnsd_packets_dropped_total{reason="udp_send_error"}',
        ("dnstap_dropped",): "dnsd_dnstap_dropped_total",
        ("nts_answers",): "dnsd_nts_srv_answers_total",
        ("nts_empty",): "dnsd_nts_srv_answers_empty_total",
        ("rrl", "dropped"): "dnsd_rrl_dropped_total",
        ("rrl", "slipped"): "dnsd_rrl_slipped_total",
        ("rcodes", "NOERROR"): 'dnsd_responses_total{rcode="NOERROR"}',
        ("rcodes", "NXDOMAIN"): 'dnsd_responses_total{rcode="NXDOMAIN"}',
        ("rcodes", "REFUSED"): 'dnsd_responses_total{rcode="REFUSED"}',
        ("rcodes", "BADVERS"): 'dnsd_responses_total{rcode="BADVERS"}',
    }

    def stats(self):
        p = self.ctl("stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_stats_and_metrics_show_the_same_counters(self):
        for name, qtype in ((ORIGIN, "A"), ("no-such." + ORIGIN, "TXT"), (ORIGIN, "SOA")):
            self.udp_once(query(name, qtype), DE_SRC)
        with tcp_connect(self.port) as s:
            tcp_send(s, query(ORIGIN, "NS"))
            self.assertIsNotNone(tcp_recv(s))
        for _ in range(50):  # a TCP close may land between the two reads
            st, m, again = self.stats(), self.scrape(), self.stats()
            if {k: v for k, v in st.items() if k != "control"} == \
                    {k: v for k, v in again.items() if k != "control"}:
                break
            time.sleep(0.1)
        for group, (family, label) in self.STATS_GROUPS.items():
            samples = {k: v for k, v in m.items() if k.startswith(family + "{")}
            if family == "dnsd_packets_dropped_total":
                samples.pop('%s{reason="udp_send_error"}' % family)
            shown = {'%s{%s="%s"}' % (family, label, k): v for k, v in st[group].items()}
            self.assertEqual(shown, samples, group)
        for path, sample in self.STATS_KEYS.items():
            v = st
            for k in path:
                v = v[k]
            self.assertEqual(v, m[sample], path)
        self.assertGreater(st["queries"]["udp"], 0)

    def test_push_duration_histogram(self):
        """One observation per push, by result; the sum grows by the push's
        time: at least the build_ms of its reply, at most dnsdctl's wall time."""
        hist = "dnsd_control_push_duration_seconds"
        before = self.scrape()
        serial = int(before['dnsd_zone_serial{zone="%s"}' % ORIGIN]) + 1
        t0 = time.monotonic()
        p = self.ctl("push", self.server.write("hist.json", pool_snapshot(serial)))
        wall = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        build_s = float(re.search(r"built in ([0-9.]+) ms", p.stdout).group(1)) / 1000
        after = self.scrape()
        for result, n in (("accepted", 1), ("refused", 0)):
            key = '%s_count{result="%s"}' % (hist, result)
            self.assertEqual(after[key] - before[key], n, key)
        grew = (after['%s_sum{result="accepted"}' % hist]
                - before['%s_sum{result="accepted"}' % hist])
        self.assertGreater(grew, 0)
        self.assertGreaterEqual(grew, build_s - 0.0001)  # build_ms is printed to 0.1 ms
        self.assertLessEqual(grew, wall)
        # A refused push (serial not newer) is an observation of its own.
        p = self.ctl("push", self.server.write("stale.json", pool_snapshot(serial)))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        again = self.scrape()
        key = '%s_count{result="refused"}' % hist
        self.assertEqual(again[key] - after[key], 1)
        # Buckets: 1 ms .. 30 s, cumulative, +Inf equal to the count.
        for result in ("accepted", "refused"):
            buckets = sorted((float(m.group(1)), v) for k, v in again.items()
                             for m in [re.match(r'%s_bucket\{result="%s",le="([^"]+)"\}$'
                                                % (hist, result), k)] if m)
            bounds = [b for b, _ in buckets]
            self.assertEqual((bounds[0], bounds[-2], bounds[-1]), (0.001, 30, float("inf")))
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), result)
            self.assertEqual(counts[-1], again['%s_count{result="%s"}' % (hist, result)])
        # The accepted push landed in the first bucket at or above its time.
        for b in bounds[:-1]:
            key = '%s_bucket{result="accepted",le="%g"}' % (hist, b)
            self.assertEqual(again[key] - before[key], 1 if b >= grew else 0, key)

    def test_other_paths_methods_and_malformed_requests(self):
        port = self.server.metrics_port
        self.assertEqual(http(port, b"GET / HTTP/1.1\r\n\r\n")[0], 404)
        self.assertEqual(http(port, b"GET /metrics/x HTTP/1.0\r\n\r\n")[0], 404)
        status, head, _ = http(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(status, 405)
        self.assertIn("Allow: GET, HEAD", head)
        self.assertEqual(http(port, b"hello\r\n\r\n")[0], 400)
        self.assertEqual(http(port, b"GET /metrics HTTP/3\r\n\r\n")[0], 505)
        status, head, body = http(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        self.assertEqual((status, body), (200, b""))
        self.assertIn("Connection: close", head)

    def test_client_half_closing_after_its_request_gets_the_whole_page(self):
        with socket.create_connection(("127.0.0.1", self.server.metrics_port)) as s:
            s.settimeout(5)
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            data = recv_until_eof(s)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"))
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        self.assertEqual(len(body), length)
        self.assertIn(b"\ndnsd_workers 2\n", body)

    def test_oversized_request_is_refused_and_daemon_answers(self):
        port = self.server.metrics_port
        big = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n"
        self.assertEqual(http(port, big)[0], 431)
        self.assertEqual(dns.message.from_wire(self.udp_once(query(ORIGIN, "SOA"))).rcode(), 0)
        self.scrape()

    def test_slow_request_is_cut_off_and_daemon_answers(self):
        with socket.create_connection(("127.0.0.1", self.server.metrics_port)) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
            t0 = time.monotonic()
            s.settimeout(1.0)
            closed = False
            while time.monotonic() - t0 < 10 and not closed:
                # Keep trickling header bytes: the deadline counts from accept.
                try:
                    s.sendall(b"X: y\r\n")
                    closed = s.recv(100) == b""
                except socket.timeout:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
                # Meanwhile DNS and other scrapes are served.
                self.assertEqual(
                    dns.message.from_wire(self.udp_once(query(ORIGIN, "SOA"))).rcode(), 0)
            elapsed = time.monotonic() - t0
        self.assertTrue(closed, "a slow request was never cut off")
        self.assertGreater(elapsed, 4.0)
        self.assertLess(elapsed, 8.0)
        self.scrape()

    def test_slow_connections_filling_every_slot_do_not_keep_a_scraper_out(self):
        # 24 slowloris connections (more than the 16 slots), each trickling
        # its head; any that is closed is opened again at once, as a
        # determined attacker would. Scrapes in between must all get through.
        port = self.server.metrics_port
        before = self.scrape()
        slow = []

        def refill():
            for s in list(slow):
                try:
                    s.sendall(b"X")
                    s.settimeout(0)
                    if s.recv(100) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    continue
                except OSError:
                    slow.remove(s)
                    s.close()
            while len(slow) < 24:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(b"GET /metrics HTTP/1.1\r\n")
                slow.append(s)

        try:
            refill()
            time.sleep(0.2)
            ok = 0
            for _ in range(12):
                refill()
                try:
                    r = http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
                except OSError:
                    r = None  # reset: refused over the cap
                ok += r is not None and r[0] == 200
                time.sleep(0.1)
        finally:
            for s in slow:
                s.close()
        self.assertEqual(ok, 12, "scrapes refused while slow connections held the slots")
        after = self.scrape()
        key = 'dnsd_metrics_connections_total{event="evicted"}'
        self.assertGreaterEqual(after[key] - before.get(key, 0), 12)


SNAPSHOT_TIME = 'dnsd_zone_snapshot_timestamp_seconds{zone="%s"}' % ORIGIN
OLD = 1700000000.25  # 2023-11-14T22:13:20.25Z: a file far older than the test


class SnapshotTimeTest(unittest.TestCase):
    """dnsd_zone_snapshot_timestamp_seconds and status' snapshot_time: when
    this node accepted the snapshot it serves, across pushes, reloads and
    restarts."""

    def start(self, srv):
        self.addCleanup(srv.kill)
        return srv.start()

    def stop(self, srv):
        check_clean_exit(*srv.stop())

    def restart(self, srv, before_start=lambda: None):
        """SIGTERM (must exit 0), before_start(), the same config again."""
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(srv.proc.wait(timeout=10), 0, srv.log())
        srv.stderr.close()
        before_start()
        srv.start()

    def sighup(self, srv):
        done = srv.log().count("SIGHUP: reloaded")
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while srv.log().count("SIGHUP: reloaded") == done:
            self.assertLess(time.monotonic(), deadline, srv.log())
            time.sleep(0.05)

    def scrape(self, srv):
        status, _, body = http(srv.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    def ctl(self, srv, *args):
        p = subprocess.run([DNSDCTL, "-s", srv.path("ctl.sock")] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def push(self, srv, serial):
        """Pushes `serial`; returns the Unix times just before and after."""
        path = srv.write("push-%d.json" % serial, pool_snapshot(serial))
        t0 = time.time()
        self.ctl(srv, "push", path)
        return t0, time.time()

    def assertSnapshotTime(self, srv, lo, hi=None):
        """The metric lies in [lo, hi] (hi None: equals lo to the ms), and
        status says the same to the second, with an age that fits."""
        hi = lo if hi is None else hi
        got = self.scrape(srv)[SNAPSHOT_TIME]
        self.assertGreaterEqual(got, lo - 0.0015)
        self.assertLessEqual(got, hi + 0.0015)
        zone = json.loads(self.ctl(srv, "status"))["zones"][0]
        when = calendar.timegm(time.strptime(zone["snapshot_time"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(when, int(got), zone)
        self.assertAlmostEqual(zone["snapshot_age_s"], time.time() - got, delta=3)
        return got

    def test_configured_snapshot_file_time_at_start(self):
        """A snapshot loaded from the zone's snapshot: file dates from that
        file's modification time, not from the start."""
        srv = MetricsServer()
        os.utime(srv.path("snapshot.json"), (OLD, OLD))
        self.start(srv)
        self.assertSnapshotTime(srv, OLD)
        self.stop(srv)

    def test_push_time_then_state_file_time_after_restart(self):
        srv = MetricsServer(snapshot=None)
        self.start(srv)
        # No snapshot: no timestamp, and status says null.
        self.assertNotIn(SNAPSHOT_TIME, self.scrape(srv))
        zone = json.loads(self.ctl(srv, "status"))["zones"][0]
        self.assertEqual((zone["snapshot_time"], zone["snapshot_age_s"]), (None, None))
        t0, t1 = self.push(srv, POOL_SERIAL)
        pushed = self.assertSnapshotTime(srv, t0, t1)
        # A reload reads the state file written with the push: the same time.
        self.sighup(srv)
        self.assertAlmostEqual(self.scrape(srv)[SNAPSHOT_TIME], pushed, delta=1.0)
        # A restart must not make the snapshot look fresh: the state file's
        # modification time (set far back here) is what counts, and a reload
        # after it keeps that time.
        state = srv.path(os.path.join("state", ORIGIN + ".snapshot.json"))
        self.restart(srv, lambda: os.utime(state, (OLD, OLD)))
        self.assertSnapshotTime(srv, OLD)
        self.sighup(srv)
        self.assertSnapshotTime(srv, OLD)
        # The next push is fresh again.
        t0, t1 = self.push(srv, POOL_SERIAL + 1)
        self.assertSnapshotTime(srv, t0, t1)
        self.stop(srv)

    def test_reload_keeps_the_time_of_a_push_it_keeps(self):
        """Without a state_dir, a reload keeps the running push over the
        older configured file, and its time with it."""
        srv = MetricsServer(state=None)
        os.utime(srv.path("snapshot.json"), (OLD, OLD))
        self.start(srv)
        self.assertSnapshotTime(srv, OLD)
        t0, t1 = self.push(srv, POOL_SERIAL + 1)
        pushed = self.assertSnapshotTime(srv, t0, t1)
        self.sighup(srv)
        self.assertEqual(self.scrape(srv)[SNAPSHOT_TIME], pushed)
        self.stop(srv)

if __name__ == "__main__":
    unittest.main()
