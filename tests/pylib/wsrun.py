# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the real tshark/editcap with the freshly built sipsleuth plugins.

Wireshark 4.0 ignores WIRESHARK_PLUGIN_DIR and personal plugins when run as root, so as root we drop
to nobody (uid 65534) with setpriv; the plugin folder, the capture and a temporary HOME must then be
readable by that user. As a normal user the environment variable alone is enough.
"""
import os
import shutil
import subprocess
import tempfile

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"
NOBODY = 65534


def stage_tree(src, dst):
    """Copy src to dst readable by everyone: the unprivileged tshark may not reach the checkout."""
    shutil.copytree(src, dst)
    for base, _dirs, files in os.walk(dst):
        os.chmod(base, 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)


def plugin_env(plugin_dir, home):
    """Environment for a tshark that loads plugins from plugin_dir/4.0/epan and nothing personal."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if plugin_dir is not None:
        env["WIRESHARK_PLUGIN_DIR"] = os.path.abspath(plugin_dir)
    return env


def make_home():
    """A fresh HOME (no personal preferences) readable and writable by the unprivileged user."""
    home = tempfile.mkdtemp(prefix="sipsleuth-home-")
    os.chmod(home, 0o777)
    return home


def command(argv, plugin_dir, home):
    """Wrap argv so that it runs unprivileged when we are root; returns (argv, env)."""
    env = plugin_env(plugin_dir, home)
    if os.geteuid() == 0:
        wrapped = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env"]
        wrapped += [f"{k}={v}" for k, v in sorted(env.items())]
        return wrapped + argv, None
    return argv, env


def run(argv, plugin_dir, home, timeout=120, check=False):
    """Run argv (tshark, editcap, ...) with the plugins of plugin_dir; returns CompletedProcess."""
    cmd, env = command(argv, plugin_dir, home)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=check,
                          errors="replace")
