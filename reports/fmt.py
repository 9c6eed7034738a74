"""Number, date and time formatting of the reports: one set of rounding rules for PDF and Excel.

Rounding (documented on every report's cover):
- percentages: 1 decimal (value in 0..100 as the metrics API returns it);
- counts (dossiers, ratings): integers with thousands separators;
- working days and other non-integer values: 1 decimal;
- changes of a percentage: 1 decimal, in percentage points, with a sign;
- targets as the plan writes them (80 %, 14,5 %): they are declared numbers, not measurements.
Separators follow the language: Vietnamese 1.234,5, English 1,234.5 (metrics.cli.fmt_number).
Rounding is Python's round-half-even of the float the API returns, the same as `round(x, 1)`, so the
Excel cells (numbers, rounded) and the PDF text agree digit for digit.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

import config
from metrics.cli import fmt_number

PERCENT_DECIMALS = 1
DAYS_DECIMALS = 1
# How a column's values are shown: the kind names the rounding rule.
KINDS = ("text", "pct", "count", "days", "value", "change", "date", "datetime", "status")


def is_na(x: object) -> bool:
    """None, NaN and NaT are 'no data' (N/A), never zero."""
    if x is None or x is pd.NaT:
        return True
    try:
        return bool(x != x)  # NaN
    except (TypeError, ValueError):
        return False


def decimals_for(unit: str | None, x: float | None = None) -> int:
    """Decimals for a KPI value of `unit`: % and working days 1; counts 0; other units 1 if not whole."""
    if unit == "%":
        return PERCENT_DECIMALS
    if unit in ("ngày làm việc", "working days", "điểm", "points"):
        return DAYS_DECIMALS
    if unit in ("hồ sơ", "dossiers"):
        return 0
    return 0 if x is None or float(x).is_integer() else 1


def rounded(x: object, unit: str | None) -> float | None:
    """The value as the report shows it (None for N/A): what Excel cells hold."""
    if is_na(x):
        return None
    d = decimals_for(unit, float(x))  # type: ignore[arg-type]
    return round(float(x), d) if d else float(round(float(x)))  # type: ignore[arg-type]


def fmt_value(x: object, unit: str | None, lang: str = "vi", with_unit: bool = True) -> str:
    """A KPI value as text: '96,2 %', '1.234 hồ sơ', '2,3 ngày làm việc'; 'N/A' when missing."""
    if is_na(x):
        return "N/A"
    f = float(x)  # type: ignore[arg-type]
    text = fmt_number(f, decimals_for(unit, f), lang)
    if unit == "%":
        return text + " %"
    return f"{text} {unit}" if with_unit and unit else text


def fmt_target(x: object, unit: str | None, lang: str = "vi") -> str:
    """A declared target as written in the plan: '80 %', '14,5 %', '5 sản phẩm' (decimals only where it has them)."""
    if is_na(x):
        return ""
    f = float(x)  # type: ignore[arg-type]
    text = fmt_number(f, 0 if f.is_integer() else 1, lang)
    return text + " %" if unit == "%" else (f"{text} {unit}" if unit else text)


def fmt_change(x: object, unit: str | None, lang: str = "vi") -> str:
    """A change since the previous period with its sign; percentages in points ('+0,2 điểm %', '+0.2 pp')."""
    if is_na(x):
        return ""
    f = float(x)  # type: ignore[arg-type]
    text = fmt_number(f, decimals_for(unit, f) if unit != "%" else PERCENT_DECIMALS, lang)
    if text.lstrip("-").replace("0", "").strip(",.") == "":
        text = text.lstrip("-")  # -0,0 is 0,0
    elif f > 0:
        text = "+" + text
    if unit == "%":
        return text + (" điểm %" if lang == "vi" else " pp")
    return f"{text} {unit}" if unit else text


def fmt_count(x: object, lang: str = "vi") -> str:
    """An integer count with thousands separators; N/A when missing."""
    return "N/A" if is_na(x) else fmt_number(float(x), 0, lang)  # type: ignore[arg-type]


def fmt_pct(x: object, lang: str = "vi") -> str:
    """A percentage to 1 decimal without the unit (for columns whose header says %)."""
    return "N/A" if is_na(x) else fmt_number(float(x), PERCENT_DECIMALS, lang)  # type: ignore[arg-type]


def fmt_date(d: object) -> str:
    """dd/mm/yyyy in every language; empty when missing."""
    if is_na(d) or d == "":
        return ""
    return pd.Timestamp(d).strftime("%d/%m/%Y")  # type: ignore[arg-type]


def local(dt: datetime) -> datetime:
    """Hanoi wall-clock time, naive (as the warehouse and metrics API use it); aware times are converted."""
    return dt.astimezone(config.TZ).replace(tzinfo=None) if dt.tzinfo is not None else dt


def fmt_datetime(dt: object) -> str:
    """'HH:MM dd/mm/yyyy' in Hanoi time."""
    if is_na(dt):
        return ""
    ts = pd.Timestamp(dt)  # type: ignore[arg-type]
    return local(ts.to_pydatetime()).strftime("%H:%M %d/%m/%Y")


def month_label(month: str, lang: str = "vi") -> str:
    """'2026-10' -> '10/2026'."""
    y, m = month.split("-")
    return f"{m}/{y}"


def fmt_cell(x: object, kind: str, lang: str = "vi", unit: str | None = None) -> str:
    """A table cell as text by column kind (see KINDS)."""
    if kind == "pct":
        return fmt_pct(x, lang)
    if kind == "count":
        return fmt_count(x, lang)
    if kind == "days":
        return "N/A" if is_na(x) else fmt_number(float(x), DAYS_DECIMALS, lang)  # type: ignore[arg-type]
    if kind == "value":
        return fmt_value(x, unit, lang)
    if kind == "change":
        return fmt_change(x, unit, lang)
    if kind == "date":
        return fmt_date(x)
    if kind == "datetime":
        return fmt_datetime(x)
    return "" if is_na(x) else str(x)


def excel_number_format(kind: str, unit: str | None = None) -> str | None:
    """The Excel number format of a column kind; Excel shows separators in the reader's locale."""
    if kind in ("pct", "days") or (kind in ("value", "change") and decimals_for(unit) == 1):
        return "#,##0.0"
    if kind in ("count",) or (kind in ("value", "change") and unit in ("hồ sơ", "dossiers")):
        return "#,##0"
    if kind == "date":
        return "dd/mm/yyyy"
    if kind == "datetime":
        return "hh:mm dd/mm/yyyy"
    return None


def as_date(x: object) -> date | None:
    """A date for an Excel date cell (None when missing)."""
    return None if is_na(x) or x == "" else pd.Timestamp(x).date()  # type: ignore[arg-type]
