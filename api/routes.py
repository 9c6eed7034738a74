"""Read API, versioned under /api/v1: KPIs with definitions, values with targets and status, units,
overdue dossiers, ingest status; plus the token-protected push ingest.

/values without period/from/to answers the last complete period of the grain (on 1 December, month
grain: November), judged once and for all; period=current gives the period to date, each row
`partial: true` with its `as_of`, never judged. Every row carries partial, as_of, n, few_data and
status_reason, and so do the exports. One clock per request (query_clock) serves the cost check and
the query.

Every answer is JSON (but /values with format=arrow|parquet, and the /values.{fmt} files). Query strings are read through the request models of api/models.py and answers
built through its response models (`answer`), the models api/openapi.py generates the document from.
Bad parameters get a 400 that says what was wrong, never a 500; what a bad request sent is echoed back
clipped (ECHO_CHARS per value); an answer that does not fit its model is a 500 that says so (a bug). A request may ask for at most
MAX_PERIODS[grain] periods, counted by arithmetic before anything is computed, so a range of
centuries answers 400 at once. Each answer carries an ETag and Last-Modified derived from the warehouse
snapshot it was read from: one `Reader.read()` per request, taken before the 304 check and used by
the view, so the label and the data always come from the same snapshot even while a new one is
published. A poller that sends If-None-Match / If-Modified-Since gets a cheap 304 until then.

/values is the hot answer (1,651 rows for one KPI by ward over 13 months): its rows are checked column by
column against ValueRow's field types (`value_columns`: pydantic TypeAdapters over whole columns, no object
per row; a column the model does not declare, or a required one missing, is the same 500 as elsewhere) and
written by orjson, or as Arrow IPC / Parquet (format=arrow|parquet) with the page in the schema metadata.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache, partial, wraps
from typing import Annotated, Literal, Protocol, Union, get_args, get_origin

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from flask import Blueprint, Response, current_app, g, json, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

import config
import metrics
from access import roles
from access import web as access_web
from metrics.engine import local_now
from metrics.periods import CURRENT, parse_label, resolve
from metrics.registry import RegistryError
from presentation.words import localised_column, t
from warehouse import health
from warehouse.db import SnapshotRead

from . import models as m
from .answers import Answers
from .models import ECHO_CHARS, MAX_PERIODS, MESSAGE_CHARS, BadRequest, clip, parse_query  # noqa: F401 (ECHO_CHARS)
from .openapi import served, spec
from .push import MAX_BYTES, push_dossiers, too_large

log = logging.getLogger(__name__)

ECHO_KEYS = 30         # at most this many parameters are echoed in an error


def query_clock() -> datetime:
    """The clock of a values request: Hanoi wall-clock time, or R57_NOW when set (config.frozen_now),
    as the dashboard's, so a frozen demo or test of the 1st shows the same periods in the API."""
    return config.frozen_now() or local_now()


class SnapshotSource(Protocol):
    def read(self) -> SnapshotRead | None: ...


class AnswerMismatch(RuntimeError):
    """An answer that does not fit its response model: a bug in the handler (or the model), never the caller's."""


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


def answer(model: type[BaseModel], payload: dict, status: int = 200) -> Response:
    """`payload` through its response model (validated, dates and numbers as the document says) as JSON.
    Fields the payload does not set stay out (a `by` column not asked for)."""
    try:
        body = model.model_validate(payload).model_dump_json(exclude_unset=True)  # UTF-8, compact, NaN -> null
    except ValidationError as exc:
        raise AnswerMismatch(f"{request.path}: the answer does not fit {model.__name__}: "
                             f"{exc.errors(include_url=False, include_input=False)[:3]}") from None
    return Response(body, status=status, mimetype="application/json")


# --- /values: checked by column, written by orjson or Arrow ---------------------------------------------

VALUE_MEDIA = {"json": "application/json", "arrow": "application/vnd.apache.arrow.stream",
               "parquet": "application/vnd.apache.parquet"}


@cache
def _column_adapters() -> dict[str, TypeAdapter]:
    """One validator per ValueRow field, for a whole column: list[<the field's type and constraints>]."""
    return {name: TypeAdapter(list[Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation])
            for name, f in m.ValueRow.model_fields.items()}


def value_columns(df: pd.DataFrame) -> dict[str, list]:
    """The frame's columns as ValueRow would have them (model field order; numbers, dates, times, codes as
    their fields say), each validated once as a list. AnswerMismatch when a column is not a ValueRow field,
    a required field has no column, or a value does not fit its field's type."""
    fields = m.ValueRow.model_fields
    extra = [c for c in df.columns if c not in fields]
    missing = [n for n, f in fields.items() if f.is_required() and n not in df.columns]
    if extra or missing:
        raise AnswerMismatch(f"{request.path}: the answer does not fit ValueRow: undeclared columns "
                             f"{[clip(c) for c in extra][:5]}, missing {missing[:5]}")
    adapters, out = _column_adapters(), {}
    for name in (n for n in fields if n in df.columns):
        col = df[name]
        try:  # NaN in a float column stays (orjson and the model's dump both write null)
            out[name] = adapters[name].validate_python(col.tolist())
            continue
        except (ValidationError, TypeError):  # TypeError: pydantic-core on a float NaN in a date column
            pass
        try:  # NaN, NaT or pd.NA in a column of whole numbers, dates or codes: None, then once more
            out[name] = adapters[name].validate_python(col.astype(object).where(col.notna(), None).tolist())
        except (ValidationError, TypeError) as exc:
            raise AnswerMismatch(f"{request.path}: column {name} does not fit ValueRow: "
                                 f"{_errors(exc)}") from None
    return out


def _errors(exc: Exception) -> object:
    return exc.errors(include_url=False, include_input=False)[:3] if isinstance(exc, ValidationError) else exc


def _pandas_time(value):
    """orjson's fallback for what a pandas frame may hold in a time column (the model takes them as datetimes)."""
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _is_time(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_date(t)


def _arrow_type(annotation) -> pa.DataType:
    """The Arrow type of a ValueRow field: float64, int64, bool, date32, timestamp[us] or string."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, type(int | None)):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
        return _arrow_type(annotation)
    if get_origin(annotation) is Literal:
        return pa.string()
    return {float: pa.float64(), int: pa.int64(), bool: pa.bool_(), date: pa.date32(),
            datetime: pa.timestamp("us")}.get(annotation, pa.string())


def values_answer(df: pd.DataFrame, q: m.ValuesQuery) -> Response:
    """A page of value rows: JSON (ValuesPage) by orjson, or an Arrow IPC stream / Parquet file of the page's
    rows with `page`, `page_size`, `total`, `pages` in the schema metadata (key `r57.page`, JSON)."""
    start, total = (q.page - 1) * q.page_size, len(df)
    page = {"page": q.page, "page_size": q.page_size, "total": total,
            "pages": max(1, math.ceil(total / q.page_size))}
    cols = value_columns(df.iloc[start:start + q.page_size])
    if q.format == "json":
        names = list(cols)
        items = [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]
        return Response(orjson.dumps({**page, "items": items}, default=_pandas_time), mimetype=VALUE_MEDIA["json"])
    fields = m.ValueRow.model_fields
    schema = pa.schema([pa.field(n, _arrow_type(fields[n].annotation), nullable=not fields[n].is_required()
                                 or type(None) in get_args(fields[n].annotation)) for n in cols],
                       metadata={"r57.page": orjson.dumps(page)})
    try:  # a value Arrow cannot take is the server's bug (as a misfit column), never the caller's 400
        arrays = {n: pa.array([None if x is pd.NaT else x for x in v] if _is_time(schema.field(n).type) else v,
                              type=schema.field(n).type) for n, v in cols.items()}
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise AnswerMismatch(f"{request.path}: a column does not convert to Arrow: {exc}") from None
    for n, a in arrays.items():  # NaN and ±inf are null, as in JSON: N/A is never a number
        if a.type == pa.float64():
            arrays[n] = pc.if_else(pc.is_finite(a), a, pa.scalar(None, pa.float64()))
    table = pa.table(arrays, schema=schema)
    sink = io.BytesIO()
    if q.format == "arrow":
        with pa.ipc.new_stream(sink, table.schema) as out:
            out.write_table(table)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
    return Response(sink.getvalue(), mimetype=VALUE_MEDIA[q.format])


def error(status: int, message: str, **detail) -> Response:
    return answer(m.Error, {"error": clip(message, MESSAGE_CHARS), **detail}, status)


def _paginate(rows: list[dict], q: m.Paged) -> dict:
    start = (q.page - 1) * q.page_size
    return {"page": q.page, "page_size": q.page_size, "total": len(rows),
            "pages": max(1, math.ceil(len(rows) / q.page_size)), "items": rows[start:start + q.page_size]}


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
    mb = getattr(settings, "api_cache_mb", None)
    answers = bp.r57_answers = Answers((config.load_settings().api_cache_mb if mb is None else mb) * 2**20)

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

    def cached(view, keep: bool = False):
        """ETag/Last-Modified from this request's snapshot and its full URL; 304 when unchanged. keep: the
        finished answer's bytes are kept under its ETag (api/answers.py) when the view says it may be."""
        @wraps(view)
        def wrapper(*args, **kwargs):
            read = snapshot_read()
            snap, modified = (read.snapshot, read.published) if read is not None else ("none", None)
            etag = hashlib.sha1(f"{snap}|{request.full_path}|{_scope_key()}".encode()).hexdigest()[:20]
            if not_modified(etag, modified):
                return Response(status=304, headers={"ETag": f'"{etag}"'})
            day = query_clock().date()
            hit = answers.get(etag, day) if keep and read is not None else None
            try:
                if hit is not None:
                    resp = Response(hit.body, status=hit.status, headers=list(hit.headers))
                else:
                    resp = view(*args, **kwargs)
                    if keep and read is not None and resp.status_code == 200 and g.get("r57_keep"):
                        answers.put(etag, day, resp.get_data(), resp.status_code, resp.headers)
            except BadRequest as exc:
                return error(400, str(exc), parameters=_echo(), **exc.detail)
            except OverflowError as exc:  # a date past year 9999 or before year 1 in a computation
                return error(400, f"a date in the request is out of range: {exc}", parameters=_echo())
            except RegistryError:  # the server's KPI definitions, not the request: never a 400
                log.exception("the KPI definitions cannot be read")
                return error(500, "the KPI definitions on the server cannot be read (an operator's fix); the "
                                  "server log has the details")
            except (metrics.QueryError, ValueError, KeyError) as exc:
                message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                return error(400, message, parameters=_echo())
            resp.headers["ETag"] = f'"{etag}"'
            resp.headers["Cache-Control"] = "no-cache"
            if keep:
                resp.headers["X-Cache"] = "HIT" if hit is not None else "MISS"
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
        return _answer(spec(request.host_url.rstrip("/"), only=served(current_app.url_map)))

    def _display(item: dict) -> dict:
        """A KPI item with its display metadata (kpis.yaml): decimals, kind, and the surfaces it is on."""
        k = metrics.get_registry().kpi(item["kpi"])
        return {**item, "decimals": k.decimals, "display_kind": k.display.kind, "show": list(k.display.show)}

    @bp.get("/kpis")
    @cached
    def kpis():
        q = parse_query(m.LangQuery, request.args)
        df = metrics.list_kpis(lang=q.lang)
        items = [_display(i) for i in records(df[~df["auxiliary"].astype(bool)] if "auxiliary" in df else df)]
        return answer(m.KpiList, {"kpis": items, "count": len(items)})

    @bp.get("/kpis/<code>")
    @cached
    def kpi(code: str):
        q = parse_query(m.LangQuery, request.args)
        df = metrics.list_kpis(lang=q.lang)
        row = df[df["kpi"] == code]
        if row.empty:
            return error(404, f"unknown KPI '{clip(code)}'", known=sorted(df["kpi"]))
        item = _display(records(row)[0])
        item["sql"] = metrics.explain(code)
        return answer(m.KpiDetail, item)

    def values_frame(q: m.ValuesQuery) -> tuple[pd.DataFrame, dict[str, str]]:
        """metrics.query with the request's filters, as the dashboard asks it; and the filters used."""
        start, end, by = q.from_, q.to, q.by or []
        periods = (start, end) if start else q.period
        now = query_clock()  # one clock per request: the cost check and the query agree on "today"
        check_cost(q.grain, q.period, start, end, now.date())
        con = cursor_or_503()
        if q.kpi:
            known = set(metrics.list_kpis()["kpi"])
            unknown = [clip(k) for k in q.kpi if k not in known]
            if unknown:
                raise BadRequest(f"unknown KPI {unknown}; see /api/v1/kpis")
        _check_units(q.unit)
        within = _province_units(con, q.province, q.unit)
        df = metrics.query(con, q.kpi, grain=q.grain, periods=periods, units=q.unit, by=by, now=now, scope=within)
        # an answer of complete periods only is the same for everyone with this scope until the snapshot changes
        g.r57_keep = not bool(df["partial"].astype(bool).any()) if len(df) else True
        if q.province and not q.unit and "unit_code" not in by and len(df):  # the province's own total
            df["unit_code"] = q.province
        filters = {"kpi": ",".join(q.kpi or ["*"]), "grain": q.grain,
                   "period": f"{start}..{end}" if start else _period_filter(q.grain, q.period, now),
                   "unit": ",".join(q.unit or [q.province or "01"]), "by": ",".join(by)}
        if q.province:
            filters["province"] = q.province
        return df, filters

    @bp.get("/values")
    @partial(cached, keep=True)
    def values():
        q = parse_query(m.ValuesQuery, request.args)
        return values_answer(values_frame(q)[0], q)

    @bp.get("/values.<fmt>")
    @cached  # not kept: every export is audited
    def values_file(fmt: str):
        from exports import EXPORT_FORMATS, csv_bytes, parquet_bytes, rounded, xlsx_bytes
        from ingest.runner import local_now

        fmt = parse_query(m.ExportPath, {}, fmt=fmt).fmt
        q = parse_query(m.ExportQuery, request.args)
        lang = q.lang
        df, filters = values_frame(q)
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
        q = parse_query(m.Paged, request.args)
        return answer(m.UnitsPage, _paginate(records(health.units_frame(cursor_or_503())), q))

    @bp.get("/overdue")
    @cached
    def overdue():
        denied = access_web.require(roles.DOSSIER_LISTS)
        if denied is not None:
            return denied
        q = parse_query(m.OverdueQuery, request.args)
        _check_units(q.unit)
        con = cursor_or_503()
        within = _province_units(con, q.province, q.unit)
        df = metrics.overdue_list(con, units=q.unit, scope=within)  # and to the viewer's scope (metrics.scope)
        access_web.audit("overdue_view", target="/api/v1/overdue", detail={"unit": q.unit or ["*"]})
        return answer(m.OverduePage, _paginate(records(df), q))

    @bp.get("/status")
    @cached
    def status():
        from ingest.runner import local_now

        q = parse_query(m.StatusQuery, request.args)
        con = cursor_or_503()
        now = local_now()
        return answer(m.Status, {
            "demo": health.is_demo(con),
            "now": now.isoformat(),
            "snapshot": snapshot_read().snapshot,
            "freshness": records(health.freshness(con, now)),
            # runs name the files other systems sent: for viewers of every unit only
            "runs": (records(health.ingest_runs(con, limit=q.runs))
                     if access_web.viewer_or_nobody().scope is None else []),
        })

    @bp.post("/dossiers")
    def push():
        return push_dossiers(settings, writer)

    @bp.errorhandler(_OutOfScope)
    def out_of_scope(exc):
        return error(403, str(exc))

    @bp.errorhandler(_UnknownProvince)
    def unknown_province(exc):
        return error(404, str(exc))

    @bp.errorhandler(AnswerMismatch)
    def answer_mismatch(exc):
        log.error("%s", exc)
        return _answer({"error": "the server built an answer that does not match its documented schema (a bug); "
                                 "the server log has the details"}, 500)

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


class _UnknownProvince(Exception):
    pass


def _scope_key() -> str:
    scope = access_web.viewer_or_nobody().scope
    return "*" if scope is None else ",".join(sorted(scope))


def _province_units(con, province: str | None, units: list[str] | None) -> tuple[str, ...] | None:
    """The units of `province` (a scope for metrics), None without one; 404 for a province the warehouse
    does not hold, 400 for a `unit` outside it."""
    if province is None:
        return None
    has_column = "province_code" in {r[0] for r in con.execute("DESCRIBE units").fetchall()}
    if has_column:
        sql, args = "SELECT unit_code FROM units WHERE province_code = ? ORDER BY 1", [province]
    else:  # a snapshot from before units carried provinces (schema 6): every unit is Hanoi's
        sql, args = "SELECT unit_code FROM units WHERE ? = '01' ORDER BY 1", [province]
    codes = tuple(r[0] for r in con.execute(sql, args).fetchall())
    if not codes:
        raise _UnknownProvince(f"no province '{province}' in this warehouse; see /api/v1/units")
    outside = [u for u in units or [] if u not in codes]
    if outside:
        raise BadRequest(f"unit {', '.join(clip(u) for u in outside[:10])} is not in province {province}")
    return codes


def _check_units(units: list[str] | None) -> None:
    """403 for a unit outside the viewer's scope (the city's aggregate, '01', is everyone's)."""
    v = access_web.viewer_or_nobody()
    outside = [u for u in units or [] if not v.sees(u)]
    if outside:
        access_web.audit("denied", outcome="denied", target=request.path, detail={"unit": outside[:10]})
        raise _OutOfScope(f"unit {', '.join(clip(u) for u in outside[:10])} is outside your scope")


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
