"""Dossier ingest: upsert, idempotency, order independence, quarantine rules, unreadable files."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.runner import ingest_file, ingest_files, quarantine_summary

from .conftest import dossier, write_csv

NOW = datetime(2026, 3, 10, 12, 0)


def rows(con, sql="SELECT dossier_id, status, updated_at FROM dossiers ORDER BY dossier_id"):
    return con.execute(sql).fetchall()


def table_state(con):
    return con.execute("SELECT * EXCLUDE (ingest_run_id) FROM dossiers ORDER BY dossier_id").fetchall()


def test_insert_then_update_latest_wins(con, tmp_path):
    a = write_csv(tmp_path / "a.csv", [dossier(dossier_id="D1"), dossier(dossier_id="D2")])
    b = write_csv(tmp_path / "b.csv", [
        dossier(dossier_id="D1", status="completed", completed_at="2026-03-03 10:00:00",
                updated_at="2026-03-03 10:00:00", rating=5),
        # older than what is stored: must not win
        dossier(dossier_id="D2", status="rejected", completed_at="2026-03-02 10:00:00",
                updated_at="2026-03-01 10:00:00"),
    ])
    r1 = ingest_file(con, a, "dossiers", now=NOW)
    r2 = ingest_file(con, b, "dossiers", now=NOW)
    assert (r1.inserted, r1.updated, r1.unchanged, r1.status) == (2, 0, 0, "ok")
    assert (r2.inserted, r2.updated, r2.unchanged) == (0, 1, 1)
    assert rows(con) == [
        ("D1", "completed", datetime(2026, 3, 3, 10, 0)),
        ("D2", "processing", datetime(2026, 3, 2, 9, 0)),
    ]
    # the replaced version is logged for incremental aggregate refresh
    assert con.execute("SELECT run_id, dossier_id FROM dossier_changes").fetchall() == [(r2.run_id, "D1")]


def test_same_file_twice_changes_nothing(con, tmp_path):
    a = write_csv(tmp_path / "a.csv", [dossier(dossier_id=f"D{i}") for i in range(5)])
    ingest_file(con, a, "dossiers", now=NOW)
    before = table_state(con)
    again = ingest_file(con, a, "dossiers", now=NOW)
    assert again.status == "duplicate"
    assert table_state(con) == before
    # same rows under another file name (new hash): loaded, but nothing changes
    copy = tmp_path / "copy.csv"
    copy.write_bytes(a.read_bytes() + b"\n")
    r = ingest_file(con, copy, "dossiers", now=NOW)
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 5)
    assert table_state(con) == before


def test_out_of_order_delivery_ends_in_same_state(settings, tmp_path):
    from warehouse.db import open_writer

    v1 = [dossier(dossier_id="D1", updated_at="2026-03-02 09:00:00")]
    v2 = [dossier(dossier_id="D1", status="supplement_requested", supplement_count=1, supplement_days=2,
                  updated_at="2026-03-03 09:00:00")]
    v3 = [dossier(dossier_id="D1", status="completed", completed_at="2026-03-06 16:00:00",
                  supplement_count=1, supplement_days=2, updated_at="2026-03-06 16:00:00")]
    # equal updated_at, different content: the tie-break must not depend on order either
    t1 = [dossier(dossier_id="D2", rating=4, status="completed", completed_at="2026-03-03 09:00:00",
                  updated_at="2026-03-05 09:00:00")]
    t2 = [dossier(dossier_id="D2", rating=5, status="completed", completed_at="2026-03-03 09:00:00",
                  updated_at="2026-03-05 09:00:00")]
    files = [write_csv(tmp_path / f"{n}.csv", r) for n, r in
             (("v1", v1), ("v2", v2), ("v3", v3), ("t1", t1), ("t2", t2))]
    states = []
    for i, order in enumerate(([0, 1, 2, 3, 4], [2, 0, 1, 4, 3], [1, 2, 0, 3, 4])):
        con = open_writer(settings.with_warehouse(tmp_path / f"w{i}.duckdb"))
        ingest_files(con, [files[j] for j in order], "dossiers", now=NOW)
        states.append(table_state(con))
        con.close()
    assert states[0] == states[1] == states[2]
    assert [(s[0], s[7]) for s in states[0]] == [("D1", "completed"), ("D2", "completed")]


def test_derived_columns_supplement_and_working_days(con, tmp_path):
    """Received Fri 13/02/2026, due Mon 23/02 17:00 (Tết 14–22/02 closes the office), one supplement
    request of 2 working days: effective due = Wed 25/02 17:00. Finished Thu 26/02: working days
    after 13/02 up to 26/02 are 23, 24, 25, 26 = 4, minus 2 supplement days = 2."""
    f = write_csv(tmp_path / "t.csv", [dossier(
        dossier_id="T1", received_at="13/02/2026 10:00", due_at="23/02/2026 17:00",
        completed_at="26/02/2026 09:00", status="completed", supplement_count=1, supplement_days=2,
        updated_at="26/02/2026 09:00")])
    ingest_file(con, f, "dossiers", now=NOW)
    assert con.execute(
        "SELECT effective_due_at, processing_wd, finished_date::VARCHAR FROM dossiers"
    ).fetchone() == (datetime(2026, 2, 25, 17, 0), 2, "2026-02-26")


QUARANTINE_CASES = [
    (dict(dossier_id=""), "missing_value", "dossier_id"),
    (dict(unit_code="99999"), "unknown_unit", "unit_code"),
    (dict(unit_code=""), "missing_value", "unit_code"),
    (dict(procedure_code=""), "missing_value", "procedure_code"),
    (dict(channel="fax"), "unknown_channel", "channel"),
    (dict(status="done"), "unknown_status", "status"),
    (dict(applicant_type="alien"), "unknown_applicant_type", "applicant_type"),
    (dict(received_at="31/02/2026"), "bad_date", "received_at"),
    (dict(received_at=""), "missing_value", "received_at"),
    (dict(due_at="tomorrow"), "bad_date", "due_at"),
    (dict(received_at="2014-12-31 09:00:00", due_at="2015-01-02 09:00:00"), "date_out_of_range", "received_at"),
    (dict(received_at="2026-03-20 09:00:00", due_at="2026-03-25 09:00:00"), "received_in_future", "received_at"),
    (dict(due_at="2026-03-01 17:00:00"), "due_before_received", "due_at"),
    (dict(status="completed", completed_at="2026-03-01 08:00:00"), "completed_before_received", "completed_at"),
    (dict(status="completed", completed_at=""), "finished_without_date", "completed_at"),
    (dict(status="processing", completed_at="2026-03-03 08:00:00"), "date_on_open_dossier", "completed_at"),
    (dict(rating="6"), "bad_rating", "rating"),
    (dict(rating="4.5"), "bad_rating", "rating"),
    (dict(supplement_count="-1"), "bad_integer", "supplement_count"),
    (dict(digitized="maybe"), "bad_boolean", "digitized"),
    (dict(updated_at="03/13/2026"), "bad_date", "updated_at"),
]


@pytest.mark.parametrize("override,code,column", QUARANTINE_CASES, ids=[c[1] + ":" + c[2] for c in QUARANTINE_CASES])
def test_each_quarantine_rule(con, tmp_path, override, code, column):
    f = write_csv(tmp_path / "q.csv", [dossier(dossier_id="GOOD"), dossier(**{"dossier_id": "BAD", **override})])
    r = ingest_file(con, f, "dossiers", now=NOW)
    assert (r.status, r.inserted, r.quarantined) == ("partial", 1, 1)
    q = quarantine_summary(con, r.run_id, lang="en")
    assert [(x["line"], x["reason_code"], x["column"]) for x in q] == [(3, code, column)]
    assert q[0]["reason"] and "{" not in q[0]["reason"]
    assert rows(con, "SELECT dossier_id FROM dossiers") == [("GOOD",)]


RECEIPT_SPELLINGS = [
    ("2026-03-02 09:00:00", datetime(2026, 3, 2, 9, 0)),
    ("02/03/2026 09:00", datetime(2026, 3, 2, 9, 0)),
    ("02-03-2026", datetime(2026, 3, 2, 0, 0)),            # a day-month-year: '-2026' is no UTC offset
    ("02-03-2026 09:00", datetime(2026, 3, 2, 9, 0)),
    ("2026-03-02T02:00:00Z", datetime(2026, 3, 2, 9, 0)),   # UTC, shown in Hanoi time
    ("2026-03-02 02:00:00+00", datetime(2026, 3, 2, 9, 0)),  # the two-digit offset DuckDB and pandas write
    ("2026-03-02 09:00:00+07", datetime(2026, 3, 2, 9, 0)),
    ("2026-03-02 09:00:00+07:00", datetime(2026, 3, 2, 9, 0)),
    ("2026-03-01 21:00:00-05", datetime(2026, 3, 2, 9, 0)),
    ("2026-03-02 09:00+0700", datetime(2026, 3, 2, 9, 0)),
]


@pytest.mark.parametrize("text,expected", RECEIPT_SPELLINGS, ids=[t for t, _ in RECEIPT_SPELLINGS])
def test_receipt_time_spellings_and_offsets(con, tmp_path, text, expected):
    f = write_csv(tmp_path / "t.csv", [dossier(received_at=text, updated_at=text)])
    r = ingest_file(con, f, "dossiers", now=NOW)
    assert (r.status, r.inserted) == ("ok", 1), r.reasons
    assert rows(con, "SELECT received_at FROM dossiers") == [(expected,)]


def test_unknown_procedure_loads_flagged(con, tmp_path):
    f = write_csv(tmp_path / "p.csv", [dossier(procedure_code="XX-999")])
    r = ingest_file(con, f, "dossiers", now=NOW)
    assert (r.inserted, r.quarantined) == (1, 0)
    assert rows(con, "SELECT procedure_known FROM dossiers") == [(False,)]


def test_malformed_lines_quarantined_with_line_numbers(con, tmp_path):
    f = write_csv(tmp_path / "m.csv", [dossier(dossier_id=f"D{i}") for i in range(4)])
    lines = f.read_text().splitlines()
    lines[2] = "D1,00073,too,few"  # line 3 of the file
    f.write_text("\n".join(lines) + "\n")
    r = ingest_file(con, f, "dossiers", now=NOW)
    assert (r.rows_read, r.inserted, r.quarantined) == (4, 3, 1)
    assert [(x["line"], x["reason_code"]) for x in quarantine_summary(con, r.run_id)] == [(3, "malformed_line")]


def test_bad_file_never_stops_the_good_ones(con, tmp_path):
    bad_enc = tmp_path / "a_cp1258.csv"
    bad_enc.write_bytes(b"dossier_id,unit_code\nD1,Ph\xfd\xf5\xccng\n")  # 'Phường' in Windows-1258
    truncated = tmp_path / "b_truncated.parquet"
    pq.write_table(pa.table({"dossier_id": ["X"] * 100}), truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    not_table = tmp_path / "c_notes.csv"
    not_table.write_text("just some notes\nno columns here\n")
    unknown_cols = tmp_path / "d_other.csv"
    unknown_cols.write_text("foo,bar\n1,2\n")
    good = write_csv(tmp_path / "e_good.csv", [dossier(dossier_id="OK1"), dossier(dossier_id="OK2")])
    inbox_root = tmp_path / "archive"
    reports = ingest_files(con, [bad_enc, truncated, not_table, unknown_cols, good], "dossiers",
                           channel="inbox", archive_root=inbox_root, now=NOW)
    assert [(r.file, r.status, (r.error or "").split(":")[0]) for r in reports] == [
        ("a_cp1258.csv", "failed", "bad_encoding"),
        ("b_truncated.parquet", "failed", "corrupt_file"),
        ("c_notes.csv", "failed", "not_a_table"),
        ("d_other.csv", "failed", "no_profile"),
        ("e_good.csv", "ok", ""),
    ]
    assert rows(con, "SELECT count(*) FROM dossiers") == [(2,)]
    failed = sorted(p.name for p in (inbox_root / "failed" / "dossiers").rglob("*"))
    assert "a_cp1258.csv" in failed and "a_cp1258.csv.reason.txt" in failed
    # a file that was read is archived as its canonical columns, never as its bytes
    assert [p.name for p in (inbox_root / "processed" / "dossiers").rglob("*") if p.is_file()] == ["e_good.csv.parquet"]
    assert rows(con, "SELECT status, count(*) FROM ingest_runs GROUP BY 1 ORDER BY 1") == [("failed", 4), ("ok", 1)]


def test_formats_semicolon_bom_jsonl_parquet(con, tmp_path):
    import json

    csv_semicolon = write_csv(tmp_path / "s.csv", [dossier(dossier_id="S1")], delimiter=";", bom=True)
    jl = tmp_path / "j.jsonl"
    jl.write_text(json.dumps(dossier(dossier_id="J1", rating=5, status="completed",
                                     completed_at="2026-03-03T03:00:00Z", updated_at="2026-03-03T03:00:00Z"))
                  + "\n{not json\n", encoding="utf-8")
    pqf = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist([dossier(dossier_id="P1")]), pqf)
    reports = ingest_files(con, [csv_semicolon, jl, pqf], "dossiers", now=NOW)
    assert [(r.inserted, r.quarantined) for r in reports] == [(1, 0), (1, 1), (1, 0)]
    # an ISO time in UTC is stored as Hanoi local time (UTC+7)
    assert rows(con, "SELECT completed_at FROM dossiers WHERE dossier_id = 'J1'") == [(datetime(2026, 3, 3, 10, 0),)]


def test_restart_between_commit_and_move_neither_loses_nor_double_counts(con, tmp_path):
    """A crash after the load committed but before the file left the inbox: the next run skips it
    by its hash and moves it on; the rows are counted once."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    f = write_csv(inbox / "a.csv", [dossier(dossier_id="R1"), dossier(dossier_id="R2")])
    first = ingest_file(con, f, "dossiers", channel="inbox", archive_root=None, now=NOW)  # "crash": not moved
    assert f.exists() and first.inserted == 2
    second = ingest_files(con, [f], "dossiers", channel="inbox", archive_root=tmp_path / "archive", now=NOW)
    assert [(r.status, r.inserted) for r in second] == [("duplicate", 0)]
    assert not f.exists()
    assert rows(con, "SELECT count(*) FROM dossiers") == [(2,)]
