"""The performance suite: every vendor's poll and submit, the chat stream, a bare Starlette
endpoint as the floor, and the peers (Prism, WireMock) on the same requests; then memory per
stored task and the cost of a list page. One command, one run, one machine, one load tool:

    .venv/bin/python -m benchmarks.suite                 # ~10 min; writes docs/benchmarks.md
    .venv/bin/python -m benchmarks.suite --no-peers --rounds 1 --duration 2 --no-write   # a quick look

Every HTTP server runs in its own process pinned to CPU 0 (`taskset`), the load tool (`wrk`,
1 thread, 16 connections) on CPU 1; cases are measured in interleaved rounds (each round runs
every case once, so a noisy neighbour hurts all cases alike) and each case's median round is
reported. Servers:

- `emulator`: every vendor, real clock with `timing_scale = 0.001` (a task is done within
  milliseconds, so the scheduler settles bills during the run and PowerTokens' documented cap of
  120 queued tasks per account is never reached), one account per vendor with credits for the
  whole run, a key with `rate_limit_rpm: 0`, and the vendor's concurrency cap lifted through the
  account's fields (SeeGen `concurrency_limit: 0`, Genray `concurrent_jobs: 0`).
- `bare`: a one-route Starlette app returning `JSONResponse` of the Perseworks poll's body (the floor).
- `prism`: `prism mock` of the same `openapi/<vendor>.yaml`, one process per document.
- `wiremock`: the standalone WireMock (the `wiremock` npm package's jar, on the installed Java),
  one stub per case answering exactly what the emulator answered (status, content type, body).

Peers are installed on demand with `npm install --prefix benchmarks/.peers` (git-ignored); when
that fails the report says "not available" with the reason. Memory (`benchmarks.memory`) and list
cost (`benchmarks.list_cost`) run in-process after the HTTP cases; their own modules run them alone.

The report (docs/benchmarks.md) is rewritten above its "## Profiling notes" section, which is
written by hand and kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
PEERS_DIR = ROOT / "benchmarks" / ".peers"
PEER_PACKAGES = ("@stoplight/prism-cli@5", "wiremock@3")
NOTES_HEADING = "## Profiling notes"
HOST = "127.0.0.1"
BARE_PATH = "/bare"
TIMING_SCALE = 0.001
CREDITS = 10**12
PROMPT = "a cat on a skateboard"

TARGETS = {"poll": 0.5, "submit": 0.4}
P99_TARGET_MS = 5.0


@dataclass(frozen=True)
class Case:
    """One request, sent the same way to every server that has it."""

    name: str  # e.g. "perseworks poll"
    vendor: str
    kind: str  # poll | submit | stream
    method: str
    spec_path: str  # the path as the OpenAPI document writes it (what Prism serves)
    query: str = ""
    body: dict[str, Any] | None = None


@dataclass
class Result:
    case: str
    server: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    body_bytes: int = 0
    content_type: str = ""


@dataclass
class Target:
    url: str
    headers: dict[str, str]
    body: bytes | None
    method: str
    body_bytes: int = 0
    content_type: str = ""


@dataclass
class Peers:
    prism: str | None = None  # the prism executable, or None
    wiremock_jar: Path | None = None
    why_not: dict[str, str] = field(default_factory=dict)


# -- the servers, each in its own process (`python -m benchmarks.suite --serve KIND --port N`) --


def _loop_and_http() -> tuple[str, str]:
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return loop, http


def _serve(kind: str, port: int, body_file: str | None) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if kind == "emulator":
        from emulator.app import create_app
        from emulator.core.runtime import Settings
        from emulator.vendors import NAMES

        extra = {f"{name}.timing_scale": TIMING_SCALE for name in NAMES}
        app: Any = create_app(Settings(vendors=NAMES, clock="real", seed=7, extra=extra))
    else:
        assert body_file is not None
        payload = json.loads(Path(body_file).read_text())

        async def bare(request: Any) -> JSONResponse:
            return JSONResponse(payload)

        app = Starlette(routes=[Route(BARE_PATH, bare, methods=["GET"])])
    loop, http = _loop_and_http()
    uvicorn.run(app, host=HOST, port=port, workers=1, loop=loop, http=http, lifespan="on",
                log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _pin(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


@contextlib.contextmanager
def _process(name: str, cmd: list[str], port: int, startup: float = 60) -> Iterator[str]:
    """Start a server, wait for its port, yield its base URL; stop it (its whole group) at the end."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + startup
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    said = log.read()[-2000:].decode(errors="replace")
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {said}")
                try:
                    with socket.create_connection((HOST, port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not start within {startup:g} s") from None
                    time.sleep(0.1)
            yield f"http://{HOST}:{port}"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                proc.wait()


def _python_server(kind: str, cpu: int | None, body_file: str | None = None) -> contextlib.AbstractContextManager[str]:
    port = _free_port()
    cmd = [*_pin(cpu), sys.executable, "-m", "benchmarks.suite", "--serve", kind, "--port", str(port)]
    if body_file:
        cmd += ["--body-file", body_file]
    return _process(kind, cmd, port)


# -- peers -------------------------------------------------------------------------------------


def _install_peers(skip: bool) -> Peers:
    peers = Peers()
    if skip:
        peers.why_not = {"prism": "skipped (--no-peers)", "wiremock": "skipped (--no-peers)"}
        return peers
    prism = PEERS_DIR / "node_modules" / ".bin" / "prism"
    jars = sorted((PEERS_DIR / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not prism.exists() or not jars:
        npm = shutil.which("npm")
        if npm is None:
            peers.why_not = {"prism": "npm is not installed", "wiremock": "npm is not installed"}
            return peers
        print(f"installing peers: npm install --prefix {PEERS_DIR.relative_to(ROOT)} {' '.join(PEER_PACKAGES)}",
              file=sys.stderr)
        try:
            done = subprocess.run([npm, "install", "--prefix", str(PEERS_DIR), "--no-audit", "--no-fund",
                                   *PEER_PACKAGES], capture_output=True, text=True, timeout=600)
            failure = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["npm failed"])[-1]
        except subprocess.TimeoutExpired:
            failure = "npm install timed out after 600 s"
        if failure:
            peers.why_not = {"prism": f"npm install failed: {failure}", "wiremock": f"npm install failed: {failure}"}
            return peers
        jars = sorted((PEERS_DIR / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if prism.exists():
        peers.prism = str(prism)
    else:
        peers.why_not["prism"] = "the prism executable is missing after npm install"
    if not jars:
        peers.why_not["wiremock"] = "the WireMock jar is missing after npm install"
    elif shutil.which("java") is None:
        peers.why_not["wiremock"] = "java is not installed (the wiremock npm package runs a jar)"
    else:
        peers.wiremock_jar = jars[-1]
    return peers


def _package_version(package_json: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return str(json.loads(package_json.read_text())["version"])
    return "unknown"


# -- the cases -------------------------------------------------------------------------------


def _cases() -> list[Case]:
    return [
        Case("perseworks poll", "perseworks", "poll", "GET", "/video/generations/{id}"),
        Case("perseworks submit", "perseworks", "submit", "POST", "/video/generations",
             body={"model": "seedance-2.0", "prompt": PROMPT, "resolution": "720p", "durationSec": 5}),
        Case("perseworks chat stream", "perseworks", "stream", "POST", "/chat/completions",
             body={"model": "seed-2.1-pro", "messages": [{"role": "user", "content": "Say hello."}],
                   "stream": True, "max_tokens": 16}),
        Case("seegen poll", "seegen", "poll", "GET", "/jobs/queryTask", query="taskId={id}"),
        Case("seegen submit", "seegen", "submit", "POST", "/jobs/createTask",
             body={"model": "sd2", "inputs": {"prompt": PROMPT, "duration": "5s"}}),
        Case("powertokens poll", "powertokens", "poll", "GET", "/byteplus/api/v3/contents/generations/tasks/{id}"),
        Case("powertokens submit", "powertokens", "submit", "POST", "/byteplus/api/v3/contents/generations/tasks",
             body={"model": "dreamina-seedance-2-0-260128", "content": [{"type": "text", "text": PROMPT}],
                   "duration": 5, "resolution": "720p", "ratio": "16:9"}),
        Case("genray poll", "genray", "poll", "GET", "/api/v1/videos/{id}"),
        Case("genray submit", "genray", "submit", "POST", "/api/v1/videos", body={"prompt": PROMPT, "duration": 5}),
    ]


ACCOUNT_FIELDS: dict[str, dict[str, Any]] = {
    "perseworks": {},
    "seegen": {"concurrency_limit": 0},
    "powertokens": {},
    "genray": {"plan": "advanced", "concurrent_jobs": 0},
}


def _mounts() -> dict[str, str]:
    from emulator import vendors as registry

    out = {}
    for name in registry.NAMES:
        vendor = registry.load(name)
        out[name] = vendor.prefix + vendor.spec.base_path
    return out


def _task_id(created: dict[str, Any]) -> str:
    return str(created.get("id") or created.get("taskId") or created.get("job_id"))


@dataclass(frozen=True)
class Answer:
    """What the emulator answered a case (WireMock's stubs answer the same)."""

    status: int
    content_type: str
    body: bytes


def _prepare_emulator(base: str, cases: list[Case]) -> tuple[dict[str, Target], dict[str, Answer]]:
    """An account per vendor and one finished task per poll case; each case sent once (it must be 2xx)."""
    mounts = _mounts()
    targets: dict[str, Target] = {}
    answers: dict[str, Answer] = {}
    with httpx.Client(base_url=base, timeout=30) as c:
        headers: dict[str, dict[str, str]] = {}
        for vendor, fields in ACCOUNT_FIELDS.items():
            account = c.post("/_emulator/accounts", json={"vendor": vendor, "credits": CREDITS, "rate_limit_rpm": 0,
                                                          **fields})
            account.raise_for_status()
            headers[vendor] = {"Authorization": f"Bearer {account.json()['api_key']}"}
        task_ids = {}
        for case in cases:
            if case.kind == "poll":
                submit = next(c for c in _cases() if c.vendor == case.vendor and c.kind == "submit")
                created = c.post(mounts[case.vendor] + submit.spec_path, headers=headers[case.vendor], json=submit.body)
                created.raise_for_status()
                task_ids[case.name] = _task_id(created.json())
        time.sleep(1.0)  # every task planned with timing_scale 0.001 has ended by now
        for case in cases:
            path, query = case.spec_path, case.query
            if case.kind == "poll":
                path, query = path.replace("{id}", task_ids[case.name]), query.replace("{id}", task_ids[case.name])
            url = f"{base}{mounts[case.vendor]}{path}" + (f"?{query}" if query else "")
            body = json.dumps(case.body).encode() if case.body is not None else None
            send = dict(headers[case.vendor])
            if body is not None:
                send["Content-Type"] = "application/json"
            answer = c.request(case.method, url, headers=send, content=body)
            if not answer.is_success:
                raise RuntimeError(f"{case.name}: the emulator answered {answer.status_code}: {answer.text[:500]}")
            if case.kind == "poll":
                print(f"{case.name}: {answer.text}", file=sys.stderr)
            content_type = answer.headers.get("content-type", "")
            targets[case.name] = Target(url, send, body, case.method, len(answer.content), content_type)
            answers[case.name] = Answer(answer.status_code, content_type, answer.content)
    return targets, answers


def _prepare_prism(bases: dict[str, str], cases: list[Case], emulator: dict[str, Target]) -> dict[str, Target]:
    targets = {}
    for case in cases:
        base = bases.get(case.vendor)
        if base is None:
            continue
        path, query = case.spec_path.replace("{id}", "abc123"), case.query.replace("{id}", "abc123")
        url = base + path + (f"?{query}" if query else "")
        mine = emulator[case.name]
        answer = httpx.request(case.method, url, headers=mine.headers, content=mine.body, timeout=30)
        if not answer.is_success:
            print(f"prism: {case.name} answered {answer.status_code}: {answer.text[:300]}", file=sys.stderr)
        targets[case.name] = Target(url, mine.headers, mine.body, case.method, len(answer.content),
                                    answer.headers.get("content-type", ""))
    return targets


def _wiremock_mappings(root: Path, cases: list[Case], emulator: dict[str, Target], answers: dict[str, Answer]) -> None:
    mappings = root / "mappings"
    mappings.mkdir(parents=True)
    for n, case in enumerate(cases):
        answer = answers[case.name]
        mine = emulator[case.name]
        path = httpx.URL(mine.url)
        request: dict[str, Any] = {"method": case.method, "urlPath": path.path}
        for name, value in httpx.QueryParams(path.query).items():
            request.setdefault("queryParameters", {})[name] = {"equalTo": value}
        request["headers"] = {"Authorization": {"equalTo": mine.headers["Authorization"]}}
        response = {"status": answer.status, "body": answer.body.decode(),
                    "headers": {"Content-Type": answer.content_type}}
        (mappings / f"{n:02d}.json").write_text(json.dumps({"request": request, "response": response}))


def _prepare_wiremock(base: str, cases: list[Case], emulator: dict[str, Target],
                      answers: dict[str, Answer]) -> dict[str, Target]:
    targets = {}
    for case in cases:
        mine = emulator[case.name]
        url = base + httpx.URL(mine.url).raw_path.decode()
        answer = httpx.request(case.method, url, headers=mine.headers, content=mine.body, timeout=30)
        if answer.content != answers[case.name].body:
            raise RuntimeError(f"wiremock: {case.name} does not answer the emulator's body: {answer.text[:300]}")
        targets[case.name] = Target(url, mine.headers, mine.body, case.method, len(answer.content),
                                    answer.headers.get("content-type", ""))
    return targets


# -- load ----------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _lua(target: Target, directory: Path) -> Path | None:
    """wrk sends GETs by itself; anything else is a Lua script that sets the method and body."""
    if target.method == "GET" and target.body is None:
        return None
    body = (target.body or b"").decode()
    assert "]==]" not in body
    script = directory / f"wrk-{abs(hash((target.url, body)))}.lua"
    script.write_text(f'wrk.method = "{target.method}"\nwrk.body = [==[{body}]==]\n')
    return script


def _wrk(target: Target, seconds: float, connections: int, cpu: int | None, scripts: Path) -> dict[str, Any]:
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in target.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    script = _lua(target, scripts)
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, target.url], capture_output=True, text=True, check=True).stdout

    def grab(pattern: str) -> str:
        match = re.search(pattern, out, re.M)
        if match is None:
            raise RuntimeError(f"unparsable wrk output:\n{out}")
        return match.group(1)

    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return {"rps": float(grab(r"Requests/sec:\s+([\d.]+)")), "p50_ms": _ms(grab(r"^\s+50%\s+(\S+)")),
            "p99_ms": _ms(grab(r"^\s+99%\s+(\S+)")), "requests": int(grab(r"(\d+) requests in")), "errors": errors}


# -- report --------------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _tool_version(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "not installed"
    out = subprocess.run(cmd, capture_output=True, text=True)
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine_lines() -> list[str]:
    return [
        f"- CPU: {_cpu_model()}; {os.cpu_count()} logical CPUs, {len(os.sched_getaffinity(0))} usable",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); "
        f"uvicorn {_version('uvicorn')}, starlette {_version('starlette')}, "
        f"uvloop {_version('uvloop')}, httptools {_version('httptools')}, orjson {_version('orjson')}",
    ]


def _fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _report(results: dict[tuple[str, str], Result], runs: dict[tuple[str, str], list[Result]], cases: list[Case],
            peers: Peers, args: argparse.Namespace, cpus: tuple[int | None, int | None], extra: list[str],
            load: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    floor = results["bare", "bare"]
    loop, http = _loop_and_http()
    options = "".join(f" --{name} {value:g}" for name, value, default in [
        ("duration", args.duration, 3), ("warmup", args.warmup, 1), ("connections", args.connections, 16),
        ("rounds", args.rounds, 3)] if value != default)
    options += " --no-peers" if args.no_peers else ""
    rows = ["| case | server | req/s | p50 (ms) | p99 (ms) | ratio to floor | target | errors | body (bytes) |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    verdicts: list[str] = []

    def row(case: str, server: str, kind: str | None) -> None:
        r = results.get((case, server))
        if r is None:
            return
        ratio = r.rps / floor.rps
        goal = ""
        if server == "emulator" and kind in TARGETS:
            ok = ratio >= TARGETS[kind]
            goal = f"≥ {TARGETS[kind]} {'✓' if ok else '✗'}"
            verdicts.append(f"{case}: {ratio:.2f} of the floor ({'meets' if ok else 'MISSES'} ≥ {TARGETS[kind]})")
        rows.append(f"| {case} | {server} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio:.2f} | {goal} "
                    f"| {r.errors} | {r.body_bytes} |")

    row("bare", "bare", None)
    for case in cases:
        for server in ("emulator", "prism", "wiremock"):
            row(case.name, server, case.kind)

    peer_rows = ["| case | emulator req/s | Prism req/s | WireMock req/s | emulator ÷ Prism | emulator ÷ WireMock |",
                 "|---|---:|---:|---:|---:|---:|"]
    behind_prism = []
    for case in cases:
        mine, prism, wire = (results.get((case.name, s)) for s in ("emulator", "prism", "wiremock"))
        assert mine is not None
        peer_rows.append(f"| {case.name} | {mine.rps:,.0f} | {f'{prism.rps:,.0f}' if prism else '—'} "
                         f"| {f'{wire.rps:,.0f}' if wire else '—'} "
                         f"| {_fmt_ratio(mine.rps / prism.rps if prism else None)} "
                         f"| {_fmt_ratio(mine.rps / wire.rps if wire else None)} |")
        if prism and mine.rps <= prism.rps:
            behind_prism.append(case.name)
    slow_p99 = [f"{c.name} ({results[c.name, 'emulator'].p99_ms:.2f} ms)" for c in cases
                if results[c.name, "emulator"].p99_ms >= P99_TARGET_MS]
    every_round = ["| case | server | " + " | ".join(f"round {n} req/s" for n in range(1, args.rounds + 1))
                   + " | p99 per round (ms) |", "|---|---|" + "---:|" * args.rounds + "---|"]
    for (case, server), rounds in runs.items():
        every_round.append(f"| {case} | {server} | " + " | ".join(f"{r.rps:,.0f}" for r in rounds)
                           + " | " + ", ".join(f"{r.p99_ms:.2f}" for r in rounds) + " |")
    prism_version = _package_version(PEERS_DIR / "node_modules/@stoplight/prism-cli/package.json")
    prism_text = (f"@stoplight/prism-cli {prism_version}"
                  f" on Node {_tool_version(['node', '--version'])}, `prism mock -v silent openapi/<vendor>.yaml`"
                  " (static examples), one process per document"
                  if peers.prism else f"not available: {peers.why_not.get('prism', 'unknown')}")
    wire_text = (f"wiremock (npm) {_package_version(PEERS_DIR / 'node_modules/wiremock/package.json')}, "
                 f"`java -jar {peers.wiremock_jar.name} --disable-request-logging --no-request-journal` on "
                 f"{_tool_version(['java', '-version'])}, one stub per case with the emulator's own answer"
                 if peers.wiremock_jar else f"not available: {peers.why_not.get('wiremock', 'unknown')}")
    server_cpu, load_cpu = cpus
    pinning = (f"every server on CPU {server_cpu}, wrk on CPU {load_cpu} (taskset)" if server_cpu is not None
               else "not pinned (fewer than two CPUs, or no taskset)")
    target_lines = [
        *[f"- {v}" for v in verdicts],
        f"- p99 under {P99_TARGET_MS:g} ms at {args.connections} connections on every emulator case: "
        + ("meets" if not slow_p99 else "MISSES for " + ", ".join(slow_p99)),
        "- ahead of Prism on every case: " + ("not measured (Prism not available)" if not peers.prism else
                                             "meets" if not behind_prism else "MISSES for " + ", ".join(behind_prism)),
    ]
    return "\n".join([
        "# Performance suite",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `.venv/bin/python -m benchmarks.suite{options}` "
        "(see the module's docstring for how each server is set up).",
        "",
        "## Targets",
        "",
        *target_lines,
        "",
        "## Throughput and latency",
        "",
        f"Each case's median round of {args.rounds} (by req/s); {args.connections} connections; the floor is the bare "
        "Starlette endpoint. `errors` counts non-2xx answers and socket errors.",
        "",
        *rows,
        "",
        "### Against the peers",
        "",
        "Prism answers the document's examples (its bodies differ from the emulator's: see the body column "
        "above); WireMock answers the emulator's own bodies from static stubs. Neither keeps any state.",
        "",
        *peer_rows,
        "",
        "### Every round",
        "",
        *every_round,
        "",
        *extra,
        "## Machine and set-up",
        "",
        *machine_lines(),
        f"- Servers: every Python server is uvicorn, 1 worker, loop={loop}, http={http}, log_level=warning, "
        "access log off; the emulator serves every vendor (real clock, timing_scale "
        f"{TIMING_SCALE:g}), the floor is a one-route Starlette app returning `JSONResponse` of the "
        "Perseworks poll's body",
        f"- Prism: {prism_text}",
        f"- WireMock: {wire_text}",
        f"- Load: {_tool_version(['wrk', '--version'])}; 1 thread, {args.connections} connections, a "
        f"{args.prewarm:g} s warm-up of every case before the first round, then per case and round "
        f"{args.warmup:g} s warm-up and {args.duration:g} s measured; POST bodies through a wrk Lua script",
        f"- Pinning: {pinning}",
        f"- Load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in load[0])}; at the end of the "
        f"HTTP cases: {', '.join(f'{x:.2f}' for x in load[1])} (above 2 on this 2-CPU machine means other work "
        "shared the CPUs: compare ratios within the run, not req/s across runs)",
        "",
    ])


def _write(report: str) -> None:
    notes = ""
    if DOC.exists():
        text = DOC.read_text()
        at = text.find(NOTES_HEADING)
        if at >= 0:
            notes = text[at:]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(report.rstrip("\n") + "\n\n" + (notes or f"{NOTES_HEADING}\n\n(none yet)\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per case and round (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per case and round (default 1)")
    parser.add_argument("--prewarm", type=float, default=2.0,
                        help="one warm-up of every case before the first round (JIT, caches; default 2)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--no-peers", action="store_true", help="skip Prism and WireMock")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--no-list-cost", action="store_true", help="skip the list-cost measurement")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks for memory and list cost (default 100000)")
    parser.add_argument("--only", help="run only the cases whose name contains this text (and the floor)")
    parser.add_argument("--no-write", action="store_true", help="print the report, do not write docs/benchmarks.md")
    parser.add_argument("--serve", choices=["emulator", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--body-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve, args.port, args.body_file)
        return 0
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2

    cases = [c for c in _cases() if not args.only or args.only in c.name]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, load_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 and shutil.which("taskset") else (None, None)
    peers = _install_peers(args.no_peers)
    load_at_start = os.getloadavg()
    results: dict[tuple[str, str], Result] = {}
    runs: dict[tuple[str, str], list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp, contextlib.ExitStack() as stack:
        scratch = Path(tmp)
        emulator_base = stack.enter_context(_python_server("emulator", server_cpu))
        emulator, answers = _prepare_emulator(emulator_base, cases)
        poll = answers.get("perseworks poll")
        floor_body = poll.body if poll else b'{"id":"vid_x","status":"succeeded"}'
        (scratch / "floor.json").write_bytes(floor_body)
        bare_base = stack.enter_context(_python_server("bare", server_cpu, str(scratch / "floor.json")))
        any_headers = next(iter(emulator.values())).headers
        targets: dict[tuple[str, str], Target] = {
            ("bare", "bare"): Target(bare_base + BARE_PATH, {"Authorization": any_headers["Authorization"]}, None,
                                     "GET", len(floor_body), "application/json")}
        for case in cases:
            targets[case.name, "emulator"] = emulator[case.name]
        if peers.prism:
            bases = {}
            try:
                for vendor in dict.fromkeys(c.vendor for c in cases):
                    port = _free_port()
                    cmd = [*_pin(server_cpu), peers.prism, "mock", "-p", str(port), "-h", HOST, "-v", "silent",
                           str(ROOT / "openapi" / f"{vendor}.yaml")]
                    bases[vendor] = stack.enter_context(_process(f"prism ({vendor})", cmd, port))
                for name, target in _prepare_prism(bases, cases, emulator).items():
                    targets[name, "prism"] = target
            except (RuntimeError, httpx.HTTPError) as exc:
                peers.why_not["prism"] = f"did not run: {exc}"
                peers.prism = None
        if peers.wiremock_jar:
            try:
                _wiremock_mappings(scratch / "wiremock", cases, emulator, answers)
                port = _free_port()
                cmd = [*_pin(server_cpu), "java", "-jar", str(peers.wiremock_jar), "--port", str(port),
                       "--root-dir", str(scratch / "wiremock"), "--disable-banner", "--disable-request-logging",
                       "--no-request-journal"]
                wire_base = stack.enter_context(_process("wiremock", cmd, port, startup=120))
                for name, target in _prepare_wiremock(wire_base, cases, emulator, answers).items():
                    targets[name, "wiremock"] = target
            except (RuntimeError, httpx.HTTPError) as exc:
                peers.why_not["wiremock"] = f"did not run: {exc}"
                peers.wiremock_jar = None
        if args.prewarm > 0:
            for (case, server), target in targets.items():
                _wrk(target, args.prewarm, args.connections, load_cpu, scratch)
                print(f"pre-warmed {case} on {server}", file=sys.stderr)
        for round_no in range(1, args.rounds + 1):
            for (case, server), target in targets.items():
                if args.warmup > 0:
                    _wrk(target, args.warmup, args.connections, load_cpu, scratch)
                figures = _wrk(target, args.duration, args.connections, load_cpu, scratch)
                result = Result(case, server, body_bytes=target.body_bytes, content_type=target.content_type, **figures)
                runs.setdefault((case, server), []).append(result)
                print(f"round {round_no}: {case} on {server}: {result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms, "
                      f"{result.errors} errors", file=sys.stderr)
    load_at_end = os.getloadavg()
    for key, rounds in runs.items():
        results[key] = sorted(rounds, key=lambda r: r.rps)[len(rounds) // 2]

    extra: list[str] = []
    if not args.no_memory:
        from . import memory

        extra += memory.report_section(memory.measure_all(args.tasks))
    if not args.no_list_cost:
        from . import list_cost

        extra += list_cost.report_section(list_cost.measure_all(args.tasks))
    report = _report(results, runs, cases, peers, args, (server_cpu, load_cpu), extra, (load_at_start, load_at_end))
    print(report)
    if not args.no_write:
        _write(report)
        print(f"written to {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
