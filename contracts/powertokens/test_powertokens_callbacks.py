"""`callback_url`: "POSTed on every status change, body = the GET task body"."""

from __future__ import annotations

import orjson
import pytest

from client.powertokens import PowerTokens

from .._support import Control
from .conftest import V2, Finish

pytestmark = pytest.mark.emulator_only


def test_every_status_change_is_posted_with_the_task_body(client: PowerTokens, control: Control,
                                                          finish: Finish) -> None:
    task = client.tasks.create(model=V2, content=[{"type": "text", "text": "a fox"}],
                               callback_url="http://127.0.0.1:9/callback")
    done = finish(task.id)
    deliveries = [d for d in control.http.get("/webhooks").json() if d["ref"] == task.id]
    bodies = [orjson.loads(d["body"]) for d in deliveries]
    assert [b["status"] for b in bodies] == ["queued", "running", "succeeded"]
    assert bodies[-1] == done.model_dump(exclude_none=True)
    assert all(d["url"] == "http://127.0.0.1:9/callback" and d["attempts"] for d in deliveries)
