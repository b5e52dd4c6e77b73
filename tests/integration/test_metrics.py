"""Prometheus metrics against the real dnsd: a scrape
before and after a known set of queries and pushes moves every counter by
exactly the expected amount and no other counter at all; other paths and
methods get 404/405/400/431; a slow or oversized request is cut off while
the daemon keeps answering."""

import os
import re
import socket
import subprocess
import time
import unittest

import dns.edns
import dns.message

from harness import (BINARY_DIR, ORIGIN, DnsdTestCase, free_port, header, http,
                     parse_metrics, query, recv_until_eof, tcp_connect, tcp_recv,
                     tcp_send, wire_name)
from pooltest import DE_SRC, POOL_SERIAL, PoolServer, pool_snapshot

DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")


class MetricsServer(PoolServer):
    """The pool server with metrics, control.unix and a state_dir."""

    def __init__(self):
        self.metrics_port = free_port(False)
        super().__init__(snapshot=pool_snapshot(), state={})

    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write('metrics: "127.0.0.1:%d"\ncontrol: {unix: %s}\n'
                    % (self.metrics_port, self.path("ctl.sock")))
        return path


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
    }
    # Move with the scrapes themselves, or are gauges checked on their own.
    IGNORED = ("dnsd_metrics_", "dnsd_zone_", "dnsd_tcp_connections_open",
               "dnsd_last_reload", "dnsd_start_time")

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


if __name__ == "__main__":
    unittest.main()
