#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the dialoginfo and rlmi test captures (field case 000) into captures/ or OUTDIR.

Field case 000: Polycom phones behind a sipX server (10.1.1.68, victoria.pingtel.com). Phone 207
(SoundPoint IP 650, firmware 3.1.0, 10.1.1.171) holds a BLF subscription over TCP to the resource
list sip:~~rl~C~207@victoria.pingtel.com (Call-ID f8274285-5919cf44-bd6bd69b@10.1.1.171), which has
one element, sip:208@victoria.pingtel.com. The sipX Resource List Server subscribes to 208 (SoundPoint
IP 330, 10.1.1.124; Call-ID s-293749793d9ff064-15) and relays 208's dialog events to 207 in
multipart/related NOTIFYs: an RLMI root part (instance id "consolidated", cid N@victoria.pingtel.com,
as sipXrls ResourceCached::generateBody writes them) and one dialog-info part, whose dialogs carry
sipX's "<instance>;<phone's id>" ids and, when 208 has no dialog, the placeholder dialog id ";". Two
calls between 208 and 206 (10.1.1.123, not captured: the trace holds 207's and 208's packets): one
from 208, one from 206. In the field case, 208's events never show the incoming call ringing
(direction recipient, state early); the healthy twin has that event. The other captures vary one
thing each or feed both decoders bad input. Output is deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_dialoginfo.py [OUTDIR]
"""
import calendar
import email.utils
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import CLIENT, SERVER, Host, Story, TcpConnection, sip_message, sip_response  # noqa: E402

SIPX = Host("10.1.1.68", "00:1a:a0:3c:5e:21", ttl=64, window=5840)
P207 = Host("10.1.1.171", "00:04:f2:1c:7b:a3", ttl=64, window=8760)
P208 = Host("10.1.1.124", "00:04:f2:0e:41:9d", ttl=64, window=8760)
DOMAIN = "victoria.pingtel.com"
LIST_URI = f"sip:~~rl~C~207@{DOMAIN}"
RLS_URI = f"sip:~~rl~rls@{DOMAIN}"
E208 = f"sip:208@{DOMAIN}"
UA_650 = "PolycomSoundPointIP-SPIP_650-UA/3.1.0.0084"
UA_330 = "PolycomSoundPointIP-SPIP_330-UA/3.1.0.0084"
UA_RLS = "sipXecs/3.10.2 sipXrls (Linux)"
UA_PROXY = "sipXecs/3.10.2 sipXproxy (Linux)"
CALL_ID_207 = "f8274285-5919cf44-bd6bd69b@10.1.1.171"
CALL_ID_208 = "s-293749793d9ff064-15"
TAG_207, TAG_RLS_207 = "6c9b44a0-71a2e4d1", "2d5e8f31"
TAG_RLS_208, TAG_208 = "1b6a2f0e", "5f3c2e81-7a6d1d02"
# sipXrls names a resource instance by its subscription's dialog handle, Call-ID and tags joined by ','.
INSTANCE = f"{CALL_ID_208},{TAG_RLS_208},{TAG_208}"
BOUNDARY = "60c87d8a5c4f1a6e"
RLMI_CID = f"rlmi@{DOMAIN}"
EPOCH = calendar.timegm((2008, 11, 4, 16, 21, 0))
DI_NS = "urn:ietf:params:xml:ns:dialog-info"


def hexid(*parts, size=8):
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:size]


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Bodies

def polycom_dialog(d):
    """One <dialog> as Polycom 3.1 writes it. d: id, call_id, local_tag, remote_tag, direction, state,
    event, remote (URI), target (remote target)."""
    attrs = f'id="{d["id"]}" call-id="{d["call_id"]}" local-tag="{d["local_tag"]}"'
    if d.get("remote_tag"):
        attrs += f' remote-tag="{d["remote_tag"]}"'
    attrs += f' direction="{d["direction"]}"'
    event = f' event="{d["event"]}"' if d.get("event") else ""
    return (f'<dialog {attrs}>\n<state{event}>{d["state"]}</state>\n'
            f'<local>\n<identity>{E208}</identity>\n<target uri="sip:208@10.1.1.124"/>\n</local>\n'
            f'<remote>\n<identity>{d["remote"]}</identity>\n<target uri="{d["target"]}"/>\n</remote>\n'
            f'</dialog>\n')


def polycom_body(version, dialogs):
    return crlf(f'<?xml version="1.0"?>\n<dialog-info xmlns="{DI_NS}" version="{version}" state="full" '
                f'entity="{E208}">\n' + "".join(polycom_dialog(d) for d in dialogs) + "</dialog-info>\n")


def consolidated_body(version, dialogs):
    """sipXrls's consolidated dialog-info part: each dialog's id prefixed with the instance name and
    its local identity rewritten with the resource's display name; the placeholder when none."""
    out = (f'<?xml version="1.0" encoding="UTF-8"?>\n<dialog-info xmlns="{DI_NS}" version="{version}" '
           f'state="full" entity="{E208}">\r\n')
    if not dialogs:
        out += (f'<dialog id=";"><state>terminated</state><local><identity display="208">{E208}</identity>'
                f'</local></dialog>\r\n')
    for d in dialogs:
        remote_tag = f' remote-tag="{d["remote_tag"]}"' if d.get("remote_tag") else ""
        event = f' event="{d["event"]}"' if d.get("event") else ""
        out += (f'<dialog id="{INSTANCE};{d["id"]}" call-id="{d["call_id"]}" local-tag="{d["local_tag"]}"'
                f'{remote_tag} direction="{d["direction"]}"><state{event}>{d["state"]}</state>'
                f'<local><target uri="sip:208@10.1.1.124"/><identity display="208">{E208}</identity></local>'
                f'<remote><identity>{d["remote"]}</identity><target uri="{d["target"]}"/></remote></dialog>\r\n')
    out += "</dialog-info>\r\n"
    return out.encode()


def rlmi_body(version, instances, full=True):
    """sipXrls's RLMI root part; instances: [(id, state, cid or None)] of resource 208."""
    out = (f'<?xml version="1.0"?>\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="{LIST_URI}" '
           f'version="{version}" fullState="{"true" if full else "false"}">\r\n'
           f'  <resource uri="{E208}">\r\n    <name>208</name>\r\n')
    for ident, state, cid in instances:
        out += f'    <instance id="{ident}" state="{state}"' + (f' cid="{cid}"' if cid else "") + "/>\r\n"
    out += "  </resource>\r\n</list>\r\n"
    return out.encode()


def multipart(parts):
    """multipart/related body: parts [(content_id or None, content_type, body bytes)], RLMI first."""
    out = b""
    for cid, ctype, body in parts:
        out += b"--" + BOUNDARY.encode() + b"\r\n"
        if cid:
            out += b"Content-ID: <" + cid.encode() + b">\r\n"
        out += b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body + b"\r\n"
    return out + b"--" + BOUNDARY.encode() + b"--\r\n"


def rls_parts(rlmi_version, di_version, dialogs, cid_number=1, full=True):
    cid = f"{cid_number}@{DOMAIN}"
    return multipart([(RLMI_CID, "application/rlmi+xml",
                       rlmi_body(rlmi_version, [("consolidated", "active", cid)], full)),
                      (cid, "application/dialog-info+xml", consolidated_body(di_version, dialogs))])


MULTIPART_TYPE = (f'multipart/related;type="application/rlmi+xml";start="<{RLMI_CID}>";'
                  f'boundary="{BOUNDARY}"')


# ---------------------------------------------------------------------------------------------
# Messages

def date(story):
    return email.utils.formatdate(story.wallclock, usegmt=True)


class Branches:
    def __init__(self, seed):
        self.seed, self.n = seed, 0

    def __call__(self):
        self.n += 1
        return "z9hG4bK-" + hexid(self.seed, "branch", self.n, size=16)


def subscribe_207(story, br, cseq, to_tag=None, expires=3600):
    to = f"<{LIST_URI}>" + (f";tag={to_tag}" if to_tag else "")
    return sip_message(f"SUBSCRIBE {LIST_URI} SIP/2.0", [
        ("Via", f"SIP/2.0/TCP 10.1.1.171;branch={br()}"),
        ("From", f'"207" <sip:207@{DOMAIN}>;tag={TAG_207}'),
        ("To", to),
        ("CSeq", f"{cseq} SUBSCRIBE"),
        ("Call-ID", CALL_ID_207),
        ("Contact", "<sip:207@10.1.1.171;transport=tcp>"),
        ("User-Agent", UA_650),
        ("Accept", "multipart/related, application/rlmi+xml, application/dialog-info+xml"),
        ("Supported", "eventlist"),
        ("Event", "dialog"),
        ("Expires", str(expires)),
        ("Max-Forwards", "70"),
        ("Content-Length", None),
    ])


def notify_207(story, br, cseq, body, expires=3600):
    return sip_message("NOTIFY sip:207@10.1.1.171;transport=tcp SIP/2.0", [
        ("From", f"<{LIST_URI}>;tag={TAG_RLS_207}"),
        ("To", f'"207" <sip:207@{DOMAIN}>;tag={TAG_207}'),
        ("Call-ID", CALL_ID_207),
        ("Cseq", f"{cseq} NOTIFY"),
        ("Contact", f"<sip:~~rl~C~207@10.1.1.68:5130;transport=tcp>"),
        ("Event", "dialog"),
        ("Subscription-State", f"active;expires={expires}"),
        ("Require", "eventlist"),
        ("Content-Type", MULTIPART_TYPE),
        ("User-Agent", UA_RLS),
        ("Date", date(story)),
        ("Via", f"SIP/2.0/TCP 10.1.1.68;branch={br()}"),
        ("Max-Forwards", "20"),
        ("Content-Length", None),
    ], body)


def subscribe_208(story, br, cseq, call_id=CALL_ID_208, from_tag=TAG_RLS_208):
    return sip_message("SUBSCRIBE sip:208@10.1.1.124 SIP/2.0", [
        ("From", f"<{RLS_URI}>;tag={from_tag}"),
        ("To", f"<{E208}>"),
        ("Call-ID", call_id),
        ("Cseq", f"{cseq} SUBSCRIBE"),
        ("Contact", f"<{RLS_URI.replace(DOMAIN, '10.1.1.68')}>"),
        ("Event", "dialog"),
        ("Accept", "application/dialog-info+xml"),
        ("Expires", "3600"),
        ("User-Agent", UA_RLS),
        ("Date", date(story)),
        ("Via", f"SIP/2.0/UDP 10.1.1.68;branch={br()}"),
        ("Max-Forwards", "20"),
        ("Content-Length", None),
    ])


def notify_208(story, br, cseq, body, call_id=CALL_ID_208, from_tag=TAG_208, to_tag=TAG_RLS_208,
               content_type="application/dialog-info+xml"):
    return sip_message(f"NOTIFY {RLS_URI.replace(DOMAIN, '10.1.1.68')} SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 10.1.1.124;branch={br()}"),
        ("From", f"<{E208}>;tag={from_tag}"),
        ("To", f"<{RLS_URI}>;tag={to_tag}"),
        ("CSeq", f"{cseq} NOTIFY"),
        ("Call-ID", call_id),
        ("Contact", "<sip:208@10.1.1.124>"),
        ("Event", "dialog"),
        ("Subscription-State", "active;expires=3600"),
        ("User-Agent", UA_330),
        ("Max-Forwards", "70"),
        ("Content-Type", content_type),
        ("Content-Length", None),
    ], body)


def ok(request, ua, to_tag=None):
    return sip_response(request, 200, "OK", to_tag=to_tag, headers=[("User-Agent", ua)])


class Field000:
    """The field-case story: RLS subscription to 208 (UDP), 207's BLF subscription (TCP), two calls."""

    def __init__(self, ringing_reported):
        self.ringing = ringing_reported
        self.story = Story(EPOCH + 0.512)
        self.br208, self.br207, self.brcall = Branches("208"), Branches("207"), Branches("call")
        self.v208 = 0         # 208's document version
        self.cseq208 = 1      # 208's NOTIFY CSeq
        self.vdi = 11         # RLS consolidated dialog-info version (global in sipXrls)
        self.vlist = 0        # RLMI version for 207's subscription
        self.cseq207 = 0
        self.conn = None

    def udp_208(self, payload):
        self.story.udp(P208, 5060, SIPX, 5060, payload)

    def udp_to_208(self, payload):
        self.story.udp(SIPX, 5060, P208, 5060, payload)

    def report(self, dialogs):
        """208 reports its dialogs to the RLS, which relays them to 207."""
        s = self.story
        n = notify_208(s, self.br208, self.cseq208, polycom_body(self.v208, dialogs))
        self.udp_208(n)
        s.advance(0.004)
        self.udp_to_208(ok(n, UA_RLS))
        self.v208 += 1
        self.cseq208 += 1
        s.advance(0.250)  # sipXrls publishing delay
        self.relay(dialogs)

    def relay(self, dialogs):
        s = self.story
        self.vdi += 1
        self.vlist += 1
        self.cseq207 += 1
        n = notify_207(s, self.br207, self.cseq207, rls_parts(self.vlist, self.vdi, dialogs))
        self.conn.send(SERVER, n)
        s.advance(0.030)
        self.conn.send(CLIENT, ok(n, UA_650))

    def build(self):
        s = self.story
        # The RLS (re)subscribes to 208; 208 answers and reports no dialog.
        sub = subscribe_208(s, self.br208, 1)
        self.udp_to_208(sub)
        s.advance(0.012)
        self.udp_208(sip_response(sub, 202, "Accepted", to_tag=TAG_208,
                                  headers=[("Contact", "<sip:208@10.1.1.124>"), ("Expires", "3600"),
                                           ("User-Agent", UA_330)]))
        s.advance(0.020)
        n = notify_208(s, self.br208, self.cseq208, polycom_body(self.v208, []))
        self.udp_208(n)
        s.advance(0.004)
        self.udp_to_208(ok(n, UA_RLS))
        self.v208 += 1
        self.cseq208 += 1

        # 207 subscribes to its resource list over TCP; sipX's 202 and first NOTIFY share a segment.
        s.advance(2.0)
        self.conn = TcpConnection(s, P207, 1081, SIPX, 5060, rtt=0.0006).handshake()
        s.advance(0.002)
        sub = subscribe_207(s, self.br207, 1)
        self.conn.send(CLIENT, sub)
        s.advance(0.045)
        accepted = sip_response(sub, 202, "Accepted", to_tag=TAG_RLS_207,
                                headers=[("Contact", "<sip:~~rl~C~207@10.1.1.68:5130;transport=tcp>"),
                                         ("Expires", "3600"), ("User-Agent", UA_RLS)])
        self.vdi += 1
        n = notify_207(s, self.br207, self.cseq207, rls_parts(self.vlist, self.vdi, []))
        self.conn.send(SERVER, accepted + n)
        s.advance(0.030)
        self.conn.send(CLIENT, ok(n, UA_650))

        # Call 1: 208 calls 206.
        s.advance(8.0)
        c1 = {"id": "id" + hexid("c1", size=8), "call_id": f"{hexid('c1cid', size=8)}-{hexid('c1b', size=8)}@10.1.1.124",
              "local_tag": hexid("c1lt", size=8) + "-" + hexid("c1lt2", size=8), "direction": "initiator",
              "remote": f"sip:206@{DOMAIN}", "target": f"sip:206@{DOMAIN}"}
        invite = self.invite_from_208(c1)
        self.udp_208(invite)
        s.advance(0.003)
        self.udp_to_208(sip_response(invite, 100, "Trying", headers=[("User-Agent", UA_PROXY)]))
        self.report([dict(c1, state="trying")])
        s.advance(0.600)
        c1["remote_tag"] = hexid("c1rt", size=8)
        self.udp_to_208(sip_response(invite, 180, "Ringing", to_tag=c1["remote_tag"],
                                     headers=[("Contact", "<sip:206@10.1.1.123>")]))
        self.report([dict(c1, state="early")])
        s.advance(3.2)
        self.udp_to_208(sip_response(invite, 200, "OK", to_tag=c1["remote_tag"],
                                     headers=[("Contact", "<sip:206@10.1.1.123>")]))
        s.advance(0.010)
        self.udp_208(self.in_dialog_208(c1, "ACK", 1))
        self.report([dict(c1, state="confirmed")])
        s.advance(12.0)
        bye = self.in_dialog_208(c1, "BYE", 2)
        self.udp_208(bye)
        s.advance(0.020)
        self.udp_to_208(ok(bye, UA_PROXY))
        self.report([dict(c1, state="terminated", event="local-bye")])

        # Call 2: 206 calls 208. In the field case 208 reports nothing while it rings.
        s.advance(15.0)
        c2 = {"id": "id" + hexid("c2", size=8), "call_id": f"{hexid('c2cid', size=8)}-{hexid('c2b', size=8)}@10.1.1.123",
              "local_tag": hexid("c2lt", size=8) + "-" + hexid("c2lt2", size=8),
              "remote_tag": hexid("c2rt", size=8) + "-" + hexid("c2rt2", size=8), "direction": "recipient",
              "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}
        invite = self.invite_to_208(c2)
        self.udp_to_208(invite)
        s.advance(0.004)
        self.udp_208(sip_response(invite, 100, "Trying", headers=[("User-Agent", UA_330)]))
        s.advance(0.030)
        self.udp_208(sip_response(invite, 180, "Ringing", to_tag=c2["local_tag"],
                                  headers=[("Contact", "<sip:208@10.1.1.124>"), ("User-Agent", UA_330)]))
        if self.ringing:
            s.advance(0.015)
            self.report([dict(c2, state="early")])
        s.advance(4.5)
        self.udp_208(sip_response(invite, 200, "OK", to_tag=c2["local_tag"],
                                  headers=[("Contact", "<sip:208@10.1.1.124>"), ("User-Agent", UA_330)]))
        s.advance(0.012)
        self.udp_to_208(self.in_dialog_to_208(c2, "ACK", 1))
        self.report([dict(c2, state="confirmed")])
        s.advance(20.0)
        bye = self.in_dialog_to_208(c2, "BYE", 2)
        self.udp_to_208(bye)
        s.advance(0.010)
        self.udp_208(ok(bye, UA_330))
        self.report([dict(c2, state="terminated", event="remote-bye")])
        # 208 back to idle: its next full state has no dialog, the RLS writes the placeholder.
        s.advance(5.0)
        self.report([])
        s.advance(1.0)
        self.conn.close(CLIENT)
        return s

    def invite_from_208(self, c):
        return sip_message(f"INVITE sip:206@{DOMAIN};user=phone SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.1.1.124;branch={self.brcall()}"),
            ("From", f'"208" <{E208}>;tag={c["local_tag"]}'),
            ("To", f"<sip:206@{DOMAIN};user=phone>"),
            ("CSeq", "1 INVITE"),
            ("Call-ID", c["call_id"]),
            ("Contact", "<sip:208@10.1.1.124>"),
            ("User-Agent", UA_330),
            ("Max-Forwards", "70"),
            ("Content-Length", None),
        ])

    def invite_to_208(self, c):
        return sip_message("INVITE sip:208@10.1.1.124 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.1.1.68;branch={self.brcall()}"),
            ("Via", f"SIP/2.0/UDP 10.1.1.123;branch={self.brcall()}"),
            ("Record-Route", "<sip:10.1.1.68:5060;lr>"),
            ("From", f'"206" <sip:206@{DOMAIN}>;tag={c["remote_tag"]}'),
            ("To", f"<{E208}>"),
            ("CSeq", "1 INVITE"),
            ("Call-ID", c["call_id"]),
            ("Contact", "<sip:206@10.1.1.123>"),
            ("Max-Forwards", "19"),
            ("Content-Length", None),
        ])

    def in_dialog_208(self, c, method, cseq):
        return sip_message(f"{method} sip:206@10.1.1.123 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.1.1.124;branch={self.brcall()}"),
            ("From", f'"208" <{E208}>;tag={c["local_tag"]}'),
            ("To", f'<sip:206@{DOMAIN};user=phone>;tag={c["remote_tag"]}'),
            ("CSeq", f"{cseq} {method}"),
            ("Call-ID", c["call_id"]),
            ("User-Agent", UA_330),
            ("Max-Forwards", "70"),
            ("Content-Length", None),
        ])

    def in_dialog_to_208(self, c, method, cseq):
        return sip_message(f"{method} sip:208@10.1.1.124 SIP/2.0", [
            ("Via", f"SIP/2.0/UDP 10.1.1.68;branch={self.brcall()}"),
            ("From", f'"206" <sip:206@{DOMAIN}>;tag={c["remote_tag"]}'),
            ("To", f'<{E208}>;tag={c["local_tag"]}'),
            ("CSeq", f"{cseq} {method}"),
            ("Call-ID", c["call_id"]),
            ("Max-Forwards", "19"),
            ("Content-Length", None),
        ])


# ---------------------------------------------------------------------------------------------
# Variations and bad input

def single_notify(body, n, content_type="application/dialog-info+xml", mss=1460):
    """Handshake, one NOTIFY from the RLS to 207 with body, 200 OK, FIN from 207."""
    story = Story(EPOCH + 60.0 + n)
    conn = TcpConnection(story, P207, 1081 + n, SIPX, 5060, mss=mss, rtt=0.0006).handshake()
    story.advance(0.002)
    br = Branches(f"single{n}")
    req = notify_207(story, br, 1, body)
    if content_type != MULTIPART_TYPE:
        req = req.replace(MULTIPART_TYPE.encode(), content_type.encode())
    conn.send(SERVER, req)
    story.advance(0.030)
    conn.send(CLIENT, ok(req, UA_650))
    story.advance(1.0)
    conn.close(CLIENT)
    return story


NAMESPACES = f"""<?xml version="1.0" encoding="UTF-8"?>
<d:dialog-info xmlns:d="{DI_NS}" xmlns:sa="urn:ietf:params:xml:ns:sa-dialog-info" version="7" state="partial" entity="sip:208@victoria.pingtel.com">
  <d:dialog id="id7a1f3c09" call-id="5e1b9a2c-2f7d4c11@10.1.1.124" local-tag="4c2d91e7" remote-tag="a81f0b33" direction="recipient">
    <sa:exclusive>false</sa:exclusive>
    <d:state event="replaced" code="200">confirmed</d:state>
    <d:duration>274</d:duration>
    <d:replaces call-id="0b7e5d3a@10.1.1.123" local-tag="9f21c7" remote-tag="3a0d55"/>
    <d:referred-by display="Operator">sip:200@victoria.pingtel.com</d:referred-by>
    <d:route-set><d:hop>sip:10.1.1.68:5060;lr</d:hop></d:route-set>
    <d:local>
      <d:identity display="Lab 208">sip:208@victoria.pingtel.com</d:identity>
      <d:target uri="sip:208@10.1.1.124">
        <d:param pname="+sip.rendering" pval="yes"/>
      </d:target>
      <d:session-description type="application/sdp">v=0</d:session-description>
      <d:cseq>3</d:cseq>
      <sa:appearance>1</sa:appearance>
    </d:local>
    <d:remote>
      <d:identity display="Front desk">sip:206@victoria.pingtel.com</d:identity>
      <d:target uri="sip:206@10.1.1.123"/>
    </d:remote>
  </d:dialog>
  <pc:line-seize xmlns:pc="http://www.polycom.com/xml/dialog-info" line="2"><pc:state>idle</pc:state></pc:line-seize>
</d:dialog-info>
"""

MALFORMED = f"""<?xml version="1.0"?>
<dialog-info xmlns="{DI_NS}" version="5" state="full" entity="sip:208@victoria.pingtel.com">
<dialog id="id9c0e2a11" call-id="7d2c@10.1.1.124" local-tag="5a1b" direction="initiator">
<state>early</dialog>
</dialog-info>
"""

MISSING = f"""<?xml version="1.0"?>
<dialog-info xmlns="{DI_NS}" version="6">
<dialog call-id="7d2c@10.1.1.124" direction="initiator">
<local><identity>sip:208@victoria.pingtel.com</identity><target/></local>
</dialog>
</dialog-info>
"""

UNKNOWN_VALUES = f"""<?xml version="1.0"?>
<dialog-info xmlns="{DI_NS}" version="8" state="delta" entity="sip:208@victoria.pingtel.com">
<dialog id="id2" direction="incoming"><state event="hangup">ringing</state></dialog>
<ringing>yes</ringing>
</dialog-info>
"""

PARTIAL_NO_VERSION = f"""<?xml version="1.0"?>
<dialog-info xmlns="{DI_NS}" state="partial" entity="sip:208@victoria.pingtel.com">
<dialog id="id3" direction="recipient"><state>early</state></dialog>
</dialog-info>
"""

NO_NAMESPACE = """<?xml version="1.0"?>
<dialog-info version="2" state="full" entity="sip:208@victoria.pingtel.com">
<dialog id="id4" direction="recipient"><state>early</state></dialog>
</dialog-info>
"""


def deep(root_open, root_close, levels=10000):
    return crlf(root_open + "\n" + "<x>" * levels + "</x>" * levels + "\n" + root_close)


def rlmi_single(rlmi_text, parts_after, n):
    """A multipart NOTIFY whose RLMI part is rlmi_text (bytes), then parts_after [(cid, type, body)]."""
    body = multipart([(RLMI_CID, "application/rlmi+xml", rlmi_text)] + parts_after)
    return single_notify(body, n, content_type=MULTIPART_TYPE)


RLMI_MISSING = b"""<?xml version="1.0"?>\r
<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:~~rl~C~207@victoria.pingtel.com">\r
  <resource uri="sip:208@victoria.pingtel.com">\r
    <instance cid="1@victoria.pingtel.com"/>\r
    <instance id="x2" state="open"/>\r
  </resource>\r
  <resource><name>no uri</name></resource>\r
</list>\r
"""


def rlmi_links():
    """Two resources: 208's instance names cid 1 (present), 209's names cid 2 (absent); a third part
    with cid 3 is named by no instance."""
    rl = (b'<?xml version="1.0"?>\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="' + LIST_URI.encode() +
          b'" version="4" fullState="true">\r\n'
          b'  <resource uri="sip:208@victoria.pingtel.com">\r\n    <name>208</name>\r\n'
          b'    <instance id="consolidated" state="active" cid="1@victoria.pingtel.com"/>\r\n  </resource>\r\n'
          b'  <resource uri="sip:209@victoria.pingtel.com">\r\n    <name>209</name>\r\n'
          b'    <instance id="consolidated" state="active" cid="2@victoria.pingtel.com"/>\r\n  </resource>\r\n'
          b'</list>\r\n')
    return rlmi_single(rl, [(f"1@{DOMAIN}", "application/dialog-info+xml", consolidated_body(20, [])),
                            (f"3@{DOMAIN}", "application/dialog-info+xml",
                             consolidated_body(21, []).replace(E208.encode(), b"sip:210@victoria.pingtel.com"))], 0x30)


def bad_sequence():
    """RLS subscription to 208 over UDP whose NOTIFYs break the version and dialog rules, then a second
    subscription that starts with partial state."""
    story = Story(EPOCH + 300.0)
    br = Branches("seq")
    sub = subscribe_208(story, br, 1)
    story.udp(SIPX, 5060, P208, 5060, sub)
    story.advance(0.010)
    story.udp(P208, 5060, SIPX, 5060, sip_response(sub, 202, "Accepted", to_tag=TAG_208,
                                                    headers=[("Expires", "3600"), ("User-Agent", UA_330)]))
    x = {"id": "id5b7e", "call_id": "ab12cd34@10.1.1.123", "local_tag": "77aa", "remote_tag": "88bb",
         "direction": "recipient", "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}

    def partial(version, state, event=None):
        d = dict(x, state=state)
        if event:
            d["event"] = event
        return polycom_body(version, [d]).replace(b'state="full"', b'state="partial"')

    docs = [polycom_body(1, []), partial(2, "early"), partial(4, "confirmed"), partial(3, "confirmed"),
            partial(5, "terminated", "remote-bye"), partial(6, "early")]
    cseq = 1
    for n, body in enumerate(docs):
        story.advance(1.0)
        if n == 2:  # the NOTIFY with CSeq 3 (version 3) and its 200 OK are not in the capture
            cseq += 1
        req = notify_208(story, br, cseq, body)
        story.udp(P208, 5060, SIPX, 5060, req)
        if n == 1:  # the RLS's 200 OK is late: 208 retransmits the NOTIFY after T1 (same CSeq)
            story.advance(0.5)
            story.udp(P208, 5060, SIPX, 5060, req)
        story.advance(0.004)
        story.udp(SIPX, 5060, P208, 5060, ok(req, UA_RLS))
        cseq += 1
    story.advance(2.0)
    sub2 = subscribe_208(story, br, 1, call_id="s-293749793d9ff064-16", from_tag="2c7a9e41")
    story.udp(SIPX, 5060, P208, 5060, sub2)
    story.advance(0.010)
    story.udp(P208, 5060, SIPX, 5060, sip_response(sub2, 202, "Accepted", to_tag="6d0e3f92-8b1c2a07",
                                                    headers=[("Expires", "3600"), ("User-Agent", UA_330)]))
    story.advance(0.020)
    req = notify_208(story, br, 1, partial(0, "early"), call_id="s-293749793d9ff064-16",
                     from_tag="6d0e3f92-8b1c2a07", to_tag="2c7a9e41")
    story.udp(P208, 5060, SIPX, 5060, req)
    story.advance(0.004)
    story.udp(SIPX, 5060, P208, 5060, ok(req, UA_RLS))
    return story


def two_in_one_segment():
    """207's subscription; the RLS then writes two multipart NOTIFYs (CSeq 1 and 2) in one TCP segment
    (a capture on the server with segmentation offload, hence MSS 8000): each body is tracked with
    its own message's CSeq and linked to its own parts."""
    story = Story(EPOCH + 200.0)
    br = Branches("pair")
    conn = TcpConnection(story, P207, 1090, SIPX, 5060, mss=8000, rtt=0.0006).handshake()
    story.advance(0.002)
    sub = subscribe_207(story, br, 1)
    conn.send(CLIENT, sub)
    story.advance(0.045)
    accepted = sip_response(sub, 202, "Accepted", to_tag=TAG_RLS_207,
                            headers=[("Contact", "<sip:~~rl~C~207@10.1.1.68:5130;transport=tcp>"),
                                     ("Expires", "3600"), ("User-Agent", UA_RLS)])
    first = notify_207(story, br, 0, rls_parts(0, 30, []))
    conn.send(SERVER, accepted + first)
    story.advance(0.030)
    conn.send(CLIENT, ok(first, UA_650))
    story.advance(5.0)
    c = {"id": "id61c2a7f0", "call_id": "3f9a1c5e-77d2b014@10.1.1.123", "local_tag": "0e4b7a21-5c3d9e10",
         "remote_tag": "9a7c3e55-1b2f6d84", "direction": "recipient", "remote": f"sip:206@{DOMAIN}",
         "target": "sip:206@10.1.1.123"}
    n1 = notify_207(story, br, 1, rls_parts(1, 31, [dict(c, state="early")]))
    n2 = notify_207(story, br, 2, rls_parts(2, 32, [dict(c, state="confirmed")]))
    conn.send(SERVER, n1 + n2)
    story.advance(0.030)
    conn.send(CLIENT, ok(n1, UA_650) + ok(n2, UA_650))
    story.advance(1.0)
    conn.close(CLIENT)
    return story


def healthy_edge_cases():
    """Healthy BLF traffic that must raise no finding (review of issue 3): the RLS's subscription to
    208 over UDP. Call A rings and is answered; the RLS's 200 OK to the early NOTIFY is lost, so 208
    retransmits it after the confirmed NOTIFY (an older CSeq, which the RLS rejects: not applied, no
    version going back or skipped). Call B is a call picked up for 208 (INVITE with Replaces, answered
    without alerting: RFC 3891): recipient, confirmed at once, with <replaces>. Call C is refused by do
    not disturb: recipient, terminated, event rejected, code 486, never alerting."""
    story = Story(EPOCH + 400.0)
    br = Branches("edge")
    call_id, rls_tag, tag208 = "s-293749793d9ff064-17", "4e1d7c20", "7a3f0b91-2c6e5d48"
    sub = subscribe_208(story, br, 1, call_id=call_id, from_tag=rls_tag)
    story.udp(SIPX, 5060, P208, 5060, sub)
    story.advance(0.012)
    story.udp(P208, 5060, SIPX, 5060, sip_response(sub, 202, "Accepted", to_tag=tag208,
                                                    headers=[("Expires", "3600"), ("User-Agent", UA_330)]))

    def dlg(name, **kw):
        d = {"id": "id" + hexid("edge", name), "call_id": f"{hexid('edgecid', name)}@10.1.1.123",
             "local_tag": hexid("edgelt", name), "remote_tag": hexid("edgert", name), "direction": "recipient",
             "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}
        d.update(kw)
        return d

    a, b, c = dlg("a"), dlg("b"), dlg("c")
    replaces = (f'</state>\n<replaces call-id="{hexid("edgeorig", "b")}@10.1.1.123" local-tag="{hexid("o1", "b")}" '
                f'remote-tag="{hexid("o2", "b")}"/>').encode()
    docs = [polycom_body(0, []), polycom_body(1, [dict(a, state="early")]),
            polycom_body(2, [dict(a, state="confirmed")]),
            polycom_body(3, [dict(a, state="terminated", event="remote-bye")]),
            polycom_body(4, [dict(b, state="confirmed")]).replace(b"</state>", replaces),
            polycom_body(5, [dict(b, state="terminated", event="remote-bye")]).replace(b"</state>", replaces),
            polycom_body(6, [dict(c, state="terminated", event="rejected")]).replace(
                b'<state event="rejected">', b'<state event="rejected" code="486">'),
            polycom_body(7, [])]
    early = None
    for n, body in enumerate(docs):
        story.advance(0.020 if n == 0 else 1.0)
        req = notify_208(story, br, n + 1, body, call_id=call_id, from_tag=tag208, to_tag=rls_tag)
        story.udp(P208, 5060, SIPX, 5060, req)
        if n == 1:
            early = req  # its 200 OK is lost
            continue
        story.advance(0.004)
        story.udp(SIPX, 5060, P208, 5060, ok(req, UA_RLS))
        if n == 2:  # T1 doubled: 208 retransmits the early NOTIFY after the confirmed one
            story.advance(0.6)
            story.udp(P208, 5060, SIPX, 5060, early)
            story.advance(0.004)
            story.udp(SIPX, 5060, P208, 5060, sip_response(early, 500, "Server Internal Error",
                                                           headers=[("User-Agent", UA_RLS)]))
    return story


def rlmi_nested_list():
    """RFC 4662 nested lists: the list has resource 208 (cid 1) and a sub-list (cid 2) whose part is
    itself multipart/related, with its own RLMI root and 209's dialog-info part (cid 3). Every
    instance is linked to its own multipart body's part; no part is unreferenced."""
    inner_boundary = "3b7e0c914d2a6f58"
    inner_rlmi = (f'<?xml version="1.0"?>\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:~~rl~F~207@{DOMAIN}" '
                  f'version="1" fullState="true">\r\n  <resource uri="sip:209@{DOMAIN}">\r\n    <name>209</name>\r\n'
                  f'    <instance id="consolidated" state="active" cid="3@{DOMAIN}"/>\r\n  </resource>\r\n'
                  '</list>\r\n').encode()
    inner = multipart([(f"sub@{DOMAIN}", "application/rlmi+xml", inner_rlmi),
                       (f"3@{DOMAIN}", "application/dialog-info+xml",
                        consolidated_body(8, []).replace(E208.encode(), f"sip:209@{DOMAIN}".encode()))])
    inner = inner.replace(BOUNDARY.encode(), inner_boundary.encode())
    inner_type = (f'multipart/related;type="application/rlmi+xml";start="<sub@{DOMAIN}>";'
                  f'boundary="{inner_boundary}"')
    outer = (f'<?xml version="1.0"?>\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="{LIST_URI}" version="1" '
             f'fullState="true">\r\n  <resource uri="{E208}">\r\n    <name>208</name>\r\n'
             f'    <instance id="consolidated" state="active" cid="1@{DOMAIN}"/>\r\n  </resource>\r\n'
             f'  <resource uri="sip:~~rl~F~207@{DOMAIN}">\r\n    <name>floor</name>\r\n'
             f'    <instance id="sublist" state="active" cid="2@{DOMAIN}"/>\r\n  </resource>\r\n</list>\r\n').encode()
    return rlmi_single(outer, [(f"1@{DOMAIN}", "application/dialog-info+xml", consolidated_body(24, [])),
                               (f"2@{DOMAIN}", inner_type, inner)], 0x31)


def rls_global_versions():
    """Healthy: 207's subscription to its list while the RLS also serves other users' lists. sipXrls
    numbers every consolidated dialog-info part from one global counter (ResourceCached::generateBody:
    "we use a global version number in the ResourceListSet"), so 208's parts go 40, 41, 45, 46 while
    the RLMI versions of this subscription go 0, 1, 2, 3: no NOTIFY is lost, nothing may fire."""
    story = Story(EPOCH + 500.0)
    br = Branches("global")
    conn = TcpConnection(story, P207, 1095, SIPX, 5060, rtt=0.0006).handshake()
    story.advance(0.002)
    sub = subscribe_207(story, br, 1)
    conn.send(CLIENT, sub)
    story.advance(0.045)
    accepted = sip_response(sub, 202, "Accepted", to_tag=TAG_RLS_207,
                            headers=[("Contact", "<sip:~~rl~C~207@10.1.1.68:5130;transport=tcp>"),
                                     ("Expires", "3600"), ("User-Agent", UA_RLS)])
    c = {"id": "id" + hexid("global", "c"), "call_id": f"{hexid('globalcid', 'c')}@10.1.1.123",
         "local_tag": hexid("globallt", "c"), "remote_tag": hexid("globalrt", "c"), "direction": "recipient",
         "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}
    steps = [(40, []), (41, [dict(c, state="early")]), (45, [dict(c, state="confirmed")]),
             (46, [dict(c, state="terminated", event="remote-bye")])]
    for n, (version, dialogs) in enumerate(steps):
        req = notify_207(story, br, n, rls_parts(n, version, dialogs))
        conn.send(SERVER, accepted + req if n == 0 else req)
        story.advance(0.030)
        conn.send(CLIENT, ok(req, UA_650))
        story.advance(3.0)
    conn.close(CLIENT)
    return story


def subscription_208(story, br, call_id, rls_tag, tag208):
    """The RLS's SUBSCRIBE to 208 over UDP and 208's 202."""
    sub = subscribe_208(story, br, 1, call_id=call_id, from_tag=rls_tag)
    story.udp(SIPX, 5060, P208, 5060, sub)
    story.advance(0.012)
    story.udp(P208, 5060, SIPX, 5060, sip_response(sub, 202, "Accepted", to_tag=tag208,
                                                    headers=[("Expires", "3600"), ("User-Agent", UA_330)]))


def notify_sequence(story, br, call_id, rls_tag, tag208, docs):
    """208's NOTIFYs over UDP, each answered 200 OK: docs [(cseq, body)]."""
    for cseq, body in docs:
        story.advance(1.0)
        req = notify_208(story, br, cseq, body, call_id=call_id, from_tag=tag208, to_tag=rls_tag)
        story.udp(P208, 5060, SIPX, 5060, req)
        story.advance(0.004)
        story.udp(SIPX, 5060, P208, 5060, ok(req, UA_RLS))


def version_steps(lost):
    """A notifier that counts document versions in steps of 2 (as Vertical Wave does in
    wswiki__wireuploaded.pcap: 3479, 3481, 3483 in consecutive CSeqs): 208's NOTIFYs to the RLS go
    v10 full, v12, v14, v16, v18, v20 partial, v22, v24 full, in CSeqs 1-8, each answered 200 OK.
    Healthy (lost=False): nothing missing, nothing may fire. lost=True: the capture (a SPAN port under
    load) dropped NOTIFY CSeq 3 (v14) and CSeq 6 (v20) with their 200 OKs: version_skipped fires once,
    on v16 (partial, CSeq 4 after 2); v22 after the second gap is full state: nothing to report."""
    story = Story(EPOCH + 600.0 + (10.0 if lost else 0.0))
    br = Branches("steps-lost" if lost else "steps")
    call_id, rls_tag, tag208 = "s-293749793d9ff064-18", "5b2e8d31", "3c9f1a07-6e2b4d85"
    subscription_208(story, br, call_id, rls_tag, tag208)

    def dlg(name, **kw):
        d = {"id": "id" + hexid("steps", name), "call_id": f"{hexid('stepscid', name)}@10.1.1.124",
             "local_tag": hexid("stepslt", name), "remote_tag": hexid("stepsrt", name), "direction": "initiator",
             "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}
        d.update(kw)
        return d

    def partial(version, dialogs):
        return polycom_body(version, dialogs).replace(b'state="full"', b'state="partial"')

    a, b = dlg("a"), dlg("b", direction="recipient")
    docs = [polycom_body(10, []), partial(12, [dict(a, state="trying")]), partial(14, [dict(a, state="early")]),
            partial(16, [dict(a, state="confirmed")]), partial(18, [dict(a, state="terminated", event="local-bye")]),
            partial(20, [dict(b, state="early")]), polycom_body(22, [dict(b, state="confirmed")]),
            polycom_body(24, [dict(b, state="terminated", event="remote-bye")])]
    dropped = {3, 6} if lost else set()
    notify_sequence(story, br, call_id, rls_tag, tag208,
                    [(n + 1, body) for n, body in enumerate(docs) if n + 1 not in dropped])
    return story


PARAM_PVALUE = f"""<?xml version="1.0"?>
<dialog-info entity="sip:208@victoria.pingtel.com" state="partial" version="3481" xmlns="{DI_NS}">
	<dialog id="20800c0a83c5a" call-id="96d512faf42c9211057bbb2dd3b2f194@10.1.1.124" direction="initiator" local-tag="0bd68bae78c0100" remote-tag="10.1.1.68+1+95800002+c2b80571">
		<state>confirmed</state>
		<local>
			<target uri="sip:208@victoria.pingtel.com">
				<param pname="x-line-id" pvalue="0"></param>
				<param pname="+sip.rendering" pvalue="yes"></param>
			</target>
		</local>
<remote>
			<identity>sip:915054732211@victoria.pingtel.com</identity>
		</remote>
	</dialog>
</dialog-info>
"""


def ringing_discarded():
    """208 reports incoming call R early in a partial document that repeats version 2 (CSeq 3, frame
    7): the RLS discards it (RFC 4235 section 4.4), so its lamp never flashes; version 3 then reports R
    confirmed. The cause is the repeated version (version_backwards, frame 7); R never ringing for the
    subscriber is its consequence (ringing_discarded, a note with dialoginfo.caused_by 7)."""
    story = Story(EPOCH + 700.0)
    br = Branches("discarded")
    call_id, rls_tag, tag208 = "s-293749793d9ff064-19", "6a1c9e42", "8d2f0b63-1e7a4c59"
    subscription_208(story, br, call_id, rls_tag, tag208)
    r = {"id": "id" + hexid("discarded", "r"), "call_id": f"{hexid('discardedcid', 'r')}@10.1.1.123",
         "local_tag": hexid("discardedlt", "r"), "remote_tag": hexid("discardedrt", "r"), "direction": "recipient",
         "remote": f"sip:206@{DOMAIN}", "target": "sip:206@10.1.1.123"}

    def partial(version, dialogs):
        return polycom_body(version, dialogs).replace(b'state="full"', b'state="partial"')

    docs = [polycom_body(1, []), partial(2, []), partial(2, [dict(r, state="early")]),
            partial(3, [dict(r, state="confirmed")]), partial(4, [dict(r, state="terminated", event="remote-bye")])]
    notify_sequence(story, br, call_id, rls_tag, tag208, [(n + 1, body) for n, body in enumerate(docs)])
    return story


CAPTURES = {
    "dialoginfo_blf_ringing_not_reported.pcap": lambda: Field000(ringing_reported=False).build(),
    "dialoginfo_blf_healthy.pcap": lambda: Field000(ringing_reported=True).build(),
    "dialoginfo_namespaces.pcap": lambda: single_notify(crlf(NAMESPACES), 0x10),
    "dialoginfo_two_in_one_segment.pcap": two_in_one_segment,
    "dialoginfo_bad_sequence.pcap": bad_sequence,
    "dialoginfo_bad_malformed.pcap": lambda: single_notify(crlf(MALFORMED), 0x11),
    "dialoginfo_bad_missing_attributes.pcap": lambda: single_notify(crlf(MISSING), 0x12),
    "dialoginfo_bad_unknown_values.pcap": lambda: single_notify(crlf(UNKNOWN_VALUES), 0x13),
    "dialoginfo_bad_partial_without_version.pcap": lambda: single_notify(crlf(PARTIAL_NO_VERSION), 0x14),
    "dialoginfo_bad_no_namespace.pcap": lambda: single_notify(crlf(NO_NAMESPACE), 0x15),
    "dialoginfo_bad_deep_nesting.pcap": lambda: single_notify(
        deep(f'<?xml version="1.0"?>\n<dialog-info xmlns="{DI_NS}" version="1" state="full" entity="{E208}">',
             "</dialog-info>"), 0x16),
    "rlmi_bad_malformed.pcap": lambda: rlmi_single(
        rlmi_body(2, [("consolidated", "active", f"1@{DOMAIN}")]).replace(b"  </resource>", b"  </resorce>"),
        [(f"1@{DOMAIN}", "application/dialog-info+xml", consolidated_body(14, []))], 0x20),
    "rlmi_bad_missing_attributes.pcap": lambda: rlmi_single(
        RLMI_MISSING, [(f"1@{DOMAIN}", "application/dialog-info+xml", consolidated_body(15, []))], 0x21),
    "rlmi_bad_deep_nesting.pcap": lambda: rlmi_single(
        deep(f'<?xml version="1.0"?>\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="{LIST_URI}" version="3" '
             'fullState="true">', "</list>"), [], 0x22),
    "rlmi_bad_links.pcap": rlmi_links,
    "dialoginfo_healthy_edge_cases.pcap": healthy_edge_cases,
    "rlmi_nested_list.pcap": rlmi_nested_list,
    "dialoginfo_rls_global_versions.pcap": rls_global_versions,
    "dialoginfo_version_steps.pcap": lambda: version_steps(lost=False),
    "dialoginfo_version_steps_lost.pcap": lambda: version_steps(lost=True),
    "dialoginfo_param_pvalue.pcap": lambda: single_notify(crlf(PARAM_PVALUE), 0x17),
    "dialoginfo_ringing_discarded.pcap": ringing_discarded,
}


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        start = time.perf_counter()
        for host in (SIPX, P207, P208):
            host.restart()
        story = build()
        story.write(os.path.join(outdir, name))
        print(f"{name}: {len(story.frames)} frames in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
