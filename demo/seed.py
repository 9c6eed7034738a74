"""Seed the embedded demo warehouse through the real ingest pipeline (files → validate → upsert)."""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from config import Settings
from ingest.runner import ingest_files, local_now
from warehouse.db import set_meta

log = logging.getLogger(__name__)

# The cross-agency baseline (docs/domain.md §4) starts here; the demo starts with it so that every
# Resolution 57 KPI, the processing-time reduction included, has the data it is measured against.
DEMO_START = date(2024, 7, 1)


def seed_demo(con: duckdb.DuckDBPyConnection, settings: Settings, days: int | None = None,
              per_day: float = 3100, seed: int = 57, force: bool = False,
              now: datetime | None = None) -> dict:
    """Generate demo dossiers and indicators as Parquet/CSV files and load them like any source."""
    from demo.generator import generate_dossiers, generate_indicators
    from demo.live import remember_open

    have = con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    if have and not force:
        return {"skipped": f"the warehouse already holds {have:,} dossiers (use --force to add demo data)"}
    now = now or local_now()
    start = DEMO_START if days is None else (now.date() - timedelta(days=days))
    n_days = (now.date() - start).days + 1
    started = time.perf_counter()
    totals = {"files": 0, "rows_read": 0, "inserted": 0, "updated": 0, "quarantined": 0}
    settings.dossier_inbox.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="r57-demo-") as tmp:
        for i, chunk in enumerate(generate_dossiers(start, n_days, per_day=per_day, seed=seed, now=now)):
            path = Path(tmp) / f"demo-dossiers-{i:04d}.parquet"
            chunk.to_parquet(path, index=False)
            for r in ingest_files(con, [path], "dossiers", channel="demo", now=now):
                totals["files"] += 1
                for k in ("rows_read", "inserted", "updated", "quarantined"):
                    totals[k] += getattr(r, k)
                if r.error:
                    raise RuntimeError(f"demo file {path.name} failed to load: {r.error}")
            path.unlink()
            # the live feed later finishes some of the dossiers still open now (the recent ones)
            remember_open(settings.dossier_inbox, chunk)
        ind = Path(tmp) / "demo-indicators.csv"
        generate_indicators(start_year=2024, now=now, seed=seed).to_csv(ind, index=False)
        ind_reports = ingest_files(con, [ind], "indicators", channel="demo", now=now)
    set_meta(con, "demo", "true")
    set_meta(con, "demo_seeded_at", now.strftime("%Y-%m-%d %H:%M:%S"))
    from metrics.aggregates import refresh

    refresh(con)
    con.execute("CHECKPOINT")
    totals.update({
        "start": start.isoformat(), "days": n_days, "seconds": round(time.perf_counter() - started, 1),
        "indicators_inserted": sum(r.inserted for r in ind_reports),
    })
    log.info("demo seeded: %s", totals)
    return totals
