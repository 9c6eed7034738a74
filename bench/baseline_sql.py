"""The competent bare-DuckDB baseline of the city overview (issue 13, item 6): what a good engineer writes
against the raw `dossiers` table with no aggregate tables, no memo and no metrics layer.

Three queries, one per KPI family, each a single scan of `dossiers` grouped by month:
  1. flows on the receipt date (received, online, full online, in person, fee-bearing, paid online,
     digitised, data re-used): conditional counts GROUP BY month of received_date;
  2. flows on the finishing date (finished, on time, processing days sum / count / exact median, ratings):
     conditional aggregates GROUP BY month of finished_date;
  3. stocks at the judgement time T = min(end of month, now) (in flight, in flight not yet due, overdue):
     +1 when a dossier enters the set and -1 when it leaves, counted per month and summed cumulatively
     (a running total, not a join of every row against every period).
The KPIs are then combined from these columns by hand (numerators / denominators as metrics/definitions/
kpis.yaml declares them). `check()` compares every value with metrics.query's before a bench times it;
KPIs this baseline does not compute (catalogue coverage, indicators, staffing-based workload, derived
KPIs against a baseline year) are listed, not hidden.

    python bench/baseline_sql.py WAREHOUSE [--now 2026-12-01T20:00]   # prints the check
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

ONLINE = "channel IN ('online_full', 'online_partial')"

FLOWS_RECEIVED = f"""
SELECT CAST(date_trunc('month', d.received_date) AS DATE) AS month,
       count(*) AS received,
       count(*) FILTER ({ONLINE}) AS online,
       count(*) FILTER (channel = 'online_full') AS online_full,
       count(*) FILTER (channel = 'in_person') AS in_person,
       count(*) FILTER (p.fee_bearing) AS fee_dossiers,
       count(*) FILTER (p.fee_bearing AND paid_online) AS fee_paid_online,
       count(*) FILTER (digitized) AS digitized,
       count(*) FILTER (data_reused) AS data_reused
FROM dossiers d LEFT JOIN procedures p ON p.procedure_code = d.procedure_code
WHERE d.received_date >= $first AND d.received_date < $stop AND d.received_at < $now
GROUP BY ALL
"""

FLOWS_FINISHED = f"""
SELECT CAST(date_trunc('month', finished_date) AS DATE) AS month,
       count(*) AS finished,
       count(*) FILTER (supplement_count <= 1 AND completed_at <= effective_due_at) AS finished_on_time,
       sum(processing_wd) AS wd_sum, count(processing_wd) AS wd_count, median(processing_wd) AS wd_median,
       count(*) FILTER (rating IS NOT NULL) AS rated,
       count(*) FILTER (rating IN (4, 5)) AS rated_good,
       count(*) FILTER (rating IS NOT NULL AND {ONLINE}) AS rated_online,
       count(*) FILTER (rating IN (4, 5) AND {ONLINE}) AS rated_online_good
FROM dossiers
WHERE finished_date >= $first AND finished_date < $stop AND completed_at < $now
GROUP BY ALL
"""

# In a set at T when entered before T and not left before T; withdrawn at an unknown time: never in flight.
STOCKS = """
WITH src AS (
    SELECT received_at, completed_at, effective_due_at, supplement_count, status FROM dossiers
    WHERE NOT (status = 'withdrawn' AND completed_at IS NULL)
), sets AS (
    SELECT 'in_flight' AS s, received_at AS enter, completed_at AS leave FROM src
    UNION ALL  -- not yet due at T: leaves when finished or when due, whichever is first
    SELECT 'in_flight_not_due', received_at, least(completed_at, effective_due_at) FROM src
    WHERE supplement_count <= 1 AND effective_due_at IS NOT NULL
    UNION ALL  -- overdue at T: enters when both received and due, leaves when finished
    SELECT 'in_flight_overdue', greatest(received_at, effective_due_at), completed_at FROM src
    WHERE status <> 'supplement_requested' AND effective_due_at IS NOT NULL
), moves AS (
    SELECT s, enter AS moved, 1 AS n FROM sets
    UNION ALL
    SELECT s, greatest(enter, leave), -1 FROM sets WHERE leave IS NOT NULL
), per_month AS (  -- what moved before `now`, by month; everything before the first month in one bucket
    SELECT s, greatest(CAST(date_trunc('month', moved) AS DATE), CAST($first - INTERVAL 1 DAY AS DATE)) AS month,
           sum(n) AS n
    FROM moves WHERE moved < $now GROUP BY ALL
)
SELECT s, month, sum(n) OVER (PARTITION BY s ORDER BY month) AS n  -- the set at the end of month (or now)
FROM per_month
"""

# KPI -> (numerator columns, denominator columns or None, scale): as metrics/definitions/kpis.yaml declares.
KPIS = {
    "received": (["received"], None, 1),
    "online_share": (["online"], ["received"], 100),
    "full_online_share": (["online_full"], ["received"], 100),
    "in_person_share": (["in_person"], ["received"], 100),
    "online_payment_share": (["fee_paid_online"], ["fee_dossiers"], 100),
    "digitisation": (["digitized"], ["received"], 100),
    "data_reuse": (["data_reused"], ["received"], 100),
    "on_time_rate": (["finished_on_time", "in_flight_not_due"], ["finished", "in_flight"], 100),
    "processing_time_mean": (["wd_sum"], ["wd_count"], 1),
    "processing_time_median": (["wd_median"], None, 1),
    "satisfaction": (["rated_good"], ["rated"], 100),
    "satisfaction_online": (["rated_online_good"], ["rated_online"], 100),
    "overdue_backlog": (["in_flight_overdue"], None, 1),
}
WHAT = ("bare DuckDB over the raw dossiers table, 3 hand-written queries (receipt flows, finishing flows, "
        "stocks as a running total), no aggregates or memo")


def months(first: date, now: datetime) -> list[date]:
    out, m = [], first.replace(day=1)
    while m <= now.date():
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def overview(con, first: date, now: datetime) -> dict[tuple[str, str], float | None]:
    """{(kpi, 'YYYY-MM'): value} for the city, every month from `first`'s to now's (the current one to now)."""
    ms = months(first, now)
    params = {"first": ms[0], "stop": (ms[-1] + timedelta(days=32)).replace(day=1), "now": now}
    cols: dict[date, dict[str, float]] = {m: {} for m in ms}
    for sql in (FLOWS_RECEIVED, FLOWS_FINISHED):
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            cols[row[0]].update(zip(names[1:], row[1:], strict=True))
    stock = {(s, m): n for s, m, n in con.execute(STOCKS, {"first": ms[0], "now": now}).fetchall()}
    for s in ("in_flight", "in_flight_not_due", "in_flight_overdue"):
        last = stock.get((s, ms[0] - timedelta(days=1)), 0)
        for m in ms:  # a month with no move keeps the set it had
            last = stock.get((s, m), last)
            cols[m][s] = last
    out: dict[tuple[str, str], float | None] = {}
    for m in ms:
        c = cols[m]
        for kpi, (num, den, scale) in KPIS.items():
            top = sum(c.get(n) or 0 for n in num) if num != ["wd_median"] else c.get("wd_median")
            bottom = None if den is None else sum(c.get(n) or 0 for n in den)
            if top is None or bottom == 0:
                value = None
            else:
                value = scale * float(top) / (float(bottom) if bottom is not None else 1.0)
            out[(kpi, f"{m:%Y-%m}")] = value
    return out


def check(con, metrics_frame, first: date, now: datetime) -> tuple[int, int, list[str]]:
    """Compare with metrics.query's city frame: (values compared, values equal, what differs or is left out)."""
    ours = {(r.kpi, r.period): r.value for r in metrics_frame.itertuples() if r.unit_code == "01"}
    base = overview(con, first, now)
    compared = equal = 0
    notes = []
    for key, b in base.items():
        if key not in ours:
            continue
        compared += 1
        a = ours[key]
        a = None if a is None or (isinstance(a, float) and math.isnan(a)) else float(a)
        if (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9,
                                                                                            abs_tol=1e-9)):
            equal += 1
        else:
            notes.append(f"{key[0]} {key[1]}: metrics {a} vs baseline {b}")
    left_out = sorted({k for k, _ in ours} - set(KPIS))
    if left_out:
        notes.append(f"not in the baseline ({len(left_out)} KPIs): {', '.join(left_out)}")
    return compared, equal, notes


def main() -> None:
    import argparse
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import metrics
    from config import load_settings
    from warehouse.db import Reader

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse")
    ap.add_argument("--now", type=datetime.fromisoformat, default=None)
    args = ap.parse_args()
    con = Reader(load_settings(warehouse=args.warehouse)).cursor()
    now = args.now or con.execute("SELECT max(greatest(received_at, coalesce(completed_at, received_at))) "
                                  "FROM dossiers").fetchone()[0] + timedelta(minutes=5)
    first = now.date().replace(day=1) - timedelta(days=365)
    df = metrics.query(con, None, grain="month", periods=(first, now.date()), now=now)
    t = time.perf_counter()
    compared, equal, notes = check(con, df, first, now)
    print(f"now {now:%Y-%m-%d %H:%M}: {equal} of {compared} values equal ({time.perf_counter() - t:.2f} s)")
    for n in notes:
        print("  " + n)


if __name__ == "__main__":
    main()
