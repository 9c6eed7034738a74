"""Boundaries of the dossier rules, each on a warehouse holding just the dossiers in question."""

from __future__ import annotations

import pytest

from metrics import query, refresh

from .fixtures_metrics import NOW, build, d, new_warehouse


def rate(tmp_path, rows, kpi="on_time_rate", period="2026-02", **kw):
    con = build(tmp_path, rows, indicators=False)
    r = query(con, [kpi], grain=None, periods=period, now=NOW, **kw).iloc[0]
    fast = r["value"]
    raw = query(con, [kpi], grain=None, periods=period, now=NOW, use_aggregates=False, **kw).iloc[0]["value"]
    assert fast == raw
    con.close()
    return r


def test_finished_exactly_at_due_is_on_time(tmp_path):
    """completed_at == due_at -> on time (1/1); one minute later -> late (0/1)."""
    on = d("A", "00073", "HT-01", "online_full", "2026-02-02 09:00", "2026-02-05 17:00", "2026-02-05 17:00", "completed")
    assert rate(tmp_path, [on])["value"] == 100.0
    late = dict(on, completed_at="2026-02-05 17:01", updated_at="2026-02-05 17:01")
    (tmp_path / "late").mkdir()
    assert rate(tmp_path / "late", [late])["value"] == 0.0


def test_supplement_time_does_not_count_against_the_office(tmp_path):
    """Due 9 Feb 17:00, finished 11 Feb 16:00 after one supplement request that waited 3 working days:
    effective due 12 Feb 17:00 -> on time, and 7 - 3 = 4 working days of processing. Without the
    supplement days it is late."""
    row = d("A", "00073", "DD-01", "online_partial", "2026-02-02 09:00", "2026-02-09 17:00", "2026-02-11 16:00",
            "completed", supp=1, supp_days=3)
    assert rate(tmp_path, [row])["value"] == 100.0
    (tmp_path / "b").mkdir()
    assert rate(tmp_path / "b", [row], kpi="processing_time_mean")["value"] == 4.0
    (tmp_path / "c").mkdir()
    assert rate(tmp_path / "c", [dict(row, supplement_count=0, supplement_days=0)])["value"] == 0.0


def test_more_than_one_supplement_request_is_late(tmp_path):
    """Finished a day before due, but after two supplement requests -> late; also late while in flight."""
    done = d("A", "00073", "DD-01", "in_person", "2026-02-04 09:00", "2026-02-11 17:00", "2026-02-10 10:00",
             "completed", supp=2, supp_days=2)
    assert rate(tmp_path, [done])["value"] == 0.0
    (tmp_path / "b").mkdir()
    open_ = d("B", "00073", "DD-01", "in_person", "2026-03-02 09:00", "2026-03-30 17:00", "", "processing", supp=2)
    assert rate(tmp_path / "b", [open_], period="2026-03")["value"] == 0.0


def test_dossier_spanning_tet(tmp_path):
    """Received Thu 12 Feb 2026, finished Wed 25 Feb: 13 calendar days but only 4 working days (13, 23, 24, 25 Feb;
    14-22 Feb are Tết and weekends). A 2-day supplement wait pushes a 13 Feb due time past Tết to 24 Feb."""
    row = d("A", "00073", "KD-01", "online_full", "2026-02-12 10:00", "2026-02-26 17:00", "2026-02-25 15:00", "completed")
    assert rate(tmp_path, [row], kpi="processing_time_mean")["value"] == 4.0
    (tmp_path / "due").mkdir()
    con = build(tmp_path / "due", [
        d("B", "00073", "KD-01", "online_full", "2026-02-12 10:00", "2026-02-13 17:00", "2026-02-24 10:00",
          "completed", supp=1, supp_days=2)], indicators=False)
    assert str(con.execute("SELECT effective_due_at FROM dossiers").fetchone()[0]) == "2026-02-24 17:00:00"
    assert query(con, ["on_time_rate"], grain=None, periods="2026-02", now=NOW).iloc[0]["value"] == 100.0


def test_withdrawn_dossiers_never_count_in_on_time_or_backlog(tmp_path):
    """A withdrawn dossier past its due time: received counts it, on-time and the backlog do not (N/A, 0)."""
    row = d("A", "00073", "HT-01", "online_full", "2026-02-02 09:00", "2026-02-03 17:00", "2026-02-10 09:00", "withdrawn")
    con = build(tmp_path, [row], indicators=False)
    df = query(con, ["received", "on_time_rate", "overdue_backlog"], grain=None, periods="2026-02", now=NOW)
    assert df["value"].tolist() == [1, None, 0]


def test_a_handful_of_ratings(tmp_path):
    """Ratings 5, 4, 3, 1 and one unrated: satisfaction 2/4 = 50 % shown with its 4 ratings."""
    rows = [d(f"R{i}", "00073", "HT-01", "online_full", "2026-02-02 09:00", "2026-02-05 17:00", "2026-02-04 10:00",
              "completed", rating=r) for i, r in enumerate([5, 4, 3, 1, ""])]
    r = rate(tmp_path, rows, kpi="satisfaction")
    assert (r["value"], r["numerator"], r["denominator"]) == (50.0, 2, 4)


def test_no_dossiers_at_all(tmp_path):
    """An empty warehouse: counts 0, every rate N/A."""
    con = new_warehouse()
    refresh(con)
    df = query(con, ["received", "on_time_rate", "processing_time_median", "satisfaction"], periods="2026-03", now=NOW)
    assert df["value"].tolist() == [0, None, None, None]


@pytest.mark.parametrize("now_hour, expected", [(16, 100.0), (18, 0.0)])
def test_in_flight_judged_against_now(tmp_path, now_hour, expected):
    """An open dossier due today at 17:00 is 'not yet due' at 16:00 and late at 18:00 (current period)."""
    row = d("A", "00073", "HT-01", "online_full", "2026-03-16 08:00", "2026-03-16 17:00", "", "processing")
    con = build(tmp_path, [row], indicators=False)
    now = NOW.replace(hour=now_hour)
    assert query(con, ["on_time_rate"], periods="2026-03", now=now).iloc[0]["value"] == expected
    assert query(con, ["on_time_rate"], periods="2026-03", now=now, use_aggregates=False).iloc[0]["value"] == expected
