"""Number, date and time formatting of the reports: the names the PDF and Excel writers call, over
presentation.fmt (Babel), the one formatter and rounding rule of every surface.

Rounding (documented on every report's cover), from each KPI's display metadata (kpis.yaml):
- percentages: 1 decimal (value in 0..100 as the metrics API returns it);
- counts (dossiers, ratings): integers with thousands separators;
- working days 1 decimal; Decision 766 points 2 decimals; other non-integer values 1 decimal;
- changes of a percentage: in percentage points, with a sign;
- targets as the plan writes them (80 %, 14,5 %): they are declared numbers, not measurements.
Separators follow the language: Vietnamese 1.234,5, English 1,234.5. Rounding is Python's
round-half-even of the float the API returns (presentation.fmt.rounded), so the Excel cells (numbers,
rounded) and the PDF text agree digit for digit.
"""

from __future__ import annotations

from datetime import datetime

from presentation import fmt as _f
from presentation.fmt import is_na  # noqa: F401  (re-exported)
from presentation.fmt import local as _local

PERCENT_DECIMALS = _f.decimals_for("%")
DAYS_DECIMALS = _f.decimals_for("ngày làm việc")


def decimals_for(unit: str | None, x: float | None = None, decimals: int | None = None) -> int:
    """Decimals for a KPI value of `unit` (presentation.fmt.decimals_for), or `decimals` when given."""
    return decimals if decimals is not None else _f.decimals_for(unit, x)


def rounded(x: object, unit: str | None, decimals: int | None = None) -> float | None:
    """The value as the report shows it (None for N/A): what Excel cells hold."""
    return _f.rounded(x, decimals_for(unit, None if is_na(x) else x, decimals))  # type: ignore[arg-type]


def fmt_value(x: object, unit: str | None, lang: str = "vi", with_unit: bool = True,
              decimals: int | None = None) -> str:
    """A KPI value as text: '96,2 %', '1.234 hồ sơ', '2,3 ngày làm việc'; 'N/A' when missing."""
    return _f.value(x, unit, lang, with_unit, decimals)


def fmt_target(x: object, unit: str | None, lang: str = "vi") -> str:
    """A declared target as written in the plan: '80 %', '14,5 %', '5 sản phẩm' (decimals only where it has them)."""
    return _f.target(x, unit, lang)


def fmt_change(x: object, unit: str | None, lang: str = "vi", decimals: int | None = None) -> str:
    """A change since the previous period with its sign; percentages in points ('+0,2 điểm %', '+0.2 pp')."""
    return "" if is_na(x) else _f.change(x, unit, lang, decimals)


def fmt_count(x: object, lang: str = "vi") -> str:
    """An integer count with thousands separators; N/A when missing."""
    return _f.number(x, 0, lang)


def fmt_pct(x: object, lang: str = "vi") -> str:
    """A percentage to 1 decimal without the unit (for columns whose header says %)."""
    return _f.number(x, PERCENT_DECIMALS, lang)


def fmt_date(d: object) -> str:
    """dd/mm/yyyy in every language; empty when missing."""
    return _f.day(d)


def local(dt: datetime) -> datetime:
    """Hanoi wall-clock time, naive (as the warehouse and metrics API use it); aware times are converted."""
    return _local(dt)  # type: ignore[return-value]


def fmt_datetime(dt: object) -> str:
    """'HH:MM dd/mm/yyyy' in Hanoi time."""
    return _f.moment(dt)


def month_label(month: str, lang: str = "vi") -> str:
    """'2026-10' -> '10/2026'."""
    return _f.period(month, lang)
