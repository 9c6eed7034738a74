"""Real exports with Vietnamese headers load through their mapping profiles; personal data stays out."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from openpyxl import Workbook

from ingest.profiles import ProfileError, detect_profile, load_profile
from ingest.runner import ingest_file, quarantine_summary

NOW = datetime(2026, 3, 10, 12, 0)

OPENCPS_HEADERS = [
    "STT", "Mã hồ sơ", "Mã thủ tục", "Cơ quan thụ lý", "Chủ hồ sơ", "Địa chỉ", "Số điện thoại",
    "Thư điện tử", "Số CCCD", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày hoàn thành", "Ngày trả",
    "Trạng thái", "Trực tuyến", "Đánh giá",
]
PII = ["Nguyễn Văn An", "Số 12 phố Tràng Tiền", "0912345678", "an.nguyen@example.vn", "001085012345"]
OPENCPS_ROWS = [
    [1, "000.00.73.H26-260302-0001", "HN-HT-001", "UBND Phường Cửa Nam", *PII[:4], PII[4],
     "02/03/2026 08:15", "03/03/2026 17:00", "03/03/2026 10:20", "03/03/2026 15:00",
     "Đã trả kết quả", "Toàn trình", 5],
    [2, "000.00.73.H26-260302-0002", "HN-HT-001", "Phường Cửa Nam", "Trần Thị Bình", "Số 3 Hàng Bài",
     "0987654321", "", "001190054321", "02/03/2026 09:00", "04/03/2026 17:00", "", "",
     "Đang xử lý", "Không", None],
    [3, "000.00.73.H26-260302-0003", "HN-HT-001", "UBND Phường Không Tồn Tại", "Lê Văn C", "", "", "",
     "", "02/03/2026 09:30", "04/03/2026 17:00", "", "", "Mới tiếp nhận", "Không", None],
    [4, "000.00.73.H26-260302-0004", "HN-HT-001", "UBND Phường Cửa Nam", "Phạm D", "", "", "", "",
     "32/03/2026", "04/03/2026 17:00", "", "", "Đang xử lý", "Một phần", None],
]


def _xlsx(path, headers, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    ws.append([None] * len(headers))  # trailing blank row, as Excel exports often have
    wb.save(path)
    return path


def _csv(path, headers, rows, delimiter=","):
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(headers)
        w.writerows([["" if v is None else v for v in r] for r in rows])
    return path


def all_text(con) -> str:
    """Every value of every table in the warehouse, as one string."""
    out = []
    for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall():
        out.append(json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str, ensure_ascii=False))
    return "\n".join(out)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_opencps_export_loads_through_profile(con, tmp_path, fmt):
    path = tmp_path / f"Bao_cao_ho_so.{fmt}"
    (_xlsx if fmt == "xlsx" else _csv)(path, OPENCPS_HEADERS, OPENCPS_ROWS)
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.profile, r.rows_read, r.inserted, r.quarantined) == ("opencps", 4, 2, 2)
    assert con.execute("""
        SELECT dossier_id, unit_code, channel, status, received_at, completed_at, rating
        FROM dossiers ORDER BY dossier_id""").fetchall() == [
        ("000.00.73.H26-260302-0001", "00073", "online_full", "returned",
         datetime(2026, 3, 2, 8, 15), datetime(2026, 3, 3, 10, 20), 5),  # finish = first of completion/return
        ("000.00.73.H26-260302-0002", "00073", "in_person", "processing", datetime(2026, 3, 2, 9, 0), None, None),
    ]
    q = quarantine_summary(con, r.run_id, lang="vi")
    assert [(x["line"], x["reason_code"], x["value"]) for x in q] == [
        (4, "unknown_unit", "UBND Phường Không Tồn Tại"),
        (5, "bad_date", "32/03/2026"),
    ]
    assert q[1]["reason"] == "Không đọc được ngày '32/03/2026' ở cột received_at (dùng dd/mm/yyyy hoặc dd/mm/yyyy HH:MM)"


def test_personal_data_never_reaches_the_warehouse(con, tmp_path):
    path = _xlsx(tmp_path / "export.xlsx", OPENCPS_HEADERS, OPENCPS_ROWS)
    ingest_file(con, path, "dossiers", now=NOW)
    text = all_text(con)
    for value in PII + ["Trần Thị Bình", "0987654321", "001190054321", "Lê Văn C"]:
        assert value not in text
    assert "000.00.73.H26-260302-0001" in text  # the check itself can see stored values


NATIONAL_HEADERS = ["MaHoSo", "MaTTHC", "MaDonVi", "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoaiChuHoSo",
                    "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "TrangThaiHoSo", "KenhThucHien",
                    "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa", "DuongDanTepTinKetQua"]


def test_national_sync_profile(con, tmp_path):
    rows = [
        # KenhThucHien 2 = online; HN-HT-001 is 'toàn trình' in the catalogue -> online_full
        ["N1", "HN-HT-001", "73", "Nguyễn A", "001", "090", "02/03/2026 08:00", "03/03/2026 17:00",
         "03/03/2026 09:00", "Đã xử lý xong", "2", "2", "1", "/kq/N1.pdf"],
        ["N2", "HN-HT-001", "00073", "Nguyễn B", "002", "091", "02/03/2026 08:00", "03/03/2026 17:00",
         "", "Yêu cầu bổ sung hồ sơ", "", "0", "1", ""],
        ["N3", "HN-HT-001", "00073", "Nguyễn C", "003", "092", "02/03/2026 08:00", "03/03/2026 17:00",
         "", "Đang xử lý", "3", "", "", ""],
    ]
    path = _csv(tmp_path / "dvcqg.csv", NATIONAL_HEADERS, rows, delimiter=";")
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.profile, r.inserted, r.quarantined) == ("national_sync", 3, 0)
    assert con.execute("""SELECT dossier_id, unit_code, channel, status, paid_online, digitized
                          FROM dossiers ORDER BY 1""").fetchall() == [
        ("N1", "00073", "online_full", "completed", True, True),
        ("N2", "00073", "in_person", "supplement_requested", False, False),  # digitised needs a result file too
        ("N3", "00073", "postal", "processing", None, False),  # empty sync flags: not digitised
    ]


def test_detect_profile_and_bad_profile_message(tmp_path):
    assert detect_profile(OPENCPS_HEADERS).name == "opencps"
    assert detect_profile(NATIONAL_HEADERS).name == "national_sync"
    assert detect_profile(["a", "b"]) is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndescription: y\ndetect: [a]\ncolumns: {dossier_id: a, colour: b}\n")
    with pytest.raises(ProfileError, match=r"bad.yaml.*unknown canonical columns \['colour'\]"):
        load_profile(bad)
