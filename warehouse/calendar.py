"""Vietnam's working-day calendar, stored in the warehouse so SQL can count working days.

Working day = Monday to Friday and not a public holiday (the `holidays` package's Vietnam calendar,
Tết and its observed days included). Weekend make-up working days decreed ad hoc are not modelled.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import holidays
import pandas as pd

FIRST_YEAR = 2015
LAST_YEAR = 2040


def build_calendar(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> pd.DataFrame:
    """One row per day with is_working, holiday name and the running count of working days."""
    vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1), language="vi")
    days = pd.date_range(date(first_year, 1, 1), date(last_year, 12, 31), freq="D")
    names = [vn.get(d.date()) for d in days]
    is_working = [(d.weekday() < 5) and (n is None) for d, n in zip(days, names, strict=True)]
    frame = pd.DataFrame({"day": days.date, "is_working": is_working, "holiday": names})
    frame["wd_cum"] = frame["is_working"].astype("int64").cumsum().astype("int32")
    return frame


def load_calendar(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build the calendar table; cheap (~9,500 rows), so it is rebuilt whole."""
    frame = build_calendar()
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM calendar")
    con.register("_calendar_frame", frame)
    con.execute("INSERT INTO calendar SELECT day, is_working, holiday, wd_cum FROM _calendar_frame")
    con.unregister("_calendar_frame")
    con.execute("COMMIT")
    return len(frame)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 on the same day): the SQL rule in Python."""
    vn = holidays.country_holidays("VN", years=range(min(start.year, end.year), max(start.year, end.year) + 1))
    sign = 1 if end >= start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    n = 0
    d = lo + timedelta(days=1)
    while d <= hi:
        if d.weekday() < 5 and d not in vn:
            n += 1
        d += timedelta(days=1)
    return sign * n
