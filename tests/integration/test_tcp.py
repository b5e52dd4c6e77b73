"""DNS over TCP (RFC 7766): length prefix, pipelining, split writes, idle
timeout and the connection cap (oldest idle connection closed first)."""

import socket
import struct
import time
import unittest

import dns.message
import dns.rcode

from harness import (BIG_TXT, ORIGIN, DnsdTestCase, qid_of, query, tcp_connect, tcp_recv,
                     tcp_send, wait_closed)


class TcpTest(DnsdTestCase):

    def test_pipelined_queries_on_one_connection(self):
        qs = [query(ORIGIN, "SOA", qid=0x1001), query("www." + ORIGIN, "A", qid=0x1002)]
        with tcp_connect(self.port) as s:
            s.sendall(b"".join(struct.pack("!H", len(q)) + q for q in qs))
            answers = {}
            for _ in qs:
                raw = tcp_recv(s)
                self.assertIsNotNone(raw, "connection closed before both answers")
                answers[qid_of(raw)] = dns.message.from_wire(raw)
        self.assertEqual(sorted(answers), [0x1001, 0x1002])
        self.assertEqual(self.rdatas(answers[0x1002], "www." + ORIGIN, "A"), ["192.0.2.80"])
        self.assertEqual(len(self.rrset(answers[0x1001], ORIGIN, "SOA")), 1)

    def test_many_pipelined_queries_mixed_answers(self):
        names = [("www", "A", "NOERROR"), ("nosuch", "A", "NXDOMAIN"), ("big", "TXT", "NOERROR"),
                 ("www", "MX", "NOERROR")] * 5
        qs = [query("%s.%s" % (n, ORIGIN), t, qid=0x2000 + i) for i, (n, t, _) in enumerate(names)]
        with tcp_connect(self.port) as s:
            s.sendall(b"".join(struct.pack("!H", len(q)) + q for q in qs))
            got = {}
            for _ in qs:
                raw = tcp_recv(s)
                self.assertIsNotNone(raw)
                got[qid_of(raw)] = dns.message.from_wire(raw)
        self.assertEqual(sorted(got), [0x2000 + i for i in range(len(qs))])
        for i, (n, t, rcode) in enumerate(names):
            msg = got[0x2000 + i]
            self.assertEqual(dns.rcode.to_text(msg.rcode()), rcode)
            if n == "big":
                self.assertEqual(len(self.rrset(msg, "big." + ORIGIN, "TXT")), len(BIG_TXT))

    def test_query_split_across_writes(self):
        q = query("www." + ORIGIN, "AAAA", qid=0x3003)
        wire = struct.pack("!H", len(q)) + q
        for cut in (1, 2, 7, len(wire) - 1):
            with self.subTest(cut=cut), tcp_connect(self.port) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(wire[:cut])
                time.sleep(0.2)
                s.sendall(wire[cut:])
                raw = tcp_recv(s)
                self.assertIsNotNone(raw)
                self.assertEqual(qid_of(raw), 0x3003)
                msg = dns.message.from_wire(raw)
                self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "AAAA"), ["2001:db8::80"])

    def test_connection_stays_open_for_sequential_queries(self):
        with tcp_connect(self.port) as s:
            for i in range(3):
                tcp_send(s, query(ORIGIN, "NS", qid=0x4000 + i))
                raw = tcp_recv(s)
                self.assertIsNotNone(raw, "closed after %d answers" % i)
                self.assertEqual(qid_of(raw), 0x4000 + i)

    def test_default_idle_timeout_keeps_connection_for_a_while(self):
        # Default idle timeout is 10 s: an idle connection survives 2 s.
        with tcp_connect(self.port) as s:
            self.assertIsNone(wait_closed(s, 2.0))
            tcp_send(s, query(ORIGIN, "SOA", qid=0x4100))
            self.assertEqual(qid_of(tcp_recv(s)), 0x4100)


class TcpIdleTimeoutTest(DnsdTestCase):
    server_args = {"workers": 1, "tcp": {"idle_timeout": 1}}

    def test_idle_connection_closed(self):
        with tcp_connect(self.port) as s:
            took = wait_closed(s, 5.0)
        self.assertIsNotNone(took, "idle connection not closed within 5 s")
        self.assertGreater(took, 0.5)
        self.assertLess(took, 3.0)

    def test_idle_after_an_answer_closed(self):
        with tcp_connect(self.port) as s:
            tcp_send(s, query(ORIGIN, "SOA", qid=0x5000))
            self.assertEqual(qid_of(tcp_recv(s)), 0x5000)
            took = wait_closed(s, 5.0)
        self.assertIsNotNone(took)
        self.assertLess(took, 3.0)

    def test_activity_resets_idle_timer(self):
        with tcp_connect(self.port) as s:
            for i in range(4):  # 4 x 0.6 s = 2.4 s, longer than the 1 s timeout
                time.sleep(0.6)
                tcp_send(s, query(ORIGIN, "SOA", qid=0x5100 + i))
                raw = tcp_recv(s)
                self.assertIsNotNone(raw, "closed although active (round %d)" % i)
                self.assertEqual(qid_of(raw), 0x5100 + i)


class TcpConnectionCapTest(DnsdTestCase):
    server_args = {"workers": 1, "tcp": {"max_connections": 2}}

    def roundtrip(self, s, qid):
        tcp_send(s, query(ORIGIN, "SOA", qid=qid))
        raw = tcp_recv(s)
        return None if raw is None else qid_of(raw)

    def test_third_connection_closes_the_oldest_idle(self):
        first = tcp_connect(self.port)
        second = tcp_connect(self.port)
        try:
            self.assertEqual(self.roundtrip(first, 0x6001), 0x6001)
            time.sleep(0.1)
            self.assertEqual(self.roundtrip(second, 0x6002), 0x6002)
            time.sleep(0.1)
            with tcp_connect(self.port) as third:
                self.assertEqual(self.roundtrip(third, 0x6003), 0x6003)
                self.assertIsNotNone(wait_closed(first, 3.0), "oldest idle connection kept")
                self.assertEqual(self.roundtrip(second, 0x6004), 0x6004)
                self.assertEqual(self.roundtrip(third, 0x6005), 0x6005)
        finally:
            first.close()
            second.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
