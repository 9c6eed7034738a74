"""A vectorised working-day calendar for the demo generator (Vietnam: Mon-Fri minus public holidays).

Days are integer ordinals (days since 1970-01-01) so whole columns can be shifted by N working days
with one array lookup. Holidays come from the `holidays` package. The rule is the warehouse's
(warehouse/calendar.py): weekend make-up working days decreed ad hoc (e.g. Saturday 2025-04-26) are
not working days here either, so generated due dates agree with the warehouse's working-day counts.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np

EPOCH = date(1970, 1, 1)


def ordinal(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def from_ordinal(value: int) -> date:
    return EPOCH + timedelta(days=int(value))


class WorkCalendar:
    """Working days between `first` and `last` (inclusive) as arrays indexed by day ordinal."""

    def __init__(self, first: date, last: date) -> None:
        self.first = ordinal(first)
        n = (last - first).days + 1
        self.days = self.first + np.arange(n, dtype=np.int64)
        vn = holidays.country_holidays("VN", years=range(first.year, last.year + 1))
        self.weekday = ((self.days + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday; Monday = 0
        names = [vn.get(from_ordinal(d)) for d in self.days]
        self.holiday = np.array([n is not None for n in names])
        self.tet = np.array([n is not None and "Lunar New Year" in n for n in names])
        self.working = (self.weekday < 5) & ~self.holiday
        self.wd_cum = np.cumsum(self.working).astype(np.int64)  # working days on or before each day
        self.work_days = self.days[self.working]

    def index(self, day_ord: np.ndarray) -> np.ndarray:
        """Position of each day in the calendar arrays."""
        return np.asarray(day_ord, dtype=np.int64) - self.first

    def add_workdays(self, day_ord: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The k-th working day after each day (k >= 1); k = 0 gives the day itself if it is a working day."""
        pos = self.wd_cum[self.index(day_ord)] + np.asarray(k, dtype=np.int64)
        pos = np.clip(pos, 1, len(self.work_days))
        return self.work_days[pos - 1]
