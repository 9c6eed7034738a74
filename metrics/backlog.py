"""The action lists (docs/domain.md §4): the overdue list (open dossiers past their due time as of now, most
overdue first) and the due-soon list (open dossiers not overdue, due within N working days, soonest first)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from . import aggregates
from .registry import get_registry
from .sqlparts import code_list, ts_lit

OVERDUE_MEASURE = "in_flight_overdue"  # the one definition of "overdue", as the backlog KPI counts it
IN_FLIGHT_MEASURE = "in_flight"
LIST_COLUMNS = ["dossier_id", "unit_code", "unit_name", "procedure_code", "procedure_name_vi", "procedure_name_en",
                "received_at", "effective_due_at"]


def overdue_sql(units: tuple[str, ...] | None, now: datetime, limit: int | None, table: str = "dossiers") -> str:
    """The dossiers the overdue backlog counts at `now`, from the measure's own declaration."""
    m = get_registry().measures[OVERDUE_MEASURE]
    unit_filter = f"AND unit_code IN {code_list(units)}" if units is not None else ""
    rows = (f"SELECT * FROM {table} WHERE ({m.filter or 'TRUE'}) AND ({m.at.replace('{T}', ts_lit(now))}) "
            f"{unit_filter}")
    return f"""
        SELECT d.dossier_id, d.unit_code, u.name AS unit_name, d.procedure_code, p.name_vi AS procedure_name_vi,
               p.name_en AS procedure_name_en, d.received_at, d.effective_due_at,
               ct.wd_cum - cd.wd_cum AS working_days_overdue, d.status
        FROM ({rows}) d
        LEFT JOIN units u ON u.unit_code = d.unit_code
        LEFT JOIN procedures p ON p.procedure_code = d.procedure_code
        LEFT JOIN calendar cd ON cd.day = CAST(d.effective_due_at AS DATE)
        LEFT JOIN calendar ct ON ct.day = {ts_lit(now)}::DATE
        ORDER BY working_days_overdue DESC, d.effective_due_at, d.dossier_id
        {f'LIMIT {int(limit)}' if limit else ''}
    """


def overdue_list(con: duckdb.DuckDBPyConnection, units: str | Iterable[str] | None = None,
                 now: datetime | None = None, scope: Iterable[str] | None = None, limit: int | None = 100) -> pd.DataFrame:
    """Dossiers in flight whose due time (supplement days added) has passed, not waiting for the
    citizen, within scope: exactly the rows the overdue backlog counts now.

    working_days_overdue = wd_cum(today) - wd_cum(due date) from the working-day calendar.
    """
    from .engine import local_now, selection

    now = now or local_now()
    sel = selection(units, scope, aggregate=False)  # a dossier list is never an aggregate
    if sel is None:
        return pd.DataFrame(columns=["dossier_id", "unit_code", "unit_name", "procedure_code", "procedure_name_vi",
                                     "procedure_name_en", "received_at", "effective_due_at",
                                     "working_days_overdue", "status"])
    state = aggregates.read_state(con)
    # metrics_open holds what is unfinished in the data as loaded: right for a `now` after every event
    table = "metrics_open" if aggregates.slow_path_reason(state, now) is None else "dossiers"
    return con.execute(overdue_sql(sel.units, now, limit, table)).df()


def due_soon_sql(units: tuple[str, ...] | None, now: datetime, within: int, limit: int | None,
                 table: str = "dossiers") -> str:
    """In flight at `now`, not waiting for the citizen, not overdue (the complement of the overdue measure's
    rows), with the due date at most `within` working days after today (a due date today counts 0)."""
    reg = get_registry()
    over, flight = reg.measures[OVERDUE_MEASURE], reg.measures[IN_FLIGHT_MEASURE]
    t = ts_lit(now)
    unit_filter = f"AND unit_code IN {code_list(units)}" if units is not None else ""
    rows = (f"SELECT * FROM {table} WHERE ({over.filter or 'TRUE'}) AND ({flight.at.replace('{T}', t)}) "
            f"AND NOT ({over.at.replace('{T}', t)}) {unit_filter}")
    return f"""
        SELECT d.dossier_id, d.unit_code, u.name AS unit_name, d.procedure_code, p.name_vi AS procedure_name_vi,
               p.name_en AS procedure_name_en, d.received_at, d.effective_due_at,
               cd.wd_cum - ct.wd_cum AS working_days_left, d.status
        FROM ({rows}) d
        LEFT JOIN units u ON u.unit_code = d.unit_code
        LEFT JOIN procedures p ON p.procedure_code = d.procedure_code
        JOIN calendar cd ON cd.day = CAST(d.effective_due_at AS DATE)
        JOIN calendar ct ON ct.day = {t}::DATE
        WHERE cd.wd_cum - ct.wd_cum <= {int(within)}
        ORDER BY d.effective_due_at, d.dossier_id
        {f'LIMIT {int(limit)}' if limit else ''}
    """


def due_soon_list(con: duckdb.DuckDBPyConnection, units: str | Iterable[str] | None = None,
                  now: datetime | None = None, within: int = 2, scope: Iterable[str] | None = None,
                  limit: int | None = 100) -> pd.DataFrame:
    """Dossiers in flight, not overdue now and not waiting for the citizen, whose effective due date is at
    most `within` working days after today, soonest first, within scope (the viewer's scope applies).

    working_days_left = wd_cum(due date) - wd_cum(today) from the working-day calendar: 0 when due today
    (or on a holiday right after today's last working day), 1 the next working day, and so on.
    """
    from .engine import local_now, selection

    now = now or local_now()
    sel = selection(units, scope, aggregate=False)  # a dossier list is never an aggregate
    if sel is None:
        return pd.DataFrame(columns=[*LIST_COLUMNS, "working_days_left", "status"])
    state = aggregates.read_state(con)
    table = "metrics_open" if aggregates.slow_path_reason(state, now) is None else "dossiers"
    return con.execute(due_soon_sql(sel.units, now, within, limit, table)).df()


# --- every unit at once (the alerts' evaluation) ---------------------------------------------------------

LEAN_COLUMNS = ("dossier_id", "unit_code", "procedure_code", "effective_due_at")


def every_unit_list(con: duckdb.DuckDBPyConnection, kind: str, now: datetime | None = None,
                    within: int = 2) -> pd.DataFrame:
    """Every unit's overdue list (`kind` 'overdue') or due-soon list ('due_soon', within `within` working
    days) in one query, with only what grouping by unit needs: dossier_id, unit_code, procedure_code,
    effective_due_at and the days column (working_days_overdue / working_days_left), in the list's order.
    Each unit's rows are exactly what overdue_list / due_soon_list give that unit; names come from
    procedure_names (one row per procedure, not per dossier). The viewer's scope applies."""
    from .engine import local_now, selection

    now = now or local_now()
    if kind not in ("overdue", "due_soon"):
        raise ValueError(f"kind {kind!r}: expected 'overdue' or 'due_soon'")
    days = "working_days_overdue" if kind == "overdue" else "working_days_left"
    sel = selection(None, None, aggregate=False)
    if sel is None:
        return pd.DataFrame(columns=[*LEAN_COLUMNS, days])
    state = aggregates.read_state(con)
    table = "metrics_open" if aggregates.slow_path_reason(state, now) is None else "dossiers"
    inner = (overdue_sql(sel.units, now, None, table) if kind == "overdue"
             else due_soon_sql(sel.units, now, within, None, table))
    order = ("working_days_overdue DESC, effective_due_at, dossier_id" if kind == "overdue"
             else "effective_due_at, dossier_id")  # the lists' own order, said again outside
    return con.execute(f"SELECT {', '.join(LEAN_COLUMNS)}, {days} FROM ({inner}) ORDER BY {order}").df()


def procedure_names(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The procedures' names as the lists carry them: procedure_code, procedure_name_vi, procedure_name_en."""
    return con.execute("SELECT procedure_code, name_vi AS procedure_name_vi, name_en AS procedure_name_en "
                       "FROM procedures ORDER BY procedure_code").df()
