"""Report charts: pure figure builders (plotly) and PNG rendering through kaleido.

Rendering can fail (no Chromium, a crashed browser): `render_png` then returns None and the reason,
and the report is made without the chart and says so. A `chart_session()` keeps one headless
browser for many charts (about 0.2 s a chart instead of about 3 s).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.registry import get_registry
from presentation.charts import chart_session, for_export, render_png, source_line, source_name  # noqa: F401
from presentation.fmt import separators
from presentation.ranking import rank_records

from .data import TREND_KPIS, TWO_TIER_START, ReportData
from .fmt import fmt_pct, is_na, month_label
from .text import t

log = logging.getLogger(__name__)

UNIT_COLOUR, CITY_COLOUR, TARGET_COLOUR, HIGHLIGHT = "#1f5fa8", "#8c8c8c", "#b2182b", "#e08214"
RANK_COLUMNS = 3         # the ranking dot plot: three columns of ~42 units, on a landscape page
FEW_COLOUR = "#9e9e9e"   # units with few data: grey open dots after the ranked ones, never a status colour
FONT = "Noto Sans, DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    png: bytes | None
    error: str | None = None
    width_px: int = 1000
    height_px: int = 560


def _separators(lang: str) -> str:
    return separators(lang)   # plotly: decimal point then thousands separator, as Babel's locale has them


def make_trend_figure(data: ReportData) -> go.Figure:
    """2×2 small multiples: 12 months of each main KPI, the target as a dashed line, the city beside a ward."""
    lang = data.lang
    df = data.trend
    titles = [data.kpi_names[k] for k in TREND_KPIS]
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.16, horizontal_spacing=0.09)
    for i, kpi in enumerate(TREND_KPIS):
        row, col = i // 2 + 1, i % 2 + 1
        sub = df[df["kpi"] == kpi]
        for series, colour, name, dash in (("unit", UNIT_COLOUR, data.unit_name, "solid"),
                                           ("city", CITY_COLOUR, t("city_line", lang), "dot")):
            s = sub[sub["series"] == series]
            if s.empty:
                continue
            y = [None if is_na(v) else float(v) for v in s["value"]]
            fig.add_trace(go.Scatter(x=[month_label(p) for p in s["period"]], y=y, mode="lines+markers",
                                     name=name, legendgroup=series, showlegend=i == 0,
                                     line={"color": colour, "dash": dash, "width": 2.5 if series == "unit" else 1.5}),
                          row=row, col=col)
        if all(is_na(v) for v in sub.loc[sub["series"] == "unit", "value"]):
            fig.add_annotation(text=t("no_data", lang), showarrow=False, font={"size": 13, "color": "#777"},
                               xref=f"x{i + 1 if i else ''} domain", yref=f"y{i + 1 if i else ''} domain", x=0.5, y=0.75)
        tgt = next((v for v in sub["target"] if not is_na(v)), None)
        if tgt is not None:
            fig.add_hline(y=float(tgt), line={"color": TARGET_COLOUR, "dash": "dash", "width": 1.5}, row=row, col=col,
                          annotation_text=f"{t('report_target_line', lang)} {float(tgt):g} %",
                          annotation_position="bottom right", annotation_font={"size": 10, "color": TARGET_COLOUR})
        else:
            fig.layout.annotations[i].text = f"{titles[i]} ({t('no_target', lang)})"
        starts = list(sub["period_start"])
        if starts and min(starts) <= TWO_TIER_START <= max(starts):
            x = month_label(f"{TWO_TIER_START:%Y-%m}")
            fig.add_vline(x=x, line={"color": "#555", "dash": "dot", "width": 1}, row=row, col=col)
        fig.update_yaxes(ticksuffix=" %", row=row, col=col)
        fig.update_xaxes(tickangle=-45, tickfont={"size": 10}, row=row, col=col)
    fig.update_layout(template="plotly_white", font={"family": FONT, "size": 12}, separators=_separators(lang),
                      margin={"l": 50, "r": 20, "t": 80, "b": 70}, legend={"orientation": "h", "y": -0.13},
                      width=1000, height=620)
    for a in fig.layout.annotations:
        if a.text in titles or (a.text or "").endswith(f"({t('no_target', lang)})"):
            a.font = {"size": 13}
    periods = sorted(df["period"].dropna().unique())
    span = f"{month_label(periods[0], lang)}–{month_label(periods[-1], lang)}" if periods else month_label(data.month)
    return for_export(fig, f"{t('sec_trend', lang)} — {data.unit_name}", "%", span, _source(data))


def make_ranking_figure(data: ReportData, kpi: str) -> go.Figure:
    """Every ward and commune ranked, as a dot plot in three columns of about 42, in the dashboard's order:
    worst first (rank 1 = needs the most attention, presentation.ranking), as a landscape page.

    Dots, not bars: the axis need not start at 0, so differences between 95 % and 99 % stay visible.
    The report's ward is highlighted; the city's value and the target are lines. Units with few data
    (fewer dossiers than the KPI's min_n) come after the ranked ones, unranked, as grey open dots.
    """
    lang = data.lang
    # the dashboard's order (presentation.ranking): worst first, few data apart after the ranked, no data left out
    k = get_registry().kpi(kpi)
    ordered = [r for r in rank_records(data.ranking.rows, k.direction, value=kpi, few=f"few_{kpi}", code="unit_code")
               if r["group"] != "no_data"]
    n_ranked = sum(1 for r in ordered if r["group"] == "ranked")
    per = (len(ordered) + RANK_COLUMNS - 1) // RANK_COLUMNS or 1
    parts = [ordered[i * per:(i + 1) * per] for i in range(RANK_COLUMNS)]
    fig = make_subplots(rows=1, cols=RANK_COLUMNS, horizontal_spacing=0.2)
    lo = min((float(r[kpi]) for r in ordered), default=0.0)
    city = data.trend[(data.trend["kpi"] == kpi) & (data.trend["period"] == data.month)
                      & (data.trend["series"] == ("unit" if data.is_city else "city"))]
    city_v = None if city.empty or is_na(city["value"].iloc[0]) else float(city["value"].iloc[0])
    tgt = None if city.empty or is_na(city["target"].iloc[0]) else float(city["target"].iloc[0])
    for c, part in enumerate(parts, 1):
        if not part:
            continue
        labels = [f"{r['rank']}. {r['unit_name']} ({r['unit_code']})" if r["group"] == "ranked"
                  else f"– {r['unit_name']} ({r['unit_code']}, {t('few_data', lang)})" for r in part]
        apart = [r["group"] != "ranked" for r in part]
        fig.add_trace(go.Scatter(
            x=[float(r[kpi]) for r in part], y=labels, mode="markers",
            marker={"size": [11 if r["highlight"] else 7 for r in part],
                    "color": [HIGHLIGHT if r["highlight"] else (FEW_COLOUR if a else UNIT_COLOUR)
                              for r, a in zip(part, apart, strict=True)],
                    "symbol": [("diamond" if r["highlight"] else "circle") + ("-open" if a else "")
                               for r, a in zip(part, apart, strict=True)]},
            hovertemplate="%{y}: %{x:.1f} %<extra></extra>", showlegend=False), row=1, col=c)
        fig.update_yaxes(autorange="reversed", tickfont={"size": 11}, row=1, col=c)
        for v, colour, dash in ((city_v, CITY_COLOUR, "dot"), (tgt, TARGET_COLOUR, "dash")):
            if v is not None:
                fig.add_vline(x=v, line={"color": colour, "dash": dash, "width": 1.5}, row=1, col=c)
    hi = 100.0 if tgt is None or tgt <= 100 else tgt
    fig.update_xaxes(ticksuffix=" %", range=[max(0.0, lo - 2), hi + 1], side="top", showgrid=True)
    legend = [t("report_rank_worst_first", lang, n=n_ranked)]
    if city_v is not None:
        legend.append(f"┈ {t('city_line', lang)} {fmt_pct(city_v, lang)} %")
    if tgt is not None:
        legend.append(f"╌ {t('report_target_line', lang)} {tgt:g} %")
    fig.add_annotation(text="   ".join(legend), xref="paper", yref="paper", x=0, y=1, yshift=44, xanchor="left",
                       yanchor="bottom", showarrow=False, font={"size": 12, "color": "#4a525a"})
    fig.update_layout(template="plotly_white", font={"family": FONT, "size": 12}, separators=_separators(lang),
                      margin={"l": 215, "r": 15, "t": 120, "b": 10}, width=1600, height=1000)
    for i in range(2, RANK_COLUMNS + 1):  # room for each column's unit names
        dom = fig.layout[f"xaxis{i}"].domain
        fig.layout[f"xaxis{i}"].domain = (dom[0] + 0.06 * (i - 1) / RANK_COLUMNS, dom[1])
    return for_export(fig, data.kpi_names[kpi], k.unit_in(lang), month_label(data.month, lang),
                      _source(data), value_axis="x")


def _source(data: ReportData) -> str:
    """'Nguồn: … · dữ liệu đến 31/10/2026': the last day the report's month covers."""
    return source_line(source_name("dossiers", data.lang), data.as_of - timedelta(seconds=1), data.lang)


def build_charts(data: ReportData, render: bool = True) -> list[Chart]:
    """The report's charts (the trend, one ranking per ranked rate: the headline's first, kpis.yaml
    display.show `ranking`) rendered to PNG where possible."""
    from .data import ranked_kpis

    lang = data.lang
    out = []
    specs = [("trend", t("sec_trend", lang), lambda: make_trend_figure(data))]
    for kpi in ranked_kpis():
        specs.append((f"ranking_{kpi}", f"{t('sec_ranking', lang)}: {data.kpi_names[kpi]}",
                      lambda k=kpi: make_ranking_figure(data, k)))
    for key, title, make in specs:
        try:
            fig = make()
        except Exception as exc:  # a figure that cannot be built must not stop the report
            log.exception("chart %s could not be built", key)
            out.append(Chart(key, title, None, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        png, err = render_png(fig) if render else (None, "rendering disabled")
        out.append(Chart(key, title, png, err, int(fig.layout.width), int(fig.layout.height)))
    return out

