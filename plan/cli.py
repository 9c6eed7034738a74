"""`app.py plan import|list|update|owners`: the plan tracker from the command line (thin).

Exit codes: 0 done, 1 a file failed or rows were rejected (import), 2 bad input or a refused update (message on
stderr). The audit actor of an import is `cli:<os user>`; `plan update --user NAME` reports as that account,
within its ownership, exactly as the dashboard's form does (the audit event says it came through the CLI).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

USAGE_ERROR = 2


def add_arguments(sub, wh, cmd) -> None:
    def common(sp):
        wh(sp)
        sp.add_argument("--app-db", metavar="URL", default=None,
                        help="application database (default $R57_APP_DB or a SQLite file beside the warehouse)")
        sp.add_argument("--lang", choices=("vi", "en"), default="vi")

    p = sub.add_parser("plan", help="the Resolution 57 implementation plan: import an annex, list, update progress")
    psub = p.add_subparsers(dest="plan_command", required=True)
    sp = psub.add_parser("import", help="import a plan annex (.xlsx or .csv, one row per task; re-import updates "
                                        "by task code)")
    sp.add_argument("path", metavar="FILE")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, plan_func=run_import)
    sp = psub.add_parser("list", help="the groups and tasks with their status now")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, plan_func=run_list)
    sp = psub.add_parser("update", help="report progress on a task as an account (within its ownership)")
    sp.add_argument("task", metavar="TASK")
    sp.add_argument("--progress", default=None, metavar="N", help="percent done, 0-100")
    sp.add_argument("--value", default=None, metavar="X", help="the indicator's value in its unit of measure")
    sp.add_argument("--note", default=None, metavar="TEXT")
    sp.add_argument("--evidence", default=None, metavar="URL")
    sp.add_argument("--date", default=None, metavar="DD/MM/YYYY", help="the day reported for (default today)")
    sp.add_argument("--user", required=True, metavar="NAME")
    common(sp)
    sp.set_defaults(func=cmd, plan_func=run_update)
    sp = psub.add_parser("owners", help="accounts acting for a city department in the plan")
    sp.add_argument("action", choices=("add", "list"))
    sp.add_argument("unit", nargs="?", metavar="DEPARTMENT", help="department code (plan/departments.csv), e.g. SKHCN")
    sp.add_argument("--user", default=None, metavar="NAME")
    common(sp)
    sp.set_defaults(func=cmd, plan_func=run_owners)


def _db(settings, args):
    from access.db import open_appdb

    return open_appdb(args.app_db or settings.app_db_url)


def today() -> date:
    import clock

    return clock.now().date()


def run(settings, args) -> int:
    from .importer import AnnexError
    from .store import PlanError

    try:
        return args.plan_func(settings, args)
    except (PlanError, AnnexError) as exc:
        from presentation.words import t

        code = getattr(exc, "code", None)
        print("plan: " + (t(f"plan.err_{code}", args.lang) if code else str(exc)), file=sys.stderr)
        return USAGE_ERROR


def run_import(settings, args) -> int:
    from access.cli import cli_actor
    from presentation.words import t

    from .importer import import_file

    path = Path(args.path)
    if not path.is_file():
        print(f"plan: no such file: {path}", file=sys.stderr)
        return USAGE_ERROR
    db = _db(settings, args)
    try:
        rep = import_file(db, path, actor=cli_actor(), as_of=today())
    finally:
        db.close()
    if args.json:
        print(json.dumps(rep.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(f"{rep.file}: {rep.status}")
        if rep.error:
            print("  " + t("cli_not_loaded", args.lang, error=rep.error))
        else:
            print("  " + t("plan.cli_counts", args.lang, read=rep.rows_read, inserted=rep.inserted,
                           updated=rep.updated, unchanged=rep.unchanged, rejected=len({r.line for r in rep.rejected}),
                           progress=rep.progress))
        for r in rep.rejected + rep.warnings:
            print(f"    line {r.line}: {t(f'plan.reason_{r.code}', args.lang, column=r.column)}"
                  + (f" [{r.task_code}]" if r.task_code else ""))
    return 0 if rep.status == "loaded" else 1


def _evaluated(settings):
    """The plan with statuses now (KPI-linked tasks judged on the newest snapshot, when there is one)."""
    import clock
    from access.db import open_appdb
    from metrics.plan_status import evaluate_plan
    from warehouse.db import connect, current_snapshot

    from .store import load_plan

    db = open_appdb(settings.app_db_url)
    try:
        plan = load_plan(db)
    finally:
        db.close()
    if plan is None:
        return None
    snap = current_snapshot(settings)
    now = clock.now()
    if snap is None:
        return evaluate_plan(None, plan, now)
    con = connect(snap, settings, read_only=True)
    try:
        return evaluate_plan(con, plan, now)
    finally:
        con.close()


def run_list(settings, args) -> int:
    from presentation.words import localised, t

    from . import units

    plan = _evaluated(settings)
    if plan is None:
        print(t("plan.none", args.lang), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: plan[k] for k in ("code", "groups", "tasks")}, ensure_ascii=False, indent=2, default=str))
        return 0
    for g in plan["groups"]:
        print(f"{g['code']:<6} {t('plan.status_' + g['status'], args.lang):<16} {localised(g, 'name_vi', args.lang)}")
        for task in sorted((x for x in plan["tasks"] if x["group_code"] == g["code"]),
                           key=lambda x: x["code"]):
            pct = "" if task["percent"] is None else f"{task['percent']:.0f}%"
            print(f"  {task['code']:<10} {t('plan.status_' + task['status'], args.lang):<16} {pct:>5}  "
                  f"{task['deadline']:%d/%m/%Y}  {units.name(task['lead_unit_code'], args.lang)}")
    return 0


def run_update(settings, args) -> int:
    from access.cli import cli_actor
    from alerts.store import viewer_of
    from presentation.words import t

    from .importer import parse_date
    from .store import PlanError, add_update

    db = _db(settings, args)
    try:
        from sqlalchemy import select

        from access.models import User

        with db.session(readonly=True) as s:
            u = s.scalar(select(User).where(User.username == args.user.strip().lower()))
            viewer = viewer_of(u, settings) if u is not None and not u.disabled else None
        if viewer is None:
            raise PlanError("unknown_user")
        as_of = parse_date(args.date) if args.date else today()
        if as_of is None:
            raise PlanError("bad_date")
        r = add_update(db, args.task, viewer, percent=args.progress, value=args.value, note=args.note,
                       evidence_url=args.evidence, as_of=as_of, via=cli_actor())
    finally:
        db.close()
    print(t("plan.updated", args.lang, task=r.task))
    return 0


def run_owners(settings, args) -> int:
    from access.cli import cli_actor

    from .store import PlanError, link_account, owners

    db = _db(settings, args)
    try:
        if args.action == "add":
            if not args.unit or not args.user:
                raise PlanError("owners_usage")
            link_account(db, args.unit, args.user, actor=cli_actor())
        for code, names in sorted(owners(db).items()):
            print(f"{code:<8} {', '.join(names)}")
    finally:
        db.close()
    return 0
