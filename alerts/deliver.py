"""Deliver the recorded alert events over their rule's channel, with retries, quiet hours and a log.

- in-app: a notifications row of the rule's owner, at once (quiet hours do not apply);
- e-mail and webhook: held during quiet hours (R57_QUIET_HOURS, default 21:00-06:30; one 'suppressed' row
  says so) and sent at the first run after they end; 3 attempts with exponential backoff (tenacity), each
  failed attempt logged as 'retrying', the last as 'failed'; a run spends at most BUDGET_S seconds on
  sending, what is left waits for the next run (so a dead SMTP server never blocks the scheduler).

An event is pending until it has a 'sent' or 'failed' delivery; pending events of the last PENDING_DAYS
days are picked up by every run (after a restart too), so nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, insert, select
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

import clock
import config
from access.models import User

from . import channels as C
from . import settings as S
from .models import AlertDelivery, AlertEvent, AlertRule, Notification

log = logging.getLogger(__name__)

ATTEMPTS = 3
WAIT_MULTIPLIER_S = 1.0   # 1 s, then 2 s between attempts
WAIT_MAX_S = 4.0
BUDGET_S = 30.0           # per run, over every e-mail and webhook
PENDING_DAYS = 3
FINAL = ("sent", "failed")


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return clock.utc()
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=config.TZ).astimezone(UTC)


def in_quiet_hours(now: datetime, settings=None) -> bool:
    window = S.quiet_hours(settings)
    if window is None:
        return False
    start, end = window
    local = now.astimezone(config.TZ).time() if now.tzinfo else now.time()
    return (start <= local or local < end) if start > end else (start <= local < end)


def message_of(payload: dict, settings=None) -> C.Message:
    langs = S.langs(settings)
    data = {k: v for k, v in payload.items() if not k.startswith(("title_", "lines_"))}
    return C.Message(subject={lang: payload.get(f"title_{lang}") or payload.get("title_vi") or "" for lang in ("vi", "en")},
                     lines={lang: list(payload.get(f"lines_{lang}") or []) for lang in ("vi", "en")},
                     link=payload.get("link") or "", data=data, langs=langs)


def send(channel: str, message: C.Message, settings=None) -> None:
    """Send once over an e-mail or webhook channel (raises ChannelError)."""
    kind, target = C.kind_of(channel)
    if kind == "email":
        C.send_email(message, target, settings)
    elif kind == "webhook":
        C.send_webhook(message, target, settings)
    else:
        raise C.ChannelError(f"channel {channel!r} is not sent over the network")


def _log(db, event_id: int, channel: str, status: str, attempts: int, error: str | None, at: datetime) -> None:
    with db.session() as s:
        s.add(AlertDelivery(event_id=event_id, channel=channel, status=status, attempts=attempts,
                            error=None if error is None else str(error)[:1000], at=at))


def _pending(db, since: datetime, event_ids=None) -> list[tuple[AlertEvent, AlertRule]]:
    final = exists().where(AlertDelivery.event_id == AlertEvent.id, AlertDelivery.status.in_(FINAL))
    q = (select(AlertEvent, AlertRule).join(AlertRule, AlertRule.id == AlertEvent.rule_id)
         .join(User, User.id == AlertRule.user_id)
         .where(~final, AlertEvent.created_at >= since).order_by(AlertEvent.id))
    if event_ids is not None:
        q = q.where(AlertEvent.id.in_(list(event_ids)))
    with db.session(readonly=True) as s:
        return list(s.execute(q).all())


def _held(db, event_id: int) -> bool:
    with db.session(readonly=True) as s:
        return s.scalar(select(AlertDelivery.id).where(AlertDelivery.event_id == event_id,
                                                       AlertDelivery.status == "suppressed").limit(1)) is not None


def deliver(db, now: datetime | None = None, settings=None, *, event_ids=None, budget_s: float = BUDGET_S,
            wait_multiplier_s: float = WAIT_MULTIPLIER_S) -> dict:
    """Deliver every pending event (or those of `event_ids`); returns counts by status. Never raises for
    a channel's failure (logged in alert_deliveries)."""
    at = _aware(now)
    quiet = in_quiet_hours(at, settings)
    deadline = time.monotonic() + budget_s
    counts = {"sent": 0, "failed": 0, "suppressed": 0, "deferred": 0}
    pending = _pending(db, at - timedelta(days=PENDING_DAYS), event_ids)
    inapp = [(e, r) for e, r in pending if C.kind_of(r.channel)[0] == "inapp"]
    if inapp:  # every in-app notification of the run, and its log row, in one transaction (bulk inserts)
        with db.session() as s:
            s.execute(insert(Notification), [
                {"user_id": rule.user_id, "event_id": event.id, "title": (event.payload or {}).get("title_vi") or "",
                 "body": "\n".join((event.payload or {}).get("lines_vi") or []),
                 "link": (event.payload or {}).get("link"), "created_at": at} for event, rule in inapp])
            s.execute(insert(AlertDelivery), [
                {"event_id": event.id, "channel": rule.channel, "status": "sent", "attempts": 1, "at": at, "error": None}
                for event, rule in inapp])
        counts["sent"] += len(inapp)
    for event, rule in pending:
        payload = event.payload or {}
        if C.kind_of(rule.channel)[0] == "inapp":
            continue
        if quiet:
            if not _held(db, event.id):
                end = S.quiet_hours(settings)[1].strftime("%H:%M")
                _log(db, event.id, rule.channel, "suppressed", 0, f"quiet hours: held until {end}", at)
                counts["suppressed"] += 1
            continue
        if time.monotonic() >= deadline:
            counts["deferred"] += 1  # no row: still pending, the next run sends it
            continue
        counts[_send_with_retries(db, event.id, rule.channel, message_of(payload, settings), settings, at,
                                  deadline, wait_multiplier_s)] += 1
    return counts


def _send_with_retries(db, event_id: int, channel: str, message: C.Message, settings, at: datetime,
                       deadline: float, wait_multiplier_s: float) -> str:
    def out_of_time(state: RetryCallState) -> bool:
        return state.attempt_number >= ATTEMPTS or time.monotonic() >= deadline

    def logged(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None and not out_of_time(state):
            _log(db, event_id, channel, "retrying", state.attempt_number, f"{exc}", at)
            log.warning("alert %d over %s: attempt %d failed: %s", event_id, C.kind_of(channel)[0],
                        state.attempt_number, exc)

    retrying = Retrying(stop=out_of_time, wait=wait_exponential(multiplier=wait_multiplier_s, max=WAIT_MAX_S),
                        retry=retry_if_exception_type(C.ChannelError), after=logged, reraise=True)
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                send(channel, message, settings)
    except C.ChannelError as exc:
        _log(db, event_id, channel, "failed", attempts, str(exc), at)
        log.error("alert %d over %s failed after %d attempts: %s", event_id, C.kind_of(channel)[0], attempts, exc)
        return "failed"
    except Exception as exc:  # a bug in a channel must not stop the run either
        _log(db, event_id, channel, "failed", attempts, f"{type(exc).__name__}: {exc}", at)
        log.exception("alert %d over %s failed", event_id, C.kind_of(channel)[0])
        return "failed"
    _log(db, event_id, channel, "sent", attempts, None, at)
    return "sent"


def run(con, db, now: datetime | None = None, settings=None, **kw) -> dict:
    """Evaluate every rule and deliver what is pending: what the scheduler's alerts job and
    `python app.py alerts run` do. Returns {'events': n, 'by_rule': {...}, 'sent': …, 'failed': …, …}."""
    from .evaluate import evaluate

    events = evaluate(con, db, now, settings)
    counts = deliver(db, now, settings, **kw)
    by_rule: dict[str, int] = {}
    for e in events:
        by_rule[e.rule] = by_rule.get(e.rule, 0) + 1
    return {"events": len(events), "by_rule": by_rule, **counts}


def send_test(channel: str, settings=None, db=None, username: str | None = None) -> dict:
    """`alerts test --channel …`: one test message, once (no retries), not recorded as an event."""
    from presentation.words import t

    from .store import check_channel

    channel = check_channel(channel)
    base = S.public_url(settings)
    message = C.Message(subject={lang: t("alert.title_test", lang) for lang in ("vi", "en")},
                        lines={lang: [t("alert.line_test", lang, channel=C.kind_of(channel)[0])] for lang in ("vi", "en")},
                        link=base + "/alerts", data={"rule": "test"}, langs=S.langs(settings))
    if C.kind_of(channel)[0] == "inapp":
        if db is None or not username:
            return {"channel": channel, "status": "failed", "error": "inapp: --user NAME is needed"}
        with db.session() as s:
            uid = s.scalar(select(User.id).where(User.username == username.strip().lower()))
            if uid is None:
                return {"channel": channel, "status": "failed", "error": f"no user {username!r}"}
            s.add(Notification(user_id=uid, event_id=None, title=message.subject["vi"],
                               body="\n".join(message.lines["vi"]), link=message.link))
        return {"channel": channel, "status": "sent", "error": None}
    try:
        send(channel, message, settings)
    except C.ChannelError as exc:
        return {"channel": channel, "status": "failed", "error": str(exc)}
    return {"channel": channel, "status": "sent", "error": None}
