"""Economy & infrastructure: indicator KPIs with targets (revisions marked) and 5G coverage per unit.

URL: /economy
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from .. import data, ids
from ..callbacks import render
from ..components import empty_state, section
from ..i18n import lang_of, request_lang, t
from ..views import economy as view

dash.register_page(__name__, path="/economy", name="Kinh tế & hạ tầng", title="R57 · Kinh tế & hạ tầng", order=4)


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.H1(t("ec_title", lang), id=ids.EC_TITLE, className="page-title"),
        html.Div(id=ids.EC_CARDS, className="cards-grid"),
        html.H2(t("ec_series", lang), id="ec-series-title", className="section-title mt-2"),
        html.Div(id=ids.EC_SERIES, className="row g-3 mb-3"),
        section(html.Span(id=ids.EC_5G_TITLE), html.Div(id=ids.EC_5G)),
    ], className="page page-economy")


@callback(Output(ids.EC_TITLE, "children"), Output("ec-series-title", "children"), Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return t("ec_title", lang), t("ec_series", lang)


@callback(Output(ids.EC_CARDS, "children"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def cards(lang, _version):
    lang = lang_of(lang)
    return render(lang, lambda con: view.cards(
        con, lang, rows=data.memo("economy.targets", lambda: view.target_rows(con))))


@callback(Output(ids.EC_SERIES, "children"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def series(lang, _version):
    lang = lang_of(lang)
    return render(lang, lambda con: view.series_panels(con, lang), lambda s: None)


@callback(Output(ids.EC_5G_TITLE, "children"), Output(ids.EC_5G, "children"), Input(ids.LANG, "data"),
          Input(ids.VERSION, "data"))
def coverage(lang, _version):
    lang = lang_of(lang)
    ctx = data.context()

    def build(con):
        title, fig = view.coverage_5g(con, lang, geojson=ctx.geojson, geojson_key=ctx.geojson_key)
        body = (html.Div(view.graph(fig, "ec-5g-graph"), className="scroll-box") if fig is not None
                else empty_state(t("ec_5g_na", lang)))
        return title, body

    return render(lang, build, lambda s: ("", s))
