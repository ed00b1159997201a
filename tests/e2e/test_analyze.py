# SPDX-License-Identifier: GPL-2.0-or-later
"""`./sipsleuth analyze` as a user runs it: findings first, several captures and folders, --help,
--fields, clear errors, the install without a duplicate beside root's global copy, and the apt-get line
printed for a user who cannot install packages.

The command runs as an unprivileged user (nobody when we are root) with a temporary HOME, on a copy of
the script and of the captures it reads (the checkout may not be readable by that user), and with
SIPSLEUTH_PREBUILT_PLUGIN_DIR set to the suite's build: the suite does not build a second tree.
The global plugin folder is replaced only inside a private mount namespace (root, `unshare -m`), so
the machine's own folder is never written.
"""
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from conftest import PROTOCOLS, ROOT
import wsrun

API = "4.0"
GLOBAL = f"/usr/lib/x86_64-linux-gnu/wireshark/plugins/{API}/epan"
DEFAULT = "ciscoalarm_cp7821_boot.pcap"
FIELD_CASE = "siptrack_sub_polycom_repro.pcap"     # field case 000: one error, at frame 39
RANK = {"Error": 0, "Warning": 1, "Note": 2, "Chat": 3, "Comment": 4}


@pytest.fixture()
def checkout(staged):
    """A copy of the script and of three captures (one in a folder of its own), readable by nobody."""
    top = tempfile.mkdtemp(prefix="sipsleuth-analyze-")
    co = os.path.join(top, "co")
    os.makedirs(os.path.join(co, "captures", "more"))
    shutil.copy(os.path.join(ROOT, "sipsleuth"), co)
    shutil.copytree(os.path.join(ROOT, "profile"), os.path.join(co, "profile"))
    shutil.copytree(os.path.join(ROOT, "lua-compat", "sipsleuth"), os.path.join(co, "lua-compat", "sipsleuth"))
    for name in (DEFAULT, FIELD_CASE):
        shutil.copy(os.path.join(staged, "captures", name), os.path.join(co, "captures", name))
    shutil.copy(os.path.join(staged, "captures", "msrpa_field_case_both_active.pcap"),
                os.path.join(co, "captures", "more", "msrpa_field_case_both_active.pcap"))
    home = os.path.join(top, "home")
    os.makedirs(home)
    for base, _dirs, files in os.walk(top):
        os.chmod(base, 0o777)
        for f in files:
            os.chmod(os.path.join(base, f), 0o755 if f == "sipsleuth" else 0o644)
    yield {"top": top, "co": co, "home": home, "plugins": os.path.join(staged, "plugins")}
    shutil.rmtree(top, ignore_errors=True)


def analyze(checkout, *args, env=None, global_dir=None, as_root=False):
    """Run `co/sipsleuth analyze ARGS` from co/ as the unprivileged user (or as root, only together with
    global_dir: a folder mounted over the global plugin folder in a private mount namespace)."""
    environ = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": checkout["home"], "LANG": "C.UTF-8",
               "SIPSLEUTH_PREBUILT_PLUGIN_DIR": checkout["plugins"], **(env or {})}
    cmd = [os.path.join(checkout["co"], "sipsleuth"), "analyze", *args]
    if os.geteuid() == 0:
        cmd = ["env", "-i", *[f"{k}={v}" for k, v in sorted(environ.items())], *cmd]
        if not as_root:
            cmd = ["setpriv", f"--reuid={wsrun.NOBODY}", f"--regid={wsrun.NOBODY}", "--clear-groups", *cmd]
        if global_dir:
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" "$1" && shift && exec "$@"', global_dir, GLOBAL, *cmd]
        environ = None
    else:
        assert not global_dir and not as_root
    return subprocess.run(cmd, env=environ, cwd=checkout["co"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)


def profile_line(checkout):
    """What analyze says when it installs the profile (profile/install.sh's line)."""
    files = len(os.listdir(os.path.join(ROOT, "profile", "sipsleuth")))
    target = os.path.join(checkout["home"], ".config", "wireshark", "profiles", "sipsleuth")
    return (f"sipsleuth profile: installed {files} file(s) into {target}; in Wireshark: Edit > Configuration "
            "Profiles > sipsleuth, or wireshark -C sipsleuth\n")


def headings(stdout):
    return [line[3:] for line in stdout.splitlines() if line.startswith("== ")]


def sections(stdout):
    """{capture as shown: [lines]} of analyze's output."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:]
            found[current] = []
        elif current:
            found[current].append(line)
    return found


def expected_incidents(ws, capture):
    """Our expert items of tshark -2 (PDML), as analyze prints them: most severe first, then by frame."""
    proc = ws.run(["-2", "-r", ws.capture(capture), "-T", "pdml"])
    assert proc.returncode == 0, proc.stderr
    found = []
    for packet in ET.fromstring(proc.stdout).iter("packet"):
        frame = int(packet.find("./proto[@name='geninfo']/field[@name='num']").get("show"))
        for elem in packet.iter("field"):
            if elem.get("name") != "_ws.expert":
                continue
            parts = {child.get("name"): child for child in elem}
            field = next(n for n in parts if not n.startswith("_ws.expert"))
            if field.split(".")[0] not in PROTOCOLS:
                continue
            severity = parts["_ws.expert.severity"].get("showname").rpartition(": ")[2]
            found.append((RANK[severity], frame, severity, field, parts["_ws.expert.message"].get("show")))
    found.sort(key=lambda f: (f[0], f[1]))
    return [f"  {sev:<8} frame {frame:<6} {field}: {msg}" for rank, frame, sev, field, msg in found if rank <= 2]


def table(lines):
    """The packet table after its title: (header cells, {frame: row line})."""
    start = lines.index("Packets with sipsleuth fields (columns with values; --fields for all):") + 1
    header = lines[start].split()
    rows = {int(line.split()[0]): line for line in lines[start + 1:] if line.strip()}
    return header, rows


def test_help_and_bad_options(checkout):
    for flag in ("--help", "-h"):
        proc = analyze(checkout, flag)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Usage: ./sipsleuth analyze [--fields] [--all] [CAPTURE|FOLDER]...\n")
        assert proc.stderr == ""
    proc = analyze(checkout, "--bogus")
    assert proc.returncode == 1
    assert proc.stderr.endswith("sipsleuth: unknown option '--bogus'\n")
    # Nothing was installed before the arguments were checked.
    assert not os.path.exists(os.path.join(checkout["home"], ".local"))


def test_missing_and_unreadable_capture(checkout):
    proc = analyze(checkout, "captures/" + DEFAULT, "nosuch.pcap")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "sipsleuth: cannot read capture 'nosuch.pcap': no such file\n")
    secret = os.path.join(checkout["co"], "secret.pcap")
    shutil.copy(os.path.join(checkout["co"], "captures", DEFAULT), secret)
    os.chmod(secret, 0o000)
    proc = analyze(checkout, "secret.pcap")
    assert (proc.returncode, proc.stderr) == (1, "sipsleuth: cannot read capture 'secret.pcap': permission denied\n")
    empty = os.path.join(checkout["co"], "empty")
    os.makedirs(empty, mode=0o777)
    proc = analyze(checkout, "empty")
    assert (proc.returncode, proc.stderr) == (1, "sipsleuth: no capture (*.pcap, *.pcapng, *.cap, .gz) in folder 'empty'\n")
    assert not os.path.exists(os.path.join(checkout["home"], ".local"))


def test_findings_first_then_columns_with_values(checkout, ws):
    proc = analyze(checkout, "captures/" + FIELD_CASE)
    assert proc.returncode == 0, proc.stderr
    personal = os.path.join(checkout["home"], ".local", "lib", "wireshark", "plugins", API, "epan")
    assert proc.stderr == f"\x1b[1m== installed sipsleuth.so into {personal}\x1b[0m\n" + profile_line(checkout)
    # The profile as in the checkout, where Wireshark finds it.
    profile = os.path.join(checkout["home"], ".config", "wireshark", "profiles", "sipsleuth")
    for name in os.listdir(os.path.join(ROOT, "profile", "sipsleuth")):
        assert open(os.path.join(profile, name), "rb").read() == \
            open(os.path.join(ROOT, "profile", "sipsleuth", name), "rb").read(), name
    out = sections(proc.stdout)
    assert list(out) == ["captures/" + FIELD_CASE]
    lines = out["captures/" + FIELD_CASE]
    assert lines[0] == "Findings, most severe first:"
    incidents = expected_incidents(ws, FIELD_CASE)
    assert lines[1:1 + len(incidents)] == incidents
    # Field case 000's one error first: the NOTIFY on the stale flow, frame 39.
    assert lines[1].startswith("  Error    frame 39     siptrack.notify_on_stale_flow: NOTIFY on tcp.stream 0")
    assert not any(line.startswith(("  Chat", "  Comment")) for line in lines)
    assert re.fullmatch(r"  1 error, \d+ notes, \d+ chats \(chats not listed: --all lists them\)", lines[1 + len(incidents)])
    header, rows = table(lines)
    assert header == ["frame", "time", "finding", "dialoginfo.summary", "rlmi.summary", "rlmi.instance.part_frame",
                      "siptrack.subscription", "siptrack.state", "siptrack.flow", "siptrack.register.interval", "Info"]
    assert rows[39].split()[:3] == ["39", "165.343", "Error"]
    assert rows[4].split()[:3] == ["4", "0.011", "Request:"]   # a REGISTER: no finding, its Info follows
    # --all lists the chats too.
    proc = analyze(checkout, "--all", "captures/" + FIELD_CASE)
    assert "  Chat     frame 8      siptrack.subscription_created: Subscription 1 (dialog) created by SUBSCRIBE" \
        in proc.stdout.splitlines()


def test_default_capture_several_captures_and_folders(checkout):
    proc = analyze(checkout)
    assert proc.returncode == 0, proc.stderr
    out = sections(proc.stdout)
    assert list(out) == ["captures/" + DEFAULT]
    lines = out["captures/" + DEFAULT]
    assert lines[1:3] == ['  Note     frame 10     ciscoalarm.out_of_service: Phone was out of service: reason 25 (Phone '
                          'initialized), phone\'s text "LastTimeInitialized"',
                          "  1 note, 2 chats (chats not listed: --all lists them)"]
    header, rows = table(lines)
    assert header == ["frame", "time", "finding", "ciscoalarm.name", "ciscoalarm.device_name", "ciscoalarm.oos_reason",
                      "ciscoalarm.event.call_id", "ciscoalarm.cid_match", "siptrack.subscription", "siptrack.flow", "Info"]
    assert rows[10].split()[:7] == ["10", "0.031", "Note", "LastOutOfServiceInformation", "SEPC4B9CD808647", "25",
                                    "c4b9cd80-86470022-467f1380-3b60328a@192.168.15.~"]
    # A file, a folder (recursively, sorted) and a file that is no capture: each analysed, the bad one
    # said so, the exit status 1.
    notcapture = os.path.join(checkout["co"], "notes.txt")
    with open(notcapture, "w") as f:
        f.write("not a capture\n")
    os.chmod(notcapture, 0o644)
    proc = analyze(checkout, "captures/" + FIELD_CASE, "notes.txt", "captures")
    assert proc.returncode == 1
    # The field case, named and also in the folder, once.
    assert headings(proc.stdout) == [f"captures/{FIELD_CASE}", "notes.txt", f"captures/{DEFAULT}",
                                     "captures/more/msrpa_field_case_both_active.pcap"]
    assert "sipsleuth: tshark cannot read 'notes.txt':\n" in proc.stderr
    assert "isn't a capture file in a format TShark understands" in proc.stderr
    msrpa = sections(proc.stdout)["captures/more/msrpa_field_case_both_active.pcap"]
    assert msrpa[1].startswith("  Warning  frame ")


def test_fields_prints_the_full_table(checkout):
    proc = analyze(checkout, "--fields")
    assert proc.returncode == 0, proc.stderr
    lines = sections(proc.stdout)["captures/" + DEFAULT]
    start = lines.index("Fields, packet by packet (ciscoalarm || dialoginfo || rlmi || mssip || msrpa || siptrack):") + 1
    header = lines[start].split("\t")
    assert header[:3] == ["frame.number", "frame.time_relative", "_ws.col.Info"]
    assert len(header) == 26 and "mssip.endpoint" in header and "siptrack.sccp.ack_in" in header
    assert [line.split("\t")[0] for line in lines[start + 1:]] == ["5", "7", "10", "12", "14", "16"]


def test_second_run_installs_nothing(checkout):
    first = analyze(checkout)
    assert first.returncode == 0 and "installed sipsleuth.so into" in first.stderr
    personal = os.path.join(checkout["home"], ".local", "lib", "wireshark", "plugins", API, "epan")
    # A former per-plugin file (an older install) goes with the next install.
    shutil.copy(os.path.join(personal, "sipsleuth.so"), os.path.join(personal, "siptrack.so"))
    second = analyze(checkout)
    assert second.returncode == 0
    assert f"(removed the former {personal}/siptrack.so)" in second.stderr
    third = analyze(checkout)
    assert (third.returncode, third.stderr) == (0, "")
    assert third.stdout == first.stdout
    assert sorted(os.listdir(personal)) == ["sipsleuth.so"]


def test_lua_plugins_print_the_same_findings(checkout):
    """analyze --lua: the Lua plugins only (no build), the same findings-first output, and for field case
    000 the same siptrack findings as the compiled plugins."""
    lua = analyze(checkout, "--lua", "captures/" + FIELD_CASE)
    assert lua.returncode == 0, lua.stderr
    compiled = analyze(checkout, "captures/" + FIELD_CASE)
    loaded = re.search(r"== Lua plugins loaded: ([a-z ]+)", lua.stderr).group(1).split()
    assert "siptrack" in loaded
    lua_lines, compiled_lines = (sections(p.stdout)["captures/" + FIELD_CASE] for p in (lua, compiled))
    assert lua_lines[0] == "Findings, most severe first:"

    def findings(lines, protocols):
        return [line for line in lines if re.match(r"  (Error|Warning|Note) ", line)
                and line.split()[3].split(".")[0] in protocols]
    # Field case 000 is siptrack's; the other protocols' differences are lua-compat/parity-exceptions'
    # business (e2e.lua_parity).
    assert findings(lua_lines, ["siptrack"]) == findings(compiled_lines, ["siptrack"])
    assert findings(lua_lines, loaded)[0].startswith("  Error    frame 39     siptrack.notify_on_stale_flow: ")
    header, rows = table(lua_lines)
    assert header[:3] == ["frame", "time", "finding"] and rows[39].split()[2] == "Error"


def namespace_available():
    if os.geteuid() != 0 or not os.path.isdir(GLOBAL):
        return False
    return subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True).returncode == 0


needs_namespace = pytest.mark.skipif(not namespace_available(),
                                     reason="needs root and a private mount namespace (unshare -m)")


def fake_global(checkout, variant):
    """A copy of the global plugin folder with a sipsleuth.so: the suite's build ("same"), another
    build ("other"), or none."""
    folder = os.path.join(checkout["top"], "global")
    shutil.copytree(GLOBAL, folder)
    built = os.path.join(checkout["plugins"], API, "epan", "sipsleuth.so")
    if variant in ("same", "other"):
        shutil.copy(built, os.path.join(folder, "sipsleuth.so"))
    if variant == "other":
        # Another build: analyze compares the bytes and the ELF build ID (which stripping keeps), so
        # both must differ; the build ID's bytes changed in place keep the file loadable.
        path = os.path.join(folder, "sipsleuth.so")
        notes = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
        build_id = bytes.fromhex(re.search(r"Build ID: ([0-9a-f]+)", notes).group(1))
        data = open(path, "rb").read()
        assert data.count(build_id) == 1
        with open(path, "wb") as f:
            f.write(data.replace(build_id, bytes(b ^ 0xFF for b in build_id)))
    for base, _dirs, files in os.walk(folder):
        os.chmod(base, 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)
    return folder


@needs_namespace
def test_root_copy_same_as_build_personal_duplicate_removed(checkout):
    folder = fake_global(checkout, "same")
    personal = os.path.join(checkout["home"], ".local", "lib", "wireshark", "plugins", API, "epan")
    os.makedirs(personal)
    shutil.copy(os.path.join(folder, "sipsleuth.so"), personal)
    subprocess.run(["chmod", "-R", "a+rwX", os.path.join(checkout["home"], ".local")], check=True)
    proc = analyze(checkout, global_dir=folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"sipsleuth: removed your copy {personal}/sipsleuth.so: Wireshark loads root's copy "
                           f"{GLOBAL}/sipsleuth.so first and reported yours as a duplicate on every start\n"
                           + profile_line(checkout))
    assert os.listdir(personal) == []
    assert sections(proc.stdout)["captures/" + DEFAULT][1].startswith("  Note     frame 10     ciscoalarm.out_of_service: ")


@needs_namespace
def test_root_copy_differs_build_used_and_explained(checkout):
    folder = fake_global(checkout, "other")
    proc = analyze(checkout, global_dir=folder)
    assert proc.returncode == 0, proc.stderr
    plugins = checkout["plugins"]
    assert proc.stderr.splitlines()[:4] == [
        f"sipsleuth: root's copy {GLOBAL}/sipsleuth.so differs from this build, and Wireshark loads it first.",
        f"sipsleuth: this analysis uses this build (WIRESHARK_PLUGIN_DIR={plugins}). To do the same:",
        f"  tshark:  WIRESHARK_PLUGIN_DIR={plugins} tshark ...",
        f"  GUI:     WIRESHARK_PLUGIN_DIR={plugins} wireshark"]
    assert "multiple directories" not in proc.stderr
    assert not os.path.exists(os.path.join(checkout["home"], ".local"))   # no personal duplicate
    assert sections(proc.stdout)["captures/" + DEFAULT][1].startswith("  Note     frame 10     ciscoalarm.out_of_service: ")


@needs_namespace
def test_root_installs_into_the_global_folder_once(checkout):
    folder = fake_global(checkout, "none")
    first = analyze(checkout, global_dir=folder, as_root=True)
    assert first.returncode == 0, first.stderr
    assert first.stderr == f"\x1b[1m== installed sipsleuth.so into {GLOBAL}\x1b[0m\n" + profile_line(checkout)
    assert open(os.path.join(folder, "sipsleuth.so"), "rb").read() == \
        open(os.path.join(checkout["plugins"], API, "epan", "sipsleuth.so"), "rb").read()
    second = analyze(checkout, global_dir=folder, as_root=True)
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout == first.stdout


# ----------------------------------------------------------------------------------------------
# A user who cannot install packages: the exact apt-get line, no sudo password prompt.

FAKE_DPKG_QUERY = """#!/bin/sh
# dpkg-query as if the packages of $SIPSLEUTH_TEST_MISSING were not installed: they are left out of the
# question, so the real dpkg-query says nothing of them (as of a package it does not know).
n=$#
for a; do
  case " $SIPSLEUTH_TEST_MISSING " in
    *" $a "*) ;;
    *) set -- "$@" "$a" ;;
  esac
done
shift $n
exec /usr/bin/dpkg-query "$@"
"""


@pytest.mark.parametrize("command", ["analyze", "test"])
def test_no_sudo_prints_the_apt_get_line(checkout, command):
    if os.geteuid() != 0:
        pytest.skip("needs root to run the command as nobody (a user who cannot use sudo)")
    fake = os.path.join(checkout["top"], "bin")
    os.makedirs(fake)
    with open(os.path.join(fake, "dpkg-query"), "w") as f:
        f.write(FAKE_DPKG_QUERY)
    os.chmod(fake, 0o755)
    os.chmod(os.path.join(fake, "dpkg-query"), 0o755)
    env = ["PATH=" + fake + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + checkout["home"],
           "SIPSLEUTH_TEST_MISSING=libpugixml-dev python3-scapy"]
    cmd = ["setpriv", f"--reuid={wsrun.NOBODY}", f"--regid={wsrun.NOBODY}", "--clear-groups", "env", "-i", *env,
           os.path.join(checkout["co"], "sipsleuth"), command]
    proc = subprocess.run(cmd, cwd=checkout["co"], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60)
    missing = "libpugixml-dev" if command == "analyze" else "libpugixml-dev python3-scapy"
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (f"sipsleuth: missing Debian packages: {missing}\n"
                           "sipsleuth: you are not root and cannot use sudo here: ask an administrator to run\n"
                           f"  apt-get install -y --no-install-recommends {missing}\n")
    # The fake answers as the real one for the packages it is not told to hide.
    query = ["dpkg-query", "-W", "-f=${Package}:${Status}\n", "libpugixml-dev", "python3-scapy"]
    real = subprocess.run(query, capture_output=True, text=True).stdout
    assert real == "libpugixml-dev:install ok installed\npython3-scapy:install ok installed\n"
    for hide, answer in (("", real), ("python3-scapy", "libpugixml-dev:install ok installed\n")):
        proc = subprocess.run(["env", "-i", env[0], "SIPSLEUTH_TEST_MISSING=" + hide, *query], capture_output=True, text=True)
        assert proc.stdout == answer
