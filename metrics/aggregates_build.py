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
import pyarrow as pa
import pyarrow.parquet as pq

from sqltext import identifier

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


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _bad_sql(c: str, numeric: bool) -> str:
    """1 where the two sides' cell differs: numbers within TOLERANCE (relative past 1; NULL and NaN alike),
    anything else as text, NULL only with NULL."""
    a, b = f"a_{c}", f"b_{c}"
    if numeric:
        a, b = f"CAST({identifier(a)} AS DOUBLE)", f"CAST({identifier(b)} AS DOUBLE)"
        na, nb = f"({a} IS NULL OR isnan({a}))", f"({b} IS NULL OR isnan({b}))"
        return (f"CASE WHEN {na} AND {nb} THEN 0 WHEN {na} OR {nb} THEN 1 "
                f"WHEN abs({a} - {b}) <= {TOLERANCE!r} * greatest(1.0, abs({a})) THEN 0 ELSE 1 END")
    return f"CASE WHEN CAST({identifier(a)} AS VARCHAR) IS DISTINCT FROM CAST({identifier(b)} AS VARCHAR) THEN 1 ELSE 0 END"


def compare(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> dict:
    """Every cell of every table: the same keys on both sides (compared as text, NULL with NULL), numbers
    equal within 1e-9 (relative past 1), other columns equal as text. Joined and counted in DuckDB, so a
    national build's millions of rows are compared in seconds, not cell by cell in Python."""
    from warehouse.db import apply_limits

    out = {"equal": True, "tables": {}}
    con = apply_limits(duckdb.connect())  # R57_DUCKDB_MEMORY / R57_DUCKDB_THREADS: spills past the limit
    try:
        for table in TABLES:
            keys = KEYS[table]
            x, y = a[table], b[table]
            res = {"rows": [x.num_rows, y.num_rows], "cells": 0, "mismatches": 0, "examples": []}
            if x.column_names != y.column_names:
                res["examples"].append(f"columns differ: {x.column_names} vs {y.column_names}")
                res["mismatches"] += 1
                out["tables"][table] = res
                out["equal"] = False
                continue
            con.register("_x", x)
            con.register("_y", y)
            values = [c for c in x.column_names if c not in keys]
            ktext = ", ".join(f"CAST({identifier(k)} AS VARCHAR) AS {identifier('k_' + k)}" for k in keys)
            for side, src in (("a", "_x"), ("b", "_y")):
                cols = ", ".join(f"{identifier(c)} AS {identifier(side + '_' + c)}" for c in values)
                con.execute(f"CREATE OR REPLACE TEMP VIEW _{side} AS SELECT {ktext}, {cols + ', ' if cols else ''}"
                            f"true AS {identifier(side + '__present')} FROM {src}")
                res["mismatches"] += con.execute(
                    f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT {', '.join(identifier('k_' + k) for k in keys)} "
                    f"FROM _{side})) FROM _{side}").fetchall()[0][0]
            on = " AND ".join(f"_a.{identifier('k_' + k)} IS NOT DISTINCT FROM _b.{identifier('k_' + k)}" for k in keys)
            kout = ", ".join(f"coalesce(_a.{identifier('k_' + k)}, _b.{identifier('k_' + k)}) AS {identifier('k_' + k)}" for k in keys)
            con.execute(f"CREATE OR REPLACE TEMP VIEW _j AS SELECT {kout}, _a.* EXCLUDE ({', '.join(identifier('k_' + k) for k in keys)}), "
                        f"_b.* EXCLUDE ({', '.join(identifier('k_' + k) for k in keys)}) FROM _a FULL OUTER JOIN _b ON {on}")
            kt = ", ".join(identifier("k_" + k) for k in keys)
            numeric = {c: _is_number(x.schema.field(c).type) and _is_number(y.schema.field(c).type) for c in values}
            matched = '"a__present" AND "b__present"'
            sums = "".join(f", sum({_bad_sql(c, numeric[c])}) FILTER (WHERE {matched})" for c in values)
            row = con.execute(f'SELECT count(*) FILTER (WHERE "a__present" IS NULL OR "b__present" IS NULL), '
                              f"count(*) FILTER (WHERE {matched}){sums} FROM _j").fetchall()[0]
            lonely, n_both, bad = row[0], row[1], [int(v or 0) for v in row[2:]]
            res["mismatches"] += lonely
            if lonely:
                for r in con.execute(f'SELECT {kt}, "a__present" FROM _j WHERE "a__present" IS NULL '
                                     f'OR "b__present" IS NULL ORDER BY ALL LIMIT 3').fetchall():
                    res["examples"].append(f"key {tuple(r[:-1])} only in {'duckdb' if r[-1] else 'spark'}")
            both = f"FROM _j WHERE {matched}"
            res["cells"] = n_both * (len(values) + len(keys))
            for c, nbad in zip(values, bad, strict=True):
                res["mismatches"] += nbad
                if nbad:
                    for r in con.execute(f"SELECT {kt}, {identifier('a_' + c)}, {identifier('b_' + c)} {both} AND "
                                         f"{_bad_sql(c, numeric[c])} = 1 ORDER BY ALL LIMIT 3").fetchall():
                        res["examples"].append(f"{c} at {tuple(r[:len(keys)])}: {r[-2]} vs {r[-1]}")
            con.unregister("_x")
            con.unregister("_y")
            out["tables"][table] = res
            out["equal"] = out["equal"] and res["mismatches"] == 0
    finally:
        con.close()
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
