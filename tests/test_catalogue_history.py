"""Catalogue KPIs over time: procedure_levels (migration 4) records each procedure's online level and
activity with validity dates, and the coverage KPIs are judged as of each period's judgement time.

The tiny catalogue used below (4 procedures; level over [from, to), '-' = still so):

  P1 HN-HT-001 Hộ tịch  full since 2025-01-01
  P2 HN-HT-002 Hộ tịch  none 2025-01-01, partial from 2025-06-01, full from 2026-02-10
  P3 HN-CU-001 Cư trú   enters 2026-01-20 as none, partial from 2026-03-01
  P4 HN-CU-002 Cư trú   none 2025-01-01, full from 2025-03-01, withdrawn from 2026-03-01

Judged at the end of each month (T = midnight after its last day, what held on that last day):
  2026-01 (T 02-01): active P1 full, P2 partial, P3 none, P4 full -> full 2/4 = 50 %,   online 3/4 = 75 %
  2026-02 (T 03-01): P1 full, P2 full, P3 none, P4 full (in force to 02-28) -> full 3/4 = 75 %, online 3/4
  2026-03 (T 04-01): P1 full, P2 full, P3 partial, P4 withdrawn -> full 2/3 = 66.7 %, online 3/3 = 100 %
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import config
from metrics import query
from metrics.periods import parse_label, resolve
from metrics.registry import get_registry
from metrics.sources import catalogue_sql, catalogue_values
from warehouse import schema
from warehouse.reference import REFERENCE_FILES, hanoi_today, load_reference
from warehouse.schema import migrate

REF = config.REFERENCE_DIR
HEADER = [c for c, _ in REFERENCE_FILES["procedures"][1]]
BASE = HEADER[: HEADER.index("active") + 1]
TINY = [  # code, sector, level, active, valid_from, online_partial_since, online_full_since, valid_to
    ("HN-HT-001", "Hộ tịch", "full", "true", "2025-01-01", "", "", ""),
    ("HN-HT-002", "Hộ tịch", "full", "true", "2025-01-01", "2025-06-01", "2026-02-10", ""),
    ("HN-CU-001", "Cư trú", "partial", "true", "2026-01-20", "2026-03-01", "", ""),
    ("HN-CU-002", "Cư trú", "full", "false", "2025-01-01", "", "2025-03-01", "2026-03-01"),
]


def _kpis(*codes: str):
    reg = get_registry()
    return [reg.kpis[c] for c in codes or ("service_coverage_full", "service_coverage_online")]


def _write(folder: Path, rows=TINY, header=HEADER) -> Path:
    """A reference folder: the shipped units and indicators, and `rows` as the procedure catalogue."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("units.csv", "indicators.csv"):
        shutil.copy(REF / name, folder / name)
    with (folder / "procedures.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for code, sector, level, active, *dates in rows:
            row = dict(procedure_code=code, name_vi=f"Thủ tục {code}", name_en=f"Procedure {code}", sector=sector,
                       sector_en="Civil status" if sector == "Hộ tịch" else "Residence", online_level=level,
                       fee_bearing="false", cross_agency="false", statutory_days="3", level="commune", active=active,
                       **dict(zip(HEADER[len(BASE):], dates, strict=True)))
            w.writerow([row[c] for c in header])
    return folder


def _series(con, labels: list[str], now: datetime, by=()) -> dict:
    df = catalogue_values(con, _kpis(), [parse_label(x) for x in labels], "01", by, now=now)
    key = ["kpi", "period", *by]
    return {tuple(r[k] for k in key): (None if pd.isna(r["value"]) else round(r["value"], 1),
                                        r["numerator"], r["denominator"]) for _, r in df.iterrows()}


def _levels(con, code: str) -> list[tuple]:
    return con.execute("SELECT online_level, active, valid_from, valid_to FROM procedure_levels "
                       "WHERE procedure_code = ? ORDER BY valid_from", [code]).fetchall()


@pytest.fixture()
def con():
    c = duckdb.connect(":memory:")
    migrate(c)
    yield c
    c.close()


def test_coverage_at_the_end_of_three_months(con, tmp_path: Path) -> None:
    """Hand-worked in the module docstring; the sector split of March: Hộ tịch 2/2 full, Cư trú 0/1 full, 1/1 online."""
    load_reference(con, _write(tmp_path), today=date(2026, 4, 15))
    got = _series(con, ["2026-01", "2026-02", "2026-03"], now=datetime(2026, 4, 15, 10))
    assert got == {
        ("service_coverage_full", "2026-01"): (50.0, 2, 4), ("service_coverage_online", "2026-01"): (75.0, 3, 4),
        ("service_coverage_full", "2026-02"): (75.0, 3, 4), ("service_coverage_online", "2026-02"): (75.0, 3, 4),
        ("service_coverage_full", "2026-03"): (66.7, 2, 3), ("service_coverage_online", "2026-03"): (100.0, 3, 3),
    }
    assert _series(con, ["2026-03"], now=datetime(2026, 4, 15, 10), by=("sector",)) == {
        ("service_coverage_full", "2026-03", "Cư trú"): (0.0, 0, 1),
        ("service_coverage_online", "2026-03", "Cư trú"): (100.0, 1, 1),
        ("service_coverage_full", "2026-03", "Hộ tịch"): (100.0, 2, 2),
        ("service_coverage_online", "2026-03", "Hộ tịch"): (100.0, 2, 2),
    }
    # before anything was in force: N/A, never 0 %
    assert _series(con, ["2024-12"], now=datetime(2026, 4, 15))[("service_coverage_full", "2024-12")] == (None, 0, 0)
    # the timelines as stored
    assert _levels(con, "HN-CU-002") == [("none", True, date(2025, 1, 1), date(2025, 3, 1)),
                                         ("full", True, date(2025, 3, 1), date(2026, 3, 1)),
                                         ("full", False, date(2026, 3, 1), None)]
    assert _levels(con, "HN-HT-001") == [("full", True, date(2025, 1, 1), None)]
    # `procedures` keeps its columns and the state today
    cols = [r[0] for r in con.execute("DESCRIBE procedures").fetchall()]
    assert cols == BASE
    assert con.execute("SELECT online_level, active FROM procedures WHERE procedure_code = 'HN-CU-002'").fetchone() == (
        "full", False)


def test_engine_query_of_a_closed_month_and_the_sql_shown(con, tmp_path: Path) -> None:
    load_reference(con, _write(tmp_path), today=date(2026, 4, 15))
    df = query(con, ["service_coverage_full"], periods="2026-02", now=datetime(2026, 4, 15, 10))
    assert df[["value", "numerator", "denominator"]].values.tolist() == [[75.0, 3, 4]]
    # the SQL users see: as of now it counts what `procedures` says today (P1, P2 full; P3 partial)
    n, d = con.execute(catalogue_sql(_kpis("service_coverage_full"), ())).fetchone()[1:]
    assert (n, d) == (2, 3) == con.execute(
        "SELECT count(*) FILTER (WHERE active AND online_level = 'full'), count(*) FILTER (WHERE active) "
        "FROM procedures").fetchone()


def test_reload_keeps_closed_periods_and_changes_the_current_one(con, tmp_path: Path) -> None:
    """P3 goes fully online in the file on 2026-04-20 (the file backdates it to 2026-03-10): March and
    the closed day 04-19 keep 2/3; April, judged now (04-20 noon), becomes 3/3."""
    folder = _write(tmp_path)
    load_reference(con, folder, today=date(2026, 4, 15))
    noon = datetime(2026, 4, 20, 12)
    before = _series(con, ["2026-03", "2026-04", "2026-04-19"], now=noon)
    assert before[("service_coverage_full", "2026-04")] == (66.7, 2, 3)
    assert load_reference(con, folder, today=date(2026, 4, 20))["procedures"] == 4  # unchanged file: no new rows
    assert con.execute("SELECT count(*) FROM procedure_levels").fetchone()[0] == 1 + 3 + 2 + 3

    changed = [r if r[0] != "HN-CU-001" else ("HN-CU-001", "Cư trú", "full", "true", "2026-01-20", "2026-03-01",
                                              "2026-03-10", "") for r in TINY]
    load_reference(con, _write(folder, changed), today=date(2026, 4, 20))
    after = _series(con, ["2026-03", "2026-04", "2026-04-19"], now=noon)
    assert after[("service_coverage_full", "2026-03")] == before[("service_coverage_full", "2026-03")] == (66.7, 2, 3)
    assert after[("service_coverage_full", "2026-04-19")] == (66.7, 2, 3)
    assert after[("service_coverage_full", "2026-04")] == (100.0, 3, 3)
    assert _levels(con, "HN-CU-001") == [("none", True, date(2026, 1, 20), date(2026, 3, 1)),
                                         ("partial", True, date(2026, 3, 1), date(2026, 4, 20)),
                                         ("full", True, date(2026, 4, 20), None)]

    # the same day, back to partial: today's row goes, the partial row is open again
    load_reference(con, _write(folder, TINY), today=date(2026, 4, 20))
    assert _levels(con, "HN-CU-001") == [("none", True, date(2026, 1, 20), date(2026, 3, 1)),
                                         ("partial", True, date(2026, 3, 1), None)]
    assert _series(con, ["2026-04"], now=noon)[("service_coverage_full", "2026-04")] == (66.7, 2, 3)

    # a withdrawal on 05-04 (the file says 05-01): April keeps P1; May, judged on 05-04, has P2 of P2, P3
    withdrawn = [r if r[0] != "HN-HT-001" else ("HN-HT-001", "Hộ tịch", "full", "false", "2025-01-01", "", "",
                                                "2026-05-01") for r in TINY]
    load_reference(con, _write(folder, withdrawn), today=date(2026, 5, 4))
    got = _series(con, ["2026-04", "2026-05"], now=datetime(2026, 5, 4, 9))
    assert got[("service_coverage_full", "2026-04")] == (66.7, 2, 3)
    assert got[("service_coverage_full", "2026-05")] == (50.0, 1, 2)
    assert _levels(con, "HN-HT-001") == [("full", True, date(2025, 1, 1), date(2026, 5, 4)),
                                         ("full", False, date(2026, 5, 4), None)]
    # a procedure new to the file starts on the load day, whatever its dates say
    added = [*withdrawn, ("HN-KD-001", "Kinh doanh", "full", "true", "2024-01-01", "", "", "")]
    load_reference(con, _write(folder, added), today=date(2026, 5, 6))
    assert _levels(con, "HN-KD-001") == [("full", True, date(2026, 5, 6), None)]
    assert _series(con, ["2026-05-05"], now=datetime(2026, 5, 6, 9))[("service_coverage_full", "2026-05-05")] == (
        50.0, 1, 2)


@pytest.mark.parametrize(("row", "message"), [
    (("HN-HT-001", "Hộ tịch", "full", "true", "2025-01-01", "", "2099-01-01", ""), "after today"),
    (("HN-HT-001", "Hộ tịch", "partial", "true", "2025-01-01", "", "2025-02-01", ""), "online_level is partial"),
    (("HN-HT-001", "Hộ tịch", "full", "true", "2025-01-01", "", "2024-12-01", ""), "before valid_from"),
    (("HN-HT-001", "Hộ tịch", "full", "true", "2025-01-01", "", "", "2026-01-01"), "active"),
    (("HN-HT-001", "Hộ tịch", "full", "true", "2025-01-01", "", "01/02/2025", ""), "not a date"),
    (("HN-HT-001", "Hộ tịch", "online", "true", "2025-01-01", "", "", ""), "not one of"),
])
def test_contradictory_dates_are_refused_and_nothing_loads(con, tmp_path: Path, row, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_reference(con, _write(tmp_path, [row, *TINY[1:]]), today=date(2026, 4, 15))
    assert con.execute("SELECT count(*) FROM procedures").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM procedure_levels").fetchone()[0] == 0


def test_a_file_without_the_date_columns_starts_history_on_its_load_day(con, tmp_path: Path) -> None:
    load_reference(con, _write(tmp_path, header=BASE), today=date(2026, 4, 15))
    assert _levels(con, "HN-HT-002") == [("full", True, date(2026, 4, 15), None)]
    got = _series(con, ["2026-03", "2026-04"], now=datetime(2026, 4, 15, 10))
    assert got[("service_coverage_full", "2026-03")] == (None, 0, 0)  # no history before the load: N/A
    assert got[("service_coverage_full", "2026-04")] == (66.7, 2, 3)


def test_migration_4_creates_and_fills_the_history_of_a_version_3_warehouse(monkeypatch) -> None:
    """A v3 warehouse holding the shipped catalogue, where HN-XD-005 was since changed to partial and
    HN-ZZ-001 is not in the file: those two start today, the others get the file's timelines."""
    con = duckdb.connect(":memory:")
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:3])
    assert migrate(con) == [1, 2, 3]
    with (REF / "procedures.csv").open(encoding="utf-8", newline="") as fh:
        rows = [[r[c] for c in BASE] for r in csv.DictReader(fh)]
    con.executemany(f"INSERT INTO procedures VALUES ({', '.join('?' * len(BASE))})", rows)
    con.execute("UPDATE procedures SET online_level = 'partial' WHERE procedure_code = 'HN-XD-005'")
    con.execute("INSERT INTO procedures VALUES ('HN-ZZ-001', 'Thử', 'Test', 'Hộ tịch', 'Civil status', 'none', "
                "false, false, 3, 'commune', true)")
    monkeypatch.undo()
    today = hanoi_today()
    assert migrate(con) == [4, 5, 6, 7]  # later migrations follow; this test is about 4
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 7
    assert con.execute("SELECT count(DISTINCT procedure_code) FROM procedure_levels").fetchone()[0] == len(rows) + 1
    assert _levels(con, "HN-KD-003") == [("partial", True, date(2022, 8, 1), date(2024, 8, 15)),
                                         ("full", True, date(2024, 8, 15), None)]
    assert _levels(con, "HN-GD-001") == [("none", True, date(2022, 8, 1), date(2024, 9, 3)),
                                         ("partial", True, date(2024, 9, 3), date(2025, 5, 5)),
                                         ("full", True, date(2025, 5, 5), None)]
    assert _levels(con, "HN-KD-005") == [("full", True, date(2022, 8, 1), None)]
    assert _levels(con, "HN-XD-005") == [("partial", True, today, None)]
    assert _levels(con, "HN-ZZ-001") == [("none", True, today, None)]
    # a series exists at once: at the end of July 2024, 26 of the 58 dated procedures were fully online
    got = _series(con, ["2024-07"], now=datetime.combine(today, datetime.min.time()))
    assert got[("service_coverage_full", "2024-07")] == (44.8, 26, 58)
    # a later load of the file rewrites nothing recorded: HN-XD-005's row of today takes the file's level
    n = con.execute("SELECT count(*) FROM procedure_levels").fetchone()[0]
    load_reference(con)
    assert con.execute("SELECT count(*) FROM procedure_levels").fetchone()[0] == n
    assert _levels(con, "HN-XD-005") == [("full", True, today, None)]
    assert _levels(con, "HN-KD-003")[0] == ("partial", True, date(2022, 8, 1), date(2024, 8, 15))
    con.close()


def test_demo_city_series_rises_month_over_month(con) -> None:
    """The shipped catalogue: fully online coverage climbs from ~44 % (July 2024) to its level today,
    never falls, rises every quarter, and stays under the 80 % target; online coverage never falls."""
    load_reference(con)
    now = datetime(2026, 12, 1, 12)
    full = catalogue_values(con, _kpis("service_coverage_full"), resolve("month", (date(2024, 7, 1), date(2026, 11, 30)), now),
                            "01", (), now=now)["value"].tolist()
    assert len(full) == 29
    assert 40 <= full[0] <= 50
    assert all(b >= a for a, b in zip(full, full[1:], strict=False))
    assert full[-1] == pytest.approx(100 * 43 / 59) and max(full) < 80
    quarters = catalogue_values(con, _kpis("service_coverage_full"), resolve("quarter", (date(2024, 7, 1), date(2026, 12, 31)), now),
                                "01", (), now=now)["value"].tolist()
    assert all(b > a for a, b in zip(quarters, quarters[1:], strict=False))
    online = catalogue_values(con, _kpis("service_coverage_online"), resolve("month", (date(2024, 7, 1), date(2026, 11, 30)), now),
                              "01", (), now=now)["value"].tolist()
    assert all(b >= a for a, b in zip(online, online[1:], strict=False)) and online[-1] > online[0]


def test_demo_levels_on_a_day_follow_the_catalogue_dates() -> None:
    import numpy as np

    from demo.catalog import build_procedures
    from demo.workdays import ordinal

    procs = build_procedures()
    idx = np.arange(len(procs.codes))
    on = {d: procs.level_on(idx, np.full(len(idx), ordinal(d))) for d in (date(2024, 7, 31), date(2026, 11, 30))}
    assert (on[date(2026, 11, 30)] == procs.level).all()
    assert int((on[date(2024, 7, 31)] == 0).sum()) == 26
    assert (on[date(2024, 7, 31)] >= procs.level).all()  # levels only rose
