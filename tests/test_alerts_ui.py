"""The alerts UI and the action lists (issue 11) through the real server (dashboard + guard, sign-in on, a
seeded demo warehouse, the application database in SQLite), each callback called as the browser calls it,
as a signed-in user:

- the ward page: due within 2 working days beside overdue; a click on a procedure row filters both lists,
  'Bỏ lọc' clears; every row links to /dossier?id=…;
- the dossier detail: ids, unit, procedure, dates in dd/mm/yyyy HH:MM Hanoi time, the stored versions;
  another ward's dossier -> the out-of-scope state; an unknown id -> not found; every view audited;
- the bell: the unread count in the header (aria-label '3 thông báo chưa đọc'), refreshed by the tick;
  nothing with sign-in off;
- the alerts page: notifications newest first and 'Đánh dấu đã đọc'; rules listed, added from the form,
  removed; a ward chair's rule for another ward is refused by the store and the page says why (without
  naming the other ward); the delivery log: an administrator's holds every user's, a chair's their own.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest

from config import load_settings
from warehouse.db import open_writer, publish_snapshot

from .web_client import HOME, UNITS, call, web_with_accounts
from .web_client import audit as _audit
from .web_client import callback_key as _key
from .web_client import signed_in as _client

NOW = datetime(2026, 3, 16, 12, 0)       # a Monday
OTHER = "00070"                         # Phường Hoàn Kiếm (HOME: Phường Cửa Nam)
P1, P2 = "HN-CT-001", "HN-CT-003"
COLUMNS = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
           "supplement_count", "supplement_days", "updated_at"]


def _ingest(settings, path, rows) -> None:
    from ingest.runner import ingest_files
    from metrics import refresh

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    con = open_writer(settings)
    ingest_files(con, [path], "dossiers", channel="cli")
    refresh(con)
    publish_snapshot(con, settings)
    con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo warehouse, and dossiers of our own: Cửa Nam's overdue (3 of P1, 2 of P2) and due soon (1 of
    each), Hoàn Kiếm's due soon, and a Cửa Nam dossier sent twice (its first version replaced: its history)."""
    from demo.seed import seed_demo

    tmp = tmp_path_factory.mktemp("alerts-ui")
    settings = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb", auth="on", rate_limit="100000 per minute")
    con = open_writer(settings)
    seed_demo(con, settings, days=45, per_day=120, now=NOW)
    publish_snapshot(con, settings)
    con.close()
    rows = []
    for i, proc in enumerate([P1, P1, P1, P2, P2]):
        rows.append([f"UI-LATE-{i}", HOME, proc, "online_full", "2026-02-20 09:00", "2026-03-02 17:00", "processing",
                     0, 0, "2026-02-20 09:00"])
    rows += [["UI-SOON-P1", HOME, P1, "in_person", "2026-03-13 09:00", "2026-03-17 17:00", "processing", 0, 0,
              "2026-03-13 09:00"],
             ["UI-SOON-P2", HOME, P2, "online_partial", "2026-03-13 10:00", "2026-03-18 17:00", "received", 0, 0,
              "2026-03-13 10:00"],
             ["UI-SOON-OTHER", OTHER, P1, "online_full", "2026-03-13 09:00", "2026-03-17 17:00", "processing", 0, 0,
              "2026-03-13 09:00"],
             ["UI-HIST", HOME, P2, "in_person", "2026-03-02 08:30", "2026-03-20 17:00", "received", 0, 0,
              "2026-03-02 08:30"]]
    _ingest(settings, tmp / "ours.csv", rows)
    # UI-HIST again, later: the procedure corrected, the due date moved (the version it replaces is kept)
    _ingest(settings, tmp / "again.csv", [["UI-HIST", HOME, P1, "in_person", "2026-03-02 08:30", "2026-03-25 17:00",
                                           "processing", 1, 2, "2026-03-05 14:10"]])
    return settings


@pytest.fixture(scope="module")
def app(world):
    return web_with_accounts(world)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("R57_NOW", NOW.isoformat())


def _text(x) -> str:
    return json.dumps(x, ensure_ascii=False)


# --- the ward page's action lists ----------------------------------------------------------------------

WARD = {"shell-lang.data": "vi", "shell-version.data": None, "wu-unit.value": HOME}


def _lists(client, app, procedure=None, lang="vi"):
    out = call(client, app, "wu-due-grid.rowData", {**WARD, "shell-lang.data": lang, "wu-proc-filter.value": procedure})
    return out


def test_due_soon_beside_overdue_with_links_to_the_dossier(app):
    c = _client(app, "chair")
    out = _lists(c, app)
    due, over = out["wu-due-grid.rowData"], out["wu-overdue-grid.rowData"]
    due_ids, over_ids = [r["dossier_id"] for r in due], [r["dossier_id"] for r in over]
    assert {"UI-SOON-P1", "UI-SOON-P2"} <= set(due_ids) and "UI-SOON-OTHER" not in due_ids
    assert {f"UI-LATE-{i}" for i in range(5)} <= set(over_ids)
    assert not set(due_ids) & set(over_ids)
    soon = {r["dossier_id"]: r for r in due}
    assert soon["UI-SOON-P1"]["days"] == 1 and soon["UI-SOON-P2"]["days"] == 2  # Tue, Wed after Monday 16/03
    assert [r["days"] for r in due] == sorted(r["days"] for r in due)  # soonest first
    assert all(r["href"] == f"/dossier?id={r['dossier_id']}" for r in due + over)
    assert out["wu-due-title.children"].startswith("Sắp đến hạn (trong 2 ngày làm việc): ")
    assert out["wu-overdue-title.children"].startswith("Hồ sơ quá hạn đang mở: ")
    options = {o["value"]: o["label"] for o in out["wu-proc-filter.options"]}
    assert P1 in options and P2 in options and "quá hạn" in options[P1] and "sắp đến hạn" in options[P1]
    assert out["wu-proc-clear.disabled"] is True
    assert not {"applicant", "name", "phone", "address"} & set(due[0])  # ids only, never personal data
    en = _lists(c, app, lang="en")
    assert en["wu-due-title.children"].startswith("Due within 2 working days: ")
    # the columns: the id is a link (UnitLink reads data.href), the days column says which days
    words = call(c, app, "wu-due-grid.columnDefs", {"shell-lang.data": "vi"})
    cols = {d["field"]: d for d in words["wu-due-grid.columnDefs"]}
    assert cols["dossier_id"]["cellRenderer"] == "UnitLink" and cols["days"]["headerName"] == "Số ngày làm việc còn lại"
    assert words["wu-proc-clear.children"] == "Bỏ lọc"
    assert call(c, app, "wu-due-grid.columnDefs", {"shell-lang.data": "en"})["wu-proc-clear.children"] == "Clear filter"


def test_a_procedure_click_filters_both_lists_and_clear_filter_undoes_it(app):
    c = _client(app, "chair")
    before = _lists(c, app)
    # a click on the procedures grid's row of P2 (getRowId: the procedure code)
    picked = call(c, app, "wu-proc-filter.value",
                  {"wu-procs.cellClicked": {"colId": "name", "rowId": P2, "rowIndex": 1, "value": "x"},
                   "wu-proc-clear.n_clicks": 0, "wu-unit.value": HOME}, trigger="wu-procs.cellClicked")
    assert picked["wu-proc-filter.value"] == P2
    after = _lists(c, app, P2)
    due, over = after["wu-due-grid.rowData"], after["wu-overdue-grid.rowData"]
    assert due and over and {r["procedure_code"] for r in due + over} == {P2}
    assert {"UI-SOON-P2"} <= {r["dossier_id"] for r in due} and "UI-SOON-P1" not in {r["dossier_id"] for r in due}
    assert {"UI-LATE-3", "UI-LATE-4"} <= {r["dossier_id"] for r in over}
    assert len(over) == sum(1 for r in before["wu-overdue-grid.rowData"] if r["procedure_code"] == P2)
    assert "Đang lọc theo thủ tục" in after["wu-due-note.children"] and f"({P2})" in after["wu-overdue-note.children"]
    assert after["wu-proc-clear.disabled"] is False
    assert any(o["value"] == P2 for o in after["wu-proc-filter.options"])  # the chosen one stays a choice
    # 'Bỏ lọc' clears the filter; so does choosing another unit
    cleared = call(c, app, "wu-proc-filter.value", {"wu-procs.cellClicked": None, "wu-proc-clear.n_clicks": 1,
                                                    "wu-unit.value": HOME}, trigger="wu-proc-clear.n_clicks")
    assert cleared["wu-proc-filter.value"] is None
    # a click that is not a procedure (a crafted value) changes nothing
    bad = call(c, app, "wu-proc-filter.value", {"wu-procs.cellClicked": {"rowId": "'; DROP TABLE"},
                                                "wu-proc-clear.n_clicks": 0}, trigger="wu-procs.cellClicked")
    assert "wu-proc-filter.value" not in bad
    # an unknown procedure in the filter is no filter
    assert len(_lists(c, app, "NOT-A-CODE")["wu-overdue-grid.rowData"]) == len(before["wu-overdue-grid.rowData"])
    assert any(e["actor"] == "chair" and (e.get("detail") or {}).get("procedure") == P2
               for e in _audit(app, "overdue_view"))


def test_the_action_lists_of_another_ward_are_empty_for_a_ward_chair(app):
    c = _client(app, "chair")
    out = call(c, app, "wu-due-grid.rowData", {**WARD, "wu-unit.value": OTHER, "wu-proc-filter.value": None})
    assert out["wu-due-grid.rowData"] == [] and out["wu-overdue-grid.rowData"] == []
    assert "UI-SOON-OTHER" not in _text(out) and UNITS[OTHER][0] not in _text(out)
    leader = call(_client(app, "leader"), app, "wu-due-grid.rowData", {**WARD, "wu-unit.value": OTHER})
    assert "UI-SOON-OTHER" in {r["dossier_id"] for r in leader["wu-due-grid.rowData"]}


# --- the dossier detail --------------------------------------------------------------------------------

def _dossier(client, app, dossier_id, lang="vi"):
    return call(client, app, "do-body.children",
                {"shell-lang.data": lang, "shell-version.data": None, "do-id.data": dossier_id})


def test_dossier_detail_with_its_stored_versions(app):
    c = _client(app, "chair")
    out = _dossier(c, app, "UI-HIST")
    text = _text(out)
    assert out["do-title.children"] == "Hồ sơ UI-HIST"
    assert "Phường Cửa Nam (00073)" in text and f"({P1})" in text and "Trực tiếp" in text and "Đang xử lý" in text
    assert "02/03/2026 08:30" in text            # received, dd/mm/yyyy HH:MM
    assert "25/03/2026 17:00" in text            # due now (the second version)
    assert "Số lần yêu cầu: 1; số ngày làm việc chờ người nộp: 2" in text
    # the history: the current version, then the replaced one (its procedure P2 and its due date 20/03)
    assert "Lịch sử các phiên bản đã lưu" in text and "Bị thay thế" in text and "Hiện tại" in text
    assert "20/03/2026 17:00" in text
    names = __import__("dashboard.data", fromlist=["procedure_names"]).procedure_names("vi")
    assert names[P2] in text
    assert any(e["actor"] == "chair" and e["target"] == "UI-HIST" and e["outcome"] == "ok"
               for e in _audit(app, "dossier_view"))
    en = _text(_dossier(c, app, "UI-HIST", "en"))
    assert "History of stored versions" in en and "Replaced" in en and "In person" in en or "in person" in en.lower()
    # a dossier never replaced says so
    assert "chỉ có phiên bản hiện tại" in _text(_dossier(c, app, "UI-SOON-P1"))


def test_dossier_of_another_ward_is_out_of_scope_and_an_unknown_id_not_found(app):
    c = _client(app, "chair")
    text = _text(_dossier(c, app, "UI-SOON-OTHER"))
    assert "ngoài phạm vi" in text
    assert UNITS[OTHER][0] not in text and OTHER not in text and "17/03/2026" not in text
    assert any(e["actor"] == "chair" and e["target"] == "UI-SOON-OTHER" and e["outcome"] == "denied"
               for e in _audit(app, "dossier_view"))
    assert "Không tìm thấy hồ sơ" in _text(_dossier(c, app, "NO-SUCH-DOSSIER"))
    assert "Không tìm thấy hồ sơ" in _text(_dossier(c, app, "x' OR '1'='1"))
    assert "Chưa chọn hồ sơ" in _text(_dossier(c, app, None))
    # the leader sees it
    assert "Phường Hoàn Kiếm (00070)" in _text(_dossier(_client(app, "leader"), app, "UI-SOON-OTHER"))
    # the page itself: the id from the address into the store
    page = c.get("/dossier?id=UI-HIST")
    assert page.status_code == 200


# --- the bell ------------------------------------------------------------------------------------------

def _notify(app, user: str, n: int, start: datetime | None = None) -> list[int]:
    """n in-app notifications of `user`, one minute apart (the last one newest)."""
    from sqlalchemy import select

    from access.models import User
    from alerts.models import Notification

    start = start or datetime(2026, 3, 16, 0, 30, tzinfo=UTC)
    made = []
    with app.db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == user))
        for i in range(n):
            note = Notification(user_id=uid, title=f"Thông báo {i + 1}: hồ sơ sắp đến hạn",
                                body=f"UI-SOON-P1 · {P1} · còn 1 ngày làm việc", link="/ward?unit=00073",
                                created_at=start + timedelta(minutes=i))
            s.add(note)
            s.flush()
            made.append(note.id)
    return made


def _layout_text(client) -> str:
    return _text(client.get("/_dash-layout").get_json())


def _node(tree, cid: str) -> dict | None:
    """The component with id `cid` in a layout's JSON: its props."""
    if isinstance(tree, list):
        return next((n for n in (_node(x, cid) for x in tree) if n is not None), None)
    if not isinstance(tree, dict):
        return None
    props = tree.get("props")
    if isinstance(props, dict):
        if props.get("id") == cid:
            return props
        return _node(props.get("children"), cid)
    return None


def test_the_bell_shows_the_unread_count_and_follows_the_tick(app):
    from alerts import store

    store.mark_read(app.db, "leader")
    _notify(app, "leader", 3)
    c = _client(app, "leader")
    layout = _layout_text(c)
    bell = _node(c.get("/_dash-layout").get_json(), "shell-bell")
    assert bell["aria-label"] == "3 thông báo chưa đọc" and bell["href"] == "/alerts"
    assert _node(bell["children"], "shell-bell-count")["children"] == "3"
    out = call(c, app, "shell-bell-count.children", {"shell-tick.n_intervals": 1, "shell-lang.data": "en"})
    assert out["shell-bell.aria-label"] == "3 unread notifications" and out["shell-bell-count.children"] == "3"
    assert "d-none" not in out["shell-bell-count.className"]
    _notify(app, "leader", 1, datetime(2026, 3, 16, 2, 0, tzinfo=UTC))
    out = call(c, app, "shell-bell-count.children", {"shell-tick.n_intervals": 2, "shell-lang.data": "vi"})
    assert out["shell-bell.aria-label"] == "4 thông báo chưa đọc" and out["shell-bell-count.children"] == "4"
    store.mark_read(app.db, "leader")
    out = call(c, app, "shell-bell-count.children", {"shell-tick.n_intervals": 3, "shell-lang.data": "en"})
    assert out["shell-bell.aria-label"] == "No unread notifications" and "d-none" in out["shell-bell-count.className"]
    one = call(c, app, "shell-bell-count.children", {"shell-tick.n_intervals": 4, "shell-lang.data": "en"})
    assert one["shell-bell-count.children"] == ""
    assert '"nav-alerts"' in layout  # the page is in the navigation


def test_no_bell_with_sign_in_off(world):
    from dataclasses import replace

    from dashboard.app import create_app

    off = create_app(replace(world, auth="off"), refresh_s=600)
    tree = off.server.test_client().get("/_dash-layout").get_json()
    bell = _node(tree, "shell-bell")
    assert bell["hidden"] is True and "aria-label" not in bell
    nav = _text(tree).split('"nav-alerts"')[1][:300]
    assert '"d-none"' in nav  # alerts belong to accounts: no link with sign-in off


# --- the alerts page -----------------------------------------------------------------------------------

ALERTS = {"shell-lang.data": "vi", "shell-tick.n_intervals": 0, "shell-bell-bump.data": 0}


def _form(**kw):
    base = {"al-add.n_clicks": 1, "al-remove.n_clicks": 0, "al-mark-read.n_clicks": 0, "shell-lang.data": "vi",
            "al-rule.value": "due_soon", "al-unit.value": HOME, "al-kpi.value": None, "al-threshold.value": None,
            "al-days.value": 2, "al-channel.value": "inapp", "al-target.value": "", "al-rules.selectedRows": None,
            "shell-bell-bump.data": 0}
    return {**base, **kw}


def test_notifications_newest_first_and_mark_as_read(app):
    from alerts import store

    store.mark_read(app.db, "chair")
    _notify(app, "chair", 3)
    c = _client(app, "chair")
    out = call(c, app, "al-notifs.children", ALERTS)
    text = _text(out["al-notifs.children"])
    assert text.index("Thông báo 3") < text.index("Thông báo 2") < text.index("Thông báo 1")  # newest first
    assert out["al-notifs-title.children"] == "Thông báo: 3 chưa đọc" and out["al-mark-read.disabled"] is False
    assert "07:32" in text and "16/03/2026" in text   # 00:32 UTC is 07:32 in Hanoi
    assert '"/ward?unit=00073"' in text
    done = call(c, app, "al-message.children", _form(**{"al-add.n_clicks": 0, "al-mark-read.n_clicks": 1}),
                trigger="al-mark-read.n_clicks")
    assert done["al-message.children"] == "Đã đánh dấu 3 thông báo là đã đọc." and done["shell-bell-bump.data"] == 1
    assert store.unread_count(app.db, "chair") == 0
    again = call(c, app, "al-notifs.children", {**ALERTS, "shell-bell-bump.data": 1})
    assert again["al-mark-read.disabled"] is True and again["al-notifs-title.children"] == "Thông báo"


def test_a_ward_chair_adds_and_removes_a_rule_of_their_ward_and_cannot_add_another(app):
    from alerts import store

    c = _client(app, "chair")
    refused = call(c, app, "al-message.children", _form(**{"al-unit.value": OTHER}), trigger="al-add.n_clicks")
    said = _text(refused)
    assert "ngoài phạm vi của bạn (Phường Cửa Nam)" in said, said
    assert UNITS[OTHER][0] not in said and f'"{OTHER}"' not in said and "shell-bell-bump.data" not in refused
    assert not [r for r in store.list_rules(app.db, "chair") if r.unit == OTHER]
    assert any(e["outcome"] == "denied" for e in _audit(app, "alert_rule_add"))
    en = call(c, app, "al-message.children", _form(**{"al-unit.value": OTHER, "shell-lang.data": "en"}),
              trigger="al-add.n_clicks")
    assert "outside your scope (Cua Nam Ward)" in _text(en) or "outside your scope" in _text(en)

    added = call(c, app, "al-message.children", _form(**{"al-days.value": 3}), trigger="al-add.n_clicks")
    assert added["al-message.children"].startswith("Đã thêm quy tắc: Hồ sơ sắp đến hạn")
    mine = [r for r in store.list_rules(app.db, "chair") if r.rule == "due_soon" and r.days == 3]
    assert len(mine) == 1 and mine[0].unit == HOME and mine[0].channel == "inapp"
    listed = call(c, app, "al-rules.rowData", {**ALERTS, "shell-bell-bump.data": added["shell-bell-bump.data"]})
    row = next(r for r in listed["al-rules.rowData"] if r["id"] == mine[0].id)
    assert row["unit"] == "Phường Cửa Nam (00073)" and row["channel"] == "Trong ứng dụng" and row["days"] == 3

    # e-mail: the store checks the address; a bad one is refused with its reason
    bad = call(c, app, "al-message.children", _form(**{"al-channel.value": "email", "al-target.value": "not-an-address"}),
               trigger="al-add.n_clicks")
    assert "Không thêm được quy tắc" in _text(bad)
    mail = call(c, app, "al-message.children", _form(**{"al-rule.value": "overdue", "al-threshold.value": 5,
                                                        "al-channel.value": "email",
                                                        "al-target.value": "cuanam@hanoi.gov.vn"}),
                trigger="al-add.n_clicks")
    assert "Đã thêm quy tắc" in _text(mail)
    assert any(r.channel == "email:cuanam@hanoi.gov.vn" and r.threshold == 5 for r in store.list_rules(app.db, "chair"))
    assert "Ngưỡng và số ngày phải là số" in _text(call(c, app, "al-message.children", _form(**{"al-days.value": 1.5}),
                                                       trigger="al-add.n_clicks"))

    # remove the selected rule; another user's rule is not theirs to remove
    leader_rule = store.add_rule(app.db, username="leader", rule="status_change", actor="leader")
    gone = call(c, app, "al-message.children", _form(**{"al-add.n_clicks": 0, "al-remove.n_clicks": 1,
                                                        "al-rules.selectedRows": [{"id": mine[0].id}]}),
                trigger="al-remove.n_clicks")
    assert gone["al-message.children"] == "Đã xóa quy tắc." and mine[0].id not in {r.id for r in store.list_rules(app.db)}
    nope = call(c, app, "al-message.children", _form(**{"al-add.n_clicks": 0, "al-remove.n_clicks": 2,
                                                        "al-rules.selectedRows": [{"id": leader_rule.id}]}),
                trigger="al-remove.n_clicks")
    assert "Chọn một quy tắc của bạn" in _text(nope) and leader_rule.id in {r.id for r in store.list_rules(app.db)}


def test_the_form_shows_the_fields_of_the_chosen_rule(app):
    c = _client(app, "chair")
    out = call(c, app, "al-f-help.children", {"al-rule.value": "threshold", "al-channel.value": "inapp",
                                              "shell-lang.data": "vi", "al-days.value": 2}, trigger="al-rule.value")
    assert out["al-f-kpi.style"] is None and out["al-f-threshold.style"] is None
    assert out["al-f-days.style"] == {"display": "none"} and out["al-f-target.style"] == {"display": "none"}
    out = call(c, app, "al-f-help.children", {"al-rule.value": "ingest_failed", "al-channel.value": "webhook",
                                              "shell-lang.data": "en"}, trigger="al-channel.value")
    assert out["al-f-unit.style"] == {"display": "none"} and out["al-f-target.style"] is None
    assert out["al-f-help.children"] == "Tells you when a data load fails."
    # the unit choices are the chair's own (components.unit_options filters by scope)
    layout = c.get("/_dash-layout")
    assert layout.status_code == 200


def _delivery(app, user: str, status: str, error: str | None = None) -> None:
    from sqlalchemy import select

    from access.models import User
    from alerts.models import AlertDelivery, AlertEvent, AlertRule

    with app.db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == user))
        rule = AlertRule(user_id=uid, rule="due_soon", unit_code=HOME if user == "chair" else None, days=2,
                         channel="webhook:https://hooks.example.vn/secret-path?token=abc", enabled=True,
                         created_by="test")
        s.add(rule)
        s.flush()
        event = AlertEvent(rule_id=rule.id, dedupe_key=f"{user}-{status}", payload={"unit": rule.unit_code})
        s.add(event)
        s.flush()
        s.add(AlertDelivery(event_id=event.id, channel=rule.channel, status=status, attempts=3 if error else 1,
                            error=error, at=datetime(2026, 3, 16, 0, 31, tzinfo=UTC)))


def test_delivery_log_admin_sees_every_user_others_their_own(app):
    _delivery(app, "chair", "failed", "SMTP 451: try again later")
    _delivery(app, "leader", "sent")
    admin = call(_client(app, "admin"), app, "al-log.rowData", ALERTS)
    users = {r["username"] for r in admin["al-log.rowData"]}
    assert {"chair", "leader"} <= users and any(c["field"] == "username" for c in admin["al-log.columnDefs"])
    assert "Của mọi người dùng" in admin["al-log-note.children"]
    chair = call(_client(app, "chair"), app, "al-log.rowData", ALERTS)
    rows = chair["al-log.rowData"]
    assert rows and {r["username"] for r in rows} == {"chair"}
    failed = next(r for r in rows if r["error"])
    assert failed["status_label"] == "Gửi không được" and failed["attempts"] == 3 and "SMTP 451" in failed["error"]
    assert failed["channel"] == "Webhook: hooks.example.vn"  # the host only: a webhook's path may hold a secret
    assert "secret-path" not in _text(chair) and "token=abc" not in _text(chair)
    assert not any(c["field"] == "username" for c in chair["al-log.columnDefs"])


def test_the_alerts_page_needs_an_account(world):
    """With sign-in off there is no account: the page says alerts belong to accounts, and adds nothing."""
    from dataclasses import replace

    from dashboard.app import create_app

    off = create_app(replace(world, auth="off"), refresh_s=600)
    c = off.server.test_client()
    assert c.get("/alerts").status_code == 200
    out = call(c, off, "al-notifs.children", ALERTS)
    assert "Cảnh báo thuộc về tài khoản" in _text(out["al-notifs.children"]) and out["al-rules.rowData"] == []
    said = call(c, off, "al-message.children", _form(), trigger="al-add.n_clicks")
    assert "Cảnh báo thuộc về tài khoản" in _text(said) and "shell-bell-bump.data" not in said


# --- the procedure filter in the address, the due-soon download ------------------------------------------

ADDRESS = '{"page":"ward","type":"url-state"}.data'


def _page(client, app, search: str):
    out = call(client, app, "_pages_content.children",
               {"_pages_location.pathname": "/ward", "_pages_location.search": search})
    return out["_pages_content.children"]


def test_the_procedure_filter_is_in_the_address_and_a_link_reproduces_it(app):
    c = _client(app, "chair")
    # the filter's value (a click on the procedures grid, the dropdown) goes into the address with the others
    out = call(c, app, ADDRESS, {"wu-unit.value": HOME, "wu-period.value": "2026-02", "wu-trend-kpi.value": None,
                                 "wu-proc-filter.value": P2}, trigger="wu-proc-filter.value")
    assert out[ADDRESS] == {"unit": HOME, "period": "2026-02", "trend": None, "procedure": P2}
    cleared = call(c, app, ADDRESS, {"wu-unit.value": HOME, "wu-period.value": "2026-02", "wu-proc-filter.value": None})
    assert cleared[ADDRESS]["procedure"] is None
    # not a procedure code, or another ward's page: left out of the address
    assert call(c, app, ADDRESS, {"wu-unit.value": HOME, "wu-proc-filter.value": "'; DROP"})[ADDRESS]["procedure"] is None
    other = call(c, app, ADDRESS, {"wu-unit.value": OTHER, "wu-proc-filter.value": P2})[ADDRESS]
    assert other["unit"] is None and other["procedure"] is None
    # the link opens the page with the filter set (the dropdown has it as its value and as an option) …
    tree = _page(c, app, f"?unit={HOME}&procedure={P2}")
    dropdown = _node(tree, "wu-proc-filter")
    assert dropdown["value"] == P2 and [o["value"] for o in dropdown["options"]] == [P2]
    # … so the lists' first call is the filtered one
    lists = _lists(c, app, dropdown["value"])
    assert {r["procedure_code"] for r in lists["wu-due-grid.rowData"] + lists["wu-overdue-grid.rowData"]} == {P2}
    for bad in (f"?unit={HOME}", f"?unit={HOME}&procedure=NOT-A-CODE", f"?unit={HOME}&procedure=%27%3B+DROP"):
        dropdown = _node(_page(c, app, bad), "wu-proc-filter")
        assert dropdown["value"] is None and dropdown["options"] == []


def test_the_due_soon_list_downloads_as_the_overdue_list_does(app):
    import base64
    import io

    import openpyxl

    c = _client(app, "chair")
    tree = _page(c, app, f"?unit={HOME}")
    menus = {n["props"]["id"]["name"] for n in _walk(tree) if isinstance(n.get("props", {}).get("id"), dict)
             and n["props"]["id"].get("type") == "dl-menu"}
    assert {"due", "overdue"} <= menus
    rows = _lists(c, app)["wu-due-grid.rowData"]
    item = {"type": "dl", "page": "ward", "table": "due", "fmt": "xlsx"}
    key = _key(app, "wu-download.data")
    cb = app.callback_map[key]
    values = {"shell-lang.data": "vi", "wu-due-grid.rowData": rows, "wu-due-grid.virtualRowData": rows[:1],
              "wu-unit.value": HOME, "wu-period.value": "2026-03"}

    def spec(items):
        out = []
        for i in items:
            if '["ALL"]' in (i["id"] if isinstance(i["id"], str) else json.dumps(i["id"])):  # a pattern: the items
                out.append([{"id": item, "property": "n_clicks", "value": 1}] if i["property"] == "n_clicks" else [])
            else:
                out.append({"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")})
        return out
    body = {"output": key, "outputs": {"id": "wu-download", "property": "data"}, "inputs": spec(cb["inputs"]),
            "state": spec(cb["state"]),
            "changedPropIds": [json.dumps(item, sort_keys=True, separators=(",", ":")) + ".n_clicks"]}
    r = c.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    sent = r.get_json()["response"]["wu-download"]["data"]
    assert sent["filename"].startswith("r57-ho-so-sap-den-han-00073") and sent["filename"].endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    sheet = wb.worksheets[-1]
    cells = [[c_.value for c_ in row] for row in sheet.iter_rows()]
    text = json.dumps(cells, ensure_ascii=False, default=str)
    assert rows[0]["dossier_id"] in text and (len(rows) == 1 or rows[1]["dossier_id"] not in text)  # as shown
    assert "Số ngày làm việc còn lại" in text
    assert any(e["actor"] == "chair" for e in _audit(app, "export"))


def _walk(tree):
    if isinstance(tree, dict):
        yield tree
        for v in (tree.get("props") or {}).values():
            yield from _walk(v)
    elif isinstance(tree, list):
        for x in tree:
            yield from _walk(x)
