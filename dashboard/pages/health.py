"""Data health: freshness per source, latest ingest runs, rows quarantined with reasons, the list to fix.

URL: /health
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from .. import ids
from ..callbacks import render
from ..components import grid, section
from ..i18n import lang_of, request_lang, t
from ..views import health as view

dash.register_page(__name__, path="/health", name="Chất lượng dữ liệu", title="R57 · Chất lượng dữ liệu", order=5)


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.H1(t("dh_title", lang), id=ids.DH_TITLE, className="page-title"),
        html.H2(t("dh_freshness", lang), id="dh-freshness-title", className="section-title"),
        html.Div(id=ids.DH_FRESHNESS, className="fresh-grid mb-3"),
        html.Div(section(html.Span(t("dh_runs", lang), id=ids.DH_RUNS_TITLE),
                         grid(ids.DH_RUNS, lang, height=None, page_size=10, getRowId="params.data.row_key")),
                 className="mb-3"),
        html.Div(section(html.Span(t("dh_reasons", lang), id=ids.DH_REASONS_TITLE),
                         html.Div(id=ids.DH_REASONS)), className="mb-3"),
        section(html.Span(t("dh_quarantine", lang), id=ids.DH_QUARANTINE_TITLE),
                grid(ids.DH_QUARANTINE, lang, height=None, page_size=25, getRowId="params.data.row_key",
                     csvExportParams={"fileName": "r57-cach-ly.csv"})),
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
          Output(ids.DH_QUARANTINE, "rowData"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def fill(lang, _version):
    lang = lang_of(lang)

    def build(con):
        return view.freshness(con, lang), view.runs(con, lang), view.reasons(con, lang), view.quarantine(con, lang)

    return render(lang, build, lambda s: (s, [], None, []))
