"""Sign-in sessions: the browser holds a random value (secrets.token_urlsafe(32)), the database only its
sha256. A session resolves while it is neither ended nor expired and its user is enabled."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import LoginSession, User, utcnow
from .users import Account, _account

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def start_session(db, user_id: int, client: str | None = None, hours: float = 12) -> str:
    """A new session for the user; returns the raw value for the cookie (never stored)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.add(LoginSession(token_hash=token_hash(raw), user_id=user_id, created_at=now, last_seen_at=now,
                           expires_at=now + timedelta(hours=hours), ended_at=None,
                           client=None if client is None else str(client)[:64]))
    return raw


def resolve_session(db, raw: str | None) -> Account | None:
    if not raw or len(raw) > 256:
        return None
    h = token_hash(raw)
    now = utcnow()
    with db.session(readonly=True) as s:
        row = s.execute(select(LoginSession, User).join(User, User.id == LoginSession.user_id)
                        .where(LoginSession.token_hash == h)).first()
        if row is None:
            return None
        ls, user = row
        if ls.ended_at is not None or ls.expires_at <= now or user.disabled:
            return None
        account = _account(user)
        stale = now - ls.last_seen_at >= TOUCH_EVERY
        session_id = ls.id
    if stale:
        with db.session() as s:
            s.execute(update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))
    return account


def end_session(db, raw: str | None) -> bool:
    """End the session (sign-out); True when there was an open one."""
    if not raw:
        return False
    with db.session() as s:
        res = s.execute(update(LoginSession)
                        .where(LoginSession.token_hash == token_hash(raw), LoginSession.ended_at.is_(None))
                        .values(ended_at=utcnow()))
        return bool(res.rowcount)


def _end_user_sessions(s: Session, user_id: int) -> int:
    res = s.execute(update(LoginSession)
                    .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))
    return int(res.rowcount or 0)


def end_user_sessions(db, user_id: int) -> int:
    """End every open session of the user; returns how many."""
    with db.session() as s:
        return _end_user_sessions(s, user_id)
