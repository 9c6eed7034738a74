"""Instant freshness (issue 15) in a real browser: a file renamed into the inbox changes the number on an
already-open page by itself, with the page's refresh interval at ten minutes, so it is the watcher and the
version poll that carry it (how fast is measured in bench/bench_freshness.py, not asserted here)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

from .browser import errors, new_dossiers, open_page, seed


def test_a_file_dropped_in_the_inbox_reaches_an_open_page_without_the_tick(dash_duo, tmp_path) -> None:
    from dashboard.app import create_app
    from service.scheduler import start_scheduler
    from service.writer import Writer

    settings = replace(seed(tmp_path, days=20, per_day=200), dossier_interval_s=3600, publish_min_interval_s=0,
                       poll_s=2, watch_inbox=True)
    dash_duo.start_server(create_app(settings, refresh_s=600))
    writer = Writer(settings)
    sched, lock = start_scheduler(writer, reports=False)
    try:
        assert sched is not None and sched.r57_watcher is not None
        open_page(dash_duo, "/", "#ov-today")
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
