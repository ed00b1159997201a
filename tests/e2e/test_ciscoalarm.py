# SPDX-License-Identifier: GPL-2.0-or-later
"""ciscoalarm end to end: field case 003 (CP-7821 REFERs with x-cisco-alarm bodies before REGISTER).

Captures come from captures/gen_ciscoalarm.py; see captures/README.md for each one's story. Every
finding is checked where it must fire and on ciscoalarm_cp7821_boot.pcap, where it must not.
"""

import os

import pytest

BOOT = "ciscoalarm_cp7821_boot.pcap"

# The two bodies of seed 003, parameter by parameter: (element type, name, value).
DEVICE_TL_INFO = [
    ("String", "DeviceName", "SEPC4B9CD808647"),
    ("String", "IPv4Address", "192.168.15.20"),
    ("String", "IPv6Address", ""),
    ("String", "CTL_Signature", "Not Installed"),
    ("String", "CTL_TFTP_Server", "N/A"),
    ("String", "ITL_Signature", "3E 91 A3 5D A3 D6 BD B7 0F 09 21 98 18 3F 64 D3 B2 8E 80 15 "),
    ("String", "ITL_TFTP_Server", "pub.techvivi.local"),
    ("String", "StatusCode", "3"),
]
LAST_OOS_INFO = [
    ("String", "DeviceName", "SEPC4B9CD808647"),
    ("String", "DeviceIPv4Address", "192.168.15.20/24"),
    ("String", "IPv4DefaultGateway", "192.168.15.251"),
    ("String", "DeviceIPv6Address", ""),
    ("String", "IPv6DefaultGateway", ""),
    ("String", "ModelNumber", "CP-7821"),
    ("String", "NeighborIPv4Address", "192.168.15.252"),
    ("String", "NeighborIPv6Address", ""),
    ("String", "NeighborDeviceID", "3560_DC_SW.techvivi.local"),
    ("String", "NeighborPortID", "GigabitEthernet0/21"),
    ("Enum", "DHCPv4Status", "1"),
    ("Enum", "DHCPv6Status", "3"),
    ("Enum", "TFTPCfgStatus", "1"),
    ("Enum", "DNSStatusUnifiedCM1", "0"),
    ("Enum", "DNSStatusUnifiedCM2", "0"),
    ("Enum", "DNSStatusUnifiedCM3", "0"),
    ("Enum", "DNSv6StatusUnifiedCM1", "0"),
    ("Enum", "DNSv6StatusUnifiedCM2", "0"),
    ("Enum", "DNSv6StatusUnifiedCM3", "0"),
    ("String", "VoiceVLAN", "15"),
    ("String", "UnifiedCMIPAddress", "192.168.110.100"),
    ("String", "LocalPort", "50386"),
    ("String", "TimeStamp", "1579128304808"),
    ("Enum", "ReasonForOutOfService", "25"),
    ("String", "LastProtocolEventSent",
     "Sent:REGISTER sip:192.168.110.100 SIP/2.0 Cseq:336 REGISTER "
     "CallId:c4b9cd80-86470022-467f1380-3b60328a@192.168.15.20 "),
    ("String", "LastProtocolEventReceived",
     "Rcvd:SIP/2.0 200 OK Cseq:122 REGISTER CallId:c4b9cd80-86470003-6438bc5f-78ebaf4c@192.168.15.22 "),
    ("String", "ReasonForOutOfServiceText", "LastTimeInitialized"),
]
OOS_NOTE = 'Phone was out of service: reason 25 (Phone initialized), phone\'s text "LastTimeInitialized"'


def params_row(params):
    return [",".join(p[i] for p in params) for i in range(3)]


def test_plugin_is_listed(ws):
    proc = ws.run(["-G", "plugins"])
    assert any(line.split()[:3] == ["sipsleuth.so", "0.1.0", "dissector"] for line in proc.stdout.splitlines())
    protocols = ws.run(["-G", "protocols"]).stdout.splitlines()
    assert "Cisco x-cisco-alarm\tCiscoAlarm\tciscoalarm" in protocols


@pytest.mark.parametrize("two_pass", [False, True])
def test_field_case_every_parameter(ws, two_pass):
    rows = ws.fields(BOOT, ["frame.number", "ciscoalarm.name", "ciscoalarm.param.type", "ciscoalarm.param.name",
                            "ciscoalarm.param.value"], dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [
        ["5", "DeviceTLInfo"] + params_row(DEVICE_TL_INFO),
        ["10", "LastOutOfServiceInformation"] + params_row(LAST_OOS_INFO),
    ]


def test_field_case_typed_parameters(ws):
    fields = ["frame.number", "ciscoalarm.device_name", "ciscoalarm.model", "ciscoalarm.ipv4",
              "ciscoalarm.ipv4.prefix_length", "ciscoalarm.ipv4_gateway", "ciscoalarm.ipv6",
              "ciscoalarm.neighbor.ipv4", "ciscoalarm.neighbor.device_id", "ciscoalarm.neighbor.port_id",
              "ciscoalarm.voice_vlan", "ciscoalarm.ucm.ipv4", "ciscoalarm.local_port", "ciscoalarm.timestamp",
              "ciscoalarm.oos_reason", "ciscoalarm.oos_reason_text", "ciscoalarm.dhcpv4_status",
              "ciscoalarm.dhcpv6_status", "ciscoalarm.tftp_cfg_status", "ciscoalarm.dns_status.ucm1",
              "ciscoalarm.dnsv6_status.ucm3", "ciscoalarm.ctl.installed", "ciscoalarm.ctl.tftp_server",
              "ciscoalarm.itl.installed", "ciscoalarm.itl.signature", "ciscoalarm.itl.tftp_server",
              "ciscoalarm.status_code"]
    rows = ws.fields(BOOT, fields, dfilter="ciscoalarm")
    assert [dict(zip(fields, r)) for r in rows] == [
        {"frame.number": "5", "ciscoalarm.device_name": "SEPC4B9CD808647", "ciscoalarm.model": "",
         "ciscoalarm.ipv4": "192.168.15.20", "ciscoalarm.ipv4.prefix_length": "", "ciscoalarm.ipv4_gateway": "",
         "ciscoalarm.ipv6": "", "ciscoalarm.neighbor.ipv4": "", "ciscoalarm.neighbor.device_id": "",
         "ciscoalarm.neighbor.port_id": "", "ciscoalarm.voice_vlan": "", "ciscoalarm.ucm.ipv4": "",
         "ciscoalarm.local_port": "", "ciscoalarm.timestamp": "", "ciscoalarm.oos_reason": "",
         "ciscoalarm.oos_reason_text": "", "ciscoalarm.dhcpv4_status": "", "ciscoalarm.dhcpv6_status": "",
         "ciscoalarm.tftp_cfg_status": "", "ciscoalarm.dns_status.ucm1": "", "ciscoalarm.dnsv6_status.ucm3": "",
         "ciscoalarm.ctl.installed": "0", "ciscoalarm.ctl.tftp_server": "N/A", "ciscoalarm.itl.installed": "1",
         "ciscoalarm.itl.signature": "3e 91 a3 5d a3 d6 bd b7 0f 09 21 98 18 3f 64 d3 b2 8e 80 15",
         "ciscoalarm.itl.tftp_server": "pub.techvivi.local", "ciscoalarm.status_code": "3"},
        {"frame.number": "10", "ciscoalarm.device_name": "SEPC4B9CD808647", "ciscoalarm.model": "CP-7821",
         "ciscoalarm.ipv4": "192.168.15.20", "ciscoalarm.ipv4.prefix_length": "24",
         "ciscoalarm.ipv4_gateway": "192.168.15.251", "ciscoalarm.ipv6": "",
         "ciscoalarm.neighbor.ipv4": "192.168.15.252", "ciscoalarm.neighbor.device_id": "3560_DC_SW.techvivi.local",
         "ciscoalarm.neighbor.port_id": "GigabitEthernet0/21", "ciscoalarm.voice_vlan": "15",
         "ciscoalarm.ucm.ipv4": "192.168.110.100", "ciscoalarm.local_port": "50386",
         "ciscoalarm.timestamp": "Jan 15, 2020 22:45:04.808000000 UTC", "ciscoalarm.oos_reason": "25",
         "ciscoalarm.oos_reason_text": "LastTimeInitialized", "ciscoalarm.dhcpv4_status": "1",
         "ciscoalarm.dhcpv6_status": "3", "ciscoalarm.tftp_cfg_status": "1", "ciscoalarm.dns_status.ucm1": "0",
         "ciscoalarm.dnsv6_status.ucm3": "0", "ciscoalarm.ctl.installed": "", "ciscoalarm.ctl.tftp_server": "",
         "ciscoalarm.itl.installed": "", "ciscoalarm.itl.signature": "", "ciscoalarm.itl.tftp_server": "",
         "ciscoalarm.status_code": ""},
    ]


def test_field_case_protocol_events(ws):
    fields = ["frame.number", "ciscoalarm.event.direction", "ciscoalarm.event.method", "ciscoalarm.event.request_uri",
              "ciscoalarm.event.status_code", "ciscoalarm.event.reason", "ciscoalarm.event.cseq",
              "ciscoalarm.event.cseq_method", "ciscoalarm.event.call_id", "ciscoalarm.event.call_frame"]
    rows = ws.fields(BOOT, fields, dfilter="ciscoalarm.event.call_id")
    assert rows == [["10", "Sent,Rcvd", "REGISTER", "sip:192.168.110.100", "200", "OK", "336,122", "REGISTER,REGISTER",
                     "c4b9cd80-86470022-467f1380-3b60328a@192.168.15.20,"
                     "c4b9cd80-86470003-6438bc5f-78ebaf4c@192.168.15.22", ""]]


def test_field_case_cid_matches_content_id(ws):
    rows = ws.fields(BOOT, ["frame.number", "ciscoalarm.refer_to_cid", "ciscoalarm.body_cid", "ciscoalarm.cid_match",
                            "ciscoalarm.content_id"], dfilter="ciscoalarm")
    assert rows == [
        ["5", "082f1702@192.168.15.20", "082f1702@192.168.15.20", "1", "<082f1702@192.168.15.20>"],
        ["10", "65877be3@192.168.15.20", "65877be3@192.168.15.20", "1", "<65877be3@192.168.15.20>"],
    ]


def test_field_case_info_column(ws):
    rows = ws.fields(BOOT, ["frame.number", "_ws.col.Info"], dfilter="sip")
    assert rows == [
        ["5", "Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 | "],
        ["7", "Status: 202 Accepted | "],
        ["10", "Request: REFER sip:192.168.110.100 | Cisco alarm LastOutOfServiceInformation: "
               "ReasonForOutOfService 25 (LastTimeInitialized) | "],
        ["12", "Status: 202 Accepted | "],
        ["14", "Request: REGISTER sip:192.168.110.100  (1 binding) | "],
        ["16", "Status: 200 OK (REGISTER)  (1 binding) | "],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_field_case_only_the_out_of_service_note(ws, two_pass):
    assert ws.experts(BOOT, "CiscoAlarm", two_pass=two_pass) == {("Notes", "Sequence", OOS_NOTE): 1}
    assert ws.fields(BOOT, ["frame.number"], dfilter="ciscoalarm.out_of_service") == [["10"]]


def test_generic_xml_tree_kept(ws):
    rows = ws.fields(BOOT, ["frame.number", "xml.attribute"], dfilter="ciscoalarm")
    assert rows[0] == ["5", 'Name="DeviceTLInfo",name="DeviceName",name="IPv4Address",name="IPv6Address",'
                            'name="CTL_Signature",name="CTL_TFTP_Server",name="ITL_Signature",'
                            'name="ITL_TFTP_Server",name="StatusCode"']


def test_content_id_header_no_longer_unrecognised(ws, plain):
    # Wireshark alone flags Content-Id as an unrecognised SIP header; with the plugin it is decoded.
    assert plain.experts(BOOT, "SIP").get(("Notes", "Undecoded", "Unrecognised SIP header (content-id)")) == 2
    assert ("Notes", "Undecoded", "Unrecognised SIP header (content-id)") not in ws.experts(BOOT, "SIP")


def test_no_malformed_on_good_captures(ws):
    for cap in [BOOT, "ciscoalarm_reboot_history.pcap", "ciscoalarm_cid_mismatch.pcap",
                "ciscoalarm_multipart.pcap", "ciscoalarm_split_segments.pcap"]:
        proc = ws.run(["-r", ws.capture(cap), "-V", "-x"])
        assert proc.returncode == 0
        assert "[Malformed Packet" not in proc.stdout, cap
        assert ws.fields(cap, ["frame.number"], dfilter="_ws.malformed || _ws.expert.severity == error") == [], cap


@pytest.mark.parametrize("two_pass", [False, True])
def test_event_links_to_frames_of_that_call(ws, two_pass):
    # LastProtocolEventSent names the REGISTER (frames 4 and 6) sent before the phone rebooted.
    rows = ws.fields("ciscoalarm_reboot_history.pcap", ["frame.number", "ciscoalarm.event.cseq",
                                                        "ciscoalarm.event.call_frame"],
                     dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["13", "336,122", "4,6"]]


def test_cid_mismatch_and_missing(ws):
    assert ws.experts("ciscoalarm_cid_mismatch.pcap", "CiscoAlarm") == {
        ("Warns", "Protocol", "Refer-To names cid:deadbeef@192.168.15.20 but this body's Content-ID is "
                              "<082f1702@192.168.15.20>"): 1,
        ("Warns", "Protocol", "Refer-To names cid:082f1702@192.168.15.20 but this body has no Content-ID"): 1,
    }
    assert ws.fields("ciscoalarm_cid_mismatch.pcap", ["frame.number", "ciscoalarm.cid_match"],
                     dfilter="ciscoalarm.cid_mismatch || ciscoalarm.cid_missing") == [["5", "0"], ["10", ""]]


def test_cid_matches_multipart_part(ws):
    rows = ws.fields("ciscoalarm_multipart.pcap", ["frame.number", "ciscoalarm.name", "ciscoalarm.body_cid",
                                                   "ciscoalarm.cid_match"], dfilter="ciscoalarm")
    assert rows == [["5", "DeviceTLInfo", "082f1702@192.168.15.20", "1"]]
    assert ws.experts("ciscoalarm_multipart.pcap", "CiscoAlarm") == {}


def test_body_split_over_many_segments(ws):
    rows = ws.fields("ciscoalarm_split_segments.pcap", ["frame.number", "ciscoalarm.name", "ciscoalarm.param.name"],
                     dfilter="ciscoalarm")
    assert rows == [["16", "LastOutOfServiceInformation", params_row(LAST_OOS_INFO)[1]]]


BAD_INPUT = {
    "ciscoalarm_bad_truncated_xml.pcap": ("Errors", "Malformed",
                                          "Malformed XML at byte 567 of 568: Start-end tags mismatch "
                                          "(the body ends with elements still open: truncated?)"),
    "ciscoalarm_bad_not_xml.pcap": ("Errors", "Malformed", "Malformed XML at byte 163 of 163: No document element found"),
    "ciscoalarm_bad_mislabelled.pcap": ("Errors", "Protocol",
                                        "Root element is <dialog-info>, not <x-cisco-alarm>: body mislabelled as "
                                        "application/x-cisco-alarm+xml?"),
    "ciscoalarm_bad_deep_nesting.pcap": ("Errors", "Undecoded", "Elements nested deeper than 32 levels: not decoded"),
    "ciscoalarm_bad_huge_attribute.pcap": ("Errors", "Undecoded",
                                           "Body of 1049190 bytes is over the 262144-byte limit: not parsed"),
    "ciscoalarm_bad_billion_laughs.pcap": ("Errors", "Security",
                                           "Body declares a DTD: its entities are not expanded "
                                           "(entity-expansion attack?)"),
    "ciscoalarm_bad_invalid_utf8.pcap": ("Errors", "Malformed", "Invalid UTF-8 at byte 136: shown as U+FFFD"),
}


@pytest.mark.parametrize("capture", sorted(BAD_INPUT))
def test_bad_input_named_without_crash(ws, capture):
    for two_pass in (False, True):
        assert ws.experts(capture, "CiscoAlarm", two_pass=two_pass) == {BAD_INPUT[capture]: 1}
    proc = ws.run(["-r", ws.capture(capture), "-V"], timeout=30)
    assert proc.returncode == 0
    # No dissector threw (that prints "[Malformed Packet: ...]"). Our own PI_MALFORMED expert infos do
    # mark the packet _ws.malformed, as Wireshark does for every malformed-group expert, and only they:
    # bytes that cannot be parsed. A well-formed body of another kind (mislabelled) is a protocol error.
    assert "[Malformed Packet" not in proc.stdout
    refer = ws.fields(capture, ["frame.number"], dfilter="ciscoalarm")
    assert len(refer) == 1
    malformed = ws.fields(capture, ["frame.number"], dfilter="_ws.malformed")
    assert malformed == (refer if BAD_INPUT[capture][1] == "Malformed" else [])


def test_bad_input_info_column(ws):
    rows = ws.fields("ciscoalarm_bad_deep_nesting.pcap", ["_ws.col.Info"], dfilter="ciscoalarm")
    assert rows == [["Request: REFER sip:192.168.110.100 | Cisco alarm (not decoded) | "]]


def test_limit_is_a_preference(ws):
    # Raising ciscoalarm.max_depth lets the deep document through to the next cap (node count is fine).
    proc = ws.run(["-r", ws.capture("ciscoalarm_bad_deep_nesting.pcap"), "-o", "ciscoalarm.max_depth:20000",
                   "-q", "-z", "expert"])
    assert "nested deeper" not in proc.stdout
    assert "More than 8192 XML nodes: not decoded" in proc.stdout


def test_truncated_body_shows_parameters_before_the_cut(ws):
    rows = ws.fields("ciscoalarm_bad_truncated_xml.pcap", ["frame.number", "ciscoalarm.name", "ciscoalarm.param.name",
                                                           "ciscoalarm.param.value"], dfilter="ciscoalarm")
    first = LAST_OOS_INFO[:9]
    assert rows == [["5", "LastOutOfServiceInformation", ",".join(p[1] for p in first),
                     ",".join(p[2] for p in first[:8]) + ",3560_DC"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_two_messages_in_one_segment_checked_separately(ws, two_pass):
    # Each body is checked against its own REFER's headers: the second REFER has no Content-Id, and the
    # first one's must not be taken for it (that would read as a mismatch instead).
    rows = ws.fields("ciscoalarm_two_in_one_segment.pcap", ["frame.number", "ciscoalarm.name",
                                                            "ciscoalarm.refer_to_cid", "ciscoalarm.body_cid",
                                                            "ciscoalarm.cid_match"],
                     dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["4", "DeviceTLInfo,DeviceTLInfo", "082f1702@192.168.15.20,65877be3@192.168.15.20",
                     "082f1702@192.168.15.20", "1"]]
    # SIP fences each message's Info text; each alarm's summary stays with its own message.
    assert ws.fields("ciscoalarm_two_in_one_segment.pcap", ["_ws.col.Info"], dfilter="ciscoalarm",
                     two_pass=two_pass) == [["Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 | "
                                             "Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 | "]]
    assert ws.experts("ciscoalarm_two_in_one_segment.pcap", "CiscoAlarm", two_pass=two_pass) == {
        ("Warns", "Protocol", "Refer-To names cid:65877be3@192.168.15.20 but this body has no Content-ID"): 1}


@pytest.mark.parametrize("two_pass", [False, True])
def test_part_content_id_stays_in_its_own_message(ws, two_pass):
    # Healthy twin of the scoping: a multipart REFER then a plain one in the same segment; the plain
    # body is matched with its own Content-Id, not with the earlier message's part header.
    rows = ws.fields("ciscoalarm_multipart_then_plain.pcap", ["frame.number", "ciscoalarm.name", "ciscoalarm.body_cid",
                                                              "ciscoalarm.cid_match"],
                     dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["4", "DeviceTLInfo,LastOutOfServiceInformation",
                     "082f1702@192.168.15.20,65877be3@192.168.15.20", "1,1"]]
    assert ws.experts("ciscoalarm_multipart_then_plain.pcap", "CiscoAlarm", two_pass=two_pass) == {
        ("Notes", "Sequence", OOS_NOTE): 1}


@pytest.mark.parametrize("two_pass", [False, True])
def test_two_inflated_bodies_in_one_frame_keep_their_own_verdicts(ws, two_pass):
    # Both gzip bodies start at offset 0 of their own inflated data source; each keeps its alarm.
    rows = ws.fields("ciscoalarm_gzip_two_in_one_segment.pcap", ["frame.number", "ciscoalarm.name",
                                                                 "ciscoalarm.oos_reason", "_ws.col.Info"],
                     dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["4", "DeviceTLInfo,LastOutOfServiceInformation", "25",
                     "Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 | "
                     "Request: REFER sip:192.168.110.100 | Cisco alarm LastOutOfServiceInformation: "
                     "ReasonForOutOfService 25 (LastTimeInitialized) | "]]
    # Each inflated body is checked against its own REFER's Content-Id header, which lives in the
    # frame's data source, not the body's (the compiled plugin once said "this body has no Content-ID").
    rows = ws.fields("ciscoalarm_gzip_two_in_one_segment.pcap",
                     ["ciscoalarm.refer_to_cid", "ciscoalarm.body_cid", "ciscoalarm.cid_match"],
                     dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["082f1702@192.168.15.20,65877be3@192.168.15.20",
                     "082f1702@192.168.15.20,65877be3@192.168.15.20", "1,1"]]
    assert ws.experts("ciscoalarm_gzip_two_in_one_segment.pcap", "CiscoAlarm", two_pass=two_pass) == {
        ("Notes", "Sequence", OOS_NOTE): 1}


def test_deep_document_never_reaches_the_xml_dissector(ws):
    # 600 levels: over the default depth cap; allowed by the preference, it is decoded by ciscoalarm but
    # not handed to Wireshark's XML dissector, whose tree stops at 500 levels ("Dissector bug").
    cap = "ciscoalarm_bad_nesting_600.pcap"
    assert ws.experts(cap, "CiscoAlarm") == {
        ("Errors", "Undecoded", "Elements nested deeper than 32 levels: not decoded"): 1}
    proc = ws.run(["-r", ws.capture(cap), "-o", "ciscoalarm.max_depth:1000", "-q", "-z", "expert"])
    assert "Elements nested deeper" not in proc.stdout
    assert "Unknown parameter type <a>: shown as text" in proc.stdout
    rows = ws.fields(cap, ["frame.number", "ciscoalarm.param.type", "xml.tag"], dfilter="ciscoalarm",
                     extra=["-o", "ciscoalarm.max_depth:1000"])
    assert rows == [["8", "a", ""]]


# Issue 14: Wireshark's own output kept. The Content-ID decoder adds no protocol layer, a multipart part
# keeps its "media" item, and a disabled ciscoalarm leaves SIP exactly as plain Wireshark shows it.

MANY_CIDS = "ciscoalarm_bad_many_content_ids.pcap"


@pytest.mark.parametrize("two_pass", [False, True])
def test_many_content_id_headers_add_no_layer(ws, plain, two_pass):
    # 600 Content-Id headers in one REFER: when each was a ciscoalarm layer, the 500th raised "Dissector
    # bug, protocol SIP" (Wireshark's layer limit) and the body was never decoded. ws.run fails on any
    # "Dissector bug"; ciscoalarm is listed once, for the body, as plain lists none.
    fields = ["frame.number", "frame.protocols", "ciscoalarm.name", "ciscoalarm.body_cid", "ciscoalarm.cid_match"]
    assert ws.fields(MANY_CIDS, fields, dfilter="sip.Method == REFER", two_pass=two_pass) == [
        ["28", "eth:ethertype:ip:tcp:sip:ciscoalarm:xml", "DeviceTLInfo", "082f1702@192.168.15.20", "1"]]
    assert plain.fields(MANY_CIDS, ["frame.number", "frame.protocols"], dfilter="sip.Method == REFER",
                        two_pass=two_pass) == [["28", "eth:ethertype:ip:tcp:sip"]]
    ids = ws.fields(MANY_CIDS, ["ciscoalarm.content_id"], dfilter="sip.Method == REFER", two_pass=two_pass)[0][0]
    ids = ids.split(",")
    assert (len(ids), ids[0], ids[1], ids[-1]) == (600, "<082f1702@192.168.15.20>", "<00000001@192.168.15.20>",
                                                   "<last@192.168.15.20>")
    # Every header after the 500th is decoded by SIP too: the last one, then Allow, Content-Length, ...
    assert ws.fields(MANY_CIDS, ["sip.Content-Length", "sip.Content-Type"], dfilter="sip.Method == REFER",
                     two_pass=two_pass) == [["584", "application/x-cisco-alarm+xml"]]


def test_content_id_layer_free_in_the_field_case(ws):
    # One Content-Id header and one body: ciscoalarm once per message, not twice.
    assert ws.fields(BOOT, ["frame.number", "frame.protocols"], dfilter="sip.Method == REFER") == [
        ["5", "eth:ethertype:ip:tcp:sip:ciscoalarm:xml"], ["10", "eth:ethertype:ip:tcp:sip:ciscoalarm:xml"]]


@pytest.mark.parametrize("capture", [BOOT, "ciscoalarm_multipart.pcap", "ciscoalarm_multipart_then_plain.pcap",
                                     MANY_CIDS])
@pytest.mark.parametrize("two_pass", [False, True])
def test_disabled_ciscoalarm_leaves_sip_as_plain(ws, plain, capture, two_pass):
    # With ciscoalarm disabled, its Content-ID entry leaves SIP's table: SIP flags the header as
    # unrecognised again and shows the body as text, exactly as without the plugin.
    passes = ["-2"] if two_pass else []
    mine = ws.sip_layers(capture, ["--disable-protocol", "ciscoalarm", *passes])
    assert mine == plain.sip_layers(capture, passes)
    assert mine != ws.sip_layers(capture, passes)  # enabled, it does add to SIP's tree


@pytest.mark.parametrize("two_pass", [False, True])
def test_multipart_part_keeps_media(ws, plain, two_pass):
    # Wireshark shows a part of a type it does not know through its media dissector: media.type under the
    # part and " (application/x-cisco-alarm+xml)" in Info. The part we decode keeps both.
    cap = "ciscoalarm_multipart.pcap"
    fields = ["frame.number", "media.type", "mime_multipart.header.content-type"]
    theirs = plain.fields(cap, fields, dfilter="sip.Method == REFER", two_pass=two_pass)
    assert len(theirs) == 1 and len(theirs[0][1]) == 2 * 584  # the part's 584 bytes, in hex
    assert ws.fields(cap, fields, dfilter="sip.Method == REFER", two_pass=two_pass) == theirs
    info = ["frame.number", "frame.protocols", "_ws.col.Info"]
    assert plain.fields(cap, info, dfilter="sip.Method == REFER", two_pass=two_pass) == [
        ["5", "eth:ethertype:ip:tcp:sip:mime_multipart:media",
         "Request: REFER sip:192.168.110.100 |  (application/x-cisco-alarm+xml)"]]
    assert ws.fields(cap, info, dfilter="sip.Method == REFER", two_pass=two_pass) == [
        ["5", "eth:ethertype:ip:tcp:sip:mime_multipart:ciscoalarm:media:xml",
         "Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 "
         "(application/x-cisco-alarm+xml) | "]]


def test_plain_body_keeps_sip_text_lines(ws, plain):
    # A REFER's own body is not a multipart part: Wireshark shows it as SIP's text lines, never as media;
    # the decoded body keeps those lines after the alarm's tree.
    assert plain.fields(BOOT, ["media.type"], dfilter="media") == []
    assert ws.fields(BOOT, ["media.type"], dfilter="media") == []

    def body_lines(wireshark):
        proc = wireshark.run(["-r", wireshark.capture(BOOT), "-Y", "frame.number == 5", "-V"])
        text = proc.stdout.split("Message Body", 1)[1]
        return [line.strip() for line in text.splitlines() if line.startswith("        <")]
    lines = body_lines(plain)
    assert lines[:2] == ['<?xml version="1.0" encoding="UTF-8"?>\\r\\n', "<x-cisco-alarm>\\r\\n"]
    assert len(lines) == 15 and body_lines(ws) == lines


@pytest.mark.parametrize("two_pass", [False, True])
def test_part_plain_part_keep_their_own_alarms(ws, plain, two_pass):
    # Three alarm bodies in one frame, the first and last multipart parts. Each is stored under
    # ciscoalarm's own layer number, read before the media dissector runs for a part (read after it,
    # media's number made the third body take the second one's alarm).
    cap = "ciscoalarm_part_plain_part.pcap"
    rows = ws.fields(cap, ["frame.number", "frame.protocols", "ciscoalarm.name", "ciscoalarm.body_cid",
                           "ciscoalarm.cid_match"], dfilter="ciscoalarm", two_pass=two_pass)
    assert rows == [["4", "eth:ethertype:ip:tcp:sip:mime_multipart:ciscoalarm:media:xml:ciscoalarm:xml:"
                          "mime_multipart:ciscoalarm:media:xml",
                     "DeviceTLInfo,LastOutOfServiceInformation,DeviceTLInfo",
                     "082f1702@192.168.15.20,65877be3@192.168.15.20,082f1702@192.168.15.20", "1,1,1"]]
    assert ws.fields(cap, ["media.type"], dfilter="ciscoalarm", two_pass=two_pass) == \
        plain.fields(cap, ["media.type"], dfilter="media", two_pass=two_pass)
    # Plain Wireshark loses the first part's " (type)" when SIP starts the next message's text; ours
    # stays behind our own fence.
    assert plain.fields(cap, ["_ws.col.Info"], dfilter="sip.Method == REFER", two_pass=two_pass) == [
        ["Request: REFER sip:192.168.110.100 | Request: REFER sip:192.168.110.100 | "
         "Request: REFER sip:192.168.110.100 |  (application/x-cisco-alarm+xml)"]]
    assert ws.fields(cap, ["_ws.col.Info"], dfilter="ciscoalarm", two_pass=two_pass) == [
        ["Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 "
         "(application/x-cisco-alarm+xml) | Request: REFER sip:192.168.110.100 | Cisco alarm "
         "LastOutOfServiceInformation: ReasonForOutOfService 25 (LastTimeInitialized) | "
         "Request: REFER sip:192.168.110.100 | Cisco alarm DeviceTLInfo: StatusCode 3 "
         "(application/x-cisco-alarm+xml) | "]]


ALL_CAPTURES = sorted(f for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "..", "captures"))
                      if f.startswith("ciscoalarm_") and f.endswith(".pcap"))


@pytest.mark.parametrize("two_pass", [False, True])
def test_every_message_fits(ws, two_pass):
    # Issue 11: every ciscoalarm expert message fits the GUI's label (at most 200 characters), the hostile
    # captures (a 5000-byte value, a huge attribute, 600 nested levels, ...) included; none names a frame,
    # and none is a consequence of another, so there is no ciscoalarm.caused_by.
    assert len(ALL_CAPTURES) >= 18
    for cap in ALL_CAPTURES:
        for key in ws.experts(cap, "CiscoAlarm", two_pass=two_pass):
            assert len(key[2]) <= 200, (cap, key)
