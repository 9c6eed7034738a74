"""KPIs that do not come from dossiers: the procedure catalogue (coverage) and the indicator feed.

Catalogue KPIs count the procedures as they stood at each period's judgement time T = min(end, now)
(table procedure_levels: each procedure's online level and activity over time, see
warehouse/reference.py), so every period has a value and a closed period's value never changes when
the catalogue changes later. A level is counted at T when it was in force just before T
(valid_from < T <= valid_to), so a month ending at midnight counts what held on its last day. A
procedure with no history row at all (written into `procedures` directly) counts with its current
values at any time. Other columns (sector, fee_bearing, ...) are the current catalogue's. A unit
shows the city's catalogue (every unit uses it).

Indicator KPIs use the latest publication (view indicator_latest) of the period that matches the
query period: the same period if published, else the finest published period containing it (a
month of a quarterly indicator shows the quarter), else the latest published period inside it (a
year shows its latest quarter so far), else N/A. `revised` says the shown value replaced an earlier
publication; first/last publication times are given beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import pandas as pd

import clock
import config

from .periods import Period
from .registry import Kpi
from .sqlparts import code_list, lit

INDICATOR_COLUMNS = ["source_period", "revised", "first_published", "last_published"]


def catalogue_sql(ks: list[Kpi], by: tuple[str, ...], judged: Sequence[tuple[str, datetime]] | None = None) -> str:
    """Numerator and denominator of catalogue KPIs per period: the catalogue as of each judgement time.

    judged: (period label, T) pairs; None = one row for 'now' (current_localtimestamp()). The KPI
    filters run over `procedures` columns, online_level and active taken from the history as of T."""
    if judged is None:
        times = "SELECT 'now' AS period, current_localtimestamp() AS t"
    else:
        times = "VALUES " + ", ".join(
            f"({lit(label)}, TIMESTAMP '{t.isoformat(sep=' ')}')" for label, t in judged)
    dims = "sector, " if "sector" in by else ""
    aggs = ", ".join(f"count(*) FILTER (WHERE {k.numerator_filter}) AS {k.code}__n, "
                     f"count(*) FILTER (WHERE {k.denominator_filter}) AS {k.code}__d" for k in ks)
    return (f"WITH judged (period, t) AS ({times}), "
            "history AS (SELECT procedure_code, online_level, active, valid_from, valid_to FROM procedure_levels "
            "UNION ALL SELECT procedure_code, online_level, active, NULL, NULL FROM procedures p "
            "WHERE NOT EXISTS (SELECT 1 FROM procedure_levels l WHERE l.procedure_code = p.procedure_code)) "
            f"SELECT judged.period, {dims}{aggs} FROM judged "
            "JOIN history h ON (h.valid_from IS NULL OR h.valid_from < judged.t) AND (h.valid_to IS NULL OR h.valid_to >= judged.t) "
            "JOIN (SELECT * EXCLUDE (online_level, active) FROM procedures) USING (procedure_code) GROUP BY ALL")


def catalogue_values(con: duckdb.DuckDBPyConnection, ks: list[Kpi], periods: Period | Sequence[Period], label: str,
                     by: tuple[str, ...], now: datetime | None = None) -> pd.DataFrame:
    """One row per KPI and period (and sector when `by` has it), each period judged at min(end, now).

    now: the query's clock (default: Hanoi's wall clock)."""
    plist = [periods] if isinstance(periods, Period) else list(dict.fromkeys(periods))
    now = now or clock.now()
    rel = con.execute(catalogue_sql(ks, by, [(p.label, p.judged_at(now)) for p in plist]))
    names = [d[0] for d in rel.description]
    rows: dict[str, list[dict]] = {}
    for r in rel.fetchall():
        row = dict(zip(names, r, strict=True))
        rows.setdefault(row["period"], []).append(row)
    out = []
    for p in plist:
        found = rows.get(p.label) or ([] if "sector" in by else [{"period": p.label}])  # nothing in force: N/A
        for row in sorted(found, key=lambda x: str(x.get("sector"))):
            for k in ks:
                n, d = row.get(f"{k.code}__n", 0), row.get(f"{k.code}__d", 0)
                out.append({"kpi": k.code, "period": p.label, "unit_code": label,
                            **({"sector": row["sector"]} if "sector" in by else {}),
                            "value": 100.0 * n / d if d else None, "numerator": n, "denominator": d})
    return pd.DataFrame(out, columns=["kpi", "period", "unit_code", *(["sector"] if "sector" in by else []),
                                      "value", "numerator", "denominator"])


def indicator_sql(codes: list[str], units: list[str] | None, lo=None, hi=None,
                  one_unit: tuple[list[str], str] | None = None) -> str:
    """The latest publication of each indicator, unit and period (as view indicator_latest), with the
    number of publications and the first one; grouped rather than windowed so filters apply first.

    one_unit: (codes, unit) whose publications are wanted for that unit only (an aggregate's own value,
    e.g. the city's, beside the per-unit rows a weighted mean needs)."""
    where = [f"indicator_code IN {code_list(codes)}"]
    if units is not None:
        where.append(f"unit_code IN {code_list(units)}")
    if one_unit is not None and one_unit[0]:
        where = [f"(({' AND '.join(where)}) OR (indicator_code IN {code_list(one_unit[0])} "
                 f"AND unit_code IN {code_list([one_unit[1]])}))"]
    if lo is not None and hi is not None:  # periods that meet [lo, hi); population: every earlier year too
        where.append(f"period_start < DATE '{hi}' AND (period_end > DATE '{lo}' OR indicator_code = 'population')")
    return ("SELECT indicator_code, unit_code, period, grain, period_start, period_end, "
            "arg_max(value, published_at) AS value, max(published_at) AS published_at, count(*) AS publications, "
            f"min(published_at) AS first_published_at FROM indicators WHERE {' AND '.join(where)} GROUP BY ALL")


class _Series:
    """One indicator's publications for one unit, indexed for _pick: the exact period in a dict."""

    __slots__ = ("rows", "exact")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.exact: dict[tuple, dict] = {}

    def add(self, r: dict) -> None:
        self.rows.append(r)
        self.exact.setdefault((r["period_start"], r["period_end"]), r)


def _pick(series: _Series | None, p: Period) -> dict | None:
    """The publication that answers period p (see the module docstring)."""
    if series is None:
        return None
    exact = series.exact.get((p.start, p.end))
    if exact is not None:
        return exact
    rows = series.rows
    containing = [r for r in rows if r["period_start"] <= p.start and r["period_end"] >= p.end]
    if containing:
        return min(containing, key=lambda r: r["period_end"] - r["period_start"])
    inside = [r for r in rows if r["period_start"] >= p.start and r["period_end"] <= p.end]
    return max(inside, key=lambda r: r["period_end"]) if inside else None


def _population(pop: dict[str, _Series], unit: str, year: int, memo: dict) -> float | None:
    """The unit's population for the year: its latest publication starting in that year or before."""
    key = (unit, year)
    if key not in memo:
        s = pop.get(unit)
        rows = [r for r in s.rows if r["period_start"].year <= year] if s is not None else []
        memo[key] = None if not rows else float(max(rows, key=lambda r: r["period_start"])["value"])
    return memo[key]


def indicator_values(con: duckdb.DuckDBPyConnection, ks: list[Kpi], periods: list[Period],
                     units: tuple[str, ...] | None, label: str, by: tuple[str, ...]) -> pd.DataFrame:
    """Rows per KPI and period (and unit when `by` has unit_code) with value and publication details."""
    per_unit = "unit_code" in by
    weighted = any(k.aggregation == "population_weighted" for k in ks)
    if per_unit or weighted:
        wanted = None if units is None else sorted(set(units) | ({config.CITY_CODE} if label == config.CITY_CODE else set()))
    else:
        wanted = [label] if label != "*" else []
    codes = sorted({k.indicator for k in ks} | ({"population"} if weighted else set()))
    # a city row of an unweighted indicator needs the city's publications only, not every unit's
    # (and a mixed selection, label '*', has none of its own: N/A)
    alone = None
    if weighted and not per_unit:
        codes = sorted({k.indicator for k in ks if k.aggregation == "population_weighted"} | {"population"})
        if label != "*":
            alone = (sorted({k.indicator for k in ks if k.aggregation != "population_weighted"}), label)
    by_code: dict[str, dict[str, _Series]] = {}
    if wanted != []:
        rel = con.execute(indicator_sql(codes, wanted, min(p.start for p in periods), max(p.end for p in periods),
                                        one_unit=alone))
        names = [d[0] for d in rel.description]
        for t in rel.fetchall():
            r = dict(zip(names, t, strict=True))
            units_of = by_code.setdefault(r["indicator_code"], {})
            s = units_of.get(r["unit_code"])
            if s is None:
                s = units_of[r["unit_code"]] = _Series()
            s.add(r)
    pop = by_code.get("population", {})
    pop_memo: dict = {}
    out = []
    for k in ks:
        ind = by_code.get(k.indicator, {})
        for p in periods:
            if per_unit:
                for u in sorted(ind):  # a row where a publication answers the period
                    r = _pick(ind[u], p) if units is None or u in units else None
                    if r is not None:
                        out.append(_row(k.code, p, u, r, [r]))
            elif k.aggregation == "population_weighted":
                out.append(_weighted(k.code, ind, pop, p, label, pop_memo))
            else:
                r = _pick(ind.get(label), p)
                out.append(_row(k.code, p, label, r, [r] if r else []))
    return pd.DataFrame(out, columns=["kpi", "period", "unit_code", "value", "numerator", "denominator",
                                      *INDICATOR_COLUMNS])


def _row(code: str, p: Period, unit: str, row: dict | None, used: list[dict], value=None, num=None, den=None) -> dict:
    if row is not None and value is None:
        value = float(row["value"])
    return {
        "kpi": code, "period": p.label, "unit_code": unit, "value": value, "numerator": num, "denominator": den,
        "source_period": max((r["period"] for r in used), default=None),
        "revised": any(int(r["publications"]) > 1 for r in used) if used else None,
        "first_published": min((r["first_published_at"] for r in used), default=None),
        "last_published": max((r["published_at"] for r in used), default=None),
    }


def _weighted(code: str, ind: dict[str, _Series], pop: dict[str, _Series], p: Period, label: str,
              pop_memo: dict) -> dict:
    """Population-weighted mean over the units (one unit: its own value; the city row as a fallback)."""
    if label not in ("*", config.CITY_CODE):  # one unit: its own value, the weight only for num/den
        r = _pick(ind.get(label), p)
        if r is None:
            return _row(code, p, label, None, [])
        w = _population(pop, label, r["period_start"].year, pop_memo)
        return _row(code, p, label, r, [r], num=None if w is None else float(r["value"]) / 100 * w, den=w)
    num = den = 0.0
    used = []
    for u in sorted(ind):
        r = _pick(ind[u], p) if u != config.CITY_CODE else None
        w = None if r is None else _population(pop, u, r["period_start"].year, pop_memo)
        if w is None:
            continue
        num += float(r["value"]) / 100 * w
        den += w
        used.append(r)
    if not used and label == config.CITY_CODE:
        r = _pick(ind.get(config.CITY_CODE), p)
        return _row(code, p, label, r, [r] if r else [])
    if not den:
        return _row(code, p, label, None, [])
    return _row(code, p, label, None, used, value=100 * num / den, num=num, den=den)
