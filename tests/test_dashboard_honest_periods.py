"""Honest periods on the dashboard, with a frozen clock on 1 December: complete periods by default on every
page, the month to date only as labelled partial, statuses and "what changed" that do not move within the
day without a data change, small numbers shown as small (a ward with 5 dossiers is grey and ranked apart).

The warehouse: demo data generated up to 1 December 2026 08:00, plus one ward cut down to 5 dossiers of
November. The clock is passed to the views (`now`) and, for the callbacks, set with R57_NOW.
"""

from __future__ import annotations

import sys
from datetime import datetime

import pytest
from dash import dcc, html

import metrics
from config import load_settings
from dashboard import data, fmt
from dashboard.views import kpi, overview, ward, wards
from warehouse.db import Reader, open_writer, publish_snapshot

from .dash_tree import text, walk

AT_8 = datetime(2026, 12, 1, 8, 0)
AT_14 = datetime(2026, 12, 1, 14, 0)
TINY = "00004"   # cut down to 5 dossiers, all received in November


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    from demo.seed import seed_demo

    tmp = tmp_path_factory.mktemp("dash-honest")
    s = load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb")
    con = open_writer(s)
    seed_demo(con, s, days=75, per_day=300, now=AT_8)
    keep = [r[0] for r in con.execute(
        "SELECT dossier_id FROM dossiers WHERE unit_code = ? AND status <> 'withdrawn' AND received_at >= "
        "TIMESTAMP '2026-11-02' AND received_at < TIMESTAMP '2026-11-20' ORDER BY dossier_id LIMIT 5",
        [TINY]).fetchall()]
    assert len(keep) == 5
    con.execute(f"DELETE FROM dossiers WHERE unit_code = ? AND dossier_id NOT IN ({','.join('?' * 5)})",
                [TINY, *keep])
    metrics.refresh(con, full=True)
    publish_snapshot(con, s)
    con.close()
    return s


@pytest.fixture
def con(settings):
    reader = Reader(settings)
    cur = reader.cursor()
    yield cur
    cur.close()
    reader.close()


def classes(component) -> str:
    return " ".join(str(getattr(c, "className", "") or "") for c in walk(component))


def by_id(component, wanted: str):
    return next(c for c in walk(component) if getattr(c, "id", None) == wanted)


# --- the clock: statuses and "what changed" do not move within the day ---------------------------------

KEYS = ("kpi", "period", "basis", "value", "n", "status", "status_reason", "ratio", "projected",
        "last_month_period", "last_month_value", "last_month_status")


def test_cards_are_identical_at_8_and_at_14_without_a_data_change(con) -> None:
    at8, at14 = overview.target_rows(con, now=AT_8), overview.target_rows(con, now=AT_14)

    def keys(r):
        # an indicator published for a period not over yet (the year 2026) is judged at min(end, now): its
        # R and projection move a little with the clock (metrics' rule); its value and status do not
        drift = data.is_indicator(r["kpi"]) and r.get("period_end") is not None and \
            datetime.combine(r["period_end"], datetime.min.time()) > AT_8
        return {k: r.get(k) for k in KEYS if not (drift and k in ("ratio", "projected"))}

    assert [keys(r) for r in at8] == [keys(r) for r in at14]
    cards8, cards14 = overview.cards(con, "vi", now=AT_8, rows=at8), overview.cards(con, "vi", now=AT_14, rows=at14)
    statuses8 = [c.children.children.className for c in cards8]
    assert statuses8 == [c.children.children.className for c in cards14]
    assert not any("kpi-partial" in s for s in statuses8)  # the month to date never drives a card's status


def test_what_changed_is_identical_at_8_and_at_14(con) -> None:
    def compare(now):
        body = overview.changes(con, "vi", now=now)
        return text(by_id(body, "ov-compare")), by_id(body, "ov-yesterday").children

    assert compare(AT_8) == compare(AT_14)
    words, _ = compare(AT_8)
    assert "11/2026 so với 10/2026" in words  # statuses: the last complete month against the month before


def test_what_changed_compares_yesterday_with_the_day_before(con) -> None:
    body = overview.changes(con, "vi", now=AT_8)
    rec = metrics.query(con, "received", grain="day", periods=["2026-11-29", "2026-11-30"], now=AT_8)
    by_day = dict(zip(rec["period"], rec["value"], strict=True))
    assert by_id(body, "ov-yesterday").children == fmt.number(by_day["2026-11-30"], 0, "vi")
    words = text(body)
    assert "Hồ sơ tiếp nhận hôm qua (30/11)" in words
    assert f"hôm kia (29/11): {fmt.number(by_day['2026-11-29'], 0, 'vi')}" in words
    # today's hours are shown apart, labelled as partial, and compared with nothing
    assert "Hôm nay, tạm tính đến 08:00:" in words
    assert by_id(body, "ov-today").children == fmt.number(
        metrics.query(con, "received", grain="day", periods="2026-12-01", now=AT_8)["value"].iloc[0], 0, "vi")


def test_status_changes_compare_complete_periods_only(con) -> None:
    """'What changed' compares metrics.standing now with metrics.standing at the start of November."""
    now_rows = overview.target_rows(con, now=AT_8)
    before = metrics.standing(con, data.r57_codes(), now=datetime(2026, 11, 1))
    changed = [r["kpi"] for r, b in zip(now_rows, before, strict=True) if r["status"] != b["status"]]
    body = overview.changes(con, "en", now=AT_8, rows_now=now_rows, earlier=before)
    items = [c for c in walk(by_id(body, "ov-compare")) if isinstance(c, html.Li)]
    status_links = [next(x for x in walk(li) if isinstance(x, dcc.Link)).href for li in items
                    if "status-" in classes(li)]
    assert status_links == [f"/kpi?kpi={c}" for c in changed]
    assert "partial" not in classes(by_id(body, "ov-compare"))


# --- complete periods by default, the month to date labelled -------------------------------------------

def test_cards_show_the_year_to_date_the_last_month_and_the_month_to_date_labelled(con) -> None:
    rows = overview.target_rows(con, now=AT_8)
    plain = [r for r in rows if not data.is_indicator(r["kpi"])]
    assert plain and all(r["period"] == "2026-01-01..2026-11-30" and r["basis"] == "year_to_date" for r in plain)
    assert all(r["last_month_period"] == "2026-11" and r["current_period"] == "2026-12" for r in plain)
    vi, en = text(overview.cards(con, "vi", now=AT_8, rows=rows)), text(overview.cards(con, "en", now=AT_8, rows=rows))
    assert "Lũy kế T1–T11/2026" in vi and "Tháng 11/2026:" in vi
    assert "Tháng 12/2026 — tạm tính đến 01/12:" in vi
    assert "Year to date, Jan–Nov 2026" in en and "December 2026 — to date, 01/12:" in en
    sat = next(r for r in rows if r["kpi"] == "satisfaction")
    assert f"{fmt.number(sat['numerator'], 0, 'vi')} / {fmt.number(sat['denominator'], 0, 'vi')} lượt đánh giá" in vi


def test_no_data_never_stands_beside_a_value(con) -> None:
    rows = overview.target_rows(con, now=AT_8)
    valued = 0
    for lang, words in (("vi", "Chưa đủ dữ liệu"), ("en", "No data")):
        for row, cell in zip(rows, overview.cards(con, lang, now=AT_8, rows=rows), strict=True):
            if row.get("value") is not None and not fmt.is_na(row["value"]):
                assert words not in text(cell), (lang, row["kpi"], row["status"], row["status_reason"])
                valued += 1
    assert valued >= 2, "no card with a value was checked"
    reasons = [r for r in rows if str(r.get("status_reason") or "").startswith("no_base:")]
    for r in reasons:
        label = fmt.period(r["status_reason"].split(":", 1)[1], "vi")
        cell = overview.cards(con, "vi", now=AT_8, codes=[r["kpi"]], rows=[r])
        assert f"Cần số liệu {label} để đánh giá" in text(cell)


def test_the_default_period_is_november_on_every_page(con) -> None:
    title, _ = overview.ranking(con, "on_time_rate", "vi", now=AT_8)
    assert "Tháng 11/2026" in title
    grid, _ = wards.rows(con, "vi", None, now=AT_8)
    assert {r["href"].rsplit("=", 1)[1] for r in grid} == {"2026-11"}
    assert wards.current_period(AT_8) == "2026-11"
    _, table = ward.kpi_view(con, "00073", "vi", None, now=AT_8)
    assert {r["period"] for r in table.rows if not data.is_indicator(r["kpi"])} == {"11/2026"}
    assert not any(r["partial"] for r in table.rows)
    _, label, units_table, _ = kpi.units_view(con, "on_time_rate", "vi", now=AT_8)
    assert label == "2026-11" and units_table.filters["Kỳ"] == "Tháng 11/2026"
    head = text(kpi.header(con, "on_time_rate", None, "vi", now=AT_8))
    assert "Lũy kế T1–T11/2026" in head and "Tháng 12/2026 — tạm tính đến 01/12" in head
    assert overview.targets_table(overview.target_rows(con, now=AT_8), "vi").rows[0]["current"].startswith(
        "Tháng 12/2026 — tạm tính đến 01/12")


def test_the_month_to_date_can_be_chosen_and_is_labelled(con) -> None:
    from dashboard.components import default_period, period_options

    options = period_options(AT_8, "vi")
    assert options[0] == {"label": "Tháng 12/2026 — tạm tính đến 01/12", "value": "2026-12"}
    assert options[1]["value"] == "2026-11" and default_period(AT_8) == "2026-11"
    assert {"label": "Quý 4/2026 — tạm tính đến 01/12", "value": "2026-Q4"} in options
    body, table = ward.kpi_view(con, "00073", "vi", "2026-12", now=AT_8)
    assert "Tháng 12/2026 — tạm tính đến 01/12" in text(body)
    assert {r["status"] for r in table.rows if r["status"] and r["kpi"] != "coverage_5g"} == {"Tạm tính"}
    grid, _ = wards.rows(con, "vi", "2026-12", now=AT_8)
    assert {r["status"] for r in grid} <= {"partial", "no_data"}  # shown, never judged


def test_the_ward_trend_draws_the_partial_month_apart(con) -> None:
    fig = ward.trend_figure(con, "00073", "on_time_rate", "vi", now=AT_8)
    solid = [d for d in fig.data if d.showlegend is not False]
    assert all("2026-12-01" not in d.x for d in solid)  # no fake fall on the line of complete months
    partial = [d for d in fig.data if d.showlegend is False]
    assert partial and partial[0].x[-1] == "2026-12-01" and partial[0].line.dash == "dash"
    assert partial[0].marker.symbol == "circle-open" and partial[0].text[-1] == "tạm tính"


# --- small numbers -------------------------------------------------------------------------------------

def test_a_ward_with_5_dossiers_is_grey_and_ranked_apart(con) -> None:
    df, label = overview.unit_frame(con, "on_time_rate", "vi", now=AT_8)
    tiny = df[df["code"] == TINY].iloc[0]
    assert label == "2026-11" and tiny["n"] == 5 and tiny["few_data"] and tiny["status"] == "few_data"
    judged = df[~df["few_data"]]
    assert df.index[df["code"] == TINY][0] > judged.index.max()  # after every judged unit
    # the overview ranking: under its heading, grey, no rank number
    _, body = overview.ranking(con, "on_time_rate", "vi", now=AT_8, frame=(df, label))
    items = [c for c in walk(body) if isinstance(c, html.Li)]
    head = next(i for i, c in enumerate(items) if c.className == "rank-group")
    mine = next(i for i, c in enumerate(items) if any(getattr(x, "href", "") == f"/ward?unit={TINY}"
                                                          for x in walk(c)))
    assert mine > head and items[mine].className == "rank-row rank-few"
    assert "bar-few_data" in classes(items[mine]) and "status-few_data" in classes(items[mine])
    assert "Ít dữ liệu" in text(items[mine]) and "n = 5" in text(items[mine])
    assert items[mine].children[0].children == "–"
    # the wards grid: marked, grey, after the others under the heading row
    grid, _ = wards.rows(con, "vi", None, now=AT_8)
    row = next(r for r in grid if r["code"] == TINY)
    assert (row["few_data"], row["status"], row["status_label"], row["on_time_n"]) == (True, "few_data",
                                                                                       "Ít dữ liệu", 5)
    heading = wards.heading_row("vi", grid)
    assert heading and heading[0]["heading"] and "dưới 30 hồ sơ" in heading[0]["name"]
    assert wards.table("vi", grid + heading, None).rows[-1]["code"] != wards.HEADING  # never in the file
    # the KPI page: not drawn as a bar, named apart with its n
    fig, _, units_table, apart = kpi.units_view(con, "on_time_rate", "vi", now=AT_8)
    name = data.unit_name(TINY, "vi")
    assert all(name not in d.y for d in fig.data)
    assert name in text(apart) and "n = 5" in text(apart)
    # downloads: after the ranked units, unranked, in their own group
    rec = next(r for r in units_table.rows if r["code"] == TINY)
    assert rec["rank"] is None and rec["group"] == "ít dữ liệu, không xếp hạng" and rec["n"] == 5
    ranked = [r for r in units_table.rows if r["rank"] is not None]
    assert units_table.rows[:len(ranked)] == ranked


def test_a_derived_kpi_takes_few_data_from_its_components(con) -> None:
    """The cross-agency reduction of a unit whose mean stands on a handful of dossiers is not a bar."""
    df, _ = overview.unit_frame(con, "cross_agency_reduction", "vi", now=AT_8)
    comp = metrics.query(con, "processing_time_mean_cross_agency", by="unit_code", now=AT_8)
    few = set(comp.loc[comp["few_data"].astype(bool), "unit_code"]) - {"01"}
    assert few and set(df.loc[df["few_data"], "code"]) == few & set(df["code"])


def test_each_rate_shows_its_n(con) -> None:
    body, _ = ward.kpi_view(con, "00073", "vi", None, now=AT_8)
    u = metrics.query(con, "on_time_rate", units="00073", now=AT_8).iloc[0]
    assert f"{fmt.number(u['numerator'], 0, 'vi')} / {fmt.number(u['denominator'], 0, 'vi')} hồ sơ" in text(body)
    mean = metrics.query(con, "processing_time_mean", units="00073", now=AT_8).iloc[0]
    assert f"n = {fmt.number(mean['n'], 0, 'vi')}" in text(body)


# --- the KPI page says how it counts -------------------------------------------------------------------

def test_the_kpi_page_says_how_dossiers_count_from_the_registry() -> None:
    on_time = text(kpi.definition("on_time_rate", "vi"))
    assert "theo ngày hoàn thành" in on_time and "đang giải quyết tại thời điểm đánh giá T" in on_time
    assert "Hạn trả được lùi thêm bằng thời gian chờ công dân bổ sung" in on_time
    assert "rút sau T vẫn là đang giải quyết tại T" in on_time and "Dưới 30 hồ sơ" in on_time
    assert "Dưới 10 lượt đánh giá" in text(kpi.definition("satisfaction_online", "vi"))
    assert "theo ngày tiếp nhận" in text(kpi.definition("online_share", "vi"))
    assert "ngày ròng" in text(kpi.definition("processing_time_mean", "vi"))
    assert "không tính là quá hạn" in text(kpi.definition("overdue_backlog", "vi"))
    assert "Under 30 dossiers" in text(kpi.definition("on_time_rate", "en"))
    assert "Not applicable (a count" in text(kpi.definition("received", "en"))


# --- the callbacks, as the app runs them, on an injected clock (R57_NOW) ------------------------------

def test_callbacks_use_the_injected_clock(settings, con, monkeypatch) -> None:
    from dashboard.app import create_app

    monkeypatch.setenv("R57_NOW", "2026-12-01T08:00")
    assert data.local_now() == AT_8
    app = create_app(settings, refresh_s=5)
    app.server.test_client().get("/")
    page = sys.modules["dashboard.pages.overview"]
    with app.server.test_request_context("/"):
        cells, targets, _ = page.cards("vi", None)  # and the fingerprint of what was drawn
        title, *_ = page.ranking("vi", None, "on_time_rate", "rank")
        changes, _ = page.changes("vi", None)
        grid, *_ = sys.modules["dashboard.pages.wards"].fill("vi", None, None, "all", "", {})
    rows = overview.target_rows(con, now=AT_8)
    assert [c.children.children.className for c in cells] == [
        c.children.children.className for c in overview.cards(con, "vi", now=AT_8, rows=rows)]
    assert "Tháng 11/2026" in title and "Tháng 12/2026 — tạm tính đến 01/12" in text(cells)
    assert "11/2026 so với 10/2026" in text(changes)
    assert targets["rows"][0]["period"] == "Lũy kế T1–T11/2026"
    assert grid  # period None: the last complete month
