"""Load the reference data (units, procedure catalogue, indicator catalogue) from data/reference/*.csv.

The CSVs are the source of truth that ships with the product; the warehouse tables are a copy
refreshed at start-up. Loading is an upsert keyed on the primary key, so running it twice leaves the
same rows, and a row edited in a CSV replaces the old one. Every column is read as VARCHAR first so
codes such as '01' and '00073' keep their leading zeros; the typed columns are cast in SQL.

Procedure history (table procedure_levels, schema migration 4). procedures.csv ends with four date
columns (ISO dates, empty = not known) that date each procedure's current state; they are not
columns of `procedures`, which keeps the state today:

  valid_from            the day the procedure entered the catalogue (empty: the earlier of the two
                        dates below, else the day the file is first loaded)
  online_partial_since  the day it was first offered partly online (Decree 42/2022: một phần)
  online_full_since     the day it was first offered fully online (toàn trình)
  valid_to              the day it was withdrawn, exclusive (its last day in force is the day
                        before); only with active = false

`online_level` and `active` remain the state today, so each row describes one timeline: level none
from valid_from, partial from online_partial_since, full from online_full_since, and from valid_to
withdrawn (active = false, with its last level). A full procedure without online_full_since has been
full since valid_from, a partial one without online_partial_since partial since valid_from; an
inactive one without valid_to has been withdrawn since valid_from. Dates after the load day, dates
that contradict the current level, and levels other than full/partial/none are refused. A file
without the four columns (the layout before history existed) still loads: its history starts on
the day it is first loaded.

procedure_levels has one row per procedure and state over [valid_from, valid_to) (valid_to NULL:
still in force). It is filled from the file's timelines once, when it is empty (the first load
into a new warehouse; migration 4 fills an existing one). After that, history is only appended: a
procedure whose state in the file differs from its state in force on the load day gets that row
closed on the load day (valid_to = today) and a new row from the load day. The file's dates are not
applied to it then, even when they are earlier: that would rewrite days already reported, and a
closed period's value must never change because the file changed later. A second change on the
same day replaces that day's row. A procedure new to the file starts on the load day; a procedure
removed from the file keeps its rows, as `procedures` keeps its row (withdraw it with active = false).
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

import duckdb

import clock
import config
from sqltext import literal

log = logging.getLogger(__name__)

# table -> (file name, [(column, SQL expression over the VARCHAR column)])
_BOOL = "CAST(lower(trim({c})) AS BOOLEAN)"
_TEXT = "nullif(trim({c}), '')"
# procedures.csv's dating columns, in file order; read as text and parsed by _timeline (clear errors)
HISTORY_COLUMNS = ("valid_from", "online_partial_since", "online_full_since", "valid_to")
REFERENCE_FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "units": (
        "units.csv",
        [
            ("unit_code", _TEXT),
            ("name", _TEXT),
            ("name_en", _TEXT),
            ("unit_type", _TEXT),
            ("parent_code", _TEXT),
            ("province_code", _TEXT),   # GSO province code; a file without the column is Hanoi's ('01')
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
            *((c, _TEXT) for c in HISTORY_COLUMNS),
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
# columns of a file that are not columns of its table (they feed procedure_levels), and may be absent
FILE_ONLY: dict[str, tuple[str, ...]] = {"procedures": HISTORY_COLUMNS}
# trailing table columns a file from before they existed may lack (then NULL, filled after the load)
OPTIONAL: dict[str, tuple[str, ...]] = {"units": ("province_code",)}
NATIONAL_UNITS = "units_national.csv"  # the 34 provinces and their 3,321 units (demo --provinces, scale-out)
ONLINE_LEVELS = ("none", "partial", "full")

# (procedure_code, online_level, active, valid_from, valid_to)
LevelRow = tuple[str, str, bool, date, date | None]


def hanoi_today() -> date:
    return clock.stamp().date()


def _check_header(path: Path, expected: list[str], optional: tuple[str, ...] = ()) -> list[str]:
    """Refuse a file whose header is not exactly the table's columns (order included); return it.

    `optional` trailing columns may be left out together (a file from before they existed)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    if header == expected or (optional and header == expected[: len(expected) - len(optional)]):
        return header
    raise ValueError(f"{path.name}: header {header} does not match the columns {expected}")


def _stage(con: duckdb.DuckDBPyConnection, path: Path, columns: list[tuple[str, str]],
           optional: tuple[str, ...] = ()) -> None:
    """Temp table _ref_stage: the file's rows with typed columns (absent optional ones NULL)."""
    present = _check_header(path, [name for name, _ in columns], optional)
    types = ", ".join(f"'{name}': 'VARCHAR'" for name in present)
    select = ", ".join((expr.format(c=f'"{name}"') if name in present else "CAST(NULL AS VARCHAR)") + f' AS "{name}"'
                       for name, expr in columns)
    # Table and column names come from REFERENCE_FILES above, never from input; the path is a parameter.
    source = f"read_csv(?, header = true, columns = {{{types}}}, quote = '\"', escape = '\"', encoding = 'utf-8')"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ref_stage AS SELECT {select} FROM {source}", [str(path)])


def _upsert(con: duckdb.DuckDBPyConnection, table: str, path: Path, columns: list[tuple[str, str]],
            today: date) -> int:
    file_only = FILE_ONLY.get(table, ())
    names = [name for name, _ in columns if name not in file_only]
    _stage(con, path, columns, file_only or OPTIONAL.get(table, ()))
    try:
        key = names[0]
        dupes = con.execute(
            f'SELECT "{key}" FROM _ref_stage GROUP BY 1 HAVING count(*) > 1 OR "{key}" IS NULL LIMIT 5'
        ).fetchall()
        if dupes:
            raise ValueError(f"{path.name}: missing or duplicate {key}: {[d[0] for d in dupes]}")
        cols = ", ".join(names)
        con.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM _ref_stage")
        if table == "procedures":
            _record_levels(con, _staged_timelines(con, path.name, today), today)
        if table == "units":  # a file without provinces: every unit is Hanoi's
            con.execute(f"UPDATE units SET province_code = '{config.CITY_CODE}' WHERE province_code IS NULL")
        return int(con.execute("SELECT count(*) FROM _ref_stage").fetchone()[0])
    finally:
        con.execute("DROP TABLE IF EXISTS _ref_stage")


def load_reference(
    con: duckdb.DuckDBPyConnection, reference_dir: Path | str = config.REFERENCE_DIR, *,
    today: date | None = None, national: bool = False,
) -> dict[str, int]:
    """Upsert units, procedures and the indicator catalogue from `reference_dir`; return rows per table.

    All three files load in one transaction: a bad file leaves the tables as they were. Procedure
    history is recorded as the module docstring says; `today` is the load day (default: today in Hanoi).
    `national`: the units of all 34 provinces (units_national.csv) instead of Hanoi's.
    """
    folder = Path(reference_dir)
    today = today or hanoi_today()
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, (file_name, columns) in REFERENCE_FILES.items():
            if table == "units" and national:
                file_name = NATIONAL_UNITS
            counts[table] = _upsert(con, table, folder / file_name, columns, today)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


# --- procedure history ----------------------------------------------------------------------------

def _date(file_name: str, code: str, column: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{file_name}: procedure {code}: {column} {text!r} is not a date (YYYY-MM-DD)") from None


def _timeline(file_name: str, code: str, level: str, active: bool, dates: dict[str, str | None],
              today: date) -> list[LevelRow]:
    """The rows of procedure_levels that one catalogue row describes (see the module docstring)."""
    def bad(msg: str) -> ValueError:
        return ValueError(f"{file_name}: procedure {code}: {msg}")

    if level not in ONLINE_LEVELS:
        raise bad(f"online_level {level!r} is not one of full, partial, none")
    vf, part, full, vt = (_date(file_name, code, c, dates.get(c)) for c in HISTORY_COLUMNS)
    late = [d for d in (vf, part, full, vt) if d is not None and d > today]
    if late:
        raise bad(f"date {max(late)} is after today ({today}): the file records what has happened")
    if full is not None and level != "full":
        raise bad(f"online_full_since is given but online_level is {level}")
    if part is not None and level == "none":
        raise bad("online_partial_since is given but online_level is none")
    if part is not None and level == "full" and full is None:
        raise bad("online_partial_since is given for a full procedure without online_full_since")
    if part is not None and full is not None and part > full:
        raise bad("online_partial_since is after online_full_since")
    if vt is not None and active:
        raise bad("valid_to is given but the procedure is active")
    start = vf or min((d for d in (part, full) if d is not None), default=today)
    if any(d is not None and d < start for d in (part, full)):
        raise bad("an online_*_since date is before valid_from")
    if vt is not None and any(d is not None and d >= vt for d in (start, part, full)):
        raise bad("valid_to is not after valid_from and the online_*_since dates")

    def level_on(d: date) -> str:
        if level == "full" and (full is None or d >= full):
            return "full"
        if level != "none" and (part is None and level == "partial" or part is not None and d >= part):
            return "partial"
        return "none"

    points = sorted({start, *(d for d in (part, full, vt) if d is not None)})
    rows: list[LevelRow] = []
    for d in points:
        state = (level_on(d), active or (vt is not None and d < vt))
        if rows and rows[-1][1:3] == state:
            continue
        if rows:
            rows[-1] = (*rows[-1][:4], d)
        rows.append((code, *state, d, None))
    return rows


def _staged_timelines(con: duckdb.DuckDBPyConnection, file_name: str, today: date) -> dict[str, list[LevelRow]]:
    rel = con.execute(f"SELECT procedure_code, online_level, active, {', '.join(HISTORY_COLUMNS)} FROM _ref_stage "
                      "ORDER BY procedure_code")
    out = {}
    for code, level, active, *dates in rel.fetchall():
        out[code] = _timeline(file_name, code, level, bool(active), dict(zip(HISTORY_COLUMNS, dates, strict=True)), today)
    return out


def _record_levels(con: duckdb.DuckDBPyConnection, timelines: dict[str, list[LevelRow]], today: date) -> int:
    """Fill procedure_levels from the timelines when it is empty (return the rows written), else record
    the procedures whose state today differs from the file's (return how many)."""
    if con.execute("SELECT count(*) FROM procedure_levels").fetchone()[0] == 0:
        rows = [r for rs in timelines.values() for r in rs]
        if rows:
            con.executemany("INSERT INTO procedure_levels VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)
    stored: dict[str, list[tuple]] = {}
    for r in con.execute("SELECT procedure_code, online_level, active, valid_from, valid_to FROM procedure_levels "
                         "ORDER BY procedure_code, valid_from").fetchall():
        stored.setdefault(r[0], []).append(r)
    written = 0
    for code, rows in timelines.items():
        state = rows[-1][1:3]
        hist = stored.get(code, [])
        now = [r for r in hist if r[3] <= today and (r[4] is None or r[4] > today)]
        if now and tuple(now[0][1:3]) == state:
            continue
        later = [r[3] for r in hist if r[3] > today]
        if later:
            raise ValueError(f"procedure {code}: its history has a change on {max(later)}, after today ({today}); "
                             "is the clock right?")
        written += 1
        if not now:
            con.execute("INSERT INTO procedure_levels VALUES (?, ?, ?, ?, NULL)", [code, *state, today])
            continue
        cur = now[0]
        if cur[3] < today:  # close the row in force and open one from today
            con.execute("UPDATE procedure_levels SET valid_to = ? WHERE procedure_code = ? AND valid_from = ?",
                        [today, code, cur[3]])
            con.execute("INSERT INTO procedure_levels VALUES (?, ?, ?, ?, ?)", [code, *state, today, cur[4]])
            continue
        # the row in force started today (an earlier change today): replace it, or undo it when the
        # file is back to the state before
        before = [r for r in hist if r[4] == today]
        if before and tuple(before[0][1:3]) == state:
            con.execute("DELETE FROM procedure_levels WHERE procedure_code = ? AND valid_from = ?", [code, today])
            con.execute("UPDATE procedure_levels SET valid_to = ? WHERE procedure_code = ? AND valid_from = ?",
                        [cur[4], code, before[0][3]])
        else:
            con.execute("UPDATE procedure_levels SET online_level = ?, active = ? "
                        "WHERE procedure_code = ? AND valid_from = ?", [*state, code, today])
    if written:
        log.info("procedure history: %d procedure(s) changed state on %s", written, today)
    return written


def _sql_date(d: date | None) -> str:
    return "CAST(NULL AS DATE)" if d is None else f"DATE '{d.isoformat()}'"


def procedure_levels_fill_sql(reference_dir: Path | str | None = None, today: date | None = None) -> str:
    """SQL filling procedure_levels on a warehouse that has procedures but no history (migration 4).

    A stored procedure whose state today is the reference file's gets the file's timeline; any other
    (changed since it was loaded, or not in the file) gets its stored state from today, as nothing
    earlier is known. A file that cannot be read gives every procedure its state from today (the
    loader reports the file's problem when it next loads it). On a new warehouse nothing is stored,
    so nothing is inserted: the first load_reference fills the table.
    """
    path = Path(reference_dir or config.REFERENCE_DIR) / REFERENCE_FILES["procedures"][0]
    today = today or hanoi_today()
    try:
        from .db import apply_limits  # here: db imports this module's loaders

        with apply_limits(duckdb.connect(":memory:")) as mem:
            _stage(mem, path, REFERENCE_FILES["procedures"][1], HISTORY_COLUMNS)
            timelines = _staged_timelines(mem, path.name, today)
    except (OSError, ValueError, duckdb.Error) as exc:
        log.warning("procedure history: %s not used (%s); the history of stored procedures starts today", path, exc)
        timelines = {}
    rows = [r for rs in timelines.values() for r in rs]
    sql = ""
    if rows:
        values = ",\n            ".join(
            f"({literal(c)}, {literal(lv)}, {str(a).upper()}, {_sql_date(f)}, {_sql_date(t)})" for c, lv, a, f, t in rows)
        sql += f"""
        INSERT INTO procedure_levels
        WITH file_levels (procedure_code, online_level, active, valid_from, valid_to) AS (VALUES
            {values})
        SELECT * FROM file_levels WHERE procedure_code IN (
            SELECT f.procedure_code FROM file_levels f JOIN procedures p USING (procedure_code)
            WHERE f.valid_to IS NULL AND f.online_level = p.online_level AND f.active = p.active);
        """
    return sql + f"""
        INSERT INTO procedure_levels
        SELECT procedure_code, online_level, active, DATE '{today.isoformat()}', NULL FROM procedures
        WHERE procedure_code NOT IN (SELECT procedure_code FROM procedure_levels);
    """
