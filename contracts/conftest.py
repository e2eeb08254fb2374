"""The Perseworks contract suite's target, accounts and clients.

    pytest contracts                                   # an in-process emulator, manual clock
    pytest contracts --base-url http://127.0.0.1:8000/perseworks/v1   # a running emulator
    pytest contracts --base-url https://api.perseworks.hk/v1 --api-key sk-... [--allow-spend]

A target is "the emulator" when it runs in this process or its origin answers
`GET /_emulator/health`; then every test gets a fresh account through the control API.
Tests marked `emulator_only` (control API, clock, scenarios) are skipped on any other
target; tests marked `spends` are skipped there too unless `--allow-spend` is given.
Every response the reference client receives is validated against
openapi/perseworks.yaml by `emulator.testing.SpecCheck`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from client import AsyncPerseworks, Perseworks, VideoGeneration
from emulator.core.runtime import Settings
from emulator.testing import SpecCheck, serve_in_thread
from emulator.vendors import NAMES

from ._support import Account, Clock, Control, Finish, MakeClient, Target, probe_emulator

DEFAULT_CREDITS = 10_000  # $100: enough for anything one test does
HTTP_TIMEOUT = 60.0
# How far a test moves an emulator's clock between polls while waiting for a task.
POLL_STEP_SECONDS = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perseworks", "Perseworks contract suite")
    group.addoption("--base-url", default=None,
                    help="Perseworks base URL to test, e.g. https://api.perseworks.hk/v1 or "
                         "http://127.0.0.1:8000/perseworks/v1 (env PERSEWORKS_BASE_URL; "
                         "default: an in-process emulator)")
    group.addoption("--api-key", default=None,
                    help="API key for a target that is not an emulator (env PERSEWORKS_API_KEY)")
    group.addoption("--allow-spend", action="store_true", default=False,
                    help="run tests that spend credits on a live (non-emulator) target")


def pytest_report_header(config: pytest.Config) -> str:
    base_url = config.getoption("--base-url", default=None) or os.environ.get("PERSEWORKS_BASE_URL")
    return f"perseworks contracts: target {base_url or 'in-process emulator'}"


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    base_url = config.getoption("--base-url") or os.environ.get("PERSEWORKS_BASE_URL")
    api_key = config.getoption("--api-key") or os.environ.get("PERSEWORKS_API_KEY")
    allow_spend = bool(config.getoption("--allow-spend"))
    if not base_url:
        with serve_in_thread(Settings(vendors=NAMES, clock="manual")) as running:
            yield Target(running.vendor_url("perseworks"), api_key=None, control_url=running.base_url + "/_emulator",
                         clock_mode="manual", allow_spend=allow_spend, in_process=True)
        return
    base_url = base_url.rstrip("/")
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    health = probe_emulator(origin)
    if health is None:
        yield Target(base_url, api_key=api_key, allow_spend=allow_spend)
    else:
        yield Target(base_url, api_key=api_key, control_url=origin + "/_emulator",
                     clock_mode=health.get("clock", {}).get("mode"), allow_spend=allow_spend)


@pytest.fixture(autouse=True)
def _gate(request: pytest.FixtureRequest, target: Target) -> None:
    """Skip what the target cannot run (see the module docstring)."""
    if request.node.get_closest_marker("emulator_only") and not target.is_emulator:
        pytest.skip(f"needs the emulator's control API, clock or scenarios; target is {target.describe}")
    if request.node.get_closest_marker("spends") and not target.is_emulator and not target.allow_spend:
        pytest.skip("spends credits on a live target; pass --allow-spend to run it")


@pytest.fixture(scope="session")
def _control(target: Target) -> Iterator[Control | None]:
    if target.control_url is None:
        yield None
        return
    control = Control(target.control_url)
    yield control
    control.close()


@pytest.fixture
def control(_control: Control | None) -> Control:
    """The emulator's control API (skips the test on a live target)."""
    if _control is None:
        pytest.skip("needs the emulator's control API")
    return _control


@pytest.fixture
def clock(target: Target, control: Control) -> Clock:
    """The manual clock; skips the test when the target's clock runs by itself."""
    if target.clock_mode != "manual":
        pytest.skip(f"needs a manual clock to observe exact states; target has a {target.clock_mode} clock")
    return Clock(control)


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with $100 of credits on an emulator; the given key on a live target."""
    if _control is not None:
        return _control.create_account(credits=DEFAULT_CREDITS)
    if not target.api_key:
        pytest.skip("a live target needs --api-key (or PERSEWORKS_API_KEY)")
    return Account(api_key=target.api_key)


@pytest.fixture
def spec_check(target: Target) -> SpecCheck:
    """Validates every Perseworks response against openapi/perseworks.yaml."""
    return SpecCheck({urlsplit(target.base_url).path.rstrip("/"): "perseworks"})


def async_hook(check: SpecCheck) -> Callable[[httpx.Response], Any]:
    """SpecCheck as an httpx.AsyncClient response hook (the body must be read async first)."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        check(response)

    return hook


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
