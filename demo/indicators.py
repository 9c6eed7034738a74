"""Seeded demo series for the indicator catalogue, in the canonical indicator format.

City series (digital economy, ST&DT and TFP shares, GRDP growth, SIPAS, task groups, strategic
technology products, internal e-office) and per-unit series (population, 5G coverage, Decision 766
publicity score, internal e-office). Values trend toward the Resolution 57 targets, some land short.
Publications follow realistic lags, and some are published again later with a different value
(preliminary then official yearly figures, revised GRDP quarters, a few revised 5G quarters,
running counts of strategic products), so the revision feature has something to show.

Noise is keyed by (seed, indicator, unit) over a fixed period grid, so a later `now` only adds
publications: it never changes one already published.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

import clock
from demo.catalog import world

INDICATOR_COLUMNS = ["indicator_code", "unit_code", "period", "value", "source", "published_at"]
GRID_START = 2020  # noise grid origin (fixed: keeps values independent of start_year)
SOURCES = {
    "population": "Thống kê thành phố Hà Nội",
    "coverage_5g": "Viettel, VNPT, MobiFone; tổng hợp: Sở Khoa học và Công nghệ",
    "digital_economy_share": "Thống kê thành phố Hà Nội",
    "stdt_share": "Sở Khoa học và Công nghệ; Thống kê thành phố Hà Nội",
    "tfp_share": "Thống kê thành phố Hà Nội",
    "grdp_growth": "Thống kê thành phố Hà Nội",
    "internal_eops": "Văn phòng UBND thành phố Hà Nội",
    "strategic_tech_products": "Sở Khoa học và Công nghệ",
    "task_groups_on_track": "Sở Khoa học và Công nghệ",
    "publicity_766": "Cổng Dịch vụ công quốc gia",
    "sipas": "Sở Nội vụ",
    "counter_officers": "UBND phường/xã; tổng hợp: Sở Nội vụ",
    "seconded_staff": "Sở Nội vụ",
    "service_points": "UBND phường/xã",
}
# One-stop staffing (issue 12): officers at the counter sized to each unit's dossier volume (about this
# many dossiers per officer per working day), 4..12 per unit, except a few units clearly understaffed.
DOSSIERS_PER_WORKING_DAY = 3100 * 365 / 250   # the demo's default volume, per working day
OFFICER_LOAD = 5.5
UNDERSTAFFED = 4                               # units with about half the officers their volume needs
UNITS_FROM = date(2025, 7, 1)  # the 126 wards/communes exist from the two-tier start


def _periods(freq: str, start_year: int, until: date) -> list[tuple[str, date, date, int]]:
    """(label, start, end exclusive, grid index) for every period that has ended by `until`."""
    out = []
    step = {"year": 12, "quarter": 3, "month": 1}[freq]
    for m0 in range((start_year - GRID_START) * 12, (until.year - GRID_START + 1) * 12, step):
        y, m = GRID_START + m0 // 12, m0 % 12 + 1
        start = date(y, m, 1)
        e = m0 + step
        end = date(GRID_START + e // 12, e % 12 + 1, 1)
        if end > until:
            break
        label = str(y) if freq == "year" else f"{y}-Q{(m - 1) // 3 + 1}" if freq == "quarter" else f"{y}-{m:02d}"
        out.append((label, start, end, m0 // step))
    return out


def _years(d: date) -> float:
    """Years since 2024-01-01 at a date (negative before)."""
    return (d - date(2024, 1, 1)).days / 365.25


def _at(d: date, days: float, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour) + timedelta(days=float(days))


def _noise(seed: int, code: str, unit: int, size: int = 200) -> np.ndarray:
    key = sum(ord(c) * 31 ** i for i, c in enumerate(code)) % 2**31
    return np.random.default_rng([seed, 9001, key, unit]).standard_normal(size)


def generate_indicators(start_year: int = 2024, now: datetime | None = None, seed: int = 57) -> pd.DataFrame:
    """All publications made by `now` (default: the current local time, to the minute) from `start_year`."""
    if now is None:

        now = clock.stamp().replace(second=0, microsecond=0)
    units, _ = world(seed)
    today = now.date()
    rows: list[tuple[str, str, str, float, str, datetime]] = []

    def add(code: str, unit: str, label: str, value: float, when: datetime) -> None:
        if when <= now:
            rows.append((code, unit, label, round(float(value), 2), SOURCES[code], when))

    def city(code: str, freq: str, fn, lag: float, revise_lag: float | None = None, revise_sd: float = 0.0):
        z = _noise(seed, code, 0)
        for label, start, end, i in _periods(freq, start_year, today):
            x = _years(start + (end - start) / 2)
            value = fn(x, z[i], end)
            if value is None:
                continue
            if revise_lag is None:
                add(code, "01", label, value, _at(end, lag + (i % 3)))
            else:  # preliminary then official
                add(code, "01", label, value - revise_sd * z[i + 1], _at(end, lag + (i % 3)))
                add(code, "01", label, value, _at(end, revise_lag))

    city("digital_economy_share", "quarter", lambda x, e, end: 11.0 + 1.05 * x + 0.12 * e, 25)
    city("grdp_growth", "quarter", lambda x, e, end: min(6.3 + 0.9 * x, 8.4) + 0.2 * e, 8, 100, 0.15)
    city("stdt_share", "year", lambda x, e, end: 13.0 + 1.9 * (x - 0.5) + 0.2 * e, 40, 150, 0.3)
    city("tfp_share", "year", lambda x, e, end: 42.2 + 3.0 * (x - 0.5) + 0.4 * e, 40, 150, 0.6)
    city("sipas", "year", lambda x, e, end: 84.3 + 0.85 * (x - 0.5) + 0.15 * e, 45)
    city("internal_eops", "month", lambda x, e, end: min(88.0 + 3.3 * x + 0.35 * e, 99.6), 8)
    city("task_groups_on_track", "quarter",
         lambda x, e, end: None if end <= date(2025, 1, 1) else float(min(20, round(-2.7 + 6.9 * x + 0.6 * e))), 15)

    # strategic technology products: a running count for the year, republished each quarter
    finals = {2024: 1, 2025: 2, 2026: 4}
    for label, start, end, _ in _periods("year", start_year, date(today.year + 1, 1, 1)):
        final = finals.get(start.year, 5)
        for q in range(1, 4):  # running count after Q1..Q3, then the year's final figure
            add("strategic_tech_products", "01", label, (final * q) // 4, _at(date(start.year, 3 * q + 1, 1), 14))
        add("strategic_tech_products", "01", label, final, _at(end, 40))

    for k in range(len(units.codes)):
        if units.is_city[k]:
            continue
        code, urb, weak = units.codes[k], units.urbanity[k], bool(units.weak[k])
        z = _noise(seed, "population", k)
        for label, start, _, i in _periods("year", start_year, date(today.year + 1, 1, 1)):
            value = units.population[k] * 1.012 ** (start.year - 2024) * (1 + 0.003 * z[i])
            add("population", code, label, round(value), _at(start, 20))
        z = _noise(seed, "coverage_5g", k)
        lo, hi = 10 + 25 * urb, 55 + 38 * urb
        for label, _, end, i in _periods("quarter", start_year, today):
            x = max(_years(end), 0.0)
            value = float(np.clip(lo + (hi - lo) * min(x / 3.0, 1.0) + 1.2 * z[i], 0, 100))
            add("coverage_5g", code, label, value, _at(end, 18))
            if z[i + 100] > 2.0:  # about 2 %: the operator corrects its figure
                add("coverage_5g", code, label, min(value + 0.8 + 0.5 * abs(z[i + 50]), 100.0), _at(end, 33))
        z = _noise(seed, "publicity_766", k)
        z2 = _noise(seed, "internal_eops", k)
        for label, start, end, i in _periods("month", start_year, today):
            if start < UNITS_FROM:
                continue
            x = _years(start)
            add("publicity_766", code, label,
                float(np.clip(13.2 + 1.6 * (x - 1.5) + 0.8 * z[i] - 2.5 * weak, 0, 18)), _at(end, 6))
            add("internal_eops", code, label,
                float(np.clip(91 + 4 * (x - 1.5) + 4 * units.digital[k] + 1.5 * z2[i] - 6 * weak, 0, 100)), _at(end, 8))

    _staffing(units, seed, today, add)

    frame = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    frame["published_at"] = frame["published_at"].astype("datetime64[us]")
    frame["value"] = frame["value"].astype("float64")
    return frame.sort_values(["published_at", "indicator_code", "unit_code", "period"], ignore_index=True)


def _staffing(units, seed: int, today: date, add) -> None:
    """Monthly staffing returns of each ward/commune from the two-tier start (July 2025), published on the
    5th: counter officers (volume / OFFICER_LOAD, 4..12; a post unfilled for a month now and then), city staff
    seconded after the reform (most went back by spring 2026), kiosks and satellite points (growing)."""
    rng = np.random.default_rng([seed, 9012])
    wards = [k for k in range(len(units.codes)) if not units.is_city[k]]
    needs = {k: int(np.clip(round(units.share[k] * DOSSIERS_PER_WORKING_DAY
                                  / (OFFICER_LOAD * float(np.exp(0.12 * _noise(seed, "counter_officers", k)[0])))), 4, 12))
             for k in wards}
    # the understaffed: busy enough units (6+ officers needed) with about half of them, so about 2x the load
    short = set(rng.choice([k for k in wards if needs[k] >= 6], UNDERSTAFFED, replace=False).tolist())
    for k in wards:
        code = units.codes[k]
        z = _noise(seed, "counter_officers", k)
        need = needs[k]
        officers = round(need * 0.5) if k in short else need
        seconded = int(np.clip(round(1.5 + 1.2 * z[1] + 1.5 * units.urbanity[k]), 0, 4))
        kiosks = int(units.urbanity[k] > 0.6) + int(z[2] > 0.8)
        for label, start, _, i in _periods("month", 2025, today + timedelta(days=31)):
            if start < UNITS_FROM or start > today:
                continue
            vacancy = int(z[10 + i % 150] < -1.6 and officers > 4)  # an officer on leave or a post unfilled
            months = (start.year - 2025) * 12 + start.month - 7
            gone = int(months >= 4 and z[20 + months % 100] > 0.3)  # seconded staff going back to the city
            seconded = max(seconded - gone, 0)
            if months in (6, 12) and z[40 + months] > 0:
                kiosks += 1
            when = _at(start, 4)
            add("counter_officers", code, label, officers - vacancy, when)
            add("seconded_staff", code, label, seconded, when)
            add("service_points", code, label, kiosks, when)
