"""Accounts: local (argon2 password) or OIDC (subject from the identity provider). Every change writes an
audit event with the given actor, in the same transaction as the change."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import passwords
from . import roles as R
from .audit import add_event
from .models import User, UserUnit, utcnow
from .viewer import known_unit

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,64}$")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str | None
    role: str
    units: tuple[str, ...]
    disabled: bool
    has_password: bool
    oidc_subject: str | None


def _account(u: User) -> Account:
    return Account(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                   units=tuple(sorted(x.unit_code for x in u.units)), disabled=bool(u.disabled),
                   has_password=u.password_hash is not None, oidc_subject=u.oidc_subject)


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(f"username {username!r}: 3 to 64 characters among a-z 0-9 . _ -")
    return name


def _check_role(role: str, settings) -> str:
    try:
        R.get_role(role, settings)
    except R.RoleError as exc:
        raise AccountError(str(exc)) from None
    return role


def _check_units(units: Iterable[str]) -> list[str]:
    codes = sorted({str(u).strip() for u in units if str(u).strip()})
    unknown = [c for c in codes if not known_unit(c)]
    if unknown:
        raise AccountError(f"unknown unit code(s) {', '.join(unknown)} (see data/reference/units.csv)")
    return codes


def _check_password(password: str) -> None:
    reason = passwords.check_password_policy(password)
    if reason:
        raise AccountError(passwords.POLICY_MESSAGES[reason])


def _find(s: Session, username: str) -> User:
    u = s.scalar(select(User).where(User.username == normalise_username(username)))
    if u is None:
        raise AccountError(f"no user {username!r}")
    return u


def add_user(db, username: str, role: str, units: Iterable[str] = (), password: str | None = None,
             display_name: str | None = None, actor: str = "system", *, settings=None,
             oidc_subject: str | None = None) -> Account:
    name = normalise_username(username)
    _check_role(role, settings)
    codes = _check_units(units)
    if password is not None:
        _check_password(password)
    hashed = passwords.hash_password(password) if password is not None else None
    try:
        with db.session() as s:
            if s.scalar(select(User.id).where(User.username == name)) is not None:
                raise AccountError(f"user {name!r} exists already")
            u = User(username=name, display_name=display_name, role=role, password_hash=hashed,
                     oidc_subject=oidc_subject, disabled=False,
                     units=[UserUnit(unit_code=c) for c in codes])
            s.add(u)
            s.flush()
            add_event(s, "user_add", actor=actor, target=name,
                      detail={"role": role, "units": codes, "oidc": oidc_subject is not None})
            return _account(u)
    except IntegrityError:
        raise AccountError(f"user {name!r} exists already") from None


def get_user(db, username: str) -> Account | None:
    try:
        name = normalise_username(username)
    except AccountError:
        return None
    with db.session(readonly=True) as s:
        u = s.scalar(select(User).where(User.username == name))
        return _account(u) if u else None


def get_user_by_id(db, user_id: int) -> Account | None:
    with db.session(readonly=True) as s:
        u = s.get(User, user_id)
        return _account(u) if u else None


def list_users(db) -> list[Account]:
    with db.session(readonly=True) as s:
        return [_account(u) for u in s.scalars(select(User).order_by(User.username))]


def disable_user(db, username: str, actor: str = "system") -> Account:
    """Disable the account and end its open sessions."""
    from .sessions import _end_user_sessions

    with db.session() as s:
        u = _find(s, username)
        u.disabled = True
        u.updated_at = utcnow()
        ended = _end_user_sessions(s, u.id)
        add_event(s, "user_disable", actor=actor, target=u.username, detail={"sessions_ended": ended})
        s.flush()
        return _account(u)


def enable_user(db, username: str, actor: str = "system") -> Account:
    with db.session() as s:
        u = _find(s, username)
        u.disabled = False
        u.updated_at = utcnow()
        add_event(s, "user_enable", actor=actor, target=u.username)
        s.flush()
        return _account(u)


def set_password(db, username: str, password: str, actor: str = "system") -> Account:
    _check_password(password)
    hashed = passwords.hash_password(password)
    with db.session() as s:
        u = _find(s, username)
        u.password_hash = hashed
        u.updated_at = utcnow()
        add_event(s, "password_change", actor=actor, target=u.username)
        s.flush()
        return _account(u)


def _set_role_units(s: Session, u: User, role: str, codes: list[str], actor: str) -> bool:
    old = (u.role, sorted(x.unit_code for x in u.units))
    if old == (role, codes):
        return False
    u.role = role
    u.units = [UserUnit(unit_code=c) for c in codes]
    u.updated_at = utcnow()
    add_event(s, "user_role_change", actor=actor, target=u.username,
              detail={"role": role, "units": codes, "was_role": old[0], "was_units": old[1]})
    return True


def set_role_units(db, username: str, role: str, units: Iterable[str], actor: str = "system", *,
                   settings=None) -> Account:
    _check_role(role, settings)
    codes = _check_units(units)
    with db.session() as s:
        u = _find(s, username)
        _set_role_units(s, u, role, codes, actor)
        s.flush()
        return _account(u)


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = passwords.hash_password("r57-no-such-user-dummy-password")
    return _DUMMY_HASH


def authenticate(db, username: str, password: str) -> Account | None:
    """The account when the password matches and the account is enabled; None otherwise. An unknown
    username costs one argon2 verification too (no timing hint). Rehashes when argon2's parameters have
    changed. Writes no audit event: the caller records the sign-in with its client address."""
    try:
        name = normalise_username(username)
    except AccountError:
        name = None
    with db.session(readonly=True) as s:
        u = s.scalar(select(User).where(User.username == name)) if name else None
        stored = u.password_hash if u is not None else None
        account = _account(u) if u is not None else None
    if stored is None:
        passwords.verify_password(_dummy_hash(), password or "")
        return None
    if not passwords.verify_password(stored, password or ""):
        return None
    if account.disabled:
        return None
    if passwords.needs_rehash(stored):
        rehashed = passwords.hash_password(password)
        with db.session() as s:
            u = s.get(User, account.id)
            if u is not None and u.password_hash == stored:
                u.password_hash = rehashed
    return account


def upsert_oidc_user(db, subject: str, username: str, role: str, units: Iterable[str],
                     display_name: str | None = None, *, actor: str = "oidc", settings=None) -> Account:
    """The account of an OIDC subject: created on first sign-in; role and units taken from the claims at
    every sign-in (a change is audited). A username already held by another account is refused (no silent
    linking of a local account to an identity-provider subject)."""
    if not subject:
        raise AccountError("OIDC sign-in without a subject")
    name = normalise_username(username)
    _check_role(role, settings)
    codes = _check_units(units)
    try:
        return _upsert_oidc(db, subject, name, role, codes, display_name, actor)
    except IntegrityError:  # the same subject's first sign-in in another worker a moment ago: once more
        pass
    try:
        return _upsert_oidc(db, subject, name, role, codes, display_name, actor)
    except IntegrityError:
        raise AccountError(f"username {name!r} or this OIDC subject is held by another account") from None


def _upsert_oidc(db, subject: str, name: str, role: str, codes: list[str], display_name: str | None,
                 actor: str) -> Account:
    with db.session() as s:
        u = s.scalar(select(User).where(User.oidc_subject == subject))
        if u is None:
            if s.scalar(select(User.id).where(User.username == name)) is not None:
                raise AccountError(f"username {name!r} is held by another account; an administrator "
                                   "must rename one of them")
            u = User(username=name, display_name=display_name, role=role, password_hash=None,
                     oidc_subject=subject, disabled=False, units=[UserUnit(unit_code=c) for c in codes])
            s.add(u)
            s.flush()
            add_event(s, "user_add", actor=actor, target=name,
                      detail={"role": role, "units": codes, "oidc": True})
        else:
            _set_role_units(s, u, role, codes, actor)
            if display_name and display_name != u.display_name:
                u.display_name = display_name
            s.flush()
        return _account(u)
