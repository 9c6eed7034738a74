"""End-to-end set-up: headless Chromium for dash_duo, and a demo warehouse generated for today (the
helpers the browser tests share are in browser.py).

`pytest tests/e2e` runs headless without flags (Debian's chromium and /usr/bin/chromedriver).

The whole browser suite runs on a running clock that starts at E2E_NOW, Tuesday 08/12/2026 10:00 Hanoi
time (`clock.ShiftedClock`, installed for the process: the dashboard's server thread, the scheduler and the
watcher read it too), and the warehouse is seeded relative to it. On the real clock, a run that crossed
midnight failed: dossiers received "five minutes ago" at 23:58 were yesterday's on a page drawn at 00:01,
and "due later today" ones were overdue by the time the page asked (fresh-clone CI, 23:59 Hanoi). The 1st
of a month or a Sunday would change what the pages show too. R57_E2E_NOW=<ISO time> picks another start;
with R57_E2E_WAREHOUSE (an existing warehouse seeded on the real clock) the real clock is kept.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from .browser import ROOT, seed

E2E_NOW = datetime(2026, 12, 8, 10, 0)  # a working Tuesday mid-morning, after every fixed date the tests use
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


@pytest.fixture(scope="package", autouse=True)
def e2e_clock():
    """The suite's clock (see the module's docstring), for this package only: the system clock again after
    its last test (a session-wide fixture would have kept it for every test that runs after the browser
    ones)."""
    import clock

    start = os.environ.get("R57_E2E_NOW")
    if os.environ.get("R57_E2E_WAREHOUSE") and not start:
        yield None
        return
    c = clock.ShiftedClock(datetime.fromisoformat(start) if start else E2E_NOW)
    clock.install(c)
    try:
        yield c
    finally:
        clock.install(None)


@pytest.fixture(scope="package")  # after e2e_clock (autouse, same scope): seeded on the suite's clock
def e2e_settings(tmp_path_factory):
    """A fresh small warehouse; R57_E2E_WAREHOUSE=<file> points the page tests at an existing published one
    instead (e.g. the full demo, for the README's screenshots)."""
    existing = os.environ.get("R57_E2E_WAREHOUSE")
    if existing:
        from config import load_settings

        return load_settings(warehouse=existing)
    return seed(tmp_path_factory.mktemp("dash-e2e"))


@pytest.fixture
def app(e2e_settings):
    """The dashboard on `e2e_settings` (sign-in off), its shell ticking every 10 minutes (no refresh mid-test)."""
    from dashboard.app import create_app

    return create_app(e2e_settings, refresh_s=600)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
