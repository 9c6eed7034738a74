"""One plan task (issue 12): what it is, who leads it, its dates and measurable result, its status and why,
its history of updates, the linked KPI's chart (or the reported progress against the linear path), and — for
an account whose units own the task, or an administrator — a form to report progress. The store checks the
ownership again on every write and audits it (refusals too).

URL: /plan/task?code=<task code>
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from access import web as access_web
from plan import store
from presentation.words import localised

from .. import data, fmt, ids
from ..components import GRAPH_CONFIG, empty_state, section
from ..i18n import lang_of, request_lang, t
from . import plan_parts as parts
from . import title

dash.register_page(__name__, path="/plan/task", name="Nhiệm vụ", title=title("pl_task_page"), order=10)

CODE, BODY, BUMP, MESSAGE, SUBMIT = "pt-code", "pt-body", "pt-bump", "pt-message", "pt-submit"
F_PERCENT, F_VALUE, F_NOTE, F_URL = "pt-percent", "pt-value", "pt-note", "pt-url"
E_LEAD, E_RESP, E_START, E_DEADLINE, E_SAVE, E_MESSAGE = ("pt-e-lead", "pt-e-resp", "pt-e-start", "pt-e-deadline",
                                                           "pt-e-save", "pt-e-message")


def _field(fid: str, key: str, control, lang: str) -> html.Div:
    return html.Div([html.Label(t(key, lang), htmlFor=fid, className="control-label", id=f"{fid}-label"), control],
                    className="control")


def update_form(task: dict, lang: str) -> html.Section:
    fields = []
    if not task.get("kpi"):  # a KPI-linked task's progress comes from the data
        fields.append(_field(F_PERCENT, "pt_f_percent", dcc.Input(id=F_PERCENT, type="number", min=0, max=100, step=1,
                                                                  className="form-control"), lang))
    else:
        fields.append(dcc.Input(id=F_PERCENT, type="hidden", value=None))
    fields += [
        _field(F_VALUE, "pt_f_value", dcc.Input(id=F_VALUE, type="number", className="form-control"), lang),
        _field(F_URL, "pt_f_url", dcc.Input(id=F_URL, type="url", className="form-control", maxLength=1000,
                                            placeholder="https://"), lang),
    ]
    note = _field(F_NOTE, "pt_f_note", dcc.Textarea(id=F_NOTE, className="form-control", maxLength=500, rows=2), lang)
    return html.Section([
        html.H2(t("pt_form", lang), className="section-title", id="pt-form-title"),
        html.P(t("pt_form_kpi" if task.get("kpi") else "pt_form_help", lang), className="note"),
        html.Div(fields, className="filters controls"), note,
        dbc.Button(t("pt_submit", lang), id=SUBMIT, n_clicks=0, color="primary", size="sm", className="mt-2"),
        html.Div(id=MESSAGE, role="status", className="rp-message", **{"aria-live": "polite"}),
    ], className="panel mb-3", **{"aria-labelledby": "pt-form-title"})


def edit_form(task: dict, lang: str) -> html.Section:
    """Administrators: the task's lead unit, responsible position and dates (a re-import changes them too)."""
    from plan import units as plan_units

    options = [{"label": localised(u, "name", lang), "value": c} for c, u in sorted(plan_units.all_units().items())]
    return html.Section([
        html.H2(t("pt_edit", lang), className="section-title", id="pt-edit-title"),
        html.Div([
            html.Div([html.Label(t("pt_lead", lang), htmlFor=E_LEAD, className="control-label", id=f"{E_LEAD}-label"),
                      dcc.Dropdown(id=E_LEAD, value=task["lead_unit_code"], options=options, clearable=False)],
                     className="control control-wide"),
            _field(E_RESP, "pt_responsible", dcc.Input(id=E_RESP, type="text", value=task.get("responsible") or "",
                                                       maxLength=255, className="form-control"), lang),
            _field(E_START, "pl_col_start", dcc.Input(id=E_START, type="text", value=fmt.day(task["start"]),
                                                      placeholder="dd/mm/yyyy", className="form-control"), lang),
            _field(E_DEADLINE, "pl_col_deadline", dcc.Input(id=E_DEADLINE, type="text", value=fmt.day(task["deadline"]),
                                                            placeholder="dd/mm/yyyy", className="form-control"), lang),
        ], className="filters controls"),
        dbc.Button(t("pt_save", lang), id=E_SAVE, n_clicks=0, color="secondary", size="sm", className="mt-2"),
        html.Div(id=E_MESSAGE, role="status", className="rp-message", **{"aria-live": "polite"}),
    ], className="panel mb-3", **{"aria-labelledby": "pt-edit-title"})


def layout(code: str | None = None, **_):
    lang = request_lang()
    code = (code or "").strip()[:32]
    d = parts.db()
    plan = store.load_plan(d) if d is not None else None
    task = next((x for x in (plan or {}).get("tasks", []) if x["code"] == code), None)
    form = update_form(task, lang) if task is not None and parts.may_update(task) else None
    from access import roles as access_roles

    editor = edit_form(task, lang) if task is not None and data.viewer().may(access_roles.ADMIN) else None
    return html.Div([
        dcc.Link("← " + t("pt_back", lang), href="/plan", className="pl-back"),
        html.H1(t("pl_task_page", lang) + (f" {code}" if code else ""), id="pt-title", className="page-title"),
        dcc.Store(id=CODE, data=code), dcc.Store(id=BUMP, data=0),
        html.Div(id=BODY), form, editor,
    ], className="page page-plan-task")


def history_figure(task: dict, history: list[dict], lang: str) -> go.Figure:
    """Reported percent done over time against the linear path from the start date to the deadline."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[task["start"], task["deadline"]], y=[0, 100], mode="lines",
                             name=t("pt_path", lang), line={"dash": "dash", "color": "#6c757d"}))
    pts = [h for h in history if h.get("percent") is not None]
    fig.add_trace(go.Scatter(x=[h["as_of"] for h in pts], y=[h["percent"] for h in pts], mode="lines+markers",
                             name=t("pt_reported", lang), line={"color": "#0b5cad", "width": 3}))
    fig.update_layout(height=280, margin={"l": 48, "r": 16, "t": 16, "b": 40}, legend={"orientation": "h", "y": -0.2},
                      yaxis={"title": "%", "range": [0, 105]}, xaxis={"tickformat": "%d/%m/%Y"},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def facts(task: dict, lang: str, groups: list[dict] = ()) -> html.Dl:
    measure = (html.Span([dcc.Link(data.kpi_name(task["kpi"], lang), href=f"/kpi?kpi={task['kpi']}"),
                          " — ", t("pt_kpi_target", lang)]) if task.get("kpi") else
               " ".join(x for x in (task.get("indicator") or "", "—" if task.get("target_value") is None else
                                    t("pt_target", lang, value=fmt.number(task["target_value"],
                                                                          0 if float(task["target_value"]).is_integer()
                                                                          else 1, lang),
                                      unit=task.get("unit_of_measure") or "")) if x))
    group = next((g for g in groups if g["code"] == task["group_code"]), None)
    items = [("pt_group", f"{task['group_code']} · {localised(group, 'name_vi', lang)}" if group else task["group_code"]), ("pt_lead", parts.unit_name(task["lead_unit_code"], lang)),
             ("pt_co", ", ".join(parts.unit_name(c, lang) for c in task["co_units"]) or "—"),
             ("pt_responsible", task.get("responsible") or "—"),
             ("pt_dates", t("pt_dates_value", lang, start=fmt.day(task["start"]), deadline=fmt.day(task["deadline"]))),
             ("pt_measure", measure), ("pl_col_progress", parts.progress_text(task, lang))]
    return html.Dl([x for k, v in items for x in (html.Dt(t(k, lang)), html.Dd(v))], className="pt-facts")


def history_table(history: list[dict], lang: str) -> html.Div:
    if not history:
        return empty_state(t("pt_history_none", lang))
    head = html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in
                               ("pt_h_date", "pt_h_percent", "pt_h_value", "pt_h_note", "pt_h_evidence", "pt_h_by")]))
    rows = [html.Tr([html.Td(fmt.day(h["as_of"])),
                     html.Td("" if h["percent"] is None else fmt.percent(h["percent"], lang, 0)),
                     html.Td("" if h["value"] is None else fmt.number(h["value"], 1, lang)),
                     html.Td(h.get("note") or ""),
                     html.Td(html.A(t("pt_h_link", lang), href=h["evidence_url"], target="_blank", rel="noopener noreferrer")
                             if h.get("evidence_url") else ""),
                     html.Td(h.get("actor") or "")]) for h in reversed(history)]
    return html.Div(html.Table([html.Caption(t("pt_history", lang), className="visually-hidden"), head,
                                html.Tbody(rows)], className="table table-sm pl-table", id="pt-history"),
                    **parts.scroll_region(t("pt_history", lang)))


def body(con, code: str, lang: str, now) -> list:
    plan = parts.evaluated(con, now)
    task = next((x for x in (plan or {}).get("tasks", []) if x["code"] == code), None)
    if task is None:
        return [empty_state(t("pt_unknown", lang), "warning"), dcc.Link(t("pt_back", lang), href="/plan")]
    history = store.task_history(parts.db(), code) or []
    if task.get("kpi") and con is not None:
        from ..views import kpi as kpi_view

        unit = task["lead_unit_code"] if task.get("lead_kind") == "ward" else None
        chart = dcc.Graph(figure=kpi_view.trend_figure(con, task["kpi"], unit, "month", lang, now),
                          config=GRAPH_CONFIG, id="pt-chart")
    else:
        chart = dcc.Graph(figure=history_figure(task, history, lang), config=GRAPH_CONFIG, id="pt-chart")
    status = [parts.badge(task["status"], lang, small=False)]
    if task.get("stale"):
        status.append(html.Span(t("pl_stale", lang), className="pl-stale"))
    return [
        html.P(parts.task_name(task, lang), className="pt-name", id="pt-name"),
        html.Div(status + [html.Span(t(f"pt_why_{task['status']}", lang), className="pt-why")], className="pt-status"),
        section(t("pt_facts", lang), facts(task, lang, plan["groups"])),
        section(t("pt_chart_kpi" if task.get("kpi") else "pt_chart", lang), chart),
        section(t("pt_history", lang), history_table(history, lang), title_id="pt-history-title"),
    ]


@callback(Output(BODY, "children"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(BUMP, "data"),
          State(CODE, "data"))
def fill(lang, _version, _bump, code):
    lang = lang_of(lang)
    now = data.local_now()
    return parts.safely(lang, lambda con: body(con, code or "", lang, now))


@callback(Output(MESSAGE, "children"), Output(BUMP, "data"), Input(SUBMIT, "n_clicks"), State(ids.LANG, "data"),
          State(CODE, "data"), State(F_PERCENT, "value"), State(F_VALUE, "value"), State(F_NOTE, "value"),
          State(F_URL, "value"), State(BUMP, "data"), prevent_initial_call=True)
def submit(n, lang, code, percent, value, note, url, bump):
    """Report progress as the viewer; the store decides (ownership, values) and audits; the message says why not."""
    lang = lang_of(lang)
    if not n:
        return no_update, no_update
    d = parts.db()
    if d is None:
        return t("plan.err_not_owner", lang), no_update
    try:
        store.add_update(d, code or "", data.viewer(), percent=percent, value=value, note=note, evidence_url=url,
                         as_of=data.local_now().date(), client=access_web.client_address())
    except store.PlanError as exc:
        return html.Span(t(f"plan.err_{exc.code}", lang), className="text-danger"), no_update
    return t("plan.updated", lang, task=code), (bump or 0) + 1


@callback(Output(E_MESSAGE, "children"), Output(BUMP, "data", allow_duplicate=True), Input(E_SAVE, "n_clicks"),
          State(ids.LANG, "data"), State(CODE, "data"), State(E_LEAD, "value"), State(E_RESP, "value"),
          State(E_START, "value"), State(E_DEADLINE, "value"), State(BUMP, "data"), prevent_initial_call=True)
def edit(n, lang, code, lead, responsible, start, deadline, bump):
    """An administrator's edit; the store checks the right and the values, and audits."""
    from plan.importer import parse_date

    lang = lang_of(lang)
    if not n:
        return no_update, no_update
    d = parts.db()
    if d is None:
        return t("plan.err_not_admin", lang), no_update
    dates = {k: parse_date(v) if v else None for k, v in (("start_date", start), ("deadline", deadline))}
    if any(v and dates[k] is None for k, v in (("start_date", start), ("deadline", deadline))):
        return html.Span(t("plan.err_bad_date", lang), className="text-danger"), no_update
    try:
        changed = store.edit_task(d, code or "", data.viewer(), lead_unit_code=lead, responsible=responsible,
                                  client=access_web.client_address(), **dates)
    except store.PlanError as exc:
        return html.Span(t(f"plan.err_{exc.code}", lang), className="text-danger"), no_update
    return t("pt_saved", lang, fields=", ".join(changed)), (bump or 0) + 1
