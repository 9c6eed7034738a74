"""Ingest jobs: load what waits in an inbox through the one write sequence (Writer.load); the alerts jobs
(alerts/jobs.py) are added to the same scheduler by `add_alert_jobs`."""

from __future__ import annotations

import logging
import threading
import time

from ingest.runner import RunReport, discover

from .writer import Writer

log = logging.getLogger(__name__)
DEMO_BATCH_PREFIX = "dossiers-live-"  # demo/live.py names its batches so


# one run per inbox at a time, whoever starts it (the polling tick or the watcher, service/watch.py): the
# second waits, then finds only what the first left
_INBOX_LOCKS = {"dossiers": threading.Lock(), "indicators": threading.Lock()}


def inbox_of(settings, source: str):
    return settings.dossier_inbox if source == "dossiers" else settings.indicator_inbox


def run_inbox(writer: Writer, source: str) -> list[RunReport]:
    """One run of an ingest job (a tick, or a file's arrival). Never raises for a bad file: that is
    recorded as a failed run."""
    inbox = inbox_of(writer.settings, source)
    inbox.mkdir(parents=True, exist_ok=True)
    with _INBOX_LOCKS[source]:
        files = discover(inbox)
        if not files:
            return []
        started = time.perf_counter()
        reports = writer.load(files, source, channel="inbox")
    for r in reports:
        # one line per run; the demo feed's batches (every few seconds) only at DEBUG
        level = logging.DEBUG if r.file.startswith(DEMO_BATCH_PREFIX) and r.status == "ok" else logging.INFO
        log.log(level, "%s %s: %s read=%d ins=%d upd=%d quar=%d%s", source, r.file, r.status, r.rows_read,
                r.inserted, r.updated, r.quarantined, f" error={r.error}" if r.error else "")
    log.debug("%s tick: %d files in %.0f ms", source, len(files), (time.perf_counter() - started) * 1000)
    return reports


def add_alert_jobs(sched, settings, db=None):
    """The alerts jobs (every 15 minutes, after a new snapshot, the 07:30 digest) on the scheduler: the one
    process that evaluates and delivers alerts. Returns the AlertsJob (its last result, for tests and logs)."""
    from alerts.jobs import add_alert_jobs as add

    return add(sched, settings, db)
