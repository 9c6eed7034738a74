"""The alerts' settings, from the environment (each may also be an attribute of the Settings object passed):

R57_PUBLIC_URL     base of the links in messages (default http://127.0.0.1:8050)
R57_SMTP_URL       smtp://user:pass@host:587?starttls=1&from=r57@hanoi.gov.vn, or smtps://… (SSL)
R57_WEBHOOK_SECRET key of the X-R57-Signature HMAC-SHA256 of a webhook's body
R57_QUIET_HOURS    "21:00-06:30" (default): e-mail and webhooks held until the end; in-app at once; "off"
R57_ALERT_LANGS    "vi,en" (default): Vietnamese first, English as the second part; "vi" for Vietnamese only
"""

from __future__ import annotations

import os
from datetime import time

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8050"
DEFAULT_QUIET_HOURS = "21:00-06:30"
DIGEST_AT = time(7, 30)  # daily digests (due soon) at 07:30 Asia/Ho_Chi_Minh on working days


def _get(settings, attr: str, env: str, default: str | None = None) -> str | None:
    value = getattr(settings, attr, None) if settings is not None else None
    if value is None:
        value = os.environ.get(env) or default
    return value


def public_url(settings=None) -> str:
    return str(_get(settings, "public_url", "R57_PUBLIC_URL", DEFAULT_PUBLIC_URL)).rstrip("/")


def smtp_url(settings=None) -> str | None:
    return _get(settings, "smtp_url", "R57_SMTP_URL")


def webhook_secret(settings=None) -> str | None:
    return _get(settings, "webhook_secret", "R57_WEBHOOK_SECRET")


def langs(settings=None) -> tuple[str, ...]:
    raw = str(_get(settings, "alert_langs", "R57_ALERT_LANGS", "vi,en"))
    out = tuple(x.strip() for x in raw.split(",") if x.strip() in ("vi", "en"))
    return out or ("vi", "en")


def quiet_hours(settings=None) -> tuple[time, time] | None:
    """(start, end) local times, or None when off. A window may wrap midnight (21:00-06:30)."""
    raw = str(_get(settings, "quiet_hours", "R57_QUIET_HOURS", DEFAULT_QUIET_HOURS)).strip()
    if raw.lower() in ("", "off", "none", "0"):
        return None
    a, _, b = raw.partition("-")
    try:
        start, end = (time.fromisoformat(x.strip()) for x in (a, b))
    except ValueError:
        raise ValueError(f"R57_QUIET_HOURS={raw!r}: expected HH:MM-HH:MM, e.g. 21:00-06:30, or off") from None
    return start, end
