"""EDNS(0) (RFC 6891), response size limits and truncation, NSID (RFC 5001)."""

import struct
import unittest

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from harness import (BIG_TXT, IDENTITY, K1_TXT, MID_TXT, ORIGIN, DnsdTestCase, opt_rr,
                     query)

NSID = 3


def ancount(raw):
    return struct.unpack("!H", raw[6:8])[0]


def tc(raw):
    return bool(struct.unpack("!H", raw[2:4])[0] & 0x0200)


class EdnsTest(DnsdTestCase):

    def test_opt_echoed_with_our_size(self):
        for transport in ("udp", "tcp"):
            for payload in (512, 1232, 4096, 65535):
                with self.subTest(transport=transport, payload=payload):
                    raw, msg = self.ask(ORIGIN, "SOA", transport, opt=opt_rr(payload))
                    self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
                    self.assertEqual(msg.edns, 0)
                    self.assertEqual(msg.payload, 1232)
                    self.assertEqual(msg.ednsflags, 0)
                    self.assertEqual(len(msg.answer), 1)
                    self.assertEqual(msg.additional, [])
                    self.assertEqual(struct.unpack("!H", raw[10:12])[0], 1, "ARCOUNT")

    def test_no_opt_without_edns(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                raw, msg = self.ask(ORIGIN, "SOA", transport)
                self.assertEqual(msg.edns, -1)
                self.assertEqual(struct.unpack("!H", raw[10:12])[0], 0, "ARCOUNT")

    def test_badvers_for_version_above_zero(self):
        for transport in ("udp", "tcp"):
            for version in (1, 2, 255):
                with self.subTest(transport=transport, version=version):
                    raw, msg = self.ask(ORIGIN, "SOA", transport, opt=opt_rr(version=version))
                    self.assertEqual(msg.rcode(), dns.rcode.BADVERS)  # 16
                    self.assertEqual(struct.unpack("!H", raw[2:4])[0] & 0xF, 0,
                                     "low 4 bits of BADVERS")
                    self.assertEqual((msg.ednsflags >> 24) & 0xFF, 1, "extended rcode")
                    self.assertEqual(msg.edns, 0, "OPT version in the answer")
                    self.assertEqual(msg.answer, [])

    def test_do_bit_echoed(self):
        for transport in ("udp", "tcp"):
            for do in (True, False):
                with self.subTest(transport=transport, do=do):
                    _, msg = self.ask(ORIGIN, "NS", transport, opt=opt_rr(do=do))
                    self.assertEqual(bool(msg.ednsflags & dns.flags.DO), do)
                    self.assertEqual(msg.ednsflags & 0x7FFF, 0, "Z bits clear")
                    self.assertEqual(len(msg.answer), 1)

    def test_unknown_options_ignored(self):
        opts = [(65001, b"hello"), (65534, b""), (15, b"\x00\x00")]
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                _, msg = self.ask("www." + ORIGIN, "A", transport, opt=opt_rr(options=opts))
                self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
                self.assertEqual(self.rdatas(msg, "www." + ORIGIN, "A"), ["192.0.2.80"])
                self.assertEqual([o.otype for o in msg.options], [], "nothing echoed")

    def test_nsid(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                _, msg = self.ask(ORIGIN, "SOA", transport, opt=opt_rr(options=[(NSID, b"")]))
                self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
                nsid = [o for o in msg.options if o.otype == NSID]
                self.assertEqual(len(nsid), 1)
                self.assertEqual(nsid[0].to_wire(), IDENTITY.encode())
                _, msg = self.ask(ORIGIN, "SOA", transport, opt=opt_rr())
                self.assertEqual([o.otype for o in msg.options], [], "NSID only on request")

    def test_nsid_on_negative_answers(self):
        _, msg = self.ask("nosuch." + ORIGIN, "A", opt=opt_rr(options=[(NSID, b"")]))
        self.assertNegative(msg, "NXDOMAIN")
        self.assertEqual([o.to_wire() for o in msg.options if o.otype == NSID],
                         [IDENTITY.encode()])

    def udp_txt(self, name, payload=None):
        raw = self.udp(query(name + "." + ORIGIN, "TXT",
                             opt=opt_rr(payload) if payload is not None else None))
        self.assertIsNotNone(raw)
        return raw

    def test_small_advertised_size_counts_as_512(self):
        # "mid" (~370 bytes) fits 512: a server taking 100 at its word truncates.
        for payload in (0, 1, 100, 511):
            with self.subTest(payload=payload):
                raw = self.udp_txt("mid", payload)
                self.assertFalse(tc(raw))
                self.assertEqual(ancount(raw), len(MID_TXT))
                self.assertLessEqual(len(raw), 512)

    def test_limits_and_tc(self):
        k1 = self.udp_txt("k1", 1232)
        self.assertGreater(len(k1), 1000, "k1 is meant to exceed 1000 bytes")
        self.assertFalse(tc(k1))
        self.assertEqual(ancount(k1), len(K1_TXT))
        # payload -> (TC expected, size cap)
        for name, payload, want_tc, cap in (("mid", None, False, 512), ("k1", None, True, 512),
                                            ("k1", 512, True, 512), ("k1", 1000, True, 1000),
                                            ("k1", 4096, False, 1232),
                                            ("big", None, True, 512),
                                            ("big", 4096, True, 1232),
                                            ("big", 65535, True, 1232)):
            with self.subTest(name=name, payload=payload):
                raw = self.udp_txt(name, payload)
                self.assertEqual(tc(raw), want_tc)
                self.assertLessEqual(len(raw), cap)
                msg = dns.message.from_wire(raw)
                self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
                self.assertTrue(msg.flags & dns.flags.AA)
                if payload is not None:
                    self.assertEqual((msg.edns, msg.payload), (0, 1232), "OPT kept when TC")
                if want_tc:
                    # A truncated answer carries no partial RRset (RFC 2181 section 9).
                    self.assertEqual(ancount(raw), 0, "partial RRset in a truncated answer")

    def test_full_answer_over_tcp(self):
        for payload in (None, 512, 4096):
            with self.subTest(payload=payload):
                raw, msg = self.ask("big." + ORIGIN, "TXT", "tcp",
                                    opt=opt_rr(payload) if payload is not None else None)
                self.assertFalse(tc(raw))
                self.assertGreater(len(raw), 4000)
                self.assertEqual(self.rdatas(msg, "big." + ORIGIN, "TXT"),
                                 sorted('"%s"' % s for s in BIG_TXT))

if __name__ == "__main__":
    unittest.main(verbosity=2)
