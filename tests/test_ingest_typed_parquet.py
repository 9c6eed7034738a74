"""A typed Parquet file (timestamps, booleans, numbers as such) is checked without the text round trip.

The checker used to cast every Parquet column to text and parse it back. Now a column of a fitting
type is read as it is (ingest.validate.native_columns). Property: the same values, typed or as the
text DuckDB makes of them (what the old reader staged), give the same warehouse rows, the same
quarantine and the same run counts.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_settings
from ingest.profiles import load_profiles
from ingest.runner import ingest_file
from ingest.validate import native_columns
from warehouse.db import open_writer

NOW = datetime(2026, 3, 10, 12, 0)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2014, 6, 1), max_value=datetime(2027, 6, 1)),
    st.sampled_from([datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 4, 17, 0), datetime(2026, 3, 10, 12, 10)]),
)
flags = st.one_of(st.none(), st.booleans())
counts = st.one_of(st.none(), st.integers(-3, 5), st.sampled_from([100_000, 100_001, 2**40]))
ratings = st.one_of(st.none(), st.sampled_from([1.0, 4.0, 5.0, 4.5, 6.0, 0.0, -1.0, math.nan, math.inf]))

record = st.fixed_dictionaries({
    "unit_code": st.sampled_from(["00073", "00073", "99999"]),
    "channel": st.sampled_from(["online_full", "in_person", "online", "fax"]),
    "received_at": times, "due_at": times, "completed_at": times, "updated_at": times,
    "status": st.sampled_from(["processing", "completed", "returned", "received", "withdrawn"]),
    "cross_agency": flags, "complaint": flags, "paid_online": flags, "digitized": flags, "data_reused": flags,
    "supplement_count": counts, "supplement_days": counts, "rating": ratings,
})


def _table(rows: list[dict], time_kind: str) -> pa.Table:
    def ts(values):
        if time_kind == "date":
            return pa.array([v.date() if v else None for v in values], pa.date32())
        if time_kind == "utc":  # an instant: the same wall time in Hanoi, stored in UTC
            return pa.array([v - timedelta(hours=7) if v else None for v in values], pa.timestamp("us", tz="UTC"))
        return pa.array(values, pa.timestamp(time_kind))

    cols = {"dossier_id": pa.array([f"T{i}" for i in range(len(rows))]),
            "procedure_code": pa.array(["HN-HT-001"] * len(rows))}
    for name in ("unit_code", "channel", "status"):
        cols[name] = pa.array([r[name] for r in rows])
    for name in ("received_at", "due_at", "completed_at", "updated_at"):
        cols[name] = ts([r[name] for r in rows])
    for name in ("cross_agency", "complaint", "paid_online", "digitized", "data_reused"):
        cols[name] = pa.array([r[name] for r in rows], pa.bool_())
    for name in ("supplement_count", "supplement_days"):
        cols[name] = pa.array([r[name] for r in rows], pa.int64())
    cols["rating"] = pa.array([r["rating"] for r in rows], pa.float64())
    cols["applicant_type"] = pa.array(["citizen"] * len(rows))
    return pa.table(cols)


def _as_text(typed: Path, out: Path) -> Path:
    """The file as the old reader staged it: every column cast to text by DuckDB, in Hanoi time."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    con.execute(f"COPY (SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('{typed}')) TO '{out}' (FORMAT parquet)")
    con.close()
    return out


def _outcome(folder: Path, path: Path):
    con = open_writer(load_settings(data_dir=folder, warehouse=folder / "wh.duckdb"))
    try:
        r = ingest_file(con, path, "dossiers", now=NOW)
        assert r.status in ("ok", "partial"), r.error
        return (
            (r.rows_read, r.inserted, r.quarantined, sorted(r.reasons.items())),
            con.execute("SELECT * EXCLUDE (ingest_run_id) FROM dossiers ORDER BY dossier_id").fetchall(),
            con.execute("SELECT line, record_id, reason_code, column_name, bad_value FROM quarantine "
                        "ORDER BY line, reason_code, column_name").fetchall(),
        )
    finally:
        con.close()


@PROPERTY
@given(rows=st.lists(record, min_size=1, max_size=25), time_kind=st.sampled_from(["us", "ms", "s", "date", "utc"]))
def test_typed_parquet_equals_its_text(tmp_path_factory, rows, time_kind):
    tmp = tmp_path_factory.mktemp("tp")
    typed = tmp / "typed.parquet"
    pq.write_table(_table(rows, time_kind), typed)
    text = _as_text(typed, tmp / "text.parquet")
    a, b = tmp / "a", tmp / "b"
    a.mkdir(), b.mkdir()
    assert _outcome(a, typed) == _outcome(b, text)


def test_typed_columns_are_read_natively_and_the_rest_as_text(tmp_path):
    """Which columns skip the text: one source of a fitting type, no value mapping. A TIMESTAMP_NS
    column, or an integer typed into a date column, goes through text as before."""
    canonical = next(p for p in load_profiles() if p.name == "canonical")
    types = {"received_at": "TIMESTAMP", "due_at": "TIMESTAMP_NS", "completed_at": "BIGINT",
             "digitized": "BOOLEAN", "complaint": "VARCHAR", "rating": "DOUBLE", "supplement_count": "DATE"}
    headers = set(types) | {"dossier_id"}
    assert native_columns(canonical, headers, types) == {"received_at": "TIMESTAMP", "digitized": "BOOLEAN",
                                                         "rating": "DOUBLE"}


def test_an_instant_is_shown_in_hanoi_time_and_a_bad_number_quarantined(con, tmp_path):
    t = pa.table({
        "dossier_id": ["U1", "U2"], "unit_code": ["00073", "00073"], "procedure_code": ["HN-HT-001"] * 2,
        "channel": ["online_full"] * 2, "status": ["processing"] * 2,
        "received_at": pa.array([datetime(2026, 3, 2, 2, 0, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
        "due_at": pa.array([date(2026, 3, 5)] * 2, pa.date32()),
        "supplement_count": pa.array([0, 7_000_000_000], pa.int64()),
    })
    path = tmp_path / "u.parquet"
    pq.write_table(t, path)
    r = ingest_file(con, path, "dossiers", now=NOW)
    assert (r.inserted, r.quarantined, r.reasons) == (1, 1, {"bad_integer": 1})
    assert con.execute("SELECT dossier_id, received_at, due_at FROM dossiers").fetchall() == [
        ("U1", datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 5, 0, 0))]
    assert con.execute("SELECT line, reason_code, bad_value FROM quarantine").fetchall() == [
        (2, "bad_integer", "<digits, 10>")]  # masked: ten digits may be a phone


def test_line_numbers_across_row_groups_and_beside_a_column_named_like_the_readers(con, tmp_path):
    """Lines are the rows of the file from 1, over many row groups; a file with its own column
    `file_row_number` (the reader's name for its row number) still loads, numbered the old way."""
    n = 3000
    base = {"dossier_id": [f"M{i}" for i in range(n)], "unit_code": ["00073"] * n, "procedure_code": ["HN-HT-001"] * n,
            "channel": ["online_full"] * n, "received_at": ["2026-03-02 09:00:00"] * n,
            "due_at": ["2026-03-04 17:00:00", "not a date"] * (n // 2), "status": ["processing"] * n}
    for name, extra in (("groups.parquet", {}), ("own.parquet", {"file_row_number": list(range(100, 100 + n))})):
        path = tmp_path / name
        pq.write_table(pa.table({**{k: [f"{v}" if k == "dossier_id" else v for v in vals] for k, vals in base.items()},
                                 **extra}), path, row_group_size=250)
        r = ingest_file(con, path, "dossiers", now=NOW)
        assert (r.status, r.rows_read, r.quarantined) == ("partial", n, n // 2), r.error
        assert con.execute("SELECT count(*) FROM quarantine WHERE run_id = ? AND record_id <> 'M' || (line - 1)",
                           [r.run_id]).fetchall() == [(0,)]
        con.execute("DELETE FROM dossiers")


def _opencps(completed_alt) -> pa.Table:
    return pa.table({
        "Mã hồ sơ": ["O1"], "Cơ quan thụ lý": ["00073"], "Mã thủ tục": ["HN-HT-001"], "Trực tuyến": ["Trực tiếp"],
        "Ngày tiếp nhận": pa.array([datetime(2026, 3, 2, 9)], pa.timestamp("us")),
        "Ngày hẹn trả": pa.array([datetime(2026, 3, 4, 17)], pa.timestamp("us")),
        "Ngày hoàn thành": pa.array([datetime(2026, 3, 3, 10)], pa.timestamp("us")),
        "Ngày trả": completed_alt, "Trạng thái": ["completed"],
    })


TYPED_EDGE_FILES = {
    # two sources for one column, one of them typed: combined as text, as before (not the typed one alone)
    "national_sync two flags": pa.table({
        "MaHoSo": ["N1", "N2"], "MaDonVi": ["00073"] * 2, "MaTTHC": ["HN-HT-001"] * 2, "KenhThucHien": ["1"] * 2,
        "NgayTiepNhan": pa.array([datetime(2026, 3, 2, 9)] * 2, pa.timestamp("us")),
        "NgayHenTra": pa.array([datetime(2026, 3, 4, 17)] * 2, pa.timestamp("us")),
        "NgayKetThucXuLy": pa.array([None] * 2, pa.timestamp("us")), "TrangThaiHoSo": ["processing"] * 2,
        "HoSoCoThanhPhanSoHoa": pa.array([True, True]), "DuongDanTepTinKetQua": ["", "/ket-qua/N2.pdf"],
        "LoaiDoiTuong": ["1"] * 2, "NgayCapNhat": pa.array([datetime(2026, 3, 2, 9)] * 2, pa.timestamp("us"))}),
    "opencps two finish dates, one text": _opencps(pa.array(["03/03/2026 09:00"])),
    "opencps two finish dates, one all-null": _opencps(pa.array([None], pa.null())),
    # a date no TIMESTAMP can hold: that row's bad_date, not the file's failure
    "date past TIMESTAMP's range": pa.table({
        "dossier_id": ["R1", "R2"], "unit_code": ["00073"] * 2, "procedure_code": ["HN-HT-001"] * 2,
        "channel": ["online_full"] * 2, "status": ["processing"] * 2,
        "received_at": pa.array([datetime(2026, 3, 2, 9)] * 2, pa.timestamp("us")),
        "due_at": pa.array([date(2026, 3, 4), 2_000_000_000], pa.date32())}),
    # the reader's row-number name in another case
    "a column File_Row_Number": pa.table({
        "dossier_id": ["F1"], "unit_code": ["00073"], "procedure_code": ["HN-HT-001"], "channel": ["online_full"],
        "status": ["processing"], "received_at": ["2026-03-02 09:00:00"], "due_at": ["2026-03-04 17:00:00"],
        "File_Row_Number": [42]}),
}


@pytest.mark.parametrize("case", list(TYPED_EDGE_FILES))
def test_typed_edge_files_equal_their_text(tmp_path, case):
    """Found in review: each of these loaded differently from its text, or failed the whole file."""
    typed = tmp_path / "typed.parquet"
    pq.write_table(TYPED_EDGE_FILES[case], typed)
    text = _as_text(typed, tmp_path / "text.parquet")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert _outcome(a, typed) == _outcome(b, text)
