"""Load one dossier file: stage its mapped columns, validate, quarantine broken rows, upsert the rest.

Upsert rule: per dossier_id the record with the latest `updated_at` wins; on a tie the larger content
hash wins, so the final state does not depend on the order files arrive in, and loading the same
file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from config import IngestLimits

from .privacy import mask_sql
from .profiles import Profile, ProfileError, detect_profile, load_profiles
from .readers import ReadResult, Rejected, UnreadableFile, read_headers, stage
from .validate import (
    NATIVE_TYPES,
    TIMESTAMP_COLUMNS,
    TYPED_COLUMNS,
    UNIT_FALLBACK_SQL,
    UNIT_KEYS_SQL,
    lit,
    mapped_select,
    native_columns,
    problems_expr,
    typed_select,
)
from .vocab import FINISHED_STATUSES


@dataclass
class FileResult:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    profile: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)  # reason_code -> rows
    warnings: list[str] = field(default_factory=list)
    archive_sql: str | None = None  # SELECT over the loader's temp tables: what the archive keeps


# Parquet columns staged with their own type when it is one the checker reads natively
NATIVE_SOURCE_TYPES = frozenset().union(*NATIVE_TYPES.values())
REQUIRED_CANONICAL = ("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status")
@dataclass
class Prepared:
    """A file read and checked, nothing written: `write(run_id)` does the writes (in the caller's
    transaction) and returns the filled result."""

    result: FileResult
    write: Callable[[int], FileResult]


# canonical columns, as loaded (good rows) or masked (quarantined rows): all the archive keeps
ARCHIVE_COLUMNS = ("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at",
                   "completed_at", "status", "cross_agency", "supplement_count", "supplement_days", "rating",
                   "complaint", "paid_online", "digitized", "data_reused", "applicant_type", "updated_at")
_LOADED_TEXT = {"unit_code": "unit_t", "dossier_id": "dossier_id", "procedure_code": "procedure_code",
                "channel": "channel", "status": "status", "applicant_type": "applicant_type"}
ARCHIVE_SQL = "SELECT _line AS line, CASE WHEN masked IS NULL THEN 'loaded' ELSE 'quarantined' END AS outcome, " + ", ".join(
    f"CASE WHEN masked IS NULL THEN CAST({_LOADED_TEXT.get(c, c + '_t')} AS VARCHAR) ELSE masked.{c} END AS {c}"
    for c in ARCHIVE_COLUMNS) + " FROM _checked LEFT JOIN _masked USING (_line) ORDER BY _line"


# Derived columns (see warehouse/schema.py): computed once at load time from the calendar.
_UPSERT_COLUMNS = """
    g.dossier_id, g.unit_code, g.procedure_code, g.channel, g.received_at, g.due_at, g.completed_at,
    g.status, g.cross_agency, g.supplement_count, g.supplement_days, g.rating, g.complaint,
    g.paid_online, g.digitized, g.data_reused, g.applicant_type, g.updated_at,
    g.procedure_known,
    CAST(g.received_at AS DATE) AS received_date,
    g.finished_date,
    CASE WHEN g.supplement_days = 0 THEN g.due_at
         ELSE coalesce(ed.day + (g.due_at - CAST(CAST(g.due_at AS DATE) AS TIMESTAMP)), g.due_at) END
        AS effective_due_at,
    CASE WHEN g.finished_date IS NOT NULL
         THEN greatest(cf.wd_cum - cr.wd_cum - g.supplement_days, 0) END AS processing_wd,
    g.row_hash
"""


def choose_profile(headers: list[str]) -> Profile:
    profile = detect_profile(headers)
    if profile is None:
        raise UnreadableFile("no_profile", no_profile_message(headers))
    return profile


def no_profile_message(headers: list[str]) -> str:
    """Why no profile fits, naming only headers some profile knows: the first line of a file
    without a header row is a record, and its cells may be someone's name or phone number."""
    known = {s for p in load_profiles() for c in p.columns for s in p.sources(c)} | set(ARCHIVE_COLUMNS)
    found = [h for h in headers if h in known]
    needs = "; ".join(f"{p.name}: {', '.join(p.detect) or ', '.join(REQUIRED_CANONICAL)}" for p in load_profiles())
    return (f"no mapping profile matches the file's {len(headers)} columns "
            f"(known among them: {found[:8] or 'none'}; {len(headers) - len(found)} not known — "
            f"is the header row missing or shifted?). Each profile needs these headers: {needs}. "
            "Use the canonical column names or add a profile in ingest/profiles/ (README)")


def prepare_dossier_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, now: datetime,
                         file_label: str, limits: IngestLimits) -> Prepared:
    """Read, map and check one file (no writes yet; raises UnreadableFile if it cannot be read).

    The returned `write` quarantines and upserts inside the caller's transaction. `_checked` stays
    for the caller's archive (`FileResult.archive_sql`); the caller drops every temporary table.
    """
    headers = read_headers(path, fmt, limits)
    try:
        profile = choose_profile(headers)
    except ProfileError as exc:
        raise UnreadableFile("no_profile", str(exc)) from None
    have = set(headers)
    wanted = sorted({s for col in profile.columns for s in profile.sources(col) if s in have})
    con.execute(f"CREATE OR REPLACE TEMP TABLE _unit_keys AS {UNIT_KEYS_SQL}")
    read = stage(con, path, fmt, headers, wanted, "_src", lambda: _check(con, profile, have, now, limits), limits,
                 typed=NATIVE_SOURCE_TYPES, line_tables=("_masked",),
                 record=tuple(s for s in profile.sources("dossier_id") if s in have))
    result = FileResult(rows_read=read.rows + len(read.rejected), profile=profile.name,
                        warnings=list(read.warnings), archive_sql=ARCHIVE_SQL)
    _resolve_unit_spellings(con)
    _mask_quarantined(con)

    def write(run_id: int) -> FileResult:
        _quarantine_rows(con, run_id, file_label, read)
        result.quarantined = con.execute("SELECT count(*) FROM _checked WHERE len(problems) > 0").fetchall()[0][0]
        result.quarantined += len({r.line for r in read.rejected})
        for code, n in con.execute(
            "SELECT p.code, count(DISTINCT _line) FROM (SELECT _line, unnest(problems) AS p FROM _checked) "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall():
            result.reasons[code] = n
        for r in read.rejected:  # one per line, by the reader's code (malformed_line, invalid_utf8)
            result.reasons[r.code] = result.reasons.get(r.code, 0) + 1
        _upsert(con, run_id, result)
        return result

    return Prepared(result, write)


def _check(con: duckdb.DuckDBPyConnection, profile: Profile, have: set[str], now: datetime,
           limits: IngestLimits) -> None:
    """One pass over the staged source: map -> parse -> check, into `_checked`.

    Text values are kept only where needed: the codes, and for a quarantined row its canonical text
    fields *masked* (ingest.privacy), which is all the archive keeps of it.
    """
    list_cols = {c for c in TIMESTAMP_COLUMNS if sum(s in have for s in profile.sources(c)) > 1}
    problems = problems_expr(_ts(now), list_cols, limits.clock_skew_minutes, limits.due_horizon_days)
    # source columns a typed file (Parquet) staged with their own type; CSV stages text only
    types = {name: kind for name, kind in con.execute("SELECT column_name, column_type FROM (DESCRIBE _src)").fetchall()
             if kind != "VARCHAR" and name != "_line"}
    native = native_columns(profile, have, types)
    # a quarantined row's canonical text (`_masked`), masked by `_mask_quarantined` before anything
    # is written (a separate statement, so a clean file never pays for planning the masks)
    text = ", ".join(f"{lit(c)}: {f'CAST({c} AS VARCHAR)' if c in native else c}" for c in ARCHIVE_COLUMNS)
    with _in_lists_as_expressions(con):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _checked AS
            WITH m AS ({mapped_select(profile, have, '_src', types)}),
                 t AS ({typed_select('m', list_cols, '_unit_keys', native)}),
                 c AS (SELECT *, {problems} AS problems FROM t)
            SELECT _line, dossier_id, unit_code, procedure_code, channel, status, applicant_type, problems,
                   {", ".join(f"{col}_t" for col in TYPED_COLUMNS)},
                   unit_t, procedure_known, p_online_level, p_cross_agency
            FROM c
        """)
    # the text of the quarantined rows only, mapped again from the source: a clean file (the usual
    # case) carries no 18-field struct per row
    bad = "(SELECT * FROM _src WHERE _line IN (SELECT _line FROM _checked WHERE len(problems) > 0))"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _masked AS
        SELECT _line, {{{text}}} AS masked FROM ({mapped_select(profile, have, bad, types)})
    """)


@contextmanager
def _in_lists_as_expressions(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB plans a constant IN list (and list_contains of one) as a MARK join, one per use: the
    check's 17 small lists cost a quarter of its time that way. Off for one statement, then back."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    con.execute(f"SET disabled_optimizers = {lit(','.join(filter(None, [before, 'in_clause'])))}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {lit(before)}")


def _mask_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    """Keep of each quarantined row only what fits its columns' shapes (ingest.privacy)."""
    if con.execute("SELECT count(*) FROM (SELECT 1 FROM _masked LIMIT 1)").fetchall()[0][0]:
        masked = ", ".join(f"{lit(c)}: {mask_sql(f'masked.{c}', c)}" for c in ARCHIVE_COLUMNS)
        con.execute(f"UPDATE _masked SET masked = {{{masked}}}")


def _resolve_unit_spellings(con: duckdb.DuckDBPyConnection) -> None:
    """Second chance for units no exact key matched (other case, decomposed Unicode, lost zeros)."""
    found = con.execute(UNIT_FALLBACK_SQL).fetchall()
    if not found:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _unit_fix AS SELECT * FROM (VALUES " +
                ", ".join(f"({lit(raw)}, {lit(code)})" for raw, code in found) + ") v(raw, unit_t)")
    con.execute("""
        UPDATE _checked SET unit_t = f.unit_t,
               problems = list_filter(problems, lambda x: x.code <> 'unknown_unit')
        FROM _unit_fix f WHERE _checked.unit_code = f.raw AND _checked.unit_t IS NULL
    """)
    con.execute("DELETE FROM _masked WHERE _line IN (SELECT _line FROM _checked WHERE len(problems) = 0)")
    con.execute("DROP TABLE _unit_fix")


def _ts(value: datetime) -> str:
    return f"TIMESTAMP {lit(value.strftime('%Y-%m-%d %H:%M:%S'))}"


def _quarantine_rows(con: duckdb.DuckDBPyConnection, run_id: int, file_label: str, read: ReadResult) -> None:
    # unmapped source columns (personal data) were never read; what a mapped column held is kept
    # only when it has the column's shape (ingest.privacy), so a shifted export leaks nothing
    con.execute(f"""
        INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, column_name,
                                bad_value, quarantined_at)
        SELECT {run_id}, 'dossiers', {lit(file_label)}, _line, {mask_sql('dossier_id', 'dossier_id')},
               p.code, p.col, {mask_sql('p.val', 'sql:p.col')}, current_localtimestamp()
        FROM (SELECT *, unnest(problems) AS p FROM _checked WHERE len(problems) > 0)
    """)
    insert_rejected(con, run_id, "dossiers", file_label, read.rejected)


def insert_rejected(con: duckdb.DuckDBPyConnection, run_id: int, source: str, file_label: str,
                    rejected: list[Rejected]) -> None:
    """Lines no reader could split into fields, or whose text is not UTF-8; `detail` is the reader's own
    words, never the line; a record id the reader could read is masked like any other (ingest.privacy)."""
    if rejected:
        con.register("_rejected_rows", pa.table({
            "line": pa.array([r.line for r in rejected], pa.int64()),
            "code": [r.code for r in rejected], "col": pa.array([r.column for r in rejected], pa.string()),
            "detail": pa.array([None if r.detail is None else r.detail[:200] for r in rejected], pa.string()),
            "record": pa.array([r.record for r in rejected], pa.string())}))
        try:
            con.execute(f"""
                INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, column_name,
                                        bad_value, quarantined_at)
                SELECT {int(run_id)}, {lit(source)}, {lit(file_label)}, line, {mask_sql('record', 'dossier_id')},
                       code, col, detail, current_localtimestamp()
                FROM _rejected_rows ORDER BY line
            """)
        finally:
            con.unregister("_rejected_rows")


def _upsert(con: duckdb.DuckDBPyConnection, run_id: int, result: FileResult) -> None:
    finished = "(" + ", ".join(lit(s) for s in FINISHED_STATUSES) + ")"
    good = f"""
        SELECT dossier_id,
               unit_t AS unit_code,
               procedure_code,
               CASE WHEN channel = 'online'   -- 'online, level unknown': the catalogue's level decides
                    THEN CASE WHEN p_online_level = 'full' THEN 'online_full' ELSE 'online_partial' END
                    ELSE channel END AS channel,
               received_at_t AS received_at, due_at_t AS due_at,
               CASE WHEN status IN {finished} OR status = 'withdrawn' THEN completed_at_t END AS completed_at,
               status,
               coalesce(cross_agency_t, p_cross_agency) AS cross_agency,
               coalesce(supplement_count_t, 0) AS supplement_count,
               CASE WHEN coalesce(supplement_count_t, 0) = 0 THEN 0 ELSE coalesce(supplement_days_t, 0) END
                   AS supplement_days,
               CAST(rating_t AS TINYINT) AS rating,
               complaint_t AS complaint, paid_online_t AS paid_online, digitized_t AS digitized,
               data_reused_t AS data_reused, applicant_type,
               -- sources without an update stamp: the latest event we know of
               coalesce(updated_at_t, greatest(received_at_t, completed_at_t)) AS updated_at,
               procedure_known,
               CASE WHEN status IN {finished} THEN CAST(completed_at_t AS DATE) END AS finished_date
        FROM _checked WHERE len(problems) = 0
    """
    hashed = f"""
        SELECT *, hash(dossier_id, unit_code, procedure_code, channel, received_at, due_at, completed_at,
                       status, cross_agency, supplement_count, supplement_days, rating, complaint,
                       paid_online, digitized, data_reused, applicant_type, updated_at) AS row_hash
        FROM ({good})
    """
    # one grouping of the good rows' ids answers both: repeated in the file? known to the warehouse?
    dupes, known = con.execute(
        "WITH ids AS (SELECT dossier_id, count(*) AS n FROM _checked WHERE len(problems) = 0 GROUP BY 1) "
        "SELECT coalesce(sum(n) - count(*), 0), count(*) FILTER (WHERE dossier_id IN (SELECT dossier_id FROM dossiers)) "
        "FROM ids"
    ).fetchall()[0]
    if dupes:  # several versions of a dossier in one file: keep the one the upsert rule would keep
        hashed = f"""SELECT * FROM ({hashed})
                     QUALIFY row_number() OVER (PARTITION BY dossier_id ORDER BY updated_at DESC, row_hash DESC) = 1"""
    calendar_joins = """
        LEFT JOIN calendar cr ON cr.day = CAST(g.received_at AS DATE)
        LEFT JOIN calendar cf ON cf.day = g.finished_date
        LEFT JOIN calendar cd ON cd.day = CAST(g.due_at AS DATE)
        LEFT JOIN (SELECT day, wd_cum FROM calendar WHERE is_working) ed
               ON ed.wd_cum = cd.wd_cum + g.supplement_days
    """
    if known == 0:  # a batch of new dossiers (the usual case): insert straight from the checked rows
        result.inserted = con.execute(
            f"INSERT INTO dossiers SELECT {_UPSERT_COLUMNS}, {run_id} FROM ({hashed}) g {calendar_joins}"
        ).fetchall()[0][0]
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _incoming AS
        SELECT {_UPSERT_COLUMNS},
               CASE WHEN d.dossier_id IS NULL THEN 'insert'
                    WHEN g.updated_at > d.updated_at
                         OR (g.updated_at = d.updated_at AND g.row_hash > d.row_hash) THEN 'update'
                    ELSE 'keep' END AS action
        FROM ({hashed}) g
        LEFT JOIN dossiers d USING (dossier_id)
        {calendar_joins}
    """)
    counts = dict(con.execute("SELECT action, count(*) FROM _incoming GROUP BY 1").fetchall())
    result.inserted = counts.get("insert", 0)
    result.updated = counts.get("update", 0)
    result.unchanged = counts.get("keep", 0)
    if result.updated:
        con.execute(f"""
            INSERT INTO dossier_changes
            SELECT {run_id}, d.dossier_id, d.unit_code, d.procedure_code, d.received_date, d.finished_date,
                   d.effective_due_at
            FROM dossiers d JOIN _incoming i USING (dossier_id) WHERE i.action = 'update'
        """)
        con.execute(f"""
            INSERT INTO dossier_replaced
            SELECT d.*, {run_id} FROM dossiers d JOIN _incoming i USING (dossier_id) WHERE i.action = 'update'
        """)
        con.execute("DELETE FROM dossiers WHERE dossier_id IN (SELECT dossier_id FROM _incoming WHERE action = 'update')")
    if result.inserted or result.updated:
        con.execute(f"INSERT INTO dossiers SELECT * EXCLUDE (action), {run_id} FROM _incoming "
                    "WHERE action IN ('insert', 'update')")
    con.execute("DROP TABLE IF EXISTS _incoming")
