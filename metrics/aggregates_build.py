"""The aggregate build over the lake, by DuckDB or Apache Spark, and the cell-by-cell check between them.

Both engines run the same SQL (metrics.aggregates_sql) over the same files (the lake manifest's); the
results are Arrow tables, written as Parquet when an output folder is given: `<out>/<engine>/<table>/`
(Spark writes a folder of part files, as it does on a cluster; DuckDB one file in such a folder).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .aggregates_sql import KEYS, TABLES, build_sql
from .registry import Registry, get_registry

ENGINES = ("duckdb", "spark")
TOLERANCE = 1e-9
JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")  # Debian's openjdk-17-jre-headless


def spark_session(master: str = "local[*]", shuffle_partitions: int = 4):
    """A Spark session for the build: local mode unless `master` names a cluster (spark://, yarn, k8s://)."""
    if "JAVA_HOME" not in os.environ and JAVA_17.is_dir():
        os.environ["JAVA_HOME"] = str(JAVA_17)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName("r57-aggregates")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            # the lake's times are naive local times: read and cast them without any zone shift
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .getOrCreate())


def build_duckdb(lake_dir: Path, reg: Registry | None = None, out: Path | None = None,
                 threads: int | None = None) -> dict[str, pa.Table]:
    from lake import duckdb_views
    from warehouse.db import apply_limits

    reg = reg or get_registry()
    con = apply_limits(duckdb.connect())  # R57_DUCKDB_MEMORY / R57_DUCKDB_THREADS; `threads` overrides
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        cols = [c for c, _ in duckdb_views(con, lake_dir)["columns"]]
        result = {}
        for table in TABLES:
            result[table] = con.sql(build_sql(reg, table, cols)).to_arrow_table()
            if out is not None:
                folder = Path(out) / "duckdb" / table
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(result[table], folder / "part-0.parquet")
        return result
    finally:
        con.close()


def build_spark(lake_dir: Path, reg: Registry | None = None, out: Path | None = None,
                spark=None) -> dict[str, pa.Table]:
    from lake import spark_views

    reg = reg or get_registry()
    own = spark is None
    spark = spark or spark_session()
    try:
        cols = [c for c, _ in spark_views(spark, lake_dir)["columns"]]
        result = {}
        for table in TABLES:
            df = spark.sql(build_sql(reg, table, cols))
            if out is None:
                result[table] = df.toArrow()
                continue
            # written by Spark (as on a cluster), then read back from the files: the query runs once
            folder = Path(out).resolve() / "spark" / table
            df.write.mode("overwrite").parquet(str(folder))
            result[table] = pq.read_table(folder)
        return result
    finally:
        if own:
            spark.stop()


def _frame(t: pa.Table, keys: tuple[str, ...]):
    df = t.to_pandas()
    for k in keys:  # dates, codes and NULLs compared as text: both engines' keys in one form
        df[k] = df[k].map(lambda v: None if v is None or v != v else str(v))
    return df.sort_values(list(keys), na_position="first").reset_index(drop=True)


def _numeric(col) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _text(v) -> str | None:
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    return str(v)


def compare(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> dict:
    """Every cell of every table: the same keys on both sides, numbers equal within 1e-9 (relative past 1)."""
    out = {"equal": True, "tables": {}}
    for table in TABLES:
        keys = KEYS[table]
        x, y = _frame(a[table], keys), _frame(b[table], keys)
        res = {"rows": [len(x), len(y)], "cells": 0, "mismatches": 0, "examples": []}
        if list(x.columns) != list(y.columns):
            res["examples"].append(f"columns differ: {list(x.columns)} vs {list(y.columns)}")
            res["mismatches"] += 1
        else:
            merged = x.merge(y, on=list(keys), how="outer", suffixes=("_a", "_b"), indicator=True)
            lonely = merged[merged["_merge"] != "both"]
            dup = x.duplicated(list(keys)).sum() + y.duplicated(list(keys)).sum()
            res["mismatches"] += len(lonely) + int(dup)
            res["examples"] += [f"key {tuple(r[k] for k in keys)} only in {'duckdb' if r['_merge'] == 'left_only' else 'spark'}"
                                for _, r in lonely.head(3).iterrows()]
            both = merged[merged["_merge"] == "both"]
            for c in [c for c in x.columns if c not in keys]:
                if _numeric(x[c]) and _numeric(y[c]):
                    va, vb = both[f"{c}_a"].to_numpy(dtype=float), both[f"{c}_b"].to_numpy(dtype=float)
                    bad = ~((np.abs(va - vb) <= TOLERANCE * np.maximum(1.0, np.abs(va))) | (np.isnan(va) & np.isnan(vb)))
                else:  # text, dates, times, flags (metrics_open): equal as text, NULL only with NULL
                    va = np.array([_text(v) for v in both[f"{c}_a"]], dtype=object)
                    vb = np.array([_text(v) for v in both[f"{c}_b"]], dtype=object)
                    bad = np.array([p != q for p, q in zip(va, vb, strict=True)], dtype=bool)
                res["cells"] += len(va) + len(keys) * 0
                res["mismatches"] += int(bad.sum())
                for i in np.flatnonzero(bad)[:3]:
                    res["examples"].append(f"{c} at {tuple(both.iloc[i][k] for k in keys)}: {va[i]} vs {vb[i]}")
            res["cells"] += len(both) * len(keys)
        out["tables"][table] = res
        out["equal"] = out["equal"] and res["mismatches"] == 0
    return out


def run(engine: str, lake_dir: Path, check: bool = False, out: Path | None = None, spark=None) -> dict:
    """What `python app.py aggregates build` prints: rows per table, seconds per engine, the check."""
    lake_dir = Path(lake_dir)
    engines = ENGINES if check else (engine,)
    results, seconds = {}, {}
    for e in engines:
        started = time.perf_counter()
        if e == "duckdb":
            results[e] = build_duckdb(lake_dir, out=out)
        else:
            results[e] = build_spark(lake_dir, out=out, spark=spark)
        seconds[e] = round(time.perf_counter() - started, 3)
    report = {
        "lake": str(lake_dir),
        "engines": list(engines),
        "seconds": seconds,
        "tables": {e: {t: r[t].num_rows for t in TABLES} for e, r in results.items()},
    }
    if out is not None:
        report["out"] = str(out)
    if check:
        report["check"] = compare(results["duckdb"], results["spark"])
    return report
