"""Exactly one scheduler, in exactly one process.

A process becomes the scheduler only if it takes an exclusive lock file beside the warehouse, so
gunicorn workers and a second `app.py scheduler` stay passive; under Flask's debug reloader only the
child that serves (WERKZEUG_RUN_MAIN=true) may take it. Runs of a job never overlap
(max_instances=1) and missed ticks collapse into one (coalesce); a failing run is logged and the
next tick tries again.

Jobs: the two inbox ingests, retention (service/retention.py: once at start, then daily), the
monthly reports, the alerts (service/jobs.py → alerts/jobs.py: every 15 minutes, within a minute of a
snapshot published after an ingest that changed data, and the 07:30 digest on working days), and any
extra ones the caller passes (the demo live feed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from filelock import FileLock, Timeout

import clock
import config
from config import TZ, Settings

from .jobs import add_alert_jobs, run_inbox
from .retention import run_retention
from .writer import Writer

log = logging.getLogger(__name__)

# The flock lives as long as its open file: a lock that nobody references any more would be
# closed by the garbage collector and silently released (app.start_writer_side never kept the
# one start_scheduler returned). Held locks are kept here until release().
_HELD: set[SchedulerLock] = set()


class SchedulerLock:
    """An exclusive file lock (filelock; flock underneath) held for the life of the process, released
    by the OS if it dies. Another process's attempt fails at once instead of waiting."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path, thread_local=False, blocking=False)

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            return False
        _HELD.add(self)
        return True

    def release(self) -> None:
        _HELD.discard(self)
        if self._lock.is_locked:
            self._lock.release()


def in_reloader_parent() -> bool:
    """True in the watcher process of Flask's debug reloader, which must not schedule anything."""
    return config.reloader_debug() and os.environ.get("WERKZEUG_RUN_MAIN") != "true"  # Werkzeug's own marker


def _safe(name: str, fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:  # the scheduler must outlive any one failing run; next tick retries
            log.exception("job %s failed; retrying on the next tick", name)
    run.__name__ = name
    return run


def build_scheduler(writer: Writer, extra_jobs: dict[str, tuple[Callable[[], object], float]] | None = None,
                    reports: bool = True, alerts: bool = True) -> BackgroundScheduler:
    s: Settings = writer.settings
    sched = BackgroundScheduler(timezone=TZ, job_defaults={"max_instances": 1, "coalesce": True,
                                                           "misfire_grace_time": 60})
    jobs = {
        "ingest_dossiers": (lambda: run_inbox(writer, "dossiers"), s.dossier_interval_s),
        "ingest_indicators": (lambda: run_inbox(writer, "indicators"), s.indicator_interval_s),
        # Decree 13/2023: archived files, failed files and quarantine rows past their retention
        "retention": (lambda: run_retention(writer), s.retention_interval_s),
    }
    jobs.update(extra_jobs or {})
    for name, (fn, seconds) in jobs.items():
        sched.add_job(_safe(name, fn), "interval", seconds=seconds, id=name, name=name,
                      next_run_time=_now())
    if reports:
        from reports.jobs import add_report_job

        # 1st of the month 07:00 Hanoi, for the previous month; an hourly tick retries failures and
        # catches up; each run is a low-priority child process, one report at a time
        add_report_job(sched, s, detached=True)
    if alerts:
        add_alert_jobs(sched, s)  # evaluation and delivery in this, the scheduler's, process only
    return sched


def _now():
    return clock.machine()  # APScheduler compares run times with the machine's clock


def start_scheduler(writer: Writer, extra_jobs=None, reports: bool = True,
                    ) -> tuple[BackgroundScheduler | None, SchedulerLock | None]:
    """Start the scheduler if this process may; returns (None, None) when another process has it."""
    if in_reloader_parent():
        log.info("debug reloader parent: not starting the scheduler here")
        return None, None
    assert writer.settings.warehouse is not None
    lock = SchedulerLock(writer.settings.warehouse.with_suffix(".scheduler.lock"))
    if not lock.acquire():
        log.info("another process holds %s: this process will not schedule", lock.path)
        return None, None
    sched = build_scheduler(writer, extra_jobs, reports)
    sched.start()
    log.info("scheduler started in pid %d: %s", os.getpid(), [j.id for j in sched.get_jobs()])
    if writer.settings.watch_inbox:
        start_watcher(sched, writer)
    return sched, lock


def start_watcher(sched: BackgroundScheduler, writer: Writer):
    """Ingest on arrival (service/watch.py) beside the polling ticks, stopped with the scheduler."""
    from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

    from .watch import InboxWatcher

    s = writer.settings
    watcher = InboxWatcher({"dossiers": s.dossier_inbox, "indicators": s.indicator_inbox},
                           lambda source: run_inbox(writer, source), s.ingest_debounce_s)
    try:
        watcher.start()
    except OSError as exc:  # no inotify (a network share, a container limit): the polling tick still runs
        log.warning("cannot watch the inboxes (%s): files wait for the %.0f s tick", exc, s.dossier_interval_s)
        return None
    sched.add_listener(lambda _event: watcher.stop(), EVENT_SCHEDULER_SHUTDOWN)
    sched.r57_watcher = watcher  # for tests and the bench
    return watcher
