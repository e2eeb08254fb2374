"""What a stored task keeps is compact (issue 8, memory per task), and reads back exactly as before:
ledger amounts, a task's steps, shared outcomes, media registrations, PowerTokens' video facts, and
`--state` files written in the older layouts."""

from __future__ import annotations

import base64
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from emulator.core.clock import Clock
from emulator.core.ids import IdFactory
from emulator.core.ledger import Balance, EntryKind, Ledger
from emulator.core.lifecycle import Lifecycle, Outcome, Phase, Plan, Step, Task, plan_steps
from emulator.core.media import MediaSpec, MediaStore
from emulator.core.runtime import Settings
from emulator.core.scheduler import Scheduler
from emulator.testing import serve_in_thread
from emulator.vendors.powertokens import rules as pt_rules


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


# -- ledger amounts as integers of a per-entry unit ----------------------------------------------


def test_fractional_amounts_are_stored_as_integers_and_read_back_exact() -> None:
    ledger = Ledger()
    ledger.top_up("a", Decimal("1000.5"), 0)
    ledger.hold("a", "t1", Decimal("76.2300"), 1)  # an exact token price, as PowerTokens holds
    ledger.settle("a", "t1", Decimal("38.115"), 2)
    tiny = Decimal("1E-30")  # written in scientific notation; more places than a context's precision
    huge = Decimal("123456789012345678901234567890123.000000001")  # more digits than a context keeps
    ledger.top_up("a", huge, 3)
    ledger.charge("a", "x", tiny, 4)
    entries = ledger.entries("a")
    for entry in entries:
        assert {type(entry.amount_units), type(entry.credits_units), type(entry.held_units)} == {int}
    assert [e.amount for e in entries] == [Decimal("1000.5"), Decimal("76.23"), Decimal("38.115"),
                                           Decimal("38.115"), huge, tiny]
    hold, settle = entries[1], entries[2]
    assert (hold.credits_after, hold.held_after) == (Decimal("1000.5"), Decimal("76.23"))
    assert (settle.credits_after, settle.held_after) == (Decimal("962.385"), 0)
    assert type(settle.held_after) is int and type(entries[-1].amount) is Decimal
    assert entries[-1].credits_after == Decimal("1000.5") - Decimal("38.115") + huge - tiny
    assert entries[-1].credits_after == ledger.balance("a").credits  # not a digit lost
    assert settle.describe()["credits_after"] == 962.385
    assert pickle.loads(pickle.dumps(entries)) == entries


# Two ledger entries as an older emulator pickled them into its `--state` file (protocol 5), when
# `Entry` was a frozen dataclass holding its amounts as `int` / `Decimal`: a hold of 0.0105 credits
# (credits 100, held 0.0105 after it), then its settlement for 0.01 (99.99 and 0 after it).
OLDER_ENTRIES = base64.b64decode(
    "gAWV2AAAAAAAAABdlCiMFGVtdWxhdG9yLmNvcmUubGVkZ2VylIwFRW50cnmUk5QpgZRdlChLAkc/8AAAAAAAAIwBYZRoAYwJRW50cnlL"
    "aW5klJOUjARob2xklIWUUpSMB2RlY2ltYWyUjAdEZWNpbWFslJOUjAYwLjAxMDWUhZRSlIwCdDGUTktkaA6MBjAuMDEwNZSFlFKUZWJo"
    "AymBlF2UKEsDR0AAAAAAAAAAaAZoCIwGc2V0dGxllIWUUpRoDowEMC4wMZSFlFKUaBJOaA6MBTk5Ljk5lIWUUpRLAGViZS4=")


def test_a_ledger_from_an_older_state_file_still_loads() -> None:
    ledger = Ledger()
    ledger.restore(({"a": Balance(Decimal("99.99"), Decimal(0))}, {}, {"a": pickle.loads(OLDER_ENTRIES)}, 3))
    assert [e.describe() for e in ledger.entries("a")] == [
        {"seq": 2, "at": 1.0, "kind": "hold", "amount": 0.0105, "ref": "t1", "note": None, "credits_after": 100,
         "held_after": 0.0105},
        {"seq": 3, "at": 2.0, "kind": "settle", "amount": 0.01, "ref": "t1", "note": None, "credits_after": 99.99,
         "held_after": 0}]
    hold = ledger.entries("a")[0]
    assert (hold.amount, type(hold.credits_after)) == (Decimal("0.0105"), int)
    ledger.top_up("a", 1, 3.0)  # and it goes on from there
    assert ledger.entries("a")[-1].credits_after == Decimal("100.99")


# -- PowerTokens: a video task's facts shared, its own values kept ---------------------------------

START = 1_777_593_600.0
PT_BODY = {"model": "dreamina-seedance-2-0-260128", "content": [{"type": "text", "text": "a heron in the rain"}],
           "duration": 5, "resolution": "720p", "ratio": "16:9"}


def _older_layout(data: dict[str, Any]) -> dict[str, Any]:
    """A video task's `data` as PowerTokens stored it before `VideoFacts`: every fact its own key."""
    facts = data["facts"]
    older = {name: getattr(facts, name) for name in pt_rules.VideoFacts._fields}
    older.update(seed=data["seed"], safety_identifier=data.get("safety_identifier"),
                 callback_url=data.get("callback_url"))
    older.update({key: data[key] for key in ("video", "last_frame") if key in data})
    return older


def test_powertokens_tasks_share_their_facts_and_an_older_state_file_renders_the_same(tmp_path: Path) -> None:
    path = tmp_path / "emulator.db"
    settings = Settings(vendors=("powertokens",), clock="manual", seed=5, start_time=START, state=path,
                        allow_http_callbacks=True)
    with serve_in_thread(settings) as first:
        key = first.create_account("powertokens", credits=10_000)["api_key"]
        tasks_url = first.vendor_url("powertokens") + "/byteplus/api/v3/contents/generations/tasks"
        with httpx.Client(headers={"Authorization": key}) as api:
            alike = [api.post(tasks_url, json=PT_BODY).json()["id"] for _ in range(2)]
            own = api.post(tasks_url, json={**PT_BODY, "return_last_frame": True, "safety_identifier": "u-1",
                                            "callback_url": "http://127.0.0.1:9/hook"}).json()["id"]
            first.advance(600)
            bodies = {task_id: api.get(f"{tasks_url}/{task_id}").json() for task_id in [*alike, own]}
        tasks = first.emulator.lifecycle.tasks
        assert tasks[alike[0]].data["facts"] is tasks[alike[1]].data["facts"]
        assert set(tasks[alike[0]].data) == {"facts", "seed", "video"}  # a small dict: ≤ 5 keys
        assert set(tasks[own].data) == {"facts", "seed", "video", "last_frame", "safety_identifier", "callback_url"}
        for task_id in bodies:  # as an older emulator would have written them
            tasks[task_id].data = _older_layout(tasks[task_id].data)
        assert first.emulator.state is not None
        first.emulator.state.checkpoint(first.emulator, force=True)
    with serve_in_thread(settings) as again, httpx.Client(headers={"Authorization": key}) as api:
        tasks_url = again.vendor_url("powertokens") + "/byteplus/api/v3/contents/generations/tasks"
        for task_id, body in bodies.items():
            assert api.get(f"{tasks_url}/{task_id}").json() == body
        tasks = again.emulator.lifecycle.tasks
        assert tasks[alike[0]].data["facts"] is tasks[alike[1]].data["facts"]
        assert tasks[own].data["callback_url"] == "http://127.0.0.1:9/hook"
