"""End-to-end set-up: headless Chromium for dash_duo, and a demo warehouse generated for today (the
helpers the browser tests share are in browser.py).

`pytest tests/e2e` runs headless without flags (Debian's chromium and /usr/bin/chromedriver). The
warehouse is seeded relative to the real clock, because the app (rightly) has no way to be told
another time: the current month must hold data for the pages to show it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from .browser import ROOT, seed

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


@pytest.fixture(scope="session")
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
