"""The alerts UI and the action lists in headless Chromium (issue 11), sign-in ON for this file's server.

The ward chair of Phường Cửa Nam (demo account `cuanam`) has three unread in-app notifications, made through
the alerts engine (alerts.deliver.send_test, channel inapp). After signing in through /login:

- the header's bell says so: aria-label '3 thông báo chưa đọc', badge '3'; it links to /alerts;
- the ward page lists dossiers due within 2 working days beside the overdue ones; a click on a procedure's
  row in the procedures grid filters both lists to it (every row shown is of that procedure, the dropdown
  shows it, the address says ?procedure=…, and opening that address shows the same filtered lists), 'Bỏ lọc'
  shows everything again; a dossier id opens /dossier?id=…;
- the alerts page lists the notifications; 'Đánh dấu đã đọc' empties the bell.
At 390 px the header still fits (bell and sign-out on screen, no page overflow).

Screenshots (docs/screenshots/): ward-actions-{1920,390}-{vi,en}.png, alerts-{1920,390}-{vi,en}.png.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from .browser import (
    CHAIR,
    Problems,
    doc_shot,
    ingest_rows,
    open_checked,
    overflow,
    seed,
    set_language,
    settle,
    sign_in,
    start_watched,
    until,
    viewport,
)

pytestmark = pytest.mark.browser

HOME, OTHER = "00073", "00070"
P1, P2 = "HN-CT-001", "HN-CT-003"


def _add_dossiers(settings, path: Path) -> None:
    """Cửa Nam's own action lists, relative to the suite's clock (conftest.E2E_NOW): overdue (3 of P1, 2 of
    P2) and due later today (2 of P1, 1 of P2: 0 working days left, not overdue), and one of Hoàn Kiếm's."""
    from ingest.runner import local_now

    now = local_now()
    received, late = now - timedelta(days=25), now - timedelta(days=14)
    rows = [[f"LATE-{proc}-{i}", HOME, proc, "online_full", f"{received:%Y-%m-%d 09:00}", f"{late:%Y-%m-%d 17:00}",
             "processing", 0, 0, f"{received:%Y-%m-%d 09:00}"] for i, proc in enumerate([P1, P1, P1, P2, P2])]
    soon = now - timedelta(days=3)
    rows += [[f"SOON-{proc}-{i}", unit, proc, "in_person", f"{soon:%Y-%m-%d 09:00}", f"{now:%Y-%m-%d 23:59}",
              "processing", 0, 0, f"{soon:%Y-%m-%d 09:00}"]
             for i, (unit, proc) in enumerate([(HOME, P1), (HOME, P1), (HOME, P2), (OTHER, P1)])]
    ingest_rows(settings, path, rows)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from access.db import get_appdb
    from access.demo import demo_accounts
    from alerts.deliver import send_test

    tmp = tmp_path_factory.mktemp("alerts-e2e")
    settings = dataclasses.replace(seed(tmp), auth="on")
    _add_dossiers(settings, tmp / "ours.csv")
    db = get_appdb(settings)
    demo_accounts(db, settings)
    for _ in range(3):  # three unread notifications of the chair, made as `alerts test --channel inapp` does
        assert send_test("inapp", settings, db, username=CHAIR[0])["status"] == "sent"
    return settings


@pytest.fixture
def browser(dash_duo, world):
    from dashboard.app import create_app

    return start_watched(dash_duo, create_app(world, refresh_s=2))  # the bell follows the shell's tick


def _rows(driver, grid: str) -> list[dict]:
    """The rows a grid shows now: dossier id and procedure (its tooltip field: the full name)."""
    out = []
    for r in driver.find_elements(By.CSS_SELECTOR, f"#{grid} .ag-center-cols-container .ag-row"):
        cells = {c.get_attribute("col-id"): c.text.strip() for c in r.find_elements(By.CSS_SELECTOR, "[col-id]")}
        if cells.get("dossier_id"):
            out.append(cells)
    return out


def _wait_rows(driver, grid: str, pred, timeout: float = 20) -> list[dict]:
    def matched():  # a grid redrawn meanwhile is read again
        rows = _rows(driver, grid)
        return rows if rows and pred(rows) else None

    return until(matched, timeout, lambda: f"{grid}: rows never matched; last {_rows(driver, grid)}")


def _header_fits(driver) -> dict:
    box = driver.execute_script("""
        const w = document.documentElement.clientWidth, out = {width: w};
        for (const css of ['.shell-bell', '.shell-signout button', '.lang-switch']) {
          const e = document.querySelector(css); if (!e) { out[css] = null; continue; }
          const r = e.getBoundingClientRect(); out[css] = {left: r.left, right: r.right, top: r.top, shown: r.width > 0};
        }
        return out;""")
    for css in ('.shell-bell', '.shell-signout button', '.lang-switch'):
        b = box[css]
        assert b and b["shown"] and b["left"] >= 0 and b["right"] <= box["width"] + 0.5, (css, box)
    return box


def _procedure_names(lang: str = "vi") -> dict[str, str]:
    from dashboard.data import procedure_names

    return procedure_names(lang)


def _scroll_to(driver, css: str) -> None:
    driver.execute_script("""
        const e = document.querySelector(arguments[0]);
        const header = document.querySelector('.shell-header');
        const below = header && getComputedStyle(header).position === 'sticky' ? header.offsetHeight : 0;
        window.scrollTo({top: e.getBoundingClientRect().top + window.scrollY - below - 8, behavior: 'instant'});""", css)
    settle(driver)


def test_bell_action_lists_and_alerts_page(browser, world) -> None:
    dash_duo, base = browser
    driver = dash_duo.driver
    problems = Problems(dash_duo)
    viewport(driver, 1920, 1080)
    sign_in(dash_duo, base, problems, CHAIR)

    # the bell: three unread notifications, said to a screen reader, a badge on screen
    bell = dash_duo.wait_for_element("#shell-bell", timeout=10)
    assert bell.get_attribute("aria-label") == "3 thông báo chưa đọc", bell.get_attribute("aria-label")
    assert dash_duo.find_element("#shell-bell-count").text == "3"
    assert bell.get_attribute("href").endswith("/alerts")

    # the ward page: due soon beside overdue, Cửa Nam's own
    open_checked(dash_duo, problems, base + "/ward", "#wu-kpis table", "/ward")
    names = _procedure_names()
    due = _wait_rows(driver, "wu-due-grid", lambda r: len(r) >= 3)
    over = _wait_rows(driver, "wu-overdue-grid", lambda r: len(r) >= 5)
    print(f"\n/ward: due soon {len(due)} rows, overdue {len(over)} rows")
    assert {"SOON-HN-CT-001-0", "SOON-HN-CT-001-1", "SOON-HN-CT-003-2"} <= {r["dossier_id"] for r in due}
    assert "SOON-HN-CT-001-3" not in {r["dossier_id"] for r in due}  # Hoàn Kiếm's
    assert dash_duo.find_element("#wu-due-title").text.startswith("Sắp đến hạn (trong 2 ngày làm việc):")
    assert {r["procedure"] for r in due} >= {names[P1], names[P2]}
    _scroll_to(driver, ".action-lists")
    doc_shot(driver, "ward-actions-1920-vi.png")

    # a click on P2's row of the procedures grid filters both lists to P2
    cell = dash_duo.find_element(f"#wu-procs .ag-row[row-id='{P2}'] [col-id='sector']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", cell)
    due_p2 = _wait_rows(driver, "wu-due-grid", lambda r: r and all(x["procedure"] == names[P2] for x in r))
    over_p2 = _wait_rows(driver, "wu-overdue-grid", lambda r: r and all(x["procedure"] == names[P2] for x in r))
    print(f"filtered to {P2}: due soon {len(due_p2)}, overdue {len(over_p2)}")
    assert len(due_p2) < len(due) and len(over_p2) < len(over)
    assert {"LATE-HN-CT-003-3", "LATE-HN-CT-003-4"} <= {r["dossier_id"] for r in over_p2}
    assert P2 in dash_duo.find_element("#wu-proc-filter").text
    assert "Đang lọc theo thủ tục" in dash_duo.find_element("#wu-overdue-note").text
    clear = dash_duo.find_element("#wu-proc-clear")
    assert clear.text == "Bỏ lọc" and clear.is_enabled()
    _scroll_to(driver, ".action-lists")
    doc_shot(driver, "ward-actions-filtered-1920-vi.png")
    # the filter is in the address, and that link opens the page filtered the same way
    link = until(lambda: f"procedure={P2}" in driver.current_url and driver.current_url,
                 message=lambda: f"no procedure in the address: {driver.current_url}")
    open_checked(dash_duo, problems, link, "#wu-kpis table", "/ward?…&procedure=")
    again = _wait_rows(driver, "wu-overdue-grid", lambda r: r and all(x["procedure"] == names[P2] for x in r))
    assert {r["dossier_id"] for r in again} == {r["dossier_id"] for r in over_p2}
    assert P2 in dash_duo.find_element("#wu-proc-filter").text
    clear = dash_duo.find_element("#wu-proc-clear")
    until(lambda: clear.is_enabled())
    driver.execute_script("arguments[0].click();", clear)
    until(lambda: "procedure=" not in driver.current_url, message=lambda: driver.current_url)
    _wait_rows(driver, "wu-overdue-grid", lambda r: len(r) == len(over))
    _wait_rows(driver, "wu-due-grid", lambda r: len(r) == len(due))
    problems.check("/ward (procedure filter)")

    # a dossier id opens its detail
    link = dash_duo.find_element("#wu-due-grid .ag-row [col-id='dossier_id'] a")
    dossier_id = link.text.strip()
    driver.execute_script("arguments[0].click();", link)
    dash_duo.wait_for_text_to_equal("#do-title", f"Hồ sơ {dossier_id}", timeout=20)
    assert "/dossier?id=" in driver.current_url
    body = dash_duo.find_element("#do-body").text
    assert "Phường Cửa Nam (00073)" in body and "Lịch sử các phiên bản đã lưu" in body
    settle(driver)
    doc_shot(driver, "alerts-dossier-1920-vi.png")
    problems.check("/dossier")

    # English, then the phone
    open_checked(dash_duo, problems, base + "/ward", "#wu-kpis table", "/ward (en)")
    set_language(dash_duo, "en")
    _wait_rows(driver, "wu-due-grid", lambda r: len(r) >= 3)
    dash_duo.wait_for_contains_text("#wu-due-title", "Due within 2 working days", timeout=20)
    assert dash_duo.find_element("#shell-bell").get_attribute("aria-label") == "3 unread notifications"
    pagers = [p.text for p in driver.find_elements(By.CSS_SELECTOR, ".action-lists .ag-paging-panel")]
    assert pagers and all("Page" in t and "Trang" not in t and "trên" not in t for t in pagers), pagers
    _scroll_to(driver, ".action-lists")
    doc_shot(driver, "ward-actions-1920-en.png")
    viewport(driver, 390, 844)
    _header_fits(driver)
    assert overflow(driver) <= 0, f"/ward overflows a phone by {overflow(driver)}px"
    _scroll_to(driver, ".action-lists")
    doc_shot(driver, "ward-actions-390-en.png")
    set_language(dash_duo, "vi")
    _scroll_to(driver, ".action-lists")
    doc_shot(driver, "ward-actions-390-vi.png")
    driver.execute_script("window.scrollTo(0, 0)")
    doc_shot(driver, "alerts-header-390-vi.png")
    box = _header_fits(driver)
    print(f"header @390: {box}")

    # the alerts page: the notifications, newest first; 'Đánh dấu đã đọc' empties the bell
    open_checked(dash_duo, problems, base + "/alerts", "#al-notifs .al-n", "/alerts @390")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#al-notifs .al-n-unread")) == 3
    assert dash_duo.find_element("#al-notifs-title").text == "Thông báo: 3 chưa đọc"
    assert overflow(driver) <= 0, f"/alerts overflows a phone by {overflow(driver)}px"
    doc_shot(driver, "alerts-390-vi.png")
    set_language(dash_duo, "en")
    dash_duo.wait_for_text_to_equal("#al-notifs-title", "Notifications: 3 unread", timeout=10)
    doc_shot(driver, "alerts-390-en.png")
    viewport(driver, 1920, 1080)
    doc_shot(driver, "alerts-1920-en.png")
    set_language(dash_duo, "vi")
    dash_duo.wait_for_text_to_equal("#al-notifs-title", "Thông báo: 3 chưa đọc", timeout=10)
    doc_shot(driver, "alerts-1920-vi.png")
    driver.execute_script("arguments[0].click();", dash_duo.find_element("#al-mark-read"))
    dash_duo.wait_for_text_to_equal("#al-message", "Đã đánh dấu 3 thông báo là đã đọc.", timeout=10)
    until(lambda: dash_duo.find_element("#shell-bell").get_attribute("aria-label") == "Không có thông báo chưa đọc",
          10, lambda: f"the bell still says {dash_duo.find_element('#shell-bell').get_attribute('aria-label')!r}")
    assert not dash_duo.find_element("#shell-bell-count").is_displayed()
    problems.check("/alerts (mark read)")
    problems.assert_clean()
