"""Answers kept per web process (api/answers.py): the same request on the same snapshot by the same scope is
served from the kept bytes, byte for byte the computed answer; never an answer with a period still running,
never across snapshots or days, never past its byte bound. Scope separation: tests/test_access_web.py."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask import Flask

import api
import metrics
from api.answers import Answers
from warehouse.db import Reader, SnapshotRead

from .conftest import DEMO_NOW

COMPLETE = "/api/v1/values?kpi=on_time_rate&grain=month&from=2026-01-01&to=2026-02-28&by=unit_code&page_size=5000"
RUNNING = "/api/v1/values?kpi=on_time_rate&period=current&by=unit_code"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setenv("R57_NOW", DEMO_NOW.isoformat())


@pytest.fixture
def world(demo_warehouse):
    """An app whose reader can be told to name another snapshot (same data, new label), and a count of queries."""
    reader, label = Reader(demo_warehouse), {"snap": None}

    def read():
        r = reader.read()
        return r if label["snap"] is None else SnapshotRead(r.cursor, label["snap"], r.published)

    server = Flask("r57-answers")
    api.register(server, demo_warehouse, read)
    calls = []
    real = metrics.query

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "query", counting)
        yield server, label, calls


def _answers(server) -> Answers:
    return server.blueprints["api_v1"].r57_answers


def test_a_repeated_answer_is_the_computed_one_without_computing(world) -> None:
    server, _, calls = world
    c = server.test_client()
    first, second = c.get(COMPLETE), c.get(COMPLETE)
    assert first.status_code == second.status_code == 200
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.get_data() == second.get_data() and first.get_json()["total"] > 100
    assert first.headers["ETag"] == second.headers["ETag"] and second.headers["Content-Type"] == "application/json"
    assert len(calls) == 1
    # the kept answer still honours the ETag, and another format or page is another answer
    assert c.get(COMPLETE, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    arrow = c.get(COMPLETE + "&format=arrow")
    assert arrow.headers["X-Cache"] == "MISS" and arrow.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    assert c.get(COMPLETE + "&format=arrow").get_data() == arrow.get_data()
    assert len(calls) == 2


def test_a_period_still_running_is_never_kept(world) -> None:
    server, _, calls = world
    c = server.test_client()
    a, b = c.get(RUNNING), c.get(RUNNING)
    assert a.status_code == b.status_code == 200 and any(r["partial"] for r in a.get_json()["items"])
    assert (a.headers["X-Cache"], b.headers["X-Cache"]) == ("MISS", "MISS") and len(calls) == 2


def test_a_new_snapshot_or_a_new_day_is_computed_again(world, monkeypatch) -> None:
    server, label, calls = world
    c = server.test_client()
    old = c.get(COMPLETE)
    label["snap"] = "wh-newer.duckdb"
    new = c.get(COMPLETE)
    assert new.headers["X-Cache"] == "MISS" and new.headers["ETag"] != old.headers["ETag"]
    assert c.get(COMPLETE).headers["X-Cache"] == "HIT"
    monkeypatch.setenv("R57_NOW", datetime(2026, 3, 17, 0, 5).isoformat())  # after midnight, Hanoi
    assert c.get(COMPLETE).headers["X-Cache"] == "MISS"
    assert len(calls) == 3


def test_errors_are_not_kept(world) -> None:
    server, _, calls = world
    c = server.test_client()
    bad = "/api/v1/values?kpi=no_such_kpi&from=2026-01-01&to=2026-02-28"
    assert c.get(bad).status_code == c.get(bad).status_code == 400
    assert len(_answers(server)) == 0


def test_the_store_is_bounded_by_bytes() -> None:
    day = date(2026, 3, 16)
    off = Answers(0)
    assert not off.put("e", day, b"x", 200, {}) and off.get("e", day) is None
    small = Answers(8_000)
    assert not small.put("big", day, b"x" * 1_001, 200, {})  # over an eighth of the bound
    for i in range(20):
        assert small.put(f"e{i}", day, b"x" * 1_000, 200, {"Content-Type": "application/json", "Set-Cookie": "s"})
    assert small.size <= 8_000 and len(small) == 8
    assert small.get("e0", day) is None and small.get("e19", day).body == b"x" * 1_000
    assert small.get("e19", day).headers == (("Content-Type", "application/json"),)  # never a cookie
    assert small.get("e19", date(2026, 3, 17)) is None
