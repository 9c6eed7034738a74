"""Load the reference data (units, procedure catalogue, indicator catalogue) from data/reference/*.csv.

The CSVs are the source of truth that ships with the product; the warehouse tables are a copy
refreshed at start-up. Loading is an upsert keyed on the primary key, so running it twice leaves the
same rows, and a row edited in a CSV replaces the old one. Every column is read as VARCHAR first so
codes such as '01' and '00073' keep their leading zeros; the typed columns are cast in SQL.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

import config

# table -> (file name, [(column, SQL expression over the VARCHAR column)])
_BOOL = "CAST(lower(trim({c})) AS BOOLEAN)"
_TEXT = "nullif(trim({c}), '')"
REFERENCE_FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "units": (
        "units.csv",
        [
            ("unit_code", _TEXT),
            ("name", _TEXT),
            ("name_en", _TEXT),
            ("unit_type", _TEXT),
            ("parent_code", _TEXT),
        ],
    ),
    "procedures": (
        "procedures.csv",
        [
            ("procedure_code", _TEXT),
            ("name_vi", _TEXT),
            ("name_en", _TEXT),
            ("sector", _TEXT),
            ("sector_en", _TEXT),
            ("online_level", _TEXT),
            ("fee_bearing", _BOOL),
            ("cross_agency", _BOOL),
            ("statutory_days", "CAST(trim({c}) AS INTEGER)"),
            ("level", _TEXT),
            ("active", "coalesce(" + _BOOL + ", TRUE)"),
        ],
    ),
    "indicator_catalogue": (
        "indicators.csv",
        [
            ("indicator_code", _TEXT),
            ("name_vi", _TEXT),
            ("name_en", _TEXT),
            ("uom", _TEXT),
            ("direction", _TEXT),
            ("level", _TEXT),
            ("frequency", _TEXT),
            ("source_vi", _TEXT),
            ("source_en", _TEXT),
        ],
    ),
}


def _check_header(path: Path, expected: list[str]) -> None:
    """Refuse a file whose header is not exactly the table's columns (order included)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    if [h.strip() for h in header] != expected:
        raise ValueError(f"{path.name}: header {header} does not match the columns {expected}")


def _upsert(con: duckdb.DuckDBPyConnection, table: str, path: Path, columns: list[tuple[str, str]]) -> int:
    names = [name for name, _ in columns]
    _check_header(path, names)
    types = ", ".join(f"'{name}': 'VARCHAR'" for name in names)
    select = ", ".join(expr.format(c=f'"{name}"') + f' AS "{name}"' for name, expr in columns)
    # Table and column names come from REFERENCE_FILES above, never from input; the path is a parameter.
    source = f"read_csv(?, header = true, columns = {{{types}}}, quote = '\"', escape = '\"', encoding = 'utf-8')"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ref_stage AS SELECT {select} FROM {source}", [str(path)])
    try:
        key = names[0]
        dupes = con.execute(
            f'SELECT "{key}" FROM _ref_stage GROUP BY 1 HAVING count(*) > 1 OR "{key}" IS NULL LIMIT 5'
        ).fetchall()
        if dupes:
            raise ValueError(f"{path.name}: missing or duplicate {key}: {[d[0] for d in dupes]}")
        con.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) SELECT * FROM _ref_stage")
        return int(con.execute("SELECT count(*) FROM _ref_stage").fetchone()[0])
    finally:
        con.execute("DROP TABLE IF EXISTS _ref_stage")


def load_reference(
    con: duckdb.DuckDBPyConnection, reference_dir: Path | str = config.REFERENCE_DIR
) -> dict[str, int]:
    """Upsert units, procedures and the indicator catalogue from `reference_dir`; return rows per table.

    All three files load in one transaction: a bad file leaves the tables as they were.
    """
    folder = Path(reference_dir)
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, (file_name, columns) in REFERENCE_FILES.items():
            counts[table] = _upsert(con, table, folder / file_name, columns)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts
