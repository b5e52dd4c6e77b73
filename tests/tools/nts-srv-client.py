#!/usr/bin/python3
"""nts-srv-client.py - an NTS pool client as the NTS pool's srv-pool.md has
one find and use a server, for the end-to-end test of dnsd's SRV answers:

 1. look up SRV records under the pool's name through a (validating) resolver,
    and reject them unless the resolver vouches for their signatures (AD bit,
    RFC 4035 section 3.2.3) - "clients MUST reject any SRV records which are
    unsigned";
 2. order them as RFC 2782 says: by priority, and within a priority by a
    weighted random draw without replacement (running sums of the weights,
    a uniform number in [0, sum], the first record whose sum reaches it);
 3. for the first record that works: TLS 1.3 to the target's port with the
    target as the name to verify (SNI and certificate), ALPN "ntske/1", and
    an NTS-KE request (RFC 8915 section 4): NTS Next Protocol Negotiation
    (NTPv4), AEAD Algorithm Negotiation (AEAD_AES_SIV_CMAC_256, RFC 5297),
    End of Message; then read the reply's records up to its End of Message
    and keep the new cookies.

--connect ADDR sends the TCP connection to ADDR instead of the target's own
addresses (a test's target name resolves nowhere), while TLS still verifies
the target name. Prints one JSON object (the SRV records in the order tried,
the endpoint used, the negotiated protocol, algorithm and cookies) and exits
0; exits 2 when the SRV records are refused as unsigned, 1 on other errors.
"""

import argparse
import json
import random
import socket
import ssl
import struct
import sys

import dns.flags
import dns.message
import dns.query
import dns.rdatatype

# RFC 8915 section 4.1 record types; the critical bit is 0x8000.
END_OF_MESSAGE, NEXT_PROTOCOL, ERROR, WARNING, AEAD, NEW_COOKIE = 0, 1, 2, 3, 4, 5
SERVER_NEGOTIATION, PORT_NEGOTIATION = 6, 7
CRITICAL = 0x8000
NTPV4 = 0                   # NTS Next Protocol ID (RFC 8915 section 7.7)
AEAD_AES_SIV_CMAC_256 = 15  # RFC 5297, the algorithm NTS requires (section 5.1)


def srv_lookup(name, resolver, port, timeout):
    """The SRV records of `name`: [(priority, weight, port, target)]."""
    q = dns.message.make_query(name, "SRV", want_dnssec=True)
    q.flags |= dns.flags.RD | dns.flags.AD  # AD in a query: tell me (RFC 6840 5.7)
    r = dns.query.udp(q, resolver, port=port, timeout=timeout)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, resolver, port=port, timeout=timeout)
    recs = [(rd.priority, rd.weight, rd.port, rd.target.to_text(omit_final_dot=True))
            for rrs in r.answer if rrs.rdtype == dns.rdatatype.SRV for rd in rrs]
    signed = bool(r.flags & dns.flags.AD)
    return recs, signed


def rfc2782_order(recs, rng):
    """RFC 2782's order: priorities ascending, weighted draws within each."""
    out = []
    for prio in sorted({r[0] for r in recs}):
        # "arrange all SRV RRs (that have not been ordered yet) in any order,
        # except that all those with weight 0 are placed at the beginning":
        # sorted by target and port, so that a seed reproduces an order
        # whatever order the resolver gave.
        left = sorted((r for r in recs if r[0] == prio), key=lambda r: (r[1] != 0, r[3], r[2]))
        while left:
            total = sum(r[1] for r in left)
            u, run = rng.randint(0, total), 0
            for i, r in enumerate(left):
                run += r[1]
                if run >= u:
                    out.append(left.pop(i))
                    break
    return out


def ke_record(rtype, body, critical=True):
    return struct.pack("!HH", rtype | (CRITICAL if critical else 0), len(body)) + body


def ke_request():
    return (ke_record(NEXT_PROTOCOL, struct.pack("!H", NTPV4)) +
            ke_record(AEAD, struct.pack("!H", AEAD_AES_SIV_CMAC_256)) +
            ke_record(END_OF_MESSAGE, b""))


def read_exact(tls, n):
    buf = b""
    while len(buf) < n:
        chunk = tls.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("NTS-KE server closed the connection mid-record")
        buf += chunk
    return buf


def ke_response(tls):
    """The reply's records up to End of Message, as a dict of findings."""
    out = {"next_protocol": None, "aead": None, "cookies": [], "errors": [], "warnings": []}
    for _ in range(1000):  # bounded: a server could stream records forever
        rtype, length = struct.unpack("!HH", read_exact(tls, 4))
        body = read_exact(tls, length)
        rtype &= ~CRITICAL
        if rtype == END_OF_MESSAGE:
            return out
        if rtype == NEXT_PROTOCOL:
            out["next_protocol"] = struct.unpack("!H", body[:2])[0]
        elif rtype == AEAD:
            out["aead"] = struct.unpack("!H", body[:2])[0]
        elif rtype == NEW_COOKIE:
            out["cookies"].append(body.hex())
        elif rtype == ERROR:
            out["errors"].append(struct.unpack("!H", body[:2])[0])
        elif rtype == WARNING:
            out["warnings"].append(struct.unpack("!H", body[:2])[0])
        elif rtype == SERVER_NEGOTIATION:
            out["ntp_server"] = body.decode("ascii", "replace")
        elif rtype == PORT_NEGOTIATION:
            out["ntp_port"] = struct.unpack("!H", body[:2])[0]
    raise ConnectionError("no End of Message in 1000 records")


def nts_ke(target, port, connect, cafile, timeout):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3  # RFC 8915 section 3
    ctx.set_alpn_protocols(["ntske/1"])
    with socket.create_connection((connect or target, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=target) as tls:
            if tls.selected_alpn_protocol() != "ntske/1":
                raise ConnectionError("server did not select ALPN ntske/1")
            tls.sendall(ke_request())
            out = ke_response(tls)
            out["tls_version"] = tls.version()
            return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", help="the pool's SRV name, e.g. _ntske._tcp.pool.ntp.org")
    ap.add_argument("--resolver", default="127.0.0.1")
    ap.add_argument("--resolver-port", type=int, default=53)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--connect", help="address to connect to instead of the target's")
    ap.add_argument("--seed", type=int, help="fixes RFC 2782's random ordering")
    ap.add_argument("--insecure", action="store_true",
                    help="accept SRV records without a validated signature (tests only)")
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()

    recs, signed = srv_lookup(a.name, a.resolver, a.resolver_port, a.timeout)
    result = {"srv": recs, "signed": signed}
    if not signed and not a.insecure:
        result["error"] = "SRV records not validated (no AD): rejected as srv-pool.md requires"
        print(json.dumps(result))
        return 2
    if not recs:
        result["error"] = "no SRV records"
        print(json.dumps(result))
        return 1
    order = rfc2782_order(recs, random.Random(a.seed))
    result["order"] = order
    for prio, weight, port, target in order:
        try:
            ke = nts_ke(target, port, a.connect, a.cafile, a.timeout)
        except (OSError, ssl.SSLError, ConnectionError) as e:
            result.setdefault("failed", []).append([target, port, str(e)])
            continue
        result.update(ke, target=target, port=port)
        print(json.dumps(result))
        ok = ke["next_protocol"] == NTPV4 and ke["aead"] == AEAD_AES_SIV_CMAC_256
        return 0 if ok and ke["cookies"] and not ke["errors"] else 1
    result["error"] = "no SRV target completed NTS-KE"
    print(json.dumps(result))
    return 1


if __name__ == "__main__":
    sys.exit(main())
