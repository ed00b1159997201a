# SPDX-License-Identifier: GPL-2.0-or-later
"""All six plugins loaded together, on every capture in captures/: a capture made for one plugin may
raise warnings and errors from that plugin only (its own tests say which), never from another one
(a dialog-info NOTIFY story must not make siptrack or mssip cry wolf, an MSRP chat must not make
siptrack see a lost NOTIFY), in one pass and with -2. dialog-info and RLMI bodies travel together.
The six protocols share one shared object, sipsleuth.so; each is still disabled on its own."""
import os
import re

import pytest

from conftest import ROOT

CAPTURES = sorted(f for f in os.listdir(os.path.join(ROOT, "captures")) if f.endswith(".pcap"))
SHORT = {"ciscoalarm": "CiscoAlarm", "dialoginfo": "DialogInfo", "rlmi": "RLMI", "mssip": "MSSIP",
         "msrpa": "MSRPA", "siptrack": "SIPTrack"}
OWNERS = {"ciscoalarm": {"CiscoAlarm"}, "dialoginfo": {"DialogInfo", "RLMI"}, "rlmi": {"RLMI", "DialogInfo"},
          "mssip": {"MSSIP"}, "msrpa": {"MSRPA"}, "siptrack": {"SIPTrack"},
          "siplayer": {"SIPTrack", "MSSIP"}}  # issue 15: SIP transactions and dialogs (siptrack, mssip)


def test_every_plugin_is_loaded(ws):
    out = ws.run(["-G", "protocols"]).stdout
    filters = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    assert set(SHORT) <= filters


@pytest.mark.parametrize("two_pass", [[], ["-2"]], ids=["one-pass", "two-pass"])
@pytest.mark.parametrize("capture", CAPTURES)
def test_no_finding_from_another_plugin(ws, capture, two_pass):
    owners = OWNERS[capture.split("_")[0]]
    proc = ws.run(["-r", ws.capture(capture), "-q", "-z", "expert,warn"] + two_pass)
    assert proc.returncode == 0, proc.stderr
    others = set(SHORT.values()) - owners
    foreign = [line for line in proc.stdout.splitlines()
               if re.match(r"^\s+\d+\s+\S+\s+(\S+)\s", line) and re.match(r"^\s+\d+\s+\S+\s+(\S+)\s", line).group(1) in others]
    assert foreign == [], "\n".join(foreign)


def test_one_shared_object(ws):
    rows = [line.split() for line in ws.run(["-G", "plugins"]).stdout.splitlines()]
    ours = [row[0] for row in rows if row and row[-1].startswith(ws.plugin_dir)]
    assert ours == ["sipsleuth.so"]


# For each protocol, a capture where it and another of ours both show something.
DISABLE = {"ciscoalarm": "ciscoalarm_cid_mismatch.pcap", "dialoginfo": "dialoginfo_bad_sequence.pcap",
           "rlmi": "rlmi_bad_missing_attributes.pcap", "mssip": "msrpa_field_case_both_active.pcap",
           "msrpa": "msrpa_field_case_both_active.pcap", "siptrack": "siptrack_sub_lifecycle.pcap"}


def ours_seen(ws, capture, extra):
    """Our expert rows (count, group, protocol, summary) and, per protocol of ours, the frames it is in
    (a protocol as a field prints its item's text, never empty)."""
    args = ["-r", ws.capture(capture), "-T", "fields", "-E", "occurrence=f", "-e", "frame.number"]
    for p in SHORT:
        args += ["-e", p]
    proc = ws.run(args + ["-z", "expert"] + extra)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    experts = sorted(tuple(line.split(None, 3)) for line in lines
                     if re.match(r"^\s+\d+\s+\S+\s+\S+\s", line) and line.split()[2] in SHORT.values())
    rows = [line.split("\t") for line in lines if re.match(r"^\d+\t", line)]
    assert rows, proc.stdout
    frames = {p: [row[0] for row in rows if row[1 + i]] for i, p in enumerate(SHORT)}
    return experts, frames


@pytest.mark.parametrize("protocol", sorted(DISABLE))
def test_disabling_one_protocol_leaves_the_others(ws, protocol):
    experts, frames = ours_seen(ws, DISABLE[protocol], [])
    assert frames[protocol] and any(frames[p] for p in SHORT if p != protocol)
    off_experts, off_frames = ours_seen(ws, DISABLE[protocol], ["--disable-protocol", protocol])
    assert off_experts == [row for row in experts if row[2] != SHORT[protocol]]
    assert off_frames == dict(frames, **{protocol: []})
