"""One-stop workload (issue 12): the overload flag on the ward page, the wards grid and the overview.

The values and the flag come from metrics.workload (KPIs workload, workload_vs_median; thresholds in
metrics/definitions/workload.yaml); this module only words them. The ranked list is the overview's
ranking by `workload_vs_median` (RANK_HREF).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
from dash import dcc, html

from metrics.workload import overloaded, thresholds

from .. import data, fmt
from ..components import default_period, is_partial, partial_text
from ..i18n import t

RANK_KPI = "workload_vs_median"
RANK_HREF = f"/?kpi={RANK_KPI}"


def _icon(name: str) -> html.Span:
    return html.Span(className=f"status-icon icon-{name}", **{"aria-hidden": "true"})


def flags(con: duckdb.DuckDBPyConnection, period: str | None = None, now: datetime | None = None) -> dict[str, bool]:
    """unit_code -> overloaded, for the units the viewer sees that have a staffing report in `period`."""
    df = overloaded(con, period, now=now or data.local_now())
    return dict(zip(df["unit_code"], df["overloaded"].astype(bool), strict=True))


def ward_flag(con: duckdb.DuckDBPyConnection, unit: str, lang: str, period: str | None = None,
              now: datetime | None = None) -> html.Div:
    """One line above the ward's KPI table: overloaded (with why), or its workload against the city median,
    or that no staffing report covers the period."""
    now = now or data.local_now()
    period = period or default_period(now)
    df = overloaded(con, period, units=[unit], now=now)
    shown = partial_text(period, now, lang) if is_partial(period, now) else fmt.period(period, lang)
    if df.empty or df.iloc[0]["workload"] is None:
        return html.P([_icon("no_data"), " ", t("wl_no_report", lang, period=shown)],
                      className="note workload-flag", id="wu-workload-flag")
    r = df.iloc[0].to_dict()
    words = {"period": shown, "value": fmt.number(r["workload"], 1, lang),
             "ratio": fmt.number(r["workload_vs_median"], 2, lang) if r["workload_vs_median"] is not None else fmt.NA,
             "median": fmt.number(r["city_median"], 1, lang) if r["city_median"] is not None else fmt.NA}
    link = dcc.Link(t("wl_rank_link", lang), href=RANK_HREF)
    if r["overloaded"]:
        rl = thresholds()
        key, limit = (("wl_over_ratio", rl.ratio_to_median) if r["reason"] == "ratio"
                      else ("wl_over_absolute", rl.per_officer_day))
        return html.P([_icon("warning"), " ", html.Strong(t("wl_overloaded", lang)), " ",
                       t(key, lang, **words, threshold=fmt.number(limit, 2 if r["reason"] == "ratio" else 1, lang)),
                       " ", link], className="workload-flag workload-over", id="wu-workload-flag", role="status")
    return html.P([t("wl_normal", lang, **words), " ", link], className="note workload-flag", id="wu-workload-flag")


def overview_line(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None) -> html.Div:
    """'Đơn vị quá tải ở bộ phận một cửa (11/2026): 4' linking to the ranking by workload against the median."""
    now = now or data.local_now()
    period = default_period(now)
    df = overloaded(con, period, now=now)
    n = int(df["overloaded"].sum()) if not df.empty else 0
    text = t("wl_overview", lang, period=fmt.period(period, lang), n=fmt.number(n, 0, lang))
    cls = "workload-line workload-over" if n else "workload-line"
    return html.Div(dcc.Link([_icon("warning" if n else "info"), " ", text], href=RANK_HREF), className=cls)
