"""perseworks.md, "Generate a video (async)": submit, validation, resolution rules, the task
lifecycle, the output file, and billing (held on submit, settled on success, refunded on failure)."""

from __future__ import annotations

import pathlib
from typing import Any

import httpx
import pytest

from client import (
    AsyncPerseworks,
    BadRequestError,
    ContentRejectedError,
    InsufficientCreditsError,
    Perseworks,
    VideoGeneration,
    VideoTask,
)
from emulator.core.media_render import probe

from ._support import (
    ASPECT_RATIOS,
    CREDITS_PER_SECOND,
    MAX_SECONDS,
    MIN_SECONDS,
    Account,
    Balance,
    Clock,
    Control,
    Finish,
    MakeClient,
    video_credits,
)

PROMPT = "a red fox trotting through fresh snow, morning light"
VALID: dict[str, Any] = {"model": "seedance-2.0", "prompt": PROMPT, "resolution": "720p", "durationSec": 1}


def body(**changes: Any) -> dict[str, Any]:
    """VALID with some fields changed; a value of `...` removes the field."""
    out = {**VALID, **changes}
    return {k: v for k, v in out.items() if v is not ...}


def statuses_until_done(client: Perseworks, task_id: str, clock: Clock, step: float = 1.0) -> list[str]:
    """Poll, moving the manual clock `step` seconds after each poll; the distinct states seen."""
    seen: list[str] = []

    def record(generation: VideoGeneration) -> None:
        if not seen or seen[-1] != generation.status:
            seen.append(generation.status)
        clock.advance(step)

    client.videos.wait(task_id, timeout=30, poll_interval=0, max_interval=0, on_poll=record)
    return seen


def download(url: str, directory: pathlib.Path) -> dict[str, Any]:
    path = directory / "output.mp4"
    with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
        assert response.status_code == 200, response.status_code
        with path.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    return probe(path)


# -- validation: 400 with the parameter named, and nothing held ------------------------

INVALID_BODIES = [
    pytest.param(body(model=...), "model", id="model-missing"),
    pytest.param(body(prompt=...), "prompt", id="prompt-missing"),
    pytest.param(body(resolution=...), "resolution", id="resolution-missing"),
    pytest.param(body(durationSec=...), "durationSec", id="durationSec-missing"),
    pytest.param(body(model=7), "model", id="model-not-a-string"),
    pytest.param(body(prompt=["a", "fox"]), "prompt", id="prompt-not-a-string"),
    pytest.param(body(prompt=""), "prompt", id="prompt-empty"),
    pytest.param(body(resolution=720), "resolution", id="resolution-not-a-string"),
    pytest.param(body(resolution="480p"), "resolution", id="resolution-not-in-enum"),
    pytest.param(body(durationSec="4"), "durationSec", id="durationSec-string"),
    pytest.param(body(durationSec=4.5), "durationSec", id="durationSec-fraction"),
    pytest.param(body(durationSec=True), "durationSec", id="durationSec-boolean"),
    pytest.param(body(durationSec=MIN_SECONDS - 1), "durationSec", id="durationSec-0"),
    pytest.param(body(durationSec=MAX_SECONDS + 1), "durationSec", id="durationSec-16"),
    pytest.param(body(durationSec=-3), "durationSec", id="durationSec-negative"),
    pytest.param(body(aspectRatio="2:1"), "aspectRatio", id="aspectRatio-not-in-enum"),
    pytest.param(body(aspectRatio=1.78), "aspectRatio", id="aspectRatio-not-a-string"),
    pytest.param(body(image="fox.png"), "image", id="image-not-a-url"),
    pytest.param(body(image=42), "image", id="image-not-a-string"),
]


@pytest.mark.parametrize(("payload", "param"), INVALID_BODIES)
def test_an_invalid_submit_is_400_naming_the_parameter(client: Perseworks, account: Account,
                                                      payload: dict[str, Any], param: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.post("/video/generations", cast_to=VideoTask, body=payload)
    err = caught.value
    assert (err.status_code, err.code, err.param) == (400, "invalid_request", param)
    assert err.message


@pytest.mark.parametrize("model", ["seedance-9", "seed-2.0-mini"], ids=["unknown", "a-chat-model"])
def test_a_model_that_makes_no_video_is_400(client: Perseworks, account: Account, model: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.videos.create(model=model, prompt=PROMPT, resolution="720p", duration_sec=1)
    assert (caught.value.status_code, caught.value.code, caught.value.param) == (400, "model_not_found", "model")


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"a fox"'],
                         ids=["broken", "empty", "array", "string"])
def test_a_body_that_is_not_a_json_object_is_400(raw: httpx.Client, account: Account, content: bytes) -> None:
    with account.unchanged():
        response = raw.post("video/generations", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("resolution", ["1080p", "4k"])
@pytest.mark.parametrize("model", ["seedance-2.0-fast", "seedance-2.0-mini"])
def test_fast_and_mini_are_720p_only(client: Perseworks, account: Account, model: str, resolution: str) -> None:
    """"1080p and 4K on Seedance 2.0 only; Fast/Mini are 720p" → 400 `unsupported_resolution`."""
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.videos.create(model=model, prompt=PROMPT, resolution=resolution, duration_sec=1)
    assert (caught.value.status_code, caught.value.code, caught.value.param) == (
        400, "unsupported_resolution", "resolution")


# -- accepted submits: 202, queued, and the hold ----------------------------------------


@pytest.mark.spends(credits=lambda resolution: video_credits(resolution, 2))
@pytest.mark.parametrize("resolution", list(CREDITS_PER_SECOND))
def test_seedance_2_takes_every_resolution_and_holds_its_price(client: Perseworks, account: Account,
                                                               resolution: str) -> None:
    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution=resolution, duration_sec=2)
    assert task.id.startswith("vid_")
    assert (task.status, task.model) == ("queued", "seedance-2.0")
    account.expect(task.id, [("hold", video_credits(resolution, 2))])


@pytest.mark.spends(credits=video_credits("720p", 1))
@pytest.mark.parametrize("model", ["seedance-2.0-fast", "seedance-2.0-mini"])
def test_fast_and_mini_take_720p(client: Perseworks, account: Account, model: str) -> None:
    task = client.videos.create(model=model, prompt=PROMPT, resolution="720p", duration_sec=1)
    assert (task.status, task.model) == ("queued", model)
    account.expect(task.id, [("hold", video_credits("720p", 1))])


@pytest.mark.spends(credits=video_credits("720p", 1))
@pytest.mark.parametrize("aspect_ratio", ASPECT_RATIOS)
def test_every_aspect_ratio_gives_a_video_of_that_shape(client: Perseworks, finish: Finish, tmp_path: pathlib.Path,
                                                       aspect_ratio: str) -> None:
    task = client.videos.create(model="seedance-2.0-mini", prompt=PROMPT, resolution="720p", duration_sec=1,
                                aspect_ratio=aspect_ratio)
    done = finish(client, task.id)
    assert done.status == "succeeded" and done.video_url
    info = download(done.video_url, tmp_path)
    assert (info["kind"], info["format"]) == ("video", "mp4")
    if aspect_ratio != "adaptive":
        w, h = (int(n) for n in aspect_ratio.split(":"))
        assert info["width"] / info["height"] == pytest.approx(w / h, rel=0.02)


@pytest.mark.spends(credits=video_credits("720p", 1))
def test_image_to_video_takes_a_reference_image_url(client: Perseworks, account: Account, finish: Finish) -> None:
    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=1,
                                image="https://example.com/reference/fox.png")
    assert task.status == "queued"
    assert finish(client, task.id).status == "succeeded"


# -- the lifecycle ----------------------------------------------------------------------


@pytest.mark.lifecycle
@pytest.mark.spends(credits=video_credits("720p", MIN_SECONDS))
def test_the_cheapest_task_goes_from_submit_to_a_downloadable_video(client: Perseworks, finish: Finish,
                                                                    tmp_path: pathlib.Path) -> None:
    """What a live run with a small budget checks first, at the lowest documented price:
    "seedance-2.0-mini ... 720p, lowest cost", for the shortest duration (1 s: 15 credits)."""
    task = client.videos.create(model="seedance-2.0-mini", prompt=PROMPT, resolution="720p", duration_sec=MIN_SECONDS)
    assert (task.status, task.model) == ("queued", "seedance-2.0-mini")
    polled = client.videos.retrieve(task.id)
    assert polled.id == task.id and polled.status in ("queued", "running", "succeeded")
    done = finish(client, task.id)
    assert (done.status, done.duration) == ("succeeded", MIN_SECONDS)
    assert done.video_url is not None
    info = download(done.video_url, tmp_path)
    assert (info["kind"], info["format"]) == ("video", "mp4")


@pytest.mark.emulator_only
def test_a_task_goes_queued_running_succeeded(client: Perseworks, account: Account, clock: Clock) -> None:
    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="1080p", duration_sec=3)
    pending = client.videos.retrieve(task.id)
    assert (pending.id, pending.status, pending.video_url, pending.error) == (task.id, "queued", None, None)
    assert statuses_until_done(client, task.id, clock) == ["queued", "running", "succeeded"]
    done = client.videos.retrieve(task.id)
    assert (done.status, done.duration) == ("succeeded", 3)
    account.expect(task.id, [("hold", 75), ("settle", 75)])


@pytest.mark.emulator_only
async def test_the_async_client_sees_the_same_lifecycle(aclient: AsyncPerseworks, account: Account,
                                                        clock: Clock) -> None:
    task = await aclient.videos.create(model="seedance-2.0-fast", prompt=PROMPT, resolution="720p", duration_sec=2)
    assert task.status == "queued"
    seen: list[str] = []

    def record(generation: VideoGeneration) -> None:
        if not seen or seen[-1] != generation.status:
            seen.append(generation.status)
        clock.advance(1)

    done = await aclient.videos.wait(task.id, timeout=30, poll_interval=0, max_interval=0, on_poll=record)
    assert seen == ["queued", "running", "succeeded"]
    assert (done.status, done.duration) == ("succeeded", 2)
    account.expect(task.id, [("hold", 30), ("settle", 30)])


@pytest.mark.emulator_only
def test_acceptance_story(control: Control, clock: Clock, make_client: MakeClient, tmp_path: pathlib.Path) -> None:
    """A new account makes a 720p 4 s video on seedance-2.0: queued → running → succeeded,
    60 credits spent, a real 1280×720 4 s MP4; a failed task is refunded in full; a short
    output is settled to its actual length and the rest refunded."""
    account = control.create_account(credits=1000)
    client = make_client(account.api_key)

    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4,
                                aspect_ratio="16:9")
    assert task.status == "queued"
    balance = account.balance()
    assert (balance.credits, balance.held, balance.available) == (1000, 60, 940)  # "pre-charged on submit"
    assert statuses_until_done(client, task.id, clock) == ["queued", "running", "succeeded"]
    done = client.videos.retrieve(task.id)
    assert (done.status, done.duration) == ("succeeded", 4)
    assert account.ledger(task.id) == [("hold", 60), ("settle", 60)]
    assert account.balance() == Balance(940, 0, 940)
    assert done.video_url is not None
    info = download(done.video_url, tmp_path)
    assert (info["kind"], info["format"], info["width"], info["height"]) == ("video", "mp4", 1280, 720)
    assert info["duration"] == pytest.approx(4, abs=0.1)

    failed_task = client.videos.create(model="seedance-2.0", prompt=f"{PROMPT} #emulator:fail", resolution="720p",
                                       duration_sec=4)
    assert statuses_until_done(client, failed_task.id, clock) == ["queued", "running", "failed"]
    failed = client.videos.retrieve(failed_task.id)
    assert failed.error is not None and failed.error.code and failed.error.message
    assert (failed.video_url, failed.duration) == (None, None)
    assert account.ledger(failed_task.id) == [("hold", 60), ("refund", 60)]  # "full refund on failure"
    assert account.balance() == Balance(940, 0, 940)

    short_task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4,
                                      extra_headers={"X-Emulator-Scenario": "short_output"})
    assert statuses_until_done(client, short_task.id, clock)[-1] == "succeeded"
    short = client.videos.retrieve(short_task.id)
    assert short.duration is not None and 1 <= short.duration < 4
    spent = video_credits("720p", short.duration)
    assert account.ledger(short_task.id) == [("hold", 60), ("settle", spent), ("refund", 60 - spent)]
    assert account.balance() == Balance(940 - spent, 0, 940 - spent)


# -- outcomes and their bills -----------------------------------------------------------


def _scenario(via: str, name: str) -> dict[str, Any]:
    """Pick a scenario by prompt token or by header: keyword arguments for videos.create."""
    if via == "prompt":
        return {"prompt": f"{PROMPT} #emulator:{name}"}
    return {"prompt": PROMPT, "extra_headers": {"X-Emulator-Scenario": name}}


@pytest.mark.emulator_only
@pytest.mark.parametrize("via", ["prompt", "header"])
@pytest.mark.parametrize(("scenario", "code"), [("fail", None), ("output_moderation", "content_rejected")])
def test_a_failed_task_reports_its_error_and_is_refunded_in_full(client: Perseworks, account: Account,
                                                                 finish: Finish, via: str, scenario: str,
                                                                 code: str | None) -> None:
    before = account.balance()
    task = client.videos.create(model="seedance-2.0", resolution="1080p", duration_sec=5, **_scenario(via, scenario))
    done = finish(client, task.id)
    assert done.status == "failed"
    assert done.error is not None and done.error.code and done.error.message
    if code is not None:
        assert done.error.code == code
    assert account.ledger(task.id) == [("hold", 125), ("refund", 125)]
    assert account.balance() == before


@pytest.mark.emulator_only
@pytest.mark.parametrize(("resolution", "seconds"), [("720p", 4), ("1080p", 8), ("4k", 15)])
def test_a_short_output_is_settled_to_its_actual_length(client: Perseworks, account: Account, finish: Finish,
                                                         resolution: str, seconds: int) -> None:
    """"settled to the actual output duration on success (unused reserve refunded)"."""
    task = client.videos.create(model="seedance-2.0", prompt=f"{PROMPT} #emulator:short_output",
                                resolution=resolution, duration_sec=seconds)
    done = finish(client, task.id)
    assert done.status == "succeeded" and done.duration is not None
    assert 1 <= done.duration < seconds
    hold, spent = video_credits(resolution, seconds), video_credits(resolution, done.duration)
    assert account.ledger(task.id) == [("hold", hold), ("settle", spent), ("refund", hold - spent)]
    assert account.balance().credits == 10_000 - spent


@pytest.mark.emulator_only
def test_a_slow_task_still_finishes(client: Perseworks, account: Account, clock: Clock, finish: Finish) -> None:
    normal = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=2)
    slow = client.videos.create(model="seedance-2.0", resolution="720p", duration_sec=2, **_scenario("header", "slow"))
    while client.videos.retrieve(normal.id).status != "succeeded":
        clock.advance(5)
    assert client.videos.retrieve(slow.id).status in ("queued", "running")
    assert finish(client, slow.id).status == "succeeded"
    account.expect(slow.id, [("hold", 30), ("settle", 30)])


@pytest.mark.spends(credits=video_credits("720p", 4))
def test_wait_reaches_a_terminal_state_and_the_video_matches(client: Perseworks, finish: Finish,
                                                             tmp_path: pathlib.Path) -> None:
    """The part of the acceptance story any target can run: 720p, 4 s, 1280×720 MP4."""
    task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4,
                                aspect_ratio="16:9")
    done = finish(client, task.id)
    assert (done.status, done.duration) == ("succeeded", 4)
    assert done.video_url is not None and done.video_url.startswith(("http://", "https://"))
    info = download(done.video_url, tmp_path)
    assert (info["format"], info["width"], info["height"]) == ("mp4", 1280, 720)
    assert info["duration"] == pytest.approx(4, abs=0.1)
    assert info["has_audio"]  # seedance-2.0: "text + image to video, audio"


# -- the hold must fit --------------------------------------------------------------------


@pytest.mark.emulator_only
@pytest.mark.parametrize(("credits", "resolution", "seconds", "fits"), [
    (59, "720p", 4, False),
    (60, "720p", 4, True),
    (99, "1080p", 4, False),
    (100, "1080p", 4, True),
    (119, "4k", 2, False),
    (120, "4k", 2, True),
])
def test_a_submit_whose_hold_does_not_fit_is_402(control: Control, make_client: MakeClient, credits: int,
                                                 resolution: str, seconds: int, fits: bool) -> None:
    account = control.create_account(credits=credits)
    client = make_client(account.api_key)
    if fits:
        task = client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution=resolution, duration_sec=seconds)
        assert account.balance() == Balance(credits, credits, 0)
        account.expect(task.id, [("hold", credits)])
        return
    with account.unchanged(), pytest.raises(InsufficientCreditsError) as caught:
        client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution=resolution, duration_sec=seconds)
    assert (caught.value.status_code, caught.value.code) == (402, "insufficient_credits")
    assert account.balance().held == 0


@pytest.mark.emulator_only
def test_a_running_task_holds_its_credits_against_the_next_submit(control: Control, make_client: MakeClient) -> None:
    account = control.create_account(credits=100)
    client = make_client(account.api_key)
    client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4)  # holds 60
    with account.unchanged(), pytest.raises(InsufficientCreditsError):
        client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4)


@pytest.mark.emulator_only
def test_moderation_at_submit_is_422_and_holds_nothing(client: Perseworks, account: Account) -> None:
    with account.unchanged(), pytest.raises(ContentRejectedError) as caught:
        client.videos.create(model="seedance-2.0", resolution="720p", duration_sec=4,
                             **_scenario("prompt", "moderation_reject"))
    assert (caught.value.status_code, caught.value.code) == (422, "content_rejected")
