"""Wards (department heads): all 126 units in a sortable, filterable grid; a row opens the unit.

URL: /wards?period=<label>&type=phuong|xa&q=<search>
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from presentation import surfaces

from .. import data, downloads, fmt, ids
from ..callbacks import render
from ..components import default_period, grid, period_options, ranking_list, sort_worst_first
from ..i18n import lang_of, request_lang, t
from ..views import wards as view
from . import title

dash.register_page(__name__, path="/wards", name="Phường, xã", title=title("nav_wards"), order=1)

PAGE, TABLE = "wards", "wards"
CARDS = "wd-cards"  # the phone's list of the units (the grid is for wider screens)


def _type_options(lang: str) -> list[dict]:
    return [{"label": t("type_all", lang), "value": "all"}, {"label": t("type_phuong", lang), "value": "phuong"},
            {"label": t("type_xa", lang), "value": "xa"}]


def layout(period: str | None = None, type: str | None = None, q: str | None = None, **_):  # noqa: A002 (URL key)
    lang = request_lang()
    now = data.local_now()
    options = period_options(now, lang)
    period = period if period in {o["value"] for o in options} else default_period(now)
    return html.Div([
        html.Div([html.H1(t("wd_title", lang), id=ids.WD_TITLE, className="page-title")],
                 className="page-head"),
        html.Div([
            html.Div([html.Label(t("wd_period", lang), id=ids.WD_PERIOD_LABEL, htmlFor=ids.WD_PERIOD,
                                 className="control-label"),
                      dcc.Dropdown(id=ids.WD_PERIOD, value=period, options=options, clearable=False)],
                     className="control"),
            html.Div([html.Span(t("wd_type", lang), id=ids.WD_TYPE_LABEL, className="control-label"),
                      dbc.RadioItems(id=ids.WD_TYPE, value=type if type in ("phuong", "xa") else "all", inline=True,
                                     name=ids.WD_TYPE, options=_type_options(lang), className="btn-group",
                                     inputClassName="btn-check", labelClassName="btn btn-outline-secondary btn-sm",
                                     labelCheckedClassName="active")],
                     className="control", role="group", **{"aria-labelledby": ids.WD_TYPE_LABEL}),
            html.Div([html.Label(t("wd_search", lang), id=ids.WD_SEARCH_LABEL, htmlFor=ids.WD_SEARCH,
                                 className="control-label"),
                      dcc.Input(id=ids.WD_SEARCH, type="search", value=q or "", debounce=0.3,
                                placeholder=t("wd_search_ph", lang), className="form-control")],
                     className="control control-wide control-search"),
            html.Div(downloads.menu(PAGE, lang, table=TABLE), className="control control-download",
                     id=ids.WD_EXPORT),
        ], className="filters"),
        html.P(t("wd_note", lang), id=ids.WD_NOTE, className="note"),
        html.Div(id="wd-state"),
        # a wide screen gets the grid; a phone the units as a list (name, on-time rate, bar, status), worst first
        html.Div(grid(ids.WD_GRID, lang, height="calc(100vh - 270px)", getRowId="params.data.code",
                      dashGridOptions={"quickFilterText": q or "", "pinnedBottomRowData": [], **view.grid_options()}),
                 className="wide-only"),
        html.Div(id=CARDS, className="phone-only unit-cards"),
        dcc.Download(id=ids.WD_DOWNLOAD),
        dcc.Location(id=ids.WD_NAV, refresh="callback-nav"),
        dcc.Store(id={"type": ids.URL_STATE, "page": "wards"}),
    ], className="page page-wards")


@callback(Output(ids.WD_TITLE, "children"), Output(ids.WD_PERIOD_LABEL, "children"),
          Output(ids.WD_PERIOD, "options"), Output(ids.WD_TYPE_LABEL, "children"), Output(ids.WD_TYPE, "options"),
          Output(ids.WD_SEARCH_LABEL, "children"), Output(ids.WD_SEARCH, "placeholder"),
          Output(ids.WD_NOTE, "children"), Output(ids.WD_GRID, "columnDefs"),
          Input(ids.LANG, "data"))
def words(lang):
    lang = lang_of(lang)
    return (t("wd_title", lang), t("wd_period", lang), period_options(data.local_now(), lang),
            t("wd_type", lang), _type_options(lang), t("wd_search", lang), t("wd_search_ph", lang),
            t("wd_note", lang), view.column_defs(lang))


def _cards(rows: list[dict], lang: str, period: str, search: str | None) -> list:
    """The phone's view of the grid: every unit (the search applied as the grid's quick filter would) with its
    on-time rate, bar and status, worst first, the units with few data apart under the grid's heading."""
    q = (search or "").strip().lower()
    units = [r for r in rows if not r.get("heading") and (not q or q in f"{r['code']} {r['name']}".lower())]
    if not units:
        return []
    df = sort_worst_first(pd.DataFrame({
        "code": [r["code"] for r in units], "name": [r["name"] for r in units],
        "value": [r.get(surfaces.headline()) for r in units], "status": [r.get("status") for r in units],
        "n": [r.get("on_time_n") for r in units], "few_data": [bool(r.get("few_data")) for r in units]}),
        data.kpi(surfaces.headline()).direction)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    heading = view.heading_row(lang, units)
    title = t("ov_rank_title", lang, n=int(df["value"].notna().sum()), kpi=data.kpi_name(surfaces.headline(), lang),
              period=fmt.period(period, lang, long=True))
    return [html.P(title, className="unit-cards-note"),
            ranking_list(df, lang, "%", None, "/ward?unit={code}&period=" + str(period), len(df),
                         heading[0]["name"] if heading else None, len(df))]


@callback(Output(ids.WD_GRID, "rowData"), Output(ids.WD_GRID, "dashGridOptions"), Output("wd-state", "children"),
          Output({"type": ids.URL_STATE, "page": "wards"}, "data"), Output(CARDS, "children"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.WD_PERIOD, "value"),
          Input(ids.WD_TYPE, "value"), Input(ids.WD_SEARCH, "value"), State(ids.WD_GRID, "dashGridOptions"))
def fill(lang, _version, period, unit_type, search, options):
    lang = lang_of(lang)
    state = {"period": period, "type": unit_type if unit_type != "all" else None, "q": search or None}
    options = {**(options or {}), "quickFilterText": search or "", **view.grid_options()}
    now = data.local_now()

    def build(con):
        rows, pinned = view.rows(con, lang, period, unit_type, now=now)
        return (rows + view.heading_row(lang, rows), {**options, "pinnedBottomRowData": pinned}, None, state,
                _cards(rows, lang, period, search))

    return render(lang, build, lambda s: ([], options, s, state, []))


@callback(Output(ids.WD_NAV, "href"), Input(ids.WD_GRID, "cellClicked"), State(ids.WD_PERIOD, "value"),
          prevent_initial_call=True)
def open_unit(cell, period):
    """A click anywhere in a ward's row opens it (the name cell is a link of its own)."""
    if not cell or cell.get("colId") == "name" or not cell.get("rowId") or cell.get("rowPinned"):
        return no_update
    code = str(cell["rowId"])
    if code == "01" or not code.isdigit():  # the departments' row, the heading of the few-data units
        return no_update
    return f"/ward?unit={code}&period={period}"


@callback(Output(ids.WD_DOWNLOAD, "data"), Input(downloads.items(PAGE), "n_clicks"), State(ids.LANG, "data"),
          State(ids.WD_GRID, "virtualRowData"), State(ids.WD_GRID, "rowData"), State(ids.WD_GRID, "dashGridOptions"),
          State(ids.WD_PERIOD, "value"), State(ids.WD_TYPE, "value"), State(ids.WD_SEARCH, "value"),
          prevent_initial_call=True)
def download(_clicks, lang, shown, rows, options, period, unit_type, search):
    """The grid as on screen (its rows after filters and sort, the departments' row) as CSV, Excel or Parquet."""
    lang = lang_of(lang)
    return downloads.respond(lang, lambda _which: view.table(
        lang, downloads.grid_rows(shown, rows, options), period, unit_type, search))
