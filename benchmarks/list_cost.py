"""What a page of a list endpoint costs with few and with many tasks in the account.

    .venv/bin/python -m benchmarks.list_cost               # 1 000 vs 100 000 tasks
    .venv/bin/python -m benchmarks.list_cost --tasks 20000

The list operations of the documents: PowerTokens' Ark `GET .../contents/generations/tasks`
(page_num/page_size, filters), SeeGen's `GET /assets/list` (cursor, limit) and Genray's
`GET /api/keys` (every key of the account; keys are few, tasks do not enter it). Each request
goes through the ASGI app in-process (no sockets), and each figure is the median of many calls.
The account is filled with copies of one real task made through the API, planned as already done
(as `tests/test_list_cost.py` does; that test counts the task records a page touches, this
measures time). Perseworks has no list operation.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from .inprocess import build_app, call

SMALL = 1_000
PAGE = 10


@dataclass
class Row:
    case: str
    small_us: float
    large_us: float
    large: int


async def _timed(app: Any, path: str, query: str, headers: dict[str, str], repeat: int) -> float:
    status, body = await call(app, "GET", path, query, headers)
    if status != 200:
        raise RuntimeError(f"GET {path}?{query}: {status} {body[:300]!r}")
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call(app, "GET", path, query, headers)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def _fill(app: Any, template_id: str, copies: int, start: int = 0, **changes: Any) -> None:
    lifecycle = app.emulator.lifecycle
    template = lifecycle.tasks[template_id]
    for n in range(start, start + copies):
        extra = {name: make(n) for name, make in changes.items()}
        lifecycle.start(dataclasses.replace(template, id=f"{template.id}-{n:07d}", params=dict(template.params),
                                            data={**template.data, **extra}, applied=len(template.steps)))


async def _account(app: Any, vendor: str, **fields: Any) -> dict[str, str]:
    status, body = await call(app, "POST", "/_emulator/accounts", headers={"content-type": "application/json"},
                              body=json.dumps({"vendor": vendor, "credits": 10**9, "rate_limit_rpm": 0,
                                               **fields}).encode())
    assert status in (200, 201), body
    return {"authorization": f"Bearer {json.loads(body)['api_key']}"}


async def _measure(large: int, repeat: int) -> list[Row]:
    app = build_app()
    rows: list[Row] = []
    mounts = {name: vendor.prefix + vendor.spec.base_path for name, vendor in app.emulator.vendors.items()}
    json_headers = {"content-type": "application/json"}

    # PowerTokens: the Ark task list, page 2 of 10, with no filter and with a status filter.
    pt = await _account(app, "powertokens")
    tasks_path = mounts["powertokens"] + "/byteplus/api/v3/contents/generations/tasks"
    status, created = await call(app, "POST", tasks_path, headers={**pt, **json_headers}, body=json.dumps(
        {"model": "dreamina-seedance-2-0-260128", "content": [{"type": "text", "text": "a cat"}]}).encode())
    assert status == 200, created
    template = json.loads(created)["id"]
    figures: dict[str, list[float]] = {}
    cases = {"powertokens task list, page 2 of 10": "page_num=2&page_size=10",
             "powertokens task list, filter.status=queued": "page_num=2&page_size=10&filter.status=queued"}
    held = 1
    for size in (SMALL, large):
        _fill(app, template, size - held, start=held)
        held = size
        for name, query in cases.items():
            figures.setdefault(name, []).append(await _timed(app, tasks_path, query, pt, repeat))

    # SeeGen: the asset list, the fourth page of 10 (by cursor).
    sg = await _account(app, "seegen")
    status, uploaded = await call(app, "POST", mounts["seegen"] + "/assets/upload", headers={**sg, **json_headers},
                                  body=json.dumps({"url": "https://example.com/photo.jpg", "type": "IMAGE"}).encode())
    assert status == 200, uploaded
    asset = app.emulator.lifecycle.tasks[json.loads(uploaded)["volcAssetId"]]
    first, held = asset.data["asset_id"], 1
    name = "seegen asset list, 4th page of 10 (cursor)"
    for size in (SMALL, large):
        _fill(app, asset.id, size - held, start=held, asset_id=lambda n, first=first: first + n)
        held = size
        cursor = first + size - 3 * PAGE
        figures.setdefault(name, []).append(await _timed(app, mounts["seegen"] + "/assets/list",
                                                         f"limit={PAGE}&cursor={cursor}", sg, repeat))

    # Genray: the key list of an account whose tasks grow (keys do not).
    gr = await _account(app, "genray", plan="advanced", concurrent_jobs=0)
    status, job = await call(app, "POST", mounts["genray"] + "/api/v1/videos", headers={**gr, **json_headers},
                             body=json.dumps({"prompt": "a cat", "duration": 5}).encode())
    assert status == 202, job
    held = 1
    name = "genray key list"
    for size in (SMALL, large):
        _fill(app, json.loads(job)["id"], size - held, start=held)
        held = size
        figures.setdefault(name, []).append(await _timed(app, mounts["genray"] + "/api/keys", "", gr, repeat))
    for case, (small_us, large_us) in figures.items():
        rows.append(Row(case, small_us, large_us, large))
    return rows


def measure_all(large: int = 100_000, repeat: int = 200) -> list[Row]:
    rows = asyncio.run(_measure(large, repeat))
    for row in rows:
        print(f"list cost: {row.case}: {row.small_us:.0f} µs at {SMALL:,}, {row.large_us:.0f} µs at {row.large:,}",
              file=sys.stderr)
    return rows


def report_section(rows: list[Row]) -> list[str]:
    large = rows[0].large if rows else 0
    table = [f"| list request | µs at {SMALL:,} tasks | µs at {large:,} tasks | ratio |", "|---|---:|---:|---:|"]
    table += [f"| {r.case} | {r.small_us:,.0f} | {r.large_us:,.0f} | {r.large_us / r.small_us:.2f} |" for r in rows]
    return [
        "## List cost against tasks held",
        "",
        f"`python -m benchmarks.list_cost --tasks {large}`: one account holding {SMALL:,} and then {large:,} tasks "
        "(copies of one real task), a page of 10 through the ASGI app in-process, median of 200 calls. "
        "An unfiltered page costs what it shows; a filter has to read every task of the account's last 7 days "
        "(the Ark answer's `total` counts the matches), so it grows with them, by design. "
        "`tests/test_list_cost.py` pins the unfiltered pages by counting the task records they touch.",
        "",
        *table,
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="the larger account's tasks (default 100000)")
    parser.add_argument("--repeat", type=int, default=200, help="calls per figure (default 200)")
    args = parser.parse_args(argv)
    print("\n".join(report_section(measure_all(args.tasks, args.repeat))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
