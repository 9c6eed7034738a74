"""Ingest jobs: load what waits in an inbox, refresh derived aggregates, publish a snapshot (coalesced)."""

from __future__ import annotations

import logging
import time

import duckdb

from ingest.runner import RunReport, discover, ingest_files

from .writer import Writer

log = logging.getLogger(__name__)


def refresh_derived(con: duckdb.DuckDBPyConnection) -> dict:
    """Bring the metrics layer's aggregates up to date with the dossiers just loaded."""
    from metrics.aggregates import refresh  # the metrics layer owns its aggregates

    return refresh(con)


def run_inbox(writer: Writer, source: str) -> list[RunReport]:
    """One tick of an ingest job. Never raises for a bad file: that is recorded as a failed run."""
    settings = writer.settings
    inbox = settings.dossier_inbox if source == "dossiers" else settings.indicator_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    files = discover(inbox)
    if not files:
        return []
    started = time.perf_counter()
    with writer.session() as con:
        reports = ingest_files(con, files, source, channel="inbox", archive_root=settings.data_dir)
        if any(r.changed for r in reports):
            refresh_derived(con)
            writer.publish()  # coalesced: at most one copy per publish_min_interval_s
    for r in reports:
        log.info("%s %s: %s read=%d ins=%d upd=%d quar=%d%s", source, r.file, r.status, r.rows_read,
                 r.inserted, r.updated, r.quarantined, f" error={r.error}" if r.error else "")
    log.info("%s tick: %d files in %.0f ms", source, len(files), (time.perf_counter() - started) * 1000)
    return reports
