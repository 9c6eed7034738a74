"""Measure values per (period, group): the raw-SQL reference path and the fast path over the aggregate tables.

Both return the same frame: one row per period label and group (the `by` columns), one column per
measure. Flows are counted on their date within [start, end) and before the judgement time T; stocks
are the rows in the declared state at T = min(end, now); histogram measures give their exact median.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np

from . import open_counts, staffing
from .aggregates import AggState, slow_path_reason
from .periods import RANGE, Period
from .registry import Registry
from .sqlparts import DIM_SQL, code_list, date_lit, flow_agg, lit, source_sql, stock_agg, ts_lit

log = logging.getLogger(__name__)

BEFORE = date(1, 1, 1)  # bucket of everything before the first period (stocks start from there)


@dataclass(frozen=True)
class Selection:
    """Which units a computation covers (None = every unit) and the unit_code its totals carry."""

    units: tuple[str, ...] | None
    label: str

    def where(self, col: str = "unit_code") -> str | None:
        return None if self.units is None else f"{col} IN {code_list(self.units)}"


def _and(*conds: str | None) -> str:
    c = [x for x in conds if x]
    return " AND ".join(f"({x})" for x in c) if c else "TRUE"


def _values(periods: list[Period], now: datetime) -> str:
    rows = ", ".join(f"({lit(p.label)}, {date_lit(p.start)}, {date_lit(p.end)}, {ts_lit(p.judged_at(now))})"
                     for p in periods)
    return f"per(label, pstart, pend, t) AS (VALUES {rows})"


def raw_sql(reg: Registry, names: list[str], periods: list[Period], sel: Selection, by: tuple[str, ...],
            now: datetime, table: str = "dossiers") -> str:
    """The reference SQL: every measure computed straight from dossier rows (what explain() shows)."""
    ms = [reg.measures[n] for n in names]
    dims = "".join(f"{DIM_SQL[b]} AS {b}, " for b in by)
    ctes = [_values(periods, now), f"src AS ({source_sql(table, sel.where('d.unit_code'))})"]
    parts = []
    for time_col, event_at in (("received_date", "received_at"), ("finished_date", "completed_at")):
        flows = [m for m in ms if m.kind in ("flow", "histogram") and m.time == time_col]
        if flows:
            aggs = ", ".join(f"{flow_agg(m)} AS {m.name}" for m in flows)
            ctes.append(f"f_{time_col} AS (SELECT per.label AS period, {dims}{aggs} FROM src JOIN per "
                        f"ON src.{time_col} >= per.pstart AND src.{time_col} < per.pend AND src.{event_at} < per.t "
                        "GROUP BY ALL)")
            parts.append(f"f_{time_col}")
    stocks = [m for m in ms if m.kind in ("stock", "current")]
    if stocks:
        aggs = ", ".join(f"{stock_agg(m, 'per.t')} AS {m.name}" for m in stocks)
        # every stock is a subset of the dossiers in flight at T: the join keeps only those
        ctes.append(f"s_at AS (SELECT per.label AS period, {dims}{aggs} FROM src JOIN per "
                    "ON src.received_at < per.t AND coalesce(CASE WHEN src.finished_date IS NOT NULL "
                    "THEN src.completed_at END, TIMESTAMP '9999-12-31') >= per.t GROUP BY ALL)")
        parts.append("s_at")
    specials = [m for m in ms if m.kind in staffing.SPECIAL]
    if specials:  # officer-days and the city median (metrics/staffing.py)
        more, names = staffing.ctes(reg, specials, sel.where("s.unit_code"), by, source_sql(table))
        ctes += more
        parts += names
    outer = ", ".join(f"{'max' if m.kind in ('histogram', 'unit_median') else 'sum'}({m.name}) AS {m.name}"
                      for m in ms)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts)
    keys = ", ".join(("period",) + by)
    return (f"WITH {', '.join(ctes)}\nSELECT {keys}, {outer}\nFROM ({union})\nGROUP BY ALL ORDER BY ALL")


def special_sql(reg: Registry, names: list[str], periods: list[Period], sel: Selection, by: tuple[str, ...],
                now: datetime) -> str:
    """The staff_days and unit_median measures for the fast path: the SQL of raw_sql, with the median's
    per-unit flows read from metrics_day (exact when the aggregates are fresh and now is past the data)."""
    ms = [reg.measures[n] for n in names]
    more, parts = staffing.ctes(reg, ms, sel.where("s.unit_code"), by, None)
    keys = ", ".join(("period",) + by)
    outer = ", ".join(f"{'max' if m.kind == 'unit_median' else 'sum'}({m.name}) AS {m.name}" for m in ms)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts)
    return (f"WITH {', '.join([_values(periods, now), *more])}\nSELECT {keys}, {outer}\nFROM ({union})\n"
            "GROUP BY ALL ORDER BY ALL")


# --- fast path -------------------------------------------------------------------------------------

def _bucket(periods: list[Period], col: str) -> tuple[str, date, date]:
    lo, hi = min(p.start for p in periods), max(p.end for p in periods)
    if periods[0].grain == RANGE:
        expr = f"CASE WHEN {col} >= {date_lit(lo)} THEN {date_lit(lo)} END"
    else:
        expr = f"CASE WHEN {col} >= {date_lit(lo)} THEN CAST(date_trunc('{periods[0].grain}', {col}) AS DATE) END"
    return expr, lo, hi


def _flows_stocks(con, reg: Registry, flows: list[str], stocks: list[str], periods: list[Period],
                  sel: Selection, by: tuple[str, ...]) -> tuple[list[str], list[tuple]]:
    """Flows per period and stocks at each period's end from metrics_day (unit only) or metrics_month."""
    monthly = any(b != "unit_code" for b in by)
    table, col = ("metrics_month", "month") if monthly else ("metrics_day", "day")
    bucket, lo, hi = _bucket(periods, col)
    dims = "".join(f"{'proc_sector' if b == 'sector' else 'a.' + b} AS {b}, " for b in by)
    join = " LEFT JOIN (SELECT procedure_code AS pc, sector AS proc_sector FROM procedures) p ON p.pc = a.procedure_code" \
        if "sector" in by else ""
    aggs = [f"sum({f})::DOUBLE AS {f}" for f in flows] + [f"(sum({s}__in) - sum({s}__out))::DOUBLE AS {s}" for s in stocks]
    rel = con.execute(f"SELECT coalesce({bucket}, {date_lit(BEFORE)}) AS bucket, {dims}{', '.join(aggs)} FROM {table} a{join} "
                      f"WHERE {_and(f'a.{col} < {date_lit(hi)}', None if stocks else f'a.{col} >= {date_lit(lo)}', sel.where('a.unit_code'))} "
                      "GROUP BY ALL")
    rows = rel.fetchall()
    # groups x buckets x measures, then running sums for the stocks
    buckets = sorted({r[0] for r in rows} | {p.start for p in periods} | {BEFORE})
    bpos = {b: i for i, b in enumerate(buckets)}
    nb = len(by)
    groups: dict[tuple, int] = {}
    for r in rows:
        groups.setdefault(tuple(r[1:1 + nb]), len(groups))
    if not by:
        groups = {(): 0}
    names = flows + stocks
    arr = np.zeros((len(groups), len(buckets), len(names)))
    for r in rows:
        arr[groups[tuple(r[1:1 + nb])], bpos[r[0]]] = [0.0 if v is None else v for v in r[1 + nb:]]
    nf = len(flows)
    if stocks:
        arr[:, :, nf:] = np.cumsum(arr[:, :, nf:], axis=1)
    out = []
    for p in periods:
        i_flow = bpos[p.start]
        i_stock = bisect_left(buckets, p.end) - 1  # the last bucket that ends by p.end
        vals = np.concatenate([arr[:, i_flow, :nf], arr[:, i_stock, nf:]], axis=1).tolist()
        out += [(p.label, *g, *v) for g, v in zip(groups, vals, strict=True)]
    return ["period", *by, *names], out


def _current_stocks(con, reg: Registry, names: list[str], period: Period, sel: Selection,
                    by: tuple[str, ...], now: datetime, layout: open_counts.Layout | None) -> tuple[list[str], list[tuple]]:
    """Stocks judged now, from the unfinished dossiers folded into counts (metrics_open_counts) when its
    layout answers them, else from metrics_open itself: exact once `now` is past the data."""
    ms = [reg.measures[n] for n in names]
    dims = "".join(f"{DIM_SQL[b]} AS {b}, " for b in by)
    if layout is not None and layout.answers(names, by, now):
        aggs = ", ".join(f"{open_counts.stock_sum(m, ts_lit(now))} AS {m.name}" for m in ms)
        where = sel.where("unit_code")
        return _fetch(con, f"SELECT {lit(period.label)} AS period, {dims}{aggs} FROM {open_counts.TABLE}"
                           f"{' WHERE ' + where if where else ''} GROUP BY ALL")
    aggs = ", ".join(f"{stock_agg(m, ts_lit(now))} AS {m.name}" for m in ms)
    return _fetch(con, f"SELECT {lit(period.label)} AS period, {dims}{aggs} "
                       f"FROM ({source_sql('metrics_open', sel.where('d.unit_code'))}) GROUP BY ALL")


def _medians(con, names: list[str], periods: list[Period], sel: Selection,
             by: tuple[str, ...]) -> tuple[list[str], list[tuple]]:
    """Exact medians from metrics_hist: the mean of the values at ranks floor((n-1)/2) and floor(n/2)."""
    bucket, lo, hi = _bucket(periods, "day")
    keys = ", ".join(["bucket", *by])
    aggs = ", ".join(f"max(median) FILTER (WHERE measure = {lit(n)}) AS {n}" for n in names)
    cols, rows = _fetch(con, f"""
        WITH h AS (SELECT {bucket} AS bucket, {''.join(b + ', ' for b in by)}measure, value, sum(n) AS n
                   FROM metrics_hist
                   WHERE {_and(f"day >= {date_lit(lo)}", f"day < {date_lit(hi)}", sel.where(),
                               "measure IN " + code_list(names))}
                   GROUP BY ALL),
             c AS (SELECT *, sum(n) OVER (PARTITION BY {keys}, measure ORDER BY value ROWS UNBOUNDED PRECEDING) AS cum,
                          sum(n) OVER (PARTITION BY {keys}, measure) AS tot FROM h),
             m AS (SELECT {keys}, measure, (min(value) FILTER (WHERE cum > (tot - 1) // 2)
                          + min(value) FILTER (WHERE cum > tot // 2)) / 2.0 AS median FROM c GROUP BY ALL)
        SELECT {keys}, {aggs} FROM m GROUP BY ALL
    """)
    starts = {p.start: p.label for p in periods}
    return ["period", *cols[1:]], [(starts[r[0]], *r[1:]) for r in rows if r[0] in starts]


def _fetch(con, sql: str) -> tuple[list[str], list[tuple]]:
    rel = con.execute(sql)
    return [d[0] for d in rel.description], rel.fetchall()


@dataclass
class MeasureTable:
    """Measure values aligned on rows (period, *by): `cols[name][i]` belongs to `keys[i]`; NaN = no value."""

    keys: list[tuple]
    cols: dict[str, np.ndarray]


def compute(con: duckdb.DuckDBPyConnection, reg: Registry, names: list[str], periods: list[Period],
            sel: Selection, by: tuple[str, ...], now: datetime, state: AggState | None,
            universe: tuple[str, ...] | None = None) -> MeasureTable:
    """Measure values for `periods`, from the aggregates when they can answer exactly, else from raw rows.

    Rows: without `by`, one per period; by unit_code alone, one per period and unit of `universe`
    (zero counts where nothing happened); by other dimensions, the groups with anything to count.
    """
    parts: list[tuple[list[str], list[tuple], bool]] = []  # (columns, rows, overrides)
    slow = slow_path_reason(state, now) if state is not None else "raw rows asked for"
    fast = slow is None
    if state is not None and slow is not None:
        warn_slow(slow)
    regular = len({p.grain for p in periods}) == 1 and (periods[0].grain != RANGE or len(periods) == 1)
    if names and periods and (not fast or not regular):
        parts.append((*_fetch(con, raw_sql(reg, names, periods, sel, by, now)), False))
    elif names and periods:
        ms = [reg.measures[n] for n in names]
        flows = [m.name for m in ms if m.kind == "flow"]
        stocks = [m.name for m in ms if m.kind == "stock"]
        hists = [m.name for m in ms if m.kind == "histogram"]
        currents = [m.name for m in ms if m.kind == "current"]
        by_dims = any(b != "unit_code" for b in by)
        current = [p for p in periods if p.is_current(now)]
        if len(current) == len(periods):
            stocks_at_end = []  # the current period's stocks are judged now (metrics_open below)
        else:
            stocks_at_end = stocks
        if flows or stocks_at_end:
            if by_dims and not all(p.month_aligned for p in periods):
                parts.append((*_fetch(con, raw_sql(reg, flows + stocks_at_end, periods, sel, by, now)), False))
            else:
                parts.append((*_flows_stocks(con, reg, flows, stocks_at_end, periods, sel, by), False))
        if hists:
            parts.append((*(_fetch(con, raw_sql(reg, hists, periods, sel, by, now)) if by_dims
                            else _medians(con, hists, periods, sel, by)), False))
        specials = staffing.special(reg, names)
        if specials:  # officer-days and the city median: small (units x days), flows from metrics_day
            parts.append((*_fetch(con, special_sql(reg, specials, periods, sel, by, now)), False))
        if current and (stocks or currents):  # judged now, not at the period's end
            parts.append((*_current_stocks(con, reg, stocks + currents, current[0], sel, by, now, state.open_counts), True))
    return _align(parts, names, periods, by, [n for n in names if reg.measures[n].kind not in ("histogram", "unit_median")], universe)


_WARNED: dict[str, float] = {}


def warn_slow(reason: str) -> None:
    """Log why a query falls back to raw rows, once a minute per reason (never silently)."""
    t = time.monotonic()
    if t - _WARNED.get(reason, -1e9) >= 60:
        _WARNED[reason] = t
        log.warning("metrics query on raw rows (slow path): %s", reason)


def _align(parts, names: list[str], periods: list[Period], by: tuple[str, ...], additive: list[str],
           universe: tuple[str, ...] | None) -> MeasureTable:
    nk = 1 + len(by)
    table: dict[tuple, dict] = {}
    for cols, rows, override in parts:
        for r in rows:
            slot = table.setdefault(tuple(r[:nk]), {})
            for c, v in zip(cols[nk:], r[nk:], strict=True):
                if override or slot.get(c) is None:
                    slot[c] = v
    if not by:
        keys = [(p.label,) for p in periods]
    elif universe is not None:
        keys = [(p.label, u) for p in periods for u in sorted(universe)]
    else:  # groups with something to count in that period
        order = {p.label: i for i, p in enumerate(periods)}
        keys = sorted((k for k, v in table.items() if k[0] in order and any(x not in (None, 0) for x in v.values())),
                      key=lambda k: (order[k[0]], *("" if x is None else str(x) for x in k[1:])))
    cols = {}
    for n in names:
        arr = np.array([table.get(k, {}).get(n) for k in keys], dtype=float)
        cols[n] = np.nan_to_num(arr) if n in additive else arr
    return MeasureTable(keys, cols)
