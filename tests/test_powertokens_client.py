"""The PowerTokens reference client: its models match openapi/powertokens.yaml, and its sync and
async twins drive every operation against the emulator."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from pydantic import BaseModel

from client import AuthenticationError, BadRequestError, InsufficientCreditsError, NotFoundError
from client.powertokens import (
    AssetJob,
    AssetUpload,
    AsyncPowerTokens,
    PowerTokens,
    Task,
    TaskId,
    TaskList,
    VideoTask,
    _list_path,
)
from emulator.core.spec import load
from emulator.testing import RunningEmulator, SpecCheck

V2 = "dreamina-seedance-2-0-260128"
TEXT = [{"type": "text", "text": "a fox"}]


@pytest.mark.parametrize(("model", "schema"), [(Task, "ArkTask"), (TaskId, "ArkTaskId"), (TaskList, "ArkTaskList"),
                                               (VideoTask, "VideoTaskObject"), (AssetUpload, "AssetUploadResponse"),
                                               (AssetJob, "AssetJobResponse")])
def test_every_required_field_of_the_spec_is_a_required_field_of_the_model(model: type[BaseModel],
                                                                           schema: str) -> None:
    spec = load("powertokens")
    required = set(spec.doc["components"]["schemas"][schema].get("required", []))
    model_required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert required == model_required


def test_list_sends_task_ids_repeated() -> None:
    assert _list_path(1, 20, "succeeded", ["a", "b"], None, None) == (
        "/byteplus/api/v3/contents/generations/tasks?page_num=1&page_size=20&filter.status=succeeded"
        "&filter.task_ids=a&filter.task_ids=b")
    assert _list_path(None, None, None, "a", None, None).endswith("?filter.task_ids=a")


@pytest.fixture
def account(emu: RunningEmulator) -> dict[str, Any]:
    return emu.create_account("powertokens", credits=10_000)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 640), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def test_the_sync_client_end_to_end(emu: RunningEmulator, account: dict[str, Any], tmp_path: Any) -> None:
    path = tmp_path / "frame.png"
    path.write_bytes(_png())
    http = httpx.Client(event_hooks={"response": [SpecCheck.for_vendors("powertokens")]})
    with PowerTokens(api_key=account["api_key"], base_url=emu.vendor_url("powertokens"), http_client=http,
                     max_retries=0) as client:
        asset = client.assets.upload_and_wait(path, group_id="g", poll_interval=0,
                                              on_poll=lambda job: emu.advance(3))
        task = client.tasks.create(model=V2, content=[*TEXT, {"type": "image_url",
                                                              "image_url": {"url": f"asset://{asset}"}}])
        done = client.tasks.wait(task.id, poll_interval=0, max_interval=0, on_poll=lambda t: emu.advance(10))
        assert done.status == "succeeded" and done.ratio == "1:1" and done.content is not None
        assert client.tasks.list(task_ids=[task.id]).items[0].id == task.id
        client.tasks.delete(task.id)
        with pytest.raises(NotFoundError):
            client.tasks.get(task.id)
        video = client.videos.create(model=V2, media=TEXT, seconds=4)
        assert client.videos.wait(video.task_id, poll_interval=0, max_interval=0,
                                  on_poll=lambda t: emu.advance(10)).duration == 4
        with pytest.raises(BadRequestError) as caught:
            client.videos.create(model=V2, media=TEXT, seconds="16")
        assert caught.value.code == "InvalidParameter" and caught.value.param == "seconds"
    with pytest.raises(AuthenticationError):
        PowerTokens(api_key="pt-wrong", base_url=emu.vendor_url("powertokens"), max_retries=0).tasks.list()
    poor = emu.create_account("powertokens", credits=0)
    with pytest.raises(InsufficientCreditsError) as overdue:
        PowerTokens(api_key=poor["api_key"], base_url=emu.vendor_url("powertokens"), bearer=True,
                    max_retries=0).tasks.create(model=V2, content=TEXT)
    assert overdue.value.code == "AccountOverdueError"


async def test_the_async_client_end_to_end(emu: RunningEmulator, account: dict[str, Any]) -> None:
    async with AsyncPowerTokens(api_key=account["api_key"], base_url=emu.vendor_url("powertokens"),
                                max_retries=0) as client:
        job = await client.assets.upload(_png(), filename="f.png")
        emu.advance(3)
        asset = (await client.assets.get_asset_id(job.data.task_id)).data.asset_id
        task = await client.tasks.create(model=V2, content=TEXT, ratio="16:9")
        video = await client.videos.create(model=V2, media=[*TEXT, {"type": "first_frame", "asset_id": asset}])
        emu.advance(600)
        assert (await client.tasks.get(task.id)).usage is not None
        assert (await client.videos.retrieve(video.task_id)).status == "succeeded"
        assert (await client.tasks.list(task_ids=task.id)).total == 1
        await client.tasks.delete(task.id)
        assert (await client.tasks.list(task_ids=task.id)).total == 0
