"""The audit log: who did what, when, from where, with what outcome. Append-only (a database trigger
refuses UPDATE and DELETE; this module has no function for either).

No personal data beyond the username (actor, target) and the client address: never a password, a token,
a citizen's dossier data. `record` raises on a database error: an unaudited action must not pass silently.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import config

from .models import AuditEvent, utcnow

OUTCOMES = ("ok", "denied", "failed")
_FORBIDDEN_KEYS = ("password", "secret", "token_hash", "raw_token", "cookie")


def _check_detail(detail: dict | None) -> str | None:
    if detail is None:
        return None
    for key in detail:
        if any(bad in str(key).lower() for bad in _FORBIDDEN_KEYS):
            raise ValueError(f"audit detail must not carry {key!r}")
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def add_event(s: Session, action: str, *, actor: str, outcome: str = "ok", target: str | None = None,
              scope: str | None = None, detail: dict | None = None, client: str | None = None,
              at: datetime | None = None) -> None:
    """One audit row inside the caller's unit of work (so a change and its audit commit together)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome {outcome!r}; expected one of {OUTCOMES}")
    if not action or not actor:
        raise ValueError("audit: action and actor are required")
    s.add(AuditEvent(at=at or utcnow(), actor=str(actor)[:128], action=str(action)[:64], outcome=outcome,
                     target=None if target is None else str(target)[:255], scope=scope,
                     detail=_check_detail(detail), client=None if client is None else str(client)[:64]))


def record(db, action: str, *, actor: str, outcome: str = "ok", target: str | None = None,
           scope: str | None = None, detail: dict | None = None, client: str | None = None) -> None:
    """Write one audit event (one INSERT, its own transaction). Raises on error."""
    with db.session() as s:
        add_event(s, action, actor=actor, outcome=outcome, target=target, scope=scope, detail=detail,
                  client=client)


def _utc(since: datetime | date) -> datetime:
    """A date is the start of that day in Hanoi; a naive datetime is Hanoi local time."""
    if not isinstance(since, datetime):
        since = datetime.combine(since, time.min)
    if since.tzinfo is None:
        since = since.replace(tzinfo=config.TZ)
    return since.astimezone(UTC)


def _as_dict(e: AuditEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at.astimezone(config.TZ).isoformat(timespec="seconds"),
        "actor": e.actor,
        "action": e.action,
        "outcome": e.outcome,
        "target": e.target,
        "scope": e.scope,
        "detail": json.loads(e.detail) if e.detail else {},
        "client": e.client,
    }


def events(db, since: datetime | date | None = None, user: str | None = None, action: str | None = None,
           limit: int | None = 1000) -> list[dict]:
    """Audit events, newest first. `user` matches the actor or the target (what a user did, and what was
    done to that account). `at` is an ISO string in Hanoi time."""
    q = select(AuditEvent)
    if since is not None:
        q = q.where(AuditEvent.at >= _utc(since))
    if user is not None:
        q = q.where(or_(AuditEvent.actor == user, AuditEvent.target == user))
    if action is not None:
        q = q.where(AuditEvent.action == action)
    q = q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit is not None:
        q = q.limit(limit)
    with db.session(readonly=True) as s:
        return [_as_dict(e) for e in s.scalars(q)]


def count_recent(db, action: str, *, since: datetime, actor: str | None = None, client: str | None = None,
                 outcome: str | None = None) -> int:
    """How many `action` events since `since` (by actor, by client, with outcome): for sign-in throttling."""
    q = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action,
                                                           AuditEvent.at >= _utc(since))
    if actor is not None:
        q = q.where(AuditEvent.actor == actor)
    if client is not None:
        q = q.where(AuditEvent.client == client)
    if outcome is not None:
        q = q.where(AuditEvent.outcome == outcome)
    with db.session(readonly=True) as s:
        return int(s.scalar(q) or 0)
