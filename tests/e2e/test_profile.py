# SPDX-License-Identifier: GPL-2.0-or-later
"""The sipsleuth configuration profile (profile/sipsleuth, issue 13) with the real tshark, as an
unprivileged user: installed by profile/install.sh into a fresh HOME, loaded with `-C sipsleuth`
without a warning; every colouring rule, filter button and saved filter compiles; the packet list's
columns and each field case's colours are the exact ones (tshark --color on a pseudo-terminal prints
each packet's colours, which name the rule that matched); healthy twins get no finding colour.
Also the CMake install rule (component profile) and the install script's keep-your-edits rule.

The GUI with the profile: test_gui.py.
"""
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT
import wsrun

PROFILE = os.path.join(ROOT, "profile", "sipsleuth")
INSTALL = os.path.join(ROOT, "profile", "install.sh")
REPRO = "siptrack_sub_polycom_repro.pcap"
PCOM310 = "siptrack_sub_pcom310.pcap"


def colour_rules():
    """[(name, filter, (bg, fg))] of the profile's colorfilters, in order (first match wins)."""
    rules = []
    with open(os.path.join(PROFILE, "colorfilters")) as f:
        for line in f:
            m = re.match(r"^@([^@]*)@([^@]*)@\[(\d+),(\d+),(\d+)\]\[(\d+),(\d+),(\d+)\]$", line.rstrip("\n"))
            if m:
                rgb = [int(v) >> 8 for v in m.groups()[2:]]  # as tshark prints 16-bit colours
                rules.append((m.group(1), m.group(2), (tuple(rgb[:3]), tuple(rgb[3:]))))
            else:
                assert line.startswith("#"), line
    return rules


def buttons():
    """[(label, filter)] of dfilter_buttons (Wireshark's UAT: quoted fields, \\xNN escapes)."""
    found = []
    with open(os.path.join(PROFILE, "dfilter_buttons")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            fields = [re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), v)
                      for v in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
            assert len(fields) == 4 and fields[0] == "TRUE", line
            found.append((fields[1], fields[2]))
    return found


def saved_filters():
    with open(os.path.join(PROFILE, "dfilters")) as f:
        return [re.match(r'^"([^"]+)" (.+)$', line.rstrip("\n")).groups() for line in f if line.strip()]


@pytest.fixture(scope="module")
def home(staged):
    """A HOME readable and writable by the unprivileged tshark, the profile installed by install.sh."""
    home = wsrun.make_home()
    proc = subprocess.run([INSTALL], env={"HOME": home, "PATH": os.environ["PATH"]}, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"sipsleuth profile: installed 4 file(s) into {home}/.config/wireshark/profiles/"
                           "sipsleuth; in Wireshark: Edit > Configuration Profiles > sipsleuth, or wireshark -C "
                           "sipsleuth\n")
    for base, _dirs, files in os.walk(home):
        os.chmod(base, 0o777)
        for f in files:
            os.chmod(os.path.join(base, f), 0o666)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def tshark(ws, home, args):
    proc = wsrun.run(["tshark", "-n", "-C", "sipsleuth", *args], ws.plugin_dir, home, timeout=120)
    return proc


def coloured(ws, home, capture, two_pass=True):
    """{frame: (bg, fg)} from `tshark --color -C sipsleuth` on a pseudo-terminal (tshark colours only a
    terminal), 24-bit colours asked with COLORTERM."""
    argv = ["env", "TERM=xterm-256color", "COLORTERM=truecolor", "tshark", "-n", "-C", "sipsleuth", "--color",
            "-r", ws.capture(capture)] + (["-2"] if two_pass else [])
    cmd, env = wsrun.command(argv, ws.plugin_dir, home)
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        ready, _w, _x = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("tshark --color hung")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    stderr = proc.stderr.read().decode()
    assert proc.wait(60) == 0, stderr
    assert stderr == "", stderr
    colours = {}
    for line in out.decode(errors="replace").split("\n"):
        m = re.match(r"^(?:\x1b\[0m)?\x1b\[38;2;(\d+);(\d+);(\d+)m\x1b\[48;2;(\d+);(\d+);(\d+)m\s*(\d+) ", line)
        if m:
            v = tuple(int(x) for x in m.groups()[:6])
            colours[int(m.group(7))] = (v[3:], v[:3])
    return colours


def rule_names(ws, home, capture, two_pass=True):
    """{frame: name of the colouring rule that coloured it} (None: no rule)."""
    by_colour = {}
    for name, _flt, colour in colour_rules():
        by_colour.setdefault(colour, name)
    return {frame: by_colour.get(colour) for frame, colour in coloured(ws, home, capture, two_pass).items()}


def test_rules_are_ours_first_and_distinct():
    rules = colour_rules()
    ours = [r for r in rules if r[0].startswith("sipsleuth: ")]
    assert rules[:len(ours)] == ours  # before Wireshark's defaults: first match wins
    assert len(ours) == 19
    assert len({colour for _n, _f, colour in ours}) == len(ours)  # a colour names its rule
    with open("/usr/share/wireshark/colorfilters") as f:
        defaults = [line.split("@")[1] for line in f if line.startswith("@")]
    assert [name for name, _f, _c in rules[len(ours):]] == defaults


def test_profile_loads_without_warning(ws, home):
    proc = tshark(ws, home, ["--color", "-r", ws.capture(REPRO), "-c", "1"])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_a_broken_rule_is_reported(ws, home):
    # The negative twin of the test above: tshark names a colouring rule that does not compile.
    bad = wsrun.make_home()
    try:
        shutil.copytree(os.path.join(home, ".config"), os.path.join(bad, ".config"))
        path = os.path.join(bad, ".config", "wireshark", "profiles", "sipsleuth", "colorfilters")
        with open(path, "a") as f:
            f.write("@broken@siptrack.no_such_field@[0,0,0][65535,65535,65535]\n")
        for base, _dirs, files in os.walk(bad):
            os.chmod(base, 0o777)
            for f in files:
                os.chmod(os.path.join(base, f), 0o666)
        proc = tshark(ws, bad, ["--color", "-r", ws.capture(REPRO), "-c", "1"])
        assert 'Could not compile "broken" in colorfilters file' in proc.stderr
        assert "siptrack.no_such_field is neither a field nor a protocol name." in proc.stderr
    finally:
        shutil.rmtree(bad, ignore_errors=True)


def every_filter():
    found = [(f"colour rule {n!r}", flt) for n, flt, _c in colour_rules() if n.startswith("sipsleuth: ")]
    found += [(f"button {label!r}", flt) for label, flt in buttons()]
    found += [(f"saved filter {name!r}", flt) for name, flt in saved_filters()]
    return found


def test_every_filter_compiles(ws, home):
    # One tshark compiles them all (Debian ships no dftest); on failure each alone names the culprit.
    filters = every_filter()
    assert len(filters) == 19 + 10 + 9 + 16
    joined = " || ".join(f"({flt})" for _w, flt in filters)
    proc = tshark(ws, home, ["-r", ws.capture(REPRO), "-c", "1", "-Y", joined])
    if proc.returncode != 0 or proc.stderr:
        bad = []
        for what, flt in filters:
            one = tshark(ws, home, ["-r", ws.capture(REPRO), "-c", "1", "-Y", flt])
            if one.returncode != 0 or one.stderr:
                bad.append(f"{what}: {one.stderr.strip()}")
        pytest.fail("; ".join(bad) or proc.stderr)
    # The check can fail: a misspelt field is refused.
    assert tshark(ws, home, ["-r", ws.capture(REPRO), "-c", "1", "-Y", joined + " || siptrack.stale"]).returncode != 0


def test_buttons():
    assert [label for label, _f in buttons()] == [
        "Stale NOTIFY", "This subscription", "NOTIFY lost", "MSRP both active", "REGISTER lapsed", "Keepalives",
        "Phone alarms", "Forked calls", "Busy lamp", "All findings"]
    # The cross-connection view of field case 000 (select a packet of the subscription, click, then
    # Statistics > Flow Graph limited to the display filter): a field reference to the selected packet.
    assert dict(buttons())["This subscription"] == "siptrack.subscription == ${siptrack.subscription}"
    # Saved filters (the bookmark menu): the buttons but the one that needs a selected packet, then
    # Wireshark's defaults.
    saved = saved_filters()
    assert [(n, f) for n, f in saved if n.startswith("sipsleuth: ")] == [
        ("sipsleuth: " + label, flt) for label, flt in buttons() if "${" not in flt]
    with open("/usr/share/wireshark/dfilters") as f:
        assert [n for n, _f in saved if not n.startswith("sipsleuth: ")] == [
            re.match(r'^"([^"]+)"', line).group(1) for line in f if line.strip()]


@pytest.mark.parametrize("dfilter,frames", [
    ("siptrack.notify_on_stale_flow || siptrack.notify_orphaned", ["39"]),
    ("siptrack.subscription == 2", ["35", "37", "39", "40", "47", "49", "51", "53"]),
    ("_ws.expert.severity >= \"Warning\" && (siptrack || msrpa || mssip || ciscoalarm || dialoginfo || rlmi)",
     ["39", "40"]),
])
def test_button_filters_on_field_case_000(ws, home, dfilter, frames):
    # The stale NOTIFY alone; subscription 2 with its RST (40) across the three connections (what
    # "This subscription" shows once a packet of subscription 2 is selected); "All findings": the
    # incident's error (39) and the RST (40), whose warning is TCP's own "Connection reset (RST)" (ours
    # there is a note): the button cannot tell whose warning a packet carries.
    proc = tshark(ws, home, ["-r", ws.capture(REPRO), "-2", "-Y", dfilter, "-T", "fields", "-e", "frame.number"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == frames


def test_columns(ws, home):
    # Field case 000's stale NOTIFY: it travels on TCP stream 0, the subscription's SUBSCRIBE on stream 1;
    # the RST is the consequence of frame 39.
    proc = tshark(ws, home, ["-r", ws.capture(REPRO), "-2", "-Y", "frame.number in {39, 40}"])
    assert proc.returncode == 0, proc.stderr
    lines = [re.sub(r"\s+", " ", line.strip()) for line in proc.stdout.splitlines()]
    assert lines[0].startswith(
        "39 165.343220 10.1.1.68 → 10.1.1.171 SIP/XML 0 2 tcp.stream 0 10.1.1.68:5060 -> 10.1.1.171:1033 "
        "tcp.stream 1 10.1.1.171:1034 -> 10.1.1.68:5060 active Request: NOTIFY sip:207@10.1.1.171:5060;transport=tcp")
    assert lines[1] == ("40 165.344040 10.1.1.171 → 10.1.1.68 TCP 0 2 39 1033 → 5060 [RST] Seq=2596 Win=8760 Len=0 "
                        "[SIPTrack: NOTIFY reset]")


def test_colours_field_case_000(ws, home):
    names = rule_names(ws, home, REPRO)
    assert names[39] == "sipsleuth: stale-flow NOTIFY (field case 000)"
    assert names[40] == "sipsleuth: consequence of a finding (see Caused by)"
    assert names[51] == names[53] == "sipsleuth: subscription recovered"
    assert names[12] == names[35] == "sipsleuth: message of a tracked subscription"
    assert names[1] == "TCP SYN/FIN" and names[5] == "TCP"  # Wireshark's own rules for the rest


def test_colours_unanswered_notify(ws, home):
    # Field case 000 (b), pcom310: the NOTIFY nobody answered (two passes: named on the NOTIFY), the 481
    # a consequence of it.
    names = rule_names(ws, home, PCOM310)
    assert names[27] == "sipsleuth: NOTIFY reset or unanswered"
    assert names[43] == "sipsleuth: consequence of a finding (see Caused by)"


def frames_of(ws, home, capture, dfilter):
    proc = tshark(ws, home, ["-r", ws.capture(capture), "-2", "-Y", dfilter, "-T", "fields", "-e", "frame.number"])
    assert proc.returncode == 0, proc.stderr
    return [int(f) for f in proc.stdout.split()]


@pytest.mark.parametrize("capture,dfilter,rule", [
    ("msrpa_field_case_both_active.pcap", "msrpa.both_active",
     "sipsleuth: MSRP both active or nobody connects (field case 001)"),
    ("siptrack_ka_8961_cycle.pcap", "siptrack.registration_lapsed", "sipsleuth: REGISTER lapsed past the grace"),
    ("ciscoalarm_cp7821_boot.pcap", "ciscoalarm.out_of_service",
     "sipsleuth: Cisco phone out of service (field case 003)"),
    ("ciscoalarm_cp7821_boot.pcap", "ciscoalarm && !ciscoalarm.out_of_service", "sipsleuth: Cisco phone alarm"),
    ("siptrack_ka_sccp_failover.pcap", "siptrack.sccp_failover_expected",
     "sipsleuth: keepalive missed (CRLF pong, SCCP KeepAliveAck)"),
    ("mssip_three_endpoint_fork.pcap", "mssip.losing_branch", "sipsleuth: forked call, losing branch"),
    ("mssip_three_endpoint_fork.pcap", "mssip.answered && !mssip.losing_branch", "sipsleuth: forked call answered"),
    ("siptrack_sub_notify_rejected.pcap", "siptrack.notify_rejected",
     "sipsleuth: subscription failed (481, rejected, expired, unconfirmed)"),
    ("dialoginfo_version_steps_lost.pcap", "dialoginfo.version_skipped",
     "sipsleuth: busy lamp or resource list NOTIFYs lost or inconsistent"),
])
def test_colours_per_finding(ws, home, capture, dfilter, rule):
    frames = frames_of(ws, home, capture, dfilter)
    assert frames, f"no frame of {capture} matches {dfilter}"
    names = rule_names(ws, home, capture)
    assert {f: names[f] for f in frames} == {f: rule for f in frames}


# What a healthy capture may show: lifecycle and outcomes, no finding.
QUIET_RULES = {"sipsleuth: message of a tracked subscription", "sipsleuth: Cisco phone alarm",
               "sipsleuth: forked call answered"}


@pytest.mark.parametrize("capture", ["siptrack_ka_8961_healthy.pcap", "siptrack_ka_sccp_healthy.pcap",
                                     "siptrack_ka_crlf_healthy.pcap", "dialoginfo_blf_healthy.pcap",
                                     "msrpa_rfc4975_chat.pcap", "siptrack_sub_unsubscribe_confirmed.pcap",
                                     "siptrack_sub_fresh_connection.pcap",
                                     "mssip_plain_call.pcap"])
def test_healthy_twins_get_no_finding_colour(ws, home, capture):
    names = rule_names(ws, home, capture)
    assert names, capture
    loud = {f: n for f, n in names.items() if n and n.startswith("sipsleuth: ") and n not in QUIET_RULES}
    assert loud == {}


def test_install_script_keeps_your_edits():
    home = tempfile.mkdtemp(prefix="sipsleuth-profile-")
    try:
        env = {"HOME": home, "PATH": os.environ["PATH"]}
        target = os.path.join(home, ".config", "wireshark", "profiles", "sipsleuth")

        def install(*args):
            proc = subprocess.run([INSTALL, *args], env=env, capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
            return proc.stdout, proc.stderr

        assert install()[0].startswith(f"sipsleuth profile: installed 4 file(s) into {target};")
        assert install() == (f"sipsleuth profile: up to date in {target}\n", "")
        assert install("--quiet") == ("", "")
        for name in os.listdir(PROFILE):
            with open(os.path.join(PROFILE, name), "rb") as a, open(os.path.join(target, name), "rb") as b:
                assert a.read() == b.read(), name
        # Wireshark rewrote the preferences (Edit > Preferences): kept, and said so.
        with open(os.path.join(target, "preferences"), "a") as f:
            f.write("gui.layout_type: 2\n")
        assert install() == ("", f"sipsleuth profile: kept your changed preferences in {target} (--force replaces "
                                 "them with sipsleuth's)\n")
        with open(os.path.join(target, "preferences")) as f:
            assert f.read().endswith("gui.layout_type: 2\n")
        # A file Wireshark writes by itself is not ours to touch.
        with open(os.path.join(target, "recent"), "w") as f:
            f.write("gui.geometry_main_width: 900\n")
        assert install("--force")[0].startswith(f"sipsleuth profile: installed 1 file(s) into {target};")
        with open(os.path.join(target, "recent")) as f:
            assert f.read() == "gui.geometry_main_width: 900\n"
        assert install() == (f"sipsleuth profile: up to date in {target}\n", "")
        # An old ~/.wireshark folder is where Wireshark still reads its configuration.
        os.mkdir(os.path.join(home, ".wireshark"))
        assert install()[0].startswith(f"sipsleuth profile: installed 4 file(s) into {home}/.wireshark/profiles/"
                                       "sipsleuth;")
        proc = subprocess.run([INSTALL, "--bogus"], env=env, capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stderr) == (1, "install.sh: unknown argument '--bogus' (see --help)\n")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_cmake_install_component():
    build = os.environ.get("SIPSLEUTH_BUILD_DIR")
    if not build or not os.path.exists(os.path.join(build, "cmake_install.cmake")):
        pytest.skip("SIPSLEUTH_BUILD_DIR has no configured build tree")
    prefix = tempfile.mkdtemp(prefix="sipsleuth-prefix-")
    try:
        proc = subprocess.run(["cmake", "--install", build, "--component", "profile", "--prefix", prefix],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        dst = os.path.join(prefix, "share", "wireshark", "profiles", "sipsleuth")
        assert sorted(os.listdir(dst)) == sorted(os.listdir(PROFILE)) == [
            "colorfilters", "dfilter_buttons", "dfilters", "preferences"]
        for name in os.listdir(PROFILE):
            assert oct(os.stat(os.path.join(dst, name)).st_mode & 0o777) == "0o644"
        assert [f for _b, _d, files in os.walk(prefix) for f in files if f.endswith(".so")] == []
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
