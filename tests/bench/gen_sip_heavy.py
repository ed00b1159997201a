#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the SIP-heavy capture for the sipsleuth benchmark (default 100,000 packets).

What our users open is a trace taken at a PBX or an SBC, where almost every packet is SIP. This one is
a PBX (B2BUA, 10.30.0.10) with 300 phones (every third on a long-lived SIP/TCP connection, the rest on
SIP/UDP), six chat soft clients (SIP/UDP) and a SIP trunk to an SBC over one TCP connection; no RTP and
no background traffic. On the wire:

- registration: REGISTER / 401 (digest challenge) / REGISTER with Authorization / 200 at boot; refreshes
  every 55-65 s, 30% of them challenged again (stale nonce); 5% of the UDP REGISTERs are retransmitted
  after 500 ms (T1), some of those again after another second, before the PBX answers; 4% of the
  refreshes of a TCP phone come on a new connection (FIN, then a new handshake from a new port);
- subscriptions: every phone watches 8 others (SUBSCRIBE / 200 / NOTIFY / 200 with Event: dialog and
  application/dialog-info+xml bodies, refreshed every 95-110 s, NOTIFYs on every call state change);
  every fifth phone also watches 3 others' presence (Event: presence, application/pidf+xml); 6% of
  the refreshes unsubscribe instead (Expires: 0, NOTIFY with Subscription-State: terminated) and the
  watcher subscribes to another phone a few seconds later;
- calls: 2 a second between phones and 1 a second over the trunk (half inbound), each
  INVITE/100/180/200/ACK/BYE/200 with SDP on both B2BUA legs; 15% are cancelled while ringing
  (CANCEL / 200 / 487 / ACK on both legs); OPTIONS keepalives both ways on the trunk every 30 s;
- a Cisco x-cisco-alarm REFER (DeviceTLInfo, as captures/gen_ciscoalarm.py) from every fourth TCP phone
  after it connects;
- an MSRP chat every 30 s between two soft clients (INVITE with m=message SDP, a=path and a=setup as
  captures/gen_msrpa.py, then the offerer's TCP connection: binding SEND, a message, its REPORT, a reply,
  each SEND answered 200).

On TCP, SIP segments carry the ACK; a pure ACK is sent only when the peer has sent nothing for 40 ms
(delayed ACK). Some messages the PBX sends back to back in one direction share a segment (the 200 OK to
a SUBSCRIBE and its first NOTIFY, 25% of NOTIFYs, the 200 to a CANCEL and the 487), and 3% of the
segments over 300 bytes are split in two. Flows and helpers come from gen_large.py (the mixed capture);
everything is seeded, so the same --packets gives a byte-identical file.

Usage: /usr/bin/python3 tests/bench/gen_sip_heavy.py OUT.pcap [--packets N]
"""
import argparse
import heapq
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "captures"))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, selftest  # noqa: E402
from gen_ciscoalarm import DEVICE_TL_INFO, crlf  # noqa: E402
from gen_msrpa import msrp_path, msrp_request, msrp_response, sdp as msrp_sdp  # noqa: E402
from gen_large import ALLOW, SERVER_HDR, UA, LargeCapture, Phone, Subscription  # noqa: E402

EPOCH = 1709715600.0  # 2024-03-06 09:00:00 UTC
DOMAIN = "pbx.example.com"
PBX = Host("10.30.0.10", "00:50:56:8a:30:0a")
SBC = Host("10.30.0.20", "00:50:56:8a:30:14")
PHONES, TCP_EVERY, ALARM_EVERY, SOFTCLIENTS = 300, 3, 4, 6
WATCHERS, PRESENCE_EVERY, PRESENCE_WATCHES = 8, 5, 3
CALLS_PER_S, TRUNK_CALLS_PER_S, CHATS_PER_S = 2.0, 1.0, 1 / 30
CANCEL_SHARE, CHALLENGE_SHARE, RETRANSMIT_SHARE, RECONNECT_SHARE, UNSUBSCRIBE_SHARE = 0.15, 0.3, 0.05, 0.04, 0.06
HOLD, DELAYED_ACK, SPLIT_SHARE, NOTIFY_HOLD_SHARE = 0.003, 0.040, 0.03, 0.25
T1 = 0.5
REALM = DOMAIN


class Endpoint(Phone):
    """A phone, a soft client or the SBC side of one trunk call. link is its SIP/TCP Link (None: UDP);
    side is its side on that link (the PBX has the other one)."""

    def __init__(self, n, tcp, ip, mac, ext, port=None):  # pylint: disable=super-init-not-called
        self.n, self.ext, self.tcp = n, ext, tcp
        self.host = Host(ip, mac, window=29200)
        self.port = port or (49152 + n if tcp else 5060)
        self.transport = "TCP" if tcp else "UDP"
        self.subs, self.dialog, self.busy = [], None, False
        self.link, self.side = None, CLIENT
        self.alarm = tcp and n % (TCP_EVERY * ALARM_EVERY) == 0


class Link:
    """A SIP/TCP connection carrying SIP both ways, segment by segment as a stack would send it.

    Segments carry the ACK of everything received; a pure ACK only after DELAYED_ACK of silence. A send
    with hold waits up to HOLD for the next message from the same side and shares its segment with it.
    SPLIT_SHARE of the segments over 300 bytes go out in two parts."""

    def __init__(self, gen, conn):
        self.gen, self.conn = gen, conn
        self.pending = [None, None]
        self.acked = [None, None]  # acked[side]: the peer's next sequence number as of side's last segment
        self.closed = False

    def handshake(self):
        self.conn.handshake()
        self.acked = [self.conn.nxt[SERVER], self.conn.nxt[CLIENT]]
        return self

    def send(self, side, message, hold=False):
        if self.pending[side] is not None:
            message, self.pending[side] = self.pending[side] + message, None
        elif hold:
            self.pending[side] = message
            self.gen.spawn(HOLD, self.flush(side))
            return
        self.write(side, message)

    def flush(self, side):
        if self.pending[side] is not None and not self.closed:
            message, self.pending[side] = self.pending[side], None
            self.write(side, message)
        return
        yield  # a flow for the scheduler: the body runs at its time

    def write(self, side, data):
        rng = self.gen.rng
        if len(data) > 300 and rng.random() < SPLIT_SHARE:
            cut = rng.randrange(100, len(data) - 100)
            self.conn.send(side, data[:cut], ack=False)
            self.conn.send(side, data[cut:], ack=False)
        else:
            self.conn.send(side, data, ack=False)
        self.acked[side] = self.conn.nxt[1 - side]
        self.gen.spawn(DELAYED_ACK, self.delayed_ack(1 - side))

    def delayed_ack(self, side):
        if not self.closed and self.acked[side] != self.conn.nxt[1 - side]:
            self.conn.ack(side)
            self.acked[side] = self.conn.nxt[1 - side]
        return
        yield

    def close(self, side):
        for s in (CLIENT, SERVER):
            self.flush_now(s)
        self.conn.close(side)
        self.closed = True

    def flush_now(self, side):
        for _ in self.flush(side):
            pass


class SipHeavyCapture(LargeCapture):
    def __init__(self, packets, seed=2025):  # pylint: disable=super-init-not-called (its hosts are not ours)
        self.limit = packets
        self.rng = random.Random(seed)
        self.story = Story(EPOCH, step=5e-6, use_scapy=False)
        self.queue, self.order = [], 0
        self.sip_messages = 0
        self.ports = {}
        self.phones = [Endpoint(n, n % TCP_EVERY == 0, f"10.30.{1 + (n - 1) // 200}.{1 + (n - 1) % 200}",
                                f"00:1b:0c:{n >> 8:02x}:{n & 0xff:02x}:01", str(2000 + n))
                       for n in range(1, PHONES + 1)]
        self.softclients = [Endpoint(n, False, f"10.30.5.{n}", f"02:00:00:05:00:{n:02x}", f"blink{n}")
                            for n in range(1, SOFTCLIENTS + 1)]
        self.trunk = None

    # --- transport ------------------------------------------------------------------------------
    def to_pbx(self, ep, message, hold=False):
        self.sip_messages += 1
        if ep.link:
            ep.link.send(ep.side, message, hold)
        else:
            self.story.udp(ep.host, ep.port, PBX, 5060, message)

    def to_phone(self, ep, message, hold=False):
        self.sip_messages += 1
        if ep.link:
            ep.link.send(1 - ep.side, message, hold)
        else:
            self.story.udp(PBX, 5060, ep.host, ep.port, message)

    def connect(self, ep):
        conn = TcpConnection(self.story, ep.host, ep.port, PBX, 5060, rtt=0.0004)
        ep.link, ep.side = Link(self, conn).handshake(), CLIENT

    def rtp(self, *args):
        """No media in this capture: gen_large's call() spawns this."""
        return
        yield

    # --- scheduling -----------------------------------------------------------------------------
    def run(self):
        self.spawn(0, self.trunk_up())
        for ep in self.phones + self.softclients:
            self.spawn(self.rng.uniform(0, 5), self.registration(ep))
        for watcher in self.phones:
            others = [p for p in self.phones if p is not watcher]
            for target in self.rng.sample(others, WATCHERS):
                self.spawn(self.rng.uniform(6, 30), self.subscription(watcher, target, "dialog"))
            if watcher.n % PRESENCE_EVERY == 0:
                for target in self.rng.sample(others, PRESENCE_WATCHES):
                    self.spawn(self.rng.uniform(6, 30), self.subscription(watcher, target, "presence"))
        self.spawn(8, self.arrivals(CALLS_PER_S, self.call_attempt))
        self.spawn(9, self.arrivals(TRUNK_CALLS_PER_S, self.trunk_call))
        self.spawn(10, self.arrivals(CHATS_PER_S, self.chat_attempt))
        while self.queue and len(self.story.frames) < self.limit:
            when, _, flow = heapq.heappop(self.queue)
            self.story.at(max(when, self.story.now))
            delay = next(flow, None)
            if delay is not None:
                self.spawn(delay, flow)
        del self.story.frames[self.limit:]
        return self.story

    # --- registration ---------------------------------------------------------------------------
    def registration(self, ep):
        if ep.tcp:
            self.connect(ep)
            yield 0.005
            if ep.alarm:
                yield from self.alarm(ep)
        call_id, tag, cseq, nonce, nc = f"{self.hex()}-{self.hex()}@{ep.host.ip}", self.hex(), 1, None, 0
        while True:
            challenged = nonce is None or self.rng.random() < CHALLENGE_SHARE
            auth = None if nonce is None else (nonce, nc + 1)
            register = self.register(ep, call_id, tag, cseq, auth)
            yield from self.send_register(ep, register)
            cseq += 1
            if challenged:
                nonce, nc = self.hex(64), 0
                self.to_phone(ep, self.answer(register, 401, "Unauthorized", self.hex(), [
                    ("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, qop="auth"'),
                    ("Server", SERVER_HDR)]))
                yield 0.004
                register = self.register(ep, call_id, tag, cseq, (nonce, nc + 1))
                yield from self.send_register(ep, register)
                cseq += 1
            nc += 1
            self.to_phone(ep, self.answer(register, 200, "OK", self.hex(), [
                ("Contact", f"{ep.contact};expires=120"), ("Server", SERVER_HDR)]))
            yield self.rng.uniform(55, 65)
            if ep.tcp and self.rng.random() < RECONNECT_SHARE:
                ep.link.close(CLIENT)
                ep.port = self.ephemeral(ep.host)
                self.connect(ep)
                yield 0.002

    def register(self, ep, call_id, tag, cseq, auth):
        headers = [("Contact", ep.contact), ("Expires", "120"), ("User-Agent", UA), ("Allow", ALLOW)]
        if auth:
            nonce, nc = auth
            headers.append(("Authorization", f'Digest username="{ep.ext}", realm="{REALM}", nonce="{nonce}", '
                                             f'uri="sip:{DOMAIN}", response="{self.hex(128)}", algorithm=MD5, '
                                             f'cnonce="{self.hex()}", qop=auth, nc={nc:08x}'))
        return self.request("REGISTER", f"sip:{DOMAIN}", self.via(ep), f"<sip:{ep.ext}@{DOMAIN}>;tag={tag}",
                            f"<sip:{ep.ext}@{DOMAIN}>", call_id, cseq, headers)

    def send_register(self, ep, register):
        """The REGISTER, over UDP sometimes retransmitted (T1, then 2*T1) before the PBX answers."""
        self.to_pbx(ep, register)
        if not ep.tcp and self.rng.random() < RETRANSMIT_SHARE:
            yield T1
            self.to_pbx(ep, register)
            if self.rng.random() < 0.4:
                yield 2 * T1
                self.to_pbx(ep, register)
        yield 0.003

    def alarm(self, ep):
        """The DeviceTLInfo alarm REFER (body as captures/gen_ciscoalarm.py) and the PBX's 202."""
        name = f"SEP001B0C{ep.n:06X}"
        body = crlf(DEVICE_TL_INFO).replace(b"SEPC4B9CD808647", name.encode()).replace(
            b"192.168.15.20", ep.host.ip.encode())
        cid = f"{self.hex()}@{ep.host.ip}"
        refer = self.request("REFER", f"sip:{PBX.ip}", self.via(ep), f"<sip:{ep.ext}@{ep.host.ip}>;tag={self.hex()}",
                             f"<sip:{PBX.ip}>", f"{self.hex()}-{self.hex()}@{ep.host.ip}", 1000,
                             [("User-Agent", UA), ("Contact", ep.contact), ("Require", "norefersub"),
                              ("Referred-By", f"<sip:{ep.ext}@{ep.host.ip}>"), ("Refer-To", "cid:" + cid),
                              ("Content-Id", f"<{cid}>"), ("Content-Disposition", "session;handling=required")],
                             body, "application/x-cisco-alarm+xml")
        self.to_pbx(ep, refer)
        yield 0.003
        self.to_phone(ep, self.answer(refer, 202, "Accepted", self.hex(), [("Server", SERVER_HDR)]))
        yield 0.02

    # --- subscriptions --------------------------------------------------------------------------
    def subscription(self, watcher, target, event):
        sub = Subscription(watcher, target, (f"{self.hex()}-{self.hex()}@{watcher.host.ip}", self.hex(), None))
        sub.event = event
        accept = "application/dialog-info+xml" if event == "dialog" else "application/pidf+xml"
        while True:
            ending = sub.cseq > 1 and self.rng.random() < UNSUBSCRIBE_SHARE
            expires = "0" if ending else "120"
            to_tag = f";tag={sub.pbx_tag}" if sub.pbx_tag else ""
            subscribe = self.request("SUBSCRIBE", f"sip:{target.ext}@{DOMAIN}", self.via(watcher),
                                     f"<sip:{watcher.ext}@{DOMAIN}>;tag={sub.watcher_tag}",
                                     f"<sip:{target.ext}@{DOMAIN}>{to_tag}", sub.call_id, sub.cseq,
                                     [("Contact", watcher.contact), ("Event", event), ("Accept", accept),
                                      ("Expires", expires), ("User-Agent", UA)])
            self.to_pbx(watcher, subscribe)
            yield 0.002
            sub.pbx_tag = sub.pbx_tag or self.hex()
            self.to_phone(watcher, self.answer(subscribe, 200, "OK", sub.pbx_tag, [
                ("Expires", expires), ("Contact", f"<sip:{PBX.ip}:5060>"), ("Server", SERVER_HDR)]),
                hold=self.rng.random() < 0.5)
            if sub.cseq == 1:
                target.subs.append(sub)
            sub.cseq += 1
            if ending:
                target.subs.remove(sub)
                self.spawn(0.002, self.notify(sub, terminated=True))
                others = [p for p in self.phones if p is not watcher and p is not target]
                self.spawn(self.rng.uniform(2, 20), self.subscription(watcher, self.rng.choice(others), event))
                return
            self.spawn(0.002, self.notify(sub))
            yield self.rng.uniform(95, 110)

    def notify(self, sub, terminated=False):
        """One NOTIFY with the target's full state (dialog-info or PIDF), and the watcher's 200 OK."""
        sub.version += 1
        target = sub.target
        entity = f"sip:{target.ext}@{DOMAIN}"
        if sub.event == "presence":
            note = "On the phone" if target.dialog else "Available"
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" '
                    f'entity="{entity}">\n<tuple id="t{target.n}"><status><basic>open</basic></status>'
                    f'<contact>{entity}</contact><note>{note}</note></tuple>\n</presence>\n')
            ctype = "application/pidf+xml"
        else:
            body = ('<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
                    f'version="{sub.version}" state="full" entity="{entity}">\n')
            if target.dialog:
                call_id, local, remote, direction, state, peer = target.dialog
                body += (f'<dialog id="{call_id[:16]}" call-id="{call_id}" local-tag="{local}" '
                         f'remote-tag="{remote}" direction="{direction}">\n<state>{state}</state>\n'
                         f'<local><identity>{entity}</identity>'
                         f'<target uri="sip:{target.ext}@{target.host.ip}"/></local>\n'
                         f'<remote><identity>sip:{peer}@{DOMAIN}</identity></remote>\n</dialog>\n')
            body += "</dialog-info>\n"
            ctype = "application/dialog-info+xml"
        state = "terminated;reason=timeout" if terminated else "active;expires=110"
        message = self.request("NOTIFY", sub.watcher.contact[1:-1], self.via(sub.watcher, True),
                               f"<sip:{target.ext}@{DOMAIN}>;tag={sub.pbx_tag}",
                               f"<sip:{sub.watcher.ext}@{DOMAIN}>;tag={sub.watcher_tag}", sub.call_id,
                               sub.pbx_cseq, [("Contact", f"<sip:{PBX.ip}:5060>"), ("Event", sub.event),
                                              ("Subscription-State", state)],
                               body.replace("\n", "\r\n").encode(), ctype)
        sub.pbx_cseq += 1
        self.to_phone(sub.watcher, message, hold=self.rng.random() < NOTIFY_HOLD_SHARE)
        yield 0.003
        self.to_pbx(sub.watcher, self.answer(message, 200, "OK", headers=[("User-Agent", UA)]))

    # --- calls ----------------------------------------------------------------------------------
    def call_attempt(self):
        idle = [p for p in self.phones if not p.busy]
        if len(idle) < 2:
            return None
        a, b = self.rng.sample(idle, 2)
        return self.cancelled_call(a, b) if self.rng.random() < CANCEL_SHARE else self.call(a, b)

    def trunk_up(self):
        """The PBX's TCP connection to the SBC, and OPTIONS keepalives both ways every 30 s."""
        conn = TcpConnection(self.story, PBX, self.ephemeral(PBX), SBC, 5060, rtt=0.0008)
        self.trunk = Link(self, conn).handshake()
        pbx, sbc = Endpoint(0, True, PBX.ip, PBX.mac, "pbx"), self.sbc_party("sbc")
        pbx.port = conn.ports[CLIENT]
        while True:
            yield 0.5
            for sender, receiver, side in ((pbx, sbc, CLIENT), (sbc, pbx, SERVER)):
                options = self.request("OPTIONS", f"sip:{receiver.host.ip}:{receiver.port}", self.via(sender),
                                       f"<sip:{sender.ext}@{sender.host.ip}>;tag={self.hex()}",
                                       f"<sip:{receiver.ext}@{receiver.host.ip}>",
                                       f"{self.hex()}-{self.hex()}@{sender.host.ip}", 1)
                self.sip_messages += 2
                self.trunk.send(side, options)
                yield 0.002
                self.trunk.send(1 - side, self.answer(options, 200, "OK", self.hex(), [("Allow", ALLOW)]))
                yield 0.001
            yield 29.5

    def sbc_party(self, number):
        """The far end of a trunk call as the PBX sees it: the SBC, on the trunk's server side."""
        party = Endpoint(0, True, SBC.ip, SBC.mac, number, port=5060)
        party.host = SBC
        party.link, party.side = self.trunk, SERVER
        return party

    def trunk_call(self):
        idle = [p for p in self.phones if not p.busy]
        if not idle or self.trunk is None:
            return None
        phone = self.rng.choice(idle)
        party = self.sbc_party(f"+4930{self.rng.randrange(10**7, 10**8)}")
        a, b = (phone, party) if self.rng.random() < 0.5 else (party, phone)
        return self.cancelled_call(a, b) if self.rng.random() < CANCEL_SHARE else self.call(a, b)

    def cancelled_call(self, a, b):
        """A calls B through the PBX; A hangs up while B rings: CANCEL, 200, 487, ACK on both legs."""
        a.busy = b.busy = True
        session = self.rng.randrange(10**9)
        a_port = 16384 + 2 * self.rng.randrange(4000)
        leg_a = (f"{self.hex()}-{self.hex()}@{a.host.ip}", self.hex(), self.hex())
        leg_b = (f"{self.hex()}-{self.hex()}@{PBX.ip}", self.hex(), self.hex())
        a_from, a_to = f"<sip:{a.ext}@{DOMAIN}>;tag={leg_a[1]}", f"<sip:{b.ext}@{DOMAIN}>"
        b_from, b_to = f"<sip:{a.ext}@{DOMAIN}>;tag={leg_b[1]}", f"<sip:{b.ext}@{DOMAIN}>"
        via_a, via_b = self.via(a), self.via(b, True)
        a_uri, b_uri = f"sip:{b.ext}@{DOMAIN}", b.contact[1:-1]
        invite_a = self.request("INVITE", a_uri, via_a, a_from, a_to, leg_a[0], 1,
                                [("Contact", a.contact), ("Allow", ALLOW), ("User-Agent", UA)],
                                self.sdp(a, a_port, session), "application/sdp")
        self.to_pbx(a, invite_a)
        yield 0.002
        self.to_phone(a, self.answer(invite_a, 100, "Trying"))
        invite_b = self.request("INVITE", b_uri, via_b, b_from, b_to, leg_b[0], 101,
                                [("Contact", f"<sip:{PBX.ip}:5060>"), ("Allow", ALLOW)],
                                self.sdp(a, a_port, session), "application/sdp")
        self.to_phone(b, invite_b)
        yield 0.015
        self.to_pbx(b, self.answer(invite_b, 180, "Ringing", leg_b[2], [("Contact", b.contact)]))
        yield 0.002
        self.to_phone(a, self.answer(invite_a, 180, "Ringing", leg_a[2], [("Contact", f"<sip:{PBX.ip}:5060>")]))
        self.dialog_event(a, (leg_a[0], leg_a[1], leg_a[2], "initiator", "early", b.ext))
        self.dialog_event(b, (leg_b[0], leg_b[2], leg_b[1], "recipient", "early", a.ext))
        yield self.rng.uniform(2, 12)
        cancel_a = self.request("CANCEL", a_uri, via_a, a_from, a_to, leg_a[0], 1, [("User-Agent", UA)])
        self.to_pbx(a, cancel_a)
        yield 0.002
        self.to_phone(a, self.answer(cancel_a, 200, "OK", leg_a[2]))
        cancel_b = self.request("CANCEL", b_uri, via_b, b_from, b_to, leg_b[0], 101)
        self.to_phone(b, cancel_b)
        yield 0.004
        self.to_pbx(b, self.answer(cancel_b, 200, "OK", leg_b[2]), hold=True)
        self.to_pbx(b, self.answer(invite_b, 487, "Request Terminated", leg_b[2]))
        yield 0.002
        self.to_phone(b, self.request("ACK", b_uri, via_b, b_from, f"{b_to};tag={leg_b[2]}", leg_b[0], 101))
        self.to_phone(a, self.answer(invite_a, 487, "Request Terminated", leg_a[2]))
        yield 0.004
        self.to_pbx(a, self.request("ACK", a_uri, via_a, a_from, f"{a_to};tag={leg_a[2]}", leg_a[0], 1))
        self.dialog_event(a, (leg_a[0], leg_a[1], leg_a[2], "initiator", "terminated", b.ext))
        self.dialog_event(b, (leg_b[0], leg_b[2], leg_b[1], "recipient", "terminated", a.ext))
        yield 0.5
        a.dialog = b.dialog = None
        a.busy = b.busy = False

    # --- MSRP -----------------------------------------------------------------------------------
    def chat_attempt(self):
        idle = [c for c in self.softclients if not c.busy]
        if len(idle) < 2:
            return None
        return self.chat(*self.rng.sample(idle, 2))

    def chat(self, a, b):
        """A offers a chat (m=message, a=setup:active) through the PBX; B answers (passive); A connects
        to B's MSRP port; binding SEND, a message with its REPORT, a reply; BYE; the connection closes."""
        a.busy = b.busy = True
        a_port, b_port = self.ephemeral(a.host), 2855 + self.rng.randrange(100)
        a_path = msrp_path(a.host, a_port, self.hex(64))
        b_path = msrp_path(b.host, b_port, self.hex(64))
        session = self.rng.randrange(10**9)
        offer = msrp_sdp(a.host.ip, session, a.host.ip, a_port, a_path, "active", accept="text/plain")
        answer = msrp_sdp(b.host.ip, session + 7, b.host.ip, b_port, b_path, "passive", accept="text/plain")
        legs = []
        for caller, callee, uri, via in ((a, b, f"sip:{b.ext}@{DOMAIN}", self.via(a)),
                                         (a, b, b.contact[1:-1], self.via(b, True))):
            legs.append((uri, via, f"<sip:{caller.ext}@{DOMAIN}>;tag={self.hex()}", f"<sip:{callee.ext}@{DOMAIN}>",
                         f"{self.hex()}-{self.hex()}@{a.host.ip if not legs else PBX.ip}", self.hex()))
        invites = [self.request("INVITE", uri, via, from_, to, call_id, 1, [("Contact", a.contact)], offer,
                                "application/sdp") for uri, via, from_, to, call_id, _ in legs]
        self.to_pbx(a, invites[0])
        yield 0.002
        self.to_phone(a, self.answer(invites[0], 100, "Trying"))
        self.to_phone(b, invites[1])
        yield 0.8
        self.to_pbx(b, self.answer(invites[1], 200, "OK", legs[1][5], [("Contact", b.contact)], answer))
        yield 0.002
        self.to_phone(b, self.request("ACK", legs[1][0], self.via(b, True), legs[1][2],
                                      f"{legs[1][3]};tag={legs[1][5]}", legs[1][4], 1))
        self.to_phone(a, self.answer(invites[0], 200, "OK", legs[0][5], [("Contact", f"<sip:{PBX.ip}:5060>")],
                                     answer))
        yield 0.004
        self.to_pbx(a, self.request("ACK", legs[0][0], self.via(a), legs[0][2], f"{legs[0][3]};tag={legs[0][5]}",
                                    legs[0][4], 1))
        yield 0.05
        conn = TcpConnection(self.story, a.host, a_port, b.host, b_port, rtt=0.0005).handshake()
        yield 0.002
        tid = self.hex(64)
        conn.send(CLIENT, msrp_request(tid, "SEND", b_path, a_path, [("Message-ID", self.hex(64)),
                                                                    ("Byte-Range", "1-0/0")]))
        yield 0.002
        conn.send(SERVER, msrp_response(tid, 200, "OK", a_path, b_path))
        yield self.rng.uniform(1, 5)
        text, mid = b"Are you joining the 10:30 review?", self.hex(64)
        tid = self.hex(64)
        conn.send(CLIENT, msrp_request(tid, "SEND", b_path, a_path,
                                       [("Message-ID", mid), ("Success-Report", "yes"),
                                        ("Byte-Range", f"1-{len(text)}/{len(text)}"), ("Content-Type", "text/plain")],
                                       text))
        yield 0.002
        conn.send(SERVER, msrp_response(tid, 200, "OK", a_path, b_path))
        conn.send(SERVER, msrp_request(self.hex(64), "REPORT", a_path, b_path,
                                       [("Message-ID", mid), ("Byte-Range", f"1-{len(text)}/{len(text)}"),
                                        ("Status", "000 200 OK")]))
        yield self.rng.uniform(2, 8)
        reply, tid = b"Yes, on my way.", self.hex(64)
        conn.send(SERVER, msrp_request(tid, "SEND", a_path, b_path,
                                       [("Message-ID", self.hex(64)), ("Byte-Range", f"1-{len(reply)}/{len(reply)}"),
                                        ("Content-Type", "text/plain")], reply))
        yield 0.002
        conn.send(CLIENT, msrp_response(tid, 200, "OK", b_path, a_path))
        yield self.rng.uniform(1, 4)
        uri, _, from_, to, call_id, tag = legs[0]
        bye = self.request("BYE", f"sip:{PBX.ip}:5060", self.via(a), from_, f"{to};tag={tag}", call_id, 2)
        self.to_pbx(a, bye)
        yield 0.002
        self.to_phone(a, self.answer(bye, 200, "OK"))
        uri, _, from_, to, call_id, tag = legs[1]
        bye = self.request("BYE", uri, self.via(b, True), from_, f"{to};tag={tag}", call_id, 2)
        self.to_phone(b, bye)
        yield 0.004
        self.to_pbx(b, self.answer(bye, 200, "OK"))
        yield 0.01
        conn.close(CLIENT)
        yield 0.5
        a.busy = b.busy = False


def census(frames):
    """Counts of the frames by what they carry (Ethernet/IPv4 frames as Story builds them)."""
    counts = {"SIP/UDP": 0, "SIP/TCP (segments with payload)": 0, "TCP without payload": 0, "MSRP/TCP": 0}
    for _, frame in frames:
        ihl = (frame[14] & 0x0F) * 4
        proto, l4 = frame[23], 14 + ihl
        if proto == 17:
            counts["SIP/UDP"] += 1
            continue
        offset = (frame[l4 + 12] >> 4) * 4
        payload = frame[l4 + offset:]
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        if not payload:
            counts["TCP without payload"] += 1
        elif 5060 in (sport, dport):
            counts["SIP/TCP (segments with payload)"] += 1
        else:
            counts["MSRP/TCP"] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--packets", type=int, default=100000, help="number of frames (default 100000)")
    args = parser.parse_args()
    start = time.perf_counter()
    selftest()
    capture = SipHeavyCapture(args.packets)
    story = capture.run()
    built = time.perf_counter()
    story.write(args.out)
    done = time.perf_counter()
    counts = ", ".join(f"{n} {what}" for what, n in census(story.frames).items())
    print(f"{args.out}: {len(story.frames)} frames ({counts}), {story.now:.1f} s of traffic, "
          f"{capture.sip_messages} SIP messages; built in {built - start:.1f} s, written in {done - built:.1f} s")


if __name__ == "__main__":
    main()
