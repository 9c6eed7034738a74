"""Monthly reports (analysts, leaders): the reports made so far (reports.jobs.list_reports: the manifest of
the reports folder) with their files, and making one on demand in a background thread.

A report takes seconds to a minute (queries, charts through a headless browser, PDF): the page's callback
only queues it here and returns; one worker thread per process makes the queued reports one at a time and
the page's interval polls the manifest until it is done. Files are served by `file_path` (the only way
out of the reports folder, see dashboard/app.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import clock
import config
from config import Settings

from .. import data, fmt
from ..components import fitted_headers, num_col
from ..downloads import Column, Table
from ..i18n import t

log = logging.getLogger(__name__)

FILES_URL = "/reports/files/"       # + file name: dashboard/app.py serves it from settings.reports_dir
FILE_SUFFIXES = (".pdf", ".xlsx")
MONTHS = 12                          # months offered in the form: the 12 before the current one
STATUS_KEY = {"ok": "achieved", "failed": "deteriorating", "running": "on_track", "queued": "no_data"}
ATTEMPTS, BACKOFF_S = 2, 3.0         # on demand: one retry, a short pause (the scheduler's retry job does the rest)

_lock = threading.Lock()
_pending: dict[str, dict] = {}      # report id -> what was asked, until its run ends (this process only)
_jobs: queue.Queue = queue.Queue()  # what the worker thread makes, in order
_worker: threading.Thread | None = None


# --- the form ---------------------------------------------------------------------------------------

def month_options(today: date, lang: str, months: int = MONTHS) -> list[dict]:
    """The months a report can be asked for, newest first: the ones before the current month."""
    out, y, m = [], today.year, today.month
    for _ in range(months):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        label = f"{y}-{m:02d}"
        out.append({"label": fmt.period(label, lang, long=True), "value": label})
    return out


def lang_options(lang: str) -> list[dict]:
    return [{"label": t("rp_lang_vi", lang), "value": "vi"}, {"label": t("rp_lang_en", lang), "value": "en"}]


def valid_choice(month: str | None, unit: str | None, report_lang: str | None, today: date) -> bool:
    known = set(data.units()["unit_code"])
    return (visible(unit) and month in {o["value"] for o in month_options(today, "vi")} and unit in known
            and report_lang in ("vi", "en"))


# --- making a report in the background ---------------------------------------------------------------

def record_id(month: str, unit: str, report_lang: str) -> str:
    from reports.manifest import record_id as rid

    return rid(month, unit, report_lang)


def request(settings: Settings, month: str, unit: str, report_lang: str,
            reader_factory: Callable | None = None, run: Callable | None = None) -> str:
    """Queue the report (month, unit, language) and return its id at once; a report already queued or being
    made in this process is not queued twice. `run` replaces reports.jobs.run_one (tests)."""
    rid = record_id(month, unit, report_lang)
    with _lock:
        if rid in _pending:
            return rid
        _pending[rid] = {"id": rid, "month": month, "unit_code": unit, "lang": report_lang, "status": "queued",
                         "queued_at": clock.stamp().isoformat(timespec="seconds")}
        _jobs.put((settings, month, unit, report_lang, reader_factory, run, rid))
        _start_worker()
    return rid


def _start_worker() -> None:
    """One daemon thread per process makes the queued reports one after another (one headless browser at a
    time); started on first use and again if it died."""
    global _worker
    if _worker is None or not _worker.is_alive():
        _worker = threading.Thread(target=_work, name="r57-reports", daemon=True)
        _worker.start()


def _work() -> None:
    while True:
        try:
            job = _jobs.get()
        except SystemExit:
            # A stray asynchronous SystemExit (dash.testing stops its server thread that way, and
            # thread ids are reused) must not kill the one worker of this process.
            continue
        _make(*job)


def _make(settings: Settings, month: str, unit: str, report_lang: str, reader_factory, run, rid: str) -> None:
    try:
        if run is not None:
            run(settings, month, unit, report_lang)
            return
        from reports.charts import chart_session
        from reports.jobs import run_one

        with chart_session():  # one headless browser for the report's charts
            run_one(settings, month, unit, report_lang, reader_factory=reader_factory, attempts=ATTEMPTS,
                    backoff_s=BACKOFF_S, trigger="on_demand")
    except Exception:  # run_one records its own failures; anything else is logged, the worker lives on
        log.exception("on-demand report %s failed", rid)
    finally:
        with _lock:
            _pending.pop(rid, None)


def pending() -> list[dict]:
    with _lock:
        return [dict(p) for p in _pending.values()]


def wait_idle(timeout: float = 60.0) -> bool:
    """Block until no report is queued or being made here (tests, shutdown)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pending():
            return True
        time.sleep(0.05)
    return False


# --- the list -----------------------------------------------------------------------------------------

def records(settings: Settings) -> list[dict]:
    """The manifest's reports (newest month first), plus the ones queued here and not yet started."""
    from reports.jobs import list_reports

    runs = list_reports(settings)
    known = {r.get("id") for r in runs}
    queued = [p for p in pending() if p["id"] not in known]
    return [r for r in queued + runs if visible(r.get("unit_code") or config.CITY_CODE)]


def busy(settings: Settings, recs: list[dict] | None = None) -> bool:
    """Whether a report is queued or being made (the page keeps polling while it is)."""
    recs = recs if recs is not None else records(settings)
    return bool(pending()) or any(r.get("status") in ("running", "queued") for r in recs)


def _moment(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(str(iso)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(iso)


def rows(settings: Settings, lang: str, recs: list[dict] | None = None) -> list[dict]:
    """Grid rows: month, unit, language, status (and the error of a failed run), attempts, when it was made,
    and links to its PDF and Excel files."""
    recs = recs if recs is not None else records(settings)
    out = []
    for r in recs:
        status = r.get("status") or "queued"
        files = [{"name": p["name"], "href": FILES_URL + quote(p["name"]),
                  "label": "PDF" if p["format"] == "pdf" else "Excel"}
                 for p in r.get("paths") or [] if p.get("exists") and p["format"] in ("pdf", "xlsx")]
        files.sort(key=lambda f: f["label"] != "PDF")
        unit = r.get("unit_code") or config.CITY_CODE
        when = r.get("finished_at") if status in ("ok", "failed") else None
        out.append({
            "id": r.get("id"), "month": fmt.period(r.get("month"), lang), "month_sort": r.get("month"),
            "unit_code": unit, "unit": data.unit_name(unit, lang),
            "lang": t(f"rp_lang_{r.get('lang')}", lang) if r.get("lang") in ("vi", "en") else r.get("lang"),
            "status": STATUS_KEY.get(status, "no_data"), "state": status,
            "status_label": t(f"rp_status_{status}", lang) if status in STATUS_KEY else status,
            "error": (r.get("error") or "") if status == "failed" else "",
            "attempts": r.get("attempts"), "generated": _moment(when), "generated_sort": when or "",
            "trigger": t(f"rp_trigger_{r['trigger']}", lang) if r.get("trigger") else "",
            "files": files, "file_names": " | ".join(f["name"] for f in files)})
    return out


@fitted_headers
def columns(lang: str) -> list[dict]:
    by_sort = "(a, b, nodeA, nodeB) => (nodeA.data.{f} < nodeB.data.{f} ? -1 : nodeA.data.{f} > nodeB.data.{f} ? 1 : 0)"
    return [
        {"field": "month", "headerName": t("rp_col_month", lang), "width": 110,
         "comparator": {"function": by_sort.replace("{f}", "month_sort")}},
        {"field": "unit", "headerName": t("rp_col_unit", lang), "minWidth": 190, "flex": 2},
        {"field": "lang", "headerName": t("rp_col_lang", lang), "width": 120},
        {"field": "status_label", "headerName": t("rp_col_status", lang), "cellRenderer": "StatusBadge",
         "width": 140},
        {"field": "error", "headerName": t("rp_col_error", lang), "minWidth": 220, "flex": 3, "wrapText": True,
         "autoHeight": True, "tooltipField": "error",
         "cellStyle": {"lineHeight": "1.35", "paddingTop": "4px", "paddingBottom": "4px"}},
        num_col("attempts", t("rp_col_attempts", lang), lang, 0, width=110),
        {"field": "generated", "headerName": t("rp_col_generated", lang), "width": 160,
         "comparator": {"function": by_sort.replace("{f}", "generated_sort")}},
        {"field": "trigger", "headerName": t("rp_col_trigger", lang), "width": 130},
        {"field": "files", "headerName": t("rp_col_files", lang), "cellRenderer": "FileLinks", "width": 150,
         "sortable": False, "filter": False},
    ]


def table(lang: str, shown: list[dict]) -> Table:
    """The list as a downloadable table (`shown` as the grid shows it)."""
    cols = [Column("month", t("rp_col_month", lang)), Column("unit_code", t("col_code", lang)),
            Column("unit", t("rp_col_unit", lang)), Column("lang", t("rp_col_lang", lang)),
            Column("status_label", t("rp_col_status", lang)), Column("error", t("rp_col_error", lang)),
            Column("attempts", t("rp_col_attempts", lang)), Column("generated", t("rp_col_generated", lang)),
            Column("trigger", t("rp_col_trigger", lang)), Column("file_names", t("rp_col_files", lang))]
    return Table("bao-cao", t("rp_list", lang), cols, shown, [], {t("f_page", lang): t("rp_title", lang)})


def message(settings: Settings, started: dict | None, lang: str, recs: list[dict] | None = None) -> str:
    """What became of the report asked for last: making, made, or failed and why."""
    if not started or not started.get("id"):
        return ""
    recs = recs if recs is not None else records(settings)
    rec = next((r for r in recs if r.get("id") == started["id"]), None)
    month, unit, report_lang = started["id"].split("/")
    words = {"month": fmt.period(month, lang, long=True), "unit": data.unit_name(unit, lang),
             "language": t(f"rp_lang_{report_lang}", lang)}
    status = (rec or {}).get("status", "queued")
    if status == "ok" and (rec.get("finished_at") or "") >= started.get("at", ""):
        return t("rp_made", lang, **words)
    if status == "failed" and (rec.get("finished_at") or "") >= started.get("at", ""):
        return t("rp_failed", lang, error=rec.get("error") or "?", **words)
    return t("rp_making", lang, **words)


# --- the files ----------------------------------------------------------------------------------------

def file_unit(path: Path) -> str:
    """The unit a report file is about, from its name (reports.build.report_stem): the city's code or a unit's."""
    stem = path.stem.removesuffix("-en")
    who = stem.rsplit("-", 1)[-1]
    return config.CITY_CODE if who == "pho" or not who.isdigit() else who


def visible(unit: str | None) -> bool:
    """Whether this request's viewer may have a report of `unit`: a unit's report within their scope; the
    city's report (it ranks every ward) only with every unit in scope."""
    from access.web import viewer_or_nobody

    v = viewer_or_nobody()
    if unit in (None, config.CITY_CODE):
        return v.scope is None
    return v.sees(unit)


def file_path(settings: Settings, name: str) -> Path | None:
    """The report file `name` inside settings.reports_dir, or None: no path parts, no hidden or temporary
    files, only PDF and Excel, and the resolved path must stay inside the folder (no '..', no symlink out)."""
    if not name or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        return None
    if Path(name).suffix.lower() not in FILE_SUFFIXES:
        return None
    root = settings.reports_dir.resolve()
    try:
        path = (root / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if path.parent != root or not path.is_file():
        return None
    return path
