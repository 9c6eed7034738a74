"""The one Excel writer (xlsxwriter) of every workbook: dashboard downloads, the API's exports, the monthly report.

As an analyst expects: numbers are numbers (rounded as every surface shows them, presentation.tables)
with a number format of the KPI's decimals, so Excel shows the separators of the reader's locale; dates
are real dates (dd/mm/yyyy, or dd/mm/yyyy hh:mm in Hanoi time), never text; N/A is an empty cell; a
status cell carries its word and the palette's colour; sheet names are legal and unique, with forbidden
characters replaced, never dropped (sheet_name).

Formula injection: text comes from outside (procedure codes, dossier ids, file names, bad values), and a
spreadsheet runs a cell such as `=HYPERLINK(...)` as a formula. Every workbook is opened with
XLSX_OPTIONS, so xlsxwriter stores such text as a string, never as a formula or a link; CSV text is
prefixed with ' (`neutralised`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import xlsxwriter

from . import palette
from .tables import Column, Table

XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}  # xlsxwriter Workbook options
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_MAX = 31
# Excel forbids []:*?/\ in a sheet name: each replaced by a look-alike that reads the same
# (a full-width question mark keeps the question; Excel accepts it)
SHEET_REPLACE = {":": " -", "/": "-", "\\": "-", "?": "\uff1f", "*": "\u00d7", "[": "(", "]": ")"}
HEAD_FILL = "#E2EAF4"
TITLE_COLOUR = "#1F5FA8"


def neutralised(value):
    """Text a spreadsheet would read as a formula, prefixed with ' (shown as typed); anything else as it is.

    Only text: a negative number is a number, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def sheet_name(title: str, taken: Iterable[str] = ()) -> str:
    """A legal, unique Excel sheet name for `title`: forbidden characters replaced (':' -> ' -', '/' -> '-',
    '[' -> '(' ...), spaces collapsed, at most 31 characters (cut at a word where it can), no leading or
    trailing apostrophe, and unique (case-insensitive) among `taken` by ' (2)', ' (3)'."""
    name = "".join(SHEET_REPLACE.get(ch, ch) for ch in str(title))
    name = " ".join(name.split()).strip("'").strip() or "Data"
    if len(name) > SHEET_MAX:
        cut = name[:SHEET_MAX]
        name = (cut.rsplit(" ", 1)[0] if " " in cut[SHEET_MAX // 2:] else cut).rstrip(" -,.")
    used = {t.casefold() for t in taken}
    base, n = name, 2
    while name.casefold() in used or name.casefold() == "history":
        suffix = f" ({n})"
        name = base[:SHEET_MAX - len(suffix)].rstrip() + suffix
        n += 1
    return name


class Workbook:
    """An xlsxwriter workbook with the house formats; write tables with `table`, a cover with `cover`.

    `target` is a path, or None to build in memory (`close()` then returns the bytes)."""

    def __init__(self, target: Path | str | None = None, lang: str = "vi", title: str = "",
                 demo_note: str | None = None) -> None:
        self.lang = lang
        self._buf = io.BytesIO() if target is None else None
        self.wb = xlsxwriter.Workbook(self._buf if target is None else str(target),
                                      {"nan_inf_to_errors": True, "default_date_format": "dd/mm/yyyy",
                                       **XLSX_OPTIONS})
        self.wb.set_properties({"title": title, "author": "R57 dashboard", "comments": demo_note or ""})
        add = self.wb.add_format
        self.f_title = add({"bold": True, "font_size": 16, "font_color": TITLE_COLOUR})
        self.f_h2 = add({"bold": True, "font_size": 12, "font_color": TITLE_COLOUR})
        self.f_head = add({"bold": True, "bg_color": HEAD_FILL, "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.f_text = add({"text_wrap": True, "valign": "top"})
        self.f_bold = add({"bold": True, "valign": "top"})
        self.f_demo = add({"bold": True, "font_size": 14, "bg_color": "#FFECB3", "font_color": "#8A4B00",
                           "border": 2, "border_color": "#E08214"})
        self.f_note = add({"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"})
        self.f_warn = add({"bold": True, "font_color": "#9C2A00"})
        self.f_error = add({"bold": True, "font_color": "#B2182B"})
        self._cell_formats: dict[tuple, object] = {}

    # --- sheets ----------------------------------------------------------------------------------------
    def sheet(self, title: str):
        """A new worksheet named after `title` (sanitised, unique)."""
        return self.wb.add_worksheet(sheet_name(title, self.wb.sheetnames))

    def cell_format(self, number_format: str | None, highlight: bool = False, status: str | None = None,
                    wrap: bool = False):
        key = (number_format, highlight, status, wrap)
        if key not in self._cell_formats:
            spec: dict = {"valign": "top"}
            if number_format:
                spec["num_format"] = number_format
            if wrap:
                spec["text_wrap"] = True
            if highlight:
                spec.update({"bold": True, "bg_color": "#FFECB3"})
            if status:
                spec.update({"bold": True, "font_color": "#FFFFFF", "bg_color": palette.style(status).colour})
            self._cell_formats[key] = self.wb.add_format(spec)
        return self._cell_formats[key]

    def write_cell(self, ws, r: int, c: int, column: Column, value, row: dict | None = None,
                   highlight: bool = False, status_word: Callable[[str], str] | None = None) -> None:
        """One cell: a number with its number format, a real date, or text (never a formula); N/A empty."""
        status = None
        if column.kind == "status" and isinstance(value, str) and value in palette.report_colours():
            status = value
        fmt_ = self.cell_format(column.excel_format(value, row), highlight, status)
        if column.kind == "status":
            word = status_word(value) if status_word and isinstance(value, str) else column.text(value, row, self.lang)
            ws.write_string(r, c, word, fmt_)
            return
        v = column.cell(value, row, self.lang)
        if v is None:
            ws.write_blank(r, c, None, fmt_)
        elif isinstance(v, datetime):
            ws.write_datetime(r, c, v, fmt_)
        elif isinstance(v, bool):
            ws.write_boolean(r, c, v, fmt_)
        elif isinstance(v, int | float):
            ws.write_number(r, c, v, fmt_)
        else:
            ws.write_string(r, c, str(v), fmt_)

    def table(self, ws, top: int, table: Table, status_word: Callable[[str], str] | None = None,
              highlight: str = "highlight", filters: bool = True, freeze: bool = True) -> int:
        """The table's header and rows at row `top` (and its `total` row, highlighted); returns the next free row."""
        for j, c in enumerate(table.columns):
            ws.write_string(top, j, c.label, self.f_head)
        rows = list(table.rows)
        for i, rec in enumerate(rows, 1):
            for j, c in enumerate(table.columns):
                self.write_cell(ws, top + i, j, c, rec.get(c.key), rec, bool(rec.get(highlight)), status_word)
        end = top + len(rows)
        if table.total:
            end += 1
            for j, c in enumerate(table.columns):
                self.write_cell(ws, end, j, c, table.total.get(c.key), table.total, True, status_word)
        if rows and filters:
            ws.autofilter(top, 0, top + len(rows), len(table.columns) - 1)
        if freeze:
            ws.freeze_panes(top + 1, 0)
        return end + 2

    def widths(self, ws, table: Table, cap: int = 60) -> None:
        """Column widths from the headers and the first 200 cells' text."""
        for j, c in enumerate(table.columns):
            texts = [c.text(r.get(c.key), r, self.lang) for r in table.rows[:200]]
            ws.set_column(j, j, min(cap, max(10, len(c.label) + 2, *(len(s) + 2 for s in texts))))

    def table_sheet(self, table: Table, status_word: Callable[[str], str] | None = None, heading: bool = False):
        """A sheet holding one table (its title as the sheet name; `heading`: the title above the table)."""
        ws = self.sheet(table.title)
        top = 0
        if heading:
            ws.write_string(0, 0, table.title, self.f_h2)
            top = 2
        self.table(ws, top, table, status_word)
        self.widths(ws, table)
        return ws

    def cover(self, name: str, title: str, facts: list[tuple[str, str]], notes: list[str] = (),  # type: ignore[assignment]
              definitions: Table | None = None, demo: str | None = None, subtitle: str | None = None,
              definitions_title: str | None = None, warnings: list[str] = ()) -> object:  # type: ignore[assignment]
        """The cover: title, the demo banner, the facts (filters, times) as label/value pairs, notes, warnings,
        and the KPI definitions."""
        ws = self.wb.add_worksheet(sheet_name(name, self.wb.sheetnames))
        ws.set_column(0, 0, 34)
        ws.set_column(1, 1, 60)
        ws.set_column(2, 5, 40)
        ws.write_string(0, 0, title, self.f_title)
        row = 1
        if demo:
            ws.write_string(row, 0, demo, self.f_demo)
            row += 1
        if subtitle:
            ws.write_string(row, 0, subtitle, self.f_note)
            row += 1
        row += 1
        for k, v in facts:
            ws.write_string(row, 0, k, self.f_bold)
            ws.write_string(row, 1, "" if v is None else str(v), self.f_text)
            row += 1
        row += 1
        for text in notes:
            ws.merge_range(row, 0, row, 3, text, self.f_note)
            ws.set_row(row, 36)
            row += 1
        for text in warnings:
            ws.write_string(row, 0, text, self.f_warn)
            row += 1
        if definitions is not None and definitions.rows:
            row += 1
            ws.write_string(row, 0, definitions_title or definitions.title, self.f_h2)
            self.table(ws, row + 1, definitions, filters=False, freeze=False)
        return ws

    def image(self, ws, row: int, col: int, name: str, png: bytes, scale: float) -> None:
        """A PNG rendered at scale 2, shown at `scale` of its CSS size."""
        ws.insert_image(row, col, f"{name}.png", {"image_data": io.BytesIO(png), "x_scale": scale / 2,
                                                  "y_scale": scale / 2, "object_position": 3})

    def close(self) -> bytes | None:
        self.wb.close()
        return self._buf.getvalue() if self._buf is not None else None
