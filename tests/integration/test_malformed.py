"""Malformed and unsupported queries (DESIGN.md
"Protocol rules"): FORMERR, NOTIMP, and packets dropped without an answer.
After each bad packet the server must still answer a good one."""

import struct
import unittest

import dns.rcode

from harness import ORIGIN, DnsdTestCase, header, opt_rr, query, wire_name

SOA_Q = wire_name(ORIGIN) + struct.pack("!HH", 6, 1)

# name -> a query whose question or OPT is malformed (each with ID 0x4242).
FORMERR_CASES = {
    "qdcount 0": header(0x4242, qd=0),
    "qdcount 0 with a question": header(0x4242, qd=0) + SOA_Q,
    "qdcount 2": header(0x4242, qd=2) + SOA_Q + wire_name("www." + ORIGIN) + b"\x00\x01\x00\x01",
    "qdcount 2, one question present": header(0x4242, qd=2) + SOA_Q,
    "compression pointer in question": header(0x4242) + b"\x03www\xc0\x0c" + b"\x00\x01\x00\x01",
    "compression pointer as whole name": header(0x4242) + b"\xc0\x0c\x00\x06\x00\x01",
    "label of 64 bytes": header(0x4242) + b"\x40" + b"a" * 64 + wire_name(ORIGIN)
    + b"\x00\x01\x00\x01",
    "name over 255 bytes": header(0x4242)
    + b"".join(b"\x3f" + bytes([0x61 + i]) * 63 for i in range(4)) + wire_name(ORIGIN)
    + b"\x00\x01\x00\x01",
    "ends inside the name": header(0x4242) + b"\x04pool\x03nt",
    "ends after a label, no root": header(0x4242) + b"\x04pool\x03ntp\x03org",
    "ends inside the type": header(0x4242) + wire_name(ORIGIN) + b"\x00",
    "ends before the class": header(0x4242) + wire_name(ORIGIN) + b"\x00\x06",
    "ends inside the class": header(0x4242) + wire_name(ORIGIN) + b"\x00\x06\x00",
    "arcount 1 without records": header(0x4242, ar=1) + SOA_Q,
    "two OPT records": header(0x4242, ar=2) + SOA_Q + opt_rr() + opt_rr(),
    "OPT RDLEN past the end": header(0x4242, ar=1) + SOA_Q + opt_rr(rdlen=10),
    "OPT RDLEN inside an option header": header(0x4242, ar=1) + SOA_Q
    + opt_rr(options=[(3, b"")], rdlen=2)[:-2],
    "OPT with a non-root owner": header(0x4242, ar=1) + SOA_Q
    + b"\x01x" + opt_rr()[1:],
}


def _fix_option_past_rdlen():
    # RDLEN 4 covers just the option header, which announces 8 bytes of data.
    rdata = struct.pack("!HH", 10, 8)
    return (header(0x4242, ar=1) + SOA_Q + b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 4)
            + rdata)


FORMERR_CASES["OPT option past RDLEN"] = _fix_option_past_rdlen()


class MalformedTest(DnsdTestCase):

    def assertStillServing(self):
        _, msg = self.ask(ORIGIN, "SOA")
        self.assertEqual(dns.rcode.to_text(msg.rcode()), "NOERROR")

    def assertFormerr(self, raw, qid=0x4242):
        self.assertIsNotNone(raw, "no answer")
        self.assertEqual(struct.unpack("!H", raw[:2])[0], qid, "ID")
        flags = struct.unpack("!H", raw[2:4])[0]
        self.assertTrue(flags & 0x8000, "QR")
        self.assertEqual((flags >> 11) & 0xF, 0, "opcode")
        self.assertEqual(flags & 0xF, 1, "rcode must be FORMERR")
        self.assertEqual(struct.unpack("!H", raw[6:8])[0], 0, "ANCOUNT")

    def test_formerr(self):
        for transport in ("udp", "tcp"):
            for name, pkt in FORMERR_CASES.items():
                with self.subTest(transport=transport, case=name):
                    raw = self.udp(pkt) if transport == "udp" else self.tcp(pkt)
                    self.assertFormerr(raw)
        self.assertStillServing()

    def test_short_packets_dropped(self):
        good = query(ORIGIN, "SOA", qid=0x4343)
        for n in (0, 1, 2, 11):
            with self.subTest(length=n):
                self.assertSilent(good[:n])
        self.assertStillServing()

    def test_responses_dropped(self):
        # QR set: a response must never be answered (loops between servers).
        for pkt in (query(ORIGIN, "SOA", qr=True), query("nosuch." + ORIGIN, "A", qr=True),
                    query("example.com", "A", qr=True), header(0x4444, flags=0x8000, qd=0)):
            with self.subTest(pkt=pkt.hex()):
                self.assertSilent(pkt)
        self.assertStillServing()

    def test_notimp_for_other_opcodes(self):
        for transport in ("udp", "tcp"):
            for opcode in (1, 2, 4, 5, 6, 15):  # IQUERY, STATUS, NOTIFY, UPDATE, DSO, unassigned
                with self.subTest(transport=transport, opcode=opcode):
                    pkt = query(ORIGIN, "SOA", opcode=opcode)
                    raw = self.udp(pkt) if transport == "udp" else self.tcp(pkt)
                    self.assertIsNotNone(raw, "no answer")
                    self.assertEqual(raw[:2], pkt[:2])
                    flags = struct.unpack("!H", raw[2:4])[0]
                    self.assertTrue(flags & 0x8000, "QR")
                    self.assertEqual((flags >> 11) & 0xF, opcode, "opcode copied")
                    self.assertEqual(flags & 0xF, 4, "rcode must be NOTIMP")
                    self.assertEqual(struct.unpack("!H", raw[6:8])[0], 0, "ANCOUNT")

    def test_notimp_for_zone_transfers(self):
        for transport in ("udp", "tcp"):
            for rdtype in ("AXFR", "IXFR"):
                with self.subTest(transport=transport, rdtype=rdtype):
                    pkt = query(ORIGIN, rdtype)
                    raw, msg = self.exchange(pkt, transport)
                    self.assertEqual(dns.rcode.to_text(msg.rcode()), "NOTIMP")
                    self.assertEqual(msg.answer, [])
                    self.assertEqual(raw[12:12 + len(SOA_Q)], pkt[12:12 + len(SOA_Q)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
