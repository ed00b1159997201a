# SPDX-License-Identifier: GPL-2.0-or-later
"""Wireshark's own output is left as it was: on every capture we have (captures/ and, when present,
../shared/captures-found, captures-public and captures-public2), `tshark -T pdml` without plugins and
with the six sipsleuth plugins, in one pass and with -2, must show the same tree once our own elements
are taken out, and `-T fields` the same Protocol and Info columns (PDML has none), except for text our
plugins add to Info.

Taken out as ours: every element named after one of our protocols (ciscoalarm, dialoginfo, rlmi, mssip,
msrpa, siptrack, or that and a dot); a Wireshark protocol such an element holds (the XML tree under a
body we decode, a _ws.malformed) takes its place; an expert item (`_ws.expert`) whose finding is ours;
our names in `frame.protocols`. `frame.protocols` and Info may gain protocols or text (a body summary
before SIP's fence, " [MSRPA: ...]" after it) but every one of Wireshark's must still be there, in order.
Everything else must be identical, attribute by attribute, element by element, frame by frame.

A difference fails unless an entry of builtin_output_allowlist.txt explains it, with its reason; an
entry no capture needs any more fails too. Never allowed: a _ws.malformed plain Wireshark does not show
unless an expert of ours added it (the allow-list names which experts may: bytes that cannot be
parsed), our internal-error item, a lost packet, another exit status, a new line on stderr. In a frame
where plain Wireshark itself stops on a Dissector bug, only those are checked.

Captures run two at a time (two cores). Identical packets are not parsed; the others are first compared
line by line with our elements' lines dropped, and parsed and walked only when that is in doubt. See
docs/design.md for the runtime. SIPSLEUTH_BUILTIN_DIFFS=file writes every difference found, allowed or
not; SIPSLEUTH_BUILTIN_ONLY='captures/rlmi_*' limits the captures.
"""
import concurrent.futures
import difflib
import fnmatch
import os
import re
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import HERE, PROTOCOLS, SHARED, capture_list
import wsrun

OURS = tuple(PROTOCOLS)
ALLOWLIST = os.path.join(HERE, "builtin_output_allowlist.txt")
WORKERS = 2
SHOWN = 25          # differences printed per failing capture
TIMEOUT = 900       # seconds for one tshark run, well above the largest capture's


CAPTURES = capture_list()
if os.environ.get("SIPSLEUTH_BUILTIN_ONLY"):     # a shell pattern over folder/file, to look at a few
    CAPTURES = [c for c in CAPTURES if fnmatch.fnmatch("/".join(c), os.environ["SIPSLEUTH_BUILTIN_ONLY"])]
SHARED_PRESENT = all(os.path.isdir(folder) for folder in SHARED.values())


# ---------------------------------------------------------------------------------------------
# The allow-list: "regular expression ## reason", the expression matching a whole difference line.

def load_allowlist(path=ALLOWLIST):
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pattern, sep, reason = line.rpartition(" ## ")
            assert sep and pattern.strip() and reason.strip(), f"{path}:{number}: want 'pattern ## reason'"
            entries.append((re.compile(pattern.strip()), reason.strip(), number))
    return entries


def allowed_by(entries, text):
    """The allow-list entry that explains a difference line, or None. An internal error, a lost packet,
    a tshark failure or warning, and a new _ws.malformed that no expert of ours added are never allowed."""
    if not text.startswith(("added ", "missing ", "changed ", "malformed: ")):
        return None
    if text.startswith("malformed: ") and (" inside added " in text or text.endswith("after nothing of ours")):
        return None
    for entry in entries:
        if entry[0].fullmatch(text):
            return entry
    return None


# ---------------------------------------------------------------------------------------------
# PDML: packets are compared as bytes first (most frames carry nothing of ours and are identical);
# only packets that differ are parsed and walked.

def pdml_packets(stream):
    """Yield the bytes of each <packet>...</packet> of a PDML stream, as it arrives."""
    buf, start = bytearray(), 0
    end_tag = b"</packet>\n"
    while True:
        chunk = stream.read1(1 << 16)
        if not chunk:
            break
        buf += chunk
        while True:
            begin = buf.find(b"<packet>", start)
            if begin < 0:
                break
            end = buf.find(end_tag, begin)
            if end < 0:
                start = begin
                break
            end += len(end_tag)
            yield bytes(buf[begin:end])
            start = end
        if start > (1 << 20):
            del buf[:start]
            start = 0


def ours_of(name):
    """Our protocol an element name belongs to, or None."""
    head = name.split(".", 1)[0]
    return head if head in OURS else None


def protocol_list_kept(plain, ours):
    """Wireshark's protocols in frame.protocols all still there, in order (ours and added ones aside)."""
    p = plain.split(":")
    o = [x for x in ours.split(":") if not ours_of(x)]
    ops = difflib.SequenceMatcher(None, p, o, autojunk=False).get_opcodes()
    return all(op in ("equal", "insert") for op, *_ in ops)


def label(elem):
    name = elem.get("name", "")
    text = elem.get("showname", elem.get("show", ""))
    if len(text) > 120:
        text = text[:117] + "..."
    return f'{elem.tag} {name or "(text)"} "{text}"'


def key(elem):
    return (elem.tag,) + tuple(sorted(elem.attrib.items()))


class PacketComparison:
    """One packet's PDML, plain against ours, ours taken out as the module docstring says."""

    def __init__(self, plain_bytes, ours_bytes):
        self.plain, self.ours = ET.fromstring(plain_bytes), ET.fromstring(ours_bytes)
        num = self.plain.find("./proto[@name='geninfo']/field[@name='num']")
        self.frame = num.get("show") if num is not None else "?"
        protos = self.ours.find("./proto[@name='frame']/field[@name='frame.protocols']")
        self.our_protocols = sorted({ours_of(x) for x in (protos.get("show", "") if protos is not None else "").split(":")}
                                    - {None})
        self.cause = {}     # id(hoisted _ws.malformed) -> the expert of ours before it
        self.marks = {}     # id(element of ours' tree) -> our protocols taken out right under it
        self.dissector_bug = any(e.get("name") == "_ws.malformed" and e.get("showname", "").startswith("[Dissector bug")
                                 for e in self.plain.iter())
        self.out = []

    def differences(self):
        out = self.out
        for e in self.ours.iter():
            name = e.get("name", "")
            if name.endswith(".internal_error") and ours_of(name):
                out.append(f"internal error: {label(e)}")
        self.compare_children(self.children(self.plain), self.children(self.ours), "", self.marked(self.ours, "packet"))
        if self.dissector_bug:
            # Plain Wireshark stopped this frame with a Dissector bug: what follows it is not Wireshark's
            # output to keep. Only what can never be allowed is kept.
            out[:] = [line for line in out if line.startswith(("internal error", "malformed"))]
        return out

    def hoisted(self, elem):
        """What stays of an element of ours: the Wireshark protocols it holds (the xml tree of a body,
        a _ws.malformed an expert of ours added)."""
        out, last_expert = [], None
        for child in elem:
            name = child.get("name", "")
            if child.tag == "proto" and not ours_of(name):
                out.append(child)
                if name == "_ws.malformed":
                    self.cause[id(child)] = last_expert
            else:
                if name == "_ws.expert":
                    mine = [g.get("name", "") for g in child if ours_of(g.get("name", ""))]
                    if mine:
                        last_expert = f'{mine[0]} "{child.get("showname", "")[:100]}"'
                out += self.hoisted(child)
        return out

    def children(self, elem):
        """An element's children with ours taken out; notes which of ours were right under it."""
        out, mine, last_expert = [], set(), None
        for child in elem:
            name = child.get("name", "")
            if ours_of(name):
                mine.add(ours_of(name))
                out += self.hoisted(child)
            elif name == "_ws.expert" and any(ours_of(g.get("name", "")) for g in child):
                found = [g.get("name", "") for g in child if ours_of(g.get("name", ""))]
                mine.update(ours_of(n) for n in found)
                last_expert = f'{found[0]} "{child.get("showname", "")[:100]}"'
            else:
                if name == "_ws.malformed":
                    self.cause[id(child)] = last_expert
                out.append(child)
        self.marks[id(elem)] = sorted(mine)
        return out

    def marked(self, elem, name):
        mine = self.marks.get(id(elem))
        return f"{name}[{','.join(mine)}]" if mine else name

    def compare_elements(self, plain, ours, path):
        name = plain.get("name", "") or "(text)"
        pa, oa = plain.attrib, ours.attrib
        for attr in sorted(set(pa) | set(oa)):
            p, o = pa.get(attr, "(none)"), oa.get(attr, "(none)")
            if p == o:
                continue
            if name == "frame.protocols" and attr in ("show", "showname") and protocol_list_kept(
                    p.rpartition(" ")[2], o.rpartition(" ")[2]):
                continue
            if len(p) + len(o) > 240:
                p, o = p[:117] + "...", o[:117] + "..."
            self.out.append(f'changed {path}{name}.{attr}: "{p}" -> "{o}"')
        self.descend(plain, ours, path)

    def descend(self, plain, ours, path):
        pc, oc = self.children(plain), self.children(ours)
        name = plain.get("name", "") or "(text)"
        self.compare_children(pc, oc, f"{path}{self.marked(ours, name)}/", self.marked(ours, f"{path}{name}"))

    def compare_children(self, plain, ours, path, where):
        """Align two lists of sibling elements (exact keys first, then names) and report what differs."""
        matcher = difflib.SequenceMatcher(None, [key(e) for e in plain], [key(e) for e in ours], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for p, o in zip(plain[i1:i2], ours[j1:j2]):
                    self.descend(p, o, path)
                continue
            ps, os_ = plain[i1:i2], ours[j1:j2]
            names = difflib.SequenceMatcher(None, [(e.tag, e.get("name", "")) for e in ps],
                                            [(e.tag, e.get("name", "")) for e in os_], autojunk=False)
            for op2, k1, k2, l1, l2 in names.get_opcodes():
                if op2 == "equal":
                    for p, o in zip(ps[k1:k2], os_[l1:l2]):
                        self.compare_elements(p, o, path)
                    continue
                self.out += [f"missing {where}: {label(e)}" for e in ps[k1:k2]]
                for e in os_[l1:l2]:
                    if e.get("name") == "_ws.malformed":
                        cause = self.cause.get(id(e))
                        self.out.append(f"malformed: {where}: {label(e)} after " + (cause or "nothing of ours"))
                        continue
                    self.out.append(f"added {where}: {label(e)}")
                    self.out += [f"malformed: {where}: {label(m)} inside added {label(e)}"
                                 for m in e.iter() if m.get("name") == "_ws.malformed"]


OUR_LINE = re.compile(rb'^( *)<(?:proto|field) name="(?:' + b"|".join(p.encode() for p in OURS) + rb')[."]')
PROTOCOLS_LINE = re.compile(rb'^ *<field name="frame\.protocols" ')


def quick_equal(plain_bytes, ours_bytes):
    """(True, our protocols) when ours is plain plus whole elements of ours and our names in
    frame.protocols, read line by line (PDML writes one element a line, indented by depth); (False, None)
    when in doubt (an element of ours holding a protocol or an internal error, any other change), and
    the packet is then parsed and walked."""
    plain, ours = plain_bytes.split(b"\n"), ours_bytes.split(b"\n")
    kept, protocols, i = [], b"", 0
    while i < len(ours):
        line = ours[i]
        m = OUR_LINE.match(line)
        expert = m is None and b'<field name="_ws.expert" ' in line and i + 1 < len(ours) and OUR_LINE.match(ours[i + 1])
        if m or expert:
            indent = len(line) - len(line.lstrip(b" "))
            i += 1
            if not line.endswith(b"/>"):
                while i < len(ours) and len(ours[i]) - len(ours[i].lstrip(b" ")) > indent:
                    if b"<proto " in ours[i] or b'.internal_error"' in ours[i]:
                        return False, None
                    i += 1
                i += 1      # the closing tag
            continue
        if PROTOCOLS_LINE.match(line):
            protocols = line
            line = re.sub(rb'(?<=[ ":])(?:' + b"|".join(p.encode() for p in OURS) + rb'):', b"", line)
            line = re.sub(rb':(?:' + b"|".join(p.encode() for p in OURS) + rb')(?=")', b"", line)
        kept.append(line)
        i += 1
    if kept != plain:
        return False, None
    show = re.search(rb' show="([^"]*)"', protocols)
    found = {ours_of(x) for x in (show.group(1).decode() if show else "").split(":")} - {None}
    return True, sorted(found)


def compare_packet(plain_bytes, ours_bytes):
    """(frame number, [difference lines], our protocols in the frame, plain hit a Dissector bug)."""
    c = PacketComparison(plain_bytes, ours_bytes)
    return c.frame, c.differences(), c.our_protocols, c.dissector_bug


# ---------------------------------------------------------------------------------------------
# Columns: `-T fields` of Protocol and Info (PDML has no columns).

def info_kept(plain, ours):
    """Every character of Wireshark's Info is in ours, in order, in runs we only inserted text between."""
    ops = difflib.SequenceMatcher(None, plain, ours, autojunk=False).get_opcodes()
    return all(op in ("equal", "insert") for op, *_ in ops)


def compare_columns(plain_out, ours_out, ours_in, skipped):
    """Column differences; ours_in gives our protocols per frame, named in the line; frames where plain
    Wireshark hit a Dissector bug are skipped."""
    diffs = []
    plain_rows, ours_rows = plain_out.splitlines(), ours_out.splitlines()
    if len(plain_rows) != len(ours_rows):
        diffs.append(("-", f"rows: plain {len(plain_rows)}, ours {len(ours_rows)}"))
    for p, o in zip(plain_rows, ours_rows):
        if p == o:
            continue
        pnum, pproto, pinfo = (p.split("\t", 2) + ["", ""])[:3]
        onum, oproto, oinfo = (o.split("\t", 2) + ["", ""])[:3]
        if pnum != onum:
            diffs.append((pnum, f'rows: frame "{pnum}" -> "{onum}"'))
            continue
        if pnum in skipped:
            continue
        mark = f"[{','.join(ours_in.get(pnum, []))}]"
        if pproto != oproto:
            diffs.append((pnum, f'changed column Protocol{mark}: "{pproto}" -> "{oproto}"'))
        if pinfo != oinfo and not info_kept(pinfo, oinfo):
            diffs.append((pnum, f'changed column Info{mark}: "{pinfo}" -> "{oinfo}"'))
    return diffs


# ---------------------------------------------------------------------------------------------
# Running tshark.

class Run:
    """tshark streaming its stdout; stderr to a file, so a full stderr pipe never blocks it."""

    def __init__(self, wireshark, args):
        cmd, env = wsrun.command(["tshark", "-n"] + args, wireshark.plugin_dir, wireshark.home)
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=self.err)
        self.timer = threading.Timer(TIMEOUT, self.proc.kill)
        self.timer.start()

    def finish(self):
        self.proc.stdout.read()
        self.proc.wait()
        self.timer.cancel()
        self.err.seek(0)
        stderr = self.err.read().decode("utf-8", "replace")
        self.err.close()
        return self.proc.returncode, stderr


def warnings(stderr):
    """tshark's stderr lines without the process id and time stamp."""
    return {re.sub(r"^\*\* \(tshark:\d+\) [\d:.]+ ", "", line.strip()) for line in stderr.splitlines() if line.strip()}


def compare_runs(what, plain_result, ours_result):
    """Same exit status, and no warning plain tshark does not print (one fewer Dissector bug is fine)."""
    (rc_p, err_p), (rc_o, err_o) = plain_result, ours_result
    new = sorted(warnings(err_o) - warnings(err_p))
    if rc_p != rc_o or new:
        return [("-", f"tshark {what}: plain exit {rc_p}, ours exit {rc_o}, new on stderr: {new!r}")]
    return []


def compare_capture(plain, ws, path, two_pass):
    """Every difference of one capture in one mode: [(frame, line)], plus the seconds it took."""
    started = time.monotonic()
    extra = ["-2"] if two_pass else []
    diffs, ours_in, skipped = [], {}, set()
    runs = [Run(w, ["-r", path, "-T", "pdml"] + extra) for w in (plain, ws)]
    try:
        count = 0
        plain_packets, ours_packets = (pdml_packets(r.proc.stdout) for r in runs)
        for p in plain_packets:
            o = next(ours_packets, None)
            count += 1
            if o is None:
                diffs.append(("-", f"packets: ours stop after {count - 1}"))
                break
            if p != o:
                same, mine = quick_equal(p, o)
                if same:
                    num = re.search(rb'<field name="num" pos="0" show="(\d+)"', p)
                    ours_in[num.group(1).decode() if num else "?"] = mine
                    continue
                frame, lines, ours_in[frame], dissector_bug = compare_packet(p, o)
                if dissector_bug:
                    skipped.add(frame)
                diffs += [(frame, line) for line in lines]
        else:
            if next(ours_packets, None) is not None:
                diffs.append(("-", f"packets: ours has more than {count}"))
    finally:
        results = [r.finish() for r in runs]
    diffs += compare_runs("-T pdml", *results)
    args = ["-r", path, "-T", "fields", "-E", "separator=/t", "-E", "quote=n", "-e", "frame.number",
            "-e", "_ws.col.Protocol", "-e", "_ws.col.Info"] + extra
    runs = [Run(w, args) for w in (plain, ws)]
    outs = [r.proc.stdout.read().decode("utf-8", "replace") for r in runs]
    diffs += compare_runs("-T fields", *[r.finish() for r in runs])
    diffs += compare_columns(*outs, ours_in, skipped)
    return diffs, time.monotonic() - started


@pytest.fixture(scope="session")
def comparison(plain, ws):
    """{(capture, mode): ([(frame, line)], seconds)} for every capture, both modes, run two at a time."""
    jobs = {}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for folder, name in CAPTURES:
            path = os.path.join(ws.stage, folder, name)
            for mode in ("one-pass", "two-pass"):
                jobs[(f"{folder}/{name}", mode)] = pool.submit(compare_capture, plain, ws, path, mode == "two-pass")
        results = {k: f.result() for k, f in jobs.items()}
    total = time.monotonic() - started
    slowest = sorted(results.items(), key=lambda kv: -kv[1][1])[:5]
    print(f"\nbuiltin output: {len(CAPTURES)} captures, two modes, {total:.1f} s with {WORKERS} workers; slowest: "
          + ", ".join(f"{c} {m} {s:.1f} s" for (c, m), (_, s) in slowest))
    dump = os.environ.get("SIPSLEUTH_BUILTIN_DIFFS")
    if dump:    # every difference, allowed or not, for whoever reviews the allow-list
        with open(dump, "w", encoding="utf-8") as f:
            for (capture, mode), (diffs, _) in sorted(results.items()):
                f.writelines(f"{capture}\t{mode}\t{frame}\t{line}\n" for frame, line in diffs)
    return results


def test_all_six_plugins_are_loaded(ws):
    out = ws.run(["-G", "protocols"]).stdout
    filters = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    assert set(OURS) <= filters


def test_allowlist_is_short_and_explained():
    entries = load_allowlist()
    assert 0 < len(entries) <= 15, "the allow-list is meant to stay short"


@pytest.mark.parametrize("capture", [f"{folder}/{name}" for folder, name in CAPTURES])
def test_builtin_output_unchanged(comparison, capture):
    entries = load_allowlist()
    unexplained = []
    for mode in ("one-pass", "two-pass"):
        diffs, _seconds = comparison[(capture, mode)]
        for frame, line in diffs:
            if allowed_by(entries, line) is None:
                unexplained.append(f"{capture} {mode} frame {frame}: {line}")
    assert not unexplained, (f"{len(unexplained)} differences from plain Wireshark not in the allow-list "
                             f"(first {SHOWN}):\n" + "\n".join(unexplained[:SHOWN]))


@pytest.mark.skipif(not SHARED_PRESENT, reason="../shared capture folders are not all present")
def test_every_allowlist_entry_is_still_needed(comparison):
    entries = load_allowlist()
    used = {entry[2] for diffs, _ in comparison.values() for _, line in diffs
            for entry in [allowed_by(entries, line)] if entry}
    unused = [f"line {n}: {p.pattern}" for p, _, n in entries if n not in used]
    assert not unused, "allow-list entries no capture needs any more:\n" + "\n".join(unused)


# The comparison itself, on hand-written PDML: what it must ignore and what it must report.
PLAIN = b'''<packet>
  <proto name="geninfo" pos="0" showname="General information" size="9">
    <field name="num" pos="0" show="7" showname="Number" value="7" size="9"/>
  </proto>
  <proto name="frame" showname="Frame 7" size="9" pos="0">
    <field name="frame.protocols" showname="Protocols in frame: eth:sip:mime_multipart:media" size="0" pos="0" show="eth:sip:mime_multipart:media"/>
  </proto>
  <proto name="sip" showname="Session Initiation Protocol" size="9" pos="0">
    <field name="mime_multipart.part" showname="part" size="9" pos="0" show="" value="">
      <proto name="media" showname="Media Type" size="9" pos="0">
        <field name="media.type" showname="Media type: application/dialog-info+xml (9 bytes)" size="9" pos="0" show="x" value="78"/>
      </proto>
    </field>
  </proto>
</packet>
'''
OUR_BODY = b'''      <proto name="dialoginfo" showname="Dialog Information" size="9" pos="0">
        <field name="dialoginfo.version" showname="Version: 1" size="1" pos="0" show="1"/>
        <field name="" show="id" size="1" pos="0" value="78">
          <field name="_ws.expert" showname="Expert Info (Error/Malformed): MESSAGE" size="0" pos="0">
            <field name="dialoginfo.EXPERT" showname="MESSAGE" size="0" pos="0" show="" value=""/>
          </field>
          <proto name="_ws.malformed" showname="Malformed Packet" hide="yes" size="0" pos="0"/>
        </field>
      </proto>
'''
MEDIA = b'''      <proto name="media" showname="Media Type" size="9" pos="0">
        <field name="media.type" showname="Media type: application/dialog-info+xml (9 bytes)" size="9" pos="0" show="x" value="78"/>
      </proto>
'''


def ours_packet(body, expert="missing_attribute", media=MEDIA):
    out = PLAIN.replace(b"mime_multipart:media", b"mime_multipart:dialoginfo:media")
    part = b'      <proto name="media"'
    head, tail = out.split(part, 1)
    tail = tail.split(b"      </proto>\n", 1)[1]
    body = body.replace(b"EXPERT", expert.encode()).replace(b"MESSAGE", b"&lt;dialog&gt; has no id attribute")
    return head + body + media + tail


def test_comparison_ignores_ours_and_reports_the_rest():
    entries = load_allowlist()
    no_malformed = OUR_BODY.replace(b'          <proto name="_ws.malformed" showname="Malformed Packet" hide="yes" size="0" pos="0"/>\n', b"")
    # Ours taken out (our protocol, our expert, our name in frame.protocols): nothing to report, both ways.
    assert quick_equal(PLAIN, ours_packet(no_malformed)) == (True, ["dialoginfo"])
    assert compare_packet(PLAIN, ours_packet(no_malformed))[:3] == ("7", [], ["dialoginfo"])
    # media lost: reported, and no entry allows it.
    lost = ours_packet(no_malformed, media=b"")
    assert quick_equal(PLAIN, lost) == (False, None)
    frame, lines, _, _ = compare_packet(PLAIN, lost)
    assert lines == ['missing sip/mime_multipart.part[dialoginfo]: proto media "Media Type"']
    assert allowed_by(entries, lines[0]) is None
    # frame.protocols losing one of Wireshark's protocols is reported too.
    gone = lost.replace(b"dialoginfo:media", b"dialoginfo")
    assert compare_packet(PLAIN, gone)[1][:1] == ['changed frame/frame.protocols.show: "eth:sip:mime_multipart:media" -> "eth:sip:mime_multipart:dialoginfo"']
    # A _ws.malformed after a schema finding is reported and not allowed; after malformed_xml it is allowed.
    lines = compare_packet(PLAIN, ours_packet(OUR_BODY))[1]
    assert lines == ['malformed: sip/mime_multipart.part[dialoginfo]: proto _ws.malformed "Malformed Packet" after '
                     'dialoginfo.missing_attribute "Expert Info (Error/Malformed): <dialog> has no id attribute"']
    assert allowed_by(entries, lines[0]) is None
    lines = compare_packet(PLAIN, ours_packet(OUR_BODY, expert="malformed_xml"))[1]
    assert len(lines) == 1 and allowed_by(entries, lines[0]) is not None
    # Info: text of ours added anywhere is fine, Wireshark's text lost is not.
    assert info_kept("Request: NOTIFY x |  (application/dialog-info+xml)",
                     "Request: NOTIFY x |  (application/dialog-info+xml) dialog-info v1 full: 1 dialog | ")
    assert not info_kept("Request: NOTIFY x |  (application/dialog-info+xml)", "Request: NOTIFY x | dialog-info v1 | ")
