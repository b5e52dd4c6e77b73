"""GeoIP and ECS against the real dnsd: the ECS
address overrides the packet's source, the reply echoes the option with the
scope of the database network that decided (capped at the source prefix, 0
for answers that do not depend on the address), malformed ECS is FORMERR, the
continent comes from the DB when it has one and from the built-in table when
not, both DB layouts work, and the real CC0 database places a German /24 in
de. Replies are decoded with dnspython, kdig and dig."""

import json
import os
import re
import shutil
import subprocess
import unittest

from harness import (ORIGIN, SOURCE_DIR, DnsdTestCase, dig, kdig, opt_rr, query)
from pooltest import (DE4, DE_SRC, EUROPE4, FR4, FR_AT_MIN, FR_SRC, JP4, POOL_SERIAL,
                      REAL_DB, TR_SRC, UNMAPPED_SRC, Client, PoolServer, addrs, country_txt,
                      ecs_of, pool_servers, pool_snapshot, snapshot_text)

FR_ALL = set(FR4 + [FR_AT_MIN])
GERMAN_24 = "62.157.140.0/24"  # Deutsche Telekom; DE in the CC0 DB (checked below)


class GeoCase(DnsdTestCase):

    server_kw = {}

    @classmethod
    def make_server(cls):
        return PoolServer(pool_snapshot(), **cls.server_kw)

    def ask(self, name, rdtype="A", src=DE_SRC, ecs=None):
        with Client(self.port, src) as c:
            _, msg = c.ask(name, rdtype, ecs=ecs)
        self.assertRcode(msg, "NOERROR")
        return msg

    def served(self, name, n, src=DE_SRC, ecs=None, scope=None):
        """Union of n answers; each with 4 records and, when given, ECS scope."""
        seen = set()
        for _ in range(n):
            msg = self.ask(name, src=src, ecs=ecs)
            self.assertEqual(len(addrs(msg)), 4, msg)
            if scope is not None:
                self.assertEqual(ecs_of(msg).scopelen, scope)
            seen |= set(addrs(msg))
        return seen

    def assertEcs(self, msg, address, source, scope):
        """The reply's ECS: family, source prefix and address echoed; scope."""
        opt = ecs_of(msg)
        self.assertIsNotNone(opt, "no ECS in reply:\n%s" % msg)
        self.assertEqual((opt.family, opt.address, opt.srclen, opt.scopelen),
                         (2 if ":" in address else 1, address, source, scope))


class EcsTest(GeoCase):

    def test_ecs_overrides_the_source_address(self):
        # A German source asking for a French /24 gets France.
        self.assertEqual(self.served(ORIGIN, 60, ecs=("127.0.3.0", 24), scope=24), FR_ALL)
        msg = self.ask("_country." + ORIGIN, "TXT", ecs=("127.0.3.0", 24))
        self.assertEqual(country_txt(msg), {
            "address": "127.0.3.0 (ecs)", "country": "FR", "continent": "europe",
            "zone": "fr", "backfill": "no", "serial": str(POOL_SERIAL)})
        self.assertEcs(msg, "127.0.3.0", 24, 24)
        # And the other way round: a French source with a German ECS.
        self.assertEqual(self.served(ORIGIN, 60, src=FR_SRC, ecs=("127.0.2.0", 24)), set(DE4))

    def test_scope_is_the_db_network_capped_at_the_source_prefix(self):
        # (ECS, DB network that decides, expected scope)
        for address, source, scope in (("127.0.3.0", 24, 24),  # DB /24, ECS /24
                                       ("127.0.3.0", 32, 24),  # DB /24 under a /32
                                       ("10.20.0.0", 16, 16),  # DB /24 under a /16
                                       ("10.30.1.0", 24, 20),  # DB /20 decides a /24
                                       ("10.30.1.128", 25, 20)):
            with self.subTest(ecs="%s/%d" % (address, source)):
                msg = self.ask(ORIGIN, ecs=(address, source))
                self.assertTrue(set(addrs(msg)) <= FR_ALL, addrs(msg))
                self.assertEcs(msg, address, source, scope)

    def test_ipv6_ecs(self):
        # 2001:db8:de::/48 is DE: a /56 inside it gets scope 48, from any source.
        for src in (FR_SRC, UNMAPPED_SRC):
            msg = self.ask(ORIGIN, src=src, ecs=("2001:db8:de:100::", 56))
            self.assertTrue(set(addrs(msg)) <= set(DE4), addrs(msg))
            self.assertEcs(msg, "2001:db8:de:100::", 56, 48)
        # A /32 covering it is capped at 32, and 2001:db8:: itself is unmapped.
        msg = self.ask("_country." + ORIGIN, "TXT", ecs=("2001:db8::", 32))
        self.assertEqual(country_txt(msg)["country"], "unknown")
        self.assertEcs(msg, "2001:db8::", 32, 32)

    def test_ecs_source_prefix_zero_uses_the_source_address(self):
        # RFC 7871 7.1.2: SOURCE 0 asks for the resolver's own address, and the
        # answer must then be scoped 0.
        self.assertEqual(self.served(ORIGIN, 60, src=DE_SRC, ecs=("0.0.0.0", 0), scope=0),
                         set(DE4))
        msg = self.ask("_country." + ORIGIN, "TXT", src=FR_SRC, ecs=("0.0.0.0", 0))
        txt = country_txt(msg)
        self.assertEqual((txt["address"], txt["country"]), (FR_SRC + " (source)", "FR"))
        self.assertEcs(msg, "0.0.0.0", 0, 0)

    def test_unmapped_ecs_gets_global_zone_scoped_to_the_empty_network(self):
        # 127.0.9.0/24 lies between mapped /24s: the DB's empty network there
        # is that /24, so the '@' answer holds for it only.
        msg = self.ask("_country." + ORIGIN, "TXT", ecs=("127.0.9.0", 24))
        txt = country_txt(msg)
        self.assertEqual((txt["country"], txt["zone"]), ("unknown", "@"))
        self.assertEcs(msg, "127.0.9.0", 24, 24)

    def test_explicit_zone_names_reply_scope_zero(self):
        # de.<origin> answers the same for everyone: scope 0 (RFC 7871 7.2.1).
        for name, expect in (("de." + ORIGIN, set(DE4)), ("0.fr." + ORIGIN, FR_ALL),
                             ("europe." + ORIGIN, EUROPE4), ("jp." + ORIGIN, set(JP4))):
            with self.subTest(name=name):
                msg = self.ask(name, ecs=("127.0.3.0", 24))
                self.assertTrue(set(addrs(msg)) <= expect, addrs(msg))
                self.assertEcs(msg, "127.0.3.0", 24, 0)
        # Static records and negative answers do not depend on the client either.
        self.assertEcs(self.ask(ORIGIN, "SOA", ecs=("127.0.3.0", 24)), "127.0.3.0", 24, 0)
        self.assertEcs(self.ask(ORIGIN, "AAAA", ecs=("127.0.3.0", 24)), "127.0.3.0", 24, 0)

    def test_kdig_and_dig_decode_the_scope(self):
        for client, argv, scope in ((kdig, ("+subnet=127.0.3.0/24",), 24),
                                    (kdig, ("+subnet=10.30.1.0/24",), 20),
                                    (dig, ("+subnet=10.20.0.0/16",), 16),
                                    (dig, ("+subnet=127.0.3.0/24",), 24)):
            with self.subTest(client=client.__name__, argv=argv):
                out = client(self.port, ORIGIN, "A", "-b", DE_SRC, *argv)
                net = argv[0].split("=")[1]
                self.assertIn("CLIENT-SUBNET: %s/%d" % (net, scope), out)
                answers = re.findall(r"^pool\.ntp\.org\.\s+150\s+IN\s+A\s+(\S+)$", out, re.M)
                self.assertEqual(len(answers), 4, out)
                self.assertTrue(set(answers) <= FR_ALL, out)
        out = kdig(self.port, "de." + ORIGIN, "A", "-b", FR_SRC, "+subnet=127.0.3.0/24")
        self.assertIn("CLIENT-SUBNET: 127.0.3.0/24/0", out)
        out = kdig(self.port, ORIGIN, "A", "-b", FR_SRC, "+subnet=2001:db8:de:100::/56")
        self.assertIn("CLIENT-SUBNET: 2001:db8:de:100::/56/48", out)

    def test_malformed_ecs_is_formerr(self):
        def ecs(family, source, scope, address):
            return opt_rr(options=[(8, bytes([0, family, source, scope]) + address)])
        for why, opt in (
                ("family 3", ecs(3, 8, 0, b"\x7f")),
                ("IPv4 source 33", ecs(1, 33, 0, b"\x7f\x00\x03\x00\x00")),
                ("IPv6 source 129", ecs(2, 129, 0, bytes(17))),
                ("address longer than the prefix", ecs(1, 16, 0, b"\x7f\x00\x03")),
                ("address shorter than the prefix", ecs(1, 24, 0, b"\x7f\x00")),
                ("bits set past the prefix", ecs(1, 23, 0, b"\x7f\x00\x03")),
                ("option shorter than 4 bytes", opt_rr(options=[(8, b"\x00\x01\x18")])),
                ("two ECS options", opt_rr(options=[(8, b"\x00\x01\x18\x00\x7f\x00\x03")] * 2))):
            with self.subTest(why=why):
                _, msg = self.exchange(query(ORIGIN, "A", opt=opt))
                self.assertRcode(msg, "FORMERR", aa=False)
                self.assertEqual(msg.answer, [])
        # A well-formed one on the same path for contrast.
        _, msg = self.exchange(query(ORIGIN, "A", opt=ecs(1, 24, 0, b"\x7f\x00\x03")))
        self.assertRcode(msg, "NOERROR")
        self.assertTrue(set(addrs(msg)) <= FR_ALL)


class CountryTxtScopeTest(GeoCase):
    """_country.<origin> describes the client's own address, so a resolver may
    reuse it only for that address: scope = the source prefix, whatever
    network of the DB decided (RFC 7871 7.2.1 lets the scope be longer)."""

    def test_country_txt_scope_is_the_source_prefix(self):
        for address, source in (("127.0.3.0", 32),    # the DB's /24 decides
                                ("127.0.3.128", 25),
                                ("10.30.1.0", 24),     # the DB's /20 decides
                                ("10.20.0.0", 16),
                                ("127.0.9.0", 24),     # unmapped
                                ("2001:db8:de:100::", 56), ("2001:db8::", 32)):
            with self.subTest(ecs="%s/%d" % (address, source)):
                msg = self.ask("_country." + ORIGIN, "TXT", ecs=(address, source))
                self.assertEqual(country_txt(msg)["address"], address + " (ecs)")
                self.assertEcs(msg, address, source, source)
        # SOURCE 0: the resolver's own address was used; scope 0 (RFC 7871 7.1.2).
        msg = self.ask("_country." + ORIGIN, "TXT", ecs=("0.0.0.0", 0))
        self.assertEcs(msg, "0.0.0.0", 0, 0)


class NoDatabaseTest(GeoCase):
    """Without a GeoIP database every client is in '@': pool answers do not
    depend on the address (scope 0), _country still names it."""

    server_kw = {"nets": None}

    def test_country_txt_scope_is_the_source_prefix_without_a_db(self):
        for address, source in (("127.0.3.0", 24), ("10.20.0.0", 16),
                                ("2001:db8:de:100::", 56)):
            with self.subTest(ecs="%s/%d" % (address, source)):
                msg = self.ask("_country." + ORIGIN, "TXT", ecs=(address, source))
                self.assertEqual((country_txt(msg)["country"], country_txt(msg)["zone"]),
                                 ("unknown", "@"))
                self.assertEcs(msg, address, source, source)
        self.assertEcs(self.ask(ORIGIN, ecs=("127.0.3.0", 24)), "127.0.3.0", 24, 0)


class NegativeScopeTest(GeoCase):
    """Negative answers hold for every client: scope 0 (RFC 7871 7.2.1), also
    at geo names, whose positive answers carry the DB network's scope. The
    snapshot has no IPv6 server, so 2.<origin> AAAA is NODATA for everyone."""

    @classmethod
    def make_server(cls):
        v4 = [s for s in pool_servers() if ":" not in s["ip"]]
        return PoolServer(snapshot_text(POOL_SERIAL, v4),
                          options={"aaaa": "all", "vendors": "[debian]"})

    def ask_any_rcode(self, name, rdtype, ecs):
        with Client(self.port, DE_SRC) as c:
            return c.ask(name, rdtype, ecs=ecs)[1]

    def test_negative_answers_have_scope_zero(self):
        ecs = ("127.0.3.0", 24)
        self.assertEcs(self.ask(ORIGIN, ecs=ecs), "127.0.3.0", 24, 24)  # positive
        for name, rdtype, rcode in (("2." + ORIGIN, "AAAA", "NOERROR"),
                                    (ORIGIN, "AAAA", "NOERROR"),
                                    ("0.debian." + ORIGIN, "AAAA", "NOERROR"),
                                    ("nx." + ORIGIN, "A", "NXDOMAIN"),
                                    ("nx.fr." + ORIGIN, "AAAA", "NXDOMAIN")):
            with self.subTest(name=name, rdtype=rdtype):
                msg = self.ask_any_rcode(name, rdtype, ecs)
                self.assertRcode(msg, rcode)
                self.assertEqual(msg.answer, [])
                self.assertEqual(len(msg.authority), 1, "the SOA")
                self.assertEcs(msg, "127.0.3.0", 24, 0)


class NoPoolScopeTest(GeoCase):
    """No snapshot yet: geo names answer NODATA (scope 0), ANY falls back to
    the apex SOA (scope 0), _country still scopes to the source."""

    @classmethod
    def make_server(cls):
        return PoolServer(None)

    def test_pool_names_without_servers_have_scope_zero(self):
        ecs = ("127.0.3.0", 24)
        msg = self.ask(ORIGIN, "A", ecs=ecs)
        self.assertEqual((msg.answer, len(msg.authority)), ([], 1))
        self.assertEcs(msg, "127.0.3.0", 24, 0)
        msg = self.ask(ORIGIN, "ANY", ecs=ecs)
        self.assertEqual([rrs.rdtype for rrs in msg.answer], [6], "the SOA")  # SOA
        self.assertEcs(msg, "127.0.3.0", 24, 0)
        msg = self.ask("_country." + ORIGIN, "TXT", ecs=ecs)
        self.assertEcs(msg, "127.0.3.0", 24, 24)


class ContinentTest(GeoCase):

    def test_continent_from_the_builtin_table_when_the_db_has_none(self):
        # 127.0.3.0/24=FR carries no continent: the table says europe.
        self.assertEqual(country_txt(self.ask("_country." + ORIGIN, "TXT", src=FR_SRC))[
            "continent"], "europe")

    def test_continent_from_the_db_when_it_has_one(self):
        # The DB says TR is in asia (the table says europe); tr has no server,
        # so the answer comes from the DB's continent.
        txt = country_txt(self.ask("_country." + ORIGIN, "TXT", src=TR_SRC))
        self.assertEqual((txt["country"], txt["continent"], txt["zone"]),
                         ("TR", "asia", "asia"))
        self.assertEqual(self.served(ORIGIN, 40, src=TR_SRC), set(JP4))


class Cc0LayoutTest(GeoCase):
    """The CC0 ip-location-db layout: {country_code: "DE"}, no continent."""

    server_kw = {"fmt": "cc0"}

    def test_country_code_path(self):
        self.assertEqual(self.served(ORIGIN, 100, src=DE_SRC), set(DE4))
        txt = country_txt(self.ask("_country." + ORIGIN, "TXT", src=DE_SRC))
        self.assertEqual((txt["country"], txt["continent"], txt["zone"]),
                         ("DE", "europe", "de"))
        # TR's "asia" is gone with the continent: the table's europe answers.
        self.assertEqual(country_txt(self.ask("_country." + ORIGIN, "TXT", src=TR_SRC))[
            "zone"], "europe")
        self.assertTrue(self.served(ORIGIN, 40, src=TR_SRC) <= EUROPE4)


class WrongCountryPathTest(GeoCase):
    """A GeoIP2-layout DB read with the CC0 path finds no country; the
    record's continent still places the client, and without one it is '@'."""

    server_kw = {"country_path": "country_code"}

    def test_no_country_found(self):
        txt = country_txt(self.ask("_country." + ORIGIN, "TXT", src=DE_SRC))
        self.assertEqual((txt["country"], txt["continent"], txt["zone"]),
                         ("unknown", "europe", "europe"))
        self.assertTrue(self.served(ORIGIN, 20, src=DE_SRC) <= EUROPE4)
        txt = country_txt(self.ask("_country." + ORIGIN, "TXT", src=FR_SRC))
        self.assertEqual((txt["country"], txt["continent"], txt["zone"]),
                         ("unknown", "unknown", "@"))


@unittest.skipUnless(os.path.exists(REAL_DB),
                     "%s absent: run scripts/fetch-geoip.sh (CI fetches it)" % REAL_DB)
class RealDatabaseTest(DnsdTestCase):
    """The shipped demo data: config/dnsd.yaml's CC0 DB and country_path,
    config/sample-snapshot.json and config/pool.ntp.org.zone."""

    @classmethod
    def make_server(cls):
        config = os.path.join(SOURCE_DIR, "config")
        with open(os.path.join(config, "sample-snapshot.json")) as f:
            cls.sample = f.read()
        with open(os.path.join(config, "pool.ntp.org.zone")) as f:
            master = f.read()
        with open(os.path.join(config, "dnsd.yaml")) as f:
            cls.country_path = re.search(r"country_path:\s*(\w+)", f.read()).group(1)
        return PoolServer(cls.sample, db=REAL_DB, country_path=cls.country_path,
                          master=master)

    def test_db_maps_the_german_prefix_to_de(self):
        if not shutil.which("mmdblookup"):
            self.skipTest("mmdblookup not installed")
        out = subprocess.run(["mmdblookup", "--file", REAL_DB, "--ip",
                              GERMAN_24.split("/")[0], self.country_path],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        self.assertIn('"DE"', out)

    def test_german_ecs_gets_de(self):
        net, source = GERMAN_24.split("/")
        source = int(source)
        with Client(self.port, UNMAPPED_SRC) as c:
            _, msg = c.ask("_country." + ORIGIN, "TXT", ecs=(net, source))
            txt = country_txt(msg)
            self.assertEqual((txt["address"], txt["country"], txt["continent"], txt["zone"]),
                             (net + " (ecs)", "DE", "europe", "de"))
            self.assertEqual(txt["serial"], str(json.loads(self.sample)["serial"]))
            self.assertEqual(ecs_of(msg).scopelen, source, "_country: the source prefix")
            scope = ecs_of(c.ask("0." + ORIGIN, "A", ecs=(net, source))[1]).scopelen
            self.assertTrue(0 < scope <= source, scope)  # the DB's network
            eligible = {s["ip"] for s in json.loads(self.sample)["servers"]
                        if "de" in s["zones"] and ":" not in s["ip"] and s["score"] >= 10
                        and s["netspeed"] > 0}
            self.assertGreaterEqual(len(eligible), 8)
            for _ in range(20):
                _, msg = c.ask("0." + ORIGIN, "A", ecs=(net, source))
                self.assertEqual(ecs_of(msg).scopelen, scope)
                got = addrs(msg)
                self.assertEqual(len(got), 4)
                self.assertTrue(set(got) <= eligible, got)

    def test_portuguese_client_gets_four_disjoint_numbered_answers(self):
        # pt has 9 eligible IPv4 servers: 2 or 3 per quarter, so every numbered
        # answer is topped up from europe and @, which must not bring in a
        # server of another number.
        eligible = [s["ip"] for s in json.loads(self.sample)["servers"]
                    if "pt" in s["zones"] and ":" not in s["ip"] and s["score"] >= 10
                    and s["netspeed"] > 0]
        self.assertGreaterEqual(len(eligible), 8)
        ecs = ("193.136.0.0", 24)
        with Client(self.port, UNMAPPED_SRC) as c:
            txt = country_txt(c.ask("_country." + ORIGIN, "TXT", ecs=ecs)[1])
            self.assertEqual((txt["country"], txt["zone"]), ("PT", "pt"))
            numbers = []
            for i in range(4):
                seen = set()
                for _ in range(50):
                    got = addrs(c.ask("%d.%s" % (i, ORIGIN), ecs=ecs)[1])
                    self.assertEqual(len(set(got)), 4, got)
                    seen |= set(got)
                numbers.append(seen)
        for i in range(4):
            for j in range(i + 1, 4):
                self.assertEqual(numbers[i] & numbers[j], set(), "%d and %d" % (i, j))
        self.assertEqual(set().union(*numbers) & set(eligible), set(eligible))

if __name__ == "__main__":
    unittest.main()
