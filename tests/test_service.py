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

from service.scheduler import start_scheduler
from service.writer import Writer
from warehouse.db import Reader

from .conftest import dossier, write_csv

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate, timeout=20.0, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


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
    try:
        s.dossier_inbox.mkdir(parents=True, exist_ok=True)
        write_csv(s.dossier_inbox / ".a.csv.tmp", [dossier(dossier_id="A1"), dossier(dossier_id="A2")])
        os.replace(s.dossier_inbox / ".a.csv.tmp", s.dossier_inbox / "a.csv")

        def count():
            cur = reader.cursor()
            return cur is not None and cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == 2

        assert wait_for(count)
        assert not (s.dossier_inbox / "a.csv").exists()
        time.sleep(1.0)  # several more ticks with an empty inbox
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
    while time.monotonic() < end:
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
    """One `app.py scheduler` process writes; three other processes read the whole time, lock-free."""
    import json

    env = dict(os.environ, R57_DATA_DIR=str(tmp_path), R57_DOSSIER_INTERVAL="0.3", PYTHONPATH=str(ROOT))
    wh = str(settings.warehouse)
    writer = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "scheduler", "--warehouse", wh],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    readers = []
    try:
        assert wait_for(lambda: (settings.snapshot_dir / "CURRENT").exists(), timeout=60), "writer never published"
        script = READER_SCRIPT.format(root=str(ROOT), wh=wh, seconds=6)
        readers = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
                   for _ in range(3)]
        inbox = settings.dossier_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        for i in range(5):
            tmp = write_csv(inbox / f".b{i}.tmp", [dossier(dossier_id=f"B{i}-{j}") for j in range(100)])
            os.replace(tmp, inbox / f"b{i}.csv")
            time.sleep(0.8)
        results = [json.loads(p.communicate(timeout=60)[0]) for p in readers]
    finally:
        for p in readers:
            p.kill()
        writer.terminate()
        out = writer.communicate(timeout=30)[0]
    for res in results:
        assert res["errors"] == [], res
        assert res["reads"] > 20
        assert res["max"] >= 300, res  # readers saw the writer's later snapshots
    assert writer.returncode == 0, out
    final = Reader(settings).cursor()
    assert final.execute("SELECT count(*) FROM dossiers").fetchall() == [(500,)]
