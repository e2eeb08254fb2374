"""Tasks whose whole plan is fixed at creation; their state is computed from the clock.

A poll is a lookup plus a comparison: `Task.step_at(now)`. The side effects of each step
(settling credits, refunds, webhooks) run exactly once, in order, either when the
scheduler reaches the step's time or when a read finds the step already due, whichever
comes first, so a client never sees a terminal state whose bill has not been settled.
"""

from __future__ import annotations

import bisect
import gc
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
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


_PHASE_SEQUENCES: dict[tuple[Phase, ...], tuple[Phase, ...]] = {}


# A Plan's own tuple, read without its Python-level sequence methods (C calls on the hot paths:
# a submit and a poll read a plan dozens of times). Raw index 0 holds the phases, i + 1 step i's time.
_raw_len = tuple.__len__
_raw_get = tuple.__getitem__


class Plan(tuple):  # type: ignore[type-arg]
    """A task's steps, compactly: `(phases, at, at, …)`, with `phases` one tuple shared by every plan
    of that sequence of phases. It reads as a sequence of `Step`s, built when asked.

    A list of `Step` objects and their times costs about 280 bytes a task; this, about 120 (tasks are
    kept until a reset, and memory per task is an issue-8 target)."""

    __slots__ = ()

    def __new__(cls, steps: Iterable[Step]) -> Plan:
        steps = list(steps)
        phases = tuple(step.phase for step in steps)
        return tuple.__new__(cls, (_PHASE_SEQUENCES.setdefault(phases, phases), *(step.at for step in steps)))

    def __reduce__(self) -> tuple[Any, ...]:
        return Plan, (list(self),)

    def __len__(self) -> int:
        return tuple.__len__(self) - 1

    def at(self, index: int) -> float:
        """The time of step `index` (no `Step` built: the hot path of a poll)."""
        return tuple.__getitem__(self, index + 1 if index >= 0 else index)

    def phase(self, index: int) -> Phase:
        phases: tuple[Phase, ...] = tuple.__getitem__(self, 0)
        return phases[index]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError("plan index out of range")
        return Step(self.phase(index), self.at(index))

    def __contains__(self, step: object) -> bool:
        return any(own == step for own in self)

    def __iter__(self) -> Iterator[Step]:
        phases: tuple[Phase, ...] = tuple.__getitem__(self, 0)
        for i, phase in enumerate(phases):
            yield Step(phase, tuple.__getitem__(self, i + 1))

    def __repr__(self) -> str:
        return repr(list(self))


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
    steps: Plan  # a list of `Step`s may be given: it is made a `Plan`
    outcome: Outcome
    params: dict[str, Any]
    scenario: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    applied: int = 0  # how many steps have had their side effects run

    def __post_init__(self) -> None:
        if type(self.steps) is not Plan:
            self.steps = Plan(self.steps)

    def _index_at(self, now: float) -> int:
        steps = self.steps
        for raw in range(_raw_len(steps) - 1, 1, -1):
            if _raw_get(steps, raw) <= now:
                return raw - 1
        return 0

    def step_at(self, now: float) -> Step:
        return self.steps[self._index_at(now)]

    def phase_at(self, now: float) -> Phase:
        return self.steps.phase(self._index_at(now))

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


def only_terminal(task: Task, phase: Phase) -> bool:
    """A `timely` for vendors whose side effects (billing, webhooks) all come with the last step."""
    return False


def _created_at(task: Task) -> float:
    return task.created_at


SHARED_STRING_MAX = 64
SHARED_OUTCOMES_MAX = 4096  # distinct outcomes kept for sharing (a bound, should outputs ever vary per task)
FREEZE_EVERY = 4096  # tasks started between two `gc.freeze()`s


def _share_strings(node: Any, depth: int = 0) -> None:
    """Replace short strings in a task's request body and facts by one shared copy each (`sys.intern`).
    Models, resolutions, ratios, origins and callback URLs repeat across tasks; parsed from each
    request they would otherwise be stored once per task (memory per task is an issue-8 target)."""
    if depth > 3:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if type(value) is str:
                if len(value) <= SHARED_STRING_MAX:
                    node[key] = sys.intern(value)
            elif isinstance(value, dict | list):
                _share_strings(value, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if type(value) is str:
                if len(value) <= SHARED_STRING_MAX:
                    node[i] = sys.intern(value)
            elif isinstance(value, dict | list):
                _share_strings(value, depth + 1)


def _outcome_key(outcome: Outcome) -> tuple[Any, ...] | None:
    """What makes two outcomes interchangeable, or None when the output holds anything unhashable."""
    output = outcome.output
    for value in output.values():
        if not isinstance(value, str | int | float | bool | None):
            return None
    # The type is part of the key: True == 1 == 1.0, yet each renders differently.
    return outcome.error_code, outcome.error_message, tuple((k, type(v), v) for k, v in output.items())


class Lifecycle:
    def __init__(self, clock: Clock, scheduler: Scheduler):
        self.clock = clock
        self.scheduler = scheduler
        self._tasks: dict[str, Task] = {}
        # Indexes, so that no request costs in proportion to every task held: an account's tasks
        # by kind in creation order, the tasks whose side effects have not all run (a superset of
        # those still active), and the tasks cut short by `interrupt`.
        self._by_kind: dict[tuple[str, str], list[Task]] = {}
        self._unfinished: dict[str, dict[str, Task]] = {}
        self._interrupted: dict[str, dict[str, Task]] = {}
        self._counts: Counter[tuple[str, str]] = Counter()  # (vendor, kind) → tasks held
        self._started_since_freeze = 0
        # Outcomes are never changed once planned, and most tasks end alike ({"seconds": 5}, the same
        # error): one shared Outcome each instead of an object and a dict per task (issue 8).
        self._shared_outcomes: dict[tuple[Any, ...], Outcome] = {}
        self._hooks: dict[str, StepHook] = {}
        self._timely: dict[str, Callable[[Task, Phase], bool]] = {}
        self._lock = threading.RLock()
        self.version = 0  # bumped by every change, so durable state knows when to write
        self.time_scale: dict[str, float] = {}  # vendor → factor on every planned duration

    @property
    def tasks(self) -> dict[str, Task]:
        """Every task by id. Read it freely; change it only through this class (or by assigning
        a whole new dict, as loading `--state` does), which keeps the indexes."""
        return self._tasks

    @tasks.setter
    def tasks(self, tasks: dict[str, Task]) -> None:
        with self._lock:
            self._tasks = tasks
            self._by_kind, self._unfinished, self._interrupted = {}, {}, {}
            self._counts = Counter()
            for task in tasks.values():
                if type(task.steps) is not Plan:  # a `--state` file written when steps were a list
                    task.steps = Plan(task.steps)
                self._index(task)
            self.version += 1

    def _index(self, task: Task) -> None:
        tasks = self._by_kind.setdefault((task.account_id, task.kind), [])
        if tasks and tasks[-1].created_at > task.created_at:  # only if the clock went back
            bisect.insort_right(tasks, task, key=_created_at)
        else:
            tasks.append(task)
        self._counts[task.vendor, task.kind] += 1
        if task.applied < len(task.steps):
            self._unfinished.setdefault(task.account_id, {})[task.id] = task

    def on_step(self, vendor: str, hook: StepHook, timely: Callable[[Task, Phase], bool] | None = None) -> None:
        """Register the vendor's side effects for a step (billing, webhooks). `timely(task, phase)`
        says whether a step before the last has side effects that must run at its own time (a
        webhook); the others run with the next step that does, or when a read finds them due, which
        no client can tell apart. Without it every step is run at its time."""
        self._hooks[vendor] = hook
        if timely is None:
            self._timely.pop(vendor, None)
        else:
            self._timely[vendor] = timely

    def start(self, task: Task) -> Task:
        scale = self.time_scale.get(task.vendor, 1.0)
        if scale != 1.0:  # a timing profile from the settings: every phase of this vendor's tasks
            created, raw = task.created_at, task.steps
            task.steps = tuple.__new__(Plan, (_raw_get(raw, 0), *(
                at if at == created else created + (at - created) * scale for at in _raw_get(raw, slice(1, None)))))
        _share_strings(task.params)
        _share_strings(task.data)
        key = _outcome_key(task.outcome)
        if key is not None:
            shared = self._shared_outcomes.get(key)
            if shared is not None:
                task.outcome = shared
            elif len(self._shared_outcomes) < SHARED_OUTCOMES_MAX:
                self._shared_outcomes[key] = task.outcome
        with self._lock:
            self._tasks[task.id] = task
            self._index(task)
            self.version += 1
            self._started_since_freeze += 1
            if self._started_since_freeze >= FREEZE_EVERY:
                self._started_since_freeze = 0
                # Tasks live until a reset, and each is a dozen objects the cyclic GC tracks: left in
                # its oldest generation, every full collection walks them all (pauses of 100s of ms
                # at 100k tasks, which is what a submit's p99 then measures). Frozen, they are skipped;
                # they are still freed by reference counting, and `reset` thaws them.
                gc.freeze()
        # Steps already due (the first one always is) run now; only the rest need the scheduler, so a
        # submit does not wake the scheduler's runner for a step it has just applied.
        self.catch_up(task)
        self._schedule(task)
        return task

    def _schedule(self, task: Task) -> None:
        steps = task.steps
        phases = _raw_get(steps, 0)
        catch_up = partial(self.catch_up, task)
        timely = self._timely.get(task.vendor)
        last = len(phases) - 1
        for i in range(task.applied, len(phases)):
            if i == last or timely is None or timely(task, phases[i]):
                self.scheduler.at(_raw_get(steps, i + 1), catch_up, label=f"{task.id}:{phases[i].value}")

    def catch_up(self, task: Task, now: float | None = None) -> None:
        """Run the side effects of every step due by `now` that has not run yet, once each."""
        now = self.clock.now() if now is None else now
        steps = task.steps
        count = _raw_len(steps) - 1
        if task.applied >= count or _raw_get(steps, task.applied + 1) > now:
            return  # the hot path of a poll: nothing due
        with self._lock:
            while task.applied < _raw_len(task.steps) - 1 and _raw_get(task.steps, task.applied + 1) <= now:
                steps = task.steps
                step = Step(_raw_get(steps, 0)[task.applied], _raw_get(steps, task.applied + 1))
                task.applied += 1
                self.version += 1
                hook = self._hooks.get(task.vendor)
                if hook is None:
                    continue
                try:
                    hook(task, step)
                except Exception:
                    log.exception("side effect of %s %s failed", task.id, step.phase)
            if task.applied >= _raw_len(task.steps) - 1:
                unfinished = self._unfinished.get(task.account_id)
                if unfinished is not None:
                    unfinished.pop(task.id, None)

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
            task.steps = Plan([*kept, step])
            self._interrupted.setdefault(task.account_id, {})[task.id] = task
            self.version += 1
            self.catch_up(task, now)
            return step

    def remove(self, task_id: str) -> None:
        with self._lock:
            task = self._tasks.pop(task_id, None)
            if task is not None:
                # A list's removal is linear in the account's tasks of that kind; deletions are rare.
                self._by_kind[task.account_id, task.kind].remove(task)
                self._counts[task.vendor, task.kind] -= 1
                self._unfinished.get(task.account_id, {}).pop(task_id, None)
                self._interrupted.get(task.account_id, {}).pop(task_id, None)
            self.version += 1

    def of_account(self, account_id: str) -> Iterator[Task]:
        """The account's tasks, every kind (in creation order within a kind)."""
        kinds = [tasks for (owner, _), tasks in list(self._by_kind.items()) if owner == account_id]
        return (t for tasks in kinds for t in list(tasks))

    def of_kind(self, account_id: str, kind: str) -> list[Task]:
        """The account's tasks of one kind, oldest first (by `created_at`). The list itself, not
        a copy: read it (bisect it, walk it backwards), never change it."""
        return self._by_kind.get((account_id, kind), [])

    def count(self, vendor: str, kind: str) -> int:
        """How many tasks of that vendor and kind are held, every account's."""
        return self._counts[vendor, kind]

    def unfinished(self, account_id: str) -> list[Task]:
        """The account's tasks with side effects still to run: every task not terminal now is
        among them (a task can be terminal by the clock before its last step has been applied)."""
        return list(self._unfinished.get(account_id, {}).values())

    def interrupted(self, account_id: str) -> list[Task]:
        """The account's tasks that `interrupt` ended early (cancelled, expired)."""
        return list(self._interrupted.get(account_id, {}).values())

    def active_count(self, account_id: str, now: float | None = None) -> int:
        now = self.clock.now() if now is None else now
        return sum(1 for t in self.unfinished(account_id) if not t.phase_at(now).terminal)

    def reset(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._by_kind.clear()
            self._unfinished.clear()
            self._interrupted.clear()
            self._counts.clear()
            self.version += 1
        gc.unfreeze()  # what was frozen with the tasks goes back to the collector (cyclic garbage included)

    def reschedule(self) -> None:
        """Plan the remaining steps of every task again (after state was loaded from disk)."""
        for task in list(self._tasks.values()):
            self._schedule(task)
