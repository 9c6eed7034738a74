"""The serving publication (issue 13, item 1): a small snapshot plus the lake, written in proportion to the
change, read exactly as the full copy was, never torn, safe against kill -9 at every step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

import metrics
from ingest.runner import ingest_files
from lake.read import verify
from lake.store import named_files
from warehouse import serving
from warehouse.db import Reader, connect, current_snapshot, open_writer, publish, set_meta

from .conftest import dossier, write_csv

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 20, 12, 0)


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() "
                                      "WHERE NOT internal").fetchall()}


def _month_files(report_manifest: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in report_manifest["partitions"]:
        out[f"dossiers/{p['month']}"] = {f["path"] for f in p["files"]}
    for t, months in report_manifest.get("aggregates", {}).get("tables", {}).items():
        for m, entry in months.items():
            out[f"{t}/{m}"] = {f["path"] for f in entry["files"]}
    return out


@pytest.fixture
def seeded(tmp_path):
    from demo.seed import seed_demo

    s = replace(__import__("config").load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb"),
                publish_min_interval_s=0)
    con = open_writer(s)
    seed_demo(con, s, days=75, per_day=60, now=NOW)
    metrics.refresh(con)
    yield s, con
    con.close()


def test_the_serving_snapshot_reads_exactly_as_the_full_copy(seeded):
    s, con = seeded
    copy_path = publish(con, replace(s, publish="copy")).path
    served = publish(con, s)
    assert served.path.stat().st_size < copy_path.stat().st_size / 4
    copy, serve = connect(copy_path, s, read_only=True), connect(served.path, s, read_only=True)
    try:
        names = _tables(copy) - {"metrics_months_changed", "dossier_replaced"}  # the writer's bookkeeping
        assert names <= _tables(serve)
        for t in sorted(names):  # every table, row for row, including the dossiers and the aggregates
            assert _rows(copy, t) == _rows(serve, t), t
        assert {"dossiers", "metrics_day", "metrics_month", "metrics_hist", "metrics_open"} <= {
            r[0] for r in serve.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        periods = (date(2026, 1, 1), NOW.date())
        a = metrics.query(copy, None, grain="month", periods=periods, now=NOW)
        b = metrics.query(serve, None, grain="month", periods=periods, now=NOW)
        assert a.equals(b)
        a = metrics.query(copy, None, grain="month", by=["unit_code"], now=NOW)
        assert a.equals(metrics.query(serve, None, grain="month", by=["unit_code"], now=NOW))
        assert metrics.overdue_list(copy, now=NOW, limit=500).equals(metrics.overdue_list(serve, now=NOW, limit=500))
    finally:
        copy.close()
        serve.close()


def test_a_correction_of_an_old_month_rewrites_only_what_it_touched(seeded, tmp_path):
    s, con = seeded
    first = publish(con, s)
    before = _month_files(first.lake_manifest)
    old = con.execute("""SELECT dossier_id, unit_code, procedure_code, channel, received_at, due_at, completed_at, status
                         FROM dossiers WHERE received_date < DATE '2026-02-01' AND completed_at IS NOT NULL
                           AND strftime(received_date, '%Y-%m') = strftime(completed_at, '%Y-%m')
                           AND strftime(received_date, '%Y-%m') = strftime(due_at, '%Y-%m')
                         ORDER BY received_at LIMIT 1""").fetchone()
    month = old[4].strftime("%Y-%m")
    fix = write_csv(tmp_path / "fix.csv", [dossier(
        dossier_id=old[0], unit_code=old[1], procedure_code=old[2], channel=old[3], received_at=old[4], due_at=old[5],
        completed_at=old[6], status=old[7], rating=5, updated_at=NOW.replace(hour=9))])
    [rep] = ingest_files(con, [fix], "dossiers", channel="cli", now=NOW)
    assert rep.updated == 1
    metrics.refresh(con)
    second = publish(con, s)
    after = _month_files(second.lake_manifest)
    changed = {k for k in after if after[k] != before.get(k)}
    # the dossier's month of the lake and that month of each aggregate table (the refresh logs months, not
    # tables: metrics_open's month, if it holds one, is rewritten too); no other month
    touched = {f"{t}/{month}" for t in ("dossiers", "metrics_day", "metrics_month", "metrics_hist")}
    assert touched <= changed <= touched | {f"metrics_open/{month}"}
    assert second.lake["partitions_written"] == 1 and second.lake["partitions_kept"] == len(first.lake_manifest["partitions"]) - 1
    assert second.lake["bytes_written"] < first.lake["bytes_written"] / 2  # one month of three
    # nothing changed since: nothing but the small snapshot written
    third = publish(con, s)
    assert third.lake["bytes_written"] == 0 and third.bytes_written == third.path.stat().st_size
    assert verify(s.lake_dir) == []


def test_readers_never_see_a_torn_publication(tmp_path):
    s = replace(__import__("config").load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb"),
                publish_min_interval_s=0)
    con = open_writer(s)
    set_meta(con, "probe", "0")
    metrics.refresh(con)
    publish(con, s)
    errors, seen = [], set()
    stop = threading.Event()

    def read() -> None:
        reader = Reader(s)
        reader.CHECK_EVERY_S = 0.0
        try:
            while not stop.is_set():
                cur = reader.cursor()
                n, probe, open_n, received = cur.execute("""
                    SELECT (SELECT count(*) FROM dossiers), (SELECT value FROM meta WHERE key = 'probe'),
                           (SELECT count(*) FROM metrics_open),
                           (SELECT coalesce(sum(received), 0) FROM metrics_day)""").fetchone()
                if not (str(n) == probe and open_n == n and received == n):  # one state, never two halves
                    errors.append((n, probe, open_n, received))
                seen.add(n)
        except Exception as exc:  # noqa: BLE001 - any error is the test's failure
            errors.append(repr(exc))
        finally:
            reader.close()

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(1, 13):
            rows = [dossier(dossier_id=f"T{i}-{k}", received_at=f"2026-03-{1 + i:02d} 09:00:00", due_at="2026-03-28 17:00:00",
                            updated_at=f"2026-03-{1 + i:02d} 09:00:00") for k in range(i)]
            ingest_files(con, [write_csv(tmp_path / f"b{i}.csv", rows)], "dossiers", channel="cli", now=NOW)
            metrics.refresh(con)
            set_meta(con, "probe", str(con.execute("SELECT count(*) FROM dossiers").fetchone()[0]))
            publish(con, s)
    finally:
        stop.set()
        for t in threads:
            t.join()
        con.close()
    assert errors == []
    assert len(seen) > 3


def test_files_of_retained_and_recently_retired_snapshots_stay(seeded, monkeypatch, tmp_path):
    s, con = seeded
    s = replace(s, keep_snapshots=2)
    pinned = publish(con, s).path
    held = connect(pinned, s, read_only=True)  # a reader that never moves on
    pinned_only = set(json.loads(serving.sidecar(pinned).read_text())["files"])
    for i in range(6):
        rows = [dossier(dossier_id=f"G{i}", received_at="2026-03-19 09:00:00", due_at="2026-03-25 17:00:00",
                        updated_at="2026-03-19 09:00:00")]
        ingest_files(con, [write_csv(tmp_path / f"g{i}.csv", rows)], "dossiers", channel="cli", now=NOW)
        metrics.refresh(con)
        publish(con, s)
    assert not pinned.exists()
    # retired less than a minute ago: its lake files are all still there, so the held reader still answers
    assert all((s.lake_dir / f).is_file() for f in pinned_only)
    assert held.execute("SELECT count(*) FROM dossiers").fetchone()[0] > 0
    monkeypatch.setattr(serving, "RETIRED_GRACE_S", 0.0)
    publish(con, s)  # forgets the retired sidecars ...
    publish(con, s)  # ... so this one's garbage collection may delete what only they read
    on_disk = {p.relative_to(s.lake_dir).as_posix() for p in s.lake_dir.rglob("*.parquet")}
    retained = set().union(*(json.loads(p.read_text())["files"] for p in s.snapshot_dir.glob("wh-*.lake.json")))
    manifest = json.loads((s.lake_dir / "manifest.json").read_text())
    assert on_disk == retained | set(manifest.get("previous_files", []))
    assert named_files(manifest) <= on_disk
    assert pinned_only - on_disk  # the month files only the pinned snapshot read are gone
    pinned_files = set(json.loads(serving.sidecar(pinned).read_text())["files"]) if serving.sidecar(pinned).exists() else None
    assert pinned_files is None  # its sidecar is forgotten, and the files only it read are deleted
    held.close()


STEPS = ["lake.store._swap_manifest", "warehouse.serving.write_snapshot", "warehouse.serving.write_sidecar",
         "os.replace#snapshot", "os.replace#CURRENT"]

CHILD = """
import os, signal, sys
sys.path.insert(0, {root!r})
from dataclasses import replace
import config, metrics, lake.store, warehouse.serving
from warehouse.db import open_writer, publish, set_meta
from ingest.runner import ingest_files
step = {step!r}
from pathlib import Path
s = replace(config.load_settings(data_dir=Path({folder!r}), warehouse={wh!r}), publish_min_interval_s=0)
con = open_writer(s)

def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)

if step.startswith("os.replace#"):
    import warehouse.db as db
    real = os.replace
    def guarded(src, dst):
        if (step.endswith("CURRENT") and str(dst).endswith("CURRENT")) or (
                step.endswith("snapshot") and str(dst).endswith(".duckdb")):
            die()
        return real(src, dst)
    db.os.replace = guarded
else:
    mod, name = step.rsplit(".", 1)
    target = sys.modules[mod]
    real_fn = getattr(target, name)
    def wrapped(*a, **k):
        if name == "_swap_manifest":
            die()
        real_fn(*a, **k)
        die()
    setattr(target, name, wrapped)
ingest_files(con, [{csv!r}], "dossiers", channel="cli")
metrics.refresh(con)
set_meta(con, "probe", "after")
publish(con, s)
"""


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_every_step_of_a_publication(seeded, tmp_path, step):
    s, con = seeded
    set_meta(con, "probe", "before")
    publish(con, s)
    before = current_snapshot(s)
    con.close()
    csv_path = write_csv(tmp_path / "k.csv", [dossier(dossier_id="KILL-1", received_at="2026-03-19 09:00:00",
                                                       due_at="2026-03-25 17:00:00",
                                                       updated_at="2026-03-19 09:00:00")])
    code = CHILD.format(root=str(ROOT), step=step, folder=str(s.data_dir), wh=str(s.warehouse), csv=str(csv_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]

    def consistent() -> str:
        reader = Reader(s)
        try:
            cur = reader.cursor()
            probe = cur.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()[0]
            n = cur.execute("SELECT count(*) FROM dossiers WHERE dossier_id = 'KILL-1'").fetchone()[0]
            assert (probe, n) in (("before", 0), ("after", 1))  # one state or the other, whole
            assert cur.execute("SELECT count(*) FROM metrics_open").fetchone()[0] >= 0
            return probe
        finally:
            reader.close()

    assert consistent() == "before"  # killed before CURRENT moved: readers stay on the last whole state
    assert current_snapshot(s) == before
    # the next start cleans up and publishes what the warehouse holds
    con = open_writer(s)
    try:
        assert not list(s.snapshot_dir.glob(".wh-*"))
        publish(con, s)
    finally:
        con.close()
    assert consistent() == "after"
    assert verify(s.lake_dir) == []
    assert not list(s.lake_dir.glob(".staging-*")) and not list(s.lake_dir.glob("manifest.json.tmp-*"))


def test_an_unknown_publish_mode_is_refused(settings):
    con = open_writer(settings)
    try:
        with pytest.raises(ValueError, match="R57_PUBLISH"):
            publish(con, replace(settings, publish="rsync"))
    finally:
        con.close()


def test_copy_mode_still_copies(settings):
    s = replace(settings, publish="copy")
    con = open_writer(s)
    try:
        p = publish(con, s)
    finally:
        con.close()
    assert p.lake is None and p.bytes_written == p.path.stat().st_size and not s.lake_dir.exists()
    assert not os.path.exists(serving.sidecar(p.path))


def test_new_dossiers_are_appended_to_their_month_and_the_hash_stays_exact(seeded, tmp_path, monkeypatch):
    import lake.store as store

    s, con = seeded
    publish(con, s)
    monkeypatch.setattr(store, "MAX_FILES", 3)
    cols = [c for c, _ in store._columns(con, "dossiers")]
    counts = []
    for i in range(4):
        rows = [dossier(dossier_id=f"A{i}-{k}", received_at="2026-03-19 09:00:00", due_at="2026-03-25 17:00:00",
                        updated_at="2026-03-19 09:00:00") for k in range(5)]
        ingest_files(con, [write_csv(tmp_path / f"a{i}.csv", rows)], "dossiers", channel="cli", now=NOW)
        metrics.refresh(con)
        p = publish(con, s)
        [march] = [x for x in p.lake_manifest["partitions"] if x["month"] == "2026-03"]
        counts.append((p.lake["partitions_appended"], p.lake["rows_written"], len(march["files"])))
        full = store._partition_stats(con, cols, only=[("01", "2026-03")])[("01", "2026-03")]
        assert (march["rows"], march["hash"]) == full[:2]  # the combined hash is the whole partition's hash
        served = connect(p.path, s, read_only=True)
        try:
            assert _rows(served, "dossiers") == _rows(con, "dossiers")
        finally:
            served.close()
    first_files = counts[0][2]
    # appended (5 rows written) while the partition has fewer than MAX_FILES files, then rewritten whole as one
    assert counts[0][:2] == (1, 5) and counts[1][:2] == (1, 5)
    assert [c[2] for c in counts[:2]] == [first_files, first_files + 1]
    assert counts[2][2] <= 3 and counts[-1][0] in (0, 1)
    assert any(c[0] == 0 and c[1] > 5 for c in counts[2:])  # a compaction happened
    assert verify(s.lake_dir) == []
