"""The alerts job of the scheduler process (service/scheduler.py): never in a web worker.

`alerts_tick` runs every ALERTS_INTERVAL_S (15 minutes) and, every CHECK_S, whenever a new snapshot was
published since its last run (an ingest run that changed data publishes one), plus the 07:30 digest cron on
working days (the calendar check is the due_soon rule's own: a Sunday or Tết evaluates no digest). It reads
the newest snapshot read-only. A failure is logged and never stops the scheduler.
"""

from __future__ import annotations

import logging
import threading

import duckdb

log = logging.getLogger(__name__)

ALERTS_INTERVAL_S = 15 * 60
CHECK_S = 60


def open_reader(settings) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection on the newest snapshot (the warehouse file when none was published yet)."""
    from reports.jobs import default_reader_factory

    return default_reader_factory(settings)()


def newest_snapshot(settings) -> str | None:
    d = settings.snapshot_dir
    if not d.exists():
        return None
    names = sorted(p.name for p in d.glob("*.duckdb"))
    return names[-1] if names else None


class AlertsJob:
    """State shared by the ticks: the snapshot the last run read (so a tick after an ingest runs at once)."""

    def __init__(self, settings, db=None) -> None:
        self.settings = settings
        self._db = db
        self._lock = threading.Lock()
        self.last_snapshot: str | None = None
        self.last_result: dict | None = None

    @property
    def db(self):
        if self._db is None:
            from access.db import get_appdb

            self._db = get_appdb(self.settings)
        return self._db

    def run(self, now=None) -> dict | None:
        """Evaluate and deliver now. Never raises (logged)."""
        from .deliver import run as run_alerts

        with self._lock:
            try:
                snap = newest_snapshot(self.settings)
                con = open_reader(self.settings)
                if con is None:
                    return None
                try:
                    out = run_alerts(con, self.db, now, self.settings)
                finally:
                    con.close()
                self.last_snapshot = snap
                self.last_result = out
                if out["events"] or out["failed"]:
                    log.info("alerts: %d new events %s; sent %d, failed %d, held %d", out["events"], out["by_rule"],
                             out["sent"], out["failed"], out["suppressed"])
                return out
            except Exception:
                log.exception("alerts run failed; the next tick tries again")
                return None

    def if_new_snapshot(self) -> dict | None:
        """Run when a snapshot newer than the last run's was published (data changed)."""
        snap = newest_snapshot(self.settings)
        if snap is not None and snap != self.last_snapshot:
            return self.run()
        return None


def add_alert_jobs(sched, settings, db=None) -> AlertsJob:
    """alerts (every 15 minutes), alerts_on_change (every minute: a new snapshot), alerts_digest (07:30 Hanoi,
    Monday to Saturday; the working-day check is the calendar's)."""
    from config import TZ

    job = AlertsJob(settings, db)
    opts = {"max_instances": 1, "coalesce": True}
    sched.add_job(job.run, "interval", seconds=ALERTS_INTERVAL_S, id="alerts", name="alerts", **opts)
    sched.add_job(job.if_new_snapshot, "interval", seconds=CHECK_S, id="alerts_on_change", name="alerts_on_change",
                  **opts)
    sched.add_job(job.run, "cron", hour=7, minute=30, day_of_week="mon-sat", timezone=TZ, id="alerts_digest",
                  name="alerts_digest", misfire_grace_time=3600, **opts)
    return job
