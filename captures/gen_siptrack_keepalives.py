#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the siptrack keepalive captures (field case 004, Cisco TAC) into captures/ or OUTDIR.

Field case 004 describes three keepalives: SIP REGISTER refreshes (Expires 3600 asked, 120 granted by
CUCM, refreshed every 115 s), REGISTERs with Expires 0 and `cisco-keep-alive` to the backup CUCM, and
SCCP KeepAlives (every 30 s to the primary, answered KeepAliveAck; every 60 s to the backup, acknowledged
by TCP only; failover after three missed). Its case study 2 is a Cisco 8961 whose REGISTER keepalives
were dropped by a switch (port security ageing of one minute): every refresh was lost and retransmitted
by TCP with a back-off growing across keepalives (the seed's trace shows 0.418, 0.838, 1.69, 3.37, 6.70 s,
the text 14 s then 28 s); with 28 s the refresh came later than CUCM's 15 s grace, CUCM unregistered the
phone, which registered with the secondary and came back two minutes later: a 16-minute cycle. The
captures are taken on the phone side (the dropped originals are in them, as in the seed's trace). RFC 5626
CRLF keepalives complete the set. Output is deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_siptrack_keepalives.py [OUTDIR]
"""
import calendar
import email.utils
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, sip_message, sip_response  # noqa: E402

SIP_PORT, SCCP_PORT = 5060, 2000


def utc(year, month, day, hour, minute, second):
    return calendar.timegm((year, month, day, hour, minute, 0)) + second


def hexid(*parts, size=8):
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:size]


def date(story):
    return email.utils.formatdate(story.wallclock, usegmt=True)


class CiscoPhone:
    """A Cisco SIP phone registering over TCP: its identity and REGISTER in the seed's header order."""

    def __init__(self, host, port, line, mac, model, user_agent, model_code):
        self.host, self.port, self.line, self.mac = host, port, line, mac.lower()
        self.model, self.user_agent, self.model_code = model, user_agent, model_code
        self.cseq = 101
        self.uuid = "e2b0f175-feae-d664-befa-" + hexid("contact", mac, size=12)

    def contact(self, port, extra=""):
        return (f"<sip:{self.uuid}@{self.host.ip}:{port};transport=tcp>;"
                f'+sip.instance="<urn:uuid:00000000-0000-0000-0000-{self.mac}>";'
                f'+u.sip!devicename.ccm.cisco.com="SEP{self.mac.upper()}";'
                f'+u.sip!model.ccm.cisco.com="{self.model_code}"{extra}')

    def register(self, story, registrar, call_id, port=None, expires=3600, keepalive=False):
        port = port or self.port
        self.cseq += 1
        extra = ";expires=0;cisco-keep-alive" if keepalive else ""
        headers = [
            ("Via", f"SIP/2.0/TCP {self.host.ip}:{port};branch=z9hG4bK{hexid('branch', call_id, self.cseq)}"),
            ("From", f"<sip:{self.line}@{registrar.ip}>;tag={self.mac}{hexid('tag', call_id)}-{hexid('t2', call_id)}"),
            ("To", f"<sip:{self.line}@{registrar.ip}>"),
            ("Call-ID", call_id),
            ("Max-Forwards", "70"),
            ("Date", date(story)),
            ("CSeq", f"{self.cseq} REGISTER"),
            ("User-Agent", self.user_agent),
            ("Contact", self.contact(port, extra)),
            ("Supported", "replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
                          "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
                          "X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1"),
            ("Content-Length", None),
            ("Expires", str(0 if keepalive else expires)),
        ]
        return sip_message(f"REGISTER sip:{registrar.ip} SIP/2.0", headers)

    def ok(self, story, request, granted, registrar_tag):
        """CUCM's 200 OK: Expires and the Contact with the granted expiry, as in the seed."""
        contact = [v for n, v in _headers(request) if n == "Contact"][0]
        if ";expires=" not in contact:
            contact += f";expires={granted}"
        return sip_response(request, 200, "OK", registrar_tag,
                            [("Date", date(story)), ("Expires", str(granted)), ("Contact", contact),
                             ("Supported", "X-cisco-srtp-fallback,X-cisco-sis-6.0.0")])


def _headers(message):
    head = message.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return [tuple(p.strip() for p in line.split(":", 1)) for line in head]


def trying(story, request):
    return sip_response(request, 100, "Trying", None, [("Date", date(story))])


def exchange(story, conn, phone, request, granted, tag, lost=None):
    """REGISTER, (its loss and the TCP retransmission after `lost` seconds), ACK, 100 Trying, 200 OK."""
    seg = conn.send(CLIENT, request, ack=lost is None)
    if lost is not None:
        story.advance(lost)
        conn.retransmit(seg[0], ack=True)
    story.advance(0.0015)
    conn.send(SERVER, trying(story, request))
    story.advance(0.0004)
    conn.send(SERVER, phone.ok(story, request, granted, tag))


# --- Field case 004, case study 2: the 8961 dropped every 16 minutes -----------------------------------

PHONE_8961 = Host("10.147.230.189", "00:1e:4a:34:8b:61", ttl=64, window=17940)
PRIMARY = Host("178.215.139.22", "00:50:56:8a:11:22", ttl=62, window=22559)
SECONDARY = Host("178.215.139.23", "00:50:56:8a:11:23", ttl=62, window=22559)
# The phone's TCP back-off on each lost keepalive: the seed's trace (0.418 ... 6.70 s) and text (14 s, 28 s).
BACKOFF = [0.209, 0.418, 0.838, 1.69, 3.37, 6.70, 14.0, 28.0]


def phone_8961():
    return CiscoPhone(PHONE_8961, 50708, "4563", "001E4A348B61", "8961", "Cisco-CP8961/9.4.2", "540")


def story_8961(cycles):
    """Registration, lost refreshes until the lapse, failover to the secondary, fallback two minutes later."""
    story = Story(utc(2015, 7, 2, 22, 40, 0))
    for h in (PHONE_8961, PRIMARY, SECONDARY):
        h.restart()
    phone = phone_8961()
    # The standing connection to the secondary, where the phone sends its keepalive REGISTERs.
    backup = TcpConnection(story, PHONE_8961, 50709, SECONDARY, SIP_PORT, rtt=0.015).handshake()
    backup_call = f"001e4a34-8b610002-{hexid('b-call')}-{hexid('b2')}@{PHONE_8961.ip}"
    port = 50708
    for cycle in range(cycles):
        story.advance(0.5)
        primary = TcpConnection(story, PHONE_8961, port, PRIMARY, SIP_PORT, rtt=0.015).handshake()
        call = f"001e4a34-8b61{cycle:04x}-{hexid('call', cycle)}-{hexid('c2', cycle)}@{PHONE_8961.ip}"
        exchange(story, primary, phone, phone.register(story, PRIMARY, call, port=port), 120, f"17{cycle}8299782")
        last_ok = story.now
        story.advance(0.3)
        exchange(story, backup, phone,
                 phone.register(story, SECONDARY, backup_call, port=50709, keepalive=True), 0, "1708299790")
        for lost in BACKOFF:
            story.at(last_ok + 115.0)
            request = phone.register(story, PRIMARY, call, port=port)
            if lost < 28.0:
                exchange(story, primary, phone, request, 120, f"17{cycle}8299782", lost=lost)
                last_ok = story.now
                continue
            # 28 s: past CUCM's 15 s grace. CUCM has unregistered the phone; it takes the segment and
            # closes the connection, and the phone registers with the secondary.
            seg = primary.send(CLIENT, request, ack=False)
            story.advance(lost)
            primary.retransmit(seg[0], ack=True)
            story.advance(0.2)
            primary.close(SERVER)
        story.advance(1.0)
        exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709), 120, "1708299790")
        switched = story.now
        story.at(switched + 115.0)
        exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709), 120, "1708299790")
        story.at(switched + 120.0)
        port += 2
    # Back to the primary after the last cycle, keepalive to the secondary again.
    primary = TcpConnection(story, PHONE_8961, port, PRIMARY, SIP_PORT, rtt=0.015).handshake()
    call = f"001e4a34-8b61{cycles:04x}-{hexid('call', cycles)}-{hexid('c2', cycles)}@{PHONE_8961.ip}"
    exchange(story, primary, phone, phone.register(story, PRIMARY, call, port=port), 120, "1708299799")
    story.advance(0.3)
    exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709, keepalive=True),
             0, "1708299790")
    return story


def story_8961_healthy(hours):
    """The same phone on a healthy switch port: on-time refreshes every 115 s for hours."""
    story = Story(utc(2015, 7, 2, 8, 0, 0))
    for h in (PHONE_8961, PRIMARY, SECONDARY):
        h.restart()
    phone = phone_8961()
    backup = TcpConnection(story, PHONE_8961, 50709, SECONDARY, SIP_PORT, rtt=0.015).handshake()
    primary = TcpConnection(story, PHONE_8961, 50708, PRIMARY, SIP_PORT, rtt=0.015).handshake()
    call = f"001e4a34-8b610001-{hexid('healthy')}-{hexid('h2')}@{PHONE_8961.ip}"
    backup_call = f"001e4a34-8b610002-{hexid('b-call')}-{hexid('b2')}@{PHONE_8961.ip}"
    exchange(story, primary, phone, phone.register(story, PRIMARY, call), 120, "1708299782")
    last_ok = story.now
    story.advance(0.3)
    exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709, keepalive=True),
             0, "1708299790")
    while story.now < hours * 3600:
        story.at(last_ok + 115.0)
        exchange(story, primary, phone, phone.register(story, PRIMARY, call), 120, "1708299782")
        last_ok = story.now
    return story


def story_8961_switch_no_lapse():
    """The 8961 on a healthy port while the primary CUCM restarts: the primary closes the connection 30 s
    after an on-time refresh, the phone registers with the secondary at once and with the primary again
    when it is back two minutes later. Two registrar switches with no lapse behind them."""
    story = Story(utc(2015, 7, 3, 8, 0, 0))
    for h in (PHONE_8961, PRIMARY, SECONDARY):
        h.restart()
    phone = phone_8961()
    backup = TcpConnection(story, PHONE_8961, 50709, SECONDARY, SIP_PORT, rtt=0.015).handshake()
    primary = TcpConnection(story, PHONE_8961, 50708, PRIMARY, SIP_PORT, rtt=0.015).handshake()
    call = f"001e4a34-8b610001-{hexid('restart')}-{hexid('r2')}@{PHONE_8961.ip}"
    backup_call = f"001e4a34-8b610002-{hexid('b-call')}-{hexid('b2')}@{PHONE_8961.ip}"
    exchange(story, primary, phone, phone.register(story, PRIMARY, call), 120, "1708299782")
    last_ok = story.now
    story.advance(0.3)
    exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709, keepalive=True),
             0, "1708299790")
    story.at(last_ok + 115.0)
    exchange(story, primary, phone, phone.register(story, PRIMARY, call), 120, "1708299782")
    story.advance(30.0)
    primary.close(SERVER)
    story.advance(1.0)
    exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709), 120, "1708299790")
    story.advance(120.0)
    primary = TcpConnection(story, PHONE_8961, 50710, PRIMARY, SIP_PORT, rtt=0.015).handshake()
    call = f"001e4a34-8b610003-{hexid('restart', 2)}-{hexid('r3')}@{PHONE_8961.ip}"
    exchange(story, primary, phone, phone.register(story, PRIMARY, call, port=50710), 120, "1708299783")
    story.advance(0.3)
    exchange(story, backup, phone, phone.register(story, SECONDARY, backup_call, port=50709, keepalive=True),
             0, "1708299790")
    return story


# --- Field case 004: the seed's primary and backup REGISTER traces -----------------------------------

PHONE_7975 = Host("10.106.114.185", "00:24:14:2d:df:24", ttl=64, window=8192)
CUCM_7975 = Host("10.106.114.161", "00:50:56:8a:0d:21", ttl=64, window=8192)
PHONE_B = Host("10.60.63.21", "e0:d1:73:0a:c1:b1", ttl=64, window=8192)
BACKUP_B = Host("10.60.1.12", "00:50:56:8a:0c:12", ttl=62, window=8192)

SEED_SUPPORTED = ("replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
                  "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
                  "X-cisco-monrec,X-cisco-config,X-cisco-sis-6.0.0,X-cisco-xsi-8.5.1")
SEED_CONTACT = ('<sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@10.106.114.185:53006;transport=tcp>;'
                '+sip.instance="<urn:uuid:00000000-0000-0000-0000-0024142ddf24>";'
                '+u.sip!devicename.ccm.cisco.com="SEP0024142DDF24";+u.sip!model.ccm.cisco.com="437"')
SEED_BACKUP_CONTACT = ('<sip:e2b0f175-feae-d664-befa-b7cd0837fcc6@10.60.63.21:5060;transport=TCP>;'
                       '+sip.instance="<urn:uuid:00000000-0000-0000-0000-e0d1730ac1b1>";'
                       '+u.sip!devicename.ccm.cisco.com="SEPE0D1730AC1B1";+u.sip!model.ccm.cisco.com="592";'
                       'expires=0;cisco-keep-alive')


def seed_primary_register(story, cseq, branch):
    """The seed's 7975G REGISTER (CSeq 11435 in the seed), header for header."""
    return sip_message("REGISTER sip:10.106.114.161 SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 10.106.114.185:53006;branch={branch}"),
        ("From", "<sip:5678@10.106.114.161>;tag=0024142ddf242c6644b6e5d2-f01c795a"),
        ("To", "<sip:5678@10.106.114.161>"),
        ("Call-ID", "0024142d-df24000a-44da4e09-0de51424@10.106.114.185"),
        ("Max-Forwards", "70"),
        ("Date", date(story)),
        ("CSeq", f"{cseq} REGISTER"),
        ("User-Agent", "Cisco-CP7975G/9.3.1"),
        ("Contact", SEED_CONTACT),
        ("Supported", SEED_SUPPORTED),
        ("Content-Length", None),
        ("Expires", "3600"),
    ])


def seed_backup_register(cseq, branch):
    """The seed's keepalive REGISTER to the backup CUCM (CSeq 18800 in the seed), header for header."""
    return sip_message("REGISTER sip:10.60.1.12:5060;transport=tcp SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 10.60.63.21:3784;rport;branch={branch}"),
        ("Max-Forwards", "70"),
        ("From", "<sip:6836@10.60.1.12>;tag=5oI-ew53.DGjTDu5LB9orkdDpZlccNbv"),
        ("To", "<sip:6836@10.60.1.12>"),
        ("Call-ID", "HxTK.m6BH9qxjstVwexTbhVnUxNeuxle"),
        ("CSeq", f"{cseq} REGISTER"),
        ("Expires", "0"),
        ("Contact", SEED_BACKUP_CONTACT),
        ("Content-Length", None),
    ])


def story_seed_pair():
    """The seed's CUCM-side trace (REGISTERs at 18:12:59.366, 18:14:54.368, 18:16:49.400, sequence numbers
    from 2991995217 / 1953872619) and the second phone's keepalive REGISTERs to its backup, twice, 40 s
    after each of the first two."""
    story = Story(utc(2015, 7, 15, 18, 12, 59.2))
    for h in (PHONE_7975, CUCM_7975, PHONE_B, BACKUP_B):
        h.restart()
    primary = TcpConnection(story, PHONE_7975, 53006, CUCM_7975, SIP_PORT, rtt=0.012,
                            isn=(2991995216, 1953872618)).handshake()
    backup = TcpConnection(story, PHONE_B, 3784, BACKUP_B, SIP_PORT, rtt=0.004).handshake()
    times = [(0.166272, 11434), (115.168343, 11435), (230.200028, 11436)]
    for n, (at, cseq) in enumerate(times):
        story.at(at)
        request = seed_primary_register(story, cseq, "z9hG4bKd451a4fa" if cseq == 11435 else "z9hG4bK" + hexid("b", cseq))
        primary.send(CLIENT, request, ack=False)
        story.advance(0.000014)
        primary.send(SERVER, sip_response(request, 100, "Trying", None, [("Date", date(story))]), ack=False)
        story.advance(0.000572)
        primary.send(SERVER, sip_response(request, 200, "OK", "1708299782", [
            ("Date", date(story)), ("Expires", "120"), ("Contact", SEED_CONTACT),
            ("Supported", "X-cisco-srtp-fallback,X-cisco-sis-6.0.0")]), ack=False)
        story.advance(0.011388)
        primary.ack(CLIENT)
        if n < 2:
            story.at(at + 40.0)
            request = seed_backup_register(18800 + n, "z9hG4bKPjdcJ819aZtTctmvr0VBheV6p0uL8aC.pG" if n == 0
                                           else "z9hG4bKPj" + hexid("kb", n, size=31))
            backup.send(CLIENT, request)
            story.advance(0.002)
            backup.send(SERVER, sip_response(request, 200, "OK", "1008299001", [
                ("Contact", SEED_BACKUP_CONTACT.replace(";expires=0;cisco-keep-alive", ";expires=0"))]))
    return story


# --- Field case 004: SCCP keepalives to a primary and a backup, three missed, failover ----------------

SCCP_PHONE = Host("10.10.10.130", "58:0a:20:fb:07:1f", ttl=64, window=8760)
SCCP_PRIMARY = Host("10.10.10.202", "00:50:56:90:10:cf", ttl=128, window=64860)
SCCP_BACKUP = Host("10.10.10.203", "00:50:56:90:10:d0", ttl=128, window=64860)
SCCP_DEVICE = b"SEP580A20FB071F"


def skinny(message_id, data=b""):
    """One Skinny PDU: data length (message id included), header version 0, message id; little-endian."""
    return struct.pack("<III", 4 + len(data), 0, message_id) + data


def register_req():
    body = SCCP_DEVICE.ljust(16, b"\0") + struct.pack("<II", 0, 1) + bytes(map(int, SCCP_PHONE.ip.split(".")))
    body += struct.pack("<II", 115, 5)  # device type 115 (7941), 5 streams
    return skinny(0x0001, body.ljust(124, b"\0"))


def register_ack(interval=30, secondary=60):
    return skinny(0x0081, struct.pack("<I", interval) + b"M/D/YA\0\0" + struct.pack("<I", secondary) +
                  bytes([0x12, 0x00, 0x80, 0x28]))


KEEPALIVE, KEEPALIVE_ACK = skinny(0x0000), skinny(0x0100)


def sccp_keepalive(story, conn, answered):
    """The phone's KeepAlive; the primary answers KeepAliveAck, the backup only acknowledges at TCP level."""
    if answered:
        conn.send(CLIENT, KEEPALIVE, ack=False)
        story.advance(0.0008)
        conn.send(SERVER, KEEPALIVE_ACK, ack=False)
        story.advance(0.0004)
        conn.ack(CLIENT)
    else:
        conn.send(CLIENT, KEEPALIVE)


def story_sccp(failover):
    story = Story(utc(2015, 6, 18, 9, 30, 0))
    for h in (SCCP_PHONE, SCCP_PRIMARY, SCCP_BACKUP):
        h.restart()
    primary = TcpConnection(story, SCCP_PHONE, 49612, SCCP_PRIMARY, SCCP_PORT, rtt=0.0008).handshake()
    primary.send(CLIENT, register_req())
    story.advance(0.02)
    primary.send(SERVER, register_ack())
    story.advance(0.5)
    backup = TcpConnection(story, SCCP_PHONE, 49613, SCCP_BACKUP, SCCP_PORT, rtt=0.0008).handshake()
    start = story.now
    total = 300 if failover else 3600
    lost_from, lost_to = 175, 265  # the KeepAlives at 180, 210 and 240 s never reach the primary
    t = 0
    while t + 30 <= total:
        t += 30
        story.at(start + t)
        if failover and lost_from < t < lost_to:
            seg = primary.send(CLIENT, KEEPALIVE, ack=False)
            story.advance(0.4)
            primary.retransmit(seg[0])
        elif failover and t >= lost_to:
            break
        else:
            sccp_keepalive(story, primary, True)
        if t % 60 == 0:
            story.advance(0.05)
            sccp_keepalive(story, backup, False)
    if failover:
        # Three keepalive intervals without an answer: the phone gives up the primary, registers with
        # the backup, which becomes its primary (KeepAliveAck every 30 s).
        story.at(start + 270.5)
        primary.reset(CLIENT)
        story.advance(0.01)
        backup.send(CLIENT, register_req())
        story.advance(0.02)
        backup.send(SERVER, register_ack())
        for n in range(1, 3):
            story.at(start + 270.5 + 30 * n)
            sccp_keepalive(story, backup, True)
    return story


# --- RFC 5626 CRLF keepalives ------------------------------------------------------------------------

UA = Host("192.0.2.10", "02:00:5e:00:02:0a", ttl=64, window=65535)
EDGE = Host("198.51.100.5", "02:00:5e:00:64:05", ttl=60, window=65535)


def outbound_register(story, cseq, expires=3600, port=49152):
    return sip_message("REGISTER sip:example.com SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 192.0.2.10:{port};branch=z9hG4bK{hexid('ob', cseq)}"),
        ("Max-Forwards", "70"),
        ("From", "<sip:alice@example.com>;tag=7be2c6a0"),
        ("To", "<sip:alice@example.com>"),
        ("Call-ID", "8f0e1c3a-5d1b-4f0e-9b3c-1f2e3d4c5b6a"),
        ("CSeq", f"{cseq} REGISTER"),
        ("Supported", "path, outbound, gruu"),
        ("Contact", f'<sip:alice@192.0.2.10:{port};transport=tcp>;reg-id=1;'
                    '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'),
        ("Expires", str(expires)),
        ("Content-Length", None),
    ])


def story_crlf(missing):
    """A UA registered through an RFC 5626 edge proxy (Flow-Timer: 30) sends a double CRLF every 25 s."""
    story = Story(utc(2021, 3, 4, 10, 0, 0))
    for h in (UA, EDGE):
        h.restart()
    conn = TcpConnection(story, UA, 49152, EDGE, SIP_PORT, rtt=0.008).handshake()
    request = outbound_register(story, 1)
    conn.send(CLIENT, request)
    story.advance(0.03)
    conn.send(SERVER, sip_response(request, 200, "OK", "5b2c9e", [
        ("Require", "outbound"), ("Flow-Timer", "30"),
        ("Contact", '<sip:alice@192.0.2.10:49152;transport=tcp>;reg-id=1;'
                    '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";expires=3600')]))
    start = story.now
    # Pings at 25 s intervals; with `missing`, the third gets no pong and the fifth comes 40 s late.
    schedule = [25, 50, 75, 100, 140, 165] if missing else [25 * n for n in range(1, 13)]
    for n, t in enumerate(schedule):
        story.at(start + t)
        conn.send(CLIENT, b"\r\n\r\n", ack=not (missing and n == 2))
        if missing and n == 2:
            story.advance(0.008)
            conn.ack(SERVER)  # the edge proxy's TCP took it; its SIP layer never answered
            continue
        story.advance(0.009)
        conn.send(SERVER, b"\r\n")
    if missing:
        # The UA leaves: a de-registration (Expires 0, no cisco-keep-alive), then FIN.
        story.advance(5.0)
        request = outbound_register(story, 2, expires=0)
        conn.send(CLIENT, request)
        story.advance(0.03)
        conn.send(SERVER, sip_response(request, 200, "OK", "5b2c9e"))
        story.advance(0.5)
        conn.close(CLIENT)
    return story


def outbound_ok(request, port=49152):
    return sip_response(request, 200, "OK", "5b2c9e", [
        ("Require", "outbound"), ("Flow-Timer", "30"),
        ("Contact", f'<sip:alice@192.0.2.10:{port};transport=tcp>;reg-id=1;'
                    '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";expires=3600')])


def story_crlf_silent():
    """The edge proxy's SIP layer stops answering: after one answered ping, three in a row get only a TCP
    ACK. The UA then takes the flow as failed (RFC 5626 section 4.4.1), closes it and registers again on a
    new connection, whose first ping is answered."""
    story = Story(utc(2021, 3, 5, 10, 0, 0))
    for h in (UA, EDGE):
        h.restart()
    conn = TcpConnection(story, UA, 49152, EDGE, SIP_PORT, rtt=0.008).handshake()
    request = outbound_register(story, 1)
    conn.send(CLIENT, request)
    story.advance(0.03)
    conn.send(SERVER, outbound_ok(request))
    start = story.now
    for n in range(4):
        story.at(start + 25 * (n + 1))
        conn.send(CLIENT, b"\r\n\r\n", ack=n == 0)
        if n == 0:
            story.advance(0.009)
            conn.send(SERVER, b"\r\n")
        else:
            story.advance(0.008)
            conn.ack(SERVER)
    story.advance(10.5)
    conn.close(CLIENT)
    story.advance(0.5)
    again = TcpConnection(story, UA, 49153, EDGE, SIP_PORT, rtt=0.008).handshake()
    request = outbound_register(story, 2, port=49153)
    again.send(CLIENT, request)
    story.advance(0.03)
    again.send(SERVER, outbound_ok(request, port=49153))
    story.at(start + 140)
    again.send(CLIENT, b"\r\n\r\n")
    story.advance(0.009)
    again.send(SERVER, b"\r\n")
    return story


def story_udp():
    """The 8961's refresh over UDP instead: lost twice, retransmitted by SIP timer E (0.5 s, then 1 s)."""
    story = Story(utc(2015, 7, 2, 9, 0, 0))
    for h in (PHONE_8961, PRIMARY):
        h.restart()
    phone = phone_8961()
    call = f"001e4a34-8b610003-{hexid('udp')}-{hexid('u2')}@{PHONE_8961.ip}"

    def register():
        return phone.register(story, PRIMARY, call).replace(b"SIP/2.0/TCP", b"SIP/2.0/UDP").replace(
            b";transport=tcp>", b">")

    def answer(request):
        story.advance(0.012)
        story.udp(PRIMARY, SIP_PORT, PHONE_8961, 5060, trying(story, request))
        story.advance(0.0004)
        story.udp(PRIMARY, SIP_PORT, PHONE_8961, 5060, phone.ok(story, request, 120, "1708299782"))

    first = register()
    story.udp(PHONE_8961, 5060, PRIMARY, SIP_PORT, first)
    answer(first)
    story.advance(115.0)
    refresh = register()
    story.udp(PHONE_8961, 5060, PRIMARY, SIP_PORT, refresh)
    story.advance(0.5)
    story.udp(PHONE_8961, 5060, PRIMARY, SIP_PORT, refresh)
    story.advance(1.0)
    story.udp(PHONE_8961, 5060, PRIMARY, SIP_PORT, refresh)
    answer(refresh)
    return story


def story_long_aor():
    """Bad input: a UA whose address of record has a 300-character user part registers over UDP and
    de-registers. The de-registration chat names the address of record cut to 48 bytes (the field keeps it
    whole), so the message stays within the 200 characters the GUI label has room for."""
    story = Story(utc(2021, 3, 6, 10, 0, 0))
    for h in (UA, EDGE):
        h.restart()
    user = "long" + "x" * 296
    for cseq, expires in ((1, 3600), (2, 0)):
        request = sip_message("REGISTER sip:example.com SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{hexid('long', cseq)}"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{user}@example.com>;tag=4c1a9e"),
            ("To", f"<sip:{user}@example.com>"),
            ("Call-ID", "long-aor-5d1b4f0e@192.0.2.10"),
            ("CSeq", f"{cseq} REGISTER"),
            ("Contact", f"<sip:{user}@192.0.2.10:5060>"),
            ("Expires", str(expires)),
            ("Content-Length", None),
        ])
        story.udp(UA, SIP_PORT, EDGE, SIP_PORT, request)
        story.advance(0.02)
        story.udp(EDGE, SIP_PORT, UA, SIP_PORT, sip_response(request, 200, "OK", "9d2f01", [("Expires", str(expires))]))
        story.advance(60.0)
    return story


CAPTURES = {
    "siptrack_ka_8961_cycle.pcap": lambda: story_8961(2),
    "siptrack_ka_8961_healthy.pcap": lambda: story_8961_healthy(2),
    "siptrack_ka_seed_pair.pcap": story_seed_pair,
    "siptrack_ka_sccp_failover.pcap": lambda: story_sccp(True),
    "siptrack_ka_sccp_healthy.pcap": lambda: story_sccp(False),
    "siptrack_ka_crlf.pcap": lambda: story_crlf(True),
    "siptrack_ka_crlf_healthy.pcap": lambda: story_crlf(False),
    "siptrack_ka_udp_retransmission.pcap": story_udp,
    "siptrack_ka_8961_switch_no_lapse.pcap": story_8961_switch_no_lapse,
    "siptrack_ka_crlf_silent.pcap": story_crlf_silent,
    "siptrack_ka_long_aor.pcap": story_long_aor,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, make in CAPTURES.items():
        make().write(os.path.join(out, name))
        print(name)


if __name__ == "__main__":
    main()
