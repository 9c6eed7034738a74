"""The one scheduler and the one writer: real APScheduler, real processes, real DuckDB files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED

from service.scheduler import start_scheduler
from service.writer import Writer
from warehouse.db import Reader

from .conftest import dossier, wait_for, write_csv

ROOT = Path(__file__).resolve().parent.parent


def test_scheduler_ticks_never_overlap_and_survive_failures(settings):
    fast = replace(settings, dossier_interval_s=3600, indicator_interval_s=3600)
    calls: list[tuple[float, float]] = []
    failures = {"n": 0}

    def slow_probe():
        t0 = time.monotonic()
        time.sleep(0.6)  # longer than the 0.25 s interval: ticks must be skipped, never run in parallel
        calls.append((t0, time.monotonic()))

    def flaky():
        failures["n"] += 1
        if failures["n"] == 1:
            raise RuntimeError("first run fails")

    writer = Writer(fast)
    sched, lock = start_scheduler(writer, {"probe": (slow_probe, 0.25), "flaky": (flaky, 0.25)})
    try:
        assert sched is not None
        # a second scheduler for the same warehouse (another worker, or the reloader) must not start
        assert start_scheduler(Writer(fast)) == (None, None)
        time.sleep(2.2)
        assert sched.running
    finally:
        sched.shutdown(wait=True)
        lock.release()
        writer.close()
    assert 2 <= len(calls) <= 4
    assert all(prev_end <= start for (_, prev_end), (start, _) in zip(calls, calls[1:], strict=False))
    assert failures["n"] >= 3  # the failing first run did not stop later ticks


def test_inbox_job_loads_each_file_once_and_publishes(settings):
    s = replace(settings, dossier_interval_s=0.3, indicator_interval_s=3600)
    writer = Writer(s)
    sched, lock = start_scheduler(writer)
    reader = Reader(s)
    ticks = {"n": 0}

    def ticked(event) -> None:
        if event.job_id == "ingest_dossiers":
            ticks["n"] += 1

    sched.add_listener(ticked, EVENT_JOB_EXECUTED)
    try:
        s.dossier_inbox.mkdir(parents=True, exist_ok=True)
        write_csv(s.dossier_inbox / ".a.csv.tmp", [dossier(dossier_id="A1"), dossier(dossier_id="A2")])
        os.replace(s.dossier_inbox / ".a.csv.tmp", s.dossier_inbox / "a.csv")

        def count():
            cur = reader.cursor()
            return cur is not None and cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == 2

        assert wait_for(count, timeout=20)
        assert not (s.dossier_inbox / "a.csv").exists()
        after = ticks["n"]
        assert wait_for(lambda: ticks["n"] >= after + 3, timeout=20)  # several more ticks with an empty inbox
    finally:
        sched.shutdown(wait=True)
        lock.release()
    with writer.session() as con:
        assert con.execute("SELECT file_name, status, inserted FROM ingest_runs").fetchall() == [("a.csv", "ok", 2)]
    writer.close()
    reader.close()


READER_SCRIPT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from config import load_settings
    from warehouse.db import Reader
    r = Reader(load_settings(warehouse={wh!r}))
    seen, errors, end = [], [], time.monotonic() + {seconds}
    while time.monotonic() < end and max(seen or [0]) < {until}:
        try:
            cur = r.cursor()
            if cur is not None:
                seen.append(cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0])
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.05)
    print(json.dumps({{"reads": len(seen), "max": max(seen or [0]), "errors": errors[:3]}}))
""")


@pytest.mark.slow
def test_readers_in_other_processes_while_the_writer_ingests(settings, tmp_path):
    """One `app.py scheduler` process writes; three other processes read the whole time, lock-free,
    until they see everything (the last, coalesced publication comes with no further activity)."""
    import json

    env = dict(os.environ, R57_DATA_DIR=str(tmp_path), R57_DOSSIER_INTERVAL="0.3", PYTHONPATH=str(ROOT))
    wh = str(settings.warehouse)
    writer = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "scheduler", "--warehouse", wh],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    readers = []
    try:
        assert wait_for(lambda: (settings.snapshot_dir / "CURRENT").exists(), timeout=60), "writer never published"
        script = READER_SCRIPT.format(root=str(ROOT), wh=wh, seconds=90, until=500)
        readers = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
                   for _ in range(3)]
        inbox = settings.dossier_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        for i in range(5):
            tmp = write_csv(inbox / f".b{i}.tmp", [dossier(dossier_id=f"B{i}-{j}") for j in range(100)])
            os.replace(tmp, inbox / f"b{i}.csv")
            time.sleep(0.8)
        results = [json.loads(p.communicate(timeout=120)[0]) for p in readers]
    finally:
        for p in readers:
            p.kill()
        writer.terminate()
        out = writer.communicate(timeout=30)[0]
    for res in results:
        assert res["errors"] == [], res
        assert res["reads"] >= 3  # read during the ingests (a slow start under load shortens the window)
        assert res["max"] == 500, res  # readers saw the writer's last snapshot while it ran
    assert writer.returncode == 0, out
    final = Reader(settings).cursor()
    assert final.execute("SELECT count(*) FROM dossiers").fetchall() == [(500,)]


# --- writer start: repair what a killed process left --------------------------------------------

KILLED_INGEST = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    import metrics.aggregates as agg

    def paused(real):
        def run(con, *args, **kwargs):
            result = real(con, *args, **kwargs)        # the tables are rewritten, not yet committed
            Path({marker!r}).write_text("in refresh")
            time.sleep(120)                            # the test SIGKILLs us here
            return result
        return run

    agg._full, agg._incremental, agg._delta = paused(agg._full), paused(agg._incremental), paused(agg._delta)
    import app
    app.main(["ingest", {file!r}, "--warehouse", {wh!r}])
""")


@pytest.mark.slow
@pytest.mark.parametrize("before", ["missing", "stale"])
def test_writer_start_rebuilds_aggregates_a_killed_refresh_left(settings, tmp_path, before):
    """kill -9 during metrics.aggregates.refresh: the next writer start rebuilds them, and publishes them."""
    import signal

    import duckdb

    from metrics.aggregates import read_state, refresh
    from warehouse.db import open_writer

    if before == "stale":  # aggregates built for a first file; the killed run is a second one
        con = open_writer(settings)
        from ingest.runner import ingest_files

        first = write_csv(tmp_path / "first.csv", [dossier(dossier_id=f"F{i}") for i in range(5)])
        ingest_files(con, [first], "dossiers")
        refresh(con)
        assert read_state(con).fresh
        con.close()
    rows = [dossier(dossier_id=f"K{i}", status="completed", completed_at="2026-03-03 10:00:00") for i in range(7)]
    file = write_csv(tmp_path / "killed.csv", rows)
    marker = tmp_path / "in-refresh"
    script = KILLED_INGEST.format(root=str(ROOT), marker=str(marker), file=str(file), wh=str(settings.warehouse))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert wait_for(lambda: marker.exists() or proc.poll() is not None, timeout=120)
        assert marker.exists(), proc.communicate(timeout=10)[0]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    raw = duckdb.connect(str(settings.warehouse))  # what the kill left: dossiers loaded, aggregates not
    total = raw.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    assert total == (12 if before == "stale" else 7)
    state = read_state(raw)
    assert state is None if before == "missing" else not state.fresh
    raw.close()

    writer = Writer(settings)
    with writer.session() as con:            # as app.start_writer_side does, before its publish
        assert read_state(con).fresh
        assert con.execute("SELECT count(*) FROM metrics_open").fetchall()[0][0] == (5 if before == "stale" else 0)
    writer.publish()
    writer.close()
    reader = Reader(settings)
    snap = reader.cursor()
    state = read_state(snap)
    assert state is not None and state.fresh
    assert snap.execute("SELECT count(*) FROM metrics_day").fetchall()[0][0] > 0
    reader.close()


def test_writer_start_leaves_fresh_or_empty_aggregates_alone(settings, monkeypatch):
    import metrics.aggregates as agg

    calls = []
    monkeypatch.setattr(agg, "refresh", lambda con, **kw: calls.append(kw))
    writer = Writer(settings)                # an empty warehouse: nothing to aggregate
    with writer.session():
        pass
    writer.close()
    assert calls == []


def test_the_scheduler_lock_outlives_start_writer_side(settings):
    """start_writer_side drops the lock start_scheduler returns; garbage collection must not free it."""
    import gc

    import service.scheduler as scheduler_module
    from app import start_writer_side
    from service.scheduler import SchedulerLock

    s = replace(settings, dossier_interval_s=3600, indicator_interval_s=3600)
    writer, sched = start_writer_side(s, demo=False, live=False)
    try:
        assert sched is not None
        gc.collect()
        other = SchedulerLock(s.warehouse.with_suffix(".scheduler.lock"))
        assert not other.acquire(), "a second process could start a second scheduler"
        assert {"ingest_dossiers", "ingest_indicators", "retention"} <= {j.id for j in sched.get_jobs()}
    finally:
        sched.shutdown(wait=True)
        held = getattr(scheduler_module, "_HELD", set())  # the locks start_writer_side dropped
        for lock in [h for h in held if h.path == s.warehouse.with_suffix(".scheduler.lock")]:
            lock.release()
        writer.close()
