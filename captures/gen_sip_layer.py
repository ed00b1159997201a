#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the SIP-layer truth captures (issue 15) into captures/ or OUTDIR.

Each capture reproduces one real-world pattern where a finding that depends on SIP transaction or dialog
identity came out untrue on third-party captures (../shared/captures-public2), with the shapes of those
captures (header sets, transports, timing), and beside it a healthy twin where the genuine finding must
still fire:

- siplayer_register_forwarded: a proxy forwards a phone's REGISTER from TCP to UDP with a new top Via
  branch (heplify sip_ipv4_tcp_retrans, frames 28-36), plus a genuine UDP retransmission of another
  phone's REGISTER with RFC 3261 timer E back-off 0.5, 1, 2 s (goffinet private-test-sip, frames 51-57);
- siplayer_register_tcp_200_retransmission: the proxy's 200 OK to a REGISTER retransmitted by TCP, in the
  opposite direction (heplify sip_ipv4_tcp_retrans, frame 38), plus the REGISTER's own segment
  retransmitted;
- siplayer_register_reflected: a REGISTER coming back to the phone 0.1 ms later, quoted in an ICMP port
  unreachable (goffinet private-test-sip, frames 1-2) and echoed as a UDP datagram with the addresses
  swapped, plus a genuine retransmission 0.5 s after the original;
- siplayer_cancel_proxy_tag: a 200 OK to CANCEL that the proxy answers with its own To tag (wswiki
  DTMFsipinfo, frames 12 and 15), on calls that reached one endpoint, plus a genuine fork;
- siplayer_notify_corrupt_totag: an SBC's subscriptions where a second PBX node sends NOTIFYs whose To tag
  has corrupt bytes (heplify erspan_sip_ipv4_udp, frames 22 and 40), plus correct NOTIFYs;
- siplayer_b2bua_totag_change and siplayer_fork_proxy: a B2BUA that changes its To tag between 180 and
  200 (heplify sip_ipv4_tcp_fragmented, Avaya CM, frames 178/184/234), and a genuine fork by a forking
  proxy, both seen at the caller.

Output is deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_sip_layer.py [OUTDIR]
"""
import calendar
import email.utils
import hashlib
import os
import sys

from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, sip_message, sip_response  # noqa: E402


def utc(year, month, day, hour, minute, second):
    return calendar.timegm((year, month, day, hour, minute, 0)) + second


def hexid(*parts, size=8):
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:size]


def date(story):
    return email.utils.formatdate(story.wallclock, usegmt=True)


def restart(*hosts):
    for h in hosts:
        h.restart()


# --- (a), (b): MicroSIP over TCP to a proxy that forwards over UDP (heplify sip_ipv4_tcp_retrans) ------

MICROSIP = Host("172.168.0.252", "00:50:56:c0:00:08", ttl=128, window=17520)
PROXY = Host("172.168.0.228", "00:0c:29:4d:1b:33", ttl=64, window=45056)
REGISTRAR = Host("172.168.0.227", "00:0c:29:8e:02:71", ttl=64, window=29200)
PJSUA_B = Host("172.168.0.240", "00:0c:29:de:39:d6", ttl=64, window=29200)
MS_PORT, FWD_PORT = 52795, 5160
MS_CALL = "1c35908a84584771bcc93bd496e0a852"
MS_TAG = "c69b435a212843d7a890301738a3e16a"
MS_ALLOW = "PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS"
MS_INSTANCE = '+sip.instance="<urn:uuid:00000000-0000-0000-0000-00009314fa8a>"'
UAS_ALLOW = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE"
NONCE = "113e25a8"


def ms_authorization(cseq):
    return (f'Digest username="1001", realm="user", nonce="{NONCE}", uri="sip:172.168.0.228;transport=tcp", '
            f'response="{hexid("resp", cseq, size=32)}", algorithm=MD5')


def ms_register(cseq, auth=False):
    """MicroSIP 3.14.5's REGISTER to the proxy over TCP, header for header as in the heplify capture."""
    headers = [
        ("Via", f"SIP/2.0/TCP 172.168.0.252:{MS_PORT};rport;branch=z9hG4bKPj{hexid('ms', cseq, size=32)};alias"),
        ("Max-Forwards", "70"),
        ("From", f'"1001" <sip:1001@172.168.0.228>;tag={MS_TAG}'),
        ("To", '"1001" <sip:1001@172.168.0.228>'),
        ("Call-ID", MS_CALL),
        ("CSeq", f"{cseq} REGISTER"),
        ("User-Agent", "MicroSIP/3.14.5"),
        ("Supported", "outbound, path"),
        ("Contact", f'"1001" <sip:1001@172.168.0.252:{MS_PORT};transport=TCP;ob>;reg-id=1;{MS_INSTANCE}'),
        ("Expires", "300"),
        ("Allow", MS_ALLOW),
    ]
    if auth:
        headers.append(("Authorization", ms_authorization(cseq)))
    headers.append(("Content-Length", None))
    return sip_message("REGISTER sip:172.168.0.228;transport=tcp SIP/2.0", headers)


def forwarded_register(cseq, auth=False):
    """The proxy's copy of it over UDP from :5160: its own Via branch, From/To/Contact rewritten."""
    headers = [
        ("Via", f"SIP/2.0/UDP 172.168.0.228:{FWD_PORT};branch=z9hG4bK{hexid('fwd', cseq)};rport"),
        ("From", f'"1001" <sip:1001@172.168.0.227:5060>;tag={MS_TAG}'),
        ("To", "<sip:1001@172.168.0.227:5060>"),
        ("CSeq", f"{cseq} REGISTER"),
        ("Call-ID", MS_CALL),
        ("Max-Forwards", "70"),
        ("User-Agent", "MicroSIP/3.14.5"),
        ("Supported", "outbound, path"),
        ("Allow", MS_ALLOW),
    ]
    if auth:
        headers.append(("Authorization", ms_authorization(cseq)))
    headers += [
        ("Expires", "600"),
        ("Contact", f'"1001" <sip:1001@172.168.0.228:{FWD_PORT};rinstance=679d51c684c0959e;transport=udp>;'
                    f'{MS_INSTANCE};expires=600;reg-id=1'),
        ("Content-Length", None),
    ]
    return sip_message("REGISTER sip:172.168.0.227;transport=udp SIP/2.0", headers)


def uas_401(request, story, tag="as22245940", via_fix=None):
    return sip_response(request, 401, "Unauthorized", tag, [
        ("Server", "UAS/V1.3"), ("Allow", UAS_ALLOW), ("Supported", "replaces, timer"),
        ("WWW-Authenticate", f'Digest algorithm=MD5, realm="user", nonce="{NONCE}"')])


def uas_200(request, story, expires, contact, tag="as22245940"):
    return sip_response(request, 200, "OK", tag, [
        ("Server", "UAS/V1.3"), ("Allow", UAS_ALLOW), ("Supported", "replaces, timer"), ("Date", date(story)),
        ("Contact", f"{contact};expires={expires}"), ("Expires", str(expires))])


def received(message, rport):
    """The Via of a response as the registrar writes it (received= and rport= filled in)."""
    return message.replace(b";rport;", f";rport={rport};".encode()).replace(
        b";rport\r\n", f";received=172.168.0.228;rport={rport}\r\n".encode())


PHONE_CONTACT = f"<sip:1001@172.168.0.252:{MS_PORT};transport=TCP;ob>"
FWD_CONTACT = f"<sip:1001@172.168.0.228:{FWD_PORT};rinstance=679d51c684c0959e;transport=udp>"


def microsip_exchange(story, conn, cseq, forward, lost_200=None):
    """REGISTER/401/REGISTER+auth/200 on the phone's TCP connection; with forward, the proxy's UDP leg too.

    lost_200: seconds after which the proxy's TCP retransmits its 200 OK (the phone's ACK of it lost)."""
    first = ms_register(cseq)
    conn.send(CLIENT, first, ack=False)
    story.advance(0.000010)
    conn.ack(SERVER)
    if forward:
        story.at(story.now + 0.000252)
        fwd = forwarded_register(cseq)
        story.udp(PROXY, FWD_PORT, REGISTRAR, 5060, fwd)
        story.advance(0.000298)
        story.udp(REGISTRAR, 5060, PROXY, FWD_PORT, received(uas_401(fwd, story), FWD_PORT))
    story.advance(0.000060)
    conn.send(SERVER, received(uas_401(first, story), MS_PORT), ack=False)
    story.advance(0.001658)
    second = ms_register(cseq + 1, auth=True)
    conn.send(CLIENT, second, ack=False)
    if forward:
        story.advance(0.000155)
        fwd = forwarded_register(cseq + 1, auth=True)
        story.udp(PROXY, FWD_PORT, REGISTRAR, 5060, fwd)
        story.advance(0.000383)
        story.udp(REGISTRAR, 5060, PROXY, FWD_PORT, received(uas_200(fwd, story, 600, FWD_CONTACT), FWD_PORT))
    story.advance(0.000063)
    ok = conn.send(SERVER, received(uas_200(second, story, 60, PHONE_CONTACT), MS_PORT), ack=False)
    if lost_200 is None:
        story.advance(0.001)
        conn.ack(CLIENT)
        return
    story.advance(lost_200)
    conn.retransmit(ok[0])
    story.advance(0.001)
    conn.ack(CLIENT)


def pjsua_register(cseq, branch, call_id, tag, contact_host, registrar_host):
    """PJSUA 1.12's REGISTER over UDP (goffinet private-test-sip)."""
    return sip_message(f"REGISTER sip:{registrar_host} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {contact_host}:5060;rport;branch={branch}"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:telephone1@domain.xyz>;tag={tag}"),
        ("To", "<sip:telephone1@domain.xyz>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} REGISTER"),
        ("User-Agent", "PJSUA v1.12.0 Linux-4.2.0.35/x86_64/glibc-2.19"),
        ("Contact", f"<sip:telephone1@{contact_host}:5060;ob>"),
        ("Expires", "300"),
        ("Allow", "PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS"),
        ("Content-Length", None),
    ])


def pjsua_answer(story, registrar, phone, request, rport):
    """The registrar's 100 Trying and 200 OK (Expires 300) to a PJSUA REGISTER."""
    via_fixed = request.replace(b";rport;", f";rport={rport};received={phone.ip};".encode())
    story.udp(registrar, 5060, phone, 5060, sip_response(via_fixed, 100, "Trying", None))
    story.advance(0.025)
    contact = [v for n, v in _headers(request) if n == "Contact"][0]
    story.udp(registrar, 5060, phone, 5060, sip_response(via_fixed, 200, "OK", hexid("reg-tag", rport, size=10), [
        ("Contact", f"{contact};expires=300"), ("Expires", "300")]))


def _headers(message):
    head = message.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return [tuple(p.strip() for p in line.split(":", 1)) for line in head]


def timer_e(story, src, dst, payload, copies):
    """First transmission now, then copies at T1 = 0.5 s doubling (0.5, 1, 2 s after the previous)."""
    start = story.now
    story.udp(src, 5060, dst, 5060, payload)
    at, step = 0.0, 0.5
    for _ in range(copies):
        at += step
        step *= 2
        story.at(start + at)
        story.udp(src, 5060, dst, 5060, payload)


def story_register_forwarded():
    story = Story(utc(2017, 10, 8, 3, 28, 52.273735))
    restart(MICROSIP, PROXY, REGISTRAR, PJSUA_B)
    conn = TcpConnection(story, MICROSIP, MS_PORT, PROXY, 5060, rtt=0.000022).handshake()
    story.advance(0.008567)
    microsip_exchange(story, conn, 42942, forward=True)
    # Another phone registers directly over UDP; the registrar is slow: timer E fires three times.
    story.at(5.0)
    request = pjsua_register(7229, "z9hG4bKPjipmnBelTtlbg56l08HeQx6Vb1NkA1wXR", "jWmSogIBHrA.JKTSEm1jMmb-stMikPlB",
                             "wHnPP6OKJ1gvuYv1i9Tm7xSaYKprnXQ5", PJSUA_B.ip, REGISTRAR.ip)
    timer_e(story, PJSUA_B, REGISTRAR, request, 3)
    story.advance(0.000413)
    pjsua_answer(story, REGISTRAR, PJSUA_B, request, 5060)
    return story


def story_register_tcp_200_retransmission():
    """The phone's TCP leg only (captured at the phone): 200 OK retransmitted by the proxy's TCP, then the
    twin: a refresh whose own segment is lost and retransmitted."""
    story = Story(utc(2017, 10, 8, 3, 28, 52.273735))
    restart(MICROSIP, PROXY)
    conn = TcpConnection(story, MICROSIP, MS_PORT, PROXY, 5060, rtt=0.000022).handshake()
    story.advance(0.008567)
    microsip_exchange(story, conn, 42942, forward=False, lost_200=0.201)
    # MicroSIP refreshes 50 s later (60 s granted); the segment is lost, TCP retransmits after 0.3 s.
    story.at(50.0)
    refresh = ms_register(42944)
    seg = conn.send(CLIENT, refresh, ack=False)
    story.at(50.3)
    conn.retransmit(seg[0])
    story.advance(0.000010)
    conn.ack(SERVER)
    story.advance(0.000500)
    conn.send(SERVER, received(uas_200(refresh, story, 60, PHONE_CONTACT), MS_PORT), ack=False)
    story.advance(0.001)
    conn.ack(CLIENT)
    story.advance(2.0)
    conn.close(CLIENT)
    return story


# --- (c): a REGISTER reflected back to the phone (goffinet private-test-sip, frames 1-2) ----------------

PJSUA = Host("172.16.98.181", "00:0c:29:de:39:d6", ttl=64, window=29200)
PBX_102 = Host("172.16.98.102", "00:0c:29:31:b3:82", ttl=64, window=29200)


def icmp_port_unreachable(story, src, dst):
    """src's ICMP port unreachable to dst quoting the last frame's IP datagram, cut at 576 bytes in all
    (RFC 1812 section 4.3.2.3), TOS 0xc0 and no DF, as Linux sends it."""
    quoted = story.frames[-1][1][14:][:576 - 20 - 8]
    pkt = Ether(src=src.mac, dst=dst.mac) / IP(src=src.ip, dst=dst.ip, ttl=src.ttl, id=src.next_ip_id(),
                                               tos=0xc0, flags=0) / ICMP(type=3, code=3) / Raw(quoted)
    story._emit(bytes(pkt))


def story_register_reflected():
    story = Story(utc(2016, 5, 12, 21, 22, 18.083807))
    restart(PJSUA, PBX_102)
    # PJSUA registers while nothing listens on the PBX's port 5060: ICMP port unreachable 0.115 ms later.
    first = pjsua_register(30036, "z9hG4bKPjtZkac56zOflD9B26gWoWriEs0SleoAWh", "IOiwAY25qdAQ.a8V7Q0SIsinfV-2htcP",
                           "x0-REy8RDYBa24gHysNYPKDM4K-EvzFc", PJSUA.ip, "sip.domain.xyz")
    story.udp(PJSUA, 5060, PBX_102, 5060, first)
    story.at(0.000115)
    icmp_port_unreachable(story, PBX_102, PJSUA)
    # 64 s later: a device on the path echoes the REGISTER back (same bytes, addresses swapped) 0.1 ms
    # later; the PBX answers only the phone's timer E retransmission 0.5 s after the original.
    story.at(64.133112)
    second = pjsua_register(13934, "z9hG4bKPj9X61Daoln6VGBH4F57zsf4EmIkaeRIJ0", "i88n0mQilBdAHaOHgFQzYvq1n6Pk0Nwp",
                            "wHnPP6OKJ1gvuYv1i9Tm7xSaYKprnXQ5", PJSUA.ip, "sip.domain.xyz")
    start = story.now
    story.udp(PJSUA, 5060, PBX_102, 5060, second)
    story.at(start + 0.0001)
    story.udp(PBX_102, 5060, PJSUA, 5060, second)
    story.at(start + 0.5)
    story.udp(PJSUA, 5060, PBX_102, 5060, second)
    story.advance(0.000413)
    pjsua_answer(story, PBX_102, PJSUA, second, 5060)
    return story


# --- (d): CANCEL answered 200 OK with the proxy's own To tag (wswiki DTMFsipinfo) ----------------------

EKIGA = Host("178.45.73.241", "00:19:cb:53:db:77", ttl=128, window=65535)
SER = Host("213.192.59.75", "00:30:48:7e:5a:12", ttl=55, window=65535)
EKIGA_FROM = '"Ekiga" <sip:admind@iptel.org>;tag='
EKIGA_AGENT = "Ekiga/3.2.6"
SER_SERVER = "ser (3.2.0-dev2 (i386/linux))"
SEMS_AGENT = "Sip Express Media Server (1.1.1-aefe2 (x86_64/linux))"
SEMS_CONTACT = "<sip:echo@213.192.59.78:5080>"
SER_RR = "<sip:213.192.59.75;ftag={ftag};lr=on>"


class Udp:
    def __init__(self, story):
        self.story = story

    def send(self, src, dst, data, sport=5060, dport=5060):
        self.story.udp(src, sport, dst, dport, data)


def ekiga_request(method, uri, call_id, ftag, cseq, branch, port, to='<sip:echo@iptel.org>', headers=(), body=b""):
    return sip_message(f"{method} {uri} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 178.45.73.241:{port};branch={branch};rport"),
        ("Route", "<sip:iptel.org;lr>"),
        ("CSeq", f"{cseq} {method}"),
        ("Call-ID", call_id),
        ("From", EKIGA_FROM + ftag),
        ("To", to),
        ("Max-Forwards", "70"),
        ("User-Agent", EKIGA_AGENT),
        ("Contact", f'"Ekiga" <sip:admind@178.45.73.241:{port}>'),
        *headers,
        ("Content-Length", None),
    ], body)


def ekiga_sdp(session):
    return (f"v=0\r\no=- {session} 1 IN IP4 178.45.73.241\r\ns=Opal SIP Session\r\nc=IN IP4 178.45.73.241\r\n"
            "t=0 0\r\nm=audio 5064 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n").encode()


def sems_sdp():
    return ("v=0\r\no=sems 1 1 IN IP4 213.192.59.78\r\ns=session\r\nc=IN IP4 213.192.59.78\r\nt=0 0\r\n"
            "m=audio 10020 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n").encode()


def relayed(request, ftag):
    """A response as SER relays it: Ekiga's Via with received=, SER's Record-Route."""
    return request.replace(b";rport\r\n", b";rport=5060;received=178.45.73.241\r\n"), [
        ("Record-Route", SER_RR.format(ftag=ftag))]


def ser_trying(request):
    via_fixed = request.replace(b";rport\r\n", b";rport=5060;received=178.45.73.241\r\n")
    return sip_response(via_fixed, 100, "trying -- your call is important to us", None, [("Server", SER_SERVER)])


def from_sems(request, code, reason, tag, ftag, body=b""):
    via_fixed, rr = relayed(request, ftag)
    headers = rr + [("Contact", SEMS_CONTACT), ("Server", SEMS_AGENT)]
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return sip_response(via_fixed, code, reason, tag, headers, body)


def ser_cancel_ok(cancel, tag):
    """SER answers the CANCEL itself, hop by hop (RFC 3261 section 16.10), with its own To tag."""
    via_fixed = cancel.replace(b";rport\r\n", b";rport=5060;received=178.45.73.241\r\n")
    return sip_response(via_fixed, 200, "ok -- no more pending branches", tag, [("Server", SER_SERVER)])


def story_cancel_proxy_tag():
    story = Story(utc(2011, 3, 25, 13, 10, 4.0))
    restart(EKIGA, SER)
    net = Udp(story)
    # Call A: rings at SEMS (180, tag E), Ekiga cancels; SER answers the CANCEL with its own tag, SEMS 487s.
    cid, ftag = "a86060b-146f-e011-809a-0019cb53db77@admind", "bc86060b-146f-e011-809a-0019cb53db77"
    br = "z9hG4bK16a1230b-146f-e011-809a-0019cb53db77"
    invite = ekiga_request("INVITE", "sip:echo@iptel.org", cid, ftag, 1, br, 5060,
                           headers=[("Content-Type", "application/sdp")], body=ekiga_sdp(1))
    net.send(EKIGA, SER, invite)
    story.advance(0.088991)
    net.send(SER, EKIGA, ser_trying(invite))
    story.advance(0.310)
    net.send(SER, EKIGA, from_sems(invite, 180, "Ringing", "420976BC-4DB7D064000EE90C-B692BBB0", ftag))
    story.advance(4.0)
    cancel = ekiga_request("CANCEL", "sip:echo@iptel.org", cid, ftag, 1, br, 5060)
    net.send(EKIGA, SER, cancel)
    story.advance(0.085607)
    net.send(SER, EKIGA, ser_cancel_ok(cancel, "ab7f724f44d6a86dac492bd71f480906-9ab2"))
    story.advance(0.003)
    net.send(SER, EKIGA, from_sems(invite, 487, "Request Terminated", "420976BC-4DB7D064000EE90C-B692BBB0", ftag))
    story.advance(0.040)
    net.send(EKIGA, SER, ekiga_request("ACK", "sip:echo@iptel.org", cid, ftag, 1, br, 5060,
                                       to="<sip:echo@iptel.org>;tag=420976BC-4DB7D064000EE90C-B692BBB0"))
    # Call B (DTMFsipinfo, CSeq 2): the CANCEL crosses SEMS's 200 OK; SER answers the CANCEL with its own tag.
    story.at(20.0)
    cid, ftag = "b26f2c0b-146f-e011-809a-0019cb53db77@admind", "c26f2c0b-146f-e011-809a-0019cb53db77"
    br, port = "z9hG4bKb26f2c0b-146f-e011-809a-0019cb53db77", 1032
    invite = ekiga_request("INVITE", "sip:echo@iptel.org", cid, ftag, 2, br, port,
                           headers=[("Content-Type", "application/sdp")], body=ekiga_sdp(2))
    net.send(EKIGA, SER, invite, sport=port)
    story.advance(0.071752)
    cancel = ekiga_request("CANCEL", "sip:echo@iptel.org", cid, ftag, 2, br, port)
    net.send(EKIGA, SER, cancel, sport=port)
    story.advance(0.015495)
    net.send(SER, EKIGA, ser_trying(invite), dport=port)
    story.advance(0.002417)
    sems_tag = "52A1C0F0-4DB7D064000EE90C-B692BBB0"
    net.send(SER, EKIGA, from_sems(invite, 200, "OK", sems_tag, ftag, sems_sdp()), dport=port)
    story.advance(0.043280)
    net.send(EKIGA, SER, ekiga_request("ACK", "sip:echo@213.192.59.78:5080", cid, ftag, 2,
                                       "z9hG4bKdabb440b-146f-e011-809a-0019cb53db77", port,
                                       to=f"<sip:echo@iptel.org>;tag={sems_tag}"), sport=port)
    story.advance(0.024859)
    net.send(SER, EKIGA, ser_cancel_ok(cancel, "ab7f724f44d6a86dac492bd71f480906-4b6f"), dport=port)
    story.advance(7.0)
    bye = ekiga_request("BYE", "sip:echo@213.192.59.78:5080", cid, ftag, 3,
                        "z9hG4bK5217590f-146f-e011-809a-0019cb53db77", port, to=f"<sip:echo@iptel.org>;tag={sems_tag}")
    net.send(EKIGA, SER, bye, sport=port)
    story.advance(0.089831)
    net.send(SER, EKIGA, from_sems(bye, 200, "OK", None, ftag), dport=port)
    # Call C, the twin: a genuine fork by SER to two registered endpoints; both ring, the second answers.
    story.at(40.0)
    cid, ftag = "c3e8a10b-146f-e011-809a-0019cb53db77@admind", "d3e8a10b-146f-e011-809a-0019cb53db77"
    br = "z9hG4bKc3e8a10b-146f-e011-809a-0019cb53db77"
    invite = ekiga_request("INVITE", "sip:bob@iptel.org", cid, ftag, 1, br, 5060,
                           to="<sip:bob@iptel.org>", headers=[("Content-Type", "application/sdp")], body=ekiga_sdp(3))
    net.send(EKIGA, SER, invite)
    story.advance(0.088)
    net.send(SER, EKIGA, ser_trying(invite))
    via_fixed, rr = relayed(invite, ftag)
    story.advance(0.210)
    net.send(SER, EKIGA, sip_response(via_fixed, 180, "Ringing", "1f3e9a77", rr + [
        ("Contact", "<sip:bob@83.136.32.10:5060>"), ("User-Agent", "snom360/8.7.3.25")]))
    story.advance(0.130)
    net.send(SER, EKIGA, sip_response(via_fixed, 180, "Ringing", "as4d1c2e0b", rr + [
        ("Contact", "<sip:bob@91.121.64.7:5062;transport=udp>"), ("User-Agent", "Linphone/3.3.2 (eXosip2/3.3.0)")]))
    story.advance(3.2)
    net.send(SER, EKIGA, sip_response(via_fixed, 200, "OK", "as4d1c2e0b", rr + [
        ("Contact", "<sip:bob@91.121.64.7:5062;transport=udp>"), ("User-Agent", "Linphone/3.3.2 (eXosip2/3.3.0)"),
        ("Content-Type", "application/sdp")], sems_sdp().replace(b"213.192.59.78", b"91.121.64.7")))
    story.advance(0.041)
    net.send(EKIGA, SER, ekiga_request("ACK", "sip:bob@91.121.64.7:5062;transport=udp", cid, ftag, 1,
                                       "z9hG4bKe08c400b-146f-e011-809a-0019cb53db77", 5060,
                                       to="<sip:bob@iptel.org>;tag=as4d1c2e0b"))
    return story


# --- (e): NOTIFYs with a corrupt To tag at an SBC (heplify erspan_sip_ipv4_udp) ------------------------

ALU = Host("180.173.83.248", "00:80:9f:5a:71:e2", ttl=57, window=65535)       # Alcatel-Lucent 8001 phone
SBC_OUT = Host("101.231.48.19", "00:1e:67:2b:e0:26", ttl=64, window=65535)    # SBC, access side
SBC_IN = Host("192.168.1.222", "00:1e:67:2b:e0:27", ttl=64, window=65535)     # SBC, core side
OXE_A = Host("192.168.1.191", "00:80:9f:4e:c4:dc", ttl=64, window=65535)      # OmniPCX Enterprise, main
OXE_B = Host("192.168.1.198", "00:80:9f:4e:c4:de", ttl=64, window=65535)      # its second node
PHONE_PORT, SBC_PORT = 53221, 5260


def alu_subscribe(call_id, tag, cseq, to_tag=None):
    uri = "sip:101.231.48.19:5260;transport=udp" if to_tag else "sip:20008909@101.231.48.19:5260"
    return sip_message(f"SUBSCRIBE {uri} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 192.168.8.53:5860;branch=z9hG4bK-{hexid('alu', call_id, cseq)}-{hexid('v', cseq)};"
                f"received=180.173.83.248;rport={PHONE_PORT}"),
        ("From", f"<sip:20008909@101.231.48.19:5260>;tag={tag}"),
        ("To", "<sip:20008909@101.231.48.19:5260>" + (f";tag={to_tag}" if to_tag else "")),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} SUBSCRIBE"),
        ("Contact", "<sip:20008909@192.168.8.53:5860>"),
        ("Max-Forwards", "70"),
        ("Event", "user-profile"),
        ("Accept", "message/external-body, application/x-alu-user-profile+xml"),
        ("Expires", "1800"),
        ("User-Agent", "Alcatel-Lucent 8001 3.13.0"),
        ("Content-Length", None),
    ])


def sbc_subscribe(call_id, tag, cseq):
    return sip_message("SUBSCRIBE sip:20008909@192.168.1.191;transport=udp SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 192.168.1.222:5260;branch=z9hG4bK{hexid('sbc-sub', call_id, cseq, size=16)}"),
        ("From", f"<sip:20008909@192.168.1.191>;tag={tag}"),
        ("To", "<sip:20008909@192.168.1.191>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} SUBSCRIBE"),
        ("Contact", "<sip:192.168.1.222:5260;orig-user=20008909;transport=udp>"),
        ("Max-Forwards", "69"),
        ("Event", "user-profile"),
        ("Accept", "message/external-body, application/x-alu-user-profile+xml"),
        ("Expires", "1800"),
        ("Content-Length", None),
    ])


def oxe_notify(node, call_id, from_tag, to_tag, cseq):
    body = (b"Content-Type: message/external-body\r\n\r\n<?xml version=\"1.0\"?>\r\n"
            b"<user-profile><cfg href=\"http://192.168.1.191/8001/20008909.xml\"/></user-profile>\r\n")
    return sip_message("NOTIFY sip:192.168.1.222:5260;orig-user=20008909;transport=udp SIP/2.0", [
        ("Via", f"SIP/2.0/UDP {node.ip}:5060;branch=z9hG4bK{hexid('oxe', node.ip, call_id, cseq, size=16)}"),
        ("From", f"<sip:20008909@192.168.1.191>;tag={from_tag}"),
        ("To", f"<sip:20008909@192.168.1.191>;tag={to_tag}"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} NOTIFY"),
        ("Contact", f"<sip:{node.ip}:5060;transport=udp>"),
        ("Max-Forwards", "70"),
        ("Event", "user-profile"),
        ("Subscription-State", "active;expires=1800"),
        ("Content-Type", "text/plain"),
        ("Content-Length", None),
    ], body)


def sbc_notify(call_id, from_tag, to_tag, cseq):
    return sip_message("NOTIFY sip:20008909@192.168.8.53:5860 SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 101.231.48.19:5260;branch=z9hG4bK{hexid('sbc-ntf', call_id, cseq, size=16)}"),
        ("From", f"<sip:20008909@101.231.48.19:5260>;tag={from_tag}"),
        ("To", f"<sip:20008909@101.231.48.19:5260>;tag={to_tag}"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} NOTIFY"),
        ("Contact", "<sip:101.231.48.19:5260;transport=udp>"),
        ("Max-Forwards", "70"),
        ("Event", "user-profile"),
        ("Subscription-State", "active;expires=1800"),
        ("Content-Type", "text/plain"),
        ("Content-Length", None),
    ], b"Content-Type: message/external-body\r\n\r\n")


def corrupt(tag, cycle):
    """The second node's copy of the To tag: its last bytes overwritten, as in frames 22 (`&Sy`) and 40
    (`~`, a form feed, `pO`) of the erspan capture."""
    return tag[:-3] + "&Sy" if cycle == 1 else tag[:-4] + "~\x0cpO"


def story_notify_corrupt_totag():
    story = Story(utc(2018, 5, 11, 3, 4, 44.963))
    restart(ALU, SBC_OUT, SBC_IN, OXE_A, OXE_B)
    net = Udp(story)
    out = (ALU, PHONE_PORT, SBC_OUT, SBC_PORT)
    inner = (SBC_IN, SBC_PORT, OXE_A, 5060)

    def send(leg, data, reverse=False):
        a, ap, b, bp = leg
        if reverse:
            net.send(b, a, data, sport=bp, dport=ap)
        else:
            net.send(a, b, data, sport=ap, dport=bp)

    # Cycle 0: the second NOTIFY carries the right tags and the SBC (which lost the subscription) answers 481:
    # a true 481. Cycles 1 and 2: the PBX's second node sends a NOTIFY whose To tag is corrupt; the SBC
    # answers 481 (no such dialog). Cycle 3, the twin: every NOTIFY right and answered 200, refresh 202.
    # Each cycle the phone's in-dialog refresh 5 s later: 481 from the SBC in cycles 0-2 (it dropped the
    # access leg after the core leg broke), 202 in cycle 3.
    for cycle in range(4):
        t0 = 10.0 * cycle
        story.at(t0)
        call_id = f"bf{hexid('cid', cycle, size=4)}-0-16e4-5af571e2-{hexid('c2', cycle)}-5af571e2@101.231.48.19"
        phone_tag = f"be{hexid('pt', cycle, size=4)}-0-16e4-5af571e2-{hexid('pt2', cycle)}-5af571e2"
        sbc_tag = f"00E4EF38-{phone_tag}z9hG4bK-5af571e2-{hexid('st', cycle)}-{hexid('st2', cycle)}"
        oxe_tag = hexid("oxe-tag", cycle, size=32)
        sbc_out_tag = f"{hexid('sot', cycle).upper()}-5AF50162000DE6B8-EFAFA700"
        notify_cseq = 849226882 + 7919 * cycle
        sub = alu_subscribe(call_id, phone_tag, 1)
        send(out, sub)
        story.at(t0 + 0.002938)
        inner_sub = sbc_subscribe(call_id, sbc_tag, 1)
        send(inner, inner_sub)
        story.at(t0 + 0.004154)
        send(inner, sip_response(inner_sub, 202, "Accepted", oxe_tag, [("Expires", "1800"),
                                                                       ("Contact", "<sip:192.168.1.191:5060>")]),
             reverse=True)
        story.at(t0 + 0.004904)
        send(out, sip_response(sub, 202, "Accepted", sbc_out_tag, [("Expires", "1800"),
                                                                   ("Contact", "<sip:101.231.48.19:5260>")]),
             reverse=True)
        story.at(t0 + 0.006706)
        n1 = oxe_notify(OXE_A, call_id, oxe_tag, sbc_tag, notify_cseq)
        send(inner, n1, reverse=True)
        if cycle == 2:
            # As in frames 39-44 of the erspan capture: the second node's NOTIFY 1 ms after the first,
            # answered 481 before the first NOTIFY's 200 OK.
            story.at(t0 + 0.011067)
            n2 = oxe_notify(OXE_B, call_id, oxe_tag, corrupt(sbc_tag, cycle), notify_cseq + 1000)
            net.send(OXE_B, SBC_IN, n2, sport=5060, dport=SBC_PORT)
            story.at(t0 + 0.011546)
            net.send(SBC_IN, OXE_B, sip_response(n2, 481, "Call leg/Transaction does not exist", None),
                     sport=SBC_PORT, dport=5060)
        story.at(t0 + {2: 0.011567, 3: 0.026080}.get(cycle, 0.007779))
        n_out = sbc_notify(call_id, sbc_out_tag, phone_tag, 10)
        send(out, n_out, reverse=True)
        story.at(t0 + (0.080103 if cycle == 2 else 0.055044))
        send(out, sip_response(n_out, 200, "OK", None))
        story.at(t0 + (0.081370 if cycle == 2 else 0.055640))
        send(inner, sip_response(n1, 200, "OK", None))
        if cycle == 0:
            story.at(t0 + 1.961614)
            n2 = oxe_notify(OXE_A, call_id, oxe_tag, sbc_tag, notify_cseq + 1)
            send(inner, n2, reverse=True)
            story.at(t0 + 1.963003)
            send(inner, sip_response(n2, 481, "Call leg/Transaction does not exist", None))
        elif cycle == 1:
            story.at(t0 + 1.196319)
            n2 = oxe_notify(OXE_B, call_id, oxe_tag, corrupt(sbc_tag, cycle), notify_cseq + 1000)
            net.send(OXE_B, SBC_IN, n2, sport=5060, dport=SBC_PORT)
            story.at(t0 + 1.198949)
            net.send(SBC_IN, OXE_B, sip_response(n2, 481, "Call leg/Transaction does not exist", None),
                     sport=SBC_PORT, dport=5060)
        elif cycle == 3:
            story.at(t0 + 1.961614)
            n2 = oxe_notify(OXE_A, call_id, oxe_tag, sbc_tag, notify_cseq + 1)
            send(inner, n2, reverse=True)
            story.at(t0 + 1.963003)
            send(inner, sip_response(n2, 200, "OK", None))
        story.at(t0 + 4.993179)
        refresh = alu_subscribe(call_id, phone_tag, 2, to_tag=sbc_out_tag)
        send(out, refresh)
        story.at(t0 + 4.994141)
        if cycle < 3:
            send(out, sip_response(refresh, 481, "Call leg/Transaction does not exist", None), reverse=True)
        else:
            send(out, sip_response(refresh, 202, "Accepted", None, [("Expires", "1800")]), reverse=True)
    return story


# --- (f): a B2BUA changing its To tag between 180 and 200, and a genuine fork (heplify tcp_fragmented) -

FS_SBC = Host("10.186.207.1", "00:50:56:a1:07:01", ttl=64, window=29200)
AVAYA = Host("10.186.205.131", "00:04:0d:8a:05:31", ttl=64, window=29200)
FORKER = Host("10.186.205.140", "00:50:56:a1:05:40", ttl=64, window=29200)


def fs_invite(call_id, from_tag, cseq, branch, target, body):
    return sip_message(f"INVITE sip:4006@{target}:5060;transport=tcp SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 10.186.207.1:5060;branch={branch}"),
        ("Max-Forwards", "70"),
        ("From", f'"ES FS" <sip:3005@10.186.207.1>;tag={from_tag}'),
        ("To", f"<sip:4006@{target}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} INVITE"),
        ("Contact", "<sip:3005@10.186.207.1:5060;transport=tcp>"),
        ("User-Agent", "ES FS SBC"),
        ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, NOTIFY, PRACK"),
        ("Supported", "timer, path, replaces"),
        ("Content-Type", "application/sdp"),
        ("Content-Length", None),
    ], body)


def fs_ack(invite, to_tag, target_uri, cseq):
    headers = [(n, v) for n, v in _headers(invite) if n in ("From", "To", "Call-ID", "Max-Forwards")]
    headers = [(n, v + f";tag={to_tag}" if n == "To" else v) for n, v in headers]
    return sip_message(f"ACK {target_uri} SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 10.186.207.1:5060;branch=z9hG4bK{hexid('ack', to_tag, size=13)}"),
        *headers, ("CSeq", f"{cseq} ACK"), ("Content-Length", None)])


def offer_sdp():
    return (b"v=0\r\no=FreeSWITCH 1630000000 1630000001 IN IP4 10.186.207.1\r\ns=FreeSWITCH\r\n"
            b"c=IN IP4 10.186.207.1\r\nt=0 0\r\nm=audio 24010 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            b"a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n")


def answer_sdp(ip):
    return (f"v=0\r\no=- 1 2 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio 2048 RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n").encode()


def story_b2bua_totag_change():
    """Avaya CM R016x as a B2BUA: 180 (sent twice) with one To tag, 200 OK with another, both from the same
    Contact and Record-Route (its own address); the caller's Via is the only Via on every response."""
    story = Story(utc(2021, 8, 26, 18, 39, 1.0))
    restart(FS_SBC, AVAYA)
    conn = TcpConnection(story, FS_SBC, 45123, AVAYA, 5060, rtt=0.0004).handshake()
    story.advance(0.002)
    invite = fs_invite("fa8ec971-f325-409a-bcf2-c9af49d26d8e", "8eUvj0Q6Hg1aD", 125660934,
                       "z9hG4bKvHmH6Btgv6y7e", AVAYA.ip, offer_sdp())
    conn.send(CLIENT, invite)
    story.advance(0.012)
    own = [("Record-Route", "<sip:10.186.205.131:5060;transport=tcp;lr>"),
           ("Contact", "<sip:10.186.205.131:5060;transport=tcp>"), ("Server", "Avaya CM/R016x.01.0.890.0")]
    conn.send(SERVER, sip_response(invite, 100, "Trying", None, [("Server", "Avaya CM/R016x.01.0.890.0")]))
    story.advance(0.180)
    ringing = sip_response(invite, 180, "Ringing", "806d2316592e8156b15b37b77600",
                           own[:1] + [(own[1][0], own[1][1] + ";+avaya-cm-keep-mpro=no"), own[2]])
    conn.send(SERVER, ringing)
    story.advance(1.530)
    conn.send(SERVER, ringing)
    story.advance(6.204)
    conn.send(SERVER, sip_response(invite, 200, "OK", "06034346592e8162b15b37b77600",
                                   own + [("Content-Type", "application/sdp")], answer_sdp(AVAYA.ip)))
    story.advance(0.003)
    conn.send(CLIENT, fs_ack(invite, "06034346592e8162b15b37b77600", "sip:10.186.205.131:5060;transport=tcp",
                             125660934))
    return story


def story_fork_proxy():
    """The twin: a record-routing forking proxy sends the same INVITE to two registered endpoints; each
    rings with its own To tag and Contact, the second answers. Seen at the caller: one Via, the proxy's
    Record-Route on every response, two Contacts."""
    story = Story(utc(2021, 8, 26, 18, 45, 1.0))
    restart(FS_SBC, FORKER)
    conn = TcpConnection(story, FS_SBC, 45125, FORKER, 5060, rtt=0.0004).handshake()
    story.advance(0.002)
    invite = fs_invite("0ce9b153-e5f0-419c-83f4-654f1781a0bb", "Kp3Q9m2Xy7ZtB", 125660935,
                       "z9hG4bKU8tr4g9cZX8mK", FORKER.ip, offer_sdp())
    conn.send(CLIENT, invite)
    story.advance(0.012)
    conn.send(SERVER, sip_response(invite, 100, "Trying", None, [("Server", "OpenSIPS (3.1.2 (x86_64/linux))")]))
    rr = ("Record-Route", "<sip:10.186.205.140:5060;transport=tcp;lr;ftag=Kp3Q9m2Xy7ZtB>")
    desk = [rr, ("Contact", "<sip:4006@10.186.205.151:5060;transport=tcp>"), ("User-Agent", "Avaya one-X Deskphone")]
    soft = [rr, ("Contact", "<sip:4006@10.186.205.152:5060;transport=tcp>"), ("User-Agent", "Avaya Workplace")]
    story.advance(0.180)
    conn.send(SERVER, sip_response(invite, 180, "Ringing", "a1b2c3d4e5f60718", desk))
    story.advance(0.090)
    conn.send(SERVER, sip_response(invite, 180, "Ringing", "9f8e7d6c5b4a3921", soft))
    story.advance(7.640)
    conn.send(SERVER, sip_response(invite, 200, "OK", "9f8e7d6c5b4a3921",
                                   soft + [("Content-Type", "application/sdp")], answer_sdp("10.186.205.152")))
    story.advance(0.003)
    conn.send(CLIENT, fs_ack(invite, "9f8e7d6c5b4a3921", "sip:4006@10.186.205.152:5060;transport=tcp", 125660935))
    return story


CAPTURES = {
    "siplayer_register_forwarded.pcap": story_register_forwarded,
    "siplayer_register_tcp_200_retransmission.pcap": story_register_tcp_200_retransmission,
    "siplayer_register_reflected.pcap": story_register_reflected,
    "siplayer_cancel_proxy_tag.pcap": story_cancel_proxy_tag,
    "siplayer_notify_corrupt_totag.pcap": story_notify_corrupt_totag,
    "siplayer_b2bua_totag_change.pcap": story_b2bua_totag_change,
    "siplayer_fork_proxy.pcap": story_fork_proxy,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, make in CAPTURES.items():
        make().write(os.path.join(out, name))
        print(name)


if __name__ == "__main__":
    main()
