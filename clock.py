"""The one clock of the application: every layer (ingest, metrics, dashboard, API, reports, alerts) asks
it for the time instead of calling `datetime.now`, so a test, a demo or a screenshot can run the whole
stack at a fixed instant.

Two readings:
- `now()`: the *business* time, Hanoi wall-clock, naive (as the warehouse stores times). It decides which
  period is current, what is overdue, what is due soon. A `FixedClock` (or `R57_NOW`) fixes it.
- `wall()`: the real time, timezone-aware in Asia/Ho_Chi_Minh, for what must follow the real world
  whatever the business clock says: audit and delivery timestamps, durations, file names of runs.

    with clock.use(clock.FixedClock(datetime(2026, 12, 1, 8, 0))):
        ...   # every layer sees 1 December 2026, 08:00 Hanoi time

The process clock is `SystemClock`, or a `FixedClock` when `R57_NOW` is set (config.frozen_now, read on
every call, so a test's monkeypatch of the environment takes effect at once). `use()` overrides both,
per thread of control (a contextvar), so parallel requests never see another's clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import config


class Clock(Protocol):
    def now(self) -> datetime:
        """Hanoi business time, naive."""

    def wall(self) -> datetime:
        """Real time, aware, in Hanoi."""


class SystemClock:
    """The real clock; honours R57_NOW (a fixed business time for demos and screenshots)."""

    def now(self) -> datetime:
        frozen = config.frozen_now()
        return frozen if frozen is not None else datetime.now(config.TZ).replace(tzinfo=None)

    def wall(self) -> datetime:
        return datetime.now(config.TZ)


@dataclass
class FixedClock:
    """A clock stopped at `at` (naive Hanoi time); `advance()` moves it. `wall()` follows it too, so a
    test sees consistent timestamps."""

    at: datetime

    def now(self) -> datetime:
        return self.at.replace(tzinfo=None) if self.at.tzinfo is None else self.at.astimezone(config.TZ).replace(tzinfo=None)

    def wall(self) -> datetime:
        return self.now().replace(tzinfo=config.TZ)

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)


class ShiftedClock:
    """A running clock that starts at `at` (naive Hanoi time) and moves with the real one: business time and
    timestamps both read `at + elapsed`. For a test or a demo that needs time to pass (a freshness line, a
    watcher's debounce, runs one after another) on a chosen day and hour, whatever the real date is: a
    browser test run at 23:59 would otherwise see "today" change under it."""

    def __init__(self, at: datetime) -> None:
        self._at = at.replace(tzinfo=None) if at.tzinfo is None else at.astimezone(config.TZ).replace(tzinfo=None)
        self._start = time.monotonic()

    def now(self) -> datetime:
        frozen = config.frozen_now()  # R57_NOW still fixes the business time, as on the system clock
        return frozen if frozen is not None else self.stamp()

    def stamp(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._start)

    def wall(self) -> datetime:
        return self.stamp().replace(tzinfo=config.TZ)


_SYSTEM = SystemClock()
_current: ContextVar[Clock | None] = ContextVar("r57_clock", default=None)


def current() -> Clock:
    return _current.get() or _SYSTEM


def now() -> datetime:
    """Hanoi business time, naive (frozen by a FixedClock or R57_NOW)."""
    return current().now()


def wall() -> datetime:
    """Real time, aware, Asia/Ho_Chi_Minh."""
    return current().wall()


def stamp() -> datetime:
    """Real time in Hanoi, naive: when something happened (an ingest run, an archived file, a queued
    report). A FixedClock fixes it; R57_NOW does not (a frozen dashboard still records real runs)."""
    return current().wall().replace(tzinfo=None)


def utc() -> datetime:
    """Real time in UTC (stored timestamps of the application database)."""
    return current().wall().astimezone(UTC)


def machine() -> datetime:
    """The machine's own time (aware, Hanoi) whatever clock is installed: only for a library that runs on
    it, as APScheduler's triggers do (a job's first run "now" must be the scheduler's now)."""
    return datetime.now(config.TZ)


def today():
    return now().date()


@contextmanager
def use(c: Clock) -> Iterator[Clock]:
    """Run a block (a test, a demo) on another clock."""
    token = _current.set(c)
    try:
        yield c
    finally:
        _current.reset(token)


def install(c: Clock | None) -> None:
    """Set the process clock outside a block (e.g. a scheduler thread started by a test); None restores
    the system clock. Prefer `use()`."""
    global _SYSTEM
    _SYSTEM = c or SystemClock()  # type: ignore[assignment]
