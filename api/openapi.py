"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json and tested against the app."""

from __future__ import annotations

API_VERSION = "1.0.0"

_PAGE = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}},
]
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["vi", "en"], "default": "vi"}}
_CSV_LIST = {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]+(,[A-Za-z0-9_.\-]+)*$"}

_ERROR = {"description": "Bad parameters: what was wrong", "content": {"application/json": {"schema": {
    "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
_NO_DATA = {"description": "No data published yet", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}}}}}
_NOT_MODIFIED = {"description": "Not modified since the ETag / Last-Modified sent"}


def _page_of(item: dict) -> dict:
    return {"type": "object", "required": ["page", "page_size", "total", "items"], "properties": {
        "page": {"type": "integer"}, "page_size": {"type": "integer"}, "total": {"type": "integer"},
        "pages": {"type": "integer"}, "items": {"type": "array", "items": item}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            "headers": {"ETag": {"schema": {"type": "string"}}, "Last-Modified": {"schema": {"type": "string"}}}}


STATUSES = ["achieved", "on_track", "needs_acceleration", "limited", "deteriorating", "no_data", "few_data",
            "partial"]
_VALUE_ROW = {"type": "object", "properties": {
    "kpi": {"type": "string"}, "unit_code": {"type": "string"}, "period": {"type": "string"},
    "period_start": {"type": "string"}, "period_end": {"type": "string", "description": "exclusive"},
    "as_of": {"type": "string", "description": "judgement time T = min(end of the period, now): stocks (in flight, "
                                               "overdue) are counted at T; for a partial period, the figures' date"},
    "partial": {"type": "boolean", "description": "true when the period is not over (period=current): figures to "
                                                  "as_of, never judged (status 'partial'); indicators are never partial"},
    "value": {"type": "number", "nullable": True}, "numerator": {"type": "number", "nullable": True},
    "denominator": {"type": "number", "nullable": True}, "unit": {"type": "string", "nullable": True},
    "n": {"type": "integer", "nullable": True, "description": "what a rate or mean stands on (its denominator: "
                                                             "dossiers or ratings); null for counts and indicators"},
    "few_data": {"type": "boolean", "description": "n below the KPI's minimum (30 dossiers, 10 ratings): shown, "
                                                   "not judged (status 'few_data'), ranked apart"},
    "target": {"type": "number", "nullable": True}, "target_deadline": {"type": "string", "nullable": True},
    "status": {"type": "string", "nullable": True, "enum": [*STATUSES, None]},
    "status_reason": {"type": "string", "nullable": True,
                      "description": "why there is no judged status: 'partial', 'few_data', 'no_value' or "
                                     "'no_base:<period>' (the period whose value is missing to measure progress)"},
    "method": {"type": "string", "nullable": True, "enum": ["cagr", "linear", None]},
    "ratio": {"type": "number", "nullable": True},
    "projected": {"type": "number", "nullable": True}, "change": {"type": "number", "nullable": True},
}}
_STRINGS = {"type": "array", "items": {"type": "string"}}
# every field /api/v1/kpis and /api/v1/kpis/{code} answer (tests/test_api.py checks the routes against it)
_KPI = {"type": "object", "required": ["kpi", "name", "decimals", "display_kind", "show"], "properties": {
    "kpi": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
    "type": {"type": "string"}, "unit": {"type": "string"}, "direction": {"type": "string"},
    "source": {"type": "string", "enum": ["dossiers", "catalogue", "indicator"]},
    "time": {"type": "string", "nullable": True}, "dimensions": _STRINGS, "grains": _STRINGS,
    "legal_basis": {"type": "string", "nullable": True}, "auxiliary": {"type": "boolean"}, "tags": _STRINGS,
    "target": {"type": "number", "nullable": True},
    "target_comparison": {"type": "string", "nullable": True, "enum": [">=", "<=", None]},
    "target_deadline": {"type": "string", "format": "date", "nullable": True},
    "decimals": {"type": "integer", "minimum": 0, "maximum": 4,
                 "description": "decimals the KPI's values are shown and rounded with (kpis.yaml display)"},
    "display_kind": {"type": "string", "enum": ["percent", "count", "days", "points", "number"],
                     "description": "how a value is written: percent, count, days, points or number"},
    "show": {"type": "array", "items": {"type": "string", "enum": ["overview", "ranking", "ward", "ward_trend",
                                                                     "wards_grid", "report", "report_trend"]},
             "description": "the surfaces the KPI is on besides the KPI page and the KPI lists"},
    "sql": {"type": "string", "description": "/api/v1/kpis/{code} only: the SQL that defines the KPI"},
}}


def spec(server_url: str = "") -> dict:
    from .push import MAX_BYTES
    from .routes import MAX_PERIODS  # here, not at the top: routes imports this module

    limits = ", ".join(f"{g} {n}" for g, n in MAX_PERIODS.items())
    get = {"responses": {"304": _NOT_MODIFIED, "400": _ERROR, "503": _NO_DATA}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hanoi Resolution 57 KPI API", "version": API_VERSION,
                 "description": "KPIs of Resolution 57 and Decision 766 for Hanoi and its 126 wards/communes. "
                                "Percentages are 0..100; N/A is null. Polls are cheap: send If-None-Match."},
        "servers": [{"url": server_url or "/"}],
        "paths": {
            "/api/v1/kpis": {"get": {"summary": "Every KPI with its definition and target",
                                     "parameters": [_LANG],
                                     "responses": {**get["responses"], "200": _ok({"type": "object", "properties": {
                                         "kpis": {"type": "array", "items": _KPI}, "count": {"type": "integer"}}})}}},
            "/api/v1/kpis/{code}": {"get": {"summary": "One KPI, with the SQL that defines it",
                                            "parameters": [{"name": "code", "in": "path", "required": True,
                                                            "schema": {"type": "string"}}, _LANG],
                                            "responses": {**get["responses"], "200": _ok(_KPI),
                                                          "404": _ERROR}}},
            "/api/v1/values": {"get": {
                "summary": "KPI values by period, grain and unit, with targets and status",
                "description": "Without period/from/to: the last complete period of the grain. Every row carries "
                               "partial, as_of, n, few_data and status_reason; the exports /api/v1/values.csv, "
                               ".xlsx and .parquet carry the same columns.",
                "parameters": [
                    {"name": "kpi", "in": "query", "schema": _CSV_LIST, "description": "comma-separated KPI codes (default all)"},
                    {"name": "grain", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month", "quarter", "year"], "default": "month"},
                     "description": f"at most this many periods per request (else 400): {limits}"},
                    {"name": "period", "in": "query", "schema": {"type": "string"},
                     "description": "e.g. 2026-Q3, 2026-10, 2026, or 'current' (the period containing now, to date: rows "
                                    "partial=true with their as_of, never judged). Default: the last complete period "
                                    "of the grain (on 1 December, month grain: November), whose figures do not "
                                    "change without a data change"},
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "unit", "in": "query", "schema": _CSV_LIST, "description": "unit codes, e.g. 00073 (default: the city)"},
                    {"name": "by", "in": "query", "schema": _CSV_LIST, "description": "unit_code, procedure_code, channel, sector, applicant_type"},
                    *_PAGE],
                "responses": {**get["responses"], "200": _ok(_page_of(_VALUE_ROW))}}},
            "/api/v1/units": {"get": {"summary": "The city and its 126 wards/communes", "parameters": _PAGE,
                                      "responses": {**get["responses"], "200": _ok(_page_of({"type": "object"}))}}},
            "/api/v1/overdue": {"get": {"summary": "Open dossiers past their due date, most overdue first (ids only)",
                                        "parameters": [{"name": "unit", "in": "query", "schema": _CSV_LIST}, *_PAGE],
                                        "responses": {**get["responses"], "200": _ok(_page_of({"type": "object"}))}}},
            "/api/v1/status": {"get": {"summary": "Ingest runs and data freshness",
                                       "parameters": [{"name": "runs", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                                       "responses": {**get["responses"], "200": _ok({"type": "object"})}}},
            "/api/v1/dossiers": {"post": {
                "summary": "Push dossier records into the ingest pipeline (needs the API token)",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "Loaded: counts and quarantine reasons"},
                              "202": {"description": "Queued for the ingest process"},
                              "400": _ERROR, "401": _ERROR, "403": _ERROR,
                              "413": {**_ERROR, "description": f"Body over {MAX_BYTES // (1024 * 1024)} MB"},
                              "415": _ERROR, "422": {**_ERROR, "description": "The run failed: its error"},
                              "500": {**_ERROR, "description": "Not loaded, or loaded but not yet published: "
                                                               "what to do, and a reference for the operator"}}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
