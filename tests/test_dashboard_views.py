"""The dashboard's views and callbacks as plain functions, on a small real warehouse (demo data loaded
through the real ingest, plus one bad file that leaves rows in quarantine), read from its snapshot.

Views get an explicit NOW, the moment the demo data was generated for; callbacks run as the app runs
them (inside a request), one test a page, with the app's clock fixed at NOW (R57_NOW).
"""

from __future__ import annotations

import sys

import dash
import pytest
from dash import dcc, html

import metrics
from config import load_settings
from dashboard import data, fmt
from dashboard.views import economy, health, kpi, overview, ward, wards
from presentation import surfaces

from .conftest import DEMO_NOW
from .dash_tree import text, walk

NOW = DEMO_NOW                       # a Monday; the demo data ends here
WARD = "00073"                       # Phường Cửa Nam


@pytest.fixture(scope="module")
def settings(views_warehouse):
    """The shared, read-only views warehouse (tests/conftest.py): 60 days of demo data ending NOW, two rows
    in quarantine."""
    return views_warehouse


@pytest.fixture
def con(views_con):
    return views_con


def text_classes(component) -> str:
    """Every className in a tree, space-joined."""
    return " ".join(str(getattr(c, "className", "") or "") for c in walk(component))


# --- overview ------------------------------------------------------------------------------------

def test_overview_cards_one_per_target_with_api_values(con) -> None:
    rows = overview.target_rows(con, now=NOW)
    codes = data.r57_codes()
    shown = surfaces.codes("overview")  # the registry's overview KPIs (kpis.yaml display.show), not a literal
    assert shown and codes == shown and len(rows) == len(shown)
    cells = overview.cards(con, "vi", now=NOW, rows=rows)
    links = [c.children for c in cells]
    # each card opens its KPI page; the task-group card opens the plan's 20 groups (issue 12)
    assert [link.href for link in links] == [overview.PLAN_LINKS.get(c, f"/kpi?kpi={c}") for c in codes]
    for code, row, link in zip(codes, rows, links, strict=True):
        words = text(link)
        assert data.kpi_name(code, "vi") in words
        assert fmt.value(row["value"], data.kpi_unit(code, "vi"), "vi", with_unit=False) in words
        status = row["status"] if isinstance(row["status"], str) else "no_data"
        assert f"kpi-{status}" in link.children.className
        assert any(getattr(c, "className", "") == f"status status-{status}" for c in walk(link))
    spark = [c for c in walk(links[0]) if isinstance(c, html.Img)]
    assert len(spark) == 1 and spark[0].src.startswith("data:image/svg+xml;utf8,%3Csvg")


def test_overview_cards_in_english(con) -> None:
    cells = overview.cards(con, "en", now=NOW)
    words = text(cells)
    assert "Satisfaction" in words or "User satisfaction" in words
    assert "Target ≥ 95.0%" in words
    assert "Mục tiêu" not in words


def test_overview_ranking_worst_first_without_city_departments(con) -> None:
    title, body = overview.ranking(con, "on_time_rate", "vi", now=NOW)
    # the last complete month, never the month to date
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in title and "Tháng 02/2026" in title
    links = [c for c in walk(body) if isinstance(c, dcc.Link)]
    hrefs = [link.href for link in links]
    assert hrefs and all(h.startswith("/ward?unit=") for h in hrefs[:-1])
    assert "/ward?unit=01" not in hrefs
    q = metrics.query(con, "on_time_rate", by="unit_code", now=NOW)
    assert q["period"].unique().tolist() == ["2026-02"]
    q = q[(q["unit_code"] != "01") & ~q["few_data"].astype(bool)].dropna(subset=["value"])
    worst = q.sort_values(["value", "unit_code"]).iloc[0]["unit_code"]  # worst of the units judged
    assert hrefs[0] == f"/ward?unit={worst}"
    # the worst 30 judged, then (apart, under a heading, not coloured) up to 15 units with few data, then a link
    # to every unit on the KPI page
    per_unit = metrics.query(con, "on_time_rate", by="unit_code", now=NOW)
    n_few = int(per_unit.loc[per_unit["unit_code"] != "01", "few_data"].astype(bool).sum())
    assert n_few > 0
    assert len(hrefs) == overview.RANK_ROWS + min(n_few, overview.FEW_ROWS) + 1
    assert hrefs[-1] == "/kpi?kpi=on_time_rate"
    heading = [c for c in walk(body) if getattr(c, "className", "") == "rank-group"]
    assert len(heading) == 1 and "Ít dữ liệu (dưới 30 hồ sơ)" in heading[0].children
    few_rows = [c for c in walk(body) if getattr(c, "className", "") == "rank-row rank-few"]
    assert few_rows and all("bar-few_data" in text_classes(r) and "status-few_data" in text_classes(r)
                            for r in few_rows)


def test_overview_ranking_lower_is_better_and_unknown_kpi(con) -> None:
    _, body = overview.ranking(con, "overdue_backlog", "en", now=NOW)
    first = next(c for c in walk(body) if isinstance(c, dcc.Link))  # the unit with the most overdue dossiers
    q = metrics.query(con, "overdue_backlog", by="unit_code", now=NOW)
    q = q[q["unit_code"] != "01"]
    assert first.href == f"/ward?unit={q.sort_values(['value', 'unit_code'], ascending=[False, True]).iloc[0]['unit_code']}"
    title, _ = overview.ranking(con, "no_such_kpi", "en", now=NOW)
    assert "on-time rate" in title.lower()


def test_overview_map_with_boundaries(con) -> None:
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"unit_code": WARD},
         "geometry": {"type": "Polygon", "coordinates": [[[105.84, 21.02], [105.85, 21.02], [105.85, 21.03],
                                                          [105.84, 21.02]]]}}]}
    _, body = overview.ranking(con, "on_time_rate", "vi", view="map", now=NOW, geojson=geo)
    assert isinstance(body, dcc.Graph) and body.figure.data[0].type == "choroplethmap"
    _, body = overview.ranking(con, "on_time_rate", "vi", view="map", now=NOW, geojson=None)
    assert isinstance(body, html.Div)  # no boundaries configured: the ranking


def test_overview_changes_since_yesterday(con) -> None:
    body = overview.changes(con, "vi", now=NOW)
    today = next(c for c in walk(body) if getattr(c, "id", None) == "ov-today")
    rec = metrics.query(con, "received", grain="day", periods="2026-03-16", now=NOW)
    assert today.children == fmt.number(rec["value"].iloc[0], 0, "vi")
    words = text(body)
    n_overdue = len(metrics.overdue_list(con, now=NOW, limit=None))
    assert fmt.number(n_overdue, 0, "vi") in words
    assert "Mới quá hạn trong 24 giờ" in words
    assert "Chỉ tiêu đổi trạng thái" in words


# --- wards ---------------------------------------------------------------------------------------

def test_wards_grid_has_every_unit_and_departments_apart(con) -> None:
    rows, pinned = wards.rows(con, "vi", "2026-03", now=NOW)
    assert len(rows) == 126
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)
    assert all(r["href"] == f"/ward?unit={r['code']}&period=2026-03" for r in rows)
    assert {r["type"] for r in rows} == {"Phường", "Xã"}
    assert [p["name"] for p in pinned] == ["Sở, ngành thành phố"] and pinned[0]["href"] is None
    q = metrics.query(con, "on_time_rate", grain=None, periods="2026-03", units=WARD, now=NOW)
    mine = next(r for r in rows if r["code"] == WARD)
    assert mine["on_time_rate"] == pytest.approx(q["value"].iloc[0])
    assert mine["status_label"] in {"Đã đạt", "Đúng tiến độ", "Cần đẩy nhanh", "Tiến triển hạn chế", "Đang xấu đi",
                                    "Chưa đủ dữ liệu", "Tạm tính", "Ít dữ liệu"}
    assert mine["on_time_n"] == q["n"].iloc[0]
    # March is the month to date on 16 March: shown, never judged
    assert {r["status"] for r in rows} <= {"partial", "no_data"}
    default, _ = wards.rows(con, "vi", None, now=NOW)
    assert {r["href"].rsplit("=", 1)[1] for r in default} == {"2026-02"}
    assert len(wards.rows(con, "en", "2026-03", "xa", now=NOW)[0]) == 75
    assert len(wards.rows(con, "en", "2026-03", "phuong", now=NOW)[0]) == 51
    quarter, _ = wards.rows(con, "en", "2026-Q1", now=NOW)
    assert len(quarter) == 126 and quarter[0]["type"] in {"Ward", "Commune"}


def test_wards_columns_format_numbers_per_language() -> None:
    vi = {c["field"]: c for c in wards.column_defs("vi")}
    en = {c["field"]: c for c in wards.column_defs("en")}
    assert vi["on_time_rate"]["valueFormatter"]["function"].endswith("R57num(params.value, 1, 'vi', ' %')")
    assert en["received"]["valueFormatter"]["function"].endswith("R57num(params.value, 0, 'en', '')")
    assert vi["status_order"]["cellRenderer"] == "StatusBadge" and vi["name"]["cellRenderer"] == "UnitLink"


# --- ward detail ---------------------------------------------------------------------------------

def test_ward_kpi_table_against_city_and_target(con) -> None:
    table = ward.kpi_table(con, WARD, "vi", "2026-03", now=NOW)
    words = text(table)
    links = [c.href for c in walk(table) if isinstance(c, dcc.Link)]
    assert f"/kpi?kpi=on_time_rate&unit={WARD}" in links and f"/kpi?kpi=coverage_5g&unit={WARD}" in links
    u = metrics.query(con, "on_time_rate", grain=None, periods="2026-03", units=WARD, now=NOW).iloc[0]
    c = metrics.query(con, "on_time_rate", grain=None, periods="2026-03", now=NOW).iloc[0]
    assert fmt.value(u["value"], "%", "vi") in words and fmt.value(c["value"], "%", "vi") in words
    assert f"{fmt.number(u['numerator'], 0, 'vi')} / {fmt.number(u['denominator'], 0, 'vi')} hồ sơ" in words
    assert "≥ 100,0 %" in words


def test_ward_overdue_list_most_urgent_first_ids_only(con) -> None:
    everywhere = metrics.overdue_list(con, now=NOW, limit=None)
    unit = everywhere.loc[everywhere["unit_code"] != "01", "unit_code"].value_counts().index[0]
    rows, n = ward.overdue(con, unit, "vi", now=NOW)
    api = metrics.overdue_list(con, units=unit, now=NOW, limit=None)
    assert n == len(api) == len(rows) and n > 0
    assert [r["dossier_id"] for r in rows] == list(api["dossier_id"])
    days = [r["days"] for r in rows]
    assert days == sorted(days, reverse=True)
    assert set(rows[0]) == {"dossier_id", "href", "procedure", "procedure_code", "received", "received_sort", "due",
                            "due_sort", "days", "status"}  # no applicant, address or phone: never personal data
    assert rows[0]["href"] == f"/dossier?id={rows[0]['dossier_id']}"  # the dossier detail (issue 11)
    assert rows[0]["status"] in {"Mới tiếp nhận", "Đang xử lý"}


def test_ward_trend_procedures_channels_and_index(con) -> None:
    fig = ward.trend_figure(con, WARD, "on_time_rate", "vi", now=NOW)
    assert [d.name for d in fig.data if d.showlegend is not False] == ["Phường Cửa Nam", "Toàn thành phố"]
    partial = [d for d in fig.data if d.showlegend is False]  # March to date, drawn apart and labelled
    assert partial and partial[0].marker.symbol == "circle-open" and partial[0].line.dash == "dash"
    assert partial[0].text[-1] == "tạm tính"
    procs = ward.procedures(con, WARD, "vi", "2026-03", now=NOW)
    assert procs and procs[0]["received"] >= procs[-1]["received"]
    assert procs[0]["name"] != procs[0]["code"]  # named from the catalogue
    ch = ward.channel_figure(con, WARD, "en", "2026-03", now=NOW)
    assert {t.name for t in ch.data} <= {"Fully online", "Partly online", "In person", "Public postal service"}
    fig766, table, total = ward.index_766(con, WARD, "vi", "2026-03", now=NOW)
    assert total.startswith("Tổng: ") and "thang 100" in total
    assert len(fig766.data[0].y) == 5


# --- KPI detail ----------------------------------------------------------------------------------

def test_kpi_why_in_words() -> None:
    row = {"kpi": "satisfaction", "period": "2026-03", "value": 93.8, "target": 95.0, "target_comparison": ">=",
           "target_deadline": "2026-12-31", "status": "needs_acceleration", "ratio": 0.82, "base_value": 90.2,
           "base_period": "2025-Q3", "projected": 94.1, "method": "cagr"}  # metrics says which method
    assert kpi.why(row, "satisfaction", "vi") == (
        "Từ 90,2 % (Quý 3/2025) đến 93,8 % (03/2026): tốc độ thực tế bằng 0,82 lần tốc độ cần để đạt ≥ 95,0 % vào "
        "31/12/2026 (R = 0,82; đúng tiến độ khi R ≥ 0,95, cần đẩy nhanh 0,6–0,95, hạn chế 0–0,6, xấu đi khi R < 0). "
        "Theo xu hướng này, đến hạn sẽ đạt khoảng 94,1 %. Phương pháp: tốc độ tăng trưởng kép (CAGR), theo Open SDG.")
    assert kpi.why({**row, "status": "achieved", "value": 96.0}, "satisfaction", "en") == (
        "The value 96.0% (03/2026) already meets the target ≥ 95.0%.")
    assert kpi.why({**row, "value": None}, "satisfaction", "en").startswith("There is no value for 03/2026")
    assert kpi.why({**row, "ratio": None, "status": "no_data"}, "satisfaction", "en").startswith(
        "There is a value 93.8% (03/2026) but no base value")
    assert kpi.why({**row, "target": None}, "satisfaction", "en") == (
        "This KPI has no target in the target registry (targets.yaml).")
    assert kpi.why({**row, "base_value": 0.0, "method": "linear"}, "satisfaction", "en").endswith(
        "(the base is zero or negative).")


def test_kpi_page_parts(con) -> None:
    assert kpi.resolve("on_time_rate") == ("on_time_rate", None)
    assert kpi.resolve("nope") == (data.r57_codes()[0], "nope")
    head = kpi.header(con, "satisfaction", None, "vi", now=NOW)
    words = text(head)
    assert "Vì sao trạng thái là" in words and "Văn phòng UBND thành phố Hà Nội" in words
    assert "lượt đánh giá" in words  # a satisfaction rate is shown with its number of ratings
    fig = kpi.trend_figure(con, "satisfaction", WARD, "month", "en", now=NOW)
    assert [d.name for d in fig.data if d.showlegend is not False] == ["Cua Nam Ward", "City"]
    by_unit, label = kpi.units_figure(con, "on_time_rate", "vi", now=NOW)
    assert label == "2026-02" and sum(len(d.y) for d in by_unit.data) <= 126
    assert kpi.units_figure(con, "digital_economy_share", "vi", now=NOW)[0] is None  # a city-level indicator
    defs = kpi.definition("on_time_rate", "en")
    sql = next(c for c in walk(defs) if isinstance(c, html.Pre)).children
    assert "SELECT" in sql and "dossiers" in sql
    assert "Quyết định 766/QĐ-TTg, tiêu chí 2.1" in text(defs)


# --- economy and data health ---------------------------------------------------------------------

def test_economy_indicators_with_revisions(con) -> None:
    cells = economy.cards(con, "en", now=NOW)
    assert len(cells) == len(data.indicator_codes())
    panels = economy.series_panels(con, "vi", now=NOW)
    assert len(panels) == len(data.indicator_codes())
    title, fig = economy.coverage_5g(con, "vi", now=NOW)
    assert title.startswith("Tỷ lệ dân số được phủ sóng 5G theo đơn vị")
    assert fig is not None and sum(len(d.y) for d in fig.data) >= 100


def test_health_freshness_runs_and_quarantine(con) -> None:
    cards = health.freshness(con, "vi", now=NOW)
    assert [c.id for c in cards] == ["dh-fresh-dossiers", "dh-fresh-indicators"]
    runs = health.runs(con, "en")
    bad = next(r for r in runs if r["file"] == "bad-export.csv")
    assert (bad["quarantined"], bad["status"], bad["source"]) == (2, "partial (rows quarantined)", "dossiers")
    rows = health.quarantine(con, "vi")
    assert {r["record"] for r in rows} >= {"BAD-1", "BAD-2"}
    reason = next(r["reason"] for r in rows if r["record"] == "BAD-1")
    assert "99999" in reason  # the reason in words, naming the bad value
    assert "is not one of Hanoi's 126 wards/communes" in text(health.reasons(con, "en"))


# --- the app: pages, callbacks as the app calls them ---------------------------------------------

@pytest.fixture(scope="module")
def app(settings):
    from dashboard.app import create_app

    app = create_app(settings, refresh_s=5)
    app.server.test_client().get("/")  # the first request hands the pages' callbacks to this app
    return app


def _page(name: str):
    return sys.modules[f"dashboard.pages.{name}"]


def test_every_page_is_registered_with_a_layout(app) -> None:
    import dash

    paths = {p["path"] for p in dash.page_registry.values()}
    assert {"/", "/wards", "/ward", "/kpi", "/economy", "/health", "/reports"} <= paths
    with app.server.test_request_context("/"):
        for name in ("overview", "wards", "ward", "kpi", "economy", "health", "reports"):
            assert _page(name).layout() is not None
        kpi_page = _page("kpi").layout(kpi="nope")
        assert "Không có chỉ tiêu “nope”" in text(kpi_page)


@pytest.fixture
def at_now(monkeypatch):
    """The callbacks at NOW, the end of the demo data (the business clock, as the app reads it: R57_NOW)."""
    monkeypatch.setenv("R57_NOW", NOW.isoformat(timespec="minutes"))


# --- each page's callbacks, as the app calls them (inside a request, at NOW) ---------------------------

def test_overview_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/"):
        cards, targets, shown = _page("overview").cards("en", None)
        assert len(cards) == len(surfaces.codes("overview")) and all(c.children.href for c in cards)
        assert _page("overview").changes("en", None) is not None
        assert [r["kpi"] for r in targets["rows"]] == data.r57_codes()
        title, body, state, ranking, drawn = _page("overview").ranking("vi", None, "satisfaction", "rank")
        assert ranking["key"] == "xep-hang" and ranking["rows"]  # at NOW the month holds ratings
        assert state == {"kpi": "satisfaction", "view": None}
        # what the page already shows is not sent again (issue 15): the same fingerprint -> nothing at all
        assert _page("overview").cards("en", None, shown) == (dash.no_update,) * 3
        again = _page("overview").ranking("vi", None, "satisfaction", "rank", drawn)
        assert again == (dash.no_update,) * 5
        other = _page("overview").cards("vi", None, shown)  # another language: drawn again
        assert other[0] is not dash.no_update and other[2] != shown


def test_wards_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/wards"):
        rows, options, _, state, phone_cards = _page("wards").fill("vi", None, "2026-03", "xa", "Sóc", {})
        units = [r for r in rows if not r.get("heading")]
        assert len(units) == 75 and options["quickFilterText"] == "Sóc"
        assert len(rows) - len(units) == int(any(r["few_data"] for r in units))  # the heading of the few-data group
        assert options["postSortRows"] == {"function": "R57fewApart(params)"}
        assert state == {"period": "2026-03", "type": "xa", "q": "Sóc"}
        assert _page("wards").open_unit({"colId": "received", "rowId": WARD}, "2026-03") == \
            f"/ward?unit={WARD}&period=2026-03"


def test_ward_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/ward"):
        out = _page("ward").fill("vi", None, WARD, "2026-03")
        assert out[0][0] == "Phường Cửa Nam"
        assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in text(_page("ward").kpis("vi", None, WARD, "2026-03"))


def test_kpi_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/kpi"):
        out = _page("kpi").fill("en", None, "on_time_rate", WARD, "quarter")
        assert out[0] == "On-time rate" and out[7] == {"kpi": "on_time_rate", "unit": WARD, "grain": "quarter"}
        assert _page("kpi").open_unit({"points": [{"customdata": "00004"}]}) == "/ward?unit=00004"


def test_health_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/health"):
        fresh, runs, reasons, quarantine, _ = _page("health").fill("vi", None)
        assert len(runs) >= 3 and len(quarantine) >= 2


def test_economy_callbacks(app, at_now) -> None:
    with app.server.test_request_context("/economy"):
        assert len(_page("economy").cards("en", None)[0]) == len(data.indicator_codes())
        assert _page("economy").coverage("en", None)[0].startswith("5G population coverage by unit")
        words = _page("economy").words("en")
        assert words == ("Digital economy and infrastructure", "By publication period")


def test_every_words_callback_fills_all_its_outputs_in_both_languages(app) -> None:
    """Static words (titles, labels, options, column headers) follow the language switch."""
    with app.server.test_request_context("/"):
        for name in ("overview", "wards", "ward", "kpi", "economy", "health", "reports"):
            key = next(k for k, cb in app.callback_map.items()
                       if getattr(getattr(cb.get("callback"), "__wrapped__", None), "__module__", "")
                       == f"dashboard.pages.{name}" and cb["callback"].__wrapped__.__name__ == "words")
            n_outputs = key.count("...") + 1 if key.startswith("..") else 1
            vi, en = _page(name).words("vi"), _page(name).words("en")
            assert len(vi) == len(en) == n_outputs, name
            assert vi != en, name


def test_shell_tick_shows_demo_and_stale_banners(app, monkeypatch) -> None:
    """A day after the last load the dossiers are stale: both banners show."""
    from datetime import timedelta

    tick = app.callback_map[next(k for k in app.callback_map if "shell-banners.children" in k)]["callback"]
    later = data.local_now() + timedelta(days=1)
    monkeypatch.setattr(data, "local_now", lambda: later)
    with app.server.test_request_context("/"):
        ctx = data.context()
        version = data.current_version(ctx.reader, data.local_now())
        out = tick.__wrapped__(1, version, "vi")  # the freshness callback: (tick, data version, language)
    line, banners = out
    assert line.startswith("cập nhật ")
    classes = [b.className for b in banners]
    assert classes == ["banner banner-demo", "banner banner-stale"]
    assert "Dữ liệu minh họa" in text(banners[0]) and "Dữ liệu hồ sơ đã cũ" in text(banners[1])
    assert "1 ngày trước" in text(banners[1])


def test_before_the_first_snapshot_pages_say_why(tmp_path) -> None:
    from dashboard.app import create_app

    empty = load_settings(data_dir=tmp_path, warehouse=tmp_path / "none.duckdb")
    app = create_app(empty)
    assert app.server.test_client().get("/").status_code == 200
    with app.server.test_request_context("/"):
        cards, *_ = _page("overview").cards("vi", None)
    assert "Chưa có dữ liệu" in text(cards) and "python app.py demo" in text(cards)
