"""API benchmark: server-side time of KPI queries through /api/v1 (a script, not a test).

    python bench/bench_api.py --warehouse data/warehouse.duckdb [--reps 30]

Runs the Flask app in-process (no network), warm (one call first), and prints the median and p95 of:
one KPI for the city's current month; all KPIs for a ward over 12 months; and a 304 answer to a
poller that sends its ETag. Beside them, the same metrics.query called directly (the floor).
Target (issue 5): API KPI query median warm ≤ 50 ms.

Then the big answer (issue 13): one KPI for every unit over the last 13 complete months (127 x 13 =
1,651 rows) as JSON, Arrow and Parquet, each call interleaved with metrics.query for the same table (the
baseline: the API's floor, what the answer costs before it is checked and written), median and min-max
of each and the ratio of the medians. Targets: JSON median <= 30 ms and <= 1.6x metrics.query. "Computed"
clears the kept answers first (what the first asker after a new snapshot waits for); "asked again" is the
same request on the same snapshot, answered from the bytes kept by api/answers.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def interleaved(fns: dict, reps: int) -> dict[str, list[float]]:
    """Each function once per round, `reps` rounds after a warm-up round: each sees the same machine load."""
    for fn in fns.values():
        fn()
    xs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            xs[k].append((time.perf_counter() - t) * 1000)
    return xs


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
    ap.add_argument("--kpi", default="on_time_rate", help="the KPI of the 1,651-row answer")
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
    big_table(c, reader, args.reps, args.kpi)


def big_table(c, reader, reps: int, kpi: str) -> None:
    """/api/v1/values for one KPI x every unit x 13 complete months, beside metrics.query for the same table."""
    import metrics
    from api.routes import query_clock

    now = query_clock()
    last = now.date().replace(day=1) - timedelta(days=1)            # last day of the last complete month
    index = last.year * 12 + last.month - 13                         # 13 months back, 0-based month index
    first = date(index // 12, index % 12 + 1, 1)
    url = f"/api/v1/values?kpi={kpi}&grain=month&from={first}&to={last}&by=unit_code&page_size=5000"
    body = c.get(url)
    assert body.status_code == 200, body.get_data(as_text=True)[:300]
    rows = body.get_json()["total"]
    frame = metrics.query(reader.cursor(), [kpi], grain="month", periods=(first, last), by=["unit_code"], now=now)
    assert len(frame) == rows, (len(frame), rows)

    answers = c.application.blueprints["api_v1"].r57_answers

    def get(u, kept: bool = False):
        if not kept:  # the answer computed: what the first asker after a new snapshot waits for
            answers.clear()
        r = c.get(u)
        assert r.status_code == 200, r.status_code
        assert r.headers["X-Cache"] == ("HIT" if kept else "MISS"), r.headers["X-Cache"]

    import orjson

    from api import models as m
    from api import routes

    q = m.ValuesQuery(page_size=5000, by=["unit_code"])
    cols = routes.value_columns(frame)

    def rows_json():
        names = list(cols)
        return orjson.dumps([dict(zip(names, r, strict=True)) for r in zip(*cols.values(), strict=True)])

    def before():  # what the answer cost until issue 13: a dict per row by hand, then a model per row
        page = routes._paginate(routes.records(frame), q)
        return m.ValuesPage.model_validate(page).model_dump_json(exclude_unset=True)

    fns = {"metrics.query (baseline: the same table, no HTTP, no check, no JSON)":
           lambda: metrics.query(reader.cursor(), [kpi], grain="month", periods=(first, last), by=["unit_code"],
                                 now=query_clock()),
           "API JSON (orjson), computed": lambda: get(url),
           # right after the computed call, which left its answer kept
           "API JSON, asked again on the same snapshot (kept answer, api/answers.py)": lambda: get(url, kept=True),
           "API format=arrow, computed": lambda: get(url + "&format=arrow"),
           "API format=parquet, computed": lambda: get(url + "&format=parquet"),
           "  of which: check + convert the columns (value_columns)": lambda: routes.value_columns(frame),
           "  of which: rows + orjson": rows_json,
           "  before: records() + a ValuesPage model per answer, pydantic dump": before}
    xs = interleaved(fns, reps)
    base = statistics.median(xs[next(iter(fns))])
    print(f"\n/api/v1/values {kpi}, by unit, {first:%Y-%m}..{last:%Y-%m}: {rows:,} rows, JSON "
          f"{len(body.get_data()) / 1e6:.2f} MB; {reps} interleaved rounds (same load for each)\n")
    print("| call | median ms | min–max ms | × metrics.query |\n|---|---:|---:|---:|")
    for name, v in xs.items():
        med = statistics.median(v)
        print(f"| {name} | {med:.1f} | {min(v):.1f}–{max(v):.1f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
