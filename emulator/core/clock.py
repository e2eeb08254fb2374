"""The one clock every timestamp, lifecycle and rate window reads.

`real` runs emulated time at `speed` times wall time (so a vendor's two-minute render can
pass in a second of CI); `manual` moves only when told, which makes lifecycles and retry
schedules exact in tests. Both accept `advance`, so tests can jump a real clock too.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

ClockMode = Literal["real", "manual"]


class Clock:
    def __init__(self, mode: ClockMode = "real", *, speed: float = 1.0, start: float | None = None):
        if mode not in ("real", "manual"):
            raise ValueError(f"clock mode must be 'real' or 'manual', not {mode!r}")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.mode: ClockMode = mode
        self.speed = speed
        self._start = float(start) if start is not None else float(int(time.time()))
        self._wall0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Emulated time, in seconds since the Unix epoch."""
        if self.mode == "manual":
            return self._start + self._offset
        return self._start + (time.monotonic() - self._wall0) * self.speed + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock never goes backwards")
        with self._lock:
            self._offset += seconds
        return self.now()

    def wall_delay(self, emulated_seconds: float) -> float | None:
        """Wall seconds until `emulated_seconds` from now pass; None when only `advance` moves time."""
        if self.mode == "manual":
            return None
        return max(0.0, emulated_seconds) / self.speed

    def reset(self, start: float | None = None) -> None:
        with self._lock:
            self._start = float(start) if start is not None else float(int(time.time()))
            self._wall0 = time.monotonic()
            self._offset = 0.0

    def describe(self) -> dict[str, object]:
        return {"mode": self.mode, "speed": self.speed, "now": self.now()}
