"""seegen.md, "Pricing" and "Cost calculation": every figure of the document's tables, reproduced
by running a task and reading `creditsUsed`; `GET /account/credits`; refunds; 402."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from client import InsufficientCreditsError
from client.seegen import SeeGen, Task

from .._support import Account
from ._support import (
    FAST_1080P_UPSCALE_EXAMPLE,
    FIVE_SECOND_TABLE,
    GPT_IMAGE,
    HAPPYHORSE_EXAMPLES,
    HAPPYHORSE_RATES,
    SD2_1080P_REF_EXAMPLE,
    image_url,
    sd2_credits,
    video_url,
)

Finish = Callable[[SeeGen, str], Task]


def run(client: SeeGen, finish: Finish, model: str, **inputs: Any) -> Task:
    created = client.jobs.create_task(model, **inputs)
    task = finish(client, created.task_id)
    assert task.status == "COMPLETED", task.error
    return task


def video_asset(client: SeeGen, finish_asset: Callable[..., Any], seconds: float) -> str:
    asset = client.assets.upload(url=video_url(seconds), type="VIDEO", name=f"ref-{seconds:g}s")
    asset = finish_asset(client, asset.asset_id)
    assert asset.status == "ACTIVE"
    return asset.uri


def _config(label: str) -> dict[str, Any]:
    """A row of the "5s output example" table as task inputs (and its ref video seconds)."""
    inputs: dict[str, Any] = {"prompt": "a lighthouse in a storm", "duration": "5s"}
    if label.startswith("1080P"):
        inputs["output_resolution"] = "1080p"
    if "2K upscale" in label:
        inputs["upscale_resolution"] = "2k"
    if "4K upscale" in label:
        inputs["upscale_resolution"] = "4k"
    return inputs


def _ref_seconds(label: str) -> int | None:
    for seconds in (5, 10):
        if f"{seconds}s ref video" in label:
            return seconds
    return None


TABLE_CASES = [pytest.param(label, model, credits, id=f"{model}-{label}")
               for label, sd2, fast in FIVE_SECOND_TABLE
               for model, credits in (("sd2", sd2), ("sd2-fast", fast)) if credits is not None]


@pytest.mark.spends(credits=lambda credits: credits)
@pytest.mark.emulator_only  # ref videos are probed by the emulator's URL convention
@pytest.mark.parametrize(("label", "model", "credits"), TABLE_CASES)
def test_every_figure_of_the_five_second_table(client: SeeGen, finish: Finish, finish_asset: Callable[..., Any],
                                               label: str, model: str, credits: int) -> None:
    inputs = _config(label)
    seconds = _ref_seconds(label)
    if seconds is not None:
        inputs.update(video_urls=[video_asset(client, finish_asset, seconds)], video_input_mode="reference")
    created = client.jobs.create_task(model, **inputs)
    assert client.jobs.query_task(created.task_id).credits_used == credits  # held from the start
    assert run_finished(client, finish, created.task_id).credits_used == credits


def run_finished(client: SeeGen, finish: Finish, task_id: str) -> Task:
    task = finish(client, task_id)
    assert task.status == "COMPLETED", task.error
    return task


@pytest.mark.spends(credits=FAST_1080P_UPSCALE_EXAMPLE)
def test_sd2_fast_with_1080p_upscale_example(client: SeeGen, finish: Finish) -> None:
    """"sd2-fast with 1080p upscale, 5s output, no ref video: 5 × 32 (base) + 5 × 20 (upscale) = 260"."""
    task = run(client, finish, "sd2-fast", prompt="a fox", duration="5s", upscale_resolution="1080p")
    assert task.credits_used == FAST_1080P_UPSCALE_EXAMPLE == 5 * 32 + 5 * 20
    assert (task.output[0].width, task.output[0].height) == (1920, 1080)


@pytest.mark.spends(credits=SD2_1080P_REF_EXAMPLE)
@pytest.mark.emulator_only
def test_sd2_1080p_native_with_a_5s_reference_example(client: SeeGen, finish: Finish,
                                                      finish_asset: Callable[..., Any]) -> None:
    """"sd2 1080P native, 5s output + 5s ref video: (5+5) × 75 = 750 credits"."""
    uri = video_asset(client, finish_asset, 5)
    task = run(client, finish, "sd2", prompt="p", duration="5s", output_resolution="1080p",
               video_urls=[uri], urls=[image_url()], video_input_mode="reference")
    assert task.credits_used == SD2_1080P_REF_EXAMPLE


@pytest.mark.spends(credits=lambda output, videos: sd2_credits("sd2-fast", "720p", output,
                                                              [math.ceil(s) for s in videos]))
@pytest.mark.emulator_only
@pytest.mark.parametrize(("output", "videos"), [(9, [2]), (6, [1, 1]), (12, [3.2, 4.5]), (15, [15, 15, 15]),
                                                 (4, [0.4])])
def test_input_video_seconds_are_ceiled_and_summed_with_the_minimum(
        client: SeeGen, finish: Finish, finish_asset: Callable[..., Any], output: int, videos: list[float]) -> None:
    """`(output_seconds + Σ⌈input_video_duration_i⌉) × rate`, Σ at least ⌈2×output_seconds/3⌉,
    durations as recorded at upload."""
    uris = [video_asset(client, finish_asset, s) for s in videos]
    task = run(client, finish, "sd2-fast", prompt="p", duration=f"{output}s", video_urls=uris,
               video_input_mode="reference")
    ceiled = [int(-(-s // 1)) for s in videos]
    assert task.credits_used == sd2_credits("sd2-fast", "720p", output, ceiled)


@pytest.mark.spends(credits=lambda model, seconds: sd2_credits(model, "720p", seconds, []))
@pytest.mark.parametrize(("model", "seconds"), [("sd2", 4), ("sd2", 15), ("sd2-fast", 11)])
def test_without_input_videos_credits_are_output_seconds_times_rate(client: SeeGen, finish: Finish, model: str,
                                                                     seconds: int) -> None:
    task = run(client, finish, model, prompt="p", duration=f"{seconds}s")
    assert task.credits_used == sd2_credits(model, "720p", seconds, [])


@pytest.mark.spends(credits=lambda credits: credits)
@pytest.mark.parametrize(("tier", "seconds", "credits"), HAPPYHORSE_EXAMPLES)
def test_happyhorse_examples(client: SeeGen, finish: Finish, tier: str, seconds: int, credits: int) -> None:
    task = run(client, finish, "happyhorse", prompt="a panda DJ at a beach party", duration=str(seconds),
               output_resolution=tier)
    assert task.credits_used == credits


@pytest.mark.spends(credits=HAPPYHORSE_RATES["720p"] * 5)
@pytest.mark.parametrize("mode", ["i2v", "r2v"])
def test_happyhorse_reference_images_are_not_billed(client: SeeGen, finish: Finish, mode: str) -> None:
    inputs: dict[str, Any] = {"urls": [image_url(1280, 720)], "prompt": "it blinks", "duration": "5"}
    if mode == "r2v":
        inputs.update(urls=[image_url(name=f"ref{i}") for i in range(9)], video_workflow_tab="multi-reference",
                      prompt="character1 meets character2")
    assert run(client, finish, "happyhorse", **inputs).credits_used == 160


@pytest.mark.spends(credits=lambda resolution, quality: GPT_IMAGE[resolution, quality])
@pytest.mark.parametrize(("resolution", "quality"), list(GPT_IMAGE))
def test_gpt_image_2_per_image_table(client: SeeGen, finish: Finish, resolution: str, quality: str) -> None:
    task = run(client, finish, "gpt-image-2", prompt="a neon alley", resolution=resolution, quality=quality)
    assert task.credits_used == GPT_IMAGE[resolution, quality]
    assert len(task.output) == 1  # "Each task produces 1 image."


@pytest.mark.spends(credits=GPT_IMAGE["2k", "medium"])
def test_gpt_image_2_defaults_are_2k_medium(client: SeeGen, finish: Finish) -> None:
    assert run(client, finish, "gpt-image-2", prompt="a neon alley").credits_used == GPT_IMAGE["2k", "medium"]


@pytest.mark.spends(credits=sd2_credits("sd2", "720p", 5, []))
def test_held_credits_are_not_available_and_settle_on_completion(client: SeeGen, finish: Finish,
                                                                 account: Account) -> None:
    before = client.account.credits()
    if account.observable:  # a fresh emulator account holds nothing
        assert before.available_credits == before.credits
    created = client.jobs.create_task("sd2", prompt="p", duration="5s")
    during = client.account.credits()
    assert during.credits == before.credits
    assert during.available_credits == before.available_credits - 200
    finish(client, created.task_id)
    after = client.account.credits()
    assert after.credits == before.credits - 200 and after.available_credits == after.credits
    account.expect(created.task_id, [("hold", 200), ("settle", 200)])


@pytest.mark.spends(credits=sd2_credits("sd2", "720p", 10, []))
@pytest.mark.emulator_only
def test_a_failed_task_is_refunded_in_full(client: SeeGen, finish: Finish, account: Account) -> None:
    before = client.account.credits()
    created = client.jobs.create_task("sd2", prompt="p #emulator:fail", duration="10s")
    assert client.account.credits().available_credits == before.available_credits - 400
    task = finish(client, created.task_id)
    assert task.status == "FAILED" and task.error is not None and task.output == []
    assert task.credits_used == 0
    assert client.account.credits() == before
    account.expect(created.task_id, [("hold", 400), ("refund", 400)])


@pytest.mark.spends(credits=sd2_credits("sd2-fast", "720p", 5, []))
@pytest.mark.emulator_only
def test_a_task_that_does_not_fit_the_available_credits_is_402_and_costs_nothing(
        make_account: Callable[..., Account], make_client: Callable[..., SeeGen]) -> None:
    poor = make_account(credits=199)
    client = make_client(api_key=poor.api_key)
    with poor.unchanged(), pytest.raises(InsufficientCreditsError) as err:
        client.jobs.create_task("sd2", prompt="p", duration="5s")
    assert err.value.status_code == 402
    assert client.jobs.create_task("sd2-fast", prompt="p", duration="5s").task_id  # 160 fits
    with pytest.raises(InsufficientCreditsError):  # 39 left available: held credits do not count
        client.jobs.create_task("gpt-image-2", prompt="p", resolution="1k", quality="high")  # 70
