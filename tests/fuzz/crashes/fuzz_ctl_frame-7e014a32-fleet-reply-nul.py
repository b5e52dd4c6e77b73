#!/usr/bin/python3
"""Reproducer: dnsdctl fleet mode reads past a reply buffer (found by fuzz_ctl_frame).

    tests/fuzz/crashes/fuzz_ctl_frame-7e014a32-fleet-reply-nul.py build-fuzz/bin/dnsdctl

A fake node on a unix socket sends HELLO (no MAC) and answers the request with an
OK frame whose 4-byte payload is "n\\0xy". ctl/fleet.c:114 copies the payload with
strndup(), which stops at the NUL (a 2-byte buffer), then ctl/fleet.c:123 calls
ctl_json_parse(text, f->len) with the frame length, 4: json.c:287 compares 4 bytes
for "null" and reads 2 bytes past the buffer. With an ASan build (build-fuzz/ or
build-asan/) dnsdctl reports heap-buffer-overflow; exit 0 here means fixed.
Fix: parse strlen(text) bytes (or the payload itself with f->len).
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading


def node(srv):
    c, _ = srv.accept()
    hello = bytes(32) + b"\0" + b"fake"
    c.sendall(b"DC\x02\x01" + struct.pack(">I", len(hello)) + hello)
    hdr = c.recv(8)
    left = struct.unpack(">I", hdr[4:])[0]
    while left:
        left -= len(c.recv(left))
    reply = b"n\0xy"
    c.sendall(b"DC\x02\x80" + struct.pack(">I", len(reply)) + reply)
    c.close()


def main():
    dnsdctl = sys.argv[1] if len(sys.argv) > 1 else "build-fuzz/bin/dnsdctl"
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "ctl.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(sock)
        srv.listen(1)
        srv.settimeout(10)
        threading.Thread(target=node, args=(srv,), daemon=True).start()
        with open(os.path.join(d, "nodes.yaml"), "w") as f:
            f.write(f"nodes:\n  - {{name: fake, unix: {sock}}}\n")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
        r = subprocess.run([dnsdctl, "--nodes", os.path.join(d, "nodes.yaml"), "-t", "3",
                            "status"], capture_output=True, text=True, timeout=20, env=env)
    if "AddressSanitizer" in r.stderr:
        print("\n".join(l for l in r.stderr.splitlines() if "ERROR" in l or "#" in l[:8]))
        return 1
    print(f"no memory error (dnsdctl exit {r.returncode}): fixed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
