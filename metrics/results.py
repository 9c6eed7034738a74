"""Typed results of the query API: one frozen `KpiRow` per KPI, unit and period, in a `Rows` tuple.

`metrics.query` keeps returning a tidy frame (charts and exports want columns); `metrics.rows` returns the
same answer as typed rows, for every caller that reads values one at a time (cards, tables, messages,
JSON). In a row N/A is `None`, never NaN: a value is `float | None`, a count `int | None`, a flag `bool`,
`status` a `Status` (or None for a KPI without target), and each row carries its KPI's `decimals` and
display `kind`, so no caller guards NaN or looks the KPI up again to round it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

import pandas as pd

from .registry import Registry, get_registry
from .status import Status, as_number


def _none(x: Any) -> Any:
    """NaN, NaT and pandas' NA are None; anything else is itself."""
    if x is None:
        return None
    try:
        return None if pd.isna(x) else x
    except (TypeError, ValueError):  # lists, arrays: not a scalar N/A
        return x


def _int(x: Any) -> int | None:
    f = as_number(x)
    return None if f is None else int(f)


def _date(x: Any) -> date | None:
    x = _none(x)
    if x is None:
        return None
    if isinstance(x, pd.Timestamp):
        return x.date()
    if isinstance(x, datetime):
        return x.date()
    if isinstance(x, date):
        return x
    return date.fromisoformat(str(x)[:10])


def _datetime(x: Any) -> datetime | None:
    x = _none(x)
    if x is None:
        return None
    if isinstance(x, pd.Timestamp):
        return x.to_pydatetime()
    if isinstance(x, datetime):
        return x
    if isinstance(x, date):
        return datetime.combine(x, datetime.min.time())
    return datetime.fromisoformat(str(x))


def _str(x: Any) -> str | None:
    x = _none(x)
    return None if x is None else str(x)


def _status(x: Any) -> Status | None:
    x = _str(x)
    return None if x is None else Status(x)


def _bool(x: Any) -> bool:
    return bool(_none(x))


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One KPI value of one unit (or the city, '01') for one period, with its target and status."""

    kpi: str
    unit_code: str
    period: str
    period_start: date | None
    period_end: date | None  # exclusive
    as_of: datetime | None  # judgement time T = min(end, now)
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str | None
    decimals: int
    kind: str  # percent, count, days, points, number
    partial: bool
    n: int | None
    few_data: bool
    target: float | None = None
    target_comparison: str | None = None
    target_deadline: date | None = None
    status: Status | None = None
    status_reason: str | None = None
    method: str | None = None
    ratio: float | None = None
    projected: float | None = None
    change: float | None = None
    previous: float | None = None
    base_period: str | None = None
    base_value: float | None = None
    source_period: str | None = None
    revised: bool = False
    first_published: datetime | None = None
    last_published: datetime | None = None
    groups: tuple[tuple[str, str | None], ...] = field(default=())  # `by` dimensions other than unit_code

    @property
    def judged(self) -> bool:
        """Whether the row has a status that is a judgement (not partial, few data or no data)."""
        return self.status is not None and self.status not in (Status.PARTIAL, Status.FEW_DATA, Status.NO_DATA)

    def group(self, name: str) -> str | None:
        return dict(self.groups).get(name)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (status as its code, groups flattened): what JSON and frames take."""
        d = asdict(self)
        d["status"] = None if self.status is None else self.status.value
        d.update(dict(d.pop("groups")))
        return d


_FLOAT = ("value", "numerator", "denominator", "target", "ratio", "projected", "change", "previous", "base_value")
_STR = ("target_comparison", "status_reason", "method", "base_period", "source_period", "unit")
_NAMES = {f.name for f in fields(KpiRow)}


def row_of(rec: Mapping[str, Any], reg: Registry | None = None, group_names: Iterable[str] = ()) -> KpiRow:
    """A typed row from one record of `query`'s frame (or any mapping with its columns)."""
    reg = reg or get_registry()
    k = reg.kpi(str(rec["kpi"]))
    kw: dict[str, Any] = {name: as_number(rec.get(name)) for name in _FLOAT}
    kw.update({name: _str(rec.get(name)) for name in _STR})
    kw.update(
        kpi=k.code, unit_code=str(rec.get("unit_code") or ""), period=str(rec.get("period") or ""),
        period_start=_date(rec.get("period_start")), period_end=_date(rec.get("period_end")),
        as_of=_datetime(rec.get("as_of")), decimals=k.decimals, kind=str(k.display.kind),
        partial=_bool(rec.get("partial")), n=_int(rec.get("n")), few_data=_bool(rec.get("few_data")),
        target_deadline=_date(rec.get("target_deadline")), status=_status(rec.get("status")),
        revised=_bool(rec.get("revised")), first_published=_datetime(rec.get("first_published")),
        last_published=_datetime(rec.get("last_published")),
        groups=tuple((g, _str(rec.get(g))) for g in group_names),
    )
    kw["unit"] = kw["unit"] if kw["unit"] is not None else k.unit
    return KpiRow(**kw)


class Rows(tuple[KpiRow, ...]):
    """The typed answer of a query: a tuple of KpiRow with the lookups callers need."""

    __slots__ = ()

    @classmethod
    def of(cls, df: pd.DataFrame, reg: Registry | None = None) -> Rows:
        reg = reg or get_registry()
        if df is None or df.empty:
            return cls()
        groups = [c for c in df.columns if c not in _NAMES]
        return cls(row_of(r, reg, groups) for r in df.to_dict("records"))

    def of_kpi(self, kpi: str) -> Rows:
        return Rows(r for r in self if r.kpi == kpi)

    def with_value(self) -> Rows:
        """The rows that have a value (N/A left out)."""
        return Rows(r for r in self if r.value is not None)

    def one(self, kpi: str | None = None, unit: str | None = None, period: str | None = None) -> KpiRow | None:
        """The first row matching every given key, or None."""
        for r in self:
            if (kpi is None or r.kpi == kpi) and (unit is None or r.unit_code == unit) and (period is None or r.period == period):
                return r
        return None

    def target(self) -> tuple[float | None, str | None]:
        """The target of these rows (value, comparison): the last row that has one, or (None, None).
        One KPI's rows share one target per period; the latest period's is the one shown."""
        for r in reversed(self):
            if r.target is not None:
                return r.target, r.target_comparison
        return None, None

    def values(self) -> list[float | None]:
        return [r.value for r in self]

    def frame(self) -> pd.DataFrame:
        """Back to a frame (for charts), N/A as None in object columns."""
        recs = [r.as_dict() for r in self]
        return pd.DataFrame({c: pd.Series([d[c] for d in recs], dtype=object) for c in recs[0]}) if recs else pd.DataFrame()


def target_of(df: pd.DataFrame | None, latest: bool = False) -> float | None:
    """The target value shown beside a KPI's per-unit frame (the first unit's that has one) or, with
    `latest`, a per-period frame (the latest period's); None without one. The one reading of a frame's
    target column, where callers used to guard NaN each in their own way."""
    if df is None or df.empty or "target" not in df:
        return None
    xs = df["target"].tolist()
    for x in reversed(xs) if latest else xs:
        f = as_number(x)
        if f is not None:
            return f
    return None
