"""Perseworks: Seedance 2.0 video and Doubao chat, OpenAI-compatible (perseworks.md)."""

from __future__ import annotations

from ...core.lifecycle import Phase, Step, Task, only_terminal
from ...core.runtime import Emulator
from ...core.vendor import Vendor
from . import pricing, render
from .routes import handlers

NAME = "perseworks"
DEFAULT_RPM = 600  # assumption: the document lists 429 `rate_limited` but no figure


def install(emulator: Emulator) -> None:
    ledger = emulator.ledger

    def on_step(task: Task, step: Step) -> None:
        # "settled to the actual output duration on success (unused reserve refunded);
        # full refund on failure"
        if step.phase is Phase.SUCCEEDED:
            actual = pricing.video_credits(emulator.prices[NAME], task.data["resolution"],
                                           task.outcome.output["seconds"])
            ledger.settle(task.account_id, task.id, actual, step.at)
        elif step.phase.terminal:
            ledger.refund(task.account_id, task.id, step.at, note=task.outcome.error_code)

    emulator.lifecycle.on_step(NAME, on_step, timely=only_terminal)


def build() -> Vendor:
    return Vendor(
        name=NAME,
        prefix="/perseworks",
        spec_name="perseworks",
        handlers=handlers,
        auth="bearer",
        key_prefix="sk-",
        render_error=render.render_error,
        error=render.error,
        default_rpm=DEFAULT_RPM,
        max_body_bytes=1024 * 1024,
        trial_credits=pricing.TRIAL_CREDITS,
        credits_per_usd=pricing.CREDITS_PER_USD,
        top_up_bonus=pricing.top_up_bonus,
        install=install,
        prices=pricing.PRICES,
    )
