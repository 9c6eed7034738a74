"""One injectable clock (issue 9, item 4): every layer reads `clock`, so a whole stack runs at a fixed time."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import clock
import config

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = ["access", "alerts", "api", "dashboard", "demo", "exports", "ingest", "metrics", "presentation",
            "reports", "service", "warehouse"]
AT = datetime(2025, 1, 27, 9, 30)  # Monday 27 January 2025, two days before Tết (29/01/2025)


def test_fixed_clock_is_what_every_layer_reads(monkeypatch) -> None:
    from access.models import utcnow
    from dashboard import data
    from ingest import runner
    from metrics import engine
    from presentation import files

    monkeypatch.delenv("R57_NOW", raising=False)
    with clock.use(clock.FixedClock(AT)) as c:
        assert engine.local_now() == AT
        assert data.local_now() == AT
        assert runner.local_now() == AT
        assert utcnow() == datetime(2025, 1, 27, 2, 30, tzinfo=UTC)  # Hanoi is UTC+7
        assert files.file_name("ranking", "csv") == "r57-ranking-20250127-0930.csv"
        c.advance(hours=1)
        assert engine.local_now() == datetime(2025, 1, 27, 10, 30)
    assert engine.local_now() != AT  # the block's clock is gone


def test_r57_now_fixes_business_time_not_the_record_of_runs(monkeypatch) -> None:
    monkeypatch.setenv("R57_NOW", "2026-12-01T08:00")
    assert clock.now() == datetime(2026, 12, 1, 8, 0)
    assert abs((clock.stamp() - datetime.now(config.TZ).replace(tzinfo=None)).total_seconds()) < 60
    monkeypatch.delenv("R57_NOW")
    assert abs((clock.now() - datetime.now(config.TZ).replace(tzinfo=None)).total_seconds()) < 60


def test_a_callback_answers_for_the_injected_time(views_warehouse) -> None:
    """The wards page's period picker at a fixed time: the current month is partial, then the complete
    months newest first (hand-worked for 27/01/2025)."""
    from dashboard.app import create_app

    create_app(views_warehouse, refresh_s=600)  # pages register with an app
    from dashboard.pages import wards

    with clock.use(clock.FixedClock(AT)):
        options = wards.words("vi")[2]
    values = [o["value"] for o in options]
    assert values[:3] == ["2025-01", "2024-12", "2024-11"]
    assert "2024-Q4" in values and "2025-Q1" in values and "2024" in values
    assert "27/01" in options[0]["label"]


def _calls_datetime_now(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("now", "utcnow", "today")
            and isinstance(n.func.value, ast.Name) and n.func.value.id in ("datetime", "date")]


def test_no_layer_reads_the_system_clock_but_clock_py() -> None:
    found = {str(p.relative_to(ROOT)): lines for d in APP_DIRS for p in sorted((ROOT / d).rglob("*.py"))
             if "migrations" not in p.parts and (lines := _calls_datetime_now(p))}
    found.update({"app.py": _calls_datetime_now(ROOT / "app.py")} if _calls_datetime_now(ROOT / "app.py") else {})
    assert found == {}, f"datetime.now()/date.today() outside clock.py: {found}"


@pytest.mark.parametrize("aware", [False, True])
def test_fixed_clock_accepts_aware_times(aware: bool) -> None:
    at = AT.replace(tzinfo=config.TZ) if aware else AT
    assert clock.FixedClock(at).now() == AT
    assert clock.FixedClock(at).wall().utcoffset().total_seconds() == 7 * 3600


def test_a_shifted_clock_runs_from_its_start_and_r57_now_still_fixes_business_time(monkeypatch) -> None:
    """ShiftedClock (the browser suite's clock): starts at the chosen instant, moves with the real one, and
    every reading agrees; R57_NOW fixes only the business time, as on the system clock. The scheduler's
    library runs on the machine's clock whatever is installed (clock.machine)."""
    import time

    monkeypatch.delenv("R57_NOW", raising=False)
    c = clock.ShiftedClock(AT)
    first = c.now()
    assert AT <= first < AT + timedelta(seconds=1)
    time.sleep(0.05)
    assert c.now() - first >= timedelta(seconds=0.05)
    assert abs(c.wall().replace(tzinfo=None) - c.now()) < timedelta(seconds=1)
    assert c.wall().utcoffset().total_seconds() == 7 * 3600
    clock.install(c)
    try:
        assert abs(clock.now() - AT) < timedelta(seconds=5) and abs(clock.stamp() - AT) < timedelta(seconds=5)
        assert abs(clock.machine() - datetime.now(config.TZ)) < timedelta(seconds=5)  # not shifted
        monkeypatch.setenv("R57_NOW", "2026-12-01T08:00")
        assert clock.now() == datetime(2026, 12, 1, 8, 0)
        assert abs(clock.stamp() - AT) < timedelta(seconds=5)  # runs are still stamped on the shifted clock
    finally:
        clock.install(None)
