#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the ciscoalarm test captures (field case 003) into captures/ or OUTDIR.

Field case 003: a Cisco CP-7821 (192.168.15.20) that has just booted sends CUCM (192.168.110.100:5060)
two REFERs over TCP whose bodies are application/x-cisco-alarm+xml alarms (DeviceTLInfo,
LastOutOfServiceInformation), then REGISTERs. REFER headers and XML bodies are the seed's, with CRLF
line endings in the bodies like the phone; CUCM's answers, the REGISTER and the TCP around them are made
to match. The other captures vary that story (earlier registration present, cid mismatch, multipart)
or feed the decoder bad input. Output is deterministic: two runs give byte-identical files.

Usage: /usr/bin/python3 captures/gen_ciscoalarm.py [OUTDIR]
"""
import calendar
import email.utils
import gzip
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipstory import (CLIENT, SERVER, Host, Story, TcpConnection, sip_headers, sip_message,  # noqa: E402
                      sip_response)

PHONE = Host("192.168.15.20", "c4:b9:cd:80:86:47", ttl=64, window=29200)
# CUCM is in another subnet: its frames reach the phone's switch port from the gateway 192.168.15.251.
CUCM = Host("192.168.110.100", "00:1e:f7:2a:9c:41", ttl=63, window=64240)
CUCM_PORT, BOOT_PORT, OLD_PORT = 5060, 50867, 50386

ALARM_TYPE = "application/x-cisco-alarm+xml"
USER_AGENT = "Cisco-CP7821/11.5.1"
LAURENT = '"Laurent Robert" <sip:7821@192.168.15.20>'
SESSION_ID = "98b5223700105000a000c4b9cd808647;remote=00000000000000000000000000000000"
ALLOW = "ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE"
DEVICE = '+u.sip!devicename.ccm.cisco.com="SEPC4B9CD808647"'
INSTANCE = '+sip.instance="<urn:uuid:00000000-0000-0000-0000-c4b9cd808647>"'
SUPPORTED = ("replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
             "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
             "X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1")
CID1, CID2 = "082f1702@192.168.15.20", "65877be3@192.168.15.20"

# Identities of the seed's two REFERs; the other messages get made-up ids in the same style (ids()).
SEED_REFER1 = {"branch": "z9hG4bK525f6d5b", "tag": "c4b9cd80864700020acadc33-3512f52a",
               "call_id": "c4b9cd80-86470002-1eb10ed0-2f2fc25e@192.168.15.20"}
SEED_REFER2 = {"branch": "z9hG4bK399c9a5d", "tag": "c4b9cd80864700035188412b-15206e63",
               "call_id": "c4b9cd80-86470003-49128325-06b80b98@192.168.15.20"}
OLD_REGISTER_CALL_ID = "c4b9cd80-86470022-467f1380-3b60328a@192.168.15.20"

# The seed's two bodies, byte for byte (LF line endings, no final newline); the unit tests read the
# same files.
BODIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bodies")
with open(os.path.join(BODIES, "seed003_device_tl_info.xml"), encoding="utf-8") as f:
    DEVICE_TL_INFO = f.read()
with open(os.path.join(BODIES, "seed003_last_out_of_service_information.xml"), encoding="utf-8") as f:
    LAST_OUT_OF_SERVICE = f.read()

DIALOG_INFO = """\
<?xml version="1.0" encoding="UTF-8"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full" \
entity="sip:7821@192.168.110.100">
<dialog id="a84b4c76e66710" call-id="c4b9cd80-86470009-3a1e0c2f-0d4b7e51@192.168.15.20" \
local-tag="c4b9cd8086470009" direction="initiator">
<state>confirmed</state>
<local><identity>sip:7821@192.168.110.100</identity></local>
<remote><identity>sip:7822@192.168.110.100</identity></remote>
</dialog>
</dialog-info>"""

NOT_XML = ("%CP-7821-3-ALARM: DeviceTLInfo DeviceName=SEPC4B9CD808647 IPv4Address=192.168.15.20 "
           'CTL_Signature="Not Installed" ITL_TFTP_Server=pub.techvivi.local StatusCode=3\n')


def crlf(text):
    """Body bytes with CRLF line endings, like the phone sends them."""
    return text.replace("\n", "\r\n").encode("utf-8")


def utc(hour, minute, second):
    """Seconds since 1970 for 2020-01-15 hour:minute:second UTC (second may be fractional)."""
    return calendar.timegm((2020, 1, 15, hour, minute, 0)) + second


def hexid(*parts, size=8):
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:size]


def ids(n):
    """Branch, From tag and Call-ID in the phone's style for made-up message number n."""
    return {"branch": "z9hG4bK" + hexid("branch", n),
            "tag": f"c4b9cd808647{n:04x}{hexid('tag', n)}-{hexid('tag2', n)}",
            "call_id": f"c4b9cd80-8647{n:04x}-{hexid('cid', n)}-{hexid('cid2', n)}@192.168.15.20"}


def date(story):
    return email.utils.formatdate(story.wallclock, usegmt=True)


def contact(port):
    return f"<sip:e47a851c-de7c-3804-b05b-40f49816efd1@192.168.15.20:{port};transport=tcp>"


def refer(story, ident, body, port=BOOT_PORT, refer_to="cid:" + CID1, content_id=f"<{CID1}>",
          content_type=ALARM_TYPE, disposition="session;handling=required", extra=()):
    """The phone's alarm REFER, headers in the seed's order; content_id/disposition None drop them."""
    headers = [
        ("Via", f"SIP/2.0/TCP 192.168.15.20:{port};branch={ident['branch']}"),
        ("From", f"{LAURENT};tag={ident['tag']}"),
        ("To", "<sip:192.168.110.100>"),
        ("Call-ID", ident["call_id"]),
        ("Session-ID", SESSION_ID),
        ("Date", date(story)),
        ("CSeq", "1000 REFER"),
        ("User-Agent", USER_AGENT),
        ("Expires", "10"),
        ("Max-Forwards", "70"),
        ("Contact", f"{contact(port)};{DEVICE}"),
        ("Require", "norefersub"),
        ("Referred-By", LAURENT),
        ("Refer-To", refer_to),
    ]
    if content_id:
        headers.append(("Content-Id", content_id))
    headers += [("Allow", ALLOW), *extra, ("Content-Length", None), ("Content-Type", content_type)]
    if disposition:
        headers.append(("Content-Disposition", disposition))
    return sip_message("REFER sip:192.168.110.100 SIP/2.0", headers, body)


def register(story, ident, port, cseq, after_boot):
    """The phone's REGISTER; after a boot it carries the Reason header of Cisco phones."""
    headers = [
        ("Via", f"SIP/2.0/TCP 192.168.15.20:{port};branch={ident['branch']}"),
        ("From", f"<sip:7821@192.168.110.100>;tag={ident['tag']}"),
        ("To", "<sip:7821@192.168.110.100>"),
        ("Call-ID", ident["call_id"]),
        ("Max-Forwards", "70"),
        ("Session-ID", SESSION_ID),
        ("Date", date(story)),
        ("CSeq", f"{cseq} REGISTER"),
        ("User-Agent", USER_AGENT),
        ("Contact", f'{contact(port)};{INSTANCE};{DEVICE};+u.sip!model.ccm.cisco.com="621";video'),
        ("Supported", SUPPORTED),
    ]
    if after_boot:
        headers.append(("Reason", 'SIP;cause=200;text="cisco-alarm:25 Name=SEPC4B9CD808647 '
                                  'ActiveLoad=sip78xx.11-5-1-18 InactiveLoad=sip78xx.11-5-1-18 '
                                  'Last=initialized"'))
    headers += [("Expires", "3600"), ("Content-Length", None)]
    return sip_message("REGISTER sip:192.168.110.100 SIP/2.0", headers)


def header(message, name):
    return next(v for k, v in sip_headers(message) if k.lower() == name.lower())


def cucm_answer(story, request, code, reason, headers):
    """CUCM's answer: its To tag style, Date, Server, Session-ID echoing the phone's."""
    call_id = header(request, "Call-ID")
    tag = f"{int(hexid('cucm', call_id, size=5), 16)}~{hexid('uuid', call_id, size=8)}-" \
          f"{hexid('u2', call_id, size=4)}-{hexid('u3', call_id, size=4)}-{hexid('u4', call_id, size=4)}-" \
          f"{hexid('u5', call_id, size=12)}-{int(hexid('n', call_id, size=6), 16)}"
    session = f"{hexid('session', call_id, size=32)};remote=98b5223700105000a000c4b9cd808647"
    return sip_response(request, code, reason, to_tag=tag,
                        headers=[("Date", date(story)), *headers, ("Server", "Cisco-CUCM11.5"),
                                 ("Session-ID", session)])


def accepted(story, request):
    return cucm_answer(story, request, 202, "Accepted",
                       [("Contact", "<sip:192.168.110.100:5060;transport=tcp>")])


def registered(story, request):
    return cucm_answer(story, request, 200, "OK", [
        ("Contact", header(request, "Contact") + ";x-cisco-newreg;expires=120"),
        ("Supported", "X-cisco-srtp-fallback,X-cisco-sis-9.2.0")])


def transact(story, conn, request, answer, think=0.003):
    """Phone sends request (CUCM ACKs it), CUCM answers after think seconds (the phone ACKs)."""
    conn.send(CLIENT, request)
    story.advance(think)
    conn.send(SERVER, answer(story, request))


def single_refer(body, n, mss=1460, **kw):
    """Handshake, one alarm REFER answered by 202 Accepted, FIN from the phone."""
    story = Story(utc(22, 49, 18.012))
    conn = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT, mss=mss).handshake()
    story.advance(0.004)
    transact(story, conn, refer(story, ids(n), body, **kw), accepted)
    story.advance(1.5)
    conn.close(CLIENT)
    return story


def boot():
    story = Story(utc(22, 49, 18.012))
    conn = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT).handshake()
    story.advance(0.004)
    transact(story, conn, refer(story, SEED_REFER1, crlf(DEVICE_TL_INFO)), accepted)
    story.advance(0.021)
    transact(story, conn, refer(story, SEED_REFER2, crlf(LAST_OUT_OF_SERVICE), refer_to="cid:" + CID2,
                                content_id=f"<{CID2}>"), accepted)
    story.advance(0.140)
    transact(story, conn, register(story, ids(4), BOOT_PORT, 101, after_boot=True), registered)
    story.advance(4.0)
    conn.close(CLIENT)
    return story


def reboot_history():
    # The alarm's TimeStamp 1579128304808 is 22:45:04.808 UTC: the old REGISTER goes just before it.
    story = Story(utc(22, 45, 4.690))
    old = TcpConnection(story, PHONE, OLD_PORT, CUCM, CUCM_PORT).handshake()
    story.advance(0.010)
    old_ids = dict(ids(0x22), call_id=OLD_REGISTER_CALL_ID)
    transact(story, old, register(story, old_ids, OLD_PORT, 336, after_boot=False), registered)
    story.at(0.118)
    old.reset(CLIENT)  # the phone reboots; its stack aborts the connection
    story.at(utc(22, 49, 18.012) - utc(22, 45, 4.690))
    new = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT).handshake()
    story.advance(0.004)
    transact(story, new, refer(story, SEED_REFER2, crlf(LAST_OUT_OF_SERVICE), refer_to="cid:" + CID2,
                               content_id=f"<{CID2}>"), accepted)
    return story


def cid_mismatch():
    story = Story(utc(22, 49, 18.012))
    conn = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT).handshake()
    story.advance(0.004)
    wrong_cid = refer(story, ids(0x10), crlf(DEVICE_TL_INFO), refer_to="cid:deadbeef@192.168.15.20")
    transact(story, conn, wrong_cid, accepted)
    story.advance(0.021)
    transact(story, conn, refer(story, ids(0x11), crlf(DEVICE_TL_INFO), content_id=None), accepted)
    story.advance(1.5)
    conn.close(CLIENT)
    return story


def multipart_body():
    return (b"--uniqueBoundary\r\n"
            b"Content-Type: " + ALARM_TYPE.encode() + b"\r\n"
            b"Content-ID: <" + CID1.encode() + b">\r\n"
            b"\r\n" + crlf(DEVICE_TL_INFO) + b"\r\n"
            b"--uniqueBoundary--\r\n")


def multipart():
    return single_refer(multipart_body(), 0x12, content_id=None, disposition=None,
                        content_type="multipart/mixed;boundary=uniqueBoundary",
                        extra=[("Mime-Version", "1.0")])


def pair_in_one_segment(make_first, make_second, mss):
    """Handshake, two REFERs sent in one TCP segment (a capture taken on the phone with segmentation
    offload shows them so, hence the large MSS), CUCM's two 202s in one segment, FIN from the phone.
    make_first/make_second build each REFER from the story."""
    story = Story(utc(22, 49, 18.012))
    conn = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT, mss=mss).handshake()
    story.advance(0.004)
    first, second = make_first(story), make_second(story)
    conn.send(CLIENT, first + second)
    story.advance(0.003)
    conn.send(SERVER, accepted(story, first) + accepted(story, second))
    story.advance(1.5)
    conn.close(CLIENT)
    return story


def two_in_one_segment():
    """Each body is checked against its own message's headers: the second REFER names cid:65877be3 and
    has no Content-Id; the first one's Content-Id must not be used for it."""
    return pair_in_one_segment(
        lambda story: refer(story, ids(0x1b), crlf(DEVICE_TL_INFO)),
        lambda story: refer(story, ids(0x1c), crlf(DEVICE_TL_INFO), refer_to="cid:" + CID2, content_id=None),
        mss=4000)


def multipart_then_plain():
    """Healthy twin of the per-message checks: a multipart REFER (part Content-ID 082f1702) and a plain
    REFER (Content-Id 65877be3) in one 4.3 kB segment; the second body must not take the first one's part."""
    return pair_in_one_segment(
        lambda story: refer(story, ids(0x1d), multipart_body(), content_id=None, disposition=None,
                            content_type="multipart/mixed;boundary=uniqueBoundary",
                            extra=[("Mime-Version", "1.0")]),
        lambda story: refer(story, ids(0x1e), crlf(LAST_OUT_OF_SERVICE), refer_to="cid:" + CID2,
                            content_id=f"<{CID2}>"),
        mss=8000)


def multipart_refer(n):
    return lambda story: refer(story, ids(n), multipart_body(), content_id=None, disposition=None,
                               content_type="multipart/mixed;boundary=uniqueBoundary", extra=[("Mime-Version", "1.0")])


def part_plain_part():
    """A multipart REFER, a plain REFER and a multipart REFER again in one 5.9 kB segment: three alarm
    bodies in one frame, two of them parts (each part also shows Wireshark's media item). Each keeps its
    own alarm: DeviceTLInfo, LastOutOfServiceInformation, DeviceTLInfo."""
    story = Story(utc(22, 49, 18.012))
    conn = TcpConnection(story, PHONE, BOOT_PORT, CUCM, CUCM_PORT, mss=12000).handshake()
    story.advance(0.004)
    refers = [multipart_refer(0x30)(story),
              refer(story, ids(0x31), crlf(LAST_OUT_OF_SERVICE), refer_to="cid:" + CID2, content_id=f"<{CID2}>"),
              multipart_refer(0x32)(story)]
    conn.send(CLIENT, b"".join(refers))
    story.advance(0.003)
    conn.send(SERVER, b"".join(accepted(story, r) for r in refers))
    story.advance(1.5)
    conn.close(CLIENT)
    return story


def gzip_two_in_one_segment():
    """Bodies sent with Content-Encoding: gzip: Wireshark inflates each into a data source of its own,
    where both bodies start at offset 0."""
    gz = [("Content-Encoding", "gzip")]
    return pair_in_one_segment(
        lambda story: refer(story, ids(0x1f), gzip.compress(crlf(DEVICE_TL_INFO), mtime=0), extra=gz),
        lambda story: refer(story, ids(0x20), gzip.compress(crlf(LAST_OUT_OF_SERVICE), mtime=0),
                            refer_to="cid:" + CID2, content_id=f"<{CID2}>", extra=gz),
        mss=4000)


def truncated_xml():
    body = crlf(LAST_OUT_OF_SERVICE)
    cut = body.index(b"3560_DC_SW") + len(b"3560_DC")
    return single_refer(body[:cut], 0x13, refer_to="cid:" + CID2, content_id=f"<{CID2}>")


def deep_nesting(levels=10000, n=0x16):
    body = crlf('<?xml version="1.0" encoding="UTF-8"?>\n<x-cisco-alarm>\n<Alarm Name="Deep">\n'
                "<ParameterList>\n" + "<a>" * levels + "</a>" * levels +
                "\n</ParameterList>\n</Alarm>\n</x-cisco-alarm>")
    return single_refer(body, n)


def huge_attribute():
    body = crlf(DEVICE_TL_INFO).replace(
        b'<String name="IPv4Address">',
        b'<String name="' + b"A" * 1048576 + b'">N/A</String>\r\n<String name="IPv4Address">')
    return single_refer(body, 0x17)


def billion_laughs():
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    body = crlf('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x-cisco-alarm [\n' + "\n".join(entities) +
                '\n]>\n<x-cisco-alarm>\n<Alarm Name="DeviceTLInfo">\n<ParameterList>\n'
                '<String name="DeviceName">&lol9;</String>\n'
                '<String name="IPv4Address">192.168.15.20</String>\n'
                "</ParameterList>\n</Alarm>\n</x-cisco-alarm>")
    return single_refer(body, 0x18)


def many_content_ids(count=600):
    """Hostile shape of issue 14: one REFER with count Content-Id headers. Each header is decoded by
    ciscoalarm through SIP's sip.hdr table; none may add a protocol layer (Wireshark stops at 500)."""
    extra = [("Content-Id", f"<{i:08x}@192.168.15.20>") for i in range(1, count - 1)]
    extra.append(("Content-Id", "<last@192.168.15.20>"))
    return single_refer(crlf(DEVICE_TL_INFO), 0x23, extra=extra)


def invalid_utf8():
    body = crlf(DEVICE_TL_INFO)
    body = body.replace(b">SEPC4B9CD808647<", b">SEPC4B9\xc3\x28CD808647\xff\xfe<")
    body = body.replace(b'name="IPv4Address"', b'name="IPv4\xc3\x28Address\xff\xfe"')
    return single_refer(body, 0x19)


CAPTURES = {
    "ciscoalarm_cp7821_boot.pcap": boot,
    "ciscoalarm_reboot_history.pcap": reboot_history,
    "ciscoalarm_cid_mismatch.pcap": cid_mismatch,
    "ciscoalarm_multipart.pcap": multipart,
    "ciscoalarm_two_in_one_segment.pcap": two_in_one_segment,
    "ciscoalarm_multipart_then_plain.pcap": multipart_then_plain,
    "ciscoalarm_gzip_two_in_one_segment.pcap": gzip_two_in_one_segment,
    "ciscoalarm_part_plain_part.pcap": part_plain_part,
    "ciscoalarm_bad_truncated_xml.pcap": truncated_xml,
    "ciscoalarm_bad_not_xml.pcap": lambda: single_refer(NOT_XML.replace("\n", "\r\n").encode(), 0x14),
    "ciscoalarm_bad_mislabelled.pcap": lambda: single_refer(crlf(DIALOG_INFO), 0x15),
    "ciscoalarm_bad_deep_nesting.pcap": deep_nesting,
    "ciscoalarm_bad_nesting_600.pcap": lambda: deep_nesting(600, 0x21),
    "ciscoalarm_bad_huge_attribute.pcap": huge_attribute,
    "ciscoalarm_bad_billion_laughs.pcap": billion_laughs,
    "ciscoalarm_bad_invalid_utf8.pcap": invalid_utf8,
    "ciscoalarm_bad_many_content_ids.pcap": many_content_ids,
    "ciscoalarm_split_segments.pcap": lambda: single_refer(crlf(LAST_OUT_OF_SERVICE), 0x1a, mss=300,
                                                           refer_to="cid:" + CID2, content_id=f"<{CID2}>"),
}


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        start = time.perf_counter()
        PHONE.restart()
        CUCM.restart()
        story = build()
        story.write(os.path.join(outdir, name))
        print(f"{name}: {len(story.frames)} frames in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
