"""End-to-end set-up: headless Chromium for dash_duo, and a demo warehouse generated for today.

`pytest tests/e2e` runs headless without flags (Debian's chromium and /usr/bin/chromedriver). The
warehouse is seeded relative to the real clock, because the app (rightly) has no way to be told
another time: the current month must hold data for the pages to show it.
"""

from __future__ import annotations

import csv
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_configure(config) -> None:
    config.option.headless = True  # same as `pytest --headless`: CI has no display


def pytest_setup_options():
    """Chrome options for dash_duo (dash.testing calls this hook); it adds headless and the sandbox flags."""
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1920,1080",
                "--hide-scrollbars", "--lang=vi-VN"):
        options.add_argument(arg)
    # headless Chromium sends Accept-Language: en-US whatever --lang says; the dashboard reads it (after its cookie)
    options.add_argument("--accept-lang=vi-VN,vi")
    return options


def seed(tmp: Path, days: int = 45, per_day: float = 300):
    """A published demo warehouse ending now, with two quarantined rows; returns its settings."""
    from config import load_settings
    from demo.seed import seed_demo
    from ingest.runner import ingest_files
    from metrics import refresh
    from warehouse.db import open_writer, publish_snapshot

    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    seed_demo(con, s, days=days, per_day=per_day)
    bad = tmp / "bad-export.csv"
    with bad.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
                    "updated_at"])
        w.writerow(["BAD-1", "99999", "HN-CT-001", "online_full", "2026-01-10 09:00", "2026-01-12 17:00",
                    "processing", "2026-01-10 09:00"])
        w.writerow(["BAD-2", "00073", "HN-CT-001", "fax", "2026-01-10 09:00", "2026-01-12 17:00",
                    "processing", "2026-01-10 09:00"])
    ingest_files(con, [bad], "dossiers", channel="cli")
    refresh(con)
    publish_snapshot(con, s)
    con.close()
    return s


def new_dossiers(path: Path, n: int, unit: str = "00073") -> Path:
    """n dossiers received a few minutes ago (what an inbox file of a live one-stop shop looks like)."""
    from ingest.runner import local_now

    now = local_now()
    received = now - timedelta(minutes=5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
                    "supplement_count", "supplement_days", "updated_at"])
        for i in range(n):
            w.writerow([f"E2E-{now:%H%M%S}-{i:03d}", unit, "HN-CT-001", "online_full",
                        f"{received:%Y-%m-%d %H:%M}", f"{now + timedelta(days=3):%Y-%m-%d 17:00}", "received", 0, 0,
                        f"{received:%Y-%m-%d %H:%M}"])
    return path


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory):
    """A fresh small warehouse; R57_E2E_WAREHOUSE=<file> points the page tests at an existing published one
    instead (e.g. the full demo, for the README's screenshots)."""
    existing = os.environ.get("R57_E2E_WAREHOUSE")
    if existing:
        from config import load_settings

        return load_settings(warehouse=existing)
    return seed(tmp_path_factory.mktemp("dash-e2e"))


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
