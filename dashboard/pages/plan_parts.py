"""What the plan pages (/plan, /plan/task, /accountability) share: the plan evaluated now, status badges in the
plan's words, the task table, the ownership test. No page registers here.

The plan lives in the application database (plan.store); statuses come from metrics.plan_status (the KPI-linked
ones through metrics.standing on the newest snapshot, memoised per snapshot). Nothing here writes SQL.
"""

from __future__ import annotations

import logging

from dash import dcc, html

from access import web as access_web
from metrics import plan_status as ps
from plan import store
from plan import units as plan_units
from presentation.words import localised

from .. import data, fmt
from ..components import error_state, status_badge
from ..i18n import t

log = logging.getLogger(__name__)

# the plan's statuses drawn with the palette's icons and colours (the word is the plan's own)
PALETTE = {"done": "achieved", "on_track": "on_track", "at_risk": "needs_acceleration", "late": "deteriorating",
           "not_started": "no_data"}


def db():
    return access_web.state().db if access_web.guarded() else None


def _kpi_statuses(con, tasks, now):
    pairs = tuple(sorted({(t["kpi"], t["lead_unit_code"] if t.get("lead_kind") == "ward" else "01")
                          for t in tasks if t.get("kpi")}))
    return data.memo("plan_kpi_statuses", lambda: ps.kpi_statuses(con, tasks, now), pairs)


def evaluated(con, now) -> dict | None:
    """The plan with every task's and group's status at `now`; None when no plan was imported."""
    d = db()
    plan = store.load_plan(d) if d is not None else None
    if plan is None:
        return None
    plan = store.visible(plan, data.viewer())
    statuses = _kpi_statuses(con, plan["tasks"], now) if con is not None else {}
    tasks = ps.evaluate(plan["tasks"], now.date(), statuses)
    return {**plan, "tasks": tasks, "groups": ps.groups(plan["groups"], tasks)}


def badge(status: str, lang: str, small: bool = True) -> html.Span:
    return status_badge(PALETTE.get(status, "no_data"), lang, small, label=t(f"plan.status_{status}", lang))


def worst_first(tasks: list[dict]) -> list[dict]:
    return sorted(tasks, key=lambda x: (ps.severity(x["status"]), x["deadline"], x["code"]))


def unit_name(code: str | None, lang: str) -> str:
    return plan_units.name(code, lang)


def task_name(task: dict, lang: str) -> str:
    return localised(task, "name_vi", lang)


def progress_text(task: dict, lang: str) -> str:
    """'45 % (kế hoạch 60 %)' for a reported task; the KPI's name for a linked one."""
    if task.get("kpi"):
        return t("pl_by_kpi", lang, kpi=data.kpi_name(task["kpi"], lang))
    if task.get("percent") is None:
        return t("pl_no_update", lang)
    done = fmt.percent(task["percent"], lang, 0)
    if task.get("expected_percent") is None or task["status"] in ("done", "not_started"):
        return done
    return t("pl_vs_plan", lang, done=done, plan=fmt.percent(task["expected_percent"], lang, 0))


def progress_bar(percent: float | None, lang: str, label: str) -> html.Div:
    value = 0 if percent is None else max(0.0, min(100.0, float(percent)))
    return html.Div(html.Div(className="pl-bar-fill", style={"width": f"{value:.0f}%"}),
                    className="pl-bar", role="progressbar", **{"aria-valuenow": f"{value:.0f}", "aria-valuemin": "0",
                                                               "aria-valuemax": "100", "aria-label": label})


def task_table(tasks: list[dict], lang: str, table_id: str, caption: str) -> html.Div:
    """An accessible table of tasks (caption, column headers), each code linking to its drill-down."""
    head = html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in
                               ("pl_col_code", "pl_col_task", "pl_col_lead", "pl_col_responsible", "pl_col_deadline",
                                "pl_col_progress", "pl_col_status")]))
    body = html.Tbody([html.Tr([
        html.Td(dcc.Link(x["code"], href=f"/plan/task?code={x['code']}", className="pl-code")),
        html.Td(task_name(x, lang)),
        html.Td(unit_name(x["lead_unit_code"], lang)),
        html.Td(x.get("responsible") or ""),
        html.Td(fmt.day(x["deadline"])),
        html.Td(progress_text(x, lang)),
        html.Td([badge(x["status"], lang)] + ([html.Span(t("pl_stale", lang), className="pl-stale")]
                                               if x.get("stale") else [])),
    ], className=f"pl-row pl-row-{x['status']}") for x in tasks])
    return html.Div(html.Table([html.Caption(caption, className="visually-hidden"), head, body],
                               className="table table-sm pl-table", id=table_id), **scroll_region(caption))


def scroll_region(label: str) -> dict:
    """A table's wrapper that scrolls sideways on a phone: a labelled region the keyboard can reach (WCAG 2.1.1)."""
    return {"className": "table-responsive", "tabIndex": "0", "role": "region", "aria-label": label}


def may_update(task: dict) -> bool:
    """Whether the viewer may report on this task (the store checks again on every write)."""
    v = data.viewer()
    d = db()
    if d is None or v.kind not in ("user", "dev"):
        return False
    deps = store.departments_of(d, v.name) if v.kind == "user" else set()
    return store.may_update(v, task["lead_unit_code"], deps)


def counts_line(tasks: list[dict], lang: str) -> html.Ul:
    """One item per status with its number of tasks, worst first."""
    return html.Ul([html.Li([badge(s.value, lang), html.Span(fmt.number(sum(1 for x in tasks if x["status"] == s), 0,
                                                                        lang), className="pl-count")])
                    for s in ps.SEVERITY], className="pl-counts", **{"aria-label": t("pl_counts", lang)})


def downloads(lang: str, unit: str | None = None) -> html.Div:
    q = f"?unit={unit}" if unit else ""
    return html.Div([html.Span(t("pl_download", lang) + ": "),
                     html.A("CSV", href=f"/api/v1/plan/tasks.csv{q}", className="pl-dl", download=""), " · ",
                     html.A("Excel", href=f"/api/v1/plan/tasks.xlsx{q}", className="pl-dl", download="")],
                    className="pl-downloads")


def safely(lang: str, view):
    """view(con) on the newest snapshot (con None before the first one: the plan still shows, its KPI-linked
    tasks unjudged); an error is logged and shown in place."""
    with data.cursor() as con:
        try:
            return view(con)
        except Exception as exc:  # shown to the user and logged; the shell keeps working
            log.exception("plan view failed")
            return error_state(exc, lang)
