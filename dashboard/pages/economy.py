"""Economy & infrastructure: indicator KPIs with targets (revisions marked) and 5G coverage per unit.

URL: /economy
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from .. import data, downloads, ids
from ..callbacks import render
from ..components import empty_state, section
from ..i18n import lang_of, request_lang, t
from ..views import economy as view
from . import title

dash.register_page(__name__, path="/economy", name="Kinh tế & hạ tầng", title=title("nav_economy"), order=4)


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.Div([html.H1(t("ec_title", lang), id=ids.EC_TITLE, className="page-title"),
                  downloads.menu(view.PAGE, lang, table="targets")], className="title-row"),
        html.Div(id=ids.EC_CARDS, className="cards-grid"),
        html.H2(t("ec_series", lang), id="ec-series-title", className="section-title mt-2"),
        html.Div(id=ids.EC_SERIES, className="row g-3 mb-3"),
        section(html.Span(id=ids.EC_5G_TITLE), html.Div(id=ids.EC_5G),
                actions=downloads.menu(view.PAGE, lang, table="coverage", graph=ids.EC_5G_GRAPH)),
        dcc.Store(id=downloads.store_id(view.PAGE, "targets")),
        dcc.Store(id=downloads.store_id(view.PAGE, "coverage")),
        dcc.Download(id=ids.EC_DOWNLOAD),
    ], className="page page-economy")


@callback(Output(ids.EC_TITLE, "children"), Output("ec-series-title", "children"), Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return t("ec_title", lang), t("ec_series", lang)


@callback(Output(ids.EC_CARDS, "children"), Output(downloads.store_id(view.PAGE, "targets"), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def cards(lang, _version):
    lang = lang_of(lang)

    def build(con):
        rows = data.memo("economy.targets", lambda: view.target_rows(con))
        return view.cards(con, lang, rows=rows), view.targets_table(rows, lang).to_store()

    return render(lang, build, lambda s: (s, None))


@callback(Output(ids.EC_SERIES, "children"), Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def series(lang, _version):
    lang = lang_of(lang)
    return render(lang, lambda con: view.series_panels(con, lang), lambda s: None)


@callback(Output(ids.EC_5G_TITLE, "children"), Output(ids.EC_5G, "children"),
          Output(downloads.store_id(view.PAGE, "coverage"), "data"), Input(ids.LANG, "data"),
          Input(ids.VERSION, "data"))
def coverage(lang, _version):
    lang = lang_of(lang)
    ctx = data.context()

    def build(con):
        title, fig, table = view.coverage_5g_view(con, lang, geojson=ctx.geojson, geojson_key=ctx.geojson_key)
        # taller than its box on a phone: a Tab stop, a region named by the title, scrolled by the keyboard
        body = (html.Div(view.graph(fig, ids.EC_5G_GRAPH), className="scroll-box", tabIndex="0", role="region",
                         **{"aria-label": title}) if fig is not None
                else empty_state(t("ec_5g_na", lang)))
        return title, body, table.to_store()

    return render(lang, build, lambda s: ("", s, None))


@callback(Output(ids.EC_DOWNLOAD, "data"), Input(downloads.items(view.PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(downloads.stores(view.PAGE), "data"), prevent_initial_call=True)
def download(_clicks, lang, _stores):
    """The indicator cards, an indicator's points or 5G coverage by unit as CSV, Excel or Parquet."""
    lang = lang_of(lang)
    return downloads.respond(lang, lambda which: downloads.stored(which["table"]))
