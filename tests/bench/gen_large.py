#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the large capture for the sipsleuth benchmark (default 220,000 packets).

The benchmark compares tshark with and without the plugins on traffic like an enterprise voice VLAN:
a PBX (B2BUA) and 200 phones, 25 of them on long-lived SIP/TCP connections, the rest on SIP/UDP.
Phones register and refresh, watch each other's line state (SUBSCRIBE/NOTIFY, Event: dialog,
application/dialog-info+xml), call each other (INVITE/100/180/200/ACK/BYE/200 with SDP on both legs) and
send RTP; TCP phones announce themselves with a Cisco DeviceTLInfo alarm REFER. DNS and HTTP from PCs fill
in the background; RTP and the background make most of the packets. Flows are generators run by a
small event scheduler on the story clock; everything is seeded, so the output is byte-identical on
every run. Frames are built with sipstory's struct encoder (scapy per packet would take minutes).

Usage: /usr/bin/python3 tests/bench/gen_large.py OUT.pcap [--packets N]
"""
import argparse
import heapq
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "captures"))
from sipstory import (CLIENT, SERVER, Host, Story, TcpConnection, selftest,  # noqa: E402
                      sip_message, sip_response)
from gen_ciscoalarm import DEVICE_TL_INFO, crlf  # noqa: E402

EPOCH = 1709629200.0  # 2024-03-05 09:00:00 UTC
DOMAIN = "pbx.example.com"
PBX = Host("10.20.0.10", "00:50:56:8a:10:0a")
DNS = Host("10.20.0.53", "00:50:56:8a:10:35")
WEB = Host("10.20.0.80", "00:50:56:8a:10:50")
PHONES, TCP_EVERY, PCS, WATCHERS = 200, 8, 60, 10
CALLS_PER_S, DNS_PER_S, HTTP_PER_S = 1.0, 50.0, 8.0
UA = "Cisco-CP8841/14.2.1"
PAGE_LINE = b"<p>sipsleuth benchmark background page</p>\n"
SERVER_HDR = "ExamplePBX/4.2"
ALLOW = "ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE"
DNS_NAMES = [("pbx.example.com", 1, "10.20.0.10"), ("intranet.example.com", 1, "10.20.0.80"),
             ("time.example.com", 1, "10.20.0.123"), ("updates.example.org", 1, "203.0.113.17"),
             ("pbx.example.com", 28, None), ("mail.example.com", 1, "10.20.0.25")]


def dns_templates():
    """(query, response) payload pairs, built once with scapy; the transaction id is patched per use."""
    from scapy.layers.dns import DNS as DNSPacket, DNSQR, DNSRR
    pairs = []
    for name, qtype, addr in DNS_NAMES:
        query = DNSPacket(id=0, rd=1, qd=DNSQR(qname=name, qtype=qtype))
        answer = DNSRR(rrname=name, type=qtype, ttl=300, rdata=addr) if addr else None
        response = DNSPacket(id=0, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=answer)
        pairs.append((bytes(query), bytes(response)))
    return pairs


class Phone:
    def __init__(self, n, tcp):
        self.n, self.ext, self.tcp = n, str(2000 + n), tcp
        self.host = Host(f"10.20.1.{n}", f"00:1b:0c:01:00:{n:02x}", window=29200)
        self.port = 49152 + n if tcp else 5060
        self.transport = "TCP" if tcp else "UDP"
        self.conn = None
        self.subs = []  # subscriptions watching this phone
        self.dialog = None  # current dialog-info <dialog> element values, None when idle
        self.busy = False

    @property
    def contact(self):
        return f"<sip:{self.ext}@{self.host.ip}:{self.port};transport={self.transport.lower()}>"


class Subscription:
    def __init__(self, watcher, target, ids):
        self.watcher, self.target = watcher, target
        self.call_id, self.watcher_tag, self.pbx_tag = ids
        self.cseq, self.pbx_cseq, self.version = 1, 1, 0


class LargeCapture:
    def __init__(self, packets, seed=2024):
        self.limit = packets
        self.rng = random.Random(seed)
        self.story = Story(EPOCH, step=5e-6, use_scapy=False)
        self.queue, self.order = [], 0
        self.sip_messages = 0
        self.phones = [Phone(n, n % TCP_EVERY == 0) for n in range(1, PHONES + 1)]
        self.pcs = [Host(f"10.20.2.{n}", f"00:21:cc:02:00:{n:02x}") for n in range(1, PCS + 1)]
        self.dns = dns_templates()
        self.ports = {}  # next ephemeral port per client address, so no 4-tuple is ever reused

    def ephemeral(self, host):
        port = self.ports.get(host.ip) or self.rng.randrange(40000, 50000)
        self.ports[host.ip] = port + 1 if port < 60999 else 40000
        return port

    # --- scheduling -----------------------------------------------------------------------------
    def spawn(self, delay, flow):
        self.order += 1
        heapq.heappush(self.queue, (self.story.now + delay, self.order, flow))

    def run(self):
        for phone in self.phones:
            self.spawn(self.rng.uniform(0, 5), self.boot(phone))
        for watcher in self.phones:
            for target in self.rng.sample([p for p in self.phones if p is not watcher], WATCHERS):
                self.spawn(self.rng.uniform(6, 30), self.subscription(watcher, target))
        self.spawn(8, self.arrivals(CALLS_PER_S, self.call_attempt))
        self.spawn(0, self.arrivals(DNS_PER_S, self.dns_lookup))
        self.spawn(0, self.arrivals(HTTP_PER_S, self.http_session))
        while self.queue and len(self.story.frames) < self.limit:
            when, _, flow = heapq.heappop(self.queue)
            self.story.at(max(when, self.story.now))
            delay = next(flow, None)
            if delay is not None:
                self.spawn(delay, flow)
        del self.story.frames[self.limit:]
        return self.story

    def arrivals(self, rate, make):
        while True:
            flow = make()
            if flow is not None:
                self.spawn(0, flow)
            yield self.rng.expovariate(rate)

    # --- SIP helpers ----------------------------------------------------------------------------
    def hex(self, bits=32):
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def to_pbx(self, phone, message):
        self.sip_messages += 1
        if phone.conn:
            phone.conn.send(CLIENT, message)
        else:
            self.story.udp(phone.host, phone.port, PBX, 5060, message)

    def to_phone(self, phone, message):
        self.sip_messages += 1
        if phone.conn:
            phone.conn.send(SERVER, message)
        else:
            self.story.udp(PBX, 5060, phone.host, phone.port, message)

    def via(self, phone, from_pbx=False):
        where = f"{PBX.ip}:5060" if from_pbx else f"{phone.host.ip}:{phone.port}"
        return f"SIP/2.0/{phone.transport} {where};branch=z9hG4bK{self.hex()}"

    def request(self, method, uri, via, from_, to, call_id, cseq, headers=(), body=b"", ctype=None):
        fields = [("Via", via), ("From", from_), ("To", to), ("Call-ID", call_id),
                  ("CSeq", f"{cseq} {method}"), ("Max-Forwards", "70"), *headers]
        if body:
            fields.append(("Content-Type", ctype))
        return sip_message(f"{method} {uri} SIP/2.0", fields, body)

    @staticmethod
    def answer(request, code, reason, tag=None, headers=(), body=b""):
        if body:
            headers = [*headers, ("Content-Type", "application/sdp")]
        return sip_response(request, code, reason, to_tag=tag, headers=headers, body=body)

    def sdp(self, phone, port, session):
        return (f"v=0\r\no=- {session} {session} IN IP4 {phone.host.ip}\r\ns=SIP Call\r\n"
                f"c=IN IP4 {phone.host.ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\n"
                "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n").encode()

    # --- flows ----------------------------------------------------------------------------------
    def boot(self, phone):
        """TCP phones connect and send their DeviceTLInfo alarm; then every phone registers."""
        if phone.tcp:
            phone.conn = TcpConnection(self.story, phone.host, phone.port, PBX, 5060, rtt=0.0004)
            phone.conn.handshake()
            yield 0.005
            name = f"SEP001B0C0100{phone.n:02X}"
            body = crlf(DEVICE_TL_INFO).replace(b"SEPC4B9CD808647", name.encode()).replace(
                b"192.168.15.20", phone.host.ip.encode())
            cid = f"{self.hex()}@{phone.host.ip}"
            refer = self.request("REFER", f"sip:{PBX.ip}", self.via(phone),
                                 f"<sip:{phone.ext}@{phone.host.ip}>;tag={self.hex()}", f"<sip:{PBX.ip}>",
                                 f"{self.hex()}-{self.hex()}@{phone.host.ip}", 1000,
                                 [("User-Agent", UA), ("Contact", phone.contact), ("Require", "norefersub"),
                                  ("Referred-By", f"<sip:{phone.ext}@{phone.host.ip}>"),
                                  ("Refer-To", "cid:" + cid),
                                  ("Content-Id", f"<{cid}>"),
                                  ("Content-Disposition", "session;handling=required")],
                                 body, "application/x-cisco-alarm+xml")
            self.to_pbx(phone, refer)
            yield 0.003
            self.to_phone(phone, self.answer(refer, 202, "Accepted", self.hex(), [("Server", SERVER_HDR)]))
            yield 0.02
        call_id, tag, cseq = f"{self.hex()}-{self.hex()}@{phone.host.ip}", self.hex(), 1
        while True:
            register = self.request("REGISTER", f"sip:{DOMAIN}", self.via(phone),
                                    f"<sip:{phone.ext}@{DOMAIN}>;tag={tag}", f"<sip:{phone.ext}@{DOMAIN}>",
                                    call_id, cseq, [("Contact", phone.contact), ("Expires", "120"),
                                                    ("User-Agent", UA), ("Allow", ALLOW)])
            self.to_pbx(phone, register)
            yield 0.003
            self.to_phone(phone, self.answer(register, 200, "OK", self.hex(), [
                ("Contact", f"{phone.contact};expires=120"), ("Server", SERVER_HDR)]))
            cseq += 1
            yield self.rng.uniform(55, 65)

    def subscription(self, watcher, target):
        call_id = f"{self.hex()}-{self.hex()}@{watcher.host.ip}"
        sub = Subscription(watcher, target, (call_id, self.hex(), None))
        while True:
            to_tag = f";tag={sub.pbx_tag}" if sub.pbx_tag else ""
            subscribe = self.request("SUBSCRIBE", f"sip:{target.ext}@{DOMAIN}", self.via(watcher),
                                     f"<sip:{watcher.ext}@{DOMAIN}>;tag={sub.watcher_tag}",
                                     f"<sip:{target.ext}@{DOMAIN}>{to_tag}", sub.call_id, sub.cseq,
                                     [("Contact", watcher.contact), ("Event", "dialog"),
                                      ("Accept", "application/dialog-info+xml"), ("Expires", "120"),
                                      ("User-Agent", UA)])
            self.to_pbx(watcher, subscribe)
            yield 0.002
            sub.pbx_tag = sub.pbx_tag or self.hex()
            self.to_phone(watcher, self.answer(subscribe, 200, "OK", sub.pbx_tag, [
                ("Expires", "120"), ("Contact", f"<sip:{PBX.ip}:5060>"), ("Server", SERVER_HDR)]))
            if sub.cseq == 1:
                target.subs.append(sub)
            sub.cseq += 1
            self.spawn(0.002, self.notify(sub))
            yield self.rng.uniform(95, 110)

    def notify(self, sub):
        """One NOTIFY with the target's full dialog state, and the watcher's 200 OK."""
        sub.version += 1
        target = sub.target
        body = ('<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
                f'version="{sub.version}" state="full" entity="sip:{target.ext}@{DOMAIN}">\n')
        if target.dialog:
            call_id, local, remote, direction, state, peer = target.dialog
            body += (f'<dialog id="{call_id[:16]}" call-id="{call_id}" local-tag="{local}" '
                     f'remote-tag="{remote}" direction="{direction}">\n<state>{state}</state>\n'
                     f'<local><identity>sip:{target.ext}@{DOMAIN}</identity>'
                     f'<target uri="sip:{target.ext}@{target.host.ip}"/></local>\n'
                     f'<remote><identity>sip:{peer}@{DOMAIN}</identity></remote>\n</dialog>\n')
        body += "</dialog-info>\n"
        message = self.request("NOTIFY", sub.watcher.contact[1:-1], self.via(sub.watcher, True),
                               f"<sip:{target.ext}@{DOMAIN}>;tag={sub.pbx_tag}",
                               f"<sip:{sub.watcher.ext}@{DOMAIN}>;tag={sub.watcher_tag}", sub.call_id,
                               sub.pbx_cseq, [("Contact", f"<sip:{PBX.ip}:5060>"), ("Event", "dialog"),
                                              ("Subscription-State", "active;expires=110")],
                               body.replace("\n", "\r\n").encode(), "application/dialog-info+xml")
        sub.pbx_cseq += 1
        self.to_phone(sub.watcher, message)
        yield 0.003
        self.to_pbx(sub.watcher, self.answer(message, 200, "OK", headers=[("User-Agent", UA)]))

    def dialog_event(self, phone, dialog):
        phone.dialog = dialog
        for n, sub in enumerate(phone.subs):
            self.spawn(0.001 * n, self.notify(sub))

    def call_attempt(self):
        idle = [p for p in self.phones if not p.busy]
        if len(idle) < 2:
            return None
        return self.call(*self.rng.sample(idle, 2))

    def call(self, a, b):
        """A calls B through the PBX (two legs); RTP flows directly between the phones."""
        a.busy = b.busy = True
        a_port, b_port = 16384 + 2 * self.rng.randrange(4000), 16384 + 2 * self.rng.randrange(4000)
        session = self.rng.randrange(10**9)
        leg_a = (f"{self.hex()}-{self.hex()}@{a.host.ip}", self.hex(), self.hex())  # call-id, a tag, pbx tag
        leg_b = (f"{self.hex()}-{self.hex()}@{PBX.ip}", self.hex(), self.hex())  # call-id, pbx tag, b tag
        a_from, a_to = f"<sip:{a.ext}@{DOMAIN}>;tag={leg_a[1]}", f"<sip:{b.ext}@{DOMAIN}>"
        b_from, b_to = f"<sip:{a.ext}@{DOMAIN}>;tag={leg_b[1]}", f"<sip:{b.ext}@{DOMAIN}>"
        pbx_contact = [("Contact", f"<sip:{PBX.ip}:5060>"), ("Server", SERVER_HDR)]
        invite_a = self.request("INVITE", f"sip:{b.ext}@{DOMAIN}", self.via(a), a_from, a_to, leg_a[0], 1,
                                [("Contact", a.contact), ("Allow", ALLOW), ("User-Agent", UA)],
                                self.sdp(a, a_port, session), "application/sdp")
        self.to_pbx(a, invite_a)
        yield 0.002
        self.to_phone(a, self.answer(invite_a, 100, "Trying"))
        invite_b = self.request("INVITE", b.contact[1:-1], self.via(b, True), b_from, b_to, leg_b[0], 101,
                                [("Contact", f"<sip:{PBX.ip}:5060>"), ("Allow", ALLOW)],
                                self.sdp(a, a_port, session), "application/sdp")
        self.to_phone(b, invite_b)
        yield 0.015
        self.to_pbx(b, self.answer(invite_b, 180, "Ringing", leg_b[2], [("Contact", b.contact)]))
        yield 0.002
        self.to_phone(a, self.answer(invite_a, 180, "Ringing", leg_a[2], pbx_contact))
        self.dialog_event(a, (leg_a[0], leg_a[1], leg_a[2], "initiator", "early", b.ext))
        self.dialog_event(b, (leg_b[0], leg_b[2], leg_b[1], "recipient", "early", a.ext))
        yield self.rng.uniform(1.5, 6)
        ok_b = self.answer(invite_b, 200, "OK", leg_b[2], [("Contact", b.contact)],
                           self.sdp(b, b_port, session + 1))
        self.to_pbx(b, ok_b)
        yield 0.002
        self.to_phone(b, self.request("ACK", b.contact[1:-1], self.via(b, True), b_from,
                                      f"{b_to};tag={leg_b[2]}", leg_b[0], 101))
        self.to_phone(a, self.answer(invite_a, 200, "OK", leg_a[2], pbx_contact,
                                     self.sdp(b, b_port, session + 1)))
        yield 0.004
        self.to_pbx(a, self.request("ACK", f"sip:{PBX.ip}:5060", self.via(a), a_from,
                                    f"{a_to};tag={leg_a[2]}", leg_a[0], 1))
        self.dialog_event(a, (leg_a[0], leg_a[1], leg_a[2], "initiator", "confirmed", b.ext))
        self.dialog_event(b, (leg_b[0], leg_b[2], leg_b[1], "recipient", "confirmed", a.ext))
        media = [True]
        self.spawn(0.02, self.rtp(a, a_port, b, b_port, media))
        yield self.rng.uniform(4, 16)
        media[0] = False
        if self.rng.random() < 0.5:  # A hangs up
            bye = self.request("BYE", f"sip:{PBX.ip}:5060", self.via(a), a_from, f"{a_to};tag={leg_a[2]}",
                               leg_a[0], 2, [("User-Agent", UA)])
            self.to_pbx(a, bye)
            yield 0.002
            self.to_phone(a, self.answer(bye, 200, "OK"))
            bye = self.request("BYE", b.contact[1:-1], self.via(b, True), b_from, f"{b_to};tag={leg_b[2]}",
                               leg_b[0], 102)
            self.to_phone(b, bye)
            yield 0.004
            self.to_pbx(b, self.answer(bye, 200, "OK"))
        else:  # B hangs up
            bye = self.request("BYE", f"sip:{PBX.ip}:5060", self.via(b), f"{b_to};tag={leg_b[2]}", b_from,
                               leg_b[0], 1, [("User-Agent", UA)])
            self.to_pbx(b, bye)
            yield 0.002
            self.to_phone(b, self.answer(bye, 200, "OK"))
            bye = self.request("BYE", a.contact[1:-1], self.via(a, True), f"{a_to};tag={leg_a[2]}", a_from,
                               leg_a[0], 1)
            self.to_phone(a, bye)
            yield 0.004
            self.to_pbx(a, self.answer(bye, 200, "OK"))
        self.dialog_event(a, (leg_a[0], leg_a[1], leg_a[2], "initiator", "terminated", b.ext))
        self.dialog_event(b, (leg_b[0], leg_b[2], leg_b[1], "recipient", "terminated", a.ext))
        yield 0.5
        a.dialog = b.dialog = None
        a.busy = b.busy = False

    def rtp(self, a, a_port, b, b_port, media):
        """G.711 RTP both ways every 20 ms while media[0]."""
        rng = self.rng
        ssrc = [rng.getrandbits(32), rng.getrandbits(32)]
        seq = [rng.getrandbits(16), rng.getrandbits(16)]
        stamp = [rng.getrandbits(32), rng.getrandbits(32)]
        voice = [rng.randbytes(160), rng.randbytes(160)]
        ends = [(a.host, a_port, b.host, b_port), (b.host, b_port, a.host, a_port)]
        marker = 0x80
        while media[0]:
            for i in (0, 1):
                header = struct.pack("!BBHII", 0x80, marker, seq[i], stamp[i], ssrc[i])
                self.story.udp(ends[i][0], ends[i][1], ends[i][2], ends[i][3], header + voice[i])
                seq[i], stamp[i] = (seq[i] + 1) & 0xFFFF, (stamp[i] + 160) & 0xFFFFFFFF
            marker = 0
            yield 0.020

    def dns_lookup(self):
        client = self.rng.choice(self.pcs + [p.host for p in self.phones])
        query, response = self.rng.choice(self.dns)
        ident, port = struct.pack("!H", self.rng.getrandbits(16)), self.ephemeral(client)

        def flow():
            self.story.udp(client, port, DNS, 53, ident + query[2:])
            yield self.rng.uniform(0.0003, 0.004)
            self.story.udp(DNS, 53, client, port, ident + response[2:])
        return flow()

    def http_session(self):
        pc = self.rng.choice(self.pcs)
        port = self.ephemeral(pc)

        def flow():
            conn = TcpConnection(self.story, pc, port, WEB, 80, rtt=0.0005)
            conn.handshake()
            for _ in range(self.rng.randint(1, 3)):
                yield self.rng.uniform(0.001, 0.01)
                path = f"/app/{self.rng.choice(['dashboard', 'reports', 'api/status', 'static/app.js'])}"
                conn.send(CLIENT, (f"GET {path} HTTP/1.1\r\nHost: intranet.example.com\r\n"
                                   "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\n"
                                   "Connection: keep-alive\r\n\r\n").encode())
                yield self.rng.uniform(0.002, 0.03)
                size = self.rng.randrange(800, 40000)
                page = (PAGE_LINE * (size // len(PAGE_LINE) + 1))[:size]
                conn.send(SERVER, b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
                          b"Content-Length: %d\r\n\r\n" % size + page)
            yield self.rng.uniform(0.05, 2.0)
            conn.close(self.rng.choice((CLIENT, SERVER)))
        return flow()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--packets", type=int, default=220000, help="number of frames (default 220000)")
    args = parser.parse_args()
    start = time.perf_counter()
    selftest()
    capture = LargeCapture(args.packets)
    story = capture.run()
    built = time.perf_counter()
    story.write(args.out)
    done = time.perf_counter()
    print(f"{args.out}: {len(story.frames)} frames, {story.now:.1f} s of traffic, "
          f"{capture.sip_messages} SIP messages; built in {built - start:.1f} s, "
          f"written in {done - built:.1f} s")


if __name__ == "__main__":
    main()
