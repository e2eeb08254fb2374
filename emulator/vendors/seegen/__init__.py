"""SeeGen: sd2 / sd2-fast (Seedance 2.0), HappyHorse 1.0, GPT Image 2, assets with review, a
standalone upscaler, and callbacks (seegen.md)."""

from __future__ import annotations

from typing import Any

import orjson

from ...core.accounts import Account
from ...core.lifecycle import Phase, Step, Task, only_terminal
from ...core.runtime import Emulator
from ...core.vendor import Vendor
from . import pricing, render, rules
from .routes import handlers
from .rules import NAME

# "Retry policy: up to 3 retries (1s, 5s, 30s delays) on non-2xx."
CALLBACK_RETRY_DELAYS = (1.0, 5.0, 30.0)
CALLBACK_TIMEOUT = 10.0  # assumption: the document gives none


def install(emulator: Emulator) -> None:
    ledger = emulator.ledger

    def on_step(task: Task, step: Step) -> None:
        if task.kind == "asset" or not step.phase.terminal:
            return  # asset review moves no credits; nothing happens on entering PROCESSING
        if step.phase is Phase.SUCCEEDED:
            ledger.settle(task.account_id, task.id, task.data["credits"], step.at)
        elif ledger.held_for(task.account_id, task.id) is not None:
            # "Failed tasks refund credits automatically"; upscaler: "credits are fully refunded"
            ledger.refund(task.account_id, task.id, step.at, note=task.outcome.error_code)
        callback = task.data.get("callback")
        if callback:
            body = render.task_body(task, step.at) if task.kind == "generation" else render.upscale_body(task, step.at)
            emulator.outbox.enqueue(vendor=NAME, account_id=task.account_id, ref=task.id,
                                    event=f"{task.kind}.{body['status'].lower()}", url=callback,
                                    body=orjson.dumps(body), headers={}, retry_delays=CALLBACK_RETRY_DELAYS,
                                    timeout=CALLBACK_TIMEOUT, at=step.at)

    emulator.lifecycle.on_step(NAME, on_step, timely=only_terminal)


def describe_assets(emulator: Emulator, account: Account) -> list[dict[str, Any]]:
    """The account's asset library as the inspector lists it, with SeeGen's own status words."""
    now = emulator.clock.now()
    return [{"id": task.id, "asset_id": task.data["asset_id"], "kind": task.data["type"],
             "status": render.ASSET_STATUS.get(task.phase_at(now), "PROCESSING"), "name": task.data["name"],
             "url": task.data["url"], "created_at": task.created_at,
             "detail": task.outcome.error_message if task.phase_at(now) is Phase.FAILED else None}
            for task in rules.assets_of(emulator, account.id)]


MAX_KEYS = 10  # "Create API keys at https://seegen.ai/account (max 10 per account)"


def check_account(emulator: Emulator, body: dict[str, Any]) -> None:
    """What `POST /_emulator/accounts {"vendor": "seegen", ...}` may say, checked before anything is made."""
    limit = body.get("concurrency_limit")
    if limit is not None and not (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0):
        raise ValueError("'concurrency_limit' must be an integer ≥ 0 (0: unlimited)")


def build() -> Vendor:
    return Vendor(
        name=NAME,
        prefix="/seegen",
        spec_name="seegen",
        handlers=handlers,
        auth="bearer",
        key_prefix="sg-",
        render_error=render.render_error,
        error=render.error,
        default_rpm=0,  # the document states a concurrency limit (429), no request rate
        max_body_bytes=1024 * 1024,
        trial_credits=0,
        credits_per_usd=pricing.CREDITS_PER_USD,
        install=install,
        prices=pricing.PRICES,
        max_keys=lambda emulator, account: MAX_KEYS,
        describe_assets=describe_assets,
        restore=rules.restore_assets,
        check_account=check_account,
    )
