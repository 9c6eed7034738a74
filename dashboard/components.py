"""Layout pieces shared by pages: status badges, KPI cards, empty states, the ranking list, grids.

Pure functions of their arguments (rows, frames, language) returning Dash components.
"""

from __future__ import annotations

import functools
from urllib.parse import quote

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from presentation.words import localised_column, n_word  # noqa: F401  (n_word: the one rule, for the views)

from . import fmt
from .i18n import grid_locale, lang_of, t
from .theme import STATUS_SEVERITY, status_key, status_label

# no mode bar: it covers target labels on a wall screen; charts are saved from the 'Tải về' menus
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": False}
PLAIN_CONFIG = {"displaylogo": False, "displayModeBar": False}
COMPARISON = {">=": "≥", "<=": "≤"}


def status_badge(status, lang: str, small: bool = False, label: str | None = None, reason=None,
                 value=None) -> html.Span:
    """Icon + label + colour: the status never rests on colour alone. `reason` and `value` (a metrics row's
    status_reason and value) turn "no data" beside a value into what is missing (theme.status_label)."""
    key = status_key(status) if status is not None and not fmt.is_na(status) else "no_data"
    return html.Span(
        [html.Span(className=f"status-icon icon-{key}", **{"aria-hidden": "true"}),
         html.Span(label or status_label(status, lang, reason, value), className="status-label")],
        className=f"status status-{key}" + (" status-sm" if small else ""))


def row_badge(row: dict, lang: str, small: bool = False) -> html.Span:
    """status_badge of a metrics row."""
    return status_badge(row.get("status"), lang, small, reason=row.get("status_reason"), value=row.get("value"))


def n_text(row: dict, k, lang: str, numerator: str = "numerator", denominator: str = "denominator") -> str:
    """The count a rate or mean stands on: '412 / 530 hồ sơ' under a ratio, 'n = 530' under a mean or a
    median; '' for counts, catalogue, indicator and derived KPIs."""
    if k.source != "dossiers" or k.type.value not in ("ratio", "mean", "median"):
        return ""
    den = row.get(denominator)
    if den is None or fmt.is_na(den):
        return ""
    if k.type.value == "ratio" and numerator and not fmt.is_na(row.get(numerator)) and row.get(numerator) is not None:
        return fmt.hover_fraction(row.get(numerator), den, n_word(k, lang), lang)
    return t("n_eq", lang, n=fmt.number(den, 0, lang))


def partial_text(period_label, as_of, lang: str) -> str:
    """'Tháng 12/2026 — tạm tính đến 01/12' / 'December 2026 — to date, 01/12'."""
    return t("partial_period", lang, period=fmt.period(period_label, lang, long=True), date=fmt.day_month(as_of))


def period_text(row: dict, lang: str) -> str:
    """The period a judged value is for: 'Lũy kế T1–T11/2026' for a year to date, else the period."""
    if row.get("basis") == "year_to_date" and ".." in str(row.get("period") or ""):
        return t("ytd", lang, months=fmt.months_span(row["period"], lang))
    return fmt.period(row.get("period"), lang)


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


def counted(unit: str, x, lang: str, kpi=None) -> str:
    """The unit word for a count shown as 1 or −1: English says '+1 product', '1 dossier' (kpis.yaml writes
    unit_en in the plural; Vietnamese has no plural). Whole numbers only: '1.0 points' stays plural."""
    if lang != "en" or not unit or not unit.endswith("s") or x is None or fmt.is_na(x):
        return unit
    d = fmt.decimals_for(unit, x, kpi)
    return unit[:-1] if d == 0 and abs(fmt.rounded(x, d) or 0) == 1 else unit


def kpi_card(row: dict, name: str, unit: str, lang: str, href: str, spark=None, extra: str | None = None,
             card_id: str | None = None, k=None) -> dcc.Link:
    """One question per card: the value on its target's basis (the year to date for an annual target) large,
    its n, target and deadline, status (icon + word + colour), the last complete month beside it, the month
    to date labelled as partial (never judged), a sparkline of complete months with the target line, the
    value projected at the deadline. `row`: metrics.standing's row; `k`: the KPI (for its n)."""
    status = row.get("status")
    key = status_key(status) if status is not None and not fmt.is_na(status) else "no_data"
    value_text = fmt.value(row.get("value"), unit, lang, with_unit=False, kpi=k)
    suffix = "" if unit == "%" or fmt.is_na(row.get("value")) else counted(unit, row.get("value"), lang, k)
    deadline = row.get("target_deadline")
    target_line = ""
    if not fmt.is_na(row.get("target")):
        target_line = f"{t('target', lang)} {target_text(row, unit, lang)}"
        if not fmt.is_na(deadline) and deadline is not None:
            target_line += " · " + t("deadline", lang, date=fmt.day(deadline))
    n_line = n_text(row, k, lang) if k is not None else ""
    if n_line and row.get("few_data") is True:
        n_line += f" · {t('few_data_mark', lang)}"
    month_line = None
    if row.get("last_month_period") and row.get("basis") == "year_to_date":
        lm = fmt.value(row.get("last_month_value"), unit, lang, kpi=k)
        n = row.get("last_month_n")
        lm += f" ({t('n_eq', lang, n=fmt.number(n, 0, lang))})" if n is not None and not fmt.is_na(n) else ""
        month_line = t("last_month_line", lang, period=fmt.period(row["last_month_period"], lang, long=True), value=lm)
    elif not fmt.is_na(row.get("change")) and row.get("change") is not None:
        month_line = t("change_prev", lang, change=fmt.change(row["change"], counted(unit, row["change"], lang, k), lang,
                                                              kpi=k),
                       period=previous_period(row.get("period"), lang))
    else:
        month_line = t("no_change", lang)
    partial_line = None
    if row.get("current_period"):
        cur = fmt.value(row.get("current_value"), unit, lang, kpi=k)
        n = row.get("current_n")
        cur += f" ({t('n_eq', lang, n=fmt.number(n, 0, lang))})" if n is not None and not fmt.is_na(n) else ""
        partial_line = html.Div([html.Span(className="status-icon icon-partial", **{"aria-hidden": "true"}),
                                 f"{partial_text(row['current_period'], row.get('current_as_of'), lang)}: {cur}"],
                                className="kpi-partial")
    if not fmt.is_na(row.get("projected")) and row.get("projected") is not None and deadline is not None:
        projection = t("projected", lang, date=fmt.day(deadline), value=fmt.value(row["projected"], unit, lang, kpi=k))
    elif status in (None, "achieved", "few_data", "partial") or fmt.is_na(row.get("target")):
        projection = ""
    else:
        projection = t("projected_na", lang)
    body = [
        html.Div([html.Span(name, className="kpi-name"),
                  html.Span(period_text(row, lang), className="kpi-period")], className="kpi-head"),
        html.Div([html.Span([html.Span(value_text, className="kpi-value"),
                             html.Span(suffix, className="kpi-suffix") if suffix else None]),
                  row_badge(row, lang)], className="kpi-main"),
        html.Div(n_line, className="kpi-n") if n_line else None,
        html.Div(target_line, className="kpi-target"),
        html.Div(month_line, className="kpi-month"),
        partial_line,
    ]
    body = [b for b in body if b is not None]
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


def _few(df: pd.DataFrame) -> pd.Series:
    return df["few_data"].fillna(False).astype(bool) if "few_data" in df else pd.Series(False, index=df.index)


def ranking_list(df: pd.DataFrame, lang: str, unit: str, target: float | None, href: str, max_rows: int = 126,
                 few_heading: str | None = None, few_rows: int = 40, k=None):
    """The league table of units, worst first: rank, name (a link), bar, value, n, status icon + label.
    Units with few data (`few_data`) are not ranked or coloured: they follow in a group of their own under
    `few_heading`.

    `df`: code, name, value, status, n, few_data (sorted worst first by the caller, few data last). Links
    keep it keyboard-reachable.
    """
    values = [float(v) for v in df["value"] if not fmt.is_na(v)]
    top = max(values + ([float(target)] if target is not None and not fmt.is_na(target) else []) + [1e-9])
    if unit == "%":
        top = max(top, 100.0)
    few = _few(df)

    def row(i, r, apart: bool):
        v = 0 if fmt.is_na(r["value"]) else max(0.0, float(r["value"]))
        width = min(100.0, v / top * 100)
        key = "few_data" if apart else (status_key(r["status"]) if r["status"] is not None
                                        and not fmt.is_na(r["status"]) else "no_data")
        marker = None
        if target is not None and not fmt.is_na(target):
            marker = html.Span(className="rank-target", style={"left": f"{float(target) / top * 100:.2f}%"})
        n = r.get("n")
        return html.Li([
            html.Span("–" if apart else str(i), className="rank-n"),
            dcc.Link(r["name"], href=href.format(code=r["code"]), className="rank-name"),
            html.Span([html.Span(className=f"rank-bar bar-{key}", style={"width": f"{width:.2f}%"}), marker],
                      className="rank-track", **{"aria-hidden": "true"}),
            html.Span(fmt.value(r["value"], unit, lang, with_unit=False, kpi=k), className="rank-value"),
            html.Span(t("n_eq", lang, n=fmt.number(n, 0, lang)) if n is not None and not fmt.is_na(n) else "",
                      className="rank-nn"),
            status_badge("few_data" if apart else r["status"], lang, small=True, reason=r.get("status_reason"),
                         value=r["value"]),
        ], className="rank-row rank-few" if apart else "rank-row")

    rows = [row(i, r, False) for i, r in enumerate(df[~few].head(max_rows).to_dict("records"), start=1)]
    apart = df[few]
    if not apart.empty:
        rows.append(html.Li(few_heading or t("status_few_data", lang), className="rank-group"))
        rows += [row(0, r, True) for r in apart.head(few_rows).to_dict("records")]
    return html.Ol(rows, className="rank-list")


def severity(status) -> int:
    return STATUS_SEVERITY.get(status_key(status), 5) if status is not None and not fmt.is_na(status) else 8


def sort_worst_first(df: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Units ordered worst first by value (N/A last), ties by code; units with few data after all the others
    (ranked apart), in the same order among themselves."""
    d = df.copy()
    d["_few"] = _few(d)
    d["_na"] = d["value"].isna()
    d["_v"] = pd.to_numeric(d["value"], errors="coerce")
    d = d.sort_values(["_few", "_na", "_v", "code"], ascending=[True, True, direction == "higher", True],
                      kind="stable")
    return d.drop(columns=["_few", "_na", "_v"]).reset_index(drop=True)


def section(title, children, title_id: str | None = None, class_name: str = "", actions=None) -> html.Section:
    """A panel with its title; `actions` (a download menu) sit at the right of the title."""
    head = html.H2(title, id=title_id, className="section-title") if title_id else html.H2(title,
                                                                                         className="section-title")
    if actions is not None:
        head = html.Div([head, actions], className="section-head")
    return html.Section([head, children], className=f"panel {class_name}".strip())


def grid(grid_id: str, lang: str, height: str | None = "520px", page_size: int = 20, **kw) -> html.Div:
    """An AG Grid with the dashboard's defaults (sortable, filterable, resizable, local theme).

    height None: the grid grows with its rows, a page of `page_size` at a time (short lists stay short).

    The keyboard (WCAG 2.1.1, issue 14): a grid is one Tab stop, its pager the next ones. Tab enters it on a
    header cell; the arrow keys move between the header and the cells inside (Enter sorts, Alt+Down opens a
    column's filter); Tab leaves it. AG Grid's own Tab walks every header and then every cell of every row
    (a 500-row overdue list: thousands of presses to get past it): tabToNextHeader / tabToNextCell returning false
    give Tab back to the browser.
    """
    options = {"animateRows": False, "suppressCellFocus": False, "enableCellTextSelection": True,
               "ensureDomOrder": True, "tooltipShowDelay": 300, "localeText": grid_locale(lang),
               "tabToNextHeader": {"function": "false"}, "tabToNextCell": {"function": "false"},
               **kw.pop("dashGridOptions", {})}
    if height is None:
        options.update({"domLayout": "autoHeight", "pagination": True, "paginationPageSize": page_size,
                        "paginationPageSizeSelector": False})
    # AG Grid reads its words once, when it is created: the box's id carries the language, and Dash keys a
    # component by its id, so a page drawn in the other language makes a new grid with that language's pager
    return html.Div(dag.AgGrid(
        id=grid_id, rowData=kw.pop("rowData", []), columnDefs=[_fit_header(c) for c in kw.pop("columnDefs", [])],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 80, "wrapHeaderText": True,
                       "autoHeaderHeight": True,
                       **kw.pop("defaultColDef", {})},
        dashGridOptions=options, style={"height": height, "width": "100%"} if height else {"width": "100%"}, **kw),
        id=f"{grid_id}--{lang_of(lang)}", className="grid-box")


HEADER_CHAR_PX, HEADER_CHROME_PX = 8, 56  # a header letter at 14 px; padding, sort and filter icons


def _fit_header(col: dict) -> dict:
    """A column at least as wide as its header's longest word: headers wrap between words, never inside
    one ('Quarantin/ed'; the grid's CSS keeps words whole). A group's columns each."""
    if isinstance(col.get("children"), list):
        return {**col, "children": [_fit_header(c) for c in col["children"]]}
    header = col.get("headerName")
    if not isinstance(header, str):
        return col
    longest = max((len(w) for w in header.split()), default=0)
    return {**col, "minWidth": max(80, col.get("minWidth", 0), longest * HEADER_CHAR_PX + HEADER_CHROME_PX)}


def fitted_headers(columns_of):
    """For a function giving a grid's columnDefs (set by a callback, so not through `grid`): _fit_header each."""
    @functools.wraps(columns_of)
    def columns(*args, **kwargs) -> list[dict]:
        return [_fit_header(c) for c in columns_of(*args, **kwargs)]
    return columns


def num_col(field: str, header: str, lang: str, decimals: int = 0, suffix: str = "", **kw) -> dict:
    """A numeric column formatted in the browser as the language writes numbers; sorts on the number."""
    return {"field": field, "headerName": header, "type": "numericColumn", "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": f"R57num(params.value, {decimals}, '{lang}', '{suffix}')"}, **kw}


def kpi_col(code: str, lang: str, header: str | None = None, **kw) -> dict:
    """num_col for a KPI: its name, its display decimals and, for a percentage, the % as presentation.fmt
    writes it ('72,9 %', '72.9%')."""
    from . import data

    k = data.kpi(code)
    suffix = fmt.percent_sign(lang) if k.is_percent else ""
    return num_col(code, header or k.name(lang), lang, k.decimals, suffix, **kw)


def period_options(now, lang: str, months: int = 12) -> list[dict]:
    """The periods a user picks from: the month, quarter and year to date first, each labelled as partial
    with its date ("Tháng 12/2026 — tạm tính đến 01/12"), then complete months (newest first), quarters and
    years. The default is the last complete month (default_period). `now`: a datetime (or a date: midnight)."""
    from datetime import datetime as _dt

    from metrics.periods import Grain, period_at, previous

    now = now if isinstance(now, _dt) else _dt.combine(now, _dt.min.time())
    today = now.date()
    month, quarter, year = (period_at(today, g) for g in (Grain.MONTH, Grain.QUARTER, Grain.YEAR))
    complete = []
    p = previous(month)
    for _ in range(months):
        complete.append(p.label)
        p = previous(p)
    quarters, q = [], previous(quarter)
    for _ in range(4):
        quarters.append(q.label)
        q = previous(q)
    years = [previous(year).label]
    out = [{"label": partial_text(month.label, now, lang), "value": month.label}]
    out += [{"label": fmt.period(label, lang, long=True), "value": label} for label in complete]
    out.append({"label": partial_text(quarter.label, now, lang), "value": quarter.label})
    out += [{"label": fmt.period(label, lang, long=True), "value": label} for label in quarters]
    out.append({"label": partial_text(year.label, now, lang), "value": year.label})
    out += [{"label": fmt.period(label, lang, long=True), "value": label} for label in years]
    return out


def default_period(now) -> str:
    """The last complete month: what every page shows until a user picks another period."""
    from datetime import datetime as _dt

    from metrics.periods import last_complete

    now = now if isinstance(now, _dt) else _dt.combine(now, _dt.min.time())
    return last_complete(now).label


def is_partial(label, now) -> bool:
    """Whether the period `label` is not over at `now` (the month, quarter or year to date)."""
    from metrics.periods import PeriodError, parse_label

    try:
        return parse_label(str(label)).is_current(now)
    except (PeriodError, ValueError):
        return False


def unit_options(units: pd.DataFrame, lang: str, with_city: bool = False) -> list[dict]:
    """Wards and communes by name ('Phường Cửa Nam (00073)'), optionally the whole city first."""
    from . import data

    col = localised_column("name", lang)
    u = units[units["unit_type"] != "city"].sort_values(col)
    u = u[[data.sees(c) for c in u["unit_code"]]]  # only the units the viewer may see (issue 10)
    opts = [{"label": f"{n} ({c})", "value": c} for c, n in zip(u["unit_code"], u[col], strict=True)]
    return ([{"label": t("unit_city", lang), "value": "01"}] if with_city else []) + opts



def out_of_scope(lang: str):
    """The empty state of a unit outside the viewer's scope: what they may see instead (issue 10)."""
    from access import pages as words

    from . import data

    v = data.viewer()
    scope = ", ".join(data.unit_name(u, lang) for u in sorted(v.units)) or "—"
    return html.Div(html.P(words.w("out_of_scope", lang, scope=scope)), className="panel empty-state",
                    role="status")
