"""The plan pages (issue 12) through the real server (sign-in on, a seeded demo warehouse, SQLite application
database), each callback called as the browser calls it: /plan lists the 20 groups and the late and at-risk tasks
first with their owners; /plan/task shows a task's history and chart, offers the update form only to its owners,
and a ward chair's update of another ward's task is refused by the server (and audited) even when posted by hand;
/accountability lists units worst first and a unit's tasks overdue for an update. Statuses by hand at NOW."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from config import load_settings
from warehouse.db import open_writer, publish_snapshot

from .web_client import audit as _audit
from .web_client import call, web_with_accounts
from .web_client import signed_in as _client

NOW = datetime(2026, 3, 16, 12, 0)  # a Monday; 74 days after 01/01/2026 (364 days to 31/12/2026)
HEADERS = ["Mã nhóm", "Nhóm nhiệm vụ", "Mã nhiệm vụ", "Nhiệm vụ", "Đơn vị chủ trì", "Chức danh chịu trách nhiệm",
           "Ngày bắt đầu", "Thời hạn", "Chỉ tiêu", "Giá trị mục tiêu", "Đơn vị tính", "Tiến độ (%)"]
# hand-worked at NOW: the path from 01/01/2026 to 31/12/2026 expects 100*74/364 = 20.3 %
TASKS = [
    # late: deadline 28/02/2026 passed, 50 % done
    ["N01", "Thể chế", "T-LATE", "Số hóa hồ sơ lưu trữ", "UBND Phường Cửa Nam", "Chủ tịch UBND phường", "01/01/2026",
     "28/02/2026", "Hồ sơ số hóa", "2000", "hồ sơ", "50"],
    # at risk: 5 % done, 15.3 points behind
    ["N02", "Hạ tầng số", "T-RISK", "Trung tâm dữ liệu", "Sở Khoa học và Công nghệ", "Giám đốc Sở Khoa học và Công nghệ",
     "01/01/2026", "31/12/2026", "Tiến độ", "100", "%", "5"],
    # on track: 15 % done, 5.3 points behind
    ["N03", "Chính quyền số", "T-ON", "Ki-ốt tra cứu", "Phường Hoàn Kiếm", "Chủ tịch UBND phường", "01/01/2026",
     "31/12/2026", "Ki-ốt", "4", "ki-ốt", "15"],
    # not started: starts in April
    ["N04", "Dữ liệu số", "T-NEW", "Kho dữ liệu mở", "Sở Khoa học và Công nghệ", "Giám đốc Sở", "01/04/2026",
     "31/12/2026", "", "", "", ""],
] + [[f"N{g:02d}", f"Nhóm {g}", f"T-{g:02d}", f"Nhiệm vụ {g}", "Sở Tài chính", "Giám đốc Sở Tài chính", "01/01/2026",
      "31/12/2026", "", "", "", "100"] for g in range(5, 21)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from openpyxl import Workbook

    from demo.seed import seed_demo
    from plan.importer import import_file

    tmp = tmp_path_factory.mktemp("plan-ui")
    settings = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb", auth="on", rate_limit="100000 per minute")
    con = open_writer(settings)
    seed_demo(con, settings, days=30, per_day=100, now=NOW)
    publish_snapshot(con, settings)
    con.close()
    web = web_with_accounts(settings)
    wb = Workbook()
    wb.active.append(HEADERS)
    for r in TASKS:
        wb.active.append(r)
    wb.save(tmp / "annex.xlsx")
    rep = import_file(web.db, tmp / "annex.xlsx", actor="cli:test", as_of=datetime(2026, 3, 1).date())
    assert (rep.status, rep.inserted) == ("loaded", 20)
    return web


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("R57_NOW", NOW.isoformat())


def _text(x) -> str:
    return json.dumps(x, ensure_ascii=False)


def _page(client, app, path: str, search: str = "") -> str:
    out = call(client, app, "_pages_content.children",
               {"_pages_location.pathname": path, "_pages_location.search": search})
    return _text(out)


def find(tree, cid: str):
    """The component with id `cid` in a rendered (JSON) tree."""
    if isinstance(tree, list):
        for x in tree:
            if (got := find(x, cid)) is not None:
                return got
        return None
    if not isinstance(tree, dict):
        return None
    if tree.get("props", {}).get("id") == cid:
        return tree
    return find(tree.get("props", {}).get("children"), cid)


def text(tree) -> str:
    if isinstance(tree, str | int | float):
        return str(tree)
    if isinstance(tree, list):
        return " ".join(t for t in (text(x) for x in tree) if t)
    if isinstance(tree, dict):
        return text(tree.get("props", {}).get("children"))
    return ""


def _rows(tree, table_id: str) -> list[list[str]]:
    """The text of each body row of the html.Table `table_id` in a rendered tree."""
    table = find(tree, table_id)
    body = next(c for c in table["props"]["children"] if c.get("type") == "Tbody")
    return [[text(td) for td in tr["props"]["children"]] for tr in body["props"]["children"] or []]


def test_the_plan_page_lists_20_groups_and_late_and_at_risk_tasks_first(app) -> None:
    c = _client(app, "leader")
    out = call(c, app, "pl-body.children", {"shell-lang.data": "vi", "shell-version.data": None})
    tree = out["pl-body.children"]
    s = _text(tree)
    assert all(f"pl-g-N{g:02d}" in s for g in range(1, 21))
    assert "20 nhóm nhiệm vụ, 20 nhiệm vụ; trạng thái tính đến ngày 16/03/2026." in s
    rows = _rows(tree, "pl-attention")
    assert [(r[0], r[2], r[4], r[6]) for r in rows] == [
        ("T-LATE", "Phường Cửa Nam", "28/02/2026", "Quá hạn"),
        ("T-RISK", "Sở Khoa học và Công nghệ Hà Nội", "31/12/2026", "Có nguy cơ chậm")]
    assert rows[1][5] == "5 % (kế hoạch 20 %)"
    en = _text(call(c, app, "pl-body.children", {"shell-lang.data": "en", "shell-version.data": None}))
    assert "Late and at risk (2)" in en and "Hanoi Department of Science and Technology" in en


def test_a_ward_chair_sees_the_citys_tasks_and_its_own_wards_not_another_wards(app) -> None:
    chair = _client(app, "chair")
    s = _text(call(chair, app, "pl-body.children", {"shell-lang.data": "vi", "shell-version.data": None}))
    assert "T-LATE" in s and "T-RISK" in s and "T-ON" not in s and "Phường Hoàn Kiếm" not in s
    assert "T-ON" in _text(call(_client(app, "leader"), app, "pl-body.children", {"shell-lang.data": "vi"}))
    other = _text(call(chair, app, "pt-body.children", {"shell-lang.data": "vi", "pt-code.data": "T-ON"}))
    assert "Không có nhiệm vụ với mã này trong kế hoạch." in other and "Ki-ốt tra cứu" not in other
    acc = _text(call(chair, app, "acc-body.children", {"shell-lang.data": "vi", "acc-unit.value": "00070",
                                                       "acc-weeks.value": 4}))
    assert "Phường Hoàn Kiếm" not in acc


def test_a_task_drill_down_history_chart_and_the_form_for_owners_only(app) -> None:
    chair, leader = _client(app, "chair"), _client(app, "leader")
    assert "pt-submit" in _page(chair, app, "/plan/task", "?code=T-LATE")       # Cửa Nam's own task
    assert "pt-submit" not in _page(chair, app, "/plan/task", "?code=T-ON")     # Hoàn Kiếm's
    assert "pt-submit" not in _page(leader, app, "/plan/task", "?code=T-LATE")  # leaders read
    out = call(chair, app, "pt-body.children", {"shell-lang.data": "vi", "pt-code.data": "T-LATE", "pt-bump.data": 0})
    s = _text(out)
    assert "Quá hạn" in s and "Đã qua thời hạn mà chưa hoàn thành." in s and "pt-chart" in s
    hist = _rows(out["pt-body.children"], "pt-history")
    assert hist == [["01/03/2026", "50 %", "", "", "", "cli:test"]]
    assert find(out["pt-body.children"], "pt-chart")["props"]["figure"]["data"][1]["y"] == [50.0]
    unknown = _text(call(chair, app, "pt-body.children", {"shell-lang.data": "vi", "pt-code.data": "NOPE"}))
    assert "Không có nhiệm vụ với mã này trong kế hoạch." in unknown


def _submit(client, app, code: str, percent, note=None, url=None):
    return call(client, app, "pt-message.children", {
        "pt-submit.n_clicks": 1, "shell-lang.data": "vi", "pt-code.data": code, "pt-percent.value": percent,
        "pt-value.value": None, "pt-note.value": note, "pt-url.value": url, "pt-bump.data": 0}, trigger="pt-submit.n_clicks")


def test_a_ward_chair_updates_its_own_task_and_the_server_refuses_another_wards(app) -> None:
    chair = _client(app, "chair")
    ok = _submit(chair, app, "T-LATE", 80, "Đã số hóa 1.600 hồ sơ", "https://vb.hanoi.gov.vn/so-hoa")
    assert ok["pt-message.children"] == "Đã ghi nhận cập nhật của nhiệm vụ T-LATE" and ok["pt-bump.data"] == 1
    # posted by hand for Hoàn Kiếm's task (the page never offers the form): refused by the store, audited
    refused = _submit(chair, app, "T-ON", 90)
    assert "Bạn chỉ cập nhật được nhiệm vụ do đơn vị mình chủ trì" in _text(refused)
    assert "pt-bump.data" not in refused
    events = [(e["target"], e["outcome"], e["detail"].get("reason")) for e in _audit(app, "plan_update", "chair")]
    assert events[:2] == [("T-ON", "denied", "not_owner"), ("T-LATE", "ok", None)]
    # it shows everywhere: the plan page's row and the task's history
    from plan.store import load_plan, task_history

    assert {t["code"]: t["percent"] for t in load_plan(app.db)["tasks"]}["T-LATE"] == 80.0
    assert [h["actor"] for h in task_history(app.db, "T-LATE")] == ["cli:test", "chair"]
    admin = _client(app, "admin")
    assert _submit(admin, app, "T-ON", 20)["pt-message.children"] == "Đã ghi nhận cập nhật của nhiệm vụ T-ON"


def test_accountability_lists_units_worst_first_and_silent_tasks(app) -> None:
    c = _client(app, "leader")
    out = call(c, app, "acc-body.children", {"shell-lang.data": "vi", "acc-unit.value": "SKHCN", "acc-weeks.value": 2})
    tree = out["acc-body.children"]
    assert [r[0] for r in _rows(tree, "acc-lead")] == ["T-RISK", "T-NEW"]
    # T-RISK's last update is the import's, 01/03/2026: 15 days before NOW, over 2 weeks; T-NEW starts in April
    assert [r[0] for r in _rows(tree, "acc-silent")] == ["T-RISK"]
    summary = _rows(tree, "acc-summary")
    # worst first: Cửa Nam (1 late), then the department (1 at risk, 1 silent)
    assert [r[0] for r in summary[:2]] == ["Phường Cửa Nam", "Sở Khoa học và Công nghệ Hà Nội"]
    assert summary[1][1:5] == ["2", "0", "1", "1"]
    assert out["acc-note.children"].endswith("nhiệm vụ quá 2 tuần chưa cập nhật.")
    three = call(c, app, "acc-body.children", {"shell-lang.data": "vi", "acc-unit.value": "SKHCN", "acc-weeks.value": 3})
    assert find(three["acc-body.children"], "acc-silent") is None
    assert "Không có nhiệm vụ nào quá 3 tuần chưa cập nhật." in _text(three)


def _edit(client, app, code: str, **fields):
    values = {"pt-e-save.n_clicks": 1, "shell-lang.data": "vi", "pt-code.data": code, "pt-bump.data": 0,
              **{f"pt-e-{k}.value": v for k, v in fields.items()}}
    return call(client, app, "pt-e-message.children", values, trigger="pt-e-save.n_clicks")


def test_an_administrator_edits_a_task_and_nobody_else_can(app) -> None:
    from plan.store import load_plan

    admin, chair = _client(app, "admin"), _client(app, "chair")
    assert "pt-e-save" in _page(admin, app, "/plan/task", "?code=T-NEW")
    assert "pt-e-save" not in _page(chair, app, "/plan/task", "?code=T-LATE")
    out = _edit(admin, app, "T-NEW", lead="SKHCN", resp="Phó Giám đốc Sở Khoa học và Công nghệ", start="01/04/2026",
                deadline="31/03/2027")
    assert out["pt-e-message.children"] == "Đã lưu: deadline, responsible"
    t = {x["code"]: x for x in load_plan(app.db)["tasks"]}["T-NEW"]
    assert (str(t["deadline"]), t["responsible"]) == ("2027-03-31", "Phó Giám đốc Sở Khoa học và Công nghệ")
    bad = _edit(admin, app, "T-NEW", lead="SKHCN", start="01/04/2026", deadline="31/02/2027")
    assert "Không đọc được ngày" in _text(bad)
    before = _edit(admin, app, "T-NEW", lead="SKHCN", start="01/05/2027", deadline="31/03/2027")
    assert "Thời hạn trước ngày bắt đầu" in _text(before)
    refused = _edit(chair, app, "T-LATE", lead="00073", start="01/01/2026", deadline="31/12/2030")  # posted by hand
    assert "Chỉ quản trị viên sửa được nhiệm vụ" in _text(refused)
    assert {x["code"]: str(x["deadline"]) for x in load_plan(app.db)["tasks"]}["T-LATE"] == "2026-02-28"
    events = [(e["actor"], e["target"], e["outcome"], e["detail"].get("fields") or e["detail"].get("reason"))
              for e in _audit(app, "plan_task_change") if e["actor"] in ("admin", "chair")]
    assert events == [("chair", "T-LATE", "denied", "not_admin"), ("admin", "T-NEW", "denied", "deadline_before_start"),
                      ("admin", "T-NEW", "ok", ["deadline", "responsible"])]
