"""Genray: Seedance 2.0 videos, person-to-video, uploads, keys, plans and signed webhooks (genray.md)."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

from ...core.accounts import Account, ApiKey
from ...core.lifecycle import Phase, Step, Task, only_terminal
from ...core.outbox import callback_url_allowed
from ...core.runtime import Emulator
from ...core.vendor import Vendor
from . import pricing, render, rules
from .routes import handlers

NAME = rules.NAME
# "Delivery: Webhooks retry 3 times with exponential backoff (2s, 4s, 8s). Timeout is 5 seconds."
WEBHOOK_RETRY_DELAYS = (2.0, 4.0, 8.0)
WEBHOOK_TIMEOUT = 5.0
MAX_BODY_BYTES = 16 * 1024 * 1024  # a 10 MB file as base64 JSON (13.4 MB) fits; the file limit is checked itself


def sign(secret: str, body: bytes) -> str:
    """`X-Genray-Signature`: "sha256=" + hex HMAC-SHA256 of the raw body with the webhook secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def install(emulator: Emulator) -> None:
    ledger, outbox = emulator.ledger, emulator.outbox

    def on_step(task: Task, step: Step) -> None:
        if not step.phase.terminal:
            return
        if task.data["cost"]:
            if step.phase is Phase.SUCCEEDED:
                ledger.settle(task.account_id, task.id, task.data["cost"], step.at)
            else:
                # "Generation fails: video cost is automatically refunded. Moderation reject: video
                # cost refunded automatically."
                ledger.refund(task.account_id, task.id, step.at, note=task.outcome.error_code)
        url = task.data.get("webhook_url")
        if url:
            event, body = render.webhook(task, step.phase, step.at, task.data["media_origin"])
            outbox.enqueue(vendor=NAME, account_id=task.account_id, ref=task.id, event=event, url=url, body=body,
                           headers={"X-Genray-Event": event,
                                    "X-Genray-Signature": sign(task.data["webhook_secret"], body)},
                           retry_delays=WEBHOOK_RETRY_DELAYS, timeout=WEBHOOK_TIMEOUT, at=step.at)

    emulator.lifecycle.on_step(NAME, on_step, timely=only_terminal)


def _plan_id(emulator: Emulator, body: dict[str, Any]) -> str:
    default = str(emulator.settings.extra.get("genray.default_plan", pricing.DEFAULT_PLAN))
    return str(body.get("plan") or default).lower()


def check_account(emulator: Emulator, body: dict[str, Any]) -> None:
    """What `POST /_emulator/accounts {"vendor": "genray", ...}` may say, checked before anything is made."""
    url = body.get("webhook_url")
    if _plan_id(emulator, body) not in pricing.PLANS:
        raise ValueError(f"'plan' must be one of {', '.join(pricing.PLANS)}")
    if url is not None and not (isinstance(url, str) and callback_url_allowed(
            url, https_only=True, allow_http_loopback=emulator.settings.allow_http_callbacks)):
        raise ValueError("'webhook_url' must be an HTTPS URL")
    jobs = body.get("concurrent_jobs")
    if jobs is not None and not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 0):
        raise ValueError("'concurrent_jobs' must be an integer ≥ 0 (0: unlimited)")


def account_extras(emulator: Emulator, account: Account, key: ApiKey, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /_emulator/accounts {"vendor": "genray", "plan": ..., "webhook_url": ...}`: the plan (default
    Standard, or the `genray.default_plan` setting), the key's webhook secret, and, unless `credits` was
    given, the plan's monthly credits as the opening balance."""
    plan = pricing.PLANS[_plan_id(emulator, body)]
    account.plan = plan.id
    account.extras["genray_period_end"] = account.created_at + pricing.PLAN_PERIOD_SECONDS
    account.extras["genray_user"] = sum(1 for a in emulator.accounts.accounts.values() if a.vendor == NAME)
    key.webhook_url = body.get("webhook_url")
    key.webhook_secret = "whsec_" + emulator.ids.secret(32)
    out: dict[str, Any] = {"plan": plan.id, "webhook_secret": key.webhook_secret}
    if "credits" not in body and plan.credits_per_month:
        emulator.ledger.top_up(account.id, Decimal(plan.credits_per_month), emulator.clock.now(),
                               note=f"{plan.name} monthly credits")
        out["credits"] = int(emulator.ledger.balance(account.id).credits)
    return out


def describe_assets(emulator: Emulator, account: Account) -> list[dict[str, Any]]:
    """The account's uploaded files (person photos, reference images) as the inspector lists them."""
    return [{"id": upload.id, "kind": upload.kind, "status": "uploaded", "name": upload.filename,
             "url": rules.FILES_PREFIX + upload.name, "created_at": upload.created_at,
             "detail": f"{upload.format} {upload.width}×{upload.height}, {upload.size} bytes"}
            for upload in emulator.uploads.of_account(NAME, account.id)]


def build() -> Vendor:
    return Vendor(
        name=NAME,
        prefix="/genray",
        spec_name="genray",
        handlers=handlers,
        auth="bearer",
        key_prefix="sk_live_",
        render_error=render.render_error,
        error=render.error,
        default_rpm=0,
        max_body_bytes=MAX_BODY_BYTES,
        trial_credits=0,
        install=install,
        describe_assets=describe_assets,
        check_account=check_account,
        max_keys=lambda emulator, account: rules.plan_of(account).max_api_keys,
        account_extras=account_extras,
        rate_limit_for=rules.rate_limit_for,
        restore=rules.restore_generations,
        prices=pricing.PRICES,
    )
