"""SeeGen's contract suite: its target, accounts, and spec-checked clients (the suite-wide
options, gating and control fixtures are in contracts/conftest.py).

On an emulator every test gets a fresh account; `finish*` fixtures move the manual clock
between polls. On a live target (`--seegen-base-url`, `--seegen-api-key`) they poll for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from client.seegen import Asset, AsyncSeeGen, SeeGen, Task, UpscaleTask

from .._support import Account, Control, Target, fresh_account, vendor_fixtures, wait_options

VENDOR = "seegen"
DEFAULT_CREDITS = 100_000
POLL_STEP_SECONDS = 30.0  # how far the manual clock moves between polls while waiting

# target, spec_check (openapi/seegen.yaml), make_client, client, aclient, raw (Bearer key)
target, spec_check, make_client, client, aclient, raw = vendor_fixtures(VENDOR, SeeGen, AsyncSeeGen)


@pytest.fixture
def make_account(target: Target, _control: Control | None) -> Callable[..., Account]:
    """`make_account(**body)`: another fresh account on an emulator (credits, concurrency_limit…)."""

    def make(**body: Any) -> Account:
        if _control is None:
            pytest.skip("needs the emulator's control API to create accounts")
        body.setdefault("credits", DEFAULT_CREDITS)
        return _control.create_account(**body)

    return make


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with 100 000 credits on an emulator; the given key on a live target."""
    return fresh_account(target, _control, credits=DEFAULT_CREDITS)


def _waiter(control: Control | None) -> dict[str, Any]:
    return wait_options(control, POLL_STEP_SECONDS, timeout=1800, poll_interval=3.0, max_interval=30.0)


@pytest.fixture
def finish(_control: Control | None) -> Callable[[SeeGen, str], Task]:
    """`finish(client, task_id)`: wait for COMPLETED / FAILED (moving an emulator's clock)."""
    return lambda client, task_id: client.jobs.wait(task_id, **_waiter(_control))


@pytest.fixture
def finish_upscale(_control: Control | None) -> Callable[[SeeGen, str], UpscaleTask]:
    return lambda client, task_id: client.upscale.wait(task_id, **_waiter(_control))


@pytest.fixture
def finish_asset(_control: Control | None) -> Callable[[SeeGen, int | str], Asset]:
    return lambda client, asset_id: client.assets.wait(asset_id, **_waiter(_control))
