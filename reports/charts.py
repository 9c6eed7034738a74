"""Report charts: pure figure builders (plotly) and PNG rendering through kaleido.

Rendering can fail (no Chromium, a crashed browser): `render_png` then returns None and the reason,
and the report is made without the chart and says so. A `chart_session()` keeps one headless
browser for many charts (about 0.2 s a chart instead of about 3 s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from presentation.fmt import separators

from .data import TREND_KPIS, TWO_TIER_START, ReportData
from .fmt import fmt_pct, is_na, month_label
from .text import t

log = logging.getLogger(__name__)

UNIT_COLOUR, CITY_COLOUR, TARGET_COLOUR, HIGHLIGHT = "#1f5fa8", "#8c8c8c", "#b2182b", "#e08214"
FEW_COLOUR = "#9e9e9e"   # units with few data: grey open dots after the ranked ones, never a status colour
FONT = "Noto Sans, DejaVu Sans, sans-serif"
RENDER_TIMEOUT_S = 60

# kaleido keeps one browser per process: sessions are counted so nested or parallel users share it.
_session_lock = threading.Lock()
_render_lock = threading.Lock()   # one chart at a time through the shared browser
_sessions = {"n": 0}


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
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, legend={"orientation": "h", "y": -0.08},
                      width=1000, height=600)
    for a in fig.layout.annotations:
        if a.text in titles or (a.text or "").endswith(f"({t('no_target', lang)})"):
            a.font = {"size": 13}
    return fig


def make_ranking_figure(data: ReportData, kpi: str) -> go.Figure:
    """Every ward and commune ranked, as a dot plot in two columns (ranks 1-63 | 64-126), best at the top.

    Dots, not bars: the axis need not start at 0, so differences between 95 % and 99 % stay visible.
    The report's ward is highlighted; the city's value and the target are lines. Units with few data
    (fewer dossiers than the KPI's min_n) come after the ranked ones, unranked, as grey open dots.
    """
    lang = data.lang
    # ranked units first, best at the top; units with few data after them, apart, grey and unranked
    ranked = sorted((r for r in data.ranking.rows if r[kpi] is not None and not r.get(f"few_{kpi}")),
                    key=lambda r: (-r[kpi], r["unit_code"]))
    few = sorted((r for r in data.ranking.rows if r[kpi] is not None and r.get(f"few_{kpi}")),
                 key=lambda r: (-r[kpi], r["unit_code"]))
    rows = ranked + few
    half = (len(rows) + 1) // 2
    parts = [rows[:half], rows[half:]]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.3)
    lo = min((float(r[kpi]) for r in rows), default=0.0)
    city = data.trend[(data.trend["kpi"] == kpi) & (data.trend["period"] == data.month)
                      & (data.trend["series"] == ("unit" if data.is_city else "city"))]
    city_v = None if city.empty or is_na(city["value"].iloc[0]) else float(city["value"].iloc[0])
    tgt = None if city.empty or is_na(city["target"].iloc[0]) else float(city["target"].iloc[0])
    for c, part in enumerate(parts, 1):
        if not part:
            continue
        first = (c - 1) * half
        labels = [f"{first + i}. {r['unit_name']} ({r['unit_code']})" if first + i <= len(ranked)
                  else f"– {r['unit_name']} ({r['unit_code']}, {t('few_data', lang)})" for i, r in enumerate(part, 1)]
        apart = [first + i > len(ranked) for i in range(1, len(part) + 1)]
        fig.add_trace(go.Scatter(
            x=[float(r[kpi]) for r in part], y=labels, mode="markers",
            marker={"size": [11 if r["highlight"] else 7 for r in part],
                    "color": [HIGHLIGHT if r["highlight"] else (FEW_COLOUR if a else UNIT_COLOUR)
                              for r, a in zip(part, apart, strict=True)],
                    "symbol": [("diamond" if r["highlight"] else "circle") + ("-open" if a else "")
                               for r, a in zip(part, apart, strict=True)]},
            hovertemplate="%{y}: %{x:.1f} %<extra></extra>", showlegend=False), row=1, col=c)
        fig.update_yaxes(autorange="reversed", tickfont={"size": 12}, row=1, col=c)
        for v, colour, dash in ((city_v, CITY_COLOUR, "dot"), (tgt, TARGET_COLOUR, "dash")):
            if v is not None:
                fig.add_vline(x=v, line={"color": colour, "dash": dash, "width": 1.5}, row=1, col=c)
    hi = 100.0 if tgt is None or tgt <= 100 else tgt
    fig.update_xaxes(ticksuffix=" %", range=[max(0.0, lo - 2), hi + 1], side="top", showgrid=True)
    legend = []
    if city_v is not None:
        legend.append(f"┈ {t('city_line', lang)} {fmt_pct(city_v, lang)} %")
    if tgt is not None:
        legend.append(f"╌ {t('report_target_line', lang)} {tgt:g} %")
    title = f"{data.kpi_names[kpi]} — {month_label(data.month)}"
    fig.update_layout(template="plotly_white", font={"family": FONT, "size": 12}, separators=_separators(lang),
                      title={"text": title + ("<br><sup>" + "   ".join(legend) + "</sup>" if legend else ""),
                             "font": {"size": 16}},
                      margin={"l": 230, "r": 15, "t": 110, "b": 15}, width=1000, height=1420)
    return fig


@contextmanager
def chart_session() -> Iterator[None]:
    """Keep one headless browser for the charts rendered inside (falls back to one browser per chart)."""
    for name in ("kaleido", "choreographer"):   # a log line per browser tab is noise
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
    joined = False
    try:
        import kaleido

        with _session_lock:
            if _sessions["n"] == 0:
                kaleido.start_sync_server(silence_warnings=True)
            _sessions["n"] += 1
            joined = True
    except Exception as exc:  # no kaleido or no browser: render_png reports it per chart
        log.warning("chart session not started: %s", exc)
    try:
        yield
    finally:
        if joined:
            with _session_lock:
                _sessions["n"] -= 1
                if _sessions["n"] == 0:
                    try:
                        kaleido.stop_sync_server(silence_warnings=True)
                    except Exception as exc:  # stopping a dead browser: nothing left to clean
                        log.debug("kaleido stop: %s", exc)


def render_png(fig: go.Figure, scale: float = 2.0) -> tuple[bytes | None, str | None]:
    """The figure as PNG bytes, or (None, reason) when kaleido or Chromium fails."""
    try:
        import kaleido

        opts = {"format": "png", "width": fig.layout.width, "height": fig.layout.height, "scale": scale}
        with _render_lock:
            png = kaleido.calc_fig_sync(fig, opts=opts)
        if not png:
            return None, "kaleido returned no image"
        return bytes(png), None
    except Exception as exc:
        log.warning("chart rendering failed: %s", exc)
        return None, f"{type(exc).__name__}: {exc}"[:300]


def build_charts(data: ReportData, render: bool = True) -> list[Chart]:
    """The report's charts (trend, on-time ranking, online-share ranking) rendered to PNG where possible."""
    lang = data.lang
    out = []
    specs = [("trend", t("sec_trend", lang), lambda: make_trend_figure(data))]
    for kpi in ("on_time_rate", "online_share"):
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

