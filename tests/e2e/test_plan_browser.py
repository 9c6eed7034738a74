"""The plan tracker (issue 12) in a browser: the plan page shows the 20 task groups and the late and at-risk
tasks first with their owners; a click on a task opens its drill-down (history, chart); a group opens to its
tasks; the accountability page lists units; at 1920 and 390 px, in Vietnamese and English, no page wider
than the window. Screenshots: docs/screenshots/plan-*.png, plan-task-*.png, accountability-*.png."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from .browser import ROOT, doc_shot, errors, open_page, overflow, set_language, settle, viewport

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
# the WCAG 2.1 A/AA rules, as test_a11y_browser runs them on the other pages; serious and critical ones fail
AXE_JS = """const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
  .then(r => done(r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
                  .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
  .catch(e => done(['axe-error: ' + e]));"""

SUFFIX = {(1920, "vi"): "vi", (1920, "en"): "en", (390, "vi"): "vi-phone", (390, "en"): "en-phone"}


@pytest.fixture(scope="module")
def demo_plan(e2e_settings):
    """The demo plan in the e2e server's application database, statuses at today's date (the demo's)."""
    import clock
    from access.db import get_appdb
    from plan.demo import seed

    seed(get_appdb(e2e_settings), clock.now().date())
    return e2e_settings


def _axe(driver, where: str, found: list) -> None:
    if not AXE.exists():  # installed by `make browser-deps` (npm ci --prefix tests/e2e)
        return
    driver.set_script_timeout(60)
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found += [f"{where}: {v}" for v in driver.execute_async_script(AXE_JS)]


def test_the_plan_page_and_a_task_drill_down(dash_duo, app, demo_plan) -> None:
    dash_duo.start_server(app)
    driver = dash_duo.driver
    violations: list[str] = []
    for lang in ("vi", "en"):
        for width, height in ((1920, 1080), (390, 844)):
            viewport(driver, width, height)
            open_page(dash_duo, "/plan", "#pl-groups-title")
            if lang == "en" and width == 1920:
                set_language(dash_duo, "en")
            dash_duo.wait_for_element("#pl-attention-title", timeout=20)
            groups = driver.find_elements(By.CSS_SELECTOR, ".pl-group")
            assert len(groups) == 20
            rows = driver.find_elements(By.CSS_SELECTOR, "#pl-attention tbody tr")
            assert rows, "the demo plan has late and at-risk tasks"
            first = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
            late_word = {"vi": "Quá hạn", "en": "Late"}[lang]
            assert first[6].startswith(late_word), first            # late tasks first
            assert first[2] and first[3], "who owns it: the lead unit and the responsible position"
            assert overflow(driver) <= 0, f"/plan wider than {width} px"
            doc_shot(driver, f"plan-{SUFFIX[(width, lang)]}.png")
            _axe(driver, f"/plan {lang} {width}", violations)

            # a group opens to its tasks
            summary = groups[0].find_element(By.TAG_NAME, "summary")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", summary)
            assert groups[0].get_attribute("open") is not None
            assert groups[0].find_elements(By.CSS_SELECTOR, "tbody tr")

            # the first late task's drill-down
            code = first[0]
            link = rows[0].find_element(By.CSS_SELECTOR, "a.pl-code")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link)
            dash_duo.wait_for_element("#pt-history", timeout=30)
            settle(driver)
            assert driver.current_url.endswith(f"/plan/task?code={code}")
            assert dash_duo.find_element("#pt-title").text.endswith(code)
            assert dash_duo.find_element(".pt-status .status-label").text == late_word
            assert driver.find_elements(By.CSS_SELECTOR, "#pt-history tbody tr")
            assert driver.find_elements(By.CSS_SELECTOR, "#pt-chart .js-plotly-plot")
            # sign-in is off: the developer may report, so the form is there
            assert dash_duo.find_element("#pt-submit").is_displayed()
            assert overflow(driver) <= 0, f"/plan/task wider than {width} px"
            doc_shot(driver, f"plan-task-{SUFFIX[(width, lang)]}.png")
            _axe(driver, f"/plan/task {lang} {width}", violations)

            open_page(dash_duo, "/accountability?unit=SKHCN", "#acc-summary")
            assert driver.find_elements(By.CSS_SELECTOR, "#acc-lead tbody tr")
            assert overflow(driver) <= 0, f"/accountability wider than {width} px"
            doc_shot(driver, f"accountability-{SUFFIX[(width, lang)]}.png")
            _axe(driver, f"/accountability {lang} {width}", violations)
    assert violations == []
    assert errors(dash_duo) == []
