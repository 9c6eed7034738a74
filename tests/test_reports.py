"""Monthly reports: the PDF renders (pdftoppm), the .xlsx keeps Vietnamese, numbers equal metrics.query.

A small real warehouse: 60 days of seeded demo dossiers (300 a day) loaded through the real ingest,
published as a snapshot; NOW is Tuesday 3 November 2026, 10:00 Hanoi time, so the report month is 2026-10.
The target table is `metrics.standing` on 1 November (JUDGED): what the overview shows on the 1st.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

import metrics
import metrics.cli
from presentation import fmt
from reports import build_report, collect
from reports.charts import chart_session
from reports.fmt import fmt_value

from .conftest import REPORT_NOW

NOW = REPORT_NOW   # the shared report warehouse (tests/conftest.py) ends here
JUDGED = datetime(2026, 11, 1)  # the report month's end: the target table is the overview's standing then
MONTH = "2026-10"
ON_TIME = "Tỷ lệ hồ sơ giải quyết đúng hạn (%)"   # the ranking's columns: kpis.yaml display.show `ranking`
ONLINE = "Tỷ lệ hồ sơ trực tuyến (%)"
WARD = "00073"


@pytest.fixture(scope="module")
def city_files(report_warehouse, tmp_path_factory):
    _, reader = report_warehouse
    out = tmp_path_factory.mktemp("city")
    with chart_session():
        return build_report(reader.cursor(), MONTH, out, now=NOW)


@pytest.fixture(scope="module")
def ward_en_files(report_warehouse, tmp_path_factory):
    _, reader = report_warehouse
    out = tmp_path_factory.mktemp("ward")
    return build_report(reader.cursor(), MONTH, out, unit_code=WARD, lang="en", now=NOW, charts=False)


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                   reason="poppler-utils not installed")


def test_file_names_follow_the_month_and_unit(city_files, ward_en_files):
    assert [p.name for p in city_files] == ["bao-cao-thang-2026-10-thanh-pho.pdf", "bao-cao-thang-2026-10-thanh-pho.xlsx"]
    assert [p.name for p in ward_en_files] == ["bao-cao-thang-2026-10-00073-en.pdf", "bao-cao-thang-2026-10-00073-en.xlsx"]
    assert not list(city_files[0].parent.glob(".*.tmp"))


@needs_poppler
def test_pdf_renders_to_page_images(city_files, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(city_files[0]), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    # cover, targets, trend, 2 ranking charts, ranking table (3+ pages), overdue, definitions (2+ pages)
    assert len(pages) >= 9
    assert all(p.stat().st_size > 3000 for p in pages)
    # keep the cover and the targets page where a person can look at them after the run
    keep = Path(__file__).resolve().parent.parent / "test-artifacts" / "report-pages"
    keep.mkdir(parents=True, exist_ok=True)
    for p in pages[:4]:
        shutil.copy(p, keep / p.name)


@needs_poppler
def test_pdf_text_is_vietnamese_and_says_demo(city_files):
    text = _pdf_text(city_files[0])
    for phrase in ("BÁO CÁO THÁNG 10/2026 — THÀNH PHỐ HÀ NỘI", "DỮ LIỆU MẪU / DEMO DATA",
                   "Tỷ lệ hồ sơ giải quyết đúng hạn", "Phường Cửa Nam", "Kỳ báo cáo:", "01/10/2026 – 31/10/2026",
                   "10:00 03/11/2026 (giờ Hà Nội, UTC+7)", "Phụ lục: Định nghĩa chỉ tiêu", "Quyết định 766/QĐ-TTg"):
        assert phrase in text, phrase
    # a status is a word and a symbol, not a colour alone
    assert any(f"{sym} {word}" in text for sym, word in (("↓", "Đang xấu đi"), ("↗", "Cần đẩy nhanh"),
                                                         ("↑", "Đúng tiến độ"), ("✔", "Đã đạt")))


@needs_poppler
def test_pdf_numbers_equal_the_metrics_api(report_warehouse, city_files):
    _, reader = report_warehouse
    con = reader.cursor()
    q = metrics.query(con, ["on_time_rate", "received", "satisfaction"], periods=MONTH, now=NOW)
    month = {r["kpi"]: r for r in q.to_dict("records")}
    basis = {r["kpi"]: r for r in metrics.standing(con, ["on_time_rate", "satisfaction"], now=JUDGED)}
    text = _pdf_text(city_files[0])
    # the month's own value beside the year to date; 1 decimal, Vietnamese separators
    assert fmt_value(month["on_time_rate"]["value"], "%", "vi") in text
    assert fmt_value(basis["on_time_rate"]["value"], "%", "vi") in text
    assert "lũy kế 01/01/2026 –" in text and "31/10/2026" in text  # the basis: the year to date
    # numerator / denominator of the basis as integers with '.' thousands
    for kpi in ("on_time_rate", "satisfaction"):
        r = basis[kpi]
        assert f"{int(r['numerator']):,} / {int(r['denominator']):,}".replace(",", ".") in text, kpi


def _sheet_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _table(ws, header_first: str) -> list[dict]:
    rows = _sheet_rows(ws)
    i = next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    head = rows[i]
    return [dict(zip(head, r, strict=False)) for r in rows[i + 1:] if any(v is not None for v in r)]


def test_xlsx_opens_with_vietnamese_intact(city_files):
    wb = openpyxl.load_workbook(city_files[1])
    assert wb.sheetnames == ["Bìa", "Mục tiêu NQ57", "Xu hướng 12 tháng", "Xếp hạng phường xã",
                             "Quá hạn theo đơn vị", "Quá hạn lâu nhất"]
    cover = [v for r in _sheet_rows(wb["Bìa"]) for v in r if isinstance(v, str)]
    assert "DỮ LIỆU MẪU / DEMO DATA" in cover
    assert "BÁO CÁO THÁNG 10/2026 — THÀNH PHỐ HÀ NỘI" in cover
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in cover          # the definitions on the cover
    assert "Thành phố Hà Nội (toàn thành phố)" in cover          # the filters used
    assert any(v.startswith("Quy ước làm tròn") for v in cover)
    ranking = _table(wb["Xếp hạng phường xã"], "Hạng")
    assert len(ranking) == 126                                   # every ward/commune, city departments left out
    assert "01" not in {r["Mã"] for r in ranking}
    assert any(r["Phường, xã"] == "Phường Cửa Nam" for r in ranking)


def test_xlsx_numbers_equal_metrics_query(report_warehouse, city_files):
    _, reader = report_warehouse
    con = reader.cursor()
    wb = openpyxl.load_workbook(city_files[1])
    targets = {r["Mã"]: r for r in _table(wb["Mục tiêu NQ57"], "Mã")}
    kpis = ["on_time_rate", "satisfaction", "satisfaction_online", "service_coverage_full"]
    month = {r["kpi"]: r for r in metrics.query(con, kpis, periods=MONTH, now=NOW).to_dict("records")}
    for r in metrics.standing(con, kpis, now=JUDGED):
        got = targets[r["kpi"]]
        # the dashboard's period labels (presentation.fmt.period), never '2026-01-01..2026-10-31' or '2026-10'
        assert got["Kỳ"] == fmt.period(r["period"]) and got["Kỳ đánh giá"].startswith("lũy kế")
        assert got["Giá trị"] == (None if r["value"] is None else round(r["value"], 1)), r["kpi"]
        assert got["Mục tiêu"] == r["target"]
        assert got["Tử số"] == r["numerator"] and got["Mẫu số"] == r["denominator"]
        assert got["So sánh"] == "≥"
        assert got["Trạng thái"].endswith(metrics.cli.STATUS_WORDS["vi"][r["status"]])
        m = month[r["kpi"]]
        assert got["Tháng 10/2026"] == (None if m["value"] is None else round(m["value"], 1)), r["kpi"]
    by_unit = metrics.query(con, ["on_time_rate", "online_share", "received", "overdue_backlog"], periods=MONTH,
                            by="unit_code", now=NOW)
    look = {(r["kpi"], r["unit_code"]): r for r in by_unit.to_dict("records")}
    ranking = {r["Mã"]: r for r in _table(wb["Xếp hạng phường xã"], "Hạng")}
    for code in (WARD, "00004", "00376"):
        row = ranking[code]
        assert row[ON_TIME] == round(look[("on_time_rate", code)]["value"], 1)
        assert row["Số hồ sơ xét"] == look[("on_time_rate", code)]["denominator"]
        assert row[ONLINE] == round(look[("online_share", code)]["value"], 1)
    # ranks follow the on-time rate, worst (lowest) first, as the dashboard ranks (presentation.ranking)
    rates = [r[ON_TIME] for r in _table(wb["Xếp hạng phường xã"], "Hạng") if r["Hạng"] is not None]
    assert rates == sorted(rates)
    overdue = {r["Mã"]: r["Quá hạn tồn đọng"] for r in _table(wb["Quá hạn theo đơn vị"], "Mã")}
    expected = {u: v["value"] for (k, u), v in look.items() if k == "overdue_backlog" and v["value"]}
    total = overdue.pop(None, overdue.pop("", None))   # the closing row: the city's own figure, not a sum
    assert overdue == expected
    assert total == metrics.query(con, "overdue_backlog", periods=MONTH, now=NOW)["value"].iloc[0]
    trend = _table(wb["Xu hướng 12 tháng"], "Tháng")
    sep = next(r for r in trend if r["Tháng"] == "09/2026" and r["Mã"] == "on_time_rate")
    q9 = metrics.query(con, "on_time_rate", periods="2026-09", now=NOW).iloc[0]
    assert sep["Giá trị (%)"] == round(q9["value"], 1)


def test_overdue_list_carries_ids_only(report_warehouse):
    _, reader = report_warehouse
    data = collect(reader.cursor(), MONTH, now=NOW)
    assert [c.key for c in data.overdue_oldest.columns] == [
        "dossier_id", "unit_code", "procedure_code", "received_at", "effective_due_at", "working_days_overdue"]
    assert data.overdue_oldest.rows and len(data.overdue_oldest.rows) <= 20
    days = [r["working_days_overdue"] for r in data.overdue_oldest.rows]
    assert days == sorted(days, reverse=True)          # the oldest first


@needs_poppler
def test_ward_report_in_english(report_warehouse, ward_en_files):
    text = _pdf_text(ward_en_files[0])
    for phrase in ("MONTHLY REPORT 10/2026 — Cua Nam Ward", "Reporting period", "On-time rate",
                   "Hanoi time, UTC+7", "ranks"):
        assert phrase in text, phrase
    # charts=False: the report says the charts are missing instead of failing
    assert "could not be drawn" in text
    wb = openpyxl.load_workbook(ward_en_files[1])
    assert wb.sheetnames[0] == "Cover"
    targets = {r["Code"]: r for r in _table(wb["R57 targets"], "Code")}
    _, reader = report_warehouse
    q = metrics.query(reader.cursor(), "on_time_rate", periods=MONTH, units=WARD, now=NOW).iloc[0]
    assert targets["on_time_rate"]["Month 10/2026"] == round(q["value"], 1)
    basis = metrics.progress(reader.cursor(), "on_time_rate", unit=WARD, now=JUDGED)
    assert targets["on_time_rate"]["Value"] == round(basis["value"], 1)
    assert targets["on_time_rate"]["Basis"].startswith("year to date")  # in words, as the PDF writes it


@needs_poppler
def test_report_renders_without_charts_when_kaleido_fails(report_warehouse, tmp_path, monkeypatch):
    import kaleido

    def broken(*a, **k):
        raise RuntimeError("Chromium crashed")

    monkeypatch.setattr(kaleido, "calc_fig_sync", broken)
    _, reader = report_warehouse
    pdf, xlsx = build_report(reader.cursor(), MONTH, tmp_path, unit_code=WARD, now=NOW)
    assert pdf.stat().st_size > 10_000
    assert "Không vẽ được biểu đồ (RuntimeError: Chromium crashed)" in _pdf_text(pdf)
    cover = [v for r in _sheet_rows(openpyxl.load_workbook(xlsx)["Bìa"]) for v in r if isinstance(v, str)]
    assert any("Không vẽ được biểu đồ" in v for v in cover)


def test_no_unicode_font_fails_with_how_to_fix(report_warehouse, tmp_path, monkeypatch):
    from reports import pdf

    monkeypatch.setattr(pdf, "FONT_CANDIDATES", [(tmp_path / "none.ttf", tmp_path / "none-bold.ttf")])
    monkeypatch.delenv("R57_REPORT_FONT", raising=False)
    pdf.find_fonts.cache_clear()
    try:
        with pytest.raises(pdf.FontMissing, match="fonts-noto-core"):
            build_report(report_warehouse[1].cursor(), MONTH, tmp_path, now=NOW, charts=False)
    finally:
        pdf.find_fonts.cache_clear()
    assert not list(tmp_path.glob("*.pdf"))


def test_bad_month_and_unit_are_refused(report_warehouse, tmp_path):
    from reports import ReportError

    con = report_warehouse[1].cursor()
    with pytest.raises(ReportError, match="YYYY-MM"):
        collect(con, "10/2026", now=NOW)
    with pytest.raises(ReportError, match="has not started"):
        collect(con, "2026-12", now=NOW)
    with pytest.raises(ReportError, match="not over yet.*2026-10"):  # a report covers a complete month only
        collect(con, "2026-11", now=NOW)
    with pytest.raises(ReportError, match="unknown unit '99999'"):
        collect(con, MONTH, "99999", now=NOW)


# --- one presentation layer: screen = Excel = PDF; files as an analyst expects ------------------------------

@needs_poppler
def test_screen_excel_and_pdf_show_the_same_target_values(report_warehouse, city_files):
    """For one seeded month: each city target's value as the overview writes it (the presentation layer's
    formatter over metrics.standing on the 1st), the Excel report's cell (a number, formatted by its
    number format's decimals) and the PDF's text are the same string."""
    from dashboard.views import overview
    from metrics.registry import get_registry

    _, reader = report_warehouse
    reg = get_registry()
    codes = reg.shown_on("report")
    screen_rows = overview.target_rows(reader.cursor(), now=JUDGED, codes=codes)
    wb = openpyxl.load_workbook(city_files[1])
    ws = wb["Mục tiêu NQ57"]
    rows = _sheet_rows(ws)
    head_at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã")
    col = rows[head_at].index("Giá trị")
    cells = {ws.cell(row=i + 1, column=1).value: ws.cell(row=i + 1, column=col + 1)
             for i in range(head_at + 1, len(rows)) if rows[i] and rows[i][0]}
    pdf = " ".join(_pdf_text(city_files[0]).split())
    compared = 0
    for code, row in zip(codes, screen_rows, strict=True):
        k = reg.kpi(code)
        screen = fmt.value(row.get("value"), k.unit, "vi", kpi=k)
        cell = cells[code]
        if cell.value is None:
            excel = fmt.NA
        else:
            assert cell.data_type == "n", (code, cell.value)  # a number, not text
            decimals = len(cell.number_format.split(".")[1]) if "." in cell.number_format else 0
            excel = fmt.value(cell.value, k.unit, "vi", decimals=decimals, kpi=k)
        assert screen == excel, (code, screen, excel)
        if screen != fmt.NA:
            assert screen in pdf, (code, screen)
            compared += 1
    assert compared >= 5


def test_excel_dates_are_dates_and_sheet_names_are_legal(report_warehouse, city_files):
    from presentation.excel import sheet_name

    wb = openpyxl.load_workbook(city_files[1])
    ws = wb["Mục tiêu NQ57"]
    rows = _sheet_rows(ws)
    head_at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã")
    col = rows[head_at].index("Thời hạn") + 1
    deadlines = [ws.cell(row=i + 1, column=col) for i in range(head_at + 1, len(rows))
                 if ws.cell(row=i + 1, column=col).value is not None]
    assert deadlines and all(c.is_date and c.number_format == "dd/mm/yyyy" for c in deadlines)
    oldest = wb["Quá hạn lâu nhất"]
    head = next(i for i, r in enumerate(_sheet_rows(oldest), 1) if r and "Ngày tiếp nhận" in r)
    received = [c for c in next(oldest.iter_cols(min_col=4, max_col=4, min_row=head + 1)) if c.value is not None]
    assert received and all(c.is_date for c in received)
    # forbidden characters replaced (never dropped), 31 characters at most, unique after the cut
    assert sheet_name("Phường, xã: bảng xếp hạng") == "Phường, xã - bảng xếp hạng"
    assert sheet_name("a/b\\c[d]*e?") == "a-b-c(d)×e？"
    long = "Chỉ tiêu của đơn vị so với thành phố và mục tiêu"
    first = sheet_name(long)
    assert len(first) <= 31 and sheet_name(long, [first]) != first and len(sheet_name(long, [first])) <= 31


def test_dashboard_download_dates_are_excel_dates_and_names_in_hanoi_time():
    import io as _io
    from datetime import UTC

    from dashboard import downloads

    table = downloads.Table("t", "Hồ sơ: quá hạn", [downloads.Column("id", "Mã"), downloads.Column("due", "Hạn")],
                            [{"id": "a", "due": "05/09/2026"}, {"id": "b", "due": "2026-09-07T17:00:00"}])
    wb = openpyxl.load_workbook(_io.BytesIO(downloads.table_bytes(table, "xlsx", "vi", NOW)))
    assert wb.sheetnames == ["Bìa", "Hồ sơ - quá hạn"]
    due = [r[1] for r in wb.worksheets[1].iter_rows(min_row=2)]
    assert all(c.is_date for c in due) and due[0].value == datetime(2026, 9, 5)
    # one file-name rule, in Hanoi time whatever the clock's zone: 03:00 UTC is 10:00 in Hanoi
    assert downloads.filename(table, "png", datetime(2026, 11, 3, 3, 0, tzinfo=UTC)).endswith("-20261103-1000.png")


def test_chart_images_are_opaque_white_with_title_unit_and_source(report_warehouse):
    from PIL import Image

    from reports.charts import build_charts, make_ranking_figure, make_trend_figure

    _, reader = report_warehouse
    data = collect(reader.cursor(), MONTH, now=NOW)
    fig = make_ranking_figure(data, "on_time_rate")
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in fig.layout.title.text and "10/2026" in fig.layout.title.text
    assert fig.layout.paper_bgcolor == "#ffffff" and fig.layout.plot_bgcolor == "#ffffff"
    assert fig.layout.xaxis.title.text == "%"                      # the unit on the value axis
    assert any((a.text or "").startswith("Nguồn: hồ sơ") and "dữ liệu đến 31/10/2026" in a.text
               for a in fig.layout.annotations)
    # worst first, as the dashboard ranks
    first = fig.data[0]
    assert list(first.x[:5]) == sorted(first.x[:5]) and first.y[0].startswith("1. ")
    trend = make_trend_figure(data)
    assert trend.layout.title.text and trend.layout.paper_bgcolor == "#ffffff"
    with chart_session():
        charts = build_charts(data)
    rendered = [c for c in charts if c.png is not None]
    if not rendered:
        pytest.skip(f"no chart rendered here: {charts[0].error}")
    for c in rendered:
        assert c.png[:8] == b"\x89PNG\r\n\x1a\n"
        img = Image.open(io.BytesIO(c.png)).convert("RGBA")
        assert img.getpixel((2, 2)) == (255, 255, 255, 255), c.key       # white and opaque, not transparent
        assert min(a for _, _, _, a in img.getdata()) == 255, c.key
