"""Alert rules, in-app notifications and the delivery log in the application database.

A rule belongs to one account; it may name a unit only within the account's scope (the viewer of the stored
account `sees(unit)`), so a ward user cannot subscribe to another ward. Adding and removing a rule is audited.
No personal data is stored: messages and payloads hold unit and procedure codes, dossier ids, counts, days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select, update

import config
from access.audit import add_event
from access.models import User, utcnow
from access.viewer import Viewer, for_account, known_unit

from .models import AlertDelivery, AlertEvent, AlertRule, Notification

RULES = ("status_change", "threshold", "overdue", "escalation", "due_soon", "data_stale", "ingest_failed",
         "report_ready")
# rules about a unit's dossiers: unit None means every unit of the owner's scope
DOSSIER_RULES = ("overdue", "escalation", "due_soon", "data_stale")
EMAIL_RE = re.compile(r"^[^@\s:,;<>]+@[^@\s:,;<>]+\.[A-Za-z0-9-]+$")
WEBHOOK_RE = re.compile(r"^https?://[^\s]+$")


class AlertError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: int
    username: str
    rule: str
    unit: str | None
    kpi: str | None
    threshold: float | None
    days: int | None
    channel: str
    enabled: bool
    created_at: datetime


def check_channel(channel: str) -> str:
    """'inapp', 'email:ADDR' or 'webhook:URL' (http or https); raises AlertError otherwise."""
    channel = (channel or "").strip()
    if channel == "inapp":
        return channel
    kind, _, target = channel.partition(":")
    if kind == "email" and EMAIL_RE.match(target):
        return channel
    if kind == "webhook" and WEBHOOK_RE.match(target):
        return channel
    raise AlertError(f"channel {channel!r}: expected inapp, email:ADDRESS or webhook:http(s)://URL")


def viewer_of(u: User, settings=None) -> Viewer:
    return for_account(u.username, u.role, [x.unit_code for x in u.units], u.display_name, settings=settings)


def _rule(r: AlertRule, username: str) -> Rule:
    return Rule(id=r.id, username=username, rule=r.rule, unit=r.unit_code, kpi=r.kpi, threshold=r.threshold,
                days=r.days, channel=r.channel, enabled=bool(r.enabled), created_at=r.created_at)


def _user(s, username: str) -> User:
    u = s.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if u is None:
        raise AlertError(f"no user {username!r}")
    return u


def _check(rule: str, unit: str | None, kpi: str | None, threshold: float | None, days: int | None) -> None:
    if rule not in RULES:
        raise AlertError(f"rule {rule!r}: expected one of {', '.join(RULES)}")
    if unit is not None and not known_unit(unit):
        raise AlertError(f"unknown unit code {unit!r} (see data/reference/units.csv)")
    if kpi is not None:
        from metrics.registry import RegistryError, get_registry

        try:
            get_registry().kpi(kpi)
        except (KeyError, RegistryError):
            raise AlertError(f"unknown KPI {kpi!r} (python app.py metrics list)") from None
    if rule == "threshold" and (kpi is None or threshold is None):
        raise AlertError("rule threshold needs --kpi and --threshold")
    if days is not None and (days < 0 or days > 3650):
        raise AlertError("days: 0 to 3650")


def add_rule(db, *, username: str, rule: str, unit: str | None = None, kpi: str | None = None,
             threshold: float | None = None, days: int | None = None, channel: str = "inapp", actor: str,
             settings=None) -> Rule:
    """A new enabled rule of `username`; its unit must be within the account's scope. Audited."""
    unit = (str(unit).strip() or None) if unit is not None else None
    kpi = (str(kpi).strip() or None) if kpi is not None else None
    threshold = None if threshold is None else float(threshold)
    days = None if days is None else int(days)
    _check(rule, unit, kpi, threshold, days)
    channel = check_channel(channel)
    with db.session() as s:
        u = _user(s, username)
        if u.disabled:
            raise AlertError(f"user {u.username!r} is disabled")
        viewer = viewer_of(u, settings)
        if not viewer.sees(unit):
            add_event(s, "alert_rule_add", actor=actor, outcome="denied", target=u.username,
                      scope=viewer.describe_scope(), detail={"rule": rule, "unit": unit})
            s.commit()
            raise AlertError(f"unit {unit} is outside the scope of {u.username} ({viewer.describe_scope()})")
        r = AlertRule(user_id=u.id, rule=rule, unit_code=unit, kpi=kpi, threshold=threshold, days=days,
                      channel=channel, enabled=True, created_at=utcnow(), created_by=str(actor)[:128])
        s.add(r)
        s.flush()
        add_event(s, "alert_rule_add", actor=actor, target=u.username, scope=viewer.describe_scope(),
                  detail={"rule_id": r.id, "rule": rule, "unit": unit, "kpi": kpi, "threshold": threshold,
                          "days": days, "channel": channel.partition(":")[0]})
        return _rule(r, u.username)


def list_rules(db, username: str | None = None, *, enabled_only: bool = False) -> list[Rule]:
    q = select(AlertRule, User.username).join(User, User.id == AlertRule.user_id)
    if username is not None:
        q = q.where(User.username == username.strip().lower())
    if enabled_only:
        q = q.where(AlertRule.enabled.is_(True), User.disabled.is_(False))
    q = q.order_by(User.username, AlertRule.id)
    with db.session(readonly=True) as s:
        return [_rule(r, name) for r, name in s.execute(q)]


def remove_rule(db, rule_id: int, *, actor: str, username: str | None = None) -> None:
    """Delete a rule (its events, deliveries and notifications go with it). With `username`, only a rule
    of that user: a user removes only their own. Audited."""
    with db.session() as s:
        row = s.execute(select(AlertRule, User.username).join(User, User.id == AlertRule.user_id)
                        .where(AlertRule.id == int(rule_id))).first()
        if row is None or (username is not None and row[1] != username.strip().lower()):
            raise AlertError(f"no alert rule {rule_id}" + (f" of {username}" if username else ""))
        r, owner = row
        add_event(s, "alert_rule_remove", actor=actor, target=owner,
                  detail={"rule_id": r.id, "rule": r.rule, "unit": r.unit_code})
        s.delete(r)


def set_enabled(db, rule_id: int, enabled: bool, *, actor: str, username: str | None = None) -> Rule:
    with db.session() as s:
        row = s.execute(select(AlertRule, User.username).join(User, User.id == AlertRule.user_id)
                        .where(AlertRule.id == int(rule_id))).first()
        if row is None or (username is not None and row[1] != username.strip().lower()):
            raise AlertError(f"no alert rule {rule_id}" + (f" of {username}" if username else ""))
        r, owner = row
        r.enabled = bool(enabled)
        add_event(s, "alert_rule_enable" if enabled else "alert_rule_disable", actor=actor, target=owner,
                  detail={"rule_id": r.id})
        s.flush()
        return _rule(r, owner)


def _local_iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(config.TZ).isoformat(timespec="seconds")


def _utc(since: datetime | date) -> datetime:
    if not isinstance(since, datetime):
        since = datetime.combine(since, time.min)
    if since.tzinfo is None:
        since = since.replace(tzinfo=config.TZ)
    return since.astimezone(UTC)


def notifications(db, username: str, unread_only: bool = False, limit: int = 50, lang: str = "vi") -> list[dict]:
    """The user's in-app notifications, newest first: id, title, body, link, created_at (Hanoi ISO), read.

    Title and body in the reader's language `lang`: an alert's event payload holds its words in both
    languages (and its structured data: rule, unit, KPI, counts, dossier ids), so the notification row's
    own Vietnamese text is only the fallback (a test notification, an event without that language)."""
    q = (select(Notification, AlertEvent.payload).join(User, User.id == Notification.user_id)
         .outerjoin(AlertEvent, AlertEvent.id == Notification.event_id)
         .where(User.username == (username or "").strip().lower()))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    out = []
    with db.session(readonly=True) as s:
        for n, payload in s.execute(q):
            title, body = n.title, n.body
            if isinstance(payload, dict) and payload.get(f"title_{lang}"):
                title, body = payload[f"title_{lang}"], "\n".join(payload.get(f"lines_{lang}") or [])
            out.append({"id": n.id, "title": title, "body": body, "link": n.link,
                        "created_at": _local_iso(n.created_at), "read": n.read_at is not None})
    return out


def unread_count(db, username: str) -> int:
    q = (select(func.count()).select_from(Notification).join(User, User.id == Notification.user_id)
         .where(User.username == (username or "").strip().lower(), Notification.read_at.is_(None)))
    with db.session(readonly=True) as s:
        return int(s.scalar(q) or 0)


def mark_read(db, username: str, ids=None) -> int:
    """Mark the user's notifications read (all unread ones, or those of `ids`); returns how many."""
    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == (username or "").strip().lower()))
        if uid is None:
            return 0
        q = update(Notification).where(Notification.user_id == uid, Notification.read_at.is_(None))
        if ids is not None:
            ids = [int(i) for i in ids]
            if not ids:
                return 0
            q = q.where(Notification.id.in_(ids))
        return int(s.execute(q.values(read_at=utcnow())).rowcount or 0)


def deliveries(db, username: str | None = None, since: datetime | date | None = None, limit: int = 500) -> list[dict]:
    """The delivery log, newest first: id, at (Hanoi ISO), username, rule_id, rule, unit, channel (as the
    user configured it), status (sent | failed | retrying | suppressed), attempts, error, title."""
    q = (select(AlertDelivery, AlertEvent, AlertRule, User.username)
         .join(AlertEvent, AlertEvent.id == AlertDelivery.event_id)
         .join(AlertRule, AlertRule.id == AlertEvent.rule_id)
         .join(User, User.id == AlertRule.user_id))
    if username is not None:
        q = q.where(User.username == username.strip().lower())
    if since is not None:
        q = q.where(AlertDelivery.at >= _utc(since))
    q = q.order_by(AlertDelivery.at.desc(), AlertDelivery.id.desc()).limit(limit)
    with db.session(readonly=True) as s:
        return [{"id": d.id, "at": _local_iso(d.at), "username": name, "rule_id": r.id, "rule": r.rule,
                 "unit": (e.payload or {}).get("unit") or r.unit_code, "channel": d.channel, "status": d.status,
                 "attempts": d.attempts, "error": d.error, "title": (e.payload or {}).get("title_vi")}
                for d, e, r, name in s.execute(q)]


def default_rules(db, username: str, settings=None, *, actor: str = "system") -> list[Rule]:
    """The role's default rules for `username` (those it lacks; run twice, adds nothing): ward — due_soon
    (daily digest) and overdue for each of its units; department — overdue and escalation for its units;
    leader — status_change of the city's Resolution 57 KPIs and escalation; admin and analyst —
    ingest_failed and data_stale. In-app (accounts hold no e-mail address: e-mail only by a rule that names
    email:ADDR)."""
    with db.session(readonly=True) as s:
        u = _user(s, username)
        role, units = u.role, sorted(x.unit_code for x in u.units)
    wanted: list[dict] = []
    if role == "ward":
        for unit in units or [None]:
            wanted += [dict(rule="due_soon", unit=unit, days=2), dict(rule="overdue", unit=unit, threshold=0)]
    elif role == "department":
        for unit in units or [None]:
            wanted += [dict(rule="overdue", unit=unit, threshold=0), dict(rule="escalation", unit=unit, days=10)]
    elif role == "leader":
        wanted += [dict(rule="status_change", unit=None), dict(rule="escalation", unit=None, days=20)]
    elif role in ("admin", "analyst"):
        wanted += [dict(rule="ingest_failed"), dict(rule="data_stale", threshold=16)]
    have = {(r.rule, r.unit, r.kpi, r.channel) for r in list_rules(db, username)}
    added = []
    for w in wanted:
        if (w["rule"], w.get("unit"), None, "inapp") in have:
            continue
        added.append(add_rule(db, username=username, channel="inapp", actor=actor, settings=settings, **w))
    return added
