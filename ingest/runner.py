"""Run ingests over files: hash, skip what was loaded, load each file in its own transaction, record it.

A bad file never stops the good ones: it is recorded as failed with its reason and, when it came
from the inbox or a push, moved to `failed/` beside a `.reason.txt`. A file that was read is
archived in `processed/` as its canonical columns only (personal data never kept, see
`_archive_loaded`). Loading commits before the file leaves the inbox, and a file whose hash already
loaded is skipped, so a crash between the two neither loses nor double-counts it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

import clock
from config import IngestLimits
from warehouse.reasons import describe

from .dossiers import FileResult, Prepared, prepare_dossier_file
from .indicators import prepare_indicator_file
from .readers import UnreadableFile, file_format, hash_and_check

log = logging.getLogger(__name__)

# source -> reader: read and check a file (no writes), returning the writes to make
SOURCES: dict[str, Callable[..., Prepared]] = {
    "dossiers": prepare_dossier_file,
    "indicators": prepare_indicator_file,
}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One file's writes: all of them, or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


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
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def local_now() -> datetime:
    """When a run happens: `clock.stamp()` (real Hanoi time, naive, as stored in the warehouse; fixed by
    a FixedClock in tests, not by R57_NOW)."""
    return clock.stamp()


def is_ready_name(name: str) -> bool:
    """Whether a file of this name is ready to load: dotfiles and partial uploads are not (the one rule
    of the polling tick and of the watcher)."""
    return not name.startswith(".") and not name.endswith((".tmp", ".part", ".reason.txt"))


def discover(inbox: Path) -> list[Path]:
    """Files waiting in an inbox, oldest first; dotfiles and partial uploads are not ready yet."""
    if not inbox.exists():
        return []
    files = [p for p in inbox.iterdir() if p.is_file() and is_ready_name(p.name)]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest_files(con: duckdb.DuckDBPyConnection, paths: Iterable[Path], source: str, channel: str = "cli",
                 archive_root: Path | None = None, now: datetime | None = None,
                 limits: IngestLimits | None = None) -> list[RunReport]:
    """Load each file; with `archive_root`, archive it afterwards (inbox and push mode, see `_archive`)."""
    return [ingest_file(con, Path(p), source, channel, archive_root, now, limits) for p in paths]


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, source: str, channel: str = "cli",
                archive_root: Path | None = None, now: datetime | None = None,
                limits: IngestLimits | None = None) -> RunReport:
    """Load one file in its own transaction and record the run. Never raises for anything the file
    holds: whatever goes wrong while reading, mapping, validating or loading it makes it a failed
    run with a reason, so the next file still loads (only KeyboardInterrupt/SystemExit pass)."""
    loader = SOURCES[source]
    now = now or local_now()
    limits = limits or IngestLimits()
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
            # reading and checking stage outside any transaction (a read error must not abort one);
            # the writes and the run record then commit together
            prepared = loader(con, path, fmt, now, path.name, limits)
            with transaction(con):
                result = prepared.write(run_id)
                _record(con, report, result, path, file_hash, channel, now, started)
            try:
                _archive_loaded(con, path, archive_root, source, result)
            except (OSError, duckdb.Error) as exc:  # loaded and committed: the next tick discards the file
                log.error("run %d: archiving %s failed (%s); the file stays in the inbox until the next tick",
                          run_id, path.name, type(exc).__name__)
            return report
    except UnreadableFile as exc:
        report.error = f"{exc.code}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the others
        report.error = _internal_error(path, exc)
    finally:
        _drop_temp(con)
    report.duration_ms = (time.perf_counter() - started) * 1000
    _insert_run(con, report, path, file_hash, channel, now)
    if report.status == "duplicate":
        _discard(path, archive_root)  # its content is loaded and archived already: no second copy
    else:
        _archive_failed(path, archive_root, source, report.error)
    return report


def _internal_error(path: Path, exc: Exception) -> str:
    """A bug or a resource problem, not the file's fault. The log gets the code location only:
    exception messages of DuckDB and the parsers may quote cell values (personal data)."""
    where = traceback.extract_tb(exc.__traceback__)[-3:]
    log.error("ingest of %s failed: %s at %s (message withheld: it may quote the file)", path.name,
              type(exc).__name__, " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(where)))
    return (f"internal_error: {type(exc).__name__} while loading the file; nothing of it was loaded. "
            "The file is kept in failed/ for 7 days: send it to the administrators with this run's number")


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what staging and checking left (also after a failure half-way): a million-row `_checked`
    must not linger in the writer's memory until the next file."""
    for kind, name in con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary"
    ).fetchall():
        con.execute(f'DROP {kind} IF EXISTS "{name}"')


def _already_loaded(con: duckdb.DuckDBPyConnection, source: str, file_hash: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM ingest_runs WHERE source = ? AND file_hash = ? AND status IN ('ok', 'partial')",
        [source, file_hash],
    ).fetchall()[0][0] > 0


def _record(con, report: RunReport, result: FileResult, path: Path, file_hash: str, channel: str,
            now: datetime, started: float) -> None:
    report.rows_read, report.inserted, report.updated = result.rows_read, result.inserted, result.updated
    report.unchanged, report.quarantined, report.profile = result.unchanged, result.quarantined, result.profile
    report.reasons, report.warnings = result.reasons, list(result.warnings)
    report.status = "partial" if result.quarantined else "ok"
    report.duration_ms = (time.perf_counter() - started) * 1000
    _insert_run(con, report, path, file_hash, channel, now)


def _insert_run(con, report: RunReport, path: Path, file_hash: str | None, channel: str, now: datetime) -> None:
    con.execute(
        """INSERT INTO ingest_runs (run_id, source, channel, file_name, file_hash, profile, started_at, finished_at,
                                    duration_ms, rows_read, inserted, updated, unchanged, quarantined, status,
                                    error, warnings)
           VALUES (?, ?, ?, ?, ?, ?, ?, current_localtimestamp(), ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [report.run_id, report.source, channel, path.name, file_hash, report.profile, now,
         report.duration_ms, report.rows_read, report.inserted, report.updated, report.unchanged,
         report.quarantined, report.status, report.error,
         json.dumps(report.warnings, ensure_ascii=False) if report.warnings else None],
    )


def _archive_dir(root: Path, kind: str, source: str) -> Path:
    dest = root / kind / source / local_now().strftime("%Y-%m-%d")
    dest.mkdir(parents=True, exist_ok=True)
    return dest


def _free_name(directory: Path, name: str) -> Path:
    dest = directory / name
    return dest if not dest.exists() else directory / f"{int(time.time() * 1000)}-{name}"


def _archive_loaded(con: duckdb.DuckDBPyConnection, path: Path, root: Path | None, source: str,
                    result: FileResult) -> None:
    """A file that was read is kept as what was made of it, never as its bytes: the canonical
    columns of every line, as loaded or, for quarantined lines, masked as in the quarantine table
    (`<name>.parquet` in processed/). The original may hold personal data in columns no profile
    maps, so it is deleted. Runs after COMMIT: a crash before the delete leaves the file in the
    inbox, and the next tick finds its hash loaded and discards it."""
    if root is None or not path.exists():
        return
    if result.archive_sql:
        dest = _free_name(_archive_dir(root, "processed", source), f"{path.name}.parquet")
        tmp = dest.with_name(f".{dest.name}.tmp")
        con.execute(f"COPY ({result.archive_sql}) TO '{tmp.as_posix().replace(chr(39), chr(39) * 2)}' "
                    "(FORMAT parquet, COMPRESSION zstd)")
        os.replace(tmp, dest)
    path.unlink()


def _discard(path: Path, root: Path | None) -> None:
    if root is not None and path.exists():
        path.unlink()


def _archive_failed(path: Path, root: Path | None, source: str, error: str | None) -> None:
    """A file that could not be read at all is kept as received, beside a `.reason.txt`, so the
    officer can see what is wrong with it; the retention job deletes it after a few days."""
    if root is None or not path.exists():
        return
    dest = _free_name(_archive_dir(root, "failed", source), path.name)
    shutil.move(str(path), dest)
    os.utime(dest)  # retention counts from the day it was set aside, not from when it was exported
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
