"""The asset library: upload (multipart), get-asset-id (no auth, `{code, data}` envelope), and
`asset://<asset_id>` in both interfaces; the "assets only" rule for Seedance 2.0 media."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from client import BadRequestError
from client.powertokens import PowerTokens

from .._support import Account, Target
from .conftest import PRO_15, TASKS_PATH, V2, MakeAsset, most_tokens, png

TEXT = {"type": "text", "text": "Camera slowly pushes in, girl smiles"}


def test_upload_then_poll_for_the_asset_id(client: PowerTokens, target: Target, make_asset: MakeAsset) -> None:
    uploaded = client.assets.upload(png(), filename="start_frame.png", group_id="group-1")
    assert uploaded.code == 200 and uploaded.data.task_id
    # "② Poll to get asset_id (no auth required for this endpoint)"
    got = httpx.get(target.base_url + "/v1/asset/jobs/get-asset-id", params={"task_id": uploaded.data.task_id},
                    timeout=30).json()
    assert got["code"] == 200 and "asset_id" in got["data"]
    assert make_asset()


@pytest.mark.spends(credits=2 * most_tokens())
def test_an_asset_id_works_in_both_interfaces(client: PowerTokens, make_asset: MakeAsset) -> None:
    asset = make_asset()
    client.tasks.create(model=V2, content=[TEXT, {"type": "image_url", "image_url": {"url": f"asset://{asset}"},
                                                   "role": "first_frame"}])
    client.videos.create(model=V2, media=[TEXT, {"type": "first_frame", "url": f"asset://{asset}"}])


@pytest.mark.parametrize(("files", "param"), [
    ({"group_id": (None, "g")}, "file"),  # no file
    ({"file": ("empty.png", b"")}, "file"),
    ({"file": ("notes.png", b"this is text, not an image")}, "file"),  # wrong type, whatever the name says
])
def test_a_bad_upload_is_refused_and_nothing_is_stored(raw: httpx.Client, account: Account, files: dict[str, Any],
                                                       param: str) -> None:
    with account.unchanged():
        response = raw.post("/v1/asset/upload", files=files)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.emulator_only
def test_an_oversized_image_is_refused(raw: httpx.Client, account: Account) -> None:
    """"Images < 30 MB" (a real PNG padded past the limit)."""
    with account.unchanged():
        response = raw.post("/v1/asset/upload", files={"file": ("big.png", png(64, 64) + b"\0" * (30 * 1024 * 1024))})
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"


@pytest.mark.emulator_only
def test_seedance_2_media_must_be_assets_by_default(client: PowerTokens) -> None:
    """"External URLs cannot be used directly" (the emulator's default reading; see the fidelity notes
    for the URL-format table that says otherwise and the `powertokens.media_urls` setting)."""
    for url in ("https://example.com/start.jpg", "data:image/png;base64,iVBORw0KGgo="):
        with pytest.raises(BadRequestError) as caught:
            client.tasks.create(model=V2, content=[TEXT, {"type": "image_url", "image_url": {"url": url}}])
        assert caught.value.param == "content[1].image_url.url"
        with pytest.raises(BadRequestError):
            client.videos.create(model=V2, media=[TEXT, {"type": "first_frame", "url": url}])
    # The 1.x page: "First-frame image URL or Base64-encoded input".
    client.videos.create(model=PRO_15, prompt="a kitten", image="https://example.com/start.jpg")


def test_an_unknown_asset_is_refused(raw: httpx.Client) -> None:
    response = raw.post(TASKS_PATH, json={"model": V2, "content": [
        TEXT, {"type": "image_url", "image_url": {"url": "asset://asset-does-not-exist"}}]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidParameter"
