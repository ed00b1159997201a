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
    rows = probe.fields(TWO, FIELDS, dfilter="wsglue_probe", two_pass=two_pass)
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
                        dfilter="wsglue_probe", two_pass=two_pass)
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
