# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest fixtures for the e2e tests: the real tshark 4.0 with the freshly built plugins.

Plugins and captures are staged into a world-readable temporary folder, because as root the tests run
tshark as nobody (Wireshark 4.0 loads no WIRESHARK_PLUGIN_DIR plugins for root) and the checkout may
live under a folder nobody cannot read. TZ=UTC and an empty HOME keep the output reproducible.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import wsrun  # noqa: E402

FOUND = os.path.join(os.path.dirname(ROOT), "shared", "captures-found")
# More public captures (see each folder's README), staged as public/ and public2/ when present.
PUBLIC = os.path.join(os.path.dirname(ROOT), "shared", "captures-public")
PUBLIC2 = os.path.join(os.path.dirname(ROOT), "shared", "captures-public2")
# Every folder of shared captures with its staged name; absent folders (a user's clone) are skipped.
SHARED = {"found": FOUND, "public": PUBLIC, "public2": PUBLIC2}
# Every sipsleuth protocol, by filter name and by the short name `-z expert` prints.
PROTOCOLS = {"ciscoalarm": "CiscoAlarm", "dialoginfo": "DialogInfo", "rlmi": "RLMI", "mssip": "MSSIP",
             "msrpa": "MSRPA", "siptrack": "SIPTrack"}
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
# Shared captures whose SIP Wireshark finds only when told where it is.
DECODE_AS = {"public2/heplify__sip_ipv4_tcp_fragmented.pcap": ["-d", "tcp.port==6060,sip"]}


def capture_list(subfolders=False):
    """(staged folder, file name) of every capture: captures/ first (with subfolders such as captures/real/
    when asked, named "real/x.pcap"), then each shared folder present."""
    top = os.path.join(ROOT, "captures")
    if subfolders:
        found = sorted(("captures", os.path.relpath(os.path.join(base, f), top))
                       for base, _dirs, files in os.walk(top) for f in files if f.endswith(CAPTURE_SUFFIXES))
    else:
        found = [("captures", f) for f in sorted(os.listdir(top)) if f.endswith(CAPTURE_SUFFIXES)]
    for staged_name, folder in SHARED.items():
        if os.path.isdir(folder):
            found += [(staged_name, f) for f in sorted(os.listdir(folder)) if f.endswith(CAPTURE_SUFFIXES)]
    return found


def expert_table(text, protocol):
    """{(severity, group, summary): count} of one protocol (its short name) in `-z expert` output."""
    found, severity = {}, None
    for line in text.splitlines():
        head = re.match(r"^(Errors|Warns|Notes|Chats|Comments) \(\d+\)$", line)
        if head:
            severity = head.group(1)
            continue
        row = re.match(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if row and severity and row.group(3) == protocol:
            key = (severity, row.group(2), row.group(4))
            found[key] = found.get(key, 0) + int(row.group(1))
    return found


class Wireshark:
    """tshark with our plugins (plugin_dir) or without (plugin_dir=None), on staged captures."""

    def __init__(self, stage, plugin_dir):
        self.stage = stage
        self.plugin_dir = plugin_dir
        self.home = wsrun.make_home()

    def capture(self, name):
        return os.path.join(self.stage, "captures", name)

    def run(self, args, timeout=120):
        started = time.monotonic()
        # -G must come first; everything else runs without name resolution.
        argv = ["tshark"] + (args if args[:1] == ["-G"] else ["-n"] + args)
        proc = wsrun.run(argv, self.plugin_dir, self.home, timeout=timeout)
        proc.elapsed = time.monotonic() - started
        assert "Dissector bug" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert "Internal error in sipsleuth" not in proc.stdout, proc.stdout
        return proc

    def fields(self, capture, fields, dfilter=None, two_pass=False, extra=()):
        """Rows of `-T fields` with all occurrences, as lists of strings (header row dropped)."""
        args = ["-r", self.capture(capture), "-T", "fields", "-E", "header=y", "-E", "occurrence=a",
                "-E", "separator=/t"]
        if two_pass:
            args.append("-2")
        if dfilter:
            args += ["-Y", dfilter]
        for f in fields:
            args += ["-e", f]
        proc = self.run(args + list(extra))
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines and lines[0] == "\t".join(fields), proc.stdout + proc.stderr
        return [line.split("\t") for line in lines[1:]]

    def sip_layers(self, capture, extra=()):
        """Every frame's SIP tree (-T json -J sip), duplicate keys kept; other protocols left out."""
        proc = self.run(["-r", self.capture(capture), "-T", "json", "-J", "sip", *extra])
        assert proc.returncode == 0, proc.stderr
        packets = json.loads(proc.stdout, object_pairs_hook=list)
        return [[kv for kv in dict(dict(p)["_source"])["layers"] if kv[0] == "sip"] for p in packets]

    def experts(self, capture, protocol, two_pass=False):
        """{(severity, group, summary): count} of `-z expert` for one protocol (its short name)."""
        args = ["-r", self.capture(capture), "-q", "-z", "expert"]
        if two_pass:
            args.append("-2")
        proc = self.run(args)
        assert proc.returncode == 0, proc.stderr
        return expert_table(proc.stdout, protocol)


@pytest.fixture(scope="session")
def staged():
    plugin_dir = os.environ.get("SIPSLEUTH_PLUGIN_DIR", os.path.join(ROOT, "build", "plugins"))
    if not os.path.isdir(os.path.join(plugin_dir, "4.0", "epan")):
        pytest.fail(f"no plugins built in {plugin_dir}/4.0/epan: build first")
    stage = tempfile.mkdtemp(prefix="sipsleuth-e2e-")
    os.chmod(stage, 0o755)
    wsrun.stage_tree(plugin_dir, os.path.join(stage, "plugins"))
    wsrun.stage_tree(os.path.join(ROOT, "captures"), os.path.join(stage, "captures"))
    for staged_name, folder in SHARED.items():
        if os.path.isdir(folder):
            wsrun.stage_tree(folder, os.path.join(stage, staged_name))
    yield stage
    shutil.rmtree(stage, ignore_errors=True)


@pytest.fixture(scope="session")
def ws(staged):
    wireshark = Wireshark(staged, os.path.join(staged, "plugins"))
    yield wireshark
    shutil.rmtree(wireshark.home, ignore_errors=True)


@pytest.fixture(scope="session")
def probe(staged):
    """tshark with only the test-only wrapper probe (plugins/wsglue/probe)."""
    src = os.environ.get("SIPSLEUTH_TEST_PLUGIN_DIR", os.path.join(ROOT, "build", "test-plugins"))
    if not os.path.isdir(os.path.join(src, "4.0", "epan")):
        pytest.skip(f"no test plugins in {src} (configure with SIPSLEUTH_TESTS=ON)")
    dst = os.path.join(staged, "test-plugins")
    if not os.path.isdir(dst):
        wsrun.stage_tree(src, dst)
    wireshark = Wireshark(staged, dst)
    yield wireshark
    shutil.rmtree(wireshark.home, ignore_errors=True)


@pytest.fixture(scope="session")
def plain(staged):
    empty = os.path.join(staged, "no-plugins")
    os.makedirs(empty, mode=0o755, exist_ok=True)
    wireshark = Wireshark(staged, empty)
    yield wireshark
    shutil.rmtree(wireshark.home, ignore_errors=True)
