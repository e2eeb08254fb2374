"""PowerTokens, document by document: every request example of powertokens-seedance-2.md and
powertokens-v1-videos-1x.md sent verbatim (only `asset://XXXX` replaced by a real asset id, as
the guide says to), and the responses compared field by field with the documented examples.
Every response is validated against openapi/powertokens.yaml. Also the cases a review of the
documents found the emulator handling differently from what they say."""

from __future__ import annotations

import base64
import io
import pathlib
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from volcenginesdkarkruntime import Ark

from emulator.core import media_render
from emulator.testing import RunningEmulator, SpecCheck

V2 = "dreamina-seedance-2-0-260128"
V2_FAST = "dreamina-seedance-2-0-fast-260128"
PRO_15 = "seedance-1-5-pro-251215"
TASKS = "/byteplus/api/v3/contents/generations/tasks"


def _png(width: int, height: int, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def _rendered(suffix: str, write: Any) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / f"clip{suffix}"
        write(path)
        return path.read_bytes()


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    return {
        "image": _png(1280, 720, "JPEG"),
        "video": _rendered(".mp4", lambda p: media_render.render_video(p, width=320, height=240, seconds=4, fps=8)),
        "audio": _rendered(".m4a", lambda p: media_render.render_audio(p, seconds=4)),
    }


@pytest.fixture
def pt(emu: RunningEmulator) -> dict[str, Any]:
    return emu.create_account("powertokens", credits=100_000)


@pytest.fixture
def api(emu: RunningEmulator, pt: dict[str, Any]) -> Iterator[httpx.Client]:
    """`-H "Authorization: YOUR_API_KEY"`, exactly as the guide's curl examples."""
    with httpx.Client(base_url=emu.vendor_url("powertokens"), headers={"Authorization": pt["api_key"]}, timeout=30,
                      event_hooks={"response": [SpecCheck.for_vendors("powertokens")]}) as client:
        yield client


@pytest.fixture
def anonymous(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.vendor_url("powertokens"), timeout=30,
                      event_hooks={"response": [SpecCheck.for_vendors("powertokens")]}) as client:
        yield client


def _asset(emu: RunningEmulator, api: httpx.Client, anonymous: httpx.Client, data: bytes, name: str) -> str:
    """The guide's two steps: upload (with `-F group_id=XXXX`), then poll get-asset-id with no key."""
    response = api.post("/v1/asset/upload", files={"file": (name, data)}, data={"group_id": "XXXX"})
    assert response.status_code == 200, response.text
    task_id = response.json()["data"]["task_id"]
    emu.advance(3)
    data_ = anonymous.get("/v1/asset/jobs/get-asset-id", params={"task_id": task_id}).json()
    assert data_["code"] == 200 and data_["data"].get("asset_id"), data_
    return str(data_["data"]["asset_id"])


@pytest.fixture
def assets(emu: RunningEmulator, api: httpx.Client, anonymous: httpx.Client,
           clips: dict[str, bytes]) -> dict[str, str]:
    return {kind: _asset(emu, api, anonymous, data, name)
            for (kind, data), name in zip(clips.items(), ("start_frame.jpg", "ref.mp4", "ref.m4a"), strict=True)}


def _with_assets(body: Any, asset_ids: dict[str, str]) -> Any:
    """Replace each `asset://XXXX` with the asset of the item's kind (what the guide tells the reader to do)."""
    if isinstance(body, list):
        return [_with_assets(v, asset_ids) for v in body]
    if not isinstance(body, dict):
        return body
    out = {k: _with_assets(v, asset_ids) for k, v in body.items()}
    kind = next((k for k in ("image", "video", "audio") if k in str(body.get("type", ""))), "image")
    if out.get("url") == "asset://XXXX":
        out["url"] = f"asset://{asset_ids[kind]}"
    for key in ("image_url", "video_url", "audio_url"):
        if isinstance(out.get(key), dict) and body[key].get("url") == "asset://XXXX":
            out[key] = {"url": f"asset://{asset_ids[key.removesuffix('_url')]}"}
    return out


# -- the guide's request examples, verbatim ----------------------------------------------------------

ARK_EXAMPLES = {
    "image-to-video": {
        "model": "dreamina-seedance-2-0-260128",
        "content": [{"type": "text", "text": "Camera slowly pushes in, girl smiles"},
                    {"type": "image_url", "image_url": {"url": "asset://XXXX"}}],
        "ratio": "adaptive", "duration": 5, "generate_audio": True, "watermark": False},
    "multimodal-reference": {
        "model": "dreamina-seedance-2-0-260128",
        "content": [{"type": "text", "text": "Your prompt"},
                    {"type": "image_url", "image_url": {"url": "asset://XXXX"}, "role": "reference_image"},
                    {"type": "video_url", "video_url": {"url": "asset://XXXX"}, "role": "reference_video"},
                    {"type": "audio_url", "audio_url": {"url": "asset://XXXX"}, "role": "reference_audio"}],
        "ratio": "16:9", "duration": 10, "generate_audio": True, "watermark": False},
    "quick-reference": {
        "model": "dreamina-seedance-2-0-260128",
        "content": [{"type": "text", "text": "Your prompt"}, {"type": "image_url", "image_url": {"url": "asset://XXXX"}}],
        "ratio": "16:9", "duration": 5},
}

VIDEOS_EXAMPLES = {
    "text-to-video": {
        "model": "dreamina-seedance-2-0-260128",
        "media": [{"type": "text",
                   "text": "A kitten running on a grassy field, bright sunshine, camera follows the motion"}],
        "seconds": "5", "size": "720p", "ratio": "16:9", "generate_audio": True},
    "image-to-video": {
        "model": "dreamina-seedance-2-0-260128",
        "media": [{"type": "text", "text": "Camera slowly pushes in, girl smiles"},
                  {"type": "first_frame", "url": "asset://XXXX"}],
        "seconds": "5", "size": "720p", "ratio": "adaptive"},
    "first-last-frame": {
        "model": "dreamina-seedance-2-0-fast-260128",
        "media": [{"type": "text", "text": "Smooth transition between the two frames"},
                  {"type": "first_frame", "url": "asset://XXXX"}, {"type": "last_frame", "url": "asset://XXXX"}],
        "seconds": "5", "size": "720p", "ratio": "adaptive"},
    "multimodal-reference": {
        "model": "dreamina-seedance-2-0-260128",
        "media": [{"type": "text", "text": "Supplementary description"},
                  {"type": "reference_image", "url": "asset://XXXX"},
                  {"type": "reference_video", "url": "asset://XXXX"},
                  {"type": "reference_audio", "url": "asset://XXXX"}],
        "seconds": "-1", "size": "720p", "ratio": "16:9", "generate_audio": False},
    "quick-text": {"model": "dreamina-seedance-2-0-260128", "media": [{"type": "text", "text": "Your prompt"}],
                   "seconds": "5", "size": "720p", "ratio": "16:9"},
    "quick-image": {"model": "dreamina-seedance-2-0-260128",
                    "media": [{"type": "text", "text": "Your prompt"}, {"type": "first_frame", "url": "asset://XXXX"}],
                    "seconds": "5", "size": "720p"},
    "quick-first-last": {"model": "dreamina-seedance-2-0-260128",
                         "media": [{"type": "text", "text": "Your prompt"},
                                   {"type": "first_frame", "url": "asset://XXXX"},
                                   {"type": "last_frame", "url": "asset://XXXX"}],
                         "seconds": "5", "size": "720p"},
    "quick-reference": {"model": "dreamina-seedance-2-0-260128",
                        "media": [{"type": "text", "text": "Your prompt"},
                                  {"type": "reference_image", "url": "asset://XXXX"}],
                        "seconds": "5", "size": "720p"},
    "quick-fast": {"model": "dreamina-seedance-2-0-fast-260128",
                   "media": [{"type": "text", "text": "Your prompt"}], "seconds": "5", "size": "720p", "ratio": "16:9"},
    # powertokens-v1-videos-1x.md, the request example
    "1.x": {"model": "seedance-1-5-pro-251215", "prompt": "A kitten running on grass, sunny day, camera following",
            "seconds": "5", "size": "720p", "ratio": "16:9", "generate_audio": True},
}

# The guide's "Successful Response Example": every field, with its type.
SUCCESS_FIELDS = {"id": str, "model": str, "status": str, "content": dict, "seed": int, "resolution": str,
                  "ratio": str, "duration": int, "framespersecond": int, "generate_audio": bool, "usage": dict}


def _assert_success_body(body: dict[str, Any], request: dict[str, Any]) -> None:
    for name, kind in SUCCESS_FIELDS.items():
        assert isinstance(body.get(name), kind), (name, body)
    assert body["status"] == "succeeded" and body["model"] == request["model"]
    assert body["content"]["video_url"].startswith("http")
    assert body["framespersecond"] == 24
    assert body["usage"]["completion_tokens"] == body["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("name", list(ARK_EXAMPLES))
def test_every_ark_create_example_is_accepted_and_succeeds(emu: RunningEmulator, api: httpx.Client,
                                                           assets: dict[str, str], name: str) -> None:
    body = _with_assets(ARK_EXAMPLES[name], assets)
    response = api.post(TASKS, json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert list(created) == ["id"] and created["id"].startswith("cgt-")
    emu.advance(600)
    # "Query Task Status" on both paths: the same body
    result = api.get(f"{TASKS}/{created['id']}").json()
    assert api.get(f"/v1/videos/{created['id']}").json() == result
    _assert_success_body(result, body)
    assert (result["duration"], result["ratio"], result["generate_audio"]) == (
        body["duration"], "16:9", body.get("generate_audio", True))  # adaptive on a 16:9 first frame → 16:9


@pytest.mark.parametrize("name", list(VIDEOS_EXAMPLES))
def test_every_v1_videos_example_is_accepted_and_succeeds(emu: RunningEmulator, api: httpx.Client,
                                                          assets: dict[str, str], name: str) -> None:
    body = _with_assets(VIDEOS_EXAMPLES[name], assets)
    response = api.post("/v1/videos", json=body)
    assert response.status_code == 200, response.text
    task = response.json()
    # the 1.x page's response: id, task_id, object "video", model, status, progress, created_at
    assert set(task) == {"id", "task_id", "object", "model", "status", "progress", "created_at"}
    assert task["object"] == "video" and task["model"] == body["model"] and task["id"] == task["task_id"]
    assert task["status"] in ("pending", "queued", "running", "succeeded", "failed", "cancelled", "expired")
    assert isinstance(task["progress"], int) and isinstance(task["created_at"], int)
    emu.advance(600)
    result = api.get(f"/v1/videos/{task['task_id']}").json()
    _assert_success_body(result, body)
    assert result["resolution"] == body["size"]
    if body["seconds"] == "-1":
        assert 4 <= result["duration"] <= 15  # "smart selection"
    else:
        assert result["duration"] == int(body["seconds"])


def test_the_query_list_and_delete_examples(emu: RunningEmulator, api: httpx.Client) -> None:
    task_id = api.post(TASKS, json={"model": V2, "content": [{"type": "text", "text": "Your prompt"}]}).json()["id"]
    emu.advance(600)
    # curl ".../tasks?page_num=1&page_size=20&filter.status=succeeded"
    listed = api.get(f"{TASKS}?page_num=1&page_size=20&filter.status=succeeded")
    assert listed.status_code == 200
    page = listed.json()
    assert set(page) == {"total", "items"} and page["total"] >= 1
    assert all(item["status"] == "succeeded" for item in page["items"])
    assert task_id in [item["id"] for item in page["items"]]
    # curl -X DELETE ".../tasks/XXXX": a finished task is deleted, `{}`
    deleted = api.delete(f"{TASKS}/{task_id}")
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = api.get(f"{TASKS}/{task_id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"


def test_the_guides_python_workflow_with_bearer_auth(emu: RunningEmulator, pt: dict[str, Any]) -> None:
    """"Complete Workflow — Python", with `requests` swapped for httpx (same wire calls)."""
    base = emu.vendor_url("powertokens")
    headers = {"Authorization": f"Bearer {pt['api_key']}"}
    with httpx.Client(base_url=base, timeout=30, event_hooks={"response": [SpecCheck.for_vendors("powertokens")]}) as h:
        resp = h.post("/v1/asset/upload", headers=headers, files={"file": ("start_frame.jpg", _png(640, 640, "JPEG"))})
        task_id = resp.json()["data"]["task_id"]
        asset_id = None
        for _ in range(20):
            data = h.get("/v1/asset/jobs/get-asset-id", params={"task_id": task_id}).json()  # no auth
            if data["code"] == 200 and data["data"].get("asset_id"):
                asset_id = data["data"]["asset_id"]
                break
            emu.advance(3)
        assert asset_id
        resp = h.post("/v1/videos", headers={**headers, "Content-Type": "application/json"}, json={
            "model": "dreamina-seedance-2-0-260128",
            "media": [{"type": "text", "text": "Camera slowly pushes in, cherry blossom petals drifting in the wind"},
                      {"type": "first_frame", "url": f"asset://{asset_id}"}],
            "seconds": "5", "size": "720p", "ratio": "adaptive", "generate_audio": True})
        resp.raise_for_status()
        task = resp.json()
        video_id = task.get("task_id") or task.get("id")
        statuses = []
        for _ in range(100):
            result = h.get(f"/v1/videos/{video_id}", headers=headers).json()
            statuses.append(result["status"])
            if result["status"] in ("succeeded", "failed", "cancelled", "expired"):
                break
            emu.advance(5)
        assert result["status"] == "succeeded" and result["content"]["video_url"]
        assert result["ratio"] == "1:1"  # adaptive follows the 640×640 first frame
        assert {"queued", "running"} <= set(statuses)


def test_the_multimodal_example_through_the_official_sdk(emu: RunningEmulator, pt: dict[str, Any],
                                                         assets: dict[str, str]) -> None:
    """"switch the Base URL and API Key ... zero code changes": the Ark SDK sends the guide's example."""
    body = _with_assets(ARK_EXAMPLES["multimodal-reference"], assets)
    http = httpx.Client(event_hooks={"response": [SpecCheck.for_vendors("powertokens")]})
    client = Ark(base_url=emu.vendor_url("powertokens") + "/byteplus/api/v3", api_key=pt["api_key"],
                 http_client=http, max_retries=0)
    created = client.content_generation.tasks.create(**body)
    emu.advance(600)
    task = client.content_generation.tasks.get(task_id=created.id)
    assert (task.status, task.duration, task.ratio, task.framespersecond) == ("succeeded", 10, "16:9", 24)
    assert task.content.video_url and task.usage.completion_tokens > 0
    listed = client.content_generation.tasks.list(page_num=1, page_size=20, status="succeeded")
    assert created.id in [t.id for t in listed.items]


# -- documented cases found handled differently (fixed) ----------------------------------------------


def test_1x_image_takes_bare_base64(emu: RunningEmulator, api: httpx.Client) -> None:
    """1.x page: `image` is "First-frame image URL or Base64-encoded input": a bare Base64 string
    (no data: prefix) is a first frame, and `adaptive` (the image-to-video default) follows it."""
    raw = base64.b64encode(_png(720, 1280)).decode()
    response = api.post("/v1/videos", json={"model": PRO_15, "prompt": "a kitten", "image": raw})
    assert response.status_code == 200, response.text
    emu.advance(600)
    result = api.get(f"/v1/videos/{response.json()['id']}").json()
    assert (result["status"], result["ratio"]) == ("succeeded", "9:16")


def test_1x_image_data_uri_size_drives_adaptive(emu: RunningEmulator, api: httpx.Client) -> None:
    uri = "data:image/png;base64," + base64.b64encode(_png(500, 500)).decode()
    response = api.post("/v1/videos", json={"model": PRO_15, "prompt": "a kitten", "image": uri})
    assert response.status_code == 200, response.text
    emu.advance(600)
    assert api.get(f"/v1/videos/{response.json()['id']}").json()["ratio"] == "1:1"
    # the URL-format table's own placeholder is still taken (the emulator never needs the pixels)
    placeholder = api.post("/v1/videos", json={"model": PRO_15, "prompt": "a kitten",
                                               "image": "data:image/png;base64,aHR0..."})
    assert placeholder.status_code == 200, placeholder.text


def test_1x_image_that_is_neither_url_nor_base64_is_refused(api: httpx.Client) -> None:
    response = api.post("/v1/videos", json={"model": PRO_15, "prompt": "a kitten", "image": "ftp://x/first.png"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == ("InvalidParameter", "image", "BadRequest")


def test_media_asset_id_may_carry_the_asset_scheme(emu: RunningEmulator, api: httpx.Client,
                                                   assets: dict[str, str]) -> None:
    """Media-type table: "Required Fields: `asset_id` (obtained via Asset Library upload)"; the bare
    id and the `asset://` form the rest of the guide uses are the same asset."""
    for asset_id in (assets["image"], f"asset://{assets['image']}"):
        response = api.post("/v1/videos", json={
            "model": V2, "seconds": "5", "size": "720p",
            "media": [{"type": "text", "text": "Your prompt"}, {"type": "first_frame", "asset_id": asset_id}]})
        assert response.status_code == 200, response.text


def test_documented_error_cases(emu: RunningEmulator, api: httpx.Client, anonymous: httpx.Client) -> None:
    # 401 AuthenticationError without a key, on every authenticated path
    for method, path in (("POST", TASKS), ("GET", TASKS), ("GET", f"{TASKS}/x"), ("POST", "/v1/videos"),
                         ("GET", "/v1/videos/x"), ("POST", "/v1/asset/upload")):
        response = anonymous.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "AuthenticationError"
        assert response.json()["error"]["type"] == "Unauthorized"
    # "Fast ... up to 720p"; "Text-to-video resolution 720p"; "4–15 seconds or -1"
    for body, param in (({"model": V2_FAST, "media": [{"type": "text", "text": "x"}], "size": "1080p"}, "size"),
                        ({"model": V2, "media": [{"type": "text", "text": "x"}], "size": "1080p"}, "size"),
                        ({"model": V2, "media": [{"type": "text", "text": "x"}], "seconds": "16"}, "seconds"),
                        ({"model": V2, "media": [{"type": "text", "text": "x"}], "safety_identifier": "x" * 65},
                         "safety_identifier")):
        response = api.post("/v1/videos", json=body)
        assert response.status_code == 400, body
        assert (response.json()["error"]["code"], response.json()["error"]["param"]) == ("InvalidParameter", param)
    # "Task list / Cancel / Delete: Not supported" on the OpenAI-style interface
    assert api.delete("/v1/videos/x").status_code == 405
    # get-asset-id needs no key, even when a wrong one is sent
    unknown = anonymous.get("/v1/asset/jobs/get-asset-id", params={"task_id": "XXXX"},
                            headers={"Authorization": "Bearer wrong"})
    assert unknown.status_code == 404 and unknown.json()["data"] is None


def test_the_video_url_is_valid_for_14_days(emu: RunningEmulator, api: httpx.Client) -> None:
    """"The video URL is valid for **14 days**. Please download and save it promptly." """
    created = api.post(TASKS, json={"model": "dreamina-seedance-2-0-fast-260128", "duration": 4,
                                    "content": [{"type": "text", "text": "a lantern"}],
                                    "return_last_frame": True}).json()
    emu.advance(3600)
    done = api.get(f"{TASKS}/{created['id']}").json()
    video, frame = done["content"]["video_url"], done["content"]["last_frame_url"]
    assert httpx.get(video).status_code == 200 and httpx.get(frame).status_code == 200
    emu.advance(14 * 86400 - 3600 - 120)  # still inside the 14 days since the video was made
    assert httpx.get(video).status_code == 200
    emu.advance(3600)
    expired = httpx.get(video)
    assert expired.status_code == 403 and expired.json()["error"] == "expired"
    assert httpx.get(frame).status_code == 403
