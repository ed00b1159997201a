# SPDX-License-Identifier: GPL-2.0-or-later
"""Real third-party SIP and SCCP captures (../shared/captures-found, see its README): with every
sipsleuth plugin loaded, nothing crashes, nothing reports a dissector bug or an internal error, and no
sipsleuth finding of warning or error severity fires (none of these captures shows a fault we name).
Plugins that legitimately add notes to real traffic check those in their own test files. Skipped where
that folder is absent, as in a user's clone.
"""
import os

import pytest

from conftest import FOUND, PROTOCOLS

CAPTURES = sorted(f for f in os.listdir(FOUND) if f.endswith((".pcap", ".pcapng"))) if os.path.isdir(FOUND) else []


def loaded(ws):
    out = ws.run(["-G", "protocols"]).stdout
    filters = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    return [p for p in PROTOCOLS if p in filters]


@pytest.mark.skipif(not CAPTURES, reason="../shared/captures-found is not present")
@pytest.mark.parametrize("capture", CAPTURES)
def test_found_capture_is_quiet(ws, capture):
    path = os.path.join(ws.stage, "found", capture)
    for args in (["-r", path, "-V"], ["-r", path, "-2", "-V"]):
        proc = ws.run(args, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "Malformed Packet" not in "".join(
            line for line in proc.stdout.splitlines(True)
            if any(p in line for p in PROTOCOLS.values()) or any(p + "." in line for p in PROTOCOLS))
    # None of these carries a Cisco alarm body.
    proc = ws.run(["-r", path, "-Y", "ciscoalarm", "-T", "fields", "-e", "frame.number"])
    assert proc.stdout == ""
    protocols = loaded(ws)
    assert "ciscoalarm" in protocols
    for pass_args in ([], ["-2"]):
        proc = ws.run(["-r", path, "-q", "-z", "expert,warn"] + pass_args, timeout=300)
        assert proc.returncode == 0, proc.stderr
        ours = [line for line in proc.stdout.splitlines()
                if any(f" {PROTOCOLS[p]} " in line for p in protocols)]
        assert ours == [], "\n".join(ours)


def test_found_sip_over_tcp_keeps_sip_fields(ws, plain):
    # The plugins add fields; they must not take any away (same SIP output with and without them).
    if "sipnab__sip-over-tcp.pcap" not in CAPTURES:
        pytest.skip("capture not present")
    args = ["-r", os.path.join(ws.stage, "found", "sipnab__sip-over-tcp.pcap"), "-Y", "sip", "-T", "fields",
            "-e", "frame.number", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID"]
    with_plugins, without = ws.run(args), plain.run(args)
    assert with_plugins.stdout == without.stdout
    assert len(with_plugins.stdout.splitlines()) == 7
