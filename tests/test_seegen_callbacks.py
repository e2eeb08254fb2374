"""SeeGen callbacks over real HTTP: a receiver that fails first sees the documented retry
schedule (1 s, 5 s, 30 s after a non-2xx) under the manual clock, with the queryTask-shaped body
(the upscale-query shape for upscales); every attempt is listed by /_emulator/webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.core import spec as spec_module
from emulator.testing import RunningEmulator, SpecCheck, WebhookReceiver

pytestmark = pytest.mark.emulator_only


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    with WebhookReceiver.running() as rec:
        yield rec, rec.url("/hook")


def received(rec: WebhookReceiver) -> list[dict[str, Any]]:
    """The JSON bodies posted to the hook, oldest first."""
    return [r.json() for r in rec.at("/hook")]


@pytest.fixture
def api(emu: RunningEmulator) -> Iterator[httpx.Client]:
    key = emu.create_account("seegen", credits=100_000)["api_key"]
    with httpx.Client(base_url=emu.vendor_url("seegen"), headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [SpecCheck.for_vendors("seegen")]}) as client:
        yield client


def deliveries(emu: RunningEmulator, ref: str) -> list[dict[str, Any]]:
    with emu.control() as control:
        return [d for d in control.get("/webhooks").json() if d["ref"] == ref]


def advance_to_first_attempt(emu: RunningEmulator, task_id: str) -> None:
    """Move the clock a second at a time until the terminal state's first callback attempt: a
    larger jump would also run the retries that fall due within it (they keep the schedule)."""
    for _ in range(1000):
        emu.advance(1)
        if deliveries(emu, task_id):
            return
    raise AssertionError("no callback was ever attempted")


def test_a_failing_receiver_sees_the_retry_schedule(emu: RunningEmulator, api: httpx.Client,
                                                    receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.clear()
    rec.answer("/hook", 500, 503, 200)
    task_id = api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {"prompt": "p", "duration": "4s"},
                                                 "callBackUrl": url}).json()["taskId"]
    emu.advance(5)
    assert rec.received == []  # nothing before the terminal state
    advance_to_first_attempt(emu, task_id)  # done after 5 s pending + 54 s processing; refused
    [delivery] = deliveries(emu, task_id)
    first = delivery["attempts"][0]["planned_at"]
    assert [a["status"] for a in delivery["attempts"]] == [500]
    emu.advance(1)
    assert [a["status"] for a in deliveries(emu, task_id)[0]["attempts"]] == [500, 503]
    emu.advance(4.5)
    assert len(deliveries(emu, task_id)[0]["attempts"]) == 2  # the next retry is 5 s after the second
    emu.advance(0.5)
    [delivery] = deliveries(emu, task_id)
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200] and delivery["state"] == "delivered"
    assert [a["planned_at"] - first for a in delivery["attempts"]] == [0, 1, 6]
    # "Payload is same format as queryTask response."
    assert received(rec)[0] == received(rec)[-1] == api.get("/jobs/queryTask", params={"taskId": task_id}).json()
    spec_module.load("seegen").validate_schema("Task", received(rec)[0])
    assert received(rec)[0]["status"] == "COMPLETED"


def test_three_retries_then_it_gives_up(emu: RunningEmulator, api: httpx.Client,
                                        receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.clear()
    rec.answer("/hook", 500, 500, 500, 500, 200)
    task_id = api.post("/jobs/createTask", json={"model": "gpt-image-2", "inputs": {"prompt": "p #emulator:fail"},
                                                 "callBackUrl": url}).json()["taskId"]
    advance_to_first_attempt(emu, task_id)
    for delay in (1, 5, 30):
        assert deliveries(emu, task_id)[0]["state"] == "pending"
        emu.advance(delay)
    [delivery] = deliveries(emu, task_id)
    first = delivery["attempts"][0]["planned_at"]
    assert [a["planned_at"] - first for a in delivery["attempts"]] == [0, 1, 6, 36]
    assert [a["status"] for a in delivery["attempts"]] == [500] * 4
    assert delivery["state"] == "failed" and len(received(rec)) == 4
    assert received(rec)[0]["status"] == "FAILED" and received(rec)[0]["error"]["code"] == "GENERATION_FAILED"
    emu.advance(1000)
    assert len(deliveries(emu, task_id)[0]["attempts"]) == 4  # "up to 3 retries"


def test_upscale_callbacks_carry_the_upscale_query_shape(emu: RunningEmulator, api: httpx.Client,
                                                          receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.clear()
    body = {"source": {"type": "url", "url": "https://cdn.example.com/a.mp4#duration=8"},
            "targetResolution": "1080p", "callBackUrl": url}
    task_id = api.post("/upscale/create", json=body).json()["taskId"]
    emu.advance(1000)
    [delivery] = deliveries(emu, task_id)
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 1
    assert received(rec) == [api.get("/upscale/query", params={"taskId": task_id}).json()]
    spec_module.load("seegen").validate_schema("UpscaleTask", received(rec)[0])
    assert received(rec)[0]["status"] == "completed" and received(rec)[0]["creditsConsumed"] == 8 * 25


def test_no_callback_without_a_url_and_none_for_asset_reviews(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p"}}).json()["taskId"]
    asset = api.post("/assets/upload", json={"url": "https://e.com/a.jpg", "type": "IMAGE"}).json()
    emu.advance(1000)
    assert deliveries(emu, task_id) == [] and deliveries(emu, asset["volcAssetId"]) == []
