"""Honest periods, worked by hand on the fixture warehouse (tests/fixtures_metrics.py):
complete periods by default, the partial month labelled and never judged, small numbers marked,
one backlog rule at every judgement time, closed months that stay closed, annual series judged
from two points."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

import metrics
from metrics.periods import last_complete, resolve, year_to_date
from metrics.status import cagr

from .fixtures_metrics import NOW, build, d, ingest_rows, insert_indicators

FIRST_OF_MARCH_8 = datetime(2026, 3, 1, 8, 0)
FIRST_OF_MARCH_14 = datetime(2026, 3, 1, 14, 0)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build(tmp_path_factory.mktemp("honest"))
    yield c
    c.close()


def one(df, **where):
    rows = [r for r in df.to_dict("records") if all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("now,label", [
    (datetime(2026, 12, 1, 8, 0), "2026-11"), (datetime(2026, 12, 15, 8, 0), "2026-11"),
    (datetime(2027, 1, 1, 0, 5), "2026-12"), (FIRST_OF_MARCH_8, "2026-02"),
])
def test_default_period_is_the_last_complete_month(now, label):
    assert [p.label for p in resolve("month", None, now)] == [label]
    assert [p.label for p in resolve("quarter", None, now)] == [last_complete(now, "quarter").label]


def test_year_to_date_is_the_complete_months_of_the_year():
    assert year_to_date(datetime(2026, 12, 1, 8, 0)).label == "2026-01-01..2026-11-30"
    assert year_to_date(datetime(2027, 1, 1, 8, 0)).label == "2026-01-01..2026-12-31"


def test_query_defaults_to_the_complete_month_and_labels_the_partial_one(con):
    done = metrics.query(con, ["received"], now=FIRST_OF_MARCH_8)
    assert (done["period"].tolist(), done["partial"].tolist()) == (["2026-02"], [False])
    cur = metrics.query(con, ["on_time_rate", "received"], periods="current", now=NOW)
    assert cur["period"].tolist() == ["2026-03", "2026-03"] and cur["partial"].tolist() == [True, True]
    assert cur["as_of"].tolist() == [NOW, NOW]
    # the partial month is shown, never judged
    assert one(cur, kpi="on_time_rate")["status"] == "partial"
    assert one(cur, kpi="on_time_rate")["status_reason"] == "partial"


def test_status_does_not_change_within_the_day_without_a_data_change(con):
    a = metrics.progress(con, "on_time_rate", now=FIRST_OF_MARCH_8)
    b = metrics.progress(con, "on_time_rate", now=FIRST_OF_MARCH_14)
    keys = ("period", "value", "status", "ratio", "projected", "base_period", "basis", "last_month_value")
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert a["basis"] == "year_to_date" and a["period"] == "2026-01-01..2026-02-28"
    assert a["last_month_period"] == "2026-02" and a["current_period"] == "2026-03"


def test_progress_on_the_year_to_date_with_the_months_beside_it(con):
    """YTD 1 Jan .. 28 Feb, Phường Cửa Nam: finished D01-D05 (3 on time: D01, D03, D05) + in flight at
    1 March D07 (not due) and D08 (late) = 4/7 = 57.14 %; n = 7 < 30: few data, not judged. The city
    adds nothing (every Jan-Feb dossier is in Cửa Nam)."""
    p = metrics.progress(con, "on_time_rate", unit="00073", now=NOW)
    assert p["value"] == pytest.approx(400 / 7) and p["n"] == 7
    assert (p["few_data"], p["status"], p["status_reason"]) == (True, "few_data", "few_data")
    assert p["last_month_value"] == pytest.approx(400 / 7) and p["last_month_n"] == 7
    assert p["current_as_of"] == NOW


def test_small_numbers_are_marked_with_their_n(con):
    """Satisfaction, February, by finish date: D01 5★, D05 4★ -> 2/2 = 100 % over n = 2 ratings (< 10)."""
    df = metrics.query(con, ["satisfaction"], periods="2026-02", units="00073", now=NOW)
    r = one(df, kpi="satisfaction")
    assert (r["value"], r["n"], r["few_data"], r["status"]) == (100.0, 2, True, "few_data")
    counts = one(metrics.query(con, ["received"], periods="2026-02", now=NOW), kpi="received")
    assert counts["n"] is None and counts["few_data"] is False


def test_online_satisfaction(con):
    """March by finish date: rated D07 online_partial 5★, D11 in_person 2★, D12 postal 3★.
    All channels 1/3 = 33.3 %; online only D07: 1/1 = 100 %. February: D01 and D05 online: 2/2."""
    df = metrics.query(con, ["satisfaction", "satisfaction_online"], periods=["2026-02", "2026-03"], now=NOW)
    assert one(df, kpi="satisfaction", period="2026-03")["value"] == pytest.approx(100 / 3)
    assert one(df, kpi="satisfaction_online", period="2026-03")["value"] == 100.0
    assert one(df, kpi="satisfaction_online", period="2026-03")["n"] == 1
    assert one(df, kpi="satisfaction_online", period="2026-02")["value"] == 100.0
    target = one(df, kpi="satisfaction_online", period="2026-02")
    assert (target["target"], target["target_comparison"]) == (90.0, ">=")


@pytest.mark.parametrize("use_aggregates", [True, False])
def test_one_backlog_rule_now_and_at_past_period_ends(con, use_aggregates):
    """T = 6 March 00:00. Overdue: D08 (due 13 Feb, open) and D11 (due 3 Mar 17:00, finished 6 Mar 11:00,
    so in flight at T). D09 (due 5 Mar 17:00) waits for the citizen's supplement: not overdue, at a
    past T as now. City: 2. Judged as the past day 5 March, or 'now' at that same T: the same 2."""
    t = datetime(2026, 3, 6, 0, 0)
    past = metrics.query(con, ["overdue_backlog"], grain="day", periods="2026-03-05", now=NOW,
                         use_aggregates=use_aggregates)
    now_at_t = metrics.query(con, ["overdue_backlog"], grain="day", periods="current", now=t,
                             use_aggregates=use_aggregates)
    assert one(past, kpi="overdue_backlog")["value"] == one(now_at_t, kpi="overdue_backlog")["value"] == 2
    listed = metrics.overdue_list(con, now=t)
    assert sorted(listed["dossier_id"]) == ["D08", "D11"]
    assert sorted(metrics.overdue_list(con, now=NOW)["dossier_id"]) == ["D08"]


def test_closed_months_stay_closed_when_later_data_arrives(tmp_path):
    """Every closed month, recomputed after March data and a withdrawal of D08 on 10 March (it was
    open and overdue at the end of February), is unchanged: February's on-time rate stays 4/7."""
    c = build(tmp_path)
    months = ("2024-07-01", "2026-02-28")

    def closed():
        df = metrics.query(c, None, grain="month", periods=months, now=NOW)
        return df[["kpi", "period", "unit_code", "value", "numerator", "denominator"]].to_dict("records")

    before = closed()
    feb = one(metrics.query(c, ["on_time_rate"], periods="2026-02", units="00073", now=NOW), kpi="on_time_rate")
    assert (feb["numerator"], feb["denominator"]) == (4, 7)
    ingest_rows(c, tmp_path, [
        d("D08", "00073", "CT-01", "in_person", "2026-02-09 09:00", "2026-02-13 17:00", "2026-03-10 09:00",
          "withdrawn", updated="2026-03-10 09:00"),
        d("D20", "00073", "HT-01", "online_full", "2026-03-12 09:00", "2026-03-13 17:00", "", "received"),
    ], "later.csv")
    metrics.refresh(c)
    assert closed() == before
    raw = metrics.query(c, ["on_time_rate"], periods="2026-02", units="00073", now=NOW, use_aggregates=False)
    assert (one(raw, kpi="on_time_rate")["numerator"], one(raw, kpi="on_time_rate")["denominator"]) == (4, 7)
    # and a dossier withdrawn before the period ended (D06, 6 Feb) never counts in it
    c.close()


def test_annual_indicator_judged_from_two_annual_points(tmp_path):
    """ST&DT share: 2025 = 15.0 (the baseline year itself). With only that point: no status, and the
    reason names the year needed. With 2024 = 13.0: CAGR 15/13 - 1 over 2025 vs the required
    (17.5/13)^(1/2) - 1 to end-2026 gives R = 0.96: on track."""
    c = build(tmp_path)
    alone = metrics.progress(c, "stdt_share", now=NOW)
    assert alone["value"] == 15.0 and alone["status"] == "no_data" and alone["status_reason"] == "no_base:2024"
    insert_indicators(c, [("stdt_share", "01", "2024", 13.0, "KHCN", "2025-01-15 09:00")])
    metrics.refresh(c)
    p = metrics.progress(c, "stdt_share", now=NOW)
    observed = cagr(15.0, 13.0, 2026.0, 2025.0)
    required = (17.5 / 13.0) ** 0.5 - 1
    assert p["base_period"] == "2024" and p["base_value"] == 13.0
    assert p["ratio"] == pytest.approx(observed / required, rel=2e-3)
    assert p["status"] == "on_track" and p["method"] == "cagr" and not math.isnan(p["projected"])
    c.close()


def test_counting_rules_in_words_come_from_the_declarations():
    from metrics.doc import reading_rules

    def words(code, lang="vi"):
        return " ".join(w for _, w in reading_rules(code, lang))

    assert "theo ngày hoàn thành" in words("satisfaction") and "Dưới 10 lượt đánh giá" in words("satisfaction")
    late = words("overdue_backlog")
    assert "chờ công dân bổ sung không tính là quá hạn" in late and "rút sau T" in late
    assert "quá 1 lần" not in late  # that rule is the on-time rate's
    assert "quá 1 lần là trễ hạn" in words("on_time_rate")
    assert "ngày ròng" in words("processing_time_mean")
    assert "Under 30 dossiers" in words("on_time_rate", "en")


def test_previous_of_a_year_to_date_is_the_same_dates_a_year_before():
    from metrics.periods import previous

    assert previous(year_to_date(datetime(2026, 12, 1, 8))).label == "2025-01-01..2025-11-30"
    assert previous(year_to_date(datetime(2026, 3, 1, 8))).label == "2025-01-01..2025-02-28"


def test_an_indicator_status_does_not_move_by_the_hour(tmp_path):
    """A publication for a period not over yet is judged at its period's end, not at now."""
    c = build(tmp_path)
    a = metrics.progress(c, "coverage_5g", now=datetime(2026, 3, 16, 0, 0))
    b = metrics.progress(c, "coverage_5g", now=datetime(2026, 3, 16, 23, 0))
    assert (a["ratio"], a["projected"], a["status"]) == (b["ratio"], b["projected"], b["status"])
    c.close()


def test_a_derived_value_stands_on_its_smallest_input(con):
    """Cross-agency reduction, Phường Cửa Nam, February: the cross-agency dossiers finished are D03 and
    D04 (land procedure DD-01): n = 2 < 30, so the reduction is few data, never a bar of -128 %."""
    r = one(metrics.query(con, ["cross_agency_reduction"], periods="2026-02", units="00073", now=NOW),
            kpi="cross_agency_reduction")
    assert (r["n"], r["few_data"], r["status"]) == (2, True, "few_data")
