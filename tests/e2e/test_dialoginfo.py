# SPDX-License-Identifier: GPL-2.0-or-later
"""dialoginfo end to end: field case 000 (sipX Resource List Server, Polycom phones, BLF).

Captures come from captures/gen_dialoginfo.py; captures/README.md tells each one's story. The field
case (dialoginfo_blf_ringing_not_reported.pcap) and its healthy twin (dialoginfo_blf_healthy.pcap)
differ only in 208's NOTIFY reporting the incoming call as early; every finding is checked where it
must fire and on the healthy twin, in one pass and with -2.
"""
import re

import pytest

FIELD = "dialoginfo_blf_ringing_not_reported.pcap"
HEALTHY = "dialoginfo_blf_healthy.pcap"
E208 = "sip:208@victoria.pingtel.com"
INSTANCE = "s-293749793d9ff064-15,1b6a2f0e,5f3c2e81-7a6d1d02"
RINGING = 'dialoginfo.dialog.direction == "recipient" && dialoginfo.dialog.state == "early"'
PLACEHOLDER = ('Placeholder dialog id ";" synthesized by the Resource List Server: sip:208@victoria.pingtel.com '
               'reports no current dialog, this is not a call')
# Frames and the Call-ID are fields (link fields for frames), not words in the message: it fits in 200 bytes.
NOT_RINGING = ('Incoming call never reported ringing: dialog "id9c0abe51" of sip:208@victoria.pingtel.com is '
               'confirmed, never trying, proceeding or early (180 sent)')
BOTH = pytest.mark.parametrize("two_pass", [False, True])


def test_plugin_is_listed(ws):
    proc = ws.run(["-G", "plugins"])
    assert any(line.split()[:3] == ["sipsleuth.so", "0.1.0", "dissector"] for line in proc.stdout.splitlines())
    assert "Dialog Event Package (RFC 4235)\tDialogInfo\tdialoginfo" in ws.run(["-G", "protocols"]).stdout.splitlines()


@BOTH
def test_field_case_every_document(ws, two_pass):
    # 208's own NOTIFYs to the RLS (versions 0..7) and the RLS's relays to 207 (versions 12..19, one
    # dialog-info part per multipart NOTIFY), each with the previous NOTIFY of its subscription.
    rows = ws.fields(FIELD, ["frame.number", "dialoginfo.version", "dialoginfo.state", "dialoginfo.entity",
                             "dialoginfo.dialog.id", "dialoginfo.dialog.direction", "dialoginfo.dialog.state",
                             "dialoginfo.dialog.state.event", "dialoginfo.track.previous_frame"],
                     dfilter="dialoginfo", two_pass=two_pass)
    c1, c2 = "idd0f631ca", "id9c0abe51"
    assert rows == [
        ["3", "0", "full", E208, "", "", "", "", ""],
        ["11", "12", "full", E208, ";", "", "terminated", "", ""],
        ["17", "1", "full", E208, c1, "initiator", "trying", "", "3"],
        ["20", "13", "full", E208, f"{INSTANCE};{c1}", "initiator", "trying", "", "11"],
        ["25", "2", "full", E208, c1, "initiator", "early", "", "17"],
        ["28", "14", "full", E208, f"{INSTANCE};{c1}", "initiator", "early", "", "20"],
        ["34", "3", "full", E208, c1, "initiator", "confirmed", "", "25"],
        ["37", "15", "full", E208, f"{INSTANCE};{c1}", "initiator", "confirmed", "", "28"],
        ["43", "4", "full", E208, c1, "initiator", "terminated", "local-bye", "34"],
        ["46", "16", "full", E208, f"{INSTANCE};{c1}", "initiator", "terminated", "local-bye", "37"],
        ["55", "5", "full", E208, c2, "recipient", "confirmed", "", "43"],
        ["58", "17", "full", E208, f"{INSTANCE};{c2}", "recipient", "confirmed", "", "46"],
        ["64", "6", "full", E208, c2, "recipient", "terminated", "remote-bye", "55"],
        ["67", "18", "full", E208, f"{INSTANCE};{c2}", "recipient", "terminated", "remote-bye", "58"],
        ["71", "7", "full", E208, "", "", "", "", "64"],
        ["74", "19", "full", E208, ";", "", "terminated", "", "67"],
    ]


@BOTH
def test_field_case_ringing_never_reported(ws, two_pass):
    # The incoming call to 208 is never reported early: the ringing filter matches nothing, and the
    # finding fires once, on 208's own NOTIFY (the RLS's relay of the same call is not reported again).
    assert ws.fields(FIELD, ["frame.number"], dfilter=RINGING, two_pass=two_pass) == []
    rows = ws.fields(FIELD, ["frame.number", "dialoginfo.dialog.id", "dialoginfo.dialog.call_id",
                             "dialoginfo.track.related_frame", "dialoginfo.dialog.provisional_frame",
                             "dialoginfo.dialog.provisional_code", "dialoginfo.dialog.first_frame", "dialoginfo.caused_by"],
                     dfilter="dialoginfo.ringing_not_reported", two_pass=two_pass)
    # The previous NOTIFY (43) and the phone's 180 (52) as links; a root cause, so no caused_by.
    assert rows == [["55", "id9c0abe51", "dde66480-9c630a7e@10.1.1.123", "43", "52", "180", "", ""]]
    assert ws.experts(FIELD, "DialogInfo", two_pass=two_pass) == {
        ("Warns", "Sequence", NOT_RINGING): 1,
        ("Notes", "Sequence", PLACEHOLDER): 2,
    }


@BOTH
def test_healthy_twin_ringing_matches_exactly_the_ringing_events(ws, two_pass):
    # 208's NOTIFY while it rings (frame 53) and the RLS's relay of it to 207 (frame 56).
    rows = ws.fields(HEALTHY, ["frame.number", "sip.Call-ID", "dialoginfo.dialog.id"], dfilter=RINGING,
                     two_pass=two_pass)
    assert rows == [["53", "s-293749793d9ff064-15", "id9c0abe51"],
                    ["56", "f8274285-5919cf44-bd6bd69b@10.1.1.171", f"{INSTANCE};id9c0abe51"]]
    assert ws.fields(HEALTHY, ["frame.number"], dfilter="dialoginfo.ringing_not_reported", two_pass=two_pass) == []
    assert ws.experts(HEALTHY, "DialogInfo", two_pass=two_pass) == {("Notes", "Sequence", PLACEHOLDER): 2}


def test_placeholder_dialog_noted(ws):
    rows = ws.fields(FIELD, ["frame.number", "dialoginfo.dialog.id", "dialoginfo.dialog.local.identity",
                             "dialoginfo.dialog.local.identity.display"], dfilter="dialoginfo.placeholder_dialog")
    assert rows == [["11", ";", E208, "208"], ["74", ";", E208, "208"]]


def test_info_column(ws):
    rows = ws.fields(FIELD, ["frame.number", "_ws.col.Info"], dfilter="frame.number == 3 || frame.number == 11 || frame.number == 55")
    assert rows == [
        ["3", "Request: NOTIFY sip:~~rl~rls@10.1.1.68 | dialog-info v0 full sip:208@victoria.pingtel.com: "
              "0 dialogs | "],
        ["11", "Request: NOTIFY sip:207@10.1.1.171;transport=tcp | RLMI v0 full "
               "sip:~~rl~C~207@victoria.pingtel.com: 1 resource, 1 instance | dialog-info v12 full "
               "sip:208@victoria.pingtel.com: 1 dialog (placeholder) (application/dialog-info+xml) | "],
        ["55", "Request: NOTIFY sip:~~rl~rls@10.1.1.68 | dialog-info v5 full sip:208@victoria.pingtel.com: "
               "1 dialog (recipient, confirmed) | "],
    ]


def test_no_error_or_malformed_on_good_captures(ws):
    # Only the field case's finding reaches warning level; nothing is malformed anywhere.
    warned = {FIELD: [["55"]], HEALTHY: [], "dialoginfo_namespaces.pcap": []}
    for cap, expected in warned.items():
        proc = ws.run(["-r", ws.capture(cap), "-V"])
        assert proc.returncode == 0
        assert "[Malformed Packet" not in proc.stdout, cap
        assert ws.fields(cap, ["frame.number"], dfilter="_ws.malformed || _ws.expert.severity >= warning") == \
            expected, cap


@BOTH
def test_namespaces_prefixes_and_extensions(ws, two_pass):
    # <d:dialog-info xmlns:d=...>: every RFC 4235 element read through its prefix; the shared-appearance
    # (RFC 7463) and Polycom elements kept as extensions with their namespaces.
    fields = ["dialoginfo.version", "dialoginfo.state", "dialoginfo.dialog.id", "dialoginfo.dialog.call_id",
              "dialoginfo.dialog.local_tag", "dialoginfo.dialog.remote_tag", "dialoginfo.dialog.direction",
              "dialoginfo.dialog.state", "dialoginfo.dialog.state.event", "dialoginfo.dialog.state.code",
              "dialoginfo.dialog.duration", "dialoginfo.dialog.replaces.call_id",
              "dialoginfo.dialog.replaces.local_tag", "dialoginfo.dialog.replaces.remote_tag",
              "dialoginfo.dialog.referred_by", "dialoginfo.dialog.referred_by.display",
              "dialoginfo.dialog.route_set.hop", "dialoginfo.dialog.local.identity",
              "dialoginfo.dialog.local.identity.display", "dialoginfo.dialog.local.target",
              "dialoginfo.dialog.local.target.param.name", "dialoginfo.dialog.local.target.param.value",
              "dialoginfo.dialog.local.session_description", "dialoginfo.dialog.local.session_description.type",
              "dialoginfo.dialog.local.cseq", "dialoginfo.dialog.remote.identity",
              "dialoginfo.dialog.remote.identity.display", "dialoginfo.dialog.remote.target",
              "dialoginfo.extension.name", "dialoginfo.extension.namespace", "dialoginfo.extension.text",
              "dialoginfo.extension.attribute.name", "dialoginfo.extension.attribute.value"]
    rows = ws.fields("dialoginfo_namespaces.pcap", fields, dfilter="dialoginfo", two_pass=two_pass)
    sa, pc = "urn:ietf:params:xml:ns:sa-dialog-info", "http://www.polycom.com/xml/dialog-info"
    assert [dict(zip(fields, r)) for r in rows] == [{
        "dialoginfo.version": "7", "dialoginfo.state": "partial", "dialoginfo.dialog.id": "id7a1f3c09",
        "dialoginfo.dialog.call_id": "5e1b9a2c-2f7d4c11@10.1.1.124", "dialoginfo.dialog.local_tag": "4c2d91e7",
        "dialoginfo.dialog.remote_tag": "a81f0b33", "dialoginfo.dialog.direction": "recipient",
        "dialoginfo.dialog.state": "confirmed", "dialoginfo.dialog.state.event": "replaced",
        "dialoginfo.dialog.state.code": "200", "dialoginfo.dialog.duration": "274",
        "dialoginfo.dialog.replaces.call_id": "0b7e5d3a@10.1.1.123", "dialoginfo.dialog.replaces.local_tag": "9f21c7",
        "dialoginfo.dialog.replaces.remote_tag": "3a0d55", "dialoginfo.dialog.referred_by": "sip:200@victoria.pingtel.com",
        "dialoginfo.dialog.referred_by.display": "Operator", "dialoginfo.dialog.route_set.hop": "sip:10.1.1.68:5060;lr",
        "dialoginfo.dialog.local.identity": E208, "dialoginfo.dialog.local.identity.display": "Lab 208",
        "dialoginfo.dialog.local.target": "sip:208@10.1.1.124",
        "dialoginfo.dialog.local.target.param.name": "+sip.rendering",
        "dialoginfo.dialog.local.target.param.value": "yes", "dialoginfo.dialog.local.session_description": "v=0",
        "dialoginfo.dialog.local.session_description.type": "application/sdp", "dialoginfo.dialog.local.cseq": "3",
        "dialoginfo.dialog.remote.identity": "sip:206@victoria.pingtel.com",
        "dialoginfo.dialog.remote.identity.display": "Front desk",
        "dialoginfo.dialog.remote.target": "sip:206@10.1.1.123",
        "dialoginfo.extension.name": "sa:appearance,sa:exclusive,pc:line-seize,pc:state",
        "dialoginfo.extension.namespace": f"{sa},{sa},{pc},{pc}",
        "dialoginfo.extension.text": "1,false,idle",
        "dialoginfo.extension.attribute.name": "line", "dialoginfo.extension.attribute.value": "2",
    }]
    assert ws.experts("dialoginfo_namespaces.pcap", "DialogInfo", two_pass=two_pass) == {}


@BOTH
def test_subscription_sequence_findings(ws, two_pass):
    cap = "dialoginfo_bad_sequence.pcap"
    rows = ws.fields(cap, ["frame.number", "dialoginfo.version", "dialoginfo.track.previous_version",
                           "dialoginfo.track.retransmission", "dialoginfo.track.related_frame"],
                     dfilter="dialoginfo", two_pass=two_pass)
    assert rows == [["3", "1", "", "", ""], ["5", "2", "1", "", ""], ["6", "2", "", "1", ""],
                    ["8", "4", "2", "", "5"], ["10", "3", "4", "", "8"], ["12", "5", "4", "", ""],
                    ["14", "6", "5", "", "12"], ["18", "0", "", "", ""]]
    e208 = "sip:208@victoria.pingtel.com"
    # The NOTIFY with CSeq 3 is not in the capture: version 4 (CSeq 4) follows version 2 (CSeq 2).
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {
        ("Warns", "Sequence", f"Version 4 of {e208} follows version 2 and NOTIFY CSeq 4 follows 2: 1 NOTIFY missing "
                              "(lost, or not captured)"): 1,
        ("Warns", "Sequence", f"Partial document version 3 of {e208} after version 4 without a full state: a "
                              "subscriber discards it (RFC 4235 section 4.4)"): 1,
        ("Warns", "Protocol", f'Dialog id "id5b7e" of {e208} was reported terminated and is reported again as early: '
                              "a terminated dialog id is reused"): 1,
        ("Warns", "Sequence", f"Partial document of {e208} before any full state in this subscription: the "
                              "subscriber has no state to apply it to (RFC 4235 section 4.4)"): 1,
    }
    assert ws.fields(cap, ["frame.number", "sip.CSeq.seq", "dialoginfo.track.previous_cseq",
                           "dialoginfo.track.missing_notifies", "dialoginfo.track.related_frame"],
                     dfilter="dialoginfo.version_skipped", two_pass=two_pass) == [["8", "4", "2", "1", "5"]]
    assert ws.fields(cap, ["frame.number", "dialoginfo.dialog.terminated_frame"],
                     dfilter="dialoginfo.dialog_id_reused", two_pass=two_pass) == [["14", "12"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.version_skipped") == [["8"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.version_backwards") == [["10"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.dialog_id_reused") == [["14"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.partial_before_full") == [["18"]]


def test_sequence_findings_absent_from_healthy_twin(ws):
    for name in ["version_skipped", "version_backwards", "partial_before_full", "dialog_id_reused",
                 "ringing_not_reported", "track_full"]:
        assert ws.fields(HEALTHY, ["frame.number"], dfilter=f"dialoginfo.{name}", two_pass=True) == [], name


BAD_INPUT = {
    "dialoginfo_bad_malformed.pcap": {("Errors", "Malformed", "Malformed XML at byte 249 of 274: Start-end tags mismatch"): 1},
    # A well-formed document breaking RFC 4235's schema: protocol warnings, not errors.
    "dialoginfo_bad_missing_attributes.pcap": {
        ("Warns", "Protocol", "<dialog-info> has no state attribute"): 1,
        ("Warns", "Protocol", "<dialog-info> has no entity attribute"): 1,
        ("Warns", "Protocol", "<dialog> has no id attribute"): 1,
        ("Warns", "Protocol", "<target> has no uri attribute"): 1,
        ("Warns", "Protocol", "<dialog> has no <state> element"): 1,
    },
    "dialoginfo_bad_unknown_values.pcap": {
        ("Warns", "Protocol", 'Document state "delta" is not full or partial'): 1,
        ("Warns", "Protocol", 'Dialog direction "incoming" is not initiator or recipient'): 1,
        ("Warns", "Protocol", 'Dialog state "ringing" is not trying, proceeding, early, confirmed or terminated'): 1,
        ("Warns", "Protocol", 'State event "hangup" is not cancelled, rejected, replaced, local-bye, remote-bye, '
                              "error or timeout"): 1,
        ("Warns", "Protocol", "Element <ringing> is not defined in <dialog-info> by RFC 4235: shown generically"): 1,
    },
    "dialoginfo_bad_partial_without_version.pcap": {
        ("Warns", "Protocol", "Partial document without a version: a subscriber cannot tell which state it "
                              "updates"): 1},
    "dialoginfo_bad_no_namespace.pcap": {
        ("Warns", "Protocol", "Root element is <dialog-info> in no namespace, not <dialog-info> in "
                              "urn:ietf:params:xml:ns:dialog-info (mislabelled body?)"): 1},
    # Vertical Wave's spelling (wswiki__wireuploaded.pcap): one warning naming it, the value read.
    "dialoginfo_param_pvalue.pcap": {
        ("Warns", "Protocol", "<param> has pvalue=, RFC 4235 says pval=: the value is read from pvalue"): 1},
    "dialoginfo_bad_deep_nesting.pcap": {
        ("Errors", "Undecoded", "Elements nested deeper than 32 levels: not decoded"): 1},
}


@pytest.mark.parametrize("capture", sorted(BAD_INPUT))
def test_bad_input_named_without_crash(ws, capture):
    for two_pass in (False, True):
        assert ws.experts(capture, "DialogInfo", two_pass=two_pass) == BAD_INPUT[capture]
    proc = ws.run(["-r", ws.capture(capture), "-V"], timeout=30)
    assert proc.returncode == 0
    assert "[Malformed Packet" not in proc.stdout


# Only bytes that cannot be parsed are in the Malformed group, the one that sets _ws.malformed
# (Wireshark's "malformed" filter): a well-formed document that breaks RFC 4235 is a Protocol warning, so
# the filter matches the frames it matches without the plugin (none here). Every capture has its error
# on frame 4.
MALFORMED_FRAMES = {
    "dialoginfo_bad_malformed.pcap": [["4"]],
    "dialoginfo_bad_missing_attributes.pcap": [],
    "dialoginfo_bad_partial_without_version.pcap": [],
    "dialoginfo_bad_no_namespace.pcap": [],
    "dialoginfo_param_pvalue.pcap": [],
}


@pytest.mark.parametrize("capture", sorted(MALFORMED_FRAMES))
@BOTH
def test_only_unparseable_bytes_are_malformed(ws, plain, capture, two_pass):
    frame = ["frame.number"]
    assert ws.fields(capture, frame, dfilter="dialoginfo && _ws.expert.severity >= warning",
                     two_pass=two_pass) == [["4"]]
    assert ws.fields(capture, frame, dfilter="_ws.malformed", two_pass=two_pass) == MALFORMED_FRAMES[capture]
    assert plain.fields(capture, frame, dfilter="_ws.malformed", two_pass=two_pass) == []


def test_malformed_body_shows_what_came_before_the_error(ws):
    rows = ws.fields("dialoginfo_bad_malformed.pcap", ["dialoginfo.version", "dialoginfo.dialog.id",
                                                      "dialoginfo.dialog.direction", "dialoginfo.dialog.state"],
                     dfilter="dialoginfo")
    assert rows == [["5", "id9c0e2a11", "initiator", "early"]]


def test_unknown_values_still_shown(ws):
    rows = ws.fields("dialoginfo_bad_unknown_values.pcap", ["dialoginfo.state", "dialoginfo.dialog.direction",
                                                           "dialoginfo.dialog.state", "dialoginfo.extension.name",
                                                           "_ws.col.Info"], dfilter="dialoginfo")
    assert rows == [["delta", "incoming", "ringing", "ringing",
                     "Request: NOTIFY sip:207@10.1.1.171;transport=tcp | dialog-info v8 delta "
                     "sip:208@victoria.pingtel.com: 1 dialog (incoming, ringing) | "]]


def test_depth_limit_is_a_preference(ws):
    proc = ws.run(["-r", ws.capture("dialoginfo_bad_deep_nesting.pcap"), "-o", "dialoginfo.max_depth:20000",
                   "-q", "-z", "expert"])
    assert "nested deeper" not in proc.stdout
    assert "More than 8192 XML nodes: not decoded" in proc.stdout


def test_dialog_info_was_raw_text_without_plugin(ws, plain):
    # Wireshark 4.0 has no dialog-info handler (so this plugin calls no XML dissector): SIP shows the
    # body as text lines.
    assert plain.fields(FIELD, ["frame.protocols"], dfilter="frame.number == 3") == [["eth:ethertype:ip:udp:sip"]]
    assert ws.fields(FIELD, ["frame.protocols"], dfilter="frame.number == 3") == \
        [["eth:ethertype:ip:udp:sip:dialoginfo"]]


@BOTH
def test_two_notifies_in_one_segment_tracked_separately(ws, two_pass):
    # Frame 6 holds sipX's 202 and the first NOTIFY (CSeq 0); frame 10 holds NOTIFYs CSeq 1 and 2. Each
    # body is tracked with its own message's CSeq: the second is not taken for a retransmission of the
    # first, versions follow each other, and each RLMI document links its own part.
    rows = ws.fields("dialoginfo_two_in_one_segment.pcap",
                     ["frame.number", "dialoginfo.version", "dialoginfo.dialog.state", "dialoginfo.track.previous_frame",
                      "dialoginfo.track.previous_version", "dialoginfo.track.retransmission", "rlmi.instance.part"],
                     dfilter="dialoginfo", two_pass=two_pass)
    assert rows == [["6", "30", "terminated", "", "", "", "2"],
                    ["10", "31,32", "early,confirmed", "6,10", "30,31", "", "2,2"]]
    assert ws.experts("dialoginfo_two_in_one_segment.pcap", "DialogInfo", two_pass=two_pass) == {
        ("Notes", "Sequence", PLACEHOLDER): 1}
    assert ws.fields("dialoginfo_two_in_one_segment.pcap", ["_ws.col.Info"], dfilter="frame.number == 10",
                     two_pass=two_pass) == [[
        "Request: NOTIFY sip:207@10.1.1.171;transport=tcp | RLMI v1 full sip:~~rl~C~207@victoria.pingtel.com: "
        "1 resource, 1 instance | dialog-info v31 full sip:208@victoria.pingtel.com: 1 dialog (recipient, early) "
        "(application/dialog-info+xml) | "
        "Request: NOTIFY sip:207@10.1.1.171;transport=tcp | RLMI v2 full sip:~~rl~C~207@victoria.pingtel.com: "
        "1 resource, 1 instance | dialog-info v32 full sip:208@victoria.pingtel.com: 1 dialog (recipient, confirmed) "
        "(application/dialog-info+xml) | "]]


@BOTH
def test_tracking_bound_is_a_preference(ws, two_pass):
    # One (subscription, entity) pair allowed: 208's own subscription is followed (the finding still
    # fires on 55), the RLS's relay to 207 is not, and that is said once, on its first NOTIFY (11).
    opts = ["-o", "dialoginfo.max_tracked:1"]
    assert ws.fields(FIELD, ["frame.number"], dfilter="dialoginfo.track_full", two_pass=two_pass, extra=opts) == [["11"]]
    assert ws.fields(FIELD, ["frame.number"], dfilter="dialoginfo.ringing_not_reported", two_pass=two_pass,
                     extra=opts) == [["55"]]
    assert ws.fields(FIELD, ["frame.number"], dfilter="dialoginfo.track.previous_frame && sip.Call-ID contains \"f827\"",
                     two_pass=two_pass, extra=opts) == []


@BOTH
def test_healthy_edge_cases_raise_nothing(ws, two_pass):
    # Review of issue 3: a UDP retransmission arriving after a later NOTIFY (older CSeq, rejected by the
    # subscriber), a call picked up with Replaces (answered without alerting) and a call refused by do
    # not disturb are healthy BLF traffic: no finding, and the late retransmission is not applied.
    cap = "dialoginfo_healthy_edge_cases.pcap"
    rows = ws.fields(cap, ["frame.number", "sip.CSeq.seq", "dialoginfo.version", "dialoginfo.dialog.state",
                           "dialoginfo.dialog.state.event", "dialoginfo.dialog.replaces.call_id",
                           "dialoginfo.track.retransmission", "dialoginfo.track.previous_version"],
                     dfilter="dialoginfo", two_pass=two_pass)
    assert rows == [["3", "1", "0", "", "", "", "", ""],
                    ["5", "2", "1", "early", "", "", "", "0"],
                    ["6", "3", "2", "confirmed", "", "", "", "1"],
                    ["8", "2", "1", "early", "", "", "1", ""],
                    ["10", "4", "3", "terminated", "remote-bye", "", "", "2"],
                    ["12", "5", "4", "confirmed", "", "97ba17c4@10.1.1.123", "", "3"],
                    ["14", "6", "5", "terminated", "remote-bye", "97ba17c4@10.1.1.123", "", "4"],
                    ["16", "7", "6", "terminated", "rejected", "", "", "5"],
                    ["18", "8", "7", "", "", "", "", "6"]]
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {}
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.expert.severity >= warning || _ws.malformed",
                     two_pass=two_pass) == []



@BOTH
def test_rls_global_version_counter_is_not_a_loss(ws, two_pass):
    # sipXrls numbers every consolidated part from one counter shared by all the lists it serves
    # (review of issue 3): 208's parts jump 41 -> 45 while this subscription's RLMI versions are
    # consecutive. Nothing was lost: no version_skipped, and the ringing was reported (frame 12).
    cap = "dialoginfo_rls_global_versions.pcap"
    rows = ws.fields(cap, ["frame.number", "rlmi.version", "dialoginfo.version", "dialoginfo.dialog.state",
                           "dialoginfo.track.previous_version"], dfilter="dialoginfo", two_pass=two_pass)
    assert rows == [["7", "0", "40", "terminated", ""], ["12", "1", "41", "early", "40"],
                    ["17", "2", "45", "confirmed", "41"], ["22", "3", "46", "terminated", "45"]]
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {("Notes", "Sequence", PLACEHOLDER): 1}
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.expert.severity >= warning || _ws.malformed",
                     two_pass=two_pass) == []


def test_store_bound_is_named_on_every_body_past_it(ws):
    # DESIGN rule 4: the per-capture body store is bounded by dialoginfo.max_stored; past it, bodies are still
    # decoded, and each says it is not kept for the checks that span packets.
    proc = ws.run(["-r", ws.capture("dialoginfo_blf_healthy.pcap"), "-o", "dialoginfo.max_stored:3", "-q", "-z", "expert,note"])
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if "Body store full" in line]
    assert rows == [["15", "Undecoded", "DialogInfo", "Body store full (3 bodies, preference dialoginfo.max_stored): this body is decoded but not tracked across NOTIFYs"]]


SIPX_ID = "s-293749793d9ff064-15,1b6a2f0e,5f3c2e81-7a6d1d02;idd0f631ca"
STORE_FULL_3_KIB = ("Body store full (3 KiB, preference dialoginfo.max_store_kib): this body is decoded but not "
                    "tracked across NOTIFYs")
TRACK_FIELDS = ["frame.number", "dialoginfo.version", "dialoginfo.dialog.id", "dialoginfo.dialog.state",
                "dialoginfo.track.previous_frame", "dialoginfo.track.previous_version",
                "dialoginfo.track.retransmission", "dialoginfo.track.related_frame", "dialoginfo.summary",
                "dialoginfo.placeholder_dialog"]


def test_store_bound_in_bytes(ws):
    # Issue 14: the store is bounded in bytes (dialoginfo.max_store_kib). With 3 KiB on the field case,
    # the documents are kept whole up to 1.5 KiB, then only their checks (each later revisit decodes the
    # body again), and from frame 34 on nothing: each of those bodies says so. Which frame fills the
    # store follows from the verdicts' sizes (64-bit, clang or gcc). History of the bound this test uses:
    # 8 KiB until issue 15 dropped the stored summary, then 7 KiB; since a compacted verdict no longer
    # holds an empty 288-byte document (issue 15), 7 KiB (and 5 KiB) hold every body of the capture.
    extra = ("-o", "dialoginfo.max_store_kib:3")
    proc = ws.run(["-r", ws.capture(FIELD), *extra, "-q", "-z", "expert,note"])
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if "Body store full" in line]
    assert rows == [["10", "Undecoded", "DialogInfo", STORE_FULL_3_KIB]]
    # Every body from the first one refused is refused: the checks never resume after a NOTIFY they
    # did not see, so nothing wrong is found (the field case's finding, frame 55, is past the bound).
    assert ws.fields(FIELD, ["frame.number"], dfilter="dialoginfo.store_full", extra=extra) == [
        ["34"], ["37"], ["43"], ["46"], ["55"], ["58"], ["64"], ["67"], ["71"], ["74"]]
    assert ws.fields(FIELD, ["frame.number"], dfilter="_ws.expert.severity >= warning && dialoginfo",
                     extra=extra) == []
    # Before the bound, compacted or whole, -2 shows exactly what the default store shows.
    before = "dialoginfo && frame.number < 34"
    kept = ws.fields(FIELD, TRACK_FIELDS, dfilter=before, two_pass=True, extra=extra)
    assert kept == ws.fields(FIELD, TRACK_FIELDS, dfilter=before, two_pass=True)
    assert [row[:6] for row in kept] == [
        ["3", "0", "", "", "", ""], ["11", "12", ";", "terminated", "", ""], ["17", "1", "idd0f631ca", "trying", "3", "0"],
        ["20", "13", SIPX_ID, "trying", "11", "12"], ["25", "2", "idd0f631ca", "early", "17", "1"],
        ["28", "14", SIPX_ID, "early", "20", "13"]]


@BOTH
def test_summary_made_for_what_shows_it(ws, two_pass):
    # Issue 15: a verdict no longer keeps the summary, and it is not made when nothing shows it (-q with a
    # tap); asked for as a field or shown in the Info column, in one pass and in -2, it is there.
    rows = ws.fields(FIELD, ["frame.number", "dialoginfo.summary", "_ws.col.Info"], dfilter="dialoginfo",
                     two_pass=two_pass)
    assert len(rows) == 16
    assert rows[0][:2] == ["3", "dialog-info v0 full sip:208@victoria.pingtel.com: 0 dialogs"]
    for frame, summary, info in rows:
        assert summary.startswith("dialog-info v"), frame
        assert summary in info, frame
    assert ws.fields(FIELD, ["frame.number", "dialoginfo.summary"], dfilter="frame.number == 55",
                     two_pass=two_pass) == [["55", "dialog-info v5 full sip:208@victoria.pingtel.com: 1 dialog "
                                                   "(recipient, confirmed)"]]


@BOTH
def test_default_store_keeps_every_body(ws, two_pass):
    for cap in [FIELD, "dialoginfo_blf_healthy.pcap", "dialoginfo_rls_global_versions.pcap"]:
        assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.store_full || rlmi.store_full",
                         two_pass=two_pass) == []


def test_max_stored_still_bounds_the_count(ws):
    # The old preference still works beside the byte bound (users may have set it).
    proc = ws.run(["-r", ws.capture(FIELD), "-o", "dialoginfo.max_stored:20", "-q", "-z", "expert,note"])
    assert proc.returncode == 0, proc.stderr
    assert "Body store full" not in proc.stdout
    extra = ("-o", "dialoginfo.max_stored:9")
    proc = ws.run(["-r", ws.capture(FIELD), *extra, "-q", "-z", "expert,note"])
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if "Body store full" in line]
    assert rows == [["7", "Undecoded", "DialogInfo", "Body store full (9 bodies, preference dialoginfo.max_stored): "
                     "this body is decoded but not tracked across NOTIFYs"]]
    assert ws.fields(FIELD, ["frame.number"], dfilter="dialoginfo.store_full", extra=extra) == [
        ["46"], ["55"], ["58"], ["64"], ["67"], ["71"], ["74"]]


def unnamed_lines(ws, cap, frame):
    """The text-only items (pdml fields without a name) of one frame that show XML: SIP's body lines."""
    proc = ws.run(["-r", ws.capture(cap), "-Y", f"frame.number == {frame}", "-T", "pdml"])
    assert proc.returncode == 0, proc.stderr
    return re.findall(r'<field name="" show="(&lt;[^"]*)" size="(\d+)" pos="(\d+)"', proc.stdout)


@BOTH
def test_wireshark_output_kept(ws, plain, two_pass):
    # Issue 14: Wireshark 4.0 has no dialog-info handler: a multipart part goes to its "media" dissector
    # (media, media.type, " (application/dialog-info+xml)" in the Info column) and a SIP body is shown as
    # text lines. With the plugin both stay, after its own tree.
    cap = "dialoginfo_blf_healthy.pcap"
    fields = ["frame.number", "media.type", "frame.protocols"]
    ours = ws.fields(cap, fields, dfilter="media", two_pass=two_pass)
    assert [row[0] for row in ours] == ["11", "20", "28", "37", "46", "56", "65", "74", "81"]
    assert [row[:2] for row in ours] == [row[:2] for row in plain.fields(cap, fields, dfilter="media",
                                                                         two_pass=two_pass)]
    assert ours[0][2] == "eth:ethertype:ip:tcp:sip:mime_multipart:rlmi:xml:dialoginfo:media"
    info = ["frame.number", "_ws.col.Info"]
    assert plain.fields(cap, info, dfilter="frame.number == 11", two_pass=two_pass) == [
        ["11", "Request: NOTIFY sip:207@10.1.1.171;transport=tcp |  (application/dialog-info+xml)"]]
    assert ws.fields(cap, info, dfilter="frame.number == 11", two_pass=two_pass) == [
        ["11", "Request: NOTIFY sip:207@10.1.1.171;transport=tcp | RLMI v0 full sip:~~rl~C~207@victoria.pingtel.com: "
               "1 resource, 1 instance | dialog-info v12 full sip:208@victoria.pingtel.com: 1 dialog (placeholder) "
               "(application/dialog-info+xml) | "]]
    # A plain NOTIFY's body (frame 3): SIP's text lines, as without the plugin.
    lines = unnamed_lines(ws, cap, 3)
    assert lines == unnamed_lines(plain, cap, 3)
    assert [show for show, _size, _pos in lines] == [
        "&lt;?xml version=&quot;1.0&quot;?&gt;\\r\\n",
        '&lt;dialog-info xmlns=&quot;urn:ietf:params:xml:ns:dialog-info&quot; version=&quot;0&quot; '
        'state=&quot;full&quot; entity=&quot;sip:208@victoria.pingtel.com&quot;&gt;\\r\\n',
        '&lt;/dialog-info&gt;\\r\\n']


@BOTH
def test_param_pvalue_read_as_the_value(ws, two_pass):
    # <param pname=".." pvalue=".."> is well formed: both values shown, one protocol warning for the
    # document (not one per param), and nothing malformed.
    cap = "dialoginfo_param_pvalue.pcap"
    assert ws.fields(cap, ["frame.number", "dialoginfo.dialog.local.target.param.name",
                           "dialoginfo.dialog.local.target.param.value"], dfilter="dialoginfo", two_pass=two_pass) == [
        ["4", "x-line-id,+sip.rendering", "0,yes"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.nonstandard_attribute", two_pass=two_pass) == [["4"]]
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.expert.severity == error", two_pass=two_pass) == []


STEPS_FIELDS = ["frame.number", "sip.CSeq.seq", "dialoginfo.version", "dialoginfo.state",
                "dialoginfo.track.previous_frame", "dialoginfo.track.previous_cseq",
                "dialoginfo.track.full_state_frame", "dialoginfo.track.missing_notifies",
                "dialoginfo.track.related_frame"]


@BOTH
def test_versions_in_steps_of_two_lose_nothing(ws, two_pass):
    # Healthy twin: 208 counts versions in steps of 2 (as Vertical Wave does in wswiki__wireuploaded.pcap)
    # in consecutive CSeqs, each NOTIFY answered 200 OK: no NOTIFY is missing, nothing fires.
    cap = "dialoginfo_version_steps.pcap"
    assert ws.fields(cap, STEPS_FIELDS, dfilter="dialoginfo", two_pass=two_pass) == [
        ["3", "1", "10", "full", "", "", "", "", ""],
        ["5", "2", "12", "partial", "3", "1", "3", "", ""],
        ["7", "3", "14", "partial", "5", "2", "3", "", ""],
        ["9", "4", "16", "partial", "7", "3", "3", "", ""],
        ["11", "5", "18", "partial", "9", "4", "3", "", ""],
        ["13", "6", "20", "partial", "11", "5", "3", "", ""],
        ["15", "7", "22", "full", "13", "6", "3", "", ""],
        ["17", "8", "24", "full", "15", "7", "15", "", ""]]
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {}
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.expert.severity >= warning || _ws.malformed",
                     two_pass=two_pass) == []


@BOTH
def test_versions_in_steps_with_a_cseq_gap_lose_a_notify(ws, two_pass):
    # The same notifier; the capture lacks NOTIFY CSeq 3 (v14) and CSeq 6 (v20). The first gap, before a
    # partial document, is a lost NOTIFY (counted from the CSeqs: 1, not the 1 version step); the second,
    # before a full-state document, costs the subscriber nothing and is not reported.
    cap = "dialoginfo_version_steps_lost.pcap"
    assert ws.fields(cap, STEPS_FIELDS, dfilter="dialoginfo", two_pass=two_pass) == [
        ["3", "1", "10", "full", "", "", "", "", ""],
        ["5", "2", "12", "partial", "3", "1", "3", "", ""],
        ["7", "4", "16", "partial", "5", "2", "3", "1", "5"],
        ["9", "5", "18", "partial", "7", "4", "3", "", ""],
        ["11", "7", "22", "full", "9", "5", "3", "", ""],
        ["13", "8", "24", "full", "11", "7", "11", "", ""]]
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {
        ("Warns", "Sequence", "Version 16 of sip:208@victoria.pingtel.com follows version 12 and NOTIFY CSeq 4 "
                              "follows 2: 1 NOTIFY missing (lost, or not captured)"): 1}


@BOTH
def test_ringing_in_a_discarded_document_is_a_consequence(ws, two_pass):
    # One incident, one warning: frame 7 repeats version 2 (discarded by the subscriber: the cause);
    # the call it reported early is then confirmed, so the subscriber never saw it ring: a note linked
    # to frame 7, not a second warning.
    cap = "dialoginfo_ringing_discarded.pcap"
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {
        ("Warns", "Sequence", "Partial document version 2 of sip:208@victoria.pingtel.com after version 2 without "
                              "a full state: a subscriber discards it (RFC 4235 section 4.4)"): 1,
        ("Notes", "Sequence", 'Incoming call reported ringing only in a discarded document: dialog "idef1550c1" of '
                              "sip:208@victoria.pingtel.com is confirmed"): 1}
    assert ws.fields(cap, ["frame.number", "dialoginfo.caused_by", "dialoginfo.dialog.first_frame",
                           "dialoginfo.track.related_frame"], dfilter="dialoginfo.ringing_discarded",
                     two_pass=two_pass) == [["9", "7", "7", "7"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.version_backwards", two_pass=two_pass) == [["7"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.ringing_not_reported", two_pass=two_pass) == []


def test_every_message_fits_the_gui_label(ws):
    # The GUI shows 240 characters of "Expert Info (Warning/Sequence): " plus the message.
    for cap in [FIELD, "dialoginfo_bad_sequence.pcap", "dialoginfo_version_steps_lost.pcap",
                "dialoginfo_ringing_discarded.pcap", "dialoginfo_param_pvalue.pcap",
                "dialoginfo_bad_no_namespace.pcap", "rlmi_bad_links.pcap"]:
        for two_pass in (False, True):
            for (_sev, _group, message) in {**ws.experts(cap, "DialogInfo", two_pass),
                                           **ws.experts(cap, "RLMI", two_pass)}:
                assert len(message) <= 200, (cap, message)


WAVE = "wswiki__wireuploaded.pcap"  # ../shared/captures-public: Vertical Wave PBX, Aastra phones (2009)


@BOTH
def test_real_vertical_wave_capture(ws, plain, two_pass):
    # The one real capture with dialog-info bodies (see ../shared/captures-public/README.md), checked by
    # hand: 28 NOTIFYs, each answered 200 OK. Line 215's NOTIFYs (frames 215, 463, 1103) carry versions
    # 3479, 3481 (partial) and 3483 (full) in CSeqs 2073625169, 170, 171: the notifier counts in steps
    # of 2, nothing is lost, so no version_skipped. Its <param pname pvalue> is well formed: one protocol
    # warning per document that has it (12), no error, and _ws.malformed matches what it matches without
    # the plugins (nothing).
    from conftest import PUBLIC
    import os
    if not os.path.exists(os.path.join(PUBLIC, WAVE)):
        pytest.skip("../shared/captures-public is not present")
    cap = os.path.join("..", "public", WAVE)
    pvalue = "<param> has pvalue=, RFC 4235 says pval=: the value is read from pvalue"
    assert ws.experts(cap, "DialogInfo", two_pass=two_pass) == {("Warns", "Protocol", pvalue): 12}
    assert ws.experts(cap, "RLMI", two_pass=two_pass) == {}
    assert ws.fields(cap, ["frame.number", "dialoginfo.version", "sip.CSeq.seq", "dialoginfo.track.previous_cseq"],
                     dfilter='dialoginfo.entity == "sip:215@192.168.60.240"', two_pass=two_pass) == [
        ["215", "3479", "2073625169", ""], ["463", "3481", "2073625170", "2073625169"],
        ["1103", "3483", "2073625171", "2073625170"]]
    assert ws.fields(cap, ["frame.number"], dfilter="dialoginfo.version_skipped", two_pass=two_pass) == []
    malformed = ws.fields(cap, ["frame.number"], dfilter="_ws.malformed", two_pass=two_pass)
    assert malformed == plain.fields(cap, ["frame.number"], dfilter="_ws.malformed", two_pass=two_pass) == []
