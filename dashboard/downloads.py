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

Charts are made on the server, as the reports' charts are: the browser sends the figure on screen (its data
and layout as drawn, IMAGE_JS) with the title above it, and `chart_file` dresses it with
`presentation.charts.for_export` (white background, title with the KPI, unit and period, the unit on the
value axis, the source and data date under the plot), renders it through kaleido (PNG or SVG) and names it
by `presentation.files` (Hanoi time). Every chart download is audited as a table's is.
"""

from __future__ import annotations

import logging
from datetime import datetime
from html import escape

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, no_update

import exports
from presentation import fmt as pfmt
from presentation import tables
from presentation.charts import for_export, render_png, render_svg, source_line, source_name
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


# --- chart images -----------------------------------------------------------------------------------

MIN_WIDTH, MIN_HEIGHT = 800, 420     # a phone's chart, widened for a file
EXTRA_HEIGHT = 70                    # room for the title and the source line above and under the plot
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _is_day(x: object) -> bool:
    return isinstance(x, str) and len(x) >= 7 and x[4:5] == "-" and x[:4].isdigit() and x[5:7].isdigit()


def value_axis(fig) -> str:
    """'x' for horizontal bars (the value runs along x), else 'y'."""
    return "x" if any(getattr(tr, "orientation", None) == "h" for tr in fig.data) else "y"


def chart_unit(fig, axis: str) -> str | None:
    """The unit the figure's value axis shows: its title, else its tick suffix ('%')."""
    ax = fig.layout[f"{axis}axis"]
    if ax.title is not None and ax.title.text:
        return str(ax.title.text).strip() or None
    return (ax.ticksuffix or "").strip() or None


def chart_period(fig, lang: str) -> str | None:
    """The months a time axis spans ('11/2025–10/2026'), from the traces' dates; None for other charts."""
    days = sorted(str(x)[:7] for tr in fig.data for x in (getattr(tr, "x", None) or ()) if _is_day(x))
    if not days:
        return None
    a, b = pfmt.period(days[0], lang), pfmt.period(days[-1], lang)
    return a if a == b else f"{a}–{b}"


def source_kind(graph: str) -> str:
    """The source a chart draws: the economy page's indicators, else the dossiers."""
    return "indicator" if graph.startswith("ec-") else "dossiers"


def _as_of(kind: str):
    """The last successful load of the chart's source (the data date under the chart), else now."""
    from warehouse import health

    now = data.local_now()
    try:
        with data.cursor() as con:
            if con is None:
                return now
            fr = health.freshness(con, now)
    except Exception:  # the date line is a courtesy: never a failed download for it
        log.exception("freshness for a chart image")
        return now
    row = fr[fr["source"] == ("indicators" if kind == "indicator" else "dossiers")]
    last = row["last_load"].iloc[0] if len(row) else None
    return now if last is None or pfmt.is_na(last) else last


def export_figure(figure: dict, graph: str, lang: str, title: str = "", size: tuple | None = None,
                  as_of: object = None) -> go.Figure:
    """The figure on screen dressed as the reports' charts (presentation.charts.for_export): white, titled with
    the KPI (the title above the chart on screen), its unit and period, the unit on the value axis, and
    'Nguồn: … · dữ liệu đến dd/mm/yyyy' under it."""
    fig = go.Figure(figure or {}, skip_invalid=True)
    w, h = size or (None, None)
    width = max(int(w or fig.layout.width or 1000), MIN_WIDTH)
    height = max(int(h or fig.layout.height or 480), MIN_HEIGHT) + EXTRA_HEIGHT
    axis = value_axis(fig)
    kind = source_kind(graph)
    line = source_line(source_name(kind, lang), as_of if as_of is not None else _as_of(kind), lang)
    title = escape(" ".join(str(title or "").split()) or graph, quote=False)  # plotly reads a title as HTML
    return for_export(fig, title, chart_unit(fig, axis), chart_period(fig, lang), line, value_axis=axis,
                      width=width, height=height)


def chart_file(figure: dict, graph: str, fmt_: str, lang: str, title: str = "", size: tuple | None = None,
               now: datetime | None = None, as_of: object = None) -> tuple[bytes | None, str, str | None]:
    """(bytes or None, file name, error): the chart as PNG or SVG through kaleido, named 'r57-<graph>-<Hanoi
    time>.png'."""
    if fmt_ not in IMAGE_TYPES:
        raise ValueError(f"unknown image format {fmt_!r}")
    fig = export_figure(figure, graph, lang, title, size, as_of)
    content, err = render_png(fig) if fmt_ == "png" else render_svg(fig)
    return content, file_name(graph, fmt_, now if now is not None else data.local_now()), err


def send_image(request: dict | None, lang: str):
    """dcc.Download data for the chart IMAGE_JS sent ({'graph', 'fmt', 'figure', 'title', 'width', 'height'}),
    audited as every download (issue 10); no_update when there is nothing to send or rendering failed."""
    from access import roles
    from access.web import audit, viewer_or_nobody

    if not isinstance(request, dict) or request.get("fmt") not in IMAGE_TYPES or not request.get("graph"):
        return no_update
    graph, fmt_ = str(request["graph"]), request["fmt"]
    target = f"{request.get('page') or 'chart'}/{graph}.{fmt_}"
    if not viewer_or_nobody().may(roles.DOWNLOAD):
        audit("export", outcome="denied", target=target)
        return no_update
    audit("export", target=target)
    try:
        content, name, err = chart_file(request.get("figure") or {}, graph, fmt_, lang, request.get("title") or "",
                                        (request.get("width"), request.get("height")))
    except Exception:
        log.exception("chart image %s failed", target)
        return no_update
    if content is None:
        log.warning("chart image %s not rendered: %s", target, err)
        return no_update
    return dcc.send_bytes(content, name, type=IMAGE_TYPES[fmt_])


def register_images(app: dash.Dash) -> None:
    """The chart items of every page's download menus: the browser sends the figure on screen (IMAGE_JS), the
    server sends the file (send_image) through the shell's dcc.Download."""
    from dash import Input, Output, State

    app.clientside_callback(IMAGE_JS, Output(ids.IMAGE_SINK, "data"),
                            Input({"type": ids.DL_IMAGE, "graph": dash.ALL, "fmt": dash.ALL}, "n_clicks"),
                            prevent_initial_call=True)

    @app.callback(Output(ids.IMAGE_DOWNLOAD, "data"), Input(ids.IMAGE_SINK, "data"), State(ids.LANG, "data"),
                  prevent_initial_call=True)
    def download_image(request, lang):
        return send_image(request, lang if lang in ("vi", "en") else "vi")


# Sends the chart on screen to the server: its figure as drawn (Plotly's own JSON of data and layout, typed
# arrays included), its size on screen, the title above it, the page.
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
    let figure;
    try {
        figure = window.Plotly.Plots.graphJson(gd, false, 'keepdata', 'object');
    } catch (e) {
        figure = JSON.parse(JSON.stringify({data: gd.data, layout: gd.layout}));
    }
    const panel = host.closest('.panel, section');
    const head = panel && panel.querySelector('.section-title, h2, h3');
    const pick = panel && panel.querySelector('.control-kpi');
    let title = head ? head.textContent.trim() : '';
    const chosen = pick ? (pick.innerText || '').split('\\n')[0].trim() : '';
    if (chosen && title.indexOf(chosen) < 0) { title = title ? title + ': ' + chosen : chosen; }
    const page = document.querySelector('.page');
    const full = gd._fullLayout || {};
    return {graph: id.graph, fmt: id.fmt, figure: figure, title: title, at: Date.now(),
            page: page ? (page.className.match(/page-([a-z]+)/) || [])[1] || '' : '',
            width: full.width || gd.offsetWidth, height: full.height || gd.offsetHeight};
}
"""
