# SPDX-License-Identifier: GPL-2.0-or-later
"""The install step of `./sipsleuth analyze` for a normal user: `cmake --install --component plugins`
into the personal plugin folder, where tshark finds the plugin by itself (no WIRESHARK_PLUGIN_DIR).
The former per-plugin .so files (each would register its protocol a second time) are removed."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import wsrun  # noqa: E402


def test_personal_plugin_folder_is_loaded():
    build = os.environ.get("SIPSLEUTH_BUILD_DIR")
    if not build:
        pytest.skip("SIPSLEUTH_BUILD_DIR not set (run through CTest)")
    home = wsrun.make_home()
    personal = os.path.join(home, ".local", "lib", "wireshark", "plugins", "4.0")
    # Left by an earlier install: copies of the suite under two former names, which would abort tshark.
    epan = os.path.join(personal, "epan")
    os.makedirs(epan)
    plugins = os.environ.get("SIPSLEUTH_PLUGIN_DIR", os.path.join(build, "plugins"))
    built = os.path.join(plugins, "4.0", "epan", "sipsleuth.so")
    former = [os.path.join(epan, name) for name in ("ciscoalarm.so", "siptrack.so")]
    for path in former:
        shutil.copy(built, path)
    subprocess.run(["cmake", "--install", build, "--component", "plugins", "--prefix", personal],
                   check=True, capture_output=True)
    installed = sorted(os.listdir(epan))
    for base, _dirs, files in os.walk(home):
        os.chmod(base, 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)
    # An empty WIRESHARK_PLUGIN_DIR replaces the global folder (where `analyze` as root may have put a
    # copy that would shadow this one); the personal folder is still scanned.
    empty = os.path.join(home, "no-global-plugins")
    os.makedirs(empty, mode=0o755)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "TZ": "UTC", "WIRESHARK_PLUGIN_DIR": empty}
    cmd = ["tshark", "-G", "plugins"]
    if os.geteuid() == 0:  # root loads no personal plugins: look as the unprivileged user
        cmd = ["setpriv", f"--reuid={wsrun.NOBODY}", f"--regid={wsrun.NOBODY}", "--clear-groups", "env",
               *[f"{k}={v}" for k, v in env.items()]] + cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    shutil.rmtree(home, ignore_errors=True)
    rows = [line.split() for line in out.splitlines()]
    assert installed == ["sipsleuth.so"]
    ours = [row for row in rows if row and row[-1].startswith(personal)]
    assert ours == [["sipsleuth.so", "0.1.0", "dissector", os.path.join(epan, "sipsleuth.so")]]
