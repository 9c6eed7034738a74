"""Progress towards a target (docs/domain.md §5, Open SDG's ProgressMeasure after Eurostat): pure functions of numbers.

CAGR(v1, v0, t1, t0) = (v1/v0)^(1/(t1-t0)) - 1. R = d * CAGR_observed / |CAGR_required|, with
CAGR_required = CAGR(target, base, deadline, base time) and d = +1 when higher is better, -1 when
lower is. Where a growth rate is undefined (a base, current value or target <= 0, e.g. a reduction
that starts at 0 %) the linear form is used: R = d * (observed change per year) / |required change per year|.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"                      # R >= 0.95
    NEEDS_ACCELERATION = "needs_acceleration"  # 0.6 <= R < 0.95
    LIMITED = "limited"                        # 0 <= R < 0.6
    DETERIORATING = "deteriorating"            # R < 0
    NO_DATA = "no_data"                        # no value, or no trend to judge it by
    FEW_DATA = "few_data"                      # a rate over fewer than the KPI's min_n: not judged
    PARTIAL = "partial"                        # the period is not over: shown, labelled, never judged


ON_TRACK_R = 0.95
ACCELERATION_R = 0.6


@dataclass(frozen=True)
class Progress:
    status: Status
    ratio: float | None = None        # R
    projected: float | None = None    # value expected at the deadline on the observed trend
    method: str | None = None         # 'cagr' | 'linear'


def as_number(x) -> float | None:
    """A value as float, or None (N/A) for None, NaN and non-numbers."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def numbers(xs) -> list[float | None]:
    """as_number over a column: one conversion in C for numbers, None and NaN; element by element otherwise."""
    try:
        a = np.asarray(xs, dtype=float)
    except (TypeError, ValueError):
        return [as_number(x) for x in xs]
    return [None if v != v else v for v in a.tolist()]


def cagr(v1: float, v0: float, t1: float, t0: float) -> float:
    """Compound annual growth rate between (t0, v0) and (t1, v1); times in years, values > 0."""
    return (v1 / v0) ** (1.0 / (t1 - t0)) - 1.0


def meets(value: float, target: float, comparison: str) -> bool:
    """Whether `value` satisfies the target ('>=' or '<=')."""
    return value >= target if comparison == ">=" else value <= target


def classify(ratio: float) -> Status:
    """Open SDG's classes for a progress ratio R."""
    if ratio >= ON_TRACK_R:
        return Status.ON_TRACK
    if ratio >= ACCELERATION_R:
        return Status.NEEDS_ACCELERATION
    if ratio >= 0:
        return Status.LIMITED
    return Status.DETERIORATING


def _ratio(observed: float, required: float, d: int) -> float:
    if required == 0:  # the base already sat on the target: any move away is deterioration
        return math.copysign(math.inf, d * observed) if observed else 0.0
    return d * observed / abs(required)


def _judged(current: float, t1: float, target: float, deadline: float, d: int, base: float, t0: float,
            lo: float | None, hi: float | None) -> Progress:
    """R, class and projection for a value that misses its target and has a base to measure from (numbers)."""
    if base > 0 and current > 0 and target > 0:
        method = "cagr"
        observed = cagr(current, base, t1, t0)
        required = cagr(target, base, deadline, t0)
        projected = current * (1 + observed) ** max(deadline - t1, 0.0)
    else:
        method = "linear"
        observed = (current - base) / (t1 - t0)
        required = (target - base) / (deadline - t0)
        projected = current + observed * max(deadline - t1, 0.0)
    r = _ratio(observed, required, d)
    if lo is not None:
        projected = max(projected, lo)
    if hi is not None:
        projected = min(projected, hi)
    return Progress(classify(r), r, projected, method)


def assess(current: float | None, t1: float, target: float | None, deadline: float,
           comparison: str = ">=", direction: str = "higher", base: float | None = None,
           t0: float | None = None, bounds: tuple[float | None, float | None] = (None, None)) -> Progress:
    """Status, R and the projection at the deadline for one value; times are fractional years."""
    current, target, base = as_number(current), as_number(target), as_number(base)
    if current is None or target is None:
        return Progress(Status.NO_DATA)
    if meets(current, target, comparison):
        return Progress(Status.ACHIEVED, None, current, None)
    if base is None or t0 is None or t1 <= t0 or deadline <= t0:
        return Progress(Status.NO_DATA)
    return _judged(current, t1, target, deadline, 1 if direction == "higher" else -1, base, t0, *bounds)


def assess_many(current: Sequence[float | None], t1: Sequence[float], target: float | None, deadline: float,
                comparison: str = ">=", direction: str = "higher", base: Sequence[float | None] | None = None,
                t0: Sequence[float | None] | None = None,
                bounds: tuple[float | None, float | None] = (None, None)) -> list[Progress]:
    """`assess` for many values under one target (a KPI's rows of one period): the same rules and arithmetic,
    with the target, deadline, direction and bounds read once instead of once per value."""
    n = len(current)
    goal = as_number(target)
    if goal is None:
        return [_NO_DATA] * n
    base = numbers(base) if base is not None else [None] * n
    t0 = list(t0) if t0 is not None else [None] * n
    d = 1 if direction == "higher" else -1
    lo, hi = bounds
    out: list[Progress] = []
    for c, s1, b, s0 in zip(numbers(current), t1, base, t0, strict=True):
        if c is None:
            out.append(_NO_DATA)
        elif meets(c, goal, comparison):
            out.append(Progress(Status.ACHIEVED, None, c, None))
        elif b is None or s0 is None or s1 <= s0 or deadline <= s0:
            out.append(_NO_DATA)
        else:
            out.append(_judged(c, s1, goal, deadline, d, b, s0, lo, hi))
    return out


_NO_DATA = Progress(Status.NO_DATA)
