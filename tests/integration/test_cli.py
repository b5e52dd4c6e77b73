"""The command line: --help, --version, --check on the shipped and on broken
configs, and that a bad config or master file stops dnsd before it binds
anything (checked with strace: not one bind(2) call)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (DNSD, ORIGIN, POOL_ZONE, SANITIZER_RE, SOURCE_DIR, Server, built_with,
                     free_port, port_is_free)

PATH_KEYS = ("master", "snapshot", "state_dir", "database", "unix", "key_file")


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        return re.search(r"project\(dnsd VERSION ([0-9.]+)", f.read()).group(1)


def run(*args, timeout=30, strace_to=None):
    argv = [DNSD] + list(args)
    if strace_to:
        # `timeout` ends a dnsd that wrongly starts serving; strace would outlive
        # subprocess's own timeout and leave it running.
        argv = ["strace", "-f", "-qq", "-e", "trace=bind", "-e", "signal=none", "-o",
                strace_to, "timeout", "-s", "KILL", str(timeout // 2)] + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if SANITIZER_RE.search(p.stderr):
        raise AssertionError("sanitizer report:\n" + p.stderr)
    return p


def without_geoip(text, base):
    """The config text with the geoip key dropped and relative paths made
    absolute (against `base`), so a copy elsewhere means the same."""
    out, skip = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if skip is not None:
            if not line.strip() or line.lstrip().startswith("#") or indent > skip:
                continue
            skip = None
        if re.match(r"\s*geoip\s*:", line):
            skip = indent
            continue

        def absolute(m):
            path = m.group(3)
            return m.group(1) + m.group(2) + (path if os.path.isabs(path)
                                              else os.path.normpath(os.path.join(base, path)))
        out.append(re.sub(r"\b((?:%s):\s*)(\"?)([^\s\",}#]+)" % "|".join(PATH_KEYS), absolute,
                          line))
    return "\n".join(out) + "\n"


class CliTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="dnsd-cli-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        self.port = free_port(False)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def config(self, body, master_text=POOL_ZONE):
        master = self.write("pool.zone", master_text)
        return self.write("dnsd.yaml", body.format(port=self.port, master=master))

    def assertNothingBound(self, *args):
        """Runs dnsd under strace; it must fail without calling bind(2)."""
        if not shutil.which("strace"):
            self.skipTest("strace missing (scripts/setup --tests installs it)")
        trace = os.path.join(self.dir, "strace.txt")
        p = run(*args, strace_to=trace)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        with open(trace) as f:
            binds = [line for line in f if "bind(" in line]
        self.assertEqual(binds, [], "bound before failing")
        return p

    def test_help(self):
        p = run("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout + p.stderr
        for opt in ("-c", "--check", "--check-snapshot", "--version"):
            self.assertIn(opt, out)

    def test_version(self):
        p = run("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(project_version(), p.stdout)

    def test_unknown_option(self):
        p = run("--no-such-option")
        self.assertNotEqual(p.returncode, 0)
        self.assertNotEqual(p.stderr.strip(), "")

    def test_check_shipped_config(self):
        shipped = os.path.join(SOURCE_DIR, "config", "dnsd.yaml")
        self.assertTrue(os.path.exists(shipped), shipped)
        with open(shipped) as f:
            text = f.read()
        m = re.search(r"database:\s*\"?([^\s\",}#]+)", text)
        path = shipped
        if m and not os.path.exists(os.path.join(os.path.dirname(shipped), m.group(1))):
            # GeoIP DB not fetched (scripts/setup fetches it): check the rest.
            path = self.write("dnsd.yaml", without_geoip(text, os.path.dirname(shipped)))
        p = run("-c", path, "--check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_check_good_config(self):
        server = Server(workers=1)  # writes the config; never started
        self.addCleanup(server.tmp.cleanup)
        p = run("-c", server.config, "--check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_config_errors_name_file_line_column_key(self):
        good = ('listen: ["127.0.0.1:{port}"]\n'
                "workers: 1\n"
                "zones:\n"
                "  - origin: pool.ntp.org\n"
                "    master: {master}\n")
        cases = [
            ("unknown key", good + "bogus: 1\n", 6, 1, "bogus"),
            ("unknown zone key", good + "    colour: blue\n", 6, 5, r"zones\[0\]\.colour"),
            ("bad ttl", good + "    ttl: x\n", 6, 10, r"zones\[0\]\.ttl"),
            ("answers out of range", good + "    answers: 17\n", 6, 14,
             r"zones\[0\]\.answers"),
            ("bad aaaa", good + "    aaaa: some\n", 6, 11, r"zones\[0\]\.aaaa"),
            ("bad workers", good.replace("workers: 1", "workers: many"), 2, 10, "workers"),
            ("bad listen port", good.replace(":{port}", ":99999"), 1, 10, r"listen\[0\]"),
            ("IPv6 without brackets", good.replace("127.0.0.1:{port}", "::1:{port}"), 1, 10,
             r"listen\[0\]"),
            ("bad idle timeout", good + "tcp: {{idle_timeout: 0}}\n", 6, 21,
             r"tcp\.idle_timeout"),
        ]
        for name, body, line, col, key in cases:
            with self.subTest(case=name):
                path = self.config(body)
                p = self.assertNothingBound("-c", path)
                self.assertRegex(p.stderr, r"%s:%d:%d: %s: " % (re.escape(path), line, col, key))
                self.assertTrue(port_is_free(self.port))
                p = run("-c", path, "--check")
                self.assertEqual(p.returncode, 1)
                self.assertRegex(p.stderr, r"%s:%d:%d: %s: " % (re.escape(path), line, col, key))

    def test_bad_master_file_names_file_and_line(self):
        body = ('listen: ["127.0.0.1:{port}"]\nworkers: 1\nzones:\n'
                "  - origin: pool.ntp.org\n    master: {master}\n")
        head = POOL_ZONE.splitlines(keepends=True)[:4]  # $ORIGIN, $TTL, SOA, NS
        cases = [
            ("bad address", head + ["www IN A 192.0.2.999\n"], 5),
            ("outside the origin", head + ["ns1 IN A 192.0.2.53\n",
                                           "www.example.com. IN A 192.0.2.1\n"], 6),
            ("unknown type", head + ["www IN NOSUCHTYPE 1\n"], 5),
        ]
        for name, lines, line in cases:
            with self.subTest(case=name):
                path = self.config(body, "".join(lines))
                master = os.path.join(self.dir, "pool.zone")
                p = self.assertNothingBound("-c", path)
                self.assertRegex(p.stderr, r"%s:%d\b" % (re.escape(master), line))
                p = run("-c", path, "--check")
                self.assertEqual(p.returncode, 1)
                self.assertRegex(p.stderr, r"%s:%d\b" % (re.escape(master), line))

    def test_master_without_ns_is_refused(self):
        body = ('listen: ["127.0.0.1:{port}"]\nworkers: 1\nzones:\n'
                "  - origin: %s\n    master: {master}\n" % ORIGIN)
        path = self.config(body, "".join(POOL_ZONE.splitlines(keepends=True)[:3]))
        p = self.assertNothingBound("-c", path)
        self.assertIn(os.path.join(self.dir, "pool.zone"), p.stderr)

    def test_query_log_needs_a_build_with_dnstap(self):
        # Either build: one with dnstap checks the config, one without
        # (-DDNSD_DNSTAP=OFF) refuses it before binding, saying why.
        body = ('listen: ["127.0.0.1:{port}"]\nworkers: 1\nzones:\n'
                "  - origin: %s\n    master: {master}\n"
                "query_log: {{dnstap: {{file: q.dnstap}}}}\n" % ORIGIN)
        path = self.config(body)
        p = run("-c", path, "--check")
        if built_with("dnstap"):
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            return
        want = ("%s: query_log: this dnsd was built without dnstap support "
                "(-DDNSD_DNSTAP=OFF)" % path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stderr)
        p = self.assertNothingBound("-c", path)
        self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
