# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 15, "Truth": findings that depend on SIP transaction and dialog identity, end to end.

Captures come from captures/gen_sip_layer.py (see captures/README.md); each reproduces a pattern where the
plugins' findings were untrue on real third-party captures (../shared/captures-public2), with a healthy
twin where the genuine finding must still fire. Transactions are RFC 3261 section 17.1.3/17.2.3 ones (top
Via branch and sent-by, CSeq method): a proxy's forward, a reflection, or a response's TCP retransmission
is no retransmission of a request; a 2xx to CANCEL creates no dialog (no endpoint of the call); a NOTIFY
whose To tag matches no subscription creates none (RFC 6665 section 4.4.1). Times are exact to the
capture's resolution (microseconds): printed with nine decimals, the last three are zeros.

These are the acceptance tests of the SIP-layer rewrite: several fail on the plugins that predate it.
"""
import os
import re

import pytest

from conftest import PUBLIC2

FORWARDED = "siplayer_register_forwarded.pcap"
TCP_200 = "siplayer_register_tcp_200_retransmission.pcap"
REFLECTED = "siplayer_register_reflected.pcap"
CANCEL = "siplayer_cancel_proxy_tag.pcap"
NOTIFY = "siplayer_notify_corrupt_totag.pcap"
B2BUA = "siplayer_b2bua_totag_change.pcap"
FORK = "siplayer_fork_proxy.pcap"
ALL = [FORWARDED, TCP_200, REFLECTED, CANCEL, NOTIFY, B2BUA, FORK]
BOTH = pytest.mark.parametrize("two_pass", [False, True])


def experts(ws, capture, protocol, two_pass=False):
    """{(severity, summary): count} of one protocol's expert infos, chats included (groups left out)."""
    found = {}
    for (severity, _group, summary), count in ws.experts(capture, protocol, two_pass).items():
        found[(severity, summary)] = found.get((severity, summary), 0) + count
    return found


REGISTER_FIELDS = ["frame.number", "siptrack.register.copy", "siptrack.register.original",
                   "siptrack.register.retransmissions", "siptrack.register.retransmission_in",
                   "siptrack.register.backoff", "siptrack.register.response_in", "siptrack.register.request_in",
                   "siptrack.register.response_time", "siptrack.register.expires_granted"]


def register_rows(ws, capture, dfilter="siptrack.register"):
    return ws.fields(capture, REGISTER_FIELDS, dfilter=dfilter, two_pass=True)


@pytest.mark.parametrize("capture", ALL)
def test_plain_wireshark_sees_clean_captures(plain, capture):
    # Nothing malformed: whatever fires below is the plugins' own reading.
    proc = plain.run(["-r", plain.capture(capture), "-q", "-z", "expert"])
    assert proc.returncode == 0, proc.stderr
    assert "Malformed" not in proc.stdout and "Errors (" not in proc.stdout, proc.stdout


# --- (a) a proxy forwards the phone's REGISTER from TCP to UDP with a new branch ----------------------

GENUINE_BACKOFF = {
    ("Notes", "REGISTER CSeq 7229 (frame 14) retransmitted 1 time, back-off 0.500 s"): 1,
    ("Notes", "REGISTER CSeq 7229 (frame 14) retransmitted 2 times, back-off 0.500 s, 1.000 s"): 1,
    ("Notes", "REGISTER CSeq 7229 (frame 14) retransmitted 3 times, back-off 0.500 s, 1.000 s, 2.000 s"): 1,
}


@BOTH
def test_forwarded_register_is_no_retransmission(ws, two_pass):
    # Frames 6 and 10 are the proxy's own client transactions (UDP from :5160, branch z9hG4bK...): only
    # the PJSUA phone's timer E copies (frames 15-17) are retransmissions.
    assert experts(ws, FORWARDED, "SIPTrack", two_pass) == GENUINE_BACKOFF


def test_forwarded_register_each_transaction_its_own(ws):
    # Each REGISTER is answered on its own leg: the phone's over TCP (8, 12), the proxy's over UDP (7, 11).
    assert register_rows(ws, FORWARDED) == [
        ["4", "1", "", "0", "", "", "8", "", "0.000700000", ""],
        ["6", "1", "", "0", "", "", "7", "", "0.000318000", ""],
        ["7", "", "", "0", "", "", "", "6", "0.000318000", ""],
        ["8", "", "", "0", "", "", "", "4", "0.000700000", ""],
        ["9", "1", "", "0", "", "", "12", "", "0.000661000", "60"],
        ["10", "1", "", "0", "", "", "11", "", "0.000403000", "600"],
        ["11", "", "", "0", "", "", "", "10", "0.000403000", "600"],
        ["12", "", "", "0", "", "", "", "9", "0.000661000", "60"],
        ["14", "1", "", "3", "15,16,17", "0.500000000,1.000000000,2.000000000", "19", "", "3.525453000", "300"],
        ["15", "2", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000", "19", "", "3.525453000", "300"],
        ["16", "3", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000", "19", "", "3.525453000", "300"],
        ["17", "4", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000", "19", "", "3.525453000", "300"],
        ["19", "", "", "3", "", "", "", "14", "3.525453000", "300"],
    ]


def test_genuine_udp_retransmission_keeps_its_backoff(ws):
    # The healthy twin in the same capture: T1 = 500 ms doubling, exact to the microsecond.
    rows = register_rows(ws, FORWARDED, dfilter="siptrack.register && frame.number >= 14")
    assert [r[:6] for r in rows] == [
        ["14", "1", "", "3", "15,16,17", "0.500000000,1.000000000,2.000000000"],
        ["15", "2", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000"],
        ["16", "3", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000"],
        ["17", "4", "14", "3", "15,16,17", "0.500000000,1.000000000,2.000000000"],
        ["19", "", "", "3", "", ""],
    ]


# --- (b) the proxy's 200 OK retransmitted by TCP, opposite direction --------------------------------

@BOTH
def test_tcp_retransmitted_200_is_not_the_register(ws, two_pass):
    # Frame 9 repeats the proxy's 200 OK (server's relative seq 556 lies inside the phone's first REGISTER
    # segment, seq 1-673, but in the other direction). Only the refresh's own lost segment (12) counts.
    assert experts(ws, TCP_200, "SIPTrack", two_pass) == {
        ("Notes", "REGISTER CSeq 42944 (frame 11) retransmitted 1 time, back-off 0.300 s"): 1}


def test_tcp_retransmitted_200_rows(ws):
    rows = register_rows(ws, TCP_200)
    assert [r for r in rows if r[0] != "9"] == [
        ["4", "1", "", "0", "", "", "6", "", "0.000110000", ""],
        ["6", "", "", "0", "", "", "", "4", "0.000110000", ""],
        ["7", "1", "", "0", "", "", "8", "", "0.000083000", "60"],
        ["8", "", "", "0", "", "", "", "7", "0.000083000", "60"],
        ["11", "1", "", "1", "12", "0.300000000", "14", "", "0.300550000", "60"],
        ["12", "2", "11", "1", "12", "0.300000000", "14", "", "0.300550000", "60"],
        ["14", "", "", "1", "", "", "", "11", "0.300550000", "60"],
    ]
    # The 200 OK's retransmission is no copy of any REGISTER.
    nine = ws.fields(TCP_200, ["tcp.analysis.retransmission", "siptrack.register.copy", "siptrack.register.original",
                               "siptrack.register.retransmission_in"], dfilter="frame.number == 9", two_pass=True)
    assert nine == [["1", "", "", ""]]


# --- (c) a REGISTER reflected back to the phone -----------------------------------------------------

@BOTH
def test_reflected_register_is_no_retransmission(ws, two_pass):
    # Frame 2 quotes REGISTER CSeq 30036 inside an ICMP port unreachable 0.115 ms later; frame 4 is
    # REGISTER CSeq 13934 echoed back to the phone 0.1 ms later. Neither is a copy; no "back-off 0.000 s".
    assert experts(ws, REFLECTED, "SIPTrack", two_pass) == {
        ("Notes", "REGISTER CSeq 13934 (frame 3) retransmitted 1 time, back-off 0.500 s"): 1}


def test_reflected_register_rows(ws):
    rows = register_rows(ws, REFLECTED)
    assert [r for r in rows if r[0] not in ("2", "4")] == [
        ["1", "1", "", "0", "", "", "", "", "", ""],
        ["3", "1", "", "1", "5", "0.500000000", "7", "", "0.525453000", "300"],
        ["5", "2", "3", "1", "5", "0.500000000", "7", "", "0.525453000", "300"],
        ["7", "", "", "1", "", "", "", "3", "0.525453000", "300"],
    ]
    reflected = ws.fields(REFLECTED, ["frame.number", "siptrack.register.copy", "siptrack.register.original",
                                      "siptrack.register.backoff"],
                          dfilter="frame.number == 2 || frame.number == 4", two_pass=True)
    assert [r[0] for r in reflected] == ["2", "4"]
    for frame, copy, original, backoff in reflected:
        assert copy in ("", "1") and original == "" and backoff == "", (frame, copy, original, backoff)


# --- (d) a 200 OK to CANCEL with the proxy's own To tag ---------------------------------------------

FORK_TWIN = {
    ("Notes", "Call forked to 2 endpoints"): 1,
    ("Notes", "Forked call answered by endpoint 2 of 2 (Linphone/3.3.2 (eXosip2/3.3.0))"): 1,
}
FORK_TWIN_LOSER = ("Notes", "Losing branch: endpoint 1 of 2 (snom360/8.7.3.25) sent no final response; "
                            "endpoint 2 answered in frame 20")


@BOTH
def test_cancel_answered_by_proxy_is_no_fork(ws, two_pass):
    # Calls A (180, CANCEL, 200 to CANCEL from SER, 487) and B (CANCEL crossing the 200 OK) reached one
    # endpoint each: only call C, a genuine fork, is forked.
    want = dict(FORK_TWIN)
    if two_pass:
        want[FORK_TWIN_LOSER] = 1
    assert experts(ws, CANCEL, "MSSIP", two_pass) == want
    dfilter = ('sip.Call-ID != "c3e8a10b-146f-e011-809a-0019cb53db77@admind" && '
               "(mssip.forked == 1 || mssip.endpoint > 1 || mssip.endpoint_count > 1)")
    assert ws.fields(CANCEL, ["frame.number"], dfilter=dfilter, two_pass=two_pass) == []


@BOTH
def test_cancel_200_is_linked_to_its_cancel(ws, two_pass):
    rows = ws.fields(CANCEL, ["frame.number", "mssip.transaction", "mssip.transaction.request_frame"],
                     dfilter="sip.CSeq.method == CANCEL", two_pass=two_pass)
    assert rows == [["4", "CANCEL (CSeq 1)", ""], ["5", "CANCEL (CSeq 1)", "4"], ["9", "CANCEL (CSeq 2)", ""],
                    ["13", "CANCEL (CSeq 2)", "9"]]


def test_genuine_fork_twin_endpoints(ws):
    rows = ws.fields(CANCEL, ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                              "mssip.answered_by", "mssip.endpoint.agent"],
                     dfilter="frame.number >= 18 && sip.Status-Code >= 180", two_pass=True)
    assert rows == [["18", "1", "2", "1", "2", "snom360/8.7.3.25"],
                    ["19", "2", "2", "1", "2", "Linphone/3.3.2 (eXosip2/3.3.0)"],
                    ["20", "2", "2", "1", "2", "Linphone/3.3.2 (eXosip2/3.3.0)"]]


# --- (e) NOTIFYs whose To tag is corrupt -------------------------------------------------------------

def notify_experts(two_pass):
    want = {("Chats", f"Subscription {n} (user-profile) created by SUBSCRIBE"): 1 for n in range(1, 9)}
    for n in (1, 3, 5, 7):
        want[("Chats", f"Subscription {n} refreshed")] = 1
    want[("Warns", "481 to NOTIFY frame 9: the subscriber no longer knows subscription 2 (last NOTIFY accepted: "
                   "frame 5)")] = 1
    for refresh, sub, last in ((11, 1, 6), (23, 3, 18), (35, 5, 32)):
        want[("Warns", f"481 to SUBSCRIBE refresh frame {refresh}: the notifier no longer knows subscription {sub} "
                       f"(last NOTIFY accepted: frame {last})")] = 1
    # The two corrupt NOTIFYs are named as such (a warning of their own, on no subscription): a
    # NOTIFY the subscriber cannot match is rejected with 481, and the notifier's fault is the tag.
    for sub in (4, 6):
        tag = "00E4EF38-be6184-0-16e4-5af571e2-1b277cac-5af571e..." if sub == 4 else \
            "00E4EF38-beb6ce-0-16e4-5af571e2-a56e8081-5af571e..."
        want[("Warns", f'NOTIFY matches no dialog (RFC 6665 section 4.4.1): To tag "{tag}" is not subscription {sub}\'s, '
                       f"whose Call-ID and From tag it has; not followed")] = 1
    # No recovery: each 481 ends a subscription the phone replaces every 10 s anyway; a 481 alone is no
    # outage, and a newer subscription recovers nothing of an older one's (issue 11).
    return want


@BOTH
def test_corrupt_totag_notify_creates_no_subscription(ws, two_pass):
    # Frames 21 and 30 (second PBX node, To tag with corrupt bytes) match no subscription: no phantom
    # subscription, their 481s (22, 31) break nothing, and no later subscription is said to have been
    # broken or recovered since them. Subscriptions 1..8: the access and core legs of four cycles.
    assert experts(ws, NOTIFY, "SIPTrack", two_pass) == notify_experts(two_pass)


@BOTH
def test_subscription_numbers_per_leg(ws, two_pass):
    # The SBC keeps Call-ID and CSeq 1 on both legs: each response belongs to the transaction of its own
    # leg (top Via branch), e.g. the 202 in frame 4 to the phone's SUBSCRIBE (subscription 1).
    rows = ws.fields(NOTIFY, ["frame.number", "siptrack.subscription"], dfilter="sip", two_pass=two_pass)
    cycle = [1, 2, 2, 1, 2, 1, 1, 2, 2, 2, 1, 1]
    want = [[str(n + 1), str(s)] for n, s in enumerate(cycle)]
    want += [[str(13 + n), str(s + 2) if s else ""] for n, s in
             enumerate([1, 2, 2, 1, 2, 1, 1, 2, 0, 0, 1, 1])]
    want += [[str(25 + n), str(s + 4) if s else ""] for n, s in
             enumerate([1, 2, 2, 1, 2, 0, 0, 1, 1, 2, 1, 1])]
    want += [[str(37 + n), str(s + 6)] for n, s in enumerate(cycle)]
    assert rows == want


@BOTH
def test_healthy_twin_notify_times_exact(ws, two_pass):
    # The fourth cycle: every NOTIFY right and answered. A 26.080 ms first-NOTIFY delay prints as
    # 0.026080000; expiries (UTC) and times left keep the capture's microseconds.
    fields = ["frame.number", "siptrack.first_notify_delay", "siptrack.response_time", "siptrack.expires",
              "siptrack.time_left"]
    rows = ws.fields(NOTIFY, fields, dfilter="frame.number >= 39 && frame.number != 40", two_pass=two_pass)
    day = "May 11, 2018 03:35:"
    assert [r[:4] for r in rows] == [
        ["39", "", "0.001216000", day + "14.967154000 UTC"],
        ["41", "0.003768000", "0.048934000" if two_pass else "", day + "14.969706000 UTC"],
        ["42", "0.026080000", "0.028964000" if two_pass else "", day + "14.989080000 UTC"],
        ["43", "", "0.028964000", day + "14.989080000 UTC"],
        ["44", "", "0.048934000", day + "14.969706000 UTC"],
        ["45", "", "0.001389000" if two_pass else "", day + "16.924614000 UTC"],
        ["46", "", "0.001389000", day + "16.924614000 UTC"],
        ["47", "", "0.000962000" if two_pass else "", day + "14.989080000 UTC"],
        ["48", "", "0.000962000", day + "19.957141000 UTC"],
    ]
    assert [r[4] for r in rows] == ["1800.000000000", "1800.000000000", "1800.000000000", "1799.971036000",
                                    "1799.951066000", "1800.000000000", "1799.998611000", "1795.032901000",
                                    "1800.000000000"]


def test_access_leg_202_times(ws):
    # The SBC's 202 to the phone (frame 4) answers the phone's SUBSCRIBE of frame 1: 4.904 ms.
    rows = ws.fields(NOTIFY, ["frame.number", "siptrack.response_time", "siptrack.expires"],
                     dfilter="frame.number == 4", two_pass=True)
    assert rows == [["4", "0.004904000", "May 11, 2018 03:34:44.967904000 UTC"]]


# --- (f) a B2BUA changing its To tag between 180 and 200, and a genuine fork ------------------------

@BOTH
def test_b2bua_totag_change_is_no_fork(ws, two_pass):
    # Avaya CM's 180 (tag 806d...) and 200 OK (tag 0603...) come from one Contact and Record-Route, its
    # own address: one endpoint that changed its tag, not two endpoints.
    assert experts(ws, B2BUA, "MSSIP", two_pass) == {}
    rows = ws.fields(B2BUA, ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                             "mssip.answered_by"], dfilter="sip.Status-Code >= 180", two_pass=True)
    assert rows == [["8", "1", "1", "0", "1"], ["10", "1", "1", "0", "1"], ["12", "1", "1", "0", "1"]]


@BOTH
def test_fork_by_proxy_is_a_fork(ws, two_pass):
    # The twin: the same Via set and Record-Route (the proxy's), two Contacts (10.186.205.151, .152).
    want = {("Notes", "Call forked to 2 endpoints"): 1,
            ("Notes", "Forked call answered by endpoint 2 of 2 (Avaya Workplace)"): 1}
    if two_pass:
        want[("Notes", "Losing branch: endpoint 1 of 2 (Avaya one-X Deskphone) sent no final response; "
                       "endpoint 2 answered in frame 12")] = 1
    assert experts(ws, FORK, "MSSIP", two_pass) == want
    rows = ws.fields(FORK, ["frame.number", "mssip.endpoint", "mssip.endpoint_count", "mssip.forked",
                            "mssip.answered_by"], dfilter="sip.Status-Code >= 180", two_pass=True)
    assert rows == [["8", "1", "2", "1", "2"], ["10", "2", "2", "1", "2"], ["12", "2", "2", "1", "2"]]


# --- The real captures these patterns come from (../shared/captures-public2; skipped when absent) ----

needs_public2 = pytest.mark.skipif(not os.path.isdir(PUBLIC2), reason="../shared/captures-public2 is not present")


def real_experts(ws, name, protocol, two_pass, extra=()):
    path = os.path.join(ws.stage, "public2", name)
    proc = ws.run(["-r", path, *extra, "-q", "-z", "expert,chat"] + (["-2"] if two_pass else []), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [re.sub(r"^\s+\d+\s+\S+\s+\S+\s+", "", line) for line in proc.stdout.splitlines()
            if re.match(r"^\s+\d+\s+\S+\s+" + protocol + r"\s", line)]


@needs_public2
@BOTH
def test_real_forwarded_register_and_200_retransmission(ws, two_pass):
    # heplify sip_ipv4_tcp_retrans: frames 30 and 34 are the proxy's forwards, frame 38 the TCP
    # retransmission of the proxy's 200 OK (frame 36): no REGISTER there was retransmitted.
    assert real_experts(ws, "heplify__sip_ipv4_tcp_retrans.pcap", "SIPTrack", two_pass) == []


@needs_public2
@BOTH
def test_real_reflected_register(ws, two_pass):
    # goffinet private-test-sip: frame 2 is an ICMP port unreachable quoting frame 1's REGISTER. The
    # genuine timer E retransmissions (frames 51-54, ...) are still found.
    found = real_experts(ws, "goffinet__private-test-sip.pcapng", "SIPTrack", two_pass)
    assert [f for f in found if "CSeq 30036" in f or "back-off 0.000 s" in f] == []
    assert "REGISTER CSeq 7229 (frame 51) retransmitted 3 times, back-off 0.505 s, 1.000 s, 2.000 s" in found


@needs_public2
@BOTH
def test_real_cancel_answered_by_proxy(ws, two_pass):
    # wswiki DTMFsipinfo: SER's 200 OKs to CANCEL (frames 12, 15) carry its own To tags; every INVITE was
    # answered by SEMS (one To tag): no fork.
    assert real_experts(ws, "wswiki__DTMFsipinfo.pcap", "MSSIP", two_pass) == []


@needs_public2
@BOTH
def test_real_b2bua_totag_changes(ws, two_pass):
    # heplify sip_ipv4_tcp_fragmented (SIP on TCP 6060): Avaya CM changes its To tag between 180 and 200
    # on three calls (200 OKs in frames 234, 325, 1476), each time from the same Contact: no fork.
    assert real_experts(ws, "heplify__sip_ipv4_tcp_fragmented.pcap", "MSSIP", two_pass,
                        extra=["-d", "tcp.port==6060,sip"]) == []


@needs_public2
@BOTH
def test_real_corrupt_totag_notifies(ws, two_pass):
    # heplify erspan_sip_ipv4_udp: the NOTIFYs of frames 22, 40 and 91 have corrupt To tags; they create no
    # subscription and their 481s (23, 41, 93) are no subscription's.
    name = "heplify__erspan_sip_ipv4_udp.pcapng"
    found = real_experts(ws, name, "SIPTrack", two_pass)
    # Subscription 7 (the access leg, SUBSCRIBE frame 86) truly got no NOTIFY: its core leg's NOTIFY (90) was
    # challenged 401 and never forwarded; its refresh (139) is answered 481 (checked by hand).
    true_481 = ("481 to SUBSCRIBE refresh frame 139: the notifier no longer knows subscription 7 (no NOTIFY of it was "
                "ever accepted)")
    assert [f for f in found if ("no NOTIFY of it was ever accepted" in f and true_481 not in f)
            or "the 481 in frame 23" in f or "the 481 in frame 41" in f or "the 481 in frame 93" in f] == []
    path = os.path.join(ws.stage, "public2", name)
    frames = ("22", "23", "40", "41", "91", "93")
    args = ["-r", path, "-Y", " || ".join("frame.number == " + n for n in frames), "-T", "fields",
            "-e", "frame.number", "-e", "siptrack.subscription"] + (["-2"] if two_pass else [])
    rows = [line.split("\t") for line in ws.run(args).stdout.splitlines()]
    assert rows == [[n, ""] for n in frames]


@needs_public2
def test_real_times_exact_to_the_microsecond(ws):
    # The erspan capture has microsecond timestamps: every siptrack time prints with three trailing zeros.
    path = os.path.join(ws.stage, "public2", "heplify__erspan_sip_ipv4_udp.pcapng")
    fields = ["siptrack.first_notify_delay", "siptrack.response_time", "siptrack.expires", "siptrack.time_left"]
    # Occurrences joined by "|": an absolute time ("May 11, 2018 ...") has a comma of its own.
    args = ["-r", path, "-2", "-Y", "siptrack", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        args += ["-e", f]
    values = [v for line in ws.run(args, timeout=300).stdout.splitlines() for cell in line.split("\t")
              for v in cell.split("|") if v]
    assert values, "no siptrack times"
    assert [v for v in values if not re.search(r"\.\d{6}000( UTC)?$", v)] == []


# --- The SIP layer's own bounds ---------------------------------------------------------------------

@BOTH
def test_transaction_table_full_is_said_once(ws, two_pass):
    # With room for 3 transactions, the lifecycle capture's fourth (frame 19) is refused: one note there,
    # in both modes, and none with the default bound.
    cap = "siptrack_sub_lifecycle.pcap"
    note = ("SIP transaction or dialog table full (preferences siptrack.max_transactions, siptrack.max_dialogs): "
            "new transactions or dialogs from here on are not matched")
    rows = ws.fields(cap, ["frame.number", "_ws.expert.message"], dfilter="siptrack.sip_layer_full",
                     two_pass=two_pass, extra=["-o", "siptrack.max_transactions:3"])
    assert [r[0] for r in rows] == ["19"]
    assert rows[0][1].startswith(note + ",")  # then the frame's other findings
    assert ws.fields(cap, ["frame.number"], dfilter="siptrack.sip_layer_full", two_pass=two_pass) == []
