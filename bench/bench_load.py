"""Load benchmark: N concurrent users against the production layout (gunicorn workers reading snapshots).

    python bench/bench_load.py --warehouse data/warehouse.duckdb [--users 50] [--seconds 60] [--workers 4]
                               [--think 5] [--auth] [--visit recorded|discovered]

Starts `gunicorn --workers W 'app:create_server()'` (read-only web processes; threads from gunicorn.conf.py)
on a published warehouse, then runs `--users` users for `--seconds`.

--visit recorded (the default): the overview and the ward page are opened in headless Chromium and every
request that reached the server is recorded (bench/visit.py: the page, every script, style sheet, font and
image, Dash's layout and dependencies, every callback POST with the browser's own payload), each page twice:
"first" with an empty cache, "again" with the cache of the first (Dash's fingerprinted scripts then come
from the cache). Each user's first page view is a "first" one (half the users the overview, half the ward
page), every later one an "again" one, overview and ward page in turn, replayed as the browser sent them
(six at once, each request after those that had answered before it started). Reported per page view:
first request to last answer.

--visit discovered (the earlier bench): the page, the layout, the overview callbacks found in
/_dash-dependencies (inputs the language and data version) and one API call, one after another.

Prints p50/p95/max per page view (or request kind), requests per second and errors (any answer ≥ 400, or
none). Bounded in time; talks only to 127.0.0.1.

--auth: sign-in on (issue 10): one account per user in a fresh application database (SQLite), each user
signs in through /login first and sends its session cookie; the rate limit is the default unless
R57_RATE_LIMIT is set (a 429 counts as an error).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERVIEW_INPUTS = {"shell-lang": "vi"}  # plus shell-version, read from the layout


_local = threading.local()  # each user thread's opener (its cookies: the session after sign-in)


def _open(req, timeout: float):
    opener = getattr(_local, "opener", None)
    return opener.open(req, timeout=timeout) if opener is not None else urllib.request.urlopen(req, timeout=timeout)


def _get(url: str, timeout: float = 30) -> bytes:
    with _open(url, timeout) as r:
        return r.read()


def _post(url: str, payload: dict, timeout: float = 30) -> bytes:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with _open(req, timeout) as r:
        return r.read()


def sign_in(base: str, username: str, password: str) -> None:
    """This thread signs in through the form (CSRF token from the page) and keeps the cookies."""
    import http.cookiejar
    import re
    import urllib.parse

    _local.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = _get(f"{base}/login").decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": csrf}).encode()
    with _open(urllib.request.Request(f"{base}/login", data=body, method="POST"), 30) as r:
        if "/login" in r.geturl():
            raise RuntimeError(f"sign-in of {username} failed")


def _find(layout, wanted: set[str], found: dict) -> None:
    """Collect the `data` of stores with the wanted ids from Dash's layout JSON."""
    if isinstance(layout, dict):
        props = layout.get("props", {})
        if props.get("id") in wanted and "data" in props:
            found[props["id"]] = props["data"]
        for v in props.values():
            _find(v, wanted, found)
    elif isinstance(layout, list):
        for item in layout:
            _find(item, wanted, found)


def overview_callbacks(base: str) -> list[dict]:
    """Callback payloads the overview fires on load: those whose inputs are all known stores."""
    layout = json.loads(_get(f"{base}/_dash-layout"))
    values = dict(OVERVIEW_INPUTS)
    _find(layout, {"shell-version"}, values)
    deps = json.loads(_get(f"{base}/_dash-dependencies"))
    payloads = []
    for dep in deps:
        inputs = dep.get("inputs", [])
        if not inputs or any(i["id"] not in values for i in inputs) or dep.get("prevent_initial_call"):
            continue
        states = dep.get("state") or []
        if dep.get("clientside_function") or any(not str(st["id"]).endswith("-shown") for st in states):
            continue  # a callback that needs a user's state; "-shown" (what the page shows): nothing yet
        outputs = dep["output"]
        out_specs = []
        for o in outputs.strip(".").split("..."):
            oid, prop = o.rsplit(".", 1)
            out_specs.append({"id": json.loads(oid) if oid.startswith("{") else oid, "property": prop})
        first = out_specs[0]["id"]
        if not (isinstance(first, str) and first.startswith(("ov-", "shell-"))):
            continue  # another page's callback
        payloads.append({
            "output": outputs,
            "outputs": out_specs if len(out_specs) > 1 else out_specs[0],
            "inputs": [{"id": i["id"], "property": i["property"], "value": values[i["id"]]} for i in inputs],
            "changedPropIds": [], "state": [{"id": st["id"], "property": st["property"], "value": None}
                                            for st in states],
        })
    return payloads


def user(base: str, payloads: list[dict], stop: float, lat: dict, errors: list, lock: threading.Lock,
         think: float = 0.0, account: tuple[str, str] | None = None) -> None:
    import random

    if account is not None:
        t = time.perf_counter()
        sign_in(base, *account)
        with lock:
            lat["sign-in"].append(time.perf_counter() - t)
    rnd = random.Random(threading.get_ident())
    time.sleep(rnd.uniform(0, think))  # users do not all arrive in the same millisecond
    while (not stop()) if callable(stop) else time.monotonic() < stop:  # a time, or a callable saying "stop"
        t_visit = time.perf_counter()
        ok = True
        steps = [("page", lambda: _get(f"{base}/")), ("layout", lambda: _get(f"{base}/_dash-layout")),
                 ("api", lambda: _get(f"{base}/api/v1/values?kpi=on_time_rate,online_share,satisfaction"))]
        steps += [("callback", lambda p=p: _post(f"{base}/_dash-update-component", p)) for p in payloads]
        for kind, fn in steps:
            t = time.perf_counter()
            try:
                fn()
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                ok = False
                with lock:
                    errors.append(f"{kind}: {exc}")
            with lock:
                lat[kind].append(time.perf_counter() - t)
        if ok:
            with lock:
                lat["visit"].append(time.perf_counter() - t_visit)
        if think:
            time.sleep(rnd.uniform(0.5 * think, 1.5 * think))  # reading the page


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def _stop(proc, log_file, log_path: Path) -> None:
    """Stop gunicorn (once) and say what its log holds: tracebacks, the first one in full."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    if log_file.closed:
        return
    log_file.close()
    text = log_path.read_text(errors="replace")
    tracebacks = text.count("Traceback (most recent call last)")
    print(f"\nserver log {log_path}: {len(text.splitlines()):,} lines, {tracebacks} tracebacks")
    if tracebacks:
        first = text.index("Traceback (most recent call last)")
        print(text[max(0, text.rfind("\n", 0, first - 1) - 300):first + 3000])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8077)
    ap.add_argument("--think", type=float, default=0.0, help="mean seconds a user reads before the next visit")
    ap.add_argument("--auth", action="store_true", help="sign-in on: every user signs in first (issue 10)")
    ap.add_argument("--visit", choices=("recorded", "discovered"), default="recorded")
    ap.add_argument("--save-visit", type=Path, help="keep the recorded page views here (JSON)")
    ap.add_argument("--server-log", type=Path, help="gunicorn's log (default: a file in $TMPDIR)")
    args = ap.parse_args()
    env = dict(os.environ, R57_WAREHOUSE=str(Path(args.warehouse).resolve()), PYTHONPATH=str(ROOT))
    accounts: list[tuple[str, str] | None] = [None] * args.users
    if args.auth:
        import tempfile

        sys.path.insert(0, str(ROOT))
        from access.db import open_appdb
        from access.users import add_user

        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='r57-load-')) / 'app.sqlite3'}"
        db = open_appdb(url)
        accounts = [(f"user{i:03d}", f"load-password-{i:03d}") for i in range(args.users)]
        for name, password in accounts:
            add_user(db, name, "leader", password=password)
        db.close()
        env.update(R57_AUTH="on", R57_APP_DB=url, R57_SECRET_KEY="bench-load")
    else:  # every user is the developer from one address: the per-address limit would refuse the baseline
        env["R57_AUTH"] = "off"
        env.setdefault("R57_RATE_LIMIT", "1000000 per minute")
    base = f"http://127.0.0.1:{args.port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers),  # threads: gunicorn.conf.py
                "--bind", f"127.0.0.1:{args.port}", "--timeout", "120", "app:create_server()"]
    # the server's log to a file (a pipe nobody reads fills up and blocks the workers' logging); its
    # tracebacks are counted and the first one shown at the end
    log_path = Path(args.server_log or Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-load-{os.getpid()}.log")
    log_file = log_path.open("wb")
    proc = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file,
                            start_new_session=True)
    try:
        for _ in range(120):
            try:
                _get(f"{base}/login", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        if args.visit == "recorded":
            try:
                recorded_load(base, args, accounts)
            finally:
                _stop(proc, log_file, log_path)
            return
        if args.auth:
            sign_in(base, *accounts[0])
        payloads = overview_callbacks(base)
        for p in payloads:  # one warm-up visit, as a user who arrived first
            _post(f"{base}/_dash-update-component", p)
        _local.opener = None
        lat: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user, args=(base, payloads, stop, lat, errors, lock, args.think, a))
                   for a in accounts]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        _stop(proc, log_file, log_path)
    total = sum(len(v) for k, v in lat.items() if k != "visit")
    print(f"\n{args.users} {'signed-in ' if args.auth else ''}users (think {args.think:g} s), {args.seconds:.0f} s, gunicorn {args.workers} workers (threads: gunicorn.conf.py); "
          f"{len(payloads)} overview callbacks per visit; {total:,} requests ({total / wall:.1f}/s); "
          f"errors: {len(errors)}")
    print("\n| request | count | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    for kind in ("sign-in", "page", "layout", "callback", "api", "visit"):
        xs = lat.get(kind, [])
        print(f"| {kind} | {len(xs):,} | {statistics.median(xs) * 1000 if xs else float('nan'):.0f} | "
              f"{pct(xs, 0.95) * 1000:.0f} | {max(xs, default=float('nan')) * 1000:.0f} |")
    for e in errors[:5]:
        print("error:", e)


PAGES = [("overview", "/", "#ov-today"), ("ward", "/ward?unit=00073", "#wu-kpis table")]


def recorded_load(base: str, args, accounts: list) -> None:
    """Record the overview and the ward page in Chromium, then `args.users` users replay them in turn."""
    import http.cookiejar

    sys.path.insert(0, str(ROOT / "bench"))
    import visit

    views = visit.record(base, PAGES, account=accounts[0])
    for v in views:
        print("recorded", v.describe())
    if args.save_visit:
        visit.save(views, args.save_visit)
    firsts = [v for v in views if v.name.endswith(" first")]
    agains = [v for v in views if v.name.endswith(" again")]
    lat: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    requests = [0]
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def one_user(k: int, account) -> None:
        import random

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        if account is not None:
            _local.opener = opener
            sign_in(base, *account)
        player = visit.Replayer(base, opener)
        rnd = random.Random(k)
        time.sleep(rnd.uniform(0, args.think or 1))
        # a user's first view comes with an empty cache (half the users open the overview, half a ward
        # page); every later one is a page opened again, the cache answering Dash's fingerprinted scripts
        plan = [firsts[k % len(firsts)]]
        n = k
        try:
            while time.monotonic() < stop:
                v = plan.pop(0) if plan else agains[n % len(agains)]
                n += 1
                took, answers = player.view(v)
                bad = [(r.path, st) for r, _, st in answers if st == 0 or st >= 400]
                with lock:
                    requests[0] += len(answers)
                    if bad:
                        errors.extend(f"{v.name}: {p} -> {st or 'no answer'}" for p, st in bad)
                    else:
                        lat[v.name].append(took)
                if args.think:
                    time.sleep(rnd.uniform(0.5 * args.think, 1.5 * args.think))
        finally:
            player.close()

    # one warm-up view of each page, as a user who arrived first (the workers' memo)
    warm = visit.Replayer(base)
    for v in views:
        warm.view(v)
    warm.close()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one_user, args=(k, a)) for k, a in enumerate(accounts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(f"\n{args.users} {'signed-in ' if args.auth else ''}users (think {args.think:g} s), {args.seconds:.0f} s, "
          f"gunicorn {args.workers} workers; recorded page views replayed; {requests[0]:,} requests "
          f"({requests[0] / wall:.1f}/s); errors: {len(errors)}")
    print("\n| page view | count | p50 s | p95 s | min–max s |\n|---|---:|---:|---:|---:|")
    for v in views:
        xs = lat.get(v.name, [])
        print(f"| {v.name} ({len(v.requests)} requests) | {len(xs):,} | "
              f"{statistics.median(xs) if xs else float('nan'):.2f} | {pct(xs, 0.95):.2f} | "
              f"{min(xs, default=float('nan')):.2f}–{max(xs, default=float('nan')):.2f} |")
    both = [x for v in views for x in lat.get(v.name, [])]
    print(f"| all page views | {len(both):,} | {statistics.median(both) if both else float('nan'):.2f} | "
          f"{pct(both, 0.95):.2f} | {min(both, default=float('nan')):.2f}–{max(both, default=float('nan')):.2f} |")
    for e in errors[:5]:
        print("error:", e)


if __name__ == "__main__":
    main()
