"""The OpenAPI 3.1 document of /api/v1, generated from the route table and the pydantic models of
api/models.py; served at /api/v1/openapi.json.

Nothing in the document is written by hand but the words: every parameter comes from a route's query
(or path) model, every answer's schema from its response model (`model_json_schema` with
`#/components/schemas/{model}` references). The handlers parse with the same query models and build
their answers with the same response models, and tests/test_api_spec.py checks that every Flask rule
under /api/v1 is in the table and every route of the table is a Flask rule, so routes and document
cannot drift apart.

Adding routes from another module (e.g. api/plan.py) — one place, next to its blueprint:

    from api.models import Closed, Query          # base classes: closed answers, lenient query strings
    from api.openapi import Answer, Route, register

    class PlanQuery(Query): ...                   # its parameters, with their bounds
    class PlanPage(Closed): ...                   # its answer
    register(
        Route("get", "/api/v1/plans", "Plans and their progress", query=PlanQuery,
              responses={200: PlanPage}),
        Route("get", "/api/v1/plans/{plan_id}", "One plan", path_params=PlanPath,
              responses={200: Plan, 404: Error}),
    )

and in the handlers `api.models.parse_query(PlanQuery, request.args)` (raises api.models.BadRequest: answer
it with a 400 and the Error body) and `api.routes.answer(PlanPage, payload)`. `register` runs when the module
is imported. The served document lists the registered routes the server has a Flask rule for (`served`), so
a module that is registered but not mounted is not advertised; tests/test_api_spec.py checks the other way
(every rule has a route). Paths are written the OpenAPI way (`{plan_id}` for Flask's `<plan_id>`). A cached
GET (the default) gets the 304/400/503 answers and the ETag/Last-Modified headers added; `cached=False` for
one that is not (a POST); every route but a `public` one may answer 401 when sign-in is on.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import models as m

API_VERSION = "1.1.0"
JSON = "application/json"
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Answer:
    """One response of a route: its description, and its body (a model, or media types with no model)."""

    description: str = "OK"
    model: type[BaseModel] | None = None
    media: tuple[str, ...] = (JSON,)
    files: tuple[str, ...] = ()  # further media types whose body is a file (binary), beside the model's


@dataclass(frozen=True)
class Route:
    """One operation: `method` (lower case), `path` (OpenAPI form), the models of its parameters and answers.

    responses: status -> a response model (JSON, described "OK" for 2xx) or an Answer."""

    method: str
    path: str
    summary: str
    responses: Mapping[int, type[BaseModel] | Answer]
    query: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None
    description: str = ""
    body: Mapping[str, Mapping[str, Any]] | None = None  # request body: media type -> JSON schema
    cached: bool = True
    security: bool = False
    public: bool = False  # answered without a sign-in (else a 401 when sign-in is on)

    def answers(self) -> dict[int, Answer]:
        out = {}
        if self.cached:
            out = {304: Answer("Not modified since the ETag / Last-Modified sent", media=()),
                   400: Answer("Bad parameters: what was wrong, and the parameters as received", m.Error),
                   503: Answer("No data published yet", m.Error)}
        if not self.public:
            out[401] = Answer("Sign-in is on and the request has no session or API token", m.Error)
        for status, a in self.responses.items():
            out[status] = a if isinstance(a, Answer) else Answer("OK" if status < 300 else "Error", a)
        return dict(sorted(out.items()))


_ROUTES: dict[tuple[str, str], Route] = {}


def register(*routes: Route) -> None:
    """Add routes to the document (at import of the module that serves them). The same route twice is fine;
    two different routes with one method and path are a mistake and raise."""
    for r in routes:
        key = (r.method.lower(), r.path)
        if key in _ROUTES and _ROUTES[key] != r:
            raise ValueError(f"{r.method.upper()} {r.path} is registered twice, differently")
        _ROUTES[key] = r


def registered() -> tuple[Route, ...]:
    return tuple(_ROUTES.values())


def route(method: str, path: str) -> Route:
    return _ROUTES[(method.lower(), path)]


def _plain(schema: dict) -> dict:
    """A field's schema as a parameter's: no title, and no null branch (an absent parameter is the null)."""
    s = {k: v for k, v in schema.items() if k not in ("title", "description")}
    branches = s.pop("anyOf", None)
    if branches:
        real = [b for b in branches if b.get("type") != "null"]
        s = {**(real[0] if len(real) == 1 else {"anyOf": real}), **s}
        if s.get("default", 0) is None:
            del s["default"]
    return s


def parameters(model: type[BaseModel] | None, where: str) -> list[dict]:
    """The OpenAPI parameters of a query or path model: one per field, by its wire name (alias)."""
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        p = {"name": name, "in": where, "required": where == "path" or name in required, "schema": _plain(prop)}
        if prop.get("description"):
            p["description"] = prop["description"]
        if p["schema"].get("type") == "array":  # kpi=a,b (repeating the parameter works too)
            p.update(style="form", explode=False)
        out.append(p)
    return out


def _headers() -> dict:
    return {"ETag": {"schema": {"type": "string"}}, "Last-Modified": {"schema": {"type": "string"}}}


def served(url_map, prefix: str = "/api/v1/") -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every Flask rule under `prefix` (HEAD and OPTIONS are Flask's own)."""
    return {(method.lower(), re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
            for rule in url_map.iter_rules() if rule.rule.startswith(prefix)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def spec(server_url: str = "", only: Iterable[tuple[str, str]] | None = None) -> dict:
    """The document for the routes registered so far; `only`: those of these (method, path) pairs (`served`)."""
    keep = None if only is None else set(only)
    routes = tuple(r for r in registered() if keep is None or (r.method.lower(), r.path) in keep)
    bodies = sorted({a.model for r in routes for a in r.answers().values() if a.model is not None},
                    key=lambda c: c.__name__)
    refs, defs = models_json_schema([(b, "serialization") for b in bodies], ref_template=REF)
    paths: dict[str, dict] = {}
    for r in routes:
        responses = {}
        for status, a in r.answers().items():
            resp: dict[str, Any] = {"description": a.description}
            if a.media:
                schema = refs[(a.model, "serialization")] if a.model else {"type": "string",
                                                                              "format": "binary"}
                resp["content"] = {media: {"schema": copy.deepcopy(schema)} for media in a.media}
            for media in a.files:
                resp.setdefault("content", {})[media] = {"schema": {"type": "string", "format": "binary"}}
            if r.cached and 200 <= status < 300:
                resp["headers"] = _headers()
            responses[str(status)] = resp
        op: dict[str, Any] = {"summary": r.summary, "operationId": _operation_id(r)}
        if r.description:
            op["description"] = r.description
        params = parameters(r.path_params, "path") + parameters(r.query, "query")
        if params:
            op["parameters"] = params
        if r.body:
            op["requestBody"] = {"required": True, "content": {k: {"schema": dict(v)} for k, v in r.body.items()}}
        if r.security:
            op["security"] = [{"bearer": []}]
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hanoi Resolution 57 KPI API", "version": API_VERSION,
                 "description": "KPIs of Resolution 57 and Decision 766 for Hanoi and its 126 wards/communes. "
                                "Percentages are 0..100; N/A is null. Polls are cheap: send If-None-Match."},
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _operation_id(r: Route) -> str:
    words = r.path.removeprefix("/api/v1/").replace("{", "").replace("}", "").replace(".", "_").split("/")
    return r.method.lower() + "_" + "_".join(w for w in words if w)


def _core_routes() -> tuple[Route, ...]:
    """The read API and the push of api/routes.py and api/push.py."""
    from .push import MAX_BYTES

    forbidden = Answer("A unit outside the viewer's scope", m.Error)
    no_province = Answer("A province the warehouse does not hold (`province=`)", m.Error)
    return (
        Route("get", "/api/v1/openapi.json", "This document", query=m.EmptyQuery,
              responses={200: m.OpenApiDocument}, cached=False, public=True),
        Route("get", "/api/v1/kpis", "Every KPI with its definition and target", query=m.LangQuery,
              responses={200: m.KpiList}),
        Route("get", "/api/v1/kpis/{code}", "One KPI, with the SQL that defines it", query=m.LangQuery,
              path_params=m.KpiPath, responses={200: m.KpiDetail, 404: Answer("Unknown KPI: the known codes",
                                                                              m.Error)}),
        Route("get", "/api/v1/values", "KPI values by period, grain and unit, with targets and status",
              description="Without period/from/to: the last complete period of the grain. Every row carries "
                          "partial, as_of, n, few_data and status_reason; the exports /api/v1/values.csv, "
                          ".xlsx and .parquet carry the same columns.",
              query=m.ValuesQuery, responses={
                  200: Answer("The page: JSON, or with format=arrow|parquet the page's rows as an Arrow IPC "
                              "stream or a Parquet file (the page numbers in the schema metadata, r57.page)",
                              m.ValuesPage, files=("application/vnd.apache.arrow.stream",
                                                   "application/vnd.apache.parquet")),
                  403: forbidden, 404: no_province}),
        Route("get", "/api/v1/values.{fmt}", "The values of /api/v1/values as a file (every row, no pages)",
              description="Columns as /api/v1/values, plus unit_name; values rounded as on screen. The Excel "
                          "file has a cover sheet with the filters and the KPI definitions.",
              query=m.ExportQuery, path_params=m.ExportPath,
              responses={200: Answer("The file", media=("text/csv", "application/vnd.openxmlformats-"
                                                        "officedocument.spreadsheetml.sheet",
                                                        "application/vnd.apache.parquet")),
                         403: forbidden, 404: no_province}),
        Route("get", "/api/v1/units", "The city and its 126 wards/communes", query=m.Paged,
              responses={200: m.UnitsPage}),
        Route("get", "/api/v1/overdue", "Open dossiers past their due date, most overdue first (ids only)",
              query=m.OverdueQuery, responses={200: m.OverduePage, 403: forbidden, 404: no_province}),
        Route("get", "/api/v1/status", "Ingest runs and data freshness", query=m.StatusQuery,
              responses={200: m.Status}),
        Route("post", "/api/v1/dossiers", "Push dossier records into the ingest pipeline (needs the API token)",
              query=m.PushQuery, cached=False, security=True,
              body={"application/json": {"type": "array", "items": {"type": "object"}},
                    "application/x-ndjson": {"type": "string"}, "text/csv": {"type": "string"}},
              responses={200: Answer("Loaded: counts and quarantine reasons", m.LoadReport),
                         202: Answer("Queued for the ingest process", m.Queued),
                         400: Answer("An empty or unreadable body", m.Error),
                         401: Answer("No bearer token, or an unknown one", m.Error), 403: Answer("A token that may not push", m.Error),
                         413: Answer(f"Body over {MAX_BYTES // (1024 * 1024)} MB", m.Error),
                         415: Answer("A Content-Type other than JSON, JSON Lines or CSV", m.Error),
                         422: Answer("The run failed: its report, with the error", m.LoadReport),
                         500: Answer("Not loaded, or loaded but not yet published: what to do, and a "
                                     "reference for the operator", m.Error)}),
    )


register(*_core_routes())
