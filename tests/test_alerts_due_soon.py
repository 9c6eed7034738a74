"""metrics.due_soon_list against a hand-worked fixture across the 30/4–1/5 holidays of 2026.

NOW = Wednesday 29 April 2026, 10:00. Working days from today (calendar wd_cum): Wed 29/4 = 0, Thu 30/4 and
Fri 1/5 holidays, Sat 2/5 and Sun 3/5 weekend, Mon 4/5 = 1, Tue 5/5 = 2, Wed 6/5 = 3. A due date on a
holiday counts as the working day before it (1/5 → 0).

    A  due 29/4 17:00 (later today)          → 0, listed
    B  due 29/4 08:00 (already past)          overdue: not listed
    C  due 04/5 17:00                         → 1
    D  due 05/5 12:00                         → 2
    E  due 06/5 09:00                         → 3: beyond 2 working days
    F  due 01/5 17:00 (a holiday)             → 0
    G  due 04/5, waiting for the citizen      not listed (not in the overdue measure's population)
    H  due 04/5, completed 28/4               not in flight
    I  due 04/5, another ward (00004)         only without a unit filter
    J  received 29/4 11:00 (after now)        not yet in flight
    K  withdrawn without a time               never in flight
"""

from __future__ import annotations

from datetime import datetime

import pytest

from metrics import due_soon_list, overdue_list
from metrics.aggregates import refresh

from .fixtures_metrics import d, ingest_rows, new_warehouse

NOW = datetime(2026, 4, 29, 10, 0)
R = "2026-04-20 09:00"
ROWS = [
    d("A", "00073", "HT-01", "online_full", R, "2026-04-29 17:00"),
    d("B", "00073", "HT-01", "online_full", R, "2026-04-29 08:00"),
    d("C", "00073", "DD-01", "in_person", R, "2026-05-04 17:00"),
    d("D", "00073", "HT-01", "online_full", R, "2026-05-05 12:00"),
    d("E", "00073", "HT-01", "online_full", R, "2026-05-06 09:00"),
    d("F", "00073", "CT-01", "in_person", R, "2026-05-01 17:00"),
    d("G", "00073", "HT-01", "online_full", R, "2026-05-04 17:00", status="supplement_requested", supp=1),
    d("H", "00073", "HT-01", "online_full", R, "2026-05-04 17:00", "2026-04-28 10:00", "completed"),
    d("I", "00004", "HT-01", "online_full", R, "2026-05-04 17:00"),
    d("J", "00073", "HT-01", "online_full", "2026-04-29 11:00", "2026-05-04 17:00"),
    d("K", "00073", "HT-01", "online_full", R, "2026-05-04 17:00", status="withdrawn"),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = new_warehouse()
    ingest_rows(c, tmp_path_factory.mktemp("due_soon"), ROWS, "dossiers.csv", now=datetime(2026, 4, 29, 12, 0))
    refresh(c)
    yield c
    c.close()


def test_calendar_has_the_holidays(con):
    rows = dict(con.execute("SELECT day::VARCHAR, is_working FROM calendar WHERE day BETWEEN '2026-04-29' "
                            "AND '2026-05-06'").fetchall())
    assert [k for k, v in rows.items() if v] == ["2026-04-29", "2026-05-04", "2026-05-05", "2026-05-06"]


def test_due_soon_hand_worked(con):
    df = due_soon_list(con, "00073", now=NOW)
    assert list(zip(df.dossier_id, df.working_days_left, strict=True)) == [
        ("A", 0), ("F", 0), ("C", 1), ("D", 2)]
    assert {"dossier_id", "unit_code", "unit_name", "procedure_code", "procedure_name_vi", "procedure_name_en",
            "received_at", "effective_due_at", "working_days_left", "status"} <= set(df.columns)
    assert df.procedure_name_vi.iloc[2] == "Cấp giấy chứng nhận quyền sử dụng đất"


def test_due_soon_within_and_units(con):
    assert list(due_soon_list(con, "00073", now=NOW, within=0).dossier_id) == ["A", "F"]
    assert list(due_soon_list(con, "00073", now=NOW, within=3).dossier_id) == ["A", "F", "C", "D", "E"]
    assert list(due_soon_list(con, None, now=NOW).dossier_id) == ["A", "F", "C", "I", "D"]
    assert list(due_soon_list(con, None, now=NOW, limit=2).dossier_id) == ["A", "F"]


def test_due_soon_is_the_complement_of_overdue(con):
    soon = set(due_soon_list(con, "00073", now=NOW, within=10_000, limit=None).dossier_id)
    over = set(overdue_list(con, "00073", now=NOW, limit=None).dossier_id)
    assert over == {"B"}
    assert soon == {"A", "C", "D", "E", "F"}
    assert not soon & over


def test_due_soon_scope(con):
    assert list(due_soon_list(con, None, now=NOW, scope=["00004"]).dossier_id) == ["I"]
    assert due_soon_list(con, "00073", now=NOW, scope=["00004"]).empty
