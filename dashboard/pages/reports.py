"""Monthly reports: the reports made (by the schedule or on demand) with their PDF and Excel files, and a form
to make one now (in the background; the list updates itself when it is done).

URL: /reports
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

import clock
import config
from access import roles as access_roles
from access import web as access_web

from .. import data, downloads, ids
from ..components import empty_state, grid, section, unit_options
from ..i18n import lang_of, request_lang, t
from ..views import reports as view
from . import title

dash.register_page(__name__, path="/reports", name="Báo cáo", title=title("nav_reports"), order=6)

PAGE = "reports"
LIST_BOX = "rp-list-box"
POLL_MS = 1500


def layout(**_):
    lang = request_lang()
    months = view.month_options(data.local_now().date(), lang)
    form = html.Div([
        html.Div([html.Label(t("rp_month", lang), id=ids.RP_MONTH_LABEL, htmlFor=ids.RP_MONTH,
                             className="control-label"),
                  dcc.Dropdown(id=ids.RP_MONTH, value=months[0]["value"], options=months, clearable=False)],
                 className="control"),
        html.Div([html.Label(t("rp_unit", lang), id=ids.RP_UNIT_LABEL, htmlFor=ids.RP_UNIT, className="control-label"),
                  dcc.Dropdown(id=ids.RP_UNIT, value=data.home_unit() or config.CITY_CODE, clearable=False,
                               options=unit_options(data.units(), lang, with_city=data.viewer().scope is None))],
                 className="control control-wide"),
        html.Div([html.Span(t("rp_lang", lang), id=ids.RP_LANG_LABEL, className="control-label"),
                  dbc.RadioItems(id=ids.RP_LANG, value=lang, inline=True, options=view.lang_options(lang),
                                 name=ids.RP_LANG, className="btn-group", inputClassName="btn-check",
                                 labelClassName="btn btn-outline-secondary btn-sm", labelCheckedClassName="active")],
                 className="control", role="group", **{"aria-labelledby": ids.RP_LANG_LABEL}),
        html.Div(dbc.Button(t("rp_make", lang), id=ids.RP_MAKE, color="primary", size="sm"),
                 className="control control-button"),
    ], className="filters mb-1")
    return html.Div([
        html.H1(t("rp_title", lang), id=ids.RP_TITLE, className="page-title"),
        html.Div(section(html.Span(t("rp_form", lang), id=ids.RP_FORM_TITLE), html.Div([
            form,
            html.Div(id=ids.RP_MESSAGE, className="rp-message", role="status", **{"aria-live": "polite"}),
            html.P(t("rp_schedule", lang), id=ids.RP_SCHEDULE, className="note mb-0"),
        ])), className="mb-3"),
        section(html.Span(t("rp_list", lang), id=ids.RP_LIST_TITLE), html.Div([
            html.Div(id=ids.RP_EMPTY),
            html.Div(grid(ids.RP_LIST, lang, height=None, page_size=20, getRowId="params.data.id",
                          columnDefs=view.columns(lang)), id=LIST_BOX),
        ]), actions=downloads.menu(PAGE, lang, table="list")),
        dcc.Store(id=ids.RP_STARTED),
        dcc.Interval(id=ids.RP_TICK, interval=POLL_MS, disabled=True),
        dcc.Download(id=ids.RP_DOWNLOAD),
    ], className="page page-reports")


@callback(Output(ids.RP_TITLE, "children"), Output(ids.RP_FORM_TITLE, "children"),
          Output(ids.RP_MONTH_LABEL, "children"), Output(ids.RP_MONTH, "options"),
          Output(ids.RP_UNIT_LABEL, "children"), Output(ids.RP_UNIT, "options"),
          Output(ids.RP_LANG_LABEL, "children"), Output(ids.RP_LANG, "options"), Output(ids.RP_MAKE, "children"),
          Output(ids.RP_SCHEDULE, "children"), Output(ids.RP_LIST_TITLE, "children"), Output(ids.RP_LIST, "columnDefs"),
          Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return (t("rp_title", lang), t("rp_form", lang), t("rp_month", lang),
            view.month_options(data.local_now().date(), lang), t("rp_unit", lang),
            unit_options(data.units(), lang, with_city=data.viewer().scope is None), t("rp_lang", lang), view.lang_options(lang),
            t("rp_make", lang), t("rp_schedule", lang), t("rp_list", lang), view.columns(lang))


@callback(Output(ids.RP_STARTED, "data"), Input(ids.RP_MAKE, "n_clicks"), State(ids.RP_MONTH, "value"),
          State(ids.RP_UNIT, "value"), State(ids.RP_LANG, "value"), prevent_initial_call=True)
def make(n_clicks, month, unit, report_lang):
    """Queue the report and return at once; the list callback follows it."""
    if not n_clicks:
        return no_update
    if not data.viewer().may(access_roles.QUEUE_REPORTS):  # analysts and admins (issue 10)
        access_web.audit("report_request", outcome="denied", target=f"{month}/{unit}/{report_lang}")
        return {"id": None, "error": "no_right"}
    if not view.valid_choice(month, unit, report_lang, data.local_now().date()):
        return {"id": None, "error": "bad_choice"}
    ctx = data.context()
    rid = view.request(ctx.settings, month, unit, report_lang, reader_factory=ctx.reader.cursor)
    access_web.audit("report_request", target=rid)
    return {"id": rid, "at": clock.stamp().isoformat(timespec="seconds")}


@callback(Output(ids.RP_LIST, "rowData"), Output(ids.RP_EMPTY, "children"), Output(ids.RP_MESSAGE, "children"),
          Output(ids.RP_TICK, "disabled"), Output(LIST_BOX, "style"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"),
          Input(ids.RP_TICK, "n_intervals"), Input(ids.RP_STARTED, "data"))
def fill(lang, _version, _n, started):
    """The list (polled while a report is being made), its empty state and what became of the last request."""
    lang = lang_of(lang)
    settings = data.context().settings
    recs = view.records(settings)
    rows = view.rows(settings, lang, recs)
    empty = None if rows else empty_state(t("rp_empty", lang))
    if started and started.get("error") == "bad_choice":
        note = t("rp_bad_choice", lang)
    else:
        note = view.message(settings, started, lang, recs)
    return rows, empty, note, not view.busy(settings, recs), {} if rows else {"display": "none"}


@callback(Output(ids.RP_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(ids.RP_LIST, "virtualRowData"), State(ids.RP_LIST, "rowData"), prevent_initial_call=True)
def download(_clicks, lang, shown, rows):
    """The list of reports as on screen, as CSV, Excel or Parquet."""
    lang = lang_of(lang)
    return downloads.respond(lang, lambda _which: view.table(lang, downloads.grid_rows(shown, rows)))
