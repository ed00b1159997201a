#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What wanting the suite's fields costs before any analysis: the floor of a suite that reads SIP through
wanted fields, against plain tshark (issue 15's speed targets).

A post-dissector that wants fields makes Wireshark build a protocol tree on every pass it runs in, and
the items of those fields for real. tshark -2's first pass builds no tree for plain tshark; a post-
dissector that must see each frame on the first pass (one-pass output, findings on the packet where they
happen) buys one there. The bench-only plugin plugins/wsglue/probe/packet-floor-probe.cc registers one
post-dissector that wants the fields named in SIPSLEUTH_FLOOR_FIELDS and does nothing with them. Sides:
plain tshark; the probe wanting nothing; wanting only `sip`; wanting every foreign field the suite's
plugins declare (read from the sources: `ForeignField name{"field"}`; the suite's own fields are unknown
to the probe and skipped); and with --plugin-dir the suite itself. Workloads: `-q -z io,stat,0` and
`-2 -q -z io,stat,0`, under callgrind as nobody (tests/pylib/wsrun.py), on the generated SIP-heavy capture
and on a capture without packets; the figure is instructions per packet after start-up,
(count - count on the empty capture) / packets, and its ratio to plain tshark's.

Build the probe first: cmake --build build --target floor_probe (it lands in build/floor-plugins).

Usage: /usr/bin/python3 tests/bench/c_floors.py [--floor-dir build/floor-plugins] [--plugin-dir build/plugins]
       [--sip-packets 5000] [--workdir build/bench] [--jobs 2]
"""
import argparse
import concurrent.futures
import glob
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import wsrun  # noqa: E402

WORKLOADS = [("io,stat", ["-q", "-z", "io,stat,0"]), ("2-pass", ["-2", "-q", "-z", "io,stat,0"])]


def suite_foreign_fields():
    """Every field a plugin of the suite declares as a ForeignField (what its post-dissectors want), in
    source order, without duplicates; the test-only probes are left out."""
    names = []
    for path in sorted(glob.glob(os.path.join(bench.ROOT, "plugins", "**", "*.*"), recursive=True)):
        if os.sep + "probe" + os.sep in path or not path.endswith((".cc", ".h")):
            continue
        with open(path, encoding="utf-8") as f:
            for name in re.findall(r'ForeignField\s+\w+\s*\{\s*"([^"]+)"\s*\}', f.read()):
                if name not in names:
                    names.append(name)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floor-dir", default=os.path.join(bench.ROOT, "build", "floor-plugins"),
                        help="where floor_probe.so is, as DIR/4.0/epan (default build/floor-plugins)")
    parser.add_argument("--plugin-dir", help="also measure the suite's plugins of DIR/4.0/epan")
    parser.add_argument("--sip-packets", type=int, default=5000, help="size of the SIP-heavy capture (default 5000)")
    parser.add_argument("--workdir", default=os.path.join(bench.ROOT, "build", "bench"))
    parser.add_argument("--jobs", type=int, default=2, help="callgrind runs at a time (default 2)")
    args = parser.parse_args()
    if not glob.glob(os.path.join(args.floor_dir, "4.0", "epan", "floor_probe.so")):
        sys.exit(f"no floor_probe.so in {args.floor_dir}/4.0/epan: cmake --build build --target floor_probe")
    capture = bench.make_capture(os.path.abspath(args.workdir), "sip-heavy", args.sip_packets)
    packets = bench.frame_count(capture)
    wanted = suite_foreign_fields()
    with tempfile.TemporaryDirectory(prefix="sipsleuth-cfloor-") as scratch:
        empty_dir, home, capture, empty = bench.floor_scratch(scratch, capture)
        floor_dir = bench.ensure_readable(os.path.abspath(args.floor_dir), home, scratch, "floor dir")
        sides = [("plain", empty_dir, None), ("probe, no field", floor_dir, []), ("probe, sip", floor_dir, ["sip"]),
                 ("probe, suite's fields", floor_dir, wanted)]
        if args.plugin_dir:
            suite_dir = bench.ensure_readable(os.path.abspath(args.plugin_dir), home, scratch, "plugin dir")
            sides.append(("suite", suite_dir, None))
        runs = [(side, work, cap) for side in sides for work in WORKLOADS for cap in (capture, empty)]

        def measure(run):
            (_, plugin_dir, fields), (_, extra), cap = run
            return bench.instructions([wsrun.TSHARK, "-n", "-r", cap, *extra], plugin_dir, home,
                                      None if fields is None else {"SIPSLEUTH_FLOOR_FIELDS": ",".join(fields)})

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            counts = dict(zip([(r[0][0], r[1][0], r[2]) for r in runs], pool.map(measure, runs)))
    print(f"capture {capture}: {packets} packets; instructions per packet after start-up, under callgrind")
    print(f"suite's foreign fields: {', '.join(wanted)}")
    print(f"{'post-dissector':<24}" + "".join(f" {w:>12} {'vs plain':>9}" for w, _ in WORKLOADS))
    for name, _, _ in sides:
        line = f"{name:<24}"
        for work, _ in WORKLOADS:
            per = (counts[(name, work, capture)] - counts[(name, work, empty)]) / packets
            plain = (counts[("plain", work, capture)] - counts[("plain", work, empty)]) / packets
            line += f" {per:>12,.0f} {per / plain:>9.3f}"
        print(line)


if __name__ == "__main__":
    main()
