"""The report as PDF (fpdf2) with a Unicode TTF font, so Vietnamese prints as written.

Fonts: Noto Sans (Debian fonts-noto-core) first, DejaVu Sans (fonts-dejavu-core) second, or the file
named by R57_REPORT_FONT; DejaVu also serves as the fallback for status symbols Noto Sans lacks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from fpdf import FPDF, FontFace

import clock
from presentation import palette

from .charts import Chart
from .data import ReportData, Table, rank_sentence
from .fmt import (
    fmt_change,
    fmt_count,
    fmt_date,
    fmt_datetime,
    fmt_target,
    fmt_value,
    is_na,
    month_label,
)
from .text import STATUS_ORDER, STATUS_SYMBOLS, UNCOLOURED, reason_text, status_label, t

NOTO = Path("/usr/share/fonts/truetype/noto")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONT_CANDIDATES = [
    (NOTO / "NotoSans-Regular.ttf", NOTO / "NotoSans-Bold.ttf"),
    (DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"),
]
SYMBOL_FONT = DEJAVU / "DejaVuSans.ttf"


class FontMissing(RuntimeError):
    """No Unicode TTF font: the PDF would lose its Vietnamese letters, so it is not made."""


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path
    symbols: Path | None    # a fallback font for the status symbols
    ascii_status: bool      # no font has the symbols: use ASCII marks


def _has_glyphs(path: Path, text: str) -> bool:
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    cmap = TTFont(str(path), lazy=True).getBestCmap()
    return all(ord(c) in cmap for c in text)


@cache
def find_fonts() -> Fonts:
    """The first Unicode font present (R57_REPORT_FONT, Noto Sans, DejaVu Sans); FontMissing says how to get one."""
    from config import load_settings

    env = load_settings().report_font
    candidates = ([(env, Path(str(env).replace("Regular", "Bold")))] if env else []) + FONT_CANDIDATES
    for regular, bold in candidates:
        if regular.is_file() and _has_glyphs(regular, "Phường Cửa Nam ĐÂƯỠ"):
            bold = bold if bold.is_file() else regular
            symbols = "".join(STATUS_SYMBOLS.values()) + "≥≤"
            if _has_glyphs(regular, symbols):
                return Fonts(regular, bold, None, False)
            if SYMBOL_FONT.is_file() and _has_glyphs(SYMBOL_FONT, symbols):
                return Fonts(regular, bold, SYMBOL_FONT, False)
            return Fonts(regular, bold, None, True)
    raise FontMissing("No Unicode TTF font for the PDF report: install Debian's fonts-noto-core "
                      "(apt-get install fonts-noto-core) or fonts-dejavu-core, or set R57_REPORT_FONT to a .ttf "
                      "file with Vietnamese letters.")


def _nfc(text: object) -> str:
    # exports sometimes carry decomposed accents; the font has the composed letters
    return unicodedata.normalize("NFC", str(text))


class _Pdf(FPDF):
    def __init__(self, data: ReportData, fonts: Fonts) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.data, self.report_fonts = data, fonts
        self.add_font("Body", "", str(fonts.regular))
        self.add_font("Body", "B", str(fonts.bold))
        if fonts.symbols is not None:
            self.add_font("Symbols", "", str(fonts.symbols))
            self.set_fallback_fonts(["Symbols"], exact_match=False)
        self.set_auto_page_break(True, margin=14)
        self.set_margins(12, 12, 12)
        self.alias_nb_pages()
        who = t("city", data.lang) if data.is_city else f"{data.unit_name} ({data.unit_code})"
        self.set_title(_nfc(t("title_city" if data.is_city else "title_unit", data.lang,
                              month=month_label(data.month), unit=data.unit_name)))
        self.set_author("R57 dashboard")
        self.set_creation_date(clock.wall())
        self._footer_text = _nfc(t("footer", data.lang, month=month_label(data.month), unit=who))

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Body", "", 7.5)
        self.set_text_color(110, 110, 110)
        demo = "   ·   " + t("demo", self.data.lang) if self.data.demo else ""
        self.cell(0, 5, self._footer_text + demo, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, t("page", self.data.lang, n=self.page_no(), total="{nb}"), align="R")
        self.set_text_color(0, 0, 0)

    # --- building blocks ----------------------------------------------------------------------------
    def heading(self, text: str, size: float = 13) -> None:
        self.set_font("Body", "B", size)
        self.set_text_color(31, 95, 168)
        self.multi_cell(0, size * 0.55, _nfc(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def para(self, text: str, size: float = 8.5, bold: bool = False) -> None:
        self.set_font("Body", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, _nfc(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def demo_banner(self) -> None:
        if not self.data.demo:
            return
        self.set_fill_color(255, 236, 179)
        self.set_draw_color(224, 130, 20)
        self.set_font("Body", "B", 11)
        self.cell(0, 8, _nfc(t("demo", self.data.lang)), border=1, fill=True, align="C",
                  new_x="LMARGIN", new_y="NEXT")
        self.set_fill_color(255, 255, 255)
        self.set_draw_color(0, 0, 0)
        self.ln(2)

    def table_of(self, table: Table, cells: list[list[str]], styles: list[list[FontFace | None]] | None = None,
                 size: float = 7.5, align: list[str] | None = None) -> None:
        self.set_font("Body", "", size)
        widths = [c.width for c in table.columns]
        head = FontFace(emphasis="BOLD", fill_color=(226, 234, 244))
        with self.table(col_widths=widths, headings_style=head, line_height=size * 0.48, text_align="LEFT",
                        padding=0.8, repeat_headings=1, v_align="MIDDLE") as tb:
            row = tb.row()
            for c in table.columns:
                row.cell(_nfc(c.header))
            for i, values in enumerate(cells):
                row = tb.row()
                for j, text in enumerate(values):
                    style = styles[i][j] if styles else None
                    row.cell(_nfc(text), style=style, align=(align[j] if align else None))
        self.ln(2)

    def grid(self, table: Table, cells: list[list[str]], highlight: list[bool] | None = None, size: float = 7,
             align: list[str] | None = None, muted: list[bool] | None = None) -> None:
        """A one-line-per-row table drawn with plain cells (fpdf's table() is ~10x slower on 126 rows)."""
        total = sum(c.width for c in table.columns)
        widths = [self.epw * c.width / total for c in table.columns]
        h = size * 0.55

        def header() -> None:
            self.set_font("Body", "B", size)
            self.set_fill_color(226, 234, 244)
            for w, c in zip(widths, table.columns, strict=True):
                self.cell(w, h + 1, self._fit(c.header, w), border=1, fill=True)
            self.ln(h + 1)
        header()
        for i, values in enumerate(cells):
            if self.get_y() + h > self.page_break_trigger:
                self.add_page(orientation=self.cur_orientation)
                header()
            hi = bool(highlight and highlight[i])
            self.set_font("Body", "B" if hi else "", size)
            self.set_fill_color(*((255, 236, 179) if hi else (255, 255, 255)))
            self.set_text_color(*((110, 110, 110) if muted and muted[i] else (0, 0, 0)))  # few data: grey, no colour
            for j, (w, text) in enumerate(zip(widths, values, strict=True)):
                self.cell(w, h, self._fit(text, w), border=1, fill=hi, align="R" if align and align[j] == "RIGHT" else "L")
            self.ln(h)
        self.set_text_color(0, 0, 0)
        self.set_fill_color(255, 255, 255)
        self.ln(2)

    def _fit(self, text: str, w: float) -> str:
        text = _nfc(text)
        if self.get_string_width(text) <= w - 2 * self.c_margin:
            return text
        while text and self.get_string_width(text + "…") > w - 2 * self.c_margin:
            text = text[:-1]
        return text + "…"

    def image_or_note(self, chart: Chart | None, w: float, h_max: float) -> None:
        if chart is None:
            return
        if chart.png is None:
            self.set_text_color(178, 24, 43)
            self.para(t("chart_failed", self.data.lang, error=chart.error or "?"), 9, bold=True)
            self.set_text_color(0, 0, 0)
            return
        h = w * chart.height_px / chart.width_px
        if h > h_max:
            w, h = h_max * chart.width_px / chart.height_px, h_max
        x = self.l_margin + (self.epw - w) / 2
        self.image(chart.png, x=x, w=w, h=h)
        self.ln(2)


def _status_face(status: str | None) -> FontFace | None:
    if not status:
        return None
    if status in UNCOLOURED:  # not judged: a word and a symbol, never a status colour
        return FontFace(color=(90, 90, 90))
    return FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=palette.style(status).rgb)


def _target_text(r: dict, lang: str) -> str:
    if is_na(r["target"]):
        return ""
    cmp = {">=": "≥", "<=": "≤"}.get(r["target_comparison"] or "", r["target_comparison"] or "")
    return f"{cmp} {fmt_target(r['target'], r['unit'], lang)}"


def _nd_text(r: dict, lang: str) -> str:
    n, d = r["numerator"], r["denominator"]
    if not is_na(n) and not is_na(d):
        num = fmt_count(n, lang) if float(n).is_integer() else fmt_value(n, None, lang)
        return f"{num} / {fmt_count(d, lang)}"
    if not is_na(d):
        return f"n = {fmt_count(d, lang)}"
    return ""


def _cover(pdf: _Pdf, data: ReportData, charts: list[Chart]) -> None:
    lang = data.lang
    pdf.add_page()
    pdf.demo_banner()
    pdf.ln(14)
    title = t("title_city" if data.is_city else "title_unit", lang, month=month_label(data.month), unit=data.unit_name)
    pdf.set_font("Body", "B", 22)
    pdf.set_text_color(31, 95, 168)
    pdf.multi_cell(0, 11, _nfc(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Body", "", 12)
    pdf.multi_cell(0, 7, _nfc(t("subtitle", lang)), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    from .data import parse_month

    start, end = parse_month(data.month)
    last = end.toordinal() - 1
    unit = t("city", lang) if data.is_city else f"{data.unit_name} ({data.unit_code})"
    facts = [
        (t("unit", lang), unit),
        (t("period", lang), f"{fmt_date(start)} – {fmt_date(date.fromordinal(last))}"),
        (t("generated", lang), f"{fmt_datetime(data.generated_at)} ({t('tz', lang)})"),
        (t("as_of", lang), f"{fmt_datetime(data.as_of)} ({t('tz', lang)})"),
        (t("fresh", lang), f"{fmt_datetime(data.data_updated)}" if data.data_updated else "N/A"),
    ]
    pdf.set_x(pdf.l_margin + 40)
    for k, v in facts:
        pdf.set_x(pdf.l_margin + 40)
        pdf.set_font("Body", "B", 11)
        pdf.cell(70, 7, _nfc(k + ":"))
        pdf.set_font("Body", "", 11)
        pdf.cell(0, 7, _nfc(v), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    if data.demo:
        pdf.para(t("demo_note", lang), 10, bold=True)
    pdf.para(t("rounding", lang), 8.5)
    pdf.para(t("source_note", lang), 8.5)
    pdf.ln(3)
    pdf.set_font("Body", "B", 10)
    pdf.cell(0, 6, _nfc(t("contents", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", "", 10)
    for key in ("sec_targets", "sec_trend", "sec_ranking", "sec_overdue", "sec_defs"):
        pdf.cell(0, 5.5, _nfc("   " + t(key, lang)), new_x="LMARGIN", new_y="NEXT")
    failed = [c for c in charts if c.png is None]
    if failed:
        pdf.ln(2)
        pdf.set_text_color(178, 24, 43)
        for c in failed:
            pdf.para(f"{c.title}: " + t("chart_failed", lang, error=c.error or "?"), 8.5, bold=True)
        pdf.set_text_color(0, 0, 0)


def _targets(pdf: _Pdf, data: ReportData) -> None:
    lang, table = data.lang, data.targets
    pdf.add_page()
    pdf.heading(table.title)
    ascii_only = pdf.report_fonts.ascii_status
    cells, styles, reasons = [], [], []
    for r in table.rows:
        status = status_label(r["status"], lang, ascii_only)
        reason = reason_text(r.get("status_reason"), lang)
        month = ""
        if not is_na(r.get("month_value")):
            month = fmt_value(r["month_value"], r["unit"], lang, decimals=r.get("decimals"))
            if r.get("month_few_data"):
                month += f" ({t('few_data', lang)}, n = {fmt_count(r.get('month_n'), lang)})"
        if reason:
            reasons.append(f"{r['name']}: {reason}")
        cells.append([r["name"], r.get("basis_text") or month_label(str(r["period"] or ""), lang), fmt_value(r["value"], r["unit"], lang, decimals=r.get("decimals")),
                      _nd_text(r, lang), _target_text(r, lang), fmt_date(r["target_deadline"]), status,
                      fmt_value(r["projected"], r["unit"], lang, decimals=r.get("decimals")) if not is_na(r["projected"]) else "",
                      month, fmt_change(r["change"], r["unit"], lang, r.get("decimals"))])
        styles.append([None] * 6 + [_status_face(r["status"])] + [None, None, None])
    pdf.table_of(table, cells, styles, size=7.5, align=["LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT", "LEFT",
                                                         "RIGHT", "RIGHT", "RIGHT"])
    if reasons:  # why a target has no status: the data it needs (never "no data" beside a value unexplained)
        pdf.para(t("no_data_reasons", lang) + " " + "; ".join(reasons) + ".", 8)
    pdf.para(table.note or "", 8)
    pdf.set_font("Body", "B", 8)
    pdf.cell(0, 5, _nfc(t("legend", lang) + ":"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Body", "", 8)
    pdf.multi_cell(0, 4.5, _nfc("   ".join(status_label(s, lang, ascii_only) for s in STATUS_ORDER)),
                   new_x="LMARGIN", new_y="NEXT")


def _trend(pdf: _Pdf, data: ReportData, chart: Chart | None) -> None:
    pdf.add_page()
    pdf.heading(t("sec_trend", data.lang))
    pdf.image_or_note(chart, w=pdf.epw * 0.92, h_max=pdf.eph - 30)
    pdf.para(t("trend_note", data.lang), 8)


def _ranking(pdf: _Pdf, data: ReportData, charts: list[Chart]) -> None:
    lang, table = data.lang, data.ranking
    for chart in charts:  # landscape, like every page of the section (and of the report)
        pdf.add_page(orientation="L")
        pdf.heading(chart.title, 12)
        pdf.image_or_note(chart, w=pdf.epw, h_max=pdf.eph - 16)
    pdf.add_page(orientation="L")
    pdf.heading(table.title)
    if not data.is_city:
        sentence = rank_sentence(data.unit_name, data.ranks, lang)
        if sentence:
            pdf.para(sentence, 10, bold=True)
    pdf.para(table.note or "", 8)
    cells = [[c.text(r.get(c.key), r, lang) if c.key != "rank" or r["rank"] else "" for c in table.columns]
             for r in table.rows]
    align = ["RIGHT" if c.numeric else "LEFT" for c in table.columns]
    pdf.grid(table, cells, [r["highlight"] for r in table.rows], size=7, align=align,
             muted=[r.get("group") == "few_data" for r in table.rows])


def _overdue(pdf: _Pdf, data: ReportData) -> None:
    lang = data.lang
    pdf.add_page(orientation="L")
    pdf.heading(t("sec_overdue", lang))
    for table in (data.overdue_units, data.overdue_oldest):
        pdf.para(table.note or "", 8.5, bold=True)
        if not table.rows:
            pdf.para(t("overdue_none", lang), 9)
            continue
        align = ["RIGHT" if c.numeric else "LEFT" for c in table.columns]
        rows = table.rows + ([table.total] if table.total else [])
        cells = [[c.text(r.get(c.key), r, lang) for c in table.columns] for r in rows]
        pdf.grid(table, cells, [r is table.total for r in rows], size=7.5, align=align)


def _plan(pdf: _Pdf, data: ReportData) -> None:
    """The city report's plan section (issue 12): the task groups, then the late and at-risk tasks."""
    if data.plan_groups is None:
        return
    lang = data.lang
    pdf.add_page(orientation="L")
    pdf.heading(data.plan_groups.title)
    for table in (data.plan_groups, data.plan_tasks):
        if table is not data.plan_groups:
            pdf.para(table.title, 10, bold=True)
        pdf.para(table.note or "", 8.5)
        if not table.rows:
            continue
        align = ["RIGHT" if c.numeric else "LEFT" for c in table.columns]
        cells = [[c.text(r.get(c.key), r, lang) for c in table.columns] for r in table.rows]
        pdf.grid(table, cells, [False] * len(cells), size=7, align=align)


def _definitions(pdf: _Pdf, data: ReportData) -> None:
    table = data.definitions
    pdf.add_page(orientation="L")
    pdf.heading(table.title)
    cells = [[f"{r['name']} ({r['kpi']})", r["definition"], r["formula"], r["unit"], r["legal_basis"]]
             for r in table.rows]
    pdf.table_of(table, cells, size=6.8)


def render_pdf(data: ReportData, charts: list[Chart], path: Path) -> Path:
    """Write the report as PDF to `path`: cover, targets, trend, ranking, overdue, the plan (city), definitions."""
    pdf = _Pdf(data, find_fonts())
    by_key = {c.key: c for c in charts}
    _cover(pdf, data, charts)
    _targets(pdf, data)
    _trend(pdf, data, by_key.get("trend"))
    _ranking(pdf, data, [c for c in charts if c.key.startswith("ranking_")])
    _overdue(pdf, data)
    _plan(pdf, data)
    _definitions(pdf, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path

