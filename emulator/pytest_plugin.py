"""pytest fixtures for testing an application against the emulator (registered through the
`pytest11` entry point, so installing seedance-emulator is all it takes).

    def test_my_app(seedance_account):                      # a fresh account per test
        app = MyApp(base_url=seedance_account.base_url, api_key=seedance_account.api_key)
        ...

    @pytest.mark.seedance(vendor="genray", plan="standard", credits=500, scenario="fail")
    def test_failure_path(seedance_account, seedance_clock, seedance_webhooks):
        ...
        seedance_clock.advance(120)                         # move emulated time; due work runs
        assert seedance_webhooks()[0]["attempts"]

Fixtures:
- `seedance_server`: one real server on a free loopback port for the session (every vendor,
  manual clock): for code that needs a URL. `.base_url`, `.vendor_url(vendor)`.
- `seedance_app`: the in-process emulator for the session, without a socket; `.client(vendor,
  api_key)` is an httpx-compatible client that calls the app directly (fastest).
- `seedance_account`: a fresh account for the test on `seedance_server`; vendor, credits, plan and
  scenario from the `seedance` mark (defaults: the `seedance_vendor` ini option, else perseworks).
  `.api_key`, `.base_url`, `.headers` (auth and the scenario), `.client()` (an httpx.Client),
  `.balance()`.
- `seedance_clock`: the server's manual clock: `.now()`, `.advance(seconds)`.
- `seedance_webhooks`: `seedance_webhooks(account_only=True)` → the webhook deliveries with
  every attempt, as `/_emulator/webhooks` shows them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

MARK = "seedance"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("seedance_vendor", "default vendor of the seedance_account fixture", default="perseworks")
    parser.addini("seedance_seed", "seed for the emulator's ids and data (empty: random)", default="")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Make `pytest --pyargs contracts --vendor genray ...` work, e.g. from an installed wheel.

    pytest finds the conftests that may add options (the contract suite's `--vendor`,
    `--base-url`, ...) by path before it resolves `--pyargs` names, so those options would be
    unknown. For the `contracts` package only, the early look-up is given its folder instead; the
    arguments pytest then parses for real are left as typed."""
    namespace = early_config.known_args_namespace
    if not getattr(namespace, "pyargs", False):
        return
    located = []
    for arg in namespace.file_or_dir:
        name, sep, rest = str(arg).partition("::")
        path = _contracts_path(name)
        located.append(f"{path}{sep}{rest}" if path else arg)
    namespace.file_or_dir = located


def _contracts_path(name: str) -> str | None:
    """The file or folder of `contracts` or `contracts.<module>` (this project's contract suite)."""
    if name.split(".")[0] != "contracts":
        return None
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if found is None or not found.origin:
        return None
    origin = Path(found.origin)
    return str(origin.parent if origin.name == "__init__.py" else origin)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARK}(vendor=None, credits=None, plan=None, scenario=None, **account): "
                   "the account the seedance_account fixture makes for this test")


@dataclass
class SeedanceAccount:
    vendor: str
    api_key: str
    account_id: str
    key_id: str
    base_url: str
    control_url: str
    scenario: str | None = None
    created: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The auth header every vendor documents (Bearer), plus the scenario when one was asked for."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.scenario:
            headers["X-Emulator-Scenario"] = self.scenario
        return headers

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx.Client on the vendor's base URL with this account's headers."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)

    def balance(self) -> dict[str, Any]:
        """Credits, held and available, and the ledger entries."""
        response = httpx.get(f"{self.control_url}/accounts/{self.account_id}")
        response.raise_for_status()
        return response.json()


class SeedanceClock:
    def __init__(self, control_url: str):
        self._control_url = control_url

    def now(self) -> float:
        return float(httpx.get(f"{self._control_url}/clock").json()["now"])

    def advance(self, seconds: float) -> float:
        """Move emulated time; returns once every transition and webhook attempt due has run."""
        response = httpx.post(f"{self._control_url}/clock/advance", json={"seconds": seconds}, timeout=60)
        response.raise_for_status()
        return float(response.json()["now"])


class SeedanceApp:
    """The emulator in this process, without a socket."""

    def __init__(self, app: Any):
        self.app = app
        self.emulator = app.emulator

    def client(self, vendor: str | None = None, api_key: str | None = None, **kwargs: Any) -> httpx.Client:
        from starlette.testclient import TestClient

        from .testing import vendor_mount

        base = "http://seedance.local" + (vendor_mount(vendor) if vendor else "")
        client = TestClient(self.app, base_url=base, **kwargs)
        if api_key:
            client.headers["Authorization"] = f"Bearer {api_key}"
        return client

    def create_account(self, vendor: str, **body: Any) -> dict[str, Any]:
        return self.emulator.create_account(vendor, body)


def _settings(config: pytest.Config) -> Any:
    from .core.runtime import Settings
    from .vendors import NAMES

    seed = str(config.getini("seedance_seed")).strip()
    return Settings(vendors=NAMES, clock="manual", seed=int(seed) if seed else None)


@pytest.fixture(scope="session")
def seedance_server(pytestconfig: pytest.Config) -> Iterator[Any]:
    from .testing import serve_in_thread

    with serve_in_thread(_settings(pytestconfig)) as running:
        yield running


@pytest.fixture(scope="session")
def seedance_app(pytestconfig: pytest.Config) -> Iterator[SeedanceApp]:
    from .app import create_app

    yield SeedanceApp(create_app(_settings(pytestconfig)))


@pytest.fixture
def seedance_account(request: pytest.FixtureRequest, seedance_server: Any) -> SeedanceAccount:
    mark = request.node.get_closest_marker(MARK)
    options = dict(mark.kwargs) if mark else {}
    vendor = options.pop("vendor", None) or str(request.config.getini("seedance_vendor"))
    scenario = options.pop("scenario", None)
    body = {key: value for key, value in options.items() if value is not None}
    body.setdefault("credits", 10_000)
    created = seedance_server.create_account(vendor, **body)
    return SeedanceAccount(vendor=vendor, api_key=created["api_key"], account_id=created["account_id"],
                           key_id=created["key_id"], base_url=seedance_server.vendor_url(vendor),
                           control_url=seedance_server.base_url + "/_emulator", scenario=scenario, created=created)


@pytest.fixture
def seedance_clock(seedance_server: Any) -> SeedanceClock:
    return SeedanceClock(seedance_server.base_url + "/_emulator")


@pytest.fixture
def seedance_webhooks(request: pytest.FixtureRequest, seedance_server: Any) -> Any:
    control_url = seedance_server.base_url + "/_emulator"

    def deliveries(account_only: bool = True) -> list[dict[str, Any]]:
        everything = httpx.get(f"{control_url}/webhooks").json()
        if not account_only or "seedance_account" not in request.fixturenames:
            return everything
        account: SeedanceAccount = request.getfixturevalue("seedance_account")
        return [d for d in everything if d["account_id"] == account.account_id]

    return deliveries
