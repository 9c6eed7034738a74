"""Economy & infrastructure: the indicator KPIs (digital economy, ST&DT, TFP, 5G, ...) with targets and
revisions marked, and 5G coverage per unit."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
from dash import dcc, html

from .. import data, fmt
from ..components import GRAPH_CONFIG, PLAIN_CONFIG
from ..figures import make_choropleth_figure, make_indicator_figure, make_ranking_figure
from ..i18n import t
from .overview import cards as kpi_cards
from .overview import series, unit_frame
from .overview import target_rows as overview_targets

HISTORY_MONTHS = 36


def target_rows(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[dict]:
    return overview_targets(con, now=now, codes=data.indicator_codes())


def cards(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
          rows: list[dict] | None = None) -> list:
    return kpi_cards(con, lang, now=now, codes=data.indicator_codes(), rows=rows)


def series_panels(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None) -> list:
    """One small chart per indicator, by publication period; revised periods are marked."""
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
        revised = bool(frame["revised"].fillna(False).astype(bool).any()) if not frame.empty else False
        out.append(html.Div(html.Div([
            html.H3([data.kpi_name(code, lang),
                     html.Span(" ✎ " + t("revised", lang), className="revised") if revised else None],
                    className="sub-title mt-0"),
            html.Div(k.legal_basis, className="note"),
            dcc.Graph(figure=fig, config=PLAIN_CONFIG, id=f"ec-fig-{code}"),
        ], className="panel"), className="col-12 col-lg-6 col-xxl-4"))
    return out


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
    df, label = unit_frame(con, "coverage_5g", lang, now=now)
    title = t("ec_5g", lang, period=fmt.period(label, lang, long=True))
    if df.dropna(subset=["value"]).empty:
        return title, None
    revised = df["revised"].fillna(False).astype(bool)
    df = df.assign(name=[f"{n} ✎" if r else n for n, r in zip(df["name"], revised, strict=True)],
                   hover=["✎ " + t("revised", lang) if r else "" for r in revised])
    target = None if df["target"].isna().all() else float(df["target"].dropna().iloc[0])
    if geojson is not None:
        return title, make_choropleth_figure(df, geojson, geojson_key, lang, "%", "higher")
    return title, make_ranking_figure(df, lang, "%", target, "higher")


def graph(fig, graph_id: str):
    return dcc.Graph(id=graph_id, figure=fig, config=GRAPH_CONFIG)
