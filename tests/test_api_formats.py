"""/api/v1/values written fast (issue 13, item 5): orjson over columns checked by the row model's field types,
the same bytes as the pydantic model's dump; format=arrow|parquet with typed columns and the page in the
schema metadata; a frame that does not fit the model is still a 500 that leaks nothing."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flask import Flask

import api
import api.openapi as openapi
import metrics
from api import models as m
from api import routes

ARROW, PARQUET = "application/vnd.apache.arrow.stream", "application/vnd.apache.parquet"
REQUESTS = [  # DEMO_NOW is 16 March 2026, data from 31 January
    "/api/v1/values?period=2026-02&page_size=5000",
    "/api/v1/values?period=2026-02&by=unit_code,channel&kpi=on_time_rate,received",
    "/api/v1/values?period=current&by=procedure_code,sector,applicant_type&page=2&page_size=40",
    "/api/v1/values?kpi=digital_economy_share,service_coverage_full&grain=year&period=2025",
    "/api/v1/values?grain=day&from=2026-03-01&to=2026-03-16&unit=00073&kpi=satisfaction",
    "/api/v1/values?kpi=on_time_rate&grain=month&from=2026-01-01&to=2026-03-16&by=unit_code&page_size=5000",
]


@pytest.fixture(scope="module")
def app(demo_warehouse):
    from warehouse.db import Reader

    server = Flask("r57-formats")
    api.register(server, demo_warehouse, Reader(demo_warehouse))
    return server


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def model_dump(client, url: str) -> bytes:
    """What the answer was before orjson: every row through ValueRow, dumped by pydantic (the reference)."""
    captured = {}
    real = metrics.query

    def spy(*a, **kw):
        captured["df"] = real(*a, **kw)
        return captured["df"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "query", spy)
        q = m.parse_query(m.ValuesQuery, dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&")))
        fast = client.get(url)
    page = routes._paginate(routes.records(captured["df"]), q)
    return fast.get_data(), m.ValuesPage.model_validate(page).model_dump_json(exclude_unset=True).encode()


@pytest.mark.parametrize("url", REQUESTS)
def test_json_is_byte_for_byte_the_models_dump(client, url):
    fast, reference = model_dump(client, url)
    assert fast == reference
    body = json.loads(fast)
    assert body["items"], url  # something to compare
    m.ValuesPage.model_validate(body)


def test_numbers_keep_their_json_types(client):
    rows = client.get("/api/v1/values?period=2026-02&by=unit_code&kpi=received,on_time_rate&page_size=5000"
                      ).get_json()["items"]
    received = next(r for r in rows if r["kpi"] == "received" and r["unit_code"] == "00073")
    assert isinstance(received["value"], float) and received["value"] == int(received["value"])  # 123.0, not 123
    rate = next(r for r in rows if r["kpi"] == "on_time_rate" and r["n"] is not None)
    assert isinstance(rate["n"], int) and not isinstance(rate["n"], bool)
    assert rate["value"] == pytest.approx(100 * rate["numerator"] / rate["denominator"])
    assert (rate["period_start"], rate["period_end"], rate["as_of"]) == ("2026-02-01", "2026-03-01",
                                                                         "2026-03-01T00:00:00")


def _table(r) -> pa.Table:
    if r.mimetype == ARROW:
        return pa.ipc.open_stream(io.BytesIO(r.get_data())).read_all()
    return pq.read_table(io.BytesIO(r.get_data()))


@pytest.mark.parametrize("fmt,media", [("arrow", ARROW), ("parquet", PARQUET)])
def test_arrow_and_parquet_carry_the_same_rows_typed(client, fmt, media):
    url = "/api/v1/values?period=2026-02&by=unit_code&kpi=received,on_time_rate&page=2&page_size=100"
    as_json = client.get(url).get_json()
    r = client.get(url + f"&format={fmt}")
    assert r.status_code == 200 and r.mimetype == media
    assert r.headers["ETag"] != client.get(url).headers["ETag"]  # one URL, one ETag
    table = _table(r)
    assert json.loads(table.schema.metadata[b"r57.page"]) == {k: as_json[k] for k in ("page", "page_size", "total",
                                                                                    "pages")}
    assert as_json["page"] == 2 and table.num_rows == len(as_json["items"]) == 100
    types = {f.name: f.type for f in table.schema}
    assert (types["value"], types["n"], types["partial"], types["period_start"], types["as_of"], types["status"]) == (
        pa.float64(), pa.int64(), pa.bool_(), pa.date32(), pa.timestamp("us"), pa.string())
    assert table.column_names == list(as_json["items"][0])
    got = table.to_pylist()
    for a, b in zip(got, as_json["items"], strict=True):
        assert {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in a.items()} == b


@pytest.mark.parametrize("fmt", ["arrow", "parquet"])
def test_every_kpi_at_once_in_arrow_and_parquet(client, fmt):
    """Dossier KPIs (no publication dates) and indicators (with them) in one table: missing times are nulls."""
    url = "/api/v1/values?grain=year&period=2025&page_size=5000"
    as_json = client.get(url).get_json()["items"]
    r = client.get(f"{url}&format={fmt}")
    assert r.status_code == 200, r.get_data()[:300]
    rows = _table(r).to_pylist()
    assert len(rows) == len(as_json) and {x["kpi"] for x in rows} == {x["kpi"] for x in as_json}
    published = [x["first_published"] for x in rows]
    assert None in published and any(p is not None for p in published)
    assert [x["first_published"] for x in as_json] == [p and p.isoformat() for p in published]


def test_the_document_names_the_formats(app):
    doc = openapi.spec(only=openapi.served(app.url_map))
    op = doc["paths"]["/api/v1/values"]["get"]
    fmt = next(p for p in op["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["json", "arrow", "parquet"] and fmt["schema"]["default"] == "json"
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ValuesPage"}
    assert content[ARROW]["schema"] == content[PARQUET]["schema"] == {"type": "string", "format": "binary"}


def test_a_bad_format_is_a_400(client):
    r = client.get("/api/v1/values?format=csv")
    assert r.status_code == 400
    assert r.get_json()["error"] == "'format' must be 'json', 'arrow' or 'parquet', got 'csv'"


def _with(monkeypatch, change):
    real = metrics.query

    def changed(*a, **kw):
        df = real(*a, **kw).copy()
        change(df)
        return df

    monkeypatch.setattr(metrics, "query", changed)


@pytest.mark.parametrize("fmt", ["json", "arrow"])
def test_an_undeclared_column_is_a_500_that_leaks_nothing(client, monkeypatch, fmt):
    _with(monkeypatch, lambda df: df.__setitem__("phone", "0912345678"))
    r = client.get(f"/api/v1/values?period=2026-02&format={fmt}")
    assert r.status_code == 500 and r.is_json
    assert "0912345678" not in r.get_data(as_text=True) and "phone" not in r.get_data(as_text=True)
    assert "does not match its documented schema" in r.get_json()["error"]


@pytest.mark.parametrize("change", [
    lambda df: df.__setitem__("status", "splendid"),          # not a status
    lambda df: df.__setitem__("n", 2.5),                      # not a whole number
    lambda df: df.drop(columns=["period_start"], inplace=True),  # a required column missing
], ids=["status", "n", "missing"])
def test_a_column_that_does_not_fit_its_field_is_a_500(client, monkeypatch, change):
    _with(monkeypatch, change)
    r = client.get("/api/v1/values?period=2026-02")
    assert r.status_code == 500 and "does not match its documented schema" in r.get_json()["error"]


def test_missing_values_of_any_kind_are_null(client, monkeypatch):
    def holes(df):
        df["n"] = df["n"].astype(object)
        df.loc[df.index[0], "n"] = math.nan
        df.loc[df.index[0], "target_deadline"] = pd.NaT
        df.loc[df.index[0], "value"] = math.inf
        df.loc[df.index[1], "unit"] = pd.NA

    _with(monkeypatch, holes)
    r = client.get("/api/v1/values?period=2026-02&kpi=on_time_rate&by=unit_code")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    items = r.get_json()["items"]
    assert (items[0]["n"], items[0]["target_deadline"], items[0]["value"], items[1]["unit"]) == (None, None, None, None)
    assert items[1]["n"] is not None and items[1]["value"] is not None
