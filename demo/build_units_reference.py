"""Build data/reference/units.csv (Hanoi and its 126 wards/communes since 1 July 2025) and
data/reference/units_national.csv (the 34 provinces and their 3,321 commune-level units).

This is how the shipped files were made; rerun it only when the administrative map changes:

    python -m demo.build_units_reference            # writes both files into data/reference/

It reads the list from the PyPI package `vietnam-provinces` (GSO 5-digit codes, names, ward/commune
type). That package is GPL-3.0-or-later, so it is a test/dev dependency only: nothing at runtime
imports it, the product reads the CSV this script writes, and tests/test_reference.py checks the
CSV against the package.

The sibling files procedures.csv and indicators.csv are written by hand. The procedure NAMES there
are real Vietnamese administrative procedures; the CODES (HN-HT-001, ...) are illustrative only and
are not the national public-service portal's procedure codes.
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from pathlib import Path

COLUMNS = ["unit_code", "name", "name_en", "unit_type", "parent_code", "province_code"]
HANOI = "01"
CITY_ROW = [HANOI, "Thành phố Hà Nội", "Hanoi City", "city", "", HANOI]
_PREFIX = {"phường": ("Phường ", "phuong", "Ward"), "xã": ("Xã ", "xa", "Commune"),
           "đặc khu": ("Đặc khu ", "dac_khu", "Special Zone")}
# a province's own row: centrally-run cities (thành phố trung ương) are `city`, the others `province`
_PROVINCE = {"thành phố trung ương": ("Thành phố ", "city", "City"), "tỉnh": ("Tỉnh ", "province", "Province")}


def ascii_name(text: str) -> str:
    """Vietnamese text without diacritics: 'Sóc Sơn' -> 'Soc Son' (đ/Đ become d/D)."""
    text = text.replace("đ", "d").replace("Đ", "D").translate({0x2019: "'", 0x2018: "'", 0x2013: "-", 0x2014: "-"})
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _ward_rows(province_code) -> list[list[str]]:
    from vietnam_provinces import Ward  # dev-only (GPL): see module docstring

    rows = []
    prov = f"{int(province_code.value):02d}"
    for ward in Ward.iter_by_province(province_code):
        kind = ward.division_type.value
        prefix, unit_type, suffix = _PREFIX[kind]
        if not ward.name.startswith(prefix):
            raise ValueError(f"unexpected name {ward.name!r} for a {kind}")
        bare = ward.name[len(prefix):]
        code = f"{int(ward.code.value):05d}"
        rows.append([code, ward.name, f"{ascii_name(bare)} {suffix}", unit_type, prov, prov])
    rows.sort(key=lambda r: r[0])
    return rows


def unit_rows() -> list[list[str]]:
    """The city row, then one row per ward/commune of Hanoi, sorted by unit code."""
    from vietnam_provinces import ProvinceCode  # dev-only (GPL): see module docstring

    return [CITY_ROW, *_ward_rows(ProvinceCode.P_01)]


def national_rows() -> list[list[str]]:
    """Every province (Hanoi first, exactly as in units.csv), each followed by its units sorted by code."""
    from vietnam_provinces import Province  # dev-only (GPL): see module docstring

    rows = unit_rows()
    for p in sorted(Province.iter_all(), key=lambda p: int(p.code.value)):
        code = f"{int(p.code.value):02d}"
        if code == HANOI:
            continue
        prefix, unit_type, suffix = _PROVINCE[p.division_type.value]
        bare = p.name[len(prefix):] if p.name.startswith(prefix) else p.name
        name = p.name if p.name.startswith(prefix) else prefix + p.name
        rows.append([code, name, f"{ascii_name(bare)} {suffix}", unit_type, "", code])
        rows.extend(_ward_rows(p.code))
    return rows


def _write(path: Path, rows: list[list[str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


def write_units(path: Path) -> int:
    """Write units.csv (UTF-8, no BOM, LF line ends); return the number of data rows."""
    return _write(path, unit_rows())


def write_national(path: Path) -> int:
    """Write units_national.csv, the same layout; return the number of data rows."""
    return _write(path, national_rows())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(__file__).resolve().parent.parent
    folder = Path(args[0]) if args else root / "data" / "reference"
    print(f"wrote {write_units(folder / 'units.csv')} units to {folder / 'units.csv'}")
    print(f"wrote {write_national(folder / 'units_national.csv')} units to {folder / 'units_national.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
