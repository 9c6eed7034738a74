"""Small SQL helpers shared by the aggregate builder and the query paths: literals, the dossier source, event days."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqltext import literal as lit

from .registry import Measure

# The catalogue columns measures may use, joined under prefixed names so they never clash with
# dossier columns (both tables have cross_agency).
PROC_COLUMNS = {"proc_fee_bearing": "fee_bearing", "proc_sector": "sector"}
EVENT_DAY_SQL = {
    "received_date": "received_date",
    "finished_date": "finished_date",
    "due_date": "CAST(effective_due_at AS DATE)",
    # the day a withdrawn dossier left (its receipt day when the withdrawal time is unknown: never counted)
    "withdrawn_date": "CASE WHEN status = 'withdrawn' THEN coalesce(CAST(completed_at AS DATE), received_date) END",
}
DIM_SQL = {  # query dimension -> column of the dossier source
    "unit_code": "unit_code", "procedure_code": "procedure_code", "channel": "channel",
    "applicant_type": "applicant_type", "sector": "proc_sector",
}
_CODE = re.compile(r"^[0-9A-Za-z._-]{1,32}$")


def date_lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def ts_lit(t: datetime) -> str:
    return f"TIMESTAMP '{t.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def code_list(codes) -> str:
    """A SQL IN-list of unit or procedure codes; refuses anything that is not a plain code."""
    for c in codes:
        if not _CODE.match(str(c)):
            raise ValueError(f"'{c}' is not a valid code (letters, digits, '.', '_', '-')")
    return "(" + ", ".join(lit(c) for c in codes) + ")"


def source_sql(table: str = "dossiers", where: str | None = None) -> str:
    """Dossier rows with the catalogue columns measures may use (proc_fee_bearing, proc_sector)."""
    cols = ", ".join(f"p.{src} AS {alias}" for alias, src in PROC_COLUMNS.items())
    sql = f"SELECT d.*, {cols} FROM {table} d LEFT JOIN procedures p ON p.procedure_code = d.procedure_code"
    return sql + (f" WHERE {where}" if where else "")


def event_day(days: tuple[str, ...]) -> str:
    """The earliest of the listed event days (NULLs ignored, as DuckDB's least() does)."""
    parts = [EVENT_DAY_SQL[d] for d in days]
    return parts[0] if len(parts) == 1 else f"least({', '.join(parts)})"


def flow_agg(m: Measure) -> str:
    """The aggregate of a flow or histogram measure over matching rows (histograms: the exact median)."""
    cond = m.filter or "TRUE"
    if m.kind == "histogram":
        return f"median({m.expr}) FILTER (WHERE {cond})"
    if m.agg == "sum":
        return f"sum({m.expr}) FILTER (WHERE {cond})"
    return f"count({m.expr or '*'}) FILTER (WHERE {cond})"


def stock_agg(m: Measure, t_sql: str) -> str:
    """Rows of a stock (or current) measure at the judgement time given as SQL."""
    return f"count(*) FILTER (WHERE ({m.filter or 'TRUE'}) AND ({m.at.replace('{T}', t_sql)}))"


def stock_events(m: Measure) -> tuple[str, str, str]:
    """(entering day, leaving day, validity): the stock holds a row at midnight D when enters < D <= leaves."""
    enters, leaves = event_day(m.enters), event_day(m.leaves)
    valid = f"({enters}) IS NOT NULL AND (({leaves}) IS NULL OR ({leaves}) > ({enters}))"
    return enters, leaves, valid
