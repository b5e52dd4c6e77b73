"""benchdata.py - what every server in the bench is configured from.

One place holds the client mapping (source address -> country), the query mix
and the translation of a dnsd snapshot into the peers' configuration formats,
so dnsd, gdnsd, Knot and NSD serve the same names from the same data:

  dnsd   the snapshot itself, GeoIP from the bench's test database
  gdnsd  plugin geoip (same database) -> plugin weighted per zone
  Knot   mod-geoip in geodb mode (same database), fixed answer sets per country
  NSD    a static zone, fixed answer sets

Used by bench/run; not meant to be run on its own.
"""
import ipaddress
import json
import random

ORIGIN = "pool.ntp.org"
ANSWERS = 4            # records per pool answer, dnsd's default
MIN_SCORE, FULL_SCORE = 10.0, 15.0
TTL = 150

# Client locations. dnsperf sends from one address per process, so the bench
# runs one dnsperf per source, each bound with -a to its own loopback address;
# the test GeoIP database maps these /24s. 127.0.6.0/24 is not in it.
SOURCES = [  # (address, country, continent zone)
    ("127.0.2.1", "us", "north-america"),
    ("127.0.3.1", "de", "europe"),
    ("127.0.4.1", "fr", "europe"),
    ("127.0.5.1", "lu", "europe"),   # a small country: backfilled from europe
    ("127.0.6.1", None, None),       # unmapped: the global zone
]
MMDB_NETS = ["127.0.2.0/24=US/NA", "127.0.3.0/24=DE/EU", "127.0.4.0/24=FR/EU",
             "127.0.5.0/24=LU/EU"]
CONTINENT_CODE = {"north-america": "NA", "europe": "EU"}

# The mix: 70% [0-3].pool.ntp.org A, 15% 2.pool.ntp.org AAAA, 15% country and
# continent names (A).
ZONE_NAMES = ["de", "us", "fr", "lu", "europe"]


def queries(n, seed=2026):
    """n lines of dnsperf input, "name type", in a fixed shuffled order."""
    rng = random.Random(seed)
    n_num, n_aaaa = n * 70 // 100, n * 15 // 100
    lines = ["%d.%s A" % (i % 4, ORIGIN) for i in range(n_num)]
    lines += ["2.%s AAAA" % ORIGIN] * n_aaaa
    rest = n - len(lines)
    lines += ["%s.%s A" % (ZONE_NAMES[i % len(ZONE_NAMES)], ORIGIN) for i in range(rest)]
    rng.shuffle(lines)
    return "".join(l + "\n" for l in lines)


def weight(srv):
    """zones/pool.c zone_weight(): netspeed x m(score), m 0.25..1 in 1/1024ths."""
    s, speed = srv["score"], srv["netspeed"]
    if s < MIN_SCORE or speed <= 0:
        return 0
    m = 1024 if s >= FULL_SCORE else round(1024 * (0.25 + 0.75 * (s - MIN_SCORE)
                                                   / (FULL_SCORE - MIN_SCORE)))
    return speed * min(m, 1024)


class Pool:
    """Eligible servers per (zone, family), heaviest first. '@' holds all."""

    def __init__(self, snapshot_path):
        with open(snapshot_path) as f:
            snap = json.load(f)
        self.serial = snap["serial"]
        self.by_zone = {}
        for srv in snap["servers"]:
            w = weight(srv)
            if not w:
                continue
            fam = ipaddress.ip_address(srv["ip"]).version
            for z in ["@"] + srv["zones"]:
                self.by_zone.setdefault((z, fam), []).append((w, srv["ip"]))
        for v in self.by_zone.values():
            v.sort(key=lambda t: (-t[0], t[1]))

    def servers(self, zone, fam):
        return self.by_zone.get((zone, fam), [])

    def fixed(self, walk, fam, n=ANSWERS):
        """The n heaviest servers along a zone walk (country, continent, '@'),
        topped up like dnsd's backfill: the static peers' answer set."""
        out = []
        for z in walk:
            for _, ip in self.servers(z, fam):
                if ip not in out:
                    out.append(ip)
                if len(out) == n:
                    return out
        return out


def walk_of(zone):
    for _, cc, cont in SOURCES:
        if cc == zone:
            return [cc, cont, "@"]
    return [zone, "@"]


def geo_zones():
    """(gdnsd datacenter / Knot geo key, walk) per mapped source, then global."""
    out = [(cc, [cc, cont, "@"]) for _, cc, cont in SOURCES if cc]
    return out + [("global", ["@"])]


# ------------------------------------------------------------------ dnsd


def dnsd_yaml(port, mmdb, master, snapshot, workers=1):
    return ("listen: [\"127.0.0.1:%d\"]\nworkers: %s\nidentity: bench\n"
            "geoip: {database: %s, country_path: country.iso_code}\n"
            "zones:\n  - origin: %s\n    master: %s\n    snapshot: %s\n"
            "    ttl: %d\n    answers: %d\n    min_score: %g\n    full_score: %g\n"
            % (port, workers, mmdb, ORIGIN, master, snapshot, TTL, ANSWERS,
               MIN_SCORE, FULL_SCORE))


# ------------------------------------------------------------------ zones

SOA = ("@ 3600 IN SOA ns1.%s. hostmaster.%s. 2026112401 3600 600 1209600 60\n"
       "@ 3600 IN NS ns1.%s.\n@ 3600 IN NS ns2.%s.\n"
       "ns1 3600 IN A 192.0.2.53\nns2 3600 IN A 192.0.2.54\n") % ((ORIGIN,) * 4)


def _rrs(owner, ips, rtype):
    return "".join("%s %d IN %s %s\n" % (owner, TTL, rtype, ip) for ip in ips)


def static_zone(pool, geo_names=True):
    """Zone text with fixed answer sets. geo_names: also the numbered names
    (global answers), for NSD; Knot puts them there as its no-match default."""
    text = "$ORIGIN %s.\n%s" % (ORIGIN, SOA)
    if geo_names:
        for i in range(4):
            text += _rrs(str(i), pool.fixed(["@"], 4), "A")
        text += _rrs("2", pool.fixed(["@"], 6), "AAAA")
    for z in ZONE_NAMES:
        text += _rrs(z, pool.fixed(walk_of(z), 4), "A")
    return text


# ------------------------------------------------------------------ gdnsd

GDNSD_GROUPS = 64      # gdnsd-plugin-weighted: at most 64 groups per resource
GDNSD_WMAX = 1000000   # weights are integers; scale the heaviest group to this


def _gdnsd_family(servers):
    """Grouped-single: groups of ANSWERS servers, one group drawn by its summed
    weight, all its members returned (equal weights inside a group). So each
    answer holds up to 4 weighted-random servers, as dnsd's do; gdnsd cannot
    sample without replacement over a whole zone, and keeps the 256 heaviest."""
    servers = servers[:GDNSD_GROUPS * ANSWERS]
    groups = [servers[i:i + ANSWERS] for i in range(0, len(servers), ANSWERS)]
    top = max(sum(w for w, _ in g) for g in groups)
    out = "{\n"
    for gi, g in enumerate(groups):
        each = max(1, sum(w for w, _ in g) * GDNSD_WMAX // top // len(g))
        out += "      g%d => {\n" % gi
        out += "".join("        s%d = [ %s, %d ]\n" % (k, ip, each)
                       for k, (_, ip) in enumerate(g))
        out += "      }\n"
    return out + "    }\n"


def _gdnsd_walk_servers(pool, walk, fam):
    """A zone's servers, backfilled along its walk up to ANSWERS like dnsd."""
    seen, out = set(), []
    for z in walk:
        for w, ip in pool.servers(z, fam):
            if ip not in seen:
                seen.add(ip)
                out.append((w, ip))
        if len(out) >= ANSWERS:
            break
    return out


def gdnsd_config(port, pool):
    """(config text, zone text). The database is expected as geoip/bench.mmdb."""
    weighted = ""
    for name, walk in geo_zones():
        weighted += "    v4_%s => {\n      addrs_v4 => %s    }\n" % (
            name, _gdnsd_family(_gdnsd_walk_servers(pool, walk, 4)))
        weighted += "    v46_%s => {\n      addrs_v4 => %s      addrs_v6 => %s    }\n" % (
            name, _gdnsd_family(_gdnsd_walk_servers(pool, walk, 4)),
            _gdnsd_family(_gdnsd_walk_servers(pool, walk, 6)))
    for z in ZONE_NAMES:
        if z not in dict(geo_zones()):
            weighted += "    v4_%s => {\n      addrs_v4 => %s    }\n" % (
                z, _gdnsd_family(_gdnsd_walk_servers(pool, walk_of(z), 4)))
    dcs = [n for n, _ in geo_zones()]
    by_cont = {}
    for _, cc, cont in SOURCES:
        if cc:
            by_cont.setdefault(CONTINENT_CODE[cont], []).append(cc)
    mp = "".join("          %s => { %s }\n" % (c, ", ".join(
        "%s => [%s]" % (cc.upper(), cc) for cc in ccs)) for c, ccs in by_cont.items())
    res = ""
    for r, pref in (("pool", "v4"), ("pool6", "v46")):
        res += "      %s => {\n        map => bench\n        dcmap => {\n%s        }\n      }\n" % (
            r, "".join("          %s => %%weighted!%s_%s\n" % (dc, pref, dc) for dc in dcs))
    cfg = ("options => {\n  listen => [ 127.0.0.1:%d ]\n  udp_threads => 1\n"
           "  tcp_threads => 1\n  zones_default_ttl => %d\n}\n"
           "plugins => {\n  weighted => {\n%s  }\n"
           "  geoip => {\n    maps => {\n      bench => {\n        geoip2_db => bench.mmdb\n"
           "        datacenters => [%s]\n        map => {\n%s"
           "          default => [global]\n        }\n      }\n    }\n"
           "    resources => {\n%s    }\n  }\n}\n"
           % (port, TTL, weighted, ", ".join(dcs), mp, res))
    zone = "$ORIGIN %s.\n%s" % (ORIGIN, SOA)
    zone += "".join("%d %d DYNA geoip!%s\n" % (i, TTL, "pool6" if i == 2 else "pool")
                    for i in range(4))
    zone += "".join("%s %d DYNA weighted!v4_%s\n" % (z, TTL, z)
                    for z in ZONE_NAMES)
    return cfg, zone


# ------------------------------------------------------------------ Knot


def knot_config(port, rundir, mmdb, zonefile, geofile, pool):
    """(knot.conf text, geo.conf text): mod-geoip geodb on country/iso_code;
    unmapped clients fall through to the zone's own (global) records."""
    conf = ("server:\n  rundir: %s\n  listen: 127.0.0.1@%d\n  udp-workers: 1\n"
            "  tcp-workers: 1\n  background-workers: 1\n"
            "log:\n  - target: stderr\n    any: warning\n"
            "database:\n  storage: %s\n"
            "mod-geoip:\n  - id: pool\n    config-file: %s\n    ttl: %d\n"
            "    mode: geodb\n    geodb-file: %s\n    geodb-key: [ country/iso_code ]\n"
            "zone:\n  - domain: %s\n    file: %s\n    module: mod-geoip/pool\n"
            "    journal-content: none\n    zonefile-sync: -1\n"
            % (rundir, port, rundir, geofile, TTL, mmdb, ORIGIN, zonefile))
    geo = ""
    for i in range(4):
        geo += "%d.%s:\n" % (i, ORIGIN)
        for cc, walk in geo_zones()[:-1]:
            geo += '  - geo: "%s"\n    A: [ %s ]\n' % (cc.upper(), ", ".join(pool.fixed(walk, 4)))
            if i == 2:
                geo += "    AAAA: [ %s ]\n" % ", ".join(pool.fixed(walk, 6))
    return conf, geo


def knot_onlinesign_config(port, rundir, zonefile):
    """knot.conf: the static zone signed per query by mod-onlinesign (its
    default policy makes an ECDSA P-256 key at start)."""
    return ("server:\n  rundir: %s\n  listen: 127.0.0.1@%d\n  udp-workers: 1\n"
            "  tcp-workers: 1\n  background-workers: 1\n"
            "log:\n  - target: stderr\n    any: warning\n"
            "database:\n  storage: %s\n"
            "zone:\n  - domain: %s\n    file: %s\n    module: mod-onlinesign\n"
            "    journal-content: none\n    zonefile-sync: -1\n"
            % (rundir, port, rundir, ORIGIN, zonefile))


# ------------------------------------------------------------------ NSD


def nsd_config(port, rundir, zonefile):
    return ("server:\n  ip-address: 127.0.0.1@%d\n  server-count: 1\n  username: \"\"\n"
            "  chroot: \"\"\n"
            "  zonesdir: %s\n  database: \"\"\n  pidfile: %s/nsd.pid\n"
            "  xfrdfile: %s/xfrd.state\n  zonelistfile: %s/zone.list\n"
            "  xfrdir: %s\n  logfile: %s/nsd.log\n  verbosity: 0\n  tcp-count: 10\n"
            # Debian builds NSD with response rate limiting (200 qps per /24
            # by default), which would drop most of a benchmark's answers.
            "  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n"
            "remote-control:\n  control-enable: no\n"
            "zone:\n  name: %s\n  zonefile: %s\n"
            % (port, rundir, rundir, rundir, rundir, rundir, rundir, ORIGIN, zonefile))
