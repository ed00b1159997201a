# SPDX-License-Identifier: GPL-2.0-or-later
"""siptrack keepalives end to end: field case 004 (Cisco TAC: SIP REGISTER keepalives, backup keepalives,
SCCP KeepAlive failover) and RFC 5626 CRLF keepalives.

Captures come from captures/gen_siptrack_keepalives.py (see captures/README.md). Every finding is checked
where it must fire, in one pass and with -2, and on the healthy twins, where no warning or note fires.
With -2, findings learnt on a later packet move onto the packet they are about (their text then names the
frame where they became known); the count stays one per finding.
"""
import os
import re

import pytest

CYCLE = "siptrack_ka_8961_cycle.pcap"
HEALTHY = "siptrack_ka_8961_healthy.pcap"
PAIR = "siptrack_ka_seed_pair.pcap"
SCCP = "siptrack_ka_sccp_failover.pcap"
SCCP_HEALTHY = "siptrack_ka_sccp_healthy.pcap"
CRLF = "siptrack_ka_crlf.pcap"
CRLF_HEALTHY = "siptrack_ka_crlf_healthy.pcap"
UDP = "siptrack_ka_udp_retransmission.pcap"
SWITCH = "siptrack_ka_8961_switch_no_lapse.pcap"
SILENT = "siptrack_ka_crlf_silent.pcap"
LONG_AOR = "siptrack_ka_long_aor.pcap"
ALL = [CYCLE, HEALTHY, PAIR, SCCP, SCCP_HEALTHY, CRLF, CRLF_HEALTHY, UDP, SWITCH, SILENT, LONG_AOR]
DEREGISTRATION = ("Chats", "De-registration of sip:alice@example.com from 198.51.100.5:5060 (Expires 0)")


def experts(ws, capture, two_pass=False, path=None, prefs=()):
    """{(severity, summary): count} of SIPTrack's expert infos. tshark -2 -q -z expert dissects its
    second pass without a tree: the findings must be raised all the same."""
    args = ["-r", path or ws.capture(capture), *prefs, "-q", "-z", "expert,chat"]
    if two_pass:
        args.append("-2")
    proc = ws.run(args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    found, severity = {}, None
    for line in proc.stdout.splitlines():
        head = re.match(r"^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$", line)
        if head:
            severity = head.group(1)
            continue
        row = re.match(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if row and severity and row.group(3) == "SIPTrack":
            key = (severity, row.group(4))
            found[key] = found.get(key, 0) + int(row.group(1))
    return found


def lapse(cseq, by):
    # Issue 11: the lapse past the grace is the cause of the drop (the only warning of its incident), named
    # on the copy sent past it, with the row of lost keepalives behind it.
    return ("Warns", f"Registration lapsed: copy 2 of refresh CSeq {cseq} sent {by} s after the expiry, past the "
                     "15 s grace; 8 REGISTERs in a row retransmitted; the registrar likely dropped the device")


def within_grace(cseq, by):
    # A refresh after the expiry but within the registrar's grace: the binding was kept, a note of its own.
    return ("Notes", f"REGISTER refresh CSeq {cseq} (copy 2) sent {by} s after the granted expiry, within the 15 s "
                     "grace")


def retransmitted(cseq, frame, backoff):
    return ("Notes", f"REGISTER CSeq {cseq} (frame {frame}) retransmitted 1 time, back-off {backoff} s")


BACKUP_8961 = ("Chats", "Keepalive REGISTER to backup registrar 178.215.139.23:5060 (Expires 0 with "
                        "cisco-keep-alive), not a de-registration")
SWITCHES = [
    ("Notes", "Registrar switch 1 (failover after the lapse): sip:4563@178.215.139.23 registers with "
              "178.215.139.23:5060 after 178.215.139.22:5060 (frame 68); first switch seen"),
    ("Notes", "Registrar switch 2 (fallback after the lapse): sip:4563@178.215.139.22 registers with "
              "178.215.139.22:5060 after 178.215.139.23:5060 (frame 80); 2 min 0.6 s after switch 1 (frame 74)"),
    ("Notes", "Registrar switch 3 (failover after the lapse): sip:4563@178.215.139.23 registers with "
              "178.215.139.23:5060 after 178.215.139.22:5060 (frame 150); 16 min 16.8 s after switch 2 (frame 89)"),
    ("Notes", "Registrar switch 4 (fallback after the lapse): sip:4563@178.215.139.22 registers with "
              "178.215.139.22:5060 after 178.215.139.23:5060 (frame 162); 2 min 0.1 s after switch 3 (frame 156)"),
]
BACKOFF = ["0.209", "0.418", "0.838", "1.690", "3.370", "6.700", "14.000", "28.000"]


def cycle_experts():
    want = {}
    # Two cycles of eight lost refreshes; CSeq 104-111 (first REGISTER in frame 19), then 116-123 (frame 101).
    for cseq0, frame0 in ((104, 19), (116, 101)):
        for n, b in enumerate(BACKOFF):
            want[retransmitted(cseq0 + n, frame0 + 7 * n, b)] = 1
    for cseq0 in (104, 116):
        want[within_grace(cseq0 + 5, "1.715")] = 1
        want[within_grace(cseq0 + 6, "9.015")] = 1
        want[lapse(cseq0 + 7, "23.015")] = 1
    for s in SWITCHES:
        want[s] = 1
    want[BACKUP_8961] = 3
    return want


@pytest.mark.parametrize("two_pass", [False, True])
def test_8961_every_finding_once(ws, two_pass):
    # Field case 004, case study 2: each lapse once, on the retransmission that shows it, with its length.
    assert experts(ws, CYCLE, two_pass) == cycle_experts()


@pytest.mark.parametrize("two_pass", [False, True])
def test_8961_lapse_on_the_copy_that_shows_it(ws, two_pass):
    # Each refresh after the expiry is named on the copy sent after it, with the REGISTER it copies, the 2xx
    # whose grant it refreshes and the row of REGISTERs that each needed a retransmission (from frame 19).
    fields = ["frame.number", "tcp.analysis.retransmission", "siptrack.register.original", "siptrack.register.copy",
              "siptrack.register.lapse", "siptrack.register.grant_in", "siptrack.register.retransmitted_in_row",
              "siptrack.register.first_retransmitted", "_ws.expert.severity"]
    rows = ws.fields(CYCLE, fields, dfilter="siptrack.registration_lapsed || siptrack.register_within_grace",
                     two_pass=two_pass)
    # _ws.expert.severity: the TCP retransmission note, SIPTrack's retransmission note, then the lapse's
    # note (within the grace, 0x00400000) or warning (past it, 0x00600000).
    within, past = "4194304,4194304,4194304", "4194304,4194304,6291456"
    assert rows == [["55", "1", "54", "2", "1.715060000", "52", "6", "19", within],
                    ["62", "1", "61", "2", "9.015060000", "59", "7", "19", within],
                    ["69", "1", "68", "2", "23.015060000", "66", "8", "19", past],
                    ["137", "1", "136", "2", "1.715060000", "134", "6", "101", within],
                    ["144", "1", "143", "2", "9.015060000", "141", "7", "101", within],
                    ["151", "1", "150", "2", "23.015060000", "148", "8", "101", past]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_8961_failover_and_fallback_caused_by_the_lapse(ws, two_pass):
    # The switch to the secondary and the return to the primary two minutes later are consequences of the
    # lapse past the grace (frames 69 and 151): siptrack.caused_by, with the REGISTER switched from and the
    # previous switch as links. The Info column tags every frame with a finding.
    rows = ws.fields(CYCLE, ["frame.number", "siptrack.caused_by", "siptrack.register.previous_registrar",
                             "siptrack.register.previous_registration_in", "siptrack.register.previous_switch_in",
                             "siptrack.register.since_switch"],
                     dfilter="siptrack.registrar_switch", two_pass=two_pass)
    assert rows == [["74", "69", "178.215.139.22:5060", "68", "", ""],
                    ["89", "69", "178.215.139.23:5060", "80", "74", "120.562080000"],
                    ["156", "151", "178.215.139.22:5060", "150", "89", "976.831420000"],
                    ["171", "151", "178.215.139.23:5060", "162", "156", "120.062080000"]]
    assert ws.fields(CYCLE, ["frame.number"], dfilter="siptrack.caused_by", two_pass=two_pass) == \
        [["74"], ["89"], ["156"], ["171"]]
    info = dict(ws.fields(CYCLE, ["frame.number", "_ws.col.Info"], dfilter="frame.number in {19,20,41,55,69,74,89}",
                          two_pass=two_pass))
    assert info["20"].endswith("Len=883 [SIPTrack: REGISTER retransmitted]"), info
    assert info["19"] == "Request: REGISTER sip:178.215.139.22  (1 binding) | ", info  # lost, nothing known yet
    # Copy 2 of CSeq 107, 1.7 s past the phone's 115 s schedule: the back-off made it late, the phone was
    # on time; a retransmission, no late refresh.
    assert info["41"].endswith("Len=883 [SIPTrack: REGISTER retransmitted]"), info
    assert info["55"].endswith("Len=883 [SIPTrack: REGISTER after expiry]"), info
    assert info["69"].endswith("Len=883 [SIPTrack: REGISTER lapsed]"), info
    assert info["74"].endswith(" [SIPTrack: registrar switch]"), info
    assert info["89"].endswith(" [SIPTrack: registrar switch]"), info


@pytest.mark.parametrize("two_pass", [False, True])
def test_switch_without_lapse_has_no_cause(ws, two_pass):
    # Healthy twin of the failover: the primary closes its connection 30 s after an on-time refresh (a
    # restart); the phone registers with the secondary at once and back two minutes later. Two switch notes
    # of their own: no lapse, no siptrack.caused_by, no warning.
    assert experts(ws, SWITCH, two_pass) == {
        BACKUP_8961: 2,
        ("Notes", "Registrar switch 1: sip:4563@178.215.139.23 registers with 178.215.139.23:5060 after "
                  "178.215.139.22:5060 (frame 19); first switch seen"): 1,
        ("Notes", "Registrar switch 2: sip:4563@178.215.139.22 registers with 178.215.139.22:5060 after "
                  "178.215.139.23:5060 (frame 28); 2 min 0.1 s after switch 1 (frame 28)"): 1,
    }
    assert ws.fields(SWITCH, ["frame.number"], dfilter="siptrack.caused_by", two_pass=two_pass) == []


def test_8961_backoff_per_register(ws):
    # With -2 each REGISTER shows its retransmission and back-off, its interval and the margin left.
    fields = ["frame.number", "siptrack.register.kind", "siptrack.register.expires_asked",
              "siptrack.register.expires_granted", "siptrack.register.retransmissions",
              "siptrack.register.retransmission_in", "siptrack.register.backoff", "siptrack.register.interval",
              "siptrack.register.margin"]
    rows = ws.fields(CYCLE, fields, dfilter="sip.Method == REGISTER && frame.number <= 80", two_pass=True)
    assert rows == [
        ["7", "registration", "3600", "120", "0", "", "", "", ""],
        ["13", "backup keepalive", "0", "0", "0", "", "", "", ""],
        ["19", "refresh", "3600", "120", "1", "20", "0.209020000", "115.047020000", "4.952980000"],
        ["26", "refresh", "3600", "120", "1", "27", "0.418020000", "115.256040000", "4.743960000"],
        ["33", "refresh", "3600", "120", "1", "34", "0.838020000", "115.465040000", "4.534960000"],
        ["40", "refresh", "3600", "120", "1", "41", "1.690020000", "115.885040000", "4.114960000"],
        ["47", "refresh", "3600", "120", "1", "48", "3.370020000", "116.737040000", "3.262960000"],
        ["54", "refresh", "3600", "120", "1", "55", "6.700020000", "118.417040000", "1.582960000"],
        ["61", "refresh", "3600", "120", "1", "62", "14.000020000", "121.747040000", "-1.747040000"],
        ["68", "refresh", "3600", "", "1", "69", "28.000020000", "129.047040000", "-9.047040000"],
        ["74", "registration", "3600", "120", "0", "", "", "976.484400000", ""],
        ["80", "refresh", "3600", "120", "0", "", "", "115.047020000", "4.952980000"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_8961_switches_show_the_cycle(ws, two_pass):
    rows = ws.fields(CYCLE, ["frame.number", "siptrack.register.registrar", "siptrack.register.previous_registrar",
                             "siptrack.register.since_switch"], dfilter="siptrack.registrar_switch", two_pass=two_pass)
    assert rows == [["74", "178.215.139.23:5060", "178.215.139.22:5060", ""],
                    ["89", "178.215.139.22:5060", "178.215.139.23:5060", "120.562080000"],
                    ["156", "178.215.139.23:5060", "178.215.139.22:5060", "976.831420000"],
                    ["171", "178.215.139.22:5060", "178.215.139.23:5060", "120.062080000"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_8961_healthy_twin_is_quiet(ws, two_pass):
    # Two hours of on-time refreshes: only the keepalive to the backup is named (chat).
    assert experts(ws, HEALTHY, two_pass) == {BACKUP_8961: 1}
    rows = ws.fields(HEALTHY, ["siptrack.register.margin"],
                     dfilter="sip.Method == REGISTER && siptrack.register.kind == \"refresh\"")
    assert len(rows) == 63 and all(r == ["4.952980000"] for r in rows)


@pytest.mark.parametrize("two_pass", [False, True])
def test_seed_primary_and_backup_traces(ws, two_pass):
    # The seed's CUCM-side trace: refreshes 115.002071 s and 115.031685 s apart, 120 s granted; the second
    # phone's Expires 0 + cisco-keep-alive REGISTERs to its backup are keepalives, not de-registrations.
    assert experts(ws, PAIR, two_pass) == {
        ("Chats", "Keepalive REGISTER to backup registrar 10.60.1.12:5060 (Expires 0 with cisco-keep-alive), "
                  "not a de-registration"): 2}
    rows = ws.fields(PAIR, ["frame.number", "tcp.seq_raw", "siptrack.register.kind", "siptrack.register.interval",
                            "siptrack.register.margin", "siptrack.register.expires_granted"],
                     dfilter="sip.Method == REGISTER", two_pass=two_pass)
    # The grant comes with the 2xx: on a single pass the REGISTER's own row cannot show it yet.
    granted = ["120", "0", "120", "0", "120"] if two_pass else [""] * 5
    assert rows == [["7", "2991995217", "registration", "", "", granted[0]],
                    ["11", "927716098", "backup keepalive", "", "", granted[1]],
                    ["15", "2991996107", "refresh", "115.002071000", "4.997929000", granted[2]],
                    ["19", "927716707", "backup keepalive", "115.002071000", "", granted[3]],
                    ["23", "2991996997", "refresh", "115.031685000", "4.968315000", granted[4]]]


# Issue 11: the row of unacknowledged KeepAlives is one incident: the first is its cause (the only warning),
# the next two and the expected failover are notes caused by it (siptrack.caused_by 30).
FAILOVER = ("Notes", "Third SCCP KeepAlive in a row unacknowledged by 10.10.10.202:2000 (last in frame 36): the phone "
                     "fails over to its backup CUCM")
SCCP_ONE_PASS = {
    ("Warns", "SCCP KeepAlive of frame 30 not acknowledged by 10.10.10.202:2000 within 30 s; 1 in a row"): 1,
    ("Notes", "SCCP KeepAlive of frame 34 not acknowledged by 10.10.10.202:2000 within 30 s; 2 in a row since "
              "frame 30"): 1,
    ("Notes", "SCCP KeepAlive of frame 36 not acknowledged by 10.10.10.202:2000 within 30 s; 3 in a row since "
              "frame 30"): 1,
    FAILOVER: 1,
}
SCCP_TWO_PASS = {
    ("Warns", "SCCP KeepAlive not acknowledged by 10.10.10.202:2000 within 30 s (known in frame 34); 1 in a row"): 1,
    ("Notes", "SCCP KeepAlive not acknowledged by 10.10.10.202:2000 within 30 s (known in frame 36); 2 in a row "
              "since frame 30"): 1,
    ("Notes", "SCCP KeepAlive not acknowledged by 10.10.10.202:2000 within 30 s (known in frame 40); 3 in a row "
              "since frame 30"): 1,
    FAILOVER: 1,
}


def test_sccp_three_missed_one_pass(ws):
    assert experts(ws, SCCP) == SCCP_ONE_PASS
    # On a single pass each is named where it became known: the next KeepAlive, then the phone's RST of
    # the primary connection (frame 40), the first packet after the third KeepAlive's interval ran out.
    rows = ws.fields(SCCP, ["frame.number", "siptrack.sccp.keepalive_in"],
                     dfilter="siptrack.sccp_keepalive_unacked || siptrack.sccp_keepalive_unacked_again")
    assert rows == [["34", "30"], ["36", "34"], ["40", "36"]]
    assert ws.fields(SCCP, ["frame.number", "tcp.flags.reset"], dfilter="siptrack.sccp_failover_expected") == \
        [["40", "1"]]
    assert ws.fields(SCCP, ["frame.number", "siptrack.caused_by", "_ws.col.Info"], dfilter="siptrack.caused_by") == [
        ["36", "30", "KeepAliveReq  [SIPTrack: KeepAlive unacknowledged]"],
        ["40", "30", "49612 → 2000 [RST, ACK] Seq=233 Ack=93 Win=8760 Len=0 [SIPTrack: SCCP failover]"]]


def test_sccp_three_missed_two_pass(ws):
    assert experts(ws, SCCP, two_pass=True) == SCCP_TWO_PASS
    assert ws.fields(SCCP, ["frame.number"], dfilter="siptrack.sccp_failover_expected", two_pass=True) == [["36"]]
    # On the KeepAlives themselves: the cause (30) and its consequences, each linked to it and to the
    # KeepAlive before it. Frames 34 and 36 also say that the KeepAlive before them went unanswered (the
    # second Missed in a row).
    rows = ws.fields(SCCP, ["frame.number", "siptrack.caused_by", "siptrack.sccp.previous_keepalive",
                            "siptrack.sccp.missed_in_row", "_ws.col.Info"],
                     dfilter="siptrack.sccp_keepalive_unacked || siptrack.sccp_keepalive_unacked_again",
                     two_pass=True)
    assert rows == [["30", "", "27", "1", "KeepAliveReq  [SIPTrack: KeepAlive unacknowledged]"],
                    ["34", "30", "30", "2,1", "KeepAliveReq  [SIPTrack: KeepAlive unacknowledged]"],
                    ["36", "30", "34", "3,2", "KeepAliveReq  [SIPTrack: SCCP failover]"]]


def test_sccp_every_keepalive_paired_or_named(ws):
    # Primary KeepAlives are paired with their KeepAliveAck (which also acknowledges at TCP level) or named
    # unacknowledged; backup ones are acknowledged at TCP level only and expect the RegisterAck's 60 s
    # secondary interval, until the failover makes the backup the primary (RegisterAck: 30 s).
    rows = ws.fields(SCCP, ["frame.number", "ip.dst", "siptrack.sccp.role", "siptrack.sccp.expected_interval",
                            "siptrack.sccp.ack_in", "siptrack.sccp.tcp_ack_in", "siptrack.sccp.interval"],
                     dfilter="skinny.messageId == 0", two_pass=True)
    assert rows == [
        ["11", "10.10.10.202", "primary", "30", "12", "12", ""],
        ["14", "10.10.10.202", "primary", "30", "15", "15", "30.000000000"],
        ["17", "10.10.10.203", "backup", "60", "", "18", ""],
        ["19", "10.10.10.202", "primary", "30", "20", "20", "30.000000000"],
        ["22", "10.10.10.202", "primary", "30", "23", "23", "30.000000000"],
        ["25", "10.10.10.203", "backup", "60", "", "26", "60.000000000"],
        ["27", "10.10.10.202", "primary", "30", "28", "28", "30.000000000"],
        ["30", "10.10.10.202", "primary", "30", "", "", "30.000000000"],
        ["32", "10.10.10.203", "backup", "60", "", "33", "60.398780000"],
        ["34", "10.10.10.202", "primary", "30", "", "", "30.000000000"],
        ["36", "10.10.10.202", "primary", "30", "", "", "30.000000000"],
        ["38", "10.10.10.203", "backup", "60", "", "39", "60.000000000"],
        ["45", "10.10.10.203", "primary", "30", "46", "46", "60.049960000"],
        ["48", "10.10.10.203", "primary", "30", "49", "49", "30.000000000"],
    ]
    unacked = ws.fields(SCCP, ["frame.number"],
                        dfilter="siptrack.sccp_keepalive_unacked || siptrack.sccp_keepalive_unacked_again", two_pass=True)
    assert unacked == [["30"], ["34"], ["36"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_sccp_healthy_twin_is_quiet(ws, two_pass):
    assert experts(ws, SCCP_HEALTHY, two_pass) == {}
    rows = ws.fields(SCCP_HEALTHY, ["siptrack.sccp.role", "siptrack.sccp.ack_in", "siptrack.sccp.tcp_ack_in"],
                     dfilter="skinny.messageId == 0", two_pass=True)
    assert len(rows) == 180
    assert sum(1 for r in rows if r[0] == "primary" and r[1]) == 120
    assert sum(1 for r in rows if r[0] == "backup" and not r[1] and r[2]) == 60


def test_crlf_pong_missing_and_late_ping(ws):
    assert experts(ws, CRLF) == {
        ("Warns", "CRLF keepalive of frame 16 not answered: no pong within 10 s"): 1,
        ("Notes", "CRLF keepalive 40.000 s after the previous one, over the 30 s Flow-Timer"): 1,
        DEREGISTRATION: 1,
    }
    assert experts(ws, CRLF, two_pass=True) == {
        ("Warns", "CRLF keepalive not answered: no pong within 10 s (known in frame 18)"): 1,
        ("Notes", "CRLF keepalive 40.000 s after the previous one, over the 30 s Flow-Timer"): 1,
        DEREGISTRATION: 1,
    }
    rows = ws.fields(CRLF, ["frame.number", "siptrack.crlf.type", "siptrack.crlf.interval", "siptrack.crlf.flow_timer",
                            "siptrack.crlf.pong_in", "siptrack.crlf.ping_in"], dfilter="siptrack.crlf", two_pass=True)
    assert rows == [
        ["8", "ping", "", "30", "10", ""], ["10", "pong", "", "", "", "8"],
        ["12", "ping", "25.000000000", "30", "14", ""], ["14", "pong", "", "", "", "12"],
        ["16", "ping", "25.000000000", "30", "", ""],
        ["18", "ping", "25.000000000", "30", "20", "16"], ["20", "pong", "", "", "", "18"],
        ["22", "ping", "40.000000000", "30", "24", ""], ["24", "pong", "", "", "", "22"],
        ["26", "ping", "25.000000000", "30", "28", ""], ["28", "pong", "", "", "", "26"],
    ]


@pytest.mark.parametrize("two_pass", [False, True])
def test_crlf_pongs_missing_in_a_row_are_one_incident(ws, two_pass):
    # The edge proxy's SIP layer stops answering (its TCP still ACKs): pings 12, 14, 16 get no pong. The
    # first is the cause (the only warning); the next two are notes caused by it. The UA closes the flow
    # (frame 18, where the third became known) and registers on a new connection, whose ping is answered.
    if two_pass:
        want = {
            ("Warns", "CRLF keepalive not answered: no pong within 10 s (known in frame 14)"): 1,
            ("Notes", "CRLF keepalive not answered: no pong within 10 s (known in frame 16); 2 in a row since "
                      "frame 12"): 1,
            ("Notes", "CRLF keepalive not answered: no pong within 10 s (known in frame 18); 3 in a row since "
                      "frame 12"): 1,
        }
        # Pings 14 and 16 also say that the ping before them went unanswered (the second Missed in a row).
        links = [["12", "", "8", "1"], ["14", "12", "12", "2,1"], ["16", "12", "14", "3,2"]]
    else:
        want = {
            ("Warns", "CRLF keepalive of frame 12 not answered: no pong within 10 s"): 1,
            ("Notes", "CRLF keepalive of frame 14 not answered: no pong within 10 s; 2 in a row since frame 12"): 1,
            ("Notes", "CRLF keepalive of frame 16 not answered: no pong within 10 s; 3 in a row since frame 12"): 1,
        }
        links = [["14", "", "12", "1"], ["16", "12", "14", "2"], ["18", "12", "", "3"]]
    assert experts(ws, SILENT, two_pass) == want
    rows = ws.fields(SILENT, ["frame.number", "siptrack.caused_by", "siptrack.crlf.previous_ping",
                              "siptrack.crlf.missed_in_row"],
                     dfilter="siptrack.crlf_pong_missing || siptrack.crlf_pong_missing_again", two_pass=two_pass)
    assert rows == links
    info = [r for r in ws.fields(SILENT, ["frame.number", "_ws.col.Info"], two_pass=two_pass) if "[SIPTrack" in r[1]]
    assert [r[0] for r in info] == [r[0] for r in links]
    assert all(r[1].endswith(" [SIPTrack: CRLF pong missing]") for r in info), info


def test_deregistration_named_as_such(ws):
    # Expires 0 without cisco-keep-alive: a real de-registration, not a backup keepalive.
    rows = ws.fields(CRLF, ["frame.number", "siptrack.register.kind", "siptrack.register.expires_asked"],
                     dfilter="siptrack.deregistration || siptrack.backup_keepalive")
    assert rows == [["30", "de-registration", "0"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_udp_retransmissions_are_copies(ws, two_pass):
    # Over UDP every copy is dissected as SIP: copies 2 and 3 of the refresh (timer E back-off 0.5 s, 1 s).
    # The copy that got through was sent 1.5 s past the phone's 115 s schedule, but the phone sent the
    # refresh on time: the back-off made the copy late, which is no late refresh (issue 11).
    assert experts(ws, UDP, two_pass) == {
        ("Notes", "REGISTER CSeq 103 (frame 4) retransmitted 1 time, back-off 0.500 s"): 1,
        ("Notes", "REGISTER CSeq 103 (frame 4) retransmitted 2 times, back-off 0.500 s, 1.000 s"): 1,
    }
    rows = ws.fields(UDP, ["frame.number", "siptrack.register.copy", "siptrack.register.retransmissions",
                           "siptrack.register.response_in", "siptrack.register.request_in"],
                     dfilter="siptrack.register", two_pass=True)
    assert rows == [["1", "1", "0", "3", ""], ["3", "", "0", "", "1"], ["4", "1", "2", "8", ""],
                    ["5", "2", "2", "8", ""], ["6", "3", "2", "8", ""], ["8", "", "2", "", "4"]]


COPIES_2 = ["-o", "siptrack.max_register_copies:2"]


@pytest.mark.parametrize("two_pass", [False, True])
def test_register_copies_past_the_bound_counted_not_listed(ws, two_pass):
    # siptrack.max_register_copies 2 on the UDP refresh sent three times: copy 3 (frame 6) is counted
    # (Retransmissions 2), its frame and back-off are not listed, and the note says so.
    assert experts(ws, UDP, two_pass, prefs=COPIES_2) == {
        ("Notes", "REGISTER CSeq 103 (frame 4) retransmitted 1 time, back-off 0.500 s"): 1,
        ("Notes", "REGISTER CSeq 103 (frame 4) retransmitted 2 times, back-off 0.500 s, ... and 1 more"): 1,
        ("Notes", "REGISTER CSeq 103 (frame 4) copy 3 is past siptrack.max_register_copies (2): it and later "
                  "copies are counted but their frames and back-offs are not listed"): 1,
    }
    fields = ["frame.number", "siptrack.register.copy", "siptrack.register.retransmissions",
              "siptrack.register.retransmission_in", "siptrack.register.backoff", "siptrack.register.response_in",
              "siptrack.register.request_in"]
    rows = ws.fields(UDP, fields, dfilter="siptrack.register", two_pass=two_pass, extra=COPIES_2)
    if two_pass:
        assert rows == [["1", "1", "0", "", "", "3", ""], ["3", "", "0", "", "", "", "1"],
                        ["4", "1", "2", "5", "0.500020000", "8", ""], ["5", "2", "2", "5", "0.500020000", "8", ""],
                        ["6", "3", "2", "5", "0.500020000", "8", ""], ["8", "", "2", "", "", "", "4"]]
    else:
        assert rows == [["1", "1", "0", "", "", "", ""], ["3", "", "0", "", "", "", "1"],
                        ["4", "1", "0", "", "", "", ""], ["5", "2", "1", "5", "0.500020000", "", ""],
                        ["6", "3", "2", "5", "0.500020000", "", ""], ["8", "", "2", "", "", "", "4"]]
    # Frame 6's notes in order: retransmitted (Sequence 0x02000000), copies full (Undecoded 0x05000000, as
    # siptrack's other limits).
    assert ws.fields(UDP, ["frame.number", "_ws.expert.group"], dfilter="siptrack.register_copies_full",
                     two_pass=two_pass, extra=COPIES_2) == [["6", "33554432,83886080"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_register_copies_at_the_bound_are_all_listed(ws, two_pass):
    # Healthy twins: a bound equal to the most copies of any REGISTER (3 on the UDP refresh, 2 on every
    # 8961 refresh) lists them all and raises no note: the same findings as with the default bound.
    assert experts(ws, UDP, two_pass, prefs=["-o", "siptrack.max_register_copies:3"]) == experts(ws, UDP, two_pass)
    assert experts(ws, CYCLE, two_pass, prefs=COPIES_2) == cycle_experts()
    assert ws.fields(CYCLE, ["frame.number"], dfilter="siptrack.register_copies_full", two_pass=two_pass,
                     extra=COPIES_2) == []


@pytest.mark.parametrize("two_pass", [False, True])
def test_crlf_healthy_twin_is_quiet(ws, two_pass):
    assert experts(ws, CRLF_HEALTHY, two_pass) == {}
    assert len(ws.fields(CRLF_HEALTHY, ["siptrack.crlf.pong_in"], dfilter="siptrack.crlf.type == \"ping\"",
                         two_pass=True)) == 12


# Call-ID (a binding's latest, with how many it used) and the first and last frame naming the row
# (issue 13): the 8961 took a new Call-ID at each of its two reboots.
TABLE_HEAD = ("Keepalive |Device |Peer |Call-ID |Count |Min interval (s) |Median interval (s) |Max interval (s) "
              "|Retransmissions |Lapses |Late |Missed answers |Registrar switches |First frame |Last frame |")
TABLES = {
    CYCLE: [
        "SIP REGISTER |10.147.230.189 sip:4563@178.215.139.22 <urn:uuid:00000000-0000-0000-0000-001e4a348b61> "
        "|178.215.139.22:5060 |001e4a34-8b610002-a1d598c1-e4d72a9b@10.147.230.189 (latest of 3) "
        "|19 |115.047 |116.737 |149.792 |16 |6 |0 |0 |4 |7 |175 |",
        "SIP REGISTER |10.147.230.189 sip:4563@178.215.139.23 <urn:uuid:00000000-0000-0000-0000-001e4a348b61> "
        "|178.215.139.23:5060 |001e4a34-8b610002-060afea5-4814d920@10.147.230.189 "
        "|7 |5.362 |115.047 |976.484 |0 |0 |0 |0 |4 |13 |181 |",
    ],
    SCCP: [
        "SCCP primary (TCP stream 0) |10.10.10.130:49612 |10.10.10.202:2000 | "
        "|8 |30.000 |30.000 |30.000 |0 |0 |0 |3 |0 |11 |40 |",
        "SCCP primary (TCP stream 1) |10.10.10.130:49613 |10.10.10.203:2000 | "
        "|6 |30.000 |60.000 |60.399 |0 |0 |0 |0 |0 |17 |49 |",
    ],
    UDP: [
        "SIP REGISTER |10.147.230.189 sip:4563@178.215.139.22 <urn:uuid:00000000-0000-0000-0000-001e4a348b61> "
        "|178.215.139.22:5060 |001e4a34-8b610003-571e4375-6ca202c8@10.147.230.189 "
        "|2 |115.012 |115.012 |115.012 |2 |0 |0 |0 |0 |1 |8 |",
    ],
    CRLF: [
        "SIP REGISTER |192.0.2.10 sip:alice@example.com <urn:uuid:00000000-0000-1000-8000-000A95A0E128> "
        "|198.51.100.5:5060 |8f0e1c3a-5d1b-4f0e-9b3c-1f2e3d4c5b6a |2 |170.071 |170.071 |170.071 |0 |0 |0 |0 |0 "
        "|4 |32 |",
        "CRLF keepalive (TCP stream 0) |192.0.2.10:49152 |198.51.100.5:5060 | "
        "|6 |25.000 |25.000 |40.000 |0 |0 |1 |1 |0 |8 |28 |",
    ],
}


@pytest.mark.parametrize("two_pass", [False, True])
@pytest.mark.parametrize("capture", ALL)
def test_keepalives_table_prints(ws, capture, two_pass):
    proc = ws.run(["-r", ws.capture(capture), "-q", "-z", "siptrack,keepalives"] + (["-2"] if two_pass else []))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert TABLE_HEAD in lines
    rows = lines[lines.index("SIPTrack keepalives") + 1:-1]
    assert rows, proc.stdout
    if capture in TABLES:
        assert rows == TABLES[capture]


SKINNY_FOUND = ["wswiki__startmenu_Dameware.pcap", "ndpi__skinny.pcap", "ndpi__sccp_hw_conf_register.pcapng"]


@pytest.mark.parametrize("capture", SKINNY_FOUND)
def test_found_skinny_captures_no_keepalive_findings(ws, capture):
    # Dameware: KeepAliveAcks whose KeepAlives the asymmetric capture lost; nothing provable is missing.
    path = os.path.join(ws.stage, "found", capture)
    if not os.path.exists(path):
        pytest.skip("../shared/captures-found is not present")
    assert experts(ws, None, path=path) == {}
    assert experts(ws, None, two_pass=True, path=path) == {}


def test_no_malformed_on_keepalive_captures(ws):
    for cap in ALL:
        assert ws.fields(cap, ["frame.number"], dfilter="_ws.malformed || _ws.expert.severity == error") == [], cap


def expert_labels(ws, capture, two_pass):
    """Every SIPTrack expert message of the capture as tshark prints it in the tree (-V)."""
    args = ["-r", ws.capture(capture), "-V", "-O", "siptrack"] + (["-2"] if two_pass else [])
    proc = ws.run(args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [m.group(1) for m in re.finditer(r"\[Expert Info \((?:\w+)/(?:\w+)\): (.*)\]$", proc.stdout, re.M)]


@pytest.mark.parametrize("two_pass", [False, True])
@pytest.mark.parametrize("capture", ALL)
def test_messages_fit_the_gui_label(ws, capture, two_pass):
    # The GUI cuts an expert item's label at 240 characters, "Expert Info (Warning/Sequence): " included:
    # every keepalive message is at most 200 characters, so none is ever shown "[truncated]".
    labels = expert_labels(ws, capture, two_pass)
    if capture not in (SCCP_HEALTHY, CRLF_HEALTHY):  # the two captures without any keepalive expert info
        assert labels
    assert all(len(m) <= 200 for m in labels), [m for m in labels if len(m) > 200]


@pytest.mark.parametrize("two_pass", [False, True])
def test_long_address_of_record_is_shortened_in_the_message(ws, two_pass):
    # Bad input: a 300-character user part. The message names the address of record cut to 48 bytes; the
    # field keeps all of it.
    aor = "sip:long" + "x" * 296 + "@example.com"
    assert experts(ws, LONG_AOR, two_pass) == {
        ("Chats", "De-registration of " + aor[:48] + "... from 198.51.100.5:5060 (Expires 0)"): 1}
    assert ws.fields(LONG_AOR, ["frame.number", "siptrack.register.aor"], dfilter="siptrack.deregistration",
                     two_pass=two_pass) == [["3", aor]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_real_registrar_without_grace(ws, two_pass):
    # captures/real/real_register_lapse.pcap (Kamailio 5.6, 10 s grants): the refresh comes 2.0 s after the
    # expiry and a MESSAGE to the phone just before it got 404: Kamailio dropped the binding at its expiry.
    # Its 200 OKs name it (Server: kamailio (lab)), so the CUCM grace does not apply: the lapse is the
    # cause, a warning, with grace 0 and the grant it should have refreshed.
    assert experts(ws, "real/real_register_lapse.pcap", two_pass) == {
        ("Warns", "Registration lapsed: refresh CSeq 104 sent 2.002 s after the expiry; registrar kamailio (lab) "
                  "allows no grace, likely dropped it"): 1}
    rows = ws.fields("real/real_register_lapse.pcap", ["frame.number", "siptrack.register.lapse",
                                                       "siptrack.register.grace", "siptrack.register.grant_in"],
                     dfilter="siptrack.registration_lapsed", two_pass=two_pass)
    assert rows == [["21", "2.001570000", "0", "12"]]


@pytest.mark.parametrize("two_pass", [False, True])
def test_real_late_refreshes_are_first_copies(ws, two_pass):
    # captures/real/real_outbound_keepalive.pcap: the phone itself refreshes 8.3 and 8.2 s into its 10 s
    # grants (first copies, no loss): later than a Cisco phone's expiry minus 5 s. register_late fires on
    # first copies only; the UDP and 8961 captures, whose copies are late only by their back-off, have none.
    assert experts(ws, "real/real_outbound_keepalive.pcap", two_pass) == {
        ("Notes", "REGISTER refresh late: sent 8.313 s after the grant of frame 6, 3.313 s past the expected "
                  "5.000 s (10 s granted minus 5 s)"): 1,
        ("Notes", "REGISTER refresh late: sent 8.214 s after the grant of frame 15, 3.214 s past the expected "
                  "5.000 s (10 s granted minus 5 s)"): 1,
        ("Notes", "CRLF keepalive 8.316 s after the previous one, over the 5 s Flow-Timer"): 1,
    }
    assert ws.fields(UDP, ["frame.number"], dfilter="siptrack.register_late", two_pass=two_pass) == []
    assert ws.fields(CYCLE, ["frame.number"], dfilter="siptrack.register_late", two_pass=two_pass) == []
