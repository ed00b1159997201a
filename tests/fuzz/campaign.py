#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A long libFuzzer campaign over every fuzz target, outside CI (CI runs each for 20 s).

1. Builds the core targets with libFuzzer, ASan and UBSan (clang), unless --build-dir names a tree built
   with -DSIPSLEUTH_FUZZ=ON (build-test/ from `./sipsleuth test` is one), and the glue target
   (glue/fuzz_glue.c: libwireshark with our six plugins, the plugins built with coverage, ASan and UBSan
   instrumentation in WORK/glue-build).
2. Seeds each target's corpus with its committed corpus plus what our captures hold: every SIP message's
   bodies by media type (dialog-info, RLMI, x-cisco-alarm, SDP, multipart parts), header values (From,
   To, Contact, Event, Subscription-State, ms-diagnostics, Content-ID, Refer-To), whole SIP messages,
   MSRP messages, the alarm bodies' protocol-event strings, and for the glue target the captures
   themselves as packet scripts (glue_corpus.py). Captures come from captures/ and, when present, from
   ../shared/captures-found, captures-public and captures-public2 (never copied into the project).
   fuzz_subscription and fuzz_registration read private event scripts: they start from their committed
   corpus only.
3. Runs every target for --minutes (wall clock, --jobs at a time, under nice) and prints a table:
   executions, executions per second, coverage (libFuzzer's cov and ft), corpus size, crashes. Crash
   inputs are kept in WORK/crashes/TARGET/. The table is also written to WORK/campaign.md.

Usage: /usr/bin/python3 tests/fuzz/campaign.py [--minutes 10] [--jobs 2] [--work build-fuzz]
                                               [--build-dir build-test] [--targets fuzz_rlmi,fuzz_glue]
The glue target needs no root, and as root still loads the plugins (dlopen, not Wireshark's scan).
LeakSanitizer is off for the glue target: libwireshark keeps per-session caches it frees only at exit.
"""
import argparse
import concurrent.futures
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
PLUGIN_TARGET = "sipsleuth"  # the six protocols in one shared object, sipsleuth.so
INSTRUMENT = "-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
MAX_SEEDS = 3000


def say(text):
    print(text, flush=True)


def run(argv, **kw):
    say("$ " + " ".join(argv))
    subprocess.run(argv, check=True, **kw)


def capture_dirs():
    dirs = [os.path.join(ROOT, "captures")]
    for name in ("captures-found", "captures-public", "captures-public2"):
        d = os.path.join(SHARED, name)
        if os.path.isdir(d):
            dirs.append(d)
    return dirs


# ---- building -------------------------------------------------------------------------------------------

def build_core(work, build_dir):
    if build_dir:
        if not glob.glob(os.path.join(build_dir, "tests", "fuzz", "fuzz_*")):
            sys.exit(f"{build_dir} has no fuzz targets: configure it with -DSIPSLEUTH_FUZZ=ON")
        targets = [t for t in sorted(glob.glob(os.path.join(build_dir, "tests", "fuzz", "fuzz_*")))
                   if os.access(t, os.X_OK) and not t.endswith("_replay")]
        return targets
    b = os.path.join(work, "core-build")
    env = dict(os.environ, CC="clang", CXX="clang++")
    run(["cmake", "-S", ROOT, "-B", b, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DSIPSLEUTH_FUZZ=ON",
         "-DSIPSLEUTH_PLUGINS=OFF"], env=env, stdout=subprocess.DEVNULL)
    names = [os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "fuzz_*.cc"))]
    run(["cmake", "--build", b, "-j", str(os.cpu_count() or 2), "--target"] + names, stdout=subprocess.DEVNULL)
    return [os.path.join(b, "tests", "fuzz", n) for n in sorted(names)]


def build_glue(work):
    b = os.path.join(work, "glue-build")
    env = dict(os.environ, CC="clang", CXX="clang++")
    run(["cmake", "-S", ROOT, "-B", b, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DSIPSLEUTH_TESTS=OFF",
         f"-DCMAKE_C_FLAGS={INSTRUMENT}", f"-DCMAKE_CXX_FLAGS={INSTRUMENT}"], env=env, stdout=subprocess.DEVNULL)
    run(["cmake", "--build", b, "-j", str(os.cpu_count() or 2), "--target", PLUGIN_TARGET],
        stdout=subprocess.DEVNULL)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "wireshark"], check=True, capture_output=True,
                           text=True).stdout.split()
    exe = os.path.join(work, "fuzz_glue")
    # Linked by clang++ (the source compiled as C): the plugins are C++ and need UBSan's C++ runtime.
    run(["clang++", "-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-omit-frame-pointer",
         "-x", "c", os.path.join(HERE, "glue", "fuzz_glue.c"), "-x", "none", "-o", exe] + flags +
        ["-lwiretap", "-ldl"])
    epan = glob.glob(os.path.join(b, "plugins", "*", "epan"))
    if not epan:
        sys.exit(f"no plugins built in {b}/plugins")
    return exe, epan[0]


# ---- seeds ----------------------------------------------------------------------------------------------

def streams(path):
    """Byte streams of a capture: each UDP payload alone, each TCP direction's payloads concatenated."""
    from scapy.all import IP, IPv6, TCP, UDP, PcapReader  # noqa: E402 - only the seeding needs scapy
    tcp = {}
    try:
        reader = PcapReader(path)
    except Exception:  # noqa: BLE001 - scapy raises many kinds for files it cannot read
        return
    with reader:
        for pkt in reader:
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            l4 = ip and (ip.getlayer(TCP) or ip.getlayer(UDP))
            if not l4 or not l4.payload:
                continue
            data = bytes(l4.payload)
            if isinstance(l4, UDP):
                yield data
            else:
                key = (ip.src, l4.sport, ip.dst, l4.dport)
                seen = tcp.setdefault(key, [set(), bytearray()])
                if l4.seq not in seen[0]:
                    seen[0].add(l4.seq)
                    seen[1] += data
    for _, data in tcp.values():
        yield bytes(data)


HEADERS = {
    "from": "fuzz_sip_header", "f": "fuzz_sip_header", "to": "fuzz_sip_header", "t": "fuzz_sip_header",
    "contact": "fuzz_sip_header", "m": "fuzz_sip_header", "event": "fuzz_sip_header", "o": "fuzz_sip_header",
    "subscription-state": "fuzz_sip_header", "refer-to": "fuzz_content_id", "r": "fuzz_content_id",
    "content-id": "fuzz_content_id", "ms-diagnostics": "fuzz_ms_diagnostics",
    "ms-diagnostics-public": "fuzz_ms_diagnostics",
}
BODIES = {
    "application/dialog-info+xml": ("fuzz_dialog_info", "fuzz_xml_body"),
    "application/rlmi+xml": ("fuzz_rlmi", "fuzz_xml_body"),
    "application/x-cisco-alarm+xml": ("fuzz_cisco_alarm", "fuzz_xml_body"),
    "application/sdp": ("fuzz_sdp_msrp", "fuzz_msrp_session"),
}


def split_messages(data):
    """SIP and MSRP messages in a byte stream (Content-Length framing for SIP, end-line for MSRP)."""
    pos = 0
    while pos < len(data):
        start = data.find(b"MSRP ", pos) if data.startswith(b"MSRP ", pos) else pos
        if data.startswith(b"MSRP ", start):
            tid = data[start:start + 64].split(b" ")[1] if b" " in data[start + 5:start + 64] else b""
            end = data.find(b"-------" + tid, start)
            if end < 0:
                return
            stop = data.find(b"\r\n", end)
            stop = len(data) if stop < 0 else stop + 2
            yield "msrp", data[start:stop], b"", b""
            pos = stop
            continue
        head_end = data.find(b"\r\n\r\n", pos)
        if head_end < 0:
            return
        head = data[pos:head_end]
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        length = int(m.group(1)) if m else 0
        body = data[head_end + 4:head_end + 4 + length]
        yield "sip", data[pos:head_end + 4 + length], head, body
        pos = head_end + 4 + length


def media_parts(ctype, body):
    """(media type, bytes) of a body, multipart parts included (one level deep, then recursively)."""
    ctype = ctype.strip()
    base = ctype.split(";")[0].strip().lower()
    if not base.startswith("multipart/"):
        yield base, body
        return
    m = re.search(r'boundary\s*=\s*"?([^";]+)"?', ctype, re.I)
    if not m:
        return
    for part in body.split(b"--" + m.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        part = part.lstrip(b"\r\n")
        sep = part.find(b"\r\n\r\n")
        if sep < 0:
            continue
        pm = re.search(rb"(?im)^content-type\s*:\s*([^\r\n]+)", part[:sep])
        if pm:
            yield from media_parts(pm.group(1).decode("latin-1"), part[sep + 4:].rstrip(b"\r\n"))


def seeds_from_captures():
    out = {}

    def add(target, data):
        if data:
            out.setdefault(target, set()).add(bytes(data))

    for d in capture_dirs():
        for path in sorted(glob.glob(os.path.join(d, "**", "*.pcap*"), recursive=True)):
            for data in streams(path):
                for kind, msg, head, body in split_messages(data):
                    if kind == "msrp":
                        add("fuzz_msrp_session", msg)
                        continue
                    add("fuzz_ms_diagnostics", msg)
                    ctype = ""
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        name = name.strip().lower().decode("latin-1")
                        value = value.strip()
                        if name in HEADERS:
                            add(HEADERS[name], value)
                        if name in ("content-type", "c"):
                            ctype = value.decode("latin-1")
                    if body and ctype:
                        for media, part in media_parts(ctype, body):
                            for target in BODIES.get(media, ()):
                                add(target, part)
                            if media == "application/x-cisco-alarm+xml":
                                for ev in re.findall(rb"(?:Sent|Rcvd):[^<\r\n]{0,400}", part):
                                    add("fuzz_protocol_event", ev)
    return out


def seed(work, targets, glue):
    corpus_root = os.path.join(work, "corpus")
    found = seeds_from_captures()
    counts = {}
    for name in targets:
        dst = os.path.join(corpus_root, name)
        os.makedirs(dst, exist_ok=True)
        committed = os.path.join(HERE, "corpus", name)
        if os.path.isdir(committed):
            for f in os.listdir(committed):
                shutil.copy(os.path.join(committed, f), dst)
        for data in sorted(found.get(name, ()))[:MAX_SEEDS]:
            with open(os.path.join(dst, "cap-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
                f.write(data)
        counts[name] = len(os.listdir(dst))
    if glue:
        dst = os.path.join(corpus_root, "fuzz_glue")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "glue_corpus.py"), dst] + capture_dirs() +
                       ["--window", "150", "--max-seeds", "600", "--max-bytes", "131072"], check=True,
                       stdout=subprocess.DEVNULL)
        for f in os.listdir(os.path.join(HERE, "corpus", "fuzz_glue")):
            shutil.copy(os.path.join(HERE, "corpus", "fuzz_glue", f), dst)
        counts["fuzz_glue"] = len(os.listdir(dst))
    return counts


# ---- running --------------------------------------------------------------------------------------------

def fuzz(job):
    name, exe, corpus, seconds, work, env_extra, extra = job
    crashes = os.path.join(work, "crashes", name)
    os.makedirs(crashes, exist_ok=True)
    log = os.path.join(work, "logs", name + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    env = dict(os.environ, UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1", **env_extra)
    argv = ["nice", "-n", "10", exe, f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=25",
            "-print_final_stats=1", f"-artifact_prefix={crashes}/", corpus] + extra
    started = time.monotonic()
    with open(log, "w") as f:
        proc = subprocess.run(argv, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=seconds + 600)
    text = open(log, errors="replace").read()
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text) or re.findall(r"^#(\d+):", text, re.M)
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
    return {
        "target": name, "exit": proc.returncode, "seconds": round(time.monotonic() - started),
        "execs": int(execs[-1]) if execs else 0,
        "cov": int(cov[-1][0]) if cov else 0, "ft": int(cov[-1][1]) if cov else 0,
        "corpus": int(cov[-1][2]) if cov else 0,
        "crashes": len([f for f in os.listdir(crashes) if f.startswith(("crash-", "leak-", "timeout-"))]),
        "ooms": len([f for f in os.listdir(crashes) if f.startswith("oom-")]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(ROOT, "build-fuzz"))
    ap.add_argument("--build-dir", help="an existing -DSIPSLEUTH_FUZZ=ON build tree for the core targets")
    ap.add_argument("--targets", help="comma-separated subset (fuzz_glue for the glue target)")
    ap.add_argument("--no-glue", action="store_true")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    wanted = set(args.targets.split(",")) if args.targets else None

    core = [t for t in build_core(work, args.build_dir) if not wanted or os.path.basename(t) in wanted]
    glue = not args.no_glue and (not wanted or "fuzz_glue" in wanted)
    glue_exe = glue_plugins = None
    if glue:
        glue_exe, glue_plugins = build_glue(work)
    counts = seed(work, [os.path.basename(t) for t in core], glue)
    say("seed corpus: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    seconds = int(args.minutes * 60)
    jobs = [(os.path.basename(t), t, os.path.join(work, "corpus", os.path.basename(t)), seconds, work, {}, [])
            for t in core]
    if glue:
        jobs.append(("fuzz_glue", glue_exe, os.path.join(work, "corpus", "fuzz_glue"), seconds, work,
                     {"SIPSLEUTH_GLUE_PLUGINS": glue_plugins, "ASAN_OPTIONS": "detect_leaks=0",
                      "HOME": os.path.join(work, "home")},
                     # libwireshark 4.0 keeps ~11 MB per epan session (measured with no plugin loaded too),
                     # so one process cannot run thousands of sessions: fork mode gives each child a share
                     # of the time and starts another when one reaches the RSS limit.
                     ["-max_len=131072", "-fork=1", "-ignore_ooms=1"]))
    os.makedirs(os.path.join(work, "home"), exist_ok=True)
    say(f"{len(jobs)} targets, {args.minutes:g} min each, {args.jobs} at a time")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(fuzz, jobs))

    rows = ["| target | minutes | executions | exec/s | cov | ft | corpus | crashes | ooms | exit |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['target']} | {r['seconds'] / 60:.1f} | {r['execs']:,} | "
                    f"{r['execs'] // max(r['seconds'], 1):,} | {r['cov']} | {r['ft']} | {r['corpus']} | "
                    f"{r['crashes']} | {r['ooms']} | {r['exit']} |")
    table = "\n".join(rows)
    say(table)
    with open(os.path.join(work, "campaign.md"), "w") as f:
        f.write(table + "\n")
    # In fork mode libFuzzer exits with its out-of-memory code (71 here) when a child reached the RSS limit:
    # for the glue target that is libwireshark's per-session growth, not a finding.
    def failed(r):
        if r["crashes"]:
            return True
        if r["target"] == "fuzz_glue" and r["ooms"]:
            return r["exit"] not in (0, 71)
        return r["exit"] != 0 or r["ooms"]
    bad = [r["target"] for r in results if failed(r)]
    say("FAIL: " + ", ".join(bad) if bad else "PASS: no crash, leak or timeout (out-of-memory only in fuzz_glue's fork mode children)"
        if any(r["ooms"] for r in results) else "PASS: no crash, leak, timeout or out-of-memory")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
