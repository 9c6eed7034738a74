"""Alerts benchmark: `alerts run` (evaluate every rule over all 126 units and deliver in-app), beside one
metrics.query for all units in the same run (a script, not a test).

    python bench/bench_alerts.py --warehouse data/warehouse.duckdb [--reps 7] [--refresh] [--new-connection]

A scratch application database (SQLite in a temp folder) gets one account per ward with the ward defaults
(due_soon, overdue), a department over ten wards, a leader (status_change, escalation), an admin
(ingest_failed, data_stale) and threshold, report_ready rules: every rule name, all 126 units. Each rep
evaluates and delivers on a fresh database (so the deduplication does not make later reps free); `now` is
07:30 of the first working day after the newest receipt, so the due-soon digest runs.
Prints median and min–max (ms) of: alerts run; evaluation alone; one metrics.query (all KPIs, all units,
the last complete month, by unit), and which path the metrics layer took (aggregates, or raw rows and why).
--refresh first brings the warehouse's aggregates up to date (a writer on the file: needed when the KPI
definitions changed since it was built, as the writer would at start) and then reads the file itself.
Target (issue 11): alerts run ≤ 2 s on the 10 M-dossier warehouse.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _stats(xs: list[float]) -> str:
    return f"median {statistics.median(xs):8.1f} ms   min–max {min(xs):.1f}–{max(xs):.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--refresh", action="store_true", help="refresh the aggregates first, then read the file")
    ap.add_argument("--new-connection", action="store_true",
                    help="open a new read-only connection for each run, as the scheduler's job does (timed)")
    args = ap.parse_args()

    import metrics
    from access import users
    from access.db import open_appdb
    from alerts import store
    from alerts.deliver import deliver
    from alerts.evaluate import evaluate
    from alerts.jobs import open_reader
    from config import load_settings
    from metrics.aggregates import query_path, refresh
    from metrics.periods import last_complete
    from warehouse.health import is_working_day, units_frame

    settings = load_settings(warehouse=args.warehouse)
    if args.refresh:
        from warehouse.db import open_writer

        w = open_writer(settings)
        print("aggregates:", {k: v for k, v in refresh(w).items() if k in ("mode", "seconds")})
        w.execute("CHECKPOINT")
        w.close()

    def reader():
        if not args.refresh:
            return open_reader(settings)
        import duckdb

        c = duckdb.connect(str(args.warehouse), read_only=True)
        c.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        return c

    con = reader()
    if con is None:
        sys.exit("no warehouse: run `python app.py demo --warehouse …` first")
    n = con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    newest = con.execute("SELECT max(received_at) FROM dossiers").fetchall()[0][0]
    # 07:30 of the first working day after the newest receipt: the aggregates' fast path answers (no event
    # after now) and the due-soon digest runs
    now = (newest + timedelta(days=1)).replace(hour=7, minute=30, second=0, microsecond=0)
    while not is_working_day(con, now.date()):
        now += timedelta(days=1)
    wards = [u for u in units_frame(con)["unit_code"] if u != "01"]
    print(f"warehouse {args.warehouse}: {n:,} dossiers, {len(wards)} wards; now = {now:%Y-%m-%d %H:%M}; "
          f"metrics path: {query_path(con, now) or 'aggregates'}")

    def fresh_db(folder: Path):
        db = open_appdb(f"sqlite:///{folder / 'app.sqlite3'}")
        for i, w in enumerate(wards):
            name = f"ward{i:03d}"
            users.add_user(db, name, "ward", [w], actor="bench")
            store.default_rules(db, name)
            store.add_rule(db, username=name, rule="threshold", unit=w, kpi="on_time_rate", threshold=90, actor="bench")
        users.add_user(db, "dept", "department", wards[:10], actor="bench")
        store.default_rules(db, "dept")
        for name, role in (("leader", "leader"), ("admin", "admin")):
            users.add_user(db, name, role, [], actor="bench")
            store.default_rules(db, name)
        store.add_rule(db, username="leader", rule="report_ready", actor="bench")
        store.add_rule(db, username="leader", rule="overdue", days=5, actor="bench")
        return db

    runs, evals, queries, counts = [], [], [], None
    for _ in range(args.reps):
        with tempfile.TemporaryDirectory() as tmp:
            db = fresh_db(Path(tmp))
            rules = len(store.list_rules(db))
            t0 = time.perf_counter()
            run_con = reader() if args.new_connection else con
            events = evaluate(run_con, db, now, settings)
            t1 = time.perf_counter()
            delivered = deliver(db, now, settings)
            t2 = time.perf_counter()
            if run_con is not con:
                run_con.close()
            db.close()
        runs.append((t2 - t0) * 1000)
        evals.append((t1 - t0) * 1000)
        counts = (rules, len(events), delivered)
        t = time.perf_counter()
        metrics.query(con, None, grain="month", periods=[last_complete(now).label], units=None, by="unit_code",
                      now=now)
        queries.append((time.perf_counter() - t) * 1000)
    rules, n_events, delivered = counts
    print(f"{rules} rules, {n_events} events, delivered {delivered}")
    how = "a new connection per run" if args.new_connection else "one connection"
    print(f"alerts run (evaluate + deliver)     {_stats(runs)}   ({how})")
    print(f"  of which evaluate                 {_stats(evals)}")
    print(f"  first run (cold caches)           {runs[0]:8.1f} ms")
    print(f"one metrics.query, all units        {_stats(queries)}")
    con.close()


if __name__ == "__main__":
    main()
