"""Alerts (issue 11): rules in the application database (SQLite and PostgreSQL), evaluation over a small real
warehouse with a frozen clock, delivery to a real SMTP server (aiosmtpd) and a local webhook receiver.

The warehouse (times in Hanoi): Phường Cửa Nam (00073) is on time in October 2026 (30 of 30) and half late
in November (15 of 30), against the on-time target of 100 %: "achieved" in October, "deteriorating" in
November. L1 (Cửa Nam) and B1 (Ba Đình, 00004) are open and overdue since 19/11/2026; S1 (Cửa Nam) is due
Tuesday 8/12/2026; T1 (Cửa Nam) is due on the first working day after Tết 2027.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
import time
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from access import audit, users
from access.db import open_appdb
from alerts import store
from alerts.deliver import deliver, in_quiet_hours, run, send_test
from alerts.evaluate import evaluate, working_hours
from metrics import overdue_list
from metrics.aggregates import refresh

from .fixtures_metrics import d, ingest_rows, new_warehouse
from .hostile import find_personal_data

STATUS_NOW = datetime(2026, 12, 2, 8, 0)     # Wednesday: October and November 2026 are the two last complete months
MONDAY = datetime(2026, 12, 7, 7, 30)        # a working day at 07:30
SUNDAY = datetime(2026, 12, 6, 7, 30)


def _tet_days() -> tuple[date, date]:
    """A weekday of Tết 2027 and the first working day after the holidays."""
    import holidays

    vn = holidays.country_holidays("VN", years=[2027])
    tet = min(x for x, name in vn.items() if x.month in (1, 2) and "Lunar" in name and x.weekday() < 5)
    after = tet
    while after in vn or after.weekday() >= 5:
        after += timedelta(days=1)
    return tet, after


TET, AFTER_TET = _tet_days()


def _rows() -> list[dict]:
    rows = []
    for i in range(30):
        rows.append(d(f"Q{i}", "00073", "HT-01", "online_full", "2025-08-04 09:00", "2025-08-07 17:00",
                      "2025-08-06 10:00" if i < 24 else "2025-08-12 10:00", "completed"))
        rows.append(d(f"O{i}", "00073", "HT-01", "online_full", "2026-10-05 09:00", "2026-10-08 17:00",
                      "2026-10-07 10:00", "completed"))
        rows.append(d(f"N{i}", "00073", "HT-01", "online_full", "2026-11-02 09:00", "2026-11-05 17:00",
                      "2026-11-04 10:00" if i < 15 else "2026-11-10 10:00", "completed"))
    rows += [
        d("L1", "00073", "DD-01", "in_person", "2026-11-16 09:00", "2026-11-19 17:00"),
        d("B1", "00004", "HT-01", "online_full", "2026-11-16 09:00", "2026-11-19 17:00"),
        d("S1", "00073", "HT-01", "online_full", "2026-11-30 09:00", "2026-12-08 17:00"),
        d("T1", "00073", "CT-01", "in_person", "2027-01-25 09:00", f"{AFTER_TET.isoformat()} 17:00"),
    ]
    return rows


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = new_warehouse()
    ingest_rows(c, tmp_path_factory.mktemp("alerts_wh"), _rows(), "dossiers.csv", now=datetime(2027, 3, 1, 12, 0))
    refresh(c)
    yield c
    c.close()


@pytest.fixture
def db(db_url):
    d_ = open_appdb(db_url)
    for name, role, units in (("chair", "ward", ["00073"]), ("badinh", "ward", ["00004"]), ("leader", "leader", []),
                              ("dept", "department", ["00073"]), ("dept2", "department", ["00004"]),
                              ("admin", "admin", [])):
        users.add_user(d_, name, role, units, actor="test")
    yield d_
    d_.close()


@pytest.fixture
def cfg(tmp_path):
    return SimpleNamespace(reports_dir=tmp_path / "reports", smtp_url=None, webhook_secret=None, quiet_hours="off",
                           public_url=None, alert_langs=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on localhost; .messages holds what it received."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    handler = Handler()
    ctl = Controller(handler, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    handler.url = f"smtp://127.0.0.1:{ctl.port}?starttls=0&from=r57@hanoi.gov.vn"
    yield handler
    ctl.stop()


def _notes(db, user):
    return store.notifications(db, user)


def _all_messages(db) -> dict[str, str]:
    out = {}
    with db.session(readonly=True) as s:
        for table in ("notifications", "alert_events", "alert_deliveries"):
            out[table] = "\n".join(repr(tuple(r)) for r in s.execute(text(f"SELECT * FROM {table}")))
    return out


# --- the store ----------------------------------------------------------------------------------------

def test_rules_store_and_scope(db):
    r = store.add_rule(db, username="chair", rule="due_soon", unit="00073", channel="email:chair@example.vn",
                       actor="chair")
    assert (r.username, r.rule, r.unit, r.channel, r.enabled) == ("chair", "due_soon", "00073",
                                                                  "email:chair@example.vn", True)
    with pytest.raises(store.AlertError, match="outside the scope"):
        store.add_rule(db, username="chair", rule="overdue", unit="00004", actor="chair")  # another ward
    for bad in (dict(rule="nope"), dict(rule="overdue", channel="sms:0912"), dict(rule="overdue", channel="email:x"),
                dict(rule="threshold", kpi="on_time_rate"), dict(rule="overdue", unit="99999"),
                dict(rule="status_change", kpi="no_such_kpi")):
        with pytest.raises(store.AlertError):
            store.add_rule(db, username="chair", actor="chair", **bad)
    assert store.add_rule(db, username="leader", rule="overdue", unit="00004", actor="leader").unit == "00004"
    assert [x.rule for x in store.list_rules(db, "chair")] == ["due_soon"]
    with pytest.raises(store.AlertError):
        store.remove_rule(db, r.id, actor="badinh", username="badinh")  # not their own
    store.remove_rule(db, r.id, actor="chair", username="chair")
    assert store.list_rules(db, "chair") == []
    acts = [(e["action"], e["outcome"]) for e in audit.events(db, action=None) if e["action"].startswith("alert_")]
    assert ("alert_rule_add", "denied") in acts and ("alert_rule_remove", "ok") in acts
    assert acts.count(("alert_rule_add", "ok")) == 2


def test_default_rules_per_role(db):
    assert sorted((r.rule, r.unit) for r in store.default_rules(db, "chair")) == [("due_soon", "00073"),
                                                                                   ("overdue", "00073")]
    assert store.default_rules(db, "chair") == []  # twice: nothing more
    assert sorted(r.rule for r in store.default_rules(db, "leader")) == ["escalation", "status_change"]
    assert sorted(r.rule for r in store.default_rules(db, "admin")) == ["data_stale", "ingest_failed"]


# --- evaluation with a frozen clock ---------------------------------------------------------------------

def test_status_change_october_november_once(con, db_url, db, cfg):
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", actor="t")
    store.add_rule(db, username="chair", rule="status_change", unit="00073", kpi="on_time_rate", actor="t")
    out = run(con, db, STATUS_NOW, cfg)
    assert out["events"] == 2 and out["sent"] == 2 and out["failed"] == 0
    n = _notes(db, "leader")
    assert len(n) == 1 and not n[0]["read"]
    assert n[0]["title"] == ("Tỷ lệ hồ sơ giải quyết đúng hạn – Thành phố Hà Nội: từ «Đạt mục tiêu» sang "
                             "«Đang xấu đi» (11/2026)") or "11/2026" in n[0]["title"]
    assert n[0]["link"] == "http://127.0.0.1:8050/kpi?kpi=on_time_rate"
    assert _notes(db, "chair")[0]["link"] == "http://127.0.0.1:8050/kpi?kpi=on_time_rate&unit=00073"
    assert store.unread_count(db, "leader") == 1
    # running again sends nothing
    assert run(con, db, STATUS_NOW + timedelta(minutes=15), cfg)["events"] == 0
    # a restart (a new AppDB on the same database) sends nothing either
    db2 = open_appdb(db_url)
    try:
        assert run(con, db2, STATUS_NOW + timedelta(hours=1), cfg) == {"events": 0, "by_rule": {}, "sent": 0,
                                                                       "failed": 0, "suppressed": 0, "deferred": 0}
        assert len(_notes(db2, "leader")) == 1
    finally:
        db2.close()
    store.mark_read(db, "leader")
    assert store.unread_count(db, "leader") == 0 and _notes(db, "leader")[0]["read"]
    log = store.deliveries(db)
    assert {(x["username"], x["rule"], x["status"], x["channel"]) for x in log} == {
        ("leader", "status_change", "sent", "inapp"), ("chair", "status_change", "sent", "inapp")}


def test_status_words(con, db, cfg):
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", actor="t")
    [e] = evaluate(con, db, STATUS_NOW, cfg)
    assert e.payload["old_status"] == "achieved" and e.payload["new_status"] == "deteriorating"
    assert e.dedupe_key == "status:on_time_rate:01:2026-11"
    assert "on_time_rate" not in e.title("vi") and "On-time rate" in e.title("en")


def test_threshold(con, db, cfg):
    store.add_rule(db, username="chair", rule="threshold", unit="00073", kpi="on_time_rate", threshold=80, actor="t")
    store.add_rule(db, username="chair", rule="threshold", unit="00073", kpi="on_time_rate", threshold=30, actor="t")
    [e] = evaluate(con, db, STATUS_NOW, cfg)
    assert (e.payload["direction"], e.payload["threshold"], e.payload["value"]) == ("below", 80.0, 50.0)
    assert evaluate(con, db, STATUS_NOW, cfg) == []


def test_escalation_after_m_days(con, db, cfg):
    days = int(overdue_list(con, "00073", now=STATUS_NOW).set_index("dossier_id").loc["L1", "working_days_overdue"])
    assert days >= 5
    for user in ("leader", "dept", "dept2"):
        store.add_rule(db, username=user, rule="escalation", days=days, actor="t")
    assert evaluate(con, db, STATUS_NOW, cfg) == []  # overdue by exactly M days: not yet
    for user in ("leader", "dept", "dept2"):
        store.add_rule(db, username=user, rule="escalation", days=days - 1, actor="t")
    got = {e.username: sorted(x["dossier_id"] for x in e.payload["dossiers"]) for e in evaluate(con, db, STATUS_NOW, cfg)}
    assert got == {"leader": ["B1", "L1"], "dept": ["L1"], "dept2": ["B1"]}
    assert evaluate(con, db, STATUS_NOW, cfg) == []  # once a day
    assert len(evaluate(con, db, STATUS_NOW + timedelta(days=1), cfg)) == 6  # a day later the M-day rules too


def test_overdue_backlog_and_days(con, db, cfg):
    store.add_rule(db, username="chair", rule="overdue", unit="00073", threshold=0, actor="t")
    store.add_rule(db, username="chair", rule="overdue", unit="00073", days=100, actor="t")
    store.add_rule(db, username="badinh", rule="overdue", actor="t")  # unit None: the owner's scope
    evs = evaluate(con, db, STATUS_NOW, cfg)
    assert sorted((e.username, e.unit, e.payload["count"]) for e in evs) == [("badinh", "00004", 1),
                                                                             ("chair", "00073", 1)]
    chair = next(e for e in evs if e.username == "chair")
    assert chair.lines("vi")[0].startswith("L1 · Cấp giấy chứng nhận quyền sử dụng đất · quá hạn ")
    assert chair.link == "http://127.0.0.1:8050/ward?unit=00073"


def test_due_soon_digest_working_days_only(con, db, cfg):
    store.add_rule(db, username="chair", rule="due_soon", unit="00073", actor="t")
    assert evaluate(con, db, SUNDAY, cfg) == []                          # Sunday
    assert evaluate(con, db, MONDAY - timedelta(minutes=1), cfg) == []   # before 07:30
    [e] = evaluate(con, db, MONDAY, cfg)
    assert [x["dossier_id"] for x in e.payload["dossiers"]] == ["S1"] and e.payload["digest"]
    assert e.dedupe_key == "due_soon:00073:2:2026-12-07"
    assert evaluate(con, db, MONDAY + timedelta(hours=2), cfg) == []     # once a day
    tet = datetime.combine(TET, datetime.min.time()).replace(hour=7, minute=30)
    assert evaluate(con, db, tet, cfg) == []                              # Tết: a weekday, not a working day
    after = datetime.combine(AFTER_TET, datetime.min.time()).replace(hour=7, minute=30)
    [e] = evaluate(con, db, after, cfg)
    assert [(x["dossier_id"], x["working_days_left"]) for x in e.payload["dossiers"]] == [("T1", 0)]


def test_inapp_notifications_read_in_the_readers_language(con, db, cfg):
    store.add_rule(db, username="chair", rule="due_soon", unit="00073", actor="t")
    assert run(con, db, MONDAY, cfg)["sent"] == 1
    send_test("inapp", cfg, db, "chair")  # a test notification: no event, its stored Vietnamese words
    [vi, test_vi] = _notes(db, "chair")  # newest first: the digest's time is MONDAY
    [en, test_en] = store.notifications(db, "chair", lang="en")
    assert vi["title"].startswith("Phường Cửa Nam: 1 hồ sơ") and test_vi["title"] == "Thử kênh cảnh báo"
    assert en["title"].startswith("Cua Nam Ward: 1 dossier due") and "dossier" not in vi["title"]
    assert en["body"].startswith("S1 · ") and "working day" in en["body"] and "ngày làm việc" in vi["body"]
    assert (en["id"], en["link"], en["read"]) == (vi["id"], vi["link"], vi["read"])
    assert test_en["title"] == test_vi["title"]


def test_scheduler_digest_cron_and_jobs(tmp_path):
    from apscheduler.triggers.cron import CronTrigger

    from config import TZ, load_settings
    from service.scheduler import build_scheduler
    from service.writer import Writer

    s = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    sched = build_scheduler(Writer(s), reports=False)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert {"alerts", "alerts_on_change", "alerts_digest"} <= set(jobs)
    trig = jobs["alerts_digest"].trigger
    assert isinstance(trig, CronTrigger)
    fire = trig.get_next_fire_time(None, datetime(2026, 12, 5, 8, 0, tzinfo=TZ))  # Saturday after 07:30
    assert fire.replace(tzinfo=None) == datetime(2026, 12, 7, 7, 30)  # … Monday 07:30 (not Sunday)


def test_data_stale_and_working_hours(con, db, cfg):
    mon = date(2026, 12, 7)
    assert working_hours(datetime(2026, 12, 7, 11, 0), datetime(2026, 12, 7, 14, 0), [mon]) == 2.0
    store.add_rule(db, username="admin", rule="data_stale", threshold=16, actor="t")
    # nothing in the 90 days before 01/07/2026 from any unit (a new warehouse, say): nothing to judge
    assert evaluate(con, db, datetime(2026, 7, 1, 9, 0), cfg) == []
    evs = evaluate(con, db, datetime(2027, 1, 6, 9, 0), cfg)  # nothing received since 30/11/2026 (T1 comes later)
    assert sorted(e.unit for e in evs) == ["00004", "00073", "00376"]
    by_unit = {e.unit: e for e in evs}
    assert by_unit["00073"].payload["last_received_at"] == "2026-11-30T09:00"
    # 00376 never sent a dossier: counted from the earliest receipt of the window (N0…, 02/11/2026), once
    never = by_unit["00376"]
    assert never.dedupe_key == "stale:00376:none" and never.payload["last_received_at"] is None
    assert never.payload["since"] == "2026-11-02T09:00"
    assert never.lines("vi") == ["Chưa nhận hồ sơ nào của đơn vị kể từ 09:00 02/11/2026"]
    assert never.lines("en") == ["No dossier received from this unit since 09:00 02/11/2026"]
    assert evaluate(con, db, datetime(2027, 1, 6, 10, 0), cfg) == []
    # 01/03/2027: still nothing from 00376 (not again); 00073 silent since T1 (25/01/2027): a new outage; 00004
    # silent for longer than the 90-day window: reported once more, as nothing since the window's first receipt
    later = {e.dedupe_key: e for e in evaluate(con, db, datetime(2027, 3, 1, 10, 0), cfg)}
    assert sorted(later) == ["stale:00004:none", "stale:00073:2027-01-25T09:00"]
    assert later["stale:00004:none"].payload["since"] == "2027-01-25T09:00"


def test_ingest_failed_and_report_ready(con, db, cfg):
    from reports import manifest

    store.add_rule(db, username="admin", rule="ingest_failed", actor="t")
    store.add_rule(db, username="leader", rule="report_ready", actor="t")
    con.execute("INSERT INTO ingest_runs (run_id, source, channel, file_name, started_at, finished_at, status, error) "
                "VALUES (nextval('ingest_run_seq'), 'dossiers', 'inbox', 'bad.csv', TIMESTAMP '2026-12-01 10:00', "
                "TIMESTAMP '2026-12-01 10:00', 'failed', 'header')")
    manifest.update(cfg, "2026-11/01/vi", lambda old: {"month": "2026-11", "unit_code": "01", "lang": "vi",
                                                       "status": "ok", "files": ["r57-2026-11-01-vi.pdf"],
                                                       "finished_at": "2026-12-01T07:05:00+07:00"})
    evs = {e.rule: e for e in evaluate(con, db, STATUS_NOW, cfg)}
    assert set(evs) == {"ingest_failed", "report_ready"}
    assert evs["ingest_failed"].title("vi") == "Lần nạp dữ liệu thất bại: bad.csv"
    assert evs["report_ready"].payload["file_links"] == ["http://127.0.0.1:8050/reports/files/r57-2026-11-01-vi.pdf"]
    assert evaluate(con, db, STATUS_NOW + timedelta(minutes=15), cfg) == []


# --- channels and delivery ---------------------------------------------------------------------------------

def test_email_digest_received_by_smtp(con, db, cfg, smtp, tmp_path):
    cfg.smtp_url = smtp.url
    store.add_rule(db, username="chair", rule="due_soon", unit="00073", channel="email:chair@example.vn", actor="t")
    out = run(con, db, MONDAY, cfg)
    assert (out["events"], out["sent"], out["failed"]) == (1, 1, 0)
    [(sender, rcpt, raw)] = smtp.messages
    assert sender == "r57@hanoi.gov.vn" and rcpt == ["chair@example.vn"]
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "[R57 Hà Nội] Phường Cửa Nam: 1 hồ sơ đến hạn trong 2 ngày làm việc"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert plain.index("Phường Cửa Nam: 1 hồ sơ") < plain.index("Cua Nam Ward: 1 dossier due")  # Vietnamese first
    assert "S1 · Đăng ký khai sinh · hạn 08/12/2026 · còn 1 ngày làm việc" in plain
    assert "http://127.0.0.1:8050/ward?unit=00073" in plain and 'href="http://127.0.0.1:8050/ward?unit=00073"' in html
    (Path(os.environ.get("R57_TEST_ARTIFACTS", tmp_path)) / "alert-email.txt").write_bytes(raw)
    assert run(con, db, MONDAY + timedelta(minutes=15), cfg)["events"] == 0 and len(smtp.messages) == 1
    [log] = store.deliveries(db, "chair")
    assert (log["status"], log["attempts"], log["channel"]) == ("sent", 1, "email:chair@example.vn")


def test_quiet_hours_hold_email_not_inapp(con, db, cfg, smtp):
    cfg.smtp_url, cfg.quiet_hours = smtp.url, "21:00-06:30"
    assert in_quiet_hours(datetime(2026, 12, 2, 22, 0), cfg) and in_quiet_hours(datetime(2026, 12, 3, 6, 29), cfg)
    assert not in_quiet_hours(datetime(2026, 12, 3, 6, 30), cfg)
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", channel="email:lead@example.vn",
                   actor="t")
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", actor="t")
    night = datetime(2026, 12, 2, 22, 0)
    out = run(con, db, night, cfg)
    assert (out["events"], out["sent"], out["suppressed"]) == (2, 1, 1) and smtp.messages == []
    assert run(con, db, night + timedelta(hours=1), cfg)["suppressed"] == 0  # held once, logged once
    out = run(con, db, datetime(2026, 12, 3, 6, 45), cfg)
    assert (out["events"], out["sent"]) == (0, 1) and len(smtp.messages) == 1
    statuses = sorted((x["channel"], x["status"]) for x in store.deliveries(db, "leader"))
    assert statuses == [("email:lead@example.vn", "sent"), ("email:lead@example.vn", "suppressed"), ("inapp", "sent")]


def test_failing_smtp_retried_then_failed_and_run_goes_on(con, db, cfg):
    cfg.smtp_url = f"smtp://127.0.0.1:{_free_port()}?starttls=0"  # nobody listens
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", channel="email:lead@example.vn",
                   actor="t")
    store.add_rule(db, username="chair", rule="status_change", unit="00073", kpi="on_time_rate", actor="t")
    started = time.monotonic()
    out = run(con, db, STATUS_NOW, cfg, wait_multiplier_s=0.05)
    assert time.monotonic() - started < 30
    assert (out["events"], out["sent"], out["failed"]) == (2, 1, 1)
    log = sorted((x["status"], x["attempts"]) for x in store.deliveries(db, "leader"))
    assert log == [("failed", 3), ("retrying", 1), ("retrying", 2)]
    assert "ConnectionRefusedError" in next(x for x in store.deliveries(db, "leader") if x["status"] == "failed")["error"]
    assert len(_notes(db, "chair")) == 1
    assert run(con, db, STATUS_NOW + timedelta(minutes=15), cfg, wait_multiplier_s=0.05)["failed"] == 0  # final


def test_budget_bounds_a_run(con, db, cfg):
    cfg.smtp_url = f"smtp://127.0.0.1:{_free_port()}?starttls=0"
    store.add_rule(db, username="leader", rule="status_change", kpi="on_time_rate", channel="email:a@example.vn",
                   actor="t")
    evaluate(con, db, STATUS_NOW, cfg)
    assert deliver(db, STATUS_NOW, cfg, budget_s=0) == {"sent": 0, "failed": 0, "suppressed": 0, "deferred": 1}
    assert deliver(db, STATUS_NOW, cfg, wait_multiplier_s=0.01)["failed"] == 1  # the next run takes it


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    secret = b""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(self.headers.get("X-R57-Signature", ""), good)
        type(self).received.append((ok, json.loads(body)))
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def hook():
    _Hook.received, _Hook.secret = [], b"s3cret-57"
    srv = HTTPServer(("127.0.0.1", 0), _Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook", _Hook
    srv.shutdown()
    srv.server_close()


def test_webhook_signed(con, db, cfg, hook):
    url, h = hook
    cfg.webhook_secret = "s3cret-57"
    store.add_rule(db, username="chair", rule="overdue", unit="00073", channel=f"webhook:{url}", actor="t")
    out = run(con, db, STATUS_NOW, cfg)
    assert out["sent"] == 1
    [(ok, body)] = h.received
    assert ok and body["rule"] == "overdue" and body["unit"] == "00073" and body["dossiers"][0]["dossier_id"] == "L1"
    assert body["title"].startswith("Phường Cửa Nam: 1 hồ sơ đang quá hạn")
    cfg.webhook_secret = "wrong"
    assert send_test(f"webhook:{url}", cfg)["status"] == "failed"  # 401 from the receiver


def test_no_personal_data_in_any_message(con, db, cfg, smtp, hook):
    url, h = hook
    cfg.smtp_url, cfg.webhook_secret = smtp.url, "s3cret-57"
    for user, rule, unit, channel in (("chair", "due_soon", "00073", "email:chair@example.vn"),
                                      ("chair", "overdue", "00073", f"webhook:{url}"),
                                      ("leader", "status_change", None, "inapp"), ("leader", "escalation", None, "inapp"),
                                      ("admin", "data_stale", None, "inapp"), ("admin", "ingest_failed", None, "inapp")):
        store.add_rule(db, username=user, rule=rule, unit=unit, channel=channel, actor="t", days=1 if rule == "escalation" else None)
    for now in (STATUS_NOW, MONDAY, datetime(2027, 1, 6, 9, 0)):
        run(con, db, now, cfg)
    texts = _all_messages(db)
    texts.update({f"mail{i}": m[2].decode("utf-8", "replace") for i, m in enumerate(smtp.messages)})
    texts.update({f"hook{i}": json.dumps(b, ensure_ascii=False) for i, (_, b) in enumerate(h.received)})
    assert smtp.messages and h.received and len(texts["notifications"]) > 0
    assert find_personal_data(texts) == []


def test_cli_add_list_run_test(tmp_path, con, smtp, monkeypatch):
    import app

    wh = tmp_path / "wh.duckdb"
    con.execute(f"ATTACH '{wh}' AS outwh")
    con.execute("COPY FROM DATABASE memory TO outwh")
    con.execute("DETACH outwh")
    appdb = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    d_ = open_appdb(appdb)
    users.add_user(d_, "chair", "ward", ["00073"], actor="test")
    d_.close()
    monkeypatch.setenv("R57_SMTP_URL", smtp.url)
    monkeypatch.setenv("R57_QUIET_HOURS", "off")
    common = ["--warehouse", str(wh), "--app-db", appdb]
    assert app.main(["alerts", "add", "--user", "chair", "--rule", "overdue", "--unit", "00073",
                     "--channel", "email:chair@example.vn", *common]) == 0
    assert app.main(["alerts", "add", "--user", "chair", "--rule", "overdue", "--unit", "00004", *common]) == 2
    assert app.main(["alerts", "list", "--json", *common]) == 0
    assert app.main(["alerts", "run", "--json", *common]) == 0
    assert app.main(["alerts", "test", "--channel", "email:ops@example.vn", *common]) == 0
    assert [m[1] for m in smtp.messages][-1] == ["ops@example.vn"]
    assert app.main(["alerts", "test", "--channel", "inapp", "--user", "chair", *common]) == 0
