"""Time grains and periods: labels ('2026-03-05', '2026-W10', '2026-03', '2026-Q1', '2026'), ranges, judgement times.

A period is a half-open range of local dates [start, end). Its judgement time is min(end, now): the
moment "as of" which stocks (dossiers in flight, overdue) are counted, so the current period is
judged now and a past one at its end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class Grain(StrEnum):
    # The values are load-bearing: they go into DuckDB's date_trunc().
    DAY = "day"
    WEEK = "week"       # ISO week, Monday to Sunday
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


ORDER = {Grain.DAY: 0, Grain.WEEK: 1, Grain.MONTH: 2, Grain.QUARTER: 3, Grain.YEAR: 4}
RANGE = "range"  # grain of a custom [start, end) period such as a baseline


class PeriodError(ValueError):
    """A period label or range that cannot be read."""


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date           # exclusive
    label: str
    grain: str          # a Grain value or RANGE

    def judged_at(self, now: datetime) -> datetime:
        """min(end of the period, now): when in-flight and overdue dossiers are counted."""
        return min(datetime.combine(self.end, time()), now)

    def is_current(self, now: datetime) -> bool:
        return datetime.combine(self.start, time()) <= now < datetime.combine(self.end, time())

    @property
    def month_aligned(self) -> bool:
        return self.start.day == 1 and self.end.day == 1


def truncate(d: date, grain: Grain) -> date:
    """First day of the period of `grain` containing `d`."""
    if grain == Grain.DAY:
        return d
    if grain == Grain.WEEK:
        return d - timedelta(days=d.weekday())
    if grain == Grain.MONTH:
        return d.replace(day=1)
    if grain == Grain.QUARTER:
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return date(d.year, 1, 1)


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, 1)


def next_start(start: date, grain: Grain) -> date:
    if grain == Grain.DAY:
        return start + timedelta(days=1)
    if grain == Grain.WEEK:
        return start + timedelta(days=7)
    return _add_months(start, {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain])


def label_of(start: date, grain: Grain) -> str:
    if grain == Grain.DAY:
        return start.isoformat()
    if grain == Grain.WEEK:
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if grain == Grain.MONTH:
        return f"{start.year}-{start.month:02d}"
    if grain == Grain.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_at(d: date, grain: Grain | str) -> Period:
    """The period of `grain` that contains day `d`."""
    g = Grain(grain)
    s = truncate(d, g)
    return Period(s, next_start(s, g), label_of(s, g), g.value)


def range_period(start: date, end: date) -> Period:
    """A custom period [start, end), labelled 'YYYY-MM-DD..YYYY-MM-DD' with the last day included."""
    if end <= start:
        raise PeriodError(f"empty period {start}..{end}")
    return Period(start, end, f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}", RANGE)


_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})$"), RANGE),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), Grain.DAY),
    (re.compile(r"^(\d{4})-W(\d{2})$"), Grain.WEEK),
    (re.compile(r"^(\d{4})-(\d{2})$"), Grain.MONTH),
    (re.compile(r"^(\d{4})-Q([1-4])$"), Grain.QUARTER),
    (re.compile(r"^(\d{4})$"), Grain.YEAR),
]


def parse_label(label: str) -> Period:
    """'2026-03-05' | '2026-W10' | '2026-03' | '2026-Q1' | '2026' | '2024-07-01..2025-06-30' -> Period."""
    text = str(label).strip().upper()
    for pattern, grain in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        n = [int(x) for x in m.groups()]
        try:
            if grain == RANGE:
                return range_period(date(n[0], n[1], n[2]), date(n[3], n[4], n[5]) + timedelta(days=1))
            if grain == Grain.DAY:
                return period_at(date(*n), grain)
            if grain == Grain.WEEK:
                return period_at(date.fromisocalendar(n[0], n[1], 1), grain)
            if grain == Grain.MONTH:
                return period_at(date(n[0], n[1], 1), grain)
            if grain == Grain.QUARTER:
                return period_at(date(n[0], 3 * n[1] - 2, 1), grain)
            return period_at(date(n[0], 1, 1), grain)
        except ValueError as exc:
            raise PeriodError(f"period '{label}': {exc}") from None
    raise PeriodError(
        f"period '{label}' is not a label like 2026-03-05, 2026-W10, 2026-03, 2026-Q1, 2026 "
        "or a range 2024-07-01..2025-06-30"
    )


def previous(p: Period) -> Period:
    """The period of the same grain (or the same length, for a range) just before `p`; for a year to
    date (a range from 1 January within one year) the same dates a year before."""
    if p.grain == RANGE:
        if p.start.month == p.start.day == 1 and p.end <= date(p.start.year + 1, 1, 1):
            end = p.end.replace(year=p.end.year - 1, day=min(p.end.day, 28)) if p.end.month == 2 else \
                p.end.replace(year=p.end.year - 1)
            return range_period(p.start.replace(year=p.start.year - 1), end)
        return range_period(p.start - (p.end - p.start), p.start)
    return period_at(p.start - timedelta(days=1), p.grain)


CURRENT = "current"  # the period containing now: partial, labelled so, never judged


def last_complete(now: datetime, grain: Grain | str = Grain.MONTH) -> Period:
    """The latest period of `grain` that has ended by `now` (on 1 December at 08:00: November)."""
    return previous(period_at(now.date(), grain))


def year_to_date(now: datetime) -> Period:
    """The complete months of the year of the last complete month: 1 Jan .. end of that month (on
    1 January: the whole past year)."""
    last = last_complete(now, Grain.MONTH)
    return range_period(date(last.start.year, 1, 1), last.end)


def spanning(start: date, end_inclusive: date, grain: Grain | str) -> list[Period]:
    """Every period of `grain` that intersects [start, end_inclusive]."""
    g = Grain(grain)
    out, s = [], truncate(start, g)
    while s <= end_inclusive:
        p = period_at(s, g)
        out.append(p)
        s = p.end
    return out


def resolve(grain: Grain | str | None, periods: str | Iterable | tuple | None, now: datetime) -> list[Period]:
    """The periods a query asks for, in order, without future ones (a period starting after `now`).

    `periods`: None (the last complete period: a complete period's figures never change without a
    data change), 'current' (the period containing now, partial), a label, a list of labels, or a
    (start, end) pair of dates (inclusive). A label coarser than `grain` expands to its sub-periods
    ('2026-Q3' at month grain = its three months); a finer one gives the period containing it; grain
    None keeps labels as they are.
    """
    g = Grain(grain) if grain else None
    if periods is None:
        out = [last_complete(now, g or Grain.MONTH)]
    elif isinstance(periods, str) and periods.strip().lower() == CURRENT:
        out = [period_at(now.date(), g or Grain.MONTH)]
    elif isinstance(periods, tuple) and len(periods) == 2 and all(isinstance(x, date) for x in periods):
        lo, hi = (x.date() if isinstance(x, datetime) else x for x in periods)
        out = spanning(lo, hi, g or Grain.MONTH)
    else:
        labels = [periods] if isinstance(periods, str) else list(periods)
        out = []
        for label in labels:
            p = label if isinstance(label, Period) else parse_label(label)
            if g is None or p.grain == g.value:
                out.append(p)
            elif p.grain == RANGE or ORDER[Grain(p.grain)] > ORDER[g]:
                out.extend(spanning(p.start, p.end - timedelta(days=1), g))
            else:
                out.append(period_at(p.start, g))
    today = now.date()
    return sorted({p for p in out if p.start <= today})


def years(t: datetime | date) -> float:
    """A moment as fractional years since 1970, the time axis of progress measures."""
    if not isinstance(t, datetime):
        t = datetime.combine(t, time())
    return 1970 + (t - datetime(1970, 1, 1)).total_seconds() / (365.2425 * 86400)
