"""Accounts own keys. Keys are stored as SHA-256 hashes only: the plaintext is shown once."""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from dataclasses import dataclass, field
from typing import Any

from .ids import IdFactory


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(slots=True)
class KeyScopes:
    """Restrictions a key carries; None means unrestricted."""

    allowed_models: frozenset[str] | None = None
    allowed_ips: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None = None

    @classmethod
    def parse(cls, allowed_models: Any = None, allowed_ips: Any = None) -> KeyScopes:
        models = None if allowed_models is None else frozenset(str(m) for m in allowed_models)
        ips = None
        if allowed_ips is not None:
            ips = tuple(ipaddress.ip_network(str(ip), strict=False) for ip in allowed_ips)
        return cls(models, ips)

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models

    def allows_ip(self, host: str | None) -> bool:
        if self.allowed_ips is None:
            return True
        if host is None:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self.allowed_ips)

    def describe(self) -> dict[str, Any]:
        return {
            "allowed_models": None if self.allowed_models is None else sorted(self.allowed_models),
            "allowed_ips": None if self.allowed_ips is None else [str(n) for n in self.allowed_ips],
        }


@dataclass(slots=True)
class ApiKey:
    id: str
    account_id: str
    vendor: str
    key_hash: str
    display: str  # a short, non-secret prefix for listings
    created_at: float
    scopes: KeyScopes = field(default_factory=KeyScopes)
    name: str | None = None
    revoked_at: float | None = None
    rate_limit_rpm: int | None = None  # None: the vendor's default
    webhook_url: str | None = None
    webhook_secret: str | None = None  # a signing secret the emulator must know, not a credential

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def describe(self) -> dict[str, Any]:
        return {
            "key_id": self.id,
            "display": self.display,
            "name": self.name,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "rate_limit_rpm": self.rate_limit_rpm,
            **self.scopes.describe(),
        }


@dataclass(slots=True)
class Account:
    id: str
    vendor: str
    created_at: float
    plan: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class Accounts:
    def __init__(self, ids: IdFactory):
        self._ids = ids
        self._lock = threading.Lock()
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        self._by_hash: dict[str, ApiKey] = {}
        self._by_account: dict[str, list[ApiKey]] = {}  # so that listing keys costs one account's keys
        self.version = 0  # bumped by every change, so durable state knows when to write

    def create_account(
        self, vendor: str, now: float, *, plan: str | None = None, extras: dict[str, Any] | None = None
    ) -> Account:
        account = Account(id=f"acct_{self._ids.token(16)}", vendor=vendor, created_at=now,
                          plan=plan, extras=dict(extras or {}))
        with self._lock:
            self.accounts[account.id] = account
            self.version += 1
        return account

    def issue_key(
        self,
        account: Account,
        now: float,
        *,
        prefix: str,
        scopes: KeyScopes | None = None,
        name: str | None = None,
        rate_limit_rpm: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        plaintext: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key and return it with its plaintext, which is never stored. A `plaintext`
        given (a key pinned in a fixture) is used as it is, if no key has it already."""
        if plaintext is None:
            plaintext = prefix + self._ids.secret(40)
        elif len(plaintext) < 8 or any(c.isspace() for c in plaintext):
            raise ValueError("a pinned 'api_key' must be at least 8 characters, with no spaces")
        elif hash_key(plaintext) in self._by_hash:
            raise ValueError("that 'api_key' is already in use")
        key = ApiKey(
            id=f"key_{self._ids.token(12)}",
            account_id=account.id,
            vendor=account.vendor,
            key_hash=hash_key(plaintext),
            display=plaintext[: len(prefix) + 4] + "…",
            created_at=now,
            scopes=scopes or KeyScopes(),
            name=name,
            rate_limit_rpm=rate_limit_rpm,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        with self._lock:
            self.keys[key.id] = key
            self._by_hash[key.key_hash] = key
            self._by_account.setdefault(key.account_id, []).append(key)
            self.version += 1
        return key, plaintext

    def authenticate(self, vendor: str, plaintext: str | None) -> ApiKey | None:
        if not plaintext:
            return None
        key = self._by_hash.get(hash_key(plaintext))
        if key is None or key.vendor != vendor or not key.active:
            return None
        return key

    def revoke(self, key_id: str, now: float) -> ApiKey | None:
        key = self.keys.get(key_id)
        if key is not None and key.revoked_at is None:
            key.revoked_at = now
            self.version += 1
        return key

    def reset(self) -> None:
        with self._lock:
            self.accounts.clear()
            self.keys.clear()
            self._by_hash.clear()
            self._by_account.clear()
            self.version += 1

    def restore(self, accounts: dict[str, Account], keys: dict[str, ApiKey]) -> None:
        with self._lock:
            self.accounts, self.keys = accounts, keys
            self._by_hash = {k.key_hash: k for k in keys.values()}
            self._by_account = {}
            for key in keys.values():
                self._by_account.setdefault(key.account_id, []).append(key)

    def keys_of(self, account_id: str) -> list[ApiKey]:
        return list(self._by_account.get(account_id, ()))
