# SPDX-License-Identifier: GPL-2.0-or-later
"""The C++ wrapper over epan, through the test-only probe plugin (plugins/wsglue/probe): foreign SIP
fields resolved by name and read message by message when one TCP segment carries several SIP messages,
and first-pass verdicts rendered on revisits, in one pass and with -2."""
import os

import pytest

from conftest import FOUND

TWO = "ciscoalarm_two_in_one_segment.pcap"
CALL_1 = "c4b9cd80-8647001b-3edbe1b9-520a7132@192.168.15.20"
CALL_2 = "c4b9cd80-8647001c-8f1a5ac7-ca8af76b@192.168.15.20"
FIELDS = ["frame.number", "wsglue_probe.first_pass_frame", "wsglue_probe.analysis", "wsglue_probe.tcp_stream",
          "wsglue_probe.tcp_ack_flag", "wsglue_probe.message",
          "wsglue_probe.call_id", "wsglue_probe.method", "wsglue_probe.cseq"]


@pytest.mark.parametrize("two_pass", [False, True])
def test_two_sip_messages_in_one_segment_read_separately(probe, two_pass):
    rows = probe.fields(TWO, FIELDS, dfilter="wsglue_probe.analysis", two_pass=two_pass)
    assert rows == [
        # Analysed once each, on the first pass; -2 renders the same verdicts without analysing again.
        # tcp.flags.ack is an FT_BOOLEAN holding the masked bit (0x010); uint_value reads it as 1.
        ["4", "4", "1", "0", "1", "0,1", f"{CALL_1},{CALL_2}", "REFER,REFER", "1000,1000"],
        ["6", "6", "2", "0", "1", "0,1", f"{CALL_1},{CALL_2}", "REFER,REFER", "1000,1000"],
    ]


@pytest.mark.skipif(not os.path.exists(os.path.join(FOUND, "pkts__fragmented_tcp_sip.pcap")),
                    reason="../shared/captures-found is not present")
@pytest.mark.parametrize("two_pass", [False, True])
def test_message_reassembled_from_three_segments(probe, two_pass):
    # The INVITE spans frames 4, 6 and 8 and is read once, on frame 8.
    rows = probe.fields(os.path.join("..", "found", "pkts__fragmented_tcp_sip.pcap"),
                        ["frame.number", "wsglue_probe.message", "wsglue_probe.method", "wsglue_probe.cseq"],
                        dfilter="wsglue_probe.analysis", two_pass=two_pass)
    assert rows == [["8", "0", "INVITE", "1"], ["10", "0", "INVITE", "1"], ["11", "0", "INVITE", "1"],
                    ["14", "0", "ACK", "1"], ["15", "0", "BYE", "2"], ["16", "0", "BYE", "2"]]


@pytest.mark.parametrize("two_pass", [[], ["-2"]])
def test_stat_table_rows_mirror_the_tracker(probe, two_pass):
    # wsglue StatTable: `-z wsglue_probe,calls` prints one row per Call-ID, re-fetched from the probe's
    # tracker whenever a packet of that call is tapped (first pass, or the second pass with -2).
    proc = probe.run(["-r", probe.capture(TWO), "-q", "-z", "wsglue_probe,calls"] + two_pass)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("Call-ID", "c4b9"))]
    assert rows == ["Call-ID |Messages |Last CSeq |", f"{CALL_1} |2 |1000 |", f"{CALL_2} |2 |1000 |"]


@pytest.mark.parametrize("two_pass,messages", [([], "1"), (["-2"], "2")])
def test_stat_table_respects_its_display_filter(probe, two_pass, messages):
    # Only frame 4 is tapped. A row shows the tracker as of the last tapped packet: after frame 4 in
    # one pass (one REFER of each call seen so far), the whole capture with -2.
    proc = probe.run(["-r", probe.capture(TWO), "-q", "-z", "wsglue_probe,calls,frame.number==4"] + two_pass)
    assert proc.returncode == 0, proc.stderr
    assert "Filter for statistics: frame.number==4" in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("c4b9")]
    assert rows == [f"{CALL_1} |{messages} |1000 |", f"{CALL_2} |{messages} |1000 |"]


# The SipObserver (plugins/wsglue/include/sipsleuth/wsglue/sip_observer.h): each frame read once into core
# values, whichever protocol asks first (the probe asks twice per frame and must get the same observation).
# Columns: frame, flow (transport, stream, source -> destination), TCP "seq ack len flags" (raw numbers; S F R
# A, r retransmission), payload length, retransmitted "frame:index", then per SIP message "index method-or-
# status CSeq CSeq-method Call-ID top-Via-branch parse-status", "From-tag To-tag Event Expires Content-Type
# body-length" and the TCP sequence range (r: reassembled from earlier segments).
OBS = ["frame.number", "wsglue_probe.obs.flow", "wsglue_probe.obs.tcp", "wsglue_probe.obs.payload_length",
       "wsglue_probe.obs.retransmitted", "wsglue_probe.obs.msg", "wsglue_probe.obs.msg_headers",
       "wsglue_probe.obs.msg_seq"]
CISCO_CALL = "c4b9cd80-8647001a-e61c57fa-ac821205@192.168.15.20"
CISCO_TAG = "c4b9cd808647001a345088a5-4c2fdd2b"
TAG_1, TAG_2 = "c4b9cd808647001bbf8d1b7c-522f246a", "c4b9cd808647001c29599960-cdfa371a"
ALARM = "application/x-cisco-alarm+xml"
COMPACT = "c0mpact-5e5e5e5e@10.1.1.171"


@pytest.mark.parametrize("two_pass", [False, True])
def test_observer_two_messages_in_one_segment(probe, two_pass):
    # Two REFERs in frame 4, their two 202s in frame 6: each message parsed from its own `sip` item, with
    # its own sequence range inside the segment (1542 + 1504 = 3046 bytes).
    rows = probe.fields(TWO, OBS, dfilter="wsglue_probe.obs.msg", two_pass=two_pass)
    assert rows == [
        ["4", "tcp 0 192.168.15.20:50867 -> 192.168.110.100:5060", "3516939697 2732138833 3046 A", "3046", "",
         f"0 REFER 1000 REFER {CALL_1} z9hG4bK93179376 ok,1 REFER 1000 REFER {CALL_2} z9hG4bKbb2cc3c3 ok",
         f"{TAG_1} - - 10 {ALARM} 584,{TAG_2} - - 10 {ALARM} 584",
         "3516939697-3516941239,3516941239-3516942743"],
        ["6", "tcp 0 192.168.110.100:5060 -> 192.168.15.20:50867", "2732138833 3516942743 1101 A", "1101", "",
         f"0 202 1000 REFER {CALL_1} z9hG4bK93179376 ok,1 202 1000 REFER {CALL_2} z9hG4bKbb2cc3c3 ok",
         f"{TAG_1} 108579~94ce9fea-7bef-412d-c0ea-dd984e2842e5-2521533 - - - 0,"
         f"{TAG_2} 657297~cbd94f4f-7ff0-8643-95b5-822ffa471562-15912880 - - - 0",
         "2732138833-2732139383,2732139383-2732139934"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_observer_message_followed_by_an_unfinished_one(probe, two_pass):
    # dialoginfo_blf_healthy frame 10: the 202 (408 bytes) and the first 1052 bytes of a NOTIFY that frame
    # 11 completes. Without a visible tree (the first pass of -2, tshark -q) SIP 4.0 lets the 202's item
    # run to the segment's end; the observer cuts it after Content-Length, so both passes give the 202
    # its own 408 bytes and the NOTIFY the rest.
    rows = probe.fields("dialoginfo_blf_healthy.pcap", ["frame.number", "wsglue_probe.obs.msg_seq"],
                        dfilter="frame.number >= 10 && frame.number <= 11", two_pass=two_pass)
    assert rows == [["10", "1828946377-1828946785"], ["11", "1828946785-1828948305 r"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_observer_message_reassembled_from_segments(probe, two_pass):
    # The REFER spans frames 4 to 16 (2650 bytes), its 202 frames 18 and 19: each is observed once, on the
    # frame that completes it, with the sequence range of all its segments (the 202's ACK in frame 19 acks
    # 3516942347, the REFER's end).
    rows = probe.fields("ciscoalarm_split_segments.pcap", OBS, dfilter="wsglue_probe.obs.msg", two_pass=two_pass)
    assert rows == [
        ["16", "tcp 0 192.168.15.20:50867 -> 192.168.110.100:5060", "3516942097 2732138833 250 A", "250", "",
         f"0 REFER 1000 REFER {CISCO_CALL} z9hG4bKb0e58c76 ok",
         f"{CISCO_TAG} - - 10 {ALARM} 1691", "3516939697-3516942347 r"],
        ["19", "tcp 0 192.168.110.100:5060 -> 192.168.15.20:50867", "2732139133 3516942347 248 A", "248", "",
         f"0 202 1000 REFER {CISCO_CALL} z9hG4bKb0e58c76 ok",
         f"{CISCO_TAG} 898512~a63f755c-1159-987e-297a-2623e5c94f0f-70052 - - - 0",
         "2732138833-2732139381 r"],
    ]


def test_observer_compact_headers_handshake_and_pairs(probe):
    # siptrack_sub_compact.pcap: every header in compact form (v, f, t, i, o, ...); the SYN and SYN/ACK
    # with their raw numbers; the SUBSCRIBE reassembled (frames 3 and 5); 202 + NOTIFY and two NOTIFYs
    # sharing a segment. Segments of messages SIP reassembles later (4, 11, 12, 14, 15) show only their
    # transport facts.
    rows = probe.fields("siptrack_sub_compact.pcap", OBS, dfilter="wsglue_probe")
    sub_to, sub_from = "5632A64D-DB431D7C", "C1AFEEC0-34D0BD34"
    flow_a = "tcp 0 10.1.1.171:1060 -> 10.1.1.68:5060"
    flow_b = "tcp 0 10.1.1.68:5060 -> 10.1.1.171:1060"
    assert rows == [
        ["1", flow_a, "2271218291 0 0 S", "0", "", "", "", ""],
        ["2", flow_b, "1155089767 2271218292 0 SA", "0", "", "", "", ""],
        ["4", flow_a, "2271218292 1155089768 300 A", "300", "", "", "", ""],
        ["5", flow_a, "2271218592 1155089768 160 A", "160", "",
         f"0 SUBSCRIBE 1 SUBSCRIBE {COMPACT} z9hG4bK-9d5e48f3 ok", f"{sub_to} - dialog 3600 - 0",
         "2271218292-2271218752 r"],
        ["7", flow_b, "1155089768 2271218752 724 A", "724", "",
         f"0 202 1 SUBSCRIBE {COMPACT} z9hG4bK-9d5e48f3 ok,1 NOTIFY 1 NOTIFY {COMPACT} z9hG4bK-dfe728e3 ok",
         f"{sub_to} {sub_from} - 3600 - 0,{sub_from} {sub_to} dialog - - 0",
         "1155089768-1155090097,1155090097-1155090492"],
        ["9", flow_a, "2271218752 1155090492 261 A", "261", "",
         f"0 200 1 NOTIFY {COMPACT} z9hG4bK-dfe728e3 ok", f"{sub_from} {sub_to} - - - 0", "2271218752-2271219013"],
        ["11", flow_b, "1155090492 2271219013 300 A", "300", "", "", "", ""],
        ["12", flow_b, "1155090792 2271219013 300 A", "300", "", "", "", ""],
        ["14", flow_b, "1155091092 2271219013 300 A", "300", "", "", "", ""],
        ["15", flow_b, "1155091392 2271219013 300 A", "300", "", "", "", ""],
        ["17", flow_b, "1155091692 2271219013 121 A", "121", "",
         f"0 NOTIFY 2 NOTIFY {COMPACT} z9hG4bK-f3f3c8e1 ok", f"{sub_from} {sub_to} dialog - multipart/related 818",
         "1155090492-1155091813 r"],
        ["19", flow_a, "2271219013 1155091813 261 A", "261", "",
         f"0 200 2 NOTIFY {COMPACT} z9hG4bK-f3f3c8e1 ok", f"{sub_from} {sub_to} - - - 0", "2271219013-2271219274"],
        ["21", flow_b, "1155091813 2271219274 788 A", "788", "",
         f"0 NOTIFY 3 NOTIFY {COMPACT} z9hG4bK-6b8bdfca ok,1 NOTIFY 4 NOTIFY {COMPACT} z9hG4bK-66d0548d ok",
         f"{sub_from} {sub_to} dialog - - 0,{sub_from} {sub_to} dialog - - 0",
         "1155091813-1155092207,1155092207-1155092601"],
        ["23", flow_a, "2271219274 1155092601 522 A", "522", "",
         f"0 200 3 NOTIFY {COMPACT} z9hG4bK-6b8bdfca ok,1 200 4 NOTIFY {COMPACT} z9hG4bK-66d0548d ok",
         f"{sub_from} {sub_to} - - - 0,{sub_from} {sub_to} - - - 0",
         "2271219274-2271219535,2271219535-2271219796"],
    ]


def test_observer_udp(probe):
    # siptrack_sub_udp.pcap, frames 1-5: UDP flow and payload from the UDP header; NOTIFY retransmitted by
    # SIP (frame 4) is observed again as a message of its own (a TCP retransmission would not be).
    rows = probe.fields("siptrack_sub_udp.pcap", ["frame.number", "wsglue_probe.obs.flow", "wsglue_probe.obs.tcp",
                                                  "wsglue_probe.obs.payload_length", "wsglue_probe.obs.msg"],
                        dfilter="frame.number <= 5")
    call = "0a0b0c0d-udp1@10.1.1.171"
    a, b = "udp 0 10.1.1.171:5060 -> 10.1.1.68:5060", "udp 0 10.1.1.68:5060 -> 10.1.1.171:5060"
    assert rows == [
        ["1", a, "", "476", f"0 SUBSCRIBE 1 SUBSCRIBE {call} z9hG4bK-8e7d6545 ok"],
        ["2", b, "", "372", f"0 202 1 SUBSCRIBE {call} z9hG4bK-8e7d6545 ok"],
        ["3", b, "", "668", f"0 NOTIFY 1 NOTIFY {call} z9hG4bK-6a90b6de ok"],
        ["4", b, "", "668", f"0 NOTIFY 1 NOTIFY {call} z9hG4bK-6a90b6de ok"],
        ["5", a, "", "325", f"0 200 1 NOTIFY {call} z9hG4bK-6a90b6de ok"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_observer_maps_tcp_retransmission_to_message(probe, two_pass):
    # siptrack_ka_8961_cycle.pcap: the REGISTER refresh (frame 19, CSeq 104) is retransmitted by TCP in
    # frame 20; SIP never sees frame 20, the observer maps it back to message 0 of frame 19 by sequence
    # numbers, with its transaction (t3, the REGISTER's). The FINs of frames 71 and 72 close that
    # connection.
    rows = probe.fields("siptrack_ka_8961_cycle.pcap", OBS[:5],
                        dfilter="frame.number >= 19 && frame.number <= 20 || frame.number >= 71 && frame.number <= 72",
                        two_pass=two_pass)
    flow = "tcp 1 10.147.230.189:50708 -> 178.215.139.22:5060"
    back = "tcp 1 178.215.139.22:5060 -> 10.147.230.189:50708"
    assert rows == [
        ["19", flow, "4002094067 2097935068 883 A", "883", ""],
        ["20", flow, "4002094067 2097935068 883 Ar", "883", "19:0 t3"],
        ["71", back, "2097941802 4002101131 0 FA", "0", ""],
        ["72", flow, "4002101131 2097941803 0 FA", "0", ""],
    ]
    retransmitted = probe.fields("siptrack_ka_8961_cycle.pcap", ["frame.number", "wsglue_probe.obs.retransmitted"],
                                 dfilter="wsglue_probe.obs.retransmitted", two_pass=two_pass)
    assert retransmitted[:3] == [["20", "19:0 t3"], ["27", "26:0 t4"], ["34", "33:0 t5"]]


def test_observer_payload_of_crlf_keepalives(probe):
    # siptrack_ka_crlf.pcap: RFC 5626 CRLF keepalives are not SIP messages; the payload view carries them.
    rows = probe.fields("siptrack_ka_crlf.pcap", ["frame.number", "wsglue_probe.obs.tcp", "wsglue_probe.obs.payload",
                                                  "wsglue_probe.obs.msg"],
                        dfilter="frame.number >= 8 && frame.number <= 10")
    assert rows == [["8", "3161571256 872201284 4 A", "0d0a0d0a", ""],
                    ["9", "", "", ""],
                    ["10", "872201284 3161571260 2 A", "0d0a", ""]]


def test_enclosing_sip_message_for_body_dissectors(probe):
    # The probe takes application/x-cisco-alarm+xml bodies (plain Wireshark 4.0 leaves them to raw media) and
    # asks enclosing_sip_message() which message holds each: the two REFERs of one segment each get their own.
    rows = probe.fields(TWO, ["frame.number", "wsglue_probe.obs.enclosing"], dfilter="wsglue_probe.obs.enclosing")
    media = "application/x-cisco-alarm+xml"
    assert rows == [["4", f"REFER 1000 {CALL_1} {media},REFER 1000 {CALL_2} {media}"]]


def test_enclosing_sip_message_of_a_gzip_body(probe):
    # ciscoalarm_gzip_two_in_one_segment.pcap: two REFERs with Content-Encoding: gzip in one segment. SIP
    # hands each decoded body over in a data source of its own; the enclosing message is the `sip` item
    # added last, each REFER's own.
    rows = probe.fields("ciscoalarm_gzip_two_in_one_segment.pcap", ["frame.number", "wsglue_probe.obs.enclosing"],
                        dfilter="wsglue_probe.obs.enclosing")
    media = "application/x-cisco-alarm+xml"
    assert rows == [["4", f"REFER 1000 c4b9cd80-8647001f-32a1fb9a-946ec047@192.168.15.20 {media},"
                          f"REFER 1000 c4b9cd80-86470020-71137907-fe65e22c@192.168.15.20 {media}"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_observer_feeds_transaction_and_dialog_layers_once(probe, two_pass):
    # siptrack_sub_udp.pcap: the SUBSCRIBE's 202 creates the subscription's dialog (d1) confirmed; the
    # NOTIFY resent by SIP after 0.5 s (frame 4) is copy 2 of transaction t2, a retransmission; refreshes
    # and NOTIFYs stay in d1; the NOTIFY with Subscription-State terminated (12) ends it. The probe asks for
    # the observation twice per frame: had the layers been fed twice, every second copy would be a
    # retransmission.
    rows = probe.fields("siptrack_sub_udp.pcap", ["frame.number", "wsglue_probe.obs.msg_layers"],
                        dfilter="wsglue_probe", two_pass=two_pass)
    assert rows == [
        ["1", "t1 copy1 new req 1:0 d0"],
        ["2", "t1 copy1 req 1:0 d1 created confirmed fork 1/1"],
        ["3", "t2 copy1 new req 3:0 d1"],
        ["4", "t2 copy2 retr req 3:0 d1"],
        ["5", "t2 copy1 req 3:0 d1"],
        ["6", "t3 copy1 new req 6:0 d1"],
        ["7", "t3 copy1 req 6:0 d1"],
        ["8", "t4 copy1 new req 8:0 d1"],
        ["9", "t4 copy1 req 8:0 d1"],
        ["10", "t5 copy1 new req 10:0 d1"],
        ["11", "t5 copy1 req 10:0 d1"],
        ["12", "t6 copy1 new req 12:0 d1 terminated"],
        ["13", "t6 copy1 req 12:0 d1"],
    ]


def test_observer_udp_register_retransmissions(probe):
    # siptrack_ka_udp_retransmission.pcap: the refresh REGISTER (CSeq 103) sent three times by SIP timer E
    # (frames 4, 5, 6) is one transaction, copies 1 to 3; its 100 and 200 link back to frame 4.
    rows = probe.fields("siptrack_ka_udp_retransmission.pcap", ["frame.number", "wsglue_probe.obs.msg_layers"],
                        dfilter="frame.number >= 4 && frame.number <= 7")
    assert [r[:2] for r in rows] == [
        ["4", "t2 copy1 new req 4:0 d0"],
        ["5", "t2 copy2 retr req 4:0 d0"],
        ["6", "t2 copy3 retr req 4:0 d0"],
        ["7", "t2 copy1 req 4:0 d0"],
    ]
