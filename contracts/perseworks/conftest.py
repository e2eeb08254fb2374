"""Perseworks' contract suite: its target, accounts and spec-checked clients (the suite-wide
options, gating and control fixtures are in contracts/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from client import AsyncPerseworks, Perseworks, VideoGeneration
from emulator.testing import SpecCheck

from .._support import make_target
from ._support import Account, Control, Finish, MakeClient, Target, async_hook

VENDOR = "perseworks"
DEFAULT_CREDITS = 10_000  # $100: enough for anything one test does
HTTP_TIMEOUT = 60.0
# How far a test moves an emulator's clock between polls while waiting for a task.
POLL_STEP_SECONDS = 5.0




@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, in_process: Callable[[], Any]) -> Target:
    return make_target(request.config, VENDOR, in_process)


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with $100 of credits on an emulator; the given key on a live target."""
    if _control is not None:
        return _control.create_account(credits=DEFAULT_CREDITS)
    if not target.api_key:
        pytest.skip("a live target needs --perseworks-api-key (or PERSEWORKS_API_KEY)")
    return Account(api_key=target.api_key)


@pytest.fixture
def spec_check(target: Target) -> SpecCheck:
    """Validates every Perseworks response against openapi/perseworks.yaml."""
    return SpecCheck({urlsplit(target.base_url).path.rstrip("/"): "perseworks"})


@pytest.fixture
def make_client(target: Target, account: Account, spec_check: SpecCheck) -> Iterator[MakeClient]:
    """`make_client(api_key=None, **options)`: a Perseworks client on the target whose
    responses are spec-checked. No retries unless asked: the suite observes each answer."""
    made: list[tuple[Perseworks, httpx.Client]] = []

    def make(api_key: str | None = None, **options: Any) -> Perseworks:
        http = httpx.Client(timeout=HTTP_TIMEOUT, event_hooks={"response": [spec_check]})
        options.setdefault("max_retries", 0)
        client = Perseworks(api_key=api_key or account.api_key, base_url=target.base_url, http_client=http,
                            **options)
        made.append((client, http))
        return client

    yield make
    for client, http in made:
        client.close()
        http.close()


@pytest.fixture
def client(make_client: MakeClient) -> Perseworks:
    """A client on the test's account."""
    return make_client()


@pytest.fixture
async def aclient(target: Target, account: Account, spec_check: SpecCheck) -> AsyncIterator[AsyncPerseworks]:
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, event_hooks={"response": [async_hook(spec_check)]})
    client = AsyncPerseworks(api_key=account.api_key, base_url=target.base_url, http_client=http, max_retries=0)
    yield client
    await client.close()
    await http.aclose()


@pytest.fixture
def raw(target: Target, account: Account, spec_check: SpecCheck) -> Iterator[httpx.Client]:
    """Plain httpx on the Perseworks base URL with the account's key, spec-checked."""
    with httpx.Client(base_url=target.base_url + "/", timeout=HTTP_TIMEOUT,
                      headers={"Authorization": f"Bearer {account.api_key}"},
                      event_hooks={"response": [spec_check]}) as http:
        yield http


@pytest.fixture
def finish(_control: Control | None) -> Finish:
    """`finish(client, task_id)`: wait for a terminal state by whatever means the target has:
    on an emulator, moving its clock between polls; on a live target, polling for real."""

    def run(client: Perseworks, task_id: str) -> VideoGeneration:
        if _control is not None:
            control = _control
            return client.videos.wait(task_id, timeout=60, poll_interval=0, max_interval=0,
                                      on_poll=lambda _: control.advance(POLL_STEP_SECONDS))
        return client.videos.wait(task_id, timeout=900, poll_interval=2.0, max_interval=15.0)

    return run
