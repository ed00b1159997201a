# SPDX-License-Identifier: GPL-2.0-or-later
"""All six plugins loaded together, on every capture in captures/: a capture made for one plugin may
raise warnings and errors from that plugin only (its own tests say which), never from another one
(a dialog-info NOTIFY story must not make siptrack or mssip cry wolf, an MSRP chat must not make
siptrack see a lost NOTIFY), in one pass and with -2. dialog-info and RLMI bodies travel together."""
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
