# SPDX-License-Identifier: GPL-2.0-or-later
"""Parity of the Lua plugins (lua-compat/, issue 12) with the compiled suite, on every capture.

Two tshark sides per capture and mode (one pass, and -2):
  compiled: the plugins of SIPSLEUTH_PLUGIN_DIR (sipsleuth.so), protocols without a Lua glue module yet
            disabled (--disable-protocol), so only what both sides have is compared;
  lua:      no .so at all (an empty plugin folder) and lua-compat/sipsleuth in the personal Lua plugins
            folder of the run's HOME, as an analyst installs it.
Each side runs once per capture and mode with `-T fields` of every field the compiled suite registers
for the ported protocols (from its `tshark -G fields`, expert fields included: their value is the
count) and the expert items of the frame (_ws.expert.severity, .group and .message, compared per frame
as a multiset: post-dissector order is not part of parity). A difference fails unless a line of
lua-compat/parity-exceptions matches it; a compiled field the Lua side does not register fails too. A
protocol whose `<proto>_ws.lualib` does not exist yet is an xfail (test_protocol_ported), so this test
landed before the ports. Any "Lua Error" expert (a Lua error in a dissector) fails the capture.

Also against the Lua plugins only: the editcap corruption run (tests/fuzz/editcap_fuzz.py's editcap -E
0.02, fewer seeds) and the hostile capture shapes of tests/bench/gen_hostile.py at small sizes: no Lua
error, no "Dissector bug", exit 0, within a time limit (no hang).

Run alone: SIPSLEUTH_PLUGIN_DIR=/work/main/build-test/plugins /usr/bin/python3 -m pytest -q
tests/e2e/test_lua_parity.py (-k parity, -k hostile, -k editcap).
"""
import collections
import concurrent.futures
import fnmatch
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import PROTOCOLS, ROOT, wsrun

LUA_SRC = os.path.join(ROOT, "lua-compat", "sipsleuth")
EXCEPTIONS = os.path.join(ROOT, "lua-compat", "parity-exceptions")
MODES = ("1pass", "2pass")
AGGREGATOR = "\x1f"  # expert messages hold commas: occurrences are joined with the unit separator
EXPERT_FIELDS = ("_ws.expert.severity", "_ws.expert.group", "_ws.expert.message")
JOBS = 2
HOSTILE_SIZES = {"notify_rst": 300, "msrp_close": 200, "big_dialog_info": 4, "many_headers": 6}
EDITCAP_SEEDS = (1, 2)
TIMEOUT = 300


def parity_captures():
    """captures/*.pcap and captures/real/*.pcap, as names relative to captures/."""
    top = os.path.join(ROOT, "captures")
    names = []
    for sub in ("", "real"):
        folder = os.path.join(top, sub)
        names += sorted(os.path.join(sub, f) if sub else f for f in os.listdir(folder)
                        if f.endswith((".pcap", ".pcapng")))
    return names


def ported():
    """The protocols with a glue module in lua-compat (<proto>_ws.lualib), in registration order."""
    lib = os.path.join(LUA_SRC, "lib")
    return [p for p in PROTOCOLS if os.path.exists(os.path.join(lib, f"{p}_ws.lualib"))]


class Exceptions:
    """lua-compat/parity-exceptions: `<protocol> <capture-glob> <what-glob> [pass=1|2] [frames=N,M-K] -- reason`.

    <what-glob> is a field name glob (mssip.endpoint, dialoginfo.*) or expert:"<message glob>" for an
    expert item (severity, group and message) present on one side only; `missing` as <capture-glob>
    with a field glob accepts a compiled field the Lua side does not register."""

    def __init__(self, path):
        self.rules = []
        self.used = set()
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                head, sep, reason = line.partition(" -- ")
                words = shlex.split(head)
                assert sep and reason.strip() and len(words) >= 3, \
                    f"parity-exceptions line {number}: '<protocol> <capture-glob> <what> [pass=] [frames=] -- reason'"
                rule = {"line": number, "protocol": words[0], "capture": words[1], "what": words[2],
                        "pass": None, "frames": None}
                for opt in words[3:]:
                    key, _, value = opt.partition("=")
                    if key == "pass":
                        rule["pass"] = value
                    elif key == "frames":
                        rule["frames"] = set()
                        for part in value.split(","):
                            lo, _, hi = part.partition("-")
                            rule["frames"].update(range(int(lo), int(hi or lo) + 1))
                    else:
                        raise AssertionError(f"parity-exceptions line {number}: unknown option {opt}")
                assert words[0] in PROTOCOLS, f"parity-exceptions line {number}: unknown protocol {words[0]}"
                self.rules.append(rule)

    def accepts(self, capture, mode, frame, what):
        for r in self.rules:
            if not fnmatch.fnmatchcase(capture, r["capture"]):
                continue
            if r["pass"] and r["pass"] != mode[0]:
                continue
            if r["frames"] is not None and frame not in r["frames"]:
                continue
            if fnmatch.fnmatchcase(what, r["what"]):
                self.used.add(r["line"])
                return True
        return False


class Side:
    """One tshark configuration: plugin folder, HOME, extra arguments."""

    def __init__(self, name, plugin_dir, home, extra=()):
        self.name, self.plugin_dir, self.home, self.extra = name, plugin_dir, home, list(extra)

    def run(self, args, timeout=TIMEOUT):
        argv = ["tshark"] + (args if args[:1] == ["-G"] else ["-n"] + self.extra + args)
        return wsrun.run(argv, self.plugin_dir, self.home, timeout=timeout)

    def fields(self, path, fields, two_pass):
        args = ["-r", path, "-T", "fields", "-E", "header=n", "-E", "occurrence=a", "-E", "separator=/t",
                "-E", f"aggregator={AGGREGATOR}", "-e", "frame.number"]
        if two_pass:
            # With a display filter tshark's first pass builds a tree, which a Lua post-dissector needs to
            # read any field (lua-compat/README.md, tshark -2); `frame` keeps every frame on both sides.
            args += ["-2", "-Y", "frame"]
        for f in fields:
            args += ["-e", f]
        proc = self.run(args)
        return proc


@pytest.fixture(scope="module")
def setup(staged, request):
    """The two sides, the compared fields and every capture's output on both, run JOBS at a time."""
    stage = tempfile.mkdtemp(prefix="sipsleuth-lua-parity-")
    os.chmod(stage, 0o755)
    empty = os.path.join(stage, "no-plugins")
    os.makedirs(empty, mode=0o755)
    lua_home = wsrun.make_home()
    wsrun.stage_tree(LUA_SRC, os.path.join(lua_home, ".local", "lib", "wireshark", "plugins", "sipsleuth"))
    os.chmod(os.path.join(lua_home, ".local"), 0o755)
    for base, dirs, _files in os.walk(os.path.join(lua_home, ".local")):
        for d in dirs:
            os.chmod(os.path.join(base, d), 0o755)
    names = ported()
    disabled = [p for p in PROTOCOLS if p not in names]
    compiled = Side("compiled", os.path.join(staged, "plugins"), wsrun.make_home(),
                    [a for p in disabled for a in ("--disable-protocol", p)])
    lua = Side("lua", empty, lua_home)
    registered = {}
    for side in (compiled, lua):
        proc = side.run(["-G", "fields"])
        assert proc.returncode == 0, proc.stderr
        registered[side.name] = [line.split("\t") for line in proc.stdout.splitlines() if line.startswith("F\t")]
    compiled_fields = [row[2] for row in registered["compiled"] if row[4] in names]
    lua_fields = {row[2] for row in registered["lua"]}
    fields = [f for f in compiled_fields if f in lua_fields]
    result = {"stage": stage, "sides": (compiled, lua), "ported": names, "fields": fields,
              "missing": [f for f in compiled_fields if f not in lua_fields], "out": {}}
    # Only what this session runs (pytest -k selects captures), JOBS tshark at a time, started now.
    selected = [(item.callspec.params["capture"], item.callspec.params["mode"]) for item in request.session.items
                if item.originalname == "test_parity" and hasattr(item, "callspec")]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=JOBS)

    def run(cap, mode, side):
        return side.fields(os.path.join(staged, "captures", cap), fields + list(EXPERT_FIELDS), mode == "2pass")

    if names:
        for cap, mode in selected:
            for side in (compiled, lua):
                result["out"][(cap, mode, side.name)] = pool.submit(run, cap, mode, side)
    yield result
    pool.shutdown(wait=True, cancel_futures=True)
    for side in (compiled, lua):
        shutil.rmtree(side.home, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def table(proc, fields):
    """{frame: {field: value}} and {frame: Counter of (severity, group, message)} of one run."""
    values, experts = {}, {}
    for line in proc.stdout.splitlines():
        cells = line.split("\t")
        frame = int(cells[0])
        row = dict(zip(fields, cells[1:1 + len(fields)]))
        values[frame] = row
        sev, grp, msg = (cells[1 + len(fields) + i].split(AGGREGATOR) if 1 + len(fields) + i < len(cells) else []
                         for i in range(3))
        experts[frame] = collections.Counter(zip(sev, grp, msg)) if msg != [""] else collections.Counter()
    return values, experts


def differences(cap, mode, setup, exceptions):
    fields = setup["fields"]
    procs = {name: setup["out"][(cap, mode, name)].result() for name in ("compiled", "lua")}
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} tshark on {cap} ({mode}): {proc.stderr[-2000:]}"
    (cv, ce), (lv, le) = table(procs["compiled"], fields), table(procs["lua"], fields)
    found = []
    for frame in sorted(set(cv) | set(lv)):
        for (sev, grp, msg), n in (le.get(frame) or {}).items():
            if msg.startswith("Lua Error"):
                found.append(f"frame {frame}: {msg[:300]}")
        for f in fields:
            a, b = cv.get(frame, {}).get(f, ""), lv.get(frame, {}).get(f, "")
            if a != b and not exceptions.accepts(cap, mode, frame, f):
                found.append(f"frame {frame} {f}: compiled {a[:200]!r}, lua {b[:200]!r}")
        c, l = ce.get(frame, collections.Counter()), le.get(frame, collections.Counter())
        for side, extra in (("compiled only", c - l), ("lua only", l - c)):
            for (sev, grp, msg), n in sorted(extra.items()):
                if msg.startswith("Lua Error") or not exceptions.accepts(cap, mode, frame, "expert:" + msg):
                    found.append(f"frame {frame} expert {side} (x{n}): {sev}/{grp} {msg[:200]!r}")
    return found


@pytest.fixture(scope="module")
def exceptions():
    return Exceptions(EXCEPTIONS)


def test_exceptions_file_parses(exceptions):
    # The header and the per-protocol sections stay; every rule names a known protocol (checked on load).
    text = open(EXCEPTIONS, encoding="utf-8").read()
    for p in PROTOCOLS:
        assert f"\n# {p}\n" in text, f"parity-exceptions lost its '# {p}' section"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_protocol_ported(protocol):
    if protocol not in ported():
        pytest.xfail(f"lua-compat/sipsleuth/lib/{protocol}_ws.lualib does not exist yet: not compared")


def test_every_compiled_field_registered_by_lua(setup, exceptions):
    if not setup["ported"]:
        pytest.xfail("no protocol ported to Lua yet")
    missing = [f for f in setup["missing"] if not exceptions.accepts("missing", "1pass", 0, f)]
    assert not missing, f"fields of the compiled suite the Lua plugins do not register: {missing}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("capture", parity_captures())
def test_parity(capture, mode, setup, exceptions):
    if not setup["ported"]:
        pytest.xfail("no protocol ported to Lua yet")
    found = differences(capture, mode, setup, exceptions)
    assert not found, (f"{capture} ({mode}, protocols {', '.join(setup['ported'])}): {len(found)} differences "
                       "(add a reviewed line to lua-compat/parity-exceptions if intended):\n" + "\n".join(found[:40]))


def lua_only_problems(side, path, timeout=TIMEOUT):
    """Lua errors, dissector bugs, a non-zero exit or a timeout of the Lua plugins on one capture."""
    problems = []
    for two_pass in (False, True):
        args = ["-r", path, "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message"]
        if two_pass:
            args.append("-2")
        try:
            proc = side.run(args, timeout=timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"{os.path.basename(path)}{' -2' if two_pass else ''}: no result within {timeout} s")
            continue
        text = proc.stdout + proc.stderr
        if proc.returncode != 0 or "Dissector bug" in text or "Lua Error" in text or "Lua: Error" in text:
            first = next((l for l in text.splitlines() if "Lua" in l or "Dissector bug" in l), text[-300:])
            problems.append(f"{os.path.basename(path)}{' -2' if two_pass else ''}: exit {proc.returncode}: {first[:400]}")
    return problems


def test_hostile_captures_lua(setup):
    """tests/bench/gen_hostile.py's shapes at small sizes: the Lua plugins finish without a Lua error."""
    compiled, lua = setup["sides"]
    folder = os.path.join(setup["stage"], "hostile")
    os.makedirs(folder, mode=0o755, exist_ok=True)
    paths = []
    for shape, n in HOSTILE_SIZES.items():
        out = os.path.join(folder, f"{shape}_{n}.pcap")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "gen_hostile.py"), shape, out,
                        "--n", str(n)], check=True, capture_output=True)
        os.chmod(out, 0o644)
        paths.append(out)
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        problems = [p for found in pool.map(lambda p: lua_only_problems(lua, p), paths) for p in found]
    assert not problems, "\n".join(problems)


def test_editcap_corruption_lua(setup, staged):
    """editcap -E 0.02 (as tests/fuzz/editcap_fuzz.py) on every capture of captures/, two seeds; the
    corrupted files of a seed are concatenated into one (mergecap -a) so each seed costs two tshark runs
    (one pass and -2) instead of two per capture; a failing seed is then replayed file by file to name
    the capture."""
    compiled, lua = setup["sides"]
    folder = os.path.join(setup["stage"], "editcap")
    os.makedirs(folder, mode=0o755, exist_ok=True)
    problems = []
    for seed in EDITCAP_SEEDS:
        paths = []
        for cap in parity_captures():
            name = os.path.splitext(cap.replace("/", "_"))[0]
            out = os.path.join(folder, f"{name}.seed{seed}.pcap")
            subprocess.run(["editcap", "-E", "0.02", "--seed", str(seed), os.path.join(staged, "captures", cap), out],
                           check=True, capture_output=True)
            os.chmod(out, 0o644)
            paths.append(out)
        merged = os.path.join(folder, f"all.seed{seed}.pcapng")
        subprocess.run(["mergecap", "-a", "-F", "pcapng", "-w", merged] + paths, check=True, capture_output=True)
        os.chmod(merged, 0o644)
        if lua_only_problems(lua, merged):
            with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
                found = [p for f in pool.map(lambda p: lua_only_problems(lua, p, 120), paths) for p in f]
            problems += found or [f"{os.path.basename(merged)}: {lua_only_problems(lua, merged)}"]
    assert not problems, f"{len(problems)} failures:\n" + "\n".join(problems[:30])
