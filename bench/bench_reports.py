"""Benchmark of the monthly city report (a script, not a test): python bench/bench_reports.py WAREHOUSE [--month 2026-10].

Opens WAREHOUSE read-only (its newest snapshot when one was published) and times the city report for
one month, split into its steps: the metrics queries (collect), the charts (plotly + kaleido; the
first run includes starting headless Chromium), the PDF and the Excel file; the first (cold) run and
the median of warm runs, plus the peak resident memory of this process (Chromium's own memory is
another process and is not counted). Issue 5's target: <= 20 s on 10,000,000 dossiers.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

import config  # noqa: E402
from config import load_settings  # noqa: E402
from warehouse.db import current_snapshot  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(con, month: str, unit: str | None, out: Path, now: datetime, charts: bool) -> dict[str, float]:
    """Seconds per step of one report (PDF + XLSX)."""
    from reports.charts import build_charts
    from reports.data import collect
    from reports.pdf import render_pdf
    from reports.xlsx import render_xlsx

    steps = {}
    t = time.perf_counter()
    data = collect(con, month, unit, "vi", now)
    steps["queries (collect)"] = time.perf_counter() - t
    t = time.perf_counter()
    figs = build_charts(data, render=charts)
    steps["charts (3 PNG)"] = time.perf_counter() - t
    failed = [c.key for c in figs if c.png is None]
    if charts and failed:
        print(f"  warning: charts not rendered: {failed} ({figs[0].error})")
    t = time.perf_counter()
    render_pdf(data, figs, out / "report.pdf")
    steps["PDF"] = time.perf_counter() - t
    t = time.perf_counter()
    render_xlsx(data, figs, out / "report.xlsx")
    steps["Excel"] = time.perf_counter() - t
    steps["total"] = sum(steps.values())
    return steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("warehouse", help="a DuckDB warehouse file (e.g. one made by `python app.py demo --warehouse F`)")
    p.add_argument("--month", default=None, help="YYYY-MM (default: the previous month)")
    p.add_argument("--unit", default=None, help="a ward code instead of the city report")
    p.add_argument("--reps", type=int, default=3, help="warm runs after the first")
    p.add_argument("--no-charts", action="store_true")
    args = p.parse_args()

    from reports.charts import chart_session
    from reports.data import previous_month

    settings = load_settings(warehouse=args.warehouse)
    path = current_snapshot(settings) or settings.warehouse
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    n = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    now = datetime.now(config.TZ).replace(tzinfo=None)
    month = args.month or previous_month(now)
    print(f"warehouse {path}: {n:,} dossiers; report month {month}, unit {args.unit or 'city'}; "
          f"baseline RSS {peak_mb():.0f} MB")
    runs = []
    with tempfile.TemporaryDirectory(prefix="r57-bench-reports-") as tmp, chart_session():
        for _ in range(1 + args.reps):
            runs.append(one_run(con, month, args.unit, Path(tmp), now, not args.no_charts))
        sizes = {f.suffix: f.stat().st_size for f in Path(tmp).iterdir()}
    cold, warm = runs[0], runs[1:]
    print()
    print(f"{'step':<22}{'first run (s)':>15}{'warm median (s)':>17}")
    for step in cold:
        med = statistics.median(r[step] for r in warm) if warm else float("nan")
        print(f"{step:<22}{cold[step]:>15.2f}{med:>17.2f}")
    print(f"{'peak RSS (MB)':<22}{peak_mb():>15.0f}")
    print(f"files: PDF {sizes.get('.pdf', 0) / 1e6:.2f} MB, Excel {sizes.get('.xlsx', 0) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
