"""The fidelity coverage table (docs/coverage.md), generated, never written by hand.

    python -m contracts.coverage            # print the table
    python -m contracts.coverage --write    # regenerate docs/coverage.md
    python -m contracts.coverage --check    # exit 1, with a diff, when docs/coverage.md is stale

For every operation of `openapi/<vendor>.yaml`, in the spec's order:

- **implemented**: the vendor's `Handlers` bind a handler to the operationId;
- **contract tests** / **emulator-only tests**: how many tests of the contract suite exercised it,
  observed by running the suite against the in-process emulator: each request its journal
  counts (by vendor, operation and status) is attributed to the test that was running;
  portable tests and tests marked `emulator_only` are counted apart;
- **spends only**: every portable test that got a success (2xx) answer from it is marked
  `spends`, so a live run without `--allow-spend` sees only its errors;
- **fuzzed**: listed in `OPERATIONS` of tests/test_fuzz_<vendor>.py (whose teardown asserts that
  every one of them ran);
- **last confirmed live**: the `finished_at` date of the newest `run.json` under
  contracts/recordings/ with `"live": true` whose `confirmed_operations[vendor]` lists it.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.core import spec as spec_module
from emulator.vendors import NAMES, load

from ._support import IN_PROCESS

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
TABLE = ROOT / "docs" / "coverage.md"
RECORDINGS = CONTRACTS / "recordings"
COMMAND = "python -m contracts.coverage --write"
HTTP_METHODS = spec_module.HTTP_METHODS

Op = tuple[str, str]  # (vendor, operationId)


@dataclass(frozen=True)
class Operation:
    vendor: str
    id: str
    method: str
    path: str

    @property
    def label(self) -> str:
        """`METHOD /path`, as schemathesis labels an operation."""
        return f"{self.method} {self.path}"


@dataclass
class Observed:
    """What the contract suite exercised: per operation, the tests that sent it a request."""

    portable: dict[Op, set[str]]
    emulator_only: dict[Op, set[str]]
    succeeded: dict[Op, set[str]]  # the portable tests that got a 2xx answer from it
    spends: set[str]  # nodeids marked `spends`


def operations(vendor: str) -> list[Operation]:
    """Every operation of the vendor's spec, in the order the document lists them."""
    spec = spec_module.load(load(vendor).spec_name)
    found = []
    for path, item in spec.doc.get("paths", {}).items():
        for method, op in item.items():
            if method in HTTP_METHODS and isinstance(op, dict):
                found.append(Operation(vendor, op["operationId"], method.upper(), path))
    return found


def implemented(vendor: str) -> set[str]:
    return set(load(vendor).handlers.by_operation)


def fuzzed(vendor: str) -> set[str]:
    """The labels (`METHOD /path`) the vendor's fuzz module runs, from its `OPERATIONS`."""
    try:
        module = importlib.import_module(f"tests.test_fuzz_{vendor}")
    except ModuleNotFoundError:
        return set()
    return set(getattr(module, "OPERATIONS", set()))


def last_confirmed_live(recordings: Path = RECORDINGS) -> dict[Op, str]:
    """(vendor, operationId) → the date (YYYY-MM-DD) of the newest live run that confirmed it.
    A run that was not live (an emulator behind the command) confirms nothing."""
    newest: dict[Op, str] = {}
    for run_file in sorted(recordings.glob("**/run.json")):
        try:
            run = json.loads(run_file.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(run, dict) or run.get("live") is not True or not isinstance(run.get("finished_at"), str):
            continue
        day = run["finished_at"][:10]
        for vendor, confirmed in (run.get("confirmed_operations") or {}).items():
            for operation_id in confirmed or ():
                key = (vendor, operation_id)
                newest[key] = max(newest.get(key, ""), day)
    return newest


# -- observing the contract suite --------------------------------------------------------------


class Attribution:
    """A pytest plugin: after each test, the journal's counters that moved are the operations the
    test exercised (counters, not the bounded list of recent requests, so nothing is missed)."""

    def __init__(self) -> None:
        self.by_test: dict[str, dict[Op, bool]] = {}  # nodeid → operation → some answer was a 2xx
        self.emulator_only: set[str] = set()
        self.spends: set[str] = set()
        self.failed: list[str] = []

    @staticmethod
    def _counts(config: pytest.Config) -> Counter[tuple[str, str, int]]:
        running = config.stash.get(IN_PROCESS, None)
        if running is None:
            return Counter()
        requests = running.emulator.journal.requests
        for _ in range(100):
            try:  # the server thread may be counting a late request while this copies
                return Counter(dict(requests))
            except RuntimeError:
                threading.Event().wait(0.01)
        raise RuntimeError("the emulator's journal never stood still")

    @staticmethod
    def _settle(config: pytest.Config) -> None:
        """Wait for the server's requests in flight to end. A request is counted when its handling
        ends, which may be just after its client got the last byte and the test went on."""
        running = config.stash.get(IN_PROCESS, None)
        if running is None:
            return
        for _ in range(2000):
            if not running.server.server_state.tasks:
                return
            threading.Event().wait(0.001)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterable[None]:
        before = self._counts(item.config)
        yield
        self._settle(item.config)
        after = self._counts(item.config)
        exercised: dict[Op, bool] = {}
        for (vendor, op, status), n in after.items():
            if n > before.get((vendor, op, status), 0) and "-" not in (vendor, op):
                exercised[vendor, op] = exercised.get((vendor, op), False) or 200 <= status < 300
        self.by_test[item.nodeid] = exercised
        if item.get_closest_marker("emulator_only"):
            self.emulator_only.add(item.nodeid)
        if item.get_closest_marker("spends"):
            self.spends.add(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)

    def observed(self) -> Observed:
        portable: dict[Op, set[str]] = {}
        emulator_only: dict[Op, set[str]] = {}
        succeeded: dict[Op, set[str]] = {}
        for nodeid, ops in self.by_test.items():
            into = emulator_only if nodeid in self.emulator_only else portable
            for op, success in ops.items():
                into.setdefault(op, set()).add(nodeid)
                if success and into is portable:
                    succeeded.setdefault(op, set()).add(nodeid)
        return Observed(portable, emulator_only, succeeded, set(self.spends))


def observe(extra_args: Iterable[str] = ()) -> Observed:
    """Run the whole contract suite against the in-process emulator and attribute its requests."""
    plugin = Attribution()
    args = [str(CONTRACTS), "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
            # this module imported the packages under test before pytest could rewrite their asserts
            "-W", "ignore::pytest.PytestAssertRewriteWarning", *extra_args]
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the table's
        code = pytest.main(args, plugins=[plugin])
    if code != 0 or plugin.failed:
        failed = "\n  ".join(plugin.failed) or f"pytest exit code {int(code)}"
        raise SystemExit(f"the contract suite did not pass, so the table would not describe it:\n  {failed}")
    return plugin.observed()


# -- the table ---------------------------------------------------------------------------------


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def render(observed: Observed, confirmed: dict[Op, str], vendors: Iterable[str] = NAMES) -> str:
    vendors = list(vendors)
    lines = [
        "# Fidelity coverage",
        "",
        f"Generated by `{COMMAND}` from `openapi/<vendor>.yaml`, the emulator's handlers, a run of",
        "the contract suite against the in-process emulator, `tests/test_fuzz_<vendor>.py` and the live",
        "runs recorded under `contracts/recordings/`. Do not edit it by hand: CI fails when it is stale.",
        "",
        "- **implemented**: the emulator binds a handler to the operation.",
        "- **contract tests**: portable tests (they run against the live vendor too) that sent the",
        "  operation at least one request; **emulator-only tests**: the same for tests marked",
        "  `emulator_only` (control API, clock, scenarios).",
        "- **spends only**: every portable test that got a success (2xx) answer from the operation is",
        "  marked `spends`: a live run without `--allow-spend N` sees only its errors (— : no portable",
        "  test got a success answer).",
        "- **fuzzed**: schemathesis runs it (`tests/test_fuzz_<vendor>.py`).",
        "- **last confirmed live**: the date of the newest recorded live run "
        "(`seedance-emulator contracts --record`)",
        "  in which the operation answered and none of its answers violated the spec.",
        "",
        "## Totals",
        "",
        "| vendor | operations | implemented | contract-tested | emulator-only tested | fuzzed | confirmed live |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    sections: list[str] = []
    totals = Counter[str]()
    for vendor in vendors:
        ops = operations(vendor)
        bound, fuzz = implemented(vendor), fuzzed(vendor)
        row = Counter[str]()
        sections += [
            "", f"## {vendor}", "",
            "| operation | method and path | implemented | contract tests | emulator-only tests | spends only "
            "| fuzzed | last confirmed live |",
            "|---|---|---|--:|--:|---|---|---|",
        ]
        for op in ops:
            key = (vendor, op.id)
            portable = observed.portable.get(key, set())
            only_emulator = observed.emulator_only.get(key, set())
            succeeded = observed.succeeded.get(key, set())
            spends_only = "—" if not succeeded else _yes(succeeded <= observed.spends)
            live = confirmed.get(key, "never")
            sections.append(f"| `{op.id}` | `{op.label}` | {_yes(op.id in bound)} | {len(portable)} "
                            f"| {len(only_emulator)} | {spends_only} | {_yes(op.label in fuzz)} | {live} |")
            row.update(operations=1, implemented=op.id in bound, contract=bool(portable),
                       emulator=bool(only_emulator), fuzzed=op.label in fuzz, live=live != "never")
        totals.update(row)
        lines.append(_totals_row(vendor, row))
    lines.append(_totals_row("**all**", totals))
    return "\n".join(lines + sections) + "\n"


def _totals_row(name: str, row: Counter[str]) -> str:
    n = row["operations"]
    return (f"| {name} | {n} | {row['implemented']}/{n} | {row['contract']}/{n} | {row['emulator']}/{n} "
            f"| {row['fuzzed']}/{n} | {row['live']}/{n} |")


def generate(extra_args: Iterable[str] = ()) -> str:
    return render(observe(extra_args), last_confirmed_live())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.coverage", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"regenerate {TABLE.relative_to(ROOT)}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 with a diff when {TABLE.relative_to(ROOT)} "
                                                           "is stale")
    options = parser.parse_args(argv)
    table = generate()
    if options.write:
        TABLE.write_text(table)
        print(f"wrote {TABLE.relative_to(ROOT)}")
        return 0
    if options.check:
        current = TABLE.read_text() if TABLE.is_file() else ""
        if current == table:
            print(f"{TABLE.relative_to(ROOT)} is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(keepends=True), table.splitlines(keepends=True),
                                                   f"{TABLE.relative_to(ROOT)} (committed)",
                                                   f"{TABLE.relative_to(ROOT)} (generated)"))
        print(f"\n{TABLE.relative_to(ROOT)} is stale: run `{COMMAND}` and commit the result")
        return 1
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
