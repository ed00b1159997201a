# SPDX-License-Identifier: GPL-2.0-or-later
"""mssip end to end: field case 002 (OCS 2007 R2 call forked to the callee's two registered endpoints).

Captures come from captures/gen_mssip.py; see captures/README.md for each one's story. One pass and
`-2` are both checked: on a single pass the endpoint count and the answering endpoint are those known
when the message was seen; on revisits (-2, the GUI) they are the call's final ones, and the losing
branch of an endpoint that never sent a final response is named on its last message.
"""
import os

import pytest

from conftest import FOUND

FIELD_CASE = "mssip_ocs_mpop_call.pcap"
OC = "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)"
PHONE = "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)"
INITIAL, RE_INVITE = "initial INVITE (CSeq 1)", "re-INVITE (CSeq 3)"
CALL_FIELDS = ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.endpoint.agent", "mssip.to.epid",
               "mssip.transaction", "mssip.transaction.request_frame", "mssip.answered_by", "mssip.forked"]
DIAG_13004 = "Request was proxied to one or more registered endpoints"


def test_plugin_is_listed(ws):
    assert any(line.split()[:3] == ["sipsleuth.so", "0.1.0", "dissector"] for line in ws.run(["-G", "plugins"]).stdout.splitlines())
    protocols = ws.run(["-G", "protocols"]).stdout.splitlines()
    assert "Microsoft SIP endpoints, ms-diagnostics and forked calls\tMSSIP\tmssip" in protocols


# Frame 6 carries the pool's 100 Trying and 101 Progress Report in one TCP segment.
FIELD_CASE_ONE_PASS = [
    ["4", "", "", "", "", INITIAL, "", "", ""],
    ["6", "", "", "", "", f"{INITIAL},{INITIAL}", "4,4", "", ""],
    ["9", "1", "1", OC, "aad34505db", INITIAL, "4", "", "0"],
    ["11", "1", "1", OC, "aad34505db", "PRACK (CSeq 2)", "", "", "0"],
    ["13", "1", "1", OC, "aad34505db", "PRACK (CSeq 2)", "11", "", "0"],
    ["15", "2", "2", PHONE, "2798f0b3cc", INITIAL, "4", "", "1"],
    ["17", "2", "2", PHONE, "2798f0b3cc", "PRACK (CSeq 2)", "", "", "1"],
    ["19", "2", "2", PHONE, "2798f0b3cc", "PRACK (CSeq 2)", "17", "", "1"],
    ["22", "2", "2", PHONE, "2798f0b3cc", INITIAL, "4", "2", "1"],
    ["24", "2", "2", PHONE, "2798f0b3cc", "ACK (CSeq 1)", "", "2", "1"],
    ["27", "2", "2", PHONE, "2798f0b3cc", RE_INVITE, "", "2", "1"],
    ["30", "2", "2", PHONE, "2798f0b3cc", RE_INVITE, "27", "2", "1"],
    ["32", "2", "2", PHONE, "2798f0b3cc", "ACK (CSeq 3)", "", "2", "1"],
]
# Revisits know the end: 2 endpoints and endpoint 2 answering, on every message of the call.
FIELD_CASE_TWO_PASS = [
    ["4", "", "2", "", "", INITIAL, "", "2", "1"],
    ["6", "", "2,2", "", "", f"{INITIAL},{INITIAL}", "4,4", "2,2", "1,1"],
] + [row[:2] + ["2"] + row[3:7] + ["2", "1"] for row in FIELD_CASE_ONE_PASS[2:]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_field_case_endpoints_and_transactions(ws, two_pass):
    rows = ws.fields(FIELD_CASE, CALL_FIELDS, dfilter="sip", two_pass=two_pass)
    assert rows == (FIELD_CASE_TWO_PASS if two_pass else FIELD_CASE_ONE_PASS)


@pytest.mark.parametrize("two_pass", [False, True])
def test_field_case_every_200_names_its_transaction(ws, two_pass):
    rows = ws.fields(FIELD_CASE, ["frame.number", "mssip.transaction", "mssip.transaction.request_frame",
                                  "mssip.endpoint"], dfilter="sip.Status-Code == 200", two_pass=two_pass)
    assert rows == [["13", "PRACK (CSeq 2)", "11", "1"], ["19", "PRACK (CSeq 2)", "17", "2"],
                    ["22", INITIAL, "4", "2"], ["30", RE_INVITE, "27", "2"]]


def test_field_case_epids(ws):
    rows = ws.fields(FIELD_CASE, ["frame.number", "mssip.from.epid", "mssip.to.epid", "mssip.contact.epid"],
                     dfilter="frame.number in {4, 9, 15, 22, 27}")
    assert rows == [["4", "1488039028", "", "NFExHZ6mj1yDHREOYWtdYQAA"],
                    ["9", "1488039028", "aad34505db", "ATX04NzZClmCm9_s1BVjeAAA"],
                    ["15", "1488039028", "2798f0b3cc", "uozeqPgOuFOVd0DaRpeFCgAA"],
                    ["22", "1488039028", "2798f0b3cc", "uozeqPgOuFOVd0DaRpeFCgAA"],
                    ["27", "1488039028", "2798f0b3cc", "NFExHZ6mj1yDHREOYWtdYQAA"]]


def test_field_case_ms_diagnostics_13004(ws, plain):
    rows = ws.fields(FIELD_CASE, ["frame.number", "mssip.diag.code", "mssip.diag.sub_code", "mssip.diag.public",
                                  "mssip.diag.reason", "mssip.diag.source", "mssip.diag.app_name",
                                  "mssip.diag.param.name", "mssip.diag.param.value"], dfilter="mssip.diag")
    assert rows == [["6", "13004", "", "0", DIAG_13004, "R2EE01.uclab.org", "InboundRouting", "reason,source,appName",
                     f"{DIAG_13004},R2EE01.uclab.org,InboundRouting"]]
    tree = ws.run(["-r", ws.capture(FIELD_CASE), "-Y", "frame.number == 6", "-V"]).stdout
    assert f"ErrorId: {DIAG_13004} (13004)" in tree
    # Wireshark alone calls the header unrecognised; with the plugin it is decoded.
    unrecognised = ("Notes", "Undecoded", "Unrecognised SIP header (ms-diagnostics)")
    assert plain.experts(FIELD_CASE, "SIP").get(unrecognised) == 1
    assert unrecognised not in ws.experts(FIELD_CASE, "SIP")


LOSER_OC = (f"Losing branch: endpoint 1 of 2 ({OC}) sent no final response; endpoint 2 answered in frame 22")


@pytest.mark.parametrize("two_pass", [False, True])
def test_field_case_findings(ws, two_pass):
    expected = {("Notes", "Sequence", "Call forked to 2 endpoints"): 1,
                ("Notes", "Sequence", f"Forked call answered by endpoint 2 of 2 ({PHONE})"): 1}
    if two_pass:
        # Only a revisit knows endpoint 1 never answered: named on its last message, the 200 to its PRACK.
        expected[("Notes", "Sequence", LOSER_OC)] = 1
    assert ws.experts(FIELD_CASE, "MSSIP", two_pass=two_pass) == expected
    assert ws.fields(FIELD_CASE, ["frame.number"], dfilter="mssip.forked_call") == [["15"]]
    assert ws.fields(FIELD_CASE, ["frame.number"], dfilter="mssip.answered") == [["22"]]
    assert ws.fields(FIELD_CASE, ["frame.number"], dfilter="mssip.losing_branch", two_pass=two_pass) == \
        ([["13"]] if two_pass else [])
    # The OC's branch got no final response because the phone answered: a consequence linked to frame 22.
    assert ws.fields(FIELD_CASE, ["frame.number", "mssip.caused_by"], dfilter="mssip.caused_by",
                     two_pass=two_pass) == ([["13", "22"]] if two_pass else [])


@pytest.mark.parametrize("two_pass", [False, True])
def test_single_endpoint_call_has_no_fork_finding(ws, two_pass):
    # The same call with IzabelaF signed in on the phone only.
    cap = "mssip_ocs_single_endpoint.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {}
    rows = ws.fields(cap, ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                           "mssip.answered_by"], dfilter="sip.Status-Code >= 180", two_pass=two_pass)
    # Before the 200 OK a single pass does not know who answers yet; a revisit does.
    before = "1" if two_pass else ""
    assert rows == [["8", "1", "1", "0", before], ["12", "1", "1", "0", before], ["15", "1", "1", "0", "1"],
                    ["23", "1", "1", "0", "1"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_plain_call_has_no_fork_finding(ws, two_pass):
    cap = "mssip_plain_call.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {}
    rows = ws.fields(cap, ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                           "mssip.transaction", "mssip.answered_by"], dfilter="sip", two_pass=two_pass)
    if two_pass:
        first = [["1", "", "1", "0", INITIAL, "1"], ["2", "", "1", "0", INITIAL, "1"], ["3", "1", "1", "0", INITIAL, "1"]]
    else:  # nothing is known of the endpoints before the 180
        first = [["1", "", "", "", INITIAL, ""], ["2", "", "", "", INITIAL, ""], ["3", "1", "1", "0", INITIAL, ""]]
    assert rows == first + [["4", "1", "1", "0", INITIAL, "1"], ["5", "1", "1", "0", "ACK (CSeq 1)", "1"],
                            ["6", "1", "1", "0", "BYE (CSeq 2)", "1"], ["7", "1", "1", "0", "BYE (CSeq 2)", "1"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_fork_lookalikes_fire_nothing(ws, two_pass):
    # A 401 with its own To tag and the INVITE re-sent (CSeq 2), UDP-retransmitted 183 and 200, a second
    # call on the same Call-ID with another From tag: one endpoint each, no fork. A display name holding
    # "epid" (Sepideh) and a GRUU cut by the 16 KiB header limit are no malformed epid; ms-diagnostics
    # 13006 on a 302 redirect is no error, nor is a registrar's GRUU given as a Contact parameter.
    cap = "mssip_fork_lookalikes.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {}
    rows = ws.fields(cap, ["frame.number", "sip.Status-Code", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                           "mssip.transaction", "mssip.answered_by"], dfilter="sip.Status-Code", two_pass=two_pass)
    before = "1" if two_pass else ""  # the 200 OK is not known yet on a single pass
    call1, call2 = "initial INVITE (CSeq 2)", INITIAL
    assert rows == [["2", "401", "", "1" if two_pass else "", "0" if two_pass else "", "initial INVITE (CSeq 1)", before],
                    ["5", "183", "1", "1", "0", call1, before], ["6", "183", "1", "1", "0", call1, before],
                    ["7", "200", "1", "1", "0", call1, "1"], ["8", "200", "1", "1", "0", call1, "1"],
                    ["11", "180", "1", "1", "0", call2, before], ["12", "200", "1", "1", "0", call2, "1"],
                    ["15", "302", "", "", "", INITIAL, ""], ["18", "200", "", "", "", "", ""]]
    assert ws.fields(cap, ["frame.number", "mssip.diag.code"], dfilter="mssip.diag") == [["15", "13006"]]
    # The registrar's GRUU, given as a gruu="..." Contact parameter (RFC 5627), is the Contact epid.
    assert ws.fields(cap, ["frame.number", "mssip.from.epid", "mssip.contact.epid"], dfilter="frame.number >= 17") == [
        ["17", "01c2d3e4f5", ""], ["18", "01c2d3e4f5", "Zk9x2Lw7QmSd3VbN1HcE4gAA"]]
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.malformed || mssip.malformed_header || "
                                                    "mssip.diagnostics_error", two_pass=two_pass) == []


def three_fork_experts(total):
    yealink, polycom, bria = ("Yealink SIP-T46U 108.86.0.20", "PolycomVVX-VVX_411-UA/6.4.3.5018",
                              "Bria 6 release 6.5.1 stamp 109876")
    return {("Notes", "Sequence", f"Call forked to {total} endpoints"): 1,
            ("Notes", "Sequence", f"Forked call answered by endpoint 2 of 3 ({yealink})"): 1,
            ("Notes", "Sequence", f"Losing branch: endpoint 1 of 3 ({polycom}) ended with 487 Request Terminated; "
                                  "endpoint 2 answered in frame 12"): 1,
            ("Notes", "Sequence", f"Losing branch: endpoint 3 of 3 ({bria}) ended with 487 Request Terminated; "
                                  "endpoint 2 answered in frame 12"): 1}


@pytest.mark.parametrize("two_pass", [False, True])
def test_three_endpoint_fork(ws, two_pass):
    cap = "mssip_three_endpoint_fork.pcap"
    # One pass sees the fork when the second endpoint rings (2 so far); -2 writes the final count back.
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == three_fork_experts(3 if two_pass else 2)
    rows = ws.fields(cap, ["frame.number", "ip.src", "ip.dst", "mssip.endpoint", "mssip.endpoint_count",
                           "mssip.transaction", "mssip.transaction.request_frame"], two_pass=two_pass,
                     dfilter="sip.Status-Code >= 180 || sip.Method in {\"CANCEL\", \"ACK\"}")
    n = (lambda so_far: "3") if two_pass else (lambda so_far: so_far)
    assert rows == [
        ["6", "10.20.0.21", "10.20.0.1", "1", n("1"), INITIAL, "3"],
        ["7", "10.20.0.1", "10.20.0.11", "1", n("1"), INITIAL, "1"],
        ["8", "10.20.0.22", "10.20.0.1", "2", n("2"), INITIAL, "4"],
        ["9", "10.20.0.1", "10.20.0.11", "2", n("2"), INITIAL, "1"],
        ["10", "10.20.0.23", "10.20.0.1", "3", "3", INITIAL, "5"],
        ["11", "10.20.0.1", "10.20.0.11", "3", "3", INITIAL, "1"],
        ["12", "10.20.0.22", "10.20.0.1", "2", "3", INITIAL, "4"],
        ["13", "10.20.0.1", "10.20.0.11", "2", "3", INITIAL, "1"],
        # The proxy's CANCELs have no To tag: the Via branch they share with the INVITE names the endpoint.
        ["14", "10.20.0.1", "10.20.0.21", "1", "3", "CANCEL (CSeq 1)", ""],
        ["15", "10.20.0.1", "10.20.0.23", "3", "3", "CANCEL (CSeq 1)", ""],
        ["16", "10.20.0.21", "10.20.0.1", "1", "3", "CANCEL (CSeq 1)", "14"],
        ["17", "10.20.0.21", "10.20.0.1", "1", "3", INITIAL, "3"],
        ["18", "10.20.0.1", "10.20.0.21", "1", "3", "ACK (CSeq 1)", ""],
        ["19", "10.20.0.23", "10.20.0.1", "3", "3", "CANCEL (CSeq 1)", "15"],
        ["20", "10.20.0.23", "10.20.0.1", "3", "3", INITIAL, "5"],
        ["21", "10.20.0.1", "10.20.0.23", "3", "3", "ACK (CSeq 1)", ""],
        ["22", "10.20.0.11", "10.20.0.1", "2", "3", "ACK (CSeq 1)", ""],
        ["23", "10.20.0.1", "10.20.0.22", "2", "3", "ACK (CSeq 1)", ""],
        ["26", "10.20.0.22", "10.20.0.1", "2", "3", "BYE (CSeq 2)", "25"],
        ["27", "10.20.0.1", "10.20.0.11", "2", "3", "BYE (CSeq 2)", "24"],
    ]
    assert ws.fields(cap, ["frame.number"], dfilter="mssip.losing_branch", two_pass=two_pass) == [["17"], ["20"]]
    # Both losing branches were cancelled (487) after endpoint 2's answer: consequences of frame 12.
    assert ws.fields(cap, ["frame.number", "mssip.caused_by"], dfilter="mssip.caused_by", two_pass=two_pass) == [
        ["17", "12"], ["20", "12"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_compact_header_forms(ws, two_pass):
    # v:, f:, t:, i:, m: and c: only: Wireshark maps them to the same fields, so the fork is found alike.
    cap = "mssip_compact_fork.pcap"
    header = ws.fields(cap, ["sip.msg_hdr"], dfilter="frame.number == 7")[0][0]
    assert header.startswith("v: SIP/2.0/UDP 10.20.0.1:5060;") and "\\r\\nf: " in header and "\\r\\nt: " in header \
        and "\\r\\ni: " in header and "\\r\\nm: " in header and "From:" not in header and "Call-ID:" not in header
    assert ws.fields(cap, ["frame.number", "sip.Call-ID", "sip.from.tag", "sip.to.tag", "sip.Contact"],
                     dfilter="frame.number == 7") == [["7", "9e4d2b6a0c8f1e3d5b7a@10.20.0.11", "8812f0a3", "5e20b8a4",
                                                      "<sip:bob@10.20.0.22:5060>"]]
    polycom, yealink = "PolycomVVX-VVX_411-UA/6.4.3.5018", "Yealink SIP-T46U 108.86.0.20"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {
        ("Notes", "Sequence", "Call forked to 2 endpoints"): 1,
        ("Notes", "Sequence", f"Forked call answered by endpoint 2 of 2 ({yealink})"): 1,
        ("Notes", "Sequence", f"Losing branch: endpoint 1 of 2 ({polycom}) ended with 487 Request Terminated; "
                              "endpoint 2 answered in frame 9"): 1}
    rows = ws.fields(cap, ["frame.number", "mssip.endpoint", "mssip.transaction"], two_pass=two_pass,
                     dfilter="sip.Status-Code >= 180")
    assert rows == [["5", "1", INITIAL], ["6", "1", INITIAL], ["7", "2", INITIAL], ["8", "2", INITIAL],
                    ["9", "2", INITIAL], ["10", "2", INITIAL], ["12", "1", "CANCEL (CSeq 1)"], ["13", "1", INITIAL],
                    ["19", "2", "BYE (CSeq 2)"], ["20", "2", "BYE (CSeq 2)"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_long_agents_and_reason_fit(ws, two_pass):
    # captures/mssip_long_texts_fork.pcap: the two-endpoint fork story with 355-character User-Agents and a
    # 487 whose reason phrase is 199 characters. Each message names a cut agent (the whole one is
    # mssip.endpoint.agent) and stays within the GUI's label (200 characters).
    cap = "mssip_long_texts_fork.pcap"
    found = ws.experts(cap, "MSSIP", two_pass=two_pass)
    assert found == {
        ("Notes", "Sequence", "Call forked to 2 endpoints"): 1,
        ("Notes", "Sequence", "Forked call answered by endpoint 2 of 2 (Yealink SIP-T46U 108.86.0.20 (long build "
                              "string long build string long build ...)"): 1,
        ("Notes", "Sequence", "Losing branch: endpoint 1 of 2 (PolycomVVX-VVX_411-UA/6.4.3.5018 (long build string "
                              "long build string long bu...) ended with 487 Request Terminated by the far...; "
                              "endpoint 2 answered in frame 9"): 1}
    assert all(len(k[2]) <= 200 for k in found)
    agents = ws.fields(cap, ["mssip.endpoint.agent"], dfilter="frame.number == 9")
    assert len(agents[0][0]) == len("Yealink SIP-T46U 108.86.0.20 (") + 18 * len("long build string ") + 1
    assert ws.fields(cap, ["frame.number", "mssip.caused_by"], dfilter="mssip.caused_by", two_pass=two_pass) == [
        ["13", "9"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_every_message_fits(ws, two_pass):
    # Every mssip expert message of every mssip capture fits the GUI's label (at most 200 characters).
    for cap in GOOD + ["mssip_long_texts_fork.pcap", "mssip_bad_diagnostics.pcap", "mssip_bad_epid.pcap",
                       "mssip_bad_many_diagnostics.pcap"]:
        for key in ws.experts(cap, "MSSIP", two_pass=two_pass):
            assert len(key[2]) <= 200, (cap, key)


@pytest.mark.parametrize("two_pass", [False, True])
def test_diagnostics_error(ws, two_pass):
    cap = "mssip_diagnostics_error.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {
        ("Warns", "Response", "404 Not Found with ms-diagnostics 4005 (Destination URI either not enabled for SIP or "
                              "does not exist)"): 1}
    assert ws.fields(cap, ["frame.number", "mssip.diag.code", "mssip.endpoint"],
                     dfilter="mssip.diagnostics_error") == [["6", "4005", ""]]


def test_healthy_captures_have_no_diagnostics_warning(ws):
    for cap in [FIELD_CASE, "mssip_ocs_single_endpoint.pcap"]:
        assert ws.fields(cap, ["frame.number"], dfilter="mssip.diagnostics_error") == [], cap


@pytest.mark.parametrize("two_pass", [False, True])
def test_bad_diagnostics(ws, two_pass):
    cap = "mssip_bad_diagnostics.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {
        ("Errors", "Protocol", 'ErrorId "abc" is not a 32-bit number'): 1,
        ("Errors", "Protocol", "Not an ErrorId followed by ;name=value parameters (unclosed quote or stray text?)"): 1,
        ("Errors", "Protocol", 'Sub-code "x" is not a 32-bit number'): 1,
        ("Errors", "Protocol", "Empty ms-diagnostics value"): 1,
        ("Errors", "Protocol", 'ErrorId "99999999999" is not a 32-bit number'): 1,
        ("Warns", "Undecoded", "Value of reason of 2280 bytes shown cut to 1024 bytes"): 1,
    }
    rows = ws.fields(cap, ["frame.number", "mssip.diag.code", "mssip.diag.public", "mssip.diag.param.name"],
                     dfilter="mssip.diag")
    assert rows == [["6", "", "0", "reason,source"], ["8", "13004", "0", ""], ["10", "13004", "1", "reason,source"],
                    ["12", "", "0", ""], ["15", "13004", "0", "reason,source"], ["17", "", "1", "reason"]]
    reasons = ws.fields(cap, ["mssip.diag.reason"], dfilter="frame.number == 15")
    assert len(reasons[0][0]) == 1024


@pytest.mark.parametrize("two_pass", [False, True])
def test_bad_epid(ws, two_pass):
    cap = "mssip_bad_epid.pcap"
    assert ws.experts(cap, "MSSIP", two_pass=two_pass) == {
        ("Errors", "Protocol", "To header has an epid parameter without a value"): 1,
        ("Errors", "Protocol", "Contact GRUU has opaque=user:epid: without an epid"): 1,
        ("Errors", "Protocol", "To header with an epid cannot be parsed as a SIP address"): 1,
        # Two 183s with readable To tags: two endpoints, whatever their broken epids. Frame 10's To never
        # closes its '<', so its ";tag=5f00ba11" is inside the URI by the grammar: the SIP layer reads no
        # To tag, the 183 is in no dialog and names no endpoint (before, Wireshark's lenient tag made it a
        # third endpoint on revisits).
        ("Notes", "Sequence", "Call forked to 2 endpoints"): 1,
    }
    assert ws.fields(cap, ["frame.number", "mssip.to.epid", "mssip.contact.epid"], dfilter="mssip.malformed_header") == [
        ["6", "", "ATX04NzZClmCm9_s1BVjeAAA"], ["8", "2798f0b3cc", ""], ["10", "", "uozeqPgOuFOVd0DaRpeFCgAA"]]


def test_call_table_bound(ws):
    proc = ws.run(["-r", ws.capture("mssip_plain_call.pcap"), "-o", "mssip.max_calls:0", "-T", "fields",
                   "-e", "frame.number", "-e", "_ws.expert.message", "-Y", "mssip.call_table_full"])
    assert proc.stdout.splitlines() == ["1\tCall not tracked: already tracking mssip.max_calls = 0 calls"]


GOOD = [FIELD_CASE, "mssip_ocs_single_endpoint.pcap", "mssip_three_endpoint_fork.pcap", "mssip_compact_fork.pcap",
        "mssip_plain_call.pcap", "mssip_diagnostics_error.pcap", "mssip_fork_lookalikes.pcap"]


@pytest.mark.parametrize("capture", GOOD)
def test_no_malformed_on_good_captures(ws, capture):
    proc = ws.run(["-r", ws.capture(capture), "-V", "-x"])
    assert proc.returncode == 0
    assert "[Malformed Packet" not in proc.stdout
    assert ws.fields(capture, ["frame.number"], dfilter="_ws.malformed || _ws.expert.severity == error") == []


def test_bad_input_keeps_sip_decoded(ws, plain):
    for cap in ["mssip_bad_diagnostics.pcap", "mssip_bad_epid.pcap"]:
        args = ["-r", ws.capture(cap), "-Y", "sip", "-T", "fields", "-e", "frame.number", "-e", "sip.Status-Code",
                "-e", "sip.Call-ID"]
        assert ws.run(args).stdout == plain.run(args).stdout
        assert "[Malformed Packet" not in ws.run(["-r", ws.capture(cap), "-V", "-2"]).stdout
        # SIP parsed every header: a value that breaks the Microsoft grammar is a protocol error (group
        # Protocol), not bytes that cannot be parsed, so Wireshark's "malformed" filter matches none.
        assert ws.fields(cap, ["frame.number"], dfilter="mssip.malformed_header") != []
        assert ws.fields(cap, ["frame.number"], dfilter="_ws.malformed") == []


# Real third-party SIP captures: plain calls, never forked. mssip numbers their single endpoint and
# names transactions, and no fork finding, warning or error fires.
FOUND_CALLS = {
    "sipnab__sip-over-tcp.pcap": [
        ["3", "", "", "", "initial INVITE (CSeq 1)", ""], ["5", "", "", "", "initial INVITE (CSeq 1)", "3"],
        ["7", "1", "1", "0", "initial INVITE (CSeq 1)", "3"], ["9", "1", "1", "0", "initial INVITE (CSeq 1)", "3"],
        ["11", "1", "1", "0", "ACK (CSeq 1)", ""], ["81", "1", "1", "0", "BYE (CSeq 1)", ""],
        ["83", "1", "1", "0", "BYE (CSeq 1)", "81"]],
    "pkts__fragmented_tcp_sip.pcap": [
        ["8", "", "", "", "initial INVITE (CSeq 1)", ""], ["10", "1", "1", "0", "initial INVITE (CSeq 1)", "8"],
        ["11", "1", "1", "0", "initial INVITE (CSeq 1)", "8"], ["14", "1", "1", "0", "ACK (CSeq 1)", ""],
        ["15", "1", "1", "0", "BYE (CSeq 2)", ""], ["16", "1", "1", "0", "BYE (CSeq 2)", "15"]],
}
FOUND_SIP = ["sipnab__sip-over-tcp.pcap", "pkts__fragmented_tcp_sip.pcap", "gprshome-wireshark__sip.pcap",
             "sipnab__b2bua-asterisk.pcapng", "sipnab__sip-routing-error.pcapng", "wswiki__Asterisk_ZFONE_XLITE.pcap",
             "suricata-verify__sip-tcp.pcap"]


@pytest.mark.skipif(not os.path.isdir(FOUND), reason="../shared/captures-found is not present")
@pytest.mark.parametrize("capture", FOUND_SIP)
def test_found_captures_plain_calls(ws, capture):
    path = os.path.join(ws.stage, "found", capture)
    fields = ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked", "mssip.transaction",
              "mssip.transaction.request_frame"]
    for two_pass in ([], ["-2"]):
        proc = ws.run(["-r", path, "-q", "-z", "expert"] + two_pass, timeout=300)
        assert [line for line in proc.stdout.splitlines() if " MSSIP " in line] == []
        args = ["-r", path, "-Y", "mssip.forked == 1 || mssip.endpoint > 1 || mssip.endpoint_count > 1",
                "-T", "fields", "-e", "frame.number"] + two_pass
        assert ws.run(args, timeout=300).stdout == ""
    if capture in FOUND_CALLS:
        args = ["-r", path, "-Y", "sip", "-T", "fields", "-E", "occurrence=a"]
        for f in fields:
            args += ["-e", f]
        rows = [line.split("\t") for line in ws.run(args).stdout.splitlines()]
        assert rows == FOUND_CALLS[capture]


# Issue 14: Wireshark's own output kept. The ms-diagnostics decoders add no protocol layer, and a disabled
# mssip leaves SIP exactly as plain Wireshark shows it.

MANY_DIAGS = "mssip_bad_many_diagnostics.pcap"


@pytest.mark.parametrize("two_pass", [False, True])
def test_many_diagnostics_headers_add_no_layer(ws, plain, two_pass):
    # 600 ms-diagnostics(-public) headers in one 101: when each was an mssip layer, the 500th raised
    # "Dissector bug, protocol SIP" (Wireshark's layer limit) and the rest of the message was lost.
    # ws.run fails on any "Dissector bug"; frame.protocols is plain's.
    fields = ["frame.number", "frame.protocols", "sip.Status-Code", "sip.Server"]
    rows = ws.fields(MANY_DIAGS, fields, dfilter="frame.number == 48", two_pass=two_pass)
    assert rows == [["48", "eth:ethertype:ip:tcp:sip", "101", "InboundRouting/3.5.0.0"]]
    assert plain.fields(MANY_DIAGS, fields, dfilter="frame.number == 48", two_pass=two_pass) == rows
    codes, public = ws.fields(MANY_DIAGS, ["mssip.diag.code", "mssip.diag.public"], dfilter="mssip.diag",
                              two_pass=two_pass)[0]
    codes, public = codes.split(","), public.split(",")
    assert (len(codes), codes[0], codes[-2], codes[-1]) == (600, "1001", "1599", "13004")
    assert public == ["0"] * 599 + ["1"]


@pytest.mark.parametrize("capture", [FIELD_CASE, "mssip_diagnostics_error.pcap", MANY_DIAGS])
@pytest.mark.parametrize("two_pass", [False, True])
def test_disabled_mssip_leaves_sip_as_plain(ws, plain, capture, two_pass):
    # With mssip disabled, its ms-diagnostics entries leave SIP's table: SIP flags those headers as
    # unrecognised again, exactly as without the plugin.
    passes = ["-2"] if two_pass else []
    mine = ws.sip_layers(capture, ["--disable-protocol", "mssip", *passes])
    assert mine == plain.sip_layers(capture, passes)
    assert mine != ws.sip_layers(capture, passes)  # enabled, it does add to SIP's tree
