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


def province_maps(n: int, hanoi_units: list[str]) -> list[tuple[str, dict[str, str], float]]:
    """For the first `n` provinces (Hanoi first, then by GSO code): (province code, Hanoi unit -> that
    province's unit, volume relative to Hanoi). The demo's other provinces replay Hanoi's generator on
    their own units: the city's departments become the province's, and Hanoi's i-th ward of 126 the
    province's ward at the same rank (provinces have 44–168 units, so some share or skip a rank)."""
    import csv

    import config
    from warehouse.reference import NATIONAL_UNITS

    with (config.REFERENCE_DIR / NATIONAL_UNITS).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    provinces = [r["unit_code"] for r in rows if not r["parent_code"]][: max(1, n)]
    wards = sorted(u for u in hanoi_units if u != config.CITY_CODE)
    out = []
    for code in provinces:
        if code == config.CITY_CODE:
            out.append((code, {u: u for u in hanoi_units}, 1.0))
            continue
        own = sorted(r["unit_code"] for r in rows if r["parent_code"] == code)
        mapping = {config.CITY_CODE: code}
        mapping.update({u: own[i * len(own) // len(wards)] for i, u in enumerate(wards)})
        out.append((code, mapping, len(own) / len(wards)))
    return out


def seed_demo(con: duckdb.DuckDBPyConnection, settings: Settings, days: int | None = None,
              per_day: float = 3100, seed: int = 57, force: bool = False,
              now: datetime | None = None, provinces: int = 1) -> dict:
    """Generate demo dossiers and indicators as Parquet/CSV files and load them like any source.

    `provinces` > 1: a national data set for the scale-out path (the lake by province, the aggregate
    build): the units of all 34 provinces are loaded and the first `provinces` get dossiers. The
    dashboard stays Hanoi's: point it at a Hanoi warehouse, not at this one."""
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
    plan = [("01", None, 1.0)]
    if provinces > 1:
        from demo.catalog import world
        from warehouse.reference import load_reference

        load_reference(con, national=True)
        plan = province_maps(provinces, list(world(seed)[0].codes))
        totals["provinces"] = [code for code, _, _ in plan]
    with tempfile.TemporaryDirectory(prefix="r57-demo-") as tmp:
        for k, (code, mapping, scale) in enumerate(plan):
            chunks = generate_dossiers(start, n_days, per_day=per_day * scale, seed=seed + k, now=now)
            for i, chunk in enumerate(chunks):
                if mapping is not None and code != "01":
                    chunk = chunk.assign(unit_code=chunk["unit_code"].map(mapping),
                                         dossier_id=f"P{code}." + chunk["dossier_id"])
                path = Path(tmp) / f"demo-dossiers-{code}-{i:04d}.parquet"
                chunk.to_parquet(path, index=False)
                for r in ingest_files(con, [path], "dossiers", channel="demo", now=now):
                    totals["files"] += 1
                    for key in ("rows_read", "inserted", "updated", "quarantined"):
                        totals[key] += getattr(r, key)
                    if r.error:
                        raise RuntimeError(f"demo file {path.name} failed to load: {r.error}")
                path.unlink()
                if code == "01":  # the live feed later finishes some of Hanoi's dossiers still open now
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
