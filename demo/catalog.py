"""The demo world: Hanoi's real units and procedure catalogue, plus seeded attributes the sources lack.

The reference CSVs give codes, names and procedure properties, with the dates each procedure went
partly and fully online (Procedures.level_on: the level on a given day). What a simulation also needs and no
public list gives (population per unit, how digital a ward is, which wards struggle, how popular a
procedure is) is drawn here from a seeded generator, so the same seed always builds the same city.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np

import config
from demo.workdays import ordinal

CITY_SHARE = 0.10  # share of all dossiers handled by city departments (unit_code '01')
WEAK_UNITS = (2, 4)  # how many weak phường, weak xã: slow, late, a visible overdue backlog

# Relative popularity of each procedure among the dossiers of the units that handle it; certified
# copies dominate one-stop-shop counters, residence and civil status come next. Unknown codes get 0.5.
POPULARITY: dict[str, float] = {
    "HN-CT-001": 30, "HN-CT-002": 6, "HN-CT-003": 9, "HN-CT-004": 1.5, "HN-CT-005": 2.5, "HN-CT-006": 0.8,
    "HN-HT-001": 3, "HN-HT-002": 0.8, "HN-HT-003": 1.5, "HN-HT-004": 0.3, "HN-HT-005": 1, "HN-HT-006": 3,
    "HN-HT-007": 3, "HN-HT-008": 0.1, "HN-HT-009": 4, "HN-HT-010": 1.2, "HN-HT-011": 0.2, "HN-HT-012": 0.2,
    "HN-CU-001": 4, "HN-CU-002": 7, "HN-CU-003": 2, "HN-CU-004": 1.5, "HN-CU-005": 0.5, "HN-CU-006": 3,
    "HN-CU-007": 0.8, "HN-DD-001": 1.2, "HN-DD-005": 0.6, "HN-DD-008": 0.15, "HN-XD-001": 1.2,
    "HN-XD-002": 0.4, "HN-XD-003": 0.2, "HN-KD-001": 1.5, "HN-KD-002": 0.8, "HN-KD-003": 0.5,
    "HN-KD-004": 0.4, "HN-TM-001": 0.2, "HN-XH-001": 1, "HN-XH-002": 0.3, "HN-XH-003": 0.4,
    "HN-XH-004": 0.3, "HN-XH-005": 0.2, "HN-YT-001": 1, "HN-YT-002": 0.3, "HN-GD-001": 0.5,
    # city departments
    "HN-DD-002": 10, "HN-DD-003": 4, "HN-DD-004": 1, "HN-DD-006": 1, "HN-DD-007": 3, "HN-DD-009": 6,
    "HN-XD-004": 0.5, "HN-XD-005": 0.8, "HN-KD-005": 4, "HN-KD-006": 6, "HN-TP-001": 8, "HN-GT-001": 7,
    "HN-GT-002": 2, "HN-LD-001": 1.5, "HN-LD-002": 3,
}
# Rural communes file more land, construction and social-protection dossiers, fewer business ones.
RURAL_FACTOR = {"Đất đai": 2.0, "Xây dựng": 1.3, "Bảo trợ xã hội": 1.5, "Kinh doanh": 0.6, "Cư trú": 0.8}
# Probability that the applicant is a business, by procedure (sector "Kinh doanh" defaults to 0.95).
BUSINESS_SHARE = {"HN-TM-001": 0.8, "HN-YT-002": 0.8, "HN-LD-001": 0.9, "HN-XD-004": 0.8, "HN-DD-007": 0.4,
                  "HN-DD-009": 0.4, "HN-XD-005": 0.05}
LEVELS = ("full", "partial", "none")
_NEVER, _ALWAYS = np.iinfo(np.int64).max, np.iinfo(np.int64).min


@dataclass(frozen=True)
class Units:
    """One entry per unit; index 0 is the city ('01'), then the 126 wards/communes by code."""

    codes: list[str]
    is_city: np.ndarray
    phuong: np.ndarray
    urbanity: np.ndarray     # 0 rural .. 1 inner city
    population: np.ndarray
    digital: np.ndarray      # random effect on the odds of filing online
    weak: np.ndarray         # struggling units: late, slow, a backlog
    late_factor: np.ndarray  # multiplier on the probability of finishing late
    share: np.ndarray        # share of the city's dossiers; sums to 1
    group: np.ndarray        # procedure mix: 0 city, 1 urban ward, 2 rural commune


@dataclass(frozen=True)
class Procedures:
    codes: list[str]
    sector: list[str]
    level: np.ndarray        # 0 full, 1 partial, 2 none: the level today
    partial_since: np.ndarray  # day ordinal from which it was at least partly online (int64 max: never)
    full_since: np.ndarray     # day ordinal from which it was fully online (int64 max: never, min: always)
    fee: np.ndarray
    cross: np.ndarray
    days: np.ndarray
    business: np.ndarray     # probability the applicant is a business
    cdf: np.ndarray          # concatenated cumulative mixes for groups 0, 1, 2 (group g offset by g)

    def level_on(self, proc: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Online level (0 full, 1 partial, 2 none) of procedures `proc` on days `day` (ordinals), as
        the catalogue's online_partial_since / online_full_since dates say (see warehouse/reference.py)."""
        return np.where(day >= self.full_since[proc], 0, np.where(day >= self.partial_since[proc], 1, 2)).astype(np.int8)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _since(rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Day ordinals from which each procedure was partly / fully online (empty dates: since valid_from, or always)."""
    def day(text: str | None) -> int | None:
        return ordinal(date.fromisoformat(text)) if text else None

    partial, full = [], []
    for r in rows:
        start = day(r.get("valid_from"))
        start = _ALWAYS if start is None else start
        p, f = day(r.get("online_partial_since")), day(r.get("online_full_since"))
        level = r["online_level"]
        fs = (start if f is None else f) if level == "full" else _NEVER
        ps = _NEVER if level == "none" else (p if p is not None else (fs if level == "full" else start))
        partial.append(min(ps, fs))
        full.append(fs)
    return np.array(partial, dtype=np.int64), np.array(full, dtype=np.int64)


def build_units(seed: int, reference_dir: Path = config.REFERENCE_DIR) -> Units:
    """The city plus its wards/communes with seeded populations and performance traits."""
    rows = sorted(_read(reference_dir / "units.csv"), key=lambda r: (r["unit_type"] != "city", r["unit_code"]))
    rng = np.random.default_rng([seed, 7001])
    n = len(rows)
    is_city = np.array([r["unit_type"] == "city" for r in rows])
    phuong = np.array([r["unit_type"] == "phuong" for r in rows])
    code_num = np.array([int(r["unit_code"]) for r in rows])
    u = rng.random((4, n))
    pop = np.where(phuong, np.exp(np.log(85_000) + 0.30 * rng.standard_normal(n)),
                   np.exp(np.log(48_000) + 0.35 * rng.standard_normal(n)))
    pop = np.round(np.clip(pop, np.where(phuong, 40_000, 15_000), np.where(phuong, 150_000, 110_000)), -1)
    # xã with low codes belong to the former suburban districts (Thanh Trì, Gia Lâm, Đông Anh, Sóc Sơn)
    urbanity = np.where(phuong, 0.75 + 0.25 * u[0], np.where(code_num < 700, 0.3 + 0.2 * u[0], 0.3 * u[0]))
    digital = 0.25 * rng.standard_normal(n)
    weak = np.zeros(n, dtype=bool)
    weak[rng.choice(np.flatnonzero(phuong), WEAK_UNITS[0], replace=False)] = True
    weak[rng.choice(np.flatnonzero(~phuong & ~is_city), WEAK_UNITS[1], replace=False)] = True
    late_factor = np.exp(0.3 * rng.standard_normal(n)) * np.where(weak, 5.0, 1.0)
    activity = pop * (0.8 + 0.5 * urbanity) * np.exp(0.1 * rng.standard_normal(n))
    share = np.where(is_city, 0.0, activity)
    share = share / share.sum() * (1 - CITY_SHARE)
    pop[is_city] = pop[~is_city].sum()
    urbanity[is_city], digital[is_city], late_factor[is_city] = 1.0, 0.3, 0.8
    share[is_city] = CITY_SHARE
    group = np.where(is_city, 0, np.where(urbanity >= 0.5, 1, 2))
    return Units([r["unit_code"] for r in rows], is_city, phuong, urbanity, pop.astype(np.int64), digital,
                  weak, late_factor, share, group)


def build_procedures(reference_dir: Path = config.REFERENCE_DIR) -> Procedures:
    """Active procedures with their properties and the procedure mix of each unit group."""
    rows = [r for r in _read(reference_dir / "procedures.csv") if r.get("active", "true").lower() != "false"]
    codes = [r["procedure_code"] for r in rows]
    sector = [r["sector"] for r in rows]
    city = np.array([r["level"] == "city" for r in rows])
    pop = np.array([POPULARITY.get(c, 0.5) for c in codes])
    rural = np.array([RURAL_FACTOR.get(s, 1.0) for s in sector])
    mixes = [np.where(city, pop, 0.0), np.where(city, 0.0, pop), np.where(city, 0.0, pop * rural)]
    cdf = np.concatenate([g + np.cumsum(m) / m.sum() for g, m in enumerate(mixes)])
    for g in range(3):  # make each block end exactly at g + 1
        cdf[(g + 1) * len(codes) - 1] = g + 1
    partial_since, full_since = _since(rows)
    business = np.array([BUSINESS_SHARE.get(c, 0.95 if s == "Kinh doanh" else 0.02) for c, s in zip(codes, sector, strict=True)])
    return Procedures(
        codes=codes,
        sector=sector,
        level=np.array([LEVELS.index(r["online_level"]) for r in rows], dtype=np.int8),
        partial_since=partial_since,
        full_since=full_since,
        fee=np.array([r["fee_bearing"].lower() == "true" for r in rows]),
        cross=np.array([r["cross_agency"].lower() == "true" for r in rows]),
        days=np.array([int(r["statutory_days"]) for r in rows], dtype=np.int64),
        business=business,
        cdf=cdf,
    )


@lru_cache(maxsize=8)
def world(seed: int) -> tuple[Units, Procedures]:
    """Units and procedures for a seed (cached: the files are small and read once)."""
    return build_units(seed), build_procedures()
