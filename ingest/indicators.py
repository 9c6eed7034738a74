"""Load one indicator file: (indicator_code, unit_code, period, value, source, published_at).

A later publication of the same indicator, unit and period is a revision: both rows are kept and the
latest counts (view `indicator_latest`). The same publication loaded twice changes nothing; the same
publication with another value replaces it (a correction of that publication).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

import config
from config import IngestLimits

from .dossiers import FileResult, Prepared, _ts, insert_rejected
from .privacy import mask_sql
from .readers import UnreadableFile, materialize, read_headers
from .validate import MAX_INTEGER, lit, parse_ts

COLUMNS = ("indicator_code", "unit_code", "period", "value", "source", "published_at")
REQUIRED = ("indicator_code", "unit_code", "period", "value", "published_at")
# One-stop staffing per ward/commune (issue 12): head counts only, never officers' names. A value must be
# a whole number 0..MAX_INTEGER (`bad_integer`) and a unit's own figure, not the city's (`unit_only`).
COUNT_INDICATORS = ("counter_officers", "seconded_staff", "service_points")
# Vietnamese headers seen in statistics-office sheets; the canonical names work too.
ALIASES = {
    "Mã chỉ tiêu": "indicator_code", "Mã đơn vị": "unit_code", "Kỳ": "period", "Giá trị": "value",
    "Nguồn": "source", "Ngày công bố": "published_at",
}


def prepare_indicator_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, now: datetime,
                           file_label: str, limits: IngestLimits) -> Prepared:
    """Read and check one indicator file; `write(run_id)` quarantines and upserts (caller's transaction)."""
    headers = read_headers(path, fmt, limits)
    by_canon = {ALIASES.get(h, h): h for h in headers}
    missing = [c for c in REQUIRED if c not in by_canon]
    if missing:
        raise UnreadableFile("no_profile", f"indicator files need the columns {list(COLUMNS)}; missing {missing}")
    wanted = [by_canon[c] for c in COLUMNS if c in by_canon]
    read = materialize(con, path, fmt, headers, wanted, "_isrc", limits)
    result = FileResult(rows_read=read.rows + len(read.rejected), profile="indicators",
                        warnings=list(read.warnings), archive_sql=ARCHIVE_SQL)

    def col(c: str) -> str:
        return f"nullif(trim(\"{by_canon[c]}\"), '')" if c in by_canon else "NULL::VARCHAR"

    period = col("period")
    staffing = "(" + ", ".join(lit(c) for c in COUNT_INDICATORS) + ")"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ind AS
        WITH m AS (
            SELECT _line, {col('indicator_code')} AS indicator_code, {col('unit_code')} AS unit_raw,
                   upper({period}) AS period, {col('value')} AS value_raw, {col('source')} AS source,
                   {col('published_at')} AS published_raw
            FROM _isrc
        ), t AS (
            SELECT m.*, c.indicator_code IS NOT NULL AS known_indicator,
                   coalesce(u1.unit_code, u2.unit_code) AS unit_code,
                   CASE WHEN regexp_full_match(period, '\\d{{4}}') THEN 'year'
                        WHEN regexp_full_match(period, '\\d{{4}}-Q[1-4]') THEN 'quarter'
                        WHEN regexp_full_match(period, '\\d{{4}}-(0[1-9]|1[0-2])') THEN 'month' END AS grain,
                   try_cast(CASE WHEN regexp_full_match(value_raw, '-?\\d+,\\d+') THEN replace(value_raw, ',', '.')
                                 ELSE value_raw END AS DOUBLE) AS value,
                   {parse_ts('published_raw')} AS published_at
            FROM m
            LEFT JOIN indicator_catalogue c USING (indicator_code)
            LEFT JOIN units u1 ON u1.unit_code = m.unit_raw
            LEFT JOIN units u2 ON regexp_full_match(m.unit_raw, '\\d{{1,4}}') AND u2.unit_code = lpad(m.unit_raw, 5, '0')
        )
        SELECT *, list_filter([
            CASE WHEN indicator_code IN {staffing} AND value IS NOT NULL
                      AND NOT (isfinite(value) AND value = floor(value) AND value BETWEEN 0 AND {MAX_INTEGER})
                 THEN {{'code': 'bad_integer', 'col': 'value', 'val': value_raw}} END,
            CASE WHEN indicator_code IN {staffing} AND unit_code = {lit(config.CITY_CODE)}
                 THEN {{'code': 'unit_only', 'col': 'unit_code', 'val': unit_raw}} END,
            CASE WHEN indicator_code IS NULL THEN {{'code': 'missing_value', 'col': 'indicator_code', 'val': NULL}} END,
            CASE WHEN indicator_code IS NOT NULL AND NOT known_indicator THEN {{'code': 'unknown_indicator', 'col': 'indicator_code', 'val': indicator_code}} END,
            CASE WHEN unit_raw IS NULL THEN {{'code': 'missing_value', 'col': 'unit_code', 'val': NULL}} END,
            CASE WHEN unit_raw IS NOT NULL AND unit_code IS NULL THEN {{'code': 'unknown_unit', 'col': 'unit_code', 'val': unit_raw}} END,
            CASE WHEN period IS NULL THEN {{'code': 'missing_value', 'col': 'period', 'val': NULL}} END,
            CASE WHEN period IS NOT NULL AND grain IS NULL THEN {{'code': 'bad_period', 'col': 'period', 'val': period}} END,
            CASE WHEN value_raw IS NULL THEN {{'code': 'missing_value', 'col': 'value', 'val': NULL}} END,
            CASE WHEN value_raw IS NOT NULL AND value IS NULL THEN {{'code': 'bad_number', 'col': 'value', 'val': value_raw}} END,
            CASE WHEN published_raw IS NULL THEN {{'code': 'missing_value', 'col': 'published_at', 'val': NULL}} END,
            CASE WHEN published_raw IS NOT NULL AND published_at IS NULL THEN {{'code': 'bad_date', 'col': 'published_at', 'val': published_raw}} END,
            CASE WHEN published_at > {_ts(now)} THEN {{'code': 'received_in_future', 'col': 'published_at', 'val': published_raw}} END
        ], lambda x: x IS NOT NULL) AS problems
        FROM t
    """)

    def write(run_id: int) -> FileResult:
        record_id = "concat_ws('/', indicator_code, unit_raw, period)"
        con.execute(f"""
            INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, column_name,
                                    bad_value, quarantined_at)
            SELECT {run_id}, 'indicators', {lit(file_label)}, _line, {mask_sql(record_id, "record_id")},
                   p.code, p.col, {mask_sql('p.val', 'sql:p.col')}, current_localtimestamp()
            FROM (SELECT *, unnest(problems) AS p FROM _ind WHERE len(problems) > 0)
        """)
        insert_rejected(con, run_id, "indicators", file_label, read.rejected)
        result.quarantined = con.execute("SELECT count(*) FROM _ind WHERE len(problems) > 0").fetchall()[0][0] + len(read.rejected)
        result.reasons = dict(con.execute(
            "SELECT p.code, count(DISTINCT _line) FROM (SELECT _line, unnest(problems) AS p FROM _ind) GROUP BY 1"
        ).fetchall())
        for r in read.rejected:
            result.reasons[r.code] = result.reasons.get(r.code, 0) + 1

        con.execute("""
            CREATE OR REPLACE TEMP TABLE _ind_good AS
            SELECT indicator_code, unit_code, period, grain,
                   CASE grain WHEN 'year' THEN make_date(CAST(period[1:4] AS INTEGER), 1, 1)
                              WHEN 'quarter' THEN make_date(CAST(period[1:4] AS INTEGER), 3 * CAST(period[7] AS INTEGER) - 2, 1)
                              ELSE make_date(CAST(period[1:4] AS INTEGER), CAST(period[6:7] AS INTEGER), 1) END AS period_start,
                   value, source, published_at
            FROM _ind WHERE len(problems) = 0
            QUALIFY row_number() OVER (PARTITION BY indicator_code, unit_code, period, published_at ORDER BY _line DESC) = 1
        """)
        counts = dict(con.execute("""
            SELECT CASE WHEN i.indicator_code IS NULL THEN 'insert'
                        WHEN i.value IS DISTINCT FROM g.value OR i.source IS DISTINCT FROM g.source THEN 'update'
                        ELSE 'keep' END, count(*)
            FROM _ind_good g LEFT JOIN indicators i USING (indicator_code, unit_code, period, published_at)
            GROUP BY 1
        """).fetchall())
        result.inserted, result.updated, result.unchanged = counts.get("insert", 0), counts.get("update", 0), counts.get("keep", 0)
        con.execute(f"""
            INSERT INTO indicators
            SELECT indicator_code, unit_code, period, grain, period_start,
                   CAST(period_start + CASE grain WHEN 'year' THEN INTERVAL 1 YEAR WHEN 'quarter' THEN INTERVAL 3 MONTH
                                                 ELSE INTERVAL 1 MONTH END AS DATE),
                   value, source, published_at, {run_id}
            FROM _ind_good
            ON CONFLICT (indicator_code, unit_code, period, published_at)
            DO UPDATE SET value = excluded.value, source = excluded.source, ingest_run_id = excluded.ingest_run_id
            WHERE indicators.value IS DISTINCT FROM excluded.value OR indicators.source IS DISTINCT FROM excluded.source
        """)
        return result

    return Prepared(result, write)


# what the archive keeps of an indicator file: loaded rows as read, quarantined rows masked
_ARCHIVED = {"indicator_code": "indicator_code", "unit_code": "unit_raw", "period": "period", "value": "value_raw",
             "source": "source", "published_at": "published_raw"}
ARCHIVE_SQL = ("SELECT _line AS line, CASE WHEN len(problems) = 0 THEN 'loaded' ELSE 'quarantined' END AS outcome, "
               + ", ".join(f"CASE WHEN len(problems) = 0 THEN {src} ELSE {mask_sql(src, col)} END AS {col}"
                           for col, src in _ARCHIVED.items())
               + " FROM _ind ORDER BY _line")
