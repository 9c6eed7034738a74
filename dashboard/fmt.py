"""Numbers, dates and periods as each language writes them: vi 1.234,5 and dd/mm/yyyy; en 1,234.5.

Pure functions of their arguments; N/A (None, NaN) is always written "N/A", never 0.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pandas as pd

NA = "N/A"
MINUS = "\u2212"  # a real minus sign: reads better than a hyphen in large type

# units whose values carry decimals; everything else is a count
_ONE_DECIMAL = {"%", "ngày làm việc", "working days"}
_TWO_DECIMALS = {"điểm", "points"}


def is_na(x) -> bool:
    if x is None or x is pd.NaT or x is pd.NA:
        return True
    try:
        return isinstance(x, float | int) and math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def number(x, decimals: int = 0, lang: str = "vi") -> str:
    """1234.5 -> '1.234,5' (vi) or '1,234.5' (en)."""
    if is_na(x):
        return NA
    text = f"{float(x):,.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
    if text in (f"{MINUS}0", f"{MINUS}0.{'0' * decimals}"):
        text = text[1:]
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "vi" else text


def decimals_for(unit: str | None, x=None) -> int:
    if unit in _ONE_DECIMAL:
        return 1
    if unit in _TWO_DECIMALS:
        return 2
    if x is not None and not is_na(x) and float(x) != round(float(x)):
        return 1
    return 0


def percent(x, lang: str = "vi", decimals: int = 1) -> str:
    return NA if is_na(x) else number(x, decimals, lang) + "%"


def value(x, unit: str | None, lang: str = "vi", with_unit: bool = True) -> str:
    """A KPI value with its unit: '72,9%', '1.234 hồ sơ', '4,2 ngày làm việc'."""
    if is_na(x):
        return NA
    if unit == "%":
        return percent(x, lang)
    text = number(x, decimals_for(unit, x), lang)
    return f"{text} {unit}" if with_unit and unit else text


def change(x, unit: str | None, lang: str = "vi") -> str:
    """A signed change: '+1,2 điểm %' / '+1.2 pp' for percentages, '−12 hồ sơ' for counts."""
    if is_na(x):
        return NA
    f = float(x)
    decimals = 1 if unit == "%" else decimals_for(unit, x)
    sign = "+" if round(f, decimals) > 0 else ""
    text = sign + number(f, decimals, lang)
    if unit == "%":
        return text + (" điểm %" if lang == "vi" else " pp")
    return f"{text} {unit}" if unit else text


def day(d) -> str:
    """dd/mm/yyyy."""
    if is_na(d) or d is None or d == "":
        return ""
    return pd.Timestamp(d).strftime("%d/%m/%Y")


def moment(t) -> str:
    """'14:32 22/11/2026' (Hanoi local time, as stored)."""
    if is_na(t) or t is None or t == "":
        return ""
    return pd.Timestamp(t).strftime("%H:%M %d/%m/%Y")


def clock(t) -> str:
    return "" if is_na(t) or t is None else pd.Timestamp(t).strftime("%H:%M")


def ago(seconds: float | None, lang: str = "vi") -> str:
    """'40 giây trước' / '40 s ago', then minutes, hours, days."""
    if seconds is None or is_na(seconds):
        return NA
    s = max(0, int(seconds))
    for size, vi, en in ((86400, "ngày", "d"), (3600, "giờ", "h"), (60, "phút", "min"), (1, "giây", "s")):
        if s >= size or size == 1:
            n = s // size
            return f"{n} {vi} trước" if lang == "vi" else f"{n} {en} ago"
    return NA  # unreachable


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def period(label, lang: str = "vi", long: bool = False) -> str:
    """'2026-11' -> '11/2026' (long: 'Tháng 11/2026' / 'November 2026'); '2026-Q3' -> 'Quý 3/2026' / 'Q3 2026'."""
    if is_na(label) or label is None:
        return ""
    s = str(label)
    if m := _MONTH.match(s):
        if long:
            if lang == "vi":
                return f"Tháng {m[2]}/{m[1]}"
            return date(int(m[1]), int(m[2]), 1).strftime("%B %Y")
        return f"{m[2]}/{m[1]}"
    if m := _QUARTER.match(s):
        return f"Quý {m[2]}/{m[1]}" if lang == "vi" else f"Q{m[2]} {m[1]}"
    if m := _WEEK.match(s):
        return f"Tuần {int(m[2])}/{m[1]}" if lang == "vi" else f"Week {int(m[2])}, {m[1]}"
    if m := _DAY.match(s):
        return f"{m[3]}/{m[2]}/{m[1]}"
    if m := _RANGE.match(s):
        return f"{day(m[1])}–{day(m[2])}"
    if m := _YEAR.match(s):
        return f"Năm {m[1]}" if lang == "vi" and long else m[1]
    return s


def day_month(d) -> str:
    """dd/mm (the date a partial period runs to: 'tạm tính đến 01/12')."""
    if is_na(d) or d is None or d == "":
        return ""
    return pd.Timestamp(d).strftime("%d/%m")


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def months_span(label, lang: str = "vi") -> str:
    """A range of whole months of one year ('2026-01-01..2026-11-30') as 'T1–T11/2026' / 'Jan–Nov 2026';
    any other label as period() writes it."""
    m = _RANGE.match(str(label)) if not is_na(label) and label is not None else None
    if not m:
        return period(label, lang)
    a, b = pd.Timestamp(m[1]), pd.Timestamp(m[2])
    whole = a.day == 1 and (b + pd.Timedelta(days=1)).day == 1 and a.year == b.year
    if not whole:
        return period(label, lang)
    if lang == "vi":
        return f"T{a.month}/{a.year}" if a.month == b.month else f"T{a.month}–T{b.month}/{a.year}"
    if a.month == b.month:
        return f"{_MONTHS_EN[a.month - 1]} {a.year}"
    return f"{_MONTHS_EN[a.month - 1]}–{_MONTHS_EN[b.month - 1]} {a.year}"


def separators(lang: str) -> str:
    """Plotly's layout.separators: decimal then thousands."""
    return ",." if lang == "vi" else ".,"


def hover_fraction(numerator, denominator, unit_word: str, lang: str) -> str:
    """'412 / 530 hồ sơ' for a hover label; '' when either is missing."""
    if is_na(numerator) or is_na(denominator):
        return ""
    n = number(numerator, 0 if float(numerator) == round(float(numerator)) else 1, lang)
    return f"{n} / {number(denominator, 0, lang)} {unit_word}".strip()

