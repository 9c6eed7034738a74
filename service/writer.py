"""The one writer: a single read-write connection per warehouse, used by one job at a time.

All writes go through `Writer.session()` (datasette's one-writer idea): APScheduler runs jobs on
threads, and a DuckDB connection is not thread-safe, so the lock serialises them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from config import Settings
from warehouse.db import open_writer, publish_snapshot


class Writer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._con is None:
                self._con = open_writer(self.settings)
            yield self._con

    def publish(self) -> None:
        with self.session() as con:
            publish_snapshot(con, self.settings)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
