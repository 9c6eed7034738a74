"""The aggregate build over the lake, by DuckDB or Apache Spark, and the cell-by-cell check between them.

Both engines run the same SQL (metrics.aggregates_sql) over the same files (the lake manifest's, read once);
the results are Arrow tables. Given an output folder, a build is written as Parquet and committed:

    <out>/<engine>/build-<id>/<table>/part-*.parquet   Spark writes a folder of part files, as on a cluster;
                                                       DuckDB one file in such a folder
    <out>/<engine>/BUILD.json                          swapped in last (os.replace): the build's id, engine,
                                                       the lake generation and data version it read, the
                                                       measure definitions and procedure catalogue it used,
                                                       and every file with its rows and bytes

A reader (the writer taking a build as its aggregates, metrics.aggregates_load) opens BUILD.json and exactly
the files it names; the current and the previous build stay, older ones are deleted after the swap.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

import clock
from sqltext import identifier

from .aggregates import CATALOGUE_SQL, definition_version
from .aggregates_sql import KEYS, TABLES, build_sql
from .registry import Registry, get_registry

ENGINES = ("duckdb", "spark")
TOLERANCE = 1e-9
JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")  # Debian's openjdk-17-jre-headless
BUILD_FILE = "BUILD.json"
BUILD_FORMAT = 1


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


def catalogue_fingerprint(lake_dir: Path, manifest: dict) -> str:
    """The procedure catalogue's fingerprint (metrics.aggregates.CATALOGUE_SQL) over the lake's reference file."""
    from lake import duckdb_views

    con = duckdb.connect()
    try:
        duckdb_views(con, lake_dir, manifest)
        return con.execute(CATALOGUE_SQL).fetchall()[0][0]
    finally:
        con.close()


def _commit(out: Path, engine: str, build_id: str, lake_dir: Path, manifest: dict, reg: Registry,
            files: dict[str, list[Path]], rows: dict[str, int], seconds: float) -> dict:
    """Swap in `<out>/<engine>/BUILD.json` naming this build's files; delete builds older than the previous."""
    from lake.store import fsync_path

    engine_dir = Path(out).resolve() / engine
    info = {
        "format": BUILD_FORMAT, "id": build_id, "engine": engine,
        "built_at": clock.utc().isoformat(timespec="seconds"), "seconds": round(seconds, 3),
        "definition_version": definition_version(reg),
        "catalogue": catalogue_fingerprint(lake_dir, manifest),
        "lake": {"path": str(Path(lake_dir).resolve()), "generation": manifest.get("generation"),
                 "data_version": manifest.get("data_version")},
        "tables": {t: {"rows": int(rows[t]),
                       "files": [{"path": f.relative_to(engine_dir).as_posix(), "bytes": f.stat().st_size}
                                 for f in files[t]]} for t in TABLES},
    }
    for fs in files.values():
        for f in fs:
            fsync_path(f)
    with FileLock(str(engine_dir / ".lock")):
        try:
            previous = json.loads((engine_dir / BUILD_FILE).read_text(encoding="utf-8")).get("id")
        except (FileNotFoundError, ValueError, AttributeError):
            previous = None
        tmp = engine_dir / f".{BUILD_FILE}.tmp-{os.getpid()}"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(info, indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, engine_dir / BUILD_FILE)
        fsync_path(engine_dir)
        for old in engine_dir.glob("build-*"):
            if old.name not in (build_id, previous):
                shutil.rmtree(old, ignore_errors=True)
    return info


def build_duckdb(lake_dir: Path, reg: Registry | None = None, out: Path | None = None,
                 threads: int | None = None, manifest: dict | None = None) -> dict[str, pa.Table]:
    """The tables by DuckDB; with `out`, also written and committed under `<out>/duckdb/`."""
    from lake import duckdb_views
    from warehouse.db import apply_limits

    reg = reg or get_registry()
    started = time.perf_counter()
    con = apply_limits(duckdb.connect())  # R57_DUCKDB_MEMORY / R57_DUCKDB_THREADS; `threads` overrides
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        manifest = duckdb_views(con, lake_dir, manifest)
        cols = [c for c, _ in manifest["columns"]]
        build_id = "build-" + uuid.uuid4().hex[:12]
        result, files = {}, {}
        for table in TABLES:
            result[table] = con.sql(build_sql(reg, table, cols)).to_arrow_table()
            if out is not None:
                folder = Path(out).resolve() / "duckdb" / build_id / table
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(result[table], folder / "part-0.parquet")
                files[table] = [folder / "part-0.parquet"]
    finally:
        con.close()
    if out is not None:
        _commit(out, "duckdb", build_id, lake_dir, manifest, reg, files,
                {t: r.num_rows for t, r in result.items()}, time.perf_counter() - started)
    return result


def build_spark(lake_dir: Path, reg: Registry | None = None, out: Path | None = None,
                spark=None, manifest: dict | None = None) -> dict[str, pa.Table]:
    """The tables by Spark; with `out`, written by Spark (as on a cluster) and committed under `<out>/spark/`."""
    from lake import read_manifest, spark_views

    reg = reg or get_registry()
    started = time.perf_counter()
    manifest = manifest or read_manifest(lake_dir)
    own = spark is None
    spark = spark or spark_session()
    build_id = "build-" + uuid.uuid4().hex[:12]
    try:
        spark_views(spark, lake_dir, manifest)
        cols = [c for c, _ in manifest["columns"]]
        result, files = {}, {}
        for table in TABLES:
            df = spark.sql(build_sql(reg, table, cols))
            if out is None:
                result[table] = df.toArrow()
                continue
            # written by Spark, then read back from the files: the query runs once
            folder = Path(out).resolve() / "spark" / build_id / table
            df.write.mode("errorifexists").parquet(str(folder))
            files[table] = sorted(folder.glob("part-*.parquet"))
            result[table] = pq.read_table(files[table]) if files[table] else df.limit(0).toArrow()
    finally:
        if own:
            spark.stop()
    if out is not None:
        _commit(out, "spark", build_id, lake_dir, manifest, reg, files,
                {t: r.num_rows for t, r in result.items()}, time.perf_counter() - started)
    return result


def read_build(folder: Path) -> dict[str, pa.Table]:
    """The tables of the build committed in `folder` (`<out>/<engine>`), from exactly the files BUILD.json names."""
    folder = Path(folder)
    info = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    return {t: pq.read_table([folder / f["path"] for f in section["files"]]) for t, section in info["tables"].items()}


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
    from lake import read_manifest

    lake_dir = Path(lake_dir)
    manifest = read_manifest(lake_dir)  # once: both engines read the same generation
    engines = ENGINES if check else (engine,)
    results, seconds = {}, {}
    for e in engines:
        started = time.perf_counter()
        if e == "duckdb":
            results[e] = build_duckdb(lake_dir, out=out, manifest=manifest)
        else:
            results[e] = build_spark(lake_dir, out=out, spark=spark, manifest=manifest)
        seconds[e] = round(time.perf_counter() - started, 3)
    report = {
        "lake": str(lake_dir),
        "generation": manifest.get("generation"),
        "engines": list(engines),
        "seconds": seconds,
        "tables": {e: {t: r[t].num_rows for t in TABLES} for e, r in results.items()},
    }
    if out is not None:
        report["out"] = str(out)
        report["builds"] = {e: str(Path(out).resolve() / e / BUILD_FILE) for e in engines}
    if check:
        report["check"] = compare(results["duckdb"], results["spark"])
    return report
