"""A small real warehouse for the metrics tests: hand-made units and procedures, dossiers loaded through the real ingest.

The dossiers are worked by hand in tests/test_metrics_kpis.py (expected values in each test's
docstring). Times are local (Asia/Ho_Chi_Minh); NOW is Monday 16 March 2026, 12:00.
Tết 2026: 14-22 February are not working days (holidays 16-20 plus two weekends).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb

from ingest.runner import ingest_file
from warehouse.calendar import load_calendar
from warehouse.schema import migrate

NOW = datetime(2026, 3, 16, 12, 0)

COLUMNS = [
    "dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
    "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint",
    "paid_online", "digitized", "data_reused", "applicant_type", "updated_at",
]

UNITS = [
    ("01", "Thành phố Hà Nội", "Hanoi City", "city", None),
    ("00073", "Phường Cửa Nam", "Cua Nam Ward", "phuong", "01"),
    ("00004", "Phường Ba Đình", "Ba Dinh Ward", "phuong", "01"),
    ("00376", "Xã Sóc Sơn", "Soc Son Commune", "xa", "01"),
]

# code, name_vi, name_en, sector, sector_en, online_level, fee_bearing, cross_agency, statutory_days, level, active
PROCEDURES = [
    ("HT-01", "Đăng ký khai sinh", "Birth registration", "Hộ tịch", "Civil status", "full", False, False, 3, "commune", True),
    ("DD-01", "Cấp giấy chứng nhận quyền sử dụng đất", "Land use certificate", "Đất đai", "Land", "partial", True, True, 10, "commune", True),
    ("CT-01", "Chứng thực chữ ký", "Signature certification", "Chứng thực", "Certification", "none", True, False, 1, "commune", True),
    ("KD-01", "Đăng ký hộ kinh doanh", "Household business registration", "Kinh doanh", "Business", "full", True, False, 3, "commune", True),
    ("OLD-01", "Thủ tục đã bãi bỏ", "Repealed procedure", "Khác", "Other", "full", False, False, 5, "commune", False),
]


def d(dossier_id, unit, proc, channel, received, due, completed="", status="processing", supp=0, supp_days=0,
      rating="", complaint=False, paid=False, digitized=False, reused=False, applicant="citizen", updated=None):
    """One canonical dossier row (times 'YYYY-MM-DD HH:MM')."""
    return {
        "dossier_id": dossier_id, "unit_code": unit, "procedure_code": proc, "channel": channel,
        "received_at": received, "due_at": due, "completed_at": completed, "status": status, "cross_agency": "",
        "supplement_count": supp, "supplement_days": supp_days, "rating": rating,
        "complaint": str(complaint).lower(), "paid_online": str(paid).lower(), "digitized": str(digitized).lower(),
        "data_reused": str(reused).lower(), "applicant_type": applicant,
        "updated_at": updated or completed or received,
    }


DOSSIERS = [
    # February 2026 (a past period at NOW), all in Phường Cửa Nam
    d("D01", "00073", "HT-01", "online_full", "2026-02-02 09:00", "2026-02-05 17:00", "2026-02-05 17:00", "completed",
      rating=5, digitized=True, reused=True),                        # finished exactly at due_at: on time, 3 wd
    d("D02", "00073", "CT-01", "in_person", "2026-02-03 08:00", "2026-02-06 17:00", "2026-02-09 10:00", "returned"),  # late, 4 wd
    d("D03", "00073", "DD-01", "online_partial", "2026-02-02 09:00", "2026-02-09 17:00", "2026-02-11 16:00", "completed",
      supp=1, supp_days=3, paid=True, digitized=True),               # after due_at, before due + 3 wd: on time, 7-3 = 4 wd
    d("D04", "00073", "DD-01", "in_person", "2026-02-04 09:00", "2026-02-11 17:00", "2026-02-10 10:00", "completed",
      supp=2, supp_days=2),                                          # two supplement requests: late; 4-2 = 2 wd
    d("D05", "00073", "KD-01", "online_full", "2026-02-12 10:00", "2026-02-26 17:00", "2026-02-25 15:00", "completed",
      rating=4, paid=True, digitized=True, reused=True),             # spans Tết: 13 calendar days, 4 wd, on time
    d("D06", "00073", "HT-01", "online_full", "2026-02-05 09:00", "2026-02-10 17:00", "2026-02-06 09:00", "withdrawn"),
    d("D07", "00073", "HT-01", "online_partial", "2026-02-26 09:00", "2026-03-05 17:00", "2026-03-04 10:00", "completed",
      rating=5, digitized=True),                                     # in flight, not due at 1 March; on time in March, 4 wd
    d("D08", "00073", "CT-01", "in_person", "2026-02-09 09:00", "2026-02-13 17:00", "", "processing"),  # overdue, open
    # March 2026 (the current period at NOW)
    d("D09", "00073", "DD-01", "online_partial", "2026-03-02 09:00", "2026-03-05 17:00", "", "supplement_requested", supp=1),
    d("D10", "00004", "HT-01", "online_full", "2026-03-10 09:00", "2026-03-20 17:00", "", "received", digitized=True),
    d("D11", "00004", "CT-01", "in_person", "2026-03-02 09:00", "2026-03-03 17:00", "2026-03-06 11:00", "completed",
      rating=2, complaint=True, paid=True),                          # late, 4 wd
    d("D12", "00376", "KD-01", "postal", "2026-03-09 14:00", "2026-03-12 17:00", "2026-03-11 09:00", "rejected",
      rating=3, digitized=True, reused=True, applicant="business"),  # on time, 2 wd
    # the cross-agency baseline (2024-07-01 .. 2025-06-30), Phường Cửa Nam: 8 and 4 wd, mean 6
    d("D13", "00073", "DD-01", "in_person", "2024-10-01 09:00", "2024-10-25 17:00", "2024-10-11 09:00", "completed"),
    d("D14", "00073", "DD-01", "online_partial", "2025-03-03 09:00", "2025-03-21 17:00", "2025-03-07 09:00", "completed"),
]

# indicator_code, name_vi, name_en, uom, direction, level, frequency, source_vi, source_en
INDICATOR_CATALOGUE = [
    ("population", "Dân số trung bình", "Average population", "people", "higher", "unit", "year", None, None),
    ("coverage_5g", "Tỷ lệ dân số được phủ sóng 5G", "5G coverage", "%", "higher", "unit", "quarter", None, None),
    ("digital_economy_share", "Tỷ trọng kinh tế số", "Digital economy share", "%", "higher", "city", "quarter", None, None),
    ("stdt_share", "Tỷ trọng KH, CN và CĐS", "ST&DT share", "%", "higher", "city", "year", None, None),
    ("sipas", "SIPAS", "SIPAS", "%", "higher", "city", "year", None, None),
    ("publicity_766", "Điểm công khai", "Publicity score", "points", "higher", "unit", "month", None, None),
]

INDICATORS = [
    # indicator_code, unit_code, period, value, source, published_at
    ("population", "00073", "2025", 100000, "TK", "2025-12-20 09:00"),
    ("population", "00004", "2025", 300000, "TK", "2025-12-20 09:00"),
    ("population", "00376", "2024", 50000, "TK", "2024-12-20 09:00"),
    ("coverage_5g", "00073", "2026-Q1", 80, "VT", "2026-03-10 09:00"),
    ("coverage_5g", "00004", "2026-Q1", 60, "VT", "2026-03-10 09:00"),
    ("coverage_5g", "00376", "2026-Q1", 40, "VT", "2026-03-10 09:00"),
    ("coverage_5g", "00073", "2025-Q3", 50, "VT", "2025-10-10 09:00"),
    ("coverage_5g", "00004", "2025-Q3", 40, "VT", "2025-10-10 09:00"),
    ("coverage_5g", "00376", "2025-Q3", 20, "VT", "2025-10-10 09:00"),
    ("digital_economy_share", "01", "2025-Q3", 12.0, "TK", "2025-11-01 09:00"),
    ("digital_economy_share", "01", "2025-Q3", 12.4, "TK", "2025-12-15 09:00"),   # a revision
    ("digital_economy_share", "01", "2025-Q4", 13.0, "TK", "2026-02-01 09:00"),
    ("stdt_share", "01", "2025", 15.0, "KHCN", "2026-01-15 09:00"),
    ("sipas", "01", "2025", 84.0, "SNV", "2026-01-20 09:00"),
    ("publicity_766", "00073", "2026-02", 15.5, "DVC", "2026-03-05 09:00"),
]


def write_csv(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return path


def new_warehouse() -> duckdb.DuckDBPyConnection:
    """An empty in-memory warehouse: schema, calendar, the hand-made units and procedures."""
    con = duckdb.connect()
    migrate(con)
    load_calendar(con)
    con.executemany("INSERT INTO units (unit_code, name, name_en, unit_type, parent_code) VALUES (?, ?, ?, ?, ?)", UNITS)
    con.execute("UPDATE units SET province_code = '01'")
    con.executemany("INSERT INTO procedures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PROCEDURES)
    con.executemany("INSERT INTO indicator_catalogue VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", INDICATOR_CATALOGUE)
    return con


def ingest_rows(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[dict], name: str, now: datetime = NOW):
    """Load dossier rows through the real ingest (CSV file -> validate -> upsert with derived columns)."""
    report = ingest_file(con, write_csv(folder / name, rows), "dossiers", now=now)
    assert report.status == "ok", (report.error, report.reasons)
    return report


def insert_indicators(con: duckdb.DuckDBPyConnection, rows=INDICATORS) -> None:
    """Indicator publications inserted as the indicator ingest stores them (period bounds, grain, run id)."""
    from metrics.periods import parse_label

    run_id = con.execute("SELECT nextval('ingest_run_seq')").fetchone()[0]
    for code, unit, period, value, source, published in rows:
        p = parse_label(period)
        con.execute("INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [code, unit, period, p.grain, p.start, p.end, value, source, published, run_id])
    con.execute("INSERT INTO ingest_runs (run_id, source, channel, started_at, inserted, status) "
                "VALUES (?, 'indicators', 'cli', ?, ?, 'ok')", [run_id, NOW, len(rows)])


def build(folder: Path, rows: list[dict] = DOSSIERS, indicators: bool = True, refresh: bool = True):
    """The fixture warehouse: hand-made catalogue, dossiers and indicators ingested, aggregates built."""
    from metrics.aggregates import refresh as refresh_aggregates

    con = new_warehouse()
    ingest_rows(con, folder, rows, "dossiers.csv")
    if indicators:
        insert_indicators(con)
    if refresh:
        refresh_aggregates(con)
    return con
