"""Answers kept per process: the bytes of a finished /api/v1/values answer, to give the next asker at once.

The key is the answer's ETag (the snapshot it was read from, the full URL and the viewer's scope, exactly
what already decides a 304) and the business day: a snapshot is immutable, so the same request on the same
snapshot by someone with the same scope is the same answer, except that a new day can start a period. Only
answers whose periods are all complete are kept (a period still running carries an "as of" hour). Bounded
by bytes (R57_API_CACHE_MB per process, 0 = off), least recently used first out; one answer larger than an
eighth of the bound is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bytecache import ByteLRU

KEPT_HEADERS = ("Content-Type", "Content-Disposition")


@dataclass(frozen=True)
class Kept:
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]


class Answers(ByteLRU):
    """A byte-bounded LRU of answers (bytecache.ByteLRU); thread-safe (gunicorn threads share one)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.hits = self.misses = 0

    def get(self, etag: str, day: date) -> Kept | None:
        if not self.max_bytes:
            return None
        with self._lock:
            kept = self._lru.get((etag, day))
            if kept is None:
                self.misses += 1
            else:
                self.hits += 1
            return kept

    def put(self, etag: str, day: date, body: bytes, status: int, headers) -> bool:
        """Keep an answer; False when off or too large to keep."""
        if not self.fits(body):
            return False
        kept = Kept(body, status, tuple((h, headers[h]) for h in KEPT_HEADERS if h in headers))
        with self._lock:
            self._lru[(etag, day)] = kept
        return True
