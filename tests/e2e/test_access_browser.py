"""Sign-in, roles and ward scope in headless Chromium (issue 10), with sign-in ON for this file's server.

A ward chair of Phường Cửa Nam (00073) signs in through the real /login form (types the username and the
password, submits), then sees only Cửa Nam: in the overview's ranking, on the ward page (it opens on Cửa Nam;
every overdue dossier listed is one of 00073's, checked against the warehouse), in the wards grid and its CSV
download, in the KPI page's per-unit chart (the Plotly figure's own data) and phone list, on the reports page
(list and unit choices). `?unit=00070` (Phường Hoàn Kiếm) on /ward and /kpi gives the out-of-scope state,
never Hoàn Kiếm's figures. The leader sees every ward in the grid. The header's sign-out button returns to
/login. On every page visited: no Content-Security-Policy violation (a `securitypolicyviolation` listener put
in before any page script, and the console), no severe console error.

Screenshots (docs/screenshots/signin-*.png): the ward chair's overview and ward page at 390 and 1920 px in
Vietnamese, the login page in English at 390 px.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .browser import (
    CHAIR,
    LEADER,
    Problems,
    choose,
    doc_shot,
    downloaded,
    downloads_to,
    ingest_rows,
    open_checked,
    overflow,
    seed,
    settle,
    sign_in,
    start_watched,
    until,
    viewport,
)

pytestmark = pytest.mark.browser

HOME, OTHER = "00073", "00070"  # Phường Cửa Nam, Phường Hoàn Kiếm
HOME_NAME, OTHER_NAME = "Cửa Nam", "Hoàn Kiếm"
WIDTHS = {1920: 1080, 390: 844}

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A seeded, published warehouse with sign-in on, the demo accounts, and three report records: the city's
    and Hoàn Kiếm's (which the ward chair must not see) and Cửa Nam's."""
    import config
    from access.db import get_appdb
    from access.demo import demo_accounts
    from reports.data import previous_month
    from reports.jobs import run_one

    tmp = tmp_path_factory.mktemp("access-e2e")
    settings = dataclasses.replace(seed(tmp), auth="on")
    _add_overdue(settings, tmp / "overdue.csv", {HOME: 6, OTHER: 9})
    assert settings.auth_enabled
    demo_accounts(get_appdb(settings), settings)
    month = previous_month(datetime.now(config.TZ))
    for unit in (config.CITY_CODE, OTHER, HOME):  # failed records (no snapshot given): quick, and listed
        run_one(settings, month, unit, "vi", charts=False, attempts=1, backoff_s=0, reader_factory=lambda: None)
    return settings


def _add_overdue(settings, path: Path, per_unit: dict[str, int]) -> None:
    """Open dossiers two weeks past due in each unit (a small seed may have none in Cửa Nam): the ward page's
    overdue list has rows of its own, and another ward's to leak."""
    from datetime import timedelta

    from ingest.runner import local_now

    now = local_now()
    received, due = now - timedelta(days=25), now - timedelta(days=14)
    ingest_rows(settings, path, [[f"LATE-{unit}-{i:02d}", unit, "HN-CT-001", "online_full", f"{received:%Y-%m-%d 09:00}",
                                  f"{due:%Y-%m-%d 17:00}", "processing", 0, 0, f"{received:%Y-%m-%d 09:00}"]
                                 for unit, n in per_unit.items() for i in range(n)])


@pytest.fixture
def app(world):
    from dashboard.app import create_app

    return create_app(world, refresh_s=600)


@pytest.fixture
def browser(dash_duo, app):
    """dash_duo on the app, watched for CSP violations; the base URL."""
    return start_watched(dash_duo, app)


# --- helpers -------------------------------------------------------------------------------------------

def _texts(driver, css: str) -> list[str]:
    return [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, css)]


def _hrefs(driver, css: str) -> list[str]:
    return [e.get_attribute("href") or "" for e in driver.find_elements(By.CSS_SELECTOR, css)]


def _grid_codes(driver, grid: str) -> list[str]:
    """The 'code' cells of a grid's body rows (not its pinned bottom rows: the city's departments)."""
    return [c.text.strip() for c in driver.find_elements(
        By.CSS_SELECTOR, f"#{grid} .ag-body .ag-row [col-id='code']") if c.text.strip()]


def _unit_of(settings, dossier_ids: list[str]) -> dict[str, str]:
    """Each dossier's unit, from the warehouse itself (the page shows ids, not units)."""
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute("SELECT dossier_id, unit_code FROM dossiers WHERE dossier_id IN "
                           f"({', '.join('?' * len(dossier_ids))})", dossier_ids).fetchall()
    finally:
        con.close()
    return dict(rows)


OUT_OF_SCOPE_READY = {"/ward": "#main-content .empty-state, #main-content .pick-list, #wu-kpis table",
                      "/kpi": "#main-content .empty-state, #kp-header .kpi-value, #kp-units .js-plotly-plot"}


def _another_ward(dash_duo, base: str, problems: Problems) -> dict[str, dict]:
    """/ward and /kpi with ?unit=<Hoàn Kiếm> in the address: what the page ends up showing."""
    out = {}
    for page in ("/ward", "/kpi"):
        path = f"{page}?unit={OTHER}"
        open_checked(dash_duo, problems, base + path, OUT_OF_SCOPE_READY[page], path)
        settle(dash_duo.driver)  # and a dropdown's own correction of its value, with its callbacks
        states = _texts(dash_duo.driver, "#main-content .empty-state")
        out[path] = {"url": dash_duo.driver.current_url, "state": " ".join(states),
                     "main": dash_duo.find_element("#main-content").text,
                     "dropdown": dash_duo.driver.execute_script(
                         "const d = document.querySelector('#wu-unit, #kp-unit'); return d ? d.textContent : ''")}
        problems.check(path)
    return out


# --- the ward chair ------------------------------------------------------------------------------------

def test_ward_chair_signs_in_and_sees_only_cua_nam_everywhere(browser, world, tmp_path) -> None:
    dash_duo, base = browser
    driver = dash_duo.driver
    problems = Problems(dash_duo)
    viewport(driver, 1920, 1080)
    sign_in(dash_duo, base, problems, CHAIR)

    # the header: who is signed in, and a sign-out form
    account = dash_duo.find_element(".shell-account")
    assert "Cửa Nam" in account.find_element(By.CSS_SELECTOR, ".shell-user").text
    assert account.find_element(By.CSS_SELECTOR, ".shell-signout button").text == "Đăng xuất"
    assert not driver.find_elements(By.CSS_SELECTOR, ".banner-auth-off")

    # overview: the ranking holds Cửa Nam alone
    names = _texts(driver, "#ov-rank .rank-row .rank-name")
    hrefs = _hrefs(driver, "#ov-rank .rank-row a.rank-name, #ov-rank .rank-row a")
    print(f"\noverview ranking as the ward chair: {names} {hrefs}")
    assert names and all(HOME_NAME in n for n in names), names
    assert all(f"unit={HOME}" in h for h in hrefs if "unit=" in h), hrefs
    assert OTHER_NAME not in dash_duo.find_element("#ov-rank").text
    doc_shot(driver, "signin-ward-chair-overview-1920-vi.png")

    # the ward page without a unit opens on Cửa Nam; the overdue list is Cửa Nam's dossiers only
    open_checked(dash_duo, problems, base + "/ward", "#wu-kpis table", "/ward")
    dash_duo.wait_for_contains_text("#wu-title", HOME_NAME, timeout=20)
    dash_duo.wait_for_element("#wu-overdue-grid .ag-row", timeout=20)
    settle(driver)
    ids_shown = _texts(driver, "#wu-overdue-grid .ag-center-cols-container .ag-row [col-id='dossier_id']")
    ids_shown = [i for i in ids_shown if i]
    units = _unit_of(world, ids_shown)
    print(f"overdue rows on /ward: {len(ids_shown)}, their units: {sorted(set(units.values()))}")
    assert ids_shown and set(units) == set(ids_shown) and set(units.values()) == {HOME}
    assert OTHER_NAME not in dash_duo.find_element("#main-content").text
    doc_shot(driver, "signin-ward-chair-ward-1920-vi.png")

    # the overdue list's CSV: every dossier is 00073's
    downloads_to(driver, tmp_path)
    choose(dash_duo, ".dl-overdue", "CSV (UTF-8)")
    overdue_csv = downloaded(tmp_path, ".csv")
    rows = list(csv.reader(io.StringIO(overdue_csv.read_bytes().decode("utf-8-sig"))))
    id_col = next(i for i, h in enumerate(rows[0]) if h.strip() in ("Mã hồ sơ", "Số hồ sơ") or "hồ sơ" in h.lower())
    csv_ids = [r[id_col] for r in rows[1:] if len(r) > id_col and r[id_col]]
    csv_units = _unit_of(world, csv_ids)
    print(f"overdue CSV: {len(csv_ids)} rows, units {sorted(set(csv_units.values()))}")
    assert csv_ids and set(csv_units.values()) == {HOME}
    overdue_csv.unlink()
    problems.check("/ward (overdue CSV)")

    # another ward in the address: never Hoàn Kiếm's figures (the out-of-scope state: the test below)
    for path, seen in _another_ward(dash_duo, base, problems).items():
        print(f"{path} -> {seen['url']}: {seen['state']!r}")
        assert OTHER_NAME not in seen["main"], f"{path} shows {OTHER_NAME}: {seen['main'][:800]}"
        assert f"unit={OTHER}" not in seen["url"] or seen["state"], seen

    # wards grid: one row, Cửa Nam's; its CSV likewise
    open_checked(dash_duo, problems, base + "/wards", "#wd-grid .ag-row", "/wards")
    codes = _grid_codes(driver, "wd-grid")
    print(f"wards grid codes as the ward chair: {codes}")
    assert codes == [HOME], codes
    assert OTHER_NAME not in dash_duo.find_element("#wd-grid").text
    choose(dash_duo, ".dl-wards", "CSV (UTF-8)")
    wards_csv = downloaded(tmp_path, ".csv")
    rows = list(csv.reader(io.StringIO(wards_csv.read_bytes().decode("utf-8-sig"))))
    print(f"wards CSV: header {rows[0][:4]}, first column {[r[0] for r in rows[1:]]}")
    body = [r for r in rows[1:] if r and r[0]]
    assert {r[0] for r in body} <= {HOME, "01"} and HOME in {r[0] for r in body}, body
    assert not any(OTHER in ",".join(r) or OTHER_NAME in ",".join(r) for r in rows)
    wards_csv.unlink()
    problems.check("/wards (CSV)")

    # KPI page: the per-unit chart's own data, and the phone list, hold Cửa Nam alone
    open_checked(dash_duo, problems, base + "/kpi?kpi=on_time_rate", "#kp-units .js-plotly-plot", "/kpi")
    fig = driver.execute_script("""
        const gd = document.querySelector('#kp-units .js-plotly-plot');
        return gd.data.map(function (t) { return {y: t.y, x: t.x, customdata: t.customdata, text: t.text}; });""")
    flat = repr(fig)
    customs = {str(c[0] if isinstance(c, list) else c) for t in fig for c in (t.get("customdata") or []) if c}
    print(f"KPI per-unit chart: customdata {sorted(customs)}")
    assert customs <= {HOME} and HOME in customs, customs
    assert OTHER not in flat and OTHER_NAME not in flat
    unit_list = driver.execute_script(  # the phone's list: hidden on a wide screen, so its textContent
        "return Array.from(document.querySelectorAll('#kp-unit-list .rank-row .rank-name'))"
        ".map(function (e) { return e.textContent.trim(); })")
    assert unit_list and all(HOME_NAME in n for n in unit_list), unit_list
    # the unit picker offers the city and Cửa Nam only
    options = driver.execute_script("""
        const el = document.getElementById('kp-unit'); return el ? el.textContent : '';""")
    assert OTHER_NAME not in (options or "")

    # reports page: no other unit's report, no other unit to choose
    open_checked(dash_duo, problems, base + "/reports", "#rp-form-title", "/reports")
    dash_duo.wait_for_element("#rp-list .ag-row", timeout=20)
    settle(driver)
    listed = dash_duo.find_element("#rp-list").text
    print(f"reports listed for the ward chair: {listed!r}")
    assert HOME_NAME in listed and OTHER_NAME not in listed and "Toàn thành phố" not in listed
    dash_duo.find_element("#rp-unit").click()
    choices = until(lambda: _texts(driver, "#rp-unit .Select-option, #rp-unit [role=option], .dash-dropdown-option"),
                    10, "the unit choices never open")
    print(f"report unit choices for the ward chair: {choices}")
    # no other ward to choose (the city is offered, though the ward chair may not have its report: below)
    assert any(HOME_NAME in c for c in choices) and not any(OTHER_NAME in c for c in choices), choices
    assert all(HOME_NAME in c or c == "Toàn thành phố" for c in choices), choices
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    problems.check("/reports (unit choices)")
    # asking for the default choice (the city's report) is refused: nothing queued, no city row appears
    from access.audit import events
    from access.db import get_appdb

    dash_duo.find_element("#rp-make").click()
    refused = until(lambda: [e for e in events(get_appdb(world), user=CHAIR[0], action="report_request")
                             if e["outcome"] == "denied"], 20, "the ward chair's request left no refusal in the audit")
    settle(driver)
    message = dash_duo.find_element("#rp-message").text
    print(f"making the default (city) report as the ward chair: {message!r}, audited {refused[0]['target']}")
    assert "Toàn thành phố" not in dash_duo.find_element("#rp-list").text
    problems.check("/reports (make)")

    # the phone and the wall screen, in Vietnamese: header fits, no page overflow
    for path, ready, name in (("/", "#ov-rank .rank-row", "overview"), ("/ward", "#wu-kpis table", "ward")):
        viewport(driver, 390, 844)
        open_checked(dash_duo, problems, base + path, ready, f"{path} @390")
        doc_shot(driver, f"signin-ward-chair-{name}-390-vi.png")
        wider = overflow(driver)
        box = driver.execute_script("""
            const a = document.querySelector('.shell-account'); if (!a) return null;
            const r = a.getBoundingClientRect();
            return {left: r.left, right: r.right, width: document.documentElement.clientWidth};""")
        print(f"{path} @390: page overflow {wider}px, account box {box}")
        assert wider <= 0, f"{path} overflows a phone by {wider}px"
        assert box and box["left"] >= 0 and box["right"] <= box["width"] + 0.5, box
        signout = dash_duo.find_element(".shell-signout button")
        assert signout.is_displayed() and signout.text == "Đăng xuất"
        fresh, account = (driver.execute_script(f"return document.querySelector('{css}').getBoundingClientRect()")
                          for css in (".shell-right .lang-switch", ".shell-account"))
        assert fresh["right"] <= account["left"] or fresh["bottom"] <= account["top"], "header items overlap"
    viewport(driver, 1920, 1080)

    # sign-out: the header's button; the session is gone
    open_checked(dash_duo, problems, base + "/", "#ov-rank .rank-row", "/ (before sign-out)")
    dash_duo.find_element(".shell-signout button").click()
    dash_duo.wait_for_element("form[action='/login'] #username", timeout=15)
    assert "/login" in driver.current_url
    problems.check("/login (after sign-out)")
    assert "r57_session" not in {c["name"] for c in driver.get_cookies()}
    driver.get(base + f"/ward?unit={HOME}")
    dash_duo.wait_for_element("form[action='/login'] #username", timeout=15)
    problems.check("/login (after sign-out, a page asked)")
    problems.assert_clean()


def test_another_ward_in_the_address_says_it_is_outside_the_scope(browser) -> None:
    dash_duo, base = browser
    problems = Problems(dash_duo)
    viewport(dash_duo.driver, 1920, 1080)
    sign_in(dash_duo, base, problems, CHAIR)
    seen = _another_ward(dash_duo, base, problems)
    for path, s in seen.items():
        print(f"{path} -> {s['url']}: state {s['state']!r}, dropdown {s['dropdown']!r}")
    problems.assert_clean()
    bad = {p: s["url"] for p, s in seen.items() if "ngoài phạm vi" not in s["state"]}
    assert bad == {}, f"no out-of-scope state on: {bad}"


# --- the leader, and the login page in English ---------------------------------------------------------

def test_leader_sees_every_ward_and_login_page_in_english(browser, world) -> None:
    dash_duo, base = browser
    driver = dash_duo.driver
    problems = Problems(dash_duo)

    # the login page in English on a phone (the screenshot for the docs)
    viewport(driver, 390, 844)
    driver.get(base + "/login?lang=en")
    dash_duo.wait_for_element("form[action='/login'] #username", timeout=15)
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert "Sign in" in driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").text
    doc_shot(driver, "signin-login-390-en.png")
    assert overflow(driver) <= 0
    problems.check("/login?lang=en @390")
    driver.get(base + "/login?lang=vi")  # back to Vietnamese (the cookie) before signing in
    dash_duo.wait_for_element("form[action='/login'] #username", timeout=15)
    problems.check("/login?lang=vi")

    viewport(driver, 1920, 1080)
    sign_in(dash_duo, base, problems, LEADER)
    assert "Lãnh đạo" in dash_duo.find_element(".shell-account .shell-user").text
    ranked = _texts(driver, "#ov-rank .rank-row .rank-name")
    assert len(ranked) > 1
    open_checked(dash_duo, problems, base + "/wards", "#wd-grid .ag-row", "/wards (leader)")
    import config

    with (config.REFERENCE_DIR / "units.csv").open(encoding="utf-8") as fh:
        expected = sum(1 for r in csv.DictReader(fh) if r["unit_type"] != "city")  # 126 wards and communes
    count = driver.execute_script("""
        const api = window.dash_ag_grid && dash_ag_grid.getApi ? dash_ag_grid.getApi('wd-grid') : null;
        if (!api) return null;
        let n = 0; api.forEachNode(function (node) { if (node.data && !node.data.heading) n += 1; }); return n;""")
    codes = _grid_codes(driver, "wd-grid")
    print(f"\nleader's wards grid: {count} rows (units {expected}); first codes on screen {codes[:6]}")
    assert count is not None and expected and count == expected, (count, expected)
    assert len(codes) > 1, codes  # (the grid draws the rows on screen: Cửa Nam need not be among them)
    open_checked(dash_duo, problems, base + f"/ward?unit={OTHER}", "#wu-kpis table", f"/ward?unit={OTHER} (leader)")
    dash_duo.wait_for_contains_text("#wu-title", OTHER_NAME, timeout=20)
    problems.assert_clean()
