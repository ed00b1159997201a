#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the mssip test captures (field case 002: forked calls, epid, ms-diagnostics) into captures/
or OUTDIR.

Field case 002: MarinoF (Office Communicator 2007 R2 at 200.1.1.201:2604) calls IzabelaF, who is signed in
on Office Communicator 2007 R2 and on Office Communicator Phone 2007 R2. The OCS 2007 R2 pool forks the
INVITE (101 Progress Report with ms-diagnostics 13004); both endpoints answer 183 with their own To tag and
epid; the phone answers 200 OK; then ACK, a re-INVITE (CSeq 3) with the chosen ICE candidates and its
200 OK. Headers, tags, epids, GRUUs, agents, candidates and times are the seed's. The seed ran over TLS to
sip.uclab.org; here the same SIP text runs over TCP port 5060 (Via transport TCP) so that it decodes, and
sip.uclab.org is given the made-up address 200.1.1.10. The SDP offers of the INVITE and 183s, the PRACKs
(the seed's summary names 200 OKs of PRACK; each early dialog has its own CSeq space, so both are CSeq 2)
and the final ACK of the re-INVITE are made to match. The other captures vary that story or feed the
header decoders bad input. Output is deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_mssip.py [OUTDIR]
"""
import calendar
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, sip_message  # noqa: E402

MARINO = Host("200.1.1.201", "00:15:5d:01:c9:01", ttl=128, window=65535)
EDGE = Host("200.1.1.10", "00:15:5d:01:0a:01", ttl=127, window=65535)
MARINO_PORT, EDGE_PORT = 2604, 5060

CALL_ID = "e34305289c3b4c368c583f531fddeff3"
MARINO_FROM = "<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028"
MARINO_FROM_NAMED = '"Marino Filipovic"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028'
MARINO_CONTACT = "<sip:marinof@uclab.org;opaque=user:epid:NFExHZ6mj1yDHREOYWtdYQAA;gruu>"
OC_AGENT = "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)"
PHONE_AGENT = "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)"
VIA_IN = "SIP/2.0/TCP 200.1.1.201:2604;ms-received-port=2604;ms-received-cid=500"
RECORD_ROUTE = ("<sip:pool01.uclab.org:5061;transport=tls;ms-fe=R2EE01.uclab.org;opaque=state:F:T:Eu;lr;"
                "received=172.31.255.222;ms-received-cid=401>")
ROUTES = [("Route", "<sip:sip.uclab.org:443;transport=tls;opaque=state:Ci.R500;lr;"
                    "ms-route-sig=babjyotg5YrHahdExfv5G_R78glc6rHo0ChevgyAAA>"),
          ("Route", RECORD_ROUTE[:-1] + ">")]
DIAG_13004 = ('13004;reason="Request was proxied to one or more registered endpoints";'
              'source="R2EE01.uclab.org";appName="InboundRouting"')
# The two endpoints of IzabelaF: (To epid, To tag, GRUU epid, User-Agent).
OC = ("aad34505db", "c34587eaa8", "ATX04NzZClmCm9_s1BVjeAAA", OC_AGENT)
PHONE = ("2798f0b3cc", "97a7d6045d", "uozeqPgOuFOVd0DaRpeFCgAA", PHONE_AGENT)


def utc(hour, minute, second):
    """Seconds since 1970 for 2010-01-05 hour:minute:second UTC (the seed's log date)."""
    return calendar.timegm((2010, 1, 5, hour, minute, 0)) + second


def hexid(*parts, size=10):
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:size]


def auth_info(snum):
    return (f'NTLM rspauth="0100000000000000{hexid("rsp", snum, size=8).upper()}807B40EA", '
            f'srand="{hexid("srand", snum, size=8).upper()}", snum="{snum}", opaque="135DF6CC", qop="auth", '
            'targetname="R2EE01.uclab.org", realm="SIP Communications Service"')


def sdp(address, session, candidates, extra=()):
    lines = ["v=0", f"o=- 0 {session} IN IP4 {address}", "s=session", f"c=IN IP4 {address}", "b=CT:99980",
             "t=0 0", f"m=audio {candidates[0].split()[5]} RTP/SAVP 114 111 112 115 116 4 8 0 97 13 118 101",
             f"a=ice-ufrag:{hexid('ufrag', address, session, size=4)}",
             f"a=ice-pwd:{hexid('pwd', address, session, size=24)}"]
    lines += ["a=candidate:" + c for c in candidates]
    lines += list(extra)
    lines += ["a=rtcp:" + candidates[1].split()[5], "a=label:main-audio", "a=rtpmap:114 x-msrta/16000",
              "a=rtpmap:111 SIREN/16000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=encryption:rejected"]
    return ("\r\n".join(lines) + "\r\n").encode()


MARINO_CANDIDATES = ["1 1 UDP 2130706431 200.1.1.201 50016 typ host", "1 2 UDP 2130705918 200.1.1.201 50018 typ host"]
OC_CANDIDATES = ["1 1 UDP 2130706431 172.31.255.71 24532 typ host", "1 2 UDP 2130705918 172.31.255.71 24533 typ host",
                 "2 1 UDP 16648703 200.1.1.20 55104 typ relay raddr 200.1.1.20 rport 55104",
                 "2 2 UDP 16648702 200.1.1.20 55105 typ relay raddr 200.1.1.20 rport 55105"]
# The 200 OK's candidates are the seed's, line by line.
PHONE_CANDIDATES = [
    "1 1 UDP 2130706431 172.31.255.73 32039 typ host", "1 2 UDP 2130705918 172.31.255.73 3599 typ host",
    "2 1 TCP-PASS 6556159 200.1.1.20 51553 typ relay raddr 200.1.1.20 rport 51553",
    "2 2 TCP-PASS 6556158 200.1.1.20 51553 typ relay raddr 200.1.1.20 rport 51553",
    "3 1 UDP 16648703 200.1.1.20 52279 typ relay raddr 200.1.1.20 rport 52279",
    "3 2 UDP 16648702 200.1.1.20 57326 typ relay raddr 200.1.1.20 rport 57326",
    "4 1 TCP-ACT 7076863 200.1.1.20 51553 typ relay raddr 200.1.1.20 rport 51553",
    "4 2 TCP-ACT 7076350 200.1.1.20 51553 typ relay raddr 200.1.1.20 rport 51553",
    "5 1 TCP-ACT 1684797951 172.31.255.73 31247 typ srflx raddr 172.31.255.73 rport 31247",
    "5 2 TCP-ACT 1684797438 172.31.255.73 31247 typ srflx raddr 172.31.255.73 rport 31247"]
PHONE_REINVITE_CANDIDATES = PHONE_CANDIDATES[4:6]


def branch(n):
    return "z9hG4bK" + hexid("branch", n, size=16)


def request(method, uri, cseq, to, headers=(), body=b"", branch_n=0):
    """One of MarinoF's requests, in the seed's header order."""
    hs = [("Via", f"SIP/2.0/TCP 200.1.1.201:2604;branch={branch(branch_n)}"), ("Max-Forwards", "70"),
          ("From", MARINO_FROM), ("To", to), ("Call-ID", CALL_ID), ("CSeq", f"{cseq} {method}"), *headers]
    if body:
        hs.append(("Content-Type", "application/sdp"))
    return sip_message(f"{method} {uri} SIP/2.0", hs, body)


def response(code, reason, cseq, to, headers=(), body=b"", from_=MARINO_FROM_NAMED, snum=16):
    hs = [("ms-user-logon-data", "RemoteUser"), ("Authentication-Info", auth_info(snum)), ("Via", VIA_IN),
          ("From", from_), ("To", to), ("Call-ID", CALL_ID), ("CSeq", cseq), *headers]
    if body:
        hs.append(("Content-Type", "application/sdp"))
    return sip_message(f"SIP/2.0 {code} {reason}", hs, body)


def endpoint_to(endpoint):
    return f"<sip:izabelaf@uclab.org>;epid={endpoint[0]};tag={endpoint[1]}"


def endpoint_contact(endpoint):
    return f"<sip:izabelaf@uclab.org;opaque=user:epid:{endpoint[2]};gruu>"


def endpoint_headers(endpoint, reliable=False):
    hs = [("Record-Route", RECORD_ROUTE), ("Contact", endpoint_contact(endpoint)), ("User-Agent", endpoint[3])]
    if reliable:
        hs += [("Require", "100rel"), ("RSeq", "1")]
    return hs


def gruu_uri(endpoint):
    return f"sip:izabelaf@uclab.org;opaque=user:epid:{endpoint[2]};gruu"


def invite(branch_n=1):
    return request("INVITE", "sip:izabelaf@uclab.org", 1, "<sip:izabelaf@uclab.org>",
                   [("Contact", MARINO_CONTACT), ("User-Agent", OC_AGENT), ("Supported", "ms-dialog-route-set-update"),
                    ("Supported", "100rel"), ("ms-keep-alive", "UAC;hop-hop=yes")],
                   sdp("200.1.1.201", 1, MARINO_CANDIDATES), branch_n)


def prack(endpoint, branch_n):
    return request("PRACK", gruu_uri(endpoint), 2, endpoint_to(endpoint),
                   [*ROUTES, ("RAck", "1 1 INVITE"), ("User-Agent", OC_AGENT)], branch_n=branch_n)


def field_case_story(fork=True):
    """The seed's call; fork=False leaves the Communicator endpoint out (the phone alone answers)."""
    story = Story(utc(14, 0, 47.870))
    conn = TcpConnection(story, MARINO, MARINO_PORT, EDGE, EDGE_PORT, rtt=0.004).handshake()
    story.at(0.019)  # 14:00:47.889, the INVITE
    conn.send(CLIENT, invite())
    story.advance(0.035)
    # The pool's 100 Trying and 101 Progress Report reach the client in one segment.
    trying = response(100, "Trying", "1 INVITE", "<sip:izabelaf@uclab.org>", [("Server", "InboundRouting/3.5.0.0")],
                      from_=MARINO_FROM_NAMED, snum=14)
    progress = response(101, "Progress Report", "1 INVITE", "<sip:izabelaf@uclab.org>",
                        [("ms-diagnostics", DIAG_13004), ("Server", "InboundRouting/3.5.0.0")], snum=15)
    conn.send(SERVER, trying + progress)
    if fork:
        story.at(0.961)  # 14:00:48.831
        conn.send(SERVER, response(183, "Session Progress", "1 INVITE", endpoint_to(OC), endpoint_headers(OC, True),
                                   sdp("172.31.255.71", 1, OC_CANDIDATES), snum=16))
        story.advance(0.040)
        conn.send(CLIENT, prack(OC, 2))
        story.advance(0.090)
        conn.send(SERVER, response(200, "OK", "2 PRACK", endpoint_to(OC), endpoint_headers(OC), from_=MARINO_FROM,
                                   snum=17))
    story.at(1.321)  # 14:00:49.191
    conn.send(SERVER, response(183, "Session Progress", "1 INVITE", endpoint_to(PHONE), endpoint_headers(PHONE, True),
                               sdp("172.31.255.73", 1, PHONE_CANDIDATES[:2]), snum=18))
    story.advance(0.040)
    conn.send(CLIENT, prack(PHONE, 3))
    story.advance(0.120)
    conn.send(SERVER, response(200, "OK", "2 PRACK", endpoint_to(PHONE), endpoint_headers(PHONE), from_=MARINO_FROM,
                               snum=19))
    story.at(11.426)  # 14:00:59.296
    conn.send(SERVER, response(200, "OK", "1 INVITE", endpoint_to(PHONE),
                               [("P-Asserted-Identity", "<sip:izabelaf@uclab.org>, <tel:+38514802551>"),
                                *endpoint_headers(PHONE)],
                               sdp("172.31.255.73", 2, PHONE_CANDIDATES), snum=21))
    story.at(11.586)  # 14:00:59.456
    conn.send(CLIENT, request("ACK", gruu_uri(PHONE), 1, endpoint_to(PHONE),
                              [*ROUTES, ("User-Agent", OC_AGENT), ("Supported", "ms-dialog-route-set-update"),
                               ("Proxy-Authorization", 'NTLM qop="auth", realm="SIP Communications Service", '
                                'opaque="135DF6CC", targetname="R2EE01.uclab.org", crand="a1b5d2ce", cnum="15", '
                                'response="0100000000000000adf58669807b40ea"')], branch_n=4))
    story.at(17.064)  # 14:01:04.934, the re-INVITE
    conn.send(CLIENT, request("INVITE", gruu_uri(PHONE), 3, endpoint_to(PHONE),
                              [*ROUTES, ("Contact", MARINO_CONTACT), ("User-Agent", OC_AGENT)],
                              sdp("200.1.1.201", 2, MARINO_CANDIDATES, [
                                  "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
                                  "inline:JTZf0de/tIGNK+5aQmVJCgslAzCLYsPwNJgG/Ga+|2^31|1:1",
                                  "a=remote-candidates:1 200.1.1.20 52279 2 200.1.1.20 57326"]), branch_n=5))
    story.at(17.284)  # 14:01:05.154
    conn.send(SERVER, response(200, "OK", "3 INVITE", endpoint_to(PHONE), endpoint_headers(PHONE),
                               sdp("172.31.255.73", 3, PHONE_REINVITE_CANDIDATES, [
                                   "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
                                   "inline:kSYTWb/FPgCEeGKC1/6z4in0Nr1gNfYymLwBMfCc|2^31|1:1",
                                   "a=remote-candidates:1 200.1.1.201 50016 2 200.1.1.201 50018"]),
                               from_=MARINO_FROM, snum=27))
    story.advance(0.150)
    conn.send(CLIENT, request("ACK", gruu_uri(PHONE), 3, endpoint_to(PHONE), [*ROUTES, ("User-Agent", OC_AGENT)],
                              branch_n=6))
    return story


def diagnostics_error():
    """MarinoF calls a user the pool does not know: 404 with ms-diagnostics 4005, then the ACK."""
    story = Story(utc(14, 10, 2.5))
    conn = TcpConnection(story, MARINO, MARINO_PORT, EDGE, EDGE_PORT, rtt=0.004).handshake()
    story.advance(0.010)
    inv = request("INVITE", "sip:nobody@uclab.org", 1, "<sip:nobody@uclab.org>",
                  [("Contact", MARINO_CONTACT), ("User-Agent", OC_AGENT)], sdp("200.1.1.201", 1, MARINO_CANDIDATES), 11)
    inv = inv.replace(CALL_ID.encode(), b"5b0a8e1c2f7d4e3a9c6b1d0e8f7a6b5c")
    conn.send(CLIENT, inv)
    story.advance(0.040)
    not_found = response(404, "Not Found", "1 INVITE", "<sip:nobody@uclab.org>;tag=8B6C1A4F0E9D2C3B",
                         [("ms-diagnostics", '4005;reason="Destination URI either not enabled for SIP or does not '
                                             'exist";source="R2EE01.uclab.org"'),
                          ("Server", "RTC/3.5")], snum=22)
    conn.send(SERVER, not_found.replace(CALL_ID.encode(), b"5b0a8e1c2f7d4e3a9c6b1d0e8f7a6b5c"))
    story.advance(0.010)
    ack = request("ACK", "sip:nobody@uclab.org", 1, "<sip:nobody@uclab.org>;tag=8B6C1A4F0E9D2C3B", branch_n=11)
    conn.send(CLIENT, ack.replace(CALL_ID.encode(), b"5b0a8e1c2f7d4e3a9c6b1d0e8f7a6b5c"))
    return story


# --- A generic forking proxy (no Microsoft headers): capture taken on the proxy, UDP. ---------------

ALICE = Host("10.20.0.11", "00:1b:21:00:00:11")
PROXY = Host("10.20.0.1", "00:1b:21:00:00:01")
DESK = Host("10.20.0.21", "00:04:f2:00:00:21")
MOBILE = Host("10.20.0.22", "00:15:65:00:00:22")
SOFT = Host("10.20.0.23", "00:1b:21:00:00:23")
ALICE_AGENT = "Linphone/5.2.5 (belle-sip/5.2.94)"
BOB_ENDPOINTS = [  # (host, To tag, agent)
    (DESK, "a7f3c1d9", "PolycomVVX-VVX_411-UA/6.4.3.5018"),
    (MOBILE, "5e20b8a4", "Yealink SIP-T46U 108.86.0.20"),
    (SOFT, "c91d04e6", "Bria 6 release 6.5.1 stamp 109876"),
]


class Udp:
    """SIP over UDP between two hosts on port 5060."""

    def __init__(self, story):
        self.story = story

    def send(self, src, dst, data):
        self.story.udp(src, 5060, dst, 5060, data)


def generic(start_line, vias, from_, to, call_id, cseq, headers=(), body=b"", compact=False):
    names = {"Via": "v", "From": "f", "To": "t", "Call-ID": "i", "Contact": "m"} if compact else {}
    hs = [(names.get("Via", "Via"), v) for v in vias]
    hs += [(names.get("From", "From"), from_), (names.get("To", "To"), to), (names.get("Call-ID", "Call-ID"), call_id),
           ("CSeq", cseq), *[(names.get(k, k), v) for k, v in headers]]
    if body:
        hs.append(("c" if compact else "Content-Type", "application/sdp"))
    return sip_message(start_line, hs, body)


def fork_story(endpoints, compact=False, call_id="3c26f1a0e5b94d1f8e27@10.20.0.11", terminated="Request Terminated"):
    """Alice calls bob through the proxy, which forks to each of endpoints; the second answers, the
    proxy CANCELs the others (200 to CANCEL, 487, ACK), then Alice ACKs and hangs up."""
    story = Story(calendar.timegm((2024, 3, 12, 9, 30, 0)) + 0.25)
    udp = Udp(story)
    alice_via = "SIP/2.0/UDP 10.20.0.11:5060;branch=z9hG4bK-al1ce-0001;rport"
    alice_from = '"Alice" <sip:alice@example.net>;tag=8812f0a3'
    bob = "<sip:bob@example.net>"
    offer = sdp("10.20.0.11", 1, ["1 1 UDP 2130706431 10.20.0.11 40000 typ host",
                                  "1 2 UDP 2130706430 10.20.0.11 40001 typ host"])

    def msg(start, vias, to, cseq, headers=(), body=b"", from_=alice_from):
        return generic(start, vias, from_, to, call_id, cseq, headers, body, compact)

    inv_headers = [("Max-Forwards", "70"), ("Contact", "<sip:alice@10.20.0.11:5060>"), ("User-Agent", ALICE_AGENT)]
    udp.send(ALICE, PROXY, msg("INVITE sip:bob@example.net SIP/2.0", [alice_via], bob, "1 INVITE", inv_headers, offer))
    story.advance(0.002)
    udp.send(PROXY, ALICE, msg("SIP/2.0 100 Trying", [alice_via], bob, "1 INVITE", [("Server", "Kamailio (5.7.4)")]))
    proxy_via = {}
    for n, (host, _tag, _agent) in enumerate(endpoints, 1):
        proxy_via[host.ip] = f"SIP/2.0/UDP 10.20.0.1:5060;branch=z9hG4bK-pr0xy-00{n}"
        story.advance(0.001)
        udp.send(PROXY, host, msg(f"INVITE sip:bob@{host.ip}:5060 SIP/2.0", [proxy_via[host.ip], alice_via], bob,
                                  "1 INVITE", [("Max-Forwards", "69"), *inv_headers[1:]], offer))

    def answer(host, tag, agent, code, reason, cseq="1 INVITE", body=b""):
        to = f"{bob};tag={tag}"
        hs = [("Contact", f"<sip:bob@{host.ip}:5060>"), ("User-Agent", agent)]
        udp.send(host, PROXY, msg(f"SIP/2.0 {code} {reason}", [proxy_via[host.ip], alice_via], to, cseq, hs, body))
        if cseq.endswith("INVITE"):
            story.advance(0.001)
            udp.send(PROXY, ALICE, msg(f"SIP/2.0 {code} {reason}", [alice_via], to, cseq, hs, body))

    for host, tag, agent in endpoints:
        story.advance(0.080)
        answer(host, tag, agent, 180, "Ringing")
    winner = endpoints[1]
    story.advance(3.5)
    answer(*winner, 200, "OK", body=sdp(winner[0].ip, 1, [f"1 1 UDP 2130706431 {winner[0].ip} 20000 typ host",
                                                          f"1 2 UDP 2130706430 {winner[0].ip} 20001 typ host"]))
    losers = [e for e in endpoints if e is not winner]
    for host, _tag, _agent in losers:
        story.advance(0.001)
        udp.send(PROXY, host, msg(f"CANCEL sip:bob@{host.ip}:5060 SIP/2.0", [proxy_via[host.ip]], bob, "1 CANCEL",
                                  [("Max-Forwards", "70"), ("Reason", 'SIP;cause=200;text="Call completed elsewhere"')]))
    for host, tag, agent in losers:
        story.advance(0.030)
        to = f"{bob};tag={tag}"
        udp.send(host, PROXY, msg("SIP/2.0 200 OK", [proxy_via[host.ip]], to, "1 CANCEL", [("User-Agent", agent)]))
        story.advance(0.002)
        udp.send(host, PROXY, msg(f"SIP/2.0 487 {terminated}", [proxy_via[host.ip], alice_via], to, "1 INVITE",
                                  [("User-Agent", agent)]))
        story.advance(0.001)
        udp.send(PROXY, host, msg(f"ACK sip:bob@{host.ip}:5060 SIP/2.0", [proxy_via[host.ip]], to, "1 ACK",
                                  [("Max-Forwards", "70")]))
    host, tag, agent = winner
    to = f"{bob};tag={tag}"
    story.advance(0.040)
    ack_via = "SIP/2.0/UDP 10.20.0.11:5060;branch=z9hG4bK-al1ce-0002;rport"
    udp.send(ALICE, PROXY, msg(f"ACK sip:bob@{host.ip}:5060 SIP/2.0", [ack_via], to, "1 ACK", [("Max-Forwards", "70")]))
    story.advance(0.001)
    udp.send(PROXY, host, msg(f"ACK sip:bob@{host.ip}:5060 SIP/2.0", ["SIP/2.0/UDP 10.20.0.1:5060;branch=z9hG4bK-pr0xy-a"
                                                                       "ck", ack_via], to, "1 ACK", [("Max-Forwards", "69")]))
    story.advance(12.0)
    bye_via = "SIP/2.0/UDP 10.20.0.11:5060;branch=z9hG4bK-al1ce-0003;rport"
    bye_proxy_via = "SIP/2.0/UDP 10.20.0.1:5060;branch=z9hG4bK-pr0xy-bye"
    udp.send(ALICE, PROXY, msg(f"BYE sip:bob@{host.ip}:5060 SIP/2.0", [bye_via], to, "2 BYE", [("User-Agent", ALICE_AGENT)]))
    story.advance(0.001)
    udp.send(PROXY, host, msg(f"BYE sip:bob@{host.ip}:5060 SIP/2.0", [bye_proxy_via, bye_via], to, "2 BYE",
                              [("User-Agent", ALICE_AGENT)]))
    story.advance(0.020)
    udp.send(host, PROXY, msg("SIP/2.0 200 OK", [bye_proxy_via, bye_via], to, "2 BYE", [("User-Agent", agent)]))
    story.advance(0.001)
    udp.send(PROXY, ALICE, msg("SIP/2.0 200 OK", [bye_via], to, "2 BYE", [("User-Agent", agent)]))
    return story


# Endpoints whose User-Agent is longer than an expert message may be (200 characters): the message names
# a cut agent (the whole one is mssip.endpoint.agent) and still fits the GUI's label.
LONG_ENDPOINTS = [(host, tag, agent + " (" + "long build string " * 18 + ")") for host, tag, agent in BOB_ENDPOINTS[:2]]


def plain_call():
    """Alice calls carol directly (no proxy, no fork): INVITE, 100, 180, 200, ACK, BYE, 200."""
    story = Story(calendar.timegm((2024, 3, 12, 9, 45, 0)) + 0.5)
    udp = Udp(story)
    carol_host = Host("10.20.0.31", "00:04:f2:00:00:31")
    call_id = "77b0c2d4e6f8a1b3c5d7@10.20.0.11"
    alice_from = '"Alice" <sip:alice@example.net>;tag=41c9e27b'
    via = "SIP/2.0/UDP 10.20.0.11:5060;branch=z9hG4bK-al1ce-{};rport"
    carol = "<sip:carol@10.20.0.31>"
    carol_tag = carol + ";tag=0d5e3f71"
    agent = "PolycomVVX-VVX_411-UA/6.4.3.5018"

    def msg(start, n, to, cseq, headers=(), body=b""):
        return generic(start, [via.format(n)], alice_from, to, call_id, cseq, headers, body)

    offer = sdp("10.20.0.11", 1, ["1 1 UDP 2130706431 10.20.0.11 40010 typ host",
                                  "1 2 UDP 2130706430 10.20.0.11 40011 typ host"])
    answer = sdp("10.20.0.31", 1, ["1 1 UDP 2130706431 10.20.0.31 20010 typ host",
                                   "1 2 UDP 2130706430 10.20.0.31 20011 typ host"])
    udp.send(ALICE, carol_host, msg("INVITE sip:carol@10.20.0.31 SIP/2.0", "p1", carol, "1 INVITE",
                                    [("Contact", "<sip:alice@10.20.0.11:5060>"), ("User-Agent", ALICE_AGENT)], offer))
    story.advance(0.010)
    udp.send(carol_host, ALICE, msg("SIP/2.0 100 Trying", "p1", carol, "1 INVITE", [("User-Agent", agent)]))
    story.advance(0.050)
    udp.send(carol_host, ALICE, msg("SIP/2.0 180 Ringing", "p1", carol_tag, "1 INVITE",
                                    [("Contact", "<sip:carol@10.20.0.31:5060>"), ("User-Agent", agent)]))
    story.advance(2.4)
    udp.send(carol_host, ALICE, msg("SIP/2.0 200 OK", "p1", carol_tag, "1 INVITE",
                                    [("Contact", "<sip:carol@10.20.0.31:5060>"), ("User-Agent", agent)], answer))
    story.advance(0.020)
    udp.send(ALICE, carol_host, msg("ACK sip:carol@10.20.0.31:5060 SIP/2.0", "p2", carol_tag, "1 ACK"))
    story.advance(8.0)
    udp.send(ALICE, carol_host, msg("BYE sip:carol@10.20.0.31:5060 SIP/2.0", "p3", carol_tag, "2 BYE",
                                    [("User-Agent", ALICE_AGENT)]))
    story.advance(0.015)
    udp.send(carol_host, ALICE, msg("SIP/2.0 200 OK", "p3", carol_tag, "2 BYE", [("User-Agent", agent)]))
    return story


def fork_lookalikes():
    """Unforked calls that look like forks to a naive tracker; nothing may fire. Alice calls carol
    directly: a 401 challenge (with its own To tag) and the INVITE re-sent with CSeq 2, a 183 and a 200
    each retransmitted over UDP; a second call with the same Call-ID and another From tag, answered with
    another To tag; a caller named "Sepideh Karimi (HR)" (an unquoted display name holding "epid") turned
    away by a 302 with informational ms-diagnostics 13006; and an INVITE whose headers pass 16 KiB, with a
    Contact GRUU cut by that limit; a REGISTER whose 200 OK gives the GRUU as a gruu="..." parameter."""
    story = Story(calendar.timegm((2024, 3, 12, 10, 15, 0)) + 0.5)
    udp = Udp(story)
    carol_host = Host("10.20.0.31", "00:04:f2:00:00:31")
    call_id = "5d1e7a90c3b24f68a0e1@10.20.0.11"
    carol = "<sip:carol@10.20.0.31>"
    agent = "PolycomVVX-VVX_411-UA/6.4.3.5018"
    via = "SIP/2.0/UDP 10.20.0.11:5060;branch=z9hG4bK-l00k-{};rport"
    contact = [("Contact", "<sip:alice@10.20.0.11:5060>"), ("User-Agent", ALICE_AGENT)]
    carol_contact = [("Contact", "<sip:carol@10.20.0.31:5060>"), ("User-Agent", agent)]

    def send(src, dst, start, n, from_, to, cseq, headers=(), cid=call_id):
        story.advance(0.020)
        udp.send(src, dst, generic(start, [via.format(n)], from_, to, cid, cseq, headers))

    invite_line = "INVITE sip:carol@10.20.0.31 SIP/2.0"
    first = '"Alice" <sip:alice@example.net>;tag=6b2f90d1'
    send(ALICE, carol_host, invite_line, 1, first, carol, "1 INVITE", contact)
    send(carol_host, ALICE, "SIP/2.0 401 Unauthorized", 1, first, carol + ";tag=ch4ll3ng3", "1 INVITE",
         [("WWW-Authenticate", 'Digest realm="example.net", nonce="5f1d2c3b4a59", algorithm=MD5'),
          ("User-Agent", agent)])
    send(ALICE, carol_host, "ACK sip:carol@10.20.0.31 SIP/2.0", 1, first, carol + ";tag=ch4ll3ng3", "1 ACK")
    auth = ('Digest username="alice", realm="example.net", nonce="5f1d2c3b4a59", uri="sip:carol@10.20.0.31", '
            'response="6629fae49393a05397450978507c4ef1", algorithm=MD5')
    send(ALICE, carol_host, invite_line, 2, first, carol, "2 INVITE", [("Authorization", auth), *contact])
    for _ in range(2):  # the 183 and the 200, each sent again (UDP retransmission, RFC 3261 section 13.3.1.4)
        send(carol_host, ALICE, "SIP/2.0 183 Session Progress", 2, first, carol + ";tag=0d5e3f71", "2 INVITE",
             carol_contact)
    for _ in range(2):
        send(carol_host, ALICE, "SIP/2.0 200 OK", 2, first, carol + ";tag=0d5e3f71", "2 INVITE", carol_contact)
    send(ALICE, carol_host, "ACK sip:carol@10.20.0.31:5060 SIP/2.0", 3, first, carol + ";tag=0d5e3f71", "2 ACK")

    second = '"Alice" <sip:alice@example.net>;tag=9c04e6b8'
    send(ALICE, carol_host, invite_line, 4, second, carol, "1 INVITE", contact)
    send(carol_host, ALICE, "SIP/2.0 180 Ringing", 4, second, carol + ";tag=7a1b2c3d", "1 INVITE", carol_contact)
    send(carol_host, ALICE, "SIP/2.0 200 OK", 4, second, carol + ";tag=7a1b2c3d", "1 INVITE", carol_contact)
    send(ALICE, carol_host, "ACK sip:carol@10.20.0.31:5060 SIP/2.0", 5, second, carol + ";tag=7a1b2c3d", "1 ACK")

    sepideh = "Sepideh Karimi (HR) <sip:sepideh@example.net>;tag=e1f2a3b4"
    cid = "0a9b8c7d6e5f@10.20.0.11"
    send(ALICE, carol_host, invite_line, 6, sepideh, carol, "1 INVITE", contact, cid=cid)
    send(carol_host, ALICE, "SIP/2.0 302 Moved Temporarily", 6, sepideh, carol + ";tag=1f2e3d4c", "1 INVITE",
         [("Contact", "<sip:carol@10.20.0.32:5060>"),
          ("ms-diagnostics", '13006;reason="Request forwarded, any previous branches cancelled";'
                             'source="fe01.example.net"'), ("User-Agent", agent)], cid=cid)

    # The GRUU starts before the 16 KiB mssip reads of a message's headers and ends after it.
    pad = "p" * (16384 - 420)
    gruu = "<sip:alice@example.net;opaque=user:epid:" + "Q" * 200 + ";gruu>"
    send(ALICE, carol_host, invite_line, 7, '"Alice" <sip:alice@example.net>;tag=3e4f5a6b', carol, "1 INVITE",
         [("X-Padding", pad), ("Contact", gruu), ("User-Agent", ALICE_AGENT)], cid="f00dbabe1234@10.20.0.11")

    # The registrar hands out the GRUU as a Contact parameter (RFC 5627 section 5.1, as OCS does).
    reg_from = "<sip:alice@example.net>;tag=5a6b7c8d;epid=01c2d3e4f5"
    reg_to, reg_cid = "<sip:alice@example.net>", "77aa88bb99cc@10.20.0.11"
    instance = '+sip.instance="<urn:uuid:0f6c7e41-5d2b-5a6b-9f3e-1a2b3c4d5e6f>"'
    send(ALICE, carol_host, "REGISTER sip:example.net SIP/2.0", 8, reg_from, reg_to, "1 REGISTER",
         [("Contact", f"<sip:10.20.0.11:5060;transport=udp>;{instance}"), ("User-Agent", ALICE_AGENT)], cid=reg_cid)
    send(carol_host, ALICE, "SIP/2.0 200 OK", 8, reg_from, reg_to + ";tag=2b3c4d5e", "1 REGISTER",
         [("Contact", f'<sip:10.20.0.11:5060;transport=udp>;expires=3600;{instance};'
                      'gruu="sip:alice@example.net;opaque=user:epid:Zk9x2Lw7QmSd3VbN1HcE4gAA;gruu"')], cid=reg_cid)
    return story


# --- Bad input: one call, each response carrying one broken header. -----------------------------

BAD_DIAGNOSTICS = [
    ("ms-diagnostics", 'abc;reason="Request was proxied to one or more registered endpoints";source="R2EE01.uclab.org"'),
    ("ms-diagnostics", '13004;reason="Request was proxied to one or more registered endpoints;source="R2EE01.uclab.org'),
    ("ms-diagnostics-public", '13004.x;reason="Request was proxied";source="R2EE01.uclab.org"'),
    ("ms-diagnostics", ""),
    ("ms-diagnostics", '13004;reason="' + "Request was proxied to one or more registered endpoints. " * 40 +
     '";source="R2EE01.uclab.org"'),
    ("ms-diagnostics-public", '99999999999;reason="ErrorId over 32 bits"'),
]


def bad_diagnostics():
    """The field case's INVITE answered by six 101 Progress Reports, each with one broken header."""
    story = Story(utc(14, 20, 0.1))
    conn = TcpConnection(story, MARINO, MARINO_PORT, EDGE, EDGE_PORT, rtt=0.004).handshake()
    story.advance(0.010)
    conn.send(CLIENT, invite())
    for n, (name, value) in enumerate(BAD_DIAGNOSTICS):
        story.advance(0.030)
        conn.send(SERVER, response(101, "Progress Report", "1 INVITE", "<sip:izabelaf@uclab.org>",
                                   [(name, value), ("Server", "InboundRouting/3.5.0.0")], snum=30 + n))
    return story


def bad_epid():
    """The field case's INVITE, then 183s whose To epid or Contact GRUU epid is broken, and one To header
    with an epid that is not a SIP address at all."""
    story = Story(utc(14, 30, 0.1))
    conn = TcpConnection(story, MARINO, MARINO_PORT, EDGE, EDGE_PORT, rtt=0.004).handshake()
    story.advance(0.010)
    conn.send(CLIENT, invite())
    broken = [
        ("<sip:izabelaf@uclab.org>;epid;tag=c34587eaa8", endpoint_contact(OC)),
        ("<sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d",
         "<sip:izabelaf@uclab.org;opaque=user:epid:;gruu>"),
        ("<sip:izabelaf@uclab.org;epid=2798f0b3cc;tag=5f00ba11", endpoint_contact(PHONE)),
    ]
    for n, (to, contact) in enumerate(broken):
        story.advance(0.300)
        conn.send(SERVER, response(183, "Session Progress", "1 INVITE", to,
                                   [("Record-Route", RECORD_ROUTE), ("Contact", contact), ("User-Agent", OC_AGENT)],
                                   snum=40 + n))
    return story


def many_diagnostics(count=600):
    """Hostile shape of issue 14: the field case's INVITE answered by one 101 Progress Report with count
    ms-diagnostics headers, the last one ms-diagnostics-public. Each is decoded by mssip through SIP's
    sip.hdr table; none may add a protocol layer (Wireshark stops at 500)."""
    story = Story(utc(14, 40, 0.1))
    conn = TcpConnection(story, MARINO, MARINO_PORT, EDGE, EDGE_PORT, rtt=0.004).handshake()
    story.advance(0.010)
    conn.send(CLIENT, invite())
    story.advance(0.030)
    diags = [("ms-diagnostics", f'{1000 + i};reason="Header {i}";source="R2EE01.uclab.org"') for i in range(1, count)]
    diags.append(("ms-diagnostics-public", DIAG_13004))
    conn.send(SERVER, response(101, "Progress Report", "1 INVITE", "<sip:izabelaf@uclab.org>",
                               [*diags, ("Server", "InboundRouting/3.5.0.0")], snum=50))
    return story


CAPTURES = {
    "mssip_ocs_mpop_call.pcap": field_case_story,
    "mssip_ocs_single_endpoint.pcap": lambda: field_case_story(fork=False),
    "mssip_three_endpoint_fork.pcap": lambda: fork_story(BOB_ENDPOINTS),
    "mssip_compact_fork.pcap": lambda: fork_story(BOB_ENDPOINTS[:2], compact=True,
                                                  call_id="9e4d2b6a0c8f1e3d5b7a@10.20.0.11"),
    "mssip_long_texts_fork.pcap": lambda: fork_story(LONG_ENDPOINTS, call_id="5b1e0c7d9a2f4e6b8c3d@10.20.0.11",
                                                     terminated="Request Terminated " + "by the far end " * 12),
    "mssip_plain_call.pcap": plain_call,
    "mssip_fork_lookalikes.pcap": fork_lookalikes,
    "mssip_diagnostics_error.pcap": diagnostics_error,
    "mssip_bad_diagnostics.pcap": bad_diagnostics,
    "mssip_bad_epid.pcap": bad_epid,
    "mssip_bad_many_diagnostics.pcap": many_diagnostics,
}


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        start = time.perf_counter()
        for host in (MARINO, EDGE, ALICE, PROXY, DESK, MOBILE, SOFT):
            host.restart()
        story = build()
        story.write(os.path.join(outdir, name))
        print(f"{name}: {len(story.frames)} frames in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
