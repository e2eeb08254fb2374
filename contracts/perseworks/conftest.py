"""Perseworks' contract suite: its target, accounts and spec-checked clients (the suite-wide
options, gating and control fixtures are in contracts/conftest.py)."""

from __future__ import annotations

import pytest

from client import AsyncPerseworks, Perseworks

from .._support import fresh_account, vendor_fixtures, wait_options
from ._support import Account, Control, Finish, Target

VENDOR = "perseworks"
DEFAULT_CREDITS = 10_000  # $100: enough for anything one test does
# How far a test moves an emulator's clock between polls while waiting for a task.
POLL_STEP_SECONDS = 5.0

# target, spec_check (openapi/perseworks.yaml), make_client, client, aclient, raw (Bearer key)
target, spec_check, make_client, client, aclient, raw = vendor_fixtures(VENDOR, Perseworks, AsyncPerseworks)


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with $100 of credits on an emulator; the given key on a live target."""
    return fresh_account(target, _control, credits=DEFAULT_CREDITS)


@pytest.fixture
def finish(_control: Control | None) -> Finish:
    """`finish(client, task_id)`: wait for a terminal state by whatever means the target has:
    on an emulator, moving its clock between polls; on a live target, polling for real."""
    options = wait_options(_control, POLL_STEP_SECONDS, timeout=900, poll_interval=2.0, max_interval=15.0)
    return lambda client, task_id: client.videos.wait(task_id, **options)
