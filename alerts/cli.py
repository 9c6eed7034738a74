"""`app.py alerts add|list|run|test`: alert rules and their delivery from the command line (thin).

Exit codes: 0 done, 1 a delivery failed (run/test), 2 bad input (message on stderr). The audit actor is
`cli:<os user>`. `alerts run` reads the newest published snapshot read-only (the warehouse file when none
was published), evaluates every rule and delivers, exactly as the scheduler's alerts job does."""

from __future__ import annotations

import json
import sys

USAGE_ERROR = 2


def add_arguments(sub, wh, cmd) -> None:
    def common(sp):
        wh(sp)
        sp.add_argument("--app-db", metavar="URL", default=None,
                        help="application database (default $R57_APP_DB or a SQLite file beside the warehouse)")

    p = sub.add_parser("alerts", help="alert rules: add, list, run (evaluate and deliver now), test a channel")
    asub = p.add_subparsers(dest="alerts_command", required=True)
    sp = asub.add_parser("add", help="add a rule for a user (within the user's scope)")
    sp.add_argument("--user", required=True)
    sp.add_argument("--rule", required=True, help="status_change, threshold, overdue, escalation, due_soon, "
                    "data_stale, ingest_failed, report_ready")
    sp.add_argument("--unit", default=None, metavar="CODE")
    sp.add_argument("--kpi", default=None, metavar="CODE")
    sp.add_argument("--threshold", type=float, default=None, metavar="X")
    sp.add_argument("--days", type=int, default=None, metavar="N")
    sp.add_argument("--channel", default="inapp", help="inapp | email:ADDR | webhook:URL")
    common(sp)
    sp.set_defaults(func=cmd, alerts_func=run_add)
    sp = asub.add_parser("list", help="list the rules")
    sp.add_argument("--user", default=None)
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, alerts_func=run_list)
    sp = asub.add_parser("run", help="evaluate every rule and deliver now (as the scheduler does)")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, alerts_func=run_run)
    sp = asub.add_parser("test", help="send a test message over a channel")
    sp.add_argument("--channel", required=True, help="inapp (with --user) | email:ADDR | webhook:URL")
    sp.add_argument("--user", default=None)
    common(sp)
    sp.set_defaults(func=cmd, alerts_func=run_test)


def _db(settings, args):
    from access.db import open_appdb

    return open_appdb(args.app_db or settings.app_db_url)


def run(settings, args) -> int:
    from .store import AlertError

    try:
        return args.alerts_func(settings, args)
    except AlertError as exc:
        print(f"alerts: {exc}", file=sys.stderr)
        return USAGE_ERROR


def run_add(settings, args) -> int:
    from access.cli import cli_actor

    from .store import add_rule

    db = _db(settings, args)
    try:
        r = add_rule(db, username=args.user, rule=args.rule, unit=args.unit, kpi=args.kpi, threshold=args.threshold,
                     days=args.days, channel=args.channel, actor=cli_actor(), settings=settings)
    finally:
        db.close()
    print(f"rule {r.id}: {r.username} {r.rule} unit={r.unit or '-'} kpi={r.kpi or '-'} channel={r.channel}")
    return 0


def _rule_dict(r) -> dict:
    return {"id": r.id, "user": r.username, "rule": r.rule, "unit": r.unit, "kpi": r.kpi, "threshold": r.threshold,
            "days": r.days, "channel": r.channel, "enabled": r.enabled, "created_at": r.created_at.isoformat()}


def run_list(settings, args) -> int:
    from .store import list_rules

    db = _db(settings, args)
    try:
        rules = list_rules(db, args.user)
    finally:
        db.close()
    if args.json:
        print(json.dumps([_rule_dict(r) for r in rules], ensure_ascii=False, indent=1))
        return 0
    for r in rules:
        extra = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in (("unit", r.unit), ("kpi", r.kpi), ("threshold", r.threshold), ("days", r.days))
                         if v is not None)
        print(f"{r.id:>4} {r.username:<16} {r.rule:<14} {r.channel:<30} {extra}{'' if r.enabled else ' (disabled)'}")
    if not rules:
        print("no alert rules")
    return 0


def run_run(settings, args) -> int:
    import time

    from .deliver import run as run_alerts
    from .jobs import open_reader

    db = _db(settings, args)
    started = time.perf_counter()
    try:
        con = open_reader(settings)
        if con is None:
            print("alerts: no warehouse snapshot to read yet (ingest data or run `app.py demo` first)",
                  file=sys.stderr)
            return USAGE_ERROR
        try:
            out = run_alerts(con, db, None, settings)
        finally:
            con.close()
    finally:
        db.close()
    out["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{out['events']} new events {out['by_rule']}; sent {out['sent']}, failed {out['failed']}, "
              f"held (quiet hours) {out['suppressed']}, deferred {out['deferred']} in {out['seconds']} s")
    return 1 if out["failed"] else 0


def run_test(settings, args) -> int:
    from .deliver import send_test

    db = _db(settings, args) if args.channel == "inapp" else None
    try:
        out = send_test(args.channel, settings, db=db, username=args.user)
    finally:
        if db is not None:
            db.close()
    print(f"{out['channel']}: {out['status']}" + (f" ({out['error']})" if out["error"] else ""))
    return 0 if out["status"] == "sent" else 1
