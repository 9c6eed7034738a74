"""Layout pieces shared by pages: status badges, KPI cards, empty states, the ranking list, grids.

Pure functions of their arguments (rows, frames, language) returning Dash components.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from . import fmt
from .i18n import grid_locale, t
from .theme import STATUS_SEVERITY, status_key, status_label

# no mode bar: it covers target labels on a wall screen; charts are saved from the 'Tải về' menus
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": False}
PLAIN_CONFIG = {"displaylogo": False, "displayModeBar": False}
COMPARISON = {">=": "≥", "<=": "≤"}


def status_badge(status, lang: str, small: bool = False, label: str | None = None) -> html.Span:
    """Icon + label + colour: the status never rests on colour alone."""
    key = status_key(status) if status is not None and not fmt.is_na(status) else "no_data"
    return html.Span(
        [html.Span(className=f"status-icon icon-{key}", **{"aria-hidden": "true"}),
         html.Span(label or status_label(status, lang), className="status-label")],
        className=f"status status-{key}" + (" status-sm" if small else ""))


def empty_state(text: str, kind: str = "info") -> html.Div:
    """Says why there is nothing to show (no snapshot yet, no data for the period, ...)."""
    return html.Div([html.Span(className=f"status-icon icon-{kind}", **{"aria-hidden": "true"}), html.Span(text)],
                    className=f"empty-state empty-{kind}", role="status")


def error_state(exc: Exception, lang: str) -> html.Div:
    return empty_state(t("error", lang, error=str(exc) or type(exc).__name__), kind="warning")


def no_snapshot(lang: str) -> html.Div:
    return empty_state(t("no_snapshot", lang), kind="warning")


def target_text(row: dict, unit: str, lang: str) -> str:
    if fmt.is_na(row.get("target")):
        return ""
    sign = COMPARISON.get(row.get("target_comparison"), row.get("target_comparison") or "")
    return f"{sign} {fmt.value(row['target'], unit, lang)}".strip()


def kpi_card(row: dict, name: str, unit: str, lang: str, href: str, spark=None, extra: str | None = None,
             card_id: str | None = None) -> dcc.Link:
    """One question per card: value large, target and deadline, status (icon + word + colour), change
    since the previous period, a sparkline with the target line, the value projected at the deadline."""
    status = row.get("status")
    key = status_key(status) if status is not None and not fmt.is_na(status) else "no_data"
    value_text = fmt.value(row.get("value"), unit, lang, with_unit=False)
    suffix = "" if unit == "%" or fmt.is_na(row.get("value")) else unit
    deadline = row.get("target_deadline")
    target_line = ""
    if not fmt.is_na(row.get("target")):
        target_line = f"{t('target', lang)} {target_text(row, unit, lang)}"
        if not fmt.is_na(deadline) and deadline is not None:
            target_line += " · " + t("deadline", lang, date=fmt.day(deadline))
    if not fmt.is_na(row.get("change")) and row.get("change") is not None:
        change_line = t("change_prev", lang, change=fmt.change(row["change"], unit, lang),
                        period=previous_period(row.get("period"), lang))
    else:
        change_line = t("no_change", lang)
    if not fmt.is_na(row.get("projected")) and row.get("projected") is not None and deadline is not None:
        projection = t("projected", lang, date=fmt.day(deadline), value=fmt.value(row["projected"], unit, lang))
    elif status in (None, "achieved") or fmt.is_na(row.get("target")):
        projection = ""
    else:
        projection = t("projected_na", lang)
    body = [
        html.Div([html.Span(name, className="kpi-name"),
                  html.Span(fmt.period(row.get("period"), lang), className="kpi-period")], className="kpi-head"),
        html.Div([html.Span([html.Span(value_text, className="kpi-value"),
                             html.Span(suffix, className="kpi-suffix") if suffix else None]),
                  status_badge(status, lang)], className="kpi-main"),
        html.Div(target_line, className="kpi-target"),
        html.Div(change_line, className="kpi-change"),
    ]
    if extra:
        body.append(html.Div(extra, className="kpi-extra"))
    if spark is not None:  # SVG markup (figures.make_sparkline_svg); decorative: the numbers are in the text
        src = "data:image/svg+xml;utf8," + quote(spark)
        body.append(html.Div(html.Img(src=src, alt="", className="kpi-spark"), className="kpi-spark-box",
                             **{"aria-hidden": "true"}))
    body.append(html.Div(projection, className="kpi-projection"))
    return dcc.Link(html.Div(body, className=f"kpi-card kpi-{key}"), href=href, className="kpi-link",
                    id=card_id or f"card-{row.get('kpi')}", title=t("open_kpi", lang, name=name))


def previous_period(label, lang: str) -> str:
    """The period before `label`, written for the language ('10/2026', 'Quý 2/2026')."""
    from metrics.periods import PeriodError, parse_label, previous

    try:
        return fmt.period(previous(parse_label(str(label))).label, lang)
    except (PeriodError, ValueError):
        return ""


def ranking_list(df: pd.DataFrame, lang: str, unit: str, target: float | None, href: str, max_rows: int = 126):
    """The league table of units, worst first: rank, name (a link), bar, value, status icon + label.

    `df`: code, name, value, status (sorted worst first by the caller). Links keep it keyboard-reachable.
    """
    values = [float(v) for v in df["value"] if not fmt.is_na(v)]
    top = max(values + ([float(target)] if target is not None and not fmt.is_na(target) else []) + [1e-9])
    if unit == "%":
        top = max(top, 100.0)
    rows = []
    for i, r in enumerate(df.head(max_rows).itertuples(index=False), start=1):
        width = 0 if fmt.is_na(r.value) else max(0.0, float(r.value)) / top * 100
        key = status_key(r.status) if r.status is not None and not fmt.is_na(r.status) else "no_data"
        marker = None
        if target is not None and not fmt.is_na(target):
            marker = html.Span(className="rank-target", style={"left": f"{float(target) / top * 100:.2f}%"})
        rows.append(html.Li([
            html.Span(str(i), className="rank-n"),
            dcc.Link(r.name, href=href.format(code=r.code), className="rank-name"),
            html.Span([html.Span(className=f"rank-bar bar-{key}", style={"width": f"{width:.2f}%"}), marker],
                      className="rank-track", **{"aria-hidden": "true"}),
            html.Span(fmt.value(r.value, unit, lang, with_unit=False), className="rank-value"),
            status_badge(r.status, lang, small=True),
        ], className="rank-row"))
    return html.Ol(rows, className="rank-list")


def severity(status) -> int:
    return STATUS_SEVERITY.get(status_key(status), 5) if status is not None and not fmt.is_na(status) else 6


def sort_worst_first(df: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Units ordered worst first by value (N/A last), ties by code."""
    d = df.copy()
    d["_na"] = d["value"].isna()
    d["_v"] = pd.to_numeric(d["value"], errors="coerce")
    d = d.sort_values(["_na", "_v", "code"], ascending=[True, direction == "higher", True], kind="stable")
    return d.drop(columns=["_na", "_v"]).reset_index(drop=True)


def section(title, children, title_id: str | None = None, class_name: str = "", actions=None) -> html.Section:
    """A panel with its title; `actions` (a download menu) sit at the right of the title."""
    head = html.H2(title, id=title_id, className="section-title") if title_id else html.H2(title,
                                                                                         className="section-title")
    if actions is not None:
        head = html.Div([head, actions], className="section-head")
    return html.Section([head, children], className=f"panel {class_name}".strip())


def grid(grid_id: str, lang: str, height: str | None = "520px", page_size: int = 20, **kw) -> dag.AgGrid:
    """An AG Grid with the dashboard's defaults (sortable, filterable, resizable, local theme).

    height None: the grid grows with its rows, a page of `page_size` at a time (short lists stay short).
    """
    options = {"animateRows": False, "suppressCellFocus": False, "enableCellTextSelection": True,
               "ensureDomOrder": True, "tooltipShowDelay": 300, "localeText": grid_locale(lang),
               **kw.pop("dashGridOptions", {})}
    if height is None:
        options.update({"domLayout": "autoHeight", "pagination": True, "paginationPageSize": page_size,
                        "paginationPageSizeSelector": False})
    return dag.AgGrid(
        id=grid_id, rowData=kw.pop("rowData", []), columnDefs=kw.pop("columnDefs", []),
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 80, "wrapHeaderText": True,
                       "autoHeaderHeight": True,
                       **kw.pop("defaultColDef", {})},
        dashGridOptions=options, style={"height": height, "width": "100%"} if height else {"width": "100%"}, **kw)


def num_col(field: str, header: str, lang: str, decimals: int = 0, suffix: str = "", **kw) -> dict:
    """A numeric column formatted in the browser as the language writes numbers; sorts on the number."""
    return {"field": field, "headerName": header, "type": "numericColumn", "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": f"R57num(params.value, {decimals}, '{lang}', '{suffix}')"}, **kw}


def period_options(today: date, lang: str, months: int = 12) -> list[dict]:
    """Months (newest first), then quarters, then years: the periods a user picks from."""
    from metrics.periods import Grain, period_at, previous

    out, p = [], period_at(today, Grain.MONTH)
    for _ in range(months):
        out.append(p.label)
        p = previous(p)
    q = period_at(today, Grain.QUARTER)
    for _ in range(4):
        out.append(q.label)
        q = previous(q)
    y = period_at(today, Grain.YEAR)
    out += [y.label, previous(y).label]
    return [{"label": fmt.period(label, lang, long=True), "value": label} for label in out]


def unit_options(units: pd.DataFrame, lang: str, with_city: bool = False) -> list[dict]:
    """Wards and communes by name ('Phường Cửa Nam (00073)'), optionally the whole city first."""
    col = "name" if lang == "vi" else "name_en"
    u = units[units["unit_type"] != "city"].sort_values(col)
    opts = [{"label": f"{n} ({c})", "value": c} for c, n in zip(u["unit_code"], u[col], strict=True)]
    return ([{"label": t("unit_city", lang), "value": "01"}] if with_city else []) + opts

