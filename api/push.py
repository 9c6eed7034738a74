"""Push ingest: POST dossier records (JSON, JSON Lines or CSV) into the same pipeline as the inbox.

Off unless an API token is configured (R57_API_TOKEN). In the process that holds the writer
(`make run`) the records load at once and the answer carries the counts and the quarantine reasons;
a read-only web worker cannot write, so it queues the body in the inbox for the ingest process and
answers 202 with where to look.

A body over MAX_BYTES gets a 413, also a chunked one without Content-Length (api.register sets the
server's MAX_CONTENT_LENGTH). The staging file under data/push never outlives the request; a run the
pipeline refused answers 422 with its error, and an unexpected failure a 500 that says what happened to
the records and what to do, with a reference to the server log (never a traceback or SQL).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from pathlib import Path

from flask import Response, request
from flask import json as fjson

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024


def _answer(payload: dict, status: int, headers: dict | None = None) -> Response:
    return Response(fjson.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json",
                    headers=headers or {})


def too_large() -> Response:
    return _answer({"error": f"body over {MAX_BYTES // (1024 * 1024)} MB: split it"}, 413)


def _authorised(token: str) -> Response | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _answer({"error": "missing 'Authorization: Bearer <token>' header"}, 401,
                       {"WWW-Authenticate": 'Bearer realm="r57"'})
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return _answer({"error": "invalid API token"}, 403)
    return None


def _body_as_file() -> tuple[bytes, str] | Response:
    """The request body as file bytes and an extension the readers know."""
    ctype = (request.mimetype or "").lower()
    body = request.get_data(cache=False)
    if request.content_length is None and len(body) >= MAX_BYTES:
        # a chunked body is cut at MAX_CONTENT_LENGTH without an error: at the limit, it was longer
        return too_large()
    if not body.strip():
        return _answer({"error": "empty body: send a JSON array of records, JSON Lines or CSV"}, 400)
    if ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            return _answer({"error": f"body is not valid JSON: {exc}"}, 400)
        if isinstance(data, dict) and isinstance(data.get("records"), list):
            data = data["records"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            return _answer({"error": "JSON body must be an array of record objects, or {\"records\": [...]}"}, 400)
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in data).encode() + b"\n", ".jsonl"
    if ctype in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines"):
        return body, ".jsonl"
    if ctype in ("text/csv", "application/csv"):
        return body, ".csv"
    return _answer({"error": f"unsupported Content-Type '{ctype}'; use application/json, "
                             "application/x-ndjson or text/csv"}, 415)


def push_dossiers(settings, writer) -> Response:
    if settings.auth_enabled:  # the guard (access.web) has resolved the bearer token: it must allow push
        from access import roles
        from access.web import audit, viewer_or_nobody

        if not viewer_or_nobody().may(roles.PUSH):
            audit("push", outcome="denied")
            return _answer({"error": "this token may not push: make one with `python app.py tokens add NAME --push`"},
                           403)
        audit("push", detail={"bytes": request.content_length})
    else:  # sign-in off (development): the legacy shared token, R57_API_TOKEN
        if not settings.api_token:
            return _answer({"error": "push ingest is off: no API token is configured (set R57_API_TOKEN)"}, 403)
        denied = _authorised(settings.api_token)
        if denied is not None:
            return denied
    if (request.content_length or 0) > MAX_BYTES:
        return too_large()
    got = _body_as_file()
    if isinstance(got, Response):
        return got
    data, ext = got
    digest = hashlib.sha256(data).hexdigest()[:12]
    name = f"push-{time.strftime('%Y%m%d-%H%M%S')}-{digest}{ext}"
    if writer is None:
        inbox = settings.dossier_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        tmp = inbox / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, inbox / name)
        return _answer({"queued": name, "detail": "this web process is read-only; the ingest process loads "
                        "the file on its next tick", "status_url": "/api/v1/status"}, 202)
    return _ingest_now(settings, writer, name, data)


def _ingest_now(settings, writer, name: str, data: bytes) -> Response:
    staging = settings.data_dir / "push"
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / name
    try:
        return _load(settings, writer, path, data)
    finally:
        path.unlink(missing_ok=True)  # loaded files were archived already; a failed load leaves nothing


def _load(settings, writer, path: Path, data: bytes) -> Response:
    """Load the staged body and refresh what depends on it in one writer session; publish after it
    (outside: the writer coalesces publications and may defer this one)."""
    from ingest.runner import quarantine_summary
    from service.writer import PublishFailed

    lang = request.args.get("lang", "en")
    report = None
    try:
        path.write_bytes(data)
        try:
            (report,) = writer.load([path], "dossiers", channel="push")
        except PublishFailed as exc:
            report = exc.reports[0]
            raise
        with writer.session() as con:
            quarantined = quarantine_summary(con, report.run_id, lang=lang if lang in ("vi", "en") else "en",
                                             limit=1000)
    except Exception:
        log.exception("push %s failed (run %s)", path.name, report.run_id if report else "not recorded")
        return _failed(path.name, report)
    out = report.as_dict()
    out["quarantine"] = quarantined
    status = 200 if report.status in ("ok", "partial", "duplicate") else 422
    return _answer(out, status)


def _failed(reference: str, report) -> Response:
    """A 500 that tells the sender whether the records are in, and what to do; details stay in the log."""
    if report is None or not report.changed:
        message = ("the records were not loaded: the server failed while loading them. Send the same body "
                   "again later; if it fails again, give the operator the reference.")
        detail = {}
    else:
        message = (f"the records were loaded (run {report.run_id}), but the dashboard and the API do not show "
                   "them yet: refreshing the published copy failed. Do not send them again; they appear after "
                   "the next successful ingest. If they do not, give the operator the reference.")
        detail = {"run_id": report.run_id}
    return _answer({"error": message, "reference": reference, **detail}, 500)
