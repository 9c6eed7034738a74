"""A browser's page view, recorded once in headless Chromium and replayed by many simulated users (issue 13).

`record(base, paths)` opens each page in Debian's headless Chromium (/usr/bin/chromium, /usr/bin/chromedriver)
twice, first with an empty cache (every static asset fetched) and then again (what the browser's cache does
not answer), and keeps every request that reached the server until the network was quiet: method, path,
body (Dash's callback POSTs with the values the browser sent), and when each started and finished. The page's event stream (/_r57/live) and version polls are left out: they are the freshness
mechanism, measured by bench_freshness.py, not part of a view.

`replay(view, ...)` sends the same requests the way the browser did: up to six at once (a browser's
connections per host), each request only after every request that had finished before it started in the
recording (a callback fired by an earlier answer waits for that answer). A page view's time runs from its
first request to its last answer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SKIP = ("/_r57/live", "/_r57/version", "/_favicon.ico")
CONNECTIONS = 6  # a browser's connections to one host (HTTP/1.1)


@dataclass
class Request:
    method: str
    path: str            # with its query
    body: bytes | None
    headers: dict
    start: float         # seconds after the view's first request
    end: float
    after: list[int] = field(default_factory=list)  # indexes of the requests that had finished by `start`


@dataclass
class View:
    name: str
    path: str
    requests: list[Request]

    def describe(self) -> str:
        posts = sum(r.method == "POST" for r in self.requests)
        return (f"{self.name} ({self.path}): {len(self.requests)} requests, {posts} callback POSTs, "
                f"{len(self.requests) - posts} GETs; recorded in {max(r.end for r in self.requests):.2f} s")


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1920,1080",
              "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def _sign_in(driver, base: str, username: str, password: str) -> None:
    driver.get(base + "/login")
    driver.find_element("css selector", "input[name=username]").send_keys(username)
    driver.find_element("css selector", "input[name=password]").send_keys(password)
    driver.find_element("css selector", "form [type=submit]").click()
    end = time.monotonic() + 30
    while "/login" in driver.current_url and time.monotonic() < end:
        time.sleep(0.1)
    if "/login" in driver.current_url:
        raise RuntimeError(f"the recording browser could not sign in as {username}")


def _network(driver) -> dict[str, dict]:
    """requestId -> {method, url, body, headers, start, end} from Chromium's performance log."""
    reqs: dict[str, dict] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        p = msg.get("params", {})
        rid = p.get("requestId")
        if msg["method"] == "Network.requestWillBeSent":
            r = p["request"]
            reqs[rid] = {"method": r["method"], "url": r["url"], "body": r.get("postData"),
                         "headers": r.get("headers", {}), "start": p["timestamp"], "end": None,
                         "has_body": r.get("hasPostData", False)}
        elif msg["method"] in ("Network.loadingFinished", "Network.loadingFailed") and rid in reqs:
            reqs[rid]["end"] = p["timestamp"]
        elif msg["method"] == "Network.requestServedFromCache" and rid in reqs:
            reqs[rid]["cached"] = True
        elif msg["method"] == "Network.responseReceived" and rid in reqs:
            resp = p.get("response", {})
            if resp.get("fromDiskCache") or resp.get("fromPrefetchCache") or resp.get("fromServiceWorker"):
                reqs[rid]["cached"] = True
    return reqs


def _counts(r: dict) -> bool:
    """A request of the page view: not the freshness mechanism's (stream, polls), not answered by the cache."""
    return not urlsplit(r["url"]).path.startswith(SKIP) and not r.get("cached")


def record(base: str, pages: list[tuple[str, str, str]], account: tuple[str, str] | None = None,
           quiet_s: float = 2.0, timeout: float = 120) -> list[View]:
    """Two Views per (name, path, selector that shows the page is there): "<name> first", opened with an
    empty cache (every static asset fetched), and "<name> again", the same page opened once more, when
    the browser's cache answers what it may (Dash's fingerprinted scripts) and only the rest reaches the
    server."""
    driver = _driver()
    views = []
    try:
        if account is not None:
            _sign_in(driver, base, *account)
        driver.execute_cdp_cmd("Network.enable", {})
        for name, path, ready in pages:
            for kind in ("first", "again"):
                driver.get("about:blank")
                if kind == "first":
                    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                driver.get_log("performance")  # drop what came before
                driver.get(base + path)
                views.append(_view(f"{name} {kind}", path, base, _until_quiet(driver, ready, quiet_s, timeout)))
    finally:
        driver.quit()
    return views


def _until_quiet(driver, ready: str, quiet_s: float, timeout: float) -> dict[str, dict]:
    """The page's requests once `ready` shows and no request of the view started or finished for quiet_s
    (the 2 s version poll and the event stream do not count: they never stop)."""
    end = time.monotonic() + timeout
    while not driver.find_elements("css selector", ready) and time.monotonic() < end:
        time.sleep(0.1)
    seen: dict[str, dict] = {}
    last_change = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.25)
        for rid, r in _network(driver).items():
            merged = {**seen.get(rid, {}), **{k: v for k, v in r.items() if v is not None}}
            if _counts(merged) and (rid not in seen or (merged.get("end") and not seen[rid].get("end"))):
                last_change = time.monotonic()
            seen[rid] = merged
        if time.monotonic() - last_change >= quiet_s:
            return seen
    raise RuntimeError(f"the page's network was never quiet for {quiet_s} s within {timeout:.0f} s")


def _view(name: str, path: str, base: str, seen: dict[str, dict]) -> View:
    host = urlsplit(base).netloc
    rows = []
    for r in seen.values():
        u = urlsplit(r["url"])
        if u.netloc != host or not _counts(r) or r.get("end") is None:
            continue
        if r["method"] == "POST" and r.get("has_body") and not r.get("body"):
            raise RuntimeError(f"Chromium did not log the body of POST {u.path}")
        rows.append(r)
    rows.sort(key=lambda r: r["start"])
    t0 = rows[0]["start"]
    keep = ("Content-Type", "Accept", "X-CSRFToken")
    reqs = [Request(r["method"], u.path + (f"?{u.query}" if u.query else ""),
                    r["body"].encode() if r.get("body") else None,
                    {k: v for k, v in r.get("headers", {}).items() if k in keep},
                    r["start"] - t0, r["end"] - t0)
            for r in rows for u in [urlsplit(r["url"])]]
    for j, rj in enumerate(reqs):
        rj.after = [i for i, ri in enumerate(reqs[:j]) if ri.end <= rj.start]
    return View(name, path, reqs)


def save(views: list[View], path) -> None:
    data = [{"name": v.name, "path": v.path, "requests": [
        {**{k: getattr(r, k) for k in ("method", "path", "headers", "start", "end", "after")},
         "body": r.body.decode() if r.body else None} for r in v.requests]} for v in views]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)


def load(path) -> list[View]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return [View(v["name"], v["path"], [Request(r["method"], r["path"], r["body"].encode() if r["body"] else None,
                                                r["headers"], r["start"], r["end"], r["after"])
                                        for r in v["requests"]]) for v in data]


class Replayer:
    """One simulated user: its cookies (after sign-in) and six connections' worth of threads."""

    def __init__(self, base: str, opener=None) -> None:
        self.base = base
        self.opener = opener or urllib.request.build_opener()
        self.pool = ThreadPoolExecutor(max_workers=CONNECTIONS)

    def _send(self, r: Request) -> tuple[float, int]:
        req = urllib.request.Request(self.base + r.path, data=r.body, method=r.method, headers=r.headers)
        t = time.perf_counter()
        try:
            with self.opener.open(req, timeout=60) as resp:
                resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            e.read()
            status = e.code
        return time.perf_counter() - t, status

    def view(self, v: View) -> tuple[float, list[tuple[Request, float, int]]]:
        """(seconds from the first request to the last answer, [(request, seconds, status)])."""
        t0 = time.perf_counter()
        futures = []
        done = [threading.Event() for _ in v.requests]

        def run(i: int):
            for k in v.requests[i].after:
                done[k].wait()
            try:
                return self._send(v.requests[i])
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
                return (time.perf_counter() - t0, 0)
            finally:
                done[i].set()

        # submitted in the recorded order; each waits for what it waited for in the browser. A request
        # blocked on its predecessors holds a pool thread, as a browser's queued request holds its turn
        for i in range(len(v.requests)):
            futures.append(self.pool.submit(run, i))
        out = [(r, *f.result()) for r, f in zip(v.requests, futures, strict=True)]
        return time.perf_counter() - t0, out

    def close(self) -> None:
        self.pool.shutdown(wait=False)
