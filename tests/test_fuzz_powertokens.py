"""Schemathesis fuzzes every operation of openapi/powertokens.yaml against the in-process emulator
over real HTTP, with a fresh unlimited account key (checks and configuration: tests/fuzz_support.py).

No documented response of PowerTokens is a 5xx the fuzzer can earn, so any 5xx fails. A
module-teardown check asserts that every operation ran enough cases and that the success paths
(task creation on both interfaces, polls, lists, uploads' refusals) were among them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.specs.openapi.checks import negative_data_rejection

from emulator.core import spec as spec_module
from emulator.testing import RunningEmulator, SpecCheck

from .fuzz_support import CHECKS, HEALTH_CHECKS, Tally, load_schema

pytestmark = pytest.mark.emulator_only

TASKS = "/byteplus/api/v3/contents/generations/tasks"
OPERATIONS = {f"POST {TASKS}", f"GET {TASKS}", f"GET {TASKS}/{{id}}", f"DELETE {TASKS}/{{id}}",
              "POST /v1/videos", "GET /v1/videos/{task_id}", "POST /v1/asset/upload",
              "GET /v1/asset/jobs/get-asset-id"}
MAX_EXAMPLES = 100  # per operation and mode, fuzzing phase
V2_MODELS = ["dreamina-seedance-2-0-260128", "dreamina-seedance-2-0-fast-260128"]
V1_MODELS = ["seedance-1-5-pro-251215", "seedance-1-0-pro-250528", "seedance-1-0-pro-fast-251015"]

schema = load_schema("powertokens", MAX_EXAMPLES)
TALLY = Tally()


SPEC = spec_module.load("powertokens")
CALLBACK = SPEC.validator({"type": "string", "format": "uri", "maxLength": 2048})
TEXT_ONLY = [{"type": "text", "text": "a fox in the snow"}]


def _valid(name: str, value: Any) -> bool:
    try:
        SPEC.validate_schema(name, value)
    except spec_module.SchemaError:
        return False
    return True


def _plain_items(body: dict[str, Any], field: str, item_schema: str) -> bool:
    items = body.get(field)
    return isinstance(items, list) and bool(items) and all(_valid(item_schema, i) for i in items)


V2_ONLY_PLAIN = {"prompt": lambda v: isinstance(v, str) and bool(v), "image": lambda v: isinstance(v, str) and bool(v),
                 "draft": lambda v: isinstance(v, bool), "camera_fixed": lambda v: isinstance(v, bool)}


def _video_body(body: dict[str, Any], model: str) -> dict[str, Any]:
    """`body` for `model`: the other series' fields dropped and a text-only input put in, where
    the values are schema-valid (so a negative body stays negative)."""
    out = {**body, "model": model}
    if model in V2_MODELS:
        out = {k: v for k, v in out.items() if not (k in V2_ONLY_PLAIN and V2_ONLY_PLAIN[k](v))}
        if _plain_items(out, "media", "VideoMediaItem") or "media" not in out:
            out["media"] = TEXT_ONLY
    elif model in V1_MODELS:
        if _plain_items(out, "media", "VideoMediaItem"):
            del out["media"]
        out.setdefault("prompt", "a fox in the snow")
    return out


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Any string is a schema-valid `model`, and random media are schema-valid but refused (no such
    asset), so on their own the fuzzer would only meet refusals. Swap a real id into most string
    `model`s (1.x ids where the body has `prompt`), and a text-only list into most schema-valid
    `content` / `media` arrays, so the success paths are fuzzed too. Only values that are already
    schema-valid are replaced, so a negative case stays as invalid as it was generated."""
    if not (isinstance(body, dict) and isinstance(body.get("model"), str)):
        return st.just(body)
    if context.operation.path == "/v1/videos":
        return st.sampled_from([*V2_MODELS, *V1_MODELS, body["model"]]).map(lambda m: _video_body(body, m))
    if CALLBACK.is_valid(body.get("callback_url", 0)):
        # A fuzzed callback host would really be called (and a DNS lookup in a sandbox can hang the
        # clock's advance); callbacks are tested against a local receiver in test_powertokens_api.py.
        body = {**body, "callback_url": None}
    models = V1_MODELS if "prompt" in body else V2_MODELS + V1_MODELS[:1]
    out = st.sampled_from([*models, *models, body["model"]]).map(lambda model: {**body, "model": model})
    for field, item in (("content", "ArkContentItem"), ("media", "VideoMediaItem")):
        if _plain_items(body, field, item):
            out = out.flatmap(lambda b, f=field: st.sampled_from([{**b, f: TEXT_ONLY}, {**b, f: TEXT_ONLY}, b]))
    return out


@pytest.fixture(scope="module")
def key(emu: RunningEmulator) -> str:
    """One unlimited account for the module: plenty of credits, no rate limit."""
    return emu.create_account("powertokens", credits=100_000_000, rate_limit_rpm=0)["api_key"]


@pytest.fixture(scope="module", autouse=True)
def enough_cases_ran() -> Iterator[None]:
    yield
    if not TALLY.every_operation_ran(OPERATIONS):
        return  # the fuzz test was deselected (-k)
    ran, by_op_mode, summary = TALLY.ran, TALLY.by_operation_and_mode(), TALLY.summary()
    for op in (f"POST {TASKS}", "POST /v1/videos", f"GET {TASKS}"):
        assert by_op_mode[op, "positive"] >= 30, f"{op}: too few positive cases:\n{summary}"
        assert by_op_mode[op, "negative"] >= 30, f"{op}: too few negative cases:\n{summary}"
    assert ran[f"POST {TASKS}", "positive", 200] >= 5, f"Ark tasks never created:\n{summary}"
    assert ran["POST /v1/videos", "positive", 200] >= 5, f"/v1/videos tasks never created:\n{summary}"
    assert ran[f"GET {TASKS}", "positive", 200] >= 10, f"lists never served:\n{summary}"
    assert sum(ran.values()) >= 500, f"too few cases in all:\n{summary}"


# A multipart text field is text on the wire: a "negative" `group_id` of boolean false arrives as the
# string "false", which is a valid group id. So the upload is fuzzed without that one check.
FORM_CHECKS = [c for c in CHECKS if c is not negative_data_rejection]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_powertokens_conforms(case: schemathesis.Case, emu: RunningEmulator, key: str) -> None:
    checks = FORM_CHECKS if case.operation.path == "/v1/asset/upload" else CHECKS
    response = case.call_and_validate(base_url=emu.vendor_url("powertokens"), headers={"Authorization": key},
                                      checks=checks, timeout=10)
    TALLY.record(case, response.status_code)
    if case.method == "POST" and response.status_code == 200:
        emu.advance(6)  # let what was queued start, so the 120-queued-tasks quota never fills


# -- what the fuzzer cannot reach on its own, through the same checks --------------------------


def _call(case: schemathesis.Case, emu: RunningEmulator, key: str, **headers: str) -> Any:
    return case.call_and_validate(base_url=emu.vendor_url("powertokens"), checks=CHECKS,
                                  headers={"Authorization": key, **headers})


@pytest.mark.parametrize(("scenario", "final"), [(None, "succeeded"), ("fail", "failed"), ("expire", "expired"),
                                                  ("output_moderation", "failed")])
def test_every_state_of_a_real_task_conforms_on_both_polls(emu: RunningEmulator, key: str, scenario: str | None,
                                                           final: str) -> None:
    headers = {"X-Emulator-Scenario": scenario} if scenario else {}
    create = schema[TASKS]["POST"].Case(body={"model": V2_MODELS[0], "content": [{"type": "text", "text": "a fox"}],
                                              "execution_expires_after": 3600, "return_last_frame": True})
    created = _call(create, emu, key, **headers)
    assert created.status_code == 200
    task_id = created.json()["id"]
    polls = [schema[f"{TASKS}/{{id}}"]["GET"].Case(path_parameters={"id": task_id}),
             schema["/v1/videos/{task_id}"]["GET"].Case(path_parameters={"task_id": task_id})]
    seen = []
    for step in (0, 6, 3600):
        emu.advance(step)
        statuses = {_call(poll, emu, key).json()["status"] for poll in polls}
        assert len(statuses) == 1
        seen.append(statuses.pop())
    assert seen[-1] == final
    listed = _call(schema[TASKS]["GET"].Case(query={"filter.task_ids": [task_id]}), emu, key)
    assert listed.json()["total"] == 1
    deleted = _call(schema[f"{TASKS}/{{id}}"]["DELETE"].Case(path_parameters={"id": task_id}), emu, key)
    assert deleted.status_code == 200


def test_an_upload_and_its_job_conform(emu: RunningEmulator, key: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    with httpx.Client(base_url=emu.vendor_url("powertokens"), headers={"Authorization": key},
                      event_hooks={"response": [SpecCheck.for_vendors("powertokens")]}) as http:
        job = http.post("/v1/asset/upload", files={"file": ("a.png", buf.getvalue())}).json()["data"]["task_id"]
    get = schema["/v1/asset/jobs/get-asset-id"]["GET"]
    assert _call(get.Case(query={"task_id": job}), emu, key).json()["data"]["status"] == "processing"
    emu.advance(3)
    assert _call(get.Case(query={"task_id": job}), emu, key).json()["data"]["asset_id"]
    assert _call(get.Case(query={"task_id": "nope"}), emu, key).status_code == 404


REFUSALS = [("moderation_reject", 400, "InputTextSensitiveContentDetected"),
            ("rate_limited", 429, "RateLimitExceeded.EndpointRPMExceeded"), ("upstream_error", 429, "ServerOverloaded")]


@pytest.mark.parametrize(("scenario", "status", "code"), REFUSALS)
def test_scenario_refusals_conform(emu: RunningEmulator, key: str, scenario: str, status: int, code: str) -> None:
    case = schema["/v1/videos"]["POST"].Case(body={"model": V2_MODELS[0], "media": [
        {"type": "text", "text": f"a fox #emulator:{scenario}"}]})
    response = _call(case, emu, key)
    assert response.status_code == status and response.json()["error"]["code"] == code
