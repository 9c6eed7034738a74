"""The writer takes an aggregate build (`aggregates build --out`, DuckDB or Spark over the lake) as its aggregates.

A full rebuild of the aggregate tables reads every dossier: minutes on one host at national scale, where a
cluster does it in the time the lake takes to read. So when the writer needs a full rebuild (tables missing,
the measure declarations or the procedure catalogue changed) and `R57_AGGREGATES_BUILD` names a build folder
(`<out>/<engine>`), it loads that build instead of rebuilding, if the build is of its own data:

- the build read a lake whose data version names this warehouse (meta `warehouse_id`) and a last changing
  run R that this warehouse has (the lake is the writer's own export, so it held the dossiers as of run R);
- it used the same measure declarations (`definition_version`) and procedure catalogue (fingerprint);
- every file BUILD.json names is there, inside the folder, with the columns the tables need.

Then, in the refresh's one transaction, the tables are replaced by the build's rows (cast to the warehouse's
types) and the runs after R are applied as an ordinary incremental refresh: the (unit, month) partitions
their new rows and replaced versions (dossier_changes) touch are recomputed from the warehouse. The result
is the tables a full rebuild here would give (tests/test_aggregates_load.py compares every cell); the
publication that follows writes them to the lake's aggregate months and the serving snapshot reads them.
A build that does not qualify is refused with its reason, and the writer rebuilds by itself as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sqltext import identifier, literal

from .aggregates_build import BUILD_FILE, BUILD_FORMAT
from .aggregates_sql import TABLES
from .registry import Registry

ORDER = {"metrics_day": "day, unit_code", "metrics_month": "unit_code, month", "metrics_hist": "day, unit_code",
         "metrics_open": "received_at"}


class BuildUnusable(RuntimeError):
    """The build cannot stand for this warehouse's aggregates (the message says why)."""


@dataclass(frozen=True)
class Build:
    folder: Path
    info: dict

    @property
    def id(self) -> str:
        return self.info["id"]

    @property
    def run(self) -> int:
        """The last run that changed data in the lake the build read: the warehouse applies the runs after it."""
        return int(self.info["lake"]["data_version"]["last_change_run_id"])

    def files(self, table: str) -> list[Path]:
        return [self.folder / f["path"] for f in self.info["tables"][table]["files"]]

    def describe(self) -> dict:
        return {"id": self.id, "engine": self.info.get("engine"), "built_at": self.info.get("built_at"),
                "lake_generation": self.info["lake"].get("generation"), "from_run": self.run,
                "folder": str(self.folder)}


def read(folder: Path | str) -> Build:
    """BUILD.json in `folder`, checked for shape: every file it names lies inside the folder and exists."""
    folder = Path(folder).resolve()
    try:
        info = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildUnusable(f"no build at {folder} ({BUILD_FILE} missing): run `python app.py aggregates build "
                            f"--out {folder.parent}`") from None
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise BuildUnusable(f"{folder / BUILD_FILE} cannot be read ({exc})") from None
    try:
        if info["format"] != BUILD_FORMAT:
            raise BuildUnusable(f"build format {info['format']!r}, this code reads {BUILD_FORMAT}")
        build = Build(folder, info)
        build.run  # noqa: B018 - part of the shape check
        for table in TABLES:
            for f in info["tables"][table]["files"]:
                rel = Path(f["path"])
                if rel.is_absolute() or ".." in rel.parts:
                    raise BuildUnusable(f"{BUILD_FILE} names a file outside the build: {f['path']}")
                if not (folder / rel).is_file():
                    raise BuildUnusable(f"{f['path']} is missing (a newer build pruned it?)")
    except (KeyError, TypeError, ValueError) as exc:
        raise BuildUnusable(f"{folder / BUILD_FILE} is not a build description (missing {exc})") from None
    return build


def check(con: duckdb.DuckDBPyConnection, build: Build, reg: Registry, definitions: str, catalogue: str) -> None:
    """Refuse (BuildUnusable) a build that is not of this warehouse's data, definitions and catalogue."""
    info = build.info
    if info.get("definition_version") != definitions:
        raise BuildUnusable(f"built with other measure declarations ({info.get('definition_version')}, "
                            f"here {definitions}): rebuild with this code")
    if info.get("catalogue") != catalogue:
        raise BuildUnusable("built with another procedure catalogue than the warehouse's: rebuild from a newer lake")
    row = con.execute("SELECT value FROM meta WHERE key = 'warehouse_id'").fetchall()
    mine = row[0][0] if row else None
    theirs = (info["lake"].get("data_version") or {}).get("warehouse")
    if mine is None or theirs != mine:
        raise BuildUnusable(f"the build read the lake of another warehouse ({theirs}, this one is {mine})")
    latest = con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs").fetchall()[0][0]
    if build.run > latest:
        raise BuildUnusable(f"the build's lake is at run {build.run}, ahead of this warehouse (run {latest})")
    have = con.execute("SELECT count(*) FROM dossiers WHERE ingest_run_id <= ?", [build.run]).fetchall()[0][0]
    lake_rows = int(info["lake"]["data_version"].get("dossiers", -1))
    if have > lake_rows:  # rows loaded by run R that the lake did not hold: not this warehouse's lake at R
        raise BuildUnusable(f"the build's lake held {lake_rows} dossiers, the warehouse has {have} loaded by its run {build.run}")


def _template(con: duckdb.DuckDBPyConnection, reg: Registry, table: str) -> list[tuple[str, str]]:
    """(column, type) the warehouse's `table` has, or would have from a rebuild here."""
    from .aggregates import build_sql
    from .sqlparts import source_sql

    if table == "metrics_open":
        sql = "SELECT * FROM dossiers"
    else:
        sql = build_sql(reg, source_sql(), table)
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {sql}").fetchall()]


def replace_tables(con: duckdb.DuckDBPyConnection, build: Build, reg: Registry) -> dict[str, int]:
    """Replace the four tables by the build's rows, in the caller's transaction; returns rows per table."""
    rows = {}
    for table in TABLES:
        cols = _template(con, reg, table)
        files = build.files(table)
        if files:
            listed = ", ".join(literal(str(f)) for f in files)
            try:
                have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet([{listed}])").fetchall()}
            except duckdb.Error as exc:
                raise BuildUnusable(f"{table}: its files cannot be read ({exc})") from None
            missing = [c for c, _ in cols if c not in have]
            if missing:
                raise BuildUnusable(f"{table}: the build has no column {', '.join(missing[:3])}")
            src = f"read_parquet([{listed}])"
        else:
            cols_null = ", ".join(f"NULL AS {identifier(c)}" for c, _ in cols)
            src = f"(SELECT {cols_null} WHERE false)"
        select = ", ".join(f"CAST({identifier(c)} AS {t}) AS {identifier(c)}" for c, t in cols)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM {src} ORDER BY {ORDER[table]}")
        except duckdb.Error as exc:
            raise BuildUnusable(f"{table}: loading the build failed ({exc})") from None
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        expected = int(build.info["tables"][table]["rows"])
        if rows[table] != expected:
            raise BuildUnusable(f"{table}: {rows[table]} rows in the files, {expected} in {BUILD_FILE}")
    return rows
