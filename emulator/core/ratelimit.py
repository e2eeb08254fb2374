"""Per-key requests-per-minute over a sliding window of emulated time."""

from __future__ import annotations

import threading
from collections import deque

WINDOW = 60.0


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key_id: str, rpm: int, now: float) -> float | None:
        """Count one request; return None if allowed, else seconds until one would be."""
        if rpm <= 0:
            return None
        with self._lock:
            hits = self._hits.get(key_id)
            if hits is None:
                hits = self._hits[key_id] = deque()
            horizon = now - WINDOW
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= rpm:
                return max(0.001, hits[0] + WINDOW - now)
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
