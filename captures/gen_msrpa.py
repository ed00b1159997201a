#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the msrpa test captures (field case 001) into captures/ or OUTDIR.

Field case 001: a Blink-to-Blink MSRP chat through an SBC that is a B2BUA for SIP (10.204.1.28) and a
NAT-PT relay for media (10.207.1.100). Blink-1 (10.201.1.152) calls 12345; the SBC offers the call to
Blink-2 (10.201.1.99). Offer and answer both carry a=setup:active (RFC 6135 alternative connection
model), so both Blinks connect to the SBC's media ports (53502 -> 15002, 49838 -> 15000) and the SBC
splices the two client-initiated connections: it answers each SYN with the other Blink's initial
sequence number and relays every segment, ACKs included, with sequence and acknowledgement numbers
unchanged. Each Blink sends its binding SEND (745f0cb1fb640e52 from Blink-1, 226 bytes;
6ed1199a610a6a7d from Blink-2, 225 bytes); Blink-2 never acknowledges Blink-1's SEND (duplicate ACKs
with Ack=1), Blink-1 acknowledges Blink-2's, both SENDs are retransmitted, no 200 OK ever comes, and
Blink-2 gives up (MSRPBindSessionTimeout) and sends BYE about 10 s after its answer. Frame order,
ports, lengths, relative sequence numbers and the duplicate ACKs follow the seed's partial trace;
what the seed does not show (SIP headers and SDP bodies, session ids but Blink-2's, the number of
retransmissions) is written the way Blink 0.2 / msrplib and RFC 4975 write it. The Blinks' log times
are taken as UTC. The healthy twins are RFC 4975 and COMEDIA chats where every SEND gets its 200 OK.

Every MSRP message travels in a TCP segment of its own: Wireshark 4.0's MSRP dissector decodes only
the first MSRP message of a segment.

Usage: /usr/bin/python3 captures/gen_msrpa.py [OUTDIR]
"""
import calendar
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import (CLIENT, SERVER, Host, Story, TcpConnection, digest32, sip_message,  # noqa: E402
                      sip_response)

BLINK1 = Host("10.201.1.152", "00:1b:63:a1:01:52", ttl=64, window=65535)
BLINK2 = Host("10.201.1.99", "00:1b:63:a1:00:99", ttl=64, window=65535)
SBC_SP = Host("10.204.1.28", "00:50:56:cc:01:28", ttl=64, window=65535)
SBC_MP = Host("10.207.1.100", "00:50:56:cc:01:00", ttl=64, window=65535)
BLINK1_PORT, BLINK2_PORT, SBC_PORT_1, SBC_PORT_2 = 53502, 49838, 15002, 15000
BLINK1_SID, BLINK2_SID = "d3b7e1a04c9f2e6b8a15", "8e943e31a8e49a6597f0"
SEND1_TID, SEND2_TID = "745f0cb1fb640e52", "6ed1199a610a6a7d"
CALLER_TAG, SBC_TAG = "b1a0c9e6f3", "3509990736-382361"

ALICE = Host("192.0.2.10", "02:00:00:00:0a:10", ttl=64, window=64240)
BOB = Host("198.51.100.20", "02:00:00:00:14:20", ttl=63, window=65160)
ALICE_SID, BOB_SID = "iau39soe2843z", "x9f2ka3nd8rt4"


def utc(year, month, day, hour, minute, second):
    return calendar.timegm((year, month, day, hour, minute, 0)) + second


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def msrp_path(host, port, sid):
    return f"msrp://{host.ip if isinstance(host, Host) else host}:{port}/{sid};tcp"


def sdp(origin, session, addr, port, path, setup=None, accept="message/cpim text/* application/im-iscomposing+xml",
        extra=""):
    """A Blink-style chat SDP (RFC 4975 section 8.1); setup=None leaves a=setup out."""
    lines = ["v=0", f"o=- {session} {session} IN IP4 {origin}", "s=Blink 0.2.5 (MacOSX)", f"c=IN IP4 {addr}",
             "t=0 0", f"m=message {port} TCP/MSRP *", f"a=path:{path}", f"a=accept-types:{accept}",
             "a=accept-wrapped-types:*"]
    if setup:
        lines.append(f"a=setup:{setup}")
    return crlf("\n".join(lines) + "\n" + extra)


def msrp_request(tid, method, to_path, from_path, headers=(), body=b"", flag="$"):
    """MSRP request bytes (RFC 4975 section 7.1): start line, To-Path, From-Path, headers, body, end-line.

    headers: (name, value) pairs, or str for a raw header line (bad input)."""
    head = [f"MSRP {tid} {method}", f"To-Path: {to_path}", f"From-Path: {from_path}"]
    head += [h if isinstance(h, str) else f"{h[0]}: {h[1]}" for h in headers]  # a str is a raw line
    text = ("\r\n".join(head) + "\r\n").encode()
    if body:
        text += b"\r\n" + body + b"\r\n"
    return text + f"-------{tid}{flag}\r\n".encode()


def msrp_response(tid, code, reason, to_path, from_path, headers=()):
    head = [f"MSRP {tid} {code} {reason}", f"To-Path: {to_path}", f"From-Path: {from_path}"]
    head += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(head) + "\r\n" + f"-------{tid}$\r\n").encode()


def binding_send(tid, to_path, from_path, size):
    """Blink's empty binding SEND, its Message-ID sized so that the whole message is `size` bytes."""
    bare = msrp_request(tid, "SEND", to_path, from_path, [("Message-ID", ""), ("Byte-Range", "1-0/0")])
    length = size - len(bare)
    message_id = (digest32("mid", tid).to_bytes(4, "big").hex() * 4)[:length]
    send = msrp_request(tid, "SEND", to_path, from_path, [("Message-ID", message_id), ("Byte-Range", "1-0/0")])
    assert len(send) == size, (len(send), size)
    return send


# ---------------------------------------------------------------------------------------------------
# SIP over UDP


class Dialog:
    """One SIP dialog over UDP between a UAC and a UAS (both port 5060)."""

    def __init__(self, story, uac, uas, ruri, from_uri, to_uri, call_id, from_tag, ua):
        self.story, self.uac, self.uas = story, uac, uas
        self.ruri, self.from_uri, self.to_uri, self.call_id, self.from_tag, self.ua = (
            ruri, from_uri, to_uri, call_id, from_tag, ua)
        self.cseq = 1
        self.to_tag = None
        self.invite = None

    def request(self, method, body=b"", sender=None, cseq=None):
        uac = sender or self.uac
        peer = self.uas if uac is self.uac else self.uac
        branch = "z9hG4bK" + format(digest32("branch", self.call_id, method, cseq or self.cseq, uac.ip), "08x")
        frm, to = (self.from_uri, self.to_uri) if uac is self.uac else (self.to_uri, self.from_uri)
        ftag, ttag = (self.from_tag, self.to_tag) if uac is self.uac else (self.to_tag, self.from_tag)
        headers = [("Via", f"SIP/2.0/UDP {uac.ip}:5060;rport;branch={branch}"), ("Max-Forwards", "70"),
                   ("From", f"{frm};tag={ftag}"), ("To", to + (f";tag={ttag}" if ttag and method != "INVITE" else "")),
                   ("Call-ID", self.call_id), ("CSeq", f"{cseq or self.cseq} {method}"),
                   ("Contact", f"<sip:{uac.ip}:5060>"), ("User-Agent", self.ua)]
        if body:
            headers.append(("Content-Type", "application/sdp"))
        ruri = self.ruri if uac is self.uac else f"sip:{peer.ip}:5060"
        msg = sip_message(f"{method} {ruri} SIP/2.0", headers, body)
        self.story.udp(uac, 5060, peer, 5060, msg)
        if method == "INVITE":
            self.invite = msg
        return msg

    def respond(self, request, code, reason, body=b"", sender=None):
        uas = sender or self.uas
        peer = self.uac if uas is self.uas else self.uas
        extra = [("Contact", f"<sip:{uas.ip}:5060>")] if code >= 180 and b"INVITE" in request.split(b"\r\n")[0] else []
        if body:
            extra.append(("Content-Type", "application/sdp"))
        tag = self.to_tag if code > 100 else None
        msg = sip_response(request, code, reason, to_tag=tag, headers=extra, body=body)
        self.story.udp(uas, 5060, peer, 5060, msg)
        return msg


# ---------------------------------------------------------------------------------------------------
# TCP with explicit sequence numbers (the SBC's splice relays them unchanged)


class Leg:
    """One TCP connection seen at the capture point, segments written with explicit seq/ack numbers."""

    def __init__(self, story, client, cport, server, sport):
        self.story, self.client, self.cport, self.server, self.sport = story, client, cport, server, sport

    def seg(self, from_client, seq, ack, flags, payload=b"", mss=None):
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        self.story._ip(src, dst, 6, sp, dp, payload, (seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, flags, mss))


def sdp_offer_answer_blink(story):
    """Signalling of field case 001 up to the ACKs; returns the two dialogs."""
    leg1 = Dialog(story, BLINK1, SBC_SP, "sip:12345@10.204.1.28", '"56789" <sip:56789@10.204.1.28>',
                  "<sip:12345@10.204.1.28>", "a84b4c76e66710f0b3c2d1e4@10.201.1.152", CALLER_TAG,
                  "Blink 0.2.5 (MacOSX)")
    leg2 = Dialog(story, SBC_SP, BLINK2, "sip:12345@10.201.1.99", '"56789" <sip:56789@10.204.1.28>',
                  "<sip:12345@10.204.1.28>", "3509990736-382361-1@10.204.1.28", SBC_TAG, "SBC")
    leg1.to_tag, leg2.to_tag = "3509990737-117204", "f27a5c9e01"
    offer1 = sdp(BLINK1.ip, 3510055004, BLINK1.ip, BLINK1_PORT, msrp_path(BLINK1, BLINK1_PORT, BLINK1_SID), "active")
    offer2 = sdp(SBC_MP.ip, 3510055004, SBC_MP.ip, SBC_PORT_2, msrp_path(SBC_MP, SBC_PORT_2, BLINK1_SID), "active")
    answer2 = sdp(BLINK2.ip, 3510055007, BLINK2.ip, BLINK2_PORT, msrp_path(BLINK2, BLINK2_PORT, BLINK2_SID), "active")
    answer1 = sdp(SBC_MP.ip, 3510055007, SBC_MP.ip, SBC_PORT_1, msrp_path(SBC_MP, SBC_PORT_1, BLINK2_SID), "active")

    invite1 = leg1.request("INVITE", offer1)
    story.advance(0.004)
    leg1.respond(invite1, 100, "Trying")
    story.advance(0.010)
    invite2 = leg2.request("INVITE", offer2)
    story.advance(0.005)
    leg2.respond(invite2, 100, "Trying")
    story.advance(0.030)
    leg2.respond(invite2, 180, "Ringing")
    story.advance(0.004)
    leg1.respond(invite1, 180, "Ringing")
    story.at(3.0)  # Blink-2's user accepts at 15:36:47
    leg2.respond(invite2, 200, "OK", answer2)
    story.advance(0.006)
    leg1.respond(invite1, 200, "OK", answer1)
    story.advance(0.012)
    leg1.request("ACK")
    story.advance(0.003)
    leg2.request("ACK")
    return leg1, leg2


def field_case():
    """Field case 001: both sides a=setup:active, the SBC splices two client-initiated connections."""
    story = Story(utc(2011, 3, 25, 15, 36, 44.120))
    leg1, leg2 = sdp_offer_answer_blink(story)
    a = Leg(story, BLINK1, BLINK1_PORT, SBC_MP, SBC_PORT_1)
    b = Leg(story, BLINK2, BLINK2_PORT, SBC_MP, SBC_PORT_2)
    i1, i2 = digest32("isn", "blink-1"), digest32("isn", "blink-2")
    send1 = binding_send(SEND1_TID, msrp_path(SBC_MP, SBC_PORT_1, BLINK2_SID),
                         msrp_path(BLINK1, BLINK1_PORT, BLINK1_SID), 226)
    send2 = binding_send(SEND2_TID, msrp_path(SBC_MP, SBC_PORT_2, BLINK1_SID),
                         msrp_path(BLINK2, BLINK2_PORT, BLINK2_SID), 225)
    n1, n2 = len(send1), len(send2)

    story.advance(0.150)
    a.seg(True, i1, 0, "S", mss=1460)                    # 53502 > 15002 SYN
    b.seg(True, i2, 0, "S", mss=1460)                    # 49838 > 15000 SYN
    story.advance(0.0004)
    a.seg(False, i2, i1 + 1, "SA", mss=1460)             # SYN/ACK with Blink-2's ISN (splice)
    b.seg(False, i1, i2 + 1, "SA", mss=1460)             # SYN/ACK with Blink-1's ISN
    story.advance(0.0003)
    b.seg(True, i2 + 1, i1 + 1, "A")                     # Blink-2 completes its handshake
    a.seg(False, i2 + 1, i1 + 1, "A")                    # ... relayed to Blink-1: Dup ACK
    a.seg(True, i1 + 1, i2 + 1, "A")                     # Blink-1 completes its handshake
    b.seg(False, i1 + 1, i2 + 1, "A")                    # ... relayed to Blink-2: Dup ACK
    story.advance(0.020)
    a.seg(True, i1 + 1, i2 + 1, "PA", send1)             # Blink-1's SEND
    b.seg(False, i1 + 1, i2 + 1, "PA", send1)            # relayed to Blink-2
    story.advance(0.0005)
    b.seg(True, i2 + 1, i1 + 1, "A")                     # Blink-2: Ack=1, the SEND not taken
    a.seg(False, i2 + 1, i1 + 1, "A")                    # relayed: Dup ACK #2
    story.advance(0.0008)
    b.seg(True, i2 + 1, i1 + 1, "PA", send2)             # Blink-2's SEND
    a.seg(False, i2 + 1, i1 + 1, "PA", send2)            # relayed to Blink-1
    story.advance(0.0004)
    a.seg(True, i1 + 1 + n1, i2 + 1 + n2, "A")           # Blink-1 takes it: Seq=227 Ack=226
    b.seg(False, i1 + 1 + n1, i2 + 1 + n2, "A")          # relayed to Blink-2
    # Blink-2 retransmits its SEND again and again (it never sees the ACK); Blink-1 retransmits its own.
    story.advance(0.200)
    b.seg(True, i2 + 1, i1 + 1, "PA", send2)
    a.seg(False, i2 + 1, i1 + 1, "PA", send2)
    a.seg(True, i1 + 1 + n1, i2 + 1 + n2, "A")           # Dup ACK
    b.seg(False, i1 + 1 + n1, i2 + 1 + n2, "A")          # Dup ACK
    story.advance(0.080)
    a.seg(True, i1 + 1, i2 + 1 + n2, "PA", send1)        # Blink-1's SEND retransmitted
    b.seg(False, i1 + 1, i2 + 1 + n2, "PA", send1)
    b.seg(True, i2 + 1 + n2, i1 + 1, "A")                # Blink-2: Seq=226 Ack=1
    a.seg(False, i2 + 1 + n2, i1 + 1, "A")
    for delay in (0.4, 0.8, 1.6, 3.2):
        story.advance(delay)
        b.seg(True, i2 + 1, i1 + 1, "PA", send2)
        a.seg(False, i2 + 1, i1 + 1, "PA", send2)
        a.seg(True, i1 + 1 + n1, i2 + 1 + n2, "A")
        b.seg(False, i1 + 1 + n1, i2 + 1 + n2, "A")
        story.advance(0.1)
        a.seg(True, i1 + 1, i2 + 1 + n2, "PA", send1)
        b.seg(False, i1 + 1, i2 + 1 + n2, "PA", send1)
        b.seg(True, i2 + 1 + n2, i1 + 1, "A")
        a.seg(False, i2 + 1 + n2, i1 + 1, "A")
    # 15:36:57 Blink-2: "Chat stream failed: MSRPBindSessionTimeout": it closes its MSRP connection
    # (relayed to Blink-1, which acknowledges the FIN); 15:36:58 it ends the session.
    story.at(13.05)
    b.seg(True, i2 + 1 + n2, i1 + 1, "FA")
    a.seg(False, i2 + 1 + n2, i1 + 1, "FA")
    story.advance(0.0004)
    a.seg(True, i1 + 1 + n1, i2 + 2 + n2, "A")
    b.seg(False, i1 + 1 + n1, i2 + 2 + n2, "A")
    story.at(14.02)
    bye2 = leg2.request("BYE", sender=BLINK2, cseq=2)
    story.advance(0.004)
    bye1 = leg1.request("BYE", sender=SBC_SP, cseq=2)
    story.advance(0.050)
    leg1.respond(bye1, 200, "OK", sender=BLINK1)
    story.advance(0.004)
    leg2.respond(bye2, 200, "OK", sender=SBC_SP)
    return story


# ---------------------------------------------------------------------------------------------------
# Healthy twins


def healthy_dialog(story, offer, answer, call_id="c2f1b9a0e5d34f7a@192.0.2.10"):
    d = Dialog(story, ALICE, BOB, "sip:bob@198.51.100.20", '"Alice" <sip:alice@example.com>',
               "<sip:bob@example.com>", call_id, "a73kszlfl", "Blink 0.2.5 (MacOSX)")
    d.to_tag = "1928301774"
    invite = d.request("INVITE", offer)
    story.advance(0.003)
    d.respond(invite, 100, "Trying")
    story.advance(0.200)
    d.respond(invite, 180, "Ringing")
    story.advance(1.500)
    d.respond(invite, 200, "OK", answer)
    story.advance(0.010)
    d.request("ACK")
    return d


def transact(story, conn, side, request, response):
    """One MSRP transaction: request from side (TCP-ACKed), its response from the peer (TCP-ACKed)."""
    conn.send(side, request)
    story.advance(0.002)
    conn.send(1 - side, response)


def chat(story, conn, client_path, server_path, client_sid_side=CLIENT):
    """Alice (client side) binds with an empty SEND, sends a message in two chunks with a success
    report, Bob answers each with 200 OK and reports the whole message; then Bob writes back."""
    c, s = (CLIENT, SERVER) if client_sid_side == CLIENT else (SERVER, CLIENT)
    paths = {CLIENT: client_path, SERVER: server_path}
    bind = msrp_request("a786hjs2", "SEND", paths[s], paths[c], [("Message-ID", "87652491"),
                                                                  ("Byte-Range", "1-0/0")])
    transact(story, conn, c, bind, msrp_response("a786hjs2", 200, "OK", paths[c], paths[s]))
    story.advance(1.2)
    text = "Hello Bob, are you there? This message comes in two chunks."
    part1, part2 = text[:30], text[30:]
    chunk1 = msrp_request("d93kswow", "SEND", paths[s], paths[c],
                          [("Message-ID", "12339sdqwer"), ("Success-Report", "yes"), ("Failure-Report", "yes"),
                           ("Byte-Range", f"1-{len(part1)}/{len(text)}"), ("Content-Type", "text/plain")],
                          part1.encode(), flag="+")
    transact(story, conn, c, chunk1, msrp_response("d93kswow", 200, "OK", paths[c], paths[s]))
    story.advance(0.003)
    chunk2 = msrp_request("d93kswox", "SEND", paths[s], paths[c],
                          [("Message-ID", "12339sdqwer"), ("Success-Report", "yes"), ("Failure-Report", "yes"),
                           ("Byte-Range", f"{len(part1) + 1}-{len(text)}/{len(text)}"),
                           ("Content-Type", "text/plain")], part2.encode())
    transact(story, conn, c, chunk2, msrp_response("d93kswox", 200, "OK", paths[c], paths[s]))
    story.advance(0.004)
    report = msrp_request("dkei38sd", "REPORT", paths[c], paths[s],
                          [("Message-ID", "12339sdqwer"), ("Byte-Range", f"1-{len(text)}/{len(text)}"),
                           ("Status", "000 200 OK")])
    conn.send(s, report)
    story.advance(2.5)
    reply = "Yes, here. Both chunks arrived."
    back = msrp_request("b5k2ms9q", "SEND", paths[c], paths[s],
                        [("Message-ID", "55kq3p0z"), ("Byte-Range", f"1-{len(reply)}/{len(reply)}"),
                         ("Content-Type", "text/plain")], reply.encode())
    transact(story, conn, s, back, msrp_response("b5k2ms9q", 200, "OK", paths[s], paths[c]))


def healthy(offer_setup, answer_setup):
    """Alice offers a chat, Bob answers, Alice (the active side either way) connects to Bob's port."""
    story = Story(utc(2024, 5, 14, 9, 12, 3.250))
    alice_port, bob_port = 49152, 7394
    alice_path = msrp_path(ALICE, alice_port, ALICE_SID)
    bob_path = msrp_path(BOB, bob_port, BOB_SID)
    offer = sdp(ALICE.ip, 2890844526, ALICE.ip, alice_port, alice_path, offer_setup, accept="text/plain")
    answer = sdp(BOB.ip, 2890844730, BOB.ip, bob_port, bob_path, answer_setup, accept="text/plain")
    dialog = healthy_dialog(story, offer, answer)
    story.advance(0.050)
    conn = TcpConnection(story, ALICE, alice_port, BOB, bob_port, rtt=0.030).handshake()
    story.advance(0.005)
    chat(story, conn, alice_path, bob_path)
    story.advance(4.0)
    bye = dialog.request("BYE", cseq=2)
    story.advance(0.020)
    dialog.respond(bye, 200, "OK")
    story.advance(0.010)
    conn.close(CLIENT)
    return story


def bad_input():
    """Garbage in the SDP offer, hostile MSRP headers, a message cut short and a frame truncated by the
    capture (snap length): each flagged as malformed, nothing crashes, SIP and TCP stay decoded."""
    story = Story(utc(2024, 5, 14, 10, 0, 0.5))
    alice_port, bob_port = 49160, 7394
    alice_path = msrp_path(ALICE, alice_port, ALICE_SID)
    bob_path = msrp_path(BOB, bob_port, BOB_SID)
    garbage = ("this line is not SDP\n"
               "m=message notaport TCP/MSRP *\n"
               "m=message 49160 TCP/MSRP *\n"
               "a=path:http://198.51.100.66/evil;tcp msrp://[::1\n"
               "a=setup:sideways\n"
               "a=accept-types:" + "x" * 3000 + "\n")
    offer = sdp(ALICE.ip, 2890844526, ALICE.ip, alice_port, alice_path, "active", accept="text/plain", extra=garbage)
    answer = sdp(BOB.ip, 2890844730, BOB.ip, bob_port, bob_path, "passive", accept="text/plain")
    healthy_dialog(story, offer, answer)
    story.advance(0.050)
    conn = TcpConnection(story, ALICE, alice_port, BOB, bob_port, rtt=0.030).handshake()
    story.advance(0.005)
    long_tid = "t" * 100
    hostile = [
        msrp_request(long_tid, "SEND", bob_path, alice_path, [("Message-ID", "m1"), ("Byte-Range", "1-0/0")]),
        msrp_request("a1b2c3d4", "SEND", "garbage-not-a-uri", alice_path,
                     [("Message-ID", "m2"), ("Byte-Range", "9-3/2"), "no colon in this header line",
                      ("Content-Type", "text/plain")], b"hi"),
        msrp_request("b2c3d4e5", "SEND", bob_path, alice_path,
                     [("X-Filler-%d" % n, "v") for n in range(80)] + [("Message-ID", "m3")]),
        msrp_request("c3d4e5f6", "send", bob_path, alice_path, [("Message-ID", "m4"), ("Byte-Range", "1-*/*")]),
    ]
    for message in hostile:
        conn.send(CLIENT, message)
        story.advance(0.010)
    # A SEND truncated by the capture's snap length (write() cuts this frame to 120 bytes).
    conn.send(CLIENT, msrp_request("e5f6a7b8", "SEND", bob_path, alice_path,
                                   [("Message-ID", "m6"), ("Byte-Range", "1-5/5"), ("Content-Type", "text/plain")],
                                   b"hello"))
    story.truncate = {len(story.frames) - 2: 120}
    story.advance(0.010)
    # A SEND whose end-line never comes (Wireshark waits for the rest); then the connection is reset.
    cut = msrp_request("d4e5f6a7", "SEND", bob_path, alice_path,
                       [("Message-ID", "m5"), ("Byte-Range", "1-40/40"), ("Content-Type", "text/plain")],
                       b"0123456789012345678901234567890123456789")
    conn.send(CLIENT, cut[:-40])
    story.advance(0.200)
    conn.reset(SERVER)
    return story


def protocol_violations():
    """Two calls. Call 1: offer and answer both a=setup:passive, so nobody connects (BYE after 3 s).
    Call 2: offer actpass, answer passive (the offerer must connect), but the answerer Bob connects;
    his first SEND's To-Path names a session id that is not Alice's a=path one, and his second SEND
    reuses the first one's transaction id; Alice's last message stops after its first chunk (10 of 20
    bytes) before the BYE. Every SEND is answered 200 OK."""
    story = Story(utc(2024, 5, 14, 11, 0, 0.25))
    alice_port, bob_port, bob_local = 49152, 7394, 50001
    alice_path = msrp_path(ALICE, alice_port, ALICE_SID)
    bob_path = msrp_path(BOB, bob_port, BOB_SID)
    offer = sdp(ALICE.ip, 2890844526, ALICE.ip, alice_port, alice_path, "passive", accept="text/plain")
    answer = sdp(BOB.ip, 2890844730, BOB.ip, bob_port, bob_path, "passive", accept="text/plain")
    d1 = healthy_dialog(story, offer, answer, call_id="9d2a77c0b1e54f3c@192.0.2.10")
    story.advance(3.0)
    bye = d1.request("BYE", cseq=2)
    story.advance(0.020)
    d1.respond(bye, 200, "OK")
    story.advance(1.0)
    offer = sdp(ALICE.ip, 2890844527, ALICE.ip, alice_port, alice_path, "actpass", accept="text/plain")
    d2 = healthy_dialog(story, offer, answer, call_id="5e1f0a9b3c7d4e21@192.0.2.10")
    story.advance(0.050)
    bob_from = msrp_path(BOB, bob_local, BOB_SID)
    conn = TcpConnection(story, BOB, bob_local, ALICE, alice_port, rtt=0.030).handshake()
    story.advance(0.005)
    wrong = msrp_path(ALICE, alice_port, "notalicesid")
    first = msrp_request("q8w7e6r5", "SEND", wrong, bob_from, [("Message-ID", "k1"), ("Byte-Range", "1-0/0")])
    transact(story, conn, CLIENT, first, msrp_response("q8w7e6r5", 200, "OK", bob_from, wrong))
    story.advance(0.500)
    again = msrp_request("q8w7e6r5", "SEND", alice_path, bob_from,
                         [("Message-ID", "k2"), ("Byte-Range", "1-2/2"), ("Content-Type", "text/plain")], b"hi")
    transact(story, conn, CLIENT, again, msrp_response("q8w7e6r5", 200, "OK", bob_from, alice_path))
    story.advance(0.500)
    back = msrp_request("z1x2c3v4", "SEND", bob_from, alice_path,
                        [("Message-ID", "k3"), ("Byte-Range", "1-5/5"), ("Content-Type", "text/plain")], b"hello")
    transact(story, conn, SERVER, back, msrp_response("z1x2c3v4", 200, "OK", alice_path, bob_from))
    story.advance(0.500)
    part = msrp_request("n5m6b7v8", "SEND", bob_from, alice_path,
                        [("Message-ID", "k4"), ("Byte-Range", "1-10/20"), ("Content-Type", "text/plain")],
                        b"first half", flag="+")
    transact(story, conn, SERVER, part, msrp_response("n5m6b7v8", 200, "OK", alice_path, bob_from))
    story.advance(2.0)
    bye = d2.request("BYE", cseq=2)
    story.advance(0.020)
    d2.respond(bye, 200, "OK")
    story.advance(0.010)
    conn.close(CLIENT)
    return story


def write(story, path):
    """Story.write, except that frames listed in story.truncate are cut to that many captured bytes."""
    cuts = getattr(story, "truncate", {})
    if not cuts:
        story.write(path)
        return
    from scapy.utils import RawPcapWriter
    writer = RawPcapWriter(path, linktype=1, endianness="<", snaplen=65535)
    writer.write_header(None)
    for n, (ts, frame) in enumerate(story.frames):
        caplen = cuts.get(n, len(frame))
        writer.write_packet(frame[:caplen], sec=ts // 1_000_000, usec=ts % 1_000_000, wirelen=len(frame))
    writer.close()


CAPTURES = {
    "msrpa_field_case_both_active.pcap": field_case,
    "msrpa_rfc4975_chat.pcap": lambda: healthy(None, None),
    "msrpa_comedia_chat.pcap": lambda: healthy("actpass", "passive"),
    "msrpa_protocol_violations.pcap": protocol_violations,
    "msrpa_bad_input.pcap": bad_input,
}


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        start = time.perf_counter()
        for host in (BLINK1, BLINK2, SBC_SP, SBC_MP, ALICE, BOB):
            host.restart()
        story = build()
        write(story, os.path.join(outdir, name))
        print(f"{name}: {len(story.frames)} frames in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
