"""Benchmark of the metrics layer (a script, not a test): python bench/bench_metrics.py [--n 10000000].

Builds (or reuses) a warehouse of N demo dossiers loaded through the real ingest, then times:
  - the aggregate refresh after ingesting 3,000 new dossiers (target <= 2 s);
  - the city overview (every non-auxiliary KPI, current month plus a 12-month trend) and one ward's
    drill-down (its KPIs over the same months, its procedure breakdown, its overdue list), median of
    warm runs (targets <= 100 ms), beside the same figures from bare DuckDB SQL over the raw table
    (the reference SQL the metrics layer would run without aggregates) and from pandas (what an
    analyst would write over the dossiers loaded into a frame);
  - peak memory (resident set) of the process.
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

from config import load_settings  # noqa: E402
from ingest.runner import ingest_files  # noqa: E402
from warehouse.db import open_writer  # noqa: E402

NOW = datetime(2026, 3, 16, 12, 0)   # fixed, so runs compare; data ends just before it
WARD = "00073"                        # Phường Cửa Nam


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, reps: int, cold: bool = False) -> tuple[float, object]:
    """Median wall time in ms of `reps` warm runs (after one warm-up), and the last result.

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
    return statistics.median(times), result


def build(path: Path, n: int, per_day: float, seed: int) -> None:
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


def incremental(path: Path, seed: int) -> dict:
    """Ingest 3,000 new dossiers (received on NOW's morning) and time the aggregate refresh."""
    import duckdb

    from demo.generator import generate_dossiers
    from metrics.aggregates import refresh

    con = duckdb.connect(str(path))
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
    return query(con, None, grain="month", periods=(now.date().replace(day=1) - timedelta(days=365), now.date()), now=now)


def ward_metrics(con, now):
    from metrics import overdue_list, query
    rng = (now.date().replace(day=1) - timedelta(days=365), now.date())
    a = query(con, None, grain="month", periods=rng, units=WARD, now=now)
    b = query(con, ["received", "on_time_rate", "processing_time_mean", "online_share"], grain="month",
              units=WARD, by=["procedure_code"], now=now)
    c = overdue_list(con, units=[WARD], now=now, limit=50)
    return a, b, c


def bare_sql(con, now, units):
    """The same dossier figures by the reference SQL over the raw table (no aggregates)."""
    from metrics.engine import selection
    from metrics.evaluate import measures_for
    from metrics.measures import raw_sql
    from metrics.periods import previous, resolve
    from metrics.registry import get_registry

    reg = get_registry()
    codes = [c for c, k in reg.kpis.items() if k.source == "dossiers"]
    plist = resolve("month", (now.date().replace(day=1) - timedelta(days=365), now.date()), now)
    plist = sorted(set(plist) | {previous(p) for p in plist})
    sql = raw_sql(reg, measures_for(reg, codes), plist, selection(units, None), (), now)
    return con.execute(sql).fetchall()


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
    args = ap.parse_args(argv)
    path = args.warehouse or ROOT / "data" / "bench" / f"wh-{args.n}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    build(path, args.n, args.per_day, args.seed)
    inc = incremental(path, args.seed)
    now = NOW + timedelta(minutes=5)

    import duckdb

    from metrics.aggregates import read_state

    con = duckdb.connect(str(path), read_only=True)
    n = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    assert read_state(con).fresh
    res = {}
    res["overview"] = timed(lambda: overview_metrics(con, now), args.reps)[0]
    res["ward"] = timed(lambda: ward_metrics(con, now), args.reps)[0]
    res["overview_cold"] = timed(lambda: overview_metrics(con, now), args.reps, cold=True)[0]
    res["ward_cold"] = timed(lambda: ward_metrics(con, now), args.reps, cold=True)[0]
    res["overview_sql"] = timed(lambda: bare_sql(con, now, None), max(3, args.reps // 5))[0]
    res["ward_sql"] = timed(lambda: bare_sql(con, now, WARD), max(3, args.reps // 5))[0]
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
    con.close()

    def row(name, ours, sql, pd_ms, target):
        ratio_sql = f"{sql / ours:8.1f}x" if sql else ""
        ratio_pd = f"{pd_ms / ours:8.1f}x" if pd_ms else ""
        pd_txt = f"{pd_ms:10.0f}" if pd_ms else f"{'-':>10}"
        ok = "ok" if ours <= target else "SLOW"
        return f"{name:<34}{ours:>10.1f}{sql:>10.0f}{pd_txt}{ratio_sql:>10}{ratio_pd:>10}  {target:>6.0f} {ok}"

    print()
    print(f"dossiers: {n:,}   (measured {date.today()}, {NOW:%Y-%m-%d %H:%M} as the data's now)")
    print(f"{'figure (ms, median warm)':<34}{'metrics':>10}{'bare SQL':>10}{'pandas':>10}{'SQL/us':>10}{'pd/us':>10}  {'target':>6}")
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
