"""The plan registry in the application database: read the plan, upsert tasks (the importer), record progress
updates within the updater's ownership, link accounts to departments. Every change is audited in the same
unit of work as the change itself (access.audit.add_event), refusals too.

Who may update a task's progress (server-side, here, whatever the page or the CLI shows):
- an account with the admin permission: every task;
- an account whose own units (not every unit) include the task's lead unit: a ward's chair for the ward's
  tasks (a unit implies its subtree, as for reading);
- an account linked to the task's lead department (plan_unit_accounts; `plan owners add`).
Leaders and analysts read every task and update none. Co-operating units read, the lead unit reports.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from access import roles as R
from access.audit import add_event
from access.models import User
from access.viewer import Viewer

from . import DEFAULT_PLAN, units
from .models import Plan, PlanGroup, PlanTask, PlanTaskUpdate, PlanUnitAccount

NOTE_MAX = 500
URL_RE = re.compile(r"^https?://[^\s<>\"']{1,990}$")
TASK_FIELDS = ("name_vi", "name_en", "lead_unit_code", "co_units", "responsible", "start_date", "deadline", "kpi",
               "indicator", "target_value", "unit_of_measure")


class PlanError(ValueError):
    """A refused change; `code` is a catalogue reason (plan.err_<code>)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


# --- reading ------------------------------------------------------------------------------------------

def _task_dict(t: PlanTask, latest: PlanTaskUpdate | None, n_updates: int) -> dict:
    lead = units.unit(t.lead_unit_code) or {}
    return {
        "code": t.code, "name_vi": t.name_vi, "name_en": t.name_en or t.name_vi,
        "group_code": t.group.code, "lead_unit_code": t.lead_unit_code, "lead_kind": lead.get("kind"),
        "co_units": list(t.co_units or []), "responsible": t.responsible, "start": t.start_date,
        "deadline": t.deadline, "kpi": t.kpi, "indicator": t.indicator, "target_value": t.target_value,
        "unit_of_measure": t.unit_of_measure,
        "percent": latest.percent if latest is not None else None,
        "value": latest.value if latest is not None else None,
        "last_update": latest.as_of if latest is not None else None,
        "last_note": latest.note if latest is not None else None,
        "updates": n_updates,
    }


def _update_dict(u: PlanTaskUpdate) -> dict:
    return {"id": u.id, "as_of": u.as_of, "percent": u.percent, "value": u.value, "note": u.note,
            "evidence_url": u.evidence_url, "user_id": u.user_id, "actor": u.actor, "created_at": u.created_at}


def _latest(updates: list[PlanTaskUpdate]) -> PlanTaskUpdate | None:
    return max(updates, key=lambda u: (u.as_of, u.created_at, u.id)) if updates else None


def load_plan(db, plan_code: str = DEFAULT_PLAN, before: date | None = None) -> dict | None:
    """The plan with its groups (in order) and tasks (each with its latest update); None when not imported.
    `before`: only updates reported for a day before it (a monthly report's plan as it stood at the month's end)."""
    with db.session(readonly=True) as s:
        p = s.scalar(select(Plan).where(Plan.code == plan_code))
        if p is None:
            return None
        groups = [{"code": g.code, "name_vi": g.name_vi, "name_en": g.name_en or g.name_vi, "position": g.position}
                  for g in s.scalars(select(PlanGroup).where(PlanGroup.plan_id == p.id)
                                     .order_by(PlanGroup.position, PlanGroup.code))]
        by_task: dict[int, list[PlanTaskUpdate]] = {}
        for u in s.scalars(select(PlanTaskUpdate).join(PlanTask).where(PlanTask.plan_id == p.id)):
            if before is None or u.as_of < before:
                by_task.setdefault(u.task_id, []).append(u)
        tasks = [_task_dict(t, _latest(by_task.get(t.id, [])), len(by_task.get(t.id, [])))
                 for t in s.scalars(select(PlanTask).where(PlanTask.plan_id == p.id).order_by(PlanTask.code))]
        return {"code": p.code, "name_vi": p.name_vi, "name_en": p.name_en or p.name_vi, "demo": bool(p.demo),
                "groups": groups, "tasks": tasks}


def visible(plan: dict, viewer: Viewer) -> dict:
    """The plan as `viewer` may see it: a ward's tasks only within the viewer's scope (as every unit's rows), and
    co-operating wards outside it left out; the departments' tasks are the city's and visible to everyone."""
    def sees(code: str) -> bool:
        return not units.is_ward(code) or viewer.sees(code)

    tasks = [{**t, "co_units": [c for c in t["co_units"] if sees(c)]} for t in plan["tasks"] if sees(t["lead_unit_code"])]
    return {**plan, "tasks": tasks}


def task_history(db, code: str, plan_code: str = DEFAULT_PLAN) -> list[dict] | None:
    """A task's updates, oldest first; None for an unknown task."""
    with db.session(readonly=True) as s:
        t = _task(s, code, plan_code)
        if t is None:
            return None
        ups = s.scalars(select(PlanTaskUpdate).where(PlanTaskUpdate.task_id == t.id)
                        .order_by(PlanTaskUpdate.as_of, PlanTaskUpdate.created_at, PlanTaskUpdate.id))
        return [_update_dict(u) for u in ups]


def _task(s, code: str, plan_code: str) -> PlanTask | None:
    return s.scalar(select(PlanTask).join(Plan).where(Plan.code == plan_code, PlanTask.code == str(code).strip()))


# --- who may update --------------------------------------------------------------------------------------

def departments_of(db, username: str) -> set[str]:
    """The departments an account acts for in the plan."""
    with db.session(readonly=True) as s:
        return set(s.scalars(select(PlanUnitAccount.unit_code).join(User, User.id == PlanUnitAccount.user_id)
                             .where(User.username == username)))


def may_update(viewer: Viewer, lead_unit_code: str, departments: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether `viewer` may report progress on a task led by `lead_unit_code` (see the module docstring)."""
    if viewer.may(R.ADMIN):
        return True
    if viewer.kind != "user" or viewer.scope is None:  # tokens, leaders and analysts read, never report
        return False
    return lead_unit_code in viewer.scope or lead_unit_code in departments


@dataclass(frozen=True)
class Recorded:
    task: str
    update_id: int
    percent: float | None
    value: float | None


def _number(x, lo: float | None = None, hi: float | None = None, field: str = "value") -> float | None:
    if x is None or (isinstance(x, str) and not x.strip()):
        return None
    try:
        f = float(str(x).strip().replace(",", ".")) if isinstance(x, str) else float(x)
    except (TypeError, ValueError):
        raise PlanError(f"bad_{field}") from None
    if math.isnan(f) or math.isinf(f) or (lo is not None and f < lo) or (hi is not None and f > hi):
        raise PlanError(f"bad_{field}")
    return f


def clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(note)).strip()
    if len(text) > NOTE_MAX:
        raise PlanError("note_too_long")
    return text or None


def clean_url(url: str | None) -> str | None:
    if url is None or not str(url).strip():
        return None
    url = str(url).strip()
    if not URL_RE.match(url):
        raise PlanError("bad_evidence")
    return url


def add_update(db, code: str, viewer: Viewer, *, percent=None, value=None, note: str | None = None,
               evidence_url: str | None = None, as_of: date, client: str | None = None,
               plan_code: str = DEFAULT_PLAN, via: str | None = None) -> Recorded:
    """Record one progress update on a task as `viewer`, after the ownership check; audited (refusals too,
    in their own transaction). Raises PlanError (code: unknown_task, not_owner, bad_percent, bad_value,
    nothing, note_too_long, bad_evidence, kpi_linked)."""
    detail_base = {"task": str(code)[:32], **({"via": via} if via else {})}
    try:
        pct = _number(percent, 0, 100, "percent")
        val = _number(value, field="value")
        text, url = clean_note(note), clean_url(evidence_url)
    except PlanError as exc:
        _refused(db, viewer, code, exc.code, detail_base, client)
        raise
    with db.session() as s:
        t = _task(s, code, plan_code)
        if t is None:
            raise PlanError("unknown_task")
        deps = set(s.scalars(select(PlanUnitAccount.unit_code).join(User, User.id == PlanUnitAccount.user_id)
                             .where(User.username == viewer.name))) if viewer.kind == "user" else set()
        refusal = None
        if not may_update(viewer, t.lead_unit_code, deps):
            refusal = "not_owner"
        elif pct is None and val is None and text is None:
            refusal = "nothing"
        elif t.kpi and pct is not None:  # its status comes from the metrics, never typed by hand
            refusal = "kpi_linked"
        if refusal is None:
            user_id = s.scalar(select(User.id).where(User.username == viewer.name)) if viewer.kind == "user" else None
            u = PlanTaskUpdate(task_id=t.id, as_of=as_of, percent=pct, value=val, note=text, evidence_url=url,
                               user_id=user_id, actor=viewer.name[:128])
            s.add(u)
            s.flush()
            add_event(s, "plan_update", actor=viewer.name, target=t.code, scope=viewer.describe_scope(),
                      detail={**detail_base, "unit": t.lead_unit_code, "percent": pct, "value": val,
                              "as_of": as_of.isoformat(), "evidence": bool(url)}, client=client)
            return Recorded(t.code, u.id, pct, val)
    _refused(db, viewer, code, refusal, {**detail_base, "unit": t.lead_unit_code}, client)
    raise PlanError(refusal)


EDITABLE = ("name_vi", "name_en", "lead_unit_code", "responsible", "start_date", "deadline")


def edit_task(db, code: str, viewer: Viewer, *, client: str | None = None, plan_code: str = DEFAULT_PLAN,
              **fields) -> list[str]:
    """An administrator's edit of a task's own fields (names, lead unit, responsible position, dates); the
    fields that changed, audited as plan_task_change (a refusal audited as denied). PlanError: not_admin,
    unknown_task, unknown_unit, bad_date, deadline_before_start, nothing."""
    detail = {"task": str(code)[:32]}
    refusal = None
    values: dict = {}
    if not viewer.may(R.ADMIN):
        refusal = "not_admin"
    else:
        for f, v in fields.items():
            if f not in EDITABLE or v is None or (isinstance(v, str) and not v.strip()):
                continue
            if f == "lead_unit_code":
                v = units.resolve(v)
                if v is None:
                    refusal = "unknown_unit"
            elif f in ("start_date", "deadline") and not isinstance(v, date):
                refusal = "bad_date"
            else:
                v = clean_note(v) if isinstance(v, str) else v
            values[f] = v
    if refusal is None:
        with db.session() as s:
            t = _task(s, code, plan_code)
            if t is None:
                raise PlanError("unknown_task")
            if values.get("start_date", t.start_date) > values.get("deadline", t.deadline):
                refusal = "deadline_before_start"
            else:
                changed = sorted(f for f, v in values.items() if getattr(t, f) != v)
                if not changed:
                    raise PlanError("nothing")
                for f in changed:
                    setattr(t, f, values[f])
                add_event(s, "plan_task_change", actor=viewer.name, target=t.code, scope=viewer.describe_scope(),
                          detail={**detail, "fields": changed, "via": "dashboard"}, client=client)
                return changed
    _refused(db, viewer, code, refusal, detail, client, action="plan_task_change")
    raise PlanError(refusal)


def _refused(db, viewer: Viewer, code: str, reason: str, detail: dict, client: str | None,
             action: str = "plan_update") -> None:
    with db.session() as s:
        add_event(s, action, actor=viewer.name, outcome="denied", target=str(code)[:32],
                  scope=viewer.describe_scope(), detail={**detail, "reason": reason}, client=client)


# --- writing the registry (the importer, the demo) ------------------------------------------------------------

@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    progress: int = 0  # progress updates recorded from the file's progress column


def ensure_plan(s, plan_code: str, name_vi: str, name_en: str | None = None, demo: bool = False) -> Plan:
    p = s.scalar(select(Plan).where(Plan.code == plan_code))
    if p is None:
        p = Plan(code=plan_code, name_vi=name_vi, name_en=name_en, demo=demo)
        s.add(p)
        s.flush()
    return p


def upsert(db, rows: list[dict], *, actor: str, as_of: date, plan_code: str = DEFAULT_PLAN,
           plan_name: tuple[str, str | None] = ("Kế hoạch thực hiện Nghị quyết 57-NQ/TW của Hà Nội",
                                                 "Hanoi's Resolution 57 implementation plan"),
           demo: bool = False, client: str | None = None, source: str | None = None) -> UpsertCounts:
    """Insert or update tasks (and their groups) by task code, in one transaction; each added or changed task
    is one audit event naming the fields that changed. A row's `progress` different from the task's latest
    reported percent is recorded as an update dated `as_of` by `actor`. Rows are validated by the importer."""
    counts = UpsertCounts()
    with db.session() as s:
        p = ensure_plan(s, plan_code, *plan_name, demo=demo)
        groups = {g.code: g for g in s.scalars(select(PlanGroup).where(PlanGroup.plan_id == p.id))}
        tasks = {t.code: t for t in s.scalars(select(PlanTask).where(PlanTask.plan_id == p.id))}
        for r in rows:
            g = groups.get(r["group_code"])
            if g is None:
                g = groups[r["group_code"]] = PlanGroup(plan_id=p.id, code=r["group_code"], name_vi=r["group_name"],
                                                        name_en=r.get("group_name_en"), position=_position(r["group_code"]))
                s.add(g)
                s.flush()
                add_event(s, "plan_group_add", actor=actor, target=g.code, detail={"plan": plan_code}, client=client)
            elif r.get("group_name") and r["group_name"] != g.name_vi:
                g.name_vi = r["group_name"]
                add_event(s, "plan_group_change", actor=actor, target=g.code, detail={"fields": ["name_vi"]},
                          client=client)
            values = {"name_vi": r["task_name"], "name_en": r.get("task_name_en"), "lead_unit_code": r["lead_unit_code"],
                      "co_units": list(r.get("co_units") or []), "responsible": r.get("responsible"),
                      "start_date": r["start"], "deadline": r["deadline"], "kpi": r.get("kpi"),
                      "indicator": r.get("indicator"), "target_value": r.get("target_value"),
                      "unit_of_measure": r.get("unit_of_measure")}
            t = tasks.get(r["task_code"])
            if t is None:
                t = tasks[r["task_code"]] = PlanTask(plan_id=p.id, group_id=g.id, code=r["task_code"], **values)
                s.add(t)
                s.flush()
                counts.inserted += 1
                add_event(s, "plan_task_add", actor=actor, target=t.code,
                          detail={"group": g.code, "unit": t.lead_unit_code, **({"file": source} if source else {})},
                          client=client)
            else:
                changed = [f for f, v in values.items() if getattr(t, f) != v]
                if t.group_id != g.id:
                    t.group_id = g.id
                    changed.append("group")
                for f in changed:
                    if f != "group":
                        setattr(t, f, values[f])
                if changed:
                    counts.updated += 1
                    add_event(s, "plan_task_change", actor=actor, target=t.code,
                              detail={"fields": sorted(changed), **({"file": source} if source else {})}, client=client)
                else:
                    counts.unchanged += 1
            if r.get("progress") is not None and not t.kpi:
                last = _latest(list(s.scalars(select(PlanTaskUpdate).where(PlanTaskUpdate.task_id == t.id))))
                if last is None or last.percent != r["progress"]:
                    s.add(PlanTaskUpdate(task_id=t.id, as_of=r.get("progress_as_of") or as_of,
                                         percent=r["progress"], note=r.get("note"), actor=actor[:128]))
                    counts.progress += 1
                    add_event(s, "plan_update", actor=actor, target=t.code,
                              detail={"task": t.code, "percent": r["progress"], "via": "import"}, client=client)
    return counts


def _position(group_code: str) -> int:
    digits = re.sub(r"\D", "", group_code)
    return int(digits) if digits else 0


def link_account(db, unit_code: str, username: str, *, actor: str) -> None:
    """Let an account act for a department in the plan (audited); idempotent."""
    code = units.resolve(unit_code)
    if code is None or units.unit(code)["kind"] != "department":
        raise PlanError("unknown_department")
    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == username.strip().lower()))
        if uid is None:
            raise PlanError("unknown_user")
        if s.get(PlanUnitAccount, (code, uid)) is None:
            s.add(PlanUnitAccount(unit_code=code, user_id=uid))
            add_event(s, "plan_owner_add", actor=actor, target=username, detail={"unit": code})


def owners(db) -> dict[str, list[str]]:
    """Department code -> the accounts acting for it."""
    with db.session(readonly=True) as s:
        out: dict[str, list[str]] = {}
        for code, name in s.execute(select(PlanUnitAccount.unit_code, User.username)
                                    .join(User, User.id == PlanUnitAccount.user_id).order_by(User.username)):
            out.setdefault(code, []).append(name)
        return out
