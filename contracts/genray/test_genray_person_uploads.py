"""genray.md, "Video From Person Photo" and "Upload Reference Image": the person endpoint's fields,
defaults (9:16), limits (8 extra references), `total_cost`, longer processing and refunds; uploads
by multipart and JSON base64 (10 MB), served publicly under /v1/files/ and usable as inputs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from client import BadRequestError
from client.genray import FileTooLargeError, Genray, UnsupportedFileError, ValidationError

from .._support import Account, Clock
from .conftest import MAX_EXTRA_REFERENCES, MAX_UPLOAD_BYTES, Finish, cost, png

PERSON = "https://example.com/portrait.jpg"
ACTION = "The character turns head slowly, soft daylight, cinematic close-up, subtle smile"


@pytest.mark.spends(credits=cost("seedance-2.0", 5))
def test_from_person_defaults_and_total_cost(client: Genray) -> None:
    before = client.account.retrieve().credits_remaining
    job = client.videos.from_person(person_image_url=PERSON, prompt=ACTION)
    assert (job.status, job.aspect_ratio, job.duration, job.model) == ("queued", "9:16", 5, "seedance-2.0")
    assert job.total_cost == cost("seedance-2.0", 5)  # the table: 130 (the example's 142 disagrees)
    assert job.credits_remaining == before - job.total_cost


@pytest.mark.spends(credits=cost("seedance-2.0-fast", 8))
def test_from_person_accepts_every_documented_field(client: Genray) -> None:
    job = client.videos.from_person(person_image_url=PERSON, prompt=ACTION, duration=8, aspect_ratio="16:9",
                                    model="seedance-2.0-fast", clothing_details="unit patch on the left sleeve",
                                    extra_reference_images=["https://example.com/loc.png"] * MAX_EXTRA_REFERENCES,
                                    webhook_url="https://example.com/hook")
    assert (job.aspect_ratio, job.duration, job.total_cost) == ("16:9", 8, cost("seedance-2.0-fast", 8))


@pytest.mark.parametrize(("change", "field"), [
    ({"person_image_url": "http://example.com/me.jpg"}, "person_image_url"),
    ({"extra_reference_images": ["https://example.com/a.png"] * (MAX_EXTRA_REFERENCES + 1)},
     "extra_reference_images"),
    ({"prompt": "x" * 4001}, "prompt"),
    ({"duration": 16}, "duration"),
    ({"webhook_url": "http://example.com/hook"}, "webhook_url"),
])
def test_from_person_limits(client: Genray, account: Account, change: dict[str, Any], field: str) -> None:
    body: dict[str, Any] = {"person_image_url": PERSON, "prompt": ACTION, **change}
    with account.unchanged(), pytest.raises(ValidationError) as err:
        client.videos.from_person(**body)
    assert err.value.param == field


@pytest.mark.emulator_only
def test_from_person_takes_two_to_five_minutes(client: Genray, clock: Clock) -> None:
    short = client.videos.from_person(person_image_url=PERSON, prompt=ACTION, duration=4)
    long = client.videos.from_person(person_image_url=PERSON, prompt=ACTION, duration=15)
    clock.advance(119)
    assert {client.videos.retrieve(j.id).status for j in (short, long)} <= {"queued", "processing"}
    clock.advance(300 - 119)
    done = [client.videos.retrieve(j.id) for j in (short, long)]
    assert all(v.status == "completed" for v in done)
    assert (done[0].width, done[0].height) == (720, 1280)  # 9:16


@pytest.mark.emulator_only
def test_moderation_reject_is_refunded(client: Genray, account: Account, finish: Finish) -> None:
    before = client.account.retrieve().credits_remaining
    job = client.videos.from_person(person_image_url=PERSON, prompt=f"{ACTION} #emulator:moderation_reject")
    video = finish(client, job.id)
    assert video.status == "failed" and "moderation" in (video.error or "").lower()
    assert client.account.retrieve().credits_remaining == before
    account.expect(job.id, [("hold", job.total_cost), ("refund", job.total_cost)])


@pytest.mark.spends(credits=3 * cost("seedance-2.0-fast", 4))
@pytest.mark.parametrize("encoding", ["multipart", "base64"])
def test_upload_then_public_file_then_use_as_person_and_reference(client: Genray, encoding: str) -> None:
    data = png(40, 30)
    upload = client.uploads.create(data, filename="photo.png", content_type="image/png", encoding=encoding)
    assert upload.size_bytes == len(data)
    assert upload.url.startswith("/v1/files/") and upload.full_url.endswith(upload.url)
    served = httpx.get(upload.full_url, timeout=30)  # public: no Authorization header
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"].startswith("image/")
    job = client.videos.from_person(person_image_url=upload.full_url, prompt=ACTION, model="seedance-2.0-fast",
                                    duration=4)
    assert job.status == "queued"
    path_job = client.videos.from_person(person_image_url=upload.url, prompt=ACTION, model="seedance-2.0-fast",
                                         duration=4)  # "or /v1/files/... path"
    assert path_job.status == "queued"
    ref_job = client.videos.create(prompt="a studio", reference_images=[upload.full_url], duration=4,
                                   model="seedance-2.0-fast")
    assert ref_job.status == "queued"


@pytest.mark.emulator_only
def test_upload_names_follow_the_documents_example(client: Genray) -> None:
    """"url": "/v1/files/upload_u42_abc123_xyz.jpg": the emulator names uploads that way (a live
    service may name them otherwise; only the /v1/files/ prefix is promised, so this is not portable)."""
    upload = client.uploads.create(png(12, 9), filename="any-name.png", content_type="image/png")
    assert re.fullmatch(r"/v1/files/upload_u\d+_[a-z0-9]{6}_[a-z0-9]{3}\.png", upload.url), upload.url


def test_upload_from_a_path(client: Genray, tmp_path: Any) -> None:
    path = tmp_path / "me.png"
    path.write_bytes(png())
    assert client.uploads.create(path).size_bytes == path.stat().st_size


@pytest.mark.parametrize(("data", "encoding", "error", "status"), [
    (b"\x00" * (MAX_UPLOAD_BYTES + 1), "multipart", FileTooLargeError, 413),
    (b"\x00" * (MAX_UPLOAD_BYTES + 1), "base64", FileTooLargeError, 413),
    (b"just some text, not an image", "multipart", UnsupportedFileError, 415),
    (b"just some text, not an image", "base64", UnsupportedFileError, 415),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "multipart", BadRequestError, 400),
])
def test_bad_uploads_get_a_clear_error(client: Genray, data: bytes, encoding: str, error: type[Exception],
                                       status: int) -> None:
    with pytest.raises(error) as err:
        client.uploads.create(data, filename="x.png", encoding=encoding)  # type: ignore[arg-type]
    assert getattr(err.value, "status_code", None) == status


def test_malformed_base64_is_refused(client: Genray, target: Any) -> None:
    http = client.http_client
    response = http.post(f"{client.base_url}/api/v1/upload", json={"file": "%%% not base64 %%%"},
                         headers={"Authorization": f"Bearer {client.api_key}"})
    assert response.status_code == 400 and response.json()["detail"]["error"] == "invalid_file"


@pytest.mark.parametrize("trick", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fpyproject.toml", "..", "nope.png"])
def test_file_paths_never_escape_the_store(client: Genray, trick: str) -> None:
    base = urlsplit(client.base_url)
    url = f"{base.scheme}://{base.netloc}{base.path}/v1/files/{trick}"
    response = httpx.get(url, timeout=30)
    assert response.status_code == 404
    assert "root:" not in response.text and "[project]" not in response.text
