"""SeeGen's contract suite: its target, accounts, and spec-checked clients (the suite-wide
options, gating and control fixtures are in contracts/conftest.py).

On an emulator every test gets a fresh account; `finish*` fixtures move the manual clock
between polls. On a live target (`--seegen-base-url`, `--seegen-api-key`) they poll for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from client.seegen import Asset, AsyncSeeGen, SeeGen, Task, UpscaleTask
from emulator.testing import SpecCheck

from .._support import Account, Control, Target, async_hook, make_target

VENDOR = "seegen"
DEFAULT_CREDITS = 100_000
HTTP_TIMEOUT = 60.0
POLL_STEP_SECONDS = 30.0  # how far the manual clock moves between polls while waiting


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, in_process: Callable[[], Any]) -> Target:
    return make_target(request.config, VENDOR, in_process)


@pytest.fixture
def make_account(target: Target, _control: Control | None) -> Callable[..., Account]:
    """`make_account(**body)`: another fresh account on an emulator (credits, concurrency_limit…)."""

    def make(**body: Any) -> Account:
        if _control is None:
            pytest.skip("needs the emulator's control API to create accounts")
        body.setdefault("credits", DEFAULT_CREDITS)
        return _control.create_account(**body)

    return make


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with 100 000 credits on an emulator; the given key on a live target."""
    if _control is not None:
        return _control.create_account(credits=DEFAULT_CREDITS)
    if not target.api_key:
        pytest.skip("a live target needs --seegen-api-key (or SEEGEN_API_KEY)")
    return Account(api_key=target.api_key)


@pytest.fixture
def spec_check(target: Target) -> SpecCheck:
    """Validates every SeeGen response against openapi/seegen.yaml."""
    return SpecCheck({urlsplit(target.base_url).path.rstrip("/"): VENDOR})


@pytest.fixture
def make_client(target: Target, account: Account, spec_check: SpecCheck) -> Iterator[Callable[..., SeeGen]]:
    """`make_client(api_key=None, **options)`: a spec-checked client; no retries unless asked."""
    made: list[tuple[SeeGen, httpx.Client]] = []

    def make(api_key: str | None = None, **options: Any) -> SeeGen:
        http = httpx.Client(timeout=HTTP_TIMEOUT, event_hooks={"response": [spec_check]})
        options.setdefault("max_retries", 0)
        client = SeeGen(api_key=api_key or account.api_key, base_url=target.base_url, http_client=http, **options)
        made.append((client, http))
        return client

    yield make
    for client, http in made:
        client.close()
        http.close()


@pytest.fixture
def client(make_client: Callable[..., SeeGen]) -> SeeGen:
    return make_client()


@pytest.fixture
async def aclient(target: Target, account: Account, spec_check: SpecCheck) -> AsyncIterator[AsyncSeeGen]:
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, event_hooks={"response": [async_hook(spec_check)]})
    client = AsyncSeeGen(api_key=account.api_key, base_url=target.base_url, http_client=http, max_retries=0)
    yield client
    await client.close()
    await http.aclose()


@pytest.fixture
def raw(target: Target, account: Account, spec_check: SpecCheck) -> Iterator[httpx.Client]:
    """Plain httpx on the SeeGen base URL with the account's key, spec-checked."""
    with httpx.Client(base_url=target.base_url + "/", timeout=HTTP_TIMEOUT,
                      headers={"Authorization": f"Bearer {account.api_key}"},
                      event_hooks={"response": [spec_check]}) as http:
        yield http


def _waiter(control: Control | None) -> dict[str, Any]:
    if control is not None:
        return {"timeout": 60, "poll_interval": 0, "max_interval": 0,
                "on_poll": lambda _: control.advance(POLL_STEP_SECONDS)}
    return {"timeout": 1800, "poll_interval": 3.0, "max_interval": 30.0}


@pytest.fixture
def finish(_control: Control | None) -> Callable[[SeeGen, str], Task]:
    """`finish(client, task_id)`: wait for COMPLETED / FAILED (moving an emulator's clock)."""
    return lambda client, task_id: client.jobs.wait(task_id, **_waiter(_control))


@pytest.fixture
def finish_upscale(_control: Control | None) -> Callable[[SeeGen, str], UpscaleTask]:
    return lambda client, task_id: client.upscale.wait(task_id, **_waiter(_control))


@pytest.fixture
def finish_asset(_control: Control | None) -> Callable[[SeeGen, int | str], Asset]:
    return lambda client, asset_id: client.assets.wait(asset_id, **_waiter(_control))
