"""The one ranking of units and the one target-row builder, shared by the overview and the monthly report.

Both take metrics rows or frames (no SQL here, no KPI logic: the status, n and few-data flag come from
metrics). A ranking is worst first (the units needing attention on top), ties by code; units whose rate
stands on fewer than the KPI's min_n (few_data) are listed apart after the ranked ones, unranked; units
without a value come last, unranked; the city departments (code '01') are not a ward and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

import config
from metrics.registry import Registry
from metrics.targets import select_target

from .fmt import is_na

RANK_GROUPS = ("ranked", "few_data", "no_data")


def group_of(value: object, few: object) -> str:
    """Where a unit goes: judged ('ranked'), apart after them ('few_data'), or last ('no_data')."""
    if value is None or is_na(value):
        return "no_data"
    return "few_data" if few is True or (not is_na(few) and bool(few)) else "ranked"


def rank_records(records: Iterable[dict], direction: str, value: str = "value", few: str = "few_data",
                 code: str = "code") -> list[dict]:
    """`records` ordered as the one ranking orders them, each a copy with `group` and `rank` (1 = the
    worst ranked unit; None for few-data and no-data units); city departments ('01') dropped."""
    rows = [dict(r) for r in records if str(r.get(code)) != config.CITY_CODE]
    sign = 1.0 if direction == "higher" else -1.0  # worst first: lowest first when higher is better

    def key(r: dict) -> tuple:
        g = group_of(r.get(value), r.get(few))
        v = 0.0 if g == "no_data" else sign * float(r[value])
        return RANK_GROUPS.index(g), v, str(r.get(code))
    rows.sort(key=key)
    n = 0
    for r in rows:
        r["group"] = group_of(r.get(value), r.get(few))
        if r["group"] == "ranked":
            n += 1
            r["rank"] = n
        else:
            r["rank"] = None
    return rows


def rank_frame(df: pd.DataFrame, direction: str, value: str = "value", few: str = "few_data",
               code: str = "code") -> pd.DataFrame:
    """rank_records over a frame (unit_frame's columns), keeping its columns, with `group` and `rank`."""
    if df.empty:
        return df.assign(group=pd.Series(dtype=object), rank=pd.Series(dtype=object))
    rows = rank_records(df.to_dict("records"), direction, value, few, code)
    out = pd.DataFrame(rows, columns=[*df.columns, *[c for c in ("group", "rank") if c not in df.columns]])
    out["rank"] = out["rank"].astype(object).where(out["rank"].notna(), None)
    return out.reset_index(drop=True)


def best_first_position(rank: int | None, ranked: int) -> int | None:
    """A worst-first rank as a position from the best (1 = best), for 'ranks 3rd of 120' sentences."""
    return None if rank is None else ranked - rank + 1


def target_row(reg: Registry, code: str, row: dict, unit: str | None = None, year: int | None = None) -> dict[str, Any]:
    """The target a KPI is judged against, as the overview's cards and the report's table show it:
    the standing row's own target when it has one, else the registry's target for that unit and year
    (metrics.targets.select_target: unit and year > unit > year > general), else none.

    Returns target, comparison, deadline and has_target."""
    target = row.get("target")
    if target is not None and not is_na(target):
        return {"target": float(target), "comparison": row.get("target_comparison"),
                "deadline": row.get("target_deadline"), "has_target": True}
    if year is None:
        period = str(row.get("period") or "")
        year = int(period[:4]) if period[:4].isdigit() else None
    tg = select_target(reg, code, unit or config.CITY_CODE, year)
    if tg is None:
        return {"target": None, "comparison": None, "deadline": None, "has_target": False}
    return {"target": tg.value, "comparison": tg.comparison, "deadline": tg.deadline, "has_target": True}
