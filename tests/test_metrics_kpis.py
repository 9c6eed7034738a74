"""Each KPI against the hand-worked fixture (tests/fixtures_metrics.py); NOW = 2026-03-16 12:00.

February 2026 is a past period (judged at 1 March 00:00); March 2026 is the current one (judged NOW).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from metrics import explain, index766, list_kpis, overdue_list, progress, query
from metrics.cli import kpis_report
from metrics.doc import metric_dictionary, write_dictionary
from metrics.registry import get_registry

from .fixtures_metrics import NOW, build


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build(tmp_path_factory.mktemp("kpis"))
    yield c
    c.close()


def one(con, kpi, period, units=None, by=(), **kw):
    df = query(con, [kpi], grain=None, periods=period, units=units, by=by, now=NOW, **kw)
    assert len(df) == 1, df
    return df.iloc[0]


def approx(x):
    return pytest.approx(x, abs=1e-9)


def test_received_values(con):
    assert one(con, "received", "2026-02")["value"] == 8
    assert one(con, "received", "2026-03")["value"] == 4
    assert one(con, "received", "2026-03", units="00004")["value"] == 2


def test_on_time_rate_past_period(con):
    """February, judged at T = 1 March 00:00.

    Finished in Feb: D01 (exactly at due: on time), D02 (late), D03 (after due_at but within the 3
    supplement days: on time), D04 (two supplement requests: late), D05 (across Tết, on time) -> 5, 3 on time.
    In flight at T: D07 (due 5 Mar: not yet due), D08 (due 13 Feb: late); D06 withdrawn never counts.
    (3 + 1) / (5 + 2) = 57.142857 %.
    """
    r = one(con, "on_time_rate", "2026-02")
    assert (r["numerator"], r["denominator"]) == (4, 7)
    assert r["value"] == approx(400 / 7)
    assert r["as_of"] == NOW.replace(day=1, month=3, hour=0)


def test_on_time_rate_current_period_judged_now(con):
    """March, judged NOW: finished D07 (on time), D11 (late), D12 (on time); in flight D08 (overdue),
    D09 (supplement requested, due 5 Mar: late), D10 (due 20 Mar: not yet due). (2 + 1) / (3 + 3) = 50 %."""
    r = one(con, "on_time_rate", "2026-03")
    assert (r["numerator"], r["denominator"], r["value"]) == (3, 6, 50.0)
    assert r["as_of"] == NOW


def test_overdue_backlog_now_and_past(con):
    """Now: D08 (processing, due 13 Feb); D09 waits for the citizen (clock paused), D10 is not due -> 1.
    End of January: nothing in flight -> 0; end of February: D08 -> 1."""
    assert one(con, "overdue_backlog", "2026-03")["value"] == 1
    assert one(con, "overdue_backlog", "2026-02")["value"] == 1
    assert one(con, "overdue_backlog", "2026-01")["value"] == 0


def test_overdue_list(con):
    """D08 is 16 working days past its due date on 16 March (5 + 5 + 5 + 1 working days after 13 Feb)."""
    df = overdue_list(con, now=NOW)
    assert df[["dossier_id", "unit_code", "procedure_code", "working_days_overdue", "status"]].values.tolist() == [
        ["D08", "00073", "CT-01", 16, "processing"]]
    assert df["procedure_name_vi"].iloc[0] == "Chứng thực chữ ký"
    assert overdue_list(con, units=["00004"], now=NOW).empty
    assert overdue_list(con, now=NOW, scope=["00004"]).empty


def test_processing_time(con):
    """Feb finishes: D01 3, D02 4, D03 7-3 = 4, D04 4-2 = 2, D05 4 (13 calendar days over Tết): mean 17/5 = 3.4,
    median of [2, 3, 4, 4, 4] = 4. Mar: D07 4, D11 4, D12 2: mean 10/3, median 4."""
    r = one(con, "processing_time_mean", "2026-02")
    assert (r["value"], r["numerator"], r["denominator"]) == (3.4, 17, 5)
    assert one(con, "processing_time_median", "2026-02")["value"] == 4
    assert one(con, "processing_time_mean", "2026-03")["value"] == approx(10 / 3)
    assert one(con, "processing_time_median", "2026-03")["value"] == 4
    assert one(con, "processing_time_median", "2026-03", units="00376")["value"] == 2


def test_cross_agency_reduction(con):
    """Cross-agency (DD-01) finished in Feb: D03 4 wd, D04 2 wd -> mean 3; baseline 2024-07..2025-06:
    D13 8 wd, D14 4 wd -> mean 6. 1 - 3/6 = 50 %. March has none finished -> N/A."""
    assert one(con, "cross_agency_reduction", "2026-02")["value"] == approx(50.0)
    assert one(con, "cross_agency_reduction", "2026-02", units="00073")["value"] == approx(50.0)
    assert one(con, "cross_agency_reduction", "2026-03")["value"] is None
    assert one(con, "cross_agency_reduction", "2026-02", units="00004")["value"] is None


def test_online_shares(con):
    """Feb receipts online: D01 full, D03 partial, D05 full, D06 full, D07 partial -> 5/8; fully online 3/8."""
    r = one(con, "online_share", "2026-02")
    assert (r["numerator"], r["denominator"], r["value"]) == (5, 8, 62.5)
    assert one(con, "full_online_share", "2026-02")["value"] == 37.5
    assert one(con, "online_share", "2026-03")["value"] == 50.0


def test_zero_denominator_is_na_not_zero(con):
    """Xã Sóc Sơn received nothing in February: counts are 0, rates are N/A."""
    assert one(con, "received", "2026-02", units="00376")["value"] == 0
    r = one(con, "online_share", "2026-02", units="00376")
    assert r["value"] is None and r["denominator"] == 0
    assert one(con, "on_time_rate", "2026-01")["value"] is None


def test_service_coverage(con):
    """Active procedures: HT-01 full, DD-01 partial, CT-01 none, KD-01 full (OLD-01 inactive): full 2/4, online 3/4."""
    df = query(con, ["service_coverage_full", "service_coverage_online"], periods="2026-03", now=NOW)
    assert df[["kpi", "value", "numerator", "denominator"]].values.tolist() == [
        ["service_coverage_full", 50.0, 2, 4], ["service_coverage_online", 75.0, 3, 4]]
    by_sector = query(con, ["service_coverage_full"], periods="2026-03", by=["sector"], now=NOW)
    assert dict(zip(by_sector["sector"], by_sector["value"], strict=True)) == {
        "Chứng thực": 0.0, "Hộ tịch": 100.0, "Kinh doanh": 100.0, "Khác": None, "Đất đai": 0.0}


def test_satisfaction_with_rating_count(con):
    """Ratings by finish date. Feb: D01 5, D05 4 -> 2/2 = 100 %. Mar: D07 5, D11 2, D12 3 -> 1/3."""
    r = one(con, "satisfaction", "2026-02")
    assert (r["value"], r["numerator"], r["denominator"]) == (100.0, 2, 2)
    r = one(con, "satisfaction", "2026-03")
    assert r["value"] == approx(100 / 3) and r["denominator"] == 3


def test_satisfaction_766(con):
    """100 - (late rate + complaint rate). Feb: 100 - (42.857143 + 0/8) = 57.142857.
    Mar: late 50 %, complaints D11 1/4 = 25 % -> 25."""
    assert one(con, "satisfaction_766", "2026-02")["value"] == approx(400 / 7)
    assert one(con, "satisfaction_766", "2026-03")["value"] == approx(25.0)


def test_payment_digitisation_reuse(con):
    """Fee-bearing (CT, DD, KD) Feb receipts: D02, D03, D04, D05, D08; paid online D03, D05 -> 2/5.
    Digitised Feb: D01, D03, D05, D07 -> 4/8; reused D01, D05 -> 2/8."""
    r = one(con, "online_payment_share", "2026-02")
    assert (r["numerator"], r["denominator"], r["value"]) == (2, 5, 40.0)
    assert one(con, "digitisation", "2026-02")["value"] == 50.0
    assert one(con, "data_reuse", "2026-02")["value"] == 25.0
    assert one(con, "online_payment_share", "2026-03")["value"] == approx(100 / 3)


def test_coverage_5g_population_weighted(con):
    """2026-Q1: 80 % x 100,000 + 60 % x 300,000 + 40 % x 50,000 (Sóc Sơn: 2024, the nearest earlier year)
    = 280,000 covered of 450,000 = 62.22 %. A month shows its quarter. One unit: its own value."""
    r = one(con, "coverage_5g", "2026-03")
    assert (r["numerator"], r["denominator"]) == (280000, 450000)
    assert r["value"] == approx(28000000 / 450000)
    assert r["source_period"] == "2026-Q1"
    assert one(con, "coverage_5g", "2026-03", units="00004")["value"] == 60.0
    assert one(con, "coverage_5g", "2025-Q2")["value"] is None  # nothing published for it


def test_indicator_latest_publication_and_revision(con):
    """Digital economy share 2025-Q3 was revised from 12.0 to 12.4; the year 2025 shows its latest quarter."""
    r = one(con, "digital_economy_share", "2025-Q3")
    assert r["value"] == 12.4 and bool(r["revised"]) is True
    assert str(r["first_published"])[:10] == "2025-11-01" and str(r["last_published"])[:10] == "2025-12-15"
    r = one(con, "digital_economy_share", "2025")
    assert r["value"] == 13.0 and r["source_period"] == "2025-Q4"
    assert one(con, "digital_economy_share", "2025", units="00073")["value"] is None


def test_indicators_asked_together_answer_as_alone(con):
    """The city overview asks every indicator KPI at once: the weighted mean reads every unit's rows, the
    city's own series only the city's; each answers as when asked alone, and a mixed selection has no
    series of its own (N/A) beside its weighted mean."""
    both = ["coverage_5g", "digital_economy_share"]
    for period in ("2025-Q3", "2026-03", "2025"):
        together = query(con, both, grain=None, periods=period, now=NOW).set_index("kpi")
        for code in both:
            alone = query(con, [code], grain=None, periods=period, now=NOW).iloc[0]
            for col in ("value", "numerator", "denominator", "source_period", "revised"):
                assert together.loc[code, col] == alone[col] or (pd.isna(alone[col]) and pd.isna(together.loc[code, col]))
    mixed = query(con, both, grain=None, periods="2026-Q1", scope=["00004", "00376"], now=NOW).set_index("kpi")
    assert mixed.loc["digital_economy_share", "value"] is None
    assert mixed.loc["coverage_5g", "value"] == query(con, ["coverage_5g"], grain=None, periods="2026-Q1",
                                                      scope=["00004", "00376"], now=NOW).iloc[0]["value"]
    assert mixed.loc["coverage_5g", "value"] is not None


def test_targets_status_and_change(con):
    """On-time March to date: 50 % against 100 % by end-2026, February 57.14 % beside it; March is not
    over at NOW, so it is shown and never judged (status 'partial', no R, no projection, no change).
    5G: 40 % (2025-Q3 baseline) -> 62.2 %: on track (a publication: never partial)."""
    r = one(con, "on_time_rate", "2026-03")
    assert (r["target"], r["target_comparison"], str(r["target_deadline"])) == (100.0, ">=", "2026-12-31")
    assert (r["status"], r["ratio"], r["projected"], r["partial"]) == ("partial", None, None, True)
    assert r["change"] is None and r["previous"] == approx(400 / 7)  # hours of March are no change on February
    r = one(con, "coverage_5g", "2026-03")
    assert r["status"] == "on_track" and r["base_value"] == 40.0 and r["base_period"] == "2025-Q3"
    assert r["projected"] == 100.0  # bounded at 100 %
    assert one(con, "received", "2026-03")["status"] is None  # no target, no status


def test_scope_is_honoured(con):
    """A viewer who may see Phường Ba Đình only gets its figures, labelled with its code, whatever they ask."""
    df = query(con, ["received"], periods="2026-03", scope=["00004"], now=NOW)
    assert df[["unit_code", "value"]].values.tolist() == [["00004", 2]]
    assert query(con, ["received"], periods="2026-03", units=["00073"], scope=["00004"], now=NOW).empty
    sub = query(con, ["received"], periods="2026-03", scope=["00004", "00376"], now=NOW)
    assert sub[["unit_code", "value"]].values.tolist() == [["*", 3]]
    by_unit = query(con, ["received"], periods="2026-03", by=["unit_code"], scope=["00004", "00376"], now=NOW)
    assert by_unit[["unit_code", "value"]].values.tolist() == [["00004", 2], ["00376", 1]]


def test_periods_and_grains(con):
    """A quarter label at month grain gives its months; a date range gives every week that meets it."""
    df = query(con, ["received"], grain="month", periods="2026-Q1", now=NOW)
    assert df[["period", "value"]].values.tolist() == [["2026-01", 0], ["2026-02", 8], ["2026-03", 4]]
    assert query(con, ["received"], grain=None, periods="2026-Q1", now=NOW)["value"].tolist() == [12]
    weeks = query(con, ["received"], grain="week", periods=["2026-W07", "2026-W08"], now=NOW)
    assert weeks[["period", "value"]].values.tolist() == [["2026-W07", 2], ["2026-W08", 0]]  # Tết week empty
    assert query(con, ["received"], grain="month", periods="2026-Q2", now=NOW).empty  # the future


def test_index766(con):
    """Phường Cửa Nam, February: publicity 15.5/18; on-time 57.14 % of 100 -> 11.43/20; coverage 75/80 x 8 = 7.5,
    online 62.5 >= 50 -> 8, payment 40 % -> 2.4; digitisation 50/80 x 11 = 6.88, reuse 25/80 x 11 = 3.44;
    satisfaction 57.14/90 x 18 = 11.43. Total 66.58 of 100."""
    df = index766(con, units=["00073"], period="2026-02", now=NOW)
    comp = df[df["row_type"] == "component"]
    assert comp["score"].tolist() == [15.5, 11.43, 7.5, 8.0, 2.4, 6.88, 3.44, 11.43]
    total = df[df["row_type"] == "total"].iloc[0]
    assert (total["score"], total["points_computable"]) == (66.58, 100.0)
    # Sóc Sơn: no publicity score and no February dossiers: N/A, never 0, and out of fewer points
    s = index766(con, units=["00376"], period="2026-02", now=NOW)
    assert s[s["kpi"] == "on_time_rate"]["score"].isna().all()
    t = s[s["row_type"] == "total"].iloc[0]
    assert t["points_computable"] == 8.0 and t["score"] == 7.5


def test_progress(con):
    p = progress(con, "coverage_5g", now=NOW)
    assert p["status"] == "on_track" and p["period"] == "2026-Q1"
    # an annual target: the complete months of the year so far, the last complete month beside it
    p = progress(con, "on_time_rate", unit="00073", now=NOW)
    assert (p["period"], p["basis"], p["last_month_period"]) == ("2026-01-01..2026-02-28", "year_to_date", "2026-02")


def test_explain_and_list(con):
    sql = explain("on_time_rate", periods="2026-02", now=NOW)
    assert "effective_due_at >= per.t" in sql and "supplement_count <= 1" in sql
    # finished on time, not yet due at T, finished, in flight at T
    assert con.execute(sql).fetchall() == [("2026-02", 3, 1, 5, 2)]
    kpis = list_kpis()
    assert {"on_time_rate", "coverage_5g", "satisfaction_766"} <= set(kpis["kpi"])


def test_dictionary_has_every_kpi(tmp_path):
    text = metric_dictionary("vi")
    for code, k in get_registry().kpis.items():
        assert f"## `{code}` — {k.name_vi}" in text
    assert "xấp xỉ" in text
    path = write_dictionary(tmp_path / "docs" / "metrics.md", lang="en")
    assert "## `on_time_rate` — On-time rate" in path.read_text(encoding="utf-8")


def test_cli_report(con):
    table = kpis_report(con, "2026-02", None, "00073", "table", now=NOW)
    assert "Phường Cửa Nam (00073)" in table
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in table and "57,1 %" in table and "4 / 7" in table
    rows = json.loads(kpis_report(con, "2026-02", None, "00073", "json", now=NOW))
    on_time = next(r for r in rows if r["kpi"] == "on_time_rate")
    assert on_time["unit_name"] == "Phường Cửa Nam" and on_time["numerator"] == 4
    csv_text = kpis_report(con, "2026-02", None, None, "csv", now=NOW)
    assert csv_text.splitlines()[0].startswith("kpi,name,unit_code,unit_name,period")
