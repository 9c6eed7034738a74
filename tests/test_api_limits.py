"""API cost caps: periods per request per grain, dates out of range, clipped echoes, bounded push bodies.

A warehouse with reference data only (no dossiers) is enough: every limit is checked before any KPI is
computed, and the few requests that do compute run on empty tables.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from flask import Flask

import api
from api.push import MAX_BYTES
from api.routes import ECHO_CHARS, MAX_PERIODS, MESSAGE_CHARS, count_periods
from config import load_settings
from warehouse.db import Reader, open_writer, publish_snapshot

TOKEN = "limits-token"
END = date(2025, 12, 31)  # a Wednesday, in the past: every period of the ranges below is computed


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api-limits")
    s = replace(load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb"), api_token=TOKEN)
    con = open_writer(s)
    publish_snapshot(con, s)
    con.close()
    return s


def make_app(settings, server: Flask | None = None) -> Flask:
    app = server or Flask("r57-limits")
    api.register(app, settings, Reader(settings))
    return app


@pytest.fixture(scope="module")
def client(settings):
    return make_app(settings).test_client()


def test_the_caps_are_the_documented_ones():
    assert MAX_PERIODS == {"day": 400, "week": 120, "month": 120, "quarter": 40, "year": 20}


def _start(grain: str, n: int) -> date:
    """The first day of a range of exactly `n` periods of `grain` ending with END."""
    if grain == "day":
        return END - timedelta(days=n - 1)
    if grain == "week":
        return END - timedelta(days=END.weekday()) - timedelta(weeks=n - 1)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    index = END.year * 12 + END.month - months  # END is the last month of its quarter and year
    return date(index // 12, index % 12 + 1, 1)


@pytest.mark.parametrize("grain", list(MAX_PERIODS))
def test_period_count_is_exact_at_the_limit(grain):
    limit = MAX_PERIODS[grain]
    assert count_periods(_start(grain, limit), END, grain) == limit
    assert count_periods(_start(grain, limit + 1), END, grain) == limit + 1
    assert count_periods(date(2026, 3, 5), date(2026, 3, 5), grain) == 1


@pytest.mark.parametrize("grain", list(MAX_PERIODS))
def test_values_accept_the_limit_and_refuse_one_more(client, grain):
    limit = MAX_PERIODS[grain]
    ok = client.get(f"/api/v1/values?kpi=received&grain={grain}&from={_start(grain, limit)}&to={END}&page_size=1")
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    assert ok.get_json()["total"] == limit
    over = client.get(f"/api/v1/values?kpi=received&grain={grain}&from={_start(grain, limit + 1)}&to={END}")
    assert over.status_code == 400
    body = over.get_json()
    assert f"at most {limit}" in body["error"] and grain in body["error"]
    assert body["limit"] == {"grain": grain, "max_periods": limit, "asked": limit + 1}


def test_a_coarse_period_label_counts_its_sub_periods(client):
    assert client.get("/api/v1/values?kpi=received&grain=day&period=2025").status_code == 200  # 365 days
    r = client.get("/api/v1/values?kpi=received&grain=day&period=2023-01-01..2025-12-31")
    assert r.status_code == 400 and r.get_json()["limit"]["asked"] == 1096


def test_future_periods_do_not_count(client):
    """`to` far ahead is fine: periods after today are never computed, so they are not counted."""
    r = client.get("/api/v1/values?kpi=received&grain=year&from=2010-01-01&to=2100-01-01")
    assert r.status_code == 200, r.get_json()


def test_a_centuries_long_day_range_answers_400_before_anything_is_computed(client, monkeypatch):
    import api.routes
    import metrics

    def must_not_run(*_a, **_k):
        raise AssertionError("metrics.query ran for a request over the cap")

    monkeypatch.setattr(metrics, "query", must_not_run)
    monkeypatch.setattr(api.routes, "query_clock", lambda: datetime(2026, 12, 1, 8, 0))
    r = client.get("/api/v1/values?from=1900-01-01&to=2100-01-01&grain=day")
    assert r.status_code == 400 and "at most 400" in r.get_json()["error"]
    # 1900-01-01..2025-12-31 is 126 years with 31 leap days (1904..2024; 1900 is not one): 46021 days; then
    # 1 January..1 December 2026 (today at the fixed clock; later days are not computed, so not counted): 335
    assert r.get_json()["limit"] == {"grain": "day", "max_periods": 400, "asked": 46021 + 335}


@pytest.mark.parametrize("query", [
    "from=0001-01-01&to=9999-12-31&grain=day",
    "from=0001-01-01&to=9999-12-31&grain=year",
    "from=0001-01-01&to=0001-01-03&grain=day",
    "period=0001-01-01&grain=day",
    "period=0001-01&grain=month",
    "period=9999-12-31&grain=day",
    "period=9999-W52&grain=week",
    "period=0001&grain=year",
    "from=2026-02-30&to=2026-03-01",
    "period=2026-99",
])
def test_dates_out_of_range_answer_400_never_500(client, query):
    for path in ("/api/v1/values", "/api/v1/values.csv"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 400, (path, query, r.status_code, r.get_data(as_text=True)[:300])
        assert r.is_json and r.get_json()["error"]


def test_a_huge_parameter_is_not_echoed_back(client):
    huge = "x" * 65536
    for query in (f"grain={huge}", f"lang={huge}", f"kpi={huge}", f"period={huge}", f"page={'9' * 65536}",
                  f"{huge}=1&grain=fortnight"):
        r = client.get(f"/api/v1/values?{query}")
        assert r.status_code == 400, query[:40]
        body = r.get_json()
        assert len(r.data) < 2 * (MESSAGE_CHARS + ECHO_CHARS * 4), (query[:40], len(r.data))
        assert len(body["error"]) <= MESSAGE_CHARS
        assert all(len(k) <= ECHO_CHARS and len(v) <= ECHO_CHARS for k, v in body["parameters"].items())
    clipped = client.get(f"/api/v1/values?grain={huge}").get_json()["parameters"]["grain"]
    assert clipped == "x" * (ECHO_CHARS - 1) + "…"
    assert client.get(f"/api/v1/kpis/{huge}").status_code == 404
    assert len(client.get(f"/api/v1/kpis/{huge}").data) < 10_000


def test_register_bounds_every_request_body(settings):
    assert make_app(settings).config["MAX_CONTENT_LENGTH"] == MAX_BYTES
    smaller = Flask("smaller")
    smaller.config["MAX_CONTENT_LENGTH"] = 1024
    assert make_app(settings, smaller).config["MAX_CONTENT_LENGTH"] == 1024  # a stricter server limit stays


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_a_push_over_the_limit_with_content_length_gets_413_json(client):
    r = client.post("/api/v1/dossiers", data=b"x" * (MAX_BYTES + 1), content_type="text/csv", headers=AUTH)
    assert r.status_code == 413 and r.is_json and "20 MB" in r.get_json()["error"]


class Endless(io.RawIOBase):
    """A chunked request body (no Content-Length) of `total` bytes of JSON Lines, made as it is read."""

    BLOCK = b'{"dossier_id": "X"}\n' * 52429  # about 1 MB

    def __init__(self, total: int) -> None:
        self.total, self.sent = total, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.total - self.sent, len(self.BLOCK))
        if n <= 0:
            return 0
        buf[:n] = self.BLOCK[:n]
        self.sent += n
        return n


def _chunked(client, body: Endless):
    # the test client computes a Content-Length from a stream it is given: hand the stream to the WSGI
    # environ directly, as a server that de-chunks a request does (it also sets wsgi.input_terminated)
    return client.post("/api/v1/dossiers", content_type="application/x-ndjson", headers=AUTH,
                       environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})


def test_a_chunked_push_over_the_limit_gets_413_json_without_reading_it_all(client):
    body = Endless(200 * 1024 * 1024)
    r = _chunked(client, body)
    assert r.status_code == 413 and r.is_json, r.status_code
    assert "20 MB" in r.get_json()["error"]
    assert body.sent <= MAX_BYTES + 2 * len(Endless.BLOCK), body.sent


def test_a_small_chunked_push_still_works(settings, tmp_path):
    c = make_app(replace(settings, data_dir=tmp_path)).test_client()  # no writer: queued for the ingest process
    r = _chunked(c, Endless(len(Endless.BLOCK) // 2))
    assert r.status_code == 202, r.get_json()
