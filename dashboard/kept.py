"""Page parts kept per snapshot: the bytes of a finished callback answer, given to the next page that asks
exactly the same (issue 13: 50 users replaying page views; issue 15: every open page asks at once when a
new snapshot lands).

Only callbacks declared here (`keep(output_id)`, next to the callback) are kept: the parts of a page that
are a pure function of the snapshot, the minute, the viewer's rights and scope, and the request (the
inputs, the states, which input changed). Never kept: a callback that audits (the ward page's dossier
lists), downloads, words, the freshness line (seconds), anything not declared; an error answer; an answer
that sets a cookie.

The key is the snapshot the reader serves, the minute (`data.memo`'s clock), who is asking as far as a
part can depend on it (role, rights, assigned units; never the name), and a digest of the request body,
which holds every input and the part's `shown` fingerprint (callbacks.redraw). A snapshot is immutable and
the parts read nothing else, so the same key is the same answer; a new snapshot is a new key and an older
snapshot's answer is never served. A new minute: the first request computes the part again, and while it
does, others asking the same get the previous minute's answer of the same snapshot (`X-Cache: STALE`; at
most `STALE_S` old) instead of all computing it at once: measured with 50 users, every turn of the minute
otherwise put every part of every page in every worker to be computed in the same second (page views' p95
1.7–3.4 s instead of 0.16–0.28 s with the clock still). Bounded by bytes (R57_VIEW_CACHE_MB per process,
0 = off), least recently used out first. When nothing is kept yet (a new snapshot: every open page asks at
once), one request computes and the others wait for its answer (single flight, at most `WAIT_S`). Answers
carry `X-Cache: HIT|STALE|WAIT|MISS`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from bytecache import ByteLRU

from . import data
from .callbacks import FAILED

ENDPOINT = "/_dash-update-component"
STALE_S = 120  # the oldest answer given while the current minute's is computed
WAIT_S = 20     # how long a request waits for the same part computed by another, when none is kept yet
KEPT_HEADERS = ("Content-Type",)
KEPT: set[str] = set()  # output properties ("id.prop") whose callbacks may be kept
_KEPT_BYTES: tuple[bytes, ...] = ()  # the same, encoded once for names_any


def keep(output_id: str, prop: str = "children") -> None:
    """Declare that the callback drawing `output_id`.`prop` is a pure view (see the module docstring)."""
    global _KEPT_BYTES
    KEPT.add(f"{output_id}.{prop}")
    _KEPT_BYTES = tuple(sorted(name.encode() for name in KEPT))


def keepable(output: str) -> bool:
    """Whether a callback request's `output` (Dash's "..a.x...b.y.." for several) names a declared part."""
    parts = output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]
    return any(p in KEPT for p in parts)


def names_any(body: bytes) -> bool:
    """Whether a callback body may name a declared part: a byte search for each "id.prop" before any parse.
    A request that names one holds its bytes (Dash ids are plain text; an id JSON had to escape would only be
    missed, never kept wrongly)."""
    return any(name in body for name in _KEPT_BYTES)


def _who() -> str:
    v = data.viewer()
    return "|".join((v.kind, v.role, ",".join(sorted(v.permissions)), "*" if v.all_units else ",".join(v.units)))


@dataclass(frozen=True)
class Part:
    minute: datetime
    body: bytes
    headers: tuple[tuple[str, str], ...]


class Parts(ByteLRU):
    """Kept answers by key, bounded by bytes (bytecache.ByteLRU); which keys are being computed again.
    Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self._refreshing: dict[str, threading.Event] = {}
        self.hits = self.stale = self.misses = self.waited = 0

    def look(self, key: str, minute: datetime, wait_s: float = WAIT_S) -> tuple[str, Part | None]:
        """("HIT", part) for this minute's; ("STALE", part) when another request computes it now; ("WAIT",
        part) when there was none to give and that request's answer came within `wait_s`; else ("MISS", None),
        and the caller computes it (then put(), or done() when it cannot be kept)."""
        with self._lock:
            part = self._lru.get(key)
            if part is not None and part.minute == minute:
                self.hits += 1
                return "HIT", part
            flight = self._refreshing.get(key)
            if (flight is not None and part is not None
                    and 0 <= (minute - part.minute).total_seconds() <= STALE_S):
                self.stale += 1
                return "STALE", part
            if flight is None:
                self._refreshing[key] = threading.Event()
                self.misses += 1
                return "MISS", None
        # single flight: a new snapshot makes every open page ask the same at once; one computes
        flight.wait(wait_s)
        with self._lock:
            part = self._lru.get(key)
            if part is not None and part.minute == minute:
                self.waited += 1
                return "WAIT", part
            self.misses += 1
            return "MISS", None  # the first failed, could not keep it, or is too slow: compute here

    def put(self, key: str, minute: datetime, body: bytes, headers) -> None:
        if self.fits(body):
            part = Part(minute, body, tuple((h, headers[h]) for h in KEPT_HEADERS if h in headers))
            with self._lock:
                self._lru[key] = part
        self.done(key)

    def done(self, key: str) -> None:
        with self._lock:
            flight = self._refreshing.pop(key, None)
        if flight is not None:
            flight.set()


def install(server, max_bytes: int) -> Parts:
    """Wrap Dash's callback view on `server` (after Dash registered it); the store is `server.r57_views`."""
    import flask
    import orjson

    answers = Parts(max_bytes)
    view = server.view_functions[ENDPOINT]

    @functools.wraps(view)
    def kept_view(*args, **kwargs):
        req = flask.request
        body = req.get_data(cache=True)
        if not answers.max_bytes or not names_any(body):  # no declared part named: no parse, no reader lock
            return view(*args, **kwargs)
        reader = data.context().reader
        snap = reader.current()
        try:
            output = orjson.loads(body).get("output", "") if snap is not None else ""
        except (orjson.JSONDecodeError, AttributeError):
            output = ""
        if not isinstance(output, str) or not keepable(output):
            return view(*args, **kwargs)
        digest = hashlib.blake2b(body, digest_size=20).hexdigest()
        key, minute = f"{snap.name}|{_who()}|{digest}", data.local_now().replace(second=0, microsecond=0)
        how, part = answers.look(key, minute)
        if part is not None:
            resp = flask.Response(part.body, status=200, headers=dict(part.headers))
            resp.headers["X-Cache"] = how
            return resp
        try:
            resp = flask.make_response(view(*args, **kwargs))
        except BaseException:
            answers.done(key)
            raise
        if (resp.status_code == 200 and not resp.direct_passthrough and "Set-Cookie" not in resp.headers
                and not getattr(flask.g, FAILED, False) and reader.snapshot_path == snap):  # computed on the key's snapshot
            answers.put(key, minute, resp.get_data(), resp.headers)
        else:
            answers.done(key)
        resp.headers["X-Cache"] = "MISS"
        return resp

    server.view_functions[ENDPOINT] = kept_view
    server.r57_views = answers
    return answers
