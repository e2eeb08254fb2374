"""What the Perseworks contract tests share: the document's facts as data, the target under
test, and thin wrappers over the emulator's control API (accounts, ledger, clock).

Everything the tests assert about prices, models and codes comes from the tables below,
transcribed from ../shared/vendor-docs/perseworks.md (quoted where it helps), never from
the emulator's own code: the suite must be able to catch the emulator (or the vendor)
drifting from the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from client import Perseworks, VideoGeneration

# -- the document, as data ------------------------------------------------------------

# "Models": id → resolutions ("1080p and 4K on Seedance 2.0 only; Fast/Mini are 720p").
VIDEO_MODELS: dict[str, tuple[str, ...]] = {
    "seedance-2.0": ("720p", "1080p", "4k"),
    "seedance-2.0-fast": ("720p",),
    "seedance-2.0-mini": ("720p",),
}
CHAT_MODELS: tuple[str, ...] = ("doubao-seed-2-0-pro", "seed-2.1-pro", "seed-2.0-mini")
# "Video (per output second): 720p $0.15 · 1080p $0.25 · 4K $0.60"; "1 credit = $0.01".
CREDITS_PER_USD = 100
USD_PER_SECOND: dict[str, float] = {"720p": 0.15, "1080p": 0.25, "4k": 0.60}
CREDITS_PER_SECOND: dict[str, int] = {r: round(usd * CREDITS_PER_USD) for r, usd in USD_PER_SECOND.items()}
# "Chat: billed per token (from $0.10 / 1M input tokens)".
CHAT_MIN_INPUT_USD_PER_MILLION = 0.10
# "doubao-seed-2-0-pro  chat  256K context": 256 000 or 256 × 1024, either reading.
DOUBAO_CONTEXT = (256_000, 262_144)
# "durationSec (integer, required) — 1 to 15"
MIN_SECONDS, MAX_SECONDS = 1, 15
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
# "Recharge tiers earn bonus credits (+5% / +10% / +15% at $50 / $200 / $1000)".
BONUS_TIERS: tuple[tuple[float, float], ...] = ((1000, 0.15), (200, 0.10), (50, 0.05))
TERMINAL = ("succeeded", "failed")


def bonus_rate(usd: float) -> float:
    return next((rate for floor, rate in BONUS_TIERS if usd >= floor), 0.0)


def video_credits(resolution: str, seconds: int) -> int:
    return CREDITS_PER_SECOND[resolution] * seconds


# `make_client(api_key=None, **options)` and `finish(client, task_id)` (see conftest.py).
MakeClient = Callable[..., Perseworks]
Finish = Callable[[Perseworks, str], VideoGeneration]


# -- the target -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the suite points: `base_url` is the Perseworks base (…/v1).

    `control_url` is set when the target is an emulator (in-process, or a server whose
    `/_emulator/health` answers); then tests may use accounts, the ledger, the clock and
    scenarios. `clock_mode` is the emulator's clock ("manual" or "real").
    """

    base_url: str
    api_key: str | None = None
    control_url: str | None = None
    clock_mode: str | None = None
    allow_spend: bool = False
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


# -- the control API ------------------------------------------------------------------


class Control:
    """`/_emulator/...` on the target (accounts, keys, top-ups, clock)."""

    def __init__(self, control_url: str) -> None:
        self.http = httpx.Client(base_url=control_url, timeout=30.0)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def create_account(self, **body: Any) -> Account:
        created = self._call("POST", "/accounts", {"vendor": "perseworks", **body})
        return Account(api_key=created["api_key"], id=created["account_id"], key_id=created["key_id"], control=self)

    def describe(self, account_id: str) -> dict[str, Any]:
        return self._call("GET", f"/accounts/{account_id}")

    def create_key(self, account: Account, **scope: Any) -> dict[str, Any]:
        """Another key on `account` (`allowed_models`, `allowed_ips`, `rate_limit_rpm`)."""
        return self._call("POST", f"/accounts/{account.id}/keys", scope)

    def revoke_key(self, account: Account, key_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/accounts/{account.id}/keys/{key_id}")

    def top_up(self, account: Account, **body: Any) -> dict[str, Any]:
        """`usd=` (a recharge, with the bonus tiers) or `credits=` (a plain grant)."""
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
    """A Perseworks account: its key, and on an emulator its id and the control API.

    On a live target the ledger cannot be observed: `unchanged()` and `expect()` then
    check nothing, and the test asserts only what the API itself shows.
    """

    api_key: str
    id: str | None = None
    key_id: str | None = None
    control: Control | None = field(default=None, repr=False)

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
