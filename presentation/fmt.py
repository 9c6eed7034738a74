"""The one number, date and time formatter of every surface (screen, downloads, PDF, Excel, CLI), on Babel.

Vietnamese writes 1.234,5 and 72,9 %; English 1,234.5 and 72.9%; dates dd/mm/yyyy in both; times in
Hanoi time (Asia/Ho_Chi_Minh); relative times as Babel words them ('40 giây trước', '40 seconds ago').
N/A (None, NaN, NaT) is always written 'N/A', never 0.

Rounding happens here only: `decimals_for` says how many decimals a KPI value keeps (the KPI's
display.decimals from kpis.yaml, else the default of its unit: % and working days 1, Decision 766
points 2, counts 0, and 1 for a value that is not whole where the rule says 0, such as a projected
count) and `rounded` rounds (Python's round-half-even of the float the metrics API returns). Text is
formatted from the rounded number, so a cell in Excel and the same figure in a PDF or on screen agree
digit for digit.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal

from metrics.registry import decimals_of_unit, kind_of_unit  # noqa: F401  (kind_of_unit re-exported)

NA = "N/A"
MINUS = "\u2212"  # a real minus sign: reads better than a hyphen in large type
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LOCALES = {"vi": "vi_VN", "en": "en"}
PERCENT_SIGN = {"vi": " %", "en": "%"}  # Vietnamese sets the sign apart (72,9 %), English does not (72.9%)


def locale(lang: str | None) -> str:
    """The Babel locale of a language code ('vi' -> vi_VN, 'en' -> en); Vietnamese by default."""
    return LOCALES.get(lang or "vi", "vi_VN")


def is_na(x: object) -> bool:
    """None, NaN, NaT and pd.NA are 'no data'."""
    if x is None or x is pd.NaT or x is pd.NA:
        return True
    try:
        return isinstance(x, float | int) and math.isnan(float(x))
    except (TypeError, ValueError):
        return False


# --- rounding: the one rule ----------------------------------------------------------------------

def decimals_for(unit: str | None = None, x: object = None, kpi: Any = None) -> int:
    """Decimals of a value: the KPI's display.decimals when `kpi` (a registry Kpi) is given, else the
    default of `unit`; a value that is not whole where the rule says 0 keeps 1 decimal."""
    places = kpi.decimals if kpi is not None else decimals_of_unit(unit)
    if places == 0 and x is not None and not is_na(x):
        try:
            if float(x) != round(float(x)):
                return 1
        except (TypeError, ValueError):
            pass
    return places


def rounded(x: object, decimals: int) -> float | None:
    """The value as every surface shows it (None for N/A): what Excel cells and exports hold."""
    if is_na(x):
        return None
    f = round(float(x), decimals)  # type: ignore[arg-type]
    return f + 0.0 if f else 0.0   # no -0.0


def is_percent_unit(unit: str | None) -> bool:
    return kind_of_unit(unit) == "percent"


# --- numbers ----------------------------------------------------------------------------------------

def number(x: object, decimals: int = 0, lang: str = "vi") -> str:
    """1234.5 -> '1.234,5' (vi) or '1,234.5' (en); negatives with a real minus sign; never '−0'."""
    f = rounded(x, decimals)
    if f is None:
        return NA
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(abs(f), format=pattern, locale=locale(lang), decimal_quantization=True)
    return MINUS + text if f < 0 else text


def percent(x: object, lang: str = "vi", decimals: int = 1) -> str:
    """72.88 (a value in 0..100, as the metrics API returns it) -> '72,9 %' (vi), '72.9%' (en)."""
    if is_na(x):
        return NA
    return number(x, decimals, lang) + percent_sign(lang)


def percent_sign(lang: str | None) -> str:
    """' %' (vi) or '%' (en): what follows a percentage."""
    return PERCENT_SIGN.get(lang or "vi", PERCENT_SIGN["vi"])


def _unit(unit: str, shown: str, lang: str) -> str:
    """The unit agreeing with its number from the word catalogue's plural forms: '1 product', '2 products',
    '+1 product', '1.0 products' (the number as shown picks the form); Vietnamese has one form. A unit the
    catalogue does not list is kept as it is."""
    from presentation.words import unit_word

    return unit_word(unit, shown, lang) or unit


def value(x: object, unit: str | None, lang: str = "vi", with_unit: bool = True, decimals: int | None = None,
          kpi: Any = None) -> str:
    """A KPI value with its unit: '72,9 %', '1.234 hồ sơ', '4,2 ngày làm việc'. A percentage always
    carries its %; other units only `with_unit`."""
    if is_na(x):
        return NA
    d = decimals if decimals is not None else decimals_for(unit, x, kpi)
    if (kpi.is_percent if kpi is not None else is_percent_unit(unit)):
        return percent(x, lang, d)
    text = number(x, d, lang)
    return f"{text} {_unit(unit, text, lang)}" if with_unit and unit else text


def change(x: object, unit: str | None, lang: str = "vi", decimals: int | None = None, kpi: Any = None) -> str:
    """A signed change: '+1,2 điểm %' / '+1.2 pp' for percentages, '−12 hồ sơ' for counts; '0,0' unsigned."""
    if is_na(x):
        return NA
    d = decimals if decimals is not None else decimals_for(unit, x, kpi)
    f = rounded(x, d) or 0.0
    text = ("+" if f > 0 else "") + number(f, d, lang)
    if kpi.is_percent if kpi is not None else is_percent_unit(unit):
        return text + (" điểm %" if lang != "en" else " pp")
    return f"{text} {_unit(unit, text, lang)}" if unit else text


def target(x: object, unit: str | None, lang: str = "vi") -> str:
    """A declared target as the plan writes it: '80 %', '14,5 %', '5 sản phẩm' (decimals only where it has them)."""
    if is_na(x):
        return ""
    f = float(x)  # type: ignore[arg-type]
    d = 0 if f.is_integer() else (1 if round(f, 1) == f else 2)
    return value(f, unit, lang, decimals=d)


def fraction(numerator: object, denominator: object, unit_word: str, lang: str) -> str:
    """'412 / 530 hồ sơ'; '' when either is missing."""
    if is_na(numerator) or is_na(denominator):
        return ""
    n = number(numerator, decimals_for(None, numerator), lang)
    return f"{n} / {number(denominator, 0, lang)} {unit_word}".strip()


def separators(lang: str) -> str:
    """Plotly's layout.separators: decimal then thousands, as Babel's locale has them."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol(locale(lang)) + get_group_symbol(locale(lang))


# --- dates and times --------------------------------------------------------------------------------

def local(t: object) -> datetime | None:
    """Hanoi wall-clock time, naive (as the warehouse and the metrics API keep it); aware times converted."""
    if is_na(t) or t == "":
        return None
    ts = pd.Timestamp(t).to_pydatetime()  # type: ignore[arg-type]
    return ts.astimezone(TZ).replace(tzinfo=None) if ts.tzinfo is not None else ts


def day(d: object, lang: str = "vi") -> str:
    """dd/mm/yyyy in every language; '' when missing."""
    if is_na(d) or d is None or d == "":
        return ""
    t = local(d) if isinstance(d, datetime | pd.Timestamp) else pd.Timestamp(d).to_pydatetime()  # type: ignore[arg-type]
    return format_date(t.date() if isinstance(t, datetime) else t, "dd/MM/yyyy", locale=locale(lang))


def day_month(d: object, lang: str = "vi") -> str:
    """dd/mm (the date a partial period runs to: 'tạm tính đến 01/12')."""
    if is_na(d) or d is None or d == "":
        return ""
    return format_date(pd.Timestamp(d).date(), "dd/MM", locale=locale(lang))  # type: ignore[arg-type]


def clock(t: object, lang: str = "vi") -> str:
    """'09:05' in Hanoi time."""
    lt = local(t)
    return "" if lt is None else f"{lt:%H:%M}"


def moment(t: object, lang: str = "vi") -> str:
    """'14:32 22/11/2026' in Hanoi time (aware times converted, naive ones taken as Hanoi time)."""
    lt = local(t)
    return "" if lt is None else f"{clock(lt)} {day(lt, lang)}"


def ago(seconds: float | None, lang: str = "vi") -> str:
    """How long ago, as Babel words it: '40 giây trước' / '40 seconds ago', then minutes, hours, days."""
    if seconds is None or is_na(seconds):
        return NA
    s = max(0, int(seconds))
    if s == 0:  # Babel words a zero delta as the future ('sau 0 giây nữa'): word 2 seconds, write 0
        return format_timedelta(timedelta(seconds=-2), add_direction=True, locale=locale(lang)).replace("2", "0", 1)
    return format_timedelta(timedelta(seconds=-s), add_direction=True, threshold=1.0, locale=locale(lang))


def month_name(year: int, month: int, lang: str = "vi") -> str:
    """'November 2026' (en) / 'tháng 11 năm 2026' (vi), from Babel."""
    return format_date(date(year, month, 1), "MMMM yyyy", locale=locale(lang))


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def period(label: object, lang: str = "vi", long: bool = False) -> str:
    """'2026-11' -> '11/2026' (long: 'Tháng 11/2026' / 'November 2026'); '2026-Q3' -> 'Quý 3/2026' / 'Q3 2026';
    '2026-W05' -> 'Tuần 5/2026' / 'Week 5, 2026'; a date range -> '01/07/2024–30/06/2025'."""
    if is_na(label) or label is None:
        return ""
    s = str(label)
    if m := _MONTH.match(s):
        if long:
            return f"Tháng {m[2]}/{m[1]}" if lang != "en" else month_name(int(m[1]), int(m[2]), "en")
        return f"{m[2]}/{m[1]}"
    if m := _QUARTER.match(s):
        return f"Quý {m[2]}/{m[1]}" if lang != "en" else f"Q{m[2]} {m[1]}"
    if m := _WEEK.match(s):
        return f"Tuần {int(m[2])}/{m[1]}" if lang != "en" else f"Week {int(m[2])}, {m[1]}"
    if m := _DAY.match(s):
        return f"{m[3]}/{m[2]}/{m[1]}"
    if m := _RANGE.match(s):
        return f"{day(m[1])}–{day(m[2])}"
    if m := _YEAR.match(s):
        return f"Năm {m[1]}" if lang != "en" and long else m[1]
    return s


def months_span(label: object, lang: str = "vi") -> str:
    """A range of whole months of one year ('2026-01-01..2026-11-30') as 'T1–T11/2026' / 'Jan–Nov 2026';
    any other label as period() writes it."""
    m = _RANGE.match(str(label)) if not is_na(label) and label is not None else None
    if not m:
        return period(label, lang)
    a, b = pd.Timestamp(m[1]), pd.Timestamp(m[2])
    whole = a.day == 1 and (b + pd.Timedelta(days=1)).day == 1 and a.year == b.year
    if not whole:
        return period(label, lang)
    if lang != "en":
        return f"T{a.month}/{a.year}" if a.month == b.month else f"T{a.month}–T{b.month}/{a.year}"

    def short(ts: pd.Timestamp) -> str:
        return format_date(ts.date(), "MMM", locale="en")
    if a.month == b.month:
        return f"{short(a)} {a.year}"
    return f"{short(a)}–{short(b)} {a.year}"
