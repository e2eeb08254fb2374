"""seegen.md, "POST /api/v1/jobs/createTask", "GET /api/v1/jobs/queryTask", "Generation Modes",
"Parameters Reference", HappyHorse and GPT Image 2: modes, limits, the lifecycle and the output."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from client import BadRequestError, NotFoundError, PermissionDeniedError
from client.seegen import AsyncSeeGen, SeeGen, Task
from emulator.core.media_render import probe

from .._support import Account, Clock
from ._support import GPT_IMAGE, HAPPYHORSE_RATES, MAX_AUDIOS, MAX_IMAGES, PIXEL_RESOLUTIONS, image_url, sd2_credits

Finish = Callable[[SeeGen, str], Task]


def download(url: str, path: pathlib.Path) -> dict[str, Any]:
    with httpx.stream("GET", url, follow_redirects=True, timeout=120) as response:
        assert response.status_code == 200
        with path.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    return probe(path)


def states(client: SeeGen, task_id: str, clock: Clock, step: float = 5.0) -> list[str]:
    seen: list[str] = []

    def record(task: Task) -> None:
        if not seen or seen[-1] != task.status:
            seen.append(task.status)
        clock.advance(step)

    client.jobs.wait(task_id, timeout=60, poll_interval=0, max_interval=0, on_poll=record)
    return seen


# -- lifecycle and output ----------------------------------------------------------------


@pytest.mark.lifecycle
@pytest.mark.spends(credits=GPT_IMAGE["1k", "medium"])
def test_the_cheapest_task_goes_from_submit_to_a_downloadable_result(client: SeeGen, finish: Finish,
                                                                     tmp_path: pathlib.Path) -> None:
    """What a live run with a small budget checks first, at the lowest documented price: one
    gpt-image-2 image at 1k, medium quality (15 credits; the cheapest video, HappyHorse 720P for
    3 s, is 96), through the same createTask → queryTask lifecycle as every model."""
    created = client.jobs.create_task("gpt-image-2", prompt="a neon-lit alley", resolution="1k", quality="medium")
    polled = client.jobs.query_task(created.task_id)
    assert polled.task_id == created.task_id and polled.status in ("PENDING", "PROCESSING", "COMPLETED")
    task = finish(client, created.task_id)
    assert task.status == "COMPLETED" and task.credits_used == GPT_IMAGE["1k", "medium"]
    [out] = task.output
    assert download(out.url, tmp_path / "out.png")["kind"] == "image"


@pytest.mark.emulator_only
def test_a_task_goes_pending_processing_completed_with_times_in_ms(client: SeeGen, clock: Clock,
                                                                   tmp_path: pathlib.Path) -> None:
    created = client.jobs.create_task("sd2", prompt="A golden retriever running on the beach at sunset",
                                      duration="4s", resolution="1280x720")
    first = client.jobs.query_task(created.task_id)
    assert (first.task_id, first.model, first.status, first.output, first.error) == (
        created.task_id, "sd2", "PENDING", [], None)
    assert first.complete_time is None and first.create_time > 1_000_000_000_000  # milliseconds
    assert states(client, created.task_id, clock) == ["PENDING", "PROCESSING", "COMPLETED"]
    done = client.jobs.query_task(created.task_id)
    assert done.complete_time is not None and done.complete_time > done.create_time
    [out] = done.output
    assert (out.width, out.height) == (1280, 720)
    media = download(out.url, tmp_path / "out.mp4")
    assert (media["kind"], media["width"], media["height"]) == ("video", 1280, 720)
    assert media["duration"] == pytest.approx(4, abs=0.1)


@pytest.mark.spends(credits=sd2_credits("sd2-fast", "720p", 5, []))  # the default 5 s
@pytest.mark.parametrize("resolution", PIXEL_RESOLUTIONS)
def test_each_pixel_resolution_gives_that_size(client: SeeGen, finish: Finish, resolution: str) -> None:
    task = finish(client, client.jobs.create_task("sd2-fast", prompt="p", resolution=resolution).task_id)
    width, height = (int(v) for v in resolution.split("x"))
    assert (task.output[0].width, task.output[0].height) == (width, height)


@pytest.mark.spends(credits=lambda inputs: sd2_credits("sd2", inputs.get("output_resolution", "720p"), 5, [],
                                                      inputs.get("upscale_resolution")))
@pytest.mark.parametrize(("inputs", "size"), [
    ({"output_resolution": "1080p"}, (1920, 1080)),
    ({"upscale_resolution": "2k"}, (2560, 1440)),
    ({"upscale_resolution": "4k"}, (3840, 2160)),
    ({"output_resolution": "1080p", "resolution": "720x1280"}, (1080, 1920)),
])
def test_output_resolution_tiers(client: SeeGen, finish: Finish, inputs: dict[str, Any],
                                 size: tuple[int, int]) -> None:
    task = finish(client, client.jobs.create_task("sd2", prompt="p", **inputs).task_id)
    assert (task.output[0].width, task.output[0].height) == size


@pytest.mark.emulator_only
def test_1080p_takes_noticeably_longer_than_720p(client: SeeGen, clock: Clock) -> None:
    """"1080p generation takes noticeably longer than 720p (typically 10+ minutes)"."""
    fast = client.jobs.create_task("sd2", prompt="p", duration="5s")
    slow = client.jobs.create_task("sd2", prompt="p", duration="5s", output_resolution="1080p")
    clock.advance(300)
    assert client.jobs.query_task(fast.task_id).status == "COMPLETED"
    assert client.jobs.query_task(slow.task_id).status == "PROCESSING"
    clock.advance(600)
    assert client.jobs.query_task(slow.task_id).status == "COMPLETED"


@pytest.mark.spends(credits=lambda resolution: GPT_IMAGE[resolution, "medium"])
@pytest.mark.parametrize(("fmt", "aspect", "resolution", "size"), [
    ("png", "1:1", "1k", (1024, 1024)), ("jpeg", "16:9", "1k", (1024, 576)), ("webp", "9:16", "1k", (576, 1024)),
])
def test_gpt_image_2_outputs_a_real_image_in_the_format_and_size(
        client: SeeGen, finish: Finish, tmp_path: pathlib.Path, fmt: str, aspect: str, resolution: str,
        size: tuple[int, int]) -> None:
    task = finish(client, client.jobs.create_task("gpt-image-2", prompt="a neon-lit alley", output_format=fmt,
                                                  aspect_ratio=aspect, resolution=resolution).task_id)
    [out] = task.output
    media = download(out.url, tmp_path / f"out.{fmt}")
    assert (out.width, out.height) == (media["width"], media["height"]) == size
    assert media["kind"] == "image" and media["format"] == fmt


@pytest.mark.spends(credits=GPT_IMAGE["2k", "medium"])  # the defaults
def test_gpt_image_2_image_to_image_takes_up_to_10_references(client: SeeGen, finish: Finish) -> None:
    urls = [image_url(name=f"r{i}") for i in range(10)]
    task = finish(client, client.jobs.create_task("gpt-image-2", prompt="oil painting", urls=urls).task_id)
    assert task.status == "COMPLETED" and len(task.output) == 1
    with pytest.raises(BadRequestError) as err:
        client.jobs.create_task("gpt-image-2", prompt="x", urls=[*urls, image_url(name="r10")])
    assert err.value.param == "inputs.urls"


@pytest.mark.spends(credits=HAPPYHORSE_RATES["720p"] * 5)
@pytest.mark.parametrize("model", ["happyhorse", "happyhorse-video-generation"])
def test_happyhorse_and_its_alias(client: SeeGen, finish: Finish, model: str) -> None:
    task = finish(client, client.jobs.create_task(model, prompt="A panda DJ", duration="5", ratio="9:16").task_id)
    assert task.model == model and task.status == "COMPLETED"
    assert (task.output[0].width, task.output[0].height) == (720, 1280)


@pytest.mark.spends(credits=HAPPYHORSE_RATES["1080p"] * 5)
def test_happyhorse_image_to_video_infers_the_aspect_from_the_first_frame(client: SeeGen, finish: Finish) -> None:
    task = finish(client, client.jobs.create_task("happyhorse", urls=[image_url(720, 1280)], duration="5s",
                                                  output_resolution="1080p").task_id)
    assert (task.output[0].width, task.output[0].height) == (1080, 1920)  # no prompt needed for i2v


@pytest.mark.spends(credits=2 * HAPPYHORSE_RATES["720p"] * 5)
def test_happyhorse_long_prompts_are_accepted_and_truncated_upstream(client: SeeGen, finish: Finish) -> None:
    for prompt in ("a" * 6000, "熊猫" * 2000):
        task = finish(client, client.jobs.create_task("happyhorse", prompt=prompt).task_id)
        assert task.status == "COMPLETED"


@pytest.mark.spends(credits=sd2_credits("sd2-fast", "720p", 5, []))
@pytest.mark.asyncio
async def test_the_async_client_creates_and_polls(aclient: AsyncSeeGen) -> None:
    created = await aclient.jobs.create_task("sd2-fast", prompt="a cat playing piano", duration="5s")
    task = await aclient.jobs.query_task(created.task_id)
    assert task.status in ("PENDING", "PROCESSING") and task.credits_used == 160


# -- modes and limits: 400 naming the field, nothing charged -------------------------------

IMG = image_url()
INVALID: list[Any] = [
    pytest.param("sd2", {"duration": "5s"}, "inputs.prompt", id="t2v-needs-a-prompt"),
    pytest.param("sd2", {"prompt": "p", "duration": "3s"}, "inputs.duration", id="duration-under-4s"),
    pytest.param("sd2", {"prompt": "p", "duration": "16s"}, "inputs.duration", id="duration-over-15s"),
    pytest.param("sd2", {"prompt": "p", "duration": "5.5s"}, "inputs.duration", id="duration-not-whole"),
    pytest.param("sd2", {"prompt": "p", "resolution": "1920x1080"}, "inputs.resolution", id="unknown-pixels"),
    pytest.param("sd2", {"prompt": "p", "resolution": "2k"}, "inputs.resolution", id="gpt-tier-on-sd2"),
    pytest.param("sd2-fast", {"prompt": "p", "output_resolution": "1080p"}, "inputs.outputResolution",
                 id="1080p-is-sd2-only"),
    pytest.param("sd2", {"prompt": "p", "output_resolution": "1080p", "upscale_resolution": "4k"},
                 "inputs.upscaleResolution", id="upscale-is-on-720p-base"),
    pytest.param("sd2", {"prompt": "p", "upscale_resolution": "8k"}, "inputs.upscaleResolution", id="upscale-8k"),
    pytest.param("sd2", {"prompt": "p", "urls": [IMG, IMG]}, "inputs.urls", id="two-images-need-a-mode"),
    pytest.param("sd2", {"prompt": "p", "urls": [IMG], "video_input_mode": "keyframe"}, "inputs.urls",
                 id="keyframe-needs-two"),
    pytest.param("sd2", {"prompt": "p", "urls": [IMG] * 10, "video_input_mode": "reference"}, "inputs.urls",
                 id="max-9-images"),
    pytest.param("sd2", {"prompt": "p", "audio_urls": ["https://e.com/a.mp3"], "video_input_mode": "reference"},
                 "inputs.audioUrls", id="audio-never-alone"),
    pytest.param("sd2", {"prompt": "p", "urls": [IMG], "audio_urls": ["https://e.com/a.mp3"] * 4,
                         "video_input_mode": "reference"}, "inputs.audioUrls", id="max-3-audios"),
    pytest.param("sd2", {"prompt": "p", "urls": [IMG], "audio_urls": ["https://e.com/a.mp3"]},
                 "inputs.audioUrls", id="audio-is-reference-mode-only"),
    pytest.param("sd2", {"prompt": "p", "video_urls": ["https://e.com/motion.mp4"], "video_input_mode": "reference"},
                 "inputs.videoUrls", id="video-refs-must-be-assets"),
    pytest.param("sd2", {"prompt": "p", "video_urls": ["asset://asset-20260326-nope00"],
                         "video_input_mode": "reference"}, "inputs.videoUrls[0]", id="unknown-asset"),
    pytest.param("sd2", {"prompt": "p", "urls": [image_url(399, 800)]}, "inputs.urls", id="images-400px-min"),
    pytest.param("sd2", {"prompt": "p", "urls": ["ftp://e.com/a.jpg"]}, "inputs.urls[0]", id="not-http"),
    pytest.param("sd2", {"prompt": "p", "seed": 3}, "inputs.seed", id="seed-is-happyhorse-only"),
    pytest.param("happyhorse", {"duration": "5"}, "inputs.prompt", id="hh-t2v-needs-a-prompt"),
    pytest.param("happyhorse", {"prompt": "p", "duration": "2"}, "inputs.duration", id="hh-duration-under-3"),
    pytest.param("happyhorse", {"prompt": "p", "duration": "16"}, "inputs.duration", id="hh-duration-over-15"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [IMG, IMG]}, "inputs.urls", id="hh-i2v-exactly-one"),
    pytest.param("happyhorse", {"prompt": "p", "video_workflow_tab": "multi-reference"}, "inputs.urls",
                 id="hh-r2v-needs-images"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [IMG] * 10, "video_workflow_tab": "multi-reference"},
                 "inputs.urls", id="hh-r2v-max-9"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [IMG], "ratio": "1:1"}, "inputs.ratio",
                 id="hh-ratio-not-for-i2v"),
    pytest.param("happyhorse", {"prompt": "p", "seed": 2147483648}, "inputs.seed", id="hh-seed-range"),
    pytest.param("happyhorse", {"prompt": "p", "seed": -1}, "inputs.seed", id="hh-seed-negative"),
    pytest.param("happyhorse", {"prompt": "p", "ratio": "21:9"}, "inputs.ratio", id="hh-ratio-enum"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [image_url(299, 600)]}, "inputs.urls", id="hh-300px-min"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [image_url(300, 800)]}, "inputs.urls", id="hh-aspect"),
    pytest.param("happyhorse", {"prompt": "p", "urls": [image_url(fmt="gif")]}, "inputs.urls", id="hh-format"),
    pytest.param("happyhorse", {"prompt": "p", "video_urls": ["asset://x"]}, "inputs.videoUrls",
                 id="hh-no-reference-video"),
    pytest.param("happyhorse", {"prompt": "p", "video_input_mode": "keyframe"}, "inputs.videoInputMode",
                 id="hh-no-last-frame"),
    pytest.param("gpt-image-2", {"quality": "high"}, "inputs.prompt", id="gpt-needs-a-prompt"),
    pytest.param("gpt-image-2", {"prompt": "p", "quality": "low"}, "inputs.quality", id="gpt-quality"),
    pytest.param("gpt-image-2", {"prompt": "p", "resolution": "1280x720"}, "inputs.resolution", id="gpt-res"),
    pytest.param("gpt-image-2", {"prompt": "p", "output_format": "gif"}, "inputs.outputFormat", id="gpt-format"),
    pytest.param("gpt-image-2", {"prompt": "p", "urls": [image_url(255, 512)]}, "inputs.urls", id="gpt-256px"),
    pytest.param("gpt-image-2", {"prompt": "p", "urls": [image_url(256, 800)]}, "inputs.urls", id="gpt-aspect"),
    pytest.param("gpt-image-2", {"prompt": "p", "urls": [image_url(fmt="bmp")]}, "inputs.urls", id="gpt-no-bmp"),
    pytest.param("gpt-image-2", {"prompt": "p", "duration": "5s"}, "inputs.duration", id="gpt-no-duration"),
    pytest.param("sd3", {"prompt": "p"}, "model", id="unknown-model"),
]


@pytest.mark.parametrize(("model", "inputs", "param"), INVALID)
def test_an_invalid_task_is_400_naming_the_field_and_costs_nothing(client: SeeGen, account: Account, model: str,
                                                                   inputs: dict[str, Any], param: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as err:
        client.jobs.create_task(model, **inputs)
    assert err.value.status_code == 400 and err.value.param == param, err.value


@pytest.mark.parametrize(("body", "param"), [
    ({"inputs": {"prompt": "p"}}, "model"),
    ({"model": "sd2"}, "inputs"),
    ({"model": "sd2", "inputs": {"prompt": "p"}, "callBackUrl": "not a url"}, "callBackUrl"),
    ({"model": "sd2", "inputs": {"prompt": "p"}, "extra": 1}, "extra"),
    ({"model": "sd2", "inputs": {"prompt": "p", "batch": 4}}, "inputs.batch"),
])
def test_top_level_fields(raw: httpx.Client, account: Account, body: dict[str, Any], param: str) -> None:
    """"Top-level fields: model (required), inputs (required), callBackUrl (optional)"."""
    with account.unchanged():
        response = raw.post("jobs/createTask", json=body)
    assert response.status_code == 400 and response.json()["param"] == param


@pytest.mark.spends(credits=sd2_credits("sd2", "720p", 5, []))
@pytest.mark.parametrize("inputs", [
    {"prompt": "Smooth camera transition from day to night", "urls": [IMG, IMG], "video_input_mode": "keyframe"},
    {"prompt": "The woman slowly turns her head", "urls": [IMG]},
    {"prompt": "Character walks", "urls": [IMG] * MAX_IMAGES, "audio_urls": ["https://e.com/a.mp3"] * MAX_AUDIOS,
     "video_input_mode": "reference"},
])
def test_documented_sd2_modes_are_accepted(client: SeeGen, finish: Finish, inputs: dict[str, Any]) -> None:
    assert finish(client, client.jobs.create_task("sd2", **inputs).task_id).status == "COMPLETED"


# -- access -------------------------------------------------------------------------------


def test_an_unknown_task_is_404(client: SeeGen) -> None:
    with pytest.raises(NotFoundError):
        client.jobs.query_task("task_does_not_exist")


@pytest.mark.emulator_only
def test_another_account_s_task_is_403(client: SeeGen, make_account: Callable[..., Account],
                                       make_client: Callable[..., SeeGen]) -> None:
    """"403 Access denied (can only query own tasks)"."""
    mine = client.jobs.create_task("sd2", prompt="p")
    other = make_client(api_key=make_account().api_key)
    with pytest.raises(PermissionDeniedError) as err:
        other.jobs.query_task(mine.task_id)
    assert err.value.status_code == 403
