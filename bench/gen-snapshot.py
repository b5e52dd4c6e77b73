#!/usr/bin/env python3
"""Generates a realistic, reproducible pool snapshot (DESIGN.md "Snapshot").

Servers are spread over 80 countries weighted roughly like the public NTP pool
(many in de, us, fr, uk, nl; few in small countries). Each lists its country
zone and that country's continent zone, as zones/zone_ids.c maps it. About 20%
are IPv6. Scores are mostly 15-20 with a tail below 10 and some negative ones;
netspeeds come from the pool's usual settings. Addresses are unique, from
private IPv4 space (10.0.0.0/8) and the IPv6 documentation prefix 2001:db8::/32.
The output depends only on the arguments.

    bench/gen-snapshot.py --seed 2026 --servers 3000 --serial 2026112401 -o FILE
"""
import argparse
import ipaddress
import json
import random
import sys

EU, NA, AS, OC, SA, AF = ("europe", "north-america", "asia", "oceania",
                          "south-america", "africa")

# (zone, continent as in zones/zone_ids.c, relative share of servers)
COUNTRIES = [
    ("de", EU, 18), ("fr", EU, 6), ("uk", EU, 5), ("nl", EU, 5), ("ru", EU, 3),
    ("ch", EU, 2.5), ("se", EU, 2), ("pl", EU, 2), ("at", EU, 1.5), ("fi", EU, 1.5),
    ("cz", EU, 1.5), ("it", EU, 1.5), ("es", EU, 1), ("be", EU, 1), ("dk", EU, 1),
    ("no", EU, 1), ("ua", EU, 0.8), ("ie", EU, 0.7), ("ro", EU, 0.6), ("hu", EU, 0.5),
    ("pt", EU, 0.5), ("bg", EU, 0.5), ("gr", EU, 0.4), ("tr", EU, 0.3), ("lt", EU, 0.3),
    ("lv", EU, 0.3), ("sk", EU, 0.3), ("ee", EU, 0.2), ("si", EU, 0.2), ("hr", EU, 0.2),
    ("rs", EU, 0.2), ("lu", EU, 0.2), ("is", EU, 0.1), ("md", EU, 0.1), ("by", EU, 0.1),
    ("cy", EU, 0.05),
    ("us", NA, 20), ("ca", NA, 3), ("mx", NA, 0.4), ("cr", NA, 0.05), ("pa", NA, 0.05),
    ("jp", AS, 2.5), ("sg", AS, 1.5), ("cn", AS, 1), ("hk", AS, 1), ("in", AS, 1),
    ("kr", AS, 0.5), ("tw", AS, 0.5), ("id", AS, 0.4), ("th", AS, 0.3), ("vn", AS, 0.3),
    ("il", AS, 0.3), ("my", AS, 0.2), ("ir", AS, 0.2), ("ph", AS, 0.1), ("ae", AS, 0.1),
    ("kz", AS, 0.1), ("bd", AS, 0.1), ("pk", AS, 0.1), ("sa", AS, 0.05),
    ("au", OC, 2), ("nz", OC, 0.6), ("fj", OC, 0.02),
    ("br", SA, 1.5), ("ar", SA, 0.4), ("cl", SA, 0.3), ("co", SA, 0.2), ("pe", SA, 0.1),
    ("uy", SA, 0.05), ("ec", SA, 0.05), ("ve", SA, 0.05),
    ("za", AF, 0.6), ("ke", AF, 0.1), ("ng", AF, 0.05), ("eg", AF, 0.05), ("ma", AF, 0.05),
    ("tz", AF, 0.03), ("gh", AF, 0.03), ("tn", AF, 0.03), ("mu", AF, 0.02),
]

# The netspeed settings operators pick (kbit/s) and how often, roughly.
NETSPEEDS = [(1000, 5), (10000, 15), (25000, 10), (50000, 15), (100000, 25),
             (250000, 12), (500000, 10), (1000000, 8)]


def score(rng):
    """Mostly healthy (15-20), a tail of struggling servers, a few failing ones."""
    r = rng.random()
    if r < 0.80:
        return round(rng.uniform(15, 20), 1)
    if r < 0.92:
        return round(rng.uniform(10, 15), 1)
    if r < 0.97:
        return round(rng.uniform(0, 10), 1)
    return round(rng.uniform(-100, 0), 1)


def addresses(rng, n4, n6):
    """Unique addresses: 10.0.0.0/8 without .0 and .255 hosts; 2001:db8::/32."""
    v4 = []
    for x in rng.sample(range(1 << 24), min(n4 * 2, 1 << 24)):
        if 0 < (x & 0xff) < 255:
            v4.append(str(ipaddress.IPv4Address((10 << 24) | x)))
            if len(v4) == n4:
                break
    if len(v4) < n4:
        sys.exit("too many IPv4 servers for 10.0.0.0/8")
    base, v6 = int(ipaddress.IPv6Address("2001:db8::")), set()
    while len(v6) < n6:
        v6.add(str(ipaddress.IPv6Address(base | rng.getrandbits(96))))
    # Sorted: set order follows string hashing, which changes between runs.
    return v4, sorted(v6, key=ipaddress.IPv6Address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--servers", type=int, default=3000)
    ap.add_argument("--serial", type=int, default=2026112401)
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    families = [6 if rng.random() < 0.2 else 4 for _ in range(args.servers)]
    v4, v6 = addresses(rng, families.count(4), families.count(6))
    v4.reverse()
    v6.reverse()
    weights = [c[2] for c in COUNTRIES]
    lines = []
    for fam in families:
        zone, continent, _ = rng.choices(COUNTRIES, weights)[0]
        speed = rng.choices([s for s, _ in NETSPEEDS], [w for _, w in NETSPEEDS])[0]
        srv = {"ip": (v6 if fam == 6 else v4).pop(), "score": score(rng),
               "netspeed": speed, "zones": [zone, continent]}
        lines.append("  " + json.dumps(srv))
    text = ('{"serial": %d,\n "servers": [\n%s\n ]}\n'
            % (args.serial, ",\n".join(lines)) if lines
            else '{"serial": %d, "servers": []}\n' % args.serial)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
