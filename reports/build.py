"""Make one report (city or ward, one month, one language) as PDF and/or Excel files."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

import config

from .charts import build_charts
from .data import ReportError, collect

log = logging.getLogger(__name__)
STEM_SUFFIX = {"vi": "", "en": "-en"}  # a report file's name says its language, Vietnamese unmarked

FORMATS = ("pdf", "xlsx")
# libraries that log every font subset and browser tab at INFO: their details are noise in the ingest log
NOISY_LOGGERS = ("fontTools", "kaleido", "choreographer")


def _quiet_libraries() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))


def report_stem(month: str, unit_code: str | None = None, lang: str = "vi") -> str:
    """'bao-cao-thang-2026-10-thanh-pho', 'bao-cao-thang-2026-10-00073'; '-en' for the English version."""
    who = "thanh-pho" if unit_code in (None, config.CITY_CODE) else unit_code
    return f"bao-cao-thang-{month}-{who}" + STEM_SUFFIX.get(lang, "")


def build_report(con: duckdb.DuckDBPyConnection, month: str, out_dir: Path, unit_code: str | None = None,
                 lang: str = "vi", now: datetime | None = None, formats: Sequence[str] = FORMATS,
                 charts: bool = True, plan: dict | None = None) -> list[Path]:
    """Collect the figures once and write each format; files appear complete or not at all (rename).
    `plan`: the implementation plan at the month's end (the city report's plan section)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ReportError(f"unknown report format {bad}; expected some of {list(FORMATS)}")
    from .pdf import find_fonts, render_pdf
    from .xlsx import render_xlsx

    _quiet_libraries()

    if "pdf" in formats:
        find_fonts()  # fail before any query when no Unicode font is installed
    data = collect(con, month, unit_code, lang, now, plan=plan)
    figures = build_charts(data, render=charts)
    stem = report_stem(month, unit_code, lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, render in (("pdf", render_pdf), ("xlsx", render_xlsx)):
        if fmt not in formats:
            continue
        final = out_dir / f"{stem}.{fmt}"
        tmp = out_dir / f".{stem}.{fmt}.tmp"
        try:
            render(data, figures, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(final)
    log.info("report %s written: %s", stem, [p.name for p in written])
    return written
