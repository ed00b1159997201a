#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Wireshark's own fuzzing, applied to our captures with our plugins loaded.

Each capture in captures/ is corrupted by `editcap -E 0.02` with fixed seeds (15 passes; CTest runs 10), then read by
`tshark -nVxr` and by `tshark -nr -2`, under `ulimit -t 600 -s 2033` as Wireshark's fuzz-test.sh does
(2033 KiB of stack: the limit that caught recursive XML walks). A non-zero exit, a crash, or any
"Dissector bug" or "Internal error in sipsleuth" fails the run; the failing file is kept in --work.
"""
import argparse
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import wsrun  # noqa: E402

PASSES = 15
ERROR_PROBABILITY = "0.02"


def check(job):
    corrupted, plugin_dir, home = job
    problems = []
    for args in (["-nVxr", corrupted], ["-nr", corrupted, "-2"]):
        argv = ["sh", "-c", 'ulimit -t 600 && ulimit -s 2033 && exec tshark "$@"', "tshark"] + args
        cmd, env = wsrun.command(argv, plugin_dir, home)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace", timeout=900)
        # -V prints expert infos: a C++ failure caught by wsglue's guard() shows there.
        caught = "Internal error in sipsleuth" in proc.stdout
        if proc.returncode != 0 or "Dissector bug" in proc.stdout + proc.stderr or caught:
            problems.append(f"tshark {' '.join(args)}: exit {proc.returncode}"
                            f"{', internal error' if caught else ''}: {proc.stderr.strip()[-400:]}")
    return corrupted, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin-dir", required=True, help="folder holding 4.0/epan/*.so")
    ap.add_argument("--captures", required=True)
    ap.add_argument("--work", required=True, help="scratch folder; failing files stay here")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--passes", type=int, default=PASSES, help="seeds per capture (CTest uses 10)")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()

    captures = sorted(glob.glob(os.path.join(args.captures, "*.pcap")) + glob.glob(os.path.join(args.captures, "*.pcapng")))
    if not captures:
        print(f"no captures in {args.captures}")
        return 1
    shutil.rmtree(args.work, ignore_errors=True)
    stage = tempfile.mkdtemp(prefix="sipsleuth-editcap-")
    os.chmod(stage, 0o755)
    plugin_dir = os.path.join(stage, "plugins")
    wsrun.stage_tree(args.plugin_dir, plugin_dir)
    corrupted_dir = os.path.join(stage, "corrupted")
    os.makedirs(corrupted_dir, mode=0o755)
    home = wsrun.make_home()

    jobs = []
    for cap in captures:
        name = os.path.splitext(os.path.basename(cap))[0]
        for seed in range(args.first_seed, args.first_seed + args.passes):
            out = os.path.join(corrupted_dir, f"{name}.seed{seed}.pcap")
            subprocess.run(["editcap", "-E", ERROR_PROBABILITY, "--seed", str(seed), cap, out], check=True,
                           capture_output=True)
            os.chmod(out, 0o644)
            jobs.append((out, plugin_dir, home))

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for corrupted, problems in pool.map(check, jobs):
            if problems:
                os.makedirs(args.work, exist_ok=True)
                shutil.copy(corrupted, args.work)
                failures.append((os.path.basename(corrupted), problems))
    for name, problems in failures:
        for p in problems:
            print(f"FAIL {name}: {p}")
    print(f"{len(jobs) - len(failures)} passed, {len(failures)} failed "
          f"({len(captures)} captures x {args.passes} seeds from {args.first_seed}, editcap -E {ERROR_PROBABILITY}, "
          "tshark -nVxr and -2)")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
