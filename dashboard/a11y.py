"""Text alternatives for the charts (issue 14): what a chart shows, in words and as a small table, built from
the same frame the figure is drawn from.

Pure functions (no Dash callbacks, no data access):

- summary(df, kpi, unit, lang, ...) -> 'Tỷ lệ đúng hạn, Phường Cửa Nam, 12 tháng: từ 88,1 % lên 94,3 %;
  mục tiêu ≥ 100 %' for a trend frame (`series`, `period`, `value`, optional `partial`; the first series is
  the focus); ranking_summary, channel_summary and index766_summary for the other charts.
- label(fig, text, table=None): the figure carries its text alternative in layout.meta.a11y; assets/20_a11y.js
  puts it on the chart's container as role="img" + aria-label whenever plotly draws it (so a figure returned
  by a callback into a Graph of a page's layout is labelled too), and draws the "Bảng số liệu / Data table"
  toggle from `table` under it.
- trend_table, ranking_table, channel_table: that table's head and rows (strings, written by the formatter).
- chart(graph, text, table, lang): the same for a Graph a view builds itself, in Dash components
  (html.Div(role="img", aria-label) around the graph, html.Details with the table under it).

Numbers are written by dashboard.fmt (presentation.fmt), as on screen.
"""

from __future__ import annotations

import pandas as pd
from dash import html

from . import fmt
from .i18n import t

WORDS = {
    "vi": {"month": "tháng", "quarter": "quý", "year": "năm", "week": "tuần", "from_to_up": "từ {a} lên {b}",
           "from_to_down": "từ {a} xuống {b}", "flat": "giữ ở {a}", "one": "{a}", "target": "mục tiêu {v}",
           "partial": "{p} (tạm tính): {v}", "no_data": "chưa có số liệu", "table": "Bảng số liệu",
           "period": "Kỳ", "unit": "Đơn vị", "channel": "Kênh", "value": "Giá trị", "status": "Trạng thái",
           "units": "{n} phường, xã", "lowest": "thấp nhất {name} ({v})", "highest": "cao nhất {name} ({v})",
           "channels": "Kênh nộp hồ sơ", "index766": "Chỉ số 766 theo nhóm (điểm tính được / tối đa)"},
    "en": {"month": "months", "quarter": "quarters", "year": "years", "week": "weeks",
           "from_to_up": "up from {a} to {b}", "from_to_down": "down from {a} to {b}", "flat": "steady at {a}",
           "one": "{a}", "target": "target {v}", "partial": "{p} (to date): {v}", "no_data": "no data yet",
           "table": "Data table", "period": "Period", "unit": "Unit", "channel": "Channel", "value": "Value", "status": "Status",
           "units": "{n} wards and communes", "lowest": "lowest {name} ({v})", "highest": "highest {name} ({v})",
           "channels": "Submission channels", "index766": "Decision 766 index by group (computable points / max)"},
}
ONE = {"vi": {}, "en": {"months": "month", "quarters": "quarter", "years": "year", "weeks": "week"}}
COMPARISON = {">=": "≥", "<=": "≤"}


def _w(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["vi"])


def _grain_of(periods) -> str:
    p = next((str(x) for x in periods if x is not None and not fmt.is_na(x)), "")
    if "Q" in p:
        return "quarter"
    if "W" in p:
        return "week"
    return "year" if len(p) == 4 else "month"


def _partial(df: pd.DataFrame) -> pd.Series:
    if "partial" not in df:
        return pd.Series(False, index=df.index)
    return df["partial"].map(lambda v: v is True or v == 1 or (isinstance(v, str) and v.lower() in ("true", "1")))


def target_text(target, comparison, measure: str, lang: str) -> str:
    if target is None or fmt.is_na(target):
        return ""
    sign = COMPARISON.get(comparison or "", comparison or "")
    return _w(lang)["target"].format(v=f"{sign} {fmt.value(float(target), measure, lang)}".strip())


def summary(df: pd.DataFrame, kpi: str, unit: str, lang: str, measure: str = "%", target=None,
            comparison: str | None = ">=") -> str:
    """A trend in one sentence: KPI, unit, how many periods, first and last complete value, the target; the
    other series' last value (the city) and the period to date, if drawn."""
    w = _w(lang)
    head = ", ".join(x for x in (kpi, unit) if x)
    if df is None or df.empty or df["value"].isna().all():
        return f"{head}: {w['no_data']}"
    names = list(dict.fromkeys(df["series"])) if "series" in df else [None]
    focus = df[df["series"] == names[0]] if "series" in df else df
    partial = _partial(focus)
    done = focus[~partial].dropna(subset=["value"])
    todate = focus[partial].dropna(subset=["value"])
    grain = _grain_of(focus["period"]) if "period" in focus else "month"
    parts = []
    if not done.empty:
        a, b = float(done["value"].iloc[0]), float(done["value"].iloc[-1])
        va, vb = fmt.value(a, measure, lang), fmt.value(b, measure, lang)
        word = w[grain]
        if len(done) == 1:
            word = ONE[lang if lang in ONE else "vi"].get(word, word)
            trend = w["one"].format(a=vb)
        elif va == vb:
            trend = w["flat"].format(a=va)
        else:
            trend = w["from_to_up" if b > a else "from_to_down"].format(a=va, b=vb)
        parts.append(f"{head}, {len(done)} {word}: {trend}")
    else:
        parts.append(head)
    if not todate.empty:
        r = todate.iloc[-1]
        parts.append(w["partial"].format(p=fmt.period(r["period"], lang), v=fmt.value(r["value"], measure, lang)))
    tt = target_text(target, comparison, measure, lang)
    if tt:
        parts.append(tt)
    for other in names[1:]:
        o = df[(df["series"] == other) & ~_partial(df)].dropna(subset=["value"])
        if not o.empty:
            parts.append(f"{other}: {fmt.value(o['value'].iloc[-1], measure, lang)}")
    return "; ".join(parts)


def ranking_summary(df: pd.DataFrame, kpi: str, period: str | None, lang: str, measure: str = "%",
                    target=None, comparison: str | None = ">=") -> str:
    """Units compared: how many, the lowest and highest (name and value), the target, how many per status."""
    from .theme import STATUSES, status_key, status_label

    w = _w(lang)
    head = ", ".join(x for x in (kpi, period) if x)
    d = df.dropna(subset=["value"]) if df is not None and not df.empty else pd.DataFrame()
    if d.empty:
        return f"{head}: {w['no_data']}"
    d = d.sort_values("value", kind="stable")
    lo, hi = d.iloc[0], d.iloc[-1]
    parts = [f"{head}, {w['units'].format(n=fmt.number(len(d), 0, lang))}: "
             f"{w['lowest'].format(name=lo['name'], v=fmt.value(lo['value'], measure, lang))}, "
             f"{w['highest'].format(name=hi['name'], v=fmt.value(hi['value'], measure, lang))}"]
    tt = target_text(target, comparison, measure, lang)
    if tt:
        parts.append(tt)
    if "status" in d:
        counts = pd.Series([status_key(s) for s in d["status"]]).value_counts()
        words = [f"{status_label(s, lang)}: {fmt.number(int(counts[s]), 0, lang)}" for s in STATUSES
                 if s in counts.index]
        if words:
            parts.append(", ".join(words))
    return "; ".join(parts)


def channel_summary(df: pd.DataFrame, lang: str) -> str:
    """'Kênh nộp hồ sơ: Phường Cửa Nam: Trực tuyến toàn trình 61,2 %, ...; Toàn thành phố: ...'."""
    w = _w(lang)
    if df is None or df.empty or df["count"].fillna(0).sum() == 0:
        return f"{w['channels']}: {w['no_data']}"
    parts = []
    for name in dict.fromkeys(df["series"]):
        d = df[df["series"] == name]
        total = float(d["count"].fillna(0).sum())
        if not total:
            continue
        shares = [f"{r['label']} {fmt.percent(100.0 * float(r['count']) / total, lang)}"
                  for r in d.sort_values("count", ascending=False).to_dict("records")
                  if not fmt.is_na(r["count"]) and r["count"]]
        parts.append(f"{name}: {', '.join(shares)}")
    return f"{w['channels']}: " + "; ".join(parts)


def index766_summary(df: pd.DataFrame, lang: str) -> str:
    """'Chỉ số 766 theo nhóm (...): 1. Nhóm A 12,50 / 20 (tối đa 25); ...'."""
    w = _w(lang)
    if df is None or df.empty:
        return f"{w['index766']}: {w['no_data']}"
    most = t("word_max", lang)
    parts = [f"{r['name']} {fmt.NA if fmt.is_na(r['score']) else fmt.number(r['score'], 2, lang)} / "
             f"{fmt.number(r['points_computable'], 0, lang)} ({most} {fmt.number(r['max_points'], 0, lang)})"
             for r in df.to_dict("records")]
    return f"{w['index766']}: " + "; ".join(parts)


def trend_table(df: pd.DataFrame, lang: str, measure: str = "%") -> dict:
    """{'head': [...], 'rows': [[...], ...]}: one row per period, one column per series (what the lines draw)."""
    w = _w(lang)
    if df is None or df.empty:
        return {"head": [w["period"], w["value"]], "rows": []}
    names = list(dict.fromkeys(df["series"])) if "series" in df else [w["value"]]
    partial = _partial(df)
    rows = []
    order = df.sort_values("period_start", kind="stable") if "period_start" in df else df
    for period in dict.fromkeys(order["period"]):
        at = df[df["period"] == period]
        label = fmt.period(period, lang)
        if partial[at.index].any():
            label += " (" + t("partial_short", lang) + ")"
        cells = []
        for name in names:
            v = at[at["series"] == name]["value"] if "series" in at else at["value"]
            cells.append(fmt.value(v.iloc[0], measure, lang) if len(v) else fmt.NA)
        rows.append([label, *cells])
    return {"head": [w["period"], *names], "rows": rows}


def ranking_table(df: pd.DataFrame, lang: str, measure: str = "%") -> dict:
    """{'head', 'rows'}: the units the bars draw, lowest value first, with their status in words."""
    from .theme import status_label

    w = _w(lang)
    d = df.dropna(subset=["value"]).sort_values("value", kind="stable") if df is not None and not df.empty \
        else pd.DataFrame(columns=["name", "value", "status"])
    rows = [[r["name"], fmt.value(r["value"], measure, lang), status_label(r.get("status"), lang)]
            for r in d.to_dict("records")]
    return {"head": [w["unit"], w["value"], w["status"]], "rows": rows}


def channel_table(df: pd.DataFrame, lang: str) -> dict:
    """{'head', 'rows'}: one row per channel (in the chart's order), per series its count and share of the
    series' total, as the stacked bars draw them: 'Trực tuyến toàn trình | 1.234 (61,2 %) | ...'."""
    from .figures import CHANNEL_ORDER

    w = _w(lang)
    if df is None or df.empty:
        return {"head": [w["channel"]], "rows": []}
    names = list(dict.fromkeys(df["series"]))
    totals = {n: float(df.loc[df["series"] == n, "count"].fillna(0).sum()) for n in names}
    order = [c for c in CHANNEL_ORDER if c in set(df["channel"])] + \
        [c for c in dict.fromkeys(df["channel"]) if c not in CHANNEL_ORDER]
    rows = []
    for ch in order:
        at = df[df["channel"] == ch]
        if at["count"].fillna(0).sum() == 0:
            continue
        cells = []
        for n in names:
            c = at.loc[at["series"] == n, "count"]
            c = float(c.iloc[0]) if len(c) and not fmt.is_na(c.iloc[0]) else None
            cells.append(fmt.NA if c is None else
                         f"{fmt.number(c, 0, lang)} ({fmt.percent(100.0 * c / totals[n], lang) if totals[n] else fmt.NA})")
        rows.append([at["label"].dropna().iloc[0] if at["label"].notna().any() else ch, *cells])
    return {"head": [w["channel"], *names], "rows": rows}


def label(fig, text: str, table: dict | None = None, lang: str = "vi"):
    """The figure with its text alternative (and data table) in layout.meta.a11y, for assets/20_a11y.js."""
    meta = {"label": text}
    if table is not None:
        meta["table"] = {**table, "title": _w(lang)["table"]}
    fig.update_layout(meta={"a11y": meta})
    return fig


def details(table: dict, lang: str) -> html.Details:
    """The 'Bảng số liệu / Data table' toggle: a small table of the rows a chart is drawn from."""
    head = table.get("head", [])
    body = [html.Tr([html.Th(c, scope="row") if i == 0 else html.Td(c, className="num")
                     for i, c in enumerate(r)]) for r in table.get("rows", [])]
    return html.Details([
        html.Summary(_w(lang)["table"]),
        html.Div(html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in head])), html.Tbody(body)]),
                 className="table-scroll", tabIndex="0", role="region", **{"aria-label": _w(lang)["table"]}),
    ], className="chart-table")


def chart(graph, text: str, table: dict | None = None, lang: str = "vi") -> html.Div:
    """A Graph a view builds itself: inside html.Div(role="img", aria-label=text), with the data table under it."""
    parts = [html.Div(graph, role="img", **{"aria-label": text}, className="chart-img")]
    if table is not None:
        parts.append(details(table, lang))
    return html.Div(parts, className="chart-a11y")
