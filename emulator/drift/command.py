"""`seedance-emulator contracts`: the contract suite against a target, through a recording
proxy, then every response checked against openapi/<vendor>.yaml (the drift report).

    seedance-emulator contracts --vendor genray --base-url https://genray.ai/api/v1 --api-key $KEY
    seedance-emulator contracts                                  # every vendor, in-process emulator
    seedance-emulator contracts --vendor perseworks --record runs/pw -- -k models
    seedance-emulator contracts --replay runs/pw                 # re-check a recording, offline

A vendor's URL comes from --base-url (with one --vendor) or <VENDOR>_BASE_URL, its key from
--api-key (with one --vendor) or <VENDOR>_API_KEY; a vendor with no URL runs against an
emulator started in this process (manual clock). The suite runs in this process with
`pytest.main`: it is the same suite as `python -m pytest contracts ...`, with the in-test spec
checks off (`--no-spec-check`: this command judges the responses instead, so that a new field
is reported rather than failing a test).

Exit status: 0 when nothing violates the documents (undocumented findings alone are news),
1 on any violation or failed contract test, 2 when the command could not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..core import spec as spec_module
from ..vendors import NAMES
from .check import Checker
from .exchange import Exchange, RunInfo, assign_files, load_exchanges, load_run, now_iso, save
from .report import Report, SuiteOutcome

DEFAULT_REPORT_DIR = Path("drift-report")


class CommandError(Exception):
    """The command cannot run as asked (exit status 2)."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    contracts = sub.add_parser(
        "contracts", help="run the contract suite against a target and report drift from the documents",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    contracts.add_argument("--vendor", dest="vendors", action="append", choices=NAMES, default=None,
                           help="a vendor to check (repeatable; default: every vendor)")
    contracts.add_argument("--base-url", default=None,
                           help="the target's base URL, with one --vendor (else <VENDOR>_BASE_URL; none: an "
                                "in-process emulator)")
    contracts.add_argument("--api-key", default=None, help="the API key, with one --vendor (else <VENDOR>_API_KEY)")
    contracts.add_argument("--allow-spend", type=float, default=None, metavar="N",
                           help="on a live target, let tests that spend run, up to N credits per vendor "
                                "(estimated from the documented prices); without it only free calls run")
    contracts.add_argument("--record", type=Path, default=None, metavar="DIR",
                           help="save the (redacted) exchanges and run.json here")
    contracts.add_argument("--replay", type=Path, default=None, metavar="DIR",
                           help="check the exchanges recorded in DIR instead of running the suite (no network)")
    contracts.add_argument("--report", type=Path, default=DEFAULT_REPORT_DIR, metavar="DIR",
                           help="where drift-report.json, drift-report.md and run.json go (default ./drift-report)")
    return contracts


# -- targets ------------------------------------------------------------------------------


@dataclass
class Target:
    vendor: str
    base_url: str | None  # None: the in-process emulator
    api_key: str | None


def normalize_base_url(vendor: str, url: str) -> str:
    """The URL that corresponds to the spec's server URL (Genray's documented `/api/v1` base URL
    is accepted too: `x-documented-base-url` in its spec)."""
    return spec_module.load(vendor).server_url(url)


def targets(vendors: list[str], base_url: str | None, api_key: str | None) -> list[Target]:
    if (base_url or api_key) and len(vendors) != 1:
        raise CommandError("--base-url and --api-key need exactly one --vendor; for several, use "
                           "<VENDOR>_BASE_URL and <VENDOR>_API_KEY")
    chosen = []
    for vendor in vendors:
        url = base_url or os.environ.get(f"{vendor.upper()}_BASE_URL") or None
        key = api_key or os.environ.get(f"{vendor.upper()}_API_KEY") or None
        chosen.append(Target(vendor, normalize_base_url(vendor, url) if url else None, key))
    return chosen


def is_emulator(origin: str) -> bool:
    """Whether `origin` answers the emulator's GET /_emulator/health."""
    try:
        response = httpx.get(f"{origin}/_emulator/health", timeout=5.0)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def contracts_dir() -> Path:
    """The contract suite's folder (the top-level `contracts` package, in a checkout or a wheel)."""
    found = importlib.util.find_spec("contracts")
    if found is None or not found.submodule_search_locations:
        raise CommandError("the contract suite (the `contracts` package) is not installed")
    return Path(next(iter(found.submodule_search_locations)))


# -- the suite ------------------------------------------------------------------------------


class OutcomePlugin:
    """A pytest plugin object: counts outcomes and keeps each failure's short message."""

    def __init__(self) -> None:
        self.outcome = SuiteOutcome()

    def pytest_configure(self, config: Any) -> None:
        # The markers are registered in the repository's pyproject.toml, which an installed wheel lacks.
        for line in ("emulator_only: needs the emulator's control API, clock or scenarios",
                     "spends: spends credits on a live target"):
            config.addinivalue_line("markers", line)

    def pytest_collectreport(self, report: Any) -> None:
        # A module that does not even import ran none of its tests: that is a failure too.
        if report.failed:
            self.outcome.failed += 1
            self.outcome.failures.append((report.nodeid, "(collection) " + _short_failure(report)))

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.outcome.failed += 1
            self.outcome.failures.append((report.nodeid, _short_failure(report)))
        elif report.skipped:
            self.outcome.skipped += 1
        elif report.when == "call":
            self.outcome.passed += 1


def _short_failure(report: Any) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    message = getattr(crash, "message", None) or str(getattr(report, "longreprtext", "") or "").strip()
    when = getattr(report, "when", None)
    phase = f"(in {when}) " if when not in (None, "call") else ""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    return phase + (first if len(first) <= 300 else first[:300] + "…")


def run_suite(proxied: dict[str, tuple[str, str | None]], allow_spend: float | None, spend_path: Path,
              extra: list[str]) -> SuiteOutcome:
    """The contract suite for `proxied` (vendor → (base URL, key)) in this process."""
    try:
        import pytest
    except ImportError:
        raise CommandError("the contract suite needs pytest and pytest-asyncio: "
                           "pip install 'seedance-emulator[test]'") from None

    # The ini options repeat pyproject.toml's, which an installed wheel lacks. This process has
    # imported faker and anyio already (the emulator uses them), so pytest cannot rewrite their
    # plugins' asserts: a warning about nothing the suite needs.
    args = [str(contracts_dir()), "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
            "-o", "asyncio_default_fixture_loop_scope=function", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--no-spec-check", "--spend-report", str(spend_path)]
    for vendor, (url, key) in proxied.items():
        args += ["--vendor", vendor, f"--{vendor}-base-url", url]
        if key:
            args += [f"--{vendor}-api-key", key]
    if allow_spend is not None:
        args += ["--allow-spend", f"{allow_spend:g}"]
    plugin = OutcomePlugin()
    status = pytest.main([*args, *extra], plugins=[plugin])
    plugin.outcome.exit_status = int(status)
    return plugin.outcome


@contextmanager
def _upstreams(chosen: list[Target]) -> Iterator[dict[str, str]]:
    """vendor → the base URL to proxy to; starts the in-process emulator if a vendor needs it."""
    with ExitStack() as stack:
        urls: dict[str, str] = {}
        running = None
        for target in chosen:
            if target.base_url is None:
                if running is None:
                    from ..core.runtime import Settings
                    from ..testing import serve_in_thread

                    running = stack.enter_context(serve_in_thread(Settings(vendors=NAMES, clock="manual")))
                urls[target.vendor] = running.vendor_url(target.vendor)
            else:
                urls[target.vendor] = target.base_url
        yield urls


def run(chosen: list[Target], allow_spend: float | None, extra: list[str]) -> tuple[RunInfo, list[Exchange],
                                                                                       SuiteOutcome]:
    from .proxy import recording_proxy

    started_at = now_iso()
    exchanges: list[Exchange] = []
    with _upstreams(chosen) as upstream, ExitStack() as proxies, tempfile.TemporaryDirectory() as scratch:
        emulated = {vendor: is_emulator(_origin(url)) for vendor, url in upstream.items()}
        if len(set(emulated.values())) > 1:
            live = sorted(v for v, e in emulated.items() if not e)
            raise CommandError(f"{', '.join(live)} would run live and the rest against an emulator: run them "
                               f"separately (--vendor), so a run is either live or not")
        recorders = []
        proxied: dict[str, tuple[str, str | None]] = {}
        keys = {t.vendor: t.api_key for t in chosen}
        for vendor, url in upstream.items():
            base_path = urlsplit(url).path.rstrip("/")
            proxy = proxies.enter_context(recording_proxy(url, vendor, base_path))
            recorders.append(proxy.recorder)
            proxied[vendor] = (proxy.url(base_path), keys[vendor])
        spend_path = Path(scratch) / "spend.json"
        outcome = run_suite(proxied, allow_spend, spend_path, extra)
        spend = json.loads(spend_path.read_text()) if spend_path.is_file() else None
        for recorder in recorders:
            exchanges.extend(recorder.snapshot())
    run_info = RunInfo(tool_version=__version__, started_at=started_at, finished_at=now_iso(),
                       live=not any(emulated.values()), targets=upstream, spend=spend)
    return run_info, exchanges, outcome


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def main(args: argparse.Namespace, extra: list[str]) -> int:
    try:
        return _main(args, extra)
    except CommandError as err:
        print(f"seedance-emulator contracts: {err}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, extra: list[str]) -> int:
    vendors = list(dict.fromkeys(args.vendors or NAMES))
    checker = Checker()
    if args.replay is not None:
        if args.record is not None or args.base_url or args.api_key or extra:
            raise CommandError("--replay checks a recording: it takes no --record, --base-url, --api-key "
                               "or pytest arguments")
        if not (args.replay / "run.json").is_file():
            raise CommandError(f"{args.replay} is not a recording (no run.json)")
        run_info = load_run(args.replay)
        only = vendors if args.vendors else None
        exchanges = list(load_exchanges(args.replay, only))
        if only:
            run_info.targets = {v: u for v, u in run_info.targets.items() if v in only}
        tests, mode = None, "replay"
    else:
        run_info, exchanges, tests = run(targets(vendors, args.base_url, args.api_key), args.allow_spend, extra)
        mode = "run"
        if tests.exit_status in (3, 4):
            raise CommandError(f"the contract suite could not run (pytest exit status {tests.exit_status})")
        if args.record is not None:
            assign_files(exchanges)
    result = checker.check_all(exchanges)
    run_info.confirmed_operations = result.confirmed_operations()
    if args.record is not None:
        save(args.record, run_info, exchanges)
    report = Report(run_info, result, tests, mode)
    json_path, md_path = report.write(args.report)
    print(report.terminal())
    print(f"report: {json_path} and {md_path}" + (f"; recording: {args.record}" if args.record else ""))
    return report.exit_code
