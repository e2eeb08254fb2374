"""Schemathesis fuzzes every operation of openapi/perseworks.yaml against the in-process
emulator over real HTTP, with a fresh unlimited account key (checks and configuration:
tests/fuzz_support.py).

The only documented 5xx, 502, needs a scenario the fuzzer never sends, so any 5xx fails.
`MAX_EXAMPLES` bounds fuzzing per operation and mode; a module-teardown check asserts that
every operation ran enough cases, and that the success paths (202, 200, streams) were among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from emulator.testing import RunningEmulator, SpecCheck

from .fuzz_support import CHECKS, HEALTH_CHECKS, Tally, load_schema

pytestmark = pytest.mark.emulator_only

OPERATIONS = {"GET /models", "POST /video/generations", "GET /video/generations/{id}", "POST /chat/completions"}
MAX_EXAMPLES = 200  # per operation and mode, fuzzing phase: the module runs in ~10-15 s
VIDEO_MODELS = ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini"]
CHAT_MODELS = ["doubao-seed-2-0-pro", "seed-2.1-pro", "seed-2.0-mini"]

schema = load_schema("perseworks", MAX_EXAMPLES)
TALLY = Tally()


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Any string is a schema-valid `model`, so on its own the fuzzer only ever meets
    `model_not_found`. Swap a real model id into most string `model`s so that the success paths
    (202 tasks, completions, streams) are fuzzed too. Only a value that is already a string is
    replaced, so a negative case stays exactly as invalid as it was generated."""
    if not (isinstance(body, dict) and isinstance(body.get("model"), str)):
        return st.just(body)
    models = VIDEO_MODELS if context.operation.path == "/video/generations" else CHAT_MODELS
    return st.sampled_from([*models, *models, body["model"]]).map(lambda model: {**body, "model": model})


@pytest.fixture(scope="module")
def key(emu: RunningEmulator) -> str:
    """One unlimited account for the module: plenty of credits, no rate limit."""
    return emu.create_account("perseworks", credits=100_000_000, rate_limit_rpm=0)["api_key"]


@pytest.fixture(scope="module", autouse=True)
def enough_cases_ran() -> Iterator[None]:
    yield
    if not TALLY.every_operation_ran(OPERATIONS):
        return  # the fuzz test was deselected (-k)
    ran, by_op_mode, summary = TALLY.ran, TALLY.by_operation_and_mode(), TALLY.summary()
    # GET /models has no inputs and a poll's only input is a non-empty string: there is little
    # to negate there. The POST bodies are where the fuzzer earns its keep.
    for op in ("POST /video/generations", "POST /chat/completions"):
        assert by_op_mode[op, "positive"] >= 40, f"{op}: too few positive cases:\n{summary}"
        assert by_op_mode[op, "negative"] >= 40, f"{op}: too few negative cases:\n{summary}"
    assert by_op_mode["GET /video/generations/{id}", "positive"] >= 40, summary
    assert by_op_mode["GET /video/generations/{id}", "negative"] >= 1, summary
    assert ran["GET /models", "positive", 200] >= 1, summary
    assert ran["POST /video/generations", "positive", 202] >= 10, f"tasks never accepted:\n{summary}"
    assert ran["POST /chat/completions", "positive", 200] >= 10, f"completions never served:\n{summary}"
    assert sum(ran.values()) >= 400, f"too few cases in all:\n{summary}"


@schema.parametrize()
@settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_perseworks_conforms(case: schemathesis.Case, emu: RunningEmulator, key: str) -> None:
    response = case.call_and_validate(base_url=emu.vendor_url("perseworks"),
                                      headers={"Authorization": f"Bearer {key}"},
                                      checks=CHECKS, timeout=10)
    TALLY.record(case, response.status_code)


# -- what the fuzzer cannot reach on its own, through the same checks ------------------------


def _valid_body(path: str, content: str = "a cat on a skateboard", **extra: Any) -> dict[str, Any]:
    if path == "/video/generations":
        return {"model": "seedance-2.0", "prompt": content, "resolution": "1080p", "durationSec": 5, **extra}
    return {"model": "seed-2.0-mini", "messages": [{"role": "user", "content": content}], **extra}


def _call(case: schemathesis.Case, emu: RunningEmulator, key: str, checks: list[Any] = CHECKS,
          **headers: str) -> Any:
    return case.call_and_validate(base_url=emu.vendor_url("perseworks"), checks=checks,
                                  headers={"Authorization": f"Bearer {key}", **headers})


@pytest.fixture(scope="module")
def http(emu: RunningEmulator, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.vendor_url("perseworks"), headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [SpecCheck.for_vendors("perseworks")]}) as c:
        yield c


@pytest.mark.parametrize(("scenario", "final"), [(None, "succeeded"), ("fail", "failed"),
                                                  ("output_moderation", "failed"), ("short_output", "succeeded")])
def test_polls_of_a_real_task_conform_in_every_state(emu: RunningEmulator, key: str, http: httpx.Client,
                                                     scenario: str | None, final: str) -> None:
    headers = {"X-Emulator-Scenario": scenario} if scenario else {}
    created = http.post("/video/generations", headers=headers, json=_valid_body("/video/generations"))
    assert created.status_code == 202, created.text
    poll = schema["/video/generations/{id}"]["GET"].Case(path_parameters={"id": created.json()["id"]})
    seen = []
    for step in (0, 6, 3600):
        emu.advance(step)
        response = _call(poll, emu, key)
        assert response.status_code == 200
        seen.append(response.json()["status"])
    assert seen == ["queued", "running", final]


# The documented refusals that only a scenario produces (scenario → status), for both POSTs.
SCENARIO_STATUSES = [("moderation_reject", 422), ("rate_limited", 429), ("upstream_error", 502)]


@pytest.mark.parametrize("path", ["/video/generations", "/chat/completions"])
@pytest.mark.parametrize(("scenario", "status"), SCENARIO_STATUSES)
@pytest.mark.parametrize("how", ["header", "prompt"])
def test_scenario_refusals_conform(emu: RunningEmulator, key: str, path: str, scenario: str, status: int,
                                   how: str) -> None:
    if how == "header":
        case = schema[path]["POST"].Case(body=_valid_body(path))
        response = _call(case, emu, key, [c for c in CHECKS if c is not not_a_server_error],
                         **{"X-Emulator-Scenario": scenario})
    else:
        case = schema[path]["POST"].Case(body=_valid_body(path, f"a cat #emulator:{scenario}"))
        response = _call(case, emu, key, [c for c in CHECKS if c is not not_a_server_error])
    assert response.status_code == status
    assert response.json()["error"]["code"] == {422: "content_rejected", 429: "rate_limited",
                                                502: "upstream_error"}[status]


@pytest.mark.parametrize("include_usage", [False, True])
def test_streams_conform_event_by_event(emu: RunningEmulator, key: str, include_usage: bool) -> None:
    """Every `data:` event is validated against the spec's ChatServerSentEvent (JSON chunks,
    the error event of a failing stream, and `[DONE]`)."""
    chat = schema["/chat/completions"]["POST"]
    body = _valid_body("/chat/completions", stream=True, n=2, stream_options={"include_usage": include_usage})
    ok = _call(chat.Case(body=body), emu, key)
    assert ok.status_code == 200 and ok.text.endswith("data: [DONE]\n\n")
    failed = _call(chat.Case(body=body), emu, key, **{"X-Emulator-Scenario": "fail"})
    assert failed.status_code == 200 and '"code":"upstream_error"' in failed.text
