"""Report runs: on demand and on a schedule, recorded in the reports folder's manifest, retried when they fail.

Schedule (default): the 1st of each month at 07:00 Asia/Ho_Chi_Minh, for the previous month: the city
report and one per ward/commune, PDF and Excel. A report whose run fails is tried again at once
(`attempts` times, with a pause between tries) and, if it still fails, by the retry job on a later
tick (up to MAX_TOTAL_ATTEMPTS); the manifest shows it as failed with the error until then. The retry
job also catches up a month's run that was missed (the process was down on the 1st at 07:00).
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_incrementing

import clock
import config
from config import Settings

from . import manifest
from .build import FORMATS, build_report
from .charts import chart_session
from .data import ReportError, previous_month, unit_name, units_reference
from .fmt import local

log = logging.getLogger(__name__)

ReaderFactory = Callable[[], duckdb.DuckDBPyConnection | None]

ATTEMPTS = 3                 # tries within one run
BACKOFF_S = 20.0             # pause between tries (a new snapshot, a restarted browser)
MAX_TOTAL_ATTEMPTS = 9       # tries across retry ticks before a report is left as failed for a person to see
RETRY_EVERY_S = 3600         # the retry job's interval
STALE_RUNNING_S = 3 * 3600   # a 'running' record older than this died with its process
SCHEDULE = {"day": 1, "hour": 7, "minute": 0}
ALL = "all"                  # units=ALL: every ward/commune besides the city


def default_reader_factory(settings: Settings) -> ReaderFactory:
    """Read-only cursors on the newest snapshot, or on the warehouse file when none was published (CLI after `demo`)."""
    from warehouse.db import Reader, connect

    reader = Reader(settings)

    def factory() -> duckdb.DuckDBPyConnection | None:
        cur = reader.cursor()
        if cur is not None:
            return cur
        if settings.warehouse is not None and settings.warehouse.exists():
            return connect(settings.warehouse, settings, read_only=True)
        return None
    return factory


def _targets(units: Iterable[str] | str | None) -> list[str]:
    """The city first, then the wards asked for (ALL = every ward/commune in the reference list)."""
    if units == ALL:
        ref = units_reference()
        wards = list(ref.loc[ref["unit_code"] != config.CITY_CODE, "unit_code"])
    else:
        wards = [units] if isinstance(units, str) else list(units or [])
        for u in wards:
            unit_name(u)  # an unknown code fails here, before any run
    return [config.CITY_CODE] + [u for u in wards if u != config.CITY_CODE]


def _plan_at(settings: Settings, month: str) -> dict | None:
    """The implementation plan as it stood at the month's end (updates reported before the 1st of the next
    month), from the application database; None when no plan was imported or the database cannot be read
    (the report is still made, without its plan section, and the log says why)."""
    from .data import parse_month

    try:
        from access.db import get_appdb
        from plan.store import load_plan

        return load_plan(get_appdb(settings), before=parse_month(month)[1])
    except Exception:  # the plan section is one part of the report: never the reason it fails
        log.exception("report %s: the plan could not be read; made without its plan section", month)
        return None


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def run_one(settings: Settings, month: str, unit_code: str = config.CITY_CODE, lang: str = "vi",
            now: datetime | None = None, reader_factory: ReaderFactory | None = None,
            formats: Sequence[str] = FORMATS, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
            trigger: str = "on_demand", charts: bool = True) -> list[Path]:
    """One report with retries, recorded in the manifest; returns its files ([] when every try failed)."""
    now = local(now or clock.wall())
    factory = reader_factory or default_reader_factory(settings)
    rid = manifest.record_id(month, unit_code, lang)
    started = local(clock.wall())
    name = unit_name(unit_code, lang)

    def begin(old: dict | None) -> dict:
        prior = old["attempts"] if old and old.get("status") != "ok" else 0
        return {**(old or {}), "month": month, "unit_code": unit_code, "unit_name": name, "lang": lang,
                "status": "running", "trigger": trigger, "started_at": _iso(started), "prior_attempts": prior,
                "attempts": prior, "formats": list(formats)}
    manifest.update(settings, rid, begin)

    def attempt() -> list[Path]:
        con = factory()
        try:
            if con is None:
                raise ReportError("no warehouse snapshot to read yet: ingest data (or run `app.py demo`) first")
            plan = _plan_at(settings, month) if unit_code in (None, config.CITY_CODE) else None
            return build_report(con, month, settings.reports_dir, unit_code, lang, now, formats, charts, plan)
        finally:
            if con is not None:
                con.close()

    def failed(state: RetryCallState) -> None:  # recorded in the manifest; the next try or report still runs
        exc = state.outcome.exception()
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("report %s attempt %d/%d failed: %s", rid, state.attempt_number, attempts, error)
        manifest.update(settings, rid, lambda old: {**(old or {}), "attempts": old["attempts"] + 1, "error": error})

    retrying = Retrying(stop=stop_after_attempt(attempts), wait=wait_incrementing(start=backoff_s, increment=backoff_s),
                        retry=retry_if_exception_type(Exception), after=failed, sleep=_time.sleep, reraise=True)
    try:
        files = retrying(attempt)
    except Exception as exc:
        finished = local(clock.wall())
        manifest.update(settings, rid, lambda old: {**old, "status": "failed", "finished_at": _iso(finished),
                                                    "duration_s": round((finished - started).total_seconds(), 2)})
        log.error("report %s failed after %d attempts: %s: %s", rid, attempts, type(exc).__name__, str(exc)[:300])
        return []
    finished = local(clock.wall())
    manifest.update(settings, rid, lambda old: {
        **old, "status": "ok", "error": None, "attempts": old["attempts"] + 1, "files": [p.name for p in files],
        "finished_at": _iso(finished), "duration_s": round((finished - started).total_seconds(), 2),
        "generated_for": _iso(now)})
    return files


def generate_monthly(settings: Settings, month: str | None = None, now: datetime | None = None, *,
                     units: Iterable[str] | str | None = ALL, langs: Sequence[str] = ("vi",),
                     formats: Sequence[str] = FORMATS, reader_factory: ReaderFactory | None = None,
                     attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S, trigger: str = "on_demand",
                     charts: bool = True) -> list[Path]:
    """The month's reports (default: the month before `now`) for the city and `units`, into settings.reports_dir.

    Files are named bao-cao-thang-<YYYY-MM>-thanh-pho.<pdf|xlsx> and bao-cao-thang-<YYYY-MM>-<unit>.<...>
    ('-en' added for English). A failing report is recorded as failed and does not stop the others.
    """
    now = local(now or clock.wall())
    month = month or previous_month(now)
    factory = reader_factory or default_reader_factory(settings)
    out: list[Path] = []
    with chart_session():
        for code in _targets(units):
            for lang in langs:
                out += run_one(settings, month, code, lang, now, factory, formats, attempts, backoff_s, trigger,
                               charts)
    return out


def list_reports(settings: Settings) -> list[dict]:
    """The manifest's records (newest month first, the city before the wards), with files' paths and sizes."""
    runs = manifest.read_runs(settings)
    out = []
    for r in runs:
        files = []
        for name in r.get("files") or []:
            p = settings.reports_dir / name
            files.append({"name": name, "path": str(p), "format": p.suffix.lstrip("."), "exists": p.exists(),
                          "bytes": p.stat().st_size if p.exists() else None})
        out.append({**r, "paths": files})
    out.sort(key=lambda r: (r.get("unit_code") != config.CITY_CODE, r.get("unit_code", ""), r.get("lang") != "vi"))
    out.sort(key=lambda r: r.get("month", ""), reverse=True)   # stable: newest month, then city, then wards
    return out


def retry_failed(settings: Settings, now: datetime | None = None, reader_factory: ReaderFactory | None = None,
                 max_total_attempts: int = MAX_TOTAL_ATTEMPTS, attempts: int = 1,
                 backoff_s: float = 0.0) -> list[Path]:
    """Run again every report whose last run failed (or died while running), up to `max_total_attempts` tries."""
    now = local(now or clock.wall())
    wall = local(clock.wall())
    due = []
    for r in manifest.read_runs(settings):
        stale = r.get("status") == "running" and (
            wall - datetime.fromisoformat(r.get("started_at", _iso(wall)))).total_seconds() > STALE_RUNNING_S
        if (r.get("status") == "failed" or stale) and r.get("attempts", 0) < max_total_attempts:
            due.append(r)
    out: list[Path] = []
    if not due:
        return out
    factory = reader_factory or default_reader_factory(settings)
    with chart_session():
        for r in due:
            out += run_one(settings, r["month"], r["unit_code"], r["lang"], now, factory,
                           r.get("formats") or FORMATS, attempts, backoff_s, "retry")
    return out


def scheduled_time(now: datetime) -> datetime:
    """This month's scheduled run time (Hanoi, naive) for a moment `now`."""
    n = local(now)
    return n.replace(day=SCHEDULE["day"], hour=SCHEDULE["hour"], minute=SCHEDULE["minute"], second=0, microsecond=0)


def monthly_job(settings: Settings, reader_factory: ReaderFactory | None = None, now: datetime | None = None,
                units: Iterable[str] | str | None = ALL, langs: Sequence[str] = ("vi",),
                backoff_s: float = BACKOFF_S, trigger: str = "scheduled") -> list[Path]:
    """What the scheduler runs on the 1st at 07:00: the previous month's reports. Never raises."""
    try:
        return generate_monthly(settings, None, now, units=units, langs=langs, reader_factory=reader_factory,
                                backoff_s=backoff_s, trigger=trigger)
    except Exception:  # the scheduler must outlive a failing run; the retry job tries again
        log.exception("monthly report job failed")
        return []


def retry_job(settings: Settings, reader_factory: ReaderFactory | None = None, now: datetime | None = None,
              units: Iterable[str] | str | None = ALL, langs: Sequence[str] = ("vi",)) -> list[Path]:
    """The retry tick: catch up a missed monthly run, then retry failed reports. Never raises."""
    try:
        now = local(now or clock.wall())
        month = previous_month(now)
        done = {r["id"] for r in manifest.read_runs(settings)}
        out: list[Path] = []
        if now >= scheduled_time(now) and manifest.record_id(month, config.CITY_CODE, langs[0]) not in done:
            log.info("monthly reports for %s missing: catching up", month)
            out += monthly_job(settings, reader_factory, now, units, langs, trigger="catch_up")
        return out + retry_failed(settings, now, reader_factory)
    except Exception:
        log.exception("report retry job failed")
        return []


def report_trigger():
    """The schedule as an APScheduler CronTrigger: day 1, 07:00, Asia/Ho_Chi_Minh."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(timezone=config.TZ, **SCHEDULE)


LOW_PRIORITY_NICE = 10       # reports yield the CPU to ingest ticks and web requests
DETACHED_TIMEOUT_S = 4 * 3600


def run_low_priority(settings: Settings, which: str) -> int:
    """Run the monthly or retry job in a child process at low CPU priority and wait for it.

    A catch-up of 127 reports renders PDFs and charts for minutes: on threads of the scheduler's
    process it would compete with the ingest ticks (and, under `make run`, with the web server) for
    the interpreter; a niced child reads the published snapshot and leaves them their interval.
    Returns the child's exit code (0: every report made)."""
    import os
    import subprocess
    import sys

    cmd = [sys.executable, str(config.ROOT / "app.py"), "report", "--scheduled", which]
    if settings.warehouse is not None:
        cmd += ["--warehouse", str(settings.warehouse)]
    env = {**os.environ, "R57_DATA_DIR": str(settings.data_dir)}
    started = _time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, timeout=DETACHED_TIMEOUT_S, capture_output=True, text=True,
                              preexec_fn=lambda: os.nice(LOW_PRIORITY_NICE), check=False)
    except subprocess.TimeoutExpired:
        log.error("report job %s still running after %d s: stopped; the retry job tries again", which,
                  DETACHED_TIMEOUT_S)
        return -1
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    log.info("report job %s: %d report(s), exit %d, %.0f s", which, len(lines), done.returncode,
             _time.perf_counter() - started)
    if done.returncode not in (0, 1):  # 1 = some report failed: the manifest says which, the retry job retries
        log.error("report job %s failed: %s", which, (done.stderr or "").strip().splitlines()[-1:])
    return done.returncode


def add_report_job(scheduler, settings: Settings, reader_factory: ReaderFactory | None = None, *,
                   units: Iterable[str] | str | None = ALL, langs: Sequence[str] = ("vi",),
                   retry_every_s: float = RETRY_EVERY_S, detached: bool = False) -> list[str]:
    """Add the monthly report job and its retry job to an APScheduler 3 scheduler; returns the job ids.

    `detached`: each run is a low-priority child process (`run_low_priority`), as the scheduler of
    the ingest process uses it; otherwise the jobs run on the scheduler's threads (tests)."""
    factory = reader_factory or default_reader_factory(settings)
    unit_list = units if isinstance(units, str) or units is None else list(units)
    if detached:
        monthly, monthly_kwargs = run_low_priority, {"settings": settings, "which": "monthly"}
        retry, retry_kwargs = run_low_priority, {"settings": settings, "which": "retry"}
    else:
        common = {"settings": settings, "reader_factory": factory, "units": unit_list, "langs": tuple(langs)}
        monthly, monthly_kwargs, retry, retry_kwargs = monthly_job, common, retry_job, common
    scheduler.add_job(monthly, report_trigger(), id="monthly_reports", name="monthly_reports", kwargs=monthly_kwargs,
                      # a process started late on the 1st still runs it; the retry job covers later starts
                      misfire_grace_time=6 * 3600, coalesce=True, max_instances=1, replace_existing=True)
    scheduler.add_job(retry, "interval", seconds=retry_every_s, id="reports_retry", name="reports_retry",
                      kwargs=retry_kwargs, next_run_time=clock.machine() + timedelta(minutes=5),
                      coalesce=True, max_instances=1, replace_existing=True)
    return ["monthly_reports", "reports_retry"]
