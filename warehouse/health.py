"""Read-only facts about the data itself: freshness, ingest runs, quarantine, demo flag.

The dashboard's data-health page, the API and the CLI read these; none of them writes SQL of its own.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from .reasons import describe

# Beyond this age a source's data is called stale (dashboards show a banner).
STALE_AFTER_S = {"dossiers": 15 * 60, "indicators": 40 * 24 * 3600}


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT value FROM meta WHERE key = 'demo'").fetchall()
    return bool(row) and row[0][0] == "true"


def freshness(con: duckdb.DuckDBPyConnection, now: datetime, loads: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per source: last successful load, age in seconds, whether it is stale, newest record time (`loads`:
    load_times(con), when the caller kept it for this snapshot)."""
    df = (load_times(con) if loads is None else loads).copy()
    df["age_s"] = [(now - t).total_seconds() if pd.notna(t) else None for t in df["last_load"]]
    df["stale"] = [age is None or age > STALE_AFTER_S[src] for src, age in zip(df["source"], df["age_s"], strict=True)]
    return df


def load_times(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source: last successful load, last run and its status, newest record time (a snapshot's own facts:
    they do not change with the clock)."""
    return con.execute("""
        WITH runs AS (
            SELECT source, max(finished_at) FILTER (WHERE status IN ('ok', 'partial')) AS last_load,
                   max(finished_at) AS last_run,
                   arg_max(status, finished_at) AS last_status
            FROM ingest_runs GROUP BY source
        ), latest AS (
            SELECT 'dossiers' AS source, max(updated_at) AS newest_record FROM dossiers
            UNION ALL SELECT 'indicators', max(published_at) FROM indicators
        )
        SELECT s.source, r.last_load, r.last_run, r.last_status, l.newest_record
        FROM (VALUES ('dossiers'), ('indicators')) s(source)
        LEFT JOIN runs r USING (source) LEFT JOIN latest l USING (source)
        ORDER BY s.source
    """).df()


def ingest_runs(con: duckdb.DuckDBPyConnection, limit: int = 50, source: str | None = None) -> pd.DataFrame:
    """The latest runs, newest first (file, status, rows read / inserted / updated / quarantined)."""
    where = "WHERE source = ?" if source else ""
    params = [source, limit] if source else [limit]
    return con.execute(f"""
        SELECT run_id, source, channel, file_name, profile, started_at, finished_at, duration_ms,
               rows_read, inserted, updated, unchanged, quarantined, status, error, warnings
        FROM ingest_runs {where} ORDER BY run_id DESC LIMIT ?
    """, params).df()


def quarantine_reasons(con: duckdb.DuckDBPyConnection, lang: str = "vi", since: datetime | None = None) -> pd.DataFrame:
    """Quarantined rows grouped by reason, with the reason in words."""
    df = con.execute("""
        SELECT source, reason_code, column_name, count(*) AS rows, count(DISTINCT file_name) AS files,
               max(quarantined_at) AS latest
        FROM quarantine WHERE quarantined_at >= coalesce(?, TIMESTAMP '1900-01-01')
        GROUP BY ALL ORDER BY rows DESC
    """, [since]).df()
    df["reason"] = [describe(c, col, "…", lang) for c, col in zip(df["reason_code"], df["column_name"], strict=True)]
    return df


def quarantine_list(con: duckdb.DuckDBPyConnection, lang: str = "vi", limit: int = 500, offset: int = 0,
                    source: str | None = None) -> pd.DataFrame:
    """The quarantined rows to fix: file, line, record, reason in words. No personal data is stored."""
    where = "WHERE q.source = ?" if source else ""
    params = ([source] if source else []) + [limit, offset]
    df = con.execute(f"""
        SELECT q.run_id, q.source, q.file_name, q.line, q.record_id, q.reason_code, q.column_name, q.bad_value,
               q.quarantined_at
        FROM quarantine q {where}
        ORDER BY q.quarantined_at DESC, q.file_name, q.line LIMIT ? OFFSET ?
    """, params).df()
    df["reason"] = [describe(c, col, v, lang) for c, col, v in
                    zip(df["reason_code"], df["column_name"], df["bad_value"], strict=True)]
    return df


def units_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The city and its wards/communes: unit_code, name (with diacritics), name_en, unit_type."""
    return con.execute("SELECT unit_code, name, name_en, unit_type FROM units ORDER BY unit_code").df()


def last_received(con: duckdb.DuckDBPyConnection, now: datetime | None = None, since=None) -> pd.DataFrame:
    """Per ward/commune (every unit but the city): the newest receipt time of a dossier up to `now` (NaT: none
    yet), and data_since, the earliest receipt of any unit (the same on every row; NaT: no dossier at all).
    `since` (a date): only dossiers received from that day on count, which reads only the recent part of the
    table (its blocks' min/max of received_date). The alerts' data_stale rule judges from it whether a unit's
    system stopped sending, or never sent."""
    return con.execute("""
        WITH d AS (
            SELECT unit_code, received_at FROM dossiers
            WHERE received_at <= coalesce($now, TIMESTAMP '9999-01-01')
              AND received_date >= coalesce($since, DATE '0001-01-01'))
        SELECT u.unit_code, m.last_received_at, (SELECT min(received_at) FROM d) AS data_since
        FROM units u LEFT JOIN (SELECT unit_code, max(received_at) AS last_received_at FROM d GROUP BY unit_code) m
             ON m.unit_code = u.unit_code
        WHERE u.parent_code IS NOT NULL
        ORDER BY u.unit_code
    """, {"now": now, "since": since}).df()


def working_days(con: duckdb.DuckDBPyConnection, start, end) -> list:
    """The working days (calendar.is_working) from `start` to `end`, inclusive, as dates."""
    return [r[0] for r in con.execute("SELECT day FROM calendar WHERE day BETWEEN ? AND ? AND is_working ORDER BY day",
                                      [start, end]).fetchall()]


def is_working_day(con: duckdb.DuckDBPyConnection, day) -> bool:
    """Whether `day` is a working day in the warehouse calendar (not a weekend, not Tết or a holiday)."""
    row = con.execute("SELECT is_working FROM calendar WHERE day = ?", [day]).fetchone()
    return bool(row and row[0])
