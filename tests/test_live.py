"""Server push (issue 15): open pages learn of a new snapshot from an event stream (`/_r57/live`, Server-Sent
Events) as soon as the writer replaces CURRENT; a full, refused or thread-less server answers 204 and the
page polls. Served here by waitress, as `app.py serve` does, read over a real socket."""

from __future__ import annotations

import http.client
import shutil
import socket
import threading
import time
from dataclasses import replace

import pytest

from dashboard import live

from .conftest import wait_for


class Stream:
    """One EventSource-like reader of the stream: its events (name, data) and comment lines, as they come."""

    def __init__(self, port: int, path: str = live.LIVE_URL) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"})
        self.sock = self.conn.sock  # the response takes it over from the connection
        self.resp = self.conn.getresponse()
        self.events: list[tuple[str, str]] = []
        self.comments = 0
        self.ended = False
        if self.resp.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, payload = "message", []
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    payload.append(line[5:].strip())
                elif line == "" and payload:
                    self.events.append((name, "\n".join(payload)))
                    name, payload = "message", []
        except (OSError, ValueError):
            pass
        self.ended = True

    def versions(self) -> list[str]:
        import json

        return [json.loads(d)["version"] for n, d in self.events if n == "version"]

    def close(self) -> None:
        """As a browser closing the page: the socket goes (the response's file would keep it open)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


@pytest.fixture
def served(views_warehouse, tmp_path, monkeypatch):
    """A copy of the views warehouse with its writer open, and the dashboard served by waitress (threads);
    the announcer's look at CURRENT besides inotify is an hour apart, so only the file watch can be quick."""
    from waitress import create_server

    from dashboard.app import create_app
    from warehouse.db import open_writer, publish_snapshot

    monkeypatch.setattr(live, "FALLBACK_S", 3600.0)

    def start(**changes):
        changes.setdefault("live_streams", 64)  # push is off by default (config.py)
        s = replace(views_warehouse, data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb", **changes)
        shutil.copy(views_warehouse.warehouse, s.warehouse)
        con = open_writer(s)
        publish_snapshot(con, s)
        app = create_app(s, refresh_s=600)
        server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        started.append((server, con, app))
        return s, con, app, server.effective_port

    started: list = []
    yield start
    for server, con, app in started:
        server.close()
        app.server.config[live.CONTEXT_KEY].close()
        con.close()


def test_a_new_snapshot_is_pushed_to_an_open_stream_at_once(served) -> None:
    from warehouse.db import publish_snapshot

    s, con, app, port = served()
    announcer = app.server.config[live.CONTEXT_KEY]
    stream = Stream(port)
    try:
        assert stream.resp.status == 200 and stream.resp.getheader("Content-Type").startswith("text/event-stream")
        assert wait_for(lambda: len(stream.versions()) == 1, timeout=10)  # the current version, on opening
        first = stream.versions()[0]
        assert first and first.startswith(announcer.ctx.reader.snapshot_path.name)
        new = publish_snapshot(con, s)
        assert wait_for(lambda: len(stream.versions()) == 2, timeout=10)  # inotify: the fallback is an hour away
        assert stream.versions()[1].startswith(new.name)
        assert announcer.ctx.reader.snapshot_path == new  # the reader switched before the pages were told
        assert announcer.open_streams == 1
        looks = announcer.checks
        time.sleep(1.5)  # reading CURRENT makes inotify events too: they must not wake the announcer
        assert announcer.checks - looks <= 1
    finally:
        stream.close()


def test_streams_beyond_the_limit_are_answered_204_and_a_closed_one_frees_its_slot(served, monkeypatch) -> None:
    monkeypatch.setattr(live, "KEEPALIVE_S", 0.2)  # a closed page is noticed at the next keep-alive
    _s, _con, app, port = served(live_streams=1)
    announcer = app.server.config[live.CONTEXT_KEY]
    first = Stream(port)
    assert first.resp.status == 200 and wait_for(lambda: first.versions(), timeout=10)
    second = Stream(port)
    assert second.resp.status == 204  # EventSource does not reconnect on 204: the page polls instead
    second.close()
    first.close()
    assert wait_for(lambda: announcer.open_streams == 0, timeout=10)
    third = Stream(port)
    try:
        assert third.resp.status == 200 and wait_for(lambda: third.versions(), timeout=10)
        assert wait_for(lambda: third.comments >= 2, timeout=10)  # keep-alive comments between events
    finally:
        third.close()


def test_push_off_or_a_server_without_threads_answers_204(served, views_warehouse) -> None:
    from dashboard.app import create_app

    _s, _con, _app, port = served(live_streams=0)
    off = Stream(port)
    assert off.resp.status == 204
    off.close()
    # Flask's test client says wsgi.multithread = False, as gunicorn's sync worker: a stream would hold
    # the worker's only thread, so it is refused
    client = create_app(replace(views_warehouse, live_streams=64), refresh_s=600).server.test_client()
    assert client.get(live.LIVE_URL).status_code == 204


def test_a_stream_ends_after_its_age_and_sends_keep_alives(views_warehouse) -> None:
    from dashboard import data

    announcer = live.Announcer(data.build_context(views_warehouse, refresh_s=600), max_streams=1)
    try:
        t0 = time.monotonic()
        chunks = list(announcer.stream(keepalive_s=0.1, max_age_s=0.5))
        took = time.monotonic() - t0
    finally:
        announcer.close()
    assert chunks[0].startswith(b"retry: ")
    assert chunks[1].startswith(b"event: version\ndata: ")
    assert b": keep-alive\n\n" in chunks[2:]
    assert 0.4 <= took < 5


def test_the_stream_needs_a_sign_in(views_warehouse, tmp_path) -> None:
    from config import load_settings
    from dashboard.app import create_app

    s = load_settings(data_dir=tmp_path, warehouse=views_warehouse.warehouse, auth="on",
                      app_db=f"sqlite:///{tmp_path / 'app.db'}")
    resp = create_app(s, refresh_s=600).server.test_client().get(live.LIVE_URL)
    assert resp.status_code == 401 and resp.is_json


def test_requests_other_than_streams_run_at_most_n_at_once() -> None:
    """The threads added for streams never all compute: a third request waits for a slot; a stream and a
    version poll do not; a slot comes back when the body is closed, or at once when the app raises."""
    running, most = [0], [0]
    lock = threading.Lock()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("boom")
        bounded = environ["PATH_INFO"] != live.LIVE_URL
        with lock:
            running[0] += bounded
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= bounded
        start_response("200 OK", [])
        return [b"ok"]

    slots = live.RequestSlots(app, 2)

    def call(path: str) -> None:
        body = slots({"PATH_INFO": path, "wsgi.multithread": True}, lambda *a: None)
        list(body)
        if hasattr(body, "close"):
            body.close()
            body.close()  # a second close gives nothing back twice

    threads = [threading.Thread(target=call, args=("/_dash-update-component",)) for _ in range(5)]
    for th in threads:
        th.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    call(live.LIVE_URL)  # while the two slots are taken
    assert time.monotonic() - t0 < 0.35
    for th in threads:
        th.join()
    assert most[0] == 2  # never more than two bounded requests at once (five asked)
    with pytest.raises(RuntimeError):
        slots({"PATH_INFO": "/boom", "wsgi.multithread": True}, lambda *a: None)
    assert slots.slots.acquire(timeout=0.01) and slots.slots.acquire(timeout=0.01)  # both came back
