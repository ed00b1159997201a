#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark tshark with and without the sipsleuth plugins on hostile capture shapes at two sizes.

Issue 14's target: on each shape of gen_hostile.py (notify_rst, msrp_close, big_dialog_info,
many_headers) at two sizes, the plugins stay within 3x plain tshark's CPU and 1.5x its peak RSS, the
ratios do not grow with size, and the plugins raise no "Dissector bug" (nor more malformed packets than
plain tshark). Captures are generated once into WORKDIR (named by shape, size and a hash of the
generator, so a changed generator regenerates them).

For each capture: one check run per side, `tshark -n -r CAP -2` with the packet summary to a file,
counting the packets with "Dissector bug" and "Malformed Packet" (it is also the warm-up); then --runs
measured runs per side of `tshark -n -r CAP -2 -q -z io,stat,0`, alternating plain/plugins, each
child's user+sys CPU and ru_maxrss from os.wait4 (as bench.py). Every run is capped at --timeout
seconds: a run that hits it is killed, reported as "timeout" and counted as a failure, and that side
of that capture is not run again.

Usage: /usr/bin/python3 tests/bench/hostile.py --plugin-dir BUILD/plugins [--runs 3] [--timeout 120]
           [--workdir build/bench-hostile] [--shape NAME ...] [--size NAME=SMALL,LARGE ...]
"""
import argparse
import glob
import hashlib
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
from bench import PROTOCOLS, GEN_PYTHON, ROOT, say, wsrun  # noqa: E402

# Default sizes: small and twice that, chosen so that a linear build runs the whole benchmark in a few
# minutes on a 2-core machine, and the quadratic paths of issue 14 still show at the larger size.
SIZES = {
    "notify_rst": (5000, 10000),      # subscriptions, each on its own TCP connection
    "msrp_close": (4000, 8000),       # MSRP connections, each after its own INVITE/200/ACK
    "big_dialog_info": (50, 100),     # NOTIFYs with a 122 KB, 1,500-dialog body
    "many_headers": (100, 200),      # MESSAGEs with 494 Content-ID and 493 ms-diagnostics headers
}
CPU_LIMIT, RSS_LIMIT = 3.0, 1.5
# "Does not grow": the large size's ratio may exceed the small size's by at most 25% plus an absolute
# noise margin (CPU on a shared 2-core machine moves by 5-20% between runs; peak RSS is steadier).
GROWTH_FACTOR, CPU_MARGIN, RSS_MARGIN = 1.25, 0.10, 0.05
# A ratio can stay flat while the plugins' own work grows faster than the size when plain tshark's cost
# dominates, so the plugins' extra CPU (plugins minus plain) is judged too: growth exponent
# log(extra large / extra small) / log(n large / n small) is about 1 for linear work and 2 for quadratic;
# above EXPONENT_LIMIT it grows, counted only when both extras exceed 0.1 s and the large one 0.5 s
# (below that, run-to-run noise decides the exponent).
EXPONENT_LIMIT, EXTRA_FLOOR, EXTRA_SIGNIFICANT = 1.5, 0.1, 0.5


def generator_stamp():
    digest = hashlib.sha256()
    for path in (os.path.join(HERE, "gen_hostile.py"), os.path.join(ROOT, "captures", "sipstory.py")):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:8]


def make_capture(workdir, shape, n, stamp):
    path = os.path.join(workdir, f"{shape}-{n}-{stamp}.pcap")
    if os.path.exists(path):
        return path, "reused"
    os.makedirs(workdir, exist_ok=True)
    partial = path + ".partial"
    start = time.perf_counter()
    subprocess.run([GEN_PYTHON, os.path.join(HERE, "gen_hostile.py"), shape, partial, "--n", str(n)],
                   check=True, stdout=subprocess.DEVNULL)
    os.chmod(partial, 0o644)
    os.replace(partial, path)
    return path, f"generated in {time.perf_counter() - start:.1f} s"


def frame_count(path):
    """Frames of a classic pcap (16-byte record headers after the 24-byte file header)."""
    count = 0
    with open(path, "rb") as f:
        f.seek(24)
        while True:
            head = f.read(16)
            if len(head) < 16:
                return count
            f.seek(int.from_bytes(head[8:12], "little"), 1)
            count += 1


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def measure(argv, plugin_dir, home, timeout):
    """Run argv once; returns (cpu s, wall s, peak RSS MiB, None) or (cpu, wall, rss, 'timeout'/'exit N')."""
    cmd, env = wsrun.command(argv, plugin_dir, home)
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errors, start_new_session=True)
        failure = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                kill_group(proc)
                _, status, usage = os.wait4(proc.pid, 0)
                failure = "timeout"
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if not failure and proc.returncode != 0:
            errors.seek(0)
            failure = f"exit {proc.returncode}"
            say(f"  failed ({failure}): {shlex.join(cmd)}\n{errors.read().decode(errors='replace')[-1000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, failure


PACKET = re.compile(rb"in packet (\d+)")
FIRST_FIELD = re.compile(rb"\s*(\d+)\s")


def check(argv, plugin_dir, home, timeout):
    """One summary run (also the warm-up): returns (packets with a Dissector bug, packets marked Malformed,
    failure), each packet counted once whether the summary line or a warning on stderr names it."""
    cmd, env = wsrun.command(argv, plugin_dir, home)
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait()
            return None, None, "timeout"
        out.seek(0)
        bugs, malformed = set(), set()
        for n, line in enumerate(out):
            # A packet number: "in packet N" of Epan's warning on stderr, else the summary line's first field.
            found = PACKET.search(line) or FIRST_FIELD.match(line)
            where = int(found.group(1)) if found else -n
            if b"Dissector bug" in line:
                bugs.add(where)
            if b"Malformed Packet" in line:
                malformed.add(where)
    return len(bugs), len(malformed), None if proc.returncode == 0 else f"exit {proc.returncode}"


def bench_capture(capture, sides, runs, timeout):
    """sides: {'plain': (argv prefix, plugin_dir), 'plugins': ...}; returns a dict of results per side."""
    result = {}
    for side, (prefix, plugin_dir, home) in sides.items():
        bugs, malformed, failure = check(prefix + ["-n", "-r", capture, "-2"], plugin_dir, home, timeout)
        result[side] = {"bugs": bugs, "malformed": malformed, "failure": failure, "samples": []}
    for n in range(runs):
        for side in (("plain", "plugins") if n % 2 == 0 else ("plugins", "plain")):
            r = result[side]
            if r["failure"]:
                continue
            prefix, plugin_dir, home = sides[side]
            argv = prefix + ["-n", "-r", capture, "-2", "-q", "-z", "io,stat,0"]
            cpu, wall, rss, failure = measure(argv, plugin_dir, home, timeout)
            r["samples"].append((cpu, wall, rss))
            if failure:
                r["failure"] = failure
    for r in result.values():
        s = r["samples"]
        r["cpu"] = statistics.median(v[0] for v in s) if s and not r["failure"] else None
        r["wall"] = statistics.median(v[1] for v in s) if s and not r["failure"] else None
        r["rss"] = max(v[2] for v in s) if s else None
    return result


def fmt(value, spec):
    return format(value, spec) if value is not None else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plugin-dir", required=True, help="directory holding 4.0/epan/*.so")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side and capture")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a run is killed (FAIL)")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench-hostile"))
    parser.add_argument("--shape", action="append", choices=sorted(SIZES), help="only this shape (repeatable)")
    parser.add_argument("--size", action="append", default=[], metavar="SHAPE=SMALL,LARGE",
                        help="sizes for a shape (default: " +
                             "; ".join(f"{k}={a},{b}" for k, (a, b) in SIZES.items()) + ")")
    args = parser.parse_args()
    sizes = dict(SIZES)
    for item in args.size:
        name, _, values = item.partition("=")
        small, _, large = values.partition(",")
        if name not in SIZES or not small.isdigit() or not large.isdigit():
            parser.error(f"bad --size {item!r}: want SHAPE=SMALL,LARGE with SHAPE one of {', '.join(SIZES)}")
        sizes[name] = (int(small), int(large))
    shapes = args.shape or list(SIZES)

    scratch = tempfile.mkdtemp(prefix="sipsleuth-hostile-")
    os.chmod(scratch, 0o755)
    home = wsrun.make_home()
    empty = os.path.join(scratch, "no-plugins")
    os.makedirs(empty, mode=0o755)
    try:
        plugin_dir = bench.ensure_readable(os.path.abspath(args.plugin_dir), home, scratch, "plugin dir")
        so_files = sorted(glob.glob(os.path.join(plugin_dir, "4.0", "epan", "*.so")))
        say(f"plugins: {', '.join(os.path.basename(f) for f in so_files) or 'none'} in {plugin_dir}/4.0/epan")
        plain_extra = []
        installed, leaked = bench.global_plugin_files(), bench.our_protocols(empty, home)
        if installed:
            say(f"WARNING: sipsleuth plugins are installed globally: {', '.join(installed)}")
        if leaked:
            say(f"WARNING: plain tshark registers {', '.join(leaked)}; disabling them in the plain runs")
        if installed or leaked:
            plain_extra = [arg for p in PROTOCOLS for arg in ("--disable-protocol", p)]
        say(f"protocols registered with the plugins: {', '.join(bench.our_protocols(plugin_dir, home)) or 'none'}")
        sides = {"plain": ([wsrun.TSHARK] + plain_extra, empty, home), "plugins": ([wsrun.TSHARK], plugin_dir, home)}
        example = [wsrun.TSHARK, "-n", "-r", "CAP", "-2", "-q", "-z", "io,stat,0"]
        say("commands (stdout to /dev/null):")
        say(f"  plain:   {shlex.join(wsrun.command(sides['plain'][0] + example[1:], empty, home)[0])}")
        say(f"  plugins: {shlex.join(wsrun.command(example, plugin_dir, home)[0])}")
        say("  check (also the warm-up): the same with `-n -r CAP -2` and no -q/-z, output scanned for "
            "\"Dissector bug\" and \"Malformed Packet\"")
        say(f"runs: {args.runs} per side and capture, alternating order, timeout {args.timeout:.0f} s per run")
        say()

        stamp = generator_stamp()
        rows = []
        for shape in shapes:
            for size in sizes[shape]:
                path, how = make_capture(args.workdir, shape, size, stamp)
                capture = bench.ensure_readable(os.path.abspath(path), home, scratch, "capture")
                frames = frame_count(path)
                say(f"{shape} n={size}: {path} ({frames} frames, {os.path.getsize(path) / 1e6:.1f} MB, {how})")
                start = time.perf_counter()
                result = bench_capture(capture, sides, args.runs, args.timeout)
                row = {"shape": shape, "n": size, "frames": frames, **result}
                p, q = result["plain"], result["plugins"]
                row["cpu_ratio"] = q["cpu"] / p["cpu"] if p["cpu"] and q["cpu"] is not None else None
                row["rss_ratio"] = q["rss"] / p["rss"] if p["rss"] and q["rss"] is not None else None
                rows.append(row)
                say(f"  plain {fmt(p['cpu'], '.2f')} s {fmt(p['rss'], '.0f')} MiB, plugins "
                    f"{q['failure'] or fmt(q['cpu'], '.2f') + ' s'} {fmt(q['rss'], '.0f')} MiB "
                    f"({time.perf_counter() - start:.0f} s)")
        say()
        say(f"{'shape':<16} {'n':>6} {'frames':>8}   {'CPU s plain':>11} {'plugins':>8} {'ratio':>6}   "
            f"{'RSS MiB plain':>13} {'plugins':>8} {'ratio':>6}   {'bugs':>4} {'malformed':>9}")
        for r in rows:
            p, q = r["plain"], r["plugins"]
            say(f"{r['shape']:<16} {r['n']:>6} {r['frames']:>8}   {p['failure'] or fmt(p['cpu'], '.3f'):>11} "
                f"{q['failure'] or fmt(q['cpu'], '.3f'):>8} {fmt(r['cpu_ratio'], '.2f'):>6}   "
                f"{fmt(p['rss'], '.1f'):>13} {fmt(q['rss'], '.1f'):>8} {fmt(r['rss_ratio'], '.2f'):>6}   "
                f"{fmt(q['bugs'], 'd'):>4} {fmt(q['malformed'], 'd') + '/' + fmt(p['malformed'], 'd'):>9}")
        say("(bugs: packets with a \"Dissector bug\" with the plugins; malformed: packets shown as "
            "\"Malformed Packet\", plugins/plain)")

        misses = []
        for r in rows:
            at = f"{r['shape']} n={r['n']}"
            for side in ("plain", "plugins"):
                if r[side]["failure"]:
                    misses.append(f"{at} {side} {r[side]['failure']}")
            if r["cpu_ratio"] is not None and r["cpu_ratio"] > CPU_LIMIT:
                misses.append(f"{at} CPU {r['cpu_ratio']:.2f}x")
            if r["rss_ratio"] is not None and r["rss_ratio"] > RSS_LIMIT:
                misses.append(f"{at} RSS {r['rss_ratio']:.2f}x")
            if r["plugins"]["bugs"]:
                misses.append(f"{at} Dissector bug in {r['plugins']['bugs']} packets")
            if (r["plugins"]["malformed"] or 0) > (r["plain"]["malformed"] or 0):
                misses.append(f"{at} malformed {r['plugins']['malformed']} vs plain {r['plain']['malformed']}")
        say()
        say(f"growth (large vs small size): ratio_large <= ratio_small * {GROWTH_FACTOR} + margin "
            f"(CPU {CPU_MARGIN}, RSS {RSS_MARGIN}); exponent of the plugins' extra CPU = log(extra large / "
            f"extra small) / log(n large / n small), 1 linear, 2 quadratic: <= {EXPONENT_LIMIT} (judged when "
            f"both extras > {EXTRA_FLOOR} s and the large one >= {EXTRA_SIGNIFICANT} s)")
        for shape in shapes:
            small, large = [r for r in rows if r["shape"] == shape]
            parts = []
            for kind, key, margin in (("CPU", "cpu_ratio", CPU_MARGIN), ("RSS", "rss_ratio", RSS_MARGIN)):
                a, b = small[key], large[key]
                if a is None or b is None:
                    parts.append(f"{kind} n/a")
                    continue
                grows = b > a * GROWTH_FACTOR + margin
                parts.append(f"{kind} {a:.2f} -> {b:.2f}{' GROWS' if grows else ''}")
                if grows:
                    misses.append(f"{shape} {kind} ratio grows {a:.2f} -> {b:.2f}")
            extras = [r["plugins"]["cpu"] - r["plain"]["cpu"] if r["cpu_ratio"] is not None else None
                      for r in (small, large)]
            if None not in extras and min(extras) > EXTRA_FLOOR and large["n"] > small["n"]:
                exponent = math.log(extras[1] / extras[0]) / math.log(large["n"] / small["n"])
                grows = exponent > EXPONENT_LIMIT and extras[1] >= EXTRA_SIGNIFICANT
                parts.append(f"extra CPU {extras[0]:.2f} -> {extras[1]:.2f} s, exponent {exponent:.2f}"
                             f"{' GROWS' if grows else ''}")
                if grows:
                    misses.append(f"{shape} extra CPU grows with exponent {exponent:.2f} "
                                  f"({extras[0]:.2f} -> {extras[1]:.2f} s)")
            elif None not in extras:
                parts.append(f"extra CPU {extras[0]:.2f} -> {extras[1]:.2f} s")
            say(f"  {shape:<16} {'; '.join(parts)}")
        say()
        if misses:
            say(f"verdict: FAIL (target: CPU <= {CPU_LIMIT}x and RSS <= {RSS_LIMIT}x plain at each size, ratios "
                f"not growing, no Dissector bug, no timeout): {'; '.join(misses)}")
        else:
            say(f"verdict: PASS (every shape at both sizes: CPU <= {CPU_LIMIT}x and RSS <= {RSS_LIMIT}x plain, "
                f"ratios not growing, no Dissector bug, no timeout)")
        return 1 if misses else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
