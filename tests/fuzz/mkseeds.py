#!/usr/bin/python3
"""mkseeds.py - writes the seed corpora of tests/fuzz/corpus/<target>/.

    /usr/bin/python3 tests/fuzz/mkseeds.py [CORPUS_DIR]    (needs python3-dnspython)

Deterministic: running it again rewrites the same files. Queries are built with
dnspython where it can express them and by hand where they must be broken;
snapshots, configs and master files come from the repo's own files plus
variants; control frames follow docs/control-protocol.md, with MACs under the
key and nonce fuzz_ctl_frame.c uses, so valid MAC paths are reachable.
"""
import hashlib
import hmac
import json
import os
import shutil
import struct
import sys

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


# --------------------------------------------------------------------------
# fuzz_query


def q(name, rdtype="A", rdclass="IN", qid=0x1234, edns=-1, payload=1232, options=(),
      do=False, flags=dns.flags.RD):
    m = dns.message.make_query(name, rdtype, rdclass, use_edns=edns, payload=payload,
                               options=list(options), want_dnssec=do)
    m.id = qid
    m.flags = flags
    return m.to_wire()


def ecs(addr, prefix):
    return dns.edns.ECSOption(addr, prefix)


def raw_name(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def raw(qd=1, an=0, ns=0, ar=0, body=b"", flags=0x0100, qid=0xBEEF):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar) + body


def opt(payload=1232, ttl=0, rdata=b""):
    return b"\0" + struct.pack(">HHIH", 41, payload, ttl, len(rdata)) + rdata


def query_seeds():
    nsid = dns.edns.GenericOption(dns.edns.NSID, b"")
    names = ["pool.ntp.org", "0.pool.ntp.org", "2.pool.ntp.org", "de.pool.ntp.org",
             "2.de.pool.ntp.org", "europe.pool.ntp.org", "gb.pool.ntp.org",
             "1.debian.pool.ntp.org", "_country.pool.ntp.org", "www.pool.ntp.org",
             "nope.pool.ntp.org", "pool.test", "a.b.c.pool.test", "b.c.pool.test",
             "alias.pool.test", "example.com"]
    for i, n in enumerate(names):
        for t in ("A", "AAAA"):
            put("fuzz_query", f"{t.lower()}-{i:02d}-{n}", q(n, t, edns=0))
    for t in ("TXT", "ANY", "SOA", "NS", "MX", "CNAME", "HINFO", "CAA", "AXFR", "IXFR"):
        put("fuzz_query", f"{t.lower()}-apex", q("pool.ntp.org", t))
        put("fuzz_query", f"{t.lower()}-test", q("pool.test", t, edns=0))
    put("fuzz_query", "a-noedns", q("pool.ntp.org"))
    # NTS SRV names (the sample snapshot has NTS endpoints): by place, fixed,
    # the empty _tcp above them, a name that does not exist, other types.
    for n in ("_ntske._tcp.pool.ntp.org", "_ntske._tcp.de.pool.ntp.org",
              "_ntske._tcp.gb.pool.ntp.org", "_tcp.pool.ntp.org", "_ntske._tcp.2.pool.ntp.org"):
        put("fuzz_query", f"srv-{n}", q(n, "SRV", edns=0))
    put("fuzz_query", "srv-ecs-lu", q("_ntske._tcp.pool.ntp.org", "SRV", edns=0,
                                      options=[ecs("158.64.1.0", 24)]))
    put("fuzz_query", "srv-noedns", q("_ntske._tcp.pool.ntp.org", "SRV"))
    put("fuzz_query", "any-nts", q("_NTSKE._tcp.Europe.pool.ntp.org", "ANY", edns=0))
    put("fuzz_query", "a-nts", q("_ntske._tcp.pool.ntp.org", "A", edns=0))
    put("fuzz_query", "a-0x20", q("pOoL.NtP.oRg", edns=0))
    put("fuzz_query", "aaaa-0x20-2DE", q("2.De.PoOl.nTp.OrG", "AAAA", edns=0))
    put("fuzz_query", "a-do-4096", q("de.pool.ntp.org", edns=0, payload=4096, do=True))
    # DNSSEC (both origins are signed in fuzz_query): DO on every kind of answer.
    for n, t in (("pool.ntp.org", "A"), ("2.pool.ntp.org", "AAAA"), ("de.pool.ntp.org", "A"),
                 ("nope.pool.ntp.org", "A"), ("www.pool.ntp.org", "TXT"),
                 ("pool.ntp.org", "DNSKEY"), ("pool.ntp.org", "CDS"),
                 ("pool.ntp.org", "CDNSKEY"), ("pool.ntp.org", "DS"),
                 ("www.pool.ntp.org", "NSEC"), ("pool.ntp.org", "RRSIG"),
                 ("_country.pool.ntp.org", "TXT"), ("pool.test", "ANY"),
                 ("x.y.pool.test", "NSEC"), ("pool.test", "A")):
        put("fuzz_query", f"do-{t.lower()}-{n}", q(n, t, edns=0, do=True))
    put("fuzz_query", "do-a-512", q("pool.ntp.org", edns=0, payload=512, do=True))
    put("fuzz_query", "do-ecs", q("pool.ntp.org", edns=0, do=True,
                                  options=[ecs("10.1.2.0", 24)]))
    put("fuzz_query", "a-udp-0", q("pool.ntp.org", edns=0, payload=0))
    put("fuzz_query", "a-udp-600", q("pool.ntp.org", edns=0, payload=600))
    put("fuzz_query", "a-edns1", q("pool.ntp.org", edns=1))
    put("fuzz_query", "a-nsid", q("pool.ntp.org", edns=0, options=[nsid]))
    put("fuzz_query", "a-nsid-512", q("pool.ntp.org", edns=0, payload=512, options=[nsid]))
    put("fuzz_query", "a-ecs-v4-24", q("pool.ntp.org", edns=0, options=[ecs("10.1.2.0", 24)]))
    put("fuzz_query", "a-ecs-v4-32", q("pool.ntp.org", edns=0, options=[ecs("198.51.100.9", 32)]))
    put("fuzz_query", "a-ecs-v4-0", q("pool.ntp.org", edns=0, options=[ecs("0.0.0.0", 0)]))
    put("fuzz_query", "aaaa-ecs-v6-56",
        q("2.pool.ntp.org", "AAAA", edns=0, options=[ecs("2001:db8:1::", 56), nsid]))
    put("fuzz_query", "txt-country-ecs-v6",
        q("_country.pool.ntp.org", "TXT", edns=0, options=[ecs("2001:db8:de::", 48)]))
    cookie = lambda data: dns.edns.GenericOption(10, data)
    put("fuzz_query", "a-cookie-client", q("pool.ntp.org", edns=0, options=[cookie(b"clientc1")]))
    put("fuzz_query", "a-cookie-server", q("pool.ntp.org", edns=0, options=[
        cookie(b"clientc1" + bytes([1, 0, 0, 0]) + b"\x69\x24\x86\x00" + b"servcook")]))
    put("fuzz_query", "bad-cookie-short", q("pool.ntp.org", edns=0, options=[cookie(b"abc")]))
    put("fuzz_query", "bad-cookie-long", q("pool.ntp.org", edns=0, options=[cookie(b"c" * 41)]))
    put("fuzz_query", "a-unknown-option",
        q("pool.ntp.org", edns=0, options=[dns.edns.GenericOption(65001, b"xyz")]))
    for n in ("id.server", "hostname.bind", "version.bind", "version.server", "foo.bar"):
        put("fuzz_query", f"ch-{n}", q(n, "TXT", "CH", edns=0, options=[nsid]))
    put("fuzz_query", "class-any", q("www.pool.ntp.org", "A", "ANY"))
    put("fuzz_query", "class-hs", q("www.pool.ntp.org", "A", "HS"))
    put("fuzz_query", "type-unknown", q("www.pool.ntp.org", "TYPE65000", edns=0))
    m = dns.message.make_query("pool.ntp.org", "SOA")
    m.set_opcode(dns.opcode.NOTIFY)
    m.id = 0x1234
    put("fuzz_query", "opcode-notify", m.to_wire())
    m = dns.message.make_query("pool.ntp.org", "SOA")
    m.set_opcode(dns.opcode.UPDATE)
    m.id = 0x1234
    put("fuzz_query", "opcode-update", m.to_wire())

    # Broken by hand: every FORMERR and drop case of the parser.
    qn = raw_name(b"pool", b"ntp", b"org")
    qa = qn + struct.pack(">HH", 1, 1)
    put("fuzz_query", "bad-short", b"\x12\x34\x01\x00\x00")
    put("fuzz_query", "bad-response", raw(flags=0x8100, body=qa))
    put("fuzz_query", "bad-qd0", raw(qd=0))
    put("fuzz_query", "bad-qd2", raw(qd=2, body=qa + qa))
    put("fuzz_query", "bad-pointer-in-q", raw(body=b"\x03www\xc0\x0c" + struct.pack(">HH", 1, 1)))
    put("fuzz_query", "bad-label-64", raw(body=b"\x40" + b"a" * 64 + b"\0\0\1\0\1"))
    put("fuzz_query", "bad-name-256", raw(body=b"\x3f" + (b"a" * 63 + b"\x3f") * 3 + b"a" * 63
                                          + b"\x03abc\0\0\1\0\1"))
    put("fuzz_query", "bad-reserved-label", raw(body=b"\x80abc\0\0\1\0\1"))
    put("fuzz_query", "bad-truncated-q", raw(body=qn + b"\0"))
    put("fuzz_query", "bad-counts", raw(an=5, ns=5, ar=5, body=qa))
    put("fuzz_query", "bad-opt-not-last", raw(ar=2, body=qa + opt() + b"\0\0\1\0\1\0\0\0\0\0\0"))
    put("fuzz_query", "bad-opt-in-answer", raw(an=1, body=qa + opt()))
    put("fuzz_query", "bad-two-opt", raw(ar=2, body=qa + opt() + opt()))
    put("fuzz_query", "bad-opt-owner", raw(ar=1, body=qa + b"\x01a" + opt()[0:]))
    put("fuzz_query", "bad-opt-overrun", raw(ar=1, body=qa + opt(rdata=b"\0\x03\0\x10ab")))
    ecs4 = lambda src, addr: struct.pack(">HHHBB", 8, 4 + len(addr), 1, src, 0) + addr
    put("fuzz_query", "bad-ecs-bits", raw(ar=1, body=qa + opt(rdata=ecs4(20, b"\x0a\x01\x0f"))))
    put("fuzz_query", "bad-ecs-two", raw(ar=1, body=qa + opt(rdata=ecs4(8, b"\x0a") * 2)))
    put("fuzz_query", "bad-ecs-family", raw(ar=1, body=qa + opt(rdata=struct.pack(
        ">HHHBB", 8, 4, 3, 0, 0))))
    put("fuzz_query", "bad-ecs-prefix-33", raw(ar=1, body=qa + opt(rdata=ecs4(33, b"\1\2\3\4\0"))))
    put("fuzz_query", "ok-trailing-garbage", raw(body=qa + b"garbage"))
    put("fuzz_query", "ok-compressed-additional",
        raw(ar=2, body=qa + b"\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\1\2\3\4" + opt(4096, 0x8000)))


# --------------------------------------------------------------------------
# fuzz_snapshot


def snapshot_seeds():
    d = os.path.join(ROOT, "tests/data/snapshots")
    for f in sorted(os.listdir(d)):
        put("fuzz_snapshot", f, read(f"tests/data/snapshots/{f}"))
    sample = json.loads(read("config/sample-snapshot.json"))
    # 40 servers: enough for quarters (>= 8 eligible) in the larger zones.
    trimmed = {"serial": sample["serial"], "servers": sample["servers"][:40]}
    put("fuzz_snapshot", "sample-trimmed.json", json.dumps(trimmed, indent=1))
    de = {"serial": 9, "servers": [
        {"ip": f"10.9.0.{i}", "score": 10 + i % 11, "netspeed": 1000 * (i + 1),
         "zones": ["de", "europe"]} for i in range(1, 17)] + [
        {"ip": f"2001:db8:9::{i:x}", "score": 20, "netspeed": 5000, "zones": ["de"]}
        for i in range(1, 10)]}
    put("fuzz_snapshot", "de-quarters.json", json.dumps(de))
    put("fuzz_snapshot", "empty-servers.json", '{"serial": 1, "servers": []}')
    put("fuzz_snapshot", "nts-endpoints.json", json.dumps({"serial": 3, "servers": [
        {"ip": "192.0.2.1", "score": 20, "netspeed": 1000, "zones": ["de"],
         "nts": {"host": "a.example"}},
        {"ip": "2001:db8::1", "score": 20, "netspeed": 1000, "zones": ["de"],
         "nts": {"host": "A.example.", "port": 4460}},
        {"ip": "192.0.2.2", "score": 12, "netspeed": 500, "zones": ["fr", "europe"],
         "nts": {"port": 4461, "host": "b.example"}}]}, indent=1))
    put("fuzz_snapshot", "nts-bad.json", json.dumps({"serial": 3, "servers": [
        {"ip": "192.0.2.1", "score": 20, "netspeed": 1000, "zones": ["de"],
         "nts": {"host": "a_b.example", "port": 0, "x": 1}},
        {"ip": "192.0.2.2", "score": 20, "netspeed": 1000, "zones": ["de"],
         "nts": {"host": "192.0.2.1", "port": 65536}},
        {"ip": "192.0.2.3", "score": 20, "netspeed": 1000, "zones": ["de"],
         "nts": "a.example"}]}, indent=1))
    put("fuzz_snapshot", "yaml-flow.json", "serial: 3\nservers:\n - {ip: 192.0.2.1, "
        "score: 20, netspeed: 10, zones: [fr]}\n")
    # The nesting bound (32): just inside and just past it, arrays and objects,
    # in a known and an unknown key; and the forms a lax reader would take.
    put("fuzz_snapshot", "deep-servers-33.json",
        '{"serial": 1, "servers": [' + "[" * 31 + "]" * 31 + "]}")
    put("fuzz_snapshot", "deep-unknown-32.json",
        '{"serial": 1, "servers": [], "x": ' + '{"a": ' * 31 + "1" + "}" * 31 + "}")
    put("fuzz_snapshot", "deep-mixed-40.json",
        '{"serial": 1, "servers": [{"zones": ' + '[{"a": ' * 20 + "}]" * 20 + "}]}")
    put("fuzz_snapshot", "lax-numbers.json",
        '{"serial": 0x10, "servers": [{"ip": "192.0.2.1", "score": 15., "netspeed": '
        '0x1p3, "zones": []}]}')
    put("fuzz_snapshot", "lax-strings.json",
        '{"serial": 1, "servers": [{"ip": "192.0.2.1\\u0000", "sc\\u0000ore": 1, '
        '"zones": ["\\ud83d\\ude00", "\u00e9"]}]}')
    put("fuzz_snapshot", "bad-addresses.json", json.dumps({"serial": 1, "servers": [
        {"ip": ip, "score": 20, "netspeed": 1000, "zones": []}
        for ip in ("0.0.0.0", "127.0.0.1", "255.255.255.255", "224.0.0.1", "169.254.0.1",
                   "::", "::1", "ff02::1", "fe80::1", "::ffff:10.0.0.1", "::10.0.0.1",
                   "10.0.0.1")]}))
    put("fuzz_snapshot", "utf16.json", '{"serial": 1, "servers": []}'.encode("utf-16"))


# --------------------------------------------------------------------------
# fuzz_config

CFG_MIN = "zones:\n  - {origin: pool.ntp.org, master: pool.ntp.org.zone}\n"
CFG_ALL = """listen: ["127.0.0.1:53", "[::1]:53", "0.0.0.0:5300"]
workers: 4
identity: node-1.example
geoip: {database: /var/lib/geo.mmdb, country_path: country_code}
state_dir: /var/lib/dnsd
zones:
  - origin: Pool.NTP.org.
    master: a.zone
    snapshot: s.json
    ttl: 0
    answers: 16
    min_score: -100
    full_score: 20
    aaaa: all
    vendors: [debian, ubuntu]
  - {origin: pool.test, master: /abs/b.zone, aaaa: numbered-2, answers: 1}
control: {unix: ctl.sock, tcp: "[::1]:8953", key_file: key}
metrics: "127.0.0.1:9153"
tcp: {idle_timeout: 3600, max_connections: 1000000, max_per_client: 10, read_timeout: 5}
rrl: {rate: 20, slip: 2, ipv4_prefix: 24, ipv6_prefix: 56, exempt: [192.0.2.0/24, "2001:db8::/32"]}
cookies: {secret: 000102030405060708090a0b0c0d0e0f}
user: dnsd
group: nogroup
query_log: {dnstap: {unix: /run/dnstap.sock}}
log: {target: syslog, level: debug}
"""
CFG_BAD = {
    "bad-listen": "listen: [\"localhost:53\"]\n" + CFG_MIN,
    "bad-listen-dup": "listen: [\"127.0.0.1:53\", \"127.0.0.1:53\"]\n" + CFG_MIN,
    "bad-workers": "workers: 0\n" + CFG_MIN,
    "bad-answers": CFG_MIN.replace("}", ", answers: 17}"),
    "bad-scores": CFG_MIN.replace("}", ", min_score: 15, full_score: 10}"),
    "bad-aaaa": CFG_MIN.replace("}", ", aaaa: some}"),
    "bad-ttl": CFG_MIN.replace("}", ", ttl: 2147483648}"),
    "bad-origin": "zones:\n  - {origin: \"a..b\", master: m}\n",
    "bad-dup-key": "workers: 1\nworkers: 2\n" + CFG_MIN,
    "bad-unknown-key": "colour: blue\n" + CFG_MIN,
    "bad-no-zones": "workers: auto\n",
    "bad-tcp-nokey": "control: {tcp: \"127.0.0.1:8953\"}\n" + CFG_MIN,
    "vendor-zone-name": CFG_MIN.replace("}", ", vendors: [de]}"),  # static.c refuses it
    "bad-two-docs": CFG_MIN + "---\n" + CFG_MIN,
    "alias": "identity: &id node\nzones:\n  - {origin: pool.ntp.org, master: *id}\n",
    "bad-not-mapping": "- 1\n- 2\n",
    "bad-tab": "zones:\n\t- origin: x\n",
    "ok-dnstap-path": "query_log: {dnstap: dnstap.fstrm}\nlog: {target: stderr, level: warn}\n"
                      + CFG_MIN,
    "ok-dnstap-file": "query_log:\n  dnstap: {file: /var/log/q.fstrm}\n" + CFG_MIN,
    "bad-dnstap-key": "query_log: {dnstap: {tcp: x}}\n" + CFG_MIN,
    "bad-log-level": "log: {level: loud}\n" + CFG_MIN,
    "bad-rrl-prefix": "rrl: {rate: 5, ipv4_prefix: 33}\n" + CFG_MIN,
    "bad-rrl-exempt": "rrl: {exempt: [300.1.2.0/24]}\n" + CFG_MIN,
    "bad-cookie-secret": "cookies: {secret: 00zz}\n" + CFG_MIN,
    "bad-user-long": "user: " + "u" * 40 + "\n" + CFG_MIN,
    # The nesting bound (32 levels in all): flow style past it, block style
    # past it, and flow style just inside it (refused as a wrong type).
    "bad-deep-flow": CFG_MIN + "rrl: " + "[" * 40 + "]" * 40 + "\n",
    "bad-deep-block": CFG_MIN + "".join("%sk%d:\n" % (" " * i, i) for i in range(33)),
    "bad-deep-32": CFG_MIN + "rrl: " + "{a: " * 31 + "1" + "}" * 31 + "\n",
}


def config_seeds():
    put("fuzz_config", "dnsd.yaml", read("config/dnsd.yaml"))
    put("fuzz_config", "minimal.yaml", CFG_MIN)
    put("fuzz_config", "all-keys.yaml", CFG_ALL)
    for name, text in CFG_BAD.items():
        put("fuzz_config", name + ".yaml", text)
    # zones[].dnssec: durations with every suffix, key lists, and a bad one.
    zone = "zones:\n  - origin: pool.ntp.org\n    master: m.zone\n"
    put("fuzz_config", "dnssec.yaml", zone + "    dnssec:\n      keys: [K.private, /k/K2.private]\n"
        "      publish: [K3.key]\n      signature_validity: 14d\n"
        "      inception_offset: 3600\n      refresh: 90m\n")
    put("fuzz_config", "bad-dnssec.yaml", zone + "    dnssec: {keys: [K.private], "
        "signature_validity: 5m, refresh: 300s}\n")


# --------------------------------------------------------------------------
# fuzz_ctl_frame: in[0] split point, in[1] mode (bit 0 MAC from the start,
# bit 1 client side, bits 2-3 payload cap 4096/65536/default/16, bit 4 a
# buffer budget of 1 KiB), stream. Protocol version 2: header, header MAC,
# payload, frame MAC.

KEY = b"fuzz-key-0123456789abcdef"
SERVER_NONCE = b"\xa5" * 32
CLIENT_NONCE = bytes(range(32))


def frame(ftype, payload=b"", mac=None, length=None):
    hdr = b"DC\x02" + bytes([ftype]) + struct.pack(">I", len(payload) if length is None
                                                     else length)
    if mac is None:
        return hdr + payload
    direction, nonce, seq = mac
    pre = direction + nonce + struct.pack(">Q", seq) + hdr
    h = hmac.new(KEY, b"dnsd-ctl-v2/head" + pre, hashlib.sha256).digest()
    m = hmac.new(KEY, b"dnsd-ctl-v2/frame" + pre + payload, hashlib.sha256).digest()
    return hdr + h + payload + m


def push(origin, snap, flags=0):
    return bytes([flags, len(origin)]) + origin + snap


def hello(flags, identity):
    return CLIENT_NONCE + bytes([flags]) + identity


def ctl_seeds():
    snap = b'{"serial": 5, "servers": [{"ip": "192.0.2.1", "score": 20, "netspeed": 1000,' \
           b' "zones": ["de"]}]}'
    status = json.dumps({"identity": "dnsd-demo", "zones": [
        {"origin": "pool.ntp.org", "serial": 2026112401, "servers": 1000}]}).encode()
    err = json.dumps({"error": "bad snapshot", "details": ["x:1:2: bad \u00e9 \"q\"",
                                                         "\\u0001"]}).encode()
    s = lambda seq: (b"C", SERVER_NONCE, seq)
    c = lambda seq: (b"S", CLIENT_NONCE, seq)
    seeds = {
        "server-status": (0, 0, frame(3)),
        "server-push": (40, 0, frame(2, push(b"pool.ntp.org", snap))),
        "server-push-force-first": (255, 0, frame(2, push(b"", snap, 1)) + frame(4)),
        "server-requests": (77, 0, frame(3) + frame(4) + frame(5) + frame(3, b"x")),
        "server-mac-status-push": (20, 1, frame(3, mac=s(0))
                                   + frame(2, push(b"pool.test", snap), mac=s(1))),
        "server-mac-bad": (0, 1, frame(5, mac=s(7))),
        "server-reply-unexpected": (0, 0, frame(0x80, b"{}")),
        "server-truncated": (128, 0, frame(2, push(b"pool.ntp.org", snap))[:-9]),
        "server-oversize-cap16": (0, 3 << 2, frame(2, push(b"p", snap))),
        "server-mac-head-forged": (0, 1, frame(2, b"", length=64 << 20)[:8] + b"\0" * 32),
        "server-mac-head-ok-body-bad": (9, 1, frame(3, b"{}", mac=s(0))[:-1] + b"\0"),
        "server-mac-trickle-head": (200, 1, frame(2, push(b"p", snap), mac=s(0))[:39]),
        "server-budget-push": (50, 1 | 16, frame(2, push(b"pool.ntp.org", snap), mac=s(0))
                               + frame(3, mac=s(1))),
        "server-budget-over": (3, 16, frame(2, push(b"p", snap * 8))),
        "server-bad-magic": (3, 0, b"XC\x02\x03\0\0\0\0"),
        "server-bad-version": (3, 0, b"DC\x01\x03\0\0\0\0"),
        "server-bad-type": (3, 0, b"DC\x02\x07\0\0\0\0"),
        "server-huge-len": (1, 2 << 2, b"DC\x02\x02\x03\xff\xff\xff"),
        "client-hello-ok-err": (60, 2, frame(1, hello(1, b"dnsd-demo"))
                                + frame(0x80, status, mac=c(0)) + frame(0x81, err, mac=c(1))),
        "client-hello-nomac": (0, 2, frame(1, hello(0, b"node")) + frame(0x80, b"{}")),
        "client-hello-bad-identity": (10, 2, frame(1, hello(1, b"bad\x01id"))),
        "client-hello-short": (0, 2, frame(1, b"\0" * 10)),
        "client-first-not-hello": (0, 2, frame(0x80, status)),
        "json-status": (0, 0, status),
        "json-error": (0, 0, err),
        "json-nested": (0, 0, b'{"a": [1, -2.5e3, true, false, null, {"b": "\\ud83d\\ude00"}],'
                              b' "n": 18446744073709551615, "m": 18446744073709551616}'),
        "json-deep": (0, 0, b"[" * 70 + b"]" * 70),
        "json-bad": (0, 0, b'{"a": [1, 2,], "b": 01, "c": "\\x"}'),
    }
    for name, (split, mode, stream) in seeds.items():
        put("fuzz_ctl_frame", name, bytes([split, mode]) + stream)


# --------------------------------------------------------------------------
# fuzz_master: origin pool.test, vendors debian and ubuntu.

MASTER_BASE = """$ORIGIN pool.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
"""
MASTER_VARIANTS = {
    "ok-minimal.zone": "",
    "ok-relative.zone": "ns1 A 192.0.2.1\nwww 60 IN AAAA 2001:db8::1\n"
                        "a.b.c TXT \"deep\" \"two\"\n@ MX 10 mail\nmail CNAME www\n"
                        "de TXT \"txt at a pool name is fine\"\n",
    "ok-parens.zone": "txt TXT ( \"a\"\n \"b\" ) ; comment\n$TTL 1h\nt2 TXT \"c\"\n",
    "bad-no-ns.zone": None,
    "bad-two-soa.zone": "@ SOA ns2 hm 2 3 4 5 6\n",
    "bad-a-at-pool.zone": "2.de A 192.0.2.9\n",
    "bad-country.zone": "_country TXT \"x\"\n",
    "bad-wildcard.zone": "*.x A 192.0.2.1\n",
    "bad-delegation.zone": "sub NS ns.elsewhere.example.\n",
    "bad-outside.zone": "www.example.com. A 192.0.2.1\n",
    "bad-include.zone": "$INCLUDE /etc/passwd\n",
    "bad-syntax.zone": "www A 999.1.1.1\n",
    "bad-vendor-at.zone": "debian AAAA 2001:db8::1\n",
    "bad-class.zone": "www CH A 192.0.2.1\n",
}


def master_seeds():
    put("fuzz_master", "pool.ntp.org-as-pool.test.zone",
        read("config/pool.ntp.org.zone").replace(b"pool.ntp.org", b"pool.test"))
    put("fuzz_master", "types.zone", read("tests/data/zones/types.zone"))
    for name, extra in MASTER_VARIANTS.items():
        text = MASTER_BASE.replace("@ NS ns1\n", "") if extra is None else MASTER_BASE + extra
        put("fuzz_master", name, text)


if __name__ == "__main__":
    for t in ("fuzz_query", "fuzz_snapshot", "fuzz_config", "fuzz_ctl_frame", "fuzz_master"):
        shutil.rmtree(os.path.join(OUT, t), ignore_errors=True)
    query_seeds()
    snapshot_seeds()
    config_seeds()
    ctl_seeds()
    master_seeds()
