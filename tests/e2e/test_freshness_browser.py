"""Instant freshness (issue 15) in a real browser: a file renamed into the inbox changes the number on an
already-open page by itself, with the page's refresh interval at ten minutes, so it is the watcher and the
server push (the event stream, with the version poll off) that carry it, or, with push off, the version
poll (how fast is measured in bench/bench_freshness.py, not asserted here)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from .browser import errors, new_dossiers, open_page, seed


@pytest.mark.parametrize("how", ["push", "poll"])
def test_a_file_dropped_in_the_inbox_reaches_an_open_page_without_the_tick(dash_duo, tmp_path, how) -> None:
    from dashboard.app import create_app
    from service.scheduler import start_scheduler
    from service.writer import Writer

    # push: the event stream only (no poll); poll: push off (R57_LIVE_STREAMS=0), the 2 s version poll
    settings = replace(seed(tmp_path, days=20, per_day=200), dossier_interval_s=3600, publish_min_interval_s=0,
                       poll_s=0 if how == "push" else 2, live_streams=64 if how == "push" else 0, watch_inbox=True)
    dash_duo.start_server(create_app(settings, refresh_s=600))
    writer = Writer(settings)
    sched, lock = start_scheduler(writer, reports=False)
    try:
        assert sched is not None and sched.r57_watcher is not None
        open_page(dash_duo, "/", "#ov-today")
        def stream_open():
            return dash_duo.driver.execute_script("return window.r57live ? window.r57live.open : null")

        if how == "push":  # the page's event stream opened
            dash_duo.wait_for_element("#ov-today")
            t0 = time.time()
            while stream_open() is not True and time.time() - t0 < 10:
                time.sleep(0.1)
        assert stream_open() is (True if how == "push" else None)  # (with push off it is never opened)
        before = int(dash_duo.find_element("#ov-today").text.replace(".", ""))
        settings.dossier_inbox.mkdir(parents=True, exist_ok=True)
        tmp = new_dossiers(settings.dossier_inbox / ".live.csv.tmp", 25)
        os.replace(tmp, settings.dossier_inbox / "live.csv")
        dropped = time.time()
        from warehouse.db import Reader

        reader = Reader(settings)
        first = reader.snapshot_path
        reader.cursor()
        first = reader.snapshot_path
        while reader.snapshot_path == first and time.time() - dropped < 30:
            reader.invalidate()
            reader.cursor()
            time.sleep(0.05)
        print(f"inbox rename -> snapshot published: {time.time() - dropped:.1f} s")
        dash_duo.wait_for_text_to_equal("#ov-today", f"{before + 25:,}".replace(",", "."), timeout=30)
        print(f"inbox rename -> number on the open page: {time.time() - dropped:.1f} s")
        assert sched.get_job("ingest_dossiers").next_run_time.timestamp() > time.time() + 3000  # no tick did it
        assert errors(dash_duo) == []
    finally:
        sched.shutdown(wait=True)
        lock.release()
        writer.close()


HIDE_JS = """Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => arguments[0]});
document.dispatchEvent(new Event('visibilitychange'));
const st = window.r57live;
return st ? {source: !!st.source, open: st.open, opened: st.opened} : null;"""


def test_streams_never_hold_the_browsers_connections(dash_duo, tmp_path) -> None:
    """A browser keeps at most 6 HTTP/1.1 connections to a host for all its tabs. A stream left open by a page
    it navigated away from (kept in the back/forward cache) or by a background tab used to take one for good:
    after five page loads the next page's callbacks waited for ever. Ten navigations and four background tabs
    later a page still draws; a hidden page holds no stream, and opens one again when shown."""
    from dashboard.app import create_app

    settings = replace(seed(tmp_path, days=20, per_day=200), live_streams=64)
    dash_duo.start_server(create_app(settings))
    driver = dash_duo.driver
    pages = [("/", "#ov-today"), ("/wards", "#wd-grid .ag-row"), ("/kpi?kpi=on_time_rate", "#kp-units .js-plotly-plot"),
             ("/ward?unit=00073", "#wu-kpis table"), ("/quality", "#main-content")]
    for i in range(10):
        path, ready = pages[i % len(pages)]
        open_page(dash_duo, path, ready, timeout=20)

    def live():
        return driver.execute_script("const st = window.r57live; return st ? {source: !!st.source, open: st.open, opened: st.opened} : null")

    t0 = time.time()
    while not (live() or {}).get("open") and time.time() - t0 < 10:
        time.sleep(0.1)
    assert live() == {"source": True, "open": True, "opened": 1}
    # hidden: the stream is closed; shown again: a new one opens
    assert driver.execute_script(HIDE_JS, "hidden") == {"source": False, "open": False, "opened": 1}
    assert driver.execute_script(HIDE_JS, "visible")["opened"] == 2
    t0 = time.time()
    while not (live() or {}).get("open") and time.time() - t0 < 10:
        time.sleep(0.1)
    assert live()["open"] is True

    # background tabs: the first page is hidden once another tab is in front, and every new tab still draws
    first = driver.current_window_handle
    for i in range(4):
        driver.switch_to.new_window("tab")
        open_page(dash_duo, pages[i][0], pages[i][1], timeout=20)
    driver.switch_to.window(first)
    assert errors(dash_duo) == []
