"""Typed results (issue 9, item 3): metrics.rows gives frozen rows with None for N/A, a Status, the KPI's
decimals and kind; the same answer as metrics.query. Hand-worked fixture: tests/fixtures_metrics.py."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

import metrics
from metrics.results import KpiRow, Rows, target_of
from metrics.status import Status

from .fixtures_metrics import NOW, build


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build(tmp_path_factory.mktemp("rows"))
    yield c
    c.close()


def test_rows_are_typed_and_frozen(con) -> None:
    """February's on-time rate: (3 + 1) / (5 + 2) = 57.14 % (worked in test_metrics_kpis)."""
    rs = metrics.rows(con, "on_time_rate", grain=None, periods="2026-02", now=NOW)
    assert isinstance(rs, Rows) and len(rs) == 1
    r = rs[0]
    assert isinstance(r, KpiRow)
    assert (r.numerator, r.denominator) == (4.0, 7.0) and r.value == pytest.approx(400 / 7)
    assert (r.decimals, r.kind, r.unit) == (1, "percent", "%")
    assert r.partial is False and isinstance(r.few_data, bool)
    assert r.status is None or isinstance(r.status, Status)
    assert r.period_start.isoformat() == "2026-02-01" and r.period_end.isoformat() == "2026-03-01"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 1.0  # type: ignore[misc]


def test_no_nan_anywhere_and_same_values_as_the_frame(con) -> None:
    """Every KPI, every unit, two months: each row's value is the frame's (None where the frame has N/A),
    and no float field of any row is NaN."""
    df = metrics.query(con, None, grain="month", periods=["2026-02", "2026-03"], by="unit_code", now=NOW)
    rs = metrics.rows(con, None, grain="month", periods=["2026-02", "2026-03"], by="unit_code", now=NOW)
    assert len(rs) == len(df) > 10
    for r, (_, f) in zip(rs, df.iterrows(), strict=True):
        assert (r.kpi, r.unit_code, r.period) == (f["kpi"], f["unit_code"], f["period"])
        expected = None if f["value"] is None or pd.isna(f["value"]) else float(f["value"])
        assert r.value == expected
        for fld in dataclasses.fields(KpiRow):
            x = getattr(r, fld.name)
            assert not (isinstance(x, float) and math.isnan(x)), (r.kpi, fld.name)
    assert any(r.value is None for r in rs)  # the fixture has units with no dossiers of a kind: N/A stays None


def test_current_month_is_partial_and_not_judged(con) -> None:
    r = metrics.rows(con, "on_time_rate", grain=None, periods="2026-03", now=NOW).one()
    assert r is not None and r.partial is True and not r.judged
    assert r.value == pytest.approx(50.0)  # (2 + 1) / (3 + 3), worked in test_metrics_kpis


def test_groups_carry_the_by_dimensions(con) -> None:
    rs = metrics.rows(con, "received", grain=None, periods="2026-02", by="channel", now=NOW)
    assert rs and all(dict(r.groups).keys() == {"channel"} for r in rs)
    assert sum(r.value or 0 for r in rs) == 8  # 8 received in February, split by channel
    d = rs[0].as_dict()
    assert "channel" in d and "groups" not in d


def test_lookups_and_target() -> None:
    def row(kpi, unit, period, value, target=None):
        return KpiRow(kpi=kpi, unit_code=unit, period=period, period_start=None, period_end=None, as_of=None,
                      value=value, numerator=None, denominator=None, unit="%", decimals=1, kind="percent",
                      partial=False, n=None, few_data=False, target=target, target_comparison=">=" if target else None)

    rs = Rows([row("a", "01", "2026-01", 1.0, 90.0), row("a", "01", "2026-02", None, 95.0), row("b", "01", "2026-02", 3.0)])
    assert rs.one(kpi="b").value == 3.0 and rs.one(kpi="c") is None
    assert rs.of_kpi("a").target() == (95.0, ">=")  # the latest period's target
    assert rs.of_kpi("b").target() == (None, None)
    assert rs.with_value().values() == [1.0, 3.0]
    assert list(rs.frame()["kpi"]) == ["a", "a", "b"]


def test_target_of_a_frame() -> None:
    df = pd.DataFrame({"target": [float("nan"), 80.0, 90.0]})
    assert target_of(df) == 80.0 and target_of(df, latest=True) == 90.0
    assert target_of(pd.DataFrame({"target": [None, float("nan")]})) is None
    assert target_of(pd.DataFrame()) is None and target_of(None) is None
