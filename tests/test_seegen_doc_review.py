"""SeeGen against its document, example by example (../shared/vendor-docs/seegen.md).

Every request example of the document is sent as written (plain HTTP, JSON bodies copied from
the document) and each response is compared, field by field, with the document's response
examples; every response is also validated against openapi/seegen.yaml. The two examples that
cannot work as written (a placeholder `asset://` id; an external `videoUrls` entry that the
document's own parameter table forbids) are sent both ways: verbatim (the documented 400) and
with the video uploaded as an asset first (accepted, priced as the document's tables say).
See docs/fidelity-seegen.md, SA30 and SA31.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.testing import RunningEmulator, SpecCheck

pytestmark = pytest.mark.emulator_only

TASK_FIELDS = {"taskId", "model", "status", "creditsUsed", "output", "error", "createTime", "completeTime"}
ASSET_FIELDS = {"assetId", "volcAssetId", "type", "status", "failReason", "url", "name", "createdAt"}
UPSCALE_FIELDS = {"taskId", "status", "targetResolution", "creditsConsumed", "result", "error", "createdAt",
                  "finishedAt"}

# "Generation Modes", "HappyHorse 1.0", "GPT Image 2" and "Quick Start (cURL)", verbatim, with the
# credits the document's pricing gives each (and the output size where the document states it).
EXAMPLES: dict[str, tuple[dict[str, Any], int]] = {
    "text-to-video": ({"model": "sd2", "inputs": {
        "prompt": "A golden retriever running on the beach at sunset", "duration": "5s",
        "resolution": "1280x720"}}, 200),
    "image-to-video": ({"model": "sd2", "inputs": {
        "urls": ["https://example.com/photo.jpg"], "prompt": "The woman slowly turns her head and smiles",
        "duration": "5s"}}, 200),
    "first-last-frame": ({"model": "sd2", "inputs": {
        "urls": ["https://example.com/first.jpg", "https://example.com/last.jpg"],
        "prompt": "Smooth camera transition from day to night", "duration": "5s",
        "videoInputMode": "keyframe"}}, 200),
    "happyhorse-t2v": ({"model": "happyhorse", "inputs": {
        "prompt": "A panda DJ at a beach party", "duration": "5s", "outputResolution": "720p",
        "ratio": "16:9"}}, 160),
    "happyhorse-i2v": ({"model": "happyhorse", "inputs": {
        "urls": ["https://example.com/panda.jpg"], "prompt": "The panda blinks and smiles", "duration": "5s",
        "outputResolution": "1080p"}}, 300),
    "happyhorse-r2v": ({"model": "happyhorse", "inputs": {
        "videoWorkflowTab": "multi-reference",
        "urls": ["https://example.com/character.jpg", "https://example.com/folding-fan.jpg",
                 "https://example.com/earrings.jpg"],
        "prompt": "A woman in red character1 opening folding fan character2, with tassel earrings character3 "
                  "swinging", "duration": "5s", "outputResolution": "720p", "ratio": "16:9"}}, 160),
    "gpt-image-2-t2i": ({"model": "gpt-image-2", "inputs": {
        "prompt": "A neon-lit cyberpunk alley at midnight, photoreal", "quality": "medium", "resolution": "2k",
        "aspectRatio": "16:9"}}, 35),
    "gpt-image-2-i2i": ({"model": "gpt-image-2", "inputs": {
        "urls": ["https://example.com/portrait.jpg"], "prompt": "Restyle as oil painting", "quality": "medium",
        "resolution": "1k", "aspectRatio": "1:1"}}, 15),
    "curl-text-to-video": ({"model": "sd2", "inputs": {"prompt": "A cat playing piano", "duration": "5s"}}, 200),
    "curl-happyhorse": ({"model": "happyhorse", "inputs": {
        "urls": ["https://example.com/photo.jpg"], "prompt": "Make it move", "duration": "5s",
        "outputResolution": "1080p"}}, 300),
}


@pytest.fixture
def spec_check() -> SpecCheck:
    return SpecCheck.for_vendors("seegen")


def _client(emu: RunningEmulator, spec_check: SpecCheck, key: str) -> httpx.Client:
    return httpx.Client(base_url=emu.vendor_url("seegen"),
                        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                        event_hooks={"response": [spec_check]})


@pytest.fixture
def account(emu: RunningEmulator) -> dict[str, Any]:
    return emu.create_account("seegen", credits=100_000)


@pytest.fixture
def api(emu: RunningEmulator, spec_check: SpecCheck, account: dict[str, Any]) -> Iterator[httpx.Client]:
    with _client(emu, spec_check, account["api_key"]) as client:
        yield client


def _query(api: httpx.Client, task_id: str) -> dict[str, Any]:
    response = api.get("/jobs/queryTask", params={"taskId": task_id})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _active_asset(emu: RunningEmulator, api: httpx.Client, url: str, kind: str) -> str:
    """Upload `url` as in the Quick Start, wait for ACTIVE, return its volcAssetId."""
    asset = api.post("/assets/upload", json={"url": url, "type": kind}).json()
    for _ in range(20):
        status = api.get("/assets/status", params={"assetId": asset["assetId"]}).json()
        if status["status"] == "ACTIVE":
            return str(status["volcAssetId"])
        emu.advance(3)
    raise AssertionError("the asset never became ACTIVE")


def _finish(emu: RunningEmulator, api: httpx.Client, task_id: str) -> dict[str, Any]:
    for _ in range(100):
        task = _query(api, task_id)
        if task["status"] in ("COMPLETED", "FAILED"):
            return task
        emu.advance(30)
    raise AssertionError("the task never finished")


# -- createTask / queryTask ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_documented_task_example_is_accepted_and_completes_in_the_documented_shape(
        emu: RunningEmulator, api: httpx.Client, name: str) -> None:
    body, credits = EXAMPLES[name]
    created = api.post("/jobs/createTask", json=body)
    assert created.status_code == 200
    assert set(created.json()) == {"taskId"}  # Returns `{ "taskId": "..." }`
    task_id = created.json()["taskId"]
    pending = _query(api, task_id)
    assert set(pending) == TASK_FIELDS and pending["status"] == "PENDING" and pending["taskId"] == task_id
    done = _finish(emu, api, task_id)
    assert set(done) == TASK_FIELDS
    assert done["status"] == "COMPLETED" and done["model"] == body["model"] and done["error"] is None
    assert done["creditsUsed"] == credits
    assert isinstance(done["createTime"], int) and isinstance(done["completeTime"], int)
    assert done["createTime"] > 10**12 and done["completeTime"] > done["createTime"]  # Unix milliseconds
    [output] = done["output"]
    assert set(output) == {"url", "width", "height"}
    assert isinstance(output["width"], int) and isinstance(output["height"], int)
    if body["inputs"].get("resolution") == "1280x720":  # the queryTask example: 1280 × 720
        assert (output["width"], output["height"]) == (1280, 720)
    media = httpx.get(output["url"])
    assert media.status_code == 200
    assert media.headers["content-type"] == ("image/png" if body["model"] == "gpt-image-2" else "video/mp4")


def test_the_multi_reference_example_works_once_its_video_is_an_asset(emu: RunningEmulator,
                                                                      api: httpx.Client) -> None:
    """Example 4 sends an https video in `videoUrls`; the Parameters Reference says they "Must be
    `asset://` URIs — external URLs are rejected. Upload videos via /api/v1/assets/upload first"."""
    inputs = {"urls": ["https://example.com/ref1.jpg", "https://example.com/ref2.jpg"],
              "videoUrls": ["https://example.com/motion-ref.mp4"], "audioUrls": ["https://example.com/audio.mp3"],
              "prompt": "Character walks through a garden", "duration": "5s", "videoInputMode": "reference",
              "resolution": "1280x720"}
    verbatim = api.post("/jobs/createTask", json={"model": "sd2", "inputs": inputs})
    assert verbatim.status_code == 400 and verbatim.json()["param"] == "inputs.videoUrls"
    assert "asset://" in verbatim.json()["message"]
    volc = _active_asset(emu, api, "https://example.com/motion-ref.mp4", "VIDEO")
    created = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {**inputs, "videoUrls": [f"asset://{volc}"]}})
    assert created.status_code == 200
    done = _finish(emu, api, created.json()["taskId"])
    # "720P, 5s ref video": 300 for sd2 (audio and images are not billed)
    assert done["status"] == "COMPLETED" and done["creditsUsed"] == 300


def test_the_1080p_example_works_with_an_asset_of_ones_own(emu: RunningEmulator, api: httpx.Client) -> None:
    """Example 5 names `asset://asset-20260326-abc123`, an id of the document's own library."""
    inputs = {"urls": ["https://example.com/scene.jpg"], "videoUrls": ["asset://asset-20260326-abc123"],
              "prompt": "Character moves smoothly matching the reference video", "duration": "5s",
              "outputResolution": "1080p", "videoInputMode": "reference"}
    verbatim = api.post("/jobs/createTask", json={"model": "sd2", "inputs": inputs})
    assert verbatim.status_code == 400 and verbatim.json()["param"] == "inputs.videoUrls[0]"
    volc = _active_asset(emu, api, "https://example.com/motion.mp4#duration=5", "VIDEO")
    created = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {**inputs, "videoUrls": [f"asset://{volc}"]}})
    assert created.status_code == 200
    task_id = created.json()["taskId"]
    emu.advance(5 + 300)
    assert _query(api, task_id)["status"] == "PROCESSING"  # "typically 10+ minutes"
    done = _finish(emu, api, task_id)
    # "Example — sd2 1080P native, 5s output + 5s ref video: (5+5) × 75 = 750 credits."
    assert done["status"] == "COMPLETED" and done["creditsUsed"] == 750
    assert done["completeTime"] - done["createTime"] >= 600_000
    assert (done["output"][0]["width"], done["output"][0]["height"]) == (1920, 1080)


def test_sd2_fast_with_the_1080p_upscale_example(emu: RunningEmulator, api: httpx.Client) -> None:
    """"sd2-fast with 1080p upscale, 5s output, no ref video: 5 × 32 (base) + 5 × 20 (upscale) = 260"."""
    created = api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {
        "prompt": "A cat playing piano", "duration": "5s", "upscaleResolution": "1080p"}})
    done = _finish(emu, api, created.json()["taskId"])
    assert done["creditsUsed"] == 260 and (done["output"][0]["width"], done["output"][0]["height"]) == (1920, 1080)
    refused = api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {
        "prompt": "A cat playing piano", "outputResolution": "1080p"}})  # "sd2-fast rejects this"
    assert refused.status_code == 400 and refused.json()["param"] == "inputs.outputResolution"


def test_a_callback_url_receives_the_query_shape(emu: RunningEmulator, api: httpx.Client) -> None:
    """The createTask request body example with its `callBackUrl`."""
    created = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "A cat playing piano"},
                                                 "callBackUrl": "https://your-server.com/webhook"})
    assert created.status_code == 200
    task_id = created.json()["taskId"]
    done = _finish(emu, api, task_id)
    with emu.control() as control:
        [delivery] = [d for d in control.get("/webhooks").json() if d["ref"] == task_id]
    assert delivery["url"] == "https://your-server.com/webhook" and done["status"] == "COMPLETED"


# -- credits, assets -------------------------------------------------------------------------


def test_credits_has_the_documented_fields(emu: RunningEmulator, api: httpx.Client) -> None:
    assert api.get("/account/credits").json() == {"credits": 100_000, "availableCredits": 100_000}
    api.post("/jobs/createTask", json=EXAMPLES["curl-text-to-video"][0])
    # `{ "credits": 5000, "availableCredits": 4800 }`: a running task's credits are not available
    assert api.get("/account/credits").json() == {"credits": 100_000, "availableCredits": 99_800}


def test_the_quick_start_flow(emu: RunningEmulator, api: httpx.Client) -> None:
    upload = api.post("/assets/upload", json={"url": "https://example.com/photo.jpg", "type": "IMAGE"})
    assert upload.status_code == 200
    asset = upload.json()
    assert set(asset) == ASSET_FIELDS and isinstance(asset["assetId"], int)
    assert asset["status"] == "PROCESSING" and asset["failReason"] is None and asset["type"] == "IMAGE"
    volc = _active_asset(emu, api, "https://example.com/photo.jpg", "IMAGE")
    by_volc = api.get("/assets/status", params={"assetId": volc}).json()  # "numeric assetId or volcAssetId"
    assert by_volc["status"] == "ACTIVE" and by_volc["volcAssetId"] == volc
    created = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {
        "urls": [f"asset://{volc}"], "prompt": "The person smiles", "duration": "5s"}})
    assert created.status_code == 200
    assert _finish(emu, api, created.json()["taskId"])["status"] == "COMPLETED"


def test_the_upload_example_answers_as_documented(api: httpx.Client) -> None:
    asset = api.post("/assets/upload", json={"url": "https://example.com/photo.jpg", "type": "IMAGE",
                                             "name": "my-photo"}).json()
    assert set(asset) == ASSET_FIELDS
    assert {k: asset[k] for k in ("type", "status", "failReason", "url", "name")} == {
        "type": "IMAGE", "status": "PROCESSING", "failReason": None, "url": "https://example.com/photo.jpg",
        "name": "my-photo"}
    assert isinstance(asset["createdAt"], int) and asset["volcAssetId"].startswith("asset-")
    too_long = api.post("/assets/upload", json={"url": "https://example.com/photo.jpg", "type": "IMAGE",
                                                "name": "n" * 65})  # "name (optional, max 64 chars)"
    assert too_long.status_code == 400 and too_long.json()["param"] == "name"


def test_the_asset_list_pages_with_next_cursor(emu: RunningEmulator, api: httpx.Client) -> None:
    for kind, url in (("IMAGE", "https://example.com/a.jpg"), ("AUDIO", "https://example.com/a.mp3"),
                      ("VIDEO", "https://example.com/a.mp4")):
        api.post("/assets/upload", json={"url": url, "type": kind})
    everything = api.get("/assets/list").json()
    assert set(everything) == {"items", "nextCursor"} and len(everything["items"]) == 3
    assert everything["nextCursor"] is None and all(set(i) == ASSET_FIELDS for i in everything["items"])
    first = api.get("/assets/list", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and isinstance(first["nextCursor"], int)
    rest = api.get("/assets/list", params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert len(rest["items"]) == 1 and rest["nextCursor"] is None
    assert [i["type"] for i in api.get("/assets/list", params={"type": "AUDIO"}).json()["items"]] == ["AUDIO"]
    emu.advance(10)
    assert len(api.get("/assets/list", params={"status": "ACTIVE"}).json()["items"]) == 3
    for limit in (0, 51):  # "limit (1-50, default 20)"
        assert api.get("/assets/list", params={"limit": limit}).status_code == 400


# -- the standalone upscaler -----------------------------------------------------------------


@pytest.mark.parametrize(("body", "credits"), [
    ({"source": {"type": "url", "url": "https://..."}, "targetResolution": "1080p",
      "callBackUrl": "https://your-server.com/webhook"}, 5 * 25),
    ({"source": {"type": "uploadId", "r2Url": "https://static.seedance2-pro.com/..."}, "targetResolution": "4k"},
     5 * 50),
], ids=["url", "uploadId"])
def test_the_upscale_examples(emu: RunningEmulator, api: httpx.Client, body: dict[str, Any], credits: int) -> None:
    created = api.post("/upscale/create", json=body)
    assert created.status_code == 200
    assert set(created.json()) == {"taskId", "orderId", "status"} and created.json()["status"] == "validating"
    task_id = created.json()["taskId"]
    first = api.get("/upscale/query", params={"taskId": task_id}).json()
    assert first["status"] == "validating" and set(first) == UPSCALE_FIELDS
    seen = {first["status"]}
    for _ in range(20):
        emu.advance(5)
        job = api.get("/upscale/query", params={"taskId": task_id}).json()
        seen.add(job["status"])
        if job["status"] in ("completed", "failed"):
            break
    assert seen == {"validating", "processing", "completed"}
    assert set(job) == UPSCALE_FIELDS and job["error"] is None
    assert job["targetResolution"] == body["targetResolution"] and job["creditsConsumed"] == credits
    assert set(job["result"]) == {"url", "probedDurationSeconds", "probedSourceResolution"}
    assert job["createdAt"].endswith("Z") and job["finishedAt"].endswith("Z")


def test_a_failed_upscale_answers_as_documented(emu: RunningEmulator, api: httpx.Client) -> None:
    created = api.post("/upscale/create", json={"source": {"type": "url", "url": "https://cdn.example.com/long.mp4"
                                                           "#duration=601"}, "targetResolution": "2k"}).json()
    emu.advance(60)
    job = api.get("/upscale/query", params={"taskId": created["taskId"]}).json()
    assert job["status"] == "failed" and job["creditsConsumed"] is None and job["result"] is None
    assert job["error"]["code"] == "DURATION_EXCEEDS_LIMIT" and isinstance(job["error"]["message"], str)
    assert api.get("/account/credits").json()["availableCredits"] == 100_000  # "credits are fully refunded"
    http = api.post("/upscale/create", json={"source": {"type": "url", "url": "http://cdn.example.com/a.mp4"},
                                             "targetResolution": "2k"})  # "http URLs ... are rejected"
    assert http.status_code == 400 and http.json()["param"] == "source.url"


# -- the documented error statuses ---------------------------------------------------------------


def test_each_documented_error_status(emu: RunningEmulator, spec_check: SpecCheck, api: httpx.Client) -> None:
    assert api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"duration": "5s"}}).status_code == 400
    with httpx.Client(base_url=emu.vendor_url("seegen"), event_hooks={"response": [spec_check]}) as anonymous:
        assert anonymous.get("/account/credits").status_code == 401
        assert anonymous.get("/account/credits", headers={"Authorization": "Bearer nope"}).status_code == 401
    poor = emu.create_account("seegen", credits=100, concurrency_limit=1)
    with _client(emu, spec_check, poor["api_key"]) as other:
        assert other.post("/jobs/createTask", json=EXAMPLES["curl-text-to-video"][0]).status_code == 402
        assert other.post("/jobs/createTask", json=EXAMPLES["gpt-image-2-i2i"][0]).status_code == 200
        busy = other.post("/jobs/createTask", json=EXAMPLES["gpt-image-2-i2i"][0])
        assert busy.status_code == 429  # "Concurrency limit reached"
        mine = api.post("/jobs/createTask", json=EXAMPLES["curl-text-to-video"][0]).json()["taskId"]
        assert other.get("/jobs/queryTask", params={"taskId": mine}).status_code == 403  # "only own tasks"
    assert api.get("/jobs/queryTask", params={"taskId": "task_abc123"}).status_code == 404


def test_the_packs_buy_the_documented_credits(emu: RunningEmulator) -> None:
    """"API Starter Pack $500 → 125,000" and "API XL Pack $2,000 → 500,000" credits."""
    account = emu.create_account("seegen", credits=0)
    with emu.control() as control:
        for usd in (500, 2000):
            assert control.post(f"/accounts/{account['account_id']}/topups", json={"usd": usd}).status_code == 201
        assert control.get(f"/accounts/{account['account_id']}").json()["credits"] == 625_000


def test_a_scoped_key_is_403_access_denied_on_every_operation(emu: RunningEmulator, spec_check: SpecCheck) -> None:
    """"403 Access denied": a key limited to other addresses (or other models) is refused, and
    every operation's 403 is in the spec (it was missing on createTask, credits, upscale/create,
    assets/upload and assets/list)."""
    elsewhere = emu.create_account("seegen", credits=1000, allowed_ips=["10.9.9.9"])
    with _client(emu, spec_check, elsewhere["api_key"]) as api:
        calls = [api.post("/jobs/createTask", json=EXAMPLES["curl-text-to-video"][0]),
                 api.get("/jobs/queryTask", params={"taskId": "task_abc123"}),
                 api.get("/account/credits"),
                 api.post("/upscale/create", json={"source": {"type": "url", "url": "https://e.com/a.mp4"},
                                                   "targetResolution": "2k"}),
                 api.get("/upscale/query", params={"taskId": "upscale_x"}),
                 api.post("/assets/upload", json={"url": "https://example.com/photo.jpg", "type": "IMAGE"}),
                 api.get("/assets/status", params={"assetId": "1"}),
                 api.get("/assets/list")]
    assert [c.status_code for c in calls] == [403] * len(calls)
    assert {c.json()["error"] for c in calls} == {"ACCESS_DENIED"}
    scoped = emu.create_account("seegen", credits=1000, allowed_models=["sd2-fast", "happyhorse"])
    with _client(emu, spec_check, scoped["api_key"]) as api:
        refused = api.post("/jobs/createTask", json=EXAMPLES["curl-text-to-video"][0])
        assert refused.status_code == 403 and refused.json()["param"] == "model"
        assert api.get("/account/credits").json()["availableCredits"] == 1000  # nothing held
        fast = {"model": "sd2-fast", "inputs": {"prompt": "A cat playing piano", "duration": "5s"}}
        assert api.post("/jobs/createTask", json=fast).status_code == 200
        alias = {"model": "happyhorse-video-generation", "inputs": {"prompt": "A panda DJ at a beach party"}}
        assert api.post("/jobs/createTask", json=alias).status_code == 200  # an alias of an allowed model


def test_a_generated_video_can_be_upscaled_by_its_output_url(emu: RunningEmulator, api: httpx.Client) -> None:
    """"Source: https URL or your previously uploaded R2 URL": a task's output URL is such a URL at
    the vendor; the emulator's own (http, loopback) media URLs stand for it with either source type."""
    created = api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {
        "prompt": "A cat playing piano", "duration": "4s", "resolution": "720x720"}})
    url = _finish(emu, api, created.json()["taskId"])["output"][0]["url"]
    assert url.startswith("http://")
    job = api.post("/upscale/create", json={"source": {"type": "url", "url": url}, "targetResolution": "1080p"})
    assert job.status_code == 200
    emu.advance(200)
    done = api.get("/upscale/query", params={"taskId": job.json()["taskId"]}).json()
    assert done["status"] == "completed" and done["creditsConsumed"] == 5 * 25
    assert done["result"]["probedSourceResolution"] == "720x720" and done["result"]["probedDurationSeconds"] == 4


def test_at_most_10_api_keys_per_account(emu: RunningEmulator) -> None:
    """"Create API keys at https://seegen.ai/account (max 10 per account)": the control API, which
    stands in for that page, keeps to it; a revoked key frees a place."""
    account = emu.create_account("seegen", credits=100)
    with emu.control() as control:
        made = [control.post(f"/accounts/{account['account_id']}/keys", json={}) for _ in range(9)]
        assert [r.status_code for r in made] == [201] * 9  # with the account's first key: 10
        refused = control.post(f"/accounts/{account['account_id']}/keys", json={})
        assert refused.status_code == 409 and "allows 10" in refused.json()["error"]
        control.delete(f"/accounts/{account['account_id']}/keys/{made[0].json()['key_id']}")
        assert control.post(f"/accounts/{account['account_id']}/keys", json={}).status_code == 201
