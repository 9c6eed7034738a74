"""Benchmark of the dashboard (a script, not a test): python bench/bench_dashboard.py [--n 2700000]

Builds (or reuses, --warehouse) a published demo warehouse of about N dossiers ending now, then:
  - server-side time of each page callback, through Dash's own endpoint (POST /_dash-update-component
    with the Flask test client: request parsing, the callback, the metrics API, JSON out), first call
    (cold) and median / p95 of warm calls (targets: median <= 150 ms, p95 <= 300 ms);
  - first paint of the overview in headless Chromium against a real HTTP server: first contentful
    paint, and the time until the target cards and the ward ranking are drawn (target <= 2 s), on a
    fresh browser and on a reload.

The app reads the clock of the day (as in production), so the data must end today: hence a fresh
build rather than the metrics benchmark's fixed-date warehouse.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402

WARD = "00073"  # Phường Cửa Nam


def build(folder: Path, n: int):
    """Seed about n demo dossiers from 1 July 2024 to now through the real ingest, and publish."""
    from demo.seed import DEMO_START, seed_demo
    from ingest.runner import local_now
    from warehouse.db import open_writer, publish_snapshot

    settings = load_settings(data_dir=folder, warehouse=folder / "wh.duckdb")
    days = (local_now().date() - DEMO_START).days + 1
    started = time.perf_counter()
    con = open_writer(settings)
    summary = seed_demo(con, settings, per_day=n / days, force=True)
    publish_snapshot(con, settings)
    con.close()
    print(f"built {summary.get('inserted', 0):,} dossiers in {time.perf_counter() - started:.0f} s -> {folder}",
          flush=True)
    return settings


def _outputs(key: str) -> list[dict]:
    """The outputs of a callback from its key ('..a.children...b.data..' or 'a.children')."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        out.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return out


def scenarios(app, version: str | None, month: str) -> list[tuple[str, str, dict]]:
    """(label, callback key, {(id, property): value}) for the page callbacks a user triggers."""
    from dashboard import ids

    def key_of(first_output: str) -> str:
        return next(k for k in app.callback_map if first_output in k)

    base = {(ids.LANG, "data"): "vi", (ids.VERSION, "data"): version}
    return [
        ("shell: tick (freshness, banners)", key_of("shell-banners.children"),
         {**base, (ids.TICK, "n_intervals"): 1}),
        ("overview: target cards", key_of(f"{ids.OV_CARDS}.children"), base),
        ("overview: what changed since yesterday", key_of(f"{ids.OV_CHANGES}.children"), base),
        ("overview: ranking, on-time rate", key_of(f"{ids.OV_RANK}.children"),
         {**base, (ids.OV_RANK_KPI, "value"): "on_time_rate", (ids.OV_RANK_VIEW, "value"): "rank"}),
        ("overview: ranking, 5G coverage", key_of(f"{ids.OV_RANK}.children"),
         {**base, (ids.OV_RANK_KPI, "value"): "coverage_5g", (ids.OV_RANK_VIEW, "value"): "rank"}),
        ("wards: grid, current month", key_of(f"{ids.WD_GRID}.rowData"),
         {**base, (ids.WD_PERIOD, "value"): month, (ids.WD_TYPE, "value"): "all", (ids.WD_SEARCH, "value"): "",
          (ids.WD_GRID, "dashGridOptions"): {}}),
        ("wards: grid, current year", key_of(f"{ids.WD_GRID}.rowData"),
         {**base, (ids.WD_PERIOD, "value"): month[:4], (ids.WD_TYPE, "value"): "all",
          (ids.WD_SEARCH, "value"): "", (ids.WD_GRID, "dashGridOptions"): {}}),
        ("ward: KPIs against city and target", key_of(f"{ids.WU_KPIS}.children"),
         {**base, (ids.WU_UNIT, "value"): WARD, (ids.WU_PERIOD, "value"): month}),
        ("ward: 766, channels, procedures, overdue", key_of(f"{ids.WU_TITLE}.children"),
         {**base, (ids.WU_UNIT, "value"): WARD, (ids.WU_PERIOD, "value"): month}),
        ("ward: 18-month trend vs city", key_of(f"{ids.WU_TREND}.figure"),
         {**base, (ids.WU_UNIT, "value"): WARD, (ids.WU_TREND_KPI, "value"): "on_time_rate",
          (ids.WU_PERIOD, "value"): month}),
        ("kpi: on-time rate, city, month", key_of("kp-title.children"),
         {**base, (ids.KP_KPI, "value"): "on_time_rate", (ids.KP_UNIT, "value"): "01",
          (ids.KP_GRAIN, "value"): "month"}),
        ("kpi: satisfaction, a ward, quarter", key_of("kp-title.children"),
         {**base, (ids.KP_KPI, "value"): "satisfaction", (ids.KP_UNIT, "value"): WARD,
          (ids.KP_GRAIN, "value"): "quarter"}),
        ("economy: indicator cards", key_of(f"{ids.EC_CARDS}.children"), base),
        ("economy: indicator series", key_of(f"{ids.EC_SERIES}.children"), base),
        ("economy: 5G by unit", key_of(f"{ids.EC_5G}.children"), base),
        ("health: freshness, runs, quarantine", key_of(f"{ids.DH_FRESHNESS}.children"), base),
    ]


def body(app, key: str, values: dict) -> dict:
    cb = next(c for c in app._callback_list if c["output"] == key)

    def fill(specs):
        return [{"id": s["id"], "property": s["property"], "value": values.get((s["id"], s["property"]))}
                for s in specs]

    inputs = fill(cb["inputs"])
    return {"output": key, "outputs": _outputs(key) if key.startswith("..") else _outputs(key)[0],
            "inputs": inputs, "state": fill(cb.get("state", [])),
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]]}


def time_callbacks(app, reps: int) -> list[dict]:
    from dashboard import data
    from metrics.periods import Grain, period_at

    client = app.server.test_client()
    client.get("/")  # start-up: pages and callbacks registered
    with app.server.test_request_context("/"):
        version = data.current_version(data.context().reader, data.local_now())
    month = period_at(data.local_now().date(), Grain.MONTH).label
    rows = []
    for label, key, values in scenarios(app, version, month):
        payload = body(app, key, values)

        def call(payload=payload, label=label):
            t = time.perf_counter()
            r = client.post("/_dash-update-component", json=payload)
            ms = (time.perf_counter() - t) * 1000
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{label}: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}")
            return ms, len(r.get_data())

        cold, size = call()
        warm = sorted(call()[0] for _ in range(reps))
        p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
        rows.append({"callback": label, "cold_ms": cold, "median_ms": statistics.median(warm), "p95_ms": p95,
                     "kb": size / 1024})
        print(f"  {label:<48} cold {cold:7.0f}  median {rows[-1]['median_ms']:6.0f}  p95 {p95:6.0f} ms"
              f"  ({size / 1024:,.0f} kB)", flush=True)
    return rows


# Installed before any page script: notes the animation frame in which each selector first appears,
# i.e. when the browser paints it (polling from the test driver would wait behind plotly.js parsing).
MARKS_JS = """
window.__r57 = {};
const wanted = {cards: '#ov-cards .kpi-card', ranking: '#ov-rank .rank-row', sparks: '#ov-cards .kpi-spark'};
new MutationObserver(function () {
  for (const [name, css] of Object.entries(wanted)) {
    if (!(name in window.__r57) && document.querySelector(css)) {
      window.__r57[name] = null;
      requestAnimationFrame(function () { window.__r57[name] = performance.now(); });
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


def first_paint(app, runs: int) -> list[dict]:
    """Load the overview in headless Chromium: first contentful paint, and the frames in which the
    target cards, the ward ranking and the sparklines (plotly) are first drawn, from navigation start."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    out = []
    try:
        for run in range(runs):
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1920,1080"):
                options.add_argument(arg)
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARKS_JS})
            try:
                for kind in ("fresh browser", "reload"):
                    driver.get("about:blank")
                    driver.get(url)
                    started = time.perf_counter()
                    _wait(driver, "#ov-cards .kpi-spark", started)
                    _wait(driver, "#ov-rank .rank-row", started)
                    time.sleep(0.3)
                    marks = driver.execute_script(
                        "const e = performance.getEntriesByName('first-contentful-paint')[0];"
                        "return Object.assign({fcp: e ? e.startTime : null}, window.__r57);")
                    row = {"run": run + 1, "kind": kind, "fcp_ms": marks.get("fcp"), "cards_ms": marks.get("cards"),
                           "ranking_ms": marks.get("ranking"), "sparklines_ms": marks.get("sparks")}
                    out.append(row)
                    print(f"  run {run + 1} {kind:<13}  first contentful paint {row['fcp_ms'] or 0:6.0f}   cards "
                          f"{row['cards_ms'] or 0:6.0f}   ranking {row['ranking_ms'] or 0:6.0f}   sparklines "
                          f"{row['sparklines_ms'] or 0:6.0f} ms", flush=True)
            finally:
                driver.quit()
    finally:
        server.shutdown()
    return out


def _wait(driver, css: str, t0: float, timeout: float = 30) -> float:
    from selenium.webdriver.common.by import By

    while time.perf_counter() - t0 < timeout:
        if driver.find_elements(By.CSS_SELECTOR, css):
            return (time.perf_counter() - t0) * 1000
        time.sleep(0.01)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2_700_000, help="dossiers to generate (default: the demo's size)")
    p.add_argument("--warehouse", help="reuse a published warehouse whose data ends today")
    p.add_argument("--reps", type=int, default=20, help="warm calls per callback")
    p.add_argument("--paint-runs", type=int, default=3)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)

    from dashboard.app import create_app

    if args.warehouse:
        settings = load_settings(warehouse=args.warehouse)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="r57-bench-dash-")
        settings = build(Path(tmp.name), args.n)
    app = create_app(settings)
    print("server-side callback times (Dash endpoint, Flask test client):", flush=True)
    callbacks = time_callbacks(app, args.reps)
    print("first paint of the overview (headless Chromium, local HTTP server):", flush=True)
    paint = first_paint(app, args.paint_runs)
    worst = max(r["median_ms"] for r in callbacks)
    worst95 = max(r["p95_ms"] for r in callbacks)
    print(f"\nslowest callback: median {worst:.0f} ms (target <= 150), p95 {worst95:.0f} ms (target <= 300)")
    drawn = statistics.median(max(r["cards_ms"] or 0, r["ranking_ms"] or 0) for r in paint)
    sparks = statistics.median(r["sparklines_ms"] or 0 for r in paint)
    print(f"overview drawn (cards and ranking), median of {len(paint)}: {drawn:.0f} ms (target <= 2000); "
          f"sparklines {sparks:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"warehouse": str(settings.warehouse), "callbacks": callbacks,
                                               "first_paint": paint}, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
