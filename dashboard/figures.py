"""Pure figure builders: make_*_figure(df, ...) -> go.Figure. No data access, no Dash, no globals.

Each takes a tidy frame the views build from the metrics API, plus the language (separators, words).
Every trend carries its target line, marks 1 July 2025 (start of the two-tier government) and the
baseline period; hovers show numerator and denominator where the frame has a `hover` column.
Figures are composed as plain dicts and validated once (theme.figure): see theme.layout for why.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go

from . import fmt
from .i18n import t
from .theme import (
    MUTED,
    REVISED,
    SERIES,
    STATUS_COLORS,
    STATUS_PATTERNS,
    STATUSES,
    TARGET,
    TWO_TIER_START,
    figure,
    status_key,
    status_label,
)

CHANNEL_ORDER = ("online_full", "online_partial", "postal", "in_person")
CHANNEL_COLORS = {"online_full": "#0072B2", "online_partial": "#3A8FC7", "postal": "#B86E00", "in_person": "#6b7680"}
COMPARISON = {">=": "≥", "<=": "≤"}


def _values(df: pd.DataFrame, col: str = "value") -> list:
    return [None if fmt.is_na(v) else float(v) for v in df[col]]


def _dates(series) -> list[str]:
    return [pd.Timestamp(x).strftime("%Y-%m-%d") for x in series]


def _hline(y: float, dash: str = "dash", width: float = 1.5) -> dict:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
            "line": {"color": TARGET, "width": width, "dash": dash}}


def _vline(x, color: str = TARGET, dash: str = "dash", width: float = 2) -> dict:
    return {"type": "line", "yref": "paper", "y0": 0, "y1": 1, "xref": "x", "x0": x, "x1": x,
            "line": {"color": color, "width": width, "dash": dash}}


def _note(text: str, **kw) -> dict:
    return {"text": text, "showarrow": False, "font": {"size": 11, "color": MUTED}, **kw}


def empty_figure(message: str, lang: str = "vi", height: int = 160) -> go.Figure:
    """A figure that says why it is empty (never a blank axis)."""
    note = _note(message, x=0.5, y=0.5, xref="paper", yref="paper")
    note["font"] = {"color": MUTED, "size": 14}
    return figure([], lang, height=height, xaxis={"visible": False}, yaxis={"visible": False}, annotations=[note])


def _y_range(values: list[float], target: float | None) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if target is not None:
        lo, hi = min(lo, target), max(hi, target)
    pad = (hi - lo) * 0.15 or max(abs(hi) * 0.05, 1.0)
    return lo - pad, hi + pad


def make_sparkline_figure(df: pd.DataFrame, target: float | None = None, lang: str = "vi",
                          height: int = 56) -> go.Figure:
    """A small line of `value` over `period_start`, with the target as a dashed line."""
    d = df.dropna(subset=["value"]) if not df.empty else df
    data, yaxis = [], {"visible": False}
    if not d.empty:
        x, y = _dates(d["period_start"]), _values(d)
        data = [{"type": "scatter", "x": x, "y": y, "mode": "lines", "hoverinfo": "skip",
                 "line": {"color": SERIES[0], "width": 2}},
                {"type": "scatter", "x": x[-1:], "y": y[-1:], "mode": "markers", "hoverinfo": "skip",
                 "marker": {"color": SERIES[0], "size": 6}}]
        yaxis["range"] = list(_y_range(y, target))
    shapes = [_hline(target, width=1.2)] if target is not None else []
    return figure(data, lang, height=height, margin={"l": 2, "r": 6, "t": 4, "b": 4}, xaxis={"visible": False},
                  yaxis=yaxis, shapes=shapes)


def make_sparkline_svg(df: pd.DataFrame, target: float | None = None, width: int = 300, height: int = 56) -> str:
    """The same sparkline as make_sparkline_figure, as SVG markup for the overview's cards.

    The overview is the wall screen's page: drawn as SVG its cards need no plotly.js (4.8 MB to parse,
    over a second of a small machine's main thread before anything else paints).
    """
    d = df.dropna(subset=["value"]) if not df.empty else df
    parts = []
    if not d.empty:
        y = _values(d)
        x = [pd.Timestamp(v).value for v in d["period_start"]]
        lo, hi = _y_range(y, target)
        x0, x1 = min(x), max(x)

        def px(v):
            return 3 + (width - 9) * ((v - x0) / (x1 - x0) if x1 > x0 else 1.0)

        def py(v):
            return 3 + (height - 6) * (1 - (v - lo) / (hi - lo))
        if target is not None:
            parts.append(f'<line x1="0" x2="{width}" y1="{py(target):.1f}" y2="{py(target):.1f}" stroke="{TARGET}" '
                         'stroke-width="1.2" stroke-dasharray="5 4" vector-effect="non-scaling-stroke"/>')
        points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{SERIES[0]}" stroke-width="2" '
                     'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>')
        parts.append(f'<circle cx="{px(x[-1]):.1f}" cy="{py(y[-1]):.1f}" r="3.2" fill="{SERIES[0]}"/>')
    elif target is not None:
        parts.append(f'<line x1="0" x2="{width}" y1="{height / 2}" y2="{height / 2}" stroke="{TARGET}" '
                     'stroke-width="1.2" stroke-dasharray="5 4" vector-effect="non-scaling-stroke"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" preserveAspectRatio="none">{"".join(parts)}</svg>')


def _marks(lang: str, x_min, x_max, baseline: tuple[date, date] | None) -> tuple[list, list]:
    """Shapes and notes for the two-tier start (1 July 2025) and the baseline, where they fall in the x range."""
    shapes, notes = [], []
    two_tier = pd.Timestamp(TWO_TIER_START)
    if x_min is not None and pd.Timestamp(x_min) <= two_tier <= pd.Timestamp(x_max):
        shapes.append(_vline(TWO_TIER_START, MUTED, "dot", 1))
        notes.append(_note(t("two_tier", lang), x=TWO_TIER_START, xref="x", y=0, yref="paper", xanchor="left",
                           yanchor="bottom"))
    if baseline is not None and x_min is not None:
        lo = max(pd.Timestamp(baseline[0]), pd.Timestamp(x_min))
        hi = min(pd.Timestamp(baseline[1]), pd.Timestamp(x_max))
        if lo < hi:
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": f"{lo:%Y-%m-%d}",
                           "x1": f"{hi:%Y-%m-%d}", "y0": 0, "y1": 1, "fillcolor": "#d9e6f2", "opacity": 0.45,
                           "line": {"width": 0}, "layer": "below"})
            notes.append(_note(t("baseline", lang), x=f"{lo:%Y-%m-%d}", xref="x", y=1, yref="paper",
                               xanchor="left", yanchor="top"))
    return shapes, notes


def _target(target: float | None, comparison: str | None, unit: str, lang: str) -> tuple[list, list]:
    if target is None or fmt.is_na(target):
        return [], []
    sign = COMPARISON.get(comparison or "", comparison or "")
    label = t("target_line", lang, value=f"{sign} {fmt.value(target, unit, lang)}".strip())
    note = _note(label, x=1, xref="paper", y=float(target), yref="y", xanchor="right", yanchor="bottom")
    note["font"] = {"size": 11, "color": TARGET}
    return [_hline(float(target))], [note]


def make_trend_figure(df: pd.DataFrame, lang: str = "vi", unit: str = "%", target: float | None = None,
                      comparison: str | None = ">=", baseline: tuple[date, date] | None = None,
                      height: int = 320, y_title: str | None = None) -> go.Figure:
    """Lines of `value` over `period_start`, one per `series` (the first is the focus), with target,
    two-tier mark and baseline band; `hover` (optional) adds the numerator / denominator line."""
    if df.empty or df["value"].isna().all():
        return empty_figure(t("status_no_data", lang), lang, height)
    first = df.loc[df["value"].notna(), "period_start"].min()  # months before the first value are not drawn
    df = df[df["period_start"] >= first]
    series = list(dict.fromkeys(df["series"])) if "series" in df else [""]
    data = []
    for i, name in enumerate(series):
        d = df[df["series"] == name] if "series" in df else df
        partial = d["partial"].fillna(False).astype(bool) if "partial" in d else pd.Series(False, index=d.index)
        hovers = d["hover"] if "hover" in d else pd.Series([""] * len(d), index=d.index)
        hover = [f"{fmt.period(p, lang)}{' (' + t('partial_short', lang) + ')' if part else ''}: "
                 f"{fmt.value(v, unit, lang)}" + (f"<br>{h}" if h else "")
                 for p, v, h, part in zip(d["period"], d["value"], hovers, partial, strict=True)]
        hover = pd.Series(hover, index=d.index)
        color = SERIES[i % len(SERIES)]
        done = d[~partial]
        data.append({"type": "scatter", "x": _dates(done["period_start"]), "y": _values(done), "name": name,
                     "mode": "lines+markers", "customdata": list(hover[~partial]),
                     "hovertemplate": f"<b>{name}</b><br>%{{customdata}}<extra></extra>",
                     "line": {"color": color, "width": 3 if i == 0 else 2,
                              "dash": "solid" if i == 0 else "dot"},
                     "marker": {"size": 6 if i == 0 else 4}, "connectgaps": False})
        if partial.any():
            # the period to date: a few days are not a fall or a rise; drawn apart (dashed, hollow), labelled
            part = pd.concat([done.dropna(subset=["value"]).tail(1), d[partial]])
            label = t("partial_short", lang)
            data.append({"type": "scatter", "x": _dates(part["period_start"]), "y": _values(part),
                         "name": f"{name} ({label})", "showlegend": False,
                         "mode": "lines+markers+text" if i == 0 else "lines+markers",
                         "text": ["" if j < len(part) - int(partial.sum()) else label for j in range(len(part))],
                         "textposition": "top center", "textfont": {"size": 11, "color": MUTED},
                         "customdata": list(hover[part.index]),
                         "hovertemplate": f"<b>{name}</b><br>%{{customdata}}<extra></extra>",
                         "line": {"color": color, "width": 1.5, "dash": "dash"},
                         "marker": {"size": 8 if i == 0 else 6, "symbol": "circle-open", "color": color,
                                    "line": {"width": 2, "color": color}}, "connectgaps": False})
    t_shapes, t_notes = _target(target, comparison, unit, lang)
    m_shapes, m_notes = _marks(lang, df["period_start"].min(), df["period_start"].max(), baseline)
    return figure(
        data, lang, height=height, margin={"l": 8, "r": 12, "t": 28, "b": 8},
        # the legend under the plot, below the dates: above it, two long names wrap on a phone and the
        # second row lay over the lines and the target's label
        showlegend=len(series) > 1, legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.14,
                                            "yanchor": "top"},
        hovermode="x unified" if len(series) > 1 else "closest",
        xaxis={"tickformat": "%m/%Y", "showgrid": False, "type": "date"},
        yaxis={"title": {"text": y_title if y_title is not None else unit, "font": {"size": 12}},
               "ticksuffix": "%" if unit == "%" else "", "rangemode": "tozero" if unit != "%" else "normal"},
        shapes=t_shapes + m_shapes, annotations=t_notes + m_notes)


def make_ranking_figure(df: pd.DataFrame, lang: str = "vi", unit: str = "%", target: float | None = None,
                        direction: str = "higher", height: int | None = None) -> go.Figure:
    """Horizontal bars of units (`code`, `name`, `value`, `status`), worst at the top; colour and
    pattern by status, one legend entry per status with its label; the target as a line. Units with
    `few_data` are not drawn (the caller lists them apart)."""
    d = df.dropna(subset=["value"])
    if "few_data" in d:  # a rate over a handful of dossiers is not a bar beside the others: listed apart
        d = d[~d["few_data"].fillna(False).astype(bool)]
    if d.empty:
        return empty_figure(t("status_no_data", lang), lang, height or 200)
    d = d.sort_values("value", ascending=direction == "higher", kind="stable")
    order = list(d["name"])[::-1]  # plotly draws the first category at the bottom
    statuses = [status_key(s) for s in (d["status"] if "status" in d else ["no_data"] * len(d))]
    d = d.assign(_status=statuses)
    data = []
    for s in STATUSES:
        part = d[d["_status"] == s]
        if part.empty:
            continue
        hovers = part["hover"] if "hover" in part else [""] * len(part)
        hover = [f"<b>{n}</b><br>{fmt.value(v, unit, lang)} · {status_label(s, lang)}" + (f"<br>{h}" if h else "")
                 for n, v, h in zip(part["name"], part["value"], hovers, strict=True)]
        data.append({
            "type": "bar", "x": _values(part), "y": list(part["name"]), "orientation": "h",
            "name": status_label(s, lang), "customdata": list(part["code"]),
            "text": [fmt.value(v, unit, lang, with_unit=False) for v in part["value"]], "textposition": "outside",
            "cliponaxis": False, "hovertext": hover, "hovertemplate": "%{hovertext}<extra></extra>",
            "marker": {"color": STATUS_COLORS[s], "pattern": {"shape": STATUS_PATTERNS[s], "fgcolor": "#ffffff",
                                                              "fillmode": "overlay", "size": 6, "solidity": 0.35}}})
    shapes = [_vline(float(target))] if target is not None and not fmt.is_na(target) else []
    return figure(
        data, lang, height=height or max(220, 22 * len(order) + 70), margin={"l": 8, "r": 48, "t": 36, "b": 8},
        barmode="overlay", showlegend=True, bargap=0.25,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        yaxis={"categoryorder": "array", "categoryarray": order, "tickfont": {"size": 12}},
        xaxis={"ticksuffix": "%" if unit == "%" else "", "rangemode": "tozero"}, shapes=shapes)


def make_choropleth_figure(df: pd.DataFrame, geojson: dict, featureidkey: str = "properties.unit_code",
                           lang: str = "vi", unit: str = "%", direction: str = "higher",
                           height: int | None = 460) -> go.Figure:
    """Units shaded by `value` on their own boundaries (no tiles, no internet); hover names the status."""
    d = df.dropna(subset=["value"])
    if d.empty:
        return empty_figure(t("status_no_data", lang), lang, height)
    statuses = d["status"] if "status" in d else [None] * len(d)
    hover = [f"<b>{n}</b><br>{fmt.value(v, unit, lang)} · {status_label(s, lang)}"
             for n, v, s in zip(d["name"], d["value"], statuses, strict=True)]
    # choroplethmap with the blank "white-bg" style: MapLibre draws the given shapes and fetches no tiles
    # (a "choropleth" geo subplot would fetch plotly's world topojson from its CDN even when hidden)
    lons, lats = _bounds(geojson)
    trace = {"type": "choroplethmap", "geojson": geojson, "locations": list(d["code"]), "z": _values(d),
             "featureidkey": featureidkey, "colorscale": "Blues", "reversescale": direction != "higher",
             "marker": {"line": {"color": "#ffffff", "width": 0.6}}, "hovertext": hover,
             "hovertemplate": "%{hovertext}<extra></extra>",
             "colorbar": {"ticksuffix": "%" if unit == "%" else "", "thickness": 12}}
    view = {"style": "white-bg"}
    if lons:
        view["bounds"] = {"west": min(lons), "east": max(lons), "south": min(lats), "north": max(lats)}
    return figure([trace], lang, height=height, map=view)


def _bounds(geojson: dict) -> tuple[list[float], list[float]]:
    """Longitudes and latitudes of every vertex (to fit the view to the units)."""
    lons, lats = [], []

    def walk(c):
        if c and isinstance(c[0], int | float):
            lons.append(float(c[0]))
            lats.append(float(c[1]))
        else:
            for x in c or []:
                walk(x)
    for f in geojson.get("features", []):
        walk((f.get("geometry") or {}).get("coordinates"))
    return lons, lats


def make_channel_figure(df: pd.DataFrame, lang: str = "vi") -> go.Figure:
    """100 % stacked bars of the channel mix per `series` (unit, city): `series`, `channel`, `label`, `count`."""
    if df.empty or df["count"].fillna(0).sum() == 0:
        return empty_figure(t("status_no_data", lang), lang, 160)
    totals = df.groupby("series", sort=False)["count"].sum()
    series = list(dict.fromkeys(df["series"]))[::-1]
    data = []
    for ch in CHANNEL_ORDER:
        part = df[df["channel"] == ch].set_index("series").reindex(series)
        if part["count"].fillna(0).sum() == 0:
            continue
        share = [None if fmt.is_na(c) or not totals[s] else 100.0 * float(c) / float(totals[s])
                 for s, c in zip(series, part["count"], strict=True)]
        label = part["label"].dropna().iloc[0]
        data.append({
            "type": "bar", "y": series, "x": share, "orientation": "h", "name": label,
            "marker": {"color": CHANNEL_COLORS[ch]}, "textposition": "inside", "insidetextanchor": "middle",
            "text": [fmt.percent(s, lang) if s and s >= 6 else "" for s in share],
            "customdata": [fmt.number(c, 0, lang) for c in part["count"]],
            "hovertemplate": f"<b>{label}</b><br>%{{y}}: %{{x:.1f}}% (%{{customdata}})<extra></extra>"})
    return figure(data, lang, height=70 + 46 * len(series), barmode="stack", showlegend=True,
                  legend={"orientation": "h", "y": -0.08, "yanchor": "top", "x": 0},
                  xaxis={"range": [0, 100], "ticksuffix": "%", "showgrid": False})


def make_index766_figure(df: pd.DataFrame, lang: str = "vi") -> go.Figure:
    """Decision 766 groups as bullets: score over the points that could be computed, out of the maximum.

    `df`: one row per group with `name`, `score` (None = N/A), `points_computable`, `max_points`.
    """
    if df.empty:
        return empty_figure(t("status_no_data", lang), lang, 200)
    d = df.iloc[::-1]
    names = list(d["name"])
    text = [fmt.NA if fmt.is_na(s) else f"{fmt.number(s, 2, lang)} / {fmt.number(c, 0, lang)}"
            for s, c in zip(d["score"], d["points_computable"], strict=True)]
    data = [
        {"type": "bar", "y": names, "x": [float(m) for m in d["max_points"]], "orientation": "h", "hoverinfo": "skip",
         "name": "max", "marker": {"color": "#eef1f4", "line": {"color": "#c9d0d6", "width": 1}}},
        {"type": "bar", "y": names, "x": [0 if fmt.is_na(c) else float(c) for c in d["points_computable"]],
         "orientation": "h", "hoverinfo": "skip", "name": "computable",
         "marker": {"color": "rgba(0,0,0,0)", "line": {"color": MUTED, "width": 1},
                    "pattern": {"shape": "/", "fgcolor": "#c9d0d6", "fillmode": "overlay", "size": 5}}},
        {"type": "bar", "y": names, "x": [0 if fmt.is_na(s) else float(s) for s in d["score"]], "orientation": "h",
         "marker": {"color": SERIES[0]}, "text": text, "textposition": "outside", "cliponaxis": False,
         "width": 0.45, "name": "score", "hovertemplate": "%{y}: %{text}<extra></extra>"},
    ]
    return figure(data, lang, height=60 + 44 * len(names), margin={"l": 8, "r": 70, "t": 8, "b": 8},
                  barmode="overlay", bargap=0.35,
                  xaxis={"range": [0, float(d["max_points"].max()) * 1.02], "showgrid": False})


def make_indicator_figure(df: pd.DataFrame, lang: str = "vi", unit: str = "%", target: float | None = None,
                          comparison: str | None = ">=", height: int = 230) -> go.Figure:
    """An indicator by publication period: `period_start`, `period`, `value`, `revised`, and publication
    times; revised periods are diamonds with the first and latest publication dates in the hover."""
    d = df.dropna(subset=["value"]) if not df.empty else df
    if d.empty:
        return empty_figure(t("status_no_data", lang), lang, height)
    flags = d["revised"] if "revised" in d else [False] * len(d)
    revised = [bool(r) if r is not None and not fmt.is_na(r) else False for r in flags]
    hover = []
    for i, r in enumerate(d.itertuples(index=False)):
        line = f"{fmt.period(r.period, lang)}: {fmt.value(r.value, unit, lang)}"
        if revised[i]:
            line += "<br>" + t("revised_note", lang, period=fmt.period(r.period, lang),
                               first=fmt.day(getattr(r, "first_published", None)),
                               last=fmt.day(getattr(r, "last_published", None)))
        elif not fmt.is_na(getattr(r, "last_published", None)):
            line += "<br>" + t("published", lang, date=fmt.day(r.last_published))
        hover.append(line)
    trace = {"type": "scatter", "x": _dates(d["period_start"]), "y": _values(d), "mode": "lines+markers",
             "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>",
             "line": {"color": SERIES[0], "width": 2.5},
             "marker": {"size": [11 if r else 7 for r in revised],
                        "symbol": ["diamond" if r else "circle" for r in revised],
                        "color": [REVISED if r else SERIES[0] for r in revised],
                        "line": {"color": "#ffffff", "width": 1}}}
    t_shapes, t_notes = _target(target, comparison, unit, lang)
    m_shapes, m_notes = _marks(lang, d["period_start"].min(), d["period_start"].max(), None)
    return figure([trace], lang, height=height, margin={"l": 8, "r": 12, "t": 24, "b": 8},
                  xaxis={"showgrid": False, "tickformat": "%m/%Y", "type": "date"},
                  yaxis={"ticksuffix": "%" if unit == "%" else ""},
                  shapes=t_shapes + m_shapes, annotations=t_notes + m_notes)


def months_back(today: date, n: int) -> date:
    """The first day of the month n months before today's month (the start of a trend window)."""
    first = today.replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first
