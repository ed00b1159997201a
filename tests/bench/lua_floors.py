#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the least possible Lua post-dissector costs, against plain tshark (issue 12's speed floor).

Each script in tests/bench/lua_floors/ is a Lua post-dissector that does less than any SIP analysis can:
0 nothing at all; 1 wants one SIP field (sip.Call-ID) and counts it; 2 wants no field, takes each frame's
bytes as a Lua string and finds a Call-ID with one string.find; 3 wants the `sip` item and does the same
per SIP message. With --suite the Lua plugins of lua-compat/sipsleuth are measured beside them. Each runs
`tshark -n -r CAP -q -z io,stat,0 -X lua_script:FLOOR` under callgrind as nobody (tests/pylib/wsrun.py),
on the generated SIP-heavy capture and on a capture without packets; the figure is instructions per
packet after start-up, (count - count on the empty capture) / packets, and its ratio to plain tshark's.

Usage: /usr/bin/python3 tests/bench/lua_floors.py [--sip-packets 5000] [--workdir build/bench] [--suite]
"""
import argparse
import concurrent.futures
import glob
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import wsrun  # noqa: E402

FLOORS = sorted(glob.glob(os.path.join(HERE, "lua_floors", "*.lua")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sip-packets", type=int, default=5000, help="size of the SIP-heavy capture (default 5000)")
    parser.add_argument("--workdir", default=os.path.join(bench.ROOT, "build", "bench"))
    parser.add_argument("--suite", action="store_true", help="also measure the Lua plugins of lua-compat/sipsleuth")
    parser.add_argument("--jobs", type=int, default=2, help="callgrind runs at a time (default 2)")
    args = parser.parse_args()
    capture = bench.make_capture(os.path.abspath(args.workdir), "sip-heavy", args.sip_packets)
    packets = bench.frame_count(capture)
    with tempfile.TemporaryDirectory(prefix="sipsleuth-luafloor-") as scratch:
        empty_dir, home, capture, empty = bench.floor_scratch(scratch, capture)
        sides = [("plain", [], home)]
        for path in FLOORS:
            staged = os.path.join(scratch, os.path.basename(path))
            shutil.copy(path, staged)
            os.chmod(staged, 0o644)
            sides.append((os.path.basename(path)[:-4], ["-X", f"lua_script:{staged}"], home))
        if args.suite:
            suite_home = wsrun.make_home()
            wsrun.stage_tree(bench.LUA_SRC, os.path.join(suite_home, ".local", "lib", "wireshark", "plugins",
                                                         "sipsleuth"))
            sides.append(("lua-compat suite", [], suite_home))
        runs = [(name, cap, extra, h) for name, extra, h in sides for cap in (capture, empty)]

        def count(run):
            name, cap, extra, h = run
            return bench.instructions([wsrun.TSHARK, "-n", "-r", cap, "-q", "-z", "io,stat,0", *extra], empty_dir, h)

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            counts = dict(zip([(r[0], r[1]) for r in runs], pool.map(count, runs)))
    per = {name: (counts[(name, capture)] - counts[(name, empty)]) / packets for name, _, _ in sides}
    print(f"capture {capture}: {packets} packets; instructions per packet after start-up "
          f"(tshark -n -r CAP -q -z io,stat,0 [-X lua_script:FLOOR], under callgrind)")
    print(f"{'post-dissector':<22} {'per packet':>12} {'vs plain':>9}")
    for name, _, _ in sides:
        print(f"{name:<22} {per[name]:>12,.0f} {per[name] / per['plain']:>9.3f}")


if __name__ == "__main__":
    main()
