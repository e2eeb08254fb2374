"""Webhook deliveries over real HTTP: retry schedule in emulated time, every attempt recorded."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core.clock import Clock
from emulator.core.outbox import Outbox, callback_url_allowed
from emulator.core.scheduler import Scheduler


class Receiver:
    """A webhook receiver that answers with the statuses it is told to, in order."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.hang = False

    async def hook(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        if self.hang:
            await asyncio.sleep(2)
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
    server.should_exit = True
    thread.join(5)


async def test_retries_follow_the_schedule_until_a_2xx(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.received.clear()
    rec.statuses = [500, 503, 200]
    clock = Clock("manual", start=1_000)
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, scheduler)
    delivery = outbox.enqueue(vendor="v", account_id="a", ref="t1", event="task.done", url=url,
                              body=b'{"ok": true}', headers={"x-sig": "abc"}, retry_delays=(1, 5, 30),
                              timeout=5)
    await scheduler.run_due()
    assert [a.status for a in delivery.attempts] == [500]
    clock.advance(0.5)
    await scheduler.run_due()
    assert len(delivery.attempts) == 1  # the first retry is 1 s after the first attempt
    clock.advance(0.5)
    await scheduler.run_due()
    assert [a.status for a in delivery.attempts] == [500, 503]
    clock.advance(10)
    await scheduler.run_due()
    assert [a.status for a in delivery.attempts] == [500, 503, 200]
    assert [a.planned_at for a in delivery.attempts] == [1_000, 1_001, 1_006]
    assert delivery.state == "delivered"
    body, headers = rec.received[-1]
    assert body == b'{"ok": true}' and headers["x-sig"] == "abc"
    assert headers["content-type"] == "application/json"
    await outbox.close()


async def test_gives_up_after_the_last_retry_and_records_timeouts(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.statuses = [500, 500]
    clock = Clock("manual", start=0)
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, scheduler)
    delivery = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e", url=url, body=b"{}",
                              headers={}, retry_delays=(2,), timeout=5)
    await scheduler.run_due()
    clock.advance(2)
    await scheduler.run_due()
    assert [a.status for a in delivery.attempts] == [500, 500] and delivery.state == "failed"
    rec.hang = True
    try:
        slow = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e", url=url, body=b"{}",
                              headers={}, retry_delays=(), timeout=0.2)
        await scheduler.run_due()
    finally:
        rec.hang = False
    assert slow.attempts[0].error == "timeout" and slow.state == "failed"
    unreachable = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e",
                                 url="http://127.0.0.1:9/nothing", body=b"{}", headers={},
                                 retry_delays=(), timeout=1)
    await scheduler.run_due()
    assert unreachable.attempts[0].status is None and "ConnectError" in (unreachable.attempts[0].error or "")
    await outbox.close()


def test_callback_url_policy() -> None:
    assert callback_url_allowed("https://example.com/h", https_only=True, allow_http_loopback=False)
    assert not callback_url_allowed("http://example.com/h", https_only=True, allow_http_loopback=True)
    assert callback_url_allowed("http://127.0.0.1:9/h", https_only=True, allow_http_loopback=True)
    assert not callback_url_allowed("http://127.0.0.1:9/h", https_only=True, allow_http_loopback=False)
    assert not callback_url_allowed("ftp://example.com/h", https_only=False, allow_http_loopback=True)
