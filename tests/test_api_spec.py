"""The OpenAPI document is generated from the route table and the pydantic models, and cannot drift from the
Flask routes or from the answers: every /api/v1 rule is in the document and back, every declared parameter
is read (and bounded) by its handler, and real answers from a seeded warehouse fit the generated schemas."""

from __future__ import annotations

import re
from dataclasses import replace

import jsonschema_rs
import pytest
from flask import Flask

import api
import api.openapi as openapi
import metrics
from api import models as m
from api.openapi import Answer, Route, register, spec
from exports import EXPORT_FORMATS


@pytest.fixture(scope="module")
def app(demo_warehouse):
    from warehouse.db import Reader

    server = Flask("r57-spec")
    api.register(server, demo_warehouse, Reader(demo_warehouse))
    return server


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def doc(app):
    """The document of this server's routes (another module's registered routes are left out, as served)."""
    return spec(only=openapi.served(app.url_map))


def test_every_flask_rule_under_api_v1_is_in_the_document_and_back(app, client):
    rules = openapi.served(app.url_map)
    served_doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(method, path) for path, ops in served_doc["paths"].items() for method in ops}
    assert rules == documented  # every rule has a route in the table (the document keeps the served ones)
    assert {(r.method, r.path) for r in openapi._core_routes()} <= rules  # the table's own routes are all served
    assert {("get", "/api/v1/values"), ("get", "/api/v1/values.{fmt}"), ("get", "/api/v1/kpis/{code}"),
            ("get", "/api/v1/openapi.json"), ("post", "/api/v1/dossiers")} <= rules
    assert len(rules) == 9


def test_a_rule_without_a_route_is_caught(app):
    server = Flask("r57-spec-extra")
    server.add_url_rule("/api/v1/secret/<int:n>", "secret", lambda n: "")
    assert openapi.served(server.url_map) == {("get", "/api/v1/secret/{n}")}
    assert spec(only=openapi.served(server.url_map))["paths"] == {}  # undocumented: the test above would fail


def test_the_document_is_openapi_3_1_with_every_reference_resolved(doc):
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    text = repr(doc)
    refs = set(re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text))
    assert refs and refs <= set(schemas)
    assert "nullable" not in text and "$defs" not in text  # 3.0's nullable; pydantic's local definitions
    assert schemas["ValueRow"]["additionalProperties"] is False and schemas["Kpi"]["additionalProperties"] is False
    # every operation id is unique
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == 9


def test_parameters_carry_their_bounds(doc):
    values = {p["name"]: p for p in doc["paths"]["/api/v1/values"]["get"]["parameters"]}
    assert set(values) == {"kpi", "grain", "period", "from", "to", "unit", "province", "by", "page", "page_size",
                           "lang", "format"}
    assert values["province"]["schema"]["pattern"] == "^[0-9]{2}$"
    assert values["grain"]["schema"] == {"enum": ["day", "week", "month", "quarter", "year"], "type": "string",
                                         "default": "month"}
    assert "day 400, week 120, month 120, quarter 40, year 20" in values["grain"]["description"]
    assert values["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}
    assert values["page"]["schema"]["maximum"] == 10**6
    assert values["lang"]["schema"]["enum"] == ["vi", "en"]
    assert values["by"]["schema"]["items"]["enum"] == list(m.DIMENSIONS)
    assert (values["by"]["style"], values["by"]["explode"]) == ("form", False)
    assert values["unit"]["schema"]["items"]["pattern"] == r"^[A-Za-z0-9_.\-]+$"
    assert values["unit"]["schema"]["maxItems"] == 200 and values["kpi"]["schema"]["maxItems"] == 100
    assert values["from"]["schema"] == {"type": "string", "format": "date"}
    assert not any(p["required"] for p in values.values())
    fmt = doc["paths"]["/api/v1/values.{fmt}"]["get"]["parameters"][0]
    assert (fmt["in"], fmt["required"], fmt["schema"]["enum"]) == ("path", True, sorted(EXPORT_FORMATS, key=list(
        EXPORT_FORMATS).index))
    status = {p["name"]: p for p in doc["paths"]["/api/v1/status"]["get"]["parameters"]}
    assert status["runs"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}


def test_cached_gets_document_304_400_401_503_and_their_cache_headers(doc):
    values = doc["paths"]["/api/v1/values"]["get"]["responses"]
    assert set(values) == {"200", "304", "400", "401", "403", "404", "503"}
    assert set(values["200"]["headers"]) == {"ETag", "Last-Modified"}
    assert "content" not in values["304"]
    assert values["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    own = doc["paths"]["/api/v1/openapi.json"]["get"]["responses"]
    assert set(own) == {"200"}  # public, not cached
    push = doc["paths"]["/api/v1/dossiers"]["post"]
    assert set(push["responses"]) == {"200", "202", "400", "401", "403", "413", "415", "422", "500"}
    assert push["security"] == [{"bearer": []}] and "20 MB" in push["responses"]["413"]["description"]


def _validator(doc, method: str, path: str, status: int):
    schema = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": doc["components"]})


DEMO_REQUESTS = [  # (path template, URL, status): DEMO_NOW is 16 March 2026, data from 31 January
    ("/api/v1/kpis", "/api/v1/kpis", 200),
    ("/api/v1/kpis", "/api/v1/kpis?lang=en", 200),
    ("/api/v1/kpis/{code}", "/api/v1/kpis/on_time_rate?lang=en", 200),
    ("/api/v1/kpis/{code}", "/api/v1/kpis/digital_economy_share", 200),
    ("/api/v1/kpis/{code}", "/api/v1/kpis/happiness", 404),
    ("/api/v1/values", "/api/v1/values?period=2026-02&page_size=5000", 200),
    ("/api/v1/values", "/api/v1/values?period=2026-02&by=unit_code,channel&kpi=on_time_rate,received", 200),
    ("/api/v1/values", "/api/v1/values?period=current&by=procedure_code,sector,applicant_type", 200),
    ("/api/v1/values", "/api/v1/values?kpi=digital_economy_share,service_coverage_full&grain=year&period=2025", 200),
    ("/api/v1/values", "/api/v1/values?grain=day&from=2026-03-01&to=2026-03-16&unit=00073&kpi=satisfaction", 200),
    ("/api/v1/values", "/api/v1/values?grain=fortnight", 400),
    ("/api/v1/values", "/api/v1/values?grain=day&from=1900-01-01&to=2026-01-01", 400),
    ("/api/v1/units", "/api/v1/units?page=2&page_size=100", 200),
    ("/api/v1/overdue", "/api/v1/overdue?page_size=5000", 200),
    ("/api/v1/overdue", "/api/v1/overdue?unit=00073", 200),
    ("/api/v1/status", "/api/v1/status?runs=500", 200),
    ("/api/v1/status", "/api/v1/status?runs=0", 400),
]


@pytest.mark.parametrize("path,url,status", DEMO_REQUESTS, ids=[u for _, u, _ in DEMO_REQUESTS])
def test_real_answers_fit_the_generated_schema_and_the_model(client, doc, path, url, status):
    r = client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    body = r.get_json()
    errors = [f"{e.instance_path}: {e.message}"[:200] for e in _validator(doc, "get", path, status).iter_errors(body)]
    assert not errors, errors[:5]
    model = openapi.route("get", path).answers()[status].model
    model.model_validate(body)  # and the model itself takes it back
    if status == 200 and "items" in body:
        assert body["items"], url  # the seeded warehouse answers something to check


def test_the_answers_checked_fill_every_field_of_the_value_rows(client):
    """Each ValueRow field is filled (not null) in some answer checked above: dimension and indicator
    columns included, so the closed row is exercised whole."""
    seen: set[str] = set()
    for path, url, status in DEMO_REQUESTS:
        if path == "/api/v1/values" and status == 200:
            for item in client.get(url).get_json()["items"]:
                seen |= {k for k, v in item.items() if v is not None}
    assert seen == set(m.ValueRow.model_fields)


def test_kpi_answers_name_only_declared_fields_with_their_types(client):
    items = client.get("/api/v1/kpis").get_json()["kpis"]
    single = client.get(f"/api/v1/kpis/{items[0]['kpi']}").get_json()
    assert {"decimals", "display_kind", "show"} <= set(items[0]) and "sql" in single and "sql" not in items[0]
    assert set().union(*map(set, items)) | set(single) == set(m.KpiDetail.model_fields)
    assert {i["kpi"] for i in items} == {c for c, k in metrics.get_registry().kpis.items() if not k.auxiliary}


def test_an_undeclared_column_never_goes_out(client, monkeypatch):
    """A closed answer with a field its model does not declare (here a phone number a careless query added)
    is a 500 that says it is a bug, with neither the field nor its value in the answer."""
    import warehouse.health as health

    real = health.units_frame

    def with_phone(con):
        df = real(con)
        df["phone"] = "0912345678"
        return df

    monkeypatch.setattr(health, "units_frame", with_phone)
    r = client.get("/api/v1/units?page_size=1")
    assert r.status_code == 500 and r.is_json
    text = r.get_data(as_text=True)
    assert "0912345678" not in text and "phone" not in text
    assert "does not match its documented schema" in r.get_json()["error"]


def _bad_value(schema: dict) -> str | None:
    """A value the parameter's schema refuses (None: the schema refuses nothing a query string can send)."""
    if "enum" in schema:
        return "zz-not-listed"
    if "maximum" in schema:
        return str(schema["maximum"] + 1)
    if schema.get("type") == "array":
        return "bad code!" if "pattern" in schema["items"] else _bad_value(schema["items"])
    if schema.get("format") == "date":
        return "31/12/2026"
    if "maxLength" in schema:
        return "x" * (schema["maxLength"] + 1)
    return None


def test_every_declared_parameter_is_read_and_bounded_by_its_handler(client, doc):
    """For each documented parameter of each GET, a value its schema refuses gets a 400 naming it: the handler
    reads the parameters the document lists, with the same bounds."""
    tried = []
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        for p in (op or {}).get("parameters", []):
            bad = _bad_value(p["schema"])
            if bad is None:
                continue
            concrete = path.replace("{code}", "on_time_rate").replace("{fmt}", "csv")
            if p["in"] == "path":
                concrete, query = path.replace("{" + p["name"] + "}", bad).replace("{code}", "x"), ""
            else:
                query = f"?{p['name']}={bad}" + ("&to=2026-03-01" if p["name"] == "from" else "") + \
                    ("&from=2026-03-01" if p["name"] == "to" else "")
            r = client.get(concrete + query)
            assert r.status_code == 400, (path, p["name"], bad, r.status_code)
            assert f"'{p['name']}'" in r.get_json()["error"], (path, p["name"], r.get_json())
            tried.append(f"{path} {p['name']}")
    values = ["kpi", "grain", "period", "from", "to", "unit", "by", "lang"]
    assert sorted(tried) == sorted([
        "/api/v1/kpis lang", "/api/v1/kpis/{code} lang", *(f"/api/v1/values {n}" for n in values),
        "/api/v1/values page", "/api/v1/values page_size", "/api/v1/values format", "/api/v1/values.{fmt} fmt",
        *(f"/api/v1/values.{{fmt}} {n}" for n in values), "/api/v1/units page", "/api/v1/units page_size",
        "/api/v1/overdue unit", "/api/v1/overdue page", "/api/v1/overdue page_size", "/api/v1/status runs"])


@pytest.mark.parametrize("query,message", [
    ("grain=fortnight", "'grain' must be 'day', 'week', 'month', 'quarter' or 'year', got 'fortnight'"),
    ("page=0", "'page' must be between 1 and 1000000, got 0"),
    ("page_size=5001", "'page_size' must be between 1 and 5000, got 5001"),
    ("page_size=x", "'page_size' must be a whole number, got 'x'"),
    ("lang=fr", "'lang' must be 'vi' or 'en', got 'fr'"),
    ("from=yesterday&to=2026-03-01", "'from' must be a date YYYY-MM-DD, got 'yesterday'"),
    ("from=2026-03-05&to=2026-03-01", "'from' is after 'to'"),
    ("to=2026-03-01", "'from' and 'to' go together (dates YYYY-MM-DD, inclusive)"),
    ("unit=00073;DROP", "'unit' must be codes of letters, digits, '_', '.' or '-', comma-separated, got '00073;DROP'"),
    ("kpi=" + ",".join(["received"] * 101), "'kpi' takes at most 100 values, got 101"),
    ("period=" + "2026" * 11, "'period' must be at most 40 characters, got '" + "2026" * 11 + "'"),
    ("by=colour&grain=hour", "'grain' must be 'day', 'week', 'month', 'quarter' or 'year', got 'hour'; 'by' must be "
                             "'unit_code', 'procedure_code', 'channel', 'sector' or 'applicant_type', got 'colour'"),
])
def test_bad_parameters_get_a_400_that_says_what_and_how(client, query, message):
    r = client.get(f"/api/v1/values?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"] == message


def test_an_empty_parameter_is_as_if_not_sent_and_repeated_lists_add_up(client):
    a = client.get("/api/v1/values?kpi=received&kpi=on_time_rate&period=2026-02&grain=&page=").get_json()
    b = client.get("/api/v1/values?kpi=received,on_time_rate&period=2026-02").get_json()
    assert a == b and [i["kpi"] for i in a["items"]] == ["received", "on_time_rate"]


def test_another_module_registers_its_routes_in_one_call(monkeypatch):
    """How api/plan*.py adds its routes: models and a Route each, one register() call; the document has them."""
    monkeypatch.setattr(openapi, "_ROUTES", dict(openapi._ROUTES))

    class PlanQuery(m.Query):
        unit: m.comma_list(m.Code, 10) | None = None

    class Plan(m.Closed):
        plan_id: int
        title: str

    class Plans(m.Page):
        items: list[Plan]

    route = Route("get", "/api/v1/plans", "Plans", query=PlanQuery, responses={200: Plans, 404: m.Error})
    register(route)
    register(route)  # the same route twice (a module imported twice) is fine
    doc = spec()
    op = doc["paths"]["/api/v1/plans"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["unit"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Plans"}
    assert doc["components"]["schemas"]["Plan"]["required"] == ["plan_id", "title"]
    assert set(op["responses"]) == {"200", "304", "400", "401", "404", "503"}
    with pytest.raises(ValueError, match="registered twice"):
        register(replace(route, summary="Other plans"))
    with pytest.raises(ValueError, match="registered twice"):
        register(Route("get", "/api/v1/plans", "Plans", responses={200: Answer("a file", media=("text/csv",))}))


def test_export_formats_are_the_exports_ones():
    assert m.EXPORTS == tuple(EXPORT_FORMATS)


def test_answers_keep_their_shape(client):
    """Built through the models, answers keep the shape clients read: dates as YYYY-MM-DD, times without an
    offset, a `by` column only when asked for, numbers as numbers."""
    row = client.get("/api/v1/values?kpi=received&period=2026-02&unit=00073").get_json()["items"][0]
    assert (row["period"], row["period_start"], row["period_end"], row["as_of"]) == (
        "2026-02", "2026-02-01", "2026-03-01", "2026-03-01T00:00:00")
    assert "channel" not in row and "procedure_code" not in row and isinstance(row["value"], float)
    grouped = client.get("/api/v1/values?kpi=received&period=2026-02&by=channel").get_json()["items"]
    assert {"channel"} <= set(grouped[0]) and "sector" not in grouped[0]
    unit = client.get("/api/v1/units?page_size=1").get_json()
    assert unit == {"page": 1, "page_size": 1, "total": 127, "pages": 127, "items": [
        {"unit_code": "00004", "name": "Phường Ba Đình", "name_en": "Ba Dinh Ward", "unit_type": "phuong"}]}
