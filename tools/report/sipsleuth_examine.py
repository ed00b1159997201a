# SPDX-License-Identifier: GPL-2.0-or-later
"""One capture's sipsleuth findings: the per-capture work of `sipsleuth report`, locally or on a Dask worker.

Stdlib only, no import of the rest of the report: a Dask client ships this one file to its workers
(Client.upload_file) and calls examine() there. One `tshark -2` run per capture prints, as PDML, only the
frames with an expert item and one of our protocols (a SIP capture has siptrack on every SIP frame), plus
the `-z io,stat,0` tap for the packet count; the PDML is parsed as a stream, one packet at a time, so the
memory does not grow with the capture.

As root, tshark runs as nobody (Wireshark 4.0 loads neither WIRESHARK_PLUGIN_DIR nor personal plugins
for root, and nobody should dissect untrusted input as root): the capture and a fresh HOME are staged in
a folder only nobody can read, the plugin folder in a copy nobody can read but not change.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

PROTOCOLS = ("ciscoalarm", "dialoginfo", "rlmi", "mssip", "msrpa", "siptrack")
# Frames with an expert item of one of our protocols, and frames Wireshark marks malformed.
FILTER = "(_ws.expert && (" + " || ".join(PROTOCOLS) + ")) || _ws.malformed"
NOBODY = 65534
SEVERITIES = ("Comment", "Chat", "Note", "Warning", "Error")   # worst last
# What tshark says about a file it cannot read, and the status the report gives the capture. A
# truncated or damaged file keeps the findings of the packets read before the damage.
FILE_ERRORS = (
    ("appears to have been cut short", "truncated"),
    ("appears to be damaged or corrupt", "corrupt"),
    ("isn't a capture file in a format", "not_capture"),
    ("is a capture file of a type", "not_capture"),
    ("unknown file format", "not_capture"),
)
# Statuses of a capture that is done: a rerun skips it. "failed" (tshark crashed, timed out, the
# plugins did not load on that machine) is tried again.
DONE = ("ok", "truncated", "corrupt", "not_capture", "empty")
CHUNK = 1 << 16

_staged_plugins = {}     # plugin folder -> copy nobody can read (one per worker process)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def worker_name():
    """The Dask worker's address when run by one, else host:pid."""
    try:
        from distributed import get_worker
        return get_worker().address
    except Exception:  # noqa: BLE001 - not in a Dask worker (or no distributed installed)
        return f"{socket.gethostname()}:{os.getpid()}"


def _private_dir(root_owned_by_nobody):
    """A temporary folder; as root, owned by nobody and closed to everyone else."""
    path = tempfile.mkdtemp(prefix="sipsleuth-report-")
    if root_owned_by_nobody:
        os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o700)
    return path


def _stage_plugins(plugin_dir):
    """As root: a copy of plugin_dir that nobody can read but not change (owned by root, 0755/0644: a
    tshark taken over by a hostile capture must not alter the plugin later runs load). One copy per
    plugin build, shared by every process and run (named after the files' paths, sizes and times), made
    under a temporary name and renamed into place, so that a killed worker leaves nothing behind."""
    if plugin_dir not in _staged_plugins:
        # Only the <major>.<minor>/ folders Wireshark reads (a build tree has CMake's files beside them).
        versions = [n for n in sorted(os.listdir(plugin_dir)) if re.fullmatch(r"\d+\.\d+", n)]
        key = hashlib.sha256()
        for base, dirs, files in sorted(w for v in versions for w in os.walk(os.path.join(plugin_dir, v))):
            for f in sorted(files):
                st = os.stat(os.path.join(base, f))
                key.update(f"{os.path.relpath(os.path.join(base, f), plugin_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n"
                           .encode())
        key.update(os.path.realpath(plugin_dir).encode())
        final = os.path.join(tempfile.gettempdir(), f"sipsleuth-report-plugins-{key.hexdigest()[:16]}")
        if not os.path.isdir(final):
            work = tempfile.mkdtemp(prefix="sipsleuth-report-plugins-new-")
            for v in versions:
                shutil.copytree(os.path.join(plugin_dir, v), os.path.join(work, "plugins", v))
            for base, dirs, files in os.walk(work):
                os.chmod(base, 0o755)
                for f in files:
                    os.chmod(os.path.join(base, f), 0o644)
            try:
                os.rename(work, final)
            except OSError:                   # another process staged it first
                shutil.rmtree(work, ignore_errors=True)
        _staged_plugins[plugin_dir] = os.path.join(final, "plugins")
    return _staged_plugins[plugin_dir]


def tshark_command(args, plugin_dir, home):
    """(argv, env) running tshark with args: as nobody when root, with plugin_dir's plugins when given."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if home:
        env["HOME"] = home
    elif os.environ.get("HOME"):
        env["HOME"] = os.environ["HOME"]     # a user's personal plugins live under their HOME
    if plugin_dir:
        env["WIRESHARK_PLUGIN_DIR"] = plugin_dir
    argv = [shutil.which("tshark") or "/usr/bin/tshark"] + list(args)
    if os.geteuid() == 0:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env", "-i"]
        return prefix + [f"{k}={v}" for k, v in sorted(env.items())] + argv, None
    return argv, env


def loaded_protocols(plugin_dir=None):
    """Our protocols that tshark knows (with plugin_dir's plugins, or the installed ones)."""
    root = os.geteuid() == 0
    home = _private_dir(root)
    try:
        staged = _stage_plugins(plugin_dir) if (plugin_dir and root) else plugin_dir
        argv, env = tshark_command(["-G", "protocols"], staged, home if (root or plugin_dir) else None)
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, errors="replace").stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)
    names = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    return [p for p in PROTOCOLS if p in names]


class _PdmlStream:
    """Feeds PDML from tshark's stdout to a pull parser up to </pdml>; keeps what follows (the taps)."""

    END = b"</pdml>"

    def __init__(self, stream):
        self.stream = stream
        self.tail = bytearray()

    def packets(self):
        parser = ET.XMLPullParser(events=("end",))
        carry, ended = b"", False
        while True:
            chunk = self.stream.read(CHUNK)
            if not chunk:
                break
            if ended:
                self.tail += chunk
                continue
            data = carry + chunk
            at = data.find(self.END)
            if at >= 0:
                parser.feed(data[:at + len(self.END)])
                self.tail += data[at + len(self.END):]
                ended = True
            else:
                keep = len(self.END) - 1      # the end tag may straddle two chunks
                parser.feed(data[:-keep])
                carry = data[-keep:]
            for _event, elem in parser.read_events():
                if elem.tag == "packet":
                    yield elem
                    elem.clear()
        if not ended and carry:
            try:
                parser.feed(carry)
                for _event, elem in parser.read_events():
                    if elem.tag == "packet":
                        yield elem
            except ET.ParseError:
                pass                         # tshark stopped mid-packet: what came before is kept


def _has_expert(elem, protocol):
    """Whether elem is, or holds, an expert item of protocol."""
    for e in elem.iter("field"):
        if e.get("name") == "_ws.expert" and any(c.get("name", "").startswith(protocol + ".") for c in e):
            return True
    return False


# Subtrees where the link comes before the findings it belongs to, once for all the findings that follow
# with the same cause (siptrack's keepalives, CauseLinks in plugins/siptrack/keepalive.cc); elsewhere a
# plugin adds the link right after its finding.
LINK_BEFORE = ("siptrack.register", "siptrack.crlf", "siptrack.sccp")


def _caused_by(parents, expert, protocol):
    """The frame a finding is a consequence of: the <protocol>.caused_by item beside the expert item in
    its subtree (or beside the item holding it): in a LINK_BEFORE subtree the last one before it, elsewhere
    the one after it and before the next finding of that protocol."""
    name = f"{protocol}.caused_by"
    node = expert
    while True:
        container = parents.get(node)
        if container is None:
            return None
        children = list(container)
        at = children.index(node)
        if container.get("name") in LINK_BEFORE:
            for sibling in reversed(children[:at]):
                if sibling.get("name") == name:
                    return int(sibling.get("show"))
        else:
            for sibling in children[at + 1:]:
                if sibling.get("name") == name:
                    return int(sibling.get("show"))
                if _has_expert(sibling, protocol):
                    break
        if container.tag == "proto":
            return None
        node = container


def packet_findings(packet):
    """(frame, epoch time, relative time, malformed, [finding dict]) of one PDML packet."""
    frame, epoch, relative = 0, None, None
    for field in packet.iter("field"):
        name = field.get("name")
        if name == "num":
            frame = int(field.get("show"))
        elif name == "timestamp":
            epoch = float(field.get("value"))
        elif name == "frame.time_relative":
            relative = float(field.get("show"))
            break
    parents = {child: parent for parent in packet.iter() for child in parent}
    found, malformed = [], False
    for elem in packet.iter("field"):
        name = elem.get("name", "")
        if name == "_ws.malformed":
            malformed = True
        if name != "_ws.expert":
            continue
        parts = {child.get("name", ""): child for child in elem}
        field = next((n for n in parts if not n.startswith("_ws.expert")), "")
        protocol = field.split(".", 1)[0]
        if protocol not in PROTOCOLS:
            continue
        severity = parts["_ws.expert.severity"].get("showname", "").rpartition(": ")[2]
        group = parts["_ws.expert.group"].get("showname", "").rpartition(": ")[2]
        found.append({"frame": frame, "time_epoch": epoch, "time_relative": relative, "protocol": protocol,
                      "field": field, "severity": severity, "group": group,
                      "message": parts["_ws.expert.message"].get("show", ""),
                      "caused_by": _caused_by(parents, elem, protocol)})
    return frame, malformed, found


def _io_stat(text):
    """(frames, bytes, duration in s) from the `-z io,stat,0` table (None when absent)."""
    duration = re.search(r"\|\s*Duration:\s*([\d.]+) secs", text)
    rows = re.findall(r"^\|\s*[\d.]+\s*<>\s*([\d.]+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", text, re.M)
    if not rows:
        return (0, 0, float(duration.group(1)) if duration else None) if "Interval" in text else (None, None, None)
    frames = sum(int(r[1]) for r in rows)
    size = sum(int(r[2]) for r in rows)
    return frames, size, float(duration.group(1)) if duration else None


def _file_error(stderr):
    """(status, message) from tshark's complaint about the file, or (None, "")."""
    lines = [l for l in stderr.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        for needle, status in FILE_ERRORS:
            if needle in line:
                detail = [l.strip() for l in lines[i + 1:i + 3] if l.startswith("(")]
                return status, " ".join([line.replace("tshark: ", "", 1)] + detail)
    return None, ""


def _stderr_summary(stderr, limit=600):
    lines = [l for l in stderr.splitlines()
             if l.strip() and "Permission denied" not in l and "permission to read" not in l]
    return "\n".join(lines)[-limit:]


def examine(job):
    """Examine one capture. job: {"path", "sha256", "size", and optionally "data" (the bytes, when the
    worker cannot read the path), "plugin_dir", "timeout", "decode_as" ([tshark -d rules])}.
    Returns a dict: the capture's status, counts and findings (never raises for bad input)."""
    started = time.monotonic()
    result = {"path": job["path"], "sha256": job["sha256"], "size": job["size"], "status": "failed",
              "error": "", "packets": None, "bytes": None, "duration": None, "malformed_frames": 0,
              "findings": [], "worker": worker_name(), "seconds": 0.0}
    if job["size"] == 0:
        result.update(status="empty", error="empty file (0 bytes)", packets=0)
        return result
    root = os.geteuid() == 0
    work = _private_dir(root)
    try:
        capture = job["path"]
        if job.get("data") is not None or root:
            capture = os.path.join(work, "capture" + (".gz" if job["path"].endswith(".gz") else ""))
            if job.get("data") is not None:
                with open(capture, "wb") as f:
                    f.write(job["data"])
            else:
                shutil.copyfile(job["path"], capture)
            if root:
                os.chown(capture, NOBODY, NOBODY)
        home = None
        plugin_dir = job.get("plugin_dir")
        if root or plugin_dir:
            home = os.path.join(work, "home")
            os.mkdir(home, 0o700)
            if root:
                os.chown(home, NOBODY, NOBODY)
        if plugin_dir and root:
            plugin_dir = _stage_plugins(plugin_dir)
        args = ["-n", "-r", capture, "-2", "-Y", FILTER, "-T", "pdml", "-z", "io,stat,0"]
        for rule in job.get("decode_as") or ():
            args += ["-d", rule]
        _run(result, args, plugin_dir, home, work, job.get("timeout") or 600)
        if capture != job["path"]:
            result["error"] = result["error"].replace(capture, job["path"])
    except Exception as exc:  # noqa: BLE001 - a capture must not stop the batch
        result.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _run(result, args, plugin_dir, home, work, timeout):
    argv, env = tshark_command(args, plugin_dir, home)
    with tempfile.TemporaryFile(dir=work) as err:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        stream = _PdmlStream(proc.stdout)
        findings, malformed, timed_out = [], 0, False
        try:
            for packet in stream.packets():
                _frame, bad, found = packet_findings(packet)
                findings += found
                malformed += bad
                if time.monotonic() > deadline:
                    timed_out = True
                    break
        except ET.ParseError as exc:
            result["error"] = f"unreadable tshark output: {exc}"
        if timed_out:
            proc.kill()
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            timed_out = True
        proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if timed_out:
        result.update(status="failed", error=f"tshark took longer than {timeout} s")
        return
    frames, size, duration = _io_stat(stream.tail.decode("utf-8", "replace"))
    result.update(packets=frames, bytes=size, duration=duration, malformed_frames=malformed, findings=findings)
    status, message = _file_error(stderr)
    if status:
        result.update(status=status, error=message)
    elif proc.returncode != 0 or frames is None:
        result.update(status="failed", error=f"tshark exit {proc.returncode}: {_stderr_summary(stderr)}")
    elif not result["error"]:
        result["status"] = "ok"
        bugs = re.findall(r"Dissector bug[^\n]*", stderr)
        if bugs:
            result["error"] = "; ".join(sorted(set(bugs)))[:600]
