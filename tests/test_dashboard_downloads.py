"""Downloads and the reports page: files hold the numbers on screen, the .xlsx keeps Vietnamese, report files
are served from the reports folder only, reports are made in the background and listed.

On a small real warehouse (demo data through the real ingest), read from its snapshot; callbacks are called
the way the browser calls them (POST /_dash-update-component), so their pattern-matching inputs are real.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import sys
from datetime import UTC, datetime

import dash
import openpyxl
import pandas as pd
import pytest
from dash import html

import metrics
from config import load_settings
from dashboard import downloads, fmt, ids
from dashboard.views import health, kpi, overview, ward, wards
from dashboard.views import reports as reports_view
from warehouse.db import Reader

from .conftest import DEMO_NOW
from .dash_tree import text as card_text
from .dash_tree import walk

NOW = DEMO_NOW
WARD = "00073"
FORMATS = ("csv", "xlsx", "parquet")


@pytest.fixture(scope="module")
def settings(demo_warehouse, tmp_path_factory):
    """The shared, read-only demo warehouse (tests/conftest.py: 45 days of demo data ending NOW) with a data
    folder of this module's own, where its reports are written."""
    return dataclasses.replace(demo_warehouse, data_dir=tmp_path_factory.mktemp("dash-downloads"))


@pytest.fixture(scope="module")
def con(settings):
    reader = Reader(settings)
    cur = reader.cursor()
    yield cur
    cur.close()
    reader.close()


@pytest.fixture(scope="module")
def app(settings):
    from dashboard.app import create_app

    app = create_app(settings, refresh_s=5)
    app.server.test_client().get("/")  # hands the pages' callbacks to this app
    return app


def read(content: bytes, fmt_: str) -> pd.DataFrame:
    """A downloaded file back as a frame (the table's sheet of an .xlsx)."""
    if fmt_ == "csv":
        assert content.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 BOM (Excel reads Vietnamese)"
        return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=object, keep_default_na=False)
    if fmt_ == "parquet":
        return pd.read_parquet(io.BytesIO(content))
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb.worksheets[1]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def number(v) -> float | None:
    if v is None or v == "" or fmt.is_na(v):
        return None
    return float(v)


def decimals_of(col: dict) -> int:
    """The decimals a grid column shows (its R57num formatter)."""
    return int(re.search(r"R57num\(params\.value, (\d+)", col["valueFormatter"]["function"])[1])


# --- the files hold the numbers on screen -------------------------------------------------------------

def test_wards_grid_download_equals_the_grid_on_screen(con) -> None:
    """Every number in the CSV, the .xlsx and the Parquet file is the grid's number as its column shows it."""
    rows, pinned = wards.rows(con, "vi", "2026-03", now=NOW)
    shown = rows[::-1][:40] + pinned  # as the grid shows them: sorted and filtered in the browser, then pinned
    table = wards.table("vi", shown, "2026-03", "all", "Phường")
    defs = {c["field"]: c for c in wards.column_defs("vi")}
    for fmt_ in FORMATS:
        df = read(downloads.table_bytes(table, fmt_, "vi", NOW), fmt_)
        assert len(df) == len(shown)
        assert list(df["Mã"]) == [r["code"] for r in shown]  # the screen's order, the departments' row last
        assert df["Đơn vị"].iloc[-1] == "Sở, ngành thành phố"
        checked = 0
        for col in table.columns:
            if col.field not in defs or "valueFormatter" not in defs[col.field]:
                continue
            d = decimals_of(defs[col.field])
            assert col.header == defs[col.field]["headerName"]
            for value, row in zip(df[col.header], shown, strict=True):
                on_screen = row.get(col.field)
                if on_screen is None:
                    assert number(value) is None
                    continue
                assert number(value) == round(float(on_screen), d), (fmt_, col.field, row["code"])
                assert fmt.number(number(value), d, "vi") == fmt.number(on_screen, d, "vi")
                checked += 1
        assert checked > 300, fmt_
        assert set(df["Trạng thái đúng hạn"]) <= {r["status_label"] for r in shown}


def cells(component) -> list[list[str]]:
    """The text of each body row's cells of an html.Table (what the screen shows)."""
    def words(c) -> str:
        if isinstance(c, str | int | float):
            return str(c)
        if isinstance(c, list | tuple):
            return " ".join(words(x) for x in c if x is not None)
        return words(getattr(c, "children", None) or "")

    table = next(c for c in walk(component) if isinstance(c, html.Table))
    body = next(c for c in table.children if isinstance(c, html.Tbody))
    return [[words(td) for td in tr.children] for tr in body.children]


def test_ward_kpi_table_download_equals_the_html_table(con) -> None:
    """The ward's KPI table: the unit's, the city's value, the target and the change in the file are the ones
    the table writes (same query, rounded by exports.rounded)."""
    component, table = ward.kpi_view(con, WARD, "vi", "2026-03", now=NOW)
    screen = cells(component)
    assert len(screen) == len(table.rows) == len(ward.WARD_KPIS)  # coverage_5g among them (display.show ward), at its latest publication
    stored = downloads.Table.from_store(json.loads(json.dumps(table.to_store())))  # through the browser's store
    for fmt_ in FORMATS:
        df = read(downloads.table_bytes(stored, fmt_, "vi", NOW), fmt_)
        for (name, unit_cell, city_cell, target_cell, _status, change_cell), rec in zip(
                screen, df.to_dict("records"), strict=True):
            unit_word, k = rec["Đơn vị tính"], metrics.get_registry().kpi(rec["Mã chỉ tiêu"])  # its display decimals
            assert rec["Chỉ tiêu"] == name
            assert unit_cell.startswith(fmt.value(number(rec["Phường Cửa Nam (00073)"]), unit_word, "vi", kpi=k))
            assert city_cell == fmt.value(number(rec["Toàn thành phố"]), unit_word, "vi", kpi=k)
            if number(rec["Mục tiêu"]) is not None:
                assert target_cell == f"{rec['So sánh']} {fmt.value(number(rec['Mục tiêu']), unit_word, 'vi')}"
            if number(rec["Thay đổi so với kỳ trước"]) is not None:
                assert change_cell == fmt.change(number(rec["Thay đổi so với kỳ trước"]), unit_word, "vi", kpi=k)
        on_time = df[df["Mã chỉ tiêu"] == "on_time_rate"].iloc[0]
        q = metrics.query(con, "on_time_rate", grain=None, periods="2026-03", units=WARD, now=NOW).iloc[0]
        assert number(on_time["Phường Cửa Nam (00073)"]) == round(float(q["value"]), 1)
        assert number(on_time["Tử số"]) == q["numerator"] and number(on_time["Mẫu số"]) == q["denominator"]


def test_xlsx_opens_with_openpyxl_vietnamese_intact(con) -> None:
    _, table = ward.kpi_view(con, WARD, "vi", "2026-03", now=NOW)
    wb = openpyxl.load_workbook(io.BytesIO(downloads.table_bytes(table, "xlsx", "vi", NOW, demo=True,
                                                                 snapshot="wh-1.duckdb")))
    assert wb.sheetnames == ["Bìa", "Chỉ tiêu của đơn vị so với"]  # 31 characters at most, cut at a word
    cover = [[c for c in row if c is not None] for row in wb["Bìa"].iter_rows(values_only=True)]
    text = " | ".join(str(c) for row in cover for c in row)
    assert cover[0] == ["Nghị quyết 57 · Hà Nội — Chỉ tiêu của đơn vị so với thành phố và mục tiêu"]
    assert "DỮ LIỆU MẪU" in text and "16/03/2026 12:00" in text
    assert ["Đơn vị", "Phường Cửa Nam (00073)"] in cover and ["Kỳ", "Tháng 03/2026 — tạm tính đến 16/03"] in cover  # the month to date, labelled
    assert ["Bản sao dữ liệu", "wh-1.duckdb"] in cover
    assert "Làm tròn: % và ngày làm việc 1 chữ số thập phân" in text
    definition = next(row for row in cover if row and row[0] == "on_time_rate")
    assert definition[1] == "Tỷ lệ hồ sơ giải quyết đúng hạn" and "Hồ sơ hoàn thành trong kỳ" in definition[2]
    assert "Quyết định 766/QĐ-TTg" in definition[-1]
    sheet = list(wb.worksheets[1].iter_rows(values_only=True))
    assert sheet[0][:4] == ("Mã chỉ tiêu", "Chỉ tiêu", "Kỳ", "Phường Cửa Nam (00073)")
    rec = next(r for r in sheet if r[0] == "received")  # rows in kpis.yaml's order (display.show: ward)
    assert ("received", "Hồ sơ tiếp nhận") == rec[:2] and rec[4] == "hồ sơ"
    # English: English words, the same numbers
    _, en = ward.kpi_view(con, WARD, "en", "2026-03", now=NOW)
    wb_en = openpyxl.load_workbook(io.BytesIO(downloads.table_bytes(en, "xlsx", "en", NOW)))
    assert wb_en.sheetnames[0] == "Cover"
    assert [r[3] for r in list(wb_en.worksheets[1].iter_rows(values_only=True))[1:]] == [r[3] for r in sheet[1:]]


def test_every_page_table_downloads(con) -> None:
    """The other tables: targets, ranking, trend, 766 components, overdue, procedures, health lists."""
    targets = overview.targets_table(overview.target_rows(con, now=NOW), "en")
    ranking = overview.ranking_table(overview.unit_frame(con, "on_time_rate", "vi", now=NOW), "on_time_rate", "vi")
    _, trend = kpi.trend_view(con, "on_time_rate", WARD, "month", "vi", now=NOW)
    *_, index = ward.index_766_view(con, WARD, "vi", "2026-03", now=NOW)
    overdue_rows, _ = ward.overdue(con, WARD, "vi", now=NOW)
    procs = ward.procedures(con, WARD, "vi", "2026-03", now=NOW)
    tables = [targets, ranking, trend, index, ward.overdue_table("vi", overdue_rows, WARD),
              ward.procedures_table("vi", procs, WARD, "2026-03"), health.runs_table("vi", health.runs(con, "vi")),
              health.reasons_view(con, "vi")[1], health.quarantine_table("vi", health.quarantine(con, "vi"))]
    for table in tables:
        df = read(downloads.table_bytes(table, "csv", "vi", NOW), "csv")
        assert len(df) == len(table.rows), table.key
    assert len(ranking.rows) == 126 and ranking.rows[0]["rank"] == 1
    first = read(downloads.table_bytes(ranking, "parquet", "vi", NOW), "parquet").iloc[0]
    assert first["Mã"] == ranking.rows[0]["code"]
    assert first["Tỷ lệ hồ sơ giải quyết đúng hạn (%)"] == round(ranking.rows[0]["value"], 1)
    cards = {r["kpi"]: r for r in overview.target_rows(con, now=NOW)}
    sat = read(downloads.table_bytes(targets, "csv", "en", NOW), "csv").set_index("KPI code").loc["satisfaction"]
    assert sat["Value"] == fmt.number(cards["satisfaction"]["value"], 1, "en")
    assert sat["Denominator"] == str(int(cards["satisfaction"]["denominator"]))  # exact count of ratings
    scores = read(downloads.table_bytes(index, "csv", "vi", NOW), "csv")["Điểm"]
    assert all(len(s.split(".")[-1]) <= 2 for s in scores if s)  # points: 2 decimals, as on screen


def test_targets_file_equals_the_cards(con) -> None:
    """Each card's value, target, change and projection are the file's, written as the card writes them."""
    rows = overview.target_rows(con, now=NOW)
    cards = overview.cards(con, "vi", now=NOW, rows=rows)
    df = read(downloads.table_bytes(overview.targets_table(rows, "vi"), "parquet", "vi", NOW), "parquet")
    for card, rec in zip(cards, df.to_dict("records"), strict=True):
        words, unit = card_text(card), rec["Đơn vị tính"]
        for col in ("Giá trị", "Mục tiêu", "Dự báo đến hạn"):
            if number(rec[col]) is not None:
                assert fmt.value(number(rec[col]), unit, "vi", with_unit=False) in words, (rec["Mã chỉ tiêu"], col)
        if number(rec["Thay đổi so với kỳ trước"]) is not None:
            assert fmt.change(number(rec["Thay đổi so với kỳ trước"]), unit, "vi") in words


def test_a_projected_count_is_written_as_the_card_writes_it() -> None:
    row = {"kpi": "strategic_tech_products", "period": "2026", "value": 3.0, "target": 5.0, "target_comparison": ">=",
           "target_deadline": "2026-12-31", "status": "limited", "projected": 3.1}
    table = overview.targets_table([row], "vi", codes=["strategic_tech_products"])
    projected = downloads.frame(table)["Dự báo đến hạn"].iloc[0]
    assert fmt.value(projected, "sản phẩm", "vi") == fmt.value(3.1, "sản phẩm", "vi")  # '3,1 sản phẩm'


def test_file_names_and_rounding_rule() -> None:
    table = downloads.Table("phuong-xa", "Phường, xã", [downloads.Column("v", "V", "%"),
                                                       downloads.Column("n", "N", "hồ sơ"),
                                                       downloads.Column("p", "P", "điểm"),
                                                       downloads.Column("x", "X")],
                            [{"v": 93.149, "n": 12.0, "p": 72.746, "x": 3.0}, {"v": None, "n": None, "p": 1, "x": "a"}],
                            stem="2026-Q1 Cửa Nam")
    assert downloads.filename(table, "csv", NOW) == "r57-phuong-xa-2026-q1-cua-nam-20260316-1200.csv"
    df = downloads.frame(table)  # % 1 decimal, counts whole, points 2 decimals; other columns as they are
    assert df["V"].tolist() == [93.1, None] and df["N"].tolist() == [12, None] and df["X"].tolist() == [3, "a"]
    assert df["P"].tolist() == [72.75, 1.0]
    assert downloads.table_bytes(table, "csv", "vi", NOW).decode("utf-8-sig").splitlines() == [
        "V,N,P,X", "93.1,12,72.75,3", ",,1.0,a"]
    with pytest.raises(ValueError):
        downloads.table_bytes(table, "pdf", "vi", NOW)


# --- the callbacks, as the browser calls them -------------------------------------------------------------

def dispatch(app, output: str, inputs: list, state: list, changed: list[str]):
    body = {"output": output, "outputs": {"id": output.rsplit(".", 1)[0], "property": output.rsplit(".", 1)[1]},
            "inputs": inputs, "state": state, "changedPropIds": changed}
    resp = app.server.test_client().post("/_dash-update-component", json=body)
    return resp.status_code, (resp.get_json() if resp.status_code == 200 else None)


def click(item: dict) -> tuple[list, list[str]]:
    return [[{"id": item, "property": "n_clicks", "value": 1}]], [json.dumps(item, sort_keys=True,
                                                                            separators=(",", ":")) + ".n_clicks"]


def test_wards_download_callback_sends_the_grid_rows(app, con) -> None:
    rows, pinned = wards.rows(con, "vi", "2026-03", now=NOW)
    item = {"type": ids.DL, "page": "wards", "table": "wards", "fmt": "csv"}
    inputs, changed = click(item)
    state = [{"id": ids.LANG, "property": "data", "value": "vi"},
             {"id": ids.WD_GRID, "property": "virtualRowData", "value": rows[:5]},
             {"id": ids.WD_GRID, "property": "rowData", "value": rows},
             {"id": ids.WD_GRID, "property": "dashGridOptions", "value": {"pinnedBottomRowData": pinned}},
             {"id": ids.WD_PERIOD, "property": "value", "value": "2026-03"},
             {"id": ids.WD_TYPE, "property": "value", "value": "all"},
             {"id": ids.WD_SEARCH, "property": "value", "value": "Ba"}]
    status, out = dispatch(app, f"{ids.WD_DOWNLOAD}.data", inputs, state, changed)
    assert status == 200
    sent = out["response"][ids.WD_DOWNLOAD]["data"]
    assert re.fullmatch(r"r57-phuong-xa-2026-03-\d{8}-\d{4}\.csv", sent["filename"])
    df = read(base64.b64decode(sent["content"]), "csv")
    assert list(df["Mã"]) == [r["code"] for r in rows[:5]] + ["01"]  # the filtered rows, then the pinned one
    # a menu that appears (no click) sends nothing
    status, out = dispatch(app, f"{ids.WD_DOWNLOAD}.data", [[{"id": item, "property": "n_clicks", "value": None}]],
                           state, changed)
    assert status == 204 or out["response"] == {}


def test_ward_download_callback_sends_a_stored_table(app, con) -> None:
    _, table = ward.kpi_view(con, WARD, "vi", "2026-03", now=NOW)
    item = {"type": ids.DL, "page": "ward", "table": "kpis", "fmt": "xlsx"}
    inputs, changed = click(item)
    stores = [{"id": downloads.store_id("ward", "kpis"), "property": "data", "value": table.to_store()},
              {"id": downloads.store_id("ward", "index"), "property": "data", "value": None}]
    state = [{"id": ids.LANG, "property": "data", "value": "vi"}, stores,
             {"id": ids.WU_OVERDUE_GRID, "property": "virtualRowData", "value": None},
             {"id": ids.WU_OVERDUE_GRID, "property": "rowData", "value": []},
             {"id": ids.WU_PROCS, "property": "virtualRowData", "value": None},
             {"id": ids.WU_PROCS, "property": "rowData", "value": []},
             {"id": ids.WU_UNIT, "property": "value", "value": WARD},
             {"id": ids.WU_PERIOD, "property": "value", "value": "2026-03"},
             {"id": ids.WU_DUE_GRID, "property": "virtualRowData", "value": None},
             {"id": ids.WU_DUE_GRID, "property": "rowData", "value": []}]
    status, out = dispatch(app, f"{ids.WU_DOWNLOAD}.data", inputs, state, changed)
    assert status == 200
    sent = out["response"][ids.WU_DOWNLOAD]["data"]
    assert sent["filename"].endswith(".xlsx") and "00073-2026-03" in sent["filename"]
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    assert wb.sheetnames[0] == "Bìa" and wb.worksheets[1]["B2"].value == "Tỷ lệ hồ sơ giải quyết đúng hạn"


def test_every_page_has_download_menus_and_labels_follow_the_language(app) -> None:
    expected = {"overview": {"targets", "ranking"}, "wards": {"wards"},
                "ward": {"kpis", "index", "due", "overdue", "procs", ids.WU_TREND, ids.WU_CHANNELS},
                "kpi": {"trend", "units"}, "economy": {"targets", "coverage"},
                "health": {"runs", "reasons", "quarantine"}, "reports": {"list"}}
    with app.server.test_request_context("/"):
        for page, names in expected.items():
            layout = sys.modules[f"dashboard.pages.{page}"].layout()
            menus = {c.id["name"] for c in walk(layout) if isinstance(getattr(c, "id", None), dict)
                     and c.id.get("type") == ids.DL_MENU}
            assert menus == names, page
    images = {c.id["graph"] for c in walk(sys.modules["dashboard.pages.ward"].layout())
              if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == ids.DL_IMAGE}
    assert images == {ids.WU_INDEX, ids.WU_TREND, ids.WU_CHANNELS}
    menus = [{"type": ids.DL_MENU, "page": "ward", "name": n} for n in ("kpis", ids.WU_TREND)]
    key = next(k for k in app.callback_map if f'"type":"{ids.DL_MENU}"' in k.replace(" ", ""))
    body = {"output": key, "outputs": [{"id": m, "property": "label"} for m in menus],
            "inputs": [{"id": ids.LANG, "property": "data", "value": "en"}], "state": [],
            "changedPropIds": [f"{ids.LANG}.data"]}
    resp = app.server.test_client().post("/_dash-update-component", json=body)
    assert resp.status_code == 200
    labels = [v["label"] for v in resp.get_json()["response"].values()]
    assert labels == ["Download", "Download"]


# --- the reports page -----------------------------------------------------------------------------------

def test_report_file_route_serves_reports_only(app, settings) -> None:
    folder = settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bao-cao-thang-2026-02-thanh-pho.pdf").write_bytes(b"%PDF-1.4 report")
    (folder / ".bao-cao.pdf.tmp").write_bytes(b"half")
    (folder.parent / "secret.pdf").write_bytes(b"not a report")
    (folder / "link.pdf").symlink_to(folder.parent / "secret.pdf")
    client = app.server.test_client()
    ok = client.get("/reports/files/bao-cao-thang-2026-02-thanh-pho.pdf")
    assert ok.status_code == 200 and ok.data == b"%PDF-1.4 report"
    assert "attachment" in ok.headers["Content-Disposition"]
    for bad in ("..%2Fsecret.pdf", "%2E%2E%2Fsecret.pdf", "../secret.pdf", "link.pdf", "manifest.json",
                ".bao-cao.pdf.tmp", "sub%2F..%2F..%2Fsecret.pdf", "nope.pdf", "%2Fetc%2Fpasswd"):
        resp = client.get(f"/reports/files/{bad}")
        assert resp.status_code == 404 or b"not a report" not in resp.data, bad
        assert b"not a report" not in resp.data, bad
    for name in ("../secret.pdf", "..", "/etc/passwd", "link.pdf", "manifest.json", "a/../secret.pdf", ""):
        assert reports_view.file_path(settings, name) is None, name
    assert reports_view.file_path(settings, "bao-cao-thang-2026-02-thanh-pho.pdf") is not None


def test_reports_made_in_the_background_and_listed(app, settings) -> None:
    """The form queues a report and returns at once; the list shows it running, then done with its files; a
    failing run shows its error; the Excel file is served."""
    import threading

    from reports.jobs import run_one

    gate = threading.Event()

    def run(s, month, unit, lang):  # the real run, without charts or PDF (fast), after the page has looked
        gate.wait(10)
        run_one(s, month, unit, lang, now=NOW, formats=("xlsx",), charts=False, attempts=1, backoff_s=0,
                reader_factory=Reader(s).cursor)

    rid = reports_view.request(settings, "2026-02", WARD, "vi", run=run)
    assert rid == "2026-02/00073/vi"
    assert reports_view.request(settings, "2026-02", WARD, "vi", run=run) == rid  # not queued twice
    started = {"id": rid, "at": "2026-01-01T00:00:00"}
    rows = reports_view.rows(settings, "vi")
    assert rows[0]["id"] == rid and rows[0]["status_label"] == "Đang chờ…" and reports_view.busy(settings)
    assert reports_view.message(settings, started, "vi").startswith("Đang tạo… báo cáo Tháng 02/2026 — Phường Cửa Nam")
    gate.set()
    assert reports_view.wait_idle(30)
    assert not reports_view.busy(settings)
    done = next(r for r in reports_view.rows(settings, "vi") if r["id"] == rid)
    assert (done["status_label"], done["attempts"], done["error"]) == ("Xong", 1, "")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", done["generated"])
    assert [f["label"] for f in done["files"]] == ["Excel"]
    assert reports_view.message(settings, started, "vi").startswith("Đã tạo xong báo cáo Tháng 02/2026")
    resp = app.server.test_client().get(done["files"][0]["href"])
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames  # a real workbook

    # a run that fails: recorded with its error, shown in the list
    failing = reports_view.request(settings, "2026-01", "01", "en",
                                   run=lambda s, m, u, lang: run_one(s, m, u, lang, now=NOW, attempts=1, backoff_s=0,
                                                                     charts=False, reader_factory=lambda: None))
    assert reports_view.wait_idle(30)
    row = next(r for r in reports_view.rows(settings, "en") if r["id"] == failing)
    assert row["status_label"] == "Failed" and "no warehouse snapshot" in row["error"] and row["files"] == []
    assert row["unit"] == "Whole city" and row["lang"] == "English"
    listed = reports_view.table("vi", reports_view.rows(settings, "vi"))
    df = read(downloads.table_bytes(listed, "csv", "vi", NOW), "csv")
    assert set(df["Trạng thái"]) == {"Xong", "Lỗi"}


def test_reports_page_callbacks(app, settings, tmp_path) -> None:
    page = sys.modules["dashboard.pages.reports"]
    with app.server.test_request_context("/"):
        assert page.make(1, "1999-01", "01", "vi") == {"id": None, "error": "bad_choice"}
        rows, empty, note, disabled, _ = page.fill("vi", None, 0, {"id": None, "error": "bad_choice"})
        assert note.startswith("Chọn tháng") and disabled is True
        months = reports_view.month_options(datetime(2026, 11, 22).date(), "vi")
        assert months[0] == {"label": "Tháng 10/2026", "value": "2026-10"} and len(months) == 12
    # an empty reports folder says when reports are made
    from dashboard.app import create_app

    empty_app = create_app(load_settings(data_dir=tmp_path, warehouse=settings.warehouse))
    with empty_app.server.test_request_context("/"):
        rows, empty, note, disabled, style = page.fill("vi", None, 0, None)
    words = " ".join(c.children for c in walk(empty) if isinstance(getattr(c, "children", None), str))
    assert rows == [] and "07:00 ngày 1 hằng tháng" in words and "tạo ngay tại đây" in words
    assert note == "" and disabled is True and style == {"display": "none"}


# --- chart images: made on the server, as the reports' charts ------------------------------------------

def _pixels(png: bytes):
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    return img.convert("RGBA"), img


def test_chart_image_callback_sends_an_opaque_titled_png_named_in_hanoi_time(app, con, monkeypatch) -> None:
    """The PNG item: the browser sends the figure on screen; the file is white (no transparent pixel), has the
    export's title and source line, and is named by presentation.files in Hanoi time; the download is audited."""
    import access.web
    import config
    from presentation import charts

    fig = ward.trend_figure(con, WARD, "on_time_rate", "vi", now=NOW)
    request = {"graph": ids.WU_TREND, "fmt": "png", "figure": json.loads(fig.to_json()), "page": "ward",
               "title": "Xu hướng: Tỷ lệ hồ sơ giải quyết đúng hạn", "width": 700, "height": 380, "at": 1}
    seen, audits = {}, []
    real = charts.for_export

    def spy(f, *a, **kw):
        seen["fig"] = real(f, *a, **kw)
        return seen["fig"]

    monkeypatch.setattr(downloads, "for_export", spy)
    monkeypatch.setattr(access.web, "audit", lambda action, **kw: audits.append((action, kw)))
    before = datetime.now(config.TZ).replace(tzinfo=None)
    status, out = dispatch(app, f"{ids.IMAGE_DOWNLOAD}.data",
                           [{"id": ids.IMAGE_SINK, "property": "data", "value": request}],
                           [{"id": ids.LANG, "property": "data", "value": "vi"}], [f"{ids.IMAGE_SINK}.data"])
    after = datetime.now(config.TZ).replace(tzinfo=None)
    assert status == 200
    sent = out["response"][ids.IMAGE_DOWNLOAD]["data"]
    assert sent["type"] == "image/png"
    m = re.fullmatch(r"r57-wu-trend-(\d{8}-\d{4})\.png", sent["filename"])
    assert m and m[1] in {f"{before:%Y%m%d-%H%M}", f"{after:%Y%m%d-%H%M}"}, sent["filename"]
    rgba, img = _pixels(base64.b64decode(sent["content"]))
    assert rgba.getchannel("A").getextrema() == (255, 255)       # opaque: no transparent pixel
    assert rgba.getpixel((2, 2))[:3] == (255, 255, 255)            # a white corner
    assert rgba.getpixel((img.width - 3, img.height - 3))[:3] == (255, 255, 255)
    assert img.width >= 2 * downloads.MIN_WIDTH                    # widened for a file, at scale 2
    dressed = seen["fig"]
    assert dressed.layout.paper_bgcolor == "#ffffff" and dressed.layout.plot_bgcolor == "#ffffff"
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in dressed.layout.title.text and "%" in dressed.layout.title.text
    assert re.search(r"\d{2}/\d{4}–\d{2}/\d{4}", dressed.layout.title.text)   # the period the axis spans
    assert any((a.text or "").startswith("Nguồn:") and "dữ liệu đến" in a.text for a in dressed.layout.annotations)
    assert audits == [("export", {"target": f"ward/{ids.WU_TREND}.png"})]


def test_chart_image_svg_and_names_in_hanoi_time(con) -> None:
    """SVG through kaleido too; the name's time is Hanoi's whatever clock zone `now` comes in."""

    fig = ward.channel_figure(con, WARD, "en", "2026-03", now=NOW)
    utc = datetime(2026, 3, 16, 20, 30, tzinfo=UTC)       # 03:30 on the 17th in Hanoi
    content, name, err = downloads.chart_file(json.loads(fig.to_json()), ids.WU_CHANNELS, "svg", "en",
                                              "Channels", now=utc, as_of=NOW)
    assert err is None and content.lstrip().startswith(b"<svg")
    assert name == "r57-wu-channels-20260317-0330.svg"
    assert b"Source:" in content and (b"#ffffff" in content.lower() or b"rgb(255, 255, 255)" in content)
    dressed = downloads.export_figure(json.loads(fig.to_json()), ids.WU_CHANNELS, "en", "Channels", as_of=NOW)
    assert downloads.value_axis(dressed) == "x" and dressed.layout.xaxis.title.text == "%"


def test_chart_image_request_refuses_nonsense(app) -> None:
    with app.server.test_request_context("/"):
        for bad in (None, {}, {"graph": "wu-trend", "fmt": "gif"}, {"fmt": "png"}):
            assert downloads.send_image(bad, "vi") is dash.no_update
