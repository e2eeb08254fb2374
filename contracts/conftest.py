"""The contract suite: one folder per vendor, each runnable against the in-process emulator,
a running emulator, or the live vendor.

    pytest contracts                                      # every vendor, in-process emulator
    pytest contracts --vendor genray                      # one vendor's suite
    pytest contracts --vendor perseworks --base-url https://api.perseworks.hk/v1 --api-key sk-… [--allow-spend 100]
    pytest contracts --seegen-base-url http://127.0.0.1:8000/seegen/api/v1   # a running emulator

A target is "the emulator" when it runs in this process or its origin answers
`GET /_emulator/health`; then every test gets a fresh account through the control API.
Tests marked `emulator_only` (control API, clock or scenarios) are skipped on any other target.
Tests marked `spends(credits=...)` carry their cost, estimated from the document's prices; on a
live target they run only with `--allow-spend N`, each while its estimate fits in what is left
of N (per vendor, in the vendor's unit), and the one marked `lifecycle` (the cheapest task from
submit to result) runs first. The spend is summed up at the end (and written as JSON with
`--spend-report PATH`). Every response a suite's clients receive is validated against
openapi/<vendor>.yaml, unless `--no-spec-check` (the drift checker then judges them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, serve_in_thread
from emulator.vendors import NAMES, ORDER

from ._support import IN_PROCESS, Clock, Control, SpendLedger, Target, env_names, option_names, spend_estimate

HERE = Path(__file__).resolve().parent
LEDGER = pytest.StashKey[SpendLedger]()
ESTIMATE = pytest.StashKey[float]()


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
    group.addoption("--allow-spend", type=float, default=None, metavar="N",
                    help="on a live (non-emulator) target, run tests that spend, up to N credits per vendor "
                         "(estimated from the documented prices); without it none runs there")
    group.addoption("--spend-report", default=None, metavar="PATH",
                    help="write the run's spending (cap, per vendor, per test, skipped for budget) as JSON")
    group.addoption("--no-spec-check", action="store_true", default=False,
                    help="do not validate responses against openapi/<vendor>.yaml in the tests "
                         "(the drift checker of `seedance-emulator contracts` does it instead)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spends(credits): spends credits on a live target; the estimate, from the "
                                       "document's prices, counts against --allow-spend")
    config.addinivalue_line("markers", "lifecycle: the vendor's cheapest task from submit to result; runs first")
    config.addinivalue_line("markers", "emulator_only: needs the emulator's control API, clock or scenarios; "
                                       "skipped against another target")
    cap = config.getoption("--allow-spend", default=None)
    if cap is not None and cap < 0:
        raise pytest.UsageError(f"--allow-spend must be a number of credits ≥ 0, not {cap:g}")
    config.stash[LEDGER] = SpendLedger(cap)


def _in_contracts(item: pytest.Item) -> bool:
    return item.path.is_relative_to(HERE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every `spends` test must say what it costs (or it could spend uncounted); each vendor's
    `lifecycle` test goes first, so a small budget is spent on the lifecycle before anything else."""
    wrong = []
    for item in items:
        if not _in_contracts(item):
            continue
        try:
            estimate = spend_estimate(item)
        except ValueError as err:
            wrong.append(f"{item.nodeid}: {err}")
            continue
        if estimate is not None:
            item.stash[ESTIMATE] = estimate
    if wrong:
        raise pytest.UsageError("tests marked `spends` without an estimate of their cost:\n  " + "\n  ".join(wrong))
    items.sort(key=lambda item: not (_in_contracts(item) and item.get_closest_marker("lifecycle")))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash[LEDGER].summary() if LEDGER in config.stash else []
    if lines:
        terminalreporter.section("contract suite spending (estimated from the documented prices)")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--spend-report", default=None)
    if path and LEDGER in session.config.stash:
        Path(path).write_text(json.dumps(session.config.stash[LEDGER].report(), indent=2) + "\n")


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
def in_process(request: pytest.FixtureRequest) -> Iterator[object]:
    """`in_process()`: the in-process emulator (every vendor, manual clock), started on first use."""
    stack = ExitStack()
    running: list[RunningEmulator] = []

    def get() -> RunningEmulator:
        if not running:
            running.append(stack.enter_context(serve_in_thread(Settings(vendors=NAMES, clock="manual"))))
            request.config.stash[IN_PROCESS] = running[0]
        return running[0]

    with stack:
        yield get


@pytest.fixture(autouse=True)
def _gate(request: pytest.FixtureRequest) -> None:
    """Skip what the target cannot run (see the module docstring)."""
    if "target" not in request.fixturenames:
        return
    target: Target = request.getfixturevalue("target")
    ledger = request.config.stash[LEDGER]
    ledger.saw(target.vendor, live=not target.is_emulator)
    if request.node.get_closest_marker("emulator_only") and not target.is_emulator:
        pytest.skip(f"needs the emulator's control API, clock or scenarios; target is {target.describe}")
    estimate = request.node.stash.get(ESTIMATE, None)
    if estimate is not None:
        refused = ledger.admit(request.node.nodeid, target.vendor, estimate, live=not target.is_emulator)
        if refused:
            pytest.skip(refused)


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
