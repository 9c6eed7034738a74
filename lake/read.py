"""Reading the lake: the manifest, its check against the files, and the views both engines compute over.

A reader loads `manifest.json` once and opens exactly the files it names, never a folder glob: the
folder may also hold the files of the previous generation (kept for readers that are still on it) and,
after a crash, orphans of an unfinished export.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqltext import literal

from .store import MANIFEST, _sha256

HIVE_TYPES = "{'province': VARCHAR, 'month': VARCHAR}"


class LakeError(RuntimeError):
    """No lake at that folder, or one that cannot be read."""


def read_manifest(root: Path) -> dict:
    """The manifest, checked: every file it names lies inside the lake (relative, no '..')."""
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeError(f"no lake at {root}: run `python app.py lake export --out {root}` first") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise LakeError(f"{path} is not a lake manifest ({exc})") from None
    try:
        names = [f["path"] for p in manifest["partitions"] for f in p["files"]]
        names += [r["path"] for r in manifest.get("reference", {}).values()]
        manifest["columns"]  # noqa: B018 - its presence is part of the check
    except (KeyError, TypeError) as exc:
        raise LakeError(f"{path} is not a lake manifest (missing {exc})") from None
    bad = [n for n in names if not isinstance(n, str) or Path(n).is_absolute() or ".." in Path(n).parts]
    if bad:
        raise LakeError(f"{path} names files outside the lake: {bad[:3]}")
    return manifest


def data_files(root: Path, manifest: dict) -> list[str]:
    return [str(Path(root) / f["path"]) for p in manifest["partitions"] for f in p["files"]]


def verify(root: Path, manifest: dict | None = None) -> list[str]:
    """Problems between the manifest and the files (empty: they agree): every named file exists with
    its size and SHA-256, and the Parquet row counts of each partition add up to its `rows`."""
    import pyarrow.parquet as pq

    root = Path(root)
    manifest = manifest or read_manifest(root)
    problems = []
    entries = [(p, f) for p in manifest["partitions"] for f in p["files"]]
    entries += [(r, r) for r in manifest.get("reference", {}).values()]
    counted: dict[int, int] = {}
    for owner, f in entries:
        path = root / f["path"]
        if not path.is_file():
            problems.append(f"{f['path']}: missing")
            continue
        if path.stat().st_size != f["bytes"] or _sha256(path) != f["sha256"]:
            problems.append(f"{f['path']}: content differs from the manifest")
            continue
        counted[id(owner)] = counted.get(id(owner), 0) + pq.ParquetFile(path).metadata.num_rows
    for owner in [*manifest["partitions"], *manifest.get("reference", {}).values()]:
        if id(owner) in counted and counted[id(owner)] != owner["rows"]:
            problems.append(f"{owner.get('path') or owner['province'] + '/' + owner['month']}: "
                            f"{counted[id(owner)]} rows in the files, {owner['rows']} in the manifest")
    return problems


def _columns(manifest: dict) -> list[str]:
    return [c for c, _ in manifest["columns"]]


def duckdb_views(con, root: Path, manifest: dict | None = None) -> dict:
    """Create temp views `dossiers` (the lake's rows, plus `province`) and `procedures` on a DuckDB connection."""
    root = Path(root)
    manifest = manifest or read_manifest(root)
    files = data_files(root, manifest)
    if not files:
        raise LakeError(f"the lake at {root} holds no dossiers")
    listed = ", ".join(literal(f) for f in files)
    cols = ", ".join(_columns(manifest))
    con.execute(f"CREATE OR REPLACE TEMP VIEW dossiers AS SELECT {cols}, province FROM "
                f"read_parquet([{listed}], hive_partitioning = true, hive_types = {HIVE_TYPES})")
    for table, ref in manifest.get("reference", {}).items():
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet({literal(root / ref['path'])})")
    return manifest


def spark_views(spark, root: Path, manifest: dict | None = None) -> dict:
    """The same views as Spark temp views: the manifest's files read with the lake as base path."""
    root = Path(root).resolve()
    manifest = manifest or read_manifest(root)
    files = data_files(root, manifest)
    if not files:
        raise LakeError(f"the lake at {root} holds no dossiers")
    # partition values are codes ('01', '2024-07'), never numbers
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    df = spark.read.option("basePath", str(root)).parquet(*files)
    df.select(*_columns(manifest), "province").createOrReplaceTempView("dossiers")
    for table, ref in manifest.get("reference", {}).items():
        spark.read.parquet(str(root / ref["path"])).createOrReplaceTempView(table)
    return manifest
