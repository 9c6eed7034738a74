"""Connections: one writer process, any number of readers, never a lock error between them.

DuckDB lets one process hold a database file read-write, and then no other process may open it at
all. So the writer (the ingest process) owns `warehouse.duckdb` and, after each run that changed
something, publishes an immutable copy into `<warehouse>.snapshots/` and points `CURRENT` at it with
an atomic rename. Readers (web workers, the CLI while an ingest runs) open the newest snapshot
read-only and switch when `CURRENT` changes. Snapshots are never written after publication, so any
number of processes may hold them open at once.

At most `settings.keep_snapshots` copies stay on disk, however often the writer publishes: a reader
that still holds a deleted one keeps reading it (Linux keeps an unlinked file's inode while it is
open), and a reader that finds the snapshot named by `CURRENT` already gone looks again.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from config import Settings

from .calendar import load_calendar
from .schema import migrate

log = logging.getLogger(__name__)

# Serialises publication and orphan clean-up within this process, so that two Writer objects on the
# same warehouse (the DuckDB lock only separates processes) never copy at once or delete each
# other's half-written copy.
_PUBLISH_LOCK = threading.Lock()
REFRESH_ATTEMPTS = 3        # how often a reader re-reads CURRENT when the snapshot it names is gone
FIRST_OPEN_ATTEMPTS = 10    # ... when it holds no snapshot yet, so has nothing to fall back on
MIN_KEEP_SNAPSHOTS = 2      # the newest and the one before: a reader that has just read CURRENT has
                            # a whole publication to open it (with 1 it loses that race often)


def apply_limits(con: duckdb.DuckDBPyConnection, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """DuckDB's memory_limit and threads from the settings (R57_DUCKDB_MEMORY, R57_DUCKDB_THREADS), by SET:
    a `config=` at connect would refuse a second connection of this process to the same file."""
    if settings is None:
        from config import load_settings

        settings = load_settings()
    try:
        con.execute(f"SET memory_limit = '{settings.duckdb_memory}'")
    except duckdb.Error as exc:
        raise ValueError(f"R57_DUCKDB_MEMORY {settings.duckdb_memory!r} is not a DuckDB memory size "
                         f"(e.g. 2GiB, 800MB, 20%): {exc}") from None
    con.execute(f"SET threads = {int(settings.duckdb_threads)}")
    return con


def connect(path: str | Path, settings: Settings | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Every DuckDB connection of the project: Hanoi time, no progress bar, the configured limits."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    con.execute("SET enable_progress_bar = false")  # a service and a CLI, not a notebook
    return apply_limits(con, settings)


def open_writer(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write, migrate it and make sure reference data is loaded."""
    assert settings.warehouse is not None
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings.warehouse, settings)
    # Holding the read-write connection makes this process the only writer of this warehouse, so
    # any half-written snapshot copy left in its snapshot folder belongs to a writer that died.
    remove_snapshot_orphans(settings)
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

@dataclass(frozen=True)
class Publication:
    path: Path               # the new snapshot CURRENT names
    bytes_written: int       # what this publication wrote: the snapshot, plus the lake files and manifest
    lake: dict | None        # the lake export's report (serving mode), without its manifest
    lake_manifest: dict | None = None  # the manifest the snapshot reads (serving mode)


def publish_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Checkpoint the writer and publish a read-only snapshot; returns the new snapshot's path."""
    return publish(con, settings).path


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> Publication:
    """Publish what the writer holds as a new snapshot, and point CURRENT at it.

    `settings.publish`: "serving" (default) writes the changed lake partitions and a small snapshot that
    reads the dossiers from them (`warehouse.serving`); "copy" copies the whole warehouse file.
    Called by the writer only, between runs, so nothing writes meanwhile. Services publish through
    `service.writer.Writer.publish()`, which also limits how often this runs.
    """
    assert settings.warehouse is not None
    if settings.publish not in ("serving", "copy"):
        raise ValueError(f"R57_PUBLISH must be 'serving' or 'copy', not {settings.publish!r}")
    snap_dir = settings.snapshot_dir
    snap_dir.mkdir(parents=True, exist_ok=True)
    with _PUBLISH_LOCK:
        name = f"wh-{time.time_ns()}.duckdb"
        tmp = snap_dir / f".{name}.tmp"
        lake_report = manifest = None
        if settings.publish == "copy":
            con.execute("CHECKPOINT")
            shutil.copyfile(settings.warehouse, tmp)
            written = tmp.stat().st_size
        else:
            from lake.store import export

            from . import serving

            lake_report = export(con, settings.lake_dir, source=name, incremental=True, aggregates=True,
                                 keep=serving.files_in_use(snap_dir))
            manifest = lake_report.pop("manifest")
            if manifest.get("aggregates"):  # the months the lake now holds need no more remembering
                from metrics.aggregates import forget_changed_months

                forget_changed_months(con, manifest["aggregates"]["run"])
            serving.write_snapshot(con, tmp, settings.lake_dir, manifest)
            serving.write_sidecar(snap_dir / name, settings.lake_dir, manifest)  # before the snapshot exists
            written = tmp.stat().st_size + lake_report["bytes_written"]
        os.replace(tmp, snap_dir / name)
        retired = named_snapshot(settings)
        pointer_tmp = snap_dir / ".CURRENT.tmp"
        pointer_tmp.write_text(name)
        os.replace(pointer_tmp, snap_dir / "CURRENT")
        if retired is not None:
            from .serving import retire

            retire(retired)
        _prune(snap_dir, keep=name, cap=settings.keep_snapshots)
    return Publication(snap_dir / name, written, lake_report, manifest)


def _prune(snap_dir: Path, keep: str, cap: int) -> list[Path]:
    """Delete all but the newest `cap` (at least 2) snapshots, never `keep` (the one CURRENT names).

    A hard cap: readers that hold a deleted snapshot keep reading its inode, and a reader that
    looks it up after the deletion re-reads CURRENT (Reader._refresh), so no age grace is needed.
    """
    cap = max(MIN_KEEP_SNAPSHOTS, cap)
    # names are wh-<time_ns>: same digit count until the year 2286, so name order is age order
    snaps = sorted(snap_dir.glob("wh-*.duckdb"), key=lambda p: p.name)
    removed = []
    for old in snaps[:-cap]:
        if old.name == keep:
            continue
        try:
            old.unlink()
            removed.append(old)
        except FileNotFoundError:  # another process pruned it first: what we wanted anyway
            log.debug("snapshot %s already gone", old)
    from .serving import forget_retired

    forget_retired(snap_dir, keep)
    return removed


def remove_snapshot_orphans(settings: Settings) -> list[Path]:
    """Delete the temporary files a publication killed mid-copy leaves behind; returns them.

    Only the writer may call this (open_writer does, once it holds the warehouse): a reader
    cannot know whether a live writer is still writing them.
    """
    snap_dir = settings.snapshot_dir
    if not snap_dir.is_dir():
        return []
    removed = []
    with _PUBLISH_LOCK:
        for orphan in [*snap_dir.glob(".wh-*.duckdb.tmp"), *snap_dir.glob(".wh-*.duckdb.tmp.wal"),
                       *snap_dir.glob(".wh-*.lake.json.tmp"), *snap_dir.glob(".CURRENT.tmp")]:
            try:
                orphan.unlink()
                removed.append(orphan)
            except FileNotFoundError:
                log.debug("orphan %s already gone", orphan)
    if removed:
        log.info("removed %d unfinished snapshot file(s) left by an interrupted publication: %s",
                 len(removed), ", ".join(p.name for p in removed))
    return removed


def named_snapshot(settings: Settings) -> Path | None:
    """The path CURRENT names, whether or not the file is still there; None when there is no CURRENT."""
    pointer = settings.snapshot_dir / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    if not name:  # never written by publish_snapshot (atomic rename), but a hand-edited file may be empty
        return None
    return settings.snapshot_dir / name


def current_snapshot(settings: Settings) -> Path | None:
    """The snapshot CURRENT names, or None when there is none (yet, or it was pruned meanwhile)."""
    path = named_snapshot(settings)
    return path if path is not None and path.is_file() else None


@dataclass(frozen=True)
class SnapshotRead:
    cursor: duckdb.DuckDBPyConnection
    snapshot: str            # file name of the snapshot the cursor reads
    published: datetime | None  # its publication time (UTC), for Last-Modified


class Reader:
    """Hands out read-only cursors on the newest snapshot; thread-safe, cheap to call per request.

    `cursor()` returns None when no snapshot has been published yet (a fresh install before its
    first ingest), so callers can show an empty state instead of failing.
    """

    # how often a reader looks at CURRENT: a look is one stat() of it (about 2 µs), and only a changed
    # CURRENT is read and opened, so a new snapshot is served 50 ms after its publication at most
    CHECK_EVERY_S = 0.05
    RETRY_AFTER_S = 1.0   # after a snapshot could not be opened

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None  # kept open for in-flight cursors
        self._checked = 0.0
        self._published: datetime | None = None
        self._unopenable: Path | None = None  # last snapshot we warned about, to warn once
        self._pointer: tuple | None = None      # CURRENT's (inode, mtime, size) when last read
        self._retry_at = 0.0

    @property
    def snapshot_path(self) -> Path | None:
        return self._path

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._con is not None and (now - self._checked < self.CHECK_EVERY_S or now < self._retry_at):
            return
        self._checked = now
        try:  # publish renames a new CURRENT into place: same inode, time and size means the same name
            st = os.stat(self.settings.snapshot_dir / "CURRENT")
            pointer = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            pointer = None
        if self._con is not None and pointer is not None and pointer == self._pointer:
            return
        # The writer may publish and prune between our look at CURRENT and the open (it keeps only
        # a few copies, however fast it publishes): then CURRENT names a newer snapshot, so look
        # again. If every attempt loses the race, keep the connection we have: a slightly older
        # snapshot is better than none, and the next check tries again.
        attempts = REFRESH_ATTEMPTS if self._con is not None else FIRST_OPEN_ATTEMPTS
        failed: Path | None = None
        error: Exception | None = None
        for attempt in range(1, attempts + 1):
            path = named_snapshot(self.settings)
            if path is None or path == self._path:  # nothing published yet, or nothing new
                self._pointer = pointer
                return
            if path == failed:
                break  # CURRENT did not move: not a race with pruning, the file is missing or unreadable
            try:
                published = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(microsecond=0)
                con = connect(path, self.settings, read_only=True)
            except (FileNotFoundError, duckdb.IOException) as exc:
                log.debug("snapshot %s gone before it could be opened (attempt %d): %s", path.name, attempt, exc)
                failed, error = path, exc
                continue
            if self._previous is not None:
                self._previous.close()
            self._previous, self._con, self._path, self._published = self._con, con, path, published
            self._pointer = pointer
            return
        self._retry_at = now + self.RETRY_AFTER_S
        if failed is not None and failed != self._unopenable:  # once per snapshot, not per request
            self._unopenable = failed
            log.warning("cannot open snapshot %s (%s); still reading %s", failed.name, error,
                        self._path.name if self._path else "nothing")

    def invalidate(self) -> None:
        """Look at CURRENT on the next cursor() instead of waiting out CHECK_EVERY_S (a page was told of a
        new snapshot and is about to ask for its data)."""
        with self._lock:
            self._checked = self._retry_at = 0.0
            self._pointer = None

    def current(self) -> Path | None:
        """The snapshot a cursor taken now would read, after the usual look at CURRENT (a stat() at most every
        CHECK_EVERY_S): for keys of answers given without a cursor (dashboard.kept)."""
        with self._lock:
            self._refresh()
            return self._path

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        read = self.read()
        return read.cursor if read is not None else None

    def read(self) -> SnapshotRead | None:
        """A cursor together with the snapshot it reads, taken under one lock: callers that label
        an answer (ETag, `snapshot`, Last-Modified) must use this name, never a fresh look at CURRENT,
        which may already point at a newer snapshot than the one the cursor reads."""
        with self._lock:
            self._refresh()
            if self._con is None or self._path is None:
                return None
            return SnapshotRead(self._con.cursor(), self._path.name, self._published)

    def close(self) -> None:
        with self._lock:
            for con in (self._con, self._previous):
                if con is not None:
                    con.close()
            self._con = self._previous = None
            self._path = None
