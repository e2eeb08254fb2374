"""Memory per stored task: N submits per vendor through the real code path (the ASGI app called
in-process, as `benchmarks.inprocess` does: routing, auth, validation, handler, ledger,
lifecycle, media registration, journal), every task run to its end, then the growth of the
process's resident set divided by N. Each vendor is measured in a fresh process.

    .venv/bin/python -m benchmarks.memory                 # 100 000 tasks per vendor
    .venv/bin/python -m benchmarks.memory --tasks 20000 --breakdown   # and where it goes (tracemalloc)

The target (issue 8): under 2 KiB per stored task at 100k tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_BYTES = 2048
VENDORS = ("perseworks", "seegen", "powertokens", "genray")


@dataclass
class Measurement:
    vendor: str
    tasks: int
    rss_bytes_per_task: float
    traced_bytes_per_task: float | None
    top: list[tuple[str, int]]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _fill(vendor: str, count: int, breakdown: bool) -> Measurement:
    from .inprocess import Driver, build_app, call
    from .suite import _cases

    app = build_app()
    emulator = app.emulator
    emulator.scheduler.start()
    try:
        driver = Driver(app)
        await driver.setup()
        submit = next(c for c in _cases() if c.vendor == vendor and c.kind == "submit")
        method, path, query, headers, body = await driver.request_for(submit)
        for _ in range(100):  # first-use allocations (caches, compiled validators) before the baseline
            await call(app, method, path, query, headers, body)
        await asyncio.sleep(0.3)
        await emulator.scheduler.run_due()
        gc.collect()
        if breakdown:
            tracemalloc.start(1)
        before_tasks = len(emulator.lifecycle.tasks)
        before_rss = _rss()
        snapshot_before = tracemalloc.take_snapshot() if breakdown else None
        for n in range(count):
            status, answer = await call(app, method, path, query, headers, body)
            while status == 429:  # PowerTokens' 120 queued tasks per account: let some start
                await asyncio.sleep(0.02)
                status, answer = await call(app, method, path, query, headers, body)
            if not 200 <= status < 300:
                raise RuntimeError(f"{vendor} submit {n}: {status} {answer[:300]!r}")
            if n % 64 == 0:
                await asyncio.sleep(0)  # the scheduler's turn: steps run as the tasks end
        await asyncio.sleep(0.5)  # timing_scale 0.001: every task has ended
        await emulator.scheduler.run_due()
        gc.collect()
        stored = len(emulator.lifecycle.tasks) - before_tasks
        rss = (_rss() - before_rss) / stored
        traced, top = None, []
        if snapshot_before is not None:
            after = tracemalloc.take_snapshot()
            stats = after.compare_to(snapshot_before, "filename")
            traced = sum(s.size_diff for s in stats) / stored
            top = [(str(Path(s.traceback[0].filename).relative_to(ROOT) if s.traceback[0].filename.startswith(
                str(ROOT)) else Path(s.traceback[0].filename).name), s.size_diff // stored) for s in stats[:8]]
            tracemalloc.stop()
        return Measurement(vendor, stored, rss, traced, top)
    finally:
        await emulator.scheduler.stop()


def measure(vendor: str, count: int, breakdown: bool = False) -> Measurement:
    """One vendor, in a fresh process (so that each starts from the same heap)."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--child", vendor, "--tasks", str(count)]
    if breakdown:
        cmd.append("--breakdown")
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return Measurement(**json.loads(out.strip().splitlines()[-1]))


def measure_all(count: int, breakdown: bool = False) -> list[Measurement]:
    """Every vendor, one process each, as many at once as there are CPUs (each measures only itself)."""
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        results = list(pool.map(lambda vendor: measure(vendor, count, breakdown), VENDORS))
    for r in results:
        print(f"memory: {r.vendor}: {r.rss_bytes_per_task:,.0f} bytes per task", file=sys.stderr)
    return results


def report_section(results: list[Measurement]) -> list[str]:
    rows = ["| vendor | tasks stored | resident bytes per task | target |", "|---|---:|---:|---|"]
    for r in results:
        ok = r.rss_bytes_per_task < TARGET_BYTES
        rows.append(f"| {r.vendor} | {r.tasks:,} | {r.rss_bytes_per_task:,.0f} | {'✓' if ok else '✗'} < 2 KiB |")
    return [
        "## Memory per stored task",
        "",
        f"`python -m benchmarks.memory --tasks {results[0].tasks if results else 0}`: each vendor in a fresh "
        "process, that many submits through the ASGI app in-process (no sockets), every task run to its end "
        "(timing_scale 0.001), then the growth of the resident set divided by the tasks stored. It counts "
        "everything a task leaves behind: the task, its request body, its ledger entries, its media "
        "registrations.",
        "",
        *rows,
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks per vendor (default 100000)")
    parser.add_argument("--breakdown", action="store_true", help="also trace allocations (slower) by file")
    parser.add_argument("--child", choices=VENDORS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = asyncio.run(_fill(args.child, args.tasks, args.breakdown))
        print(json.dumps(result.__dict__))
        return 0
    results = measure_all(args.tasks, args.breakdown)
    print("\n".join(report_section(results)))
    for r in results:
        if r.top:
            print(f"{r.vendor}: traced {r.traced_bytes_per_task:,.0f} bytes per task; by file: "
                  + ", ".join(f"{name} {size}" for name, size in r.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
