"""Data health (analysts, operators): freshness per source, the latest ingest runs, rows quarantined and
why, and the quarantine list to fix. Every figure comes from warehouse/health.py.

Any text column may hold SQL NULL (a quarantined row from an .xlsx with merged cells has no record id
or value), which pandas reads as NaN, a float: text goes through `_text`, never straight to len() or
string code."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
from dash import html

import metrics
from warehouse import health

from .. import data, fmt
from ..components import fitted_headers, num_col, status_badge
from ..downloads import Column, Table
from ..i18n import t

RUNS_LIMIT = 100
QUARANTINE_LIMIT = 1000


def _text(value) -> str:
    """A text cell as str: '' for NULL (None or NaN)."""
    if isinstance(value, str):
        return value
    return "" if fmt.is_na(value) else str(value)


def _warnings(stored) -> list[str]:
    """A run's warnings (a JSON list in ingest_runs.warnings), as text."""
    text = _text(stored)
    return [str(w) for w in json.loads(text)] if text else []


def freshness(con: duckdb.DuckDBPyConnection, lang: str, now: datetime | None = None) -> list:
    """A card per source: last successful load (time and age), last run and its status, newest record."""
    now = now or data.local_now()
    fr = health.freshness(con, now)
    out = []
    for r in fr.to_dict("records"):
        stale = bool(r["stale"])
        badge = status_badge("deteriorating" if stale else "achieved", lang, small=True,
                             label=t("dh_stale" if stale else "dh_fresh", lang))
        last = (f"{fmt.moment(r['last_load'])} ({fmt.ago(r['age_s'], lang)})"
                if not fmt.is_na(r["last_load"]) else fmt.NA)
        out.append(html.Div([
            html.H3([t(f"dh_source_{r['source']}", lang), badge]),
            html.Dl([html.Dt(t("dh_last_load", lang)), html.Dd(last),
                     html.Dt(t("dh_last_run", lang)),
                     html.Dd(f"{fmt.moment(r['last_run'])} · {t('run_' + str(r['last_status']), lang)}"
                             if not fmt.is_na(r["last_run"]) else fmt.NA),
                     html.Dt(t("dh_newest", lang)), html.Dd(fmt.moment(r["newest_record"]) or fmt.NA)],
                    className="defs"),
        ], className="fresh-card", id=f"dh-fresh-{r['source']}"))
    slow = metrics.query_path(con, now)
    if slow is not None:  # the engine also logs it; an operator sees it here without reading logs
        out.append(html.Div([html.H3([t("dh_query_slow", lang),
                                      status_badge("limited", lang, small=True, label="!")]),
                             html.P(slow, lang="en")], className="fresh-card", id="dh-query-path"))
    return out


def runs(con: duckdb.DuckDBPyConnection, lang: str, limit: int = RUNS_LIMIT) -> list[dict]:
    df = health.ingest_runs(con, limit=limit)
    return [{"row_key": str(r["run_id"]), "run_id": int(r["run_id"]), "source": t(f"source_{r['source']}", lang),
             "channel": _text(r["channel"]),
             "file": _text(r["file_name"]),
             "profile": _text(r["profile"]), "started": fmt.moment(r["started_at"]),
             "started_sort": str(r["started_at"]),
             "duration_ms": None if fmt.is_na(r["duration_ms"]) else float(r["duration_ms"]),
             **{k: None if fmt.is_na(r[k]) else int(r[k])
                for k in ("rows_read", "inserted", "updated", "unchanged", "quarantined")},
             "status": t(f"run_{r['status']}", lang), "failed": r["status"] == "failed",
             "error": " · ".join(x for x in (_text(r["error"]), *_warnings(r.get("warnings"))) if x)}
            for r in df.to_dict("records")]


@fitted_headers
def run_columns(lang: str) -> list[dict]:
    return [
        num_col("run_id", t("col_run", lang), lang, 0, width=90, pinned="left"),
        {"field": "source", "headerName": t("col_source", lang), "width": 110},
        {"field": "channel", "headerName": t("col_channel", lang), "width": 90},
        {"field": "file", "headerName": t("col_file", lang), "minWidth": 200, "flex": 2, "tooltipField": "file"},
        {"field": "profile", "headerName": t("col_profile", lang), "width": 130},
        {"field": "started", "headerName": t("col_started", lang), "width": 150},
        num_col("duration_ms", t("col_duration", lang), lang, 0, width=120),
        num_col("rows_read", t("col_read", lang), lang, 0, width=110),
        num_col("inserted", t("col_inserted", lang), lang, 0, width=110),
        num_col("updated", t("col_updated", lang), lang, 0, width=110),
        num_col("unchanged", t("col_unchanged", lang), lang, 0, width=110),
        num_col("quarantined", t("col_quarantined", lang), lang, 0, width=110,
                cellClassRules={"text-danger fw-bold": "params.value > 0"}),
        {"field": "status", "headerName": t("col_run_status", lang), "width": 200, "tooltipField": "status",
         "cellClassRules": {"text-danger fw-bold": "params.data.failed"}},
        {"field": "error", "headerName": t("col_error", lang), "minWidth": 200, "flex": 2, "tooltipField": "error"},
    ]


def reasons(con: duckdb.DuckDBPyConnection, lang: str) -> html.Div:
    """Quarantined rows grouped by reason, in words."""
    return reasons_view(con, lang)[0]


def reasons_view(con: duckdb.DuckDBPyConnection, lang: str) -> tuple[html.Div, Table]:
    """reasons() and its rows as a downloadable table."""
    df = health.quarantine_reasons(con, lang=lang)
    records = [{"reason": _text(r["reason"]), "source": t(f"source_{r['source']}", lang), "rows": int(r["rows"]),
                "files": int(r["files"]), "latest": fmt.moment(r["latest"])} for r in df.to_dict("records")]
    table = Table("ly-do-cach-ly", t("dh_reasons", lang),
                  [Column("reason", t("col_reason", lang)), Column("source", t("col_source", lang)),
                   Column("rows", t("col_rows", lang)), Column("files", t("col_files", lang)),
                   Column("latest", t("col_latest", lang))], records, [], {t("f_page", lang): t("dh_title", lang)})
    if df.empty:
        return html.P(t("dh_reasons_none", lang), className="muted"), table
    head = html.Thead(html.Tr([html.Th(t("col_reason", lang)), html.Th(t("col_source", lang)),
                               html.Th(t("col_rows", lang), className="num"),
                               html.Th(t("col_files", lang), className="num"), html.Th(t("col_latest", lang))]))
    body = html.Tbody([html.Tr([html.Td(r["reason"]), html.Td(r["source"]),
                                html.Td(fmt.number(r["rows"], 0, lang), className="num"),
                                html.Td(fmt.number(r["files"], 0, lang), className="num"),
                                html.Td(r["latest"])]) for r in records])
    return html.Div(html.Table([head, body], className="kpi-table"), className="table-scroll"), table


def quarantine(con: duckdb.DuckDBPyConnection, lang: str, limit: int = QUARANTINE_LIMIT) -> list[dict]:
    df = health.quarantine_list(con, lang=lang, limit=limit)
    return [{"row_key": f"{r['run_id']}-{r['line']}-{i}", "run_id": int(r["run_id"]),
             "source": t(f"source_{r['source']}", lang),
             "file": _text(r["file_name"]), "line": None if fmt.is_na(r["line"]) else int(r["line"]),
             "record": _text(r["record_id"]), "reason": _text(r["reason"]),
             "column": _text(r["column_name"]), "value": _text(r["bad_value"]),
             "time": fmt.moment(r["quarantined_at"])} for i, r in enumerate(df.to_dict("records"))]


@fitted_headers
def quarantine_columns(lang: str) -> list[dict]:
    return [
        {"field": "file", "headerName": t("col_file", lang), "minWidth": 180, "flex": 1, "tooltipField": "file"},
        num_col("line", t("col_line", lang), lang, 0, width=90),
        {"field": "record", "headerName": t("col_record", lang), "minWidth": 160, "flex": 1},
        {"field": "reason", "headerName": t("col_reason", lang), "minWidth": 320, "flex": 3, "wrapText": True,
         "autoHeight": True, "cellStyle": {"lineHeight": "1.35", "paddingTop": "4px", "paddingBottom": "4px"}},
        {"field": "column", "headerName": t("col_column", lang), "width": 130},
        {"field": "value", "headerName": t("col_value", lang), "width": 150, "tooltipField": "value"},
        num_col("run_id", t("col_run", lang), lang, 0, width=90),
        {"field": "time", "headerName": t("col_time", lang), "width": 150},
    ]


def runs_table(lang: str, rows: list[dict]) -> Table:
    """The runs grid as a downloadable table (`rows` as the grid shows them)."""
    columns = [Column("run_id", t("col_run", lang)), Column("source", t("col_source", lang)),
               Column("channel", t("col_channel", lang)), Column("file", t("col_file", lang)),
               Column("profile", t("col_profile", lang)), Column("started", t("col_started", lang)),
               Column("duration_ms", t("col_duration", lang)), Column("rows_read", t("col_read", lang)),
               Column("inserted", t("col_inserted", lang)), Column("updated", t("col_updated", lang)),
               Column("unchanged", t("col_unchanged", lang)), Column("quarantined", t("col_quarantined", lang)),
               Column("status", t("col_run_status", lang)), Column("error", t("col_error", lang))]
    return Table("lan-nap", t("dh_runs", lang), columns, rows, [],
                 {t("f_page", lang): t("dh_title", lang), t("f_shown", lang): t("f_as_shown", lang)})


def quarantine_table(lang: str, rows: list[dict]) -> Table:
    """The quarantine grid as a downloadable table (`rows` as the grid shows them)."""
    columns = [Column("file", t("col_file", lang)), Column("line", t("col_line", lang)),
               Column("record", t("col_record", lang)), Column("reason", t("col_reason", lang)),
               Column("column", t("col_column", lang)), Column("value", t("col_value", lang)),
               Column("run_id", t("col_run", lang)), Column("time", t("col_time", lang))]
    return Table("cach-ly", t("dh_quarantine", lang), columns, rows, [],
                 {t("f_page", lang): t("dh_title", lang), t("f_shown", lang): t("f_as_shown", lang)})
