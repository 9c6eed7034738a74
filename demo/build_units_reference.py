"""Build data/reference/units.csv: Hanoi and its 126 wards/communes since 1 July 2025.

This is how the shipped file was made; rerun it only when the administrative map changes:

    python -m demo.build_units_reference            # writes data/reference/units.csv

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

COLUMNS = ["unit_code", "name", "name_en", "unit_type", "parent_code"]
CITY_ROW = ["01", "Thành phố Hà Nội", "Hanoi City", "city", ""]
_PREFIX = {"phường": ("Phường ", "phuong", "Ward"), "xã": ("Xã ", "xa", "Commune")}


def ascii_name(text: str) -> str:
    """Vietnamese text without diacritics: 'Sóc Sơn' -> 'Soc Son' (đ/Đ become d/D)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def unit_rows() -> list[list[str]]:
    """The city row, then one row per ward/commune of Hanoi, sorted by unit code."""
    from vietnam_provinces import ProvinceCode, Ward  # dev-only (GPL): see module docstring

    rows = []
    for ward in Ward.iter_by_province(ProvinceCode.P_01):
        kind = ward.division_type.value
        prefix, unit_type, suffix = _PREFIX[kind]
        if not ward.name.startswith(prefix):
            raise ValueError(f"unexpected name {ward.name!r} for a {kind}")
        bare = ward.name[len(prefix):]
        code = f"{int(ward.code.value):05d}"
        rows.append([code, ward.name, f"{ascii_name(bare)} {suffix}", unit_type, "01"])
    rows.sort(key=lambda r: r[0])
    return [CITY_ROW, *rows]


def write_units(path: Path) -> int:
    """Write units.csv (UTF-8, no BOM, LF line ends); return the number of data rows."""
    rows = unit_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(__file__).resolve().parent.parent
    target = Path(args[0]) if args else root / "data" / "reference" / "units.csv"
    count = write_units(target)
    print(f"wrote {count} units to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
