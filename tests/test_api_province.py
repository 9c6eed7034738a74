"""The API and its exports accept a province (issue 13, item 4), on a national demo warehouse."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime

import pytest
from flask import Flask

import api
from config import load_settings
from demo.seed import seed_demo
from warehouse.db import Reader, open_writer, publish_snapshot

NOW = datetime(2026, 3, 20, 16, 0)
PERIOD = "2026-03-09..2026-03-15"


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("national")
    s = replace(load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb"))
    con = open_writer(s)
    seed_demo(con, s, days=12, per_day=200, now=NOW, provinces=3)
    # worked out from the rows: dossiers received in the week, per province and in all
    counts = dict(con.execute("""SELECT u.province_code, count(*) FROM dossiers d JOIN units u USING (unit_code)
                                 WHERE d.received_date BETWEEN DATE '2026-03-09' AND DATE '2026-03-15'
                                 GROUP BY 1""").fetchall())
    overdue_units = {u for (u,) in con.execute("SELECT unit_code FROM units WHERE province_code = '04'").fetchall()}
    publish_snapshot(con, s)
    con.close()
    app = Flask("r57-test")
    api.register(app, s, Reader(s))
    return app.test_client(), counts, overdue_units


def _received(client, query: str) -> list[tuple[str, float]]:
    r = client.get(f"/api/v1/values?kpi=received&grain=week&from=2026-03-09&to=2026-03-15{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    return [(i["unit_code"], i["value"]) for i in r.get_json()["items"]]


def test_a_province_is_its_units_total(national):
    client, counts, _ = national
    assert set(counts) == {"01", "04", "08"}
    assert _received(client, "&province=04") == [("04", counts["04"])]
    assert _received(client, "&province=01") == [("01", counts["01"])]  # Hanoi's own, not the nation
    assert _received(client, "") == [("01", sum(counts.values()))]  # no province: every unit loaded
    by_unit = client.get("/api/v1/values?kpi=received&grain=week&from=2026-03-09&to=2026-03-15&province=08&by=unit_code")
    rows = by_unit.get_json()["items"]
    assert sum(i["value"] for i in rows) == counts["08"]
    assert all(i["unit_code"] == "08" or i["unit_code"].isdigit() for i in rows)


def test_a_province_in_the_exports_and_the_overdue_list(national):
    client, counts, units_04 = national
    r = client.get("/api/v1/values.csv?kpi=received&grain=week&from=2026-03-09&to=2026-03-15&province=04")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(x["unit_code"], float(x["value"])) for x in rows] == [("04", counts["04"])]
    items = client.get("/api/v1/overdue?province=04&page_size=5000").get_json()["items"]
    assert items and {i["unit_code"] for i in items} <= units_04


@pytest.mark.parametrize("query, status", [("&province=99", 404), ("&province=04&unit=00073", 400),
                                           ("&province=4", 400), ("&province=0a", 400)])
def test_bad_provinces(national, query, status):
    client, _, _ = national
    r = client.get(f"/api/v1/values?kpi=received&grain=week&from=2026-03-09&to=2026-03-15{query}")
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.get_json()["error"]


def test_a_snapshot_from_before_provinces_is_all_hanoi(tmp_path):
    """A reader may still hold a snapshot published before migration 6 (no units.province_code)."""
    from demo.seed import seed_demo as seed

    s = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    con = open_writer(s)
    seed(con, s, days=3, per_day=100, now=NOW)
    con.execute("ALTER TABLE units DROP COLUMN province_code")
    publish_snapshot(con, s)
    con.close()
    app = Flask("r57-test")
    api.register(app, s, Reader(s))
    client = app.test_client()
    query = "/api/v1/values?kpi=received&grain=week&from=2026-03-16&to=2026-03-22"
    assert client.get(query + "&province=01").get_json()["items"][0]["value"] == \
        client.get(query).get_json()["items"][0]["value"]
    assert client.get(query + "&province=79").status_code == 404
