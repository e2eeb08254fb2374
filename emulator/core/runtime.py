"""The emulator's state in one place: settings, clock, ids, accounts, ledger, tasks, media."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .accounts import Account, Accounts, ApiKey, KeyScopes
from .clock import Clock, ClockMode
from .errors import StartupError
from .faults import Faults
from .ids import IdFactory
from .journal import Journal
from .ledger import Ledger, as_number
from .lifecycle import Lifecycle
from .media import MediaInfo, MediaStore, served_name
from .outbox import Outbox
from .ratelimit import RateLimiter
from .scheduler import Scheduler
from .state import StateFile, uploads_dir
from .uploads import UploadStore

T = TypeVar("T")

if TYPE_CHECKING:
    from .vendor import Vendor


@dataclass
class Settings:
    vendors: tuple[str, ...] = ("perseworks",)
    clock: ClockMode = "real"
    speed: float = 1.0
    seed: int | None = None
    start_time: float | None = None
    allow_http_callbacks: bool = False
    public_url: str | None = None
    control_public: bool = False  # the control API answers loopback clients only, unless set
    media_dir: Path | None = None
    upload_dir: Path | None = None
    state: Path | None = None
    log_requests: bool = False  # structured JSON request logs on stderr
    journal_size: int = 1000  # recent requests kept for /_emulator/requests
    # Accounts made at start and again after every reset (fixtures pinned in a config file):
    # each is a control-API account body, `{"vendor", "credits", "plan", "api_key", ...}`.
    accounts: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _merge_prices(vendor: str, documented: dict[str, Any], given: Any, where: str = "prices") -> dict[str, Any]:
    """The documented table with the config's figures put in; any name the table lacks, or a
    figure that is not a number of credits (≥ 0), stops the start."""
    if given is None:
        return documented
    if not isinstance(given, dict):
        raise StartupError(f"{vendor}.{where} must be a table")
    merged = dict(documented)
    for name, value in given.items():
        if name not in documented:
            raise StartupError(f"{vendor}.{where}: no price named {name!r}; known: {', '.join(documented)}")
        if isinstance(documented[name], dict):
            merged[name] = _merge_prices(vendor, documented[name], value, f"{where}.{name}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise StartupError(f"{vendor}.{where}.{name} must be a number ≥ 0, not {value!r}")
        else:
            merged[name] = value
    return merged


def _timing_scales(settings: Settings, vendors: list[str]) -> dict[str, float]:
    """`[vendors.<name>] timing_scale = 0.1` in the config: that vendor's tasks take a tenth as long."""
    scales = {}
    for name in vendors:
        raw = settings.extra.get(f"{name}.timing_scale", 1.0)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 1000:
            raise StartupError(f"{name}.timing_scale must be a number above 0 (and at most 1000), not {raw!r}")
        scales[name] = float(raw)
    return scales


class Emulator:
    def __init__(self, settings: Settings, vendors: list[Vendor]):
        self.settings = settings
        self.clock = Clock(settings.clock, speed=settings.speed, start=settings.start_time)
        self.ids = IdFactory(settings.seed)
        self.accounts = Accounts(self.ids)
        self.ledger = Ledger()
        self.scheduler = Scheduler(self.clock)
        self.lifecycle = Lifecycle(self.clock, self.scheduler)
        self.lifecycle.time_scale = _timing_scales(settings, [v.name for v in vendors])
        self.limiter = RateLimiter()
        self.outbox = Outbox(self.clock, self.scheduler)
        self.media = MediaStore(self.ids, settings.media_dir, self.clock)
        upload_dir = settings.upload_dir or (uploads_dir(settings.state) if settings.state else None)
        self.uploads = UploadStore(self.ids, upload_dir)
        self.faults = Faults(settings.seed)
        self.journal = Journal(settings.journal_size, log_requests=settings.log_requests)
        self.vendors: dict[str, Vendor] = {v.name: v for v in vendors}
        self._vendor_state: dict[tuple[str, str], Any] = {}
        self.prices: dict[str, dict[str, Any]] = {
            v.name: _merge_prices(v.name, v.prices, settings.extra.get(f"{v.name}.prices")) for v in vendors}
        for vendor in vendors:
            vendor.install(self)
        self.seeded: list[dict[str, Any]] = []
        self.state = StateFile(settings.state) if settings.state else None
        if self.state is not None and self.state.load(self):
            for vendor in vendors:
                vendor.restore(self)
        else:
            self._seed_accounts()
            if self.state is not None:
                self.state.checkpoint(self, force=True)
        if self.state is not None:
            state = self.state
            self.scheduler.after_run = lambda: state.checkpoint(self)

    def _seed_accounts(self) -> None:
        self.seeded = [self.create_account(body["vendor"], dict(body)) for body in self.settings.accounts
                       if body.get("vendor") in self.vendors]

    # -- accounts, as the control API and test fixtures create them ----------------------

    def create_account(self, vendor_name: str, body: dict[str, Any]) -> dict[str, Any]:
        vendor = self.vendors[vendor_name]
        now = self.clock.now()
        credits = body.get("credits", vendor.trial_credits)
        scopes = KeyScopes.parse(body.get("allowed_models"), body.get("allowed_ips"))  # may raise: nothing made yet
        vendor.check_account(self, body)  # so may the vendor's own checks
        account = self.accounts.create_account(vendor.name, now, plan=body.get("plan"), extras=body)
        if credits:
            self.ledger.top_up(account.id, Decimal(str(credits)), now, note="opening balance")
        key, plaintext = self.issue_key(account, body, scopes)
        return {
            "vendor": vendor.name,
            "account_id": account.id,
            "api_key": plaintext,
            "key_id": key.id,
            "credits": as_number(self.ledger.balance(account.id).credits),
            **vendor.account_extras(self, account, key, body),
        }

    def issue_key(self, account: Account, body: dict[str, Any], scopes: KeyScopes | None = None,
                  **fields: Any) -> tuple[ApiKey, str]:
        """A new key for `account`; `fields` go to `Accounts.issue_key` (webhook_url, webhook_secret)."""
        vendor = self.vendors[account.vendor]
        scopes = scopes or KeyScopes.parse(body.get("allowed_models"), body.get("allowed_ips"))
        rpm = body.get("rate_limit_rpm")
        return self.accounts.issue_key(account, self.clock.now(), prefix=vendor.key_prefix,
                                       scopes=scopes, name=body.get("name"),
                                       rate_limit_rpm=None if rpm is None else int(rpm),
                                       plaintext=body.get("api_key"), **fields)

    def describe_account(self, account: Account) -> dict[str, Any]:
        bal = self.ledger.balance(account.id)
        return {
            "vendor": account.vendor,
            "account_id": account.id,
            "plan": account.plan,
            "created_at": account.created_at,
            "credits": as_number(bal.credits),
            "held": as_number(bal.held),
            "available": as_number(bal.available),
            "keys": [k.describe() for k in self.accounts.keys_of(account.id)],
            "ledger": [e.describe() for e in self.ledger.entries(account.id)],
        }

    # -- media the emulator serves -------------------------------------------------------

    def known_media(self, url: str) -> MediaInfo | None:
        """What this emulator knows of a URL it serves itself (an output or an upload), by its
        generated name; None for anything else. Never fetches: the emulator is offline."""
        name = served_name(url)
        if name is None:
            return None
        info = self.media.info(name)
        if info is not None:
            return info
        upload = self.uploads.get(name)
        if upload is None:
            return None
        return MediaInfo(upload.kind, upload.format, upload.width, upload.height, upload.seconds,
                         upload.has_audio)

    # -- time -------------------------------------------------------------------------------

    async def advance(self, seconds: float) -> float:
        """Move the clock, and return once everything due by the new time has run."""
        self.clock.advance(seconds)
        await self.scheduler.run_due()
        return self.clock.now()

    def vendor_state(self, vendor: str, name: str, factory: Callable[[], T]) -> T:
        """What a vendor keeps beside the core's state (an index, a counter): one object per name,
        made by `factory` when first asked for, forgotten by `reset`. A vendor whose object must
        survive `--state` rebuilds it in its `restore`."""
        key = (vendor, name)
        found = self._vendor_state.get(key)
        if found is None:
            found = self._vendor_state.setdefault(key, factory())
        return found  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget every account, task, webhook and media item; restart the clock and the seed."""
        self.scheduler.clear()
        self.lifecycle.reset()
        self.ledger.reset()
        self.limiter.reset()
        self.outbox.reset()
        self.media.reset()
        self.uploads.reset()
        self.faults.reset()
        self.journal.reset()
        self.accounts.reset()
        self.ids.reseed(self.settings.seed)
        self.clock.reset(self.settings.start_time)
        self._vendor_state.clear()
        self._seed_accounts()
