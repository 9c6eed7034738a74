"""Ward detail (department heads, ward chairs): one unit against the city and the target, down to the
overdue dossiers to act on.

URL: /ward?unit=<5-digit code>&period=<label>&trend=<KPI>&procedure=<code> (the action lists' filter)
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from access import roles as access_roles
from access import web as access_web
from presentation import surfaces

from .. import data, downloads, ids, kept
from ..callbacks import redraw, render
from ..components import (
    GRAPH_CONFIG,
    PLAIN_CONFIG,
    default_period,
    grid,
    out_of_scope,
    period_options,
    section,
    unit_options,
)
from ..i18n import lang_of, request_lang, t
from ..views import overview as overview_view
from ..views import ward as view
from ..views import workload as workload_view
from . import title

dash.register_page(__name__, path="/ward", name="Đơn vị", title=title("nav_ward"), order=2)

SECTIONS = ("wu_kpis", "wu_trend", "wu_procs", "wu_channels", "wu_index")
PAGE = "ward"


def layout(unit: str | None = None, period: str | None = None, trend: str | None = None,
           procedure: str | None = None, **_):
    lang = request_lang()
    now = data.local_now()
    periods = period_options(now, lang)
    period = period if period in {o["value"] for o in periods} else default_period(now)
    known = set(data.wards()["unit_code"])
    if unit in known and not data.sees(unit):  # another unit in the address: say so, never show it (issue 10)
        return html.Div([html.H1(t("nav_ward", lang), className="page-title"), out_of_scope(lang),
                         html.P(dcc.Link(t("auth_own_unit", lang), href="/ward"))])
    unit = unit if unit in known else data.home_unit()  # a ward chair opens on their ward
    trend = trend if trend in view.TREND_KPIS else view.TREND_KPIS[0]
    titles = {key: html.Span(t(key, lang), id=f"{ids.WU_SECTION_TITLES}-{key}") for key in SECTIONS}
    return html.Div([
        html.Div([
            html.H1(id=ids.WU_TITLE, className="page-title"),
            html.Div([html.Label(t("wu_unit", lang), id=ids.WU_UNIT_LABEL, htmlFor=ids.WU_UNIT,
                                 className="control-label"),
                      dcc.Dropdown(id=ids.WU_UNIT, value=unit, options=unit_options(data.units(), lang),
                                   clearable=False, placeholder=t("wu_choose", lang))], className="control control-wide"),
            html.Div([html.Label(t("wd_period", lang), id=ids.WU_PERIOD_LABEL, htmlFor=ids.WU_PERIOD,
                                 className="control-label"),
                      dcc.Dropdown(id=ids.WU_PERIOD, value=period, options=periods, clearable=False)],
                     className="control"),
        ], className="page-head"),
        html.Div(id="wu-pick"),
        html.Div([
            dbc.Row([
                dbc.Col(section(titles["wu_kpis"], html.Div(id=ids.WU_KPIS),
                                actions=downloads.menu(PAGE, lang, table="kpis")), xl=7),
                dbc.Col(section(titles["wu_index"], html.Div([
                    html.Div(id="wu-index-total", className="note"),
                    dcc.Graph(id=ids.WU_INDEX, config=PLAIN_CONFIG),
                    html.Details([html.Summary(id="wu-index-more"), html.Div(id="wu-index-table")])]),
                    actions=downloads.menu(PAGE, lang, table="index", graph=ids.WU_INDEX)), xl=5),
            ], className="g-3 mb-3"),
            dbc.Row([
                dbc.Col(section(titles["wu_trend"], html.Div([
                    dcc.Dropdown(id=ids.WU_TREND_KPI, value=trend, clearable=False, searchable=False,
                                 className="control-kpi mb-2", options=[{"label": k, "value": k}
                                                                        for k in view.TREND_KPIS]),
                    dcc.Graph(id=ids.WU_TREND, config=GRAPH_CONFIG)]),
                    actions=downloads.menu(PAGE, lang, graph=ids.WU_TREND)), xl=7),
                dbc.Col(section(titles["wu_channels"], dcc.Graph(id=ids.WU_CHANNELS, config=PLAIN_CONFIG),
                                actions=downloads.menu(PAGE, lang, graph=ids.WU_CHANNELS)), xl=5),
            ], className="g-3 mb-3"),
            _action_lists(lang, procedure if procedure in data.procedure_names(lang) else None),
            section(titles["wu_procs"], grid(ids.WU_PROCS, lang, height=None, page_size=15,
                                             getRowId="params.data.code"),
                    actions=downloads.menu(PAGE, lang, table="procs")),
        ], id="wu-body"),
        dcc.Store(id=downloads.store_id(PAGE, "kpis")),
        dcc.Store(id=downloads.store_id(PAGE, "index")),
        dcc.Download(id=ids.WU_DOWNLOAD),
        dcc.Store(id={"type": ids.URL_STATE, "page": "ward"}),
        *[dcc.Store(id=ids.shown(part)) for part in (ids.WU_TITLE, ids.WU_DUE_GRID, ids.WU_KPIS, ids.WU_TREND)],
    ], className="page page-ward")


@callback([Output(f"{ids.WU_SECTION_TITLES}-{key}", "children") for key in SECTIONS]
          + [Output(ids.WU_UNIT_LABEL, "children"), Output(ids.WU_UNIT, "options"),
             Output(ids.WU_PERIOD_LABEL, "children"), Output(ids.WU_PERIOD, "options"),
             Output(ids.WU_TREND_KPI, "options"), Output(ids.WU_PROCS, "columnDefs"),
             Output(ids.WU_OVERDUE_GRID, "columnDefs"), Output("wu-index-more", "children"),
             Output(ids.WU_UNIT, "placeholder"), Output(ids.WU_DUE_GRID, "columnDefs"),
             Output(ids.WU_PROC_FILTER_LABEL, "children"), Output(ids.WU_PROC_FILTER, "placeholder"),
             Output(ids.WU_PROC_CLEAR, "children"), Output(ids.WU_PROC_HINT, "children")],
          Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return [t(key, lang) for key in SECTIONS] + [
        t("wu_unit", lang), unit_options(data.units(), lang), t("wd_period", lang),
        period_options(data.local_now(), lang),
        [{"label": data.kpi_name(k, lang), "value": k} for k in view.TREND_KPIS],
        view.procedure_columns(lang), view.overdue_columns(lang), t("wu_index_components", lang),
        t("wu_choose", lang), view.due_columns(lang), t("wu_filter_label", lang), t("wu_filter_all", lang),
        t("wu_filter_clear", lang), t("wu_filter_hint", lang)]


kept.keep(ids.WU_TITLE)  # a pure view (kept per snapshot); not the dossier lists: each view of them is audited
@callback(Output(ids.WU_TITLE, "children"), Output("wu-pick", "children"), Output("wu-body", "style"),
          Output(ids.WU_INDEX, "figure"), Output("wu-index-table", "children"),
          Output("wu-index-total", "children"), Output(ids.WU_CHANNELS, "figure"), Output(ids.WU_PROCS, "rowData"),
          Output(downloads.store_id(PAGE, "index"), "data"), Output(ids.shown(ids.WU_TITLE), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.WU_UNIT, "value"),
          Input(ids.WU_PERIOD, "value"), State(ids.shown(ids.WU_TITLE), "data"))
def fill(lang, _version, unit, period, shown=None):
    lang = lang_of(lang)
    hidden = {"display": "none"}
    now = data.local_now()

    def pick(con):
        """No unit chosen: the ten with the lowest on-time rate (last complete month, few-data units apart), as links."""
        df, label = overview_view.unit_frame(con, surfaces.headline(), lang, now=now)
        items = [html.Li(dcc.Link(f"{r.name} ({r.code})", href=f"/ward?unit={r.code}"))
                 for r in df.head(10).itertuples(index=False)]
        return html.Div([html.P(t("wu_pick", lang)), html.Ol(items, className="pick-list")], className="panel")

    def build(con):
        if not unit:
            return (t("nav_ward", lang), pick(con), hidden, {}, None, "", {}, [], None)
        if not data.sees(unit):  # another unit's page: an explanation, never its data (issue 10)
            return (t("nav_ward", lang), out_of_scope(lang), hidden, {}, None, "", {}, [], None)
        fig, table, total, index_table = view.index_766_view(con, unit, lang, period, now=now)
        name = data.unit_name(unit, lang)
        title = [name, html.Span(f" · {unit}", className="unit-meta")]
        return (title, None, {}, fig, table, total,
                view.channel_figure(con, unit, lang, period, now=now), view.procedures(con, unit, lang, period, now=now),
                index_table.to_store())

    return redraw(render(lang, build, lambda s: (t("nav_ward", lang), s, hidden, {}, None, "", {}, [], None)), shown)


def _action_lists(lang: str, procedure: str | None = None) -> html.Div:
    """The two lists to act on (issue 11): due within 2 working days beside overdue, one procedure filter for
    both (a dropdown; a click on a row of the procedures grid sets it; 'Bỏ lọc' clears it; ?procedure= in the
    address opens the page filtered)."""
    def panel(title_id, note_id, grid_id, section_id, actions=None):
        head = html.H2(id=title_id, className="section-title")
        return html.Section([html.Div([head, actions], className="section-head") if actions is not None else head,
                             html.Div(id=note_id, className="note"),
                             grid(grid_id, lang, height=None, page_size=10, getRowId="params.data.dossier_id")],
                            className="panel", id=section_id)

    return html.Div([
        html.Div([
            html.Label(t("wu_filter_label", lang), id=ids.WU_PROC_FILTER_LABEL, htmlFor=ids.WU_PROC_FILTER,
                       className="control-label"),
            # the address's procedure is an option from the start (a value not among the options is dropped)
            dcc.Dropdown(id=ids.WU_PROC_FILTER, value=procedure, clearable=True, options=[] if procedure is None else
                         [{"label": data.procedure_names(lang).get(procedure, procedure), "value": procedure}],
                         placeholder=t("wu_filter_all", lang), className="action-filter-dropdown",
                         style={"flex": "1 1 420px", "minWidth": "min(100%, 420px)", "maxWidth": "760px"}),
            dbc.Button(t("wu_filter_clear", lang), id=ids.WU_PROC_CLEAR, n_clicks=0, color="secondary", outline=True,
                       size="sm", className="action-filter-clear"),
            html.Span(t("wu_filter_hint", lang), id=ids.WU_PROC_HINT, className="note action-filter-hint"),
        ], className="action-filter panel mb-2", role="search", **{"aria-labelledby": ids.WU_PROC_FILTER_LABEL}),
        dbc.Row([
            dbc.Col(panel(ids.WU_DUE_TITLE, ids.WU_DUE_NOTE, ids.WU_DUE_GRID, ids.WU_DUE,
                          downloads.menu(PAGE, lang, table="due")), xl=6),
            dbc.Col(panel(ids.WU_OVERDUE_TITLE, ids.WU_OVERDUE_NOTE, ids.WU_OVERDUE_GRID, ids.WU_OVERDUE,
                          downloads.menu(PAGE, lang, table="overdue")), xl=6),
        ], className="g-3 mb-3"),
    ], className="action-lists")


@callback(Output(ids.WU_DUE_GRID, "rowData"), Output(ids.WU_DUE_TITLE, "children"), Output(ids.WU_DUE_NOTE, "children"),
          Output(ids.WU_OVERDUE_GRID, "rowData"), Output(ids.WU_OVERDUE_TITLE, "children"),
          Output(ids.WU_OVERDUE_NOTE, "children"), Output(ids.WU_PROC_FILTER, "options"),
          Output(ids.WU_PROC_CLEAR, "disabled"), Output(ids.shown(ids.WU_DUE_GRID), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.WU_UNIT, "value"),
          Input(ids.WU_PROC_FILTER, "value"), State(ids.shown(ids.WU_DUE_GRID), "data"))
def actions(lang, _version, unit, procedure, shown=None):
    """The due-soon and overdue lists of the unit, both narrowed to `procedure` when one is chosen."""
    lang = lang_of(lang)
    procedure = procedure if isinstance(procedure, str) and procedure in data.procedure_names(lang) else None
    empty = ([], "", "", [], "", "", [], True)
    if not unit or not data.sees(unit):  # the page says why (fill); nothing of another unit here
        return redraw(empty, shown)
    if not data.viewer().may(access_roles.DOSSIER_LISTS):
        return redraw(([], t("wu_due_short", lang), t("dossier_lists_no_right", lang), [], t("wu_overdue_short", lang),
                       t("dossier_lists_no_right", lang), [], True), shown)
    now = data.local_now()

    def build(con):
        # computed once per snapshot and minute for everyone asking the same; each view still on record
        a = data.memo("ward.actions", lambda: view.action_lists(con, unit, lang, procedure, now=now), unit, lang, procedure)
        access_web.audit("overdue_view", target=unit,
                         detail={"rows": a["n_overdue"], "due_soon": a["n_due"], "procedure": procedure})
        name = data.procedure_names(lang).get(procedure, procedure) if procedure else None

        def words(rows, n, n_all, key, none_key):
            title = t(key, lang, n=n) if n else t(none_key, lang)
            notes = []
            if procedure:
                notes.append(t("wu_filtered", lang, name=name, code=procedure, n=n, total=n_all))
            if n > len(rows):
                notes.append(t("wu_overdue_more", lang, shown=len(rows), n=n))
            return title, " ".join(notes)

        due_title, due_note = words(a["due"], a["n_due"], a["n_due_all"], "wu_due", "wu_due_none")
        over_title, over_note = words(a["overdue"], a["n_overdue"], a["n_overdue_all"], "wu_overdue", "wu_overdue_none")
        return a["due"], due_title, due_note, a["overdue"], over_title, over_note, a["options"], procedure is None

    return redraw(render(lang, build, lambda s: ([], "", s, [], "", "", [], True)), shown)


@callback(Output(ids.WU_PROC_FILTER, "value"), Input(ids.WU_PROCS, "cellClicked"), Input(ids.WU_PROC_CLEAR, "n_clicks"),
          Input(ids.WU_UNIT, "value"), prevent_initial_call=True)
def pick_procedure(cell, _clear, _unit):
    """A click on a row of the procedures grid filters both lists to that procedure; 'Bỏ lọc' or another unit
    clears the filter."""
    if dash.ctx.triggered_id != ids.WU_PROCS:
        return None
    code = cell.get("rowId") if isinstance(cell, dict) else None
    if not isinstance(code, str) or code not in data.procedure_names("vi"):
        return no_update
    return code


@callback(Output(ids.WU_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(downloads.stores(PAGE), "data"), State(ids.WU_OVERDUE_GRID, "virtualRowData"),
          State(ids.WU_OVERDUE_GRID, "rowData"), State(ids.WU_PROCS, "virtualRowData"), State(ids.WU_PROCS, "rowData"),
          State(ids.WU_UNIT, "value"), State(ids.WU_PERIOD, "value"), State(ids.WU_DUE_GRID, "virtualRowData"),
          State(ids.WU_DUE_GRID, "rowData"), prevent_initial_call=True)
def download(_clicks, lang, _stores, overdue_shown, overdue_rows, procs_shown, procs_rows, unit, period, due_shown,
             due_rows):
    """A table of the page as CSV, Excel or Parquet: the grids' rows as on screen, the HTML tables' stored rows."""
    lang = lang_of(lang)

    def build(which):
        if which["table"] == "overdue":
            return view.overdue_table(lang, downloads.grid_rows(overdue_shown, overdue_rows), unit)
        if which["table"] == "due":
            return view.due_soon_table(lang, downloads.grid_rows(due_shown, due_rows), unit)
        if which["table"] == "procs":
            return view.procedures_table(lang, downloads.grid_rows(procs_shown, procs_rows), unit, period)
        return downloads.stored(which["table"])

    return downloads.respond(lang, build)


kept.keep(ids.WU_KPIS)  # a pure view (kept per snapshot); not the dossier lists: each view of them is audited
@callback(Output(ids.WU_KPIS, "children"), Output(downloads.store_id(PAGE, "kpis"), "data"),
          Output(ids.shown(ids.WU_KPIS), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.WU_UNIT, "value"),
          Input(ids.WU_PERIOD, "value"), State(ids.shown(ids.WU_KPIS), "data"))
def kpis(lang, _version, unit, period, shown=None):
    lang = lang_of(lang)
    if not unit or not data.sees(unit):
        return redraw((None, None), shown)
    now = data.local_now()

    def build(con):
        city = data.memo("ward.city", lambda: view.city_rows(con, period, now=now), period)
        table, download = view.kpi_view(con, unit, lang, period, now=now, city=city)
        table = html.Div([workload_view.ward_flag(con, unit, lang, period, now=now), table])  # issue 12
        return table, download.to_store()

    return redraw(render(lang, build, lambda s: (s, None)), shown)


kept.keep(ids.WU_TREND, "figure")  # a pure view (kept per snapshot); not the dossier lists: each view of them is audited
@callback(Output(ids.WU_TREND, "figure"), Output(ids.shown(ids.WU_TREND), "data"), Input(ids.LANG, "data"),
          Input(ids.VERSION, "data"), Input(ids.WU_UNIT, "value"), Input(ids.WU_TREND_KPI, "value"),
          Input(ids.WU_PERIOD, "value"), State(ids.shown(ids.WU_TREND), "data"))
def trend(lang, _version, unit, kpi, period, shown=None):
    lang = lang_of(lang)
    if not unit or not data.sees(unit):
        return redraw(({},), shown)
    now = data.local_now()
    return redraw((render(lang, lambda con: view.trend_figure(con, unit, kpi, lang, now=now), lambda s: {}),), shown)


@callback(Output({"type": ids.URL_STATE, "page": "ward"}, "data"), Input(ids.WU_UNIT, "value"),
          Input(ids.WU_PERIOD, "value"), Input(ids.WU_TREND_KPI, "value"), Input(ids.WU_PROC_FILTER, "value"))
def address(unit, period, kpi, procedure):
    """The page's filters in the address (?unit=&period=&trend=&procedure=), so a link reproduces the view; a
    unit out of the viewer's scope is left out, a procedure only when it is a known code."""
    visible = bool(unit) and data.sees(unit)
    return {"unit": unit if visible else None, "period": period,
            "trend": kpi if kpi != view.TREND_KPIS[0] else None,
            "procedure": procedure if visible and isinstance(procedure, str)
            and procedure in data.procedure_names("vi") else None}
