"""SeeGen callbacks over real HTTP: a receiver that fails first sees the documented retry
schedule (1 s, 5 s, 30 s after a non-2xx) under the manual clock, with the queryTask-shaped body
(the upscale-query shape for upscales); every attempt is listed by /_emulator/webhooks."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core import spec as spec_module
from emulator.testing import RunningEmulator, SpecCheck

pytestmark = pytest.mark.emulator_only


class Receiver:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []

    async def hook(self, request: Request) -> Response:
        self.received.append(orjson.loads(await request.body()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hook", rec.hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield rec, f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    rec.statuses.clear()
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def api(emu: RunningEmulator) -> Iterator[httpx.Client]:
    key = emu.create_account("seegen", credits=100_000)["api_key"]
    with httpx.Client(base_url=emu.vendor_url("seegen"), headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [SpecCheck.for_vendors("seegen")]}) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh_receiver(receiver: tuple[Receiver, str]) -> None:
    receiver[0].received.clear()
    receiver[0].statuses.clear()


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
                                                    receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.received.clear()
    rec.statuses = [500, 503, 200]
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
    assert rec.received[0] == rec.received[-1] == api.get("/jobs/queryTask", params={"taskId": task_id}).json()
    spec_module.load("seegen").validate_schema("Task", rec.received[0])
    assert rec.received[0]["status"] == "COMPLETED"


def test_three_retries_then_it_gives_up(emu: RunningEmulator, api: httpx.Client,
                                        receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.received.clear()
    rec.statuses = [500, 500, 500, 500, 200]
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
    assert delivery["state"] == "failed" and len(rec.received) == 4
    assert rec.received[0]["status"] == "FAILED" and rec.received[0]["error"]["code"] == "GENERATION_FAILED"
    emu.advance(1000)
    assert len(deliveries(emu, task_id)[0]["attempts"]) == 4  # "up to 3 retries"


def test_upscale_callbacks_carry_the_upscale_query_shape(emu: RunningEmulator, api: httpx.Client,
                                                          receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.received.clear()
    body = {"source": {"type": "url", "url": "https://cdn.example.com/a.mp4#duration=8"},
            "targetResolution": "1080p", "callBackUrl": url}
    task_id = api.post("/upscale/create", json=body).json()["taskId"]
    emu.advance(1000)
    [delivery] = deliveries(emu, task_id)
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 1
    assert rec.received == [api.get("/upscale/query", params={"taskId": task_id}).json()]
    spec_module.load("seegen").validate_schema("UpscaleTask", rec.received[0])
    assert rec.received[0]["status"] == "completed" and rec.received[0]["creditsConsumed"] == 8 * 25


def test_no_callback_without_a_url_and_none_for_asset_reviews(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p"}}).json()["taskId"]
    asset = api.post("/assets/upload", json={"url": "https://e.com/a.jpg", "type": "IMAGE"}).json()
    emu.advance(1000)
    assert deliveries(emu, task_id) == [] and deliveries(emu, asset["volcAssetId"]) == []
