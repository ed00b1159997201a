# SPDX-License-Identifier: GPL-2.0-or-later
"""A real SIP server: Kamailio 5.6 and scripted phones, recorded by captures/real/lab.py (see
captures/real/README.md for what each capture shows and what the server did that our generators did
not foresee).

Every finding of our protocols is listed per frame, in one pass and with -2, and compared with what was
checked by hand against the packets; anything else firing fails the test. Field values (subscriptions,
flows, dialog and RLMI states, keepalive intervals) are asserted where they carry the story.
test_lab_rerun reruns the lab (when network namespaces and Kamailio are available) and checks that a
fresh run gives the same findings, kind and count, as the committed captures.
"""
import collections
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(ROOT, "captures", "real", "lab.py")

PRESENCE = "real/real_presence_rls.pcap"
REBOOT = "real/real_reboot.pcap"
POWER = "real/real_power_loss.pcap"
REJECTED = "real/real_notify_rejected.pcap"
CALL = "real/real_call_blf.pcap"
LAPSE = "real/real_register_lapse.pcap"
BACKOFF = "real/real_register_backoff.pcap"
OUTBOUND = "real/real_outbound_keepalive.pcap"
MSRP = "real/real_msrp_relay.pcap"
ALL = [PRESENCE, REBOOT, POWER, REJECTED, CALL, LAPSE, BACKOFF, OUTBOUND, MSRP]
OURS = ("siptrack.", "msrpa.", "dialoginfo.", "rlmi.", "mssip.", "ciscoalarm.")
SEVERITY = {"8388608": "error", "6291456": "warning", "4194304": "note", "2097152": "chat"}


def _pairs(kv):
    return [tuple(x) for x in kv]


def _walk(node, out):
    """Expert items of our protocols anywhere in one frame's JSON tree (duplicate keys kept)."""
    if isinstance(node, list) and all(isinstance(x, tuple) and len(x) == 2 for x in node):
        for key, value in node:
            if key == "_ws.expert" and isinstance(value, list):
                severity = SEVERITY.get(dict(value).get("_ws.expert.severity"), "?")
                out += [(k, severity) for k, _ in value if k.startswith(OURS)]
            _walk(value, out)
    elif isinstance(node, list):
        for value in node:
            _walk(value, out)


def findings(ws, capture, two_pass, chats=False):
    """{frame: sorted [(expert field, severity)]} of our protocols' expert items."""
    args = ["-r", ws.capture(capture), "-T", "json"] + (["-2"] if two_pass else [])
    proc = ws.run(args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for packet in json.loads(proc.stdout, object_pairs_hook=_pairs):
        layers = dict(dict(packet)["_source"])["layers"]
        items = []
        _walk(layers, items)
        items = sorted(i for i in items if chats or i[1] != "chat")
        if items:
            out[int(dict(dict(layers)["frame"])["frame.number"])] = items
    return out


OFF = ("siptrack.notify_off_subscription_flow", "note")

# Checked by hand against the packets (captures/real/README.md tells the story of each).
EXPECTED = {
    # Every NOTIFY to 207 comes on the connection Kamailio opened to 207's port 5060 (tcp.stream 3),
    # not on the SUBSCRIBE's (tcp.stream 0, open throughout): the note is true on each. Frame 110 ends the
    # direct subscription (Subscription-State terminated;reason=timeout, Kamailio's reason for Expires 0).
    PRESENCE: {
        (False, True): {**{f: [OFF] for f in (30, 37, 49, 55, 60, 66, 71, 77, 82, 90, 104)},
                        110: [OFF, ("siptrack.subscription_terminated", "note")]},
    },
    # Field case 000: the new subscription's first NOTIFY (46) goes down the server's old connection
    # (tcp.stream 2) that the reboot abandoned; the phone's kernel resets it (47). The stale flow is the
    # incident's one error (issue 11); the reset and the recovery are its consequences (notes linked to 46).
    # The one-pass order names the stale flow on the NOTIFY and the reset on the RST; -2 adds the reset to
    # the NOTIFY and the un-SUBSCRIBE-without-close note to the un-SUBSCRIBE (34), and the recovery to the
    # NOTIFY (55).
    REBOOT: {
        False: {21: [OFF], 31: [OFF], 40: [("siptrack.unsubscribe_without_close", "note")],
                46: [("siptrack.notify_on_stale_flow", "error")],
                47: [("siptrack.notify_reset_consequence", "note")],
                55: [OFF], 57: [("siptrack.subscription_recovered", "note")],
                66: [OFF], 76: [OFF]},
        True: {21: [OFF], 31: [OFF], 34: [("siptrack.unsubscribe_without_close", "note")],
               40: [("siptrack.unsubscribe_without_close", "note")],
               46: [("siptrack.notify_on_stale_flow", "error"), ("siptrack.notify_reset_consequence", "note")],
               47: [("siptrack.notify_reset_consequence", "note")],
               55: [OFF, ("siptrack.subscription_recovered", "note")],
               57: [("siptrack.subscription_recovered", "note")],
               66: [OFF], 76: [OFF]},
    },
    # A power cut without un-SUBSCRIBE: the new subscription (2)'s first NOTIFY (36) goes down the server's
    # old connection (tcp.stream 2) and is reset (37); the old subscription (1) lives on at the server,
    # its next NOTIFY (44, on a new connection) gets 481 (48) from the rebooted phone, which knows nothing
    # of it; subscription 2's next NOTIFY (46) is accepted (50). The 481 is subscription 1's end, a note
    # linked to the SUBSCRIBE of subscription 2 that replaced it (issue 11); the stale flow is the one error.
    POWER: {
        False: {23: [OFF], 36: [("siptrack.notify_on_stale_flow", "error")],
                37: [("siptrack.notify_reset_consequence", "note")], 44: [OFF], 46: [OFF],
                48: [("siptrack.subscription_481_consequence", "note")],
                50: [("siptrack.subscription_recovered", "note")], 55: [OFF]},
        True: {23: [OFF], 36: [("siptrack.notify_on_stale_flow", "error"),
                               ("siptrack.notify_reset_consequence", "note")],
               37: [("siptrack.notify_reset_consequence", "note")], 44: [OFF],
               46: [OFF, ("siptrack.subscription_recovered", "note")],
               48: [("siptrack.subscription_481_consequence", "note")],
               50: [("siptrack.subscription_recovered", "note")], 55: [OFF]},
    },
    # 209 answers three NOTIFYs 488 (31, 37, 43); Kamailio keeps the subscription and NOTIFYs on. Every
    # NOTIFY is on the server's own connection: the note on each is true. siptrack.notify_rejected
    # (issue 11) is checked in test_notify_rejected, left out here.
    # The later 488s (37, 43) are the same incident as the first (31): notes linked to NOTIFY 30; NOTIFY 48's
    # 200 (49) ends it: subscription 1 recovered (issue 11).
    REJECTED: {
        False: {**{f: [OFF] for f in (23, 30, 36, 42, 48)},
                37: [("siptrack.notify_rejected_consequence", "note")],
                43: [("siptrack.notify_rejected_consequence", "note")],
                49: [("siptrack.subscription_recovered", "note")]},
        True: {**{f: [OFF] for f in (23, 30, 36, 42)},
               37: [("siptrack.notify_rejected_consequence", "note")],
               43: [("siptrack.notify_rejected_consequence", "note")],
               48: [OFF, ("siptrack.subscription_recovered", "note")],
               49: [("siptrack.subscription_recovered", "note")]},
    },
    # Kamailio's pua_dialoginfo publishes the caller's first state as "Trying" (frame 36, its PUBLISH to
    # itself), and the presence server passes it on (NOTIFY 50): RFC 4235's states are lower case (XML
    # enumerations are case-sensitive), so the warning is true. Every NOTIFY to 207 is on the server's
    # own connection.
    CALL: {(False, True): {26: [OFF], 31: [OFF], 36: [("dialoginfo.unknown_value", "warning")],
                           50: [("dialoginfo.unknown_value", "warning"), OFF],
                           **{f: [OFF] for f in (52, 58, 70, 75, 84, 89)}}},
    # The refresh (21) comes 2.0 s after the 10 s grant of frame 12 ran out; the 404 of frame 19 proves
    # Kamailio had already dropped the contact.
    LAPSE: {(False, True): {21: [("siptrack.registration_lapsed", "warning")]}},
    # Field case 004 with a real kernel: the refresh of frame 11 (5.0 s into its 10 s grant) is lost and
    # retransmitted by TCP (12-19, back-off 0.2 s doubling); copy 7 (17) is the first after the expiry,
    # the lapse (Kamailio, named in the 200 OK's Server, has no grace); copy 9 (19) gets through, 21.8 s
    # past it. Copy 5 (15) went out past the phone's schedule because of the back-off, not because the
    # phone was late: no register_late since issue 11.
    BACKOFF: {(False, True): {**{f: [("siptrack.register_retransmitted", "note")] for f in range(12, 20)},
                              17: [("siptrack.register_retransmitted", "note"),
                                   ("siptrack.registration_lapsed", "warning")]}},
    # The third ping (17) comes 8.3 s after the second, over the 5 s Flow-Timer. The two refreshes
    # (14, 20) come 8.3 and 8.2 s into their 10 s grants: later than a Cisco phone's expiry minus 5 s,
    # which is what register_late measures (a note, by its documented definition).
    OUTBOUND: {(False, True): {14: [("siptrack.register_late", "note")],
                               17: [("siptrack.crlf_ping_late", "note")],
                               20: [("siptrack.register_late", "note")]}},
    # Both a=setup:active on the 200 OK of each leg (37: 221 -> proxy, 39: proxy -> 220), but each a=path
    # starts with the RFC 4976 relay: each client connects to its relay, every SEND is answered, and msrpa
    # says nothing (test_msrp_relay_both_active_is_no_problem).
    MSRP: {(False, True): {}},
}


def expected(capture, two_pass):
    for key, value in EXPECTED[capture].items():
        if key == two_pass or (isinstance(key, tuple) and two_pass in key):
            return value
    raise KeyError((capture, two_pass))


@pytest.mark.parametrize("two_pass", [False, True], ids=["one-pass", "two-pass"])
@pytest.mark.parametrize("capture", ALL)
def test_findings(ws, capture, two_pass):
    """Exactly these expert fields on exactly these frames, nothing else from our protocols.
    (Chats are lifecycle; they are checked in the field tests below.)"""
    got = findings(ws, capture, two_pass)
    if capture == REJECTED:
        got = {f: [i for i in items if i[0] != "siptrack.notify_rejected"] for f, items in got.items()}
        got = {f: items for f, items in got.items() if items}
    if capture == PRESENCE:
        # siptrack.unsubscribe_unconfirmed (issue 11): Kamailio's RLS never confirms the un-SUBSCRIBE of
        # frame 113 (no terminating NOTIFY in the 34 s that follow). True where it fires; checked in
        # test_rls_unsubscribe_unconfirmed, so left out of the comparison here.
        # With -2 the finding is on the un-SUBSCRIBE and its first-pass place carries the consequence note.
        got = {f: [i for i in items if i[0] not in ("siptrack.unsubscribe_unconfirmed",
                                                   "siptrack.unsubscribe_unconfirmed_consequence")]
               for f, items in got.items()}
        got = {f: items for f, items in got.items() if items}
    assert got == expected(capture, two_pass)


@pytest.mark.parametrize("capture", ALL)
def test_no_malformed(ws, plain, capture):
    """No frame is malformed with our plugins that is not without them (none is, either way)."""
    ours = ws.fields(capture, ["frame.number"], dfilter="_ws.malformed")
    theirs = plain.fields(capture, ["frame.number"], dfilter="_ws.malformed")
    assert ours == theirs == []


def test_presence_rls_subscriptions(ws):
    """207's RLS subscription is 1, its direct dialog subscription 2; the RLS's back-end subscriptions
    (UDP, from itself to itself) are 3 and 4, and on 207's refresh (93) the RLS starts new ones (5, 6)
    instead of refreshing 3 and 4."""
    rows = ws.fields(PRESENCE, ["frame.number", "siptrack.subscription", "siptrack.kind", "ip.src"],
                     dfilter="sip.Method == SUBSCRIBE")
    assert rows == [["26", "1", "initial", "127.0.0.207"], ["33", "2", "initial", "127.0.0.207"],
                    ["34", "3", "initial", "127.0.0.68"], ["35", "4", "initial", "127.0.0.68"],
                    ["93", "1", "refresh", "127.0.0.207"], ["96", "5", "initial", "127.0.0.68"],
                    ["99", "6", "initial", "127.0.0.68"], ["107", "2", "unsubscribe", "127.0.0.207"],
                    ["113", "1", "unsubscribe", "127.0.0.207"]]


def test_presence_rls_rlmi_and_dialog_states(ws):
    """The RLS's RLMI NOTIFYs: version 1 full state lists both resources without instances, later ones
    are partial with the changed resource's dialog-info; the direct subscription's NOTIFYs and the RLS's
    parts carry 208's call as early, confirmed, terminated (direction recipient)."""
    rows = ws.fields(PRESENCE, ["frame.number", "siptrack.subscription", "rlmi.version", "rlmi.full_state",
                                "rlmi.resource.uri", "rlmi.instance.state", "dialoginfo.entity",
                                "dialoginfo.dialog.state", "dialoginfo.dialog.direction"],
                     dfilter="sip.Method == NOTIFY && ip.dst == 127.0.0.207", two_pass=True)
    s208, s206 = "sip:208@127.0.0.68", "sip:206@127.0.0.68"
    assert rows == [
        ["30", "1", "1", "1", f"{s208},{s206}", "", "", "", ""],
        ["37", "2", "", "", "", "", s208, "", ""],
        ["49", "1", "2", "0", f"{s206},{s208}", "active,active", f"{s206},{s208}", "", ""],
        ["55", "2", "", "", "", "", s208, "early", "recipient"],
        ["60", "1", "3", "0", s208, "active", s208, "early", "recipient"],
        ["66", "2", "", "", "", "", s208, "confirmed", "recipient"],
        ["71", "1", "4", "0", s208, "active", s208, "confirmed", "recipient"],
        ["77", "2", "", "", "", "", s208, "terminated", "recipient"],
        ["82", "1", "5", "0", s208, "active", s208, "terminated", "recipient"],
        ["90", "1", "6", "0", s206, "active", s206, "confirmed", "initiator"],
        ["104", "1", "7", "0", f"{s206},{s208}", "active,active", f"{s206},{s208}", "confirmed,terminated",
         "initiator,recipient"],
        ["110", "2", "", "", "", "", s208, "terminated", "recipient"],
    ]


def test_rls_unsubscribe_unconfirmed(ws):
    """Kamailio's RLS answers 207's un-SUBSCRIBE (113) 200 OK and never sends the terminating NOTIFY
    (RFC 6665 section 4.2.2); the presence server confirmed the direct one at once (110)."""
    proc = ws.run(["-r", ws.capture(PRESENCE), "-Y", "siptrack.unsubscribe_unconfirmed"])
    if proc.returncode != 0 and "siptrack.unsubscribe_unconfirmed" in proc.stderr:
        pytest.skip("siptrack.unsubscribe_unconfirmed is not built yet (issue 11)")
    rows = ws.fields(PRESENCE, ["frame.number", "siptrack.subscription"],
                     dfilter="siptrack.unsubscribe_unconfirmed")
    assert [r[1] for r in rows] == ["1"], rows


def test_reboot_stale_flow(ws):
    """The new subscription (3, SUBSCRIBE 44 on tcp.stream 3) gets its first NOTIFY (46) on tcp.stream 2,
    the connection Kamailio had opened to the phone before its reboot; the RST (47) is about
    subscription 3; the next NOTIFY (55) opens tcp.stream 4 and is accepted."""
    rows = ws.fields(REBOOT, ["frame.number", "siptrack.subscription", "siptrack.kind", "tcp.stream",
                              "tcp.flags.reset"],
                     dfilter=" || ".join(f"frame.number == {n}" for n in (34, 44, 46, 47, 55, 57)),
                     two_pass=True)
    assert rows == [["34", "1", "unsubscribe", "0", "0"], ["44", "3", "initial", "3", "0"],
                    ["46", "3", "NOTIFY", "2", "0"], ["47", "3", "", "2", "1"],
                    ["55", "3", "NOTIFY", "4", "0"], ["57", "3", "response", "4", "0"]]


def test_power_loss_subscriptions(ws):
    """Subscription 1 (before the power cut) and 2 (after): 2's first NOTIFY (36) on the old server
    connection (tcp.stream 2), reset (37); 1's NOTIFY (44) on a new connection answered 481 (48)."""
    rows = ws.fields(POWER, ["frame.number", "siptrack.subscription", "siptrack.kind", "tcp.stream",
                             "sip.Status-Code"], dfilter="siptrack.subscription", two_pass=True)
    assert [r for r in rows if r[0] in ("18", "34", "36", "37", "44", "46", "48", "50")] == [
        ["18", "1", "initial", "0", ""], ["34", "2", "initial", "3", ""], ["36", "2", "NOTIFY", "2", ""],
        ["37", "2", "", "2", ""], ["44", "1", "NOTIFY", "4", ""], ["46", "2", "NOTIFY", "4", ""],
        ["48", "1", "response", "4", "481"], ["50", "2", "response", "4", "200"]]


def test_power_loss_481_names_its_own_outage(ws):
    # Was untrue ("subscription 1 had been broken for 4.0 s, since NOTIFY frame 36 was reset", 36 and its
    # RST being subscription 2's): subscription 1 was orphaned by the power cut (replaced by subscription 2,
    # same subscriber, resource and package) and the 481 is its end, linked to 2's SUBSCRIBE (34).
    rows = ws.fields(POWER, ["frame.number", "_ws.expert.message", "siptrack.caused_by"],
                     dfilter="siptrack.subscription_481_consequence")
    assert len(rows) == 1 and rows[0][0] == "48"
    assert "frame 36" not in rows[0][1] and "frame 37" not in rows[0][1], rows[0][1]
    assert "481 to NOTIFY frame 44: the subscriber no longer knows subscription 1 (last NOTIFY accepted: frame 23)" \
        in rows[0][1]
    assert rows[0][2] == "34"


def test_notify_rejected_subscription(ws):
    """The 488s (31, 37, 43) answer subscription 1's NOTIFYs; Kamailio keeps it active (the refresh, 45,
    gets 200 and the next NOTIFY, 48, is accepted)."""
    rows = ws.fields(REJECTED, ["frame.number", "siptrack.subscription", "siptrack.kind", "siptrack.state",
                                "sip.Status-Code"], dfilter="siptrack.subscription && ip.addr == 127.0.0.209",
                     two_pass=True)
    assert [r for r in rows if r[2] == "response" and r[4] != "200" or r[0] in ("45", "48")] == [
        ["31", "1", "response", "active", "488"], ["37", "1", "response", "active", "488"],
        ["43", "1", "response", "active", "488"], ["45", "1", "refresh", "active", ""],
        ["48", "1", "NOTIFY", "active", ""]]


def test_notify_rejected(ws):
    """siptrack.notify_rejected (issue 11), where built: on subscription 1's rejected NOTIFYs or their
    488s only."""
    proc = ws.run(["-r", ws.capture(REJECTED), "-Y", "siptrack.notify_rejected"])
    if proc.returncode != 0 and "siptrack.notify_rejected" in proc.stderr:
        pytest.skip("siptrack.notify_rejected is not built yet (issue 11)")
    for two_pass in (False, True):
        rows = ws.fields(REJECTED, ["frame.number", "siptrack.subscription"], dfilter="siptrack.notify_rejected",
                         two_pass=two_pass)
        assert rows and all(r[0] in ("30", "31", "36", "37", "42", "43") and r[1] == "1" for r in rows), rows


def test_call_blf_states(ws):
    """The states Kamailio's dialog module publishes for a call 206 -> 208 (ringing, answered, hung up),
    as the presence server NOTIFYs them to 207: caller Trying, early, confirmed, terminated; callee early,
    confirmed, terminated; one dialog id for both ends."""
    rows = ws.fields(CALL, ["frame.number", "siptrack.subscription", "dialoginfo.entity", "dialoginfo.version",
                            "dialoginfo.dialog.state", "dialoginfo.dialog.direction"],
                     dfilter="sip.Method == NOTIFY && dialoginfo.dialog", two_pass=True)
    s206, s208 = "sip:206@127.0.0.68", "sip:208@127.0.0.68"
    assert rows == [["50", "2", s206, "2", "Trying", "initiator"], ["52", "1", s208, "2", "early", "recipient"],
                    ["58", "2", s206, "3", "early", "initiator"], ["70", "2", s206, "4", "confirmed", "initiator"],
                    ["75", "1", s208, "3", "confirmed", "recipient"],
                    ["84", "2", s206, "5", "terminated", "initiator"],
                    ["89", "1", s208, "4", "terminated", "recipient"]]
    messages = ws.fields(CALL, ["frame.number", "_ws.expert.message"], dfilter="dialoginfo.unknown_value")
    trying = 'Dialog state "Trying" is not trying, proceeding, early, confirmed or terminated'
    assert [m[0] for m in messages] == ["36", "50"] and all(trying in m[1] for m in messages), messages


def test_register_lapse_fields(ws):
    """Asked 3600, granted 10 (the Contact's expires); refreshes every 5 s; the last comes 12.0 s after
    the previous one, a 2.0 s lapse."""
    rows = ws.fields(LAPSE, ["frame.number", "siptrack.register.kind", "siptrack.register.expires_asked",
                             "siptrack.register.expires_granted", "siptrack.register.lapse"],
                     dfilter="sip.Method == REGISTER", two_pass=True)
    assert [r[:4] for r in rows] == [["4", "registration", "3600", "10"], ["8", "refresh", "3600", "10"],
                                     ["11", "refresh", "3600", "10"], ["21", "refresh", "3600", "10"]]
    assert [r[4][:4] for r in rows] == ["", "", "", "2.00"]
    codes = ws.fields(LAPSE, ["frame.number", "sip.Status-Code"],
                      dfilter="sip.CSeq.method == MESSAGE && sip.Status-Code")
    assert codes == [["19", "404"], ["29", "200"], ["30", "200"]]


def test_register_backoff_fields(ws):
    """Nine copies of REGISTER CSeq 103 (the original, 11, and eight TCP retransmissions), each naming
    the original; the back-off doubles from the 0.2 s minimum RTO; the lapse is named on copy 7 (17);
    the registrar answers copy 9 (19) with 200 OK (20)."""
    rows = ws.fields(BACKOFF, ["frame.number", "siptrack.register.kind", "siptrack.register.copy",
                               "siptrack.register.original", "siptrack.register.lapse",
                               "siptrack.register.backoff"], dfilter="siptrack.register", two_pass=True)
    copies = [r for r in rows if r[2]]
    assert [r[0] for r in copies] == [str(f) for f in (4, 8) + tuple(range(11, 20))]
    assert [(r[2], r[3]) for r in copies[2:]] == [("1", "")] + [(str(n), "11") for n in range(2, 10)]
    assert [r[0] for r in rows if r[4]] == ["17"] and rows[[r[0] for r in rows].index("17")][4].startswith("1.")
    backoff = [float(x) for x in copies[2][5].split(",")]
    assert len(backoff) == 8 and 0.19 < backoff[0] < 0.3
    assert all(1.8 < b / a < 2.2 for a, b in zip(backoff[1:], backoff[2:])), backoff
    assert ws.fields(BACKOFF, ["frame.number", "sip.Status-Code"], dfilter="sip.Status-Code")[-1] == ["20", "200"]


def test_register_backoff_past_grace(ws):
    """The lapse is named on copy 7 (17), 1.9 s after the expiry: Kamailio (its 200 OK's Server) keeps no
    grace. Copies 8 and 9 are its consequences (siptrack.caused_by 17), and the time until the registrar
    took the refresh, 21.8 s after the expiry, is on every copy and on the 200 OK (20) as
    siptrack.register.expired_for. (Before issue 11 the lapse said 'within the 15 s grace', CUCM's.)"""
    rows = ws.fields(BACKOFF, ["frame.number", "_ws.expert.message"], dfilter="siptrack.registration_lapsed",
                     two_pass=True)
    assert [r[0] for r in rows] == ["17"]
    # _ws.expert.message lists the frame's messages (TCP's, the retransmission note, the lapse) by commas.
    assert rows[0][1].endswith(",Registration lapsed: copy 7 of refresh CSeq 103 sent 1.854 s after the expiry; "
                               "registrar kamailio (lab) allows no grace, likely dropped it"), rows
    assert ws.fields(BACKOFF, ["frame.number", "siptrack.caused_by"], dfilter="siptrack.caused_by",
                     two_pass=True) == [["18", "17"], ["19", "17"]]
    gone = ws.fields(BACKOFF, ["frame.number", "siptrack.register.expired_for"],
                     dfilter="siptrack.register.expired_for", two_pass=True)
    assert [r[0] for r in gone] == [str(f) for f in range(11, 21)]
    assert {r[1] for r in gone} == {"21.823070000"}


def test_outbound_crlf_fields(ws):
    """Each ping has its pong; the Flow-Timer 5 of Kamailio's 200 OK is the one the pings are held to."""
    rows = ws.fields(OUTBOUND, ["frame.number", "siptrack.crlf.type", "siptrack.crlf.flow_timer",
                                "siptrack.crlf.pong_in", "siptrack.crlf.ping_in"], dfilter="siptrack.crlf",
                     two_pass=True)
    assert rows == [["8", "ping", "5", "9", ""], ["9", "pong", "", "", "8"], ["11", "ping", "5", "12", ""],
                    ["12", "pong", "", "", "11"], ["17", "ping", "5", "18", ""], ["18", "pong", "", "", "17"]]


def test_msrp_relay_sends_answered(ws):
    """Every SEND has its 200 OK linked (the relay answers each hop), so nothing says unanswered."""
    rows = ws.fields(MSRP, ["frame.number", "msrpa.response_in"], dfilter="msrp.method == SEND", two_pass=True)
    assert len(rows) == 8 and all(r[1] for r in rows), rows


def test_msrp_relay_both_active_is_no_problem(ws):
    # Both a=path lists start with the relay (msrp://127.0.0.68:2855/...): each client connects to its
    # relay as RFC 4976 requires, so both active is no fault (it was msrpa.both_active on 37 and 39).
    for two_pass in (False, True):
        assert findings(ws, MSRP, two_pass=two_pass) == {}
    rows = ws.fields(MSRP, ["frame.number", "msrpa.connection_model"], dfilter="msrpa.connection_model")
    assert rows == [["37", "4"], ["39", "4"]]  # the model is still shown: both active


# --- rerun the lab -------------------------------------------------------------------------------

def _lab_unavailable():
    path = "/usr/sbin:/sbin:" + os.environ.get("PATH", "/usr/bin:/bin")
    for tool in ("kamailio", "dumpcap", "unshare", "nsenter", "ip"):
        if not shutil.which(tool, path=path):
            return f"{tool} is not installed (./sipsleuth test installs the lab's packages)"
    cmd = ["unshare", "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"]) + ["true"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return "cannot create a network namespace here (%s): %s" % (" ".join(cmd), proc.stderr.strip())
    return None


def _kinds(ws, capture):
    """({expert field: count} of warnings and errors, {expert field} of notes and chats) with -2."""
    counts, seen = collections.Counter(), set()
    for items in findings(ws, capture, two_pass=True, chats=True).values():
        for field, severity in items:
            if severity in ("warning", "error"):
                counts[field] += 1
            else:
                seen.add(field)
    return dict(counts), seen


def test_lab_rerun(ws, staged):
    """A fresh run of the whole lab gives the same findings as the committed captures: the same warnings and
    errors, field and count, and the same kinds of notes and chats (their counts follow the server's
    timers: an RLS or presence NOTIFY more or less under load). The captures are what the recipe makes,
    not a lucky run."""
    why = _lab_unavailable()
    if why:
        pytest.skip(why)
    out = os.path.join(staged, "captures", "real-fresh")
    os.makedirs(out, mode=0o755, exist_ok=True)
    proc = subprocess.run([sys.executable, LAB, "--out", out], capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in os.listdir(out):
        os.chmod(os.path.join(out, name), 0o644)
    for capture in ALL:
        fresh = capture.replace("real/", "real-fresh/")
        assert os.path.exists(ws.capture(fresh)), proc.stdout[-3000:]
        got, want = _kinds(ws, fresh), _kinds(ws, capture)
        assert got == want, f"{capture}: fresh {got} != committed {want}"
