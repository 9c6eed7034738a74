"""API tokens for machines (read API, push ingest): "r57_" + secrets.token_urlsafe(32), shown once at
creation; the database keeps only its sha256. A token carries units (none = every unit) and may push."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from .audit import add_event
from .models import ApiToken, ApiTokenUnit, utcnow
from .sessions import TOUCH_EVERY, token_hash
from .viewer import known_unit

PREFIX = "r57_"
NAME_RE = re.compile(r"^[a-z0-9._-]{3,64}$")


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    units: tuple[str, ...]
    push: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _info(t: ApiToken) -> TokenInfo:
    return TokenInfo(id=t.id, name=t.name, units=tuple(sorted(u.unit_code for u in t.units)), push=bool(t.push),
                     created_at=t.created_at, last_used_at=t.last_used_at, revoked=t.revoked_at is not None)


def add_token(db, name: str, units: Iterable[str] = (), push: bool = False,
              created_by: str = "system") -> tuple[TokenInfo, str]:
    """A new token; returns its info and the raw value (shown once, never stored)."""
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise TokenError(f"token name {name!r}: 3 to 64 characters among a-z 0-9 . _ -")
    codes = sorted({str(u).strip() for u in units if str(u).strip()})
    unknown = [c for c in codes if not known_unit(c)]
    if unknown:
        raise TokenError(f"unknown unit code(s) {', '.join(unknown)} (see data/reference/units.csv)")
    raw = PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        if s.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
            raise TokenError(f"a token named {name!r} exists already (names are not reused, even revoked)")
        t = ApiToken(name=name, token_hash=token_hash(raw), push=bool(push), created_at=utcnow(),
                     created_by=created_by, units=[ApiTokenUnit(unit_code=c) for c in codes])
        s.add(t)
        s.flush()
        add_event(s, "token_add", actor=created_by, target=name, detail={"units": codes, "push": bool(push)})
        return _info(t), raw


def resolve_token(db, raw: str | None) -> TokenInfo | None:
    if not raw or not raw.startswith(PREFIX) or len(raw) > 256:
        return None
    now = utcnow()
    with db.session(readonly=True) as s:
        t = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
        if t is None or t.revoked_at is not None:
            return None
        info = _info(t)
    if info.last_used_at is None or now - info.last_used_at >= TOUCH_EVERY:
        with db.session() as s:
            s.execute(update(ApiToken).where(ApiToken.id == info.id).values(last_used_at=now))
    return info


def list_tokens(db) -> list[TokenInfo]:
    with db.session(readonly=True) as s:
        return [_info(t) for t in s.scalars(select(ApiToken).order_by(ApiToken.name))]


def get_token(db, name: str) -> TokenInfo | None:
    with db.session(readonly=True) as s:
        t = s.scalar(select(ApiToken).where(ApiToken.name == (name or "").strip().lower()))
        return _info(t) if t else None


def revoke_token(db, name: str, actor: str = "system") -> TokenInfo:
    with db.session() as s:
        t = s.scalar(select(ApiToken).where(ApiToken.name == (name or "").strip().lower()))
        if t is None:
            raise TokenError(f"no token {name!r}")
        if t.revoked_at is None:
            t.revoked_at = utcnow()
            add_event(s, "token_revoke", actor=actor, target=t.name)
        s.flush()
        return _info(t)
