"""The official-compatible interface: "request bodies, parameter names, and response structures
identical to ByteDance's official API" (reference-ark-and-openai.md for the Ark facts)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from volcenginesdkarkruntime import Ark

from client import BadRequestError, NotFoundError, RateLimitError
from client.powertokens import PowerTokens

from .._support import Account, Clock, Target
from .conftest import (
    EXAMPLE_TOKENS,
    MAX_QUEUED,
    PIXELS_720P,
    PRO_10,
    PRO_15,
    TASKS_PATH,
    V2,
    V2_FAST,
    Finish,
    MakeAsset,
    most_tokens,
    tokens,
)

TEXT = [{"type": "text", "text": "A kitten running on a grassy field"}]


@pytest.mark.spends(credits=most_tokens())
def test_the_official_ark_sdk_works_with_only_base_url_and_key_changed(target: Target, account: Account,
                                                                        finish: Finish) -> None:
    ark = Ark(base_url=target.base_url + "/byteplus/api/v3", api_key=account.api_key, max_retries=0)
    created = ark.content_generation.tasks.create(model=V2, content=TEXT, ratio="16:9", duration=5)
    assert ark.content_generation.tasks.get(task_id=created.id).id == created.id
    listed = ark.content_generation.tasks.list(page_num=1, page_size=20, task_ids=[created.id], model=V2)
    assert [t.id for t in listed.items] == [created.id] and listed.total == 1
    done = finish(created.id)
    assert done.status == "succeeded"
    assert ark.content_generation.tasks.list(status="succeeded", task_ids=created.id).total == 1
    ark.content_generation.tasks.delete(created.id)
    assert ark.content_generation.tasks.list(task_ids=created.id).total == 0


@pytest.mark.spends(credits=most_tokens())
def test_a_succeeded_task_has_the_documented_body(client: PowerTokens, finish: Finish) -> None:
    task = client.tasks.create(model=V2, content=TEXT, ratio="16:9", duration=5, return_last_frame=True)
    assert task.id
    done = finish(task.id)
    assert done.status == "succeeded" and done.model == V2
    assert (done.resolution, done.ratio, done.duration, done.framespersecond) == ("720p", "16:9", 5, 24)
    assert done.usage is not None and done.usage.completion_tokens == EXAMPLE_TOKENS == done.usage.total_tokens
    assert done.content is not None and done.content.last_frame_url
    video = httpx.get(done.content.video_url, timeout=60)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


@pytest.mark.spends(credits=lambda ratio: tokens(*PIXELS_720P[ratio], 4))
@pytest.mark.parametrize("ratio", ["4:3", "9:16", "21:9"])
def test_usage_follows_the_ark_formula(client: PowerTokens, finish: Finish, ratio: str) -> None:
    done = finish(client.tasks.create(model=V2_FAST, content=TEXT, ratio=ratio, duration=4).id)
    assert done.usage is not None and done.usage.completion_tokens == tokens(*PIXELS_720P[ratio], 4)


@pytest.mark.spends(credits=most_tokens())
def test_defaults(client: PowerTokens) -> None:
    """Ark: resolution 720p, duration 5, seed -1 (a seed is chosen), generate_audio true for 2.0,
    service_tier default, execution_expires_after 172800."""
    task = client.tasks.get(client.tasks.create(model=V2, content=TEXT).id)
    assert (task.resolution, task.duration, task.service_tier, task.execution_expires_after) == (
        "720p", 5, "default", 172800)
    assert task.generate_audio is True and task.draft is False and 0 <= task.seed <= 4294967295


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"duration": 3}, "duration"), ({"duration": 16}, "duration"),  # "2.0: 4–15 or -1"
    ({"resolution": "1080p"}, "resolution"),  # "Text-to-video resolution 720p"
    ({"model": V2_FAST, "resolution": "1080p"}, "resolution"),  # "Fast: no 1080p"
    ({"ratio": "5:4"}, "ratio"), ({"seed": 4294967296}, "seed"), ({"seed": -2}, "seed"),
    ({"execution_expires_after": 3599}, "execution_expires_after"), ({"priority": 10}, "priority"),
    ({"safety_identifier": "x" * 65}, "safety_identifier"),  # "safety_identifier | string ≤ 64"
    ({"service_tier": "flex"}, "service_tier"),  # "Seedance 2.0 is online only"
    ({"draft": True}, "draft"),  # "draft ... 1.5 Pro only"
    ({"model": PRO_15, "duration": 13}, "duration"),  # "1.5 Pro: 4–12 or -1"
    ({"model": PRO_10, "duration": -1}, "duration"),  # "1.0: 2–12"
    ({"model": PRO_15, "draft": True, "resolution": "720p"}, "resolution"),  # "draft ... 480p only"
    ({"model": PRO_10, "generate_audio": True}, "generate_audio"),  # "2.0 and 1.5 Pro only"
]


@pytest.mark.parametrize(("patch", "param"), INVALID)
def test_a_bad_value_is_400_invalid_parameter_naming_it(client: PowerTokens, account: Account,
                                                        patch: dict[str, Any], param: str) -> None:
    body = {"model": V2, "content": TEXT, **patch}
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.tasks.create(**body)
    assert (caught.value.status_code, caught.value.code, caught.value.param) == (400, "InvalidParameter", param)


def test_a_missing_parameter_is_400_missing_parameter(raw: httpx.Client) -> None:
    response = raw.post(TASKS_PATH, json={"model": V2})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "MissingParameter", "message": response.json()["error"]["message"],
                                        "param": "content", "type": "BadRequest"}


@pytest.mark.spends(credits=2 * most_tokens())
def test_modes_exclude_each_other(client: PowerTokens, make_asset: MakeAsset) -> None:
    a, b = make_asset(), make_asset()

    def img(asset: str, role: str | None = None) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": f"asset://{asset}"}, **({"role": role} if role else {})}

    client.tasks.create(model=V2, content=[*TEXT, img(a, "first_frame"), img(b, "last_frame")])
    client.tasks.create(model=V2, content=[*TEXT, img(a, "reference_image"), img(b, "reference_image")])
    for content in ([*TEXT, img(a), img(b)],  # two frames need their roles
                    [*TEXT, img(a, "first_frame"), img(b, "reference_image")],
                    [*TEXT, {"type": "audio_url", "audio_url": {"url": f"asset://{a}"}, "role": "reference_audio"}]):
        with pytest.raises(BadRequestError):
            client.tasks.create(model=V2, content=content)


@pytest.mark.spends(credits=3 * most_tokens(seconds=4))
def test_list_pages_and_filters(client: PowerTokens) -> None:
    ids = [client.tasks.create(model=V2_FAST, content=TEXT, duration=4).id for _ in range(3)]
    page = client.tasks.list(page_num=1, page_size=2, task_ids=ids)
    assert page.total == 3 and len(page.items) == 2
    assert {t.id for t in client.tasks.list(page_num=2, page_size=2, task_ids=ids).items} <= set(ids)
    assert client.tasks.list(task_ids=ids, model=V2).total == 0
    assert client.tasks.list(task_ids=ids, status="queued").total + client.tasks.list(
        task_ids=ids, status="running").total == 3


@pytest.mark.spends(credits=2 * most_tokens())
def test_delete_cancels_queued_refuses_running_and_deletes_finished(client: PowerTokens, clock: Clock,
                                                                    finish: Finish) -> None:
    queued = client.tasks.create(model=V2, content=TEXT).id
    client.tasks.delete(queued)
    assert client.tasks.get(queued).status == "cancelled"
    with pytest.raises(BadRequestError):
        client.tasks.delete(queued)  # "cancelled: no"
    running = client.tasks.create(model=V2, content=TEXT).id
    while client.tasks.get(running).status == "queued":
        clock.advance(1)
    with pytest.raises(BadRequestError):
        client.tasks.delete(running)  # "running: no"
    finish(running)
    client.tasks.delete(running)  # "succeeded / failed / expired: record deleted"
    with pytest.raises(NotFoundError):
        client.tasks.get(running)


@pytest.mark.emulator_only
def test_cancelled_tasks_go_after_24h_and_all_after_7_days(client: PowerTokens, clock: Clock) -> None:
    cancelled, kept = (client.tasks.create(model=V2, content=TEXT).id for _ in range(2))
    client.tasks.delete(cancelled)
    clock.advance(86400 + 1)
    with pytest.raises(NotFoundError):
        client.tasks.get(cancelled)
    assert client.tasks.get(kept).status == "succeeded"
    clock.advance(6 * 86400)
    with pytest.raises(NotFoundError):
        client.tasks.get(kept)


@pytest.mark.emulator_only
def test_a_task_expires_after_execution_expires_after(client: PowerTokens, account: Account, clock: Clock) -> None:
    task = client.tasks.create(model=V2, content=TEXT, execution_expires_after=3600,
                               extra_headers={"X-Emulator-Scenario": "expire"})
    clock.advance(3600)
    assert client.tasks.get(task.id).status == "expired"
    assert [kind for kind, _ in account.ledger(task.id)] == ["hold", "refund"]


@pytest.mark.emulator_only
def test_a_failed_task_is_refunded_in_full(client: PowerTokens, account: Account, finish: Finish) -> None:
    task = client.tasks.create(model=V2, content=[{"type": "text", "text": "a fox #emulator:fail"}])
    done = finish(task.id)
    assert done.status == "failed" and done.error is not None and done.error.code
    assert account.balance().held == 0 and [k for k, _ in account.ledger(task.id)] == ["hold", "refund"]


@pytest.mark.emulator_only
def test_at_most_120_queued_tasks(client: PowerTokens, control: Any) -> None:
    account = control.create_account(credits=1_000_000)
    for _ in range(MAX_QUEUED):
        client.tasks.create(model=V2_FAST, content=TEXT, duration=4, resolution="480p",
                            extra_headers={"Authorization": account.api_key})
    with pytest.raises(RateLimitError) as caught:
        client.tasks.create(model=V2_FAST, content=TEXT, extra_headers={"Authorization": account.api_key})
    assert caught.value.code == "QuotaExceeded"
    # A cancelled task leaves the queue at once: the next one fits, and only one does.
    queued = client.tasks.list(page_size=1, extra_headers={"Authorization": account.api_key}).items[0]
    client.tasks.delete(queued.id, extra_headers={"Authorization": account.api_key})
    client.tasks.create(model=V2_FAST, content=TEXT, extra_headers={"Authorization": account.api_key})
    with pytest.raises(RateLimitError):
        client.tasks.create(model=V2_FAST, content=TEXT, extra_headers={"Authorization": account.api_key})
