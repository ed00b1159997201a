#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate a hostile capture shape of size N for the sipsleuth scale benchmark (issue 14).

These captures are test-only and never committed (they are large); tests/bench/hostile.py generates
them into its work directory. Each shape is a story of N repetitions of one pattern, written with the
TCP/IP model of captures/sipstory.py (its struct encoder, which its selftest checks against scapy byte for
byte). Everything is derived from the shape name and N (a seeded random.Random and sipstory's digests), so
the same shape and N always give a byte-identical file.

Shapes:
  notify_rst       N SIP subscriptions over TCP, each on its own connection with a real handshake:
                   SUBSCRIBE (Event: dialog), 200 OK, then a NOTIFY from the notifier that the subscriber
                   answers with a TCP RST, 0.8 ms apart: up to 40,000 fall within one Timer F (32 s), so
                   every transaction is still pending at each RST (siptrack's SubscriptionTracker::packet).
  msrp_close       N MSRP chats: INVITE with an SDP offer (m=message, a=path, a=setup:active), 200 OK
                   with the answer (a=setup:passive), ACK over UDP; then the offerer's MSRP TCP
                   connection to the answerer with one SEND that gets no MSRP answer, closed by FIN
                   (even n) or RST (odd n), 1.5 ms apart: up to 20,000 fall within msrpa's 30 s send
                   timeout (msrpa's close path).
  big_dialog_info  One BLF subscription over TCP and N NOTIFYs (one a second, each answered 200 OK), each
                   with a full-state application/dialog-info+xml body of 1,500 dialogs (about 122 KB),
                   one dialog changing state per NOTIFY (dialoginfo's body store).
  many_headers     N SIP MESSAGE requests over one TCP connection, each with 494 Content-ID headers and
                   493 ms-diagnostics headers (about 80 KB), each answered 200 OK (the sip.hdr
                   sub-dissectors of ciscoalarm and mssip; Wireshark's limit is 500 protocol layers).

Usage: /usr/bin/python3 tests/bench/gen_hostile.py SHAPE OUT.pcap --n N
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "captures"))
from sipstory import (CLIENT, SERVER, Host, Story, TcpConnection, digest32, selftest,  # noqa: E402
                      sip_message, sip_response)

EPOCH = 1717232400.0  # 2024-06-01 09:00:00 UTC
DOMAIN = "hostile.example.com"
CONTENT_IDS, MS_DIAGNOSTICS = 494, 493
DIALOGS_PER_BODY = 1500


def tag(*parts):
    return "%08x" % digest32("tag", *parts)


def branch(*parts):
    return "z9hG4bK-%08x" % digest32("branch", *parts)


def numbered_host(net, n, mac_prefix):
    """Host number n (0-based, up to 62,499) of 10.net.0.0/16, never .0 or .255 in the last octet."""
    hi, lo = divmod(n, 250)
    return Host(f"10.{net}.{hi}.{lo + 1}", f"{mac_prefix}:{hi:02x}:{lo + 1:02x}", window=65535)


def dialog_subscribe(target, ip, port, branch_id, sub_from, call_id, contact, expires, extra=()):
    """A SUBSCRIBE over TCP for Event: dialog (CSeq 1), as both subscription shapes send it."""
    return sip_message(f"SUBSCRIBE {target} SIP/2.0", [
        ("Via", f"SIP/2.0/TCP {ip}:{port};branch={branch_id}"), ("Max-Forwards", "70"),
        ("From", sub_from), ("To", f"<{target}>"), ("Call-ID", call_id), ("CSeq", "1 SUBSCRIBE"),
        ("Contact", contact), ("Event", "dialog"), ("Accept", "application/dialog-info+xml"),
        ("Expires", str(expires))] + list(extra))


def notify_rst(n, rng):
    story = Story(EPOCH, step=20e-6, use_scapy=False)
    notifier = Host("10.60.255.10", "00:50:56:aa:ff:0a", window=65535)
    for i in range(n):
        phone = numbered_host(61, i, "00:1b:0c:61")
        port = rng.randrange(20000, 60000)
        ext = 10000 + i
        conn = TcpConnection(story, phone, port, notifier, 5060, rtt=0.0001).handshake()
        call_id = "%08x-%d@%s" % (digest32("sub", i), i, phone.ip)
        sub_from = f"<sip:{ext}@{DOMAIN}>;tag={tag('sub', i)}"
        target = f"sip:blf-{ext}@{DOMAIN}"
        contact = f"<sip:{ext}@{phone.ip}:{port};transport=tcp>"
        subscribe = dialog_subscribe(target, phone.ip, port, branch('S', i), sub_from, call_id, contact, 3600,
                                     [("User-Agent", "HostilePhone/1.0")])
        conn.send(CLIENT, subscribe)
        story.advance(0.0001)
        conn.send(SERVER, sip_response(subscribe, 200, "OK", to_tag=tag("notifier", i), headers=[
            ("Contact", f"<sip:blf-{ext}@{notifier.ip}:5060;transport=tcp>"), ("Expires", "3600")]))
        story.advance(0.0001)
        notify = sip_message(f"NOTIFY sip:{ext}@{phone.ip}:{port};transport=tcp SIP/2.0", [
            ("Via", f"SIP/2.0/TCP {notifier.ip}:5060;branch={branch('N', i)}"), ("Max-Forwards", "70"),
            ("From", f"<{target}>;tag={tag('notifier', i)}"), ("To", sub_from), ("Call-ID", call_id),
            ("CSeq", "1 NOTIFY"), ("Contact", f"<sip:blf-{ext}@{notifier.ip}:5060;transport=tcp>"),
            ("Event", "dialog"), ("Subscription-State", "active;expires=3600")])
        conn.send(SERVER, notify, ack=False)
        story.advance(0.0001)
        conn.reset(CLIENT)
    return story


def msrp_sdp(host, port, sid, setup, session):
    lines = ["v=0", f"o=- {session} {session} IN IP4 {host.ip}", "s=-", f"c=IN IP4 {host.ip}", "t=0 0",
             f"m=message {port} TCP/MSRP *", f"a=path:msrp://{host.ip}:{port}/{sid};tcp",
             "a=accept-types:message/cpim text/plain", f"a=setup:{setup}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def msrp_close(n, rng):
    story = Story(EPOCH, step=20e-6, use_scapy=False)
    server = Host("10.62.255.10", "00:50:56:aa:ff:1a", window=65535)
    for i in range(n):
        client = numbered_host(63, i, "00:1b:63:63")
        cport, sport = rng.randrange(20000, 60000), rng.randrange(20000, 60000)
        csid, ssid = "c%08x%04x" % (digest32("csid", i), i % 65536), "s%08x%04x" % (digest32("ssid", i), i % 65536)
        cpath, spath = f"msrp://{client.ip}:{cport}/{csid};tcp", f"msrp://{server.ip}:{sport}/{ssid};tcp"
        call_id = "%08x-%d@%s" % (digest32("chat", i), i, client.ip)
        user, room = f"sip:u{i}@{DOMAIN}", f"sip:chat@{DOMAIN}"
        invite = sip_message(f"INVITE {room} SIP/2.0", [
            ("Via", f"SIP/2.0/UDP {client.ip}:5060;branch={branch('I', i)}"), ("Max-Forwards", "70"),
            ("From", f"<{user}>;tag={tag('uac', i)}"), ("To", f"<{room}>"), ("Call-ID", call_id),
            ("CSeq", "1 INVITE"), ("Contact", f"<sip:u{i}@{client.ip}:5060>"),
            ("Content-Type", "application/sdp")], msrp_sdp(client, cport, csid, "active", 3000 + i))
        story.udp(client, 5060, server, 5060, invite)
        story.advance(0.0002)
        ok = sip_response(invite, 200, "OK", to_tag=tag("uas", i), headers=[
            ("Contact", f"<sip:chat@{server.ip}:5060>"), ("Content-Type", "application/sdp")],
            body=msrp_sdp(server, sport, ssid, "passive", 5000 + i))
        story.udp(server, 5060, client, 5060, ok)
        story.advance(0.0002)
        story.udp(client, 5060, server, 5060, sip_message(f"ACK sip:chat@{server.ip}:5060 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP {client.ip}:5060;branch={branch('A', i)}"), ("Max-Forwards", "70"),
            ("From", f"<{user}>;tag={tag('uac', i)}"), ("To", f"<{room}>;tag={tag('uas', i)}"),
            ("Call-ID", call_id), ("CSeq", "1 ACK")]))
        story.advance(0.0002)
        conn = TcpConnection(story, client, cport, server, sport, rtt=0.0002).handshake()
        tid = "%08x%04x" % (digest32("tid", i), i % 65536)
        text = f"hostile message {i}".encode()
        send = (f"MSRP {tid} SEND\r\nTo-Path: {spath}\r\nFrom-Path: {cpath}\r\nMessage-ID: m{tid}\r\n"
                f"Byte-Range: 1-{len(text)}/{len(text)}\r\nContent-Type: text/plain\r\n\r\n").encode()
        conn.send(CLIENT, send + text + f"\r\n-------{tid}$\r\n".encode())
        story.advance(0.0002)
        if i % 2 == 0:
            conn.close(CLIENT)
        else:
            conn.reset(CLIENT)
    return story


def dialog_info_body(version, entity):
    changed = version % DIALOGS_PER_BODY
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
             f'version="{version}" state="full" entity="{entity}">\r\n']
    for k in range(DIALOGS_PER_BODY):
        state = "early" if k == changed else "confirmed"
        parts.append(f'<dialog id="{k:04d}-{digest32("d", k) % 100000:05d}" direction="recipient">'
                     f'<state>{state}</state></dialog>\r\n')
    parts.append("</dialog-info>\r\n")
    return "".join(parts).encode()


def big_dialog_info(n, rng):
    story = Story(EPOCH, step=20e-6, use_scapy=False)
    watcher = Host("10.64.0.20", "00:1b:0c:64:00:14", window=65535)
    pbx = Host("10.64.255.10", "00:50:56:aa:ff:2a", window=65535)
    port = rng.randrange(20000, 60000)
    conn = TcpConnection(story, watcher, port, pbx, 5060).handshake()
    entity = f"sip:hunt-group@{DOMAIN}"
    call_id = "%08x@%s" % (digest32("blf", n), watcher.ip)
    sub_from = f"<sip:console@{DOMAIN}>;tag={tag('console')}"
    contact = f"<sip:console@{watcher.ip}:{port};transport=tcp>"
    subscribe = dialog_subscribe(entity, watcher.ip, port, branch('S', 0), sub_from, call_id, contact, 86400)
    conn.send(CLIENT, subscribe)
    story.advance(0.002)
    conn.send(SERVER, sip_response(subscribe, 200, "OK", to_tag=tag("pbx"), headers=[
        ("Contact", f"<sip:hunt-group@{pbx.ip}:5060;transport=tcp>"), ("Expires", "86400")]))
    for i in range(n):
        story.advance(0.01 if i == 0 else 1.0)
        notify = sip_message(f"NOTIFY sip:console@{watcher.ip}:{port};transport=tcp SIP/2.0", [
            ("Via", f"SIP/2.0/TCP {pbx.ip}:5060;branch={branch('N', i)}"), ("Max-Forwards", "70"),
            ("From", f"<{entity}>;tag={tag('pbx')}"), ("To", sub_from), ("Call-ID", call_id),
            ("CSeq", f"{i + 1} NOTIFY"), ("Contact", f"<sip:hunt-group@{pbx.ip}:5060;transport=tcp>"),
            ("Event", "dialog"), ("Subscription-State", "active;expires=86400"),
            ("Content-Type", "application/dialog-info+xml")], dialog_info_body(i, entity))
        conn.send(SERVER, notify)
        story.advance(0.002)
        conn.send(CLIENT, sip_response(notify, 200, "OK"))
    conn.close(CLIENT)
    return story


DIAGNOSTICS = ('1033;reason="Previous hop server component did not report diagnostic information";'
               'Domain="hostile.example.com";PeerServer="edge.hostile.example.com";source="pool.hostile.example.com"',
               '2;reason="See response code and reason phrase";source="fe.hostile.example.com"',
               '13004;reason="Request was proxied to one or more registered endpoints";source="pool.hostile.example.com";'
               'Count="2";appName="InboundRouting"')


def many_headers(n, rng):
    story = Story(EPOCH, step=20e-6, use_scapy=False)
    client = Host("10.66.0.30", "00:15:5d:66:00:1e", window=65535)
    proxy = Host("10.66.255.10", "00:50:56:aa:ff:3a", window=65535)
    port = rng.randrange(20000, 60000)
    conn = TcpConnection(story, client, port, proxy, 5060).handshake()
    for i in range(n):
        story.advance(0.01)
        call_id = "%08x-%d@%s" % (digest32("msg", i), i, client.ip)
        headers = [("Via", f"SIP/2.0/TCP {client.ip}:{port};branch={branch('M', i)}"), ("Max-Forwards", "70"),
                   ("From", f"<sip:alice@{DOMAIN}>;tag={tag('m', i)}"), ("To", f"<sip:bob@{DOMAIN}>"),
                   ("Call-ID", call_id), ("CSeq", "1 MESSAGE")]
        headers += [("Content-ID", f"<part{k:04d}.{i}@{DOMAIN}>") for k in range(CONTENT_IDS)]
        headers += [("ms-diagnostics", DIAGNOSTICS[rng.randrange(len(DIAGNOSTICS))]) for _ in range(MS_DIAGNOSTICS)]
        headers.append(("Content-Type", "text/plain"))
        message = sip_message(f"MESSAGE sip:bob@{DOMAIN} SIP/2.0", headers, f"hostile {i}".encode())
        conn.send(CLIENT, message)
        story.advance(0.002)
        conn.send(SERVER, sip_response(message, 200, "OK"))
    conn.close(CLIENT)
    return story


SHAPES = {"notify_rst": notify_rst, "msrp_close": msrp_close, "big_dialog_info": big_dialog_info,
          "many_headers": many_headers}


def generate(shape, n, path):
    """Write shape of size n to path; returns (frames, seconds of traffic)."""
    story = SHAPES[shape](n, random.Random(f"sipsleuth-hostile:{shape}:{n}"))
    story.write(path)
    return len(story.frames), story.now


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--n", type=int, required=True, help="size: subscriptions, chats, NOTIFYs or messages")
    args = parser.parse_args()
    if args.n < 1 or (args.shape in ("notify_rst", "msrp_close") and args.n > 62500):
        parser.error("--n must be 1..62500 for notify_rst and msrp_close, at least 1 otherwise")
    start = time.perf_counter()
    selftest()
    frames, seconds = generate(args.shape, args.n, args.out)
    print(f"{args.out}: {args.shape} n={args.n}, {frames} frames, {seconds:.1f} s of traffic, "
          f"{os.path.getsize(args.out) / 1e6:.1f} MB, built in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
