# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian package (./sipsleuth package, CPack): built from the suite's build tree, installed with
`apt-get install ./sipsleuth_*.deb`, loaded by tshark as an unprivileged user from Wireshark's global
plugin folder, then purged.

The install must not reach the other e2e tests (a global sipsleuth.so is loaded by every tshark that
has no WIRESHARK_PLUGIN_DIR) nor outlive the test. So, as root, apt-get and tshark run in a private mount
namespace where /usr and /var are overlays on temporary folders: apt and dpkg really install and purge
the package (the real dpkg database, seen copy-on-write), and nothing of it reaches the machine. Where
no such namespace can be made, the package is installed on the machine itself, and purged in the same
script (CTest runs this test alone: RUN_SERIAL).
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT
import wsrun

API = "4.0"
PLUGINDIR = f"/usr/lib/x86_64-linux-gnu/wireshark/plugins/{API}"
PROFILES = "/usr/share/wireshark/profiles"
CAPTURE = "siptrack_sub_polycom_repro.pcap"


def dpkg_version(package):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def deb():
    build = os.environ.get("SIPSLEUTH_BUILD_DIR")
    if not build:
        pytest.skip("SIPSLEUTH_BUILD_DIR not set (run through CTest)")
    out = tempfile.mkdtemp(prefix="sipsleuth-deb-")
    os.chmod(out, 0o755)
    proc = subprocess.run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert debs == ["sipsleuth_0.1.0_amd64.deb"]
    path = os.path.join(out, debs[0])
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(out, ignore_errors=True)


def profile_files():
    """The profile's files as the package must hold them (none until the profile lands)."""
    src = os.path.join(ROOT, "profile", "sipsleuth")
    if not os.path.isdir(src):
        return []
    return sorted(os.path.join(PROFILES, "sipsleuth", os.path.relpath(os.path.join(base, f), src))
                  for base, _dirs, files in os.walk(src) for f in files)


def test_deb_contents_and_exact_wireshark_abi(deb):
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    ws = dpkg_version("libwireshark16")
    assert fields[:3] == ["Package: sipsleuth", "Version: 0.1.0", "Architecture: amd64"]
    depends = fields[3].removeprefix("Depends: ").split(", ")
    # The plugin ABI: exactly the Wireshark libraries it links, at the version it was built against.
    assert depends[:2] == [f"libwireshark16 (= {ws})", f"libwsutil14 (= {dpkg_version('libwsutil14')})"]
    assert f"libpugixml1v5 (>= {dpkg_version('libpugixml1v5')})" in depends
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    files = sorted(line.split()[-1].removeprefix(".") for line in listing.splitlines() if not line.startswith("d"))
    assert files == sorted([f"{PLUGINDIR}/epan/sipsleuth.so"] + profile_files())
    # Stripped: the debug info stays in the build tree.
    assert "-rw-r--r-- root/root" in listing


INSTALL_CHECK_PURGE = r"""
set -u
deb="$1"; home="$2"; capture="$3"; script="$5"; built="$6"
export DEBIAN_FRONTEND=noninteractive
echo "### install"; apt-get install -y -q --no-install-recommends "$deb" >/dev/null 2>&1; echo "rc=$?"
echo "### status"; dpkg-query -W -f='${Package} ${Version} ${Status}\n' sipsleuth
echo "### files"; dpkg-query -L sipsleuth | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$home" TZ=UTC "$@"; }
echo "### plugins"; nobody tshark -G plugins 2>&1 | awk -F'\t' '$1 ~ /^sipsleuth/ || /multiple/'
echo "### error"; nobody tshark -n -2 -r "$capture" -Y "_ws.expert.severity == error && siptrack" -T fields -e frame.number 2>&1
# A normal user's ./sipsleuth analyze with the package installed: the package's copy is this build
# (stripped, the same build ID): nothing installed beside it, nothing to say.
echo "### analyze"; nobody SIPSLEUTH_PREBUILT_PLUGIN_DIR="$built" "$script" analyze "$capture" 2>&1 | head -n 4
echo "### personal"; ls -A "$home"
# The global profile: tshark -C finds it (Wireshark copies a global profile into the user's folder).
echo "### profile"; nobody tshark -C sipsleuth -n -r "$capture" -c 1 -T fields -e frame.number 2>&1; echo "rc=$?"
echo "### purge"; apt-get purge -y -q sipsleuth >/dev/null 2>&1; echo "rc=$?"
echo "### after"; dpkg-query -W -f='${Status}\n' sipsleuth 2>&1; ls "$4/epan/sipsleuth.so" 2>&1
"""

OVERLAY = r"""
set -e
top="$1"; shift
for d in usr var; do
  mkdir -p "$top/$d/upper" "$top/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$top/$d/upper,workdir=$top/$d/work" "/$d"
done
exec "$@"
"""


def private_usr_var(top):
    """The command prefix that runs a script with private copy-on-write /usr and /var, or None."""
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", OVERLAY, "overlay", top]
    probe = subprocess.run(prefix + ["test", "-d", "/usr/bin"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def sections(text):
    found, current = {}, None
    for line in text.splitlines():
        if line.startswith("### "):
            current = found.setdefault(line[4:], [])
        elif current is not None:
            current.append(line)
    return found


def test_apt_install_loads_for_an_unprivileged_user_then_purge(deb, staged):
    if os.geteuid() != 0:
        pytest.skip("apt-get install needs root")
    if dpkg_version_or_none("sipsleuth"):
        pytest.skip("a sipsleuth package is installed on this machine: not touched")
    global_so = f"{PLUGINDIR}/epan/sipsleuth.so"
    before = open(global_so, "rb").read() if os.path.exists(global_so) else None
    top = tempfile.mkdtemp(prefix="sipsleuth-apt-")
    home = wsrun.make_home()
    try:
        os.chmod(top, 0o755)
        prefix = private_usr_var(top) or []
        if not prefix and before is not None:
            pytest.skip(f"no private mount namespace, and {global_so} (not from a package) would be replaced")
        script = os.path.join(top, "sipsleuth")
        shutil.copy(os.path.join(ROOT, "sipsleuth"), script)
        os.chmod(script, 0o755)
        proc = subprocess.run(prefix + ["bash", "-c", INSTALL_CHECK_PURGE, "check", deb, home,
                                        os.path.join(staged, "captures", CAPTURE), PLUGINDIR, script,
                                        os.path.join(staged, "plugins")],
                              capture_output=True, text=True, timeout=600)
    finally:
        if not prefix and dpkg_version_or_none("sipsleuth"):   # installed on the machine: never left there
            subprocess.run(["apt-get", "purge", "-y", "-q", "sipsleuth"], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    out = sections(proc.stdout)
    assert out["install"] == ["rc=0"], proc.stdout + proc.stderr
    assert out["status"] == ["sipsleuth 0.1.0 install ok installed"]
    assert out["files"] == sorted([f"{PLUGINDIR}/epan/sipsleuth.so"] + profile_files())
    # tshark as nobody, with no WIRESHARK_PLUGIN_DIR and an empty HOME: the global copy, once.
    assert [line.split() for line in out["plugins"]] == [["sipsleuth.so", "0.1.0", "dissector", global_so]]
    assert out["error"] == ["39"]                       # field case 000's one error
    capture = os.path.join(staged, "captures", CAPTURE)
    assert out["analyze"] == ["", f"== {capture}", "Findings, most severe first:",
                              "  Error    frame 39     siptrack.notify_on_stale_flow: NOTIFY on tcp.stream 0, abandoned by "
                              "the subscriber for tcp.stream 1 (its last traffic here 40.3 s earlier); use tcp.stream 1 "
                              "10.1.1.68:5060 -> 10.1.1.171:1034"]
    assert out["personal"] == []
    if profile_files():
        assert out["profile"] == ["1", "rc=0"]
    assert out["purge"] == ["rc=0"]
    assert out["after"][0] in ("dpkg-query: no packages found matching sipsleuth",
                               "unknown ok not-installed", "deinstall ok config-files") or \
        out["after"][0].endswith("not-installed"), out["after"]
    assert out["after"][1].endswith(f"cannot access '{PLUGINDIR}/epan/sipsleuth.so': No such file or directory")
    # Nothing reached the machine.
    assert dpkg_version_or_none("sipsleuth") is None
    assert (open(global_so, "rb").read() if os.path.exists(global_so) else None) == before


def dpkg_version_or_none(package):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 and proc.stdout.endswith(" installed") else None
