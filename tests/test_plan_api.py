"""The plan's API (issue 12) through the real server with sign-in on: /api/v1/plan (groups, tasks, statuses,
latest updates) within the viewer's scope, /api/v1/plan/tasks/{code} with its history, the CSV and Excel task
lists (worst first, audited). No warehouse snapshot: KPI-linked tasks are not judged (not started)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from config import load_settings

from .web_client import audit as _audit
from .web_client import signed_in as _client
from .web_client import web_with_accounts

NOW = datetime(2026, 3, 16, 12, 0)
COLS = ["group_code", "group_name", "task_code", "task_name", "lead_unit", "responsible", "start", "deadline", "kpi",
        "target_value", "unit_of_measure", "progress"]
ROWS = [["N01", "Thể chế", "T-LATE", "Số hóa hồ sơ", "00073", "Chủ tịch UBND phường", "01/01/2026", "28/02/2026",
         "Hồ sơ", "2000", "hồ sơ", "50"],
        ["N02", "Hạ tầng", "T-RISK", "Trung tâm dữ liệu", "SKHCN", "Giám đốc Sở", "01/01/2026", "31/12/2026", "", "", "",
         "5"],
        ["N03", "Chính quyền số", "T-ON", "Ki-ốt", "00070", "Chủ tịch UBND phường", "01/01/2026", "31/12/2026", "", "", "",
         "15"],
        ["N03", "Chính quyền số", "T-EVIL", "=HYPERLINK(\"http://x\";\"bấm\")", "00070", "@SUM(1)", "01/01/2026",
         "31/12/2026", "", "", "", "0"],
        ["N03", "Chính quyền số", "T-KPI", "Đúng hạn", "VPUB", "Chánh Văn phòng", "01/01/2026", "31/12/2026",
         "on_time_rate", "", "", ""]]


def _web_with_plan(settings, folder):
    """The server with its three accounts and the annex above imported (as of 01/03/2026)."""
    from plan.importer import import_file

    web = web_with_accounts(settings)
    p = folder / "annex.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLS)
        w.writerows(ROWS)
    assert import_file(web.db, p, actor="cli:test", as_of=date(2026, 3, 1)).inserted == 5
    return web


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan-api")
    settings = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb", auth="on", rate_limit="100000 per minute")
    return _web_with_plan(settings, tmp)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("R57_NOW", NOW.isoformat())


def test_the_plan_answers_statuses_within_the_viewers_scope(app) -> None:
    assert app.server.test_client().get("/api/v1/plan").status_code == 401
    leader = _client(app, "leader").get("/api/v1/plan").get_json()
    assert {t["code"]: t["status"] for t in leader["tasks"]} == {
        "T-LATE": "late", "T-RISK": "at_risk", "T-ON": "on_track", "T-KPI": "not_started", "T-EVIL": "at_risk"}
    assert {g["code"]: g["status"] for g in leader["groups"]} == {"N01": "late", "N02": "at_risk", "N03": "at_risk"}
    t = {x["code"]: x for x in leader["tasks"]}
    assert (t["T-RISK"]["percent"], t["T-RISK"]["expected_percent"], t["T-RISK"]["last_update"]) == (5.0, 20.3,
                                                                                                  "2026-03-01")
    assert leader["as_of"] == "2026-03-16T12:00:00" and leader["snapshot"] is None
    chair = _client(app, "chair").get("/api/v1/plan").get_json()
    assert sorted(x["code"] for x in chair["tasks"]) == ["T-KPI", "T-LATE", "T-RISK"]   # not Hoàn Kiếm's T-ON, T-EVIL


def test_one_task_with_its_history(app) -> None:
    c = _client(app, "chair")
    r = c.get("/api/v1/plan/tasks/T-LATE").get_json()
    assert (r["status"], r["lead_unit_code"], r["lead_kind"]) == ("late", "00073", "ward")
    assert r["history"] == [{"as_of": "2026-03-01", "percent": 50.0, "value": None, "note": None,
                             "evidence_url": None, "by": "cli:test"}]
    assert c.get("/api/v1/plan/tasks/T-ON").status_code == 404       # another ward's: as if it did not exist
    assert c.get("/api/v1/plan/tasks/NOPE").get_json() == {"error": "no such task in the plan"}
    assert c.get("/api/v1/plan/tasks/%00%3Cscript%3E" + "x" * 5000).status_code == 404


def test_the_task_list_as_csv_and_excel_worst_first_and_audited(app) -> None:
    from openpyxl import load_workbook

    c = _client(app, "leader")
    r = c.get("/api/v1/plan/tasks.csv")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Mã", "Nhóm nhiệm vụ", "Nhiệm vụ", "Đơn vị chủ trì"]
    assert [(x[0], x[10]) for x in rows[1:]] == [("T-LATE", "Quá hạn"), ("T-EVIL", "Có nguy cơ chậm"),
                                                 ("T-RISK", "Có nguy cơ chậm"), ("T-KPI", "Chưa bắt đầu"),
                                                 ("T-ON", "Đúng tiến độ")]
    evil = rows[2]
    assert evil[2].startswith("'=HYPERLINK(") and evil[4] == "'@SUM(1)"   # a spreadsheet never runs them
    x = c.get("/api/v1/plan/tasks.xlsx?lang=en")
    wb = load_workbook(io.BytesIO(x.data))
    sheet = wb.worksheets[-1]
    values = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
    assert values[0][:3] == ("Code", "Task group", "Task") and values[0][10] == "Status"
    assert values[1] == ("T-LATE", "N01", "Số hóa hồ sơ", "Cua Nam Ward", "Chủ tịch UBND phường", datetime(2026, 1, 1),
                         datetime(2026, 2, 28), "Hồ sơ", 50, 100, "Late", datetime(2026, 3, 1))
    assert values[4][7] == "On-time rate"  # a linked KPI by its name
    assert values[2][2].startswith("=HYPERLINK(") and sheet.cell(row=3, column=3).data_type == "s"  # text, not a formula
    assert [e["target"] for e in _audit(app, "export", "leader")][:2] == ["plan/tasks.xlsx", "plan/tasks.csv"]
    assert c.get("/api/v1/plan/tasks.pdf").status_code == 404


def test_with_a_snapshot_the_answer_names_it_and_a_kpi_task_is_judged(views_warehouse, tmp_path, monkeypatch) -> None:
    """On a published warehouse (the shared views warehouse, read-only): the answer names the snapshot it read
    and the KPI-linked task takes its status from the metrics (no longer 'not started')."""
    from warehouse.db import current_snapshot

    from .conftest import DEMO_NOW

    monkeypatch.setenv("R57_NOW", DEMO_NOW.isoformat())
    settings = load_settings(data_dir=tmp_path, warehouse=views_warehouse.warehouse, auth="on",
                             rate_limit="100000 per minute", app_db=f"sqlite:///{tmp_path / 'app.db'}")
    web = _web_with_plan(settings, tmp_path)
    resp = _client(web, "leader").get("/api/v1/plan")
    assert resp.status_code == 200, resp.data[:300]
    body = resp.get_json()
    assert body["snapshot"] == current_snapshot(settings).name
    assert {t["code"]: t for t in body["tasks"]}["T-KPI"]["kpi_status"] is not None
