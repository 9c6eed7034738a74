"""A Parquet export whose text is not UTF-8, cell by cell: the row is set aside, the rest of the file loads.

A Parquet text column is UTF-8 by its type, but an exporter can write any bytes into it (a field copied
from a Windows-1258 or TCVN3 system), and DuckDB then refuses the whole file. A BLOB column (text written
as bytes) was loaded as DuckDB's escaped rendering (`B\\xFF2`), a unit name in it not recognised. Now
every text cell is judged alone: decoded if it is UTF-8, else its row quarantined as `invalid_utf8`
with the column named and never the bytes; the reason an officer reads never quotes a cell.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_settings
from ingest import readers
from ingest.runner import ingest_file, ingest_files
from warehouse.db import open_writer
from warehouse.reasons import describe

from . import hostile

NOW = datetime(2026, 3, 10, 12, 0)


def _bad_text(values: list[bytes | None]) -> pa.Array:
    """A Parquet/Arrow *string* column holding exactly these bytes (Arrow does not check them here)."""
    b = pa.array(values, pa.binary())
    return pa.Array.from_buffers(pa.string(), len(b), b.buffers())


def _file(path, n: int, **columns) -> None:
    cols = {"dossier_id": [f"E{i + 1}" for i in range(n)], "unit_code": ["00073"] * n,
            "procedure_code": ["HN-HT-001"] * n, "channel": ["online_full"] * n, "status": ["processing"] * n,
            "received_at": ["2026-03-02 09:00"] * n, "due_at": ["2026-03-05 17:00"] * n}
    cols.update(columns)
    pq.write_table(pa.table(cols), path, row_group_size=4)


def test_a_cell_that_is_not_utf8_quarantines_its_row_not_the_file(con, tmp_path):
    path = tmp_path / "e.parquet"
    _file(path, 3, status=_bad_text([b"processing", b"proc\xffessing", b"processing"]))
    with pytest.raises(duckdb.InvalidInputException):  # what DuckDB alone makes of it
        duckdb.sql(f"SELECT * FROM '{path}'").fetchall()
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.status, r.error, r.rows_read, r.inserted, r.quarantined) == ("partial", None, 3, 2, 1)
    assert r.reasons == {"invalid_utf8": 1}
    assert sorted(x for (x,) in con.execute("SELECT dossier_id FROM dossiers").fetchall()) == ["E1", "E3"]
    # the id is kept (it is UTF-8, and has an id's shape), the bytes are not: no value at all
    assert con.execute("SELECT line, record_id, reason_code, column_name, bad_value FROM quarantine").fetchall() == [
        (2, "E2", "invalid_utf8", "status", None)]
    assert describe("invalid_utf8", "status", None, "vi").startswith("Ô ở cột status không phải văn bản UTF-8")
    assert describe("invalid_utf8", "status", None, "en").startswith("The cell in column status is not UTF-8 text")


def test_line_numbers_follow_the_file_across_batches_and_row_groups(con, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 3)
    n = 11
    ids = [f"L{i + 1}".encode() for i in range(n)]
    ids[1], ids[7], ids[10] = b"L\xc3", b"\xfe\xff", b"L11\x80"  # rows 2, 8 and 11: cut and stray bytes
    path = tmp_path / "l.parquet"
    _file(path, n, dossier_id=_bad_text(ids), unit_code=["00073"] * 5 + ["99999"] + ["00073"] * 5)
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.rows_read, r.inserted, r.quarantined) == (11, 7, 4)
    got = con.execute("SELECT line, record_id, reason_code, column_name FROM quarantine ORDER BY line").fetchall()
    assert got == [(2, None, "invalid_utf8", "dossier_id"), (6, "L6", "unknown_unit", "unit_code"),
                   (8, None, "invalid_utf8", "dossier_id"), (11, None, "invalid_utf8", "dossier_id")]


def test_a_column_named_file_row_number_keeps_the_line_numbers(con, tmp_path):
    path = tmp_path / "f.parquet"
    _file(path, 3, status=_bad_text([b"processing", b"processing", b"\xff"]), FILE_ROW_NUMBER=[7, 8, 9])
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert r.quarantined == 1
    assert con.execute("SELECT line FROM quarantine").fetchall() == [(3,)]


def test_text_written_as_bytes_is_read_as_text(con, tmp_path):
    """A BLOB column of UTF-8: the unit's name in words is recognised, the ids are text, not escapes."""
    path = tmp_path / "b.parquet"
    _file(path, 2, dossier_id=pa.array([b"B1", "Bé2".encode()], pa.binary()),
          unit_code=pa.array(["UBND Phường Cửa Nam".encode(), b"00073"], pa.binary()))
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.inserted, r.quarantined) == (2, 0), r.reasons
    assert sorted(con.execute("SELECT dossier_id, unit_code FROM dossiers").fetchall()) == [
        ("B1", "00073"), ("Bé2", "00073")]


def test_the_bytes_of_a_personal_field_reach_no_table_file_or_log(tmp_path, caplog):
    """A phone number with a stray byte, typed into the id: its row is quarantined without its value."""
    s = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    con = open_writer(s)
    phone = hostile.PERSON["Số điện thoại"].encode()
    name = hostile.PERSON["Chủ hồ sơ"].encode("utf-8")
    path = tmp_path / "inbox.parquet"
    _file(path, 3, dossier_id=_bad_text([b"P1", phone + b"\xff", name[:-1] + b"\xff"]))
    with caplog.at_level("DEBUG"):
        (r,) = ingest_files(con, [path], "dossiers", channel="inbox", archive_root=tmp_path / "data", now=NOW)
    assert (r.inserted, r.quarantined) == (1, 2)
    assert hostile.find_personal_data({"warehouse": hostile.table_text(con)}) == []
    # a phone number as the id of a row set aside for another cell: masked as any record id
    path = tmp_path / "inbox2.parquet"
    _file(path, 2, dossier_id=[hostile.PERSON["Số điện thoại"], "P2"], status=_bad_text([b"\xff", b"processing"]))
    (r,) = ingest_files(con, [path], "dossiers", channel="inbox", archive_root=tmp_path / "data", now=NOW)
    assert (r.inserted, r.quarantined) == (1, 1)
    assert con.execute("SELECT record_id FROM quarantine WHERE file_name = 'inbox2.parquet'").fetchall() == [
        ("<digits, 10>",)]
    assert hostile.find_personal_data({"warehouse": hostile.table_text(con)}) == []
    assert hostile.find_personal_data(hostile.scan_data_dir(tmp_path / "data")) == []
    assert hostile.find_personal_data({"log": caplog.text}) == []
    con.close()


def test_the_reason_for_an_unreadable_file_quotes_no_cell():
    exc = duckdb.InvalidInputException('Invalid string encoding found in Parquet file "/x/a.parquet": '
                                       'value "Nguyễn Văn An 0912345678" is not valid UTF8!')
    why = readers._why(exc)
    assert "Nguyễn" not in why and "0912345678" not in why and "not valid UTF8" in why


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.one_of(st.none(), st.binary(max_size=6), st.text(max_size=4).map(str.encode)),
                      min_size=1, max_size=12))
def test_every_row_is_loaded_or_quarantined_by_its_own_bytes(tmp_path_factory, cells):
    """Property: a row is set aside as invalid_utf8 exactly when its id's bytes are not UTF-8; every line
    is accounted for, the others load as they would from a clean file."""
    tmp = tmp_path_factory.mktemp("enc")
    ids = [None if c is None else b"X" + c + b"-" + str(i).encode() for i, c in enumerate(cells)]
    path = tmp / "p.parquet"
    _file(path, len(ids), dossier_id=_bad_text(ids))

    def utf8(b: bytes) -> bool:
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    con = open_writer(load_settings(data_dir=tmp, warehouse=tmp / "wh.duckdb"))
    try:
        r = ingest_file(con, path, "dossiers", now=NOW)
        bad = {i + 1 for i, b in enumerate(ids) if b is not None and not utf8(b)}
        assert r.rows_read == len(ids)
        assert {n for (n,) in con.execute("SELECT line FROM quarantine WHERE reason_code = 'invalid_utf8'")
                .fetchall()} == bad
        assert r.inserted + r.quarantined == len(ids)
        loaded = {x for (x,) in con.execute("SELECT dossier_id FROM dossiers").fetchall()}
        assert loaded <= {b.decode() for b in ids if b is not None and utf8(b)}
    finally:
        con.close()


def test_a_nul_inside_a_value_does_not_cut_it(con, tmp_path):
    """DuckDB's nfc_normalize cuts a non-ASCII string at a NUL: 'X\\0é-1' and 'X\\0é-2' became one dossier
    'X', and a status 'completed\\0<name>' became 'completed'. Kept whole, the NUL is rejected."""
    name = hostile.PERSON["Chủ hồ sơ"]
    path = tmp_path / "nul.parquet"
    _file(path, 3, dossier_id=["X\x00é-1", "X\x00é-2", "OK-3"], status=["processing", "processing", f"completed\x00{name}"])
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.inserted, r.quarantined) == (0, 3)
    got = con.execute("SELECT line, reason_code, column_name FROM quarantine ORDER BY ALL").fetchall()
    assert got == [(1, "bad_identifier", "dossier_id"), (2, "bad_identifier", "dossier_id"), (3, "unknown_status", "status")]
    assert hostile.find_personal_data({"warehouse": hostile.table_text(con)}) == []
