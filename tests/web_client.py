"""The server with sign-in on, through Flask's test client (tests/test_access_web.py, tests/test_alerts_ui.py):
the app as `make run` builds it with three accounts, the real /login form (its CSRF field), a signed-in
client, the audit log, and the reference units' names."""

from __future__ import annotations

import csv
import re

import config

HOME = "00073"  # Phường Cửa Nam: the ward chair's ward
PASSWORDS = {"chair": "cua-nam-2026-x", "leader": "lanh-dao-2026-x", "admin": "quan-tri-2026-x"}


def _units() -> dict[str, tuple[str, str]]:
    with (config.REFERENCE_DIR / "units.csv").open(encoding="utf-8") as fh:
        return {r["unit_code"]: (r["name"], r["name_en"]) for r in csv.DictReader(fh)}


UNITS = _units()  # unit code -> (Vietnamese name, English name), from the reference data


def seeded_world(tmp, now, per_day: int, days: int = 45):
    """Settings of a demo warehouse in `tmp` (sign-in on, a rate limit the callback tests never reach),
    seeded with `days` of demo data ending at `now` and published as a serving snapshot."""
    from config import load_settings
    from demo.seed import seed_demo
    from warehouse.db import open_writer, publish_snapshot

    settings = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb", auth="on", rate_limit="100000 per minute")
    con = open_writer(settings)
    try:
        seed_demo(con, settings, days=days, per_day=per_day, now=now)
        publish_snapshot(con, settings)
    finally:
        con.close()
    return settings


def web_with_accounts(settings):
    """app.build_web(settings) with its application database as `.db` and three accounts: `chair` (ward chair of
    HOME), `leader` and `admin`, their passwords in PASSWORDS."""
    import app as application
    from access.db import get_appdb
    from access.users import add_user

    db = get_appdb(settings)
    add_user(db, "chair", "ward", [HOME], password=PASSWORDS["chair"], display_name="Chủ tịch UBND phường")
    add_user(db, "leader", "leader", password=PASSWORDS["leader"])
    add_user(db, "admin", "admin", password=PASSWORDS["admin"])
    web = application.build_web(settings)
    web.db = db
    return web


def csrf(html: str) -> str:
    """The CSRF token of a form page."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)


def sign_in(client, user: str, password: str | None = None, next_path: str = "/"):
    """Post the /login form as a browser does (the CSRF token from the form); the response."""
    form = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": user, "password": password or PASSWORDS[user],
                                       "csrf_token": csrf(form), "next": next_path})


def signed_in(app, user: str | None = None):
    """A test client of `app`, signed in as `user` (none: not signed in)."""
    c = app.server.test_client()
    if user:
        r = sign_in(c, user)
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def audit(app, action: str, actor: str | None = None) -> list[dict]:
    """The audit log's `action` events (by `actor`), newest first."""
    from access.audit import events

    return [e for e in events(app.db, action=action) if actor is None or e["actor"] == actor]


# --- a Dash callback through the server, as the renderer calls it ------------------------------------------

def callback_key(app, output: str) -> str:
    """The callback whose outputs include `output` ('id.prop')."""
    keys = [k for k in app.callback_map if f"..{output}.." in f"..{k}.." or k == output
            or re.search(rf"(^|\.\.){re.escape(output)}(\.\.|$)", k)]
    assert len(keys) == 1, (output, keys)
    return keys[0]


def post(client, app, output: str, values: dict, trigger: str | None = None):
    """POST one callback as the renderer does: inputs and states from `values` {'id.prop': value}; the response."""
    key = callback_key(app, output)
    cb = app.callback_map[key]

    def spec(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]

    outs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
    inputs = cb["inputs"]
    body = {"output": key, "outputs": [{"id": o.component_id, "property": o.component_property} for o in outs]
            if len(outs) > 1 else {"id": outs[0].component_id, "property": outs[0].component_property},
            "inputs": spec(inputs), "state": spec(cb.get("state", [])),
            "changedPropIds": [trigger or f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    return client.post("/_dash-update-component", json=body)


def call(client, app, output: str, values: dict, trigger: str | None = None):
    """post(), and the answer's {'id.prop': value} (status 204: {})."""
    r = post(client, app, output, values, trigger)
    if r.status_code == 204:
        return {}
    assert r.status_code == 200, r.get_data(as_text=True)[:800]
    resp = r.get_json()["response"]
    return {f"{cid}.{prop}": v for cid, props in resp.items() for prop, v in props.items()}
