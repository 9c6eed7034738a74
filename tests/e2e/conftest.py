"""End-to-end set-up: headless Chromium for dash_duo, and a demo warehouse generated for today.

`pytest tests/e2e` runs headless without flags (Debian's chromium and /usr/bin/chromedriver). The
warehouse is seeded relative to the real clock, because the app (rightly) has no way to be told
another time: the current month must hold data for the pages to show it.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By

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


# --- browser helpers shared by the test modules (the a11y tests) ---------------------------------------

NAV_WORDS = {"vi": "Tổng quan", "en": "Overview"}


def viewport(driver, width: int, height: int) -> None:
    """An exact CSS viewport; below 600 px wide, a phone."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def busy(driver) -> int:
    """How many Dash components are loading (a callback pending)."""
    return driver.execute_script("return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length")


def settle(driver, quiet_s: float = 0.5, timeout: float = 15) -> None:
    """Wait until no callback has been pending for quiet_s (the page and its charts have drawn), or timeout."""
    end = time.time() + timeout
    while time.time() < end:
        if not busy(driver):
            time.sleep(quiet_s)
            if not busy(driver):
                return
        time.sleep(0.1)


def set_language(dash_duo, lang: str) -> None:
    """Click the VI/EN switch and wait for the navigation's words, then for the page to settle."""
    dash_duo.driver.find_element(By.XPATH, f"//label[normalize-space()='{lang.upper()}']").click()
    dash_duo.wait_for_text_to_equal("#nav-overview", NAV_WORDS[lang], timeout=10)
    settle(dash_duo.driver)


# the focused element (a btn-check radio's label shows its focus), its outline and the colour behind it
FOCUS_JS = """
let el = document.activeElement;
const shown = (el && el.classList.contains('btn-check') && el.nextElementSibling) ? el.nextElementSibling : el;
const s = getComputedStyle(shown);
// any CSS colour (rgb(), AG Grid's color-mix() results as color(srgb ...), names) as [r, g, b, a] 0-255,
// through a canvas: a regex on the computed string misread color(srgb 0.09 0.11 0.12 / 0.15) as near black
const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
function rgba(c) {
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = 'rgba(0, 0, 0, 0)';
  ctx.fillStyle = c;
  ctx.fillRect(0, 0, 1, 1);
  return Array.from(ctx.getImageData(0, 0, 1, 1).data);
}
// what is behind the ring: the backgrounds from the element (a ring drawn inside it, negative offset, lies on
// its own background) or its parent up to the first opaque one, laid over white
const layers = [];
let p = parseFloat(s.outlineOffset) < 0 ? shown : shown.parentElement;
while (p) {
  const c = rgba(getComputedStyle(p).backgroundColor);
  if (c[3] > 0) { layers.push(c); if (c[3] === 255) { break; } }
  p = p.parentElement;
}
let bg = [255, 255, 255];
layers.reverse().forEach(function (c) {
  const a = c[3] / 255;
  bg = bg.map(function (v, i) { return Math.round(c[i] * a + v * (1 - a)); });
});
const ring = rgba(s.outlineColor);
return {tag: el.tagName.toLowerCase(), id: el.id || '', cls: String(el.className || ''), name: el.name || '',
        type: el.type || '', text: (shown.textContent || '').trim().slice(0, 40), href: el.getAttribute('href') || '',
        outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
        color: 'rgb(' + ring.slice(0, 3).join(', ') + ')', bg: 'rgb(' + bg.join(', ') + ')'};
"""


def _rgb(css: str) -> tuple[float, float, float]:
    import re

    return tuple(float(x) for x in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def lum(rgb):
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    la, lb = lum(_rgb(a)), lum(_rgb(b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
