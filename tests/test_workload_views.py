"""The one-stop overload flag (issue 12) where users see it: the ward page's KPI callback, the wards grid and
the overview's line linking to the ranking, on the shared demo warehouse (tests/conftest.py), at its NOW.

The demo understaffs a few units (about half the officers their volume needs): they are flagged; the values in
the words are the metrics layer's (metrics.workload.overloaded), formatted once."""

from __future__ import annotations

import sys

import pytest

import clock
from dashboard import fmt
from dashboard.views import wards
from metrics.workload import overloaded

from .conftest import DEMO_NOW
from .dash_tree import text, walk

NOW = DEMO_NOW
PERIOD = "2026-02"   # the last complete month at NOW: what the pages show by default


@pytest.fixture(scope="module")
def app(views_warehouse):
    from dashboard.app import create_app

    app = create_app(views_warehouse, refresh_s=600)
    app.server.test_client().get("/")  # the first request hands the pages' callbacks to this app
    return app


@pytest.fixture(scope="module")
def judged(views_warehouse):
    from warehouse.db import Reader

    reader = Reader(views_warehouse)
    cur = reader.cursor()
    df = overloaded(cur, PERIOD, now=NOW)
    cur.close()
    reader.close()
    return df


def _page(name: str):
    return sys.modules[f"dashboard.pages.{name}"]


def _flag(tree):
    found = [c for c in walk(tree) if getattr(c, "id", None) == "wu-workload-flag"]
    assert len(found) == 1
    return " ".join(text(found[0]).split())


def test_the_demo_has_overloaded_and_normal_units(judged):
    over = judged[judged["overloaded"]]
    assert 1 <= len(over) <= 10 and len(judged) == 126
    assert (over["workload_vs_median"] > 1.5).all()
    assert judged["workload_vs_median"].median() == pytest.approx(1.0)


def test_flag_on_the_ward_page_callback(app, judged):
    over = judged[judged["overloaded"]].iloc[0]
    calm = judged[~judged["overloaded"]].iloc[-1]
    with app.server.test_request_context("/"), clock.use(clock.FixedClock(NOW)):
        words = _flag(_page("ward").kpis("vi", None, over["unit_code"], PERIOD)[0])
        assert words.startswith("Quá tải bộ phận một cửa.")
        assert f"{fmt.number(over['workload'], 1, 'vi')} hồ sơ mỗi cán bộ mỗi ngày làm việc" in words
        assert f"gấp {fmt.number(over['workload_vs_median'], 2, 'vi')} lần trung vị" in words
        assert "ngưỡng: trên 1,50 lần" in words
        en = _flag(_page("ward").kpis("en", None, over["unit_code"], PERIOD)[0])
        assert en.startswith("One-stop office overloaded.") and "threshold: above 1.50 ×" in en
        words = _flag(_page("ward").kpis("vi", None, calm["unit_code"], PERIOD)[0])
        assert "Quá tải" not in words and f"{fmt.number(calm['workload_vs_median'], 2, 'vi')} lần trung vị" in words
        # a period before any staffing report (the demo's units report from July 2025)
        words = _flag(_page("ward").kpis("vi", None, over["unit_code"], "2025-03")[0])
        assert words.startswith("Chưa có báo cáo số cán bộ một cửa")


def test_flag_in_the_wards_grid(views_con, judged):
    rows, _ = wards.rows(views_con, "vi", PERIOD, now=NOW)
    flagged = sorted(r["code"] for r in rows if r["overloaded"] == "Quá tải")
    assert flagged == sorted(judged.loc[judged["overloaded"], "unit_code"])
    assert "overloaded" in [c.get("field") for c in wards.column_defs("en")]
    assert {"workload", "workload_vs_median", "in_person_share"} <= set(rows[0])   # the KPI columns (display.show)


def test_overview_line_counts_the_overloaded_units_and_links_to_the_ranking(app, judged):
    n = int(judged["overloaded"].sum())
    with app.server.test_request_context("/"), clock.use(clock.FixedClock(NOW)):
        line, _ = _page("overview").workload_line("vi", None)
        assert " ".join(text(line).split()) == f"Đơn vị quá tải ở bộ phận một cửa (02/2026): {n}"
        assert [c.href for c in walk(line) if hasattr(c, "href")] == ["/?kpi=workload_vs_median"]
        _, body, state, ranking, _ = _page("overview").ranking("vi", None, "workload_vs_median", "rank")
    assert state["kpi"] == "workload_vs_median"
    ranked = [r for r in ranking["rows"] if r.get("value") is not None]
    assert len(ranked) >= 100
