"""Throughput and latency of the Perseworks poll endpoint against a bare Starlette JSON endpoint.

    .venv/bin/python -m benchmarks.poll_vs_bare            # ~10 s per case, 16 connections
    .venv/bin/python -m benchmarks.poll_vs_bare --duration 5 --connections 32 --no-write

Both cases are served the same way, each by its own server process: uvicorn, one worker,
the same loop and HTTP implementation, `log_level=warning`, access log off. The load tool
runs as a separate process on another core (`taskset`, when there are two or more), with
the same arguments for both cases, after a warm-up run.

- `poll`: `GET /perseworks/v1/video/generations/{id}` on the emulator (manual clock), with
  an account whose key has `rate_limit_rpm: 0`, one task created and the clock advanced past
  its end, so every request is a full pipeline pass (auth, rate limit, path validation,
  lifecycle lookup, render) answering the `succeeded` body.
- `bare`: a one-route Starlette app whose endpoint returns a `JSONResponse` of that same body.

The load tool is `wrk` (install: `apt-get install -y wrk`). Without it the script falls back,
with a loud warning, to a small asyncio load generator (raw keep-alive sockets) whose figures
are NOT comparable with wrk's (it measures the Python client about as much as the server).

Prints a Markdown table (case, req/s, p50, p99, ratio to bare) and the machine, and writes
both to docs/benchmarks.md (unless --no-write). The target: poll ≥ 0.5 × bare throughput.
"""

from __future__ import annotations

import argparse
import asyncio
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BARE_PATH = "/bare"
TARGET_RATIO = 0.5
HOST = "127.0.0.1"


def _loop_and_http() -> tuple[str, str]:
    """The fastest implementations installed; both servers get the same ones."""
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


# -- the servers (run in their own processes: `python -m benchmarks.poll_vs_bare --serve ...`) --


def _serve(kind: str, port: int, body_file: str | None) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if kind == "emulator":
        from emulator.app import create_app
        from emulator.core.runtime import Settings
        from emulator.vendors import NAMES

        app = create_app(Settings(vendors=NAMES, clock="manual", seed=7))
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
def _server(kind: str, cpu: int | None, body_file: str | None = None) -> Iterator[str]:
    port = _free_port()
    cmd = [*_pin(cpu), sys.executable, "-m", "benchmarks.poll_vs_bare", "--serve", kind, "--port", str(port)]
    if body_file:
        cmd += ["--body-file", body_file]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the {kind} server exited with {proc.returncode}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the {kind} server did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _prepare_poll_target(base: str) -> tuple[str, str, bytes]:
    """Account (unlimited), one task, clock past its end: (url, key, succeeded body)."""
    with httpx.Client(base_url=base, timeout=10) as c:
        account = c.post("/_emulator/accounts", json={"vendor": "perseworks", "credits": 10_000,
                                                      "rate_limit_rpm": 0})
        account.raise_for_status()
        key = account.json()["api_key"]
        auth = {"Authorization": f"Bearer {key}"}
        created = c.post("/perseworks/v1/video/generations", headers=auth,
                         json={"model": "seedance-2.0", "prompt": "a cat on a skateboard",
                               "resolution": "720p", "durationSec": 5})
        created.raise_for_status()
        c.post("/_emulator/clock/advance", json={"seconds": 3600}).raise_for_status()
        url = f"{base}/perseworks/v1/video/generations/{created.json()['id']}"
        polled = c.get(url, headers=auth)
        polled.raise_for_status()
        if polled.json()["status"] != "succeeded":
            raise RuntimeError(f"the task did not succeed: {polled.text}")
        return url, key, polled.content


# -- load -------------------------------------------------------------------------------


@dataclass
class Result:
    case: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    body_bytes: int


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int, cpu: int | None) -> dict[str, Any]:
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "errors": errors}


async def _py_load_async(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict[str, Any]:
    """Closed-loop keep-alive GETs over raw asyncio streams, one request in flight per connection
    (what wrk does, minus its C speed). No HTTP client library: it would dominate the figures."""
    parts = httpx.URL(url)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n{head}\r\n").encode()
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if b" 200 " not in status_line:
                    errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "requests": len(latencies), "errors": errors}


def _py_load(url: str, headers: dict[str, str], seconds: float, connections: int, cpu: int | None) -> dict[str, Any]:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})  # this process is the load generator; the servers are elsewhere
    try:
        import uvloop

        return uvloop.run(_py_load_async(url, headers, seconds, connections))
    except ImportError:
        return asyncio.run(_py_load_async(url, headers, seconds, connections))


def _run_case(case: str, url: str, headers: dict[str, str], args: argparse.Namespace, tool: str,
              cpu: int | None, body_bytes: int) -> Result:
    load = _wrk if tool == "wrk" else _py_load
    load(url, headers, args.warmup, args.connections, cpu)  # warm-up: connections, caches, JIT-free steady state
    figures = load(url, headers, args.duration, args.connections, cpu)
    return Result(case=case, body_bytes=body_bytes, **figures)


# -- report -----------------------------------------------------------------------------


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


def _wrk_version() -> str:
    if not shutil.which("wrk"):
        return "not installed"
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _report(results: list[Result], runs: dict[str, list[Result]], args: argparse.Namespace, tool: str,
            server_cpu: int | None, load_cpu: int | None) -> str:
    bare = next(r for r in results if r.case == "bare")
    poll = next(r for r in results if r.case == "poll")
    loop, http = _loop_and_http()
    rows = ["| case | req/s | p50 (ms) | p99 (ms) | ratio to bare | requests | errors | body (bytes) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.case} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.rps / bare.rps:.2f} "
                    f"| {r.requests:,} | {r.errors} | {r.body_bytes} |")
    ratio = poll.rps / bare.rps
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    caveat = "" if tool == "wrk" else " UNRELIABLE: measured with the Python fallback load generator, not wrk."
    per_round = [f"| {n} | {b.rps:,.0f} | {p.rps:,.0f} | {p.rps / b.rps:.2f} | {b.p99_ms:.2f} | {p.p99_ms:.2f} |"
                 for n, (b, p) in enumerate(zip(runs["bare"], runs["poll"], strict=True), start=1)]
    pinning = (f"servers on CPU {server_cpu}, load tool on CPU {load_cpu} (taskset)"
               if server_cpu is not None else "not pinned (fewer than two CPUs, or no taskset)")
    machine = [
        f"- CPU: {_cpu_model()}; {os.cpu_count()} logical CPUs, {len(os.sched_getaffinity(0))} usable",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); "
        f"uvicorn {_version('uvicorn')}, starlette {_version('starlette')}, "
        f"uvloop {_version('uvloop')}, httptools {_version('httptools')}, orjson {_version('orjson')}",
        f"- Servers: one process per case, each uvicorn with 1 worker, loop={loop}, http={http}, "
        "log_level=warning, access log off",
        f"- Load: {tool if tool == 'wrk' else 'asyncio fallback load generator (NOT comparable with wrk)'}"
        f"{' (' + _wrk_version() + ')' if tool == 'wrk' else ''}, 1 thread, {args.connections} connections, "
        f"{args.warmup:g} s warm-up then {args.duration:g} s per run, {args.rounds} interleaved round(s); "
        "the same request (path aside) and headers for both",
        f"- Pinning: {pinning}",
    ]
    options = "".join(f" --{name} {value:g}" for name, value, default in [
        ("duration", args.duration, 10), ("warmup", args.warmup, 3), ("connections", args.connections, 16),
        ("rounds", args.rounds, 3)] if value != default)
    return "\n".join([
        "# Benchmark: Perseworks poll vs a bare Starlette JSON endpoint",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `.venv/bin/python -m benchmarks.poll_vs_bare{options}`.",
        "",
        "- `poll`: `GET /perseworks/v1/video/generations/{id}` on the emulator: key with "
        "`rate_limit_rpm: 0`, one task, manual clock advanced past its end (`succeeded` body).",
        "- `bare`: a one-route Starlette app returning `JSONResponse` of the same body.",
        "",
        "Each case's median round (by req/s):",
        "",
        *rows,
        "",
        f"Poll/bare throughput ratio: **{ratio:.2f}** — {verdict} the target of ≥ {TARGET_RATIO}.{caveat}",
        "",
        "Every round:",
        "",
        "| round | bare req/s | poll req/s | ratio | bare p99 (ms) | poll p99 (ms) |",
        "|---:|---:|---:|---:|---:|---:|",
        *per_round,
        "",
        "Machine:",
        "",
        *machine,
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per case (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds per case; the table shows each case's median round (default 3)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--serve", choices=["emulator", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--body-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve, args.port, args.body_file)
        return 0

    tool = "wrk" if shutil.which("wrk") else "python"
    if tool != "wrk":
        banner = "!" * 78
        print(f"{banner}\n!! WARNING: `wrk` is not installed. Install it for real figures:\n"
              f"!!     apt-get update && apt-get install -y wrk      (Debian/Ubuntu)\n"
              f"!!     brew install wrk                              (macOS)\n"
              f"!! Falling back to a small asyncio load generator: its figures measure the\n"
              f"!! Python client about as much as the server and are NOT comparable with wrk's.\n"
              f"{banner}", file=sys.stderr)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, load_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 and shutil.which("taskset") else (None, None)

    fd, name = tempfile.mkstemp(prefix="poll_vs_bare-", suffix=".json")
    os.close(fd)
    body_file = Path(name)
    runs: dict[str, list[Result]] = {"bare": [], "poll": []}
    try:
        with _server("emulator", server_cpu) as emulator_base:
            url, key, body = _prepare_poll_target(emulator_base)
            headers = {"Authorization": f"Bearer {key}"}  # sent to both (the bare app ignores it)
            print(f"poll target: {url}\n  {len(body)} bytes: {body.decode()}", file=sys.stderr)
            body_file.write_bytes(body)
            with _server("bare", server_cpu, str(body_file)) as bare_base:
                bare_url = bare_base + BARE_PATH
                check = httpx.get(bare_url, headers=headers)
                check.raise_for_status()
                if check.json() != json.loads(body):
                    raise RuntimeError("the bare endpoint does not answer the poll's body")
                targets = {"bare": (bare_url, len(check.content)), "poll": (url, len(body))}
                # Interleaved rounds: a noisy neighbour then hurts both cases alike.
                for round_no in range(1, args.rounds + 1):
                    for case in ("bare", "poll"):
                        target, size = targets[case]
                        runs[case].append(_run_case(case, target, headers, args, tool, load_cpu, size))
                        print(f"round {round_no}: {runs[case][-1]}", file=sys.stderr)
    finally:
        body_file.unlink(missing_ok=True)
    # The median round of each case, by throughput.
    results = [sorted(runs[case], key=lambda r: r.rps)[len(runs[case]) // 2] for case in ("bare", "poll")]

    report = _report(results, runs, args, tool, server_cpu, load_cpu)
    print(report)
    if not args.no_write:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(report)
        print(f"written to {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
