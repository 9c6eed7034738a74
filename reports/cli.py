"""The `app.py report` command: make reports now and print where they went (or why they failed)."""

from __future__ import annotations

import argparse
import json

import clock
import config
from config import Settings


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The `report` subcommand's options."""
    sp.add_argument("--month", default=None, help="YYYY-MM (default: the previous month, Hanoi time)")
    sp.add_argument("--unit", action="append", default=None, metavar="CODE",
                    help="a ward/commune code such as 00073 (repeatable); the city report is always made")
    sp.add_argument("--all-units", action="store_true", help="a report for every ward/commune as well")
    sp.add_argument("--lang", action="append", choices=("vi", "en"), default=None, help="default vi (repeatable)")
    sp.add_argument("--format", action="append", choices=("pdf", "xlsx"), default=None, dest="formats",
                    help="default both (repeatable)")
    sp.add_argument("--no-charts", action="store_true", help="skip chart rendering (no headless browser)")
    sp.add_argument("--json", action="store_true", help="print the manifest records as JSON")
    # the scheduler's low-priority child (reports.jobs.run_low_priority): the monthly run or the retry tick
    sp.add_argument("--scheduled", choices=("monthly", "retry"), default=None, help=argparse.SUPPRESS)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Make the reports asked for; exit code 1 when any of them failed (the manifest says why)."""
    from .data import ReportError
    from .jobs import ALL, generate_monthly, list_reports, monthly_job, retry_job

    now = clock.wall()
    if args.scheduled:  # one line per report made, for the parent's log
        files = monthly_job(settings) if args.scheduled == "monthly" else retry_job(settings)
        for f in files:
            print(f.name)
        return 0
    units = ALL if args.all_units else (args.unit or [])
    try:
        generate_monthly(settings, args.month, now, units=units, langs=tuple(args.lang or ["vi"]),
                         formats=tuple(args.formats or ["pdf", "xlsx"]), attempts=1, backoff_s=0,
                         charts=not args.no_charts)
    except ReportError as exc:
        print(f"report: {exc}")
        return 2
    since = now.astimezone(config.TZ).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")
    runs = [r for r in list_reports(settings) if r.get("started_at", "") >= since[:16]]
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, indent=2, default=str))
    else:
        for r in runs:
            files = ", ".join(f["path"] for f in r["paths"]) or "-"
            print(f"{r['id']}: {r['status']}" + (f" ({r['error']})" if r.get("error") else "") + f"  {files}")
    return 1 if any(r["status"] != "ok" for r in runs) else 0
