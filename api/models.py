"""What each /api/v1 route takes and answers, as pydantic v2 models: the one description of the API.

Request models (`*Query`, `*Path`) hold a route's parameters with their bounds (enums, lengths, code
patterns, page limits); `parse_query` reads a query string into one, or raises `BadRequest` with a
message that names the parameter, what it must be and what was sent (clipped). An empty parameter
(`grain=`) is as if it were not sent; parameters a model does not name are ignored, as before.

Response models are closed (`extra="forbid"`) where the answer is: a field a handler adds without
declaring it here fails the handler's `answer` (a 500 that says so, logged) and the tests, instead of
going out undocumented. `api/openapi.py` generates the OpenAPI document from these classes.

Fixed value lists come from the layers that own them (metrics.periods.Grain, metrics.status.Status,
metrics.registry.SURFACES / DisplayKind / KpiType), so a new status or grain reaches the document by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from metrics.periods import Grain as _Grain
from metrics.registry import DOSSIER_DIMENSIONS, SURFACES, DisplayKind, KpiType
from metrics.status import Status as _Status

MAX_PAGE_SIZE = 5000
MAX_PAGE = 10**6
# The most periods one request may ask for, per grain: the cost of a values query grows with them.
MAX_PERIODS = {"day": 400, "week": 120, "month": 120, "quarter": 40, "year": 20}
ECHO_CHARS = 200       # a parameter echoed back in an error is clipped to this
MESSAGE_CHARS = 500    # an error message is clipped to this (it may quote what was sent)
MAX_CODES = 200        # codes in one list parameter (126 wards + the city fit)

GRAINS: tuple[str, ...] = tuple(g.value for g in _Grain)
DIMENSIONS: tuple[str, ...] = DOSSIER_DIMENSIONS
STATUSES: tuple[str, ...] = tuple(s.value for s in _Status)
EXPORTS: tuple[str, ...] = ("csv", "xlsx", "parquet")  # exports.EXPORT_FORMATS (a test keeps them equal)
CODE_PATTERN = r"^[A-Za-z0-9_.\-]+$"

GrainName = Literal[GRAINS]  # type: ignore[valid-type]
Dimension = Literal[DIMENSIONS]  # type: ignore[valid-type]
StatusName = Literal[STATUSES]  # type: ignore[valid-type]
SurfaceName = Literal[SURFACES]  # type: ignore[valid-type]
KpiTypeName = Literal[tuple(t.value for t in KpiType)]  # type: ignore[valid-type]
Lang = Literal["vi", "en"]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=64)]
Province = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]  # a GSO province code: 01 Hanoi, 79 HCMC
# Times are Hanoi wall-clock time as the warehouse stores them, written without an offset: not RFC 3339
# "date-time" (which needs one), so the document says what they are instead.
LocalTime = Annotated[datetime, WithJsonSchema({
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$",
    "description": "Hanoi time (Asia/Ho_Chi_Minh), ISO 8601 without an offset"})]


class BadRequest(ValueError):
    """A 400: `message` says what was wrong; `detail` goes into the answer beside it."""

    def __init__(self, message: str, **detail) -> None:
        super().__init__(message)
        self.detail = detail


def clip(value: object, limit: int = ECHO_CHARS) -> str:
    """`value` as text of at most `limit` characters ('…' marks a cut)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- request models -------------------------------------------------------------------------------------

def _split(value: object) -> object:
    """'a,b' or ['a', 'b,c'] (repeated parameters) -> ['a', 'b', 'c']; nothing left -> None."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return [v.strip() for chunk in value for v in str(chunk).split(",") if v.strip()] or None
    return value


def _iso_date(value: object) -> object:
    """A date as YYYY-MM-DD only (no timestamps, no 'yesterday'), as date.fromisoformat reads it."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD") from None
    return value


T = TypeVar("T")
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def comma_list(item: Any, max_items: int) -> Any:
    """A list parameter, sent comma-separated (`kpi=a,b`) or repeated (`kpi=a&kpi=b`)."""
    return Annotated[list[item], Field(min_length=1, max_length=max_items), BeforeValidator(_split)]


class Query(BaseModel):
    """A query string: unknown parameters are ignored; `from` and other aliases are the wire names."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Paged(Query):
    page: Annotated[int, Ge(1), Le(MAX_PAGE)] = Field(1, description="1-based page number")
    page_size: Annotated[int, Ge(1), Le(MAX_PAGE_SIZE)] = Field(500, description="items per page")


class LangQuery(Query):
    lang: Lang = Field("vi", description="language of names, descriptions and units")


class KpiPath(BaseModel):
    code: str = Field(description="a KPI code, e.g. on_time_rate (404 with the known codes if unknown)")


class ValuesFilter(Query):
    """What a values request selects: /values pages it, /values.{fmt} exports every row."""

    kpi: comma_list(Code, 100) | None = Field(None, description="comma-separated KPI codes (default: all)")
    grain: GrainName = Field("month", description=(
        "at most this many periods per request (else 400): "
        + ", ".join(f"{g} {n}" for g, n in MAX_PERIODS.items())))
    period: Annotated[str, StringConstraints(max_length=40)] | None = Field(None, description=(
        "e.g. 2026-Q3, 2026-10, 2026, 2026-W10, 2026-10-05, a range 2024-07-01..2025-06-30, or 'current' "
        "(the period containing now, to date: rows partial=true with their as_of, never judged). Default: "
        "the last complete period of the grain (on 1 December, month grain: November), whose figures do "
        "not change without a data change"))
    from_: IsoDate | None = Field(None, alias="from", description="first day, inclusive (with 'to')")
    to: IsoDate | None = Field(None, description="last day, inclusive (with 'from')")
    unit: comma_list(Code, MAX_CODES) | None = Field(
        None, description="unit codes, e.g. 00073 (default: the city, 01)")
    province: Province | None = Field(None, description=(
        "a province code (national warehouses: `demo --provinces`): the rows cover that province's units "
        "(unit_code is the province's code), and `unit` must lie in it; unknown provinces are 404"))
    by: comma_list(Dimension, len(DIMENSIONS)) | None = Field(None, description="break the rows down by these")
    lang: Lang = Field("vi", description="language of the unit names and cover sheet of an export (the JSON "
                                         "rows hold codes)")

    @model_validator(mode="after")
    def _range(self) -> ValuesFilter:
        if (self.from_ is None) != (self.to is None):
            raise PydanticCustomError("from_to", "'from' and 'to' go together (dates YYYY-MM-DD, inclusive)")
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise PydanticCustomError("from_after_to", "'from' is after 'to'")
        return self


class ValuesQuery(Paged, ValuesFilter):
    """/values: the selection, a page at a time."""

    format: Literal["json", "arrow", "parquet"] = Field("json", description=(
        "json (a ValuesPage); arrow (an Arrow IPC stream, application/vnd.apache.arrow.stream) or parquet "
        "(application/vnd.apache.parquet): the page's rows with the ValueRow columns typed (dates date32, "
        "times timestamp[us] in Hanoi time), page/page_size/total/pages as JSON in the schema metadata key "
        "r57.page"))


class ExportQuery(ValuesFilter):
    """/values.{fmt}: the parameters of /values but the pages: every row is exported."""


class ExportPath(BaseModel):
    fmt: Literal[EXPORTS] = Field(description="csv (UTF-8 with BOM), xlsx (with a cover sheet) or parquet")  # type: ignore[valid-type]


class OverdueQuery(Paged):
    unit: comma_list(Code, MAX_CODES) | None = Field(None, description="unit codes (default: every unit in scope)")
    province: Province | None = Field(None, description="only that province's units (and `unit` must lie in it)")


class StatusQuery(Query):
    runs: Annotated[int, Ge(1), Le(500)] = Field(20, description="how many of the latest ingest runs")


class PushQuery(Query):
    lang: Lang = Field("en", description="language of the quarantine reasons")


class EmptyQuery(Query):
    pass


_PHRASES = {
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_type": "must be a whole number",
    "string_pattern_mismatch": "must be codes of letters, digits, '_', '.' or '-', comma-separated",
}


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(_is_list(a) for a in get_args(annotation))


def _bounds(model: type[BaseModel], name: str) -> tuple[int | None, int | None]:
    field = next((f for n, f in model.model_fields.items() if (f.alias or n) == name), None)
    meta = field.metadata if field else []
    lo = next((m.ge for m in meta if isinstance(m, Ge)), None)
    hi = next((m.le for m in meta if isinstance(m, Le)), None)
    return lo, hi


def _message(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    """One pydantic error as the API words it: "'grain' must be 'day', …, got 'fortnight'"."""
    loc, kind, ctx, got = err["loc"], err["type"], err.get("ctx") or {}, err.get("input")
    if not loc:  # a check across parameters: its message is complete
        return err["msg"]
    name = str(loc[0])
    if kind in ("greater_than_equal", "less_than_equal"):
        lo, hi = _bounds(model, name)
        return f"'{name}' must be between {lo} and {hi}, got {clip(got)}"
    if kind == "literal_error":
        return f"'{name}' must be {ctx.get('expected')}, got '{clip(got)}'"
    if kind == "string_too_long":
        return f"'{name}' must be at most {ctx.get('max_length')} characters, got '{clip(got)}'"
    if kind == "too_long":
        return f"'{name}' takes at most {ctx.get('max_length')} values, got {ctx.get('actual_length')}"
    phrase = _PHRASES.get(kind, err["msg"][:1].lower() + err["msg"][1:])
    return f"'{name}' {phrase}, got '{clip(got)}'"


QueryModel = TypeVar("QueryModel", bound=BaseModel)


def parse_query(model: type[QueryModel], args, **path) -> QueryModel:
    """`args` (a werkzeug MultiDict, or a plain dict) read into `model`; BadRequest when it does not fit.

    A list field takes every value of a repeated parameter; any other field the first. `path` adds path
    parameters (for a model that has them)."""
    data: dict[str, Any] = dict(path)
    getlist = getattr(args, "getlist", None)
    for name, field in model.model_fields.items():
        key = field.alias or name
        raw = getlist(key) if getlist else ([args[key]] if key in args else [])
        values = [v for v in raw if v != ""]
        if values:
            data[key] = values if _is_list(field.annotation) else values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise BadRequest("; ".join(dict.fromkeys(_message(model, e) for e in errors[:5]))) from None


# --- response models ------------------------------------------------------------------------------------

class Closed(BaseModel):
    """An answer with exactly these fields (a field not named here is an error, not a silent addition)."""

    model_config = ConfigDict(extra="forbid")


class CostLimit(Closed):
    grain: GrainName
    max_periods: int
    asked: int


class Error(Closed):
    """Every error answer: what was wrong, and beside it what helps to fix it."""

    error: str = Field(max_length=MESSAGE_CHARS, description="what was wrong, in words (English)")
    parameters: dict[str, str] | None = Field(
        None, description=f"the request's parameters as received, each clipped to {ECHO_CHARS} characters")
    limit: CostLimit | None = Field(None, description="a values request over its period cap: the cap")
    known: list[str] | None = Field(None, description="an unknown KPI: the known codes")
    reference: str | None = Field(None, description="push: the reference to give the operator")
    run_id: int | None = Field(None, description="push: the ingest run that loaded the records")


class Kpi(Closed):
    kpi: str
    name: str
    description: str
    type: KpiTypeName
    unit: str
    direction: Literal["higher", "lower"]
    source: Literal["dossiers", "catalogue", "indicator"]
    time: str | None
    dimensions: list[Dimension]
    grains: list[GrainName]
    legal_basis: str | None
    auxiliary: bool
    tags: list[str]
    target: float | None = Field(description="the first target's value (see /values for the unit's own)")
    target_comparison: Literal[">=", "<="] | None
    target_deadline: date | None
    decimals: int = Field(ge=0, le=4, description="decimals the KPI's values are shown and rounded with "
                                                  "(kpis.yaml display)")
    display_kind: DisplayKind = Field(description="how a value is written: percent, count, days, points or number")
    show: list[SurfaceName] = Field(description="the surfaces the KPI is on besides the KPI page and the KPI lists")


class KpiDetail(Kpi):
    sql: str = Field(description="the SQL that defines the KPI (for the last complete month)")


class KpiList(Closed):
    kpis: list[Kpi]
    count: int


class ValueRow(Closed):
    """One KPI value for one unit and period (and `by` group): the columns of /values and its exports."""

    kpi: str
    unit_code: str = Field(description="the unit; '01' for the city's total, '*' for a total of several units")
    period: str
    period_start: date
    period_end: date = Field(description="exclusive")
    as_of: LocalTime = Field(description="judgement time T = min(end of the period, now): stocks (in flight, "
                                        "overdue) are counted at T; for a partial period, the figures' date")
    procedure_code: str | None = Field(None, description="only with by=procedure_code")
    channel: str | None = Field(None, description="only with by=channel")
    sector: str | None = Field(None, description="only with by=sector")
    applicant_type: str | None = Field(None, description="only with by=applicant_type")
    value: float | None = Field(description="percentages are 0..100; N/A is null, never 0")
    numerator: float | None
    denominator: float | None
    unit: str | None
    partial: bool = Field(description="true when the period is not over (period=current): figures to as_of, "
                                      "never judged (status 'partial'); indicators are never partial")
    n: int | None = Field(description="what a rate or mean stands on (its denominator: dossiers or ratings); "
                                      "null for counts and indicators")
    few_data: bool = Field(description="n below the KPI's minimum (30 dossiers, 10 ratings): shown, not judged "
                                       "(status 'few_data'), ranked apart")
    target: float | None
    target_comparison: Literal[">=", "<="] | None
    target_deadline: date | None
    status: StatusName | None
    status_reason: str | None = Field(description="why there is no judged status: 'partial', 'few_data', "
                                                  "'no_value' or 'no_base:<period>' (the period whose value is "
                                                  "missing to measure progress)")
    method: Literal["cagr", "linear"] | None
    ratio: float | None = Field(description="R: progress made over progress needed by now")
    projected: float | None = Field(description="the value expected at the target's deadline")
    change: float | None = Field(description="value minus the previous period's value")
    previous: float | None
    base_period: str | None
    base_value: float | None
    source_period: str | None = Field(description="indicators: the period the publication covers")
    revised: bool | None
    first_published: LocalTime | None
    last_published: LocalTime | None


class Page(Closed):
    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    total: int = Field(ge=0)
    pages: int = Field(ge=1)


class ValuesPage(Page):
    items: list[ValueRow]


class Unit(Closed):
    unit_code: str
    name: str
    name_en: str
    unit_type: str


class UnitsPage(Page):
    items: list[Unit]


class OverdueDossier(Closed):
    """A late dossier by its ids and dates only: no applicant field exists to be filled."""

    dossier_id: str
    unit_code: str
    unit_name: str | None
    procedure_code: str
    procedure_name_vi: str | None
    procedure_name_en: str | None
    received_at: LocalTime
    effective_due_at: LocalTime = Field(description="the due time pushed back by the supplement waiting days")
    working_days_overdue: int
    status: str


class OverduePage(Page):
    items: list[OverdueDossier]


class Freshness(Closed):
    source: Literal["dossiers", "indicators"]
    last_load: LocalTime | None
    last_run: LocalTime | None
    last_status: str | None
    newest_record: LocalTime | None
    age_s: float | None
    stale: bool


class IngestRun(Closed):
    run_id: int
    source: str
    channel: str | None
    file_name: str | None
    profile: str | None
    started_at: LocalTime | None
    finished_at: LocalTime | None
    duration_ms: float | None
    rows_read: int | None
    inserted: int | None
    updated: int | None
    unchanged: int | None
    quarantined: int | None
    status: str | None
    error: str | None
    warnings: str | None


class Status(Closed):
    demo: bool = Field(description="true: the warehouse holds demo data, not real figures")
    now: LocalTime
    snapshot: str = Field(description="the warehouse snapshot this answer was read from")
    freshness: list[Freshness]
    runs: list[IngestRun] = Field(description="empty for a viewer whose scope is not every unit")


class QuarantinedRow(Closed):
    line: int | None
    dossier_id: str | None
    reason_code: str
    column: str | None
    value: str | None
    reason: str


class LoadReport(Closed):
    """POST /dossiers, loaded at once: the run's counts, and its quarantined rows with their reasons."""

    run_id: int
    file: str
    source: str
    status: Literal["ok", "partial", "failed", "duplicate"]
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    profile: str | None
    duration_ms: float
    error: str | None
    reasons: dict[str, int]
    warnings: list[str]
    quarantine: list[QuarantinedRow]


class Queued(Closed):
    """POST /dossiers on a read-only web process: the file waits for the ingest process."""

    queued: str
    detail: str
    status_url: str


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
