"""seegen.md, "Assets": upload for review (PROCESSING → ACTIVE | FAILED with failReason), status by
numeric id or volcAssetId, the list with filters and cursor, and using assets in tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from client import BadRequestError, NotFoundError, PermissionDeniedError
from client.seegen import Asset, SeeGen, Task

from .._support import Account, Clock
from ._support import image_url, video_url

Finish = Callable[[SeeGen, str], Task]
FinishAsset = Callable[[SeeGen, int | str], Asset]

pytestmark = pytest.mark.emulator_only  # the review outcome and probes follow the emulator's conventions


def test_an_upload_is_processing_then_active(client: SeeGen, clock: Clock) -> None:
    asset = client.assets.upload(url="https://example.com/photo.jpg", type="IMAGE", name="my-photo")
    assert (asset.type, asset.status, asset.fail_reason, asset.url, asset.name) == (
        "IMAGE", "PROCESSING", None, "https://example.com/photo.jpg", "my-photo")
    assert asset.volc_asset_id.startswith("asset-") and asset.created_at > 1_000_000_000_000
    clock.advance(10)  # "usually completed within seconds"
    by_number = client.assets.status(asset.asset_id)
    by_volc = client.assets.status(asset.volc_asset_id)
    assert by_number == by_volc and by_number.status == "ACTIVE"


def test_review_can_fail_with_a_reason(client: SeeGen, finish_asset: FinishAsset) -> None:
    asset = client.assets.upload(url="https://example.com/face.jpg#emulator:review_fail", type="IMAGE")
    done = finish_asset(client, asset.asset_id)
    assert done.status == "FAILED" and done.fail_reason


@pytest.mark.parametrize(("body", "param"), [
    ({"type": "IMAGE"}, "url"),
    ({"url": "https://e.com/a.jpg"}, "type"),
    ({"url": "https://e.com/a.jpg", "type": "PICTURE"}, "type"),
    ({"url": "https://e.com/a.jpg", "type": "IMAGE", "name": "n" * 65}, "name"),
    ({"url": "ftp://e.com/a.jpg", "type": "IMAGE"}, "url"),
    ({"url": "https://e.com/a.mp4", "type": "IMAGE"}, "type"),
])
def test_an_invalid_upload_is_400_naming_the_field(raw: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = raw.post("assets/upload", json=body)
    assert response.status_code == 400 and response.json()["param"] == param


def test_a_name_of_64_characters_is_fine(client: SeeGen) -> None:
    assert client.assets.upload(url="https://e.com/a.jpg", type="IMAGE", name="n" * 64).name == "n" * 64


def test_status_of_unknown_and_foreign_assets(client: SeeGen, make_account: Callable[..., Account],
                                              make_client: Callable[..., SeeGen]) -> None:
    with pytest.raises(NotFoundError):
        client.assets.status(999_999_999)
    with pytest.raises(NotFoundError):
        client.assets.status("asset-20260326-abc123")
    mine = client.assets.upload(url="https://e.com/a.jpg", type="IMAGE")
    other = make_client(api_key=make_account().api_key)
    with pytest.raises(PermissionDeniedError):
        other.assets.status(mine.asset_id)
    with pytest.raises(BadRequestError):  # nor can another account use it
        other.jobs.create_task("sd2", prompt="p", urls=[mine.uri])


def test_the_list_filters_and_pages_with_a_cursor(client: SeeGen, clock: Clock) -> None:
    made = [client.assets.upload(url=f"https://e.com/{i}.jpg", type="IMAGE").asset_id for i in range(5)]
    made.append(client.assets.upload(url=video_url(4), type="VIDEO").asset_id)
    failed = client.assets.upload(url="https://e.com/x.mp3#emulator:review_fail", type="AUDIO").asset_id
    assert client.assets.list(status="PROCESSING").items  # before review ends
    clock.advance(10)
    everything = client.assets.list()
    assert {a.asset_id for a in everything.items} == {*made, failed} and everything.next_cursor is None
    assert [a.asset_id for a in client.assets.list(type="VIDEO").items] == [made[5]]
    assert [a.asset_id for a in client.assets.list(status="FAILED").items] == [failed]
    assert client.assets.list(type="AUDIO", status="ACTIVE").items == []
    seen: list[int] = []
    cursor = None
    while True:
        page = client.assets.list(limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [a.asset_id for a in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted({*made, failed}) and len(seen) == len(set(seen))


@pytest.mark.parametrize("limit", [0, 51, -1])
def test_limit_is_1_to_50(raw: httpx.Client, limit: int) -> None:
    response = raw.get("assets/list", params={"limit": limit})
    assert response.status_code == 400 and response.json()["param"] == "limit"


def test_an_active_asset_works_as_a_reference(client: SeeGen, finish: Finish, finish_asset: FinishAsset) -> None:
    image = finish_asset(client, client.assets.upload(url=image_url(), type="IMAGE").asset_id)
    video = finish_asset(client, client.assets.upload(url=video_url(6), type="VIDEO").asset_id)
    created = client.jobs.create_task("sd2", prompt="The person smiles", urls=[image.uri], video_urls=[video.uri],
                                      video_input_mode="reference")
    assert finish(client, created.task_id).status == "COMPLETED"


@pytest.mark.parametrize("review", ["PROCESSING", "FAILED"])
def test_a_task_using_an_asset_that_is_not_active_fails_and_is_refunded(
        client: SeeGen, finish: Finish, finish_asset: FinishAsset, account: Account, review: str) -> None:
    """The document: "Without review, generation may fail." """
    url = "https://e.com/person.jpg" + ("#emulator:review_fail" if review == "FAILED" else "")
    asset = client.assets.upload(url=url, type="IMAGE")
    if review == "FAILED":
        assert finish_asset(client, asset.asset_id).status == "FAILED"
    before = client.account.credits()
    task = finish(client, client.jobs.create_task("sd2", prompt="The person smiles", urls=[asset.uri]).task_id)
    assert task.status == "FAILED" and task.error is not None and asset.volc_asset_id in task.error.message
    assert client.account.credits() == before


def test_happyhorse_needs_no_review(client: SeeGen, finish: Finish) -> None:
    """"No asset review needed — ... `asset://` references from the asset library"."""
    asset = client.assets.upload(url=image_url(800, 600), type="IMAGE")
    task = finish(client, client.jobs.create_task("happyhorse", urls=[asset.uri], prompt="move").task_id)
    assert task.status == "COMPLETED"


def test_reference_durations_come_from_the_upload_and_are_at_most_15s(client: SeeGen,
                                                                      finish_asset: FinishAsset) -> None:
    long = finish_asset(client, client.assets.upload(url=video_url(16), type="VIDEO").asset_id)
    with pytest.raises(BadRequestError) as err:
        client.jobs.create_task("sd2", prompt="p", video_urls=[long.uri], video_input_mode="reference")
    assert err.value.param == "inputs.videoUrls"
    image = finish_asset(client, client.assets.upload(url=image_url(), type="IMAGE").asset_id)
    with pytest.raises(BadRequestError):  # an IMAGE asset is not a video reference
        client.jobs.create_task("sd2", prompt="p", video_urls=[image.uri], video_input_mode="reference")


def test_an_emulator_served_video_is_probed_exactly(client: SeeGen, finish: Finish, finish_asset: FinishAsset) -> None:
    """The recorded duration of an asset whose URL the emulator serves is the file's own (6 s),
    whatever the URL claims: "clients cannot influence this value"."""
    made = finish(client, client.jobs.create_task("sd2-fast", prompt="p", duration="6s").task_id)
    asset = finish_asset(client, client.assets.upload(url=made.output[0].url + "#duration=1", type="VIDEO").asset_id)
    task = finish(client, client.jobs.create_task("sd2-fast", prompt="p", duration="5s", video_urls=[asset.uri],
                                                  video_input_mode="reference").task_id)
    assert task.credits_used == (5 + 6) * 24
    with pytest.raises(BadRequestError) as err:  # and its kind: a video is not an IMAGE asset
        client.assets.upload(url=made.output[0].url, type="IMAGE")
    assert err.value.param == "type"
