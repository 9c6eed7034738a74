"""Sign-in, scope and the guard on a real server (issue 10): the app as `make run` builds it (dashboard + API on
one Flask server, access.web in front), a real demo warehouse, the application database in SQLite.

A ward chair of Phường Cửa Nam (00073) must never receive another unit's rows: not from a page, a callback
(every callback of every page is called with another ward as input), an API route, an export or a report.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

import config

from .web_client import (
    HOME,
    PASSWORDS,
    UNITS,
    audit,
    csrf,
    seeded_world,
    sign_in,
    signed_in,
    web_with_accounts,
)

NOW = datetime(2026, 3, 16, 12, 0)
OTHER = "00070"                         # Phường Hoàn Kiếm (HOME: Phường Cửa Nam)
FOREIGN_CODES = [c for c in UNITS if c not in (HOME, config.CITY_CODE)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # the callback tests make hundreds of requests a minute: the rate limit has its own app (limited_app)
    return seeded_world(tmp_path_factory.mktemp("access-web"), NOW, per_day=250)


@pytest.fixture(scope="module")
def app(world):
    from access.tokens import add_token

    web = web_with_accounts(world)
    db = web.db
    web.tokens = {"ward": add_token(db, "ward-system", [HOME])[1], "push": add_token(db, "push-system", push=True)[1],
                  "city": add_token(db, "city-system")[1]}
    return web


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("R57_NOW", NOW.isoformat())


# --- sign-in ---------------------------------------------------------------------------------------------

def test_pages_need_sign_in_and_the_form_is_vietnamese_first(app):
    c = signed_in(app)
    r = c.get("/ward?unit=00073")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    page = c.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Mật khẩu" in page
    assert 'name="username"' in page and 'name="password"' in page and 'type="hidden" name="csrf_token"' in page
    assert "Sign in" in c.get("/login?lang=en").get_data(as_text=True)
    assert c.post("/_dash-update-component", json={}).status_code == 401
    assert c.get("/reports/files/x.pdf").status_code == 401


def test_sign_in_sets_a_safe_cookie_and_is_audited(app):
    c = signed_in(app)
    r = sign_in(c, "chair", next_path="/ward?unit=00073")
    assert r.status_code == 302 and r.headers["Location"] == "/ward?unit=00073"
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("r57_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/").status_code == 200
    assert audit(app, "login", "chair")[0]["outcome"] == "ok"


def test_wrong_password_and_missing_csrf_are_refused(app):
    c = signed_in(app)
    form = c.get("/login").get_data(as_text=True)
    assert c.post("/login", data={"username": "leader", "password": PASSWORDS["leader"]}).status_code == 400
    r = c.post("/login", data={"username": "leader", "password": "wrong-password", "csrf_token": csrf(form)})
    assert r.status_code == 401 and "không đúng" in r.get_data(as_text=True)
    assert "r57_session" not in r.headers.get("Set-Cookie", "")
    assert any(e["outcome"] == "failed" for e in audit(app, "login", "leader"))


def test_no_open_redirect_after_sign_in(app):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        c = signed_in(app)
        assert sign_in(c, "leader", next_path=target).headers["Location"] == "/"


def test_failed_sign_ins_are_throttled(app):
    from access.users import add_user

    add_user(app.db, "victim", "leader", password="victim-pass-2026")
    c = signed_in(app)
    for _ in range(5):
        assert sign_in(c, "victim", "not-the-password").status_code == 401
    r = sign_in(c, "victim", "victim-pass-2026")  # even the right password, for 15 minutes
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_sign_out_ends_the_session(app):
    c = signed_in(app, "leader")
    page = c.get("/").get_data(as_text=True)
    assert c.get("/").status_code == 200
    token = c.get_cookie("r57_session").value
    r = c.post("/logout", data={"csrf_token": _csrf_from_session(c)})
    assert r.status_code == 302 and "signed_out" in r.headers["Location"]
    c2 = app.server.test_client()
    c2.set_cookie("r57_session", token)
    assert c2.get("/").status_code == 302, "the old session token still works after sign-out"
    assert audit(app, "logout", "leader")
    assert page  # the shell rendered


def _csrf_from_session(c) -> str:
    """The CSRF token the signed-in shell embeds in its sign-out form (Dash layout JSON)."""
    layout = c.get("/_dash-layout").get_data(as_text=True)
    m = re.search(r'"name":\s*"csrf_token".{0,80}?"value":\s*"([^"]+)"', layout) or \
        re.search(r'"value":\s*"([^"]+)".{0,80}?"name":\s*"csrf_token"', layout)
    assert m, "no sign-out form in the shell"
    return m.group(1)


def test_password_change(app):
    from access.users import add_user

    add_user(app.db, "changer", "leader", password="first-pass-2026")
    c = signed_in(app)
    assert sign_in(c, "changer", "first-pass-2026").status_code == 302
    form = c.get("/account/password").get_data(as_text=True)
    r = c.post("/account/password", data={"csrf_token": csrf(form), "current": "first-pass-2026",
                                          "new": "second-pass-2026", "repeat": "second-pass-2026"})
    assert r.status_code == 200 and "Đã đổi mật khẩu" in r.get_data(as_text=True)
    assert sign_in(signed_in(app), "changer", "second-pass-2026").status_code == 302
    assert sign_in(signed_in(app), "changer", "first-pass-2026").status_code == 401


# --- headers and limits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/v1/kpis", "/api/v1/values.csv?kpi=on_time_rate"])
def test_security_headers(app, path):
    c = signed_in(app, "leader")
    r = c.get(path, headers={"Authorization": f"Bearer {app.tokens['city']}"} if path.startswith("/api") else {})
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in \
        csp.split("script-src")[1].split(";")[0]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]
    assert "''sha" not in csp and "'sha256-" in csp  # Dash's inline scripts allowed by hash, quoted once


@pytest.fixture(scope="module")
def limited_app(world, app):
    """The same warehouse and accounts, served with the default limit (100 requests a minute)."""
    from dataclasses import replace

    import app as application

    assert config.DEFAULT_RATE_LIMIT == "100 per minute"
    return application.build_web(replace(world, rate_limit=config.DEFAULT_RATE_LIMIT))


def test_the_101st_request_in_a_minute_is_refused(limited_app, app):
    c = limited_app.server.test_client()
    auth = {"Authorization": f"Bearer {app.tokens['ward']}"}
    codes = [c.get("/api/v1/kpis", headers=auth).status_code for _ in range(101)]
    assert codes[:100] == [200] * 100 and codes[100] == 429
    r = c.get("/api/v1/kpis", headers=auth)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "error" in r.get_json()
    assert c.get("/assets/10_r57.css").status_code == 200  # static files are not counted


# --- the API -------------------------------------------------------------------------------------------------

def _api(app, token: str | None, path: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.server.test_client().get(path, headers=headers)


def test_api_needs_a_token_and_a_ward_token_sees_its_unit(app, monkeypatch):
    assert _api(app, None, "/api/v1/kpis").status_code == 401
    assert _api(app, "r57_not-a-real-token", "/api/v1/kpis").status_code == 401
    r = _api(app, app.tokens["ward"], "/api/v1/values?kpi=on_time_rate&by=unit_code&period=2026-02")
    assert r.status_code == 200
    units = {row["unit_code"] for row in r.get_json()["items"]}
    assert units == {HOME}
    city = _api(app, app.tokens["ward"], "/api/v1/values?kpi=on_time_rate&period=2026-02").get_json()["items"]
    assert {row["unit_code"] for row in city} == {config.CITY_CODE}  # the city's aggregate: everyone's
    everyone = _api(app, app.tokens["city"], "/api/v1/values?kpi=on_time_rate&by=unit_code&period=2026-02")
    assert len({row["unit_code"] for row in everyone.get_json()["items"]}) > 100
    assert _api(app, app.tokens["ward"], f"/api/v1/values?kpi=on_time_rate&unit={OTHER}").status_code == 403
    assert _api(app, app.tokens["ward"], f"/api/v1/overdue?unit={OTHER}").status_code == 403
    # the API reads the one clock (R57_NOW here): a month after the data ends, the ward has overdue dossiers
    monkeypatch.setenv("R57_NOW", "2026-04-16T12:00")
    own = _api(app, app.tokens["ward"], "/api/v1/overdue").get_json()["items"]
    assert own and {row["unit_code"] for row in own} == {HOME}
    assert audit(app, "token_use", "token:ward-system")


def test_a_kept_answer_never_crosses_scopes(app):
    """The city's answer, kept, is not the ward's: the same URL asked by a ward token is computed for its scope."""
    url = "/api/v1/values?kpi=on_time_rate&by=unit_code&from=2026-01-01&to=2026-02-28&page_size=5000"
    city = [_api(app, app.tokens["city"], url) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in city] == ["MISS", "HIT"]
    assert len({row["unit_code"] for row in city[1].get_json()["items"]}) > 100
    ward = [_api(app, app.tokens["ward"], url) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in ward] == ["MISS", "HIT"]
    assert {row["unit_code"] for row in ward[1].get_json()["items"]} == {HOME}
    assert ward[1].headers["ETag"] != city[1].headers["ETag"]
    assert _api(app, None, url).status_code == 401  # a kept answer is behind the same guard


def test_push_needs_a_push_token(app):
    c = app.server.test_client()
    body = "dossier_id,unit_code\n"
    for token, expected in ((app.tokens["ward"], 403), (app.tokens["city"], 403)):
        r = c.post("/api/v1/dossiers", data=body, headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "text/csv"})
        assert r.status_code == expected, r.get_data(as_text=True)
    r = c.post("/api/v1/dossiers", data=body, headers={"Authorization": f"Bearer {app.tokens['push']}",
                                                          "Content-Type": "text/csv"})
    assert r.status_code not in (401, 403), r.get_data(as_text=True)


def test_tokens_do_not_open_pages(app):
    assert _api(app, app.tokens["city"], "/").status_code == 403


# --- the dashboard: every callback, as a ward chair, with another ward as input ------------------------------

def _layout_values(app, client) -> dict[tuple[str, str], object]:
    """Every component property the pages' layouts set (id, prop) -> value, as a browser would send them."""
    import dash
    from flask import request as _r  # noqa: F401

    values: dict[tuple[str, str], object] = {}

    def walk(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
            return
        if not hasattr(node, "to_plotly_json"):
            return
        props = node.to_plotly_json()["props"]
        cid = props.get("id")
        if isinstance(cid, str):
            for k, v in props.items():
                if k not in ("id", "children"):
                    values.setdefault((cid, k), v)
        for k in ("children", "content", "label"):
            if k in props:
                walk(props[k])

    cookies = {"r57_session": client.get_cookie("r57_session").value}
    for page in dash.page_registry.values():
        with app.server.test_request_context(page["path"], headers={"Cookie": f"r57_session={cookies['r57_session']}"}):
            layout = page["layout"]() if callable(page["layout"]) else page["layout"]
            walk(layout)
    return values


def _cid(raw):
    """A callback id as the renderer sends it: a string, a dict, or None for a wildcard (no instance here)."""
    cid = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    if isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values()):
        return None
    return cid


def _callback_bodies(app, values: dict, foreign: str):
    """For every callback: one request with the layout's values, then one per input set to `foreign`."""
    for key, cb in app.callback_map.items():
        if "callback" not in cb:  # a clientside callback: runs in the browser, serves no data
            continue

        def spec(items, override=None):
            out = []
            for i, it in enumerate(items):
                cid = _cid(it["id"])
                if cid is None:
                    out.append([])
                    continue
                value = values.get((cid, it["property"])) if isinstance(cid, str) else None
                if it["property"] == "data" and cid == "shell-lang":
                    value = "vi"
                if override == i:
                    value = {"unit": foreign} if it["property"] == "data" and isinstance(cid, dict) else foreign
                out.append({"id": cid, "property": it["property"], "value": value})
            return out

        many = isinstance(cb["output"], list)
        outs = []
        for o in (cb["output"] if many else [cb["output"]]):
            raw = o.component_id
            cid = (None if isinstance(raw, dict) and any(not isinstance(v, (str, int, float, bool)) for v in raw.values())
                   else _cid(raw))
            outs.append([] if cid is None else {"id": cid, "property": o.component_property})
        inputs = cb["inputs"]
        for override in [None, *range(len(inputs))]:
            yield key, {"output": key, "outputs": outs if many else outs[0],
                        "inputs": spec(inputs, override), "state": spec(cb.get("state", [])),
                        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]]}


def _leaks(text: str, echo: str | None = None) -> list[str]:
    """Other units in an answer: their names (vi or en) anywhere, their codes as values; `echo` is a code the
    request itself put into an input that is not a unit (a grain, a KPI), which an answer may echo back."""
    found = [c for c in FOREIGN_CODES if c != echo and (f'"{c}"' in text or f"={c}" in text or f"({c})" in text)]
    names = [n for c in FOREIGN_CODES for n in UNITS[c] if n in text]
    return found[:5] + names[:5]


def _text(response) -> str:
    """An answer as text with its JSON's \\u escapes undone (so names with diacritics can be found)."""
    try:
        return json.dumps(json.loads(response.get_data(as_text=True)), ensure_ascii=False)
    except ValueError:
        return response.get_data(as_text=True)


def _unit_input(item: dict) -> bool:
    cid = json.dumps(item["id"]) if isinstance(item["id"], dict) else str(item["id"])
    return "unit" in cid or "url-state" in cid or item["property"] in ("search", "href", "pathname")


def test_every_callback_keeps_a_ward_chair_in_their_ward(app):
    c = signed_in(app, "chair")
    values = _layout_values(app, c)
    assert (HOME in json.dumps(list(values.values()), default=str)), "the ward page opens on the chair's ward"
    called, answered = 0, 0
    for key, body in _callback_bodies(app, values, OTHER):
        r = c.post("/_dash-update-component", json=body)
        called += 1
        text = _text(r)
        if r.status_code == 200:
            answered += 1
        overridden = [i for i in body["inputs"] if isinstance(i, dict) and i.get("value") in (OTHER, {"unit": OTHER})]
        echo = OTHER if overridden and not any(_unit_input(i) for i in overridden) else None
        leaks = _leaks(text, echo)
        assert not leaks, f"{key} with {body['inputs']} answered other units: {leaks}"
    assert called > 40 and answered > 20, (called, answered)


def test_a_leader_sees_every_ward(app):
    c = signed_in(app, "leader")
    values = _layout_values(app, c)
    bodies = [b for k, b in _callback_bodies(app, values, OTHER) if k.startswith("..wu-title")]
    texts = [_text(c.post("/_dash-update-component", json=b)) for b in bodies]
    assert any(UNITS[OTHER][0] in t for t in texts)


def test_ward_page_of_another_ward_is_an_empty_state(app):
    c = signed_in(app, "chair")
    values = _layout_values(app, c)
    body = next(b for k, b in _callback_bodies(app, values, OTHER)
                if k.startswith("..wu-title") and any(i.get("id") == "wu-unit" and i.get("value") == OTHER
                                                      for i in b["inputs"] if isinstance(i, dict)))
    text = _text(c.post("/_dash-update-component", json=body))
    assert "ngoài phạm vi" in text and UNITS[OTHER][0] not in text


def test_report_files_of_other_units_are_not_served(app, world):
    reports = world.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    for name in ("bao-cao-thang-2026-02-00073.pdf", "bao-cao-thang-2026-02-00070.pdf",
                 "bao-cao-thang-2026-02-thanh-pho.pdf"):
        (reports / name).write_bytes(b"%PDF-1.4 test")
    chair, leader = signed_in(app, "chair"), signed_in(app, "leader")
    assert chair.get("/reports/files/bao-cao-thang-2026-02-00073.pdf").status_code == 200
    assert chair.get("/reports/files/bao-cao-thang-2026-02-00070.pdf").status_code == 404
    assert chair.get("/reports/files/bao-cao-thang-2026-02-thanh-pho.pdf").status_code == 404
    assert leader.get("/reports/files/bao-cao-thang-2026-02-00070.pdf").status_code == 200
    downloads = audit(app, "report_download")
    assert {(e["actor"], e["outcome"]) for e in downloads} >= {("chair", "ok"), ("chair", "denied"), ("leader", "ok")}


# --- single sign-on ------------------------------------------------------------------------------------------

def test_openid_connect_sign_in_against_a_stub_issuer(world, tmp_path):
    from dataclasses import replace
    from urllib.parse import urlsplit

    import requests

    import app as application
    from access.db import get_appdb
    from access.users import get_user
    from tests.oidc_stub import StubIssuer

    claims = {"sub": "city-sso-4711", "preferred_username": "Nguyen.Van.A", "name": "Chủ tịch UBND phường",
              "r57_role": "ward", "r57_units": [HOME]}
    with StubIssuer(claims) as issuer:
        settings = replace(world, oidc_issuer=issuer.url, oidc_client_id="r57-dashboard", oidc_client_secret="s3cret")
        web = application.build_web(settings)
        c = web.server.test_client()
        assert "/login/oidc" in c.get("/login").get_data(as_text=True)
        start = c.get("/login/oidc?next=/wards")
        assert start.status_code == 302 and start.headers["Location"].startswith(issuer.url + "/authorize")
        back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
        assert back.status_code == 302
        callback = urlsplit(back.headers["Location"])
        done = c.get(f"{callback.path}?{callback.query}")
        assert done.status_code == 302 and done.headers["Location"] == "/wards", done.get_data(as_text=True)[:300]
        assert c.get("/").status_code == 200
        account = get_user(get_appdb(settings), "nguyen.van.a")
        assert account is not None and account.role == "ward" and account.units == (HOME,)
        assert account.oidc_subject == "city-sso-4711"
        # the identity provider decides: a role it no longer grants is refused, never half signed in
        issuer.claims["r57_role"] = "emperor"
        c2 = web.server.test_client()
        back = requests.get(c2.get("/login/oidc").headers["Location"], allow_redirects=False, timeout=10)
        callback = urlsplit(back.headers["Location"])
        refused = c2.get(f"{callback.path}?{callback.query}")
        assert refused.status_code == 302 and refused.headers["Location"].startswith("/login?sso_error=")
        assert c2.get("/").status_code == 302


def test_the_audit_log_page_is_for_administrators(app):
    body = {"output": "..au-title.children...au-note.children...au-body.children..",
            "outputs": [{"id": "au-title", "property": "children"}, {"id": "au-note", "property": "children"},
                        {"id": "au-body", "property": "children"}],
            "inputs": [{"id": "shell-lang", "property": "data", "value": "vi"},
                       {"id": "shell-version", "property": "data", "value": None}],
            "changedPropIds": ["shell-lang.data"]}
    admin, chair = signed_in(app, "admin"), signed_in(app, "chair")
    text = _text(admin.post("/_dash-update-component", json=body))
    assert '"login"' in text and '"admin"' in text and "Nhật ký truy cập" in text
    refused = _text(chair.post("/_dash-update-component", json=body))
    assert "Chỉ quản trị viên" in refused and '"login"' not in refused
    assert '"nav-audit"' in admin.get("/_dash-layout").get_data(as_text=True)
    assert '"className": "d-none"' in _text(chair.get("/_dash-layout")).split('"nav-audit"')[1][:400]
    assert '"className": "d-none"' not in _text(admin.get("/_dash-layout")).split('"nav-audit"')[1][:400]


def test_each_action_leaves_one_audit_row(app):
    from access.audit import events

    before = len(events(app.db, limit=None))
    c = signed_in(app, "leader")                                          # one sign-in
    c.get("/api/v1/values.csv?kpi=on_time_rate")                        # one export
    c.get(f"/api/v1/overdue?unit={HOME}")                               # one overdue list
    after = events(app.db, limit=None)
    new = [e["action"] for e in after[: len(after) - before]]
    assert sorted(new) == ["export", "login", "overdue_view"], new


def test_workers_starting_together_share_one_whole_secret_key(tmp_path, monkeypatch):
    """Four gunicorn workers on a new warehouse make the session key at once: each gets the same, never an
    empty one (a key written slowly used to be read empty by the others: the sign-in form was a 500)."""
    import secrets
    import threading
    import time

    from access import web
    from config import load_settings

    real = secrets.token_urlsafe

    def slow(n):
        time.sleep(0.2)
        return real(n)

    monkeypatch.setattr(web.secrets, "token_urlsafe", slow)
    settings = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb", auth="on")
    keys, start = [], threading.Barrier(8)

    def worker():
        start.wait()
        keys.append(web._secret_key(settings))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 48, keys
    assert oct((tmp_path / "wh.secret").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".wh.secret")] == []  # no temporary left
