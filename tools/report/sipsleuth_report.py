#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""sipsleuth report PATH...: what sipsleuth finds in a folder tree of captures, in one SQLite database and
a Markdown and an HTML summary (docs/report.md).

Each capture (pcap, pcapng, cap, and those gzip-compressed) is examined by one `tshark -2` run with our
plugins (sipsleuth_examine.py), in parallel on this machine's cores, or on an existing Dask cluster with
--scheduler. A capture tshark cannot read (truncated, damaged, empty, not a capture) is listed with its
error and the batch goes on. Captures are keyed by the SHA-256 of their bytes: a rerun skips those done
unless --force.
"""
import argparse
import concurrent.futures
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sipsleuth_examine as examine_mod  # noqa: E402
from sipsleuth_store import Store, html_page, markdown  # noqa: E402

SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz")
RESUBMITS = 3          # times a capture whose Dask task was lost is submitted again


def discover(paths):
    """(path, size) of every capture under paths: files given are taken whatever their name (a file that
    is no capture is then listed as such); in folders, files named like captures. Largest first."""
    found, seen = [], set()
    for top in paths:
        if os.path.isdir(top):
            for base, dirs, files in os.walk(top):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(SUFFIXES):
                        found.append(os.path.join(base, name))
        elif os.path.exists(top):
            found.append(top)
        else:
            raise SystemExit(f"sipsleuth report: no such file or folder: {top}")
    out = []
    for path in found:
        path = os.path.abspath(path)
        if path not in seen and os.path.isfile(path):
            seen.add(path)
            out.append((path, os.path.getsize(path)))
    out.sort(key=lambda item: (-item[1], item[0]))
    return out


class Progress:
    """A progress bar on a terminal, one plain line per capture otherwise."""

    def __init__(self, total, stream=sys.stderr, tty=None):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self.packets = 0
        self.width = 30

    def start(self):
        """The empty bar, before the first capture is done (a large one can take minutes)."""
        self.started = time.monotonic()
        if self.tty and self.total:
            self.stream.write(f"\r\033[K[{'.' * self.width}] 0/{self.total}")
            self.stream.flush()

    def note(self, text):
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def update(self, result):
        self.done += 1
        self.packets += result.get("packets") or 0
        counts = {}
        for f in result["findings"]:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        tally = ", ".join(f"{counts[s]} {s.lower()}{'s' if counts[s] > 1 else ''}"
                          for s in ("Error", "Warning", "Note") if counts.get(s))
        if self.tty:
            elapsed = time.monotonic() - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else 0
            filled = int(self.width * self.done / max(self.total, 1))
            name = os.path.basename(result["path"])[:40]
            if result["status"] != "ok":
                self.note(f"{result['status']}: {result['path']}: {result['error']}")
            self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                              f"  {rate:.1f} captures/s  eta {int(eta) // 60}:{int(eta) % 60:02d}  {name}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        else:
            detail = result["error"] if result["status"] != "ok" else (tally or "no findings")
            self.stream.write(f"[{self.done}/{self.total}] {result['status']:<11} {result['path']}: {detail}"
                              f" ({result['seconds']:.1f} s)\n")
            self.stream.flush()


def run_local(jobs, workers, on_result):
    """Examine jobs in worker processes on this machine."""
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(examine_mod.examine, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker process fails its capture, not the batch
                result = failed(job, f"{type(exc).__name__}: {exc}")
            on_result(result)


def failed(job, error):
    return {"path": job["path"], "sha256": job["sha256"], "size": job["size"], "status": "failed",
            "error": error, "packets": None, "bytes": None, "duration": None, "malformed_frames": 0,
            "findings": [], "worker": "", "seconds": 0.0}


def run_dask(jobs, args, on_result, progress):
    """Examine jobs on the Dask cluster at args.scheduler, at most a few per worker thread in flight (the
    capture's bytes travel with its task unless --send-paths). A task lost with its worker is run again
    by the scheduler; one that still fails is submitted again, up to RESUBMITS times."""
    try:
        from distributed import Client, as_completed
        from distributed.diagnostics.plugin import UploadFile
    except ImportError:
        raise SystemExit("sipsleuth report: --scheduler needs Dask (Debian: apt-get install python3-distributed)")
    client = Client(args.scheduler, timeout=args.connect_timeout)
    try:
        client.register_worker_plugin(UploadFile(os.path.join(HERE, "sipsleuth_examine.py")),
                                      name="sipsleuth-examine")
        plugin_dir = args.plugin_dir
        loaded = client.run(lambda: __import__("sipsleuth_examine").loaded_protocols(plugin_dir))
        missing = {w: p for w, p in loaded.items() if len(p) != len(examine_mod.PROTOCOLS)}
        if not loaded:
            raise SystemExit(f"sipsleuth report: no worker on {args.scheduler}")
        if missing:
            raise SystemExit("sipsleuth report: tshark on these workers does not load the sipsleuth plugins"
                             f" (install them there, or give --plugin-dir): {', '.join(sorted(missing))}")
        progress.note(f"Dask: {len(loaded)} workers on {args.scheduler}")
        window = max(2, 2 * sum(client.nthreads().values()))
        pending = list(reversed(jobs))
        attempts = {}
        running = as_completed()

        def submit(job):
            attempts[job["sha256"]] = attempts.get(job["sha256"], 0) + 1
            task = dict(job)
            if not args.send_paths:
                with open(job["path"], "rb") as f:
                    task["data"] = f.read()
            key = f"sipsleuth-{job['sha256'][:16]}-{attempts[job['sha256']]}-{os.getpid()}"
            future = client.submit(examine_mod.examine, task, key=key, pure=False)
            future.job = job
            running.add(future)

        while pending and running.count() < window:
            submit(pending.pop())
        for future in running:
            job = future.job
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, lost connection: try again
                if attempts[job["sha256"]] <= RESUBMITS:
                    progress.note(f"resubmitting {job['path']}: {type(exc).__name__}: {exc}")
                    submit(job)
                    continue
                result = failed(job, f"{type(exc).__name__}: {exc}")
            finally:
                future.release()
            on_result(result)
            while pending and running.count() < window:
                submit(pending.pop())
    finally:
        client.close()


def parse_args(argv):
    p = argparse.ArgumentParser(prog="sipsleuth report", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Exit status: 0 when every capture was examined (bad input included),"
                                       " 1 when some failed (they are tried again next run), 2 on usage errors.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="capture files and folders (searched recursively)")
    p.add_argument("--db", default="sipsleuth-report.sqlite", help="SQLite database (default: %(default)s)")
    p.add_argument("--markdown", help="Markdown summary (default: the database's name with .md)")
    p.add_argument("--html", help="HTML summary (default: the database's name with .html)")
    p.add_argument("--force", action="store_true", help="examine again captures the database has done")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2,
                   help="captures examined at once on this machine (default: the number of cores, %(default)s)")
    p.add_argument("--scheduler", help="run the per-capture work on the Dask cluster at this address"
                                       " (tcp://HOST:8786); each worker needs tshark and the plugins")
    p.add_argument("--send-paths", action="store_true",
                   help="with --scheduler: workers read captures at the same paths (a shared file system)"
                        " instead of receiving their bytes")
    p.add_argument("--connect-timeout", type=float, default=30, help="seconds to reach the scheduler")
    p.add_argument("--plugin-dir", help="folder with 4.0/epan/sipsleuth.so (default: the installed plugins)")
    p.add_argument("--timeout", type=float, default=600, help="seconds one capture may take (default: 600)")
    p.add_argument("-d", "--decode-as", action="append", default=[], metavar="RULE",
                   help="tshark -d rule for every capture (tcp.port==6060,sip); repeatable")
    p.add_argument("--max-incidents", type=int, default=200, help="incidents listed per capture in the summaries")
    p.add_argument("--progress", choices=("auto", "bar", "lines"), default="auto",
                   help="a progress bar (default on a terminal) or one line per capture")
    args = p.parse_args(argv)
    if args.plugin_dir:
        args.plugin_dir = os.path.abspath(args.plugin_dir)
        if not os.path.isfile(os.path.join(args.plugin_dir, "4.0", "epan", "sipsleuth.so")):
            p.error(f"no 4.0/epan/sipsleuth.so in {args.plugin_dir}")
    stem = os.path.splitext(args.db)[0]
    args.markdown = args.markdown or stem + ".md"
    args.html = args.html or stem + ".html"
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    captures = discover(args.paths)
    progress = Progress(0, tty={"auto": None, "bar": True, "lines": False}[args.progress])
    if not args.scheduler:
        loaded = examine_mod.loaded_protocols(args.plugin_dir)
        if len(loaded) != len(examine_mod.PROTOCOLS):
            where = args.plugin_dir or "the installed plugins"
            raise SystemExit(f"sipsleuth report: tshark does not load the sipsleuth plugins ({where}); run"
                             " ./sipsleuth analyze once (it builds and installs them) or give --plugin-dir")
    store = Store(args.db)
    started = time.monotonic()
    jobs, hashes, skipped, queued = [], [], 0, {}
    for path, size in captures:
        sha256 = examine_mod.sha256_file(path)
        hashes.append(sha256)
        if not args.force and store.done(sha256):
            store.see_path(path, sha256)
            skipped += 1
            continue
        if sha256 in queued:            # the same bytes twice in this batch: examined once
            store_later = queued[sha256]
            store_later.append(path)
            continue
        queued[sha256] = []
        jobs.append({"path": path, "sha256": sha256, "size": size, "plugin_dir": args.plugin_dir,
                     "timeout": args.timeout, "decode_as": args.decode_as})
    progress.total = len(jobs)
    progress.note(f"sipsleuth report: {len(captures)} captures, {len(jobs)} to examine, {skipped} already done"
                  f" (skipped; --force examines them again) -> {args.db}")
    failures = 0
    progress.start()

    def on_result(result):
        nonlocal failures
        store.save(result)
        for twin in queued.get(result["sha256"], ()):
            store.see_path(twin, result["sha256"])
        failures += result["status"] == "failed"
        progress.update(result)

    if jobs:
        if args.scheduler:
            run_dask(jobs, args, on_result, progress)
        else:
            run_local(jobs, max(1, args.jobs), on_result)
    summary = store.summary(sorted(set(hashes)), args.max_incidents)
    with open(args.markdown, "w", encoding="utf-8") as f:
        f.write(markdown(summary))
    with open(args.html, "w", encoding="utf-8") as f:
        f.write(html_page(summary))
    store.close()
    elapsed = time.monotonic() - started
    progress.note(f"{len(jobs)} examined in {elapsed:.1f} s ({progress.packets} packets), {failures} failed;"
                  f" summaries: {args.markdown}, {args.html}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
