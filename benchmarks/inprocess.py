"""The emulator's own cost per request, with no server and no sockets: each case of the suite
sent straight to the ASGI app, in a loop, on one event loop. This is where profiling starts
(the HTTP suite also measures uvicorn and the kernel, and is noisy on a shared machine).

    .venv/bin/python -m benchmarks.inprocess                      # µs per request, every case
    .venv/bin/python -m benchmarks.inprocess --profile "genray submit"   # and where the time goes

The app is the suite's emulator (every vendor, real clock, timing_scale 0.001, scheduler
running), the accounts are the suite's, and each case's request is the suite's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from typing import Any

from emulator.app import EmulatorApp, create_app
from emulator.core.runtime import Settings
from emulator.vendors import NAMES

from .suite import ACCOUNT_FIELDS, CREDITS, TIMING_SCALE, Case, _cases, _mounts

Scope = dict[str, Any]


def build_app() -> EmulatorApp:
    extra = {f"{name}.timing_scale": TIMING_SCALE for name in NAMES}
    return create_app(Settings(vendors=NAMES, clock="real", seed=7, extra=extra))


async def call(app: EmulatorApp, method: str, path: str, query: str = "", headers: dict[str, str] | None = None,
               body: bytes = b"") -> tuple[int, bytes]:
    """One request through the whole app, as uvicorn would hand it over."""
    raw_headers = [(b"host", b"127.0.0.1:8000")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope: Scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                    "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                    "root_path": "", "headers": raw_headers, "client": ("127.0.0.1", 50000),
                    "server": ("127.0.0.1", 8000)}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class Driver:
    """The suite's accounts and requests, in-process."""

    def __init__(self, app: EmulatorApp):
        self.app = app
        self.mounts = _mounts()
        self.headers: dict[str, dict[str, str]] = {}

    async def setup(self) -> None:
        for vendor, fields in ACCOUNT_FIELDS.items():
            status, body = await call(self.app, "POST", "/_emulator/accounts",
                                      headers={"content-type": "application/json"},
                                      body=json.dumps({"vendor": vendor, "credits": CREDITS, "rate_limit_rpm": 0,
                                                       **fields}).encode())
            assert status in (200, 201), body
            self.headers[vendor] = {"authorization": f"Bearer {json.loads(body)['api_key']}"}

    async def request_for(self, case: Case) -> tuple[str, str, str, dict[str, str], bytes]:
        headers = dict(self.headers[case.vendor])
        path, query = self.mounts[case.vendor] + case.spec_path, case.query
        if case.kind == "poll":
            submit = next(c for c in _cases() if c.vendor == case.vendor and c.kind == "submit")
            _, created = await self.send(submit)
            parsed = json.loads(created)
            task_id = str(parsed.get("id") or parsed.get("taskId"))
            await asyncio.sleep(0.5)  # the task ends (timing_scale)
            path, query = path.replace("{id}", task_id), query.replace("{id}", task_id)
        body = json.dumps(case.body).encode() if case.body is not None else b""
        if body:
            headers["content-type"] = "application/json"
        return case.method, path, query, headers, body

    async def send(self, case: Case) -> tuple[int, bytes]:
        method, path, query, headers, body = await self.request_for(case) if case.kind == "poll" else (
            case.method, self.mounts[case.vendor] + case.spec_path, case.query,
            {**self.headers[case.vendor], "content-type": "application/json"}, json.dumps(case.body).encode())
        return await call(self.app, method, path, query, headers, body)


async def measure(case: Case, count: int, profile: bool) -> tuple[float, pstats.Stats | None]:
    app = build_app()
    app.emulator.scheduler.start()
    try:
        driver = Driver(app)
        await driver.setup()
        method, path, query, headers, body = await driver.request_for(case)
        for _ in range(200):  # warm-up
            status, answer = await call(app, method, path, query, headers, body)
            assert 200 <= status < 300, (status, answer[:300])
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        started = time.process_time()  # CPU time: other processes on a shared machine do not count
        refused = 0
        for n in range(count):
            status, _ = await call(app, method, path, query, headers, body)
            refused += not 200 <= status < 300
            if n % 16 == 0:
                await asyncio.sleep(0)  # the scheduler's turn, as between requests on a server
        elapsed = time.process_time() - started
        if profiler:
            profiler.disable()
        if refused:
            print(f"{case.name}: {refused} of {count} requests were refused (not 2xx)")
        return elapsed / count * 1e6, pstats.Stats(profiler) if profiler else None
    finally:
        await app.emulator.scheduler.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="requests per case (default 5000)")
    parser.add_argument("--profile", help="profile the case of this name (cProfile, top 30 by own time)")
    parser.add_argument("--only", help="cases whose name contains this text")
    parser.add_argument("--sort", default="tottime", help="the profile's order: tottime (default) or cumulative")
    args = parser.parse_args(argv)
    for case in _cases():
        if (args.profile and case.name != args.profile) or (args.only and args.only not in case.name):
            continue
        micros, stats = asyncio.run(measure(case, args.count, bool(args.profile)))
        print(f"{case.name:28} {micros:8.1f} µs/request")
        if stats:
            stats.sort_stats(args.sort).print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
