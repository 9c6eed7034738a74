"""Numbers, dates, periods and words as each language writes them (dashboard/fmt.py, dashboard/i18n.py)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard import fmt
from dashboard.i18n import lang_of, t


@pytest.mark.parametrize(("x", "decimals", "lang", "expected"), [
    (1234.5, 1, "vi", "1.234,5"),
    (1234.5, 1, "en", "1,234.5"),
    (1234567, 0, "vi", "1.234.567"),
    (1234567, 0, "en", "1,234,567"),
    (0.05, 1, "vi", "0,1"),
    (-3.25, 2, "vi", "\u22123,25"),
    (-0.01, 1, "en", "0.0"),
    (None, 1, "vi", "N/A"),
    (float("nan"), 1, "en", "N/A"),
])
def test_number(x, decimals, lang, expected) -> None:
    assert fmt.number(x, decimals, lang) == expected


def test_value_by_unit() -> None:
    assert fmt.value(72.88, "%", "vi") == "72,9 %"
    assert fmt.value(72.88, "%", "en") == "72.9%"
    assert fmt.value(1234, "hồ sơ", "vi") == "1.234 hồ sơ"
    assert fmt.value(1234, "dossiers", "en", with_unit=False) == "1,234"
    assert fmt.value(4.25, "ngày làm việc", "vi") == "4,2 ngày làm việc"  # banker's rounding of .25 in format
    assert fmt.value(3.0, "sản phẩm", "vi") == "3 sản phẩm"
    assert fmt.value(19.494, "điểm", "vi") == "19,49 điểm"
    assert fmt.value(None, "%", "vi") == "N/A"  # N/A, never 0


def test_change_is_signed_with_percentage_points() -> None:
    assert fmt.change(1.23, "%", "vi") == "+1,2 điểm %"
    assert fmt.change(1.23, "%", "en") == "+1.2 pp"
    assert fmt.change(-12, "hồ sơ", "vi") == "\u221212 hồ sơ"
    assert fmt.change(0.0, "%", "en") == "0.0 pp"
    assert fmt.change(None, "%", "en") == "N/A"


def test_dates_are_day_month_year() -> None:
    assert fmt.day(date(2026, 3, 5)) == "05/03/2026"
    assert fmt.day(pd.Timestamp("2026-12-31")) == "31/12/2026"
    assert fmt.day(None) == ""
    assert fmt.moment(datetime(2026, 11, 22, 14, 32, 5)) == "14:32 22/11/2026"
    assert fmt.clock(datetime(2026, 11, 22, 9, 5)) == "09:05"


@pytest.mark.parametrize(("seconds", "vi", "en"), [
    (40, "40 giây trước", "40 seconds ago"),
    (0, "0 giây trước", "0 seconds ago"),
    (125, "2 phút trước", "2 minutes ago"),
    (7300, "2 giờ trước", "2 hours ago"),
    (200000, "2 ngày trước", "2 days ago"),
])
def test_ago(seconds, vi, en) -> None:
    assert fmt.ago(seconds, "vi") == vi
    assert fmt.ago(seconds, "en") == en


@pytest.mark.parametrize(("label", "vi", "en"), [
    ("2026-11", "11/2026", "11/2026"),
    ("2026-Q3", "Quý 3/2026", "Q3 2026"),
    ("2026", "2026", "2026"),
    ("2026-W05", "Tuần 5/2026", "Week 5, 2026"),
    ("2026-03-05", "05/03/2026", "05/03/2026"),
    ("2024-07-01..2025-06-30", "01/07/2024–30/06/2025", "01/07/2024–30/06/2025"),
])
def test_period_labels(label, vi, en) -> None:
    assert fmt.period(label, "vi") == vi
    assert fmt.period(label, "en") == en


def test_long_period_labels() -> None:
    assert fmt.period("2026-11", "vi", long=True) == "Tháng 11/2026"
    assert fmt.period("2026-11", "en", long=True) == "November 2026"
    assert fmt.period("2025", "vi", long=True) == "Năm 2025"


def test_separators_and_fraction() -> None:
    assert fmt.separators("vi") == ",."
    assert fmt.separators("en") == ".,"
    assert fmt.hover_fraction(412, 530, "hồ sơ", "vi") == "412 / 530 hồ sơ"
    assert fmt.hover_fraction(4120, 5300, "dossiers", "en") == "4,120 / 5,300 dossiers"
    assert fmt.hover_fraction(None, 530, "hồ sơ", "vi") == ""


def test_is_na() -> None:
    assert fmt.is_na(None) and fmt.is_na(math.nan) and fmt.is_na(pd.NaT) and fmt.is_na(pd.NA)
    assert not fmt.is_na(0) and not fmt.is_na("x")


def test_t_fills_placeholders_and_defaults_to_vietnamese() -> None:
    assert t("updated", "vi", time="14:32", ago="40 giây trước") == "cập nhật 14:32, 40 giây trước"
    assert t("updated", "en", time="14:32", ago="40 s ago") == "updated 14:32, 40 s ago"
    assert t("status_on_track", "fr") == "Đúng tiến độ"
    assert t("no-such-key", "en") == "no-such-key"
    assert lang_of("en") == "en" and lang_of(None) == "vi" and lang_of("xx") == "vi"


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]
