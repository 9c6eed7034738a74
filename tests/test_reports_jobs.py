"""Scheduled reports: the trigger fires on the 1st at 07:00 Hanoi time for the previous month, runs are
recorded in the manifest, a failing run is recorded as failed and retried, a missed month is caught up."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

import config
from reports import charts, jobs
from reports.manifest import manifest_path

TZ = config.TZ


@pytest.fixture
def settings(report_warehouse, tmp_path):
    """The shared warehouse with a reports folder of this test's own."""
    base, _ = report_warehouse
    return replace(base, data_dir=tmp_path)


@pytest.fixture
def factory(report_warehouse):
    return report_warehouse[1].cursor


@pytest.fixture(autouse=True)
def no_browser(monkeypatch):
    """These tests are about runs, not pictures: skip the headless browser (the report says so)."""
    monkeypatch.setattr(charts, "render_png", lambda fig, scale=2.0: (None, "disabled in this test"))


def test_trigger_fires_on_the_first_at_seven_hanoi_time():
    trig = jobs.report_trigger()
    assert trig.get_next_fire_time(None, datetime(2026, 10, 15, 12, 0, tzinfo=TZ)) == \
        datetime(2026, 11, 1, 7, 0, tzinfo=TZ)
    # 23:59 UTC on 31 October is 06:59 on 1 November in Hanoi: the run is a minute away (00:00 UTC)
    nxt = trig.get_next_fire_time(None, datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert nxt == datetime(2026, 11, 1, 7, 0, tzinfo=TZ)
    assert nxt.astimezone(UTC) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert trig.get_next_fire_time(None, datetime(2026, 11, 1, 7, 0, 1, tzinfo=TZ)) == \
        datetime(2026, 12, 1, 7, 0, tzinfo=TZ)
    assert trig.get_next_fire_time(None, datetime(2026, 12, 20, tzinfo=TZ)) == datetime(2027, 1, 1, 7, 0, tzinfo=TZ)


def test_monthly_job_at_its_time_reports_the_previous_month(settings, factory):
    files = jobs.monthly_job(settings, factory, now=datetime(2026, 11, 1, 7, 0, tzinfo=TZ), units=["00073"])
    assert sorted(p.name for p in files) == [
        "bao-cao-thang-2026-10-00073.pdf", "bao-cao-thang-2026-10-00073.xlsx",
        "bao-cao-thang-2026-10-thanh-pho.pdf", "bao-cao-thang-2026-10-thanh-pho.xlsx"]
    assert all(p.parent == settings.reports_dir and p.stat().st_size > 5000 for p in files)
    listed = jobs.list_reports(settings)
    assert [(r["id"], r["status"], r["attempts"], r["trigger"]) for r in listed] == [
        ("2026-10/01/vi", "ok", 1, "scheduled"), ("2026-10/00073/vi", "ok", 1, "scheduled")]
    assert listed[1]["unit_name"] == "Phường Cửa Nam"
    assert [f["name"] for f in listed[0]["paths"]] == ["bao-cao-thang-2026-10-thanh-pho.pdf",
                                                       "bao-cao-thang-2026-10-thanh-pho.xlsx"]
    assert all(f["exists"] and f["bytes"] > 0 for f in listed[0]["paths"])
    raw = json.loads(manifest_path(settings).read_text(encoding="utf-8"))
    assert raw["version"] == 1 and {r["id"] for r in raw["runs"]} == {"2026-10/01/vi", "2026-10/00073/vi"}


def test_failing_generation_is_recorded_as_failed_then_retried(settings, factory):
    calls = {"n": 0}

    def no_snapshot():
        calls["n"] += 1
        return None   # what Reader.cursor() gives before the first snapshot is published

    files = jobs.generate_monthly(settings, "2026-10", datetime(2026, 11, 1, 7, 0), units=[],
                                  reader_factory=no_snapshot, attempts=3, backoff_s=0, trigger="scheduled")
    assert files == [] and calls["n"] == 3
    [rec] = jobs.list_reports(settings)
    assert (rec["status"], rec["attempts"], rec["files"] if "files" in rec else None) == ("failed", 3, None)
    assert rec["error"].startswith("ReportError: no warehouse snapshot to read yet")
    # the next retry tick, with data to read: done, and the attempts say what it took
    files = jobs.retry_job(settings, factory, now=datetime(2026, 11, 1, 8, 0), units=[])
    assert [p.name for p in files] == ["bao-cao-thang-2026-10-thanh-pho.pdf", "bao-cao-thang-2026-10-thanh-pho.xlsx"]
    [rec] = jobs.list_reports(settings)
    assert (rec["status"], rec["attempts"], rec["error"], rec["trigger"]) == ("ok", 4, None, "retry")
    # nothing left to retry
    assert jobs.retry_failed(settings, reader_factory=factory) == []


def test_a_flaky_read_succeeds_on_the_second_attempt(settings, factory):
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("snapshot replaced while opening")
        return factory()

    files = jobs.run_one(settings, "2026-10", now=datetime(2026, 11, 1, 7, 0), reader_factory=flaky,
                         backoff_s=0, formats=("xlsx",))
    assert [p.name for p in files] == ["bao-cao-thang-2026-10-thanh-pho.xlsx"]
    [rec] = jobs.list_reports(settings)
    assert (rec["status"], rec["attempts"], rec["error"]) == ("ok", 2, None)


def test_retries_stop_after_the_limit(settings):
    def broken():
        raise RuntimeError("disk full")

    jobs.run_one(settings, "2026-10", now=datetime(2026, 11, 1, 7, 0), reader_factory=broken, attempts=2,
                 backoff_s=0)
    for _ in range(5):
        jobs.retry_failed(settings, reader_factory=broken, max_total_attempts=4)
    [rec] = jobs.list_reports(settings)
    assert (rec["status"], rec["attempts"], rec["error"]) == ("failed", 4, "RuntimeError: disk full")


def test_retry_tick_catches_up_a_missed_month(settings, factory):
    # the process was down on 1 November at 07:00: the first retry tick afterwards makes October's reports
    before = jobs.retry_job(settings, factory, now=datetime(2026, 11, 1, 6, 30), units=[])
    assert before == [] and jobs.list_reports(settings) == []
    files = jobs.retry_job(settings, factory, now=datetime(2026, 11, 2, 9, 0), units=[])
    assert [p.name for p in files] == ["bao-cao-thang-2026-10-thanh-pho.pdf", "bao-cao-thang-2026-10-thanh-pho.xlsx"]
    assert [(r["id"], r["trigger"]) for r in jobs.list_reports(settings)] == [("2026-10/01/vi", "catch_up")]
    assert jobs.retry_job(settings, factory, now=datetime(2026, 11, 2, 10, 0), units=[]) == []


def test_add_report_job_registers_the_schedule(settings, factory):
    sched = BackgroundScheduler(timezone=TZ)
    ids = jobs.add_report_job(sched, settings, factory, units=[])
    sched.start(paused=True)
    try:
        assert ids == ["monthly_reports", "reports_retry"]
        job = sched.get_job("monthly_reports")
        nxt = job.next_run_time.astimezone(TZ)
        assert (nxt.day, nxt.hour, nxt.minute) == (1, 7, 0)
        assert job.misfire_grace_time == 6 * 3600 and job.max_instances == 1
        assert sched.get_job("reports_retry").trigger.interval.total_seconds() == jobs.RETRY_EVERY_S
    finally:
        sched.shutdown(wait=False)


def test_the_ingest_process_runs_reports_in_a_low_priority_child(settings, monkeypatch):
    """The scheduler's report jobs are child processes at a lower CPU priority (never threads that
    compete with ingest ticks and, under `make run`, the web server); the child runs the same jobs."""
    from service.scheduler import build_scheduler
    from service.writer import Writer

    sched = build_scheduler(Writer(settings))
    try:
        for job_id, which in (("monthly_reports", "monthly"), ("reports_retry", "retry")):
            job = sched.get_job(job_id)
            assert job.func is jobs.run_low_priority and job.kwargs["which"] == which
    finally:
        sched.remove_all_jobs()
    seen = {}

    def fake_run(cmd, **kw):
        import os
        import subprocess

        seen["cmd"] = cmd
        pid = os.fork()
        if pid == 0:  # what the child would be: its niceness after preexec_fn
            kw["preexec_fn"]()
            os._exit(os.getpriority(os.PRIO_PROCESS, 0))
        _, status = os.waitpid(pid, 0)
        seen["nice"] = os.waitstatus_to_exitcode(status)
        return subprocess.CompletedProcess(cmd, 0, "a.pdf\nb.xlsx\n", "")

    monkeypatch.setattr("subprocess.run", fake_run)
    assert jobs.run_low_priority(settings, "retry") == 0
    assert seen["cmd"][3:5] == ["--scheduled", "retry"]
    import os
    assert seen["nice"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + jobs.LOW_PRIORITY_NICE)


def test_the_scheduled_child_command_runs_the_retry_tick(settings, report_warehouse):
    """`app.py report --scheduled retry` with nothing due: no report, exit 0."""
    import subprocess
    import sys

    base, _ = report_warehouse
    from reports import manifest
    from reports.data import previous_month

    month = previous_month(datetime.now(TZ).replace(tzinfo=None))  # the month the tick would catch up
    manifest.update(settings, manifest.record_id(month, config.CITY_CODE, "vi"),
                    lambda old: {"month": month, "unit_code": config.CITY_CODE, "lang": "vi", "status": "ok",
                                 "attempts": 1})
    env = {"PATH": "/usr/bin:/bin", "R57_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run([sys.executable, str(config.ROOT / "app.py"), "report", "--scheduled", "retry",
                           "--warehouse", str(base.warehouse)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
