"""Accountability (issue 12): per unit — a city department or a ward — the Resolution 57 targets it is
accountable for (targets.yaml's accountable_unit) and the plan tasks it leads or supports, with their statuses,
and the tasks overdue for an update (no update for N weeks). Units with late, at-risk or silent tasks first.

URL: /accountability?unit=<code>&weeks=<N>
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from metrics import plan_status as ps
from plan import units as plan_units
from presentation.words import localised

from .. import data, fmt, ids
from ..components import empty_state, row_badge, section
from ..i18n import lang_of, request_lang, t
from . import plan_parts as parts
from . import title

dash.register_page(__name__, path="/accountability", name="Trách nhiệm", title=title("nav_accountability"), order=11)

UNIT, WEEKS, BODY = "acc-unit", "acc-weeks", "acc-body"


def _weeks(x) -> int:
    try:
        n = int(x)
    except (TypeError, ValueError):
        return ps.STALE_WEEKS
    return n if 1 <= n <= 52 else ps.STALE_WEEKS


def layout(unit: str | None = None, weeks: str | None = None, **_):
    lang = request_lang()
    options = [{"label": localised(u, "name", lang), "value": c}
               for c, u in sorted(plan_units.all_units().items(), key=lambda kv: (kv[1]["kind"] != "department", kv[0]))
               if u["kind"] == "department" or data.sees(c)]
    return html.Div([
        html.H1(t("acc_title", lang), id="acc-title", className="page-title"),
        html.P(t("acc_note", lang, weeks=_weeks(weeks)), id="acc-note", className="muted"),
        html.Div([
            html.Div([html.Label(t("acc_unit", lang), htmlFor=UNIT, className="control-label", id="acc-unit-label"),
                      dcc.Dropdown(id=UNIT, value=unit if plan_units.unit(unit) else None, options=options,
                                   clearable=True, placeholder=t("acc_unit_all", lang))],
                     className="control control-wide"),
            html.Div([html.Label(t("acc_weeks", lang), htmlFor=WEEKS, className="control-label", id="acc-weeks-label"),
                      dcc.Input(id=WEEKS, type="number", min=1, max=52, step=1, value=_weeks(weeks),
                                className="form-control", debounce=True)], className="control"),
        ], className="filters"),
        html.Div(id=BODY, **{"aria-live": "polite"}),
    ], className="page page-accountability")


def targets_by_unit() -> dict[str, list[str]]:
    """Unit code -> the KPIs whose target names it accountable (one target per KPI, the city's)."""
    out: dict[str, list[str]] = {}
    for tg in data.registry().targets:
        code = plan_units.resolve(tg.accountable_unit)
        if code and tg.unit_code is None and tg.kpi not in out.get(code, []):
            out.setdefault(code, []).append(tg.kpi)
    return out


def summary_rows(tasks: list[dict], owned: dict[str, list[str]], target_status: dict[str, str], weeks: int,
                 today) -> list[dict]:
    """One row per unit that leads a task or is accountable for a target; worst first."""
    codes = {x["lead_unit_code"] for x in tasks} | set(owned)
    rows = []
    for c in codes:
        lead = [x for x in tasks if x["lead_unit_code"] == c]
        rows.append({"code": c, "kind": (plan_units.unit(c) or {}).get("kind", "department"), "tasks": len(lead),
                     "late": sum(x["status"] == "late" for x in lead),
                     "at_risk": sum(x["status"] == "at_risk" for x in lead),
                     "stale": sum(1 for x in lead if not x.get("kpi") and
                                  ps.stale(x.get("last_update"), x["start"], x["status"], today, weeks)),
                     "co": sum(1 for x in tasks if c in x["co_units"]), "targets": len(owned.get(c, [])),
                     "targets_behind": sum(1 for k in owned.get(c, []) if target_status.get(k) in
                                           ("needs_acceleration", "limited", "deteriorating"))})
    return sorted(rows, key=lambda r: (-r["late"], -r["at_risk"], -r["stale"], -r["targets_behind"], r["code"]))


def summary_table(rows: list[dict], lang: str, weeks: int) -> html.Div:
    keys = ("acc_col_unit", "acc_col_tasks", "acc_col_late", "acc_col_at_risk", "acc_col_stale", "acc_col_co",
            "acc_col_targets")
    head = html.Thead(html.Tr([html.Th(t(k, lang, weeks=weeks), scope="col") for k in keys]))
    body = html.Tbody([html.Tr([
        html.Td(dcc.Link(parts.unit_name(r["code"], lang), href=f"/accountability?unit={r['code']}&weeks={weeks}")),
        html.Td(fmt.number(r["tasks"], 0, lang)),
        html.Td(fmt.number(r["late"], 0, lang), className="acc-bad" if r["late"] else None),
        html.Td(fmt.number(r["at_risk"], 0, lang), className="acc-warn" if r["at_risk"] else None),
        html.Td(fmt.number(r["stale"], 0, lang), className="acc-warn" if r["stale"] else None),
        html.Td(fmt.number(r["co"], 0, lang)),
        html.Td(t("acc_targets_value", lang, n=r["targets"], behind=r["targets_behind"]) if r["targets"] else "—"),
    ]) for r in rows])
    return html.Div(html.Table([html.Caption(t("acc_summary", lang), className="visually-hidden"), head, body],
                               className="table table-sm pl-table", id="acc-summary"),
                    **parts.scroll_region(t("acc_summary", lang)))


def unit_detail(code: str, tasks: list[dict], owned: list[str], target_rows: dict[str, dict], lang: str,
                weeks: int, today) -> list:
    lead = parts.worst_first([x for x in tasks if x["lead_unit_code"] == code])
    for x in lead:
        x["stale"] = not x.get("kpi") and ps.stale(x.get("last_update"), x["start"], x["status"], today, weeks)
    co = parts.worst_first([x for x in tasks if code in x["co_units"]])
    silent = [x for x in lead if x["stale"]]
    out = [html.H2(parts.unit_name(code, lang), className="section-title", id="acc-unit-title")]
    if owned:
        items = [html.Li([dcc.Link(data.kpi_name(k, lang), href=f"/kpi?kpi={k}"), " ",
                          row_badge(target_rows.get(k, {}), lang, small=True)]) for k in owned]
        out.append(section(t("acc_targets", lang, n=len(owned)), html.Ul(items, className="acc-targets")))
    out.append(section(t("acc_stale", lang, n=len(silent), weeks=weeks),
                       parts.task_table(silent, lang, "acc-silent", t("acc_stale", lang, n=len(silent), weeks=weeks))
                       if silent else empty_state(t("acc_stale_none", lang, weeks=weeks))))
    out.append(section(t("acc_lead", lang, n=len(lead)), parts.task_table(lead, lang, "acc-lead", t("acc_lead", lang,
                                                                                                    n=len(lead)))
                       if lead else empty_state(t("acc_lead_none", lang))))
    if co:
        out.append(section(t("acc_co", lang, n=len(co)), parts.task_table(co, lang, "acc-co", t("acc_co", lang, n=len(co)))))
    return out


def body(con, unit: str | None, weeks: int, lang: str, now) -> list:
    plan = parts.evaluated(con, now)
    if plan is None:
        return [empty_state(t("plan.none", lang), "info")]
    owned = targets_by_unit()
    codes = sorted({k for ks in owned.values() for k in ks})
    rows = {}
    if con is not None and codes:
        import metrics

        rows = {r["kpi"]: r for r in data.memo("acc_targets", lambda: metrics.standing(con, codes, now=now),
                                               tuple(codes))}
    statuses = {k: r.get("status") for k, r in rows.items()}
    out = []
    if plan.get("demo"):
        out.append(empty_state(t("pl_demo", lang), "warning"))
    if unit and plan_units.unit(unit) and (not plan_units.is_ward(unit) or data.sees(unit)):
        out += unit_detail(unit, plan["tasks"], owned.get(unit, []), rows, lang, weeks, now.date())
    out.append(section(t("acc_summary", lang), summary_table(summary_rows(plan["tasks"], owned, statuses, weeks,
                                                                          now.date()), lang, weeks),
                       title_id="acc-summary-title", actions=parts.downloads(lang, unit)))
    return out


@callback(Output(BODY, "children"), Output("acc-note", "children"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"),
          Input(UNIT, "value"), Input(WEEKS, "value"), State(UNIT, "value"))
def fill(lang, _version, unit, weeks, _state):
    lang = lang_of(lang)
    n = _weeks(weeks)
    now = data.local_now()
    return parts.safely(lang, lambda con: body(con, unit, n, lang, now)), t("acc_note", lang, weeks=n)
