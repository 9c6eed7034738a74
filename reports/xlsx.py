"""The report as an Excel workbook (xlsxwriter): a cover sheet with the filters and KPI definitions, a sheet per table.

Cells hold numbers (rounded as the PDF shows them, fmt.rounded) with number formats, so analysts can
compute with them; Excel shows the separators of the reader's locale. N/A is an empty cell with a note.
Text is stored as text, never as a formula or a link (exports.tables.XLSX_OPTIONS).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from exports.tables import XLSX_OPTIONS

from .charts import Chart
from .data import TREND_KPIS, ReportData, Table, parse_month
from .fmt import as_date, excel_number_format, fmt_date, fmt_datetime, is_na, month_label, rounded
from .text import STATUS_COLOURS, reason_text, status_label, t


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F5FA8"})
        self.h2 = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F5FA8"})
        self.head = wb.add_format({"bold": True, "bg_color": "#E2EAF4", "border": 1, "text_wrap": True,
                                   "valign": "vcenter"})
        self.text = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.demo = wb.add_format({"bold": True, "font_size": 14, "bg_color": "#FFECB3", "font_color": "#8A4B00",
                                   "border": 2, "border_color": "#E08214"})
        self.note = wb.add_format({"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"})
        self.error = wb.add_format({"bold": True, "font_color": "#B2182B"})
        self._num: dict[tuple, xlsxwriter.format.Format] = {}

    def num(self, number_format: str | None, highlight: bool = False, status: str | None = None):
        key = (number_format, highlight, status)
        if key not in self._num:
            spec: dict = {"valign": "top"}
            if number_format:
                spec["num_format"] = number_format
            if highlight:
                spec.update({"bold": True, "bg_color": "#FFECB3"})
            if status:
                spec.update({"bold": True, "font_color": "#FFFFFF", "bg_color": "#" + STATUS_COLOURS[status]})
            self._num[key] = self.wb.add_format(spec)
        return self._num[key]


def _write(ws, row: int, col: int, value, kind: str, f: _Formats, unit: str | None = None,
           highlight: bool = False, status: str | None = None, decimals: int | None = None) -> None:
    """One cell: a number rounded as the PDF shows it (the KPI's display `decimals` for value and change
    columns), a date, or text; N/A as an empty cell."""
    places = decimals if kind in ("value", "change") else None
    fmt = f.num(excel_number_format(kind, unit, places), highlight, status)
    if kind in ("pct", "count", "days", "value", "change"):
        v = rounded(value, "%" if kind == "pct" else ("hồ sơ" if kind == "count" else unit), places)
        if v is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_number(row, col, v, fmt)
    elif kind in ("date", "datetime"):
        d = as_date(value) if kind == "date" else (None if is_na(value) else pd.Timestamp(value).to_pydatetime())
        if d is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_datetime(row, col, datetime.combine(d, datetime.min.time()) if isinstance(d, date)
                              and not isinstance(d, datetime) else d, fmt)
    else:
        ws.write_string(row, col, "" if is_na(value) else str(value), fmt)


def _sheet_table(ws, top: int, columns: list[tuple[str, str, str]], rows: list[dict], f: _Formats,
                 unit_key: str | None = None) -> int:
    """Header + rows at `top`; columns are (key, header, kind); returns the next free row."""
    for j, (_, header, _) in enumerate(columns):
        ws.write_string(top, j, header, f.head)
    for i, r in enumerate(rows, 1):
        for j, (key, _, kind) in enumerate(columns):
            unit = r.get(unit_key) if unit_key else None
            status = r.get("status") if key == "status_text" and r.get("status") in STATUS_COLOURS else None
            _write(ws, top + i, j, r.get(key), kind, f, unit, bool(r.get("highlight")), status, r.get("decimals"))
    if rows:
        ws.autofilter(top, 0, top + len(rows), len(columns) - 1)
    ws.freeze_panes(top + 1, 0)
    return top + len(rows) + 2


def _widths(ws, widths: list[float]) -> None:
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)


def _cover(wb, f: _Formats, data: ReportData, charts: list[Chart]) -> None:
    lang = data.lang
    ws = wb.add_worksheet(t("s_cover", lang))
    _widths(ws, [34, 60, 50, 40, 16, 36])
    row = 0
    if data.demo:
        ws.merge_range(row, 0, row, 3, t("demo", lang), f.demo)
        row += 2
    title = t("title_city" if data.is_city else "title_unit", lang, month=month_label(data.month), unit=data.unit_name)
    ws.write_string(row, 0, title, f.title)
    ws.write_string(row + 1, 0, t("subtitle", lang), f.note)
    row += 3
    start, end = parse_month(data.month)
    facts = [
        (t("h_month", lang), data.month),
        (t("period", lang), f"{fmt_date(start)} – {fmt_date(date.fromordinal(end.toordinal() - 1))}"),
        (t("unit", lang), t("city", lang) if data.is_city else f"{data.unit_name} ({data.unit_code})"),
        (t("lang", lang), t("lang_name", lang)),
        (t("generated", lang), f"{fmt_datetime(data.generated_at)} ({t('tz', lang)})"),
        (t("as_of", lang), f"{fmt_datetime(data.as_of)} ({t('tz', lang)})"),
        (t("fresh", lang), fmt_datetime(data.data_updated) if data.data_updated else "N/A"),
    ]
    ws.write_string(row, 0, t("h_filter", lang), f.head)
    ws.write_string(row, 1, t("h_content", lang), f.head)
    for i, (k, v) in enumerate(facts, 1):
        ws.write_string(row + i, 0, k, f.bold)
        ws.write_string(row + i, 1, v, f.text)
    row += len(facts) + 2
    notes = ([t("demo_note", lang)] if data.demo else []) + [t("rounding", lang), t("source_note", lang)]
    notes += [f"{c.title}: " + t("chart_failed", lang, error=c.error or "?") for c in charts if c.png is None]
    for text in notes:
        ws.merge_range(row, 0, row, 3, text, f.note)
        ws.set_row(row, 48)
        row += 1
    row += 1
    ws.write_string(row, 0, t("sec_defs", lang), f.h2)
    cols = [("kpi", t("h_code", lang), "text"), ("name", t("h_name", lang), "text"),
            ("definition", t("h_definition", lang), "text"), ("formula", t("h_formula", lang), "text"),
            ("unit", t("h_unit_of", lang), "text"), ("legal_basis", t("h_legal", lang), "text")]
    for j, (_, header, _) in enumerate(cols):
        ws.write_string(row + 1, j, header, f.head)
    for i, r in enumerate(data.definitions.rows, 2):
        for j, (key, _, _) in enumerate(cols):
            ws.write_string(row + i, j, str(r[key]), f.text)


def _targets(wb, f: _Formats, data: ReportData) -> None:
    lang = data.lang
    ws = wb.add_worksheet(t("s_targets", lang))
    ws.write_string(0, 0, data.targets.title, f.h2)
    few = t("few_data", lang)
    rows = [{**r, "status_text": status_label(r["status"], lang), "reason": reason_text(r.get("status_reason"), lang),
             "few_text": few if r.get("few_data") else "", "month_few_text": few if r.get("month_few_data") else "",
             "month_status_text": status_label(r.get("month_status"), lang),
             "comparison": {">=": "≥", "<=": "≤"}.get(r["target_comparison"] or "", "")} for r in data.targets.rows]
    month = month_label(data.month)
    cols = [("kpi", t("h_code", lang), "text"), ("name", t("h_kpi", lang), "text"),
            ("basis", t("h_basis", lang), "text"), ("period", t("h_period", lang), "text"),
            ("value", t("h_value", lang), "value"),
            ("unit", t("h_unit_of", lang), "text"), ("numerator", t("h_numerator", lang), "count"),
            ("denominator", t("h_denominator", lang), "count"), ("n", t("h_n", lang), "count"),
            ("few_text", t("h_few", lang), "text"), ("comparison", t("h_comparison", lang), "text"),
            ("target", t("h_target", lang), "value"), ("target_deadline", t("h_deadline", lang), "date"),
            ("status_text", t("h_status", lang), "text"), ("reason", t("h_reason", lang), "text"),
            ("projected", t("h_projected", lang), "value"),
            ("month_value", t("h_month_value", lang, month=month), "value"),
            ("month_n", f"{t('h_n', lang)} ({month})", "count"),
            ("month_few_text", f"{t('h_few', lang)} ({month})", "text"),
            ("month_status_text", t("h_month_status", lang), "text"),
            ("change", t("h_month_change", lang), "change"), ("previous", t("h_previous", lang), "value")]
    nxt = _sheet_table(ws, 2, cols, rows, f, unit_key="unit")
    ws.merge_range(nxt, 0, nxt, 10, data.targets.note or "", f.note)
    ws.set_row(nxt, 60)
    _widths(ws, [24, 48, 18, 22, 12, 12, 12, 12, 8, 12, 8, 10, 12, 24, 20, 14, 12, 8, 12, 24, 14, 12])


def _trend(wb, f: _Formats, data: ReportData, chart: Chart | None) -> None:
    lang = data.lang
    ws = wb.add_worksheet(t("s_trend", lang))
    ws.write_string(0, 0, t("sec_trend", lang), f.h2)
    label = {"unit": data.unit_name, "city": t("city_line", lang)}
    rows = [{"month": r["period"], "series": label[r["series"]], "kpi": r["kpi"], "name": data.kpi_names[r["kpi"]],
             "value": r["value"], "numerator": r["numerator"], "denominator": r["denominator"], "target": r["target"]}
            for r in data.trend.to_dict("records") if r["kpi"] in TREND_KPIS]
    cols = [("month", t("h_month", lang), "text"), ("series", t("unit", lang), "text"), ("kpi", t("h_code", lang), "text"),
            ("name", t("h_kpi", lang), "text"), ("value", t("h_value", lang) + " (%)", "pct"),
            ("numerator", t("h_numerator", lang), "count"), ("denominator", t("h_denominator", lang), "count"),
            ("target", t("h_target", lang) + " (%)", "pct")]
    _sheet_table(ws, 2, cols, rows, f)
    _widths(ws, [10, 26, 24, 44, 12, 12, 12, 12])
    _image(ws, f, chart, 2, len(cols) + 1, lang, 0.55)


def _image(ws, f: _Formats, chart: Chart | None, row: int, col: int, lang: str, scale: float) -> None:
    if chart is None:
        return
    if chart.png is None:
        ws.write_string(row, col, t("chart_failed", lang, error=chart.error or "?"), f.error)
        return
    # the PNG is rendered at scale 2: halve it back to CSS pixels, then apply the sheet's scale
    ws.insert_image(row, col, f"{chart.key}.png", {"image_data": io.BytesIO(chart.png), "x_scale": scale / 2,
                                                   "y_scale": scale / 2, "object_position": 3})


def _table_sheet(wb, f: _Formats, name: str, table: Table, data: ReportData, extra_top: list[str] | None = None,
                 charts: list[Chart] | None = None) -> None:
    ws = wb.add_worksheet(name)
    ws.write_string(0, 0, table.title, f.h2)
    row = 1
    for text in ([table.note] if table.note else []) + (extra_top or []):
        ws.write_string(row, 0, text, f.note)
        row += 1
    cols = [(c.key, c.header, c.kind) for c in table.columns]
    nxt = _sheet_table(ws, row + 1, cols, table.rows, f)
    if table.total:
        for j, (key, _, kind) in enumerate(cols):
            _write(ws, nxt - 1, j, table.total.get(key), kind, f, highlight=True)
    _widths(ws, [max(8.0, 9 * c.width) if c.kind == "text" else 13 for c in table.columns])
    if not table.rows:
        ws.write_string(row + 2, 0, t("overdue_none", data.lang), f.note)
    for i, chart in enumerate(charts or []):
        _image(ws, f, chart, row + 1, len(cols) + 1 + i * 9, data.lang, 0.5)


def render_xlsx(data: ReportData, charts: list[Chart], path: Path) -> Path:
    """Write the report as .xlsx to `path`: cover (filters, definitions), targets, trend, ranking, overdue."""
    lang = data.lang
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "default_date_format": "dd/mm/yyyy",
                                         **XLSX_OPTIONS})
    wb.set_properties({"title": t("title_city" if data.is_city else "title_unit", lang,
                                  month=month_label(data.month), unit=data.unit_name),
                       "author": "R57 dashboard", "comments": t("demo", lang) if data.demo else ""})
    f = _Formats(wb)
    by_key = {c.key: c for c in charts}
    _cover(wb, f, data, charts)
    _targets(wb, f, data)
    _trend(wb, f, data, by_key.get("trend"))
    extra = []
    if not data.is_city:
        r1, r2 = data.ranks.get("on_time_rate"), data.ranks.get("online_share")
        if r1 and r2:
            extra.append(t("rank_of", lang, unit=data.unit_name, rank=r1[0], rank2=r2[0], n=r1[1]))
    _table_sheet(wb, f, t("s_ranking", lang), data.ranking, data, extra,
                 [c for c in charts if c.key.startswith("ranking_")])
    _table_sheet(wb, f, t("s_overdue_units", lang), data.overdue_units, data)
    _table_sheet(wb, f, t("s_overdue_oldest", lang), data.overdue_oldest, data)
    wb.close()
    return path
