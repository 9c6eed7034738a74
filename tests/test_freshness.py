"""Instant freshness (issue 15): a file is loaded when it is renamed into the inbox, not at the next tick;
bursts are coalesced; pages learn of a new snapshot from a cheap version endpoint (304 when unchanged)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED

from service.scheduler import start_scheduler
from service.watch import InboxWatcher
from service.writer import Writer
from warehouse.db import Reader

from .conftest import dossier, wait_for, write_csv


def _drop(inbox, name: str, ids: list[str]) -> None:
    """As a sender must: write a dotted .tmp, then rename it in (one inotify 'moved' event)."""
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".{name}.tmp"
    write_csv(tmp, [dossier(dossier_id=i) for i in ids])
    os.replace(tmp, inbox / name)


def _count(reader: Reader) -> int:
    cur = reader.cursor()
    return -1 if cur is None else cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]


@pytest.fixture
def frozen(settings):
    """A scheduler whose polling ticks never come (first tick at start, then an hour): only the watcher loads."""
    s = replace(settings, dossier_interval_s=3600, indicator_interval_s=3600, watch_inbox=True,
                ingest_debounce_s=0.25, publish_min_interval_s=0)
    writer = Writer(s)
    sched, lock = start_scheduler(writer, reports=False)
    assert sched is not None
    ticks = {"n": 0}
    sched.add_listener(lambda e: ticks.__setitem__("n", ticks["n"] + (e.job_id == "ingest_dossiers")), EVENT_JOB_EXECUTED)
    assert wait_for(lambda: ticks["n"] >= 1 or not sched.get_job("ingest_dossiers").pending, timeout=20)
    time.sleep(0.3)  # let the start-up tick finish
    yield s, sched, ticks
    sched.shutdown(wait=True)
    lock.release()
    writer.close()


def test_a_file_renamed_in_is_loaded_without_waiting_for_the_tick(frozen) -> None:
    s, sched, ticks = frozen
    watcher = sched.r57_watcher
    before = ticks["n"]
    reader = Reader(s)
    _drop(s.dossier_inbox, "a.csv", ["W1", "W2"])
    assert wait_for(lambda: _count(reader) == 2, timeout=15)  # an hour before the next tick
    assert ticks["n"] == before and watcher.runs >= 1
    assert not (s.dossier_inbox / "a.csv").exists()  # archived, as the tick does


def test_a_burst_of_twenty_files_is_coalesced_into_few_runs(frozen) -> None:
    s, sched, _ = frozen
    watcher = sched.r57_watcher
    reader = Reader(s)
    runs_before = watcher.runs
    for i in range(20):
        _drop(s.dossier_inbox, f"b{i:02d}.csv", [f"B{i:02d}"])
    assert wait_for(lambda: _count(reader) == 20, timeout=30)
    assert watcher.kicks >= 20  # every file was seen…
    assert watcher.runs - runs_before <= 3  # …and loaded in at most three runs


def test_a_file_still_being_written_is_not_loaded_half(frozen) -> None:
    """Created and written in place: loaded only when closed (IN_CLOSE_WRITE), whole."""
    s, _, _ = frozen
    reader = Reader(s)
    path = s.dossier_inbox / "c.csv"
    write_csv(path, [dossier(dossier_id=f"C{i}") for i in range(50)])  # opened, written, closed
    assert wait_for(lambda: _count(reader) == 50, timeout=15)


def test_a_file_moved_in_from_another_folder_is_loaded(frozen, tmp_path) -> None:
    """`mv /elsewhere/x.csv inbox/`: inotify sees only a creation (no rename pair); loaded all the same."""
    s, _, ticks = frozen
    before, reader = ticks["n"], Reader(s)
    outside = tmp_path / "outbox"
    outside.mkdir()
    write_csv(outside / "m.csv", [dossier(dossier_id=f"M{i}") for i in range(3)])
    os.replace(outside / "m.csv", s.dossier_inbox / "m.csv")
    assert wait_for(lambda: _count(reader) == 3, timeout=15)
    assert ticks["n"] == before


def test_a_file_written_slowly_in_place_is_loaded_whole(frozen) -> None:
    """A sender that writes in place, with a pause longer than the debounce in the middle: the watcher waits
    for the file to stop growing (and its close), so every row is loaded, none lost to a half-read file."""
    s, _, _ = frozen
    reader = Reader(s)
    rows = [dossier(dossier_id=f"S{i:03d}") for i in range(40)]
    path = s.dossier_inbox / "slow.csv"
    head, tail = rows[:20], rows[20:]
    write_csv(s.dossier_inbox / ".parts.tmp", head)  # the first half, as the header + 20 lines
    first = (s.dossier_inbox / ".parts.tmp").read_text(encoding="utf-8")
    write_csv(s.dossier_inbox / ".rest.tmp", tail)
    rest = (s.dossier_inbox / ".rest.tmp").read_text(encoding="utf-8").split("\n", 1)[1]  # without its header
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(first)
        fh.flush()
        os.fsync(fh.fileno())
        threading.Event().wait(0.8)  # the sender is still writing (the test plays a slow sender)
        fh.write(rest)
    assert wait_for(lambda: _count(reader) >= 40, timeout=15)
    assert _count(reader) == 40


def test_the_watcher_ignores_partial_uploads(tmp_path) -> None:
    calls: list[str] = []
    w = InboxWatcher({"dossiers": tmp_path}, calls.append, debounce_s=0.05).start()
    try:
        (tmp_path / ".x.csv.tmp").write_text("partial")
        (tmp_path / "y.part").write_text("partial")
        time.sleep(0.4)
        assert calls == [] and w.kicks == 0
        os.replace(tmp_path / ".x.csv.tmp", tmp_path / "x.csv")
        assert wait_for(lambda: calls == ["dossiers"], timeout=5)
    finally:
        w.stop()


def test_version_endpoint_answers_304_until_a_new_snapshot(views_warehouse, tmp_path) -> None:
    import shutil

    from dashboard.app import VERSION_URL, create_app
    from warehouse.db import publish_snapshot

    s = replace(views_warehouse, data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    shutil.copy(views_warehouse.warehouse, s.warehouse)
    from warehouse.db import open_writer

    con = open_writer(s)
    publish_snapshot(con, s)
    client = create_app(s, refresh_s=600).server.test_client()
    first = client.get(VERSION_URL)
    assert first.status_code == 200 and first.json["version"]
    etag = first.headers["ETag"]
    again = client.get(VERSION_URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    publish_snapshot(con, s)  # a new snapshot: a new version at once (no 1 s reader check to wait out)
    con.close()
    new = client.get(VERSION_URL, headers={"If-None-Match": etag})
    assert new.status_code == 200 and new.headers["ETag"] != etag and new.json["version"] != first.json["version"]


def test_version_endpoint_needs_a_sign_in(views_warehouse, tmp_path) -> None:
    """With sign-in on, an anonymous poll gets a JSON 401 (never a redirect to the login page's HTML)."""
    from config import load_settings
    from dashboard.app import VERSION_URL, create_app

    s = load_settings(data_dir=tmp_path, warehouse=views_warehouse.warehouse, auth="on",
                      app_db=f"sqlite:///{tmp_path / 'app.db'}")
    resp = create_app(s, refresh_s=600).server.test_client().get(VERSION_URL)
    assert resp.status_code == 401 and resp.is_json


def test_every_answer_says_how_long_it_took_and_a_slow_one_is_logged_without_its_inputs(
        views_warehouse, tmp_path, caplog) -> None:
    """Server-Timing on every answer; past R57_SLOW_REQUEST_MS (0 here: all) a log line with the path and a
    callback's outputs, never the values it was asked with."""
    import logging

    from dashboard.app import VERSION_URL, create_app

    s = replace(views_warehouse, slow_request_ms=0)
    client = create_app(s, refresh_s=600).server.test_client()
    with caplog.at_level(logging.WARNING, logger="r57.timing"):
        resp = client.get(VERSION_URL)
        cb = client.post("/_dash-update-component", json={
            "output": "shell-version.data", "outputs": {"id": "shell-version", "property": "data"},
            "inputs": [{"id": "shell-tick", "property": "n_intervals", "value": 1}],
            "state": [{"id": "shell-version", "property": "data", "value": "secret-state-value"}],
            "changedPropIds": ["shell-tick.n_intervals"]})
    assert resp.headers["Server-Timing"].startswith("app;dur=") and cb.headers["Server-Timing"].startswith("app;dur=")
    float(resp.headers["Server-Timing"].split("=")[1])
    lines = [r.getMessage() for r in caplog.records if r.name == "r57.timing"]
    assert any(VERSION_URL in m for m in lines), lines
    assert any("/_dash-update-component" in m and "shell-version.data" in m for m in lines), lines
    assert not any("secret-state-value" in m for m in lines)
    quiet = create_app(replace(views_warehouse, slow_request_ms=60_000), refresh_s=600).server.test_client()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="r57.timing"):
        assert "Server-Timing" in quiet.get(VERSION_URL).headers
    assert not [r for r in caplog.records if r.name == "r57.timing"]


def _fast(app):
    return app.server.config["R57_VERSION_FAST_PATH"]


def test_an_unchanged_version_is_answered_in_front_of_flask(views_warehouse, tmp_path) -> None:
    """Sign-in off: the first poll and a new version go through Flask (Server-Timing says so); the 304s between
    are answered by the fast path (no Flask hooks ran: no Server-Timing), and a new snapshot is never hidden."""
    import shutil

    from dashboard.app import VERSION_URL, create_app
    from warehouse.db import open_writer, publish_snapshot

    s = replace(views_warehouse, data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    shutil.copy(views_warehouse.warehouse, s.warehouse)
    con = open_writer(s)
    publish_snapshot(con, s)
    app = create_app(s, refresh_s=600)
    client = app.server.test_client()
    first = client.get(VERSION_URL)
    assert first.status_code == 200 and "Server-Timing" in first.headers and _fast(app).served == 0
    etag = first.headers["ETag"]
    for n in range(1, 4):
        again = client.get(VERSION_URL, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert "Server-Timing" not in again.headers and _fast(app).served == n
    assert client.get(VERSION_URL, headers={"If-None-Match": '"someone-elses"'}).status_code == 200
    publish_snapshot(con, s)
    con.close()
    new = client.get(VERSION_URL, headers={"If-None-Match": etag})
    assert new.status_code == 200 and new.headers["ETag"] != etag and _fast(app).served == 3


def test_the_fast_path_with_sign_in_serves_only_a_session_the_guard_let_through(views_warehouse, tmp_path) -> None:
    """Sign-in on: a poll with the current ETag but no session, a forged session or a bearer token goes
    through the guard (401); a signed-in page's first poll goes through Flask, its next ones are fast 304s."""
    from config import load_settings
    from dashboard.app import VERSION_URL

    from .web_client import signed_in, web_with_accounts

    s = load_settings(data_dir=tmp_path, warehouse=views_warehouse.warehouse, auth="on",
                      app_db=f"sqlite:///{tmp_path / 'app.db'}", rate_limit="100000 per minute")
    app = web_with_accounts(s)
    page = signed_in(app, "leader")
    first = page.get(VERSION_URL)
    assert first.status_code == 200, first.status_code
    etag = first.headers["ETag"]
    again = page.get(VERSION_URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and _fast(app).served == 1
    nobody = app.server.test_client()
    assert nobody.get(VERSION_URL, headers={"If-None-Match": etag}).status_code == 401
    nobody.set_cookie("r57_session", "forged-session-value")
    assert nobody.get(VERSION_URL, headers={"If-None-Match": etag}).status_code == 401
    bearer = app.server.test_client().get(VERSION_URL, headers={"If-None-Match": etag,
                                                                "Authorization": "Bearer not-a-token"})
    assert bearer.status_code == 401 and _fast(app).served == 1


def test_the_memo_computes_a_key_once_for_every_page_asking_at_once() -> None:
    """When a snapshot lands every open page asks at once: one computation, the others wait for its result;
    a failed computation is not shared (each waiter tries itself)."""
    from dashboard.data import Memo

    memo, calls, gate = Memo(), [], threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return {"rows": 42}

    got = []
    threads = [threading.Thread(target=lambda: got.append(memo.get(("k",), slow))) for _ in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.2)
    gate.set()
    for th in threads:
        th.join(5)
    assert len(calls) == 1 and got == [{"rows": 42}] * 8 and memo.computed == 1

    def boom():
        raise RuntimeError("no snapshot")

    with pytest.raises(RuntimeError):
        memo.get(("bad",), boom)
    assert memo.get(("bad",), lambda: "second try") == "second try"
