"""API benchmark: server-side time of KPI queries through /api/v1 (a script, not a test).

    python bench/bench_api.py --warehouse data/warehouse.duckdb [--reps 30]

Runs the Flask app in-process (no network), warm (one call first), and prints the median and p95 of:
one KPI for the city's current month; all KPIs for a ward over 12 months; and a 304 answer to a
poller that sends its ETag. Beside them, the same metrics.query called directly (the floor).
Target (issue 5): API KPI query median warm ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, reps: int) -> tuple[float, float]:
    fn()
    xs = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000)
    xs.sort()
    return statistics.median(xs), xs[min(len(xs) - 1, int(0.95 * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--ward", default="00073")
    args = ap.parse_args()

    from flask import Flask

    import api
    import metrics
    from config import load_settings
    from warehouse.db import Reader

    settings = load_settings(warehouse=args.warehouse)
    reader = Reader(settings)
    cur = reader.cursor()
    if cur is None:
        sys.exit("no published snapshot for this warehouse: run `python app.py demo` or the scheduler first")
    n = cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    app = Flask("bench")
    api.register(app, settings, reader)
    c = app.test_client()
    one = "/api/v1/values?kpi=on_time_rate"
    months = api.MAX_PERIODS["month"]  # the most months one request may ask for
    first = date.today().year * 12 + date.today().month - months  # month index of the first one (0-based)
    ward = (f"/api/v1/values?grain=month&from={first // 12}-{first % 12 + 1:02d}-01&to=2100-01-01"
            f"&unit={args.ward}&page_size=5000")
    etag = c.get(one).headers["ETag"]

    def check(url, **kw):
        r = c.get(url, **kw)
        assert r.status_code in (200, 304), (url, r.status_code, r.get_data(as_text=True)[:200])

    rows = [
        ("API: on-time rate, city, current month", lambda: check(one)),
        ("metrics.query directly (floor)", lambda: metrics.query(reader.cursor(), ["on_time_rate"])),
        (f"API: every KPI, ward {args.ward}, last {months} months", lambda: check(ward)),
        ("API: poll with If-None-Match (304)", lambda: check(one, headers={"If-None-Match": etag})),
    ]
    print(f"\n{n:,} dossiers; median of {args.reps} warm calls\n")
    print("| call | median ms | p95 ms |\n|---|---:|---:|")
    for name, fn in rows:
        med, p95 = timed(fn, args.reps)
        print(f"| {name} | {med:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
