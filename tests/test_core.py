"""The vendor-neutral core: clock, ledger, lifecycle, scheduler, rate limits, keys, ids, spec binding."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import pytest

from emulator.core.accounts import Accounts, KeyScopes, hash_key
from emulator.core.clock import Clock
from emulator.core.errors import StartupError
from emulator.core.ids import IdFactory
from emulator.core.ledger import EntryKind, InsufficientCredits, Ledger, LedgerError
from emulator.core.lifecycle import Lifecycle, Outcome, Phase, Task, only_terminal, plan_steps
from emulator.core.ratelimit import RateLimiter
from emulator.core.scenarios import find
from emulator.core.scheduler import Scheduler
from emulator.core.vendor import Handlers, Vendor

# -- clock ----------------------------------------------------------------------------------


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = Clock("manual", start=1_000)
    assert clock.now() == 1_000
    assert clock.advance(2.5) == 1_002.5
    assert clock.now() == 1_002.5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_real_clock_runs_at_speed() -> None:
    clock = Clock("real", speed=1000, start=0)
    first = clock.now()
    threading.Event().wait(0.02)
    assert clock.now() - first >= 10  # 20 ms of wall time is ≥ 10 emulated seconds at 1000×
    assert clock.wall_delay(100) == pytest.approx(0.1)
    assert Clock("manual").wall_delay(100) is None


# -- ids ------------------------------------------------------------------------------------


def test_seeded_ids_repeat_and_unseeded_do_not() -> None:
    assert IdFactory(5).token(12) == IdFactory(5).token(12)
    assert IdFactory(5).secret() == IdFactory(5).secret()
    assert IdFactory(None).secret() != IdFactory(None).secret()


# -- accounts and keys ------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_revocable() -> None:
    accounts = Accounts(IdFactory(1))
    account = accounts.create_account("perseworks", 0.0)
    key, plaintext = accounts.issue_key(account, 0.0, prefix="sk-")
    assert plaintext.startswith("sk-")
    assert key.key_hash == hash_key(plaintext)
    stored = repr(vars(accounts)) + repr(key)
    assert plaintext not in stored
    assert accounts.authenticate("perseworks", plaintext) is key
    assert accounts.authenticate("genray", plaintext) is None  # keys never cross vendors
    assert accounts.authenticate("perseworks", plaintext + "x") is None
    accounts.revoke(key.id, 1.0)
    assert accounts.authenticate("perseworks", plaintext) is None


def test_key_scopes() -> None:
    scopes = KeyScopes.parse(["seedance-2.0"], ["10.0.0.0/8", "127.0.0.1"])
    assert scopes.allows_model("seedance-2.0") and not scopes.allows_model("seed-2.1-pro")
    assert scopes.allows_ip("10.1.2.3") and scopes.allows_ip("127.0.0.1")
    assert not scopes.allows_ip("192.168.0.1") and not scopes.allows_ip(None)
    assert KeyScopes().allows_ip(None) and KeyScopes().allows_model("anything")


# -- ledger ---------------------------------------------------------------------------------


def test_ledger_hold_settle_refund() -> None:
    ledger = Ledger()
    ledger.top_up("a", 100, 0)
    ledger.hold("a", "t1", 60, 1)
    bal = ledger.balance("a")
    assert (bal.credits, bal.held, bal.available) == (100, 60, 40)
    entries = ledger.settle("a", "t1", 45, 2)
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.SETTLE, 45), (EntryKind.REFUND, 15)]
    assert ledger.balance("a").credits == 55 and ledger.balance("a").held == 0
    ledger.hold("a", "t2", 55, 3)
    ledger.refund("a", "t2", 4)
    assert ledger.balance("a").available == 55
    with pytest.raises(LedgerError):
        ledger.refund("a", "t2", 5)  # a hold is released once
    with pytest.raises(LedgerError):
        ledger.settle("a", "t2", 1, 5)


def test_ledger_refuses_what_does_not_fit_and_changes_nothing() -> None:
    ledger = Ledger()
    ledger.top_up("a", 59, 0)
    with pytest.raises(InsufficientCredits) as info:
        ledger.hold("a", "t", 60, 1)
    assert info.value.required == 60 and info.value.available == 59
    with pytest.raises(InsufficientCredits):
        ledger.charge("a", "c", Decimal("59.0001"), 1)
    assert ledger.balance("a").credits == 59 and len(ledger.entries("a")) == 1
    with pytest.raises(LedgerError):
        ledger.settle("a", "nothing", 1, 1)


def test_ledger_concurrent_holds_never_overspend() -> None:
    ledger = Ledger()
    ledger.top_up("a", 1_000, 0)
    accepted: list[int] = []
    barrier = threading.Barrier(8)

    def submit(worker: int) -> None:
        barrier.wait()
        for i in range(50):
            try:
                ledger.hold("a", f"{worker}-{i}", 7, 1)
                accepted.append(1)
            except InsufficientCredits:
                pass

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 1_000 // 7
    bal = ledger.balance("a")
    assert bal.held == 7 * len(accepted) and bal.available == 1_000 % 7
    assert sum(e.amount for e in ledger.entries("a") if e.kind is EntryKind.HOLD) == bal.held


def test_ledger_fractional_credits() -> None:
    ledger = Ledger()
    ledger.top_up("a", 1, 0)
    ledger.charge("a", "chat", Decimal("0.000123"), 1)
    assert ledger.balance("a").credits == Decimal("0.999877")


# -- scheduler and lifecycle ----------------------------------------------------------------


def _task(steps_at: float, terminal: Phase = Phase.SUCCEEDED) -> Task:
    return Task(id="t1", vendor="v", kind="video", account_id="a", key_id=None, created_at=steps_at,
                steps=plan_steps(steps_at, queued_for=5, running_for=10, terminal=terminal),
                outcome=Outcome(), params={})


def test_plan_and_state_from_the_clock() -> None:
    task = _task(100)
    assert [s.phase for s in task.steps] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert task.phase_at(100) is Phase.QUEUED
    assert task.phase_at(104.9) is Phase.QUEUED
    assert task.phase_at(105) is Phase.RUNNING
    assert task.progress_at(110) == 50
    assert task.phase_at(115) is Phase.SUCCEEDED and task.progress_at(200) == 100
    direct = plan_steps(0, queued_for=1, running_for=0, terminal=Phase.FAILED)
    assert [s.phase for s in direct] == [Phase.QUEUED, Phase.FAILED]


async def test_side_effects_run_once_in_order_whoever_gets_there_first() -> None:
    clock = Clock("manual", start=100)
    scheduler = Scheduler(clock)
    lifecycle = Lifecycle(clock, scheduler)
    seen: list[Phase] = []
    lifecycle.on_step("v", lambda task, step: seen.append(step.phase))
    task = lifecycle.start(_task(100))
    assert seen == [Phase.QUEUED]
    clock.advance(20)
    # A read finds the terminal state due before the scheduler has run: it runs the effects...
    assert lifecycle.get("t1", "a") is task
    assert seen == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    # ...and the scheduler, arriving later, runs nothing twice.
    await scheduler.run_due()
    lifecycle.catch_up(task)
    assert seen == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert lifecycle.get("t1", "someone-else") is None


async def test_steps_without_timely_effects_wait_for_the_next_step_that_has_them() -> None:
    """A vendor whose effects all come with the last step (`only_terminal`) is woken once per
    task; one with a webhook on every status change (no `timely`) at every step's time."""
    clock = Clock("manual", start=100)
    scheduler = Scheduler(clock)
    lifecycle = Lifecycle(clock, scheduler)
    seen: list[tuple[str, Phase, float]] = []
    lifecycle.on_step("v", lambda task, step: seen.append((task.id, step.phase, clock.now())),
                      timely=only_terminal)
    lifecycle.on_step("w", lambda task, step: seen.append((task.id, step.phase, clock.now())))
    lifecycle.start(_task(100))
    webhooked = _task(100)
    webhooked.id, webhooked.vendor = "t2", "w"
    lifecycle.start(webhooked)
    assert scheduler.pending() == 3  # t1's last step; t2's running and last steps
    clock.advance(6)
    await scheduler.run_due()
    assert ("t2", Phase.RUNNING, 106) in seen and ("t1", Phase.RUNNING, 106) not in seen
    clock.advance(10)
    await scheduler.run_due()
    assert [(p, at) for t, p, at in seen if t == "t1"] == [
        (Phase.QUEUED, 100), (Phase.RUNNING, 116), (Phase.SUCCEEDED, 116)]
    assert [(p, at) for t, p, at in seen if t == "t2"] == [
        (Phase.QUEUED, 100), (Phase.RUNNING, 106), (Phase.SUCCEEDED, 116)]


async def test_concurrent_readers_never_double_the_side_effects() -> None:
    clock = Clock("manual", start=0)
    lifecycle = Lifecycle(clock, Scheduler(clock))
    seen: list[Phase] = []
    lifecycle.on_step("v", lambda task, step: seen.append(step.phase))
    task = lifecycle.start(_task(0))
    clock.advance(100)
    threads = [threading.Thread(target=lifecycle.catch_up, args=(task,)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen.count(Phase.SUCCEEDED) == 1


async def test_interrupt_replaces_the_future() -> None:
    clock = Clock("manual", start=0)
    lifecycle = Lifecycle(clock, Scheduler(clock))
    seen: list[Phase] = []
    lifecycle.on_step("v", lambda task, step: seen.append(step.phase))
    task = lifecycle.start(_task(0))
    clock.advance(1)
    lifecycle.interrupt(task, Phase.CANCELLED)
    clock.advance(100)
    lifecycle.catch_up(task)
    assert seen == [Phase.QUEUED, Phase.CANCELLED]
    assert task.phase_at(clock.now()) is Phase.CANCELLED


async def test_scheduler_runs_due_actions_and_their_follow_ups() -> None:
    clock = Clock("manual", start=0)
    scheduler = Scheduler(clock)
    ran: list[str] = []

    async def attempt(n: int, planned: float) -> None:
        await asyncio.sleep(0)
        ran.append(f"a{n}")
        if n < 3:  # retries are planned from the previous attempt's planned time: 5, 6, 8
            scheduler.at(planned + n, lambda: attempt(n + 1, planned + n))

    scheduler.at(5, lambda: attempt(1, 5))
    scheduler.at(50, lambda: ran.append("late"))
    clock.advance(4)
    assert await scheduler.run_due() == 0
    clock.advance(10)
    await scheduler.run_due()
    assert ran == ["a1", "a2", "a3"]
    assert scheduler.pending() == 1


async def test_background_runner_follows_the_real_clock() -> None:
    clock = Clock("real", speed=1000, start=0)
    scheduler = Scheduler(clock)
    scheduler.start()
    done = asyncio.Event()
    scheduler.at(clock.now() + 50, done.set)  # 50 emulated seconds = 50 ms of wall time
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await scheduler.stop()


# -- rate limits and scenarios ------------------------------------------------------------


def test_rate_limit_sliding_window() -> None:
    limiter = RateLimiter()
    assert limiter.hit("k", 2, 0) is None
    assert limiter.hit("k", 2, 10) is None
    assert limiter.hit("k", 2, 20) == pytest.approx(40)
    assert limiter.hit("other", 2, 20) is None  # per key
    assert limiter.hit("k", 2, 60.5) is None  # the first hit left the window
    assert limiter.hit("k", 0, 61) is None  # 0 = unlimited


def test_scenario_tokens() -> None:
    assert find(["a cat #emulator:fail on a mat"]) == "fail"
    assert find([None, "x", "#emulator:short_output"]) == "short_output"
    assert find(["#emulator:"]) is None and find(["no token"]) is None


# -- spec binding -----------------------------------------------------------------------------


def test_startup_fails_when_spec_and_handlers_disagree() -> None:
    from emulator.vendors.perseworks import render
    from emulator.vendors.perseworks.routes import handlers

    def vendor(h: Handlers) -> Vendor:
        return Vendor(name="perseworks", prefix="/p", spec_name="perseworks", handlers=h, auth="bearer",
                      key_prefix="sk-", render_error=render.render_error, error=render.error)

    missing = Handlers()
    missing.by_operation = {k: v for k, v in handlers.by_operation.items() if k != "listModels"}
    with pytest.raises(StartupError, match="listModels"):
        vendor(missing)
    extra = Handlers()
    extra.by_operation = {**handlers.by_operation, "deleteEverything": handlers.by_operation["listModels"]}
    with pytest.raises(StartupError, match="deleteEverything"):
        vendor(extra)
    vendor(handlers)  # the real binding is complete


def test_a_scenario_is_chosen_by_header_first_and_never_silently_ignored() -> None:
    from emulator.core import scenarios

    assert scenarios.choose(None, ["a cat #emulator:fail"], {"fail", "slow"}, "V") == "fail"
    assert scenarios.choose("slow", ["a cat #emulator:fail"], {"fail", "slow"}, "V") == "slow"
    assert scenarios.choose(None, ["a cat", None], {"fail"}, "V") is None
    with pytest.raises(scenarios.ScenarioRefused, match="unknown emulator scenario 'nope'"):
        scenarios.choose("nope", [], {"fail"}, "V")
    with pytest.raises(scenarios.ScenarioRefused, match="not one V can act out here; supported: fail"):
        scenarios.choose(None, ["#emulator:review_fail"], {"fail"}, "V")
