"""The reference client against the target: retries (429 and 5xx, honouring Retry-After;
never other 4xx), connection errors, `wait()` timing out, and configuration from the
environment. Waits are observed through `client._base.sleep`, never slept for real."""

from __future__ import annotations

import socket

import httpx
import pytest

from client import (
    APIConnectionError,
    AsyncPerseworks,
    BadRequestError,
    ContentRejectedError,
    NotFoundError,
    Perseworks,
    PerseworksError,
    RateLimitError,
    UpstreamError,
    WaitTimeout,
    _base,
)
from emulator.testing import SpecCheck

from ._support import Account, Clock, Control, MakeClient, Target

PROMPT = "a paper boat on a river"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every delay the client asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(_base, "sleep", recorded.append)

    async def asleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_base, "asleep", asleep)
    return recorded


@pytest.mark.emulator_only
def test_429_is_retried_after_the_delay_the_server_names(make_client: MakeClient, spec_check: SpecCheck,
                                                         sleeps: list[float]) -> None:
    client = make_client(max_retries=2)
    with pytest.raises(RateLimitError) as caught:
        client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=1,
                             extra_headers={"X-Emulator-Scenario": "rate_limited"})
    assert spec_check.checked == 3  # the first try and two retries
    assert sleeps == [caught.value.retry_after] * 2


@pytest.mark.emulator_only
def test_a_retry_after_the_window_moves_succeeds(control: Control, clock: Clock, make_client: MakeClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    account = control.create_account(credits=100, rate_limit_rpm=1)
    waited: list[float] = []

    def sleep_on_the_emulator_clock(seconds: float) -> None:
        waited.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(_base, "sleep", sleep_on_the_emulator_clock)
    client = make_client(account.api_key, max_retries=1)
    client.models.list()
    assert client.models.list().data  # 429, waits the named delay, then succeeds
    assert len(waited) == 1 and 0 < waited[0] <= _base.MAX_RETRY_AFTER


@pytest.mark.emulator_only
def test_5xx_is_retried_with_exponential_backoff(make_client: MakeClient, spec_check: SpecCheck,
                                                 sleeps: list[float]) -> None:
    client = make_client(max_retries=3)
    with pytest.raises(UpstreamError):
        client.chat.completions.create(model="seed-2.0-mini", messages=[{"role": "user", "content": "hi"}],
                                       extra_headers={"X-Emulator-Scenario": "upstream_error"})
    assert spec_check.checked == 4
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps) and all(0 < s <= _base.MAX_RETRY_DELAY for s in sleeps)


@pytest.mark.emulator_only
def test_other_4xx_are_never_retried(make_client: MakeClient, spec_check: SpecCheck, sleeps: list[float]) -> None:
    client = make_client(max_retries=5)
    with pytest.raises(BadRequestError):
        client.videos.create(model="seedance-2.0-mini", prompt=PROMPT, resolution="4k", duration_sec=1)
    with pytest.raises(NotFoundError):
        client.videos.retrieve("vid_missing")
    with pytest.raises(ContentRejectedError):
        client.videos.create(model="seedance-2.0", prompt=f"{PROMPT} #emulator:moderation_reject",
                             resolution="720p", duration_sec=1)
    assert (spec_check.checked, sleeps) == (3, [])


def test_a_connection_error_is_retried_then_raised(sleeps: list[float]) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Perseworks(api_key="sk-x", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2) as client, \
            pytest.raises(APIConnectionError):
        client.models.list()
    assert len(sleeps) == 2


@pytest.mark.emulator_only
def test_wait_raises_wait_timeout_with_the_last_state(client: Perseworks) -> None:
    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=1,
                                extra_headers={"X-Emulator-Scenario": "slow"})
    with pytest.raises(WaitTimeout) as caught:
        client.videos.wait(task.id, timeout=0.05, poll_interval=0.01, max_interval=0.02)
    assert caught.value.task_id == task.id
    assert caught.value.last.status in ("queued", "running")


@pytest.mark.emulator_only
async def test_async_wait_raises_wait_timeout(aclient: AsyncPerseworks) -> None:
    task = await aclient.videos.create(model="seedance-2.0", prompt=f"{PROMPT} #emulator:slow", resolution="720p",
                                       duration_sec=1)
    with pytest.raises(WaitTimeout):
        await aclient.videos.wait(task.id, timeout=0.05, poll_interval=0.01, max_interval=0.02)


def test_key_and_base_url_come_from_the_environment(target: Target, account: Account, spec_check: SpecCheck,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSEWORKS_API_KEY", account.api_key)
    monkeypatch.setenv("PERSEWORKS_BASE_URL", target.base_url)
    with httpx.Client(event_hooks={"response": [spec_check]}) as http, Perseworks(http_client=http) as client:
        assert (client.api_key, client.base_url) == (account.api_key, target.base_url)
        assert client.models.list().data
    monkeypatch.delenv("PERSEWORKS_API_KEY")
    with pytest.raises(PerseworksError):
        Perseworks()
    monkeypatch.delenv("PERSEWORKS_BASE_URL")
    with Perseworks(api_key="sk-x") as default:
        assert default.base_url == "https://api.perseworks.hk/v1"
