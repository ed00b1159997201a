# SPDX-License-Identifier: GPL-2.0-or-later
"""The report's SQLite database and its Markdown and HTML summaries.

A capture is keyed by the SHA-256 of its bytes: the same content under two paths is examined once, and a
rerun skips what is done (docs/report.md describes the tables). The summaries are written from the
database, for the captures of one batch, worst captures first.
"""
import datetime
import html
import sqlite3

SEVERITY_RANK = {"Comment": 0, "Chat": 1, "Note": 2, "Warning": 3, "Error": 4}
LISTED = 2            # incidents listed in the summaries: Note and worse (chats are only counted)
BAD_INPUT = ("truncated", "corrupt", "not_capture", "empty")

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    sha256 TEXT PRIMARY KEY,          -- of the file's bytes, as stored (a .gz file: of the compressed bytes)
    path TEXT NOT NULL,               -- the path it was examined under
    size INTEGER NOT NULL,            -- bytes
    status TEXT NOT NULL,             -- ok, truncated, corrupt, not_capture, empty, failed
    error TEXT NOT NULL DEFAULT '',   -- tshark's complaint about the file (or why it failed)
    packets INTEGER,                  -- frames tshark read (before the damage, for a damaged file)
    bytes INTEGER,
    duration REAL,                    -- seconds from the first to the last frame
    malformed_frames INTEGER,         -- frames with _ws.malformed (any protocol)
    errors INTEGER, warnings INTEGER, notes INTEGER, chats INTEGER, comments INTEGER,
    worst TEXT,                       -- the worst severity of its findings ('' when none)
    worker TEXT,                      -- host:pid, or the Dask worker's address
    seconds REAL,                     -- time the tshark run and its parsing took
    examined_at TEXT                  -- UTC, ISO 8601
);
CREATE TABLE IF NOT EXISTS paths (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES captures(sha256) ON DELETE CASCADE,
    seen_at TEXT
);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES captures(sha256) ON DELETE CASCADE,
    capture TEXT NOT NULL,            -- the capture's path
    frame INTEGER NOT NULL,
    time_epoch REAL,                  -- the frame's time, seconds since 1970 (UTC)
    time_utc TEXT,                    -- the same, ISO 8601
    time_relative REAL,               -- seconds since the capture's first frame
    protocol TEXT NOT NULL,           -- ciscoalarm, dialoginfo, rlmi, mssip, msrpa, siptrack
    field TEXT NOT NULL,              -- the expert field (siptrack.notify_on_stale_flow)
    severity TEXT NOT NULL,           -- Chat, Note, Warning, Error
    severity_rank INTEGER NOT NULL,   -- 1 Chat .. 4 Error
    expert_group TEXT NOT NULL,       -- Sequence, Protocol, Malformed, ...
    message TEXT NOT NULL,
    caused_by INTEGER                 -- on a consequence: the frame of its cause (<protocol>.caused_by)
);
CREATE INDEX IF NOT EXISTS findings_by_capture ON findings(sha256, frame);
CREATE INDEX IF NOT EXISTS findings_by_field ON findings(field);
CREATE VIEW IF NOT EXISTS finding_counts AS
    SELECT field, severity, severity_rank, COUNT(*) AS findings, COUNT(DISTINCT sha256) AS captures
    FROM findings GROUP BY field, severity;
CREATE VIEW IF NOT EXISTS incidents AS
    SELECT f.*, (SELECT COUNT(*) FROM findings c WHERE c.sha256 = f.sha256 AND c.caused_by = f.frame
                 AND c.protocol = f.protocol) AS consequences
    FROM findings f WHERE f.caused_by IS NULL AND f.severity_rank >= 2;
"""


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def utc(epoch):
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self):
        self.db.close()

    def done(self, sha256):
        """The status of a capture done before (a rerun skips it), or None."""
        row = self.db.execute("SELECT status FROM captures WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row and row[0] != "failed" else None

    def see_path(self, path, sha256):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO paths (path, sha256, seen_at) VALUES (?, ?, ?)",
                            (path, sha256, now()))

    def save(self, result):
        """Store one examined capture, replacing what an earlier run stored for the same content."""
        counts = {s: 0 for s in SEVERITY_RANK}
        for f in result["findings"]:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        worst = max((f["severity"] for f in result["findings"]), key=lambda s: SEVERITY_RANK.get(s, 0),
                    default="")
        with self.db:
            self.db.execute("DELETE FROM findings WHERE sha256 = ?", (result["sha256"],))
            self.db.execute(
                "INSERT OR REPLACE INTO captures (sha256, path, size, status, error, packets, bytes, duration,"
                " malformed_frames, errors, warnings, notes, chats, comments, worst, worker, seconds,"
                " examined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result["sha256"], result["path"], result["size"], result["status"], result["error"],
                 result["packets"], result["bytes"], result["duration"], result["malformed_frames"],
                 counts["Error"], counts["Warning"], counts["Note"], counts["Chat"], counts["Comment"], worst,
                 result["worker"], result["seconds"], now()))
            self.db.executemany(
                "INSERT INTO findings (sha256, capture, frame, time_epoch, time_utc, time_relative, protocol,"
                " field, severity, severity_rank, expert_group, message, caused_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(result["sha256"], result["path"], f["frame"], f["time_epoch"], utc(f["time_epoch"]),
                  f["time_relative"], f["protocol"], f["field"], f["severity"],
                  SEVERITY_RANK.get(f["severity"], 0), f["group"], f["message"], f["caused_by"])
                 for f in result["findings"]])
        self.see_path(result["path"], result["sha256"])

    # -----------------------------------------------------------------------------------------
    # Summaries of one batch (the captures with these hashes).

    def _batch(self, hashes):
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS batch (sha256 TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM batch")
        self.db.executemany("INSERT OR IGNORE INTO batch VALUES (?)", [(h,) for h in hashes])

    def summary(self, hashes, max_incidents):
        """The summary as data: a title, a lead paragraph and (heading, columns, rows, note) sections."""
        self._batch(hashes)
        q = self.db.execute
        total, packets = q("SELECT COUNT(*), COALESCE(SUM(packets), 0) FROM captures JOIN batch USING (sha256)"
                           ).fetchone()
        by_status = dict(q("SELECT status, COUNT(*) FROM captures JOIN batch USING (sha256) GROUP BY status"))
        with_findings = q("SELECT COUNT(*) FROM captures JOIN batch USING (sha256) WHERE errors + warnings"
                          " + notes > 0").fetchone()[0]
        lead = (f"{total} captures, {packets} packets: {with_findings} with findings (note or worse), "
                f"{sum(by_status.get(s, 0) for s in BAD_INPUT)} bad input, {by_status.get('failed', 0)} "
                f"failed. Database: {self.path}; made {now()}.")
        sections = []
        rows = q("SELECT field, severity, COUNT(*), COUNT(DISTINCT sha256) FROM findings JOIN batch USING"
                 " (sha256) GROUP BY field, severity ORDER BY MAX(severity_rank) DESC, COUNT(*) DESC, field"
                 ).fetchall()
        sections.append(("Findings by kind", ("Finding", "Severity", "Count", "Captures"), rows, None))
        rows = q("SELECT path, errors, warnings, notes, chats, packets, status FROM captures JOIN batch USING"
                 " (sha256) WHERE errors + warnings + notes > 0 ORDER BY errors DESC, warnings DESC, notes DESC,"
                 " path").fetchall()
        sections.append(("Captures, worst first", ("Capture", "Errors", "Warnings", "Notes", "Chats",
                                                   "Packets", "Status"), rows, None))
        for path, sha256 in q("SELECT path, sha256 FROM captures JOIN batch USING (sha256) WHERE errors +"
                              " warnings + notes > 0 ORDER BY errors DESC, warnings DESC, notes DESC, path"
                              ).fetchall():
            found = q("SELECT frame, time_utc, severity, field, message, caused_by FROM findings WHERE sha256 = ?"
                      " AND severity_rank >= ? ORDER BY frame, id", (sha256, LISTED)).fetchall()
            note = None
            if len(found) > max_incidents:
                note = f"... and {len(found) - max_incidents} more in the database (table findings)."
                found = found[:max_incidents]
            sections.append((f"Incidents in {path}", ("Frame", "Time (UTC)", "Severity", "Finding", "Message",
                                                      "Caused by frame"), found, note))
        rows = q("SELECT path, status, error FROM captures JOIN batch USING (sha256) WHERE status != 'ok'"
                 " ORDER BY status, path").fetchall()
        sections.append(("Bad input and failures", ("Capture", "Status", "Error"), rows, None))
        return "sipsleuth report", lead, sections


def _cell(value):
    return "" if value is None else str(value)


def markdown(summary):
    title, lead, sections = summary
    out = [f"# {title}", "", lead, ""]
    for heading, columns, rows, note in sections:
        out += [f"## {heading}", ""]
        if not rows:
            out += ["None.", ""]
            continue
        out.append("| " + " | ".join(columns) + " |")
        out.append("|" + "---|" * len(columns))
        for row in rows:
            cells = [_cell(v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") for v in row]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        if note:
            out += [note, ""]
    return "\n".join(out)


def html_page(summary):
    title, lead, sections = summary
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(title)}</title>",
           "<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin-bottom:1em}"
           "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
           "th{background:#eee}.Error{background:#fdd}.Warning{background:#ffd}</style>",
           "</head><body>", f"<h1>{e(title)}</h1>", f"<p>{e(lead)}</p>"]
    for heading, columns, rows, note in sections:
        out.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            out.append("<p>None.</p>")
            continue
        out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
        for row in rows:
            css = next((v for v in row if v in ("Error", "Warning")), None)
            attr = f' class="{css}"' if css else ""
            out.append(f"<tr{attr}>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>")
        out.append("</table>")
        if note:
            out.append(f"<p>{e(note)}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
