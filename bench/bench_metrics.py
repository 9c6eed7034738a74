"""Benchmark of the metrics layer (a script, not a test): python bench/bench_metrics.py [--n 10000000].

Builds (or reuses) a warehouse of N demo dossiers loaded through the real ingest, then times:
  - the aggregate refresh after ingesting 3,000 new dossiers (target <= 2 s);
  - the city overview (every non-auxiliary KPI, current month plus a 12-month trend) and one ward's
    drill-down (its KPIs over the same months, its procedure breakdown, its overdue list), median of
    warm runs (targets <= 100 ms), beside the competent bare-DuckDB baseline of bench/baseline_sql.py
    for the overview (three hand-written aggregate queries over the raw table, its values checked equal
    to metrics.query's before it is timed) and pandas (what an analyst would write over the dossiers
    loaded into a frame);
  - peak memory (resident set) of the process.

"Now" is the data's: a new warehouse is built to end today (Hanoi time), a reused one is timed at its
newest event (--now to choose). The bench says which path metrics.query ran (aggregates, or raw rows and
why): a warehouse whose aggregates do not cover "now" is timed on the slow path, and says so.
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import clock  # noqa: E402
from bench import baseline_sql  # noqa: E402
from config import load_settings  # noqa: E402
from ingest.runner import ingest_files  # noqa: E402
from warehouse.db import connect, open_writer  # noqa: E402

WARD = "00073"                        # Phường Cửa Nam


def data_now(path: Path) -> datetime | None:
    """The newest event of the warehouse (receipt or finish, Hanoi time), or None when it has no dossiers."""
    if not path.exists():
        return None
    con = connect(path, read_only=True)
    try:
        return con.execute("SELECT max(greatest(received_at, coalesce(completed_at, received_at))) "
                           "FROM dossiers").fetchone()[0]
    finally:
        con.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SPREAD: dict[float, tuple[float, float]] = {}  # median -> (min, max) of the runs timed() measured


def timed(fn, reps: int, cold: bool = False) -> tuple[float, object]:
    """Median wall time in ms of `reps` warm runs (after one warm-up), and the last result; SPREAD[median]
    holds their min and max.

    cold=True empties the metrics layer's memo of past periods before each run: the first query after
    a refresh that changed old data (DuckDB's own caches stay warm)."""
    import metrics.engine

    result = fn()
    times = []
    for _ in range(reps):
        if cold:
            metrics.engine._PAST.items.clear()
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    med = statistics.median(times)
    SPREAD[med] = (min(times), max(times))
    return med, result


def interleaved(fns: dict, reps: int) -> dict[str, float]:
    """Each function once per round after a warm-up round, so that each sees the same machine load; the median
    of each (SPREAD holds min and max). A name ending in ':cold' runs with the memo of past periods emptied."""
    import metrics.engine

    def run(name, fn):
        if name.endswith(":cold"):
            metrics.engine._PAST.items.clear()
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    for name, fn in fns.items():
        run(name, fn)
    xs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            xs[name].append(run(name, fn))
    out = {}
    for name, v in xs.items():
        out[name] = statistics.median(v)
        SPREAD[out[name]] = (min(v), max(v))
    return out


def build(path: Path, n: int, per_day: float, seed: int, NOW: datetime) -> None:
    """Generate about n demo dossiers ending at NOW and load them through the real ingest, then refresh."""
    from demo.generator import generate_dossiers, generate_indicators
    from metrics.aggregates import refresh

    settings = load_settings(warehouse=path)
    con = open_writer(settings)
    have = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    if have >= n * 0.95:
        print(f"reusing {path} ({have:,} dossiers)")
        con.close()
        return
    days = math.ceil(n / per_day)
    start = NOW.date() - timedelta(days=days - 1)
    print(f"building {path}: ~{n:,} dossiers from {start} ({days} days x {per_day:,.0f}/day) through the ingest ...")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="r57-bench-") as tmp:
        for i, chunk in enumerate(generate_dossiers(start, days, per_day=per_day, seed=seed, now=NOW, chunk_days=62)):
            f = Path(tmp) / f"bench-{i:04d}.parquet"
            chunk.to_parquet(f, index=False)
            ingest_files(con, [f], "dossiers", channel="demo", now=NOW)
            f.unlink()
        ind = Path(tmp) / "indicators.csv"
        generate_indicators(start_year=2024, now=NOW, seed=seed).to_csv(ind, index=False)
        ingest_files(con, [ind], "indicators", channel="demo", now=NOW)
    t1 = time.perf_counter()
    r = refresh(con, full=True)
    con.execute("CHECKPOINT")
    total = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    print(f"  loaded {total:,} dossiers in {t1 - t0:.0f} s; full aggregate build {r['seconds']:.1f} s")
    con.close()


def incremental(path: Path, seed: int, NOW: datetime) -> dict:
    """Ingest 3,000 new dossiers (received on NOW's morning) and time the aggregate refresh."""
    from demo.generator import generate_dossiers
    from metrics.aggregates import refresh

    con = connect(path)
    frame = pd.concat(list(generate_dossiers(NOW.date(), 1, per_day=6000, seed=seed + 1, now=NOW)))
    frame = frame.head(3000).copy()
    frame["dossier_id"] = "BENCH-" + frame["dossier_id"].astype(str) + f"-{time.time_ns()}"
    with tempfile.TemporaryDirectory(prefix="r57-bench-") as tmp:
        f = Path(tmp) / "new.parquet"
        frame.to_parquet(f, index=False)
        t = time.perf_counter()
        rep = ingest_files(con, [f], "dossiers", channel="demo", now=NOW + timedelta(minutes=1))[0]
        ingest_ms = (time.perf_counter() - t) * 1000
    r = refresh(con)
    con.execute("CHECKPOINT")
    con.close()
    return {"inserted": rep.inserted, "ingest_ms": ingest_ms, "refresh_s": r["seconds"], "mode": r["mode"],
            "partitions": r.get("partitions")}


def overview_metrics(con, now):
    from metrics import query
    return query(con, None, grain="month", periods=(first_month(now), now.date()), now=now)


def ward_metrics(con, now):
    from metrics import overdue_list, query
    rng = (now.date().replace(day=1) - timedelta(days=365), now.date())
    a = query(con, None, grain="month", periods=rng, units=WARD, now=now)
    b = query(con, ["received", "on_time_rate", "processing_time_mean", "online_share"], grain="month",
              units=WARD, by=["procedure_code"], now=now)
    c = overdue_list(con, units=[WARD], now=now, limit=50)
    return a, b, c


def first_month(now: datetime) -> date:
    return now.date().replace(day=1) - timedelta(days=365)


def pandas_overview(df: pd.DataFrame, now: datetime, unit: str | None) -> pd.DataFrame:
    """What an analyst would write: monthly received, online share, on-time rate, processing time, satisfaction."""
    if unit:
        df = df[df["unit_code"] == unit]
    months = pd.period_range(pd.Timestamp(now.date().replace(day=1) - timedelta(days=365)), pd.Timestamp(now), freq="M")
    rows = []
    live = df[df["status"] != "withdrawn"]
    for m in months:
        start, end = m.start_time, min((m + 1).start_time, pd.Timestamp(now))
        rec = df[(df["received_at"] >= start) & (df["received_at"] < end)]
        fin = live[(live["finished_date"] >= start) & (live["finished_date"] < (m + 1).start_time)]
        inflight = live[(live["received_at"] < end) & (live["finished_date"].isna() | (live["completed_at"] >= end))]
        on_time = ((fin["supplement_count"] <= 1) & (fin["completed_at"] <= fin["effective_due_at"])).sum()
        not_due = ((inflight["effective_due_at"] >= end) & (inflight["supplement_count"] <= 1)).sum()
        rated = fin["rating"].notna().sum()
        rows.append({
            "period": str(m), "received": len(rec),
            "online_share": 100 * rec["channel"].isin(["online_full", "online_partial"]).mean() if len(rec) else None,
            "on_time_rate": 100 * (on_time + not_due) / (len(fin) + len(inflight)) if len(fin) + len(inflight) else None,
            "processing_mean": fin["processing_wd"].mean(), "processing_median": fin["processing_wd"].median(),
            "satisfaction": 100 * fin["rating"].isin([4, 5]).sum() / rated if rated else None,
            "overdue": int((inflight["effective_due_at"] < end).sum()),
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="demo dossiers (default 10,000,000)")
    ap.add_argument("--per-day", type=float, default=3100)
    ap.add_argument("--seed", type=int, default=57)
    ap.add_argument("--warehouse", type=Path, default=None, help="default data/bench/wh-<n>.duckdb")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison (memory hungry)")
    ap.add_argument("--now", type=datetime.fromisoformat, default=None,
                    help="the data's 'now' (Hanoi time); default: a reused warehouse's newest event, else now")
    args = ap.parse_args(argv)
    path = args.warehouse or ROOT / "data" / "bench" / f"wh-{args.n}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    NOW = args.now or data_now(path) or clock.stamp().replace(microsecond=0)
    build(path, args.n, args.per_day, args.seed, NOW)
    NOW = args.now or data_now(path)  # the newest event, as loaded
    inc = incremental(path, args.seed, NOW)
    now = NOW + timedelta(minutes=5)

    from metrics.aggregates import query_path, read_state

    con = connect(path, read_only=True)
    n = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    slow = query_path(con, now)
    path_ran = ("aggregate tables (fast path)" if slow is None and read_state(con).fresh
                else f"RAW ROWS (slow path): {slow or 'aggregates not fresh'}")
    compared, equal, notes = baseline_sql.check(con, overview_metrics(con, now), first_month(now), now)
    if compared == 0 or equal != compared:
        print("\n".join(notes))
        sys.exit(f"the baseline does not give metrics.query's values ({equal} of {compared} equal): not timed")
    res = {}
    # the overview and its baseline in alternation: the machine may be loaded by others, each sees the same load
    both = interleaved({"overview": lambda: overview_metrics(con, now),
                        "overview:cold": lambda: overview_metrics(con, now),
                        "overview_sql": lambda: baseline_sql.overview(con, first_month(now), now)}, args.reps)
    res["overview"], res["overview_cold"], res["overview_sql"] = both["overview"], both["overview:cold"], \
        both["overview_sql"]
    res["ward"] = timed(lambda: ward_metrics(con, now), args.reps)[0]
    res["ward_cold"] = timed(lambda: ward_metrics(con, now), args.reps, cold=True)[0]
    res["ward_sql"] = None
    mem_metrics = peak_mb()
    if not args.no_pandas:
        t = time.perf_counter()
        df = con.execute("SELECT unit_code, channel, status, received_at, completed_at, finished_date, "
                         "effective_due_at, supplement_count, processing_wd, rating FROM dossiers").df()
        df["finished_date"] = pd.to_datetime(df["finished_date"])
        res["pandas_read"] = (time.perf_counter() - t) * 1000
        res["overview_pandas"] = timed(lambda: pandas_overview(df, now, None), 3)[0]
        res["ward_pandas"] = timed(lambda: pandas_overview(df, now, WARD), 3)[0]
        del df
        gc.collect()
    limits = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    con.close()

    def ms(x, width, digits=0):
        if not x:
            return f"{'-':>{width}}"
        lo, hi = SPREAD.get(x, (x, x))
        return f"{f'{x:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})':>{width}}"

    def row(name, ours, sql, pd_ms, target):
        ratio_sql = f"{sql / ours:8.1f}x" if sql else ""
        ratio_pd = f"{pd_ms / ours:8.1f}x" if pd_ms else ""
        ok = "ok" if ours <= target else "SLOW"
        return (f"{name:<38}{ms(ours, 22, 1)}{ms(sql, 20)}{ms(pd_ms, 20)}{ratio_sql:>10}{ratio_pd:>10}"
                f"  {target:>6.0f} {ok}")

    print()
    print(f"dossiers: {n:,}   (measured {clock.stamp():%Y-%m-%d %H:%M}, {now:%Y-%m-%d %H:%M} as the data's now)")
    print(f"metrics.query path: {path_ran}")
    print(f"DuckDB (R57_DUCKDB_MEMORY / R57_DUCKDB_THREADS): memory_limit {limits[0]}, threads {limits[1]}")
    print(f"baseline: {baseline_sql.WHAT}; {equal} of {compared} overview values checked equal to "
          f"metrics.query's ({len(baseline_sql.KPIS)} KPIs; {notes[-1] if notes else 'all KPIs'})")
    print("pandas: an analyst's frame code for 7 figures over the dossiers loaded into memory")
    print(f"{'figure (ms: median (min-max), warm)':<38}{'metrics':>22}{'baseline':>20}{'pandas':>20}"
          f"{'base/us':>10}{'pd/us':>10}  {'target':>6}")
    print(row("city overview (13 months, all KPIs)", res["overview"], res["overview_sql"], res.get("overview_pandas"), 100))
    print(row(f"ward drill-down ({WARD})", res["ward"], res["ward_sql"], res.get("ward_pandas"), 100))
    print(row("  overview, memo of past months empty", res["overview_cold"], res["overview_sql"], res.get("overview_pandas"), 100))
    print(row("  ward, memo of past months empty", res["ward_cold"], res["ward_sql"], res.get("ward_pandas"), 100))
    print(f"{'refresh after 3,000 new dossiers':<34}{inc['refresh_s'] * 1000:>10.0f}   ({inc['mode']}, {inc['partitions']} partitions; "
          f"their ingest {inc['ingest_ms']:.0f} ms)   target 2000 {'ok' if inc['refresh_s'] <= 2 else 'SLOW'}")
    if "pandas_read" in res:
        print(f"{'pandas: loading the frame':<34}{res['pandas_read']:>10.0f}")
    print(f"peak memory: {mem_metrics:,.0f} MB after the metrics queries, {peak_mb():,.0f} MB at the end (pandas included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
