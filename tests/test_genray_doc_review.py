"""A fresh review of the Genray emulation against genray.md: every request example of the
document sent as written (curl bodies byte for byte, the Python example's calls), every response
compared field by field with the document's response examples, and each discrepancy the review
found pinned by a test. Runs a single-vendor server (`serve --vendor genray`), so the documented
paths are served at the root; every response is validated against openapi/genray.yaml."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread

pytestmark = pytest.mark.emulator_only

# The document's curl bodies, exactly as printed ("Quick Start" and "Video From Person Photo").
QUICK_START_BODY = """{
"prompt": "A golden retriever running through a sunlit meadow, cinematic lighting",
"duration": 5,
"aspect_ratio": "16:9"
}"""
FROM_PERSON_BODY = """{
"person_image_url": "https://your-host.com/photo.jpg",
"prompt": "The character turns head slowly, soft daylight, cinematic close-up, subtle smile",
"duration": 5,
"aspect_ratio": "9:16"
}"""

# The document's response examples: field → type.
ACCEPTED_FIELDS = {"id": str, "status": str, "model": str, "duration": int, "aspect_ratio": str,
                   "estimated_cost": int, "credits_remaining": int, "created_at": str}
PERSON_ACCEPTED_FIELDS = {**{k: v for k, v in ACCEPTED_FIELDS.items() if k != "estimated_cost"}, "total_cost": int}
COMPLETED_FIELDS = {"id": str, "status": str, "model": str, "duration": int, "aspect_ratio": str,
                    "credits_spent": int, "video_url": str, "width": int, "height": int, "duration_ms": int,
                    "cover_url": str, "created_at": str}
UPLOAD_FIELDS = {"url": str, "full_url": str, "size_bytes": int}
ACCOUNT_FIELDS = {"plan": str, "plan_name": str, "plan_expires_at": str, "credits_remaining": int,
                  "credits_per_month": int, "api_rpm": int, "api_concurrent": int, "max_api_keys": int}


def has_fields(body: dict[str, Any], fields: dict[str, type]) -> None:
    for name, kind in fields.items():
        assert name in body, f"missing {name!r} in {body}"
        assert isinstance(body[name], kind) and not isinstance(body[name], bool), (name, body[name])


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 128), (180, 150, 120)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def local() -> Iterator[RunningEmulator]:
    with serve_in_thread(Settings(vendors=("genray",), clock="manual", seed=11)) as running:
        yield running


@pytest.fixture
def key(local: RunningEmulator) -> str:
    """A Standard account (4 850 credits); its RPM limit lifted so that the test may poll freely."""
    return str(local.create_account("genray", plan="standard", rate_limit_rpm=0)["api_key"])


@pytest.fixture
def gr(local: RunningEmulator, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30,
                      event_hooks={"response": [SpecCheck.for_vendors(root="genray")]}) as c:
        yield c


def poll_until_done(local: RunningEmulator, gr: httpx.Client, job_id: str) -> dict[str, Any]:
    """The document's loop ("Poll until status is completed"), the clock moved instead of sleeping."""
    for _ in range(100):
        status = gr.get(f"/api/v1/videos/{job_id}").json()
        if status["status"] in ("completed", "failed"):
            return status
        local.advance(5)
    raise AssertionError("the job never finished")


def test_quick_start_curl_example_and_the_completed_response(local: RunningEmulator, gr: httpx.Client) -> None:
    response = gr.post("/api/v1/videos", content=QUICK_START_BODY.encode(),
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 202
    job = response.json()
    has_fields(job, ACCEPTED_FIELDS)
    assert (job["status"], job["model"], job["duration"], job["aspect_ratio"]) == ("queued", "seedance-2.0", 5, "16:9")
    done = poll_until_done(local, gr, job["id"])
    has_fields(done, COMPLETED_FIELDS)
    assert done["status"] == "completed" and done["id"] == job["id"]
    assert (done["width"], done["height"], done["duration_ms"]) == (1280, 720, 5040)
    assert done["credits_spent"] == job["estimated_cost"]
    assert httpx.get(done["video_url"]).status_code == 200  # "a direct download link"


def test_status_names_the_pro_model_as_the_document_does(local: RunningEmulator, gr: httpx.Client) -> None:
    """Discrepancy fixed: "Response (completed)" shows `"model": "seedance-2.0-pro"` for the job the
    202 example shows as `"seedance-2.0"`; the emulator echoed `seedance-2.0` in every body."""
    job = gr.post("/api/v1/videos", json={"prompt": "a cat"}).json()
    assert job["model"] == "seedance-2.0"
    assert gr.get(f"/api/v1/videos/{job['id']}").json()["model"] == "seedance-2.0-pro"  # queued: the same record
    assert poll_until_done(local, gr, job["id"])["model"] == "seedance-2.0-pro"
    fast = gr.post("/api/v1/videos", json={"prompt": "a cat", "model": "seedance-2.0-fast"}).json()
    assert fast["model"] == "seedance-2.0-fast"
    assert poll_until_done(local, gr, fast["id"])["model"] == "seedance-2.0-fast"


def test_python_example_flow(local: RunningEmulator, gr: httpx.Client) -> None:
    resp = gr.post("/api/v1/videos", json={
        "prompt": "A cat wearing a tiny chef hat, cooking pasta in a sunlit kitchen",
        "duration": 10,
        "aspect_ratio": "16:9",
        "model": "seedance-2.0",
    })
    job = resp.json()
    assert resp.status_code == 202 and job["estimated_cost"] == 260  # "10s = 260"
    status = poll_until_done(local, gr, job["id"])
    assert status["status"] == "completed" and status["video_url"]


def test_failed_job_has_the_error_the_examples_print(local: RunningEmulator, gr: httpx.Client) -> None:
    job = gr.post("/api/v1/videos", json={"prompt": "a cat"}, headers={"X-Emulator-Scenario": "fail"}).json()
    status = poll_until_done(local, gr, job["id"])
    assert status["status"] == "failed" and isinstance(status["error"], str) and status["error"]


def test_from_person_curl_example(local: RunningEmulator, gr: httpx.Client) -> None:
    response = gr.post("/api/v1/videos/from-person", content=FROM_PERSON_BODY.encode(),
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 202
    job = response.json()
    has_fields(job, PERSON_ACCEPTED_FIELDS)
    assert (job["status"], job["model"], job["duration"], job["aspect_ratio"]) == ("queued", "seedance-2.0", 5, "9:16")
    done = poll_until_done(local, gr, job["id"])  # "Then poll GET /api/v1/videos/{id} ... until completed"
    has_fields(done, COMPLETED_FIELDS)
    assert (done["width"], done["height"], done["model"]) == (720, 1280, "seedance-2.0-pro")


def test_upload_curl_example_then_full_url_as_person_and_reference(gr: httpx.Client) -> None:
    response = gr.post("/api/v1/upload", files={"file": ("photo.jpg", jpeg(), "image/jpeg")})  # -F file=@photo.jpg
    assert response.status_code == 200
    upload = response.json()
    has_fields(upload, UPLOAD_FIELDS)
    assert upload["url"].startswith("/v1/files/") and upload["full_url"].endswith(upload["url"])
    assert upload["size_bytes"] == len(jpeg())
    assert httpx.get(upload["full_url"]).content == jpeg()  # publicly fetchable, no auth
    person = gr.post("/api/v1/videos/from-person", json={"person_image_url": upload["full_url"], "prompt": "waves"})
    assert person.status_code == 202
    video = gr.post("/api/v1/videos", json={"prompt": "a walk", "reference_images": [upload["full_url"]]})
    assert video.status_code == 202


@pytest.mark.parametrize("fields", [
    {"file_base64": None}, {"image_base64": None}, {"content": None},
    {"file": None, "file_name": "photo.jpg", "content_type": "image/jpeg"},
    {"image": None, "name": "photo.jpg", "mime_type": "image/jpeg"},
], ids=["file_base64", "image_base64", "content", "file+file_name+content_type", "image+name+mime_type"])
def test_upload_json_base64_under_common_field_names(gr: httpx.Client, fields: dict[str, Any]) -> None:
    """ "Accepts ... JSON base64" names no field: the usual names (and file-name / type metadata)
    are accepted rather than refused as unknown parameters."""
    encoded = base64.b64encode(jpeg()).decode()
    body = {k: (encoded if v is None else v) for k, v in fields.items()}
    response = gr.post("/api/v1/upload", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["size_bytes"] == len(jpeg())


def test_upscale_curl_example(local: RunningEmulator, gr: httpx.Client) -> None:
    # `curl -X POST https://genray.ai/api/v1/videos/42/upscale`: no body, no content type.
    unknown = gr.post("/api/v1/videos/42/upscale")
    assert unknown.status_code == 404 and unknown.json()["detail"]["error"] == "not_found"
    job = gr.post("/api/v1/videos", json={"prompt": "a cat"}).json()
    poll_until_done(local, gr, job["id"])
    before = gr.get("/api/v1/account").json()["credits_remaining"]
    response = gr.post(f"/api/v1/videos/{job['generation_id']}/upscale")
    assert response.status_code == 202
    done = poll_until_done(local, gr, response.json()["id"])
    assert (done["width"], done["height"]) == (2560, 1440)  # 2x: 720p → 1440p
    assert gr.get("/api/v1/account").json()["credits_remaining"] == before  # "Free — 0 credits"


def test_account_example_fields(gr: httpx.Client) -> None:
    body = gr.get("/api/v1/account").json()
    has_fields(body, ACCOUNT_FIELDS)
    assert (body["plan"], body["plan_name"], body["credits_per_month"], body["api_rpm"], body["api_concurrent"],
            body["max_api_keys"]) == ("standard", "Standard", 4850, 10, 2, 2)


def test_documented_error_format(local: RunningEmulator) -> None:
    poor = local.create_account("genray", credits=50)
    with httpx.Client(base_url=local.base_url, headers={"Authorization": f"Bearer {poor['api_key']}"},
                      event_hooks={"response": [SpecCheck.for_vendors(root="genray")]}) as c:
        response = c.post("/api/v1/videos", json={"prompt": "a cat"})
        assert response.status_code == 402
        assert response.json() == {"detail": {"error": "insufficient_credits",
                                              "message": "Not enough credits. Need 130, have 50.",
                                              "credits_required": 130, "credits_available": 50}}
        assert c.get("/api/v1/videos/JOB_ID").json()["detail"]["error"] == "not_found"
        missing = httpx.get(local.base_url + "/api/v1/account")
        assert missing.status_code == 401 and missing.json()["detail"]["error"] == "unauthorized"


def test_the_control_api_keeps_to_the_plans_key_limit(emu: RunningEmulator) -> None:
    """Keys made through the control API count toward "API keys per plan" like those of /api/keys."""
    account = emu.create_account("genray", plan="standard")  # Standard: 2 keys
    with emu.control() as control:
        assert control.post(f"/accounts/{account['account_id']}/keys", json={}).status_code == 201
        refused = control.post(f"/accounts/{account['account_id']}/keys", json={})
        assert refused.status_code == 409 and "allows 2" in refused.json()["error"]
