"""Targets and progress status on query rows: pick the target, find the base value, assess with metrics.status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pandas as pd

from .periods import Period, previous, years
from .registry import Basis, KpiType, Registry, Target
from .status import Status, as_number, assess

# Progress is never annualised over less than this: one complete month (a base inside the period
# judged, e.g. a baseline year equal to the annual value's year, falls back to the period before).
MIN_SPAN_YEARS = 28 / 365.2425

__all__ = ["Basis", "MIN_SPAN_YEARS", "apply", "baseline_period", "select_target"]


def select_target(reg: Registry, kpi: str, unit_code: str | None, year: int | None) -> Target | None:
    """The most specific target for a KPI, unit and year: unit and year > unit > year > general."""
    best, rank = None, -1
    for t in reg.targets_for(kpi):
        if t.unit_code is not None and t.unit_code != unit_code:
            continue
        if t.year is not None and t.year != year:
            continue
        r = 2 * (t.unit_code is not None) + (t.year is not None)
        if r > rank:
            best, rank = t, r
    return best


def baseline_period(t: Target | None) -> Period | None:
    return t.baseline.as_period() if t is not None and t.baseline is not None else None


def _deadline_years(t: Target) -> float:
    return years(datetime.combine(t.deadline + timedelta(days=1), time()))


def apply(reg: Registry, rows: dict[str, list], periods: dict[str, Period], keys: list[str], now: datetime,
          values_at: Callable[[list[str], Period], pd.DataFrame]) -> None:
    """Fill target, deadline, base, status, ratio and projection columns of the requested rows (in place).

    `rows` holds columns as lists (kpi, period, value, previous, as_of and the group keys).
    `values_at(kpis, period)` computes KPI values over another period for the same units and groups;
    it serves the registry baselines. Without a baseline (or without data in it) the previous
    period is the base.
    """
    n = len(rows["kpi"])
    cache: dict[tuple, Target | None] = {}
    found_targets = []
    for k, u, p in zip(rows["kpi"], rows["unit_code"], rows["period"], strict=True):
        key = (k, u, periods[p].start.year)
        if key not in cache:
            cache[key] = select_target(reg, *key)
        found_targets.append(cache[key])
    bperiod = {id(t): baseline_period(t) for t in set(cache.values()) if t is not None}
    wanted: dict[Period, set[str]] = {}
    for t in cache.values():
        if t is not None and bperiod[id(t)] is not None:
            wanted.setdefault(bperiod[id(t)], set()).add(t.kpi)
    found: dict[tuple, float] = {}
    for bp, codes in wanted.items():
        b = values_at(sorted(codes), bp)
        for r in b[["kpi", "value", *keys]].itertuples(index=False):
            if r[1] is not None and pd.notna(r[1]):
                found[(bp.label, r[0], *(None if x is None or x != x else x for x in r[2:]))] = float(r[1])
    out = {c: [None] * n for c in ("target", "target_comparison", "target_deadline", "base_period", "base_value",
                                   "status", "status_reason", "method", "ratio", "projected")}
    group = [rows[k] for k in keys]
    # pure functions of a few distinct inputs (13 periods, a handful of targets), asked once per row
    memo_years: dict = {}
    memo_prev: dict[str, tuple[Period, float]] = {}
    memo_deadline: dict[int, float] = {}

    def years_of(x):
        if x not in memo_years:
            memo_years[x] = years(x)
        return memo_years[x]

    def previous_of(label: str, period: Period) -> tuple[Period, float]:
        if label not in memo_prev:
            prev = previous(period)
            memo_prev[label] = (prev, years(prev.judged_at(now)))
        return memo_prev[label]

    for i, t in enumerate(found_targets):
        if t is None:
            continue
        out["target"][i], out["target_comparison"][i], out["target_deadline"][i] = t.value, t.comparison, t.deadline
        period = periods[rows["period"][i]]
        if rows["partial"][i]:  # hours of data are shown, never judged
            out["status"][i], out["status_reason"][i] = Status.PARTIAL.value, "partial"
            continue
        if rows["few_data"][i]:
            out["status"][i], out["status_reason"][i] = Status.FEW_DATA.value, "few_data"
            continue
        k = reg.kpis[rows["kpi"][i]]
        # a publication describes its whole period: judged at its end, so R does not move by the hour
        t1 = years_of(period.end) if k.type == KpiType.INDICATOR else years_of(rows["as_of"][i])
        bp = bv = t0 = None
        if t.baseline is not None and t.baseline.value is not None:
            bp, bv = str(t.baseline.date), t.baseline.value
            t0 = years(datetime.combine(t.baseline.date + timedelta(days=1), time()))
        elif bperiod[id(t)] is not None:
            p = bperiod[id(t)]
            bv = found.get((p.label, rows["kpi"][i], *(g[i] for g in group)))
            if bv is not None:
                bp, t0 = p.label, years(p.judged_at(now))
        if t0 is not None and t1 - t0 < MIN_SPAN_YEARS:
            bp = bv = t0 = None  # the baseline is this period itself (an annual series): compare with the year before
        prev, prev_years = previous_of(rows["period"][i], period)
        if bv is None and rows["previous"][i] is not None:
            bp, bv, t0 = prev.label, rows["previous"][i], prev_years
        if id(t) not in memo_deadline:
            memo_deadline[id(t)] = _deadline_years(t)
        pr = assess(rows["value"][i], t1, t.value, memo_deadline[id(t)], t.comparison, k.direction, bv, t0, k.bounds)
        out["base_period"][i], out["base_value"][i] = bp, bv
        out["status"][i], out["ratio"][i], out["projected"][i] = pr.status.value, pr.ratio, pr.projected
        out["method"][i] = pr.method
        if pr.status == Status.NO_DATA:
            # say which data is missing: the value itself, or a value to measure progress from
            out["status_reason"][i] = "no_value" if as_number(rows["value"][i]) is None else f"no_base:{prev.label}"
    rows.update(out)
