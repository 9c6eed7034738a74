"""Property: the fast path (aggregate tables, past-period memo, metrics_open) equals the raw-row SQL.

Random dossiers go through the real ingest; a second ingest updates some of them (status, finish,
unit, rating) and adds new ones, and the aggregates refresh incrementally. For random KPIs, grains,
periods, unit filters, scopes, breakdowns and judgement times, query() with and without aggregates
must agree exactly, and the incrementally refreshed tables must equal a full rebuild.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import query, refresh
from metrics.aggregates import read_state
from metrics.registry import get_registry

from .fixtures_metrics import NOW, d, ingest_rows, new_warehouse

UNITS = ["01", "00073", "00004", "00376"]
PROCS = ["HT-01", "DD-01", "CT-01", "KD-01", "XX-99"]  # XX-99 is not in the catalogue
CHANNELS = ["online_full", "online_partial", "in_person", "postal"]
STATUSES = ["received", "processing", "supplement_requested", "completed", "returned", "rejected", "withdrawn"]
START = datetime(2025, 10, 1, 7, 0)


def _when(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    return lo + timedelta(minutes=rng.randrange(max(1, int((hi - lo).total_seconds() // 60))))


def random_dossier(rng: random.Random, i: int, status: str | None = None, updated: datetime | None = None) -> dict:
    received = _when(rng, START, NOW - timedelta(hours=2))
    due = datetime.combine(received.date() + timedelta(days=rng.randrange(0, 21)), datetime.min.time()).replace(hour=17)
    due = max(due, received)
    status = status or rng.choice(STATUSES)
    completed = ""
    if status in ("completed", "returned", "rejected", "withdrawn"):
        completed = _when(rng, received, min(received + timedelta(days=rng.randrange(1, 40)), NOW - timedelta(hours=1)))
        completed = completed.strftime("%Y-%m-%d %H:%M")
    supp = rng.choice([0, 0, 0, 1, 1, 2, 3])
    return d(f"P{i:04d}", rng.choice(UNITS), rng.choice(PROCS), rng.choice(CHANNELS), received.strftime("%Y-%m-%d %H:%M"),
             due.strftime("%Y-%m-%d %H:%M"), completed, status, supp=supp, supp_days=rng.randrange(0, 6) if supp else 0,
             rating=rng.choice(["", "", 1, 2, 3, 4, 5]) if completed and status != "withdrawn" else "",
             complaint=rng.random() < 0.1, paid=rng.random() < 0.5, digitized=rng.random() < 0.6,
             reused=rng.random() < 0.3, applicant=rng.choice(["citizen", "business", ""]),
             updated=(updated or NOW - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"))


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """Two warehouses from the same first load: one refreshed in full, one refreshed again after a second ingest."""
    rng = random.Random(57)
    first = [random_dossier(rng, i, updated=START) for i in range(220)]
    # second load: 60 updates of existing dossiers (other status, unit, finish, rating) and 40 new ones
    second = []
    for row in rng.sample(first, 60):
        new = random_dossier(rng, int(row["dossier_id"][1:]), updated=NOW - timedelta(minutes=30))
        new["received_at"] = row["received_at"] if rng.random() < 0.7 else new["received_at"]
        if new["completed_at"] and new["completed_at"] < new["received_at"]:
            new["completed_at"] = new["received_at"]
        if new["due_at"] < new["received_at"]:
            new["due_at"] = new["received_at"]
        second.append(new)
    second += [random_dossier(rng, 1000 + i) for i in range(40)]
    # a third file before the same refresh: 20 of those versions replaced again (a version that was never in
    # the aggregates), and 5 of the new dossiers corrected already
    third = []
    for row in rng.sample(second[:60], 20) + second[60:65]:
        new = dict(row, rating=rng.choice(["", 1, 5]) if row["completed_at"] else "",
                   unit_code=rng.choice(UNITS), updated_at=(NOW - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M"))
        third.append(new)
    cons = {}
    for name in ("initial", "incremental", "incremental_partitions"):
        folder = tmp_path_factory.mktemp(name)
        con = new_warehouse()
        ingest_rows(con, folder, first, "first.csv")
        assert refresh(con)["mode"] == "full"
        if name != "initial":
            report = ingest_rows(con, folder, second, "second.csv")
            assert report.updated > 0 and report.inserted > 0
            assert ingest_rows(con, folder, third, "third.csv").updated == len(third)
            if name == "incremental_partitions":  # the fallback: whole (unit, month) partitions recomputed
                con.execute("DELETE FROM meta WHERE key = 'dossier_replaced_since'")
            result = refresh(con)
            assert result["mode"] == "incremental"
            assert result.get("method") == ("delta" if name == "incremental" else None)
        assert read_state(con).fresh
        cons[name] = con
    yield cons
    for c in cons.values():
        c.close()


DOSSIER_KPIS = [c for c, k in get_registry().kpis.items() if k.source == "dossiers"]
GRAIN_SPAN = {"day": 25, "week": 70, "month": 200, "quarter": 200, "year": 200}


@st.composite
def queries(draw):
    grain = draw(st.sampled_from(list(GRAIN_SPAN)))
    start = date(2025, 9, 1) + timedelta(days=draw(st.integers(0, 200)))
    end = start + timedelta(days=draw(st.integers(0, GRAIN_SPAN[grain])))
    units = draw(st.one_of(st.none(), st.lists(st.sampled_from(UNITS), min_size=1, max_size=3, unique=True)))
    scope = draw(st.one_of(st.none(), st.none(), st.lists(st.sampled_from(UNITS), min_size=1, max_size=4, unique=True)))
    by = draw(st.sampled_from([(), (), ("unit_code",), ("procedure_code",), ("channel",), ("sector",),
                               ("applicant_type",), ("unit_code", "channel")]))
    now = draw(st.sampled_from([NOW, NOW + timedelta(days=3, hours=5), datetime(2026, 4, 1), NOW - timedelta(days=20)]))
    kpis = draw(st.lists(st.sampled_from(DOSSIER_KPIS), min_size=1, max_size=5, unique=True))
    return dict(kpis=kpis, grain=grain, periods=(start, end), units=units, scope=scope, by=by, now=now)


def _norm(df):
    out = []
    for row in df.to_dict("records"):
        out.append({k: (round(v, 9) if isinstance(v, float) else v) for k, v in row.items()})
    return out


@pytest.mark.parametrize("which", ["initial", "incremental", "incremental_partitions"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries())
def test_fast_path_equals_raw_rows(warehouses, which, q):
    con = warehouses[which]
    fast = query(con, **q)
    raw = query(con, **q, use_aggregates=False)
    assert _norm(fast) == _norm(raw)


@pytest.mark.parametrize("which", ["incremental", "incremental_partitions"])
def test_incremental_refresh_equals_full_rebuild(warehouses, which):
    con = warehouses[which]
    tables = {t: f"SELECT * FROM {t} ORDER BY ALL" for t in ("metrics_day", "metrics_month", "metrics_hist")}
    tables["metrics_open"] = "SELECT * EXCLUDE (ingest_run_id) FROM metrics_open ORDER BY dossier_id"
    incremental = {t: con.execute(sql).fetchall() for t, sql in tables.items()}
    # zero rows are an artefact of deleting events; compare without them
    def nonzero(rows):
        return [r for r in rows if any(isinstance(x, int) and not isinstance(x, bool) and x for x in r[2:])]
    assert refresh(con, full=True)["mode"] == "full"
    full = {t: con.execute(sql).fetchall() for t, sql in tables.items()}
    for t in tables:
        a, b = (incremental[t], full[t]) if t == "metrics_open" else (nonzero(incremental[t]), nonzero(full[t]))
        assert a == b, t


def test_refresh_is_a_noop_without_new_runs(warehouses):
    assert refresh(warehouses["initial"])["mode"] == "noop"


def test_fast_path_reads_no_raw_rows(warehouses, monkeypatch):
    """With fresh aggregates and now past the data, a unit-level trend never touches the dossiers table."""
    import metrics.measures as m

    def refuse(*a, **k):
        raise AssertionError("raw SQL used")
    monkeypatch.setattr(m, "raw_sql", refuse)
    df = query(warehouses["incremental"], DOSSIER_KPIS, grain="month", periods=(date(2025, 10, 1), date(2026, 3, 16)),
               by=("unit_code",), now=NOW)
    assert len(df) > 0
    df = query(warehouses["incremental"], ["on_time_rate", "received"], grain="quarter", periods="2026",
               by=("procedure_code",), now=NOW)
    assert len(df) > 0


def test_memo_of_past_periods_follows_refresh(tmp_path):
    """Past months are memoised; an ingest that changes an old dossier must show in them after the refresh,
    while one that only touches the current month leaves earlier months' versions (and memo) as they were."""
    con = new_warehouse()
    rows = [d("M1", "00073", "HT-01", "online_full", "2026-01-05 09:00", "2026-01-07 17:00", "2026-01-06 09:00",
              "completed", updated="2026-01-06 09:00")]
    ingest_rows(con, tmp_path, rows, "a.csv")
    refresh(con)
    args = dict(kpis=["online_share", "on_time_rate"], grain="month", periods="2026-Q1", now=NOW)
    before = query(con, **args)
    assert before[before["period"] == "2026-01"]["value"].tolist() == [100.0, 100.0]
    v_jan = read_state(con).version_before(date(2026, 2, 1))
    # only March touched: January's version is unchanged
    ingest_rows(con, tmp_path, [d("M2", "00073", "HT-01", "in_person", "2026-03-02 09:00", "2026-03-03 17:00",
                                  updated="2026-03-02 09:00")], "b.csv")
    refresh(con)
    assert read_state(con).version_before(date(2026, 2, 1)) == v_jan
    assert read_state(con).version_before(date(2026, 4, 1)) != v_jan
    # the January dossier becomes in-person and late: January must change
    ingest_rows(con, tmp_path, [dict(rows[0], channel="in_person", completed_at="2026-01-09 09:00",
                                     updated_at="2026-03-10 09:00")], "c.csv")
    refresh(con)
    after = query(con, **args)
    assert after[after["period"] == "2026-01"]["value"].tolist() == [0.0, 0.0]
    assert _norm(after) == _norm(query(con, **args, use_aggregates=False))


def test_data_version_outlives_snapshots_of_newer_data_only(tmp_path):
    """metrics.data_version(con, before): the key of the dashboard's memo of past figures (issue 15). Today's
    dossiers leave it as it was; a change to a dossier of an earlier month, or an indicator load, changes it;
    stale aggregates (an ingest not refreshed yet) give None (the dashboard then keys by snapshot)."""
    from metrics import data_version

    con = new_warehouse()
    jan = d("V1", "00073", "HT-01", "online_full", "2026-01-05 09:00", "2026-01-07 17:00", "2026-01-06 09:00",
            "completed", updated="2026-01-06 09:00")
    ingest_rows(con, tmp_path, [jan], "a.csv")
    refresh(con)
    feb1 = date(2026, 2, 1)
    v = data_version(con, feb1)
    assert v is not None
    ingest_rows(con, tmp_path, [d("V2", "00073", "HT-01", "in_person", "2026-03-02 09:00", "2026-03-03 17:00",
                                  updated="2026-03-02 09:00")], "b.csv")
    assert data_version(con, feb1) is None  # not refreshed yet: no change log to trust
    refresh(con)
    assert data_version(con, feb1) == v  # March only: January's figures keep their key
    assert data_version(con, date(2026, 4, 1)) != v
    ingest_rows(con, tmp_path, [dict(jan, channel="in_person", updated_at="2026-03-10 09:00")], "c.csv")
    refresh(con)
    v_changed = data_version(con, feb1)
    assert v_changed not in (None, v)
    run = con.execute("SELECT nextval('ingest_run_seq')").fetchone()[0]
    con.execute("INSERT INTO ingest_runs (run_id, source, channel, started_at, status, inserted) "
                "VALUES (?, 'indicators', 'cli', TIMESTAMP '2026-03-10 10:00', 'ok', 3)", [run])
    refresh(con)
    assert data_version(con, feb1) not in (None, v_changed)  # indicators are not in the dossiers' log
