"""NTS SRV answers against the real dnsd: servers with an "nts" key answer SRV
at _ntske._tcp.<origin> (by the client's place, ECS first: country, continent,
"@", with backfill) and _ntske._tcp.<zone>.<origin> (that zone's walk);
priority 0, one record per NTS-KE endpoint (host, port), weights scaled from
the sum of the endpoint's servers' weights as zone_srv_weights() states,
targets uncompressed (RFC 2782). Replies are decoded with dnspython, ldns
(bin/ldns-decode) and kdig; shares are checked by chi-square; snapshots with
bad "nts" entries are refused by dnsd --check-snapshot, dnsdctl and a push;
status, metrics, --check-snapshot and the unsigned warning count NTS."""

import json
import os
import re
import subprocess
import unittest

import dns.message
import dns.name
import dns.rdatatype

from harness import (BINARY_DIR, DNSD, ORIGIN, SANITIZER_RE, DnsdTestCase, MetricsControl, http,
                     kdig, ldns_decode, parse_metrics, parse_presentation, rr_tuples)
from pooltest import (DE4, DE6, DE_SRC, EU4, FR4, FR_AT_MIN, FR_SRC, KE_SRC, US4, US_SRC,
                      Client, PoolServer, pool_servers, snapshot_text)
from test_control import ERR, PUSH, RawCtl, push_payload

DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")
NTS_NAME = "_ntske._tcp." + ORIGIN
SERIAL = 2026112801

# Endpoint -> the servers (addresses of pooltest's snapshot) behind it. Every
# server there weighs 1000 x 1024 (score 20, netspeed 1000) except FR_AT_MIN
# (score 10 = min_score: x 0.25).
ENDPOINTS = {
    ("nts-a.de.example", 4460): [DE4[0], DE6[0]],        # dual stack: 2000
    ("nts-b.de.example", 4461): [DE4[1]],                # 1000
    ("nts-b.de.example", 4462): [DE4[2]],                # same host, other port: 1000
    ("nts-c.de.example", 4460): [DE4[3], DE4[4], DE4[5]],  # a front for three: 3000
    ("nts.fr.example", 4460): [FR4[0]],                  # 1000
    ("nts-min.fr.example", 4460): [FR_AT_MIN],           # 250
    ("nts.eu.example", 4460): [EU4[0]],                  # europe only: 1000
    ("nts.us.example", 123): [US4[0]],                   # 1000
    ("nts-bad.de.example", 4460): ["10.49.1.1"],         # score 5: never served
}
WEIGHT = {ep: 250 if ips == [FR_AT_MIN] else 1000 * len(ips)
          for ep, ips in ENDPOINTS.items()}
DE_EPS = {ep for ep in ENDPOINTS if ep[0].endswith(".de.example") and ep[0] != "nts-bad.de.example"}
FR_EPS = {("nts.fr.example", 4460), ("nts-min.fr.example", 4460)}
EUROPE_EPS = DE_EPS | FR_EPS | {("nts.eu.example", 4460)}
ALL_EPS = EUROPE_EPS | {("nts.us.example", 123)}


def nts_servers():
    """pooltest's snapshot with the "nts" keys of ENDPOINTS."""
    by_ip = {ip: ep for ep, ips in ENDPOINTS.items() for ip in ips}
    out = []
    for s in pool_servers():
        ep = by_ip.get(s["ip"])
        if ep:
            s = dict(s, nts={"host": ep[0]} if ep[1] == 4460 else {"host": ep[0], "port": ep[1]})
        out.append(s)
    return out


def expected_weights(eps):
    """zone_srv_weights(): round(65535 w / max w), at least 1."""
    top = max(WEIGHT[ep] for ep in eps)
    return {ep: max(1, int((WEIGHT[ep] * 131070 + top) // (2 * top))) for ep in eps}


def srv_records(msg):
    """[(target, port, weight, priority, ttl)] of the answer, in order."""
    return [(rd.target.to_text(omit_final_dot=True), rd.port, rd.weight, rd.priority,
             rrs.ttl) for rrs in msg.answer if rrs.rdtype == dns.rdatatype.SRV for rd in rrs]


class NtsServer(MetricsControl, PoolServer):
    """The pool server with NTS keys, a control socket and metrics."""

    def __init__(self, options=None, snapshot=None):
        super().__init__(snapshot or snapshot_text(SERIAL, nts_servers()), options=options)


class NtsCase(DnsdTestCase):
    options = {"srv_answers": 4}

    @classmethod
    def make_server(cls):
        return NtsServer(cls.options)

    def ask(self, name, rdtype="SRV", src=DE_SRC, ecs=None):
        with Client(self.port, src) as c:
            raw, msg = c.ask(name, rdtype, ecs=ecs)
        self.assertRcode(msg, "NOERROR")
        return raw, msg

    def endpoints(self, msg):
        return [(t, p) for t, p, _, _, _ in srv_records(msg)]


class SrvAnswerTest(NtsCase):

    def test_zone_name_answers_its_endpoints_with_scaled_weights(self):
        raw, msg = self.ask("_ntske._tcp.de." + ORIGIN)
        recs = srv_records(msg)
        self.assertEqual({(t, p) for t, p, _, _, _ in recs}, DE_EPS)
        self.assertEqual(len(recs), 4)  # one per host/port: nts-a once for two servers
        want = expected_weights(DE_EPS)
        self.assertEqual({(t, p): w for t, p, w, _, _ in recs}, want)
        self.assertEqual(want[("nts-a.de.example", 4460)], 43690)  # 65535 x 2000/3000
        self.assertEqual(want[("nts-b.de.example", 4461)], 21845)
        self.assertTrue(all(prio == 0 and ttl == 150 for _, _, _, prio, ttl in recs))
        # ldns and kdig decode the same records as dnspython.
        self.assertEqual(parse_presentation(ldns_decode(raw))["answer"], rr_tuples(msg, "answer"))
        text = kdig(self.port, "_ntske._tcp.de." + ORIGIN, "SRV")
        self.assertEqual(parse_presentation(text)["answer"], rr_tuples(msg, "answer"))

    def test_targets_are_not_compressed(self):
        raw, msg = self.ask(NTS_NAME)
        # RFC 2782: no compression in the target. Every RDATA is 6 bytes and the
        # whole target in wire form, and no 0xC0 pointer follows the fixed part.
        at = 12 + len(msg.question[0].name.to_wire()) + 4
        for _ in range(len(msg.answer[0])):
            self.assertEqual(raw[at:at + 2], b"\xc0\x0c")  # owner: the question
            rdlen = int.from_bytes(raw[at + 10:at + 12], "big")
            target = raw[at + 18:at + 12 + rdlen]
            name = dns.name.from_wire(raw, at + 18)[0]
            self.assertEqual(target, name.to_wire())
            at += 12 + rdlen

    def test_apex_by_place_with_backfill(self):
        # A German client: de's four endpoints, nothing from elsewhere.
        for _ in range(10):
            _, msg = self.ask(NTS_NAME, src=DE_SRC)
            self.assertEqual(set(self.endpoints(msg)), DE_EPS)
        # A French client: fr's two first, then two more from europe.
        for _ in range(20):
            _, msg = self.ask(NTS_NAME, src=FR_SRC)
            eps = self.endpoints(msg)
            self.assertEqual(set(eps[:2]), FR_EPS)
            self.assertEqual(len(eps), 4)
            self.assertTrue(set(eps[2:]) <= EUROPE_EPS - FR_EPS, eps)
        # A US client: its one endpoint, then "@".
        _, msg = self.ask(NTS_NAME, src=US_SRC)
        eps = self.endpoints(msg)
        self.assertEqual(eps[0], ("nts.us.example", 123))
        self.assertEqual(len(eps), 4)
        # Kenya: no NTS in ke nor africa: "@".
        _, msg = self.ask(NTS_NAME, src=KE_SRC)
        self.assertTrue(set(self.endpoints(msg)) <= ALL_EPS)
        self.assertEqual(len(self.endpoints(msg)), 4)

    def test_ecs_decides_and_scopes_the_apex_only(self):
        _, msg = self.ask(NTS_NAME, src=DE_SRC, ecs=("127.0.3.0", 24))  # France
        self.assertEqual(set(self.endpoints(msg)[:2]), FR_EPS)
        self.assertEqual([o.scopelen for o in msg.options if o.otype == 8], [24])
        _, msg = self.ask("_ntske._tcp.de." + ORIGIN, src=FR_SRC, ecs=("127.0.3.0", 24))
        self.assertEqual(set(self.endpoints(msg)), DE_EPS)
        self.assertEqual([o.scopelen for o in msg.options if o.otype == 8], [0])
        text = kdig(self.port, NTS_NAME, "SRV", "+subnet=127.0.2.0/24")
        self.assertIn("CLIENT-SUBNET: 127.0.2.0/24/24", text)
        self.assertEqual({(r[4].split()[3].rstrip("."), int(r[4].split()[2]))
                          for r in parse_presentation(text)["answer"]}, DE_EPS)

    def test_zone_names_backfill_along_their_walk(self):
        _, msg = self.ask("_ntske._tcp.fr." + ORIGIN, src=US_SRC)
        eps = self.endpoints(msg)
        self.assertEqual(set(eps[:2]), FR_EPS)
        self.assertTrue(set(eps[2:]) <= EUROPE_EPS - FR_EPS)
        # gb is uk's name; uk has no NTS server: europe answers.
        _, msg = self.ask("_ntske._tcp.gb." + ORIGIN)
        self.assertTrue(set(self.endpoints(msg)) <= EUROPE_EPS)
        _, msg = self.ask("_ntske._tcp.north-america." + ORIGIN)
        self.assertEqual(self.endpoints(msg)[0], ("nts.us.example", 123))

    def test_ineligible_servers_endpoint_never_served(self):
        seen = set()
        for src in (DE_SRC, FR_SRC, KE_SRC):
            for _ in range(15):
                seen |= set(self.endpoints(self.ask(NTS_NAME, src=src)[1]))
        self.assertNotIn(("nts-bad.de.example", 4460), seen)
        self.assertTrue(seen <= ALL_EPS)

    def test_other_types_names_and_case(self):
        # ANY: the SRV RRset (RFC 8482: one RRset); A: NODATA with the SOA.
        _, msg = self.ask("_ntske._tcp.de." + ORIGIN, "ANY")
        self.assertEqual(len(self.endpoints(msg)), 4)
        _, msg = self.ask(NTS_NAME, "A")
        self.assertEqual(msg.answer, [])
        self.assertEqual(msg.authority[0].rdtype, dns.rdatatype.SOA)
        # _tcp above the SRV name exists, empty (RFC 8020): NODATA, not NXDOMAIN.
        _, msg = self.ask("_tcp.de." + ORIGIN, "SRV")
        self.assertEqual(msg.answer, [])
        with Client(self.port, DE_SRC) as c:
            for name in ("_ntske._tcp.2." + ORIGIN, "_ntske._udp." + ORIGIN,
                         "_ntske._tcp.xx." + ORIGIN):
                _, msg = c.ask(name, "SRV")
                self.assertRcode(msg, "NXDOMAIN")
            # 0x20 case is echoed; the answer is the same.
            _, msg = c.ask("_NTSKE._Tcp.De.POOL.ntp.org", "SRV")
        self.assertEqual(msg.question[0].name.to_text(), "_NTSKE._Tcp.De.POOL.ntp.org.")
        self.assertEqual(set(self.endpoints(msg)), DE_EPS)

    def test_status_metrics_and_counters(self):
        self.ask(NTS_NAME)
        p = subprocess.run([DNSDCTL, "-s", self.server.sock, "status"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        z = {x["origin"]: x for x in json.loads(p.stdout)["zones"]}[ORIGIN]
        self.assertEqual(z["nts"], {"servers": 12, "eligible": 11, "endpoints": 8})
        self.assertEqual(z["counts"]["de"]["nts"], [7, 8, 4])
        self.assertEqual(z["counts"]["fr"]["nts"], [2, 2, 2])
        self.assertNotIn("nts", z["counts"]["jp"])
        _, _, body = http(self.server.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        m = parse_metrics(body.decode())
        self.assertEqual(m['dnsd_zone_nts_servers{zone="%s",state="all"}' % ORIGIN], 12)
        self.assertEqual(m['dnsd_zone_nts_servers{zone="%s",state="eligible"}' % ORIGIN], 11)
        self.assertEqual(m['dnsd_zone_nts_endpoints{zone="%s"}' % ORIGIN], 8)
        self.assertGreaterEqual(m["dnsd_nts_srv_answers_total"], 1)

    def test_unsigned_warning_in_the_log(self):
        self.assertRegex(self.server.log(),
                         r"warn.*pool\.ntp\.org: 8 NTS-KE endpoints answer SRV at "
                         r"_ntske\._tcp\.pool\.ntp\.org unsigned: .*no DNSSEC keys")


class SharesTest(NtsCase):
    """srv_answers 1: the endpoint drawn first, across de's four, in proportion
    to its weight (2000, 1000, 1000, 3000). The daemon's RNG is seeded from the
    OS, so the threshold is chi-square's critical value for 3 degrees of
    freedom at p = 1e-6 (a false alarm once in a million runs); weighting each
    server rather than each endpoint (nts-a 1000, nts-c 1000) gives chi2 > 300
    at 3000 draws. Fixed-seed shares, also of RFC 2782's ordering, are in
    tests/unit/test_nts.c."""

    options = {"srv_answers": 1}
    DRAWS = 3000
    CHI2_DF3_P1E6 = 30.664

    def test_shares_match_endpoint_weights(self):
        counts = {ep: 0 for ep in DE_EPS}
        with Client(self.port, DE_SRC) as c:
            for _ in range(self.DRAWS):
                _, msg = c.ask("_ntske._tcp.de." + ORIGIN, "SRV")
                eps = self.endpoints(msg)
                self.assertEqual(len(eps), 1)
                counts[eps[0]] += 1
        total = sum(WEIGHT[ep] for ep in DE_EPS)
        chi2 = sum((counts[ep] - self.DRAWS * WEIGHT[ep] / total) ** 2
                   / (self.DRAWS * WEIGHT[ep] / total) for ep in DE_EPS)
        self.assertLess(chi2, self.CHI2_DF3_P1E6, counts)


# (the "nts" value as written, the path in the message, what it says, where
# the error points: the first occurrence of this text in the value)
BAD_NTS = [
    ('"nts.example"', "nts", "wrong type: expected an object", '"nts.example"'),
    ('{"port": 4460}', "nts", 'missing key "host"', "{"),
    ('{"host": "nts_1.example"}', "nts.host", "not a host name", '"nts_1'),
    ('{"host": "192.0.2.1"}', "nts.host", "last label is all digits", '"192'),
    ('{"host": "nts.example", "port": 0}', "nts.port", "not a port 1..65535", "0}"),
    ('{"host": "nts.example", "port": 70000}', "nts.port", "not a port 1..65535", "70000"),
    ('{"host": "nts.example", "port": "4460"}', "nts.port", "wrong type: expected a number", '"4460"'),
    ('{"host": "nts.example", "tls": true}', "nts.tls", "unknown key", '"tls"'),
]


def bad_nts_snapshot(serial):
    """(text, [(line, col, message part)]): server i on line 3 + i."""
    lines = ['{"serial": %d,' % serial, ' "servers": [']
    expect = []
    for i, (value, key, what, mark) in enumerate(BAD_NTS):
        line = ('  {"ip": "192.0.2.%d", "score": 20, "netspeed": 1000, "zones": ["de"], '
                '"nts": %s}%s' % (i + 1, value, "," if i + 1 < len(BAD_NTS) else ""))
        lines.append(line)
        col = line.index(mark, line.index('"nts": ') + 7) + 1
        expect.append((3 + i, col, "servers[%d].%s: %s" % (i, key, what)))
    return "\n".join(lines + [" ]}"]) + "\n", expect


class BadNtsTest(NtsCase):

    def assertErrors(self, text, expect, prefix):
        for line, col, what in expect:
            self.assertIn("%s:%d:%d: %s" % (prefix, line, col, what), text)

    def test_bad_nts_entries_refused_everywhere(self):
        text, expect = bad_nts_snapshot(SERIAL + 1)
        path = self.server.write("bad.json", text)
        p = subprocess.run([DNSD, "--check-snapshot", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertFalse(SANITIZER_RE.search(p.stderr), p.stderr)
        self.assertErrors(p.stdout + p.stderr, expect, path)
        p = subprocess.run([DNSDCTL, "check", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertErrors(p.stdout + p.stderr, expect, path)
        # The daemon's own check: ERR listing each, the served serial unchanged.
        with RawCtl(self.server.sock) as c:
            ftype, rep = c.request(PUSH, push_payload(text))
        self.assertEqual(ftype, ERR)
        self.assertEqual(rep["error"], "invalid snapshot")
        self.assertEqual(len(rep["details"]), len(BAD_NTS), rep["details"])
        self.assertErrors("\n".join(rep["details"]), expect, "snapshot")
        _, msg = self.ask("_ntske._tcp.de." + ORIGIN)
        self.assertEqual(set(self.endpoints(msg)), DE_EPS)

    def test_check_snapshot_lists_endpoints(self):
        path = self.server.write("good.json", snapshot_text(SERIAL, nts_servers()))
        p = subprocess.run([DNSD, "--check-snapshot", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("NTS: 12 servers with an NTS-KE endpoint (11 eligible), 8 endpoints",
                      p.stdout)
        self.assertRegex(p.stdout, r"(?m)^de\s+7/8\s+4$")
        self.assertIn("  nts-a.de.example port 4460: 2 servers, 19.51% of the NTS weight",
                      p.stdout)  # 2000 / 10250
        self.assertIn("  nts.us.example port 123: 1 server", p.stdout)
        self.assertNotIn("nts-bad", p.stdout)
        p = subprocess.run([DNSDCTL, "check", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("8 endpoints", p.stdout)
        # dnsd --check names the unsigned SRV names.
        p = subprocess.run([DNSD, "-c", self.server.config, "--check"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stderr, r"8 NTS-KE endpoints answer SRV .* unsigned")


if __name__ == "__main__":
    unittest.main()
