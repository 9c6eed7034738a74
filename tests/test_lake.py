"""The dossier lake (lake/): round trip of every dossier row, partition-proportional rewrites, manifest
agreement, crash before the manifest swap, garbage collection, and the DuckDB aggregate build over it.

The warehouse is the hand-worked fixture (tests/fixtures_metrics.py): 14 dossiers received in four
months, 2024-10 (D13), 2025-03 (D14), 2026-02 (D01-D08) and 2026-03 (D09-D12), all in Hanoi units.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import lake
from lake import store
from metrics.aggregates_build import build_duckdb, compare, read_build
from metrics.aggregates_sql import TABLES

from .fixtures_metrics import DOSSIERS, build, d, ingest_rows

PARTS = ["01/2024-10", "01/2025-03", "01/2026-02", "01/2026-03"]


def _files(root: Path) -> dict[str, int]:
    """Every Parquet file under the lake -> its mtime (ns)."""
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def _manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


@pytest.fixture
def wh(tmp_path):
    con = build(tmp_path)
    yield con
    con.close()


def test_round_trip_every_dossier_row(wh, tmp_path):
    root = tmp_path / "lake"
    report = lake.export(wh, root)
    assert report["partitions_written"] == 4 and report["rows_written"] == 14 and report["dossiers"] == 14
    m = _manifest(root)
    assert [f"{p['province']}/{p['month']}" for p in m["partitions"]] == PARTS
    assert [p["rows"] for p in m["partitions"]] == [1, 1, 8, 4]
    assert all(f["path"].startswith(f"province=01/month={p['month']}/part-") for p in m["partitions"] for f in p["files"])
    assert m["data_version"]["last_change_run_id"] == wh.execute("SELECT max(run_id) FROM ingest_runs "
                                                               "WHERE inserted > 0").fetchone()[0]
    # the lake, read back as DuckDB reads it, holds exactly the warehouse's rows, every column
    reader = duckdb.connect()
    lake.duckdb_views(reader, root)
    cols = ", ".join(c for c, _ in m["columns"])
    lake_rows = sorted(reader.execute(f"SELECT {cols} FROM dossiers").fetchall(), key=str)
    wh_rows = sorted(wh.execute(f"SELECT {cols} FROM dossiers").fetchall(), key=str)
    assert lake_rows == wh_rows and len(lake_rows) == len(DOSSIERS)
    assert reader.execute("SELECT DISTINCT province FROM dossiers").fetchall() == [("01",)]
    assert reader.execute("SELECT count(*) FROM procedures").fetchone()[0] == 5
    assert lake.verify(root) == []


@pytest.mark.parametrize("batch_rows", [1, 9, 10**9])
def test_batched_copies_write_the_same_lake(wh, tmp_path, monkeypatch, batch_rows):
    """The partitions are written a batch of whole months per COPY (store.BATCH_ROWS rows): one month per
    batch, months grouped, or everything at once give the same partitions, rows and content hashes."""
    monkeypatch.setattr(store, "BATCH_ROWS", batch_rows)
    root = tmp_path / f"lake{batch_rows}"
    report = lake.export(wh, root)
    m = _manifest(root)
    assert report["partitions_written"] == 4 and report["rows_written"] == 14
    assert [(f"{p['province']}/{p['month']}", p["rows"]) for p in m["partitions"]] == list(zip(PARTS, [1, 1, 8, 4], strict=True))
    assert all(len(p["files"]) == 1 for p in m["partitions"])
    reader = duckdb.connect()
    lake.duckdb_views(reader, root)
    cols = ", ".join(c for c, _ in m["columns"])
    assert (sorted(reader.execute(f"SELECT {cols} FROM dossiers").fetchall(), key=str)
            == sorted(wh.execute(f"SELECT {cols} FROM dossiers").fetchall(), key=str))
    assert store._batches(sorted(tuple(k.split("/")) for k in PARTS), {("01", "2026-02"): 8, ("01", "2026-03"): 4,
                                                                        ("01", "2024-10"): 1, ("01", "2025-03"): 1},
                          batch_rows) == {1: [[("01", "2024-10")], [("01", "2025-03")], [("01", "2026-02")], [("01", "2026-03")]],
                                          9: [[("01", "2024-10"), ("01", "2025-03")], [("01", "2026-02")], [("01", "2026-03")]],
                                          10**9: [[("01", "2024-10"), ("01", "2025-03"), ("01", "2026-02"), ("01", "2026-03")]]}[batch_rows]


def test_unchanged_warehouse_writes_nothing(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    before, text = _files(root), (root / "manifest.json").read_text()
    again = lake.export(wh, root)
    assert (again["partitions_written"], again["partitions_kept"], again["bytes_written"]) == (0, 4, 0)
    assert _files(root) == before and (root / "manifest.json").read_text() == text


def test_correction_of_an_old_month_rewrites_only_its_partition(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    before = _files(root)
    old_month = {f["path"] for p in _manifest(root)["partitions"] if p["month"] == "2024-10" for f in p["files"]}
    # D13 (received 2024-10-01) corrected: rated 5 afterwards
    ingest_rows(wh, tmp_path, [d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00",
                                 "2024-10-11 09:00", "completed", rating=5, updated="2026-03-16 08:00")], "fix.csv")
    report = lake.export(wh, root)
    assert (report["partitions_written"], report["partitions_kept"], report["rows_written"]) == (1, 3, 1)
    after = _files(root)
    untouched = {k: v for k, v in before.items() if k not in old_month}
    assert all(after.get(k) == v for k, v in untouched.items())  # same names, same mtimes
    m = _manifest(root)
    new_month = {f["path"] for p in m["partitions"] if p["month"] == "2024-10" for f in p["files"]}
    assert new_month and not new_month & old_month
    # the replaced file stays one generation (a reader on the previous manifest may still open it)
    assert set(m["previous_files"]) == old_month and old_month <= set(after)
    reader = duckdb.connect()
    lake.duckdb_views(reader, root)
    assert reader.execute("SELECT rating FROM dossiers WHERE dossier_id = 'D13'").fetchone() == (5,)
    assert lake.verify(root) == []
    # the next change retires it: deleted, while every file the current manifest names stays
    ingest_rows(wh, tmp_path, [d("D14", "00073", "DD-01", "online_partial", "2025-03-03 09:00", "2025-03-21 17:00",
                                 "2025-03-07 09:00", "completed", rating=4, updated="2026-03-16 09:00")], "fix2.csv")
    report = lake.export(wh, root)
    assert report["partitions_written"] == 1 and report["files_deleted"] == len(old_month)
    assert not any((root / f).exists() for f in old_month)
    assert lake.verify(root) == []


def test_a_dossier_moving_month_rewrites_both_and_drops_an_emptied_partition(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    # D13's receipt corrected from 2024-10 to 2025-03: 2024-10 becomes empty, 2025-03 holds two
    ingest_rows(wh, tmp_path, [d("D13", "00073", "DD-01", "in_person", "2025-03-04 09:00", "2025-03-25 17:00",
                                 "2025-03-11 09:00", "completed", updated="2026-03-16 08:00")], "move.csv")
    report = lake.export(wh, root)
    assert (report["partitions_written"], report["partitions_removed"]) == (1, 1)
    m = _manifest(root)
    assert [f"{p['province']}/{p['month']}" for p in m["partitions"]] == PARTS[1:]
    assert [p["rows"] for p in m["partitions"]] == [2, 8, 4]
    assert lake.verify(root) == []


def test_crash_before_the_manifest_swap_leaves_the_old_lake_valid(wh, tmp_path, monkeypatch):
    root = tmp_path / "lake"
    lake.export(wh, root)
    text = (root / "manifest.json").read_text()
    ingest_rows(wh, tmp_path, [d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00",
                                 "2024-10-11 09:00", "completed", rating=1, updated="2026-03-16 08:00")], "fix.csv")

    def killed(tmp, final):
        raise KeyboardInterrupt("killed between the new files and the manifest swap")

    monkeypatch.setattr(store, "_swap_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        lake.export(wh, root)
    # the new partition file is on disk, but the manifest is the old one, whole, and agrees with its files
    assert (root / "manifest.json").read_text() == text
    assert len(_files(root)) == len(lake.store.named_files(_manifest(root))) + 1
    assert lake.verify(root) == []
    reader = duckdb.connect()
    lake.duckdb_views(reader, root)
    assert reader.execute("SELECT rating FROM dossiers WHERE dossier_id = 'D13'").fetchone() == (None,)
    # the next export finishes the job and deletes the orphan
    monkeypatch.undo()
    report = lake.export(wh, root)
    assert report["partitions_written"] == 1 and report["files_deleted"] == 1
    assert set(_files(root)) == lake.store.named_files(_manifest(root)) | set(_manifest(root)["previous_files"])
    assert lake.verify(root) == []


def test_verify_finds_a_changed_or_missing_file(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    m = _manifest(root)
    feb = root / next(p for p in m["partitions"] if p["month"] == "2026-02")["files"][0]["path"]
    mar = root / next(p for p in m["partitions"] if p["month"] == "2026-03")["files"][0]["path"]
    pq.write_table(pq.read_table(feb).slice(0, 7), feb)  # one row fewer
    mar.unlink()
    problems = lake.verify(root)
    assert len(problems) == 2
    assert any("month=2026-02" in p and "differs" in p for p in problems)
    assert any("month=2026-03" in p and "missing" in p for p in problems)


def test_no_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(lake.LakeError, match="lake export"):
        lake.read_manifest(tmp_path)


def test_province_hook_takes_the_units_province_when_it_exists(wh, tmp_path):
    # units carry their province (migration 6): dossiers take their unit's (one province: a constant, no join)
    assert store.province_sql(wh) == ("", "'01'")
    wh.execute("UPDATE units SET province_code = CASE WHEN unit_code = '00376' THEN '79' ELSE '01' END")
    assert store.province_sql(wh)[1] == "coalesce(u.province_code, '01')"
    root = tmp_path / "lake"
    lake.export(wh, root)
    m = _manifest(root)
    assert [(p["province"], p["month"], p["rows"]) for p in m["partitions"]] == [
        ("01", "2024-10", 1), ("01", "2025-03", 1), ("01", "2026-02", 8), ("01", "2026-03", 3), ("79", "2026-03", 1)]


# --- the aggregate build over the lake (DuckDB; Spark in tests/test_aggregates_spark.py) ----------

def _month_totals(t, unit: str, month: str) -> dict:
    rows = [r for r in t.to_pylist() if r["unit_code"] == unit and str(r["month"]).startswith(month)]
    return {c: sum(r[c] for r in rows) for c in ("received", "finished", "wd_sum", "finished_on_time", "online")}


def test_duckdb_build_from_the_lake_equals_the_warehouse_refresh(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    built = build_duckdb(root)
    # hand-worked: Phường Cửa Nam, February 2026 received D01-D08 (8; online D01, D03, D05, D06, D07);
    # finished D01, D02, D03, D04, D05 (D06 withdrawn) in 3 + 4 + 4 + 2 + 4 = 17 working days, on time D01, D03, D05
    assert _month_totals(built["metrics_month"], "00073", "2026-02") == {
        "received": 8, "finished": 5, "wd_sum": 17, "finished_on_time": 3, "online": 5}
    hist = sorted((r["value"], r["n"]) for r in built["metrics_hist"].to_pylist()
                  if r["unit_code"] == "00073" and "2026-02-01" <= str(r["day"]) < "2026-03-01")
    # finished on five different days: D04 2 wd, D01 3 wd, D02, D03 and D05 4 wd
    assert hist == [(2, 1), (3, 1), (4, 1), (4, 1), (4, 1)]
    # every cell equal to the tables the warehouse's own refresh (metrics/aggregates.py) built
    served = {t: wh.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
    result = compare(built, served)
    assert result["equal"], result
    assert result["tables"]["metrics_month"]["rows"] == [13, 13]
    assert result["tables"]["metrics_open"]["rows"][0] > 0 and result["tables"]["metrics_open"]["cells"] > 0


def test_compare_finds_a_changed_cell_and_a_missing_row(wh, tmp_path):
    root = tmp_path / "lake"
    lake.export(wh, root)
    a = build_duckdb(root)
    b = dict(a)
    rows = a["metrics_day"].to_pylist()
    rows[0]["received"] += 1
    b["metrics_day"] = a["metrics_day"].from_pylist(rows, schema=a["metrics_day"].schema)
    b["metrics_hist"] = a["metrics_hist"].slice(1)
    opened = a["metrics_open"].to_pylist()
    opened[0]["status"] = "processing" if opened[0]["status"] != "processing" else "received"
    b["metrics_open"] = a["metrics_open"].from_pylist(opened, schema=a["metrics_open"].schema)
    result = compare(a, b)
    assert not result["equal"]
    assert result["tables"]["metrics_day"]["mismatches"] == 1
    assert result["tables"]["metrics_hist"]["mismatches"] == 1
    assert result["tables"]["metrics_open"]["mismatches"] == 1  # a text column, compared as text
    assert result["tables"]["metrics_month"]["mismatches"] == 0


def test_cli_lake_export_and_duckdb_build(wh, tmp_path, capsys):
    import app

    path = tmp_path / "wh.duckdb"
    wh.execute(f"ATTACH '{path}' AS f")
    wh.execute("COPY FROM DATABASE memory TO f")
    wh.execute("DETACH f")
    root = tmp_path / "lake"
    assert app.main(["lake", "export", "--warehouse", str(path), "--out", str(root)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["partitions_written"], out["partitions_kept"], out["dossiers"]) == (4, 0, 14)
    assert out["bytes_written"] == sum(p.stat().st_size for p in root.rglob("*.parquet")) + len(
        (root / "manifest.json").read_bytes())
    assert app.main(["lake", "export", "--warehouse", str(path), "--out", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["partitions_kept"] == 4
    assert app.main(["lake", "verify", "--out", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert app.main(["aggregates", "build", "--engine", "duckdb", "--lake", str(root), "--out", str(tmp_path / "agg")]) == 0
    out = json.loads(capsys.readouterr().out)
    n_open = wh.execute("SELECT count(*) FROM dossiers WHERE finished_date IS NULL").fetchone()[0]
    assert n_open > 0
    assert out["tables"]["duckdb"] == {"metrics_day": 29, "metrics_month": 13, "metrics_hist": 10, "metrics_open": n_open}
    assert out["builds"] == {"duckdb": str((tmp_path / "agg" / "duckdb" / "BUILD.json").resolve())}
    built = read_build(tmp_path / "agg" / "duckdb")  # exactly the files BUILD.json names
    assert {t: built[t].num_rows for t in built} == out["tables"]["duckdb"]
    info = json.loads((tmp_path / "agg" / "duckdb" / "BUILD.json").read_text())
    assert info["lake"]["data_version"]["warehouse"] == wh.execute(
        "SELECT value FROM meta WHERE key = 'warehouse_id'").fetchone()[0]
    first = info["id"]
    # a second build is committed beside the first; the one before the previous is pruned
    for _ in range(2):
        assert app.main(["aggregates", "build", "--engine", "duckdb", "--lake", str(root), "--out", str(tmp_path / "agg")]) == 0
        capsys.readouterr()
    kept = sorted(p.name for p in (tmp_path / "agg" / "duckdb").glob("build-*"))
    assert len(kept) == 2 and first not in kept
    assert json.loads((tmp_path / "agg" / "duckdb" / "BUILD.json").read_text())["id"] in kept


def test_a_manifest_naming_files_outside_the_lake_is_refused(wh, tmp_path):
    root = tmp_path / "it's a lake"  # a quote in the path: every SQL literal is escaped
    lake.export(wh, root)
    assert lake.verify(root) == []
    m = _manifest(root)
    m["partitions"][0]["files"][0]["path"] = "../../etc/passwd"
    (root / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(lake.LakeError, match="outside the lake"):
        lake.duckdb_views(duckdb.connect(), root)
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(lake.LakeError, match="not a lake manifest"):
        lake.read_manifest(root)


def test_readers_during_exports_always_see_one_whole_generation(wh, tmp_path):
    import threading

    root = tmp_path / "lake"
    lake.export(wh, root)
    seen, errors, stop = set(), [], threading.Event()

    def reader():
        con = duckdb.connect()
        while not stop.is_set():
            try:
                m = lake.duckdb_views(con, root)  # the manifest as it is now, then its files
                n = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
                ratings = con.execute("SELECT rating FROM dossiers WHERE dossier_id = 'D13'").fetchone()[0]
                assert n == m["data_version"]["dossiers"] == 14
                seen.add((m["generation"], ratings))
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the finding
                errors.append(repr(exc))
        con.close()

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i, rating in enumerate((1, 2, 3)):
            ingest_rows(wh, tmp_path, [d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00",
                                         "2024-10-11 09:00", "completed", rating=rating,
                                         updated=f"2026-03-16 0{8 + i}:00")], f"fix{i}.csv")
            lake.export(wh, root)
    finally:
        stop.set()
        t.join()
    assert errors == []
    # each generation shows its own rating of D13, never a mix: 1 = none, 2..4 = the corrections
    assert seen and seen <= {(1, None), (2, 1), (3, 2), (4, 3)}
    assert lake.read_manifest(root)["generation"] == 4 and lake.verify(root) == []


def test_compare_cells_null_nan_tolerance_and_duplicate_keys():
    """The check's rules on hand-made tables: a NULL key matches a NULL key; NULL and NaN are the same
    missing number; numbers within 1e-9 (relative past 1) are equal, 1e-6 apart are not; text NULL only
    equals NULL; a key twice on one side is a mismatch."""
    import pyarrow as pa

    from metrics.aggregates_sql import KEYS, TABLES

    def tables(v, t, extra=()):
        out = {}
        for name in TABLES:
            keys = KEYS[name]
            rows = [{**{k: f"{k}-1" for k in keys}, "v": v[0], "t": t[0]},
                    {**{k: None for k in keys}, "v": v[1], "t": t[1]}, *extra]
            out[name] = pa.Table.from_pylist(rows, schema=pa.schema(
                [(k, pa.string()) for k in keys] + [("v", pa.float64()), ("t", pa.string())]))
        return out

    same = compare(tables([1e6, None], ["x", None]), tables([1e6 + 1e-4, float("nan")], ["x", None]))
    assert same["equal"], same
    assert same["tables"]["metrics_day"]["cells"] == 2 * (len(KEYS["metrics_day"]) + 2)
    off = compare(tables([1.0, None], ["x", None]), tables([1.0 + 1e-6, 2.0], ["x", ""]))
    assert {t: r["mismatches"] for t, r in off["tables"].items()} == {t: 3 for t in TABLES}
    assert any(e.startswith("v at ") for e in off["tables"]["metrics_open"]["examples"])
    dup = {k: {**{c: f"{c}-1" for c in KEYS[k]}, "v": 1.0, "t": "x"} for k in TABLES}
    twice = compare(tables([1.0, None], ["x", None]), {k: tables([1.0, None], ["x", None], [dup[k]])[k] for k in TABLES})
    assert {t: r["mismatches"] for t, r in twice["tables"].items()} == {t: 1 for t in TABLES}
