"""A contract run against a live vendor waits out 429s (a plan's rate limit) instead of failing,
and never sends a request again after any other answer (a 5xx submit might have been charged)."""

from __future__ import annotations

import httpx
import pytest

from contracts import _support
from contracts._support import AsyncPacedTransport, PacedTransport, Target, async_transport, transport
from emulator.testing import WebhookReceiver


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> WebhookReceiver:
    monkeypatch.setattr(_support, "LIVE_RATE_LIMIT_WAIT", 0.0)
    with WebhookReceiver.running() as hooks:
        yield hooks


def test_a_live_target_waits_out_429s_and_the_test_sees_the_answer_after(receiver: WebhookReceiver) -> None:
    receiver.answer("/limited", 429, 429)
    with httpx.Client(transport=PacedTransport()) as http:
        response = http.post(receiver.url("/limited"), json={"n": 1})
    assert response.status_code == 200
    assert [r.json() for r in receiver.at("/limited")] == [{"n": 1}] * 3


def test_a_5xx_is_never_sent_again(receiver: WebhookReceiver) -> None:
    receiver.answer("/failing", 500)
    with httpx.Client(transport=PacedTransport()) as http:
        assert http.post(receiver.url("/failing"), json={}).status_code == 500
    assert len(receiver.at("/failing")) == 1


def test_pacing_gives_up_after_its_retries(receiver: WebhookReceiver) -> None:
    receiver.answer("/always", *[429] * (_support.LIVE_RATE_LIMIT_RETRIES + 1))
    with httpx.Client(transport=PacedTransport()) as http:
        assert http.get(receiver.url("/always")).status_code == 429
    assert len(receiver.at("/always")) == _support.LIVE_RATE_LIMIT_RETRIES + 1


async def test_the_async_clients_are_paced_too(receiver: WebhookReceiver) -> None:
    receiver.answer("/limited", 429)
    async with httpx.AsyncClient(transport=AsyncPacedTransport()) as http:
        assert (await http.post(receiver.url("/limited"), json={})).status_code == 200
    assert len(receiver.at("/limited")) == 2


def test_only_live_targets_are_paced() -> None:
    """On an emulator the suite's 429 tests must see the first 429."""
    emulator = Target("genray", "http://127.0.0.1:1", control_url="http://127.0.0.1:1/_emulator")
    live = Target("genray", "https://genray.ai")
    assert transport(emulator) is None and async_transport(emulator) is None
    assert isinstance(transport(live), PacedTransport) and isinstance(async_transport(live), AsyncPacedTransport)
