"""One-stop workload (issue 12): dossiers per counter officer per working day, in-person share, the ward
against the city median and the overload flag, against a hand-worked warehouse across Tết.

NOW = Monday 16 March 2026, 12:00 (tests/fixtures_metrics.py). February 2026 has 20 weekdays; Tết
(16-20 February) leaves 15 working days. March up to NOW: 2-6, 9-13 and 16 March = 11 working days.

Staffing (indicator counter_officers, head counts):
  00073 Cửa Nam   2026-01: 5, revised to 4 (carried into February); 2026-03: 2
  00004 Ba Đình   2026-02: 2 (carried into March)
  00376 Sóc Sơn   2026-02: 1
February dossiers received: 00073: 6 (3 in person; one received on 17 Feb, a Tết day), 00004: 10
(6 in person), 00376: 3 (all in person).
"""

from __future__ import annotations

import pytest

from metrics import explain, query
from metrics.workload import OverloadRule, overloaded

from .fixtures_metrics import NOW, d, ingest_rows, insert_indicators, new_warehouse

FEB_DAYS = ["02", "03", "04", "05", "06", "09", "10", "11", "12", "13", "23", "24", "25", "26", "27"]


def _feb(prefix: str, unit: str, n: int, in_person: int, on_tet: bool = False) -> list[dict]:
    rows = []
    for i in range(n):
        day = "17" if on_tet and i == n - 1 else FEB_DAYS[i]
        channel = "in_person" if i < in_person else "online_full"
        rows.append(d(f"{prefix}{i:02d}", unit, "HT-01", channel, f"2026-02-{day} 09:00", "2026-03-31 17:00"))
    return rows


DOSSIERS = (_feb("CN", "00073", 6, 3, on_tet=True) + _feb("BD", "00004", 10, 6) + _feb("SS", "00376", 3, 3)
            + [d("CN-M1", "00073", "HT-01", "in_person", "2026-03-03 09:00", "2026-03-31 17:00"),
               d("BD-M1", "00004", "HT-01", "online_full", "2026-03-04 09:00", "2026-03-31 17:00"),
               d("BD-M2", "00004", "HT-01", "in_person", "2026-03-16 08:00", "2026-03-31 17:00")])

STAFFING = [
    ("counter_officers", "00073", "2026-01", 5, "UBND", "2026-01-05 09:00"),
    ("counter_officers", "00073", "2026-01", 4, "UBND", "2026-01-20 09:00"),   # the correction counts
    ("counter_officers", "00073", "2026-03", 2, "UBND", "2026-03-02 09:00"),
    ("counter_officers", "00004", "2026-02", 2, "UBND", "2026-02-02 09:00"),
    ("counter_officers", "00376", "2026-02", 1, "UBND", "2026-02-02 09:00"),
    ("seconded_staff", "00073", "2026-02", 3, "SNV", "2026-02-02 09:00"),      # not in the denominator
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    from metrics.aggregates import refresh

    c = new_warehouse()
    ingest_rows(c, tmp_path_factory.mktemp("workload"), DOSSIERS, "dossiers.csv")
    insert_indicators(c, STAFFING)
    refresh(c)
    yield c
    c.close()


def values(con, kpi, period, **kw):
    df = query(con, [kpi], grain=None, periods=period, by="unit_code", now=NOW, **kw)
    return {r["unit_code"]: r for r in df.to_dict("records")}


def test_officer_days_across_tet(con):
    """February: 15 working days. 00073: 6 / (4 x 15) = 0.1; 00004: 10 / (2 x 15) = 0.3333; 00376:
    3 / (1 x 15) = 0.2. The dossier received on 17 Feb (Tết) counts; the holiday adds no officer-days."""
    v = values(con, "workload", "2026-02")
    assert {u: (r["numerator"], r["denominator"]) for u, r in v.items()} == {
        "00073": (6, 60), "00004": (10, 30), "00376": (3, 15)}
    assert v["00073"]["value"] == pytest.approx(0.1)
    assert v["00004"]["value"] == pytest.approx(1 / 3)
    assert v["00376"]["value"] == pytest.approx(0.2)


def test_city_workload_is_all_dossiers_over_all_officer_days(con):
    """City, February: (6 + 10 + 3) / (60 + 30 + 15) = 19 / 105."""
    r = query(con, ["workload"], grain=None, periods="2026-02", now=NOW).iloc[0]
    assert (r["numerator"], r["denominator"]) == (19, 105)
    assert r["value"] == pytest.approx(19 / 105)


def test_current_month_counts_working_days_begun_before_now(con):
    """March to NOW (11 working days): 00073 changed to 2 officers -> 22 officer-days, 1 dossier;
    00004 keeps February's 2 -> 22, 2 dossiers (one received this morning); 00376 keeps 1 -> 11, none."""
    v = values(con, "workload", "2026-03")
    assert {u: (r["numerator"], r["denominator"]) for u, r in v.items()} == {
        "00073": (1, 22), "00004": (2, 22), "00376": (0, 11)}
    assert v["00376"]["value"] == 0


def test_no_staffing_report_is_not_a_value(con):
    """January: only 00073 has a report (4 officers x 21 working days = 84); the others have none: no row,
    never 0. January 2026: 1 January is a holiday; 22 weekdays - 1 = 21."""
    v = values(con, "workload", "2026-01")
    assert list(v) == ["00073"]
    assert v["00073"]["denominator"] == 84 and v["00073"]["value"] == 0


def test_city_median_and_ratio(con):
    """Median of (0.1, 0.3333, 0.2) = 0.2 for every unit; ratios 0.5, 1.6667, 1.0."""
    med = values(con, "workload_city_median", "2026-02")
    assert {u: r["value"] for u, r in med.items()} == pytest.approx({"00073": 0.2, "00004": 0.2, "00376": 0.2})
    ratio = values(con, "workload_vs_median", "2026-02")
    assert {u: r["value"] for u, r in ratio.items()} == pytest.approx({"00073": 0.5, "00004": 5 / 3, "00376": 1.0})


def test_median_is_the_city_s_whatever_the_scope(con):
    """A viewer who sees only 00073 gets the city median (0.2) beside its own ratio (0.5), not the median of
    one unit (which would be 0.1 and a ratio of 1)."""
    ratio = values(con, "workload_vs_median", "2026-02", scope=["00073"])
    assert list(ratio) == ["00073"] and ratio["00073"]["value"] == pytest.approx(0.5)


def test_in_person_share(con):
    """February: 00073 3/6 = 50 %, 00004 6/10 = 60 %, 00376 3/3 = 100 %; city 12/19."""
    v = values(con, "in_person_share", "2026-02")
    assert {u: r["value"] for u, r in v.items()} == pytest.approx({"00073": 50.0, "00004": 60.0, "00376": 100.0})
    city = query(con, ["in_person_share"], grain=None, periods="2026-02", now=NOW).iloc[0]
    assert (city["numerator"], city["denominator"]) == (12, 19)


@pytest.mark.parametrize("kpi", ["workload", "workload_city_median", "workload_vs_median", "in_person_share"])
def test_fast_path_equals_raw_rows(con, kpi):
    for period in ("2026-01", "2026-02", "2026-03", "2026-Q1"):
        fast = query(con, [kpi], grain=None, periods=period, by="unit_code", now=NOW)
        raw = query(con, [kpi], grain=None, periods=period, by="unit_code", now=NOW, use_aggregates=False)
        assert fast[["unit_code", "value", "numerator", "denominator"]].to_dict("records") == \
            raw[["unit_code", "value", "numerator", "denominator"]].to_dict("records")


def test_explain_shows_calendar_and_staffing(con):
    sql = explain("workload", periods="2026-02", now=NOW)
    assert "calendar" in sql and "is_working" in sql and "'counter_officers'" in sql and "ASOF JOIN" in sql


def test_overload_flag_by_ratio_and_by_absolute_threshold(con):
    """Rule > 1.5 x median: only 00004 (1.67). Rule > 0.15 dossiers per officer-day: 00004 (0.33) and
    00376 (0.2). A unit at exactly the threshold is not flagged."""
    df = overloaded(con, "2026-02", now=NOW, rule=OverloadRule(ratio_to_median=1.5))
    assert df.loc[df["overloaded"], "unit_code"].tolist() == ["00004"]
    assert df.set_index("unit_code").loc["00004", "reason"] == "ratio"
    df = overloaded(con, "2026-02", now=NOW, rule=OverloadRule(ratio_to_median=None, per_officer_day=0.15))
    assert sorted(df.loc[df["overloaded"], "unit_code"]) == ["00004", "00376"]
    df = overloaded(con, "2026-02", now=NOW, rule=OverloadRule(ratio_to_median=1.0))
    assert sorted(df.loc[df["overloaded"], "unit_code"]) == ["00004"]   # 00376 sits at 1.0


@pytest.mark.parametrize("old,new,message", [
    ("    kind: staff_days\n    indicator: counter_officers\n", "    kind: staff_days\n",
     "a staff_days measure needs `indicator`"),
    ("    ratio: [received, counter_officer_days]", "    ratio: [counter_officer_days, received]",
     "`ratio` needs a flow measure then a staff_days measure"),
    ("    denominator: [counter_officer_days]\n    dimensions: [unit_code]\n",
     "    denominator: [counter_officer_days]\n", "declare `dimensions: [unit_code]`"),
])
def test_registry_names_what_is_wrong_with_a_staffing_declaration(tmp_path, old, new, message):
    import shutil

    from metrics.registry import DEFINITIONS_DIR, RegistryError, load_registry

    folder = tmp_path / "defs"
    shutil.copytree(DEFINITIONS_DIR, folder)
    text = (folder / "kpis.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "kpis.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegistryError, match="kpis.yaml") as exc:
        load_registry(folder)
    assert message in str(exc.value)


def test_overload_thresholds_file(tmp_path):
    from metrics.registry import RegistryError
    from metrics.workload import load_rule, thresholds

    assert thresholds() == OverloadRule(ratio_to_median=1.5, per_officer_day=None)   # the shipped workload.yaml
    f = tmp_path / "workload.yaml"
    f.write_text("overload: {ratio_to_median: lots}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="workload.yaml: overload"):
        load_rule(f)
    f.write_text("overload: {per_officer_day: 12}\n", encoding="utf-8")
    assert load_rule(f) == OverloadRule(ratio_to_median=1.5, per_officer_day=12)
