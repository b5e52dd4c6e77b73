"""DNS protocol compliance in the manner of RFC 8906 (BCP 231) and ISC's EDNS
compliance tester (ednscomp): each of its probe kinds sent to the apex SOA,
with the exact RCODE, header flags and OPT contents an authoritative server
must return. Our own tests, modelled on the checks ISC publishes:

  dns       plain DNS, no EDNS          NOERROR, AA, SOA, no OPT
  edns      EDNS version 0              NOERROR, OPT version 0, no options
  edns1     EDNS version 1              BADVERS, OPT version 0, no answer
  edns@512  EDNS with a 512 buffer      NOERROR, answer fits 512, no TC
  ednsopt   unknown option 100          NOERROR, option not echoed
  ednsflags unknown EDNS flag 0x0080    NOERROR, flag not echoed
  optlist   NSID, ECS, COOKIE, EXPIRE   NOERROR, NSID answered, ECS echoed,
                                         COOKIE echoed with a server cookie
  opcode    opcode 15                   NOTIMP, no OPT (with EDNS: OPT kept)
  opcodeflg opcodes 1-6, 15, every flag  NOTIMP, only QR and the opcode set
  type666   unknown type                NOERROR, NODATA with the SOA
  zflag     header Z bit                NOERROR, Z clear in the reply
  tcp       over TCP                    NOERROR, AA
  dnssec    DO=1                        NOERROR, DO echoed
  bigbuf    EDNS buffer 65535           NOERROR, our OPT says 1232
  edns1opt, ednstcp, bind11 ...          the combinations ISC also sends
"""

import struct
import unittest

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from harness import IDENTITY, ORIGIN, DnsdTestCase, header, opt_rr, query, wire_name

COOKIE, NSID, ECS, EXPIRE = 10, 3, 8, 9
Z_FLAG = 0x0040  # the header's reserved bit (RFC 1035 4.1.1; RFC 6895 2)


class Reply:
    """A response decoded by hand (header, OPT) and by dnspython (msg)."""

    def __init__(self, raw):
        self.raw = raw
        try:
            self.msg = dns.message.from_wire(raw)
        except ValueError:  # dnspython knows no opcode 15; the header is enough
            self.msg = None
        self.flags = struct.unpack("!H", raw[2:4])[0]
        self.hrcode = self.flags & 0xF
        self.counts = struct.unpack("!4H", raw[4:12])
        self.opt = None
        i, total = 12, sum(self.counts[1:])
        for _ in range(self.counts[0]):
            i = skip_name(raw, i) + 4
        for _ in range(total):
            i = skip_name(raw, i)
            rtype, size, ext, version, oflags, rdlen = struct.unpack("!HHBBHH", raw[i:i + 10])
            if rtype == 41:
                rdata, opts = raw[i + 10:i + 10 + rdlen], []
                while rdata:
                    code, olen = struct.unpack("!HH", rdata[:4])
                    opts.append((code, rdata[4:4 + olen]))
                    rdata = rdata[4 + olen:]
                self.opt = {"size": size, "ext": ext, "version": version, "flags": oflags,
                            "options": opts}
            i += 10 + rdlen


def skip_name(raw, i):
    while raw[i]:
        if raw[i] & 0xC0 == 0xC0:
            return i + 2
        i += raw[i] + 1
    return i + 1


class ComplianceTest(DnsdTestCase):

    def probe(self, transport="udp", **kw):
        pkt = query(ORIGIN, kw.pop("rdtype", "SOA"), **kw)
        raw = self.udp(pkt) if transport == "udp" else self.tcp(pkt)
        self.assertIsNotNone(raw, "no %s answer" % transport)
        self.assertEqual(raw[:2], pkt[:2], "ID")
        return Reply(raw)

    def assertSoaAnswer(self, r):
        self.assertEqual(r.msg.rcode(), dns.rcode.NOERROR)
        self.assertTrue(r.flags & 0x8000, "QR")
        self.assertTrue(r.flags & dns.flags.AA, "AA")
        self.assertFalse(r.flags & dns.flags.TC, "TC")
        self.assertFalse(r.flags & Z_FLAG, "Z")
        self.assertEqual(r.counts[:2], (1, 1), "QDCOUNT, ANCOUNT")
        self.assertEqual(r.msg.answer[0].rdtype, dns.rdatatype.SOA)

    def assertOpt(self, r, flags=0, options=(), ext=0):
        self.assertIsNotNone(r.opt, "OPT in the reply")
        self.assertEqual(r.opt["version"], 0, "EDNS version 0 in every reply")
        self.assertEqual(r.opt["size"], 1232)
        self.assertEqual(r.opt["ext"], ext, "extended RCODE")
        self.assertEqual(r.opt["flags"], flags, "EDNS flags")
        self.assertEqual([c for c, _ in r.opt["options"]], list(options), "options")

    # The probes ---------------------------------------------------------------

    def test_dns(self):
        r = self.probe()
        self.assertSoaAnswer(r)
        self.assertIsNone(r.opt, "no OPT to a query without one")
        self.assertEqual(r.counts[3], 0)

    def test_edns(self):
        r = self.probe(opt=opt_rr())
        self.assertSoaAnswer(r)
        self.assertOpt(r)

    def test_edns1(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                r = self.probe(transport, opt=opt_rr(version=1))
                # RFC 6891 6.1.3: BADVERS (16) = header RCODE 0, extended 1.
                self.assertEqual(r.hrcode, 0)
                self.assertEqual(r.msg.rcode(), dns.rcode.BADVERS)
                self.assertEqual(r.counts[1:3], (0, 0), "no answer, no authority")
                self.assertOpt(r, ext=1)

    def test_edns_512(self):
        r = self.probe(opt=opt_rr(512), rdtype="NS")
        self.assertEqual(r.msg.rcode(), dns.rcode.NOERROR)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertLessEqual(len(r.raw), 512)
        self.assertOpt(r)

    def test_ednsopt_unknown_option(self):
        r = self.probe(opt=opt_rr(options=[(100, b"")]))
        self.assertSoaAnswer(r)
        self.assertOpt(r)

    def test_ednsflags_unknown_flag(self):
        opt = bytearray(opt_rr())
        opt[8] |= 0x80  # the EDNS flags' low byte: an undefined flag
        r = self.probe(opt=bytes(opt))
        self.assertSoaAnswer(r)
        self.assertOpt(r, flags=0)

    def test_optlist(self):
        client = b"\x01\x02\x03\x04\x05\x06\x07\x08"
        opts = [(NSID, b""), (ECS, b"\x00\x01\x00\x00"), (COOKIE, client), (EXPIRE, b"")]
        r = self.probe(opt=opt_rr(options=opts))
        self.assertSoaAnswer(r)
        self.assertOpt(r, options=(NSID, ECS, COOKIE))
        got = dict(r.opt["options"])
        self.assertEqual(got[NSID], IDENTITY.encode())
        self.assertEqual(got[ECS], b"\x00\x01\x00\x00", "ECS echoed, SCOPE 0")
        self.assertEqual(len(got[COOKIE]), 24)
        self.assertEqual(got[COOKIE][:8], client)
        self.assertEqual(got[COOKIE][8], 1, "RFC 9018 server cookie version")

    def test_opcode(self):
        r = self.probe(opcode=15)
        self.assertEqual(r.hrcode, dns.rcode.NOTIMP)
        self.assertEqual((r.flags >> 11) & 0xF, 15, "opcode echoed")
        self.assertFalse(r.flags & dns.flags.AA)
        self.assertIsNone(r.opt)
        self.assertEqual(r.counts[1:], (0, 0, 0))
        r = self.probe(opcode=15, opt=opt_rr())
        self.assertEqual(r.hrcode, dns.rcode.NOTIMP)
        self.assertOpt(r)  # RFC 8906 8.2.3: an EDNS query gets an EDNS reply

    def test_opcodeflg(self):
        # ISC's "opcodeflg": an opcode other than QUERY with every request flag
        # set gets NOTIMP with the opcode echoed and no other flag: RD and CD
        # are copied only for QUERY (RFC 1035 4.1.1, RFC 6840 5.9), and AA,
        # TC, RA, Z and AD are the server's to set.
        every = 0x0400 | 0x0200 | 0x0100 | 0x0080 | Z_FLAG | 0x0020 | 0x0010  # AA..CD
        for opcode in (1, 2, 3, 4, 5, 6, 15):
            for opt in (None, opt_rr()):
                with self.subTest(opcode=opcode, edns=opt is not None):
                    pkt = bytearray(query(ORIGIN, "SOA", opcode=opcode, opt=opt))
                    pkt[2:4] = struct.pack("!H", struct.unpack("!H", pkt[2:4])[0] | every)
                    raw = self.udp(bytes(pkt))
                    self.assertIsNotNone(raw, "no answer")
                    r = Reply(raw)
                    self.assertEqual(r.flags, 0x8000 | opcode << 11 | dns.rcode.NOTIMP,
                                     "flags %#06x" % r.flags)
                    if opt:
                        self.assertOpt(r)
                    else:
                        self.assertIsNone(r.opt)
        # QUERY keeps RD and CD, and only those.
        pkt = bytearray(query(ORIGIN, "SOA"))
        pkt[2:4] = struct.pack("!H", struct.unpack("!H", pkt[2:4])[0] | every)
        r = Reply(self.udp(bytes(pkt)))
        self.assertEqual(r.flags, 0x8000 | 0x0400 | 0x0100 | 0x0010 | dns.rcode.NOERROR,
                         "flags %#06x" % r.flags)

    def test_unknown_type(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                r = self.probe(transport, rdtype=666, opt=opt_rr())
                self.assertEqual(r.msg.rcode(), dns.rcode.NOERROR)
                self.assertTrue(r.flags & dns.flags.AA)
                self.assertEqual(r.counts[1:3], (0, 1), "NODATA: the SOA in authority")
                self.assertEqual(r.msg.authority[0].rdtype, dns.rdatatype.SOA)
                self.assertOpt(r)

    def test_zflag(self):
        pkt = bytearray(query(ORIGIN, "SOA"))
        pkt[3] |= Z_FLAG
        raw = self.udp(bytes(pkt))
        self.assertIsNotNone(raw)
        self.assertSoaAnswer(Reply(raw))

    def test_tcp(self):
        r = self.probe("tcp")
        self.assertSoaAnswer(r)
        self.assertIsNone(r.opt)

    def test_ednstcp(self):
        r = self.probe("tcp", opt=opt_rr())
        self.assertSoaAnswer(r)
        self.assertOpt(r)

    def test_dnssec_do_bit(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                r = self.probe(transport, opt=opt_rr(do=True))
                self.assertSoaAnswer(r)
                self.assertOpt(r, flags=0x8000)

    def test_big_buffer(self):
        r = self.probe(opt=opt_rr(65535))
        self.assertSoaAnswer(r)
        self.assertOpt(r)

    # Combinations ISC also probes ----------------------------------------------

    def test_edns1_with_unknown_option(self):
        r = self.probe(opt=opt_rr(version=1, options=[(100, b"")]))
        self.assertEqual(r.msg.rcode(), dns.rcode.BADVERS)
        self.assertOpt(r, ext=1)

    def test_edns1_unknown_flag_and_option_and_do(self):
        # ISC's "bind11" probe: +edns=1 +noednsneg +ednsflags=0x80 +ednsopt=100 + DO.
        opt = bytearray(opt_rr(version=1, do=True, options=[(100, b"")]))
        opt[8] |= 0x80
        r = self.probe(opt=bytes(opt))
        self.assertEqual(r.msg.rcode(), dns.rcode.BADVERS)
        self.assertOpt(r, ext=1, flags=0x8000)

    def test_unknown_flag_with_do(self):
        opt = bytearray(opt_rr(do=True))
        opt[8] |= 0x80
        r = self.probe(opt=bytes(opt))
        self.assertSoaAnswer(r)
        self.assertOpt(r, flags=0x8000)

    def test_unknown_type_with_do_over_tcp(self):
        r = self.probe("tcp", rdtype=666, opt=opt_rr(do=True, options=[(100, b"")]))
        self.assertEqual(r.msg.rcode(), dns.rcode.NOERROR)
        self.assertEqual(r.counts[1:3], (0, 1))
        self.assertOpt(r, flags=0x8000)

    def test_nxdomain_with_edns(self):
        pkt = header(0x1234, ar=1) + wire_name("nosuch." + ORIGIN) + b"\x00\x01\x00\x01" \
            + opt_rr(do=True)
        r = Reply(self.udp(pkt))
        self.assertEqual(r.msg.rcode(), dns.rcode.NXDOMAIN)
        self.assertTrue(r.flags & dns.flags.AA)
        self.assertEqual(r.counts[1:3], (0, 1))
        self.assertOpt(r, flags=0x8000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
