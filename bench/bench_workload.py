"""Benchmark of the one-stop workload (issue 12; a script, not a test): python bench/bench_workload.py [--days 90].

Seeds a demo warehouse (3,100 dossiers a day, the demo's staffing) ending NOW, then times, median and
min-max of warm runs: metrics.workload.overloaded() for the last complete month (the wards grid's and the
overview's call: 4 KPIs by unit, the city median included), one ward's flag (the ward page's call), and as
the baseline an existing KPI by unit for the same month (on_time_rate, the grid's main column). The
engine's memo of past periods is emptied before each run (what a page pays after each ingest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from warehouse.db import open_writer  # noqa: E402

NOW = datetime(2026, 3, 16, 12, 0)
PERIOD = "2026-02"


def timed(fn, runs: int) -> tuple[float, float, float]:
    """Warm runs with the engine's memo of past periods emptied first: the cost after every ingest."""
    from metrics import engine

    fn()  # warm
    xs = []
    for _ in range(runs):
        engine._PAST.items.clear()
        t = time.perf_counter()
        fn()
        xs.append(1000 * (time.perf_counter() - t))
    return statistics.median(xs), min(xs), max(xs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    from demo.seed import seed_demo
    from metrics import query
    from metrics.workload import overloaded

    tmp = Path(tempfile.mkdtemp(prefix="r57-bench-workload-"))
    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    t = time.perf_counter()
    seed_demo(con, s, days=args.days, now=NOW)
    n = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    print(f"seeded {n:,} dossiers in {time.perf_counter() - t:.0f} s")
    rows = {
        "baseline: on_time_rate by unit": lambda: query(con, ["on_time_rate"], grain=None, periods=PERIOD,
                                                        by="unit_code", now=NOW),
        "workload + ratio + median + in-person by unit (overloaded)": lambda: overloaded(con, PERIOD, now=NOW),
        "one ward's flag (overloaded, units=[00073])": lambda: overloaded(con, PERIOD, units=["00073"], now=NOW),
    }
    print(f"{'query':<62} {'median ms':>10} {'min':>8} {'max':>8}")
    for name, fn in rows.items():
        med, lo, hi = timed(fn, args.runs)
        print(f"{name:<62} {med:>10.1f} {lo:>8.1f} {hi:>8.1f}")
    df = overloaded(con, PERIOD, now=NOW)
    print(f"overloaded units in {PERIOD}: {int(df['overloaded'].sum())} of {len(df)}; "
          f"median workload {df['workload'].median():.2f} dossiers/officer/day")
    con.close()


if __name__ == "__main__":
    main()
