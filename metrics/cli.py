"""The `kpis` command's report: every KPI with value, numerator/denominator, n, target, deadline, status, projection, change.

Default period: the last complete one of the grain (on 1 December: November), whose figures do not
move without a data change. `--period current` gives the period containing now, labelled as partial
with its date ("Tháng 12/2026 — tạm tính đến 01/12") and never judged (status 'partial'). A rate over
fewer than its KPI's min_n is 'few_data' ("Ít dữ liệu"): shown with its n, not judged. In JSON every
row carries `partial` (true/false), `as_of`, `n`, `few_data` and `status_reason`.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import duckdb
import pandas as pd

import config

from .engine import local_now, query
from .periods import resolve
from .registry import get_registry

STATUS_WORDS = {
    "vi": {"achieved": "Đã đạt", "on_track": "Đúng tiến độ", "needs_acceleration": "Cần đẩy nhanh",
           "limited": "Tiến triển hạn chế", "deteriorating": "Đang xấu đi", "no_data": "Chưa đủ dữ liệu",
           "few_data": "Ít dữ liệu", "partial": "Tạm tính"},
    "en": {"achieved": "Achieved", "on_track": "On track", "needs_acceleration": "Needs acceleration",
           "limited": "Limited progress", "deteriorating": "Deteriorating", "no_data": "No data",
           "few_data": "Few data", "partial": "Partial (to date)"},
}
HEADERS = {
    "vi": ["Chỉ tiêu", "Kỳ", "Giá trị", "Tử số / Mẫu số", "n", "Mục tiêu", "Hạn", "Trạng thái", "Dự báo", "Thay đổi"],
    "en": ["KPI", "Period", "Value", "Numerator / denominator", "n", "Target", "Deadline", "Status", "Projected",
           "Change"],
}
PERIOD_WORDS = {"vi": {"month": "Tháng", "quarter": "Quý", "year": "Năm", "week": "Tuần", "day": "Ngày",
                       "partial": "tạm tính đến"},
                "en": {"month": "Month", "quarter": "Quarter", "year": "Year", "week": "Week", "day": "Day",
                       "partial": "partial, to"}}


def _na(x) -> bool:
    return x is None or x is pd.NaT or (isinstance(x, float) and x != x)


def fmt_number(x, decimals: int = 0, lang: str = "vi") -> str:
    """Thousands and decimal separators as the language writes them (vi: 1.234,5; en: 1,234.5); N/A for None.

    The CLI is a surface: it writes numbers with presentation.fmt (imported here, not at the top, so the
    metrics package never imports the layer above it at import time)."""
    from presentation.fmt import number

    return number(x, decimals, lang)


def _value(x, k, lang: str, signed: bool = False) -> str:
    """A KPI value (or, signed, a change) as the CLI table writes it, to the KPI's display decimals."""
    from presentation.fmt import change, value

    if _na(x):
        return "N/A"
    unit = k.unit_in(lang)
    if signed:
        return change(x, unit, lang, kpi=k)
    return value(x, unit, lang, kpi=k)


def _date(d) -> str:
    from presentation.fmt import day

    return "" if _na(d) else day(d)


def period_text(label: str, lang: str = "vi", partial: bool = False, as_of=None) -> str:
    """A period as people write it: 'Tháng 11/2026', 'Quý 4/2026', 'Năm 2026'; a partial one with its
    date: 'Tháng 12/2026 — tạm tính đến 01/12' ('Month 12/2026 — partial, to 01/12')."""
    w = PERIOD_WORDS["en" if lang == "en" else "vi"]
    text = str(label)
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    q = re.fullmatch(r"(\d{4})-Q([1-4])", text)
    if m:
        text = f"{w['month']} {m.group(2)}/{m.group(1)}"
    elif q:
        text = f"{w['quarter']} {q.group(2)}/{q.group(1)}"
    elif re.fullmatch(r"\d{4}", text):
        text = f"{w['year']} {text}"
    if partial:
        text += f" — {w['partial']} " + ("?" if _na(as_of) else pd.Timestamp(as_of).strftime("%d/%m"))
    return text


def kpis_report(con: duckdb.DuckDBPyConnection, period: str | None = None, grain: str | None = "month",
                unit: str | None = None, fmt: str = "table", lang: str = "vi", now: datetime | None = None) -> str:
    """Every KPI for a unit (default the city) and period (default the last complete one; 'current' =
    the period to date, partial), as table, csv or json."""
    reg = get_registry()
    now = now or config.frozen_now() or local_now()  # R57_NOW: the dashboard's frozen clock, here too
    unit_code = unit or config.CITY_CODE
    row = con.execute("SELECT name, name_en FROM units WHERE unit_code = ?", [unit_code]).fetchone()
    unit_name = (row[0] if lang == "vi" else row[1]) if row else unit_code
    df = query(con, None, grain=grain, periods=period, units=unit, now=now)
    df.insert(2, "unit_name", unit_name)
    df.insert(1, "name", [reg.kpis[k].name(lang) for k in df["kpi"]])
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        def plain(v):
            if _na(v):
                return None
            if isinstance(v, datetime | date | pd.Timestamp):
                return v.isoformat()
            return v.item() if hasattr(v, "item") else v
        return json.dumps([{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")],
                          ensure_ascii=False, indent=2)
    return _table(df, unit_name, unit_code, _title_period(df, grain, period, now, lang), lang)


def _title_period(df: pd.DataFrame, grain: str | None, period: str | None, now: datetime, lang: str) -> str:
    """The period(s) the table shows, as the title names them (the partial one labelled with its date)."""
    if df.empty:
        labels = [(p.label, p.is_current(now), p.judged_at(now)) for p in resolve(grain, period, now)]
    else:
        seen = df.drop_duplicates("period")
        labels = [(r["period"], bool(r["partial"]), r["as_of"]) for r in seen.to_dict("records")]
    if not labels:
        return "—"
    if len(labels) > 2:
        return f"{period_text(labels[0][0], lang)} … {period_text(labels[-1][0], lang, labels[-1][1], labels[-1][2])}"
    return ", ".join(period_text(label, lang, partial, as_of) for label, partial, as_of in labels)


def _table(df: pd.DataFrame, unit_name: str, unit_code: str, period: str, lang: str) -> str:
    reg = get_registry()
    words = STATUS_WORDS[lang]
    lines = []
    for r in df.to_dict("records"):
        r = {key: (None if _na(v) else v) for key, v in r.items()}
        k = reg.kpis[r["kpi"]]
        nd = ""
        if r["numerator"] is not None and r["denominator"] is not None:
            nd = f"{fmt_number(r['numerator'], 0 if float(r['numerator']).is_integer() else 1, lang)} / " \
                 f"{fmt_number(r['denominator'], 0, lang)}"
        elif r["denominator"] is not None:
            nd = f"n = {fmt_number(r['denominator'], 0, lang)}"
        target = f"{r['target_comparison']} {_value(r['target'], k, lang)}" if r["target"] is not None else ""
        n = "" if r.get("n") is None else fmt_number(r["n"], 0, lang) + (" *" if r.get("few_data") else "")
        label = period_text(r["period"], lang, bool(r.get("partial")), r.get("as_of"))
        lines.append([k.name(lang), label, _value(r["value"], k, lang),
                      nd, n, target, _date(r["target_deadline"]), words.get(r["status"], "") if r["status"] else "",
                      _value(r["projected"], k, lang) if r["projected"] is not None else "",
                      # a partial period against a whole one is no change: not shown
                      _value(r["change"], k, lang, signed=True)
                      if r["change"] is not None and not r.get("partial") else ""])
    head = HEADERS[lang]
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    title = (f"Chỉ tiêu Nghị quyết 57 — {unit_name} ({unit_code}) — {period}" if lang == "vi"
             else f"Resolution 57 KPIs — {unit_name} ({unit_code}) — {period}")
    right = {2, 3, 4, 8, 9}

    def fmt_row(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    out = [title, "", fmt_row(head), "  ".join("-" * w for w in widths)]
    out += [fmt_row(x) for x in lines]
    if not lines:
        out.append("(không có dữ liệu)" if lang == "vi" else "(no data)")
    if any(r.get("few_data") for r in df.to_dict("records")):
        out.append("")
        out.append("* ít dữ liệu: tỷ lệ trên quá ít hồ sơ (dưới 30) hoặc lượt đánh giá (dưới 10), không đánh giá "
                   "trạng thái" if lang == "vi" else
                   "* few data: a rate over too few dossiers (under 30) or ratings (under 10), not judged")
    if any(bool(r.get("partial")) for r in df.to_dict("records")):
        out.append("Kỳ tạm tính: số liệu đến thời điểm ghi, chưa đánh giá trạng thái." if lang == "vi" else
                   "Partial period: figures to the time shown, not judged.")
    return "\n".join(out) + "\n"
