"""Property-based: whatever bytes or table structure arrive, ingest never raises, records one run per
file, and accounts for every record it was given."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.runner import ingest_file

from .conftest import CANONICAL, dossier

NOW = datetime(2026, 3, 10, 12, 0)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.sampled_from(["", "00073", "HN-HT-001", "online_full", "processing", "completed", "02/03/2026",
                     "2026-03-04 17:00:00", "1e400", "nan", "-1", "5", "=HYPERLINK(\"x\")", "\x00", "\u202e",
                     '"', '""', "a,b", "line\nbreak", "Nguyễn Văn An"]),
    st.text(max_size=30),
)


def _one_run(con, report) -> None:
    assert report.status in ("ok", "partial", "failed", "duplicate")
    assert report.quarantined <= report.rows_read
    if report.status == "failed":
        assert report.error and report.inserted == report.updated == 0
    assert con.execute("SELECT count(*) FROM ingest_runs WHERE run_id = ?", [report.run_id]).fetchone()[0] == 1


def _loaded(con, dossier_id: str) -> bool:
    return con.execute("SELECT count(*) FROM dossiers WHERE dossier_id = ?", [dossier_id]).fetchone()[0] == 1


@FUZZ
@given(data=st.binary(max_size=2048), ext=st.sampled_from([".csv", ".jsonl", ".parquet", ".xlsx", ".txt"]))
def test_random_bytes_never_raise(con, tmp_path_factory, data, ext):
    path = tmp_path_factory.mktemp("fz") / f"f{ext}"
    path.write_bytes(data)
    _one_run(con, ingest_file(con, path, "dossiers", now=NOW))


@FUZZ
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=len(CANONICAL) + 2), max_size=12),
       junk=st.lists(st.text(alphabet=st.sampled_from('ab,;"\t x\x00\u202e'), max_size=40), max_size=4),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), data=st.data())
def test_random_csv_structures_never_raise_and_lose_no_line(con, tmp_path_factory, rows, junk, delimiter, data):
    """Random records and raw junk lines (stray quotes, NUL, bidi marks) before a good last line:
    never an exception, and the good line always loads: nothing before it can swallow it."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(CANONICAL)
    w.writerows(rows)
    lines = buf.getvalue().splitlines(keepends=True)
    for j in junk:
        lines.insert(data.draw(st.integers(1, len(lines)), label="at"), j + "\n")
    good = dossier(dossier_id=f"FZ-{len(lines)}-{len(junk)}")
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow([good[c] for c in CANONICAL])
    path = tmp_path_factory.mktemp("fz") / "f.csv"
    path.write_text("".join(lines) + out.getvalue(), encoding="utf-8")
    report = ingest_file(con, path, "dossiers", now=NOW)
    _one_run(con, report)
    if report.status != "duplicate":
        assert report.status in ("ok", "partial"), report.error
        assert _loaded(con, good["dossier_id"])


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                     st.text(max_size=20)),
                           lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                  st.dictionaries(st.text(max_size=12), kids, max_size=4)),
                           max_leaves=20)


@FUZZ
@given(records=st.lists(st.one_of(json_values, st.fixed_dictionaries(
    {c: st.one_of(cells, json_values) for c in ("dossier_id", "unit_code", "received_at", "status")})), max_size=10),
       junk=st.lists(st.text(max_size=40), max_size=3))
def test_random_jsonl_structures_never_raise(con, tmp_path_factory, records, junk):
    lines = [json.dumps(r, allow_nan=True) for r in records] + junk + [json.dumps(dossier(dossier_id="FZ-J"))]
    path = tmp_path_factory.mktemp("fz") / "f.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_file(con, path, "dossiers", now=NOW)
    _one_run(con, report)
    if report.status != "duplicate":
        assert _loaded(con, "FZ-J")
