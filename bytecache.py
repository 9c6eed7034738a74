"""A byte-bounded, thread-safe LRU of finished answers: one process's memory of bytes it already sent.

Shared by the API's kept answers (api/answers.py) and the dashboard's kept page parts (dashboard/kept.py).
Each entry has a `body` (bytes); the bound is the sum of the bodies, least recently used out first, and
one body larger than an eighth of the bound is never kept (it would push out everything else). A bound of
0 keeps nothing. The subclasses decide keys, what is kept beside the body, and when.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache

LARGEST_SHARE = 8  # a body over max_bytes // LARGEST_SHARE is not kept


class ByteLRU:
    """Entries with a `body` by key, bounded by the bodies' bytes. Subclasses take `_lock` around `_lru`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._lru: LRUCache = LRUCache(maxsize=max(1, self.max_bytes), getsizeof=lambda e: len(e.body))
        self._lock = threading.Lock()

    def fits(self, body: bytes) -> bool:
        """Whether a body may be kept: the store is on and the body is at most an eighth of it."""
        return bool(self.max_bytes) and len(body) <= self.max_bytes // LARGEST_SHARE

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    @property
    def size(self) -> int:
        """Bytes held (the bodies)."""
        with self._lock:
            return int(self._lru.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._lru)
