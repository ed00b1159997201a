#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Wireshark's GUI with our plugins under Xvfb, as an unprivileged user: screenshots and a start check.

    gui.py shots --plugin-dir build/plugins [--out docs/images] [--only profile]
    gui.py check --plugin-dir build/plugins [--profile] CAPTURE...

`shots` makes the PNGs of docs/images (see SHOTS below). `check` opens each capture and exits non-zero
when the main window's title is not the capture's name, our plugins are not loaded (the Lua probe finds
no siptrack field), no frame got a siptrack or msrpa tree, or any other window appeared (an error
dialog). With --profile, Wireshark runs with the sipsleuth configuration profile (profile/sipsleuth,
installed by profile/install.sh into the fresh HOME, opened with -C sipsleuth) and the check also
wants the probe to name that profile's folder. Nothing here depends on pixel positions of text: windows are found by their names, menus and
trees driven with the keyboard; the one mouse click lands in the empty lower part of the packet
details pane, whose size the profile fixes, to give it the keyboard focus.

Needs Xvfb, xdotool, ImageMagick and wireshark-qt (make_screenshots.sh installs them). As root,
Wireshark runs as nobody (Wireshark 4.0 loads no WIRESHARK_PLUGIN_DIR plugins for root), on a staged,
world-readable copy of the plugins and captures, with a fresh HOME.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import wsrun  # noqa: E402

SCREEN = (1920, 1200)
WINDOW = (1360, 1180)   # main window, from the profile's recent_common
WIDE = (1900, 1000)     # main window with the sipsleuth profile (its columns are many)
PROFILE_INSTALL = os.path.join(ROOT, "profile", "install.sh")
PROFILE_NAME = "sipsleuth"
PROFILE_TITLE = "%P"  # the profile's gui.window_title, which Wireshark shows as "capture.pcap [sipsleuth]"
# Column widths for the sipsleuth profile's columns, by title (the profile ships no recent file).
PROFILE_WIDTHS = {"No.": 45, "Time": 95, "Source": 90, "Destination": 90, "Protocol": 65, "Stream": 55, "Sub": 35,
                  "Flow": 285, "Subscription flow": 285, "State": 75, "Caused by": 70, "Info": 900}
UPPER_PANE = 260        # packet list height, from the profile's recent (no bytes pane)
DIALOG = (1300, 520)    # Expert Information dialog
# Packet list columns (title, format, width): the TCP stream shows which connection a message took;
# a Shot may add its own custom columns before Protocol.
COLUMNS = [("No.", "%m", 50), ("Time", "%t", 100), ("Source", "%s", 100), ("Destination", "%d", 100),
           ("TCP stream", "%Cus:tcp.stream:0:R", 80), ("Protocol", "%p", 70), ("Info", "%i", 1000)]


def custom_column(title, field, width=90):
    return (title, f"%Cus:{field}:0:R", width)
NOBODY = 65534
WELCOME = "The Wireshark Network Analyzer"   # the main window's title before a capture is open


class GuiError(Exception):
    pass


class Shot:
    """One capture and its two pictures.

    details: PNG of the main window with the frame selected (the first frame matching the display
    filter select, two passes) and the tree of the protocol expand opened, the packet list filtered
    with dfilter; expert: PNG of Analyze > Expert Information over the whole capture (no filter),
    its most severe group opened; columns: custom columns added to the packet list."""

    def __init__(self, capture, details, select, expand, dfilter, expert, columns=()):
        self.capture, self.details, self.select = capture, details, select
        self.expand, self.dfilter, self.expert, self.columns = expand, dfilter, expert, columns


SHOTS = [
    # Field case 000: the sipX RLS writes the NOTIFY down the connection the rebooted phone abandoned.
    Shot("captures/siptrack_sub_polycom_repro.pcap",
         details="siptrack_stale_notify.png", select="siptrack.notify_on_stale_flow",
         expand="siptrack", dfilter="sip.Request-Line || tcp.flags.reset == 1",
         expert="siptrack_expert_info.png",
         columns=[custom_column("Subscription", "siptrack.subscription", 100)]),
    # Field case 001: both ends a=setup:active, the MSRP session never binds.
    Shot("captures/msrpa_field_case_both_active.pcap",
         details="msrpa_both_active.png", select="msrpa.both_active", expand="msrpa",
         dfilter="sip || msrp || tcp.flags.syn == 1 || tcp.flags.fin == 1",
         expert="msrpa_expert_info.png"),
]


class ProfileShot:
    """The packet list of a capture with the sipsleuth profile (its colours, columns and filter buttons),
    filtered with dfilter, no packet selected (a selected row hides its colour)."""

    def __init__(self, capture, picture, dfilter):
        self.capture, self.picture, self.dfilter = capture, picture, dfilter


PROFILE_SHOTS = [
    # Field case 000: every SIP message and RST, the stale NOTIFY (39) and its RST (40) coloured, the
    # subscription, flow and subscription-flow columns showing stream 0 against stream 1.
    ProfileShot("captures/siptrack_sub_polycom_repro.pcap", "profile_field_case_000.png",
                "sip || tcp.flags.reset == 1"),
    # Field case 004: the 8961's REGISTERs, the lapse past CUCM's grace, retransmissions and the switches
    # between its two registrars.
    ProfileShot("captures/siptrack_ka_8961_cycle.pcap", "profile_register_lapse.png",
                "siptrack.registration_lapsed || siptrack.registrar_switch || siptrack.register_retransmitted "
                "|| siptrack.register_within_grace"),
]


def log(msg):
    print(f"gui: {msg}", file=sys.stderr, flush=True)


class Xvfb:
    """An X server on a free display (Xvfb picks it: -displayfd)."""

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
             "-nolisten", "tcp"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise GuiError("Xvfb did not start")
            chunk = os.read(read, 16)
            if not chunk:
                raise GuiError("Xvfb did not start")
            number += chunk
        os.close(read)
        self.display = ":" + number.decode().strip()

    def xdo(self, *args, check=True):
        proc = subprocess.run(["xdotool", *map(str, args)], env=dict(os.environ, DISPLAY=self.display),
                              capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise GuiError(f"xdotool {' '.join(map(str, args))}: {proc.stderr.strip()}")
        return proc.stdout

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def stage_plugins(plugin_dir, stage):
    """Only the plugin libraries, world-readable (a build tree holds much else)."""
    src = os.path.join(plugin_dir, "4.0", "epan")
    libs = [f for f in os.listdir(src) if f.endswith(".so")] if os.path.isdir(src) else []
    if not libs:
        raise GuiError(f"no plugin in {src}: build first (cmake --build build --target sipsleuth)")
    dst = os.path.join(stage, "plugins", "4.0", "epan")
    os.makedirs(dst)
    for f in libs:
        shutil.copy(os.path.join(src, f), dst)
    for base, _dirs, files in os.walk(os.path.join(stage, "plugins")):
        os.chmod(base, 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)
    return os.path.join(stage, "plugins")


def write_recent(path, columns, upper_pane):
    with open(path, "w") as f:
        f.write("gui.toolbar_main_show: TRUE\ngui.filter_toolbar_show: TRUE\n"
                "gui.packet_list_show: TRUE\ngui.tree_view_show: TRUE\ngui.byte_view_show: FALSE\n"
                "gui.packet_diagram_show: FALSE\ngui.statusbar_show: TRUE\n"
                f"gui.geometry_main_upper_pane: {upper_pane}\n"
                "column.width:\n" + ",\n".join(f"\t{quoted(fmt)}, {w}" for _t, fmt, w in columns) + "\n")


def quoted(fmt):
    """A column format as recent's list syntax takes it: quoted when it has blanks ("a || b")."""
    return f'"{fmt}"' if " " in fmt else fmt


def profile_columns():
    """(title, format, width) of the sipsleuth profile's packet list columns, from its preferences."""
    with open(os.path.join(ROOT, "profile", PROFILE_NAME, "preferences")) as f:
        pairs = re.findall(r'^\t"([^"]*)", "([^"]*)"', f.read(), re.M)
    return [(title, fmt, PROFILE_WIDTHS.get(title, 80)) for title, fmt in pairs]


def write_profile(home, extra_columns=(), profile=False, window=WINDOW, upper_pane=UPPER_PANE):
    """A fresh Wireshark configuration: window size and panes fixed, no bytes pane, nothing asked.

    profile: the sipsleuth profile installed as a user would (profile/install.sh, or the install.sh
    of another copy of profile/ when profile is its path), with a recent file
    fixing its panes and column widths; otherwise the default profile with COLUMNS (and extra_columns)."""
    columns = COLUMNS[:5] + list(extra_columns) + COLUMNS[5:]
    conf = os.path.join(home, ".config", "wireshark")
    os.makedirs(conf)
    with open(os.path.join(conf, "recent_common"), "w") as f:
        f.write("gui.geometry_main_x: 0\ngui.geometry_main_y: 0\n"
                f"gui.geometry_main_width: {window[0]}\ngui.geometry_main_height: {window[1]}\n"
                "gui.geometry_main_maximized: FALSE\nprivs.warn_if_elevated: FALSE\n"
                "sys.warn_if_no_capture: FALSE\n")
    if profile:
        profiles = os.path.join(conf, "profiles")
        installer = profile if isinstance(profile, str) else PROFILE_INSTALL
        subprocess.run([installer, "--dest", profiles, "--quiet"], check=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "HOME": home})
        write_recent(os.path.join(profiles, PROFILE_NAME, "recent"), profile_columns(), upper_pane)
    else:
        write_recent(os.path.join(conf, "recent"), columns, upper_pane)
        with open(os.path.join(conf, "preferences"), "w") as f:
            f.write("gui.ask_unsaved: FALSE\ngui.update.enabled: FALSE\ngui.column.format:\n"
                    + ",\n".join(f'\t"{title}", "{fmt}"' for title, fmt, _w in columns) + "\n")
    if os.geteuid() == 0:
        for base, _dirs, files in os.walk(home):
            os.chown(base, NOBODY, NOBODY)
            for name in files:
                os.chown(os.path.join(base, name), NOBODY, NOBODY)


def tshark(stage_plugins_dir, home, args):
    proc = wsrun.run(["tshark", "-n", *args], stage_plugins_dir, home, timeout=300)
    if proc.returncode != 0:
        raise GuiError(f"tshark {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def first_frame(plugins, home, capture, dfilter):
    """The first frame matching dfilter, with two passes as the GUI shows it."""
    out = tshark(plugins, home, ["-2", "-r", capture, "-Y", dfilter, "-T", "fields", "-e", "frame.number"])
    frames = out.split()
    if not frames:
        raise GuiError(f"no frame of {os.path.basename(capture)} matches {dfilter}")
    return int(frames[0])


def top_level_index(plugins, home, capture, frame, proto):
    """Position of proto's item among the frame's top-level tree items (Frame is 0), from PDML."""
    out = tshark(plugins, home, ["-2", "-r", capture, "-Y", f"frame.number == {frame}", "-T", "pdml"])
    packet = ET.fromstring(out).find("packet")
    names = [p.get("name") for p in packet.findall("proto") if p.get("name") != "geninfo"]
    if proto not in names:
        raise GuiError(f"frame {frame} has no {proto} tree: {names}")
    return names.index(proto)


class Wireshark:
    """One Wireshark GUI on one capture, as nobody when we are root."""

    def __init__(self, xvfb, stage, plugins, capture, frame=None, dfilter=None, columns=(), profile=False,
                 window=WINDOW, upper_pane=UPPER_PANE):
        self.x = xvfb
        self.profile = profile
        self.name = os.path.basename(capture)
        self.title = f"{self.name} [{PROFILE_NAME}]" if profile else self.name
        self.home = tempfile.mkdtemp(prefix="home-", dir=stage)
        os.chmod(self.home, 0o755)
        runtime = os.path.join(self.home, "runtime")
        os.mkdir(runtime, 0o700)
        write_profile(self.home, columns, profile, window, upper_pane)
        if os.geteuid() == 0:
            os.chown(runtime, NOBODY, NOBODY)
        self.probe = os.path.join(self.home, "probe.txt")
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.home, "TZ": "UTC",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DISPLAY": xvfb.display,
            "XDG_RUNTIME_DIR": runtime, "QT_QPA_PLATFORM": "xcb", "QT_ACCESSIBILITY": "0",
            "NO_AT_BRIDGE": "1", "WIRESHARK_PLUGIN_DIR": plugins, "SIPSLEUTH_GUI_PROBE": self.probe,
        }
        argv = ["wireshark", "-r", capture, "-X", f"lua_script:{os.path.join(stage, 'probe.lua')}"]
        if dfilter:
            argv += ["-Y", dfilter]
        if frame:
            argv += ["-g", str(frame)]
        if profile:
            argv += ["-C", PROFILE_NAME]
        if os.geteuid() == 0:
            argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    "env", "-i", *[f"{k}={v}" for k, v in sorted(env.items())], *argv]
            env = None
        self.log = open(os.path.join(self.home, "wireshark.log"), "w+")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.main = None
        self.opened = set()
        self.unexpected = {}

    # -- windows -----------------------------------------------------------------------------------
    def windows(self):
        """{id: name} of this Wireshark's visible top-level windows."""
        out = self.x.xdo("search", "--onlyvisible", "--pid", self.proc.pid, check=False)
        found = {}
        for wid in out.split():
            found[wid] = self.x.xdo("getwindowname", wid, check=False).strip()
        return found

    def wait_window(self, pattern, timeout=90, patience=10):
        """The id of the window whose name matches pattern. Fails early when another window (not
        the main one, not the welcome screen) stays up for patience seconds: an error dialog."""
        deadline = time.monotonic() + timeout
        others = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise GuiError(f"wireshark exited ({self.proc.returncode}): {self.output()}")
            windows = self.windows()
            for wid, name in windows.items():
                if re.search(pattern, name):
                    return wid
            now = time.monotonic()
            for wid, name in windows.items():
                if wid != self.main and wid not in self.opened and not name.startswith(WELCOME):
                    if now - others.setdefault(wid, now) > patience:
                        self.unexpected = {w: n for w, n in windows.items() if w in others}
                        raise GuiError(f"no window named /{pattern}/, but {name!r} (an error dialog?)")
            time.sleep(0.5)
        raise GuiError(f"no window named /{pattern}/ after {timeout} s; windows: {self.windows()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-2000:]

    def probe_state(self):
        try:
            with open(self.probe) as f:
                text = f.read()
        except OSError:
            return None, 0
        m = re.search(r"frames (\d+)", text)
        return text.splitlines()[0] if text else None, int(m.group(1)) if m else 0

    def probe_window_title(self):
        """The preference gui.window_title as the probe saw it (None: no probe output yet)."""
        try:
            with open(self.probe) as f:
                m = re.search(r"^window_title (.*)$", f.read(), re.M)
        except OSError:
            return None
        return m.group(1) if m else None

    def start(self, timeout=120):
        """Wait for the main window (named after the capture) and for the capture to be dissected."""
        self.main = self.wait_window("^" + re.escape(self.title) + "$", timeout)
        deadline = time.monotonic() + timeout
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            state = self.probe_state()
            if state != last:
                last, stable_since = state, time.monotonic()
            elif state[0] and (state[0] != "plugins loaded" or state[1] > 0) \
                    and time.monotonic() - stable_since > 2:
                break
            time.sleep(0.3)
        time.sleep(1.5)   # let the selected packet's tree and the list settle
        self.x.xdo("mousemove", SCREEN[0] - 1, SCREEN[1] - 1)   # off the window: no hover, no tooltip
        return self

    def problems(self):
        """What `check` reports: wrong title, plugins not loaded, nothing dissected, other windows."""
        found = []
        if self.proc.poll() is not None:
            return [f"wireshark exited ({self.proc.returncode}): {self.output()}"]
        loaded, frames = self.probe_state()
        if loaded != "plugins loaded":
            found.append(f"our plugins are not loaded (probe: {loaded})")
        elif frames == 0:
            found.append("no frame has a siptrack or msrpa tree")
        # The sipsleuth profile's gui.window_title "%P" appends "[sipsleuth]" to the title.
        title = self.probe_window_title()
        if title != (PROFILE_TITLE if self.profile else ""):
            found.append(f"preference gui.window_title {title!r}: not the {'sipsleuth' if self.profile else 'default'}"
                         " profile's preferences")
        windows = self.windows()
        if windows.get(self.main) != self.title:
            found.append(f"main window title {windows.get(self.main)!r}, expected {self.title!r}")
        for wid, name in windows.items():
            if wid != self.main and wid not in self.opened:
                found.append(f"unexpected window {name!r} (an error dialog?)")
                self.unexpected[wid] = name
        return found

    def focus(self, wid):
        self.x.xdo("windowfocus", "--sync", wid)
        time.sleep(0.3)

    def key(self, *keys):
        for k in keys:
            self.x.xdo("key", k)
            time.sleep(0.15)

    # -- actions -----------------------------------------------------------------------------------
    def expand_top_level(self, index):
        """Select the index-th top-level item of the packet details and expand all its subtrees.

        The details pane gets the keyboard focus from a click into its empty lower part (the profile
        fixes the window and the packet list's height; the collapsed top-level items fill only its
        top); then Home, Down x index, and View > Expand Subtrees (Shift+Right)."""
        self.focus(self.main)
        x = WINDOW[0] // 2
        y = WINDOW[1] - WINDOW[1] // 12
        self.x.xdo("mousemove", "--window", self.main, x, y)
        self.x.xdo("click", "1")
        time.sleep(0.3)
        self.x.xdo("mousemove", SCREEN[0] - 1, SCREEN[1] - 1)
        self.key("Home", *["Down"] * index, "shift+Right")
        time.sleep(1)

    def resize_columns(self):
        """View > Resize Columns (Ctrl+Shift+R): each packet list column as wide as its contents."""
        self.focus(self.main)
        self.key("ctrl+shift+r")
        time.sleep(1)

    def open_expert_info(self):
        """Analyze > Expert Information (the menu's last entry), resized to DIALOG."""
        self.focus(self.main)
        self.key("alt+a")
        time.sleep(0.5)
        self.key("Up", "Return")
        wid = self.wait_window(r"Expert Information", 60)
        self.opened.add(wid)
        self.x.xdo("windowmove", wid, 0, 0)
        self.x.xdo("windowsize", wid, *DIALOG)
        time.sleep(2)
        return wid

    def expand_first_group(self, wid):
        """In the Expert Information dialog: the first (most severe) group opened to its items."""
        self.focus(wid)
        self.key("Home", "Right")
        time.sleep(1)

    def shot(self, wid, path, tries=20):
        """The window's picture as a small PNG (256 colours, no metadata), taken once two grabs 0.5 s
        apart are identical (the GUI has finished repainting, even on a loaded machine)."""
        previous = None
        for _ in range(tries):
            grab = subprocess.run(["import", "-display", self.x.display, "-window", wid, "ppm:-"],
                                  check=True, timeout=60, capture_output=True).stdout
            if grab == previous:
                break
            previous = grab
            time.sleep(0.5)
        else:
            log(f"{path}: the window kept changing; taking the last picture")
        subprocess.run([convert(), "ppm:-", "-strip", "-colors", "256", "PNG8:" + path], input=grab,
                       check=True, timeout=60)
        log(f"{path}: {os.path.getsize(path) // 1024} KiB")

    def quit(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def convert():
    """ImageMagick's convert (a stand-in elsewhere on PATH may not take these options)."""
    return "/usr/bin/convert" if os.path.exists("/usr/bin/convert") else "convert"


def stage_files(plugin_dir, captures):
    stage = tempfile.mkdtemp(prefix="sipsleuth-gui-")
    os.chmod(stage, 0o755)
    plugins = stage_plugins(plugin_dir, stage)
    shutil.copy(os.path.join(HERE, "probe.lua"), stage)
    os.chmod(os.path.join(stage, "probe.lua"), 0o644)
    staged = []
    for cap in captures:
        dst = os.path.join(stage, os.path.basename(cap))
        shutil.copy(cap, dst)
        os.chmod(dst, 0o644)
        staged.append(dst)
    return stage, plugins, staged


def photograph(ws, action, failures):
    """Start ws, run action(ws), check for problems before and after; failures collects them."""
    try:
        ws.start()
        for step in (None, action):
            if step:
                step(ws)
            problems = ws.problems()
            if problems:
                raise GuiError(f"{ws.name}: " + "; ".join(problems))
    except (GuiError, subprocess.SubprocessError) as e:
        failures.append(str(e))
        log(f"FAILED {e}\n{ws.output()}")
    finally:
        ws.quit()


def make_shots(plugin_dir, out_dir, keep=False, only=None):
    """The PNGs of SHOTS and PROFILE_SHOTS (only="profile": PROFILE_SHOTS alone)."""
    shots = [] if only == "profile" else SHOTS
    captures = [os.path.join(ROOT, s.capture) for s in shots + PROFILE_SHOTS]
    stage, plugins, caps = stage_files(plugin_dir, sorted(set(captures)))
    staged = dict(zip(sorted(set(captures)), caps))
    home = wsrun.make_home()
    xvfb = Xvfb()
    failures = []
    try:
        for shot in shots:
            cap = staged[os.path.join(ROOT, shot.capture)]
            frame = first_frame(plugins, home, cap, shot.select)
            index = top_level_index(plugins, home, cap, frame, shot.expand)
            log(f"{shot.capture}: frame {frame}, {shot.expand} is top-level item {index}")

            def details(ws):
                ws.expand_top_level(index)
                ws.shot(ws.main, os.path.join(out_dir, shot.details))

            def expert(ws):
                wid = ws.open_expert_info()
                ws.expand_first_group(wid)
                ws.shot(wid, os.path.join(out_dir, shot.expert))

            photograph(Wireshark(xvfb, stage, plugins, cap, frame, shot.dfilter, shot.columns), details,
                       failures)
            photograph(Wireshark(xvfb, stage, plugins, cap), expert, failures)
        for pshot in PROFILE_SHOTS:
            cap = staged[os.path.join(ROOT, pshot.capture)]

            def packet_list(ws, pshot=pshot):
                ws.resize_columns()
                ws.shot(ws.main, os.path.join(out_dir, pshot.picture))

            photograph(Wireshark(xvfb, stage, plugins, cap, dfilter=pshot.dfilter, profile=True, window=WIDE,
                                 upper_pane=WIDE[1] - 360), packet_list, failures)
    finally:
        xvfb.stop()
        if not keep:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
    return failures


def check(plugin_dir, captures, out_dir=None, profile=False):
    """Open each capture; the list of problems (empty: Wireshark started clean with our plugins).

    With out_dir: a screenshot of each capture's main window (CAPTURE.png) and of each unexpected
    window (CAPTURE.unexpected-N.png), to see what an error dialog said."""
    stage, plugins, caps = stage_files(plugin_dir, captures)
    xvfb = Xvfb()
    failures = []
    try:
        for cap in caps:
            name = os.path.basename(cap)
            ws = Wireshark(xvfb, stage, plugins, cap, profile=profile, window=WIDE if profile else WINDOW)
            try:
                ws.start()
                failures += [f"{name}: {p}" for p in ws.problems()]
            except GuiError as e:
                failures.append(f"{name}: {e}")
            try:
                if out_dir and ws.main:
                    ws.shot(ws.main, os.path.join(out_dir, name + ".png"))
                for n, wid in enumerate(sorted(ws.unexpected) if out_dir else []):
                    ws.shot(wid, os.path.join(out_dir, f"{name}.unexpected-{n + 1}.png"))
            except (GuiError, subprocess.SubprocessError) as e:
                failures.append(f"{name}: screenshot: {e}")
            finally:
                ws.quit()
    finally:
        xvfb.stop()
        shutil.rmtree(stage, ignore_errors=True)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("shots", help="make the PNGs of docs/images")
    s.add_argument("--plugin-dir", default=os.path.join(ROOT, "build", "plugins"))
    s.add_argument("--out", default=os.path.join(ROOT, "docs", "images"))
    s.add_argument("--keep", action="store_true", help="keep the staging folder (logs, profile)")
    s.add_argument("--only", choices=["profile"], help="only the pictures with the sipsleuth profile")
    c = sub.add_parser("check", help="open captures, fail on an error dialog or missing plugins")
    c.add_argument("--plugin-dir", default=os.path.join(ROOT, "build", "plugins"))
    c.add_argument("--out", help="screenshots of each main window and unexpected window")
    c.add_argument("--profile", action="store_true", help="with the sipsleuth configuration profile")
    c.add_argument("captures", nargs="+")
    args = ap.parse_args()
    if args.cmd == "shots":
        os.makedirs(args.out, exist_ok=True)
        failures = make_shots(args.plugin_dir, args.out, args.keep, args.only)
    else:
        if args.out:
            os.makedirs(args.out, exist_ok=True)
        failures = check(args.plugin_dir, [os.path.abspath(c) for c in args.captures], args.out, args.profile)
    for f in failures:
        print(f"gui: {f}", file=sys.stderr)
    if not failures:
        log("ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
