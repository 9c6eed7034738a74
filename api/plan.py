"""The plan tracker's API (issue 12): /api/v1/plan (plan, groups, tasks with their status and latest update),
/api/v1/plan/tasks/{code} (one task with its update history), /api/v1/plan/tasks.csv and .xlsx (the task list,
through presentation.tables and exports' one CSV and Excel writers).

Read only, within the viewer's scope (plan.store.visible: a ward account sees the departments' tasks and its
own ward's); statuses from metrics.plan_status on the newest snapshot. Answers are built through the pydantic
models below. When api/openapi.py's route table exists (`Route`, `register`), the routes are registered there
so /api/v1/openapi.json describes them; otherwise they are served undocumented.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict

from access import roles as R
from access import web as access_web
from metrics import plan_status as ps
from plan import store

StatusCode = Literal["done", "on_track", "at_risk", "late", "not_started"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanGroupOut(_Closed):
    code: str
    name_vi: str
    name_en: str
    position: int
    status: StatusCode
    tasks: int
    counts: dict[str, int]
    percent: float | None


class PlanTaskOut(_Closed):
    code: str
    name_vi: str
    name_en: str
    group_code: str
    lead_unit_code: str
    lead_kind: Literal["department", "ward"] | None
    co_units: list[str]
    responsible: str | None
    start: date
    deadline: date
    kpi: str | None
    indicator: str | None
    target_value: float | None
    unit_of_measure: str | None
    percent: float | None
    value: float | None
    last_update: date | None
    last_note: str | None
    updates: int
    status: StatusCode
    expected_percent: float | None
    kpi_status: str | None
    stale: bool


class PlanUpdateOut(_Closed):
    as_of: date
    percent: float | None
    value: float | None
    note: str | None
    evidence_url: str | None
    by: str


class PlanOut(_Closed):
    code: str
    name_vi: str
    name_en: str
    demo: bool
    as_of: str
    snapshot: str | None
    groups: list[PlanGroupOut]
    tasks: list[PlanTaskOut]


class PlanTaskDetailOut(PlanTaskOut):
    history: list[PlanUpdateOut]


class PlanError(_Closed):
    error: str


class TaskPath(_Closed):
    code: str


class FilePath(_Closed):
    fmt_: Literal["csv", "xlsx"]


def _register_spec() -> None:
    """The routes in api/openapi.py's table (its docstring's way), when that table exists."""
    try:
        from api.openapi import Answer, Route, register
    except ImportError:  # no route table: served, undocumented
        return
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    try:
        _routes(Answer, Route, register, xlsx)
    except (TypeError, ValueError) as exc:  # the table's form changed: served, undocumented, said in the log
        import logging

        logging.getLogger(__name__).warning("plan routes not in the OpenAPI document: %s", exc)


def _routes(Answer, Route, register, xlsx) -> None:  # noqa: N803 (the classes of api/openapi.py)
    register(
        Route("get", "/api/v1/plan", "The implementation plan: groups and tasks with their status",
              responses={200: PlanOut, 403: PlanError, 404: PlanError}, cached=False),
        Route("get", "/api/v1/plan/tasks/{code}", "One plan task with its update history", path_params=TaskPath,
              responses={200: PlanTaskDetailOut, 403: PlanError, 404: PlanError}, cached=False),
        Route("get", "/api/v1/plan/tasks.{fmt_}", "The plan's task list as CSV (UTF-8 with BOM) or Excel",
              path_params=FilePath, responses={200: Answer("The task list", media=("text/csv", xlsx)),
                                               403: PlanError, 404: PlanError}, cached=False),
    )


def _error(status: int, message: str) -> Response:
    r = jsonify(PlanError(error=message).model_dump())
    r.status_code = status
    return r


def create_blueprint(settings, reader) -> Blueprint:
    bp = Blueprint("api_plan", __name__, url_prefix="/api/v1/plan")

    def db():
        if access_web.guarded():
            return access_web.state().db
        from access.db import get_appdb

        return get_appdb(settings)

    def now() -> datetime:
        import clock

        return clock.now()

    def evaluated():
        viewer = access_web.viewer_or_nobody()
        plan = store.load_plan(db())
        if plan is None:
            return None, None
        plan = store.visible(plan, viewer)
        read = reader.read()
        at = now()
        try:
            statuses = ps.kpi_statuses(read.cursor, plan["tasks"], at) if read is not None else {}
        finally:
            if read is not None:
                read.cursor.close()
        tasks = ps.evaluate(plan["tasks"], at.date(), statuses)
        return {**plan, "tasks": tasks, "groups": ps.groups(plan["groups"], tasks), "as_of": at.isoformat(),
                "snapshot": read.snapshot if read is not None else None}, viewer

    def refused() -> Response | None:
        v = access_web.viewer_or_nobody()
        return None if v.may(R.VIEW) else _error(403, "not allowed")

    @bp.get("")
    def plan_index():
        if (r := refused()) is not None:
            return r
        plan, _ = evaluated()
        if plan is None:
            return _error(404, "no plan imported (python app.py plan import FILE.xlsx)")
        out = PlanOut(**{k: plan[k] for k in PlanOut.model_fields})
        return jsonify(out.model_dump(mode="json"))

    @bp.get("/tasks/<code>")
    def plan_task(code: str):
        if (r := refused()) is not None:
            return r
        plan, _ = evaluated()
        task = next((x for x in (plan or {}).get("tasks", []) if x["code"] == code[:32]), None)
        if task is None:
            return _error(404, "no such task in the plan")
        hist = [PlanUpdateOut(as_of=h["as_of"], percent=h["percent"], value=h["value"], note=h["note"],
                              evidence_url=h["evidence_url"], by=h["actor"])
                for h in store.task_history(db(), task["code"]) or []]
        out = PlanTaskDetailOut(**{k: task[k] for k in PlanTaskOut.model_fields}, history=hist)
        return jsonify(out.model_dump(mode="json"))

    @bp.get("/tasks.<fmt_>")
    def plan_tasks_file(fmt_: str):
        if fmt_ not in ("csv", "xlsx"):
            return _error(404, "tasks.csv or tasks.xlsx")
        v = access_web.viewer_or_nobody()
        target = f"plan/tasks.{fmt_}"
        if not v.may(R.DOWNLOAD):
            access_web.audit("export", outcome="denied", target=target)
            return _error(403, "not allowed")
        plan, _ = evaluated()
        if plan is None:
            return _error(404, "no plan imported")
        lang = request.args.get("lang") if request.args.get("lang") in ("vi", "en") else "vi"
        unit = request.args.get("unit")
        tasks = [x for x in plan["tasks"] if not unit or x["lead_unit_code"] == unit or unit in x["co_units"]]
        body, mime, name = task_file(tasks, fmt_, lang, now(), demo=plan["demo"])
        access_web.audit("export", target=target)
        return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return bp


def task_table(tasks: list[dict], lang: str):
    """The task list as presentation.tables.Table (the one table model of every file)."""
    from plan import units
    from presentation import tables
    from presentation.words import localised, t

    cols = [tables.Column("code", t("pl_col_code", lang)), tables.Column("group_code", t("pt_group", lang)),
            tables.Column("name", t("pl_col_task", lang), width=3), tables.Column("lead", t("pl_col_lead", lang), width=2),
            tables.Column("responsible", t("pl_col_responsible", lang), width=2),
            tables.Column("start", t("pl_col_start", lang), kind="date"),
            tables.Column("deadline", t("pl_col_deadline", lang), kind="date"),
            tables.Column("measure", t("pt_measure", lang), width=2),
            tables.Column("percent", t("pl_col_progress", lang), kind="percent", decimals=0),
            tables.Column("expected_percent", t("pl_col_expected", lang), kind="percent", decimals=0),
            tables.Column("status", t("pl_col_status", lang)),
            tables.Column("last_update", t("pl_col_last_update", lang), kind="date")]
    rows = [{"code": x["code"], "group_code": x["group_code"], "name": localised(x, "name_vi", lang),
             "lead": units.name(x["lead_unit_code"], lang), "responsible": x.get("responsible") or "",
             "start": x["start"], "deadline": x["deadline"], "measure": _kpi_name(x["kpi"], lang) if x.get("kpi") else x.get("indicator") or "",
             "percent": x.get("percent"), "expected_percent": x.get("expected_percent"),
             "status": t(f"plan.status_{x['status']}", lang), "last_update": x.get("last_update")}
            for x in ps_sorted(tasks)]
    return tables.Table(t("pl_title", lang), cols, rows, key="plan_tasks")


def _kpi_name(code: str, lang: str) -> str:
    from metrics.registry import get_registry

    k = get_registry().kpis.get(code)
    return k.name(lang) if k is not None else code


def ps_sorted(tasks: list[dict]) -> list[dict]:
    return sorted(tasks, key=lambda x: (ps.severity(x["status"]), x["deadline"], x["code"]))


def task_file(tasks: list[dict], fmt_: str, lang: str, at: datetime, demo: bool = False) -> tuple[bytes, str, str]:
    """(bytes, mime type, file name) of the task list as CSV (UTF-8 with BOM) or Excel (a cover sheet)."""
    import exports
    from presentation.words import t

    table = task_table(tasks, lang)
    stem = f"r57_ke-hoach_{at:%Y%m%d-%H%M}"
    if fmt_ == "csv":
        return exports.csv_bytes(table.cells()), "text/csv; charset=utf-8", f"{stem}.csv"
    body = exports.xlsx_bytes({}, {t("pl_title", lang): str(len(tasks))}, None, at, t("pl_title", lang), demo=demo,
                              lang=lang, tables=[table.with_dates()])
    return body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx"


def register(server, settings, reader) -> None:
    """Mount the plan routes on the Flask server (after the read API)."""
    server.register_blueprint(create_blueprint(settings, reader))


_register_spec()
