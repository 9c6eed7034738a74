"""The demo generators: seeded, canonical, and realistic enough for every dashboard view to show something."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import config
from demo.catalog import world
from demo.generator import CHANNELS, DOSSIER_COLUMNS, STATUSES, generate_dossiers
from demo.indicators import INDICATOR_COLUMNS, generate_indicators
from demo.live import drop_batch, remember_open, state_path

FINISHED = {"completed", "returned", "rejected"}
OPEN = {"received", "processing", "supplement_requested"}


def _gen(start: date, days: int, **kw) -> pd.DataFrame:
    return pd.concat(generate_dossiers(start, days, **kw), ignore_index=True)


def _catalogue() -> dict[str, dict[str, str]]:
    with (config.REFERENCE_DIR / "procedures.csv").open(encoding="utf-8") as fh:
        return {r["procedure_code"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, datetime]:
    """Two months around the two-tier start, statuses as of a mid-afternoon `now`."""
    now = datetime(2025, 7, 16, 14, 30)
    return _gen(date(2025, 5, 20), 60, per_day=800, now=now), now


def test_seeded_and_independent_of_chunking() -> None:
    a = _gen(date(2025, 1, 20), 12, per_day=300, seed=5)
    b = _gen(date(2025, 1, 20), 12, per_day=300, seed=5, chunk_days=3)
    pd.testing.assert_frame_equal(a, b)
    c = _gen(date(2025, 1, 20), 12, per_day=300, seed=6)
    assert not a["dossier_id"].equals(c["dossier_id"])


def test_a_day_does_not_depend_on_the_range() -> None:
    a = _gen(date(2026, 3, 2), 3, per_day=300)
    b = _gen(date(2026, 3, 4), 1, per_day=300)
    day = a[a["received_at"].dt.date == date(2026, 3, 4)].reset_index(drop=True)
    pd.testing.assert_frame_equal(day, b)


def test_daily_counts_follow_the_working_calendar() -> None:
    df = _gen(date(2026, 2, 2), 35, per_day=3100)  # includes Tết 2026 (16-20 Feb)
    daily = df.groupby(df["received_at"].dt.date).size()
    for d in (date(2026, 2, 3), date(2026, 2, 4), date(2026, 3, 3)):  # ordinary working days
        assert 3300 <= daily[d] <= 5500
    assert daily[date(2026, 2, 8)] < 250  # Sunday
    assert 300 <= daily[date(2026, 2, 7)] <= 1200  # Saturday
    tet = [daily.get(date(2026, 2, d), 0) for d in range(16, 21)]
    assert max(tet) < 250
    assert daily[date(2026, 2, 23)] < daily[date(2026, 3, 3)]  # slow restart after Tết
    assert 2000 <= len(df) / 35 <= 2900  # the Tết month sits well under the 3,100/day year average


def test_canonical_rules(sample: tuple[pd.DataFrame, datetime]) -> None:
    df, now = sample
    procs = _catalogue()
    units = {c for c in world(57)[0].codes}
    assert list(df.columns) == DOSSIER_COLUMNS
    assert df["dossier_id"].is_unique
    assert df["dossier_id"].str.fullmatch(r"H01\.(\d{5}|01)-\d{6}-\d{5}").all()
    assert set(df["unit_code"]) <= units and df["unit_code"].str.fullmatch(r"\d{5}|01").all()
    assert set(df["procedure_code"]) <= set(procs)
    assert set(df["channel"]) <= set(CHANNELS) and set(df["status"]) <= set(STATUSES)
    assert set(df["applicant_type"]) <= {"citizen", "business"}
    assert (df["received_at"] <= now).all()
    assert (df["due_at"] > df["received_at"]).all()
    assert (df["due_at"].dt.hour == 17).all() and (df["due_at"].dt.dayofweek < 5).all()
    done = df["completed_at"].notna()
    assert (done == df["status"].isin(FINISHED)).all()
    assert (df.loc[done, "completed_at"] >= df.loc[done, "received_at"]).all()
    assert (df.loc[done, "completed_at"] <= now).all()
    assert ((df["updated_at"] >= df["received_at"]) & (df["updated_at"] <= now)).all()
    assert df["rating"].dropna().between(1, 5).all()
    assert df.loc[df["rating"].notna(), "status"].isin(FINISHED).all()
    assert ((df["supplement_count"] == 0) == (df["supplement_days"] == 0)).all()
    assert (df["supplement_count"] >= 0).all()
    level = df["procedure_code"].map(lambda c: procs[c]["online_level"])
    assert (level[df["channel"] == "online_full"] == "full").all()
    assert (level[df["channel"] == "online_partial"] != "none").all()
    fee = df["procedure_code"].map(lambda c: procs[c]["fee_bearing"] == "true")
    assert not df.loc[~fee, "paid_online"].any()
    cross = df["procedure_code"].map(lambda c: procs[c]["cross_agency"] == "true")
    assert (df["cross_agency"] == cross).all()
    city = df["unit_code"] == "01"
    assert (df.loc[city, "procedure_code"].map(lambda c: procs[c]["level"]) == "city").all()
    assert (df.loc[~city, "procedure_code"].map(lambda c: procs[c]["level"]) == "commune").all()
    biz = df["procedure_code"].map(lambda c: procs[c]["sector"] == "Kinh doanh")
    assert (df.loc[biz, "applicant_type"] == "business").mean() > 0.8
    assert (df.loc[~biz, "applicant_type"] == "citizen").mean() > 0.9


def test_status_mix_and_rates(sample: tuple[pd.DataFrame, datetime]) -> None:
    df, now = sample
    old = df[df["received_at"] < now - timedelta(days=45)]
    share = old["status"].value_counts(normalize=True)
    assert share["completed"] > 0.95
    assert 0.01 < share.get("returned", 0) + share.get("rejected", 0) < 0.035
    assert 0.001 < share.get("withdrawn", 0) < 0.012
    recent = df[df["received_at"] > now - timedelta(hours=20)]
    assert recent["status"].isin(OPEN).mean() > 0.6
    finished = df[df["status"].isin(FINISHED)]
    rated = finished["rating"].notna().mean()
    assert 0.55 < rated < 0.75
    assert 0.85 < (finished["rating"].dropna() >= 4).mean() < 0.97
    one, more = (df["supplement_count"] == 1).mean(), (df["supplement_count"] >= 2).mean()
    assert 0.06 < one < 0.10 and 0.008 < more < 0.025
    assert 0.0005 < df["complaint"].mean() < 0.01


def test_online_share_rises_after_the_two_tier_start() -> None:
    before = _gen(date(2025, 3, 3), 21, per_day=1000)
    after = _gen(date(2026, 9, 7), 21, per_day=1000)
    online = lambda d: d["channel"].isin(["online_full", "online_partial"]).mean()  # noqa: E731
    assert online(after) > online(before) + 0.15
    assert after["digitized"].mean() > before["digitized"].mean() + 0.1
    assert after["data_reused"].mean() > before["data_reused"].mean() + 0.15


def test_urban_wards_file_more_online_than_rural_communes(sample: tuple[pd.DataFrame, datetime]) -> None:
    df, _ = sample
    units = world(57)[0]
    kind = dict(zip(units.codes, np.where(units.is_city, "city", np.where(units.phuong, "phuong", "xa")), strict=True))
    online = df["channel"].isin(["online_full", "online_partial"]).groupby(df["unit_code"].map(kind)).mean()
    assert online["phuong"] > online["xa"] + 0.1
    size = df.groupby(df["unit_code"].map(kind)).size() / pd.Series({"phuong": 51, "xa": 75, "city": 1})
    assert size["phuong"] > size["xa"]  # urban wards are busier


def test_an_overdue_backlog_concentrated_in_weak_units() -> None:
    now = datetime(2026, 4, 14, 11, 0)
    df = _gen(date(2026, 1, 5), 100, per_day=3100, now=now)
    units = world(57)[0]
    weak = set(np.array(units.codes)[units.weak])
    overdue = df[df["status"].isin(OPEN) & (df["due_at"] < now) & (df["supplement_count"] == 0)]
    assert 100 <= len(overdue) <= 1500
    assert overdue["unit_code"].isin(weak).mean() > 0.3  # a handful of units carry much of it
    assert df["unit_code"].isin(weak).mean() < 0.1


def test_indicators_are_seeded_canonical_and_revised() -> None:
    now = datetime(2026, 5, 10, 12, 0)
    ind = generate_indicators(now=now)
    pd.testing.assert_frame_equal(ind, generate_indicators(now=now))
    assert list(ind.columns) == INDICATOR_COLUMNS
    assert (ind["published_at"] <= now).all()
    assert ind["period"].str.fullmatch(r"\d{4}(-Q[1-4]|-\d{2})?").all()
    assert ind["unit_code"].str.fullmatch(r"01|\d{5}").all()
    with (config.REFERENCE_DIR / "indicators.csv").open(encoding="utf-8") as fh:
        catalogue = {r["indicator_code"]: r for r in csv.DictReader(fh)}
    assert set(ind["indicator_code"]) == set(catalogue)
    for code, rows in ind.groupby("indicator_code"):
        level = catalogue[code]["level"]
        if level == "city":
            assert (rows["unit_code"] == "01").all(), code
        if level == "unit":
            assert (rows["unit_code"] != "01").all(), code
        pattern = {"year": r"\d{4}", "quarter": r"\d{4}-Q\d", "month": r"\d{4}-\d{2}"}[catalogue[code]["frequency"]]
        assert rows["period"].str.fullmatch(pattern).all(), code
    key = ["indicator_code", "unit_code", "period"]
    assert not ind.duplicated(key + ["published_at"]).any()
    revised = ind[ind.duplicated(key, keep=False)]
    assert revised["indicator_code"].nunique() >= 3
    cov = ind[(ind["indicator_code"] == "coverage_5g")]
    assert cov["value"].between(0, 100).all()
    first = cov[cov["period"] == "2024-Q1"]["value"].mean()
    last = cov[cov["period"] == "2026-Q1"]["value"].mean()
    assert last > first + 20
    later = generate_indicators(now=now + timedelta(days=200))  # later publications only add rows
    merged = ind.merge(later, on=key + ["published_at"], how="left", suffixes=("", "_later"))
    assert (merged["value"] == merged["value_later"]).all()
    assert len(later) > len(ind)


def test_live_drop_adds_receipts_and_updates_open_dossiers(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    now0 = datetime(2026, 3, 10, 9, 0)
    history = _gen(date(2026, 3, 2), 9, per_day=400, now=now0)
    assert remember_open(inbox, history) > 0
    path = drop_batch(inbox, now0 + timedelta(seconds=30), n=30, seed=1)
    assert path.parent == inbox and not path.name.startswith(".")
    assert [p.name for p in inbox.iterdir()] == [path.name]  # no temp file left behind
    assert state_path(inbox).exists() and state_path(inbox).parent == tmp_path
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(batch.columns) == DOSSIER_COLUMNS
    new = batch[~batch["dossier_id"].isin(history["dossier_id"])]
    upd = batch[batch["dossier_id"].isin(history["dossier_id"])]
    assert len(new) == 30 and (new["status"] == "received").all()
    assert new["dossier_id"].is_unique and new["dossier_id"].str.fullmatch(r"H01\.\S+-260310-9\d{4}").all()
    assert (pd.to_datetime(new["received_at"]) <= now0 + timedelta(seconds=30)).all()
    assert len(upd) == 15
    old = history.set_index("dossier_id").loc[upd["dossier_id"]]
    assert (pd.to_datetime(upd["updated_at"]).to_numpy() > old["updated_at"].to_numpy()).all()
    finished = upd["status"].isin(FINISHED)
    assert (upd.loc[finished, "completed_at"] != "").all() and (upd.loc[~finished, "completed_at"] == "").all()
    second = drop_batch(inbox, now0 + timedelta(seconds=60), n=30, seed=1)
    ids = pd.read_csv(second, dtype=str)["dossier_id"]
    assert not ids[~ids.isin(batch["dossier_id"]) & ~ids.isin(history["dossier_id"])].empty
    assert re.search(r"dossiers-live-20260310T090100", second.name)


def test_a_national_demo_data_set(tmp_path: Path) -> None:
    """`demo --provinces 3`: the 34 provinces' units loaded, dossiers in Hanoi and the next two provinces on
    their own units (none left in quarantine), the lake partitioned by province."""
    import lake.store as lake
    from demo.seed import province_maps, seed_demo
    from warehouse.db import open_writer

    s = config.load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    con = open_writer(s)
    try:
        summary = seed_demo(con, s, days=4, per_day=300, now=datetime(2026, 3, 20, 16, 0), provinces=3)
        assert summary["provinces"] == ["01", "04", "08"] and summary["quarantined"] == 0
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == 3355
        by_province = dict(con.execute("""SELECT u.province_code, count(*) FROM dossiers d
                                          JOIN units u USING (unit_code) GROUP BY 1""").fetchall())
        assert set(by_province) == {"01", "04", "08"}
        maps = {code: (m, scale) for code, m, scale in province_maps(3, list(world(57)[0].codes))}
        for code in ("04", "08"):  # each province's volume follows its number of units, within noise
            assert 0.6 < by_province[code] / (by_province["01"] * maps[code][1]) < 1.6
            units = set(maps[code][0].values())
            got = {u for (u,) in con.execute("SELECT DISTINCT d.unit_code FROM dossiers d JOIN units u USING (unit_code) "
                                             "WHERE u.province_code = ?", [code]).fetchall()}
            assert got <= units and code in got  # its own departments, and its wards
        assert con.execute("SELECT count(*) FROM dossiers WHERE dossier_id LIKE 'P04.%'").fetchone()[0] == by_province["04"]
        report = lake.export(con, tmp_path / "lake")
        assert {p["province"] for p in report["manifest"]["partitions"]} == {"01", "04", "08"}
    finally:
        con.close()


def test_demo_refuses_more_provinces_than_there_are() -> None:
    import app

    with pytest.raises(SystemExit):
        app.main(["demo", "--provinces", "35"])
