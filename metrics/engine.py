"""The one query API for everything downstream: query(), explain(), list_kpis(), progress().

`query` returns a tidy frame, one row per KPI, unit and period (and `by` group):
  kpi, unit_code, period, period_start, period_end (exclusive), as_of (judgement time T = min(end, now)),
  any `by` columns other than unit_code, value, numerator, denominator, unit, target, target_comparison,
  target_deadline, status, ratio (R), projected (value expected at the deadline), change (value minus
  the previous period's value), previous, base_period, base_value, and for indicators source_period,
  revised, first_published, last_published.
`value` of a % KPI is in 0..100 (what users read); numerator and denominator are the counts behind
it. N/A is None (never 0): a zero denominator, no data, no publication.
unit_code is the unit when one unit is selected or `by` has unit_code; '01' (Hanoi's code) when the
rows total every unit of the city; '*' when they total a subset of units (several units, or a viewer
whose scope is a subset). In `units`, '01' means "every unit in scope".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock

import duckdb
import numpy as np
import pandas as pd
from cachetools import LRUCache

import clock
import config

from . import aggregates, measures, sources, targets
from . import scope as rls
from .evaluate import (
    dependency_order,
    dossier_kpi,
    evaluate_formula,
    formula_names,
    measures_for,
)
from .measures import Selection
from .periods import Grain, Period, last_complete, period_at, previous, resolve, year_to_date
from .registry import DOSSIER_DIMENSIONS, KpiType, Registry, get_registry
from .results import Rows
from .status import as_number, numbers

VALUE_COLUMNS = ["value", "numerator", "denominator"]
TAIL = ["unit", "partial", "n", "few_data", "target", "target_comparison", "target_deadline", "status",
        "status_reason", "method", "ratio", "projected", "change", "previous", "base_period", "base_value",
        *sources.INDICATOR_COLUMNS]


class QueryError(ValueError):
    """A query that cannot be answered as asked (unknown KPI or dimension, bad period)."""


def local_now() -> datetime:
    """The business time of a query: `clock.now()` (Hanoi, naive; fixed by a FixedClock or R57_NOW)."""
    return clock.now()


@dataclass
class _Ctx:
    con: duckdb.DuckDBPyConnection
    reg: Registry
    now: datetime
    sel: Selection
    by: tuple[str, ...]
    state: aggregates.AggState | None
    memo: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return ["unit_code", *[b for b in self.by if b != "unit_code"]]


def selection(units: str | Iterable[str] | None, scope: Iterable[str] | None, *,
              aggregate: bool = True) -> Selection | None:
    """Units covered (intersected with the viewer's scope) and the unit_code label; None if nothing is visible.

    The request's viewer scope (metrics.scope) narrows `scope` unless this is a city-level aggregate:
    `aggregate` False for anything broken down by unit or listing dossiers."""
    scope = rls.effective(units, scope, aggregate=aggregate)
    allowed = None if scope is None else sorted({str(s) for s in scope})
    wanted = [units] if isinstance(units, str) else (None if units is None else [str(u) for u in units])
    if wanted is None or config.CITY_CODE in wanted:
        chosen = allowed
    else:
        chosen = sorted({u for u in wanted if allowed is None or u in allowed})
    if chosen is not None and not chosen:
        return None
    label = config.CITY_CODE if chosen is None else (chosen[0] if len(chosen) == 1 else "*")
    return Selection(None if chosen is None else tuple(chosen), label)


def dimensions_of(reg: Registry, code: str) -> set[str]:
    k = reg.kpi(code)
    if not k.formula:
        return set(k.dimensions)
    plain, base = formula_names(k.formula, code=code)
    dims = set(DOSSIER_DIMENSIONS)
    for dep in plain | base:
        dims &= dimensions_of(reg, dep)
    return dims


class _PastMemo:
    """Values of past periods keyed by everything they depend on, the data version included.

    A past period's values depend only on the data (never on `now`), so they are reused until a
    refresh changes data on or before the period's end (AggState.version_before); the key holds the
    viewer's unit selection, so nothing leaks between viewers. Bounded (cachetools' LRU) and
    thread-safe (Dash serves callbacks from threads).
    """

    def __init__(self, size: int = 512) -> None:
        self.items: LRUCache = LRUCache(maxsize=size)
        self.lock = Lock()

    def get(self, key):
        with self.lock:
            return self.items.get(key)

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value


_PAST = _PastMemo()


def _values(ctx: _Ctx, codes: list[str], periods: list[Period]) -> pd.DataFrame:
    """KPI values (no targets) for `periods`: kpi, period, keys, value, numerator, denominator, indicator details."""
    memo_key = (tuple(codes), tuple(periods))
    if memo_key in ctx.memo:
        return ctx.memo[memo_key]
    if ctx.state is not None and ctx.state.fresh and ctx.state.base is not None:
        current = [p for p in periods if p.is_current(ctx.now)]
        if current and len(current) < len(periods):  # past periods from the memo, the current one fresh
            past = [p for p in periods if p not in current]
            df = pd.concat([_values(ctx, codes, past), _values(ctx, codes, current)], ignore_index=True)
            ctx.memo[memo_key] = df
            return df
        if not current:
            key = (ctx.state.version_before(max(p.end for p in periods)), tuple(codes), tuple(periods), ctx.sel, ctx.by)
            df = _PAST.get(key)
            if df is None:
                df = _compute_values(ctx, codes, periods)
                _PAST.put(key, df)
            ctx.memo[memo_key] = df
            return df
    df = _compute_values(ctx, codes, periods)
    ctx.memo[memo_key] = df
    return df


def _compute_values(ctx: _Ctx, codes: list[str], periods: list[Period]) -> pd.DataFrame:
    reg, by = ctx.reg, ctx.by
    order = [c for c in dependency_order(reg, codes) if set(by) <= dimensions_of(reg, c)]
    frames: list[pd.DataFrame] = []
    plain = [c for c in order if reg.kpis[c].source == "dossiers"]
    if plain:
        names = measures_for(reg, plain)
        mt = measures.compute(ctx.con, reg, names, periods, ctx.sel, by, ctx.now, ctx.state)
        current = {p.label for p in periods if p.is_current(ctx.now)}
        is_current = np.array([k[0] in current for k in mt.keys], dtype=bool)
        results: dict[str, dict[str, np.ndarray]] = {}
        for c in plain:
            k = reg.kpis[c]
            if k.type == KpiType.DERIVED:
                results[c] = _derived(ctx, c, mt.keys, results, periods)
            else:
                results[c] = dossier_kpi(k, mt.cols, is_current)
        n = len(mt.keys)
        block = {"kpi": np.repeat(plain, n), "period": np.tile([k[0] for k in mt.keys], len(plain))}
        for j, b in enumerate(by):
            block[b] = np.tile(np.array([k[1 + j] for k in mt.keys], dtype=object), len(plain))
        if "unit_code" not in by:
            block["unit_code"] = ctx.sel.label
        for col in VALUE_COLUMNS:
            block[col] = np.concatenate([results[c][col] for c in plain]) if n else np.array([])
        frames.append(pd.DataFrame(block))
    cat = [reg.kpis[c] for c in order if reg.kpis[c].type == KpiType.CATALOGUE]
    if cat:
        # one value per period, from each procedure's dated levels as of the period's judgement time
        frames.append(sources.catalogue_values(ctx.con, cat, periods, ctx.sel.label, by, ctx.now))
    ind = [reg.kpis[c] for c in order if reg.kpis[c].type == KpiType.INDICATOR]
    if ind:
        frames.append(sources.indicator_values(ctx.con, ind, periods, ctx.sel.units, ctx.sel.label, by))
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (
        frames[0] if frames else pd.DataFrame(columns=["kpi", "period", *ctx.keys, *VALUE_COLUMNS]))
    if set(order) != set(codes):
        df = df[df["kpi"].isin(codes)].reset_index(drop=True)
    return df


def _derived(ctx: _Ctx, code: str, keys: list[tuple], results: dict[str, dict[str, np.ndarray]],
             periods: list[Period]) -> dict[str, np.ndarray]:
    """A derived KPI from its inputs' values on the same rows (and their values over the target's baseline period)."""
    k = ctx.reg.kpis[code]
    plain, base = formula_names(k.formula, code=code)
    by_period = {p.label: p for p in periods}
    gi = [ctx.by.index(c) + 1 if c in ctx.by else None for c in ctx.keys]
    baselines = {}
    for dep in base:
        col = np.full(len(keys), np.nan)
        bps = [targets.baseline_period(targets.select_target(
            ctx.reg, code, key[gi[0]] if gi[0] else ctx.sel.label, by_period[key[0]].start.year)) for key in keys]
        for bp in {b for b in bps if b is not None}:
            b = _values(ctx, [dep], [bp])
            look = {tuple(_key(x) for x in r[1:]): r[0] for r in b[["value", *ctx.keys]].itertuples(index=False)}
            for i, key in enumerate(keys):
                if bps[i] == bp:
                    v = look.get(tuple(key[j] if j else ctx.sel.label for j in gi))
                    col[i] = np.nan if v is None else v
        baselines[dep] = col
    value = evaluate_formula(k.formula, {c: results[c]["value"] for c in plain}, baselines)
    nan = np.full(len(keys), np.nan)
    # what the value stands on: the smallest count among its inputs (a reduction over 3 dossiers is noise)
    counts = [results[c]["denominator"] for c in plain if not np.all(np.isnan(results[c]["denominator"]))]
    with np.errstate(invalid="ignore"):
        den = np.fmin.reduce(counts) if counts else nan
    return {"value": value, "numerator": nan, "denominator": den}


def _codes(reg: Registry, kpis: str | Sequence[str] | None) -> list[str]:
    if kpis is None:
        return [c for c, k in reg.kpis.items() if not k.auxiliary]
    codes = [kpis] if isinstance(kpis, str) else list(kpis)
    unknown = [c for c in codes if c not in reg.kpis]
    if unknown:
        raise QueryError(f"unknown KPI {unknown}; known: {', '.join(reg.kpis)}")
    return codes


def _by(by: str | Sequence[str]) -> tuple[str, ...]:
    by = (by,) if isinstance(by, str) else tuple(dict.fromkeys(by or ()))  # a dimension named twice is one
    bad = [b for b in by if b not in DOSSIER_DIMENSIONS]
    if bad:
        raise QueryError(f"unknown dimension {bad}; expected some of {list(DOSSIER_DIMENSIONS)}")
    return by


def query(con: duckdb.DuckDBPyConnection, kpis: str | Sequence[str] | None = None, grain: str | None = "month",
          periods=None, units: str | Iterable[str] | None = None, by: str | Sequence[str] = (),
          scope: Iterable[str] | None = None, now: datetime | None = None, *,
          use_aggregates: bool = True, state: aggregates.AggState | None = None) -> pd.DataFrame:
    """KPI values with targets and progress status as a tidy frame (columns: see the module docstring).

    periods: None (the period containing now), a label ('2026-Q3'), a list of labels, or a (start, end)
    pair of dates, inclusive. A label coarser than `grain` expands to its sub-periods; grain None keeps
    labels as given. Periods starting after `now` are left out. kpis None = every non-auxiliary KPI.
    use_aggregates=False computes everything from raw rows (the reference the tests compare against).
    state: the aggregates' state as the caller has just read it on this connection (several queries of one
    answer read it once); by default each query reads it.
    """
    reg = get_registry()
    now = now or local_now()
    codes, by = _codes(reg, kpis), _by(by)
    sel = selection(units, scope, aggregate="unit_code" not in _by(by))
    try:
        plist = resolve(grain, periods, now)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    extra = [b for b in by if b != "unit_code"]
    columns = ["kpi", "unit_code", "period", "period_start", "period_end", "as_of", *extra, *VALUE_COLUMNS, *TAIL]
    if sel is None or not plist:
        return pd.DataFrame(columns=columns)
    if use_aggregates and state is None:
        state = aggregates.read_state(con, reg)
    ctx = _Ctx(con, reg, now, sel, by, state if use_aggregates else None)
    if use_aggregates and ctx.state is None:
        measures.warn_slow(aggregates.slow_path_reason(None, now))
    prevs = {p.label: previous(p) for p in plist}
    vals = _values(ctx, codes, sorted(set(plist) | set(prevs.values())))
    labels = {p.label: p for p in plist}
    V = {c: vals[c].tolist() for c in vals.columns}
    kcols = [V[k] for k in ctx.keys]
    n = len(V["kpi"])
    value_at = dict(zip(zip(V["kpi"], V["period"], *kcols, strict=True), numbers(V["value"]), strict=True))
    rank = {c: i for i, c in enumerate(codes)}
    prank = {p.label: i for i, p in enumerate(plist)}
    idx = sorted((i for i in range(n) if V["period"][i] in labels), key=lambda i: (rank[V["kpi"][i]], prank[V["period"][i]], i))
    if not idx:
        return pd.DataFrame(columns=columns)
    out = {c: [V[c][i] for i in idx] if c in V else [None] * len(idx) for c in columns}
    for c in ("value", "numerator", "denominator"):
        out[c] = numbers(out[c])
    for c in extra:  # a NULL dimension value (no applicant type, unknown sector) is None
        out[c] = [None if x is None or x != x else x for x in out[c]]
    out["previous"] = [value_at.get((V["kpi"][i], prevs[V["period"][i]].label, *(kc[i] for kc in kcols))) for i in idx]
    out["change"] = [None if v is None or p is None else v - p for v, p in zip(out["value"], out["previous"], strict=True)]
    judged_at = {label: p.judged_at(now) for label, p in labels.items()}
    current = {label: p.is_current(now) for label, p in labels.items()}
    out["period_start"] = [labels[p].start for p in out["period"]]
    out["period_end"] = [labels[p].end for p in out["period"]]
    out["as_of"] = [judged_at[p] for p in out["period"]]
    out["unit"] = [reg.kpis[k].unit for k in out["kpi"]]
    # a period not over yet is partial: shown with its as_of, never judged (targets.apply); an
    # indicator's value is a publication, final when published, so it is never partial
    out["partial"] = [current[p] and reg.kpis[k].type != KpiType.INDICATOR
                      for k, p in zip(out["kpi"], out["period"], strict=True)]
    out["n"] = [_n(reg.kpis[k], den) for k, den in zip(out["kpi"], out["denominator"], strict=True)]
    out["few_data"] = [n is not None and reg.kpis[k].min_n is not None and 0 < n < reg.kpis[k].min_n
                       for k, n in zip(out["kpi"], out["n"], strict=True)]
    # hours of a month against a whole one is no change: like is compared with like only
    out["change"] = [None if part else c for part, c in zip(out["partial"], out["change"], strict=True)]
    targets.apply(reg, out, labels, ctx.keys, now, lambda cs, p: _values(ctx, cs, [p]))
    for c in ("target", "ratio", "projected", "base_value"):
        out[c] = numbers(out[c])
    out["revised"] = [None if x is None or x != x else bool(x) for x in out["revised"]]
    # object columns keep None for N/A (a float column would turn it into NaN)
    return pd.DataFrame({c: pd.Series(out[c], dtype=object) for c in columns})


def rows(con: duckdb.DuckDBPyConnection, kpis: str | Sequence[str] | None = None, grain: str | None = "month",
         periods=None, units: str | Iterable[str] | None = None, by: str | Sequence[str] = (),
         scope: Iterable[str] | None = None, now: datetime | None = None) -> Rows:
    """`query`'s answer as typed, frozen rows (metrics/results.py): N/A is None, status a Status, each
    row with its KPI's decimals and kind."""
    return Rows.of(query(con, kpis, grain, periods, units, by, scope, now), get_registry())


def _n(k, denominator) -> int | None:
    """How many dossiers (or ratings) a rate, mean or derived value stands on: its denominator (for a
    derived KPI the smallest among its inputs); None for counts, catalogue and indicator KPIs."""
    if k.type not in (KpiType.RATIO, KpiType.MEAN, KpiType.MEDIAN, KpiType.DERIVED):
        return None
    d = as_number(denominator)
    return None if d is None else int(d)


def _key(x):
    """A group value as a dictionary key: NaN (pandas' missing string) and None are the same NULL group."""
    return None if x is None or x != x else x


def kpi_values(con: duckdb.DuckDBPyConnection, kpis: Sequence[str], period: Period, units=None,
               by: Sequence[str] = (), scope: Iterable[str] | None = None, now: datetime | None = None) -> pd.DataFrame:
    """KPI values for one period without targets or status (kpi, period, unit_code, by..., value, numerator, denominator)."""
    reg = get_registry()
    now = now or local_now()
    sel = selection(units, scope, aggregate="unit_code" not in _by(by))
    if sel is None:
        return pd.DataFrame(columns=["kpi", "period", "unit_code", *VALUE_COLUMNS])
    ctx = _Ctx(con, reg, now, sel, _by(by), aggregates.read_state(con, reg))
    return _values(ctx, _codes(reg, kpis), [period])


def explain(kpi: str, grain: str | None = "month", periods=None, units: str | Iterable[str] | None = None,
            by: str | Sequence[str] = (), scope: Iterable[str] | None = None, now: datetime | None = None) -> str:
    """The SQL that defines a KPI's inputs over raw rows (the reference the fast path is tested against)."""
    reg = get_registry()
    now = now or local_now()
    k = reg.kpi(kpi)
    by = _by(by)
    sel = selection(units, scope, aggregate="unit_code" not in _by(by))
    if sel is None:
        raise QueryError("none of the requested units is in the viewer's scope")
    plist = resolve(grain, periods, now) or [period_at(now.date(), Grain(grain or "month"))]
    if k.type == KpiType.CATALOGUE:
        return sources.catalogue_sql([k], by)
    if k.type == KpiType.INDICATOR:
        units_list = None if sel.units is None else list(sel.units)
        return sources.indicator_sql([k.indicator] + (["population"] if k.aggregation != "none" else []), units_list)
    if k.type == KpiType.DERIVED:
        plain, base = formula_names(k.formula, code=kpi)
        parts = [f"-- {kpi} = {k.formula}"]
        for dep in sorted(plain | base):
            parts.append(f"-- input {dep}:\n{explain(dep, grain, periods, units, by, scope, now)}")
        return "\n".join(parts)
    return measures.raw_sql(reg, measures_for(reg, [kpi]), plist, sel, by, now)


def list_kpis(lang: str = "vi") -> pd.DataFrame:
    """The KPI registry as a frame: code, name, unit, type, direction, source, dimensions, legal basis, targets."""
    reg = get_registry()
    rows = []
    for c, k in reg.kpis.items():
        ts = reg.targets_for(c)
        rows.append({
            "kpi": c, "name": k.name(lang), "description": k.description(lang), "type": k.type.value,
            "unit": k.unit_in(lang), "direction": k.direction, "source": k.source,
            "time": k.time, "dimensions": list(k.dimensions) if not k.formula else sorted(dimensions_of(reg, c)),
            "grains": [g.value for g in k.grains], "legal_basis": k.legal_basis, "auxiliary": k.auxiliary,
            "tags": list(k.tags), "target": ts[0].value if ts else None,
            "target_comparison": ts[0].comparison if ts else None, "target_deadline": ts[0].deadline if ts else None,
        })
    return pd.DataFrame(rows)


def basis_of(kpi: str, unit: str | None = None, year: int | None = None) -> targets.Basis:
    """What the KPI's target is judged on: declared per target, else latest publication for
    indicators and the year to date (complete months) for the rest."""
    reg = get_registry()
    t = targets.select_target(reg, kpi, unit or config.CITY_CODE, year)
    if t is not None and t.basis is not None:
        return t.basis
    return targets.Basis.LATEST_PUBLICATION if reg.kpi(kpi).type == KpiType.INDICATOR else targets.Basis.YEAR_TO_DATE


def progress(con: duckdb.DuckDBPyConnection, kpi: str, unit: str | None = None, now: datetime | None = None,
             scope: Iterable[str] | None = None) -> dict:
    """Where a KPI stands against its target (see `standing`), as one dict."""
    return standing(con, [kpi], unit=unit, now=now, scope=scope)[0]


def standing(con: duckdb.DuckDBPyConnection, kpis: Sequence[str], unit: str | None = None,
             now: datetime | None = None, scope: Iterable[str] | None = None) -> list[dict]:
    """Where each KPI stands against its target, on its target's basis: the year to date of complete
    months (annual targets, the default), the last complete month, or the latest publication
    (indicators). One dict per KPI: that query row, `basis`, and beside it the last complete month
    (`last_month_*`) and the current month to date (`current_*`, partial, with its as_of and n),
    which never drives the status. Asked in as few queries as the bases need."""
    reg = get_registry()
    now = now or local_now()
    last, cur = last_complete(now), period_at(now.date(), Grain.MONTH)
    year = last.start.year
    state = aggregates.read_state(con, reg)  # one read for the whole standing: the same snapshot throughout
    bases = {c: basis_of(c, unit, year) for c in kpis}
    rows: dict[str, dict] = {}
    ytd = [c for c in kpis if bases[c] == targets.Basis.YEAR_TO_DATE and reg.kpi(c).type != KpiType.INDICATOR]
    month = [c for c in kpis if bases[c] == targets.Basis.LAST_COMPLETE_MONTH and reg.kpi(c).type != KpiType.INDICATOR]
    if ytd:
        rows.update({r["kpi"]: r for r in query(con, ytd, grain=None, periods=[year_to_date(now)], units=unit,
                                                 scope=scope, now=now, state=state).to_dict("records")})
    plain = [c for c in kpis if reg.kpi(c).type != KpiType.INDICATOR]
    beside = query(con, plain, grain="month", periods=[last.label, cur.label], units=unit, scope=scope,
                   now=now, state=state).to_dict("records") if plain else []
    by_month = {(r["kpi"], r["period"]): r for r in beside}
    for c in month:
        if (c, last.label) in by_month:
            rows[c] = dict(by_month[(c, last.label)])
    rows.update(_latest_publications(con, [c for c in kpis if reg.kpi(c).type == KpiType.INDICATOR], unit, scope,
                                     now, state))
    out = []
    for c in kpis:
        row = dict(rows.get(c) or {"kpi": c, "unit_code": unit or config.CITY_CODE, "status": "no_data",
                                   "value": None})
        row["basis"] = bases[c].value
        if c in plain:
            lm, cm = by_month.get((c, last.label), {}), by_month.get((c, cur.label), {})
            row.update({"last_month_period": last.label, "last_month_value": lm.get("value"),
                        "last_month_n": lm.get("n"), "last_month_status": lm.get("status"),
                        "current_period": cur.label, "current_value": cm.get("value"), "current_n": cm.get("n"),
                        "current_as_of": cm.get("as_of")})
        out.append(row)
    return out


def _latest_period(con, kpi: str, unit, scope, now: datetime) -> str | None:
    """The period of the indicator's latest publication begun by now (for the unit, or any unit when the
    KPI is weighted over every unit and the city is asked), or None when none is."""
    k = get_registry().kpi(kpi)
    sel = selection(unit, scope)
    code = sel.label if sel is not None and sel.label != "*" else config.CITY_CODE
    any_unit = k.aggregation != "none" and code == config.CITY_CODE  # weighted over every unit
    row = con.execute("SELECT period FROM indicators WHERE indicator_code = ? AND (? OR unit_code = ?) "
                      "AND period_start <= ? ORDER BY period_end DESC, period_start DESC LIMIT 1",
                      [k.indicator, any_unit, code, now.date()]).fetchone()
    return row[0] if row else None


def _latest_publications(con, kpis: Sequence[str], unit, scope, now: datetime,
                         state: aggregates.AggState | None = None) -> dict[str, dict | None]:
    """Each indicator KPI's row for its latest publication (the current month when it has none): one query
    per distinct period, not one per KPI (the overview's seven indicators mostly share a year)."""
    by_period: dict[str | None, list[str]] = {}
    for c in kpis:
        by_period.setdefault(_latest_period(con, c, unit, scope, now), []).append(c)
    out: dict[str, dict | None] = {}
    for period, codes in by_period.items():
        df = query(con, codes, grain=None if period else "month", periods=[period] if period else None, units=unit,
                   scope=scope, now=now, state=state)
        for c in codes:
            mine = df[df["kpi"] == c]
            out[c] = None if mine.empty else mine.iloc[-1].to_dict()
    return out
