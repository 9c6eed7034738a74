"""The report as an Excel workbook (xlsxwriter): a cover sheet with the filters and KPI definitions, a sheet per table.

Cells hold numbers (rounded as the PDF shows them, fmt.rounded) with number formats, so analysts can
compute with them; Excel shows the separators of the reader's locale. N/A is an empty cell with a note.
Text is stored as text, never as a formula or a link (exports.tables.XLSX_OPTIONS).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from presentation.excel import Workbook
from presentation.tables import Column

from .charts import Chart
from .data import TREND_KPIS, ReportData, Table, parse_month, rank_sentence
from .fmt import fmt_date, fmt_datetime, month_label
from .text import reason_text, status_label, t


def _cover(wb: Workbook, data: ReportData, charts: list[Chart]) -> None:
    lang = data.lang
    title = t("title_city" if data.is_city else "title_unit", lang, month=month_label(data.month), unit=data.unit_name)
    start, end = parse_month(data.month)
    facts = [
        (t("h_month", lang), month_label(data.month, lang)),
        (t("period", lang), f"{fmt_date(start)} – {fmt_date(date.fromordinal(end.toordinal() - 1))}"),
        (t("unit", lang), t("city", lang) if data.is_city else f"{data.unit_name} ({data.unit_code})"),
        (t("lang", lang), t("lang_name", lang)),
        (t("generated", lang), f"{fmt_datetime(data.generated_at)} ({t('tz', lang)})"),
        (t("as_of", lang), f"{fmt_datetime(data.as_of)} ({t('tz', lang)})"),
        (t("fresh", lang), fmt_datetime(data.data_updated) if data.data_updated else "N/A"),
    ]
    notes = ([t("demo_note", lang)] if data.demo else []) + [t("rounding", lang), t("source_note", lang)]
    notes += [f"{c.title}: " + t("chart_failed", lang, error=c.error or "?") for c in charts if c.png is None]
    defs = data.definitions
    cols = [Column("kpi", t("h_code", lang)), Column("name", t("h_name", lang)),
            Column("definition", t("h_definition", lang)), Column("formula", t("h_formula", lang)),
            Column("unit", t("h_unit_of", lang)), Column("legal_basis", t("h_legal", lang))]
    wb.cover(t("s_cover", lang), title, facts, notes, Table(defs.key, defs.title, cols, defs.rows),
             demo=t("demo", lang) if data.demo else None, subtitle=t("subtitle", lang))


def _targets(wb: Workbook, data: ReportData) -> None:
    lang = data.lang
    ws = wb.sheet(t("s_targets", lang))
    ws.write_string(0, 0, data.targets.title, wb.f_h2)
    few = t("few_data", lang)
    rows = [{**r, "reason": reason_text(r.get("status_reason"), lang),
             "few_text": few if r.get("few_data") else "", "month_few_text": few if r.get("month_few_data") else "",
             "comparison": {">=": "≥", "<=": "≤"}.get(r["target_comparison"] or "", "")} for r in data.targets.rows]
    month = month_label(data.month)
    u = "unit"
    cols = [Column("kpi", t("h_code", lang)), Column("name", t("h_kpi", lang)),
            Column("basis_text", t("h_basis", lang)), Column("period", t("h_period", lang), "period"),
            Column("value", t("h_value", lang), "value", unit_field=u),
            Column("unit", t("h_unit_of", lang)), Column("numerator", t("h_numerator", lang), "count"),
            Column("denominator", t("h_denominator", lang), "count"), Column("n", t("h_n", lang), "count"),
            Column("few_text", t("h_few", lang)), Column("comparison", t("h_comparison", lang)),
            Column("target", t("h_target", lang), "target", unit_field=u),
            Column("target_deadline", t("h_deadline", lang), "date"),
            Column("status", t("h_status", lang), "status"), Column("reason", t("h_reason", lang)),
            Column("projected", t("h_projected", lang), "value", unit_field=u),
            Column("month_value", t("h_month_value", lang, month=month), "value", unit_field=u),
            Column("month_n", f"{t('h_n', lang)} ({month})", "count"),
            Column("month_few_text", f"{t('h_few', lang)} ({month})"),
            Column("month_status", t("h_month_status", lang), "status"),
            Column("change", t("h_month_change", lang), "change", unit_field=u),
            Column("previous", t("h_previous", lang), "value", unit_field=u)]
    nxt = wb.table(ws, 2, Table("targets", data.targets.title, cols, rows), lambda s: status_label(s, lang))
    ws.merge_range(nxt, 0, nxt, 10, data.targets.note or "", wb.f_note)
    ws.set_row(nxt, 60)
    for j, w in enumerate([24, 48, 26, 22, 12, 12, 12, 12, 8, 12, 8, 10, 12, 24, 20, 14, 12, 8, 12, 24, 14, 12]):
        ws.set_column(j, j, w)


def _trend(wb: Workbook, data: ReportData, chart: Chart | None) -> None:
    lang = data.lang
    ws = wb.sheet(t("s_trend", lang))
    ws.write_string(0, 0, t("sec_trend", lang), wb.f_h2)
    label = {"unit": data.unit_name, "city": t("city_line", lang)}
    rows = [{"month": r["period"], "series": label[r["series"]], "kpi": r["kpi"], "name": data.kpi_names[r["kpi"]],
             "value": r["value"], "numerator": r["numerator"], "denominator": r["denominator"], "target": r["target"]}
            for r in data.trend.to_dict("records") if r["kpi"] in TREND_KPIS]
    cols = [Column("month", t("h_month", lang), "period"), Column("series", t("unit", lang)),
            Column("kpi", t("h_code", lang)), Column("name", t("h_kpi", lang)),
            Column("value", t("h_value", lang) + " (%)", "percent"),
            Column("numerator", t("h_numerator", lang), "count"), Column("denominator", t("h_denominator", lang), "count"),
            Column("target", t("h_target", lang) + " (%)", "percent")]
    wb.table(ws, 2, Table("trend", t("sec_trend", lang), cols, rows))
    for j, w in enumerate([10, 26, 24, 44, 12, 12, 12, 12]):
        ws.set_column(j, j, w)
    _image(wb, ws, chart, 2, len(cols) + 1, lang, 0.55)


def _image(wb: Workbook, ws, chart: Chart | None, row: int, col: int, lang: str, scale: float) -> None:
    if chart is None:
        return
    if chart.png is None:
        ws.write_string(row, col, t("chart_failed", lang, error=chart.error or "?"), wb.f_error)
        return
    wb.image(ws, row, col, chart.key, chart.png, scale)


def _table_sheet(wb: Workbook, name: str, table: Table, data: ReportData, extra_top: list[str] | None = None,
                 charts: list[Chart] | None = None) -> None:
    ws = wb.sheet(name)
    ws.write_string(0, 0, table.title, wb.f_h2)
    row = 1
    for text in ([table.note] if table.note else []) + (extra_top or []):
        ws.write_string(row, 0, text, wb.f_note)
        row += 1
    wb.table(ws, row + 1, table, lambda s: status_label(s, data.lang))
    for j, c in enumerate(table.columns):
        ws.set_column(j, j, max(8.0, 9 * c.width) if not c.numeric else 13)
    if not table.rows:
        ws.write_string(row + 2, 0, t("overdue_none", data.lang), wb.f_note)
    for i, chart in enumerate(charts or []):
        _image(wb, ws, chart, row + 1, len(table.columns) + 1 + i * 12, data.lang, 0.4)


def render_xlsx(data: ReportData, charts: list[Chart], path: Path) -> Path:
    """Write the report as .xlsx to `path` (presentation.excel, the one writer): cover (filters, definitions),
    targets, trend, ranking, overdue."""
    lang = data.lang
    path.parent.mkdir(parents=True, exist_ok=True)
    title = t("title_city" if data.is_city else "title_unit", lang, month=month_label(data.month), unit=data.unit_name)
    wb = Workbook(path, lang, title, demo_note=t("demo", lang) if data.demo else None)
    by_key = {c.key: c for c in charts}
    _cover(wb, data, charts)
    _targets(wb, data)
    _trend(wb, data, by_key.get("trend"))
    extra = []
    if not data.is_city:
        sentence = rank_sentence(data.unit_name, data.ranks, lang)
        if sentence:
            extra.append(sentence)
    _table_sheet(wb, t("s_ranking", lang), data.ranking, data, extra,
                 [c for c in charts if c.key.startswith("ranking_")])
    _table_sheet(wb, t("s_overdue_units", lang), data.overdue_units, data)
    _table_sheet(wb, t("s_overdue_oldest", lang), data.overdue_oldest, data)
    if data.plan_groups is not None and data.plan_tasks is not None:  # the city report (issue 12)
        _table_sheet(wb, t("s_plan", lang), data.plan_groups, data)
        _table_sheet(wb, t("s_plan_tasks", lang), data.plan_tasks, data)
    wb.close()
    return path
