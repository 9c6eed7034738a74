"""R57 dashboard: command line and process assembly.

    python app.py serve            one process: ingest scheduler + dashboard (make run)
    python app.py scheduler        the ingest process of a production layout (one writer)
    python app.py ingest FILE...   load files now and say what was quarantined and why
    python app.py demo             seed the embedded demo warehouse
    python app.py kpis ...         print KPIs with targets and statuses
    python app.py metrics-doc      write the metric dictionary
    python app.py report ...       make the monthly PDF/Excel reports now
    python app.py users|tokens ... accounts and API tokens of the dashboard; `audit`: the audit log
    python app.py lake export      write the changed partitions of the dossier lake (Parquet)
    python app.py aggregates build the aggregate tables from the lake (--engine duckdb|spark, --check)
    python app.py aggregates load  take a committed build (--from DIR) as the warehouse's aggregates, publish

Production: `python app.py scheduler` once, plus `gunicorn -w 4 'app:create_server()'` for the web
(README "Production layout").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

import config
from config import Settings, load_settings

log = logging.getLogger("r57")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(warehouse=getattr(args, "warehouse", None))


def _open_writer_or_explain(settings: Settings):
    import duckdb

    from warehouse.db import open_writer

    try:
        return open_writer(settings)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            sys.exit(
                f"The warehouse {settings.warehouse} is open in another process (a running `app.py serve` "
                f"or `app.py scheduler`). Drop the file into {settings.dossier_inbox} instead, or stop "
                "that process first."
            )
        raise


# --- ingest ----------------------------------------------------------------------------------------

def cmd_ingest(args: argparse.Namespace) -> int:
    """Load the named files now; with no paths, process the inbox once, exactly as a scheduler tick.
    Both go through the one write sequence (Writer.load: ingest -> refresh -> publish)."""
    import duckdb

    from ingest.runner import quarantine_summary
    from service.jobs import run_inbox
    from service.writer import Writer

    settings = _settings(args)
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"No such file: {', '.join(missing)}")
    writer = Writer(settings)
    try:
        if paths:  # a user's own files: loaded, not moved
            reports = writer.load(paths, args.source, channel="cli", archive=False)
        else:
            reports = run_inbox(writer, "dossiers") + run_inbox(writer, "indicators")
        with writer.session() as con:
            out = [{**r.as_dict(), "quarantine": quarantine_summary(con, r.run_id, lang=args.lang, limit=args.show)}
                   for r in reports]
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        sys.exit(f"The warehouse {settings.warehouse} is open in another process (a running `app.py serve` "
                 f"or `app.py scheduler`). Drop the file into {settings.dossier_inbox} instead, or stop "
                 "that process first.")
    finally:
        writer.close()  # makes a publication that was deferred by the minimum interval
    for item in out:  # this command's publications (one per command, or none): the same figures on every file
        item.update(refresh_seconds=round(writer.refresh_seconds, 3), publish_seconds=round(writer.publish_seconds, 3),
                    publish_bytes=writer.publish_bytes)
    if not paths and not out and not args.json:
        print(f"Nothing waiting in {settings.dossier_inbox} or {settings.indicator_inbox}.")
    _print_reports(out, args)
    return 1 if any(r.status == "failed" for r in reports) else 0


def _print_reports(out: list[dict], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        for item in out:
            _print_report(item, args.lang)


def _print_report(item: dict, lang: str) -> None:
    from presentation.words import t

    print(f"{item['file']}: {item['status']}" + (f" (profile {item['profile']})" if item["profile"] else ""))
    if item["error"]:
        print("  " + t("cli_not_loaded", lang, error=item["error"]))
        return
    counts = {"read": item["rows_read"], "inserted": item["inserted"], "updated": item["updated"],
              "unchanged": item["unchanged"], "quarantined": item["quarantined"]}
    print("  " + t("cli_counts", lang, **{k: f"{v:,}" for k, v in counts.items()}))
    if item["reasons"]:
        from warehouse.reasons import title

        print("  " + t("cli_reasons", lang))
        for code, n in item["reasons"].items():
            print(f"    {n:>6,}  {title(code, lang)} ({code})")
    for w in item.get("warnings") or []:
        print("  " + t("cli_warning", lang, warning=w))
    for q in item["quarantine"]:
        where = f"line {q['line']}" if q["line"] is not None else "?"
        print(f"    {where}: {q['reason']}" + (f" [{q['dossier_id']}]" if q["dossier_id"] else ""))


# --- demo ------------------------------------------------------------------------------------------

def _provinces(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 34:
        raise argparse.ArgumentTypeError("between 1 and 34 (Vietnam's provinces since 1 July 2025)")
    return n


def cmd_demo(args: argparse.Namespace) -> int:
    from demo.seed import seed_demo

    settings = _settings(args)
    con = _open_writer_or_explain(settings)
    summary = seed_demo(con, settings, days=args.days, per_day=args.per_day, seed=args.seed, force=args.force,
                        provinces=args.provinces)
    if "skipped" not in summary:
        from warehouse.db import publish_snapshot

        publish_snapshot(con, settings)  # readers (web workers, `serve --no-scheduler`) see it at once
    con.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    return 0


# --- processes -------------------------------------------------------------------------------------

def _live_job(settings: Settings, seconds: float):
    from demo.live import drop_batch
    from ingest.runner import local_now

    counter = {"n": 0}

    def job() -> None:
        counter["n"] += 1
        drop_batch(settings.dossier_inbox, now=local_now(), n=None, seed=counter["n"])

    return job, seconds


def start_writer_side(settings: Settings, demo: bool, live: bool):
    """Open the writer, seed demo data on an empty warehouse, start the one scheduler."""
    from service.scheduler import in_reloader_parent, start_scheduler
    from service.writer import Writer

    if in_reloader_parent():
        return None, None
    writer = Writer(settings)
    # The first session opens the warehouse: that removes unfinished snapshot copies and rebuilds
    # missing or stale metrics aggregates (a killed refresh), before the publish below.
    with writer.session() as con:
        empty = con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == 0
        if demo and empty:
            from demo.seed import seed_demo

            log.info("empty warehouse: seeding demo data (about a minute)")
            seed_demo(con, settings)
    writer.publish()
    extra = {"demo_live": _live_job(settings, settings.live_interval_s)} if live else None
    sched, lock = start_scheduler(writer, extra)
    return writer, sched


def cmd_scheduler(args: argparse.Namespace) -> int:
    settings = _settings(args)
    writer, sched = start_writer_side(settings, demo=args.demo, live=args.live)
    if sched is None:
        sys.exit("Another process already runs the scheduler for this warehouse.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"Ingest scheduler running (pid {os.getpid()}); Ctrl+C to stop.", flush=True)
    stop.wait()
    sched.shutdown(wait=True)
    writer.close()
    return 0


def build_web(settings: Settings, writer=None):
    """The Dash app with the read API mounted on its Flask server."""
    import api
    from dashboard.app import create_app, warm_up
    from warehouse.db import Reader

    app = create_app(settings)
    api.register(app.server, settings, Reader(settings), writer=writer)
    from api.plan import register as register_plan

    register_plan(app.server, settings, Reader(settings))  # /api/v1/plan (issue 12)
    # Dash finishes its set-up on the first request; do it now, before a threaded server or
    # gunicorn worker can receive several at once (else: 500s on its script files).
    return warm_up(app)


def create_server(settings: Settings | None = None):
    """WSGI factory for gunicorn web workers: read-only, no scheduler (`gunicorn 'app:create_server()'`)."""
    return build_web(settings or load_settings()).server


def _print_demo_accounts(settings: Settings) -> None:
    """`serve --demo`: one account per role, created if missing, printed with its password (demo only)."""
    if not settings.auth_enabled:
        print("!! R57_AUTH=off: sign-in is OFF, every visitor sees every unit (development only).", flush=True)
        return
    from access.db import get_appdb
    from access.demo import demo_accounts
    from alerts.store import default_rules

    db = get_appdb(settings)
    rows = demo_accounts(db, settings)
    for username, *_ in rows:  # each role's default alert rules (in-app; issue 11), once
        default_rules(db, username, settings, actor="demo")
    print("DEMO accounts (demo data only; never use these passwords on real data):", flush=True)
    for username, role, units, password in rows:
        print(f"  {username:<10} {password:<18} {role:<10} {', '.join(units) or 'every unit'}", flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    threads = args.threads or settings.web_threads
    if args.threads:  # the request bound (dashboard.live.RequestSlots) follows the threads asked for
        settings = replace(settings, web_threads=args.threads)
    if args.debug:  # before the writer starts: the reloader's watcher process must not take it
        config.mark_reloader_debug()
    writer = None
    if not args.no_scheduler:
        writer, _ = start_writer_side(settings, demo=args.demo, live=args.live)
    app = build_web(settings, writer)
    host, port = args.host or settings.host, args.port or settings.port
    if args.demo:
        _print_demo_accounts(settings)
        from plan.demo import seed_for_serve

        seed_for_serve(settings)  # the DEMO plan (issue 12), when the application database has none
    print(f"Dashboard on http://{host}:{port}/", flush=True)
    try:
        if args.debug:  # development only: Werkzeug's reloader and debugger
            app.run(host=host, port=port, debug=True, use_reloader=True)
        else:  # a production WSGI server, threads for the browser's parallel requests
            from waitress import serve

            # each open page's event stream (dashboard.live) holds a thread: that many more than for requests
            serve(app.server, host=host, port=port, threads=threads + settings.live_streams, ident="r57",
                  channel_timeout=120, connection_limit=200)
    finally:
        if writer is not None:
            writer.close()  # a publication deferred by the minimum interval is made before exit
    return 0


# --- metrics ---------------------------------------------------------------------------------------

def _reader_con(settings: Settings):
    """A connection for reading: the latest snapshot if one exists, else the warehouse read-only."""
    from warehouse.db import connect, current_snapshot

    snap = current_snapshot(settings)
    path = snap or settings.warehouse
    if path is None or not Path(path).exists():
        sys.exit(f"No warehouse at {settings.warehouse}: run `python app.py demo` or ingest files first.")
    return connect(path, settings, read_only=True)


def cmd_kpis(args: argparse.Namespace) -> int:
    from metrics.cli import kpis_report

    con = _reader_con(_settings(args))
    print(kpis_report(con, period=args.period, grain=args.grain, unit=args.unit, fmt=args.format))
    return 0


def cmd_metrics_doc(args: argparse.Namespace) -> int:
    from metrics.doc import write_dictionary

    path = write_dictionary(Path(args.out), lang=args.lang)
    print(f"Metric dictionary written to {path}")
    return 0


# --- reports ---------------------------------------------------------------------------------------

def cmd_report(args: argparse.Namespace) -> int:
    from reports.cli import run

    return run(_settings(args), args)


# --- access: users, API tokens, audit log (issue 10) ----------------------------------------------

def cmd_access(args: argparse.Namespace) -> int:
    from access.cli import run

    return run(load_settings(warehouse=args.warehouse, app_db=args.app_db), args)


# --- alerts: rules, evaluation and delivery (issue 11) ----------------------------------------------

def cmd_alerts(args: argparse.Namespace) -> int:
    from alerts.cli import run

    return run(load_settings(warehouse=args.warehouse, app_db=args.app_db), args)


# --- the implementation plan tracker (issue 12) -------------------------------------------------------

def cmd_plan(args: argparse.Namespace) -> int:
    from plan.cli import run

    return run(load_settings(warehouse=args.warehouse, app_db=args.app_db), args)


# --- scale-out: the Parquet lake and the aggregate build by DuckDB or Spark (issue 13) -----------------

def cmd_lake(args: argparse.Namespace) -> int:
    from lake.cli import run

    return run(_settings(args), args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="Hanoi Resolution 57 KPI dashboard")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def wh(sp):
        sp.add_argument("--warehouse", help="DuckDB file (default data/warehouse.duckdb or $R57_WAREHOUSE)")

    sp = sub.add_parser("serve", help="run the dashboard (and, unless --no-scheduler, the ingest scheduler)")
    wh(sp)
    sp.add_argument("--host", default=None, help="default 127.0.0.1 or $R57_HOST")
    sp.add_argument("--port", type=int, default=None, help="default 8050 or $R57_PORT")
    sp.add_argument("--demo", action="store_true", help="seed demo data when the warehouse is empty")
    sp.add_argument("--live", action="store_true", help="demo live mode: drop a dossier batch every few seconds")
    sp.add_argument("--no-scheduler", action="store_true", help="web only: read snapshots, never write")
    sp.add_argument("--debug", action="store_true", help="development: Werkzeug's reloader instead of waitress")
    sp.add_argument("--threads", type=int, default=None,
                    help="waitress threads for requests (default R57_WEB_THREADS, 8; plus R57_LIVE_STREAMS for streams)")
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("scheduler", help="run the ingest scheduler alone (the one writer process)")
    wh(sp)
    sp.add_argument("--demo", action="store_true")
    sp.add_argument("--live", action="store_true")
    sp.set_defaults(func=cmd_scheduler)

    sp = sub.add_parser("ingest", help="load files now (no PATH: the inbox once, as a scheduler tick); "
                                       "prints rows read/inserted/updated/quarantined")
    sp.add_argument("paths", nargs="*", metavar="PATH")
    wh(sp)
    sp.add_argument("--source", choices=("dossiers", "indicators"), default="dossiers")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--lang", choices=("vi", "en"), default="vi")
    sp.add_argument("--show", type=int, default=20, help="quarantined rows to list per file")
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser("demo", help="seed demo data (about 18 months of Hanoi's 126 units)")
    wh(sp)
    sp.add_argument("--days", type=int, default=None)
    sp.add_argument("--per-day", type=float, default=3100)
    sp.add_argument("--seed", type=int, default=57)
    sp.add_argument("--force", action="store_true", help="seed even if the warehouse has dossiers")
    sp.add_argument("--provinces", type=_provinces, default=1, metavar="N",
                    help="a national data set: the units of all 34 provinces, dossiers in the first N (Hanoi "
                         "first; --per-day is Hanoi's, the others scale with their unit counts). For the lake and "
                         "the aggregate build; the dashboard stays Hanoi's")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("kpis", help="print KPIs with targets and statuses")
    wh(sp)
    sp.add_argument("--period", default=None, help="e.g. 2026-Q3, 2026-10, 2026, or 'current' (this period to "
                    "date, partial); default: the last complete period")
    sp.add_argument("--grain", default="month", choices=("day", "week", "month", "quarter", "year"))
    sp.add_argument("--unit", default=None, help="5-digit unit code, e.g. 00073 (default: the city)")
    sp.add_argument("--format", default="table", choices=("table", "csv", "json"))
    sp.set_defaults(func=cmd_kpis)

    sp = sub.add_parser("metrics-doc", help="write the metric dictionary generated from the registries")
    sp.add_argument("--out", default="docs/metrics.md")
    sp.add_argument("--lang", default="vi", choices=("vi", "en"))
    sp.set_defaults(func=cmd_metrics_doc)

    sp = sub.add_parser("report", help="make the monthly PDF and Excel reports now (city; wards with --unit/--all-units)")
    wh(sp)
    from reports.cli import add_arguments

    add_arguments(sp)
    sp.set_defaults(func=cmd_report)

    from access.cli import add_arguments as access_arguments

    access_arguments(sub, wh, cmd_access)  # users …, tokens …, audit
    from alerts.cli import add_arguments as alerts_arguments

    alerts_arguments(sub, wh, cmd_alerts)  # alerts add|list|run|test
    from plan.cli import add_arguments as plan_arguments

    plan_arguments(sub, wh, cmd_plan)  # plan import|list|update|owners
    from lake.cli import add_arguments as lake_arguments

    lake_arguments(sub, wh, cmd_lake)  # lake export|verify, aggregates build|load
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _logging(verbose=args.verbose)
    return args.func(args) or 0


def _logging(verbose: bool) -> None:
    """One line per ingest run and per report, stamped in Hanoi time (as the screen shows it)."""
    from datetime import datetime

    from config import TZ

    handler = logging.StreamHandler()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    formatter.converter = lambda ts: datetime.fromtimestamp(ts, TZ).timetuple()
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    if not verbose:  # APScheduler logs every job execution (every few seconds) at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
