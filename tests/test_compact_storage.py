"""What a stored task keeps is compact (issue 8, memory per task), and reads back exactly as before:
ledger amounts, a task's steps, shared outcomes, media registrations, and `--state` files written
in the older layouts."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path

from emulator.core.clock import Clock
from emulator.core.ids import IdFactory
from emulator.core.ledger import EntryKind, Ledger
from emulator.core.lifecycle import Lifecycle, Outcome, Phase, Plan, Step, Task, plan_steps
from emulator.core.media import MediaSpec, MediaStore
from emulator.core.scheduler import Scheduler


def _lifecycle() -> Lifecycle:
    clock = Clock("manual", start=1_000)
    return Lifecycle(clock, Scheduler(clock))


def _task(task_id: str, output: dict[str, object]) -> Task:
    return Task(id=task_id, vendor="v", kind="video", account_id="a", key_id=None, created_at=1_000.0,
                steps=plan_steps(1_000.0, queued_for=5, running_for=10, terminal=Phase.SUCCEEDED),
                outcome=Outcome(output=output), params={})


def test_whole_amounts_are_stored_as_ints_and_fractions_stay_exact_decimals() -> None:
    ledger = Ledger()
    ledger.top_up("a", 100, 0)
    ledger.hold("a", "t1", Decimal("75"), 1, note="seedance-2.0 720p 5s")
    ledger.settle("a", "t1", Decimal("45"), 2)
    ledger.charge("a", "chat", Decimal("0.000123"), 3)
    entries = ledger.entries("a")
    assert [(e.kind, e.amount, type(e.amount)) for e in entries] == [
        (EntryKind.TOPUP, 100, int), (EntryKind.HOLD, 75, int), (EntryKind.SETTLE, 45, int),
        (EntryKind.REFUND, 30, int), (EntryKind.CHARGE, Decimal("0.000123"), Decimal)]
    assert entries[-1].credits_after == Decimal("54.999877")
    assert entries[-1].describe()["credits_after"] == 54.999877
    assert entries[1].describe() == {"seq": 2, "at": 1, "kind": "hold", "amount": 75, "ref": "t1",
                                     "note": "seedance-2.0 720p 5s", "credits_after": 100, "held_after": 75}


def test_a_plan_reads_as_the_steps_it_was_given_and_survives_pickling() -> None:
    steps = [Step(Phase.QUEUED, 1.0), Step(Phase.RUNNING, 2.0), Step(Phase.SUCCEEDED, 3.5)]
    plan = Plan(steps)
    assert list(plan) == steps and len(plan) == 3
    assert plan[0] == steps[0] and plan[-1] == steps[-1] and plan[1:] == steps[1:]
    assert plan.at(2) == 3.5 and plan.phase(1) is Phase.RUNNING
    assert list(pickle.loads(pickle.dumps(plan))) == steps
    task = _task("t1", {})
    assert task.step_at(1_007) == Step(Phase.RUNNING, 1_005.0) and task.final == Step(Phase.SUCCEEDED, 1_015.0)


def test_a_state_file_with_steps_as_a_list_still_loads() -> None:
    task = _task("t1", {})
    task.steps = list(task.steps)  # type: ignore[assignment]  # as a task unpickled from an older file
    lifecycle = _lifecycle()
    lifecycle.tasks = {"t1": task}
    assert type(task.steps) is Plan and task.phase_at(1_010) is Phase.RUNNING


def test_equal_outcomes_are_shared_and_unequal_types_are_not() -> None:
    lifecycle = _lifecycle()
    first, second = lifecycle.start(_task("t1", {"seconds": 5})), lifecycle.start(_task("t2", {"seconds": 5}))
    flag = lifecycle.start(_task("t3", {"seconds": True}))
    assert first.outcome is second.outcome
    assert flag.outcome is not first.outcome and flag.outcome.output == {"seconds": True}
    assert type(flag.outcome.output["seconds"]) is bool


def test_media_registrations_read_back_whole_and_older_state_still_serves(tmp_path: Path) -> None:
    store = MediaStore(IdFactory(seed=1), tmp_path)
    spec = MediaSpec("video", "mp4", 1280, 720, 5.04, seed=1234, audio=True)
    name = store.register(spec)
    other = store.register(MediaSpec("video", "mp4", 1280, 720, 5.04, seed=99, audio=True))
    assert store.spec(name) == spec and store.spec(other).seed == 99  # type: ignore[union-attr]
    assert store.items[name][0] is store.items[other][0]  # type: ignore[index]
    store.items["old.png"] = MediaSpec("image", "png", 64, 64, seed=7)  # a value from an older `--state` file
    assert store.info("old.png") is not None and store.spec("old.png").seed == 7  # type: ignore[union-attr]
    assert store.spec("missing.mp4") is None
