"""Genray over raw HTTP (genray.md): submit, lifecycle, real media, billing, refunds, upscale,
uploads, account and keys. Every response is validated against openapi/genray.yaml."""

from __future__ import annotations

import base64
import hashlib
import io
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.core.media_render import probe
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread

pytestmark = pytest.mark.emulator_only

PROMPT = "A golden retriever running through a sunlit meadow, cinematic lighting"


def png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def genray_account(emu: RunningEmulator) -> dict[str, Any]:
    """A Standard account with its monthly 4 850 credits and one key, whose RPM limit is lifted
    (rate_limit_rpm=0) so that these tests may poll freely; test_genray_limits.py tests the limits."""
    return emu.create_account("genray", plan="standard", rate_limit_rpm=0)


def client_for(emu: RunningEmulator, key: str) -> httpx.Client:
    return httpx.Client(base_url=emu.vendor_url("genray"), headers={"Authorization": f"Bearer {key}"},
                        event_hooks={"response": [SpecCheck.for_vendors("genray")]}, timeout=30)


@pytest.fixture
def gr(emu: RunningEmulator, genray_account: dict[str, Any]) -> Iterator[httpx.Client]:
    with client_for(emu, genray_account["api_key"]) as c:
        yield c


def ledger(control: httpx.Client, account: dict[str, Any]) -> dict[str, Any]:
    return control.get(f"/accounts/{account['account_id']}").json()


def run_to_end(emu: RunningEmulator, gr: httpx.Client, job_id: str, step: float = 30) -> dict[str, Any]:
    for _ in range(40):
        body = gr.get(f"/api/v1/videos/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        emu.advance(step)
    raise AssertionError("job never ended")


# -- POST /api/v1/videos ------------------------------------------------------------------------


def test_submit_applies_documented_defaults_and_charges_the_table_price(
        gr: httpx.Client, control: httpx.Client, genray_account: dict[str, Any]) -> None:
    response = gr.post("/api/v1/videos", json={"prompt": PROMPT})
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["model"], body["duration"], body["aspect_ratio"]) == \
        ("queued", "seedance-2.0", 5, "16:9")
    assert body["estimated_cost"] == 5 * 26  # the table (26/s), not the example's 170
    assert body["credits_remaining"] == 4850 - 130
    state = ledger(control, genray_account)
    assert state["available"] == 4850 - 130


@pytest.mark.parametrize(("extra", "cost"), [
    ({"model": "seedance-2.0-fast", "duration": 10}, 220),
    ({"model": "seedance-2.0", "duration": 15}, 390),
    ({"duration": 5, "reference_videos": ["https://example.com/motion.mp4"]}, 5 * (26 + 18)),
    ({"model": "seedance-2.0-fast", "duration": 4, "reference_videos": ["https://example.com/a.mp4"]}, 4 * 40),
    ({"duration": 5, "reference_images": ["https://example.com/a.png"] * 9}, 130),
])
def test_cost_table(gr: httpx.Client, extra: dict[str, Any], cost: int) -> None:
    body = gr.post("/api/v1/videos", json={"prompt": PROMPT, **extra}).json()
    assert body["estimated_cost"] == cost


def test_lifecycle_and_a_real_completed_video(emu: RunningEmulator, gr: httpx.Client, control: httpx.Client,
                                              genray_account: dict[str, Any], tmp_path: pathlib.Path) -> None:
    job = gr.post("/api/v1/videos", json={"prompt": PROMPT, "duration": 4, "aspect_ratio": "9:16"}).json()
    seen = []
    for _ in range(20):
        body = gr.get(f"/api/v1/videos/{job['id']}").json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == "completed":
            break
        emu.advance(5)
    assert seen == ["queued", "processing", "completed"]
    assert (body["width"], body["height"], body["duration_ms"], body["credits_spent"]) == (720, 1280, 4040, 104)
    video = tmp_path / "v.mp4"
    video.write_bytes(httpx.get(body["video_url"]).content)
    info = probe(video)
    assert (info["width"], info["height"]) == (720, 1280) and abs(info["duration"] - 4.04) < 0.05
    cover = tmp_path / "c.jpg"
    cover.write_bytes(httpx.get(body["cover_url"]).content)
    assert Image.open(cover).size == (720, 1280)
    kinds = [e["kind"] for e in ledger(control, genray_account)["ledger"] if e["ref"] == job["id"]]
    assert kinds == ["hold", "settle"]


def test_generation_takes_30_to_120_seconds(emu: RunningEmulator, gr: httpx.Client) -> None:
    short = gr.post("/api/v1/videos", json={"prompt": PROMPT, "duration": 4}).json()
    long = gr.post("/api/v1/videos", json={"prompt": PROMPT, "duration": 15}).json()
    emu.advance(29)
    assert gr.get(f"/api/v1/videos/{short['id']}").json()["status"] != "completed"
    emu.advance(91)
    assert gr.get(f"/api/v1/videos/{long['id']}").json()["status"] == "completed"


INVALID = [
    ({"prompt": ""}, "prompt"),
    ({"prompt": "x" * 4001}, "prompt"),
    ({}, "prompt"),
    ({"prompt": PROMPT, "duration": 3}, "duration"),
    ({"prompt": PROMPT, "duration": 16}, "duration"),
    ({"prompt": PROMPT, "aspect_ratio": "2:1"}, "aspect_ratio"),
    ({"prompt": PROMPT, "model": "seedance-1.0"}, "model"),
    ({"prompt": PROMPT, "end_frame_url": "https://example.com/end.png"}, "end_frame_url"),
    ({"prompt": PROMPT, "reference_images": ["https://example.com/a.png"] * 10}, "reference_images"),
    ({"prompt": PROMPT, "reference_videos": ["https://example.com/a.mp4"] * 4}, "reference_videos"),
    ({"prompt": PROMPT, "reference_audios": ["https://example.com/a.mp3"] * 4}, "reference_audios"),
    ({"prompt": PROMPT, "webhook_url": "http://example.com/hook"}, "webhook_url"),
    ({"prompt": PROMPT, "first_frame_url": "ftp://example.com/a.png"}, "first_frame_url"),
    ({"prompt": PROMPT, "first_frame_url": "/v1/files/nope.png"}, "first_frame_url"),
    ({"prompt": PROMPT, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), INVALID)
def test_bad_input_is_422_in_the_documented_shape_and_charges_nothing(
        gr: httpx.Client, control: httpx.Client, genray_account: dict[str, Any], body: dict[str, Any],
        field: str) -> None:
    response = gr.post("/api/v1/videos", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["error"] == "validation_error" and detail["field"].split(".")[0] == field
    assert [e["kind"] for e in ledger(control, genray_account)["ledger"]] == ["topup"]


def test_first_and_end_frame_together_are_accepted(gr: httpx.Client) -> None:
    response = gr.post("/api/v1/videos", json={"prompt": PROMPT, "first_frame_url": "https://e.com/a.png",
                                               "end_frame_url": "https://e.com/b.png"})
    assert response.status_code == 202


def test_a_reference_of_the_wrong_kind_is_refused(emu: RunningEmulator, gr: httpx.Client) -> None:
    """An emulator-served URL is known without fetching: an image is not a video reference."""
    upload = gr.post("/api/v1/upload", files={"file": ("a.png", png(), "image/png")}).json()
    response = gr.post("/api/v1/videos", json={"prompt": PROMPT, "reference_videos": [upload["full_url"]]})
    assert response.status_code == 422 and response.json()["detail"]["field"] == "reference_videos.0"
    ok = gr.post("/api/v1/videos", json={"prompt": PROMPT, "reference_images": [upload["full_url"]],
                                         "first_frame_url": upload["url"]})
    assert ok.status_code == 202


def test_insufficient_credits_is_402_with_the_documented_fields(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", plan="standard", credits=50)
    with client_for(emu, account["api_key"]) as c:
        response = c.post("/api/v1/videos", json={"prompt": PROMPT})
    assert response.status_code == 402
    assert response.json()["detail"] == {"error": "insufficient_credits",
                                         "message": "Not enough credits. Need 130, have 50.",
                                         "credits_required": 130, "credits_available": 50}


def test_only_the_owner_sees_a_job(emu: RunningEmulator, gr: httpx.Client) -> None:
    job = gr.post("/api/v1/videos", json={"prompt": PROMPT}).json()
    other = emu.create_account("genray")
    with client_for(emu, other["api_key"]) as c:
        response = c.get(f"/api/v1/videos/{job['id']}")
        assert response.status_code == 404 and response.json()["detail"]["error"] == "not_found"
        assert c.post(f"/api/v1/videos/{job['generation_id']}/upscale").status_code == 404
    assert gr.get("/api/v1/videos/no-such-job").status_code == 404


@pytest.mark.parametrize(("scenario", "message"), [("fail", "failed"), ("moderation_reject", "moderation"),
                                                   ("output_moderation", "moderation")])
def test_failures_and_moderation_rejects_are_refunded(emu: RunningEmulator, gr: httpx.Client, control: httpx.Client,
                                                      genray_account: dict[str, Any], scenario: str,
                                                      message: str) -> None:
    job = gr.post("/api/v1/videos", json={"prompt": f"{PROMPT} #emulator:{scenario}"}).json()
    body = run_to_end(emu, gr, job["id"])
    assert body["status"] == "failed" and message in body["error"].lower() and body["credits_spent"] == 0
    assert [e["kind"] for e in ledger(control, genray_account)["ledger"] if e["ref"] == job["id"]] == \
        ["hold", "refund"]
    assert ledger(control, genray_account)["available"] == 4850


def test_upstream_error_is_500_generation_failed_and_refunded(gr: httpx.Client, control: httpx.Client,
                                                              genray_account: dict[str, Any]) -> None:
    response = gr.post("/api/v1/videos", json={"prompt": PROMPT}, headers={"X-Emulator-Scenario": "upstream_error"})
    assert response.status_code == 500 and response.json()["detail"]["error"] == "generation_failed"
    assert ledger(control, genray_account)["available"] == 4850


# -- from-person ----------------------------------------------------------------------------------


def test_from_person_defaults_cost_and_longer_processing(emu: RunningEmulator, gr: httpx.Client) -> None:
    upload = gr.post("/api/v1/upload", files={"file": ("me.png", png(), "image/png")}).json()
    response = gr.post("/api/v1/videos/from-person", json={"person_image_url": upload["full_url"],
                                                          "prompt": "turns head slowly"})
    assert response.status_code == 202
    body = response.json()
    assert (body["aspect_ratio"], body["duration"], body["model"], body["total_cost"]) == \
        ("9:16", 5, "seedance-2.0", 130)
    assert "estimated_cost" not in body
    emu.advance(119)
    assert gr.get(f"/api/v1/videos/{body['id']}").json()["status"] == "processing"  # "~2–5 minutes"
    emu.advance(181)
    done = gr.get(f"/api/v1/videos/{body['id']}").json()
    assert done["status"] == "completed" and (done["width"], done["height"]) == (720, 1280)


@pytest.mark.parametrize(("body", "field"), [
    ({"prompt": "wave"}, "person_image_url"),
    ({"person_image_url": "http://example.com/me.jpg", "prompt": "wave"}, "person_image_url"),
    ({"person_image_url": "https://e.com/me.jpg", "prompt": "x" * 4001}, "prompt"),
    ({"person_image_url": "https://e.com/me.jpg", "prompt": "w", "extra_reference_images": ["https://e.com/a"] * 9},
     "extra_reference_images"),
    ({"person_image_url": "https://e.com/me.jpg", "prompt": "w", "webhook_url": "http://e.com/h"}, "webhook_url"),
])
def test_from_person_limits(gr: httpx.Client, body: dict[str, Any], field: str) -> None:
    response = gr.post("/api/v1/videos/from-person", json=body)
    assert response.status_code == 422 and response.json()["detail"]["field"] == field


def test_from_person_accepts_eight_extra_references_and_clothing(gr: httpx.Client) -> None:
    response = gr.post("/api/v1/videos/from-person", json={
        "person_image_url": "https://e.com/me.jpg", "prompt": "salutes", "clothing_details": "name tape",
        "extra_reference_images": ["https://e.com/a.png"] * 8, "model": "seedance-2.0-fast", "duration": 10})
    assert response.status_code == 202 and response.json()["total_cost"] == 220


def test_generation_numbers_start_again_after_a_reset() -> None:
    """The account-visible numeric ids (1, 2, …) are the emulator's state: a reset forgets them."""
    with serve_in_thread(Settings(vendors=["genray"], clock="manual", seed=3)) as running:
        def two_videos() -> list[int]:
            with running.control() as control:
                key = control.post("/accounts", json={"vendor": "genray", "rate_limit_rpm": 0}).json()["api_key"]
            with client_for(running, key) as c:
                return [c.post("/api/v1/videos", json={"prompt": "a cat", "duration": 5}).json()["generation_id"]
                        for _ in range(2)]

        assert two_videos() == [1, 2]
        assert two_videos() == [3, 4]  # one numbering for the whole emulator (docs/fidelity-genray.md A9)
        with running.control() as control:
            control.post("/reset").raise_for_status()
        assert two_videos() == [1, 2]


# -- upscale --------------------------------------------------------------------------------------


def test_upscale_by_generation_id_is_free_and_doubles_the_resolution(
        emu: RunningEmulator, gr: httpx.Client, control: httpx.Client, genray_account: dict[str, Any]) -> None:
    job = gr.post("/api/v1/videos", json={"prompt": PROMPT}).json()
    early = gr.post(f"/api/v1/videos/{job['generation_id']}/upscale")
    assert early.status_code == 409 and early.json()["detail"]["error"] == "video_not_completed"
    run_to_end(emu, gr, job["id"])
    before = ledger(control, genray_account)["ledger"]
    up = gr.post(f"/api/v1/videos/{job['generation_id']}/upscale")
    assert up.status_code == 202
    assert up.json()["estimated_cost"] == 0 and up.json()["upscaled_from"] == job["generation_id"]
    done = run_to_end(emu, gr, up.json()["id"])
    assert (done["status"], done["width"], done["height"], done["credits_spent"]) == ("completed", 2560, 1440, 0)
    assert ledger(control, genray_account)["ledger"] == before  # free: no entry at all
    again = gr.post(f"/api/v1/videos/{up.json()['generation_id']}/upscale")
    assert again.status_code == 409 and again.json()["detail"]["error"] == "already_upscaled"
    assert gr.post(f"/api/v1/videos/{job['id']}/upscale").status_code == 422  # the job id is not numeric
    assert gr.post("/api/v1/videos/999999/upscale").status_code == 404


# -- uploads and files ----------------------------------------------------------------------------


def test_upload_multipart_and_json_base64_are_served_publicly(emu: RunningEmulator, gr: httpx.Client) -> None:
    data = png(33, 22)
    multipart = gr.post("/api/v1/upload", files={"file": ("photo.jpg", data, "image/jpeg")})
    assert multipart.status_code == 200
    body = multipart.json()
    assert body["size_bytes"] == len(data) and body["url"].startswith("/v1/files/")
    # The document's pattern, "/v1/files/upload_u42_abc123_xyz.jpg" (the bytes decide the extension)
    assert re.fullmatch(r"/v1/files/upload_u\d+_[a-z0-9]{6}_[a-z0-9]{3}\.png", body["url"]), body["url"]
    assert body["full_url"].endswith(body["url"])
    served = httpx.get(body["full_url"])  # no Authorization: the file path is public
    assert served.status_code == 200 and served.content == data and served.headers["content-type"] == "image/png"
    as_json = gr.post("/api/v1/upload", json={"file": base64.b64encode(data).decode(), "filename": "p.png"})
    assert as_json.status_code == 200 and as_json.json()["size_bytes"] == len(data)
    data_url = gr.post("/api/v1/upload", json={"file": "data:image/png;base64," + base64.b64encode(data).decode()})
    assert data_url.status_code == 200


def test_upload_names_follow_the_documents_pattern_per_account(emu: RunningEmulator, gr: httpx.Client) -> None:
    """"url": "/v1/files/upload_u42_abc123_xyz.jpg": a JPEG ends in .jpg, and one account's uploads
    share its user number while another account's differ."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "JPEG")
    first = gr.post("/api/v1/upload", files={"file": ("a.jpeg", buf.getvalue(), "image/jpeg")}).json()["url"]
    second = gr.post("/api/v1/upload", files={"file": ("b.png", png(), "image/png")}).json()["url"]
    pattern = r"/v1/files/upload_u(\d+)_[a-z0-9]{6}_[a-z0-9]{3}\.(jpg|png)"
    one, two = re.fullmatch(pattern, first), re.fullmatch(pattern, second)
    assert one and one.group(2) == "jpg" and two and two.group(2) == "png"
    assert one.group(1) == two.group(1) and first != second
    with emu.control() as control:
        other_key = control.post("/accounts", json={"vendor": "genray", "rate_limit_rpm": 0}).json()["api_key"]
    other = httpx.post(emu.vendor_url("genray") + "/api/v1/upload", headers={"Authorization": f"Bearer {other_key}"},
                       files={"file": ("c.png", png(), "image/png")})
    third = re.fullmatch(pattern, other.json()["url"])
    assert third and third.group(1) != one.group(1)


@pytest.mark.parametrize("field", ["image", "data", "base64"])
def test_upload_json_accepts_other_usual_field_names(gr: httpx.Client, field: str) -> None:
    """The document does not name the JSON field: `file` and the usual alternatives are accepted."""
    response = gr.post("/api/v1/upload", json={field: base64.b64encode(png()).decode()})
    assert response.status_code == 200 and response.json()["size_bytes"] == len(png())


def test_upload_takes_exactly_one_file(gr: httpx.Client) -> None:
    encoded = base64.b64encode(png()).decode()
    assert gr.post("/api/v1/upload", json={"file": encoded, "image": encoded}).status_code == 422
    assert gr.post("/api/v1/upload", json={"filename": "a.png"}).status_code == 422
    other_part = gr.post("/api/v1/upload", files={"image": ("a.png", png(), "image/png")})
    assert other_part.status_code == 422 and other_part.json()["detail"]["error"] == "validation_error"


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"json": {"file": "not base64 !!"}}, 400, "invalid_file"),
    ({"json": {"file": base64.b64encode(b"hello, I am text").decode()}}, 415, "unsupported_file_type"),
    ({"files": {"file": ("a.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")}}, 400, "invalid_file"),
    ({"files": {"file": ("a.txt", b"plain text", "text/plain")}}, 415, "unsupported_file_type"),
    ({"json": {"file": base64.b64encode(b"\x00" * (10 * 1024 * 1024 + 1)).decode()}}, 413, "file_too_large"),
    ({"files": {"file": ("big.png", b"\x00" * (10 * 1024 * 1024 + 1), "image/png")}}, 413, "file_too_large"),
    ({"json": {}}, 422, "validation_error"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(emu: RunningEmulator, gr: httpx.Client,
                                                       genray_account: dict[str, Any], payload: dict[str, Any],
                                                       status: int, code: str) -> None:
    response = gr.post("/api/v1/upload", **payload)
    assert response.status_code == status and response.json()["detail"]["error"] == code
    assert emu.emulator.uploads.of_account("genray", genray_account["account_id"]) == []


@pytest.mark.parametrize("path", ["/v1/files/..%2F..%2Fetc%2Fpasswd", "/v1/files/%2E%2E", "/v1/files/..",
                                  "/v1/files/.%2e/pyproject.toml", "/v1/files/nope.png"])
def test_path_tricks_never_leave_the_store(emu: RunningEmulator, path: str) -> None:
    response = httpx.get(emu.vendor_url("genray") + path)
    assert response.status_code == 404
    assert response.json()["detail"]["error"] == "not_found"


def test_files_of_other_vendors_are_not_served_under_genray(emu: RunningEmulator) -> None:
    upload = emu.emulator.uploads.put(vendor="elsewhere", account_id="x", data=png(), kinds={"image"},
                                      max_bytes=10**6, now=0)
    assert httpx.get(f"{emu.vendor_url('genray')}/v1/files/{upload.name}").status_code == 404


# -- account and keys -----------------------------------------------------------------------------


def test_account_reports_plan_credits_and_limits(gr: httpx.Client) -> None:
    body = gr.get("/api/v1/account").json()
    assert {k: body[k] for k in ("plan", "plan_name", "credits_remaining", "credits_per_month", "api_rpm",
                                 "api_concurrent", "max_api_keys")} == {
        "plan": "standard", "plan_name": "Standard", "credits_remaining": 4850, "credits_per_month": 4850,
        "api_rpm": 10, "api_concurrent": 2, "max_api_keys": 2}


def test_advanced_plan_account(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", plan="advanced")
    with client_for(emu, account["api_key"]) as c:
        body = c.get("/api/v1/account").json()
    assert (body["plan_name"], body["credits_remaining"], body["api_rpm"], body["api_concurrent"],
            body["max_api_keys"]) == ("Advanced", 9900, 30, 5, 5)


def test_monthly_credits_arrive_each_period(emu: RunningEmulator, gr: httpx.Client) -> None:
    first = gr.get("/api/v1/account").json()
    emu.advance(30 * 86400)
    second = gr.get("/api/v1/account").json()
    assert second["credits_remaining"] == first["credits_remaining"] + 4850
    assert second["plan_expires_at"] > first["plan_expires_at"]


def test_keys_shown_once_stored_hashed_limited_by_plan_and_revoked_at_once(
        emu: RunningEmulator, gr: httpx.Client, genray_account: dict[str, Any]) -> None:
    created = gr.post("/api/keys", json={"name": "ci", "webhook_url": "https://example.com/hook"})
    assert created.status_code == 201
    new = created.json()
    assert new["key"].startswith("sk_live_") and new["webhook_secret"].startswith("whsec_")
    stored = emu.emulator.accounts.keys[new["id"]]
    assert stored.key_hash == hashlib.sha256(new["key"].encode()).hexdigest()
    assert new["key"] not in repr(vars(stored) if hasattr(stored, "__dict__") else stored)
    listed = gr.get("/api/keys").json()["keys"]
    assert [k["id"] for k in listed] == [genray_account["key_id"], new["id"]]
    assert all("key" not in k and "webhook_secret" not in k for k in listed)
    third = gr.post("/api/keys", json={"name": "one too many"})  # Standard: 2 keys
    assert third.status_code == 403 and third.json()["detail"]["error"] == "key_limit_reached"
    with client_for(emu, new["key"]) as c:
        assert c.get("/api/v1/account").status_code == 200
        assert gr.delete(f"/api/keys/{new['id']}").json() == {"id": new["id"], "revoked": True}
        refused = c.get("/api/v1/account")
        assert refused.status_code == 401 and refused.json()["detail"]["error"] == "unauthorized"
    assert gr.post("/api/keys", json={}).status_code == 201  # the revoked key frees its slot
    assert gr.delete("/api/keys/key_nope").status_code == 404


def test_a_key_of_another_account_cannot_be_revoked(emu: RunningEmulator, gr: httpx.Client) -> None:
    other = emu.create_account("genray")
    response = gr.delete(f"/api/keys/{other['key_id']}")
    assert response.status_code == 404


def test_missing_or_wrong_key_is_401(emu: RunningEmulator) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_live_nope"}, {"Authorization": "sk_live_raw"}):
        response = httpx.get(emu.vendor_url("genray") + "/api/v1/account", headers=headers)
        assert response.status_code == 401 and response.json()["detail"]["error"] == "unauthorized"


def test_basic_plan_has_no_api_access(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", plan="basic")
    with client_for(emu, account["api_key"]) as c:
        for method, path, body in [("GET", "/api/v1/account", None), ("POST", "/api/v1/videos", {"prompt": "a"}),
                                   ("GET", "/api/keys", None), ("POST", "/api/keys", {})]:
            response = c.request(method, path, json=body)
            assert response.status_code == 403 and response.json()["detail"]["error"] == "plan_required"


def test_control_api_rejects_an_unknown_plan_without_leaving_an_account(emu: RunningEmulator,
                                                                         control: httpx.Client) -> None:
    before = len(control.get("/accounts", params={"vendor": "genray"}).json())
    response = control.post("/accounts", json={"vendor": "genray", "plan": "platinum"})
    assert response.status_code == 400 and "plan" in response.json()["error"]
    for bad, field in (({"webhook_url": "http://example.com/h"}, "webhook_url"),
                       ({"concurrent_jobs": -1}, "concurrent_jobs")):
        response = control.post("/accounts", json={"vendor": "genray", **bad})
        assert response.status_code == 400 and field in response.json()["error"]
    assert len(control.get("/accounts", params={"vendor": "genray"}).json()) == before
