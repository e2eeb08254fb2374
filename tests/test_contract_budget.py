"""The contract suite's spend budget (`--allow-spend N`, `--spend-report PATH`), run as a user runs it
against a live vendor: a subprocess pointed at an emulator that passes for the live API, behind a
proxy that hides its control API (so the suite's own health probe finds no emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts._support import CountingOnly, SpendLedger, spend_estimate
from contracts.perseworks._support import video_credits
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_asgi_in_thread, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
LIFECYCLE = ("contracts/perseworks/test_perseworks_videos.py::"
             "test_the_cheapest_task_goes_from_submit_to_a_downloadable_video")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}


def _passing_for_live(upstream: str) -> Starlette:
    """Everything forwarded to `upstream`, except `/_emulator/*`, which is not found (as on a vendor)."""
    http = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def forward(request: Request) -> Response:
        if request.url.path.startswith("/_emulator"):
            return Response(status_code=404)
        answer = await http.request(request.method, request.url.path, params=request.query_params,
                                    content=await request.body(),
                                    headers={k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP})
        return Response(answer.content, answer.status_code,
                        {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


@pytest.fixture(scope="module")
def live_looking() -> Iterator[tuple[RunningEmulator, str]]:
    """A Perseworks emulator on a fast real clock (a live run polls for real), and a proxy in front of it."""
    settings = Settings(vendors=("perseworks",), clock="real", speed=200.0)
    with serve_in_thread(settings) as running, \
            serve_asgi_in_thread(_passing_for_live(running.base_url), "live-looking proxy") as (port, _, _):
        yield running, f"http://127.0.0.1:{port}"


def run_suite(live_looking: tuple[RunningEmulator, str], tmp_path: Path, *options: str) -> tuple[str, dict[str, Any]]:
    running, proxy = live_looking
    key = running.create_account("perseworks", credits=1000)["api_key"]
    report = tmp_path / "spend.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_BASE_URL", "_API_KEY"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "contracts", "--vendor", "perseworks", "--base-url", f"{proxy}/perseworks/v1",
         "--api-key", key, "-m", "spends", "--spend-report", str(report), "-p", "no:cacheprovider", "-q", "-rA",
         *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout, json.loads(report.read_text())


def test_without_allow_spend_no_spending_test_runs_on_a_live_target(live_looking: Any, tmp_path: Path) -> None:
    out, report = run_suite(live_looking, tmp_path)
    assert report["cap"] is None and report["live"] == {"perseworks": True}
    assert report["tests"] == {} and report["spent"] == {"perseworks": 0}
    assert " passed" not in out and "pass --allow-spend N" in out
    assert "perseworks (live): spent ≈ 0 credits; no --allow-spend" in out


def test_a_cap_that_covers_the_lifecycle_runs_exactly_it_first(live_looking: Any, tmp_path: Path) -> None:
    price = video_credits("720p", 1)  # seedance-2.0-mini, 720p, 1 s: the cheapest documented task
    out, report = run_suite(live_looking, tmp_path, "--allow-spend", str(price))
    assert report["cap"] == price and report["live"] == {"perseworks": True}
    assert report["tests"] == {LIFECYCLE: price}
    assert report["spent"] == {"perseworks": price}
    assert report["skipped_for_budget"] and LIFECYCLE not in report["skipped_for_budget"]
    assert f"PASSED {LIFECYCLE}" in out and "1 passed" in out
    assert "would exceed --allow-spend budget" in out
    assert f"perseworks (live): spent ≈ {price} credits of cap {price}" in out


def test_a_spends_marker_without_an_estimate_stops_the_run(tmp_path: Path) -> None:
    """No test can spend uncounted: a bare `spends` marker is refused when the suite is collected."""
    (tmp_path / "bare_spends.py").write_text(
        "import pytest\n\n\n"
        "@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_collection_modifyitems(items):\n"
        "    unmarked = next(item for item in items if not item.get_closest_marker('spends'))\n"
        "    unmarked.add_marker(pytest.mark.spends)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "pytest", "contracts", "--vendor", "perseworks", "--collect-only",
                           "-q", "-p", "no:cacheprovider", "-p", "bare_spends"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:] + done.stderr[-2000:]
    assert "tests marked `spends` without an estimate of their cost" in done.stderr


# -- the pieces -------------------------------------------------------------------------------


def _item(marker: Any, params: dict[str, Any] | None = None) -> Any:
    """Enough of a pytest item for `spend_estimate`: its closest `spends` marker and parameters."""
    callspec = SimpleNamespace(params=params) if params is not None else None
    return SimpleNamespace(get_closest_marker=lambda name: marker, callspec=callspec)


def test_an_estimate_is_a_number_or_a_function_of_the_parameters() -> None:
    assert spend_estimate(_item(None)) is None
    assert spend_estimate(_item(pytest.mark.spends(credits=15).mark)) == 15.0
    by_resolution = pytest.mark.spends(credits=lambda resolution: video_credits(resolution, 2)).mark
    assert spend_estimate(_item(by_resolution, {"resolution": "4k", "model": "x"})) == 120.0


@pytest.mark.parametrize("marker", [pytest.mark.spends.mark, pytest.mark.spends(15).mark,
                                    pytest.mark.spends(credits=None).mark, pytest.mark.spends(credits=-1).mark,
                                    pytest.mark.spends(credits=lambda seconds: seconds).mark],
                         ids=["bare", "positional", "none", "negative", "unknown-parameter"])
def test_a_spends_marker_without_a_usable_estimate_is_refused(marker: Any) -> None:
    with pytest.raises(ValueError):
        spend_estimate(_item(marker, {"resolution": "720p"}))


def test_the_cap_is_per_vendor_and_an_emulator_is_free() -> None:
    ledger = SpendLedger(cap=100)
    assert ledger.admit("a", "genray", 88, live=True) is None
    refused = ledger.admit("b", "genray", 13, live=True)
    assert refused is not None and "would exceed --allow-spend budget" in refused
    assert ledger.admit("c", "seegen", 100, live=True) is None  # its own credits, its own cap
    assert ledger.admit("d", "perseworks", 10_000, live=False) is None  # an emulator: tallied, never capped
    assert ledger.report()["spent"] == {"genray": 88, "seegen": 100, "perseworks": 10_000}
    assert ledger.report()["skipped_for_budget"] == ["b"]
    assert SpendLedger(cap=None).admit("e", "genray", 0, live=True) is not None  # no cap: nothing runs live


def test_no_spec_check_counts_answers_without_judging_them() -> None:
    """`--no-spec-check`: the drift checker judges answers instead, so an undocumented body must
    not fail the test that met it; the answers are still counted (tests count a client's tries)."""
    request = httpx.Request("GET", "http://127.0.0.1/v1/models")
    undocumented = httpx.Response(200, json={"unexpected": True}, request=request)
    with pytest.raises(AssertionError):
        SpecCheck({"/v1": "perseworks"})(undocumented)
    counting = CountingOnly({"/v1": "perseworks"})
    counting(undocumented)
    counting(httpx.Response(404, json={}, request=httpx.Request("GET", "http://127.0.0.1/elsewhere")))
    assert counting.checked == 1  # like SpecCheck, only answers of the vendor's operations
