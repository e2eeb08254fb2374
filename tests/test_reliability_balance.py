"""Concurrent submits against a balance that covers only some of them, and against each vendor's
concurrency limit, over real HTTP to a real server: exactly the affordable (or allowed) ones are
accepted, the rest get the vendor's documented refusal, and the ledger sums before and after
every task has finished (DESIGN.md, "Ledger": "two concurrent submits cannot spend the same
credit"; issue 8, "Reliability under load").

The server is one asyncio process, so a race could only come from an `await` between "is there
enough?" and "hold it". Every submit here waits in the pipeline (a latency fault on its key, a
real `asyncio.sleep` after authentication) so that all of them are in flight inside the server
at once and reach the balance check interleaved, as they would behind a slow network; the request
journal then shows an instant at which every one of them was in the server. (No vendor handler
awaits anything between its checks and its ledger hold, and the ledger checks and holds under
one lock, so none can over-accept; these tests keep it that way.)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread
from emulator.vendors import NAMES

pytestmark = pytest.mark.emulator_only

PT_MODEL = "dreamina-seedance-2-0-260128"
PT_TASKS = "/byteplus/api/v3/contents/generations/tasks"
# How long each submit waits inside the server: longer than it takes the client to send them all,
# even on a busy machine, so that they are all in there together.
LATENCY_MS = 400
FINISHED = 3 * 3600  # emulated seconds after which every task here is terminal (the slowest: minutes)


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with serve_in_thread(Settings(vendors=NAMES, clock="manual", seed=23)) as running:
        yield running


def amount(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class Case:
    """One vendor's submit, its documented price and refusal, and where its answers keep things."""

    vendor: str
    operation: str
    path: str
    body: Callable[[str], dict[str, Any]]
    hold: Decimal  # reserved at submit
    spent: dict[str, Decimal]  # scenario token in the prompt ("" for none) → what the finished task costs
    refused: tuple[int, str]  # the "not enough credits" answer: status, error code
    code: Callable[[dict[str, Any]], str]  # the error code in the vendor's error body
    task_id: Callable[[dict[str, Any]], str]
    poll: Callable[[str], str]
    status: Callable[[dict[str, Any]], str]
    terminal: frozenset[str]
    account: dict[str, Any] = field(default_factory=dict)  # control-API extras that lift other limits


CASES = [
    # perseworks.md: "Video (per output second): 720p $0.15" (1 credit = $0.01) → 5 s = 75 held;
    # "settled to the actual output duration on success (unused reserve refunded); full refund on
    # failure"; 402 insufficient_credits. `short_output` makes 4 s of the 5 asked (60 credits).
    Case("perseworks", "createVideoGeneration", "/video/generations",
         lambda prompt: {"model": "seedance-2.0", "prompt": prompt, "resolution": "720p", "durationSec": 5},
         Decimal(75), {"": Decimal(75), "fail": Decimal(0), "short_output": Decimal(60)},
         (402, "insufficient_credits"), lambda b: b["error"]["code"], lambda b: b["id"],
         lambda i: f"/video/generations/{i}", lambda b: b["status"], frozenset({"succeeded", "failed"})),
    # seegen.md: sd2-fast 720P "no ref video" 5 s = 160; "Failed tasks refund credits automatically";
    # 402 "Insufficient credits". Its concurrency limit (429) is lifted here: it has a test below.
    Case("seegen", "createTask", "/jobs/createTask",
         lambda prompt: {"model": "sd2-fast", "inputs": {"prompt": prompt}},
         Decimal(160), {"": Decimal(160), "fail": Decimal(0)},
         (402, "INSUFFICIENT_CREDITS"), lambda b: b["error"], lambda b: b["taskId"],
         lambda i: f"/jobs/queryTask?taskId={i}", lambda b: b["status"],
         frozenset({"COMPLETED", "FAILED"}), {"concurrency_limit": 0}),
    # PowerTokens: the documented 720p 16:9 5 s example is 108900 tokens; $7.00 per 1M tokens is the
    # emulator's price assumption (pricing.py) → 76.23 credits; the Ark overdue refusal is 403.
    Case("powertokens", "createContentGenerationTask", PT_TASKS,
         lambda prompt: {"model": PT_MODEL, "content": [{"type": "text", "text": prompt}], "duration": 5,
                         "ratio": "16:9"},
         Decimal("76.23"), {"": Decimal("76.23"), "fail": Decimal(0)},
         (403, "AccountOverdueError"), lambda b: b["error"]["code"], lambda b: b["id"],
         lambda i: f"{PT_TASKS}/{i}", lambda b: b["status"], frozenset({"succeeded", "failed"})),
    # genray.md: "Video (Pro model) 26 credits/sec, 5s = 130" (5 s is the default duration);
    # "Generation fails: video cost is automatically refunded"; 402 insufficient_credits. The plan's
    # concurrent-jobs limit and request rate are lifted here (tested below).
    Case("genray", "createVideo", "/api/v1/videos",
         lambda prompt: {"prompt": prompt},
         Decimal(130), {"": Decimal(130), "fail": Decimal(0)},
         (402, "insufficient_credits"), lambda b: b["detail"]["error"], lambda b: b["id"],
         lambda i: f"/api/v1/videos/{i}", lambda b: b["status"], frozenset({"completed", "failed"}),
         {"concurrent_jobs": 0, "plan": "advanced"}),
]


def spec_hook(vendors: tuple[str, ...]) -> Callable[[httpx.Response], Any]:
    check = SpecCheck.for_vendors(*vendors)

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        check(response)

    return hook


def fire(requests: list[tuple[str, str, dict[str, Any]]], vendor: str) -> list[httpx.Response]:
    """POST every (url, key, body) at once, one connection each; answers in the same order."""
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=len(requests)), timeout=60,
                                     event_hooks={"response": [spec_hook((vendor,))]}) as client:
            return list(await asyncio.gather(*(
                client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
                for url, key, body in requests)))

    return asyncio.run(run())


def slow_down(emu: RunningEmulator, vendor: str, operation: str, key_ids: list[str]) -> list[str]:
    """A latency fault on each key's submits: every request sleeps inside the server, so they overlap."""
    ids = []
    with emu.control() as c:
        for key_id in key_ids:
            response = c.post("/faults", json={"vendor": vendor, "operation": operation,
                                               "key_id": key_id, "latency_ms": LATENCY_MS})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


def assert_all_in_flight_together(emu: RunningEmulator, vendor: str, operation: str, key_ids: list[str],
                                  count: int) -> None:
    """The journal shows one instant at which every one of the `count` requests was inside the server."""
    with emu.control() as c:
        entries = [e for e in c.get("/requests", params={"vendor": vendor}).json()
                   if e["operation"] == operation and e["key_id"] in key_ids]
    assert len(entries) == count
    last_start = max(e["wall_time"] - e["duration_ms"] / 1000 for e in entries)
    first_end = min(e["wall_time"] for e in entries)
    assert last_start < first_end


def clear_faults(emu: RunningEmulator, ids: list[str]) -> None:
    with emu.control() as c:
        for fault_id in ids:
            c.delete(f"/faults/{fault_id}").raise_for_status()


def account_state(emu: RunningEmulator, account_id: str) -> dict[str, Any]:
    with emu.control() as c:
        return c.get(f"/accounts/{account_id}").json()


def task_ids(emu: RunningEmulator, account_id: str) -> set[str]:
    with emu.control() as c:
        return {t["id"] for t in c.get("/tasks", params={"account_id": account_id}).json()}


def scenario_of(i: int, case: Case) -> str:
    tokens = sorted(case.spent)
    return tokens[i % len(tokens)]


@pytest.mark.parametrize("case", CASES, ids=[c.vendor for c in CASES])
def test_concurrent_submits_accept_exactly_what_the_balance_covers(emu: RunningEmulator, case: Case) -> None:
    affordable, submits = 13, 40
    initial = case.hold * affordable + case.hold / 2  # a remainder that pays for no further task
    account = emu.create_account(case.vendor, credits=float(initial), rate_limit_rpm=0, **case.account)
    faults = slow_down(emu, case.vendor, case.operation, [account["key_id"]])
    base = emu.vendor_url(case.vendor)
    prompts = [f"clip {i}" + (f" #emulator:{scenario_of(i, case)}" if scenario_of(i, case) else "")
               for i in range(submits)]
    try:
        answers = fire([(base + case.path, account["api_key"], case.body(p)) for p in prompts], case.vendor)
    finally:
        clear_faults(emu, faults)

    assert_all_in_flight_together(emu, case.vendor, case.operation, [account["key_id"]], submits)
    accepted = {case.task_id(r.json()): scenario_of(i, case) for i, r in enumerate(answers) if r.status_code < 300}
    refusals = Counter((r.status_code, case.code(r.json())) for r in answers if r.status_code >= 300)
    assert len(accepted) == affordable
    assert refusals == {case.refused: submits - affordable}

    # While they run: every accepted task holds its price, nothing else holds, nothing is spent.
    state = account_state(emu, account["account_id"])
    holds = {e["ref"]: amount(e["amount"]) for e in state["ledger"] if e["kind"] == "hold"}
    assert holds == dict.fromkeys(accepted, case.hold)
    assert task_ids(emu, account["account_id"]) == set(accepted)  # no task without a hold, no hold without a task
    assert amount(state["credits"]) == initial
    assert amount(state["held"]) == case.hold * affordable
    assert Decimal(0) <= amount(state["available"]) < case.hold

    emu.advance(FINISHED)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {account['api_key']}"},
                      event_hooks={"response": [SpecCheck.for_vendors(case.vendor)]}) as api:
        for task_id in accepted:
            assert case.status(api.get(case.poll(task_id)).json()) in case.terminal

    state = account_state(emu, account["account_id"])
    expected_spend = sum((case.spent[s] for s in accepted.values()), Decimal(0))
    assert amount(state["held"]) == 0
    assert amount(state["credits"]) == initial - expected_spend
    for entry in state["ledger"]:
        assert amount(entry["credits_after"]) >= 0 and amount(entry["held_after"]) >= 0
    by_task: dict[str, list[tuple[str, Decimal]]] = {}
    for entry in state["ledger"]:
        if entry["ref"] is not None:
            by_task.setdefault(entry["ref"], []).append((entry["kind"], amount(entry["amount"])))
    assert set(by_task) == set(accepted)
    for task_id, scenario in accepted.items():
        spent = case.spent[scenario]
        kinds = by_task[task_id]
        assert kinds[0] == ("hold", case.hold)
        settled = sum((a for k, a in kinds if k == "settle"), Decimal(0))
        refunded = sum((a for k, a in kinds if k == "refund"), Decimal(0))
        assert (settled, refunded) == (spent, case.hold - spent), (task_id, scenario, kinds)
    # The ledger alone explains the balance: top-ups minus settlements.
    topups = sum((amount(e["amount"]) for e in state["ledger"] if e["kind"] == "topup"), Decimal(0))
    settles = sum((amount(e["amount"]) for e in state["ledger"] if e["kind"] in ("settle", "charge")), Decimal(0))
    assert topups - settles == amount(state["credits"])


def second_key(emu: RunningEmulator, account: dict[str, Any]) -> dict[str, Any]:
    with emu.control() as c:
        response = c.post(f"/accounts/{account['account_id']}/keys", json={"rate_limit_rpm": 0})
        assert response.status_code == 201, response.text
        return response.json()


@dataclass(frozen=True)
class Limit:
    case: Case
    allowed: int
    per_key: bool  # the limit counts a key's tasks (else the account's)
    refused: tuple[int, str]
    account: dict[str, Any]
    body: dict[str, Any] | None = None


LIMITS = [
    # seegen.md: "429 Concurrency limit reached" — per account (the limit is set per account here).
    Limit(CASES[1], 3, False, (429, "CONCURRENCY_LIMIT"), {"concurrency_limit": 3}),
    # genray.md, "Rate Limits": Advanced "5 jobs" concurrent, and "Rate limits apply per API key".
    Limit(CASES[3], 5, True, (429, "rate_limit_exceeded"), {"plan": "advanced"}),
    # powertokens (Ark): "At most 120 queued tasks per account"; 429 QuotaExceeded.
    Limit(CASES[2], 120, False, (429, "QuotaExceeded"), {},
          {"model": PT_MODEL, "content": [{"type": "text", "text": "a kite"}], "resolution": "480p",
           "duration": 4}),
]


@pytest.mark.parametrize("limit", LIMITS, ids=[lim.case.vendor for lim in LIMITS])
def test_concurrent_submits_on_two_keys_accept_exactly_the_concurrency_limit(emu: RunningEmulator,
                                                                           limit: Limit) -> None:
    case = limit.case
    account = emu.create_account(case.vendor, credits=1_000_000, rate_limit_rpm=0, **limit.account)
    other = second_key(emu, account)
    keys = [(account["key_id"], account["api_key"]), (other["key_id"], other["api_key"])]
    per_key = limit.allowed + 5 if limit.per_key else limit.allowed // 2 + 5
    body = limit.body or case.body("a kite")
    faults = slow_down(emu, case.vendor, case.operation, [key_id for key_id, _ in keys])
    base = emu.vendor_url(case.vendor)
    requests = [(base + case.path, plaintext, body) for _, plaintext in keys for _ in range(per_key)]
    try:
        answers = fire(requests, case.vendor)
    finally:
        clear_faults(emu, faults)
    assert_all_in_flight_together(emu, case.vendor, case.operation, [key_id for key_id, _ in keys], 2 * per_key)
    by_key = [answers[:per_key], answers[per_key:]]
    accepted = [[case.task_id(r.json()) for r in rs if r.status_code < 300] for rs in by_key]
    refusals = Counter((r.status_code, case.code(r.json())) for r in answers if r.status_code >= 300)
    total = sum(map(len, accepted))
    if limit.per_key:
        assert [len(a) for a in accepted] == [limit.allowed, limit.allowed]
    else:
        assert total == limit.allowed
    assert refusals == {limit.refused: 2 * per_key - total}
    # Only the accepted tasks exist, each with its hold; the refusals left nothing behind.
    state = account_state(emu, account["account_id"])
    holds = {e["ref"] for e in state["ledger"] if e["kind"] == "hold"}
    assert holds == task_ids(emu, account["account_id"]) == {t for a in accepted for t in a}
    # Once they have moved on, the limit admits new work again.
    emu.advance(FINISHED)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {account['api_key']}"}) as api:
        assert api.post(case.path, json=body).status_code < 300


def test_concurrent_seegen_upscales_hold_what_the_balance_covers_and_fail_the_rest(emu: RunningEmulator) -> None:
    """seegen.md, upscaler: the system "deducts credits proportional to the actual duration"
    (1080p: 25/s, 5 s → 125) and a job it cannot pay for fails with INSUFFICIENT_CREDITS ("On any
    failure, credits are fully refunded") — accepted at submit, failed, never charged."""
    price, affordable, submits = Decimal(125), 5, 14
    initial = price * affordable + 100
    account = emu.create_account("seegen", credits=float(initial), concurrency_limit=0)
    faults = slow_down(emu, "seegen", "createUpscale", [account["key_id"]])
    body = {"source": {"type": "url", "url": "https://cdn.example.com/clip.mp4#duration=5&width=1280&height=720"},
            "targetResolution": "1080p"}
    try:
        answers = fire([(emu.vendor_url("seegen") + "/upscale/create", account["api_key"], body)] * submits, "seegen")
    finally:
        clear_faults(emu, faults)
    assert {r.status_code for r in answers} == {200}
    jobs = [r.json()["taskId"] for r in answers]
    state = account_state(emu, account["account_id"])
    held = {e["ref"] for e in state["ledger"] if e["kind"] == "hold"}
    assert len(held) == affordable and held <= set(jobs)
    assert amount(state["held"]) == price * affordable and amount(state["available"]) < price
    emu.advance(FINISHED)
    with httpx.Client(base_url=emu.vendor_url("seegen"), headers={"Authorization": f"Bearer {account['api_key']}"},
                      event_hooks={"response": [SpecCheck.for_vendors("seegen")]}) as api:
        final = {job: api.get("/upscale/query", params={"taskId": job}).json() for job in jobs}
    assert {job for job, b in final.items() if b["status"] == "completed"} == held
    assert Counter((b["error"] or {}).get("code") for job, b in final.items() if job not in held) == {
        "INSUFFICIENT_CREDITS": submits - affordable}
    state = account_state(emu, account["account_id"])
    assert amount(state["held"]) == 0 and amount(state["credits"]) == initial - price * affordable


def test_concurrent_chat_completions_charge_exactly_what_the_balance_covers(emu: RunningEmulator) -> None:
    """perseworks.md: chat is "Billed per input/output token" from the prepaid credits, charged at
    once (no hold); "402 `insufficient_credits` — top up your balance". The price of one completion
    (an assumption of the emulator's) is learnt from a first, identical one on another account."""
    body = {"model": "seed-2.0-mini", "messages": [{"role": "user", "content": "say something"}], "max_tokens": 64}
    url = emu.vendor_url("perseworks") + "/chat/completions"
    probe = emu.create_account("perseworks", credits=100, rate_limit_rpm=0)
    assert fire([(url, probe["api_key"], body)], "perseworks")[0].status_code == 200
    [price] = [amount(e["amount"]) for e in account_state(emu, probe["account_id"])["ledger"] if e["kind"] == "charge"]
    assert price > 0
    affordable, submits = 9, 30
    initial = price * affordable + price / 2
    account = emu.create_account("perseworks", credits=float(initial), rate_limit_rpm=0)
    faults = slow_down(emu, "perseworks", "createChatCompletion", [account["key_id"]])
    try:
        answers = fire([(url, account["api_key"], body)] * submits, "perseworks")
    finally:
        clear_faults(emu, faults)
    assert Counter(r.status_code for r in answers) == {200: affordable, 402: submits - affordable}
    state = account_state(emu, account["account_id"])
    charges = [amount(e["amount"]) for e in state["ledger"] if e["kind"] == "charge"]
    assert charges == [price] * affordable
    assert amount(state["credits"]) == initial - price * affordable >= 0
