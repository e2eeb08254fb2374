"""Reference client for SeeGen (seegen.md): generation tasks, credits, assets, the upscaler.

    from client.seegen import SeeGen

    client = SeeGen()  # SEEGEN_API_KEY, SEEGEN_BASE_URL
    created = client.jobs.create_task("sd2", prompt="a cat playing piano", duration="5s")
    task = client.jobs.wait(created.task_id)
    print(task.status, task.credits_used, task.output[0].url)

    asset = client.assets.upload(url="https://example.com/photo.jpg", type="IMAGE")
    asset = client.assets.wait(asset.asset_id)          # PROCESSING → ACTIVE | FAILED
    job = client.upscale.create(url="https://example.com/clip.mp4", target_resolution="4k")

`AsyncSeeGen` is the same with `await`. Shapes follow openapi/seegen.yaml; attributes are
snake_case (`task_id`, `credits_used`), the wire is camelCase.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from . import _base
from ._base import (
    APIError,
    APIStatusError,
    AsyncAPIClient,
    AsyncAPIResource,
    AuthenticationError,
    BadRequestError,
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
    "Asset",
    "AssetList",
    "AsyncSeeGen",
    "Credits",
    "SeeGen",
    "SeeGenError",
    "Task",
    "TaskCreated",
    "TaskError",
    "TaskOutput",
    "UpscaleCreated",
    "UpscaleError",
    "UpscaleResult",
    "UpscaleTask",
]

DEFAULT_BASE_URL = "https://seegen.ai/api/v1"
API_KEY_ENV = "SEEGEN_API_KEY"
BASE_URL_ENV = "SEEGEN_BASE_URL"

SeeGenError = APIError

# The emulator's symbolic codes (docs/fidelity-seegen.md SA1); the HTTP status decides otherwise.
ERROR_CODES: Mapping[str, type[APIStatusError]] = {
    "INVALID_PARAMETERS": BadRequestError,
    "UNAUTHORIZED": AuthenticationError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "ACCESS_DENIED": PermissionDeniedError,
    "NOT_FOUND": NotFoundError,
    "CONCURRENCY_LIMIT": RateLimitError,
    "RATE_LIMITED": RateLimitError,
    "INTERNAL_ERROR": InternalServerError,
}

ModelId = Literal["sd2", "sd2-fast", "happyhorse", "happyhorse-video-generation", "gpt-image-2"]
TaskStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]
UpscaleStatus = Literal["validating", "processing", "completed", "failed"]
AssetType = Literal["IMAGE", "AUDIO", "VIDEO"]
AssetStatus = Literal["PROCESSING", "ACTIVE", "FAILED"]
TargetResolution = Literal["1080p", "2k", "4k"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


class TaskCreated(_Model):
    task_id: str


class TaskOutput(_Model):
    url: str
    width: int
    height: int


class TaskError(_Model):
    code: str
    message: str


class Task(_Model):
    task_id: str
    model: str
    status: str
    credits_used: int  # the task's price (held while it runs); 0 once a failed task is refunded
    output: list[TaskOutput]  # empty until COMPLETED
    error: TaskError | None
    create_time: int  # Unix ms
    complete_time: int | None  # Unix ms; None until terminal

    @property
    def done(self) -> bool:
        return self.status in ("COMPLETED", "FAILED")


class Credits(_Model):
    credits: float
    available_credits: float


class UpscaleCreated(_Model):
    task_id: str
    order_id: str
    status: str


class UpscaleResult(_Model):
    url: str
    probed_duration_seconds: float
    probed_source_resolution: str


class UpscaleError(_Model):
    code: str
    message: str


class UpscaleTask(_Model):
    task_id: str
    status: str
    target_resolution: str
    credits_consumed: int | None  # None while validating and after a failure (refunded)
    result: UpscaleResult | None
    error: UpscaleError | None
    created_at: str  # ISO 8601
    finished_at: str | None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")


class Asset(_Model):
    asset_id: int
    volc_asset_id: str
    type: str
    status: str
    fail_reason: str | None
    url: str
    name: str | None
    created_at: int  # Unix ms

    @property
    def done(self) -> bool:
        return self.status in ("ACTIVE", "FAILED")

    @property
    def uri(self) -> str:
        """The `asset://` reference to use in a task's inputs."""
        return f"asset://{self.volc_asset_id}"


class AssetList(_Model):
    items: list[Asset]
    next_cursor: int | None


def _task_body(model: str, *, call_back_url: str | None, extra_inputs: Mapping[str, Any] | None,
               extra_body: Mapping[str, Any] | None, **inputs: Any) -> dict[str, Any]:
    wire = {to_camel(k): (list(v) if isinstance(v, tuple) else v) for k, v in inputs.items() if v is not None}
    body: dict[str, Any] = {"model": model, "inputs": {**wire, **(extra_inputs or {})}}
    if call_back_url is not None:
        body["callBackUrl"] = call_back_url
    return {**body, **(extra_body or {})}


def _upscale_body(url: str | None, r2_url: str | None, target_resolution: str, call_back_url: str | None,
                  extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    if (url is None) == (r2_url is None):
        raise ValueError("give exactly one of url= (a https URL) or r2_url= (an uploaded file)")
    source = {"type": "url", "url": url} if url is not None else {"type": "uploadId", "r2Url": r2_url}
    body = {"source": source, "targetResolution": target_resolution,
            **without_none(callBackUrl=call_back_url)}
    return {**body, **(extra_body or {})}


def _list_path(type: str | None, status: str | None, cursor: int | None, limit: int | None) -> str:
    query = httpx.QueryParams(without_none(type=type, status=status, cursor=cursor, limit=limit))
    return f"/assets/list?{query}" if query else "/assets/list"


def _query(path: str, **params: Any) -> str:
    return f"{path}?{httpx.QueryParams(params)}"


class _SeeGenClient:
    """What `SeeGen` and `AsyncSeeGen` share: where the key and URL come from, the error codes."""

    api_key_env = API_KEY_ENV
    base_url_env = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    error_codes = ERROR_CODES
    user_agent = "seedance-emulator-client/0.1 seegen"


Strs = Sequence[str]


# --------------------------------------------------------------------------------------
# Sync
# --------------------------------------------------------------------------------------


class Jobs(SyncAPIResource):
    def create_task(self, model: ModelId | str, *, prompt: str | None = None, urls: Strs | None = None,
                    video_urls: Strs | None = None, audio_urls: Strs | None = None, duration: str | None = None,
                    resolution: str | None = None, output_resolution: str | None = None,
                    video_input_mode: str | None = None, upscale_resolution: str | None = None,
                    video_workflow_tab: str | None = None, ratio: str | None = None, seed: int | None = None,
                    quality: str | None = None, aspect_ratio: str | None = None, output_format: str | None = None,
                    call_back_url: str | None = None, extra_inputs: Mapping[str, Any] | None = None,
                    extra_body: Mapping[str, Any] | None = None,
                    extra_headers: Mapping[str, str] | None = None) -> TaskCreated:
        """POST /jobs/createTask: the task's credits are held until it completes or fails."""
        body = _task_body(model, call_back_url=call_back_url, extra_inputs=extra_inputs, extra_body=extra_body,
                          prompt=prompt, urls=urls, video_urls=video_urls, audio_urls=audio_urls,
                          duration=duration, resolution=resolution, output_resolution=output_resolution,
                          video_input_mode=video_input_mode, upscale_resolution=upscale_resolution,
                          video_workflow_tab=video_workflow_tab, ratio=ratio, seed=seed, quality=quality,
                          aspect_ratio=aspect_ratio, output_format=output_format)
        return self._client.post("/jobs/createTask", cast_to=TaskCreated, body=body, headers=extra_headers)

    def query_task(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        """GET /jobs/queryTask (403 for another account's task, 404 for an unknown one)."""
        return self._client.get(_query("/jobs/queryTask", taskId=task_id), cast_to=Task, headers=extra_headers)

    def wait(self, task_id: str, *, timeout: float = 1800.0, poll_interval: float = 3.0,
             max_interval: float = 30.0, on_poll: Callable[[Task], object] | None = None) -> Task:
        """Poll until COMPLETED or FAILED (1080p typically takes 10+ minutes)."""
        return _base.poll(task_id, lambda: self.query_task(task_id), lambda t: t.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class Account(SyncAPIResource):
    def credits(self, *, extra_headers: Mapping[str, str] | None = None) -> Credits:
        """GET /account/credits: `credits`, and `available_credits` (without held credits)."""
        return self._client.get("/account/credits", cast_to=Credits, headers=extra_headers)


class Upscale(SyncAPIResource):
    def create(self, *, target_resolution: TargetResolution | str, url: str | None = None,
               r2_url: str | None = None, call_back_url: str | None = None,
               extra_body: Mapping[str, Any] | None = None,
               extra_headers: Mapping[str, str] | None = None) -> UpscaleCreated:
        """POST /upscale/create from a https `url` or an uploaded file's `r2_url`."""
        body = _upscale_body(url, r2_url, target_resolution, call_back_url, extra_body)
        return self._client.post("/upscale/create", cast_to=UpscaleCreated, body=body, headers=extra_headers)

    def query(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> UpscaleTask:
        return self._client.get(_query("/upscale/query", taskId=task_id), cast_to=UpscaleTask,
                                headers=extra_headers)

    def wait(self, task_id: str, *, timeout: float = 1800.0, poll_interval: float = 3.0,
             max_interval: float = 30.0, on_poll: Callable[[UpscaleTask], object] | None = None) -> UpscaleTask:
        return _base.poll(task_id, lambda: self.query(task_id), lambda t: t.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class Assets(SyncAPIResource):
    def upload(self, *, url: str, type: AssetType | str, name: str | None = None,
               extra_body: Mapping[str, Any] | None = None,
               extra_headers: Mapping[str, str] | None = None) -> Asset:
        """POST /assets/upload: submit a publicly accessible URL for review."""
        body = {"url": url, "type": type, **without_none(name=name), **(extra_body or {})}
        return self._client.post("/assets/upload", cast_to=Asset, body=body, headers=extra_headers)

    def status(self, asset_id: int | str, *, extra_headers: Mapping[str, str] | None = None) -> Asset:
        """GET /assets/status by numeric `assetId` or `volcAssetId`."""
        return self._client.get(_query("/assets/status", assetId=asset_id), cast_to=Asset, headers=extra_headers)

    def list(self, *, type: AssetType | str | None = None, status: AssetStatus | str | None = None,
             cursor: int | None = None, limit: int | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AssetList:
        return self._client.get(_list_path(type, status, cursor, limit), cast_to=AssetList, headers=extra_headers)

    def wait(self, asset_id: int | str, *, timeout: float = 300.0, poll_interval: float = 3.0,
             max_interval: float = 10.0, on_poll: Callable[[Asset], object] | None = None) -> Asset:
        """Poll until the review ends: ACTIVE or FAILED (see `fail_reason`)."""
        return _base.poll(str(asset_id), lambda: self.status(asset_id), lambda a: a.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class SeeGen(_SeeGenClient, SyncAPIClient):
    """Synchronous SeeGen client. `api_key` defaults to $SEEGEN_API_KEY, `base_url` to
    $SEEGEN_BASE_URL, then the documented https://seegen.ai/api/v1."""

    jobs = resource(Jobs)
    account = resource(Account)
    upscale = resource(Upscale)
    assets = resource(Assets)


# --------------------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------------------


class AsyncJobs(AsyncAPIResource):
    async def create_task(self, model: ModelId | str, *, prompt: str | None = None, urls: Strs | None = None,
                          video_urls: Strs | None = None, audio_urls: Strs | None = None,
                          duration: str | None = None, resolution: str | None = None,
                          output_resolution: str | None = None, video_input_mode: str | None = None,
                          upscale_resolution: str | None = None, video_workflow_tab: str | None = None,
                          ratio: str | None = None, seed: int | None = None, quality: str | None = None,
                          aspect_ratio: str | None = None, output_format: str | None = None,
                          call_back_url: str | None = None, extra_inputs: Mapping[str, Any] | None = None,
                          extra_body: Mapping[str, Any] | None = None,
                          extra_headers: Mapping[str, str] | None = None) -> TaskCreated:
        body = _task_body(model, call_back_url=call_back_url, extra_inputs=extra_inputs, extra_body=extra_body,
                          prompt=prompt, urls=urls, video_urls=video_urls, audio_urls=audio_urls,
                          duration=duration, resolution=resolution, output_resolution=output_resolution,
                          video_input_mode=video_input_mode, upscale_resolution=upscale_resolution,
                          video_workflow_tab=video_workflow_tab, ratio=ratio, seed=seed, quality=quality,
                          aspect_ratio=aspect_ratio, output_format=output_format)
        return await self._client.post("/jobs/createTask", cast_to=TaskCreated, body=body, headers=extra_headers)

    async def query_task(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Task:
        return await self._client.get(_query("/jobs/queryTask", taskId=task_id), cast_to=Task,
                                      headers=extra_headers)

    async def wait(self, task_id: str, *, timeout: float = 1800.0, poll_interval: float = 3.0,
                   max_interval: float = 30.0,
                   on_poll: Callable[[Task], object | Awaitable[object]] | None = None) -> Task:
        return await _base.apoll(task_id, lambda: self.query_task(task_id), lambda t: t.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncAccount(AsyncAPIResource):
    async def credits(self, *, extra_headers: Mapping[str, str] | None = None) -> Credits:
        return await self._client.get("/account/credits", cast_to=Credits, headers=extra_headers)


class AsyncUpscale(AsyncAPIResource):
    async def create(self, *, target_resolution: TargetResolution | str, url: str | None = None,
                     r2_url: str | None = None, call_back_url: str | None = None,
                     extra_body: Mapping[str, Any] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> UpscaleCreated:
        body = _upscale_body(url, r2_url, target_resolution, call_back_url, extra_body)
        return await self._client.post("/upscale/create", cast_to=UpscaleCreated, body=body, headers=extra_headers)

    async def query(self, task_id: str, *, extra_headers: Mapping[str, str] | None = None) -> UpscaleTask:
        return await self._client.get(_query("/upscale/query", taskId=task_id), cast_to=UpscaleTask,
                                      headers=extra_headers)

    async def wait(self, task_id: str, *, timeout: float = 1800.0, poll_interval: float = 3.0,
                   max_interval: float = 30.0,
                   on_poll: Callable[[UpscaleTask], object | Awaitable[object]] | None = None) -> UpscaleTask:
        return await _base.apoll(task_id, lambda: self.query(task_id), lambda t: t.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncAssets(AsyncAPIResource):
    async def upload(self, *, url: str, type: AssetType | str, name: str | None = None,
                     extra_body: Mapping[str, Any] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> Asset:
        body = {"url": url, "type": type, **without_none(name=name), **(extra_body or {})}
        return await self._client.post("/assets/upload", cast_to=Asset, body=body, headers=extra_headers)

    async def status(self, asset_id: int | str, *, extra_headers: Mapping[str, str] | None = None) -> Asset:
        return await self._client.get(_query("/assets/status", assetId=asset_id), cast_to=Asset,
                                      headers=extra_headers)

    async def list(self, *, type: AssetType | str | None = None, status: AssetStatus | str | None = None,
                   cursor: int | None = None, limit: int | None = None,
                   extra_headers: Mapping[str, str] | None = None) -> AssetList:
        return await self._client.get(_list_path(type, status, cursor, limit), cast_to=AssetList,
                                      headers=extra_headers)

    async def wait(self, asset_id: int | str, *, timeout: float = 300.0, poll_interval: float = 3.0,
                   max_interval: float = 10.0,
                   on_poll: Callable[[Asset], object | Awaitable[object]] | None = None) -> Asset:
        return await _base.apoll(str(asset_id), lambda: self.status(asset_id), lambda a: a.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncSeeGen(_SeeGenClient, AsyncAPIClient):
    """Asynchronous SeeGen client; the same surface as `SeeGen`, awaited."""

    jobs = resource(AsyncJobs)
    account = resource(AsyncAccount)
    upscale = resource(AsyncUpscale)
    assets = resource(AsyncAssets)
