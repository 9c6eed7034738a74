"""Connections: one writer process, any number of readers, never a lock error between them.

DuckDB lets one process hold a database file read-write, and then no other process may open it at
all. So the writer (the ingest process) owns `warehouse.duckdb` and, after each run that changed
something, publishes an immutable copy into `<warehouse>.snapshots/` and points `CURRENT` at it with
an atomic rename. Readers (web workers, the CLI while an ingest runs) open the newest snapshot
read-only and switch when `CURRENT` changes. Snapshots are never written after publication, so any
number of processes may hold them open at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

import duckdb

from config import Settings

from .calendar import load_calendar
from .schema import migrate

log = logging.getLogger(__name__)

KEEP_SNAPSHOTS = 3          # older ones are deleted; readers that still hold one keep their inode
SNAPSHOT_GRACE_S = 120      # ... but never delete a snapshot younger than this


def open_writer(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write, migrate it and make sure reference data is loaded."""
    assert settings.warehouse is not None
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    con.execute("SET enable_progress_bar = false")  # a service and a CLI, not a notebook
    migrate(con)
    ensure_reference(con)
    return con


def ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Calendar and reference catalogues are code-shipped data: (re)load them when missing."""
    from .reference import load_reference  # local import: reference reads CSV files, not at import time

    if con.execute("SELECT count(*) FROM calendar").fetchall()[0][0] == 0:
        load_calendar(con)
    if con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 0:
        load_reference(con)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


# --- snapshots -------------------------------------------------------------------------------

def publish_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Checkpoint the writer and publish a read-only copy; returns the new snapshot's path.

    Called by the writer only, between runs, so nothing writes during the copy.
    """
    assert settings.warehouse is not None
    snap_dir = settings.snapshot_dir
    snap_dir.mkdir(parents=True, exist_ok=True)
    con.execute("CHECKPOINT")
    name = f"wh-{time.time_ns()}.duckdb"
    tmp = snap_dir / f".{name}.tmp"
    shutil.copyfile(settings.warehouse, tmp)
    os.replace(tmp, snap_dir / name)
    pointer_tmp = snap_dir / ".CURRENT.tmp"
    pointer_tmp.write_text(name)
    os.replace(pointer_tmp, snap_dir / "CURRENT")
    _prune(snap_dir, keep=name)
    return snap_dir / name


def _prune(snap_dir: Path, keep: str) -> None:
    snaps = sorted(snap_dir.glob("wh-*.duckdb"), key=lambda p: p.name)
    now = time.time()
    for old in snaps[:-KEEP_SNAPSHOTS]:
        if old.name != keep and now - old.stat().st_mtime > SNAPSHOT_GRACE_S:
            try:
                old.unlink()
            except OSError as exc:  # another process pruning at the same time: harmless
                log.debug("could not prune %s: %s", old, exc)


def current_snapshot(settings: Settings) -> Path | None:
    pointer = settings.snapshot_dir / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    path = settings.snapshot_dir / name
    return path if path.exists() else None


class Reader:
    """Hands out read-only cursors on the newest snapshot; thread-safe, cheap to call per request.

    `cursor()` returns None when no snapshot has been published yet (a fresh install before its
    first ingest), so callers can show an empty state instead of failing.
    """

    CHECK_EVERY_S = 1.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None  # kept open for in-flight cursors
        self._checked = 0.0

    @property
    def snapshot_path(self) -> Path | None:
        return self._path

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._con is not None and now - self._checked < self.CHECK_EVERY_S:
            return
        self._checked = now
        path = current_snapshot(self.settings)
        if path is None or path == self._path:
            return
        con = duckdb.connect(str(path), read_only=True)
        con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        if self._previous is not None:
            self._previous.close()
        self._previous, self._con, self._path = self._con, con, path

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        with self._lock:
            self._refresh()
            return self._con.cursor() if self._con is not None else None

    def close(self) -> None:
        with self._lock:
            for con in (self._con, self._previous):
                if con is not None:
                    con.close()
            self._con = self._previous = None
            self._path = None
