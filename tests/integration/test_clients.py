"""Cross-checks of dnsd's own wire writer with independent decoders and real
clients: every answer decoded by dnspython and by ldns must agree record by
record, and kdig and dig must read the same data over UDP and TCP."""

import unittest

import dns.flags
import dns.opcode
import dns.rcode

from harness import (BIG_TXT, IDENTITY, NEG_TTL, ORIGIN, OTHER_ORIGIN, DnsdTestCase, dig, kdig,
                     ldns_decode, opt_rr, parse_presentation, rr_tuples)

SOA_TEXT = ("ns1.pool.ntp.org. hostmaster.pool.ntp.org. 2026112401 7200 1800 1209600 300")

# (name, type, class, with EDNS+NSID, expected rcode, expected answer count)
CASES = [
    (ORIGIN, "SOA", "IN", False, "NOERROR", 1),
    ("pOoL.nTp.OrG", "NS", "IN", True, "NOERROR", 2),
    (ORIGIN, "TXT", "IN", False, "NOERROR", 1),
    (ORIGIN, "MX", "IN", True, "NOERROR", 1),
    ("www." + ORIGIN, "A", "IN", False, "NOERROR", 1),
    ("www." + ORIGIN, "AAAA", "IN", True, "NOERROR", 1),
    ("www." + ORIGIN, "MX", "IN", False, "NOERROR", 0),
    ("b." + ORIGIN, "TXT", "IN", True, "NOERROR", 0),
    ("nosuch." + ORIGIN, "A", "IN", True, "NXDOMAIN", 0),
    ("nosuch." + OTHER_ORIGIN, "TXT", "IN", False, "NXDOMAIN", 0),
    ("example.com", "A", "IN", False, "REFUSED", 0),
    ("id.server", "TXT", "CH", True, "NOERROR", 1),
    ("k1." + ORIGIN, "TXT", "IN", True, "NOERROR", 4),
]


class LdnsCrossCheckTest(DnsdTestCase):

    def compare(self, raw, msg):
        text = ldns_decode(raw)
        got = parse_presentation(text)
        self.assertEqual(got["id"], msg.id)
        self.assertEqual(got["opcode"], dns.opcode.to_text(msg.opcode()))
        self.assertEqual(got["status"], dns.rcode.to_text(msg.rcode()), text)
        self.assertEqual(got["flags"], set(dns.flags.to_text(msg.flags).lower().split()))
        for section in ("answer", "authority", "additional"):
            self.assertEqual(got[section], rr_tuples(msg, section), section + "\n" + text)
        if msg.edns >= 0:
            self.assertRegex(text, r"EDNS: version %d; flags:.*udp: %d" % (msg.edns,
                                                                           msg.payload))
        else:
            self.assertNotIn("EDNS:", text)
        return text

    def test_dnspython_and_ldns_agree(self):
        for transport in ("udp", "tcp"):
            for name, rdtype, rdclass, edns, rcode, count in CASES:
                with self.subTest(transport=transport, name=name, rdtype=rdtype):
                    opt = opt_rr(4096, options=[(3, b"")]) if edns else None
                    raw, msg = self.ask(name, rdtype, transport, rdclass=rdclass, opt=opt)
                    self.assertEqual(dns.rcode.to_text(msg.rcode()), rcode)
                    self.assertEqual(sum(len(r) for r in msg.answer), count)
                    self.compare(raw, msg)

    def test_big_answer_over_tcp_agrees(self):
        raw, msg = self.ask("big." + ORIGIN, "TXT", "tcp")
        self.compare(raw, msg)
        self.assertEqual(len(rr_tuples(msg, "answer")), len(BIG_TXT))

    def test_truncated_answer_decodes(self):
        raw, msg = self.ask("big." + ORIGIN, "TXT", "udp", opt=opt_rr(1232))
        self.assertTrue(msg.flags & dns.flags.TC)
        self.assertIn("tc", self.compare(raw, msg).split(";; flags:")[1].split(";")[0])


class RealClientsTest(DnsdTestCase):

    def check(self, out, status="NOERROR", flags=("qr", "aa")):
        got = parse_presentation(out)
        self.assertEqual(got["status"], status, out)
        for f in flags:
            self.assertIn(f, got["flags"], out)
        self.assertNotIn("rd", got["flags"], "+norec: RD must stay clear\n" + out)
        return got

    def clients(self):
        return (("kdig", kdig, ()), ("kdig", kdig, ("+tcp",)), ("dig", dig, ()),
                ("dig", dig, ("+tcp",)))

    def test_soa_ns_txt(self):
        for label, client, opts in self.clients():
            with self.subTest(client=label, opts=opts):
                got = self.check(client(self.port, ORIGIN, "SOA", *opts))
                self.assertEqual(got["answer"], [(ORIGIN + ".", 3600, "IN", "SOA", SOA_TEXT)])
                got = self.check(client(self.port, ORIGIN, "NS", *opts))
                self.assertEqual(got["answer"], [
                    (ORIGIN + ".", 3600, "IN", "NS", "ns1.pool.ntp.org."),
                    (ORIGIN + ".", 3600, "IN", "NS", "ns2.example.net.")])
                got = self.check(client(self.port, ORIGIN, "TXT", *opts))
                self.assertEqual(got["answer"], [
                    (ORIGIN + ".", 3600, "IN", "TXT", '"dnsd integration test zone"')])

    def test_negative_answers(self):
        for label, client, opts in self.clients():
            with self.subTest(client=label, opts=opts):
                got = self.check(client(self.port, "nosuch." + ORIGIN, "A", *opts), "NXDOMAIN")
                self.assertEqual(got["answer"], [])
                self.assertEqual(got["authority"],
                                 [(ORIGIN + ".", NEG_TTL, "IN", "SOA", SOA_TEXT)])
                got = self.check(client(self.port, "www." + ORIGIN, "MX", *opts))
                self.assertEqual(got["answer"], [])
                self.assertEqual(got["authority"],
                                 [(ORIGIN + ".", NEG_TTL, "IN", "SOA", SOA_TEXT)])
                got = self.check(client(self.port, "example.com", "A", *opts), "REFUSED",
                                 flags=("qr",))
                self.assertNotIn("aa", got["flags"])

    def test_nsid_and_identity(self):
        out = kdig(self.port, ORIGIN, "SOA", "+nsid")
        self.assertRegex(out, r"NSID: [0-9A-Fa-f]+ \"%s\"" % IDENTITY)
        out = dig(self.port, ORIGIN, "SOA", "+nsid")
        self.assertRegex(out, r"NSID: .*\(\"?%s\"?\)" % IDENTITY)
        for name in ("id.server", "hostname.bind"):
            self.assertEqual(dig(self.port, name, "TXT", "-c", "CH", "+short").strip(),
                             '"%s"' % IDENTITY)
            self.assertEqual(kdig(self.port, name, "TXT", "-c", "CH", "+short").strip(),
                             '"%s"' % IDENTITY)

    def test_dig_retries_truncated_answer_over_tcp(self):
        # dig sees TC over UDP and asks again over TCP; the result is complete.
        out = dig(self.port, "big." + ORIGIN, "TXT", "+bufsize=1232")
        self.assertIn("Truncated, retrying in TCP mode", out)
        got = self.check(out)
        self.assertEqual([r[4] for r in got["answer"]], sorted('"%s"' % s for s in BIG_TXT))

    def test_kdig_sees_tc_and_retries_over_tcp(self):
        out = kdig(self.port, "big." + ORIGIN, "TXT", "+bufsize=1232", "+ignore")
        got = self.check(out, flags=("qr", "aa", "tc"))
        self.assertEqual(got["answer"], [])
        out = kdig(self.port, "big." + ORIGIN, "TXT", "+bufsize=1232")
        self.assertIn("(TCP)", out)
        got = self.check(out)
        self.assertNotIn("tc", got["flags"])
        self.assertEqual(len(got["answer"]), len(BIG_TXT))

if __name__ == "__main__":
    unittest.main(verbosity=2)
