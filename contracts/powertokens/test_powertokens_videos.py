"""The OpenAI-style interface: `POST /v1/videos` (2.0 `media`, 1.x `prompt` / `image`) and
`GET /v1/videos/{task_id}`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from client import BadRequestError
from client.powertokens import PowerTokens

from .._support import Account
from .conftest import (
    LONGEST_SECONDS,
    PRO_10,
    PRO_15,
    PRO_FAST_10,
    V2,
    V2_FAST,
    FinishVideo,
    MakeAsset,
    most_tokens,
)

TEXT = [{"type": "text", "text": "A kitten running on a grassy field, bright sunshine"}]




@pytest.mark.lifecycle
@pytest.mark.spends(credits=most_tokens("480p", 2))
def test_the_cheapest_task_goes_from_submit_to_a_downloadable_video(client: PowerTokens,
                                                                    finish_video: FinishVideo) -> None:
    """What a live run with a small budget checks first, with the fewest tokens the documents allow
    (they give no price, and tokens are what is billed): a 1.0 model at "480p" for "2" seconds
    ("other models accept "2" to "12""), 1.0-pro-fast being the fast, cheaper 1.0 variant."""
    task = client.videos.create(model=PRO_FAST_10, prompt="a kitten", seconds="2", size="480p")
    assert task.status in ("pending", "queued") and task.model == PRO_FAST_10
    assert client.videos.retrieve(task.task_id).id == task.task_id
    done = finish_video(task.task_id)
    assert done.status == "succeeded" and done.content is not None and done.content.video_url
    assert (done.resolution, done.duration) == ("480p", 2)
    video = httpx.get(done.content.video_url, timeout=60, follow_redirects=True)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


@pytest.mark.spends(credits=most_tokens())
def test_submit_returns_the_documented_task_object(client: PowerTokens) -> None:
    task = client.videos.create(model=V2, media=TEXT, seconds="5", size="720p", ratio="16:9", generate_audio=True)
    assert task.object == "video" and task.id == task.task_id and task.model == V2
    assert task.status in ("pending", "queued") and task.progress == 0 and task.created_at > 0


@pytest.mark.spends(credits=most_tokens())
def test_text_to_video_defaults_and_the_result_body(client: PowerTokens, finish_video: FinishVideo) -> None:
    """seconds "5", size "720p", ratio 16:9 for text-to-video, generate_audio true."""
    task = client.videos.create(model=V2, media=TEXT)
    done = finish_video(task.task_id)
    assert done.status == "succeeded" and done.content is not None and done.content.video_url
    assert (done.duration, done.resolution, done.ratio, done.framespersecond, done.generate_audio) == (
        5, "720p", "16:9", 24, True)
    assert done.usage is not None and done.usage.completion_tokens == done.usage.total_tokens > 0


@pytest.mark.spends(credits=most_tokens("1080p"))
def test_image_to_video_defaults_to_adaptive_and_standard_allows_1080p(client: PowerTokens, make_asset: MakeAsset,
                                                                       finish_video: FinishVideo) -> None:
    asset = make_asset()
    task = client.videos.create(model=V2, media=[*TEXT, {"type": "first_frame", "url": f"asset://{asset}"}],
                                size="1080p")
    done = finish_video(task.task_id)
    assert done.resolution == "1080p" and done.ratio == "16:9"  # adapted to the 16:9 frame


@pytest.mark.spends(credits=most_tokens() + most_tokens(seconds=LONGEST_SECONDS))
def test_first_last_and_reference_modes(client: PowerTokens, make_asset: MakeAsset) -> None:
    a, b = make_asset(), make_asset()
    client.videos.create(model=V2_FAST, media=[*TEXT, {"type": "first_frame", "url": f"asset://{a}"},
                                               {"type": "last_frame", "url": f"asset://{b}"}])
    client.videos.create(model=V2, seconds="-1", media=[*TEXT, {"type": "reference_image", "url": f"asset://{a}"}])


INVALID_2 = [
    ({"seconds": "3"}, "seconds"), ({"seconds": "16"}, "seconds"),  # "4" to "15" or "-1"
    ({"size": "1080p"}, "size"),  # 1080p: standard image-to-video / first-last / reference only
    ({"model": V2_FAST, "size": "1080p"}, "size"),  # Fast: up to 720p
    ({"ratio": "2:1"}, "ratio"), ({"seed": -2}, "seed"), ({"seed": 4294967296}, "seed"),
    ({"safety_identifier": "u" * 65}, "safety_identifier"),  # "max 64 characters"
]


@pytest.mark.parametrize(("patch", "param"), INVALID_2)
def test_2_0_refusals_name_the_parameter(client: PowerTokens, account: Account, patch: dict[str, Any],
                                         param: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.videos.create(**{"model": V2, "media": TEXT, **patch})
    assert caught.value.param == param


@pytest.mark.spends(credits=lambda size: most_tokens(size))
@pytest.mark.parametrize(("model", "size"), [(PRO_15, "720p"), (PRO_10, "1080p"), (PRO_FAST_10, "1080p")])
def test_1x_models_take_prompt_and_their_own_defaults(client: PowerTokens, finish_video: FinishVideo, model: str,
                                                      size: str) -> None:
    """"1.5-pro defaults to 720p, while 1.0-pro and 1.0-pro-fast default to 1080p"."""
    done = finish_video(client.videos.create(model=model, prompt="a kitten").task_id)
    assert done.status == "succeeded" and done.resolution == size and done.duration == 5


@pytest.mark.spends(credits=most_tokens("480p") + most_tokens("1080p", 2))
def test_1_5_pro_draft_is_480p_and_1x_image_takes_a_url(client: PowerTokens, finish_video: FinishVideo) -> None:
    draft = finish_video(client.videos.create(model=PRO_15, prompt="a kitten", draft=True).task_id)
    assert (draft.resolution, draft.draft) == ("480p", True)
    i2v = client.videos.create(model=PRO_10, prompt="a kitten", seconds="2", image="https://example.com/first.png")
    assert i2v.status in ("pending", "queued")


INVALID_1X = [
    ({"model": PRO_15, "seconds": "13"}, "seconds"), ({"model": PRO_10, "seconds": "-1"}, "seconds"),
    ({"model": PRO_FAST_10, "seconds": "1"}, "seconds"),  # 1.5 pro: "-1", "4"–"12"; others "2"–"12"
    ({"model": PRO_10, "draft": True}, "draft"), ({"model": PRO_10, "generate_audio": True}, "generate_audio"),
    ({"model": PRO_15, "draft": True, "size": "720p"}, "size"),  # "Draft mode only supports 480p"
]


@pytest.mark.parametrize(("patch", "param"), INVALID_1X)
def test_1x_refusals_name_the_parameter(client: PowerTokens, account: Account, patch: dict[str, Any],
                                        param: str) -> None:
    with account.unchanged(), pytest.raises(BadRequestError) as caught:
        client.videos.create(**{"prompt": "a kitten", **patch})
    assert caught.value.param == param


@pytest.mark.spends(credits=most_tokens())
async def test_the_async_client_submits_and_polls(aclient: Any) -> None:
    task = await aclient.videos.create(model=V2, media=TEXT)
    assert (await aclient.videos.retrieve(task.task_id)).id == task.task_id
