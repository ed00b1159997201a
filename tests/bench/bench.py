#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark tshark with and without the sipsleuth plugins: CPU time, wall time and peak memory.

The target is that loading the plugins costs at most 10% more CPU and 10% more peak RSS than plain
tshark on a large realistic capture. For each workload the plain and the plugin runs alternate (ABBA
order after one unmeasured warm-up of each), and each child's user+sys CPU time and ru_maxrss come from
os.wait4, so nothing of this script is counted. The plain side gets an empty WIRESHARK_PLUGIN_DIR; the
plugin side gets PLUGIN_DIR (plugins in PLUGIN_DIR/4.0/epan/*.so). As root, tshark runs as nobody
through tests/pylib/wsrun.py, so the capture, plugin dir and HOME must be readable by uid 65534.

Usage: /usr/bin/python3 tests/bench/bench.py --plugin-dir BUILD/plugins [--capture PCAP] [--runs 5]
                                             [--workdir build/bench]
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
import wsrun  # noqa: E402

PROTOCOLS = ("ciscoalarm", "dialoginfo", "rlmi", "mssip", "msrpa", "siptrack")
TARGET = 1.10
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


def make_capture(workdir, packets):
    path = os.path.join(workdir, "large.pcap")
    if os.path.exists(path):
        say(f"capture: reusing {path}")
        return path
    os.makedirs(workdir, exist_ok=True)
    partial = path + ".partial"
    start = time.perf_counter()
    subprocess.run([GEN_PYTHON, os.path.join(HERE, "gen_large.py"), partial, "--packets", str(packets)],
                   check=True)
    os.chmod(partial, 0o644)
    os.replace(partial, path)
    say(f"capture: generated {path} in {time.perf_counter() - start:.1f} s")
    return path


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


def instructions(argv, plugin_dir, home):
    """Instructions executed by argv under callgrind: repeatable where CPU time is noisy."""
    cmd, env = wsrun.command(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
                             plugin_dir, home)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plugin-dir", required=True, help="directory holding 4.0/epan/*.so")
    parser.add_argument("--capture", help="capture to use (default: generate WORKDIR/large.pcap once)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per side and workload")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--packets", type=int, default=220000, help="size of a generated capture")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under valgrind's callgrind, once per side (slow: "
                             "about a minute per 20,000 packets)")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="sipsleuth-bench-")
    os.chmod(scratch, 0o755)
    home = wsrun.make_home()
    empty = os.path.join(scratch, "no-plugins")
    os.makedirs(empty, mode=0o755)
    try:
        capture = os.path.abspath(args.capture or make_capture(args.workdir, args.packets))
        capture = ensure_readable(capture, home, scratch, "capture")
        plugin_dir = ensure_readable(os.path.abspath(args.plugin_dir), home, scratch, "plugin dir")
        so_files = sorted(glob.glob(os.path.join(plugin_dir, "4.0", "epan", "*.so")))
        say(f"plugins: {', '.join(os.path.basename(f) for f in so_files) or 'none'} in {plugin_dir}/4.0/epan")
        if not so_files:
            say("WARNING: no plugin .so files found: the plugins side is plain tshark")

        plain_extra = []
        installed = global_plugin_files()
        if installed:
            say(f"WARNING: sipsleuth plugins are installed globally: {', '.join(installed)}")
        leaked = our_protocols(empty, home)
        if leaked:
            say(f"WARNING: plain tshark registers {', '.join(leaked)}; disabling them in the plain runs")
        if installed or leaked:
            plain_extra = [arg for p in PROTOCOLS for arg in ("--disable-protocol", p)]
        loaded = our_protocols(plugin_dir, home)
        say(f"protocols registered with the plugins: {', '.join(loaded) or 'none'}")
        fields, plain_fields = our_fields(plugin_dir, home), our_fields(empty, home)
        # Plain tshark cannot print our fields; it prints as many columns of frame.number instead, so
        # both sides pay the same per-column cost and the ratio is the plugins' own overhead.
        plain_fields = plain_fields + ["frame.number"] * (len(fields) - len(plain_fields))
        if fields:
            say(f"fields workload: frame.number and {len(fields)} sipsleuth fields; plain tshark prints "
                f"{len(fields) + 1} columns of fields it knows (frame.number repeated)")
        else:
            say("fields workload: no sipsleuth fields found, using frame.number only")

        def tshark(extra, wanted=None):
            fields_args = [] if wanted is None else ["-T", "fields"] + [
                arg for field in ["frame.number"] + wanted for arg in ("-e", field)]
            return [wsrun.TSHARK, *extra, "-n", "-r", capture, *fields_args]

        io_stat = ["-q", "-z", "io,stat,0"]
        workloads = [  # (name, plain argv, plugins argv)
            ("io,stat", tshark(plain_extra) + io_stat, tshark([]) + io_stat),
            ("fields", tshark(plain_extra, plain_fields), tshark([], fields)),
        ]
        say("commands (stdout to /dev/null):")
        for name, plain_argv, argv in workloads:
            say(f"  {name} plain:   {shlex.join(wsrun.command(plain_argv, empty, home)[0])}")
            say(f"  {name} plugins: {shlex.join(wsrun.command(argv, plugin_dir, home)[0])}")
        if os.geteuid() != 0:
            say(f"  (environment: HOME={home} WIRESHARK_PLUGIN_DIR=<plain: {empty}, plugins: {plugin_dir}>)")
        say(f"runs: {args.runs} per side and workload after one warm-up each, alternating order")
        say()

        rows = []
        for name, plain_argv, argv in workloads:
            rows.append(bench(name, (plain_argv, empty, home), (argv, plugin_dir, home), args.runs))

        say(f"{'workload':<9} {'CPU s plain':>11} {'plugins':>8} {'ratio':>6}   {'wall s plain':>12} "
            f"{'plugins':>8}   {'RSS MiB plain':>13} {'plugins':>8} {'ratio':>6}")
        for r in rows:
            say(f"{r['workload']:<9} {r['plain'][0]:>11.3f} {r['plugins'][0]:>8.3f} {r['cpu_ratio']:>6.3f}   "
                f"{r['plain'][1]:>12.3f} {r['plugins'][1]:>8.3f}   {r['plain'][2]:>13.1f} "
                f"{r['plugins'][2]:>8.1f} {r['rss_ratio']:>6.3f}")
        if args.instructions:
            say()
            say(f"{'workload':<9} {'instructions plain':>18} {'plugins':>15} {'ratio':>6}")
            for name, plain_argv, argv in workloads:
                a, b = instructions(plain_argv, empty, home), instructions(argv, plugin_dir, home)
                say(f"{name:<9} {a:>18,} {b:>15,} {b / a:>6.3f}")
        misses = [f"{r['workload']} {kind} {r[key]:.3f}" for r in rows
                  for kind, key in (("CPU", "cpu_ratio"), ("RSS", "rss_ratio")) if r[key] > TARGET]
        say()
        if misses:
            say(f"verdict: FAIL (target CPU and RSS ratio <= {TARGET:.2f}): {'; '.join(misses)}")
        else:
            say(f"verdict: PASS (every CPU and RSS ratio <= {TARGET:.2f})")
        return 1 if misses else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
