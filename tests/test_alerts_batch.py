"""The batched evaluation (one overdue list and one due-soon list for every unit, grouped afterwards) gives each
ward exactly what the per-unit metrics calls give it, on the seeded demo warehouse of the views (126 units); and recording
stays once per rule and key when another process recorded some of the same events a moment ago."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from access import users
from access.db import open_appdb
from alerts import store
from alerts.evaluate import Candidate, candidates, record, rules_with_owners
from alerts.models import AlertEvent
from metrics import due_soon_list, overdue_list
from metrics.backlog import LEAN_COLUMNS, every_unit_list

from .conftest import DEMO_NOW


@pytest.fixture
def con(views_con):
    """The shared demo warehouse of the dashboard's views (read only here)."""
    return views_con


@pytest.fixture
def db(db_url):
    d_ = open_appdb(db_url)
    yield d_
    d_.close()


def _ward_accounts(db, units: list[str], five: list[str]) -> None:
    for i, u in enumerate(units):
        users.add_user(db, f"w{i:03d}", "ward", [u], actor="test")
        store.default_rules(db, f"w{i:03d}")  # due_soon (2 working days) and overdue (threshold 0)
    users.add_user(db, "dept", "department", five, actor="test")
    store.add_rule(db, username="dept", rule="overdue", days=0, actor="test")  # over 5 units: one digest
    store.add_rule(db, username="dept", rule="due_soon", days=3, actor="test")


def test_batched_lists_equal_the_per_unit_lists(con, db):
    units = sorted(r[0] for r in con.execute("SELECT DISTINCT unit_code FROM dossiers WHERE unit_code <> '01'")
                   .fetchall())
    assert len(units) > 100
    late_units = list(dict.fromkeys(overdue_list(con, None, now=DEMO_NOW, limit=None)["unit_code"]))
    five = sorted({*late_units[:3], *units[:2]})  # a department over five units, some with overdue dossiers
    _ward_accounts(db, units, five)
    found = candidates(con, rules_with_owners(db), DEMO_NOW)
    got: dict[tuple[str, str | None, str], list[str]] = {}
    for rule, c in found:
        got[(rule.username, c.unit, rule.rule)] = [x["dossier_id"] for x in c.payload["dossiers"]]
        assert c.payload["count"] >= len(c.payload["dossiers"])

    expected: dict[tuple[str, str | None, str], list[str]] = {}
    for i, u in enumerate(units):
        soon = due_soon_list(con, [u], now=DEMO_NOW, within=2, limit=None)
        late = overdue_list(con, [u], now=DEMO_NOW, limit=None)
        if len(soon):
            expected[(f"w{i:03d}", u, "due_soon")] = list(soon["dossier_id"])[:100]
        if len(late):
            expected[(f"w{i:03d}", u, "overdue")] = list(late["dossier_id"])[:100]
    soon = due_soon_list(con, five, now=DEMO_NOW, within=3, limit=None)
    late = overdue_list(con, five, now=DEMO_NOW, limit=None)
    if len(soon):
        expected[("dept", None, "due_soon")] = list(soon["dossier_id"])[:100]
    if len(late):
        expected[("dept", None, "overdue")] = list(late["dossier_id"])[:100]
    assert got == expected
    # the fixture must exercise both lists for many wards, the department's five-unit merge included
    assert sum(k[2] == "due_soon" for k in got) > 50 and sum(k[2] == "overdue" for k in got) > 10
    # the department's lists are merged from several units' rows, in the lists' own order
    assert soon["unit_code"].nunique() > 1 and late["unit_code"].nunique() > 1


def test_every_unit_list_is_each_units_list(con):
    for kind, days, per_unit, least in (("overdue", "working_days_overdue", overdue_list, 15),
                                        ("due_soon", "working_days_left", due_soon_list, 300)):
        cols = [*LEAN_COLUMNS, days]
        every = every_unit_list(con, kind, DEMO_NOW, within=3)
        assert list(every.columns) == cols and len(every) > least and every["unit_code"].nunique() > 10
        kw = {"within": 3} if kind == "due_soon" else {}
        for unit, part in every.groupby("unit_code", sort=False):
            if unit == "01":  # the city departments' own dossiers: a list "of 01" is the whole city's
                continue
            alone = per_unit(con, [unit], now=DEMO_NOW, limit=None, **kw)[cols]
            assert part.reset_index(drop=True).equals(alone.reset_index(drop=True)), (kind, unit)
        # and no unit is missing: the per-unit lists of every unit add up to it
        assert len(every) == len(per_unit(con, None, now=DEMO_NOW, limit=None, **kw))
    with pytest.raises(ValueError):
        every_unit_list(con, "nope", DEMO_NOW)


def test_every_unit_list_keeps_to_the_viewers_scope(con):
    from metrics import scope

    scope.set_provider(lambda: frozenset({"00073"}))
    try:
        rows = every_unit_list(con, "due_soon", DEMO_NOW)
    finally:
        scope.set_provider(None)
    assert len(rows) and set(rows["unit_code"]) == {"00073"}


class _RacingDb:
    """The application database, where another process records `key` right after this one looked."""

    def __init__(self, db, rule_id: int, key: str) -> None:
        self.db, self.rule_id, self.key, self.raced = db, rule_id, key, False

    @contextmanager
    def session(self, readonly: bool = False):
        with self.db.session(readonly) as s:
            yield s
        if readonly and not self.raced:
            self.raced = True
            with self.db.session() as s:
                s.add(AlertEvent(rule_id=self.rule_id, dedupe_key=self.key, payload={"rule": "overdue"}))


def test_record_once_when_another_process_recorded_some_a_moment_ago(db):
    users.add_user(db, "chair", "ward", ["00073"], actor="test")
    [rule] = [r for r in store.default_rules(db, "chair") if r.rule == "overdue"]
    found = [(rule, Candidate(f"backlog:00073:2026-03-1{i}", "00073", {"rule": "overdue", "count": i}))
             for i in range(3)]
    racing = _RacingDb(db, rule.id, "backlog:00073:2026-03-11")
    events = record(racing, found)
    assert racing.raced
    assert sorted(e.dedupe_key for e in events) == ["backlog:00073:2026-03-10", "backlog:00073:2026-03-12"]
    with db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(AlertEvent)) == 3
    assert record(db, found) == []  # and again: nothing new
