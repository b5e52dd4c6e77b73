"""xdprig.py - two network namespaces joined by a veth pair, for the AF_XDP
listener's tests (test_xdp.py) and benchmark (bench/xdp-bench).

The server namespace holds SRV_IF (two receive queues) with 198.18.0.1/24 and 2001:db8:53::1/64,
the client namespace CLI_IF with 198.18.0.2/24, 2001:db8:53::2/64 and the
extra client addresses asked for (/32, so the GeoIP test DB can tell clients
apart); 198.18.0.0/15 (RFC 2544 benchmarking) never leaves the namespaces.
Names carry the PID, so rigs of parallel runs do not meet; close() deletes
both namespaces, which deletes the veth pair with them.

CLI_IF has TX checksum offload off (`ethtool -K CLI_IF tx off`): with it on,
veth hands the client sockets' datagrams to the server side with the UDP
checksum unfinished (CHECKSUM_PARTIAL, only the pseudo-header summed), which
the kernel trusts from skb state that AF_XDP frames do not carry, and which
dnsd's AF_XDP path therefore drops as a bad checksum (dnsd/io/xdp_pkt.c).

The calling process can enter the client namespace (enter_client): its
sockets and the clients it starts (kdig, dig, dnsperf) then live there, and
the daemon is started in the server namespace with `ip netns exec`.
"""

import ctypes
import json
import os
import shutil
import subprocess
import sys

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
SRV4_OTHER = "198.18.0.3"  # the server's too, but dnsd does not listen on it
SRV6, CLI6 = "2001:db8:53::1", "2001:db8:53::2"
CLONE_NEWNET = 0x40000000


def _ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=20,
                          check=check)


# `ethtool -K DEV tx off` without ethtool: the ETHTOOL_STXCSUM ioctl.
TX_CSUM_OFF = """
import array, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
value = array.array("B", struct.pack("II", ETHTOOL_STXCSUM, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), value.buffer_info()[0])
with socket.socket() as s:
    fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
"""


def unavailable():
    """Why a rig cannot be built here, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (run the tests as root)"
    if not shutil.which("ip"):
        return "needs iproute2's ip"
    return None


class Rig:
    def __init__(self, client_addrs=(), tag="xdp"):
        pid = os.getpid()
        self.srv_ns, self.cli_ns = "dnsd-%s-s%d" % (tag, pid), "dnsd-%s-c%d" % (tag, pid)
        self.srv_if, self.cli_if = "dx%ds" % (pid % 100000), "dx%dc" % (pid % 100000)
        self.client_addrs = list(client_addrs)
        self.home = None
        self.made = False

    def open(self):
        """Builds the rig; returns None, or why it could not (after cleaning up)."""
        why = unavailable()
        if why:
            return why
        try:
            _ip("netns", "add", self.srv_ns)
            self.made = True
            _ip("netns", "add", self.cli_ns)
            # Two queues a side, so the AF_XDP listener runs a socket per
            # queue on two workers.
            _ip("link", "add", self.srv_if, "netns", self.srv_ns, "numtxqueues", "2",
                "numrxqueues", "2", "type", "veth", "peer", "name", self.cli_if, "netns",
                self.cli_ns, "numtxqueues", "2", "numrxqueues", "2")
            for ns, dev, a4, a6 in ((self.srv_ns, self.srv_if, SRV4, SRV6),
                                    (self.cli_ns, self.cli_if, CLI4, CLI6)):
                _ip("-n", ns, "addr", "add", a4 + "/24", "dev", dev)
                _ip("-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", self.srv_ns, "addr", "add", SRV4_OTHER + "/32", "dev", self.srv_if)
            subprocess.run(self.in_cli([sys.executable, "-c", TX_CSUM_OFF, self.cli_if]),
                           capture_output=True, text=True, timeout=20, check=True)
            for a in self.client_addrs:
                _ip("-n", self.cli_ns, "addr", "add", a + "/32", "dev", self.cli_if)
            # Replies to the extra client addresses: on-link, like the /24.
            _ip("-n", self.srv_ns, "route", "add", "198.18.0.0/16", "dev", self.srv_if)
            _ip("-n", self.cli_ns, "route", "add", "198.18.0.0/16", "dev", self.cli_if)
        except (subprocess.CalledProcessError, OSError) as e:
            self.close()
            detail = getattr(e, "stderr", "") or str(e)
            return "cannot build the veth rig: %s" % detail.strip()
        return None

    def mac(self, side="srv"):
        ns, dev = (self.srv_ns, self.srv_if) if side == "srv" else (self.cli_ns, self.cli_if)
        return json.loads(_ip("-n", ns, "-j", "link", "show", dev).stdout)[0]["address"]

    def in_srv(self, argv):
        """argv run in the server namespace."""
        return ["ip", "netns", "exec", self.srv_ns] + list(argv)

    def in_cli(self, argv):
        return ["ip", "netns", "exec", self.cli_ns] + list(argv)

    def enter_client(self):
        """Moves this thread (and the processes it starts) into the client
        namespace; leave() returns."""
        libc = ctypes.CDLL(None, use_errno=True)
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + self.cli_ns, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into " + self.cli_ns)
        finally:
            os.close(fd)

    def leave(self):
        if self.home is None:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.setns(self.home, CLONE_NEWNET)
        os.close(self.home)
        self.home = None

    def close(self):
        self.leave()
        if self.made:
            for ns in (self.srv_ns, self.cli_ns):
                _ip("netns", "del", ns, check=False)
            self.made = False
