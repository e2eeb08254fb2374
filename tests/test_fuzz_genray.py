"""Schemathesis fuzzes every operation of openapi/genray.yaml against the in-process emulator
over real HTTP (checks and configuration: tests/fuzz_support.py), with one Advanced account
whose limits are lifted (`rate_limit_rpm=0`, `concurrent_jobs=0`) so that the success paths
stay reachable. The only documented 5xx, 500 `generation_failed`, needs a scenario the fuzzer
never sends, so any 5xx fails."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image

from emulator.testing import RunningEmulator, SpecCheck

from .fuzz_support import CHECKS, HEALTH_CHECKS, Tally, load_schema

pytestmark = pytest.mark.emulator_only

OPERATIONS = {"POST /api/v1/videos", "POST /api/v1/videos/from-person", "GET /api/v1/videos/{job_id}",
              "POST /api/v1/videos/{video_id}/upscale", "POST /api/v1/upload", "GET /api/v1/account",
              "POST /api/keys", "GET /api/keys", "DELETE /api/keys/{id}", "GET /v1/files/{filename}"}
MAX_EXAMPLES = 60

schema = load_schema("genray", MAX_EXAMPLES)
TALLY = Tally()


def _png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


PNG_B64 = _png()
MEDIA_REF = re.compile(r"^(https?://[^\s/]+|/v1/files/)")  # the spec's MediaRef pattern


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Most random `person_image_url`s are schema-valid but refused (http, unknown upload path), and a
    random base64 `file` is never an image: swap in a public https URL / a real PNG for some cases so
    the success paths are fuzzed too. Only values that are already strings are replaced, so a negative
    case stays as invalid as it was generated."""
    if not isinstance(body, dict):
        return st.just(body)
    hook = body.get("webhook_url")
    if isinstance(hook, str) and hook.startswith("https://") and len(hook) <= 2048 and not re.search(r"\s", hook):
        # The emulator really calls webhooks: hundreds of fuzzed ones would make every clock
        # advance wait for their deliveries. A valid optional field is dropped (never an invalid one).
        body = {k: v for k, v in body.items() if k != "webhook_url"}
    url = body.get("person_image_url")
    if isinstance(url, str) and MEDIA_REF.match(url) and len(url) <= 2048:  # only an already valid value
        return st.sampled_from(["https://example.com/me.jpg", url]).map(lambda u: {**body, "person_image_url": u})
    file = body.get("file")
    if context.operation.path == "/api/v1/upload" and isinstance(file, str) and file:
        return st.sampled_from([PNG_B64, file]).map(lambda f: {**body, "file": f})
    return st.just(body)


@pytest.fixture(scope="module", autouse=True)
def offline_webhooks(emu: RunningEmulator) -> Iterator[None]:
    """The emulator really calls webhooks; the fuzzer's made-up hosts (some reached through phases
    the body hook does not see) would each wait for DNS. For this module, deliveries are answered
    200 in-process instead (the outbox's real HTTP is tested in test_genray_webhooks.py)."""
    outbox = emu.emulator.outbox
    saved = outbox._client
    outbox._client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    yield
    outbox._client = saved


@pytest.fixture(scope="module")
def key(emu: RunningEmulator) -> str:
    return emu.create_account("genray", plan="advanced", credits=100_000_000, rate_limit_rpm=0,
                              concurrent_jobs=0)["api_key"]


@pytest.fixture(scope="module", autouse=True)
def enough_cases_ran() -> Iterator[None]:
    yield
    if not TALLY.every_operation_ran(OPERATIONS):
        return  # the fuzz test was deselected (-k)
    ran, by, summary = TALLY.ran, TALLY.by_operation_and_mode(), TALLY.summary()
    for op in ("POST /api/v1/videos", "POST /api/v1/videos/from-person", "POST /api/v1/upload"):
        assert by[op, "positive"] >= 20, f"{op}: too few positive cases:\n{summary}"
        assert by[op, "negative"] >= 20, f"{op}: too few negative cases:\n{summary}"
    assert ran["POST /api/v1/videos", "positive", 202] >= 5, f"jobs never accepted:\n{summary}"
    assert ran["POST /api/v1/videos/from-person", "positive", 202] >= 3, f"person jobs never accepted:\n{summary}"
    assert ran["GET /api/v1/account", "positive", 200] >= 1, summary


@schema.parametrize()
@settings(deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_genray_conforms(case: schemathesis.Case, emu: RunningEmulator, key: str) -> None:
    response = case.call_and_validate(base_url=emu.vendor_url("genray"), headers={"Authorization": f"Bearer {key}"},
                                      checks=CHECKS, timeout=10)
    TALLY.record(case, response.status_code)


# -- what the fuzzer cannot reach on its own, through the same checks ----------------------------


def advance(emu: RunningEmulator, seconds: float) -> None:
    """Move the clock; the fuzzed jobs all end (and bill) at once, so allow the control call time."""
    with emu.control(timeout=120) as control:
        control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()


@pytest.fixture(scope="module")
def http(emu: RunningEmulator, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.vendor_url("genray"), headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [SpecCheck.for_vendors("genray")]}) as c:
        yield c


@pytest.mark.parametrize(("scenario", "final"), [(None, "completed"), ("fail", "failed"),
                                                  ("output_moderation", "failed")])
def test_polls_of_a_real_job_conform_in_every_state(emu: RunningEmulator, key: str, http: httpx.Client,
                                                    scenario: str | None, final: str) -> None:
    headers = {"X-Emulator-Scenario": scenario} if scenario else {}
    created = http.post("/api/v1/videos", headers=headers, json={"prompt": "a cat", "duration": 4})
    assert created.status_code == 202, created.text
    poll = schema["/api/v1/videos/{job_id}"]["GET"].Case(path_parameters={"job_id": created.json()["id"]})
    seen = []
    for step in (0, 6, 3600):
        advance(emu, step)
        response = poll.call_and_validate(base_url=emu.vendor_url("genray"), checks=CHECKS,
                                          headers={"Authorization": f"Bearer {key}"})
        seen.append(response.json()["status"])
    assert seen == ["queued", "processing", final]


def test_upload_then_file_then_upscale_conform(emu: RunningEmulator, key: str, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    upload = schema["/api/v1/upload"]["POST"].Case(body={"file": PNG_B64}, media_type="application/json")
    uploaded = upload.call_and_validate(base_url=emu.vendor_url("genray"), checks=CHECKS, headers=auth)
    assert uploaded.status_code == 200
    name = uploaded.json()["url"].rsplit("/", 1)[-1]
    served = schema["/v1/files/{filename}"]["GET"].Case(path_parameters={"filename": name})
    assert served.call_and_validate(base_url=emu.vendor_url("genray"), checks=CHECKS).status_code == 200
    job = http.post("/api/v1/videos", json={"prompt": "a cat", "duration": 4}).json()
    advance(emu, 3600)
    up = schema["/api/v1/videos/{video_id}/upscale"]["POST"].Case(path_parameters={"video_id": job["generation_id"]})
    assert up.call_and_validate(base_url=emu.vendor_url("genray"), checks=CHECKS, headers=auth).status_code == 202
