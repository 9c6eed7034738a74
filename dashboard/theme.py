"""The visual language in one place: status palette (colour + icon + pattern + label), fonts, chart base.

Colours come from the Okabe–Ito set, chosen to survive colour blindness and a projector; status is
never shown by colour alone: every use carries the icon (CSS class icon-<status>) or a bar pattern,
and the label.
"""

from __future__ import annotations

import plotly.graph_objects as go

from . import fmt
from .i18n import t

FONT = "'Noto Sans', 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#5f6b76"
GRID = "#e4e7eb"
CITY = "#5f6b76"
SERIES = ["#0072B2", "#5f6b76", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
TARGET = "#111111"

STATUSES = ("achieved", "on_track", "needs_acceleration", "limited", "deteriorating", "no_data")
STATUS_COLORS = {
    "achieved": "#007a5a",
    "on_track": "#0072B2",
    "needs_acceleration": "#c78a00",
    "limited": "#D55E00",
    "deteriorating": "#9b1c1c",
    "no_data": "#8a949e",
}
# bar fill patterns: the second channel besides colour in charts
STATUS_PATTERNS = {
    "achieved": "",
    "on_track": "",
    "needs_acceleration": "/",
    "limited": "x",
    "deteriorating": "x",
    "no_data": ".",
}
# worst first: how a league table sorts statuses
STATUS_SEVERITY = {"deteriorating": 0, "limited": 1, "needs_acceleration": 2, "on_track": 3, "achieved": 4,
                   "no_data": 5}

TWO_TIER_START = "2025-07-01"


def status_key(status) -> str:
    return status if status in STATUS_COLORS else "no_data"


def status_label(status, lang: str) -> str:
    if status is None or fmt.is_na(status):
        return t("status_none", lang)
    return t(f"status_{status_key(status)}", lang)


AXIS = {"gridcolor": GRID, "zeroline": False, "linecolor": "#c9d0d6", "ticks": "", "automargin": True,
        "tickfont": {"color": MUTED, "size": 12}}


def layout(lang: str, height: int | None = None, margin: dict | None = None, xaxis: dict | None = None,
           yaxis: dict | None = None, **extra) -> dict:
    """Fonts, separators for the language, quiet grid, transparent background, no plotly template.

    Figures are built as one dict and validated once: plotly's default template and its update_*()
    calls cost tens of milliseconds per figure, which a page of ten cards pays on every refresh.
    """
    out = {
        "template": "none",
        "separators": fmt.separators(lang),
        "font": {"family": FONT, "color": INK, "size": 13},
        "margin": margin or {"l": 8, "r": 8, "t": 8, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
        "showlegend": False,
        "xaxis": {**AXIS, **(xaxis or {})},
        "yaxis": {**AXIS, **(yaxis or {})},
        **extra,
    }
    if height:
        out["height"] = height
    return out


def figure(data: list, lang: str, **kw) -> go.Figure:
    """A go.Figure from trace dicts and layout() keywords, validated once."""
    return go.Figure(data=data, layout=layout(lang, **kw))
