# SPDX-License-Identifier: GPL-2.0-or-later
"""siptrack subscriptions end to end: field case 000 (Polycom BLF subscription to the sipX RLS).

Captures come from captures/gen_siptrack_subscriptions.py (see captures/README.md). polycom_repro and
pcom310 reproduce the seed's two traces; long_refresh, fresh_connection, udp, refer and compact are healthy
twins where no warning or error may fire; lifecycle and bad_headers carry the other findings. Every
finding is checked in one pass and with -2: a finding learnt later shows where it becomes known in one
pass and, with -2, also on the message it is about.
"""
import re

import pytest

REPRO = "siptrack_sub_polycom_repro.pcap"
PCOM310 = "siptrack_sub_pcom310.pcap"
HEALTHY = ["siptrack_sub_long_refresh.pcap", "siptrack_sub_fresh_connection.pcap", "siptrack_sub_udp.pcap",
           "siptrack_sub_refer.pcap", "siptrack_sub_compact.pcap", "siptrack_sub_replaced.pcap",
           "siptrack_sub_notify_challenged.pcap", "siptrack_sub_unsubscribe_confirmed.pcap"]

OLD = "tcp.stream 0 10.1.1.171:1033 -> 10.1.1.68:5060"
OLD_BACK = "tcp.stream 0 10.1.1.68:5060 -> 10.1.1.171:1033"
NEW = "tcp.stream 1 10.1.1.171:1034 -> 10.1.1.68:5060"
NEW_BACK = "tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034"
THIRD = "tcp.stream 2 10.1.1.171:1035 -> 10.1.1.68:5060"
THIRD_BACK = "tcp.stream 2 10.1.1.68:5060 -> 10.1.1.171:1035"

# Issue 11: at most 200 characters; the frames it used to name (SUBSCRIBE 35, last traffic 26, first request
# on the new connection 31) are link fields.
STALE = ("NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic here 40.3 s "
         "earlier); use tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034")
RESET_AT_RST = "RST from the subscriber on tcp.stream 0, 0.8 ms after NOTIFY frame 39 (subscription 2): the NOTIFY is lost"
RESET_AT_NOTIFY = "The subscriber reset this NOTIFY's connection 0.8 ms later: the NOTIFY is lost"
REPRO_RECOVERED = ("Subscription 2 recovered: NOTIFY frame 51 accepted 1800.0 s (30.0 min) after NOTIFY frame 39 was "
                   "reset by the subscriber (RST in frame 40)")
UNSUB_AT_NEW = ("New connection tcp.stream 1 from the subscriber 40.0 s after its un-SUBSCRIBE (frame 20) on "
                "tcp.stream 0 10.1.1.171:1033 -> 10.1.1.68:5060, which it never closed")
UNSUB_AT_UNSUB = ("The subscriber never closed tcp.stream 0 after this un-SUBSCRIBE and opened tcp.stream 1 "
                  "10.1.1.171:1034 -> 10.1.1.68:5060 (frame 31, 40.0 s later)")

UNANSWERED_AT_29 = ("NOTIFY frame 27 (subscription 2, tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1025) got no response "
                    "within 32.0 s (Timer F)")
UNANSWERED_AT_NOTIFY = "No response to this NOTIFY within 32.0 s (Timer F): subscription 2 is broken"
PCOM_481 = ("481 to SUBSCRIBE refresh frame 41: subscription 2 had been broken for 1799.8 s (30.0 min), since NOTIFY "
            "frame 27 went unanswered")
PCOM_RECOVERED = ("Subscription 3 recovered: NOTIFY frame 49 accepted 1799.8 s (30.0 min) after NOTIFY frame 27 went "
                  "unanswered")


def experts(ws, capture, two_pass=False, extra=()):
    """{(severity, group, summary): count} of SIPTrack's expert infos."""
    args = ["-r", ws.capture(capture), "-q", "-z", "expert"] + (["-2"] if two_pass else []) + list(extra)
    proc = ws.run(args)
    assert proc.returncode == 0, proc.stderr
    found, severity = {}, None
    for line in proc.stdout.splitlines():
        head = re.match(r"^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$", line)
        if head:
            severity = head.group(1)
            continue
        row = re.match(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if row and severity and row.group(3) == "SIPTrack":
            key = (severity, row.group(2), row.group(4))
            found[key] = found.get(key, 0) + int(row.group(1))
    return found


def frames_with(ws, capture, field, two_pass):
    return [r[0] for r in ws.fields(capture, ["frame.number"], dfilter=field, two_pass=two_pass)]


def serious(found):
    return {k: v for k, v in found.items() if k[0] in ("Errors", "Warns")}


def test_protocol_is_listed(ws):
    protocols = ws.run(["-G", "protocols"]).stdout.splitlines()
    assert "SIP subscription and keepalive tracking\tSIPTrack\tsiptrack" in protocols


# Field case 000, trace (a): polycom_repro.

@pytest.mark.parametrize("two_pass", [False, True])
def test_repro_every_subscription_message(ws, two_pass):
    rows = ws.fields(REPRO, ["frame.number", "sip.CSeq", "siptrack.subscription", "siptrack.kind", "siptrack.state",
                             "siptrack.flow", "siptrack.subscription_flow", "siptrack.notify_count"],
                     dfilter="siptrack.message", two_pass=two_pass)
    assert rows == [
        ["8", "1 SUBSCRIBE", "1", "initial", "", OLD, OLD, "0"],
        ["10", "1 SUBSCRIBE", "1", "response", "", OLD_BACK, OLD, "0"],
        ["12", "1 NOTIFY", "1", "NOTIFY", "active", OLD_BACK, OLD, "1"],
        ["14", "1 NOTIFY", "1", "response", "active", OLD, OLD, "1"],
        ["16", "2 NOTIFY", "1", "NOTIFY", "active", OLD_BACK, OLD, "2"],
        ["18", "2 NOTIFY", "1", "response", "active", OLD, OLD, "2"],
        ["20", "2 SUBSCRIBE", "1", "unsubscribe", "active", OLD, OLD, "2"],
        ["22", "2 SUBSCRIBE", "1", "response", "active", OLD_BACK, OLD, "2"],
        ["24", "3 NOTIFY", "1", "NOTIFY", "terminated", OLD_BACK, OLD, "3"],
        ["26", "3 NOTIFY", "1", "response", "terminated", OLD, OLD, "3"],
        ["31", "1 REGISTER", "", "", "", "", "", ""],  # the un-SUBSCRIBE note
        ["35", "1 SUBSCRIBE", "2", "initial", "", NEW, NEW, "0"],
        ["37", "1 SUBSCRIBE", "2", "response", "", NEW_BACK, NEW, "0"],
        ["39", "0 NOTIFY", "2", "NOTIFY", "active", OLD_BACK, NEW, "1"],
        ["47", "2 SUBSCRIBE", "2", "refresh", "active", THIRD, THIRD, "1"],
        ["49", "2 SUBSCRIBE", "2", "response", "active", THIRD_BACK, THIRD, "1"],
        ["51", "1 NOTIFY", "2", "NOTIFY", "active", THIRD_BACK, THIRD, "2"],
        ["53", "1 NOTIFY", "2", "response", "active", THIRD, THIRD, "2"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_repro_exactly_the_stale_notify_is_named(ws, two_pass):
    assert frames_with(ws, REPRO, "siptrack.notify_on_stale_flow", two_pass) == ["39"]
    # The reset is known at the RST (frame 40); with -2 it shows on the NOTIFY too. It is a consequence of
    # the stale-flow NOTIFY (issue 11): a note, linked to frame 39.
    assert frames_with(ws, REPRO, "siptrack.notify_reset_consequence", two_pass) == (
        ["39", "40"] if two_pass else ["40"])
    assert frames_with(ws, REPRO, "siptrack.notify_reset", two_pass) == []
    assert frames_with(ws, REPRO, "siptrack.notify_on_stale_flow && siptrack.notify_reset_consequence", two_pass) == (
        ["39"] if two_pass else [])
    assert frames_with(ws, REPRO, "siptrack.notify_unanswered || siptrack.notify_off_subscription_flow",
                       two_pass) == []


def test_repro_experts_one_pass(ws):
    # Issue 11: one incident, one error (was: two errors and a warning with -2).
    assert serious(experts(ws, REPRO)) == {("Errors", "Sequence", STALE): 1}
    found = experts(ws, REPRO)
    assert found[("Notes", "Sequence", RESET_AT_RST)] == 1
    assert found[("Notes", "Sequence", REPRO_RECOVERED)] == 1
    assert found[("Notes", "Sequence", UNSUB_AT_NEW)] == 1
    assert ("Notes", "Sequence", UNSUB_AT_UNSUB) not in found


def test_repro_experts_two_pass(ws):
    found = experts(ws, REPRO, two_pass=True)
    assert serious(found) == {("Errors", "Sequence", STALE): 1}
    assert found[("Notes", "Sequence", RESET_AT_RST)] == 1
    assert found[("Notes", "Sequence", RESET_AT_NOTIFY)] == 1
    assert found[("Notes", "Sequence", REPRO_RECOVERED)] == 2  # on the 200 and on the NOTIFY
    assert found[("Notes", "Sequence", UNSUB_AT_NEW)] == 1
    assert found[("Notes", "Sequence", UNSUB_AT_UNSUB)] == 1


def test_repro_recovery_and_unsubscribe_placed(ws):
    rows = ws.fields(REPRO, ["frame.number", "_ws.expert.message"],
                     dfilter="siptrack.subscription_recovered || siptrack.unsubscribe_without_close", two_pass=True)
    expected = [["20", UNSUB_AT_UNSUB], ["31", UNSUB_AT_NEW], ["51", REPRO_RECOVERED], ["53", REPRO_RECOVERED]]
    assert [r[0] for r in rows] == [e[0] for e in expected]
    for row, (_, message) in zip(rows, expected):  # other plugins may add their own messages there
        assert message in row[1]


@pytest.mark.parametrize("two_pass", [False, True])
def test_repro_request_response_links(ws, two_pass):
    rows = ws.fields(REPRO, ["frame.number", "siptrack.request_in", "siptrack.response_in", "siptrack.response_time"],
                     dfilter="siptrack.request_in || siptrack.response_in", two_pass=two_pass)
    responses = [r[:2] for r in rows if r[1]]
    assert responses == [["10", "8"], ["14", "12"], ["18", "16"], ["22", "20"], ["26", "24"], ["37", "35"],
                         ["49", "47"], ["53", "51"]]
    requests = [[r[0], r[2]] for r in rows if r[2]]
    # Links on requests are learnt at the response: shown on revisits only.
    assert requests == ([["8", "10"], ["12", "14"], ["16", "18"], ["20", "22"], ["24", "26"], ["35", "37"],
                         ["47", "49"], ["51", "53"]] if two_pass else [])
    # Integer nanoseconds: the capture's 5.040 ms exactly (as double seconds since the epoch it printed
    # 0.005039930 or 0.005040169).
    assert all(r[3] == "0.005040000" for r in rows)


def test_repro_table(ws):
    proc = ws.run(["-r", ws.capture(REPRO), "-q", "-z", "siptrack,subscriptions"])
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if re.match(r"^\d+ \|", line)]
    assert lines == [
        "1 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|59e9cf01-3eb32220-4789a6d7@10.1.1.171 |terminated (timeout) |tcp.stream 0 |3 |3 | |0.000 |8 |26 |",
        "2 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|f8274285-5919cf44-bd6bd69b@10.1.1.171 |active |tcp.stream 1, tcp.stream 0, tcp.stream 2 |2 |1 "
        "|notify_on_stale_flow, notify_reset, subscription_recovered |1799.997 |35 |53 |",
    ]
    # Call-ID and the first and last frame naming the subscription (issue 13): subscription 2 from its
    # SUBSCRIBE (35) through the stale NOTIFY (39) and its RST (40) to the recovery's 200 OK (53).
    assert ("Subscription |Subscriber |Notifier |Event |Call-ID |State |Flows |NOTIFYs |Answered |Findings "
            "|Outage (s) |First frame |Last frame |") in proc.stdout


# Field case 000, trace (b): pcom310.

def test_pcom310_experts_one_pass(ws):
    # Issue 11: the unanswered NOTIFY is the incident's one error; the 481 and the recovery are notes.
    found = experts(ws, PCOM310)
    assert serious(found) == {("Errors", "Sequence", UNANSWERED_AT_29): 1}
    assert found[("Notes", "Response", PCOM_481)] == 1
    assert found[("Notes", "Sequence", PCOM_RECOVERED)] == 1


def test_pcom310_experts_two_pass(ws):
    # On revisits the error is on the NOTIFY itself; where Timer F ran out, a note linked to it.
    found = experts(ws, PCOM310, two_pass=True)
    assert serious(found) == {("Errors", "Sequence", UNANSWERED_AT_NOTIFY): 1}
    assert found[("Notes", "Sequence", UNANSWERED_AT_29)] == 1
    assert found[("Notes", "Response", PCOM_481)] == 1
    assert found[("Notes", "Sequence", PCOM_RECOVERED)] == 2


@pytest.mark.parametrize("two_pass", [False, True])
def test_pcom310_findings_placed(ws, two_pass):
    assert frames_with(ws, PCOM310, "siptrack.notify_unanswered", two_pass) == (["27"] if two_pass else ["29"])
    assert frames_with(ws, PCOM310, "siptrack.notify_unanswered_consequence", two_pass) == (
        ["29"] if two_pass else [])
    assert frames_with(ws, PCOM310, "siptrack.subscription_481_consequence", two_pass) == ["43"]
    assert frames_with(ws, PCOM310, "siptrack.subscription_481", two_pass) == []
    assert frames_with(ws, PCOM310, "siptrack.subscription_recovered", two_pass) == (
        ["49", "51"] if two_pass else ["51"])
    # The RLS's own subscription to 208 (the phone is the notifier there) stays quiet.
    rows = ws.fields(PCOM310, ["frame.number", "siptrack.subscriber", "siptrack.notifier", "siptrack.subscriber.address",
                               "siptrack.notifier.address", "siptrack.event", "siptrack.state"],
                     dfilter="siptrack.subscription == 1 && sip.Method == \"NOTIFY\"", two_pass=two_pass)
    assert rows == [[f, "sip:~~rl~C~207@victoria.pingtel.com", "sip:208@victoria.pingtel.com", "10.1.1.68",
                     "10.1.1.124", "dialog", "active"] for f in ("12", "29", "33", "37")]


def test_pcom310_table(ws):
    proc = ws.run(["-r", ws.capture(PCOM310), "-q", "-z", "siptrack,subscriptions"])
    lines = [line for line in proc.stdout.splitlines() if re.match(r"^\d+ \|", line)]
    assert lines == [
        "1 |sip:~~rl~C~207@victoria.pingtel.com |sip:208@victoria.pingtel.com |dialog |s-293749793d9ff064-15 "
        "|active |tcp.stream 0 |4 |4 | |0.000 |8 |39 |",
        "2 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|59e9cf01-3eb32220-4789a6d7@10.1.1.171 |terminated (481) |tcp.stream 1 |1 |0 "
        "|notify_unanswered, subscription_481 |0.000 |23 |43 |",
        "3 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|f8274285-5919cf44-bd6bd69b@10.1.1.171 |active |tcp.stream 1 |1 |1 |subscription_recovered |1799.849 "
        "|45 |51 |",
    ]


def test_pcom310_timer_preference(ws):
    found = experts(ws, PCOM310, extra=["-o", "siptrack.notify_timeout:100"])
    assert ("Errors", "Sequence", UNANSWERED_AT_29.replace("32.0 s", "100.0 s (1.7 min)")) in found
    assert frames_with(ws, PCOM310, "siptrack.notify_unanswered", False) == ["29"]
    rows = ws.fields(PCOM310, ["frame.number"], dfilter="siptrack.notify_unanswered",
                     extra=["-o", "siptrack.notify_timeout:100"])
    assert rows == [["41"]]  # the first packet after 100 s


def test_pcom310_unanswered_at_capture_end(ws):
    # With a timeout longer than the capture, NOTIFY 27 is still waiting when the capture ends: one pass
    # cannot know that; -2 names it on the NOTIFY.
    opts = ["-o", "siptrack.notify_timeout:3600"]
    assert frames_with_opts(ws, PCOM310, "siptrack.notify_unanswered", False, opts) == []
    assert frames_with_opts(ws, PCOM310, "siptrack.notify_unanswered", True, opts) == ["27"]
    found = experts(ws, PCOM310, two_pass=True, extra=opts)
    assert found[("Errors", "Sequence", "No response to this NOTIFY before the capture ended (subscription 2)")] == 1
    assert found[("Warns", "Response", "481 to SUBSCRIBE refresh frame 41: the notifier no longer knows subscription 2 "
                                       "(no NOTIFY of it was ever accepted)")] == 1


def frames_with_opts(ws, capture, field, two_pass, opts):
    return [r[0] for r in ws.fields(capture, ["frame.number"], dfilter=field, two_pass=two_pass, extra=opts)]


def test_subscription_bound(ws):
    found = experts(ws, PCOM310, extra=["-o", "siptrack.max_subscriptions:2"])
    assert found[("Notes", "Undecoded", "Subscription table full (2 tracked, preference siptrack.max_subscriptions): "
                  "this and later subscriptions are not followed")] == 1
    rows = ws.fields(PCOM310, ["frame.number"], dfilter="siptrack.subscription_table_full",
                     extra=["-o", "siptrack.max_subscriptions:2"])
    assert rows == [["45"]]
    assert ("Notes", "Sequence", PCOM_RECOVERED) not in found


# Healthy twins and the other findings.

@pytest.mark.parametrize("capture", HEALTHY)
@pytest.mark.parametrize("two_pass", [False, True])
def test_healthy_twin_is_quiet(ws, capture, two_pass):
    found = experts(ws, capture, two_pass=two_pass)
    assert serious(found) == {}
    assert not any(k[2].startswith(("NOTIFY on", "New connection", "Subscription table")) for k in found)
    assert ws.fields(capture, ["frame.number"], dfilter="_ws.malformed", two_pass=two_pass) == []


def test_healthy_long_refresh_counts(ws):
    rows = ws.fields("siptrack_sub_long_refresh.pcap", ["frame.number", "siptrack.kind", "siptrack.notify_count",
                                                        "siptrack.time_left"],
                     dfilter="siptrack.kind == \"refresh\"")
    assert [r[1:3] for r in rows] == [["refresh", str(n)] for n in (1, 3, 4, 5, 7, 8)]
    assert all(r[3].startswith("1800.0") for r in rows)  # refreshed half-way through its 3600 s


def test_healthy_fresh_connection_notify(ws):
    rows = ws.fields("siptrack_sub_fresh_connection.pcap", ["frame.number", "siptrack.flow", "siptrack.subscription_flow",
                                                            "siptrack.response_in"],
                     dfilter="sip.Method == \"NOTIFY\"", two_pass=True)
    assert rows[-1][1:] == ["tcp.stream 1 10.1.1.68:40122 -> 10.1.1.171:5060",
                            "tcp.stream 0 10.1.1.171:1050 -> 10.1.1.68:5060", rows[-1][3]]
    assert rows[-1][3] != ""


def test_udp_retransmitted_notify(ws):
    rows = ws.fields("siptrack_sub_udp.pcap", ["frame.number", "siptrack.kind", "siptrack.retransmission_of",
                                               "siptrack.request_in", "siptrack.notify_count"],
                     dfilter="sip.CSeq.method == \"NOTIFY\"")
    assert rows[:3] == [["3", "NOTIFY", "", "", "1"], ["4", "retransmission", "3", "", "1"],
                        ["5", "response", "", "3", "1"]]


def test_refer_implicit_subscriptions(ws):
    rows = ws.fields("siptrack_sub_refer.pcap", ["frame.number", "sip.CSeq", "siptrack.subscription", "siptrack.event",
                                                 "siptrack.event.id", "siptrack.kind", "siptrack.state",
                                                 "siptrack.state.reason"],
                     dfilter="siptrack.message")
    assert [r[:7] for r in rows] == [
        ["1", "21 REFER", "1", "refer", "21", "REFER", ""],
        ["2", "21 REFER", "1", "refer", "21", "response", ""],
        ["3", "1 NOTIFY", "1", "refer", "21", "NOTIFY", "active"],
        ["4", "1 NOTIFY", "1", "refer", "21", "response", "active"],
        ["5", "2 NOTIFY", "1", "refer", "21", "NOTIFY", "terminated"],
        ["6", "2 NOTIFY", "1", "refer", "21", "response", "terminated"],
        ["7", "22 REFER", "2", "refer", "22", "REFER", ""],
        ["8", "22 REFER", "2", "refer", "22", "response", ""],
        ["9", "3 NOTIFY", "2", "refer", "22", "NOTIFY", "active"],
        ["10", "3 NOTIFY", "2", "refer", "22", "response", "active"],
        ["11", "4 NOTIFY", "2", "refer", "22", "NOTIFY", "terminated"],
        ["12", "4 NOTIFY", "2", "refer", "22", "response", "terminated"],
    ]
    assert rows[4][7] == "noresource"


@pytest.mark.parametrize("two_pass", [False, True])
def test_compact_headers_coalesced_and_split(ws, two_pass):
    # Frame 7: the 202 and NOTIFY 1 in one segment; 17: NOTIFY 2 reassembled from five segments;
    # 21 and 23: two NOTIFYs, then their two 200s, in one segment each. All headers compact (i f t m o v c).
    rows = ws.fields("siptrack_sub_compact.pcap", ["frame.number", "sip.CSeq", "siptrack.subscription", "siptrack.kind",
                                                   "siptrack.state", "siptrack.request_in", "siptrack.notify_count"],
                     dfilter="siptrack.message", two_pass=two_pass)
    assert rows == [
        ["5", "1 SUBSCRIBE", "1", "initial", "", "", "0"],
        ["7", "1 SUBSCRIBE,1 NOTIFY", "1,1", "response,NOTIFY", "pending", "5", "0,1"],
        ["9", "1 NOTIFY", "1", "response", "pending", "7", "1"],
        ["17", "2 NOTIFY", "1", "NOTIFY", "active", "", "2"],
        ["19", "2 NOTIFY", "1", "response", "active", "17", "2"],
        ["21", "3 NOTIFY,4 NOTIFY", "1,1", "NOTIFY,NOTIFY", "active,active", "", "3,4"],
        ["23", "3 NOTIFY,4 NOTIFY", "1,1", "response,response", "active,active", "21,21", "4,4"],
    ]
    segments = ws.fields("siptrack_sub_compact.pcap", ["frame.number", "tcp.reassembled_in"], dfilter="tcp.len == 300",
                         two_pass=True)
    assert [r[1] for r in segments] == ["5", "17", "17", "17", "17"]


@pytest.mark.parametrize("two_pass", [False, True])
def test_lifecycle_findings(ws, two_pass):
    found = experts(ws, "siptrack_sub_lifecycle.pcap", two_pass=two_pass)
    assert serious(found) == {
        ("Warns", "Sequence", "Subscription 2 expired 60.0 s before this NOTIFY; no refresh since SUBSCRIBE frame 23"): 1,
        ("Warns", "Protocol", "NOTIFY for subscription 3 after it was terminated in frame 31 (deactivated), 1.0 s "
                              "earlier"): 1,
    }
    # Issue 11: the 481 answers the NOTIFY sent after termination: its consequence, a note linked to it.
    assert found[("Notes", "Response", "481 to NOTIFY frame 33: the subscriber no longer knows subscription 3 (last "
                                       "NOTIFY accepted: frame 31)")] == 1
    rows = ws.fields("siptrack_sub_lifecycle.pcap", ["frame.number", "siptrack.caused_by"],
                     dfilter="siptrack.subscription_481_consequence", two_pass=two_pass)
    assert rows == [["34", "33"]]
    assert found[("Notes", "Sequence", "NOTIFY on tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1071, not on tcp.stream 0 "
                                       "10.1.1.171:1070 -> 10.1.1.68:5060 of SUBSCRIBE frame 4, still open")] == 1
    assert frames_with(ws, "siptrack_sub_lifecycle.pcap", "siptrack.notify_off_subscription_flow", two_pass) == ["19"]
    assert frames_with(ws, "siptrack_sub_lifecycle.pcap", "siptrack.subscription_expired", two_pass) == ["27"]
    assert frames_with(ws, "siptrack_sub_lifecycle.pcap", "siptrack.notify_after_termination", two_pass) == ["33"]


@pytest.mark.parametrize("two_pass", [False, True])
def test_bad_headers(ws, two_pass):
    found = experts(ws, "siptrack_sub_bad_headers.pcap", two_pass=two_pass)
    assert serious(found) == {
        ("Errors", "Protocol", 'Event header "@@ ;;==" is not an event package with parameters: not followed'): 1,
        ("Errors", "Protocol", 'Subscription-State header "act ive;expires=soon" cannot be parsed'): 1,
        ("Warns", "Protocol", "NOTIFY without Subscription-State header (RFC 6665 section 8.2.3)"): 1,
    }
    # Issue 11: the phone answers both NOTIFYs 400; each rejection is a consequence of its NOTIFY's header.
    for frame in (5, 7):
        assert found[("Notes", "Response", f"NOTIFY frame {frame} of subscription 1 rejected with 400 Bad Request")] == 1
    # SIP parsed both headers; only their values break RFC 6665: a protocol error, not bytes that cannot
    # be parsed, so Wireshark's "malformed" filter must not match them (issue 14).
    assert frames_with(ws, "siptrack_sub_bad_headers.pcap", "siptrack.bad_event", two_pass) == ["1"]
    assert frames_with(ws, "siptrack_sub_bad_headers.pcap", "siptrack.bad_subscription_state", two_pass) == ["5"]
    assert frames_with(ws, "siptrack_sub_bad_headers.pcap", "_ws.malformed", two_pass) == []
    # The 5,000-byte Event header is followed like any other (only its package is shown).
    rows = ws.fields("siptrack_sub_bad_headers.pcap", ["frame.number", "siptrack.subscription", "siptrack.event"],
                     dfilter="frame.number == 9", two_pass=two_pass)
    assert rows == [["9", "2", "presence"]]


# Real captures (../shared/captures-found): event packages other than dialog.

def found_rows(ws, name, fields):
    import os
    path = os.path.join(ws.stage, "found", name)
    if not os.path.exists(path):
        pytest.skip("../shared/captures-found is not present")
    args = ["-r", path, "-Y", "siptrack.message", "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        args += ["-e", f]
    proc = ws.run(args)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()], path


def test_found_presence_winfo_489(ws):
    rows, path = found_rows(ws, "sipnab__b2bua-asterisk.pcapng",
                            ["frame.number", "sip.Status-Code", "siptrack.subscription", "siptrack.event", "siptrack.kind",
                             "siptrack.state", "siptrack.request_in"])
    assert rows[:8] == [
        ["10", "", "1", "presence.winfo", "initial", "", ""],
        ["11", "", "2", "message-summary", "initial", "", ""],
        ["13", "401", "1", "presence.winfo", "response", "", "10"],
        ["14", "", "1", "presence.winfo", "initial", "", ""],
        ["15", "401", "2", "message-summary", "response", "", "11"],
        ["16", "489", "1", "presence.winfo", "response", "terminated", "14"],
        ["17", "", "2", "message-summary", "initial", "", ""],
        ["18", "404", "2", "message-summary", "response", "terminated", "17"],
    ]
    for two_pass in (False, True):
        proc = ws.run(["-r", path, "-q", "-z", "expert"] + (["-2"] if two_pass else []))
        assert not [line for line in proc.stdout.splitlines() if " SIPTrack " in line and
                    ("Warns" in line or "Errors" in line)]
        assert serious(experts_from(proc.stdout)) == {}


def experts_from(text):
    found, severity = {}, None
    for line in text.splitlines():
        head = re.match(r"^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$", line)
        if head:
            severity = head.group(1)
            continue
        row = re.match(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if row and severity and row.group(3) == "SIPTrack":
            found[(severity, row.group(2), row.group(4))] = int(row.group(1))
    return found


@pytest.mark.parametrize("name", ["wswiki__Asterisk_ZFONE_XLITE.pcap", "gprshome-wireshark__sip.pcap",
                                  "sipnab__sip-over-tcp.pcap", "pkts__fragmented_tcp_sip.pcap"])
def test_found_captures_no_false_warning(ws, name):
    rows, path = found_rows(ws, name, ["frame.number", "siptrack.subscription"])
    for two_pass in (False, True):
        proc = ws.run(["-r", path, "-q", "-z", "expert"] + (["-2"] if two_pass else []))
        assert proc.returncode == 0, proc.stderr
        assert serious(experts_from(proc.stdout)) == {}


def test_found_rlmi_offer_404_and_mwi(ws):
    rows, _ = found_rows(ws, "wswiki__Asterisk_ZFONE_XLITE.pcap",
                         ["frame.number", "sip.Status-Code", "siptrack.subscription", "siptrack.event", "siptrack.kind",
                          "siptrack.state", "siptrack.state.reason", "siptrack.notifier"])
    assert rows == [
        ["7", "", "1", "message-summary", "initial", "", "", "sip:10009@192.168.10.2"],
        ["8", "401", "1", "message-summary", "response", "", "", "sip:10009@192.168.10.2"],
        ["9", "", "2", "presence", "initial", "", "", "sip:10008@192.168.10.2"],
        ["10", "401", "2", "presence", "response", "", "", "sip:10008@192.168.10.2"],
        ["11", "", "1", "message-summary", "initial", "", "", "sip:10009@192.168.10.2"],
        ["12", "404", "1", "message-summary", "response", "terminated", "rejected with 404", "sip:10009@192.168.10.2"],
        ["13", "", "2", "presence", "initial", "", "", "sip:10008@192.168.10.2"],
        ["14", "404", "2", "presence", "response", "terminated", "rejected with 404", "sip:10008@192.168.10.2"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_repro_info_column_tag(ws, two_pass):
    # The packet list shows the stale-flow NOTIFY: " [SIPTrack: ...]" after SIP's own text, on no other
    # frame of the subscription's first NOTIFY exchange.
    rows = ws.fields(REPRO, ["frame.number", "_ws.col.Info"], dfilter="frame.number in {12, 39}", two_pass=two_pass)
    assert rows[0][0] == "12" and "[SIPTrack" not in rows[0][1]
    assert rows[1][1].endswith(" [SIPTrack: NOTIFY on stale flow, NOTIFY reset]" if two_pass else
                               " [SIPTrack: NOTIFY on stale flow]")


# Issue 11: incidents, links, messages that fit, the new findings.

SUB_CAPTURES = ["siptrack_sub_polycom_repro.pcap", "siptrack_sub_pcom310.pcap", "siptrack_sub_lifecycle.pcap",
                "siptrack_sub_bad_headers.pcap", "siptrack_sub_orphaned.pcap", "siptrack_sub_notify_rejected.pcap",
                "siptrack_sub_unsubscribe_unconfirmed.pcap"] + HEALTHY


@pytest.mark.parametrize("capture", SUB_CAPTURES)
def test_messages_fit_the_gui_label(ws, capture):
    # The GUI cuts "Expert Info (Warning/Sequence): " plus the message at 240 characters.
    found = experts(ws, capture, two_pass=True)
    assert [k[2] for k in found if len(k[2]) > 200] == []


@pytest.mark.parametrize("two_pass", [False, True])
def test_repro_links(ws, two_pass):
    rows = ws.fields(REPRO, ["frame.number", "siptrack.caused_by", "siptrack.subscribe_frame", "siptrack.notify_frame",
                             "siptrack.rst_frame", "siptrack.last_traffic_frame", "siptrack.new_flow_frame",
                             "siptrack.recovered_in"],
                     dfilter="siptrack.caused_by || siptrack.subscribe_frame || siptrack.notify_frame || "
                             "siptrack.rst_frame || siptrack.recovered_in", two_pass=two_pass)
    # The stale-flow NOTIFY (the cause): its SUBSCRIBE (35), the subscriber's last traffic on stream 0 (26),
    # its first request on stream 1 (31); with -2 the RST that killed it (40). The RST and the recovery
    # (on the 200, and with -2 on the NOTIFY too) are consequences linked to frame 39.
    assert rows == [
        ["39", "", "35", "", "40" if two_pass else "", "26", "31", ""],
        ["40", "39", "", "39", "", "", "", ""],
    ] + ([["51", "39", "", "", "", "", "", "51"]] if two_pass else []) + [
        ["53", "39", "", "", "", "", "", "51"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_pcom310_links(ws, two_pass):
    rows = ws.fields(PCOM310, ["frame.number", "siptrack.caused_by", "siptrack.notify_frame", "siptrack.recovered_in"],
                     dfilter="siptrack.caused_by || siptrack.notify_frame", two_pass=two_pass)
    # Frame 29 (where Timer F ran out) names NOTIFY 27; on revisits it is a consequence of it.
    assert rows == ([["29", "27", "27", ""], ["43", "27", "", ""], ["49", "27", "", "49"], ["51", "27", "", "49"]]
                    if two_pass else [["29", "", "27", ""], ["43", "27", "", ""], ["51", "27", "", "49"]])


@pytest.mark.parametrize("two_pass", [False, True])
def test_pcom310_info_column(ws, two_pass):
    rows = ws.fields(PCOM310, ["frame.number", "_ws.col.Info"], dfilter="frame.number in {27, 29, 43, 51}",
                     two_pass=two_pass)
    tags = {r[0]: r[1][r[1].find(" [SIPTrack"):] if " [SIPTrack" in r[1] else "" for r in rows}
    assert tags == {"27": " [SIPTrack: NOTIFY unanswered]" if two_pass else "",
                    "29": " [SIPTrack: NOTIFY unanswered]", "43": " [SIPTrack: 481 subscription gone]",
                    "51": " [SIPTrack: subscription recovered]"}


ORPHANED = "siptrack_sub_orphaned.pcap"
ORPHAN_NOTE = ("NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic here 90.0 s "
               "(1.5 min) earlier); subscription 1 is orphaned: subscription 2 replaced it")


@pytest.mark.parametrize("two_pass", [False, True])
def test_orphaned_subscription_is_no_outage(ws, two_pass):
    # The old subscription's NOTIFY is reset on the connection the rebooted phone left, while the newer
    # subscription works all along: a warning that names the orphan (not "use tcp.stream 1": that
    # connection would answer 481), its reset a note, and no recovery credited to subscription 2.
    found = experts(ws, ORPHANED, two_pass=two_pass)
    assert serious(found) == {("Warns", "Sequence", ORPHAN_NOTE): 1}
    assert found[("Notes", "Sequence", "RST from the subscriber on tcp.stream 0, 0.7 ms after NOTIFY frame 27 "
                                       "(subscription 1): the NOTIFY is lost")] == 1
    assert not [k for k in found if "recovered" in k[2]]
    rows = ws.fields(ORPHANED, ["frame.number", "siptrack.replaced_by", "siptrack.last_traffic_frame",
                                "siptrack.new_flow_frame"], dfilter="siptrack.notify_orphaned", two_pass=two_pass)
    assert rows == [["27", "19", "10", "15"]]
    assert frames_with(ws, ORPHANED, "siptrack.notify_reset_consequence && siptrack.caused_by == 27", two_pass) == (
        ["28"])
    proc = ws.run(["-r", ws.capture(ORPHANED), "-q", "-z", "siptrack,subscriptions"])
    lines = [line for line in proc.stdout.splitlines() if re.match(r"^\d+ \|", line)]
    assert lines == [
        "1 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|0rph4n01-11112222-33334444@10.1.1.171 |active |tcp.stream 0 |2 |1 |notify_orphaned, notify_reset "
        "|0.000 |4 |28 |",
        "2 |sip:207@victoria.pingtel.com |sip:~~rl~C~207@victoria.pingtel.com |dialog "
        "|0rph4n02-55556666-77778888@10.1.1.171 |active |tcp.stream 1 |3 |3 | |0.000 |19 |35 |",
    ]


REJECTED = "siptrack_sub_notify_rejected.pcap"


@pytest.mark.parametrize("two_pass", [False, True])
def test_notify_rejected(ws, two_pass):
    found = experts(ws, REJECTED, two_pass=two_pass)
    assert serious(found) == {
        ("Warns", "Response", "NOTIFY frame 3 of subscription 1 rejected with 488 Not Acceptable Here"): 1}
    # The second rejection is the same incident: a note linked to the first NOTIFY.
    assert found[("Notes", "Response", "NOTIFY frame 5 of subscription 1 rejected with 488 Not Acceptable Here")] == 1
    rows = ws.fields(REJECTED, ["frame.number", "siptrack.notify_frame", "siptrack.caused_by"],
                     dfilter="siptrack.notify_rejected || siptrack.notify_rejected_consequence", two_pass=two_pass)
    assert rows == [["4", "3", ""], ["6", "5", "3"]]
    proc = ws.run(["-r", ws.capture(REJECTED), "-q", "-z", "siptrack,subscriptions"])
    lines = [line for line in proc.stdout.splitlines() if re.match(r"^\d+ \|", line)]
    assert lines == ["1 |sip:207@victoria.pingtel.com |sip:208@victoria.pingtel.com |presence |n0t1fy-488@10.1.1.171 "
                     "|active, NOTIFY rejected with 488 |udp.stream 0 |2 |0 |notify_rejected |0.000 |1 |6 |"]


UNCONFIRMED = "siptrack_sub_unsubscribe_unconfirmed.pcap"
UNCONFIRMED_AT_TIMER = ("No terminating NOTIFY for subscription 1 within 32.0 s of the 2xx to its un-SUBSCRIBE "
                        "(RFC 6665 section 4.2.2)")
UNCONFIRMED_AT_UNSUB = ("The notifier accepted this un-SUBSCRIBE but sent no terminating NOTIFY within 32.0 s "
                        "(RFC 6665 section 4.2.2)")


@pytest.mark.parametrize("two_pass", [False, True])
def test_unsubscribe_unconfirmed(ws, two_pass):
    found = experts(ws, UNCONFIRMED, two_pass=two_pass)
    if two_pass:
        assert serious(found) == {("Warns", "Sequence", UNCONFIRMED_AT_UNSUB): 1}
        assert found[("Notes", "Sequence", UNCONFIRMED_AT_TIMER)] == 1
    else:
        assert serious(found) == {("Warns", "Sequence", UNCONFIRMED_AT_TIMER): 1}
    # Known at the REGISTER of frame 7 (the first packet past Timer F); on revisits on the un-SUBSCRIBE.
    rows = ws.fields(UNCONFIRMED, ["frame.number", "siptrack.subscribe_frame", "siptrack.caused_by"],
                     dfilter="siptrack.unsubscribe_unconfirmed || siptrack.unsubscribe_unconfirmed_consequence",
                     two_pass=two_pass)
    assert rows == ([["5", "", ""], ["7", "5", "5"]] if two_pass else [["7", "5", ""]])


def test_real_notify_rejected_488(ws):
    # goffinet voip-extension: the REFER's two sipfrag NOTIFYs (593, 597) are both answered 488 Not
    # Acceptable Here by 192.168.5.11 (checked by hand): one warning, the second a note linked to it.
    import os
    path = os.path.join(ws.stage, "public2", "goffinet__voip-extension.pcap")
    if not os.path.exists(path):
        pytest.skip("../shared/captures-public2 is not present")
    for two_pass in (False, True):
        proc = ws.run(["-r", path, "-q", "-z", "expert"] + (["-2"] if two_pass else []))
        found = experts_from(proc.stdout)
        assert serious(found) == {
            ("Warns", "Response", "NOTIFY frame 593 of subscription 1 rejected with 488 Not Acceptable Here"): 1}
        assert found[("Notes", "Response", "NOTIFY frame 597 of subscription 1 rejected with 488 Not Acceptable "
                                           "Here")] == 1
