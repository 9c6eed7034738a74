"""Ingest benchmark: N demo dossiers as CSV and Parquet through the real pipeline, beside a bare DuckDB load.

    python bench/bench_ingest.py [--rows 1000000] [--repeat 3]

Each case runs in a fresh child process (so peak RSS is its own) against a fresh warehouse file; the
figures are medians over --repeat runs. The baseline ("the limit") is DuckDB's own
`CREATE TABLE AS SELECT * FROM read_csv/read_parquet` of the same file into a table, in the same run, with
the writer's DuckDB threads and memory_limit (--threads sets both sides).
Targets (issue 2): 1,000,000 CSV records validated and upserted in ≤ 15 s and within 2× of the bare
load; Parquet ≤ 6 s; peak memory ≤ 1.5 GB. Issue 13: CSV and Parquet each within 2× of its bare load.
The last row ("write floor") times only the insert of the pipeline's own final rows from memory: the
share of the pipeline that is storage, not checking.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 20, 12, 0)


def make_files(rows: int, out: Path) -> tuple[Path, Path, Path]:
    """CSV and Parquet of `rows` demo dossiers, plus a CSV of the same ids updated later (upserts)."""
    import pandas as pd

    from demo.generator import generate_dossiers

    per_day = 3100
    days = max(1, int(rows / per_day * 1.02) + 1)
    frames, n = [], 0
    for chunk in generate_dossiers(date(2024, 7, 1), days, per_day=per_day, seed=7, now=NOW):
        frames.append(chunk)
        n += len(chunk)
        if n >= rows:
            break
    df = pd.concat(frames, ignore_index=True).iloc[:rows]
    csv_path, pq_path, upd_path = out / "dossiers.csv", out / "dossiers.parquet", out / "updates.csv"
    df.to_csv(csv_path, index=False)
    df.to_parquet(pq_path, index=False)
    upd = df.copy()
    upd["updated_at"] = pd.to_datetime(upd["updated_at"]) + pd.Timedelta(days=1)
    upd.to_csv(upd_path, index=False)
    return csv_path, pq_path, upd_path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare(path: str, db: str, q) -> None:
    import duckdb

    from config import load_settings

    s = load_settings()  # the writer's DuckDB threads and memory_limit: the same engine, the same means
    con = duckdb.connect(db, config={"threads": s.duckdb_threads, "memory_limit": s.duckdb_memory})
    t0 = time.perf_counter()
    fn = "read_parquet" if path.endswith(".parquet") else "read_csv"
    con.execute(f"CREATE TABLE t AS SELECT * FROM {fn}('{path}')")
    con.execute("CHECKPOINT")
    n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    q.put((time.perf_counter() - t0, _peak_mb(), n))


def _pipeline(path: str, db: str, preload: str | None, q) -> None:
    from config import load_settings
    from ingest.runner import ingest_file
    from warehouse.db import open_writer

    con = open_writer(load_settings(warehouse=db))
    if preload:
        ingest_file(con, Path(preload), "dossiers", now=NOW)
    t0 = time.perf_counter()
    r = ingest_file(con, Path(path), "dossiers", now=NOW)
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t0
    assert r.status in ("ok", "partial"), r.error
    q.put((elapsed, _peak_mb(), r.inserted + r.updated))


def _write_floor(path: str, db: str, q) -> None:
    """What the pipeline cannot go below: its final rows (26 columns, derived ones included), already
    computed and in memory, inserted into `dossiers` and committed. Loaded first by the pipeline into a
    scratch warehouse; only the insert and commit are timed."""
    from config import load_settings
    from ingest.runner import ingest_file
    from warehouse.db import open_writer

    scratch = db + ".scratch.duckdb"
    con = open_writer(load_settings(warehouse=scratch))
    ingest_file(con, Path(path), "dossiers", now=NOW)
    con.close()
    con = open_writer(load_settings(warehouse=db))
    con.execute(f"ATTACH '{scratch}' AS s (READ_ONLY)")
    con.execute("CREATE TEMP TABLE rows_ready AS SELECT * FROM s.dossiers")
    con.execute("DETACH s")
    t0 = time.perf_counter()
    con.execute("BEGIN")
    n = con.execute("INSERT INTO dossiers SELECT * FROM rows_ready").fetchall()[0][0]
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t0
    for f in Path(scratch).parent.glob(Path(scratch).name + "*"):
        f.unlink()
    q.put((elapsed, _peak_mb(), n))


def run_case(target, *args) -> tuple[float, float, int]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    result = q.get()
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None,
                    help="DuckDB threads for the bare load and the pipeline alike (default: the writer's, "
                         "R57_DUCKDB_THREADS or half the cores)")
    args = ap.parse_args()
    import os

    from config import load_settings

    if args.threads:
        os.environ["R57_DUCKDB_THREADS"] = str(args.threads)  # the spawned children read it
    s = load_settings()
    print(f"DuckDB for both the bare load and the pipeline: threads={s.duckdb_threads}, "
          f"memory_limit={s.duckdb_memory} (the writer's settings)")
    with tempfile.TemporaryDirectory(prefix="r57-bench-") as tmp:
        tmpd = Path(tmp)
        t0 = time.perf_counter()
        csv_path, pq_path, upd_path = make_files(args.rows, tmpd)
        print(f"generated {args.rows:,} dossiers in {time.perf_counter() - t0:.1f} s "
              f"(CSV {csv_path.stat().st_size / 1e6:.0f} MB, Parquet {pq_path.stat().st_size / 1e6:.0f} MB)")
        cases = [
            ("CSV bare DuckDB read_csv → table (limit)", _bare, str(csv_path), None),
            ("CSV pipeline: validate + upsert (empty warehouse)", _pipeline, str(csv_path), None),
            ("CSV pipeline: upsert of all rows, later versions", _pipeline, str(upd_path), str(csv_path)),
            ("Parquet bare DuckDB read_parquet → table (limit)", _bare, str(pq_path), None),
            ("Parquet pipeline: validate + upsert (empty warehouse)", _pipeline, str(pq_path), None),
            ("write floor: the pipeline's final rows inserted from memory, commit", _write_floor, str(pq_path), None),
        ]
        results = {}
        for name, fn, path, preload in cases:
            runs = []
            for i in range(args.repeat):
                db = str(tmpd / f"w-{len(results)}-{i}.duckdb")
                extra = (preload,) if fn is _pipeline else ()  # the queue is appended last
                runs.append(run_case(fn, path, db, *extra))
                for f in tmpd.glob(f"w-{len(results)}-{i}.duckdb*"):
                    f.unlink()
            results[name] = runs
        print(f"\n| case ({args.rows:,} rows, {args.repeat} runs) | median s (min–max) | rows/s | peak RSS MB | × bare |")
        print("|---|---:|---:|---:|---:|")
        base = {}
        for name, runs in results.items():
            secs = [r[0] for r in runs]
            sec = statistics.median(secs)
            peak = max(r[1] for r in runs)
            rows = runs[0][2]
            kind = name.split()[0]
            if "bare" in name:
                base[kind] = sec
            ratio = f"{sec / base[kind]:.2f}" if kind in base else "—"
            print(f"| {name} | {sec:.2f} ({min(secs):.2f}–{max(secs):.2f}) | {rows / sec:,.0f} | {peak:,.0f} | {ratio} |")
        print("\nThe write floor is not a baseline: it is the part of the pipeline no check can remove (the same "
              "rows DuckDB must store), beside the bare loads of the 18 source columns.")


if __name__ == "__main__":
    main()
