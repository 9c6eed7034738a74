"""Retention (Decree 13/2023): archived files, failed files with their reasons, quarantine rows."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from config import TZ, load_settings
from service.retention import prune_tree, run_retention
from service.scheduler import build_scheduler
from service.writer import Writer
from warehouse.db import Reader

from .conftest import wait_for

DAY = 86400


def make(path, age_days: float, text: str = "x") -> object:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    t = time.time() - age_days * DAY
    os.utime(path, (t, t))
    return path


@pytest.fixture
def tree(settings):
    s = settings
    f = {
        "processed_old": make(s.processed_dir / "dossiers" / "2026-01-02" / "old.csv", 31),
        "processed_new": make(s.processed_dir / "dossiers" / "2026-02-20" / "new.csv", 29),
        "processed_only_old": make(s.processed_dir / "indicators" / "2026-01-01" / "q4.xlsx", 45),
        "push_old": make(s.push_dir / "push-20260101-000000-abc.csv", 40),
        "push_new": make(s.push_dir / "push-20260301-000000-def.csv", 0.01),
        "failed_old": make(s.failed_dir / "dossiers" / "2026-02-10" / "bad.csv", 8),
        "failed_old_reason": make(s.failed_dir / "dossiers" / "2026-02-10" / "bad.csv.reason.txt", 8),
        "failed_new": make(s.failed_dir / "dossiers" / "2026-02-14" / "bad2.csv", 6),
        "failed_new_reason": make(s.failed_dir / "dossiers" / "2026-02-14" / "bad2.csv.reason.txt", 6),
        # a reason whose file is already gone, and a failed file with a fresh reason (moved file keeps its mtime)
        "orphan_reason": make(s.failed_dir / "indicators" / "2026-01-05" / "gone.csv.reason.txt", 20),
        "failed_old_fresh_reason": make(s.failed_dir / "indicators" / "2026-02-11" / "x.parquet", 9),
    }
    f["fresh_reason_of_old"] = make(s.failed_dir / "indicators" / "2026-02-11" / "x.parquet.reason.txt", 1)
    return f


def test_files_older_than_their_retention_are_deleted_with_reasons_and_empty_folders(settings, tree, caplog):
    writer = Writer(settings)
    with caplog.at_level(logging.INFO, logger="service.retention"):
        result = run_retention(writer)
    writer.close()
    gone = {"processed_old", "processed_only_old", "push_old", "failed_old", "failed_old_reason",
            "orphan_reason", "failed_old_fresh_reason", "fresh_reason_of_old"}
    for key, path in tree.items():
        assert path.exists() == (key not in gone), key
    assert (result.processed.files, result.push.files, result.failed.files) == (2, 1, 2)
    assert result.failed.reasons == 3
    # the date folders that became empty, and a source folder left empty, are removed; roots stay
    assert not (settings.processed_dir / "dossiers" / "2026-01-02").exists()
    assert not (settings.processed_dir / "indicators").exists()
    assert not (settings.failed_dir / "indicators" / "2026-01-05").exists()
    assert not (settings.failed_dir / "indicators").exists()
    assert (settings.failed_dir / "dossiers" / "2026-02-14").is_dir()
    assert all(d.is_dir() for d in (settings.processed_dir, settings.failed_dir, settings.push_dir))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention:")]
    assert len(lines) == 1
    assert "2 processed, 1 push, 2 failed files (+3 reasons)" in lines[0]


def test_retention_periods_come_from_settings_and_environment(settings, tree, monkeypatch):
    monkeypatch.setenv("R57_RETENTION_DAYS", "60")
    monkeypatch.setenv("R57_FAILED_RETENTION_DAYS", "5.5")
    env = load_settings(data_dir=settings.data_dir, warehouse=settings.warehouse)
    assert (env.retention_days, env.failed_retention_days) == (60, 5.5)
    writer = Writer(env)
    result = run_retention(writer)
    writer.close()
    assert result.processed.files == 0 and result.push.files == 0      # nothing is 60 days old
    assert not tree["failed_new"].exists() and not tree["failed_new_reason"].exists()  # 6 days > 5.5
    assert result.failed.files == 3


def test_defaults(monkeypatch):
    for name in ("R57_RETENTION_DAYS", "R57_FAILED_RETENTION_DAYS", "R57_RETENTION_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert (s.retention_days, s.failed_retention_days, s.retention_interval_s) == (30, 7, 86400)


def test_missing_folders_are_fine(settings):
    writer = Writer(settings)
    result = run_retention(writer)
    writer.close()
    assert result.processed.files == result.failed.files == result.quarantine_rows == 0
    assert prune_tree(settings.data_dir / "nowhere", time.time()).files == 0


def _quarantine(con, run_id: int, age_days: float) -> None:
    at = datetime.now(TZ).replace(tzinfo=None) - timedelta(days=age_days)
    con.execute("INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, quarantined_at) "
                "VALUES (?, 'dossiers', 'f.csv', 2, ?, 'unknown_unit', ?)", [run_id, f"R{run_id}", at])


def test_old_quarantine_rows_are_deleted_through_the_writer_and_published(settings):
    s = replace(settings, publish_min_interval_s=0.2)
    writer = Writer(s)
    with writer.session() as con:
        for run_id, age in ((1, 45), (2, 30.5), (3, 29), (4, 0.1)):
            _quarantine(con, run_id, age)
    writer.publish()
    reader = Reader(s)
    reader.CHECK_EVERY_S = 0.0
    assert reader.cursor().execute("SELECT count(*) FROM quarantine").fetchall() == [(4,)]
    result = run_retention(writer)
    assert result.quarantine_rows == 2 and result.published
    with writer.session() as con:
        assert con.execute("SELECT run_id FROM quarantine ORDER BY 1").fetchall() == [(3,), (4,)]
    # the publish may be deferred by the minimum interval
    assert wait_for(lambda: reader.cursor().execute("SELECT count(*) FROM quarantine").fetchall() == [(2,)],
                    timeout=3, step=0.05)
    again = run_retention(writer)
    assert again.quarantine_rows == 0 and not again.published
    writer.close()
    reader.close()


def test_the_scheduler_runs_retention_at_start_and_daily(settings, tree):
    s = replace(settings, dossier_interval_s=3600, indicator_interval_s=3600)
    writer = Writer(s)
    sched = build_scheduler(writer, reports=False)
    job = sched.get_job("retention")
    assert job is not None and job.trigger.interval.total_seconds() == 86400
    sched.start()
    try:
        assert wait_for(lambda: not tree["processed_old"].exists(), timeout=10, step=0.05), \
            "retention did not run when the scheduler started"
        assert tree["processed_new"].exists()
    finally:
        sched.shutdown(wait=True)
        writer.close()
