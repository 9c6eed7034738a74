"""The plan registry (issue 12) on SQLite and PostgreSQL: migration 0003, the annex import (Vietnamese headers,
bad rows with reasons, re-import by task code), progress updates kept as history, who may update (server-side),
every change audited, and the `plan` CLI."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from access import audit
from access.db import open_appdb
from access.users import add_user
from access.viewer import for_account
from plan import store
from plan.importer import import_file, parse_date, parse_number
from plan.store import PlanError

TODAY = date(2026, 12, 1)
VI_HEADERS = ["Mã nhóm", "Nhóm nhiệm vụ", "Mã nhiệm vụ", "Nhiệm vụ", "Đơn vị chủ trì", "Chức danh chịu trách nhiệm",
              "Ngày bắt đầu", "Thời hạn", "Chỉ tiêu", "Giá trị mục tiêu", "Đơn vị tính", "Tiến độ (%)", "Số điện thoại"]


@pytest.fixture
def db(db_url):
    d = open_appdb(db_url)
    yield d
    d.close()


def annex_rows() -> list[list]:
    """20 groups x 2 good tasks (N01.1 … N20.2), then 7 bad rows; dates as Excel dates and as dd/mm/yyyy text."""
    rows = []
    for g in range(1, 21):
        gc = f"N{g:02d}"
        rows.append([gc, f"Nhóm nhiệm vụ {g}", f"{gc}.1", f"Nhiệm vụ {g}.1", "Sở Khoa học và Công nghệ",
                     "Giám đốc Sở Khoa học và Công nghệ", datetime(2026, 1, 1), datetime(2026, 12, 31), "Số văn bản",
                     "10", "văn bản", "25", "0912345678"])
        rows.append([gc, f"Nhóm nhiệm vụ {g}", f"{gc}.2", f"Nhiệm vụ {g}.2", "UBND Phường Cửa Nam" if g % 2 else "00070",
                     "Chủ tịch UBND phường", "01/07/2025", "30/06/2026", "Tỷ lệ hồ sơ giải quyết đúng hạn" if g == 3 else "",
                     "", "", "50,5" if g != 3 else "", None])
    rows += [
        ["N01", "Nhóm nhiệm vụ 1", "X.1", "Đơn vị lạ", "UBND Phường Không Tồn Tại", "", "01/01/2026", "31/12/2026", "", "", "", "", None],
        ["N01", "Nhóm nhiệm vụ 1", "X.2", "Ngày sai", "SKHCN", "", "32/01/2026", "31/12/2026", "", "", "", "", None],
        ["N01", "Nhóm nhiệm vụ 1", "X.3", "Hạn trước ngày bắt đầu", "SKHCN", "", "01/06/2026", "01/01/2026", "", "", "", "", None],
        ["N01", "Nhóm nhiệm vụ 1", "X.4", "Tiến độ quá 100", "SKHCN", "", "01/01/2026", "31/12/2026", "", "", "", "140", None],
        ["N01", "Nhóm nhiệm vụ 1", "", "Thiếu mã", "SKHCN", "", "01/01/2026", "31/12/2026", "", "", "", "", None],
        ["N01", "Nhóm nhiệm vụ 1", "N01.1", "Trùng mã", "SKHCN", "", "01/01/2026", "31/12/2026", "", "", "", "", None],
        ["N01", "Nhóm nhiệm vụ 1", "X.5", "Mục tiêu chữ", "SKHCN", "", "01/01/2026", "31/12/2026", "Số", "nhiều", "", "", None],
    ]
    return rows


def write_xlsx(path: Path, rows: list[list], headers=VI_HEADERS) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    ws.append([None] * len(headers))  # a blank row: layout, not a record
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_migration_makes_the_plan_tables(db) -> None:
    assert db.revision() == "0003"
    names = set(inspect(db.engine).get_table_names())
    assert {"plans", "plan_groups", "plan_tasks", "plan_task_updates", "plan_unit_accounts"} <= names


def test_parsers_by_hand() -> None:
    assert parse_date("05/03/2026") == date(2026, 3, 5) and parse_date("2026-03-05") == date(2026, 3, 5)
    assert parse_date("5/3/2026 00:00:00") == date(2026, 3, 5) and parse_date(datetime(2026, 3, 5, 0, 0)) == date(2026, 3, 5)
    assert parse_date("31/02/2026") is None and parse_date("03/05/26") is None and parse_date("mai") is None
    assert [parse_number(x) for x in ("85", "85 %", "85,5", "1.234,5", "1,234.5", "1.000.000", 7, "nan", "inf", "x")] == \
        [85.0, 85.0, 85.5, 1234.5, 1234.5, 1000000.0, 7.0, None, None, None]


def test_import_a_20_group_annex_with_vietnamese_headers_and_bad_rows(db, tmp_path) -> None:
    path = write_xlsx(tmp_path / "Phu_luc_ke_hoach.xlsx", annex_rows())
    rep = import_file(db, path, actor="cli:test", as_of=TODAY)
    assert (rep.status, rep.rows_read, rep.inserted, rep.updated, rep.unchanged) == ("partial", 47, 40, 0, 0)
    # rows 1-2: header and a blank row; good rows 3-42; bad rows 43-49, each with its reason and column
    assert [(r.line, r.code, r.column, r.task_code) for r in rep.rejected] == [
        (43, "unknown_unit", "lead_unit", "X.1"), (44, "bad_date", "start", "X.2"),
        (45, "deadline_before_start", "deadline", "X.3"), (46, "bad_progress", "progress", "X.4"),
        (47, "missing_value", "task_code", None), (48, "duplicate_task", "task_code", "N01.1"),
        (49, "bad_number", "target_value", "X.5")]
    # 19 reported progress values (N03.2 is linked to a KPI by its Vietnamese name: its progress comes from data)
    assert rep.progress == 20 + 19
    plan = store.load_plan(db)
    assert len(plan["groups"]) == 20 and len(plan["tasks"]) == 40
    assert [g["code"] for g in plan["groups"]][:3] == ["N01", "N02", "N03"]
    t = {x["code"]: x for x in plan["tasks"]}
    assert {k: t["N01.1"][k] for k in ("group_code", "lead_unit_code", "lead_kind", "responsible", "start", "deadline",
                                       "kpi", "indicator", "target_value", "unit_of_measure", "percent")} == {
        "group_code": "N01", "lead_unit_code": "SKHCN", "lead_kind": "department",
        "responsible": "Giám đốc Sở Khoa học và Công nghệ", "start": date(2026, 1, 1), "deadline": date(2026, 12, 31),
        "kpi": None, "indicator": "Số văn bản", "target_value": 10.0, "unit_of_measure": "văn bản", "percent": 25.0}
    assert (t["N01.2"]["lead_unit_code"], t["N02.2"]["lead_unit_code"], t["N01.2"]["percent"]) == ("00073", "00070", 50.5)
    assert (t["N03.2"]["kpi"], t["N03.2"]["percent"]) == ("on_time_rate", None)
    # the phone column is in no table
    with db.session(readonly=True) as s:
        dump = "\n".join(repr(tuple(r)) for tb in ("plans", "plan_groups", "plan_tasks", "plan_task_updates",
                                                   "audit_events") for r in s.execute(text(f"SELECT * FROM {tb}")))
    assert "0912345678" not in dump
    added = audit.events(db, action="plan_task_add")
    assert len(added) == 40 and added[0]["actor"] == "cli:test" and added[0]["detail"]["file"] == path.name


def test_reimport_updates_by_task_code_and_audits_the_fields(db, tmp_path) -> None:
    rows = annex_rows()[:40]
    import_file(db, write_xlsx(tmp_path / "a.xlsx", rows), actor="cli:test", as_of=date(2026, 11, 1))
    rows[0][7] = "31/03/2027"   # N01.1's deadline
    rows[0][11] = "40"          # N01.1's progress
    rep = import_file(db, write_xlsx(tmp_path / "b.xlsx", rows), actor="cli:test", as_of=TODAY)
    assert (rep.status, rep.inserted, rep.updated, rep.unchanged, rep.progress) == ("loaded", 0, 1, 39, 1)
    assert [e["detail"]["fields"] for e in audit.events(db, action="plan_task_change")] == [["deadline"]]
    hist = store.task_history(db, "N01.1")
    assert [(h["as_of"], h["percent"], h["actor"]) for h in hist] == [(date(2026, 11, 1), 25.0, "cli:test"),
                                                                     (TODAY, 40.0, "cli:test")]
    again = import_file(db, write_xlsx(tmp_path / "c.xlsx", rows), actor="cli:test", as_of=TODAY)
    assert (again.updated, again.unchanged, again.progress) == (0, 40, 0)


def test_canonical_csv_and_unreadable_files(db, tmp_path) -> None:
    cols = ["group_code", "group_name", "task_code", "task_name", "lead_unit", "responsible", "start", "deadline",
            "kpi", "target_value", "unit_of_measure", "progress"]
    p = tmp_path / "plan.csv"
    with p.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(cols)
        w.writerow(["N01", "Thể chế", "N01.1", "Sandbox", "SKHCN", "Giám đốc Sở", "2026-01-01", "2026-12-31",
                    "coverage_5g", "", "", ""])
        w.writerow(["N01", "Thể chế", "N01.2", "Rà soát\x00", "STP", "", "2026-01-01", "2026-12-31", "", "", "", "10"])
    rep = import_file(db, p, actor="cli:test", as_of=TODAY)
    assert (rep.status, rep.inserted, rep.rejected) == ("loaded", 2, [])
    assert store.load_plan(db)["tasks"][0]["kpi"] == "coverage_5g"
    bad = tmp_path / "cp1258.csv"
    bad.write_bytes("Mã nhóm;Nhiệm vụ\n".encode("utf-16"))
    r = import_file(db, bad, actor="cli:test", as_of=TODAY)
    assert r.status == "failed" and "UTF-8" in r.error
    headless = tmp_path / "noheader.csv"
    headless.write_text("N01;Thể chế;N01.1\n", encoding="utf-8")
    r = import_file(db, headless, actor="cli:test", as_of=TODAY)
    assert r.status == "failed" and "header row" in r.error and "N01.1" not in r.error


def _accounts(db):
    add_user(db, "cuanam", "ward", ["00073"], password="x" * 12, actor="test")
    add_user(db, "sokhcn", "department", ["00070", "00073"], password="x" * 12, actor="test")
    add_user(db, "lanhdao", "leader", [], password="x" * 12, actor="test")
    add_user(db, "quantri", "admin", [], password="x" * 12, actor="test")
    return {n: for_account(n, r, u) for n, r, u in (("cuanam", "ward", ["00073"]), ("sokhcn", "department", ["00070", "00073"]),
                                                   ("lanhdao", "leader", []), ("quantri", "admin", []))}


def test_a_ward_user_updates_only_its_own_tasks_and_every_attempt_is_audited(db, tmp_path) -> None:
    import_file(db, write_xlsx(tmp_path / "a.xlsx", annex_rows()[:40]), actor="cli:test", as_of=date(2026, 11, 1))
    v = _accounts(db)
    store.link_account(db, "SKHCN", "sokhcn", actor="test")
    # N01.2: Phường Cửa Nam (00073); N02.2: Phường Hoàn Kiếm (00070); N01.1: Sở KH&CN; N03.2 linked to a KPI
    r = store.add_update(db, "N01.2", v["cuanam"], percent="60", note="Đã số hóa 60 %", evidence_url="https://vb.hanoi.gov.vn/1",
                         as_of=TODAY, client="10.0.0.7")
    assert (r.task, r.percent) == ("N01.2", 60.0)
    for code in ("N02.2", "N01.1"):
        with pytest.raises(PlanError) as exc:
            store.add_update(db, code, v["cuanam"], percent=90, as_of=TODAY)
        assert exc.value.code == "not_owner"
    with pytest.raises(PlanError) as exc:
        store.add_update(db, "N01.2", v["lanhdao"], percent=90, as_of=TODAY)   # leaders read, never report
    assert exc.value.code == "not_owner"
    store.add_update(db, "N01.1", v["sokhcn"], percent=30, as_of=TODAY)          # its department
    store.add_update(db, "N02.2", v["sokhcn"], percent=30, as_of=TODAY)          # one of its wards
    with pytest.raises(PlanError) as exc:
        store.add_update(db, "N03.2", v["quantri"], percent=30, as_of=TODAY)     # a KPI-linked task
    assert exc.value.code == "kpi_linked"
    store.add_update(db, "N03.2", v["quantri"], note="Chờ số liệu tháng 11", as_of=TODAY)
    for bad, code in (({"percent": "101"}, "bad_percent"), ({"percent": "nan"}, "bad_percent"),
                      ({"evidence_url": "javascript:alert(1)", "note": "x"}, "bad_evidence"), ({}, "nothing"),
                      ({"note": "x" * 501}, "note_too_long")):
        with pytest.raises(PlanError) as exc:
            store.add_update(db, "N01.2", v["cuanam"], as_of=TODAY, **bad)
        assert exc.value.code == code
    with pytest.raises(PlanError):
        store.add_update(db, "NO.SUCH", v["quantri"], percent=1, as_of=TODAY)
    ev = audit.events(db, action="plan_update")
    mine = [(e["actor"], e["target"], e["outcome"], e["detail"].get("reason")) for e in ev if e["actor"] != "cli:test"]
    assert sorted(mine) == sorted([
        ("cuanam", "N01.2", "ok", None), ("cuanam", "N02.2", "denied", "not_owner"),
        ("cuanam", "N01.1", "denied", "not_owner"), ("lanhdao", "N01.2", "denied", "not_owner"),
        ("sokhcn", "N01.1", "ok", None), ("sokhcn", "N02.2", "ok", None), ("quantri", "N03.2", "denied", "kpi_linked"),
        ("quantri", "N03.2", "ok", None), ("cuanam", "N01.2", "denied", "bad_percent"),
        ("cuanam", "N01.2", "denied", "bad_percent"), ("cuanam", "N01.2", "denied", "bad_evidence"),
        ("cuanam", "N01.2", "denied", "nothing"), ("cuanam", "N01.2", "denied", "note_too_long")])
    ok = next(e for e in ev if e["actor"] == "cuanam" and e["outcome"] == "ok")
    assert ok["client"] == "10.0.0.7" and ok["detail"]["percent"] == 60.0 and ok["scope"] == "00073"
    hist = store.task_history(db, "N01.2")
    assert [(h["percent"], h["actor"], h["note"], h["evidence_url"]) for h in hist] == [
        (50.5, "cli:test", None, None), (60.0, "cuanam", "Đã số hóa 60 %", "https://vb.hanoi.gov.vn/1")]
    assert hist[1]["user_id"] is not None
    assert {t["code"]: t["percent"] for t in store.load_plan(db)["tasks"]}["N01.2"] == 60.0


def test_the_plan_cli(db_url, tmp_path, capsys) -> None:
    import app

    path = write_xlsx(tmp_path / "annex.xlsx", annex_rows())
    assert app.main(["plan", "import", str(path), "--app-db", db_url]) == 1   # partial: rows were rejected
    out = capsys.readouterr().out
    assert "annex.xlsx: partial" in out and "thêm mới 40" in out
    assert "line 44: Không đọc được ngày ở cột start (dùng dd/mm/yyyy hoặc yyyy-mm-dd) [X.2]" in out
    d = open_appdb(db_url)
    try:
        add_user(d, "cuanam", "ward", ["00073"], password="x" * 12, actor="test")
    finally:
        d.close()
    assert app.main(["plan", "update", "N01.2", "--progress", "70", "--note", "Xong giai đoạn 2", "--user", "cuanam",
                     "--app-db", db_url]) == 0
    assert app.main(["plan", "update", "N02.2", "--progress", "70", "--user", "cuanam", "--app-db", db_url]) == 2
    assert "chỉ cập nhật được nhiệm vụ do đơn vị mình chủ trì" in capsys.readouterr().err
    capsys.readouterr()
    assert app.main(["plan", "list", "--json", "--app-db", db_url, "--warehouse", str(tmp_path / "none.duckdb")]) == 0
    listed = json.loads(capsys.readouterr().out)
    t = {x["code"]: x for x in listed["tasks"]}
    assert len(listed["groups"]) == 20 and t["N01.2"]["percent"] == 70.0
    assert set(t["N01.2"]) >= {"status", "expected_percent", "stale", "lead_unit_code", "deadline"}
