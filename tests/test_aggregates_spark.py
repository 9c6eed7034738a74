"""The aggregate build by Apache Spark (local mode) over the lake, checked cell by cell against DuckDB.

One Spark session for the module (starting the JVM costs seconds); marked `spark`. Skipped when pyspark
or a Java runtime is missing (the `spark` extra; .ci/run installs both). The warehouse is the
hand-worked fixture (tests/fixtures_metrics.py).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

import lake
from metrics import aggregates_build
from metrics.aggregates_build import build_duckdb, build_spark, compare, read_build

from .fixtures_metrics import build, d, ingest_rows

pytest.importorskip("pyspark")
if "JAVA_HOME" not in os.environ and aggregates_build.JAVA_17.is_dir():
    os.environ["JAVA_HOME"] = str(aggregates_build.JAVA_17)
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("r57-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark-lake")
    con = build(folder)
    lake.export(con, folder / "lake")
    yield con, folder
    con.close()


def _totals(t, unit: str, month: str) -> dict:
    rows = [r for r in t.to_pylist() if r["unit_code"] == unit and str(r["month"]).startswith(month)]
    return {c: sum(r[c] for r in rows) for c in ("received", "finished", "wd_sum", "in_flight__in", "in_flight__out")}


def test_spark_build_equals_duckdb_and_the_hand_worked_values(spark, fixture_lake):
    _, folder = fixture_lake
    report = aggregates_build.run("spark", folder / "lake", check=True, spark=spark, out=folder / "agg")
    assert report["engines"] == ["duckdb", "spark"]
    assert report["check"]["equal"], report["check"]
    n_open = fixture_lake[0].execute("SELECT count(*) FROM dossiers WHERE finished_date IS NULL").fetchone()[0]
    assert {t: r["rows"] for t, r in report["check"]["tables"].items()} == {
        "metrics_day": [29, 29], "metrics_month": [13, 13], "metrics_hist": [10, 10], "metrics_open": [n_open, n_open]}
    assert all(r["cells"] > 0 for r in report["check"]["tables"].values())
    # what Spark wrote (a folder of part files per table, as on a cluster), read back with pyarrow.
    # Phường Cửa Nam, February 2026: 8 received (D01-D08), 5 finished in 17 working days; in flight:
    # 8 entered on their receipt days, 6 left in February (5 finishes and D06's withdrawal)
    info = json.loads((folder / "agg" / "spark" / "BUILD.json").read_text())
    assert info["engine"] == "spark" and sorted(info["tables"]) == [
        "metrics_day", "metrics_hist", "metrics_month", "metrics_open"]
    assert all(f["path"].startswith(info["id"] + "/") and f["path"].endswith(".parquet")
               for t in info["tables"].values() for f in t["files"])
    month = read_build(folder / "agg" / "spark")["metrics_month"]
    assert _totals(month, "00073", "2026-02") == {
        "received": 8, "finished": 5, "wd_sum": 17, "in_flight__in": 8, "in_flight__out": 6}


def test_spark_follows_a_correction_of_an_old_month(spark, fixture_lake):
    con, folder = fixture_lake
    ingest_rows(con, folder, [d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00",
                                "2024-10-21 09:00", "completed", updated="2026-03-16 08:00")], "fix.csv")
    report = lake.export(con, folder / "lake")
    assert report["partitions_written"] == 1
    s, k = build_spark(folder / "lake", spark=spark), build_duckdb(folder / "lake")
    assert compare(k, s)["equal"]
    oct_ = [r for r in s["metrics_month"].to_pylist() if str(r["month"]).startswith("2024-10")]
    assert sum(r["wd_sum"] for r in oct_) == 14  # finished on 21 Oct, not 11 Oct: 8 + 6 working days


def test_the_writer_loads_the_spark_build(spark, fixture_lake, tmp_path):
    """Spark's committed build taken as the warehouse's aggregates, with a run after it applied: every cell
    equal to the warehouse's own full rebuild (the DuckDB side: tests/test_aggregates_load.py)."""
    from metrics.aggregates import refresh
    from metrics.aggregates_sql import TABLES

    con, folder = fixture_lake
    lake.export(con, folder / "lake")
    build_spark(folder / "lake", spark=spark, out=tmp_path / "agg")
    ingest_rows(con, folder, [d("D16", "00073", "DD-01", "online", "2026-03-13 10:00", "2026-03-27 17:00")], "new16.csv")
    refresh(con, full=True)
    expected = {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
    result = refresh(con, full=True, build=tmp_path / "agg" / "spark", require_build=True)
    assert (result["mode"], result["engine"], result["runs_after_build"]) == ("build", "spark", 1)
    check = compare(expected, {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES})
    assert check["equal"], check
