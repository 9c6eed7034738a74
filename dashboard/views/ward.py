"""Ward detail: one unit's KPIs against the city and the target, trends, procedures, channels, the
Decision 766 index, and its open overdue dossiers (ids only, never personal data)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
from dash import dcc, html

import metrics
from metrics.results import Rows
from presentation import surfaces
from presentation.surfaces import SurfaceCodes
from presentation.words import localised_column

from .. import a11y, data, fmt
from ..components import (
    COMPARISON,
    counted,
    default_period,
    fitted_headers,
    is_partial,
    kpi_col,
    n_text,
    num_col,
    partial_text,
    row_badge,
    target_text,
)
from ..downloads import Column, Table
from ..figures import make_channel_figure, make_index766_figure, make_trend_figure, months_back
from ..i18n import t
from ..theme import row_status_label

# the KPI table's rows and the trend chart's choices: kpis.yaml display.show `ward` and `ward_trend`
WARD_KPIS = SurfaceCodes("ward", first="headline")
TREND_KPIS = SurfaceCodes("ward_trend", first="headline")
# the procedures grid: what is counted per procedure (dossier KPIs with a procedure breakdown)
PROCEDURE_KPIS = SurfaceCodes("ward_procedures")  # the per-procedure table's columns, most of the first first
TREND_MONTHS = 18
OVERDUE_LIMIT = 500
DUE_SOON_DAYS = 2  # the due-soon list: due within this many working days (issue 11)


def trend_frame(label: str, df: pd.DataFrame, kpi: str, lang: str) -> pd.DataFrame:
    """One series of a trend chart from a metrics.query frame: period, value, the hover fraction, and
    whether the period is partial (not over: drawn apart, labelled "tạm tính")."""
    partial = df["partial"].fillna(False).astype(bool) if "partial" in df else False
    return pd.DataFrame({
        "series": label, "period": df["period"], "period_start": pd.to_datetime(df["period_start"]),
        "value": pd.to_numeric(df["value"], errors="coerce"),
        "hover": [_fraction(r, kpi, lang) for r in df.to_dict("records")], "partial": partial})


def _fraction(row, code: str, lang: str) -> str:
    """'412 / 530 hồ sơ' under a ratio; 'n = 530' under a mean; nothing under a count; '· ít dữ liệu'
    after a rate over fewer than the KPI's min_n."""
    text = n_text(row, data.kpi(code), lang)
    if text and row.get("few_data") is True:
        text += f" · {t('few_data_mark', lang)}"
    return text


def _split() -> tuple[list[str], list[str]]:
    """The ward KPIs asked for the period, and the indicators, shown at their latest publication."""
    codes = list(WARD_KPIS)
    return [c for c in codes if not data.is_indicator(c)], [c for c in codes if data.is_indicator(c)]


def city_rows(con: duckdb.DuckDBPyConnection, period: str | None = None, now: datetime | None = None) -> dict:
    """The whole city's values of the ward KPIs (kpi -> query row), indicators at their latest publication.
    period None: the last complete month."""
    now = now or data.local_now()
    plain, indicators = _split()
    c = metrics.query(con, plain, grain=None, periods=period, now=now)
    return {**{r["kpi"]: r for r in c.to_dict("records")},
            **{k: metrics.progress(con, k, now=now) for k in indicators}}


def kpi_table(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
              now: datetime | None = None, city: dict | None = None) -> html.Div:
    """Each KPI: the unit's value (with numerator / denominator), the city's, the target, status, change.
    `city`: city_rows() when the caller already has them (they are the same for every unit)."""
    return kpi_view(con, unit, lang, period, now, city)[0]


def kpi_view(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
             now: datetime | None = None, city: dict | None = None) -> tuple[html.Div, Table]:
    """The KPI table and the same rows as a downloadable table (one query for both). period None: the last
    complete month; a period not over yet is labelled as partial with its date, and never judged."""
    now = now or data.local_now()
    plain, indicators = _split()
    u = metrics.query(con, plain, grain=None, periods=period, units=unit, now=now)
    city = city if city is not None else city_rows(con, period, now)
    rows = [metrics.progress(con, k, unit=unit, now=now) for k in indicators]
    shown = period or (u["period"].iloc[0] if not u.empty else None)
    note = None
    if shown is not None and is_partial(shown, now):
        note = html.P([html.Span(className="status-icon icon-partial", **{"aria-hidden": "true"}), " ",
                       partial_text(shown, now, lang)], className="note kpi-partial", id="wu-partial-note")
    head = html.Thead(html.Tr([html.Th(t("wu_col_kpi", lang)), html.Th(t("wu_col_unit", lang), className="num"),
                               html.Th(t("wu_col_city", lang), className="num"),
                               html.Th(t("wu_col_target", lang)), html.Th(t("wu_col_status", lang)),
                               html.Th(t("wu_col_change", lang), className="num")]))
    body, records = [], []
    for r in u.to_dict("records") + rows:
        code = r["kpi"]
        unit_word, k = data.kpi_unit(code, lang), data.kpi(code)
        cr = city.get(code) or {}
        frac = _fraction(r, code, lang)
        period_note = f" ({fmt.period(r.get('period'), lang)})" if data.is_indicator(code) else ""
        has_target = not fmt.is_na(r.get("target"))
        body.append(html.Tr([
            html.Td(dcc.Link(data.kpi_name(code, lang), href=f"/kpi?kpi={code}&unit={unit}")),
            html.Td([html.Strong(fmt.value(r.get("value"), counted(unit_word, r.get("value"), lang, k), lang, kpi=k)),
                     period_note,
                     html.Div(frac, className="muted small") if frac else None], className="num"),
            html.Td(fmt.value(cr.get("value"), unit_word, lang, kpi=k), className="num"),
            html.Td(target_text(r, unit_word, lang), className="nowrap"),
            html.Td(row_badge(r, lang, small=True) if has_target else ""),
            html.Td(fmt.change(r.get("change"), counted(unit_word, r.get("change"), lang, k), lang, kpi=k)
                    if not fmt.is_na(r.get("change")) else "",
                    className="num"),
        ], className="row-few" if r.get("few_data") is True else None))
        records.append({
            "kpi": code, "name": data.kpi_name(code, lang), "period": fmt.period(r.get("period"), lang),
            "partial": t("yes", lang) if r.get("partial") is True else "",
            "value": r.get("value"), "unit": unit_word,
            "numerator": r.get("numerator") if frac and data.kpi(code).type.value == "ratio" else None,
            "denominator": r.get("denominator") if frac else None, "n": r.get("n"),
            "few_data": t("yes", lang) if r.get("few_data") is True else "", "city": cr.get("value"),
            "comparison": COMPARISON.get(r.get("target_comparison"), "") if has_target else "",
            "target": r.get("target") if has_target else None,
            "status": row_status_label(r, lang) if has_target else "", "change": r.get("change")})
    name = data.unit_name(unit, lang)
    columns = [Column("kpi", t("col_kpi_code", lang)), Column("name", t("col_kpi", lang)),
               Column("period", t("col_period", lang)),
               Column("value", f"{name} ({unit})", unit_field="unit"),
               Column("unit", t("col_unit_word", lang)), Column("partial", t("col_partial", lang)),
               Column("numerator", t("col_numerator", lang)),
               Column("denominator", t("col_denominator", lang)), Column("n", t("col_n", lang)),
               Column("few_data", t("col_few_data", lang)),
               Column("city", t("col_city_value", lang), unit_field="unit"),
               Column("comparison", t("col_comparison", lang)),
               Column("target", t("col_target", lang), unit_field="unit"),
               Column("status", t("col_status_word", lang)),
               Column("change", t("col_change", lang), unit_field="unit")]
    table = Table("chi-tieu-don-vi", t("wu_kpis", lang), columns, records, [r["kpi"] for r in records],
                  _filters(unit, shown, lang, now), f"{unit}-{shown or ''}")
    return html.Div([note, html.Div(html.Table([head, html.Tbody(body)], className="kpi-table"),
                                    className="table-scroll")]), table


def _filters(unit: str, period: str | None, lang: str, now: datetime | None = None) -> dict[str, str]:
    now = now or data.local_now()
    shown = ""
    if period:
        shown = partial_text(period, now, lang) if is_partial(period, now) else fmt.period(period, lang, long=True)
    return {t("f_page", lang): t("nav_ward", lang), t("f_unit", lang): f"{data.unit_name(unit, lang)} ({unit})",
            t("f_period", lang): shown}


def trend_figure(con: duckdb.DuckDBPyConnection, unit: str, kpi: str, lang: str, now: datetime | None = None):
    """The unit against the whole city, month by month, with the target, the two-tier start and the baseline."""
    kpi = kpi if kpi in TREND_KPIS else TREND_KPIS[0]
    now = now or data.local_now()
    today = now.date()
    span = (months_back(today, TREND_MONTHS), today)  # the month to date is drawn apart (make_trend_figure)
    u = metrics.query(con, kpi, grain="month", periods=span, units=unit, now=now)
    c = metrics.query(con, kpi, grain="month", periods=span, now=now)
    frames = []
    for label, df in ((data.unit_name(unit, lang), u), (t("city_label", lang), c)):
        if df.empty:
            continue
        frames.append(trend_frame(label, df, kpi, lang))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["series", "period", "period_start", "value", "hover"])
    target, comparison, baseline = _target_of(u, kpi)
    measure = data.kpi_unit(kpi, lang)
    fig = make_trend_figure(df, lang, measure, target, comparison, baseline, y_title=measure)
    text = a11y.summary(df, data.kpi_name(kpi, lang), data.unit_name(unit, lang), lang, measure, target, comparison)
    return a11y.label(fig, text, a11y.trend_table(df, lang, measure), lang)


def _target_of(df: pd.DataFrame, kpi: str):
    """Target value, comparison and baseline range (dates) of a KPI from its query rows / the registry."""
    from metrics.targets import baseline_period

    reg = data.registry()
    ts = reg.targets_for(kpi)
    target = comparison = baseline = None
    target, comparison = Rows.of(df).target()  # the latest period's (typed rows: no NaN to guard)
    if target is None and ts:
        target, comparison = ts[0].value, ts[0].comparison
    if ts:
        bp = baseline_period(ts[0])
        if bp is not None:
            baseline = (bp.start, bp.end)
    return target, comparison, baseline


def procedures(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
               now: datetime | None = None) -> list[dict]:
    """Per procedure, the `ward_procedures` KPIs (received, on-time rate, mean working days, overdue
    backlog); most of the first (a count) first; a procedure with nothing in any column left out."""
    now = now or data.local_now()
    codes = list(PROCEDURE_KPIS)
    df = metrics.query(con, codes, grain=None, periods=period, units=unit, by="procedure_code", now=now)
    if df.empty:
        return []
    wide = df.pivot_table(index="procedure_code", columns="kpi", values="value", aggfunc="first", dropna=False)
    names = data.procedure_names(lang)
    sectors = dict(zip(data.procedures()["procedure_code"],
                       data.procedures()[localised_column("sector", lang)], strict=True))
    out = []
    for code, r in wide.iterrows():
        rec = {k: (None if fmt.is_na(r.get(k)) else float(r.get(k))) for k in codes}
        if not any(rec.values()):  # every column N/A or 0
            continue
        out.append({"code": code, "name": names.get(code, code), "sector": sectors.get(code, ""), **rec})
    return sorted(out, key=lambda r: (-(r[codes[0]] or 0), r["code"]))


@fitted_headers
def procedure_columns(lang: str) -> list[dict]:
    return [
        {"field": "code", "headerName": t("col_code", lang), "width": 120},
        {"field": "name", "headerName": t("col_procedure", lang), "flex": 3, "minWidth": 260, "wrapText": True,
         "autoHeight": True, "cellStyle": {"lineHeight": "1.35", "paddingTop": "4px", "paddingBottom": "4px"}},
        {"field": "sector", "headerName": t("col_sector", lang), "width": 140},
        *[kpi_col(c, lang, width=140 if data.kpi(c).decimals else 120) for c in PROCEDURE_KPIS],
    ]


def channel_figure(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
                   now: datetime | None = None):
    """The unit's channel mix beside the city's."""
    now = now or data.local_now()
    frames = []
    for label, units in ((data.unit_name(unit, lang), unit), (t("city_label", lang), None)):
        df = metrics.query(con, "received", grain=None, periods=period, units=units, by="channel", now=now)
        frames.append(pd.DataFrame({"series": label, "channel": df["channel"],
                                    "label": [t(f"channel_{c}", lang) for c in df["channel"]],
                                    "count": pd.to_numeric(df["value"], errors="coerce")}))
    df = pd.concat(frames, ignore_index=True)
    return a11y.label(make_channel_figure(df, lang), a11y.channel_summary(df, lang), a11y.channel_table(df, lang), lang)


def index_766(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
              now: datetime | None = None):
    """(figure of the five groups, component table, total line) for the unit."""
    return index_766_view(con, unit, lang, period, now)[:3]


def index_766_view(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
                   now: datetime | None = None):
    """index_766's figure, table and total line, and the component table's rows as a downloadable table."""
    now = now or data.local_now()
    period = period or default_period(now)  # metrics.index766's own default is the month to date
    df = metrics.index766(con, units=unit, period=period, now=now)
    name_col = localised_column("group_name_vi", lang)
    points = t("word_points", lang)
    columns = [Column("group", t("col_group", lang)), Column("kpi", t("col_kpi_code", lang)),
               Column("component", t("col_component", lang)), Column("rate", t("col_rate", lang), unit_field="unit"),
               Column("unit", t("col_unit_word", lang)), Column("threshold", t("col_threshold", lang), "%"),
               Column("score", t("col_score", lang), points), Column("max_points", t("col_max", lang))]
    download = Table("chi-so-766", t("wu_index", lang), columns, [], [], _filters(unit, period, lang),
                     f"{unit}-{period or ''}")
    if df.empty:
        return a11y.label(make_index766_figure(pd.DataFrame(), lang), a11y.index766_summary(None, lang)), None, "", \
            download
    groups = df[df["row_type"] == "group"]
    bullets = pd.DataFrame({
        "name": [f"{int(g)}. {n}" for g, n in zip(groups["group"], groups[name_col], strict=True)],
        "score": groups["score"], "points_computable": groups["points_computable"],
        "max_points": groups["max_points"]})
    fig = a11y.label(make_index766_figure(bullets, lang), a11y.index766_summary(bullets, lang))
    comp = df[df["row_type"] == "component"]
    rows = [html.Tr([html.Td(int(r["group"])), html.Td(data.kpi_name(r["kpi"], lang)),
                     html.Td(fmt.value(r["rate"], data.kpi_unit(r["kpi"], lang), lang), className="num"),
                     html.Td("" if fmt.is_na(r["threshold"]) else fmt.percent(r["threshold"], lang), className="num"),
                     html.Td(fmt.number(r["score"], 2, lang), className="num"),
                     html.Td(fmt.number(r["max_points"], 0, lang), className="num")])
            for r in comp.to_dict("records")]
    download.rows = [{"group": int(r["group"]), "kpi": r["kpi"], "component": data.kpi_name(r["kpi"], lang),
                      "rate": r["rate"], "unit": data.kpi_unit(r["kpi"], lang), "threshold": r["threshold"],
                      "score": r["score"], "max_points": None if fmt.is_na(r["max_points"]) else int(r["max_points"])}
                     for r in comp.to_dict("records")]
    download.kpis = list(dict.fromkeys(comp["kpi"]))
    table = html.Table([html.Thead(html.Tr([html.Th(t("col_group", lang)), html.Th(t("col_component", lang)),
                                            html.Th(t("col_rate", lang), className="num"),
                                            html.Th(t("col_threshold", lang), className="num"),
                                            html.Th(t("col_score", lang), className="num"),
                                            html.Th(t("col_max", lang), className="num")])),
                        html.Tbody(rows)], className="kpi-table")
    total = df[df["row_type"] == "total"].iloc[0]
    line = t("wu_index_total", lang, score=fmt.number(total["score"], 2, lang),
             computable=fmt.number(total["points_computable"], 0, lang))
    return fig, table, line, download


def overdue(con: duckdb.DuckDBPyConnection, unit: str, lang: str, now: datetime | None = None,
            limit: int = OVERDUE_LIMIT, procedure: str | None = None) -> tuple[list[dict], int]:
    """Open overdue dossiers, most urgent first (as metrics.overdue_list orders them), and how many there are;
    `procedure`: only that procedure's. Each row links to the dossier's detail (href)."""
    now = now or data.local_now()
    df = metrics.overdue_list(con, units=unit, now=now, limit=None)
    return _list_rows(df, lang, limit, procedure, "working_days_overdue")


def due_soon(con: duckdb.DuckDBPyConnection, unit: str, lang: str, now: datetime | None = None,
             limit: int = OVERDUE_LIMIT, procedure: str | None = None, within: int = DUE_SOON_DAYS) -> tuple[list[dict], int]:
    """Open dossiers not overdue yet, due within `within` working days, soonest first (metrics.due_soon_list),
    and how many there are; `procedure`: only that procedure's."""
    now = now or data.local_now()
    df = metrics.due_soon_list(con, units=unit, now=now, within=within, limit=None)
    return _list_rows(df, lang, limit, procedure, "working_days_left")


def _list_rows(df: pd.DataFrame, lang: str, limit: int, procedure: str | None, days: str) -> tuple[list[dict], int]:
    if procedure:
        df = df[df["procedure_code"] == procedure]
    n = len(df)
    df = df.head(limit)
    proc = localised_column("procedure_name_vi", lang)
    return [{"dossier_id": r["dossier_id"], "href": dossier_href(r["dossier_id"]),
             "procedure": r[proc] or r["procedure_code"],
             "procedure_code": r["procedure_code"], "received": fmt.moment(r["received_at"]),
             "received_sort": str(r["received_at"]), "due": fmt.moment(r["effective_due_at"]),
             "due_sort": str(r["effective_due_at"]), "days": None if fmt.is_na(r[days]) else int(r[days]),
             "status": t(f"dossier_{r['status']}", lang)}
            for r in df.to_dict("records")], n


def dossier_href(dossier_id: str) -> str:
    """The dossier detail page of one dossier (pages/dossier.py)."""
    from urllib.parse import quote

    return f"/dossier?id={quote(str(dossier_id), safe='')}"


def action_lists(con: duckdb.DuckDBPyConnection, unit: str, lang: str, procedure: str | None = None,
                 now: datetime | None = None, limit: int = OVERDUE_LIMIT) -> dict:
    """Both action lists of a unit (due soon, overdue), filtered by `procedure` when given, with their counts
    before and after the filter, and the filter's choices: every procedure with a dossier in either list
    ('Name (code) · 3 quá hạn · 1 sắp đến hạn'), most dossiers first, the chosen one always among them."""
    now = now or data.local_now()
    over_df = metrics.overdue_list(con, units=unit, now=now, limit=None)
    due_df = metrics.due_soon_list(con, units=unit, now=now, within=DUE_SOON_DAYS, limit=None)
    over, n_over = _list_rows(over_df, lang, limit, procedure, "working_days_overdue")
    due, n_due = _list_rows(due_df, lang, limit, procedure, "working_days_left")
    names = data.procedure_names(lang)
    counts: dict[str, list[int]] = {}
    for i, df in enumerate((over_df, due_df)):
        for code, k in df["procedure_code"].value_counts().items():
            counts.setdefault(str(code), [0, 0])[i] = int(k)
    if procedure and procedure not in counts:
        counts[procedure] = [0, 0]
    order = sorted(counts, key=lambda c: (-sum(counts[c]), names.get(c, c)))
    options = [{"label": t("wu_filter_option", lang, name=names.get(c, c), code=c, overdue=counts[c][0],
                           due=counts[c][1]), "value": c} for c in order]
    return {"overdue": over, "n_overdue": n_over, "n_overdue_all": len(over_df),
            "due": due, "n_due": n_due, "n_due_all": len(due_df), "options": options}


@fitted_headers
def overdue_columns(lang: str, days_header: str | None = None) -> list[dict]:
    """The overdue grid's columns; the dossier id links to its detail page (UnitLink: data.href)."""
    date_sort = {"function": "(a, b, nodeA, nodeB) => (nodeA.data.{f} < nodeB.data.{f} ? -1 : "
                             "nodeA.data.{f} > nodeB.data.{f} ? 1 : 0)"}
    return [
        {"field": "dossier_id", "headerName": t("col_dossier", lang), "minWidth": 200, "flex": 1,
         "cellRenderer": "UnitLink"},
        num_col("days", days_header or t("col_days_over", lang), lang, 0, width=150),
        {"field": "procedure", "headerName": t("col_procedure", lang), "flex": 3, "minWidth": 260,
         "tooltipField": "procedure"},
        {"field": "received", "headerName": t("col_received", lang), "width": 150,
         "comparator": {"function": date_sort["function"].replace("{f}", "received_sort")}},
        {"field": "due", "headerName": t("col_due", lang), "width": 150,
         "comparator": {"function": date_sort["function"].replace("{f}", "due_sort")}},
        {"field": "status", "headerName": t("col_dossier_status", lang), "width": 130},
    ]


@fitted_headers
def due_columns(lang: str) -> list[dict]:
    """The due-soon grid: as the overdue grid, with the working days left."""
    return overdue_columns(lang, t("col_days_left", lang))


def overdue_table(lang: str, rows: list[dict], unit: str | None) -> Table:
    """The overdue grid as a downloadable table (`rows` as the grid shows them)."""
    columns = [Column("dossier_id", t("col_dossier", lang)), Column("days", t("col_days_over", lang)),
               Column("procedure", t("col_procedure", lang)), Column("received", t("col_received", lang)),
               Column("due", t("col_due", lang)), Column("status", t("col_dossier_status", lang))]
    filters = {**_filters(unit or "", None, lang), t("f_shown", lang): t("f_as_shown", lang)}
    filters.pop(t("f_period", lang), None)
    return Table("ho-so-qua-han", t("wu_overdue_short", lang), columns, rows,
                 [surfaces.one("backlog")], filters, unit or "")


def due_soon_table(lang: str, rows: list[dict], unit: str | None) -> Table:
    """The due-soon grid as a downloadable table (`rows` as the grid shows them), as the overdue one."""
    columns = [Column("dossier_id", t("col_dossier", lang)), Column("days", t("col_days_left", lang)),
               Column("procedure", t("col_procedure", lang)), Column("received", t("col_received", lang)),
               Column("due", t("col_due", lang)), Column("status", t("col_dossier_status", lang))]
    filters = {**_filters(unit or "", None, lang), t("f_shown", lang): t("f_as_shown", lang)}
    filters.pop(t("f_period", lang), None)
    return Table("ho-so-sap-den-han", t("wu_due_short", lang), columns, rows, [], filters, unit or "")


def procedures_table(lang: str, rows: list[dict], unit: str | None, period: str | None) -> Table:
    """The procedures grid as a downloadable table (`rows` as the grid shows them)."""
    codes = list(PROCEDURE_KPIS)
    columns = [Column("code", t("col_code", lang)), Column("name", t("col_procedure", lang)),
               Column("sector", t("col_sector", lang)),
               *[Column(k, data.kpi_name(k, lang), data.kpi_unit(k, lang)) for k in codes]]
    filters = {**_filters(unit or "", period, lang), t("f_shown", lang): t("f_as_shown", lang)}
    return Table("thu-tuc", t("wu_procs", lang), columns, rows, codes, filters, f"{unit or ''}-{period or ''}")
