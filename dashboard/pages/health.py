"""Data health: freshness per source, latest ingest runs, rows quarantined with reasons, the list to fix.

URL: /health
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from access import roles as access_roles
from access import web as access_web

from .. import data, downloads, ids
from ..callbacks import render
from ..components import grid, section
from ..i18n import lang_of, request_lang, t
from ..views import health as view
from . import title

dash.register_page(__name__, path="/health", name="Chất lượng dữ liệu", title=title("nav_health"), order=5)

PAGE = "health"


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.H1(t("dh_title", lang), id=ids.DH_TITLE, className="page-title"),
        html.H2(t("dh_freshness", lang), id="dh-freshness-title", className="section-title"),
        html.Div(id=ids.DH_FRESHNESS, className="fresh-grid mb-3"),
        html.Div(section(html.Span(t("dh_runs", lang), id=ids.DH_RUNS_TITLE),
                         grid(ids.DH_RUNS, lang, height=None, page_size=10, getRowId="params.data.row_key"),
                         actions=downloads.menu(PAGE, lang, table="runs")),
                 className="mb-3"),
        html.Div(section(html.Span(t("dh_reasons", lang), id=ids.DH_REASONS_TITLE),
                         html.Div(id=ids.DH_REASONS), actions=downloads.menu(PAGE, lang, table="reasons")),
                 className="mb-3"),
        section(html.Span(t("dh_quarantine", lang), id=ids.DH_QUARANTINE_TITLE),
                grid(ids.DH_QUARANTINE, lang, height=None, page_size=25, getRowId="params.data.row_key"),
                actions=downloads.menu(PAGE, lang, table="quarantine")),
        dcc.Store(id=downloads.store_id(PAGE, "reasons")),
        dcc.Download(id=ids.DH_DOWNLOAD),
    ], className="page page-health")


@callback(Output(ids.DH_TITLE, "children"), Output("dh-freshness-title", "children"),
          Output(ids.DH_RUNS_TITLE, "children"), Output(ids.DH_REASONS_TITLE, "children"),
          Output(ids.DH_QUARANTINE_TITLE, "children"), Output(ids.DH_RUNS, "columnDefs"),
          Output(ids.DH_QUARANTINE, "columnDefs"), Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return (t("dh_title", lang), t("dh_freshness", lang), t("dh_runs", lang), t("dh_reasons", lang),
            t("dh_quarantine", lang), view.run_columns(lang), view.quarantine_columns(lang))


@callback(Output(ids.DH_FRESHNESS, "children"), Output(ids.DH_RUNS, "rowData"), Output(ids.DH_REASONS, "children"),
          Output(ids.DH_QUARANTINE, "rowData"), Output(downloads.store_id(PAGE, "reasons"), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def fill(lang, _version):
    lang = lang_of(lang)

    def build(con):
        reasons, reasons_table = view.reasons_view(con, lang)
        # runs and quarantined lines name files and records that no unit can be said to own: shown to viewers
        # of every unit with the right to see them (issue 10); the reasons' counts are the city's aggregate
        v = data.viewer()
        whole = v.scope is None and v.may(access_roles.QUARANTINE)
        quarantine = view.quarantine(con, lang) if whole else []
        if whole:
            access_web.audit("quarantine_view", target="/health", detail={"rows": len(quarantine)})
        return (view.freshness(con, lang), view.runs(con, lang) if whole else [], reasons, quarantine,
                reasons_table.to_store())

    return render(lang, build, lambda s: (s, [], None, [], None))


@callback(Output(ids.DH_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(downloads.stores(PAGE), "data"), State(ids.DH_RUNS, "virtualRowData"), State(ids.DH_RUNS, "rowData"),
          State(ids.DH_QUARANTINE, "virtualRowData"), State(ids.DH_QUARANTINE, "rowData"), prevent_initial_call=True)
def download(_clicks, lang, _stores, runs_shown, runs, quarantine_shown, quarantine):
    """The runs, the reasons or the quarantine list as CSV, Excel or Parquet (the grids as on screen)."""
    lang = lang_of(lang)

    def build(which):
        if which["table"] == "runs":
            return view.runs_table(lang, downloads.grid_rows(runs_shown, runs))
        if which["table"] == "quarantine":
            return view.quarantine_table(lang, downloads.grid_rows(quarantine_shown, quarantine))
        return downloads.stored(which["table"])

    return downloads.respond(lang, build)
