"""Staffing indicators (issue 12): head counts per ward through the real indicator ingest; every bad row
quarantined with its reason, the rest loads; officers' names are never kept."""

from __future__ import annotations

from datetime import datetime

from ingest.runner import ingest_file, quarantine_summary

NOW = datetime(2026, 11, 1, 12, 0)


def test_bad_staffing_rows_each_quarantined_with_a_reason(con, tmp_path):
    f = tmp_path / "can_bo_mot_cua.csv"
    # the Vietnamese headers of a ward's sheet; a column of names the sheet carried is never read
    f.write_text("Mã chỉ tiêu,Mã đơn vị,Kỳ,Giá trị,Nguồn,Ngày công bố,Họ tên cán bộ\n"
                 "counter_officers,00073,2026-10,6,UBND phường,05/10/2026,Nguyễn Văn An\n"   # 2: loads
                 "counter_officers,00073,2026-09,-1,UBND phường,05/10/2026,\n"               # 3: negative
                 "counter_officers,00004,2026-10,2.5,UBND phường,05/10/2026,\n"              # 4: not whole
                 "counter_officers,00004,2026-09,nan,UBND phường,05/10/2026,\n"              # 5: nan
                 "counter_officers,00376,2026-10,1e400,UBND phường,05/10/2026,\n"            # 6: infinite
                 "counter_officers,01,2026-10,300,Sở Nội vụ,05/10/2026,\n"                   # 7: the city
                 "counter_officers,00376,2026-09,Trần Thị Bình,UBND xã,05/10/2026,\n"        # 8: a name
                 "seconded_staff,00073,2026-10,3,Sở Nội vụ,05/10/2026,Lê Văn Cường\n"       # 9: loads
                 "service_points,00073,2026-10,\"2,0\",UBND phường,05/10/2026,\n"            # 10: loads (2,0 = 2)
                 "population,00073,2025,45210.5,Thống kê,20/01/2026,\n")                    # 11: not a count: loads
    r = ingest_file(con, f, "indicators", now=NOW)
    assert (r.rows_read, r.inserted, r.quarantined) == (10, 4, 6)
    got = [(q["line"], q["reason_code"], q["column"]) for q in quarantine_summary(con, r.run_id)]
    assert got == [(3, "bad_integer", "value"), (4, "bad_integer", "value"), (5, "bad_integer", "value"),
                   (6, "bad_integer", "value"), (7, "unit_only", "unit_code"), (8, "bad_number", "value")]
    words = {q["line"]: q["reason"] for q in quarantine_summary(con, r.run_id)}
    assert words[3] == "Giá trị '-1' ở cột value phải là số nguyên không âm"
    assert "thành phố" in words[7]
    en = {q["line"]: q["reason"] for q in quarantine_summary(con, r.run_id, lang="en")}
    assert en[7] == "Staffing and kiosk counts are each ward's or commune's own: unit code '01' is the city"
    assert con.execute("SELECT indicator_code, unit_code, period, value FROM indicators ORDER BY 1, 2").fetchall() == [
        ("counter_officers", "00073", "2026-10", 6.0), ("population", "00073", "2025", 45210.5),
        ("seconded_staff", "00073", "2026-10", 3.0), ("service_points", "00073", "2026-10", 2.0)]
    # no name anywhere: not in the quarantine (the value is kept as its shape only), nor in the run record
    stored = " ".join(str(x) for row in con.execute("SELECT * FROM quarantine").fetchall() for x in row)
    stored += " ".join(str(x) for row in con.execute("SELECT * FROM ingest_runs").fetchall() for x in row)
    for name in ("Trần", "Bình", "Nguyễn", "Cường"):
        assert name not in stored
