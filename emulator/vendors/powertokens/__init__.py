"""PowerTokens: Seedance 2.0 and 1.x through an Ark-compatible task API, an OpenAI-style
/v1/videos and an asset library (powertokens-seedance-2.md, powertokens-v1-videos-1x.md)."""

from __future__ import annotations

from typing import Any

import orjson

from ...core.accounts import Account
from ...core.lifecycle import Phase, Step, Task
from ...core.runtime import Emulator
from ...core.vendor import Vendor
from . import pricing, render, rules
from .routes import handlers
from .rules import NAME

DEFAULT_RPM = 600  # assumption: Ark documents `RateLimitExceeded.EndpointRPMExceeded`, PowerTokens no figure
MAX_BODY_BYTES = 64 * 1024 * 1024  # "request body ≤ 64 MB" (Ark)
# Callback retries (assumption: Ark says callbacks are posted on every status change, not how
# failures are retried): after 5 s, 30 s and 120 s of emulated time; 10 s timeout per attempt.
CALLBACK_RETRIES = (5.0, 30.0, 120.0)
CALLBACK_TIMEOUT = 10.0


def install(emulator: Emulator) -> None:
    ledger, outbox = emulator.ledger, emulator.outbox

    def on_step(task: Task, step: Step) -> None:
        if task.kind != "video":
            return
        if step.phase is Phase.SUCCEEDED:
            facts = rules.facts_of(task)
            actual = pricing.credits_for(emulator.prices[NAME], pricing.MODELS[facts.model], facts.tokens)
            ledger.settle(task.account_id, task.id, actual, step.at)
        elif step.phase.terminal:
            ledger.refund(task.account_id, task.id, step.at, note=task.outcome.error_code or step.phase.value)
        url = task.data.get("callback_url")
        if url:
            # "callback_url: POSTed on every status change, body = the GET task body"
            body = orjson.dumps(render.ark_task(task, step.at, step.phase))
            outbox.enqueue(vendor=NAME, account_id=task.account_id, ref=task.id, event=step.phase.value,
                           url=url, body=body, headers={}, retry_delays=CALLBACK_RETRIES,
                           timeout=CALLBACK_TIMEOUT, at=step.at)

    # "callback_url: POSTed on every status change": a task with one needs each step on time; the
    # others move credits only at the end.
    emulator.lifecycle.on_step(NAME, on_step, timely=lambda task, phase: bool(task.data.get("callback_url")))


def describe_assets(emulator: Emulator, account: Account) -> list[dict[str, Any]]:
    """The account's asset library (one upload job per asset) as the inspector lists it, with the
    job's own status words."""
    now = emulator.clock.now()
    out = []
    for job in emulator.lifecycle.of_account(account.id):
        if job.vendor != NAME or job.kind != "asset":
            continue
        data = render.asset_job(job, now)["data"]
        upload = emulator.uploads.get(job.data["upload"])
        out.append({"id": job.data["asset_id"], "job_id": job.id, "kind": job.data["kind"], "status": data["status"],
                    "name": upload.filename if upload else None, "created_at": job.created_at,
                    "detail": data.get("error")})
    return out


def build() -> Vendor:
    return Vendor(
        name=NAME,
        prefix="/powertokens",
        spec_name="powertokens",
        handlers=handlers,
        auth="raw_or_bearer",
        key_prefix="pt-",
        render_error=render.render_error,
        error=render.error,
        default_rpm=DEFAULT_RPM,
        max_body_bytes=MAX_BODY_BYTES,
        trial_credits=pricing.TRIAL_CREDITS,
        credits_per_usd=pricing.CREDITS_PER_USD,
        install=install,
        describe_assets=describe_assets,
        prices=pricing.PRICES,
        restore=rules.restore_tasks,
    )
