"""Shared fixtures: a real DuckDB warehouse file in a temp folder, with schema and reference data; and the
seeded demo warehouses several test modules read (seeded once per session at a fixed NOW).

The seeded warehouses are READ-ONLY for the tests that share them: a test that writes to its warehouse
(ingest, alerts, audit, accounts) keeps its own copy. Files a test makes (reports) go to a folder of its own:
`dataclasses.replace(settings, data_dir=...)` keeps the shared warehouse and its snapshots.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime
from pathlib import Path

import pytest

from config import load_settings
from warehouse.db import Reader, open_writer, publish_snapshot

# Sign-in is off for the tests of other features (issue 10 allows it): set before any settings are built,
# so fixtures of every scope and servers started in subprocesses see it. The access tests turn it on
# explicitly (load_settings(auth="on")).
os.environ.setdefault("R57_AUTH", "off")
# browser tests make hundreds of requests a minute; the limit's own test sets config.DEFAULT_RATE_LIMIT
os.environ.setdefault("R57_RATE_LIMIT", "100000 per minute")

CANONICAL = [
    "dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
    "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint",
    "paid_online", "digitized", "data_reused", "applicant_type", "updated_at",
]


DEMO_NOW = datetime(2026, 3, 16, 12, 0)    # a Monday; `demo_warehouse` and `views_warehouse` end here
REPORT_NOW = datetime(2026, 11, 3, 10, 0)  # a Tuesday; `report_warehouse` ends here (report month 2026-10)


@pytest.fixture
def settings(tmp_path):
    return load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")


@pytest.fixture
def con(settings):
    con = open_writer(settings)
    yield con
    con.close()


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds have passed (False): the tests' wait for
    something observable, instead of a fixed sleep."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def dossier(**kw) -> dict:
    """A valid canonical dossier row; keyword arguments override fields."""
    row = {
        "dossier_id": "D1", "unit_code": "00073", "procedure_code": "HN-HT-001", "channel": "online_full",
        "received_at": "2026-03-02 09:00:00", "due_at": "2026-03-04 17:00:00", "completed_at": "",
        "status": "processing", "cross_agency": "", "supplement_count": "0", "supplement_days": "0",
        "rating": "", "complaint": "false", "paid_online": "false", "digitized": "true",
        "data_reused": "false", "applicant_type": "citizen", "updated_at": "2026-03-02 09:00:00",
    }
    row.update({k: ("" if v is None else str(v)) for k, v in kw.items()})
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None, delimiter: str = ",",
              bom: bool = False) -> Path:
    columns = columns or CANONICAL
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


# --- seeded demo warehouses, one per session each, read-only ---------------------------------------------

def _seeded(folder: Path, days: int, per_day: float, now: datetime, quarantine: bool = False):
    """Demo data through the real ingest (optionally one bad file that leaves two rows in quarantine),
    refreshed and published as a snapshot; returns the settings."""
    from demo.seed import seed_demo

    s = load_settings(data_dir=folder, warehouse=folder / "wh.duckdb")
    con = open_writer(s)
    try:
        seed_demo(con, s, days=days, per_day=per_day, now=now)
        if quarantine:
            from ingest.runner import ingest_files

            bad = folder / "bad-export.csv"
            with bad.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at",
                            "completed_at", "status", "updated_at"])
                w.writerow(["BAD-1", "99999", "HN-CT-001", "online_full", "2026-03-10 09:00", "2026-03-12 17:00", "",
                            "processing", "2026-03-10 09:00"])
                w.writerow(["BAD-2", "00073", "HN-CT-001", "online_full", "10/03/2026 9h", "2026-03-12 17:00", "",
                            "processing", "2026-03-10 09:00"])
            ingest_files(con, [bad], "dossiers", channel="cli", now=now)
        import metrics

        metrics.refresh(con)
        publish_snapshot(con, s)
    finally:
        con.close()
    return s


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """Settings of a published demo warehouse: 45 days x 200 dossiers a day ending DEMO_NOW. Read-only."""
    return _seeded(tmp_path_factory.mktemp("demo-wh"), days=45, per_day=200, now=DEMO_NOW)


@pytest.fixture(scope="session")
def views_warehouse(tmp_path_factory):
    """Settings of a published demo warehouse for the dashboard's views: 60 days x 300 dossiers a day ending
    DEMO_NOW, plus two quarantined rows (a unit that does not exist, a date in words). Read-only."""
    return _seeded(tmp_path_factory.mktemp("views-wh"), days=60, per_day=300, now=DEMO_NOW, quarantine=True)


@pytest.fixture
def views_con(views_warehouse):
    """A cursor on `views_warehouse`'s snapshot."""
    reader = Reader(views_warehouse)
    cur = reader.cursor()
    yield cur
    cur.close()
    reader.close()


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory):
    """(settings, reader) over a published demo warehouse for the reports: 60 days x 300 dossiers a day
    ending REPORT_NOW. Read-only; reports go to a folder of the test's own."""
    settings = _seeded(tmp_path_factory.mktemp("reports-wh"), days=60, per_day=300, now=REPORT_NOW)
    reader = Reader(settings)
    yield settings, reader
    reader.close()


# --- the application database on both backends (access and alerts stores) ------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty application database: a SQLite file, or a fresh schema in R57_TEST_PG_URL's PostgreSQL (made and
    dropped here). Without that variable the PostgreSQL cases are skipped, except under CI, where they fail."""
    import secrets
    from urllib.parse import quote

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite3'}"
        return
    pg_url = os.environ.get("R57_TEST_PG_URL")
    if not pg_url:
        if os.environ.get("CI"):
            pytest.fail("R57_TEST_PG_URL is not set: CI must run the PostgreSQL cases (.ci/run sets it)")
        pytest.skip("R57_TEST_PG_URL unset: PostgreSQL cases skipped")
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_url + ("&" if "?" in pg_url else "?") + "options=" + quote(f"-csearch_path={schema}", safe="")
    finally:
        with psycopg.connect(pg_url, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')
