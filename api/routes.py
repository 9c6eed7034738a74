"""Read API, versioned under /api/v1: KPIs with definitions, values with targets and status, units,
overdue dossiers, ingest status; plus the token-protected push ingest.

/values without period/from/to answers the last complete period of the grain (on 1 December, month
grain: November), judged once and for all; period=current gives the period to date, each row
`partial: true` with its `as_of`, never judged. Every row carries partial, as_of, n, few_data and
status_reason, and so do the exports. One clock per request (query_clock) serves the cost check and
the query.

Every answer is JSON. Bad parameters get a 400 that says what was wrong, never a 500; what a bad
request sent is echoed back clipped (ECHO_CHARS per value). A request may ask for at most
MAX_PERIODS[grain] periods, counted by arithmetic before anything is computed, so a range of
centuries answers 400 at once. Each answer carries an ETag and Last-Modified derived from the warehouse
snapshot it was read from: one `Reader.read()` per request, taken before the 304 check and used by
the view, so the label and the data always come from the same snapshot even while a new one is
published. A poller that sends If-None-Match / If-Modified-Since gets a cheap 304 until then.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import wraps
from typing import Protocol

import pandas as pd
from flask import Blueprint, Response, g, json, request
from werkzeug.exceptions import RequestEntityTooLarge

import config
import metrics
from access import roles
from access import web as access_web
from metrics.engine import local_now
from metrics.periods import CURRENT, parse_label, resolve
from presentation.words import localised_column, t
from warehouse import health
from warehouse.db import SnapshotRead

from .openapi import spec
from .push import MAX_BYTES, push_dossiers, too_large

MAX_PAGE_SIZE = 5000
DIMENSIONS = ("unit_code", "procedure_code", "channel", "sector", "applicant_type")
GRAINS = ("day", "week", "month", "quarter", "year")
# The most periods one request may ask for, per grain: the cost of a values query grows with them.
MAX_PERIODS = {"day": 400, "week": 120, "month": 120, "quarter": 40, "year": 20}
ECHO_CHARS = 200       # a parameter echoed back in an error is clipped to this
ECHO_KEYS = 30         # ... and at most this many parameters are echoed
MESSAGE_CHARS = 500    # an error message is clipped to this (it may quote what was sent)


def query_clock() -> datetime:
    """The clock of a values request: Hanoi wall-clock time, or R57_NOW when set (config.frozen_now),
    as the dashboard's, so a frozen demo or test of the 1st shows the same periods in the API."""
    return config.frozen_now() or local_now()


class SnapshotSource(Protocol):
    def read(self) -> SnapshotRead | None: ...


class BadRequest(ValueError):
    """A 400: `message` says what was wrong; `detail` goes into the answer beside it."""

    def __init__(self, message: str, **detail) -> None:
        super().__init__(message)
        self.detail = detail


def clip(value: object, limit: int = ECHO_CHARS) -> str:
    """`value` as text of at most `limit` characters ('…' marks a cut)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _echo() -> dict[str, str]:
    """The request's parameters for an error answer, clipped: a 64 kB parameter is not sent back."""
    return {clip(k): clip(v) for k, v in list(request.args.items())[:ECHO_KEYS]}


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
    return _answer({"error": clip(message, MESSAGE_CHARS), **detail}, status)


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
        raise BadRequest(f"'{name}' must be a whole number, got '{clip(raw)}'") from None
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
        raise BadRequest(f"'{name}' must be a date YYYY-MM-DD, got '{clip(raw)}'") from None


def _paginate(rows: list[dict]) -> dict:
    page = _int_arg("page", 1, 1, 10**6)
    size = _int_arg("page_size", 500, 1, MAX_PAGE_SIZE)
    start = (page - 1) * size
    return {"page": page, "page_size": size, "total": len(rows), "pages": max(1, math.ceil(len(rows) / size)),
            "items": rows[start:start + size]}


def count_periods(start: date, end: date, grain: str) -> int:
    """How many periods of `grain` meet [start, end] (inclusive), by arithmetic: no period is built."""
    if end < start:
        return 0
    if grain == "day":
        return end.toordinal() - start.toordinal() + 1
    if grain == "week":  # ISO weeks: count Mondays from the week of `start` to the week of `end`
        return ((end.toordinal() - end.weekday()) - (start.toordinal() - start.weekday())) // 7 + 1
    return _running_index(end, grain) - _running_index(start, grain) + 1


def _running_index(d: date, grain: str) -> int:
    """A running number of the month, quarter or year that holds `d`."""
    if grain == "month":
        return d.year * 12 + d.month - 1
    if grain == "quarter":
        return d.year * 4 + (d.month - 1) // 3
    return d.year


def _span(period: str | None, start: date | None, end: date | None) -> tuple[date, date] | None:
    """The first and last day the request asks about (None: one period, the last complete one by
    default or the current one for period=current)."""
    if start is not None and end is not None:
        return start, end
    if not period or period.strip().lower() == CURRENT:
        return None
    try:
        p = parse_label(period)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return p.start, p.end - timedelta(days=1)


def check_cost(grain: str, period: str | None, start: date | None, end: date | None, today: date) -> None:
    """400 when the request asks for more than MAX_PERIODS[grain] periods (future ones are not computed)."""
    span = _span(period, start, end)
    if span is None:
        return
    first, last = span[0], min(span[1], today)
    asked, limit = count_periods(first, last, grain), MAX_PERIODS[grain]
    if asked > limit:
        raise BadRequest(
            f"too many periods: {first}..{last} at grain '{grain}' is {asked} periods, at most {limit} per "
            f"request; narrow 'from'/'to' or 'period', or use a coarser grain",
            limit={"grain": grain, "max_periods": limit, "asked": asked})


def _as_read_function(reader: SnapshotSource | Callable[[], SnapshotRead | None]) -> Callable[[], SnapshotRead | None]:
    read = getattr(reader, "read", None)
    if callable(read):
        return read
    if callable(reader):
        return reader
    raise TypeError("api.register needs a Reader (or any object with read() -> SnapshotRead | None)")


def create_blueprint(reader: SnapshotSource | Callable[[], SnapshotRead | None], settings,
                     writer=None) -> Blueprint:
    """The /api/v1 blueprint; `reader.read()` (or `reader()`) gives a SnapshotRead, or None before any data."""
    read_snapshot = _as_read_function(reader)
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

    def snapshot_read() -> SnapshotRead | None:
        """This request's read of the warehouse: taken once, so the ETag and the data agree."""
        if "r57_read" not in g:
            g.r57_read = read_snapshot()
        return g.r57_read

    def not_modified(etag: str, modified: datetime | None) -> bool:
        if etag in request.if_none_match:
            return True
        since = request.headers.get("If-Modified-Since")
        if modified is None or not since or request.if_none_match:
            return False
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):  # an unreadable date: answer in full
            return False

    def cached(view):
        """ETag/Last-Modified from this request's snapshot and its full URL; 304 when unchanged."""
        @wraps(view)
        def wrapper(*args, **kwargs):
            read = snapshot_read()
            snap, modified = (read.snapshot, read.published) if read is not None else ("none", None)
            etag = hashlib.sha1(f"{snap}|{request.full_path}|{_scope_key()}".encode()).hexdigest()[:20]
            if not_modified(etag, modified):
                return Response(status=304, headers={"ETag": f'"{etag}"'})
            try:
                resp = view(*args, **kwargs)
            except BadRequest as exc:
                return error(400, str(exc), parameters=_echo(), **exc.detail)
            except OverflowError as exc:  # a date past year 9999 or before year 1 in a computation
                return error(400, f"a date in the request is out of range: {exc}", parameters=_echo())
            except (metrics.QueryError, ValueError, KeyError) as exc:
                message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                return error(400, message, parameters=_echo())
            resp.headers["ETag"] = f'"{etag}"'
            resp.headers["Cache-Control"] = "no-cache"
            if modified is not None:
                resp.headers["Last-Modified"] = format_datetime(modified, usegmt=True)
            return resp
        return wrapper

    def cursor_or_503():
        read = snapshot_read()
        if read is None:
            raise _NoData()
        return read.cursor

    @bp.errorhandler(404)
    def not_found(_):
        return error(404, "no such endpoint; see /api/v1/openapi.json")

    @bp.errorhandler(RequestEntityTooLarge)
    def body_too_large(_):  # MAX_CONTENT_LENGTH: also a chunked body with no Content-Length
        return too_large()

    @bp.get("/openapi.json")
    def openapi():
        return _answer(spec(request.host_url.rstrip("/")))

    def _display(item: dict) -> dict:
        """A KPI item with its display metadata (kpis.yaml): decimals, kind, and the surfaces it is on."""
        k = metrics.get_registry().kpi(item["kpi"])
        return {**item, "decimals": k.decimals, "display_kind": k.display.kind, "show": list(k.display.show)}

    @bp.get("/kpis")
    @cached
    def kpis():
        lang = _lang()
        df = metrics.list_kpis(lang=lang)
        items = [_display(i) for i in records(df[~df["auxiliary"].astype(bool)] if "auxiliary" in df else df)]
        return _answer({"kpis": items, "count": len(items)})

    @bp.get("/kpis/<code>")
    @cached
    def kpi(code: str):
        lang = _lang()
        df = metrics.list_kpis(lang=lang)
        row = df[df["kpi"] == code]
        if row.empty:
            return error(404, f"unknown KPI '{clip(code)}'", known=sorted(df["kpi"]))
        item = _display(records(row)[0])
        item["sql"] = metrics.explain(code)
        return _answer(item)

    def values_frame() -> tuple[pd.DataFrame, dict[str, str]]:
        """metrics.query with the request's filters, as the dashboard asks it; and the filters used."""
        _lang()
        kpi_codes = _list_arg("kpi")
        grain = request.args.get("grain", "month")
        if grain not in GRAINS:
            raise BadRequest(f"'grain' must be one of {list(GRAINS)}, got '{clip(grain)}'")
        by = _list_arg("by") or []
        bad = [clip(b) for b in by if b not in DIMENSIONS]
        if bad:
            raise BadRequest(f"'by' must be some of {list(DIMENSIONS)}, got {bad}")
        period = request.args.get("period")
        start, end = _date_arg("from"), _date_arg("to")
        if (start is None) != (end is None):
            raise BadRequest("'from' and 'to' go together (dates YYYY-MM-DD, inclusive)")
        if start and end and start > end:
            raise BadRequest("'from' is after 'to'")
        periods = (start, end) if start else (period or None)
        now = query_clock()  # one clock per request: the cost check and the query agree on "today"
        check_cost(grain, period, start, end, now.date())
        con = cursor_or_503()
        if kpi_codes:
            known = set(metrics.list_kpis()["kpi"])
            unknown = [clip(k) for k in kpi_codes if k not in known]
            if unknown:
                raise BadRequest(f"unknown KPI {unknown}; see /api/v1/kpis")
        _check_units(_list_arg("unit"))
        df = metrics.query(con, kpi_codes, grain=grain, periods=periods, units=_list_arg("unit"), by=by, now=now)
        filters = {"kpi": ",".join(kpi_codes or ["*"]), "grain": grain,
                   "period": f"{start}..{end}" if start else _period_filter(grain, period, now),
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
            raise BadRequest(f"export format must be one of {list(EXPORT_FORMATS)}, got '{clip(fmt)}'")
        lang = _lang()
        df, filters = values_frame()
        df = rounded(df)
        con = cursor_or_503()
        names = health.units_frame(con).set_index("unit_code")[localised_column("name", lang)]
        df.insert(2, "unit_name", [names.get(u, "") for u in df["unit_code"]])
        stamp = local_now().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            data = csv_bytes(df)
        elif fmt == "parquet":
            data = parquet_bytes(df)
        else:
            kpis = metrics.list_kpis(lang=lang)
            defs = kpis[kpis["kpi"].isin(set(df["kpi"]))][["kpi", "name", "description", "unit", "legal_basis"]]
            title = t("export_title", lang)
            data = xlsx_bytes({"KPI": df}, filters, defs, local_now(), title, demo=health.is_demo(con), lang=lang)
        resp = Response(data, mimetype=EXPORT_FORMATS[fmt])
        resp.headers["Content-Disposition"] = f'attachment; filename="r57-kpi-{stamp}.{fmt}"'
        access_web.audit("export", target=f"values.{fmt}", detail=filters)
        return resp

    @bp.get("/units")
    @cached
    def units():
        return _answer(_paginate(records(health.units_frame(cursor_or_503()))))

    @bp.get("/overdue")
    @cached
    def overdue():
        denied = access_web.require(roles.DOSSIER_LISTS)
        if denied is not None:
            return denied
        _check_units(_list_arg("unit"))
        con = cursor_or_503()
        df = metrics.overdue_list(con, units=_list_arg("unit"))  # narrowed to the viewer's scope (metrics.scope)
        access_web.audit("overdue_view", target="/api/v1/overdue", detail={"unit": _list_arg("unit") or ["*"]})
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
            "snapshot": snapshot_read().snapshot,
            "freshness": records(health.freshness(con, now)),
            # runs name the files other systems sent: for viewers of every unit only
            "runs": (records(health.ingest_runs(con, limit=_int_arg("runs", 20, 1, 500)))
                     if access_web.viewer_or_nobody().scope is None else []),
        })

    @bp.post("/dossiers")
    def push():
        return push_dossiers(settings, writer)

    @bp.errorhandler(_OutOfScope)
    def out_of_scope(exc):
        return error(403, str(exc))

    @bp.errorhandler(_NoData)
    def no_data(_):
        return error(503, "no data published yet: the warehouse has no snapshot (first ingest still running?)")

    return bp


class _NoData(Exception):
    pass


def _period_filter(grain: str, period: str | None, now: datetime) -> str:
    """The period an export covers, as its cover names it: the default and 'current' resolved and labelled."""
    if period and period.strip().lower() != CURRENT:
        return period
    p = resolve(grain, period, now)
    label = p[0].label if p else "-"
    if period:
        return f"{label} (current, partial to {now:%Y-%m-%d %H:%M})"
    return f"{label} (last complete {grain})"


class _OutOfScope(Exception):
    pass


def _scope_key() -> str:
    scope = access_web.viewer_or_nobody().scope
    return "*" if scope is None else ",".join(sorted(scope))


def _check_units(units: list[str] | None) -> None:
    """403 for a unit outside the viewer's scope (the city's aggregate, '01', is everyone's)."""
    v = access_web.viewer_or_nobody()
    outside = [u for u in units or [] if not v.sees(u)]
    if outside:
        access_web.audit("denied", outcome="denied", target=request.path, detail={"unit": outside[:10]})
        raise _OutOfScope(f"unit {', '.join(clip(u) for u in outside[:10])} is outside your scope")


def _lang() -> str:
    lang = request.args.get("lang", "vi")
    if lang not in ("vi", "en"):
        raise BadRequest(f"'lang' must be 'vi' or 'en', got '{clip(lang)}'")
    return lang


def register(server, settings, reader: SnapshotSource | Callable[[], SnapshotRead | None], writer=None) -> None:
    """Mount /api/v1 on a Flask server.

    `reader`: a warehouse.db.Reader, or anything with `read() -> SnapshotRead | None` (or such a
    function). The server's MAX_CONTENT_LENGTH is lowered to the push limit: it also bounds a chunked
    body that has no Content-Length, which the push's own check cannot see.
    """
    limit = server.config.get("MAX_CONTENT_LENGTH")
    if limit is None or limit > MAX_BYTES:
        server.config["MAX_CONTENT_LENGTH"] = MAX_BYTES
    server.register_blueprint(create_blueprint(reader, settings, writer))
