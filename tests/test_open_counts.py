"""metrics_open_counts: the unfinished dossiers folded into counts answer the stocks judged now exactly.

The fold clips each time column at the data's horizon C, which keeps every `col <op> T` for T > C (the
fast path's own condition). These tests check that claim on random rows at many T, that a declaration the
fold cannot keep is refused (and read from metrics_open instead), and that query() uses it and agrees
with the raw rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import open_counts, query, refresh
from metrics.aggregates import read_state
from metrics.registry import get_registry
from metrics.sqlparts import source_sql, stock_agg, ts_lit

from .fixtures_metrics import NOW, d, ingest_rows, new_warehouse

REG = get_registry()
STOCKS = sorted(n for n, m in REG.measures.items() if m.kind in ("stock", "current"))
C = datetime(2026, 3, 16, 11, 0)  # the horizon of the random rows
STATUSES = ["received", "processing", "supplement_requested", "withdrawn"]


def _open_table(con, rows) -> None:
    con.execute("CREATE OR REPLACE TABLE procedures (procedure_code VARCHAR, fee_bearing BOOLEAN, sector VARCHAR)")
    con.execute("INSERT INTO procedures VALUES ('A', true, 'x'), ('B', false, 'y')")
    con.execute("""CREATE OR REPLACE TABLE metrics_open (unit_code VARCHAR, procedure_code VARCHAR, status VARCHAR,
                   received_at TIMESTAMP, completed_at TIMESTAMP, effective_due_at TIMESTAMP, supplement_count INTEGER)""")
    if rows:
        con.executemany("INSERT INTO metrics_open VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


_minutes = st.integers(-60 * 24 * 40, 60 * 24 * 20)  # 40 days before C to 20 days after
_row = st.builds(
    lambda unit, proc, status, rec, comp, due, supp: (
        unit, proc, status, C + timedelta(minutes=min(rec, 0)),
        None if comp is None else C + timedelta(minutes=min(comp, 0)),  # events are never after the horizon
        C + timedelta(minutes=due), supp),
    st.sampled_from(["u1", "u2", "u3"]), st.sampled_from(["A", "B", "Z"]), st.sampled_from(STATUSES),
    _minutes, st.one_of(st.none(), _minutes), _minutes, st.integers(0, 3))


@settings(max_examples=120, deadline=None)
@given(rows=st.lists(_row, max_size=40), later=st.lists(st.integers(1, 60 * 24 * 25), min_size=1, max_size=4))
def test_folded_counts_equal_the_open_rows_at_every_time_after_the_horizon(rows, later):
    con = duckdb.connect()
    _open_table(con, rows)
    layout = open_counts.build(con, REG, C)
    assert layout.measures == set(STOCKS)
    # T: just after C, exactly on a due time still ahead, and random minutes later
    times = [C + timedelta(microseconds=1)] + [r[5] for r in rows if r[5] > C][:2] + [C + timedelta(minutes=x) for x in later]
    for t in times:
        assert layout.answers(STOCKS, ("unit_code",), t)
        folded = con.execute(
            f"SELECT unit_code, {', '.join(open_counts.stock_sum(REG.measures[n], ts_lit(t)) for n in STOCKS)} "
            f"FROM {open_counts.TABLE} GROUP BY ALL ORDER BY ALL").fetchall()
        raw = con.execute(
            f"SELECT unit_code, {', '.join(stock_agg(REG.measures[n], ts_lit(t)) for n in STOCKS)} "
            f"FROM ({source_sql('metrics_open')}) GROUP BY ALL ORDER BY ALL").fetchall()
        assert folded == raw, t
    assert con.execute(f"SELECT coalesce(sum(n), 0) FROM {open_counts.TABLE}").fetchall()[0][0] == len(rows)


def test_the_fold_is_smaller_and_refuses_times_it_cannot_keep():
    con = duckdb.connect()
    rows = [(f"u{i % 3}", "A", "processing", C - timedelta(hours=i), None, C - timedelta(days=1), 0) for i in range(300)]
    _open_table(con, rows)
    open_counts.build(con, REG, C)
    assert con.execute(f"SELECT count(*) FROM {open_counts.TABLE}").fetchall()[0][0] == 3  # one row per unit
    layout = open_counts.Layout(C, frozenset(STOCKS))
    assert not layout.answers(STOCKS, ("unit_code",), C)  # not after the horizon: the clip does not hold
    assert not layout.answers(STOCKS, ("channel",), C + timedelta(hours=1))  # a column the fold does not keep
    assert not layout.answers(["in_flight", "not_a_stock"], (), C + timedelta(hours=1))


@pytest.mark.parametrize("at, served", [
    ("received_at < {T}", True),
    ("{T} >= received_at AND completed_at IS NOT NULL", True),
    ("received_at < {T} AND status IN ('received', 'processing')", True),
    ("received_at < {T} - INTERVAL 30 DAY", False),           # not T itself: the clip could cross it
    ("date_diff('day', received_at, {T}) > 5", False),        # an age, not an order
    ("received_at < {T} AND completed_at > effective_due_at", False),  # two times against each other
    ("received_at = {T}", False),
    ("d.received_at < {T}", False),                            # qualified: not a column of the fold
    ("received_at < {T} AND proc_sector = 'x'", False),        # not a metrics_open column
    ("received_at < {T} AND ", False),                         # does not parse
])
def test_which_declarations_the_fold_serves(at, served):
    con = duckdb.connect()
    _open_table(con, [])
    cols = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'metrics_open'").fetchall())
    m = REG.measures["in_flight"].model_copy(update={"at": at})
    assert (open_counts.at_columns(con, m, cols) is not None) is served


def test_a_filter_on_the_catalogue_is_kept_as_a_flag():
    con = duckdb.connect()
    _open_table(con, [("u1", "A", "processing", C - timedelta(days=2), None, C + timedelta(days=1), 0),
                      ("u1", "B", "processing", C - timedelta(days=2), None, C + timedelta(days=1), 0)])
    m = REG.measures["in_flight"].model_copy(update={"filter": "proc_fee_bearing"})
    reg = REG.model_copy(update={"measures": {**REG.measures, "in_flight": m}})
    open_counts.build(con, reg, C)
    t = ts_lit(C + timedelta(hours=1))
    assert con.execute(f"SELECT {open_counts.stock_sum(m, t)} FROM {open_counts.TABLE}").fetchall() == [(1,)]


def _warehouse(tmp_path):
    con = new_warehouse()
    rows = [d(f"O{i}", unit, "HT-01", "online_full", f"2026-03-{2 + i % 10:02d} 09:00", f"2026-03-{5 + i % 20:02d} 17:00",
              status=status, supp=i % 3)
            for i, (unit, status) in enumerate([(u, s) for u in ("00073", "00004", "00376")
                                                for s in ("received", "processing", "supplement_requested")] * 4)]
    rows.append(d("F1", "00073", "CT-01", "in_person", "2026-03-02 09:00", "2026-03-03 17:00", "2026-03-04 10:00", "completed"))
    ingest_rows(con, tmp_path, rows, "open.csv")
    return con


def test_query_judges_now_from_the_fold_and_agrees_with_raw_rows(tmp_path, monkeypatch):
    con = _warehouse(tmp_path)
    refresh(con)
    state = read_state(con)
    assert state.open_counts is not None and state.open_counts.measures == set(STOCKS)
    n_open = con.execute("SELECT count(*) FROM metrics_open").fetchall()[0][0]
    assert con.execute(f"SELECT count(*) FROM {open_counts.TABLE}").fetchall()[0][0] < n_open
    used = []
    real = open_counts.stock_sum
    monkeypatch.setattr(open_counts, "stock_sum", lambda m, t: used.append(m.name) or real(m, t))
    for now in (NOW, NOW + timedelta(days=4, hours=7), datetime(2026, 3, 31, 23, 0)):
        for by in ((), ("unit_code",)):
            args = dict(kpis=["overdue_backlog", "on_time_rate"], grain="month",
                        periods=(date(2026, 2, 1), now.date()), by=by, now=now)
            fast, raw = query(con, **args), query(con, **args, use_aggregates=False)
            assert fast.drop(columns=["note"], errors="ignore").equals(raw.drop(columns=["note"], errors="ignore")), (now, by)
    assert set(used) >= {"in_flight", "in_flight_overdue"}


def test_tables_built_before_the_fold_get_it_at_the_next_refresh(tmp_path):
    con = _warehouse(tmp_path)
    refresh(con)
    con.execute(f"DROP TABLE {open_counts.TABLE}")
    con.execute("DELETE FROM metrics_state WHERE key = ?", [open_counts.STATE_KEY])
    assert read_state(con).open_counts is None
    args = dict(kpis=["overdue_backlog"], grain="month", periods="2026-03", now=NOW)
    before = query(con, **args)  # no fold: metrics_open answers
    assert refresh(con)["mode"] == "open_counts"
    assert read_state(con).open_counts is not None
    assert query(con, **args).equals(before)
    assert refresh(con)["mode"] == "noop"
