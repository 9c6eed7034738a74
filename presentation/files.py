"""The one file-name rule of everything a user downloads: tables (CSV, Excel, Parquet) and chart images.

'r57-phuong-xa-2026-11-20261122-1430.csv': 'r57', what it is, its filters, and when it was made in Hanoi
time (config.TZ), whatever the server's or the browser's clock zone.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import clock
import config


def slug(text: str) -> str:
    """ASCII, lower case, hyphens: 'Phường Cửa Nam' -> 'phuong-cua-nam'."""
    plain = unicodedata.normalize("NFKD", str(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()


def hanoi(now: datetime | None = None) -> datetime:
    """`now` (aware: converted; naive: taken as Hanoi wall-clock time, as the warehouse keeps it) or the
    current time, in Hanoi time, naive."""
    if now is None:
        return clock.stamp()
    return now.astimezone(config.TZ).replace(tzinfo=None) if now.tzinfo is not None else now


def file_name(key: str, ext: str, now: datetime | None = None, stem: str = "") -> str:
    """'r57-<key>-<stem>-<yyyymmdd-hhmm, Hanoi time>.<ext>'."""
    parts = ["r57", slug(key), slug(stem) if stem else "", f"{hanoi(now):%Y%m%d-%H%M}"]
    return "-".join(p for p in parts if p) + f".{ext}"
