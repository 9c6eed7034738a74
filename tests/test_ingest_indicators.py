"""Indicator ingest: revisions kept beside the original, the latest counts; bad rows quarantined."""

from __future__ import annotations

from datetime import datetime

from ingest.runner import ingest_file, quarantine_summary

NOW = datetime(2026, 11, 1, 12, 0)
HEAD = "indicator_code,unit_code,period,value,source,published_at\n"


def test_revision_kept_and_latest_counts(con, tmp_path):
    first = tmp_path / "q2.csv"
    first.write_text(HEAD + "digital_economy_share,01,2026-Q2,13.1,Cục Thống kê,2026-07-15 09:00:00\n"
                     "coverage_5g,00073,2026-Q2,\"71,5\",Sở KH&CN,15/07/2026\n")
    revised = tmp_path / "q2_rev.csv"
    revised.write_text(HEAD + "digital_economy_share,01,2026-Q2,13.4,Cục Thống kê (điều chỉnh),2026-08-20 09:00:00\n")
    r1 = ingest_file(con, first, "indicators", now=NOW)
    r2 = ingest_file(con, revised, "indicators", now=NOW)
    assert (r1.inserted, r1.quarantined, r2.inserted) == (2, 0, 1)
    assert con.execute("SELECT count(*) FROM indicators").fetchall() == [(3,)]
    assert con.execute("""SELECT indicator_code, unit_code, period, value, publications, period_start::VARCHAR,
                                 period_end::VARCHAR
                          FROM indicator_latest ORDER BY 1""").fetchall() == [
        ("coverage_5g", "00073", "2026-Q2", 71.5, 1, "2026-04-01", "2026-07-01"),
        ("digital_economy_share", "01", "2026-Q2", 13.4, 2, "2026-04-01", "2026-07-01"),
    ]
    # the same file again changes nothing; the same rows in a new file are unchanged
    assert ingest_file(con, first, "indicators", now=NOW).status == "duplicate"
    copy = tmp_path / "copy.csv"
    copy.write_text(first.read_text() + "\n")
    r = ingest_file(con, copy, "indicators", now=NOW)
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 2)


def test_bad_indicator_rows(con, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(HEAD
                 + "population,00073,2025,45210,Cục Thống kê,2026-01-20\n"
                 + "gdp_vibes,01,2026,1,x,2026-01-20\n"
                 + "population,99999,2025,1,x,2026-01-20\n"
                 + "population,00073,2025-13,1,x,2026-01-20\n"
                 + "population,00073,2025,many,x,2026-01-20\n"
                 + "population,00073,2025,1,x,\n")
    r = ingest_file(con, f, "indicators", now=NOW)
    assert (r.inserted, r.quarantined) == (1, 5)
    assert [(q["line"], q["reason_code"]) for q in quarantine_summary(con, r.run_id)] == [
        (3, "unknown_indicator"), (4, "unknown_unit"), (5, "bad_period"), (6, "bad_number"), (7, "missing_value"),
    ]
