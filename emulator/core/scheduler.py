"""Runs actions when emulated time reaches them: lifecycle steps, webhook attempts.

One heap, one background runner. With the real clock the runner sleeps until the next
action is due; with the manual clock it only wakes when something is scheduled or the
clock is advanced. `run_due` is what `/_emulator/clock/advance` awaits, so that it returns
after every action due by the new time has run (retries the run schedules included).

An action that returns an awaitable (a webhook attempt) runs as a task of its own: a receiver
that hangs until its timeout holds up neither the runner nor any other due action, nor a
clock advance's other work; `run_due` still waits for every such task before it returns.
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

from .clock import Clock

log = logging.getLogger("seedance_emulator.scheduler")

Action = Callable[[], Awaitable[None] | None]


# A plain tuple (at, seq, action, label): the heap compares tuples in C, where a dataclass's
# generated `__lt__` (Python, building two tuples a comparison) cost ~30 calls per submit.
# `seq` is unique, so a comparison never reaches the action.
_Due = tuple[float, int, Action, str]


class Scheduler:
    def __init__(self, clock: Clock):
        self.clock = clock
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._in_flight: set[asyncio.Future[None]] = set()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        # Called after a run that did something (durable state writes a checkpoint there).
        self.after_run: Callable[[], None] | None = None

    def at(self, when: float, action: Action, label: str = "") -> None:
        with self._lock:
            heapq.heappush(self._heap, (when, next(self._seq), action, label))
            first = self._heap[0][0] == when
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
            while self._heap and self._heap[0][0] <= now:
                out.append(heapq.heappop(self._heap))
        return out

    def _dispatch(self, batch: list[_Due]) -> None:
        """Run each action; an awaitable it returns goes on as a task, watched by `_in_flight`."""
        for _, _, action, label in batch:
            try:
                result = action()
            except Exception:  # one broken action must not stop the others
                log.exception("scheduled action %s failed", label)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._in_flight.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduled action failed: %r", task.exception())
        if not self._in_flight and self.after_run is not None:
            self.after_run()  # what the actions recorded (attempts' answers) is state too; once per wave

    async def run_due(self) -> int:
        """Run everything due by now, including what those actions schedule for no later than now,
        and wait until no action is in flight (those the background runner started included)."""
        ran = 0
        while True:
            batch = self._pop_due(self.clock.now())
            if batch:
                ran += len(batch)
                self._dispatch(batch)
                continue
            if not self._in_flight:
                break
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        if ran and self.after_run is not None:
            self.after_run()
        return ran

    async def _run_forever(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()  # before looking: a poke from now on wakes the wait below
            batch = self._pop_due(self.clock.now())
            if batch:
                self._dispatch(batch)
                if self.after_run is not None:
                    self.after_run()
                continue
            with self._lock:
                next_at = self._heap[0][0] if self._heap else None
            delay = None if next_at is None else self.clock.wall_delay(next_at - self.clock.now())
            if delay is None:
                await self._wake.wait()
                continue
            # A timer that sets the event, not `asyncio.wait_for` (a task of its own per wait: the
            # runner waits once per due step under load).
            timer = asyncio.get_running_loop().call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()

    def start(self) -> None:
        """Start the background runner on the current event loop (the server's)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._runner = self._loop.create_task(self._run_forever(), name="emulator-scheduler")

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._runner = None
        # Attempts cut short here are recorded unfinished; a restored outbox runs them again.
        in_flight = list(self._in_flight)
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        self._loop = None
        self._wake = None

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()
