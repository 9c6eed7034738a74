"""Downloads: every table as CSV (UTF-8 with BOM), Excel (.xlsx, a cover sheet and the table) or Parquet,
and every chart as PNG or SVG.

Why the files hold exactly the numbers on screen:

- a file is made from the rows the screen was drawn from, never from a second query or a later clock:
  an AG Grid's rows are read back from the grid itself (`virtualRowData`: the rows as filtered and sorted
  on screen, plus its pinned rows), and an HTML table's rows travel beside it in a dcc.Store
  (`Table.to_store`) that the same callback fills from the same view function;
- numbers are rounded by `exports.rounded()` (the API's and the reports' rule, the one the screen formats
  with): % and working days 1 decimal, points 2, counts whole; numerators, denominators and other exact
  counts (ratings, rows, dossiers) are written as they are;
- the columns are the table's, with its headers in the page's language; the .xlsx has a cover sheet
  (`exports.xlsx_bytes`, as the API's exports) with the filters used, the generation time, the data
  snapshot and the definition of each KPI in the table.

Charts are saved by the browser from the figure on screen (Plotly.downloadImage, PNG or SVG; see
IMAGE_JS): the same figure, no server round trip.
"""

from __future__ import annotations

import logging
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, no_update

import exports
from presentation import tables
from presentation.excel import sheet_name  # noqa: F401  (the one sheet-name rule)
from presentation.files import file_name

from . import data, fmt, ids
from .i18n import t

log = logging.getLogger(__name__)

TABLE_FORMATS = (("csv", "CSV (UTF-8)"), ("xlsx", "Excel (.xlsx)"), ("parquet", "Parquet"))
IMAGE_FORMATS = (("png", "PNG"), ("svg", "SVG"))
DEFINITION_COLUMNS = ["kpi", "name", "description", "unit", "legal_basis"]  # as the API's exports


def Column(field: str, header: str, unit: str | None = None, unit_field: str | None = None,  # noqa: N802
           kind: str | None = None, decimals: int | None = None) -> tables.Column:
    """One column of a downloadable table (presentation.tables.Column, the one model).

    unit: the KPI unit word of every value in the column ('%', 'hồ sơ', 'điểm', ...): rounded as on screen;
    unit_field: the row field that holds each row's unit (a table with one KPI per row: decimals from the
    row's `kpi` display metadata); neither: written as it is (text, exact counts; dates as Excel dates).
    """
    return tables.Column(field, header, kind or tables.infer_kind([], unit, unit_field), decimals, unit, unit_field)


class Table(tables.Table):
    """What a table shows, as data (presentation.tables.Table, built in the pages' argument order): the rows and
    columns the screen is drawn from, the KPIs defined on the cover, the filters (words -> words) and an ASCII
    file-name part ('2026-11-00073')."""

    def __init__(self, key: str, title: str, columns: list[tables.Column], rows: list[dict],
                 kpis: list[str] | None = None, filters: dict[str, str] | None = None, stem: str = "") -> None:
        super().__init__(title, list(columns), list(rows), key, kpis=list(kpis or []), filters=dict(filters or {}),
                         stem=stem)


def frame(table: tables.Table) -> pd.DataFrame:
    """The table as a frame: its columns with the screen's headers, numbers rounded as on screen
    (presentation.tables: the KPI's display decimals, else its unit's), exact counts whole."""
    return table.cells()


def definitions(codes: list[str], lang: str) -> pd.DataFrame | None:
    """The KPIs' definitions for the cover (the same columns as the API's exports)."""
    if not codes:
        return None
    import metrics

    kpis = metrics.list_kpis(lang=lang)
    order = {c: i for i, c in enumerate(codes)}
    d = kpis[kpis["kpi"].isin(order)].copy()
    d["_o"] = d["kpi"].map(order)
    return d.sort_values("_o")[DEFINITION_COLUMNS].reset_index(drop=True)


def filename(table: tables.Table, fmt_: str, now: datetime) -> str:
    """'r57-phuong-xa-2026-11-20261122-1430.csv': the table, its filters, when it was made (Hanoi time)."""
    return file_name(table.key, fmt_, now, table.stem)


def table_bytes(table: tables.Table, fmt_: str, lang: str, now: datetime, demo: bool = False,
                snapshot: str | None = None) -> bytes:
    """The file's bytes: CSV with a BOM, Parquet, or Excel with the cover (filters, time, definitions)."""
    df = frame(table)
    if fmt_ == "csv":
        return exports.csv_bytes(df)
    if fmt_ == "parquet":
        return exports.parquet_bytes(df)
    if fmt_ != "xlsx":
        raise ValueError(f"unknown download format {fmt_!r}")
    filters = {t("f_table", lang): table.title, **table.filters, t("f_rows", lang): fmt.number(len(df), 0, lang)}
    if snapshot:
        filters[t("f_snapshot", lang)] = snapshot
    return exports.xlsx_bytes({}, filters, definitions(table.kpis, lang), now, t("dl_title", lang, name=table.title),
                              demo=demo, lang=lang, tables=[table.with_dates()])


def send(table: tables.Table | None, fmt_: str, lang: str):
    """dcc.Download data for the table in `fmt_` (or no_update when there is nothing to send)."""
    if table is None or fmt_ not in exports.EXPORT_FORMATS:
        return no_update
    from warehouse import health

    now = data.local_now()
    demo = False
    with data.cursor() as con:
        if con is not None:
            demo = health.is_demo(con)
    snap = data.context().reader.snapshot_path
    content = table_bytes(table, fmt_, lang, now, demo=demo, snapshot=snap.name if snap else None)
    return dcc.send_bytes(content, filename(table, fmt_, now), type=exports.EXPORT_FORMATS[fmt_])


# --- the callbacks' side ----------------------------------------------------------------------------

def items(page: str) -> dict:
    """The pattern of a page's table download items (a callback Input)."""
    return {"type": ids.DL, "page": page, "table": dash.ALL, "fmt": dash.ALL}


def stores(page: str) -> dict:
    """The pattern of a page's stored HTML tables (a callback State)."""
    return {"type": ids.DL_DATA, "page": page, "table": dash.ALL}


def store_id(page: str, key: str) -> dict:
    return {"type": ids.DL_DATA, "page": page, "table": key}


def clicked() -> dict | None:
    """The download item the user clicked ({'table': ..., 'fmt': ...}); None when the callback ran because
    menus appeared or were drawn again (no click)."""
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or trig.get("type") != ids.DL:
        return None
    if not any(item.get("value") for item in dash.ctx.triggered):
        return None
    return trig


def stored(key: str) -> tables.Table | None:
    """The table `key` from the triggering page's DL_DATA stores (a callback State with stores(page))."""
    for spec in dash.ctx.states_list or []:
        for item in spec if isinstance(spec, list) else [spec]:
            sid = item.get("id") if isinstance(item, dict) else None
            if isinstance(sid, dict) and sid.get("type") == ids.DL_DATA and sid.get("table") == key and item.get("value"):
                return tables.Table.from_store(item["value"])
    return None


def grid_rows(shown: list | None, rows: list | None, options: dict | None = None) -> list[dict]:
    """A grid's rows as on screen: after its filters and sort (virtualRowData), then its pinned rows."""
    body = shown if shown is not None else (rows or [])
    pinned = (options or {}).get("pinnedBottomRowData") or []
    return list(body) + list(pinned)


def respond(lang: str, build) -> object:
    """Run `build(which) -> Table | None` for the clicked item and send its file; errors are logged, not raised
    (the page keeps working; the user sees no file)."""
    from access import roles
    from access.web import audit, viewer_or_nobody

    which = clicked()
    if which is None:
        return no_update
    target = f"{which.get('page')}/{which.get('table')}.{which.get('fmt')}"
    if not viewer_or_nobody().may(roles.DOWNLOAD):
        audit("export", outcome="denied", target=target)
        return no_update
    audit("export", target=target)  # every download in the audit log (issue 10)
    try:
        return send(build(which), which["fmt"], lang)
    except Exception:
        log.exception("download %s failed", which)
        return no_update


# --- the menu ---------------------------------------------------------------------------------------

def menu(page: str, lang: str, table: str | None = None, graph: str | None = None, name: str = "") -> dbc.DropdownMenu:
    """A small 'Tải về / Download' dropdown: the table as CSV, Excel, Parquet; the chart as PNG, SVG."""
    entries = []
    if table:
        entries += [dbc.DropdownMenuItem(label, id={"type": ids.DL, "page": page, "table": table, "fmt": f})
                    for f, label in TABLE_FORMATS]
    if graph:
        if entries:
            entries.append(dbc.DropdownMenuItem(divider=True))
        entries += [dbc.DropdownMenuItem(label, id={"type": ids.DL_IMAGE, "graph": graph, "fmt": f})
                    for f, label in IMAGE_FORMATS]
    key = table or graph or name
    return dbc.DropdownMenu(entries, label=t("download", lang), size="sm", color="light", align_end=True,
                            class_name=f"dl-menu dl-{key}", toggle_class_name="dl-toggle",
                            id={"type": ids.DL_MENU, "page": page, "name": key})


# Saves the chart on screen as the browser draws it: Plotly.downloadImage on the graph's div, at its size.
IMAGE_JS = """
function(clicks) {
    const dc = window.dash_clientside;
    const ctx = dc.callback_context;
    if (!ctx.triggered || !ctx.triggered.length || !ctx.triggered[0].value) { return dc.no_update; }
    let id = ctx.triggered_id;
    if (!id) {
        const prop = ctx.triggered[0].prop_id;
        id = JSON.parse(prop.slice(0, prop.lastIndexOf('.')));
    }
    const host = document.getElementById(id.graph);
    const gd = host && (host.classList.contains('js-plotly-plot') ? host : host.querySelector('.js-plotly-plot'));
    if (!gd || !window.Plotly) { return dc.no_update; }
    const d = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    const stamp = d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + '-' + pad(d.getHours()) + pad(d.getMinutes());
    const full = gd._fullLayout || {};
    window.Plotly.downloadImage(gd, {format: id.fmt, filename: 'r57-' + id.graph + '-' + stamp,
                                     width: full.width || gd.offsetWidth, height: full.height || gd.offsetHeight});
    return id.graph + '.' + id.fmt;
}
"""
