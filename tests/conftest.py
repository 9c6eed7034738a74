"""Shared fixtures: a real DuckDB warehouse file in a temp folder, with schema and reference data."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from config import load_settings
from warehouse.db import open_writer

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


@pytest.fixture
def settings(tmp_path):
    return load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")


@pytest.fixture
def con(settings):
    con = open_writer(settings)
    yield con
    con.close()


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
