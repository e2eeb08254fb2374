"""Tasks whose whole plan is fixed at creation; their state is computed from the clock.

A poll is a lookup plus a comparison: `Task.step_at(now)`. The side effects of each step
(settling credits, refunds, webhooks) run exactly once, in order, either when the
scheduler reaches the step's time or when a read finds the step already due, whichever
comes first, so a client never sees a terminal state whose bill has not been settled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .clock import Clock
from .scheduler import Scheduler

log = logging.getLogger("seedance_emulator.lifecycle")


class Phase(StrEnum):
    """Neutral states; each vendor renders them with its own names (PENDING, queued, …)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED}


@dataclass(slots=True, frozen=True)
class Step:
    phase: Phase
    at: float


@dataclass(slots=True)
class Outcome:
    """What the terminal step carries: an error, or facts of the output."""

    error_code: str | None = None
    error_message: str | None = None
    output: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Task:
    id: str
    vendor: str
    kind: str
    account_id: str
    key_id: str | None
    created_at: float
    steps: list[Step]
    outcome: Outcome
    params: dict[str, Any]
    scenario: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    applied: int = 0  # how many steps have had their side effects run

    def step_at(self, now: float) -> Step:
        steps = self.steps
        for i in range(len(steps) - 1, 0, -1):
            if steps[i].at <= now:
                return steps[i]
        return steps[0]

    def phase_at(self, now: float) -> Phase:
        return self.step_at(now).phase

    def time_of(self, phase: Phase) -> float | None:
        for step in self.steps:
            if step.phase is phase:
                return step.at
        return None

    @property
    def final(self) -> Step:
        return self.steps[-1]

    def progress_at(self, now: float) -> int:
        """0–100: 0 while queued, linear while running, 100 once terminal."""
        step = self.step_at(now)
        if step.phase.terminal:
            return 100
        if step.phase is not Phase.RUNNING:
            return 0
        end = self.final.at
        if end <= step.at:
            return 99
        return max(0, min(99, int(100 * (now - step.at) / (end - step.at))))


def plan_steps(created_at: float, *, queued_for: float, running_for: float, terminal: Phase) -> list[Step]:
    """queued → running → terminal; a zero running time skips straight to the terminal step."""
    steps = [Step(Phase.QUEUED, created_at)]
    start = created_at + max(0.0, queued_for)
    if running_for > 0:
        steps.append(Step(Phase.RUNNING, start))
    steps.append(Step(terminal, start + max(0.0, running_for)))
    return steps


StepHook = Callable[[Task, Step], None]


class Lifecycle:
    def __init__(self, clock: Clock, scheduler: Scheduler):
        self.clock = clock
        self.scheduler = scheduler
        self.tasks: dict[str, Task] = {}
        self._hooks: dict[str, StepHook] = {}
        self._lock = threading.RLock()
        self.version = 0  # bumped by every change, so durable state knows when to write
        self.time_scale: dict[str, float] = {}  # vendor → factor on every planned duration

    def on_step(self, vendor: str, hook: StepHook) -> None:
        """Register the vendor's side effects for a step (billing, webhooks)."""
        self._hooks[vendor] = hook

    def start(self, task: Task) -> Task:
        scale = self.time_scale.get(task.vendor, 1.0)
        if scale != 1.0:  # a timing profile from the settings: every phase of this vendor's tasks
            task.steps = [Step(s.phase, task.created_at + (s.at - task.created_at) * scale) for s in task.steps]
        with self._lock:
            self.tasks[task.id] = task
            self.version += 1
        self._schedule(task)
        self.catch_up(task)
        return task

    def _schedule(self, task: Task) -> None:
        for step in task.steps[task.applied:]:
            self.scheduler.at(step.at, lambda t=task: self.catch_up(t), label=f"{task.id}:{step.phase}")

    def catch_up(self, task: Task, now: float | None = None) -> None:
        """Run the side effects of every step due by `now` that has not run yet, once each."""
        now = self.clock.now() if now is None else now
        steps = task.steps
        if task.applied >= len(steps) or steps[task.applied].at > now:
            return  # the hot path of a poll: nothing due
        with self._lock:
            while task.applied < len(task.steps) and task.steps[task.applied].at <= now:
                step = task.steps[task.applied]
                task.applied += 1
                self.version += 1
                hook = self._hooks.get(task.vendor)
                if hook is None:
                    continue
                try:
                    hook(task, step)
                except Exception:
                    log.exception("side effect of %s %s failed", task.id, step.phase)

    def get(self, task_id: str, account_id: str | None = None) -> Task | None:
        """The task as of now, or None if unknown or (when `account_id` is given) not the caller's."""
        task = self.tasks.get(task_id)
        if task is None or (account_id is not None and task.account_id != account_id):
            return None
        self.catch_up(task)
        return task

    def interrupt(self, task: Task, phase: Phase) -> Step:
        """End a task now (cancel, expire): future steps are replaced by `phase` at now."""
        now = self.clock.now()
        with self._lock:
            self.catch_up(task, now)
            kept = task.steps[: task.applied]
            if kept and kept[-1].phase.terminal:
                return kept[-1]
            step = Step(phase, now)
            task.steps = [*kept, step]
            self.version += 1
            self.catch_up(task, now)
            return step

    def remove(self, task_id: str) -> None:
        with self._lock:
            self.tasks.pop(task_id, None)
            self.version += 1

    def of_account(self, account_id: str) -> Iterator[Task]:
        return (t for t in list(self.tasks.values()) if t.account_id == account_id)

    def active_count(self, account_id: str, now: float | None = None) -> int:
        now = self.clock.now() if now is None else now
        return sum(1 for t in self.of_account(account_id) if not t.phase_at(now).terminal)

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()
            self.version += 1

    def reschedule(self) -> None:
        """Plan the remaining steps of every task again (after state was loaded from disk)."""
        for task in list(self.tasks.values()):
            self._schedule(task)
