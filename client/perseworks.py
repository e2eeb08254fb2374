"""Reference client for Perseworks (perseworks.md): Seedance 2.0 video and Doubao chat.

    from client import Perseworks

    client = Perseworks()  # PERSEWORKS_API_KEY, PERSEWORKS_BASE_URL
    task = client.videos.create(model="seedance-2.0", prompt="a fox", resolution="720p", duration_sec=4)
    video = client.videos.wait(task.id)
    print(video.status, video.video_url, video.duration)

    for chunk in client.chat.completions.create(model="seed-2.0-mini", messages=[...], stream=True):
        print(chunk.choices[0].delta.content if chunk.choices else chunk.usage)

`AsyncPerseworks` is the same with `await` / `async for`. Shapes follow
openapi/perseworks.yaml; tests/test_client_models.py keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict

from . import _base
from ._base import (
    APIError,
    APIStatusError,
    AsyncAPIClient,
    AsyncAPIResource,
    AsyncStream,
    AuthenticationError,
    BadRequestError,
    ContentRejectedError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Stream,
    SyncAPIClient,
    SyncAPIResource,
    Timeout,
    UpstreamError,
    resource,
    without_none,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncPerseworks",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatPricing",
    "Choice",
    "ChunkChoice",
    "ChunkDelta",
    "Model",
    "ModelList",
    "Perseworks",
    "PerseworksError",
    "Usage",
    "VideoError",
    "VideoGeneration",
    "VideoPricing",
    "VideoTask",
]

DEFAULT_BASE_URL = "https://api.perseworks.hk/v1"
API_KEY_ENV = "PERSEWORKS_API_KEY"
BASE_URL_ENV = "PERSEWORKS_BASE_URL"

# Every client in this package raises the same neutral hierarchy (client._base); this is
# its root under the name Perseworks users look for.
PerseworksError = APIError

# perseworks.md, "Error codes": each documented code names its error class outright.
ERROR_CODES: Mapping[str, type[APIStatusError]] = {
    "invalid_api_key": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "model_not_allowed": PermissionDeniedError,
    "ip_not_allowed": PermissionDeniedError,
    "unsupported_resolution": BadRequestError,
    "content_rejected": ContentRejectedError,
    "rate_limited": RateLimitError,
    "upstream_error": UpstreamError,
    "not_found": NotFoundError,
}

VideoModelId = Literal["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini"]
ChatModelId = Literal["doubao-seed-2-0-pro", "seed-2.1-pro", "seed-2.0-mini"]
Resolution = Literal["720p", "1080p", "4k"]
AspectRatio = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"]
VideoStatus = Literal["queued", "running", "succeeded", "failed"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed"})


# --------------------------------------------------------------------------------------
# Models (openapi/perseworks.yaml, components/schemas)
# --------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class VideoPricing(_Model):
    unit: str
    currency: str
    credits_per_second: dict[str, float]
    usd_per_second: dict[str, float]


class ChatPricing(_Model):
    unit: str
    currency: str
    input_usd_per_million: float
    output_usd_per_million: float


class Model(_Model):
    id: str
    object: str
    created: int
    owned_by: str
    type: str
    description: str | None = None
    resolutions: list[str] | None = None  # video models only
    context_window: int | None = None  # chat models only
    pricing: VideoPricing | ChatPricing


class ModelList(_Model):
    object: str
    data: list[Model]

    def get(self, model_id: str) -> Model | None:
        return next((m for m in self.data if m.id == model_id), None)


class VideoTask(_Model):
    """The 202 answer to a submit: `{"id": "vid_...", "status": "queued", "model": ...}`."""

    id: str
    status: str
    model: str


class VideoError(_Model):
    code: str
    message: str


class VideoGeneration(_Model):
    """A polled task: queued/running, succeeded (`video_url`, `duration`) or failed (`error`)."""

    id: str | None = None
    status: str
    video_url: str | None = None
    duration: int | None = None  # actual output seconds
    error: VideoError | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Usage(_Model):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionMessage(_Model):
    role: str
    content: str


class Choice(_Model):
    index: int
    message: ChatCompletionMessage
    finish_reason: str


class ChatCompletion(_Model):
    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ChunkDelta(_Model):
    role: str | None = None
    content: str | None = None


class ChunkChoice(_Model):
    index: int
    delta: ChunkDelta
    finish_reason: str | None


class ChatCompletionChunk(_Model):
    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None  # the last chunk's, with stream_options.include_usage


def _video_body(model: str, prompt: str, resolution: str, duration_sec: int, aspect_ratio: str | None,
                image: str | None, extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    body = without_none(model=model, prompt=prompt, resolution=resolution, durationSec=duration_sec,
                         aspectRatio=aspect_ratio, image=image)
    return {**body, **(extra_body or {})}


def _chat_body(model: str, messages: Iterable[Mapping[str, Any]], stream: bool,
               extra_body: Mapping[str, Any] | None, **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if stream:
        body["stream"] = True
    body.update(without_none(**options))
    return {**body, **(extra_body or {})}


class _PerseworksClient:
    """What `Perseworks` and `AsyncPerseworks` share: where the key and URL come from, the error codes."""

    api_key_env = API_KEY_ENV
    base_url_env = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    error_codes = ERROR_CODES
    user_agent = "seedance-emulator-client/0.1 perseworks"


# --------------------------------------------------------------------------------------
# Sync
# --------------------------------------------------------------------------------------


class Models(SyncAPIResource):
    def list(self, *, extra_headers: Mapping[str, str] | None = None) -> ModelList:
        """GET /models: the catalog, with pricing."""
        return self._client.get("/models", cast_to=ModelList, headers=extra_headers)


class Videos(SyncAPIResource):
    def create(self, *, model: VideoModelId | str, prompt: str, resolution: Resolution | str, duration_sec: int,
               aspect_ratio: AspectRatio | str | None = None, image: str | None = None,
               extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
               timeout: Timeout | None = None) -> VideoTask:
        """POST /video/generations: submit; credits for `duration_sec` are held until the task ends."""
        body = _video_body(model, prompt, resolution, duration_sec, aspect_ratio, image, extra_body)
        return self._client.post("/video/generations", cast_to=VideoTask, body=body, headers=extra_headers,
                                 timeout=timeout)

    def retrieve(self, id: str, *, extra_headers: Mapping[str, str] | None = None) -> VideoGeneration:
        """GET /video/generations/{id} (owner-scoped: another account's task is a 404)."""
        return self._client.get(f"/video/generations/{id}", cast_to=VideoGeneration, headers=extra_headers)

    def wait(self, id: str, *, timeout: float = 600.0, poll_interval: float = 2.0, max_interval: float = 30.0,
             on_poll: Callable[[VideoGeneration], object] | None = None) -> VideoGeneration:
        """Poll until `succeeded` or `failed`, backing off from `poll_interval` to `max_interval`;
        raise `WaitTimeout` after `timeout` seconds. `on_poll` sees every polled state."""
        return _base.poll(id, lambda: self.retrieve(id), lambda g: g.done, timeout=timeout,
                          poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class Completions(SyncAPIResource):
    @overload
    def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]],
               stream: Literal[False] = False, stream_options: Mapping[str, Any] | None = None,
               max_tokens: int | None = None, max_completion_tokens: int | None = None, n: int | None = None,
               temperature: float | None = None, top_p: float | None = None, seed: int | None = None,
               stop: str | list[str] | None = None, user: str | None = None,
               extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
               timeout: Timeout | None = None) -> ChatCompletion: ...

    @overload
    def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]],
               stream: Literal[True], stream_options: Mapping[str, Any] | None = None,
               max_tokens: int | None = None, max_completion_tokens: int | None = None, n: int | None = None,
               temperature: float | None = None, top_p: float | None = None, seed: int | None = None,
               stop: str | list[str] | None = None, user: str | None = None,
               extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
               timeout: Timeout | None = None) -> Stream[ChatCompletionChunk]: ...

    def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]], stream: bool = False,
               stream_options: Mapping[str, Any] | None = None, max_tokens: int | None = None,
               max_completion_tokens: int | None = None, n: int | None = None, temperature: float | None = None,
               top_p: float | None = None, seed: int | None = None, stop: str | list[str] | None = None,
               user: str | None = None, extra_headers: Mapping[str, str] | None = None,
               extra_body: Mapping[str, Any] | None = None,
               timeout: Timeout | None = None) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """POST /chat/completions (OpenAI-compatible); with `stream=True`, an iterator of chunks
        that raises the typed error if the stream carries an `{"error": ...}` event."""
        body = _chat_body(model, messages, stream, extra_body, stream_options=stream_options,
                          max_tokens=max_tokens, max_completion_tokens=max_completion_tokens, n=n,
                          temperature=temperature, top_p=top_p, seed=seed, stop=stop, user=user)
        if stream:
            return self._client.stream("POST", "/chat/completions", cast_to=ChatCompletionChunk, body=body,
                                       headers=extra_headers, timeout=timeout)
        return self._client.post("/chat/completions", cast_to=ChatCompletion, body=body, headers=extra_headers,
                                 timeout=timeout)


class Chat(SyncAPIResource):
    completions = resource(Completions)


class Perseworks(_PerseworksClient, SyncAPIClient):
    """Synchronous Perseworks client. `api_key` defaults to $PERSEWORKS_API_KEY, `base_url` to
    $PERSEWORKS_BASE_URL, then the documented https://api.perseworks.hk/v1."""

    models = resource(Models)
    videos = resource(Videos)
    chat = resource(Chat)


# --------------------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------------------


class AsyncModels(AsyncAPIResource):
    async def list(self, *, extra_headers: Mapping[str, str] | None = None) -> ModelList:
        return await self._client.get("/models", cast_to=ModelList, headers=extra_headers)


class AsyncVideos(AsyncAPIResource):
    async def create(self, *, model: VideoModelId | str, prompt: str, resolution: Resolution | str,
                     duration_sec: int, aspect_ratio: AspectRatio | str | None = None, image: str | None = None,
                     extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
                     timeout: Timeout | None = None) -> VideoTask:
        body = _video_body(model, prompt, resolution, duration_sec, aspect_ratio, image, extra_body)
        return await self._client.post("/video/generations", cast_to=VideoTask, body=body, headers=extra_headers,
                                       timeout=timeout)

    async def retrieve(self, id: str, *, extra_headers: Mapping[str, str] | None = None) -> VideoGeneration:
        return await self._client.get(f"/video/generations/{id}", cast_to=VideoGeneration, headers=extra_headers)

    async def wait(self, id: str, *, timeout: float = 600.0, poll_interval: float = 2.0, max_interval: float = 30.0,
                   on_poll: Callable[[VideoGeneration], object | Awaitable[object]] | None = None
                   ) -> VideoGeneration:
        """As `Videos.wait`; `on_poll` may be a coroutine function."""
        return await _base.apoll(id, lambda: self.retrieve(id), lambda g: g.done, timeout=timeout,
                                 poll_interval=poll_interval, max_interval=max_interval, on_poll=on_poll)


class AsyncCompletions(AsyncAPIResource):
    @overload
    async def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]],
                     stream: Literal[False] = False, stream_options: Mapping[str, Any] | None = None,
                     max_tokens: int | None = None, max_completion_tokens: int | None = None, n: int | None = None,
                     temperature: float | None = None, top_p: float | None = None, seed: int | None = None,
                     stop: str | list[str] | None = None, user: str | None = None,
                     extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
                     timeout: Timeout | None = None) -> ChatCompletion: ...

    @overload
    async def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]],
                     stream: Literal[True], stream_options: Mapping[str, Any] | None = None,
                     max_tokens: int | None = None, max_completion_tokens: int | None = None, n: int | None = None,
                     temperature: float | None = None, top_p: float | None = None, seed: int | None = None,
                     stop: str | list[str] | None = None, user: str | None = None,
                     extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
                     timeout: Timeout | None = None) -> AsyncStream[ChatCompletionChunk]: ...

    async def create(self, *, model: ChatModelId | str, messages: Iterable[Mapping[str, Any]], stream: bool = False,
                     stream_options: Mapping[str, Any] | None = None, max_tokens: int | None = None,
                     max_completion_tokens: int | None = None, n: int | None = None,
                     temperature: float | None = None, top_p: float | None = None, seed: int | None = None,
                     stop: str | list[str] | None = None, user: str | None = None,
                     extra_headers: Mapping[str, str] | None = None, extra_body: Mapping[str, Any] | None = None,
                     timeout: Timeout | None = None) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        body = _chat_body(model, messages, stream, extra_body, stream_options=stream_options,
                          max_tokens=max_tokens, max_completion_tokens=max_completion_tokens, n=n,
                          temperature=temperature, top_p=top_p, seed=seed, stop=stop, user=user)
        if stream:
            return await self._client.stream("POST", "/chat/completions", cast_to=ChatCompletionChunk, body=body,
                                             headers=extra_headers, timeout=timeout)
        return await self._client.post("/chat/completions", cast_to=ChatCompletion, body=body,
                                       headers=extra_headers, timeout=timeout)


class AsyncChat(AsyncAPIResource):
    completions = resource(AsyncCompletions)


class AsyncPerseworks(_PerseworksClient, AsyncAPIClient):
    """Asynchronous Perseworks client; the same surface as `Perseworks`, awaited."""

    models = resource(AsyncModels)
    videos = resource(AsyncVideos)
    chat = resource(AsyncChat)
