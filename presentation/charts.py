"""Chart images as an analyst expects, the same for the dashboard's PNG/SVG downloads and the report's charts.

`for_export` dresses a figure for a file: a white background (never transparent), a title with the KPI,
its unit and period, the unit on the value axis, and a source/date line ("Nguồn: … · dữ liệu đến
dd/mm/yyyy"). `render_png` renders through kaleido (headless Chromium); `chart_session()` keeps one
browser for many charts (about 0.2 s a chart instead of about 3 s). Rendering can fail (no Chromium, a
crashed browser): render_png then returns None and the reason, and the caller says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import plotly.graph_objects as go

from . import fmt

log = logging.getLogger(__name__)

WHITE = "#ffffff"
INK = "#1b1f24"
MUTED = "#4a525a"
FONT = "Noto Sans, DejaVu Sans, sans-serif"

# kaleido keeps one browser per process: sessions are counted so nested or parallel users share it.
_session_lock = threading.Lock()
_render_lock = threading.Lock()   # one chart at a time through the shared browser
_sessions = {"n": 0}


def source_line(source: str, as_of: object, lang: str = "vi") -> str:
    """'Nguồn: <source> · dữ liệu đến 31/10/2026' / 'Source: <source> · data to 31/10/2026'."""
    from .words import t

    return t("chart_source_line", lang, source=source, date=fmt.day(as_of, lang) or fmt.NA)


def source_name(kind: str | None, lang: str = "vi") -> str:
    """The data source of a KPI's `source` (dossiers, catalogue, indicator) in words."""
    from .words import t

    if kind == "indicator":
        return t("chart_source_indicator", lang)
    if kind == "catalogue":
        return t("chart_source_catalogue", lang)
    return t("chart_source_dossiers", lang)


def title_text(kpi: str, unit: str | None, period: str | None) -> str:
    """'Tỷ lệ đúng hạn (%) — 11/2025–10/2026': the KPI, its unit, its period."""
    head = f"{kpi} ({unit})" if unit else kpi
    return f"{head} — {period}" if period else head


def for_export(fig: go.Figure, title: str, unit: str | None, period: str | None, source: str | None,
               value_axis: str = "y", width: int | None = None, height: int | None = None) -> go.Figure:
    """A copy of `fig` dressed for a file: white paper and plot, the title (KPI, unit, period) on top, the
    unit on every value axis (`value_axis` 'y' or 'x') that has no title, the source/date line under the plot."""
    out = go.Figure(fig)
    lay = out.layout
    w = width or lay.width or 1000
    h = height or lay.height or 560
    m = lay.margin
    top = max(int(m.t or 0), 64)
    bottom = int(m.b or 0) + (34 if source else 0)
    out.update_layout(paper_bgcolor=WHITE, plot_bgcolor=WHITE, width=w, height=h,
                      title={"text": title_text_html(title, unit, period), "x": 0.01, "xanchor": "left",
                             "y": 1 - 12 / h, "yanchor": "top", "font": {"size": 17, "color": INK, "family": FONT}},
                      margin={"t": top, "b": max(bottom, 40), "l": m.l, "r": m.r})
    if unit:
        for ax in (out.layout[k] for k in out.layout if k.startswith(f"{value_axis}axis")):
            if ax.title is None or not ax.title.text:
                ax.title = {"text": unit, "font": {"size": 12, "color": MUTED}}
    if source:
        out.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
                           yshift=-(max(bottom, 40) - 22), showarrow=False, align="left",
                           font={"size": 11, "color": MUTED, "family": FONT})
    return out


def title_text_html(title: str, unit: str | None, period: str | None) -> str:
    """The title as plotly writes it: the KPI bold, then unit and period."""
    rest = " · ".join(p for p in ((f"({unit})" if unit else ""), period or "") if p)
    return f"<b>{title}</b>" + (f"  <span style='font-size:13px;color:{MUTED}'>{rest}</span>" if rest else "")


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
    return _render(fig, "png", scale)


def _render(fig: go.Figure, fmt_: str, scale: float) -> tuple[bytes | None, str | None]:
    try:
        import kaleido

        opts = {"format": fmt_, "width": fig.layout.width, "height": fig.layout.height, "scale": scale}
        with _render_lock:
            png = kaleido.calc_fig_sync(fig, opts=opts)
        if not png:
            return None, "kaleido returned no image"
        return bytes(png), None
    except Exception as exc:
        log.warning("chart rendering failed: %s", exc)
        return None, f"{type(exc).__name__}: {exc}"[:300]


def render_svg(fig: go.Figure) -> tuple[bytes | None, str | None]:
    """The figure as SVG bytes, or (None, reason)."""
    return _render(fig, "svg", 1.0)
