"""National benchmark (a script, not a test): the aggregate build by DuckDB and Spark over a national lake,
every cell compared, and the overview on the national serving snapshot.

    python app.py demo --warehouse W --provinces 34 --days 365 --per-day 10300   # ~99 M dossiers
    python bench/bench_national.py --warehouse W [--reps 15] [--no-spark] [--no-baseline]
    python bench/bench_national.py --warehouse W --first-export NEW_DIR   # a first publication's lake export

The warehouse must have been published (the demo does it: its lake is <W>.lake, its serving snapshot in
<W>.snapshots). Read-only: the lake and the warehouse are not changed; the builds write under --out.
Figures, each with its baseline named:
  aggregates build, DuckDB and Spark local[*], same run, both --out (Parquet): seconds each, rows per
    table; then every cell compared (metrics.aggregates_build.compare) - the baseline of each is the other
  city overview (every non-auxiliary KPI, 13 months) on the serving snapshot: warm (memo of past months
    full) and memo of past months empty, 15 interleaved rounds, beside the competent bare SQL
    (bench/baseline_sql.py, checked equal first) over the same snapshot's dossiers (the lake's files)
DuckDB limits: the DuckDB build gets every core (--build-threads), as Spark local[*] does, and
R57_DUCKDB_MEMORY (give Spark the same: PYSPARK_SUBMIT_ARGS="--driver-memory 8g pyspark-shell"); the
overview runs as a web worker does (R57_DUCKDB_THREADS, default half the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fig(xs: list[float]) -> str:
    return f"{statistics.median(xs):,.1f} (min {min(xs):,.1f}, max {max(xs):,.1f}, n={len(xs)})"


def builds(lake_dir: Path, out: Path, spark: bool, threads: int) -> dict:
    from metrics.aggregates_build import build_duckdb, build_spark, compare, read_build, spark_session

    res: dict = {}
    t = time.perf_counter()
    build_duckdb(lake_dir, out=out, threads=threads)
    res["duckdb_threads"] = threads
    res["duckdb_s"] = round(time.perf_counter() - t, 1)
    if not spark:
        return res
    t = time.perf_counter()
    session = spark_session("local[*]", shuffle_partitions=os.cpu_count() or 2)
    session.sparkContext.setLogLevel("ERROR")
    res["spark_session_start_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    try:
        build_spark(lake_dir, out=out, spark=session)
    finally:
        session.stop()
    res["spark_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    a, b = read_build(out / "duckdb"), read_build(out / "spark")  # the files each BUILD.json names
    check = compare(a, b)
    res["compare_s"] = round(time.perf_counter() - t, 1)
    res["rows"] = {tb: r["rows"] for tb, r in check["tables"].items()}
    res["check"] = {"equal": check["equal"], "cells": sum(r["cells"] for r in check["tables"].values()),
                    "mismatches": sum(r["mismatches"] for r in check["tables"].values()),
                    "examples": [e for r in check["tables"].values() for e in r["examples"]][:6]}
    return res


def first_export(warehouse: Path, out: Path) -> dict:
    """What a first publication does to the lake, at the writer's settings: every partition and aggregate month
    exported into the new folder `out` from the writer's connection (the warehouse must not be open elsewhere).
    Reported: seconds, what the export says it wrote, what the process wrote (/proc/self/io, spill included)."""
    import resource

    from config import load_settings
    from lake import store
    from warehouse.db import open_writer

    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: a first export needs a new folder")

    def written() -> int:
        with open("/proc/self/io") as fh:
            return int(dict(line.split(": ") for line in fh.read().splitlines())["write_bytes"])

    con = open_writer(load_settings(warehouse=warehouse))
    try:
        limits = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]
        w0, t = written(), time.perf_counter()
        r = store.export(con, out, incremental=True, aggregates=True)
        secs, w = time.perf_counter() - t, written() - w0
    finally:
        con.close()
    return {"duckdb": limits, "batch_rows": store.BATCH_ROWS, "seconds": round(secs, 1),
            "partitions": r["partitions_written"], "aggregate_files": r["aggregate_files_written"],
            "lake_bytes_written": r["bytes_written"], "process_bytes_written": w,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def overview(warehouse: Path, reps: int, baseline: bool) -> dict:
    import metrics.engine
    from bench import baseline_sql
    from bench.bench_metrics import SPREAD, first_month, interleaved, overview_metrics
    from config import load_settings
    from warehouse.db import connect, current_snapshot

    settings = load_settings(warehouse=warehouse)
    snap = current_snapshot(settings)
    if snap is None:
        sys.exit(f"{warehouse} has no serving snapshot: publish it first (the demo does)")
    con = connect(snap, settings, read_only=True)
    res: dict = {"snapshot_bytes": Path(snap).stat().st_size,
                 "duckdb": con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]}
    res["dossiers"], res["units"] = con.execute("SELECT count(*), count(DISTINCT unit_code) FROM dossiers").fetchall()[0]
    now = con.execute("SELECT max(greatest(received_at, coalesce(completed_at, received_at))) FROM dossiers"
                      ).fetchall()[0][0] + timedelta(minutes=5)
    res["now"] = str(now)

    metrics.engine._PAST.items.clear()
    t = time.perf_counter()
    overview_metrics(con, now)  # the first after opening: DuckDB's caches cold too
    res["first_ms"] = round((time.perf_counter() - t) * 1000, 1)
    both = interleaved({"warm": lambda: overview_metrics(con, now), "memo_empty:cold": lambda: overview_metrics(con, now)},
                       reps)
    res["warm_ms"], res["memo_empty_ms"] = (f"{both[k]:,.1f} (min {SPREAD[both[k]][0]:,.1f}, max {SPREAD[both[k]][1]:,.1f}, "
                                            f"n={reps})" for k in ("warm", "memo_empty:cold"))
    if baseline:
        compared, equal, notes = baseline_sql.check(con, overview_metrics(con, now), first_month(now), now)
        res["baseline_checked"] = f"{equal} of {compared} values equal"
        if compared and equal == compared:
            xs = []
            for _ in range(3):
                t = time.perf_counter()
                baseline_sql.overview(con, first_month(now), now)
                xs.append((time.perf_counter() - t) * 1000)
            res["baseline_ms"] = _fig(xs)
            res["memo_empty_x"] = round(statistics.median(xs) / both["memo_empty:cold"], 1)
        else:
            res["baseline_notes"] = notes[:5]
    con.close()
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True, type=Path)
    ap.add_argument("--lake", type=Path, default=None, help="default the warehouse's own (R57_LAKE or <warehouse>.lake)")
    ap.add_argument("--out", type=Path, default=None, help="where the builds write (default a temporary folder)")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--build-threads", type=int, default=os.cpu_count() or 1,
                    help="DuckDB threads for the build (default every core, as Spark local[*] gets)")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--first-export", type=Path, default=None, metavar="DIR",
                    help="only this: a first publication's lake export into the new folder DIR, at the writer's settings")
    args = ap.parse_args()
    from config import load_settings

    lake_dir = args.lake or load_settings(warehouse=args.warehouse).lake_dir
    report: dict = {"lake": str(lake_dir)}
    if args.first_export:
        report["first_export"] = first_export(args.warehouse, args.first_export)
        print(json.dumps(report, indent=1, default=str))
        print("baseline: the same command on the previous code (git checkout), into another new folder")
        return 0
    if not args.no_build:
        out = args.out or Path(tempfile.mkdtemp(prefix="bench-national-"))
        report["build"] = builds(lake_dir, out, spark=not args.no_spark, threads=args.build_threads)
    report["overview"] = overview(args.warehouse, args.reps, baseline=not args.no_baseline)
    print(json.dumps(report, indent=1, default=str))
    print("baselines: the Spark build against the DuckDB build (same SQL, same files, every cell compared); the "
          "overview against bench/baseline_sql.py (3 hand-written queries over the raw dossiers, checked equal)")
    return 0 if report.get("build", {}).get("check", {}).get("equal", True) else 1


if __name__ == "__main__":
    sys.exit(main())
