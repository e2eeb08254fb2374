"""Fixtures for the project's own tests: one in-process emulator server (manual clock) per
session, a fresh Perseworks account per test, and httpx clients whose every response is
validated against the vendor's OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread
from emulator.vendors import NAMES


@pytest.fixture(scope="session")
def emu() -> Iterator[RunningEmulator]:
    with serve_in_thread(Settings(vendors=NAMES, clock="manual", seed=7)) as running:
        yield running


@pytest.fixture
def spec_check() -> SpecCheck:
    return SpecCheck.for_vendors(*NAMES)


@pytest.fixture
def account(emu: RunningEmulator) -> dict[str, Any]:
    """A fresh Perseworks account with 10 000 credits ($100) and an unrestricted key."""
    return emu.create_account("perseworks", credits=10_000)


@pytest.fixture
def control(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with emu.control() as client:
        yield client


@pytest.fixture
def api(emu: RunningEmulator, account: dict[str, Any], spec_check: SpecCheck) -> Iterator[httpx.Client]:
    """Raw HTTP to Perseworks with the account's key; every response checked against the spec."""
    with httpx.Client(base_url=emu.vendor_url("perseworks"),
                      headers={"Authorization": f"Bearer {account['api_key']}"},
                      event_hooks={"response": [spec_check]}) as client:
        yield client
