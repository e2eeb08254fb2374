"""Reference client for Genray (genray.md): Seedance 2.0 videos, person-to-video, uploads,
account, API keys, and webhook signature verification.

    from client.genray import Genray, verify_webhook

    client = Genray()  # GENRAY_API_KEY, GENRAY_BASE_URL (default https://genray.ai)
    job = client.videos.create(prompt="a golden retriever in a meadow", duration=5, aspect_ratio="16:9")
    video = client.videos.wait(job.id)
    print(video.status, video.video_url, video.width, video.height, video.duration_ms)

    upload = client.uploads.create(pathlib.Path("me.jpg").read_bytes(), filename="me.jpg")
    job = client.videos.from_person(person_image_url=upload.full_url, prompt="turns head slowly")
    upscale = client.videos.upscale(video.generation_id)  # the numeric generation id, not the job id

    ok = verify_webhook(raw_body, headers["X-Genray-Signature"], webhook_secret)

`AsyncGenray` is the same with `await`. Shapes follow openapi/genray.yaml. Errors are the
package's typed errors; `code` is the document's `detail.error` and `param` its `field`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from . import _base
from ._base import (
    APIError,
    APIStatusError,
    AsyncAPIClient,
    AsyncAPIResource,
    AuthenticationError,
    BadRequestError,
    ErrorInfo,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SyncAPIClient,
    SyncAPIResource,
    resource,
    without_none,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AccountInfo",
    "ApiKey",
    "AsyncGenray",
    "ConflictError",
    "CreatedApiKey",
    "FileTooLargeError",
    "GenerationFailedError",
    "Genray",
    "GenrayError",
    "GenrayInsufficientCreditsError",
    "GenrayRateLimitError",
    "InvalidSignatureError",
    "KeyList",
    "PlanRequiredError",
    "RevokedApiKey",
    "UnsupportedFileError",
    "Upload",
    "ValidationError",
    "Video",
    "VideoJob",
    "WebhookEvent",
    "parse_webhook",
    "sign_webhook",
    "verify_webhook",
]

DEFAULT_BASE_URL = "https://genray.ai"
API_KEY_ENV = "GENRAY_API_KEY"
BASE_URL_ENV = "GENRAY_BASE_URL"
SIGNATURE_HEADER = "X-Genray-Signature"
EVENT_HEADER = "X-Genray-Event"

GenrayError = APIError

ModelId = Literal["seedance-2.0", "seedance-2.0-fast"]
AspectRatio = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})


# --------------------------------------------------------------------------------------
# Errors: genray.md, "Errors"
# --------------------------------------------------------------------------------------


def _detail(err: APIStatusError) -> dict[str, Any]:
    body = err.body
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, dict) else {}


class PlanRequiredError(PermissionDeniedError):
    """403 `plan_required`: API access requires the Standard or Advanced plan."""


class GenrayInsufficientCreditsError(InsufficientCreditsError):
    """402 `insufficient_credits`, with the document's `credits_required` / `credits_available`."""

    @property
    def credits_required(self) -> int | None:
        return _detail(self).get("credits_required")

    @property
    def credits_available(self) -> int | None:
        return _detail(self).get("credits_available")


class GenrayRateLimitError(RateLimitError):
    """429 `rate_limit_exceeded` (requests per minute or concurrent jobs); see `retry_after`."""

    @property
    def retry_after(self) -> float | None:
        value = _detail(self).get("retry_after")
        return float(value) if isinstance(value, int | float) else super().retry_after


class GenerationFailedError(InternalServerError):
    """500 `generation_failed`: internal error; credits are refunded automatically."""

    status = 500


class ValidationError(BadRequestError):
    """422 `validation_error` (the emulator's code for a bad field; `param` names it)."""

    status = 422


class ConflictError(APIStatusError):
    """409 `video_not_completed` / `already_upscaled`."""

    status = 409


class UnsupportedFileError(BadRequestError):
    """415 `unsupported_file_type`: an upload that is not an image."""

    status = 415


class FileTooLargeError(BadRequestError):
    """413 `file_too_large` (an upload over 10 MB) or `request_too_large`."""

    status = 413


class InvalidSignatureError(GenrayError):
    """A webhook whose `X-Genray-Signature` does not match its body."""


ERROR_CODES: Mapping[str, type[APIStatusError]] = {
    "unauthorized": AuthenticationError,
    "insufficient_credits": GenrayInsufficientCreditsError,
    "plan_required": PlanRequiredError,
    "key_limit_reached": PermissionDeniedError,
    "ip_not_allowed": PermissionDeniedError,
    "not_found": NotFoundError,
    "rate_limit_exceeded": GenrayRateLimitError,
    "generation_failed": GenerationFailedError,
    "validation_error": ValidationError,
    "invalid_file": BadRequestError,
    "unsupported_file_type": UnsupportedFileError,
    "file_too_large": FileTooLargeError,
    "request_too_large": FileTooLargeError,
    "video_not_completed": ConflictError,
    "already_upscaled": ConflictError,
}


# --------------------------------------------------------------------------------------
# Models (openapi/genray.yaml, components/schemas)
# --------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class VideoJob(_Model):
    """The 202 of a submit, a person video or an upscale. `/videos` and upscales name the cost
    `estimated_cost`, `/videos/from-person` names it `total_cost`; `cost` is either."""

    id: str
    generation_id: int
    status: str
    model: str
    duration: int
    aspect_ratio: str
    created_at: str
    credits_remaining: int
    estimated_cost: int | None = None
    total_cost: int | None = None
    upscaled_from: int | None = None

    @property
    def cost(self) -> int:
        return self.estimated_cost if self.estimated_cost is not None else (self.total_cost or 0)


class Video(_Model):
    """A polled job: queued / processing, completed (`video_url`, sizes, …) or failed (`error`)."""

    id: str
    generation_id: int
    status: str
    model: str
    duration: int
    aspect_ratio: str
    created_at: str
    upscaled_from: int | None = None
    credits_spent: int | None = None
    video_url: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    cover_url: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Upload(_Model):
    url: str
    full_url: str
    size_bytes: int


class AccountInfo(_Model):
    plan: str
    plan_name: str
    plan_expires_at: str
    credits_remaining: int
    credits_per_month: int
    api_rpm: int
    api_concurrent: int
    max_api_keys: int


class ApiKey(_Model):
    id: str
    name: str | None
    key_prefix: str
    webhook_url: str | None
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class CreatedApiKey(ApiKey):
    """Only this answer carries the key and its webhook secret: store them now."""

    key: str
    webhook_secret: str


class KeyList(_Model):
    keys: list[ApiKey]


class RevokedApiKey(_Model):
    id: str
    revoked: bool


class WebhookData(_Model):
    id: str
    status: str
    video_url: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    error: str | None = None


class WebhookEvent(_Model):
    event: str
    data: WebhookData
    timestamp: str


# --------------------------------------------------------------------------------------
# Webhook signatures: genray.md, "Verifying Signatures"
# --------------------------------------------------------------------------------------


def sign_webhook(payload_body: bytes, webhook_secret: str) -> str:
    """The `X-Genray-Signature` value for a body: "sha256=" + hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(webhook_secret.encode(), payload_body, hashlib.sha256).hexdigest()


def verify_webhook(payload_body: bytes, signature_header: str | None, webhook_secret: str) -> bool:
    """True when `signature_header` signs the raw `payload_body` with `webhook_secret` (constant time)."""
    if not signature_header:
        return False
    return hmac.compare_digest(sign_webhook(payload_body, webhook_secret), signature_header)


def parse_webhook(payload_body: bytes, signature_header: str | None, webhook_secret: str) -> WebhookEvent:
    """The typed event of a verified delivery; raises InvalidSignatureError otherwise."""
    if not verify_webhook(payload_body, signature_header, webhook_secret):
        raise InvalidSignatureError("the X-Genray-Signature header does not match the body")
    return WebhookEvent.model_validate(json.loads(payload_body))


# --------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------


def _merge(body: dict[str, Any], extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**body, **(extra_body or {})}


FileInput = bytes | os.PathLike[str] | str


def _read_file(file: FileInput, filename: str | None) -> tuple[bytes, str]:
    if isinstance(file, bytes):
        return file, filename or "upload"
    path = os.fspath(file)
    with open(path, "rb") as handle:
        return handle.read(), filename or os.path.basename(path)


def _upload_request(file: FileInput, filename: str | None, content_type: str | None,
                    encoding: Literal["multipart", "base64"]) -> tuple[bytes, dict[str, str]]:
    """The body and Content-Type of an upload: multipart/form-data `file`, or JSON base64."""
    data, name = _read_file(file, filename)
    if encoding == "base64":
        body = json.dumps({"file": base64.b64encode(data).decode(), "filename": name}).encode()
        return body, {"Content-Type": "application/json"}
    request = httpx.Request("POST", "http://upload.invalid/",
                            files={"file": (name, data, content_type or "application/octet-stream")})
    return request.read(), {"Content-Type": request.headers["Content-Type"]}


class _GenrayClient:
    """What `Genray` and `AsyncGenray` share: where the key and URL come from, the error codes and
    their body, and webhook verification."""

    api_key_env = API_KEY_ENV
    base_url_env = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    error_codes = ERROR_CODES
    user_agent = "seedance-emulator-client/0.1 genray"

    verify_webhook = staticmethod(verify_webhook)
    parse_webhook = staticmethod(parse_webhook)

    def parse_error(self, body: object, fallback: str) -> ErrorInfo:
        """`{"detail": {"error": <code>, "message": ..., "field": ...}}`."""
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, dict):
            return ErrorInfo(str(detail.get("message") or fallback), _base._str_or_none(detail.get("error")),
                             _base._str_or_none(detail.get("field")))
        return _base.parse_error_body(body, fallback)


# --------------------------------------------------------------------------------------
# Sync
# --------------------------------------------------------------------------------------


class Videos(SyncAPIResource):
    def create(self, *, prompt: str, model: ModelId | str | None = None, duration: int | None = None,
               aspect_ratio: AspectRatio | str | None = None, first_frame_url: str | None = None,
               end_frame_url: str | None = None, reference_images: list[str] | None = None,
               reference_videos: list[str] | None = None, reference_audios: list[str] | None = None,
               webhook_url: str | None = None, extra_headers: Mapping[str, str] | None = None,
               extra_body: Mapping[str, Any] | None = None) -> VideoJob:
        """POST /api/v1/videos: the cost is charged now and refunded if the job fails."""
        body = without_none(prompt=prompt, model=model, duration=duration, aspect_ratio=aspect_ratio,
                             first_frame_url=first_frame_url, end_frame_url=end_frame_url,
                             reference_images=reference_images, reference_videos=reference_videos,
                             reference_audios=reference_audios, webhook_url=webhook_url)
        return self._client.post("/api/v1/videos", cast_to=VideoJob, body=_merge(body, extra_body),
                                 headers=extra_headers)

    def from_person(self, *, person_image_url: str, prompt: str, duration: int | None = None,
                    aspect_ratio: AspectRatio | str | None = None, model: ModelId | str | None = None,
                    clothing_details: str | None = None, extra_reference_images: list[str] | None = None,
                    webhook_url: str | None = None, extra_headers: Mapping[str, str] | None = None,
                    extra_body: Mapping[str, Any] | None = None) -> VideoJob:
        """POST /api/v1/videos/from-person (default aspect ratio 9:16; `total_cost`)."""
        body = without_none(person_image_url=person_image_url, prompt=prompt, duration=duration,
                             aspect_ratio=aspect_ratio, model=model, clothing_details=clothing_details,
                             extra_reference_images=extra_reference_images, webhook_url=webhook_url)
        return self._client.post("/api/v1/videos/from-person", cast_to=VideoJob, body=_merge(body, extra_body),
                                 headers=extra_headers)

    def retrieve(self, job_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Video:
        """GET /api/v1/videos/{job_id} (counts toward the RPM limit)."""
        return self._client.get(f"/api/v1/videos/{job_id}", cast_to=Video, headers=extra_headers)

    def upscale(self, video_id: int, *, extra_headers: Mapping[str, str] | None = None) -> VideoJob:
        """POST /api/v1/videos/{video_id}/upscale: free, 2x; `video_id` is `Video.generation_id`."""
        return self._client.post(f"/api/v1/videos/{int(video_id)}/upscale", cast_to=VideoJob, headers=extra_headers)

    def wait(self, job_id: str, *, timeout: float = 900.0, poll_interval: float = 6.0, max_interval: float = 30.0,
             on_poll: Callable[[Video], object] | None = None) -> Video:
        """Poll until `completed` or `failed`. Polls count toward the plan's requests per minute,
        so the default interval (6 s) keeps a Standard key (10/min) under its limit."""
        return _base.poll(job_id, lambda: self.retrieve(job_id), lambda v: v.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class Uploads(SyncAPIResource):
    def create(self, file: FileInput, *, filename: str | None = None, content_type: str | None = None,
               encoding: Literal["multipart", "base64"] = "multipart",
               extra_headers: Mapping[str, str] | None = None) -> Upload:
        """POST /api/v1/upload: an image (bytes or a path), max 10 MB; use `full_url` in a video call."""
        content, headers = _upload_request(file, filename, content_type, encoding)
        response = self._client._send("POST", "/api/v1/upload", content=content,
                                      headers={**headers, **(extra_headers or {})})
        return self._client._parse(response, Upload)


class Account(SyncAPIResource):
    def retrieve(self, *, extra_headers: Mapping[str, str] | None = None) -> AccountInfo:
        """GET /api/v1/account: plan, credits and API limits."""
        return self._client.get("/api/v1/account", cast_to=AccountInfo, headers=extra_headers)


class Keys(SyncAPIResource):
    def create(self, *, name: str | None = None, webhook_url: str | None = None,
               extra_headers: Mapping[str, str] | None = None) -> CreatedApiKey:
        """POST /api/keys: the key and its webhook secret are in this answer only."""
        return self._client.post("/api/keys", cast_to=CreatedApiKey,
                                 body=without_none(name=name, webhook_url=webhook_url), headers=extra_headers)

    def list(self, *, extra_headers: Mapping[str, str] | None = None) -> KeyList:
        return self._client.get("/api/keys", cast_to=KeyList, headers=extra_headers)

    def revoke(self, key_id: str, *, extra_headers: Mapping[str, str] | None = None) -> RevokedApiKey:
        return self._client.request("DELETE", f"/api/keys/{key_id}", cast_to=RevokedApiKey, headers=extra_headers)


class Genray(_GenrayClient, SyncAPIClient):
    """Synchronous Genray client. `api_key` defaults to $GENRAY_API_KEY, `base_url` to
    $GENRAY_BASE_URL, then https://genray.ai (the emulator: http://127.0.0.1:8000/genray)."""

    videos = resource(Videos)
    uploads = resource(Uploads)
    account = resource(Account)
    keys = resource(Keys)


# --------------------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------------------


class AsyncVideos(AsyncAPIResource):
    async def create(self, *, prompt: str, model: ModelId | str | None = None, duration: int | None = None,
                     aspect_ratio: AspectRatio | str | None = None, first_frame_url: str | None = None,
                     end_frame_url: str | None = None, reference_images: list[str] | None = None,
                     reference_videos: list[str] | None = None, reference_audios: list[str] | None = None,
                     webhook_url: str | None = None, extra_headers: Mapping[str, str] | None = None,
                     extra_body: Mapping[str, Any] | None = None) -> VideoJob:
        body = without_none(prompt=prompt, model=model, duration=duration, aspect_ratio=aspect_ratio,
                             first_frame_url=first_frame_url, end_frame_url=end_frame_url,
                             reference_images=reference_images, reference_videos=reference_videos,
                             reference_audios=reference_audios, webhook_url=webhook_url)
        return await self._client.post("/api/v1/videos", cast_to=VideoJob, body=_merge(body, extra_body),
                                       headers=extra_headers)

    async def from_person(self, *, person_image_url: str, prompt: str, duration: int | None = None,
                          aspect_ratio: AspectRatio | str | None = None, model: ModelId | str | None = None,
                          clothing_details: str | None = None, extra_reference_images: list[str] | None = None,
                          webhook_url: str | None = None, extra_headers: Mapping[str, str] | None = None,
                          extra_body: Mapping[str, Any] | None = None) -> VideoJob:
        body = without_none(person_image_url=person_image_url, prompt=prompt, duration=duration,
                             aspect_ratio=aspect_ratio, model=model, clothing_details=clothing_details,
                             extra_reference_images=extra_reference_images, webhook_url=webhook_url)
        return await self._client.post("/api/v1/videos/from-person", cast_to=VideoJob,
                                       body=_merge(body, extra_body), headers=extra_headers)

    async def retrieve(self, job_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Video:
        return await self._client.get(f"/api/v1/videos/{job_id}", cast_to=Video, headers=extra_headers)

    async def upscale(self, video_id: int, *, extra_headers: Mapping[str, str] | None = None) -> VideoJob:
        return await self._client.post(f"/api/v1/videos/{int(video_id)}/upscale", cast_to=VideoJob,
                                       headers=extra_headers)

    async def wait(self, job_id: str, *, timeout: float = 900.0, poll_interval: float = 6.0,
                   max_interval: float = 30.0,
                   on_poll: Callable[[Video], object | Awaitable[object]] | None = None) -> Video:
        return await _base.apoll(job_id, lambda: self.retrieve(job_id), lambda v: v.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncUploads(AsyncAPIResource):
    async def create(self, file: FileInput, *, filename: str | None = None, content_type: str | None = None,
                     encoding: Literal["multipart", "base64"] = "multipart",
                     extra_headers: Mapping[str, str] | None = None) -> Upload:
        content, headers = _upload_request(file, filename, content_type, encoding)
        response = await self._client._send("POST", "/api/v1/upload", content=content,
                                            headers={**headers, **(extra_headers or {})})
        return self._client._parse(response, Upload)


class AsyncAccount(AsyncAPIResource):
    async def retrieve(self, *, extra_headers: Mapping[str, str] | None = None) -> AccountInfo:
        return await self._client.get("/api/v1/account", cast_to=AccountInfo, headers=extra_headers)


class AsyncKeys(AsyncAPIResource):
    async def create(self, *, name: str | None = None, webhook_url: str | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> CreatedApiKey:
        return await self._client.post("/api/keys", cast_to=CreatedApiKey,
                                       body=without_none(name=name, webhook_url=webhook_url), headers=extra_headers)

    async def list(self, *, extra_headers: Mapping[str, str] | None = None) -> KeyList:
        return await self._client.get("/api/keys", cast_to=KeyList, headers=extra_headers)

    async def revoke(self, key_id: str, *, extra_headers: Mapping[str, str] | None = None) -> RevokedApiKey:
        return await self._client.request("DELETE", f"/api/keys/{key_id}", cast_to=RevokedApiKey,
                                          headers=extra_headers)


class AsyncGenray(_GenrayClient, AsyncAPIClient):
    """Asynchronous Genray client; the same surface as `Genray`, awaited."""

    videos = resource(AsyncVideos)
    uploads = resource(AsyncUploads)
    account = resource(AsyncAccount)
    keys = resource(AsyncKeys)
