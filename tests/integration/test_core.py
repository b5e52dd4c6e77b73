"""The responder's rules for well-formed queries,
over UDP and TCP: header bits, the question echoed byte for byte, NOERROR,
NXDOMAIN, NODATA, REFUSED, ANY (RFC 8482), CH TXT identity, IPv6 listeners."""

import struct
import unittest

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from harness import (IDENTITY, NEG_TTL, ORIGIN, OTHER_NEG_TTL, OTHER_ORIGIN, DnsdTestCase,
                     query, question_len)

TRANSPORTS = ("udp", "tcp")


class CoreTest(DnsdTestCase):

    def test_header_id_opcode_rd_copied_qr_aa_set(self):
        for transport in TRANSPORTS:
            for rd in (True, False):
                with self.subTest(transport=transport, rd=rd):
                    pkt = query(ORIGIN, "SOA", qid=0xBEEF if rd else 0x0102, rd=rd)
                    raw, msg = self.exchange(pkt, transport)
                    flags = struct.unpack("!H", raw[2:4])[0]
                    self.assertEqual(raw[:2], pkt[:2])
                    self.assertTrue(flags & 0x8000, "QR")
                    self.assertEqual((flags >> 11) & 0xF, 0, "opcode")
                    self.assertTrue(flags & 0x0400, "AA")
                    self.assertEqual(bool(flags & 0x0100), rd, "RD")
                    self.assertFalse(flags & 0x0200, "TC")
                    self.assertFalse(flags & 0x0080, "RA: an authoritative server")
                    self.assertEqual(flags & 0xF, 0, "rcode")
                    self.assertEqual(struct.unpack("!H", raw[4:6])[0], 1, "QDCOUNT")

    def test_question_echoed_byte_for_byte_with_0x20_case(self):
        for transport in TRANSPORTS:
            for name, rdtype in (("pOoL.NtP.oRg", "SOA"), ("wWw.PoOl.NTP.org", "A"),
                                 ("NoSuCh.pool.NTP.org", "TXT"), ("eXaMpLe.CoM", "A")):
                with self.subTest(transport=transport, name=name):
                    pkt = query(name, rdtype)
                    raw, _ = self.exchange(pkt, transport)
                    n = question_len(pkt)
                    self.assertEqual(raw[12:12 + n], pkt[12:12 + n])

    def test_lookup_is_case_insensitive(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                _, msg = self.ask("WwW.pOOL.ntp.ORG", "A", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(len(msg.answer), 1)
                self.assertEqual([rd.to_text() for rd in msg.answer[0]], ["192.0.2.80"])
                _, msg = self.ask("POOL.NTP.ORG", "SOA", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(len(msg.answer), 1)

    def test_apex_soa_ns_txt_mx(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                _, msg = self.ask(ORIGIN, "SOA", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(len(msg.answer), 1)
                self.assertEqual(self.rdatas(msg, ORIGIN, "SOA"), [
                    "ns1.pool.ntp.org. hostmaster.pool.ntp.org. 2026112401 7200 1800 "
                    "1209600 300"])
                self.assertEqual(self.rrset(msg, ORIGIN, "SOA").ttl, 3600)
                _, msg = self.ask(ORIGIN, "NS", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(self.rdatas(msg, ORIGIN, "NS"),
                                 ["ns1.pool.ntp.org.", "ns2.example.net."])
                _, msg = self.ask(ORIGIN, "TXT", transport)
                self.assertEqual(self.rdatas(msg, ORIGIN, "TXT"),
                                 ['"dnsd integration test zone"'])
                _, msg = self.ask(ORIGIN, "MX", transport)
                self.assertEqual(self.rdatas(msg, ORIGIN, "MX"), ["10 mail.pool.ntp.org."])

    def test_static_names_below_the_apex(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                _, msg = self.ask("www." + ORIGIN, "A", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "A"), ["192.0.2.80"])
                self.assertEqual(self.rrset(msg, "www." + ORIGIN, "A").ttl, 600)
                _, msg = self.ask("www." + ORIGIN, "AAAA", transport)
                self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "AAAA"), ["2001:db8::80"])
                _, msg = self.ask("a.b." + ORIGIN, "TXT", transport)
                self.assertEqual(self.rdatas(msg, "a.b." + ORIGIN, "TXT"),
                                 ['"below an empty non-terminal"'])
                _, msg = self.ask("ns." + OTHER_ORIGIN, "A", transport)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(self.rdatas(msg, "ns." + OTHER_ORIGIN, "A"), ["192.0.2.1"])

    def test_nxdomain_with_soa_and_negative_ttl(self):
        for transport in TRANSPORTS:
            for name, origin, ttl in (("nosuch." + ORIGIN, ORIGIN, NEG_TTL),
                                      ("x.www." + ORIGIN, ORIGIN, NEG_TTL),
                                      ("x.a.b." + ORIGIN, ORIGIN, NEG_TTL),
                                      ("nosuch." + OTHER_ORIGIN, OTHER_ORIGIN, OTHER_NEG_TTL)):
                with self.subTest(transport=transport, name=name):
                    _, msg = self.ask(name, "A", transport)
                    self.assertNegative(msg, "NXDOMAIN", origin, ttl)

    def test_nodata_with_soa(self):
        for transport in TRANSPORTS:
            for name, rdtype in (("www." + ORIGIN, "MX"), ("www." + ORIGIN, "TXT"),
                                 (ORIGIN, "CAA"), ("ns1." + ORIGIN, "AAAA")):
                with self.subTest(transport=transport, name=name, rdtype=rdtype):
                    _, msg = self.ask(name, rdtype, transport)
                    self.assertNegative(msg, "NOERROR")
            with self.subTest(transport=transport, name="other origin"):
                _, msg = self.ask(OTHER_ORIGIN, "MX", transport)
                self.assertNegative(msg, "NOERROR", OTHER_ORIGIN, OTHER_NEG_TTL)

    def test_empty_non_terminal_is_nodata(self):
        # a.b.<origin> exists, so b.<origin> exists without records (RFC 8020).
        for transport in TRANSPORTS:
            for rdtype in ("A", "TXT", "SOA"):
                with self.subTest(transport=transport, rdtype=rdtype):
                    _, msg = self.ask("b." + ORIGIN, rdtype, transport)
                    self.assertNegative(msg, "NOERROR")

    def test_pool_names_without_snapshot_are_nodata(self):
        # No `snapshot` configured: pool names exist but have no servers.
        for transport in TRANSPORTS:
            for name, rdtype in ((ORIGIN, "A"), ("0." + ORIGIN, "A"), ("2." + ORIGIN, "AAAA"),
                                 ("de." + ORIGIN, "A"), ("3.europe." + ORIGIN, "A")):
                with self.subTest(transport=transport, name=name, rdtype=rdtype):
                    _, msg = self.ask(name, rdtype, transport)
                    self.assertNegative(msg, "NOERROR")

    def test_refused_outside_every_origin_with_aa_clear(self):
        for transport in TRANSPORTS:
            for name in ("example.com", "ntp.org", "org", ".", "xpool.ntp.org",
                         "www.example.org", "id.server"):
                with self.subTest(transport=transport, name=name):
                    pkt = query(name, "A")
                    raw, msg = self.exchange(pkt, transport)
                    self.assertRcode(msg, "REFUSED", aa=False)
                    self.assertEqual((msg.answer, msg.authority), ([], []))
                    n = question_len(pkt)
                    self.assertEqual(raw[12:12 + n], pkt[12:12 + n])

    def test_any_gets_a_minimal_answer(self):
        # RFC 8482 section 4: one RRset of the name, or a synthesised HINFO.
        for transport in TRANSPORTS:
            for name, types in ((ORIGIN, {"SOA", "NS", "TXT", "MX"}),
                                ("www." + ORIGIN, {"A", "AAAA"})):
                with self.subTest(transport=transport, name=name):
                    _, msg = self.ask(name, "ANY", transport)
                    self.assertRcode(msg, "NOERROR")
                    self.assertEqual(len(msg.answer), 1, msg)
                    rrs = msg.answer[0]
                    t = dns.rdatatype.to_text(rrs.rdtype)
                    self.assertIn(t, types | {"HINFO"})
                    if t == "HINFO":
                        self.assertEqual(len(rrs), 1)
                        self.assertEqual(rrs[0].cpu, b"RFC8482")
            with self.subTest(transport=transport, name="nxdomain"):
                _, msg = self.ask("nosuch." + ORIGIN, "ANY", transport)
                self.assertNegative(msg, "NXDOMAIN")

    def test_ch_txt_identity(self):
        for transport in TRANSPORTS:
            for name in ("id.server", "hostname.bind", "ID.SERVER"):
                with self.subTest(transport=transport, name=name):
                    _, msg = self.ask(name, "TXT", transport, rdclass="CH")
                    self.assertEqual(dns.rcode.to_text(msg.rcode()), "NOERROR")
                    self.assertEqual(len(msg.answer), 1)
                    rrs = msg.answer[0]
                    self.assertEqual(dns.rdataclass.to_text(rrs.rdclass), "CH")
                    self.assertEqual(rrs.rdtype, dns.rdatatype.TXT)
                    self.assertEqual([rd.strings for rd in rrs], [(IDENTITY.encode(),)])

    def test_ipv6_listener(self):
        if not self.server.ipv6:
            self.skipTest("no ::1 on this host")
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                pkt = query("www." + ORIGIN, "AAAA")
                raw = (self.udp(pkt, addr="::1") if transport == "udp"
                       else self.tcp(pkt, addr="::1"))
                self.assertIsNotNone(raw)
                msg = dns.message.from_wire(raw)
                self.assertRcode(msg, "NOERROR")
                self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "AAAA"), ["2001:db8::80"])

if __name__ == "__main__":
    unittest.main(verbosity=2)
