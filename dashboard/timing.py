"""How long each request took, told to the browser and, past a threshold, to the log.

Every answer carries `Server-Timing: app;dur=<ms>` (the W3C header the browser's developer tools show
beside the network timings), so a slow callback is found from the page. A request slower than
`Settings.slow_request_ms` (R57_SLOW_REQUEST_MS; 0 logs every one) is logged with its path and, for a
Dash callback, the outputs it fills: never its inputs or the viewer (no personal data in a log line).
"""

from __future__ import annotations

import logging
import time

import flask

log = logging.getLogger("r57.timing")


def install(server: flask.Flask, slow_ms: float) -> None:
    def start() -> None:
        flask.g.r57_t0 = time.perf_counter()

    def finish(resp: flask.Response) -> flask.Response:
        t0 = getattr(flask.g, "r57_t0", None)
        if t0 is None:
            return resp
        ms = (time.perf_counter() - t0) * 1000
        resp.headers["Server-Timing"] = f"app;dur={ms:.1f}"
        if ms >= slow_ms:
            log.warning("request %s %s took %.0f ms, %s bytes%s", flask.request.method, flask.request.path, ms,
                        resp.content_length if resp.content_length is not None else "?", _outputs())
        return resp

    server.before_request(start)
    server.after_request(finish)


def _outputs() -> str:
    """The outputs of a Dash callback request (ids and properties only), or ''."""
    if not flask.request.path.endswith("/_dash-update-component"):
        return ""
    body = flask.request.get_json(silent=True) or {}
    out = body.get("output") if isinstance(body, dict) else None
    return f" (outputs {str(out)[:200]})" if out else ""
