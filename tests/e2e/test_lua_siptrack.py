# SPDX-License-Identifier: GPL-2.0-or-later
"""The Lua siptrack (lua-compat/sipsleuth, siptrack_ws) on its own, with no compiled plugin loaded: field
case 000 (the stale-flow NOTIFY as the one error, the RST and the recovery as its consequence notes with
their links and Info tags; pcom310's unanswered NOTIFY) and field case 004 (the 8961's two lapses, the
SCCP KeepAlive left unacknowledged) with exact messages, one pass and -2, and the healthy twins without a
warning. The parity with the compiled plugin on every capture is tests/e2e/test_lua_parity.py's job;
this test holds the Lua side to the values an analyst reads even where both would change together.

-2 runs give a display filter (`-Y frame`): tshark's first pass builds no tree for a Lua post-dissector
otherwise (lua-compat/README.md)."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
sys.path.insert(0, HERE)
import wsrun  # noqa: E402
from conftest import expert_table  # noqa: E402


@pytest.fixture(scope="module")
def lua():
    """tshark with only the Lua plugins (SIPSLEUTH_LUA_FORCE=1: no compiled sipsleuth to step aside for)."""
    home = wsrun.make_home()
    plugins = os.path.join(home, ".local", "lib", "wireshark", "plugins")
    os.makedirs(plugins)
    wsrun.stage_tree(os.path.join(ROOT, "lua-compat", "sipsleuth"), os.path.join(plugins, "sipsleuth"))
    wsrun.stage_tree(os.path.join(ROOT, "captures"), os.path.join(home, "captures"))
    for base, _dirs, _files in os.walk(home):
        os.chmod(base, 0o755)

    def run(args):
        cmd, env = wsrun.command(["tshark", "-n"] + args, None, home)
        if env is None:  # root: setpriv ... env K=V ... tshark
            cmd.insert(cmd.index("env") + 1, "SIPSLEUTH_LUA_FORCE=1")
        else:
            env["SIPSLEUTH_LUA_FORCE"] = "1"
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace", timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "Lua Error" not in proc.stdout and "Lua: Error" not in proc.stderr, proc.stdout + proc.stderr
        assert "Internal error in sipsleuth" not in proc.stdout, proc.stdout
        return proc.stdout

    run.capture = lambda name: os.path.join(home, "captures", name)
    yield run
    shutil.rmtree(home, ignore_errors=True)


def experts(lua, capture, two_pass):
    out = lua(["-r", lua.capture(capture), "-q", "-z", "expert"] + (["-2", "-Y", "frame"] if two_pass else []))
    # Lua upper-cases a protocol's short name (Proto.new): the compiled plugin's SIPTrack is SIPTRACK here.
    return expert_table(out, "SIPTRACK")


def serious(table):
    return {k: v for k, v in table.items() if k[0] in ("Errors", "Warns")}


STALE = ("NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic here 40.3 s "
         "earlier); use tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034")
LAPSE = ("Registration lapsed: copy 2 of refresh CSeq {} sent 23.015 s after the expiry, past the 15 s grace; 8 "
         "REGISTERs in a row retransmitted; the registrar likely dropped the device")

EXPECTED = {
    ("siptrack_sub_polycom_repro.pcap", False): {("Errors", "Sequence", STALE): 1},
    ("siptrack_sub_polycom_repro.pcap", True): {("Errors", "Sequence", STALE): 1},
    ("siptrack_sub_pcom310.pcap", False): {
        ("Errors", "Sequence", "NOTIFY frame 27 (subscription 2, tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1025) "
                               "got no response within 32.0 s (Timer F)"): 1},
    # On revisits the unanswered NOTIFY is named on the NOTIFY itself (the write-back).
    ("siptrack_sub_pcom310.pcap", True): {
        ("Errors", "Sequence", "No response to this NOTIFY within 32.0 s (Timer F): subscription 2 is broken"): 1},
    ("siptrack_ka_8961_cycle.pcap", False): {("Warns", "Sequence", LAPSE.format(111)): 1,
                                             ("Warns", "Sequence", LAPSE.format(123)): 1},
    ("siptrack_ka_8961_cycle.pcap", True): {("Warns", "Sequence", LAPSE.format(111)): 1,
                                            ("Warns", "Sequence", LAPSE.format(123)): 1},
    ("siptrack_ka_sccp_failover.pcap", False): {
        ("Warns", "Sequence", "SCCP KeepAlive of frame 30 not acknowledged by 10.10.10.202:2000 within 30 s; 1 in a "
                              "row"): 1},
    ("siptrack_ka_sccp_failover.pcap", True): {
        ("Warns", "Sequence", "SCCP KeepAlive not acknowledged by 10.10.10.202:2000 within 30 s (known in frame 34); "
                              "1 in a row"): 1},
}


@pytest.mark.parametrize("capture,two_pass", sorted(EXPECTED), ids=lambda v: str(v))
def test_field_case_findings(lua, capture, two_pass):
    assert serious(experts(lua, capture, two_pass)) == EXPECTED[(capture, two_pass)]


def test_field_case_000_consequences_are_notes_with_links(lua):
    notes = {k[2]: v for k, v in experts(lua, "siptrack_sub_polycom_repro.pcap", False).items() if k[0] == "Notes"}
    assert notes == {
        "Subscription 1 terminated: reason timeout": 1,
        "New connection tcp.stream 1 from the subscriber 40.0 s after its un-SUBSCRIBE (frame 20) on tcp.stream 0 "
        "10.1.1.171:1033 -> 10.1.1.68:5060, which it never closed": 1,
        "RST from the subscriber on tcp.stream 0, 0.8 ms after NOTIFY frame 39 (subscription 2): the NOTIFY is lost": 1,
        "Subscription 2 recovered: NOTIFY frame 51 accepted 1800.0 s (30.0 min) after NOTIFY frame 39 was reset by "
        "the subscriber (RST in frame 40)": 1,
    }
    out = lua(["-r", lua.capture("siptrack_sub_polycom_repro.pcap"), "-T", "fields", "-e", "frame.number",
               "-e", "siptrack.caused_by", "-e", "siptrack.last_traffic_frame", "-e", "siptrack.new_flow_frame",
               "-e", "_ws.col.Info", "-Y", "siptrack.caused_by or siptrack.notify_on_stale_flow"])
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1], r[2], r[3], r[4][r[4].index(" [SIPTrack"):]) for r in rows] == [
        ("39", "", "26", "31", " [SIPTrack: NOTIFY on stale flow]"),
        ("40", "39", "", "", " [SIPTrack: NOTIFY reset]"),
        ("53", "39", "", "", " [SIPTrack: subscription recovered]"),
    ]


@pytest.mark.parametrize("capture", ["siptrack_ka_8961_healthy.pcap", "siptrack_ka_sccp_healthy.pcap",
                                     "siptrack_sub_fresh_connection.pcap", "siptrack_sub_long_refresh.pcap",
                                     "siptrack_ka_crlf_healthy.pcap", "siptrack_sub_unsubscribe_confirmed.pcap"])
@pytest.mark.parametrize("two_pass", [False, True])
def test_healthy_twins_raise_no_warning(lua, capture, two_pass):
    assert serious(experts(lua, capture, two_pass)) == {}
