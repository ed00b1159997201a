# SPDX-License-Identifier: GPL-2.0-or-later
"""The real Wireshark GUI under Xvfb, as an unprivileged user, with our plugins and the sipsleuth
configuration profile (issue 13), driven by docs/screenshots/gui.py (the script that makes the docs'
pictures): it opens field case 000's capture with `-C sipsleuth` and checks, without looking at
pixels, that the main window's title is "CAPTURE [sipsleuth]" (the profile's gui.window_title), that
the Lua probe loaded with `-X lua_script:` saw our plugins' fields, frames dissected by siptrack and the
profile's preferences, that no other window (an error dialog) opened, and that a screenshot of the
main window was written. Its twin installs a copy of the profile whose filter buttons file has a line
cut short: Wireshark then opens an "Error loading table" dialog, and the check must say so. (A colouring
rule that does not compile opens no dialog: the GUI drops it silently; test_profile.py catches that
with tshark --color.)

Skipped when Xvfb, wireshark, xdotool or ImageMagick's import are missing (./sipsleuth test installs
them). About 25 s per Wireshark start.
"""
import os
import shutil
import struct
import sys
import tempfile

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "docs", "screenshots"))
import gui  # noqa: E402

REPRO = os.path.join(ROOT, "captures", "siptrack_sub_polycom_repro.pcap")
TOOLS = ["Xvfb", "wireshark", "xdotool", "import"]


@pytest.fixture(scope="module")
def plugin_dir():
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: cannot run the GUI (./sipsleuth test installs them)")
    plugins = os.environ.get("SIPSLEUTH_PLUGIN_DIR", os.path.join(ROOT, "build", "plugins"))
    if not os.path.isdir(os.path.join(plugins, "4.0", "epan")):
        pytest.fail(f"no plugins built in {plugins}/4.0/epan: build first")
    try:
        gui.Xvfb().stop()
    except gui.GuiError as e:
        pytest.skip(f"no X display can be made: {e}")
    return plugins


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_wireshark_starts_with_plugins_and_profile(plugin_dir):
    out = tempfile.mkdtemp(prefix="sipsleuth-gui-out-")
    try:
        assert gui.check(plugin_dir, [REPRO], out, profile=True) == []
        # The main window's picture, and no picture of another window.
        assert sorted(os.listdir(out)) == ["siptrack_sub_polycom_repro.pcap.png"]
        assert png_size(os.path.join(out, "siptrack_sub_polycom_repro.pcap.png")) == gui.WIDE
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_a_broken_profile_shows_a_dialog_and_fails_the_check(plugin_dir):
    copy = tempfile.mkdtemp(prefix="sipsleuth-profile-copy-")
    out = tempfile.mkdtemp(prefix="sipsleuth-gui-out-")
    try:
        shutil.copytree(os.path.join(ROOT, "profile"), os.path.join(copy, "profile"))
        with open(os.path.join(copy, "profile", "sipsleuth", "dfilter_buttons"), "a") as f:
            f.write('"TRUE","Broken","siptrack.subscription ==\n')
        failures = gui.check(plugin_dir, [REPRO], out, profile=os.path.join(copy, "profile", "install.sh"))
        assert failures, "a colouring rule that does not compile went unnoticed"
        assert all(f.startswith("siptrack_sub_polycom_repro.pcap: ") for f in failures), failures
        assert any("but 'Wireshark' (an error dialog?)" in f for f in failures), failures
        assert "siptrack_sub_polycom_repro.pcap.unexpected-1.png" in os.listdir(out)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
