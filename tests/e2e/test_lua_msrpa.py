# SPDX-License-Identifier: GPL-2.0-or-later
"""msrpa in Lua (lua-compat, issue 12) end to end: with only the Lua plugins installed (no sipsleuth.so,
lua-compat/sipsleuth in the personal Lua plugins folder of the run's HOME, as an analyst installs it),
tshark registers msrpa's fields, expert fields and preferences exactly as the compiled plugin does, and
on the msrpa captures (field case 001, its two healthy twins, the bad input) every msrpa field and
expert message of every frame equals the compiled plugin's, one pass and -2, with the field case's
incident checked value by value (so two empty outputs cannot pass).

tshark -2 gets `-Y frame`: tshark's first pass builds no protocol tree without a filter, and a Lua
post-dissector (unlike the compiled one, which declares its wanted fields) then reads nothing
(lua-compat/README.md, "What msrpa leaves out").
"""
import os
import shutil

import pytest

from conftest import ROOT, Wireshark, wsrun

CAPTURES = ["msrpa_field_case_both_active.pcap", "msrpa_rfc4975_chat.pcap", "msrpa_comedia_chat.pcap",
            "msrpa_bad_input.pcap", "msrpa_protocol_violations.pcap"]
CAUSE = "; caused by both ends active (frame 7)"
BOTH_ACTIVE = ("Offer and answer both say a=setup:active (RFC 6135 ACM): both ends connect and neither listens, "
               "which works only through a relay that splices the two TCP connections")
OTHER_LEG = ("Both ends a=setup:active on this leg too: the same MSRP session (a=path session ids) as the answer in "
             "frame 7, where it is reported")
BIND_TIMEOUT = ("MSRP session 8e943e31a8e49a6597f0 of 10.201.1.99:49838 (SDP in frame 7) got no SEND in 10 s "
                "(10.050 s elapsed): 2 SENDs to it neither acknowledged nor answered" + CAUSE)
# Expert messages of the other protocols in these captures (TCP analysis, SDP): not ours.
OTHERS = ("This frame ", "Connection establish", "Connection finish", "Connection reset",
          "Duplicate ACK", "Invalid SDP line", "Previous segment", "ACKed segment", "The acknowledgment")


@pytest.fixture(scope="module")
def lua(staged):
    """tshark with no .so and lua-compat/sipsleuth as the personal Lua plugins."""
    empty = os.path.join(staged, "no-plugins")
    os.makedirs(empty, mode=0o755, exist_ok=True)
    wireshark = Wireshark(staged, empty)
    plugins = os.path.join(wireshark.home, ".local", "lib", "wireshark", "plugins")
    os.makedirs(plugins)
    for base in (os.path.join(wireshark.home, ".local"), os.path.join(wireshark.home, ".local", "lib"),
                 os.path.dirname(plugins), plugins):
        os.chmod(base, 0o755)
    wsrun.stage_tree(os.path.join(ROOT, "lua-compat", "sipsleuth"), os.path.join(plugins, "sipsleuth"))
    yield wireshark
    shutil.rmtree(wireshark.home, ignore_errors=True)


def registered(wireshark, what):
    """Rows of tshark -G <what> that belong to msrpa."""
    # Not Wireshark.run: `-G fields` lists a field named "Dissector bug", which run() rejects.
    rows = wsrun.run(["tshark", "-G", what], wireshark.plugin_dir, wireshark.home).stdout.splitlines()
    return sorted(r for r in rows if "\tmsrpa." in r or r.endswith("\tmsrpa") or r.startswith("#msrpa."))


@pytest.mark.parametrize("what", ["fields", "values", "defaultprefs"])
def test_registration_equals_compiled(ws, lua, what):
    mine = registered(lua, what)
    assert mine == registered(ws, what)
    assert len(mine) >= {"fields": 52, "values": 6, "defaultprefs": 4}[what]


def test_loaded_without_lua_error(lua):
    proc = lua.run(["-r", lua.capture(CAPTURES[0]), "-V"])
    assert proc.returncode == 0, proc.stderr
    assert "Lua" not in proc.stderr, proc.stderr
    assert "MSRP session analysis\tMSRPA\tmsrpa" in lua.run(["-G", "protocols"]).stdout.splitlines()


def msrpa_fields(ws):
    return [r.split("\t")[2] for r in registered(ws, "fields") if "\tFT_NONE\t" not in r]


def per_frame(wireshark, capture, fields, two_pass):
    """{frame: (values of every msrpa field, msrpa's expert messages, Info)} for every frame."""
    rows = wireshark.fields(capture, ["frame.number", "_ws.col.Info", "_ws.expert.message"] + fields,
                            dfilter="frame" if two_pass else None, two_pass=two_pass,
                            extra=["-E", "aggregator=\x1f"])
    out = {}
    for r in rows:
        experts = tuple(m for m in r[2].split("\x1f") if m and not m.startswith(OTHERS))
        out[int(r[0])] = (tuple(r[3:]), experts, r[1])
    return out


@pytest.mark.parametrize("two_pass", [False, True], ids=["1pass", "2pass"])
@pytest.mark.parametrize("capture", CAPTURES)
def test_same_as_compiled(ws, lua, capture, two_pass):
    fields = msrpa_fields(ws)
    compiled = per_frame(ws, capture, fields, two_pass)
    mine = per_frame(lua, capture, fields, two_pass)
    assert sorted(mine) == sorted(compiled)
    differ = {f: (compiled[f], mine[f]) for f in compiled if compiled[f] != mine[f]}
    assert not differ, differ
    assert any(v[0] != ("",) * len(fields) for v in mine.values()), "no msrpa field at all"
    if capture == CAPTURES[0]:
        assert mine[7][0][fields.index("msrpa.connection_model")] == "4"
        assert mine[8][0][fields.index("msrpa.caused_by")] == "7"
        assert mine[7][1] == ((BOTH_ACTIVE, BIND_TIMEOUT) if two_pass else (BOTH_ACTIVE,))
        assert mine[8][1] == (OTHER_LEG,)
        assert BIND_TIMEOUT in mine[67][1]
        assert mine[7][2].endswith(" [MSRPA: both ends a=setup:active" +
                                   (", session never bound]" if two_pass else "]"))
    if capture in CAPTURES[1:3]:
        assert all(not v[1] for v in mine.values()), "a healthy twin has no msrpa finding"
        assert any(v[0][fields.index("msrpa.response_in")] for v in mine.values()) == two_pass
