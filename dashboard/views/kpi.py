"""KPI detail (analysts, leaders): one KPI across time and units, its definition, formula, legal basis,
target, and why the status is what it is."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd
from dash import html

import config
import metrics
from metrics.doc import formula_text, reading_rules
from metrics.results import target_of
from presentation.words import localised

from .. import a11y, data, fmt
from ..components import COMPARISON, n_word, partial_text, period_text, row_badge, target_text
from ..downloads import Column, Table
from ..figures import make_ranking_figure, make_trend_figure, months_back
from ..i18n import t
from ..theme import row_status_label
from .overview import ranking_table, series, unit_frame
from .ward import _fraction, _target_of, trend_frame

GRAINS = ("month", "quarter", "year")
SPAN = {"month": 18, "quarter": 24, "year": 36}  # months of history per grain


def resolve(code: str | None) -> tuple[str, str | None]:
    """A known, visible KPI code and, when the asked one is unknown, a notice saying what is shown instead."""
    visible = data.visible_codes()
    if code in data.registry().kpis:
        return code, None
    fallback = data.r57_codes()[0] if data.r57_codes() else visible[0]
    return fallback, (None if not code else code)


def _method(row: dict) -> str:
    """The progress method metrics used for this row (targets.apply says; never re-derived here)."""
    return row["method"] if row.get("method") in ("cagr", "linear") else "linear"


def why(row: dict, kpi: str, lang: str) -> str:
    """The status in words: what was compared with what (docs/domain.md §5), or why nothing was judged."""
    unit = data.kpi_unit(kpi, lang)
    status = row.get("status")
    period = period_text(row, lang)
    target = target_text(row, unit, lang)
    if fmt.is_na(row.get("target")) or row.get("target") is None:
        return t("kp_no_target", lang)
    if fmt.is_na(row.get("value")) or row.get("value") is None:
        return t("why_no_value", lang, period=period)
    value = fmt.value(row["value"], unit, lang)
    if status == "few_data":
        k = data.kpi(kpi)
        return t("why_few_data", lang, value=value, period=period, n=fmt.number(row.get("n") or 0, 0, lang),
                 min_n=fmt.number(k.min_n or 0, 0, lang), word=n_word(k, lang))
    if status == "partial":
        return t("why_partial", lang, value=value, period=period)
    if status == "achieved":
        return t("why_achieved", lang, value=value, period=period, target=target)
    reason = row.get("status_reason")
    if isinstance(reason, str) and reason.startswith("no_base:"):
        return t("why_needs_base", lang, value=value, period=period,
                 base=fmt.period(reason.split(":", 1)[1], lang))
    if fmt.is_na(row.get("ratio")) or row.get("ratio") is None:
        return t("why_no_base", lang, value=value, period=period)
    text = t("why_ratio", lang, base=fmt.value(row.get("base_value"), unit, lang),
             base_period=fmt.period(row.get("base_period"), lang), value=value, period=period,
             ratio=fmt.number(row["ratio"], 2, lang), target=target, deadline=fmt.day(row.get("target_deadline")),
             projected=fmt.value(row.get("projected"), unit, lang))
    return text + " " + t(f"why_method_{_method(row)}", lang)


def header(con: duckdb.DuckDBPyConnection, kpi: str, unit: str | None, lang: str,
           now: datetime | None = None) -> html.Div:
    """The value on its target's basis (year to date, last complete month or latest publication) with its n,
    status, the last complete month and the month to date (partial) beside it, target (document, accountable
    unit, deadline), and why."""
    now = now or data.local_now()
    row = metrics.progress(con, kpi, unit=None if unit in (None, config.CITY_CODE) else unit, now=now)
    k = data.kpi(kpi)
    u = data.kpi_unit(kpi, lang)
    ts = data.registry().targets_for(kpi)
    frac = _fraction(row, kpi, lang)
    target_bits = []
    if ts:
        tg = ts[0]
        target_bits = [
            html.Dt(t("target", lang)),
            html.Dd(f"{target_text(row, u, lang) or tg.comparison + ' ' + fmt.value(tg.value, u, lang)} · "
                    + t("deadline", lang, date=fmt.day(tg.deadline))),
            html.Dt(t("kp_target_doc", lang)), html.Dd(localised(tg, "document_vi", lang)),
            html.Dt(t("kp_accountable", lang)), html.Dd(tg.accountable_unit),
        ]
        if row.get("basis"):
            target_bits += [html.Dt(t("col_basis", lang)), html.Dd(t(f"basis_{row['basis']}", lang))]
    beside = []
    if row.get("last_month_period") and row.get("basis") == "year_to_date":
        lm = {"value": row.get("last_month_value"), "denominator": row.get("last_month_n")}
        n = _fraction({**lm, "numerator": None}, kpi, lang)
        beside.append(html.Div(t("last_month_line", lang, period=fmt.period(row["last_month_period"], lang, long=True),
                                 value=fmt.value(row.get("last_month_value"), u, lang)) + (f" ({n})" if n else ""),
                               className="kpi-month"))
    if row.get("current_period"):
        cur = {"value": row.get("current_value"), "denominator": row.get("current_n"), "numerator": None}
        n = _fraction(cur, kpi, lang)
        beside.append(html.Div([html.Span(className="status-icon icon-partial", **{"aria-hidden": "true"}),
                                f"{partial_text(row['current_period'], row.get('current_as_of'), lang)}: "
                                f"{fmt.value(row.get('current_value'), u, lang)}" + (f" ({n})" if n else "")],
                               className="kpi-partial", id="kp-partial"))
    has_target = not fmt.is_na(row.get("target")) and row.get("target") is not None
    status = row.get("status") if has_target else None
    label = row_status_label(row, lang) if status else t("status_none", lang)
    return html.Div([
        html.Div([
            html.Div([html.Span(fmt.value(row.get("value"), u, lang, with_unit=False), className="kpi-value"),
                      html.Span("" if u == "%" else u, className="kpi-suffix")]),
            row_badge(row, lang) if status else None,
            html.Span(f"{data.unit_name(unit, lang)} · {period_text(row, lang)}", className="unit-meta"),
            html.Span(frac, className="unit-meta") if frac else None,
        ], className="unit-head mb-1"),
        html.Div(beside, className="mb-2") if beside else None,
        html.P(k.description(lang), className="mb-2"),
        html.Dl(target_bits, className="defs mb-2") if target_bits else html.P(t("kp_no_target", lang)),
        html.Div([html.H3(t("kp_why", lang, status=label), className="sub-title"),
                  html.P(why(row, kpi, lang), id="kp-why")]),
    ])


def trend_figure(con: duckdb.DuckDBPyConnection, kpi: str, unit: str | None, grain: str, lang: str,
                 now: datetime | None = None):
    """The KPI over time for the scope (and the city beside a unit), with target, two-tier start, baseline."""
    return trend_view(con, kpi, unit, grain, lang, now)[0]


def trend_view(con: duckdb.DuckDBPyConnection, kpi: str, unit: str | None, grain: str, lang: str,
               now: datetime | None = None):
    """trend_figure's figure and the points it draws as a downloadable table."""
    grain = grain if grain in GRAINS else "month"
    now = now or data.local_now()
    today = now.date()  # the period to date is drawn apart, labelled (make_trend_figure)
    start = months_back(today, SPAN[grain]) if grain != "year" else date(today.year - 2, 1, 1)
    scopes = [(data.unit_name(unit, lang), unit)] if unit not in (None, config.CITY_CODE) else []
    scopes.append((t("city_label", lang), None))
    frames, records = [], []
    last = pd.DataFrame()
    unit_word = data.kpi_unit(kpi, lang)
    for label, scope in scopes:
        if data.is_indicator(kpi) and grain == "month":
            df = series(con, [kpi], now=now, months=SPAN[grain], units=scope)
        else:
            df = metrics.query(con, kpi, grain=grain, periods=(start, today), units=scope, now=now)
        if last.empty:
            last = df
        if df.empty:
            continue
        frames.append(trend_frame(label, df, kpi, lang))
        records += [{"series": label, "period": fmt.period(r.get("period"), lang),
                     "partial": t("yes", lang) if r.get("partial") is True else "", "value": r.get("value"),
                     "numerator": r.get("numerator"), "denominator": r.get("denominator"), "n": r.get("n"),
                     "few_data": t("yes", lang) if r.get("few_data") is True else ""}
                    for r in df.to_dict("records")]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["series", "period", "period_start", "value", "hover"])
    target, comparison, baseline = _target_of(last, kpi)
    fig = make_trend_figure(df, lang, unit_word, target, comparison, baseline, height=340)
    name = data.kpi_name(kpi, lang)
    a11y.label(fig, a11y.summary(df, name, data.unit_name(unit, lang), lang, unit_word, target, comparison),
               a11y.trend_table(df, lang, unit_word), lang)
    columns = [Column("series", t("col_series", lang)), Column("period", t("col_period", lang)),
               Column("partial", t("col_partial", lang)),
               Column("value", f"{name} ({unit_word})", unit_word), Column("numerator", t("col_numerator", lang)),
               Column("denominator", t("col_denominator", lang)), Column("n", t("col_n", lang)),
               Column("few_data", t("col_few_data", lang))]
    filters = {t("f_page", lang): t("nav_kpi", lang), t("f_kpi", lang): name,
               t("f_unit", lang): data.unit_name(unit, lang), t("f_grain", lang): t(f"grain_{grain}", lang)}
    if target is not None:
        filters[t("col_target", lang)] = f"{COMPARISON.get(comparison, comparison or '')} {fmt.value(target, unit_word, lang)}"
    table = Table("dien-bien", t("kp_trend", lang, kpi=name), columns, records, [kpi], filters,
                  f"{kpi}-{unit or '01'}-{grain}")
    return fig, table


def units_figure(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, now: datetime | None = None):
    """All wards and communes for the last complete month (or latest publication), worst at the top; None
    if the KPI has no per-unit figures. Returns (figure or None, period label)."""
    if not data.has_units(kpi):
        return None, None
    return units_view(con, kpi, lang, now)[:2]


def units_view(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, now: datetime | None = None):
    """units_figure's (figure or None, period label), its units as a downloadable table (or None), and the
    units with few data, which are not drawn as bars: a line naming them with their n (or None)."""
    if not data.has_units(kpi):
        return None, None, None, None
    frame = unit_frame(con, kpi, lang, now=now or data.local_now())
    df, label = frame
    if df.empty:
        return None, label, None, None
    table = ranking_table(frame, kpi, lang, page=t("nav_kpi", lang))
    df = df.assign(hover=[_fraction(r, kpi, lang) for r in df.to_dict("records")])
    target = target_of(df)
    few = df[df["few_data"].astype(bool)]
    apart = None
    if not few.empty:
        k = data.kpi(kpi)
        names = ", ".join(f"{r['name']} ({t('n_eq', lang, n=fmt.number(r['n'], 0, lang))})"
                          for r in few.to_dict("records"))
        apart = html.P([html.Span(className="status-icon icon-few_data", **{"aria-hidden": "true"}), " ",
                        t("few_data_not_drawn", lang, n=fmt.number(k.min_n or 0, 0, lang), word=n_word(k, lang),
                          units=names)], className="few-list", id="kp-few")
    fig = make_ranking_figure(df, lang, data.kpi_unit(kpi, lang), target, data.kpi(kpi).direction)
    drawn = df[~df["few_data"].astype(bool)]  # the bars: units with few data are listed apart (`apart`)
    comparison = data.registry().targets_for(kpi)[0].comparison if data.registry().targets_for(kpi) else ">="
    a11y.label(fig, a11y.ranking_summary(drawn, data.kpi_name(kpi, lang), fmt.period(label, lang, long=True), lang,
                                         data.kpi_unit(kpi, lang), target, comparison),
               a11y.ranking_table(drawn, lang, data.kpi_unit(kpi, lang)), lang)
    return fig, label, table, apart


def definition(kpi: str, lang: str) -> html.Div:
    """Definition, formula, unit, direction, legal basis; how dossiers are counted (cohort, supplement days,
    withdrawn and waiting dossiers, the small-n rule), read from the registry; the SQL that defines it."""
    k = data.kpi(kpi)
    formula = formula_text(data.registry(), kpi)
    try:
        sql = metrics.explain(kpi)
    except Exception as exc:  # an unexplainable KPI still shows its definition
        sql = f"-- {exc}"
    rules = reading_rules(kpi, lang)  # metrics owns how a KPI counts; the page shows it
    return html.Div([
        html.Dl([
            html.Dt(t("kp_definition", lang)), html.Dd(k.description(lang)),
            html.Dt(t("kp_formula", lang)), html.Dd(html.Code(formula)),
            html.Dt(t("kp_unit_of", lang)), html.Dd(data.kpi_unit(kpi, lang)),
            html.Dt(t("kp_direction", lang)), html.Dd(t(f"dir_{k.direction}", lang)),
            html.Dt(t("kp_legal", lang)), html.Dd(k.legal_basis),
            *[part for aspect, words in rules for part in (html.Dt(aspect), html.Dd(words))],
        ], className="defs mb-3", id="kp-rules"),
        html.Details([html.Summary(t("kp_sql", lang)), html.Pre(sql, className="sql")]),
    ])


