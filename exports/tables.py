"""Turn metrics frames into files an analyst opens in Excel, or loads in their own tools.

Rounding (the same rule as the dashboard's cards and tables, presentation.fmt): a KPI `value` keeps the
decimals of the KPI's display metadata (kpis.yaml; by default % and working days 1, counts 0 (1 when
not whole, e.g. a projected count) and points 2); numerator and denominator are exact counts.
Exported numbers come from the same `metrics.query` call as the screen.

Rows not judged like the others are marked, never coloured: `few_data` (a rate over fewer than its
KPI's min_n) and `partial` (a period not over, figures to `as_of`) are columns of every export, and
the workbook's cover says how many rows carry them (period_notes).

Formula injection: text comes from outside (procedure codes, dossier ids, file names, bad values), and a
spreadsheet runs a cell such as `=HYPERLINK(...)` as a formula. CSV text starting with = + - @ tab or CR
gets a leading `'` (`neutralised`); every workbook is written with XLSX_OPTIONS, so xlsxwriter stores
such text as a string and never as a formula or a link.
"""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from presentation import fmt
from presentation.excel import FORMULA_STARTS, XLSX_OPTIONS, Workbook, neutralised, sheet_name  # noqa: F401
from presentation.tables import Table, from_frame, kpi_decimals
from presentation.words import t

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
ROUNDED_COLUMNS = ("value", "target", "projected", "change", "previous", "base_value")


def neutralised_frame(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every text cell passed through neutralised()."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col]):
            continue
        values = out[col].tolist()
        safe = [neutralised(v) for v in values]
        if safe != values:  # rebuilt only then, keeping the dtype: a map() would turn [12, None] into floats
            out[col] = pd.Series(safe, index=out.index, dtype=out[col].dtype)
    return out


def decimals_for(unit: str | None, value=None, kpi: str | None = None) -> int:
    """Decimals of an exported value (presentation.tables.kpi_decimals: the KPI's display decimals, else its unit's)."""
    return kpi_decimals(unit, value, kpi)


def rounded(df: pd.DataFrame) -> pd.DataFrame:
    """Round value-like columns per row by the KPI's display decimals (its unit's when there is no `kpi`
    column), as the dashboard shows them."""
    out = df.copy()
    if "unit" not in out:
        return out
    kpis = out["kpi"].tolist() if "kpi" in out else [None] * len(out)
    for col in ROUNDED_COLUMNS:
        if col in out:
            out[col] = [fmt.rounded(v, decimals_for(u, v, k))
                        for v, u, k in zip(out[col], out["unit"], kpis, strict=True)]
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, lists as ' | ' joined text: values every tool reads the same way."""
    out = df.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, list | tuple)).any():
            out[col] = out[col].map(lambda v: " | ".join(map(str, v)) if isinstance(v, list | tuple) else v)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel shows Vietnamese correctly when the file is double-clicked;
    text that would run as a formula is neutralised."""
    # CRLF rows (RFC 4180): then a value holding a CR is quoted too, and cannot split its row
    return neutralised_frame(_plain(df)).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame = _plain(df)
    for col in frame.columns:  # object columns mixing None and numbers: one type per column
        if frame[col].dtype == object:
            values = [v for v in frame[col] if v is not None]
            if values and all(isinstance(v, int | float) for v in values):
                frame[col] = pd.to_numeric(frame[col])
            else:
                frame[col] = frame[col].map(lambda v: None if v is None else str(v))
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _count_true(df: pd.DataFrame, col: str) -> int:
    return int(sum(bool(v) for v in df[col] if v is not None and v == v)) if col in df else 0


def period_notes(sheets: dict[str, pd.DataFrame], lang: str = "vi") -> list[str]:
    """Cover notes for rows that are not judged like the others: few-data rates (the `few_data`
    column) and partial periods (the `partial` column, figures to `as_of`). Such rows are marked in
    their column, never coloured."""
    few = sum(_count_true(df, "few_data") for df in sheets.values())
    partial = sum(_count_true(df, "partial") for df in sheets.values())
    out = []
    if few:
        out.append(t("xl_few_rows", lang, n=few))
    if partial:
        out.append(t("xl_partial_rows", lang, n=partial))
    return out


def xlsx_bytes(sheets: dict[str, pd.DataFrame], filters: dict[str, str], definitions: pd.DataFrame | None,
               generated_at: datetime, title: str, demo: bool = False, lang: str = "vi",
               tables: list[Table] | None = None) -> bytes:
    """A workbook (presentation.excel, the one writer): a cover sheet (title, filters, generation time, KPI
    definitions), then a sheet per table: `tables` (presentation.tables.Table, with their column kinds) or
    `sheets` (frames as they are: numbers as numbers, datetime columns as dates)."""
    tables = list(tables or []) + [from_frame(df, name) for name, df in sheets.items()]
    wb = Workbook(None, lang, title, demo_note=t("demo", lang) if demo else None)
    facts = [(t("xl_generated", lang), f"{fmt.day(generated_at)} {fmt.clock(generated_at)} (Asia/Ho_Chi_Minh)")]
    facts += [(str(k), str(v)) for k, v in filters.items()]
    notes = [t("xl_rounding", lang)]
    defs = None
    if definitions is not None and not definitions.empty:
        defs = from_frame(_plain(definitions).fillna(""), t("xl_definitions", lang))
    wb.cover(t("xl_cover", lang), title, facts, notes, defs, demo=t("xl_demo", lang) if demo else None,
             warnings=period_notes({tb.title: tb.frame() for tb in tables}, lang))
    for table in tables:
        ws = wb.sheet(table.title)
        wb.table(ws, 0, table, filters=False)
        wb.widths(ws, table)
    return wb.close() or b""
