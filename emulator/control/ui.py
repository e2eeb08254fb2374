"""The inspector page at `/_emulator/ui`: accounts and their ledgers, task timelines, assets,
webhook attempts, the clock and the active faults, for a person watching a test run.

The page is three hand-written files in `static/` (no build step, nothing fetched from outside:
the emulator runs offline). It polls one JSON snapshot, `GET /_emulator/ui/state`, about once a
second; polling rather than server-sent events because under the manual clock nothing moves
between requests anyway, and a poll needs no change-notification hooks in the hot paths of the
core. Each list in the snapshot is bounded (the newest items first), so an open page costs in
proportion to what it shows, not to how many tasks a load test has made.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, ValuesView
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from ..core.accounts import Account, ApiKey
from ..core.ledger import as_number
from ..core.lifecycle import Task
from ..core.outbox import Delivery
from ..core.runtime import Emulator

T = TypeVar("T")

TASK_LIMIT = 200
DELIVERY_LIMIT = 200
ACCOUNT_LIMIT = 200
LEDGER_LIMIT = 500
# Asking every listed account's vendor for its assets walks the tasks once per account; past this
# many (tasks × listed accounts) only the selected account's assets are listed, so an open page
# cannot slow a load test down.
ASSET_SCAN_BUDGET = 200_000

# Served by name from this fixed table only: no path is ever built from what a client sent.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "inspector.js": "text/javascript; charset=utf-8",
    "inspector.css": "text/css; charset=utf-8",
}
# The page renders strings tests sent (prompts, file names, URLs): it only ever sets them as text,
# and this policy stops any script that is not the page's own from running even if that slipped.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@cache
def static_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _newest(items: ValuesView[T] | list[T], limit: int) -> list[T]:
    """The last `limit` items of an insertion-ordered collection, newest first, without copying it all."""
    try:
        return list(itertools.islice(reversed(items), limit))
    except RuntimeError:  # changed size while read (another thread added one): take a copy instead
        return list(reversed(list(items)))[:limit]


def _signature(headers: dict[str, str]) -> dict[str, str] | None:
    """The signature header a delivery carried (Genray's `X-Genray-Signature`), if any."""
    for name, value in headers.items():
        if "signature" in name.lower():
            return {"header": name, "value": value}
    return None


def describe_delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "vendor": delivery.vendor, "account_id": delivery.account_id, "ref": delivery.ref,
        "event": delivery.event, "url": delivery.url, "state": delivery.state, "created_at": delivery.created_at,
        "signature": _signature(delivery.headers), "body_bytes": len(delivery.body),
        "retry_delays": list(delivery.retry_delays), "timeout": delivery.timeout,
        "next_attempt_at": delivery.next_attempt_at(),
        "attempts": [a.describe() for a in list(delivery.attempts)],
    }


def describe_task(task: Task, now: float) -> dict[str, Any]:
    current = task.step_at(now)
    return {
        "id": task.id, "vendor": task.vendor, "kind": task.kind, "account_id": task.account_id,
        "created_at": task.created_at, "scenario": task.scenario, "state": current.phase.value,
        "progress": task.progress_at(now),
        "timeline": [{"state": s.phase.value, "at": s.at, "reached": s.at <= now or s == current,
                      "current": s == current} for s in task.steps],
        "error_code": task.outcome.error_code, "error_message": task.outcome.error_message,
    }


def describe_account(emulator: Emulator, account: Account, keys: list[ApiKey]) -> dict[str, Any]:
    """Balances and key handles; never a key (only hashes are stored) nor a webhook secret."""
    balance = emulator.ledger.balance(account.id)
    return {
        "vendor": account.vendor, "account_id": account.id, "plan": account.plan, "created_at": account.created_at,
        "credits": as_number(balance.credits), "held": as_number(balance.held),
        "available": as_number(balance.available),
        "keys": [{"key_id": k.id, "display": k.display, "name": k.name, "revoked_at": k.revoked_at}
                 for k in keys],
    }


def assets_of(emulator: Emulator, accounts: Iterable[Account]) -> Iterator[dict[str, Any]]:
    for account in accounts:
        vendor = emulator.vendors.get(account.vendor)
        if vendor is None:
            continue
        for item in vendor.describe_assets(emulator, account):
            yield {"vendor": account.vendor, "account_id": account.id, **item}


def snapshot(emulator: Emulator, selected: str | None) -> dict[str, Any]:
    """Everything the page shows, as of now; `selected` is the account whose ledger to include."""
    now = emulator.clock.now()
    all_accounts = emulator.accounts.accounts
    accounts = _newest(all_accounts.values(), ACCOUNT_LIMIT)
    all_tasks = emulator.lifecycle.tasks
    tasks = _newest(all_tasks.values(), TASK_LIMIT)
    for task in tasks:
        emulator.lifecycle.catch_up(task, now)  # as every read does: a due step's bill is settled first
    deliveries = emulator.outbox.deliveries
    chosen = all_accounts.get(selected) if selected else None
    ledger = None
    if chosen is not None:
        entries = emulator.ledger.entries(chosen.id)
        ledger = {"account_id": chosen.id, "total": len(entries),
                  "entries": [e.describe() for e in reversed(entries[-LEDGER_LIMIT:])]}
    keys: dict[str, list[ApiKey]] = {a.id: [] for a in accounts}
    for key in list(emulator.accounts.keys.values()):  # one pass, not one per listed account
        if key.account_id in keys:
            keys[key.account_id].append(key)
    assets_scope = "all" if len(all_tasks) * len(accounts) <= ASSET_SCAN_BUDGET else "selected"
    asset_accounts = accounts if assets_scope == "all" else [chosen] if chosen else []
    return {
        "clock": emulator.clock.describe(),
        "vendors": list(emulator.vendors),
        "accounts": {"total": len(all_accounts),
                     "items": [describe_account(emulator, a, keys[a.id]) for a in accounts]},
        "ledger": ledger,
        "tasks": {"total": len(all_tasks), "items": [describe_task(t, now) for t in tasks]},
        "assets": {"scope": assets_scope, "items": list(assets_of(emulator, asset_accounts))},
        "webhooks": {"total": len(deliveries),
                     "items": [describe_delivery(d) for d in _newest(deliveries, DELIVERY_LIMIT)]},
        "faults": [f.describe() for f in list(emulator.faults.rules.values())],
    }
