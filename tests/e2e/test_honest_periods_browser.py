"""The overview in headless Chromium on the 1st of a month (a frozen clock, R57_NOW): the cards show the
previous month's statuses (the year to date through November, November beside it) and the month to date
only as labelled partial; the ranking is November's, with the units with few data apart.

Screenshots of the overview on the 1st (vi and en, 1920×1080, and 390 px wide) go to test-artifacts/screenshots/
(docs/screenshots/ holds the curated ones, taken on the full demo).
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
from selenium.webdriver.common.by import By

from .browser import ROOT, errors, overflow, screenshot, set_language, settle, viewport

pytestmark = pytest.mark.browser

FIRST = datetime(2026, 12, 1, 8, 0)
DOCS = ROOT / "test-artifacts" / "screenshots"  # never overwrite the curated docs/screenshots in a test run


@pytest.fixture(scope="module")
def first_settings(tmp_path_factory):
    """A published demo warehouse whose data ends on 1 December 2026 at 08:00."""
    from config import load_settings
    from demo.seed import seed_demo
    from metrics import refresh
    from warehouse.db import open_writer, publish_snapshot

    tmp = tmp_path_factory.mktemp("dash-first")
    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    # from mid-2024: the baselines (e.g. July 2024 – June 2025 for the cross-agency reduction) hold data
    seed_demo(con, s, days=int(os.environ.get("R57_E2E_DAYS", "900")), per_day=float(os.environ.get(
        "R57_E2E_PER_DAY", "400")), now=FIRST)
    refresh(con)
    publish_snapshot(con, s)
    con.close()
    return s


def test_the_overview_on_the_first_shows_last_months_statuses(dash_duo, first_settings, monkeypatch) -> None:
    from dashboard.app import create_app
    from dashboard.views import overview
    from warehouse.db import Reader

    monkeypatch.setenv("R57_NOW", FIRST.isoformat(timespec="minutes"))
    reader = Reader(first_settings)
    con = reader.cursor()
    expected = overview.target_rows(con, now=FIRST)
    con.close()
    reader.close()

    dash_duo.start_server(create_app(first_settings, refresh_s=30))
    viewport(dash_duo.driver, 1920, 1080)
    dash_duo.driver.get(dash_duo.server_url + "/")
    dash_duo.wait_for_element("#ov-rank .rank-row", timeout=40)
    settle(dash_duo.driver)

    # every card: the status of complete periods (November's year to date), as metrics.standing says
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#ov-cards .kpi-card")
    assert len(cards) == len(expected)
    for card, row in zip(cards, expected, strict=True):
        assert f"kpi-{row['status']}" in card.get_attribute("class").split(), row["kpi"]
        assert "kpi-partial" not in card.get_attribute("class").split()
    words = dash_duo.find_element("#ov-cards").text
    assert "Lũy kế T1–T11/2026" in words and "Tháng 11/2026:" in words
    # the month to date appears only labelled as partial, with its date
    assert re.findall(r"Tháng 12/2026[^\n]{0,22}", words)
    assert all(m.startswith("Tháng 12/2026 — tạm tính đến 01/12") for m in re.findall(r"Tháng 12/2026[^\n]{0,22}",
                                                                                     words))
    assert "12/2026" not in words.replace("Tháng 12/2026 — tạm tính đến 01/12", "").replace("31/12/2026", "")
    assert "Tạm tính" not in [b.text for b in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#ov-cards .status")]
    # the ranking and "what changed": November, and November against October
    assert "Tháng 11/2026" in dash_duo.find_element("#ov-rank-title").text
    compare = dash_duo.find_element("#ov-compare").text
    assert "11/2026 so với 10/2026" in compare
    assert "tạm tính đến 08:00" in dash_duo.find_element("#ov-changes").text
    assert dash_duo.driver.execute_script("return document.documentElement.scrollHeight") <= 1080
    DOCS.mkdir(parents=True, exist_ok=True)
    screenshot(dash_duo.driver, DOCS / "overview-vi-first-of-month.png")
    screenshot(dash_duo.driver, DOCS / "overview-vi.png")
    assert errors(dash_duo) == []

    # a phone
    viewport(dash_duo.driver, 390, 844)
    assert overflow(dash_duo.driver) <= 0
    screenshot(dash_duo.driver, DOCS / "overview-vi-phone.png")

    # English, one click away: the same statuses, the partial month labelled in English
    viewport(dash_duo.driver, 1920, 1080)
    set_language(dash_duo, "en")
    dash_duo.wait_for_contains_text("#ov-cards", "December 2026 — to date, 01/12", timeout=15)
    words = dash_duo.find_element("#ov-cards").text
    assert "Year to date, Jan–Nov 2026" in words
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#ov-cards .kpi-card")
    for card in cards:  # "No data" never beside a value: only on a card whose value is N/A
        if "No data" in card.find_element(By.CSS_SELECTOR, ".kpi-main").text:
            assert card.find_element(By.CSS_SELECTOR, ".kpi-value").text == "N/A"
    assert [c.get_attribute("class") for c in cards] == [f"kpi-card kpi-{r['status']}" for r in expected]
    screenshot(dash_duo.driver, DOCS / "overview-en.png")
    assert errors(dash_duo) == []
    set_language(dash_duo, "vi")
