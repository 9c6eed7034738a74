"""The aggregate tables' SQL in one dialect that both DuckDB and Spark SQL accept, generated from the declared measures.

metrics/aggregates.py builds the serving tables inside the warehouse with DuckDB-only SQL (FILTER
clauses, GROUP BY ALL, UNION ALL BY NAME). This module generates the same tables from the same measure
declarations (registry, sqlparts: event days, stock events) in a portable subset, so that any engine
that reads the lake can build them: conditional aggregates as CASE WHEN, positional GROUP BY, one scan
with each row repeated per event-day expression (a CROSS JOIN with VALUES) instead of a UNION of one
GROUP BY per event day, CAST(date_trunc('month', d) AS DATE) for months. The measures' own
`filter` and `expr` snippets are plain SQL conditions and columns, valid in both dialects.

The SQL reads two views, `dossiers` and `procedures` (lake.read creates them on either engine).

Built: metrics_day, metrics_month (flows and the stocks' entering/leaving counts), metrics_hist (the
histograms behind exact medians) and metrics_open (the dossiers not finished, every column: the stocks judged
now and the overdue lists). The kinds current, staff_days and unit_median are computed at query time from
these tables, the calendar and indicators, as with metrics/aggregates.py.
"""

from __future__ import annotations

from .aggregates import MONTH_DIMS
from .aggregates import _columns as _stored_columns
from .registry import Measure, Registry
from .sqlparts import event_day, source_sql, stock_events

TABLES = ("metrics_day", "metrics_month", "metrics_hist", "metrics_open")
KEYS = {
    "metrics_day": ("day", "unit_code"),
    "metrics_month": ("month", "unit_code", *MONTH_DIMS),
    "metrics_hist": ("day", "unit_code", "measure", "value"),
    "metrics_open": ("dossier_id",),
}


def _flow(m: Measure) -> str:
    cond = m.filter or "TRUE"
    if m.agg == "sum":
        return f"sum(CASE WHEN ({cond}) THEN {m.expr} END)"
    return f"count(CASE WHEN ({cond}) THEN {m.expr or 1} END)"


def columns(reg: Registry) -> list[str]:
    """The stored measure columns of metrics_day and metrics_month, in order (metrics.aggregates' layout)."""
    return [c for c, _ in _stored_columns(reg)]


def _branches(reg: Registry) -> dict[str, dict[str, str]]:
    """Event-day expression -> {column: aggregate over the rows whose event falls on that day}."""
    out: dict[str, dict[str, str]] = {}
    for name, m in reg.measures.items():
        if m.kind == "flow":
            out.setdefault(m.time, {})[name] = _flow(m)
        elif m.kind == "stock":
            enters, leaves, valid = stock_events(m)
            cond = f"({m.filter or 'TRUE'}) AND {valid}"
            out.setdefault(enters, {})[f"{name}__in"] = f"count(CASE WHEN ({cond}) THEN 1 END)"
            out.setdefault(leaves, {})[f"{name}__out"] = f"count(CASE WHEN ({cond} AND ({leaves}) IS NOT NULL) THEN 1 END)"
    return out


def _group(n: int) -> str:
    return "GROUP BY " + ", ".join(str(i) for i in range(1, n + 1))


def build_sql(reg: Registry, table: str, dossier_columns: list[str] | None = None) -> str:
    """The portable SELECT producing `table`'s rows (no ORDER BY: engines sort if they need to).

    metrics_open takes the warehouse's dossier columns (`dossier_columns`, the lake manifest's), in order."""
    src = source_sql()
    if table == "metrics_open":
        if not dossier_columns:
            raise ValueError("metrics_open needs the dossier columns (the lake manifest's)")
        return f"SELECT {', '.join(dossier_columns)} FROM dossiers WHERE finished_date IS NULL"
    if table == "metrics_hist":
        branches = []
        for name, m in reg.measures.items():
            if m.kind != "histogram":
                continue
            day = event_day((m.time,))
            branches.append(
                f"SELECT {day} AS day, unit_code, '{name}' AS measure, CAST({m.expr} AS INTEGER) AS value, "
                f"count(*) AS n FROM ({src}) s WHERE ({day}) IS NOT NULL AND ({m.expr}) IS NOT NULL "
                f"AND ({m.filter or 'TRUE'}) {_group(4)}")
        if not branches:
            return ("SELECT CAST(NULL AS DATE) AS day, CAST(NULL AS STRING) AS unit_code, CAST(NULL AS STRING) "
                    "AS measure, 0 AS value, CAST(0 AS BIGINT) AS n FROM procedures WHERE 1 = 0")
        return " UNION ALL ".join(branches)
    if table not in ("metrics_day", "metrics_month"):
        raise ValueError(f"{table} is not an aggregate table (known: {', '.join(TABLES)})")
    cols = columns(reg)
    dims = ("unit_code",) if table == "metrics_day" else ("unit_code", *MONTH_DIMS)
    keys = KEYS[table]
    # one scan: each row once per event-day expression (k), aggregates conditional on k; the same rows
    # and values as one GROUP BY per event day put together, in one pass and one shuffle on Spark
    branches = list(_branches(reg).items())
    ev = "CASE e.k " + " ".join(f"WHEN {i} THEN {day}" for i, (day, _) in enumerate(branches)) + " END"
    ks = ", ".join(f"({i})" for i in range(len(branches)))
    key = "ev AS day" if table == "metrics_day" else "CAST(date_trunc('month', ev) AS DATE) AS month"
    owner = {c: (i, a) for i, (_, aggs) in enumerate(branches) for c, a in aggs.items()}
    sums = ", ".join(f"CAST(coalesce({_when(*owner[c])}, 0) AS BIGINT) AS {c}" for c in cols)
    return (f"SELECT {key}, {', '.join(dims)}, {sums} FROM (SELECT s.*, e.k AS k, {ev} AS ev "
            f"FROM ({src}) s CROSS JOIN (VALUES {ks}) AS e(k)) x WHERE ev IS NOT NULL {_group(len(keys))}")


def _when(k: int, agg: str) -> str:
    """An aggregate of `_branches` restricted to the rows of event-day branch k."""
    return agg.replace("CASE WHEN ", f"CASE WHEN k = {k} AND ", 1)
