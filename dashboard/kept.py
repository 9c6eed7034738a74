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
the parts read nothing else, so the same key is the same answer; a new snapshot or minute is a new key and
an old answer is never served. Bounded by bytes (R57_VIEW_CACHE_MB per process, 0 = off), least recently
used out first; answers carry `X-Cache: HIT|MISS`.
"""

from __future__ import annotations

import functools
import hashlib

from api.answers import Answers

from . import data
from .callbacks import FAILED

ENDPOINT = "/_dash-update-component"
KEPT: set[str] = set()  # output properties ("id.prop") whose callbacks may be kept


def keep(output_id: str, prop: str = "children") -> None:
    """Declare that the callback drawing `output_id`.`prop` is a pure view (see the module docstring)."""
    KEPT.add(f"{output_id}.{prop}")


def keepable(output: str) -> bool:
    """Whether a callback request's `output` (Dash's "..a.x...b.y.." for several) names a declared part."""
    parts = output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]
    return any(p in KEPT for p in parts)


def _who() -> str:
    v = data.viewer()
    return "|".join((v.kind, v.role, ",".join(sorted(v.permissions)), "*" if v.all_units else ",".join(v.units)))


def install(server, max_bytes: int) -> Answers:
    """Wrap Dash's callback view on `server` (after Dash registered it); the store is `server.r57_views`."""
    import flask
    import orjson

    answers = Answers(max_bytes)
    view = server.view_functions[ENDPOINT]

    @functools.wraps(view)
    def kept_view(*args, **kwargs):
        req = flask.request
        body = req.get_data(cache=True)
        reader = data.context().reader
        snap = reader.current() if answers.max_bytes else None
        try:
            output = orjson.loads(body).get("output", "") if snap is not None else ""
        except (orjson.JSONDecodeError, AttributeError):
            output = ""
        if not isinstance(output, str) or not keepable(output):
            return view(*args, **kwargs)
        digest = hashlib.blake2b(body, digest_size=20).hexdigest()
        key, minute = f"{snap.name}|{_who()}|{digest}", data.local_now().strftime("%Y-%m-%dT%H:%M")
        hit = answers.get(key, minute)
        if hit is not None:
            resp = flask.Response(hit.body, status=hit.status, headers=dict(hit.headers))
            resp.headers["X-Cache"] = "HIT"
            return resp
        resp = flask.make_response(view(*args, **kwargs))
        if (resp.status_code == 200 and not resp.direct_passthrough and "Set-Cookie" not in resp.headers
                and not getattr(flask.g, FAILED, False) and reader.snapshot_path == snap):  # computed on the snapshot of the key
            answers.put(key, minute, resp.get_data(), 200, resp.headers)
        resp.headers["X-Cache"] = "MISS"
        return resp

    server.view_functions[ENDPOINT] = kept_view
    server.r57_views = answers
    return answers
