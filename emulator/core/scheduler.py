"""Runs actions when emulated time reaches them: lifecycle steps, webhook attempts.

One heap, one background runner. With the real clock the runner sleeps until the next
action is due; with the manual clock it only wakes when something is scheduled or the
clock is advanced. `run_due` is what `/_emulator/clock/advance` awaits, so that it returns
after every action due by the new time has run (retries the run schedules included).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .clock import Clock

log = logging.getLogger("seedance_emulator.scheduler")

Action = Callable[[], Awaitable[None] | None]


@dataclass(order=True, slots=True)
class _Due:
    at: float
    seq: int
    action: Action = field(compare=False)
    label: str = field(compare=False, default="")


class Scheduler:
    def __init__(self, clock: Clock):
        self.clock = clock
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._run_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        # Called after a run that did something (durable state writes a checkpoint there).
        self.after_run: Callable[[], None] | None = None

    def at(self, when: float, action: Action, label: str = "") -> None:
        with self._lock:
            heapq.heappush(self._heap, _Due(when, next(self._seq), action, label))
            first = self._heap[0].at == when
        if first:
            self._poke()

    def pending(self) -> int:
        return len(self._heap)

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    def _pop_due(self, now: float) -> list[_Due]:
        out: list[_Due] = []
        with self._lock:
            while self._heap and self._heap[0].at <= now:
                out.append(heapq.heappop(self._heap))
        return out

    async def run_due(self) -> int:
        """Run everything due by now, including what those actions schedule for no later than now."""
        if self._run_lock is None:
            self._run_lock = asyncio.Lock()
        ran = 0
        async with self._run_lock:
            while True:
                batch = self._pop_due(self.clock.now())
                if not batch:
                    if ran and self.after_run is not None:
                        self.after_run()
                    return ran
                waiting: list[Awaitable[None]] = []
                for due in batch:
                    ran += 1
                    try:
                        result = due.action()
                    except Exception:  # one broken action must not stop the others
                        log.exception("scheduled action %s failed", due.label)
                        continue
                    if inspect.isawaitable(result):
                        waiting.append(result)
                if waiting:
                    for outcome in await asyncio.gather(*waiting, return_exceptions=True):
                        if isinstance(outcome, BaseException):
                            log.error("scheduled action failed: %r", outcome)

    async def _run_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self.run_due()
            with self._lock:
                next_at = self._heap[0].at if self._heap else None
            timeout = None if next_at is None else self.clock.wall_delay(next_at - self.clock.now())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    def start(self) -> None:
        """Start the background runner on the current event loop (the server's)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._run_lock = asyncio.Lock()
        self._runner = self._loop.create_task(self._run_forever(), name="emulator-scheduler")

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._runner = None
        self._loop = None
        self._wake = None

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()
