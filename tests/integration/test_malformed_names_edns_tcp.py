"""The rest of the malformed-input catalogue (test_malformed.py has the
FORMERR and drop cases of DESIGN.md): reserved label types, names at and over
255 bytes in every section, compression pointer loops outside the question,
counts larger than the packet, an OPT that is not the last record, two ECS
options, ECS with bits past the prefix, absurd advertised UDP sizes, and over
TCP zero-length frames and 64 KB frames. After each, over the same transport,
a good query is still answered.

Choices made here (docs/hardening.md):
  * Compression pointers outside the question are skipped, never followed (the
    server needs nothing from those records), so a loop there cannot hang the
    parser; such queries are answered normally.
  * An OPT that is not the last additional record is accepted: RFC 6891
    section 6.1.1 requires one OPT in the additional section, not its place,
    and ISC's compliance tests accept it too. An OPT in the answer or
    authority section is FORMERR.
"""

import socket
import struct
import unittest

import dns.message
import dns.rcode

from harness import (K1_TXT, ORIGIN, DnsdTestCase, header, opt_rr, query, tcp_connect,
                     tcp_recv, tcp_send, wait_closed, wire_name)

SOA_Q = wire_name(ORIGIN) + struct.pack("!HH", 6, 1)
QEND = 12 + len(SOA_Q)  # offset just past the question
# An A record owned by the query name (a pointer to offset 12).
A_RR = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\xc0\x00\x02\x01"


def rr(owner, rdtype=1, rdata=b"\xc0\x00\x02\x01"):
    return owner + struct.pack("!HHIH", rdtype, 1, 60, len(rdata)) + rdata


def ecs(family, source, addr):
    return (8, struct.pack("!HBB", family, source, 0) + addr)


def long_name(total):
    """A name of exactly `total` wire bytes (labels of up to 63), root included."""
    labels, left = [], total - 1
    while left > 0:
        n = min(63, left - 1)
        labels.append(bytes([n]) + b"a" * n)
        left -= n + 1
    return b"".join(labels) + b"\0"


class MalformedNamesEdnsTcpTest(DnsdTestCase):

    def send(self, pkt, transport):
        return self.udp(pkt) if transport == "udp" else self.tcp(pkt)

    def assertStillServing(self, transport):
        raw = self.send(query(ORIGIN, "SOA", qid=0x5151), transport)
        self.assertIsNotNone(raw, "no answer to a good query after the bad one")
        self.assertEqual(dns.message.from_wire(raw).rcode(), dns.rcode.NOERROR)

    def rcode_of(self, pkt, transport):
        raw = self.send(pkt, transport)
        self.assertIsNotNone(raw, "no answer")
        self.assertEqual(raw[:2], pkt[:2], "ID")
        return struct.unpack("!H", raw[2:4])[0] & 0xF, raw

    def check_cases(self, cases, want):
        for transport in ("udp", "tcp"):
            for name, pkt in cases.items():
                with self.subTest(transport=transport, case=name):
                    rcode, raw = self.rcode_of(pkt, transport)
                    self.assertEqual(rcode, want, name)
                    if want == 1:  # FORMERR answers carry no records and no OPT
                        self.assertEqual(struct.unpack("!HHH", raw[6:12]), (0, 0, 0))
                    self.assertStillServing(transport)

    def test_formerr_catalogue(self):
        cases = {
            "label type 0x80 in question": header(1) + b"\x80abc" + SOA_Q,
            "label type 0x40 (extended) in question": header(2) + b"\x41\x00" + SOA_Q,
            "label type 0xBF in question": header(3) + b"\xbf" + b"x" * 63 + SOA_Q,
            "reserved label type in an answer owner": header(4, an=1) + SOA_Q
            + rr(b"\x80abc\x00"),
            "question name of 256 bytes": header(5) + long_name(256) + b"\x00\x01\x00\x01",
            "authority owner of 256 bytes": header(6, ns=1) + SOA_Q + rr(long_name(256)),
            "ANCOUNT 65535": header(7, an=0xFFFF) + SOA_Q + A_RR,
            "NSCOUNT 65535": header(8, ns=0xFFFF) + SOA_Q,
            "ARCOUNT 65535": header(9, ar=0xFFFF) + SOA_Q + opt_rr(),
            "QDCOUNT 65535": header(10, qd=0xFFFF) + SOA_Q,
            "ANCOUNT 2, one record": header(11, an=2) + SOA_Q + A_RR,
            "RDLENGTH past the end": header(12, an=1) + SOA_Q + b"\xc0\x0c"
            + struct.pack("!HHIH", 1, 1, 60, 200) + b"\xc0\x00\x02\x01",
            "OPT in the answer section": header(13, an=1) + SOA_Q + opt_rr(),
            "OPT in the authority section": header(14, ns=1) + SOA_Q + opt_rr(),
            "two ECS options": header(15, ar=1) + SOA_Q
            + opt_rr(options=[ecs(1, 24, b"\xc0\x00\x02"), ecs(1, 24, b"\xc0\x00\x02")]),
            "ECS bits past the prefix": header(16, ar=1) + SOA_Q
            + opt_rr(options=[ecs(1, 20, b"\xc0\x00\x02")]),
            "ECS IPv6 bits past the prefix": header(17, ar=1) + SOA_Q
            + opt_rr(options=[ecs(2, 33, b"\x20\x01\x0d\xb8\xff")]),
            "ECS prefix longer than the family": header(18, ar=1) + SOA_Q
            + opt_rr(options=[ecs(1, 33, b"\xc0\x00\x02\x01\x00")]),
            "ECS address longer than the prefix": header(19, ar=1) + SOA_Q
            + opt_rr(options=[ecs(1, 8, b"\xc0\x00")]),
            "ECS unknown family": header(20, ar=1) + SOA_Q
            + opt_rr(options=[ecs(3, 0, b"")]),
        }
        self.check_cases(cases, 1)

    def test_answered_catalogue(self):
        # Names of exactly 255 bytes are legal: a name outside our zones.
        name255 = long_name(255)
        cases = {
            "question name of 255 bytes (REFUSED: not ours)": header(30) + name255
            + b"\x00\x01\x00\x01",
        }
        self.check_cases(cases, 5)
        cases = {
            # Pointers outside the question are skipped, not followed.
            "answer owner pointing at itself": header(31, an=1) + SOA_Q
            + rr(struct.pack("!H", 0xC000 | QEND)),
            "authority pointer loop of two": header(32, ns=2) + SOA_Q
            + rr(struct.pack("!H", 0xC000 | (QEND + 16))) + rr(struct.pack("!H", 0xC000 | QEND)),
            "pointer past the end of the packet": header(33, an=1) + SOA_Q + rr(b"\xff\xff"),
            "answer owner of 255 bytes": header(34, an=1) + SOA_Q + rr(name255),
            "OPT before another additional record": header(35, ar=2) + SOA_Q + opt_rr()
            + A_RR,
            "ECS SOURCE 0 with no address": header(36, ar=1) + SOA_Q
            + opt_rr(options=[ecs(1, 0, b"")]),
        }
        self.check_cases(cases, 0)

    def test_opt_not_last_keeps_edns(self):
        pkt = header(40, ar=3) + SOA_Q + A_RR + opt_rr(do=True, options=[(3, b"")]) + A_RR
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                rcode, raw = self.rcode_of(pkt, transport)
                msg = dns.message.from_wire(raw)
                self.assertEqual((rcode, msg.edns, msg.payload), (0, 0, 1232))
                self.assertTrue(msg.ednsflags & 0x8000, "DO echoed")
                self.assertEqual([o.otype for o in msg.options], [3], "NSID answered")

    def test_absurd_udp_sizes(self):
        # 0 and 1 count as 512 (RFC 6891 section 6.2.5); 65535 is capped at our
        # 1232; the reply always advertises 1232. k1 (~1060 bytes) needs > 512.
        for size, want_tc in ((0, True), (1, True), (511, True), (65535, False)):
            with self.subTest(size=size):
                raw = self.udp(query("k1." + ORIGIN, "TXT", opt=opt_rr(size)))
                self.assertIsNotNone(raw)
                msg = dns.message.from_wire(raw)
                self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
                self.assertEqual(bool(msg.flags & 0x0200), want_tc)
                self.assertEqual(len(msg.answer[0]) if msg.answer else 0,
                                 0 if want_tc else len(K1_TXT))
                self.assertEqual((msg.edns, msg.payload), (0, 1232))
                self.assertLessEqual(len(raw), 512 if want_tc else 1232)
        self.assertStillServing("udp")

    # TCP framing ------------------------------------------------------------

    def test_zero_length_frames_ignored(self):
        with tcp_connect(self.port) as s:
            s.sendall(b"\x00\x00" * 10)
            tcp_send(s, query(ORIGIN, "SOA", qid=0x6161))
            raw = tcp_recv(s, 3)
            self.assertIsNotNone(raw, "connection kept after empty frames")
            self.assertEqual(struct.unpack("!H", raw[:2])[0], 0x6161,
                             "nothing answered for the empty frames")
        self.assertStillServing("tcp")

    def big_query(self, qid, total=65535):
        """A valid SOA query padded with an unknown EDNS option to `total` bytes."""
        pad = total - len(header(qid, ar=1) + SOA_Q + opt_rr(options=[(65001, b"")]))
        return header(qid, ar=1) + SOA_Q + opt_rr(options=[(65001, b"p" * pad)])

    def test_64k_frames(self):
        q = self.big_query(0x7171)
        self.assertEqual(len(q), 65535)
        with tcp_connect(self.port) as s:
            tcp_send(s, q)
            tcp_send(s, query(ORIGIN, "NS", qid=0x7272))  # pipelined behind it
            raw = tcp_recv(s, 5)
            self.assertIsNotNone(raw)
            msg = dns.message.from_wire(raw)
            self.assertEqual((msg.id, msg.rcode(), msg.edns), (0x7171, dns.rcode.NOERROR, 0))
            self.assertEqual(list(msg.options), [], "the padding option is not echoed")
            raw = tcp_recv(s, 5)
            self.assertEqual(dns.message.from_wire(raw).id, 0x7272)
            # 64 KB of junk: FORMERR (a header is there) and the connection lives on.
            junk = struct.pack("!6H", 0x7373, 0, 1, 0, 0, 0) + b"\xff" * (65535 - 12)
            tcp_send(s, junk)
            raw = tcp_recv(s, 5)
            self.assertIsNotNone(raw)
            self.assertEqual(struct.unpack("!HH", raw[:4])[0], 0x7373)
            self.assertEqual(struct.unpack("!H", raw[2:4])[0] & 0xF, 1)
            tcp_send(s, query(ORIGIN, "SOA", qid=0x7474))
            self.assertEqual(dns.message.from_wire(tcp_recv(s, 5)).id, 0x7474)

    def test_64k_frame_cut_short(self):
        # Announce 65535 bytes, send 1000, close: nothing answered, no harm.
        with tcp_connect(self.port) as s:
            s.sendall(b"\xff\xff" + self.big_query(0x7575)[:1000])
            s.shutdown(socket.SHUT_WR)
            self.assertIsNotNone(wait_closed(s, 5))
        self.assertStillServing("tcp")

    def test_udp_64k_datagram_dropped(self):
        # Larger than any query: dropped (udp.h UDP_RECV_SLOT), and counted.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1)
            s.sendto(self.big_query(0x7676, 65507), ("127.0.0.1", self.port))
            with self.assertRaises(socket.timeout):
                s.recv(65535)
        self.assertStillServing("udp")


if __name__ == "__main__":
    unittest.main(verbosity=2)
