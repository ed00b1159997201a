# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 11, "Must show": what our six protocols report on every capture we have (captures/ with its
subfolders and, when present, ../shared/captures-found, captures-public and captures-public2), in one pass
and with -2, is exactly what expected_findings/<folder>.txt lists, and each of those findings was checked.

One tshark run per capture and mode (`-T pdml` of the frames with one of our protocols or a _ws.malformed,
plus the `-z expert` tap) gives every expert item of ours: frame, severity, group, expert field, message.
Checked per capture:
- findings of severity Note, Warning and Error equal the expected file's lines, frame by frame, in the
  passes the line names; a line whose verdict starts with "untrue:" (a finding known to be untrue, written
  up in /work/wt/UNTRUE.md for the plugin's owner) may be there or not, so that its fix passes;
- in the real captures (third-party ones, and captures/real/ from a real Kamailio) every expected Warning
  and Error carries a verdict, checked by hand against the packets: "true: why" or "untrue: why";
- no frame matches _ws.malformed with our plugins that does not without them (plain tshark runs only
  when ours shows a _ws.malformed at all), except, in our generated captures of bad input, a frame where
  an Error of ours in group Malformed says which bytes cannot be parsed (STYLE.md: only those may);
- every message of ours, chats included, fits in 200 characters (the GUI cuts the item's label, which is
  "Expert Info (Warning/Sequence): " and the message, at 240);
- each incident once: one frame never carries the same expert field of ours twice at Warning or Error,
  nor the same finding (field and message) twice at any severity;
- the tree and the tap agree: the Expert Information dialog (the tap) lists no finding of ours that the
  packet tree does not show, and the reverse.

Expected file lines are tab-separated: capture, frame, passes ("1,2", "1" or "2"), severity, group, expert
field, message, and the verdict. SIPSLEUTH_FINDINGS_UPDATE=1 rewrites the files from what the plugins
find now, keeping each verdict whose finding is unchanged and marking "recheck:" the real-capture findings
that are new or changed (a verdict the test refuses until someone has looked at the packets again).
SIPSLEUTH_FINDINGS_ONLY='public2/*' limits the captures (and then never rewrites the files).
"""
import collections
import concurrent.futures
import fnmatch
import os
import re
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import DECODE_AS, HERE, PROTOCOLS, SHARED, capture_list, expert_table
import wsrun

EXPECTED_DIR = os.path.join(HERE, "expected_findings")
LISTED = ("Note", "Warning", "Error")           # severities the expected files list
SEVERE = ("Warning", "Error")
RANK = {"Comment": 0, "Chat": 1, "Note": 2, "Warning": 3, "Error": 4}
TAP_SEVERITY = {"Comments": "Comment", "Chats": "Chat", "Notes": "Note", "Warns": "Warning", "Errors": "Error"}
MAX_MESSAGE = 200
WORKERS = 2
TIMEOUT = 600
# Frames with an expert item and one of our protocols (a capture of SIP has siptrack on every SIP frame:
# its PDML is hundreds of megabytes), or a _ws.malformed.
OURS_FILTER = "(_ws.expert && (" + " || ".join(PROTOCOLS) + ")) || _ws.malformed"
REAL = tuple(SHARED)                             # folders of third-party captures

CAPTURES = [f"{folder}/{name}" for folder, name in capture_list(subfolders=True)]
ONLY = os.environ.get("SIPSLEUTH_FINDINGS_ONLY")
if ONLY:
    CAPTURES = [c for c in CAPTURES if fnmatch.fnmatch(c, ONLY)]
SHARED_PRESENT = all(os.path.isdir(folder) for folder in SHARED.values())

# One expert item of ours: the key of an expected line without its passes and verdict.
Finding = collections.namedtuple("Finding", "frame severity group field message")


def is_real(capture):
    """A capture of stacks we did not write: the shared folders, and captures/real/ (a real Kamailio)."""
    return capture.split("/", 1)[0] in REAL or capture.startswith("captures/real/")


# ---------------------------------------------------------------------------------------------
# Reading tshark.

def ours_of(name):
    head = name.split(".", 1)[0]
    return head if head in PROTOCOLS else None


def packet_findings(packet_xml):
    """(frame, [Finding of ours], has _ws.malformed) of one PDML packet."""
    root = ET.fromstring(packet_xml)
    num = root.find("./proto[@name='geninfo']/field[@name='num']")
    frame = int(num.get("show"))
    found, malformed = [], False
    for elem in root.iter():
        name = elem.get("name", "")
        if name == "_ws.malformed":
            malformed = True
        if name != "_ws.expert":
            continue
        parts = {child.get("name", ""): child for child in elem}
        field = next((n for n in parts if not n.startswith("_ws.expert")), "")
        if not ours_of(field):
            continue
        severity = parts["_ws.expert.severity"].get("showname", "").rpartition(": ")[2]
        group = parts["_ws.expert.group"].get("showname", "").rpartition(": ")[2]
        found.append(Finding(frame, severity, group, field, parts["_ws.expert.message"].get("show", "")))
    return frame, found, malformed


def tap_findings(text):
    """{(severity, group, protocol short name, message): count} of our protocols in `-z expert` output."""
    table = {}
    for short in PROTOCOLS.values():
        for (severity, group, summary), count in expert_table(text, short).items():
            table[(TAP_SEVERITY[severity], group, short, summary)] = count
    return table


class Pass:
    """What one tshark run of ours found on one capture in one mode."""

    def __init__(self, findings, malformed, tap, bugs, seconds):
        self.findings = findings        # [Finding], every severity, in tree order
        self.malformed = malformed      # {frame} with a _ws.malformed
        self.tap = tap                  # {(severity, group, short, message): count}
        self.bugs = bugs                # {"Dissector bug, protocol X, in packet N: ..."} from stderr
        self.seconds = seconds
        self.plain_malformed = None     # {frame} plain tshark marks malformed (run only when needed)
        self.plain_bugs = set()


def dissector_bugs(stderr):
    return {m.group(0) for m in re.finditer(r"Dissector bug, protocol \S+, in packet \d+[^\n]*", stderr)}


def run_ours(ws, capture, two_pass):
    started = time.monotonic()
    folder, name = capture.split("/", 1)
    args = ["tshark", "-n", "-r", os.path.join(ws.stage, folder, name)] + DECODE_AS.get(capture, [])
    args += ["-Y", OURS_FILTER, "-T", "pdml", "-z", "expert"] + (["-2"] if two_pass else [])
    proc = wsrun.run(args, ws.plugin_dir, ws.home, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{capture}: tshark exit {proc.returncode}: {proc.stderr}"
    assert "Internal error in sipsleuth" not in proc.stdout, capture
    pdml, _, stats = proc.stdout.partition("</pdml>")
    findings, malformed = [], set()
    for packet in re.findall(r"<packet>.*?</packet>", pdml, re.S):
        frame, found, bad = packet_findings(packet)
        findings += found
        if bad:
            malformed.add(frame)
    return Pass(findings, malformed, tap_findings(stats), dissector_bugs(proc.stderr), time.monotonic() - started)


def run_plain(plain, capture, two_pass):
    """Frames plain tshark marks _ws.malformed, and its Dissector bugs."""
    folder, name = capture.split("/", 1)
    args = ["tshark", "-n", "-r", os.path.join(plain.stage, folder, name)] + DECODE_AS.get(capture, [])
    args += ["-Y", "_ws.malformed", "-T", "fields", "-e", "frame.number"] + (["-2"] if two_pass else [])
    proc = wsrun.run(args, plain.plugin_dir, plain.home, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{capture}: plain tshark exit {proc.returncode}: {proc.stderr}"
    return {int(line) for line in proc.stdout.split()}, dissector_bugs(proc.stderr)


def examine(ws, plain, capture):
    """{1: Pass, 2: Pass} of one capture: one pass and -2."""
    out = {}
    for passes, two_pass in ((1, False), (2, True)):
        run = run_ours(ws, capture, two_pass)
        if run.malformed or run.bugs:
            run.plain_malformed, run.plain_bugs = run_plain(plain, capture, two_pass)
        out[passes] = run
    return out


# ---------------------------------------------------------------------------------------------
# Expected files.

class Expected:
    """One line of an expected file."""

    def __init__(self, capture, finding, passes, verdict, where):
        self.capture, self.finding, self.passes, self.verdict, self.where = capture, finding, passes, verdict, where

    @property
    def untrue(self):
        return self.verdict.startswith("untrue:")


def expected_path(folder):
    return os.path.join(EXPECTED_DIR, f"{folder}.txt")


def parse_line(line, where):
    cols = line.split("\t")
    assert len(cols) in (7, 8), f"{where}: want 7 or 8 tab-separated columns, got {len(cols)}"
    capture, frame, passes, severity, group, field, message = cols[:7]
    assert passes in ("1,2", "1", "2"), f"{where}: passes {passes!r}"
    assert severity in LISTED, f"{where}: severity {severity!r}"
    verdict = cols[7] if len(cols) == 8 else ""
    return Expected(capture, Finding(int(frame), severity, group, field, message), passes, verdict, where)


def load_expected(folder):
    """{capture: [Expected]} of one folder's file (empty when there is none)."""
    out = collections.defaultdict(list)
    path = expected_path(folder)
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            entry = parse_line(line, f"{os.path.basename(path)}:{number}")
            out[entry.capture].append(entry)
    return out


def found_passes(runs):
    """{Finding: "1,2" | "1" | "2"} of the listed severities, from {1: Pass, 2: Pass}."""
    seen = collections.defaultdict(list)
    for passes in sorted(runs):
        for f in dict.fromkeys(runs[passes].findings):
            if f.severity in LISTED:
                seen[f].append(str(passes))
    return {f: ",".join(p) for f, p in seen.items()}


def format_line(capture, finding, passes, verdict=""):
    cols = [capture, str(finding.frame), passes, finding.severity, finding.group, finding.field, finding.message]
    return "\t".join(cols + ([verdict] if verdict else []))


def compare(capture, found, expected):
    """Differences between {Finding: passes} found and the [Expected] lines of one capture."""
    want = {e.finding: e for e in expected}
    out = []
    for f, passes in sorted(found.items()):
        e = want.get(f)
        if e is None:
            out.append("unexpected: " + format_line(capture, f, passes))
        elif e.passes != passes and not e.untrue:
            out.append(f"in passes {passes}, expected {e.passes} ({e.where}): " + format_line(capture, f, passes))
    for f, e in sorted(want.items()):
        if f not in found and not e.untrue:
            out.append(f"missing ({e.where}): " + format_line(capture, f, e.passes, e.verdict))
    return out


def sort_key(finding):
    return (finding.frame, -RANK[finding.severity], finding.field, finding.message)


def rewrite_expected(folder, results, expected):
    """Write one folder's expected file from what was found, verdicts kept where the finding is unchanged."""
    path = expected_path(folder)
    header = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            header = [line for line in f if line.startswith("#")]
    lines = []
    for capture in [c for c in CAPTURES if c.split("/", 1)[0] == folder]:
        old = {e.finding: e for e in expected.get(capture, [])}
        by_frame_field = {(e.finding.frame, e.finding.field): e for e in expected.get(capture, [])}
        for f, passes in sorted(found_passes(results[capture]).items(), key=lambda kv: sort_key(kv[0])):
            verdict = old[f].verdict if f in old else ""
            if f not in old and is_real(capture) and f.severity in SEVERE:
                before = by_frame_field.get((f.frame, f.field))
                verdict = "recheck: " + (f"was {before.finding.severity} {before.finding.message!r}, {before.verdict}"
                                         if before else "new")
            lines.append(format_line(capture, f, passes, verdict) + "\n")
    if not lines and not header:
        return
    os.makedirs(EXPECTED_DIR, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(header + lines)


# ---------------------------------------------------------------------------------------------
# The runs, all captures, two at a time.

@pytest.fixture(scope="session")
def findings(ws, plain):
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        jobs = {c: pool.submit(examine, ws, plain, c) for c in CAPTURES}
        results = {c: job.result() for c, job in jobs.items()}
    slowest = sorted(((run.seconds, c, p) for c, runs in results.items() for p, run in runs.items()), reverse=True)[:5]
    print(f"\nfindings: {len(CAPTURES)} captures, two modes, {time.monotonic() - started:.1f} s with {WORKERS} "
          "workers; slowest: " + ", ".join(f"{c} -{p} {s:.1f} s" for s, c, p in slowest))
    if os.environ.get("SIPSLEUTH_FINDINGS_UPDATE") and not ONLY:
        for folder in ("captures",) + REAL:
            if folder == "captures" or SHARED_PRESENT:
                rewrite_expected(folder, results, load_expected(folder))
    return results


@pytest.fixture(scope="module")
def expected():
    return {folder: load_expected(folder) for folder in ("captures",) + REAL}


def folder_of(capture):
    return capture.split("/", 1)[0]


# Checks that fail on main today for what issue 11 lists and its owners are fixing now; non-strict, and
# each entry goes once its fix has landed.
OPEN = {
    "messages_fit": {},
    "incident_once": {},
}


def captures_for(check):
    return [pytest.param(c, marks=pytest.mark.xfail(reason=OPEN[check][c], strict=False)) if c in OPEN[check] else c
            for c in CAPTURES]


@pytest.mark.parametrize("capture", CAPTURES)
def test_findings_are_the_expected_ones(findings, expected, capture):
    diffs = compare(capture, found_passes(findings[capture]), expected[folder_of(capture)].get(capture, []))
    assert not diffs, f"{len(diffs)} differences from {expected_path(folder_of(capture))}:\n" + "\n".join(diffs)


@pytest.mark.parametrize("capture", CAPTURES)
def test_no_malformed_frame_of_ours(findings, capture):
    bad = []
    for passes, run in sorted(findings[capture].items()):
        for frame in sorted(run.malformed - (run.plain_malformed or set())):
            ours = [f"{f.severity} {f.field}: {f.message}" for f in run.findings if f.frame == frame]
            if not is_real(capture) and any(f.frame == frame and (f.severity, f.group) == ("Error", "Malformed")
                                            for f in run.findings):
                continue    # a generated capture of bytes that cannot be parsed, said so by an error of ours
            bad.append(f"passes {passes}, frame {frame}: _ws.malformed with our plugins only; ours there: {ours}")
        bad += [f"passes {passes}: {bug} (not without our plugins)" for bug in sorted(run.bugs - run.plain_bugs)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("capture", captures_for("messages_fit"))
def test_messages_fit_the_gui(findings, capture):
    long = {f"frame {f.frame} {f.field} ({len(f.message)} characters): {f.message}"
            for run in findings[capture].values() for f in run.findings if len(f.message) > MAX_MESSAGE}
    assert not long, "\n".join(sorted(long))


@pytest.mark.parametrize("capture", captures_for("incident_once"))
def test_each_incident_once(findings, capture):
    # The same finding twice on one frame is one incident counted twice. The same expert field twice at
    # Warning or Error with different messages names different subjects (two SENDs, two bodies in one
    # segment): allowed in our generated captures, which pack several faults into a frame on purpose;
    # in a real capture each such frame is to be looked at.
    twice = []
    for passes, run in sorted(findings[capture].items()):
        same = collections.Counter(run.findings)
        twice += [f"passes {passes}, frame {f.frame}: {f.severity} {f.field} {n} times: {f.message}"
                  for f, n in sorted(same.items()) if n > 1]
        if is_real(capture):
            severe = collections.Counter((f.frame, f.field) for f in set(run.findings) if f.severity in SEVERE)
            twice += [f"passes {passes}, frame {frame}: {field} {n} times at Warning or Error"
                      for (frame, field), n in sorted(severe.items()) if n > 1]
    assert not twice, "\n".join(twice)


@pytest.mark.parametrize("capture", CAPTURES)
def test_tree_and_tap_agree(findings, capture):
    short = PROTOCOLS
    diffs = []
    for passes, run in sorted(findings[capture].items()):
        tree = collections.Counter((f.severity, f.group, short[ours_of(f.field)], f.message) for f in run.findings)
        for key in sorted(set(tree) | set(run.tap)):
            if tree.get(key, 0) != run.tap.get(key, 0):
                diffs.append(f"passes {passes}: tree {tree.get(key, 0)}, tap {run.tap.get(key, 0)}: {key}")
    assert not diffs, "\n".join(diffs)


def test_real_findings_carry_a_verdict(expected):
    unchecked = [f"{e.where}: {format_line(e.capture, e.finding, e.passes, e.verdict)}"
                 for table in expected.values() for entries in table.values() for e in entries
                 if is_real(e.capture) and e.finding.severity in SEVERE
                 and not re.match(r"(true|untrue): \S", e.verdict)]
    assert not unchecked, "real-capture warnings and errors not checked by hand:\n" + "\n".join(unchecked)


def test_expected_files_name_existing_captures(expected):
    known = set(capture_list(subfolders=True))
    stale = [e.where for folder, table in expected.items() if folder == "captures" or SHARED_PRESENT
             for capture, entries in table.items() if tuple(capture.split("/", 1)) not in known for e in entries]
    assert not stale, "lines naming captures that are not there: " + ", ".join(stale)


# The comparison itself, on hand-made findings: what passes and what fails.
def test_comparison_rules():
    a = Finding(7, "Warning", "Sequence", "siptrack.x", "A")
    b = Finding(9, "Error", "Protocol", "dialoginfo.y", "B")
    line = format_line("found/c.pcap", a, "1,2", "true: frame 7 is a NOTIFY")
    e = parse_line(line, "t:1")
    assert (e.finding, e.passes, e.verdict) == (a, "1,2", "true: frame 7 is a NOTIFY")
    assert compare("found/c.pcap", {a: "1,2"}, [e]) == []
    assert compare("found/c.pcap", {a: "2"}, [e])[0].startswith("in passes 2, expected 1,2")
    assert compare("found/c.pcap", {}, [e])[0].startswith("missing (t:1)")
    assert compare("found/c.pcap", {a: "1,2", b: "1"}, [e]) == ["unexpected: " + format_line("found/c.pcap", b, "1")]
    # A known-untrue line may be there, in any passes, or gone (fixed).
    u = parse_line(format_line("found/c.pcap", b, "1,2", "untrue: CSeqs consecutive"), "t:2")
    assert compare("found/c.pcap", {a: "1,2", b: "2"}, [e, u]) == []
    assert compare("found/c.pcap", {a: "1,2"}, [e, u]) == []
    # A changed message is a new finding: the old line is missing, the new one unexpected.
    a2 = a._replace(message="A, frame 3")
    assert [d.split(":")[0] for d in compare("found/c.pcap", {a2: "1,2"}, [e])] == ["unexpected", "missing (t"]
    # Passes from the two runs; chats are not listed.
    runs = {1: Pass([a, a._replace(severity="Chat")], set(), {}, set(), 0), 2: Pass([a, b], set(), {}, set(), 0)}
    assert found_passes(runs) == {a: "1,2", b: "2"}
    with pytest.raises(AssertionError):
        parse_line("found/c.pcap\t7\t1,2\tChat\tSequence\tsiptrack.x\tA", "t:3")
