"""Overview for city leaders: every Resolution 57 target as a card, the ward ranking, what changed since yesterday."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import duckdb
import pandas as pd
from dash import dcc, html

import config
import metrics
from metrics.results import target_of
from presentation.ranking import rank_frame, target_row
from presentation.surfaces import SurfaceCodes
from presentation.words import mid_sentence

from .. import a11y, data, fmt, ids
from ..components import (
    COMPARISON,
    GRAPH_CONFIG,
    counted,
    empty_state,
    kpi_card,
    n_word,
    partial_text,
    period_text,
    ranking_list,
    row_badge,
)
from ..downloads import Column, Table
from ..figures import make_choropleth_figure, make_sparkline_svg, months_back
from ..i18n import t
from ..theme import row_status_label, status_label

# KPIs a leader can rank the units by: those with `ranking` in kpis.yaml's display.show (the default first)
RANK_KPIS = SurfaceCodes("ranking", first="headline")  # the default ranking first
SPARK_MONTHS = 18
RANK_ROWS = 30  # the worst 30 (a wall screen shows about 15); every unit is on the KPI page
FEW_ROWS = 15   # then at most 15 of the units with few data, apart, under their heading
OVERDUE_TOP = 5


def _now(now: datetime | None) -> datetime:
    return now or data.local_now()


def target_rows(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                codes: list[str] | None = None) -> list[dict]:
    """Where each target stands, as metrics.standing says: on its target's basis (the year to date of
    complete months for an annual target, the latest publication for indicators), with the last complete
    month and the month to date (partial, never judged) beside it."""
    codes = codes or data.r57_codes()
    return metrics.standing(con, codes, now=_now(now))


def earlier_rows(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                 codes: list[str] | None = None) -> list[dict]:
    """The targets as they stood one complete month earlier: metrics.standing at the start of the last
    complete month (the year to date through the month before it, that month beside it). Statuses change
    only between complete periods, so this is what "what changed" compares with."""
    from metrics.periods import last_complete

    start = datetime.combine(last_complete(_now(now)).start, time())
    return target_rows(con, now=start, codes=codes)


def series(con: duckdb.DuckDBPyConnection, codes: list[str], now: datetime | None = None,
           months: int = SPARK_MONTHS, units=None) -> pd.DataFrame:
    """Monthly values of `codes` over the last `months` complete months (the month to date is left out:
    a few days are not a point of a trend); an indicator keeps one point per publication period (its
    month rows repeat the quarter or year that contains them)."""
    from metrics.periods import last_complete

    last = last_complete(_now(now))
    df = metrics.query(con, codes, grain="month", periods=(months_back(last.start, months - 1), last.start),
                       units=units, now=_now(now))
    if df.empty:
        return df
    src = df["source_period"]
    keep = src.isna() | ~df.assign(_s=src).duplicated(subset=["kpi", "_s"])
    return df[keep].reset_index(drop=True)


def _card_extra(row: dict, lang: str) -> str | None:
    if row.get("revised") is True:
        return f"✎ {t('revised', lang)} {fmt.day(row.get('last_published'))}"
    if not fmt.is_na(row.get("last_published")) and row.get("last_published") is not None:
        return t("published", lang, date=fmt.day(row["last_published"]))
    return None


PLAN_LINKS = {"task_groups_on_track": "/plan"}  # the task-group card opens the plan's 20 groups (issue 12)


def cards(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
          codes: list[str] | None = None, rows: list[dict] | None = None, hist: pd.DataFrame | None = None) -> list:
    """The target cards, each linking to its KPI page (rows: their standing; hist: their monthly series)."""
    codes = codes or data.r57_codes()
    rows = rows if rows is not None else target_rows(con, now=now, codes=codes)
    hist = hist if hist is not None else series(con, codes, now=now)
    out = []
    for code, row in zip(codes, rows, strict=True):
        unit = data.kpi_unit(code, lang)
        s = hist[hist["kpi"] == code][["period_start", "value"]] if not hist.empty else pd.DataFrame(
            columns=["period_start", "value"])
        target = None if fmt.is_na(row.get("target")) else float(row["target"])
        spark = make_sparkline_svg(s, target)
        href = PLAN_LINKS.get(code, f"/kpi?kpi={code}")
        out.append(html.Div(kpi_card(row, data.kpi_name(code, lang), unit, lang, href, spark,
                                     _card_extra(row, lang), k=data.kpi(code)), className="card-cell"))
    return out


UNIT_COLUMNS = ["code", "name", "value", "status", "status_reason", "numerator", "denominator", "n", "few_data",
                "target", "revised"]


def unit_frame(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, now: datetime | None = None,
               period: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Per-unit values of one KPI (wards and communes only, worst first, units with few data after the
    others) and the period they are for: the last complete month for dossier KPIs, the latest publication
    for indicators (unless `period` is given)."""
    grain = "month"
    if period is None and data.is_indicator(kpi):
        period, grain = metrics.progress(con, kpi, now=_now(now)).get("period"), None
    elif period is not None and data.is_indicator(kpi):
        grain = None
    df = metrics.query(con, kpi, grain=grain, periods=period, by="unit_code", now=_now(now))
    if df.empty:
        return pd.DataFrame(columns=UNIT_COLUMNS), period
    label = df["period"].iloc[0]
    names = data.unit_names(lang)
    out = pd.DataFrame({"code": df["unit_code"], "name": [names.get(c, c) for c in df["unit_code"]],
                        "value": pd.to_numeric(df["value"], errors="coerce"), "status": df["status"],
                        "status_reason": df["status_reason"], "numerator": df["numerator"],
                        "denominator": df["denominator"], "n": df["n"],
                        "few_data": df["few_data"].fillna(False).astype(bool),
                        "target": df["target"], "revised": df["revised"]})
    # the one ranking (presentation.ranking): worst first, few data apart, no data last, '01' left out
    ranked = rank_frame(out, data.kpi(kpi).direction)
    return ranked[[*UNIT_COLUMNS, "rank", "group"]], label


def few_heading(kpi: str, lang: str) -> str:
    """The heading of the units ranked apart: 'Ít dữ liệu (dưới 30 hồ sơ): không xếp hạng, không tô màu'."""
    k = data.kpi(kpi)
    return t("few_data_group", lang, n=fmt.number(k.min_n or 0, 0, lang), word=n_word(k, lang))


def ranking(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, view: str = "rank", now: datetime | None = None,
            geojson: dict | None = None, geojson_key: str = "properties.unit_code",
            frame: tuple[pd.DataFrame, str | None] | None = None) -> tuple[str, object]:
    """The ranking title and body: the league list (worst first; units with few data apart, under their
    own heading) or, with boundaries, a choropleth. `frame`: unit_frame(kpi) when the caller already has it."""
    kpi = kpi if kpi in RANK_KPIS else RANK_KPIS[0]
    df, label = frame if frame is not None else unit_frame(con, kpi, lang, now=now)
    name, unit = data.kpi_name(kpi, lang), data.kpi_unit(kpi, lang)
    have = df.dropna(subset=["value"])
    title = t("ov_rank_title", lang, n=len(have) or len(data.wards()), kpi=mid_sentence(name, lang),
              period=fmt.period(label, lang, long=True))
    if have.empty:
        return title, empty_state(t("ov_no_units", lang, period=fmt.period(label, lang, long=True)))
    target = target_of(have)
    if view == "map" and geojson is not None:
        judged = df[~df["few_data"].astype(bool)] if "few_data" in df else df
        fig = make_choropleth_figure(judged, geojson, geojson_key, lang, unit, data.kpi(kpi).direction, height=None)
        a11y.label(fig, a11y.ranking_summary(judged, name, fmt.period(label, lang, long=True), lang, unit, target),
                   a11y.ranking_table(judged, lang, unit), lang)
        return title, dcc.Graph(figure=fig, config=GRAPH_CONFIG, responsive=True, className="rank-map",
                                style={"height": "100%", "minHeight": "360px"})
    body = [ranking_list(df, lang, unit, target, "/ward?unit={code}", RANK_ROWS, few_heading(kpi, lang), FEW_ROWS,
                         k=data.kpi(kpi))]
    if len(df) > RANK_ROWS:
        body.append(dcc.Link(t("ov_all_units", lang, n=len(df)), href=f"/kpi?kpi={kpi}", className="rank-more"))
    if target is not None:
        body.insert(0, html.Div([html.Span(className="rank-target-key", **{"aria-hidden": "true"}),
                                 t("ov_rank_legend", lang, target=fmt.value(target, unit, lang))],
                                className="rank-legend"))
    return title, html.Div(body, className="rank-box", tabIndex="-1")


def statuses_yesterday(con: duckdb.DuckDBPyConnection, rows_now: list[dict] | None = None,
                       now: datetime | None = None) -> list[dict]:
    """Kept for callers of the old name: the targets one complete month earlier (earlier_rows)."""
    return earlier_rows(con, now=now)


def changes(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
            rows_now: list[dict] | None = None, earlier: list[dict] | None = None) -> html.Div:
    """What changed, like with like: dossiers received yesterday against the day before (today so far is
    shown apart, labelled as partial, never compared); the open overdue backlog now and what became overdue
    in the last 24 hours; the targets' statuses and the rates of the last complete month against the month
    before (statuses change only between complete periods); new indicator publications since yesterday."""
    from metrics.periods import last_complete, previous

    now_ = _now(now)
    today = now_.date()
    yesterday, before_yesterday = today - timedelta(days=1), today - timedelta(days=2)
    rec = metrics.query(con, "received", grain="day", periods=[before_yesterday.isoformat(), yesterday.isoformat(),
                                                               today.isoformat()], now=now_)
    by_day = dict(zip(rec["period"], rec["value"], strict=True))
    n_yesterday = by_day.get(yesterday.isoformat()) or 0
    n_before = by_day.get(before_yesterday.isoformat()) or 0
    n_today = by_day.get(today.isoformat()) or 0
    overdue = metrics.overdue_list(con, now=now_, limit=None)
    names = data.unit_names(lang)
    fresh = overdue[pd.to_datetime(overdue["effective_due_at"]) >= now_ - timedelta(days=1)]
    where = ""
    if not fresh.empty:
        top = fresh["unit_code"].value_counts().head(3)
        where = t("ov_new_overdue_where", lang, units=", ".join(
            f"{names.get(c, c) if c != config.CITY_CODE else t('unit_departments', lang)} ({n})"
            for c, n in top.items()))
    codes = data.r57_codes()
    rows_now = rows_now if rows_now is not None else target_rows(con, now=now_)
    earlier = earlier if earlier is not None else earlier_rows(con, now=now_)
    last = last_complete(now_)
    month_before = previous(last)
    pair = {"a": fmt.period(month_before.label, lang), "b": fmt.period(last.label, lang)}
    status_items, rate_items = [], []
    for code, row, prev in zip(codes, rows_now, earlier, strict=True):
        was, cur = prev.get("status") or "no_data", row.get("status") or "no_data"
        if was != cur:
            status_items.append(html.Li([dcc.Link(data.kpi_name(code, lang), href=f"/kpi?kpi={code}"), ": ",
                                         row_badge(prev, lang, small=True), html.Span(" → ", className="arrow"),
                                         row_badge(row, lang, small=True)]))
        v1, v0 = row.get("last_month_value"), prev.get("last_month_value")
        if row.get("last_month_period") and not fmt.is_na(v1) and v1 is not None:
            unit = data.kpi_unit(code, lang)
            delta = "" if fmt.is_na(v0) or v0 is None else \
                f" ({fmt.change(float(v1) - float(v0), counted(unit, float(v1) - float(v0), lang), lang)})"
            rate_items.append(html.Li([dcc.Link(data.kpi_name(code, lang), href=f"/kpi?kpi={code}"),
                                       f": {fmt.value(v1, counted(unit, v1, lang), lang)}{delta}"]))
    since = datetime.combine(yesterday, time())
    pubs = [html.Li([dcc.Link(data.kpi_name(c, lang), href=f"/kpi?kpi={c}"),
                     f" · {fmt.period(r.get('period'), lang)} · {fmt.moment(r.get('last_published'))}",
                     html.Span(" ✎ " + t("revised", lang), className="revised") if r.get("revised") is True else None])
            for c, r in zip(codes, rows_now, strict=True)
            if not fmt.is_na(r.get("last_published")) and r.get("last_published") is not None
            and pd.Timestamp(r["last_published"]) >= pd.Timestamp(since)]
    diff = n_yesterday - n_before
    blocks = [
        html.Div([html.Div(t("ov_received_yesterday_title", lang, date=fmt.day_month(yesterday)), className="stat-label"),
                  html.Div(fmt.number(n_yesterday, 0, lang), id=ids.OV_YESTERDAY, className="stat-value"),
                  html.Div(t("ov_received_before", lang, date=fmt.day_month(before_yesterday),
                             n=fmt.number(n_before, 0, lang), change=fmt.change(diff, "", lang)),
                           className="stat-note"),
                  html.Div([html.Span(className="status-icon icon-partial", **{"aria-hidden": "true"}),
                            t("ov_received_today_partial", lang, time=fmt.clock(now_)), " ",
                            html.Strong(fmt.number(n_today, 0, lang), id=ids.OV_TODAY)],
                           className="stat-note kpi-partial")],
                 className="stat"),
        html.Div([html.Div(t("ov_overdue_now", lang) + _scope_note(lang), className="stat-label"),
                  html.Div(fmt.number(len(overdue), 0, lang), className="stat-value stat-bad" if len(overdue)
                           else "stat-value"),
                  html.Div([t("ov_new_overdue", lang, n=fmt.number(len(fresh), 0, lang), count=len(fresh)),
                            html.Br() if where else None, where], className="stat-note")], className="stat"),
    ]
    compare = html.Div([
        html.H3(t("ov_status_changes", lang, **pair), className="sub-title"),
        html.Ul(status_items, className="change-list") if status_items
        else html.P(t("ov_no_status_change", lang, **pair), className="muted"),
        html.H3(t("ov_rates_changes", lang, **pair), className="sub-title") if rate_items else None,
        html.Ul(rate_items, className="change-list") if rate_items else None,
    ], id=ids.OV_COMPARE)
    out = [html.Div(blocks, className="stats"), compare]
    if not overdue.empty:
        top = overdue["unit_code"].value_counts().head(OVERDUE_TOP)
        out.append(html.Div([html.H3(t("ov_overdue_units", lang), className="sub-title"), html.Ol([
            html.Li([dcc.Link(names.get(c, c), href=f"/ward?unit={c}") if c != config.CITY_CODE
                     else t("unit_departments", lang), f": {fmt.number(n, 0, lang)}"])
            for c, n in top.items()], className="change-list ps-3")]))
    if pubs:
        out.append(html.Div([html.H3(t("ov_new_publications", lang), className="sub-title"),
                             html.Ul(pubs, className="change-list")]))
    return html.Div(out)


# --- the page's tables as downloads (the same rows the cards and the ranking are drawn from) ----------

def targets_table(rows: list[dict], lang: str, codes: list[str] | None = None, page: str | None = None) -> Table:
    """The target cards as a table: one row per target, the numbers each card shows (`rows`: their standing):
    the judged value on its basis with its n, the last complete month, and the month to date (partial)."""
    codes = codes or data.r57_codes()
    records = []
    reg = data.registry()
    for code, row in zip(codes, rows, strict=True):
        tg = target_row(reg, code, row)
        has_target = tg["has_target"]
        published = row.get("last_published")
        ytd = row.get("basis") == "year_to_date"
        records.append({
            "kpi": code, "name": data.kpi_name(code, lang), "period": period_text(row, lang),
            "basis": t(f"basis_{row['basis']}", lang) if row.get("basis") else "",
            "value": row.get("value"), "unit": data.kpi_unit(code, lang), "n": row.get("n"),
            "few_data": t("yes", lang) if row.get("few_data") is True else "",
            "comparison": COMPARISON.get(tg["comparison"], "") if has_target else "",
            "target": tg["target"],
            "deadline": fmt.day(tg["deadline"]) if has_target else "",
            "status": row_status_label(row, lang) if has_target else status_label(None, lang),
            "change": None if ytd else row.get("change"),
            "projected": row.get("projected"), "numerator": row.get("numerator"),
            "denominator": row.get("denominator"),
            "last_month": fmt.period(row.get("last_month_period"), lang),
            "last_month_value": row.get("last_month_value"),
            "current": partial_text(row["current_period"], row.get("current_as_of"), lang)
            if row.get("current_period") else "",
            "current_value": row.get("current_value"), "current_n": row.get("current_n"),
            "published": fmt.day(published) if published is not None and not fmt.is_na(published) else "",
            "revised": t("yes", lang) if row.get("revised") is True else ""})
    columns = [Column("kpi", t("col_kpi_code", lang)), Column("name", t("col_kpi", lang)),
               Column("period", t("col_period", lang)), Column("basis", t("col_basis", lang)),
               Column("value", t("col_value", lang), unit_field="unit"),
               Column("unit", t("col_unit_word", lang)), Column("n", t("col_n", lang)),
               Column("few_data", t("col_few_data", lang)), Column("comparison", t("col_comparison", lang)),
               Column("target", t("col_target", lang), unit_field="unit"), Column("deadline", t("col_deadline", lang)),
               Column("status", t("col_status_word", lang)),
               Column("change", t("col_change", lang), unit_field="unit"),
               Column("projected", t("col_projected", lang), unit_field="unit"),
               Column("numerator", t("col_numerator", lang)), Column("denominator", t("col_denominator", lang)),
               Column("last_month", t("col_last_month", lang)),
               Column("last_month_value", t("col_last_month_value", lang), unit_field="unit"),
               Column("current", t("col_current", lang)),
               Column("current_value", t("col_current_value", lang), unit_field="unit"),
               Column("current_n", t("col_current_n", lang)),
               Column("published", t("col_published", lang)), Column("revised", t("col_revised", lang))]
    title = page or t("ov_title", lang)
    return Table("muc-tieu", title, columns, records, list(codes), {t("f_page", lang): title})


def ranking_table(frame: tuple[pd.DataFrame, str | None], kpi: str, lang: str, page: str | None = None) -> Table:
    """Every unit of a ranking (unit_frame), in its order (worst first; units with few data after the others,
    unranked, in a group of their own), with the values it shows."""
    df, label = frame
    unit = data.kpi_unit(kpi, lang)
    records = []
    for r in df.to_dict("records"):
        few = r.get("few_data") is True
        rank = r.get("rank")
        records.append({
            "rank": None if rank is None or fmt.is_na(rank) else int(rank),
            "group": t("group_few_data" if few else "group_ranked", lang),
            "code": r["code"], "name": r["name"], "value": r["value"],
            "status": status_label("few_data" if few else r["status"], lang, r.get("status_reason"), r["value"]),
            "numerator": r.get("numerator"), "denominator": r.get("denominator"), "n": r.get("n"),
            "target": r.get("target"), "revised": t("yes", lang) if r.get("revised") is True else ""})
    name = data.kpi_name(kpi, lang)
    columns = [Column("rank", t("col_rank", lang)), Column("group", t("col_group_rank", lang)),
               Column("code", t("col_code", lang)),
               Column("name", t("col_unit", lang)), Column("value", f"{name} ({unit})", unit),
               Column("status", t("col_status_word", lang)), Column("n", t("col_n", lang)),
               Column("numerator", t("col_numerator", lang)),
               Column("denominator", t("col_denominator", lang)), Column("target", t("col_target", lang), unit),
               Column("revised", t("col_revised", lang))]
    filters = {t("f_page", lang): page or t("ov_title", lang), t("f_kpi", lang): name,
               t("f_period", lang): fmt.period(label, lang, long=True)}
    return Table("xep-hang", t("kp_units", lang, kpi=name, period=fmt.period(label, lang, long=True)), columns,
                 records, [kpi], filters, f"{kpi}-{label or ''}")


def _scope_note(lang: str) -> str:
    """' · Phường Cửa Nam' after a dossier-level figure of a viewer who sees only some units (issue 10): the
    figures beside it are the city's, this one is theirs."""
    v = data.viewer()
    if v.scope is None:
        return ""
    return " · " + ", ".join(data.unit_name(u, lang) for u in sorted(v.units))
