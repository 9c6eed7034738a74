"""Wards (department heads): every ward and commune with its main KPIs and status, in one grid."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

import config
import metrics
from presentation import surfaces
from presentation.fmt import decimals_for
from presentation.surfaces import SurfaceCodes
from presentation.words import localised_column

from .. import data, fmt
from ..components import (
    default_period,
    fitted_headers,
    is_partial,
    kpi_col,
    n_word,
    num_col,
    partial_text,
    severity,
)
from ..downloads import Column, Table
from ..i18n import t
from ..theme import row_status_label, status_label
from .workload import flags as workload_flags

# the grid's KPI columns: kpis.yaml display.show `wards_grid`, in the registry's order. The main KPI carries
# the row's status and n; the ratings column follows satisfaction (its denominator is a count of ratings).
RATINGS_KPI = "satisfaction"
MAIN_KPIS = SurfaceCodes("wards_grid")


def current_period(now: datetime | None = None) -> str:
    """The period the grid shows until a user picks another: the last complete month."""
    return default_period(now or data.local_now())


HEADING = "few-data"  # row id of the heading above the units ranked apart


def rows(con: duckdb.DuckDBPyConnection, lang: str, period: str | None = None, unit_type: str | None = None,
         now: datetime | None = None) -> tuple[list[dict], list[dict]]:
    """Grid rows (one per ward/commune, in code order) and the pinned row of the city departments.

    period: a label as the user picked it ('2026-11', '2026-Q3', '2026'); default the last complete month.
    A unit whose on-time rate stands on fewer dossiers than the KPI's min_n is marked few data: grey, not
    judged, and ranked apart (after the others, under heading_row()).
    """
    now = now or data.local_now()
    period = period or current_period(now)
    q = metrics.query(con, list(MAIN_KPIS), grain=None, periods=period, by="unit_code", now=now)
    idx = metrics.index766(con, period=period, now=now)
    total = idx[idx["row_type"] == "total"].set_index("unit_code")["score"] if not idx.empty else pd.Series(dtype=float)
    overload = workload_flags(con, period, now)  # issue 12: one-stop workload above the threshold
    units = data.units()
    col = localised_column("name", lang)
    by_unit: dict[str, dict] = {}
    for r in q.to_dict("records"):
        rec = by_unit.setdefault(r["unit_code"], {})
        rec[r["kpi"]] = None if fmt.is_na(r["value"]) else float(r["value"])
        if r["kpi"] == surfaces.headline():
            rec["status"] = r["status"] if isinstance(r["status"], str) else "no_data"
            rec["status_label"] = row_status_label(r, lang) if isinstance(r["status"], str) else status_label(
                "no_data", lang)
            rec["on_time_n"] = None if r["n"] is None or fmt.is_na(r["n"]) else int(r["n"])
            rec["few_data"] = r["few_data"] is True
        if r["kpi"] == RATINGS_KPI:
            rec["ratings"] = None if fmt.is_na(r["denominator"]) else float(r["denominator"])
    out, pinned = [], []
    for u in units.itertuples(index=False):
        if u.unit_type == "city":
            continue
        if unit_type in ("phuong", "xa") and u.unit_type != unit_type:
            continue
        if not data.sees(u.unit_code):  # only the viewer's units get a row (issue 10)
            continue
        rec = by_unit.get(u.unit_code, {})
        status = rec.get("status", "no_data")
        score = total.get(u.unit_code) if u.unit_code in total.index else None
        out.append({
            "code": u.unit_code, "name": getattr(u, col), "type": t(f"type_{u.unit_type}", lang),
            "href": f"/ward?unit={u.unit_code}&period={period}",
            **{k: rec.get(k) for k in MAIN_KPIS}, "ratings": rec.get("ratings"), "on_time_n": rec.get("on_time_n"),
            "few_data": rec.get("few_data", False),
            "status": status, "status_label": rec.get("status_label") or status_label(status, lang),
            "status_order": severity(status),
            "index766": None if score is None or fmt.is_na(score) else float(score),
            "overloaded": t("wl_overloaded_mark", lang) if overload.get(u.unit_code) else "",
        })
    dept = by_unit.get(config.CITY_CODE)
    if dept:
        pinned.append({"code": config.CITY_CODE, "name": t("unit_departments", lang), "type": "", "href": None,
                       **{k: dept.get(k) for k in MAIN_KPIS}, "ratings": dept.get("ratings"),
                       "on_time_n": dept.get("on_time_n"), "few_data": dept.get("few_data", False),
                       "status": dept.get("status", "no_data"),
                       "status_label": dept.get("status_label") or status_label(dept.get("status", "no_data"), lang),
                       "status_order": severity(dept.get("status")), "index766": None})
    return out, pinned


def heading_row(lang: str, rows: list[dict]) -> list[dict]:
    """The heading row of the units ranked apart (few data), when there are any: the grid keeps it right
    above them whatever the sort (R57fewApart in assets/dashAgGridFunctions.js)."""
    if not any(r.get("few_data") for r in rows):
        return []
    k = data.kpi(surfaces.headline())
    text = t("few_data_group", lang, n=fmt.number(k.min_n or 0, 0, lang), word=n_word(k, lang))
    return [{"code": HEADING, "name": text, "heading": True, "few_data": True, "href": None, "type": "",
             "status": "", "status_label": "", "status_order": 99}]


def grid_options() -> dict:
    """Grid options of the wards grid: few-data units after the others under their heading, greyed."""
    return {"postSortRows": {"function": "R57fewApart(params)"},
            "rowClassRules": {"row-heading": "params.data && params.data.heading === true",
                              "row-few": "params.data && params.data.few_data === true && !params.data.heading"}}


def _blank_heading(col: dict) -> dict:
    """A numeric column that leaves the heading row's cells empty (not N/A)."""
    f = col["valueFormatter"]["function"]
    return {**col, "valueFormatter": {"function": f"params.data && params.data.heading ? '' : {f}"}}


@fitted_headers
def column_defs(lang: str) -> list[dict]:
    """Columns with words and number formats in the language; status sorts by severity, filters by its label."""
    return [_blank_heading(c) if "valueFormatter" in c else c for c in _column_defs(lang)]


def _column_defs(lang: str) -> list[dict]:
    kpis = []
    for code in MAIN_KPIS:
        wide = {"width": 120} if code == "received" else {"minWidth": 120, "flex": 1}
        if code == surfaces.headline():
            kpis += [kpi_col(code, lang, minWidth=130, flex=1, sort="asc"),
                     num_col("on_time_n", t("col_on_time_n", lang), lang, 0, width=110),
                     {"field": "status_order", "headerName": t("col_status", lang), "cellRenderer": "StatusBadge",
                      "minWidth": 175, "flex": 1, "filter": "agTextColumnFilter",
                      "filterValueGetter": {"function": "params.data.status_label"},
                      "tooltipValueGetter": {"function": "params.data.status_label"}}]
        else:
            kpis.append(kpi_col(code, lang, **wide))
        if code == RATINGS_KPI:
            kpis.append(num_col("ratings", t("col_ratings", lang), lang, 0, width=110))
    return [
        {"field": "code", "headerName": t("col_code", lang), "width": 96, "pinned": "left"},
        {"field": "name", "headerName": t("col_unit", lang), "minWidth": 190, "flex": 2, "pinned": "left",
         "cellRenderer": "UnitLink", "filter": "agTextColumnFilter"},
        {"field": "type", "headerName": t("col_type", lang), "width": 100},
        {"field": "overloaded", "headerName": t("col_overloaded", lang), "width": 130, "filter": "agTextColumnFilter",
         "cellClass": "cell-overloaded"},
        *kpis,
        num_col("index766", t("col_index766", lang), lang, decimals_for("điểm"), minWidth=120, flex=1),
    ]


def table(lang: str, rows: list[dict], period: str | None, unit_type: str | None = None,
          search: str | None = None) -> Table:
    """The grid as a downloadable table: `rows` as the grid shows them (downloads.grid_rows), the grid's columns."""
    name = {k: data.kpi_name(k, lang) for k in MAIN_KPIS}
    unit = {k: data.kpi_unit(k, lang) for k in MAIN_KPIS}
    kpis: list[Column] = []
    for k in MAIN_KPIS:
        kpis.append(Column(k, name[k], unit[k], decimals=data.kpi(k).decimals))  # as the grid's column shows it
        if k == surfaces.headline():
            kpis += [Column("on_time_n", t("col_on_time_n", lang)), Column("status_label", t("col_status", lang)),
                     Column("group", t("col_group_rank", lang))]
        if k == RATINGS_KPI:
            kpis.append(Column("ratings", t("col_ratings", lang)))
    columns = [Column("code", t("col_code", lang)), Column("name", t("col_unit", lang)),
               Column("type", t("col_type", lang)), Column("overloaded", t("col_overloaded", lang)), *kpis,
               Column("index766", t("col_index766", lang), t("word_points", lang))]
    now = data.local_now()
    period = period or current_period(now)
    shown = partial_text(period, now, lang) if is_partial(period, now) else fmt.period(period, lang, long=True)
    # the heading row is the screen's furniture, not data; few-data units keep their place after the others
    rows = [{**r, "group": t("group_few_data" if r.get("few_data") else "group_ranked", lang)}
            for r in rows if not r.get("heading")]
    filters = {t("f_page", lang): t("wd_title", lang), t("f_period", lang): shown,
               t("f_type", lang): t(f"type_{unit_type if unit_type in ('phuong', 'xa') else 'all'}", lang)}
    if search:
        filters[t("f_search", lang)] = search
    filters[t("f_shown", lang)] = t("f_as_shown", lang)
    return Table("phuong-xa", t("wd_title", lang), columns, rows, list(MAIN_KPIS), filters, period)
