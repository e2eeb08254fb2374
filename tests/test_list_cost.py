"""List endpoints cost in proportion to the page, not to the tasks held (issue 8).

Work is counted, not timed: every attribute read of a `Task` during one list request marks that
task as touched. A page of 10 from an account of a few hundred tasks and from one of a few
thousand must touch the same handful: the page itself and the few a bisection probes. The
account is filled with copies of one real task (made through the API), so that the listing
reads real task records; the copies are planned as already done, so they run no side effects.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.core.lifecycle import Task
from emulator.testing import RunningEmulator

PAGE = 10
SIZES = (300, 3000)
ARK_TASKS = "/byteplus/api/v3/contents/generations/tasks"


class TouchCounter:
    """Which tasks had any attribute read while `counting` was on."""

    def __init__(self) -> None:
        self.touched: set[int] = set()
        self.on = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        counter = self

        def counting_getattribute(task: Task, name: str) -> Any:
            if counter.on:
                counter.touched.add(id(task))
            return object.__getattribute__(task, name)

        monkeypatch.setattr(Task, "__getattribute__", counting_getattribute)

    def count(self, request: Any) -> tuple[int, httpx.Response]:
        self.touched.clear()
        self.on = True
        try:
            response = request()
        finally:
            self.on = False
        return len(self.touched), response


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[TouchCounter]:
    touch = TouchCounter()
    touch.install(monkeypatch)
    yield touch


def _fill(emu: RunningEmulator, template_id: str, copies: int, **changes: Any) -> list[str]:
    """`copies` more tasks like the template, newest last; each copy planned as already applied."""
    lifecycle = emu.emulator.lifecycle
    template = lifecycle.tasks[template_id]
    ids = []
    for n in range(copies):
        extra = {name: make(n) for name, make in changes.items()}
        copy = dataclasses.replace(template, id=f"{template.id}-copy{n:06d}", params=dict(template.params),
                                   data={**template.data, **extra}, applied=len(template.steps))
        lifecycle.start(copy)
        ids.append(copy.id)
    return ids


def _bound(tasks: int) -> int:
    """The page, plus what bisecting `tasks` may probe (twice: the code may bisect once more)."""
    return PAGE + 2 * math.ceil(math.log2(tasks + 1)) + 2


def test_an_ark_task_list_page_touches_the_page_not_the_account(emu: RunningEmulator,
                                                                counter: TouchCounter) -> None:
    touched = {}
    for size in SIZES:
        account = emu.create_account("powertokens", credits=10_000_000, rate_limit_rpm=0)
        with httpx.Client(base_url=emu.vendor_url("powertokens"),
                          headers={"Authorization": f"Bearer {account['api_key']}"}) as api:
            created = api.post(ARK_TASKS, json={"model": "dreamina-seedance-2-0-260128", "duration": 5,
                                                "content": [{"type": "text", "text": "a cat"}]})
            assert created.status_code == 200, created.text
            copies = _fill(emu, created.json()["id"], size - 1)
            touched[size], listed = counter.count(lambda: api.get(ARK_TASKS, params={"page_num": 2,
                                                                                      "page_size": PAGE}))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        newest_first = list(reversed([created.json()["id"], *copies]))
        assert body["total"] == size
        assert [item["id"] for item in body["items"]] == newest_first[PAGE:2 * PAGE]
        assert touched[size] <= _bound(size), f"{touched[size]} tasks touched for a page of {PAGE} of {size}"
    assert touched[SIZES[1]] - touched[SIZES[0]] <= 2 * math.ceil(math.log2(SIZES[1] / SIZES[0]) + 1)


def test_a_seegen_asset_list_page_touches_the_page_not_the_account(emu: RunningEmulator,
                                                                   counter: TouchCounter) -> None:
    touched = {}
    for size in SIZES:
        account = emu.create_account("seegen", credits=10_000, rate_limit_rpm=0)
        with httpx.Client(base_url=emu.vendor_url("seegen"),
                          headers={"Authorization": f"Bearer {account['api_key']}"}) as api:
            uploaded = api.post("/assets/upload", json={"url": "https://example.com/photo.jpg", "type": "IMAGE"})
            assert uploaded.status_code == 200, uploaded.text
            template = emu.emulator.lifecycle.tasks[uploaded.json()["volcAssetId"]]
            first_number = template.data["asset_id"]
            # Asset numbers go on from the template's, as new uploads' would.
            _fill(emu, template.id, size - 1, asset_id=lambda n, first=first_number: first + 1 + n)
            newest = first_number + size - 1
            cursor = newest - 3 * PAGE + 1  # the fourth page of 10
            query = {"limit": PAGE, "cursor": cursor}
            touched[size], listed = counter.count(lambda query=query: api.get("/assets/list", params=query))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert [item["assetId"] for item in body["items"]] == list(range(cursor - 1, cursor - 1 - PAGE, -1))
        assert body["nextCursor"] == cursor - PAGE
        assert touched[size] <= _bound(size), f"{touched[size]} assets touched for a page of {PAGE} of {size}"
    assert touched[SIZES[1]] - touched[SIZES[0]] <= 2 * math.ceil(math.log2(SIZES[1] / SIZES[0]) + 1)
