"""Decision 766 service index per unit, laid out in definitions/index766.yaml.

It approximates Decision 766's fuller list of components with those the dossier data, the procedure
catalogue and the indicator feed can feed. A component scores min(rate / threshold, 1) x max_points
(rounded to 2 decimals), or its published points (capped at max_points); a component without data
is N/A (None, never 0); group subtotals and the total are out of the points that could be computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

import config

from .periods import Grain, Period, last_complete, parse_label
from .registry import KpiType, get_registry

COLUMNS = ["unit_code", "period", "row_type", "group", "group_name_vi", "group_name_en", "kpi", "rate",
           "threshold", "max_points", "points_computable", "score"]


def _score(value, c) -> float | None:
    if value is None or pd.isna(value):
        return None
    if c.points:
        return round(min(max(float(value), 0.0), c.max_points), 2)
    return round(min(max(float(value), 0.0) / c.threshold, 1.0) * c.max_points, 2)


def index766(con: duckdb.DuckDBPyConnection, units: str | Iterable[str] | None = None,
             period: str | Period | None = None, scope: Iterable[str] | None = None,
             now: datetime | None = None) -> pd.DataFrame:
    """One row per unit and component, group ('group' rows) and total ('total' row), for one period.

    period: a label (default: the last complete month). units None = every unit in scope with data.
    The catalogue components (service coverage) are city-wide: every unit gets the city's value.
    """
    from .engine import kpi_values, local_now, selection

    reg = get_registry()
    layout = reg.index766
    now = now or local_now()
    p = period if isinstance(period, Period) else (parse_label(period) if period else last_complete(now, Grain.MONTH))
    codes = sorted({c.kpi for g in layout.groups for c in g.components})
    per_unit = [c for c in codes if reg.kpis[c].type != KpiType.CATALOGUE]
    city = [c for c in codes if reg.kpis[c].type == KpiType.CATALOGUE]
    sel = selection(units, scope, aggregate=False)  # per unit
    if sel is None:
        return pd.DataFrame(columns=COLUMNS)
    vals = kpi_values(con, per_unit, p, units=units, by=["unit_code"], scope=scope, now=now)
    cat = kpi_values(con, city, p, now=now) if city else pd.DataFrame(columns=["kpi", "value"])
    unit_codes = sorted(set(vals["unit_code"].dropna()) - ({config.CITY_CODE} if sel.units is None else set())
                        | set(sel.units or ()))
    look = {(r.kpi, r.unit_code): r.value for r in vals.itertuples(index=False)}
    city_look = {r.kpi: r.value for r in cat.itertuples(index=False)}
    rows = []
    for u in unit_codes:
        total = total_pts = 0.0
        any_total = False
        for g in layout.groups:
            sub = sub_pts = 0.0
            any_sub = False
            for c in g.components:
                v = city_look.get(c.kpi) if c.kpi in city else look.get((c.kpi, u))
                v = None if v is None or pd.isna(v) else float(v)
                s = _score(v, c)
                rows.append({"unit_code": u, "period": p.label, "row_type": "component", "group": g.group,
                             "group_name_vi": g.name_vi, "group_name_en": g.name_en, "kpi": c.kpi, "rate": v,
                             "threshold": c.threshold, "max_points": c.max_points,
                             "points_computable": c.max_points if s is not None else 0.0, "score": s})
                if s is not None:
                    sub += s
                    sub_pts += c.max_points
                    any_sub = True
            rows.append({"unit_code": u, "period": p.label, "row_type": "group", "group": g.group,
                         "group_name_vi": g.name_vi, "group_name_en": g.name_en, "kpi": None, "rate": None,
                         "threshold": None, "max_points": g.points, "points_computable": sub_pts,
                         "score": round(sub, 2) if any_sub else None})
            total += sub
            total_pts += sub_pts
            any_total |= any_sub
        rows.append({"unit_code": u, "period": p.label, "row_type": "total", "group": None, "group_name_vi": None,
                     "group_name_en": None, "kpi": None, "rate": None, "threshold": None,
                     "max_points": sum(g.points for g in layout.groups), "points_computable": total_pts,
                     "score": round(total, 2) if any_total else None})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"group": "Int64"})
