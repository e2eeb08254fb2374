"""Webhook deliveries over real HTTP: retry schedule in emulated time, every attempt recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.core.clock import Clock
from emulator.core.outbox import Outbox, callback_url_allowed
from emulator.core.scheduler import Scheduler
from emulator.testing import WebhookReceiver


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver.running() as receiver:
        yield receiver


@pytest.fixture
def receiver(hooks: WebhookReceiver) -> tuple[WebhookReceiver, str]:
    hooks.clear()
    return hooks, hooks.url("/hook")


async def test_retries_follow_the_schedule_until_a_2xx(receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.answer("/hook", 500, 503, 200)
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
    last = rec.at("/hook")[-1]
    assert last.body == b'{"ok": true}' and last.headers["x-sig"] == "abc"
    assert last.headers["content-type"] == "application/json"
    assert len(rec.at("/hook")) == 3
    await outbox.close()


async def test_gives_up_after_the_last_retry_and_records_timeouts(receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.answer("/hook", 500, 500)
    clock = Clock("manual", start=0)
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, scheduler)
    delivery = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e", url=url, body=b"{}",
                              headers={}, retry_delays=(2,), timeout=5)
    await scheduler.run_due()
    clock.advance(2)
    await scheduler.run_due()
    assert [a.status for a in delivery.attempts] == [500, 500] and delivery.state == "failed"
    rec.delay_seconds = 2
    try:
        slow = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e", url=url, body=b"{}",
                              headers={}, retry_delays=(), timeout=0.2)
        await scheduler.run_due()
    finally:
        rec.delay_seconds = 0
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


async def test_the_first_attempt_keeps_the_events_time_when_caught_up_late(
        receiver: tuple[WebhookReceiver, str]) -> None:
    rec, url = receiver
    rec.answer("/hook", 500, 200)
    clock = Clock("manual", start=100)
    scheduler = Scheduler(clock)
    outbox = Outbox(clock, scheduler)
    clock.advance(50)  # the event happened at 110, but is only noticed at 150
    delivery = outbox.enqueue(vendor="v", account_id="a", ref=None, event="e", url=url, body=b"{}",
                              headers={}, retry_delays=(5,), timeout=5, at=110)
    await scheduler.run_due()
    assert [(a.planned_at, a.status) for a in delivery.attempts] == [(110, 500), (115, 200)]
    await outbox.close()
