#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the siptrack subscription captures (field case 000) into captures/ or OUTDIR.

Field case 000: Polycom phone 207 (10.1.1.171, SoundPoint IP 650, SIP 3.1.0) keeps a BLF subscription
(Event: dialog, RFC 4662 list sip:~~rl~C~207@victoria.pingtel.com) at the sipX resource list server
(10.1.1.68:5060) over TCP. Two traces of the seed are reproduced: polycom_repro (un-SUBSCRIBE without
FIN, reboot, new connection, the RLS's CSeq 0 NOTIFY sent down the dead connection with its old ports
and sequence numbers, RST, 30 minutes of silence, resubscription that works) and pcom310 (first NOTIFY
never answered, refresh answered 481, new SUBSCRIBE whose near-identical NOTIFY gets 200). The other
captures are healthy twins where nothing may fire, the other findings one by one, RFC 3515 implicit
subscriptions, compact headers with coalesced and split messages, and bad input. Output is
deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_siptrack_subscriptions.py [OUTDIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, digest32, sip_message, sip_response  # noqa: E402

PHONE207 = Host("10.1.1.171", "00:04:f2:1c:2a:07", ttl=64, window=8760)
PHONE208 = Host("10.1.1.124", "00:04:f2:1c:2a:08", ttl=64, window=8760)
SIPX = Host("10.1.1.68", "00:0c:29:5e:10:44", ttl=64, window=5840)
DOMAIN = "victoria.pingtel.com"
RL207 = f"sip:~~rl~C~207@{DOMAIN}"
# 2008-06-10 15:20:00 UTC: the season of SIP 3.1.0 firmware and sipX 3.10.
EPOCH = 1213111200.0

POLYCOM_UA = "PolycomSoundPointIP-SPIP_650-UA/3.1.0.0084"
SIPX_UA = "sipXecs/3.10.2 sipXecs/rls (Linux)"
ACCEPT_BLF = "application/rlmi+xml,multipart/related,application/dialog-info+xml"
FIRST_CALL_ID = "59e9cf01-3eb32220-4789a6d7@10.1.1.171"
LATER_CALL_ID = "f8274285-5919cf44-bd6bd69b@10.1.1.171"
RLS_TO_208_CALL_ID = "s-293749793d9ff064-15"


def tag(*parts):
    return "%08X-%08X" % (digest32("tag", *parts), digest32("tag2", *parts))


def branch(*parts):
    return "z9hG4bK-%08x" % digest32("branch", *parts)


class Dialog:
    """One SUBSCRIBE (or REFER) dialog: identities and CSeq counters of both sides."""

    def __init__(self, call_id, sub_uri, sub_display, sub_contact, res_uri, notifier_contact, event,
                 transport="TCP", sub_via_host="10.1.1.171", expires=3600, accept=ACCEPT_BLF, ua=POLYCOM_UA,
                 notifier_ua=SIPX_UA, notifier_via=("10.1.1.68", 5060), sub_port=5060):
        self.call_id, self.sub_uri, self.res_uri, self.event = call_id, sub_uri, res_uri, event
        self.sub_from = f'"{sub_display}" <{sub_uri}>;tag={tag(call_id, "sub")}'
        self.sub_contact, self.notifier_contact = sub_contact, notifier_contact
        self.notifier_tag = tag(call_id, "notifier")
        self.transport, self.sub_via_host, self.sub_port = transport, sub_via_host, sub_port
        self.expires, self.accept, self.ua, self.notifier_ua = expires, accept, ua, notifier_ua
        self.notifier_via = notifier_via
        self.sub_cseq, self.notify_cseq = 0, 0
        self.established = False

    def subscribe(self, expires=None, cseq=None, extra=()):
        self.sub_cseq = self.sub_cseq + 1 if cseq is None else cseq
        to = f"<{self.res_uri}>" + (f";tag={self.notifier_tag}" if self.established else "")
        return sip_message(f"SUBSCRIBE {self.res_uri} SIP/2.0", [
            ("Via", f"SIP/2.0/{self.transport} {self.sub_via_host}:{self.sub_port};"
                    f"branch={branch(self.call_id, 'S', self.sub_cseq)}"),
            ("From", self.sub_from), ("To", to), ("Call-ID", self.call_id),
            ("CSeq", f"{self.sub_cseq} SUBSCRIBE"), ("Contact", self.sub_contact),
            ("User-Agent", self.ua), ("Accept", self.accept), ("Max-Forwards", "70"),
            ("Supported", "eventlist"), ("Event", self.event),
            ("Expires", str(self.expires if expires is None else expires))] + list(extra))

    def accepted(self, request, code=202, reason="Accepted", expires=None):
        self.established = True
        return sip_response(request, code, reason, to_tag=self.notifier_tag, headers=[
            ("Contact", self.notifier_contact), ("Expires", str(self.expires if expires is None else expires)),
            ("Server", self.notifier_ua)])

    def notify(self, state, body=b"", content_type=None, cseq=None, event=None, extra=()):
        self.notify_cseq = self.notify_cseq + 1 if cseq is None else cseq
        host, port = self.notifier_via
        headers = [
            ("Via", f"SIP/2.0/{self.transport} {host}:{port};branch={branch(self.call_id, 'N', self.notify_cseq, state)}"),
            ("From", f"<{self.res_uri}>;tag={self.notifier_tag}"),
            ("To", self.sub_from.replace(";tag=", ";tag=")), ("Call-ID", self.call_id),
            ("CSeq", f"{self.notify_cseq} NOTIFY"), ("Contact", self.notifier_contact),
            ("Event", event or self.event), ("Max-Forwards", "20"), ("User-Agent", self.notifier_ua)]
        if state is not None:
            headers.append(("Subscription-State", state))
        if content_type:
            headers.append(("Content-Type", content_type))
        headers += list(extra)
        uri = self.sub_contact.strip("<>").split(">")[0]
        return sip_message(f"NOTIFY {uri} SIP/2.0", headers, body)

    def ok(self, request, code=200, reason="OK"):
        return sip_response(request, code, reason, headers=[("User-Agent", self.ua)])


def rlmi_body(version, dialog_state="terminated", dialog_id=";"):
    """An RFC 4662 multipart/related NOTIFY body for list ~~rl~C~207 with one resource, 208."""
    boundary = "Boundary_5d6e41b2"
    rlmi = (f'<?xml version="1.0" encoding="UTF-8"?>\r\n'
            f'<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="{RL207}" version="{version}" fullState="true">\r\n'
            f'<resource uri="sip:208@{DOMAIN}">\r\n<name>208</name>\r\n'
            f'<instance id="i208" state="active" cid="d208-{version}@10.1.1.68"/>\r\n</resource>\r\n</list>\r\n')
    dialog = (f'<?xml version="1.0" encoding="UTF-8"?>\r\n'
              f'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="{version}" state="full" '
              f'entity="sip:208@{DOMAIN}">\r\n'
              f'<dialog id="{dialog_id}"><state>{dialog_state}</state></dialog>\r\n</dialog-info>\r\n')
    body = (f"--{boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <rl207-{version}@10.1.1.68>\r\n"
            f"Content-Type: application/rlmi+xml\r\n\r\n{rlmi}\r\n"
            f"--{boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <d208-{version}@10.1.1.68>\r\n"
            f"Content-Type: application/dialog-info+xml\r\n\r\n{dialog}\r\n--{boundary}--\r\n")
    ctype = (f'multipart/related;type="application/rlmi+xml";start="<rl207-{version}@10.1.1.68>";'
             f'boundary="{boundary}"')
    return body.encode(), ctype


def dialog_info_208(version, state):
    return (f'<?xml version="1.0"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
            f'version="{version}" state="full" entity="sip:208@{DOMAIN}">\r\n'
            f'<dialog id="{version}d208" direction="initiator"><state>{state}</state></dialog>\r\n'
            f'</dialog-info>\r\n').encode()


def register(aor, display, contact, call_id, cseq, host, expires=3600):
    return sip_message(f"REGISTER sip:{DOMAIN} SIP/2.0", [
        ("Via", f"SIP/2.0/TCP {host}:5060;branch={branch(call_id, 'R', cseq)}"),
        ("From", f'"{display}" <{aor}>;tag={tag(call_id, "reg")}'), ("To", f'"{display}" <{aor}>'),
        ("CSeq", f"{cseq} REGISTER"), ("Call-ID", call_id), ("Contact", contact),
        ("User-Agent", POLYCOM_UA), ("Max-Forwards", "70"), ("Expires", str(expires))])


def registered(request, contact, expires=3600):
    return sip_response(request, 200, "OK", to_tag=tag("reg-ok", contact), headers=[
        ("Contact", f"{contact};expires={expires}"), ("Date", "Tue, 10 Jun 2008 15:20:00 GMT"),
        ("Server", SIPX_UA)])


def exchange(conn, side, request, answer):
    """request from side, the answer (bytes or None for no SIP answer) from the peer."""
    conn.send(side, request)
    if answer is not None:
        conn.story.advance(0.004)
        conn.send(1 - side, answer)


def phone207_dialog(call_id, port):
    return Dialog(call_id, f"sip:207@{DOMAIN}", "207", f"<sip:207@10.1.1.171:5060;transport=tcp>", RL207,
                  f"<sip:~~rl~C~207@10.1.1.68:5060;transport=tcp>", "dialog", sub_port=port)


CONTACT207 = "<sip:207@10.1.1.171:5060;transport=tcp>"


def polycom_repro(path):
    """(a) polycom_repro: the NOTIFY of the new subscription goes down the dead connection and is RST."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH)
    old = TcpConnection(s, PHONE207, 1033, SIPX, 5060).handshake()
    s.advance(0.01)
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-1@10.1.1.171", 1, "10.1.1.171")
    exchange(old, CLIENT, reg, registered(reg, CONTACT207))
    s.advance(0.2)
    d1 = phone207_dialog(FIRST_CALL_ID, 1033)
    sub = d1.subscribe()
    exchange(old, CLIENT, sub, d1.accepted(sub))
    s.advance(0.05)
    body, ctype = rlmi_body(0)
    n = d1.notify("active;expires=3600", body, ctype)
    exchange(old, SERVER, n, d1.ok(n))
    # Step 1-2 of the reproduction: the BLF list changes, the phone gets the new NOTIFY.
    s.at(120.0)
    body, ctype = rlmi_body(1)
    n = d1.notify("active;expires=3480", body, ctype)
    exchange(old, SERVER, n, d1.ok(n))
    # Step 3: restart at once. The phone un-SUBSCRIBEs (seed packet 93) and never sends FIN.
    s.at(125.0)
    unsub = d1.subscribe(expires=0)
    exchange(old, CLIENT, unsub, d1.accepted(unsub, expires=0))
    s.advance(0.02)
    n = d1.notify("terminated;reason=timeout")
    exchange(old, SERVER, n, d1.ok(n))
    # Reboot: a new connection from another port, REGISTER and SUBSCRIBE (seed packet 716) there.
    s.at(165.0)
    new = TcpConnection(s, PHONE207, 1034, SIPX, 5060).handshake()
    s.advance(0.01)
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-2@10.1.1.171", 1, "10.1.1.171")
    exchange(new, CLIENT, reg, registered(reg, CONTACT207))
    s.advance(0.3)
    d2 = phone207_dialog(LATER_CALL_ID, 1034)
    sub = d2.subscribe()
    exchange(new, CLIENT, sub, d2.accepted(sub))
    # The RLS answers with the CSeq 0 NOTIFY (seed packet 718) from the old connection's port, with the
    # old stream's sequence numbers: the rebooted phone knows no such connection and resets it.
    s.advance(0.02)
    body, ctype = rlmi_body(0)
    n = d2.notify("active;expires=3600", body, ctype, cseq=0)
    old.send(SERVER, n, ack=False)
    s.advance(0.0008)
    old._segment(CLIENT, "R")
    # The RLS closes the idle new connection after 60 s (the seed's 60 s TCP timeout).
    s.at(225.5)
    new.close(SERVER)
    # 30 minutes after the lost NOTIFY the phone refreshes on a new connection; this NOTIFY is accepted.
    s.at(165.0 + 1800.0)
    third = TcpConnection(s, PHONE207, 1035, SIPX, 5060).handshake()
    s.advance(0.01)
    sub = d2.subscribe()
    exchange(third, CLIENT, sub, d2.accepted(sub))
    s.at(165.0 + 0.3 + 0.01 + 1800.0 + 0.03)
    body, ctype = rlmi_body(1)
    n = d2.notify("active;expires=3600", body, ctype)
    exchange(third, SERVER, n, d2.ok(n))
    s.write(path)


def pcom310(path):
    """(b) pcom310: first NOTIFY never answered, refresh gets 481, new SUBSCRIBE, NOTIFY answered 200."""
    for h in (PHONE207, PHONE208, SIPX):
        h.restart()
    s = Story(EPOCH + 3600)
    c208 = TcpConnection(s, PHONE208, 1026, SIPX, 5060).handshake()
    contact208 = "<sip:208@10.1.1.124:5060;transport=tcp>"
    reg = register(f"sip:208@{DOMAIN}", "208", contact208, "reg208-1@10.1.1.124", 1, "10.1.1.124")
    exchange(c208, CLIENT, reg, registered(reg, contact208))
    # The RLS subscribes to 208's dialog events over 208's connection; 208 is the notifier.
    s.advance(0.1)
    d208 = Dialog(RLS_TO_208_CALL_ID, f"sip:~~rl~C~207@{DOMAIN}", "RLS", "<sip:rls@10.1.1.68:5060;transport=tcp>",
                  f"sip:208@{DOMAIN}", contact208, "dialog", sub_via_host="10.1.1.68", accept="application/dialog-info+xml",
                  ua=SIPX_UA, notifier_ua=POLYCOM_UA, notifier_via=("10.1.1.124", 5060))
    sub = d208.subscribe()
    exchange(c208, SERVER, sub, d208.accepted(sub))
    s.advance(0.02)
    n = d208.notify("active;expires=3600", dialog_info_208(0, "terminated"), "application/dialog-info+xml")
    exchange(c208, CLIENT, n, d208.ok(n))

    s.at(10.0)
    c207 = TcpConnection(s, PHONE207, 1025, SIPX, 5060).handshake()
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-9@10.1.1.171", 1, "10.1.1.171")
    exchange(c207, CLIENT, reg, registered(reg, CONTACT207))
    s.advance(0.2)
    d1 = phone207_dialog(FIRST_CALL_ID, 1025)
    sub = d1.subscribe()
    exchange(c207, CLIENT, sub, d1.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    first_notify = d1.notify("active;expires=3600", body, ctype)
    c207.send(SERVER, first_notify)  # TCP ACKs it; the phone never answers in SIP
    # Problem 2 of the seed: calls between 208 and 206; 208 reports them to the RLS, which answers 200.
    for k, (when, state) in enumerate([(60.0, "trying"), (61.5, "confirmed"), (75.0, "terminated")], 1):
        s.at(when)
        n = d208.notify("active;expires=3540", dialog_info_208(k, state), "application/dialog-info+xml")
        exchange(c208, CLIENT, n, d208.ok(n))
    # About 30 minutes later the phone refreshes: 481.
    s.at(10.0 + 1800.0)
    refresh = d1.subscribe()
    exchange(c207, CLIENT, refresh, sip_response(refresh, 481, "Call Leg/Transaction Does Not Exist",
                                                 to_tag=d1.notifier_tag, headers=[("Server", SIPX_UA)]))
    s.advance(0.05)
    d2 = phone207_dialog(LATER_CALL_ID, 1025)
    sub = d2.subscribe()
    exchange(c207, CLIENT, sub, d2.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    n = d2.notify("active;expires=3600", body, ctype)
    exchange(c207, SERVER, n, d2.ok(n))
    s.write(path)


def long_refresh(path):
    """Healthy: one connection for three hours, the subscription refreshed every 30 minutes."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 7200)
    c = TcpConnection(s, PHONE207, 1040, SIPX, 5060).handshake()
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-h@10.1.1.171", 1, "10.1.1.171")
    exchange(c, CLIENT, reg, registered(reg, CONTACT207))
    d = phone207_dialog("7d1a3c55-11aa2b3c-90e1f2a4@10.1.1.171", 1040)
    version = 0  # RLMI and dialog-info versions grow by one per NOTIFY of the subscription
    for k in range(7):
        if k:  # the registration is refreshed half-way too, on the same connection
            s.at(1800.0 * k)
            reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-h@10.1.1.171", k + 1, "10.1.1.171")
            exchange(c, CLIENT, reg, registered(reg, CONTACT207))
        s.at(1.0 + 1800.0 * k)
        sub = d.subscribe()
        exchange(c, CLIENT, sub, d.accepted(sub))
        s.advance(0.03)
        body, ctype = rlmi_body(version)
        version += 1
        n = d.notify("active;expires=3600", body, ctype)
        exchange(c, SERVER, n, d.ok(n))
        if k in (1, 4):  # 208 picks up and hangs up: the RLS reports it at once
            s.advance(300.0)
            body, ctype = rlmi_body(version, "confirmed", "7d208")
            version += 1
            n = d.notify("active;expires=3300", body, ctype)
            exchange(c, SERVER, n, d.ok(n))
    s.write(path)


def fresh_connection(path):
    """Healthy: the phone closes its connection; the RLS later opens one to the phone's Contact."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 14400)
    c = TcpConnection(s, PHONE207, 1050, SIPX, 5060).handshake()
    d = phone207_dialog("3c0ffee1-2b2b3c3c-4d4d5e5e@10.1.1.171", 1050)
    sub = d.subscribe()
    exchange(c, CLIENT, sub, d.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    n = d.notify("active;expires=3600", body, ctype)
    exchange(c, SERVER, n, d.ok(n))
    s.at(60.0)
    c.close(CLIENT)
    # 208's state changes: the RLS connects to the Contact 10.1.1.171:5060 and sends the NOTIFY there.
    s.at(200.0)
    back = TcpConnection(s, SIPX, 40122, PHONE207, 5060).handshake()
    body, ctype = rlmi_body(1, "confirmed", "c208")
    n = d.notify("active;expires=3400", body, ctype)
    exchange(back, CLIENT, n, d.ok(n))
    s.write(path)


def udp_dialog(call_id, event, accept, expires, notifier="10.1.1.68"):
    return Dialog(call_id, f"sip:207@{DOMAIN}", "207", "<sip:207@10.1.1.171:5060>", f"sip:208@{DOMAIN}",
                  f"<sip:208@{notifier}:5060>", event, transport="UDP", accept=accept, expires=expires)


def udp(path):
    """Healthy: presence over UDP, one NOTIFY retransmitted, refresh, un-SUBSCRIBE."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 20000)

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    d = udp_dialog("0a0b0c0d-udp1@10.1.1.171", "presence", "application/pidf+xml", 600)
    pidf = (f'<?xml version="1.0"?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:208@{DOMAIN}">'
            f'<tuple id="t1"><status><basic>open</basic></status></tuple></presence>\r\n').encode()
    sub = d.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub))
    n = d.notify("active;expires=600", pidf, "application/pidf+xml")
    u(SIPX, PHONE207, n)
    s.advance(0.5)  # Timer A: the NOTIFY is sent again before its 200 arrives
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d.ok(n))
    s.at(300.0)
    sub = d.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub))
    n = d.notify("active;expires=600", pidf, "application/pidf+xml")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d.ok(n))
    s.at(500.0)
    sub = d.subscribe(expires=0)
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub, expires=0))
    n = d.notify("terminated;reason=timeout", pidf, "application/pidf+xml")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d.ok(n))
    s.write(path)


def refer(path):
    """RFC 3515 implicit subscriptions: two REFERs in one dialog, each followed by its NOTIFYs (UDP)."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 30000)

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    d = Dialog("refer-7a7a7a7a@10.1.1.171", f"sip:207@{DOMAIN}", "207", "<sip:207@10.1.1.171:5060>",
               f"sip:208@{DOMAIN}", "<sip:208@10.1.1.124:5060>", "refer", transport="UDP",
               notifier_ua=POLYCOM_UA, notifier_via=("10.1.1.124", 5060))
    d.established = True
    for k, cseq in enumerate((21, 22)):
        req = sip_message(f"REFER sip:208@10.1.1.124:5060 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.1.1.171:5060;branch={branch('refer', cseq)}"),
            ("From", d.sub_from), ("To", f"<sip:208@{DOMAIN}>;tag={d.notifier_tag}"), ("Call-ID", d.call_id),
            ("CSeq", f"{cseq} REFER"), ("Contact", d.sub_contact), ("Max-Forwards", "70"),
            ("Refer-To", f"<sip:206@{DOMAIN}>"), ("Referred-By", f"<sip:207@{DOMAIN}>"),
            ("User-Agent", POLYCOM_UA)])
        u(PHONE207, PHONE208, req)
        u(PHONE208, PHONE207, sip_response(req, 202, "Accepted", headers=[("Contact", d.notifier_contact)]))
        event = "refer" if k == 0 else f"refer;id={cseq}"
        n = d.notify("active;expires=60", b"SIP/2.0 100 Trying\r\n", "message/sipfrag;version=2.0", event=event)
        u(PHONE208, PHONE207, n)
        u(PHONE207, PHONE208, d.ok(n))
        s.advance(2.0)
        n = d.notify("terminated;reason=noresource", b"SIP/2.0 200 OK\r\n", "message/sipfrag;version=2.0",
                     event=event)
        u(PHONE208, PHONE207, n)
        u(PHONE207, PHONE208, d.ok(n))
        s.advance(5.0)
    s.write(path)


def compact_response(request, code, reason, to_tag=None, headers=()):
    """A response in compact form: v, f, t (plus tag), i and CSeq copied from a compact request."""
    copied = []
    for line in request.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]:
        name, value = (part.strip() for part in line.split(":", 1))
        if name == "t" and to_tag and ";tag=" not in value:
            value += ";tag=" + to_tag
        if name in ("v", "f", "t", "i", "CSeq"):
            copied.append((name, value))
    return sip_message(f"SIP/2.0 {code} {reason}", copied + list(headers))


def compact(path):
    """Compact header forms (RFC 3261 7.3.3), a 202 and a NOTIFY coalesced in one segment, and a NOTIFY
    split over several segments (MSS 300)."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 40000)
    c = TcpConnection(s, PHONE207, 1060, SIPX, 5060, mss=300).handshake()
    call_id = "c0mpact-5e5e5e5e@10.1.1.171"
    ftag, ttag = tag(call_id, "sub"), tag(call_id, "notifier")
    sub = sip_message(f"SUBSCRIBE {RL207} SIP/2.0", [
        ("v", f"SIP/2.0/TCP 10.1.1.171:1060;branch={branch(call_id, 'S', 1)}"),
        ("f", f"<sip:207@{DOMAIN}>;tag={ftag}"), ("t", f"<{RL207}>"), ("i", call_id),
        ("CSeq", "1 SUBSCRIBE"), ("m", CONTACT207), ("o", "dialog"), ("k", "eventlist"),
        ("Accept", ACCEPT_BLF), ("Expires", "3600"), ("Max-Forwards", "70")])
    c.send(CLIENT, sub)
    s.advance(0.004)
    ok = compact_response(sub, 202, "Accepted", to_tag=ttag, headers=[("m", "<sip:rls@10.1.1.68:5060;transport=tcp>"),
                                                                     ("Expires", "3600")])
    def notify(cseq, state, body=b"", ctype=None):
        headers = [
            ("v", f"SIP/2.0/TCP 10.1.1.68:5060;branch={branch(call_id, 'N', cseq)}"),
            ("f", f"<{RL207}>;tag={ttag}"), ("t", f"<sip:207@{DOMAIN}>;tag={ftag}"), ("i", call_id),
            ("CSeq", f"{cseq} NOTIFY"), ("m", "<sip:rls@10.1.1.68:5060;transport=tcp>"), ("o", "dialog"),
            ("Subscription-State", state)]
        if ctype:
            headers.append(("c", ctype))
        return sip_message("NOTIFY sip:207@10.1.1.171:5060;transport=tcp SIP/2.0", headers, body)

    # The 202 and the first NOTIFY leave the RLS in one write: one segment, two SIP messages.
    first = notify(1, "pending;expires=3600")
    c.mss = 1460
    c.send(SERVER, ok + first)
    s.advance(0.004)
    c.send(CLIENT, compact_response(first, 200, "OK"))
    # A NOTIFY with its RLMI body split over several 300-byte segments (long Content-Length: Wireshark
    # 4.0 frames SIP over TCP by the long form only).
    s.advance(0.1)
    body, ctype = rlmi_body(0)
    split = notify(2, "active;expires=3599", body, ctype)
    c.mss = 300
    c.send(SERVER, split)
    s.advance(0.004)
    c.mss = 1460
    c.send(CLIENT, compact_response(split, 200, "OK"))
    # Two NOTIFYs in one segment, their two 200s in one segment.
    s.advance(5.0)
    pair = [notify(3, "active;expires=3590"), notify(4, "active;expires=3590")]
    c.send(SERVER, pair[0] + pair[1])
    s.advance(0.004)
    c.send(CLIENT, compact_response(pair[0], 200, "OK") + compact_response(pair[1], 200, "OK"))
    s.write(path)


def lifecycle(path):
    """One finding per subscription: a NOTIFY on another live connection (note), a subscription that
    expired without refresh (warning), a NOTIFY after termination (warning, answered 481)."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 50000)
    a = TcpConnection(s, PHONE207, 1070, SIPX, 5060).handshake()
    d = phone207_dialog("0ff5ub-1111@10.1.1.171", 1070)
    sub = d.subscribe()
    exchange(a, CLIENT, sub, d.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    n = d.notify("active;expires=3600", body, ctype)
    exchange(a, SERVER, n, d.ok(n))
    # The phone opens a second connection for its registration and keeps both; the RLS then sends a
    # NOTIFY on the second one.
    s.at(10.0)
    b = TcpConnection(s, PHONE207, 1071, SIPX, 5060).handshake()
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-l@10.1.1.171", 1, "10.1.1.171")
    exchange(b, CLIENT, reg, registered(reg, CONTACT207))
    s.at(20.0)
    body, ctype = rlmi_body(1, "confirmed", "l208")
    n = d.notify("active;expires=3580", body, ctype)
    exchange(b, SERVER, n, d.ok(n))

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    mwi = Dialog("mwi-2222@10.1.1.171", f"sip:207@{DOMAIN}", "207", "<sip:207@10.1.1.171:5060>",
                 f"sip:207@{DOMAIN}", "<sip:207@10.1.1.68:5060>", "message-summary", transport="UDP",
                 accept="application/simple-message-summary", expires=60)
    summary = b"Messages-Waiting: yes\r\nVoice-Message: 1/0 (0/0)\r\n"
    s.at(30.0)
    sub = mwi.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, mwi.accepted(sub))
    n = mwi.notify("active;expires=60", summary, "application/simple-message-summary")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, mwi.ok(n))
    s.at(150.0)  # no refresh came; the server still reports as if active
    n = mwi.notify("active;expires=60", summary, "application/simple-message-summary")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, mwi.ok(n))

    pres = udp_dialog("pres-3333@10.1.1.171", "presence", "application/pidf+xml", 600)
    s.at(200.0)
    sub = pres.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, pres.accepted(sub))
    n = pres.notify("terminated;reason=deactivated")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, pres.ok(n))
    s.advance(1.0)
    n = pres.notify("active;expires=600")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, pres.ok(n, 481, "Subscription Does Not Exist"))
    s.write(path)


def bad_headers(path):
    """Bad input over UDP: garbage Event and Subscription-State headers, a NOTIFY without
    Subscription-State, a 5,000-byte Event header."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 60000)

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    d = udp_dialog("bad-4444@10.1.1.171", "presence", "application/pidf+xml", 600)
    d.event = "@@ ;;=="
    sub = d.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub, 489, "Bad Event"))
    d2 = udp_dialog("bad-5555@10.1.1.171", "presence", "application/pidf+xml", 600)
    sub = d2.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d2.accepted(sub))
    n = d2.notify("act ive;expires=soon")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d2.ok(n, 400, "Bad Request"))
    n = d2.notify(None)
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d2.ok(n, 400, "Bad Request"))
    d3 = udp_dialog("bad-6666@10.1.1.171", "presence;x=" + "A" * 5000, "application/pidf+xml", 600)
    sub = d3.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d3.accepted(sub, 489, "Bad Event"))
    s.write(path)


def orphaned(path, notify_old=True):
    """Issue 11: the phone reboots without closing tcp.stream 0 and subscribes again on tcp.stream 1; the new
    subscription works. With notify_old (siptrack_sub_orphaned), the RLS, which still keeps the old
    subscription, writes its NOTIFY down tcp.stream 0 and the phone resets it: an orphaned subscription, no
    outage. Without (siptrack_sub_replaced, the healthy twin), the RLS drops the old subscription silently."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 30000)
    old = TcpConnection(s, PHONE207, 1040, SIPX, 5060).handshake()
    d1 = phone207_dialog("0rph4n01-11112222-33334444@10.1.1.171", 1040)
    sub = d1.subscribe()
    exchange(old, CLIENT, sub, d1.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    n = d1.notify("active;expires=3600", body, ctype)
    exchange(old, SERVER, n, d1.ok(n))
    # Reboot: no FIN on tcp.stream 0; REGISTER and a new SUBSCRIBE (new Call-ID) on tcp.stream 1.
    s.at(60.0)
    new = TcpConnection(s, PHONE207, 1041, SIPX, 5060).handshake()
    reg = register(f"sip:207@{DOMAIN}", "207", CONTACT207, "reg207-orphan@10.1.1.171", 1, "10.1.1.171")
    exchange(new, CLIENT, reg, registered(reg, CONTACT207))
    s.advance(0.2)
    d2 = phone207_dialog("0rph4n02-55556666-77778888@10.1.1.171", 1041)
    sub = d2.subscribe()
    exchange(new, CLIENT, sub, d2.accepted(sub))
    s.advance(0.03)
    body, ctype = rlmi_body(0)
    n = d2.notify("active;expires=3600", body, ctype)
    exchange(new, SERVER, n, d2.ok(n))
    # 208's state changes at 90 s: each subscription the RLS keeps gets a NOTIFY.
    s.at(90.0)
    if notify_old:
        body, ctype = rlmi_body(1, "confirmed", "o208")
        n = d1.notify("active;expires=3510", body, ctype)
        old.send(SERVER, n, ack=False)
        s.advance(0.0007)
        old._segment(CLIENT, "R")
    s.advance(0.01)
    body, ctype = rlmi_body(1, "confirmed", "o208")
    n = d2.notify("active;expires=3570", body, ctype)
    exchange(new, SERVER, n, d2.ok(n))
    s.at(150.0)
    body, ctype = rlmi_body(2)
    n = d2.notify("active;expires=3510", body, ctype)
    exchange(new, SERVER, n, d2.ok(n))
    s.write(path)


def replaced(path):
    orphaned(path, notify_old=False)


PIDF_208 = (f'<?xml version="1.0"?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:208@{DOMAIN}">'
            f'<tuple id="t1"><status><basic>open</basic></status></tuple></presence>\r\n').encode()


def notify_answers(path, challenge=False):
    """Issue 11: presence over UDP. siptrack_sub_notify_rejected: the phone answers both NOTIFYs 488 Not
    Acceptable Here (one incident: the second is its consequence). siptrack_sub_notify_challenged (healthy
    twin): the phone challenges the first NOTIFY with 401, the RLS sends it again with credentials, 200."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 40000 + (100 if challenge else 0))

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    d = udp_dialog("n0t1fy-" + ("401" if challenge else "488") + "@10.1.1.171", "presence", "application/pidf+xml",
                   600)
    sub = d.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub))
    n = d.notify("active;expires=600", PIDF_208, "application/pidf+xml")
    u(SIPX, PHONE207, n)
    if challenge:
        u(PHONE207, SIPX, sip_response(n, 401, "Unauthorized", headers=[
            ("WWW-Authenticate", 'Digest realm="10.1.1.171", nonce="4f1c2a07", algorithm=MD5'),
            ("User-Agent", POLYCOM_UA)]))
        n = d.notify("active;expires=600", PIDF_208, "application/pidf+xml", extra=[
            ("Authorization", 'Digest username="rls", realm="10.1.1.171", nonce="4f1c2a07", '
                              'uri="sip:207@10.1.1.171:5060", response="6629fae49393a05397450978507c4ef1"')])
        u(SIPX, PHONE207, n)
        u(PHONE207, SIPX, d.ok(n))
    else:
        u(PHONE207, SIPX, d.ok(n, 488, "Not Acceptable Here"))
        s.at(30.0)
        n = d.notify("active;expires=570", PIDF_208, "application/pidf+xml")
        u(SIPX, PHONE207, n)
        u(PHONE207, SIPX, d.ok(n, 488, "Not Acceptable Here"))
    s.write(path)


def notify_challenged(path):
    notify_answers(path, challenge=True)


def unsubscribe(path, confirmed=False):
    """Issue 11: presence over UDP; at 60 s the phone un-SUBSCRIBEs and the RLS answers 202. In
    siptrack_sub_unsubscribe_unconfirmed no terminating NOTIFY follows (RFC 6665 section 4.2.2); in
    siptrack_sub_unsubscribe_confirmed (healthy twin) it does. The phone's REGISTER refresh at 100 s shows the
    capture went on past Timer F."""
    for h in (PHONE207, SIPX):
        h.restart()
    s = Story(EPOCH + 50000 + (100 if confirmed else 0))

    def u(src, dst, data):
        s.udp(src, 5060, dst, 5060, data)
        s.advance(0.004)

    d = udp_dialog("unsub-" + ("ok" if confirmed else "lost") + "@10.1.1.171", "presence", "application/pidf+xml", 600)
    sub = d.subscribe()
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub))
    n = d.notify("active;expires=600", PIDF_208, "application/pidf+xml")
    u(SIPX, PHONE207, n)
    u(PHONE207, SIPX, d.ok(n))
    s.at(60.0)
    sub = d.subscribe(expires=0)
    u(PHONE207, SIPX, sub)
    u(SIPX, PHONE207, d.accepted(sub, expires=0))
    if confirmed:
        n = d.notify("terminated;reason=timeout")
        u(SIPX, PHONE207, n)
        u(PHONE207, SIPX, d.ok(n))
    s.at(100.0)
    reg = register(f"sip:207@{DOMAIN}", "207", "<sip:207@10.1.1.171:5060>", "reg207-unsub@10.1.1.171", 2,
                   "10.1.1.171").replace(b"SIP/2.0/TCP", b"SIP/2.0/UDP")
    u(PHONE207, SIPX, reg)
    u(SIPX, PHONE207, registered(reg, "<sip:207@10.1.1.171:5060>"))
    s.write(path)


def unsubscribe_confirmed(path):
    unsubscribe(path, confirmed=True)


CAPTURES = {
    "siptrack_sub_polycom_repro.pcap": polycom_repro,
    "siptrack_sub_pcom310.pcap": pcom310,
    "siptrack_sub_long_refresh.pcap": long_refresh,
    "siptrack_sub_fresh_connection.pcap": fresh_connection,
    "siptrack_sub_udp.pcap": udp,
    "siptrack_sub_refer.pcap": refer,
    "siptrack_sub_compact.pcap": compact,
    "siptrack_sub_lifecycle.pcap": lifecycle,
    "siptrack_sub_bad_headers.pcap": bad_headers,
    "siptrack_sub_orphaned.pcap": orphaned,
    "siptrack_sub_replaced.pcap": replaced,
    "siptrack_sub_notify_rejected.pcap": notify_answers,
    "siptrack_sub_notify_challenged.pcap": notify_challenged,
    "siptrack_sub_unsubscribe_unconfirmed.pcap": unsubscribe,
    "siptrack_sub_unsubscribe_confirmed.pcap": unsubscribe_confirmed,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, fn in CAPTURES.items():
        fn(os.path.join(out, name))


if __name__ == "__main__":
    main()
