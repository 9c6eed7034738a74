"""Lake and aggregate-build benchmark: export, a one-month correction, and the build by DuckDB and Spark.

    python bench/bench_lake.py --warehouse COPY.duckdb [--repeat 3] [--spark-repeat 1] [--no-spark]

The warehouse is modified (one dossier corrected): pass a copy. Figures, each with its baseline named:
  lake export, full          baseline: the size of the warehouse file (what a publish copies today)
  lake export, nothing new   (manifest compared, nothing written)
  lake export, one old month corrected  (one dossier of the oldest month re-rated)
  aggregates build DuckDB / Spark local[*] from the lake, every cell compared between them
                             baseline: metrics.aggregates.refresh(full=True) inside the warehouse (DuckDB,
                             the tables the dashboard serves today), same run
  the warehouse loads the build (refresh(full=True, build=...): the tables replaced by the committed
                             build's files, checked equal cell for cell to the local full rebuild)
                             baseline: the same local full rebuild, same run
Medians with min–max over --repeat runs; the machine may be loaded (say so with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fig(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def _load(warehouse: Path, folder: Path, repeat: int) -> dict:
    """The warehouse takes the committed build as its aggregates (what the writer does on a full rebuild with
    R57_AGGREGATES_BUILD set, and `aggregates load`), timed; then every cell compared with a local rebuild."""
    import duckdb

    from metrics.aggregates import refresh
    from metrics.aggregates_build import compare
    from metrics.aggregates_sql import TABLES

    con = duckdb.connect(str(warehouse))
    try:
        times, result = [], {}
        for _ in range(repeat):
            t = time.perf_counter()
            result = refresh(con, full=True, build=folder, require_build=True)
            times.append(time.perf_counter() - t)
        loaded = {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
        refresh(con, full=True)
        check = compare(loaded, {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES})
    finally:
        con.close()
    return {"seconds": _fig(times), "mode": result.get("mode"), "runs_after_build": result.get("runs_after_build"),
            "equal_to_local_rebuild": check["equal"],
            "mismatches": sum(r["mismatches"] for r in check["tables"].values())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", required=True, type=Path, help="a COPY of a warehouse (it is modified)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--spark-repeat", type=int, default=1)
    ap.add_argument("--no-spark", action="store_true")
    args = ap.parse_args()

    import duckdb

    import lake
    from metrics.aggregates import refresh
    from metrics.aggregates_build import build_duckdb, build_spark, compare, spark_session

    work = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    root = work / "lake"
    out: dict = {"warehouse_bytes": args.warehouse.stat().st_size}
    con = duckdb.connect(str(args.warehouse))
    out["dossiers"] = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    full = lake.export(con, root)
    out["export_full"] = {k: full[k] for k in ("partitions_written", "bytes_written", "seconds")}
    noop = [lake.export(con, root) for _ in range(args.repeat)]
    out["export_nothing_new"] = {"bytes_written": noop[-1]["bytes_written"], "seconds": _fig([r["seconds"] for r in noop])}
    fixes = []
    for i in range(args.repeat):
        con.execute(f"""UPDATE dossiers SET rating = {1 + i % 5}, updated_at = updated_at + INTERVAL 1 SECOND
                        WHERE dossier_id = (SELECT min(dossier_id) FROM dossiers
                                            WHERE received_date < (SELECT min(received_date) + 20 FROM dossiers))""")
        fixes.append(lake.export(con, root))
    out["export_one_old_month"] = {"partitions_written": [r["partitions_written"] for r in fixes],
                                   "bytes_written": [r["bytes_written"] for r in fixes],
                                   "seconds": _fig([r["seconds"] for r in fixes])}
    out["lake_bytes"] = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    assert lake.verify(root) == []

    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        refresh(con, full=True)
        times.append(time.perf_counter() - t)
    out["baseline_refresh_full_in_warehouse"] = _fig(times)
    con.close()

    times = []
    agg = work / "agg"
    for _ in range(args.repeat):
        t = time.perf_counter()
        duck = build_duckdb(root, out=agg)  # written and committed (BUILD.json), as a cluster's job does
        times.append(time.perf_counter() - t)
    out["build_duckdb"] = _fig(times)
    out["rows"] = {t: v.num_rows for t, v in duck.items()}
    out["load_duckdb_build"] = _load(args.warehouse, agg / "duckdb", args.repeat)
    if not args.no_spark:
        t = time.perf_counter()
        spark = spark_session("local[*]", shuffle_partitions=os.cpu_count() or 2)
        spark.sparkContext.setLogLevel("ERROR")
        out["spark_session_start_s"] = round(time.perf_counter() - t, 2)
        times = []
        for _ in range(args.spark_repeat):
            t = time.perf_counter()
            sp = build_spark(root, spark=spark, out=agg)
            times.append(time.perf_counter() - t)
        spark.stop()
        out["build_spark_local"] = _fig(times)
        check = compare(duck, sp)
        out["check"] = {"equal": check["equal"],
                        "cells": sum(r["cells"] for r in check["tables"].values()),
                        "mismatches": sum(r["mismatches"] for r in check["tables"].values())}
        out["load_spark_build"] = _load(args.warehouse, agg / "spark", 1)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
