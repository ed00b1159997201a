# SPDX-License-Identifier: GPL-2.0-or-later
"""Real third-party SIP and SCCP captures (../shared/captures-found, see its README): with every
sipsleuth plugin loaded, nothing crashes, nothing reports a dissector bug or an internal error, and no
sipsleuth finding fires (none of them carries a Cisco alarm). Skipped where that folder is absent,
as in a user's clone.
"""
import os

import pytest

from conftest import FOUND

CAPTURES = sorted(f for f in os.listdir(FOUND) if f.endswith((".pcap", ".pcapng"))) if os.path.isdir(FOUND) else []
SIPSLEUTH = "ciscoalarm"


@pytest.mark.skipif(not CAPTURES, reason="../shared/captures-found is not present")
@pytest.mark.parametrize("capture", CAPTURES)
def test_found_capture_is_quiet(ws, capture):
    path = os.path.join(ws.stage, "found", capture)
    for args in (["-r", path, "-V"], ["-r", path, "-2", "-V"]):
        proc = ws.run(args, timeout=300)
        assert proc.returncode == 0, proc.stderr
    proc = ws.run(["-r", path, "-Y", SIPSLEUTH, "-T", "fields", "-e", "frame.number"])
    assert proc.stdout == ""


def test_found_sip_over_tcp_keeps_sip_fields(ws, plain):
    # The plugins add fields; they must not take any away (same SIP output with and without them).
    if "sipnab__sip-over-tcp.pcap" not in CAPTURES:
        pytest.skip("capture not present")
    args = ["-r", os.path.join(ws.stage, "found", "sipnab__sip-over-tcp.pcap"), "-Y", "sip", "-T", "fields",
            "-e", "frame.number", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID"]
    with_plugins, without = ws.run(args), plain.run(args)
    assert with_plugins.stdout == without.stdout
    assert len(with_plugins.stdout.splitlines()) == 7
