"""Schemathesis fuzzes every operation of openapi/seegen.yaml against the in-process emulator
over real HTTP, with a fresh account that has plenty of credits and no concurrency limit
(checks and configuration: tests/fuzz_support.py).

No input may earn a 5xx (the documented 500 needs the `upstream_error` scenario, which the
fuzzer never sends), every response must match the spec, and an invalid request must be
refused with a 4xx that is neither 402 nor 429 (nothing invalid is billed or counted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error

from emulator.testing import RunningEmulator, SpecCheck

from .fuzz_support import CHECKS, HEALTH_CHECKS, Tally, load_schema

pytestmark = pytest.mark.emulator_only

VENDOR = "seegen"
OPERATIONS = {"POST /jobs/createTask", "GET /jobs/queryTask", "GET /account/credits", "POST /upscale/create",
              "GET /upscale/query", "POST /assets/upload", "GET /assets/status", "GET /assets/list"}
MAX_EXAMPLES = 120

schema = load_schema(VENDOR, MAX_EXAMPLES)
TALLY = Tally()
# Where fuzzed callbacks go: a closed loopback port, so each attempt is refused at once
# (a fuzzed host name would make the outbox wait on DNS).
NOWHERE = "http://127.0.0.1:9/hook"


@schema.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    """Send every well-formed callback URL to NOWHERE. Only a value that already is a valid
    http(s) URL (within maxLength) is replaced, so a negative case stays exactly as invalid as it was generated."""
    if isinstance(body, dict) and isinstance(body.get("callBackUrl"), str) and len(body["callBackUrl"]) <= 2048:
        parts = urlsplit(body["callBackUrl"])
        if parts.scheme in ("http", "https") and parts.hostname:
            return {**body, "callBackUrl": NOWHERE}
    return body


@pytest.fixture(scope="module")
def key(emu: RunningEmulator) -> str:
    return emu.create_account(VENDOR, credits=1_000_000_000, concurrency_limit=0)["api_key"]


@pytest.fixture(scope="module", autouse=True)
def offline_callbacks(emu: RunningEmulator) -> Iterator[None]:
    """Fuzzed `callBackUrl`s name arbitrary hosts: while this module runs, and until every task
    it made has ended, the outbox answers them itself (200) instead of going to the network."""
    outbox = emu.emulator.outbox
    previous = outbox._client
    outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    try:
        yield
        emu.advance(1_000_000)  # every fuzzed task and upscale ends; their callbacks are delivered
    finally:
        outbox._client = previous


@pytest.fixture(scope="module", autouse=True)
def enough_cases_ran() -> Iterator[None]:
    yield
    if not TALLY.every_operation_ran(OPERATIONS):
        return  # the fuzz test was deselected (-k)
    ran, by_op_mode, summary = TALLY.ran, TALLY.by_operation_and_mode(), TALLY.summary()
    for op in ("POST /jobs/createTask", "POST /upscale/create", "POST /assets/upload"):
        assert by_op_mode[op, "positive"] >= 30, f"{op}: too few positive cases:\n{summary}"
        assert by_op_mode[op, "negative"] >= 30, f"{op}: too few negative cases:\n{summary}"
    # Random inputs rarely fit one model's rules; the success paths of createTask are driven
    # explicitly below (every model, every terminal state) through the same checks.
    assert ran["POST /upscale/create", "positive", 200] >= 5, f"upscales never created:\n{summary}"
    assert ran["POST /assets/upload", "positive", 200] >= 5, f"assets never uploaded:\n{summary}"
    assert ran["GET /account/credits", "positive", 200] >= 1, summary
    assert ran["GET /assets/list", "positive", 200] >= 10, summary


@schema.parametrize()
@settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_seegen_conforms(case: schemathesis.Case, emu: RunningEmulator, key: str) -> None:
    response = case.call_and_validate(base_url=emu.vendor_url(VENDOR), headers={"Authorization": f"Bearer {key}"},
                                      checks=CHECKS, timeout=10)
    TALLY.record(case, response.status_code)


# -- what the fuzzer cannot reach on its own, through the same checks ------------------------


def _call(case: schemathesis.Case, emu: RunningEmulator, key: str, checks: list[Any] = CHECKS,
          **headers: str) -> Any:
    return case.call_and_validate(base_url=emu.vendor_url(VENDOR), checks=checks,
                                  headers={"Authorization": f"Bearer {key}", **headers})


@pytest.fixture(scope="module")
def http(emu: RunningEmulator, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.vendor_url(VENDOR), headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [SpecCheck.for_vendors(VENDOR)]}) as c:
        yield c


VALID_TASKS = [
    {"model": "sd2", "inputs": {"prompt": "a cat", "duration": "5s"}},
    {"model": "sd2-fast", "inputs": {"prompt": "a cat", "upscaleResolution": "1080p"}},
    {"model": "happyhorse", "inputs": {"prompt": "a panda DJ", "ratio": "9:16", "seed": 7}},
    {"model": "gpt-image-2", "inputs": {"prompt": "an alley", "outputFormat": "webp", "resolution": "1k"}},
]


@pytest.mark.parametrize("body", VALID_TASKS, ids=lambda b: b["model"])
@pytest.mark.parametrize(("scenario", "final"), [(None, "COMPLETED"), ("fail", "FAILED"),
                                                  ("output_moderation", "FAILED")])
def test_polls_of_a_real_task_conform_in_every_state(emu: RunningEmulator, key: str, body: dict[str, Any],
                                                     scenario: str | None, final: str) -> None:
    headers = {"X-Emulator-Scenario": scenario} if scenario else {}
    created = _call(schema["/jobs/createTask"]["POST"].Case(body=body), emu, key, **headers)
    assert created.status_code == 200, created.text
    poll = schema["/jobs/queryTask"]["GET"].Case(query={"taskId": created.json()["taskId"]})
    seen = []
    for step in (0, 6, 100_000):
        emu.advance(step)
        response = _call(poll, emu, key)
        assert response.status_code == 200
        seen.append(response.json()["status"])
    assert seen == ["PENDING", "PROCESSING", final]


@pytest.mark.parametrize(("url", "final"), [
    ("https://cdn.example.com/a.mp4#duration=12", "completed"),
    ("https://cdn.example.com/a.mp4#duration=1200", "failed"),
    ("https://10.0.0.8/a.mp4", "failed"),
])
def test_polls_of_a_real_upscale_conform_in_every_state(emu: RunningEmulator, key: str, url: str,
                                                        final: str) -> None:
    case = schema["/upscale/create"]["POST"].Case(body={"source": {"type": "url", "url": url},
                                                        "targetResolution": "2k"})
    created = _call(case, emu, key)
    assert created.status_code == 200, created.text
    poll = schema["/upscale/query"]["GET"].Case(query={"taskId": created.json()["taskId"]})
    seen = [_call(poll, emu, key).json()["status"]]
    emu.advance(100_000)
    seen.append(_call(poll, emu, key).json()["status"])
    assert seen == ["validating", final]


@pytest.mark.parametrize(("scenario", "status"), [("moderation_reject", 400), ("rate_limited", 429),
                                                  ("upstream_error", 500)])
def test_scenario_refusals_conform(emu: RunningEmulator, key: str, scenario: str, status: int) -> None:
    case = schema["/jobs/createTask"]["POST"].Case(body=VALID_TASKS[0])
    response = _call(case, emu, key, [c for c in CHECKS if c is not not_a_server_error],
                     **{"X-Emulator-Scenario": scenario})
    assert response.status_code == status


def test_an_asset_conforms_through_review(emu: RunningEmulator, http: httpx.Client) -> None:
    asset = http.post("/assets/upload", json={"url": "https://e.com/p.jpg#emulator:review_fail", "type": "IMAGE"})
    assert asset.status_code == 200
    emu.advance(10)
    failed = http.get("/assets/status", params={"assetId": asset.json()["volcAssetId"]}).json()
    assert failed["status"] == "FAILED" and failed["failReason"]
