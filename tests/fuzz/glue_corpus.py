#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn captures into seed scripts for the glue fuzz target (tests/fuzz/glue/fuzz_glue.c).

Each capture's SIP, MSRP and SCCP packets (UDP or TCP; IPv4 or IPv6, any link layer scapy reads) become
one "@@<header>\\n<payload>" record each: the connection (A..H, the first eight 5-tuples seen), who sent
it (the server is the end with a well-known port: 5060, 5061, 2855, 2000, else the lower port), the
transport, SYN/FIN/RST, a TCP retransmission (a segment whose sequence number was already sent), and
the time since the previous packet rounded to the target's steps. Packets of further connections are
dropped. With --window N, a capture longer than N packets gives several seeds of N packets each.

Usage: /usr/bin/python3 tests/fuzz/glue_corpus.py OUT_DIR CAPTURE_OR_DIR... [--window 120] [--max-seeds 400]
                                         [--max-bytes 65536]
"""
import argparse
import hashlib
import os
import sys

from scapy.all import IP, IPv6, TCP, UDP, PcapReader  # noqa: E402

WELL_KNOWN = {5060: "", 5061: "", 2855: "m", 2000: "k"}
# fuzz_glue.c's time steps, in seconds, by header digit (9: the same instant).
STEPS = [(9, 0.0), (0, 0.001), (1, 0.1), (2, 1.0), (3, 15.0), (4, 30.0), (5, 120.0), (6, 600.0), (7, 1800.0),
         (8, 3600.0)]


def step_digit(delta):
    return min(STEPS, key=lambda s: abs(s[1] - delta))[0]


def interesting(payload, sport, dport):
    if sport in WELL_KNOWN or dport in WELL_KNOWN:
        return True
    head = payload[:16]
    return head.startswith((b"SIP/2.0", b"MSRP ")) or b" SIP/2.0" in payload[:200]


def records(path):
    conns = {}
    sent = {}
    last_time = None
    try:
        reader = PcapReader(path)
    except Exception as e:  # noqa: BLE001 - scapy raises many kinds for files it cannot read
        print(f"skip {path}: {e}", file=sys.stderr)
        return
    with reader:
        for pkt in reader:
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if ip is None:
                continue
            l4 = ip.getlayer(TCP) or ip.getlayer(UDP)
            if l4 is None:
                continue
            tcp = isinstance(l4, TCP)
            payload = bytes(l4.payload) if l4.payload else b""
            if isinstance(l4, UDP) and not payload:
                continue
            a, b = (ip.src, l4.sport), (ip.dst, l4.dport)
            key = (tcp,) + tuple(sorted([a, b]))
            if key not in conns:
                if not (tcp and l4.flags & 0x02) and not interesting(payload, l4.sport, l4.dport):
                    continue
                if len(conns) >= 8:
                    continue
                server = b if (l4.dport in WELL_KNOWN or (l4.sport not in WELL_KNOWN and l4.dport < l4.sport)) else a
                conns[key] = (chr(ord("A") + len(conns)), server)
            letter, server = conns[key]
            header = letter + ("t" if tcp else "")
            port = server[1]
            header += WELL_KNOWN.get(port, "")
            from_server = a == server
            if from_server:
                header += "<"
            t = float(pkt.time)
            header += str(step_digit(0.0 if last_time is None else max(0.0, t - last_time)))
            last_time = t
            if tcp:
                flags = int(l4.flags)
                if flags & 0x02:
                    if flags & 0x10:
                        continue  # the SYN/ACK: the target makes the whole handshake from "+"
                    yield "+" + header, b""
                    continue
                if flags & 0x04:
                    yield header + "!", b""
                    continue
                seen = sent.setdefault((key, from_server), set())
                if payload and l4.seq in seen:
                    yield header + "~", b""
                    continue
                if payload:
                    seen.add(l4.seq)
                if flags & 0x01:
                    header += "-"
                if not payload and not flags & 0x01:
                    continue  # bare ACKs: the target acknowledges by itself
            yield header, payload


def script(recs):
    out = bytearray()
    for header, payload in recs:
        out += b"@@" + header.encode() + b"\n" + payload + b"\n"
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--window", type=int, default=120, help="packets per seed")
    ap.add_argument("--max-seeds", type=int, default=400)
    ap.add_argument("--max-bytes", type=int, default=65536, help="drop seeds larger than this")
    args = ap.parse_args()
    files = []
    for p in args.inputs:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith((".pcap", ".pcapng", ".cap"))]
        else:
            files.append(p)
    os.makedirs(args.out, exist_ok=True)
    written = 0
    for path in sorted(files):
        recs = list(records(path))
        for start in range(0, len(recs), args.window):
            if written >= args.max_seeds:
                break
            data = script(recs[start:start + args.window])
            if len(data) > args.max_bytes:
                continue
            name = hashlib.sha1(data).hexdigest()[:16]
            with open(os.path.join(args.out, f"{os.path.basename(path)}.{start}.{name}"), "wb") as f:
                f.write(data)
            written += 1
    print(f"{written} seeds from {len(files)} captures in {args.out}")


if __name__ == "__main__":
    main()
