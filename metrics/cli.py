"""The `kpis` command's report: every KPI with value, numerator/denominator, target, deadline, status, projection, change."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pandas as pd

import config

from .engine import query
from .registry import get_registry

STATUS_WORDS = {
    "vi": {"achieved": "Đã đạt", "on_track": "Đúng tiến độ", "needs_acceleration": "Cần đẩy nhanh",
           "limited": "Tiến triển hạn chế", "deteriorating": "Đang xấu đi", "no_data": "Chưa đủ dữ liệu"},
    "en": {"achieved": "Achieved", "on_track": "On track", "needs_acceleration": "Needs acceleration",
           "limited": "Limited progress", "deteriorating": "Deteriorating", "no_data": "No data"},
}
HEADERS = {
    "vi": ["Chỉ tiêu", "Kỳ", "Giá trị", "Tử số / Mẫu số", "Mục tiêu", "Hạn", "Trạng thái", "Dự báo", "Thay đổi"],
    "en": ["KPI", "Period", "Value", "Numerator / denominator", "Target", "Deadline", "Status", "Projected", "Change"],
}


def _na(x) -> bool:
    return x is None or x is pd.NaT or (isinstance(x, float) and x != x)


def fmt_number(x, decimals: int = 0, lang: str = "vi") -> str:
    """Thousands and decimal separators as the language writes them (vi: 1.234,5; en: 1,234.5); N/A for None."""
    if _na(x):
        return "N/A"
    text = f"{float(x):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "vi" else text


def _value(x, unit: str, lang: str, signed: bool = False) -> str:
    if _na(x):
        return "N/A"
    decimals = 1 if unit in ("%", "ngày làm việc", "working days", "điểm", "points") or float(x) != int(float(x)) else 0
    text = fmt_number(x, decimals, lang)
    if signed and float(x) > 0:
        text = "+" + text
    suffix = " %" if unit == "%" else ""
    if signed and unit == "%":
        suffix = (" điểm %" if lang == "vi" else " pp")
    return text + suffix


def _date(d) -> str:
    return "" if _na(d) else pd.Timestamp(d).strftime("%d/%m/%Y")


def kpis_report(con: duckdb.DuckDBPyConnection, period: str | None = None, grain: str | None = "month",
                unit: str | None = None, fmt: str = "table", lang: str = "vi", now: datetime | None = None) -> str:
    """Every KPI for a unit (default the city) and period (default the current one), as table, csv or json."""
    reg = get_registry()
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
    return _table(df, unit_name, unit_code, period, lang)


def _table(df: pd.DataFrame, unit_name: str, unit_code: str, period: str | None, lang: str) -> str:
    reg = get_registry()
    words = STATUS_WORDS[lang]
    lines = []
    for r in df.to_dict("records"):
        r = {key: (None if _na(v) else v) for key, v in r.items()}
        k = reg.kpis[r["kpi"]]
        u = k.unit if lang == "vi" else k.unit_en
        nd = ""
        if r["numerator"] is not None and r["denominator"] is not None:
            nd = f"{fmt_number(r['numerator'], 0 if float(r['numerator']).is_integer() else 1, lang)} / " \
                 f"{fmt_number(r['denominator'], 0, lang)}"
        elif r["denominator"] is not None:
            nd = f"n = {fmt_number(r['denominator'], 0, lang)}"
        target = f"{r['target_comparison']} {_value(r['target'], u, lang)}" if r["target"] is not None else ""
        lines.append([k.name(lang), r["period"], _value(r["value"], u, lang) + ("" if u == "%" else f" {u}"),
                      nd, target, _date(r["target_deadline"]), words.get(r["status"], "") if r["status"] else "",
                      _value(r["projected"], u, lang) if r["projected"] is not None else "",
                      _value(r["change"], u, lang, signed=True) if r["change"] is not None else ""])
    head = HEADERS[lang]
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    title = (f"Chỉ tiêu Nghị quyết 57 — {unit_name} ({unit_code}) — kỳ {period or 'hiện tại'}" if lang == "vi"
             else f"Resolution 57 KPIs — {unit_name} ({unit_code}) — period {period or 'current'}")
    right = {2, 3, 7, 8}

    def fmt_row(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    out = [title, "", fmt_row(head), "  ".join("-" * w for w in widths)]
    out += [fmt_row(x) for x in lines]
    if not lines:
        out.append("(không có dữ liệu)" if lang == "vi" else "(no data)")
    return "\n".join(out) + "\n"
