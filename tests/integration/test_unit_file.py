"""The service files: dist/dnsd.service passes
`systemd-analyze verify` with no warning at all, alone and with the AF_XDP
drop-in (dist/systemd/dnsd.service.d/xdp.conf), and so does the unit that
`cmake --install` writes; the install puts binaries, unit, example config and
man pages under the prefix, the man pages render without a groff warning, and
the shipped example config is valid YAML for dnsd (its only complaint is a
user or database that this machine does not have)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY_DIR, DNSD, SOURCE_DIR, built_with

ANALYZE = shutil.which("systemd-analyze")
UNIT = os.path.join(SOURCE_DIR, "dist", "dnsd.service")
XDP_DROP_IN = os.path.join(SOURCE_DIR, "dist", "systemd", "dnsd.service.d", "xdp.conf")
MAN_PAGES = {"man8": ["dnsd.8", "dnsdctl.8"], "man5": ["dnsd.yaml.5"]}


def verify(unit_path, manpath):
    """(exit code, output) of systemd-analyze verify; man pages from manpath."""
    env = dict(os.environ, MANPATH=manpath)
    p = subprocess.run([ANALYZE, "verify", unit_path], capture_output=True, text=True,
                       timeout=60, env=env, cwd=os.path.dirname(unit_path))
    return p.returncode, (p.stdout + p.stderr).strip()


def analyze_works():
    """systemd-analyze verify on a trivial unit: False when it cannot run here
    at all (no systemd, or a container that refuses what it needs)."""
    if not ANALYZE:
        return False
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "probe.service")
        with open(path, "w") as f:
            f.write("[Service]\nType=oneshot\nExecStart=/bin/true\n")
        try:
            return verify(path, d)[0] == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


ANALYZE_OK = analyze_works()


class UnitFileTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="dnsd-unit-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name

    def man_dir(self):
        d = os.path.join(self.dir, "man")
        for sect, pages in MAN_PAGES.items():
            os.makedirs(os.path.join(d, sect), exist_ok=True)
            for p in pages:
                shutil.copy(os.path.join(SOURCE_DIR, "docs", p), os.path.join(d, sect))
        return d

    @unittest.skipUnless(ANALYZE_OK, "systemd-analyze verify cannot run in this environment")
    def test_committed_unit_verifies_clean(self):
        with open(UNIT) as f:
            text = f.read()
        self.assertIn("Type=notify", text)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", text)
        for opt in ("ProtectSystem=strict", "NoNewPrivileges=yes", "ProtectHome=yes",
                    "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
            self.assertIn(opt + "\n", text)
        self.assertRegex(text, r"\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE[ A-Z_]*\n")
        # The binary the unit names must exist for verify: the built one.
        unit = os.path.join(self.dir, "dnsd.service")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/dnsd", DNSD))
        rc, out = verify(unit, self.man_dir())
        self.assertEqual((rc, out), (0, ""))
        # The check can fail: a misspelt option is reported.
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/dnsd", DNSD).replace("PrivateTmp=", "PrivateTnp="))
        self.assertIn("Unknown key 'PrivateTnp'", verify(unit, self.man_dir())[1])

    @unittest.skipUnless(ANALYZE_OK, "systemd-analyze verify cannot run in this environment")
    def test_xdp_drop_in_verifies_clean(self):
        # verify reads drop-ins from the directory beside the unit it is given.
        unit = os.path.join(self.dir, "dnsd.service")
        with open(UNIT) as f:
            text = f.read()
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/dnsd", DNSD))
        os.mkdir(os.path.join(self.dir, "dnsd.service.d"))
        drop_in = os.path.join(self.dir, "dnsd.service.d", "xdp.conf")
        with open(XDP_DROP_IN) as f:
            conf = f.read()
        for key in ("CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK",
                    "RestrictAddressFamilies=AF_XDP", "SystemCallFilter=bpf"):
            self.assertIn("\n%s\n" % key, conf)
        with open(drop_in, "w") as f:
            f.write(conf)
        rc, out = verify(unit, self.man_dir())
        self.assertEqual((rc, out), (0, ""))
        # The drop-in is read: a misspelt key in it is reported.
        with open(drop_in, "w") as f:
            f.write(conf.replace("SystemCallFilter=", "SystemCallFiltr="))
        self.assertIn("Unknown key 'SystemCallFiltr'", verify(unit, self.man_dir())[1])

    def install(self):
        prefix = os.path.join(self.dir, "prefix")
        p = subprocess.run(["cmake", "--install", BINARY_DIR, "--prefix", prefix],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return prefix

    def test_install_places_everything_and_man_pages_render(self):
        prefix = self.install()
        for rel in ["sbin/dnsd", "bin/dnsdctl", "lib/systemd/system/dnsd.service",
                    "etc/dnsd/dnsd.yaml", "etc/dnsd/pool.ntp.org.zone",
                    "share/doc/dnsd/examples/dnsd.yaml",
                    "share/doc/dnsd/examples/dnsd.service.d/xdp.conf"] + \
                ["share/man/%s/%s" % (s, p) for s, ps in MAN_PAGES.items() for p in ps]:
            self.assertTrue(os.path.exists(os.path.join(prefix, rel)), rel)
        with open(os.path.join(prefix, "lib/systemd/system/dnsd.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=%s/sbin/dnsd -c %s/etc/dnsd/dnsd.yaml\n" % (prefix, prefix),
                      unit)
        # Without sd_notify (-DDNSD_SYSTEMD=OFF) READY=1 never comes: Type=exec.
        self.assertIn("\nType=%s\n" % ("notify" if built_with("systemd") else "exec"), unit)
        for sect, pages in MAN_PAGES.items():
            for page in pages:
                path = os.path.join(prefix, "share/man", sect, page)
                p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual((p.returncode, p.stderr), (0, ""), page)
        # A second install keeps the operator's config.
        conf = os.path.join(prefix, "etc/dnsd/dnsd.yaml")
        with open(conf, "a") as f:
            f.write("# edited\n")
        self.install()
        with open(conf) as f:
            self.assertTrue(f.read().endswith("# edited\n"))

    @unittest.skipUnless(ANALYZE_OK, "systemd-analyze verify cannot run in this environment")
    def test_installed_unit_verifies_clean(self):
        prefix = self.install()
        unit = os.path.join(prefix, "lib/systemd/system/dnsd.service")
        rc, out = verify(unit, os.path.join(prefix, "share/man"))
        self.assertEqual((rc, out), (0, ""))

    def test_example_config_is_valid(self):
        prefix = self.install()
        conf = os.path.join(prefix, "etc/dnsd/dnsd.yaml")
        p = subprocess.run([DNSD, "-c", conf, "--check"], capture_output=True, text=True,
                           timeout=60)
        if p.returncode == 0:
            return
        # Not a YAML or schema error: only what this machine lacks.
        self.assertNotRegex(p.stderr, r"dnsd\.yaml:\d+:\d+:")
        self.assertRegex(p.stderr, re.compile(r'user: no such user "dnsd"|GeoLite2-Country'))


if __name__ == "__main__":
    unittest.main()
