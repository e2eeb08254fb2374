"""The contract suite: one folder per vendor, each runnable against the in-process emulator,
a running emulator, or the live vendor.

    pytest contracts                                      # every vendor, in-process emulator
    pytest contracts --vendor genray                      # one vendor's suite
    pytest contracts --vendor perseworks --base-url https://api.perseworks.hk/v1 --api-key sk-… [--allow-spend]
    pytest contracts --seegen-base-url http://127.0.0.1:8000/seegen/api/v1   # a running emulator

A target is "the emulator" when it runs in this process or its origin answers
`GET /_emulator/health`; then every test gets a fresh account through the control API.
Tests marked `emulator_only` (control API, clock, scenarios) are skipped on any other
target; tests marked `spends` are skipped there too unless `--allow-spend` is given.
Every response a suite's clients receive is validated against openapi/<vendor>.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, serve_in_thread
from emulator.vendors import NAMES, ORDER

from ._support import Clock, Control, Target, env_names, option_names

HERE = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "seedance-emulator contract suites")
    group.addoption("--vendor", action="append", choices=list(ORDER), default=None,
                    help="run only this vendor's contract suite (repeatable; default: every vendor)")
    group.addoption("--base-url", default=None,
                    help="base URL of the target when --vendor names one vendor "
                         "(default: an in-process emulator)")
    group.addoption("--api-key", default=None, help="API key for a target that is not an emulator")
    for vendor in ORDER:
        url_option, key_option = option_names(vendor)
        url_env, key_env = env_names(vendor)
        group.addoption(url_option, default=None, help=f"{vendor} base URL to test (env {url_env})")
        group.addoption(key_option, default=None, help=f"{vendor} API key for a live target (env {key_env})")
    group.addoption("--allow-spend", action="store_true", default=False,
                    help="run tests that spend credits on a live (non-emulator) target")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the suites of vendors not chosen with --vendor (and of vendors not built)."""
    try:
        relative = collection_path.resolve().relative_to(HERE)
    except ValueError:
        return None
    if len(relative.parts) < 1 or relative.parts[0] not in ORDER:
        return None
    chosen = config.getoption("--vendor") or list(NAMES)
    return relative.parts[0] not in chosen or None


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    for vendor in config.getoption("--vendor") or NAMES:
        url = config.getoption(option_names(vendor)[0]) or os.environ.get(env_names(vendor)[0])
        lines.append(f"{vendor} contracts: target {url or config.getoption('--base-url') or 'in-process emulator'}")
    return lines


@pytest.fixture(scope="session")
def in_process() -> Iterator[object]:
    """`in_process()`: the in-process emulator (every vendor, manual clock), started on first use."""
    stack = ExitStack()
    running: list[RunningEmulator] = []

    def get() -> RunningEmulator:
        if not running:
            running.append(stack.enter_context(serve_in_thread(Settings(vendors=NAMES, clock="manual"))))
        return running[0]

    with stack:
        yield get


@pytest.fixture(autouse=True)
def _gate(request: pytest.FixtureRequest) -> None:
    """Skip what the target cannot run (see the module docstring)."""
    if "target" not in request.fixturenames:
        return
    target: Target = request.getfixturevalue("target")
    if request.node.get_closest_marker("emulator_only") and not target.is_emulator:
        pytest.skip(f"needs the emulator's control API, clock or scenarios; target is {target.describe}")
    if request.node.get_closest_marker("spends") and not target.is_emulator and not target.allow_spend:
        pytest.skip("spends credits on a live target; pass --allow-spend to run it")


@pytest.fixture
def _control(target: Target) -> Iterator[Control | None]:
    """Per test, not per session: `target` differs by vendor folder, and a session fixture
    defined here would be made once, for whichever vendor's suite asked first."""
    if target.control_url is None:
        yield None
        return
    control = Control(target.control_url, target.vendor)
    yield control
    control.close()


@pytest.fixture
def control(_control: Control | None) -> Control:
    """The emulator's control API, for this suite's vendor (skips the test on a live target)."""
    if _control is None:
        pytest.skip("needs the emulator's control API")
    return _control


@pytest.fixture
def clock(target: Target, control: Control) -> Clock:
    """The manual clock; skips the test when the target's clock runs by itself."""
    if target.clock_mode != "manual":
        pytest.skip(f"needs a manual clock to observe exact states; target has a {target.clock_mode} clock")
    return Clock(control)
