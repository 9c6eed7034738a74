"""The one writer: a single read-write connection per warehouse, used by one job at a time.

All writes go through `Writer.session()` (datasette's one-writer idea): APScheduler runs jobs on
threads, and a DuckDB connection is not thread-safe, so the lock serialises them. The lock is
re-entrant, so code holding a session may call `publish()`.

Publication is coalesced: each snapshot is a full copy of the warehouse, so `publish()` copies at
once only if the last copy is at least `publish_min_interval_s` old; otherwise it marks a
publication pending and a timer makes it when the interval has passed, whether or not anything
else arrives. However many requests come in meanwhile, that is one copy, with the latest state.

When the writer first opens the warehouse it also repairs what a killed process may have left:
unfinished snapshot copies (warehouse.db.open_writer) and missing or stale metrics aggregates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from config import Settings
from warehouse.db import open_writer, publish

if TYPE_CHECKING:
    from ingest.runner import RunReport

log = logging.getLogger(__name__)

RETRY_MAX_S = 60.0  # a failing deferred publication (disk full, ...) is retried, backing off to this


def ensure_aggregates(con: duckdb.DuckDBPyConnection, build: Path | None = None) -> dict | None:
    """Rebuild the metrics aggregates when they are missing or stale while there are dossiers.

    An aggregate refresh runs in one transaction, so a process killed during it leaves the tables
    as they were before (stale) or absent (first build); until the next ingest that changes data,
    every query would then silently take the slow raw path. Returns what `refresh` did, or None.
    """
    from metrics.aggregates import read_state, refresh  # the metrics layer owns its aggregates

    if con.execute("SELECT count(*) FROM (SELECT 1 FROM dossiers LIMIT 1)").fetchall()[0][0] == 0:
        return None
    state = read_state(con)
    if state is not None and state.fresh:
        # tables built before metrics_open_counts existed: fold the open dossiers now, not at the next ingest
        return refresh(con, build=build) if state.open_counts is None else None
    log.warning("metrics aggregates are %s at writer start (a refresh was interrupted?): rebuilding",
                "missing" if state is None else "stale")
    return refresh(con, full=state is None, build=build)  # logs what it did; a full one may load `build`


class PublishFailed(RuntimeError):
    """The files loaded (`reports`) but the snapshot could not be published: readers see them later."""

    def __init__(self, reports: list[RunReport]) -> None:
        super().__init__("loaded, but publishing the snapshot failed")
        self.reports = reports


class Writer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._last_publish: float | None = None   # time.monotonic() when the last copy finished
        self._pending = False                     # a publication was asked for and not yet made
        self._timer: threading.Timer | None = None
        self._retry_s = 0.0
        self.publications = 0                     # copies made by this writer (for tests, logs)
        self.publish_seconds = 0.0                # their wall time, and the bytes they wrote (ingest --json)
        self.publish_bytes = 0
        self.refresh_seconds = 0.0                # metrics aggregates refreshed after the loads (ingest --json)

    @contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._con is None:
                self._con = self._open()
            yield self._con

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = open_writer(self.settings)
        try:
            ensure_aggregates(con, self.settings.aggregates_build)
        except Exception:  # queries stay correct on the raw path; the next ingest refreshes again
            log.exception("could not rebuild the metrics aggregates at writer start; queries use raw rows")
        return con

    def load(self, paths: Iterable[Path], source: str, channel: str, archive: bool = True) -> list[RunReport]:
        """The one write sequence: ingest the files (each in its own transaction, a bad one recorded
        and set aside), refresh the metrics aggregates if anything changed, publish (coalesced).
        `archive`: move what was read to processed/ or failed/ (inbox and push; not a user's own files)."""
        from ingest.runner import ingest_files
        from metrics.aggregates import refresh  # the metrics layer owns its aggregates

        with self.session() as con:
            reports = ingest_files(con, paths, source, channel=channel, limits=self.settings.ingest,
                                   archive_root=self.settings.data_dir if archive else None)
            changed = any(r.changed for r in reports)
            if changed:
                started = time.perf_counter()
                refresh(con, build=self.settings.aggregates_build)  # a full rebuild may load the build
                self.refresh_seconds += time.perf_counter() - started
        if changed:
            try:
                self.publish()  # outside the session: a publication may be deferred (coalesced)
            except Exception as exc:  # loaded and committed: the caller must still learn what loaded
                raise PublishFailed(reports) from exc
        return reports

    def publish(self) -> bool:
        """Publish a snapshot now, or soon if the last one is younger than the minimum interval.

        Returns True when a copy was made now, False when it was deferred (it will be made within
        `publish_min_interval_s`, with whatever the warehouse holds then).
        """
        with self._lock:
            wait = self._wait_s()
            if wait <= 0:
                self._publish_now()
                return True
            self._pending = True
            if self._timer is None:
                self._arm(wait)
            return False

    def flush(self) -> None:
        """Make a pending publication now, ignoring the interval (at shutdown)."""
        with self._lock:
            self._cancel_timer()
            if self._pending:
                self._publish_now()

    def _wait_s(self) -> float:
        if self._last_publish is None:
            return 0.0
        return self._last_publish + self.settings.publish_min_interval_s - time.monotonic()

    def _arm(self, seconds: float) -> None:
        timer = threading.Timer(max(seconds, 0.0), self._deferred)
        timer.name = "r57-publish"
        timer.daemon = True  # never keep a process alive for it; close() flushes on orderly shutdown
        self._timer = timer
        timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _deferred(self) -> None:
        with self._lock:
            if self._timer is not threading.current_thread():
                return  # cancelled or superseded while this thread waited for the lock
            self._timer = None
            if not self._pending:
                return  # a direct publish() or flush() made it meanwhile
            wait = self._wait_s()
            if wait > 0:  # cannot normally happen (only a publish clears pending); keep the promise
                self._arm(wait)
                return
            try:
                self._publish_now()
            except Exception:  # nobody waits on this thread to see the error: log it and try again
                self._retry_s = min(RETRY_MAX_S, max(self.settings.publish_min_interval_s, 1.0,
                                                     self._retry_s * 2))
                log.exception("deferred snapshot publication failed; retrying in %.0f s", self._retry_s)
                self._arm(self._retry_s)

    def _publish_now(self) -> None:
        started = time.perf_counter()
        with self.session() as con:
            published = publish(con, self.settings)
        self.publish_seconds += time.perf_counter() - started  # lake + snapshot (or copy) + pointer switch + prune
        self.publish_bytes += published.bytes_written
        self._last_publish = time.monotonic()
        self._pending = False
        self._retry_s = 0.0
        self.publications += 1

    def close(self) -> None:
        with self._lock:
            if self._pending and self._con is not None:
                self._cancel_timer()
                try:
                    self._publish_now()  # readers should see the last state this writer loaded
                except Exception:  # still close the warehouse; the next start publishes anyway
                    log.exception("final snapshot publication failed at close")
            self._cancel_timer()
            self._pending = False
            if self._con is not None:
                self._con.close()
                self._con = None
