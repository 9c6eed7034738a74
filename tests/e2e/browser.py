"""What the browser tests share (the fixtures live in conftest.py): the warehouse they seed, the viewport,
one wait for a drawn page (`settle`, event-based: no fixed sleep anywhere in tests/e2e), one wait for a
condition (`until`), the language switch, downloads, screenshots, the sign-in form and what the browser
complains about (CSP violations, severe console errors), and the focus/contrast probes of the a11y tests.
"""

from __future__ import annotations

import csv
import re
import warnings
from datetime import timedelta
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
NAV_WORDS = {"vi": "Tổng quan", "en": "Overview"}
# the dashboard's pages: path, an element that only exists once the page's data is drawn (a phone's or a wall
# screen's), a name for screenshots
PAGES = [
    ("/", "#ov-rank .rank-row", "overview"),
    ("/wards", "#wd-grid .ag-row, #wd-cards .rank-row", "wards"),
    ("/ward?unit=00073", "#wu-kpis table", "ward"),
    ("/kpi?kpi=on_time_rate", "#kp-units .js-plotly-plot, #kp-unit-list .rank-row", "kpi"),
    ("/economy", "#ec-series .js-plotly-plot", "economy"),
    ("/health", "#dh-freshness .fresh-card", "health"),
    ("/reports", "#rp-form-title", "reports"),
]
DOSSIER_HEAD = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
                "supplement_count", "supplement_days", "updated_at"]


# --- the warehouses the browser tests seed ---------------------------------------------------------------

def ingest_rows(settings, path: Path, rows: list[list], header: list[str] | None = None) -> None:
    """Write `rows` as a CSV file, ingest it, refresh the KPIs and publish a snapshot."""
    from ingest.runner import ingest_files
    from metrics import refresh
    from warehouse.db import open_writer, publish_snapshot

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header or DOSSIER_HEAD)
        w.writerows(rows)
    con = open_writer(settings)
    try:
        ingest_files(con, [path], "dossiers", channel="cli")
        refresh(con)
        publish_snapshot(con, settings)
    finally:
        con.close()


def seed(tmp: Path, days: int = 45, per_day: float = 300):
    """A published demo warehouse ending now, with two quarantined rows; returns its settings."""
    from config import load_settings
    from demo.seed import seed_demo
    from warehouse.db import open_writer

    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    try:
        seed_demo(con, s, days=days, per_day=per_day)
    finally:
        con.close()
    ingest_rows(s, tmp / "bad-export.csv", [
        ["BAD-1", "99999", "HN-CT-001", "online_full", "2026-01-10 09:00", "2026-01-12 17:00", "processing",
         "2026-01-10 09:00"],
        ["BAD-2", "00073", "HN-CT-001", "fax", "2026-01-10 09:00", "2026-01-12 17:00", "processing",
         "2026-01-10 09:00"]],
        header=["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
                "updated_at"])
    return s


def new_dossiers(path: Path, n: int, unit: str = "00073") -> Path:
    """n dossiers received a few minutes ago (what an inbox file of a live one-stop shop looks like)."""
    from ingest.runner import local_now

    now = local_now()
    received = now - timedelta(minutes=5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(DOSSIER_HEAD)
        for i in range(n):
            w.writerow([f"E2E-{now:%H%M%S}-{i:03d}", unit, "HN-CT-001", "online_full",
                        f"{received:%Y-%m-%d %H:%M}", f"{now + timedelta(days=3):%Y-%m-%d 17:00}", "received", 0, 0,
                        f"{received:%Y-%m-%d %H:%M}"])
    return path


# --- waiting: for a condition, for a drawn page ----------------------------------------------------------

def until(predicate, timeout: float = 20, message=None, poll: float = 0.1):
    """The first truthy value of predicate() within `timeout` seconds (an element redrawn meanwhile is tried
    again); AssertionError otherwise, with `message` (a string, or a callable giving one)."""
    try:
        return WebDriverWait(None, timeout, poll_frequency=poll,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda _: predicate())
    except TimeoutException:
        said = message() if callable(message) else message
        raise AssertionError(said or f"not true within {timeout} s: {predicate}") from None


# The page is drawn when, over `frames` animation frames in a row: the document has loaded, its fonts are
# ready, no Dash callback is pending (the renderer's store), no component says it is loading, no Plotly
# chart is resizing, nothing in the DOM changed and the page's scroll size stayed the same.
SETTLE_JS = """
const timeoutMs = arguments[0], frames = arguments[1], done = arguments[arguments.length - 1];
const start = performance.now();
function pending() {
  const out = [];
  if (document.readyState !== 'complete') { out.push('document ' + document.readyState); }
  const state = window.store && window.store.getState ? window.store.getState() : null;
  if (state && state.callbacks) {
    Object.keys(state.callbacks).forEach(function (k) {
      const v = state.callbacks[k];
      if (k !== 'stored' && k !== 'completed' && Array.isArray(v) && v.length) { out.push(v.length + ' ' + k); }
    });
  }
  const loading = document.querySelectorAll(
    '[data-dash-is-loading="true"], ._dash-loading, ._dash-loading-callback, .dash-graph--pending');
  if (loading.length) { out.push(loading.length + ' loading'); }
  document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
    if (gd._resolveResize) { out.push('chart resizing'); }
  });
  return out;
}
let changes = 0;
const observer = new MutationObserver(function (list) { changes += list.length; });
observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
let last = null, quiet = 0;
function frame() {
  const busy = pending();
  const el = document.scrollingElement || document.documentElement;
  const size = el ? el.scrollWidth + 'x' + el.scrollHeight : '';
  quiet = (!busy.length && !changes && size === last) ? quiet + 1 : 0;
  const why = busy.length ? busy.join(', ') : (changes ? changes + ' DOM changes' : 'size ' + last + ' -> ' + size);
  changes = 0;
  last = size;
  if (quiet >= frames) { observer.disconnect(); done(null); return; }
  if (performance.now() - start > timeoutMs) { observer.disconnect(); done(why); return; }
  requestAnimationFrame(frame);
}
(document.fonts ? document.fonts.ready : Promise.resolve()).then(function () { requestAnimationFrame(frame); });
"""


def settle(driver, timeout: float = 60, frames: int = 3) -> None:
    """Wait until the page is drawn and still (SETTLE_JS); AssertionError saying what was still busy after
    `timeout` seconds."""
    driver.set_script_timeout(timeout + 10)
    busy = driver.execute_async_script(SETTLE_JS, int(timeout * 1000), frames)
    if busy:
        raise AssertionError(f"the page at {driver.current_url} never settled in {timeout} s: {busy}")


def viewport(driver, width: int, height: int) -> None:
    """An exact CSS viewport (below 600 px wide, a phone), and the page redrawn at that size: the window has
    the width (where the page asks for device-width) and the page is still again for long enough to cover a
    chart's resize debounce (dcc.Graph waits 50 ms after its ResizeObserver)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    until(lambda: driver.execute_script(
        "return !document.querySelector('meta[name=viewport]') || window.innerWidth === arguments[0]", width),
        timeout=10, message=lambda: f"the window never took {width} px: {driver.execute_script('return innerWidth')}")
    settle(driver, frames=8)


def open_page(dash_duo, url: str, ready: str, timeout: float = 30) -> None:
    """Go to `url` (a path is the test server's), wait for `ready` (a CSS selector) and for the page to settle;
    if `ready` never appears, say what the page showed instead (and keep a screenshot)."""
    driver = dash_duo.driver
    driver.get(url if "://" in url else dash_duo.server_url + url)
    try:
        dash_duo.wait_for_element(ready, timeout=timeout)
    except Exception:
        shot = Path("/tmp") / "e2e-failed.png"
        driver.save_screenshot(str(shot))
        body = driver.find_elements(By.CSS_SELECTOR, "body")
        raise AssertionError(f"{ready} never appeared at {driver.current_url}; the page said: "
                             f"{body[0].text[:1500] if body else '-'!r}; screenshot {shot}") from None
    settle(driver)


def set_language(dash_duo, lang: str) -> None:
    """Choose VI/EN in the header's switch; wait for the navigation's words, then for the page to settle."""
    driver = dash_duo.driver
    label = driver.find_element(By.XPATH, f"//*[@id='shell-lang-switch']//label[normalize-space()='{lang.upper()}']")
    driver.execute_script("arguments[0].click();", label)
    dash_duo.wait_for_text_to_equal("#nav-overview", NAV_WORDS[lang], timeout=15)
    settle(driver)


# --- what is on the page ------------------------------------------------------------------------------

def errors(dash_duo) -> list:
    """The browser console's severe entries since the last call."""
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


def overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window (0 or less: no horizontal scrollbar)."""
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")


def screenshot(driver, path: Path) -> Path:
    """The window as it is once the page has settled."""
    settle(driver)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def doc_shot(driver, name: str) -> Path:
    """A screenshot for the docs (docs/screenshots/<name>)."""
    return screenshot(driver, DOCS_SHOTS / name)


# --- downloads -----------------------------------------------------------------------------------------

def downloads_to(driver, folder: Path) -> None:
    """Let headless Chromium save downloads into `folder` (dcc.Download blobs and Plotly's image links)."""
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def downloaded(folder: Path, suffix: str, timeout: float = 20) -> Path:
    """The file with `suffix` the browser has finished saving into `folder` (it writes a .crdownload file and
    renames it when complete)."""
    def complete():
        files = list(folder.iterdir())
        done = [p for p in files if p.suffix == suffix]
        return done[0] if done and not any(p.suffix == ".crdownload" for p in files) else None

    return until(complete, timeout, lambda: f"no {suffix} file downloaded into {folder}: {list(folder.iterdir())}")


def choose(dash_duo, menu_css: str, item_text: str) -> None:
    """Open a 'Tải về' menu and click one of its items."""
    toggle = dash_duo.find_element(f"{menu_css} .dl-toggle")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", toggle)
    dash_duo.wait_for_element(f"{menu_css} .dropdown-menu.show", timeout=5)
    item = dash_duo.driver.find_element(
        By.XPATH, f"//*[contains(@class,'dropdown-menu') and contains(@class,'show')]"
                  f"//*[contains(@class,'dropdown-item') and normalize-space()='{item_text}']")
    dash_duo.driver.execute_script("arguments[0].click();", item)


# --- sign-in on, and what the browser complains about ------------------------------------------------------

CHAIR, LEADER = ("cuanam", "demo-cuanam-57"), ("lanhdao", "demo-lanhdao-57")  # access.demo's accounts

# before any script of the page: every CSP violation is kept (the console's message says less)
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
                     source: e.sourceFile, line: e.lineNumber, disposition: e.disposition});
});
"""


def start_watched(dash_duo, app) -> tuple:
    """dash_duo serving `app`, the CSP listener installed on every new document; (dash_duo, base URL).
    start_server's own navigation expects a Dash page, and with sign-in on the first page is /login."""
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER})
    return dash_duo, dash_duo.server.url.rstrip("/")


class Problems:
    """What the browser complained about on each page: CSP violations (listener + console), severe errors."""

    def __init__(self, dash_duo) -> None:
        self.dash_duo = dash_duo
        self.csp: list[str] = []
        self.severe: list[str] = []
        self.pages: list[str] = []

    def check(self, label: str) -> None:
        driver = self.dash_duo.driver
        self.pages.append(label)
        for v in driver.execute_script("return window.__csp || []"):
            self.csp.append(f"{label}: {v['directive']} blocked {v['blocked'] or '-'} "
                            f"(source {v['source'] or '-'}:{v['line']}, sample {v['sample']!r})")
        for e in self.dash_duo.get_logs() or []:
            msg = e.get("message", "")
            if "Content Security Policy" in msg or "Content-Security-Policy" in msg:
                self.csp.append(f"{label}: console: {msg[:400]}")
            elif e.get("level") == "SEVERE":
                self.severe.append(f"{label}: {msg[:400]}")

    def assert_clean(self) -> None:
        print(f"\npages checked for CSP violations ({len(self.pages)}): {', '.join(self.pages)}")
        assert self.csp == [], "Content-Security-Policy violations:\n" + "\n".join(self.csp)
        if self.severe:  # not this test's subject (test_dashboard_browser asserts none): said loudly, not failed
            warnings.warn("severe console errors (not CSP):\n" + "\n".join(self.severe), stacklevel=2)
            print("severe console errors (not CSP):\n  " + "\n  ".join(self.severe))


def open_checked(dash_duo, problems: Problems, url: str, ready: str, label: str, timeout: float = 30) -> None:
    """open_page, then what the browser complained about there."""
    open_page(dash_duo, url, ready, timeout)
    problems.check(label)


def sign_in(dash_duo, base: str, problems: Problems, user: tuple[str, str], lang: str = "vi") -> None:
    """The real form: an unsigned visit of / goes to /login; type the username and password; submit."""
    driver = dash_duo.driver
    driver.get(base + "/")
    dash_duo.wait_for_element("form[action='/login'] #username", timeout=15)
    assert "/login" in driver.current_url
    assert driver.execute_script("return document.documentElement.lang") == lang
    assert driver.find_element(By.CSS_SELECTOR, "input[type=hidden][name=csrf_token]").get_attribute("value")
    problems.check("/login")
    driver.find_element(By.ID, "username").send_keys(user[0])
    driver.find_element(By.ID, "password").send_keys(user[1])
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    dash_duo.wait_for_element("#ov-rank .rank-row", timeout=30)
    assert "/login" not in driver.current_url
    settle(driver)
    cookies = {c["name"]: c for c in driver.get_cookies()}
    assert "r57_session" in cookies and cookies["r57_session"]["httpOnly"]
    problems.check("/ (after sign-in)")


# --- the a11y probes: the focused element and its ring, WCAG contrast ---------------------------------------

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
    return tuple(float(x) for x in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def lum(rgb):
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    la, lb = lum(_rgb(a)), lum(_rgb(b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
