"""The units a plan task can be led by: the city's departments (plan/departments.csv: they are not warehouse
units, so they have codes of their own) and the 126 wards and communes (data/reference/units.csv).

`resolve` reads what an annex writes in 'Đơn vị chủ trì': a code ('SKHCN', '00073') or a name as officials
write it ('Sở Khoa học và Công nghệ', 'UBND Phường Cửa Nam', 'Phường Cửa Nam'), case and 'Hà Nội' aside.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import config

DEPARTMENTS_FILE = Path(__file__).with_name("departments.csv")


@lru_cache(maxsize=1)
def _units() -> dict[str, dict]:
    out: dict[str, dict] = {}
    with DEPARTMENTS_FILE.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[r["unit_code"]] = {"code": r["unit_code"], "name": r["name"], "name_en": r["name_en"],
                                   "kind": "department"}
    with (config.REFERENCE_DIR / "units.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["unit_type"] != "city":
                out[r["unit_code"]] = {"code": r["unit_code"], "name": r["name"], "name_en": r["name_en"],
                                       "kind": "ward"}
    return out


def _key(text: str) -> str:
    s = unicodedata.normalize("NFC", str(text)).casefold().strip()
    s = re.sub(r"^(ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+", "", s)
    s = re.sub(r"\s*(thành phố hà nội|tp\.? hà nội|hà nội)$", "", s)
    return re.sub(r"\s+", " ", s).strip(" -,")


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    return {_key(u["name"]): code for code, u in _units().items()}


def all_units() -> dict[str, dict]:
    return dict(_units())


def unit(code: str | None) -> dict | None:
    return _units().get(code) if code else None


def is_ward(code: str | None) -> bool:
    u = unit(code)
    return u is not None and u["kind"] == "ward"


def resolve(text) -> str | None:
    """The unit code for an annex's cell, or None when it names no known unit."""
    if text is None:
        return None
    raw = unicodedata.normalize("NFC", str(text)).strip()
    if not raw:
        return None
    if raw.upper() in _units():
        return raw.upper()
    if raw.isdigit() and raw.zfill(5) in _units():
        return raw.zfill(5)
    return _by_name().get(_key(raw))


def name(code: str | None, lang: str = "vi") -> str:
    from presentation.words import localised

    u = unit(code)
    return localised(u, "name", lang) if u else (code or "")
