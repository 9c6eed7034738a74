"""A generated corpus of hostile input (no committed binaries): broken, shifted, huge, mis-encoded
files, and a scanner that looks for personal data in every table, snapshot and file."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .conftest import CANONICAL, dossier, write_csv

# One applicant, as a one-stop-shop export carries them (all invented)
PERSON = {
    "Chủ hồ sơ": "Nguyễn Thị Hồng Nhung",
    "Địa chỉ": "Số 12 ngõ 34 phố Hàng Bạc",
    "Số điện thoại": "0912345678",
    "Thư điện tử": "hongnhung.nguyen@example.vn",
    "Số CCCD": "001203004567",
}
PERSONAL_VALUES = list(PERSON.values())

OPENCPS = ["Mã hồ sơ", "Mã thủ tục", "Cơ quan thụ lý", "Chủ hồ sơ", "Địa chỉ", "Số điện thoại", "Thư điện tử",
           "Số CCCD", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày hoàn thành", "Ngày trả", "Trạng thái",
           "Trực tuyến", "Đánh giá"]


def opencps_row(i: int, **over) -> dict:
    row = {"Mã hồ sơ": f"000.00.73.H26-260302-{i:04d}", "Mã thủ tục": "HN-HT-001",
           "Cơ quan thụ lý": "UBND Phường Cửa Nam", **PERSON,
           "Ngày tiếp nhận": "02/03/2026 08:15", "Ngày hẹn trả": "04/03/2026 17:00",
           "Ngày hoàn thành": "03/03/2026 10:20", "Ngày trả": "03/03/2026 15:00",
           "Trạng thái": "Đã trả kết quả", "Trực tuyến": "Toàn trình", "Đánh giá": "5"}
    row.update(over)
    return row


def write_rows(path: Path, headers: list[str], rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)
    return path


def shifted_opencps(path: Path, direction: int, n: int = 6) -> Path:
    """An export whose cells moved one column (a common export mistake) from 'Cơ quan thụ lý' on:
    direction -1 = a cell missing (values move left), +1 = an empty cell inserted (right)."""
    start = OPENCPS.index("Cơ quan thụ lý")
    rows = []
    for i in range(n):
        values = [opencps_row(i)[h] for h in OPENCPS]
        values = values[:start] + values[start + 1:] + [""] if direction < 0 else values[:start] + [""] + values[start:-1]
        rows.append(values)
    return write_rows(path, OPENCPS, rows)


def headerless_export(path: Path) -> Path:
    """Rows only: the first line, read as the header, is an applicant's record."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([[opencps_row(i)[h] for h in OPENCPS] for i in range(3)])
    return path


def typed_into_wrong_cells(path: Path) -> Path:
    """An officer typed the applicant's name into Trạng thái and the phone into Đánh giá."""
    rows = [[opencps_row(1)[h] for h in OPENCPS],
            [opencps_row(2, **{"Trạng thái": PERSON["Chủ hồ sơ"], "Đánh giá": PERSON["Số điện thoại"]})[h]
             for h in OPENCPS],
            [opencps_row(3, **{"Trạng thái": PERSON["Thư điện tử"], "Ngày hoàn thành": PERSON["Số CCCD"]})[h]
             for h in OPENCPS],
            [opencps_row(4, **{"Cơ quan thụ lý": PERSON["Địa chỉ"], "Mã hồ sơ": PERSON["Thư điện tử"]})[h]
             for h in OPENCPS]]
    return write_rows(path, OPENCPS, rows)


def good_csv(path: Path, prefix: str = "OK", n: int = 2) -> Path:
    return write_csv(path, [dossier(dossier_id=f"{prefix}{i}") for i in range(n)])


def huge_header_field(path: Path) -> Path:
    path.write_text("dossier_id,unit_code,received_at," + "x" * 200_000 + "\nD1,00073,2026-03-02,y\n",
                    encoding="utf-8")
    return path


def deep_jsonl(path: Path, depth: int = 100_000) -> Path:
    good = json.dumps(dossier(dossier_id="J-OK"))
    path.write_text(good + "\n" + "[" * depth + "]" * depth + "\n" + json.dumps(dossier(dossier_id="J-OK2")) + "\n",
                    encoding="utf-8")
    return path


def bad_numbers(path: Path) -> Path:
    return write_csv(path, [dossier(dossier_id="N-OK"),
                            dossier(dossier_id="N1", supplement_count="1e400"),
                            dossier(dossier_id="N2", rating="nan", status="completed",
                                    completed_at="2026-03-03 10:00:00"),
                            dossier(dossier_id="N3", supplement_count="1", supplement_days="99999999999"),
                            dossier(dossier_id="N4", supplement_days="inf", supplement_count="1"),
                            dossier(dossier_id="N5", supplement_count="-3")])


def unterminated_quote(path: Path, lines: int = 53) -> Path:
    """53 lines: header, line 2 good, line 3 opens a quote it never closes, 50 good lines after."""
    rows = [dossier(dossier_id=f"U{i}") for i in range(lines - 1)]
    write_csv(path, rows)
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("HN-HT-001", '"HN-HT-001', 1)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def parquet_two_ids(path: Path) -> Path:
    t = pa.Table.from_arrays([pa.array(["A"]), pa.array(["B"]), pa.array(["00073"])],
                             names=["dossier_id", "dossier_id", "unit_code"])
    pq.write_table(t, path)
    return path


def odd_ids(path: Path) -> Path:
    return write_csv(path, [dossier(dossier_id="ID-OK"),
                            dossier(dossier_id="A\x00B"), dossier(dossier_id="AB\u202eCD"),
                            dossier(dossier_id="Z\u200bW"), dossier(dossier_id="L" * 10_000),
                            dossier(dossier_id="  ID-TRIM  "), dossier(procedure_code="HN HT 001")])


def xlsx(path: Path, headers: list[str], rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def xlsx_formula_without_value(path: Path) -> Path:
    """openpyxl writes formulas without cached values, as a program that never opened Excel does."""
    row = dossier(dossier_id="F1")
    values = [row[c] for c in CANONICAL]
    values[CANONICAL.index("supplement_days")] = "=1+1"
    return xlsx(path, CANONICAL, [values, [dossier(dossier_id="F2")[c] for c in CANONICAL]])


def not_a_zip_xlsx(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    return path


def zip_bomb_xlsx(path: Path, megabytes: int = 40) -> Path:
    """A small file that unpacks to `megabytes` MB."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<x/>" + b" " * (megabytes << 20))
    return path


def other_encodings(tmp: Path) -> dict[str, Path]:
    text = "dossier_id,unit_code,received_at\nD1,Phường Cửa Nam,02/03/2026\n"
    out = {name: tmp / f"{name}.csv" for name in ("cp1258", "utf16", "empty", "header_only")}
    out["cp1258"].write_bytes(b"dossier_id,unit_code\nD1,Ph\xfd\xf5\xccng\n")
    out["utf16"].write_bytes(text.encode("utf-16"))
    out["empty"].write_bytes(b"")
    out["header_only"].write_text(",".join(CANONICAL) + "\n", encoding="utf-8")
    trunc = tmp / "truncated.parquet"
    pq.write_table(pa.Table.from_pylist([dossier(dossier_id="T")] * 50), trunc)
    trunc.write_bytes(trunc.read_bytes()[:300])
    out["truncated_parquet"] = trunc
    out["not_zip_xlsx"] = not_a_zip_xlsx(tmp / "not_zip.xlsx")
    mixed = tmp / "mixed.csv"
    good = write_csv(tmp / "_mixed_src.csv", [dossier(dossier_id="M1"), dossier(dossier_id="M2")]).read_text()
    lines = good.splitlines()
    lines[2] = lines[2].replace(",", ";")
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp / "_mixed_src.csv").unlink()
    out["mixed_delimiters"] = mixed
    out["dates_1900_2999"] = write_csv(tmp / "dates.csv", [
        dossier(dossier_id="Y1", received_at="01/01/1900", due_at="02/01/1900"),
        dossier(dossier_id="Y2", due_at="01/01/2999"), dossier(dossier_id="Y-OK")])
    out["negative"] = write_csv(tmp / "negative.csv", [dossier(dossier_id="NEG", supplement_days="-5",
                                                               supplement_count="1"),
                                                       dossier(dossier_id="NEG-OK")])
    return out


# --- looking for personal data ---------------------------------------------------------------------

def _variants(values: list[str]) -> list[str]:
    """Each value as typed, and a number also without its spaces and punctuation."""
    out = set(values)
    for v in values:
        digits = "".join(ch for ch in v if ch.isdigit())
        if len(digits) >= 9 and len(digits) >= len(v.replace(" ", "")) - 2:
            out.add(digits)
    return sorted(out)


def table_text(con: duckdb.DuckDBPyConnection) -> str:
    """Every text value of every table (and the names of every column) in one string."""
    out = []
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
    ).fetchall():
        rel = con.execute(f'SELECT * FROM "{schema}"."{table}"')
        out.append(" ".join(d[0] for d in rel.description))
        for row in rel.fetchall():
            out.append(" ".join("" if v is None else str(v) for v in row))
    return "\n".join(out)


def file_text(path: Path) -> str:
    """What a file holds as text: a DuckDB or Parquet file read through DuckDB (their pages are
    compressed, so raw bytes would hide strings), any other file as bytes decoded leniently."""
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            return table_text(con)
        finally:
            con.close()
    if path.suffix == ".parquet":
        try:
            rows = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()
        except duckdb.Error:
            return path.read_bytes().decode("utf-8", "replace")
        return "\n".join(" ".join("" if v is None else str(v) for v in r) for r in rows)
    data = path.read_bytes()
    return data.decode("utf-8", "replace") + data.decode("utf-16", "replace") if data[:2] in (b"\xff\xfe", b"\xfe\xff") \
        else data.decode("utf-8", "replace")


def find_personal_data(texts: dict[str, str], values: list[str] = PERSONAL_VALUES) -> list[tuple[str, str]]:
    """(where, value) for each personal value found."""
    return [(where, v) for where, text in texts.items() for v in _variants(values) if v in text]


def scan_data_dir(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Text of every file under `root` except the live warehouse (read through the writer instead)
    and paths under the folders in `skip`."""
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file() or any(part in skip for part in p.relative_to(root).parts):
            continue
        if p.name.endswith((".duckdb.wal", ".lock")) or (p.suffix == ".duckdb" and ".snapshots" not in str(p)):
            if p.name.endswith(".wal"):
                out[str(p)] = p.read_bytes().decode("utf-8", "replace")
            continue
        out[str(p.relative_to(root))] = file_text(p)
    return out
