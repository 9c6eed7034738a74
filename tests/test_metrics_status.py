"""Progress status (docs/domain.md §5): each class, the CAGR and linear forms, projection, and periods."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics.periods import PeriodError, parse_label, previous, resolve
from metrics.status import Status, assess, cagr, classify

# base 2025.0, now 2026.0, deadline 2027.0, target 80 (higher is better), base 50:
# required CAGR = (80/50)^(1/2) - 1 = 26.49 %/year


def test_cagr():
    assert cagr(121, 100, 2, 0) == pytest.approx(0.1)


@pytest.mark.parametrize("current, expected", [
    (80, Status.ACHIEVED),            # meets the target
    (64, Status.ON_TRACK),            # CAGR 28 % >= 0.95 x 26.49 %
    (60, Status.NEEDS_ACCELERATION),  # CAGR 20 %: R = 0.755
    (55, Status.LIMITED),             # CAGR 10 %: R = 0.378
    (45, Status.DETERIORATING),       # falling: R < 0
])
def test_each_class_cagr(current, expected):
    p = assess(current, 2026.0, 80, 2027.0, ">=", "higher", base=50, t0=2025.0)
    assert p.status == expected
    if expected != Status.ACHIEVED:
        assert p.method == "cagr"
        assert p.ratio == pytest.approx((current / 50 - 1) / ((80 / 50) ** 0.5 - 1))


def test_boundaries_of_classes():
    assert classify(0.95) == Status.ON_TRACK
    assert classify(0.9499) == Status.NEEDS_ACCELERATION
    assert classify(0.6) == Status.NEEDS_ACCELERATION
    assert classify(0.5999) == Status.LIMITED
    assert classify(0.0) == Status.LIMITED
    assert classify(-0.0001) == Status.DETERIORATING


def test_linear_form_when_base_is_zero():
    """A reduction starts at 0 % against its own baseline: 0 -> 12 % in a year, 20 % needed in two: R = 12 / 10."""
    p = assess(12, 2026.0, 20, 2027.0, ">=", "higher", base=0, t0=2025.0)
    assert (p.method, p.status) == ("linear", Status.ON_TRACK)
    assert p.ratio == pytest.approx(1.2)
    assert p.projected == pytest.approx(24)


def test_lower_is_better():
    """Processing time 10 -> 9 days in a year, target 6 by the year after: required CAGR -22.5 %, observed -10 %."""
    p = assess(9, 2026.0, 6, 2027.0, "<=", "lower", base=10, t0=2025.0)
    assert p.status == Status.LIMITED
    assert p.ratio == pytest.approx(0.1 / (1 - 0.6 ** 0.5))
    assert assess(11, 2026.0, 6, 2027.0, "<=", "lower", base=10, t0=2025.0).status == Status.DETERIORATING
    assert assess(5, 2026.0, 6, 2027.0, "<=", "lower", base=10, t0=2025.0).status == Status.ACHIEVED


def test_no_data():
    assert assess(None, 2026.0, 80, 2027.0).status == Status.NO_DATA
    assert assess(60, 2026.0, 80, 2027.0).status == Status.NO_DATA  # no base: no trend
    assert assess(60, 2025.0, 80, 2027.0, base=50, t0=2025.0).status == Status.NO_DATA  # no time elapsed


def test_projection_and_bounds():
    p = assess(64, 2026.0, 80, 2027.0, base=50, t0=2025.0)
    assert p.projected == pytest.approx(64 * 1.28)
    assert assess(90, 2026.0, 100, 2028.0, base=60, t0=2025.0, bounds=(0, 100)).projected == 100


def test_period_labels():
    assert parse_label("2026-W10").start == date(2026, 3, 2)
    assert parse_label("2026-Q1").end == date(2026, 4, 1)
    assert parse_label("2024-07-01..2025-06-30").end == date(2025, 7, 1)
    assert previous(parse_label("2026-01")).label == "2025-12"
    assert previous(parse_label("2026-W01")).label == "2025-W52"
    with pytest.raises(PeriodError, match="is not a label"):
        parse_label("March 2026")


def test_resolve_periods():
    now = datetime(2026, 3, 16, 12)
    assert [p.label for p in resolve("month", None, now)] == ["2026-02"]  # the last complete month
    assert [p.label for p in resolve("month", "current", now)] == ["2026-03"]
    assert [p.label for p in resolve("month", "2026-Q1", now)] == ["2026-01", "2026-02", "2026-03"]
    assert [p.label for p in resolve("quarter", "2026-02", now)] == ["2026-Q1"]
    assert [p.label for p in resolve("month", (date(2025, 12, 15), date(2026, 6, 1)), now)] == [
        "2025-12", "2026-01", "2026-02", "2026-03"]  # no future periods


def _num():
    from hypothesis import strategies as st

    return st.one_of(st.none(), st.just(float("nan")), st.floats(-50, 200, allow_nan=False), st.integers(-5, 150))


def test_assess_many_is_assess_for_each_value() -> None:
    """The batched judgement of targets.apply gives, value by value, exactly what assess gives (same floats)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from metrics.status import assess_many

    row = st.tuples(_num(), st.floats(2024, 2027), _num(), st.one_of(st.none(), st.floats(2023, 2027)))

    @settings(max_examples=300, deadline=None)
    @given(rows=st.lists(row, max_size=30), target=_num(), deadline=st.floats(2025, 2031),
           comparison=st.sampled_from([">=", "<="]), direction=st.sampled_from(["higher", "lower"]),
           bounds=st.sampled_from([(None, None), (0, 100), (0, None)]))
    def check(rows, target, deadline, comparison, direction, bounds):
        cur, t1, base, t0 = ([r[i] for r in rows] for i in range(4))
        try:
            one = [assess(c, a, target, deadline, comparison, direction, b, z, bounds)
                   for c, a, b, z in zip(cur, t1, base, t0, strict=True)]
        except (OverflowError, ZeroDivisionError):
            return  # a growth rate beyond a float: both forms raise, the set is out of range
        assert assess_many(cur, t1, target, deadline, comparison, direction, base, t0, bounds) == one

    check()
