"""What one ingest process writes to disk, and how long its refresh and publication take (issue 13, items 1–2).

    python bench/bench_publish.py --warehouse PATH.duckdb [--dossiers 3000] [--repeat 3] [--modes copy,serving]

For each publish mode (R57_PUBLISH: `serving`, the default, and `copy`, the baseline: a publication that
copies the whole warehouse file, as every publish did before), on a private copy of the warehouse:

1. a warm-up ingest (not measured) so that the lake and a previous snapshot exist, as on a running system;
2. `--repeat` times each: a file of N **new** dossiers received in the last day, and a file of N **corrected** dossiers
   of the two oldest complete months (status, rating and update time changed), each loaded by a fresh
   `python app.py ingest FILE --json` process: ingest, refresh, publish and close, exactly as the CLI does.

Reported per case: the bytes that process wrote (`/proc/self/io` write_bytes at its exit: every write of
the process, the warehouse's WAL and checkpoint, the aggregates, the lake and the snapshot), its
`refresh_seconds`, `publish_seconds`, `publish_bytes`, and the wall time. Medians with min–max.
Targets (issue 13): ≤ 16 MB written for 3,000 new dossiers on a 1.2 M-dossier warehouse (≤ 32 MB at
10 M), within 2× between a 120 k and a 1.2 M warehouse; publish ≤ 0.5 s; refresh after 3,000 corrected
old dossiers ≤ 2 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
           "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint", "paid_online",
           "digitized", "data_reused", "applicant_type", "updated_at"]

CHILD = """
import json, sys
sys.path.insert(0, {root!r})
import app
code = 0
try:
    app.main(["ingest", {path!r}, "--json"])
except SystemExit as exc:
    code = exc.code or 0
io = dict(line.split(": ") for line in open("/proc/self/io").read().split("\\n") if line)
print("R57IO " + json.dumps({{k: int(v) for k, v in io.items()}}), file=sys.stderr)
sys.exit(code)
"""


def _hanoi_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def new_file(path: Path, n: int, tag: str) -> Path:
    """N demo dossiers received in the last day (the generator's, with ids nobody has used)."""
    import pandas as pd

    from demo.generator import generate_dossiers

    now = _hanoi_now()
    frames = list(generate_dossiers(now.date() - timedelta(days=1), 2, per_day=2 * n, seed=len(tag) + n, now=now))
    df = pd.concat(frames, ignore_index=True).sort_values("received_at").tail(n).copy()
    df["dossier_id"] = [f"BENCH-{tag}-{i:05d}" for i in range(len(df))]
    df.to_csv(path, index=False)
    return path


def corrected_file(wh: Path, path: Path, n: int, tag: str) -> tuple[Path, list[str]]:
    """N dossiers of the two oldest complete months, re-sent with a later update (rating and status changed)."""
    import duckdb

    con = duckdb.connect(str(wh), read_only=True)
    try:
        months = [m for (m,) in con.execute(
            "SELECT DISTINCT date_trunc('month', received_date) m FROM dossiers ORDER BY m LIMIT 3").fetchall()][1:3]
        rows = con.execute(f"""
            SELECT {', '.join(COLUMNS)} FROM dossiers
            WHERE date_trunc('month', received_date) IN (?, ?) AND completed_at IS NOT NULL
            ORDER BY hash(dossier_id, ?) LIMIT {int(n)}""", [*months, tag]).fetchall()
    finally:
        con.close()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in rows:
            d = dict(zip(COLUMNS, r, strict=True))
            d["rating"] = 1 + (int(d["rating"] or 0) % 5)
            d["updated_at"] = d["updated_at"] + timedelta(seconds=1 + len(tag))
            w.writerow([_fmt(d[c]) for c in COLUMNS])
    return path, [m.strftime("%Y-%m") for m in months]


def run_ingest(wh: Path, path: Path, mode: str) -> dict:
    env = {**os.environ, "R57_WAREHOUSE": str(wh), "R57_DATA_DIR": str(wh.parent), "R57_PUBLISH": mode,
           "R57_AUTH": "off"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path))],
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=3600)
    wall = time.perf_counter() - started
    io = next((json.loads(line[6:]) for line in proc.stderr.splitlines() if line.startswith("R57IO ")), None)
    if proc.returncode != 0 or io is None:
        raise SystemExit(f"ingest failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    [item] = json.loads(proc.stdout)
    return {"status": item["status"], "inserted": item["inserted"], "updated": item["updated"],
            "write_bytes": io["write_bytes"], "refresh_s": item.get("refresh_seconds"),
            "publish_s": item["publish_seconds"], "publish_bytes": item["publish_bytes"], "wall_s": wall}


def _mm(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    xs = sorted(x / scale for x in xs)
    return f"{statistics.median(xs):.{digits}f} ({xs[0]:.{digits}f}–{xs[-1]:.{digits}f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True, type=Path)
    ap.add_argument("--dossiers", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="serving,copy")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    import duckdb

    con = duckdb.connect(str(args.warehouse), read_only=True)
    total = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    con.close()
    print(f"warehouse {args.warehouse} ({total:,} dossiers, {args.warehouse.stat().st_size / 1e6:.1f} MB); "
          f"{args.dossiers:,} dossiers per file; {args.repeat} runs per case; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}")
    work = Path(tempfile.mkdtemp(prefix="r57-bench-publish-"))
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        for mode in args.modes.split(","):
            folder = work / mode
            folder.mkdir()
            wh = folder / "warehouse.duckdb"
            shutil.copyfile(args.warehouse, wh)
            warm = run_ingest(wh, new_file(folder / "warm.csv", 10, f"{mode}-warm"), mode)
            print(f"[{mode}] warm-up (first publication{', whole lake' if mode == 'serving' else ''}): "
                  f"{warm['write_bytes'] / 1e6:.1f} MB written, publish {warm['publish_s']:.2f} s")
            for rep in range(args.repeat):
                for case in ("new", "corrected"):
                    tag = f"{mode}-{case}-{rep}"
                    if case == "new":
                        path = new_file(folder / f"{tag}.csv", args.dossiers, tag)
                        what = ""
                    else:
                        path, months = corrected_file(wh, folder / f"{tag}.csv", args.dossiers, tag)
                        what = f" months {'+'.join(months)}"
                    r = run_ingest(wh, path, mode)
                    results.setdefault((mode, case), []).append(r)
                    print(f"[{mode}] {case:9s} rep {rep + 1}: +{r['inserted']} ~{r['updated']}{what}: "
                          f"{r['write_bytes'] / 1e6:6.1f} MB written, refresh {r['refresh_s']:.2f} s, "
                          f"publish {r['publish_s']:.2f} s ({r['publish_bytes'] / 1e6:.1f} MB), "
                          f"process {r['wall_s']:.1f} s", flush=True)
            on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.suffix != ".csv")
            print(f"[{mode}] on disk after the runs: {on_disk / 1e6:.1f} MB "
                  f"(warehouse {wh.stat().st_size / 1e6:.1f} MB)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("| case | mode | MB written by the process | refresh s | publish s | publish MB | process s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (mode, case), rs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0] != "serving")):
        print(f"| {args.dossiers:,} {case} | {mode}{' (baseline: copy the warehouse)' if mode == 'copy' else ''} | "
              f"{_mm([r['write_bytes'] for r in rs], 1e6, 1)} | {_mm([r['refresh_s'] for r in rs])} | "
              f"{_mm([r['publish_s'] for r in rs])} | {_mm([r['publish_bytes'] for r in rs], 1e6, 1)} | "
              f"{_mm([r['wall_s'] for r in rs], 1, 1)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
