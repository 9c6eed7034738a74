"""Exports never hand a spreadsheet a formula, and the data-health page survives NULLs in quarantine.

Text in the warehouse comes from outside (procedure codes, dossier ids, file names, bad values). A CSV cell
starting with = + - @ tab or CR gets a leading ' ; every .xlsx (API, dashboard downloads, monthly reports)
stores such text as a string (openpyxl data_type 's', never 'f'), with its value unchanged.

The quarantine rows are INSERTed directly (as an .xlsx with merged cells leaves them: NULL record ids and
values), so these tests depend on neither the ingest rules nor the `raw` column.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import datetime

import openpyxl
import pandas as pd
import pytest
from flask import Flask

import api
import metrics
from config import load_settings
from dashboard import downloads, ids
from dashboard.views import health as health_view
from exports import csv_bytes, neutralised, xlsx_bytes
from warehouse.db import Reader, open_writer, publish_snapshot

NOW = datetime(2026, 11, 3, 10, 0)
LINK = '=HYPERLINK("http://x","click")'
XSS = "<script>alert(1)</script>"
DANGEROUS = [LINK, "+1+2", "-1+2", "@SUM(A1:A2)", "\tcmd", "\rcmd"]


def cell_types(content: bytes) -> dict[str, tuple[str, object]]:
    """Every text-bearing cell of every sheet: 'Sheet!A1' -> (data_type, value)."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return {f"{ws.title}!{c.coordinate}": (c.data_type, c.value)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def assert_stored_as_text(content: bytes, values: list[str]) -> None:
    cells = cell_types(content)
    for value in values:
        found = [(where, kind) for where, (kind, v) in cells.items() if v == value]
        assert found, f"{value!r} is not in the workbook as it was"
        assert all(kind == "s" for _, kind in found), (value, found)
    assert not [where for where, (kind, _) in cells.items() if kind == "f"], "a formula cell"


def csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# --- the helper ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", DANGEROUS)
def test_text_that_would_run_gets_a_quote(value):
    assert neutralised(value) == "'" + value


@pytest.mark.parametrize("value", ["HN-HT-001", "Phường Cửa Nam", "a=b", "", " =x", -3, -2.5, 0, None, 12.0])
def test_anything_else_is_left_as_it_is(value):
    assert neutralised(value) == value


def test_csv_quotes_text_but_keeps_negative_numbers_numbers():
    df = pd.DataFrame({"code": DANGEROUS + ["HN-HT-001"], "change": [-1.5, -2, 3, None, 0, -0.1, 4]})
    rows = csv_cells(csv_bytes(df))
    assert rows[0] == ["code", "change"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in DANGEROUS] + ["HN-HT-001"]
    assert [r[1] for r in rows[1:]] == ["-1.5", "-2.0", "3.0", "", "0.0", "-0.1", "4.0"]


def test_xlsx_stores_formula_like_text_and_links_as_strings():
    df = pd.DataFrame({"code": DANGEROUS + ["http://example.org/x"], "change": [-1.5, -2, 3, None, 0, -0.1, 4]})
    content = xlsx_bytes({"T": df}, {"period": LINK}, None, NOW, "=1+1")
    assert_stored_as_text(content, [LINK, "+1+2", "-1+2", "@SUM(A1:A2)", "=1+1", "http://example.org/x"])
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert all(c.hyperlink is None for row in wb["T"].iter_rows() for c in row)
    changes = [r[1] for r in wb["T"].iter_rows(min_row=2, values_only=True)]
    assert changes[:3] == [-1.5, -2, 3] and changes[5] == -0.1  # numbers stay numbers


# --- the API's exports -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """A warehouse with reference data and, in quarantine, NULLs, a formula and markup."""
    tmp = tmp_path_factory.mktemp("exports-safety")
    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    rows = [  # run_id, file_name, line, record_id, reason_code, column_name, bad_value
        (1, "merged-cells.xlsx", 3, None, "unknown_unit", "unit_code", None),
        (1, "merged-cells.xlsx", 4, "D-4", "bad_rating", None, None),
        (1, None, None, None, "missing_value", None, None),
        (2, LINK, 2, LINK, "bad_rating", "rating", LINK),
        (2, "xss.csv", 5, XSS, "unknown_unit", "unit_code", "<img src=x onerror=alert(1)>"),
        (2, "xss.csv", 6, "D-6", "bad_rating", "rating", "9"),
    ]
    con.executemany("INSERT INTO quarantine (run_id, source, file_name, line, record_id, reason_code, column_name, "
                    "bad_value, quarantined_at) VALUES (?, 'dossiers', ?, ?, ?, ?, ?, ?, TIMESTAMP '2026-11-02 09:00')",
                    rows)
    publish_snapshot(con, s)
    con.close()
    return s


@pytest.fixture(scope="module")
def con(settings):
    reader = Reader(settings)
    cur = reader.cursor()
    yield cur
    cur.close()
    reader.close()


def test_api_exports_neutralise_text(settings, monkeypatch):
    """values.csv / values.xlsx of a frame whose procedure code is a formula (as a source system could send)."""
    real = metrics.query

    def with_bad_codes(con, *a, **k):
        df = real(con, ["received"], grain="month", periods="2026-10", units=["00073"])
        df["procedure_code"] = LINK
        df["change"] = -3.0
        return df

    monkeypatch.setattr(metrics, "query", with_bad_codes)
    app = Flask("exports-safety")
    api.register(app, settings, Reader(settings))
    c = app.test_client()
    rows = csv_cells(c.get("/api/v1/values.csv?kpi=received&period=2026-10&unit=00073").data)
    head, first = rows[0], rows[1]
    assert first[head.index("procedure_code")] == "'" + LINK
    assert first[head.index("change")] == "-3.0"
    content = c.get("/api/v1/values.xlsx?kpi=received&period=2026-10&unit=00073").data
    assert_stored_as_text(content, [LINK])
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sheet = list(wb["KPI"].iter_rows(values_only=True))
    assert sheet[1][sheet[0].index("change")] == -3


# --- the dashboard: the data-health page with NULLs, and its downloads --------------------------------

def test_health_views_read_null_quarantine_values(con):
    rows = health_view.quarantine(con, "vi")
    assert len(rows) == 6
    by_line = {r["line"]: r for r in rows}
    assert (by_line[3]["record"], by_line[3]["value"], by_line[3]["file"]) == ("", "", "merged-cells.xlsx")
    assert (by_line[4]["column"], by_line[4]["value"]) == ("", "")
    assert by_line[None]["file"] == "" and by_line[None]["record"] == ""
    assert by_line[5]["record"] == XSS and by_line[5]["value"] == "<img src=x onerror=alert(1)>"
    assert all(isinstance(r[k], str) for r in rows for k in ("file", "record", "reason", "column", "value"))
    assert not any(re.search(r"\bnan\b", r["reason"], re.I) for r in rows)  # NULL never shows as 'nan'
    _, table = health_view.reasons_view(con, "en")
    assert sum(r["rows"] for r in table.rows) == 6
    assert not any(re.search(r"\bnan\b", r["reason"], re.I) for r in table.rows)
    health_view.freshness(con, "vi", now=NOW)
    health_view.runs(con, "vi")


def test_health_downloads_neutralise_quarantine_text(con):
    table = health_view.quarantine_table("vi", health_view.quarantine(con, "vi"))
    rows = csv_cells(downloads.table_bytes(table, "csv", "vi", NOW))
    text = [c for r in rows[1:] for c in r]
    assert "'" + LINK in text and LINK not in text
    assert XSS in text  # markup is data here: a spreadsheet shows it as typed
    content = downloads.table_bytes(table, "xlsx", "vi", NOW, snapshot="wh-1.duckdb")
    assert_stored_as_text(content, [LINK, XSS])
    assert pd.read_parquet(io.BytesIO(downloads.table_bytes(table, "parquet", "vi", NOW))).shape[0] == 6


def test_dashboard_table_download_of_formula_like_cells():
    rows = [{"code": v, "n": -i} for i, v in enumerate(DANGEROUS)]
    table = downloads.Table("t", "Bảng", [downloads.Column("code", "Mã"), downloads.Column("n", "Số")], rows)
    csv_rows = csv_cells(downloads.table_bytes(table, "csv", "vi", NOW))
    assert [r[0] for r in csv_rows[1:]] == ["'" + v for v in DANGEROUS]
    assert [r[1] for r in csv_rows[1:]] == ["0", "-1", "-2", "-3", "-4", "-5"]
    assert_stored_as_text(downloads.table_bytes(table, "xlsx", "vi", NOW), DANGEROUS[:4])


@pytest.fixture(scope="module")
def app(settings):
    from dashboard.app import create_app

    app = create_app(settings, refresh_s=5)
    app.server.test_client().get("/")  # hands the pages' callbacks to this app
    return app


def _dispatch(app, outputs: list[tuple[object, str]], inputs: list, state: list, changed: list[str]):
    key = "...".join(f"{json.dumps(i, sort_keys=True, separators=(',', ':')) if isinstance(i, dict) else i}.{p}"
                      for i, p in outputs)
    key = f"..{key}.." if len(outputs) > 1 else key
    body = {"output": key, "outputs": [{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
            else {"id": outputs[0][0], "property": outputs[0][1]}, "inputs": inputs, "state": state,
            "changedPropIds": changed}
    resp = app.server.test_client().post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["response"]


def test_health_page_callback_fills_the_page_with_null_quarantine_values(app):
    outputs = [(ids.DH_FRESHNESS, "children"), (ids.DH_RUNS, "rowData"), (ids.DH_REASONS, "children"),
               (ids.DH_QUARANTINE, "rowData"), (downloads.store_id("health", "reasons"), "data")]
    out = _dispatch(app, outputs, [{"id": ids.LANG, "property": "data", "value": "vi"},
                                   {"id": ids.VERSION, "property": "data", "value": "v1"}], [],
                    [f"{ids.LANG}.data"])
    grid = out[ids.DH_QUARANTINE]["rowData"]
    assert len(grid) == 6, out  # the error fallback draws an empty grid
    assert {r["record"] for r in grid} >= {"", XSS, LINK}
    reasons_store = out[json.dumps(downloads.store_id("health", "reasons"), sort_keys=True, separators=(",", ":"))]
    assert len(reasons_store["data"]["rows"]) >= 3

    item = {"type": ids.DL, "page": "health", "table": "quarantine", "fmt": "xlsx"}
    state = [{"id": ids.LANG, "property": "data", "value": "vi"},
             [{"id": downloads.store_id("health", "reasons"), "property": "data", "value": reasons_store["data"]}],
             {"id": ids.DH_RUNS, "property": "virtualRowData", "value": None},
             {"id": ids.DH_RUNS, "property": "rowData", "value": []},
             {"id": ids.DH_QUARANTINE, "property": "virtualRowData", "value": grid},
             {"id": ids.DH_QUARANTINE, "property": "rowData", "value": grid}]
    sent = _dispatch(app, [(ids.DH_DOWNLOAD, "data")], [[{"id": item, "property": "n_clicks", "value": 1}]], state,
                     [json.dumps(item, sort_keys=True, separators=(",", ":")) + ".n_clicks"])
    content = base64.b64decode(sent[ids.DH_DOWNLOAD]["data"]["content"])
    assert_stored_as_text(content, [LINK, XSS])


# --- the monthly reports' workbook ------------------------------------------------------------------

def test_report_workbook_stores_text_never_formulas(con, tmp_path):
    from reports import collect
    from reports.data import Table
    from reports.xlsx import render_xlsx

    data = collect(con, "2026-10", now=NOW)
    oldest = data.overdue_oldest
    data.overdue_oldest = Table(oldest.key, oldest.title, oldest.columns, [
        {"dossier_id": LINK, "unit_code": "00073", "procedure_code": "@SUM(A1:A2)",
         "received_at": datetime(2026, 9, 1, 9), "effective_due_at": datetime(2026, 9, 5, 17),
         "working_days_overdue": 40}], oldest.note)
    data.targets.note = "=1+1"  # a note is merged across cells: written by xlsxwriter's generic write()
    path = render_xlsx(data, [], tmp_path / "report.xlsx")
    assert_stored_as_text(path.read_bytes(), [LINK, "@SUM(A1:A2)", "=1+1"])
