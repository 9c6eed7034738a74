"""Status of plan tasks and groups (metrics/plan_status.py), against hand-worked dates; a KPI-linked task takes its
status from the metrics at a frozen clock."""

from __future__ import annotations

from datetime import date

import pytest

from metrics import plan_status as ps
from metrics.plan_status import TaskStatus as S

START, DEADLINE = date(2026, 1, 1), date(2026, 12, 31)  # 364 days apart


def test_the_linear_path_by_hand() -> None:
    assert ps.expected_percent(START, DEADLINE, date(2025, 12, 31)) == 0.0
    assert ps.expected_percent(START, DEADLINE, START) == 0.0
    assert ps.expected_percent(START, DEADLINE, date(2026, 7, 2)) == 50.0          # 182 of 364 days
    assert ps.expected_percent(START, DEADLINE, date(2026, 3, 31)) == pytest.approx(100 * 89 / 364)
    assert ps.expected_percent(START, DEADLINE, date(2027, 3, 1)) == 100.0


@pytest.mark.parametrize(("today", "percent", "expected"), [
    (date(2026, 7, 2), 40.0, S.AT_RISK),         # 50 expected, 10 points behind: at risk (>= 10)
    (date(2026, 7, 2), 40.1, S.ON_TRACK),        # 9.9 behind
    (date(2026, 7, 2), 75.0, S.ON_TRACK),        # ahead
    (date(2026, 7, 2), None, S.NOT_STARTED),     # started, no update yet
    (date(2025, 12, 31), 5.0, S.NOT_STARTED),    # before its start date
    (date(2026, 12, 31), 90.0, S.AT_RISK),       # on the deadline itself: not late yet, 100 expected
    (date(2027, 1, 1), 99.0, S.LATE),            # the day after the deadline, not done
    (date(2027, 1, 1), None, S.LATE),            # late even with no update
    (date(2027, 1, 1), 100.0, S.DONE),           # finished after the deadline: done
    (date(2026, 2, 1), 100.0, S.DONE),
])
def test_reported_status_by_hand(today, percent, expected) -> None:
    assert ps.reported_status(START, DEADLINE, percent, today) is expected


@pytest.mark.parametrize(("kpi_status", "today", "expected"), [
    ("achieved", date(2027, 2, 1), S.DONE),
    ("on_track", date(2026, 7, 2), S.ON_TRACK),
    ("on_track", date(2027, 1, 1), S.LATE),           # past the deadline and the target not achieved
    ("needs_acceleration", date(2026, 7, 2), S.AT_RISK),
    ("limited", date(2026, 7, 2), S.AT_RISK),
    ("deteriorating", date(2026, 7, 2), S.AT_RISK),
    ("no_data", date(2026, 7, 2), S.NOT_STARTED),
    ("few_data", date(2026, 7, 2), S.NOT_STARTED),
    (None, date(2026, 7, 2), S.NOT_STARTED),
    ("on_track", date(2025, 12, 1), S.NOT_STARTED),  # before its start
])
def test_kpi_task_status_by_hand(kpi_status, today, expected) -> None:
    assert ps.kpi_task_status(kpi_status, START, DEADLINE, today) is expected


@pytest.mark.parametrize(("statuses", "expected"), [
    (["done", "done"], S.DONE),
    (["done", "late", "on_track"], S.LATE),
    (["at_risk", "on_track", "done"], S.AT_RISK),
    (["not_started", "done"], S.ON_TRACK),
    (["not_started", "not_started"], S.NOT_STARTED),
    ([], S.NOT_STARTED),
])
def test_group_rolls_up_worst_first(statuses, expected) -> None:
    assert ps.group_status(statuses) is expected


def test_overdue_for_an_update_by_hand() -> None:
    today = date(2026, 12, 1)
    assert ps.stale(date(2026, 11, 3), START, "on_track", today)          # 28 days: 4 weeks
    assert not ps.stale(date(2026, 11, 4), START, "on_track", today)      # 27 days
    assert ps.stale(None, date(2026, 11, 3), "not_started", today)        # never updated, started 4 weeks ago
    assert not ps.stale(None, date(2026, 12, 2), "not_started", today)    # not started yet
    assert not ps.stale(date(2026, 1, 5), START, "done", today)


def _task(code, group, percent=None, kpi=None, last=None, lead="SKHCN", kind="department"):
    return {"code": code, "group_code": group, "start": START, "deadline": DEADLINE, "percent": percent, "kpi": kpi,
            "last_update": last, "lead_unit_code": lead, "lead_kind": kind}


def test_evaluate_and_groups_by_hand() -> None:
    today = date(2026, 7, 2)
    tasks = ps.evaluate([_task("A.1", "A", 100.0, last=date(2026, 6, 1)), _task("A.2", "A", 30.0, last=date(2026, 6, 30)),
                         _task("B.1", "B", kpi="on_time_rate"), _task("B.2", "B", 60.0, last=date(2026, 5, 1)),
                         _task("C.1", "C", kpi="online_share", lead="00073", kind="ward")], today,
                        {("on_time_rate", "01"): "needs_acceleration", ("online_share", "00073"): "achieved"})
    got = {t["code"]: (t["status"], t["expected_percent"], t["stale"]) for t in tasks}
    assert got == {"A.1": ("done", 50.0, False), "A.2": ("at_risk", 50.0, False), "B.1": ("at_risk", None, False),
                   "B.2": ("on_track", 50.0, True), "C.1": ("done", None, False)}
    gs = {g["code"]: (g["status"], g["tasks"], g["percent"]) for g in
          ps.groups([{"code": "A"}, {"code": "B"}, {"code": "C"}, {"code": "D"}], tasks)}
    # A: mean of 100 and 30; B: only the reported task's 60 (a KPI task counts when done); D: no task
    assert gs == {"A": ("at_risk", 2, 65.0), "B": ("at_risk", 2, 60.0), "C": ("done", 1, 100.0),
                  "D": ("not_started", 0, None)}


def test_a_kpi_linked_task_takes_its_status_from_the_metrics(demo_warehouse) -> None:
    """At the demo warehouse's frozen clock (DEMO_NOW, 16/03/2026), each task's status is its KPI's progress status
    (metrics.standing, as the overview shows it) mapped by the rule, for the city and for a ward's own figure: SIPAS
    needs acceleration -> at risk; online satisfaction achieved -> done; Cửa Nam's internal e-office share on track
    -> on track; Cửa Nam's on-time rate over too few dossiers (not judged) -> not started."""
    import duckdb

    import metrics
    from tests.conftest import DEMO_NOW
    from warehouse.db import current_snapshot

    con = duckdb.connect(str(current_snapshot(demo_warehouse)), read_only=True)
    tasks = [_task("K.1", "K", kpi="sipas"), _task("K.2", "K", kpi="satisfaction_online"),
             _task("K.3", "K", kpi="internal_eops", lead="00073", kind="ward"),
             _task("K.4", "K", kpi="on_time_rate", lead="00073", kind="ward")]
    try:
        assert ps.kpi_statuses(con, tasks, DEMO_NOW) == {
            ("sipas", "01"): "needs_acceleration", ("satisfaction_online", "01"): "achieved",
            ("internal_eops", "00073"): "on_track", ("on_time_rate", "00073"): "few_data"}
        assert metrics.progress(con, "internal_eops", unit="00073", now=DEMO_NOW)["status"] == "on_track"
        plan = ps.evaluate_plan(con, {"groups": [{"code": "K"}], "tasks": tasks}, DEMO_NOW)
    finally:
        con.close()
    assert [t["status"] for t in plan["tasks"]] == ["at_risk", "done", "on_track", "not_started"]
    assert plan["groups"][0]["status"] == "at_risk"
