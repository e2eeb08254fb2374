"""Webhooks against a receiver that fails, hangs past the emulator's timeout and recovers, for every
vendor that calls back (SeeGen `callBackUrl`, PowerTokens `callback_url`, Genray `webhook_url`;
Perseworks documents none). Every attempt the emulator records (`/_emulator/webhooks`) is one the
receiver saw, in order, on the vendor's retry schedule; no delivery succeeds twice or goes missing;
and while a receiver hangs, the emulator still answers requests and still delivers other webhooks
(DESIGN.md: "delivery never blocks request handling; every attempt is recorded").

Each vendor's delivery timeout (5 or 10 s of wall time) is shortened here so that a hang costs a
fraction of a second; the documented values themselves are checked in the vendors' own tests.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import emulator.vendors.genray as genray_vendor
import emulator.vendors.powertokens as powertokens_vendor
import emulator.vendors.seegen as seegen_vendor
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, WebhookReceiver, read_body, serve_in_thread

pytestmark = pytest.mark.emulator_only

HANG = 0  # a scripted answer: hold the request open past the emulator's delivery timeout
PT_TASKS = "/byteplus/api/v3/contents/generations/tasks"
PT_MODEL = "dreamina-seedance-2-0-260128"
STEP = 1.0  # emulated seconds per clock advance while deliveries are due
# A hang outlasts the emulator's timeout by this much wall time, so that a busy machine cannot
# turn a hang into a late success.
HANG_MARGIN = 2.0


@dataclass
class Arrival:
    path: str
    body: bytes
    nth: int  # how many times this path has received this very body, this one included
    answer: int  # the status scripted for it (HANG: none before the emulator gave up)
    emulated_at: float
    wall_at: float


class ScriptedReceiver(WebhookReceiver):
    """A receiver that answers the n-th arrival of the same body on a path as `script(path, n)`
    says: a status, or HANG (sleep `hang_seconds`, then 200 to nobody). Records the emulated time
    of each arrival, so retry times can be checked against the vendor's schedule."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[Arrival] = []
        self.script: Callable[[str, int], int] = lambda path, nth: 200
        self.hang_seconds = 0.0
        self.clock: Callable[[], float] = time.monotonic
        self.hanging = threading.Event()
        self.hang_started = 0.0
        self._seen: Counter[tuple[str, bytes]] = Counter()

    def reset(self) -> None:
        with self._lock:
            self.arrivals.clear()
            self._seen.clear()
        self.hanging.clear()

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super()._app(scope, receive, send)
            return
        path, body = scope["path"], await read_body(receive)
        with self._lock:
            self._seen[(path, body)] += 1
            nth = self._seen[(path, body)]
            answer = self.script(path, nth)
            self.arrivals.append(Arrival(path, body, nth, answer, self.clock(), time.monotonic()))
        if answer == HANG:
            self.hang_started = time.monotonic()
            self.hanging.set()
            await asyncio.sleep(self.hang_seconds)
            answer = 200
        await send({"type": "http.response.start", "status": answer, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def of(self, path: str, body: bytes) -> list[Arrival]:
        return [a for a in list(self.arrivals) if a.path == path and a.body == body]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    settings = Settings(vendors=("seegen", "powertokens", "genray"), clock="manual", seed=31,
                        allow_http_callbacks=True)
    with serve_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def hooks(emu: RunningEmulator) -> Iterator[ScriptedReceiver]:
    with ScriptedReceiver.running() as receiver:
        assert isinstance(receiver, ScriptedReceiver)
        receiver.clock = emu.emulator.clock.now
        yield receiver


@pytest.fixture(scope="module")
def control(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with emu.control(timeout=30) as client:
        yield client


@pytest.fixture
def timeouts(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    def shorten(seconds: float) -> None:
        monkeypatch.setattr(seegen_vendor, "CALLBACK_TIMEOUT", seconds)
        monkeypatch.setattr(powertokens_vendor, "CALLBACK_TIMEOUT", seconds)
        monkeypatch.setattr(genray_vendor, "WEBHOOK_TIMEOUT", seconds)

    return shorten


@dataclass(frozen=True)
class Caller:
    vendor: str
    path: str
    body: Callable[[str, str], dict[str, Any]]  # (prompt, callback URL) → submit body
    task_id: Callable[[dict[str, Any]], str]
    poll: Callable[[str], str]
    retry_delays: tuple[float, ...]  # the documented (or assumed) schedule
    events_per_task: int  # deliveries a task that succeeds makes
    account: dict[str, Any]


CALLERS = [
    # seegen.md: "Provide `callBackUrl` in createTask to receive a POST when task completes/fails ...
    # Retry policy: up to 3 retries (1s, 5s, 30s delays) on non-2xx."
    Caller("seegen", "/jobs/createTask",
           lambda prompt, url: {"model": "sd2-fast", "inputs": {"prompt": prompt}, "callBackUrl": url},
           lambda b: b["taskId"], lambda i: f"/jobs/queryTask?taskId={i}", (1.0, 5.0, 30.0), 1,
           {"concurrency_limit": 0}),
    # Ark: "callback_url: POSTed on every status change" (queued, running, succeeded); the retry
    # schedule is the emulator's assumption (5 s, 30 s, 120 s).
    Caller("powertokens", PT_TASKS,
           lambda prompt, url: {"model": PT_MODEL, "content": [{"type": "text", "text": prompt}],
                                "duration": 5, "callback_url": url},
           lambda b: b["id"], lambda i: f"{PT_TASKS}/{i}", (5.0, 30.0, 120.0), 3, {}),
    # genray.md: "Webhooks retry 3 times with exponential backoff (2s, 4s, 8s). Timeout is 5 seconds."
    Caller("genray", "/api/v1/videos", lambda prompt, url: {"prompt": prompt, "webhook_url": url},
           lambda b: b["id"], lambda i: f"/api/v1/videos/{i}", (2.0, 4.0, 8.0), 1,
           {"concurrent_jobs": 0, "plan": "advanced"}),
]


def api(emu: RunningEmulator, vendor: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=emu.vendor_url(vendor), headers={"Authorization": f"Bearer {key}"}, timeout=30,
                        event_hooks={"response": [SpecCheck.for_vendors(vendor)]})


def deliveries(control: httpx.Client) -> list[dict[str, Any]]:
    return list(control.get("/webhooks").json())


# What each kind of receiver path answers to the n-th arrival of one delivery.
SCRIPTS: dict[str, Callable[[int], int]] = {
    "ok": lambda nth: 200,
    "flaky": lambda nth: {1: 500, 2: HANG}.get(nth, 200),  # fails, times out, then recovers
    "late": lambda nth: HANG if nth == 1 else 204,
    "dead": lambda nth: 503,  # never recovers: the schedule runs out
}
# The attempts the emulator should record for each kind: (status, error) in order.
EXPECTED: dict[str, Callable[[int], list[tuple[int | None, str | None]]]] = {
    "ok": lambda retries: [(200, None)],
    "flaky": lambda retries: [(500, None), (None, "timeout"), (200, None)],
    "late": lambda retries: [(None, "timeout"), (204, None)],
    "dead": lambda retries: [(503, None)] * (1 + retries),
}


def test_every_attempt_against_a_failing_receiver_is_accounted_for(
        emu: RunningEmulator, control: httpx.Client, hooks: ScriptedReceiver,
        timeouts: Callable[[float], None]) -> None:
    """Seven tasks per vendor, each calling back to a receiver path that answers at once, fails then
    hangs then recovers, hangs then recovers, or always fails; the clock moves a second at a time."""
    timeouts(0.5)
    hooks.reset()
    hooks.hang_seconds = HANG_MARGIN + 0.5
    hooks.script = lambda path, nth: SCRIPTS[path.split("/")[2]](nth)
    kinds = ["ok", "flaky", "flaky", "late", "dead", "ok", "flaky"]
    made: dict[str, tuple[Caller, str]] = {}  # task id → (caller, receiver path)
    accounts = set()
    for caller in CALLERS:
        account = emu.create_account(caller.vendor, credits=1_000_000, rate_limit_rpm=0, **caller.account)
        accounts.add(account["account_id"])
        with api(emu, caller.vendor, account["api_key"]) as c:
            for i, kind in enumerate(kinds):
                path = f"/{caller.vendor}/{kind}/{i}"
                response = c.post(caller.path, json=caller.body(f"clip {i}", hooks.url(path)))
                assert response.status_code < 300, response.text
                made[caller.task_id(response.json())] = (caller, path)

    # Small steps, so that each attempt's emulated arrival time shows when it was made.
    for _ in range(1200):
        mine = [d for d in deliveries(control) if d["account_id"] in accounts]
        if len(mine) == sum(c.events_per_task for c, _ in made.values()) and all(
                d["state"] != "pending" for d in mine):
            break
        emu.advance(STEP)
    else:
        raise AssertionError("deliveries still pending after 1200 emulated seconds")

    step_times = {t["id"]: {step["at"] for step in t["timeline"]} for t in control.get("/tasks").json()
                  if t["account_id"] in accounts}
    seen_attempts = 0
    for delivery in mine:
        caller, path = made[delivery["ref"]]
        kind = path.split("/")[2]
        attempts = delivery["attempts"]
        body = delivery["body"].encode()
        assert delivery["url"] == hooks.url(path)
        assert [a["number"] for a in attempts] == list(range(1, len(attempts) + 1))
        assert [(a["status"], a["error"]) for a in attempts] == EXPECTED[kind](len(caller.retry_delays)), delivery
        assert delivery["state"] == ("failed" if kind == "dead" else "delivered")
        # The schedule: each retry is planned from the previous attempt's planned time.
        planned = [a["planned_at"] for a in attempts]
        assert planned[0] == delivery["created_at"] and planned[0] in step_times[delivery["ref"]]
        assert [round(b - a, 6) for a, b in itertools.pairwise(planned)] == list(
            caller.retry_delays[:len(planned) - 1])
        # What the receiver saw of this delivery: one arrival per recorded attempt, in the same
        # order, each made within the clock step in which it fell due, never earlier.
        arrivals = hooks.of(path, body)
        assert [a.nth for a in arrivals] == [a["number"] for a in attempts]
        for arrival, attempt in zip(arrivals, attempts, strict=True):
            assert attempt["planned_at"] <= arrival.emulated_at < attempt["planned_at"] + STEP + 1e-6
        # At most one success per delivery, and exactly one if it is marked delivered.
        assert sum(1 for a in arrivals if 200 <= a.answer < 300) == (delivery["state"] == "delivered")
        seen_attempts += len(attempts)
    # Nothing lost, nothing extra: every task made its events, and the receiver saw no other posts.
    per_task = Counter(d["ref"] for d in mine)
    assert per_task == {task_id: caller.events_per_task for task_id, (caller, _) in made.items()}
    paths = {path for _, path in made.values()}
    assert len([a for a in hooks.arrivals if a.path in paths]) == seen_attempts


def test_a_hanging_receiver_blocks_neither_requests_nor_other_deliveries(
        emu: RunningEmulator, control: httpx.Client, hooks: ScriptedReceiver,
        timeouts: Callable[[float], None]) -> None:
    """PowerTokens posts a task's `queued` event at once: the first task's hangs; while it hangs, a
    poll, a list, a submit and the control API answer, and the second task's event is delivered."""
    timeout = 1.5
    timeouts(timeout)
    hooks.reset()
    hooks.hang_seconds = timeout + HANG_MARGIN
    hooks.script = lambda path, nth: HANG if path == "/hang" and nth == 1 else 200
    account = emu.create_account("powertokens", credits=100_000, rate_limit_rpm=0)
    with api(emu, "powertokens", account["api_key"]) as c:
        first = c.post(PT_TASKS, json=CALLERS[1].body("first", hooks.url("/hang"))).json()["id"]
        assert hooks.hanging.wait(timeout), "the first task's queued event never reached the receiver"
        started = hooks.hang_started
        answered: dict[str, float] = {}
        assert c.get(f"{PT_TASKS}/{first}").json()["status"] == "queued"
        answered["poll"] = time.monotonic()
        assert c.get(PT_TASKS).json()["total"] == 1
        answered["list"] = time.monotonic()
        second = c.post(PT_TASKS, json=CALLERS[1].body("second", hooks.url("/other")))
        assert second.status_code == 200
        answered["submit"] = time.monotonic()
        assert control.get(f"/accounts/{account['account_id']}").status_code == 200
        answered["control"] = time.monotonic()
        # The second task's `queued` event is due now; it must not wait behind the hanging one.
        for _ in range(200):
            if any(a.path == "/other" for a in list(hooks.arrivals)):
                break
            time.sleep(0.01)
        other = [a for a in hooks.arrivals if a.path == "/other"]
        assert other, "the second task's event was never delivered"
        answered["other delivery"] = other[0].wall_at
    # A liveness bound, not a speed target: all of it happened while the first attempt was still
    # outstanding (the emulator gives up on it `timeout` seconds after it began).
    late = {what: round(at - started, 3) for what, at in answered.items() if at - started >= timeout}
    assert not late, f"answered only after the hanging attempt had ended: {late}"

    # The hung attempt is recorded as a timeout, retried on schedule, and delivered once.
    emu.advance(0)  # waits for the attempt in flight
    [hung] = [d for d in deliveries(control) if d["ref"] == first]
    assert [(a["status"], a["error"]) for a in hung["attempts"]] == [(None, "timeout")]
    emu.advance(CALLERS[1].retry_delays[0])
    [hung] = [d for d in deliveries(control) if d["ref"] == first and d["event"] == "queued"]
    assert [(a["status"], a["error"]) for a in hung["attempts"]] == [(None, "timeout"), (200, None)]
    assert hung["state"] == "delivered"
    assert [a.nth for a in hooks.of("/hang", hung["body"].encode())] == [1, 2]


def test_many_deliveries_hanging_at_once_are_each_attempted_and_recorded(
        emu: RunningEmulator, control: httpx.Client, hooks: ScriptedReceiver,
        timeouts: Callable[[float], None]) -> None:
    """Two hundred first attempts fall due together (more than an HTTP client's default pool of
    connections) and all hang: each reaches the receiver at once, none waiting for another to give
    up, times out, and is retried once, successfully."""
    timeout = 1.5
    timeouts(timeout)
    hooks.reset()
    hooks.hang_seconds = timeout + HANG_MARGIN
    hooks.script = lambda path, nth: HANG if nth == 1 else 200
    accounts = set()
    for caller in CALLERS:
        account = emu.create_account(caller.vendor, credits=1_000_000, rate_limit_rpm=0, **caller.account)
        accounts.add(account["account_id"])
        with api(emu, caller.vendor, account["api_key"]) as c:
            for i in range(50):
                body = caller.body("same clip", hooks.url(f"/many/{caller.vendor}/{i}"))
                assert c.post(caller.path, json=body).status_code < 300
    started = time.monotonic()
    emu.advance(600)  # every task ends, and every retry is due, within this one advance
    mine = [d for d in deliveries(control) if d["account_id"] in accounts]
    assert len(mine) == 50 * sum(c.events_per_task for c in CALLERS)
    for delivery in mine:
        path = delivery["url"].removeprefix(hooks.base_url)
        assert [(a["status"], a["error"]) for a in delivery["attempts"]] == [(None, "timeout"), (200, None)], (
            delivery["attempts"], [(a.nth, a.wall_at) for a in hooks.of(path, delivery["body"].encode())])
        assert [a.nth for a in hooks.of(path, delivery["body"].encode())] == [1, 2]
    mine_arrivals = [a for a in hooks.arrivals if a.path.startswith("/many/")]
    assert len(mine_arrivals) == 2 * len(mine)
    # A liveness bound: no first attempt of this advance (200 of them) reached the receiver only after
    # the earliest had timed out, as one queued behind them for a free connection would.
    firsts = [a.wall_at - started for a in mine_arrivals if a.nth == 1 and a.wall_at >= started]
    assert len(firsts) == 200 and max(firsts) < timeout
