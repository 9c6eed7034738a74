"""The serving snapshot: what readers open, written in proportion to what changed (issue 13, item 1).

A publication used to copy the whole warehouse file (0.65 GB at 10 M dossiers, every 30 s tick). Now it
writes two things:

- the **dossier lake** (`lake/`, Hive-partitioned Parquet by province and month of receipt): only the
  partitions the runs since the last publication touched are rewritten, under new names, behind an
  atomically swapped manifest;
- a **serving snapshot**, a new small DuckDB file holding every table of the warehouse except the dossiers
  (aggregates, open dossiers, reference data, runs, quarantine) and a view `dossiers` over exactly the
  lake files the manifest names. Readers open it read-only as before and query `dossiers` as before.

Order is the safety: lake files first (new names, never rewritten), then the manifest swap, then the
snapshot, renamed into place, then `CURRENT`. A crash before the rename leaves `CURRENT` on the previous
snapshot, whose files are all still there: garbage collection keeps every file named by a snapshot still
on disk (its `.lake.json` sidecar), and the writer's next start removes half-written files.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb

from sqltext import literal

SIDE = ".lake.json"          # beside wh-<ns>.duckdb: the lake files that snapshot reads
# read from the lake (a view over the files the manifest names), or the writer's own bookkeeping; the
# aggregate tables too once the manifest holds them (aggregate_views)
SKIP_TABLES = ("dossiers", "metrics_months_changed", "dossier_replaced")
BLOCK_SIZE = 16384  # DuckDB's smallest: a table takes at least one block, and these tables are small


def sidecar(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.stem + SIDE)


def files_in_use(snap_dir: Path) -> set[str]:
    """Lake files (relative) named by any serving snapshot still on disk."""
    used: set[str] = set()
    for side in snap_dir.glob(f"wh-*{SIDE}"):
        try:
            used.update(json.loads(side.read_text(encoding="utf-8"))["files"])
        except (FileNotFoundError, ValueError, KeyError):  # pruned meanwhile, or half-written by a dead writer
            continue
    return used


def dossiers_view_sql(lake_root: Path, manifest: dict) -> str:
    """The view readers query as `dossiers`: the warehouse's columns and types, from the named files only."""
    files = [f["path"] for p in manifest["partitions"] for f in p["files"]]
    return _view_sql(lake_root, manifest["columns"], files)


def aggregate_views(lake_root: Path, manifest: dict) -> dict[str, str]:
    """table -> the SELECT of its view, for the aggregate tables the manifest holds."""
    section = manifest.get("aggregates")
    if not section:
        return {}
    return {t: _view_sql(lake_root, section["columns"][t],
                         [f["path"] for m in sorted(months) for f in months[m]["files"]])
            for t, months in section["tables"].items()}


def _view_sql(lake_root: Path, cols: list, rel_files: list[str]) -> str:
    files = [str(Path(lake_root).resolve() / f) for f in rel_files]
    select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in cols)
    if not files:  # no row yet: an empty relation of the same shape
        nulls = ", ".join(f'NULL AS "{c}"' for c, _ in cols)
        return f"SELECT {select} FROM (SELECT {nulls}) WHERE false"
    listed = ", ".join(literal(f) for f in files)
    return f"SELECT {select} FROM read_parquet([{listed}], hive_partitioning = false)"


def write_snapshot(con: duckdb.DuckDBPyConnection, target: Path, lake_root: Path, manifest: dict) -> None:
    """Write the serving snapshot to `target` (a temporary name; the caller renames it into place)."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT temporary ORDER BY table_name").fetchall() if r[0] not in SKIP_TABLES]
    views = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT internal AND NOT temporary ORDER BY view_oid").fetchall()
    lake_views = aggregate_views(lake_root, manifest)
    tables = [t for t in tables if t not in lake_views]  # a warehouse never refreshed keeps its (empty) tables
    con.execute(f"ATTACH {literal(str(target))} AS r57_serving (BLOCK_SIZE {BLOCK_SIZE})")
    try:
        for t in tables:
            con.execute(f'CREATE TABLE r57_serving.main."{t}" AS SELECT * FROM "{db}".main."{t}"')
        con.execute("USE r57_serving")
        try:
            con.execute(f"CREATE VIEW dossiers AS {dossiers_view_sql(lake_root, manifest)}")
            for t, sql in lake_views.items():
                con.execute(f'CREATE VIEW "{t}" AS {sql}')
            for _name, sql in views:  # their SQL names tables unqualified: bound in the snapshot itself
                con.execute(sql)
        finally:
            con.execute(f'USE "{db}"')
    finally:
        con.execute("DETACH r57_serving")
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_sidecar(snapshot: Path, lake_root: Path, manifest: dict) -> None:
    from lake.store import named_files

    files = sorted(named_files(manifest))
    tmp = snapshot.with_name("." + sidecar(snapshot).name + ".tmp")
    tmp.write_text(json.dumps({"lake": str(Path(lake_root).resolve()), "generation": manifest["generation"],
                               "files": files}), encoding="utf-8")
    os.replace(tmp, sidecar(snapshot))


# A reader learns of a new snapshot within a second and then opens it, but a query already running on the
# old one, or a report job that holds one cursor for a while, may still open lake files: they stay this long
# after their snapshot stopped being current (retired), even once the snapshot itself is pruned.
RETIRED_GRACE_S = 60.0


def retire(snapshot: Path) -> None:
    """Mark the moment `snapshot` stopped being current: its sidecar's mtime."""
    try:
        os.utime(sidecar(snapshot))
    except FileNotFoundError:  # a copy-mode snapshot, or already pruned
        pass


def forget_retired(snap_dir: Path, keep: str) -> None:
    """Drop the sidecars of pruned snapshots retired more than RETIRED_GRACE_S ago (the next lake garbage
    collection may then delete the files only they read)."""
    now = time.time()
    for side in snap_dir.glob(f"wh-*{SIDE}"):
        base = side.name[: -len(SIDE)]
        if base + ".duckdb" == keep or (snap_dir / (base + ".duckdb")).exists():
            continue
        try:
            if now - side.stat().st_mtime > RETIRED_GRACE_S:
                side.unlink()
        except FileNotFoundError:
            pass
