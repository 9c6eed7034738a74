"""The data-health page in headless Chromium with NULLs and markup in quarantine.

Quarantined rows from an .xlsx with merged cells have no record id and no value (SQL NULL, read by pandas
as NaN): the page must still draw. Values from a source file are data, never markup: a stored
`<script>` or `<img onerror>` shows as typed text and runs nothing.
"""

from __future__ import annotations

import pytest

from .browser import errors, open_page, screenshot

pytestmark = pytest.mark.browser

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
# Records every alert()/confirm()/prompt() before any page script runs.
TRAP_DIALOGS = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt']) {
    window[name] = function (message) { window.__dialogs.push(name + ':' + String(message)); };
}
"""


@pytest.fixture(scope="module")
def health_settings(tmp_path_factory):
    """A published warehouse whose quarantine holds NULLs and markup (INSERTed as a loader leaves them)."""
    from config import load_settings
    from warehouse.db import open_writer, publish_snapshot

    tmp = tmp_path_factory.mktemp("health-e2e")
    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    rows = [  # run_id, file_name, line, record_id, reason_code, column_name, bad_value
        (1, "merged-cells.xlsx", 3, None, "unknown_unit", "unit_code", None),
        (1, "merged-cells.xlsx", 4, "MERGED-4", "bad_rating", None, None),
        (1, None, None, None, "missing_value", None, None),
        (2, "xss.csv", 2, XSS_SCRIPT, "unknown_unit", "unit_code", XSS_IMG),
        (2, XSS_IMG, 3, "XSS-3", "bad_rating", "rating", XSS_SCRIPT),
    ]
    con.executemany("INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, column_name, "
                    "bad_value, quarantined_at) VALUES (?, 'dossiers', ?, ?, ?, ?, ?, ?, current_localtimestamp())",
                    rows)
    publish_snapshot(con, s)
    con.close()
    return s


def test_health_page_draws_null_quarantine_values_and_shows_markup_as_text(dash_duo, health_settings, shots):
    from dashboard.app import create_app

    dash_duo.start_server(create_app(health_settings, refresh_s=30))
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP_DIALOGS})
    open_page(dash_duo, "/health", "#dh-quarantine .ag-row")
    screenshot(driver, shots / "health-null-quarantine.png")

    grid = dash_duo.find_element("#dh-quarantine").text
    assert "merged-cells.xlsx" in grid and "MERGED-4" in grid and "XSS-3" in grid
    assert XSS_SCRIPT in grid and XSS_IMG in grid  # as typed, on screen
    assert len(driver.find_elements("css selector", "#dh-quarantine .ag-center-cols-container .ag-row")) == 5
    assert dash_duo.find_elements("#dh-reasons table tbody tr"), "the reasons table is drawn"
    assert "nan" not in grid.lower().split()

    assert driver.execute_script("return window.__dialogs") == []
    injected = driver.execute_script("""
        return {
            img: document.querySelectorAll('#dh-quarantine img, #dh-reasons img').length,
            script: [...document.scripts].filter(s => s.text.includes('alert(1)')).length,
        };""")
    assert injected == {"img": 0, "script": 0}
    assert errors(dash_duo) == []
