"""Overview (city leaders): are we on track? Target cards, the ward ranking, what changed since yesterday.

URL: /?kpi=<ranking KPI>&view=rank|map
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from metrics.periods import Grain, last_complete, period_at

from .. import data, downloads, ids, kept
from ..callbacks import redraw, render
from ..components import section
from ..i18n import lang_of, request_lang, t
from ..views import overview as view
from ..views import workload as workload_view
from . import title

dash.register_page(__name__, path="/", name="Tổng quan", title=title("nav_overview"), order=0)

PAGE = "overview"


def layout(kpi: str | None = None, **query):
    lang = request_lang()
    kpi = kpi if kpi in view.RANK_KPIS else view.RANK_KPIS[0]
    mode = query.get("view") if query.get("view") in ("rank", "map") else "rank"
    controls = html.Div([
        html.Label(t("ov_rank_kpi", lang), id=ids.OV_RANK_KPI_LABEL, htmlFor=ids.OV_RANK_KPI,
                   className="control-label"),
        dcc.Dropdown(id=ids.OV_RANK_KPI, value=kpi, clearable=False, searchable=False, className="control-kpi",
                     options=[{"label": k, "value": k} for k in view.RANK_KPIS]),
        dbc.RadioItems(id=ids.OV_RANK_VIEW, value=mode, inline=True, className="btn-group view-switch",
                       name=ids.OV_RANK_VIEW, inputClassName="btn-check", labelClassName="btn btn-outline-secondary btn-sm",
                       labelCheckedClassName="active", style={"display": "none"},
                       options=[{"label": "rank", "value": "rank"}, {"label": "map", "value": "map"}]),
    ], className="controls")
    return html.Div([
        html.Div([html.H1(t("ov_title", lang), id=ids.OV_TITLE, className="page-title"),
                  downloads.menu(PAGE, lang, table="targets")], className="title-row"),
        html.Div(id=ids.OV_CARDS, className="cards-grid"),
        dbc.Row([
            dbc.Col(section(html.Span(id=ids.OV_RANK_TITLE),
                            html.Div([html.Div(id=ids.OV_WORKLOAD), controls, html.Div(id=ids.OV_RANK)]), class_name="panel-rank",
                            actions=downloads.menu(PAGE, lang, table="ranking")), xl=8),
            dbc.Col(section(html.Span(t("ov_changes_title", lang), id=ids.OV_CHANGES_TITLE),
                            html.Div(id=ids.OV_CHANGES), class_name="panel-changes"), xl=4),
        ], className="g-3 overview-bottom"),
        dcc.Store(id={"type": ids.URL_STATE, "page": "overview"}),
        *[dcc.Store(id=ids.shown(part)) for part in (ids.OV_CARDS, ids.OV_CHANGES, ids.OV_RANK, ids.OV_WORKLOAD)],
        dcc.Store(id=downloads.store_id(PAGE, "targets")),
        dcc.Store(id=downloads.store_id(PAGE, "ranking")),
        dcc.Download(id=ids.OV_DOWNLOAD),
    ], className="page page-overview")


@callback(Output(ids.OV_TITLE, "children"), Output(ids.OV_RANK_KPI_LABEL, "children"),
          Output(ids.OV_RANK_KPI, "options"), Output(ids.OV_CHANGES_TITLE, "children"),
          Output(ids.OV_RANK_VIEW, "options"), Output(ids.OV_RANK_VIEW, "style"),
          Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    options = [{"label": data.kpi_name(k, lang), "value": k} for k in view.RANK_KPIS]
    has_map = data.context().geojson is not None
    views = [{"label": t("ov_view_rank", lang), "value": "rank"}, {"label": t("ov_view_map", lang), "value": "map"}]
    return (t("ov_title", lang), t("ov_rank_kpi", lang), options, t("ov_changes_title", lang), views,
            {} if has_map else {"display": "none"})


def _targets(con, now):
    """The targets' standing, shared by the cards and the changes (and by every viewer) per snapshot and minute."""
    return data.memo("overview.targets", lambda: view.target_rows(con, now=now))


kept.keep(ids.OV_CARDS)  # a pure view of the snapshot, the minute and the viewer's scope
@callback(Output(ids.OV_CARDS, "children"), Output(downloads.store_id(PAGE, "targets"), "data"),
          Output(ids.shown(ids.OV_CARDS), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), State(ids.shown(ids.OV_CARDS), "data"))
def cards(lang, _version, shown=None):
    lang = lang_of(lang)
    now = data.local_now()

    def build(con):
        # complete months only: they change with the data of those months and the month, not with the minute
        hist = data.memo_past("overview.series", con, period_at(now.date(), Grain.MONTH).start,
                              lambda: view.series(con, data.r57_codes(), now=now))
        rows = _targets(con, now)
        return view.cards(con, lang, now=now, rows=rows, hist=hist), view.targets_table(rows, lang).to_store()

    return redraw(render(lang, build, lambda s: (s, None)), shown)


kept.keep(ids.OV_CHANGES)  # a pure view of the snapshot, the minute and the viewer's scope
@callback(Output(ids.OV_CHANGES, "children"), Output(ids.shown(ids.OV_CHANGES), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), State(ids.shown(ids.OV_CHANGES), "data"))
def changes(lang, _version, shown=None):
    lang = lang_of(lang)
    now = data.local_now()

    def build(con):
        rows = _targets(con, now)
        # the standing as of the last complete month's first day: only data before that day changes it
        earlier = data.memo_past("overview.earlier", con, last_complete(now).start,
                                 lambda: view.earlier_rows(con, now=now))
        return view.changes(con, lang, now=now, rows_now=rows, earlier=earlier)

    return redraw((render(lang, build, lambda state: None),), shown)


kept.keep(ids.OV_RANK)  # a pure view of the snapshot, the minute and the viewer's scope
@callback(Output(ids.OV_RANK_TITLE, "children"), Output(ids.OV_RANK, "children"),
          Output({"type": ids.URL_STATE, "page": "overview"}, "data"), Output(downloads.store_id(PAGE, "ranking"), "data"),
          Output(ids.shown(ids.OV_RANK), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.OV_RANK_KPI, "value"),
          Input(ids.OV_RANK_VIEW, "value"), State(ids.shown(ids.OV_RANK), "data"))
def ranking(lang, _version, kpi, mode, shown=None):
    lang = lang_of(lang)
    ctx = data.context()
    now = data.local_now()
    state = {"kpi": kpi if kpi != view.RANK_KPIS[0] else None, "view": mode if mode == "map" else None}

    def build(con):
        code = kpi if kpi in view.RANK_KPIS else view.RANK_KPIS[0]
        frame = data.memo("overview.units", lambda: view.unit_frame(con, code, lang, now=now), code, lang,
                          per="%Y-%m-%d")
        title, body = view.ranking(con, code, lang, mode, now=now, geojson=ctx.geojson,
                                   geojson_key=ctx.geojson_key, frame=frame)
        return title, body, state, view.ranking_table(frame, code, lang).to_store()

    return redraw(render(lang, build, lambda s: ("", s, state, None)), shown)


@callback(Output(ids.OV_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(downloads.stores(PAGE), "data"), prevent_initial_call=True)
def download(_clicks, lang, _stores):
    """The target cards or the ranking (all units, in its order) as CSV, Excel or Parquet."""
    lang = lang_of(lang)
    return downloads.respond(lang, lambda which: downloads.stored(which["table"]))


kept.keep(ids.OV_WORKLOAD)  # a pure view of the snapshot, the minute and the viewer's scope
@callback(Output(ids.OV_WORKLOAD, "children"), Output(ids.shown(ids.OV_WORKLOAD), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), State(ids.shown(ids.OV_WORKLOAD), "data"))
def workload_line(lang, _version, shown=None):
    """Issue 12: how many units are overloaded at the one-stop office, linking to the ranking by workload."""
    lang = lang_of(lang)
    now = data.local_now()
    return redraw((render(lang, lambda con: workload_view.overview_line(con, lang, now=now), lambda s: s),), shown)
