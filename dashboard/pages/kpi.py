"""KPI detail: one KPI across time and units, its definition, formula and legal basis, the target and why
the status is what it is.

URL: /kpi?kpi=<code>&unit=<5-digit code or 01>&grain=month|quarter|year
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from .. import data, downloads, fmt, ids
from ..callbacks import render
from ..components import GRAPH_CONFIG, empty_state, out_of_scope, ranking_list, section, unit_options
from ..i18n import lang_of, request_lang, t
from ..views import kpi as view
from ..views import overview as overview_view
from . import title

dash.register_page(__name__, path="/kpi", name="Chỉ tiêu", title=title("nav_kpi"), order=3)

PAGE = "kpi"


def _kpi_options(lang: str) -> list[dict]:
    return [{"label": data.kpi_name(k, lang), "value": k} for k in data.visible_codes()]


def _grain_options(lang: str) -> list[dict]:
    return [{"label": t(f"grain_{g}", lang), "value": g} for g in view.GRAINS]


def layout(kpi: str | None = None, unit: str | None = None, grain: str | None = None, **_):
    lang = request_lang()
    code, notice = view.resolve(kpi)
    known = set(data.wards()["unit_code"])
    refused = unit in known and not data.sees(unit)  # another unit in the address: said, then the city (issue 10)
    unit = unit if unit in known and not refused else "01"
    grain = grain if grain in view.GRAINS else "month"
    return html.Div([
        html.Div([
            html.Div([html.Label(t("kp_kpi", lang), id=ids.KP_KPI_LABEL, htmlFor=ids.KP_KPI,
                                 className="control-label"),
                      dcc.Dropdown(id=ids.KP_KPI, value=code, options=_kpi_options(lang), clearable=False)],
                     className="control control-wide control-kpi-pick"),
            html.Div([html.Label(t("kp_unit", lang), id=ids.KP_UNIT_LABEL, htmlFor=ids.KP_UNIT,
                                 className="control-label"),
                      dcc.Dropdown(id=ids.KP_UNIT, value=unit, clearable=False,
                                   options=unit_options(data.units(), lang, with_city=True))],
                     className="control control-wide"),
            html.Div([html.Span(t("kp_grain", lang), id=ids.KP_GRAIN_LABEL, className="control-label"),
                      dbc.RadioItems(id=ids.KP_GRAIN, value=grain, inline=True, options=_grain_options(lang),
                                     name=ids.KP_GRAIN, className="btn-group", inputClassName="btn-check",
                                     labelClassName="btn btn-outline-secondary btn-sm",
                                     labelCheckedClassName="active")],
                     className="control", role="group", **{"aria-labelledby": ids.KP_GRAIN_LABEL}),
        ], className="filters"),
        html.Div(empty_state(t("unknown_kpi", lang, kpi=notice, name=data.kpi_name(code, lang)),
                             "warning") if notice else None, className="mb-2"),
        out_of_scope(lang) if refused else None,
        html.H1(id="kp-title", className="page-title"),
        dbc.Row([
            dbc.Col(section(html.Span(id="kp-header-title"), html.Div(id=ids.KP_HEADER)), xl=5),
            dbc.Col(section(html.Span(id=ids.KP_TREND_TITLE), dcc.Graph(id=ids.KP_TREND, config=GRAPH_CONFIG),
                            actions=downloads.menu(PAGE, lang, table="trend", graph=ids.KP_TREND)), xl=7),
        ], className="g-3 mb-3"),
        html.Div(section(html.Span(id=ids.KP_UNITS_TITLE), html.Div(id=ids.KP_UNITS_BOX),
                         actions=downloads.menu(PAGE, lang, table="units", graph=ids.KP_UNITS)), className="mb-3"),
        section(html.Span(id="kp-def-title"), html.Div(id=ids.KP_DEFINITION)),
        dcc.Location(id=ids.KP_NAV, refresh="callback-nav"),
        dcc.Store(id={"type": ids.URL_STATE, "page": "kpi"}),
        dcc.Store(id=downloads.store_id(PAGE, "trend")),
        dcc.Store(id=downloads.store_id(PAGE, "units")),
        dcc.Download(id=ids.KP_DOWNLOAD),
    ], className="page page-kpi")


@callback(Output(ids.KP_KPI_LABEL, "children"), Output(ids.KP_KPI, "options"), Output(ids.KP_UNIT_LABEL, "children"),
          Output(ids.KP_UNIT, "options"), Output(ids.KP_GRAIN_LABEL, "children"), Output(ids.KP_GRAIN, "options"),
          Output("kp-header-title", "children"), Output("kp-def-title", "children"), Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return (t("kp_kpi", lang), _kpi_options(lang), t("kp_unit", lang), unit_options(data.units(), lang, True),
            t("kp_grain", lang), _grain_options(lang), t("target", lang), t("kp_definition", lang))


@callback(Output("kp-title", "children"), Output(ids.KP_HEADER, "children"), Output(ids.KP_TREND_TITLE, "children"),
          Output(ids.KP_TREND, "figure"), Output(ids.KP_UNITS_TITLE, "children"), Output(ids.KP_UNITS_BOX, "children"),
          Output(ids.KP_DEFINITION, "children"), Output({"type": ids.URL_STATE, "page": "kpi"}, "data"),
          Output(downloads.store_id(PAGE, "trend"), "data"), Output(downloads.store_id(PAGE, "units"), "data"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.KP_KPI, "value"),
          Input(ids.KP_UNIT, "value"), Input(ids.KP_GRAIN, "value"))
def fill(lang, _version, kpi, unit, grain):
    lang = lang_of(lang)
    kpi, _ = view.resolve(kpi)
    state = {"kpi": kpi, "unit": unit if unit and unit != "01" else None, "grain": grain if grain != "month" else None}
    name = data.kpi_name(kpi, lang)

    now = data.local_now()
    if unit and not data.sees(unit):  # another unit's figures: an explanation instead (issue 10)
        state["unit"] = None
        return (name, out_of_scope(lang), "", {}, "", None, view.definition(kpi, lang), state, None, None)

    def build(con):
        fig, label, units_table, apart = view.units_view(con, kpi, lang, now=now)
        if fig is None:
            units_box = empty_state(t("kp_units_na", lang) if label is None else
                                    t("ov_no_units", lang, period=fmt.period(label, lang, long=True)))
        else:
            # the bars on a wide screen; on a phone the same units as a list (names in full, no labels to overlap)
            units_box = html.Div([html.Div([dcc.Graph(id=ids.KP_UNITS, figure=fig, config=GRAPH_CONFIG), apart],
                                           className="wide-only"),
                                  html.Div(_unit_list(con, kpi, lang, now), className="phone-only unit-cards",
                                           id="kp-unit-list")])
        units_title = t("kp_units", lang, kpi=name, period=fmt.period(label, lang, long=True)) if label else name
        trend, trend_table = view.trend_view(con, kpi, unit, grain, lang, now=now)
        return (name, view.header(con, kpi, unit, lang, now=now), t("kp_trend", lang, kpi=name), trend, units_title,
                units_box, view.definition(kpi, lang), state, trend_table.to_store(),
                units_table.to_store() if units_table is not None else None)

    return render(lang, build, lambda s: (name, s, "", {}, "", None, view.definition(kpi, lang), state, None, None))


def _unit_list(con, kpi: str, lang: str, now):
    """Every unit of the KPI as the overview's ranking list, worst first, few-data units apart (the same
    frame as the overview's ranking: shared per snapshot and day)."""
    df, _ = data.memo("overview.units", lambda: overview_view.unit_frame(con, kpi, lang, now=now), kpi, lang,
                      per="%Y-%m-%d")
    have = df["target"].dropna() if "target" in df else []
    target = float(have.iloc[0]) if len(have) else None
    return ranking_list(df, lang, data.kpi_unit(kpi, lang), target, "/ward?unit={code}", len(df),
                        overview_view.few_heading(kpi, lang), len(df))


@callback(Output(ids.KP_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(downloads.stores(PAGE), "data"), prevent_initial_call=True)
def download(_clicks, lang, _stores):
    """The trend's points or every unit's value as CSV, Excel or Parquet."""
    lang = lang_of(lang)
    return downloads.respond(lang, lambda which: downloads.stored(which["table"]))


@callback(Output(ids.KP_NAV, "href"), Input(ids.KP_UNITS, "clickData"), prevent_initial_call=True)
def open_unit(click):
    """A click on a unit's bar opens that unit."""
    try:
        code = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return no_update
    return f"/ward?unit={code}" if code else no_update
