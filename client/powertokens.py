"""Reference client for PowerTokens (powertokens-seedance-2.md, powertokens-v1-videos-1x.md):
the Ark-compatible task API, the OpenAI-style /v1/videos, and the asset library.

    from client.powertokens import PowerTokens

    client = PowerTokens()  # POWERTOKENS_API_KEY, POWERTOKENS_BASE_URL
    asset_id = client.assets.upload_and_wait("start_frame.jpg")
    task = client.tasks.create(model="dreamina-seedance-2-0-260128", content=[
        {"type": "text", "text": "Camera slowly pushes in"},
        {"type": "image_url", "image_url": {"url": f"asset://{asset_id}"}, "role": "first_frame"}])
    done = client.tasks.wait(task.id)
    print(done.status, done.content.video_url, done.usage.completion_tokens)

    video = client.videos.create(model="dreamina-seedance-2-0-260128", media=[{"type": "text", "text": "a fox"}])
    print(client.videos.wait(video.task_id).content.video_url)

`AsyncPowerTokens` is the same with `await`. Shapes follow openapi/powertokens.yaml;
errors are the package's typed errors, chosen by the Ark error code.
"""

from __future__ import annotations

import pathlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import IO, Any, Literal
from urllib.parse import urlencode

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
    ContentRejectedError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SyncAPIClient,
    SyncAPIResource,
    Timeout,
    resource,
    without_none,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AssetJob",
    "AssetJobData",
    "AssetUpload",
    "AssetUploadData",
    "AsyncPowerTokens",
    "PowerTokens",
    "PowerTokensError",
    "Task",
    "TaskContent",
    "TaskError",
    "TaskId",
    "TaskList",
    "TaskUsage",
    "VideoTask",
]

DEFAULT_BASE_URL = "https://api.powertokens.ai"
API_KEY_ENV = "POWERTOKENS_API_KEY"
BASE_URL_ENV = "POWERTOKENS_BASE_URL"
TASKS_PATH = "/byteplus/api/v3/contents/generations/tasks"
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "expired"})

PowerTokensError = APIError

# Ark error codes (reference-ark-and-openai.md, "Errors") → the package's error classes.
ERROR_CODES: Mapping[str, type[APIStatusError]] = {
    "MissingParameter": BadRequestError,
    "InvalidParameter": BadRequestError,
    "SensitiveContentDetected": ContentRejectedError,
    "InputTextSensitiveContentDetected": ContentRejectedError,
    "InputImageSensitiveContentDetected": ContentRejectedError,
    "AuthenticationError": AuthenticationError,
    "AccountOverdueError": InsufficientCreditsError,
    "AccessDenied": PermissionDeniedError,
    "InvalidEndpointOrModel.NotFound": NotFoundError,
    "ResourceNotFound": NotFoundError,
    "RateLimitExceeded.EndpointRPMExceeded": RateLimitError,
    "QuotaExceeded": RateLimitError,
    "ServerOverloaded": RateLimitError,
}

ModelId = Literal["dreamina-seedance-2-0-260128", "dreamina-seedance-2-0-fast-260128", "seedance-1-5-pro-251215",
                  "seedance-1-0-pro-250528", "seedance-1-0-pro-fast-251015"]
TaskStatus = Literal["queued", "running", "cancelled", "succeeded", "failed", "expired"]
FileInput = bytes | str | pathlib.Path | IO[bytes]


# --------------------------------------------------------------------------------------
# Models (openapi/powertokens.yaml, components/schemas)
# --------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskId(_Model):
    id: str
    safety_identifier: str | None = None


class TaskContent(_Model):
    video_url: str
    last_frame_url: str | None = None


class TaskUsage(_Model):
    completion_tokens: int
    total_tokens: int


class TaskError(_Model):
    code: str
    message: str


class Task(_Model):
    """The Ark task body, also what `GET /v1/videos/{task_id}` returns."""

    id: str
    model: str
    status: str
    created_at: int
    updated_at: int
    seed: int
    resolution: str
    ratio: str
    duration: int
    framespersecond: int
    service_tier: str
    execution_expires_after: int
    generate_audio: bool
    draft: bool
    priority: int | None = None
    camera_fixed: bool | None = None
    watermark: bool | None = None
    safety_identifier: str | None = None
    content: TaskContent | None = None
    usage: TaskUsage | None = None
    error: TaskError | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES


class TaskList(_Model):
    total: int
    items: list[Task]


class VideoTask(_Model):
    """The `POST /v1/videos` answer."""

    id: str
    task_id: str
    object: str
    model: str
    status: str
    progress: int
    created_at: int


class AssetUploadData(_Model):
    task_id: str
    group_id: str | None = None


class AssetUpload(_Model):
    code: int
    message: str
    data: AssetUploadData


class AssetJobData(_Model):
    task_id: str
    status: str
    asset_id: str | None = None
    error: str | None = None


class AssetJob(_Model):
    code: int
    message: str
    data: AssetJobData

    @property
    def done(self) -> bool:
        return self.data.status != "processing"


# --------------------------------------------------------------------------------------
# Request building
# --------------------------------------------------------------------------------------


def _list_path(page_num: int | None, page_size: int | None, status: str | None, task_ids: Iterable[str] | None,
               model: str | None, service_tier: str | None) -> str:
    query: list[tuple[str, Any]] = [(k, v) for k, v in (("page_num", page_num), ("page_size", page_size),
                                                        ("filter.status", status), ("filter.model", model),
                                                        ("filter.service_tier", service_tier)) if v is not None]
    query += [("filter.task_ids", t) for t in ([task_ids] if isinstance(task_ids, str) else task_ids or [])]
    return f"{TASKS_PATH}?{urlencode(query)}" if query else TASKS_PATH


def _multipart(file: FileInput, filename: str | None, group_id: str | None) -> tuple[bytes, str]:
    if isinstance(file, str | pathlib.Path):
        path = pathlib.Path(file)
        data, name = path.read_bytes(), filename or path.name
    elif isinstance(file, bytes):
        data, name = file, filename or "upload"
    else:
        data, name = file.read(), filename or pathlib.Path(str(getattr(file, "name", "upload"))).name
    request = httpx.Request("POST", "http://multipart.invalid/", files={"file": (name, data)},
                            data=without_none(group_id=group_id))
    return request.read(), request.headers["content-type"]


class _PowerTokensClient:
    """What `PowerTokens` and `AsyncPowerTokens` share: where the key and URL come from, the error
    codes, and "Authorization: <YOUR_API_KEY>" (raw) as the guide shows; `bearer=True` sends `Bearer <key>`."""

    api_key_env = API_KEY_ENV
    base_url_env = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    error_codes = ERROR_CODES
    user_agent = "seedance-emulator-client/0.1 powertokens"

    api_key: str
    bearer: bool

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}" if self.bearer else self.api_key}


# --------------------------------------------------------------------------------------
# Sync
# --------------------------------------------------------------------------------------


class Tasks(SyncAPIResource):
    """The official-compatible (Ark) interface."""

    def create(self, *, model: ModelId | str, content: Iterable[Mapping[str, Any]], callback_url: str | None = None,
               return_last_frame: bool | None = None, service_tier: str | None = None,
               execution_expires_after: int | None = None, generate_audio: bool | None = None,
               draft: bool | None = None, safety_identifier: str | None = None, priority: int | None = None,
               resolution: str | None = None, ratio: str | None = None, duration: int | None = None,
               seed: int | None = None, camera_fixed: bool | None = None, watermark: bool | None = None,
               extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
               timeout: Timeout | None = None) -> TaskId:
        body = {"model": model, "content": [dict(c) for c in content], **without_none(
            callback_url=callback_url, return_last_frame=return_last_frame, service_tier=service_tier,
            execution_expires_after=execution_expires_after, generate_audio=generate_audio, draft=draft,
            safety_identifier=safety_identifier, priority=priority, resolution=resolution, ratio=ratio,
            duration=duration, seed=seed, camera_fixed=camera_fixed, watermark=watermark), **(extra_body or {})}
        return self._client.post(TASKS_PATH, cast_to=TaskId, body=body, headers=extra_headers, timeout=timeout)

    def get(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        return self._client.get(f"{TASKS_PATH}/{task_id}", cast_to=Task, headers=extra_headers)

    def list(self, *, page_num: int | None = None, page_size: int | None = None, status: TaskStatus | str | None = None,
             task_ids: Iterable[str] | str | None = None, model: str | None = None, service_tier: str | None = None,
             extra_headers: Mapping[str, str] | None = None) -> TaskList:
        """Tasks of the last 7 days, newest first; `task_ids` go as repeated `filter.task_ids`."""
        path = _list_path(page_num, page_size, status, task_ids, model, service_tier)
        return self._client.get(path, cast_to=TaskList, headers=extra_headers)

    def delete(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> None:
        """Cancel a queued task, or delete a finished one (an error while running or cancelled)."""
        self._client._send("DELETE", f"{TASKS_PATH}/{task_id}", headers=extra_headers).close()

    def wait(self, task_id: str, *, timeout: float = 600.0, poll_interval: float = 3.0, max_interval: float = 30.0,
             on_poll: Callable[[Task], object] | None = None) -> Task:
        return _base.poll(task_id, lambda: self.get(task_id), lambda t: t.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


def _video_body(**fields: Any) -> dict[str, Any]:
    extra = fields.pop("extra_body", None) or {}
    media = fields.get("media")
    if media is not None:
        fields["media"] = [dict(m) for m in media]
    if isinstance(fields.get("seconds"), int):
        fields["seconds"] = str(fields["seconds"])
    return {**without_none(**fields), **extra}


class Videos(SyncAPIResource):
    """The OpenAI-style interface: 2.0 models take `media`, 1.x models `prompt` and `image`."""

    def create(self, *, model: ModelId | str, media: Iterable[Mapping[str, Any]] | None = None,
               prompt: str | None = None, image: str | None = None, seconds: str | int | None = None,
               size: str | None = None, ratio: str | None = None, seed: int | None = None,
               watermark: bool | None = None, generate_audio: bool | None = None, draft: bool | None = None,
               camera_fixed: bool | None = None, return_last_frame: bool | None = None,
               safety_identifier: str | None = None, extra_headers: Mapping[str, str] | None = None,
               extra_body: Mapping[str, Any] | None = None, timeout: Timeout | None = None) -> VideoTask:
        body = _video_body(model=model, media=media, prompt=prompt, image=image, seconds=seconds, size=size,
                           ratio=ratio, seed=seed, watermark=watermark, generate_audio=generate_audio, draft=draft,
                           camera_fixed=camera_fixed, return_last_frame=return_last_frame,
                           safety_identifier=safety_identifier, extra_body=extra_body)
        return self._client.post("/v1/videos", cast_to=VideoTask, body=body, headers=extra_headers, timeout=timeout)

    def retrieve(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        return self._client.get(f"/v1/videos/{task_id}", cast_to=Task, headers=extra_headers)

    def wait(self, task_id: str, *, timeout: float = 600.0, poll_interval: float = 5.0, max_interval: float = 30.0,
             on_poll: Callable[[Task], object] | None = None) -> Task:
        return _base.poll(task_id, lambda: self.retrieve(task_id), lambda t: t.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class Assets(SyncAPIResource):
    def upload(self, file: FileInput, *, filename: str | None = None, group_id: str | None = None,
               extra_headers: Mapping[str, str] | None = None) -> AssetUpload:
        """POST /v1/asset/upload (multipart `file`, optional `group_id`) → a processing job's `task_id`."""
        content, content_type = _multipart(file, filename, group_id)
        response = self._client._send("POST", "/v1/asset/upload", content=content,
                                      headers={**(extra_headers or {}), "Content-Type": content_type})
        return self._client._parse(response, AssetUpload)

    def get_asset_id(self, task_id: str) -> AssetJob:
        """GET /v1/asset/jobs/get-asset-id (needs no key): `data.asset_id` once processing is done."""
        return self._client.get(f"/v1/asset/jobs/get-asset-id?{urlencode({'task_id': task_id})}", cast_to=AssetJob)

    def wait(self, task_id: str, *, timeout: float = 60.0, poll_interval: float = 3.0, max_interval: float = 3.0,
             on_poll: Callable[[AssetJob], object] | None = None) -> AssetJob:
        return _base.poll(task_id, lambda: self.get_asset_id(task_id), lambda j: j.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)

    def upload_and_wait(self, file: FileInput, *, filename: str | None = None, group_id: str | None = None,
                        timeout: float = 60.0, poll_interval: float = 3.0,
                        on_poll: Callable[[AssetJob], object] | None = None) -> str:
        """Upload, poll, and return the `asset_id` (use it as `asset://<asset_id>`)."""
        job = self.wait(self.upload(file, filename=filename, group_id=group_id).data.task_id, timeout=timeout,
                        poll_interval=poll_interval, max_interval=poll_interval, on_poll=on_poll)
        if not job.data.asset_id:
            raise PowerTokensError(f"asset processing failed: {job.data.error or job.data.status}")
        return job.data.asset_id


class PowerTokens(_PowerTokensClient, SyncAPIClient):
    """Synchronous PowerTokens client. `api_key` defaults to $POWERTOKENS_API_KEY, `base_url` to
    $POWERTOKENS_BASE_URL, then the documented https://api.powertokens.ai."""

    tasks = resource(Tasks)
    videos = resource(Videos)
    assets = resource(Assets)

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, bearer: bool = False,
                 timeout: Timeout | None = None, max_retries: int = _base.DEFAULT_MAX_RETRIES,
                 http_client: httpx.Client | None = None, default_headers: Mapping[str, str] | None = None) -> None:
        self.bearer = bearer
        super().__init__(api_key, base_url, timeout=timeout, max_retries=max_retries, http_client=http_client,
                         default_headers=default_headers)


# --------------------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------------------


class AsyncTasks(AsyncAPIResource):
    async def create(self, *, model: ModelId | str, content: Iterable[Mapping[str, Any]], **params: Any) -> TaskId:
        """As `Tasks.create` (same keyword arguments)."""
        extra_headers, extra_body = params.pop("extra_headers", None), params.pop("extra_body", None)
        timeout = params.pop("timeout", None)
        body = {"model": model, "content": [dict(c) for c in content], **without_none(**params), **(extra_body or {})}
        return await self._client.post(TASKS_PATH, cast_to=TaskId, body=body, headers=extra_headers, timeout=timeout)

    async def get(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        return await self._client.get(f"{TASKS_PATH}/{task_id}", cast_to=Task, headers=extra_headers)

    async def list(self, *, page_num: int | None = None, page_size: int | None = None, status: str | None = None,
                   task_ids: Iterable[str] | str | None = None, model: str | None = None,
                   service_tier: str | None = None, extra_headers: Mapping[str, str] | None = None) -> TaskList:
        path = _list_path(page_num, page_size, status, task_ids, model, service_tier)
        return await self._client.get(path, cast_to=TaskList, headers=extra_headers)

    async def delete(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> None:
        response = await self._client._send("DELETE", f"{TASKS_PATH}/{task_id}", headers=extra_headers)
        await response.aclose()

    async def wait(self, task_id: str, *, timeout: float = 600.0, poll_interval: float = 3.0,
                   max_interval: float = 30.0,
                   on_poll: Callable[[Task], object | Awaitable[object]] | None = None) -> Task:
        return await _base.apoll(task_id, lambda: self.get(task_id), lambda t: t.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncVideos(AsyncAPIResource):
    async def create(self, *, model: ModelId | str, **params: Any) -> VideoTask:
        """As `Videos.create` (same keyword arguments)."""
        extra_headers, timeout = params.pop("extra_headers", None), params.pop("timeout", None)
        return await self._client.post("/v1/videos", cast_to=VideoTask, body=_video_body(model=model, **params),
                                       headers=extra_headers, timeout=timeout)

    async def retrieve(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        return await self._client.get(f"/v1/videos/{task_id}", cast_to=Task, headers=extra_headers)

    async def wait(self, task_id: str, *, timeout: float = 600.0, poll_interval: float = 5.0,
                   max_interval: float = 30.0,
                   on_poll: Callable[[Task], object | Awaitable[object]] | None = None) -> Task:
        return await _base.apoll(task_id, lambda: self.retrieve(task_id), lambda t: t.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncAssets(AsyncAPIResource):
    async def upload(self, file: FileInput, *, filename: str | None = None, group_id: str | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> AssetUpload:
        content, content_type = _multipart(file, filename, group_id)
        response = await self._client._send("POST", "/v1/asset/upload", content=content,
                                            headers={**(extra_headers or {}), "Content-Type": content_type})
        return self._client._parse(response, AssetUpload)

    async def get_asset_id(self, task_id: str) -> AssetJob:
        return await self._client.get(f"/v1/asset/jobs/get-asset-id?{urlencode({'task_id': task_id})}",
                                      cast_to=AssetJob)

    async def wait(self, task_id: str, *, timeout: float = 60.0, poll_interval: float = 3.0,
                   max_interval: float = 3.0,
                   on_poll: Callable[[AssetJob], object | Awaitable[object]] | None = None) -> AssetJob:
        return await _base.apoll(task_id, lambda: self.get_asset_id(task_id), lambda j: j.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncPowerTokens(_PowerTokensClient, AsyncAPIClient):
    """Asynchronous PowerTokens client; the same surface as `PowerTokens`, awaited."""

    tasks = resource(AsyncTasks)
    videos = resource(AsyncVideos)
    assets = resource(AsyncAssets)

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, bearer: bool = False,
                 timeout: Timeout | None = None, max_retries: int = _base.DEFAULT_MAX_RETRIES,
                 http_client: httpx.AsyncClient | None = None,
                 default_headers: Mapping[str, str] | None = None) -> None:
        self.bearer = bearer
        super().__init__(api_key, base_url, timeout=timeout, max_retries=max_retries, http_client=http_client,
                         default_headers=default_headers)
