"""Server push of new data versions to open pages (issue 15): Server-Sent Events on `/_r57/live`.

A page opens one `EventSource` on `LIVE_URL`; the stream sends an `event: version` with the data version
(`data.version`: the snapshot's name and the hour) when it opens and whenever it changes, and a comment
every `KEEPALIVE_S` so a closed page's stream is noticed. The page copies a new version into its version
store (LIVE_JS), which re-runs the callbacks that read data, as the poll does; while the stream is open the
2 s poll of `/_r57/version` (dashboard.version) asks nothing, and it takes over when the stream cannot be
opened or is refused.

One `Announcer` per web process learns of a new snapshot as soon as the writer replaces CURRENT: an inotify
watch on the snapshot folder (watchdog), and a look at CURRENT every `FALLBACK_S` besides (a missed event,
an unsupported file system, the hour turning). It switches the process's reader to the new snapshot first,
then wakes every stream: a page's callbacks find it open.

Bounds: each open stream holds one server thread, so a process serves at most `Settings.live_streams`
streams (`R57_LIVE_STREAMS`; the server is given that many threads more than the `R57_WEB_THREADS` it has
for requests, see `app.py serve` and gunicorn.conf.py, and `RequestSlots` keeps other requests to
`R57_WEB_THREADS` at once, so the added threads never compute); beyond that, on a server without threads (gunicorn's sync worker) or with `R57_LIVE_STREAMS=0`
the answer is 204 No Content, which tells EventSource not to reconnect, and the page polls. A stream ends
after `MAX_AGE_S` (the browser reconnects after `RETRY_MS`, through the sign-in guard and the rate limit
again). A stream carries version names only, never data.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from . import data, ids

log = logging.getLogger(__name__)

LIVE_URL = "/_r57/live"
KEEPALIVE_S = 15.0     # a comment line: a closed page's stream fails on it and frees its thread
MAX_AGE_S = 300.0      # then the stream ends; EventSource reconnects after RETRY_MS, signed in again
RETRY_MS = 2000
FALLBACK_S = 1.0       # a look at CURRENT besides inotify (one stat(); the hour turning)
CONTEXT_KEY = "R57_LIVE"
UNBOUNDED = (LIVE_URL, "/_r57/version")  # not counted by RequestSlots
# the watchdog events that can change CURRENT (publish renames a new one in); not "opened" nor
# "closed_no_write", which every read of it causes
CHANGES = frozenset({"moved", "created", "modified", "closed", "deleted"})

# The page's side: at most one EventSource per page, open only while the page is visible (the shell's store
# LIVE fires this once). A browser keeps at most 6 HTTP/1.1 connections to a host for all its tabs: a stream
# left open by a page in the back/forward cache or by a background tab takes one for good, and after a few
# navigations the next page's callbacks waited for ever (found by the multi-page browser tests). So the
# stream closes when the page is hidden or left (visibilitychange, pagehide) and opens again when it is shown;
# its first event then says whether the data changed meanwhile. A version event that differs from the last
# one known is written into the version store (set_props triggers the callbacks that read it).
# window.r57live.open tells POLL_JS to skip its request while the stream is open.
LIVE_JS = """function(url, known) {
  if (!url || window.r57live || typeof EventSource === "undefined") { return window.dash_clientside.no_update; }
  const st = window.r57live = {open: false, version: known, events: 0, source: null, opened: 0};
  function onVersion(e) {
    st.open = true;
    st.events += 1;
    let v = null;
    try { v = JSON.parse(e.data).version; } catch (err) { return; }
    if (v && v !== st.version) {
      st.version = v;
      st.changed_at = Date.now();  // when the page learnt of it (the freshness bench's breakdown)
      window.dash_clientside.set_props("__VERSION_ID__", {data: v});
    }
  }
  function connect() {
    if (st.source || document.visibilityState === "hidden") { return; }
    const es = new EventSource(url, {withCredentials: true});
    st.source = es;
    st.opened += 1;
    es.onopen = function() { st.open = true; };
    es.addEventListener("version", onVersion);
    es.onerror = function() {
      st.open = es.readyState === EventSource.OPEN;
      if (es.readyState === EventSource.CLOSED && st.source === es) { st.source = null; }  // refused: poll
    };
  }
  function disconnect() {
    if (st.source) { st.source.close(); st.source = null; }
    st.open = false;
  }
  st.connect = connect;
  st.disconnect = disconnect;
  document.addEventListener("visibilitychange", function() {
    if (document.visibilityState === "hidden") { disconnect(); } else { connect(); }
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", function(e) { if (e.persisted) { connect(); } });
  connect();
  return window.dash_clientside.no_update;
}""".replace("__VERSION_ID__", ids.VERSION)


def _event(version: str | None) -> bytes:
    return f"event: version\ndata: {json.dumps({'version': version})}\n\n".encode()


class Announcer:
    """Knows the newest data version of this process's reader and wakes the streams when it changes."""

    def __init__(self, ctx: data.Context, max_streams: int) -> None:
        self.ctx = ctx
        self.max_streams = max(0, max_streams)
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._version: str | None = None
        self._open = 0
        self._started = False
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._observer = None
        self.checks = 0     # looks at CURRENT (tests: no busy loop)

    # --- the watcher -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the watcher thread (once, lazily: after gunicorn forks, in the process that streams)."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
            self._version = data.published_version(self.ctx.reader, data.local_now())
            threading.Thread(target=self._run, name="r57-live", daemon=True).start()

    def _watch(self) -> bool:
        """An inotify (or the platform's) watch on the snapshot folder; False when it cannot be set yet."""
        if self._observer is not None:
            return True
        folder = self.ctx.reader.settings.snapshot_dir
        if not folder.is_dir():
            return False
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            wake = self._wake

            class _OnCurrent(FileSystemEventHandler):
                def on_any_event(self, event) -> None:
                    if event.event_type not in CHANGES:  # reading CURRENT (ours too) opens and closes it
                        return
                    dest = getattr(event, "dest_path", "") or ""
                    if str(event.src_path).endswith("CURRENT") or str(dest).endswith("CURRENT"):
                        wake.set()

            observer = Observer()
            observer.daemon = True
            observer.schedule(_OnCurrent(), str(folder), recursive=False)
            observer.start()
        except Exception as exc:  # no inotify (limits, file system): the FALLBACK_S look still works
            log.warning("no file watch on %s (%s): new snapshots are noticed within %.0f s", folder, exc, FALLBACK_S)
            self._observer = False
            return True
        self._observer = observer
        return True

    def _run(self) -> None:
        try:
            self._loop()
        except SystemExit:  # a test harness stopping its server's threads (dash.testing): nothing to keep
            return

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._watch()
            self._wake.wait(FALLBACK_S)
            self._wake.clear()
            try:
                self.check()
            except Exception:  # a snapshot that cannot be opened is logged by the reader; keep watching
                log.exception("live: looking for a new snapshot failed")

    def check(self) -> str | None:
        """Look for a new version now (switching the reader to a new snapshot); wake the streams if it changed."""
        self.checks += 1
        v = data.published_version(self.ctx.reader, data.local_now())
        with self._cond:
            if v != self._version:
                self._version = v
                self._cond.notify_all()
        return v

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer:
            self._observer.stop()

    # --- the streams -------------------------------------------------------------------------------

    @property
    def open_streams(self) -> int:
        return self._open

    def admit(self) -> bool:
        """Take a stream slot; False when all are taken (the caller answers 204)."""
        with self._cond:
            if self._open >= self.max_streams:
                return False
            self._open += 1
        return True

    def release(self) -> None:
        with self._cond:
            self._open = max(0, self._open - 1)

    def stream(self, keepalive_s: float | None = None, max_age_s: float | None = None):
        """The event stream of one admitted page: its slot is given back by release() (on close)."""
        keepalive_s = KEEPALIVE_S if keepalive_s is None else keepalive_s
        max_age_s = MAX_AGE_S if max_age_s is None else max_age_s
        self.start()
        yield f"retry: {RETRY_MS}\n\n".encode()
        end = time.monotonic() + max_age_s
        sent = object()
        while True:
            with self._cond:
                if self._version == sent:
                    self._cond.wait(min(keepalive_s, max(0.0, end - time.monotonic())))
                current = self._version
            if current != sent:
                sent = current
                yield _event(current)
            elif time.monotonic() >= end:
                return
            else:
                yield b": keep-alive\n\n"


class _Released:
    """A WSGI body that gives its request slot back once, when the server closes it."""

    def __init__(self, body, release) -> None:
        self.body, self._release = body, release

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class RequestSlots:
    """WSGI wrapper: at most `n` requests other than event streams run at once in this process.

    A server gets `web_threads` + `live_streams` threads (so that open pages' streams never take the threads
    requests need), but without this bound all of them could compute at once: in `serve`, 70 threads sharing
    one GIL with the writer made an inbox file wait 21 s to reach the API under 50 users (8 threads: ~1 s).
    A request beyond the bound waits for a slot, as it would have waited for a thread."""

    def __init__(self, wsgi_app, n: int) -> None:
        self.next = wsgi_app
        self.slots = threading.BoundedSemaphore(max(1, n))

    def __call__(self, environ, start_response):
        # a stream; a version poll (a file read, no query); a server without threads, whose requests come
        # one at a time anyway (a test client, which need not close what it got)
        if environ.get("PATH_INFO") in UNBOUNDED or not environ.get("wsgi.multithread"):
            return self.next(environ, start_response)
        self.slots.acquire()
        try:
            body = self.next(environ, start_response)
        except BaseException:
            self.slots.release()
            raise
        return _Released(body, self.slots.release)


def register(app, ctx: data.Context) -> Announcer:
    """The stream's Flask route, signed in like every page and rate-limited like the version poll."""
    import flask

    server = app.server
    announcer = Announcer(ctx, ctx.settings.live_streams)

    def live_view():
        threaded = flask.request.environ.get("wsgi.multithread", False)
        if not threaded or not announcer.admit():
            return flask.Response(status=204, headers={"Cache-Control": "no-store"})  # the page polls
        resp = flask.Response(announcer.stream(), mimetype="text/event-stream",
                              headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        resp.call_on_close(announcer.release)
        return resp

    limiter = server.config.get("R57_LIMITER")
    if limiter is not None:
        live_view = limiter.limit(ctx.settings.poll_rate_limit)(live_view)
    server.add_url_rule(LIVE_URL, "r57_live", live_view, methods=["GET"])
    server.config[CONTEXT_KEY] = announcer
    if ctx.settings.live_streams > 0:  # the threads added for streams must not all compute
        server.wsgi_app = RequestSlots(server.wsgi_app, ctx.settings.web_threads)
    return announcer
