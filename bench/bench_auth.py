"""What sign-in and scope cost per request (issue 10): the same requests to the same app, built twice on the
same snapshot — sign-in on (a signed-in leader, an API token for every unit: the same work) and sign-in off
(R57_AUTH=off) — interleaved rep by rep so both see the same machine. A script, not a test.

    python bench/bench_auth.py --warehouse data/warehouse.duckdb [--reps 40]

Prints per request the median and min–max in ms for auth off and on, and the difference of the medians.
Target: overhead ≤ 5 ms per request. The application database is a fresh SQLite file in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARD = "00073"


def _callback(app, unit: str) -> dict:
    """The ward page's main callback for `unit`, as the browser sends it (found in the app's callback map)."""
    key = next(k for k in app.callback_map if k.startswith("..wu-title.children"))
    cb = app.callback_map[key]
    outputs = [{"id": o.component_id, "property": o.component_property} for o in cb["output"]]
    values = {"shell-lang": "vi", "wu-unit": unit}
    return {"output": key, "outputs": outputs,
            "inputs": [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in cb["inputs"]],
            "state": [], "changedPropIds": ["wu-unit.value"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    os.environ.setdefault("R57_RATE_LIMIT", "1000000 per minute")  # the limit is not what is measured

    import app as application
    from access.db import get_appdb
    from access.tokens import add_token
    from access.users import add_user
    from config import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="r57-bench-auth-"))
    base = load_settings(warehouse=args.warehouse)
    on_settings = replace(base, auth="on", app_db=f"sqlite:///{tmp / 'app.sqlite3'}", secret_key="bench")
    off_settings = replace(base, auth="off", app_db=f"sqlite:///{tmp / 'off.sqlite3'}", secret_key="bench")
    db = get_appdb(on_settings)
    add_user(db, "leader", "leader", password="bench-password-2")
    token = add_token(db, "bench")[1]  # every unit: the same work as auth off, so the difference is the guard
    on, off = application.build_web(on_settings), application.build_web(off_settings)

    def signed_in(user: str, password: str):
        c = on.server.test_client()
        form = c.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        assert c.post("/login", data={"username": user, "password": password, "csrf_token": csrf}).status_code == 302
        return c

    leader, anon = signed_in("leader", "bench-password-2"), off.server.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    ward_cb = _callback(on, WARD)
    cases = [
        ("API city value (token)", lambda c, h: c.get("/api/v1/values?kpi=on_time_rate", headers=h)),
        ("API by unit (token)", lambda c, h: c.get("/api/v1/values?kpi=on_time_rate&by=unit_code", headers=h)),
        ("API kpis (token)", lambda c, h: c.get("/api/v1/kpis", headers=h)),
        ("ward page callback (leader)", lambda c, h: c.post("/_dash-update-component", json=ward_cb)),
        ("page HTML /", lambda c, h: c.get("/")),
    ]
    print(f"warehouse {args.warehouse}; {args.reps} reps each, interleaved; ms")
    print(f"{'request':32} {'auth off: median (min–max)':>30} {'auth on: median (min–max)':>30} {'overhead':>9}")
    for name, call in cases:
        client_on = leader
        headers_on = bearer if "token" in name else {}
        for c, h in ((anon, {}), (client_on, headers_on)):  # warm: memos, first-query compile
            r = call(c, h)
            assert r.status_code == 200, (name, r.status_code, r.get_data(as_text=True)[:200])
        t_off, t_on = [], []
        for _ in range(args.reps):
            for c, h, out in ((anon, {}, t_off), (client_on, headers_on, t_on)):
                t = time.perf_counter()
                call(c, h)
                out.append((time.perf_counter() - t) * 1000)
        m_off, m_on = statistics.median(t_off), statistics.median(t_on)
        print(f"{name:32} {m_off:10.2f} ({min(t_off):7.2f}–{max(t_off):7.2f}) "
              f"{m_on:10.2f} ({min(t_on):7.2f}–{max(t_on):7.2f}) {m_on - m_off:+9.2f}")


if __name__ == "__main__":
    main()
