#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Throughput of `sipsleuth report`: captures and packets per second, locally (--jobs N) and on a Dask
cluster of two workers (a dask-scheduler and two dask-workers with one thread each, started here on
127.0.0.1), over the same captures, each run from an empty database. A script, not a test.

    /usr/bin/python3 tests/bench/report_throughput.py --plugin-dir build/plugins [--runs 2] [PATH...]

Without PATH: captures/ (with real/) and ../shared/captures-found, captures-public, captures-public2 when
present. Prints one line per run and a table of medians. Two workers on the same machine share its cores
with the client: this measures the overhead of Dask against local processes, not a cluster's speed-up.
"""
import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORT = os.path.join(ROOT, "tools", "report", "sipsleuth_report.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(workdir, workers):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(os.path.join(workdir, "dask.log"), "w")
    procs = [subprocess.Popen(["dask-scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"], stdout=log, stderr=subprocess.STDOUT)]
    for i in range(workers):
        procs.append(subprocess.Popen(["dask-worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                       "--dashboard-address", ":0", "--local-directory",
                                       os.path.join(workdir, f"w{i}")], stdout=log, stderr=subprocess.STDOUT))
    from distributed import Client
    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def one_run(label, paths, extra, workdir):
    db = os.path.join(workdir, f"{label}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, REPORT, "--progress", "lines", "--db", db, "--markdown", os.devnull,
                           "--html", os.devnull] + extra + paths, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{label}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    captures, packets = sqlite3.connect(db).execute("SELECT COUNT(*), COALESCE(SUM(packets), 0) FROM captures"
                                                    ).fetchone()
    print(f"{label}: {captures} captures, {packets} packets in {seconds:.1f} s: {captures / seconds:.2f} captures/s,"
          f" {packets / seconds:.0f} packets/s", flush=True)
    return seconds, captures, packets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="local processes (default: cores)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (default: 2)")
    args = parser.parse_args()
    paths = args.paths or [os.path.join(ROOT, "captures")] + [
        p for p in (os.path.join(os.path.dirname(ROOT), "shared", d)
                    for d in ("captures-found", "captures-public", "captures-public2")) if os.path.isdir(p)]
    workdir = tempfile.mkdtemp(prefix="sipsleuth-report-bench-")
    plugin = ["--plugin-dir", os.path.abspath(args.plugin_dir)]
    results = {"local": [], "dask": []}
    address, procs = start_cluster(workdir, args.workers)
    try:
        for _ in range(args.runs):
            results["local"].append(one_run("local", paths, plugin + ["--jobs", str(args.jobs)], workdir))
            results["dask"].append(one_run("dask", paths, plugin + ["--scheduler", address], workdir))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n| run | captures | packets | seconds (median of {args.runs}) | captures/s | packets/s |")
    print("|---|---|---|---|---|---|")
    for label, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        _s, captures, packets = runs[0]
        name = f"local, {args.jobs} processes" if label == "local" else f"Dask, {args.workers} workers x 1 thread"
        print(f"| {name} | {captures} | {packets} | {seconds:.1f} | {captures / seconds:.2f} | {packets / seconds:.0f} |")
    print(f"\ncores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.1f} (other work on the machine"
          " counts in these figures)")


if __name__ == "__main__":
    main()
