"""Read API, versioned under /api/v1: KPIs with definitions, values with targets and status, units,
overdue dossiers, ingest status; plus the token-protected push ingest.

Every answer is JSON. Bad parameters get a 400 that says what was wrong, never a 500. Each answer
carries an ETag and Last-Modified derived from the warehouse snapshot it was read from, so a poller
that sends If-None-Match / If-Modified-Since gets a cheap 304 until new data is published.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import wraps

import pandas as pd
from flask import Blueprint, Response, json, request

import metrics
from warehouse import health

from .openapi import spec
from .push import push_dossiers

MAX_PAGE_SIZE = 5000
DIMENSIONS = ("unit_code", "procedure_code", "channel", "sector", "applicant_type")
GRAINS = ("day", "week", "month", "quarter", "year")


class BadRequest(ValueError):
    pass


def _jsonable(x):
    if x is None or x is pd.NaT:
        return None
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, datetime | date):
        return x.isoformat()
    if isinstance(x, pd.Timestamp):
        return None if pd.isna(x) else x.isoformat()
    if hasattr(x, "item"):  # numpy scalars
        return _jsonable(x.item())
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return x


def records(df: pd.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _answer(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, sort_keys=False), status=status,
                    mimetype="application/json")


def error(status: int, message: str, **detail) -> Response:
    return _answer({"error": message, **detail}, status)


def _list_arg(name: str) -> list[str] | None:
    raw = request.args.getlist(name)
    items = [v.strip() for chunk in raw for v in chunk.split(",") if v.strip()]
    return items or None


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a whole number, got '{raw}'") from None
    if not lo <= value <= hi:
        raise BadRequest(f"'{name}' must be between {lo} and {hi}, got {value}")
    return value


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date YYYY-MM-DD, got '{raw}'") from None


def _paginate(rows: list[dict]) -> dict:
    page = _int_arg("page", 1, 1, 10**6)
    size = _int_arg("page_size", 500, 1, MAX_PAGE_SIZE)
    start = (page - 1) * size
    return {"page": page, "page_size": size, "total": len(rows), "pages": max(1, math.ceil(len(rows) / size)),
            "items": rows[start:start + size]}


def create_blueprint(reader_factory: Callable, settings, writer=None) -> Blueprint:
    """The /api/v1 blueprint; `reader_factory()` gives a read-only cursor (or None before any data)."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

    def snapshot_stamp() -> tuple[str, datetime | None]:
        from warehouse.db import current_snapshot

        path = current_snapshot(settings)
        if path is None:
            return "none", None
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(microsecond=0)
        return path.name, mtime

    def cached(view):
        """ETag/Last-Modified from the snapshot and the full request URL; 304 when unchanged."""
        @wraps(view)
        def wrapper(*args, **kwargs):
            snap, modified = snapshot_stamp()
            etag = hashlib.sha1(f"{snap}|{request.full_path}".encode()).hexdigest()[:20]
            if etag in request.if_none_match:
                return Response(status=304, headers={"ETag": f'"{etag}"'})
            since = request.headers.get("If-Modified-Since")
            if modified is not None and since and not request.if_none_match:
                try:
                    if modified <= parsedate_to_datetime(since):
                        return Response(status=304, headers={"ETag": f'"{etag}"'})
                except (TypeError, ValueError):
                    pass
            try:
                resp = view(*args, **kwargs)
            except (BadRequest, metrics.QueryError, ValueError, KeyError) as exc:
                message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                return error(400, message, parameters=dict(request.args))
            resp.headers["ETag"] = f'"{etag}"'
            resp.headers["Cache-Control"] = "no-cache"
            if modified is not None:
                resp.headers["Last-Modified"] = format_datetime(modified, usegmt=True)
            return resp
        return wrapper

    def cursor_or_503():
        cur = reader_factory()
        if cur is None:
            raise _NoData()
        return cur

    @bp.errorhandler(404)
    def not_found(_):
        return error(404, "no such endpoint; see /api/v1/openapi.json")

    @bp.get("/openapi.json")
    def openapi():
        return _answer(spec(request.host_url.rstrip("/")))

    @bp.get("/kpis")
    @cached
    def kpis():
        lang = _lang()
        df = metrics.list_kpis(lang=lang)
        items = records(df[~df["auxiliary"].astype(bool)] if "auxiliary" in df else df)
        return _answer({"kpis": items, "count": len(items)})

    @bp.get("/kpis/<code>")
    @cached
    def kpi(code: str):
        lang = _lang()
        df = metrics.list_kpis(lang=lang)
        row = df[df["kpi"] == code]
        if row.empty:
            return error(404, f"unknown KPI '{code}'", known=sorted(df["kpi"]))
        item = records(row)[0]
        item["sql"] = metrics.explain(code)
        return _answer(item)

    def values_frame() -> tuple[pd.DataFrame, dict[str, str]]:
        """metrics.query with the request's filters, as the dashboard asks it; and the filters used."""
        _lang()
        kpi_codes = _list_arg("kpi")
        grain = request.args.get("grain", "month")
        if grain not in GRAINS:
            raise BadRequest(f"'grain' must be one of {list(GRAINS)}, got '{grain}'")
        by = _list_arg("by") or []
        bad = [b for b in by if b not in DIMENSIONS]
        if bad:
            raise BadRequest(f"'by' must be some of {list(DIMENSIONS)}, got {bad}")
        period = request.args.get("period")
        start, end = _date_arg("from"), _date_arg("to")
        if (start is None) != (end is None):
            raise BadRequest("'from' and 'to' go together (dates YYYY-MM-DD, inclusive)")
        if start and end and start > end:
            raise BadRequest("'from' is after 'to'")
        periods = (start, end) if start else (period or None)
        con = cursor_or_503()
        if kpi_codes:
            known = set(metrics.list_kpis()["kpi"])
            unknown = [k for k in kpi_codes if k not in known]
            if unknown:
                raise BadRequest(f"unknown KPI {unknown}; see /api/v1/kpis")
        df = metrics.query(con, kpi_codes, grain=grain, periods=periods, units=_list_arg("unit"), by=by)
        filters = {"kpi": ",".join(kpi_codes or ["*"]), "grain": grain,
                   "period": f"{start}..{end}" if start else (period or "now"),
                   "unit": ",".join(_list_arg("unit") or ["01"]), "by": ",".join(by)}
        return df, filters

    @bp.get("/values")
    @cached
    def values():
        return _answer(_paginate(records(values_frame()[0])))

    @bp.get("/values.<fmt>")
    @cached
    def values_file(fmt: str):
        from exports import EXPORT_FORMATS, csv_bytes, parquet_bytes, rounded, xlsx_bytes
        from ingest.runner import local_now

        if fmt not in EXPORT_FORMATS:
            raise BadRequest(f"export format must be one of {list(EXPORT_FORMATS)}, got '{fmt}'")
        lang = _lang()
        df, filters = values_frame()
        df = rounded(df)
        con = cursor_or_503()
        names = health.units_frame(con).set_index("unit_code")["name" if lang == "vi" else "name_en"]
        df.insert(2, "unit_name", [names.get(u, "") for u in df["unit_code"]])
        stamp = local_now().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            data = csv_bytes(df)
        elif fmt == "parquet":
            data = parquet_bytes(df)
        else:
            kpis = metrics.list_kpis(lang=lang)
            defs = kpis[kpis["kpi"].isin(set(df["kpi"]))][["kpi", "name", "description", "unit", "legal_basis"]]
            title = "Chỉ tiêu Nghị quyết 57 — Hà Nội" if lang == "vi" else "Resolution 57 KPIs — Hanoi"
            data = xlsx_bytes({"KPI": df}, filters, defs, local_now(), title, demo=health.is_demo(con), lang=lang)
        resp = Response(data, mimetype=EXPORT_FORMATS[fmt])
        resp.headers["Content-Disposition"] = f'attachment; filename="r57-kpi-{stamp}.{fmt}"'
        return resp

    @bp.get("/units")
    @cached
    def units():
        return _answer(_paginate(records(health.units_frame(cursor_or_503()))))

    @bp.get("/overdue")
    @cached
    def overdue():
        con = cursor_or_503()
        df = metrics.overdue_list(con, units=_list_arg("unit"))
        return _answer(_paginate(records(df)))

    @bp.get("/status")
    @cached
    def status():
        from ingest.runner import local_now

        con = cursor_or_503()
        now = local_now()
        return _answer({
            "demo": health.is_demo(con),
            "now": now.isoformat(),
            "snapshot": snapshot_stamp()[0],
            "freshness": records(health.freshness(con, now)),
            "runs": records(health.ingest_runs(con, limit=_int_arg("runs", 20, 1, 500))),
        })

    @bp.post("/dossiers")
    def push():
        return push_dossiers(settings, writer)

    @bp.errorhandler(_NoData)
    def no_data(_):
        return error(503, "no data published yet: the warehouse has no snapshot (first ingest still running?)")

    return bp


class _NoData(Exception):
    pass


def _lang() -> str:
    lang = request.args.get("lang", "vi")
    if lang not in ("vi", "en"):
        raise BadRequest(f"'lang' must be 'vi' or 'en', got '{lang}'")
    return lang


def register(server, settings, reader_factory: Callable, writer=None) -> None:
    """Mount /api/v1 on a Flask server."""
    server.register_blueprint(create_blueprint(reader_factory, settings, writer))
