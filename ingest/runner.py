"""Run ingests over files: hash, skip what was loaded, load each file in its own transaction, record it.

A bad file never stops the good ones: it is recorded as failed with its reason and, when it came
from the inbox, moved to `failed/` beside a `.reason.txt`. Processed inbox files move to
`processed/`. Loading commits before the file moves, and a file whose hash already loaded is
skipped, so a crash between the two neither loses nor double-counts it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from config import TZ

from .dossiers import FileResult, load_dossier_file
from .indicators import load_indicator_file
from .readers import UnreadableFile, file_format, hash_and_check
from .reasons import describe

log = logging.getLogger(__name__)

SOURCES: dict[str, Callable[..., FileResult]] = {
    "dossiers": load_dossier_file,
    "indicators": load_indicator_file,
}


@dataclass
class RunReport:
    run_id: int
    file: str
    source: str
    status: str                  # ok | partial | failed | duplicate
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    profile: str | None = None
    duration_ms: float = 0.0
    error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def local_now() -> datetime:
    """Wall-clock time in Hanoi, naive, as stored in the warehouse."""
    return datetime.now(TZ).replace(tzinfo=None)


def discover(inbox: Path) -> list[Path]:
    """Files waiting in an inbox, oldest first; dotfiles and partial uploads are not ready yet."""
    if not inbox.exists():
        return []
    files = [
        p for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".tmp", ".part", ".reason.txt"))
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest_files(con: duckdb.DuckDBPyConnection, paths: Iterable[Path], source: str, channel: str = "cli",
                 archive_root: Path | None = None, now: datetime | None = None) -> list[RunReport]:
    """Load each file; with `archive_root`, move it to processed/ or failed/ afterwards (inbox mode)."""
    return [ingest_file(con, Path(p), source, channel, archive_root, now) for p in paths]


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, source: str, channel: str = "cli",
                archive_root: Path | None = None, now: datetime | None = None) -> RunReport:
    loader = SOURCES[source]
    now = now or local_now()
    started = time.perf_counter()
    run_id = con.execute("SELECT nextval('ingest_run_seq')").fetchall()[0][0]
    report = RunReport(run_id=run_id, file=path.name, source=source, status="failed")
    file_hash = None
    try:
        fmt = file_format(path)
        file_hash = hash_and_check(path, fmt)
        if _already_loaded(con, source, file_hash):
            report.status = "duplicate"
        else:
            # The loader stages the file (reads may fail and abort a transaction), then opens the
            # transaction in which it writes; the run record joins that transaction.
            try:
                result = loader(con, path, fmt, run_id, now, path.name)
                _record(con, report, result, path, file_hash, channel, now, started)
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise
            _archive(path, archive_root, "processed", source, None)
            return report
    except UnreadableFile as exc:
        report.error = f"{exc.code}: {exc}"
    except duckdb.Error as exc:  # a bug or a resource problem, not the file's fault: say so
        log.exception("ingest of %s failed", path.name)
        report.error = f"internal_error: {type(exc).__name__}: {exc}"
    report.duration_ms = (time.perf_counter() - started) * 1000
    _insert_run(con, report, path, file_hash, channel, now)
    _archive(path, archive_root, "processed" if report.status == "duplicate" else "failed", source, report.error)
    return report


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass  # failed before the transaction began


def _already_loaded(con: duckdb.DuckDBPyConnection, source: str, file_hash: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM ingest_runs WHERE source = ? AND file_hash = ? AND status IN ('ok', 'partial')",
        [source, file_hash],
    ).fetchall()[0][0] > 0


def _record(con, report: RunReport, result: FileResult, path: Path, file_hash: str, channel: str,
            now: datetime, started: float) -> None:
    report.rows_read, report.inserted, report.updated = result.rows_read, result.inserted, result.updated
    report.unchanged, report.quarantined, report.profile = result.unchanged, result.quarantined, result.profile
    report.reasons = result.reasons
    report.status = "partial" if result.quarantined else "ok"
    report.duration_ms = (time.perf_counter() - started) * 1000
    _insert_run(con, report, path, file_hash, channel, now)



def _insert_run(con, report: RunReport, path: Path, file_hash: str | None, channel: str, now: datetime) -> None:
    con.execute(
        """INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, current_localtimestamp(), ?, ?, ?, ?, ?, ?, ?, ?)""",
        [report.run_id, report.source, channel, path.name, file_hash, report.profile, now,
         report.duration_ms, report.rows_read, report.inserted, report.updated, report.unchanged,
         report.quarantined, report.status, report.error],
    )


def _archive(path: Path, root: Path | None, kind: str, source: str, error: str | None) -> None:
    if root is None or not path.exists():
        return
    day = local_now().strftime("%Y-%m-%d")
    dest_dir = root / kind / source / day
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / path.name
    if dest.exists():
        dest = dest_dir / f"{int(time.time() * 1000)}-{path.name}"
    shutil.move(str(path), dest)
    if error:
        tmp = dest.with_name(f".{dest.name}.reason.tmp")
        tmp.write_text(error + "\n", encoding="utf-8")
        os.replace(tmp, dest.with_name(dest.name + ".reason.txt"))


def quarantine_summary(con: duckdb.DuckDBPyConnection, run_id: int, lang: str = "vi", limit: int = 20) -> list[dict]:
    """The first quarantined rows of a run with their reasons in words, for the CLI and the API."""
    rows = con.execute(
        """SELECT line, record_id, reason_code, column_name, bad_value FROM quarantine
           WHERE run_id = ? ORDER BY line, reason_code LIMIT ?""",
        [run_id, limit],
    ).fetchall()
    return [
        {"line": line, "dossier_id": rid, "reason_code": code, "column": col,
         "value": val, "reason": describe(code, col, val, lang)}
        for line, rid, code, col, val in rows
    ]
