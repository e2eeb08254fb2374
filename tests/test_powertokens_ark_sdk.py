"""The hard external test: the official Ark Python SDK (`volcengine-ark-runtime`), pointed at the
emulator with only `base_url` and `api_key` changed, creates, gets, lists (with filters) and
deletes tasks, and raises its own typed errors for Ark error bodies."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from volcenginesdkarkruntime import Ark, AsyncArk
from volcenginesdkarkruntime._exceptions import (
    ArkAuthenticationError,
    ArkBadRequestError,
    ArkNotFoundError,
    ArkPermissionDeniedError,
)

from emulator.testing import RunningEmulator, SpecCheck

V2 = "dreamina-seedance-2-0-260128"
V2_FAST = "dreamina-seedance-2-0-fast-260128"


@pytest.fixture
def account(emu: RunningEmulator) -> dict[str, Any]:
    return emu.create_account("powertokens", credits=10_000)


def _ark(emu: RunningEmulator, api_key: str) -> Ark:
    http = httpx.Client(event_hooks={"response": [SpecCheck.for_vendors("powertokens")]})
    return Ark(base_url=emu.vendor_url("powertokens") + "/byteplus/api/v3", api_key=api_key, http_client=http,
               max_retries=0)


@pytest.fixture
def ark(emu: RunningEmulator, account: dict[str, Any]) -> Ark:
    return _ark(emu, account["api_key"])


def _asset(emu: RunningEmulator, api_key: str) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (1280, 720), (0, 90, 180)).save(buf, "JPEG")
    base = emu.vendor_url("powertokens")
    job = httpx.post(f"{base}/v1/asset/upload", headers={"Authorization": f"Bearer {api_key}"},
                     files={"file": ("start_frame.jpg", buf.getvalue())}).json()["data"]["task_id"]
    emu.advance(3)
    return str(httpx.get(f"{base}/v1/asset/jobs/get-asset-id", params={"task_id": job}).json()["data"]["asset_id"])


def test_create_get_list_delete_with_the_official_sdk(emu: RunningEmulator, ark: Ark,
                                                      account: dict[str, Any]) -> None:
    asset_id = _asset(emu, account["api_key"])
    created = ark.content_generation.tasks.create(
        model=V2,
        content=[{"type": "text", "text": "Camera slowly pushes in, girl smiles"},
                 {"type": "image_url", "image_url": {"url": f"asset://{asset_id}"}, "role": "first_frame"}],
        ratio="adaptive", duration=5, generate_audio=True, watermark=False, return_last_frame=True)
    assert created.id.startswith("cgt-")

    task = ark.content_generation.tasks.get(task_id=created.id)
    assert (task.id, task.model, task.status) == (created.id, V2, "queued")
    emu.advance(600)
    task = ark.content_generation.tasks.get(task_id=created.id)
    assert task.status == "succeeded"
    assert task.content.video_url.startswith("http") and task.content.last_frame_url.endswith(".png")
    assert task.usage.completion_tokens == 108900 == task.usage.total_tokens
    assert (task.ratio, task.resolution, task.duration, task.framespersecond) == ("16:9", "720p", 5, 24)
    assert isinstance(task.created_at, int) and task.updated_at >= task.created_at

    other = ark.content_generation.tasks.create(model=V2_FAST, content=[{"type": "text", "text": "a fox"}])
    listed = ark.content_generation.tasks.list(page_num=1, page_size=10)
    assert listed.total == 2 and [t.id for t in listed.items] == [other.id, created.id]
    by_status = ark.content_generation.tasks.list(status="succeeded")
    assert [t.id for t in by_status.items] == [created.id]
    by_ids = ark.content_generation.tasks.list(task_ids=[created.id, other.id])
    assert by_ids.total == 2
    by_id = ark.content_generation.tasks.list(task_ids=other.id)
    assert [t.id for t in by_id.items] == [other.id]
    by_model = ark.content_generation.tasks.list(model=V2_FAST)
    assert [t.id for t in by_model.items] == [other.id]

    ark.content_generation.tasks.delete(other.id)  # queued → cancelled
    assert ark.content_generation.tasks.get(task_id=other.id).status == "cancelled"
    ark.content_generation.tasks.delete(created.id)  # succeeded → deleted
    with pytest.raises(ArkNotFoundError) as caught:
        ark.content_generation.tasks.get(task_id=created.id)
    assert caught.value.code == "ResourceNotFound"


def test_sdk_errors_are_its_typed_errors(emu: RunningEmulator, ark: Ark) -> None:
    with pytest.raises(ArkBadRequestError) as bad:
        ark.content_generation.tasks.create(model=V2, content=[{"type": "text", "text": "x"}], duration=16)
    assert (bad.value.code, bad.value.param, bad.value.type) == ("InvalidParameter", "duration", "BadRequest")
    with pytest.raises(ArkBadRequestError) as missing:
        ark.content_generation.tasks.create(model=V2, content=[{"type": "image_url", "image_url": {}}])
    assert missing.value.code == "MissingParameter"
    with pytest.raises(ArkAuthenticationError) as unauthorized:
        _ark(emu, "pt-wrong").content_generation.tasks.list()
    assert unauthorized.value.code == "AuthenticationError"
    poor = emu.create_account("powertokens", credits=0)
    with pytest.raises(ArkPermissionDeniedError) as overdue:
        _ark(emu, poor["api_key"]).content_generation.tasks.create(model=V2, content=[{"type": "text", "text": "x"}])
    assert overdue.value.code == "AccountOverdueError"


def test_delete_of_a_running_task_is_an_sdk_error(emu: RunningEmulator, ark: Ark) -> None:
    task = ark.content_generation.tasks.create(model=V2, content=[{"type": "text", "text": "a fox"}])
    emu.advance(6)
    with pytest.raises(ArkBadRequestError):
        ark.content_generation.tasks.delete(task.id)


async def test_the_async_sdk_works_too(emu: RunningEmulator, account: dict[str, Any]) -> None:
    client = AsyncArk(base_url=emu.vendor_url("powertokens") + "/byteplus/api/v3", api_key=account["api_key"],
                      max_retries=0)
    created = await client.content_generation.tasks.create(model=V2, content=[{"type": "text", "text": "a fox"}])
    assert (await client.content_generation.tasks.get(task_id=created.id)).status == "queued"
    assert (await client.content_generation.tasks.list(task_ids=[created.id])).total == 1
    await client.content_generation.tasks.delete(created.id)
    assert (await client.content_generation.tasks.get(task_id=created.id)).status == "cancelled"
