"""SQL of the two measure kinds that read the staffing indicators and the working-day calendar.

`staff_days` (e.g. officer-days at the one-stop counter): for each unit, the sum over the working days
of the period (table `calendar`: Monday to Friday, not a public holiday, Tết included) that began before
the judgement time T of the count in force that day. The count in force on day D is the latest
publication for the latest indicator period starting on or before D: a unit reports a month when its
staffing changes, and the count stays in force until the next report. City rows ('01') are not a
unit's staffing and never count.

`unit_median`: per period, the median over every unit of the city with staff-days > 0 of
flow / staff-days (dossiers received per officer per working day). It is a city-wide figure, computed
over all units whatever the selection or the viewer's scope (like a city total, every viewer may see it).

Both go into the reference SQL (measures.raw_sql) as CTEs over `per(label, pstart, pend, t)`; the fast
path runs the same SQL, so the two paths cannot disagree.
"""

from __future__ import annotations

import config

from .registry import Measure, Registry
from .sqlparts import flow_agg, lit

SPECIAL = ("staff_days", "unit_median")


def special(reg: Registry, names: list[str]) -> list[str]:
    return [n for n in names if reg.measures[n].kind in SPECIAL]


def ctes(reg: Registry, ms: list[Measure], where_units: str | None, by: tuple[str, ...],
         source: str | None) -> tuple[list[str], list[str]]:
    """(CTEs, names of the CTEs holding one output part each) for the special measures in `ms`.

    Each part has columns period, [unit_code when `by` has it], <measure>. `source`: the dossier rows
    (SQL) the median's flows are counted from; None = the daily aggregate table metrics_day."""
    if set(by) - {"unit_code"}:
        names = ", ".join(m.name for m in ms)
        raise ValueError(f"measures {names} are counted per unit only (no breakdown by {', '.join(by)})")
    per_unit = "unit_code" in by
    staff = {m.name: m for m in ms if m.kind == "staff_days"}
    medians = [m for m in ms if m.kind == "unit_median"]
    for m in medians:
        staff.setdefault(m.ratio[1], reg.measures[m.ratio[1]])
    out = ["wd AS (SELECT per.label AS period, c.day FROM per JOIN calendar c ON c.is_working "
           "AND c.day >= per.pstart AND c.day < per.pend AND c.day < per.t)"]
    parts = []
    for name, m in staff.items():
        code = lit(m.indicator)
        out.append(
            f"stf_{name} AS (SELECT wu.period, wu.unit_code, sum(s.value) AS {name} "
            f"FROM (SELECT wd.period, wd.day, u.unit_code FROM wd CROSS JOIN (SELECT DISTINCT unit_code FROM indicators "
            f"WHERE indicator_code = {code} AND unit_code <> {lit(config.CITY_CODE)}) u) wu "
            f"ASOF JOIN (SELECT unit_code, period_start, arg_max(value, published_at) AS value FROM indicators "
            f"WHERE indicator_code = {code} GROUP BY ALL) s ON s.unit_code = wu.unit_code AND wu.day >= s.period_start "
            "GROUP BY ALL)")
    if medians and source is not None:
        out.append(f"src_all AS ({source})")
    for m in medians:
        num, den = reg.measures[m.ratio[0]], m.ratio[1]
        event_at = "received_at" if num.time == "received_date" else "completed_at"
        if source is None:  # flows are stored per day and unit (metrics/aggregates.py)
            out.append(f"num_{m.name} AS (SELECT per.label AS period, a.unit_code, sum(a.{num.name}) AS n "
                       "FROM metrics_day a JOIN per ON a.day >= per.pstart AND a.day < per.pend GROUP BY ALL)")
        else:
            out.append(
                f"num_{m.name} AS (SELECT per.label AS period, src_all.unit_code, {flow_agg(num)} AS n FROM src_all "
                f"JOIN per ON src_all.{num.time} >= per.pstart AND src_all.{num.time} < per.pend "
                f"AND src_all.{event_at} < per.t GROUP BY ALL)")
        out.append(
            f"med_{m.name} AS (SELECT d.period, median(coalesce(n.n, 0) / d.{den}) AS v FROM stf_{den} d "
            f"LEFT JOIN num_{m.name} n USING (period, unit_code) WHERE d.{den} > 0 GROUP BY ALL)")
    where = f"WHERE {where_units}" if where_units else ""
    for m in ms:
        key = "s.period, s.unit_code" if per_unit else "s.period"
        if m.kind == "staff_days":
            out.append(f"p_{m.name} AS (SELECT {key}, sum(s.{m.name}) AS {m.name} FROM stf_{m.name} s {where} "
                       "GROUP BY ALL)")
        else:  # every selected unit with staffing in the period carries the city's median
            out.append(f"p_{m.name} AS (SELECT {key}, max(v.v) AS {m.name} FROM stf_{m.ratio[1]} s "
                       f"JOIN med_{m.name} v USING (period) {where} GROUP BY ALL)")
        parts.append(f"p_{m.name}")
    return out, parts
