# SPDX-License-Identifier: GPL-2.0-or-later
"""msrpa end to end: field case 001 (Blink to Blink MSRP chat through an SBC, both ends a=setup:active).

Captures come from captures/gen_msrpa.py; captures/README.md tells each one's story. Every finding is
checked where it must fire (msrpa_field_case_both_active.pcap, msrpa_bad_input.pcap) and on the two
healthy twins (msrpa_rfc4975_chat.pcap, msrpa_comedia_chat.pcap), where it must not; one pass and -2.
"""
import pytest

FIELD = "msrpa_field_case_both_active.pcap"
RFC4975 = "msrpa_rfc4975_chat.pcap"
COMEDIA = "msrpa_comedia_chat.pcap"
BAD = "msrpa_bad_input.pcap"
PASSES = [False, True]

# The incident of field case 001: both ends a=setup:active is its cause, reported once, as the one warning,
# on Blink-2's answer (frame 7). The SBC's answer to Blink-1 (frame 8) is the other leg of the same MSRP
# session (same a=path session ids): a note linked to frame 7. Every other finding is a consequence: a
# note with msrpa.caused_by == 7 that says so.
CAUSE = "; caused by both ends active (frame 7)"
BOTH_ACTIVE = ("Offer and answer both say a=setup:active (RFC 6135 ACM): both ends connect and neither listens, "
               "which works only through a relay that splices the two TCP connections")
OTHER_LEG = ("Both ends a=setup:active on this leg too: the same MSRP session (a=path session ids) as the answer in "
             "frame 7, where it is reported")
BIND_TIMEOUT = ("MSRP session 8e943e31a8e49a6597f0 of 10.201.1.99:49838 (SDP in frame 7) got no SEND in 10 s "
                "(10.050 s elapsed): 2 SENDs to it neither acknowledged nor answered" + CAUSE)


def unanswered(tid, frame, seconds, acked):
    return (f"SEND {tid} (frame {frame}) got no response: the connection was closed {seconds} s after it; "
            f"retransmitted 5 times, {'acknowledged' if acked else 'never acknowledged'} by the peer's TCP" + CAUSE)


UNANSWERED = {
    19: unanswered("745f0cb1fb640e52", 19, "9.858", False),
    20: unanswered("745f0cb1fb640e52", 20, "9.858", False),
    23: unanswered("6ed1199a610a6a7d", 23, "9.857", True),
    24: unanswered("6ed1199a610a6a7d", 24, "9.857", True),
}
ENDED = {
    71: "BYE 11.020 s after the SDP answer (frame 7) and no SEND of this session got a 200 OK" + CAUSE,
    72: "BYE 11.018 s after the SDP answer (frame 8) and no SEND of this session got a 200 OK" + CAUSE,
}
# The SENDs' TCP retransmissions: (frame, SEND frame, n-th retransmission, seconds after the SEND).
RETRANSMISSIONS = [
    (27, 23, 1, "0.200"), (28, 24, 1, "0.200"), (31, 19, 1, "0.282"), (32, 20, 1, "0.282"),
    (35, 23, 2, "0.681"), (36, 24, 2, "0.681"), (39, 19, 2, "0.782"), (40, 20, 2, "0.782"),
    (43, 23, 3, "1.581"), (44, 24, 3, "1.581"), (47, 19, 3, "1.682"), (48, 20, 3, "1.682"),
    (51, 23, 4, "3.281"), (52, 24, 4, "3.281"), (55, 19, 4, "3.382"), (56, 20, 4, "3.382"),
    (59, 23, 5, "6.581"), (60, 24, 5, "6.581"), (63, 19, 5, "6.683"), (64, 20, 5, "6.683"),
]
TID = {19: "745f0cb1fb640e52", 20: "745f0cb1fb640e52", 23: "6ed1199a610a6a7d", 24: "6ed1199a610a6a7d"}


# Expert messages of the other protocols in these captures (TCP analysis, SDP): not ours.
OTHERS = ("This frame ", "Connection establish", "Connection finish", "Connection reset",
          "Duplicate ACK", "Invalid SDP line")


def msrpa_messages(ws, capture, frame, two_pass):
    """msrpa's expert messages on one frame, in tree order (other protocols' dropped by their text)."""
    rows = ws.fields(capture, ["frame.number", "_ws.expert.message"], dfilter=f"frame.number == {frame}",
                     two_pass=two_pass, extra=["-E", "aggregator=|"])
    assert len(rows) == 1
    return [m for m in rows[0][1].split("|") if m and not m.startswith(OTHERS)]


def frames(ws, capture, dfilter, two_pass=False, extra=()):
    return [int(r[0]) for r in ws.fields(capture, ["frame.number"], dfilter=dfilter, two_pass=two_pass, extra=extra)]


def test_plugin_is_listed(ws):
    plugins = ws.run(["-G", "plugins"]).stdout.splitlines()
    assert any(line.split()[:3] == ["sipsleuth.so", "0.1.0", "dissector"] for line in plugins)
    assert "MSRP session analysis\tMSRPA\tmsrpa" in ws.run(["-G", "protocols"]).stdout.splitlines()


@pytest.mark.parametrize("capture", [FIELD, RFC4975, COMEDIA, BAD])
def test_plain_tshark_fields_unchanged(ws, plain, capture):
    # msrpa adds fields beside Wireshark's msrp, sdp and sip; it must not change theirs.
    fields = ["frame.number", "msrp.transaction.id", "msrp.method", "msrp.status.code", "msrp.to.path",
              "msrp.from.path", "msrp.messageid", "msrp.byte.range", "msrp.end.line", "sdp.media", "sdp.media_attr",
              "sip.Method", "sip.Status-Code", "tcp.analysis.retransmission"]
    args = ["-r", ws.capture(capture), "-Y", "msrp || sip || tcp.analysis.retransmission", "-T", "fields",
            "-E", "occurrence=a"] + [a for f in fields for a in ("-e", f)]
    with_plugins, without = ws.run(args), plain.run(args)
    assert with_plugins.returncode == 0 and without.returncode == 0
    assert with_plugins.stdout == without.stdout
    assert len(without.stdout.splitlines()) > 5


@pytest.mark.parametrize("capture", [FIELD, RFC4975, COMEDIA])
@pytest.mark.parametrize("two_pass", PASSES)
def test_good_captures_not_malformed(ws, capture, two_pass):
    # Only msrpa_bad_input.pcap may carry malformed items (test_bad_input_malformed_only_where_bytes_do_not_parse).
    assert frames(ws, capture, "_ws.malformed", two_pass) == []


def test_field_case_decodes_as_msrp_without_plugins(plain):
    # No Decode As: Wireshark's MSRP heuristic on TCP recognises every SEND that is not a retransmission.
    rows = plain.fields(FIELD, ["frame.number", "msrp.transaction.id"], dfilter="msrp")
    # The transaction id twice: start line and end-line.
    assert rows == [["19", "745f0cb1fb640e52,745f0cb1fb640e52"], ["20", "745f0cb1fb640e52,745f0cb1fb640e52"],
                    ["23", "6ed1199a610a6a7d,6ed1199a610a6a7d"], ["24", "6ed1199a610a6a7d,6ed1199a610a6a7d"]]
    assert [r[0] for r in plain.fields(FIELD, ["frame.number"], dfilter="sdp")] == ["1", "3", "7", "8"]


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_sdp_model(ws, two_pass):
    rows = ws.fields(FIELD, ["frame.number", "msrpa.sdp.setup", "msrpa.sdp.session_id", "msrpa.sdp.endpoint",
                             "msrpa.connection_model", "msrpa.offer_in", "msrpa.answer_in"],
                     dfilter="msrpa.sdp.setup", two_pass=two_pass)
    # The model and the answer link are written back onto the offers: seen there only with -2.
    model = "4" if two_pass else ""
    assert rows == [
        ["1", "active", "d3b7e1a04c9f2e6b8a15", "10.201.1.152:53502", model, "", "8" if two_pass else ""],
        ["3", "active", "d3b7e1a04c9f2e6b8a15", "10.207.1.100:15000", model, "", "7" if two_pass else ""],
        ["7", "active", "8e943e31a8e49a6597f0", "10.201.1.99:49838", "4", "3", ""],
        ["8", "active", "8e943e31a8e49a6597f0", "10.207.1.100:15002", "4", "1", ""],
    ]


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_both_active_on_the_answers(ws, two_pass):
    # The cause on Blink-2's answer; the SBC's relayed answer to Blink-1 is a note linked to it.
    assert frames(ws, FIELD, "msrpa.both_active", two_pass) == [7]
    assert frames(ws, FIELD, "msrpa.both_active.other_leg", two_pass) == [8]
    assert msrpa_messages(ws, FIELD, 8, two_pass) == [OTHER_LEG]
    expected = [BOTH_ACTIVE, BIND_TIMEOUT] if two_pass else [BOTH_ACTIVE]
    assert msrpa_messages(ws, FIELD, 7, two_pass) == expected
    rows = ws.fields(FIELD, ["frame.number", "msrpa.caused_by", "msrpa.session.sdp_offer"],
                     dfilter="frame.number == 7 || frame.number == 8", two_pass=two_pass)
    # Frame 7's own caused_by is its bind timeout, written back onto it (-2).
    assert rows == [["7", "7" if two_pass else "", "3"], ["8", "7", "1"]]


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_incident_links(ws, two_pass):
    # Every finding but the cause names it: msrpa.caused_by == 7 on each frame with a consequence, and the
    # frames its message names are links.
    rows = ws.fields(FIELD, ["frame.number", "msrpa.caused_by", "msrpa.session.sdp_answer", "msrpa.send_frame",
                             "msrpa.send.last_retransmission"],
                     dfilter="msrpa.caused_by", two_pass=two_pass, extra=["-E", "occurrence=a"])
    consequence_frames = [f for f, _, _, _ in RETRANSMISSIONS] + [67, 68, 71, 72]
    expected = {str(f): ["7", "", "", ""] for f in consequence_frames}
    expected["8"] = ["7", "", "", ""]
    expected["67"] = ["7,7,7", "7", "19,20,20,23", ""]  # bind timeout (SDP answer, its SENDs), 2 unanswered
    expected["68"] = ["7,7", "", "19,24", ""]
    expected["71"] = ["7", "7", "", ""]
    expected["72"] = ["7", "8", "", ""]
    if two_pass:
        expected["7"] = ["7", "7", "19,20", ""]
        for send, last in {19: "63", 20: "64", 23: "59", 24: "60"}.items():
            expected[str(send)] = ["7,7", "", str(send), last]  # retransmitted (last one), unanswered
    assert {r[0]: r[1:] for r in rows} == expected


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_cause_first_and_only_warning(ws, two_pass):
    # tshark -z expert: the cause is msrpa's only warning-or-above; the consequences are notes.
    args = ["-r", ws.capture(FIELD), "-q", "-z", "expert"] + (["-2"] if two_pass else [])
    out = ws.run(args).stdout
    ours = [line for line in out.splitlines() if " MSRPA " in line]
    assert ours[0].split(None, 3)[3] == BOTH_ACTIVE
    found = ws.experts(FIELD, "MSRPA", two_pass=two_pass)
    assert {k: n for k, n in found.items() if k[0] in ("Errors", "Warns")} == {
        ("Warns", "Protocol", BOTH_ACTIVE): 1}
    assert found[("Notes", "Protocol", OTHER_LEG)] == 1
    assert all(k[2].endswith(CAUSE) for k in found if k[0] == "Notes" and k[1] == "Sequence")


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_connections(ws, two_pass):
    rows = ws.fields(FIELD, ["frame.number", "msrpa.connection.opened_by", "msrpa.connection.sdp_answer",
                             "msrpa.connection.call_id", "msrpa.send.retransmissions", "msrpa.response_in"],
                     dfilter="msrp", two_pass=two_pass)
    count = "5" if two_pass else ""
    assert rows == [
        ["19", "offerer 10.201.1.152:53502", "8", "a84b4c76e66710f0b3c2d1e4@10.201.1.152", count, ""],
        ["20", "answerer 10.201.1.99:49838", "7", "3509990736-382361-1@10.204.1.28", count, ""],
        ["23", "answerer 10.201.1.99:49838", "7", "3509990736-382361-1@10.204.1.28", count, ""],
        ["24", "offerer 10.201.1.152:53502", "8", "a84b4c76e66710f0b3c2d1e4@10.201.1.152", count, ""],
    ]
    # Who connected matches the model (both active), and the paths match the SDP.
    assert frames(ws, FIELD, "msrpa.unexpected_opener || msrpa.path_mismatch", two_pass) == []


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_sends_retransmitted(ws, two_pass):
    rows = ws.fields(FIELD, ["frame.number", "msrpa.retransmission_of"], dfilter="msrpa.retransmission_of",
                     two_pass=two_pass)
    assert rows == [[str(f), str(send)] for f, send, _, _ in RETRANSMISSIONS]
    for frame, send, n, seconds in (RETRANSMISSIONS[0], RETRANSMISSIONS[-1]):
        assert msrpa_messages(ws, FIELD, frame, two_pass) == [
            f"TCP retransmission {n} of SEND {TID[send]} (frame {send}), {seconds} s after it, still unanswered"
            + CAUSE]
    expected = sorted([19, 20, 23, 24] * two_pass + [f for f, _, _, _ in RETRANSMISSIONS])
    assert frames(ws, FIELD, "msrpa.both_active.send_retransmitted", two_pass) == expected
    assert frames(ws, FIELD, "msrpa.send_retransmitted", two_pass) == []


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_sends_unanswered(ws, two_pass):
    # Known when each connection is closed (Blink-2's FIN in frame 67, relayed to Blink-1 in frame 68).
    assert msrpa_messages(ws, FIELD, 67, two_pass) == [BIND_TIMEOUT, UNANSWERED[20], UNANSWERED[23]]
    assert msrpa_messages(ws, FIELD, 68, two_pass) == [UNANSWERED[19], UNANSWERED[24]]
    # With -2 each SEND carries its own finding too, after its retransmission count.
    for send in (19, 20, 23, 24):
        last = {19: 63, 20: 64, 23: 59, 24: 60}[send]
        seconds = "6.683" if send in (19, 20) else "6.581"
        expected = [f"SEND {TID[send]} was retransmitted by TCP 5 times, last in frame {last} ({seconds} s after it)"
                    + CAUSE, UNANSWERED[send]] if two_pass else []
        assert msrpa_messages(ws, FIELD, send, two_pass) == expected


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_bind_timeout_for_blink2(ws, two_pass):
    assert frames(ws, FIELD, "msrpa.both_active.bind_timeout", two_pass) == ([7, 67] if two_pass else [67])
    assert frames(ws, FIELD, "msrpa.bind_timeout || msrpa.send_unanswered || msrpa.session_ended_unbound",
                  two_pass) == []
    rows = ws.fields(FIELD, ["frame.number", "msrpa.bind.elapsed"], dfilter="msrpa.bind.elapsed", two_pass=two_pass)
    assert rows == [["67", "10.050000000"]]


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_session_ended_unbound(ws, two_pass):
    for frame, message in ENDED.items():
        assert msrpa_messages(ws, FIELD, frame, two_pass) == [message]


@pytest.mark.parametrize("two_pass", PASSES)
def test_field_case_expert_summary(ws, two_pass):
    found = ws.experts(FIELD, "MSRPA", two_pass=two_pass)
    # One warning (the cause); 28 notes in one pass (the other leg, 20 retransmissions, the bind timeout,
    # 4 unanswered SENDs, 2 BYEs), 37 with -2 (each SEND's retransmission count and unanswered, the bind
    # timeout on the answer).
    assert sum(n for key, n in found.items() if key[0] == "Notes") == (37 if two_pass else 28)
    assert {key[0] for key in found} == {"Warns", "Notes"}
    assert found[("Notes", "Sequence", BIND_TIMEOUT)] == (2 if two_pass else 1)


@pytest.mark.parametrize("two_pass", PASSES)
def test_bind_timeout_preference(ws, two_pass):
    # The capture ends 11.07 s after Blink-2's answer: with 12 s allowed, the timeout is never reached.
    wanted = "msrpa.both_active.bind_timeout"
    assert frames(ws, FIELD, wanted, two_pass, ["-o", "msrpa.bind_timeout:12"]) == []
    assert frames(ws, FIELD, wanted, two_pass, ["-o", "msrpa.bind_timeout:5"]) == ([7, 59] if two_pass else [59])


@pytest.mark.parametrize("capture,model,setup", [(RFC4975, "1", ["absent", "absent"]),
                                                 (COMEDIA, "2", ["actpass", "passive"])])
@pytest.mark.parametrize("two_pass", PASSES)
def test_healthy_twins_pair_every_send(ws, capture, model, setup, two_pass):
    rows = ws.fields(capture, ["frame.number", "msrpa.sdp.setup", "msrpa.connection_model"], dfilter="msrpa.sdp.setup",
                     two_pass=two_pass)
    assert rows == [["1", setup[0], model if two_pass else ""], ["4", setup[1], model]]
    rows = ws.fields(capture, ["frame.number", "msrp.method", "msrp.status.code", "msrpa.response_in",
                               "msrpa.request_in", "msrpa.response_time", "msrpa.connection.opened_by"],
                     dfilter="msrp", two_pass=two_pass)
    later = lambda frame: frame if two_pass else ""  # noqa: E731 (response_in is a write-back)
    opener = "offerer 192.0.2.10:49152"
    assert rows == [
        ["9", "SEND", "", later("11"), "", "", opener],
        ["11", "", "200", "", "9", "0.032040000", opener],
        ["13", "SEND", "", later("15"), "", "", opener],
        ["15", "", "200", "", "13", "0.032040000", opener],
        ["17", "SEND", "", later("19"), "", "", opener],
        ["19", "", "200", "", "17", "0.032040000", opener],
        ["21", "REPORT", "", "", "", "", opener],
        ["23", "SEND", "", later("25"), "", "", opener],
        ["25", "", "200", "", "23", "0.032040000", opener],
    ]


@pytest.mark.parametrize("capture", [RFC4975, COMEDIA])
@pytest.mark.parametrize("two_pass", PASSES)
def test_healthy_twins_nothing_fires(ws, capture, two_pass):
    assert ws.experts(capture, "MSRPA", two_pass=two_pass) == {}
    assert frames(ws, capture, "_ws.expert && msrpa", two_pass) == []


@pytest.mark.parametrize("two_pass", PASSES)
def test_healthy_chunks_and_report(ws, two_pass):
    rows = ws.fields(RFC4975, ["frame.number", "msrp.byte.range", "msrpa.chunk.number", "msrpa.message.complete",
                               "msrpa.message.chunks", "msrpa.message.bytes", "msrpa.message.content_type",
                               "msrpa.report_of", "msrpa.report_in"],
                     dfilter="msrp.method", two_pass=two_pass)
    assert rows == [
        ["9", "1-0/0", "1", "1", "1", "0", "", "", ""],
        ["13", "1-30/59", "1", "", "", "", "", "", ""],
        ["17", "31-59/59", "2", "1", "2", "59", "text/plain", "", "21" if two_pass else ""],
        ["21", "1-59/59", "", "", "", "", "", "17", ""],
        ["23", "1-31/31", "1", "1", "1", "31", "text/plain", "", ""],
    ]


# msrpa's parse problems in msrpa_bad_input.pcap, per frame in tree order, with (severity, group): the SDP
# was parsed by SIP and SDP, so its problems break rules (Protocol); of the MSRP ones only the header line
# without a colon cannot be parsed (Malformed); the header cap and the snap length cut what is decoded.
PROTOCOL, MALFORMED, UNDECODED = ("Errors", "Protocol"), ("Errors", "Malformed"), ("Notes", "Undecoded")
BAD_ERRORS = {
    1: [(PROTOCOL, 'SDP line is not <type>=<value>: "this line is not SDP"'),
        (PROTOCOL, 'm=message port "notaport" is not a port number'),
        (PROTOCOL, 'a=path holds "http://198.51.100.66/evil;tcp", not an MSRP URI'),
        (PROTOCOL, 'a=setup value "sideways" is none of active, passive, actpass, holdconn')],
    9: [(PROTOCOL, 'Transaction id "' + "t" * 64 + '..." is not 4 to 32 letters, digits or .-+%= (RFC 4975 section 9)')],
    11: [(PROTOCOL, 'To-Path "garbage-not-a-uri" is not a list of MSRP URIs'),
         (PROTOCOL, 'Byte-Range "9-3/2" is not start-end/total (RFC 4975 section 7.1.1)'),
         (MALFORMED, 'Header line without a name and colon: "no colon in this header line"')],
    13: [(UNDECODED, "More than 64 header lines: the rest is not decoded")],
    15: [(PROTOCOL, '"send" is neither a method (upper-case letters) nor a status code')],
    17: [(UNDECODED, "MSRP message truncated in the capture: 66 of 216 bytes captured")],
}


@pytest.mark.parametrize("two_pass", PASSES)
def test_bad_input_flagged(ws, two_pass):
    assert frames(ws, BAD, "msrpa.malformed_sdp || msrpa.malformed_msrp || msrpa.invalid_msrp || "
                           "msrpa.msrp_partly_decoded", two_pass) == sorted(BAD_ERRORS)
    assert frames(ws, BAD, "msrpa.malformed_sdp", two_pass) == [1]
    assert frames(ws, BAD, "msrpa.malformed_msrp", two_pass) == [11]
    assert frames(ws, BAD, "msrpa.invalid_msrp", two_pass) == [9, 11, 15]
    assert frames(ws, BAD, "msrpa.msrp_partly_decoded", two_pass) == [13, 17]
    for frame, errors in BAD_ERRORS.items():
        assert [m for m in msrpa_messages(ws, BAD, frame, two_pass) if not m.startswith("SEND ")] == \
            [m for _, m in errors]
    found = ws.experts(BAD, "MSRPA", two_pass=two_pass)
    assert {k: n for k, n in found.items() if not k[2].startswith("SEND ")} == {
        (*group, m): 1 for errors in BAD_ERRORS.values() for group, m in errors}
    # The SENDs the peer never answered are named when the connection is reset (frame 21).
    assert [m.split(" got no response")[0] for m in msrpa_messages(ws, BAD, 21, two_pass)] == [
        "SEND " + "t" * 32 + "... (frame 9)", "SEND a1b2c3d4 (frame 11)", "SEND b2c3d4e5 (frame 13)",
        "SEND e5f6a7b8 (frame 17)"]


@pytest.mark.parametrize("two_pass", PASSES)
def test_bad_input_malformed_only_where_bytes_do_not_parse(ws, plain, two_pass):
    # _ws.malformed: plain tshark's own (frame 1, the SDP dissector's "Invalid SDP line") and msrpa's header
    # line without a colon (frame 11); never for a rule broken by bytes that parse.
    assert frames(plain, BAD, "_ws.malformed", two_pass) == [1]
    assert frames(ws, BAD, "_ws.malformed", two_pass) == [1, 11]
    rows = ws.fields(BAD, ["frame.number", "_ws.col.Info"], dfilter="msrpa", two_pass=two_pass)
    assert {int(r[0]): r[1][r[1].index(" [MSRPA: "):] for r in rows if " [MSRPA: " in r[1]} == {
        1: " [MSRPA: invalid]",
        9: " [MSRPA: SEND unanswered, invalid]" if two_pass else " [MSRPA: invalid]",
        11: " [MSRPA: SEND unanswered, malformed, invalid]" if two_pass else " [MSRPA: malformed, invalid]",
        13: " [MSRPA: SEND unanswered, partly decoded]" if two_pass else " [MSRPA: partly decoded]",
        15: " [MSRPA: invalid]",
        17: " [MSRPA: SEND unanswered, partly decoded]" if two_pass else " [MSRPA: partly decoded]",
        21: " [MSRPA: SEND unanswered]",
    }


VIOLATIONS = "msrpa_protocol_violations.pcap"
INCOMPLETE = "Message k4 ended incomplete: 1 chunk, 10 of 20 bytes (last chunk in frame 28); the session ended (BYE)"


@pytest.mark.parametrize("two_pass", PASSES)
def test_protocol_violations(ws, two_pass):
    # Call 1 (frames 1-7): both passive. Call 2 (from frame 8): the passive answerer connects, its first
    # SEND names the wrong session id, its second SEND reuses the transaction id.
    assert msrpa_messages(ws, VIOLATIONS, 4, two_pass) == [
        "Offer and answer both end up passive: both ends wait for a connection and nobody connects"]
    assert msrpa_messages(ws, VIOLATIONS, 16, two_pass) == [
        "The answerer 198.51.100.20:50001 opened this connection, but the SDP (frames 8, 11) says the offerer "
        "connects",
        'To-Path session id "notalicesid" is not the offer\'s a=path session id "iau39soe2843z"']
    assert msrpa_messages(ws, VIOLATIONS, 20, two_pass) == [
        "Transaction id q8w7e6r5 was already used by the SEND in frame 16 on this connection"]
    assert frames(ws, VIOLATIONS, "msrpa.nobody_connects", two_pass) == [4]
    assert frames(ws, VIOLATIONS, "msrpa.unexpected_opener || msrpa.path_mismatch", two_pass) == [16]
    assert frames(ws, VIOLATIONS, "msrpa.duplicate_transaction_id", two_pass) == [20]
    # The frames the messages name are links: the SDP of the session (opener, path), the first use of the id.
    rows = ws.fields(VIOLATIONS, ["frame.number", "msrpa.session.sdp_offer", "msrpa.session.sdp_answer",
                                  "msrpa.transaction_id.first_use", "msrpa.message.last_chunk", "msrpa.caused_by"],
                     dfilter="frame.number in {16, 20, 32}", two_pass=two_pass, extra=["-E", "occurrence=a"])
    assert rows == [["16", "8,8", "11,11", "", "", ""], ["20", "", "", "16", "", ""], ["32", "", "", "", "28", ""]]
    # Nothing else: the session where nobody connects is not reported again at its BYE, every SEND is
    # answered and Alice's session is bound by Bob's SENDs.
    found = ws.experts(VIOLATIONS, "MSRPA", two_pass=two_pass)
    assert sorted(found) == [("Errors", "Protocol", "Offer and answer both end up passive: both ends wait for a "
                                                    "connection and nobody connects"),
                             ("Warns", "Protocol", "The answerer 198.51.100.20:50001 opened this connection, but the "
                                                   "SDP (frames 8, 11) says the offerer connects"),
                             ("Warns", "Protocol", 'To-Path session id "notalicesid" is not the offer\'s a=path '
                                                   'session id "iau39soe2843z"'),
                             ("Warns", "Protocol", "Transaction id q8w7e6r5 was already used by the SEND in frame 16 "
                                                   "on this connection"),
                             ("Warns", "Sequence", INCOMPLETE)]
    # Alice's last message stops after its first chunk: known at the BYE (frame 32), written back onto
    # the chunk (frame 28).
    assert msrpa_messages(ws, VIOLATIONS, 32, two_pass) == [INCOMPLETE]
    assert frames(ws, VIOLATIONS, "msrpa.message_incomplete", two_pass) == ([28, 32] if two_pass else [32])
    rows = ws.fields(VIOLATIONS, ["frame.number", "msrpa.connection_model", "msrpa.connection.opened_by"],
                     dfilter="msrpa.sdp.setup || msrp", two_pass=two_pass)
    assert rows[:2] == [["1", "5" if two_pass else "", ""], ["4", "5", ""]]
    assert rows[2:4] == [["8", "2" if two_pass else "", ""], ["11", "2", ""]]
    assert {r[2] for r in rows[4:]} == {"answerer 198.51.100.20:50001"}


@pytest.mark.parametrize("two_pass", PASSES)
def test_tracking_limit(ws, two_pass):
    # With room for one transaction, the second SEND (frame 13) says the limit is reached, once, and
    # nothing is reported falsely about what is no longer tracked.
    found = ws.experts(RFC4975, "MSRPA", two_pass=two_pass)
    assert found == {}
    args = ["-o", "msrpa.max_transactions:1"]
    assert frames(ws, RFC4975, "msrpa.tracking_full", two_pass, args) == [13]
    assert frames(ws, RFC4975, "_ws.expert && msrpa && !msrpa.tracking_full", two_pass, args) == []
    assert frames(ws, RFC4975, "msrpa.response_in", two_pass, args) == ([9] if two_pass else [])


@pytest.mark.parametrize("two_pass", PASSES)
def test_info_column(ws, two_pass):
    # The cause on both answers; the consequences where they become known and (-2) on each SEND; none on
    # the 20 TCP retransmissions, which TCP tags already ("[TCP Retransmission]").
    rows = ws.fields(FIELD, ["frame.number", "_ws.col.Info"], two_pass=two_pass)
    tags = {int(r[0]): r[1][r[1].find(" [MSRPA"):] for r in rows if "[MSRPA" in r[1]}
    sends = {f: " [MSRPA: SEND retransmitted, SEND unanswered]" for f in (19, 20, 23, 24)} if two_pass else {}
    assert tags == {
        7: " [MSRPA: both ends a=setup:active" + (", session never bound]" if two_pass else "]"),
        8: " [MSRPA: both ends a=setup:active]",
        **sends,
        67: " [MSRPA: session never bound, SEND unanswered]",
        68: " [MSRPA: SEND unanswered]",
        71: " [MSRPA: ended unbound]",
        72: " [MSRPA: ended unbound]",
    }
    healthy = ws.fields(RFC4975, ["_ws.col.Info"], two_pass=two_pass)
    assert not [r for r in healthy if "MSRPA" in r[0]]


@pytest.mark.parametrize("two_pass", PASSES)
def test_every_message_fits(ws, two_pass):
    # Issue 11: every msrpa expert message fits the GUI's label (at most 200 characters), the hostile
    # msrpa_bad_input.pcap (a 100-character transaction id, 3,000-byte accept-types) included.
    for cap in (FIELD, RFC4975, COMEDIA, BAD, VIOLATIONS):
        for key in ws.experts(cap, "MSRPA", two_pass=two_pass):
            assert len(key[2]) <= 200, (cap, key)
