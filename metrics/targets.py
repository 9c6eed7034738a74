"""Targets and progress status on query rows: pick the target, find the base value, assess with metrics.status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pandas as pd

from .periods import Period, previous, years
from .registry import Basis, KpiType, Registry, Target
from .status import Status, as_number, assess_many

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
    # rows are judged in batches of one target, KPI and period: their times, deadline and base rule are the same
    batches: dict[tuple[int, str, str], list[int]] = {}
    by_id: dict[int, Target] = {}
    for i, t in enumerate(found_targets):
        if t is None:
            continue
        out["target"][i], out["target_comparison"][i], out["target_deadline"][i] = t.value, t.comparison, t.deadline
        if rows["partial"][i]:  # hours of data are shown, never judged
            out["status"][i], out["status_reason"][i] = Status.PARTIAL.value, "partial"
        elif rows["few_data"][i]:
            out["status"][i], out["status_reason"][i] = Status.FEW_DATA.value, "few_data"
        else:
            by_id[id(t)] = t
            batches.setdefault((id(t), rows["kpi"][i], rows["period"][i]), []).append(i)
    memo_years: dict = {}

    def years_of(x):
        if x not in memo_years:
            memo_years[x] = years(x)
        return memo_years[x]

    for (tid, code, label), idx in batches.items():
        t, k, period = by_id[tid], reg.kpis[code], periods[label]
        # a publication describes its whole period: judged at its end, so R does not move by the hour
        t1 = [years_of(period.end)] * len(idx) if k.type == KpiType.INDICATOR else [years_of(rows["as_of"][i])
                                                                                    for i in idx]
        bp: list = [None] * len(idx)
        bv: list = [None] * len(idx)
        t0: list = [None] * len(idx)
        if t.baseline is not None and t.baseline.value is not None:
            fixed = years(datetime.combine(t.baseline.date + timedelta(days=1), time()))
            bp, bv, t0 = [str(t.baseline.date)] * len(idx), [t.baseline.value] * len(idx), [fixed] * len(idx)
        elif bperiod[tid] is not None:
            p = bperiod[tid]
            at = years(p.judged_at(now))
            for j, i in enumerate(idx):
                bv[j] = found.get((p.label, code, *(g[i] for g in group)))
                if bv[j] is not None:
                    bp[j], t0[j] = p.label, at
        prev = previous(period)
        prev_years = years(prev.judged_at(now))
        for j, i in enumerate(idx):
            if t0[j] is not None and t1[j] - t0[j] < MIN_SPAN_YEARS:
                bp[j] = bv[j] = t0[j] = None  # the base is this period itself (an annual series): the year before
            if bv[j] is None and rows["previous"][i] is not None:
                bp[j], bv[j], t0[j] = prev.label, rows["previous"][i], prev_years
        judged = assess_many([rows["value"][i] for i in idx], t1, t.value, _deadline_years(t), t.comparison,
                             k.direction, bv, t0, k.bounds)
        for j, i in enumerate(idx):
            pr = judged[j]
            out["base_period"][i], out["base_value"][i] = bp[j], bv[j]
            out["status"][i], out["ratio"][i], out["projected"][i] = pr.status.value, pr.ratio, pr.projected
            out["method"][i] = pr.method
            if pr.status == Status.NO_DATA:
                # say which data is missing: the value itself, or a value to measure progress from
                out["status_reason"][i] = "no_value" if as_number(rows["value"][i]) is None else f"no_base:{prev.label}"
    rows.update(out)
