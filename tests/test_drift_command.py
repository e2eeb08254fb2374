"""`seedance-emulator contracts` end to end (issue 6, "done means"): the emulator runs as a separate
process; a proxy in front of it alters Genray's answers (one kind of drift per operation); the
command, run through that proxy, must report each alteration with its operation and
classification; a recording of that run replays to the same findings; and the unaltered emulator
yields no finding at all, for every vendor.

Genray is the altered vendor because its suite is among the fastest (about 15 s); the whole
suite runs, not a subset.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.testing import serve_asgi_in_thread
from emulator.vendors import NAMES

ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 600  # seconds; a safety net for a hung run, not a speed check

# (method, path on the emulator, status it answers) → how the proxy alters the JSON body, and the
# findings each alteration must produce: (operationId, classification, rule, pointer).
ALTERATIONS: dict[tuple[str, str, int], str] = {
    ("GET", "/genray/api/v1/account", 200): "drop a required field",
    ("GET", "/genray/api/keys", 200): "rename a field",
    ("POST", "/genray/api/v1/videos/from-person", 202): "change a type",
    ("POST", "/genray/api/v1/videos", 202): "add an unknown field",
    ("POST", "/genray/api/v1/upload", 200): "change the status code",
}
EXPECTED = {
    ("getAccount", "violation", "missing-required", "/max_api_keys"),
    ("listApiKeys", "violation", "missing-required", "/keys/*/created_at"),
    ("listApiKeys", "undocumented", "unknown-field", "/keys/*/created"),
    ("createVideoFromPerson", "violation", "schema-type", "/total_cost"),
    ("createVideo", "undocumented", "unknown-field", "/queue_position"),
    ("uploadFile", "violation", "undocumented-status", ""),
}


def alter(method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
    what = ALTERATIONS.get((method, path, status))
    if what is None:
        return status, body
    if what == "change the status code":
        return 201, body
    data = json.loads(body)
    if what == "drop a required field":
        del data["max_api_keys"]
    elif what == "rename a field":
        for key in data["keys"]:
            key["created"] = key.pop("created_at")
    elif what == "change a type":
        data["total_cost"] = str(data["total_cost"])
    elif what == "add an unknown field":
        data["queue_position"] = 3
    return status, json.dumps(data).encode()


def altering_proxy(upstream: str, *, alter_responses: bool = True, hide_control: bool = False) -> Starlette:
    """A proxy to `upstream` that alters Genray's answers (ALTERATIONS); with `hide_control`, it
    answers 404 under /_emulator, so that the emulator behind it looks like a live vendor."""
    clients: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=upstream, timeout=60.0) as client:
            clients.append(client)
            yield

    async def forward(request: Request) -> Response:
        if hide_control and request.url.path.startswith("/_emulator"):
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        answer = await clients[0].request(request.method, request.url.path, params=request.query_params,
                                          headers=headers, content=await request.body())
        status, body = answer.status_code, answer.content
        if alter_responses:
            status, body = alter(request.method, request.url.path, status, body)
        return Response(body, status_code=status, media_type=answer.headers.get("content-type"))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[str]:
    """`seedance-emulator serve --clock manual` as a separate process; its origin."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator.cli", "serve", "--port", str(port),
                                "--clock", "manual", "--no-test-accounts"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{origin}/_emulator/health", timeout=1.0)
                if health.status_code == 200:
                    # another server may hold the port (then ours exits): only our own answer counts
                    assert health.json()["pid"] == process.pid, "the port belongs to another server"
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.1)
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=30)


def clean_environment() -> dict[str, str]:
    """This process's environment with no vendor URL or key to inherit."""
    return {k: v for k, v in os.environ.items() if not re.match(r"^[A-Z]+_(BASE_URL|API_KEY)$", k)}


def contracts(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`seedance-emulator contracts ARGS` in a subprocess, with no vendor URL or key inherited."""
    return subprocess.run([sys.executable, "-m", "emulator.cli", "contracts", *args], cwd=ROOT,
                          env={**clean_environment(), **(env or {})}, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT)


def spec_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] != "contract-test-failed"]


def general(pointer: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/*", pointer)


def test_each_alteration_is_reported_with_its_operation_and_classification(emulator_process: str,
                                                                            tmp_path: Path) -> None:
    with serve_asgi_in_thread(altering_proxy(emulator_process), "altering-proxy") as (port, _, _):
        done = contracts("--vendor", "genray", "--base-url", f"http://127.0.0.1:{port}/genray",
                         "--report", str(tmp_path / "report"), "--record", str(tmp_path / "recording"))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "report" / "drift-report.json").read_text())
    found = {(f["operation"], f["classification"], f["rule"], general(f["pointer"])) for f in spec_findings(report)}
    assert found == EXPECTED
    assert report["live"] is False and report["exit_code"] == 1
    assert report["counts"]["violation"] >= 4 and report["counts"]["undocumented"] == 2
    # Clients written from the document break on some of these: their tests are reported as violations.
    failed = [f for f in report["findings"] if f["rule"] == "contract-test-failed"]
    assert failed and all(f["classification"] == "violation" and f["test"].startswith("contracts/genray/")
                          for f in failed)
    markdown = (tmp_path / "report" / "drift-report.md").read_text()
    assert markdown.startswith("# Drift report\n\n**DRIFT:")
    for operation, *_ in EXPECTED:
        assert f"### {operation}" in markdown
    run = json.loads((tmp_path / "report" / "run.json").read_text())
    assert run["live"] is False and "getAccount" not in run["confirmed_operations"]["genray"]
    assert "getVideo" in run["confirmed_operations"]["genray"]

    # The recording replays, offline, to the same findings.
    replayed = contracts("--replay", str(tmp_path / "recording"), "--report", str(tmp_path / "replay"))
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    again = json.loads((tmp_path / "replay" / "drift-report.json").read_text())
    assert spec_findings(again) == spec_findings(report)
    first = spec_findings(report)[0]["exchange"]
    assert json.loads((tmp_path / "recording" / first).read_text())["vendor"] == "genray"


def test_the_unaltered_emulator_yields_no_finding_for_any_vendor(emulator_process: str, tmp_path: Path) -> None:
    # One run of every vendor's whole suite (their tests share the emulator's one manual clock, so
    # they cannot run side by side). Genray is given its documented base URL, which the command accepts.
    mounts = {"perseworks": "perseworks/v1", "seegen": "seegen/api/v1", "powertokens": "powertokens",
              "genray": "genray/api/v1"}
    urls = {f"{vendor.upper()}_BASE_URL": f"{emulator_process}/{mounts[vendor]}" for vendor in NAMES}
    done = contracts("--report", str(tmp_path), env=urls)
    report = json.loads((tmp_path / "drift-report.json").read_text())
    assert report["findings"] == [], done.stdout[-3000:]
    assert done.returncode == 0
    assert report["counts"] == {"violation": 0, "undocumented": 0}
    assert report["contract_tests"]["failed"] == 0 and report["contract_tests"]["passed"] > 0
    assert report["live"] is False and set(report["operations"]) == set(NAMES)


def test_a_live_target_runs_only_free_tests_with_the_given_key(emulator_process: str, tmp_path: Path) -> None:
    # The plan's per-minute limit lifted, as the suite's own emulator accounts have it (a real
    # Standard key allows 10 requests a minute, fewer than the suite's free tests make).
    account = httpx.post(f"{emulator_process}/_emulator/accounts",
                         json={"vendor": "genray", "plan": "advanced", "rate_limit_rpm": 0}).json()
    with serve_asgi_in_thread(altering_proxy(emulator_process, alter_responses=False, hide_control=True),
                        "live-looking-proxy") as (port, _, _):
        done = contracts("--vendor", "genray", "--base-url", f"http://127.0.0.1:{port}/genray",
                         "--report", str(tmp_path / "report"), "--record", str(tmp_path / "recording"),
                         env={"GENRAY_API_KEY": account["api_key"]})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "report" / "drift-report.json").read_text())
    assert report["live"] is True and report["findings"] == []
    tests = report["contract_tests"]
    assert tests["passed"] > 0 and tests["skipped"] > tests["passed"]  # emulator-only and spending tests
    assert report["spend"]["cap"] is None and report["spend"]["spent"].get("genray", 0) == 0
    run = json.loads((tmp_path / "recording" / "run.json").read_text())
    assert run["live"] is True and "getAccount" in run["confirmed_operations"]["genray"]
    # Refused submits are free and ran; none was accepted (that spends, and there is no --allow-spend).
    assert set(report["operations"]["genray"]["createVideo"]["statuses"]) == {"422"}
    recorded = "".join(p.read_text() for p in (tmp_path / "recording").rglob("*.json"))
    assert account["api_key"] not in recorded


def test_a_run_mixing_live_and_emulated_targets_is_refused(tmp_path: Path) -> None:
    done = contracts("--vendor", "perseworks", "--vendor", "genray", "--report", str(tmp_path),
                     env={"GENRAY_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    assert done.returncode == 2 and "genray would run live" in done.stderr


def test_with_no_base_url_the_command_checks_an_in_process_emulator(tmp_path: Path) -> None:
    done = contracts("--vendor", "perseworks", "--report", str(tmp_path), "--", "-k", "models")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "drift-report.json").read_text())
    assert report["findings"] == [] and report["live"] is False
    assert report["operations"]["perseworks"]["listModels"]["exchanges"] > 0
    assert report["targets"]["perseworks"].endswith("/perseworks/v1")


def test_the_recording_proxy_passes_everything_through_and_records_it_redacted() -> None:
    from emulator.core.runtime import Settings
    from emulator.drift.check import Checker
    from emulator.drift.proxy import recording_proxy
    from emulator.testing import serve_in_thread

    with serve_in_thread(Settings(vendors=("genray",), clock="manual")) as running, \
            recording_proxy(running.vendor_url("genray"), "genray", "/genray") as proxy:
        with httpx.Client(base_url=proxy.origin) as http:
            created = http.post("/_emulator/accounts", json={"vendor": "genray", "plan": "standard"}).json()
            key = created["api_key"]
            account = http.get("/genray/api/v1/account?x=1", headers={"Authorization": f"Bearer {key}"})
            direct = httpx.get(running.vendor_url("genray") + "/api/v1/account",
                               headers={"Authorization": f"Bearer {key}"})
            missing = http.get("/genray/api/v1/videos/nope", headers={"Authorization": f"Bearer {key}"})
        exchanges = proxy.recorder.snapshot()
    assert account.status_code == 200 and account.json() == direct.json()
    assert account.headers["content-type"] == direct.headers["content-type"]
    assert missing.status_code == 404
    assert [(e.method, e.url_path, e.path, e.query, e.status) for e in exchanges] == [
        ("POST", "/_emulator/accounts", None, "", 201),
        ("GET", "/genray/api/v1/account", "/api/v1/account", "x=1", 200),
        ("GET", "/genray/api/v1/videos/nope", "/api/v1/videos/nope", "", 404)]
    recorded = json.dumps([e.to_dict() for e in exchanges])
    assert key not in recorded and created["webhook_secret"] not in recorded
    assert exchanges[1].request_headers["authorization"] == "<redacted>"
    result = Checker().check_all(exchanges)
    assert result.findings == [] and result.outside_spec == {"genray": 1}
    assert [e.operation for e in exchanges] == [None, "getAccount", "getVideo"]


@pytest.mark.parametrize("args", [
    ["--vendor", "genray", "--vendor", "seegen", "--base-url", "https://genray.ai"],
    ["--api-key", "sk-1"],
    ["--replay", "/nonexistent-recording"],
    ["--replay", "/nonexistent-recording", "--", "-k", "x"],
])
def test_a_command_that_cannot_run_says_why_and_exits_2(args: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from emulator.cli import main

    assert main(["contracts", *args, "--report", str(tmp_path)]) == 2
    assert "seedance-emulator contracts:" in capsys.readouterr().err
    assert not (tmp_path / "drift-report.json").exists()
