"""The overdue list: open dossiers past their due time as of now, most overdue first (actionable, DOMAIN.md §4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from . import aggregates
from .sqlparts import code_list, ts_lit

OVERDUE_STATUSES = ("received", "processing")  # not supplement_requested: the clock is paused


def overdue_sql(units: tuple[str, ...] | None, now: datetime, limit: int | None, table: str = "dossiers") -> str:
    unit_filter = f"AND d.unit_code IN {code_list(units)}" if units is not None else ""
    return f"""
        SELECT d.dossier_id, d.unit_code, u.name AS unit_name, d.procedure_code, p.name_vi AS procedure_name_vi,
               p.name_en AS procedure_name_en, d.received_at, d.effective_due_at,
               ct.wd_cum - cd.wd_cum AS working_days_overdue, d.status
        FROM {table} d
        LEFT JOIN units u ON u.unit_code = d.unit_code
        LEFT JOIN procedures p ON p.procedure_code = d.procedure_code
        LEFT JOIN calendar cd ON cd.day = CAST(d.effective_due_at AS DATE)
        LEFT JOIN calendar ct ON ct.day = {ts_lit(now)}::DATE
        WHERE d.status IN ('received', 'processing') AND d.effective_due_at < {ts_lit(now)} {unit_filter}
        ORDER BY working_days_overdue DESC, d.effective_due_at, d.dossier_id
        {f'LIMIT {int(limit)}' if limit else ''}
    """


def overdue_list(con: duckdb.DuckDBPyConnection, units: str | Iterable[str] | None = None,
                 now: datetime | None = None, scope: Iterable[str] | None = None, limit: int | None = 100) -> pd.DataFrame:
    """Dossiers received or processing whose due time (supplement days added) has passed, within scope.

    working_days_overdue = wd_cum(today) - wd_cum(due date) from the working-day calendar.
    """
    from .engine import local_now, selection

    now = now or local_now()
    sel = selection(units, scope)
    if sel is None:
        return pd.DataFrame(columns=["dossier_id", "unit_code", "unit_name", "procedure_code", "procedure_name_vi",
                                     "procedure_name_en", "received_at", "effective_due_at",
                                     "working_days_overdue", "status"])
    state = aggregates.read_state(con)
    table = "metrics_open" if state is not None and state.fresh else "dossiers"
    return con.execute(overdue_sql(sel.units, now, limit, table)).df()
