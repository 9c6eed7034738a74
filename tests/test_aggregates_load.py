"""The writer takes an aggregate build as its aggregates (metrics/aggregates_load.py).

The fixture warehouse (tests/fixtures_metrics.py) is exported to a lake and built by DuckDB into a build
folder; then the warehouse moves on (a correction of October 2024 and a new dossier of March 2026) and a
full rebuild loads the build and applies the two runs after it. Every cell must equal the warehouse's own
full rebuild; a build that is not of this warehouse's data, definitions or files is refused with its
reason and the writer rebuilds by itself. (Spark's build loaded the same way: tests/test_aggregates_spark.py.)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

import lake
from metrics import aggregates
from metrics.aggregates import read_state, refresh
from metrics.aggregates_build import BUILD_FILE, build_duckdb, compare
from metrics.aggregates_load import BuildUnusable, read
from metrics.aggregates_sql import KEYS, TABLES

from .fixtures_metrics import build, d, ingest_rows

OCT_FIX = d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00", "2024-10-21 09:00",
            "completed", updated="2026-03-16 08:00")  # finished on 21 Oct, not 11 Oct
NEW = d("D15", "00073", "DD-01", "online", "2026-03-12 10:00", "2026-03-26 17:00")  # open


def _tables(con) -> dict:
    return {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}


def _without_zero_rows(con) -> dict:
    """The tables without keys left all zero: an incremental refresh drops them, a full rebuild may keep them
    (metrics.aggregates._delta); no query can tell them apart."""
    out = {}
    for t in TABLES:
        if t == "metrics_open":
            out[t] = con.sql(f"SELECT * FROM {t}").to_arrow_table()
            continue
        values = [c for c, typ in con.execute(f"SELECT column_name, data_type FROM duckdb_columns() "
                                               f"WHERE table_name = '{t}'").fetchall()
                  if c not in KEYS[t] and typ in ("BIGINT", "INTEGER", "DOUBLE", "HUGEINT", "DECIMAL(38,0)")]
        out[t] = con.sql(f"SELECT * FROM {t} WHERE {' OR '.join(f'coalesce({c}, 0) <> 0' for c in values)}").to_arrow_table()
    return out


def _counts(con) -> list[tuple]:
    return con.execute("SELECT * FROM metrics_open_counts ORDER BY ALL").fetchall()


@pytest.fixture
def world(tmp_path):
    """The fixture warehouse, its lake, a DuckDB build of that lake, then two runs after the build."""
    con = build(tmp_path)
    lake.export(con, tmp_path / "lake")
    build_duckdb(tmp_path / "lake", out=tmp_path / "agg")
    ingest_rows(con, tmp_path, [OCT_FIX], "fix.csv")
    ingest_rows(con, tmp_path, [NEW], "new.csv")
    yield con, tmp_path, tmp_path / "agg" / "duckdb"
    con.close()


def test_a_full_rebuild_from_the_build_equals_the_warehouses_own(world):
    con, _, folder = world
    refresh(con, full=True)  # the warehouse's own full rebuild: what the build must reproduce
    expected, expected_counts = _tables(con), _counts(con)
    oct_ = con.execute("SELECT sum(wd_sum) FROM metrics_month WHERE month = DATE '2024-10-01'").fetchall()[0][0]
    assert oct_ == 14  # the correction is in the expected tables (8 + 6 working days)
    result = refresh(con, full=True, build=folder, require_build=True)
    assert result["mode"] == "build" and result["engine"] == "duckdb"
    assert result["runs_after_build"] == 2 and result["partitions"] > 0
    assert result["rows"]["metrics_month"] == 13  # the build's rows, before the two runs were applied
    got = _tables(con)
    check = compare(expected, got)
    assert check["equal"], check
    assert all(t["cells"] > 0 for t in check["tables"].values())
    assert _counts(con) == expected_counts
    # the state says where the aggregates came from; the next refresh has nothing to do
    state = dict(con.execute("SELECT key, value FROM metrics_state").fetchall())
    assert json.loads(state["build"])["id"] == read(folder).id
    assert refresh(con, build=folder)["mode"] == "noop"
    # a later correction is an ordinary incremental refresh on the loaded tables
    ingest_rows(con, world[1], [{**NEW, "completed_at": "2026-03-16 11:00", "status": "completed",
                                 "updated_at": "2026-03-16 12:00"}], "done.csv")
    assert refresh(con, build=folder)["mode"] == "incremental"
    loaded_then_incremental = _without_zero_rows(con)
    refresh(con, full=True)
    assert compare(_without_zero_rows(con), loaded_then_incremental)["equal"]
    assert json.loads(dict(con.execute("SELECT key, value FROM metrics_state").fetchall())["build"] or "null") is None


def test_a_build_of_the_current_data_needs_no_runs_after_it(tmp_path):
    con = build(tmp_path)
    lake.export(con, tmp_path / "lake")
    build_duckdb(tmp_path / "lake", out=tmp_path / "agg")
    expected = _tables(con)
    result = refresh(con, full=True, build=tmp_path / "agg" / "duckdb", require_build=True)
    assert (result["mode"], result["runs_after_build"], result["partitions"]) == ("build", 0, 0)
    assert compare(expected, _tables(con))["equal"]
    con.close()


def _tamper(folder: Path, change) -> None:
    path = folder / BUILD_FILE
    info = json.loads(path.read_text())
    change(info)
    path.write_text(json.dumps(info))


def _other_warehouse(info):
    info["lake"]["data_version"]["warehouse"] = "someone-else"


def _other_definitions(info):
    info["definition_version"] = "0" * 16


def _ahead(info):
    info["lake"]["data_version"]["last_change_run_id"] = 10_000


def _escape(info):
    info["tables"]["metrics_day"]["files"][0]["path"] = "../../etc/passwd"


def _rows(info):
    info["tables"]["metrics_hist"]["rows"] += 1


@pytest.mark.parametrize("change, reason", [
    (_other_warehouse, "another warehouse"),
    (_other_definitions, "other measure declarations"),
    (_ahead, "ahead of this warehouse"),
    (_escape, "outside the build"),
    (_rows, "rows in the files"),
])
def test_a_build_not_of_this_warehouse_is_refused_and_the_writer_rebuilds(world, change, reason, caplog):
    con, _, folder = world
    refresh(con, full=True)
    expected = _tables(con)
    before = con.execute("SELECT value FROM metrics_state WHERE key = 'base'").fetchall()[0][0]
    _tamper(folder, change)
    with pytest.raises(BuildUnusable, match=reason):
        refresh(con, full=True, build=folder, require_build=True)
    # refused without touching the tables (a failure while loading rolls back the whole refresh)
    assert con.execute("SELECT value FROM metrics_state WHERE key = 'base'").fetchall()[0][0] == before
    assert compare(expected, _tables(con))["equal"]
    with caplog.at_level("WARNING", logger="metrics.aggregates"):
        result = refresh(con, full=True, build=folder)
    assert result["mode"] == "full"
    assert any("cannot be used" in r.getMessage() and reason in r.getMessage() for r in caplog.records)
    assert compare(expected, _tables(con))["equal"]


def test_a_missing_file_or_no_build_is_refused(world):
    con, tmp_path, folder = world
    info = json.loads((folder / BUILD_FILE).read_text())
    with pytest.raises(BuildUnusable, match="no build"):
        refresh(con, full=True, build=tmp_path / "nowhere", require_build=True)
    (folder / info["tables"]["metrics_open"]["files"][0]["path"]).unlink()
    with pytest.raises(BuildUnusable, match="missing"):
        read(folder)
    (folder / BUILD_FILE).write_text("{not json")
    with pytest.raises(BuildUnusable, match="cannot be read"):
        read(folder)


def test_a_build_with_a_wrong_column_is_refused_inside_the_transaction(world):
    """The check passes, the load fails on the files' contents: the refresh rolls back, tables as before."""
    con, _, folder = world
    refresh(con, full=True)
    expected = _tables(con)
    info = json.loads((folder / BUILD_FILE).read_text())
    month = folder / info["tables"]["metrics_month"]["files"][0]["path"]
    w = duckdb.connect()
    w.execute(f"COPY (SELECT * EXCLUDE (wd_sum) FROM read_parquet('{month}')) TO '{month}.x' (FORMAT parquet)")
    w.close()
    shutil.move(f"{month}.x", month)
    with pytest.raises(BuildUnusable, match="no column wd_sum"):
        refresh(con, full=True, build=folder, require_build=True)
    assert compare(expected, _tables(con))["equal"]
    assert read_state(con).fresh


def test_only_a_full_rebuild_takes_the_build(world):
    """An incremental refresh never replaces tables by a build: it is cheaper to apply the runs."""
    con, _, folder = world
    assert refresh(con, build=folder)["mode"] == "incremental"
    assert json.loads(dict(con.execute("SELECT key, value FROM metrics_state").fetchall()).get("build") or "null") is None


# --- the writer, the serving snapshot and the command --------------------------------------------

def _file_warehouse(con, path: Path) -> None:
    con.execute(f"ATTACH '{path}' AS f")
    con.execute("COPY FROM DATABASE memory TO f")
    con.execute("DETACH f")


def test_the_writer_takes_the_build_at_start_and_the_serving_snapshot_serves_it(tmp_path):
    import config
    from service.writer import Writer
    from warehouse.db import Reader

    mem = build(tmp_path)
    expected = _tables(mem)
    path = tmp_path / "wh.duckdb"
    _file_warehouse(mem, path)
    mem.close()
    s = replace(config.load_settings(data_dir=tmp_path, warehouse=path), publish_min_interval_s=0)
    writer = Writer(s)
    writer.publish()  # the writer's lake: what a cluster's build reads
    with writer.session() as con:
        warehouse_id = con.execute("SELECT value FROM meta WHERE key = 'warehouse_id'").fetchall()[0][0]
    writer.close()
    manifest = json.loads((s.lake_dir / "manifest.json").read_text())
    assert manifest["data_version"]["warehouse"] == warehouse_id
    build_duckdb(s.lake_dir, out=tmp_path / "agg")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE metrics_month; DELETE FROM metrics_state")  # as after a definitions change
    con.close()

    writer = Writer(replace(s, aggregates_build=tmp_path / "agg" / "duckdb"))
    try:
        with writer.session() as con:
            state = dict(con.execute("SELECT key, value FROM metrics_state").fetchall())
            assert json.loads(state["build"])["engine"] == "duckdb"
        assert writer.publish()
    finally:
        writer.close()
    reader = Reader(s)
    try:
        snap = reader.cursor()
        assert snap is not None
        assert compare(expected, _tables(snap))["equal"]
    finally:
        reader.close()
    assert lake.verify(s.lake_dir) == []


def test_cli_aggregates_load(tmp_path, capsys, monkeypatch):
    import app

    monkeypatch.setenv("R57_DATA_DIR", str(tmp_path))
    mem = build(tmp_path)
    path = tmp_path / "wh.duckdb"
    _file_warehouse(mem, path)
    mem.close()
    assert app.main(["lake", "export", "--warehouse", str(path), "--out", str(tmp_path / "wh.lake")]) == 0
    assert app.main(["aggregates", "build", "--lake", str(tmp_path / "wh.lake"), "--out", str(tmp_path / "agg")]) == 0
    capsys.readouterr()
    assert app.main(["aggregates", "load", "--warehouse", str(path), "--from", str(tmp_path / "agg" / "duckdb")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "build" and out["runs_after_build"] == 0
    assert out["publish_bytes"] > 0 and out["publish_seconds"] >= 0
    with pytest.raises(SystemExit, match="cannot be used: no build"):
        app.main(["aggregates", "load", "--warehouse", str(path), "--from", str(tmp_path / "agg" / "spark")])
    other = tmp_path / "other.duckdb"
    (tmp_path / "o").mkdir()
    mem = build(tmp_path / "o")  # the same rows, but another warehouse: its own id
    _file_warehouse(mem, other)
    mem.close()
    with pytest.raises(SystemExit, match="another warehouse"):
        app.main(["aggregates", "load", "--warehouse", str(other), "--from", str(tmp_path / "agg" / "duckdb")])


def test_the_state_keeps_no_build_after_a_local_full_rebuild(world):
    con, _, folder = world
    refresh(con, full=True, build=folder, require_build=True)
    refresh(con, full=True)
    assert dict(con.execute("SELECT key, value FROM metrics_state").fetchall())["build"] is None
    assert aggregates.read_state(con).fresh
