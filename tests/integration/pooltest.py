"""pooltest.py - what the pool tests (test_pool, test_geo, test_snapshot_cli)
share: a test GeoIP database mapping loopback source addresses to countries,
a snapshot whose every server is known by address, a dnsd configured with
both, and a UDP client bound to a chosen loopback source address.

Linux routes all of 127.0.0.0/8 to lo, so a client socket bound to
127.0.2.10 reaches the daemon on 127.0.0.1 and the daemon sees 127.0.2.10 as
the source: the test DB makes that a German client.
"""

import json
import os
import socket
import subprocess
import time

import dns.edns
import dns.message
import dns.rdatatype

from harness import ORIGIN, POOL_ZONE, SOURCE_DIR, Server

MKMMDB = os.path.join(SOURCE_DIR, "tests", "tools", "mkmmdb.pl")
REAL_DB = os.path.join(SOURCE_DIR, ".cache", "geoip", "geo-whois-asn-country.mmdb")

# Source addresses of clients and what the test DB says about them.
DE_SRC, FR_SRC, LU_SRC, US_SRC = "127.0.2.10", "127.0.3.10", "127.0.4.10", "127.0.5.10"
GB_SRC, SE_SRC, AT_SRC, KE_SRC = "127.0.6.10", "127.0.7.10", "127.0.8.10", "127.0.10.10"
TR_SRC = "127.0.12.10"
UNMAPPED_SRC = "127.0.9.10"

GEO_NETS = [
    "127.0.2.0/24=DE/EU",   # continent in the DB
    "127.0.3.0/24=FR",      # no continent: dnsd's built-in table says europe
    "127.0.4.0/24=LU",      # exactly two eligible servers in the snapshot
    "127.0.5.0/24=US/NA",
    "127.0.6.0/24=GB/EU",   # GB's zone is called uk
    "127.0.7.0/24=SE/EU",   # the weighted-selection zone of test_pool
    "127.0.8.0/24=AT/EU",   # no server in at: europe answers
    "127.0.10.0/24=KE/AF",  # no server in ke nor in africa: @ answers
    "127.0.12.0/24=TR/AS",  # the built-in table says europe; the DB's asia wins
    "10.20.0.0/24=FR",      # the first /24 of 10.20.0.0/16: ECS /16 scope capping
    "10.30.0.0/20=FR",      # a /20 decides an ECS /24 query: scope 20
    "2001:db8:de::/48=DE/EU",
]


def make_mmdb(path, nets=GEO_NETS, fmt="geoip2"):
    subprocess.run(["perl", MKMMDB, path, "--format", fmt] + list(nets), check=True,
                   capture_output=True, timeout=60)
    return path


# --------------------------------------------------------------------------
# The test snapshot
# --------------------------------------------------------------------------

def server(ip, zones, score=20.0, netspeed=1000):
    return {"ip": ip, "score": score, "netspeed": netspeed, "zones": list(zones)}


def snapshot_text(serial, servers):
    """JSON with one server per line, so error positions are predictable."""
    lines = ['{"serial": %d,' % serial, ' "servers": [']
    lines += ["  " + json.dumps(s) + ("," if i + 1 < len(servers) else "")
              for i, s in enumerate(servers)]
    return "\n".join(lines + [" ]}"]) + "\n"


# Eligible servers by zone and family. All DE servers weigh the same, so the
# quarter split of de (16 servers) is exactly four servers per quarter.
DE4 = ["10.49.0.%d" % i for i in range(1, 17)]
DE6 = ["2001:db8:49::%x" % i for i in range(1, 7)]
FR4 = ["10.33.0.%d" % i for i in range(1, 7)]
FR_AT_MIN = "10.33.0.7"  # score == min_score: eligible, weight x0.25
LU4 = ["10.35.0.1", "10.35.0.2"]
GB4 = ["10.44.0.%d" % i for i in range(1, 6)]
EU4 = ["10.150.0.%d" % i for i in range(1, 5)]  # europe only, no country
US4 = ["10.1.0.%d" % i for i in range(1, 6)]
US6 = ["2001:db8:1::1", "2001:db8:1::2"]
JP4 = ["10.81.0.%d" % i for i in range(1, 5)]

# Listed but never to be served: below min_score (10), or netspeed 0.
INELIGIBLE = {
    "10.49.1.1": ("de", 5.0, 1000000),
    "10.49.1.2": ("de", 20.0, 0),
    "10.49.1.3": ("de", 9.9, 1000000),
    "10.35.1.1": ("lu", -50.0, 1000000),
    "10.35.1.2": ("lu", 20.0, 0),
    "2001:db8:49::ff": ("de", 0.0, 1000000),
}

CONTINENT = {"de": "europe", "fr": "europe", "lu": "europe", "uk": "europe",
             "us": "north-america", "jp": "asia"}


def pool_servers():
    out = [server(ip, ["de", "europe"]) for ip in DE4 + DE6]
    out += [server(ip, ["fr", "europe"]) for ip in FR4]
    out.append(server(FR_AT_MIN, ["fr", "europe"], score=10.0))
    out += [server(ip, ["lu", "europe"]) for ip in LU4]
    out += [server(ip, ["uk", "europe"]) for ip in GB4]
    out += [server(ip, ["europe"]) for ip in EU4]
    out += [server(ip, ["us", "north-america"]) for ip in US4 + US6]
    out += [server(ip, ["jp", "asia"]) for ip in JP4]
    out += [server(ip, [cc, CONTINENT[cc]], score, ns)
            for ip, (cc, score, ns) in INELIGIBLE.items()]
    return out


POOL_SERIAL = 2026112401
EUROPE4 = set(DE4 + FR4 + [FR_AT_MIN] + LU4 + GB4 + EU4)
ALL4 = EUROPE4 | set(US4 + JP4)
ALL6 = set(DE6 + US6)


def pool_snapshot(serial=POOL_SERIAL):
    return snapshot_text(serial, pool_servers())


# --------------------------------------------------------------------------
# The daemon with a pool
# --------------------------------------------------------------------------

class PoolServer(Server):
    """dnsd serving ORIGIN from `snapshot` (JSON text, or None for no file)
    with zone options (`answers`, `aaaa`, `vendors`, ...), a GeoIP DB built
    from `nets` (None: no geoip key), and optionally a state_dir holding
    `state` files {name: text}. `db` names an existing DB instead of nets;
    `master` is the master file's text."""

    def __init__(self, snapshot=None, options=None, nets=GEO_NETS, fmt="geoip2",
                 country_path=None, db=None, state=None, workers=2, master=POOL_ZONE):
        self.snapshot, self.options, self.master = snapshot, dict(options or {}), master
        self.nets, self.fmt, self.country_path, self.db = nets, fmt, country_path, db
        self.state = state
        super().__init__(workers=workers, zones=[(ORIGIN, POOL_ZONE)])

    def write_config(self):
        lines = ['listen: ["127.0.0.1:%d"%s]' % (
                     self.port, ', "[::1]:%d"' % self.port if self.ipv6 else ""),
                 "workers: %d" % self.workers, "identity: %s" % self.identity]
        db = self.db
        if db is None and self.nets is not None:
            db = make_mmdb(self.path("test.mmdb"), self.nets, self.fmt)
        if db:
            path = self.country_path or ("country_code" if self.fmt == "cc0"
                                         else "country.iso_code")
            lines.append("geoip: {database: %s, country_path: %s}" % (db, path))
        if self.state is not None:
            os.makedirs(self.path("state"), exist_ok=True)
            for name, text in self.state.items():
                self.write(os.path.join("state", name), text)
            lines.append("state_dir: %s" % self.path("state"))
        lines += ["zones:", "  - origin: %s" % ORIGIN,
                  "    master: %s" % self.write(ORIGIN + ".zone", self.master)]
        if self.snapshot is not None:
            lines.append("    snapshot: %s" % self.write("snapshot.json", self.snapshot))
        lines += ["    %s: %s" % kv for kv in self.options.items()]
        return self.write("dnsd.yaml", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------

class Client:
    """A UDP socket bound to `src`, connected to the daemon."""

    def __init__(self, port, src="127.0.0.1"):
        v6 = ":" in src
        self.sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.sock.connect(("::1" if v6 else "127.0.0.1", port))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def exchange(self, wire, timeout=2.0):
        """Sends wire; returns the raw reply with the same ID (two tries)."""
        for _ in range(2):
            self.sock.send(wire)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
                try:
                    raw = self.sock.recv(65535)
                except socket.timeout:
                    break
                if raw[:2] == wire[:2]:
                    return raw
        raise AssertionError("no answer from dnsd")

    def ask(self, name, rdtype="A", ecs=None):
        """(raw, message); ecs is (address, source prefix) or None for no EDNS."""
        options = [dns.edns.ECSOption(ecs[0], ecs[1])] if ecs else []
        q = dns.message.make_query(name, rdtype, use_edns=0 if ecs else None,
                                   payload=1232, options=options)
        q.flags = 0
        raw = self.exchange(q.to_wire())
        return raw, dns.message.from_wire(raw)


def addrs(msg, rdtype="A"):
    """Addresses of the answer section, in order (one RRset expected)."""
    t = dns.rdatatype.from_text(rdtype)
    return [rd.address for rrs in msg.answer if rrs.rdtype == t for rd in rrs]


def ecs_of(msg):
    """The ECS option of a reply, or None."""
    for opt in msg.options:
        if opt.otype == dns.edns.ECS:
            return opt
    return None


def country_txt(msg):
    """_country TXT strings as a dict: {"country": "DE", "zone": "de", ...}."""
    out = {}
    for rrs in msg.answer:
        for rd in rrs:
            for s in rd.strings:
                key, _, value = s.decode().partition(" ")
                out[key] = value
    return out
