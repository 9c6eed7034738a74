"""Overview for city leaders: every Resolution 57 target as a card, the ward ranking, what changed since yesterday."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pandas as pd
from dash import dcc, html

import config
import metrics

from .. import data, fmt, ids
from ..components import (
    COMPARISON,
    GRAPH_CONFIG,
    empty_state,
    kpi_card,
    ranking_list,
    sort_worst_first,
    status_badge,
)
from ..downloads import Column, Table
from ..figures import make_choropleth_figure, make_sparkline_svg, months_back
from ..i18n import t
from ..theme import status_label

# KPIs a leader can rank the units by (per-unit figures exist for each)
RANK_KPIS = ("on_time_rate", "overdue_backlog", "online_share", "full_online_share", "satisfaction",
             "processing_time_mean", "online_payment_share", "digitisation", "data_reuse", "cross_agency_reduction",
             "coverage_5g")
DEFAULT_RANK = "on_time_rate"
SPARK_MONTHS = 18
RANK_ROWS = 30  # the worst 30 (a wall screen shows about 15); every unit is on the KPI page
OVERDUE_TOP = 5


def _now(now: datetime | None) -> datetime:
    return now or data.local_now()


def target_rows(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                codes: list[str] | None = None) -> list[dict]:
    """Where each target stands, as metrics.progress says: the current month for dossier and catalogue
    KPIs (asked in one query: progress() is that query's row), the latest publication for indicators."""
    codes = codes or data.r57_codes()
    plain = [c for c in codes if not data.is_indicator(c)]
    rows = {}
    if plain:
        rows = {r["kpi"]: r for r in metrics.query(con, plain, grain="month", now=now).to_dict("records")}
    return [rows.get(c) or metrics.progress(con, c, now=now) for c in codes]


def _status_yesterday(con: duckdb.DuckDBPyConnection, codes: list[str], rows: list[dict],
                      before: datetime) -> dict[str, str | None]:
    """Each KPI's status as of `before`. An indicator whose latest publication is older than that and whose
    period has ended is judged the same then as now, so only the others are computed again."""
    out, again = {}, []
    for code, row in zip(codes, rows, strict=True):
        published = row.get("last_published")
        ended = row.get("period_end") is not None and pd.Timestamp(row["period_end"]) <= pd.Timestamp(before)
        if data.is_indicator(code) and ended and not fmt.is_na(published) and published is not None \
                and pd.Timestamp(published) < pd.Timestamp(before):
            out[code] = row.get("status")
        else:
            again.append(code)
    for code, row in zip(again, target_rows(con, now=before, codes=again) if again else [], strict=True):
        out[code] = row.get("status")
    return out


def series(con: duckdb.DuckDBPyConnection, codes: list[str], now: datetime | None = None,
           months: int = SPARK_MONTHS, units=None) -> pd.DataFrame:
    """Monthly values of `codes` over the last `months` months; an indicator keeps one point per
    publication period (its month rows repeat the quarter or year that contains them)."""
    today = _now(now).date()
    df = metrics.query(con, codes, grain="month", periods=(months_back(today, months), today), units=units, now=now)
    if df.empty:
        return df
    src = df["source_period"]
    keep = src.isna() | ~df.assign(_s=src).duplicated(subset=["kpi", "_s"])
    return df[keep].reset_index(drop=True)


def _card_extra(row: dict, lang: str) -> str | None:
    if row.get("kpi") == "satisfaction" and not fmt.is_na(row.get("denominator")):
        return t("ratings", lang, n=fmt.number(row["denominator"], 0, lang))
    if row.get("revised") is True:
        return f"✎ {t('revised', lang)} {fmt.day(row.get('last_published'))}"
    if not fmt.is_na(row.get("last_published")) and row.get("last_published") is not None:
        return t("published", lang, date=fmt.day(row["last_published"]))
    return None


def cards(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
          codes: list[str] | None = None, rows: list[dict] | None = None, hist: pd.DataFrame | None = None) -> list:
    """The target cards, each linking to its KPI page (rows: their progress; hist: their monthly series)."""
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
        out.append(html.Div(kpi_card(row, data.kpi_name(code, lang), unit, lang, f"/kpi?kpi={code}", spark,
                                     _card_extra(row, lang)), className="card-cell"))
    return out


def unit_frame(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, now: datetime | None = None,
               period: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Per-unit values of one KPI (wards and communes only, worst first) and the period they are for:
    the current month for dossier KPIs, the latest publication for indicators (unless `period` is given)."""
    grain = "month"
    if period is None and data.is_indicator(kpi):
        period, grain = metrics.progress(con, kpi, now=now).get("period"), None
    elif period is not None and data.is_indicator(kpi):
        grain = None
    df = metrics.query(con, kpi, grain=grain, periods=period, by="unit_code", now=now)
    if df.empty:
        return pd.DataFrame(columns=["code", "name", "value", "status", "numerator", "denominator"]), period
    label = df["period"].iloc[0]
    names = data.unit_names(lang)
    df = df[df["unit_code"] != config.CITY_CODE]  # city departments are not a ward: kept out of the league
    out = pd.DataFrame({"code": df["unit_code"], "name": [names.get(c, c) for c in df["unit_code"]],
                        "value": pd.to_numeric(df["value"], errors="coerce"), "status": df["status"],
                        "numerator": df["numerator"], "denominator": df["denominator"],
                        "target": df["target"], "revised": df["revised"]})
    return sort_worst_first(out, data.kpi(kpi).direction), label


def ranking(con: duckdb.DuckDBPyConnection, kpi: str, lang: str, view: str = "rank", now: datetime | None = None,
            geojson: dict | None = None, geojson_key: str = "properties.unit_code",
            frame: tuple[pd.DataFrame, str | None] | None = None) -> tuple[str, object]:
    """The ranking title and body: the league list (worst first) or, with boundaries, a choropleth.
    `frame`: unit_frame(kpi) when the caller already has it."""
    kpi = kpi if kpi in RANK_KPIS else DEFAULT_RANK
    df, label = frame if frame is not None else unit_frame(con, kpi, lang, now=now)
    name, unit = data.kpi_name(kpi, lang), data.kpi_unit(kpi, lang)
    have = df.dropna(subset=["value"])
    title = t("ov_rank_title", lang, n=len(have) or len(data.wards()), kpi=name.lower() if lang == "en" else name,
              period=fmt.period(label, lang, long=True))
    if have.empty:
        return title, empty_state(t("ov_no_units", lang, period=fmt.period(label, lang, long=True)))
    target = None if have["target"].isna().all() else float(have["target"].dropna().iloc[0])
    if view == "map" and geojson is not None:
        fig = make_choropleth_figure(df, geojson, geojson_key, lang, unit, data.kpi(kpi).direction, height=None)
        return title, dcc.Graph(figure=fig, config=GRAPH_CONFIG, responsive=True, className="rank-map",
                                style={"height": "100%", "minHeight": "360px"})
    body = [ranking_list(df, lang, unit, target, "/ward?unit={code}", RANK_ROWS)]
    if len(df) > RANK_ROWS:
        body.append(dcc.Link(t("ov_all_units", lang, n=len(df)), href=f"/kpi?kpi={kpi}", className="rank-more"))
    if target is not None:
        body.insert(0, html.Div([html.Span(className="rank-target-key", **{"aria-hidden": "true"}),
                                 t("ov_rank_legend", lang, target=fmt.value(target, unit, lang))],
                                className="rank-legend"))
    return title, html.Div(body, className="rank-box", tabIndex="-1")


def statuses_yesterday(con: duckdb.DuckDBPyConnection, rows_now: list[dict], now: datetime | None = None) -> dict:
    """The targets' statuses as of this time yesterday (kpi -> status)."""
    return _status_yesterday(con, data.r57_codes(), rows_now, _now(now) - timedelta(days=1))


def changes(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None,
            rows_now: list[dict] | None = None, earlier: dict | None = None) -> html.Div:
    """Since yesterday: dossiers received today, the overdue backlog and what became overdue in the last
    24 hours, KPIs whose status changed (status now vs. this time yesterday), new indicator publications."""
    now_ = _now(now)
    today, yesterday = now_.date(), now_.date() - timedelta(days=1)
    rec = metrics.query(con, "received", grain="day", periods=[yesterday.isoformat(), today.isoformat()], now=now)
    by_day = dict(zip(rec["period"], rec["value"], strict=True))
    received_today = by_day.get(today.isoformat())
    overdue = metrics.overdue_list(con, now=now, limit=None)
    names = data.unit_names(lang)
    fresh = overdue[pd.to_datetime(overdue["effective_due_at"]) >= now_ - timedelta(days=1)]
    where = ""
    if not fresh.empty:
        top = fresh["unit_code"].value_counts().head(3)
        where = t("ov_new_overdue_where", lang, units=", ".join(
            f"{names.get(c, c) if c != config.CITY_CODE else t('unit_departments', lang)} ({n})"
            for c, n in top.items()))
    codes = data.r57_codes()
    rows_now = rows_now if rows_now is not None else target_rows(con, now=now)
    before = now_ - timedelta(days=1)
    earlier = earlier if earlier is not None else _status_yesterday(con, codes, rows_now, before)
    status_items = []
    for code, row in zip(codes, rows_now, strict=True):
        prev = earlier.get(code)
        cur = row.get("status")
        if (prev or "no_data") != (cur or "no_data"):
            status_items.append(html.Li([dcc.Link(data.kpi_name(code, lang), href=f"/kpi?kpi={code}"), ": ",
                                         status_badge(prev, lang, small=True), html.Span(" → ", className="arrow"),
                                         status_badge(cur, lang, small=True)]))
    pubs = [html.Li([dcc.Link(data.kpi_name(c, lang), href=f"/kpi?kpi={c}"),
                     f" · {fmt.period(r.get('period'), lang)} · {fmt.moment(r.get('last_published'))}",
                     html.Span(" ✎ " + t("revised", lang), className="revised") if r.get("revised") is True else None])
            for c, r in zip(codes, rows_now, strict=True)
            if not fmt.is_na(r.get("last_published")) and r.get("last_published") is not None
            and pd.Timestamp(r["last_published"]) >= pd.Timestamp(before)]
    blocks = [
        html.Div([html.Div(t("ov_received_today", lang), className="stat-label"),
                  html.Div(fmt.number(received_today or 0, 0, lang), id=ids.OV_TODAY, className="stat-value"),
                  html.Div(t("ov_received_yesterday", lang, n=fmt.number(by_day.get(yesterday.isoformat()) or 0,
                                                                           0, lang)), className="stat-note")],
                 className="stat"),
        html.Div([html.Div(t("ov_overdue_now", lang), className="stat-label"),
                  html.Div(fmt.number(len(overdue), 0, lang), className="stat-value stat-bad" if len(overdue)
                           else "stat-value"),
                  html.Div([t("ov_new_overdue", lang, n=fmt.number(len(fresh), 0, lang)),
                            html.Br() if where else None, where], className="stat-note")], className="stat"),
    ]
    status_block = html.Div([html.H3(t("ov_status_changes", lang), className="sub-title"),
                             html.Ul(status_items, className="change-list") if status_items
                             else html.P(t("ov_no_status_change", lang), className="muted")])
    out = [html.Div(blocks, className="stats"), status_block]
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
    """The target cards as a table: one row per target, the numbers each card shows (`rows`: their progress)."""
    codes = codes or data.r57_codes()
    records = []
    for code, row in zip(codes, rows, strict=True):
        has_target = not fmt.is_na(row.get("target")) and row.get("target") is not None
        published = row.get("last_published")
        records.append({
            "kpi": code, "name": data.kpi_name(code, lang), "period": fmt.period(row.get("period"), lang),
            "value": row.get("value"), "unit": data.kpi_unit(code, lang),
            "comparison": COMPARISON.get(row.get("target_comparison"), "") if has_target else "",
            "target": row.get("target") if has_target else None,
            "deadline": fmt.day(row.get("target_deadline")) if has_target else "",
            "status": status_label(row.get("status"), lang), "change": row.get("change"),
            "projected": row.get("projected"), "numerator": row.get("numerator"),
            "denominator": row.get("denominator"),
            "published": fmt.day(published) if published is not None and not fmt.is_na(published) else "",
            "revised": t("yes", lang) if row.get("revised") is True else ""})
    columns = [Column("kpi", t("col_kpi_code", lang)), Column("name", t("col_kpi", lang)),
               Column("period", t("col_period", lang)), Column("value", t("col_value", lang), unit_field="unit"),
               Column("unit", t("col_unit_word", lang)), Column("comparison", t("col_comparison", lang)),
               Column("target", t("col_target", lang), unit_field="unit"), Column("deadline", t("col_deadline", lang)),
               Column("status", t("col_status_word", lang)),
               Column("change", t("col_change", lang), unit_field="unit"),
               Column("projected", t("col_projected", lang), unit_field="unit"),
               Column("numerator", t("col_numerator", lang)), Column("denominator", t("col_denominator", lang)),
               Column("published", t("col_published", lang)), Column("revised", t("col_revised", lang))]
    title = page or t("ov_title", lang)
    return Table("muc-tieu", title, columns, records, list(codes), {t("f_page", lang): title})


def ranking_table(frame: tuple[pd.DataFrame, str | None], kpi: str, lang: str, page: str | None = None) -> Table:
    """Every unit of a ranking (unit_frame), in its order (worst first), with the values it shows."""
    df, label = frame
    unit = data.kpi_unit(kpi, lang)
    records = [{"rank": i, "code": r["code"], "name": r["name"], "value": r["value"],
                "status": status_label(r["status"], lang), "numerator": r.get("numerator"),
                "denominator": r.get("denominator"), "target": r.get("target"),
                "revised": t("yes", lang) if r.get("revised") is True else ""}
               for i, r in enumerate(df.to_dict("records"), start=1)]
    name = data.kpi_name(kpi, lang)
    columns = [Column("rank", t("col_rank", lang)), Column("code", t("col_code", lang)),
               Column("name", t("col_unit", lang)), Column("value", f"{name} ({unit})", unit),
               Column("status", t("col_status_word", lang)), Column("numerator", t("col_numerator", lang)),
               Column("denominator", t("col_denominator", lang)), Column("target", t("col_target", lang), unit),
               Column("revised", t("col_revised", lang))]
    filters = {t("f_page", lang): page or t("ov_title", lang), t("f_kpi", lang): name,
               t("f_period", lang): fmt.period(label, lang, long=True)}
    return Table("xep-hang", t("kp_units", lang, kpi=name, period=fmt.period(label, lang, long=True)), columns,
                 records, [kpi], filters, f"{kpi}-{label or ''}")
