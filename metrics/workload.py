"""One-stop workload per ward (issue 12): the overload flag over the workload KPIs, ranked.

The KPIs themselves are declared in kpis.yaml (workload, workload_city_median, workload_vs_median,
in_person_share) and computed by the engine like any other; this module only reads the threshold
(definitions/workload.yaml) and judges each unit's values against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .engine import local_now, query
from .periods import last_complete
from .registry import DEFINITIONS_DIR, RegistryError

KPIS = ("workload", "workload_vs_median", "workload_city_median", "in_person_share")
COLUMNS = ["unit_code", "period", "workload", "workload_vs_median", "city_median", "in_person_share",
           "officer_days", "received", "few_data", "partial", "overloaded", "reason"]


class OverloadRule(BaseModel):
    """Flag a unit when workload > per_officer_day or workload_vs_median > ratio_to_median (None: off)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ratio_to_median: float | None = 1.5
    per_officer_day: float | None = None

    def judge(self, workload: float | None, ratio: float | None) -> str | None:
        """'ratio' or 'absolute' when the values are over a threshold, else None."""
        if self.ratio_to_median is not None and ratio is not None and ratio > self.ratio_to_median:
            return "ratio"
        if self.per_officer_day is not None and workload is not None and workload > self.per_officer_day:
            return "absolute"
        return None


def load_rule(path: Path | str = DEFINITIONS_DIR / "workload.yaml") -> OverloadRule:
    """The overload thresholds; a bad file raises RegistryError naming the field and the form expected."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return OverloadRule(**(data.get("overload") or {}))
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
        raise RegistryError(f"{path.name}: expected `overload: {{ratio_to_median: 1.5, per_officer_day: null}}` "
                            f"({exc})") from None
    except ValidationError as exc:
        raise RegistryError(f"{path.name}: overload: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None


@cache
def thresholds() -> OverloadRule:
    """The shipped thresholds (definitions/workload.yaml), read once per process on first use."""
    return load_rule()


def _num(x) -> float | None:
    return None if x is None or x != x else float(x)


def overloaded(con: duckdb.DuckDBPyConnection, period: str | None = None, units: Iterable[str] | None = None,
               now: datetime | None = None, scope: Iterable[str] | None = None,
               rule: OverloadRule | None = None) -> pd.DataFrame:
    """One row per unit with a staffing report in `period` (default: the last complete month), ranked by
    the ratio to the city median (highest first): the workload values and `overloaded` / `reason`."""
    now = now or local_now()
    rule = rule or thresholds()
    period = period or last_complete(now).label
    df = query(con, list(KPIS), grain=None, periods=period, units=units, by="unit_code", scope=scope, now=now)
    by_unit: dict[str, dict] = {}
    for r in df.to_dict("records"):
        rec = by_unit.setdefault(r["unit_code"], {"unit_code": r["unit_code"], "period": r["period"]})
        rec[{"workload_city_median": "city_median"}.get(r["kpi"], r["kpi"])] = _num(r["value"])
        if r["kpi"] == "workload":
            rec.update(officer_days=_num(r["denominator"]), received=_num(r["numerator"]),
                       few_data=r["few_data"] is True, partial=r["partial"] is True)
    rows = []
    for rec in by_unit.values():
        if not rec.get("officer_days"):  # no staffing report (or the city departments): nothing to judge
            continue
        reason = None if rec.get("few_data") else rule.judge(rec.get("workload"), rec.get("workload_vs_median"))
        rows.append({**{c: rec.get(c) for c in COLUMNS}, "overloaded": reason is not None, "reason": reason,
                     "few_data": bool(rec.get("few_data"))})
    out = pd.DataFrame(rows, columns=COLUMNS)
    if out.empty:
        return out
    key = out["workload_vs_median"].fillna(-1.0)
    return out.assign(_k=key).sort_values(["_k", "unit_code"], ascending=[False, True]).drop(columns="_k") \
        .reset_index(drop=True)
