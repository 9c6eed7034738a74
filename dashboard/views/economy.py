"""Economy & infrastructure: the indicator KPIs (digital economy, ST&DT, TFP, 5G, ...) with targets and
revisions marked, and 5G coverage per unit."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
from dash import dcc, html

from metrics.results import target_of

from .. import a11y, data, downloads, fmt
from ..components import GRAPH_CONFIG, PLAIN_CONFIG
from ..downloads import Column, Table
from ..figures import make_choropleth_figure, make_indicator_figure, make_ranking_figure
from ..i18n import t
from .overview import cards as kpi_cards
from .overview import ranking_table, series, unit_frame
from .overview import target_rows as overview_targets

HISTORY_MONTHS = 36
PAGE = "economy"


def target_rows(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[dict]:
    return overview_targets(con, now=now, codes=data.indicator_codes())


def cards(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
          rows: list[dict] | None = None) -> list:
    return kpi_cards(con, lang, now=now, codes=data.indicator_codes(), rows=rows)


def series_panels(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None) -> list:
    """One small chart per indicator, by publication period; revised periods are marked. Each panel has its
    download menu (the chart as PNG/SVG, its points as a table) and the points in a dcc.Store."""
    codes = data.indicator_codes()
    hist = series(con, codes, now=now, months=HISTORY_MONTHS)
    out = []
    for code in codes:
        d = hist[hist["kpi"] == code] if not hist.empty else hist
        frame = pd.DataFrame({
            "period_start": pd.to_datetime(d["source_period"].map(_start).fillna(d["period_start"]))
            if not d.empty else [], "period": d["source_period"].fillna(d["period"]) if not d.empty else [],
            "value": pd.to_numeric(d["value"], errors="coerce") if not d.empty else [],
            "revised": d["revised"] if not d.empty else [],
            "first_published": d["first_published"] if not d.empty else [],
            "last_published": d["last_published"] if not d.empty else []})
        k = data.kpi(code)
        ts = data.registry().targets_for(code)
        fig = make_indicator_figure(frame, lang, data.kpi_unit(code, lang), ts[0].value if ts else None,
                                    ts[0].comparison if ts else None)
        drawn = frame.dropna(subset=["value"])
        a11y.label(fig, a11y.summary(drawn, data.kpi_name(code, lang), t("city_label", lang), lang,
                                     data.kpi_unit(code, lang), ts[0].value if ts else None,
                                     ts[0].comparison if ts else None),
                   a11y.trend_table(drawn, lang, data.kpi_unit(code, lang)), lang)
        revised = bool(frame["revised"].fillna(False).astype(bool).any()) if not frame.empty else False
        key, graph_id = f"series-{code}", f"ec-fig-{code}"
        out.append(html.Div(html.Div([
            html.Div([html.H3([data.kpi_name(code, lang),
                               html.Span(" ✎ " + t("revised", lang), className="revised") if revised else None],
                              className="sub-title mt-0"),
                      downloads.menu(PAGE, lang, table=key, graph=graph_id)], className="section-head"),
            html.Div(k.legal_basis, className="note"),
            dcc.Graph(figure=fig, config=PLAIN_CONFIG, id=graph_id),
            dcc.Store(id=downloads.store_id(PAGE, key), data=series_table(code, frame, lang).to_store()),
        ], className="panel"), className="col-12 col-lg-6 col-xxl-4"))
    return out


def series_table(code: str, frame: pd.DataFrame, lang: str) -> Table:
    """An indicator's chart points (one per publication period) as a downloadable table."""
    unit = data.kpi_unit(code, lang)
    name = data.kpi_name(code, lang)

    def day(v):
        return "" if v is None or fmt.is_na(v) else fmt.day(v)

    records = [{"period": fmt.period(r["period"], lang), "value": r["value"], "first": day(r["first_published"]),
                "last": day(r["last_published"]), "revised": t("yes", lang) if r["revised"] is True else ""}
               for r in frame.to_dict("records")]
    columns = [Column("period", t("col_period", lang)), Column("value", f"{name} ({unit})", unit),
               Column("first", t("col_first_published", lang)), Column("last", t("col_last_published", lang)),
               Column("revised", t("col_revised", lang))]
    return Table("chi-so", name, columns, records, [code], {t("f_page", lang): t("ec_title", lang),
                                                            t("f_kpi", lang): name}, code)


def _start(label):
    from metrics.periods import PeriodError, parse_label

    if label is None or fmt.is_na(label):
        return None
    try:
        return parse_label(str(label)).start
    except PeriodError:
        return None


def coverage_5g(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
                geojson: dict | None = None, geojson_key: str = "properties.unit_code"):
    """(title, figure or None) of 5G population coverage per unit for the latest published period."""
    return coverage_5g_view(con, lang, now, geojson, geojson_key)[:2]


def coverage_5g_view(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
                     geojson: dict | None = None, geojson_key: str = "properties.unit_code"):
    """coverage_5g's title and figure, and its units as a downloadable table."""
    frame = unit_frame(con, "coverage_5g", lang, now=now)
    df, label = frame
    title = t("ec_5g", lang, period=fmt.period(label, lang, long=True))
    table = ranking_table(frame, "coverage_5g", lang, page=t("ec_title", lang))
    if df.dropna(subset=["value"]).empty:
        return title, None, table
    revised = df["revised"].fillna(False).astype(bool)
    df = df.assign(name=[f"{n} ✎" if r else n for n, r in zip(df["name"], revised, strict=True)],
                   hover=["✎ " + t("revised", lang) if r else "" for r in revised])
    target = target_of(df)
    name = data.kpi_name("coverage_5g", lang)
    text = a11y.ranking_summary(df, name, fmt.period(label, lang, long=True), lang, "%", target)
    rows = a11y.ranking_table(df, lang, "%")
    if geojson is not None:
        return title, a11y.label(make_choropleth_figure(df, geojson, geojson_key, lang, "%", "higher"), text, rows,
                                 lang), table
    return title, a11y.label(make_ranking_figure(df, lang, "%", target, "higher"), text, rows, lang), table


def graph(fig, graph_id: str):
    return dcc.Graph(id=graph_id, figure=fig, config=GRAPH_CONFIG)


def targets_table(rows: list[dict], lang: str) -> Table:
    """The indicator cards as a downloadable table (the same rows the cards show)."""
    from .overview import targets_table as table

    return table(rows, lang, codes=data.indicator_codes(), page=t("ec_title", lang))
