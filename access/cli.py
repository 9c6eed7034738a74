"""`app.py users …`, `app.py tokens …`, `app.py audit`: the administrator's command line for the
application database. Exit codes: 0 done, 2 bad input (message on stderr). The audit actor is
`cli:<os user>`."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import secrets
import sys
from datetime import date, datetime

from sqlalchemy.exc import ArgumentError, OperationalError

from . import audit as A
from . import tokens as T
from . import users as U
from .db import open_appdb

USAGE_ERROR = 2


def cli_actor() -> str:
    try:
        who = getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry)
        who = "unknown"
    return f"cli:{who}"


def add_arguments(sub, wh, cmd) -> None:
    """The subcommands, on app.py's subparsers; `wh` adds --warehouse, `cmd` is app.py's entry point
    (it calls `run(settings, args)`)."""

    def common(sp):
        wh(sp)
        sp.add_argument("--app-db", metavar="URL", default=None,
                        help="application database (default $R57_APP_DB or a SQLite file beside the warehouse)")

    users = sub.add_parser("users", help="accounts of the dashboard: add, list, disable, enable, password")
    usub = users.add_subparsers(dest="users_command", required=True)
    sp = usub.add_parser("add", help="add an account (prints a generated password once unless --password-stdin)")
    sp.add_argument("name")
    sp.add_argument("--role", required=True, help="leader, department, ward, analyst, admin (or $R57_ROLES_FILE's)")
    sp.add_argument("--unit", action="append", default=[], metavar="CODE", help="unit code (repeatable)")
    sp.add_argument("--display-name", default=None)
    sp.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_users_add)
    sp = usub.add_parser("list", help="list accounts")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_users_list)
    for name, func, text in (("disable", run_users_disable, "disable an account and end its sessions"),
                             ("enable", run_users_enable, "enable an account again")):
        sp = usub.add_parser(name, help=text)
        sp.add_argument("name")
        common(sp)
        sp.set_defaults(func=cmd, access_func=func)
    sp = usub.add_parser("password", help="set an account's password (one line of stdin)")
    sp.add_argument("name")
    sp.add_argument("--password-stdin", action="store_true", required=True)
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_users_password)

    tokens = sub.add_parser("tokens", help="API tokens: add, list, revoke")
    tsub = tokens.add_subparsers(dest="tokens_command", required=True)
    sp = tsub.add_parser("add", help="add a token (printed once)")
    sp.add_argument("name")
    sp.add_argument("--unit", action="append", default=[], metavar="CODE",
                    help="unit code the token may read (repeatable; none = every unit)")
    sp.add_argument("--push", action="store_true", help="the token may push dossier files")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_tokens_add)
    sp = tsub.add_parser("list", help="list tokens (never their values)")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_tokens_list)
    sp = tsub.add_parser("revoke", help="revoke a token")
    sp.add_argument("name")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_tokens_revoke)

    sp = sub.add_parser("audit", help="the audit log, newest first")
    sp.add_argument("--since", default=None, metavar="DATE", help="dd/mm/yyyy or yyyy-mm-dd (Hanoi day)")
    sp.add_argument("--user", default=None, metavar="NAME", help="events by or about this account")
    sp.add_argument("--action", default=None, metavar="A", help="e.g. login, user_add, token_revoke")
    sp.add_argument("--limit", type=int, default=1000)
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd, access_func=run_audit)


def _db(settings, args):
    return open_appdb(args.app_db or settings.app_db_url, settings=settings)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _stdin_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _guard(func):
    def run(settings, args) -> int:
        try:
            return func(settings, args)
        except (U.AccountError, T.TokenError, ValueError, ArgumentError) as exc:
            return _fail(str(exc))
        except OperationalError as exc:
            print(f"error: cannot open the application database: {exc.orig}", file=sys.stderr)
            return 1
    run.__name__ = func.__name__
    return run


@_guard
def run_users_add(settings, args) -> int:
    generated = not args.password_stdin
    password = secrets.token_urlsafe(15) if generated else _stdin_password()
    db = _db(settings, args)
    try:
        acc = U.add_user(db, args.name, args.role, args.unit, password=password, display_name=args.display_name,
                         actor=cli_actor(), settings=settings)
        from alerts.store import default_rules  # the role's default alert rules (issue 11), in-app

        rules = default_rules(db, acc.username, settings, actor=cli_actor())
    finally:
        db.close()
    print(f"User {acc.username} added: role {acc.role}, units {', '.join(acc.units) or '-'}; "
          f"{len(rules)} default alert rules ({', '.join(r.rule for r in rules) or '-'})")
    if generated:
        print(f"Password: {password}")
        print("It will not be shown again; give it to the user by a safe channel.")
    return 0


def _account_json(a: U.Account) -> dict:
    return {"username": a.username, "display_name": a.display_name, "role": a.role, "units": list(a.units),
            "disabled": a.disabled, "has_password": a.has_password, "oidc": a.oidc_subject is not None}


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


@_guard
def run_users_list(settings, args) -> int:
    db = _db(settings, args)
    try:
        accounts = U.list_users(db)
    finally:
        db.close()
    if args.json:
        print(json.dumps([_account_json(a) for a in accounts], ensure_ascii=False, indent=2))
        return 0
    rows = [[a.username, a.role, ",".join(a.units) or "-", "disabled" if a.disabled else "active",
             ("password" if a.has_password else "") + ("+oidc" if a.oidc_subject and a.has_password else
                                                         "oidc" if a.oidc_subject else ""),
             a.display_name or ""] for a in accounts]
    print(_table(["username", "role", "units", "state", "sign-in", "display name"], rows))
    return 0


@_guard
def run_users_disable(settings, args) -> int:
    db = _db(settings, args)
    try:
        acc = U.disable_user(db, args.name, actor=cli_actor())
    finally:
        db.close()
    print(f"User {acc.username} disabled; their sessions are ended.")
    return 0


@_guard
def run_users_enable(settings, args) -> int:
    db = _db(settings, args)
    try:
        acc = U.enable_user(db, args.name, actor=cli_actor())
    finally:
        db.close()
    print(f"User {acc.username} enabled.")
    return 0


@_guard
def run_users_password(settings, args) -> int:
    password = _stdin_password()
    db = _db(settings, args)
    try:
        acc = U.set_password(db, args.name, password, actor=cli_actor())
    finally:
        db.close()
    print(f"Password of {acc.username} changed.")
    return 0


@_guard
def run_tokens_add(settings, args) -> int:
    db = _db(settings, args)
    try:
        info, raw = T.add_token(db, args.name, args.unit, push=args.push, created_by=cli_actor())
    finally:
        db.close()
    print(f"Token {info.name} added: units {', '.join(info.units) or '(every unit)'}, push {'yes' if info.push else 'no'}")
    print(raw)
    print("This token will not be shown again: store it now (the database keeps only its hash).")
    return 0


def _iso(dt: datetime | None) -> str | None:
    from config import TZ

    return dt.astimezone(TZ).isoformat(timespec="seconds") if dt else None


@_guard
def run_tokens_list(settings, args) -> int:
    db = _db(settings, args)
    try:
        infos = T.list_tokens(db)
    finally:
        db.close()
    if args.json:
        print(json.dumps([{"name": t.name, "units": list(t.units), "push": t.push, "created_at": _iso(t.created_at),
                           "last_used_at": _iso(t.last_used_at), "revoked": t.revoked} for t in infos], indent=2))
        return 0
    rows = [[t.name, ",".join(t.units) or "*", "yes" if t.push else "no", _iso(t.created_at) or "",
             _iso(t.last_used_at) or "-", "revoked" if t.revoked else "active"] for t in infos]
    print(_table(["name", "units", "push", "created", "last used", "state"], rows))
    return 0


@_guard
def run_tokens_revoke(settings, args) -> int:
    db = _db(settings, args)
    try:
        info = T.revoke_token(db, args.name, actor=cli_actor())
    finally:
        db.close()
    print(f"Token {info.name} revoked.")
    return 0


def parse_day(text: str) -> date:
    """dd/mm/yyyy (Vietnamese) or yyyy-mm-dd."""
    text = text.strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text!r}: expected dd/mm/yyyy or yyyy-mm-dd") from None


@_guard
def run_audit(settings, args) -> int:
    since = parse_day(args.since) if args.since else None
    if args.limit is not None and args.limit < 1:
        return _fail("--limit must be at least 1")
    db = _db(settings, args)
    try:
        rows = A.events(db, since=since, user=args.user, action=args.action, limit=args.limit)
    finally:
        db.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = [[r["at"], r["actor"], r["action"], r["outcome"], r["target"] or "", r["scope"] or "",
              r["client"] or "", json.dumps(r["detail"], ensure_ascii=False) if r["detail"] else ""] for r in rows]
    print(_table(["at", "actor", "action", "outcome", "target", "scope", "client", "detail"], table))
    return 0


def run(settings, args: argparse.Namespace) -> int:
    return args.access_func(settings, args)
