"""Status of the plan's tasks and task groups (issue 12): pure functions of dates and numbers, plus one
function that asks the metrics for the tasks linked to a KPI.

A task's status (JSON codes):

- `done`         the linked KPI has achieved its target, or 100 % is reported;
- `late`         past its deadline and not done (the day after the deadline);
- `not_started`  before its start date, or started with no progress reported yet (a KPI with no judged
                 status: no data, few data, a partial period);
- `at_risk`      reported progress at least AT_RISK_POINTS (10) percentage points behind the linear path
                 from 0 % on the start date to 100 % on the deadline; for a KPI: needs acceleration, limited
                 or deteriorating (metrics.status's classes);
- `on_track`     otherwise (for a KPI: on track).

The order of the checks is the order above: done wins over late (a task finished after its deadline is
done), late over everything else. A group rolls up from its tasks, worst first: every task done -> done;
any late -> late; any at risk -> at risk; any on track or done -> on track; otherwise not started.

The clock is always a parameter (`today`, `now`): every rule is tested at fixed dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum

import config


class TaskStatus(StrEnum):
    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"
    NOT_STARTED = "not_started"


AT_RISK_POINTS = 10.0   # percentage points behind the linear path that make a reported task "at risk"
STALE_WEEKS = 4         # a started, unfinished reported task with no update for this long is "overdue for an update"

# worst first: how tasks and groups are listed (late and at-risk first)
SEVERITY = (TaskStatus.LATE, TaskStatus.AT_RISK, TaskStatus.NOT_STARTED, TaskStatus.ON_TRACK, TaskStatus.DONE)

_KPI_STATUS = {"achieved": TaskStatus.DONE, "on_track": TaskStatus.ON_TRACK,
               "needs_acceleration": TaskStatus.AT_RISK, "limited": TaskStatus.AT_RISK,
               "deteriorating": TaskStatus.AT_RISK}


def expected_percent(start: date, deadline: date, today: date) -> float:
    """The linear path: 0 % on the start date, 100 % on the deadline, clamped to 0–100."""
    if today <= start:
        return 0.0
    if today >= deadline:
        return 100.0
    return 100.0 * (today - start).days / (deadline - start).days


def reported_status(start: date, deadline: date, percent: float | None, today: date) -> TaskStatus:
    """The status of a task whose progress is reported as percent done."""
    if percent is not None and percent >= 100:
        return TaskStatus.DONE
    if today > deadline:
        return TaskStatus.LATE
    if today < start or percent is None:
        return TaskStatus.NOT_STARTED
    if expected_percent(start, deadline, today) - percent >= AT_RISK_POINTS:
        return TaskStatus.AT_RISK
    return TaskStatus.ON_TRACK


def kpi_task_status(kpi_status: str | None, start: date, deadline: date, today: date) -> TaskStatus:
    """The status of a task linked to a KPI, from the KPI's progress status (metrics.standing)."""
    mapped = _KPI_STATUS.get(str(kpi_status) if kpi_status is not None else "")
    if mapped is TaskStatus.DONE:
        return TaskStatus.DONE
    if today > deadline:
        return TaskStatus.LATE
    if today < start or mapped is None:
        return TaskStatus.NOT_STARTED
    return mapped


def group_status(statuses: Iterable[str]) -> TaskStatus:
    """A group's status from its tasks' (see the module's docstring)."""
    got = {TaskStatus(s) for s in statuses}
    if not got:
        return TaskStatus.NOT_STARTED
    if got == {TaskStatus.DONE}:
        return TaskStatus.DONE
    for s in (TaskStatus.LATE, TaskStatus.AT_RISK):
        if s in got:
            return s
    if got & {TaskStatus.ON_TRACK, TaskStatus.DONE}:
        return TaskStatus.ON_TRACK
    return TaskStatus.NOT_STARTED


def stale(last_update: date | None, start: date, status: str, today: date, weeks: int = STALE_WEEKS) -> bool:
    """A reported task that should have been updated: started, not done, and no update for `weeks` weeks
    (counted from the start date when it has never been updated)."""
    if status == TaskStatus.DONE or today < start:
        return False
    since = last_update if last_update is not None else start
    return today - since >= timedelta(weeks=weeks)


def severity(status: str) -> int:
    return SEVERITY.index(TaskStatus(status))


def task_status(task: Mapping, today: date, kpi_status: str | None = None) -> dict:
    """Status, the linear path's expected percent and staleness of one task (a plan.store task dict:
    start, deadline, kpi, percent, last_update)."""
    start, deadline = task["start"], task["deadline"]
    if task.get("kpi"):
        status = kpi_task_status(kpi_status, start, deadline, today)
        return {"status": status.value, "expected_percent": None, "kpi_status": kpi_status, "stale": False}
    status = reported_status(start, deadline, task.get("percent"), today)
    return {"status": status.value, "expected_percent": round(expected_percent(start, deadline, today), 1),
            "kpi_status": None, "stale": stale(task.get("last_update"), start, status, today)}


def evaluate(tasks: Sequence[Mapping], today: date, kpi_statuses: Mapping[tuple[str, str], str] | None = None
             ) -> list[dict]:
    """Each task with its status fields; `kpi_statuses[(kpi, unit)]` is the linked KPI's status where the
    task's unit is a ward, (kpi, city) otherwise."""
    kpi_statuses = kpi_statuses or {}
    return [{**t, **task_status(t, today, kpi_statuses.get((t["kpi"], _kpi_unit(t))) if t.get("kpi") else None)}
            for t in tasks]


def groups(groups_: Sequence[Mapping], tasks: Sequence[Mapping]) -> list[dict]:
    """Each group with its status, counts per status and mean reported percent (tasks evaluated first)."""
    out = []
    for g in groups_:
        mine = [t for t in tasks if t["group_code"] == g["code"]]
        counts = {s.value: sum(1 for t in mine if t["status"] == s) for s in TaskStatus}
        pcts = [100.0 if t["status"] == TaskStatus.DONE else t["percent"] for t in mine
                if t["status"] == TaskStatus.DONE or (not t.get("kpi") and t.get("percent") is not None)]
        out.append({**g, "status": group_status(t["status"] for t in mine).value, "tasks": len(mine),
                    "counts": counts, "percent": round(sum(pcts) / len(pcts), 1) if pcts else None})
    return out


def _kpi_unit(task: Mapping) -> str:
    code = task.get("lead_unit_code")
    return code if task.get("lead_kind") == "ward" else config.CITY_CODE


def kpi_statuses(con, tasks: Sequence[Mapping], now: datetime) -> dict[tuple[str, str], str]:
    """The linked KPIs' statuses from metrics.standing (the status the overview shows), per (kpi, unit):
    one call per unit. A KPI the warehouse cannot judge is left out (its task is not started)."""
    from .engine import standing

    wanted: dict[str, set[str]] = {}
    for t in tasks:
        if t.get("kpi"):
            wanted.setdefault(_kpi_unit(t), set()).add(t["kpi"])
    out: dict[tuple[str, str], str] = {}
    for unit, kpis in wanted.items():
        rows = standing(con, sorted(kpis), unit=None if unit == config.CITY_CODE else unit, now=now)
        out.update({(r["kpi"], unit): r.get("status") for r in rows})
    return out


def evaluate_plan(con, plan: Mapping, now: datetime) -> dict:
    """A plan.store plan dict with every task's and group's status at `now` (Hanoi time)."""
    tasks = evaluate(plan["tasks"], now.date(), kpi_statuses(con, plan["tasks"], now) if con is not None else {})
    return {**plan, "tasks": tasks, "groups": groups(plan["groups"], tasks), "as_of": now}
