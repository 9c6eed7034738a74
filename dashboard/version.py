"""The version endpoint pages poll to learn of new data (issue 15), and its fast path.

`GET /_r57/version` answers the data version pages depend on (the snapshot and the hour) as JSON with an
ETag; a request whose If-None-Match equals it gets a bodiless 304. Through Flask that costs ~2–3 ms of CPU
(the sign-in guard, the rate limiter, the security headers); with 50 open pages asking every second that
alone would be several per cent of a core. So the same answer is also given in front of Flask, by
`FastPath` (a WSGI wrapper), when all of these hold:

- the request is `GET /_r57/version` with an If-None-Match equal to the current ETag;
- the reader already has the snapshot CURRENT names (a moved pointer goes through Flask, which switches);
- with sign-in on: the request carries a session cookie that passed the full guard in this process
  within `TTL_S` (remembered by a hash of it when Flask served it a version).

Everything else (first poll, a new version, an unknown or expired cookie, a bearer token, sign-in off
with no ETag yet) goes through Flask and its checks. A 304 carries no data: at most it tells a holder of
the current ETag that nothing changed. The rate limiter does not see fast-path requests; each costs less
than the limiter itself would.
"""

from __future__ import annotations

import hashlib
from threading import Lock

from cachetools import TTLCache
from werkzeug.http import parse_cookie

from access.web import SESSION_COOKIE
from warehouse.db import named_snapshot

from . import data

VERSION_URL = "/_r57/version"
TTL_S = 60

# the page's poll: ask for the version with the last ETag; a 304 (nothing new) or any failure changes nothing;
# nothing is asked while the page's event stream (dashboard.live) is open, nor while the page is hidden (its
# stream, or this poll, catches up when it is shown again)
POLL_JS = """async function(_n, old) {
  const st = window.r57poll = window.r57poll || {etag: null};
  if (window.r57live && window.r57live.open) { return window.dash_clientside.no_update; }  // pushed instead
  if (document.visibilityState === "hidden") { return window.dash_clientside.no_update; }
  try {
    const resp = await fetch("__VERSION_URL__", {credentials: "same-origin", cache: "no-store",
                                    headers: st.etag ? {"If-None-Match": st.etag} : {}});
    if (resp.status !== 200) { return window.dash_clientside.no_update; }
    st.etag = resp.headers.get("ETag");
    const body = await resp.json();
    if (!body.version || body.version === old) { return window.dash_clientside.no_update; }
    if (window.r57live) { window.r57live.version = body.version; }  // a stream opened later need not repeat it
    return body.version;
  } catch (e) { return window.dash_clientside.no_update; }
}""".replace("__VERSION_URL__", VERSION_URL)

_HEADERS_304 = [("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]


def etag_of(v: str | None) -> str:
    return f'"{v or "none"}"'


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


class FastPath:
    """WSGI wrapper: the 304 of an unchanged version, answered before Flask (see the module's docstring)."""

    def __init__(self, wsgi_app, ctx: data.Context, auth: bool, ttl_s: float = TTL_S) -> None:
        self.next, self.ctx, self.auth = wsgi_app, ctx, auth
        self.sessions: TTLCache = TTLCache(maxsize=20_000, ttl=ttl_s)
        self.lock = Lock()
        self.served = 0  # 304s answered here (tests, the freshness bench)

    def remember(self, raw_cookie: str | None) -> None:
        """A session cookie the guard let through just now (called by the Flask view)."""
        if self.auth and raw_cookie:
            with self.lock:
                self.sessions[_digest(raw_cookie)] = True

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != VERSION_URL or environ.get("REQUEST_METHOD") != "GET":
            return self.next(environ, start_response)
        tag = environ.get("HTTP_IF_NONE_MATCH")
        if not tag or not self._known(environ) or tag != self._current_etag():
            return self.next(environ, start_response)
        with self.lock:
            self.served += 1
        start_response("304 Not Modified", [("ETag", tag), *_HEADERS_304])
        return [b""]

    def _known(self, environ) -> bool:
        if not self.auth:
            return True
        if environ.get("HTTP_AUTHORIZATION"):
            return False
        raw = parse_cookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE)
        if not raw:
            return False
        with self.lock:
            return _digest(raw) in self.sessions

    def _current_etag(self) -> str | None:
        reader = self.ctx.reader
        path = reader.snapshot_path
        if path is None or named_snapshot(reader.settings) != path:
            return None  # no snapshot yet, or CURRENT moved: Flask switches the reader and answers 200
        return etag_of(data.version(reader, data.local_now()))


def register(app, ctx: data.Context) -> FastPath:
    """The Flask route (signed in like every page, its own rate limit in place of the default one: a page
    asks every poll_s) and the fast path in front of it."""
    import flask

    server = app.server
    fast = FastPath(server.wsgi_app, ctx, ctx.settings.auth_enabled)

    def version_view():
        v = data.published_version(ctx.reader, data.local_now())
        etag = etag_of(v)
        if flask.request.headers.get("If-None-Match") == etag:
            resp = flask.Response(status=304)
        else:
            resp = flask.jsonify({"version": v})
        resp.headers["ETag"] = etag
        resp.headers["Cache-Control"] = "no-cache"
        if not flask.request.headers.get("Authorization"):
            fast.remember(flask.request.cookies.get(SESSION_COOKIE))
        return resp

    limiter = server.config.get("R57_LIMITER")
    if limiter is not None:  # polls from a few tabs behind one address; still bounded
        version_view = limiter.limit(ctx.settings.poll_rate_limit)(version_view)
    server.add_url_rule(VERSION_URL, "r57_version", version_view, methods=["GET"])
    server.wsgi_app = fast
    server.config["R57_VERSION_FAST_PATH"] = fast
    return fast
