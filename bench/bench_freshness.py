"""Freshness benchmark (issue 15): how long a file renamed into the inbox takes to be visible, end to end.

    python bench/bench_freshness.py --warehouse data/warehouse.duckdb [--reps 10] [--pollers 50] [--seconds 60]

Copies the warehouse into a scratch folder and starts the real server there (`python app.py serve`: waitress,
the scheduler with its inbox watcher, default intervals: 30 s tick, server push (2 s poll as its fallback), 2 s least time between
two publications; with --production the Makefile's layout instead: `app.py scheduler` and gunicorn
workers reading snapshots), sign-in off (with sign-in the version endpoint's 304s take the same fast path
once a session has been seen). Then:

- api:  a file of 7 dossiers received five minutes ago is renamed into the inbox; the clock stops when
        /api/v1/values?kpi=received&grain=day&period=<today> gives 7 more (polled every 50 ms);
- page: the same, with the overview open in headless Chromium (Debian's, /usr/bin/chromedriver); the clock
        stops when the page's "received today" figure (#ov-today) shows 25 more, without a reload;
- push: 25 records POSTed to /api/v1/dossiers (the bench's token); the clock starts when the answer
        arrives and stops when the open page shows them (a gunicorn worker queues them: 202);
- load: with --load-users N, N users replay overview visits (bench_load.user) during the figures above;
- cost: the web server's CPU (psutil, user + system, all its threads and worker processes) with no page
        open, then while `--pollers` idle pages ask /_r57/version every poll interval with their ETag on
        kept-alive connections (304s: the fallback when push is off or refused), then while as many idle
        pages hold the event stream /_r57/live open (the default, server push); reported as % of one core.

Pages learn of a new snapshot by server push (dashboard/live.py, Server-Sent Events) unless R57_LIVE_STREAMS=0;
the 2 s version poll asks nothing while a page's stream is open.

Prints median, p95 and min–max per figure, and per page rep where the time went (Resource Timing and long
tasks in the browser). Targets (issue 15): api p95 ≤ 2 s idle / 3 s under load, page p95 ≤ 3 s idle / 5 s
under load, push → page p95 ≤ 3 s, cost ≤ 5 %.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEAD = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status",
        "supplement_count", "supplement_days", "updated_at"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]
    return f"median {statistics.median(xs):5.2f} s   p95 {p95:5.2f} s   min–max {xs[0]:.2f}–{xs[-1]:.2f} s   (n = {len(xs)})"


def _hanoi_now() -> datetime:
    """The server's business clock: the same machine's, in Hanoi (the machine itself may run on UTC)."""
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)


def _drop(inbox: Path, n: int, tag: str) -> float:
    """Write n dossiers received five minutes ago as `.tag.csv.tmp`, rename it in; returns the rename time."""
    now = _hanoi_now()
    received = now - timedelta(minutes=5)
    tmp = inbox / f".{tag}.csv.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEAD)
        for i in range(n):
            w.writerow([f"FRESH-{tag}-{i:03d}", "00073", "HN-CT-001", "online_full", f"{received:%Y-%m-%d %H:%M}",
                        f"{now + timedelta(days=3):%Y-%m-%d 17:00}", "received", 0, 0, f"{received:%Y-%m-%d %H:%M}"])
    os.replace(tmp, inbox / f"{tag}.csv")
    return time.monotonic()


def _today_received(base: str) -> float | None:
    today = _hanoi_now().date().isoformat()
    with urllib.request.urlopen(f"{base}/api/v1/values?kpi=received&grain=day&period={today}", timeout=10) as r:
        items = json.loads(r.read())["items"]
    return items[0]["value"] if items else None


def _wait(predicate, timeout: float = 60, step: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = predicate()
        if v:
            return time.monotonic()
        time.sleep(step)
    raise TimeoutError(f"not visible within {timeout:.0f} s")


class VersionWatch:
    """When the published version changed: /_r57/version asked every 25 ms from a thread (a breakdown of
    the figures: inbox → published, then published → on the page)."""

    def __init__(self, base: str) -> None:
        self.base, self.changes, self.stop = base, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        etag = None
        while not self.stop.is_set():
            req = urllib.request.Request(self.base + "/_r57/version", headers={"If-None-Match": etag} if etag else {})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    new = r.headers.get("ETag")
                    if etag is not None and new != etag:
                        self.changes.append(time.monotonic())
                    etag = new
            except urllib.error.HTTPError as e:
                if e.code != 304:
                    raise
            self.stop.wait(0.025)

    def first_after(self, t0: float) -> float | None:
        later = [t for t in self.changes if t >= t0]
        return later[0] if later else None

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def api_figures(base: str, inbox: Path, reps: int) -> list[float]:
    out = []
    for i in range(reps):
        before = _today_received(base) or 0
        t0 = _drop(inbox, 7, f"api{i:02d}")
        t1 = _wait(lambda b=before: (_today_received(base) or 0) >= b + 7)
        out.append(t1 - t0)
        time.sleep(2.5)  # past the least time between two publications: each rep starts alike
    return out


def _push(base: str, n: int, tag: str) -> float:
    """POST n dossiers received five minutes ago to /api/v1/dossiers (push ingest, the bench's token); returns
    when the answer arrived (the records are loaded then; the publication may follow)."""
    now = _hanoi_now()
    received = now - timedelta(minutes=5)
    records = [dict(zip(HEAD, [f"PUSH-{tag}-{i:03d}", "00073", "HN-CT-001", "online_full",
                               f"{received:%Y-%m-%d %H:%M}", f"{now + timedelta(days=3):%Y-%m-%d 17:00}", "received",
                               "0", "0", f"{received:%Y-%m-%d %H:%M}"], strict=True)) for i in range(n)]
    req = urllib.request.Request(base + "/api/v1/dossiers", data=json.dumps(records).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {PUSH_TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.loads(r.read())
    # the writer's process loads at once; a read-only web worker queues the body in the inbox (202)
    if body.get("inserted") != n and not (r.status == 202 and body.get("queued")):
        raise RuntimeError(f"push did not load {n} records: {body}")
    return time.monotonic()


PUSH_TOKEN = "bench-freshness-push-token"


def page_figures(base: str, inbox: Path, reps: int, watch: VersionWatch | None = None, every: float = 2.0
                 ) -> tuple[list[float], list[float | None], list[float]]:
    """(rename → number on the page, rename → version published or None, push answered → number on the
    page) per rep; `every`: the pages' poll interval, over which the reps' start is spread."""
    import random

    phase = random.Random(57)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1920,1080"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    out, published, steps = [], [], []
    try:
        driver.get(base + "/")

        def today() -> int | None:
            from selenium.common.exceptions import StaleElementReferenceException

            try:  # the figure is redrawn when the data changes: a stale element is read again next time
                els = driver.find_elements("css selector", "#ov-today")
                txt = els[0].text.replace(".", "").replace(",", "").strip() if els else ""
            except StaleElementReferenceException:
                return None
            return int(txt) if txt.isdigit() else None

        _wait(lambda: today() is not None, timeout=120)
        driver.execute_script("performance.setResourceTimingBufferSize(20000)")
        for i in range(reps):
            # past the least time between two publications, then a moment spread over one poll interval: a
            # file lands at any point of a page's poll cycle (a fixed pause would always hit the same point)
            time.sleep(2.5 + phase.uniform(0, every))
            before = today() or 0
            driver.execute_script(OBSERVE_JS)
            epoch0 = time.time()
            t0 = _drop(inbox, 25, f"page{i:02d}")
            t1 = _wait(lambda b=before: (today() or 0) >= b + 25)
            out.append(t1 - t0)
            steps.append(_browser_steps(driver, epoch0, time.time() - (time.monotonic() - t1)))
            seen = watch.first_after(t0) if watch else None
            published.append(None if seen is None else seen - t0)
        pushed = []
        for i in range(reps):
            time.sleep(2.5 + phase.uniform(0, every))
            before = today() or 0
            t0 = _push(base, 25, f"{i:02d}")
            pushed.append(_wait(lambda b=before: (today() or 0) >= b + 25) - t0)
    finally:
        driver.quit()
    for i, st in enumerate(steps):
        print(f"  rep {i}: " + "  ".join(f"{k} {v:.2f} s" for k, v in st.items()))
    return out, published, pushed


# in the page: when #ov-today's text changes (a MutationObserver: the moment the DOM has it, not when
# WebDriver next looks), and the main thread's long tasks (over 50 ms) since the rename
OBSERVE_JS = """
performance.clearResourceTimings();
window.r57t = {changed: null, long: []};
const box = document.querySelector('.page-overview') || document.body;
const first = document.querySelector('#ov-today'), was = first ? first.textContent : null;
if (window.r57obs) { window.r57obs.disconnect(); }
window.r57obs = new MutationObserver(() => {
  const e = document.querySelector('#ov-today');
  if (window.r57t.changed === null && e && e.textContent !== was) { window.r57t.changed = Date.now(); }
});
window.r57obs.observe(box, {subtree: true, childList: true, characterData: true});
if (!window.r57lt) {
  window.r57lt = new PerformanceObserver(list => { for (const e of list.getEntries()) {
    (window.r57t.long).push([performance.timeOrigin + e.startTime, e.duration]); } });
  window.r57lt.observe({type: 'longtask'});
}
"""


def _browser_steps(driver, epoch0: float, seen: float) -> dict[str, float]:
    """Where the time went in the browser (Resource Timing), in seconds after the rename: the poll that got
    the new version (its answer), the page's callbacks (first asked, last answered), the figure seen."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => [e.name, performance.timeOrigin + e.startTime, "
        "performance.timeOrigin + e.responseEnd, e.responseStatus || 0])")
    out: dict[str, float] = {}
    learnt = None
    pushed = driver.execute_script("return window.r57live ? window.r57live.changed_at : null")
    if pushed and pushed / 1000 >= epoch0:  # the event stream told the page (dashboard.live)
        learnt = pushed
        out["pushed"] = pushed / 1000 - epoch0
    polls = [e for e in entries if "/_r57/version" in e[0] and e[3] == 200 and e[1] / 1000 >= epoch0]
    if polls and learnt is None:
        learnt = polls[0][2]
        out["poll 200 answered"] = polls[0][2] / 1000 - epoch0
    if learnt is not None:
        after = [e for e in entries if "/_dash-update-component" in e[0] and e[1] >= learnt]
        if after:
            out["callbacks asked"] = min(e[1] for e in after) / 1000 - epoch0
            out["last answered"] = max(e[2] for e in after) / 1000 - epoch0
    t = driver.execute_script("return window.r57t")
    if t and t.get("changed"):
        out["in the DOM"] = t["changed"] / 1000 - epoch0
    if t:
        out["long tasks"] = sum(d for _, d in t.get("long", [])) / 1000
    out["seen"] = seen - epoch0
    return out


def _cpu_of(pid: int):
    import psutil

    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]  # gunicorn: the master and its workers

    def cpu() -> float:
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
        return total
    return cpu


def stream_cost(base: str, pid: int, pages: int, seconds: float) -> tuple[float, int, int]:
    """(% of one core with `pages` idle pages holding the event stream open, streams admitted, refused): each
    page reads /_r57/live on its own connection, as a browser's EventSource does."""
    cpu = _cpu_of(pid)
    host, port = base.removeprefix("http://").split(":")
    stop, admitted, refused = threading.Event(), [0], [0]
    conns = []

    def page() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=seconds + 30)
        conns.append(conn)
        conn.request("GET", "/_r57/live", headers={"Accept": "text/event-stream"})
        r = conn.getresponse()
        if r.status != 200:
            refused[0] += 1
            return
        admitted[0] += 1
        try:
            while not stop.is_set() and r.readline():
                pass
        except (OSError, ValueError, AttributeError):  # the socket shut at the end (http.client then has no fp)
            pass

    threads = [threading.Thread(target=page, daemon=True) for _ in range(pages)]
    for th in threads:
        th.start()
        time.sleep(0.02)
    time.sleep(2)
    c0 = cpu()
    time.sleep(seconds)
    busy = (cpu() - c0) / seconds * 100
    stop.set()
    for conn in conns:
        try:
            conn.sock and conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()
    return busy, admitted[0], refused[0]


def poll_cost(base: str, pid: int, pollers: int, seconds: float, every: float = 2.0) -> tuple[float, float, int]:
    """(% of one core idle, % with `pollers` pages polling, requests made)."""

    cpu = _cpu_of(pid)
    c0 = cpu()
    time.sleep(seconds)
    idle = (cpu() - c0) / seconds * 100
    stop = threading.Event()
    made = [0]

    host, port = base.removeprefix("http://").split(":")

    def page() -> None:
        """One open page: a kept-alive connection, as a browser holds to its server (HTTP/1.1)."""
        etag, conn = None, http.client.HTTPConnection(host, int(port), timeout=10)
        while not stop.is_set():
            try:
                conn.request("GET", "/_r57/version", headers={"If-None-Match": etag} if etag else {})
                r = conn.getresponse()
                r.read()
                if r.status not in (200, 304):
                    raise RuntimeError(f"version endpoint answered {r.status}")
                etag = r.getheader("ETag") or etag
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            made[0] += 1
            stop.wait(every)
        conn.close()

    threads = [threading.Thread(target=page, daemon=True) for _ in range(pollers)]
    for th in threads:
        th.start()
        time.sleep(every / pollers)  # pages opened at different moments, as real ones are
    c0 = cpu()
    time.sleep(seconds)
    busy = (cpu() - c0) / seconds * 100
    stop.set()
    return idle, busy, made[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--pollers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--skip-page", action="store_true")
    ap.add_argument("--production", action="store_true", help="the production layout instead of `serve`: "
                                                                "`app.py scheduler` + gunicorn --workers W")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--load-users", type=int, default=0, help="users replaying overview visits meanwhile "
                                                               "(bench_load.user: page, layout, callbacks, API)")
    ap.add_argument("--think", type=float, default=5.0, help="mean seconds a load user reads between visits")
    ap.add_argument("--poll", type=float, default=None, help="the pages' poll interval in seconds (R57_POLL_S; "
                                                             "default: the server's default)")
    ap.add_argument("--server-log", type=Path, help="keep the server's log here (R57_SLOW_REQUEST_MS=0 to time "
                                                    "every request)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="r57-fresh-"))
    shutil.copy(args.warehouse, tmp / "warehouse.duckdb")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "R57_AUTH": "off", "R57_API_TOKEN": PUSH_TOKEN, "R57_DATA_DIR": str(tmp), "R57_RATE_LIMIT": "100000 per minute",
           "R57_POLL_RATE_LIMIT": "100000 per minute"}  # every simulated page shares this one address
    env.pop("R57_NOW", None)
    if args.poll is not None:
        env["R57_POLL_S"] = str(args.poll)
    log_file = (args.server_log or tmp / "server.log").open("w", encoding="utf-8")
    writer = None
    if args.production:  # the Makefile's layout: one writer process, read-only gunicorn workers
        writer = subprocess.Popen([sys.executable, "app.py", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log_file, text=True)
        # threads: gunicorn.conf.py's (8 for requests + R57_LIVE_STREAMS for the pages' event streams)
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(args.workers),
               "--bind", f"127.0.0.1:{port}", "app:create_server()"]
    else:
        cmd = [sys.executable, "app.py", "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    try:
        _wait(lambda: _ok(base), timeout=300, step=0.5)
        inbox = tmp / "inbox" / "dossiers"
        inbox.mkdir(parents=True, exist_ok=True)
        time.sleep(5)  # the start-up tick and first publication are over
        print(f"server pid {server.pid} on {base}; warehouse copy {tmp}")
        load = _start_load(base, args.load_users, args.think)
        api = api_figures(base, inbox, args.reps)
        print(f"inbox rename -> /api/v1/values   {_stats(api)}")
        if not args.skip_page:
            watch = VersionWatch(base)
            try:
                page, published, pushed = page_figures(base, inbox, args.reps, watch,
                                                       every=args.poll if args.poll is not None else _server_poll_s())
            finally:
                watch.close()
            print(f"inbox rename -> open page        {_stats(page)}")
            print(f"push answered -> open page       {_stats(pushed)}")
            pairs = [(a, b) for a, b in zip(page, published, strict=True) if b is not None]
            if pairs:
                print(f"  of which rename -> published    {_stats([b for _, b in pairs])}")
                print(f"  of which published -> on page  {_stats([a - b for a, b in pairs])}")
        if load is not None:
            load.stop()
        every = args.poll if args.poll is not None else _server_poll_s()
        idle, busy, made = poll_cost(base, server.pid, args.pollers, args.seconds, every=every)
        print(f"server CPU, no page open          {idle:5.1f} % of one core")
        print(f"server CPU, {args.pollers} idle pages polling every {every:g} s {busy:5.1f} % of one core  "
              f"(+{busy - idle:.1f} %; {made} version requests in {args.seconds:.0f} s; the fallback when push is off)")
        pushed, admitted, refused = stream_cost(base, server.pid, args.pollers, args.seconds)
        print(f"server CPU, {args.pollers} idle pages holding the event stream {pushed:5.1f} % of one core  "
              f"(+{pushed - idle:.1f} %; {admitted} streams open, {refused} refused: the default, push)")
    finally:
        for proc in (server, writer):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log_file.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


class _Load:
    """`users` threads replaying overview visits (bench_load.user) until stopped; latencies kept."""

    def __init__(self, base: str, users: int, think: float) -> None:
        import bench_load

        self.lat, self.errors, self.lock = defaultdict(list), [], threading.Lock()
        payloads = bench_load.overview_callbacks(base)
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(bench_load, base, payloads, think), daemon=True)
                        for _ in range(users)]
        for th in self.threads:
            th.start()
        self.users, self.n_callbacks = users, len(payloads)

    def _run(self, bench_load, base, payloads, think) -> None:
        bench_load.user(base, payloads, self.stopped.is_set, self.lat, self.errors, self.lock, think=think)

    def stop(self) -> None:
        self.stopped.set()
        for th in self.threads:
            th.join(timeout=60)
        visits = sorted(self.lat["visit"])
        print(f"load: {self.users} users, {self.n_callbacks} callbacks a visit, {len(visits)} visits, "
              f"{len(self.errors)} errors; visit median {statistics.median(visits) if visits else float('nan'):.2f} s")


def _start_load(base: str, users: int, think: float) -> _Load | None:
    if users <= 0:
        return None
    sys.path.insert(0, str(ROOT / "bench"))
    load = _Load(base, users, think)
    time.sleep(min(10.0, think * 2))  # the users have arrived
    return load


def _server_poll_s() -> float:
    from config import load_settings

    return load_settings().poll_s


def _ok(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/_r57/version", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


if __name__ == "__main__":
    raise SystemExit(main())
