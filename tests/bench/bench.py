#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark tshark with and without the sipsleuth plugins: CPU time, peak memory, instructions.

Two generated captures: the SIP-heavy one (gen_sip_heavy.py, 100,000 packets, almost every packet SIP
over TCP or UDP, like a PBX or SBC trace) and the mixed one (gen_large.py, 220,000 packets, 13% SIP).
Targets with all plugins loaded: at most 1.10x plain tshark on the SIP-heavy capture and 1.05x on the
mixed one, in median CPU time and (with --instructions) in instructions; peak RSS at most 1.10x on both.
Workloads: `-q -z io,stat,0`, `-T fields` with every sipsleuth field, and two-pass `-2 -q -z io,stat,0`.
For each workload the plain and the plugin runs alternate (ABBA order after one unmeasured warm-up of
each), and each child's user+sys CPU time and ru_maxrss come from os.wait4, so nothing of this script is
counted. The plain side gets an empty WIRESHARK_PLUGIN_DIR; the plugin side gets PLUGIN_DIR (plugins in
PLUGIN_DIR/4.0/epan/*.so). As root, tshark runs as nobody through tests/pylib/wsrun.py, so the capture,
plugin dir and HOME must be readable by uid 65534.

--scaling N1,N2,... instead measures the SIP-heavy capture at each size and prints the cost per packet
after start-up (instructions under callgrind, or median CPU with --scaling-metric cpu), plain and with
the plugins, to show that the cost is linear in packets.

--lua measures the Lua plugins (lua-compat/sipsleuth, issue 12) instead of the .so: the plugins side then
runs with an empty plugin folder and a HOME whose personal Lua plugins folder holds lua-compat/sipsleuth,
as an analyst installs it; targets 1.5x plain tshark on the SIP-heavy capture and 1.2x on the mixed one
(CPU and instructions; peak RSS is shown against 1.5x).

Usage: /usr/bin/python3 tests/bench/bench.py --plugin-dir BUILD/plugins [--capture-set both|sip-heavy|mixed]
           [--runs 5] [--instructions] [--jobs 2] [--workdir build/bench]
       /usr/bin/python3 tests/bench/bench.py --plugin-dir BUILD/plugins --scaling 25000,50000,100000
       /usr/bin/python3 tests/bench/bench.py --lua [--capture-set ...] [--instructions] ...
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import wsrun  # noqa: E402

PROTOCOLS = ("ciscoalarm", "dialoginfo", "rlmi", "mssip", "msrpa", "siptrack")
# Ratio targets (plugins / plain) per capture: CPU and instructions, and peak RSS.
TARGETS = {"sip-heavy": 1.10, "mixed": 1.05, "custom": 1.10}
RSS_TARGET = 1.10
# --lua: issue 12's targets for the Lua plugins (CPU and instructions), and the RSS bound shown with them.
LUA_TARGETS = {"sip-heavy": 1.5, "mixed": 1.2, "custom": 1.5}
LUA_RSS_TARGET = 1.5
LUA_SRC = os.path.join(ROOT, "lua-compat", "sipsleuth")
# --scaling: the plugins' extra cost per packet at the largest size may exceed the smallest size's by
# this factor at most (the traffic mix changes a little with the length of the capture: subscriptions
# are set up in the first 30 s).
LINEAR_LIMIT = 1.25
GENERATORS = {"sip-heavy": ("gen_sip_heavy.py", 100000), "mixed": ("gen_large.py", 220000)}
GEN_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def say(text=""):
    print(text, flush=True)


def quiet(argv, plugin_dir, home):
    """Run a helper command (as nobody when root); returns CompletedProcess."""
    return wsrun.run(argv, plugin_dir, home, timeout=600)


def readable(path, home):
    """True if the unprivileged child can read path and everything under it (and enter directories)."""
    find = ["find", path, "(", "!", "-readable", "-o", "-type", "d", "!", "-executable", ")", "-print"]
    result = quiet(find, None, home)
    return result.returncode == 0 and not result.stdout.strip()


def world_readable_copy(path, scratch):
    """Copy a file or directory tree into scratch with world-readable modes; returns the copy."""
    target = os.path.join(scratch, os.path.basename(os.path.normpath(path)))
    if not os.path.isdir(path):
        shutil.copy(path, target)
        os.chmod(target, 0o644)
        return target
    shutil.copytree(path, target)
    for base, _, files in os.walk(target):
        os.chmod(base, 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    return target


def ensure_readable(path, home, scratch, what):
    if readable(path, home):
        return path
    copy = world_readable_copy(path, scratch)
    say(f"note: {what} {path} is not readable by uid {wsrun.NOBODY}; using a copy at {copy}")
    return copy


def generator_stamp():
    """Hash of the generators, so that a changed generator writes a new file."""
    digest = hashlib.sha256()
    for path in (os.path.join(HERE, "gen_sip_heavy.py"), os.path.join(HERE, "gen_large.py"),
                 os.path.join(ROOT, "captures", "sipstory.py"), os.path.join(ROOT, "captures", "gen_ciscoalarm.py"),
                 os.path.join(ROOT, "captures", "gen_msrpa.py")):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:8]


def make_capture(workdir, kind, packets):
    """WORKDIR/KIND-N-STAMP.pcap, generated once by KIND's generator."""
    script = GENERATORS[kind][0]
    path = os.path.join(workdir, f"{kind}-{packets}-{generator_stamp()}.pcap")
    if os.path.exists(path):
        say(f"capture: reusing {path}")
        return path
    os.makedirs(workdir, exist_ok=True)
    partial = path + ".partial"
    start = time.perf_counter()
    out = subprocess.run([GEN_PYTHON, os.path.join(HERE, script), partial, "--packets", str(packets)],
                         check=True, capture_output=True, text=True).stdout
    os.chmod(partial, 0o644)
    os.replace(partial, path)
    say(f"capture: generated {path} in {time.perf_counter() - start:.1f} s: {out.strip().split(': ', 1)[-1]}")
    return path


def empty_capture(scratch):
    """A pcap with no packets: running it gives tshark's start-up cost."""
    path = os.path.join(scratch, "empty.pcap")
    with open(path, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    os.chmod(path, 0o644)
    return path


def floor_scratch(scratch, capture):
    """What the floor scripts (lua_floors.py, c_floors.py) set up in scratch: a plugin dir without
    plugins, a home for nobody, the capture where nobody can read it, and a capture without packets.
    Returns (empty_dir, home, capture, empty)."""
    os.chmod(scratch, 0o755)
    empty_dir = os.path.join(scratch, "no-plugins")
    os.makedirs(os.path.join(empty_dir, "4.0", "epan"))
    home = wsrun.make_home()
    return empty_dir, home, ensure_readable(capture, home, scratch, "capture"), empty_capture(scratch)


def frame_count(path):
    """Frames of a classic little-endian pcap."""
    count = 0
    with open(path, "rb") as f:
        f.seek(24)
        while True:
            head = f.read(16)
            if len(head) < 16:
                return count
            f.seek(int.from_bytes(head[8:12], "little"), 1)
            count += 1


def global_plugin_files():
    """sipsleuth-looking .so files in the global plugin directory (Wireshark's and pkg-config's)."""
    dirs = set()
    out = subprocess.run([wsrun.TSHARK, "-G", "folders"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Global Plugins:"):
            dirs.add(line.split(":", 1)[1].strip())
    pkg = subprocess.run(["pkg-config", "--variable=plugindir", "wireshark"], capture_output=True, text=True)
    if pkg.returncode == 0 and pkg.stdout.strip():
        dirs.add(pkg.stdout.strip())
    names = PROTOCOLS + ("sipsleuth",)
    return sorted(path for d in dirs for path in glob.glob(os.path.join(d, "epan", "*.so"))
                  if any(n in os.path.basename(path) for n in names))


def registered(plugin_dir, home, what):
    """Lines of `tshark -G what` split on tabs."""
    result = quiet([wsrun.TSHARK, "-G", what], plugin_dir, home)
    return [line.split("\t") for line in result.stdout.splitlines()]


def our_protocols(plugin_dir, home):
    return sorted(row[2] for row in registered(plugin_dir, home, "protocols")
                  if len(row) > 2 and row[2] in PROTOCOLS)


def our_fields(plugin_dir, home):
    prefixes = tuple(p + "." for p in PROTOCOLS)
    return [row[2] for row in registered(plugin_dir, home, "fields")
            if len(row) > 2 and row[0] == "F" and row[2].startswith(prefixes)]


def measure(argv, plugin_dir, home):
    """Run argv once; returns (cpu seconds, wall seconds, peak RSS MiB) of the child."""
    cmd, env = wsrun.command(argv, plugin_dir, home)
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            sys.exit(f"failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                     f"{errors.read().decode(errors='replace')[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


CALLGRIND_DIR = {"path": None}


def instructions(argv, plugin_dir, home, extra_env=None):
    """Instructions executed by argv under callgrind: repeatable where CPU time is noisy. With
    --callgrind-dir the profile is kept there for callgrind_annotate. extra_env: variables set for the
    measured program (c_floors.py's probe reads its fields from one)."""
    out = "/dev/null"
    if CALLGRIND_DIR["path"]:
        capture = next((os.path.basename(a) for a in argv if a.endswith(".pcap")), "none")
        kind = "-2" if "-2" in argv else "fields" if "fields" in argv else "io_stat"
        lua = os.path.isdir(os.path.join(home, ".local", "lib", "wireshark", "plugins", "sipsleuth"))
        side = "lua" if lua else "plain" if plugin_dir is None or not glob.glob(
            os.path.join(plugin_dir, "4.0", "epan", "*.so")) else "plugins"
        out = os.path.join(CALLGRIND_DIR["path"], f"callgrind.{capture[:-5]}.{kind}.{side}.out")
    cmd, env = wsrun.command(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + argv,
                             plugin_dir, home)
    if extra_env:
        # Set for the program itself: an `env` in front of valgrind would be the program measured.
        if env is None:
            at = cmd.index("valgrind")
            cmd = cmd[:at] + [f"{k}={v}" for k, v in sorted(extra_env.items())] + cmd[at:]
        else:
            env = dict(env, **extra_env)
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          errors="replace")
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        sys.exit(f"callgrind failed: {shlex.join(cmd)}\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def bench(name, plain, plugins, runs):
    """plain and plugins are (argv, plugin_dir, home); returns one table row."""
    samples = {"plain": [], "plugins": []}
    measure(*plain)
    measure(*plugins)
    for n in range(runs):
        order = ("plain", "plugins") if n % 2 == 0 else ("plugins", "plain")
        for side in order:
            samples[side].append(measure(*(plain if side == "plain" else plugins)))
    row = {"workload": name}
    for side, values in samples.items():
        row[side] = (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values),
                     max(v[2] for v in values))
    row["cpu_ratio"] = row["plugins"][0] / row["plain"][0]
    row["rss_ratio"] = row["plugins"][2] / row["plain"][2]
    return row


CACHE = {"path": None, "counts": {}, "lock": threading.Lock()}


def cache_key(argv, plugin_dir, home=None):
    """What an instruction count depends on: the command line with the capture named by file name and
    size (the generated names carry the size and the generators' hash), the plugin files (name, size,
    mtime) and tshark's binary."""
    def sign(path, mtime=True):
        st = os.stat(path)
        return [os.path.basename(path), st.st_size] + ([st.st_mtime_ns] if mtime else [])
    args = [sign(a, False) if a.endswith(".pcap") and os.path.exists(a) else a for a in argv]
    plugins = [sign(f) for f in sorted(glob.glob(os.path.join(plugin_dir, "4.0", "epan", "*.so")))]
    if home:  # the Lua plugins of --lua
        lua = os.path.join(home, ".local", "lib", "wireshark", "plugins", "sipsleuth")
        plugins += [sign(f) for f in sorted(glob.glob(os.path.join(lua, "**", "*.lua*"), recursive=True))]
    return json.dumps([args, plugins, sign(wsrun.TSHARK)])


def count_all(jobs, runs):
    """Instruction counts of every (argv, plugin_dir, home) in runs, jobs callgrind processes at a time
    (counts do not depend on load, so they may run side by side). With --cache, counts of the same
    command, capture, plugins and tshark are taken from the cache file."""
    def count(run):
        key = cache_key(run[0], run[1], run[2])
        if key not in CACHE["counts"]:
            value = instructions(*run)
            with CACHE["lock"]:
                CACHE["counts"][key] = value
                if CACHE["path"]:  # merge with what other runs stored meanwhile
                    if os.path.exists(CACHE["path"]):
                        with open(CACHE["path"]) as f:
                            CACHE["counts"] = {**json.load(f), **CACHE["counts"]}
                    partial = f"{CACHE['path']}.{os.getpid()}.partial"
                    with open(partial, "w") as f:
                        json.dump(CACHE["counts"], f)
                    os.replace(partial, CACHE["path"])
        return CACHE["counts"][key]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(count, runs))


class Setup:
    """Everything both sides need: plugin dirs, HOME, extra arguments and the workload command lines."""

    def __init__(self, args, scratch, home):
        self.home = home
        self.empty_dir = os.path.join(scratch, "no-plugins")
        os.makedirs(self.empty_dir, mode=0o755)
        self.plugin_home = home
        if args.lua:
            # The Lua side: no .so, lua-compat/sipsleuth in the personal Lua plugins folder of its own HOME.
            self.plugin_dir = self.empty_dir
            self.plugin_home = wsrun.make_home()
            lua_dir = os.path.join(self.plugin_home, ".local", "lib", "wireshark", "plugins", "sipsleuth")
            wsrun.stage_tree(LUA_SRC, lua_dir)
            for base in (".local", ".local/lib", ".local/lib/wireshark", ".local/lib/wireshark/plugins"):
                os.chmod(os.path.join(self.plugin_home, base), 0o755)
            say(f"plugins: the Lua plugins of {LUA_SRC}, in {lua_dir} (HOME {self.plugin_home}), no .so")
        else:
            self.plugin_dir = ensure_readable(os.path.abspath(args.plugin_dir), home, scratch, "plugin dir")
            so_files = sorted(glob.glob(os.path.join(self.plugin_dir, "4.0", "epan", "*.so")))
            say(f"plugins: {', '.join(os.path.basename(f) for f in so_files) or 'none'} in "
                f"{self.plugin_dir}/4.0/epan")
            if not so_files:
                say("WARNING: no plugin .so files found: the plugins side is plain tshark")
        self.plain_extra = []
        installed = global_plugin_files()
        if installed:
            say(f"WARNING: sipsleuth plugins are installed globally: {', '.join(installed)}")
        leaked = our_protocols(self.empty_dir, home)
        if leaked:
            say(f"WARNING: plain tshark registers {', '.join(leaked)}; disabling them in the plain runs")
        if installed or leaked:
            self.plain_extra = [arg for p in PROTOCOLS for arg in ("--disable-protocol", p)]
        loaded = our_protocols(self.plugin_dir, self.plugin_home)
        say(f"protocols registered with the plugins: {', '.join(loaded) or 'none'}")
        self.fields, plain_fields = our_fields(self.plugin_dir, self.plugin_home), our_fields(self.empty_dir, home)
        # Plain tshark cannot print our fields; it prints as many columns of frame.number instead, so
        # both sides pay the same per-column cost and the ratio is the plugins' own overhead.
        self.plain_fields = plain_fields + ["frame.number"] * (len(self.fields) - len(plain_fields))
        if self.fields:
            say(f"fields workload: frame.number and {len(self.fields)} sipsleuth fields; plain tshark prints "
                f"{len(self.fields) + 1} columns of fields it knows (frame.number repeated)")
        else:
            say("fields workload: no sipsleuth fields found, using frame.number only")

    def workloads(self, capture, names=None):
        """[(name, plain argv, plugins argv)] for capture."""
        def tshark(extra, wanted=None, two_pass=False):
            fields_args = [] if wanted is None else ["-T", "fields"] + [
                arg for field in ["frame.number"] + wanted for arg in ("-e", field)]
            return [wsrun.TSHARK, *extra, *(["-2"] if two_pass else []), "-n", "-r", capture, *fields_args]
        io_stat = ["-q", "-z", "io,stat,0"]
        all_ = [
            ("io,stat", tshark(self.plain_extra) + io_stat, tshark([]) + io_stat),
            ("fields", tshark(self.plain_extra, self.plain_fields), tshark([], self.fields)),
            ("2-pass", tshark(self.plain_extra, two_pass=True) + io_stat, tshark([], two_pass=True) + io_stat),
        ]
        return [w for w in all_ if names is None or w[0] in names]

    def plain(self, argv):
        return (argv, self.empty_dir, self.home)

    def plugins(self, argv):
        return (argv, self.plugin_dir, self.plugin_home)

    def show_commands(self, workloads):
        say("commands (stdout to /dev/null):")
        for name, plain_argv, argv in workloads:
            say(f"  {name} plain:   {shlex.join(wsrun.command(plain_argv, self.empty_dir, self.home)[0])}"[:400]
                + (" ..." if name == "fields" else ""))
            say(f"  {name} plugins: {shlex.join(wsrun.command(argv, self.plugin_dir, self.plugin_home)[0])}"[:400]
                + (" ..." if name == "fields" else ""))
        if os.geteuid() != 0:
            say(f"  (environment: HOME={self.home} WIRESHARK_PLUGIN_DIR=<plain: {self.empty_dir}, "
                f"plugins: {self.plugin_dir}>)")


def startup_counts(setup, empty, jobs, cache, names=None):
    """Instructions of each workload on a capture without packets, per side (cached by workload)."""
    missing = [w for w in setup.workloads(empty, names) if w[0] not in cache]
    runs = [r for name, plain_argv, argv in missing for r in (setup.plain(plain_argv), setup.plugins(argv))]
    counts = count_all(jobs, runs)
    for n, (name, _, _) in enumerate(missing):
        cache[name] = (counts[2 * n], counts[2 * n + 1])
    return cache


def bench_capture(kind, capture, setup, args, empty, startup):
    """CPU/RSS table, instruction table and per-ratio verdicts for one capture; returns the misses."""
    target = (LUA_TARGETS if args.lua else TARGETS)[kind]
    rss_target = LUA_RSS_TARGET if args.lua else RSS_TARGET
    packets = frame_count(capture)
    workloads = setup.workloads(capture, args.workload)
    say()
    say(f"=== {kind} capture: {capture} ({packets:,} packets); targets: CPU and instructions <= "
        f"{target:.2f}x, peak RSS <= {rss_target:.2f}x")
    setup.show_commands(workloads)
    misses, rows = [], []
    if not (args.no_cpu and args.instructions):
        say(f"runs: {args.runs} per side and workload after one warm-up each, alternating order")
        rows = [bench(name, setup.plain(plain_argv), setup.plugins(argv), args.runs)
                for name, plain_argv, argv in workloads]
        say()
    if rows:
        say(f"{'workload':<9} {'CPU s plain':>11} {'plugins':>8} {'ratio':>6} {'':4}   {'wall s plain':>12} "
            f"{'plugins':>8}   {'RSS MiB plain':>13} {'plugins':>8} {'ratio':>6}")
    for r in rows:
        cpu_ok, rss_ok = r["cpu_ratio"] <= target, r["rss_ratio"] <= rss_target
        say(f"{r['workload']:<9} {r['plain'][0]:>11.3f} {r['plugins'][0]:>8.3f} {r['cpu_ratio']:>6.3f} "
            f"{'PASS' if cpu_ok else 'FAIL':4}   {r['plain'][1]:>12.3f} {r['plugins'][1]:>8.3f}   "
            f"{r['plain'][2]:>13.1f} {r['plugins'][2]:>8.1f} {r['rss_ratio']:>6.3f} {'PASS' if rss_ok else 'FAIL'}")
        if not cpu_ok:
            misses.append(f"{kind} {r['workload']} CPU {r['cpu_ratio']:.3f} > {target:.2f}")
        if not rss_ok:
            misses.append(f"{kind} {r['workload']} RSS {r['rss_ratio']:.3f} > {rss_target:.2f}")
    if args.instructions:
        runs = [r for name, plain_argv, argv in workloads for r in (setup.plain(plain_argv), setup.plugins(argv))]
        say()
        say(f"instructions under callgrind ({len(runs)} runs, {args.jobs} at a time; start-up from the same "
            "commands on a capture without packets):")
        counts = count_all(args.jobs, runs)
        startup_counts(setup, empty, args.jobs, startup, args.workload)
        say(f"{'workload':<9} {'instructions plain':>18} {'plugins':>15} {'ratio':>6} {'':4}   "
            f"{'per packet after start-up: plain':>32} {'plugins':>8} {'ratio':>6}")
        for n, (name, _, _) in enumerate(workloads):
            a, b = counts[2 * n], counts[2 * n + 1]
            a0, b0 = startup[name]
            ok = b / a <= target
            per_a, per_b = (a - a0) / packets, (b - b0) / packets
            say(f"{name:<9} {a:>18,} {b:>15,} {b / a:>6.3f} {'PASS' if ok else 'FAIL':4}   "
                f"{per_a:>32,.0f} {per_b:>8,.0f} {per_b / per_a:>6.3f}")
            if not ok:
                misses.append(f"{kind} {name} instructions {b / a:.3f} > {target:.2f}")
        say(f"{'start-up':<9} " + ", ".join(f"{name} {a0:,} / {b0:,}" for name, (a0, b0) in startup.items()))
    return misses


def scaling(sizes, setup, args, empty):
    """Cost per packet after start-up at each size of the SIP-heavy capture, plain and with plugins."""
    metric = args.scaling_metric
    captures = [(n, make_capture(args.workdir, "sip-heavy", n)) for n in sizes]
    captures = [(n, ensure_readable(os.path.abspath(c), setup.home, os.path.dirname(empty), "capture"))
                for n, c in captures]
    name = args.scaling_workload
    say()
    say(f"=== scaling: SIP-heavy capture at {', '.join(f'{n:,}' for n in sizes)} packets, workload {name}, "
        + ("instructions under callgrind" if metric == "instructions"
           else f"median CPU seconds of {args.runs} runs per side"))
    (_, plain0, plugins0), = setup.workloads(empty, [name])
    results = []
    if metric == "instructions":
        runs = [setup.plain(plain0), setup.plugins(plugins0)]
        for _, capture in captures:
            (_, plain_argv, argv), = setup.workloads(capture, [name])
            runs += [setup.plain(plain_argv), setup.plugins(argv)]
        say(f"({len(runs)} callgrind runs, {args.jobs} at a time)")
        counts = count_all(args.jobs, runs)
        base = counts[0], counts[1]
        results = [(n, counts[2 + 2 * i], counts[3 + 2 * i]) for i, (n, _) in enumerate(captures)]
        unit, fmt = "instructions", "{:,.0f}"
    else:
        row = bench(name, setup.plain(plain0), setup.plugins(plugins0), args.runs)
        base = row["plain"][0], row["plugins"][0]
        for n, capture in captures:
            (_, plain_argv, argv), = setup.workloads(capture, [name])
            row = bench(name, setup.plain(plain_argv), setup.plugins(argv), args.runs)
            results.append((n, row["plain"][0], row["plugins"][0]))
        unit, fmt = "CPU s", "{:.3f}"
    say(f"start-up (no packets): plain {fmt.format(base[0])}, plugins {fmt.format(base[1])} {unit}")
    say(f"{'packets':>8} {unit + ' plain':>18} {'plugins':>16} {'ratio':>6}   {'per packet: plain':>17} "
        f"{'plugins':>9} {'extra':>9} {'ratio':>6}")
    per_unit = 1 if metric == "instructions" else 1e6  # CPU per packet in microseconds
    extras, plains = [], []
    for n, a, b in results:
        pa, pb = (a - base[0]) / n * per_unit, (b - base[1]) / n * per_unit
        extras.append(pb - pa)
        plains.append(pa)
        say(f"{n:>8,} {fmt.format(a):>18} {fmt.format(b):>16} {b / a:>6.3f}   {pa:>17,.1f} {pb:>9,.1f} "
            f"{pb - pa:>9,.1f} {pb / pa:>6.3f}")
    if metric == "cpu":
        say("(per packet figures in microseconds of CPU)")
    if extras[0] < 0.02 * plains[0]:
        ok = max(extras) < 0.02 * max(plains)
        say(f"linearity: the plugins' extra cost per packet is below 2% of plain's at {sizes[0]:,}, too small "
            f"to judge growth; {'PASS' if ok else 'FAIL'} (largest extra {max(extras):,.1f})")
        return [] if ok else [f"scaling: extra per packet grows from under 2% to {max(extras):,.1f}"]
    growth = extras[-1] / extras[0]
    ok = growth <= LINEAR_LIMIT
    say(f"linearity: the plugins' extra cost per packet at {sizes[-1]:,} is {growth:.3f}x the one at "
        f"{sizes[0]:,} (limit {LINEAR_LIMIT:.2f}): {'PASS' if ok else 'FAIL'}")
    return [] if ok else [f"scaling growth {growth:.3f} > {LINEAR_LIMIT:.2f}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plugin-dir", help="directory holding 4.0/epan/*.so (required unless --lua)")
    parser.add_argument("--lua", action="store_true",
                        help="measure the Lua plugins (lua-compat/sipsleuth) instead of the .so (issue 12)")
    parser.add_argument("--capture-set", choices=("both", "sip-heavy", "mixed"), default="both",
                        help="generated captures to benchmark (default both: SIP-heavy, then mixed)")
    parser.add_argument("--capture", help="benchmark this capture instead (SIP-heavy targets)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per side and workload")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--packets", type=int, default=GENERATORS["mixed"][1], help="size of the mixed capture")
    parser.add_argument("--sip-packets", type=int, default=GENERATORS["sip-heavy"][1],
                        help="size of the SIP-heavy capture")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under valgrind's callgrind, once per side (slow: "
                             "about a minute per 20,000 packets)")
    parser.add_argument("--jobs", type=int, default=1, help="callgrind runs at a time (default 1)")
    parser.add_argument("--cache", metavar="FILE",
                        help="reuse instruction counts stored in FILE for the same command, capture, plugin "
                             "files and tshark, and store new ones there")
    parser.add_argument("--workload", action="append", choices=("io,stat", "fields", "2-pass"),
                        help="only this workload (repeatable; default all three)")
    parser.add_argument("--callgrind-dir", metavar="DIR",
                        help="keep each callgrind profile in DIR (made world-writable) for callgrind_annotate")
    parser.add_argument("--no-cpu", action="store_true", help="with --instructions: skip the CPU runs")
    parser.add_argument("--scaling", help="comma-separated sizes of the SIP-heavy capture: print the cost per "
                                          "packet at each (and nothing else)")
    parser.add_argument("--scaling-metric", choices=("instructions", "cpu"), default="instructions")
    parser.add_argument("--scaling-workload", choices=("io,stat", "fields", "2-pass"), default="io,stat")
    args = parser.parse_args()
    if not args.plugin_dir and not args.lua:
        parser.error("--plugin-dir is required (or --lua)")

    if args.cache:
        CACHE["path"] = os.path.abspath(args.cache)
        if os.path.exists(CACHE["path"]):
            with open(CACHE["path"]) as f:
                CACHE["counts"] = json.load(f)
            say(f"instruction cache: {len(CACHE['counts'])} counts in {CACHE['path']}")
    if args.callgrind_dir:
        CALLGRIND_DIR["path"] = os.path.abspath(args.callgrind_dir)
        os.makedirs(CALLGRIND_DIR["path"], exist_ok=True)
        os.chmod(CALLGRIND_DIR["path"], 0o777)
    scratch = tempfile.mkdtemp(prefix="sipsleuth-bench-")
    os.chmod(scratch, 0o755)
    home = wsrun.make_home()
    try:
        setup = Setup(args, scratch, home)
        empty = empty_capture(scratch)
        if args.scaling:
            sizes = sorted(int(n) for n in args.scaling.split(","))
            misses = scaling(sizes, setup, args, empty)
        else:
            if args.capture:
                sets = [("custom", args.capture)]
            else:
                kinds = ("sip-heavy", "mixed") if args.capture_set == "both" else (args.capture_set,)
                sizes = {"sip-heavy": args.sip_packets, "mixed": args.packets}
                sets = [(kind, make_capture(args.workdir, kind, sizes[kind])) for kind in kinds]
            misses, startup = [], {}
            for kind, capture in sets:
                capture = ensure_readable(os.path.abspath(capture), home, scratch, "capture")
                misses += bench_capture(kind, capture, setup, args, empty, startup)
        say()
        if misses:
            say(f"verdict: FAIL: {'; '.join(misses)}")
        else:
            say("verdict: PASS (every ratio within its target)")
        return 1 if misses else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        if "setup" in locals() and setup.plugin_home != home:
            shutil.rmtree(setup.plugin_home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
