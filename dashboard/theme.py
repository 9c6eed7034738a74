"""The visual language of the screen: the status palette (presentation.palette), its labels, fonts, chart base.

Colours come from the Okabe–Ito set, chosen to survive colour blindness and a projector; status is
never shown by colour alone: every use carries the icon (CSS class icon-<status>) or a bar pattern,
and the label.
"""

from __future__ import annotations

import plotly.graph_objects as go

from presentation import palette

from . import fmt
from .i18n import t

FONT = "'Noto Sans', 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#5f6b76"
GRID = "#e4e7eb"
CITY = "#5f6b76"
# Okabe–Ito hues, the light ones darkened to >= 3:1 on white (WCAG 1.4.11 non-text contrast):
# orange #E69F00 (2.25:1) -> #B86E00 (4.0:1), sky blue #56B4E9 (2.3:1) -> #3A8FC7 (3.5:1)
SERIES = ["#0072B2", "#5f6b76", "#B86E00", "#009E73", "#CC79A7", "#3A8FC7", "#D55E00"]
REVISED = "#B86E00"   # a revised publication's marker (a diamond, so not colour alone)
TARGET = "#111111"

# the one status palette (presentation/palette.py), shared with the PDF and Excel reports: judged statuses,
# then the ones that are not a judgement: no data, few data (a rate over fewer than the KPI's min_n: grey,
# ranked apart), partial (the period is not over: shown, labelled, never judged)
STATUSES = palette.STATUSES
JUDGED = palette.JUDGED
STATUS_COLORS = palette.colours()
# bar fill patterns: the second channel besides colour in charts
STATUS_PATTERNS = palette.patterns()
# worst first: how a league table sorts statuses
STATUS_SEVERITY = palette.severity()

TWO_TIER_START = "2025-07-01"


def status_key(status) -> str:
    return status if status in STATUS_COLORS else "no_data"


def status_label(status, lang: str, reason=None, value=None) -> str:
    """The status in words. A status that is not a judgement says why: 'no_base:2024' -> "cần số liệu 2024
    để đánh giá"; and "Chưa đủ dữ liệu / No data" never stands beside a value (`value` given and not N/A)."""
    if status is None or fmt.is_na(status):
        return t("status_none", lang)
    key = status_key(status)
    if key == "no_data":
        if isinstance(reason, str) and reason.startswith("no_base:"):
            return t("reason_no_base", lang, period=fmt.period(reason.split(":", 1)[1], lang))
        if value is not None and not fmt.is_na(value):
            return t("reason_not_judged", lang)
    return t(f"status_{key}", lang)


def row_status_label(row: dict, lang: str) -> str:
    """status_label of a metrics row (its status, status_reason and value)."""
    return status_label(row.get("status"), lang, row.get("status_reason"), row.get("value"))


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
