"""What every vendor's contract suite shares: the target under test (an in-process
emulator, a running emulator, or the live vendor), and thin wrappers over the emulator's
control API (accounts, ledger, clock).

Each vendor's suite lives in `contracts/<vendor>/`, with the document's facts as data in its
own `_support.py` (transcribed from ../shared/vendor-docs, never from the emulator's code),
and its `conftest.py` made thin by `vendor_fixtures` (the target and the spec-checked clients,
the same for every vendor), `fresh_account` and `wait_options`.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import pytest

from client._base import AsyncAPIClient, SyncAPIClient, retry_after_seconds
from emulator.core import spec as spec_module
from emulator.testing import RunningEmulator, SpecCheck

HTTP_TIMEOUT = 60.0  # seconds, for one request of a suite's clients
# The in-process emulator, once started: plugins read its request journal (contracts.coverage).
IN_PROCESS = pytest.StashKey[RunningEmulator]()

# -- the target -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a vendor's suite points: `base_url` is the vendor's documented base URL
    (or where the emulator mounts it).

    `control_url` is set when the target is an emulator (in-process, or a server whose
    `/_emulator/health` answers); then tests may use accounts, the ledger, the clock and
    scenarios. `clock_mode` is the emulator's clock ("manual" or "real").
    """

    vendor: str
    base_url: str
    api_key: str | None = None
    control_url: str | None = None
    clock_mode: str | None = None
    in_process: bool = False

    @property
    def is_emulator(self) -> bool:
        return self.control_url is not None

    @property
    def describe(self) -> str:
        kind = "in-process emulator" if self.in_process else "emulator" if self.is_emulator else "live"
        clock = f", {self.clock_mode} clock" if self.clock_mode else ""
        return f"{self.base_url} ({kind}{clock})"


def probe_emulator(origin: str) -> dict[str, Any] | None:
    """The emulator's health document if `origin` is an emulator, else None."""
    try:
        response = httpx.get(f"{origin}/_emulator/health", timeout=5.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("status") == "ok" else None


# -- spending on a live target --------------------------------------------------------

# Each vendor's estimates are in the unit its documents bill in: credits, except PowerTokens,
# whose documents give no price at all ("pay-per-use"); they state Ark's billing quantity, the
# output tokens of `usage.completion_tokens`, so its estimates (and its cap) count those.
SPEND_UNITS: dict[str, str] = {"powertokens": "tokens"}


def spend_unit(vendor: str) -> str:
    return SPEND_UNITS.get(vendor, "credits")


def spend_estimate(item: pytest.Item) -> float | None:
    """What a test marked `spends(credits=...)` may spend on a live target, from the document's
    prices: a number, or a function of the test's parameters (by name) for a parametrized test.
    None when the test is not marked; ValueError when the marker gives no usable estimate."""
    marker = item.get_closest_marker("spends")
    if marker is None:
        return None
    if marker.args or set(marker.kwargs) != {"credits"}:
        raise ValueError("mark it `@pytest.mark.spends(credits=<estimate from the document's prices>)`")
    credits = marker.kwargs["credits"]
    if callable(credits):
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        wanted = inspect.signature(credits).parameters
        missing = [name for name in wanted if name not in params]
        if missing:
            raise ValueError(f"the estimate asks for {', '.join(missing)}, which the test is not parametrized by")
        credits = credits(**{name: params[name] for name in wanted})
    if isinstance(credits, bool) or not isinstance(credits, int | float) or credits < 0:
        raise ValueError(f"the estimate must be a number of credits ≥ 0, not {credits!r}")
    return float(credits)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


@dataclass
class SpendLedger:
    """The run's spending, estimated from the documents: `cap` is `--allow-spend` (None: nothing
    may be spent on a live target), applied to each vendor in its own unit. A test's estimate
    counts once the test starts, whatever its outcome; on an emulator spending is free and only
    tallied."""

    cap: float | None
    live: dict[str, bool] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)
    tests: dict[str, float] = field(default_factory=dict)
    skipped_for_budget: list[str] = field(default_factory=list)

    def saw(self, vendor: str, *, live: bool) -> None:
        self.live[vendor] = live
        self.spent.setdefault(vendor, 0.0)

    def admit(self, nodeid: str, vendor: str, estimate: float, *, live: bool) -> str | None:
        """Count the test's estimate and return None, or return why it may not run."""
        self.saw(vendor, live=live)
        if live and self.cap is None:
            return "spends credits on a live target; pass --allow-spend N (credits) to run it"
        left = (self.cap or 0.0) - self.spent[vendor]
        if live and estimate > left + 1e-9:
            self.skipped_for_budget.append(nodeid)
            unit = spend_unit(vendor)
            return (f"would exceed --allow-spend budget ({_number(estimate)} {unit} estimated, "
                    f"{_number(max(left, 0.0))} of {_number(self.cap or 0.0)} left for {vendor})")
        self.spent[vendor] += estimate
        self.tests[nodeid] = estimate
        return None

    def report(self) -> dict[str, Any]:
        return {"cap": self.cap, "live": dict(self.live),
                "spent": {vendor: _number(credits) for vendor, credits in self.spent.items()},
                "units": {vendor: spend_unit(vendor) for vendor in self.spent},
                "tests": {nodeid: _number(credits) for nodeid, credits in self.tests.items()},
                "skipped_for_budget": list(self.skipped_for_budget)}

    def summary(self) -> list[str]:
        lines = []
        for vendor, spent in self.spent.items():
            unit = spend_unit(vendor)
            if not self.live[vendor]:
                lines.append(f"{vendor} (emulator): spent ≈ {_number(spent)} {unit}, free on an emulator (no cap)")
            elif self.cap is None:
                lines.append(f"{vendor} (live): spent ≈ 0 {unit}; no --allow-spend, so no test that spends ran")
            else:
                lines.append(f"{vendor} (live): spent ≈ {_number(spent)} {unit} of cap {_number(self.cap)}")
        if self.skipped_for_budget:
            lines.append(f"{len(self.skipped_for_budget)} test(s) skipped: they would exceed the --allow-spend budget")
        return lines


# -- the control API ------------------------------------------------------------------


class Control:
    """`/_emulator/...` on the target (accounts, keys, top-ups, clock)."""

    def __init__(self, control_url: str, vendor: str) -> None:
        self.http = httpx.Client(base_url=control_url, timeout=30.0)
        self.vendor = vendor

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def create_account(self, **body: Any) -> Account:
        """A fresh account of this suite's vendor (`credits`, `plan`, scopes, …); `created` keeps
        the whole answer (e.g. Genray's `webhook_secret`)."""
        created = self._call("POST", "/accounts", {"vendor": self.vendor, **body})
        return Account(api_key=created["api_key"], id=created["account_id"], key_id=created["key_id"], control=self,
                       created=created)

    def describe(self, account_id: str) -> dict[str, Any]:
        return self._call("GET", f"/accounts/{account_id}")

    def create_key(self, account: Account, **scope: Any) -> dict[str, Any]:
        """Another key on `account` (`allowed_models`, `allowed_ips`, `rate_limit_rpm`)."""
        return self._call("POST", f"/accounts/{account.id}/keys", scope)

    def revoke_key(self, account: Account, key_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/accounts/{account.id}/keys/{key_id}")

    def top_up(self, account: Account, **body: Any) -> dict[str, Any]:
        """`usd=` (a recharge, with the vendor's bonus rules) or `credits=` (a plain grant)."""
        return self._call("POST", f"/accounts/{account.id}/topups", body)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock/advance", {"seconds": seconds})

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")


class Clock:
    """The emulator's manual clock: time moves only when a test says so."""

    def __init__(self, control: Control) -> None:
        self._control = control

    def advance(self, seconds: float) -> None:
        self._control.advance(seconds)


@dataclass(frozen=True)
class Balance:
    credits: float
    held: float
    available: float


@dataclass
class Account:
    """An account: its key, and on an emulator its id and the control API.

    On a live target the ledger cannot be observed: `unchanged()` and `expect()` then
    check nothing, and the test asserts only what the API itself shows.
    """

    api_key: str
    id: str | None = None
    key_id: str | None = None
    control: Control | None = field(default=None, repr=False)
    created: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def observable(self) -> bool:
        return self.control is not None and self.id is not None

    def _describe(self) -> dict[str, Any]:
        assert self.control is not None and self.id is not None, "needs the emulator's control API"
        return self.control.describe(self.id)

    def balance(self) -> Balance:
        state = self._describe()
        return Balance(state["credits"], state["held"], state["available"])

    def ledger(self, ref: str | None = None) -> list[tuple[str, float]]:
        """(kind, amount) of each ledger entry, oldest first; only `ref`'s if given."""
        return [(e["kind"], e["amount"]) for e in self._describe()["ledger"] if ref is None or e["ref"] == ref]

    def entries(self) -> list[dict[str, Any]]:
        return list(self._describe()["ledger"])

    @contextmanager
    def unchanged(self) -> Iterator[None]:
        """Assert that the block moves no credits (no ledger entry, same balance)."""
        if not self.observable:
            yield
            return
        before = self._describe()
        yield
        after = self._describe()
        assert after["ledger"] == before["ledger"], f"ledger moved: {after['ledger'][len(before['ledger']):]}"
        assert (after["credits"], after["held"]) == (before["credits"], before["held"])

    def expect(self, ref: str, entries: list[tuple[str, float]]) -> None:
        """Assert `ref`'s ledger entries are exactly `entries` (when observable)."""
        if self.observable:
            assert self.ledger(ref) == entries


def option_names(vendor: str) -> tuple[str, str]:
    return f"--{vendor}-base-url", f"--{vendor}-api-key"


def env_names(vendor: str) -> tuple[str, str]:
    return f"{vendor.upper()}_BASE_URL", f"{vendor.upper()}_API_KEY"


def make_target(config: pytest.Config, vendor: str, in_process: Callable[[], Any]) -> Target:
    """The target of `vendor`'s suite, from `--<vendor>-base-url` / `--<vendor>-api-key`, else
    `--base-url` / `--api-key` when `--vendor` names only this vendor, else the environment
    (`<VENDOR>_BASE_URL` / `<VENDOR>_API_KEY`); with no URL at all, the in-process emulator
    (`in_process()` returns the running server, started once per session)."""
    url_option, key_option = option_names(vendor)
    url_env, key_env = env_names(vendor)
    only_this = (config.getoption("--vendor") or []) == [vendor]
    base_url = (config.getoption(url_option) or (only_this and config.getoption("--base-url"))
                or os.environ.get(url_env))
    api_key = (config.getoption(key_option) or (only_this and config.getoption("--api-key"))
               or os.environ.get(key_env))
    if not base_url:
        running = in_process()
        return Target(vendor, running.vendor_url(vendor), api_key=None, control_url=running.base_url + "/_emulator",
                      clock_mode="manual", in_process=True)
    base_url = spec_module.load(vendor).server_url(base_url)  # Genray's documented .../api/v1 too
    parts = urlsplit(base_url)
    health = probe_emulator(f"{parts.scheme}://{parts.netloc}")
    if health is None:
        return Target(vendor, base_url, api_key=api_key or None)
    return Target(vendor, base_url, api_key=api_key or None, control_url=f"{parts.scheme}://{parts.netloc}/_emulator",
                  clock_mode=health.get("clock", {}).get("mode"))


def async_hook(check: Callable[[httpx.Response], None]) -> Callable[[httpx.Response], Any]:
    """A sync response check (e.g. SpecCheck) as an httpx.AsyncClient hook: the body is read first."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        check(response)

    return hook


# -- the suites' clients --------------------------------------------------------------


class CountingOnly(SpecCheck):
    """SpecCheck with the checking left out (`--no-spec-check`): the drift checker judges each
    response instead, so a finding is reported rather than failing the test that met it. Responses
    are still counted, as some tests count the tries a client made by them."""

    def __call__(self, response: httpx.Response) -> None:
        located = self._locate(urlsplit(str(response.request.url)).path)
        if located is not None and located[0].match(response.request.method, located[1]) is not None:
            self.checked += 1


def bearer(api_key: str) -> dict[str, str]:
    """`Authorization: Bearer <key>`."""
    return {"Authorization": f"Bearer {api_key}"}


def raw_key(api_key: str) -> dict[str, str]:
    """`Authorization: <key>`, the key alone (PowerTokens)."""
    return {"Authorization": api_key}


def fresh_account(target: Target, control: Control | None, **body: Any) -> Account:
    """On an emulator, a fresh account made with `body` (credits, plan, …); on a live target, the
    given key (the test is skipped without one)."""
    if control is not None:
        return control.create_account(**body)
    if not target.api_key:
        pytest.skip(f"a live target needs {option_names(target.vendor)[1]} (or {env_names(target.vendor)[1]})")
    return Account(api_key=target.api_key)


def wait_options(control: Control | None, step_seconds: float, *, timeout: float, poll_interval: float,
                 max_interval: float) -> dict[str, Any]:
    """The keyword arguments of a client's `wait(...)`: on an emulator, poll at once and move its
    clock `step_seconds` after each poll (within 60 s of waiting); live, the given real timings."""
    if control is not None:
        return {"timeout": 60, "poll_interval": 0, "max_interval": 0,
                "on_poll": lambda _: control.advance(step_seconds)}
    return {"timeout": timeout, "poll_interval": poll_interval, "max_interval": max_interval}


LIVE_RATE_LIMIT_RETRIES = 5  # 429s a live run waits out per request before it lets the test see one
LIVE_RATE_LIMIT_WAIT = 60.0  # seconds to wait on a 429 that names no delay (a minute: every documented window)


def _rate_limit_wait(response: httpx.Response) -> float:
    """What a 429 asks for: `retry-after-ms`, `Retry-After`, or a JSON `retry_after` (Genray's body)."""
    named = retry_after_seconds(response.headers)
    if named is None:
        try:
            body = response.json()
        except ValueError:
            body = None
        value = body.get("retry_after") if isinstance(body, dict) else None
        named = float(value) if isinstance(value, int | float) else None
    return min(named if named is not None else LIVE_RATE_LIMIT_WAIT, LIVE_RATE_LIMIT_WAIT)


class PacedTransport(httpx.HTTPTransport):
    """On a live target, waits out a 429 and sends again, so the suite keeps within a plan's rate
    limit (Genray's Standard plan allows 10 requests a minute, fewer than the free tests make).
    A 429 is never charged, so sending again spends nothing; 5xx answers are not retried."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(LIVE_RATE_LIMIT_RETRIES):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            response.close()
            time.sleep(_rate_limit_wait(response))
        return super().handle_request(request)


class AsyncPacedTransport(httpx.AsyncHTTPTransport):
    """`PacedTransport` for the async clients."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(LIVE_RATE_LIMIT_RETRIES):
            response = await super().handle_async_request(request)
            if response.status_code != 429:
                return response
            await response.aread()
            await response.aclose()
            await asyncio.sleep(_rate_limit_wait(response))
        return await super().handle_async_request(request)


def transport(target: Target) -> httpx.HTTPTransport | None:
    """The transport of a suite's sync clients: paced on a live target, httpx's own on an emulator
    (where the tests that expect a 429 run)."""
    return None if target.is_emulator else PacedTransport()


def async_transport(target: Target) -> httpx.AsyncHTTPTransport | None:
    return None if target.is_emulator else AsyncPacedTransport()


class VendorFixtures(NamedTuple):
    """The fixtures every vendor suite has, made by `vendor_fixtures`; a conftest binds them to
    module names (which pytest uses as the fixture names): `target, spec_check, ... = fixtures`."""

    target: Callable[..., Target]
    spec_check: Callable[..., SpecCheck]
    make_client: Callable[..., Iterator[Callable[..., SyncAPIClient]]]
    client: Callable[..., SyncAPIClient]
    aclient: Callable[..., AsyncIterator[AsyncAPIClient]]
    raw: Callable[..., Iterator[httpx.Client]]


def vendor_fixtures(vendor: str, sync_client: Callable[..., SyncAPIClient], async_client: Callable[..., AsyncAPIClient],
                    *, auth: Callable[[str], dict[str, str]] = bearer) -> VendorFixtures:
    """`vendor`'s target and spec-checked clients, on the test's `account` (a fixture of the suite):

    - `target` (session): from the options or the environment, else the in-process emulator;
    - `spec_check`: validates every response against openapi/<vendor>.yaml;
    - `make_client(api_key=None, **options)`: a `sync_client` on the target, no retries unless asked
      (the suite observes each answer), closed after the test; `client`: one on the account's key;
    - `aclient`: an `async_client` on the account's key, no retries;
    - `raw`: plain httpx on the base URL with the account's key (sent as `auth` says).
    """

    @pytest.fixture(scope="session")
    def target(request: pytest.FixtureRequest, in_process: Callable[[], Any]) -> Target:
        """The suite's target (see `make_target`)."""
        return make_target(request.config, vendor, in_process)

    @pytest.fixture
    def spec_check(request: pytest.FixtureRequest, target: Target) -> SpecCheck:
        """Validates every response of the vendor against openapi/<vendor>.yaml (only counts them
        with --no-spec-check)."""
        kind = CountingOnly if request.config.getoption("--no-spec-check") else SpecCheck
        return kind({urlsplit(target.base_url).path.rstrip("/"): vendor})

    @pytest.fixture
    def make_client(target: Target, account: Account,
                    spec_check: SpecCheck) -> Iterator[Callable[..., SyncAPIClient]]:
        """`make_client(api_key=None, **options)`: a spec-checked client; no retries unless asked."""
        made: list[tuple[SyncAPIClient, httpx.Client]] = []

        def make(api_key: str | None = None, **options: Any) -> SyncAPIClient:
            http = httpx.Client(timeout=HTTP_TIMEOUT, event_hooks={"response": [spec_check]},
                                transport=transport(target))
            options.setdefault("max_retries", 0)
            client = sync_client(api_key=api_key or account.api_key, base_url=target.base_url, http_client=http,
                                 **options)
            made.append((client, http))
            return client

        yield make
        for client, http in made:
            client.close()
            http.close()

    @pytest.fixture
    def client(make_client: Callable[..., SyncAPIClient]) -> SyncAPIClient:
        """A client on the test's account."""
        return make_client()

    @pytest.fixture
    async def aclient(target: Target, account: Account, spec_check: SpecCheck) -> AsyncIterator[AsyncAPIClient]:
        """An async client on the test's account, spec-checked, no retries."""
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, event_hooks={"response": [async_hook(spec_check)]},
                                 transport=async_transport(target))
        client = async_client(api_key=account.api_key, base_url=target.base_url, http_client=http, max_retries=0)
        yield client
        await client.close()
        await http.aclose()

    @pytest.fixture
    def raw(target: Target, account: Account, spec_check: SpecCheck) -> Iterator[httpx.Client]:
        """Plain httpx on the base URL with the account's key, spec-checked."""
        with httpx.Client(base_url=target.base_url + "/", timeout=HTTP_TIMEOUT, headers=auth(account.api_key),
                          event_hooks={"response": [spec_check]}, transport=transport(target)) as http:
            yield http

    return VendorFixtures(target, spec_check, make_client, client, aclient, raw)
