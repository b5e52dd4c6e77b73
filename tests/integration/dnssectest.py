"""dnssectest.py - keys, a signed dnsd and real validators for the DNSSEC tests.

Keys are made at test time by ldns-keygen (or dnssec-keygen) in a temporary
directory; the validators are the real ones: unbound (run here on its own
loopback port with a stub zone pointing at dnsd and the zone's DNSKEY as
trust anchor; `with Unbound(...) as ub:` stops it, by its own PID) and delv
(bind9-dnsutils); and dnspython checks single RRSIGs against the DNSKEY.
"""

import os
import shutil
import subprocess
import tempfile
import time

import dns.dnssec
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from harness import (ORIGIN, MetricsControl, _die_with_parent, environ, free_port, run_client,
                     terminate)
from pooltest import GEO_NETS, PoolServer, pool_snapshot

# unbound asks from 127.0.0.1: the test DB puts it in DE, so apex answers are geo.
DNSSEC_NETS = GEO_NETS + ["127.0.0.1/32=DE/EU"]


class Keys:
    """Key files for ORIGIN in a temporary directory."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="dnsd-keys-")
        self.dir = self.tmp.name

    def make(self, alg="ECDSAP256SHA256", ksk=True, tool="ldns"):
        """Returns the private-key path of a new key."""
        if tool == "ldns":
            argv = ["ldns-keygen", "-a", alg] + (["-k"] if ksk else []) + [ORIGIN]
        else:
            argv = ["dnssec-keygen", "-q", "-a", alg] + (["-f", "KSK"] if ksk else []) + [
                ORIGIN]
        out = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True,
                             check=True, timeout=60).stdout.strip()
        return os.path.join(self.dir, out + ".private")

    @staticmethod
    def public(private):
        return private[:-len(".private")] + ".key"

    @staticmethod
    def dnskey(private):
        """(flags, protocol, algorithm, key) of the key's DNSKEY record."""
        with open(Keys.public(private)) as f:
            for line in f:
                if line.strip() and not line.startswith(";"):
                    fields = line.split(";")[0].split()
                    i = fields.index("DNSKEY")
                    return fields[i + 1], fields[i + 2], fields[i + 3], "".join(
                        fields[i + 4:])
        raise AssertionError("no DNSKEY in " + Keys.public(private))

    @staticmethod
    def dnskey_rrset(private):
        """The key's DNSKEY RRset, for dnspython's validation (verify_rrsig)."""
        return dns.rrset.from_text(ORIGIN + ".", 3600, "IN", "DNSKEY",
                                   " ".join(Keys.dnskey(private)))

    def anchor_file(self, privates, name="anchor"):
        """A trust-anchor file for unbound (DNSKEY lines) and one for delv."""
        lines = ["%s. 3600 IN DNSKEY %s" % (ORIGIN, " ".join(self.dnskey(p)))
                 for p in privates]
        unbound = os.path.join(self.dir, name + ".unbound")
        with open(unbound, "w") as f:
            f.write("\n".join(lines) + "\n")
        delv = os.path.join(self.dir, name + ".delv")
        with open(delv, "w") as f:
            f.write("trust-anchors {\n")
            for p in privates:
                fl, pr, al, key = self.dnskey(p)
                f.write('  %s. static-key %s %s %s "%s";\n' % (ORIGIN, fl, pr, al, key))
            f.write("};\n")
        return unbound, delv

    def cleanup(self):
        self.tmp.cleanup()


def case_keys(test):
    """For a test's setUp: test.keys (removed after the test), one key made,
    and its DNSKEY RRset as test.dnskey. Returns the key."""
    test.keys = Keys()
    test.addCleanup(test.keys.cleanup)
    key = test.keys.make()
    test.dnskey = Keys.dnskey_rrset(key)
    return key


def class_keys(cls, alg="ECDSAP256SHA256"):
    """For a DnsdTestCase's make_server: cls.keys (removed with the class),
    cls.key of `alg`, and its trust anchors cls.anchor (unbound) and
    cls.delv_anchor (delv). Returns cls.key."""
    cls.keys = Keys()
    cls.addClassCleanup(cls.keys.cleanup)
    cls.key = cls.keys.make(alg=alg)
    cls.anchor, cls.delv_anchor = cls.keys.anchor_file([cls.key])
    return cls.key


def do_query(name, rdtype="A", do=True, options=None):
    """A query as a validating resolver sends it: EDNS with 1232 bytes (the
    DNS flag day size), the DO bit unless do=False, no RD."""
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232, want_dnssec=do,
                               options=options)
    q.flags = 0
    return q


def verify_rrsig(test, msg, name, rdtype, dnskey):
    """Asserts that msg answers name/rdtype with an RRSIG that verifies
    against dnskey (Keys.dnskey_rrset)."""
    owner = dns.name.from_text(name)
    rrs = msg.get_rrset(msg.answer, owner, dns.rdataclass.IN, rdtype)
    sig = msg.get_rrset(msg.answer, owner, dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
    test.assertIsNotNone(sig, msg)
    dns.dnssec.validate(rrs, sig, {dns.name.from_text(ORIGIN): dnskey})


def dnssec_option(keys, publish=(), validity=None, refresh=None, offset=None):
    """The zone's `dnssec:` value for PoolServer options."""
    parts = ["keys: [%s]" % ", ".join(keys)]
    if publish:
        parts.append("publish: [%s]" % ", ".join(publish))
    if validity:
        parts.append("signature_validity: %s" % validity)
    if refresh:
        parts.append("refresh: %s" % refresh)
    if offset:
        parts.append("inception_offset: %s" % offset)
    return "{%s}" % ", ".join(parts)


class SignedServer(MetricsControl, PoolServer):
    """The pool test daemon, signed, with a control socket (self.sock) and a
    metrics port (self.metrics_port); env adds variables for dnsd (tests only)."""

    def __init__(self, keys, options=None, env=None, **kw):
        opts = {"dnssec": dnssec_option(keys), "vendors": "[debian]", "aaaa": "numbered-2"}
        opts.update(options or {})
        self.env = env or {}
        super().__init__(pool_snapshot(), options=opts, nets=DNSSEC_NETS, **kw)

    def set_dnssec(self, value):
        """Rewrites the config with another `dnssec:` value (then SIGHUP)."""
        self.options["dnssec"] = value
        self.config = self.write_config()

    def start(self, timeout=20.0):
        with environ(self.env):
            return super().start(timeout)


class Unbound:
    """unbound on a loopback port, validating, with a stub zone to dnsd."""

    def __init__(self, dnsd_port, anchor):
        self.tmp = tempfile.TemporaryDirectory(prefix="unbound-")
        self.port = free_port(False)
        conf = os.path.join(self.tmp.name, "unbound.conf")
        with open(conf, "w") as f:
            f.write("""server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  trust-anchor-file: "%s"
  val-log-level: 2
  qname-minimisation: no
  edns-buffer-size: 1232
  harden-dnssec-stripped: yes
  target-fetch-policy: "0 0 0 0 0"
stub-zone:
  name: "%s"
  stub-addr: 127.0.0.1@%d
remote-control:
  control-enable: no
""" % (self.port, self.tmp.name, anchor, ORIGIN, dnsd_port))
        self.log = open(os.path.join(self.tmp.name, "log"), "w+")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=self.log,
                                     stderr=self.log, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited: %s" % self.text())
            try:
                run_client(["dig", "@127.0.0.1", "-p", str(self.port), "+time=1",
                            "+tries=1", "localhost", "A"], timeout=5)
                return
            except (AssertionError, subprocess.TimeoutExpired):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("unbound did not start: %s" % self.text())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def text(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def query(self, name, rdtype="A"):
        """dig through unbound: (status, flags set, answer text)."""
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), name, rdtype,
                              "+dnssec", "+time=5", "+tries=1"], capture_output=True,
                             text=True, timeout=30).stdout
        status = out.split("status: ")[1].split(",")[0] if "status: " in out else None
        flags = set()
        for line in out.splitlines():
            if line.startswith(";; flags:"):
                flags = set(line.split(";")[2].split(":")[1].split())
        return status, flags, out

    def stop(self):
        terminate(self.proc)
        self.log.close()
        self.tmp.cleanup()


def delv(port, anchor, name, rdtype="A"):
    """delv's verdict: its full output (contains "fully validated" on success)."""
    p = subprocess.run(["delv", "-a", anchor, "+root=" + ORIGIN, "@127.0.0.1", "-p",
                        str(port), name, rdtype], capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def have_validators():
    return all(shutil.which(t) for t in ("unbound", "delv", "ldns-keygen", "dig"))
