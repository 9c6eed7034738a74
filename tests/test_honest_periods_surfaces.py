"""Honest periods on the CLI, the API, the exports and the monthly report, at a frozen clock.

A small real warehouse: 40 days of seeded demo dossiers (150 a day, so several wards and communes
have fewer than 30 dossiers a month) loaded through the real ingest up to Tuesday 1 December 2026,
08:00, and published. The same data is then read at 08:00 and 14:00 on the 1st and on 15 December:
every surface shows November by default, the same values and statuses at every hour, the partial
month only when asked for and labelled so, and small units marked "ít dữ liệu" and ranked apart.
"""

from __future__ import annotations

import io
import json
from datetime import datetime

import openpyxl
import pandas as pd
import pytest
from flask import Flask

import api
import api.routes
import metrics
from api.openapi import spec
from config import load_settings
from metrics.cli import STATUS_WORDS, kpis_report
from reports import build_report, collect
from reports.charts import make_ranking_figure
from reports.text import STATUS_COLOURS, status_label
from warehouse.db import Reader, open_writer, publish_snapshot

DEC_1_08 = datetime(2026, 12, 1, 8, 0)
DEC_1_14 = datetime(2026, 12, 1, 14, 0)
DEC_15 = datetime(2026, 12, 15, 8, 0)
CLOCKS = [DEC_1_08, DEC_1_14, DEC_15]
NOVEMBER = "2026-11"
END_OF_NOVEMBER = datetime(2026, 12, 1)
NEW_COLUMNS = ("partial", "as_of", "n", "few_data", "status_reason")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    from demo.seed import seed_demo

    root = tmp_path_factory.mktemp("honest-surfaces")
    settings = load_settings(data_dir=root, warehouse=root / "wh.duckdb")
    con = open_writer(settings)
    seed_demo(con, settings, days=40, per_day=150, now=DEC_1_08)
    publish_snapshot(con, settings)
    con.close()
    reader = Reader(settings)
    yield settings, reader
    reader.close()


@pytest.fixture(scope="module")
def con(wh):
    return wh[1].cursor()


@pytest.fixture
def at(wh, monkeypatch):
    """A test client of the API whose clock is frozen at the given time."""
    def client(now: datetime):
        monkeypatch.setattr(api.routes, "query_clock", lambda: now)
        app = Flask("r57-honest")
        api.register(app, wh[0], Reader(wh[0]))
        return app.test_client()
    return client


@pytest.fixture(scope="module")
def few_unit(con):
    """A ward with fewer than 30 dossiers judged for November's on-time rate, and a large one."""
    df = metrics.query(con, ["on_time_rate"], periods=NOVEMBER, by="unit_code", now=DEC_1_08)
    df = df[df["unit_code"] != "01"]
    small = df[(df["n"] > 0) & (df["n"] < 30)].sort_values(["n", "unit_code"])
    large = df[df["n"] >= 30].sort_values(["n", "unit_code"])
    assert not small.empty and not large.empty
    return small.iloc[0]["unit_code"], int(small.iloc[0]["n"]), large.iloc[-1]["unit_code"]


def _items(client, query: str) -> list[dict]:
    r = client.get(f"/api/v1/values?{query}&page_size=5000")
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["items"]


# --- the CLI ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("now", CLOCKS)
def test_cli_default_is_the_last_complete_month(con, now):
    rows = json.loads(kpis_report(con, fmt="json", now=now))
    assert rows and {r["period"] for r in rows} == {NOVEMBER}
    assert all(r["partial"] is False for r in rows)
    assert {r["as_of"] for r in rows} == {"2026-12-01T00:00:00"}
    assert all(set(NEW_COLUMNS) <= set(r) for r in rows)
    table = kpis_report(con, now=now)
    assert table.splitlines()[0].endswith("— Tháng 11/2026") and "tạm tính" not in table
    assert "Tạm tính" not in table  # no status word of the partial month either


def test_cli_current_month_is_labelled_partial_and_never_judged(con):
    rows = json.loads(kpis_report(con, period="current", fmt="json", now=DEC_1_08))
    assert {r["period"] for r in rows} == {"2026-12"}
    reg = metrics.get_registry()
    # an indicator's value is a publication, final when published: never partial
    assert all(r["partial"] is (reg.kpi(r["kpi"]).type.value != "indicator") for r in rows)
    assert all(r["as_of"] == "2026-12-01T08:00:00" for r in rows if r["partial"])
    judged = [r for r in rows if r["partial"] and r["target"] is not None]
    assert judged and {r["status"] for r in judged} == {"partial"}
    table = kpis_report(con, period="current", now=DEC_1_08)
    assert "Tháng 12/2026 — tạm tính đến 01/12" in table.splitlines()[0]
    assert "Tạm tính" in table  # the status word of a partial row
    en = kpis_report(con, period="current", lang="en", now=DEC_1_14)
    assert "Month 12/2026 — partial, to 01/12" in en and "Partial (to date)" in en


def test_cli_rates_show_their_n(con):
    rows = {r["kpi"]: r for r in json.loads(kpis_report(con, fmt="json", now=DEC_1_08))}
    on_time = rows["on_time_rate"]
    assert on_time["n"] == on_time["denominator"] and on_time["n"] > 30 and on_time["few_data"] is False
    assert rows["received"]["n"] is None
    table = kpis_report(con, now=DEC_1_08)
    head = table.splitlines()[2]
    assert "  n  " in head


def test_new_statuses_have_words_and_no_colour():
    for lang in ("vi", "en"):
        assert {"partial", "few_data"} <= set(STATUS_WORDS[lang])
    assert STATUS_WORDS["vi"]["few_data"] == "Ít dữ liệu" and STATUS_WORDS["en"]["few_data"] == "Few data"
    assert status_label("few_data", "vi") == "◌ Ít dữ liệu" and status_label("partial", "en").endswith("Partial (to date)")
    assert "few_data" not in STATUS_COLOURS and "partial" not in STATUS_COLOURS


# --- the API and exports ------------------------------------------------------------------------------

@pytest.mark.parametrize("now", CLOCKS)
def test_api_default_is_the_last_complete_month(at, now):
    items = _items(at(now), "kpi=on_time_rate,received,satisfaction_online")
    assert [i["kpi"] for i in items] == ["on_time_rate", "received", "satisfaction_online"]
    for i in items:
        assert set(NEW_COLUMNS) <= set(i)
        assert (i["period"], i["partial"], i["as_of"]) == (NOVEMBER, False, "2026-12-01T00:00:00")
    assert items[0]["status"] not in ("partial", None)


def test_api_answers_the_same_at_every_hour_without_a_data_change(at):
    query = "kpi=on_time_rate,online_share,satisfaction,satisfaction_online,overdue_backlog&by=unit_code"
    answers = [_items(at(now), query) for now in CLOCKS]
    assert answers[0] == answers[1] == answers[2]


def test_api_current_rows_are_partial_with_their_as_of(at):
    items = _items(at(DEC_1_14), "kpi=on_time_rate,received&period=current")
    assert [(i["period"], i["partial"], i["as_of"]) for i in items] == [("2026-12", True, "2026-12-01T14:00:00")] * 2
    assert items[0]["status"] == "partial" and items[0]["status_reason"] == "partial"
    assert items[0]["n"] is not None


def test_openapi_documents_the_columns_and_the_default():
    s = spec()
    values = s["paths"]["/api/v1/values"]["get"]
    schemas = s["components"]["schemas"]  # the document refers to its models: #/components/schemas/<model>
    page = schemas[values["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    row = schemas[page["properties"]["items"]["items"]["$ref"].split("/")[-1]]
    assert set(NEW_COLUMNS) <= set(row["properties"])
    period = next(p for p in values["parameters"] if p["name"] == "period")
    assert "last complete period" in period["description"] and "'current'" in period["description"]
    status = next(b for b in row["properties"]["status"]["anyOf"] if "enum" in b)
    assert "few_data" in status["enum"] and "partial" in status["enum"]


def test_exports_carry_the_columns_and_mark_few_data_rows_without_colour(at, few_unit):
    small, n, _ = few_unit
    c = at(DEC_1_08)
    q = "kpi=on_time_rate&by=unit_code"
    frame = pd.read_csv(io.BytesIO(c.get(f"/api/v1/values.csv?{q}").data), encoding="utf-8-sig",
                        dtype={"unit_code": str})
    assert set(NEW_COLUMNS) <= set(frame.columns)
    assert set(frame["period"]) == {NOVEMBER} and not frame["partial"].any()
    row = frame[frame["unit_code"] == small].iloc[0]
    assert (bool(row["few_data"]), row["n"], row["status"]) == (True, n, "few_data")
    pq = pd.read_parquet(io.BytesIO(c.get(f"/api/v1/values.parquet?{q}").data))
    assert set(NEW_COLUMNS) <= set(pq.columns) and pq["few_data"].sum() == frame["few_data"].sum()
    wb = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/v1/values.xlsx?{q}").data))
    cover = [v for r in wb["Bìa"].iter_rows(values_only=True) for v in r if isinstance(v, str)]
    few_rows = int(frame["few_data"].sum())
    assert any(v.startswith(f"{few_rows} dòng ít dữ liệu (few_data = TRUE)") for v in cover)
    ws = wb["KPI"]
    head = [cell.value for cell in ws[1]]
    for col in NEW_COLUMNS:
        assert col in head
    mine = next(r for r in ws.iter_rows(min_row=2) if r[head.index("unit_code")].value == small)
    assert mine[head.index("few_data")].value is True
    assert all(cell.fill.fgColor.rgb in (None, "00000000") for cell in mine)  # marked, not coloured
    # the current month's export says it is partial, on its cover too
    cur = openpyxl.load_workbook(io.BytesIO(c.get("/api/v1/values.xlsx?kpi=received&period=current").data))
    cover = [v for r in cur["Bìa"].iter_rows(values_only=True) for v in r if isinstance(v, str)]
    assert any("partial = TRUE" in v or "tạm tính (partial = TRUE)" in v for v in cover)
    assert any("2026-12 (current, partial to 2026-12-01 08:00)" in v for v in cover)


# --- the monthly report -------------------------------------------------------------------------------

@pytest.mark.parametrize("now", CLOCKS)
def test_report_target_table_equals_the_overviews_standing(con, now):
    """The November report, made at any time after November, equals metrics.standing as the overview
    asks it at 08:00 and 14:00 on the 1st (and on the 15th): the same basis, values and statuses."""
    reg = metrics.get_registry()
    data = collect(con, NOVEMBER, now=now)
    codes = [r["kpi"] for r in data.targets.rows]
    assert "satisfaction_online" in codes
    for overview_now in (DEC_1_08, DEC_1_14):
        standing = {r["kpi"]: r for r in metrics.standing(con, codes, now=overview_now)}
        for r in data.targets.rows:
            s = standing[r["kpi"]]
            assert r["basis"] == s["basis"], r["kpi"]
            assert r["status"] == (s["status"] or "no_data"), r["kpi"]
            assert r["value"] == s["value"] or (r["value"] is None and s["value"] is None), r["kpi"]
            if reg.kpi(r["kpi"]).type.value == "indicator" and r["projected"] is not None:
                # a publication of a period not over (e.g. '2026') is judged at min(end, now): its projection
                # moves by hours (reported to metrics); the value and the status do not
                assert r["projected"] == pytest.approx(s["projected"], rel=1e-2), r["kpi"]
            else:
                assert r["projected"] == s.get("projected") or r["projected"] is s.get("projected"), r["kpi"]
            if s["basis"] == "year_to_date":
                assert r["period"] == s["period"] == "2026-01-01..2026-11-30"
                if reg.kpi(r["kpi"]).type.value == "catalogue":
                    continue  # metrics.standing gives a catalogue KPI no last_month_* (checked below)
                assert r["month_value"] == s["last_month_value"] and r["month_status"] == s["last_month_status"]
        month = {m["kpi"]: m for m in metrics.query(con, codes, periods=NOVEMBER, now=overview_now).to_dict("records")}
        for r in data.targets.rows:
            if r["kpi"] in month and reg.kpi(r["kpi"]).type.value != "indicator":
                assert r["month_value"] == month[r["kpi"]]["value"], r["kpi"]
                assert r["month_status"] == month[r["kpi"]]["status"], r["kpi"]
    online = next(r for r in data.targets.rows if r["kpi"] == "satisfaction_online")
    assert (online["target"], online["target_comparison"]) == (90.0, ">=")


def test_a_month_not_over_is_not_reported(con):
    from reports import ReportError

    with pytest.raises(ReportError, match="not over yet.*2026-11"):
        collect(con, "2026-12", now=DEC_15)


@pytest.mark.parametrize("now", [DEC_1_08, DEC_1_14])
def test_api_cli_and_report_agree_on_novembers_on_time_rate(con, at, now):
    api_row = _items(at(now), "kpi=on_time_rate")[0]
    cli_row = next(r for r in json.loads(kpis_report(con, fmt="json", now=now)) if r["kpi"] == "on_time_rate")
    report = next(r for r in collect(con, NOVEMBER, now=now).targets.rows if r["kpi"] == "on_time_rate")
    overview = metrics.progress(con, "on_time_rate", now=now)
    assert api_row["value"] == cli_row["value"] == report["month_value"] == overview["last_month_value"]
    assert api_row["status"] == cli_row["status"] == report["month_status"] == overview["last_month_status"]
    assert api_row["n"] == cli_row["n"] == report["month_n"] == overview["last_month_n"]
    assert api_row["status"] not in ("partial", "few_data", None)


def test_a_small_unit_is_few_data_everywhere_and_ranked_apart(con, at, few_unit):
    small, n, large = few_unit
    # API
    item = _items(at(DEC_1_08), f"kpi=on_time_rate&unit={small}")[0]
    assert (item["few_data"], item["n"], item["status"], item["status_reason"]) == (True, n, "few_data", "few_data")
    assert _items(at(DEC_1_08), f"kpi=on_time_rate&unit={large}")[0]["few_data"] is False
    # CLI
    cli = next(r for r in json.loads(kpis_report(con, unit=small, fmt="json", now=DEC_1_08))
               if r["kpi"] == "on_time_rate")
    assert (cli["few_data"], cli["status"]) == (True, "few_data")
    table = kpis_report(con, unit=small, now=DEC_1_08)
    assert "Ít dữ liệu" in table and f"{n} *" in table and "* ít dữ liệu" in table
    # report: ranked apart, after every ranked unit, unranked, marked
    data = collect(con, NOVEMBER, now=DEC_1_08)
    rows = data.ranking.rows
    groups = [r["group"] for r in rows]
    assert groups == sorted(groups, key=("ranked", "few_data", "no_data").index)
    mine = next(r for r in rows if r["unit_code"] == small)
    assert (mine["group"], mine["rank"], mine["few_data"]) == ("few_data", None, True)
    assert "ít dữ liệu" in mine["note"] and f"n = {n}" in mine["note"]
    ranked = [r for r in rows if r["group"] == "ranked"]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r["n_on_time_rate"] >= 30 for r in ranked)
    rates = [r["on_time_rate"] for r in ranked]
    assert rates == sorted(rates)  # worst first, as the dashboard ranks
    assert next(r for r in rows if r["unit_code"] == large)["group"] == "ranked"
    # its own report has no rank for it; the chart shows it apart, grey, labelled
    ward = collect(con, NOVEMBER, unit_code=small, now=DEC_1_08)
    assert ward.ranks["on_time_rate"] is None
    fig = make_ranking_figure(data, "on_time_rate")
    labels = [y for tr in fig.data for y in tr.y]
    colours = [c for tr in fig.data for c in tr.marker.color]
    i = next(k for k, y in enumerate(labels) if f"({small}," in y)
    assert labels[i].startswith("– ") and "ít dữ liệu" in labels[i] and colours[i] == "#9e9e9e"
    assert i >= len(ranked)


def test_report_workbook_marks_few_data_without_colour(con, few_unit, tmp_path):
    small, _, _ = few_unit
    [xlsx] = build_report(con, NOVEMBER, tmp_path, unit_code=small, now=DEC_1_14, formats=("xlsx",), charts=False)
    wb = openpyxl.load_workbook(xlsx)
    sheet = [list(r) for r in wb["Xếp hạng phường xã"].iter_rows()]
    head_i = next(i for i, r in enumerate(sheet) if r[0].value == "Hạng")
    head = [c.value for c in sheet[head_i]]
    row = next(r for r in sheet[head_i + 1:] if r[head.index("Mã")].value == small)
    assert row[head.index("Hạng")].value is None and "ít dữ liệu" in row[head.index("Ghi chú")].value
    targets = [list(r) for r in wb["Mục tiêu NQ57"].iter_rows()]
    t_head_i = next(i for i, r in enumerate(targets) if r[0].value == "Mã")
    t_head = [c.value for c in targets[t_head_i]]
    on_time = next(r for r in targets[t_head_i + 1:] if r[0].value == "on_time_rate")
    assert on_time[t_head.index("Ít dữ liệu (11/2026)")].value == "ít dữ liệu"
    codes = [r[0].value for r in targets[t_head_i + 1:]]
    assert "satisfaction_online" in codes
    for r in targets[t_head_i + 1:]:
        status = r[t_head.index("Trạng thái")]
        if status.value and ("Ít dữ liệu" in status.value or "Tạm tính" in status.value):
            assert status.fill.fgColor.rgb in (None, "00000000")  # not judged: no status colour


def test_cli_command_at_the_frozen_clock(wh):
    """`python app.py kpis` on the warehouse at R57_NOW = 1 December 14:00: November by default; the
    month to date with --period current, partial, with its as_of."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "R57_DATA_DIR": str(wh[0].data_dir), "R57_NOW": "2026-12-01T14:00"}

    def run(*args: str) -> list[dict]:
        out = subprocess.run([sys.executable, str(root / "app.py"), "kpis", "--warehouse", str(wh[0].warehouse),
                              "--format", "json", *args], cwd=root, env=env, capture_output=True, text=True,
                             check=True, timeout=120).stdout
        return json.loads(out)

    rows = run()
    assert {(r["period"], r["partial"]) for r in rows} == {(NOVEMBER, False)}
    current = [r for r in run("--period", "current", "--unit", "00073") if r["kpi"] == "on_time_rate"]
    assert [(r["period"], r["partial"], r["as_of"], r["status"]) for r in current] == [
        ("2026-12", True, "2026-12-01T14:00:00", "partial")]
