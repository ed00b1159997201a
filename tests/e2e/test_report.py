# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 13, items 3 and 4: `sipsleuth report` over every capture we have (captures/ with captures/real/,
and ../shared/captures-found, captures-public, captures-public2 when present) plus bad input (a corrupt,
a truncated, an empty and a non-capture file, and a gzip-compressed capture), locally and on a real Dask
cluster (a dask-scheduler and two dask-workers on 127.0.0.1, started here on free ports), and the -T ek
field set with its index template.

- The rows in SQLite are what `tshark -2` gives capture by capture, computed here on its own: every expert
  item of our protocols in the PDML of the frames with an expert item (frame, time, severity, group,
  expert field, message), and each frame's <protocol>.caused_by links are the links of its findings.
- Bad input is listed with tshark's own error and the batch goes on; a rerun skips everything (content
  hash), --force examines again.
- On Dask: the same rows as the local run; a worker killed (SIGKILL) while it holds captures loses none:
  they are examined again by the other worker.

Time: the local report over all captures runs once (session fixture) and its check runs tshark once more
per capture: about 3.7 min of CPU in all for 135 captures (2 min on 2 idle cores; 18 min wall measured at
load average 13 on this shared 2-core machine). The two Dask runs cover captures/real and the bad input
(15 captures): 3.5 min wall at load average 10-12 here, with the local batch 8.5 min.
"""
import collections
import concurrent.futures
import gzip
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import PROTOCOLS, ROOT, SHARED
import wsrun

REPORT = os.path.join(ROOT, "tools", "report", "sipsleuth_report.py")
SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz")
FIELD_CASE = "siptrack_sub_polycom_repro.pcap"       # field case 000: the stale-flow NOTIFY in frame 39
# Captures the Dask runs examine (staged folder names): a real Kamailio and its phones, and bad input.
DASK_FOLDERS = ("captures/real", "bad")

Row = collections.namedtuple("Row", "frame severity group field message")


def run_report(args, timeout=1200):
    proc = subprocess.run([sys.executable, REPORT, "--progress", "lines"] + args, capture_output=True,
                          text=True, timeout=timeout)
    return proc


def make_bad_input(folder, capture):
    """Bad input beside good: returns {name: status}. The corrupt file is the capture with record 30's
    length made absurd (tshark reads 29 frames and stops), the truncated one its first 3000 bytes."""
    os.makedirs(folder, mode=0o755)
    data = open(capture, "rb").read()
    at = 24
    for _ in range(29):
        at += 16 + struct.unpack_from("<I", data, at + 8)[0]
    corrupt = bytearray(data)
    struct.pack_into("<I", corrupt, at + 8, 0x7FFFFFFF)
    files = {"corrupt.pcap": bytes(corrupt), "truncated.pcap": data[:3000], "empty.pcap": b"",
             "notes.pcap": b"this is not a capture\n", "field_case.pcap.gz": gzip.compress(data),
             "README.txt": b"not named like a capture: not examined\n"}
    for name, content in files.items():
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, 0o644)
    return {"corrupt.pcap": "corrupt", "truncated.pcap": "truncated", "empty.pcap": "empty",
            "notes.pcap": "not_capture", "field_case.pcap.gz": "ok"}


class Batch:
    def __init__(self, stage, folders, db, proc, elapsed):
        self.stage, self.folders, self.db_path, self.proc, self.elapsed = stage, folders, db, proc, elapsed

    def db(self):
        return sqlite3.connect(self.db_path)

    def captures(self):
        """Every capture file the batch was given."""
        out = []
        for folder in self.folders:
            for base, _dirs, files in os.walk(folder):
                out += [os.path.join(base, f) for f in files if f.endswith(SUFFIXES)]
        return sorted(out)


@pytest.fixture(scope="session")
def batch(staged):
    """The local report over every capture, once for all the tests here."""
    bad = os.path.join(staged, "bad")
    make_bad_input(bad, os.path.join(staged, "captures", FIELD_CASE))
    folders = [os.path.join(staged, "captures")]
    folders += [os.path.join(staged, name) for name in SHARED if os.path.isdir(os.path.join(staged, name))]
    folders.append(bad)
    out = tempfile.mkdtemp(prefix="sipsleuth-report-test-")
    db = os.path.join(out, "local.sqlite")
    started = time.monotonic()
    proc = run_report(["--db", db, "--plugin-dir", os.path.join(staged, "plugins")] + folders)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    yield Batch(staged, folders, db, proc, elapsed)
    shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# What tshark -2 gives, computed here.

def tshark_findings(ws, path):
    """({Row: count}, {(frame, protocol): {caused_by frames}}, {frame: epoch}) of one capture."""
    proc = wsrun.run(["tshark", "-n", "-r", path, "-2", "-Y", "_ws.expert", "-T", "pdml"], ws.plugin_dir,
                     ws.home, timeout=900)
    pdml = proc.stdout
    if "</pdml>" not in pdml:
        pdml = pdml[:pdml.rfind("</packet>") + len("</packet>")] + "</pdml>" if "<packet>" in pdml else "<pdml/>"
    rows, links, times = collections.Counter(), collections.defaultdict(set), {}
    for packet in ET.fromstring(pdml).iter("packet"):
        geninfo = packet.find("./proto[@name='geninfo']")
        frame = int(geninfo.find("./field[@name='num']").get("show"))
        times[frame] = float(geninfo.find("./field[@name='timestamp']").get("value"))
        for item in packet.iter("field"):
            name = item.get("name", "")
            if name.endswith(".caused_by") and name.split(".")[0] in PROTOCOLS:
                links[(frame, name.split(".")[0])].add(int(item.get("show")))
            if name != "_ws.expert":
                continue
            kids = {k.get("name"): k for k in item}
            field = [n for n in kids if not n.startswith("_ws.expert")][0]
            if field.split(".")[0] not in PROTOCOLS:
                continue
            rows[Row(frame, kids["_ws.expert.severity"].get("showname").split(": ", 1)[1],
                     kids["_ws.expert.group"].get("showname").split(": ", 1)[1], field,
                     kids["_ws.expert.message"].get("show"))] += 1
    return rows, links, times


def stored(db, sha256):
    rows, links, times = collections.Counter(), collections.defaultdict(set), {}
    for frame, severity, group, field, message, caused_by, protocol, epoch in db.execute(
            "SELECT frame, severity, expert_group, field, message, caused_by, protocol, time_epoch FROM findings"
            " WHERE sha256 = ?", (sha256,)):
        rows[Row(frame, severity, group, field, message)] += 1
        if caused_by is not None:
            links[(frame, protocol)].add(caused_by)
        times[frame] = epoch
    return rows, links, times


def sha_of(db, path):
    row = db.execute("SELECT sha256 FROM paths WHERE path = ?", (path,)).fetchone()
    assert row, f"{path}: not in the database"
    return row[0]


def test_rows_are_what_tshark_finds(batch, ws):
    db = batch.db()
    captures = batch.captures()
    assert len(captures) >= 100 + 5, captures
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        expected = dict(zip(captures, pool.map(lambda p: tshark_findings(ws, p), captures)))
    problems, total = [], 0
    for path, (rows, links, times) in expected.items():
        got_rows, got_links, got_times = stored(db, sha_of(db, path))
        total += sum(rows.values())
        if got_rows != rows:
            problems.append(f"{path}: missing {dict(rows - got_rows)}, extra {dict(got_rows - rows)}")
        if dict(got_links) != dict(links):
            problems.append(f"{path}: caused_by of the findings {dict(got_links)}, in the tree {dict(links)}")
        for frame, epoch in got_times.items():
            if abs(epoch - times[frame]) > 1e-6:
                problems.append(f"{path}: frame {frame} at {epoch}, tshark says {times[frame]}")
    assert not problems, "\n".join(problems)
    assert total > 500, total           # the check compared something


def test_field_case_incident(batch):
    """Field case 000: the stale-flow NOTIFY is the one error; the RST's note links to it."""
    db = batch.db()
    sha = sha_of(db, os.path.join(batch.stage, "captures", FIELD_CASE))
    rows = db.execute("SELECT frame, time_utc, protocol, field, severity, expert_group, message, caused_by"
                      " FROM findings WHERE sha256 = ? AND severity_rank >= 3", (sha,)).fetchall()
    assert rows == [(39, "2008-06-10T15:22:45.343220Z", "siptrack", "siptrack.notify_on_stale_flow", "Error",
                     "Sequence", "NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last"
                     " traffic here 40.3 s earlier); use tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034", None)]
    assert db.execute("SELECT field, severity, caused_by FROM findings WHERE sha256 = ? AND frame = 40",
                      (sha,)).fetchall() == [("siptrack.notify_reset_consequence", "Note", 39)]
    assert db.execute("SELECT status, packets, errors, warnings, notes FROM captures WHERE sha256 = ?",
                      (sha,)).fetchone() == ("ok", 54, 1, 0, 11)


def test_bad_input_listed_and_the_batch_goes_on(batch):
    db = batch.db()
    bad = os.path.join(batch.stage, "bad")
    want = {
        "corrupt.pcap": ("corrupt", f'The file "{bad}/corrupt.pcap" appears to be damaged or corrupt. (pcap: File'
                                    " has 2147483647-byte packet, bigger than maximum of 262144)", 29),
        "truncated.pcap": ("truncated", f'The file "{bad}/truncated.pcap" appears to have been cut short in the'
                                        " middle of a packet.", 11),
        "empty.pcap": ("empty", "empty file (0 bytes)", 0),
        "notes.pcap": ("not_capture", f'The file "{bad}/notes.pcap" isn\'t a capture file in a format TShark'
                                      " understands.", None),
        "field_case.pcap.gz": ("ok", "", 54),
    }
    for name, (status, error, packets) in want.items():
        sha = sha_of(db, os.path.join(bad, name))
        assert db.execute("SELECT status, error, packets FROM captures WHERE sha256 = ?", (sha,)).fetchone() == (
            status, error, packets), name
    assert not db.execute("SELECT path FROM paths WHERE path LIKE '%README.txt'").fetchall()
    # The damaged copy keeps the findings of the 29 frames before the damage.
    corrupt = sha_of(db, os.path.join(bad, "corrupt.pcap"))
    assert db.execute("SELECT MAX(frame) FROM findings WHERE sha256 = ?", (corrupt,)).fetchone()[0] <= 29
    gz = sha_of(db, os.path.join(bad, "field_case.pcap.gz"))
    raw = sha_of(db, os.path.join(batch.stage, "captures", FIELD_CASE))
    assert stored(db, gz)[0] == stored(db, raw)[0]
    failed = db.execute("SELECT path, error FROM captures WHERE status = 'failed'").fetchall()
    assert not failed
    assert f"sipsleuth report: {len(batch.captures())} captures, " in batch.proc.stderr
    assert f"] corrupt     {bad}/corrupt.pcap: The file" in batch.proc.stderr
    assert re.search(r"^\[(\d+)/\1\] ", batch.proc.stderr, re.M)      # the last capture's line: it went on


def test_summaries(batch):
    db = batch.db()
    md = open(os.path.splitext(batch.db_path)[0] + ".md", encoding="utf-8").read()
    page = open(os.path.splitext(batch.db_path)[0] + ".html", encoding="utf-8").read()
    # Counts per finding, as in the database.
    for field, severity, count in db.execute("SELECT field, severity, COUNT(*) FROM findings GROUP BY field,"
                                             " severity"):
        assert re.search(rf"^\| {re.escape(field)} \| {severity} \| {count} \| \d+ \|$", md, re.M), field
    # Worst captures first: the first row of that table has the most errors.
    table = md.split("## Captures, worst first", 1)[1].split("\n## ", 1)[0]
    first = [line for line in table.splitlines() if line.startswith("| /")][0]
    most = db.execute("SELECT MAX(errors) FROM captures").fetchone()[0]
    assert first.split(" | ")[1] == str(most), first
    # Each incident with capture, frame, time and message.
    case = os.path.join(batch.stage, "captures", FIELD_CASE)
    assert f"## Incidents in {case}" in md
    assert ("| 39 | 2008-06-10T15:22:45.343220Z | Error | siptrack.notify_on_stale_flow | NOTIFY on tcp.stream 0,"
            " abandoned by the subscriber for tcp.stream 1") in md
    assert "| 40 | 2008-06-10T15:22:45.344040Z | Note | siptrack.notify_reset_consequence | RST from the" in md
    assert f"| {batch.stage}/bad/empty.pcap | empty | empty file (0 bytes) |" in md
    assert f"<h2>Incidents in {case}</h2>" in page and "<td>siptrack.notify_on_stale_flow</td>" in page
    assert page.count("<table>") == md.count("\n|---")


def test_rerun_skips_done_captures(batch):
    n = len(batch.captures())
    proc = run_report(["--db", batch.db_path, "--plugin-dir", os.path.join(batch.stage, "plugins")] + batch.folders)
    assert proc.returncode == 0, proc.stderr
    assert f"sipsleuth report: {n} captures, 0 to examine, {n} already done" in proc.stderr
    assert "\n[1/" not in proc.stderr
    case = os.path.join(batch.stage, "captures", FIELD_CASE)
    db = batch.db()
    before = db.execute("SELECT examined_at, COUNT(*) FROM captures JOIN findings USING (sha256) WHERE"
                        " sha256 = ?", (sha_of(db, case),)).fetchone()
    proc = run_report(["--db", batch.db_path, "--plugin-dir", os.path.join(batch.stage, "plugins"), "--force",
                       "--markdown", os.devnull, "--html", os.devnull, case])
    assert proc.returncode == 0, proc.stderr
    assert "sipsleuth report: 1 captures, 1 to examine, 0 already done" in proc.stderr
    assert f"[1/1] ok          {case}: 1 error, 11 notes" in proc.stderr
    after = batch.db().execute("SELECT COUNT(*) FROM findings WHERE sha256 = ?", (sha_of(db, case),)).fetchone()
    assert after[0] == before[1]         # replaced, not doubled


# ---------------------------------------------------------------------------------------------
# Dask.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A real dask-scheduler and two dask-workers (no nanny: a killed worker stays dead) on 127.0.0.1."""

    def __init__(self, workdir):
        pytest.importorskip("distributed")
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs, self.workers = [], {}
        bin_dir = os.path.dirname(shutil.which("dask-scheduler") or "/usr/bin/dask-scheduler")
        self._start([os.path.join(bin_dir, "dask-scheduler"), "--host", "127.0.0.1", "--port", str(self.port),
                     "--dashboard-address", ":0"], os.path.join(workdir, "scheduler.log"))
        for i in (1, 2):
            port = free_port()
            proc = self._start([os.path.join(bin_dir, "dask-worker"), self.address, "--nthreads", "1",
                                "--no-nanny", "--host", "127.0.0.1", "--worker-port", str(port),
                                "--dashboard-address", ":0", "--local-directory", os.path.join(workdir, f"w{i}")],
                               os.path.join(workdir, f"worker{i}.log"))
            self.workers[f"tcp://127.0.0.1:{port}"] = proc
        from distributed import Client
        self.client = Client(self.address, timeout=60)
        self.client.wait_for_workers(2, timeout=120)

    def _start(self, argv, log):
        proc = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def close(self):
        self.client.close()
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="module")
def cluster():
    workdir = tempfile.mkdtemp(prefix="sipsleuth-dask-")
    c = Cluster(workdir)
    yield c
    c.close()
    shutil.rmtree(workdir, ignore_errors=True)


def dask_folders(batch):
    return [os.path.join(batch.stage, f) for f in DASK_FOLDERS if os.path.isdir(os.path.join(batch.stage, f))]


def result_rows(db_path, paths):
    """Per path: the capture's row and its findings, without what depends on the run (worker, times)."""
    db = sqlite3.connect(db_path)
    out = {}
    for path in paths:
        sha = sha_of(db, path)
        cap = db.execute("SELECT sha256, status, error, packets, bytes, duration, malformed_frames, errors,"
                         " warnings, notes, chats, worst FROM captures WHERE sha256 = ?", (sha,)).fetchone()
        found = db.execute("SELECT frame, time_epoch, time_relative, protocol, field, severity, expert_group,"
                           " message, caused_by FROM findings WHERE sha256 = ? ORDER BY frame, id", (sha,)).fetchall()
        out[path] = (cap, found)
    return out


def dask_paths(batch):
    folders = dask_folders(batch)
    return [p for p in batch.captures() if any(p.startswith(f + os.sep) for f in folders)]


def test_dask_gives_the_local_rows(batch, cluster, tmp_path):
    db = str(tmp_path / "dask.sqlite")
    proc = run_report(["--db", db, "--plugin-dir", os.path.join(batch.stage, "plugins"),
                       "--scheduler", cluster.address] + dask_folders(batch))
    assert proc.returncode == 0, proc.stderr
    assert f"Dask: 2 workers on {cluster.address}" in proc.stderr
    paths = dask_paths(batch)
    assert len(paths) >= 12, paths
    assert result_rows(db, paths) == result_rows(batch.db_path, paths)
    workers = {w for (w,) in sqlite3.connect(db).execute("SELECT DISTINCT worker FROM captures WHERE seconds > 0")}
    assert workers == set(cluster.workers), workers        # both workers took part


def test_dask_worker_killed_loses_no_capture(batch, cluster, tmp_path):
    db = str(tmp_path / "killed.sqlite")
    argv = [sys.executable, REPORT, "--progress", "lines", "--db", db, "--plugin-dir",
            os.path.join(batch.stage, "plugins"), "--scheduler", cluster.address] + dask_folders(batch)
    report = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines, victim, held = [], None, []
    deadline = time.monotonic() + 600
    for line in report.stderr:
        lines.append(line)
        if victim is None and re.match(r"\[2/\d+\]", line):
            # Kill a worker that holds captures right now.
            for _ in range(200):
                processing = {w: list(keys) for w, keys in cluster.client.processing().items() if keys}
                if processing:
                    break
                time.sleep(0.05)
            assert processing, "no worker holds a capture after 2 of the batch: nothing to kill"
            victim = next(iter(processing))
            held = processing[victim]
            os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
            cluster.workers[victim].wait()
        assert time.monotonic() < deadline
    assert report.wait(timeout=600) == 0, "".join(lines)
    assert victim and held, "".join(lines)
    paths = dask_paths(batch)
    assert result_rows(db, paths) == result_rows(batch.db_path, paths), "".join(lines)
    survivor = [w for w in cluster.workers if w != victim]
    con = sqlite3.connect(db)
    for key in held:
        prefix = key.split("-")[1]
        rows = con.execute("SELECT path, worker, status FROM captures WHERE sha256 LIKE ?", (prefix + "%",)).fetchall()
        assert len(rows) == 1 and rows[0][1] == survivor[0] and rows[0][2] != "failed", (key, rows)


# ---------------------------------------------------------------------------------------------
# The -T ek field set and the index template (tools/report/elastic, docs/report.md).

ELASTIC = os.path.join(ROOT, "tools", "report", "elastic")
# Wireshark type -> index type, as docs/report.md states it.
INDEX_TYPE = {"FT_FRAMENUM": "integer", "FT_UINT8": "integer", "FT_UINT16": "integer", "FT_UINT32": "long",
              "FT_UINT64": "long", "FT_RELATIVE_TIME": "double", "FT_BOOLEAN": "boolean", "FT_NONE": "boolean",
              "FT_IPv4": "ip", "FT_IPv6": "ip", "FT_STRING": "keyword"}
FLOW = re.compile(r"^(tcp|udp)\.stream \d+ \S+ -> \S+$")
EK_CAPTURES = (FIELD_CASE, "msrpa_field_case_both_active.pcap", "siptrack_ka_crlf_silent.pcap",
               "ciscoalarm_cp7821_boot.pcap", "siptrack_ka_sccp_failover.pcap")


def no_duplicates(pairs):
    keys = [k for k, _v in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def test_ek_field_set_and_index_template(ws):
    fields = [line.split("\t") for line in open(os.path.join(ELASTIC, "ek-fields.txt")).read().splitlines()]
    template = json.load(open(os.path.join(ELASTIC, "index-template.json")))
    pipeline = json.load(open(os.path.join(ELASTIC, "ingest-pipeline.json")))
    props = template["template"]["mappings"]["properties"]["layers"]["properties"]
    assert template["template"]["settings"]["index.default_pipeline"] == "sipsleuth-ek"
    assert template["template"]["mappings"]["properties"]["timestamp"] == {"type": "date", "format": "epoch_millis"}
    known = {}
    for line in wsrun.run(["tshark", "-G", "fields"], ws.plugin_dir, ws.home).stdout.splitlines():
        cols = line.split("\t")
        if cols[0] == "F":
            known[cols[2]] = cols[3]
    kinds = {}
    for name, kind in fields:
        assert name in known, name
        want = {"frame.time_epoch": "double", "_ws.expert.message": "text", "frame.number": "integer"}.get(name) or INDEX_TYPE[known[name]]
        assert kind == want and props[name.replace(".", "_")]["type"] == kind, (name, known[name], kind)
        kinds[name.replace(".", "_")] = kind
    # What the issue names: durations numbers, frames integers, findings flags, flows split.
    assert kinds["siptrack_register_lapse"] == kinds["msrpa_bind_elapsed"] == "double"
    assert kinds["siptrack_caused_by"] == kinds["frame_number"] == "integer"
    for flag in ("siptrack_notify_on_stale_flow", "siptrack_registration_lapsed", "msrpa_both_active",
                 "dialoginfo_ringing_not_reported", "ciscoalarm_cid_match"):
        assert kinds[flag] == "boolean", flag
    for flow in ("siptrack_flow", "siptrack_subscription_flow"):
        assert [props[flow + s]["type"] for s in ("_transport", "_stream", "_source", "_destination")] == [
            "keyword", "long", "keyword", "keyword"]
    params = pipeline["processors"][0]["script"]["params"]
    assert sorted(params["booleans"]) == sorted(k for k, v in kinds.items() if v == "boolean")
    assert params["severities"]["8388608"] == "Error" and params["groups"]["33554432"] == "Sequence"
    # tshark's own output fits: one index line and one document per packet, no duplicate key, every key
    # mapped, every value of the type its mapping says (booleans as the "0"/"1" the pipeline converts).
    args = [a for name, _k in fields for a in ("-e", name)]
    seen = collections.Counter()
    for capture in EK_CAPTURES:
        proc = ws.run(["-r", ws.capture(capture), "-2", "-T", "ek"] + args)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines and len(lines) % 2 == 0
        for index, doc in zip(lines[::2], lines[1::2]):
            assert json.loads(index)["index"]["_index"].startswith("packets-")
            doc = json.loads(doc, object_pairs_hook=no_duplicates)
            int(doc["timestamp"])
            for key, values in doc["layers"].items():
                kind = kinds[key]
                for v in values:
                    if kind in ("integer", "long"):
                        int(v)
                    elif kind == "double":
                        float(v)
                    elif kind == "boolean":
                        assert v in ("0", "1"), (capture, key, v)
                    elif kind == "ip":
                        ipaddress.ip_address(v)
                    if key in ("siptrack_flow", "siptrack_subscription_flow"):
                        assert FLOW.match(v), v
                    if key == "_ws_expert_severity":
                        assert v in params["severities"], v
                    if key == "_ws_expert_group":
                        assert v in params["groups"], v
                    seen[(kind, key if kind == "boolean" and v == "1" else "")] += 1
    assert seen[("boolean", "siptrack_notify_on_stale_flow")] == 1
    assert seen[("boolean", "msrpa_both_active")] == 1
    assert all(seen[(k, "")] for k in ("integer", "long", "double", "ip", "keyword")), seen
